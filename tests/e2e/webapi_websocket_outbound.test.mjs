// Outbound WebSockets from Workers (src/net/websocket_connect.c, src/platform/websocket_ops.c,
// src/runtime/websocket.js): `fetch(url, { headers: { Upgrade: "websocket" } })` and
// `new WebSocket(url, protocols)` against local servers of the `ws` package (plain and TLS,
// with a self-signed certificate trusted through HEARTH_CA_FILE), a raw TCP server for broken
// handshakes, the proxy pattern (a WebSocketPair piped to an upstream socket), and sockets
// closed at once when their Worker is reset or reloaded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import WebSocket, { WebSocketServer } from "ws";
import { startDev, worker, SLOW, sleep, listenLoopback } from "./lib/harness.mjs";

// The Worker: each route connects to the URL in ?u= and reports what happened as JSON.
const SOURCE = String.raw`
function wait(ws, type) {
  return new Promise((resolve) => ws.addEventListener(type, resolve, { once: true }));
}
function describe(e) {
  return { name: e?.name, message: e?.message };
}
async function upgrade(u, headers = {}) {
  return fetch(u, { headers: { Upgrade: "websocket", ...headers } });
}
// Collects n messages (text as is, bytes as arrays), then closes with 1000.
function collect(ws, n) {
  const got = [];
  return new Promise((resolve) => {
    ws.addEventListener("message", (e) => {
      got.push(typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)]);
      if (got.length === n) resolve(got);
    });
  });
}
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const u = url.searchParams.get("u");
    switch (url.pathname) {
      case "/fetch-echo": {
        const resp = await upgrade(u, { "X-Hello": "there" });
        const ws = resp.webSocket;
        const before = ws.readyState;
        ws.accept();
        const messages = collect(ws, 3);
        ws.send("hello");
        ws.send(new Uint8Array([1, 2, 3]));
        ws.send(new Uint16Array([0x0201]).buffer);
        const got = await messages;
        const closed = wait(ws, "close");
        ws.close(1000, "done");
        const c = await closed;
        return Response.json({
          status: resp.status, isSocket: ws instanceof WebSocket, before, got,
          upstreamHeader: resp.headers.get("x-upstream"), url: resp.url,
          close: [c.code, c.reason, c.wasClean], after: ws.readyState,
        });
      }
      case "/std-echo": {
        const protocols = url.searchParams.get("p");
        const ws = protocols === null ? new WebSocket(u) : new WebSocket(u, protocols.split(","));
        const events = ["constructed:" + ws.readyState];
        let sendEarly = null;
        try { ws.send("too early"); } catch (e) { sendEarly = describe(e); }
        await wait(ws, "open");
        events.push("open:" + ws.readyState);
        const messages = collect(ws, 2);
        ws.send("one");
        ws.send(new Uint8Array([9, 8]));
        const got = await messages;
        const closed = wait(ws, "close");
        ws.close();
        const c = await closed;
        events.push("close:" + ws.readyState);
        return Response.json({ events, got, protocol: ws.protocol, url: ws.url, sendEarly, close: [c.code, c.wasClean] });
      }
      case "/fetch-protocol": {
        const resp = await upgrade(u, { "Sec-WebSocket-Protocol": "alpha, beta" });
        resp.webSocket.accept();
        const protocol = resp.webSocket.protocol;
        resp.webSocket.close();
        return Response.json({ protocol, header: resp.headers.get("sec-websocket-protocol") });
      }
      case "/fetch-status": {
        const resp = await upgrade(u);
        return Response.json({ status: resp.status, statusText: resp.statusText, body: await resp.text(), webSocket: resp.webSocket, header: resp.headers.get("x-why") });
      }
      case "/fetch-abort": {
        // The server never answers: the signal abandons the handshake.
        const controller = new AbortController();
        const pending = fetch(u, { headers: { Upgrade: "websocket" }, signal: controller.signal });
        setTimeout(() => controller.abort(), 50);
        try {
          await pending;
          return Response.json({ error: null });
        } catch (e) {
          const early = await fetch(u, { headers: { Upgrade: "websocket" }, signal: AbortSignal.abort() }).catch(describe);
          return Response.json({ error: describe(e), early });
        }
      }
      case "/fetch-error": {
        try {
          await upgrade(u);
          return Response.json({ error: null });
        } catch (e) {
          return Response.json({ error: describe(e) });
        }
      }
      case "/std-error": {
        const ws = new WebSocket(u);
        const events = [];
        ws.addEventListener("error", () => events.push("error:" + ws.readyState));
        const c = await wait(ws, "close");
        events.push("close");
        return Response.json({ events, code: c.code, wasClean: c.wasClean, reason: c.reason });
      }
      case "/std-abort": {
        // Closed before the handshake is done: the connection fails.
        const ws = new WebSocket(u);
        const events = [];
        ws.addEventListener("open", () => events.push("open"));
        ws.addEventListener("error", () => events.push("error"));
        ws.close();
        events.push("closing:" + ws.readyState);
        const c = await wait(ws, "close");
        return Response.json({ events, code: c.code, wasClean: c.wasClean, state: ws.readyState });
      }
      case "/std-bad-url": {
        const out = {};
        for (const [k, v] of [["scheme", "ftp://x/"], ["fragment", "ws://x/#f"], ["invalid", "ws://"]]) {
          try { new WebSocket(v); out[k] = null; } catch (e) { out[k] = describe(e); }
        }
        try { new WebSocket("ws://127.0.0.1:9/", ["a", "a"]); out.dup = null; } catch (e) { out.dup = describe(e); }
        return Response.json(out);
      }
      case "/server-close": {
        const ws = new WebSocket(u);
        await wait(ws, "open");
        ws.send("close-me");
        const c = await wait(ws, "close");
        return Response.json({ close: [c.code, c.reason, c.wasClean], state: ws.readyState });
      }
      case "/ping": {
        const ws = new WebSocket(u);
        await wait(ws, "open");
        ws.send("ping-me");
        const m = await wait(ws, "message");
        ws.close();
        return Response.json({ reply: m.data });
      }
      case "/big": {
        const ws = new WebSocket(u);
        await wait(ws, "open");
        ws.send("big");
        const c = await wait(ws, "close");
        return Response.json({ close: [c.code, c.wasClean] });
      }
      case "/proxy": {
        // The common pattern: the client's socket piped both ways to an upstream socket.
        const upstream = (await upgrade(u)).webSocket;
        const [client, server] = Object.values(new WebSocketPair());
        upstream.accept();
        server.accept();
        server.addEventListener("message", (e) => upstream.send(e.data));
        upstream.addEventListener("message", (e) => server.send(e.data));
        server.addEventListener("close", (e) => upstream.close(e.code === 1005 ? 1000 : e.code, e.reason));
        upstream.addEventListener("close", (e) => server.close(e.code === 1005 ? 1000 : e.code, e.reason));
        return new Response(null, { status: 101, webSocket: client });
      }
      case "/pass": {
        // The shortest WebSocket proxy: the upstream's 101 Response, returned as it is.
        return fetch(u, request);
      }
      case "/rewrap": {
        // The same, as a new 101 Response around the fetched socket.
        const resp = await upgrade(u, { "Sec-WebSocket-Protocol": request.headers.get("sec-websocket-protocol") ?? "" });
        return new Response(null, { status: 101, webSocket: resp.webSocket, headers: resp.headers });
      }
      case "/accepted-then-returned": {
        const resp = await upgrade(u);
        resp.webSocket.accept();
        return resp;
      }
      case "/hold": {
        // Returns while the socket stays open: the invocation lives on until it closes.
        const ws = new WebSocket(u);
        await wait(ws, "open");
        return new Response("held");
      }
      case "/many": {
        const opened = [];
        try {
          for (let i = 0; i < 5; i++) opened.push(new WebSocket(u));
          return Response.json({ error: null });
        } catch (e) {
          return Response.json({ opened: opened.length, error: describe(e) });
        }
      }
      case "/burn": {
        for (;;) {}
      }
      case "/version":
        return new Response("v1");
    }
    return new Response("not found", { status: 404 });
  },
};
`;

