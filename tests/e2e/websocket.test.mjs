// WebSockets (src/net/websocket.c, src/net/websocket_client.c) end to end. No product endpoint
// speaks WebSocket yet, so the server is build/tests/ws_echo_server (http_server + ws_accept;
// see its header for its routes) and the client side is the `ws` package and
// build/tests/ws_client_probe (the C client). Raw sockets cover what `ws` will not send:
// broken frames, invalid UTF-8, odd handshakes.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import path from "node:path";
import WebSocket from "ws";
import { HEARTH, SLOW, SANITIZED, sleep } from "./lib/harness.mjs";

const BIN_DIR = path.join(path.dirname(HEARTH), "tests");
const ECHO_SERVER = path.join(BIN_DIR, "ws_echo_server");
const CLIENT_PROBE = path.join(BIN_DIR, "ws_client_probe");

const servers = [];
// Stops every server; a sanitizer report in any server's output fails the file.
after(async () => {
  const errors = [];
  for (const s of servers) await s.stop().catch((e) => errors.push(e));
  if (errors.length) throw errors[0];
});

const SANITIZER_REPORT = /ERROR: (Address|Leak)Sanitizer|runtime error:/;

// Starts ws_echo_server with extra arguments; resolves { port, url, stats(), stop(), ... }.
async function startEcho(args = []) {
  const child = spawn(ECHO_SERVER, ["--port", "0", ...args]);
  const server = { child, stdout: "", stderr: "" };
  server.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  child.stderr.on("data", (d) => (server.stderr += d));
  server.port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ws_echo_server did not start\n${server.stderr}`)), 10000 * SLOW);
    child.stdout.on("data", (d) => {
      server.stdout += d;
      const m = /listening on (\d+)/.exec(server.stdout);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on("exit", () => reject(new Error(`ws_echo_server exited\n${server.stderr}`)));
  });
  server.url = `ws://127.0.0.1:${server.port}`;
  server.stats = async () => (await fetch(`http://127.0.0.1:${server.port}/stats`)).json();
  server.stop = async () => {
    if (child.exitCode === null && child.signalCode === null && !child.killed) child.kill("SIGTERM");
    const res = await server.exited;
    if (SANITIZER_REPORT.test(server.stderr)) throw new Error(`sanitizer report:\n${server.stderr}`);
    return res;
  };
  servers.push(server);
  return server;
}

// Opens a `ws` client and resolves once it is open.
function open(url, protocols, options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

const nextMessage = (ws) =>
  new Promise((resolve) => ws.once("message", (data, isBinary) => resolve({ data, isBinary })));
const closed = (ws) => new Promise((resolve) => ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));

