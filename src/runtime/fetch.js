// The global fetch(): outbound HTTP/1.1 and HTTPS through the shard's HTTP client
// (src/net/http_client.c, ops in src/platform/fetch_ops.c).
//
// One network request per hop: C sends the request and reports the response head
// ("fetchHead"); the body then flows on demand, one chunk per pull of the response's
// ReadableStream ("fetchData", "fetchEnd", "fetchError"), so a slow reader slows the origin.
// A request body that is a stream is written as it is produced, waiting ("fetchDrain") when
// much of it is still queued. Redirects are followed here, per the Fetch Standard.
import ops from "./ops.js";
import { Request } from "./request.js";
import { Response, markFetched } from "./response.js";
import { Headers, headersToFlatList } from "./headers.js";
import { codingOf, createCodec, pushAll } from "./content_coding.js";
import { NativeBody } from "./body.js";
import { GLOBAL_SCOPE_MESSAGE } from "./errors.js";
import { concatBytes } from "./bytes.js";


const MAX_REDIRECTS = 20;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);
// Request body bytes queued in C above which the producer waits.
const SEND_HIGH_WATER = 256 * 1024;

const streams = () => ops.loadModule("streams_setup.js");

// handle → the state of one network request
const live = new Map();

// Events from C (main.js dispatch).
export function onFetchEvent(kind, handle, a, b, c) {
  if (kind === "fetchSpliceError") {
    // (invocation id, message): the origin failed midway through a spliced body (see
    // spliceSource); C already cut the client off.
    ops.loadModule("errors.js").reportException(ops, handle, new TypeError(a), {
      prefix: "The response body stream failed after the response started: ",
    });
    return;
  }
  const rec = live.get(handle);
  if (rec === undefined) return;
  switch (kind) {
    case "fetchHead": {
      const head = rec.head;
      rec.head = null;
      head?.resolve({ status: a, statusText: b, lines: c });
      return;
    }
    case "fetchData": {
      const pull = rec.pull;
      rec.pull = null;
      pull?.resolve(new Uint8Array(a));
      return;
    }
    case "fetchEnd": {
      live.delete(handle);
      rec.finished = true;
      const pull = rec.pull;
      rec.pull = null;
      pull?.resolve(null);
      settleDrain(rec, null);
      return;
    }
    case "fetchError":
      live.delete(handle);
      fail(rec, new TypeError(a), false);
      return;
    case "fetchDrain":
      settleDrain(rec, null);
      return;
  }
}

function settleDrain(rec, err) {
  const drain = rec.drain;
  rec.drain = null;
  if (drain) err === null ? drain.resolve() : drain.reject(err);
}

// The request failed (network error, abort, request body error): whoever waits hears it.
function fail(rec, err, abortNative) {
  if (rec.finished) return;
  rec.finished = true;
  rec.error = err;
  live.delete(rec.handle);
  if (abortNative) ops.fetchAbort(rec.handle);
  const head = rec.head;
  rec.head = null;
  head?.reject(err);
  const pull = rec.pull;
  rec.pull = null;
  pull?.reject(err);
  settleDrain(rec, err);
}

// Writes a streamed request body as it is produced.
async function pump(rec, reader) {
  try {
    for (;;) {
      const chunk = await reader.read();
      if (rec.finished) {
        reader.cancel(rec.error ?? undefined).catch(() => {});
        return;
      }
      if (chunk === null) break;
      const queued = ops.fetchWrite(rec.handle, chunk);
      if (queued < 0) {
        reader.cancel(new Error("The request was no longer sending its body.")).catch(() => {});
        return;
      }
      if (queued > SEND_HIGH_WATER) {
        await new Promise((resolve, reject) => {
          rec.drain = { resolve, reject };
          ops.fetchWaitDrain(rec.handle);
        });
      }
    }
    if (!rec.finished) ops.fetchEndBody(rec.handle);
  } catch (err) {
    fail(rec, err, true);
  }
}

// Starts one network request; resolves with its record once the head arrived.
function startOne(method, url, lines, body) {
  const bodyLength = body === null ? -1 : body instanceof Uint8Array ? body.byteLength : -2;
  const handle = ops.fetchStart(method, url, lines, bodyLength);
  const rec = { handle, head: null, pull: null, drain: null, finished: false, error: null };
  live.set(handle, rec);
  const head = new Promise((resolve, reject) => {
    rec.head = { resolve, reject };
  });
  if (body instanceof Uint8Array) {
    if (body.byteLength > 0) ops.fetchWrite(handle, body);
    ops.fetchEndBody(handle);
  } else if (body !== null) {
    pump(rec, streams().acquireBodyReader(body));
  }
  return { rec, head };
}

