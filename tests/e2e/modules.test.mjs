// Module loading as a Worker author sees it: relative imports across files and directories,
// wrangler's module rules (Text, Data, CompiledWasm, JSON, custom [[rules]]), module state, and
// the errors for imports that cannot work — all through the real binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, worker, project, run, SLOW } from "./lib/harness.mjs";

// A WebAssembly module exporting add(i32, i32) -> i32, written out byte by byte.
const ADD_WASM = Buffer.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // type section: (i32, i32) -> i32
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x07, 0x07, 0x01, 0x03, 0x61, 0x64, 0x64, 0x00, 0x00, // export section: "add" = function 0
  0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, // code: local.get 0, local.get 1, i32.add
]);

const BIN = Buffer.from([0, 1, 2, 127, 128, 254, 255]);
const TEXT = "héllo ✓\nsecond line\n";

const INDEX = `
import { add, counter, bump } from "./lib/math.js";
import { counter as counterAgain, bump as bumpAgain } from "./lib/../lib/math.js";
import helper from "./lib/helper";
import fromDirIndex from "./lib/pkg";
import mjs from "./lib/mod.mjs";
import root from "../common/root.js";
import text from "./assets/hello.txt";
import html from "./assets/page.html";
import bin from "./assets/data.bin";
import config from "./assets/config.json";
import addModule from "./assets/add.wasm";
import readme from "./assets/readme.md";
import custom from "./assets/values.dat";
import { ping } from "./cycle/a.js";

let requests = 0;

export default {
  async fetch(request) {
    requests++;
    const { pathname } = new URL(request.url);
    switch (pathname) {
      case "/js":
        return Response.json({
          add: add(2, 3),
          helper: helper(),
          fromDirIndex,
          mjs,
          root,
          sameInstance: counterAgain === counter && bumpAgain === bump,
          cycle: ping(3),
        });
      case "/text":
        return Response.json({ text, html, type: typeof text, htmlType: typeof html });
      case "/bin":
        return Response.json({
          isArrayBuffer: bin instanceof ArrayBuffer,
          bytes: [...new Uint8Array(bin)],
        });
      case "/json":
        return Response.json({ config, type: typeof config, isArray: Array.isArray(config.list) });
      case "/wasm": {
        const sync = new WebAssembly.Instance(addModule, {});
        return Response.json({
          isModule: addModule instanceof WebAssembly.Module,
          exports: WebAssembly.Module.exports(addModule),
          isInstance: sync instanceof WebAssembly.Instance,
          sum: sync.exports.add(40, 2),
          overflow: sync.exports.add(2147483647, 1),
        });
      }
      case "/wasm-async": {
        // The usual way in Workers: await WebAssembly.instantiate(module, imports).
        const instance = await WebAssembly.instantiate(addModule, {});
        return Response.json({ isInstance: instance instanceof WebAssembly.Instance, sum: instance.exports.add(40, 2) });
      }
      case "/rules":
        return Response.json({ readme, readmeType: typeof readme, custom: [...new Uint8Array(custom)], customIsBuffer: custom instanceof ArrayBuffer });
      case "/state":
        bump();
        return Response.json({ counter: counter(), requests });
      case "/dynamic": {
        try {
          const lazy = await import("./lib/lazy.js");
          const again = await import("./lib/math.js");
          return Response.json({ ok: true, value: lazy.value, sameMath: again.counter === counter });
        } catch (e) {
          return Response.json({ ok: false, error: String(e) });
        }
      }
    }
    return new Response("no route", { status: 404 });
  },
};
`;

