// Installs the Web APIs on the Worker's global object. Like WebIDL interfaces, they are
// writable, configurable and not enumerable.
import ops from "./ops.js";
import { console } from "./console.js";
import { Crypto, SubtleCrypto, crypto } from "./crypto.js";
import { DOMException, withoutRuntimeFrames } from "./errors.js";
import { TextDecoder, TextEncoder, atob, btoa } from "./encoding.js";
import { Headers } from "./headers.js";
import { setNonIndexKeysInspector, setPromiseStateInspector, setProxyInspector, setStackFilter } from "./inspect.js";
import { Request } from "./request.js";
import { Response } from "./response.js";
import { clearInterval, clearTimeout, queueMicrotask, setInterval, setTimeout } from "./timers.js";
import { URL } from "./url.js";
import { URLSearchParams } from "./url_search_params.js";
import { ExecutionContext } from "./invocation.js";
import {
  ByteLengthQueuingStrategy,
  CountQueuingStrategy,
  FixedLengthStream,
  IdentityTransformStream,
  ReadableByteStreamController,
  ReadableStream,
  ReadableStreamBYOBReader,
  ReadableStreamBYOBRequest,
  ReadableStreamDefaultController,
  ReadableStreamDefaultReader,
  TransformStream,
  TransformStreamDefaultController,
  WritableStream,
  WritableStreamDefaultController,
  WritableStreamDefaultWriter,
  setArrayBufferTransfer,
} from "./streams.js";
// "cloudflare:workers" resolves to workers.js only if it is part of the runtime's module graph,
// which holds just what main.js reaches.
import "./workers.js";

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
  console,
  crypto,
  Crypto,
  SubtleCrypto,
  DOMException,
  TextEncoder,
  TextDecoder,
  atob,
  btoa,
  Headers,
  Request,
  Response,
  URL,
  URLSearchParams,
  setTimeout,
  setInterval,
  clearTimeout,
  clearInterval,
  queueMicrotask,
  structuredClone,
  navigator,
  Navigator,
  ExecutionContext,
  ReadableStream,
  ReadableStreamDefaultReader,
  ReadableStreamBYOBReader,
  ReadableStreamDefaultController,
  ReadableByteStreamController,
  ReadableStreamBYOBRequest,
  WritableStream,
  WritableStreamDefaultWriter,
  WritableStreamDefaultController,
  TransformStream,
  TransformStreamDefaultController,
  ByteLengthQueuingStrategy,
  CountQueuingStrategy,
  IdentityTransformStream,
  FixedLengthStream,
};

for (const [name, value] of Object.entries(globals)) {
  Object.defineProperty(globalThis, name, { value, writable: true, enumerable: false, configurable: true });
}
Object.defineProperty(globalThis, "self", { value: globalThis, writable: true, enumerable: false, configurable: true });

setPromiseStateInspector((p) => {
  const s = ops.promiseState(p);
  return s === null ? undefined : { state: s[0], value: s[1] };
});
setProxyInspector((v) => {
  const parts = ops.proxyParts(v);
  return parts === null ? undefined : { target: parts[0], handler: parts[1] };
});
setNonIndexKeysInspector((obj, includeNonEnumerable) => ops.nonIndexKeys(obj, includeNonEnumerable));
setStackFilter(withoutRuntimeFrames);
setArrayBufferTransfer((buffer) => ops.transferArrayBuffer(buffer));
