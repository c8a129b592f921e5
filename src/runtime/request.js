// Request (Fetch Standard, as the Workers runtime exposes it).
import { BodyState, extractBody, cloneBodyState, installBodyMethods, isBodyUsed } from "./body.js";
import { Headers, headersFromFlatList, cloneHeaders, headersGetLower, isHeaders } from "./headers.js";
import ops from "./ops.js";

const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
const FORBIDDEN_METHODS = new Set(["CONNECT", "TRACE", "TRACK"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// Passed as `input` by newIncomingRequest: skips validation for requests hearth built itself.
const INCOMING = Symbol("incoming request");

function normalizeMethod(method) {
  const m = String(method);
  if (!TOKEN.test(m)) throw new TypeError(`Invalid HTTP method string: ${m}`);
  const upper = m.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`'${m}' HTTP method is unsupported.`);
  return NORMALIZED_METHODS.has(upper) ? upper : m;
}

let requestState;

// AbortSignal lives in abort.js, loaded only when a signal is given or `signal` is read.
const abortModule = () => ops.loadModule("abort.js");

export class Request {
  #method = "GET";
  #url = "";
  #headers = null; // Headers, created on first use
  #rawHeaders = null; // incoming requests: "Name: value\r\n" lines until parsed
  #body;
  #redirect = "follow";
  #cf = undefined;
  #signal = null; // AbortSignal; null: a never-aborting one, created on first read

  constructor(input, init = undefined) {
    if (input === INCOMING) {
      this.#method = init.method;
      this.#url = init.url;
      this.#rawHeaders = init.rawHeaders;
      this.#body = init.body;
      this.#cf = init.cf;
      if (init.redirect) this.#redirect = init.redirect;
      return;
    }
    if (arguments.length < 1) {
      throw new TypeError("Failed to construct 'Request': 1 argument required, but only 0 present.");
    }
    const opts = init ?? {};
    let source = null;
    if (input instanceof Request) {
      source = input;
      this.#method = requestState(input).method;
      this.#url = requestState(input).url;
      this.#redirect = requestState(input).redirect;
      this.#cf = requestState(input).cf;
      this.#signal = input.#signal;
    } else {
      // [href, protocol, username, password, ...] (see src/webapi/url_ops.c)
      const parsed = ops.urlParse(String(input), null);
      if (parsed === null) throw new TypeError(`Invalid URL: ${String(input)}`);
      if (parsed[2] || parsed[3]) {
        throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${String(input)}`);
      }
      this.#url = parsed[0];
    }
    if (opts.method !== undefined) this.#method = normalizeMethod(opts.method);
    if (opts.redirect !== undefined) {
      const r = String(opts.redirect);
      if (r !== "follow" && r !== "manual" && r !== "error") {
        throw new TypeError(`Failed to construct 'Request': '${r}' is not a valid value for 'redirect'.`);
      }
      this.#redirect = r;
    }
    if (opts.cf !== undefined) this.#cf = opts.cf;
    // As in workerd, the request keeps the given signal itself (the spec makes a dependent one).
    if (opts.signal !== undefined) {
      if (opts.signal !== null && !abortModule().isAbortSignal(opts.signal)) {
        throw new TypeError("Failed to construct 'Request': member signal is not of type AbortSignal.");
      }
      this.#signal = opts.signal;
    }

    // Headers: init.headers replaces the source's.
    if (opts.headers !== undefined) {
      this.#headers = new Headers(opts.headers);
    } else if (source) {
      this.#headers = cloneHeaders(source.headers, "request");
    }

    let body;
    if (opts.body !== undefined && opts.body !== null) {
      if (this.#method === "GET" || this.#method === "HEAD") {
        throw new TypeError("Request with a GET or HEAD method cannot have a body.");
      }
      body = extractBody(opts.body);
    } else if (source) {
      // An init body of null still means the input's body (the spec's inputOrInitBody).
      const s = requestState(source).body;
      if (isBodyUsed(s)) throw new TypeError("Cannot construct a Request with a Request object that has already been used.");
      if (s.source !== null && (this.#method === "GET" || this.#method === "HEAD")) {
        throw new TypeError("Request with a GET or HEAD method cannot have a body.");
      }
      body = new BodyState(s.source, s.contentType);
      // The body moves to the new request.
      s.used = s.source !== null;
    } else {
      body = new BodyState(null, null);
    }
    if (body.contentType !== null) {
      if (!this.#headers) this.#headers = new Headers();
      if (headersGetLower(this.#headers, "content-type") === null) {
        this.#headers.set("content-type", body.contentType);
      }
    }
    this.#body = body;
  }

  get method() {
    return this.#method;
  }
  get url() {
    return this.#url;
  }
  get headers() {
    if (this.#headers === null) {
      this.#headers = this.#rawHeaders === null ? new Headers() : parseRawHeaders(this.#rawHeaders);
      this.#rawHeaders = null;
    }
    return this.#headers;
  }
  get redirect() {
    return this.#redirect;
  }
  get cf() {
    return this.#cf;
  }
  get fetcher() {
    return null;
  }
  get integrity() {
    return "";
  }
  get keepalive() {
    return false;
  }
  get signal() {
    if (!(#body in this)) throw new TypeError("Illegal invocation");
    return (this.#signal ??= abortModule().neverAbortingSignal());
  }
  clone() {
    if (!(this instanceof Request)) throw new TypeError("Illegal invocation");
    const copy = new Request(INCOMING, {
      method: this.#method,
      url: this.#url,
      rawHeaders: null,
      body: cloneBodyState(this.#body),
      cf: this.#cf,
    });
    requestState(copy).setHeaders(cloneHeaders(this.headers, "request"));
    requestState(copy).setRedirect(this.#redirect);
    copy.#signal = this.#signal;
    return copy;
  }

  get [Symbol.toStringTag]() {
    return "Request";
  }

  static {
    requestState = (r) => {
      if (!(#body in r)) throw new TypeError("Illegal invocation");
      return {
        method: r.#method,
        url: r.#url,
        redirect: r.#redirect,
        cf: r.#cf,
        body: r.#body,
        setHeaders: (h) => {
          r.#headers = h;
          r.#rawHeaders = null;
        },
        setRedirect: (v) => {
          r.#redirect = v;
        },
      };
    };
    installBodyMethods(
      Request,
      (r) => {
        if (!(#body in r)) throw new TypeError("Illegal invocation");
        return r.#body;
      },
      (r) => headersGetLower(r.headers, "content-type"),
    );
  }
}

for (const name of ["method", "url", "headers", "redirect", "cf", "fetcher", "integrity", "keepalive", "signal", "clone"]) {
  Object.defineProperty(Request.prototype, name, { enumerable: true });
}

function parseRawHeaders(raw) {
  const flat = [];
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf("\r\n", start);
    if (end < 0) end = raw.length;
    const colon = raw.indexOf(":", start);
    if (colon > start && colon < end) {
      flat.push(raw.slice(start, colon), raw.slice(colon + 1, end).trim());
    }
    start = end + 2;
  }
  // Requests that arrive from a client cannot be changed, as on the platform.
  return headersFromFlatList(flat, "immutable");
}

// A request as it arrived at hearth (dispatch "fetch").
export function newIncomingRequest(method, url, rawHeaders, body, clientIp) {
  // body: bytes, null, or a ReadableStream (a service binding's streamed request body)
  const bytes = body === null ? null : body instanceof ArrayBuffer ? new Uint8Array(body) : body;
  return new Request(INCOMING, {
    method,
    url,
    rawHeaders: clientIp ? `${rawHeaders}CF-Connecting-IP: ${clientIp}\r\n` : rawHeaders,
    body: new BodyState(bytes, null),
    cf: { httpProtocol: "HTTP/1.1", clientIp },
    // As on the platform: a Worker proxying `fetch(request)` passes redirects through.
    redirect: "manual",
  });
}

export { isHeaders };
