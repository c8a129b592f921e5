// Service bindings end to end: two Workers in one `hearth dev`, the first bound to the second
// with [[services]]: fetch() through the binding (method, headers, body, status), JS-native
// RPC (values, thrown errors, unknown methods, named entrypoints), unknown services; then on
// `hearth serve` with both deployed by the CLI, and a bad binding in an upload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDev, startServe, project, run, writeFiles, sleep, SLOW, SANITIZED, rssKiB, drainSamplingRss } from "./lib/harness.mjs";

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
  // Errors of other classes cross as an Error named "Error" whose message starts with their
  // name, as in workerd (only built-in classes keep theirs).
  assert.equal(e.custom.name, "Error");
  assert.equal(e.custom.message, "CustomError: custom message");
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

// ---- structured clone over RPC, and bodies streamed between the two Workers ----------------

const CLONE_FRONT = `export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const caught = async (f) => {
      try {
        return { ok: true, value: await f() };
      } catch (e) {
        return { ok: false, name: e.name, message: e.message, code: e.code ?? null, isDOMException: e instanceof DOMException, isRangeError: e instanceof RangeError };
      }
    };
    const withTimeout = (p, ms = 5000) => Promise.race([p, new Promise((r) => setTimeout(() => r("timed out"), ms))]);
    switch (url.pathname) {
      case "/clone": {
        const cyc = { name: "cyc" };
        cyc.self = cyc;
        const shared = { n: 1 };
        const keyObj = { k: 1 };
        const sent = {
          cyc, pair: [shared, shared], map: new Map([[keyObj, "v"], ["s", shared]]), keyObj,
          date: new Date(Date.UTC(2020, 1, 3)), re: /a+b/gi, u8: new Uint8Array([1, 2, 255]),
          f64: new Float64Array([1.5, -0]), big: 2n ** 70n, undef: undefined, negz: -0,
          ab: new Uint8Array([9, 8, 7]).buffer, set: new Set([1, "x", keyObj]), nan: NaN,
          err: new RangeError("as a value"),
        };
        const { facts, value: v } = await env.BACK.inspect(sent);
        return Response.json({
          facts,
          back: {
            cycle: v.cyc.self === v.cyc,
            shared: v.pair[0] === v.pair[1] && v.map.get("s") === v.pair[0],
            mapObjectKey: v.map.get(v.keyObj) === "v" && v.set.has(v.keyObj),
            date: v.date instanceof Date && v.date.toISOString(),
            re: v.re instanceof RegExp && v.re.source + "/" + v.re.flags,
            u8: v.u8 instanceof Uint8Array && [...v.u8],
            f64: v.f64 instanceof Float64Array && Object.is(v.f64[1], -0),
            big: v.big === 2n ** 70n,
            undef: "undef" in v && v.undef === undefined,
            negz: Object.is(v.negz, -0),
            nan: Number.isNaN(v.nan),
            ab: v.ab instanceof ArrayBuffer && [...new Uint8Array(v.ab)],
            err: v.err instanceof RangeError && v.err.message,
          },
          sentUntouched: sent.cyc.self === sent.cyc && sent.u8.length === 3,
        });
      }
      case "/clone-errors":
        return Response.json({
          fn: await caught(() => env.BACK.inspect({ f: () => 1 })),
          sym: await caught(() => env.BACK.inspect([Symbol("s")])),
          returnsFn: await caught(() => env.BACK.returnsFunction()),
          thrownValue: await caught(() => env.BACK.throwsValue()),
          thrownRange: await caught(() => env.BACK.throwsRange()),
        });
      case "/pingpong": {
        // Both directions stream: each pong needs the ping written after the previous pong
        // was read, so a body crossing whole would never finish.
        const { readable, writable } = new TransformStream();
        const w = writable.getWriter();
        const r = await env.BACK.fetch("http://back/pingpong", { method: "POST", body: readable, duplex: "half" });
        const reader = r.body.getReader();
        const seen = [];
        for (const ping of ["ping1", "ping2", "ping3"]) {
          w.write(enc.encode(ping));
          const got = await withTimeout(reader.read());
          seen.push(got === "timed out" ? got : dec.decode(got.value));
        }
        w.close();
        const end = await withTimeout(reader.read());
        return Response.json({ seen, done: end.done === true });
      }
      case "/midstream-error": {
        const r = await env.BACK.fetch("http://back/midstream-error");
        const reader = r.body.getReader();
        const first = dec.decode((await reader.read()).value);
        const failed = await caught(() => withTimeout(reader.read()));
        return Response.json({ status: r.status, first, failed });
      }
      case "/backpressure": {
        await env.BACK.reset();
        const r = await env.BACK.fetch("http://back/endless");
        const reader = r.body.getReader();
        let got = 0;
        for (let i = 0; i < 3; i++) got += (await reader.read()).value.byteLength;
        await new Promise((res) => setTimeout(res, 300));
        const a = await env.BACK.stats();
        await new Promise((res) => setTimeout(res, 300));
        const b = await env.BACK.stats();
        await reader.cancel(new Error("enough"));
        let c = await env.BACK.stats();
        for (let i = 0; i < 50 && !c.cancelled; i++) {
          await new Promise((res) => setTimeout(res, 20));
          c = await env.BACK.stats();
        }
        return Response.json({ got, a, b, c });
      }
      case "/abandon": {
        // The caller's invocation ends without reading the body: the callee's stream is cancelled.
        await env.BACK.reset();
        await env.BACK.fetch("http://back/endless");
        return new Response("abandoned");
      }
      case "/stats":
        return Response.json(await env.BACK.stats());
      case "/reset":
        await env.BACK.reset();
        return new Response("ok");
      case "/proxy-endless":
        return env.BACK.fetch("http://back/endless");
      case "/proxy-error":
        return env.BACK.fetch("http://back/midstream-error");
      case "/big":
        return env.BACK.fetch("http://back/big" + url.search);
      case "/upload-error": {
        // The caller's request body fails midway: the callee's read of it fails the same way.
        let step = 0;
        const body = new ReadableStream({
          async pull(c) {
            if (step++ === 0) c.enqueue(enc.encode("abc"));
            else {
              await new Promise((r) => setTimeout(r, 10));
              c.error(new RangeError("caller body broke"));
            }
          },
        });
        const r = await env.BACK.fetch("http://back/read-fails", { method: "PUT", body, duplex: "half" });
        return new Response(await r.text());
      }
      case "/upload": {
        // A large request body produced as it goes, counted by the callee.
        let left = Number(url.searchParams.get("mb")) * 16;
        const body = new ReadableStream({
          pull(c) {
            if (left-- > 0) c.enqueue(new Uint8Array(65536).fill(7));
            else c.close();
          },
        });
        const r = await env.BACK.fetch("http://back/count", { method: "PUT", body, duplex: "half" });
        return new Response(await r.text());
      }
    }
    return new Response("not found", { status: 404 });
  },
};
`;

