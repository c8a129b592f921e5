// `env` ([vars] and .dev.vars) and `export default class extends WorkerEntrypoint`, through real
// HTTP against the real binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { startDev, worker, run } from "./lib/harness.mjs";

const SOURCE = `
import { WorkerEntrypoint } from "cloudflare:workers";

let instances = 0;
let lastInstance = null;

export default class extends WorkerEntrypoint {
  constructor(ctx, env) {
    super(ctx, env);
    instances++;
  }
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/env") {
      return Response.json({
        env: this.env,
        types: Object.fromEntries(Object.entries(this.env).map(([k, v]) => [k, Array.isArray(v) ? "array" : typeof v])),
        keys: Object.keys(this.env).sort(),
      });
    }
    if (pathname === "/entrypoint") {
      const fresh = lastInstance !== this;
      lastInstance = this;
      return Response.json({
        isEntrypoint: this instanceof WorkerEntrypoint,
        entrypointType: typeof WorkerEntrypoint,
        ctxWaitUntil: typeof this.ctx.waitUntil,
        ctxPassThrough: typeof this.ctx.passThroughOnException,
        envIsObject: typeof this.env === "object" && this.env !== null,
        hasGreeting: this.env.GREETING,
        requestUrl: request.url,
        fresh,
        instances,
      });
    }
    if (pathname === "/waituntil") {
      let resolveLater;
      this.ctx.waitUntil(new Promise((r) => (resolveLater = r)).then(() => console.log("entrypoint-waituntil-done")));
      setTimeout(() => resolveLater(), 20);
      return new Response("ok");
    }
    if (pathname === "/args") {
      // fetch(request, env, ctx) is not how a WorkerEntrypoint gets env and ctx.
      return Response.json({ argCount: arguments.length });
    }
    return new Response("no route", { status: 404 });
  }
}
`;

const TOML = `
[vars]
GREETING = "hello from vars"
OVERRIDDEN = "from wrangler.toml"
NUMBER = 42
FLOAT = 1.5
FLAG = true
OFF = false
LIST = [1, "two", { three = 3 }]
EMPTY_STRING = ""
UNICODE = "ünïcödé ✓"

[vars.TABLE]
name = "nested"
inner = { deep = [true, false] }
`;

const DEV_VARS = `# local secrets
OVERRIDDEN=from .dev.vars
SECRET_TOKEN="s3cr3t value"
SINGLE='single quoted'
`;

let server;
before(async () => {
  server = await startDev(worker(SOURCE, { toml: TOML, files: { ".dev.vars": DEV_VARS } }), ["--threads", "1"]);
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

test("env: [vars] strings become strings", async () => {
  const { env, types } = await json("/env");
  assert.equal(env.GREETING, "hello from vars");
  assert.equal(env.EMPTY_STRING, "");
  assert.equal(env.UNICODE, "ünïcödé ✓");
  assert.equal(types.GREETING, "string");
});

test("env: [vars] JSON values (numbers, booleans, arrays, tables) keep their types", async () => {
  const { env, types } = await json("/env");
  assert.equal(env.NUMBER, 42);
  assert.equal(types.NUMBER, "number");
  assert.equal(env.FLOAT, 1.5);
  assert.equal(env.FLAG, true);
  assert.equal(env.OFF, false);
  assert.equal(types.FLAG, "boolean");
  assert.deepEqual(env.LIST, [1, "two", { three: 3 }]);
  assert.equal(types.LIST, "array");
  assert.deepEqual(env.TABLE, { name: "nested", inner: { deep: [true, false] } });
  assert.equal(types.TABLE, "object");
});

test("env: .dev.vars adds secrets and overrides [vars]", async () => {
  const { env, keys, types } = await json("/env");
  assert.equal(env.OVERRIDDEN, "from .dev.vars");
  assert.equal(env.SECRET_TOKEN, "s3cr3t value");
  assert.equal(env.SINGLE, "single quoted");
  assert.equal(types.SECRET_TOKEN, "string");
  assert.deepEqual(keys, [
    "EMPTY_STRING", "FLAG", "FLOAT", "GREETING", "LIST", "NUMBER", "OFF", "OVERRIDDEN", "SECRET_TOKEN", "SINGLE", "TABLE", "UNICODE",
  ]);
});

test("WorkerEntrypoint: default-exported class gets this.env and this.ctx", async () => {
  const r = await json("/entrypoint");
  assert.equal(r.isEntrypoint, true);
  assert.equal(r.entrypointType, "function");
  assert.equal(r.ctxWaitUntil, "function");
  assert.equal(r.ctxPassThrough, "function");
  assert.equal(r.envIsObject, true);
  assert.equal(r.hasGreeting, "hello from vars");
  assert.equal(r.requestUrl, `${server.url}/entrypoint`);
});

test("WorkerEntrypoint: a new instance per request", async () => {
  const a = await json("/entrypoint");
  const b = await json("/entrypoint");
  assert.equal(b.fresh, true);
  assert.equal(b.instances, a.instances + 1);
});

test("WorkerEntrypoint: this.ctx.waitUntil keeps work going after the response", async () => {
  const res = await server.fetch("/waituntil");
  assert.equal(await res.text(), "ok");
  await server.waitFor(/entrypoint-waituntil-done/);
});

test("WorkerEntrypoint: fetch() is called with the request only (env and ctx are on this)", async () => {
  assert.deepEqual(await json("/args"), { argCount: 1 });
});

test("hearth dev --env: the environment's vars and .dev.vars.<env>, and its name; a new .dev.vars.<env> reloads", async () => {
  const dir = worker(
    `export default { fetch: (req, env) => Response.json({ stage: env.STAGE ?? null, secret: env.SECRET ?? null }) };\n`,
    {
      toml: `[vars]\nSTAGE = "top"\n[env.staging.vars]\nSTAGE = "staging"\n`,
      files: { ".dev.vars": "SECRET=plain\n" },
    },
  );
  const s = await startDev(dir, ["--env", "staging"]);
  try {
    assert.deepEqual(await (await s.fetch("/")).json(), { stage: "staging", secret: "plain" });
    assert.match(s.stderr, /Serving [a-z0-9-]+-staging \(/);
    writeFileSync(path.join(dir, ".dev.vars.staging"), "SECRET=staging-only\n");
    await s.waitFor(/Reloaded/);
    assert.deepEqual(await (await s.fetch("/")).json(), { stage: "staging", secret: "staging-only" });
  } finally {
    await s.stop();
  }
  const r = await run(["dev", dir, "-e", "qa"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--env qa: there is no \[env\.qa\] section \(the environments are: staging\)/);
});
