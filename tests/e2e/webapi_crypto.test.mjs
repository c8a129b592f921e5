// crypto.subtle end to end, with Node's own WebCrypto as the reference. The same little
// interpreter (runBatch) runs a list of subtle calls in the Worker and in Node: byte strings
// travel as hex, results may be referred to by later calls, keys are described by their
// public attributes. Deterministic operations (HMAC, AES, PBKDF2, HKDF, Ed25519 and
// PKCS #1 v1.5 signatures, ECDH/X25519, key export) must give the same bytes on both sides;
// randomised ones (ECDSA, RSA-PSS, RSA-OAEP, generated keys) are checked across: made on one
// side, verified or decrypted on the other.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { webcrypto } from "node:crypto";
import { startDev, worker } from "./lib/harness.mjs";

const { subtle } = webcrypto;

// Runs in both places; keep it self-contained (it is stringified into the Worker).
async function runBatch(subtle, calls) {
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const unhex = (s) => new Uint8Array((s.match(/../g) || []).map((h) => parseInt(h, 16)));
  const isKey = (v) => Object.prototype.toString.call(v) === "[object CryptoKey]";
  const results = [];
  const decode = (v) => {
    if (Array.isArray(v)) return v.map(decode);
    if (v && typeof v === "object") {
      if ("$b" in v) return unhex(v.$b);
      if ("$s" in v) return new TextEncoder().encode(v.$s);
      if ("$r" in v) {
        let r = results[v.$r];
        if (v.$p) r = r[v.$p];
        return r;
      }
      const o = {};
      for (const k of Object.keys(v)) o[k] = decode(v[k]);
      return o;
    }
    return v;
  };
  const encode = (v) => {
    if (v instanceof ArrayBuffer) return { $b: hex(v) };
    if (ArrayBuffer.isView(v)) return { $b: hex(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    if (isKey(v)) return { $key: { type: v.type, extractable: v.extractable, algorithm: encode(v.algorithm), usages: [...v.usages].sort() } };
    if (Array.isArray(v)) return v.map(encode);
    if (v && typeof v === "object") {
      const o = {};
      for (const k of Object.keys(v).sort()) o[k] = k === "key_ops" ? [...v[k]].sort() : encode(v[k]);
      return o;
    }
    return v;
  };
  const out = [];
  for (const { m, a } of calls) {
    try {
      const r = await subtle[m](...decode(a));
      results.push(r);
      out.push({ ok: encode(r) });
    } catch (e) {
      results.push(undefined);
      out.push({ err: e && e.name, msg: String(e && e.message) });
    }
  }
  return out;
}

const SOURCE = `
const runBatch = ${runBatch.toString()};
export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    if (pathname === "/batch") {
      const calls = await request.json();
      return Response.json(await runBatch(crypto.subtle, calls));
    }
    if (pathname === "/shape") {
      const out = {};
      try { new CryptoKey(); out.ctor = "no throw"; } catch (e) { out.ctor = e.name; }
      out.hasCryptoKey = typeof CryptoKey;
      const k = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
      out.tag = Object.prototype.toString.call(k);
      out.sameAlg = k.algorithm === k.algorithm;
      out.sameUsages = k.usages === k.usages;
      out.methods = ["importKey","exportKey","generateKey","sign","verify","encrypt","decrypt","deriveBits","deriveKey","wrapKey","unwrapKey","digest"].filter((m) => typeof crypto.subtle[m] === "function");
      try { crypto.subtle.importKey("raw", new Uint8Array(16), "AES-GCM", true, ["encrypt"]).catch(() => {}); out.syncThrow = false; } catch { out.syncThrow = true; }
      return Response.json(out);
    }
    if (pathname === "/digeststream") {
      const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
      const out = {};
      const ds = new crypto.DigestStream("SHA-256");
      out.isWritable = ds instanceof WritableStream;
      out.tag = Object.prototype.toString.call(ds);
      const w = ds.getWriter();
      await w.write(new TextEncoder().encode("hello "));
      await w.write("wörld");
      await w.write(new Uint8Array([1, 2, 3]).subarray(1));
      await w.close();
      out.sha256 = hex(await ds.digest);
      // Through pipeTo from a response body, with an object algorithm.
      const ds2 = new crypto.DigestStream({ name: "sha-512" });
      await new Response("x".repeat(100000)).body.pipeTo(ds2);
      out.sha512 = hex(await ds2.digest);
      const empty = new crypto.DigestStream("MD5");
      await empty.getWriter().close();
      out.md5 = hex(await empty.digest);
      try { new crypto.DigestStream("SHA-3"); } catch (e) { out.bad = e.name; }
      const ab = new crypto.DigestStream("SHA-1");
      const aw = ab.getWriter();
      await aw.abort(new Error("stop"));
      out.aborted = await ab.digest.then(() => "resolved", (e) => e.message);
      const bad = new crypto.DigestStream("SHA-1");
      out.badChunk = await bad.getWriter().write(42).then(() => "ok", (e) => e.name);
      out.badDigest = await bad.digest.then(() => "resolved", (e) => e.name);
      return Response.json(out);
    }
    return new Response("not found", { status: 404 });
  },
};
`;

let server;
before(async () => {
  server = await startDev(worker(SOURCE), ["--threads", "1"]);
});
after(async () => {
  await server?.stop();
});

async function inWorker(calls) {
  const res = await server.fetch("/batch", { method: "POST", body: JSON.stringify(calls) });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}
const inNode = (calls) => runBatch(subtle, calls);

const hex = (buf) => Buffer.from(buf instanceof ArrayBuffer ? new Uint8Array(buf) : buf).toString("hex");
const B = (buf) => ({ $b: hex(buf) });
const R = (i, p) => (p ? { $r: i, $p: p } : { $r: i });
const rand = (n) => webcrypto.getRandomValues(new Uint8Array(n));

// Node 20 names a few DOMExceptions differently from the spec (and from workerd).
const NODE_NAMES = { InvalidAccessException: "InvalidAccessError" };

// Runs the batch on both sides and expects identical results, except for calls marked
// `differs` (results that may legitimately differ, e.g. JSON member order inside a wrapped
// JWK) and `spec` (where Node departs from the spec: the Worker must give that error).
async function same(calls, what) {
  const [w, n] = await Promise.all([inWorker(calls), inNode(calls)]);
  for (let i = 0; i < calls.length; i++) {
    if (calls[i].spec) {
      assert.equal(w[i].err, calls[i].spec, `${what}: call ${i} (${calls[i].m}): ${JSON.stringify(w[i])}`);
      continue;
    }
    if (calls[i].differs) continue;
    const ok = (r) => (r.err ? { err: NODE_NAMES[r.err] ?? r.err } : r);
    assert.deepEqual(ok(w[i]), ok(n[i]), `${what}: call ${i} (${calls[i].m}) differs: worker ${JSON.stringify(w[i])} node ${JSON.stringify(n[i])}`);
  }
  return w;
}

function expectOk(results, what) {
  results.forEach((r, i) => assert.ok(!r.err, `${what}: call ${i} failed: ${r.err}: ${r.msg}`));
}

test("CryptoKey and SubtleCrypto shape", async () => {
  const res = await server.fetch("/shape");
  const out = await res.json();
  assert.equal(out.tag, "[object CryptoKey]");
  assert.equal(out.sameAlg, true);
  assert.equal(out.sameUsages, true);
  assert.equal(out.methods.length, 12);
  assert.equal(out.syncThrow, false);
  // CryptoKey is not constructible (it is a global once src/runtime/globals.js lists it).
  assert.ok(out.ctor === "TypeError" || (out.hasCryptoKey === "undefined" && out.ctor === "ReferenceError"), JSON.stringify(out));
});

test("crypto.DigestStream hashes what is written and matches Node", async () => {
  const { createHash } = await import("node:crypto");
  const res = await server.fetch("/digeststream");
  const out = await res.json();
  assert.equal(out.isWritable, true);
  assert.equal(out.tag, "[object DigestStream]");
  const h = createHash("sha256");
  h.update(Buffer.from("hello "));
  h.update(Buffer.from("wörld"));
  h.update(Buffer.from([2, 3]));
  assert.equal(out.sha256, h.digest("hex"));
  assert.equal(out.sha512, createHash("sha512").update("x".repeat(100000)).digest("hex"));
  assert.equal(out.md5, createHash("md5").digest("hex"));
  assert.equal(out.bad, "NotSupportedError");
  assert.equal(out.aborted, "stop");
  assert.equal(out.badChunk, "TypeError");
  assert.equal(out.badDigest, "TypeError");
});

test("HMAC: sign, verify, import and export match Node for every hash", async () => {
  for (const hash of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
    for (const keyLen of [1, 20, 64, 100, 200]) {
      const key = rand(keyLen);
      const data = rand(77);
      const calls = [
        { m: "importKey", a: ["raw", B(key), { name: "HMAC", hash }, true, ["sign", "verify"]] },
        { m: "sign", a: ["HMAC", R(0), B(data)] },
        { m: "verify", a: ["HMAC", R(0), R(1), B(data)] },
        { m: "verify", a: ["HMAC", R(0), B(rand(20)), B(data)] },
        { m: "exportKey", a: ["jwk", R(0)] },
        { m: "exportKey", a: ["raw", R(0)] },
        { m: "importKey", a: ["jwk", R(4), { name: "HMAC", hash }, false, ["verify"]] },
        { m: "verify", a: [{ name: "HMAC" }, R(6), R(1), B(data)] },
        { m: "sign", a: ["HMAC", R(6), B(data)] }, // no sign usage
        { m: "exportKey", a: ["raw", R(6)] }, // not extractable
      ];
      const w = await same(calls, `HMAC ${hash}/${keyLen}`);
      assert.equal(w[2].ok, true);
      assert.equal(w[3].ok, false);
      assert.equal(w[7].ok, true);
      assert.equal(w[8].err, "InvalidAccessError");
      assert.equal(w[9].err, "InvalidAccessError");
    }
  }
});

test("HMAC: generateKey lengths and errors match Node", async () => {
  const calls = [
    { m: "generateKey", a: [{ name: "HMAC", hash: "SHA-256" }, true, ["sign"]] },
    { m: "generateKey", a: [{ name: "HMAC", hash: "SHA-512" }, true, ["sign"]] },
    { m: "generateKey", a: [{ name: "HMAC", hash: "SHA-256", length: 128 }, false, ["verify"]] },
    { m: "generateKey", a: [{ name: "HMAC", hash: "SHA-256" }, true, ["encrypt"]] },
    { m: "generateKey", a: [{ name: "HMAC", hash: "SHA-256" }, true, []] },
    { m: "generateKey", a: [{ name: "HMAC", hash: "SHA-3" }, true, ["sign"]] },
    { m: "importKey", a: ["raw", B(new Uint8Array(0)), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]] },
    { m: "importKey", a: ["jwk", { kty: "oct", k: "AAAA", alg: "HS512" }, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]] },
    { m: "importKey", a: ["jwk", { kty: "RSA", k: "AAAA" }, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]] },
    { m: "importKey", a: ["raw", B(rand(16)), { name: "HMAC", hash: "SHA-256", length: 64 }, true, ["sign"]] },
    { m: "importKey", a: ["spki", B(rand(16)), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]], spec: "NotSupportedError" },
    { m: "importKey", a: ["raw", B(rand(16)), { name: "NOPE" }, true, ["sign"]] },
  ];
  await same(calls, "HMAC generate");
  const w = await inWorker([{ m: "generateKey", a: [{ name: "HMAC", hash: "SHA-384" }, true, ["sign"]] }, { m: "exportKey", a: ["raw", R(0)] }]);
  assert.equal(w[1].ok.$b.length, 256); // 128 bytes: the hash's block size
});

