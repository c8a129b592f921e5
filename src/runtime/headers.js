// The Fetch Standard `Headers` class (https://fetch.spec.whatwg.org/#headers-class).
//
// Storage is one flat array [name0, value0, name1, value1, ...] with names already
// byte-lowercased and values normalized. A flat array keeps per-request construction
// cheap (the HTTP layer hands us exactly that shape) and needs no per-entry objects.
// The spec's "sort and combine" view used for iteration is computed lazily and cached
// until the next mutation.

const kGuards = new Set(['none', 'request', 'request-no-cors', 'response', 'immutable']);

// RFC 9110 token characters.
const tokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Leading/trailing HTTP whitespace (tab, LF, CR, space).
const edgeWhitespaceRe = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const invalidValueRe = /[\0\r\n]/;
const nonLatin1Re = /[^\0-\xFF]/;
// Anything a value must not contain (after trimming): one test on the fast path.
const suspiciousValueRe = /[\0\r\n\u0100-\uFFFF]/;

// ---- WebIDL-style helpers --------------------------------------------------------

function illegalInvocation() {
  return new TypeError('Illegal invocation');
}

function checkArgs(method, required, present) {
  if (present < required) {
    throw new TypeError(
      `Failed to execute '${method}' on 'Headers': ${required} argument${required > 1 ? 's' : ''} ` +
        `required, but only ${present} present.`,
    );
  }
}

// Error message prefix; `method` is an operation name, or null for the constructor. Built
// only when throwing, so the hot paths pass plain string constants around.
function contextOf(method) {
  return method === null ? "Failed to construct 'Headers'" : `Failed to execute '${method}' on 'Headers'`;
}

// ECMAScript ToString as WebIDL uses it: a template literal throws on symbols, unlike
// String().
function toStr(v) {
  return typeof v === 'string' ? v : `${v}`;
}

function nonByteStringError(method) {
  return new TypeError(`${contextOf(method)}: String contains non ISO-8859-1 code point.`);
}

// WebIDL ByteString: ToString, then reject code units above 0xFF.
function toByteString(v, method) {
  const s = toStr(v);
  if (nonLatin1Re.test(s)) throw nonByteStringError(method);
  return s;
}

// Header name → its lowercase form, throwing a TypeError unless it is a token. The same
// few dozen names recur on every request, so validated names are memoized (bounded).
const nameCache = new Map();
function canonicalName(name, method) {
  const cached = nameCache.get(name);
  if (cached !== undefined) return cached;
  if (nonLatin1Re.test(name)) throw nonByteStringError(method);
  if (!tokenRe.test(name)) {
    throw new TypeError(`${contextOf(method)}: Invalid header name ${JSON.stringify(name)}.`);
  }
  const lname = name.toLowerCase();
  if (nameCache.size >= 1024) nameCache.clear();
  nameCache.set(name, lname);
  return lname;
}

// Lowercase a raw header name from the HTTP parser. Most clients already send lowercase
// names (HTTP/2 requires it); checking first avoids allocating a copy for those.
function lowerRawName(name) {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return name.toLowerCase();
  }
  return name;
}

function isHttpWhitespace(c) {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

// Normalize (strip edge HTTP whitespace) and validate a header value (a ByteString
// without NUL, CR or LF).
function normalizeValue(name, value, method) {
  let v = value;
  if (v.length !== 0 && (isHttpWhitespace(v.charCodeAt(0)) || isHttpWhitespace(v.charCodeAt(v.length - 1)))) {
    v = v.replace(edgeWhitespaceRe, '');
  }
  if (suspiciousValueRe.test(v)) {
    if (nonLatin1Re.test(v)) throw nonByteStringError(method);
    if (invalidValueRe.test(v)) {
      throw new TypeError(`${contextOf(method)}: Invalid value ${JSON.stringify(v)} for header ${JSON.stringify(name)}.`);
    }
  }
  return v;
}

// ---- request-no-cors guard (Fetch "no-CORS-safelisted request-header") ---------------

const unsafeByteRe = /[\0-\x08\x0A-\x1F"():<>?@[\\\]{}\x7F]/;
const languageRe = /^[0-9A-Za-z *,\-.;=]*$/;
const safelistedContentTypes = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);
const noCorsSafelistedNames = new Set(['accept', 'accept-language', 'content-language', 'content-type']);

function mimeEssence(value) {
  const semi = value.indexOf(';');
  const essence = (semi === -1 ? value : value.slice(0, semi)).replace(edgeWhitespaceRe, '');
  const slash = essence.indexOf('/');
  if (slash <= 0 || !tokenRe.test(essence.slice(0, slash)) || !tokenRe.test(essence.slice(slash + 1))) {
    return null;
  }
  return essence.toLowerCase();
}

function isCorsSafelisted(name, value) {
  if (value.length > 128) return false;
  switch (name) {
    case 'accept':
      return !unsafeByteRe.test(value);
    case 'accept-language':
    case 'content-language':
      return languageRe.test(value);
    case 'content-type': {
      if (unsafeByteRe.test(value)) return false;
      const essence = mimeEssence(value);
      return essence !== null && safelistedContentTypes.has(essence);
    }
    default:
      return false;
  }
}

function isNoCorsSafelisted(name, value) {
  return noCorsSafelistedNames.has(name) && isCorsSafelisted(name, value);
}

// ---- iteration helpers -----------------------------------------------------------------

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));