const CLONE_BACK = `import { WorkerEntrypoint } from "cloudflare:workers";

let produced = 0;
let cancelled = null;

export default class extends WorkerEntrypoint {
  async fetch(req) {
    const url = new URL(req.url);
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    switch (url.pathname) {
      case "/pingpong": {
        const reader = req.body.getReader();
        return new Response(new ReadableStream({
          async pull(c) {
            const { value, done } = await reader.read();
            if (done) c.close();
            else c.enqueue(enc.encode("pong:" + dec.decode(value)));
          },
        }));
      }
      case "/midstream-error": {
        let step = 0;
        return new Response(new ReadableStream({
          async pull(c) {
            if (step++ === 0) c.enqueue(enc.encode("partial"));
            else {
              await new Promise((r) => setTimeout(r, 10));
              c.error(new TypeError("broke mid-stream"));
            }
          },
        }));
      }
      case "/endless":
        return new Response(new ReadableStream({
          async pull(c) {
            await new Promise((r) => setTimeout(r, 1));
            produced++;
            c.enqueue(new Uint8Array(65536));
          },
          cancel(reason) { cancelled = String(reason?.message ?? reason); },
        }));
      case "/big": {
        let left = Number(url.searchParams.get("mb") ?? 100) * 16;
        return new Response(new ReadableStream({
          pull(c) {
            if (left-- > 0) c.enqueue(new Uint8Array(65536).fill(97));
            else c.close();
          },
        }));
      }
      case "/read-fails":
        try {
          return new Response("read " + (await req.text()));
        } catch (e) {
          return new Response(e.name + ": " + e.message);
        }
      case "/count": {
        let n = 0;
        for await (const chunk of req.body) n += chunk.byteLength;
        return new Response(String(n));
      }
    }
    return new Response("?", { status: 404 });
  }
  inspect(v) {
    const facts = {
      cycle: v.cyc.self === v.cyc,
      shared: v.pair[0] === v.pair[1] && v.map.get("s") === v.pair[0],
      mapObjectKey: v.map.get(v.keyObj) === "v" && v.set.has(v.keyObj),
      date: v.date instanceof Date && v.date.toISOString(),
      u8: v.u8 instanceof Uint8Array && [...v.u8],
      big: typeof v.big === "bigint" && v.big.toString(),
      negz: Object.is(v.negz, -0),
      err: v.err instanceof RangeError && v.err.message,
    };
    return { facts, value: v };
  }
  returnsFunction() { return { f() {} }; }
  throwsValue() { throw { code: 42 }; }
  throwsRange() { throw new RangeError("out of range"); }
  reset() { produced = 0; cancelled = null; }
  stats() { return { produced, cancelled }; }
}
`;

