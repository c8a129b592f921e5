// Cookie-based sessions: parses the Cookie header, signs session data with HMAC-SHA256
// (crypto.subtle sign/verify, constant-time by the runtime), sets and clears cookies with
// several Set-Cookie headers, and answers per-session counters.
const enc = new TextEncoder();

function parseCookies(header) {
  const out = {};
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !(name in out)) out[name] = decodeURIComponent(part.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1"));
  }
  return out;
}

const toHex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const fromHex = (s) => new Uint8Array(s.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);

async function key(secret) {
  return crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

async function seal(data, secret) {
  const value = btoa(JSON.stringify(data));
  return `${value}.${toHex(await crypto.subtle.sign("HMAC", await key(secret), enc.encode(value)))}`;
}

async function unseal(cookie, secret) {
  const dot = cookie?.lastIndexOf(".") ?? -1;
  if (dot < 0) return null;
  const value = cookie.slice(0, dot);
  const mac = cookie.slice(dot + 1);
  if (!/^[0-9a-f]{64}$/.test(mac)) return null;
  if (!(await crypto.subtle.verify("HMAC", await key(secret), fromHex(mac), enc.encode(value)))) return null;
  try {
    return JSON.parse(atob(value));
  } catch {
    return null;
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const cookies = parseCookies(request.headers.get("cookie"));
    const session = await unseal(cookies.sid, env.SESSION_KEY);
    if (url.pathname === "/login") {
      const user = url.searchParams.get("user") ?? "guest";
      const headers = new Headers({ "content-type": "text/plain; charset=utf-8" });
      headers.append("set-cookie", `sid=${await seal({ user, visits: 0 }, env.SESSION_KEY)}; Path=/; HttpOnly; SameSite=Strict`);
      headers.append("set-cookie", `user=${encodeURIComponent(user)}; Path=/`);
      return new Response(`hello ${user}\n`, { headers });
    }
    if (url.pathname === "/visit") {
      if (!session) return new Response("no valid session\n", { status: 401 });
      const next = { ...session, visits: session.visits + 1 };
      return new Response(JSON.stringify(next), {
        headers: { "content-type": "application/json", "set-cookie": `sid=${await seal(next, env.SESSION_KEY)}; Path=/; HttpOnly; SameSite=Strict` },
      });
    }
    if (url.pathname === "/logout") {
      const headers = new Headers();
      for (const name of Object.keys(cookies).sort()) headers.append("set-cookie", `${name}=; Path=/; Max-Age=0`);
      return new Response(null, { status: 204, headers });
    }
    if (url.pathname === "/cookies") return Response.json({ cookies, session });
    return new Response("not found\n", { status: 404 });
  },
};
