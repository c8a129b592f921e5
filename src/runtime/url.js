// URL (WHATWG URL Standard). Parsing, serializing and every setter run in C
// (src/webapi/url.c); the object keeps the values its getters return.
import ops from "./ops.js";

// Indexes of the record returned by ops.urlParse / ops.urlSet (see src/webapi/url_ops.c).
const HREF = 0,
  PROTOCOL = 1,
  USERNAME = 2,
  PASSWORD = 3,
  HOST = 4,
  HOSTNAME = 5,
  PORT = 6,
  PATHNAME = 7,
  SEARCH = 8,
  HASH = 9,
  ORIGIN = 10;

// URLSearchParams is loaded only when a URL's searchParams is first used.
const searchParamsModule = () => ops.loadModule("url_search_params.js");

function parse(url, base) {
  return ops.urlParse(String(url), base === undefined ? null : String(base));
}

export class URL {
  #r;
  #params = null;

  constructor(url, base = undefined) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to construct 'URL': 1 argument required, but only 0 present.");
    }
    const r = parse(url, base);
    if (r === null) throw new TypeError(`Invalid URL: ${String(url)}`);
    this.#r = r;
  }

  static canParse(url, base = undefined) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to execute 'canParse' on 'URL': 1 argument required, but only 0 present.");
    }
    return parse(url, base) !== null;
  }

  static parse(url, base = undefined) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to execute 'parse' on 'URL': 1 argument required, but only 0 present.");
    }
    try {
      return new URL(url, base);
    } catch {
      return null;
    }
  }

  #set(field, value) {
    const r = ops.urlSet(this.#r[HREF], field, String(value));
    if (r !== null) this.#r = r;
    return r;
  }

  // The search setter and href setter must refresh an existing searchParams object.
  #syncParams() {
    if (this.#params) searchParamsModule().resetURLSearchParamsList(this.#params, this.#r[SEARCH].slice(1));
  }

  get href() {
    return this.#r[HREF];
  }
  set href(value) {
    if (this.#set("href", value) === null) throw new TypeError(`Invalid URL: ${String(value)}`);
    this.#syncParams();
  }
  get origin() {
    return this.#r[ORIGIN];
  }
  get protocol() {
    return this.#r[PROTOCOL];
  }
  set protocol(value) {
    this.#set("protocol", value);
  }
  get username() {
    return this.#r[USERNAME];
  }
  set username(value) {
    this.#set("username", value);
  }
  get password() {
    return this.#r[PASSWORD];
  }
  set password(value) {
    this.#set("password", value);
  }
  get host() {
    return this.#r[HOST];
  }
  set host(value) {
    this.#set("host", value);
  }
  get hostname() {
    return this.#r[HOSTNAME];
  }
  set hostname(value) {
    this.#set("hostname", value);
  }
  get port() {
    return this.#r[PORT];
  }
  set port(value) {
    this.#set("port", value);
  }
  get pathname() {
    return this.#r[PATHNAME];
  }
  set pathname(value) {
    this.#set("pathname", value);
  }
  get search() {
    return this.#r[SEARCH];
  }
  set search(value) {
    this.#set("search", value);
    this.#syncParams();
  }
  get searchParams() {
    if (!this.#params) {
      this.#params = searchParamsModule().newURLSearchParamsForURL(this.#r[SEARCH].slice(1), (serialized) => {
        this.#set("query", serialized);
      });
    }
    return this.#params;
  }
  get hash() {
    return this.#r[HASH];
  }
  set hash(value) {
    this.#set("hash", value);
  }
  toString() {
    return this.#r[HREF];
  }
  toJSON() {
    return this.#r[HREF];
  }
  get [Symbol.toStringTag]() {
    return "URL";
  }
}

// WebIDL attributes are enumerable accessors on the prototype.
for (const name of ["href", "origin", "protocol", "username", "password", "host", "hostname", "port", "pathname", "search", "searchParams", "hash"]) {
  Object.defineProperty(URL.prototype, name, { enumerable: true });
}
for (const name of ["toString", "toJSON"]) {
  Object.defineProperty(URL.prototype, name, { enumerable: true });
}