// Spec "sort and combine": unique names sorted by code unit, values joined with ", ",
// except that each set-cookie value is its own entry. Returns a flat [name, value, ...].
function sortAndCombine(list) {
  const combined = new Map();
  let cookies = null;
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i];
    if (name === 'set-cookie') {
      (cookies ??= []).push(list[i + 1]);
      if (!combined.has(name)) combined.set(name, null);
      continue;
    }
    const prev = combined.get(name);
    combined.set(name, prev === undefined ? list[i + 1] : `${prev}, ${list[i + 1]}`);
  }
  const names = [...combined.keys()].sort();
  const out = [];
  for (const name of names) {
    if (name === 'set-cookie') {
      for (const v of cookies) out.push(name, v);
    } else {
      out.push(name, combined.get(name));
    }
  }
  return out;
}

let sortedView; // (headers) => flat sorted-and-combined list, cached per mutation

class HeadersIterator {
  #headers;
  #kind;
  #index = 0;

  constructor(headers, kind) {
    this.#headers = headers;
    this.#kind = kind;
  }

  next() {
    if (!(#headers in this)) throw illegalInvocation();
    // The view is recomputed (or fetched from cache) on every step: the spec defines the
    // iterator over an index into a fresh "sort and combine" of the current list, so
    // mutations during iteration are observed exactly like browsers do.
    const view = sortedView(this.#headers);
    const i = this.#index * 2;
    if (i >= view.length) return { value: undefined, done: true };
    this.#index++;
    switch (this.#kind) {
      case 'key':
        return { value: view[i], done: false };
      case 'value':
        return { value: view[i + 1], done: false };
      default:
        return { value: [view[i], view[i + 1]], done: false };
    }
  }
}
Object.setPrototypeOf(HeadersIterator.prototype, IteratorPrototype);
delete HeadersIterator.prototype.constructor;
Object.defineProperty(HeadersIterator.prototype, 'next', { enumerable: true });
Object.defineProperty(HeadersIterator.prototype, Symbol.toStringTag, {
  value: 'Headers Iterator',
  configurable: true,
});

// ---- the class --------------------------------------------------------------------------

let getList;
let getGuard;
let setGuard;
let makeHeaders;
let getCombined;

// Sentinel that lets module-internal code create an empty instance without running the
// public WebIDL conversion of `init`.
const kInternal = Symbol('internal');

export class Headers {
  #list = [];
  #guard = 'none';
  #sorted = null;

  constructor(init = undefined) {
    if (init === kInternal) return;
    if (init === undefined) return;
    const context = contextOf(null);
    if (init === null || (typeof init !== 'object' && typeof init !== 'function')) {
      throw new TypeError(
        `${context}: The provided value is not of type '(record<ByteString, ByteString> or sequence<sequence<ByteString>>)'.`,
      );
    }
    // Fast path for an untampered Headers: the same result as iterating it and appending
    // each pair (combined values re-normalized, since "a" + "" combines to "a, " and
    // append trims that to "a,"), minus the per-pair validation.
    const iterMethod = init[Symbol.iterator];
    if (#list in init && iterMethod === entries) {
      const view = sortedView(init);
      const list = new Array(view.length);
      for (let i = 0; i < view.length; i += 2) {
        list[i] = view[i];
        list[i + 1] = view[i + 1].replace(edgeWhitespaceRe, '');
      }
      this.#list = list;
      return;
    }
    if (iterMethod !== undefined && iterMethod !== null) {
      if (typeof iterMethod !== 'function') {
        throw new TypeError(`${context}: The object must have a callable @@iterator property.`);
      }
      // WebIDL converts the whole sequence<sequence<ByteString>> before the body runs.
      const pairs = [];
      for (const item of { [Symbol.iterator]: () => iterMethod.call(init) }) {
        if (
          item === null ||
          (typeof item !== 'object' && typeof item !== 'function') ||
          typeof item[Symbol.iterator] !== 'function'
        ) {
          throw new TypeError(`${context}: The provided value cannot be converted to a sequence.`);
        }
        const pair = [];
        for (const part of item) pair.push(toByteString(part, null));
        pairs.push(pair);
      }
      for (const pair of pairs) {
        if (pair.length !== 2) {
          throw new TypeError(`${context}: Invalid value (header pair must have exactly 2 items, found ${pair.length}).`);
        }
        this.#append(pair[0], pair[1], null);
      }
      return;
    }
    // record<ByteString, ByteString>: own enumerable keys in property order.
    const record = [];
    for (const key of Reflect.ownKeys(init)) {
      const desc = Reflect.getOwnPropertyDescriptor(init, key);
      if (desc !== undefined && desc.enumerable) {
        record.push(toByteString(key, null), toByteString(init[key], null));
      }
    }
    for (let i = 0; i < record.length; i += 2) this.#append(record[i], record[i + 1], null);
  }

  static {
    getList = (h) => h.#list;
    getGuard = (h) => h.#guard;
    setGuard = (h, guard) => {
      h.#guard = guard;
    };
    makeHeaders = (list, guard) => {
      const h = new Headers(kInternal);
      h.#list = list;
      h.#guard = guard;
      return h;
    };
    sortedView = (h) => (h.#sorted ??= sortAndCombine(h.#list));
    getCombined = (h, name) => h.#get(name);
  }

  #checkImmutable() {
    if (this.#guard === 'immutable') throw new TypeError("Can't modify immutable headers.");
  }

  #get(lname) {
    const list = this.#list;
    let result = null;
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === lname) result = result === null ? list[i + 1] : `${result}, ${list[i + 1]}`;
    }
    return result;
  }

  #removeAll(lname) {
    const list = this.#list;
    let w = 0;
    for (let r = 0; r < list.length; r += 2) {
      if (list[r] !== lname) {
        list[w] = list[r];
        list[w + 1] = list[r + 1];
        w += 2;
      }
    }
    list.length = w;
  }

