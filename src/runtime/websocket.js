// WebSocketPair, WebSocket, MessageEvent and CloseEvent as the Workers runtime exposes them,
// for the server side: a fetch handler keeps one end of a pair (`server.accept()`) and returns
// the other in `new Response(null, { status: 101, webSocket: client })`; the runtime then
// upgrades the request's connection (ops.wsUpgrade, src/platform/websocket_ops.c) and the C
// socket carries the server end's messages. The socket's state lives in C; this object only
// mirrors readyState and dispatches events ("wsMessage" / "wsClose" from main.js).
//
// Both ends of a pair that never leaves the isolate talk to each other directly.
//
// Loaded lazily (globals.js), and by response.js / invocation.js when a Response carries a
// WebSocket.
import ops from "./ops.js";
import { Event, EventTarget } from "./events.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

const byHandle = new Map(); // C handle → server end
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

  constructor(url = undefined, protocols = undefined, token = undefined) {
    if (token !== TOKEN) {
      throw new TypeError("hearth does not support outbound WebSockets (new WebSocket(url)) yet; use new WebSocketPair() to accept one.");
    }
    super();
  }

  get readyState() {
    return this.#readyState;
  }
  get url() {
    return null;
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
        if (ws.#accepted) throw new TypeError("Can't return a WebSocket that was accepted in a Response; return the other end of the WebSocketPair.");
        ws.#inResponse = true;
      },
      // The 101 goes out: the connection becomes ws's, and its peer talks to it.
      upgrade: (id, ws, headers) => {
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
      message: (handle, data) => {
        const server = byHandle.get(handle);
        if (server === undefined) return;
        server.#deliver(new MessageEvent("message", { data }));
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
  else internals.closed(a, b, c, d);
}
