// The parts of the Workers runtime that are about running code rather than about data: console
// output (checked against Node's util.format, which Workers' console follows), timers and
// microtasks, ctx.waitUntil and passThroughOnException, uncaught exceptions, module state, and
// what the platform forbids in global scope.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { format } from "node:util";
import { startDev, worker, run, sleep, SLOW } from "./lib/harness.mjs";

// console cases: [level, args]. Evaluated both in Node (for the expected text) and in the Worker.
function consoleCases() {
  class Foo {}
  class Bar {
    constructor() {
      this.x = 1;
      this.nested = { y: [2] };
    }
  }
  const circular = { name: "c" };
  circular.self = circular;
  const nullProto = Object.assign(Object.create(null), { a: 1 });
  const withExtras = Object.assign([1, 2], { extra: true });
  const sparse = [, 1, , , 2]; // eslint-disable-line no-sparse-arrays
  const getter = {
    get g() {
      return 1;
    },
    set s(v) {},
  };
  const fakeError = (E, msg, extra) => {
    const e = new E(msg);
    e.stack = `${e.name}: ${msg}\n    at fake (file.js:1:1)\n    at other (file.js:2:2)`;
    return Object.assign(e, extra || {});
  };
  class MyError extends Error {
    constructor(m) {
      super(m);
      this.name = "MyError";
    }
  }
  const tagged = { [Symbol.toStringTag]: "Tagged", v: 1 };
  class WithTag {
    get [Symbol.toStringTag]() {
      return "T";
    }
  }
  const selfMap = new Map();
  selfMap.set(selfMap, selfMap);
  const namedFn = function foo() {};
  namedFn.prop = 1;
  return [
    ["log", ["plain string", 42, true, null, undefined]],
    ["log", ["%s is %d years and %i days, %f%%", "Bob", 42.5, 7.9, "1.5"]],
    ["log", ["%s|%s|%s|%s", { a: 1 }, [1, [2]], 10n, Symbol("s")]],
    ["log", ["%d %d %i %f", 5n, {}, "42.9px", "x"]],
    ["log", ["%j", { a: [1, "two"] }]],
    ["log", ["%o", { a: [1, 2], f: "x" }]],
    ["log", ["%O", { a: { b: { c: { d: 1 } } } }]],
    ["log", ["%c styled %s", "color: red", "text"]],
    ["log", ["too few: %s %s", "one"]],
    ["log", ["extra", "args", { k: "v" }, 3]],
    ["log", [{ a: 1, b: "two", c: [1, 2, 3], d: { e: null }, "needs quotes": 1, u: undefined }]],
    ["log", [[1, "two", [3, [4, [5, [6]]]], "it's", 'say "hi"']]],
    ["log", [{ a: { b: { c: { d: { e: 1 } } } } }]],
    ["log", [new Map([["k", 1], [{ o: 1 }, [2]]]), new Set([1, "s", { t: true }])]],
    ["log", [{ m: new Map([[1, { deep: { deeper: { deepest: 1 } } }]]) }]],
    ["log", [Symbol("sym"), 10n, -0, NaN, Infinity, "multi\nline"]],
    ["log", [{ s: "quote's", n: -0, big: 1n, sym: Symbol.iterator, fn: function named() {}, arrow: () => {}, anon: function () {} }]],
    ["log", [Foo, new Foo(), new Bar()]],
    ["log", [new Date(0), /re+/gi]],
    ["log", [sparse, withExtras, []]],
    ["log", [new Uint8Array([1, 2, 3]), new ArrayBuffer(3), new Float64Array(2)]],
    ["log", [Array.from({ length: 120 }, (_, i) => i)]],
    ["log", [Array.from({ length: 30 }, (_, i) => "item" + i)]],
    ["log", [{ long: "x".repeat(70), other: "y".repeat(20), third: [1, 2, 3] }]],
    ["log", [Object.fromEntries(Array.from({ length: 26 }, (_, i) => [String.fromCharCode(97 + i), i]))]],
    ["log", [circular]],
    ["log", [nullProto, getter]],
    ["log", [new String("boxed"), new Number(3), new Boolean(false)]],
    ["log", [{ [Symbol("key")]: 1, regular: 2 }]],
    ["log", [new Proxy({ proxied: true }, {})]],
    ["log", [new WeakMap(), new WeakSet()]],
    ["log", [{ nested: [{ a: 1, b: [{ c: 2 }] }] }]],
    ["log", ["x".repeat(50), { short: 1 }]],
    // Errors print their stack (given here, so Node and hearth see the same one) and extra props.
    ...[
      [fakeError(Error, "boom")],
      [fakeError(TypeError, "bad type", { code: "E_BAD" })],
      [{ err: fakeError(Error, "inner") }],
      ["%s", fakeError(RangeError, "as string")],
      [fakeError(MyError, "mine")],
      [tagged, new WithTag()],
      [Array.from({ length: 8 }, (_, i) => ({ id: i, name: "n" + i }))],
      [selfMap],
      [namedFn, class {}, Math.max, async function af() {}, function* gen() {}],
      [Object.create({ inherited: 1 }), new (class extends Map {})([[1, 2]]), new Array(5)],
      ["a\tb", ["a\tb", "new\nline", "quote'\"", "back`tick'\""]],
      [-0, [-0], 0.1 + 0.2, 1e21, 2 ** 53, -1e-7],
      [new Int16Array([1, -1]), new BigInt64Array([1n]), new DataView(new ArrayBuffer(2))],
      [{ "a-b": 1, a_b: 2, 1: 3, "1a": 4, [Symbol.for("s")]: 5 }],
      ["x".repeat(10001)],
      [Array.from({ length: 27 }, (_, i) => i * 1000)],
      [{ und: undefined, f() {}, get gs() { return 1; }, set gs(v) {} }],
      [new Date("invalid"), [new Date(86400000)]],
      [Symbol(), Symbol(""), Symbol("a b"), Math, JSON],
      [Object(Symbol("boxed")), Object(5n), new String("")],
      [],
      ["just %% percent"],
      ["single %s %d %% arg"],
    ].map((args) => ["log", args]),
    ["info", ["info line", { i: 1 }]],
    ["debug", ["debug line %d", 7]],
    ["warn", ["warn line", [1, 2]]],
    ["error", ["error line", { e: "x" }]],
  ];
}

