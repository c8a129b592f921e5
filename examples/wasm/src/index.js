// C compiled to WebAssembly (src/checksum.c), imported as a WebAssembly.Module (wrangler's
// default rule for .wasm) and instantiated once per isolate with WebAssembly.instantiate.
import checksumModule from "./checksum.wasm";

let progress = 0;
let instance = null;

async function wasm() {
  instance ??= await WebAssembly.instantiate(checksumModule, {
    env: { log_progress: (done, total) => void (progress = done / total) },
  });
  return instance.exports;
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const w = await wasm();
    if (pathname === "/crc32" && request.method === "POST") {
      const body = new Uint8Array(await request.arrayBuffer());
      if (body.length > w.input_capacity()) return new Response("body too large", { status: 413 });
      new Uint8Array(w.memory.buffer, w.input_buffer(), body.length).set(body);
      const crc = w.crc32(body.length) >>> 0;
      return Response.json({ crc32: crc.toString(16).padStart(8, "0"), bytes: body.length, progressCallbacks: progress > 0 });
    }
    const fib = /^\/fib\/(\d+)$/.exec(pathname);
    if (fib) return Response.json({ n: Number(fib[1]), fib: w.fib(Number(fib[1])).toString() });
    return new Response("POST /crc32 with a body, or GET /fib/<n>\n", { status: 404 });
  },
};
