// Response (Fetch Standard, as the Workers runtime exposes it), and turning one into what the
// respond op sends.
import { extractBody, cloneBodyState, bodyForWire, installBodyMethods } from "./body.js";
import { Headers, cloneHeaders, headersGetLower, headersToFlatList, setHeadersGuard } from "./headers.js";
import ops from "./ops.js";

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

// WebIDL's conversion to `unsigned short`: ToNumber, truncate, modulo 2^16.
function toUnsignedShort(v) {
  const n = Number(v);
  if (!Number.isFinite(n)) return 0;
  const m = Math.trunc(n) % 65536;
  return m < 0 ? m + 65536 : m;
}

// Internal access to a Response's private state (assigned in the class's static block).
let bodyStateOf, makeErrorResponse, copyResponse, wireOf, setFetchedFrom;

export class Response {
  #status = 200;
  #statusText = "";
  #headers = null; // Headers, created on first use
  #body;
  #type = "default";
  #url = "";
  #redirected = false;
  #cf = undefined;
  #webSocket = null;
  #encodeBody = "automatic"; // "manual": the body is already encoded as Content-Encoding says

  constructor(body = null, init = undefined) {
    const opts = init ?? {};
    if (typeof opts !== "object" && typeof opts !== "function") {
      throw new TypeError("Failed to construct 'Response': cannot convert the second argument to a dictionary.");
    }
    const webSocket = opts.webSocket;
    if (webSocket !== undefined && webSocket !== null) {
      // websocket.js is loaded only by Workers that use WebSockets.
      this.#webSocket = ops.loadModule("websocket.js").checkResponseSocket(webSocket);
    }
    if (opts.status !== undefined) {
      const status = toUnsignedShort(opts.status);
      if (status === 101 && this.#webSocket !== null) {
        // A WebSocket handshake: allowed only with a webSocket.
      } else if (status < 200 || status > 599) {
        throw new RangeError(
          `Responses may only be constructed with status codes in the range 200 to 599, inclusive. (received ${opts.status})`,
        );
      }
      this.#status = status;
    }
    if (opts.statusText !== undefined) {
      const text = String(opts.statusText);
      if (!REASON_PHRASE.test(text)) throw new TypeError(`Invalid statusText: ${text}`);
      this.#statusText = text;
    }
    if (opts.headers !== undefined) this.#headers = new Headers(opts.headers);
    if (opts.cf !== undefined) this.#cf = opts.cf;
    if (opts.encodeBody !== undefined) {
      const how = `${opts.encodeBody}`;
      if (how !== "automatic" && how !== "manual") throw new TypeError(`encodeBody: unexpected value: ${how}`);
      this.#encodeBody = how;
    }
    const state = extractBody(body);
    if (state.source !== null && NULL_BODY_STATUSES.has(this.#status)) {
      throw new TypeError(`Response with null body status (${this.#status}) cannot have a body.`);
    }
    if (state.contentType !== null && this.#headers !== null &&
        headersGetLower(this.#headers, "content-type") !== null) {
      state.contentType = null; // the given header wins
    }
    this.#body = state;
    if (this.#webSocket !== null) ops.loadModule("websocket.js").markResponseSocket(this.#webSocket);
  }

  static json(data, init = undefined) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError("Failed to execute 'json' on 'Response': the data is not JSON-serializable.");
    const response = new Response(text, init);
    // Non-null only when init gave no content-type: then the type is JSON's, not text's.
    const state = bodyStateOf(response);
    if (state.contentType !== null) state.contentType = "application/json";
    return response;
  }

  static redirect(url, status = 302) {
    const parsed = ops.urlParse(String(url), null);
    if (parsed === null) {
      throw new TypeError(`Failed to execute 'redirect' on 'Response': Invalid URL: ${String(url)}`);
    }
    const code = Number(status);
    if (!REDIRECT_STATUSES.has(code)) {
      throw new RangeError(`Failed to execute 'redirect' on 'Response': Invalid status code ${status}`);
    }
    const response = new Response(null, { status: code, headers: { location: parsed[0] } });
    setHeadersGuard(response.headers, "immutable");
    return response;
  }

  static error() {
    const response = new Response(null);
    makeErrorResponse(response);
    return response;
  }

  get status() {
    return this.#status;
  }
  get statusText() {
    return this.#statusText;
  }
  get ok() {
    return this.#status >= 200 && this.#status <= 299;
  }
  get redirected() {
    return this.#redirected;
  }
  get type() {
    return this.#type;
  }
  get url() {
    return this.#url;
  }
  get cf() {
    return this.#cf;
  }
  get webSocket() {
    return this.#webSocket;
  }
  get headers() {
    if (this.#headers === null) this.#headers = new Headers();
    this.#applyContentType();
    return this.#headers;
  }
  // The content type implied by the body goes into the headers when someone looks at them.
  #applyContentType() {
    const ct = this.#body.contentType;
    if (ct === null) return;
    this.#body.contentType = null;
    if (headersGetLower(this.#headers, "content-type") === null) this.#headers.set("content-type", ct);
  }

  clone() {
    if (!(#body in this)) throw new TypeError("Illegal invocation");
    if (this.#webSocket !== null) throw new TypeError("Cannot clone a response to a WebSocket handshake.");
    const copy = new Response(null);
    copyResponse(copy, this, cloneHeaders(this.headers), cloneBodyState(this.#body));
    return copy;
  }

  get [Symbol.toStringTag]() {
    return "Response";
  }

  static {
    // A response fetch() returns: the URL it came from (after redirects), immutable headers.
    setFetchedFrom = (r, url, redirected) => {
      r.#url = url;
      r.#redirected = redirected;
    };
    bodyStateOf = (r) => {
      if (!(#body in r)) throw new TypeError("Illegal invocation");
      return r.#body;
    };
    makeErrorResponse = (r) => {
      r.#type = "error";
      r.#status = 0;
      r.#headers = new Headers();
      setHeadersGuard(r.#headers, "immutable");
    };
    copyResponse = (to, from, headers, body) => {
      to.#status = from.#status;
      to.#statusText = from.#statusText;
      to.#headers = headers;
      to.#body = body;
      to.#type = from.#type;
      to.#url = from.#url;
      to.#redirected = from.#redirected;
      to.#cf = from.#cf;
      to.#encodeBody = from.#encodeBody;
    };
    // The hot path of every request: no Headers object is created unless the Worker made one.
    wireOf = (r) => {
      let headers;
      if (r.#headers === null) {
        headers = r.#body.contentType === null ? [] : ["content-type", r.#body.contentType];
      } else {
        r.#applyContentType();
        headers = headersToFlatList(r.#headers);
      }
      if (r.#type === "error") {
        throw new TypeError("Return value from serve handler must not be an error response (like Response.error()).");
      }
      const wire = bodyForWire(r.#body);
      wire.status = r.#status;
      wire.statusText = r.#statusText;
      wire.headers = headers;
      wire.webSocket = r.#webSocket;
      wire.encodeManually = r.#encodeBody === "manual";
      return wire;
    };
    installBodyMethods(Response, bodyStateOf, (r) => headersGetLower(r.headers, "content-type"));
  }
}

for (const name of ["status", "statusText", "ok", "redirected", "type", "url", "cf", "webSocket", "headers", "clone"]) {
  Object.defineProperty(Response.prototype, name, { enumerable: true });
}

// What the respond ops send for a Response a handler returned: { status, headers, body } or,
// for a body that must be streamed, { status, headers, stream, length }.
// fetch(): records where a response came from (response.url, response.redirected).
export function markFetched(response, url, redirected) {
  setFetchedFrom(response, url, redirected);
}

export function responseForWire(response) {
  return wireOf(response);
}
