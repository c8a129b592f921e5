// Generates responses with ReadableStreams: pull-based with a count, push-based from
// start() with awaits between chunks, a byte stream, and a tee'd stream.
function numbers(count, width) {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i === count) return controller.close();
      controller.enqueue(new TextEncoder().encode(`${String(i).padStart(width, "0")}\n`));
      i++;
    },
  });
}

function ticker(n) {
  return new ReadableStream({
    async start(controller) {
      for (let i = 0; i < n; i++) {
        await new Promise((r) => setTimeout(r, 2));
        controller.enqueue(new TextEncoder().encode(`tick ${i}\n`));
      }
      controller.close();
    },
  });
}

function bytes(total) {
  let sent = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const n = Math.min(1000, total - sent);
      const chunk = new Uint8Array(n);
      for (let k = 0; k < n; k++) chunk[k] = (sent + k) % 251;
      controller.enqueue(chunk);
      sent += n;
      if (sent === total) controller.close();
    },
  });
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "10");
    switch (url.pathname) {
      case "/numbers":
        return new Response(numbers(n, 6), { headers: { "content-type": "text/plain" } });
      case "/ticker":
        return new Response(ticker(n), { headers: { "content-type": "text/plain" } });
      case "/bytes":
        return new Response(bytes(n), { headers: { "content-type": "application/octet-stream" } });
      case "/tee": {
        const [a, b] = numbers(n, 3).tee();
        const [left, right] = await Promise.all([new Response(a).text(), new Response(b).arrayBuffer()]);
        return Response.json({ left: left.split("\n").length, rightBytes: right.byteLength, same: left === new TextDecoder().decode(right) });
      }
      case "/iterate": {
        let lines = 0;
        let total = 0;
        for await (const chunk of numbers(n, 4)) {
          lines++;
          total += chunk.byteLength;
        }
        return Response.json({ lines, total });
      }
      case "/fixed": {
        const { readable, writable } = new FixedLengthStream(11);
        const writer = writable.getWriter();
        writer.write(new TextEncoder().encode("hello "));
        writer.write(new TextEncoder().encode("world"));
        writer.close();
        return new Response(readable);
      }
      default:
        return new Response("not found\n", { status: 404 });
    }
  },
};
