// Running a Worker's fetch handler for one request: the ExecutionContext (waitUntil,
// passThroughOnException), turning the returned Response into an `ops.respond`, reporting
// exceptions, and telling C when the invocation is complete.
import ops from "./ops.js";
import { newIncomingRequest } from "./request.js";
import { Response, responseForWire } from "./response.js";
import { reportException } from "./errors.js";
import { forgetInvocationTimers } from "./timers.js";
import { codingOfList, createCodec, pushAll } from "./content_coding.js";
import { concatBytes } from "./bytes.js";

// Queued output above which a streamed body waits for the socket to drain.
const STREAM_HIGH_WATER = 256 * 1024;
const drainWaiters = new Map(); // invocation id → resolve

// dispatch("drain"): the client took what was queued; the body may continue.
export function onDrain(id) {
  const resolve = drainWaiters.get(id);
  if (resolve) {
    drainWaiters.delete(id);
    resolve();
  }
}

function waitDrain(id) {
  return new Promise((resolve) => {
    drainWaiters.set(id, resolve);
    ops.waitDrain(id);
  });
}

// Writes a streamed body out as it is produced: the socket's backpressure reaches the
// stream (a slow client slows the producer), and an error midway closes the connection.
// With a codec (Content-Encoding), each chunk is compressed on its way.
async function streamOut(state, wire, codec) {
  const id = state.id;
  let reader;
  try {
    reader = ops.loadModule("streams_setup.js").acquireBodyReader(wire.stream);
  } catch (err) {
    codec?.free();
    ops.respondAbort(id);
    reportException(ops, id, err);
    return;
  }
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk === null) break;
      const queued = codec === null ? ops.respondWrite(id, chunk) : writeEncoded(id, codec, chunk);
      if (queued < 0) {
        // The client went away: stop producing.
        await reader.cancel(new Error("The client disconnected before the response was complete."));
        ops.respondAbort(id);
        return;
      }
      if (queued > STREAM_HIGH_WATER) await waitDrain(id);
    }
    if (codec !== null) {
      const rest = codec.finish();
      if (rest.byteLength > 0) ops.respondWrite(id, rest);
    }
    ops.respondEnd(id);
  } catch (err) {
    codec?.free();
    ops.respondAbort(id);
    reportException(ops, id, err, { prefix: "The response body stream failed after the response started: " });
  }
}

// The response's body is native code's to move (fetch.js spliceSource): the invocation stays
// open in C until it is written.
function splice(state, wire, source) {
  ops.respondStart(state.id, wire.status, wire.headers, wire.length >= 0 ? wire.length : source.length, wire.statusText);
  source.spliceTo(state.id);
  maybeDone(state);
}

// Compresses a chunk and writes what comes out: bytes queued, or -1 once the client is gone.
function writeEncoded(id, codec, chunk) {
  let queued = 0;
  codec.push(chunk, (piece) => {
    const q = ops.respondWrite(id, piece);
    queued = queued < 0 ? queued : q;
  });
  return queued;
}

// The whole body (a string or bytes), compressed.
function encodeWhole(coding, body) {
  const codec = createCodec(coding, false, "Content-Encoding");
  const bytes = typeof body === "string" ? new Uint8Array(ops.utf8Encode(body)) : body;
  return concatBytes([pushAll(codec, bytes), codec.finish()]);
}

// Per-invocation bookkeeping, by invocation id.
const live = new Map();

class InvocationState {
  constructor(id) {
    this.id = id;
    this.responded = false;
    this.waiting = 0; // unsettled waitUntil promises
    this.passThrough = false;
  }
}

function maybeDone(state) {
  if (!state.responded || state.waiting > 0) return;
  live.delete(state.id);
  forgetInvocationTimers(state.id);
  ops.invocationDone(state.id);
}

// Keeps the invocation open until `promise` (the runtime's own work: a body being written, a
// socket still open) settles.
function holdOpen(state, promise) {
  state.waiting++;
  const done = () => {
    state.waiting--;
    maybeDone(state);
  };
  promise.then(done, done);
}

// The same for invocation `id`: service.js's streams still being written to the other side of
// a service binding.
export function keepOpenUntil(id, promise) {
  const state = live.get(id);
  if (state) holdOpen(state, promise);
}

export class ExecutionContext {
  #state;
  constructor(state) {
    this.#state = state;
    this.props = {};
  }

