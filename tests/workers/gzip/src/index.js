// Compression: CompressionStream / DecompressionStream round trips of a generated body, posted
// compressed bodies (gzip, deflate, deflate-raw; whole or trickled a byte at a time), corrupt,
// truncated and trailing input, and Content-Encoding on fetched and returned bodies.
//
// Compressed bytes are not compared between runtimes: zlib builds may choose different (equally
// valid) encodings for the same level, so the Worker reports the format's fixed header bytes,
// whether the output is smaller, and the decompressed result instead.
const enc = new TextEncoder();
const dec = new TextDecoder();

function generate(lines) {
  let out = "";
  for (let i = 0; i < lines; i++) out += `line ${i}: ${"abcdefghij".repeat(1 + (i % 7))} ${(i * 7919) % 1000}\n`;
  return out;
}

async function collect(stream) {
  const chunks = [];
  let length = 0;
  for await (const c of stream) {
    chunks.push(c);
    length += c.byteLength;
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

// A stream of `bytes` in pieces of `size` bytes.
function pieces(bytes, size) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

async function sha256(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const FORMATS = ["gzip", "deflate", "deflate-raw"];

function formatOf(url) {
  const f = url.searchParams.get("format") ?? "gzip";
  if (!FORMATS.includes(f)) throw new RangeError(`format must be one of ${FORMATS.join(", ")}`);
  return f;
}

async function inflate(bytes, format, size) {
  try {
    const out = await collect(pieces(bytes, size).pipeThrough(new DecompressionStream(format)));
    return { ok: true, bytes: out };
  } catch (e) {
    return { ok: false, error: e.name, message: e.message, isTypeError: e instanceof TypeError };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const format = formatOf(url);

    if (url.pathname === "/roundtrip") {
      const text = generate(Number(url.searchParams.get("lines") ?? "50"));
      const input = enc.encode(text);
      const compressed = await collect(pieces(input, 1000).pipeThrough(new CompressionStream(format)));
      const back = await collect(pieces(compressed, 7).pipeThrough(new DecompressionStream(format)));
      return Response.json({
        format,
        inputBytes: input.length,
        smaller: compressed.length < input.length,
        // gzip: ID1 ID2 CM=8 (deflate); zlib: CMF 0x78 and a header checksum.
        header: format === "gzip" ? [...compressed.slice(0, 3)] : format === "deflate" ? [compressed[0], ((compressed[0] << 8) | compressed[1]) % 31] : null,
        equal: dec.decode(back) === text,
        outputBytes: back.length,
        sha256: await sha256(back),
      });
    }

    if (url.pathname === "/inflate" && request.method === "POST") {
      const body = new Uint8Array(await request.arrayBuffer());
      const result = await inflate(body, format, Number(url.searchParams.get("piece") ?? "65536"));
      if (!result.ok) {
        const error = { error: result.error, isTypeError: result.isTypeError };
        if (url.searchParams.has("message")) error.message = result.message;
        return Response.json(error, { status: 400 });
      }
      return new Response(result.bytes, { headers: { "content-type": "text/plain; charset=utf-8", "x-inflated-bytes": String(result.bytes.length) } });
    }

    // Streams the request body through DecompressionStream straight into the response.
    if (url.pathname === "/inflate-stream" && request.method === "POST") {
      return new Response(request.body.pipeThrough(new DecompressionStream(format)), { headers: { "content-type": "application/octet-stream" } });
    }

    // Compressing twice and decompressing twice gives the input back.
    if (url.pathname === "/double") {
      const input = enc.encode(generate(20));
      const once = new Response(input).body.pipeThrough(new CompressionStream("gzip"));
      const twice = once.pipeThrough(new CompressionStream(format));
      const back = await collect(twice.pipeThrough(new DecompressionStream(format)).pipeThrough(new DecompressionStream("gzip")));
      return Response.json({ equal: dec.decode(back) === dec.decode(input), bytes: back.length });
    }

    // A compressed body this Worker made itself, sent as such (the client sees gzip bytes).
    if (url.pathname === "/manual") {
      const body = new Response(generate(40)).body.pipeThrough(new CompressionStream("gzip"));
      return new Response(body, { encodeBody: "manual", headers: { "content-type": "text/plain; charset=utf-8", "content-encoding": "gzip" } });
    }

    // A plain body with Content-Encoding: gzip (encodeBody "automatic", the default): the
    // runtime compresses it on the way out.
    if (url.pathname === "/auto") {
      return new Response(generate(30), { headers: { "content-type": "text/plain; charset=utf-8", "content-encoding": "gzip" } });
    }

    // What arrives of a request sent with Content-Encoding: gzip.
    if (url.pathname === "/request-body" && request.method === "POST") {
      const body = new Uint8Array(await request.arrayBuffer());
      const inflated = await inflate(body, "gzip", 65536);
      return Response.json({ encoding: request.headers.get("content-encoding"), bytes: body.length, first: [...body.slice(0, 2)], inflates: inflated.ok ? dec.decode(inflated.bytes) : inflated.error });
    }

    // What the objects look like.
    if (url.pathname === "/shape") {
      const c = new CompressionStream("deflate");
      const d = new DecompressionStream("gzip");
      const out = {
        compression: [c instanceof TransformStream, c.readable instanceof ReadableStream, c.writable instanceof WritableStream, c.constructor.name],
        decompression: [d instanceof TransformStream, d.readable instanceof ReadableStream, d.writable instanceof WritableStream, d.constructor.name],
      };
      for (const bad of ["brotli", "GZIP", ""]) {
        try {
          new CompressionStream(bad);
          out[bad] = "accepted";
        } catch (e) {
          out[bad] = e.name;
        }
      }
      return Response.json(out);
    }

    // A gzip body fetched from an origin that sends Content-Encoding: gzip: fetch() decodes it.
    if (url.pathname === "/fetch-gzip") {
      const r = await fetch(`http://127.0.0.1:${url.searchParams.get("port")}/gzip`);
      const text = await r.text();
      return Response.json({ status: r.status, encoding: r.headers.get("content-encoding"), length: text.length, text });
    }

    return new Response("not found\n", { status: 404 });
  },
};
