// Service bindings (docs/runtime-apis.md): env.X, where X is bound with [[services]] to another
// Worker of the same hearth. env.X.fetch(input, init) runs that Worker's fetch() with the
// Request built from the arguments; env.X.anyOtherName(...args) calls a method of its
// `export default class extends WorkerEntrypoint` (or of the binding's named entrypoint).
// The callee runs on the same thread (src/platform/service_ops.c); its answer comes back as a
// "serviceReply" event carrying the ticket of the call.
//
// RPC values cross between the two realms as the engine's structured clone
// (ops.serialize / ops.deserialize, src/js/clone.cpp): cycles and shared references are kept,
// as are Map, Set, Date, RegExp, ArrayBuffer, typed arrays, BigInt, undefined, -0 and Errors
// (name, message, stack); functions and symbols are refused with a DataCloneError.
// ReadableStreams, WritableStreams, Requests and Responses in RPC values cross with their
// bodies in pipes (see "RPC values" below).
//
// Bodies that are streams cross as pipes (src/platform/service_pipe.h): the callee's Response
// body reaches the caller chunk by chunk as it is produced, and a caller's request body that
// is a stream reaches the callee the same way. The writer stops while more than
// PIPE_HIGH_WATER bytes are queued, so a slow reader slows the producer; a reader that cancels
// (or whose invocation ends) cancels the writer's stream; a writer's error errors the reader's.
import ops from "./ops.js";
import { reportException } from "./errors.js";
import { concatBytes } from "./bytes.js";

const waiting = new Map(); // ticket → { resolve, reject, binding, rpc }
let nextTicket = 1;

const streams = () => ops.loadModule("streams_setup.js");

// ---- structured clone --------------------------------------------------------------------

// An error of the engine's serializer as the DataCloneError the platform throws.
function dataCloneError(err) {
  if (err instanceof DOMException) return err;
  if (err instanceof Error) return new DOMException(err.message, "DataCloneError");
  return err;
}

// A deserialized Error named DataCloneError is given back its class.
function revive(value) {
  if (value instanceof Error && value.name === "DataCloneError" && !(value instanceof DOMException)) {
    return new DOMException(value.message, "DataCloneError");
  }
  return value;
}

const BUILTIN_ERRORS = [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError];

// What a thrown value becomes for the other side, as in workerd: an instance of a built-in
// error class (keeping its own name) crosses as itself; any other error as an Error whose
// message is "Name: message"; a DOMException as itself; any other value as an Error of its text.
function crossingError(err) {
  if (err instanceof DOMException) return err;
  if (err instanceof Error) {
    const proto = Object.getPrototypeOf(err);
    if (BUILTIN_ERRORS.some((C) => C.prototype === proto && err.name === C.prototype.name)) return err;
    const plain = new Error(`${err.name}: ${err.message}`);
    if (typeof err.stack === "string") plain.stack = err.stack;
    return plain;
  }
  return new Error(String(err));
}

// The bytes of a thrown value; one that cannot be cloned crosses as an Error of its text.
function serializeThrown(thrown) {
  try {
    return ops.serialize(crossingError(thrown));
  } catch {
    let text;
    try {
      text = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
    } catch {
      text = "an exception that could not be serialized";
    }
    return ops.serialize(new Error(text));
  }
}

// Callee side: the arguments of an RPC call (invocation.js startRpc).
export function rpcArguments(bytes) {
  const args = decodeRpcValue(bytes);
  if (!Array.isArray(args)) throw new TypeError("RPC arguments must be an array.");
  return args;
}

// Callee side: what goes back for a settled method → { ok, bytes, pipes, pump }, pump as
// for encodeRpcValue (null when the result has no streams).
export function rpcResult(ok, value) {
  if (!ok) return { ok: false, bytes: serializeThrown(value), pipes: null, pump: null };
  try {
    return { ok: true, ...encodeRpcValue(value) };
  } catch (err) {
    return { ok: false, bytes: serializeThrown(dataCloneError(err)), pipes: null, pump: null };
  }
}

