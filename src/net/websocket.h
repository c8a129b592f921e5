/* websocket — RFC 6455 on a libuv stream, framed by wslay: the server side, and (with
 * ws_options.client, after websocket_connect.c made the handshake) the client side.
 *
 * A connection starts as an HTTP request (src/net/http_server.h). Whoever handles the request
 * (the control thread, a shard) may accept it as a WebSocket with ws_accept, which checks the
 * handshake, answers 101 and takes the connection over from the HTTP server
 * (http_request_detach). From then on:
 *
 *   - received messages (text or binary, fragments reassembled) go to on_message; text is
 *     valid UTF-8 (else the connection is closed with 1007), no message is larger than
 *     max_message_bytes (else 1009); frames that break the protocol close it with 1002;
 *     pings are answered with pongs by wslay;
 *   - ws_send_* queues a message and returns false instead of queueing when more than
 *     max_buffered_bytes would be waiting (wslay's queue plus the socket's). A slow client
 *     never slows the producer, and memory stays bounded: callers drop and count (or pause
 *     until on_drain says there is room again). Reading pauses while the queue is over the
 *     limit, so a client that floods pings without reading the pongs cannot grow it either;
 *   - ws_close starts the close handshake: the close frame goes out after what is queued, the
 *     peer's close frame is awaited for close_timeout_ms, then the TCP connection is closed.
 *     When the peer closes first, the reply goes out at once and messages still queued are
 *     dropped;
 *   - on_close is called exactly once, when the connection is over, with the code that ended
 *     it: the one this side sent if it started the close (including 1002/1007/1009 and 1001
 *     for idle timeouts and server shutdown), else the peer's (1005 if its close frame had no
 *     code), else 1006 (the connection dropped without a close frame). The ws_conn must not be
 *     used once on_close returned; it is freed when its handles are closed. If the loop is
 *     ended by closing every handle (uv_walk) first, on_close runs from http_server_free;
 *   - ping_interval_ms sends a ping that often; idle_timeout_ms closes (1001 "idle timeout") a
 *     connection that received nothing (not even a pong) for that long.
 *   - http_server_shutdown closes every WebSocket of the server with 1001 "going away"; the
 *     loop ends once their close handshakes are done (or timed out).
 *
 * Threads: a ws_conn belongs to the thread running the loop of the HTTP server that accepted
 * it. Every function here, and every callback, runs on that thread only. Other threads hand
 * their data to it (e.g. with uv_async) and must never call ws_send themselves.
 *
 * Not supported: extensions (permessage-deflate is not negotiated), TLS on the server side (a
 * proxy in front terminates it; outbound connections get TLS from websocket_connect.c). */
#ifndef HEARTH_NET_WEBSOCKET_H
#define HEARTH_NET_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/http_server.h"

typedef struct ws_conn ws_conn;

typedef enum ws_opcode {
    WS_TEXT = 1,
    WS_BINARY = 2,
} ws_opcode;

/* Close codes (RFC 6455 §7.4.1) used here. */
#define WS_CLOSE_NORMAL         1000
#define WS_CLOSE_GOING_AWAY     1001
#define WS_CLOSE_PROTOCOL_ERROR 1002
#define WS_CLOSE_NO_STATUS      1005 /* never sent: the peer's close frame had no code */
#define WS_CLOSE_ABNORMAL       1006 /* never sent: the connection dropped without a close */
#define WS_CLOSE_INVALID_DATA   1007
#define WS_CLOSE_POLICY         1008
#define WS_CLOSE_TOO_BIG        1009
#define WS_CLOSE_INTERNAL_ERROR 1011

typedef struct ws_callbacks {
    /* A whole message. data is only valid during the call. */
    void (*on_message)(ws_conn *ws, ws_opcode op, const uint8_t *data, size_t len);
    /* The connection is over (see above for `code`); reason is the close frame's (may be
     * empty, not NUL-terminated). Called exactly once. */
    void (*on_close)(ws_conn *ws, int code, const char *reason, size_t reason_len);
    /* Optional: the queue was more than half full (or a send was refused for lack of room)
     * and is now at most half of max_buffered_bytes. */
    void (*on_drain)(ws_conn *ws);
} ws_callbacks;

