/* websocket_connect — outbound WebSockets on a libuv loop, without blocking it: name
 * resolution (uv_getaddrinfo), TCP, TLS for wss:// (tls_stream.c), the HTTP/1.1 upgrade
 * handshake (websocket_handshake.c, the response parsed by http-parser), then the connection
 * runs as a client-side ws_conn (websocket.c) — the same code as the server side.
 *
 * Exactly one of on_open, on_response and on_error is called, from the loop (never inside
 * ws_connect_start), unless ws_connect_abort came first; the ws_connect is freed after it.
 *
 * Over TLS, the ws_conn runs on one end of a socketpair and a relay moves bytes between the
 * other end and the TLS connection (so the framing code does not need to know about TLS). */
#ifndef HEARTH_NET_WEBSOCKET_CONNECT_H
#define HEARTH_NET_WEBSOCKET_CONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/websocket.h"

typedef struct ws_connect ws_connect;

typedef struct ws_connect_options {
    bool tls;
    const char *host;         /* a DNS name or an IP literal (IPv6 without brackets) */
    int port;                 /* 1-65535 */
    const char *host_header;  /* the Host header's value */
    const char *target;       /* path and query, e.g. "/chat?room=1" ("" is "/") */
    const char *header_lines; /* extra request header lines "Name: value\r\n", or NULL */
    const char *protocols;    /* subprotocols offered, comma-separated, or NULL */
    const char *ca_file;      /* extra trust for TLS (PEM), or NULL */
    uint64_t timeout_ms;      /* connecting and the handshake; 0: 30 s */
    size_t max_body_bytes;    /* of a non-101 response's body; 0: 1 MiB (more: on_error) */
    /* For the connection once open (opt may be NULL for the defaults; `client` is implied). */
    const ws_options *ws_opt;
    const ws_callbacks *ws_cb;
    void *ws_user;
} ws_connect_options;

typedef struct ws_connect_callbacks {
    /* The server's 101 checked out; ws now runs the connection. `protocol` is the selected
     * subprotocol ("" if none); header_lines are the 101's "Name: value\r\n" lines. */
    void (*on_open)(void *ud, ws_conn *ws, const char *protocol, const char *header_lines,
                    size_t lines_len);
    /* The server answered with another status: its whole response. */
    void (*on_response)(void *ud, int status, const char *reason, const char *header_lines,
                        size_t lines_len, const uint8_t *body, size_t body_len);
    /* No WebSocket: resolution, connection, TLS or handshake failed (why, in a sentence). */
    void (*on_error)(void *ud, const char *message);
} ws_connect_callbacks;

ws_connect *ws_connect_start(uv_loop_t *loop, const ws_connect_options *o,
                             const ws_connect_callbacks *cb, void *ud);
/* Stops a connection attempt; no callback runs for it afterwards. */
void ws_connect_abort(ws_connect *c);

#endif
