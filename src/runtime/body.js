// The Fetch Standard's Body mixin, shared by Request and Response: extracting a body from what
// the constructor was given, and reading it (text, json, arrayBuffer, bytes).
//
// A body's source stays in the form it arrived in — a string, bytes, or null — until someone
// reads it, so the common `new Response("text")` never encodes in JavaScript: C writes the
// string to the socket as UTF-8.
import ops from "./ops.js";
import { isURLSearchParams, serializeURLSearchParams } from "./url_search_params.js";

const USED_MESSAGE = "Body has already been used. It can only be used once. Use tee() first if you need to read it twice.";

export class BodyState {
  constructor(source, contentType) {
    this.source = source; // null | string | Uint8Array
    this.contentType = contentType; // the type the body implies, or null
    this.used = false;
  }
}

// The Fetch Standard's "extract a body".
export function extractBody(init) {
  if (init === null || init === undefined) return new BodyState(null, null);
  if (typeof init === "string") return new BodyState(init, "text/plain;charset=UTF-8");
  if (init instanceof ArrayBuffer) return new BodyState(new Uint8Array(init.slice(0)), null);
  if (ArrayBuffer.isView(init)) {
    const copy = new Uint8Array(init.byteLength);
    copy.set(new Uint8Array(init.buffer, init.byteOffset, init.byteLength));
    return new BodyState(copy, null);
  }
  if (isURLSearchParams(init)) {
    return new BodyState(serializeURLSearchParams(init), "application/x-www-form-urlencoded;charset=UTF-8");
  }
  // Other objects convert to a string, as the union's USVString member says.
  return new BodyState(String(init), "text/plain;charset=UTF-8");
}

function take(state) {
  if (state.used) return Promise.reject(new TypeError(USED_MESSAGE));
  state.used = true;
  return null;
}

function decodeUtf8(bytes) {
  // UTF-8 decode with BOM stripping and U+FFFD replacement (the Encoding Standard's
  // "UTF-8 decode").
  const [text] = ops.utf8Decode(bytes, false, false);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function toBytes(source) {
  if (source === null) return new Uint8Array(0);
  if (typeof source === "string") return new Uint8Array(ops.utf8Encode(source));
  return source;
}

export function bodyText(state) {
  const used = take(state);
  if (used) return used;
  const s = state.source;
  if (typeof s === "string") return Promise.resolve(s);
  return Promise.resolve(s === null ? "" : decodeUtf8(s));
}

export function bodyJson(state) {
  return bodyText(state).then((text) => JSON.parse(text));
}

export function bodyBytes(state) {
  const used = take(state);
  if (used) return used;
  const bytes = toBytes(state.source);
  // The source may be shared with a clone; hand out a copy the caller may modify.
  return Promise.resolve(state.source === bytes ? bytes.slice() : bytes);
}

export function bodyArrayBuffer(state) {
  return bodyBytes(state).then((bytes) =>
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer,
  );
}

export function cloneBodyState(state) {
  if (state.used) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
  // Strings and bytes are never mutated in place, so the clone can share them.
  return new BodyState(state.source, state.contentType);
}

// The body as the respond op takes it: a string, bytes, or null.
export function bodyForWire(state) {
  if (state.used) throw new TypeError(USED_MESSAGE);
  state.used = true;
  return state.source;
}

// Adds text(), json(), arrayBuffer(), bytes() and bodyUsed to a class whose instances give
// their BodyState through getState (which also brand-checks).
export function installBodyMethods(Class, getState) {
  const methods = {
    text() {
      try {
        return bodyText(getState(this));
      } catch (err) {
        return Promise.reject(err);
      }
    },
    json() {
      try {
        return bodyJson(getState(this));
      } catch (err) {
        return Promise.reject(err);
      }
    },
    arrayBuffer() {
      try {
        return bodyArrayBuffer(getState(this));
      } catch (err) {
        return Promise.reject(err);
      }
    },
    bytes() {
      try {
        return bodyBytes(getState(this));
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
  for (const name of Object.keys(methods)) {
    Object.defineProperty(Class.prototype, name, {
      value: methods[name],
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  Object.defineProperty(Class.prototype, "bodyUsed", {
    get() {
      return getState(this).used;
    },
    enumerable: true,
    configurable: true,
  });
}
