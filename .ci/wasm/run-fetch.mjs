// Runs examples/wasm_fetch, as wasm-bindgen's `--target nodejs` output, in
// Node against a real fake-attio on 127.0.0.1: the core's Client with the
// example's fetch transport, JavaScript clock and setTimeout sleep.
//
//   node run-fetch.mjs PKG_DIR FAKE_ATTIO_BINARY
//
// Starts the fake (a free port, a fresh token), creates two webhooks
// through the fake's own API, makes the first list answer 503 once (a
// fault), and checks that `list_webhooks` retried through `setTimeout` and
// returned both ids in creation order. Exits 0 only when all of it held;
// stops the fake in every case.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import readline from "node:readline";

const [pkgDir, fakeBinary] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const wasm = require(path.resolve(pkgDir, "attio_webhooks_wasm_fetch.js"));

const token = `wasm-${randomBytes(12).toString("hex")}`;
const control = `control-${randomBytes(12).toString("hex")}`;
const fake = spawn(fakeBinary, ["--host", "127.0.0.1", "--port", "0"], {
  env: { ...process.env, FAKE_ATTIO_TOKENS: token, FAKE_ATTIO_CONTROL_TOKEN: control },
  stdio: ["ignore", "pipe", "inherit"],
});
const stop = () => fake.exitCode === null && fake.kill("SIGTERM");
const timer = setTimeout(() => {
  console.error("fetch example: no result within 30 s");
  stop();
  process.exit(1);
}, 30_000);

const fail = (message) => {
  console.error(`fetch example: ${message}`);
  stop();
  process.exit(1);
};

const baseUrl = await new Promise((resolve, reject) => {
  const lines = readline.createInterface({ input: fake.stdout });
  lines.once("line", resolve);
  fake.once("exit", (code) => reject(new Error(`fake-attio exited ${code} before printing its URL`)));
}).catch((error) => fail(error.message));

async function call(method, route, secret, body) {
  const answer = await fetch(`${baseUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  if (!answer.ok) fail(`${method} ${route}: ${answer.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const ids = [];
for (const target of ["https://example.com/one", "https://example.com/two"]) {
  const created = await call("POST", "/v2/webhooks", token, {
    data: { target_url: target, subscriptions: [{ event_type: "record.created", filter: null }] },
  });
  ids.push(created.data.id.webhook_id);
}
await call("POST", "/__fake/faults", control, {
  data: { fault: { type: "status", status: 503 }, method: "GET", path: "/v2/webhooks", times: 1 },
});
await call("DELETE", "/__fake/requests", control);

let listed;
try {
  listed = await wasm.list_webhooks(token, baseUrl);
} catch (error) {
  fail(`list_webhooks threw: ${error}`);
}
const expected = `[${ids.map((id) => JSON.stringify(id)).join(", ")}]`;
if (listed !== expected) fail(`listed ${listed}, expected ${expected}`);
const requests = (await call("GET", "/__fake/requests", control)).data;
const lists = requests.filter((r) => r.method === "GET" && r.path.startsWith("/v2/webhooks"));
if (lists.length !== 2) fail(`${lists.length} list requests reached the fake, expected 2 (503, then the retry)`);
const bearer = (r) => r.headers.some(([name, value]) => name === "authorization" && value === "Bearer <redacted>");
if (!lists.every(bearer)) {
  fail(`the requests did not carry the bearer token: ${JSON.stringify(lists)}`);
}

clearTimeout(timer);
stop();
const code = await new Promise((resolve) => fake.once("exit", (c) => resolve(c)));
if (code !== 0) fail(`fake-attio exited ${code} on SIGTERM`);
console.log(`fetch example: listed ${ids.length} webhooks through fetch, after one 503 and a retry: ok`);