// ---- pipes: streamed bodies ---------------------------------------------------------------

// Queued bytes above which a writer waits for the reader (the C side wakes it at 32 KiB).
const PIPE_HIGH_WATER = 128 * 1024;

const readers = new Map(); // pipe id → { wake: function | null }
const writers = new Map(); // pipe id → { drain: function | null, cancelled, reader }

// dispatch("servicePipe", id, side, cancelled): the other side of a pipe moved.
export function onPipe(id, side, cancelled) {
  if (side === "read") {
    const rec = readers.get(id);
    const wake = rec?.wake;
    if (rec) rec.wake = null;
    wake?.();
    return;
  }
  const rec = writers.get(id);
  if (!rec) return;
  if (cancelled && !rec.cancelled) {
    rec.cancelled = true;
    rec.reader.cancel(new Error("The service binding's reader cancelled the body.")).catch(() => {});
  }
  const drain = rec.drain;
  rec.drain = null;
  drain?.();
}

function pipeFailure(bytes) {
  if (bytes.byteLength === 0) {
    return new Error("The Worker on the other side of the service binding ended before the body was complete.");
  }
  try {
    return revive(ops.deserialize(bytes));
  } catch (err) {
    return err;
  }
}

// What a stream received over RPC fails with, whatever broke on the other side (workerd's
// words: the sender's error does not cross).
const RPC_STREAM_FAILURE = "ReadableStream received over RPC disconnected prematurely.";

function readPipe(id, rec) {
  const r = ops.pipeRead(id);
  if (r instanceof ArrayBuffer) return new Uint8Array(r);
  if (r === 1) {
    readers.delete(id);
    return null;
  }
  if (Array.isArray(r)) {
    readers.delete(id);
    return Promise.reject(rec.rpc ? new Error(RPC_STREAM_FAILURE) : pipeFailure(r[0]));
  }
  return new Promise((resolve) => {
    rec.wake = resolve;
  }).then(() => (readers.has(id) ? readPipe(id, rec) : null));
}

// The ReadableStream of the body that arrives through pipe `id`. Returned untouched as a
// Worker's response, the body goes from the pipe to the client in C (invocation.js asks the
// stream for its `source`): no JavaScript runs per chunk on this side.
export function pipeStream(id, { rpc = false } = {}) {
  const rec = { wake: null, rpc };
  readers.set(id, rec);
  const source = {
    length: -1,
    coding: null, // bodies cross between Workers unencoded (invocation.js)
    spliceTo(invocationId) {
      readers.delete(id);
      ops.pipeSplice(id, invocationId);
    },
  };
  return streams().createNativeReadableStream(
    () => readPipe(id, rec),
    () => {
      if (!readers.has(id)) return;
      readers.delete(id);
      ops.pipeCancel(id);
      const wake = rec.wake;
      rec.wake = null;
      wake?.();
    },
    { source },
  );
}

// Writes what `reader` (acquireBodyReader) produces into pipe `id`, waiting while the reader
// on the other side is behind. Resolves when done or cancelled; rejects with the source's
// error, after passing it on to the other side.
async function pumpInto(id, reader) {
  const rec = { drain: null, cancelled: false, reader };
  writers.set(id, rec);
  try {
    for (;;) {
      const chunk = await reader.read();
      if (rec.cancelled || chunk === null) break;
      if (chunk.byteLength === 0) continue;
      const queued = ops.pipeWrite(id, chunk);
      if (queued < 0) {
        rec.cancelled = true;
        await reader.cancel(new Error("The service binding's reader cancelled the body.")).catch(() => {});
        break;
      }
      if (queued > PIPE_HIGH_WATER) {
        await new Promise((resolve) => {
          rec.drain = resolve;
          ops.pipeWaitDrain(id);
        });
      }
    }
    ops.pipeClose(id);
  } catch (err) {
    ops.pipeError(id, serializeThrown(err));
    throw err;
  } finally {
    writers.delete(id);
  }
}

