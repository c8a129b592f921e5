// A Worker split over several modules: relative imports between JavaScript modules, a Text
// module (.txt), a Data module (.bin, an ArrayBuffer), a JSON module, a lazily loaded module
// via import(), and [vars] of every type (strings become text, the rest JSON values).
import { render } from "./lib/template.js";
import { slugify, VERSION } from "./lib/util.js";
import template from "./data/page.txt";
import logo from "./data/logo.bin";
import catalog from "./data/catalog.json";

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/":
        return new Response(render(template, { greeting: env.GREETING, version: VERSION, count: catalog.items.length }), {
          headers: { "content-type": "text/plain; charset=utf-8" },
        });
      case "/logo":
        return new Response(logo, { headers: { "content-type": "application/octet-stream", "x-type": Object.prototype.toString.call(logo) } });
      case "/catalog": {
        const items = catalog.items.slice(0, env.MAX_ITEMS).map((it) => ({ ...it, slug: slugify(it.name) }));
        return Response.json({ title: catalog.title, items });
      }
      case "/env":
        return Response.json(
          Object.fromEntries(Object.keys(env).sort().map((k) => [k, { type: Array.isArray(env[k]) ? "array" : typeof env[k], value: env[k] }])),
        );
      case "/lazy": {
        const { heavy } = await import("./lib/lazy.js");
        return Response.json({ result: heavy(Number(url.searchParams.get("n") ?? "10")) });
      }
      default:
        return new Response("not found\n", { status: 404 });
    }
  },
};
