// crypto: getRandomValues, randomUUID and crypto.subtle (WebCrypto, as in the W3C spec and
// workerd). The primitives are C ops over OpenSSL (src/webapi/crypto*.c); this file does the
// spec's algorithm normalisation, key usages, formats and errors. A CryptoKey's material lives
// in JavaScript: a secret key's raw bytes, a public key's SPKI DER or a private key's PKCS #8
// DER, which every op parses afresh (nothing to free in C). What is supported is listed in
// docs/runtime-apis.md.
import ops from "./ops.js";
import { concatBytes } from "./bytes.js";
import { DOMException, GLOBAL_SCOPE_MESSAGE } from "./errors.js";
import { TextDecoder, TextEncoder } from "./encoding.js";


function requireHandler() {
  if (ops.currentInvocation() === 0) throw new Error(GLOBAL_SCOPE_MESSAGE);
}

const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];

const INTERNAL = Symbol("internal");

function domError(name, message) {
  return new DOMException(message, name);
}

// A copy of a BufferSource's bytes (copied, so later writes by the caller change nothing).
function toBytes(data, what = "data") {
  if (data instanceof ArrayBuffer) return new Uint8Array(data.slice(0));
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  throw new TypeError(`${what} is not of type 'ArrayBuffer or ArrayBufferView'.`);
}

function bufferCopy(bytes) {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}

// ---- base64url (JWK) ----
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64_INDEX = new Map([...B64].map((ch, i) => [ch, i]));

function b64uEncode(buf) {
  const b = new Uint8Array(buf);
  let out = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63] + B64[n & 63];
  }
  if (b.length - i === 1) {
    const n = b[i] << 16;
    out += B64[n >> 18] + B64[(n >> 12) & 63];
  } else if (b.length - i === 2) {
    const n = (b[i] << 16) | (b[i + 1] << 8);
    out += B64[n >> 18] + B64[(n >> 12) & 63] + B64[(n >> 6) & 63];
  }
  return out;
}

function b64uDecode(str, field) {
  if (typeof str !== "string") throw domError("DataError", `Invalid JWK: "${field}" is missing or not a string.`);
  const s = str.replace(/=+$/, "");
  if (s.length % 4 === 1) throw domError("DataError", `Invalid base64url in JWK field "${field}".`);
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let o = 0;
  for (const ch of s) {
    const v = B64_INDEX.get(ch);
    if (v === undefined) throw domError("DataError", `Invalid base64url in JWK field "${field}".`);
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (value >> bits) & 255;
    }
  }
  return out.subarray(0, o);
}

// ---- algorithm names ----
const ALGORITHMS = [
  "HMAC", "AES-GCM", "AES-CBC", "AES-CTR", "AES-KW", "PBKDF2", "HKDF", "ECDSA", "ECDH",
  "Ed25519", "X25519", "RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP",
  "SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5",
];
const CANONICAL = new Map(ALGORITHMS.map((n) => [n.toUpperCase(), n]));
const HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];

// Which algorithms each operation accepts.
const OPERATIONS = {
  digest: ["SHA-1", "SHA-256", "SHA-384", "SHA-512", "MD5"],
  importKey: ["HMAC", "AES-GCM", "AES-CBC", "AES-CTR", "AES-KW", "PBKDF2", "HKDF", "ECDSA", "ECDH", "Ed25519", "X25519", "RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"],
  generateKey: ["HMAC", "AES-GCM", "AES-CBC", "AES-CTR", "AES-KW", "ECDSA", "ECDH", "Ed25519", "X25519", "RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"],
  sign: ["HMAC", "ECDSA", "Ed25519", "RSASSA-PKCS1-v1_5", "RSA-PSS"],
  encrypt: ["AES-GCM", "AES-CBC", "AES-CTR", "RSA-OAEP"],
  wrapKey: ["AES-GCM", "AES-CBC", "AES-CTR", "AES-KW", "RSA-OAEP"],
  deriveBits: ["PBKDF2", "HKDF", "ECDH", "X25519"],
  getKeyLength: ["HMAC", "AES-GCM", "AES-CBC", "AES-CTR", "AES-KW"],
};

function normalizeAlgorithm(alg, op) {
  let obj;
  if (typeof alg === "string") obj = { name: alg };
  else if (alg !== null && typeof alg === "object") obj = alg;
  else throw new TypeError("Algorithm must be a string or an object with a name.");
  if (typeof obj.name !== "string") throw new TypeError("Algorithm: name: Missing or not a string");
  const name = CANONICAL.get(obj.name.toUpperCase());
  if (!name || !OPERATIONS[op].includes(name)) throw domError("NotSupportedError", `Unrecognized or unsupported algorithm name "${obj.name}" for ${op}.`);
  const out = { name };
  for (const key of ["hash", "length", "iv", "additionalData", "tagLength", "counter", "salt", "info", "iterations", "namedCurve", "public", "saltLength", "label", "modulusLength", "publicExponent"]) {
    if (obj[key] !== undefined) out[key] = obj[key];
  }
  if (out.hash !== undefined) out.hash = normalizeHash(out.hash);
  return out;
}

