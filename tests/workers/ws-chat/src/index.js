// WebSocket chat without Durable Objects: one isolate keeps the members (their accepted server
// sockets) in module state and broadcasts each message to all of them.
//
// On workerd (and Cloudflare) a WebSocket belongs to the request that accepted it: calling
// send() on it from another request's event handler throws "Cannot perform I/O on behalf of a
// different request". So a broadcast only queues the text for each member, and every member's
// own request moves its queue to its socket (a timer loop that runs in that request).
const members = new Set();
const stats = { joins: 0, messages: 0, bytes: 0 };

function broadcast(text, except) {
  for (const m of members) if (m !== except) m.queue.push(text);
}

function join(name, server) {
  const me = { name, queue: [], open: true };
  const pump = () => {
    while (me.queue.length) {
      const item = me.queue.shift();
      if (item && item.close) {
        me.open = false;
        server.close(item.close, item.reason);
        return;
      }
      server.send(item);
    }
    if (me.open) setTimeout(pump, 2);
  };
  broadcast(`* ${name} joined`);
  members.add(me);
  stats.joins++;
  me.queue.push(`* welcome ${name}, ${members.size} here`);
  pump();

  server.addEventListener("message", (event) => {
    if (typeof event.data !== "string") {
      const bytes = new Uint8Array(event.data);
      stats.bytes += bytes.length;
      // Binary: answer the sender with the bytes reversed; tell the others the size.
      me.queue.push(bytes.slice().reverse().buffer);
      broadcast(`* ${name} sent ${bytes.length} bytes`, me);
      return;
    }
    stats.messages++;
    const text = event.data;
    if (text === "/who") {
      me.queue.push(`* here: ${[...members].map((m) => m.name).sort().join(", ")}`);
    } else if (text === "/quit") {
      members.delete(me);
      broadcast(`* ${name} was asked to leave`);
      me.queue.push({ close: 4000, reason: `bye ${name}` });
    } else if (text.startsWith("/me ")) {
      broadcast(`* ${name} ${text.slice(4)}`);
    } else {
      broadcast(`${name}: ${text}`);
    }
  });
  server.addEventListener("close", (event) => {
    // Completes the closing handshake where the runtime does not answer by itself (without
    // web_socket_auto_reply_to_close); with it, as here, this does nothing.
    server.close(1000, "see you");
    if (!members.delete(me)) return;
    me.open = false;
    broadcast(`* ${name} left (${event.code}${event.reason ? ` ${event.reason}` : ""})`);
  });
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/stats") return Response.json(stats);
    if (url.pathname !== "/chat") return new Response("not found\n", { status: 404 });
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("this is a WebSocket endpoint\n", { status: 426, headers: { upgrade: "websocket" } });
    }
    const name = url.searchParams.get("name");
    if (!name || !/^[\p{L}\p{N}_-]{1,16}$/u.test(name)) return new Response("a name, please\n", { status: 400 });
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    join(name, server);
    return new Response(null, { status: 101, webSocket: client, headers: { "x-chat-name": name } });
  },
};
