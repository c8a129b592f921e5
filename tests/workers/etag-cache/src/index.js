// Content-addressed ETags with crypto.subtle.digest, conditional requests (If-None-Match with
// lists, weak comparison and *), If-Match for updates, and HEAD.
const docs = new Map([
  ["readme", "# Readme\nHello.\n"],
  ["data", JSON.stringify({ a: 1, b: [1, 2, 3] })],
]);

async function etagOf(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `"${hex.slice(0, 32)}"`;
}

function matches(header, etag) {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const key = url.pathname.slice(1);
    const doc = docs.get(key);
    if (request.method === "PUT") {
      const ifMatch = request.headers.get("if-match");
      if (doc !== undefined && ifMatch && !matches(ifMatch, await etagOf(doc))) return new Response("precondition failed\n", { status: 412 });
      const text = await request.text();
      docs.set(key, text);
      return new Response(null, { status: doc === undefined ? 201 : 204, headers: { etag: await etagOf(text) } });
    }
    if (doc === undefined) return new Response("not found\n", { status: 404 });
    const etag = await etagOf(doc);
    const headers = { etag, "cache-control": "max-age=60, must-revalidate", "content-type": key === "data" ? "application/json" : "text/markdown; charset=utf-8" };
    if (matches(request.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers });
    const sha1 = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(doc));
    headers["x-sha1-bytes"] = String(sha1.byteLength);
    headers["x-md5"] = [...new Uint8Array(await crypto.subtle.digest("MD5", new TextEncoder().encode(doc)))].map((b) => b.toString(16).padStart(2, "0")).join("");
    return new Response(doc, { headers });
  },
};
