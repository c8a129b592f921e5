// crypto.subtle beyond HMAC, with fixed keys and IVs so that every output is deterministic:
// AES-GCM/CBC/CTR encrypt and decrypt (and tamper detection), AES-KW key wrapping, PBKDF2 and
// HKDF, Ed25519 and RSASSA-PKCS1-v1_5 signatures (deterministic schemes), ECDSA verification
// of a signature made elsewhere, ECDH agreement, JWK import/export, and the errors of misuse.
// Every endpoint runs its cases separately, so that one unsupported algorithm shows as an
// error entry rather than a failed request.
import { KEYS } from "./keys.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const bytes = (n, seed) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const subtle = crypto.subtle;

async function cases(list) {
  const out = {};
  for (const [name, fn] of Object.entries(list)) {
    try {
      out[name] = await fn();
    } catch (e) {
      out[name] = { error: e.name };
    }
  }
  return out;
}

const MESSAGE = enc.encode("attack at dawn — ☀");

const aes = () =>
  cases({
    gcm: async () => {
      const key = await subtle.importKey("raw", bytes(32, 1), "AES-GCM", false, ["encrypt", "decrypt"]);
      const iv = bytes(12, 2);
      const ct = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: enc.encode("aad") }, key, MESSAGE);
      const pt = await subtle.decrypt({ name: "AES-GCM", iv, additionalData: enc.encode("aad") }, key, ct);
      const tampered = new Uint8Array(ct);
      tampered[0] ^= 1;
      let tamper;
      try {
        await subtle.decrypt({ name: "AES-GCM", iv, additionalData: enc.encode("aad") }, key, tampered);
        tamper = "accepted";
      } catch (e) {
        tamper = e.name;
      }
      const short = await subtle.encrypt({ name: "AES-GCM", iv, tagLength: 96 }, key, MESSAGE);
      return { ct: hex(ct), pt: dec.decode(pt), tamper, shortTagLength: short.byteLength };
    },
    cbc: async () => {
      const key = await subtle.importKey("raw", bytes(16, 3), { name: "AES-CBC" }, false, ["encrypt", "decrypt"]);
      const iv = bytes(16, 4);
      const ct = await subtle.encrypt({ name: "AES-CBC", iv }, key, MESSAGE);
      return { ct: hex(ct), pt: dec.decode(await subtle.decrypt({ name: "AES-CBC", iv }, key, ct)) };
    },
    ctr: async () => {
      const key = await subtle.importKey("raw", bytes(24, 5), "AES-CTR", false, ["encrypt", "decrypt"]);
      const counter = bytes(16, 6);
      const ct = await subtle.encrypt({ name: "AES-CTR", counter, length: 64 }, key, MESSAGE);
      return { ct: hex(ct), pt: dec.decode(await subtle.decrypt({ name: "AES-CTR", counter, length: 64 }, key, ct)) };
    },
    kw: async () => {
      const kek = await subtle.importKey("raw", bytes(16, 7), "AES-KW", false, ["wrapKey", "unwrapKey"]);
      const inner = await subtle.importKey("raw", bytes(32, 8), { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
      const wrapped = await subtle.wrapKey("raw", inner, kek, "AES-KW");
      const back = await subtle.unwrapKey("raw", wrapped, kek, "AES-KW", { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
      return { wrapped: hex(wrapped), same: hex(await subtle.exportKey("raw", back)) === hex(bytes(32, 8)) };
    },
    exportJwk: async () => {
      const key = await subtle.importKey("raw", bytes(16, 9), "AES-GCM", true, ["encrypt"]);
      const jwk = await subtle.exportKey("jwk", key);
      return { kty: jwk.kty, alg: jwk.alg, k: jwk.k, ext: jwk.ext, key_ops: jwk.key_ops };
    },
  });

const derive = () =>
  cases({
    pbkdf2: async () => {
      const base = await subtle.importKey("raw", enc.encode("correct horse battery staple"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
      const bits = await subtle.deriveBits({ name: "PBKDF2", salt: enc.encode("salt"), iterations: 1000, hash: "SHA-256" }, base, 256);
      const key = await subtle.deriveKey({ name: "PBKDF2", salt: enc.encode("salt2"), iterations: 10, hash: "SHA-512" }, base, { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
      return { bits: hex(bits), derivedKey: hex(await subtle.exportKey("raw", key)), algorithm: key.algorithm };
    },
    hkdf: async () => {
      const base = await subtle.importKey("raw", bytes(22, 10), "HKDF", false, ["deriveBits"]);
      const bits = await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: bytes(13, 11), info: enc.encode("context") }, base, 336);
      return { bits: hex(bits) };
    },
    ecdh: async () => {
      const priv = await subtle.importKey("jwk", KEYS.ecPrivJwk, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
      const pub = await subtle.importKey("jwk", KEYS.ec2PubJwk, { name: "ECDH", namedCurve: "P-256" }, true, []);
      const priv2 = await subtle.importKey("jwk", KEYS.ec2PrivJwk, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
      const pub1 = await subtle.importKey("jwk", KEYS.ecPubJwk, { name: "ECDH", namedCurve: "P-256" }, true, []);
      const a = await subtle.deriveBits({ name: "ECDH", public: pub }, priv, 256);
      const b = await subtle.deriveBits({ name: "ECDH", public: pub1 }, priv2, 256);
      return { shared: hex(a), agree: hex(a) === hex(b), rawPublicLength: (await subtle.exportKey("raw", pub)).byteLength };
    },
  });

const signatures = () =>
  cases({
    ed25519: async () => {
      const priv = await subtle.importKey("pkcs8", b64(KEYS.ed25519Pkcs8), "Ed25519", false, ["sign"]);
      const pub = await subtle.importKey("spki", b64(KEYS.ed25519Spki), "Ed25519", true, ["verify"]);
      const sig = await subtle.sign("Ed25519", priv, MESSAGE);
      return { sig: hex(sig), ok: await subtle.verify("Ed25519", pub, sig, MESSAGE), wrong: await subtle.verify("Ed25519", pub, sig, enc.encode("other")) };
    },
    rsaPkcs1: async () => {
      const priv = await subtle.importKey("pkcs8", b64(KEYS.rsaPkcs8), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
      const pub = await subtle.importKey("jwk", KEYS.rsaPublicJwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, true, ["verify"]);
      const sig = await subtle.sign("RSASSA-PKCS1-v1_5", priv, MESSAGE);
      return {
        sig: hex(sig).slice(0, 64),
        length: sig.byteLength,
        ok: await subtle.verify("RSASSA-PKCS1-v1_5", pub, sig, MESSAGE),
        modulusLength: pub.algorithm.modulusLength,
        publicExponent: hex(pub.algorithm.publicExponent),
      };
    },
    rsaPss: async () => {
      const priv = await subtle.importKey("pkcs8", b64(KEYS.rsaPkcs8), { name: "RSA-PSS", hash: "SHA-256" }, false, ["sign"]);
      const pub = await subtle.importKey("jwk", { ...KEYS.rsaPublicJwk }, { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"]);
      const sig = await subtle.sign({ name: "RSA-PSS", saltLength: 32 }, priv, MESSAGE);
      return { ok: await subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pub, sig, MESSAGE), length: sig.byteLength };
    },
    ecdsaVerify: async () => {
      const pub = await subtle.importKey("jwk", KEYS.ecPubJwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
      const sig = b64(KEYS.ecSigOfMessage);
      return {
        ok: await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub, sig, enc.encode("signed by node")),
        wrong: await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pub, sig, enc.encode("signed by someone else")),
      };
    },
    ecdsaRoundTrip: async () => {
      const priv = await subtle.importKey("jwk", KEYS.ecPrivJwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
      const pub = await subtle.importKey("jwk", KEYS.ecPubJwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
      const sig = await subtle.sign({ name: "ECDSA", hash: "SHA-384" }, priv, MESSAGE);
      return { length: sig.byteLength, ok: await subtle.verify({ name: "ECDSA", hash: "SHA-384" }, pub, sig, MESSAGE) };
    },
  });

const misuse = () =>
  cases({
    unknownAlgorithm: () => subtle.digest("SHA-3", MESSAGE).then(() => "accepted"),
    wrongUsage: async () => {
      const key = await subtle.importKey("raw", bytes(16, 1), "AES-GCM", false, ["decrypt"]);
      return subtle.encrypt({ name: "AES-GCM", iv: bytes(12, 0) }, key, MESSAGE).then(() => "accepted");
    },
    notExtractable: async () => {
      const key = await subtle.importKey("raw", bytes(16, 1), "AES-GCM", false, ["encrypt"]);
      return subtle.exportKey("raw", key).then(() => "accepted");
    },
    badKeyLength: () => subtle.importKey("raw", bytes(15, 1), "AES-GCM", false, ["encrypt"]).then(() => "accepted"),
    badIvType: async () => {
      const key = await subtle.importKey("raw", bytes(16, 1), "AES-CBC", false, ["encrypt"]);
      return subtle.encrypt({ name: "AES-CBC", iv: bytes(8, 0) }, key, MESSAGE).then(() => "accepted");
    },
    generatedShapes: async () => {
      const k = await subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
      const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, false, ["sign", "verify"]);
      return {
        aes: [k.type, k.algorithm.name, k.algorithm.length, k.usages],
        ec: [pair.privateKey.type, pair.publicKey.type, pair.publicKey.extractable, pair.privateKey.usages, pair.publicKey.usages, pair.publicKey.algorithm.namedCurve],
      };
    },
  });

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const routes = { "/aes": aes, "/derive": derive, "/signatures": signatures, "/misuse": misuse };
    if (!routes[pathname]) return new Response("not found\n", { status: 404 });
    return Response.json(await routes[pathname]());
  },
};