function routes() {
  const store = new Map();
  const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));

  return {
    "/console": () => {
      consoleCases().forEach(([level, args], i) => {
        console[level](`<<case ${i}>>`);
        console[level](...args);
        console[level](`<<end ${i}>>`);
      });
      return { count: consoleCases().length };
    },
    // Node's own promises carry async_hooks symbols under node:test, so these are literal.
    "/console/promises": () => {
      console.log("<<promises>>");
      console.log(Promise.resolve(4), new Promise(() => {}), Promise.resolve({ a: [1] }));
      console.log("<<promises end>>");
      return {};
    },
    "/console/trace": () => {
      function tracingFunction() {
        console.trace("traced %d", 7);
      }
      tracingFunction();
      console.error("<<trace end>>");
      return {};
    },
    "/console/methods": () => {
      console.log("<<methods>>");
      console.assert(true, "never shown");
      console.assert(false, "assertion %s", "message");
      console.count("c");
      console.count("c");
      console.count();
      console.group("group head");
      console.log("inside group");
      console.groupEnd();
      console.log("after group");
      console.dir({ d: { e: { f: { g: 1 } } } }, { depth: 0 });
      console.log("<<methods end>>");
      return { types: ["log", "info", "warn", "error", "debug", "trace", "dir", "assert", "count", "time", "timeEnd", "group", "groupEnd", "table"].map((m) => typeof console[m]) };
    },

    // ---- timers ---------------------------------------------------------------------------
    "/timers/order": async () => {
      const log = [];
      let done;
      const finished = new Promise((r) => (done = r));
      setTimeout(() => log.push("t150"), 150); // well after "nested", even on a slow (sanitizer) build
      setTimeout(() => log.push("t0-a"), 0);
      setTimeout(() => log.push("t10"), 10);
      setTimeout(() => log.push("t0-b"));
      setTimeout((a, b, c) => log.push(["args", a, b, c]), 5, "x", 2, { k: true });
      const cancelled = setTimeout(() => log.push("cancelled!"), 15);
      clearTimeout(cancelled);
      setTimeout(() => {
        log.push("t20");
        setTimeout(() => log.push("nested"), 0);
      }, 20);
      setTimeout(done, 250);
      await finished;
      return {
        log,
        idType: typeof cancelled,
        clearJunk: [clearTimeout(undefined), clearTimeout("junk"), clearTimeout(123456789), clearInterval(null)],
      };
    },
    "/timers/interval": async () => {
      const ticks = [];
      let n = 0;
      let stopped;
      const stoppedP = new Promise((r) => (stopped = r));
      const id = setInterval((tag) => {
        n++;
        ticks.push(tag + n);
        if (n === 3) {
          clearInterval(id);
          stopped();
        }
      }, 10, "tick");
      await stoppedP;
      await sleepMs(80); // an interval that kept running would tick several more times here
      return { ticks, n };
    },
    "/timers/interval-zero": async () => {
      let n = 0;
      const id = setInterval(() => n++, 0);
      await sleepMs(50);
      clearInterval(id);
      const at = n;
      await sleepMs(30);
      return { ran: at, after: n };
    },
    "/timers/delay": async (request) => {
      const ms = Number(new URL(request.url).searchParams.get("ms"));
      const start = Date.now();
      await sleepMs(ms);
      return { waited: Date.now() - start };
    },
    "/timers/errors": () => ({
      notFunction: (() => {
        try {
          setTimeout("code string", 1);
          return null;
        } catch (e) {
          return [e.name, e.constructor.name];
        }
      })(),
      microtaskNotFunction: (() => {
        try {
          queueMicrotask(null);
          return null;
        } catch (e) {
          return [e.name, e.constructor.name];
        }
      })(),
    }),
    "/microtasks": async () => {
      const log = [];
      setTimeout(() => log.push("timeout"), 0);
      Promise.resolve().then(() => log.push("p1"));
      queueMicrotask(() => {
        log.push("mt1");
        queueMicrotask(() => log.push("mt-nested"));
        Promise.resolve().then(() => log.push("p-from-mt"));
      });
      Promise.resolve().then(() => log.push("p2"));
      queueMicrotask(() => log.push("mt2"));
      log.push("sync");
      await sleepMs(20);
      return log;
    },

    // ---- ctx -------------------------------------------------------------------------------
    "/wait/start": (request, env, ctx) => {
      const id = new URL(request.url).searchParams.get("id");
      ctx.waitUntil(
        (async () => {
          await sleepMs(100);
          store.set(id, "done");
          console.log(`waitUntil finished ${id}`);
        })(),
      );
      return { state: store.get(id) ?? "pending" };
    },
    "/wait/get": (request) => ({ state: store.get(new URL(request.url).searchParams.get("id")) ?? "missing" }),
    "/wait/reject": (request, env, ctx) => {
      ctx.waitUntil(Promise.reject(new Error("waitUntil-rejected-marker")));
      return new Response("response unaffected");
    },
    "/wait/reject-late": (request, env, ctx) => {
      ctx.waitUntil(sleepMs(20).then(() => {
        throw new TypeError("waitUntil-late-rejection-marker");
      }));
      return new Response("response unaffected");
    },
    "/wait/shape": (request, env, ctx) => ({
      waitUntil: typeof ctx.waitUntil,
      passThrough: typeof ctx.passThroughOnException,
      passThroughCall: (() => {
        try {
          return ctx.passThroughOnException() === undefined;
        } catch (e) {
          return String(e);
        }
      })(),
      noArg: (() => {
        try {
          ctx.waitUntil();
          return null;
        } catch (e) {
          return e.name;
        }
      })(),
      isExecutionContext: typeof ExecutionContext === "function" && ctx instanceof ExecutionContext,
    }),
    "/counter": () => {
      store.set("counter", (store.get("counter") ?? 0) + 1);
      return { counter: store.get("counter") };
    },

    // ---- uncaught exceptions -----------------------------------------------------------------
    "/throw/sync": () => {
      throw new Error("sync-kaboom-marker");
    },
    "/throw/async": async () => {
      await sleepMs(1);
      throw new RangeError("async-kaboom-marker");
    },
    "/throw/string": () => {
      throw "a-thrown-string-marker"; // eslint-disable-line no-throw-literal
    },
    "/throw/nested": () => {
      function innerMost() {
        throw new TypeError("nested-kaboom-marker");
      }
      function middle() {
        innerMost();
      }
      middle();
    },
    "/throw/timer": async () => {
      setTimeout(() => {
        throw new Error("timer-callback-marker");
      }, 1);
      await sleepMs(30);
      return { survived: true };
    },
  };
}

