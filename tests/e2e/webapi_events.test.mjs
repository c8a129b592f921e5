// Event, CustomEvent, EventTarget, AbortController, AbortSignal and scheduler.wait inside a
// Worker, and the places that take a signal (Request, WritableStreamDefaultController,
// pipeTo). Each route runs one scenario in the Worker and answers what it observed as JSON.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startDev, worker, run, sleep, SLOW } from "./lib/harness.mjs";

const SOURCE = String.raw`
const routes = {
  // ---- Event ----
  "/event/basics"() {
    const e = new Event("ping");
    const c = new Event("pong", { bubbles: 1, cancelable: "yes", composed: true });
    const proto = Event.prototype;
    const d = (o, k) => {
      const x = Object.getOwnPropertyDescriptor(o, k);
      return x && { get: typeof x.get, set: typeof x.set, enumerable: x.enumerable, configurable: x.configurable, value: x.value };
    };
    let noArgs = null;
    try { new Event(); } catch (err) { noArgs = err.constructor.name; }
    let callable = null;
    try { Event("x"); } catch (err) { callable = err.constructor.name; }
    let illegal = null;
    try { proto.type; } catch (err) { illegal = err.constructor.name; }
    e.preventDefault(); // not cancelable: ignored
    c.preventDefault();
    return {
      type: e.type, bubbles: e.bubbles, cancelable: e.cancelable, composed: e.composed,
      cBubbles: c.bubbles, cCancelable: c.cancelable, cComposed: c.composed,
      defaultPrevented: e.defaultPrevented, cDefaultPrevented: c.defaultPrevented, cReturnValue: c.returnValue,
      isTrusted: e.isTrusted, target: e.target, currentTarget: e.currentTarget, eventPhase: e.eventPhase,
      timeStampOk: typeof e.timeStamp === "number" && e.timeStamp > 0,
      phases: [Event.NONE, Event.CAPTURING_PHASE, Event.AT_TARGET, Event.BUBBLING_PHASE, e.AT_TARGET],
      tag: Object.prototype.toString.call(e),
      typeDesc: d(proto, "type"), tagDesc: d(proto, Symbol.toStringTag),
      globalDesc: d(globalThis, "Event"),
      noArgs, callable, illegal,
      custom: [new CustomEvent("c", { detail: { x: 1 } }).detail, new CustomEvent("c").detail,
               new CustomEvent("c") instanceof Event, Object.prototype.toString.call(new CustomEvent("c"))],
    };
  },

  // ---- EventTarget ----
  "/target/order"() {
    const t = new EventTarget();
    const log = [];
    t.addEventListener("x", () => log.push("a"));
    t.addEventListener("x", () => log.push("capture"), { capture: true });
    const b = () => log.push("b");
    t.addEventListener("x", b);
    t.addEventListener("x", b); // duplicate: ignored
    t.addEventListener("x", b, true); // capture: a different listener
    t.addEventListener("x", { handleEvent(ev) { log.push("obj:" + (this.tag) + ":" + ev.type); }, tag: "h" });
    t.addEventListener("x", null);
    t.addEventListener("y", () => log.push("other type"));
    const ev = new Event("x");
    let inside;
    t.addEventListener("x", function (e) {
      inside = { thisIsTarget: this === t, target: e.target === t, current: e.currentTarget === t, phase: e.eventPhase,
                 path: e.composedPath().length };
    });
    const r = t.dispatchEvent(ev);
    return { log, r, inside, after: { target: ev.target === t, current: ev.currentTarget, phase: ev.eventPhase, path: ev.composedPath().length } };
  },
  "/target/once"() {
    const t = new EventTarget();
    let n = 0;
    const f = () => n++;
    t.addEventListener("x", f, { once: true });
    t.dispatchEvent(new Event("x"));
    t.dispatchEvent(new Event("x"));
    // once + re-adding inside the listener
    let m = 0;
    const g = () => { m++; if (m < 3) t.addEventListener("y", g, { once: true }); };
    t.addEventListener("y", g, { once: true });
    t.dispatchEvent(new Event("y"));
    t.dispatchEvent(new Event("y"));
    t.dispatchEvent(new Event("y"));
    t.dispatchEvent(new Event("y"));
    return { n, m };
  },
  "/target/remove-during-dispatch"() {
    const t = new EventTarget();
    const log = [];
    const b = () => log.push("b");
    const c = () => log.push("c");
    t.addEventListener("x", () => { log.push("a"); t.removeEventListener("x", b); t.addEventListener("x", () => log.push("late")); });
    t.addEventListener("x", b);
    t.addEventListener("x", c);
    t.dispatchEvent(new Event("x"));
    const second = [];
    log.push("|");
    t.dispatchEvent(new Event("x"));
    // removing with the wrong capture flag does nothing
    const t2 = new EventTarget();
    let hits = 0;
    const h = () => hits++;
    t2.addEventListener("z", h, { capture: true });
    t2.removeEventListener("z", h);
    t2.dispatchEvent(new Event("z"));
    t2.removeEventListener("z", h, { capture: true });
    t2.dispatchEvent(new Event("z"));
    return { log, hits };
  },
  "/target/stop"() {
    const t = new EventTarget();
    const log = [];
    t.addEventListener("x", (e) => { log.push("1"); e.stopImmediatePropagation(); });
    t.addEventListener("x", () => log.push("2"));
    t.dispatchEvent(new Event("x"));
    // stopPropagation in a capture listener stops the non-capture ones (one path entry).
    const t2 = new EventTarget();
    t2.addEventListener("x", (e) => { log.push("cap"); e.stopPropagation(); }, true);
    t2.addEventListener("x", () => log.push("cap2"), true);
    t2.addEventListener("x", () => log.push("bubble"));
    const ev = new Event("x");
    t2.dispatchEvent(ev);
    // flags are reset after dispatch: the same event can be dispatched again
    t2.dispatchEvent(ev);
    return { log, cancelBubble: ev.cancelBubble };
  },
  "/target/cancel"() {
    const t = new EventTarget();
    t.addEventListener("x", (e) => e.preventDefault());
    const r1 = t.dispatchEvent(new Event("x", { cancelable: true }));
    const r2 = t.dispatchEvent(new Event("x"));
    const t2 = new EventTarget();
    t2.addEventListener("x", (e) => e.preventDefault(), { passive: true });
    const passive = new Event("x", { cancelable: true });
    const r3 = t2.dispatchEvent(passive);
    return { r1, r2, r3, passivePrevented: passive.defaultPrevented };
  },
  "/target/errors"() {
    const t = new EventTarget();
    const log = [];
    t.addEventListener("x", () => { throw new Error("listener-error-marker"); });
    t.addEventListener("x", { handleEvent: 5 });
    t.addEventListener("x", () => log.push("after"));
    const r = t.dispatchEvent(new Event("x"));
    const errs = {};
    const tryIt = (k, f) => { try { f(); errs[k] = "no error"; } catch (err) { errs[k] = err.name + (err.name === "InvalidStateError" ? ":" + (err instanceof DOMException) : ""); } };
    tryIt("notEvent", () => t.dispatchEvent({ type: "x" }));
    tryIt("badCallback", () => t.addEventListener("x", 5));
    tryIt("badSignal", () => t.addEventListener("x", () => {}, { signal: {} }));
    tryIt("tooFew", () => t.addEventListener("x"));
    const nested = new Event("n");
    t.addEventListener("n", () => tryIt("redispatch", () => t.dispatchEvent(nested)));
    t.dispatchEvent(nested);
    return { log, r, errs };
  },
  "/target/subclass"() {
    class Emitter extends EventTarget {
      constructor() { super(); this.count = 0; }
    }
    const e = new Emitter();
    e.addEventListener("tick", function () { this.count++; });
    e.dispatchEvent(new Event("tick"));
    return { count: e.count, isTarget: e instanceof EventTarget, tag: Object.prototype.toString.call(new EventTarget()),
             signalIsTarget: new AbortController().signal instanceof EventTarget };
  },

  // ---- AbortController / AbortSignal ----
  "/abort/basics"() {
    const c = new AbortController();
    const s = c.signal;
    const log = [];
    s.addEventListener("abort", (e) => log.push("listener:" + e.type + ":" + (e.target === s) + ":" + s.aborted));
    s.onabort = (e) => log.push("onabort:" + (e instanceof Event));
    const before = { aborted: s.aborted, reason: s.reason, same: c.signal === s };
    s.throwIfAborted();
    c.abort();
    c.abort("second"); // ignored
    let thrown;
    try { s.throwIfAborted(); } catch (err) { thrown = err === s.reason; }
    const reason = s.reason;
    const c2 = new AbortController();
    c2.abort("custom");
    let illegal;
    try { new AbortSignal(); } catch (err) { illegal = err.constructor.name; }
    return {
      before, log, thrown,
      reason: { isDOMException: reason instanceof DOMException, name: reason.name, code: reason.code, message: typeof reason.message },
      custom: c2.signal.reason,
      illegal,
      tags: [Object.prototype.toString.call(s), Object.prototype.toString.call(c)],
      instance: s instanceof AbortSignal,
      enumerable: Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted").enumerable,
      staticEnumerable: Object.getOwnPropertyDescriptor(AbortSignal, "timeout").enumerable,
    };
  },
  "/abort/onabort"() {
    const c = new AbortController();
    const log = [];
    c.signal.onabort = () => log.push("first");
    c.signal.addEventListener("abort", () => log.push("listener"));
    c.signal.onabort = () => log.push("replaced"); // keeps its position
    const h = () => log.push("gone");
    const c2 = new AbortController();
    c2.signal.onabort = h;
    c2.signal.onabort = null;
    c2.abort();
    c.abort();
    return { log, handler: typeof c.signal.onabort, nonCallable: ((c2.signal.onabort = 5), c2.signal.onabort) };
  },
  "/abort/static"() {
    const a = AbortSignal.abort();
    const b = AbortSignal.abort(42);
    return { a: [a.aborted, a.reason.name], b: [b.aborted, b.reason] };
  },
  "/abort/listener-signal"() {
    const t = new EventTarget();
    const c = new AbortController();
    let n = 0;
    t.addEventListener("x", () => n++, { signal: c.signal });
    t.dispatchEvent(new Event("x"));
    c.abort();
    t.dispatchEvent(new Event("x"));
    let m = 0;
    t.addEventListener("x", () => m++, { signal: AbortSignal.abort() });
    t.dispatchEvent(new Event("x"));
    return { n, m };
  },
  async "/abort/timeout"() {
    const started = Date.now();
    const s = AbortSignal.timeout(30);
    const early = s.aborted;
    const e = await new Promise((resolve) => s.addEventListener("abort", () => resolve(s.reason)));
    let bad = [];
    for (const v of [-1, NaN, Infinity]) {
      try { AbortSignal.timeout(v); bad.push("ok"); } catch (err) { bad.push(err.name); }
    }
    return { early, aborted: s.aborted, name: e.name, isDOMException: e instanceof DOMException, code: e.code,
             elapsed: Date.now() - started, bad };
  },
  "/abort/timeout-long/start"() {
    // A pending timeout neither delays the response nor outlives its request.
    globalThis.keptSignal = AbortSignal.timeout(60000);
    return { aborted: globalThis.keptSignal.aborted };
  },
  "/abort/timeout-long/check"() {
    return { aborted: globalThis.keptSignal.aborted, reason: globalThis.keptSignal.reason === undefined };
  },
  async "/abort/any"() {
    const a = new AbortController();
    const b = new AbortController();
    const any = AbortSignal.any([a.signal, b.signal]);
    const nested = AbortSignal.any([any]);
    const log = [];
    a.signal.addEventListener("abort", () => log.push("a"));
    b.signal.addEventListener("abort", () => log.push("b"));
    any.addEventListener("abort", () => log.push("any:" + any.reason));
    nested.addEventListener("abort", () => log.push("nested:" + nested.reason));
    const before = any.aborted;
    b.abort("from b");
    a.abort("from a");
    const pre = AbortSignal.any([new AbortController().signal, AbortSignal.abort("already")]);
    const empty = AbortSignal.any([]);
    let bad;
    try { AbortSignal.any([{}]); } catch (err) { bad = err.name; }
    // any() follows a timeout
    const t = AbortSignal.any([new AbortController().signal, AbortSignal.timeout(10)]);
    const reason = await new Promise((r) => t.addEventListener("abort", () => r(t.reason)));
    return { before, log, anyReason: any.reason, pre: [pre.aborted, pre.reason], empty: empty.aborted, bad, timeoutName: reason.name };
  },

  // ---- scheduler.wait ----
  async "/scheduler/wait"() {
    const started = Date.now();
    const r = await scheduler.wait(50);
    const elapsed = Date.now() - started;
    const c = new AbortController();
    const p = scheduler.wait(10000, { signal: c.signal });
    setTimeout(() => c.abort("stop"), 10);
    const t0 = Date.now();
    let rejected;
    try { await p; } catch (err) { rejected = err; }
    const abortedAfter = Date.now() - t0;
    let pre;
    try { await scheduler.wait(10, { signal: AbortSignal.abort() }); } catch (err) { pre = err.name; }
    let timeoutSignal;
    try { await scheduler.wait(10000, { signal: AbortSignal.timeout(20) }); } catch (err) { timeoutSignal = err.name; }
    let badSignal;
    try { await scheduler.wait(1, { signal: 1 }); } catch (err) { badSignal = err.name; }
    return { r: r === undefined, elapsed, rejected, abortedAfter, pre, timeoutSignal, badSignal,
             tag: Object.prototype.toString.call(scheduler), isPromise: scheduler.wait(0) instanceof Promise };
  },

  // ---- integrations ----
  "/request/signal"() {
    const r = new Request("https://example.com/");
    const s = r.signal;
    const c = new AbortController();
    const r2 = new Request("https://example.com/", { signal: c.signal });
    const r3 = new Request(r2);
    const r4 = r2.clone();
    const r5 = new Request(r2, { signal: null });
    c.abort("req-abort");
    let bad;
    try { new Request("https://example.com/", { signal: {} }); } catch (err) { bad = err.name; }
    return {
      isSignal: s instanceof AbortSignal, aborted: s.aborted, stable: r.signal === s,
      given: r2.signal === c.signal, r2: [r2.signal.aborted, r2.signal.reason],
      copied: r3.signal.aborted, cloned: r4.signal.aborted, nulled: r5.signal.aborted, bad,
      enumerable: Object.getOwnPropertyDescriptor(Request.prototype, "signal").enumerable,
    };
  },
  "/request/incoming"(request) {
    return { isSignal: request.signal instanceof AbortSignal, aborted: request.signal.aborted };
  },
  async "/streams/signal"() {
    let controller;
    const ws = new WritableStream({ start(c) { controller = c; } });
    const s = controller.signal;
    const log = [];
    s.addEventListener("abort", () => log.push("abort:" + s.reason));
    const before = s.aborted;
    await ws.abort("ws-reason");
    // pipeTo with a signal
    const c = new AbortController();
    const rs = new ReadableStream({ pull() {} });
    const p = rs.pipeTo(new WritableStream(), { signal: c.signal });
    c.abort("pipe-abort");
    let piped;
    try { await p; } catch (err) { piped = err; }
    let badSignal;
    try { await new ReadableStream().pipeTo(new WritableStream(), { signal: { aborted: false, addEventListener() {}, removeEventListener() {} } }); }
    catch (err) { badSignal = err.name; }
    return { isSignal: s instanceof AbortSignal, before, aborted: s.aborted, reason: s.reason, log, piped, badSignal };
  },
  async "/errors/listener"() {
    const t = new EventTarget();
    t.addEventListener("boom", () => { throw new Error("event-listener-marker"); });
    t.dispatchEvent(new Event("boom"));
    return { survived: true };
  },
};

export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    const route = routes[path];
    if (!route) return new Response("no route", { status: 404 });
    return Response.json(await route(request));
  },
};
`;