function normalizeHash(hash) {
  const name = typeof hash === "string" ? hash : hash?.name;
  if (typeof name !== "string") throw new TypeError("Algorithm: hash: Missing or not a string");
  const canonical = CANONICAL.get(name.toUpperCase());
  if (!HASHES.includes(canonical)) throw domError("NotSupportedError", `Unrecognized or unsupported hash "${name}".`);
  return canonical;
}

function requireHash(alg) {
  if (alg.hash === undefined) throw new TypeError(`${alg.name}: hash is required.`);
  return alg.hash;
}

// ---- CryptoKey ----
const USAGES = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
const slots = new WeakMap();

export class CryptoKey {
  constructor(token, type, extractable, algorithm, usages, data) {
    if (token !== INTERNAL) throw new TypeError("Illegal constructor");
    slots.set(this, { type, extractable, algorithm, usages, data, algCache: null, usageCache: null });
  }
  get type() {
    return slot(this).type;
  }
  get extractable() {
    return slot(this).extractable;
  }
  get algorithm() {
    const s = slot(this);
    if (!s.algCache) s.algCache = publicAlgorithm(s.algorithm);
    return s.algCache;
  }
  get usages() {
    const s = slot(this);
    if (!s.usageCache) s.usageCache = [...s.usages];
    return s.usageCache;
  }
  get [Symbol.toStringTag]() {
    return "CryptoKey";
  }
}

function slot(key) {
  const s = slots.get(key);
  if (!s) throw new TypeError("Value is not a CryptoKey");
  return s;
}

function publicAlgorithm(alg) {
  const out = { name: alg.name };
  if (alg.hash) out.hash = { name: alg.hash };
  if (alg.length !== undefined) out.length = alg.length;
  if (alg.namedCurve) out.namedCurve = alg.namedCurve;
  if (alg.modulusLength !== undefined) {
    out.modulusLength = alg.modulusLength;
    out.publicExponent = new Uint8Array(alg.publicExponent);
  }
  return out;
}

function makeKey(type, extractable, algorithm, usages, data) {
  const order = USAGES.filter((u) => usages.includes(u));
  return new CryptoKey(INTERNAL, type, extractable, algorithm, order, data);
}

function checkUsages(usages, allowed) {
  if (!Array.isArray(usages) && (usages === null || typeof usages !== "object" || typeof usages[Symbol.iterator] !== "function")) {
    throw new TypeError("keyUsages must be a sequence");
  }
  const list = [...usages].map(String);
  for (const u of list) {
    if (!USAGES.includes(u)) throw new TypeError(`Invalid key usage "${u}".`);
    if (!allowed.includes(u)) throw domError("SyntaxError", `Unsupported key usage for this algorithm: "${u}".`);
  }
  return [...new Set(list)];
}

function requireUsage(key, usage, algName) {
  const s = slot(key);
  if (algName !== undefined && s.algorithm.name !== algName) {
    throw domError("InvalidAccessError", `The requested operation is not valid for the provided key (algorithm ${s.algorithm.name}, wanted ${algName}).`);
  }
  if (!s.usages.includes(usage)) throw domError("InvalidAccessError", `The key does not permit "${usage}".`);
  return s;
}

// Key-usage sets per algorithm: [secret or private, public].
const KEY_USAGES = {
  HMAC: [["sign", "verify"]],
  "AES-GCM": [["encrypt", "decrypt", "wrapKey", "unwrapKey"]],
  "AES-CBC": [["encrypt", "decrypt", "wrapKey", "unwrapKey"]],
  "AES-CTR": [["encrypt", "decrypt", "wrapKey", "unwrapKey"]],
  "AES-KW": [["wrapKey", "unwrapKey"]],
  PBKDF2: [["deriveKey", "deriveBits"]],
  HKDF: [["deriveKey", "deriveBits"]],
  ECDSA: [["sign"], ["verify"]],
  Ed25519: [["sign"], ["verify"]],
  "RSASSA-PKCS1-v1_5": [["sign"], ["verify"]],
  "RSA-PSS": [["sign"], ["verify"]],
  ECDH: [["deriveKey", "deriveBits"], []],
  X25519: [["deriveKey", "deriveBits"], []],
  "RSA-OAEP": [["decrypt", "unwrapKey"], ["encrypt", "wrapKey"]],
};

