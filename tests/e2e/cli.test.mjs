// The command line: help, version, and how `hearth dev` reports a Worker or configuration it
// cannot load (file, line, column, key; non-zero exit; never a crash).
import { test } from "node:test";
import assert from "node:assert/strict";
import { run, worker, project, startDev } from "./lib/harness.mjs";

test("--help and --version", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: hearth <command>/);
  assert.match(help.stdout, /dev \[DIR\.\.\.\]/);
  const version = await run(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^hearth \d+\.\d+\.\d+ \(JavaScript-C102\./);
  const devHelp = await run(["dev", "--help"]);
  assert.equal(devHelp.code, 0);
  assert.match(devHelp.stdout, /Usage: hearth dev \[DIR\.\.\.\] \[options\]/);
  assert.match(devHelp.stdout, /--port N/);
});

test("unknown commands and options are usage errors", async () => {
  const cmd = await run(["frobnicate"]);
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /unknown command "frobnicate"/);
  const opt = await run(["dev", "--bogus"]);
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /unknown option --bogus/);
  const port = await run(["dev", "--port", "99999"]);
  assert.equal(port.code, 2);
  assert.match(port.stderr, /--port needs a port number/);
  const none = await run([]);
  assert.equal(none.code, 2);
});

test("a syntax error is reported with file:line:col and the offending line", async () => {
  const dir = worker("export default {\n  fetch() {\n    return new Response(1 +);\n  },\n};\n");
  const r = await run(["dev", dir, "--port", "0"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /SyntaxError: .*\n    at src\/index\.js:3:28\n        return new Response\(1 \+\);\n +\^/);
});

test("an import of a missing module names the importer, position and path", async () => {
  const dir = worker('import { x } from "./lib/missing.js";\nexport default { fetch: () => new Response(x) };\n');
  const r = await run(["dev", dir, "--port", "0"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Could not resolve "\.\/lib\/missing\.js": no such file src\/lib\/missing\.js/);
  assert.match(r.stderr, /at src\/index\.js:1:19/);
});

test("an import of a name a module does not export fails at load", async () => {
  const dir = worker('import { nope } from "./util.js";\nexport default { fetch: () => new Response(nope) };\n', {
    files: { "src/util.js": "export const yes = 1;\n" },
  });
  const r = await run(["dev", dir, "--port", "0"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /SyntaxError: import not found: nope/);
});

test("an exception thrown by top-level code fails the load with its stack", async () => {
  const dir = worker('function init() { throw new TypeError("bad config"); }\ninit();\nexport default {};\n');
  const r = await run(["dev", dir, "--port", "0"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /TypeError: bad config\n    at init \(src\/index\.js:1:25\)\n    at src\/index\.js:2:1/);
});

test("configuration errors name the file, line, key and expected form", async () => {
  const dir = project({
    "wrangler.toml": 'name = 5\nmain = "src/index.js"\ncompatibility_date = "yesterday"\n[limits]\ncpu_ms = -1\n',
    "src/index.js": "export default { fetch: () => new Response('x') };\n",
  });
  const r = await run(["dev", dir, "--port", "0"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /wrangler\.toml:1: error: "name" must be a string, e\.g\. name = "my-worker" \(found an integer\)/);
  assert.match(r.stderr, /wrangler\.toml:3: error: "compatibility_date" must be a date written YYYY-MM-DD/);
  assert.match(r.stderr, /wrangler\.toml:5: error: "limits\.cpu_ms" must be an integer number of milliseconds/);
});

test("TOML syntax errors give line and column", async () => {
  const dir = project({ "wrangler.toml": 'name = "x"\nmain = "src/index.js\n', "src/index.js": "" });
  const r = await run(["dev", dir, "--port", "0"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /wrangler\.toml:2:\d+: error: .*string/);
});

test("wrangler.jsonc errors give line and column", async () => {
  const dir = project({ "wrangler.jsonc": '{\n  // comment\n  "name": "x",\n  "main": \n}\n', "src/index.js": "" });
  const r = await run(["dev", dir, "--port", "0"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /wrangler\.jsonc:5:\d+: error: /);
});

test("a missing main and a missing config are reported", async () => {
  const noMain = project({ "wrangler.toml": 'name = "x"\ncompatibility_date = "2024-01-01"\n' });
  const r1 = await run(["dev", noMain, "--port", "0"]);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /"main" is required/);
  const empty = project({ "README": "nothing here" });
  const r2 = await run(["dev", empty, "--port", "0"]);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /no wrangler\.toml, wrangler\.json or wrangler\.jsonc/);
});

test("unknown and unsupported keys warn with their line; the Worker still loads", async () => {
  const dir = worker("export default { fetch: () => new Response('x') };\n", {
    toml: 'frobnicate = true\n[[kv_namespaces]]\nbinding = "KV"\nid = "x"\n',
  });
  const s = await startDev(dir);
  try {
    assert.match(s.stderr, /wrangler\.toml:4: warning: unknown key "frobnicate" \(ignored\)/);
    assert.match(s.stderr, /wrangler\.toml:5: warning: "kv_namespaces" is not supported by hearth and is ignored/);
    assert.equal(await (await s.fetch("/")).text(), "x");
  } finally {
    await s.stop();
  }
});

test("listening on a port that is taken is a clear error", async () => {
  const net = await import("node:net");
  const blocker = net.createServer();
  await new Promise((r) => blocker.listen(0, "127.0.0.1", r));
  const port = blocker.address().port;
  try {
    const dir = worker("export default { fetch: () => new Response('x') };\n");
    const r = await run(["dev", dir, "--port", String(port)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: Address already in use`));
  } finally {
    blocker.close();
  }
});
