// A small hand-written router: method + path patterns with :params and a * tail.
class Router {
  routes = [];
  on(method, pattern, handler) {
    const keys = [];
    const source = pattern
      .split("/")
      .map((part) => {
        if (part.startsWith(":")) {
          keys.push(part.slice(1));
          return "([^/]+)";
        }
        if (part === "*") {
          keys.push("rest");
          return "(.*)";
        }
        return part.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/");
    this.routes.push({ method, re: new RegExp(`^${source}/?$`), keys, handler });
    return this;
  }
  async handle(request, env, ctx) {
    const url = new URL(request.url);
    const allowed = [];
    for (const r of this.routes) {
      const m = r.re.exec(url.pathname);
      if (!m) continue;
      if (r.method !== request.method && !(r.method === "GET" && request.method === "HEAD")) {
        allowed.push(r.method);
        continue;
      }
      const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
      return r.handler({ request, url, params, env, ctx });
    }
    if (allowed.length) return new Response("method not allowed\n", { status: 405, headers: { allow: [...new Set(allowed)].join(", ") } });
    return new Response(`no route for ${url.pathname}\n`, { status: 404 });
  }
}

const router = new Router()
  .on("GET", "/", () => new Response("home\n"))
  .on("GET", "/users/:id", ({ params }) => Response.json({ user: params.id }))
  .on("GET", "/users/:id/posts/:post", ({ params }) => Response.json(params))
  .on("DELETE", "/users/:id", ({ params }) => new Response(null, { status: 204, headers: { "x-deleted": params.id } }))
  .on("GET", "/files/*", ({ params, url }) => Response.json({ path: params.rest, query: url.search }))
  .on("POST", "/echo/:kind", async ({ request, params }) =>
    new Response(`${params.kind}:${await request.text()}`, { headers: { "content-type": "text/plain; charset=utf-8" } }),
  );

export default {
  fetch: (request, env, ctx) => router.handle(request, env, ctx),
};
