// WebSocketPair, WebSocket, MessageEvent and CloseEvent as the Workers runtime exposes them.
// Server side: a fetch handler keeps one end of a pair (`server.accept()`) and returns the
// other in `new Response(null, { status: 101, webSocket: client })`; the runtime then upgrades
// the request's connection (ops.wsUpgrade, src/platform/websocket_ops.c) and the C socket
// carries the server end's messages. Outbound: `fetch(url, { headers: { Upgrade: "websocket" } })`
// resolves to a 101 Response whose `webSocket` must be accept()ed (or to the server's other
// answer), and `new WebSocket(url, protocols)` connects at once (open event, no accept());
// both go through ops.wsConnect (src/net/websocket_connect.c). The socket's state lives in C;
// this object only mirrors readyState and dispatches events ("wsMessage" / "wsClose" from
// main.js; an outbound socket's handshake result arrives as its first event).
//
// Both ends of a pair that never leaves the isolate talk to each other directly.
//
// Loaded lazily (globals.js), and by response.js / invocation.js when a Response carries a
// WebSocket.
import ops from "./ops.js";
import { Event, EventTarget } from "./events.js";
import { DOMException } from "./errors.js";
import { headersToFlatList } from "./headers.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const byHandle = new Map(); // C handle → the WebSocket it carries (a server end, or outbound)
const TOKEN = Symbol("internal");

function isObject(v) {
  return v !== null && (typeof v === "object" || typeof v === "function");
}

