// WebAssembly: a hand-assembled .wasm module (corpus.wasm, 186 bytes) imported as a
// CompiledWasm module; synchronous Instance, the async WebAssembly.instantiate, imports called
// from Wasm, memory shared with JavaScript, i64 as BigInt, traps and module reflection.
// corpus.wasm imports env.log(i32) and exports add(i32, i32) -> i32, sum(ptr, len) -> i32 (the
// sum of its memory's bytes), fact(i64) -> i64 (recursive), twice(x) -> i32 (calls env.log(2x),
// returns 2x) and its memory `mem` (1 page).
// (Compiling Wasm from bytes at run time — new WebAssembly.Module(bytes) — works on hearth but
// workerd, like Cloudflare, forbids it: "Wasm code generation disallowed by embedder".)
import module from "./corpus.wasm";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const calls = [];
    const instance = new WebAssembly.Instance(module, { env: { log: (x) => calls.push(x) } });
    const { add, sum, fact, twice, mem } = instance.exports;
    switch (url.pathname) {
      case "/add":
        return Response.json({ sum: add(Number(url.searchParams.get("a")), Number(url.searchParams.get("b"))), wrap: add(0x7fffffff, 1) });
      case "/fact": {
        const n = BigInt(url.searchParams.get("n") ?? "10");
        return Response.json({ n: String(n), fact: String(fact(n)), type: typeof fact(1n) });
      }
      case "/sum": {
        // Copy the request body into linear memory and let Wasm add its bytes up.
        const once = new Uint8Array(await request.arrayBuffer());
        const repeat = Number(url.searchParams.get("repeat") ?? "1");
        const body = new Uint8Array(once.length * repeat);
        for (let i = 0; i < repeat; i++) body.set(once, i * once.length);
        if (body.length > mem.buffer.byteLength - 1024) mem.grow(Math.ceil(body.length / 65536));
        new Uint8Array(mem.buffer).set(body, 1024);
        let expected = 0;
        for (const b of body) expected += b;
        return Response.json({ length: body.length, wasm: sum(1024, body.length), js: expected, pages: mem.buffer.byteLength / 65536 });
      }
      case "/callback":
        return Response.json({ results: [1, 2, 3].map((x) => twice(x)), calls });
      case "/async": {
        const inst = await WebAssembly.instantiate(module, { env: { log() {} } });
        return Response.json({
          add: inst.exports.add(40, 2),
          isInstance: inst instanceof WebAssembly.Instance,
          isModule: module instanceof WebAssembly.Module,
          exports: WebAssembly.Module.exports(module),
          imports: WebAssembly.Module.imports(module),
        });
      }
      case "/errors": {
        const out = {};
        try {
          new WebAssembly.Instance(module, {});
        } catch (e) {
          out.link = e.constructor.name;
        }
        try {
          sum(mem.buffer.byteLength - 1, 10);
        } catch (e) {
          out.trap = e instanceof WebAssembly.RuntimeError;
        }
        try {
          fact(5);
        } catch (e) {
          out.i64FromNumber = e.name;
        }
        return Response.json(out);
      }
      default:
        return new Response("not found\n", { status: 404 });
    }
  },
};
