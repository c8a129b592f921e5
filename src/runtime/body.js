// The Fetch Standard's Body mixin, shared by Request and Response: extracting a body from what
// the constructor was given, reading it (text, json, arrayBuffer, bytes, body stream), cloning
// it, and handing it to the respond ops.
//
// A body's source stays in the form it arrived in — a string, bytes, a ReadableStream, or
// null — until someone reads it, so the common `new Response("text")` never encodes in
// JavaScript (C writes the string to the socket as UTF-8) and never builds a stream unless
// the Worker asks for `.body`.
import ops from "./ops.js";
import { concatBytes } from "./bytes.js";

// Streams and URLSearchParams are loaded on first use (see globals.js). Until a module is
// loaded, no value can be one of its objects, which makes the checks below free.
let streams = null;
function streamsIfLoaded() {
  return (streams ??= ops.loadedModule("streams_setup.js"));
}
function loadStreams() {
  return (streams ??= ops.loadModule("streams_setup.js"));
}
let searchParams = null;
function searchParamsIfLoaded() {
  return (searchParams ??= ops.loadedModule("url_search_params.js"));
}

// Blob and FormData likewise (blob.js, formdata.js).
let blobs = null;
function blobsIfLoaded() {
  return (blobs ??= ops.loadedModule("blob.js"));
}
let formDatas = null;
function formDataIfLoaded() {
  return (formDatas ??= ops.loadedModule("formdata.js"));
}

function isReadableStream(v) {
  const s = streamsIfLoaded();
  return s !== null && typeof v === "object" && v !== null && s.isReadableStream(v);
}
const isDisturbed = (s) => loadStreams().isDisturbed(s);
const isLocked = (s) => loadStreams().isLocked(s);

const USED_MESSAGE = "Body has already been used. It can only be used once. Use tee() first if you need to read it twice.";

// A body native code produces (a fetch() response's), with no ReadableStream until someone
// asks for one: make() creates it; readAll() reads the body whole without one (a promise of a
// Uint8Array); `source` is what the stream's takeNativeSource would give (fetch.js's splice).
// Read whole or sent on untouched — the usual fates of a fetched body — it never needs the
// stream machinery. Worker code never sees one: `body` turns it into its stream.
export class NativeBody {
  constructor(make, readAll, source) {
    this.make = make;
    this.readAll = readAll;
    this.source = source;
  }
}

export class BodyState {
  constructor(source, contentType) {
    this.source = source; // null | string | Uint8Array | ReadableStream | NativeBody
    this.contentType = contentType; // the type the body implies, or null
    this.used = false;
  }
}

function copyBytes(view) {
  const copy = new Uint8Array(view.byteLength);
  copy.set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return copy;
}

// The Fetch Standard's "extract a body".
export function extractBody(init) {
  if (init === null || init === undefined) return new BodyState(null, null);
  if (typeof init === "string") return new BodyState(init, "text/plain;charset=UTF-8");
  if (init instanceof NativeBody) return new BodyState(init, null);
  if (init instanceof ArrayBuffer) return new BodyState(new Uint8Array(init.slice(0)), null);
  if (ArrayBuffer.isView(init)) return new BodyState(copyBytes(init), null);
  if (isReadableStream(init)) {
    if (isDisturbed(init) || isLocked(init)) {
      throw new TypeError("This ReadableStream is disturbed (has already been read from) or locked, and cannot be used as a body.");
    }
    return new BodyState(init, null);
  }
  const blob = blobsIfLoaded();
  if (blob !== null && blob.isBlob(init)) {
    // A Blob's bytes never change, so the body shares them.
    const type = blob.blobType(init);
    return new BodyState(blob.blobBytes(init), type === "" ? null : type);
  }
  const fd = formDataIfLoaded();
  if (fd !== null && fd.isFormData(init)) {
    const { bytes, contentType } = fd.serializeFormData(init);
    return new BodyState(bytes, contentType);
  }
  const usp = searchParamsIfLoaded();
  if (usp !== null && usp.isURLSearchParams(init)) {
    return new BodyState(usp.serializeURLSearchParams(init), "application/x-www-form-urlencoded;charset=UTF-8");
  }
  // Other objects convert to a string, as the union's USVString member says.
  return new BodyState(String(init), "text/plain;charset=UTF-8");
}

export function isBodyUsed(state) {
  return state.used || (isReadableStream(state.source) && isDisturbed(state.source));
}

function decodeUtf8(bytes) {
  // UTF-8 decode with BOM stripping and U+FFFD replacement (the Encoding Standard's
  // "UTF-8 decode").
  const [text] = ops.utf8Decode(bytes, false, false);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// The whole body as bytes or a string, marking it used; a promise when it is a stream.
function consume(state) {
  if (isBodyUsed(state)) throw new TypeError(USED_MESSAGE);
  const s = state.source;
  state.used = true;
  if (isReadableStream(s)) {
    if (isLocked(s)) throw new TypeError("The body's ReadableStream is locked to a reader.");
    return loadStreams().readAllBytes(s);
  }
  if (s instanceof NativeBody) return s.readAll();
  return s;
}

// A body string is a USVString: lone surrogates read back as U+FFFD (as they were encoded).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
function toUSVString(s) {
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATE, "\uFFFD") : s;
}