typedef struct ws_options {
    size_t max_message_bytes;  /* largest message received; default 1 MiB → close 1009 */
    size_t max_buffered_bytes; /* outgoing bytes waiting at most; default 4 MiB */
    uint64_t ping_interval_ms; /* 0 (default): no pings */
    uint64_t idle_timeout_ms;  /* 0 (default): none; checked every ping interval (or 1/4 of it) */
    uint64_t close_timeout_ms; /* wait for the peer's close frame; default 5 s */
    /* Subprotocols this side speaks, comma-separated (NULL: none). The first one the client
     * offers that is in this list is selected (ws_protocol). */
    const char *subprotocols;
    /* Extra "name: value\r\n" lines for the 101 response (NULL: none). */
    const char *response_headers;
    /* This side is the client (ws_open_stream after an outbound handshake): frames it sends
     * are masked, frames it receives must not be. */
    bool client;
} ws_options;

void ws_options_defaults(ws_options *opt);

/* True if req asks for a WebSocket (an Upgrade header naming "websocket"), so the handler can
 * route it to ws_accept. */
bool ws_is_upgrade_request(const http_request *req);

/* Accepts req as a WebSocket. Always answers the request: on success with 101 (then the
 * connection is the returned ws_conn's), else with 400 (malformed handshake), 426 (not an
 * upgrade, or a version other than 13) or 503 (the connection cannot be taken over), a
 * plain-text body saying why, and NULL with the same message in err. opt may be NULL for the
 * defaults; the strings in it are copied. */
ws_conn *ws_accept(http_request *req, const ws_callbacks *cb, void *user, const ws_options *opt,
                   char *err, size_t errlen);

/* Runs the protocol on a stream whose handshake is already done (outbound connections,
 * tests, fuzzing, other transports). stream is an initialized uv_tcp_t or uv_pipe_t allocated with
 * malloc; the ws_conn owns it from now on, and closes and frees it. `leftover` holds bytes already
 * read from it. */
ws_conn *ws_open_stream(uv_stream_t *stream, const void *leftover, size_t leftover_len,
                        const ws_callbacks *cb, void *user, const ws_options *opt);

/* Queue a message. False (nothing queued) if the connection is closing or closed, or if the
 * message does not fit in max_buffered_bytes now (it never will if it is larger). */
bool ws_send_text(ws_conn *ws, const char *data, size_t len);
bool ws_send_binary(ws_conn *ws, const void *data, size_t len);
/* Starts the close handshake with code (1000-1003, 1007-1011 or 3000-4999; any other is
 * sent as 1000) and reason (cut to 123 bytes, at a UTF-8 boundary). Messages queued before
 * go out first. Does nothing if a close already started. */
void ws_close(ws_conn *ws, int code, const char *reason);
/* Outgoing bytes waiting: queued messages plus what the socket has not taken yet. */
size_t ws_buffered_bytes(const ws_conn *ws);
/* Sends refused for lack of room since the connection opened. */
uint64_t ws_refused_sends(const ws_conn *ws);
bool ws_is_open(const ws_conn *ws); /* false once a close started */
void *ws_user(const ws_conn *ws);
void ws_set_user(ws_conn *ws, void *user);
const char *ws_protocol(const ws_conn *ws); /* the selected subprotocol, or "" */
const char *ws_peer(const ws_conn *ws);     /* the client's address, "ip" */

/* ---- handshake helpers (also used by the client) ----------------------------------------- */

#define WS_ACCEPT_LEN 28 /* base64 of a SHA-1 */

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + RFC 6455 GUID)). out gets
 * WS_ACCEPT_LEN characters and a NUL. */
void ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN + 1]);
/* True if key is the base64 of exactly 16 bytes (24 characters ending in "=="). */
bool ws_key_valid(const char *key, size_t len);
/* True if a comma-separated header value holds token (case-insensitive, whitespace around
 * elements ignored). */
bool ws_header_has_token(const char *value, size_t len, const char *token);
/* The first protocol of `offered` (the client's comma-separated list) that `supported` (ours)
 * holds, copied to out; false if none. */
bool ws_select_protocol(const char *offered, size_t offered_len, const char *supported, char *out,
                        size_t outlen);

/* wslay's genmask callback for client contexts: masking keys from OpenSSL's RNG. */
struct wslay_event_context;
int ws_genmask_cb(struct wslay_event_context *ctx, uint8_t *out, size_t len, void *user);

#endif
