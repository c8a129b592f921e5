// Blob and File: building from mixed parts, slicing (negative and out-of-range bounds,
// content types), Range requests served from a Blob, and streams of Blobs.
const enc = new TextEncoder();
const DATA = new Blob(["0123456789", enc.encode("abcdefghij"), new Blob(["ÀÉÎÕÜ"])], { type: "text/plain" });

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/slices") {
      const cases = [[0, 5], [5], [-5], [-3, -1], [8, 12], [25, 100], [10, 5], [undefined, undefined, "Application/X-Thing"], [0, 30, "bad\u0001type"]];
      const out = [];
      for (const [start, end, type] of cases) {
        const b = DATA.slice(start, end, type);
        out.push({ start, end, type: b.type, size: b.size, text: await b.text() });
      }
      return Response.json({ size: DATA.size, type: DATA.type, out });
    }
    if (url.pathname === "/file") {
      const f = new File(["a", "bc", new Uint8Array([100, 101])], "letters.txt", { type: "TEXT/PLAIN", lastModified: 1700000000000 });
      const bytes = await f.slice(1, 4).bytes?.() ?? new Uint8Array(await f.slice(1, 4).arrayBuffer());
      return Response.json({ name: f.name, type: f.type, size: f.size, lastModified: f.lastModified, slice: [...bytes], isBlob: f instanceof Blob });
    }
    if (url.pathname === "/range") {
      // A tiny Range implementation over a Blob (single byte ranges only).
      const range = request.headers.get("range");
      const m = range && /^bytes=(\d*)-(\d*)$/.exec(range);
      if (!range) return new Response(DATA, { headers: { "accept-ranges": "bytes" } });
      if (!m || (m[1] === "" && m[2] === "")) return new Response("bad range\n", { status: 416, headers: { "content-range": `bytes */${DATA.size}` } });
      let start = m[1] === "" ? DATA.size - Number(m[2]) : Number(m[1]);
      let end = m[1] === "" ? DATA.size - 1 : m[2] === "" ? DATA.size - 1 : Math.min(Number(m[2]), DATA.size - 1);
      start = Math.max(0, start);
      if (start > end || start >= DATA.size) return new Response("unsatisfiable\n", { status: 416, headers: { "content-range": `bytes */${DATA.size}` } });
      const part = DATA.slice(start, end + 1);
      return new Response(part, { status: 206, headers: { "content-range": `bytes ${start}-${end}/${DATA.size}`, "content-type": "application/octet-stream" } });
    }
    if (url.pathname === "/stream") {
      const blob = new Blob(Array.from({ length: 50 }, (_, i) => `part ${i};`));
      let chunks = 0;
      let text = "";
      const dec = new TextDecoder();
      for await (const c of blob.stream()) {
        chunks++;
        text += dec.decode(c, { stream: true });
      }
      return Response.json({ size: blob.size, textLength: text.length, last: text.slice(-9) });
    }
    if (url.pathname === "/concat") {
      const body = await request.blob();
      const joined = new Blob([body, "|", body.slice(0, 3), "|", await body.arrayBuffer()]);
      return new Response(joined, { headers: { "content-type": "application/octet-stream", "x-in-type": body.type } });
    }
    return new Response("not found\n", { status: 404 });
  },
};
