// CompressionStream and DecompressionStream ("gzip", "deflate", "deflate-raw"), checked
// against Node's zlib in both directions: what the Worker compresses Node decompresses, and
// what Node compresses the Worker decompresses. Plus a compressed streaming response, the
// errors the Compression Streams spec asks for, and (under ASan) no leaked zlib state.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import zlib from "node:zlib";
import { startDev, worker, SLOW } from "./lib/harness.mjs";

const SOURCE = `
// Writes bytes into ts in chunks of n while reading its output; resolves to the output.
async function through(ts, bytes, n) {
  const writer = ts.writable.getWriter();
  const writing = (async () => {
    for (let i = 0; i < bytes.length; i += n) await writer.write(bytes.subarray(i, i + n));
    await writer.close();
  })();
  writing.catch(() => {});
  const reader = ts.readable.getReader();
  const parts = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    if (!(value instanceof Uint8Array)) throw new Error("output chunk is not a Uint8Array");
    parts.push(value);
    total += value.byteLength;
  }
  await writing;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const fail = (e) => new Response(e.name + ": " + e.message, { status: 400 });

function compressible(size) {
  const text = new TextEncoder().encode("hearth compresses this line again and again. ");
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = text[i % text.length];
  return out;
}

let keep;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const format = url.searchParams.get("format");
    const chunk = Number(url.searchParams.get("chunk") || 65536);
    const path = url.pathname;
    try {
      if (path === "/compress") {
        const input = new Uint8Array(await request.arrayBuffer());
        return new Response(await through(new CompressionStream(format), input, chunk));
      }
      if (path === "/decompress") {
        const input = new Uint8Array(await request.arrayBuffer());
        return new Response(await through(new DecompressionStream(format), input, chunk));
      }
      if (path === "/roundtrip") {
        const input = new Uint8Array(await request.arrayBuffer());
        const packed = await through(new CompressionStream(format), input, chunk);
        return new Response(await through(new DecompressionStream(format), packed, chunk));
      }
      if (path === "/stream") {
        // A body produced over time, compressed on the way out.
        const enc = new TextEncoder();
        let i = 0;
        const body = new ReadableStream({
          async pull(controller) {
            if (i === 200) return controller.close();
            await new Promise((r) => setTimeout(r, i % 50 === 0 ? 1 : 0));
            controller.enqueue(enc.encode("line " + i++ + " of a streamed, compressed body\\n"));
          },
        });
        // Compressed by the Worker itself, so encodeBody "manual" (else the platform would
        // compress it again, as Content-Encoding gzip asks).
        return new Response(body.pipeThrough(new CompressionStream(format)), {
          encodeBody: "manual",
          headers: { "content-encoding": format, "content-type": "text/plain" },
        });
      }
      if (path === "/compressible") {
        // Many tiny chunks of very compressible data; reports sizes and a checksum.
        const input = compressible(Number(url.searchParams.get("size")));
        const packed = await through(new CompressionStream(format), input, chunk);
        const back = await through(new DecompressionStream(format), packed, chunk);
        let same = back.length === input.length;
        for (let i = 0; same && i < input.length; i++) same = back[i] === input[i];
        return Response.json({ packed: packed.length, back: back.length, same });
      }
      if (path === "/shape") {
        const cs = new CompressionStream("gzip");
        const ds = new DecompressionStream("deflate-raw");
        return Response.json({
          cs: Object.prototype.toString.call(cs),
          ds: Object.prototype.toString.call(ds),
          isTransform: cs instanceof TransformStream && ds instanceof TransformStream,
          readable: cs.readable instanceof ReadableStream,
          writable: ds.writable instanceof WritableStream,
          enumerable: Object.keys(globalThis).includes("CompressionStream"),
          own: Object.getOwnPropertyNames(globalThis).includes("DecompressionStream"),
        });
      }
      if (path === "/bad-format") {
        const out = {};
        for (const [name, make] of Object.entries({
          cs: () => new CompressionStream("brotli"),
          ds: () => new DecompressionStream("GZIP"),
          none: () => new CompressionStream(),
          symbol: () => new DecompressionStream(Symbol("gzip")),
          call: () => CompressionStream("gzip"),
        })) {
          try {
            make();
            out[name] = "no error";
          } catch (e) {
            out[name] = e.constructor.name + ": " + e.message;
          }
        }
        return Response.json(out);
      }
      if (path === "/bad-chunk") {
        const out = {};
        for (const [name, value] of Object.entries({ string: "abc", number: 1, object: {}, array: [1, 2] })) {
          const ts = new DecompressionStream(format || "gzip");
          const writer = ts.writable.getWriter();
          const reader = ts.readable.getReader();
          // The read first: the write waits for a reader (backpressure).
          const reading = reader.read().then(() => "read", (e) => e.constructor.name);
          const w = await writer.write(value).then(() => "written", (e) => e.constructor.name);
          const r = await reading;
          out[name] = w + "/" + r;
        }
        // Every BufferSource kind is accepted.
        const views = [new Uint8Array([1, 2]), new Uint16Array([1]), new DataView(new ArrayBuffer(3)), new ArrayBuffer(4), new Float64Array(2)];
        const ts = new CompressionStream("deflate");
        const writer = ts.writable.getWriter();
        const reading = through({ writable: new WritableStream(), readable: ts.readable }, new Uint8Array(0), 1);
        for (const v of views) await writer.write(v);
        await writer.close();
        const packed = await reading;
        out.views = Array.from(await through(new DecompressionStream("deflate"), packed, 3)).join(",");
        return Response.json(out);
      }
      if (path === "/abandon") {
        // Left half-written (and one never read): freed when the request is over.
        const cs = new CompressionStream(format);
        cs.writable.getWriter().write(new Uint8Array(100000).fill(7)).catch(() => {});
        const ds = new DecompressionStream(format);
        const w = ds.writable.getWriter();
        w.write(new Uint8Array([0x1f, 0x8b, 8, 0])).catch(() => {});
        return new Response("left");
      }
      if (path === "/cancel") {
        const cs = new CompressionStream(format);
        const writer = cs.writable.getWriter();
        const reader = cs.readable.getReader();
        for (let i = 0; i < 4; i++) writer.write(crypto.getRandomValues(new Uint8Array(65536))).catch(() => {});
        const first = await reader.read();
        await reader.cancel("enough");
        const ds = new DecompressionStream(format);
        const w2 = ds.writable.getWriter();
        await w2.abort(new Error("stop")).catch(() => {});
        return Response.json({ got: first.value.length > 0, closed: await writer.closed.then(() => "closed", (e) => "errored") });
      }
      if (path === "/bomb") {
        // One small chunk that inflates to a lot: the output comes in bounded pieces.
        const input = new Uint8Array(await request.arrayBuffer());
        const ds = new DecompressionStream(format);
        const writer = ds.writable.getWriter();
        const writing = writer.write(input).then(() => writer.close());
        let total = 0, chunks = 0, max = 0, nonzero = 0;
        const reader = ds.readable.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          chunks++;
          total += value.byteLength;
          max = Math.max(max, value.byteLength);
          if (value.some((b) => b !== 0)) nonzero++;
        }
        await writing;
        return Response.json({ total, chunks, max, nonzero });
      }
      if (path === "/global-keep") {
        // A stream kept in module state across requests works until closed.
        if (!keep) keep = { ts: new CompressionStream("gzip") };
        return new Response("ok");
      }
      return new Response("not found", { status: 404 });
    } catch (e) {
      return fail(e);
    }
  },
};
`;

