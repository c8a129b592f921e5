// examples/wasm: C compiled to WebAssembly by Debian's clang (the Makefile builds the .wasm),
// imported as a module, instantiated with WebAssembly.instantiate, called both ways (JS → C
// for the checksum, C → JS for the progress callback).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { ROOT, startDev } from "./lib/harness.mjs";

const EXAMPLE = path.join(ROOT, "examples/wasm");

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0");
}

test("the WebAssembly example computes in C what JavaScript computes", async () => {
  assert.ok(existsSync(path.join(EXAMPLE, "src/checksum.wasm")), "make builds examples/wasm/src/checksum.wasm");
  const s = await startDev(EXAMPLE);
  try {
    const small = await (await s.fetch("/crc32", { method: "POST", body: "hello world" })).json();
    assert.deepEqual(small, { crc32: "0d4a1185", bytes: 11, progressCallbacks: false });
    const data = randomBytes(300000);
    const big = await (await s.fetch("/crc32", { method: "POST", body: data })).json();
    assert.equal(big.crc32, crc32(data));
    assert.equal(big.bytes, data.length);
    assert.equal(big.progressCallbacks, true, "C called back into JavaScript");
    // i64 results arrive as BigInt.
    let [a, b] = [0n, 1n];
    for (let i = 0; i < 90; i++) [a, b] = [b, a + b];
    assert.deepEqual(await (await s.fetch("/fib/90")).json(), { n: 90, fib: a.toString() });
    assert.equal((await s.fetch("/")).status, 404);
  } finally {
    await s.stop();
  }
});