let server;
before(async () => {
  server = await startDev(worker(SOURCE), ["--threads", "1"]);
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

async function waitIn(stream, re, from = 0, timeout = 10000 * SLOW) {
  const end = Date.now() + timeout;
  while (!re.test(server[stream].slice(from))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${re} on ${stream}\n--- ${stream} ---\n${server[stream].slice(from)}`);
    await sleep(10);
  }
}

test("Event: init dictionary, flags, constants, descriptors, CustomEvent", async () => {
  const r = await json("/event/basics");
  assert.equal(r.type, "ping");
  assert.deepEqual([r.bubbles, r.cancelable, r.composed], [false, false, false]);
  assert.deepEqual([r.cBubbles, r.cCancelable, r.cComposed], [true, true, true]);
  assert.equal(r.defaultPrevented, false, "preventDefault on a non-cancelable event is ignored");
  assert.equal(r.cDefaultPrevented, true);
  assert.equal(r.cReturnValue, false);
  assert.equal(r.isTrusted, false);
  assert.equal(r.target, null);
  assert.equal(r.currentTarget, null);
  assert.equal(r.eventPhase, 0);
  assert.equal(r.timeStampOk, true);
  assert.deepEqual(r.phases, [0, 1, 2, 3, 2]);
  assert.equal(r.tag, "[object Event]");
  assert.deepEqual(r.typeDesc, { get: "function", set: "undefined", enumerable: true, configurable: true });
  assert.deepEqual(r.tagDesc, { get: "undefined", set: "undefined", enumerable: false, configurable: true, value: "Event" });
  assert.deepEqual(r.globalDesc, { get: "undefined", set: "undefined", enumerable: false, configurable: true });
  assert.equal(r.noArgs, "TypeError");
  assert.equal(r.callable, "TypeError");
  assert.equal(r.illegal, "TypeError");
  assert.deepEqual(r.custom, [{ x: 1 }, null, true, "[object CustomEvent]"]);
});

test("EventTarget: capture listeners first, then insertion order; duplicates ignored; handleEvent objects", async () => {
  const r = await json("/target/order");
  assert.deepEqual(r.log, ["capture", "b", "a", "b", "obj:h:x"]);
  assert.equal(r.r, true);
  assert.deepEqual(r.inside, { thisIsTarget: true, target: true, current: true, phase: 2, path: 1 });
  assert.deepEqual(r.after, { target: true, current: null, phase: 0, path: 0 });
});

test("EventTarget: once listeners run once (and may re-add themselves)", async () => {
  assert.deepEqual(await json("/target/once"), { n: 1, m: 3 });
});

test("EventTarget: removal during dispatch skips the removed listener; added ones wait for the next dispatch", async () => {
  const r = await json("/target/remove-during-dispatch");
  assert.deepEqual(r.log, ["a", "c", "|", "a", "c", "late"]);
  assert.equal(r.hits, 1, "removeEventListener matches on the capture flag");
});

test("EventTarget: stopImmediatePropagation and stopPropagation", async () => {
  const r = await json("/target/stop");
  assert.deepEqual(r.log, ["1", "cap", "cap2", "cap", "cap2"]);
  assert.equal(r.cancelBubble, false, "the flag is cleared after dispatch");
});

test("EventTarget: dispatchEvent returns false when a cancelable event was canceled; passive listeners cannot", async () => {
  assert.deepEqual(await json("/target/cancel"), { r1: false, r2: true, r3: true, passivePrevented: false });
});

test("EventTarget: a throwing listener is reported and the others still run; argument errors throw", async () => {
  const from = server.stderr.length;
  const r = await json("/target/errors");
  assert.deepEqual(r.log, ["after"]);
  assert.equal(r.r, true);
  assert.deepEqual(r.errs, {
    notEvent: "TypeError",
    badCallback: "TypeError",
    badSignal: "TypeError",
    tooFew: "TypeError",
    redispatch: "InvalidStateError:true",
  });
  await waitIn("stderr", /listener-error-marker/, from);
  assert.match(server.stderr.slice(from), /handleEvent/);
});

test("EventTarget: a listener's exception does not fail the request", async () => {
  const from = server.stderr.length;
  assert.deepEqual(await json("/errors/listener"), { survived: true });
  await waitIn("stderr", /event-listener-marker/, from);
});

test("EventTarget: subclassable; AbortSignal is an EventTarget", async () => {
  assert.deepEqual(await json("/target/subclass"), { count: 1, isTarget: true, tag: "[object EventTarget]", signalIsTarget: true });
});

test("AbortController: abort() once, default AbortError reason, listeners then throwIfAborted", async () => {
  const r = await json("/abort/basics");
  assert.deepEqual(r.before, { aborted: false, same: true });
  assert.deepEqual(r.log, ["listener:abort:true:true", "onabort:true"]);
  assert.equal(r.thrown, true);
  assert.deepEqual(r.reason, { isDOMException: true, name: "AbortError", code: 20, message: "string" });
  assert.equal(r.custom, "custom");
  assert.equal(r.illegal, "TypeError");
  assert.deepEqual(r.tags, ["[object AbortSignal]", "[object AbortController]"]);
  assert.equal(r.instance, true);
  assert.equal(r.enumerable, true);
  assert.equal(r.staticEnumerable, true);
});

test("AbortSignal: onabort keeps its place among listeners; null removes it", async () => {
  assert.deepEqual(await json("/abort/onabort"), { log: ["replaced", "listener"], handler: "function", nonCallable: null });
});

test("AbortSignal.abort(reason)", async () => {
  assert.deepEqual(await json("/abort/static"), { a: [true, "AbortError"], b: [true, 42] });
});

test("addEventListener's signal removes the listener on abort; an aborted signal adds nothing", async () => {
  assert.deepEqual(await json("/abort/listener-signal"), { n: 1, m: 0 });
});

test("AbortSignal.timeout fires after the delay with a TimeoutError; bad delays throw", async () => {
  const r = await json("/abort/timeout");
  assert.equal(r.early, false);
  assert.equal(r.aborted, true);
  assert.equal(r.name, "TimeoutError");
  assert.equal(r.isDOMException, true);
  assert.equal(r.code, 23);
  assert.ok(r.elapsed >= 29, `fired after ${r.elapsed}ms`);
  assert.deepEqual(r.bad, ["TypeError", "TypeError", "TypeError"]);
});

test("a pending AbortSignal.timeout does not hold the response; the signal stays usable later", async () => {
  const started = Date.now();
  assert.deepEqual(await json("/abort/timeout-long/start"), { aborted: false });
  assert.ok(Date.now() - started < 5000 * SLOW);
  assert.deepEqual(await json("/abort/timeout-long/check"), { aborted: false, reason: true });
});

test("AbortSignal.any follows the first source to abort, after that source's own listeners", async () => {
  const r = await json("/abort/any");
  assert.equal(r.before, false);
  assert.deepEqual(r.log, ["b", "any:from b", "nested:from b", "a"]);
  assert.equal(r.anyReason, "from b");
  assert.deepEqual(r.pre, [true, "already"]);
  assert.equal(r.empty, false);
  assert.equal(r.bad, "TypeError");
  assert.equal(r.timeoutName, "TimeoutError");
});

test("scheduler.wait resolves after at least the delay and rejects with the signal's reason", async () => {
  const r = await json("/scheduler/wait");
  assert.equal(r.r, true);
  assert.ok(r.elapsed >= 49, `resolved after ${r.elapsed}ms`);
  assert.equal(r.rejected, "stop");
  assert.ok(r.abortedAfter < 5000, `rejected after ${r.abortedAfter}ms`);
  assert.equal(r.pre, "AbortError");
  assert.equal(r.timeoutSignal, "TimeoutError");
  assert.equal(r.badSignal, "TypeError");
  assert.equal(r.tag, "[object Scheduler]");
  assert.equal(r.isPromise, true);
});

test("Request.signal: never aborting unless given; carried by new Request(req) and clone()", async () => {
  assert.deepEqual(await json("/request/signal"), {
    isSignal: true,
    aborted: false,
    stable: true,
    given: true,
    r2: [true, "req-abort"],
    copied: true,
    cloned: true,
    nulled: false,
    bad: "TypeError",
    enumerable: true,
  });
  assert.deepEqual(await json("/request/incoming"), { isSignal: true, aborted: false });
});

test("WritableStreamDefaultController.signal aborts with the stream; pipeTo takes a real AbortSignal only", async () => {
  assert.deepEqual(await json("/streams/signal"), {
    isSignal: true,
    before: false,
    aborted: true,
    reason: "ws-reason",
    log: ["abort:ws-reason"],
    piped: "pipe-abort",
    badSignal: "TypeError",
  });
});

test("AbortSignal.timeout in global scope fails the load with the platform's error", async () => {
  const dir = worker(`AbortSignal.timeout(10);\nexport default { fetch() { return new Response("ok"); } };\n`);
  const r = await run(["dev", dir, "--port", "0"], { timeout: 5000 * SLOW });
  assert.notEqual(r.code, 0, "hearth dev exits with an error");
  assert.match(r.stderr, /Disallowed operation called within global scope/);
});

test("the new globals are lazy, non-enumerable and present", async () => {
  const dir = worker(`
const names = ["Event", "CustomEvent", "EventTarget", "AbortController", "AbortSignal", "scheduler"];
const listed = names.map((n) => Object.getOwnPropertyNames(globalThis).includes(n));
export default { fetch() {
  return Response.json({ listed, enumerable: names.filter((n) => Object.keys(globalThis).includes(n)),
    types: names.map((n) => typeof globalThis[n]) });
} };`);
  const s = await startDev(dir);
  try {
    const res = await s.fetch("/");
    assert.deepEqual(await res.json(), {
      listed: [true, true, true, true, true, true],
      enumerable: [],
      types: ["function", "function", "function", "function", "function", "object"],
    });
  } finally {
    await s.stop();
  }
});

test("in global scope, a listener's exception is logged and the Worker loads", async () => {
  const dir = worker(`
const t = new EventTarget();
t.addEventListener("x", () => { throw new Error("global-listener-marker"); });
t.dispatchEvent(new Event("x"));
const c = new AbortController();
c.signal.addEventListener("abort", () => { throw new Error("global-abort-marker"); });
c.abort();
export default { fetch() { return new Response("loaded " + c.signal.aborted); } };`);
  const s = await startDev(dir, ["--threads", "1"]);
  try {
    const res = await s.fetch("/");
    assert.equal(await res.text(), "loaded true");
    const end = Date.now() + 5000 * SLOW;
    while (!/global-abort-marker/.test(s.output) && Date.now() < end) await sleep(10);
    assert.match(s.output, /Uncaught exception in an event listener: Error: global-listener-marker/);
    assert.match(s.output, /global-abort-marker/);
  } finally {
    await s.stop();
  }
});