  // Fetch "append" with validation; shared by the constructor and append().
  // `method` names the operation for error messages (null: the constructor).
  #append(name, value, method) {
    const lname = canonicalName(name, method);
    value = normalizeValue(name, value, method);
    this.#checkImmutable();
    if (this.#guard === 'request-no-cors') {
      const existing = this.#get(lname);
      if (!isNoCorsSafelisted(lname, existing === null ? value : `${existing}, ${value}`)) return;
    }
    this.#list.push(lname, value);
    this.#sorted = null;
    if (this.#guard === 'request-no-cors') this.#removeAll('range');
  }

  append(name, value) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('append', 2, arguments.length);
    this.#append(toStr(name), toStr(value), 'append');
  }

  delete(name) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('delete', 1, arguments.length);
    const lname = canonicalName(toStr(name), 'delete');
    this.#checkImmutable();
    if (this.#guard === 'request-no-cors' && !noCorsSafelistedNames.has(lname) && lname !== 'range') return;
    const before = this.#list.length;
    this.#removeAll(lname);
    if (this.#list.length !== before) this.#sorted = null;
  }

  get(name) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('get', 1, arguments.length);
    return this.#get(canonicalName(toStr(name), 'get'));
  }

  getSetCookie() {
    if (!(#list in this)) throw illegalInvocation();
    const list = this.#list;
    const out = [];
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === 'set-cookie') out.push(list[i + 1]);
    }
    return out;
  }

  has(name) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('has', 1, arguments.length);
    const lname = canonicalName(toStr(name), 'has');
    const list = this.#list;
    for (let i = 0; i < list.length; i += 2) if (list[i] === lname) return true;
    return false;
  }

  set(name, value) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('set', 2, arguments.length);
    name = toStr(name);
    value = toStr(value);
    const lname = canonicalName(name, 'set');
    value = normalizeValue(name, value, 'set');
    this.#checkImmutable();
    if (this.#guard === 'request-no-cors' && !isNoCorsSafelisted(lname, value)) return;
    // Spec "set": replace the first occurrence in place, drop the rest, else append.
    const list = this.#list;
    let found = false;
    let w = 0;
    for (let r = 0; r < list.length; r += 2) {
      if (list[r] === lname) {
        if (found) continue;
        found = true;
        list[w] = lname;
        list[w + 1] = value;
      } else {
        list[w] = list[r];
        list[w + 1] = list[r + 1];
      }
      w += 2;
    }
    list.length = w;
    if (!found) list.push(lname, value);
    this.#sorted = null;
    if (this.#guard === 'request-no-cors') this.#removeAll('range');
  }

  forEach(callback, thisArg = undefined) {
    if (!(#list in this)) throw illegalInvocation();
    checkArgs('forEach', 1, arguments.length);
    if (typeof callback !== 'function') {
      throw new TypeError(
        "Failed to execute 'forEach' on 'Headers': The callback provided as parameter 1 is not a function.",
      );
    }
    // Like the iterator, re-read the (cached) view each step so the callback sees
    // mutations it makes.
    for (let i = 0; ; i += 2) {
      const view = sortedView(this);
      if (i >= view.length) break;
      callback.call(thisArg, view[i + 1], view[i], this);
    }
  }

  keys() {
    if (!(#list in this)) throw illegalInvocation();
    return new HeadersIterator(this, 'key');
  }

  values() {
    if (!(#list in this)) throw illegalInvocation();
    return new HeadersIterator(this, 'value');
  }

  entries() {
    if (!(#list in this)) throw illegalInvocation();
    return new HeadersIterator(this, 'key+value');
  }
}

const { entries } = Headers.prototype;

// WebIDL: operations are enumerable; @@iterator is the same function as entries().
for (const name of ['append', 'delete', 'get', 'getSetCookie', 'has', 'set', 'forEach', 'keys', 'values', 'entries']) {
  Object.defineProperty(Headers.prototype, name, { enumerable: true });
}
Object.defineProperty(Headers.prototype, Symbol.iterator, {
  value: entries,
  writable: true,
  configurable: true,
});
Object.defineProperty(Headers.prototype, Symbol.toStringTag, {
  value: 'Headers',
  configurable: true,
});

function checkGuard(guard) {
  if (!kGuards.has(guard)) throw new TypeError(`Invalid headers guard: ${guard}`);
  return guard;
}

// The internal list of `h`, or an "Illegal invocation" TypeError if `h` is not a Headers.
function brand(h) {
  if (!isHeaders(h)) throw illegalInvocation();
  return getList(h);
}

// ---- internal exports for other runtime modules ------------------------------------------

// Build Headers from raw HTTP lines [name0, value0, ...] (names any case, values already
// trimmed/validated by the HTTP parser) without validation. Takes ownership of nothing:
// `flat` is not retained.
export function headersFromFlatList(flat, guard = 'none') {
  const list = new Array(flat.length);
  for (let i = 0; i < flat.length; i += 2) {
    list[i] = lowerRawName(flat[i]);
    list[i + 1] = flat[i + 1];
  }
  return makeHeaders(list, checkGuard(guard));
}

// [name0, value0, ...] in insertion order for writing a message head: lowercase names,
// values as stored, one entry per append (so every Set-Cookie is its own line). Fresh array.
export function headersToFlatList(h) {
  return brand(h).slice();
}

// The guard string of `h` ("none", "request", "request-no-cors", "response", "immutable").
export function headersGuard(h) {
  brand(h);
  return getGuard(h);
}

// Change the guard of `h`, e.g. make a fetched Response's headers "immutable".
export function setHeadersGuard(h, guard) {
  brand(h);
  setGuard(h, checkGuard(guard));
}

// Copy of `h` (same entries, in order) with the given guard; for Request/Response clone().
export function cloneHeaders(h, guard = undefined) {
  const list = brand(h).slice();
  return makeHeaders(list, checkGuard(guard ?? getGuard(h)));
}

// Fast get for runtime code: `lowercaseName` must already be a lowercase token. Returns the
// combined value or null, bypassing (possibly user-patched) Headers.prototype.get.
export function headersGetLower(h, lowercaseName) {
  brand(h);
  return getCombined(h, lowercaseName);
}

// Whether `v` is a genuine Headers instance (brand check, not instanceof).
export function isHeaders(v) {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return false;
  try {
    getList(v);
    return true;
  } catch {
    return false;
  }
}
