// `URLSearchParams` and the application/x-www-form-urlencoded parser and serializer
// (https://url.spec.whatwg.org/#interface-urlsearchparams,
//  https://url.spec.whatwg.org/#application/x-www-form-urlencoded).
//
// The list is stored flat, [name0, value0, name1, value1, ...], with every string already
// a USVString (no lone surrogates), so serialization never has to re-check.

// ---- strings --------------------------------------------------------------------------

const surrogateRe = /[\uD800-\uDFFF]/;

// WebIDL USVString conversion of an already-converted string: lone surrogates → U+FFFD.
function toWellFormed(s) {
  if (!surrogateRe.test(s)) return s;
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    out += `${s.slice(last, i)}\uFFFD`;
    last = i + 1;
  }
  return out + s.slice(last);
}

// ToString (template literal so symbols throw like WebIDL requires) + USV fix-up.
function toUSVString(v) {
  return toWellFormed(typeof v === 'string' ? v : `${v}`);
}

// ---- UTF-8 -------------------------------------------------------------------------------

// WHATWG Encoding "UTF-8 decode without BOM": the BOM is kept as U+FEFF and every maximal
// invalid subsequence becomes one U+FFFD. `bytes` is any indexable byte sequence.
function utf8Decode(bytes, start, end) {
  const units = [];
  let out = '';
  let cp = 0;
  let needed = 0;
  let seen = 0;
  let lowerBound = 0x80;
  let upperBound = 0xbf;
  const emit = (u) => {
    units.push(u);
    // Flush in chunks so String.fromCharCode never gets a huge argument list.
    if (units.length >= 4096) {
      out += String.fromCharCode.apply(null, units);
      units.length = 0;
    }
  };
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (needed === 0) {
      if (b <= 0x7f) {
        emit(b);
      } else if (b >= 0xc2 && b <= 0xdf) {
        needed = 1;
        cp = b & 0x1f;
      } else if (b >= 0xe0 && b <= 0xef) {
        if (b === 0xe0) lowerBound = 0xa0;
        else if (b === 0xed) upperBound = 0x9f;
        needed = 2;
        cp = b & 0x0f;
      } else if (b >= 0xf0 && b <= 0xf4) {
        if (b === 0xf0) lowerBound = 0x90;
        else if (b === 0xf4) upperBound = 0x8f;
        needed = 3;
        cp = b & 0x07;
      } else {
        emit(0xfffd);
      }
      continue;
    }
    if (b < lowerBound || b > upperBound) {
      // Invalid continuation: replace what we had and reprocess this byte from scratch.
      cp = needed = seen = 0;
      lowerBound = 0x80;
      upperBound = 0xbf;
      emit(0xfffd);
      i--;
      continue;
    }
    lowerBound = 0x80;
    upperBound = 0xbf;
    cp = (cp << 6) | (b & 0x3f);
    if (++seen === needed) {
      if (cp > 0xffff) {
        emit(0xd800 + ((cp - 0x10000) >> 10));
        emit(0xdc00 + ((cp - 0x10000) & 0x3ff));
      } else {
        emit(cp);
      }
      cp = needed = seen = 0;
    }
  }
  if (needed !== 0) emit(0xfffd);
  return units.length === 0 ? out : out + String.fromCharCode.apply(null, units);
}