const SOURCE = `
const consoleCases = ${consoleCases.toString()};
const routes = (${routes.toString()})();
export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    const route = routes[pathname];
    if (!route) return new Response("no route " + pathname, { status: 404 });
    const out = await route(request, env, ctx);
    return out instanceof Response ? out : Response.json(out);
  },
};
`;

let server;
before(async () => {
  // One thread: module state (the waitUntil store, the counter) lives in one isolate.
  server = await startDev(worker(SOURCE), ["--threads", "1"]);
});
after(async () => {
  await server.stop();
});

// Waits until server[stream] ("stdout" or "stderr"), from offset `from` on, matches re.
async function waitIn(stream, re, from = 0, timeout = 10000 * SLOW) {
  const end = Date.now() + timeout;
  while (!re.test(server[stream].slice(from))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${re} on ${stream}\n--- ${stream} ---\n${server[stream].slice(from)}`);
    if (server.child.exitCode !== null) throw new Error(`hearth exited while waiting for ${re}\n${server.output}`);
    await sleep(10);
  }
}

async function json(path, init) {
  const res = await server.fetch(path, init);
  const text = await res.text();
  assert.equal(res.status, 200, `${path} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// ---- console ------------------------------------------------------------------------------

test("console: output is formatted like Node's util.format, on stdout (log/info/debug) or stderr (warn/error)", async () => {
  const cases = consoleCases();
  const { count } = await json("/console");
  assert.equal(count, cases.length);
  const mismatches = [];
  for (let i = 0; i < cases.length; i++) {
    const [level, args] = cases[i];
    const toStderr = level === "warn" || level === "error";
    await waitIn(toStderr ? "stderr" : "stdout", new RegExp(`<<end ${i}>>`));
    const [mine, other] = toStderr ? [server.stderr, server.stdout] : [server.stdout, server.stderr];
    const re = new RegExp(`<<case ${i}>>\\n([^]*?)\\n<<end ${i}>>`);
    const m = re.exec(mine);
    assert.ok(m, `case ${i} (${level}) not found on ${toStderr ? "stderr" : "stdout"}`);
    assert.ok(!other.includes(`<<case ${i}>>`), `case ${i} (${level}) also appeared on the other stream`);
    const expected = format(...args);
    if (m[1] !== expected) mismatches.push(`case ${i} console.${level}:\n  hearth: ${JSON.stringify(m[1])}\n  node:   ${JSON.stringify(expected)}`);
  }
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${cases.length} differ from Node:\n${mismatches.join("\n")}`);
});

test("console: promises show their state", async () => {
  await json("/console/promises");
  await waitIn("stdout", /<<promises end>>/);
  const block = /<<promises>>\n([^]*?)\n<<promises end>>/.exec(server.stdout)[1];
  assert.equal(block, "Promise { 4 } Promise { <pending> } Promise { { a: [ 1 ] } }");
});

test("console: assert, count, group and dir", async () => {
  const r = await json("/console/methods");
  assert.ok(r.types.every((t) => t === "function"), JSON.stringify(r.types));
  await waitIn("stdout", /<<methods end>>/);
  const start = server.stdout.indexOf("<<methods>>\n") + "<<methods>>\n".length;
  const block = server.stdout.slice(start, server.stdout.indexOf("<<methods end>>"));
  assert.equal(block, ["c: 1", "c: 2", "default: 1", "group head", "  inside group", "after group", "{ d: [Object] }", ""].join("\n"));
  assert.match(server.stderr, /^Assertion failed: assertion message$/m);
  assert.ok(!server.output.includes("never shown"));
});

test("console.trace: 'Trace: message' and the caller's stack on stderr, as in Node", async () => {
  const from = server.stderr.length;
  await json("/console/trace");
  await waitIn("stderr", /<<trace end>>/, from);
  const out = server.stderr.slice(from);
  const block = out.slice(out.indexOf("Trace: traced 7"), out.indexOf("<<trace end>>"));
  const lines = block.trimEnd().split("\n");
  assert.equal(lines[0], "Trace: traced 7");
  assert.match(lines[1] ?? "", /^ {4}at tracingFunction \(.*src\/index\.js:\d+:\d+\)$/, "the first frame is the caller");
  assert.ok(lines.length >= 3, "the whole stack follows");
  assert.ok(!/hearth:/.test(block), `no runtime-internal frames:\n${block}`);
  assert.ok(!server.stdout.includes("Trace: traced 7"), "not on stdout");
});

// ---- timers -------------------------------------------------------------------------------

test("setTimeout/clearTimeout: ordering by delay, FIFO for equal delays, arguments passed", async () => {
  const r = await json("/timers/order");
  assert.deepEqual(r.log, ["t0-a", "t0-b", ["args", "x", 2, { k: true }], "t10", "t20", "nested", "t150"]);
  assert.equal(r.idType, "number");
  assert.deepEqual(r.clearJunk, [null, null, null, null], "clearing unknown ids is a no-op");
});

test("setInterval/clearInterval: stops after being cleared", async () => {
  const r = await json("/timers/interval");
  assert.deepEqual(r.ticks, ["tick1", "tick2", "tick3"]);
  assert.equal(r.n, 3);
  const z = await json("/timers/interval-zero");
  assert.ok(z.ran >= 2, `a 0ms interval repeats (ran ${z.ran} times in 50ms)`);
  assert.equal(z.after, z.ran, "no ticks after clearInterval");
});

test("setTimeout actually waits", async () => {
  const started = Date.now();
  const r = await json("/timers/delay?ms=150");
  assert.ok(r.waited >= 145, `Date.now() in the Worker advanced ${r.waited}ms`);
  assert.ok(Date.now() - started >= 145);
});

test("timers: argument errors", async () => {
  const r = await json("/timers/errors");
  assert.deepEqual(r.notFunction, ["TypeError", "TypeError"]);
  assert.deepEqual(r.microtaskNotFunction, ["TypeError", "TypeError"]);
});

test("queueMicrotask runs in order with promise reactions, before timers", async () => {
  assert.deepEqual(await json("/microtasks"), ["sync", "p1", "mt1", "p2", "mt2", "mt-nested", "p-from-mt", "timeout"]);
});

test("an exception in a timer callback is reported; the request carries on", async () => {
  const from = server.stderr.length;
  const r = await json("/throw/timer");
  assert.deepEqual(r, { survived: true });
  await waitIn("stderr", /timer-callback-marker/, from);
});

// ---- ctx ----------------------------------------------------------------------------------

test("ctx.waitUntil: work continues after the response is sent", async () => {
  const id = "w" + Date.now();
  const started = Date.now();
  const first = await json(`/wait/start?id=${id}`);
  assert.equal(first.state, "pending", "the response did not wait for the waitUntil promise");
  assert.ok(Date.now() - started < 100 * SLOW + 2000);
  await waitIn("stdout", new RegExp(`waitUntil finished ${id}`));
  assert.deepEqual(await json(`/wait/get?id=${id}`), { state: "done" });
});

test("ctx.waitUntil: a promise rejecting after the response is logged", async () => {
  const from = server.stderr.length;
  const res = await server.fetch("/wait/reject-late");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "response unaffected");
  await waitIn("stderr", /waitUntil-late-rejection-marker/, from);
  assert.equal((await json("/wait/get?id=none")).state, "missing", "the server keeps serving");
});

test("ctx.waitUntil: an already-rejected promise is logged and the response is unaffected", async () => {
  const from = server.stderr.length;
  const res = await server.fetch("/wait/reject");
  const body = await res.text();
  await waitIn("stderr", /waitUntil-rejected-marker/, from);
  assert.equal(res.status, 200, `the response became: ${body.slice(0, 300)}`);
  assert.equal(body, "response unaffected");
});

test("ctx: waitUntil and passThroughOnException exist", async () => {
  assert.deepEqual(await json("/wait/shape"), {
    waitUntil: "function",
    passThrough: "function",
    passThroughCall: true,
    noArg: "TypeError",
    isExecutionContext: true,
  });
});

test("module state persists across requests in one isolate", async () => {
  const a = (await json("/counter")).counter;
  const b = (await json("/counter")).counter;
  const c = (await json("/counter")).counter;
  assert.deepEqual([b - a, c - b], [1, 1]);
});

// ---- uncaught exceptions ------------------------------------------------------------------

async function expectUncaught(path, marker) {
  const from = server.stderr.length;
  const res = await server.fetch(path);
  const body = await res.text();
  assert.equal(res.status, 500, `${path}: status`);
  assert.match(res.headers.get("content-type"), /text\/html/);
  const rid = res.headers.get("hearth-request-id");
  assert.match(rid ?? "", /^[0-9a-f]{16}$/, `${path}: request id header`);
  assert.ok(body.includes(rid), `${path}: the page shows the request id`);
  await waitIn("stderr", new RegExp(escapeRe(marker)), from);
  const log = server.stderr.slice(from);
  assert.ok(log.includes(marker), `${path}: the error is on stderr`);
  assert.ok(log.includes(rid), `${path}: the log line names the request id`);
  return { body, log };
}

test("uncaught exceptions: 500 page with a request id; the stack is on stderr", async () => {
  const sync = await expectUncaught("/throw/sync", "Error: sync-kaboom-marker");
  assert.match(sync.log, /at .*src\/index\.js:\d+:\d+/, "the stack points into the Worker's file");
  assert.ok(!/hearth:[a-z_]+\.js/.test(sync.log), "no frames of the runtime's own modules");
  const nested = await expectUncaught("/throw/nested", "TypeError: nested-kaboom-marker");
  assert.match(nested.log, /innerMost[^\n]*src\/index\.js[^]*middle[^\n]*src\/index\.js/, "the whole stack, innermost first");
  await expectUncaught("/throw/async", "RangeError: async-kaboom-marker");
  await expectUncaught("/throw/string", "a-thrown-string-marker");
});

test("uncaught exceptions: the server keeps serving afterwards", async () => {
  await server.fetch("/throw/sync").then((r) => r.arrayBuffer());
  assert.deepEqual(await json("/wait/get?id=x"), { state: "missing" });
});

// ---- global scope -------------------------------------------------------------------------

const GLOBAL_SCOPE_ERROR = "Disallowed operation called within global scope";

for (const [what, code] of [
  ["setTimeout", "setTimeout(() => {}, 10);"],
  ["setInterval", "setInterval(() => {}, 10);"],
  ["crypto.getRandomValues", "crypto.getRandomValues(new Uint8Array(8));"],
  ["crypto.randomUUID", "crypto.randomUUID();"],
]) {
  test(`${what} in global scope fails the load with the platform's error`, async () => {
    const dir = worker(`${code}\nexport default { fetch() { return new Response("ok"); } };\n`);
    const r = await run(["dev", dir, "--port", "0"], { timeout: 5000 * SLOW });
    assert.notEqual(r.code, 0, "hearth dev exits with an error");
    assert.match(r.stderr, new RegExp(GLOBAL_SCOPE_ERROR));
    assert.match(r.stderr, /src\/index\.js:1:\d+/, "the error points at the Worker's line");
  });
}

test("the global-scope error shows the Worker's frames, not the runtime's", async () => {
  const dir = worker(`setTimeout(() => {}, 10);\nexport default { fetch() { return new Response("ok"); } };\n`);
  const r = await run(["dev", dir, "--port", "0"], { timeout: 5000 * SLOW });
  assert.match(r.stderr, new RegExp(GLOBAL_SCOPE_ERROR));
  assert.ok(!/hearth:[a-z_]+\.js/.test(r.stderr), `runtime-internal frames in:\n${r.stderr}`);
});

test("the same operations are fine inside a handler", async () => {
  const dir = worker(`
export default {
  async fetch() {
    await new Promise((r) => setTimeout(r, 1));
    const id = setInterval(() => {}, 5);
    clearInterval(id);
    return new Response(crypto.randomUUID().length + ":" + crypto.getRandomValues(new Uint8Array(3)).length);
  },
};`);
  const s = await startDev(dir, ["--threads", "1"]);
  try {
    const res = await s.fetch("/");
    assert.equal(await res.text(), "36:3");
  } finally {
    await s.stop();
  }
});

