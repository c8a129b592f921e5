// RPC over a service binding: calls methods of rpc-callee's WorkerEntrypoint and reports what
// came back (types, values, identities, thrown errors), and forwards requests to its fetch().
function describe(v) {
  if (v instanceof Map) return { Map: [...v].map(([k, x]) => [describe(k), describe(x)]) };
  if (v instanceof Set) return { Set: [...v].map(describe) };
  if (v instanceof Date) return { Date: v.toISOString() };
  if (Array.isArray(v)) return v.map(describe);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, describe(x)]));
  if (typeof v === "bigint") return `${v}n`;
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  if (Object.is(v, -0)) return "-0";
  if (v === undefined) return "undefined";
  return v;
}

async function caught(promise) {
  try {
    return { value: describe(await promise) };
  } catch (e) {
    return { threw: e instanceof Error, type: typeof e, name: e?.name, message: e?.message, isTypeError: e instanceof TypeError, isRangeError: e instanceof RangeError };
  }
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const U = env.USERS;
    switch (url.pathname) {
      case "/greet":
        return Response.json({ greeting: await U.greet(url.searchParams.get("name") ?? "world") });
      case "/user": {
        const u = await U.user(Number(url.searchParams.get("id")));
        return Response.json({ user: u, proto: Object.getPrototypeOf(u) === Object.prototype, keys: Object.keys(u) });
      }
      case "/user-missing":
        return Response.json(await caught(U.user(99)));
      case "/words": {
        const m = await U.wordCounts(await request.text());
        return Response.json({ isMap: m instanceof Map, size: m.size, entries: [...m], the: m.get("the") ?? 0 });
      }
      case "/date": {
        const d = await U.joined(Number(url.searchParams.get("id")));
        return Response.json({ isDate: d instanceof Date, iso: d.toISOString(), ms: d.getTime() });
      }
      case "/range": {
        const a = await U.range(...JSON.parse(url.searchParams.get("args")));
        return Response.json({ isArray: Array.isArray(a), length: a.length, sum: a.reduce((x, y) => x + y, 0), a });
      }
      case "/inspect": {
        const out = await U.inspect("text", 42, -0, NaN, Infinity, null, undefined, true, 123n, [1, [2, [3]]], { a: { b: "c" } }, new Set(["s"]), new Map([["k", 1]]), new Date(0), /x+/g, new Uint8Array([1, 2, 255]));
        return Response.json(out.map((r) => ({ type: r.type, kind: r.kind, value: describe(r.value) })));
      }
      case "/errors": {
        const out = {};
        for (const kind of ["type", "range", "async", "none"]) out[kind] = await caught(U.fail(kind));
        return Response.json(out);
      }
      case "/unknown-method":
        return Response.json(await caught(U.noSuchMethod(1)));
      case "/fetch": {
        const r = await U.fetch("https://callee.internal/items?page=2", { method: "POST", headers: { "x-tag": "from-caller" }, body: "payload ✓" });
        return new Response(await r.text(), { status: r.status, headers: { "content-type": r.headers.get("content-type"), "x-callee": r.headers.get("x-callee") ?? "none" } });
      }
      case "/fetch-request": {
        const r = await U.fetch(new Request("https://callee.internal/missing", { headers: { "x-tag": "req" } }));
        return Response.json({ status: r.status, ok: r.ok, body: await r.json() });
      }
      case "/forward":
        return U.fetch(request);
      case "/parallel": {
        const names = ["a", "b", "c", "d"];
        const all = await Promise.all(names.map((n) => U.greet(n)));
        return Response.json({ all, count: await U.count() > 0 });
      }
      // Separate: needs a structured clone with identities (hearth's tagged-JSON RPC copies
      // shared objects and refuses cycles).
      case "/graph": {
        let g;
        try {
          g = await U.graph();
        } catch (e) {
          return Response.json({ threw: e.name, message: e.message });
        }
        const [ada, bob] = g.people;
        return Response.json({
          sharedKept: g.owner === ada,
          cycleKept: g.self === g,
          mapKeyIsSameObject: g.follows.get(ada)?.[0] === bob,
          setHoldsSame: g.sets.has(ada),
          names: [...g.follows.keys()].map((k) => k.name),
        });
      }
      // Separate too: what a custom error class, a renamed Error and a thrown non-Error become.
      case "/errors-custom": {
        const out = {};
        for (const kind of url.searchParams.get("kinds").split(",")) out[kind] = await caught(U.fail(kind));
        return Response.json(out);
      }
      // ReadableStreams as an argument (also nested) and as a result, streamed both ways; the
      // caller's request body goes to the callee through RPC and comes back upper-cased.
      case "/streams": {
        const enc = new TextEncoder();
        const one = (t) => new ReadableStream({ start(c) { c.enqueue(enc.encode(t)); c.close(); } });
        const shouted = await U.shout(request.body ?? one("(no body)"));
        const nested = await U.lengths({ parts: [one("abc"), one("defgh")], label: "two" });
        const broken = new ReadableStream({ pull(c) { c.error(new RangeError("source broke")); } });
        return Response.json({
          shouted: shouted instanceof ReadableStream ? await new Response(shouted).text() : typeof shouted,
          nested,
          broken: await caught(U.lengths({ parts: [broken], label: "broken" })),
        });
      }
      // A WritableStream as an argument: the callee writes into it, the caller reads what
      // arrives on the other side of its TransformStream.
      case "/writable": {
        const { readable, writable } = new TransformStream();
        const [wrote, text] = await Promise.all([U.writeWords({ into: writable }, ["alpha", "beta", "gamma"]), new Response(readable).text()]);
        return Response.json({ wrote, text });
      }
      // A Request (the incoming one, with its body) as an argument, a Response as the result.
      case "/request-response": {
        const res = await U.answer({ request });
        return Response.json({
          isResponse: res instanceof Response,
          status: res.status,
          statusText: res.statusText,
          echoed: res.headers.get("x-echoed"),
          body: await res.text(),
        });
      }
    }
    return new Response("not found\n", { status: 404 });
  },
};
