// The callee of rpc-caller's service binding: a WorkerEntrypoint whose methods return plain
// objects, Maps, Dates, arrays, values structured clone keeps, and thrown errors; its fetch()
// is also reached directly.
import { WorkerEntrypoint } from "cloudflare:workers";

class ValidationError extends Error {
  constructor(message) {
    super(message);
    this.name = "ValidationError";
  }
}

const USERS = [
  { id: 1, name: "Ada", roles: ["admin", "dev"], joined: "2021-03-04T05:06:07.000Z" },
  { id: 2, name: "Brendan", roles: ["dev"], joined: "2022-11-30T23:59:59.000Z" },
  { id: 3, name: "Çelik", roles: [], joined: "2024-02-29T12:00:00.000Z" },
];
let calls = 0;

export default class extends WorkerEntrypoint {
  async fetch(request) {
    const url = new URL(request.url);
    const body = request.method === "POST" ? await request.text() : null;
    return Response.json(
      { via: "fetch", method: request.method, path: url.pathname, query: url.search, tag: request.headers.get("x-tag"), body, greeting: this.env.GREETING },
      { status: url.pathname === "/missing" ? 404 : 200, headers: { "x-callee": "yes" } },
    );
  }

  greet(name) {
    calls++;
    return `${this.env.GREETING}, ${name}!`;
  }

  async user(id) {
    calls++;
    await scheduler.wait(1);
    const u = USERS.find((x) => x.id === id);
    if (!u) throw new RangeError(`no user ${id}`);
    return { ...u, address: { city: "Zürich", zip: null }, score: 0.1 + 0.2 };
  }

  wordCounts(text) {
    calls++;
    const m = new Map();
    for (const w of text.toLowerCase().split(/\W+/).filter(Boolean)) m.set(w, (m.get(w) ?? 0) + 1);
    return m;
  }

  joined(id) {
    calls++;
    return new Date(USERS.find((x) => x.id === id).joined);
  }

  range(from, to, step = 1) {
    calls++;
    const out = [];
    for (let i = from; i < to; i += step) out.push(i);
    return out;
  }

  // What arguments arrive as: their types and values, echoed back.
  inspect(...args) {
    calls++;
    return args.map((a) => ({
      type: a === null ? "null" : typeof a,
      kind: Object.prototype.toString.call(a),
      value: a,
    }));
  }

  fail(kind) {
    calls++;
    if (kind === "type") throw new TypeError("expected a string");
    if (kind === "range") throw new RangeError("too many");
    if (kind === "async") return Promise.reject(new SyntaxError("bad syntax, later"));
    if (kind === "custom") throw new ValidationError("name is required");
    if (kind === "renamed") {
      const e = new Error("no such thing");
      e.name = "NotFound";
      throw e;
    }
    if (kind === "string") throw "a bare string";
    return "did not fail";
  }

  // Values that only a real structured clone carries: a Map keyed by objects, one object
  // reachable twice, a cycle.
  graph() {
    calls++;
    const ada = { name: "Ada" };
    const bob = { name: "Bob" };
    const follows = new Map([[ada, [bob]], [bob, [ada]]]);
    const root = { people: [ada, bob], owner: ada, follows, sets: new Set([ada]) };
    root.self = root;
    return root;
  }

  // A stream in, a stream out: upper-cased as it arrives.
  shout(stream) {
    calls++;
    const dec = new TextDecoder();
    const enc = new TextEncoder();
    return stream.pipeThrough(
      new TransformStream({
        transform(chunk, c) {
          c.enqueue(enc.encode(dec.decode(chunk, { stream: true }).toUpperCase()));
        },
      }),
    );
  }

  async lengths({ parts, label }) {
    calls++;
    const out = [];
    for (const part of parts) out.push((await new Response(part).arrayBuffer()).byteLength);
    return { label, out };
  }

  async writeWords({ into }, words) {
    calls++;
    const writer = into.getWriter();
    const enc = new TextEncoder();
    for (const word of words) await writer.write(enc.encode(word + ";"));
    await writer.close();
    return words.length;
  }

  async answer({ request }) {
    calls++;
    const body = request.body === null ? "(none)" : await request.text();
    return new Response(`${request.method} ${new URL(request.url).pathname}: ${body}`, {
      status: 203,
      statusText: "Answered",
      headers: { "x-echoed": request.headers.get("x-tag") ?? "-" },
    });
  }

  count() {
    return calls;
  }
}
