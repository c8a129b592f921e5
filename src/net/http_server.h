/* http_server — HTTP/1.1 over libuv with http-parser.
 *
 * One server per loop thread, on a listening socket of its own (SO_REUSEPORT spreads
 * connections across threads). A connection handles one request at a time: when a request is
 * complete the parser pauses, so pipelined requests wait in the input buffer and their
 * responses go out in order. Limits: header section (431), body (413), time to receive a
 * request (408), keep-alive idle time (close).
 *
 * The request callback owns the request until it calls http_respond exactly once. If the
 * client goes away first, http_respond still must be called (it then only releases the
 * request), so the owner never races the connection's lifetime. */
#ifndef HEARTH_NET_HTTP_SERVER_H
#define HEARTH_NET_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"

typedef struct http_server http_server;
typedef struct http_conn http_conn;

typedef struct http_request {
    http_conn *conn;
    uint64_t id;     /* unique per process */
    char method[24]; /* "GET", ... */
    buf target;      /* request-target as sent: "/path?query" */
    buf headers;     /* "Name: value\r\n" per field line, names as sent, values trimmed */
    buf host;        /* the Host header */
    buf body;        /* the whole body (chunked bodies are decoded) */
    unsigned header_count;
    bool is_head;
    bool keep_alive;
    uint64_t start_ns; /* monotonic clock when its first byte arrived */
    char peer[64];     /* client address, "ip" */
    uint64_t owner;    /* free for the request's owner to use */
    /* HTTP/1.<minor>: 0 or 1 */
    uint8_t http_minor;
} http_request;

typedef struct http_server_config {
    size_t max_header_bytes;     /* default 128 KiB → 431 */
    size_t max_body_bytes;       /* default 100 MiB → 413 */
    uint64_t request_timeout_ms; /* receive a whole request once started; default 30 s → 408 */
    uint64_t idle_timeout_ms;    /* keep-alive idle; default 60 s → close */
} http_server_config;

void http_server_config_defaults(http_server_config *cfg);

typedef void (*http_request_cb)(void *ud, http_request *req);

/* Serves on an already-listening socket fd (the server takes it over). */
http_server *http_server_new(uv_loop_t *loop, int fd, const http_server_config *cfg,
                             http_request_cb on_request, void *ud);
/* Stops accepting and closes idle connections; busy ones close after their response. */
void http_server_shutdown(http_server *srv);
/* Number of requests being handled right now. */
size_t http_server_busy(const http_server *srv);
/* Frees the server once every connection is closed; call after the loop finished. */
void http_server_free(http_server *srv);

/* Sends the response and releases the request. reason is the status line's reason phrase
 * (NULL or "" for the standard one). header_lines holds preformatted
 * "name: value\r\n" lines; content-length, date and connection are added here (any such
 * line in header_lines is the caller's mistake, not filtered). */
void http_respond(http_request *req, int status, const char *reason, const char *header_lines,
                  size_t header_len, const void *body, size_t body_len);
/* A response whose body is produced over time. start sends the head: with content_length >= 0
 * the body must be exactly that long; with -1 it is sent chunked (or, to an HTTP/1.0 client,
 * delimited by closing the connection). write returns the bytes queued and not yet sent (the
 * caller should wait for the drain callback when that grows large), or -1 when the client is
 * gone. end completes the response and releases the request; abort closes the connection
 * (the head is out, so the client learns of the failure by the truncated body). */
void http_respond_start(http_request *req, int status, const char *reason, const char *header_lines,
                        size_t header_len, int64_t content_length);
int64_t http_respond_write(http_request *req, const void *data, size_t len);
void http_respond_end(http_request *req);
void http_respond_abort(http_request *req);

/* Bytes of queued output below which a streaming response is told to continue. */
#define HTTP_DRAIN_LOW_WATER (64 * 1024)
typedef void (*http_drain_cb)(void *ud, http_request *req);
/* Calls cb once, when the response's queued output falls to HTTP_DRAIN_LOW_WATER (or at once
 * if it already has, or if the client is gone). */
void http_respond_on_drain(http_request *req, http_drain_cb cb, void *ud);

/* The value of the first field named `name` (lowercase) among req's headers, or NULL. Points
 * into req->headers; not NUL-terminated. */
const char *http_request_header(const http_request *req, const char *name, size_t *len);

/* True once the client closed the connection (a response would go nowhere). */
bool http_request_client_gone(const http_request *req);

const char *http_status_reason(int status);

/* ---- taking a connection over (protocol upgrades such as WebSocket) ----------------------
 *
 * http_request_detach ends HTTP on req's connection and hands its stream to the caller, who
 * then speaks another protocol on it (src/net/websocket.c). It is called instead of
 * http_respond, while the caller owns req; req is released by it (do not use it afterwards).
 * HTTP stops at once: nothing more is parsed, the connection's timers are stopped, and it no
 * longer counts in http_server_busy (graceful shutdown does not wait for it). Bytes that
 * arrived after the request head are appended to `leftover` (they belong to the new
 * protocol). Output queued on the stream before (earlier responses) still goes out first.
 *
 * The stream is then the caller's to read and write (its `data` is free to use), but its
 * memory stays the server's: end it with http_detached_close, never with uv_close. hooks
 * (may be NULL, or have NULL members):
 *   - shutdown(ud): http_server_shutdown was called; end the protocol soon and close the
 *     stream (a WebSocket sends close 1001). The loop runs until the stream is closed.
 *   - release(ud): the stream is closed and gone; free whatever refers to it. Called exactly
 *     once: after http_detached_close, or from http_server_free when the loop was ended by
 *     closing every handle (uv_walk) before the owner closed the stream.
 *
 * Returns NULL, and leaves the request with its owner (who must still answer it), when the
 * connection cannot be taken over: the client is gone, a response was started, or the server
 * is shutting down. */
typedef struct http_detach_hooks {
    void (*shutdown)(void *ud);
    void (*release)(void *ud);
} http_detach_hooks;

uv_stream_t *http_request_detach(http_request *req, buf *leftover, const http_detach_hooks *hooks,
                                 void *ud);
/* Closes a detached stream (pending writes are cancelled); hooks.release follows once the
 * handle is closed. Does nothing if the stream is already closing. */
void http_detached_close(uv_stream_t *stream);

#endif
