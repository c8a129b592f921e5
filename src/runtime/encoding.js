// TextEncoder and TextDecoder (UTF-8, per the Encoding Standard), atob and btoa. The byte work
// is done by ops in C (src/webapi/encoding.c).
import ops from "./ops.js";
import { DOMException } from "./errors.js";

const UTF8_LABELS = new Set(["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"]);

function toBytes(input, what) {
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (typeof SharedArrayBuffer !== "undefined" && input instanceof SharedArrayBuffer) return new Uint8Array(input);
  throw new TypeError(`Failed to execute '${what}': parameter 1 is not of type 'ArrayBuffer or ArrayBufferView'.`);
}

export class TextEncoder {
  get encoding() {
    return "utf-8";
  }

  encode(input = "") {
    return new Uint8Array(ops.utf8Encode(String(input)));
  }

  encodeInto(source, destination) {
    if (!(destination instanceof Uint8Array)) {
      throw new TypeError("Failed to execute 'encodeInto' on 'TextEncoder': parameter 2 is not of type 'Uint8Array'.");
    }
    const s = String(source);
    // Encode whole code points while they fit; `read` counts UTF-16 code units.
    let read = 0;
    let written = 0;
    const cap = destination.length;
    for (let i = 0; i < s.length; ) {
      let cp = s.charCodeAt(i);
      let units = 1;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
        const lo = s.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          units = 2;
        }
      }
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // lone surrogate
      const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (written + size > cap) break;
      if (size === 1) {
        destination[written++] = cp;
      } else if (size === 2) {
        destination[written++] = 0xc0 | (cp >> 6);
        destination[written++] = 0x80 | (cp & 0x3f);
      } else if (size === 3) {
        destination[written++] = 0xe0 | (cp >> 12);
        destination[written++] = 0x80 | ((cp >> 6) & 0x3f);
        destination[written++] = 0x80 | (cp & 0x3f);
      } else {
        destination[written++] = 0xf0 | (cp >> 18);
        destination[written++] = 0x80 | ((cp >> 12) & 0x3f);
        destination[written++] = 0x80 | ((cp >> 6) & 0x3f);
        destination[written++] = 0x80 | (cp & 0x3f);
      }
      read += units;
      i += units;
    }
    return { read, written };
  }

  get [Symbol.toStringTag]() {
    return "TextEncoder";
  }
}

export class TextDecoder {
  #fatal;
  #ignoreBOM;
  #pending = null; // bytes of an incomplete sequence kept between streaming calls
  #bomSeen = false;

  constructor(label = "utf-8", options = {}) {
    // The Encoding Standard strips ASCII whitespace only (not String.prototype.trim's set).
    const normalized = String(label).replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, "").toLowerCase();
    if (!UTF8_LABELS.has(normalized)) {
      throw new RangeError(`Failed to construct 'TextDecoder': The encoding label provided ('${label}') is invalid.`);
    }
    const opts = options ?? {};
    this.#fatal = Boolean(opts.fatal);
    this.#ignoreBOM = Boolean(opts.ignoreBOM);
  }

  get encoding() {
    return "utf-8";
  }
  get fatal() {
    return this.#fatal;
  }
  get ignoreBOM() {
    return this.#ignoreBOM;
  }

  decode(input = undefined, options = {}) {
    const stream = Boolean(options?.stream);
    let bytes = input === undefined ? new Uint8Array(0) : toBytes(input, "decode");
    if (this.#pending) {
      const joined = new Uint8Array(this.#pending.length + bytes.length);
      joined.set(this.#pending);
      joined.set(bytes, this.#pending.length);
      bytes = joined;
      this.#pending = null;
    }
    let text, consumed;
    try {
      [text, consumed] = ops.utf8Decode(bytes, this.#fatal, stream);
    } catch (err) {
      this.#bomSeen = false;
      throw err;
    }
    if (consumed < bytes.length) this.#pending = bytes.slice(consumed);
    // The BOM is stripped once per stream, at its very start.
    if (!this.#ignoreBOM && !this.#bomSeen && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.#bomSeen = true;
    }
    if (!stream) {
      this.#bomSeen = false;
      this.#pending = null;
    }
    return text;
  }

  get [Symbol.toStringTag]() {
    return "TextDecoder";
  }
}

export function btoa(data) {
  if (arguments.length < 1) throw new TypeError("Failed to execute 'btoa': 1 argument required, but only 0 present.");
  const s = String(data);
  if (/[^\u0000-\u00ff]/.test(s)) {
    throw new DOMException("The string to be encoded contains characters outside of the Latin1 range.", "InvalidCharacterError");
  }
  return ops.base64Encode(s);
}

export function atob(data) {
  if (arguments.length < 1) throw new TypeError("Failed to execute 'atob': 1 argument required, but only 0 present.");
  const s = String(data);
  const out = /[^\u0000-\u00ff]/.test(s) ? null : ops.base64Decode(s, false);
  if (out === null) {
    throw new DOMException("The string to be decoded is not correctly encoded.", "InvalidCharacterError");
  }
  return out;
}
