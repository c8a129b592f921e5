// Installs the Web APIs on the Worker's global object. Like WebIDL interfaces, they are
// writable, configurable and not enumerable.
//
// Only what every request needs is loaded with the realm. The rest is "lazy": the global
// exists (getOwnPropertyNames lists it) but its module is evaluated the first time code
// touches it — most Workers use a small part of the platform, and every module evaluated
// costs memory in every realm of every Worker.
import ops from "./ops.js";
import { DOMException } from "./errors.js";
import { Headers } from "./headers.js";
import { Request } from "./request.js";
import { Response } from "./response.js";
import { clearInterval, clearTimeout, queueMicrotask, setInterval, setTimeout } from "./timers.js";
import { ExecutionContext } from "./invocation.js";

// name → [runtime module, export]
const LAZY_GLOBALS = {
  console: ["console.js", "console"],
  crypto: ["crypto.js", "crypto"],
  Crypto: ["crypto.js", "Crypto"],
  SubtleCrypto: ["crypto.js", "SubtleCrypto"],
  CryptoKey: ["crypto.js", "CryptoKey"],
  TextEncoder: ["encoding.js", "TextEncoder"],
  TextDecoder: ["encoding.js", "TextDecoder"],
  atob: ["encoding.js", "atob"],
  btoa: ["encoding.js", "btoa"],
  URL: ["url.js", "URL"],
  URLSearchParams: ["url_search_params.js", "URLSearchParams"],
  WebAssembly: ["wasm.js", "WebAssembly"],
  fetch: ["fetch.js", "fetch"],
  Blob: ["blob.js", "Blob"],
  File: ["blob.js", "File"],
  FormData: ["formdata.js", "FormData"],
  Event: ["events.js", "Event"],
  CustomEvent: ["events.js", "CustomEvent"],
  EventTarget: ["events.js", "EventTarget"],
  WebSocketPair: ["websocket.js", "WebSocketPair"],
  WebSocket: ["websocket.js", "WebSocket"],
  MessageEvent: ["websocket.js", "MessageEvent"],
  CloseEvent: ["websocket.js", "CloseEvent"],
  AbortController: ["abort.js", "AbortController"],
  AbortSignal: ["abort.js", "AbortSignal"],
  scheduler: ["scheduler.js", "scheduler"],
  Scheduler: ["scheduler.js", "Scheduler"],
  CompressionStream: ["compression.js", "CompressionStream"],
  DecompressionStream: ["compression.js", "DecompressionStream"],
};
for (const name of [
  "ReadableStream",
  "ReadableStreamDefaultReader",
  "ReadableStreamBYOBReader",
  "ReadableStreamDefaultController",
  "ReadableByteStreamController",
  "ReadableStreamBYOBRequest",
  "WritableStream",
  "WritableStreamDefaultWriter",
  "WritableStreamDefaultController",
  "TransformStream",
  "TransformStreamDefaultController",
  "ByteLengthQueuingStrategy",
  "CountQueuingStrategy",
  "IdentityTransformStream",
  "FixedLengthStream",
]) {
  LAZY_GLOBALS[name] = ["streams_setup.js", name];
}

function structuredClone(value, options = undefined) {
  if (arguments.length < 1) {
    throw new TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
  }
  // WebIDL: options is a StructuredSerializeOptions dictionary, transfer a sequence<object>.
  if (options !== undefined && options !== null && typeof options !== "object" && typeof options !== "function") {
    throw new TypeError("Failed to execute 'structuredClone': The provided value is not of type 'StructuredSerializeOptions'.");
  }
  const transfer = options?.transfer;
  let list;
  if (transfer !== undefined) {
    if (transfer === null || (typeof transfer !== "object" && typeof transfer !== "function") || typeof transfer[Symbol.iterator] !== "function") {
      throw new TypeError("Failed to execute 'structuredClone': The provided value cannot be converted to a sequence.");
    }
    list = Array.from(transfer);
    for (const item of list) {
      if (item === null || (typeof item !== "object" && typeof item !== "function")) {
        throw new TypeError("Failed to execute 'structuredClone': Value is not of type 'object'.");
      }
    }
  }
  try {
    return ops.structuredClone(value, list);
  } catch (err) {
    if (err instanceof Error && !(err instanceof DOMException)) {
      throw new DOMException(err.message, "DataCloneError");
    }
    throw err;
  }
}

class Navigator {
  get userAgent() {
    return "Cloudflare-Workers";
  }
  get hardwareConcurrency() {
    return 1;
  }
  get [Symbol.toStringTag]() {
    return "Navigator";
  }
}
const navigator = new Navigator();

const globals = {
  DOMException,
  Headers,
  Request,
  Response,
  setTimeout,
  setInterval,
  clearTimeout,
  clearInterval,
  queueMicrotask,
  structuredClone,
  navigator,
  Navigator,
  ExecutionContext,
};

for (const [name, value] of Object.entries(globals)) {
  Object.defineProperty(globalThis, name, { value, writable: true, enumerable: false, configurable: true });
}
Object.defineProperty(globalThis, "self", { value: globalThis, writable: true, enumerable: false, configurable: true });

const lazy = Object.create(null);
for (const [name, entry] of Object.entries(LAZY_GLOBALS)) lazy[name] = entry;
ops.defineLazyGlobals(lazy);
