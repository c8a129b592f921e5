// crypto: getRandomValues, randomUUID and crypto.subtle.digest. The rest of SubtleCrypto is not
// implemented yet (see docs/runtime-apis.md); its methods are absent rather than faked.
import ops from "./ops.js";
import { DOMException } from "./errors.js";

// The platform has no entropy for a Worker's global scope (its code runs once, at load, for
// every request after): randomness is only available inside a handler, as on Cloudflare.
const GLOBAL_SCOPE_MESSAGE =
  "Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or connect()), " +
  "setting a timeout, and generating random values are not allowed within global scope. To fix " +
  "this error, perform this operation within a handler.";

function requireHandler() {
  if (ops.currentInvocation() === 0) throw new Error(GLOBAL_SCOPE_MESSAGE);
}

const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];

function toBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError("Failed to execute 'digest' on 'SubtleCrypto': parameter 2 is not of type 'ArrayBuffer or ArrayBufferView'.");
}

function normalizeAlgorithm(alg) {
  const name = typeof alg === "string" ? alg : alg?.name;
  if (typeof name !== "string") throw new TypeError("Algorithm: name: Missing or not a string");
  return name.toUpperCase();
}

export class SubtleCrypto {
  digest(algorithm, data) {
    try {
      const name = normalizeAlgorithm(algorithm);
      const bytes = toBytes(data);
      return Promise.resolve(ops.digest(name, bytes));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  get [Symbol.toStringTag]() {
    return "SubtleCrypto";
  }
}

const subtle = new SubtleCrypto();

export class Crypto {
  get subtle() {
    return subtle;
  }

  getRandomValues(array) {
    if (!INTEGER_ARRAYS.some((T) => array instanceof T)) {
      throw new DOMException(
        "The data argument must be an integer-type TypedArray",
        "TypeMismatchError",
      );
    }
    if (array.byteLength > 65536) {
      throw new DOMException(
        `The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`,
        "QuotaExceededError",
      );
    }
    requireHandler();
    const random = new Uint8Array(ops.randomBytes(array.byteLength));
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(random);
    return array;
  }

  randomUUID() {
    requireHandler();
    return ops.randomUUID();
  }

  get [Symbol.toStringTag]() {
    return "Crypto";
  }
}

export const crypto = new Crypto();