const HMAC_BLOCK_BITS = { "SHA-1": 512, "SHA-256": 512, "SHA-384": 1024, "SHA-512": 1024 };
const JWK_HMAC_ALG = { "SHA-1": "HS1", "SHA-256": "HS256", "SHA-384": "HS384", "SHA-512": "HS512" };
const JWK_AES_SUFFIX = { "AES-GCM": "GCM", "AES-CBC": "CBC", "AES-CTR": "CTR", "AES-KW": "KW" };
const JWK_RSA_ALG = {
  "RSASSA-PKCS1-v1_5": { "SHA-1": "RS1", "SHA-256": "RS256", "SHA-384": "RS384", "SHA-512": "RS512" },
  "RSA-PSS": { "SHA-1": "PS1", "SHA-256": "PS256", "SHA-384": "PS384", "SHA-512": "PS512" },
  "RSA-OAEP": { "SHA-1": "RSA-OAEP", "SHA-256": "RSA-OAEP-256", "SHA-384": "RSA-OAEP-384", "SHA-512": "RSA-OAEP-512" },
};
const JWK_EC_ALG = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };
const CURVES = ["P-256", "P-384", "P-521"];

function isSymmetric(name) {
  return name === "HMAC" || name.startsWith("AES-") || name === "PBKDF2" || name === "HKDF";
}

function pkeyKind(name) {
  if (name === "ECDSA" || name === "ECDH") return "EC";
  if (name === "Ed25519" || name === "X25519") return name;
  return "RSA";
}

// Checks a JWK's common members against the import's extractable flag and usages.
function checkJwk(jwk, kty, extractable, usages, use) {
  if (jwk === null || typeof jwk !== "object") throw new TypeError("JWK must be an object.");
  if (jwk.kty !== kty) throw domError("DataError", `JWK "kty" must be "${kty}".`);
  if (usages.length && jwk.use !== undefined && jwk.use !== use) throw domError("DataError", `JWK "use" must be "${use}".`);
  if (jwk.key_ops !== undefined) {
    if (!Array.isArray(jwk.key_ops)) throw domError("DataError", 'JWK "key_ops" must be an array.');
    for (const u of usages) if (!jwk.key_ops.includes(u)) throw domError("DataError", `JWK "key_ops" does not permit "${u}".`);
  }
  if (jwk.ext === false && extractable) throw domError("DataError", 'JWK "ext" is false but the key is to be extractable.');
}

function importSecret(format, keyData, alg, extractable, usages) {
  const name = alg.name;
  usages = checkUsages(usages, KEY_USAGES[name][0]);
  let raw;
  if (format === "raw") {
    raw = toBytes(keyData, "keyData");
  } else if (format === "jwk" && name !== "PBKDF2" && name !== "HKDF") {
    checkJwk(keyData, "oct", extractable, usages, name === "HMAC" ? "sig" : "enc");
    raw = b64uDecode(keyData.k, "k");
    if (keyData.alg !== undefined) {
      const want = name === "HMAC" ? JWK_HMAC_ALG[requireHash(alg)] : `A${raw.length * 8}${JWK_AES_SUFFIX[name]}`;
      if (keyData.alg !== want) throw domError("DataError", `JWK "alg" ${keyData.alg} does not match (expected ${want}).`);
    }
  } else {
    throw domError("NotSupportedError", `Format "${format}" is not supported for ${name} keys.`);
  }
  const algorithm = { name };
  if (name === "HMAC") {
    algorithm.hash = requireHash(alg);
    let length = raw.length * 8;
    if (length === 0) throw domError("DataError", "HMAC key data must not be empty.");
    if (alg.length !== undefined) {
      const l = Number(alg.length);
      if (!(l <= length && l > length - 8)) throw domError("DataError", "HMAC key length does not match its data.");
      length = l;
    }
    algorithm.length = length;
  } else if (name.startsWith("AES-")) {
    if (![16, 24, 32].includes(raw.length)) throw domError("DataError", "AES key data must be 128, 192 or 256 bits long.");
    algorithm.length = raw.length * 8;
  } else {
    if (extractable) throw domError("SyntaxError", `${name} keys cannot be extractable.`);
  }
  if (usages.length === 0) throw domError("SyntaxError", "Usages cannot be empty when creating a key.");
  return makeKey("secret", extractable, algorithm, usages, raw);
}

function rsaAlgorithm(alg, type, der) {
  const [bits, exponent] = ops.pkeyRsaInfo(type, der);
  return { name: alg.name, hash: requireHash(alg), modulusLength: bits, publicExponent: new Uint8Array(exponent) };
}

