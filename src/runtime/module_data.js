// Default exports of non-JavaScript modules (wrangler's module rules): the generated wrapper
// module of each imports moduleData(index) from here.
import ops from "./ops.js";

const textDecoder = (bytes) => bytes; // replaced below once TextDecoder exists

export function moduleData(index) {
  const [kind, payload] = ops.moduleData(index);
  switch (kind) {
    case "text":
      return payload;
    case "json":
      return JSON.parse(payload);
    case "data":
      return payload;
    case "wasm":
      return new WebAssembly.Module(payload);
    default:
      throw new Error(`unknown module kind ${kind}`);
  }
}
void textDecoder;
