/* http_client — outbound HTTP/1.1 and HTTPS for one libuv loop, on libcurl's multi interface.
 *
 * One client per loop (a shard): its curl multi handle keeps the connection cache, so
 * sequential requests to one origin reuse a connection. curl's sockets are watched with
 * uv_poll and its timeout with a uv_timer; nothing blocks the loop (curl resolves names on
 * its own threads).
 *
 * Callbacks never run inside a curl call or inside a call into this API: they run from the
 * loop (after curl was driven), so a callback may start, feed or abort any fetch.
 *
 * Flow control both ways:
 * - the response body is delivered only on demand (http_fetch_want_data), one chunk (what
 *   arrived meanwhile, at most HTTP_FETCH_INBOX_MAX bytes) per demand; while the chunk waits,
 *   curl is paused, so a slow reader slows the origin;
 * - the request body is written by the caller (http_fetch_write) as it is produced; when the
 *   caller has not produced data yet curl's upload pauses; on_drain tells the caller the
 *   queued body fell below HTTP_FETCH_SEND_LOW. */
#ifndef HEARTH_NET_HTTP_CLIENT_H
#define HEARTH_NET_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define HTTP_FETCH_INBOX_MAX (64u * 1024u)
#define HTTP_FETCH_SEND_LOW  (64u * 1024u)

typedef struct http_client http_client;
typedef struct http_fetch http_fetch;

typedef struct http_fetch_callbacks {
    /* The final response head: header_lines are "Name: value\r\n" lines. */
    void (*on_head)(void *ud, int status, const char *reason, size_t reason_len,
                    const char *header_lines, size_t lines_len);
    /* One chunk of the body, answering http_fetch_want_data. */
    void (*on_data)(void *ud, const uint8_t *data, size_t len);
    /* The transfer finished: message NULL on success (answering http_fetch_want_data once
     * the body is all delivered), else a description of the failure (delivered at once before
     * the head, else at the next demand). The fetch is freed after this callback. */
    void (*on_done)(void *ud, const char *message);
    /* The queued request body fell below HTTP_FETCH_SEND_LOW (after http_fetch_wait_drain). */
    void (*on_drain)(void *ud);
} http_fetch_callbacks;

typedef struct http_fetch_options {
    const char *method;
    const char *url;
    const char *header_lines; /* "Name: value\r\n" lines */
    size_t header_lines_len;
    int64_t body_length; /* -1: no body; -2: streamed of unknown length (chunked); else bytes */
    uint64_t timeout_ms; /* 0: none */
} http_fetch_options;

/* ca_file: extra trust (PEM) for HTTPS, or NULL for the system's. */
http_client *http_client_new(uv_loop_t *loop, const char *ca_file);
/* Aborts every fetch (no callbacks) and closes the client's handles; the loop must run for
 * the close callbacks to free it (or be torn down with uv_walk afterwards). */
void http_client_close(http_client *c);

/* Starts a request; NULL and *err (a static message) when curl refuses it. */
http_fetch *http_fetch_start(http_client *c, const http_fetch_options *o,
                             const http_fetch_callbacks *cb, void *ud, const char **err);
/* Appends request body bytes; returns the bytes queued (not yet sent), or -1 if the request
 * is no longer sending. */
int64_t http_fetch_write(http_fetch *f, const void *data, size_t len);
/* The request body is complete. */
void http_fetch_end_body(http_fetch *f);
/* Ask for on_drain once the queued body is small. */
void http_fetch_wait_drain(http_fetch *f);
/* Ask for the next chunk of the response body (or on_done). */
void http_fetch_want_data(http_fetch *f);
/* Stops the transfer and frees the fetch; no callback runs for it afterwards. */
void http_fetch_abort(http_fetch *f);

/* ---- pure helpers (unit-tested) ---- */

/* "HTTP/1.1 200 OK" → status and reason (without the line end); -1 if not a status line. */
int http_parse_status_line(const char *line, size_t len, const char **reason, size_t *reason_len);

/* Normalises one raw header line as curl delivers it ("Name:  value \r\n") into
 * "Name: value\r\n" appended to out (returns false for lines without a colon, and for
 * continuation lines, which it folds into the previous line). */
struct buf;
bool http_header_line_append(struct buf *out, const char *line, size_t len);

#endif