test("hearth dev: RPC values cross as structured clones; bodies stream between Workers", async () => {
  const front = project({ "wrangler.toml": FRONT_TOML, "index.js": CLONE_FRONT });
  const back = project({ "wrangler.toml": BACK_TOML, "index.js": CLONE_BACK });
  // One thread: requests that check back's module state (/stats) must reach the same realm.
  const s = await startDev([front, back], ["--threads", "1"]);
  try {
    const json = async (p) => (await s.fetch(p)).json();

    const c = await json("/clone");
    assert.deepEqual(c.facts, {
      cycle: true, shared: true, mapObjectKey: true, date: "2020-02-03T00:00:00.000Z",
      u8: [1, 2, 255], big: (2n ** 70n).toString(), negz: true, err: "as a value",
    });
    assert.deepEqual(c.back, {
      cycle: true, shared: true, mapObjectKey: true, date: "2020-02-03T00:00:00.000Z", re: "a+b/gi",
      u8: [1, 2, 255], f64: true, big: true, undef: true, negz: true, nan: true, ab: [9, 8, 7], err: "as a value",
    });
    assert.equal(c.sentUntouched, true);

    const e = await json("/clone-errors");
    for (const k of ["fn", "sym", "returnsFn"]) {
      assert.equal(e[k].ok, false, k);
      assert.equal(e[k].name, "DataCloneError", k);
      assert.equal(e[k].isDOMException, true, k);
    }
    assert.match(e.fn.message, /function/);
    assert.match(e.sym.message, /symbol/);
    assert.match(e.returnsFn.message, /function/);
    // A thrown non-Error crosses as an Error of its text, as in workerd; a thrown RangeError as
    // a RangeError.
    assert.deepEqual(e.thrownValue, { ok: false, name: "Error", message: "[object Object]", code: null, isDOMException: false, isRangeError: false });
    assert.deepEqual(e.thrownRange, { ok: false, name: "RangeError", message: "out of range", code: null, isDOMException: false, isRangeError: true });

    // Request and response bodies stream: each pong arrives before the callee has finished.
    assert.deepEqual(await json("/pingpong"), { seen: ["pong:ping1", "pong:ping2", "pong:ping3"], done: true });

    // An error in the middle of the callee's body errors the caller's stream, with its message.
    const m = await json("/midstream-error");
    assert.equal(m.status, 200);
    assert.equal(m.first, "partial");
    assert.equal(m.failed.ok, false);
    assert.equal(m.failed.name, "TypeError");
    assert.equal(m.failed.message, "broke mid-stream");

    // A slow reader stops an endless producer (a bounded number of 64 KiB chunks ahead), and
    // cancelling the body cancels the callee's stream.
    const bp = await json("/backpressure");
    assert.equal(bp.got, 3 * 65536);
    assert.ok(bp.a.produced < 16, `produced ${bp.a.produced} chunks for 3 read`);
    assert.equal(bp.b.produced, bp.a.produced, "the producer kept going while nobody read");
    assert.match(String(bp.c.cancelled), /cancelled the body/);

    // The caller's invocation ends without reading: the callee's stream is cancelled.
    assert.equal(await (await s.fetch("/abandon")).text(), "abandoned");
    let st = await json("/stats");
    for (let i = 0; i < 100 && st.cancelled === null; i++) {
      await sleep(20);
      st = await json("/stats");
    }
    assert.notEqual(st.cancelled, null);
    assert.ok(st.produced < 16, `produced ${st.produced} chunks with no reader`);

    // A proxied body (moved by C) that fails midway cuts the client off.
    const pe = await s.fetch("/proxy-error");
    assert.equal(pe.status, 200);
    await assert.rejects(pe.text());

    // The client leaving a proxied body cancels the callee's stream.
    await s.fetch("/reset");
    const ac = new AbortController();
    const pr = await s.fetch("/proxy-endless", { signal: ac.signal });
    const preader = pr.body.getReader();
    await preader.read();
    ac.abort();
    await preader.cancel().catch(() => {});
    st = await json("/stats");
    for (let i = 0; i < 100 && st.cancelled === null; i++) {
      await sleep(20);
      st = await json("/stats");
    }
    assert.match(String(st.cancelled), /cancelled the body/);

    assert.equal(await (await s.fetch("/upload-error")).text(), "RangeError: caller body broke");

    // A streamed request body of 32 MiB reaches the callee whole.
    assert.equal(await (await s.fetch("/upload?mb=32")).text(), String(32 * 1024 * 1024));

    // 100 MiB through the binding to the client (front returns the body untouched, so C moves
    // it from the pipe to the socket), without the process growing with it. What growth there
    // is comes from the engine's heap sizing for back's own garbage chunks: a Worker streaming
    // the same chunks to its client directly grows as much.
    const warm = await s.fetch("/big?mb=32");
    assert.equal((await warm.arrayBuffer()).byteLength, 32 * 1024 * 1024);
    const pid = s.child.pid;
    const before = rssKiB(pid);
    const r = await s.fetch("/big?mb=100");
    assert.equal(r.status, 200);
    const { total, peak } = await drainSamplingRss(r.body, pid);
    assert.equal(total, 100 * 1024 * 1024);
    const growthMiB = (peak - before) / 1024;
    console.log(`# 100 MiB through a service binding: RSS ${(before / 1024).toFixed(1)} MiB → peak ${(peak / 1024).toFixed(1)} MiB (+${growthMiB.toFixed(1)} MiB)`);
    if (!SANITIZED) assert.ok(growthMiB < 24, `RSS grew by ${growthMiB.toFixed(1)} MiB`);
  } finally {
    await s.stop();
  }
});

