// Loads the smoke module as a browser would load a wasm32-unknown-unknown
// module: WebAssembly.instantiate with an empty import object (it must need
// none), then calls its `smoke` export and prints what it reports.
// `node run-smoke.mjs smoke.wasm`; exits 0 only when every step passed.
import { readFile } from "node:fs/promises";
import process from "node:process";

const module = await WebAssembly.compile(await readFile(process.argv[2]));
const imports = WebAssembly.Module.imports(module);
if (imports.length > 0) {
  console.error(`the module imports ${imports.map((i) => `${i.module}.${i.name}`).join(", ")}`);
  process.exit(1);
}
const { exports } = await WebAssembly.instantiate(module, {});
const message = () =>
  new TextDecoder().decode(
    new Uint8Array(exports.memory.buffer, exports.message_ptr(), exports.message_len()),
  );
let failed;
try {
  failed = exports.smoke();
} catch (trap) {
  console.error(`trapped (${trap.message}): ${message()}`);
  process.exit(1);
}
process.stdout.write(message());
const steps = message().split("\n").filter((line) => line.startsWith("ok ")).length;
console.log(`${steps} passed, ${failed === 0 ? 0 : 1} failed`);
process.exit(failed === 0 ? 0 : 1);
