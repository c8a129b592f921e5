// structuredClone of nested data: Maps, Sets, Dates, RegExps, typed arrays sharing a buffer,
// cycles, errors, transfer, and what cannot be cloned.
function describe(v, seen = new Map()) {
  if (v === null || typeof v !== "object") return typeof v === "bigint" ? `${v}n` : v === undefined ? "undefined" : v;
  if (seen.has(v)) return `<cycle ${seen.get(v)}>`;
  seen.set(v, seen.size);
  if (v instanceof Date) return { Date: v.toISOString() };
  if (v instanceof RegExp) return { RegExp: String(v) };
  if (v instanceof Map) return { Map: [...v].map(([k, x]) => [describe(k, seen), describe(x, seen)]) };
  if (v instanceof Set) return { Set: [...v].map((x) => describe(x, seen)) };
  if (ArrayBuffer.isView(v)) return { [v.constructor.name]: [...new Uint8Array(v.buffer, v.byteOffset, v.byteLength)], offset: v.byteOffset };
  if (v instanceof ArrayBuffer) return { ArrayBuffer: v.byteLength };
  if (v instanceof Error) return { Error: v.name, message: v.message, proto: Object.getPrototypeOf(v).constructor.name };
  if (Array.isArray(v)) return v.map((x) => describe(x, seen));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, describe(x, seen)]));
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/nested") {
      const buf = new ArrayBuffer(8);
      const a = new Uint8Array(buf, 0, 4).fill(7);
      const b = new Uint16Array(buf, 4, 2);
      b[0] = 513;
      const data = {
        n: 1.5, neg0: -0, big: 12345678901234567890n, s: "ünï", u: undefined, nil: null, bool: true,
        date: new Date(Date.UTC(2024, 8, 23, 12, 0, 0)),
        re: /ab+c/gi,
        map: new Map([["k", { deep: [1, 2, { deeper: true }] }], [1, "one"]]),
        set: new Set(["x", 2, "x"]),
        views: [a, b],
        sparse: [1, , 3],
        boxed: [new String("s"), new Number(3)],
        err: new RangeError("out of range"),
      };
      data.self = data;
      data.map.set("back", data.map);
      const copy = structuredClone(data);
      return Response.json({
        described: describe(copy),
        identity: copy !== data && copy.self === copy && copy.map.get("back") === copy.map,
        sharedBuffer: copy.views[0].buffer === copy.views[1].buffer,
        negZero: Object.is(copy.neg0, -0),
        sparseHole: !(1 in copy.sparse),
        lastIndex: copy.re.lastIndex,
      });
    }
    if (url.pathname === "/body") {
      const input = await request.json();
      const copy = structuredClone(input);
      copy.added = true;
      return Response.json({ input, copy, equal: JSON.stringify(input) === JSON.stringify({ ...copy, added: undefined }) });
    }
    if (url.pathname === "/transfer") {
      const u8 = new Uint8Array([1, 2, 3, 4]);
      const moved = structuredClone({ u8 }, { transfer: [u8.buffer] });
      return Response.json({ before: u8.byteLength, after: [...moved.u8], detached: u8.buffer.byteLength === 0 });
    }
    if (url.pathname === "/uncloneable") {
      const out = {};
      for (const [label, v] of [["function", () => 1], ["symbol", Symbol("s")], ["weakmap", new WeakMap()], ["promise", Promise.resolve()], ["request", new Request("http://x/")]]) {
        try {
          structuredClone(v);
          out[label] = "cloned";
        } catch (e) {
          out[label] = e.name;
        }
      }
      const withMethod = structuredClone({ x: 1, f: undefined, get g() { return 2; } });
      out.getter = withMethod.g;
      class Point { constructor() { this.x = 1; } }
      out.classLost = structuredClone(new Point()) instanceof Point;
      return Response.json(out);
    }
    return new Response("not found\n", { status: 404 });
  },
};