// Callee side (invocation.js send): a Response whose body is a stream goes to the caller as
// it is produced. Throws (before the head is sent) if the body cannot be read.
export function respondToCaller(invocationId, wire) {
  const reader = streams().acquireBodyReader(wire.stream);
  const pipe = ops.serviceRespondStart(invocationId, wire.status, wire.headers, wire.statusText);
  if (!pipe) {
    reader.cancel(new Error("The service binding's caller is gone.")).catch(() => {});
    return Promise.resolve();
  }
  return pumpInto(pipe, reader).catch((err) => {
    reportException(ops, invocationId, err, { prefix: "The response body stream failed after the response started: " });
  });
}

// ---- the caller ---------------------------------------------------------------------------

function call(binding, kind, a, b, c, d, e) {
  const ticket = nextTicket++;
  const why = ops.serviceCall(ticket, binding.service, kind, a, b, c, d, e);
  if (why) throw new Error(`Service binding "${binding.name}" could not call "${binding.service}": ${why}`);
  return new Promise((resolve, reject) => waiting.set(ticket, { resolve, reject, binding, rpc: kind === "rpc" }));
}

async function serviceFetch(binding, input, init) {
  const request = new Request(input, init);
  const headers = [];
  for (const [name, value] of request.headers) headers.push(name, value);
  const stream = request.body;
  if (stream === null) return call(binding, "fetch", request.method, request.url, headers, null);
  // A body that is all there crosses whole; one still being produced streams through a pipe.
  const chunks = streams().tryTakeBufferedChunks(stream);
  if (chunks !== null) {
    const body = concatBytes(chunks);
    return call(binding, "fetch", request.method, request.url, headers, body);
  }
  const reader = streams().acquireBodyReader(stream);
  const pipe = ops.pipeOpen(false);
  let reply;
  try {
    reply = call(binding, "fetch", request.method, request.url, headers, pipe);
  } catch (err) {
    ops.pipeCancel(pipe);
    reader.cancel(err).catch(() => {});
    throw err;
  }
  // The source's error reaches the callee through the pipe.
  pumpInto(pipe, reader).catch(() => {});
  return reply;
}

// ---- RPC values ---------------------------------------------------------------------------
//
// An RPC value (the arguments, or a method's result) crosses as the structured clone of
// [value, markers, descriptors]. A ReadableStream, WritableStream, Request or Response in it is
// replaced in the clone by a marker, an empty object listed in `markers`; structured clone
// keeps identity within one value, so the receiver finds each marker again and puts in its
// place what the descriptor at the same index describes: a stream reading a pipe, or a
// Request or Response (method, URL, status, headers) whose body reads one. The sender pumps
// each stream or body into its pipe, with backpressure, as for bodies. A WritableStream crosses
// the other way: the receiver gets a WritableStream writing into a pipe that the sender reads
// into the original.

// What crosses as a descriptor: "stream", "writable", "request", "response", or null (cloned).
function passedAs(v, s) {
  if (s.isReadableStream(v)) return "stream";
  if (v instanceof s.WritableStream) return "writable";
  if (v instanceof Request) return "request";
  if (v instanceof Response) return "response";
  return null;
}

// The objects of `value` that cross as descriptors, found where structured clone looks (array
// elements, own enumerable properties, Map entries, Set members).
function passedObjectsIn(value) {
  const found = [];
  if (value === null || typeof value !== "object") return found;
  const s = streams();
  const seen = new Set();
  const pending = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (seen.has(v)) continue;
    seen.add(v);
    if (passedAs(v, s) !== null) {
      found.push(v);
      continue;
    }
    const push = (x) => {
      if (x !== null && typeof x === "object") pending.push(x);
    };
    if (Array.isArray(v)) {
      forEachIndex(v, (i) => push(v[i]));
    } else if (v instanceof Map) {
      for (const [k, x] of v) {
        push(k);
        push(x);
      }
    } else if (v instanceof Set) {
      for (const x of v) push(x);
    } else if (!ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) {
      for (const key of Object.keys(v)) push(v[key]);
    }
  }
  return found;
}