let server;
before(async () => {
  server = await startDev(worker(SOURCE), ["--threads", "2"]);
});
after(async () => {
  await server.stop();
});

const FORMATS = ["gzip", "deflate", "deflate-raw"];
const nodeCompress = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, "deflate-raw": zlib.deflateRawSync };
const nodeDecompress = { gzip: zlib.gunzipSync, deflate: zlib.inflateSync, "deflate-raw": zlib.inflateRawSync };

async function post(path, body) {
  const res = await server.fetch(path, { method: "POST", body });
  const bytes = Buffer.from(await res.arrayBuffer());
  return { status: res.status, bytes, text: bytes.toString() };
}

const INPUTS = {
  empty: () => Buffer.alloc(0),
  small: () => Buffer.from("Hello, compression! ".repeat(3)),
  random5mb: () => randomBytes(5 * 1024 * 1024),
  compressible: () => Buffer.from("abcabcabd0123456789".repeat(60000)),
};
const CHUNK = { empty: 1, small: 3, random5mb: 65536, compressible: 977 };

for (const format of FORMATS) {
  test(`${format}: Worker-compressed output decompresses in Node`, { timeout: 120000 * SLOW }, async () => {
    for (const [name, make] of Object.entries(INPUTS)) {
      const input = make();
      const r = await post(`/compress?format=${format}&chunk=${CHUNK[name]}`, input);
      assert.equal(r.status, 200, `${name}: ${r.text}`);
      assert.ok(nodeDecompress[format](r.bytes).equals(input), `${name} round-trips through node`);
      if (name === "compressible") assert.ok(r.bytes.length < input.length / 50, "compressible data shrinks");
    }
  });

  test(`${format}: Node-compressed input decompresses in the Worker`, { timeout: 120000 * SLOW }, async () => {
    for (const [name, make] of Object.entries(INPUTS)) {
      const input = make();
      const packed = nodeCompress[format](input, { level: name === "compressible" ? 9 : 6 });
      const r = await post(`/decompress?format=${format}&chunk=${name === "compressible" ? 5 : CHUNK[name]}`, packed);
      assert.equal(r.status, 200, `${name}: ${r.text}`);
      assert.ok(r.bytes.equals(input), `${name} decompressed like node`);
    }
  });

  test(`${format}: round trip inside the Worker`, { timeout: 120000 * SLOW }, async () => {
    for (const [name, make] of Object.entries(INPUTS)) {
      const input = make();
      const r = await post(`/roundtrip?format=${format}&chunk=${CHUNK[name]}`, input);
      assert.equal(r.status, 200, `${name}: ${r.text}`);
      assert.ok(r.bytes.equals(input), `${name} round-trips`);
    }
    const res = await server.fetch(`/compressible?format=${format}&size=${4 * 1024 * 1024}&chunk=113`);
    const j = await res.json();
    assert.equal(j.same, true);
    assert.equal(j.back, 4 * 1024 * 1024);
    assert.ok(j.packed < 64 * 1024, `packed ${j.packed}`);
  });

  test(`${format}: corrupt, truncated and trailing input are TypeErrors`, async () => {
    const input = Buffer.from("some data to compress, some data to compress".repeat(100));
    const packed = nodeCompress[format](input);
    // Corrupt: garbage, or a damaged body (headers intact for gzip/deflate).
    const garbage = Buffer.from("this is not compressed data at all!!");
    let r = await post(`/decompress?format=${format}&chunk=7`, garbage);
    assert.equal(r.status, 400);
    assert.equal(r.text, "TypeError: Decompression failed."); // workerd's message
    const damaged = Buffer.from(packed);
    for (let i = 10; i < damaged.length - 8; i += 3) damaged[i] ^= 0xa5;
    r = await post(`/decompress?format=${format}&chunk=16`, damaged);
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /^TypeError: /);
    // Truncated: an error at close.
    for (const cut of [1, Math.floor(packed.length / 2), packed.length - 1]) {
      r = await post(`/decompress?format=${format}&chunk=5`, packed.subarray(0, cut));
      assert.equal(r.status, 400, `cut at ${cut}: ${r.text}`);
      assert.equal(r.text, "TypeError: Called close() on a decompression stream with incomplete data");
    }
    // Empty input is not a compressed stream.
    r = await post(`/decompress?format=${format}&chunk=5`, Buffer.alloc(0));
    assert.match(r.text, /^TypeError: /);
    // Trailing data after the end, in the same chunk or a later one.
    for (const chunk of [1 << 20, packed.length]) {
      r = await post(`/decompress?format=${format}&chunk=${chunk}`, Buffer.concat([packed, Buffer.from("xyz")]));
      assert.equal(r.status, 400, r.text);
      assert.equal(r.text, "TypeError: Trailing bytes after end of compressed data");
    }
    // Two concatenated streams are trailing data too.
    r = await post(`/decompress?format=${format}&chunk=9`, Buffer.concat([packed, packed]));
    assert.equal(r.text, "TypeError: Trailing bytes after end of compressed data");
  });

  test(`${format}: a compressed streaming response, decoded by the client`, async () => {
    const res = await server.fetch(`/stream?format=${format === "deflate-raw" ? "gzip" : format}`);
    assert.equal(res.status, 200);
    const text = await res.text(); // fetch decodes content-encoding itself
    const expected = Array.from({ length: 200 }, (_, i) => `line ${i} of a streamed, compressed body\n`).join("");
    assert.equal(text, expected);
  });
}