  waitUntil(promise) {
    if (arguments.length < 1) {
      throw new TypeError(
        "Failed to execute 'waitUntil' on 'ExecutionContext': parameter 1 is not of type 'Promise'.",
      );
    }
    const state = this.#state;
    state.waiting++;
    Promise.resolve(promise).then(
      () => {
        state.waiting--;
        maybeDone(state);
      },
      (err) => {
        state.waiting--;
        // A failed waitUntil does not fail the request, but it is an uncaught error.
        reportException(ops, state.id, err, { prefix: "Uncaught (in waitUntil) ", logOnly: true });
        maybeDone(state);
      },
    );
  }

  passThroughOnException() {
    this.#state.passThrough = true;
  }
}

function fail(state, err) {
  if (state.responded) {
    reportException(ops, state.id, err);
    return;
  }
  state.responded = true;
  if (state.passThrough) {
    reportException(ops, state.id, err, {
      suffix: "\n(passThroughOnException() was called, but hearth has no origin to pass the request to)",
    });
  } else {
    reportException(ops, state.id, err);
  }
  maybeDone(state);
}

function send(state, response) {
  if (state.responded) return;
  if (!(response instanceof Response)) {
    fail(
      state,
      new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'."),
    );
    return;
  }
  let wire;
  try {
    wire = responseForWire(response);
  } catch (err) {
    fail(state, err);
    return;
  }
  if (wire.webSocket) {
    // A WebSocket handshake (websocket.js): the connection becomes the socket, and the
    // invocation lives until it is closed.
    let closed;
    try {
      if (state.buffered) throw new TypeError("hearth does not pass WebSockets through service bindings yet.");
      closed = ops.loadModule("websocket.js").upgradeResponse(state.id, wire);
    } catch (err) {
      fail(state, err);
      return;
    }
    state.responded = true;
    holdOpen(state, closed);
    return;
  }
  state.responded = true;
  // Content-Encoding gzip or br (content_coding.js): the body is compressed on its way out,
  // unless it already is (encodeBody "manual"; a fetched body spliced as the origin sent it).
  // Bodies crossing a service binding are not encoded: that happens at the edge, once.
  const coding = wire.encodeManually || state.buffered ? null : codingOfList(wire.headers);
  if (wire.native !== undefined) {
    // A fetched body returned as fetch() gave it: C moves it to the client (fetch.js
    // spliceSource) if its bytes are already in the coding the response declares.
    if (!state.buffered && wire.native.source.coding === coding) {
      splice(state, wire, wire.native.source);
      return;
    }
    wire.stream = wire.native.make();
  }
  if (wire.stream && state.buffered) {
    // A service binding's callee: the body streams to the caller (service.js).
    let sent;
    try {
      sent = ops.loadModule("service.js").respondToCaller(state.id, wire);
    } catch (err) {
      state.responded = false;
      fail(state, err);
      return;
    }
    holdOpen(state, sent);
    return;
  }
  if (wire.stream) {
    // The same for the stream of a fetched body nobody read (`new Response(r.body, r)`).
    const source = ops.loadModule("streams_setup.js").takeNativeSource(wire.stream, (s) => s.coding === coding);
    if (source !== undefined) {
      splice(state, wire, source);
      return;
    }
    const codec = coding === null ? null : createCodec(coding, false, "Content-Encoding");
    ops.respondStart(state.id, wire.status, wire.headers, codec === null ? wire.length : -1, wire.statusText);
    holdOpen(state, streamOut(state, wire, codec));
    return;
  }
  let body = wire.body;
  if (coding !== null && body !== null) {
    try {
      body = encodeWhole(coding, body);
    } catch (err) {
      state.responded = false;
      fail(state, err);
      return;
    }
  }
  ops.respond(state.id, wire.status, wire.headers, body, wire.statusText);
  maybeDone(state);
}

// The default export's `method` ("fetch", "tail") as a one-argument function, or null.
function findHandler(worker, ctx, method) {
  const exported = worker.namespace.default;
  if (typeof exported === "function" && exported.prototype && typeof exported.prototype[method] === "function") {
    // `export default class extends WorkerEntrypoint`: one instance per event.
    const instance = new exported(ctx, worker.env);
    return (arg) => instance[method](arg);
  }
  if (exported && typeof exported[method] === "function") {
    return (arg) => exported[method](arg, worker.env, ctx);
  }
  return null;
}

