// URL and URLSearchParams manipulation: canonicalising redirects, query sorting and
// filtering, relative resolution, and Response.redirect with several statuses.
const TRACKING = /^(utm_|fbclid$|gclid$)/;

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/go") {
      const to = url.searchParams.get("to");
      if (!to || !URL.canParse(to, url)) return new Response("bad target\n", { status: 400 });
      const target = new URL(to, url);
      if (target.protocol !== "https:" && target.protocol !== "http:") return new Response("bad scheme\n", { status: 400 });
      const status = Number(url.searchParams.get("status") ?? "302");
      try {
        return Response.redirect(target.href, status);
      } catch (e) {
        return new Response(`${e.name}\n`, { status: 400 });
      }
    }
    if (url.pathname.toLowerCase().startsWith("/clean")) {
      // Drop tracking parameters, sort the rest, lower-case the path, redirect if changed.
      const clean = new URL(url);
      for (const key of [...clean.searchParams.keys()]) if (TRACKING.test(key)) clean.searchParams.delete(key);
      clean.searchParams.sort();
      clean.pathname = clean.pathname.toLowerCase().replace(/\/+$/, "") || "/";
      clean.host = env.CANONICAL_HOST;
      clean.protocol = "https:";
      if (clean.href === url.href) return new Response("canonical\n");
      return Response.redirect(clean.href, 301);
    }
    if (url.pathname === "/parse") {
      const input = url.searchParams.get("u") ?? "";
      const base = url.searchParams.get("base") ?? undefined;
      const u = URL.parse(input, base);
      if (!u) return Response.json({ input, valid: false });
      return Response.json({
        input,
        valid: true,
        href: u.href,
        origin: u.origin,
        protocol: u.protocol,
        username: u.username,
        host: u.host,
        hostname: u.hostname,
        port: u.port,
        pathname: u.pathname,
        search: u.search,
        hash: u.hash,
        params: [...u.searchParams],
      });
    }
    if (url.pathname === "/params") {
      const p = new URLSearchParams(await request.text());
      p.append("added", "a b&c=d");
      p.set("single", "1");
      const out = { entries: [...p], size: p.size, all: p.getAll("k"), has: p.has("k", "2"), string: p.toString() };
      p.delete("k", "2");
      out.afterDelete = p.toString();
      return Response.json(out);
    }
    return new Response("not found\n", { status: 404 });
  },
};