// ReadableStreams as RPC arguments and results (as workerd passes them): anywhere in the value,
// streamed with backpressure through the same pipes as bodies.
// Both Workers' text(stream), the whole stream decoded, and chunks(...parts), a stream of them.
const STREAM_HELPERS = `
const enc = new TextEncoder();
const dec = new TextDecoder();
const text = async (stream) => {
  let out = "";
  for await (const chunk of stream) out += dec.decode(chunk, { stream: true });
  return out;
};
const chunks = (...parts) => new ReadableStream({
  pull(c) {
    if (parts.length) c.enqueue(enc.encode(parts.shift()));
    else c.close();
  },
});
`;

const STREAM_FRONT = `${STREAM_HELPERS}
const caught = async (f) => {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    return { ok: false, name: e.name, message: e.message };
  }
};
export default {
  async fetch(req, env) {
    const url = new URL(req.url);
    switch (url.pathname) {
      case "/args": {
        // A stream as an argument, two nested ones, and one shared by two places.
        const shared = chunks("s", "hared");
        const got = await env.BACK.readAll(chunks("top", "-level"), { list: [1, chunks("in ", "a list")], map: new Map([["k", chunks("in a map")]]), again: shared, same: shared });
        // A sparse array: only its elements are visited, not its length.
        const sparse = [];
        sparse[2 ** 31] = chunks("far away");
        got.sparse = await env.BACK.readSparse(sparse);
        return Response.json(got);
      }
      case "/results": {
        const r = await env.BACK.produce(["one ", "two ", "three"]);
        const nested = await env.BACK.produceNested();
        return Response.json({
          top: r instanceof ReadableStream && await text(r),
          nested: [nested.n, await text(nested.streams[0]), await text(nested.byName.get("x"))],
        });
      }
      case "/pingpong": {
        // Both ways at once: each answer needs the question written after the previous
        // answer was read, so neither stream can cross whole.
        const { readable, writable } = new TransformStream();
        const w = writable.getWriter();
        const answers = (await env.BACK.answer(readable)).getReader();
        const seen = [];
        for (const q of ["q1", "q2", "q3"]) {
          await w.write(enc.encode(q));
          const { value } = await answers.read();
          seen.push(dec.decode(value));
        }
        await w.close();
        return Response.json({ seen, done: (await answers.read()).done });
      }
      case "/backpressure": {
        await env.BACK.reset();
        const reader = (await env.BACK.endless()).getReader();
        for (let i = 0; i < 3; i++) await reader.read();
        await new Promise((r) => setTimeout(r, 100));
        const a = await env.BACK.stats();
        await new Promise((r) => setTimeout(r, 100));
        const b = await env.BACK.stats();
        await reader.cancel("enough");
        let c = await env.BACK.stats();
        for (let i = 0; i < 50 && c.cancelled === null; i++) {
          await new Promise((r) => setTimeout(r, 10));
          c = await env.BACK.stats();
        }
        return Response.json({ a, b, c });
      }
      case "/errors": {
        const broken = new ReadableStream({
          pull(c) { c.error(new RangeError("source broke")); },
        });
        const locked = chunks("x");
        locked.getReader();
        const failing = await env.BACK.failing();
        return Response.json({
          argError: await caught(() => env.BACK.readAll(broken, {})),
          resultError: await caught(() => text(failing)),
          locked: await caught(() => env.BACK.readAll(locked, {})),
          notBytes: await caught(() => env.BACK.readAll(new ReadableStream({ start(c) { c.enqueue("a string"); c.close(); } }), {})),
        });
      }
      case "/request-response": {
        // A Request with a streamed body and a Response, nested, there and back.
        const req = new Request("https://example.com/path?q=1", {
          method: "POST", headers: { "x-a": "1", "content-type": "text/plain" }, body: chunks("request ", "body"), duplex: "half",
        });
        const got = await env.BACK.describeRequest({ reqs: [req, new Request("https://example.com/get")] });
        const res = await env.BACK.makeResponse("made");
        const nested = await env.BACK.wrapResponse();
        return Response.json({
          got,
          res: [res instanceof Response, res.status, res.statusText, res.headers.get("x-made"), res.headers.getSetCookie(), await res.text()],
          nested: [nested.label, nested.responses[0].status, await nested.responses[0].text(), nested.responses[1].body],
          wsResponse: await caught(() => env.BACK.wsResponse()),
          // A Request and its own body in one value: the body can be read only once.
          twice: await (async () => {
            const r = new Request("https://example.com/", { method: "POST", body: chunks("once") });
            return caught(() => env.BACK.readBoth(r, r.body));
          })(),
          usedBody: await caught(async () => {
            const used = new Response("x");
            await used.text();
            return env.BACK.makeResponse(used);
          }),
        });
      }
      case "/writable": {
        // The callee writes into the caller's WritableStream (passed inside a Map in a Set).
        const got = [];
        let closed = false;
        let aborted = null;
        const sink = () => new WritableStream({
          write(chunk) { got.push(dec.decode(chunk)); },
          close() { closed = true; },
          abort(reason) { aborted = String(reason?.message ?? reason); },
        });
        const result = await env.BACK.writeInto(new Set([new Map([["out", sink()]])]), ["one", "two", "three"]);
        for (let i = 0; i < 100 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
        const first = { result, got: [...got], closed };
        // A callee that ends without closing it: the caller's stream is aborted.
        got.length = 0;
        closed = false;
        await env.BACK.writeAndLeave(sink());
        for (let i = 0; i < 100 && aborted === null; i++) await new Promise((r) => setTimeout(r, 10));
        return Response.json({ first, second: { got, closed, aborted } });
      }
      case "/unread": {
        // The callee returns without reading: the caller's stream is cancelled, and the
        // caller's request still ends.
        let cancelled = null;
        const stream = new ReadableStream({
          pull(c) { c.enqueue(new Uint8Array(65536)); },
          cancel(reason) { cancelled = String(reason?.message ?? reason); },
        });
        await env.BACK.ignore(stream);
        for (let i = 0; i < 100 && cancelled === null; i++) await new Promise((r) => setTimeout(r, 10));
        return Response.json({ cancelled });
      }
    }
    return new Response("?", { status: 404 });
  },
};
`;

