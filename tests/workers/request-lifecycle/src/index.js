// The request/response life cycle: ctx.waitUntil work that finishes after the response (seen
// by the next request), Request/Response clone and bodyUsed, new Request(request, init)
// overrides, the order of microtasks, timers and stream callbacks, and an EventTarget bus.
const stats = { hits: 0, background: 0, log: [] };

class Bus extends EventTarget {
  emit(type, detail) {
    return this.dispatchEvent(new CustomEvent(type, { detail, cancelable: true }));
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    stats.hits++;
    if (url.pathname === "/track") {
      const id = url.searchParams.get("id");
      ctx.waitUntil(
        (async () => {
          await scheduler.wait(5);
          stats.background++;
          stats.log.push(id);
        })(),
      );
      return new Response(`tracked ${id}\n`);
    }
    if (url.pathname === "/stats") {
      // The background work of earlier requests has finished by now.
      await scheduler.wait(20);
      return Response.json({ background: stats.background, log: stats.log });
    }
    if (url.pathname === "/clone") {
      const copy = request.clone();
      // Constructing a Request from another takes its body: use a clone of its own.
      const modified = new Request(request.clone(), { method: "PUT", headers: { "x-override": "yes" } });
      const [a, b] = await Promise.all([request.text(), copy.text()]);
      let again;
      try {
        await request.text();
        again = "read twice";
      } catch (e) {
        again = e.name;
      }
      const res = new Response("response body", { status: 201, statusText: "Made", headers: { "x-a": "1" } });
      const resCopy = res.clone();
      let reuse;
      try {
        new Request(request);
        reuse = "allowed";
      } catch (e) {
        reuse = e.name;
      }
      return Response.json({
        reuse,
        same: a === b,
        length: a.length,
        bodyUsed: [request.bodyUsed, copy.bodyUsed],
        again,
        response: { status: resCopy.status, statusText: resCopy.statusText, text: await resCopy.text(), original: await res.text() },
        modified: { method: modified.method, url: modified.url, override: modified.headers.get("x-override"), kept: modified.headers.get("x-keep"), body: await modified.text() },
      });
    }
    if (url.pathname === "/order") {
      // (The stream's first pull is not raced against other microtasks here: per the Streams
      // Standard it runs in a reaction to the start promise, after microtasks queued before the
      // stream was made — hearth and Node do that — but workerd pulls before them.)
      const order = [];
      const rs = new ReadableStream({
        start() {
          order.push("stream start");
        },
        pull(c) {
          order.push("stream pull");
          c.enqueue("x");
          c.close();
        },
      });
      order.push("stream made");
      const { value } = await rs.getReader().read();
      order.push(`read ${value}`);
      setTimeout(() => order.push("timeout 0"), 0);
      setTimeout(() => order.push("timeout 1"), 1);
      queueMicrotask(() => order.push("microtask"));
      Promise.resolve().then(() => order.push("promise"));
      order.push("sync");
      await null;
      order.push("after await");
      await scheduler.wait(10);
      order.push("after wait");
      return Response.json(order);
    }
    if (url.pathname === "/bus") {
      const bus = new Bus();
      const seen = [];
      bus.addEventListener("order", (e) => seen.push(`first:${e.detail.id}`));
      bus.addEventListener("order", (e) => {
        seen.push(`second:${e.detail.id}`);
        if (e.detail.id === 2) e.preventDefault();
      });
      bus.addEventListener("order", { handleEvent: (e) => seen.push(`object:${e.detail.id}:${e.eventPhase}`) }, { once: true });
      const results = [1, 2, 3].map((id) => bus.emit("order", { id }));
      const controller = new AbortController();
      bus.addEventListener("order", () => seen.push("removed?"), { signal: controller.signal });
      controller.abort();
      bus.emit("order", { id: 4 });
      return Response.json({ seen, results });
    }
    if (url.pathname === "/hits") return Response.json({ hits: stats.hits });
    return new Response("not found\n", { status: 404 });
  },
};
