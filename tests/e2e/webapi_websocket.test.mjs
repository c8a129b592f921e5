// Server-side WebSockets in Workers (src/runtime/websocket.js, src/platform/websocket_ops.c):
// WebSocketPair, accept(), send(), close(), message/close events, returned as
// `new Response(null, { status: 101, webSocket: client })`. The client side is the `ws`
// package over real sockets. One shard (--threads 1), so every connection reaches the same
// isolate (the chat room is module state).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { spawnSync } from "node:child_process";
import { startDev, worker, SLOW, HEARTH } from "./lib/harness.mjs";

function workerSource() {
  const room = new Set();
  function describe(e) {
    return e === null ? null : { name: e?.name, message: e?.message };
  }
  function caught(fn) {
    try {
      fn();
      return null;
    } catch (e) {
      return describe(e);
    }
  }
  return {
    async fetch(request) {
      const url = new URL(request.url);
      const tag = url.searchParams.get("tag") ?? "";
      if (url.pathname === "/echo") {
        const pair = new WebSocketPair();
        const [client, server] = Object.values(pair);
        server.accept();
        // Sent before the upgrade: queued until the 101 is out.
        server.send("hello");
        server.addEventListener("message", (e) => {
          if (typeof e.data === "string") {
            if (e.data === "close-me") server.close(4001, "bye now");
            else server.send("echo:" + e.data);
          } else {
            server.send(new Uint8Array(e.data)); // a view; data is an ArrayBuffer
            server.send(JSON.stringify({ binary: e.data instanceof ArrayBuffer, length: e.data.byteLength }));
          }
        });
        server.addEventListener("close", (e) => {
          console.log(`WSCLOSE ${tag} ${e.code} ${JSON.stringify(e.reason)} ${e.wasClean} ${e instanceof CloseEvent} ${server.readyState}`);
        });
        const response = new Response(null, { status: 101, webSocket: client });
        server.send("hello again"); // after the Response exists, before the upgrade
        return response;
      }
      if (url.pathname === "/chat") {
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        const name = tag;
        room.add(server);
        server.onmessage = (e) => {
          for (const peer of room) if (peer !== server) peer.send(`${name}: ${e.data}`);
        };
        server.onclose = () => room.delete(server);
        return new Response(null, { status: 101, webSocket: client });
      }
      if (url.pathname === "/flood") {
        // 16 MiB in one turn: more than the socket's 4 MiB send queue, so most of it waits in
        // C for the client to read; the close goes out after it.
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        server.addEventListener("message", () => {
          const chunk = new Uint8Array(256 * 1024);
          for (let i = 0; i < 64; i++) {
            chunk[0] = i;
            server.send(chunk);
          }
          server.close(1000, "done");
        });
        return new Response(null, { status: 101, webSocket: client });
      }
      if (url.pathname === "/proto") {
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        server.send(request.headers.get("sec-websocket-protocol") ?? "");
        return new Response(null, {
          status: 101,
          webSocket: client,
          headers: { "sec-websocket-protocol": "chat", "x-extra": "yes" },
        });
      }
      if (url.pathname === "/facts") {
        const pair = new WebSocketPair();
        const [client, server] = pair;
        const values = Object.values(pair);
        const facts = {
          iterable: values.length === 2 && values[0] === client && values[1] === server,
          isWebSocket: client instanceof WebSocket && server instanceof EventTarget,
          readyState: server.readyState,
          constants: [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED, server.CLOSED],
          sendBeforeAccept: caught(() => server.send("x")),
          status101NoSocket: caught(() => new Response(null, { status: 101 })),
          badSocket: caught(() => new Response(null, { status: 101, webSocket: {} })),
          message: (() => {
            const e = new MessageEvent("message", { data: "d" });
            return [e.type, e.data, e instanceof Event];
          })(),
          close: (() => {
            const e = new CloseEvent("close", { code: 4000, reason: "r", wasClean: true });
            return [e.code, e.reason, e.wasClean];
          })(),
          getter: new Response(null, { status: 101, webSocket: new WebSocketPair()[0] }).webSocket !== null,
          plainGetter: new Response("x").webSocket,
          // Outbound sockets are webapi_websocket_outbound.test.mjs's; a bad URL throws at once.
          newWebSocket: caught(() => new WebSocket("ftp://example.com")),
        };
        // Both ends in the isolate: they talk to each other.
        server.accept();
        client.accept();
        const got = new Promise((resolve) => client.addEventListener("message", (e) => resolve(e.data)));
        server.send("local");
        facts.local = await got;
        facts.badClose = caught(() => server.close(999));
        return Response.json(facts);
      }
      return new Response("not found", { status: 404 });
    },
  };
}

