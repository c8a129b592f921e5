// Streamed response bodies: chunked transfer encoding, known lengths, backpressure from a slow
// client to the producer, and failures midway (the connection closes: the body is truncated).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startDev, worker, rawExchange, parseResponses, sleep, SLOW, SANITIZED, rssKiB, drainSamplingRss } from "./lib/harness.mjs";

const SOURCE = `
let produced = 0;
export default {
  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/chunks": {
        const { readable, writable } = new TransformStream();
        const w = writable.getWriter();
        (async () => {
          for (let i = 0; i < 5; i++) {
            await new Promise((r) => setTimeout(r, 10));
            await w.write(new TextEncoder().encode("part" + i + ";"));
          }
          await w.close();
        })();
        return new Response(readable, { headers: { "content-type": "text/plain" } });
      }
      case "/fixed": {
        const { readable, writable } = new FixedLengthStream(10);
        const w = writable.getWriter();
        w.write(new TextEncoder().encode("0123456789"));
        w.close();
        return new Response(readable);
      }
      case "/endless": {
        // Produces 64 KiB chunks for as long as someone reads; counts what it produced.
        produced = 0;
        const chunk = new Uint8Array(65536).fill(120);
        return new Response(new ReadableStream({
          pull(c) { produced += chunk.length; c.enqueue(chunk.slice()); },
        }));
      }
      case "/produced": return new Response(String(produced));
      case "/generate": {
        // n bytes in fresh 64 KiB chunks, from a default or a byte stream: each chunk is
        // garbage once written.
        const n = Number(url.searchParams.get("n"));
        const type = url.searchParams.get("type") === "bytes" ? "bytes" : undefined;
        let sent = 0;
        return new Response(new ReadableStream({
          type,
          pull(c) {
            if (sent >= n) return c.close();
            const chunk = new Uint8Array(Math.min(65536, n - sent)).fill(sent & 255);
            sent += chunk.length;
            c.enqueue(chunk);
          },
        }));
      }
      case "/broken":
        return new Response(new ReadableStream({
          start(c) { c.enqueue(new TextEncoder().encode("partial")); },
          pull() { throw new Error("source broke"); },
        }));
      case "/echo": return new Response(request.body);
      case "/tee": {
        const r = new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("twice")); c.close(); } }));
        const copy = r.clone();
        return new Response((await r.text()) + "/" + (await copy.text()));
      }
      case "/stall":
        // A body that nothing will ever write to.
        return new Response(new ReadableStream({ pull() { return new Promise(() => {}); } }));
      default: return new Response("?");
    }
  },
};
`;

let server;
before(async () => {
  server = await startDev(worker(SOURCE), ["--threads", "1"]);
});
after(async () => {
  await server.stop();
});

test("a body produced over time is sent with chunked transfer encoding", async () => {
  const { data } = await rawExchange(server.port, "GET /chunks HTTP/1.1\r\nHost: x\r\n\r\n", { idle: 1000 * SLOW });
  const [res] = parseResponses(data);
  assert.equal(res.headers["transfer-encoding"], "chunked");
  assert.equal(res.headers["content-length"], undefined);
  assert.equal(res.body, "part0;part1;part2;part3;part4;");
});

test("HTTP/1.0 clients get the stream delimited by the connection closing", async () => {
  const { data, closed } = await rawExchange(server.port, "GET /chunks HTTP/1.0\r\n\r\n", { idle: 2000 * SLOW });
  assert.equal(closed, true);
  assert.doesNotMatch(data, /transfer-encoding/i);
  assert.ok(data.endsWith("part0;part1;part2;part3;part4;"));
});

test("a FixedLengthStream body is sent with its content-length", async () => {
  const res = await server.fetch("/fixed");
  assert.equal(res.headers.get("content-length"), "10");
  assert.equal(await res.text(), "0123456789");
});

test("request.body can be streamed back; clone() tees a stream body", async () => {
  const big = "z".repeat(300000);
  assert.equal(await (await server.fetch("/echo", { method: "POST", body: big })).text(), big);
  assert.equal(await (await server.fetch("/tee")).text(), "twice/twice");
});

test("a slow client slows the producer (backpressure), and memory stays flat", async () => {
  const rssBefore = rssKiB(server.child.pid);
  const sock = net.connect(server.port, "127.0.0.1");
  await new Promise((r) => sock.on("connect", r));
  sock.write("GET /endless HTTP/1.1\r\nHost: x\r\n\r\n");
  sock.pause(); // read nothing: the socket buffers fill up
  await sleep(1500 * SLOW);
  const produced = Number(await (await server.fetch("/produced")).text());
  // Kernel socket buffers plus the runtime's high-water mark: a few MiB at most.
  assert.ok(produced < 16 * 1024 * 1024, `produced ${produced} bytes for a client that read none`);
  assert.ok(produced > 0);
  // Now read a lot: production continues.
  let received = 0;
  sock.on("data", (d) => (received += d.length));
  sock.resume();
  while (received < 50 * 1024 * 1024) await sleep(20);
  sock.destroy();
  if (!SANITIZED) {
    assert.ok(rssKiB(server.child.pid) - rssBefore < 64 * 1024, "RSS grew by less than 64 MiB while streaming 50 MiB");
  }
});

test("1 GiB generated by the Worker streams out without the process growing", async () => {
  // The sanitizer build is ~10× slower per byte, and its RSS says nothing (quarantine).
  const size = SANITIZED ? 64 * 1024 * 1024 : 1024 * 1024 * 1024;
  for (const type of ["default", "bytes"]) {
    await (await server.fetch(`/generate?n=1000&type=${type}`)).text(); // the realm exists
    const before = rssKiB(server.child.pid);
    const res = await server.fetch(`/generate?n=${size}&type=${type}`);
    const { total, peak } = await drainSamplingRss(res.body, server.child.pid);
    assert.equal(total, size);
    const grown = peak - before;
    // Dead chunks are collected every 2 MiB written (op_respond_write), plus the engine's
    // nursery growing to its working size.
    if (!SANITIZED) assert.ok(grown < 12 * 1024, `${type} stream: RSS grew by ${grown} KiB for 1 GiB`);
  }
});

test("a stream that fails after the head was sent closes the connection (truncated body)", async () => {
  const { data, closed } = await rawExchange(server.port, "GET /broken HTTP/1.1\r\nHost: x\r\n\r\n");
  assert.equal(closed, true);
  assert.match(data, /^HTTP\/1\.1 200 OK/);
  assert.ok(!data.includes("\r\n0\r\n\r\n"), "no final chunk: the client can tell the body is incomplete");
  await server.waitFor(/The response body stream failed after the response started: Error: source broke/);
});

test("a body stream nothing will ever write to is closed instead of hanging forever", async () => {
  const { closed } = await rawExchange(server.port, "GET /stall HTTP/1.1\r\nHost: x\r\n\r\n", { idle: 3000 * SLOW });
  assert.equal(closed, true);
  await server.waitFor(/the response body stream stalled/);
});
