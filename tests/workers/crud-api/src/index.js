// A JSON CRUD API over an in-memory Map (state lives as long as the isolate).
const items = new Map();
let nextId = 1;

const json = (data, status = 200, headers = {}) => Response.json(data, { status, headers });
const problem = (status, detail) => json({ error: detail }, status);

function validate(body) {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "body must be an object";
  if (typeof body.title !== "string" || body.title.length === 0) return "title is required";
  if (body.tags !== undefined && !(Array.isArray(body.tags) && body.tags.every((t) => typeof t === "string"))) return "tags must be strings";
  return null;
}

async function readJson(request) {
  if (!(request.headers.get("content-type") ?? "").startsWith("application/json")) return [null, problem(415, "expected application/json")];
  try {
    return [await request.json(), null];
  } catch (e) {
    return [null, problem(400, `invalid JSON (${e.name})`)];
  }
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const m = /^\/items(?:\/(\d+))?$/.exec(url.pathname);
    if (!m) return problem(404, "not found");
    const id = m[1] && Number(m[1]);
    if (!id) {
      if (request.method === "GET") {
        const tag = url.searchParams.get("tag");
        const list = [...items.values()].filter((it) => !tag || it.tags.includes(tag));
        return json({ count: list.length, items: list });
      }
      if (request.method === "POST") {
        const [body, err] = await readJson(request);
        if (err) return err;
        const bad = validate(body);
        if (bad) return problem(422, bad);
        const item = { id: nextId++, title: body.title, tags: body.tags ?? [], done: false };
        items.set(item.id, item);
        return json(item, 201, { location: `/items/${item.id}` });
      }
      return problem(405, "method not allowed");
    }
    const item = items.get(id);
    if (!item) return problem(404, `no item ${id}`);
    switch (request.method) {
      case "GET":
        return json(item);
      case "PATCH": {
        const [body, err] = await readJson(request);
        if (err) return err;
        const merged = { ...item, ...body, id };
        const bad = validate(merged);
        if (bad) return problem(422, bad);
        items.set(id, merged);
        return json(merged);
      }
      case "DELETE":
        items.delete(id);
        return new Response(null, { status: 204 });
      default:
        return problem(405, "method not allowed");
    }
  },
};
