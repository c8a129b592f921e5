// Content-Encoding, as the Workers runtime does it (src/runtime/content_coding.js): fetch()
// decodes gzip and br response bodies as they are read, keeping the origin's headers; a
// Response whose Content-Encoding is gzip or br is compressed on its way out unless made with
// encodeBody: "manual"; a fetched body returned untouched goes out as the origin encoded it;
// "deflate" is neither decoded nor encoded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import zlib from "node:zlib";
import { startDev, worker, listenLoopback, closeServer } from "./lib/harness.mjs";

const SOURCE = `
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const u = url.searchParams.get("u");
    switch (url.pathname) {
      case "/read": {
        const r = await fetch(u);
        try {
          const text = await r.text();
          return Response.json({ text, ce: r.headers.get("content-encoding"), cl: r.headers.get("content-length") });
        } catch (e) {
          return Response.json({ error: e.name + ": " + e.message });
        }
      }
      case "/pass":
        return fetch(u);
      case "/upper": {
        const r = await fetch(u);
        return new Response((await r.text()).toUpperCase(), r);
      }
      case "/piped": {
        const r = await fetch(u);
        return new Response(r.body.pipeThrough(new TransformStream()), r);
      }
      case "/own":
        return new Response("own body ".repeat(50), { headers: { "content-encoding": url.searchParams.get("enc") } });
      case "/own-stream": {
        let i = 0;
        const body = new ReadableStream({
          pull(c) {
            if (i === 200) return c.close();
            c.enqueue(new TextEncoder().encode("line " + i++ + "\\n"));
          },
        });
        return new Response(body, { headers: { "content-encoding": url.searchParams.get("enc") } });
      }
      case "/manual":
        return new Response("already encoded, says the Worker", { encodeBody: "manual", headers: { "content-encoding": "gzip" } });
      case "/bad-option":
        try {
          new Response("x", { encodeBody: "sometimes" });
          return new Response("accepted");
        } catch (e) {
          return new Response(e.name + ": " + e.message);
        }
    }
    return new Response("no route", { status: 404 });
  },
};
`;

const TEXT = "decoded body ".repeat(400);
let server, origin, originUrl;
const seen = [];

function encode(enc, data) {
  if (enc === "gzip" || enc === "x-gzip") return zlib.gzipSync(data);
  if (enc === "br") return zlib.brotliCompressSync(data);
  if (enc === "deflate") return zlib.deflateSync(data);
  return Buffer.from(data);
}

before(async () => {
  origin = http.createServer((req, res) => {
    const u = new URL(req.url, "http://x");
    seen.push(req.headers["accept-encoding"] ?? null);
    const enc = u.searchParams.get("enc");
    let data = encode(enc, TEXT);
    if (u.pathname === "/corrupt") data = Buffer.concat([data.subarray(0, 10), Buffer.from("garbage garbage garbage")]);
    res.writeHead(200, { "content-type": "text/plain", "content-encoding": enc, "content-length": data.length });
    res.end(data);
  });
  originUrl = `http://127.0.0.1:${await listenLoopback(origin)}`;
  server = await startDev(worker(SOURCE), ["--threads", "1"]);
});

after(async () => {
  await server?.stop();
  closeServer(origin);
});

const via = (route, what) => `${route}?u=${encodeURIComponent(originUrl + what)}`;

// The response as sent (node's fetch() would decode it): { res: { headers }, bytes }.
function raw(path) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port: server.port, path }, (res) => {
        const chunks = [];
        res.on("data", (d) => chunks.push(d));
        res.on("end", () => resolve({ res: { headers: new Headers(res.headers) }, bytes: Buffer.concat(chunks) }));
      })
      .on("error", reject);
  });
}

test("fetch() decodes gzip and br bodies as they are read, and keeps the origin's headers", async () => {
  for (const enc of ["gzip", "x-gzip", "br"]) {
    const r = await (await server.fetch(via("/read", `/x?enc=${enc}`))).json();
    assert.equal(r.text, TEXT, enc);
    assert.equal(r.ce, enc);
    assert.equal(r.cl, String(encode(enc, TEXT).length));
  }
  // deflate is passed through undecoded, as in workerd.
  const d = await (await server.fetch(via("/read", "/x?enc=deflate"))).json();
  assert.notEqual(d.text, TEXT);
  assert.equal(d.ce, "deflate");
  // fetch() asks for no encoding itself.
  assert.equal(seen.at(-1), null);
});

test("a corrupt gzip body errors the read with a TypeError", async () => {
  const r = await (await server.fetch(via("/read", "/corrupt?enc=gzip"))).json();
  assert.match(r.error, /^TypeError: /);
});

test("returned untouched, an encoded body goes out as the origin sent it", async () => {
  for (const enc of ["gzip", "br"]) {
    const { res, bytes } = await raw(via("/pass", `/x?enc=${enc}`));
    assert.equal(res.headers.get("content-encoding"), enc);
    assert.deepEqual(bytes, encode(enc, TEXT));
    assert.equal(res.headers.get("content-length"), String(bytes.length));
  }
});

test("a body the Worker changed is encoded again as its Content-Encoding says", async () => {
  for (const enc of ["gzip", "br"]) {
    for (const route of ["/upper", "/piped"]) {
      const { res, bytes } = await raw(via(route, `/x?enc=${enc}`));
      assert.equal(res.headers.get("content-encoding"), enc);
      const plain = enc === "br" ? zlib.brotliDecompressSync(bytes) : zlib.gunzipSync(bytes);
      assert.equal(plain.toString(), route === "/upper" ? TEXT.toUpperCase() : TEXT, `${route} ${enc}`);
    }
  }
});

test("a Response with Content-Encoding gzip or br is compressed; deflate and encodeBody manual are not", async () => {
  const own = "own body ".repeat(50);
  for (const enc of ["gzip", "br"]) {
    const { res, bytes } = await raw(`/own?enc=${enc}`);
    assert.equal(res.headers.get("content-encoding"), enc);
    assert.equal(res.headers.get("content-length"), String(bytes.length));
    assert.ok(bytes.length < own.length / 4, "compressed");
    assert.equal((enc === "br" ? zlib.brotliDecompressSync(bytes) : zlib.gunzipSync(bytes)).toString(), own);
    const streamed = await raw(`/own-stream?enc=${enc}`);
    assert.equal(streamed.res.headers.get("transfer-encoding"), "chunked");
    const lines = (enc === "br" ? zlib.brotliDecompressSync(streamed.bytes) : zlib.gunzipSync(streamed.bytes)).toString();
    assert.equal(lines.split("\n").length, 201);
    assert.ok(lines.startsWith("line 0\nline 1\n"));
  }
  const deflate = await raw("/own?enc=deflate");
  assert.equal(deflate.bytes.toString(), own);
  const manual = await raw("/manual");
  assert.equal(manual.res.headers.get("content-encoding"), "gzip");
  assert.equal(manual.bytes.toString(), "already encoded, says the Worker");
  // A client that asked for gzip can read it the usual way.
  const res = await server.fetch("/own?enc=gzip");
  assert.equal(await res.text(), own);
});

test("encodeBody takes only automatic or manual", async () => {
  assert.equal(await (await server.fetch("/bad-option")).text(), "TypeError: encodeBody: unexpected value: sometimes");
});