function importAsymmetric(format, keyData, alg, extractable, usages) {
  const name = alg.name;
  const kind = pkeyKind(name);
  const algorithm = { name };
  if (kind === "EC") {
    if (typeof alg.namedCurve !== "string") throw new TypeError(`${name}: namedCurve is required.`);
    if (!CURVES.includes(alg.namedCurve)) throw domError("NotSupportedError", `Unsupported curve "${alg.namedCurve}".`);
    algorithm.namedCurve = alg.namedCurve;
  }
  if (kind === "RSA") requireHash(alg);
  let result;
  if (format === "jwk") {
    const jwk = keyData;
    const kty = kind === "EC" ? "EC" : kind === "RSA" ? "RSA" : "OKP";
    const isPrivate = jwk !== null && typeof jwk === "object" && jwk.d !== undefined;
    const [privUsages, pubUsages] = KEY_USAGES[name];
    usages = checkUsages(usages, isPrivate ? privUsages : pubUsages);
    checkJwk(jwk, kty, extractable, usages, name === "RSA-OAEP" || name === "ECDH" || name === "X25519" ? "enc" : "sig");
    const f = [];
    if (kind === "EC") {
      if (jwk.crv !== alg.namedCurve) throw domError("DataError", 'JWK "crv" does not match the namedCurve.');
      if (name === "ECDSA" && jwk.alg !== undefined && jwk.alg !== JWK_EC_ALG[alg.namedCurve]) throw domError("DataError", 'JWK "alg" does not match the curve.');
      f.push(b64uDecode(jwk.x, "x"), b64uDecode(jwk.y, "y"), isPrivate ? b64uDecode(jwk.d, "d") : null);
    } else if (kind === "RSA") {
      const want = JWK_RSA_ALG[name][alg.hash];
      if (jwk.alg !== undefined && jwk.alg !== want) throw domError("DataError", `JWK "alg" ${jwk.alg} does not match (expected ${want}).`);
      f.push(b64uDecode(jwk.n, "n"), b64uDecode(jwk.e, "e"));
      if (isPrivate) for (const k of ["d", "p", "q", "dp", "dq", "qi"]) f.push(b64uDecode(jwk[k], k));
    } else {
      if (jwk.crv !== name) throw domError("DataError", `JWK "crv" must be "${name}".`);
      if (name === "Ed25519" && jwk.alg !== undefined && jwk.alg !== "EdDSA" && jwk.alg !== "Ed25519") throw domError("DataError", 'JWK "alg" must be "EdDSA".');
      f.push(b64uDecode(jwk.x, "x"), isPrivate ? b64uDecode(jwk.d, "d") : null);
    }
    while (f.length < 8) f.push(null);
    result = ops.pkeyImportJwk(kind, algorithm.namedCurve ?? null, ...f);
  } else if (format === "spki" || format === "pkcs8" || format === "raw") {
    if (format === "raw" && kind === "RSA") throw domError("NotSupportedError", `Format "raw" is not supported for ${name} keys.`);
    const bytes = toBytes(keyData, "keyData");
    const [privUsages, pubUsages] = KEY_USAGES[name];
    usages = checkUsages(usages, format === "pkcs8" ? privUsages : pubUsages);
    result = ops.pkeyImport(kind, algorithm.namedCurve ?? null, format, bytes);
  } else {
    throw domError("NotSupportedError", `Format "${format}" is not supported for ${name} keys.`);
  }
  const [typeCode, der] = result;
  const type = typeCode === 1 ? "private" : "public";
  if (type === "private" && usages.length === 0) throw domError("SyntaxError", "Usages cannot be empty when creating a key.");
  const full = kind === "RSA" ? rsaAlgorithm(alg, typeCode, der) : algorithm;
  return makeKey(type, extractable, full, usages, new Uint8Array(der));
}

function importKeyNow(format, keyData, algorithm, extractable, usages) {
  if (!["raw", "spki", "pkcs8", "jwk"].includes(format)) throw new TypeError(`Invalid key format "${format}".`);
  const alg = normalizeAlgorithm(algorithm, "importKey");
  extractable = Boolean(extractable);
  if (isSymmetric(alg.name)) return importSecret(format, keyData, alg, extractable, usages);
  return importAsymmetric(format, keyData, alg, extractable, usages);
}

