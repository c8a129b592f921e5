// Service bindings (docs/runtime-apis.md): env.X, where X is bound with [[services]] to another
// Worker of the same hearth. env.X.fetch(input, init) runs that Worker's fetch() with the
// Request built from the arguments; env.X.anyOtherName(...args) calls a method of its
// `export default class extends WorkerEntrypoint` (or of the binding's named entrypoint).
// The callee runs on the same thread (src/platform/service_ops.c); its answer comes back as a
// "serviceReply" event carrying the ticket of the call.
//
// RPC values cross between the two realms as JSON with tags (encode/decode below), not the
// engine's structured clone: primitives (with undefined, NaN, ±Infinity, -0, BigInt), plain
// objects, arrays, Map, Set, Date, RegExp, ArrayBuffer, typed arrays and Errors. Functions,
// symbols, class instances' prototypes, cycles and shared references are not preserved
// (a cycle is refused with a DataCloneError).
import ops from "./ops.js";

const waiting = new Map(); // ticket → { resolve, reject, binding, rpc }
let nextTicket = 1;

const ERROR_TYPES = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };
const TYPED = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

function cloneError(what) {
  return new DOMException(`Could not serialize ${what} for an RPC call.`, "DataCloneError");
}

export function encode(value, seen = new Set()) {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "undefined":
      return { $: "u" };
    case "number":
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
      return { $: "n", v: Object.is(value, -0) ? "-0" : String(value) };
    case "bigint":
      return { $: "b", v: String(value) };
    case "function":
    case "symbol":
      throw cloneError(`a ${typeof value}`);
  }
  if (value === null) return null;
  if (seen.has(value)) throw cloneError("a value that refers to itself");
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((v) => encode(v, seen));
    if (value instanceof Date) return { $: "d", v: value.getTime() };
    if (value instanceof RegExp) return { $: "r", s: value.source, f: value.flags };
    if (value instanceof Map) return { $: "m", v: [...value].map(([k, v]) => [encode(k, seen), encode(v, seen)]) };
    if (value instanceof Set) return { $: "s", v: [...value].map((v) => encode(v, seen)) };
    if (value instanceof ArrayBuffer) return { $: "ab", v: Array.from(new Uint8Array(value)) };
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const name = value.constructor.name;
      if (!TYPED[name]) throw cloneError(`a ${name}`);
      return { $: "ta", t: name, v: Array.from(value, (x) => (typeof x === "bigint" ? String(x) : x)) };
    }
    if (value instanceof Error) return encodeError(value);
    const out = {};
    for (const key of Object.keys(value)) out[key] = encode(value[key], seen);
    return { $: "o", v: out };
  } finally {
    seen.delete(value);
  }
}

export function decode(v) {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(decode);
  switch (v.$) {
    case "u":
      return undefined;
    case "n":
      return v.v === "-0" ? -0 : Number(v.v);
    case "b":
      return BigInt(v.v);
    case "d":
      return new Date(v.v);
    case "r":
      return new RegExp(v.s, v.f);
    case "m":
      return new Map(v.v.map(([k, x]) => [decode(k), decode(x)]));
    case "s":
      return new Set(v.v.map(decode));
    case "ab":
      return new Uint8Array(v.v).buffer;
    case "ta": {
      const Ctor = TYPED[v.t];
      return Ctor.from(v.v, (x) => (typeof x === "string" ? BigInt(x) : x));
    }
    case "e":
      return decodeError(v);
    case "o": {
      const out = {};
      for (const key of Object.keys(v.v)) out[key] = decode(v.v[key]);
      return out;
    }
  }
  return undefined;
}

export function encodeError(err) {
  if (err instanceof Error || (err && typeof err === "object" && "message" in err)) {
    return { $: "e", name: String(err.name ?? "Error"), message: String(err.message ?? ""), stack: String(err.stack ?? "") };
  }
  return { $: "e", name: "Error", message: String(err), stack: "" };
}

function decodeError(v) {
  const Ctor = ERROR_TYPES[v.name] ?? Error;
  const err = new Ctor(v.message);
  if (err.name !== v.name) err.name = v.name;
  return err;
}

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
  const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
  return call(binding, "fetch", request.method, request.url, headers, body);
}

async function rpc(binding, method, args) {
  let json;
  try {
    json = JSON.stringify(args.map((a) => encode(a)));
  } catch (err) {
    if (err instanceof DOMException) throw err;
    throw new DOMException(String(err?.message ?? err), "DataCloneError");
  }
  return call(binding, "rpc", binding.entrypoint ?? "", method, json);
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

// dispatch("serviceReply", ticket, status, statusText, headerLines, body, rpcJson, rpcOk)
export function settle(ticket, status, statusText, headerLines, body, rpcJson, rpcOk) {
  const w = waiting.get(ticket);
  if (!w) return;
  waiting.delete(ticket);
  if (w.rpc) {
    if (rpcJson === null) {
      w.reject(new Error(`Service binding "${w.binding.name}": the Worker "${w.binding.service}" failed (status ${status})`));
    } else if (rpcOk) {
      try {
        w.resolve(decode(JSON.parse(rpcJson)));
      } catch (err) {
        w.reject(err);
      }
    } else {
      w.reject(decode(JSON.parse(rpcJson)));
    }
    return;
  }
  try {
    w.resolve(
      new Response(NULL_BODY.has(status) || body === null ? null : new Uint8Array(body), {
        status,
        statusText,
        headers: parseHeaderLines(headerLines),
      }),
    );
  } catch (err) {
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