const FILES = {
  "src/lib/math.js": `
import { double } from "./nested/deep.js";
let n = 0;
export const add = (a, b) => double(a + b) / 2;
export const counter = () => n;
export const bump = () => ++n;
`,
  "src/lib/nested/deep.js": `import { FACTOR } from "../../../common/root.js";\nexport const double = (x) => x * FACTOR;\n`,
  "src/lib/helper.js": `export default function helper() { return "helper without extension"; }\n`,
  "src/lib/pkg/index.js": `export default "directory index";\n`,
  "src/lib/mod.mjs": `export default "an .mjs module";\n`,
  "src/lib/lazy.js": `export const value = "lazily imported";\n`,
  "common/root.js": `export const FACTOR = 2;\nexport default "outside src, inside the project";\n`,
  "src/cycle/a.js": `import { pong } from "./b.js";\nexport function ping(n) { return n <= 0 ? "done" : pong(n - 1); }\n`,
  "src/cycle/b.js": `import { ping } from "./a.js";\nexport function pong(n) { return ping(n); }\n`,
  "src/assets/hello.txt": TEXT,
  "src/assets/page.html": "<!doctype html><p>page</p>\n",
  "src/assets/data.bin": BIN,
  "src/assets/config.json": JSON.stringify({ name: "cfg", list: [1, 2, 3], nested: { ok: true } }),
  "src/assets/add.wasm": ADD_WASM,
  "src/assets/readme.md": "# Title\n\nmarkdown as text\n",
  "src/assets/values.dat": Buffer.from([9, 8, 7]),
};

const TOML = `
[[rules]]
type = "Text"
globs = ["**/*.md"]
fallthrough = true   # keep wrangler's default Text rule (*.txt, *.html) too

[[rules]]
type = "Data"
globs = ["**/*.dat"]
fallthrough = true
`;

let server;
before(async () => {
  server = await startDev(worker(INDEX, { toml: TOML, files: FILES }), ["--threads", "1"]);
});
after(async () => {
  await server.stop();
});

async function json(path) {
  const res = await server.fetch(path);
  const text = await res.text();
  assert.equal(res.status, 200, `${path} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

test("the hand-written wasm module is valid (sanity check in Node)", async () => {
  const { instance } = await WebAssembly.instantiate(ADD_WASM);
  assert.equal(instance.exports.add(1, 2), 3);
});

test("relative imports across files and directories, with and without extensions", async () => {
  assert.deepEqual(await json("/js"), {
    add: 5,
    helper: "helper without extension",
    fromDirIndex: "directory index",
    mjs: "an .mjs module",
    root: "outside src, inside the project",
    sameInstance: true,
    cycle: "done",
  });
});

test(".txt and .html modules are strings", async () => {
  assert.deepEqual(await json("/text"), {
    text: TEXT,
    html: "<!doctype html><p>page</p>\n",
    type: "string",
    htmlType: "string",
  });
});

test(".bin modules are ArrayBuffers", async () => {
  assert.deepEqual(await json("/bin"), { isArrayBuffer: true, bytes: [...BIN] });
});

test(".json modules are parsed objects", async () => {
  assert.deepEqual(await json("/json"), {
    config: { name: "cfg", list: [1, 2, 3], nested: { ok: true } },
    type: "object",
    isArray: true,
  });
});

test(".wasm modules are WebAssembly.Module objects that can be instantiated", async () => {
  assert.deepEqual(await json("/wasm"), {
    isModule: true,
    exports: [{ name: "add", kind: "function" }],
    isInstance: true,
    sum: 42,
    overflow: -2147483648,
  });
});

test("WebAssembly.instantiate(module) resolves to an Instance", async () => {
  assert.deepEqual(await json("/wasm-async"), { isInstance: true, sum: 42 });
});

// wrangler's default CompiledWasm rule also matches "*.wasm?module" (the form some bundlers and
// templates emit); the suffix is not part of the file name.
test("a .wasm?module import is the .wasm file as a WebAssembly.Module", async () => {
  const dir = worker(
    `import mod from "./add.wasm?module";\nexport default { fetch() { return new Response(String(mod instanceof WebAssembly.Module && new WebAssembly.Instance(mod).exports.add(20, 22))); } };\n`,
    { files: { "src/add.wasm": ADD_WASM } },
  );
  const s = await startDev(dir, ["--threads", "1"]); // rejects with hearth's output if the load fails
  try {
    assert.equal(await (await s.fetch("/")).text(), "42");
  } finally {
    await s.stop();
  }
});

test("[[rules]] add module types for other extensions", async () => {
  assert.deepEqual(await json("/rules"), {
    readme: "# Title\n\nmarkdown as text\n",
    readmeType: "string",
    custom: [9, 8, 7],
    customIsBuffer: true,
  });
});

test("module state persists across requests", async () => {
  const a = await json("/state");
  const b = await json("/state");
  const c = await json("/state");
  assert.deepEqual([b.counter - a.counter, c.counter - b.counter], [1, 1]);
  assert.deepEqual([b.requests - a.requests, c.requests - b.requests], [1, 1]);
});

// workerd resolves import() of a module that is part of the Worker's bundle. hearth currently
// rejects every import() with "Error: Dynamic module import is disabled or not supported in this
// context" (SpiderMonkey's message when the embedder installs no dynamic-import hook).
test("dynamic import() of a module in the project", async () => {
  const r = await json("/dynamic");
  assert.deepEqual(r, { ok: true, value: "lazily imported", sameMath: true }, `import() failed: ${r.error}`);
});

// ---- load errors: `hearth dev` refuses to start ----------------------------------------

async function loadError(files, { toml = "" } = {}) {
  const dir = project({
    "wrangler.toml": `name = "test"\nmain = "src/index.js"\ncompatibility_date = "2024-09-23"\n${toml}`,
    ...files,
  });
  const r = await run(["dev", dir, "--port", "0"], { timeout: 5000 * SLOW });
  assert.notEqual(r.code, 0, `hearth dev should exit with an error; output:\n${r.stderr}`);
  assert.ok(!/Ready on/.test(r.stderr), "it never started serving");
  return r.stderr;
}

const HANDLER = `export default { fetch() { return new Response("ok"); } };\n`;

test("importing a missing file: 'Could not resolve' with the file and line", async () => {
  const err = await loadError({ "src/index.js": `// comment\n\nimport x from "./missing.js";\n${HANDLER}` });
  assert.match(err, /Could not resolve "\.\/missing\.js"/);
  assert.match(err, /src\/index\.js:3:\d+/);
  assert.match(err, /missing\.js/);
});