test("gzip streaming response bytes are a valid gzip stream", async () => {
  const http = await import("node:http");
  const raw = await new Promise((resolve, reject) => {
    http.get(`${server.url}/stream?format=gzip`, (res) => {
      const parts = [];
      res.on("data", (d) => parts.push(d));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(parts) }));
      res.on("error", reject);
    }).on("error", reject);
  });
  assert.equal(raw.headers["content-encoding"], "gzip");
  assert.equal(raw.body[0], 0x1f);
  assert.equal(raw.body[1], 0x8b);
  assert.match(zlib.gunzipSync(raw.body).toString(), /^line 0 of a streamed[\s\S]*line 199 of a streamed, compressed body\n$/);
});

test("a small chunk that inflates to 64 MiB comes out in bounded pieces", { timeout: 120000 * SLOW }, async () => {
  const size = 64 * 1024 * 1024;
  for (const format of FORMATS) {
    const packed = nodeCompress[format](Buffer.alloc(size), { level: 9 });
    const j = await (await server.fetch(`/bomb?format=${format}`, { method: "POST", body: packed })).json();
    assert.equal(j.total, size, format);
    assert.equal(j.nonzero, 0);
    assert.ok(j.max <= 1024 * 1024 + 65536, `largest piece ${j.max}`);
    assert.ok(j.chunks >= 64, `${j.chunks} pieces`);
  }
});