// Calls fn(i) for the indexes of an array's elements: all of them for an ordinary array, only
// those present for a long one, which may be sparse (a[1e9] = x must not cost 1e9 steps).
function forEachIndex(array, fn) {
  if (array.length <= 65536) {
    for (let i = 0; i < array.length; i++) fn(i);
    return;
  }
  for (const key of Object.keys(array)) if (String(key >>> 0) === key) fn(key >>> 0);
}

// Objects whose clone structured clone makes on its own (nothing passed is inside them).
function isLeaf(v) {
  return ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp || v instanceof Error;
}

// A copy of `root` with each passed object replaced by its marker (markerOf), sharing and
// cycles kept; the sender's own objects are left as they are.
function withMarkers(root, markerOf) {
  const copies = new Map();
  const copy = (v) => {
    if (v === null || typeof v !== "object") return v;
    const marker = markerOf.get(v);
    if (marker !== undefined) return marker;
    let out = copies.get(v);
    if (out !== undefined) return out;
    if (isLeaf(v)) return v;
    if (Array.isArray(v)) {
      out = new Array(v.length);
      copies.set(v, out);
      forEachIndex(v, (i) => (out[i] = copy(v[i])));
    } else if (v instanceof Map) {
      out = new Map();
      copies.set(v, out);
      for (const [k, x] of v) out.set(copy(k), copy(x));
    } else if (v instanceof Set) {
      out = new Set();
      copies.set(v, out);
      for (const x of v) out.add(copy(x));
    } else {
      out = {};
      copies.set(v, out);
      for (const key of Object.keys(v)) out[key] = copy(v[key]);
    }
    return out;
  };
  return copy(root);
}

// The receiver's side of withMarkers, in place on the freshly deserialized value.
function withPassed(root, passedOf) {
  const sub = (x) => passedOf.get(x) ?? x;
  if (passedOf.has(root)) return passedOf.get(root);
  const seen = new Set();
  const pending = [root];
  while (pending.length > 0) {
    const v = pending.pop();
    if (v === null || typeof v !== "object" || seen.has(v) || passedOf.has(v) || isLeaf(v)) continue;
    seen.add(v);
    if (Array.isArray(v)) {
      forEachIndex(v, (i) => {
        pending.push(v[i]);
        v[i] = sub(v[i]);
      });
    } else if (v instanceof Map) {
      const entries = [...v];
      v.clear();
      for (const [k, x] of entries) {
        pending.push(k, x);
        v.set(sub(k), sub(x));
      }
    } else if (v instanceof Set) {
      const members = [...v];
      v.clear();
      for (const x of members) {
        pending.push(x);
        v.add(sub(x));
      }
    } else {
      for (const key of Object.keys(v)) {
        pending.push(v[key]);
        v[key] = sub(v[key]);
      }
    }
  }
  return root;
}

// Throws, before anything is touched, if a passed object's stream cannot be read.
function checkReadable(o, kind, s) {
  if (kind === "stream") {
    if (s.isLocked(o)) throw new TypeError("A ReadableStream passed over RPC must not be locked.");
    return;
  }
  if (kind === "writable") {
    if (o.locked) throw new TypeError("A WritableStream passed over RPC must not be locked.");
    return;
  }
  const what = kind === "request" ? "Request" : "Response";
  if (o.bodyUsed) throw new TypeError(`The body of a ${what} passed over RPC has already been used.`);
  if (o.body !== null && s.isLocked(o.body)) throw new TypeError(`The body of a ${what} passed over RPC must not be locked.`);
  if (kind === "response" && o.webSocket) throw new DOMException("hearth cannot pass a WebSocket Response over RPC.", "DataCloneError");
}