export function bodyText(state) {
  const s = consume(state);
  if (s === null) return Promise.resolve("");
  if (typeof s === "string") return Promise.resolve(toUSVString(s));
  if (s instanceof Uint8Array) return Promise.resolve(decodeUtf8(s));
  return s.then(decodeUtf8);
}

export function bodyJson(state) {
  return bodyText(state).then((text) => JSON.parse(text));
}

export function bodyBytes(state) {
  const wasShared = state.source instanceof Uint8Array;
  const s = consume(state);
  if (s === null) return Promise.resolve(new Uint8Array(0));
  if (typeof s === "string") return Promise.resolve(new Uint8Array(ops.utf8Encode(s)));
  // Bytes may be shared with a clone: the caller gets its own copy.
  if (s instanceof Uint8Array) return Promise.resolve(wasShared ? s.slice() : s);
  return s;
}

export function bodyArrayBuffer(state) {
  return bodyBytes(state).then((bytes) =>
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer,
  );
}

// blob(): a Blob whose type is the Content-Type header's MIME type, serialized (or "").
export function bodyBlob(state, contentType) {
  return bodyBytes(state).then((bytes) => {
    const blob = ops.loadModule("blob.js");
    return blob.newBlob(bytes, blob.mimeTypeFromHeader(contentType), true);
  });
}

// formData(): the body parsed as multipart/form-data or application/x-www-form-urlencoded,
// as the Content-Type header says.
export function bodyFormData(state, contentType) {
  return bodyBytes(state).then((bytes) => ops.loadModule("formdata.js").parseFormDataBody(bytes, contentType ?? null));
}

// The body as a ReadableStream (the `body` attribute), created on first use.
export function bodyStream(state) {
  const s = state.source;
  if (s === null || isReadableStream(s)) return s;
  if (s instanceof NativeBody && !state.used) return (state.source = s.make());
  const { readableStreamFromBytes } = loadStreams();
  if (state.used) {
    // Read already through text() & co.: an empty, disturbed-looking stream.
    const stream = readableStreamFromBytes(new Uint8Array(0));
    state.source = stream;
    return stream;
  }
  const bytes = typeof s === "string" ? new Uint8Array(ops.utf8Encode(s)) : s.slice();
  const stream = readableStreamFromBytes(bytes);
  state.source = stream;
  return stream;
}

export function cloneBodyState(state) {
  if (isBodyUsed(state)) throw new TypeError(USED_MESSAGE);
  if (state.source instanceof NativeBody) state.source = state.source.make();
  const s = state.source;
  if (isReadableStream(s)) {
    if (isLocked(s)) throw new TypeError("Cannot clone a body whose ReadableStream is locked.");
    const [mine, theirs] = loadStreams().teeReadableStream(s);
    state.source = mine;
    return new BodyState(theirs, state.contentType);
  }
  // Strings and bytes are never mutated in place, so the clone can share them.
  return new BodyState(s, state.contentType);
}

// The body as the respond ops take it: { body } with a string, bytes or null when it is all
// there, or { stream, length } (length -1 when unknown) when it must be streamed out.
export function bodyForWire(state) {
  if (isBodyUsed(state)) throw new TypeError(USED_MESSAGE);
  state.used = true;
  const s = state.source;
  // Native: sent on as it is (invocation.js splices it, or makes its stream).
  if (s instanceof NativeBody) return { body: null, stream: null, native: s, length: -1 };
  if (!isReadableStream(s)) return { body: s, stream: null, length: -1 };
  if (isLocked(s)) throw new TypeError("The response body's ReadableStream is locked to a reader.");
  // Everything already queued (e.g. a stream made from bytes): send it in one piece.
  const { tryTakeBufferedChunks, fixedLengthOf } = loadStreams();
  const chunks = tryTakeBufferedChunks(s);
  if (chunks !== null) return { body: concatBytes(chunks), stream: null, length: -1 };
  const fixed = fixedLengthOf(s);
  return { body: null, stream: s, length: fixed === undefined ? -1 : fixed };
}

// Adds text(), json(), arrayBuffer(), bytes(), body and bodyUsed to a class whose instances
// give their BodyState through getState (which also brand-checks); with getContentType
// (instance → its Content-Type header value or null), blob() and formData() too.
export function installBodyMethods(Class, getState, getContentType = undefined) {
  const reading = (fn) =>
    function () {
      try {
        return fn(getState(this));
      } catch (err) {
        return Promise.reject(err);
      }
    };
  const methods = {
    text: reading(bodyText),
    json: reading(bodyJson),
    arrayBuffer: reading(bodyArrayBuffer),
    bytes: reading(bodyBytes),
  };
  if (getContentType !== undefined) {
    const typed = (fn) =>
      function () {
        try {
          const state = getState(this);
          return fn(state, getContentType(this));
        } catch (err) {
          return Promise.reject(err);
        }
      };
    methods.blob = typed(bodyBlob);
    methods.formData = typed(bodyFormData);
  }
  for (const name of Object.keys(methods)) {
    Object.defineProperty(methods[name], "name", { value: name });
    Object.defineProperty(Class.prototype, name, {
      value: methods[name],
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  Object.defineProperty(Class.prototype, "body", {
    get() {
      return bodyStream(getState(this));
    },
    enumerable: true,
    configurable: true,
  });
  Object.defineProperty(Class.prototype, "bodyUsed", {
    get() {
      return isBodyUsed(getState(this));
    },
    enumerable: true,
    configurable: true,
  });
}
