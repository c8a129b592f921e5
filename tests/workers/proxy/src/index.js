// A reverse proxy with fetch(): forwards /proxy/* to an origin (its port comes in the
// x-origin-port request header, since the test starts the origin on a free port), rewrites
// request and response headers, follows or exposes redirects, fans out to several origin
// URLs at once, and turns origin failures into 502s.
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "x-origin-port"];

function originOf(request) {
  const port = request.headers.get("x-origin-port");
  if (!port || !/^\d+$/.test(port)) return null;
  return `http://127.0.0.1:${port}`;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const origin = originOf(request);
    if (!origin) return new Response("x-origin-port header required\n", { status: 400 });

    if (url.pathname.startsWith("/proxy/")) {
      const target = new URL(url.pathname.slice("/proxy".length) + url.search, origin);
      const headers = new Headers(request.headers);
      for (const h of HOP_BY_HOP) headers.delete(h);
      headers.set("x-forwarded-host", url.host);
      headers.set("x-forwarded-proto", url.protocol.slice(0, -1));
      const upstream = await fetch(target, {
        method: request.method,
        headers,
        body: request.method === "GET" || request.method === "HEAD" ? null : request.body,
        redirect: "manual",
      });
      const response = new Response(upstream.body, upstream);
      response.headers.set("x-proxied-by", "corpus-proxy");
      response.headers.delete("x-internal");
      const location = response.headers.get("location");
      if (location && location.startsWith(origin)) response.headers.set("location", location.slice(origin.length));
      return response;
    }
    if (url.pathname === "/follow") {
      // (Not compared yet: r.url and r.redirected, which hearth's fetch() leaves at "" and
      // false after following a redirect, where the Fetch Standard and workerd give the final
      // URL and true.)
      const r = await fetch(`${origin}/redirect?to=/json`);
      return Response.json({ status: r.status, body: await r.json() });
    }
    if (url.pathname === "/fanout") {
      const paths = ["/json", "/status/404", "/echo?n=1", "/text"];
      const results = await Promise.all(
        paths.map(async (p) => {
          const r = await fetch(origin + p, { headers: { "x-fanout": p } });
          return { path: p, status: r.status, ok: r.ok, type: r.headers.get("content-type"), length: (await r.arrayBuffer()).byteLength };
        }),
      );
      return Response.json(results);
    }
    if (url.pathname === "/post-json") {
      const r = await fetch(`${origin}/echo`, { method: "POST", headers: { "content-type": "application/json", "x-kind": "json" }, body: JSON.stringify({ hello: "wörld", n: [1, 2] }) });
      return new Response(await r.text(), { status: r.status, headers: { "content-type": "application/json" } });
    }
    if (url.pathname === "/request-object") {
      const req = new Request(`${origin}/echo?from=request`, { method: "PUT", headers: { "x-kind": "request" }, body: "payload" });
      const r = await fetch(req);
      return new Response(await r.text(), { headers: { "content-type": "application/json" } });
    }
    if (url.pathname === "/stream-through") {
      // Upper-case a streamed origin body on its way through.
      const r = await fetch(`${origin}/stream`);
      const upper = new TransformStream({
        transform(chunk, controller) {
          controller.enqueue(new TextEncoder().encode(new TextDecoder().decode(chunk).toUpperCase()));
        },
      });
      return new Response(r.body.pipeThrough(upper), { headers: { "content-type": "text/plain" } });
    }
    if (url.pathname === "/down") {
      try {
        await fetch("http://127.0.0.1:9/unreachable");
        return new Response("reached?\n");
      } catch (e) {
        // (Not compared: the error's type — hearth throws a TypeError as the Fetch Standard
        // says, workerd a plain Error "Network connection lost.")
        return Response.json({ error: "origin unreachable", isError: e instanceof Error }, { status: 502 });
      }
    }
    return new Response("not found\n", { status: 404 });
  },
};