function exportKeyNow(format, key) {
  if (!["raw", "spki", "pkcs8", "jwk"].includes(format)) throw new TypeError(`Invalid key format "${format}".`);
  const s = slot(key);
  if (!s.extractable) throw domError("InvalidAccessError", "The key is not extractable.");
  const name = s.algorithm.name;
  if (s.type === "secret") {
    if (name === "PBKDF2" || name === "HKDF") throw domError("NotSupportedError", `${name} keys cannot be exported.`);
    if (format === "raw") return bufferCopy(s.data);
    if (format !== "jwk") throw domError("NotSupportedError", `Format "${format}" is not supported for ${name} keys.`);
    const jwk = { kty: "oct", k: b64uEncode(s.data) };
    jwk.alg = name === "HMAC" ? JWK_HMAC_ALG[s.algorithm.hash] : `A${s.data.length * 8}${JWK_AES_SUFFIX[name]}`;
    jwk.key_ops = [...s.usages];
    jwk.ext = true;
    return jwk;
  }
  const kind = pkeyKind(name);
  if (format === "spki" || format === "raw") {
    if (s.type !== "public") throw domError("InvalidAccessError", `Only public keys can be exported as ${format}.`);
    if (format === "spki") return bufferCopy(s.data);
    if (kind === "RSA") throw domError("NotSupportedError", `Format "raw" is not supported for ${name} keys.`);
    return ops.pkeyExportRaw(s.data);
  }
  if (format === "pkcs8") {
    if (s.type !== "private") throw domError("InvalidAccessError", "Only private keys can be exported as pkcs8.");
    return bufferCopy(s.data);
  }
  const typeCode = s.type === "private" ? 1 : 0;
  const f = ops.pkeyExportJwk(kind, typeCode, s.data);
  let jwk;
  if (kind === "EC") {
    jwk = { kty: "EC", crv: s.algorithm.namedCurve, x: b64uEncode(f[0]), y: b64uEncode(f[1]) };
    if (f[2]) jwk.d = b64uEncode(f[2]);
  } else if (kind === "RSA") {
    jwk = { kty: "RSA", alg: JWK_RSA_ALG[name][s.algorithm.hash], n: b64uEncode(f[0]), e: b64uEncode(f[1]) };
    ["d", "p", "q", "dp", "dq", "qi"].forEach((k, i) => {
      if (f[2 + i]) jwk[k] = b64uEncode(f[2 + i]);
    });
  } else {
    jwk = { kty: "OKP", crv: name, x: b64uEncode(f[0]) };
    if (name === "Ed25519") jwk.alg = "Ed25519";
    if (f[1]) jwk.d = b64uEncode(f[1]);
  }
  jwk.key_ops = [...s.usages];
  jwk.ext = true;
  return jwk;
}

function hmacLength(alg) {
  const hash = requireHash(alg);
  if (alg.length === undefined) return HMAC_BLOCK_BITS[hash];
  const l = Number(alg.length);
  if (!(l > 0) || l % 8 !== 0) throw domError("OperationError", "HMAC key length must be a positive multiple of 8.");
  return l;
}

function aesLength(alg) {
  const l = Number(alg.length);
  if (![128, 192, 256].includes(l)) throw domError("OperationError", "AES key length must be 128, 192 or 256 bits.");
  return l;
}

function generateKeyNow(algorithm, extractable, usages) {
  const alg = normalizeAlgorithm(algorithm, "generateKey");
  const name = alg.name;
  extractable = Boolean(extractable);
  if (isSymmetric(name)) {
    const list = checkUsages(usages, KEY_USAGES[name][0]);
    const bits = name === "HMAC" ? hmacLength(alg) : aesLength(alg);
    if (list.length === 0) throw domError("SyntaxError", "Usages cannot be empty when creating a key.");
    requireHandler();
    const raw = new Uint8Array(ops.randomBytes(bits / 8));
    const a = name === "HMAC" ? { name, hash: alg.hash, length: bits } : { name, length: bits };
    return makeKey("secret", extractable, a, list, raw);
  }
  const kind = pkeyKind(name);
  const [privUsages, pubUsages] = KEY_USAGES[name];
  const list = checkUsages(usages, [...privUsages, ...pubUsages]);
  let a = { name };
  let bits = 0;
  let exponent = null;
  if (kind === "EC") {
    if (typeof alg.namedCurve !== "string") throw new TypeError(`${name}: namedCurve is required.`);
    if (!CURVES.includes(alg.namedCurve)) throw domError("NotSupportedError", `Unsupported curve "${alg.namedCurve}".`);
    a.namedCurve = alg.namedCurve;
  } else if (kind === "RSA") {
    requireHash(alg);
    bits = Number(alg.modulusLength);
    if (!Number.isInteger(bits)) throw new TypeError(`${name}: modulusLength is required.`);
    if (!(alg.publicExponent instanceof Uint8Array)) throw new TypeError(`${name}: publicExponent must be a Uint8Array.`);
    exponent = new Uint8Array(alg.publicExponent);
    a = { name, hash: alg.hash, modulusLength: bits, publicExponent: exponent };
  }
  const priv = list.filter((u) => privUsages.includes(u));
  const pub = list.filter((u) => pubUsages.includes(u));
  if (priv.length === 0) throw domError("SyntaxError", "Usages cannot be empty when creating a key.");
  const [spki, pkcs8] = ops.pkeyGenerate(kind, a.namedCurve ?? null, bits, exponent);
  if (kind === "RSA") a.publicExponent = new Uint8Array(ops.pkeyRsaInfo(0, spki)[1]);
  return {
    publicKey: makeKey("public", true, a, pub, new Uint8Array(spki)),
    privateKey: makeKey("private", extractable, a, priv, new Uint8Array(pkcs8)),
  };
}