test("AES-GCM, AES-CBC, AES-CTR encrypt and decrypt match Node", async () => {
  for (const bits of [128, 192, 256]) {
    const key = rand(bits / 8);
    for (const len of [0, 1, 15, 16, 17, 100]) {
      const data = rand(len);
      const iv = rand(12);
      const iv16 = rand(16);
      const aad = rand(9);
      const counter = rand(16);
      counter.fill(0xff, 12); // the low counter bits wrap within the data
      const calls = [
        { m: "importKey", a: ["raw", B(key), "AES-GCM", true, ["encrypt", "decrypt"]] },
        { m: "encrypt", a: [{ name: "AES-GCM", iv: B(iv) }, R(0), B(data)] },
        { m: "decrypt", a: [{ name: "AES-GCM", iv: B(iv) }, R(0), R(1)] },
        { m: "encrypt", a: [{ name: "AES-GCM", iv: B(iv16), additionalData: B(aad), tagLength: 96 }, R(0), B(data)] },
        { m: "decrypt", a: [{ name: "AES-GCM", iv: B(iv16), additionalData: B(aad), tagLength: 96 }, R(0), R(3)] },
        { m: "decrypt", a: [{ name: "AES-GCM", iv: B(iv16), tagLength: 96 }, R(0), R(3)] }, // wrong aad
        { m: "importKey", a: ["raw", B(key), "AES-CBC", true, ["encrypt", "decrypt"]] },
        { m: "encrypt", a: [{ name: "AES-CBC", iv: B(iv16) }, R(6), B(data)] },
        { m: "decrypt", a: [{ name: "AES-CBC", iv: B(iv16) }, R(6), R(7)] },
        { m: "importKey", a: ["raw", B(key), "AES-CTR", true, ["encrypt", "decrypt"]] },
        { m: "encrypt", a: [{ name: "AES-CTR", counter: B(counter), length: 64 }, R(9), B(data)] },
        { m: "encrypt", a: [{ name: "AES-CTR", counter: B(counter), length: 34 }, R(9), B(data)] },
        { m: "decrypt", a: [{ name: "AES-CTR", counter: B(counter), length: 34 }, R(9), R(11)] },
        { m: "exportKey", a: ["jwk", R(0)] },
        { m: "exportKey", a: ["jwk", R(6)] },
        { m: "exportKey", a: ["jwk", R(9)] },
        { m: "importKey", a: ["jwk", R(13), "AES-GCM", true, ["decrypt"]] },
        { m: "decrypt", a: [{ name: "AES-GCM", iv: B(iv) }, R(16), R(1)] },
      ];
      await same(calls, `AES ${bits}/${len}`);
    }
  }
});

