// Runs a WASI command module (a test binary) under Node's built-in
// `node:wasi`: `node run-wasi.mjs file.wasm [args...]`; exits with its code.
// (Debian's `wasi-node` runner does not work with Node 20.)
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
import process from "node:process";

const [file, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: "preview1", args: [file, ...args], env: {}, returnOnExit: true });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: wasi.wasiImport });
process.exitCode = wasi.start(instance);