function hexValue(c) {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

// Percent-decode a USVString to bytes (literal characters UTF-8 encoded, "%XX" as the byte,
// malformed "%" left alone) and UTF-8 decode the result. This is the general path; literal
// non-ASCII characters must be re-encoded because they can combine with adjacent
// percent-encoded bytes (e.g. "%C3" followed by a literal continuation byte's character).
function percentDecodeSlow(s) {
  const bytes = new Uint8Array(s.length * 3);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length) {
      const hi = hexValue(s.charCodeAt(i + 1));
      const lo = hexValue(s.charCodeAt(i + 2));
      if (hi !== -1 && lo !== -1) {
        bytes[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    if (c < 0x80) {
      bytes[n++] = c;
    } else if (c < 0x800) {
      bytes[n++] = 0xc0 | (c >> 6);
      bytes[n++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      // Input is well-formed, so a high surrogate is always followed by a low one.
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      bytes[n++] = 0xf0 | (c >> 18);
      bytes[n++] = 0x80 | ((c >> 12) & 0x3f);
      bytes[n++] = 0x80 | ((c >> 6) & 0x3f);
      bytes[n++] = 0x80 | (c & 0x3f);
    } else {
      bytes[n++] = 0xe0 | (c >> 12);
      bytes[n++] = 0x80 | ((c >> 6) & 0x3f);
      bytes[n++] = 0x80 | (c & 0x3f);
    }
  }
  return utf8Decode(bytes, 0, n);
}

const plusRe = /\+/g;

// One name or value of the form-urlencoded parser: '+' → space, then percent-decode.
function decodeComponent(s) {
  if (s.indexOf('+') !== -1) s = s.replace(plusRe, ' ');
  if (s.indexOf('%') === -1) return s;
  // decodeURIComponent yields exactly the spec result whenever it succeeds (every escape
  // forms complete, valid UTF-8 on its own); it throws on anything needing replacement
  // characters or leaving a malformed '%' in place, which the general path handles.
  try {
    return decodeURIComponent(s);
  } catch {
    return percentDecodeSlow(s);
  }
}

// Parse a USVString into the flat list representation.
function parseToFlat(input) {
  const out = [];
  const len = input.length;
  let start = 0;
  while (start < len) {
    let amp = input.indexOf('&', start);
    if (amp === -1) amp = len;
    if (amp > start) {
      const seq = input.slice(start, amp);
      const eq = seq.indexOf('=');
      if (eq === -1) {
        out.push(decodeComponent(seq), '');
      } else {
        out.push(decodeComponent(seq.slice(0, eq)), decodeComponent(seq.slice(eq + 1)));
      }
    }
    start = amp + 1;
  }
  return out;
}

// Byte-level parser for bodies: the spec parses bytes, and decoding a body to text before
// percent-decoding would change results when raw non-UTF-8 bytes touch escapes.
function parseBytesToFlat(bytes) {
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] > 0x7f) {
      ascii = false;
      break;
    }
  }
  // ASCII bytes are the same as the string of those characters.
  if (ascii) return parseToFlat(latin1(bytes));
  const out = [];
  const len = bytes.length;
  const buf = new Uint8Array(len);
  const decodeRange = (from, to) => {
    let n = 0;
    for (let i = from; i < to; i++) {
      const b = bytes[i];
      if (b === 0x2b) {
        buf[n++] = 0x20;
        continue;
      }
      if (b === 0x25 && i + 2 < to) {
        const hi = hexValue(bytes[i + 1]);
        const lo = hexValue(bytes[i + 2]);
        if (hi !== -1 && lo !== -1) {
          buf[n++] = (hi << 4) | lo;
          i += 2;
          continue;
        }
      }
      buf[n++] = b;
    }
    return utf8Decode(buf, 0, n);
  };
  let start = 0;
  while (start < len) {
    let eq = -1;
    let amp = start;
    for (; amp < len && bytes[amp] !== 0x26; amp++) {
      if (eq === -1 && bytes[amp] === 0x3d) eq = amp;
    }
    if (amp > start) {
      if (eq === -1) out.push(decodeRange(start, amp), '');
      else out.push(decodeRange(start, eq), decodeRange(eq + 1, amp));
    }
    start = amp + 1;
  }
  return out;
}

function latin1(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(i + 4096, bytes.length)));
  }
  return s;
}

// "%XX" for every byte value, and which ASCII bytes the application/x-www-form-urlencoded
// percent-encode set leaves alone (alphanumerics and *-._).
const percentEncoded = Array.from({ length: 256 }, (_, b) => `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`);
const formSafe = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-._') formSafe[c.charCodeAt(0)] = 1;

