// Blob and File (the File API, https://w3c.github.io/FileAPI/), as the Workers runtime
// exposes them. A Blob holds its bytes in memory; they never change after construction, so
// slices and bodies share them instead of copying.
import ops from "./ops.js";

let streams = null;
function loadStreams() {
  return (streams ??= ops.loadModule("streams_setup.js"));
}

// The File API's type normalization: a type with a character outside U+0020..U+007E is
// dropped (""), any other is lowercased.
function normalizeType(type) {
  const t = String(type);
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return "";
  }
  return t.toLowerCase();
}

function isObject(v) {
  return (typeof v === "object" && v !== null) || typeof v === "function";
}

function utf8(s) {
  return new Uint8Array(ops.utf8Encode(s));
}

function viewBytes(v) {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

// "convert line endings to native" (LF on this platform).
function nativeEndings(s) {
  return s.indexOf("\r") < 0 ? s : s.replace(/\r\n?/g, "\n");
}

// The Blob constructor's "process blob parts": one Uint8Array with every part's bytes.
function processParts(parts, endings, what) {
  if (parts === undefined) return new Uint8Array(0);
  if (!isObject(parts) || typeof parts[Symbol.iterator] !== "function") {
    // workerd's wording.
    throw new TypeError(`Failed to construct '${what}': constructor parameter 1 is not of type 'Array'.`);
  }
  const chunks = [];
  let total = 0;
  let fresh = false; // the last chunk is a new encoding nobody else holds
  for (const part of parts) {
    let bytes = isObject(part) ? bytesOfImpl(part) : undefined;
    fresh = false;
    if (bytes === undefined) {
      if (part instanceof ArrayBuffer || ArrayBuffer.isView(part)) bytes = viewBytes(part);
      else {
        let s = String(part);
        if (endings === "native") s = nativeEndings(s);
        bytes = utf8(s);
        fresh = true;
      }
    }
    chunks.push(bytes);
    total += bytes.byteLength;
  }
  // A single string part: its encoding is already a buffer of its own.
  if (chunks.length === 1 && fresh) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.byteLength;
  }
  return out;
}

// Bound in Blob's static block (private names cannot be used outside the class body).
let bytesOfImpl, typeImpl;

const INTERNAL = Symbol("internal blob");

function relativeIndex(value, size) {
  // WebIDL `long long`: NaN and the infinities are 0.
  let n = Number(value);
  n = Number.isFinite(n) ? Math.trunc(n) : 0;
  if (n < 0) return Math.max(size + n, 0);
  return Math.min(n, size);
}

