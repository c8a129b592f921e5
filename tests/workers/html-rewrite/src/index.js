// Streaming HTML rewrite: a page generated in small chunks (tags split across chunks) goes
// through a TransformStream that rewrites text without buffering the whole document.
const PAGE = `<!doctype html>
<html><head><title>{{title}}</title></head>
<body>
<h1>Welcome to {{title}}</h1>
<a href="http://example.com/a">a</a> <a href="http://example.com/b?x=1&amp;y=2">b</a>
<p>Unsafe: {{user}}</p>
<img src="http://cdn.example.com/logo.png" alt="logo">
</body></html>
`;

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// Rewrites complete lines only, carrying a partial line over to the next chunk.
function lineRewriter(rewrite) {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let carry = "";
  return new TransformStream({
    transform(chunk, controller) {
      carry += decoder.decode(chunk, { stream: true });
      const cut = carry.lastIndexOf("\n");
      if (cut < 0) return;
      controller.enqueue(encoder.encode(rewrite(carry.slice(0, cut + 1))));
      carry = carry.slice(cut + 1);
    },
    flush(controller) {
      carry += decoder.decode();
      if (carry) controller.enqueue(encoder.encode(rewrite(carry)));
    },
  });
}

function chunked(text, size) {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const user = url.searchParams.get("user") ?? "anonymous";
    const size = Number(url.searchParams.get("chunk") ?? "7");
    const rewrite = (text) =>
      text
        .replaceAll("{{title}}", escapeHtml(env.SITE_NAME))
        .replaceAll("{{user}}", escapeHtml(user))
        .replace(/(href|src)="http:\/\//g, '$1="https://');
    const body = chunked(PAGE, size).pipeThrough(lineRewriter(rewrite));
    return new Response(body, { headers: { "content-type": "text/html; charset=utf-8" } });
  },
};
