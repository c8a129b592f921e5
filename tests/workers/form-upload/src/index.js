// FormData: parses multipart and urlencoded uploads and reports fields and files (names,
// sizes, types, a checksum of each file), then builds a FormData and reads it back.
async function sha256Hex(buf) {
  const d = await crypto.subtle.digest("SHA-256", buf);
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/upload" && request.method === "POST") {
      let form;
      try {
        form = await request.formData();
      } catch (e) {
        return Response.json({ error: e.name }, { status: 400 });
      }
      const fields = [];
      for (const [name, value] of form) {
        if (typeof value === "string") fields.push({ name, value });
        else {
          const buf = await value.arrayBuffer();
          fields.push({ name, file: value.name, type: value.type, size: value.size, sha256: await sha256Hex(buf), isFile: value instanceof File });
        }
      }
      return Response.json({ count: fields.length, keys: [...new Set(form.keys())], fields });
    }
    if (url.pathname === "/roundtrip") {
      // Build a FormData, serialise it through a Request, parse it back.
      const fd = new FormData();
      fd.append("title", "Ünïcödé title");
      fd.append("tags", "a");
      fd.append("tags", "b");
      fd.append("doc", new File(["hello file\n"], "hello.txt", { type: "text/plain" }));
      fd.append("raw", new Blob([new Uint8Array([0, 1, 2, 255])], { type: "application/octet-stream" }), "raw.bin");
      fd.set("title", "replaced");
      const req = new Request("http://x/", { method: "POST", body: fd });
      const back = await req.formData();
      const out = [];
      for (const [k, v] of back) out.push(typeof v === "string" ? [k, v] : [k, v.name, v.type, v.size, await v.text()]);
      return Response.json({ out, multipart: req.headers.get("content-type").startsWith("multipart/form-data; boundary=") });
    }
    return new Response("not found\n", { status: 404 });
  },
};
