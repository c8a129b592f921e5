// Error handling: errors a Worker catches and turns into responses (400/500 with JSON), and
// errors it lets escape (thrown synchronously, rejected promises, bad return values), which
// both runtimes answer with a 500 page of their own (only the status is compared).
class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.name = "HttpError";
    this.status = status;
  }
}

async function handle(request) {
  const url = new URL(request.url);
  switch (url.pathname) {
    case "/ok":
      return new Response("fine\n");
    case "/http-error":
      throw new HttpError(Number(url.searchParams.get("status") ?? "418"), "handled by the wrapper");
    case "/type-error":
      return null.property;
    case "/json":
      return Response.json(JSON.parse(await request.text()));
    default:
      throw new HttpError(404, `no route ${url.pathname}`);
  }
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    // Unhandled paths: the runtime's own error response.
    if (url.pathname === "/throw") throw new Error("boom");
    if (url.pathname === "/reject") return Promise.reject(new TypeError("rejected"));
    if (url.pathname === "/not-a-response") return { status: 200 };
    if (url.pathname === "/undefined") return undefined;
    if (url.pathname === "/bad-status") return new Response("x", { status: 99 });
    if (url.pathname === "/stream-error") {
      // The body fails after its first chunk: both runtimes have sent the status by then and cut
      // the body short. (A stream that fails before any chunk differs: hearth sends 200 and an
      // empty, cut-short body; workerd resets the connection without a response.)
      let sent = false;
      return new Response(
        new ReadableStream({
          async pull(c) {
            if (!sent) {
              sent = true;
              c.enqueue(new TextEncoder().encode("partial output\n"));
              return;
            }
            await scheduler.wait(10);
            c.error(new Error("stream broke"));
          },
        }),
      );
    }
    try {
      return await handle(request);
    } catch (e) {
      const status = e instanceof HttpError ? e.status : e instanceof SyntaxError ? 400 : 500;
      return Response.json({ error: e.name, message: e instanceof HttpError || e instanceof SyntaxError ? e.message.split(":")[0] : "internal" }, { status });
    }
  },
};