// ---- servers -------------------------------------------------------------------------------

const closes = []; // [path, code, reason] as the upstream saw them

function attachUpstream(wss) {
  wss.on("connection", (sock, req) => {
    const p = req.url;
    sock.on("close", (code, reason) => closes.push([p, code, reason.toString()]));
    sock.on("message", (data, isBinary) => {
      const text = isBinary ? null : data.toString();
      if (text === "close-me") sock.close(4000, "server says bye");
      else if (text === "ping-me") {
        sock.once("pong", () => sock.send("got pong"));
        sock.ping();
      } else if (text === "big") {
        // Far more than the 1 MiB limit, so that most of it is still on its way when the
        // Worker's socket gives up: hearth must read and drop it rather than reset the
        // connection, or this server may never see the 1009.
        sock.send(Buffer.alloc(16 * 1024 * 1024, 7));
      }
      else sock.send(data, { binary: isBinary });
    });
    if (p.startsWith("/headers")) sock.send(JSON.stringify(req.headers));
  });
}

let plain; // ws:// echo server
let plainPort;
let tlsServer;
let tlsPort;
let rawPort; // answers every handshake with a wrong Sec-WebSocket-Accept
let raw;
let refusedPort;
let caFile;
let dev;

before(async () => {
  const httpServer = http.createServer((req, res) => {
    res.writeHead(403, { "content-type": "text/plain", "x-why": "no entry" });
    res.end("go away");
  });
  plain = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has("beta") ? "beta" : false),
  });
  httpServer.on("upgrade", (req, socket, head) => {
    if (req.url.startsWith("/forbidden")) {
      socket.end("HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nx-why: no entry\r\ncontent-length: 7\r\n\r\ngo away");
      return;
    }
    plain.handleUpgrade(req, socket, head, (sock) => plain.emit("connection", sock, req));
  });
  plain.on("headers", (headers) => headers.push("X-Upstream: yes"));
  attachUpstream(plain);
  plainPort = await listenLoopback(httpServer);
  plain.httpServer = httpServer;

  // TLS: a self-signed certificate for 127.0.0.1 (only), trusted through HEARTH_CA_FILE.
  const dir = mkdtempSync(path.join(tmpdir(), "hearth-wss-"));
  caFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", caFile,
    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  tlsServer = https.createServer({ key: readFileSync(keyFile), cert: readFileSync(caFile) });
  const wss = new WebSocketServer({ server: tlsServer });
  attachUpstream(wss);
  tlsPort = await listenLoopback(tlsServer);

  raw = net.createServer((sock) => {
    sock.once("data", (d) => {
      const target = d.toString().split(" ")[1];
      if (target === "/garbage") sock.end("SSH-2.0-OpenSSH_9.0\r\n\r\n");
      else if (target === "/hangup") sock.destroy();
      else if (target === "/silent") sock.on("data", () => {});
      else if (target === "/no-upgrade") sock.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n");
      else {
        sock.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n");
      }
    });
    sock.on("error", () => {});
  });
  rawPort = await listenLoopback(raw);

  const probe = net.createServer();
  refusedPort = await listenLoopback(probe);
  await new Promise((r) => probe.close(r));

  dev = await startDev(worker(SOURCE), ["--threads", "1"], { env: { HEARTH_CA_FILE: caFile } });
});