// Frees pipes opened for a value that never left (ids as for C: negative for a WritableStream's).
function dropPipes(ids) {
  for (const id of ids) {
    ops.pipeCancel(Math.abs(id));
    ops.pipeClose(Math.abs(id));
  }
}

// The sender's side: { bytes, pipes (a Float64Array, or null), pump() → Promise }. pump()
// starts moving each stream or body into its pipe and settles when all are done. Throws a
// DataCloneError (or a TypeError for a locked or used stream) before touching any stream.
function encodeRpcValue(value) {
  const found = passedObjectsIn(value);
  if (found.length === 0) {
    try {
      return { bytes: ops.serialize([value]), pipes: null, pump: null };
    } catch (err) {
      throw dataCloneError(err);
    }
  }
  const s = streams();
  const kinds = found.map((o) => passedAs(o, s));
  found.forEach((o, i) => checkReadable(o, kinds[i], s));
  const pipes = []; // for C: a WritableStream's pipe, which the receiver writes, is negative
  const sources = [];
  const sinks = [];
  const pipeFor = (stream) => {
    if (stream === null) return null;
    pipes.push(ops.pipeOpen(false));
    sources.push(stream);
    return pipes[pipes.length - 1];
  };
  const descriptors = found.map((o, i) => {
    switch (kinds[i]) {
      case "stream":
        return { kind: "stream", body: pipeFor(o) };
      case "writable": {
        const id = ops.pipeOpen(true);
        pipes.push(-id);
        sinks.push([id, o]);
        return { kind: "writable", body: id };
      }
      case "request":
        return { kind: "request", method: o.method, url: o.url, headers: [...o.headers], redirect: o.redirect, body: pipeFor(o.body) };
      default:
        return { kind: "response", status: o.status, statusText: o.statusText, headers: [...o.headers], body: pipeFor(o.body) };
    }
  });
  const markerOf = new Map(found.map((o) => [o, {}]));
  let bytes;
  try {
    bytes = ops.serialize([withMarkers(value, markerOf), [...markerOf.values()], descriptors]);
  } catch (err) {
    dropPipes(pipes);
    throw dataCloneError(err);
  }
  const readables = pipes.filter((id) => id > 0);
  // One stream reachable twice (a Request and its own body, say) can only be read once: the
  // second pipe fails instead.
  const pumpOne = (id, stream) => {
    let reader;
    try {
      reader = s.acquireBodyReader(stream);
    } catch (err) {
      ops.pipeError(id, serializeThrown(err));
      return Promise.resolve();
    }
    return pumpInto(id, reader).catch(() => {});
  };
  const pump = () =>
    Promise.all([
      ...sources.map((stream, i) => pumpOne(readables[i], stream)),
      ...sinks.map(([id, writable]) => pipeStream(id, { rpc: true }).pipeTo(writable).catch(() => {})),
    ]);
  return { bytes, pipes: pipes.length > 0 ? new Float64Array(pipes) : null, pump: pipes.length > 0 ? pump : null };
}

// The receiver's WritableStream of an RPC value: bytes written go into pipe `id`, which the
// sender reads into its own stream; a write waits while the sender is behind.
function pipeWritable(id) {
  const rec = { drain: null, cancelled: false, reader: { cancel: () => Promise.resolve() } };
  writers.set(id, rec);
  const done = () => writers.delete(id);
  return new (streams().WritableStream)({
    async write(chunk) {
      let bytes;
      if (chunk instanceof ArrayBuffer) bytes = new Uint8Array(chunk);
      else if (ArrayBuffer.isView(chunk)) bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      else throw new TypeError("This WritableStream only supports writing byte types.");
      if (bytes.byteLength === 0) return;
      const queued = rec.cancelled ? -1 : ops.pipeWrite(id, bytes);
      if (queued < 0) {
        done();
        throw new Error(RPC_STREAM_FAILURE.replace("ReadableStream", "WritableStream"));
      }
      if (queued > PIPE_HIGH_WATER) {
        await new Promise((resolve) => {
          rec.drain = resolve;
          ops.pipeWaitDrain(id);
        });
      }
    },
    close() {
      done();
      ops.pipeClose(id);
    },
    abort(reason) {
      done();
      ops.pipeError(id, serializeThrown(reason));
    },
  });
}