test("a missing file imported by a nested module names that module", async () => {
  const err = await loadError({
    "src/index.js": `import "./lib/a.js";\n${HANDLER}`,
    "src/lib/a.js": `export const a = 1;\nimport { b } from "./nope";\n`,
  });
  assert.match(err, /Could not resolve "\.\/nope"/);
  assert.match(err, /src\/lib\/a\.js:2:\d+/);
});

test("a bare specifier ('hono') is a clear error", async () => {
  const err = await loadError({ "src/index.js": `import { Hono } from "hono";\n${HANDLER}` });
  assert.match(err, /Could not resolve "hono"/);
  assert.match(err, /bundle/i, "tells the user to bundle");
  assert.match(err, /src\/index\.js:1:\d+/);
});

test("'../' leading out of the project is an error", async () => {
  const err = await loadError({ "src/index.js": `import x from "../../outside.js";\n${HANDLER}` });
  assert.match(err, /Could not resolve "\.\.\/\.\.\/outside\.js"/);
  assert.match(err, /outside the project/);
});

test("importing a name a module does not export fails the load", async () => {
  const err = await loadError({
    "src/index.js": `import { nope } from "./lib.js";\n${HANDLER}`,
    "src/lib.js": `export const yes = 1;\n`,
  });
  assert.match(err, /SyntaxError/);
  assert.match(err, /nope/);
});

test("a syntax error in an imported module names its file and line", async () => {
  const err = await loadError({
    "src/index.js": `import "./broken.js";\n${HANDLER}`,
    "src/broken.js": `export const ok = 1;\nexport const = ;\n`,
  });
  assert.match(err, /SyntaxError/);
  assert.match(err, /src\/broken\.js:2/);
});

test("a file type with no module rule is an error that suggests [[rules]]", async () => {
  const err = await loadError({
    "src/index.js": `import y from "./data.yaml";\n${HANDLER}`,
    "src/data.yaml": "a: 1\n",
  });
  assert.match(err, /Could not resolve "\.\/data\.yaml"/);
  assert.match(err, /rules/);
});

test("an exception while evaluating a module fails the load with its stack", async () => {
  const err = await loadError({
    "src/index.js": `import "./throws.js";\n${HANDLER}`,
    "src/throws.js": `\nthrow new Error("evaluation-failed-marker");\n`,
  });
  assert.match(err, /Error: evaluation-failed-marker/);
  assert.match(err, /src\/throws\.js:2/);
});