after(async () => {
  if (dev) await dev.stop();
  plain?.httpServer.close();
  plain?.close();
  tlsServer?.close();
  raw?.close();
});

async function ask(route, u, extra = "") {
  const res = await dev.fetch(`${route}?u=${encodeURIComponent(u)}${extra}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

// ---- tests ---------------------------------------------------------------------------------

test("fetch() with Upgrade: websocket gives a 101 whose webSocket echoes text and binary", async () => {
  const r = await ask("/fetch-echo", `http://127.0.0.1:${plainPort}/echo`);
  assert.equal(r.status, 101);
  assert.equal(r.isSocket, true);
  assert.equal(r.before, 1);
  assert.deepEqual(r.got, ["hello", [1, 2, 3], [1, 2]]);
  assert.equal(r.upstreamHeader, "yes");
  assert.equal(r.url, `http://127.0.0.1:${plainPort}/echo`);
  assert.deepEqual(r.close, [1000, "done", true]);
  assert.equal(r.after, 3);
  await sleep(100);
  assert.ok(closes.some(([p, code, reason]) => p === "/echo" && code === 1000 && reason === "done"), JSON.stringify(closes));
});

test("the handshake request carries the Worker's headers and a ws:// URL works", async () => {
  const got = await new Promise((resolve, reject) => {
    const client = new WebSocket(`ws://127.0.0.1:${dev.port}/proxy?u=${encodeURIComponent(`ws://127.0.0.1:${plainPort}/headers`)}`);
    client.on("message", (d) => {
      resolve(JSON.parse(d.toString()));
      client.close();
    });
    client.on("error", reject);
  });
  assert.equal(got.upgrade, "websocket");
  assert.equal(got["sec-websocket-version"], "13");
  assert.equal(got.host, `127.0.0.1:${plainPort}`);
});

test("new WebSocket(url): CONNECTING, open, messages, close; send() while connecting throws", async () => {
  const r = await ask("/std-echo", `ws://127.0.0.1:${plainPort}/std`);
  assert.deepEqual(r.events, ["constructed:0", "open:1", "close:3"]);
  assert.deepEqual(r.got, ["one", [9, 8]]);
  assert.equal(r.protocol, "");
  assert.equal(r.url, `ws://127.0.0.1:${plainPort}/std`);
  assert.equal(r.sendEarly.name, "InvalidStateError");
  assert.deepEqual(r.close, [1000, true]);
});

test("subprotocols: offered by new WebSocket and by fetch(), the server's choice is kept", async () => {
  const r = await ask("/std-echo", `ws://127.0.0.1:${plainPort}/p`, "&p=alpha,beta");
  assert.equal(r.protocol, "beta");
  const f = await ask("/fetch-protocol", `ws://127.0.0.1:${plainPort}/p`);
  assert.deepEqual(f, { protocol: "beta", header: "beta" });
});

test("close() while connecting fails the connection: error, then close 1006", async () => {
  const r = await ask("/std-abort", `ws://127.0.0.1:${plainPort}/abort`);
  assert.deepEqual(r.events, ["closing:2", "error"]);
  assert.equal(r.code, 1006);
  assert.equal(r.wasClean, false);
  assert.equal(r.state, 3);
});

test("bad URLs and protocol lists throw a SyntaxError", async () => {
  const r = await ask("/std-bad-url", "unused");
  for (const k of ["scheme", "fragment", "invalid", "dup"]) assert.equal(r[k]?.name, "SyntaxError", k);
});

test("the server's close reaches the Worker with its code and reason", async () => {
  const r = await ask("/server-close", `ws://127.0.0.1:${plainPort}/sc`);
  assert.deepEqual(r.close, [4000, "server says bye", true]);
  assert.equal(r.state, 3);
});

test("pings from the server are answered with pongs", async () => {
  const r = await ask("/ping", `ws://127.0.0.1:${plainPort}/ping`);
  assert.equal(r.reply, "got pong");
});

test("a message over 1 MiB closes the socket with 1009", async () => {
  const r = await ask("/big", `ws://127.0.0.1:${plainPort}/big`);
  assert.equal(r.close[0], 1009);
  await sleep(200);
  assert.ok(closes.some(([p, code]) => p === "/big" && code === 1009), JSON.stringify(closes));
});

test("a non-101 answer is an ordinary Response", async () => {
  const r = await ask("/fetch-status", `http://127.0.0.1:${plainPort}/forbidden`);
  assert.deepEqual(r, { status: 403, statusText: "Forbidden", body: "go away", webSocket: null, header: "no entry" });
});

test("failures: refused port, wrong Sec-WebSocket-Accept, TLS name mismatch", async () => {
  const refused = await ask("/fetch-error", `ws://127.0.0.1:${refusedPort}/`);
  assert.equal(refused.error.name, "TypeError");
  assert.match(refused.error.message, new RegExp(`cannot connect to 127\\.0\\.0\\.1:${refusedPort}: connection refused`));
  const dns = await ask("/fetch-error", "wss://does-not-exist.invalid/");
  assert.match(dns.error.message, /^cannot resolve does-not-exist\.invalid: /);
  const scheme = await ask("/fetch-error", "ftp://127.0.0.1/");
  assert.equal(scheme.error.message, "Fetch API cannot load: ftp://127.0.0.1/");
  const badKey = await ask("/fetch-error", `ws://127.0.0.1:${rawPort}/`);
  assert.equal(badKey.error.name, "TypeError");
  assert.match(badKey.error.message, /wrong Sec-WebSocket-Accept/);
  // The certificate names 127.0.0.1 only.
  const mismatch = await ask("/fetch-error", `wss://localhost:${tlsPort}/`);
  assert.equal(mismatch.error.name, "TypeError");
  assert.match(mismatch.error.message, /TLS certificate verification failed: hostname mismatch/);
  const std = await ask("/std-error", `ws://127.0.0.1:${refusedPort}/`);
  assert.deepEqual(std.events, ["error:3", "close"]);
  assert.equal(std.code, 1006);
  assert.equal(std.wasClean, false);
  assert.match(std.reason, /connection refused/);
  const stdStatus = await ask("/std-error", `ws://127.0.0.1:${plainPort}/forbidden`);
  assert.match(stdStatus.reason, /403/);
});

test("broken handshakes: not HTTP, a hang-up, a 101 without Upgrade", async () => {
  const cases = [
    ["/garbage", /not a valid HTTP response/],
    ["/hangup", /closed the connection before its response was complete/],
    ["/no-upgrade", /the server's WebSocket handshake has no "Upgrade: websocket"/],
  ];
  for (const [p, re] of cases) {
    const r = await ask("/fetch-error", `ws://127.0.0.1:${rawPort}${p}`);
    assert.equal(r.error?.name, "TypeError", p);
    assert.match(r.error.message, re);
  }
});

test("an AbortSignal abandons a handshake still under way", async () => {
  const r = await ask("/fetch-abort", `ws://127.0.0.1:${rawPort}/silent`);
  assert.equal(r.error.name, "AbortError");
  assert.equal(r.early.name, "AbortError");
});

test("subrequest limit, and server shutdown closes open outbound sockets with 1001", async () => {
  const s = await startDev(worker(SOURCE), ["--threads", "1"], { env: { HEARTH_SUBREQUEST_LIMIT: "3" } });
  let stopped = false;
  try {
    const many = JSON.parse(await (await s.fetch(`/many?u=${encodeURIComponent(`ws://127.0.0.1:${plainPort}/many`)}`)).text());
    assert.equal(many.opened, 3);
    assert.equal(many.error.message, "Too many subrequests.");
    const held = await s.fetch(`/hold?u=${encodeURIComponent(`ws://127.0.0.1:${plainPort}/hold`)}`);
    assert.equal(await held.text(), "held");
    await sleep(100);
    assert.ok(!closes.some(([p]) => p === "/hold"), "the socket stays open after the response");
    const t0 = Date.now();
    await s.stop();
    stopped = true;
    assert.ok(Date.now() - t0 < 8000 * SLOW, "the server stopped without waiting out its grace period");
    await sleep(200);
    assert.ok(closes.some(([p, c, r]) => p === "/hold" && c === 1001 && r === "going away"), JSON.stringify(closes));
  } finally {
    if (!stopped) await s.stop();
  }
});

test("wss:// with a certificate trusted through HEARTH_CA_FILE", async () => {
  const r = await ask("/fetch-echo", `wss://127.0.0.1:${tlsPort}/tls`);
  assert.equal(r.status, 101);
  assert.deepEqual(r.got, ["hello", [1, 2, 3], [1, 2]]);
  assert.deepEqual(r.close, [1000, "done", true]);
  const s = await ask("/std-echo", `wss://127.0.0.1:${tlsPort}/tls2`);
  assert.deepEqual(s.got, ["one", [9, 8]]);
  const big = await ask("/big", `wss://127.0.0.1:${tlsPort}/big`);
  assert.equal(big.close[0], 1009);
});

// A client of the Worker's /proxy route (or another), piped to the upstream `u`.
function proxyClient(port, u, route = "/proxy", protocols = undefined) {
  const client = new WebSocket(`ws://127.0.0.1:${port}${route}?u=${encodeURIComponent(u)}`, protocols);
  const messages = [];
  const waiters = [];
  client.on("message", (d, isBinary) => {
    messages.push(isBinary ? [...d] : d.toString());
    for (const w of waiters.splice(0)) w();
  });
  client.closed = new Promise((resolve) => client.on("close", (code, reason) => resolve([code, reason.toString()])));
  client.next = () => new Promise((resolve) => waiters.push(resolve));
  // Sends and waits for the next message to come back.
  client.exchange = (data) => {
    const next = client.next();
    client.send(data);
    return next;
  };
  client.messages = messages;
  return new Promise((resolve, reject) => {
    client.on("open", () => resolve(client));
    client.on("error", reject);
  });
}

test("a Worker proxies a client's WebSocket to an upstream one, both ways", async () => {
  for (const u of [`ws://127.0.0.1:${plainPort}/up`, `wss://127.0.0.1:${tlsPort}/up-tls`]) {
    const client = await proxyClient(dev.port, u);
    await client.exchange("through");
    await client.exchange(Buffer.from([5, 6, 7]));
    assert.deepEqual(client.messages, ["through", [5, 6, 7]]);
    client.close(4100, "client done");
    assert.deepEqual(await client.closed, [4100, "client done"]);
    await sleep(200);
    const p = new URL(u).pathname;
    assert.ok(closes.some(([path, code]) => path === p && code === 4100), JSON.stringify(closes));
  }
});

test("a Worker returns the upstream's WebSocket in its Response: joined in C, both ways", async () => {
  for (const [route, u] of [
    ["/pass", `ws://127.0.0.1:${plainPort}/pass-up`],
    ["/pass", `wss://127.0.0.1:${tlsPort}/pass-tls`],
    ["/rewrap", `ws://127.0.0.1:${plainPort}/rewrap-up`],
  ]) {
    const client = await proxyClient(dev.port, u, route);
    await client.exchange("through");
    await client.exchange(Buffer.from([5, 6, 7]));
    await client.exchange("ping-me"); // the upstream pings the Worker's socket, which answers itself
    assert.deepEqual(client.messages, ["through", [5, 6, 7], "got pong"], route);
    client.close(4100, "client done");
    assert.deepEqual(await client.closed, [4100, "client done"]);
    await sleep(200);
    const p = new URL(u).pathname;
    assert.ok(closes.some(([path, code, reason]) => path === p && code === 4100 && reason === "client done"), JSON.stringify(closes));
  }
  // The upstream closing reaches the client with its code and reason.
  const client = await proxyClient(dev.port, `ws://127.0.0.1:${plainPort}/pass-close`, "/pass");
  client.send("close-me");
  assert.deepEqual(await client.closed, [4000, "server says bye"]);
  // A subprotocol the upstream chose is the client's too.
  const proto = await proxyClient(dev.port, `ws://127.0.0.1:${plainPort}/pass-proto`, "/rewrap", ["alpha", "beta"]);
  assert.equal(proto.protocol, "beta");
  proto.close();
  await proto.closed;
  // An accepted socket cannot be returned.
  const refused = new WebSocket(`ws://127.0.0.1:${dev.port}/accepted-then-returned?u=${encodeURIComponent(`ws://127.0.0.1:${plainPort}/acc`)}`);
  refused.on("error", () => {}); // the failed handshake, reported below
  const status = await new Promise((resolve) => {
    refused.on("unexpected-response", (req, res) => {
      res.resume();
      req.destroy();
      resolve(res.statusCode);
    });
    refused.on("open", () => resolve(101));
  });
  assert.equal(status, 500);
  await dev.waitFor(/Can't return a WebSocket that was accepted in a Response/);
});

test("a Worker reset (CPU limit) closes its sockets at once, both ends", async () => {
  const s = await startDev(worker(SOURCE, { toml: "[limits]\ncpu_ms = 50\n" }), ["--threads", "1"]);
  try {
    const client = await proxyClient(s.port, `ws://127.0.0.1:${plainPort}/reset`);
    const t0 = Date.now();
    const burn = await s.fetch("/burn");
    assert.equal(burn.status, 503);
    const [code] = await client.closed;
    assert.equal(code, 1011);
    assert.ok(Date.now() - t0 < 5000 * SLOW);
    await sleep(200);
    assert.ok(closes.some(([p, c]) => p === "/reset" && c === 1011), JSON.stringify(closes));
  } finally {
    await s.stop();
  }
});

test("reloading the Worker closes its open sockets with 1001", async () => {
  const dir = worker(SOURCE);
  const s = await startDev(dir, ["--threads", "1"]);
  try {
    const client = await proxyClient(s.port, `ws://127.0.0.1:${plainPort}/reload`);
    writeFileSync(path.join(dir, "src/index.js"), SOURCE.replace('new Response("v1")', 'new Response("v2")'));
    await s.waitFor(/Reloaded/, 10000 * SLOW);
    const [code] = await client.closed;
    assert.equal(code, 1001);
    assert.equal(await (await s.fetch("/version")).text(), "v2");
    await sleep(200);
    assert.ok(closes.some(([p, c]) => p === "/reload" && c === 1001), JSON.stringify(closes));
  } finally {
    await s.stop();
  }
});
