// Service bindings end to end: two Workers in one `hearth dev`, the first bound to the second
// with [[services]]: fetch() through the binding (method, headers, body, status), JS-native
// RPC (values, thrown errors, unknown methods, named entrypoints), unknown services; then on
// `hearth serve` with both deployed by the CLI, and a bad binding in an upload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev, startServe, project, run, writeFiles, sleep, SLOW } from "./lib/harness.mjs";

const FRONT_TOML = `name = "front"
main = "index.js"
compatibility_date = "2024-09-23"
[[services]]
binding = "BACK"
service = "back"
[[services]]
binding = "ADMIN"
service = "back"
entrypoint = "Admin"
[[services]]
binding = "GHOST"
service = "no-such-worker"
`;

const FRONT = `export default {
  async fetch(req, env) {
    const path = new URL(req.url).pathname;
    const json = (v) => Response.json(v);
    const caught = async (f) => {
      try {
        return { ok: true, value: await f() };
      } catch (e) {
        return { ok: false, name: e.name, message: e.message, isTypeError: e instanceof TypeError, isError: e instanceof Error };
      }
    };
    switch (path) {
      case "/fetch": {
        const r = await env.BACK.fetch("http://back.internal/echo?q=1", {
          method: "POST", headers: { "x-from": "front", "content-type": "text/plain" }, body: "hello body",
        });
        return new Response(await r.text(), { status: r.status, headers: { "x-back": r.headers.get("x-back") ?? "" } });
      }
      case "/fetch-request": {
        // A Request object as the argument, and the callee's 500 when its fetch() throws.
        const r = await env.BACK.fetch(new Request("http://back.internal/boom", { method: "PUT", body: "x" }));
        return json({ status: r.status, type: r.headers.get("content-type") });
      }
      case "/rpc": {
        const when = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));
        const map = new Map([["a", 1], ["b", { deep: [1, 2, 3] }]]);
        const sum = await env.BACK.add(2, 3);
        const echoed = await env.BACK.echo({ s: "x", n: 1.5, t: true, nil: null, arr: [1, "two", [3]], when, map });
        const described = await env.BACK.describe(when, map, [1, 2], undefined);
        const later = await env.BACK.later(7);
        const admin = await env.ADMIN.whoami();
        const stub = await env.BACK; // awaiting the stub itself does not call RPC
        return json({
          sum,
          echoedIsDate: echoed.when instanceof Date,
          echoedWhen: echoed.when.toISOString(),
          echoedMap: echoed.map instanceof Map ? [...echoed.map] : null,
          echoedRest: { s: echoed.s, n: echoed.n, t: echoed.t, nil: echoed.nil, arr: echoed.arr },
          described,
          later,
          admin,
          stubThen: typeof stub.then,
          stubIsBinding: stub === env.BACK,
          mapResult: [...(await env.BACK.makeMap()).entries()],
          envVar: await env.BACK.envVar(),
        });
      }
      case "/stream": {
        // The callee streams its body; the caller proxies the Response it got.
        return env.BACK.fetch(req);
      }
      case "/who":
        return new Response(await env.BACK.envVar());
      case "/rpc-errors":
        return json({
          thrown: await caught(() => env.BACK.fail("bad input")),
          rejected: await caught(() => env.BACK.failLater()),
          custom: await caught(() => env.BACK.failCustom()),
          unknown: await caught(() => env.BACK.noSuchMethod()),
          ghostRpc: await caught(() => env.GHOST.anything()),
          ghostFetch: await caught(() => env.GHOST.fetch("http://x/")),
          unclonable: await caught(() => env.BACK.echo(() => 1)),
        });
    }
    return new Response("front " + path);
  },
};
`;

const BACK_TOML = `name = "back"
main = "index.js"
compatibility_date = "2024-09-23"
[vars]
WHO = "back-var"
`;

const BACK = `import { WorkerEntrypoint } from "cloudflare:workers";

export class Admin extends WorkerEntrypoint {
  whoami() { return "admin entrypoint"; }
}

class Custom extends Error {
  constructor(m) { super(m); this.name = "CustomError"; }
}

export default class extends WorkerEntrypoint {
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/boom") throw new Error("callee exploded");
    if (url.pathname === "/stream") {
      const enc = new TextEncoder();
      const parts = ["one ", "two ", await req.text()];
      return new Response(new ReadableStream({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 1));
          if (parts.length) c.enqueue(enc.encode(parts.shift()));
          else c.close();
        },
      }), { headers: { "x-streamed": "1" } });
    }
    return Response.json(
      { method: req.method, url: req.url, from: req.headers.get("x-from"), type: req.headers.get("content-type"), body: await req.text() },
      { status: 201, headers: { "x-back": "yes" } },
    );
  }
  add(a, b) { return a + b; }
  echo(v) { return v; }
  describe(d, m, arr, u) {
    return { date: d instanceof Date && d.getTime(), map: m instanceof Map && m.get("b").deep.length, arr: Array.isArray(arr) && arr.length, undef: u === undefined };
  }
  async later(x) { await new Promise((r) => setTimeout(r, 5)); return x * 2; }
  makeMap() { return new Map([[1, "one"], [2, "two"]]); }
  envVar() { return this.env.WHO; }
  fail(m) { throw new TypeError(m); }
  async failLater() { await null; throw new RangeError("too far"); }
  failCustom() { throw new Custom("custom message"); }
}
`;

function projects() {
  return [
    project({ "wrangler.toml": FRONT_TOML, "index.js": FRONT }),
    project({ "wrangler.toml": BACK_TOML, "index.js": BACK }),
  ];
}