// Encode one string with the form-urlencoded percent-encode set: UTF-8 (a lone surrogate
// encodes as U+FFFD), uppercase hex, space as '+'. Runs of safe characters are copied
// with slice() rather than character by character.
function encodeComponent(s) {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      if (formSafe[c] === 1) continue;
      out += s.slice(last, i) + (c === 0x20 ? '+' : percentEncoded[c]);
    } else if (c < 0x800) {
      out += s.slice(last, i) + percentEncoded[0xc0 | (c >> 6)] + percentEncoded[0x80 | (c & 0x3f)];
    } else {
      out += s.slice(last, i);
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = c <= 0xdbff && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
        if (d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out +=
            percentEncoded[0xf0 | (c >> 18)] +
            percentEncoded[0x80 | ((c >> 12) & 0x3f)] +
            percentEncoded[0x80 | ((c >> 6) & 0x3f)] +
            percentEncoded[0x80 | (c & 0x3f)];
          last = i + 1;
          continue;
        }
        c = 0xfffd;
      }
      out += percentEncoded[0xe0 | (c >> 12)] + percentEncoded[0x80 | ((c >> 6) & 0x3f)] + percentEncoded[0x80 | (c & 0x3f)];
    }
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

function serializeFlat(list) {
  let out = '';
  for (let i = 0; i < list.length; i += 2) {
    if (i !== 0) out += '&';
    out += `${encodeComponent(list[i])}=${encodeComponent(list[i + 1])}`;
  }
  return out;
}

// ---- WebIDL helpers -----------------------------------------------------------------------

function illegalInvocation() {
  return new TypeError('Illegal invocation');
}

function checkArgs(method, required, present) {
  if (present < required) {
    throw new TypeError(
      `Failed to execute '${method}' on 'URLSearchParams': ${required} argument${required > 1 ? 's' : ''} ` +
        `required, but only ${present} present.`,
    );
  }
}

function isObject(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function');
}

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

let listOf; // (params) => flat list, for the iterator

class URLSearchParamsIterator {
  #params;
  #kind;
  #index = 0;

  constructor(params, kind) {
    this.#params = params;
    this.#kind = kind;
  }

