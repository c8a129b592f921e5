/* websocket_ops — server-side WebSockets for the runtime (src/runtime/websocket.js): a fetch
 * handler's `new Response(null, { status: 101, webSocket })` upgrades the request's connection
 * (ws_accept) and ties the C ws_conn to the server end of the WebSocketPair. */
#ifndef HEARTH_PLATFORM_WEBSOCKET_OPS_H
#define HEARTH_PLATFORM_WEBSOCKET_OPS_H

void websocket_ops_register(void);

#endif
