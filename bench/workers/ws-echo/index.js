// (j) WebSocket echo: accepts a WebSocket and sends every message back as it came. A request
// that is no upgrade gets a short text (the benchmark's readiness probe). The same file runs
// on hearth and on workerd.
export default {
  fetch(request) {
    if (request.headers.get("upgrade") !== "websocket") return new Response("ws-echo\n");
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (event) => server.send(event.data));
    return new Response(null, { status: 101, webSocket: client });
  },
};