let dev;
let base;
before(async () => {
  const dir = worker(`const routes = (${workerSource.toString()})();\nexport default routes;\n`);
  dev = await startDev(dir, ["--threads", "1"]);
  base = `ws://127.0.0.1:${dev.port}`;
});
after(async () => {
  if (dev) await dev.stop();
});

// Opens a client and collects its messages; resolves once open.
function connect(path, protocols = undefined) {
  const ws = new WebSocket(base + path, protocols);
  ws.on("upgrade", (res) => (ws.upgradeHeaders = res.headers));
  const messages = [];
  const waiters = [];
  ws.on("message", (data, isBinary) => {
    messages.push(isBinary ? data : data.toString());
    for (const w of [...waiters]) w();
  });
  ws.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.next = (n = messages.length + 1) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for message ${n}; got ${JSON.stringify(messages)}`)), 10000 * SLOW);
      const check = () => {
        if (messages.length >= n) {
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(messages[n - 1]);
        }
      };
      waiters.push(check);
      check();
    });
  ws.messages = messages;
  return new Promise((resolve, reject) => {
    ws.on("open", () => resolve(ws));
    ws.on("error", reject);
  });
}

test("the Web API surface: WebSocketPair, events, send before accept, Response checks", async () => {
  const facts = await (await fetch(`http://127.0.0.1:${dev.port}/facts`)).json();
  assert.equal(facts.iterable, true);
  assert.equal(facts.isWebSocket, true);
  assert.equal(facts.readyState, 1);
  assert.deepEqual(facts.constants, [0, 1, 2, 3, 3]);
  assert.equal(facts.sendBeforeAccept.name, "TypeError");
  assert.match(facts.sendBeforeAccept.message, /accept\(\)/);
  assert.equal(facts.status101NoSocket.name, "RangeError");
  assert.equal(facts.badSocket.name, "TypeError");
  assert.deepEqual(facts.message, ["message", "d", true]);
  assert.deepEqual(facts.close, [4000, "r", true]);
  assert.equal(facts.getter, true);
  assert.equal(facts.plainGetter, null);
  assert.equal(facts.newWebSocket.name, "SyntaxError");
  assert.equal(facts.local, "local");
  assert.equal(facts.badClose.name, "TypeError");
});

test("echo: text and binary; a message sent before the upgrade arrives first", async () => {
  const ws = await connect("/echo?tag=echo");
  assert.equal(await ws.next(1), "hello");
  assert.equal(await ws.next(2), "hello again");
  ws.send("ping");
  assert.equal(await ws.next(3), "echo:ping");
  ws.send("héllo ✓");
  assert.equal(await ws.next(4), "echo:héllo ✓");
  const bytes = randomBytes(70000);
  ws.send(bytes);
  const back = await ws.next(5);
  assert.ok(Buffer.isBuffer(back));
  assert.ok(back.equals(bytes));
  assert.deepEqual(JSON.parse(await ws.next(6)), { binary: true, length: 70000 });
  ws.close(4000, "client-bye");
  assert.deepEqual(await ws.closed, { code: 4000, reason: "client-bye" });
  // The Worker saw the client's close with its code and reason.
  await dev.waitFor(/WSCLOSE echo 4000 "client-bye" true true 3/);
});

test("the Response's headers: Sec-WebSocket-Protocol selects the subprotocol, others go on the 101", async () => {
  const ws = await connect("/proto", ["other", "chat"]);
  assert.equal(ws.protocol, "chat");
  assert.equal(ws.upgradeHeaders["x-extra"], "yes");
  assert.match(await ws.next(1), /^other, ?chat$/);
  ws.close();
  await ws.closed;
});