test("classes: TransformStream subclasses, lazy globals, toStringTag", async () => {
  const j = await (await server.fetch("/shape")).json();
  assert.deepEqual(j, {
    cs: "[object CompressionStream]",
    ds: "[object DecompressionStream]",
    isTransform: true,
    readable: true,
    writable: true,
    enumerable: false,
    own: true,
  });
});

test("a bad format, a missing argument or a call without new is a TypeError", async () => {
  const j = await (await server.fetch("/bad-format")).json();
  for (const [k, v] of Object.entries(j)) assert.match(v, /^TypeError: /, k);
  assert.match(j.cs, /'brotli' is not a valid enum value/);
});

test("a chunk that is not a BufferSource is a TypeError on both sides", async () => {
  const j = await (await server.fetch("/bad-chunk")).json();
  for (const k of ["string", "number", "object", "array"]) assert.equal(j[k], "TypeError/TypeError", k);
  assert.equal(j.views, [1, 2, 1, 0, ...new Array(3 + 4 + 16).fill(0)].join(","));
});

test("abandoned, cancelled and aborted streams free their state", async () => {
  for (let i = 0; i < 20; i++) {
    for (const format of FORMATS) {
      assert.equal(await (await server.fetch(`/abandon?format=${format}`)).text(), "left");
      const j = await (await server.fetch(`/cancel?format=${format}`)).json();
      assert.equal(j.got, true);
      assert.equal(j.closed, "errored");
    }
  }
  assert.equal(await (await server.fetch("/global-keep")).text(), "ok");
  // Still working afterwards; under ASan, stop() fails the test on any leak report.
  const r = await post(`/roundtrip?format=gzip&chunk=10`, Buffer.from("still fine"));
  assert.equal(r.text, "still fine");
});

test("a stream abandoned by its request is freed once the request is over", async () => {
  // One thread, so both requests see the same module state.
  const s = await startDev(
    worker(`
let kept;
export default {
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/start") {
      const cs = new CompressionStream("gzip");
      kept = { writer: cs.writable.getWriter(), reader: cs.readable.getReader() };
      const reading = kept.reader.read();
      await kept.writer.write(new Uint8Array(1000));
      await reading;
      return new Response("started");
    }
    // Creating a stream sweeps those of requests that ended.
    // (The zlib state is made at the first chunk, once a read lets the transform run.)
    const other = new CompressionStream("deflate");
    const otherRead = other.readable.getReader().read();
    await other.writable.getWriter().write(new Uint8Array(5));
    await otherRead;
    const reading = kept.reader.read().then(() => "read", (e) => e.name + ": " + e.message);
    const written = await kept.writer.write(new Uint8Array(10)).then(() => "written", (e) => e.name + ": " + e.message);
    return new Response(written + " | " + (await reading));
  },
};
`),
    ["--threads", "1"],
  );
  try {
    assert.equal(await (await s.fetch("/start")).text(), "started");
    const text = await (await s.fetch("/use")).text();
    assert.match(text, /^TypeError: The compression stream is closed \(or belonged to a request that ended\) \| TypeError/);
  } finally {
    await s.stop();
  }
});
