// FormData (XMLHttpRequest Standard), its multipart/form-data serialization (HTML Standard)
// for bodies, and parsing bodies back into a FormData (Fetch Standard). Multipart parsing is
// done in C (src/webapi/formdata_ops.c over src/net/multipart.c).
import ops from "./ops.js";
import { concatBytes } from "./bytes.js";
import { File, isBlob, isFile, blobBytes, newFile } from "./blob.js";

function isObject(v) {
  return (typeof v === "object" && v !== null) || typeof v === "function";
}

// A string as a USVString: lone surrogates become U+FFFD.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
function usv(v) {
  const s = String(v);
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATE, "\uFFFD") : s;
}

function checkArgs(method, required, present) {
  if (present < required) {
    throw new TypeError(
      `Failed to execute '${method}' on 'FormData': ${required} argument${required > 1 ? "s" : ""} required, but only ${present} present.`,
    );
  }
}

// The XHR Standard's "create an entry".
function makeEntry(name, value, filename, argc) {
  name = usv(name);
  if (isBlob(value)) {
    if (!isFile(value) || argc > 2) {
      const fname = argc > 2 ? usv(filename) : isFile(value) ? value.name : "blob";
      const lastModified = isFile(value) ? value.lastModified : Date.now();
      value = newFile(blobBytes(value), fname, value.type, lastModified);
    }
    return [name, value];
  }
  // A filename with a string value is ignored, as workerd does.
  return [name, usv(value)];
}

let entriesOf;

export class FormData {
  #entries = [];

  // There are no form elements here; like workerd, an argument is ignored.
  constructor() {}

  append(name, value, filename = undefined) {
    FormData.#check(this);
    checkArgs("append", 2, arguments.length);
    this.#entries.push(makeEntry(name, value, filename, arguments.length));
  }

  delete(name) {
    FormData.#check(this);
    checkArgs("delete", 1, arguments.length);
    const n = usv(name);
    this.#entries = this.#entries.filter((e) => e[0] !== n);
  }

