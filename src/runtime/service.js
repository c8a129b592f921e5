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
  const args = ops.deserialize(bytes);
  if (!Array.isArray(args)) throw new TypeError("RPC arguments must be an array.");
  return args;
}

// Callee side: what goes back for a settled method → { ok, bytes }.
export function rpcResult(ok, value) {
  if (!ok) return { ok: false, bytes: serializeThrown(value) };
  try {
    refuseUnpassable(value);
    return { ok: true, bytes: ops.serialize(value) };
  } catch (err) {
    return { ok: false, bytes: serializeThrown(dataCloneError(err)) };
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

function readPipe(id, rec) {
  const r = ops.pipeRead(id);
  if (r instanceof ArrayBuffer) return new Uint8Array(r);
  if (r === 1) {
    readers.delete(id);
    return null;
  }
  if (Array.isArray(r)) {
    readers.delete(id);
    return Promise.reject(pipeFailure(r[0]));
  }
  return new Promise((resolve) => {
    rec.wake = resolve;
  }).then(() => (readers.has(id) ? readPipe(id, rec) : null));
}

// The ReadableStream of the body that arrives through pipe `id`. Returned untouched as a
// Worker's response, the body goes from the pipe to the client in C (invocation.js asks the
// stream for its `source`): no JavaScript runs per chunk on this side.
export function pipeStream(id) {
  const rec = { wake: null };
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

function call(binding, kind, a, b, c, d) {
  const ticket = nextTicket++;
  const why = ops.serviceCall(ticket, binding.service, kind, a, b, c, d);
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
  const pipe = ops.pipeOpen();
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

// Objects structured clone would flatten to an empty {} but that workerd passes over RPC
// (bodies as streams): refused wherever they are in the value, so that a method never gets
// an empty object instead. The walk follows what structured clone copies: array elements,
// own enumerable properties, Map entries and Set members.
function refuseUnpassable(value) {
  if (value === null || typeof value !== "object") return;
  const streams = ops.loadedModule("streams_setup.js");
  const seen = new Set();
  const pending = [value];
  while (pending.length > 0) {
    const v = pending.pop();
    if (seen.has(v)) continue;
    seen.add(v);
    const name = unpassableName(v, streams);
    if (name !== null) throw new DOMException(`hearth cannot pass a ${name} over RPC yet.`, "DataCloneError");
    const push = (x) => {
      if (x !== null && typeof x === "object") pending.push(x);
    };
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) push(v[i]);
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
}

function unpassableName(value, streams) {
  if (value instanceof Request) return "Request";
  if (value instanceof Response) return "Response";
  if (streams !== null && streams.isReadableStream(value)) return "ReadableStream";
  if (streams !== null && value instanceof streams.WritableStream) return "WritableStream";
  return null;
}

async function rpc(binding, method, args) {
  let bytes;
  refuseUnpassable(args);
  try {
    bytes = ops.serialize(args);
  } catch (err) {
    throw dataCloneError(err);
  }
  return call(binding, "rpc", binding.entrypoint ?? "", method, bytes);
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
      value = revive(ops.deserialize(rpcBytes));
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