// Connection-level headers of the hop to the origin, not of the response.
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding"]);

function parseHeaderLines(raw) {
  const headers = new Headers();
  let start = 0;
  while (start < raw.length) {
    let end = raw.indexOf("\r\n", start);
    if (end < 0) end = raw.length;
    const colon = raw.indexOf(":", start);
    if (colon > start && colon < end && !HOP_BY_HOP.has(raw.slice(start, colon).toLowerCase())) {
      try {
        headers.append(raw.slice(start, colon), raw.slice(colon + 1, end).trim());
      } catch {
        // a header the Headers class cannot hold is dropped
      }
    }
    start = end + 2;
  }
  return headers;
}

function headerLines(flat) {
  let s = "";
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i].toLowerCase();
    // Framing is the client's; Host comes from the URL (as in workerd, a Host header given to
    // fetch() is not sent, so forwarding an incoming request reaches the URL's origin).
    if (name === "content-length" || name === "transfer-encoding" || name === "connection" || name === "host") continue;
    s += `${flat[i]}: ${flat[i + 1]}\r\n`;
  }
  return s;
}

// The request's body: null, all its bytes when it is all there, or the stream to send.
function requestBody(request) {
  const stream = request.body;
  if (stream === null) return null;
  const chunks = streams().tryTakeBufferedChunks(stream);
  if (chunks !== null) return concatBytes(chunks);
  return stream;
}

function listenAbort(signal, fn) {
  const mod = ops.loadedModule("abort.js");
  if (mod !== null && typeof mod.onAbort === "function") {
    const off = mod.onAbort(signal, fn);
    return typeof off === "function" ? off : () => {};
  }
  signal.addEventListener("abort", fn);
  return () => signal.removeEventListener("abort", fn);
}

function signalOf(input, init) {
  if (init !== undefined && init !== null && init.signal !== undefined && init.signal !== null) return init.signal;
  if (input instanceof Request && ops.loadedModule("abort.js") !== null) return input.signal ?? null;
  return null;
}

export function fetch(input, init = undefined) {
  if (ops.currentInvocation() === 0) throw new Error(GLOBAL_SCOPE_MESSAGE);
  if (arguments.length < 1) {
    return Promise.reject(new TypeError("Failed to execute 'fetch': 1 argument required, but only 0 present."));
  }
  try {
    const request = new Request(input, init);
    // Upgrade: websocket → an outbound WebSocket (websocket.js): a 101 with response.webSocket.
    if (/(^|,)\s*websocket\s*(,|$)/i.test(request.headers.get("upgrade") ?? "")) {
      return ops.loadModule("websocket.js").fetchWebSocket(request, parseHeaderLines, signalOf(input, init));
    }
    const signal = signalOf(input, init);
    return run(request, signal);
  } catch (err) {
    return Promise.reject(err);
  }
}

async function run(request, signal) {
  if (signal !== null && signal.aborted) throw signal.reason;
  let method = request.method;
  let url = request.url;
  const protocol = url.slice(0, url.indexOf(":") + 1);
  if (protocol !== "http:" && protocol !== "https:") {
    throw new TypeError(`Fetch API cannot load: ${url}`);
  }
  const headers = new Headers(request.headers);
  let body = requestBody(request);
  const mode = request.redirect;
  let current = null;
  let unlisten = () => {};
  if (signal !== null) {
    unlisten = listenAbort(signal, () => {
      if (current !== null) fail(current, signal.reason, true);
    });
  }
  try {
    for (let redirects = 0; ; ) {
      const { rec, head } = startOne(method, url, headerLines(headersToFlatList(headers)), body);
      current = rec;
      const h = await head;
      const location = REDIRECT_STATUSES.has(h.status) ? parseHeaderLines(h.lines).get("location") : null;
      if (location !== null && mode !== "manual") {
        ops.fetchAbort(rec.handle); // the redirect's own body is not needed
        live.delete(rec.handle);
        rec.finished = true;
        if (mode === "error") {
          throw new TypeError(`Fetch API cannot load: ${url} answered with a redirect, and the request's redirect mode is "error".`);
        }
        if (++redirects > MAX_REDIRECTS) throw new TypeError("Too many redirects.");
        const next = ops.urlParse(location, url);
        if (next === null) throw new TypeError(`Fetch API cannot load: invalid redirect location ${location}`);
        if (((h.status === 301 || h.status === 302) && method === "POST") ||
            (h.status === 303 && method !== "GET" && method !== "HEAD")) {
          method = "GET";
          body = null;
          for (const name of ["content-encoding", "content-language", "content-location", "content-type", "content-length"]) {
            headers.delete(name);
          }
        } else if (body !== null && !(body instanceof Uint8Array)) {
          throw new TypeError("A redirect cannot be followed: the request body was a stream, which cannot be sent again.");
        }
        url = next[0];
        continue;
      }
      const response = makeResponse(rec, h, method, unlisten);
      markFetched(response, url, redirects > 0);
      return response;
    }
  } catch (err) {
    unlisten();
    throw err;
  }
}