  get(name) {
    FormData.#check(this);
    checkArgs("get", 1, arguments.length);
    const n = usv(name);
    for (const e of this.#entries) if (e[0] === n) return e[1];
    return null;
  }

  getAll(name) {
    FormData.#check(this);
    checkArgs("getAll", 1, arguments.length);
    const n = usv(name);
    const out = [];
    for (const e of this.#entries) if (e[0] === n) out.push(e[1]);
    return out;
  }

  has(name) {
    FormData.#check(this);
    checkArgs("has", 1, arguments.length);
    const n = usv(name);
    return this.#entries.some((e) => e[0] === n);
  }

  set(name, value, filename = undefined) {
    FormData.#check(this);
    checkArgs("set", 2, arguments.length);
    const entry = makeEntry(name, value, filename, arguments.length);
    const list = this.#entries;
    const i = list.findIndex((e) => e[0] === entry[0]);
    if (i < 0) {
      list.push(entry);
      return;
    }
    list[i] = entry;
    this.#entries = list.filter((e, j) => j <= i || e[0] !== entry[0]);
  }

  entries() {
    return new FormDataIterator(FormData.#check(this), "entries");
  }
  keys() {
    return new FormDataIterator(FormData.#check(this), "keys");
  }
  values() {
    return new FormDataIterator(FormData.#check(this), "values");
  }

  forEach(callback, thisArg = undefined) {
    FormData.#check(this);
    checkArgs("forEach", 1, arguments.length);
    if (typeof callback !== "function") {
      throw new TypeError("Failed to execute 'forEach' on 'FormData': parameter 1 is not of type 'Function'.");
    }
    // Live, as WebIDL's iterable forEach: entries added during the loop are visited.
    for (let i = 0; i < this.#entries.length; i++) {
      const [name, value] = this.#entries[i];
      callback.call(thisArg, value, name, this);
    }
  }

  get [Symbol.toStringTag]() {
    return "FormData";
  }

  static #check(v) {
    if (!isObject(v) || !(#entries in v)) throw new TypeError("Illegal invocation");
    return v;
  }

  static {
    entriesOf = (fd) => (#entries in fd ? fd.#entries : undefined);
  }
}

Object.defineProperty(FormData.prototype, Symbol.iterator, {
  value: FormData.prototype.entries,
  writable: true,
  enumerable: false,
  configurable: true,
});
for (const name of ["append", "delete", "get", "getAll", "has", "set", "entries", "keys", "values", "forEach"]) {
  Object.defineProperty(FormData.prototype, name, { enumerable: true });
}

// WebIDL's "default iterator object": live over the list, by index.
const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
class FormDataIterator {
  #target;
  #kind;
  #index = 0;
  constructor(target, kind) {
    this.#target = target;
    this.#kind = kind;
  }
  next() {
    if (!isObject(this) || !(#target in this)) throw new TypeError("Illegal invocation");
    const list = entriesOf(this.#target);
    if (this.#index >= list.length) return { value: undefined, done: true };
    const [name, value] = list[this.#index++];
    if (this.#kind === "keys") return { value: name, done: false };
    if (this.#kind === "values") return { value, done: false };
    return { value: [name, value], done: false };
  }
  get [Symbol.toStringTag]() {
    return "FormData Iterator";
  }
}
Object.setPrototypeOf(FormDataIterator.prototype, IteratorPrototype);
Object.defineProperty(FormDataIterator.prototype, "next", { enumerable: true });

// ---- internal API (for bodies) ---------------------------------------------------------------

export function isFormData(v) {
  return isObject(v) && entriesOf(v) !== undefined;
}

function utf8(s) {
  return new Uint8Array(ops.utf8Encode(s));
}

// The HTML Standard's escaping of names and filenames in a multipart/form-data header.
function escapeName(s) {
  return s.replace(/[\n\r"]/g, (c) => (c === "\n" ? "%0A" : c === "\r" ? "%0D" : "%22"));
}
// Line breaks in names and string values are normalized to CRLF.
function normalizeLines(s) {
  return /[\r\n]/.test(s) ? s.replace(/\r\n|\r|\n/g, "\r\n") : s;
}

function randomBoundary() {
  let hex = "";
  for (const b of new Uint8Array(ops.randomBytes(12))) hex += (b < 16 ? "0" : "") + b.toString(16);
  return `----formdata-hearth-${hex}`;
}

// The multipart/form-data encoding algorithm: { bytes, contentType }.
export function serializeFormData(fd) {
  const boundary = randomBoundary();
  const chunks = [];
  let text = "";
  for (const [name, value] of entriesOf(fd)) {
    text += `--${boundary}\r\nContent-Disposition: form-data; name="${escapeName(normalizeLines(name))}"`;
    if (typeof value === "string") {
      text += `\r\n\r\n${normalizeLines(value)}\r\n`;
      continue;
    }
    text += `; filename="${escapeName(value.name)}"\r\nContent-Type: ${value.type || "application/octet-stream"}\r\n\r\n`;
    chunks.push(utf8(text), blobBytes(value));
    text = "\r\n";
  }
  text += `--${boundary}--\r\n`;
  chunks.push(utf8(text));
  return { bytes: concatBytes(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

function decodeUtf8(bytes) {
  const [text] = ops.utf8Decode(bytes, false, false);
  return text;
}

// A MIME type's essence ("type/subtype", lowercased), or "" when there is none.
function essence(contentType) {
  const semi = contentType.indexOf(";");
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

// The Fetch Standard's formData() package steps over a fully read body.
export function parseFormDataBody(bytes, contentType) {
  if (contentType === null) throw new TypeError("Parsing a Body as FormData requires a Content-Type header.");
  const kind = essence(contentType);
  const fd = new FormData();
  const list = entriesOf(fd);
  if (kind === "multipart/form-data") {
    const parts = ops.formDataParse(bytes, contentType);
    for (let i = 0; i < parts.length; i += 5) {
      const [name, filename, type, offset, length] = parts.slice(i, i + 5);
      const data = bytes.subarray(offset, offset + length);
      // As in workerd, a part with an empty filename is a string entry, and a file without a
      // Content-Type has the type "".
      if (filename === null || filename === "") list.push([name, decodeUtf8(data)]);
      else list.push([name, newFile(data.slice(), filename, type ?? "")]);
    }
    return fd;
  }
  if (kind === "application/x-www-form-urlencoded") {
    const { parseFormUrlencoded } = ops.loadModule("url_search_params.js");
    for (const pair of parseFormUrlencoded(bytes)) list.push(pair);
    return fd;
  }
  throw new TypeError(
    "Unrecognized Content-Type header value. FormData can only parse the following MIME types: multipart/form-data, application/x-www-form-urlencoded",
  );
}

export { File };