test("AES errors match Node", async () => {
  const key = rand(16);
  const calls = [
    { m: "importKey", a: ["raw", B(key), "AES-CBC", true, ["encrypt", "decrypt"]] },
    { m: "decrypt", a: [{ name: "AES-CBC", iv: B(rand(16)) }, R(0), B(rand(32))] }, // bad padding (usually)
    { m: "encrypt", a: [{ name: "AES-CBC", iv: B(rand(8)) }, R(0), B(rand(32))] },
    { m: "decrypt", a: [{ name: "AES-CBC", iv: B(rand(16)) }, R(0), B(rand(15))] },
    { m: "importKey", a: ["raw", B(rand(20)), "AES-GCM", true, ["encrypt"]] },
    { m: "importKey", a: ["raw", B(key), "AES-GCM", true, ["sign"]] },
    { m: "importKey", a: ["raw", B(key), "AES-GCM", true, ["encrypt"]] },
    { m: "encrypt", a: [{ name: "AES-GCM", iv: B(rand(12)), tagLength: 33 }, R(6), B(rand(3))] },
    { m: "decrypt", a: [{ name: "AES-GCM", iv: B(rand(12)) }, R(6), B(rand(3))] }, // no decrypt usage
    { m: "encrypt", a: [{ name: "AES-CBC", iv: B(rand(16)) }, R(6), B(rand(3))] }, // wrong algorithm
    { m: "generateKey", a: [{ name: "AES-GCM", length: 100 }, true, ["encrypt"]] },
    { m: "importKey", a: ["raw", B(key), "AES-CTR", true, ["encrypt"]] },
    { m: "encrypt", a: [{ name: "AES-CTR", counter: B(rand(16)), length: 0 }, R(11), B(rand(3))] },
    { m: "encrypt", a: [{ name: "AES-CTR", counter: B(new Uint8Array(16)), length: 1 }, R(11), B(rand(48))] }, // counter would repeat
  ];
  const w = await same(calls, "AES errors");
  assert.equal(w[2].err, "OperationError");
  assert.equal(w[4].err, "DataError");
  assert.equal(w[5].err, "SyntaxError");
  assert.equal(w[8].err, "InvalidAccessError");
  assert.equal(w[13].err, "OperationError");
});

