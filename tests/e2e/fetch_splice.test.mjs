// A fetched body that the Worker returns untouched (`return fetch(u)`, or
// `new Response(r.body, r)`) is moved from the origin to the client in C (src/platform/
// fetch_ops.c, "splice"): the origin's Content-Length is kept, a 1 GiB body passes through
// without the process growing, a slow client slows the origin, an origin failing midway cuts
// the client off (and is reported), and a body the Worker touched still goes through its
// stream.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { startDev, worker, sleep, SLOW, SANITIZED, rssKiB, sendGenerated, drainSamplingRss, listenLoopback, closeServer } from "./lib/harness.mjs";

const SOURCE = `
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const u = url.searchParams.get("u");
    switch (url.pathname) {
      case "/pass":
        return fetch(u);
      case "/rewrap": {
        const r = await fetch(u);
        return new Response(r.body, r);
      }
      case "/touched": {
        // Read one chunk first: the rest must still arrive, through the stream.
        const r = await fetch(u);
        const reader = r.body.getReader();
        const first = await reader.read();
        const rest = new ReadableStream({
          start(c) { c.enqueue(first.value); },
          async pull(c) {
            const { value, done } = await reader.read();
            if (done) c.close(); else c.enqueue(value);
          },
        });
        return new Response(rest, { headers: { "x-touched": "yes" } });
      }
      case "/lifecycle": {
        // A fetched body has no stream until asked for: every way of using it still works.
        const a = await fetch(u);
        const copy = a.clone();
        const first = await a.text();
        let again;
        try {
          await a.text();
        } catch (e) {
          again = e.name;
        }
        const b = await fetch(u);
        const stream = b.body;
        const sameStream = b.body === stream;
        const viaStream = await new Response(stream).text();
        const c = await fetch(u);
        const bytes = await c.arrayBuffer();
        const d = await fetch(u);
        const unusedBefore = !d.bodyUsed;
        const blob = await d.blob();
        return Response.json({
          first, usedAfter: a.bodyUsed, again, copy: await copy.text(), sameStream, viaStream,
          bytes: bytes.byteLength, blob: [blob.size, blob.type], unusedBefore, usedAfterBlob: d.bodyUsed,
        });
      }
      case "/count": {
        // Reads the whole body in JavaScript: every chunk is garbage once counted.
        let total = 0;
        for await (const chunk of (await fetch(u)).body) total += chunk.byteLength;
        return new Response(String(total));
      }
      case "/piped":
        return new Response((await fetch(u)).body.pipeThrough(new TransformStream()));
    }
    return new Response("no route", { status: 404 });
  },
};
`;

// 1 GiB through the normal build; the sanitizer build is ~10× slower per byte.
const HUGE = SANITIZED ? 64 * 1024 * 1024 : 1024 * 1024 * 1024;
let server, origin, originUrl;
let hugeSent = 0; // bytes the origin wrote for its latest /huge

function handle(req, res) {
  const u = new URL(req.url, "http://x");
  switch (u.pathname) {
    case "/small":
      res.writeHead(200, { "content-type": "text/plain", "x-origin": "yes", "content-length": "11" });
      res.end("hello there");
      return;
    case "/chunked":
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("part one, ");
      setTimeout(() => res.end("part two"), 20);
      return;
    case "/huge":
      hugeSent = 0;
      sendGenerated(res, Number(u.searchParams.get("size") ?? HUGE), { chunkSize: 256 * 1024, onWrite: (n) => (hugeSent = n) });
      return;
    case "/reset":
      res.writeHead(200, { "content-type": "text/plain", "content-length": "1000000" });
      res.write(Buffer.alloc(100000, 65));
      setTimeout(() => req.socket.destroy(), 50);
      return;
  }
  res.writeHead(404);
  res.end();
}

before(async () => {
  origin = http.createServer(handle);
  originUrl = `http://127.0.0.1:${await listenLoopback(origin)}`;
  server = await startDev(worker(SOURCE), ["--threads", "1"]);
});

after(async () => {
  await server?.stop();
  closeServer(origin);
});

const via = (route, what) => `${route}?u=${encodeURIComponent(originUrl + what)}`;

test("returned untouched, a fetched body keeps the origin's status, headers and Content-Length", async () => {
  for (const route of ["/pass", "/rewrap"]) {
    const res = await server.fetch(via(route, "/small"));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), "11", route);
    assert.equal(res.headers.get("transfer-encoding"), null, route);
    assert.equal(res.headers.get("x-origin"), "yes");
    assert.equal(await res.text(), "hello there");
  }
  // An origin body without a length is re-chunked.
  const chunked = await server.fetch(via("/pass", "/chunked"));
  assert.equal(chunked.headers.get("transfer-encoding"), "chunked");
  assert.equal(await chunked.text(), "part one, part two");
  // HEAD gets the head alone.
  const head = await server.fetch(via("/pass", "/small"), { method: "HEAD" });
  assert.equal(head.headers.get("content-length"), "11");
  assert.equal(await head.text(), "");
});