async function checkFetch(s, get) {
  const r = await get("/fetch");
  assert.equal(r.status, 201);
  assert.equal(r.headers.get("x-back"), "yes");
  assert.deepEqual(await r.json(), {
    method: "POST", url: "http://back.internal/echo?q=1", from: "front", type: "text/plain", body: "hello body",
  });
  const st = await get("/stream", { method: "POST", body: "three" });
  assert.equal(st.status, 200);
  assert.equal(st.headers.get("x-streamed"), "1");
  assert.equal(await st.text(), "one two three");
  const r2 = await get("/fetch-request");
  assert.deepEqual(await r2.json(), { status: 500, type: "text/html; charset=utf-8" });
}

async function checkRpc(get) {
  const r = await get("/rpc");
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), {
    sum: 5,
    echoedIsDate: true,
    echoedWhen: "2024-01-02T03:04:05.000Z",
    echoedMap: [["a", 1], ["b", { deep: [1, 2, 3] }]],
    echoedRest: { s: "x", n: 1.5, t: true, nil: null, arr: [1, "two", [3]] },
    described: { date: Date.UTC(2024, 0, 2, 3, 4, 5), map: 3, arr: 2, undef: true },
    later: 14,
    admin: "admin entrypoint",
    stubThen: "undefined",
    stubIsBinding: true,
    mapResult: [[1, "one"], [2, "two"]],
    envVar: "back-var",
  });
}

async function checkErrors(get) {
  const r = await get("/rpc-errors");
  const e = await r.json();
  assert.deepEqual(e.thrown, { ok: false, name: "TypeError", message: "bad input", isTypeError: true, isError: true });
  assert.deepEqual(e.rejected, { ok: false, name: "RangeError", message: "too far", isTypeError: false, isError: true });
  assert.equal(e.custom.name, "CustomError");
  assert.equal(e.custom.message, "custom message");
  assert.equal(e.unknown.ok, false);
  assert.match(e.unknown.message, /does not implement the method "noSuchMethod"/);
  assert.equal(e.ghostRpc.ok, false);
  assert.match(e.ghostRpc.message, /"GHOST".*no-such-worker/);
  assert.equal(e.ghostFetch.ok, false);
  assert.match(e.ghostFetch.message, /no-such-worker/);
  assert.equal(e.unclonable.ok, false);
  assert.equal(e.unclonable.name, "DataCloneError");
}

test("hearth dev a/ b/: fetch and RPC through a service binding", async () => {
  const [front, back] = projects();
  const s = await startDev([front, back]);
  try {
    const get = (p, init) => s.fetch(p, init);
    await checkFetch(s, get);
    await checkRpc(get);
    await checkErrors(get);
    // Many calls at once, all answered.
    const all = await Promise.all(Array.from({ length: 20 }, () => get("/rpc").then((r) => r.status)));
    assert.deepEqual([...new Set(all)], [200]);
    // The callee's current build: an edit of back's config reaches calls from front.
    writeFiles(back, { "wrangler.toml": BACK_TOML.replace("back-var", "back-v2") });
    let who = "";
    for (let i = 0; i < 200 && who !== "back-v2"; i++) {
      who = await (await get("/who")).text();
      if (who !== "back-v2") await sleep(50 * SLOW);
    }
    assert.equal(who, "back-v2");
  } finally {
    await s.stop();
  }
});

test("hearth serve: two Workers deployed with the CLI call each other; bad bindings are refused", async () => {
  const s = await startServe(["--default-worker", "front"]);
  try {
    const env = { HEARTH_API_URL: `http://127.0.0.1:${s.adminPort}`, HEARTH_API_TOKEN: s.token };
    const [front, back] = projects();
    const d1 = await run(["deploy", front], { env });
    assert.equal(d1.code, 0, d1.stdout + d1.stderr);
    // Deployed before its target exists: the call fails at call time, naming the service.
    const early = await (await fetch(s.url + "/rpc-errors")).json();
    assert.match(early.thrown.message, /no Worker named "back"/);
    const d2 = await run(["deploy", back], { env });
    assert.equal(d2.code, 0, d2.stdout + d2.stderr);
    const get = (p, init) => fetch(s.url + p, init);
    await checkFetch(s, get);
    await checkRpc(get);
    await checkErrors(get);

    // A bad service binding in an upload: 400 naming the field.
    const upload = async (binding) => {
      const form = new FormData();
      form.append("metadata", JSON.stringify({ main_module: "index.js", bindings: [binding] }));
      form.append("index.js", new Blob(["export default { fetch() { return new Response('x'); } }"], { type: "application/javascript+module" }), "index.js");
      const r = await fetch(`${s.api}/accounts/${s.account}/workers/scripts/bad`, {
        method: "PUT", headers: { authorization: `Bearer ${s.token}` }, body: form,
      });
      return { status: r.status, body: await r.text() };
    };
    const noService = await upload({ type: "service", name: "X" });
    assert.equal(noService.status, 400);
    assert.match(noService.body, /metadata\.bindings\[0\]\.service/);
    const badEntry = await upload({ type: "service", name: "X", service: "back", entrypoint: 5 });
    assert.equal(badEntry.status, 400);
    assert.match(badEntry.body, /metadata\.bindings\[0\]\.entrypoint/);
    const good = await upload({ type: "service", name: "X", service: "back", entrypoint: "Admin" });
    assert.equal(good.status, 200, good.body);
  } finally {
    await s.stop();
  }
});