function signatureParams(alg, s) {
  if (alg.name === "ECDSA") return [requireHash(alg), 0];
  if (alg.name === "RSA-PSS") {
    const salt = Number(alg.saltLength);
    if (!Number.isInteger(salt) || salt < 0) throw new TypeError("RSA-PSS: saltLength is required.");
    return [s.algorithm.hash, salt];
  }
  if (alg.name === "RSASSA-PKCS1-v1_5") return [s.algorithm.hash, 0];
  return [null, 0];
}

function timingSafeEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function signNow(algorithm, key, data) {
  const alg = normalizeAlgorithm(algorithm, "sign");
  const bytes = toBytes(data);
  const s = requireUsage(key, "sign", alg.name);
  if (alg.name === "HMAC") return ops.hmac(s.algorithm.hash, s.data, bytes);
  const [hash, salt] = signatureParams(alg, s);
  return ops.sign(alg.name, hash, salt, s.data, bytes);
}

function verifyNow(algorithm, key, signature, data) {
  const alg = normalizeAlgorithm(algorithm, "sign");
  const sig = toBytes(signature, "signature");
  const bytes = toBytes(data);
  const s = requireUsage(key, "verify", alg.name);
  if (alg.name === "HMAC") return timingSafeEqual(new Uint8Array(ops.hmac(s.algorithm.hash, s.data, bytes)), sig);
  const [hash, salt] = signatureParams(alg, s);
  return ops.verify(alg.name, hash, salt, s.data, sig, bytes);
}

function cipher(alg, s, bytes, encrypt) {
  switch (alg.name) {
    case "AES-GCM": {
      if (alg.iv === undefined) throw new TypeError("AES-GCM: iv is required.");
      const iv = toBytes(alg.iv, "iv");
      const aad = alg.additionalData === undefined ? null : toBytes(alg.additionalData, "additionalData");
      const tag = alg.tagLength === undefined ? 128 : Number(alg.tagLength);
      if (![32, 64, 96, 104, 112, 120, 128].includes(tag)) throw domError("OperationError", `Invalid AES-GCM tagLength ${alg.tagLength}.`);
      return ops.aes("AES-GCM", encrypt, s.data, iv, aad, tag, 0, bytes);
    }
    case "AES-CBC": {
      if (alg.iv === undefined) throw new TypeError("AES-CBC: iv is required.");
      const iv = toBytes(alg.iv, "iv");
      if (iv.length !== 16) throw domError("OperationError", "AES-CBC iv must be 16 bytes.");
      return ops.aes("AES-CBC", encrypt, s.data, iv, null, 0, 0, bytes);
    }
    case "AES-CTR": {
      if (alg.counter === undefined || alg.length === undefined) throw new TypeError("AES-CTR: counter and length are required.");
      const counter = toBytes(alg.counter, "counter");
      const length = Number(alg.length);
      if (counter.length !== 16) throw domError("OperationError", "AES-CTR counter must be 16 bytes.");
      if (!(length >= 1 && length <= 128)) throw domError("OperationError", "AES-CTR length must be between 1 and 128.");
      return ops.aes("AES-CTR", encrypt, s.data, counter, null, 0, length, bytes);
    }
    case "AES-KW":
      return ops.aesKw(encrypt, s.data, bytes);
    case "RSA-OAEP": {
      if (encrypt !== (s.type === "public")) throw domError("InvalidAccessError", "RSA-OAEP needs a public key to encrypt and a private key to decrypt.");
      const label = alg.label === undefined ? null : toBytes(alg.label, "label");
      return ops.rsaOaep(encrypt, s.algorithm.hash, s.data, label, bytes);
    }
  }
  throw domError("NotSupportedError", `${alg.name} cannot encrypt.`);
}