export class MessageEvent extends Event {
  #data;
  constructor(type, init = undefined) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to construct 'MessageEvent': 1 argument required, but only 0 present.");
    }
    super(type, init);
    this.#data = init?.data ?? null;
  }
  get data() {
    if (!isObject(this) || !(#data in this)) throw new TypeError("Illegal invocation");
    return this.#data;
  }
}

export class CloseEvent extends Event {
  #code;
  #reason;
  #wasClean;
  constructor(type, init = undefined) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to construct 'CloseEvent': 1 argument required, but only 0 present.");
    }
    super(type, init);
    this.#code = Number(init?.code ?? 0) & 0xffff;
    this.#reason = String(init?.reason ?? "");
    this.#wasClean = Boolean(init?.wasClean);
  }
  get code() {
    if (!isObject(this) || !(#code in this)) throw new TypeError("Illegal invocation");
    return this.#code;
  }
  get reason() {
    if (!isObject(this) || !(#code in this)) throw new TypeError("Illegal invocation");
    return this.#reason;
  }
  get wasClean() {
    if (!isObject(this) || !(#code in this)) throw new TypeError("Illegal invocation");
    return this.#wasClean;
  }
}

function validCloseCode(code) {
  return code === 1000 || (code >= 1001 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

// send()'s argument: [data, isText], bytes as a Uint8Array over the caller's memory.
function messageOf(data) {
  if (typeof data === "string") return [data, true];
  if (data instanceof ArrayBuffer) return [new Uint8Array(data), false];
  if (ArrayBuffer.isView(data)) return [new Uint8Array(data.buffer, data.byteOffset, data.byteLength), false];
  return [String(data), true];
}

// An http(s)/ws(s) URL record (ops.urlParse: href, protocol, username, password, host,
// hostname, port, pathname, search, hash, origin) → the connection's handle.
function connectOut(rec, headerList) {
  const tls = rec[1] === "wss:" || rec[1] === "https:";
  let hostname = rec[5];
  if (hostname.startsWith("[")) hostname = hostname.slice(1, -1);
  const port = rec[6] !== "" ? Number(rec[6]) : tls ? 443 : 80;
  return ops.wsConnect(tls, hostname, port, rec[4], rec[7] + rec[8], headerList);
}

// new WebSocket(url): the URL as the WebSocket Standard takes it (http(s) becomes ws(s)).
function socketUrl(url) {
  const rec = ops.urlParse(String(url), null);
  if (rec === null) throw new DOMException(`Failed to construct 'WebSocket': The URL '${url}' is invalid.`, "SyntaxError");
  if (rec[1] === "http:" || rec[1] === "https:") return socketUrl(rec[0].replace(/^http/, "ws"));
  if (rec[1] !== "ws:" && rec[1] !== "wss:") {
    throw new DOMException(`Failed to construct 'WebSocket': The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${rec[1]}' is not allowed.`, "SyntaxError");
  }
  if (rec[9] !== "") {
    throw new DOMException(`Failed to construct 'WebSocket': The URL contains a fragment identifier ('${rec[9]}'). Fragment identifiers are not allowed in WebSocket URLs.`, "SyntaxError");
  }
  return rec;
}

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function protocolList(protocols) {
  if (protocols === undefined) return [];
  const list = typeof protocols === "string" || !isObject(protocols) || typeof protocols[Symbol.iterator] !== "function"
    ? [String(protocols)]
    : Array.from(protocols, String);
  const seen = new Set();
  for (const p of list) {
    if (!TOKEN_RE.test(p)) {
      throw new DOMException(`Failed to construct 'WebSocket': The subprotocol '${p}' is invalid.`, "SyntaxError");
    }
    if (seen.has(p)) {
      throw new DOMException(`Failed to construct 'WebSocket': The subprotocol '${p}' is duplicated.`, "SyntaxError");
    }
    seen.add(p);
  }
  return list;
}

// A copy for an in-isolate peer: text stays a string, bytes become an ArrayBuffer.
function deliveredData(data, isText) {
  return isText ? data : data.slice().buffer;
}

function utf8Length(s) {
  let n = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

let internals;
let fetchedSocket = null; // the socket of the 101 Response fetch() is making

export class WebSocket extends EventTarget {
  #readyState = OPEN;
  #peer = null;
  #accepted = false;
  #inResponse = false; // this end was given to a Response (the client end)
  #handle = 0; // the C socket, once the peer went out in a 101
  #outbox = []; // [data, isText] sent before the upgrade happened
  #pendingClose = null; // [code, reason] asked for before the upgrade happened
  #inbox = []; // events that arrived before accept()
  #handlers = Object.create(null); // onmessage, ... by type
  #finished = null; // resolve: the invocation that upgraded may end
  #protocol = "";
  #url = null;
  #outbound = false; // connected by this Worker (new WebSocket(url) or fetch())
  #connecting = null; // until the handshake's result: { resolve, reject, ... } for fetch(), else true

  constructor(url = undefined, protocols = undefined, token = undefined) {
    let rec = null;
    let offered = null;
    if (token !== TOKEN) {
      if (arguments.length < 1) {
        throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
      }
      rec = socketUrl(url);
      offered = protocolList(protocols);
    }
    super();
    if (rec === null) return;
    // The standard client: connecting now, usable without accept(). (wsConnect throws in the
    // global scope, and past the subrequest limit.)
    const handle = connectOut(rec, offered.length ? ["Sec-WebSocket-Protocol", offered.join(", ")] : []);
    this.#url = rec[0];
    this.#readyState = CONNECTING;
    this.#accepted = true;
    this.#outbound = true;
    this.#connecting = true;
    this.#handle = handle;
    byHandle.set(handle, this);
  }

  get readyState() {
    return this.#readyState;
  }
  get url() {
    return this.#url;
  }
  get protocol() {
    return this.#protocol;
  }
  get extensions() {
    return "";
  }
  get binaryType() {
    return "arraybuffer";
  }

  accept() {
    if (this.#inResponse) {
      throw new TypeError("Can't accept() a WebSocket that was already used in a response.");
    }
    if (this.#accepted) return;
    this.#accepted = true;
    const inbox = this.#inbox;
    this.#inbox = [];
    if (inbox.length) queueMicrotask(() => {
      for (const e of inbox) this.dispatchEvent(e);
    });
  }

  send(message) {
    if (arguments.length < 1) {
      throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
    }
    if (!this.#accepted) {
      throw new TypeError("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
    }
    if (this.#readyState === CONNECTING) {
      throw new DOMException("Failed to execute 'send' on 'WebSocket': Still in CONNECTING state.", "InvalidStateError");
    }
    if (this.#readyState !== OPEN) throw new TypeError("Can't call WebSocket send() after close().");
    const [data, isText] = messageOf(message);
    if (this.#handle !== 0) {
      ops.wsSend(this.#handle, data, isText);
      return;
    }
    const peer = this.#peer;
    if (peer.#inResponse || peer.#readyState === CLOSED) {
      // The peer is (about to be) the client of a 101: hold it until the upgrade.
      this.#outbox.push([isText ? data : data.slice(), isText]);
      return;
    }
    peer.#deliver(new MessageEvent("message", { data: deliveredData(data, isText) }));
  }

  close(code = undefined, reason = undefined) {
    if (!this.#accepted) {
      throw new TypeError("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.");
    }
    if (code !== undefined) {
      code = Number(code);
      if (!validCloseCode(code)) throw new TypeError(`Invalid WebSocket close code: ${code}.`);
    }
    reason = reason === undefined ? "" : String(reason);
    if (utf8Length(reason) > 123) {
      throw new TypeError("The close reason must be at most 123 bytes of UTF-8.");
    }
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;
    if (this.#connecting !== null) {
      // Closed before the handshake finished: the connection fails (error, then close 1006).
      ops.wsClose(this.#handle, 1000, "");
      this.#connectFailed("The WebSocket was closed before the connection was established.", true);
      return;
    }
    this.#readyState = CLOSING;
    if (this.#handle !== 0) {
      ops.wsClose(this.#handle, code ?? 1000, reason);
      return;
    }
    const peer = this.#peer;
    if (peer.#inResponse) {
      this.#pendingClose = [code ?? 1000, reason];
      return;
    }
    // Both ends in this isolate: the peer sees the close, and so do we.
    const wire = code ?? 1005;
    peer.#deliver(new CloseEvent("close", { code: wire, reason, wasClean: true }));
    peer.#readyState = CLOSED;
    queueMicrotask(() => {
      this.#readyState = CLOSED;
      this.dispatchEvent(new CloseEvent("close", { code: wire, reason, wasClean: true }));
    });
  }

  // The outbound handshake did not give a WebSocket: error, then close 1006 (the cause is the
  // close event's reason).
  #connectFailed(why, byClose = false) {
    byHandle.delete(this.#handle);
    this.#handle = 0;
    this.#connecting = null;
    this.#readyState = byClose ? CLOSING : CLOSED; // close() while connecting: CLOSING until the event
    queueMicrotask(() => {
      this.#readyState = CLOSED;
      this.dispatchEvent(new Event("error"));
      this.dispatchEvent(new CloseEvent("close", { code: 1006, reason: why, wasClean: false }));
    });
  }

  // The outbound handshake's result (see onWebSocketEvent): a 101 (status, head, protocol), the
  // server's other answer (status, head, body), or a failure (status 0, reason).
  #handshakeDone(status, head, extra) {
    const pending = this.#connecting;
    this.#connecting = null;
    if (status === 101) {
      this.#readyState = OPEN;
      this.#protocol = extra;
      if (pending === true) this.dispatchEvent(new Event("open"));
      else settle(pending, () => upgradedResponse(this, head, pending));
      return;
    }
    byHandle.delete(this.#handle);
    this.#handle = 0;
    this.#readyState = CLOSED;
    if (pending !== true) {
      if (status === 0) pending.reject(new TypeError(head));
      else settle(pending, () => plainResponse(status, head, extra, pending));
      return;
    }
    this.#connectFailed(status === 0 ? head : `The server answered the WebSocket handshake with ${status} ${head.slice(0, head.indexOf("\r\n"))}`);
  }

  // An event for this end: now if accepted, else when accept() is called.
  #deliver(event) {
    if (this.#accepted) this.dispatchEvent(event);
    else this.#inbox.push(event);
  }

  #handlerAttr(type) {
    return this.#handlers[type] ?? null;
  }
  #setHandlerAttr(type, fn) {
    if (!(type in this.#handlers)) {
      this.addEventListener(type, (event) => {
        const h = this.#handlers[type];
        if (typeof h === "function") h.call(this, event);
      });
    }
    this.#handlers[type] = typeof fn === "function" || isObject(fn) ? fn : null;
  }
  get onopen() {
    return this.#handlerAttr("open");
  }
  set onopen(fn) {
    this.#setHandlerAttr("open", fn);
  }
  get onmessage() {
    return this.#handlerAttr("message");
  }
  set onmessage(fn) {
    this.#setHandlerAttr("message", fn);
  }
  get onclose() {
    return this.#handlerAttr("close");
  }
  set onclose(fn) {
    this.#setHandlerAttr("close", fn);
  }
  get onerror() {
    return this.#handlerAttr("error");
  }
  set onerror(fn) {
    this.#setHandlerAttr("error", fn);
  }

  get [Symbol.toStringTag]() {
    return "WebSocket";
  }

  static {
    internals = {
      isWebSocket: (v) => isObject(v) && #peer in v,
      pair: () => {
        const a = new WebSocket(undefined, undefined, TOKEN);
        const b = new WebSocket(undefined, undefined, TOKEN);
        a.#peer = b;
        b.#peer = a;
        return [a, b];
      },
      markForResponse: (ws) => {
        if (ws === fetchedSocket) return; // fetch()'s own 101 Response: returned, or accept()ed
        if (ws.#accepted) throw new TypeError("Can't return a WebSocket that was accepted in a Response; return the other end of the WebSocketPair.");
        ws.#inResponse = true;
      },
      // The 101 goes out: the connection becomes ws's, and its peer talks to it.
      upgrade: (id, ws, headers) => {
        if (ws.#outbound) return internals.proxy(id, ws, headers);
        const server = ws.#peer;
        const handle = ops.wsUpgrade(id, headers); // throws when the request is no upgrade
        ws.#readyState = CLOSED;
        if (handle === 0) {
          // The handshake was malformed: the client got a 4xx; the server end is closed.
          server.#readyState = CLOSED;
          server.#deliver(new CloseEvent("close", { code: 1006, reason: "", wasClean: false }));
          return Promise.resolve();
        }
        server.#handle = handle;
        byHandle.set(handle, server);
        // What the server end sent while both ends were still in the isolate goes out first.
        for (const event of ws.#inbox) {
          if (event instanceof CloseEvent) {
            if (server.#pendingClose === null) server.#pendingClose = [event.code === 1005 ? 1000 : event.code, event.reason];
          } else {
            const data = event.data;
            if (typeof data === "string") ops.wsSend(handle, data, true);
            else ops.wsSend(handle, new Uint8Array(data), false);
          }
        }
        ws.#inbox = [];
        for (const [data, isText] of server.#outbox) ops.wsSend(handle, data, isText);
        server.#outbox = [];
        if (server.#pendingClose !== null) ops.wsClose(handle, ...server.#pendingClose);
        return new Promise((resolve) => (server.#finished = resolve));
      },
      // An outbound socket returned in the Response (`return fetch(request)` for a WebSocket
      // request): the client's connection is joined to it in C (wsProxy). Resolves once the
      // outbound socket has closed.
      proxy: (id, ws, headers) => {
        if (ws.#accepted) throw new TypeError("Can't return a WebSocket that was accepted in a Response; return the other end of the WebSocketPair.");
        if (ws.#readyState !== OPEN) throw new TypeError("The WebSocket returned in the Response is closed.");
        ws.#inResponse = true;
        const finished = new Promise((resolve) => (ws.#finished = resolve));
        const handle = ops.wsProxy(id, headers, ws.#handle); // throws when the request is no upgrade
        if (handle === 0) return finished; // the client's handshake was refused; ws is closing
        // What the server sent before the Response was returned goes on first.
        for (const event of ws.#inbox) {
          if (event instanceof CloseEvent) {
            ops.wsClose(handle, event.code === 1005 ? 1000 : event.code, event.reason);
          } else if (event instanceof MessageEvent) {
            const data = event.data;
            if (typeof data === "string") ops.wsSend(handle, data, true);
            else ops.wsSend(handle, new Uint8Array(data), false);
          }
        }
        ws.#inbox = [];
        return finished;
      },
      // fetch(request with Upgrade: websocket): resolves to a Response.
      fetchOut: (request, parseHeaderLines, signal) => {
        if (signal !== null && signal.aborted) throw signal.reason;
        if (request.method !== "GET") throw new TypeError("A WebSocket handshake must be a GET request.");
        const rec = ops.urlParse(request.url, null);
        if (rec === null || !["http:", "https:", "ws:", "wss:"].includes(rec[1])) {
          throw new TypeError(`Fetch API cannot load: ${request.url}`);
        }
        const ws = new WebSocket(undefined, undefined, TOKEN);
        ws.#outbound = true;
        ws.#readyState = CONNECTING;
        ws.#url = rec[0];
        const handle = connectOut(rec, headersToFlatList(request.headers));
        ws.#handle = handle;
        byHandle.set(handle, ws);
        const settled = new Promise((resolve, reject) => {
          ws.#connecting = { resolve, reject, parseHeaderLines, url: request.url };
        });
        if (signal === null) return settled;
        // An abort while the handshake is under way abandons it (afterwards it does nothing).
        const onAbort = () => {
          const pending = ws.#connecting;
          if (pending === null) return;
          ops.wsClose(ws.#handle, 1000, "");
          byHandle.delete(ws.#handle);
          ws.#handle = 0;
          ws.#connecting = null;
          ws.#readyState = CLOSED;
          pending.reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort);
        const unlisten = () => signal.removeEventListener("abort", onAbort);
        settled.then(unlisten, unlisten);
        return settled;
      },
      handshake: (handle, status, head, extra) => {
        const ws = byHandle.get(handle);
        if (ws !== undefined && ws.#connecting !== null) ws.#handshakeDone(status, head, extra);
      },
      message: (handle, data) => {
        const ws = byHandle.get(handle);
        if (ws !== undefined) ws.#deliver(new MessageEvent("message", { data }));
      },
      closed: (handle, code, reason, wasClean) => {
        const server = byHandle.get(handle);
        if (server === undefined) return;
        byHandle.delete(handle);
        server.#readyState = CLOSED;
        server.#handle = 0;
        if (!wasClean) server.#deliver(new Event("error"));
        server.#deliver(new CloseEvent("close", { code, reason, wasClean }));
        const finished = server.#finished;
        server.#finished = null;
        // After the listeners' promise jobs of this turn: the invocation may end then.
        if (finished !== null) Promise.resolve().then(finished);
      },
    };
  }
}

for (const [name, value] of [["CONNECTING", CONNECTING], ["OPEN", OPEN], ["CLOSING", CLOSING], ["CLOSED", CLOSED]]) {
  Object.defineProperty(WebSocket, name, { value, enumerable: true });
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

export class WebSocketPair {
  constructor() {
    const [client, server] = internals.pair();
    Object.defineProperty(this, 0, { value: client, enumerable: true, writable: true, configurable: true });
    Object.defineProperty(this, 1, { value: server, enumerable: true, writable: true, configurable: true });
  }
  *[Symbol.iterator]() {
    yield this[0];
    yield this[1];
  }
  get [Symbol.toStringTag]() {
    return "WebSocketPair";
  }
}

for (const [cls, name] of [[WebSocket, "WebSocket"], [MessageEvent, "MessageEvent"], [CloseEvent, "CloseEvent"]]) {
  for (const key of Object.getOwnPropertyNames(cls.prototype)) {
    const d = Object.getOwnPropertyDescriptor(cls.prototype, key);
    if (key === "constructor" || typeof d.value === "number") continue;
    Object.defineProperty(cls.prototype, key, { enumerable: true });
  }
}

// response.js: the ResponseInit's webSocket (throws a TypeError for anything else)...
export function checkResponseSocket(ws) {
  if (!internals.isWebSocket(ws)) {
    throw new TypeError("Failed to construct 'Response': member webSocket is not of type 'WebSocket'.");
  }
  return ws;
}
// ...and, once the Response is constructed, this end belongs to it.
export function markResponseSocket(ws) {
  internals.markForResponse(ws);
}

// invocation.js: a 101 response is being sent. Returns a promise that settles when the socket
// is closed (the invocation lives until then).
export function upgradeResponse(id, wire) {
  return internals.upgrade(id, wire.webSocket, wire.headers);
}

// main.js: events from C.
export function onWebSocketEvent(kind, a, b, c, d) {
  if (kind === "wsMessage") internals.message(a, b);
  else if (kind === "wsHandshake") internals.handshake(a, b, c, d);
  else internals.closed(a, b, c, d);
}

// fetch.js: a request with Upgrade: websocket (signal: its AbortSignal, or null).
// parseHeaderLines is fetch.js's own.
export function fetchWebSocket(request, parseHeaderLines, signal) {
  return internals.fetchOut(request, parseHeaderLines, signal);
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

// fetch()'s promise gets the Response, or what went wrong making it.
function settle(pending, make) {
  try {
    pending.resolve(make());
  } catch (err) {
    pending.reject(err);
  }
}

// head: the reason phrase, "\r\n", then the header lines.
function responseInit(status, head, pending) {
  const split = head.indexOf("\r\n");
  return {
    status: status >= 200 && status <= 599 ? status : 502,
    statusText: head.slice(0, split),
    headers: pending.parseHeaderLines(head.slice(split + 2)),
  };
}

function upgradedResponse(ws, head, pending) {
  const mod = ops.loadModule("response.js");
  const init = responseInit(101, head, pending);
  init.status = 101;
  init.webSocket = ws;
  fetchedSocket = ws;
  let response;
  try {
    response = new mod.Response(null, init);
  } finally {
    fetchedSocket = null;
  }
  mod.markFetched(response, pending.url, false);
  return response;
}

function plainResponse(status, head, body, pending) {
  const mod = ops.loadModule("response.js");
  const init = responseInit(status, head, pending);
  const response = new mod.Response(NULL_BODY_STATUSES.has(init.status) ? null : new Uint8Array(body), init);
  mod.markFetched(response, pending.url, false);
  return response;
}
