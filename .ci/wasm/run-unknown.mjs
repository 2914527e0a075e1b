// Runs a libtest binary built for wasm32-unknown-unknown under Node:
// `node run-unknown.mjs file.wasm`; exits 0 when every test passed. Such a
// module imports nothing and exports `main`, which runs every test (there
// are no arguments to filter with). Standard output is a sink on that target
// and a panic aborts (a trap, ending the run at the first failure), so the
// failing test is named from the trap's stack, whose frames carry the
// functions' mangled names (debug builds keep them).
import { readFile } from "node:fs/promises";
import process from "node:process";

const [file] = process.argv.slice(2);
const module = await WebAssembly.compile(await readFile(file));
const imports = WebAssembly.Module.imports(module);
if (imports.length) {
    console.error(`${file} imports ${JSON.stringify(imports)}; a libtest binary imports nothing`);
    process.exit(2);
}
const { exports } = await WebAssembly.instantiate(module, {});
Error.stackTraceLimit = 200;

// `_RNvNtNtCs…_14attio_webhooks6client4send5tests7a_test` (Rust's v0
// mangling) to `attio_webhooks::client::send::tests::a_test`: the
// length-prefixed identifiers from the crate's name on.
function demangle(symbol) {
    const start = symbol.search(/\d+attio_webhooks/);
    if (start < 0) return symbol;
    let rest = symbol.slice(start);
    const path = [];
    for (;;) {
        const length = /^(?:s[0-9A-Za-z]*_)?(\d+)_?/.exec(rest);
        if (!length) break;
        rest = rest.slice(length[0].length);
        path.push(rest.slice(0, Number(length[1])));
        rest = rest.slice(Number(length[1]));
    }
    return path.join("::");
}

try {
    const code = exports.main(0, 0);
    if (code !== 0) {
        console.error(`${file}: main returned ${code}`);
        process.exit(1);
    }
} catch (trap) {
    const frames = String(trap.stack).split("\n");
    const test = frames.find((frame) => /5tests|::tests::/.test(frame));
    const name = test && demangle(/\.wasm\.(\S+)/.exec(test)?.[1] ?? test);
    console.error(`${file}: a test failed (${trap.message}): ${name ?? "no test frame on the stack"}`);
    console.error(frames.join("\n"));
    process.exit(1);
}
console.log(`${file}: every unit test passed`);