function decodeUtf8(bytes) {
  const [text] = ops.utf8Decode(bytes, false, false);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export class Blob {
  #bytes;
  #type = "";

  constructor(blobParts = undefined, options = undefined) {
    if (blobParts === INTERNAL) {
      this.#bytes = options.bytes;
      this.#type = options.type;
      return;
    }
    if (options !== undefined && options !== null && !isObject(options)) {
      throw new TypeError("Failed to construct 'Blob': The provided value is not of type 'BlobPropertyBag'.");
    }
    const endings = readEndings(options, "Blob");
    this.#type = options?.type === undefined ? "" : normalizeType(options.type);
    this.#bytes = processParts(blobParts, endings, "Blob");
  }

  get size() {
    return Blob.#check(this).#bytes.byteLength;
  }
  get type() {
    return Blob.#check(this).#type;
  }

  slice(start = undefined, end = undefined, contentType = undefined) {
    const bytes = Blob.#check(this).#bytes;
    const size = bytes.byteLength;
    const from = start === undefined ? 0 : relativeIndex(start, size);
    const to = end === undefined ? size : relativeIndex(end, size);
    const span = Math.max(to - from, 0);
    const type = contentType === undefined ? "" : normalizeType(contentType);
    return new Blob(INTERNAL, { bytes: bytes.subarray(from, from + span), type });
  }

  text() {
    try {
      return Promise.resolve(decodeUtf8(Blob.#check(this).#bytes));
    } catch (e) {
      return Promise.reject(e);
    }
  }
  arrayBuffer() {
    try {
      return Promise.resolve(Blob.#check(this).#bytes.slice().buffer);
    } catch (e) {
      return Promise.reject(e);
    }
  }
  bytes() {
    try {
      return Promise.resolve(Blob.#check(this).#bytes.slice());
    } catch (e) {
      return Promise.reject(e);
    }
  }
  stream() {
    const bytes = Blob.#check(this).#bytes;
    return loadStreams().readableStreamFromBytes(bytes.slice());
  }

  get [Symbol.toStringTag]() {
    return "Blob";
  }

  static #check(v) {
    if (!isObject(v) || !(#bytes in v)) throw new TypeError("Illegal invocation");
    return v;
  }

  static {
    bytesOfImpl = (v) => (#bytes in v ? v.#bytes : undefined);
    typeImpl = (v) => v.#type;
  }
}

function readEndings(options, what) {
  const e = options?.endings;
  if (e === undefined) return "transparent";
  const s = String(e);
  if (s !== "transparent" && s !== "native") {
    throw new TypeError(`Failed to construct '${what}': The provided value '${s}' is not a valid enum value of type EndingType.`);
  }
  return s;
}

let isFileImpl;

export class File extends Blob {
  #name;
  #lastModified;

  constructor(fileBits, fileName, options = undefined) {
    if (fileBits === INTERNAL) {
      super(INTERNAL, fileName);
      this.#name = fileName.name;
      this.#lastModified = fileName.lastModified;
      return;
    }
    if (arguments.length < 2) {
      throw new TypeError(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
    }
    if (options !== undefined && options !== null && !isObject(options)) {
      throw new TypeError("Failed to construct 'File': The provided value is not of type 'FilePropertyBag'.");
    }
    const endings = readEndings(options, "File");
    const bytes = processParts(fileBits, endings, "File");
    const type = options?.type === undefined ? "" : normalizeType(options.type);
    super(INTERNAL, { bytes, type });
    this.#name = String(fileName);
    const lm = options?.lastModified;
    if (lm === undefined) this.#lastModified = Date.now();
    else {
      const n = Math.trunc(Number(lm));
      this.#lastModified = Number.isFinite(n) ? n : 0;
    }
  }

  get name() {
    return File.#check(this).#name;
  }
  get lastModified() {
    return File.#check(this).#lastModified;
  }

  get [Symbol.toStringTag]() {
    return "File";
  }

  static #check(v) {
    if (!isObject(v) || !(#name in v)) throw new TypeError("Illegal invocation");
    return v;
  }

  static {
    isFileImpl = (v) => isObject(v) && #name in v;
  }
}

for (const name of ["size", "type", "slice", "text", "arrayBuffer", "bytes", "stream"]) {
  Object.defineProperty(Blob.prototype, name, { enumerable: true });
}
for (const name of ["name", "lastModified"]) {
  Object.defineProperty(File.prototype, name, { enumerable: true });
}

// ---- internal API (for bodies and FormData) ----------------------------------------------------

export function isBlob(v) {
  return isObject(v) && bytesOfImpl(v) !== undefined;
}
export function isFile(v) {
  return isFileImpl(v);
}
// The blob's bytes, shared: callers must not modify them.
export function blobBytes(blob) {
  return bytesOfImpl(blob);
}
// A Blob over `bytes`, which it takes over (nobody may modify them afterwards). The type is
// normalized as the constructor does, unless `exactType` (a serialized MIME type, whose
// parameter values keep their case).
export function newBlob(bytes, type, exactType = false) {
  return new Blob(INTERNAL, { bytes, type: exactType ? String(type) : normalizeType(type) });
}
// A File over `bytes` (taken over, as newBlob).
export function newFile(bytes, name, type, lastModified = Date.now()) {
  return new File(INTERNAL, { bytes, type: normalizeType(type), name: String(name), lastModified });
}
// The blob's type, without going through the (patchable) getter.
export function blobType(blob) {
  return typeImpl(blob);
}

// The MIME Sniffing Standard's "parse a MIME type" then "serialize": what a body's blob()
// takes as its type from a Content-Type header ("" when the value is not a MIME type).
const MIME_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const QUOTED_OK = /^[\t\x20-\x7e\x80-\xff]*$/;
export function mimeTypeFromHeader(value) {
  if (value === null || value === undefined) return "";
  const s = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");
  const slash = s.indexOf("/");
  if (slash < 0) return "";
  const type = s.slice(0, slash);
  let semi = s.indexOf(";", slash);
  if (semi < 0) semi = s.length;
  const subtype = s.slice(slash + 1, semi).replace(/[\t\n\r ]+$/, "");
  if (!MIME_TOKEN.test(type) || !MIME_TOKEN.test(subtype)) return "";
  let out = `${type.toLowerCase()}/${subtype.toLowerCase()}`;
  const seen = new Set();
  let i = semi;
  while (i < s.length) {
    i++; // past ";"
    while (i < s.length && /[\t\n\r ]/.test(s[i])) i++;
    let j = i;
    while (j < s.length && s[j] !== ";" && s[j] !== "=") j++;
    const name = s.slice(i, j).toLowerCase();
    i = j;
    if (i >= s.length) break;
    if (s[i] === ";") continue;
    i++; // past "="
    let val;
    if (s[i] === '"') {
      val = "";
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        val += s[i++];
      }
      while (i < s.length && s[i] !== ";") i++;
    } else {
      j = i;
      while (j < s.length && s[j] !== ";") j++;
      val = s.slice(i, j).replace(/[\t\n\r ]+$/, "");
      i = j;
      if (val === "") continue;
    }
    if (name !== "" && MIME_TOKEN.test(name) && QUOTED_OK.test(val) && !seen.has(name)) {
      seen.add(name);
      out += `;${name}=${val !== "" && MIME_TOKEN.test(val) ? val : `"${val.replace(/["\\]/g, "\\$&")}"`}`;
    }
  }
  return out;
}