test("a burst larger than the send queue arrives whole and in order, then the close", async () => {
  const ws = await connect("/flood");
  ws._socket.pause();
  ws.send("go");
  await new Promise((r) => setTimeout(r, 200 * SLOW));
  ws._socket.resume();
  const closed = await ws.closed;
  assert.deepEqual(closed, { code: 1000, reason: "done" });
  assert.equal(ws.messages.length, 64);
  ws.messages.forEach((m, i) => {
    assert.equal(m.length, 256 * 1024);
    assert.equal(m[0], i);
  });
});

test("server-initiated close with code and reason", async () => {
  const ws = await connect("/echo?tag=srvclose");
  await ws.next(1);
  ws.send("close-me");
  assert.deepEqual(await ws.closed, { code: 4001, reason: "bye now" });
  await dev.waitFor(/WSCLOSE srvclose 4001 "bye now" true/);
});

test("chat: a broadcast between two clients of the same isolate", async () => {
  const alice = await connect("/chat?tag=alice");
  const bob = await connect("/chat?tag=bob");
  await new Promise((r) => setTimeout(r, 50 * SLOW));
  alice.send("hi bob");
  assert.equal(await bob.next(1), "alice: hi bob");
  bob.send("hi alice");
  assert.equal(await alice.next(1), "bob: hi alice");
  alice.close();
  await alice.closed;
  bob.send("anyone?");
  await new Promise((r) => setTimeout(r, 100 * SLOW));
  assert.equal(alice.messages.length, 1);
  bob.close(1000);
  assert.equal((await bob.closed).code, 1000);
});

test("an oversized message closes the socket with 1009", async () => {
  const ws = await connect("/echo?tag=big");
  await ws.next(1);
  ws.send(Buffer.alloc(1024 * 1024 + 1, 0x61));
  const closed = await ws.closed;
  assert.equal(closed.code, 1009);
  await dev.waitFor(/WSCLOSE big 1009 /);
});

test("--ws-max-message sets the largest message; bad values are refused", async () => {
  const dir = worker(`const routes = (${workerSource.toString()})();\nexport default routes;\n`);
  const small = await startDev(dir, ["--threads", "1", "--ws-max-message", "1000"]);
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${small.port}/echo?tag=small`);
    const got = [];
    ws.on("message", (d) => got.push(d.toString()));
    const closed = new Promise((resolve) => ws.on("close", (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      ws.on("open", resolve);
      ws.on("error", reject);
    });
    ws.send("x".repeat(1000)); // at the limit: echoed
    // "hello" and "hello again" come first; the echo is the third message.
    while (got.length < 3) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got.map((m) => m.length), [5, 11, 1005]);
    assert.equal(got[2], "echo:" + "x".repeat(1000));
    ws.send("x".repeat(1001));
    assert.equal(await closed, 1009);
  } finally {
    await small.stop();
  }
  const bad = spawnSync(HEARTH, ["dev", dir, "--ws-max-message", "12"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--ws-max-message needs a number of bytes from 125 to 1073741824/);
});

test("a client that disconnects abruptly: close event 1006, not clean", async () => {
  const ws = await connect("/echo?tag=abrupt");
  await ws.next(1);
  ws._socket.destroy();
  await dev.waitFor(/WSCLOSE abrupt 1006 "" false/);
  // The server still serves.
  const res = await fetch(`http://127.0.0.1:${dev.port}/nothing`);
  assert.equal(res.status, 404);
});

test("a 101 for a request that is not a WebSocket upgrade becomes a 500 naming the problem", async () => {
  const res = await fetch(`http://127.0.0.1:${dev.port}/echo?tag=plain`);
  assert.equal(res.status, 500);
  const body = await res.text();
  assert.match(body, /Upgrade: websocket/);
  await dev.waitFor(/did not contain the header "Upgrade: websocket"/);
});

test("server shutdown closes open WebSockets with 1001 (and leaks nothing)", async () => {
  const ws = await connect("/echo?tag=shutdown");
  await ws.next(1);
  const stopping = dev.stop();
  const closed = await ws.closed;
  assert.equal(closed.code, 1001);
  await stopping;
  dev = null;
});
