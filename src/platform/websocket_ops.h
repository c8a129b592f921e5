/* websocket_ops — WebSockets for the runtime (src/runtime/websocket.js): a fetch handler's
 * `new Response(null, { status: 101, webSocket })` upgrades the request's connection
 * (ws_accept) and ties the C ws_conn to the server end of the WebSocketPair; fetch() with
 * `Upgrade: websocket` and `new WebSocket(url)` connect out (websocket_connect.c). */
#ifndef HEARTH_PLATFORM_WEBSOCKET_OPS_H
#define HEARTH_PLATFORM_WEBSOCKET_OPS_H

#include <stdbool.h>

#include "platform/shard.h"

void websocket_ops_register(void);

/* The invocation is being freed: its sockets are closed now (1011 if its realm was reset,
 * else 1001) and forgotten; connections still being made are abandoned. */
void websocket_ops_end_invocation(shard *sh, const invocation *inv);

/* True while the invocation has an outbound WebSocket open (or opening): it is not over yet. */
bool websocket_ops_keeps_alive(const invocation *inv);

#endif
