// JWT HS256: signs tokens with crypto.subtle HMAC (a fixed clock from the request, so the
// output is deterministic) and verifies them (signature with subtle.verify, algorithm,
// expiry, issuer), plus raw HMAC checks over SHA-1/384/512.
const enc = new TextEncoder();
const dec = new TextDecoder();

function b64url(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s) {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

function hmacKey(secret, hash = "SHA-256", usages = ["sign", "verify"]) {
  return crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash }, false, usages);
}

async function sign(payload, secret) {
  const header = b64url(enc.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const body = b64url(enc.encode(JSON.stringify(payload)));
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), enc.encode(`${header}.${body}`));
  return `${header}.${body}.${b64url(new Uint8Array(sig))}`;
}

async function verify(token, secret, now, issuer) {
  const parts = token.split(".");
  if (parts.length !== 3) return { valid: false, reason: "malformed" };
  let header, payload;
  try {
    header = JSON.parse(dec.decode(fromB64url(parts[0])));
    payload = JSON.parse(dec.decode(fromB64url(parts[1])));
  } catch {
    return { valid: false, reason: "undecodable" };
  }
  if (header.alg !== "HS256") return { valid: false, reason: `alg ${header.alg}` };
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), fromB64url(parts[2]), enc.encode(`${parts[0]}.${parts[1]}`));
  if (!ok) return { valid: false, reason: "signature" };
  if (typeof payload.exp === "number" && payload.exp <= now) return { valid: false, reason: "expired" };
  if (payload.iss !== issuer) return { valid: false, reason: "issuer" };
  return { valid: true, payload };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const now = Number(request.headers.get("x-now") ?? "1700000000");
    if (url.pathname === "/token" && request.method === "POST") {
      const { sub, ttl = 3600, scope = [] } = await request.json();
      const token = await sign({ iss: env.ISSUER, sub, scope, iat: now, exp: now + ttl }, env.JWT_SECRET);
      return Response.json({ token });
    }
    if (url.pathname === "/me") {
      const auth = request.headers.get("authorization") ?? "";
      const m = /^Bearer (.+)$/.exec(auth);
      if (!m) return Response.json({ error: "missing token" }, { status: 401, headers: { "www-authenticate": 'Bearer realm="corpus"' } });
      const result = await verify(m[1], env.JWT_SECRET, now, env.ISSUER);
      if (!result.valid) return Response.json({ error: result.reason }, { status: 401, headers: { "www-authenticate": 'Bearer error="invalid_token"' } });
      return Response.json({ sub: result.payload.sub, scope: result.payload.scope });
    }
    if (url.pathname === "/hmac") {
      const data = enc.encode(await request.text());
      const out = {};
      for (const hash of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
        const sig = await crypto.subtle.sign("HMAC", await hmacKey("k", hash), data);
        out[hash] = [...new Uint8Array(sig)].map((b) => b.toString(16).padStart(2, "0")).join("");
      }
      const key = await hmacKey("k", "SHA-256", ["sign"]);
      out.algorithm = { name: key.algorithm.name, hash: key.algorithm.hash.name, length: key.algorithm.length };
      out.type = key.type;
      out.extractable = key.extractable;
      out.usages = key.usages;
      try {
        await crypto.subtle.verify("HMAC", key, new Uint8Array(32), data);
        out.wrongUsage = "allowed";
      } catch (e) {
        out.wrongUsage = e.name;
      }
      return Response.json(out);
    }
    return new Response("not found\n", { status: 404 });
  },
};