const STREAM_BACK = `
import { WorkerEntrypoint } from "cloudflare:workers";
${STREAM_HELPERS}
let produced = 0;
let cancelled = null;
export default class extends WorkerEntrypoint {
  async readAll(top, rest) {
    const out = { top: top instanceof ReadableStream && await text(top) };
    if (rest.list) out.list = [rest.list[0], await text(rest.list[1])];
    if (rest.map) out.map = await text(rest.map.get("k"));
    if (rest.again) out.shared = [rest.again === rest.same, await text(rest.again)];
    return out;
  }
  async readSparse(a) {
    return [a.length, Object.keys(a).length, await text(a[2 ** 31])];
  }
  produce(parts) {
    return new ReadableStream({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 5));
        if (parts.length) c.enqueue(enc.encode(parts.shift()));
        else c.close();
      },
    });
  }
  produceNested() {
    const one = (t) => new ReadableStream({ start(c) { c.enqueue(enc.encode(t)); c.close(); } });
    return { n: 7, streams: [one("in an array")], byName: new Map([["x", one("in a map")]]) };
  }
  answer(questions) {
    const reader = questions.getReader();
    return new ReadableStream({
      async pull(c) {
        const { value, done } = await reader.read();
        if (done) c.close();
        else c.enqueue(enc.encode("a:" + dec.decode(value)));
      },
    });
  }
  endless() {
    return new ReadableStream({
      async pull(c) {
        await new Promise((r) => setTimeout(r, 1));
        produced++;
        c.enqueue(new Uint8Array(65536));
      },
      cancel(reason) { cancelled = String(reason?.message ?? reason); },
    });
  }
  failing() {
    let step = 0;
    return new ReadableStream({
      pull(c) {
        if (step++ === 0) c.enqueue(enc.encode("partial"));
        else c.error(new TypeError("broke mid-stream"));
      },
    });
  }
  async describeRequest({ reqs }) {
    return Promise.all(reqs.map(async (r) => ({
      isRequest: r instanceof Request, method: r.method, url: r.url, a: r.headers.get("x-a"),
      type: r.headers.get("content-type"), body: r.body === null ? null : await r.text(),
    })));
  }
  makeResponse(text) {
    const headers = new Headers({ "x-made": "yes" });
    headers.append("set-cookie", "a=1");
    headers.append("set-cookie", "b=2");
    return new Response(chunks(text, "!"), { status: 201, statusText: "Made", headers });
  }
  async readBoth(request, body) {
    const results = await Promise.allSettled([request.text(), text(body)]);
    return results.map((r) => (r.status === "fulfilled" ? r.value : r.reason.message)).sort();
  }
  wsResponse() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    return new Response(null, { status: 101, webSocket: client });
  }
  wrapResponse() {
    return { label: "wrapped", responses: [new Response("inner", { status: 202 }), new Response(null, { status: 204 })] };
  }
  async writeInto(set, words) {
    const writable = [...set][0].get("out");
    const w = writable.getWriter();
    for (const word of words) await w.write(enc.encode(word));
    await w.close();
    return { isWritable: writable instanceof WritableStream, wrote: words.length };
  }
  writeAndLeave(writable) {
    const w = writable.getWriter();
    w.write(enc.encode("partial"));
    return "left";
  }
  ignore(stream) { return "ignored"; }
  reset() { produced = 0; cancelled = null; }
  stats() { return { produced, cancelled }; }
}
`;