// ---- raw sockets ----------------------------------------------------------------------------

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function upgradeRequest(pathname = "/echo", { version = "13", key = KEY, method = "GET", http = "1.1", extra = "" } = {}) {
  return (
    `${method} ${pathname} HTTP/${http}\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    (key === null ? "" : `Sec-WebSocket-Key: ${key}\r\n`) +
    (version === null ? "" : `Sec-WebSocket-Version: ${version}\r\n`) +
    extra +
    "\r\n"
  );
}

// A client frame: masked unless told otherwise; `len` overrides the length encoding
// ("16" / "64" force the extended forms).
function frame(opcode, payload = Buffer.alloc(0), { fin = true, mask = true, rsv = 0, len } = {}) {
  payload = Buffer.from(payload);
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode) & 0xff];
  const m = mask ? 0x80 : 0;
  const n = payload.length;
  if (len === "64" || (len === undefined && n > 65535)) {
    head.push(m | 127);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    head.push(...b);
  } else if (len === "16" || (len === undefined && n > 125)) {
    head.push(m | 126, n >> 8, n & 0xff);
  } else {
    head.push(m | n);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload]);
  const key = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([Buffer.from(head), key, masked]);
}

// Server frames from a buffer (unmasked): [{ fin, opcode, payload }], and the bytes left over.
function parseFrames(buf) {
  const frames = [];
  let off = 0;
  for (;;) {
    if (buf.length - off < 2) break;
    const b0 = buf[off], b1 = buf[off + 1];
    assert.equal(b1 & 0x80, 0, "server frames are not masked");
    let len = b1 & 0x7f, hl = 2;
    if (len === 126) {
      if (buf.length - off < 4) break;
      len = buf.readUInt16BE(off + 2);
      hl = 4;
    } else if (len === 127) {
      if (buf.length - off < 10) break;
      len = Number(buf.readBigUInt64BE(off + 2));
      hl = 10;
    }
    if (buf.length - off < hl + len) break;
    frames.push({ fin: Boolean(b0 & 0x80), opcode: b0 & 0x0f, payload: buf.subarray(off + hl, off + hl + len) });
    off += hl + len;
  }
  return { frames, rest: buf.subarray(off) };
}

// A raw connection: send bytes, wait for the HTTP head, then for frames, then the close.
class Raw {
  constructor(port) {
    this.sock = net.connect(port, "127.0.0.1");
    this.data = Buffer.alloc(0);
    this.ended = false;
    this.waiters = [];
    this.sock.on("data", (d) => {
      this.data = Buffer.concat([this.data, d]);
      this.poke();
    });
    this.sock.on("close", () => {
      this.ended = true;
      this.poke();
    });
    this.sock.on("error", () => {});
  }
  poke() {
    for (const w of [...this.waiters]) w();
  }
  send(bytes) {
    this.sock.write(bytes);
  }
  until(pred, what, timeout = 5000 * SLOW) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = pred();
        if (v !== undefined) {
          done();
          resolve(v);
        } else if (this.ended) {
          done();
          reject(new Error(`connection ended waiting for ${what}; got ${this.data.toString("latin1").slice(0, 300)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== check);
      };
      this.waiters.push(check);
      check();
    });
  }
  // The next HTTP response head (and its body, by content-length): { status, headers, body }.
  async response() {
    return this.until(() => {
      const text = this.data.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return undefined;
      const lines = text.slice(0, end).split("\r\n");
      const headers = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      const bodyLen = Number(headers["content-length"] ?? 0);
      if (this.data.length < end + 4 + bodyLen) return undefined;
      const body = this.data.subarray(end + 4, end + 4 + bodyLen).toString();
      this.data = this.data.subarray(end + 4 + bodyLen);
      return { status: Number(lines[0].split(" ")[1]), headers, body };
    }, "an HTTP response");
  }
  // Frames until one satisfies pred (default: a close frame); resolves all frames seen.
  async frames(pred = (f) => f.opcode === 8) {
    const seen = [];
    return this.until(() => {
      const { frames, rest } = parseFrames(this.data);
      this.data = rest;
      seen.push(...frames);
      return seen.some(pred) ? seen : undefined;
    }, "a frame");
  }
  async closeCode() {
    const frames = await this.frames();
    const close = frames.find((f) => f.opcode === 8);
    return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
  }
  waitEnd() {
    return this.until(() => (this.ended ? true : undefined), "the connection to close");
  }
  destroy() {
    this.sock.destroy();
  }
}