test("AES-KW and wrapKey/unwrapKey match Node", async () => {
  for (const bits of [128, 256]) {
    const kek = rand(bits / 8);
    const inner = rand(32);
    const calls = [
      { m: "importKey", a: ["raw", B(kek), "AES-KW", true, ["wrapKey", "unwrapKey"]] },
      { m: "importKey", a: ["raw", B(inner), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]] },
      { m: "wrapKey", a: ["raw", R(1), R(0), "AES-KW"] },
      { m: "unwrapKey", a: ["raw", R(2), R(0), "AES-KW", { name: "HMAC", hash: "SHA-256" }, true, ["sign"]] },
      { m: "exportKey", a: ["raw", R(3)] },
      { m: "unwrapKey", a: ["raw", B(rand(40)), R(0), "AES-KW", { name: "HMAC", hash: "SHA-256" }, true, ["sign"]] },
      { m: "importKey", a: ["raw", B(kek), "AES-GCM", true, ["wrapKey", "unwrapKey"]] },
      { m: "wrapKey", a: ["jwk", R(1), R(6), { name: "AES-GCM", iv: B(new Uint8Array(12)) }], differs: true },
      { m: "unwrapKey", a: ["jwk", R(7), R(6), { name: "AES-GCM", iv: B(new Uint8Array(12)) }, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]] },
      { m: "exportKey", a: ["raw", R(8)] },
      { m: "exportKey", a: ["jwk", R(0)] },
    ];
    const w = await same(calls, `AES-KW ${bits}`);
    assert.equal(w[4].ok.$b, hex(inner));
    assert.equal(w[5].err, "OperationError");
    // A JWK wrapped with AES-KW in Node (padded to 8-byte blocks) unwraps in the Worker.
    const nodeKek = await subtle.importKey("raw", kek, "AES-KW", true, ["wrapKey"]);
    const nodeInner = await subtle.importKey("raw", inner, { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    const wrapped = new Uint8Array(await subtle.wrapKey("jwk", nodeInner, nodeKek, "AES-KW"));
    const u = await inWorker([
      calls[0],
      { m: "unwrapKey", a: ["jwk", B(wrapped), R(0), "AES-KW", { name: "HMAC", hash: "SHA-256" }, true, ["sign"]] },
      { m: "exportKey", a: ["raw", R(1)] },
      { m: "wrapKey", a: ["jwk", R(1), R(0), "AES-KW"] },
    ]);
    assert.equal(u[2].ok.$b, hex(inner));
    const nodeUnwrap = await subtle.importKey("raw", kek, "AES-KW", true, ["unwrapKey"]);
    const back = await subtle.unwrapKey("jwk", Buffer.from(u[3].ok.$b, "hex"), nodeUnwrap, "AES-KW", { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    assert.equal(hex(await subtle.exportKey("raw", back)), hex(inner));
  }
});

test("PBKDF2 and HKDF deriveBits and deriveKey match Node", async () => {
  for (const hash of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
    const pw = rand(13);
    const salt = rand(16);
    const info = rand(7);
    const calls = [
      { m: "importKey", a: ["raw", B(pw), "PBKDF2", false, ["deriveBits", "deriveKey"]] },
      { m: "deriveBits", a: [{ name: "PBKDF2", hash, salt: B(salt), iterations: 1000 }, R(0), 256] },
      { m: "deriveBits", a: [{ name: "PBKDF2", hash, salt: B(new Uint8Array(0)), iterations: 1 }, R(0), 8] },
      { m: "deriveKey", a: [{ name: "PBKDF2", hash, salt: B(salt), iterations: 2 }, R(0), { name: "AES-GCM", length: 256 }, true, ["encrypt"]] },
      { m: "exportKey", a: ["raw", R(3)] },
      { m: "deriveBits", a: [{ name: "PBKDF2", hash, salt: B(salt), iterations: 0 }, R(0), 256] },
      { m: "deriveBits", a: [{ name: "PBKDF2", hash, salt: B(salt), iterations: 1 }, R(0), 7] },
      { m: "importKey", a: ["raw", B(pw), "HKDF", false, ["deriveBits", "deriveKey"]] },
      { m: "deriveBits", a: [{ name: "HKDF", hash, salt: B(salt), info: B(info) }, R(7), 512] },
      { m: "deriveBits", a: [{ name: "HKDF", hash, salt: B(new Uint8Array(0)), info: B(new Uint8Array(0)) }, R(7), 128] },
      { m: "deriveKey", a: [{ name: "HKDF", hash, salt: B(salt), info: B(info) }, R(7), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]] },
      { m: "exportKey", a: ["jwk", R(10)] },
      { m: "deriveBits", a: [{ name: "HKDF", hash, salt: B(salt), info: B(info) }, R(7), 255 * 8 * 64 + 8] },
      { m: "deriveBits", a: [{ name: "PBKDF2", hash, salt: B(salt), iterations: 100001 }, R(0), 256], spec: "NotSupportedError" }, // a Workers limit
      { m: "importKey", a: ["raw", B(pw), "HKDF", true, ["deriveBits"]] },
      { m: "exportKey", a: ["raw", R(7)] },
    ];
    await same(calls, `KDF ${hash}`);
  }
});

// ---- asymmetric ----

async function nodeKeyPair(alg, usages) {
  const pair = await subtle.generateKey(alg, true, usages);
  return {
    spki: new Uint8Array(await subtle.exportKey("spki", pair.publicKey)),
    pkcs8: new Uint8Array(await subtle.exportKey("pkcs8", pair.privateKey)),
    jwkPub: await subtle.exportKey("jwk", pair.publicKey),
    jwkPriv: await subtle.exportKey("jwk", pair.privateKey),
    raw: alg.name === "RSA-PSS" || alg.name.startsWith("RSA") ? null : new Uint8Array(await subtle.exportKey("raw", pair.publicKey)),
  };
}

test("ECDSA: keys from Node import and export identically; signatures cross-verify", async () => {
  for (const [namedCurve, hash] of [["P-256", "SHA-256"], ["P-384", "SHA-384"], ["P-256", "SHA-512"], ["P-521", "SHA-512"]]) {
    const alg = { name: "ECDSA", namedCurve };
    const k = await nodeKeyPair(alg, ["sign", "verify"]);
    const data = rand(50);
    const calls = [
      { m: "importKey", a: ["spki", B(k.spki), alg, true, ["verify"]] },
      { m: "importKey", a: ["pkcs8", B(k.pkcs8), alg, true, ["sign"]] },
      { m: "importKey", a: ["jwk", k.jwkPub, alg, true, ["verify"]] },
      { m: "importKey", a: ["jwk", k.jwkPriv, alg, true, ["sign"]] },
      { m: "importKey", a: ["raw", B(k.raw), alg, true, ["verify"]] },
      { m: "exportKey", a: ["spki", R(0)] },
      { m: "exportKey", a: ["pkcs8", R(1)] },
      { m: "exportKey", a: ["jwk", R(2)] },
      { m: "exportKey", a: ["jwk", R(3)] },
      { m: "exportKey", a: ["raw", R(4)] },
      { m: "exportKey", a: ["spki", R(3)] },
      { m: "importKey", a: ["raw", B(k.raw), alg, true, ["sign"]] },
      { m: "importKey", a: ["spki", B(k.spki), { name: "ECDSA", namedCurve: namedCurve === "P-256" ? "P-384" : "P-256" }, true, ["verify"]] },
    ];
    const w = await same(calls, `ECDSA import ${namedCurve}`);
    assert.equal(w[5].ok.$b, hex(k.spki));
    assert.equal(w[10].err, "InvalidAccessError");
    assert.equal(w[12].err, "DataError");
    // Worker signs, Node verifies.
    const signed = await inWorker([calls[1], { m: "sign", a: [{ name: "ECDSA", hash }, R(0), B(data)] }]);
    const pub = await subtle.importKey("spki", k.spki, alg, true, ["verify"]);
    assert.ok(await subtle.verify({ name: "ECDSA", hash }, pub, Buffer.from(signed[1].ok.$b, "hex"), data));
    // Node signs, Worker verifies (and rejects a tampered signature or data).
    const priv = await subtle.importKey("pkcs8", k.pkcs8, alg, true, ["sign"]);
    const sig = new Uint8Array(await subtle.sign({ name: "ECDSA", hash }, priv, data));
    const bad = sig.slice();
    bad[5] ^= 1;
    const v = await inWorker([
      calls[0],
      { m: "verify", a: [{ name: "ECDSA", hash }, R(0), B(sig), B(data)] },
      { m: "verify", a: [{ name: "ECDSA", hash }, R(0), B(bad), B(data)] },
      { m: "verify", a: [{ name: "ECDSA", hash }, R(0), B(sig), B(rand(3))] },
      { m: "verify", a: [{ name: "ECDSA", hash }, R(0), B(sig.subarray(1)), B(data)] },
    ]);
    assert.deepEqual(v.slice(1).map((r) => r.ok), [true, false, false, false]);
  }
});

test("ECDH and X25519: deriveBits matches Node both ways", async () => {
  for (const alg of [{ name: "ECDH", namedCurve: "P-256" }, { name: "ECDH", namedCurve: "P-384" }, { name: "X25519" }]) {
    const a = await nodeKeyPair(alg, ["deriveBits"]);
    const b = await nodeKeyPair(alg, ["deriveBits"]);
    const calls = [
      { m: "importKey", a: ["pkcs8", B(a.pkcs8), alg, true, ["deriveBits", "deriveKey"]] },
      { m: "importKey", a: ["spki", B(b.spki), alg, true, []] },
      { m: "deriveBits", a: [{ name: alg.name, public: R(1) }, R(0), 128] },
      { m: "deriveBits", a: [{ name: alg.name, public: R(1) }, R(0), null] },
      { m: "importKey", a: ["jwk", b.jwkPriv, alg, true, ["deriveBits"]] },
      { m: "importKey", a: ["raw", B(a.raw), alg, true, []] },
      { m: "deriveBits", a: [{ name: alg.name, public: R(5) }, R(4), 256] },
      { m: "deriveKey", a: [{ name: alg.name, public: R(1) }, R(0), { name: "AES-GCM", length: 128 }, true, ["encrypt"]] },
      { m: "exportKey", a: ["raw", R(7)] },
      { m: "deriveBits", a: [{ name: alg.name, public: R(1) }, R(0), 4096] },
      { m: "exportKey", a: ["jwk", R(4)] },
      { m: "importKey", a: ["spki", B(b.spki), alg, true, ["deriveBits"]] },
    ];
    const w = await same(calls, `${alg.name} ${alg.namedCurve ?? ""}`);
    assert.equal(w[2].ok.$b, w[6].ok.$b.slice(0, 32));
  }
});

test("Ed25519: import/export and signatures match Node", async () => {
  const alg = { name: "Ed25519" };
  const k = await nodeKeyPair(alg, ["sign", "verify"]);
  const data = rand(33);
  const calls = [
    { m: "importKey", a: ["pkcs8", B(k.pkcs8), alg, true, ["sign"]] },
    { m: "importKey", a: ["spki", B(k.spki), alg, true, ["verify"]] },
    { m: "sign", a: ["Ed25519", R(0), B(data)] },
    { m: "verify", a: ["Ed25519", R(1), R(2), B(data)] },
    { m: "verify", a: ["Ed25519", R(1), R(2), B(rand(3))] },
    { m: "importKey", a: ["jwk", k.jwkPriv, alg, true, ["sign"]] },
    { m: "exportKey", a: ["jwk", R(5)] },
    { m: "exportKey", a: ["pkcs8", R(5)] },
    { m: "importKey", a: ["raw", B(k.raw), alg, true, ["verify"]] },
    { m: "exportKey", a: ["raw", R(8)] },
    { m: "importKey", a: ["raw", B(rand(31)), alg, true, ["verify"]] },
    { m: "importKey", a: ["jwk", { ...k.jwkPriv, x: k.jwkPub.x.replace(/^./, (c) => (c === "A" ? "B" : "A")) }, alg, true, ["sign"]] },
    { m: "sign", a: ["Ed25519", R(1), B(data)] },
  ];
  const w = await same(calls, "Ed25519");
  assert.equal(w[3].ok, true);
  assert.equal(w[10].err, "DataError");
  assert.equal(w[12].err, "InvalidAccessError");
});

test("RSA: PKCS#1 v1.5, PSS and OAEP interoperate with Node", async () => {
  const data = rand(40);
  for (const [name, usages] of [["RSASSA-PKCS1-v1_5", ["sign", "verify"]], ["RSA-PSS", ["sign", "verify"]], ["RSA-OAEP", ["encrypt", "decrypt"]]]) {
    const alg = { name, hash: "SHA-256", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
    const k = await nodeKeyPair(alg, usages);
    const ialg = { name, hash: "SHA-256" };
    const [priv, pub] = name === "RSA-OAEP" ? ["decrypt", "encrypt"] : ["sign", "verify"];
    const calls = [
      { m: "importKey", a: ["pkcs8", B(k.pkcs8), ialg, true, [priv]] },
      { m: "importKey", a: ["spki", B(k.spki), ialg, true, [pub]] },
      { m: "importKey", a: ["jwk", k.jwkPriv, ialg, true, [priv]] },
      { m: "importKey", a: ["jwk", k.jwkPub, ialg, true, [pub]] },
      { m: "exportKey", a: ["pkcs8", R(2)] },
      { m: "exportKey", a: ["spki", R(3)] },
      { m: "exportKey", a: ["jwk", R(0)] },
      { m: "exportKey", a: ["jwk", R(1)] },
    ];
    if (name === "RSASSA-PKCS1-v1_5") calls.push({ m: "sign", a: [name, R(0), B(data)] }, { m: "verify", a: [name, R(1), R(8), B(data)] });
    const w = await same(calls, `${name} import`);
    if (name === "RSA-OAEP") {
      const label = rand(5);
      const nodePub = await subtle.importKey("spki", k.spki, ialg, true, ["encrypt"]);
      const ct = new Uint8Array(await subtle.encrypt({ name, label }, nodePub, data));
      const r = await inWorker([
        calls[0],
        calls[1],
        { m: "decrypt", a: [{ name, label: B(label) }, R(0), B(ct)] },
        { m: "encrypt", a: [{ name, label: B(label) }, R(1), B(data)] },
        { m: "decrypt", a: [{ name }, R(0), B(ct)] },
      ]);
      assert.equal(r[2].ok.$b, hex(data));
      assert.equal(r[4].err, "OperationError");
      const nodePriv = await subtle.importKey("pkcs8", k.pkcs8, ialg, true, ["decrypt"]);
      const pt = await subtle.decrypt({ name, label }, nodePriv, Buffer.from(r[3].ok.$b, "hex"));
      assert.equal(hex(pt), hex(data));
    } else {
      const params = { name, saltLength: 32 };
      const r = await inWorker([calls[0], { m: "sign", a: [params, R(0), B(data)] }]);
      const nodePub = await subtle.importKey("spki", k.spki, ialg, true, ["verify"]);
      assert.ok(await subtle.verify(params, nodePub, Buffer.from(r[1].ok.$b, "hex"), data), `${name}: node verifies the worker's signature`);
      const nodePriv = await subtle.importKey("pkcs8", k.pkcs8, ialg, true, ["sign"]);
      const sig = new Uint8Array(await subtle.sign(params, nodePriv, data));
      const v = await inWorker([calls[1], { m: "verify", a: [params, R(0), B(sig), B(data)] }, { m: "verify", a: [params, R(0), B(sig), B(rand(4))] }]);
      assert.deepEqual([v[1].ok, v[2].ok], [true, false]);
    }
    assert.ok(!w[4].err);
  }
});

test("generateKey for EC, OKP and RSA: worker keys work in Node", async () => {
  const data = rand(20);
  for (const [alg, usages, params] of [
    [{ name: "ECDSA", namedCurve: "P-256" }, ["sign", "verify"], { name: "ECDSA", hash: "SHA-256" }],
    [{ name: "ECDSA", namedCurve: "P-384" }, ["sign", "verify"], { name: "ECDSA", hash: "SHA-384" }],
    [{ name: "Ed25519" }, ["sign", "verify"], { name: "Ed25519" }],
    [{ name: "RSA-PSS", hash: "SHA-256", modulusLength: 1024, publicExponent: { $b: "010001" } }, ["sign", "verify"], { name: "RSA-PSS", saltLength: 20 }],
  ]) {
    const r = await inWorker([
      { m: "generateKey", a: [alg, true, usages] },
      { m: "sign", a: [params, R(0, "privateKey"), B(data)] },
      { m: "exportKey", a: ["spki", R(0, "publicKey")] },
      { m: "exportKey", a: ["jwk", R(0, "privateKey")] },
    ]);
    expectOk(r, alg.name);
    const nodeAlg = { ...alg, hash: alg.hash };
    if (nodeAlg.publicExponent) nodeAlg.publicExponent = new Uint8Array([1, 0, 1]);
    const pub = await subtle.importKey("spki", Buffer.from(r[2].ok.$b, "hex"), nodeAlg, true, ["verify"]);
    assert.ok(await subtle.verify(params, pub, Buffer.from(r[1].ok.$b, "hex"), data), `${alg.name}: node verifies`);
    await subtle.importKey("jwk", r[3].ok, nodeAlg, true, ["sign"]);
    assert.deepEqual(r[0].ok.privateKey.$key.usages, ["sign"]);
    assert.deepEqual(r[0].ok.publicKey.$key.usages, ["verify"]);
  }
  const x = await inWorker([
    { m: "generateKey", a: [{ name: "X25519" }, true, ["deriveBits"]] },
    { m: "generateKey", a: [{ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]] },
    { m: "exportKey", a: ["pkcs8", R(1, "privateKey")] },
    { m: "generateKey", a: [{ name: "ECDSA", namedCurve: "P-999" }, true, ["sign"]] },
    { m: "generateKey", a: [{ name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]] },
  ]);
  assert.ok(!x[0].err && !x[1].err);
  assert.equal(x[2].err, "InvalidAccessError");
  assert.equal(x[3].err, "NotSupportedError");
  assert.equal(x[4].err, "SyntaxError");
});

test("garbage key data is a DataError, never a crash", async () => {
  const calls = [];
  const algs = [{ name: "ECDSA", namedCurve: "P-256" }, { name: "Ed25519" }, { name: "X25519" }, { name: "RSA-PSS", hash: "SHA-256" }];
  for (const alg of algs) {
    const use = alg.name === "X25519" ? [] : ["verify"];
    for (const bytes of [new Uint8Array(0), rand(1), rand(65), rand(300), new Uint8Array([0x30, 0x82, 0xff, 0xff])]) {
      calls.push({ m: "importKey", a: ["spki", B(bytes), alg, true, use] });
      calls.push({ m: "importKey", a: ["pkcs8", B(bytes), alg, true, alg.name === "X25519" ? ["deriveBits"] : ["sign"]] });
    }
    calls.push({ m: "importKey", a: ["jwk", { kty: alg.name === "ECDSA" ? "EC" : alg.name.startsWith("RSA") ? "RSA" : "OKP", crv: alg.namedCurve ?? alg.name, x: "AAAA", y: "AAAA", n: "AA", e: "AQAB" }, alg, true, use] });
  }
  // A point that is not on the curve.
  const offCurve = new Uint8Array(65);
  offCurve[0] = 4;
  offCurve[64] = 1;
  calls.push({ m: "importKey", a: ["raw", B(offCurve), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]] });
  const w = await inWorker(calls);
  w.forEach((r, i) => assert.equal(r.err, "DataError", `call ${i}: ${JSON.stringify(calls[i].a.slice(0, 1))} → ${JSON.stringify(r)}`));
  // The server is still up.
  const again = await inWorker([{ m: "digest", a: ["SHA-256", B(new Uint8Array(1))] }]);
  assert.ok(again[0].ok);
});