// A Worker that returns the fetched body untouched (`return fetch(...)`, or
// `new Response(response.body, response)`) has its bytes moved from the origin to the client
// in C (invocation.js asks the body's stream for this source): no JavaScript runs per chunk.
// `length` is the origin's Content-Length (the response keeps it, as in workerd), or -1.
function spliceSource(rec, lines, coding, unlisten) {
  return {
    // Read only when the body is spliced.
    get length() {
      const m = /(?:^|\r\n)content-length:[ \t]*(\d{1,15})[ \t]*(?:\r\n|$)/i.exec(lines);
      return m !== null && !/(?:^|\r\n)transfer-encoding:/i.test(lines) ? Number(m[1]) : -1;
    },
    coding, // the body's bytes are encoded so: "gzip", "br" or null
    // The response head is out (respondStart); from now on C writes the body to the client
    // and ends the response (or aborts it if the origin fails), then the invocation ends.
    // The Worker's signal no longer reaches a spliced body.
    spliceTo(invocationId) {
      rec.finished = true;
      live.delete(rec.handle);
      unlisten();
      ops.fetchSplice(rec.handle, invocationId);
    },
  };
}

function makeResponse(rec, h, method, unlisten) {
  let body = null;
  const headers = parseHeaderLines(h.lines);
  if (method === "HEAD" || NULL_BODY_STATUSES.has(h.status)) {
    ops.fetchAbort(rec.handle);
    live.delete(rec.handle);
    rec.finished = true;
    unlisten();
  } else {
    const rawPull = () => {
      if (rec.error !== null) return Promise.reject(rec.error);
      if (rec.finished) {
        unlisten();
        return null;
      }
      return new Promise((resolve, reject) => {
        rec.pull = {
          resolve: (v) => {
            if (v === null) unlisten();
            resolve(v);
          },
          reject: (e) => {
            unlisten();
            reject(e);
          },
        };
        ops.fetchPull(rec.handle);
      });
    };
    // A gzip or br body is decoded as it is read (content_coding.js); the splice, which
    // bypasses this, sends it as the origin encoded it.
    const coding = codingOf(headers.get("content-encoding"));
    const codec = coding === null ? null : createCodec(coding, true, "fetch");
    const pull = codec === null ? rawPull : decodingPull(rawPull, codec);
    const cancel = () => {
      unlisten();
      codec?.free();
      if (!rec.finished) {
        rec.finished = true;
        live.delete(rec.handle);
        ops.fetchAbort(rec.handle);
      }
    };
    const source = spliceSource(rec, h.lines, coding, unlisten);
    // The stream is made only if the Worker asks for `body` (body.js NativeBody).
    body = new NativeBody(() => streams().createNativeReadableStream(pull, cancel, { source }), () => readAll(pull), source);
  }
  const status = h.status >= 200 && h.status <= 599 ? h.status : 502;
  return new Response(body, { status, statusText: h.statusText, headers });
}

// The whole body, by pulling it to its end (text(), json(), ... of a fetched response).
async function readAll(pull) {
  const chunks = [];
  for (;;) {
    const chunk = await pull();
    if (chunk === null) break;
    if (chunk.byteLength > 0) chunks.push(chunk);
  }
  return concatBytes(chunks);
}

// A pull() giving rawPull's body decoded: the next decoded chunk (the stream skips empty
// ones), or null at the end.
function decodingPull(rawPull, codec) {
  let done = false;
  return async () => {
    if (done) return null;
    const raw = await rawPull();
    if (raw === null) {
      done = true;
      const rest = codec.finish();
      return rest.byteLength > 0 ? rest : null;
    }
    return pushAll(codec, raw);
  };
}