  next() {
    if (!(#params in this)) throw illegalInvocation();
    // Index into the live list: mutations during iteration are observed (WebIDL pair
    // iterator semantics).
    const list = listOf(this.#params);
    const i = this.#index * 2;
    if (i >= list.length) return { value: undefined, done: true };
    this.#index++;
    switch (this.#kind) {
      case 'key':
        return { value: list[i], done: false };
      case 'value':
        return { value: list[i + 1], done: false };
      default:
        return { value: [list[i], list[i + 1]], done: false };
    }
  }
}
Object.setPrototypeOf(URLSearchParamsIterator.prototype, IteratorPrototype);
delete URLSearchParamsIterator.prototype.constructor;
Object.defineProperty(URLSearchParamsIterator.prototype, 'next', { enumerable: true });
Object.defineProperty(URLSearchParamsIterator.prototype, Symbol.toStringTag, {
  value: 'URLSearchParams Iterator',
  configurable: true,
});

// ---- the class ------------------------------------------------------------------------------

const kInternal = Symbol('internal');
let makeForURL;
let resetList;
let serializeParams;

export class URLSearchParams {
  #list = [];
  #serialized = null; // cache of serializeFlat(#list), reset on mutation
  #onUpdate = null; // set when bound to a URL

  constructor(init = '') {
    if (init === kInternal) return;
    const context = "Failed to construct 'URLSearchParams'";
    if (isObject(init)) {
      const iterMethod = init[Symbol.iterator];
      if (iterMethod !== undefined && iterMethod !== null) {
        if (typeof iterMethod !== 'function') {
          throw new TypeError(`${context}: The object must have a callable @@iterator property.`);
        }
        if (#list in init && iterMethod === entries) {
          this.#list = init.#list.slice();
          return;
        }
        // sequence<sequence<USVString>>, converted in full before any pair is checked.
        const pairs = [];
        for (const item of { [Symbol.iterator]: () => iterMethod.call(init) }) {
          if (!isObject(item) || typeof item[Symbol.iterator] !== 'function') {
            throw new TypeError(`${context}: The provided value cannot be converted to a sequence.`);
          }
          const pair = [];
          for (const part of item) pair.push(toUSVString(part));
          pairs.push(pair);
        }
        const list = [];
        for (const pair of pairs) {
          if (pair.length !== 2) {
            throw new TypeError(`${context}: Sequence initializer must only contain pair elements.`);
          }
          list.push(pair[0], pair[1]);
        }
        this.#list = list;
        return;
      }
      // record<USVString, USVString>
      const list = [];
      for (const key of Reflect.ownKeys(init)) {
        const desc = Reflect.getOwnPropertyDescriptor(init, key);
        if (desc !== undefined && desc.enumerable) list.push(toUSVString(key), toUSVString(init[key]));
      }
      this.#list = list;
      return;
    }
    let s = toUSVString(init);
    if (s.charCodeAt(0) === 0x3f) s = s.slice(1);
    this.#list = parseToFlat(s);
  }

  static {
    listOf = (p) => p.#list;
    makeForURL = (query, onUpdate) => {
      const p = new URLSearchParams(kInternal);
      p.#list = query ? parseToFlat(toWellFormed(`${query}`)) : [];
      p.#onUpdate = onUpdate;
      return p;
    };
    resetList = (p, query) => {
      p.#list = query ? parseToFlat(toWellFormed(`${query}`)) : [];
      p.#serialized = null;
    };
    serializeParams = (p) => p.#serialize();
  }

  // The spec's "update" steps: tell the owning URL (if any) its new query.
  #update() {
    this.#serialized = null;
    if (this.#onUpdate !== null) this.#onUpdate(this.#serialize());
  }

  #serialize() {
    return (this.#serialized ??= serializeFlat(this.#list));
  }

  get size() {
    if (!(#list in this)) throw illegalInvocation();
    return this.#list.length / 2;
  }

  append(name, value) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('append', 2, arguments.length);
    this.#list.push(toUSVString(name), toUSVString(value));
    this.#update();
  }

  delete(name, value = undefined) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('delete', 1, arguments.length);
    name = toUSVString(name);
    const matchValue = value !== undefined;
    if (matchValue) value = toUSVString(value);
    const list = this.#list;
    let w = 0;
    for (let r = 0; r < list.length; r += 2) {
      if (list[r] === name && (!matchValue || list[r + 1] === value)) continue;
      list[w] = list[r];
      list[w + 1] = list[r + 1];
      w += 2;
    }
    list.length = w;
    this.#update();
  }

  get(name) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('get', 1, arguments.length);
    name = toUSVString(name);
    const list = this.#list;
    for (let i = 0; i < list.length; i += 2) if (list[i] === name) return list[i + 1];
    return null;
  }

  getAll(name) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('getAll', 1, arguments.length);
    name = toUSVString(name);
    const list = this.#list;
    const out = [];
    for (let i = 0; i < list.length; i += 2) if (list[i] === name) out.push(list[i + 1]);
    return out;
  }

  has(name, value = undefined) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('has', 1, arguments.length);
    name = toUSVString(name);
    const matchValue = value !== undefined;
    if (matchValue) value = toUSVString(value);
    const list = this.#list;
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === name && (!matchValue || list[i + 1] === value)) return true;
    }
    return false;
  }

  set(name, value) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('set', 2, arguments.length);
    name = toUSVString(name);
    value = toUSVString(value);
    // Replace the first match in place, remove the others; append if none.
    const list = this.#list;
    let found = false;
    let w = 0;
    for (let r = 0; r < list.length; r += 2) {
      if (list[r] === name) {
        if (found) continue;
        found = true;
        list[w] = name;
        list[w + 1] = value;
      } else {
        list[w] = list[r];
        list[w + 1] = list[r + 1];
      }
      w += 2;
    }
    list.length = w;
    if (!found) list.push(name, value);
    this.#update();
  }

  sort() {
    if (!(#list in this)) throw illegalInvocation();
    const list = this.#list;
    const n = list.length / 2;
    const order = new Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    // Array.prototype.sort is stable; `<` on strings compares UTF-16 code units, which
    // is exactly the order the spec asks for.
    order.sort((a, b) => {
      const x = list[a * 2];
      const y = list[b * 2];
      return x < y ? -1 : x > y ? 1 : 0;
    });
    const sorted = new Array(list.length);
    for (let i = 0; i < n; i++) {
      sorted[i * 2] = list[order[i] * 2];
      sorted[i * 2 + 1] = list[order[i] * 2 + 1];
    }
    this.#list = sorted;
    this.#update();
  }

  toString() {
    if (!(#list in this)) throw illegalInvocation();
    return this.#serialize();
  }

  forEach(callback, thisArg = undefined) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('forEach', 1, arguments.length);
    if (typeof callback !== 'function') {
      throw new TypeError(
        "Failed to execute 'forEach' on 'URLSearchParams': The callback provided as parameter 1 is not a function.",
      );
    }
    // Re-read the list every step so mutations by the callback are observed.
    for (let i = 0; i < this.#list.length; i += 2) {
      callback.call(thisArg, this.#list[i + 1], this.#list[i], this);
    }
  }

  keys() {
    if (!(#list in this)) throw illegalInvocation();
    return new URLSearchParamsIterator(this, 'key');
  }

  values() {
    if (!(#list in this)) throw illegalInvocation();
    return new URLSearchParamsIterator(this, 'value');
  }

  entries() {
    if (!(#list in this)) throw illegalInvocation();
    return new URLSearchParamsIterator(this, 'key+value');
  }
}

const { entries } = URLSearchParams.prototype;

for (const name of [
  'size',
  'append',
  'delete',
  'get',
  'getAll',
  'has',
  'set',
  'sort',
  'toString',
  'forEach',
  'keys',
  'values',
  'entries',
]) {
  Object.defineProperty(URLSearchParams.prototype, name, { enumerable: true });
}
Object.defineProperty(URLSearchParams.prototype, Symbol.iterator, {
  value: entries,
  writable: true,
  configurable: true,
});
Object.defineProperty(URLSearchParams.prototype, Symbol.toStringTag, {
  value: 'URLSearchParams',
  configurable: true,
});

// ---- internal exports ---------------------------------------------------------------------------

// For the URL class: a params object whose list is parsed from `query` (the URL's query
// without '?', or null) and which calls `onUpdate(serializedString)` after every mutation.
export function newURLSearchParamsForURL(query, onUpdate) {
  return makeForURL(query, onUpdate);
}

// Brand check (not instanceof): true only for genuine URLSearchParams objects; for body
// extraction in Request/Response/fetch.
export function isURLSearchParams(v) {
  if (!isObject(v)) return false;
  try {
    listOf(v);
    return true;
  } catch {
    return false;
  }
}

// The application/x-www-form-urlencoded serialization of `params`, ignoring any
// user-patched toString(); throws "Illegal invocation" for non-URLSearchParams.
export function serializeURLSearchParams(params) {
  if (!isURLSearchParams(params)) throw illegalInvocation();
  return serializeParams(params);
}

// For URL's search/href setters: replace the list by parsing `query` (no leading '?'; null or
// '' gives an empty list) without calling onUpdate.
export function resetURLSearchParamsList(params, query) {
  try {
    listOf(params);
  } catch {
    throw illegalInvocation();
  }
  resetList(params, query);
}

// application/x-www-form-urlencoded parser: `input` is a string or a byte sequence
// (Uint8Array / ArrayBuffer). Returns [[name, value], ...].
export function parseFormUrlencoded(input) {
  let flat;
  if (input instanceof ArrayBuffer) flat = parseBytesToFlat(new Uint8Array(input));
  else if (ArrayBuffer.isView(input)) {
    flat = parseBytesToFlat(new Uint8Array(input.buffer, input.byteOffset, input.byteLength));
  } else flat = parseToFlat(toUSVString(input));
  const pairs = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  return pairs;
}

// application/x-www-form-urlencoded serializer for an iterable of [name, value] pairs
// (strings are made well-formed first; lone surrogates encode as U+FFFD).
export function serializeFormUrlencoded(pairs) {
  const flat = [];
  for (const [name, value] of pairs) flat.push(toUSVString(name), toUSVString(value));
  return serializeFlat(flat);
}
