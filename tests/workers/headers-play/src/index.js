// Headers manipulation: several Set-Cookie headers (getSetCookie), append combining values,
// case-insensitivity, sorted iteration, copying request headers, and a CORS preflight.
const ALLOWED_ORIGINS = ["https://app.example.com", "https://admin.example.com"];

function cors(request, headers) {
  const origin = request.headers.get("origin");
  if (origin && ALLOWED_ORIGINS.includes(origin)) {
    headers.set("access-control-allow-origin", origin);
    headers.append("vary", "Origin");
    headers.set("access-control-allow-credentials", "true");
  }
  return headers;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === "OPTIONS") {
      const h = cors(request, new Headers());
      h.set("access-control-allow-methods", "GET, POST, DELETE");
      h.set("access-control-allow-headers", request.headers.get("access-control-request-headers") ?? "");
      h.set("access-control-max-age", "600");
      return new Response(null, { status: 204, headers: h });
    }
    if (url.pathname === "/login") {
      const h = new Headers({ "content-type": "text/plain" });
      h.append("Set-Cookie", "session=abc123; Path=/; HttpOnly; Secure; SameSite=Lax");
      h.append("set-cookie", "theme=dark; Path=/; Max-Age=31536000");
      h.append("SET-COOKIE", "expires=yes; Expires=Wed, 21 Oct 2015 07:28:00 GMT");
      return new Response(`cookies: ${h.getSetCookie().length}\n${h.get("set-cookie")}\n`, { headers: h });
    }
    if (url.pathname === "/combine") {
      const h = new Headers();
      h.append("X-List", "a");
      h.append("x-list", "b");
      h.append("X-LIST", " c ");
      h.set("x-single", "one");
      h.set("X-Single", "two");
      h.append("cache-control", "no-cache");
      h.append("cache-control", "no-store");
      h.delete("x-removed");
      const seen = [];
      for (const [k, v] of h) seen.push(`${k}=${v}`);
      h.set("x-seen", seen.join(" | "));
      return new Response(null, { status: 204, headers: h });
    }
    if (url.pathname === "/echo") {
      // Echo selected request headers back, sorted, as the body.
      const out = {};
      for (const [k, v] of request.headers) if (k.startsWith("x-")) out[k] = v;
      const h = cors(request, new Headers({ "content-type": "application/json" }));
      h.set("x-count", String(Object.keys(out).length));
      return new Response(JSON.stringify(out), { headers: h });
    }
    if (url.pathname === "/invalid") {
      const errors = [];
      // (An empty name and "x-é" are left out: the Fetch Standard rejects both, as hearth
      // does, but workerd accepts them.)
      for (const [k, v] of [["bad name", "x"], ["x-ok", "line\nbreak"], ["x(y)", "v"], ["x-ok", "nul\0byte"]]) {
        try {
          new Headers([[k, v]]);
          errors.push("accepted");
        } catch (e) {
          errors.push(e.name);
        }
      }
      const trimmed = new Headers({ "x-pad": "  padded\t " }).get("x-pad");
      return Response.json({ errors, trimmed });
    }
    if (url.pathname === "/immutable") {
      try {
        request.headers.set("x-new", "1");
        return new Response("mutable\n");
      } catch (e) {
        return new Response(`${e.name}\n`);
      }
    }
    return new Response("not found\n", { status: 404 });
  },
};
