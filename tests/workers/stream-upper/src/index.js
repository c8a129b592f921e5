// Streams the request body back through a TransformStream that upper-cases it, decoding and
// re-encoding text across chunk boundaries.
function upperCaser() {
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let bytes = 0;
  return new TransformStream({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      const text = decoder.decode(chunk, { stream: true });
      if (text) controller.enqueue(encoder.encode(text.toUpperCase()));
    },
    flush(controller) {
      const rest = decoder.decode();
      controller.enqueue(encoder.encode(rest.toUpperCase() + `\n[${bytes} bytes]\n`));
    },
  });
}

export default {
  async fetch(request) {
    if (request.method !== "POST" || !request.body) return new Response("POST a body\n", { status: 400 });
    const url = new URL(request.url);
    if (url.pathname === "/buffered") {
      const text = await request.text();
      return new Response(text.toUpperCase(), { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    return new Response(request.body.pipeThrough(upperCaser()), {
      headers: { "content-type": "text/plain; charset=utf-8", "x-streamed": "yes" },
    });
  },
};