test("hearth dev: ReadableStreams cross RPC as arguments and results, anywhere in the value", async () => {
  const front = project({ "wrangler.toml": FRONT_TOML, "index.js": STREAM_FRONT });
  const back = project({ "wrangler.toml": BACK_TOML, "index.js": STREAM_BACK });
  const s = await startDev([front, back], ["--threads", "1"]);
  try {
    const json = async (p) => {
      const r = await s.fetch(p);
      assert.equal(r.status, 200, `${p}: ${r.status}\n${s.stderr}`);
      return r.json();
    };
    assert.deepEqual(await json("/args"), {
      top: "top-level", list: [1, "in a list"], map: "in a map", shared: [true, "shared"], sparse: [2 ** 31 + 1, 1, "far away"],
    });
    assert.deepEqual(await json("/results"), { top: "one two three", nested: [7, "in an array", "in a map"] });
    assert.deepEqual(await json("/pingpong"), { seen: ["a:q1", "a:q2", "a:q3"], done: true });

    // A slow reader holds an endless producer a bounded number of chunks ahead; cancelling
    // the caller's stream cancels the callee's.
    const bp = await json("/backpressure");
    assert.ok(bp.a.produced < 16, `produced ${bp.a.produced} chunks for 3 read`);
    assert.equal(bp.b.produced, bp.a.produced, "the producer kept going while nobody read");
    assert.match(String(bp.c.cancelled), /cancelled the body/);

    const e = await json("/errors");
    // Whatever breaks the sender's stream, the receiver's fails as in workerd.
    const disconnected = { ok: false, name: "Error", message: "ReadableStream received over RPC disconnected prematurely." };
    assert.deepEqual(e.argError, disconnected);
    assert.deepEqual(e.resultError, disconnected);
    assert.deepEqual(e.notBytes, disconnected);
    assert.deepEqual(e.locked, { ok: false, name: "TypeError", message: "A ReadableStream passed over RPC must not be locked." });

    assert.deepEqual(await json("/request-response"), {
      got: [
        { isRequest: true, method: "POST", url: "https://example.com/path?q=1", a: "1", type: "text/plain", body: "request body" },
        { isRequest: true, method: "GET", url: "https://example.com/get", a: null, type: null, body: null },
      ],
      res: [true, 201, "Made", "yes", ["a=1", "b=2"], "made!"],
      nested: ["wrapped", 202, "inner", null],
      wsResponse: { ok: false, name: "DataCloneError", message: "hearth cannot pass a WebSocket Response over RPC." },
      twice: { ok: true, value: ["ReadableStream received over RPC disconnected prematurely.", "once"] },
      usedBody: { ok: false, name: "TypeError", message: "The body of a Response passed over RPC has already been used." },
    });

    assert.deepEqual(await json("/writable"), {
      first: { result: { isWritable: true, wrote: 3 }, got: ["one", "two", "three"], closed: true },
      second: { got: ["partial"], closed: false, aborted: "ReadableStream received over RPC disconnected prematurely." },
    });

    const u = await json("/unread");
    assert.match(String(u.cancelled), /cancelled the body/);
  } finally {
    await s.stop();
  }
});