async function rawOpen(port, pathname = "/echo") {
  const raw = new Raw(port);
  raw.send(upgradeRequest(pathname));
  const res = await raw.response();
  assert.equal(res.status, 101);
  assert.equal(res.headers["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  return raw;
}

function probe(args, { timeout = 15000 * SLOW } = {}) {
  return new Promise((resolve, reject) => {
    execFile(CLIENT_PROBE, args, { timeout }, (error, stdout, stderr) => {
      if (SANITIZER_REPORT.test(stderr)) reject(new Error(`sanitizer report:\n${stderr}`));
      else resolve({ code: error ? error.code : 0, stdout, stderr });
    });
  });
}

// ---- tests ----------------------------------------------------------------------------------

test("echoes text and binary messages, small and large", async () => {
  const s = await startEcho();
  const ws = await open(`${s.url}/echo`);
  ws.send("héllo wörld ✓");
  let m = await nextMessage(ws);
  assert.equal(m.isBinary, false);
  assert.equal(m.data.toString(), "héllo wörld ✓");
  const blob = randomBytes(300 * 1024);
  ws.send(blob);
  m = await nextMessage(ws);
  assert.equal(m.isBinary, true);
  assert.ok(Buffer.compare(m.data, blob) === 0);
  ws.send("");
  m = await nextMessage(ws);
  assert.equal(m.data.length, 0);
  ws.close(1000, "bye");
  assert.deepEqual(await closed(ws), { code: 1000, reason: "bye" });
});

test("the 101 carries the accept key, the extra headers and the selected subprotocol", async () => {
  const s = await startEcho();
  const headers = await new Promise((resolve, reject) => {
    const ws = new WebSocket(`${s.url}/protocols`, ["nope", "superchat", "chat"]);
    ws.once("upgrade", (res) => resolve({ ...res.headers, protocol: () => ws.protocol, ws }));
    ws.once("error", reject);
  });
  assert.equal(headers["x-echo"], "1");
  assert.equal(headers["sec-websocket-protocol"], "superchat");
  headers.ws.terminate();
  // Nothing offered that the server speaks: the 101 names no protocol (the client decides).
  const raw = new Raw(s.port);
  raw.send(upgradeRequest("/protocols", { extra: "Sec-WebSocket-Protocol: other, more\r\n" }));
  const res = await raw.response();
  assert.equal(res.status, 101);
  assert.equal(res.headers["sec-websocket-protocol"], undefined);
  raw.destroy();
});

test("fragmented messages are reassembled, with a ping between the fragments", async () => {
  const s = await startEcho();
  const ws = await open(`${s.url}/echo`);
  ws.send("frag", { fin: false });
  ws.send("ment", { fin: false });
  ws.send("ed", { fin: true });
  assert.equal((await nextMessage(ws)).data.toString(), "fragmented");

  const raw = await rawOpen(s.port);
  raw.send(frame(0x2, "ab", { fin: false }));
  raw.send(frame(0x9, "pp"));
  raw.send(frame(0x0, "cd", { fin: false }));
  raw.send(frame(0x0, "ef"));
  const frames = await raw.frames((f) => f.opcode === 2);
  assert.deepEqual(
    frames.map((f) => [f.opcode, f.payload.toString()]),
    [[0xa, "pp"], [2, "abcdef"]],
  );
  raw.destroy();
  ws.terminate();
});

test("pings are answered with pongs carrying the same data", async () => {
  const s = await startEcho();
  const ws = await open(`${s.url}/echo`);
  const pong = new Promise((resolve) => ws.once("pong", resolve));
  ws.ping("are you there");
  assert.equal((await pong).toString(), "are you there");
  ws.terminate();
});

test("the server pings; a client that never answers is closed after the idle timeout", async () => {
  const s = await startEcho(["--ping-interval", String(50 * SLOW), "--idle-timeout", String(400 * SLOW)]);
  // An answering client stays connected well past the idle timeout.
  const alive = await open(`${s.url}/echo`);
  let pings = 0;
  alive.on("ping", () => pings++);
  // One that does not answer (and sends nothing) is closed with 1001.
  const mute = await open(`${s.url}/echo`, undefined, { autoPong: false });
  const muteClosed = closed(mute);
  await sleep(1000 * SLOW);
  assert.ok(pings >= 5, `pings: ${pings}`);
  assert.equal(alive.readyState, WebSocket.OPEN);
  assert.deepEqual(await muteClosed, { code: 1001, reason: "idle timeout" });
  alive.close();
  await closed(alive);
});

test("close codes and reasons: client-initiated, server-initiated, no code", async () => {
  const s = await startEcho();
  let ws = await open(`${s.url}/echo`);
  ws.close(4000, "client bye");
  assert.deepEqual(await closed(ws), { code: 4000, reason: "client bye" });

  ws = await open(`${s.url}/echo`);
  ws.send("before");
  ws.send("close:4001:server bye");
  // Messages queued before the close still arrive first.
  assert.equal((await nextMessage(ws)).data.toString(), "before");
  assert.deepEqual(await closed(ws), { code: 4001, reason: "server bye" });

  ws = await open(`${s.url}/echo`);
  ws.close();
  assert.equal((await closed(ws)).code, 1005);

  // A reason longer than a close frame allows is cut to 123 bytes.
  ws = await open(`${s.url}/echo`);
  ws.send(`close:1000:${"r".repeat(200)}`);
  assert.equal((await closed(ws)).reason, "r".repeat(123));

  await sleep(100 * SLOW);
  const stats = await s.stats();
  assert.equal(stats.closes["4000"], 1);
  assert.equal(stats.closes["4001"], 1);
  assert.equal(stats.closes["1005"], 1);
  assert.equal(stats.open, 0);
});

test("invalid UTF-8 in a text message (also across fragments) or a close reason closes with 1007", async () => {
  const s = await startEcho();
  let raw = await rawOpen(s.port);
  raw.send(frame(0x1, Buffer.from([0x68, 0xc3, 0x28])));
  assert.equal(await raw.closeCode(), 1007);
  await raw.waitEnd();

  raw = await rawOpen(s.port);
  raw.send(frame(0x1, Buffer.from([0xe2, 0x82]), { fin: false }));
  raw.send(frame(0x0, Buffer.from([0x41])));
  assert.equal(await raw.closeCode(), 1007);

  // A sequence split across fragments is fine.
  raw = await rawOpen(s.port);
  raw.send(frame(0x1, Buffer.from([0xe2, 0x82]), { fin: false }));
  raw.send(frame(0x0, Buffer.from([0xac])));
  const frames = await raw.frames((f) => f.opcode === 1);
  assert.equal(frames.find((f) => f.opcode === 1).payload.toString(), "€");
  raw.destroy();

  // A close reason that is not UTF-8, arriving in two pieces.
  raw = await rawOpen(s.port);
  const bad = frame(0x8, Buffer.from([0x03, 0xe8, 0x61, 0xff]));
  raw.send(bad.subarray(0, 8));
  await sleep(50);
  raw.send(bad.subarray(8));
  assert.equal(await raw.closeCode(), 1007);

  await sleep(100 * SLOW);
  assert.equal((await s.stats()).closes["1007"], 3);
});

test("a message over the size limit closes with 1009, also when fragmented", async () => {
  const s = await startEcho(["--max-message", "65536"]);
  const ws = await open(`${s.url}/echo`);
  ws.send(Buffer.alloc(65536, 1));
  assert.equal((await nextMessage(ws)).data.length, 65536);
  ws.send(Buffer.alloc(65537, 1));
  assert.equal((await closed(ws)).code, 1009);

  const raw = await rawOpen(s.port);
  raw.send(frame(0x2, Buffer.alloc(40000), { fin: false }));
  raw.send(frame(0x0, Buffer.alloc(40000)));
  assert.equal(await raw.closeCode(), 1009);
  await sleep(100 * SLOW);
  assert.equal((await s.stats()).closes["1009"], 2);
});

test("protocol errors close with 1002", async () => {
  const s = await startEcho();
  const cases = {
    "unmasked frame": frame(0x1, "x", { mask: false }),
    "reserved opcode": frame(0x3, "x"),
    "reserved bit": frame(0x1, "x", { rsv: 4 }),
    "continuation without a start": frame(0x0, "x"),
    "new message inside a fragmented one": Buffer.concat([frame(0x1, "a", { fin: false }), frame(0x1, "b")]),
    "fragmented ping": frame(0x9, "x", { fin: false }),
    "ping longer than 125 bytes": frame(0x9, Buffer.alloc(126), { len: "16" }),
    "length not in its shortest form (16 bits)": frame(0x2, "abc", { len: "16" }),
    "length not in its shortest form (64 bits)": frame(0x2, Buffer.alloc(300), { len: "64" }),
    "close frame with a 1-byte payload": frame(0x8, Buffer.from([3])),
    "close code that may not be sent": frame(0x8, Buffer.from([0x03, 0xee])), // 1006
  };
  for (const [name, bytes] of Object.entries(cases)) {
    const raw = await rawOpen(s.port);
    raw.send(bytes);
    assert.equal(await raw.closeCode(), 1002, name);
    await raw.waitEnd();
  }
  await sleep(100 * SLOW);
  assert.equal((await s.stats()).closes["1002"], Object.keys(cases).length);
});

test("bad handshakes are answered 400 or 426 with a message", async () => {
  const s = await startEcho();
  const expect = async (request, status, message, header) => {
    const raw = new Raw(s.port);
    raw.send(request);
    const res = await raw.response();
    assert.equal(res.status, status, request);
    assert.match(res.body, message);
    assert.equal(res.headers.connection, "close");
    if (header) assert.equal(res.headers[header[0]], header[1]);
    await raw.waitEnd();
  };
  await expect("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", 426, /expected a WebSocket upgrade request/, ["upgrade", "websocket"]);
  await expect(upgradeRequest("/echo", { version: "8" }), 426, /unsupported WebSocket version "8"/, ["sec-websocket-version", "13"]);
  await expect(upgradeRequest("/echo", { version: null }), 400, /Sec-WebSocket-Version header is missing/);
  await expect(upgradeRequest("/echo", { key: null }), 400, /Sec-WebSocket-Key header is missing/);
  await expect(upgradeRequest("/echo", { key: "c2hvcnQ=" }), 400, /base64 of 16 bytes/);
  await expect(upgradeRequest("/echo", { key: "AAAAAAAAAAAAAAAAAAAAAAA=" }), 400, /base64 of 16 bytes/);
  await expect(upgradeRequest("/echo", { method: "POST", extra: "Content-Length: 0\r\n" }), 400, /must be a GET, not POST/);
  await expect(upgradeRequest("/echo", { http: "1.0" }), 400, /needs HTTP\/1.1/);
  // `Connection: keep-alive, Upgrade` (as browsers send it) is an upgrade.
  const raw = new Raw(s.port);
  raw.send(upgradeRequest("/echo").replace("Connection: Upgrade", "Connection: keep-alive, Upgrade"));
  assert.equal((await raw.response()).status, 101);
  raw.destroy();
  // The `ws` client sees the refusal as an error with the status.
  const err = await open(`${s.url}/auth`).catch((e) => e);
  assert.match(String(err.message), /401/);
});

test("frames sent with the handshake, and requests pipelined before the upgrade", async () => {
  const s = await startEcho();
  const raw = new Raw(s.port);
  raw.send(
    "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n" + upgradeRequest("/echo"),
  );
  raw.send(frame(0x1, "early"));
  const first = await raw.response();
  assert.equal(first.status, 200);
  assert.equal(JSON.parse(first.body).accepted, 0);
  assert.equal((await raw.response()).status, 101);
  const frames = await raw.frames((f) => f.opcode === 1);
  assert.equal(frames[0].payload.toString(), "early");
  raw.destroy();

  // Handshake and a frame in a single write.
  const raw2 = new Raw(s.port);
  raw2.send(Buffer.concat([Buffer.from(upgradeRequest("/echo")), frame(0x1, "same packet")]));
  assert.equal((await raw2.response()).status, 101);
  assert.equal((await raw2.frames((f) => f.opcode === 1))[0].payload.toString(), "same packet");
  raw2.destroy();

  // Plain HTTP keeps working on its own connections (keep-alive) next to WebSockets.
  for (let i = 0; i < 3; i++) assert.equal((await fetch(`http://127.0.0.1:${s.port}/stats`)).status, 200);
});

test("many concurrent connections", async () => {
  const s = await startEcho();
  const N = SANITIZED ? 100 : 300;
  const clients = await Promise.all(Array.from({ length: N }, () => open(`${s.url}/echo`)));
  assert.equal((await s.stats()).open, N);
  await Promise.all(
    clients.map(async (ws, i) => {
      for (let k = 0; k < 5; k++) {
        const next = nextMessage(ws);
        ws.send(`client ${i} message ${k}`);
        assert.equal((await next).data.toString(), `client ${i} message ${k}`);
      }
      ws.close(1000);
      assert.equal((await closed(ws)).code, 1000);
    }),
  );
  await sleep(200 * SLOW);
  const stats = await s.stats();
  assert.equal(stats.open, 0);
  assert.equal(stats.closes["1000"], N);
});

test("a client that stops reading: the server's queue stays bounded and sends report full", async () => {
  const LIMIT = 256 * 1024;
  const s = await startEcho(["--max-buffered", String(LIMIT)]);
  // Stop reading as soon as the connection is open: the kernel buffers fill, then the
  // server's queue.
  const ws = await open(`${s.url}/flood?size=1024`);
  ws.pause();
  await sleep(1500 * SLOW);
  const t0 = Date.now();
  const during = await s.stats();
  // The server still answers at once: the producer never blocks on the slow client.
  assert.ok(Date.now() - t0 < 1000 * SLOW, "stats answered quickly");
  assert.ok(during.max_buffered_seen <= LIMIT, `buffered ${during.max_buffered_seen} > ${LIMIT}`);
  assert.ok(during.max_buffered_seen > LIMIT / 2, `buffered ${during.max_buffered_seen}`);
  assert.ok(during.flood_refused > 0, "sends were refused");
  const later = await (await sleep(300 * SLOW), s.stats());
  assert.ok(later.flood_refused > during.flood_refused, "the producer keeps going (and dropping)");

  // Reading again: messages arrive in order, with a gap where sends were refused (after what
  // the kernel buffers held); the server is told there is room again (on_drain).
  let last = -1;
  let count = 0;
  const gap = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no gap in ${count} messages`)), 20000 * SLOW);
    ws.on("message", (data) => {
      count++;
      const seq = Number(/^seq (\d+)/.exec(data.toString("latin1"))[1]);
      if (seq <= last) reject(new Error(`seq ${seq} after ${last}`));
      if (last >= 0 && seq !== last + 1) {
        clearTimeout(timer);
        resolve();
      }
      last = seq;
    });
  });
  ws.resume();
  await gap;
  assert.ok((await s.stats()).drains > 0, "on_drain was called");
  ws.terminate();
});

test("server shutdown closes every WebSocket with 1001 and exits", async () => {
  const s = await startEcho();
  const clients = await Promise.all(Array.from({ length: 5 }, () => open(`${s.url}/echo`)));
  const closes = clients.map(closed);
  s.child.kill("SIGTERM");
  for (const c of await Promise.all(closes)) assert.deepEqual(c, { code: 1001, reason: "going away" });
  const exit = await s.stop();
  assert.equal(exit.code, 0, s.stderr);
});

test("shutdown does not wait forever for a client that ignores the close", async () => {
  const s = await startEcho(["--close-timeout", String(300 * SLOW)]);
  const raw = await rawOpen(s.port);
  const t0 = Date.now();
  s.child.kill("SIGTERM");
  assert.equal(await raw.closeCode(), 1001);
  // No close frame back: the server closes the connection after the close timeout.
  await raw.waitEnd();
  const exit = await s.stop();
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - t0 < 5000 * SLOW);
});

// ---- the C client ---------------------------------------------------------------------------

test("C client: echo, subprotocols, server close, pings", async () => {
  const s = await startEcho(["--ping-interval", String(50 * SLOW), "--idle-timeout", String(400 * SLOW)]);
  let r = await probe([`${s.url}/echo`, "-s", "hello", "-s", "wörld"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "open protocol=\ntext 5 hello\ntext 6 wörld\nclose 1000 done\n");

  // http:// URLs are taken as ws://.
  r = await probe([`http://127.0.0.1:${s.port}/protocols`, "-p", "superchat, chat", "-s", "x"]);
  assert.equal(r.stdout, "open protocol=superchat\ntext 1 x\nclose 1000 done\n");

  r = await probe([`${s.url}/echo`, "-s", "close:4001:server bye", "-n", "1"]);
  assert.equal(r.stdout, "open protocol=\nclose 4001 server bye\n");

  // The client answers the server's pings: still open after 3 idle timeouts.
  r = await probe([`${s.url}/echo`, "--wait", String(1200 * SLOW), "--close", "4002:ok"]);
  assert.equal(r.stdout, "open protocol=\nclose 4002 ok\n");
});

test("C client: extra headers, refused handshakes, unsupported URLs", async () => {
  const s = await startEcho();
  let r = await probe([`${s.url}/auth`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /the server answered 401 Unauthorized: missing or wrong token/);
  assert.match(r.stderr, /status 401/);

  r = await probe([`${s.url}/auth`, "-H", "Authorization: Bearer secret", "-s", "in"]);
  assert.equal(r.stdout, "open protocol=\ntext 2 in\nclose 1000 done\n");

  r = await probe([`wss://127.0.0.1:${s.port}/echo`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /wss:\/\/ and https:\/\/ are not supported yet/);

  r = await probe([`ftp://127.0.0.1/x`]);
  assert.match(r.stderr, /expected a ws:\/\/ or http:\/\/ URL/);

  // Nothing listening.
  const closedPort = await new Promise((resolve) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
  r = await probe([`ws://127.0.0.1:${closedPort}/`]);
  assert.match(r.stderr, /cannot connect to 127\.0\.0\.1:\d+: Connection refused/);

  // An HTTP server that is not a WebSocket server.
  const http = net.createServer((sock) => {
    sock.once("data", () => sock.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi"));
  });
  await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
  r = await probe([`ws://127.0.0.1:${http.address().port}/`]);
  assert.match(r.stderr, /the server answered 200 OK: hi/);
  // A 101 with a wrong accept key.
  http.removeAllListeners("connection");
  http.on("connection", (sock) =>
    sock.once("data", () =>
      sock.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n"),
    ),
  );
  r = await probe([`ws://127.0.0.1:${http.address().port}/`]);
  assert.match(r.stderr, /wrong Sec-WebSocket-Accept/);
  http.close();
});