export function startFetch(worker, id, method, url, rawHeaders, body, clientIp, buffered = false) {
  const state = new InvocationState(id);
  state.buffered = buffered;
  live.set(id, state);
  const ctx = new ExecutionContext(state);
  let result;
  try {
    const handler = findHandler(worker, ctx, "fetch");
    if (!handler) {
      throw new Error(
        "Handler does not export a fetch() function. (Add `export default { async fetch(request, env, ctx) { ... } }` to the main module.)",
      );
    }
    const request = newIncomingRequest(method, url, rawHeaders, body, clientIp);
    result = handler(request);
  } catch (err) {
    fail(state, err);
    return;
  }
  if (result instanceof Response) {
    send(state, result);
  } else if (result !== null && typeof result === "object" && typeof result.then === "function") {
    Promise.resolve(result).then(
      (response) => send(state, response),
      (err) => fail(state, err),
    );
  } else {
    send(state, result);
  }
}

// dispatch("rpc"): a service binding calls `method` of the callee's entrypoint class (the
// default export, or the named export the binding's `entrypoint` gives). Arguments and
// result cross as the engine's structured clone (service.js); a thrown error goes back too.
const RPC_RESERVED = new Set(["constructor", "fetch", "scheduled", "tail", "queue", "ctx", "env"]);

export function startRpc(worker, id, entrypoint, method, argsBytes) {
  const state = new InvocationState(id);
  live.set(id, state);
  const ctx = new ExecutionContext(state);
  const svc = ops.loadModule("service.js");
  const finish = (ok, value) => {
    if (state.responded) return;
    state.responded = true;
    const out = svc.rpcResult(ok, value);
    ops.serviceReturn(id, out.ok, out.bytes, out.pipes);
    // The result's streams are written after the return, while the invocation stays open.
    if (out.pump !== null) holdOpen(state, out.pump());
    maybeDone(state);
  };
  try {
    const exported = entrypoint ? worker.namespace[entrypoint] : worker.namespace.default;
    if (typeof exported !== "function" || !exported.prototype) {
      throw new TypeError(
        entrypoint
          ? `The Worker has no entrypoint class exported as "${entrypoint}".`
          : "The RPC receiver does not implement the method: the default export is not a class (use `export default class extends WorkerEntrypoint`).",
      );
    }
    const instance = new exported(ctx, worker.env);
    const fn = RPC_RESERVED.has(method) || method.startsWith("#") ? undefined : instance[method];
    if (typeof fn !== "function" || Object.hasOwn(Object.prototype, method)) {
      throw new TypeError(`The RPC receiver does not implement the method "${method}".`);
    }
    const args = svc.rpcArguments(argsBytes);
    Promise.resolve(fn.apply(instance, args)).then(
      (v) => finish(true, v),
      (err) => finish(false, err),
    );
  } catch (err) {
    finish(false, err);
  }
}

// dispatch("tail"): a Tail Worker receives the trace events of the Workers it consumes. There
// is no response; the invocation ends when tail() and every waitUntil promise have settled.
// The controller scheduled() receives, as on the platform.
class ScheduledController {
  constructor(cron, scheduledTime) {
    this.cron = cron;
    this.scheduledTime = scheduledTime;
  }
  noRetry() {}
}

// scheduled(controller, env, ctx): from a cron trigger, or from hearth dev's /__scheduled, in
// which case the request is answered once the handler settled ("Ran scheduled event", or the
// error page as for fetch).
export function startScheduled(worker, id, cron, scheduledTime, viaHttp) {
  const state = new InvocationState(id);
  state.responded = !viaHttp;
  live.set(id, state);
  const ctx = new ExecutionContext(state);
  const done = () => {
    if (!state.responded) {
      state.responded = true;
      ops.respond(id, 200, ["content-type", "text/plain;charset=UTF-8"], "Ran scheduled event", "");
    }
    maybeDone(state);
  };
  try {
    const handler = findHandler(worker, ctx, "scheduled");
    if (!handler) throw new Error("Handler does not export a scheduled() function, but a cron trigger ran it.");
    Promise.resolve(handler(new ScheduledController(cron, scheduledTime))).then(done, (err) => fail(state, err));
  } catch (err) {
    fail(state, err);
  }
}

export function startTail(worker, id, eventsJson) {
  const state = new InvocationState(id);
  state.responded = true;
  live.set(id, state);
  const ctx = new ExecutionContext(state);
  state.waiting++;
  const finish = () => {
    state.waiting--;
    maybeDone(state);
  };
  const onError = (err) => {
    reportException(ops, id, err, { prefix: "Uncaught (in tail) ", logOnly: true });
    finish();
  };
  try {
    const handler = findHandler(worker, ctx, "tail");
    if (!handler) throw new Error("Handler does not export a tail() function, but a Worker lists it in tail_consumers.");
    Promise.resolve(handler(JSON.parse(eventsJson))).then(finish, onError);
  } catch (err) {
    onError(err);
  }
}