// What a descriptor describes, on the receiver's side.
function revivePassed(d) {
  if (d.kind === "writable") return pipeWritable(d.body);
  const body = d.body === null ? null : pipeStream(d.body, { rpc: true });
  if (d.kind === "stream") return body;
  if (d.kind === "request") return new Request(d.url, { method: d.method, headers: d.headers, redirect: d.redirect, body });
  return new Response(body, { status: d.status, statusText: d.statusText, headers: d.headers });
}

// The receiver's side: the value, with what each marker stands for in its place.
function decodeRpcValue(bytes) {
  const [value, markers, descriptors] = ops.deserialize(bytes);
  if (markers === undefined) return value;
  return withPassed(value, new Map(markers.map((marker, i) => [marker, revivePassed(descriptors[i])])));
}

async function rpc(binding, method, args) {
  const out = encodeRpcValue(args);
  let reply;
  try {
    reply = call(binding, "rpc", binding.entrypoint ?? "", method, out.bytes, out.pipes);
  } catch (err) {
    if (out.pipes !== null) dropPipes(out.pipes);
    throw err;
  }
  // The caller's invocation stays open while its streams are still being read.
  if (out.pump !== null) ops.loadModule("invocation.js").keepOpenUntil(ops.currentInvocation(), out.pump());
  return reply;
}

const NULL_BODY = new Set([101, 204, 205, 304]);

function parseHeaderLines(lines) {
  const out = [];
  for (const line of lines.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) out.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return out;
}

// dispatch("serviceReply", ticket, status, statusText, headerLines, body, rpcBytes, rpcOk):
// body is bytes, a pipe id (the body streams through it) or null.
export function settle(ticket, status, statusText, headerLines, body, rpcBytes, rpcOk) {
  const w = waiting.get(ticket);
  if (!w) {
    if (typeof body === "number") ops.pipeCancel(body);
    return;
  }
  waiting.delete(ticket);
  if (w.rpc) {
    if (rpcBytes === null) {
      w.reject(new Error(`Service binding "${w.binding.name}": the Worker "${w.binding.service}" failed (status ${status})`));
      return;
    }
    let value;
    try {
      value = revive(rpcOk ? decodeRpcValue(rpcBytes) : ops.deserialize(rpcBytes));
    } catch (err) {
      w.reject(err);
      return;
    }
    (rpcOk ? w.resolve : w.reject)(value);
    return;
  }
  let source = null;
  if (typeof body === "number") {
    if (NULL_BODY.has(status)) ops.pipeCancel(body);
    else source = pipeStream(body);
  } else if (body !== null && !NULL_BODY.has(status)) {
    source = new Uint8Array(body);
  }
  try {
    w.resolve(new Response(source, { status, statusText, headers: parseHeaderLines(headerLines) }));
  } catch (err) {
    if (source !== null && typeof source.cancel === "function") source.cancel(err).catch(() => {});
    w.reject(err);
  }
}

// The env.X object: a Proxy whose properties other than fetch are RPC methods. `then` is
// undefined, so that awaiting the stub does not call a method named "then".
export function makeService(binding) {
  const fetch = (input, init) => serviceFetch(binding, input, init);
  const methods = new Map();
  return new Proxy(Object.create(null), {
    get(target, prop) {
      if (prop === "fetch") return fetch;
      if (typeof prop !== "string" || prop === "then" || prop === "constructor" || prop === "toJSON") return undefined;
      let m = methods.get(prop);
      if (!m) {
        m = (...args) => rpc(binding, prop, args);
        methods.set(prop, m);
      }
      return m;
    },
    has(target, prop) {
      return prop === "fetch";
    },
  });
}