test("a fetched body can be read, cloned, streamed and turned into a Blob", async () => {
  const r = await (await server.fetch(via("/lifecycle", "/small"))).json();
  assert.deepEqual(r, {
    first: "hello there", usedAfter: true, again: "TypeError", copy: "hello there", sameStream: true,
    viaStream: "hello there", bytes: 11, blob: [11, "text/plain"], unusedBefore: true, usedAfterBlob: true,
  });
});

test("a body the Worker touched still streams through JavaScript", async () => {
  const touched = await server.fetch(via("/touched", "/huge?size=3000000"));
  assert.equal(touched.headers.get("x-touched"), "yes");
  assert.equal((await touched.arrayBuffer()).byteLength, 3000000);
  const piped = await server.fetch(via("/piped", "/huge?size=3000000"));
  assert.equal(piped.headers.get("transfer-encoding"), "chunked");
  assert.equal((await piped.arrayBuffer()).byteLength, 3000000);
});

test("1 GiB passes through without the process growing", async () => {
  // One small exchange first, so that the realm and the connections exist.
  await (await server.fetch(via("/pass", "/small"))).text();
  const before = rssKiB(server.child.pid);
  const res = await server.fetch(via("/pass", "/huge"));
  assert.equal(res.headers.get("content-length"), String(HUGE));
  const { total, peak } = await drainSamplingRss(res.body, server.child.pid);
  assert.equal(total, HUGE);
  const grown = peak - before;
  // ASan keeps freed memory in quarantine, so RSS says nothing there.
  if (!SANITIZED) assert.ok(grown < 8 * 1024, `RSS grew by ${grown} KiB while passing 1 GiB through`);
});

test("1 GiB read by the Worker's own code leaves the process's size flat too", async () => {
  await (await server.fetch(via("/count", "/small"))).text();
  const before = rssKiB(server.child.pid);
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssKiB(server.child.pid))), 50);
  try {
    assert.equal(await (await server.fetch(via("/count", "/huge"))).text(), String(HUGE));
  } finally {
    clearInterval(timer);
  }
  const grown = Math.max(peak, rssKiB(server.child.pid)) - before;
  // Chunks handed to JavaScript are collected every 2 MiB (shard_note_body_bytes).
  if (!SANITIZED) assert.ok(grown < 12 * 1024, `RSS grew by ${grown} KiB while the Worker read 1 GiB`);
});

test("a client that reads nothing slows the origin, and reading resumes it", async () => {
  const sock = net.connect(server.port, "127.0.0.1");
  await new Promise((r) => sock.on("connect", r));
  sock.write(`GET ${via("/pass", "/huge?size=1073741824")} HTTP/1.1\r\nHost: x\r\n\r\n`);
  sock.pause();
  await sleep(1500 * SLOW);
  const stalled = hugeSent;
  // What the kernel buffers on both hops (loopback sockets grow to several MiB each way) plus
  // hearth's 256 KiB high-water mark and one 64 KiB chunk: bounded, nowhere near the 1 GiB.
  assert.ok(stalled > 0 && stalled < 64 * 1024 * 1024, `the origin wrote ${stalled} bytes for a client that read none`);
  await sleep(500 * SLOW);
  assert.equal(hugeSent, stalled, "the origin is held back");
  let received = 0;
  sock.on("data", (d) => (received += d.length));
  sock.resume();
  while (received < 64 * 1024 * 1024) await sleep(20);
  assert.ok(hugeSent > stalled);
  sock.destroy();
});

test("the client leaving midway stops the origin transfer", async () => {
  const sock = net.connect(server.port, "127.0.0.1");
  await new Promise((r) => sock.on("connect", r));
  sock.write(`GET ${via("/pass", "/huge?size=268435456")} HTTP/1.1\r\nHost: x\r\n\r\n`);
  let received = 0;
  await new Promise((resolve) =>
    sock.on("data", (d) => {
      received += d.length;
      if (received > 4 * 1024 * 1024) resolve();
    }),
  );
  sock.destroy();
  await sleep(500 * SLOW);
  const after = hugeSent;
  await sleep(500 * SLOW);
  assert.equal(hugeSent, after, "the origin stopped writing");
  assert.ok(after < 268435456);
  // The server goes on serving.
  assert.equal(await (await server.fetch(via("/pass", "/small"))).text(), "hello there");
});

test("an origin failing midway cuts the client off, and the failure is reported", async () => {
  const sock = net.connect(server.port, "127.0.0.1");
  await new Promise((r) => sock.on("connect", r));
  sock.write(`GET ${via("/pass", "/reset")} HTTP/1.1\r\nHost: x\r\n\r\n`);
  let data = Buffer.alloc(0);
  sock.on("data", (d) => (data = Buffer.concat([data, d])));
  await new Promise((r) => sock.on("close", r));
  const text = data.toString("latin1");
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /content-length: 1000000\r\n/i);
  const bodyLength = data.length - (text.indexOf("\r\n\r\n") + 4);
  assert.ok(bodyLength >= 0 && bodyLength < 1000000, `the body is cut short (${bodyLength} bytes)`);
  await server.waitFor(/The response body stream failed after the response started: TypeError: .*Network connection lost/);
});
