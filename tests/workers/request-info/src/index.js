// Describes the incoming request as a Worker sees it: method, URL (as the runtime built it from
// the request target and Host), selected headers (combined values), body as text, bytes or
// JSON; and builds responses with unusual statuses, statusText and null bodies.
// Left out, as hearth and workerd differ there (see the differential test's report):
// request.redirect of an incoming request (workerd "manual", as Cloudflare documents; hearth
// "follow"), dot segments in the request target (workerd keeps them in request.url, hearth
// removes them), raw non-ASCII bytes in the target (workerd 400, hearth U+FFFD), and
// new Response("", { status: 204 }) (workerd allows it, hearth throws as the Fetch Standard says).
const SHOWN = ["content-type", "accept", "accept-language", "x-dup", "x-empty", "cookie", "content-length", "transfer-encoding"];

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/status/")) {
      const status = Number(url.pathname.slice(8));
      const init = { status, statusText: url.searchParams.get("text") ?? undefined, headers: { "x-status": String(status) } };
      try {
        return new Response([101, 204, 205, 304].includes(status) ? null : `status ${status}\n`, init);
      } catch (e) {
        return new Response(`${e.name}\n`, { status: 400 });
      }
    }
    if (url.pathname === "/null-body-status") {
      const out = {};
      for (const s of [204, 205, 304]) {
        try {
          new Response("body", { status: s });
          out[s] = "allowed";
        } catch (e) {
          out[s] = e.name;
        }
      }
      return Response.json(out);
    }
    const headers = {};
    for (const name of SHOWN) if (request.headers.has(name)) headers[name] = request.headers.get(name);
    const bytes = new Uint8Array(await request.arrayBuffer());
    let json = null;
    if ((request.headers.get("content-type") ?? "").includes("json")) {
      try {
        json = JSON.parse(new TextDecoder().decode(bytes));
      } catch (e) {
        json = e.name;
      }
    }
    return Response.json({
      method: request.method,
      url: request.url,
      pathname: url.pathname,
      search: url.search,
      params: [...url.searchParams],
      headers,
      bodyLength: bytes.length,
      bodyText: new TextDecoder().decode(bytes.subarray(0, 80)),
      json,
      hasBody: request.body !== null,
      keys: [...request.headers.keys()].filter((k) => k.startsWith("x-")),
    });
  },
};