function deriveBitsNow(alg, s, length) {
  const name = alg.name;
  if (name === "PBKDF2" || name === "HKDF") {
    if (length === null || length === undefined || Number(length) % 8 !== 0) throw domError("OperationError", `${name}: length must be a multiple of 8.`);
    const bytes = Number(length) / 8;
    const hash = requireHash(alg);
    if (alg.salt === undefined) throw new TypeError(`${name}: salt is required.`);
    const salt = toBytes(alg.salt, "salt");
    if (name === "PBKDF2") {
      if (alg.iterations === undefined) throw new TypeError("PBKDF2: iterations is required.");
      const iterations = Number(alg.iterations);
      if (!(iterations >= 1)) throw domError("OperationError", "PBKDF2: iterations must be at least 1.");
      // As on Cloudflare: more iterations would hold the thread (and every request on it) for too long.
      if (iterations > 100000) throw domError("NotSupportedError", "PBKDF2: iteration counts above 100000 are not supported.");
      return ops.pbkdf2(hash, s.data, salt, iterations, bytes);
    }
    if (alg.info === undefined) throw new TypeError("HKDF: info is required.");
    return ops.hkdf(hash, s.data, salt, toBytes(alg.info, "info"), bytes);
  }
  // ECDH / X25519
  if (!(alg.public instanceof CryptoKey)) throw new TypeError(`${name}: public must be a CryptoKey.`);
  const peer = slot(alg.public);
  if (peer.type !== "public") throw domError("InvalidAccessError", `${name}: public must be a public key.`);
  if (peer.algorithm.name !== name) throw domError("InvalidAccessError", `${name}: the public key is for ${peer.algorithm.name}.`);
  if (name === "ECDH" && peer.algorithm.namedCurve !== s.algorithm.namedCurve) throw domError("InvalidAccessError", "ECDH: the keys are on different curves.");
  const secret = new Uint8Array(ops.deriveShared(s.data, peer.data));
  if (name === "X25519" && secret.every((b) => b === 0)) throw domError("OperationError", "X25519: the shared secret is all zeroes.");
  if (length === null || length === undefined) return bufferCopy(secret);
  const bits = Number(length);
  if (!(bits >= 0) || bits > secret.length * 8) throw domError("OperationError", `${name}: length is longer than the shared secret.`);
  const out = secret.slice(0, Math.ceil(bits / 8));
  if (bits % 8) out[out.length - 1] &= 0xff << (8 - (bits % 8));
  return bufferCopy(out);
}

function keyLength(derivedKeyType) {
  const alg = normalizeAlgorithm(derivedKeyType, "getKeyLength");
  if (alg.name === "HMAC") return hmacLength(alg);
  return aesLength(alg);
}

async function run(fn) {
  return fn();
}

export class SubtleCrypto {
  constructor(token) {
    if (token !== INTERNAL) throw new TypeError("Illegal constructor");
  }

  digest(algorithm, data) {
    return run(() => {
      const alg = normalizeAlgorithm(algorithm, "digest");
      return ops.digest(alg.name, toBytes(data));
    });
  }

  importKey(format, keyData, algorithm, extractable, keyUsages) {
    return run(() => importKeyNow(format, keyData, algorithm, extractable, keyUsages));
  }

  exportKey(format, key) {
    return run(() => exportKeyNow(format, key));
  }

  generateKey(algorithm, extractable, keyUsages) {
    return run(() => generateKeyNow(algorithm, extractable, keyUsages));
  }

  sign(algorithm, key, data) {
    return run(() => signNow(algorithm, key, data));
  }

  verify(algorithm, key, signature, data) {
    return run(() => verifyNow(algorithm, key, signature, data));
  }

  encrypt(algorithm, key, data) {
    return run(() => {
      const alg = normalizeAlgorithm(algorithm, "encrypt");
      const bytes = toBytes(data);
      return cipher(alg, requireUsage(key, "encrypt", alg.name), bytes, true);
    });
  }

  decrypt(algorithm, key, data) {
    return run(() => {
      const alg = normalizeAlgorithm(algorithm, "encrypt");
      const bytes = toBytes(data);
      return cipher(alg, requireUsage(key, "decrypt", alg.name), bytes, false);
    });
  }

  deriveBits(algorithm, baseKey, length) {
    return run(() => {
      const alg = normalizeAlgorithm(algorithm, "deriveBits");
      return deriveBitsNow(alg, requireUsage(baseKey, "deriveBits", alg.name), length);
    });
  }

  deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
    return run(() => {
      const alg = normalizeAlgorithm(algorithm, "deriveBits");
      const s = requireUsage(baseKey, "deriveKey", alg.name);
      const length = keyLength(derivedKeyType);
      const bits = deriveBitsNow(alg, s, length);
      return importKeyNow("raw", bits, derivedKeyType, extractable, keyUsages);
    });
  }

  wrapKey(format, key, wrappingKey, wrapAlgorithm) {
    return run(() => {
      const alg = normalizeAlgorithm(wrapAlgorithm, "wrapKey");
      const s = requireUsage(wrappingKey, "wrapKey", alg.name);
      const exported = exportKeyNow(format, key);
      const bytes = format === "jwk" ? new TextEncoder().encode(JSON.stringify(exported)) : new Uint8Array(exported);
      if (alg.name === "AES-KW") {
        if (bytes.length % 8 !== 0) {
          // JWK text is padded with spaces to the 8-byte blocks AES-KW needs, as workerd does.
          const padded = new Uint8Array(Math.ceil(bytes.length / 8) * 8).fill(0x20);
          padded.set(bytes);
          return ops.aesKw(true, s.data, padded);
        }
        return ops.aesKw(true, s.data, bytes);
      }
      return cipher(alg, s, bytes, true);
    });
  }

  unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
    return run(() => {
      const alg = normalizeAlgorithm(unwrapAlgorithm, "wrapKey");
      const s = requireUsage(unwrappingKey, "unwrapKey", alg.name);
      const wrapped = toBytes(wrappedKey, "wrappedKey");
      const bytes = alg.name === "AES-KW" ? ops.aesKw(false, s.data, wrapped) : cipher(alg, s, wrapped, false);
      let keyData = bytes;
      if (format === "jwk") {
        try {
          keyData = JSON.parse(new TextDecoder().decode(bytes));
        } catch {
          throw domError("DataError", "The unwrapped key is not valid JWK JSON.");
        }
      }
      return importKeyNow(format, keyData, unwrappedKeyAlgorithm, extractable, keyUsages);
    });
  }

  get [Symbol.toStringTag]() {
    return "SubtleCrypto";
  }
}

// crypto.DigestStream (a workerd extension): a WritableStream of bytes (or strings, as
// UTF-8) whose `digest` promise resolves to the hash of everything written once the stream is
// closed, and rejects if it is aborted or a chunk is not bytes. The chunks are kept until close
// and hashed in one pass: no hashing state lives in C, so nothing is left behind by a stream
// that is dropped unclosed (the cost is memory proportional to what was written). The class is
// made on first use so that touching `crypto` does not load the streams modules.
let DigestStreamClass = null;

function digestStreamClass() {
  if (DigestStreamClass) return DigestStreamClass;
  const WritableStreamBase = globalThis.WritableStream;
  const digests = new WeakMap();
  class DigestStream extends WritableStreamBase {
    constructor(algorithm) {
      const alg = normalizeAlgorithm(algorithm, "digest");
      const chunks = [];
      let resolve;
      let reject;
      const digest = new Promise((res, rej) => {
        resolve = res;
        reject = rej;
      });
      digest.catch(() => {}); // a stream nobody asks the digest of must not log a rejection
      super({
        write(chunk) {
          try {
            chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : toBytes(chunk, "chunk"));
          } catch (err) {
            reject(err);
            throw err;
          }
        },
        close() {
          const all = concatBytes(chunks);
          chunks.length = 0;
          resolve(ops.digest(alg.name, all));
        },
        abort(reason) {
          chunks.length = 0;
          reject(reason);
        },
      });
      digests.set(this, digest);
    }
    get digest() {
      const d = digests.get(this);
      if (!d) throw new TypeError("Illegal invocation");
      return d;
    }
    get [Symbol.toStringTag]() {
      return "DigestStream";
    }
  }
  DigestStreamClass = DigestStream;
  return DigestStream;
}

const subtle = new SubtleCrypto(INTERNAL);

export class Crypto {
  get subtle() {
    return subtle;
  }

  get DigestStream() {
    return digestStreamClass();
  }

  getRandomValues(array) {
    if (!INTEGER_ARRAYS.some((T) => array instanceof T)) {
      throw new DOMException(
        "The data argument must be an integer-type TypedArray",
        "TypeMismatchError",
      );
    }
    if (array.byteLength > 65536) {
      throw new DOMException(
        `The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536)`,
        "QuotaExceededError",
      );
    }
    requireHandler();
    const random = new Uint8Array(ops.randomBytes(array.byteLength));
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(random);
    return array;
  }

  randomUUID() {
    requireHandler();
    return ops.randomUUID();
  }

  get [Symbol.toStringTag]() {
    return "Crypto";
  }
}

export const crypto = new Crypto();
