#include "net/websocket.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

#include "base/alloc.h"
#include "base/buf.h"

/* The socket takes frames from wslay's queue until this much is waiting in libuv's: beyond
 * it, messages wait in wslay's queue (counted by ws_buffered_bytes, bounded by ws_send). */
#define SOCKET_HIGH_WATER (64 * 1024)
#define READ_CHUNK        (64 * 1024)
#define MAX_REASON        123 /* a close frame's payload is at most 125 bytes */

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

typedef enum ws_state {
    WS_OPEN,
    WS_CLOSING, /* a close started (ours or the peer's, or it hung up): waiting for the end */
    WS_DONE,    /* on_close was called; handles are closing */
} ws_state;

/* Follows frames as bytes go to wslay, to catch the errors wslay misses or reports without a
 * close code (it would send an empty close frame): a control frame that is fragmented or
 * longer than 125 bytes, a length not in its shortest form, a close frame with a 1-byte
 * payload (1002), and a close reason that is not UTF-8 (wslay checks it only when the frame
 * arrives in one piece; 1007). The byte that reveals the error is never given to wslay, so
 * this side closes with the right code itself. */
typedef struct frame_guard {
    uint8_t hdr[14];
    unsigned have;         /* header bytes seen of the current frame */
    unsigned ext;          /* its extended length bytes (0, 2 or 8), once the second is in */
    unsigned need;         /* its header length, likewise */
    uint64_t len;          /* its payload length, once known */
    uint64_t payload_left; /* payload bytes to let through before the next header */
    bool in_close;         /* the current frame is a close frame: its payload is kept */
    uint8_t close[125];
    unsigned close_len;
    int failed; /* 0, or the code to close with */
} frame_guard;

struct ws_conn {
    uv_stream_t *stream;
    bool http_owned; /* the stream is an HTTP server's (http_detached_close), else ours */
    uv_timer_t timer;
    wslay_event_context_ptr ctx;
    ws_callbacks cb;
    void *user;
    ws_options opt;
    ws_state state;
    buf in;  /* received, not yet given to wslay */
    buf out; /* frames wslay produced in this pump, written to the socket together at its end */
    size_t in_off;
    frame_guard guard;
    bool started;       /* the stream is ours to read and write */
    bool reading;       /* uv_read_start is in effect */
    bool peer_eof;      /* the peer finished sending */
    bool discarding;    /* a client past its close: reads are dropped until the server hangs up */
    bool in_recv;       /* inside wslay_event_recv: sending waits until it returns */
    bool failed;        /* a write failed or the peer reset: the connection is over */
    bool we_closed;     /* this side started the close */
    bool close_pending; /* ... and its close frame waits for the queued messages to go */
    bool want_drain;
    int close_code; /* the code this side sent (0: wslay chose it) */
    char reason[MAX_REASON + 1];
    size_t reason_len;
    unsigned writes_pending;
    uint64_t last_recv_ms;
    uint64_t refused;
    char protocol[64];
    char peer[64];
};

typedef struct ws_write {
    uv_write_t req;
    ws_conn *ws;
    char data[];
} ws_write;

static void after_io(ws_conn *ws);
static void finish(ws_conn *ws);
static void on_timer_closed(uv_handle_t *h);

void ws_options_defaults(ws_options *opt) {
    memset(opt, 0, sizeof *opt);
    opt->max_message_bytes = 1024 * 1024;
    opt->max_buffered_bytes = 4 * 1024 * 1024;
    opt->close_timeout_ms = 5000;
}

/* ---- handshake helpers -------------------------------------------------------------------- */

void ws_accept_key(const char *key, size_t key_len, char out[WS_ACCEPT_LEN + 1]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (!m) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    EVP_DigestInit_ex(m, EVP_sha1(), NULL);
    EVP_DigestUpdate(m, key, key_len);
    EVP_DigestUpdate(m, ws_guid, sizeof ws_guid - 1);
    EVP_DigestFinal_ex(m, md, &md_len);
    EVP_MD_CTX_free(m);
    EVP_EncodeBlock((unsigned char *)out, md, (int)md_len);
    out[WS_ACCEPT_LEN] = '\0';
}

static bool is_base64_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

bool ws_key_valid(const char *key, size_t len) {
    /* 16 bytes are 22 characters of data and "==". */
    if (len != 24 || key[22] != '=' || key[23] != '=') return false;
    for (size_t i = 0; i < 22; i++)
        if (!is_base64_char(key[i])) return false;
    return true;
}

static bool is_space(char c) {
    return c == ' ' || c == '\t';
}

/* Calls fn for each trimmed, non-empty element of a comma-separated list until it returns
 * true; returns whether one did. */
static bool each_element(const char *v, size_t len,
                         bool (*fn)(const char *el, size_t n, const void *arg), const void *arg) {
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && v[i] != ',') i++;
        size_t end = i++;
        while (start < end && is_space(v[start])) start++;
        while (end > start && is_space(v[end - 1])) end--;
        if (end > start && fn(v + start, end - start, arg)) return true;
    }
    return false;
}

static bool element_is(const char *el, size_t n, const void *arg) {
    const char *token = arg;
    return strlen(token) == n && strncasecmp(el, token, n) == 0;
}

bool ws_header_has_token(const char *value, size_t len, const char *token) {
    return value && each_element(value, len, element_is, token);
}

typedef struct protocol_pick {
    const char *supported;
    char *out;
    size_t outlen;
} protocol_pick;

static bool pick_if_supported(const char *el, size_t n, const void *arg) {
    const protocol_pick *p = arg;
    char token[256];
    if (n >= sizeof token || n >= p->outlen) return false;
    memcpy(token, el, n);
    token[n] = '\0';
    if (!ws_header_has_token(p->supported, strlen(p->supported), token)) return false;
    memcpy(p->out, token, n + 1);
    return true;
}

bool ws_select_protocol(const char *offered, size_t offered_len, const char *supported, char *out,
                        size_t outlen) {
    if (!offered || !supported || outlen == 0) return false;
    protocol_pick p = {supported, out, outlen};
    return each_element(offered, offered_len, pick_if_supported, &p);
}

/* Every field line named `name` of req, values joined with ", " (a list may be split over
 * several lines). */
static void header_values(const http_request *req, const char *name, buf *out) {
    size_t nlen = strlen(name);
    const char *p = req->headers.data, *end = p ? p + req->headers.len : NULL;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - p) > nlen && p[nlen] == ':' && strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1, *ve = line_end;
            while (v < ve && is_space(*v)) v++;
            while (ve > v && (ve[-1] == '\r' || is_space(ve[-1]))) ve--;
            if (out->len) buf_puts(out, ", ");
            buf_append(out, v, (size_t)(ve - v));
        }
        p = eol ? eol + 1 : end;
    }
}

static bool header_has_token(const http_request *req, const char *name, const char *token) {
    buf v = {0};
    header_values(req, name, &v);
    bool found = ws_header_has_token(v.data, v.len, token);
    buf_free(&v);
    return found;
}

bool ws_is_upgrade_request(const http_request *req) {
    return header_has_token(req, "upgrade", "websocket");
}

/* ---- the frame guard ---------------------------------------------------------------------- */

static bool utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
        if ((c >= 0x80 && c < 0xc2) || c > 0xf4 || i + len > n) return false;
        uint32_t cp = len == 1 ? c : c & (0x7f >> len);
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        /* Overlong forms, surrogates, beyond U+10FFFF. */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* How many of the n bytes at p may go to wslay; sets g->failed at an error. */
static size_t guard_feed(frame_guard *g, const uint8_t *p, size_t n) {
    size_t i = 0;
    while (i < n && !g->failed) {
        if (g->payload_left && !g->in_close) {
            uint64_t skip = n - i < g->payload_left ? n - i : g->payload_left;
            g->payload_left -= skip;
            i += (size_t)skip;
            continue;
        }
        if (g->payload_left) {
            uint8_t b = p[i];
            if (g->hdr[1] & 0x80) b ^= g->hdr[g->need - 4 + g->close_len % 4];
            g->close[g->close_len++] = b;
            if (--g->payload_left == 0 && g->close_len > 2 &&
                !utf8_valid(g->close + 2, g->close_len - 2)) {
                g->failed = WS_CLOSE_INVALID_DATA;
                break;
            }
            i++;
            continue;
        }
        g->hdr[g->have++] = p[i];
        if (g->have == 2) {
            unsigned opcode = g->hdr[0] & 0x0f, len7 = g->hdr[1] & 0x7f;
            bool fin = g->hdr[0] & 0x80, masked = g->hdr[1] & 0x80;
            if (opcode >= 8 && (!fin || len7 > 125 || (opcode == 8 && len7 == 1))) {
                g->failed = WS_CLOSE_PROTOCOL_ERROR;
                break;
            }
            g->ext = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
            g->need = 2 + g->ext + (masked ? 4 : 0);
            g->len = len7;
            g->in_close = opcode == 8;
            g->close_len = 0;
        }
        /* wslay checks an extended length as soon as it has it, before the mask key. */
        if (g->ext && g->have == 2 + g->ext) {
            g->len = 0;
            for (unsigned k = 2; k < g->have; k++) g->len = g->len << 8 | g->hdr[k];
            if (g->ext == 2 ? g->len < 126 : g->len < 65536 || (g->len >> 63)) {
                g->failed = WS_CLOSE_PROTOCOL_ERROR;
                break;
            }
        }
        if (g->have == g->need) {
            g->payload_left = g->len;
            g->have = 0;
        }
        i++;
    }
    return i;
}

/* ---- writing ------------------------------------------------------------------------------ */

static void on_write_done(uv_write_t *w, int status) {
    ws_write *wr = (ws_write *)w;
    ws_conn *ws = wr->ws;
    free(wr);
    ws->writes_pending--;
    if (ws->state == WS_DONE) return;
    if (status < 0) ws->failed = true;
    after_io(ws);
}

/* Writes now what the socket takes, queues a copy of the rest. False if the socket failed. */
static bool write_bytes(ws_conn *ws, const void *data, size_t len) {
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(ws->stream, &b, 1);
    if (n < 0 && n != UV_EAGAIN) return false;
    size_t done = n > 0 ? (size_t)n : 0;
    if (done == len) return true;
    ws_write *wr = xmalloc(sizeof *wr + (len - done));
    wr->ws = ws;
    memcpy(wr->data, (const char *)data + done, len - done);
    b = uv_buf_init(wr->data, (unsigned)(len - done));
    if (uv_write(&wr->req, ws->stream, &b, 1, on_write_done) < 0) {
        free(wr);
        return false;
    }
    ws->writes_pending++;
    return true;
}

static void on_fail_timer(uv_timer_t *t) {
    after_io(t->data);
}

/* wslay hands over each frame in pieces (its header, then its payload): they are gathered in
 * ws->out and written once per pump, so a message costs one write (and one TCP segment) rather
 * than two, and a burst of messages one write in all. */
static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user) {
    (void)flags;
    ws_conn *ws = user;
    if (ws->failed) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    if (uv_stream_get_write_queue_size(ws->stream) + ws->out.len >= SOCKET_HIGH_WATER) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    buf_append(&ws->out, data, len);
    return (ssize_t)len;
}

static void pump_frames(ws_conn *ws) {
    if (wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx) < 0) {
        ws->failed = true;
        return;
    }
    /* wslay sends control frames ahead of queued messages, and nothing after a close: so our
     * close is queued only once the messages before it are out. */
    if (ws->close_pending && wslay_event_get_queued_msg_count(ws->ctx) == 0) {
        ws->close_pending = false;
        wslay_event_queue_close(ws->ctx, (uint16_t)ws->close_code, (const uint8_t *)ws->reason,
                                ws->reason_len);
        if (wslay_event_send(ws->ctx) < 0) ws->failed = true;
    }
}

/* Hands queued frames to the socket. Never ends the connection itself (see after_io). */
static void pump(ws_conn *ws) {
    for (;;) {
        if (ws->state == WS_DONE || ws->in_recv || ws->failed || !ws->started) return;
        pump_frames(ws);
        if (ws->out.len == 0) return;
        bool ok = !ws->failed && write_bytes(ws, ws->out.data, ws->out.len);
        buf_clear(&ws->out);
        if (!ok && !ws->failed) {
            /* The end is handled from the loop, never inside a caller's ws_send. */
            ws->failed = true;
            uv_timer_start(&ws->timer, on_fail_timer, 0, 0);
            return;
        }
        /* wslay stopped because ws->out was full: if the socket took it all, nothing will
         * call again (no write completes), so go on; else on_write_done does. */
        if (uv_stream_get_write_queue_size(ws->stream) > 0) return;
        if (!wslay_event_want_write(ws->ctx) && !ws->close_pending) return;
    }
}

size_t ws_buffered_bytes(const ws_conn *ws) {
    if (ws->state == WS_DONE) return 0;
    size_t n = wslay_event_get_queued_msg_length(ws->ctx);
    if (ws->started) n += uv_stream_get_write_queue_size(ws->stream);
    return n;
}

/* ---- reading ------------------------------------------------------------------------------ */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *out, size_t len, int flags,
                       void *user) {
    (void)flags;
    ws_conn *ws = user;
    size_t avail = ws->in.len - ws->in_off;
    size_t n = avail < len ? avail : len;
    if (n) n = guard_feed(&ws->guard, (const uint8_t *)ws->in.data + ws->in_off, n);
    if (n == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    memcpy(out, ws->in.data + ws->in_off, n);
    ws->in_off += n;
    return (ssize_t)n;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user) {
    (void)ctx;
    ws_conn *ws = user;
    switch (arg->opcode) {
    case WSLAY_TEXT_FRAME:
    case WSLAY_BINARY_FRAME:
        /* After a close started, messages still in flight are dropped. */
        if (ws->state == WS_OPEN && ws->cb.on_message)
            ws->cb.on_message(ws, arg->opcode == WSLAY_TEXT_FRAME ? WS_TEXT : WS_BINARY, arg->msg,
                              arg->msg_length);
        break;
    case WSLAY_CONNECTION_CLOSE:
        if (!ws->we_closed || ws->close_pending) {
            size_t n = arg->msg_length > 2 ? arg->msg_length - 2 : 0;
            if (n > MAX_REASON) n = MAX_REASON;
            if (n) memcpy(ws->reason, arg->msg + 2, n);
            ws->reason_len = n;
        }
        break;
    default: /* pings are answered by wslay; pongs only count as activity */
        break;
    }
}

static void on_close_timeout(uv_timer_t *t) {
    finish(t->data);
}

/* The connection is closing: from now on the close timeout bounds its life. */
static void start_closing(ws_conn *ws) {
    if (ws->state != WS_OPEN) return;
    ws->state = WS_CLOSING;
    uv_timer_start(&ws->timer, on_close_timeout, ws->opt.close_timeout_ms, 0);
}

/* Gives received bytes to wslay, then looks at what it decided. */
static void process_input(ws_conn *ws) {
    if (ws->state == WS_DONE) return;
    ws->in_recv = true;
    int rc = wslay_event_recv(ws->ctx);
    ws->in_recv = false;
    if (ws->state == WS_DONE) return;
    if (ws->in_off == ws->in.len || ws->guard.failed || rc < 0 ||
        !wslay_event_get_read_enabled(ws->ctx)) {
        /* Nothing left for wslay: an idle connection keeps no input buffer. */
        buf_free(&ws->in);
        ws->in_off = 0;
    } else if (ws->in_off > READ_CHUNK) {
        buf_consume(&ws->in, ws->in_off);
        ws->in_off = 0;
    }
    if (ws->guard.failed && wslay_event_get_read_enabled(ws->ctx)) {
        wslay_event_shutdown_read(ws->ctx);
        if (!ws->we_closed && !wslay_event_get_close_received(ws->ctx)) {
            ws->we_closed = true;
            ws->close_code = ws->guard.failed;
            wslay_event_queue_close(ws->ctx, (uint16_t)ws->guard.failed, NULL, 0);
        }
    }
    if (ws->close_pending && wslay_event_get_close_received(ws->ctx)) {
        /* The peer closed first; wslay's reply (its code echoed) is what goes out. */
        ws->close_pending = false;
        ws->we_closed = false;
    }
    if (!wslay_event_get_read_enabled(ws->ctx)) {
        /* wslay stops reading after a close frame, or after it queued a close of its own
         * (1002, 1007, 1009, or an empty one when rc < 0). */
        if (!ws->we_closed && !wslay_event_get_close_received(ws->ctx)) ws->we_closed = true;
        start_closing(ws);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
    (void)suggested;
    ws_conn *ws = h->data;
    buf_reserve(&ws->in, READ_CHUNK);
    *out = uv_buf_init(ws->in.data + ws->in.len, (unsigned)(ws->in.cap - ws->in.len - 1));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
    (void)b;
    ws_conn *ws = s->data;
    if (nread == 0) return;
    if (nread < 0) {
        ws->peer_eof = true;
        uv_read_stop(s);
        ws->reading = false;
        /* The peer stopped sending (with or without a close frame); what is on its way to it
         * still goes out, within the close timeout. A reset fails the writes instead. */
        if (nread != UV_EOF) ws->failed = true;
        start_closing(ws);
        after_io(ws);
        return;
    }
    if (ws->discarding) {
        ws->in.len = 0; /* the close is decided: what still comes is of no use */
        return;
    }
    ws->in.len += (size_t)nread;
    ws->last_recv_ms = uv_now(s->loop);
    process_input(ws);
    after_io(ws);
}

/* Reads unless the connection is ending or too much output is waiting (a peer that sends
 * without reading must not grow the queue with pongs, or with echoes of its messages). */
static void update_reading(ws_conn *ws) {
    bool want = ws->state != WS_DONE && !ws->peer_eof && wslay_event_get_read_enabled(ws->ctx) &&
                ws_buffered_bytes(ws) < ws->opt.max_buffered_bytes;
    if (want && !ws->reading) {
        if (uv_read_start(ws->stream, on_alloc, on_read) == 0) ws->reading = true;
    } else if (!want && ws->reading) {
        uv_read_stop(ws->stream);
        ws->reading = false;
    }
}

/* After any I/O: send, end the connection when its time has come, adjust reading, report
 * room for more. */
static void after_io(ws_conn *ws) {
    if (ws->state == WS_DONE) return;
    pump(ws);
    if (ws->failed) {
        finish(ws);
        return;
    }
    /* Our close frame is out and nothing more will be read (the peer's close came, or this
     * side failed the connection): the server closes the TCP connection first. A client waits
     * for the server to do so (RFC 6455, 7.1.1), reading and dropping what still arrives within
     * the close timeout: closing with the server's bytes unread (the rest of a message too
     * large, say) would reset the connection, and the server could lose our close frame. */
    if (wslay_event_get_close_sent(ws->ctx) && !wslay_event_get_read_enabled(ws->ctx) &&
        ws->writes_pending == 0) {
        if (ws->opt.client && !ws->peer_eof) {
            ws->discarding = true;
            if (!ws->reading && uv_read_start(ws->stream, on_alloc, on_read) == 0)
                ws->reading = true;
            return;
        }
        finish(ws);
        return;
    }
    if (ws->peer_eof && !wslay_event_want_write(ws->ctx) && ws->writes_pending == 0) {
        finish(ws);
        return;
    }
    update_reading(ws);
    if (ws->want_drain && ws->state == WS_OPEN &&
        ws_buffered_bytes(ws) <= ws->opt.max_buffered_bytes / 2) {
        ws->want_drain = false;
        if (ws->cb.on_drain) ws->cb.on_drain(ws);
    }
}

/* ---- the end ------------------------------------------------------------------------------ */

static void free_ws(ws_conn *ws) {
    wslay_event_context_free(ws->ctx);
    buf_free(&ws->in);
    buf_free(&ws->out);
    free(ws);
}

static void notify_close(ws_conn *ws) {
    int code = WS_CLOSE_ABNORMAL;
    const char *reason = "";
    size_t reason_len = 0;
    if (ws->we_closed) {
        code = ws->close_code;
        if (!code) {
            /* A close wslay queued by itself: its code is known once sent. */
            code = wslay_event_get_status_code_sent(ws->ctx);
            if (code == WS_CLOSE_NO_STATUS) code = WS_CLOSE_PROTOCOL_ERROR;
        }
        reason = ws->reason;
        reason_len = ws->reason_len;
    } else if (wslay_event_get_close_received(ws->ctx)) {
        code = wslay_event_get_status_code_received(ws->ctx);
        reason = ws->reason;
        reason_len = ws->reason_len;
    }
    if (ws->cb.on_close) ws->cb.on_close(ws, code, reason, reason_len);
}

static void on_owned_closed(uv_handle_t *h) {
    ws_conn *ws = h->data;
    free(h);
    free_ws(ws);
}

static void close_stream(ws_conn *ws) {
    if (ws->http_owned) {
        http_detached_close(ws->stream); /* hooks.release (on_http_release) frees ws */
    } else if (!uv_is_closing((uv_handle_t *)ws->stream)) {
        uv_close((uv_handle_t *)ws->stream, on_owned_closed);
    }
}

static void on_timer_closed(uv_handle_t *h) {
    close_stream(h->data);
}

/* Ends the connection now: on_close, then the timer and the stream are closed (pending
 * writes are cancelled), then ws is freed. */
static void finish(ws_conn *ws) {
    if (ws->state == WS_DONE) return;
    ws->state = WS_DONE;
    if (ws->reading) {
        uv_read_stop(ws->stream);
        ws->reading = false;
    }
    notify_close(ws);
    /* The stream is closed after the timer, so that it is the last handle to go and its
     * release frees ws. */
    if (!uv_is_closing((uv_handle_t *)&ws->timer)) {
        uv_timer_stop(&ws->timer);
        uv_close((uv_handle_t *)&ws->timer, on_timer_closed);
    } else {
        close_stream(ws);
    }
}

static void on_http_shutdown(void *ud) {
    ws_close(ud, WS_CLOSE_GOING_AWAY, "going away");
}

static void on_http_release(void *ud) {
    ws_conn *ws = ud;
    /* Released without finish: the loop was ended by closing every handle. */
    if (ws->state != WS_DONE) {
        ws->state = WS_DONE;
        notify_close(ws);
    }
    free_ws(ws);
}

/* ---- opening ------------------------------------------------------------------------------ */

static void on_tick(uv_timer_t *t) {
    ws_conn *ws = t->data;
    if (ws->state != WS_OPEN) return;
    uint64_t now = uv_now(t->loop);
    if (ws->opt.idle_timeout_ms && now - ws->last_recv_ms >= ws->opt.idle_timeout_ms) {
        ws_close(ws, WS_CLOSE_GOING_AWAY, "idle timeout");
    } else if (ws->opt.ping_interval_ms && ws_buffered_bytes(ws) < ws->opt.max_buffered_bytes) {
        struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
        wslay_event_queue_msg(ws->ctx, &ping);
    }
    after_io(ws);
}

/* First loop turn of a connection: bytes that came with the handshake, then the ping timer.
 * (Not done in ws_accept, whose caller has no ws_conn yet to receive messages with.) */
static void on_start(uv_timer_t *t) {
    ws_conn *ws = t->data;
    if (ws->in.len) process_input(ws);
    if (ws->state == WS_OPEN) {
        uint64_t tick = ws->opt.ping_interval_ms;
        if (!tick && ws->opt.idle_timeout_ms) tick = ws->opt.idle_timeout_ms / 4 + 1;
        if (tick) uv_timer_start(&ws->timer, on_tick, tick, tick);
    }
    after_io(ws);
}

int ws_genmask_cb(wslay_event_context_ptr ctx, uint8_t *out, size_t len, void *user) {
    (void)user;
    if (RAND_bytes(out, (int)len) == 1) return 0;
    wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static ws_conn *ws_new(const ws_callbacks *cb, void *user, const ws_options *opt) {
    ws_conn *ws = xcalloc(1, sizeof *ws);
    if (cb) ws->cb = *cb;
    ws->user = user;
    if (opt)
        ws->opt = *opt;
    else
        ws_options_defaults(&ws->opt);
    ws->opt.subprotocols = ws->opt.response_headers = NULL; /* not kept */
    if (!ws->opt.max_message_bytes) ws->opt.max_message_bytes = 1024 * 1024;
    if (!ws->opt.max_buffered_bytes) ws->opt.max_buffered_bytes = 4 * 1024 * 1024;
    if (!ws->opt.close_timeout_ms) ws->opt.close_timeout_ms = 5000;
    struct wslay_event_callbacks callbacks = {recv_cb, send_cb, ws_genmask_cb, NULL,
                                              NULL,    NULL,    on_msg};
    int rc = ws->opt.client ? wslay_event_context_client_init(&ws->ctx, &callbacks, ws)
                            : wslay_event_context_server_init(&ws->ctx, &callbacks, ws);
    if (rc != 0) {
        fprintf(stderr, "out of memory\n");
        abort();
    }
    wslay_event_config_set_max_recv_msg_length(ws->ctx, ws->opt.max_message_bytes);
    return ws;
}

/* The stream is ours from here: reading starts, leftover bytes wait for the first turn. */
static void ws_start(ws_conn *ws, uv_stream_t *stream, const void *leftover, size_t len) {
    ws->stream = stream;
    stream->data = ws;
    ws->started = true;
    uv_timer_init(stream->loop, &ws->timer);
    ws->timer.data = ws;
    ws->last_recv_ms = uv_now(stream->loop);
    if (len) buf_append(&ws->in, leftover, len);
    uv_timer_start(&ws->timer, on_start, 0, 0);
    update_reading(ws);
}

ws_conn *ws_open_stream(uv_stream_t *stream, const void *leftover, size_t leftover_len,
                        const ws_callbacks *cb, void *user, const ws_options *opt) {
    ws_conn *ws = ws_new(cb, user, opt);
    ws_start(ws, stream, leftover, leftover_len);
    return ws;
}

static ws_conn *reject(http_request *req, int status, const char *extra_headers, char *err,
                       size_t errlen, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static ws_conn *reject(http_request *req, int status, const char *extra_headers, char *err,
                       size_t errlen, const char *fmt, ...) {
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (err && errlen) snprintf(err, errlen, "%s", msg);
    buf lines = {0}, body = {0};
    buf_puts(&lines, "content-type: text/plain; charset=utf-8\r\n");
    if (extra_headers) buf_puts(&lines, extra_headers);
    buf_printf(&body, "%s\n", msg);
    /* Whatever the client sends next was meant for the protocol it asked for: close. */
    req->keep_alive = false;
    http_respond(req, status, NULL, lines.data, lines.len, body.data, body.len);
    buf_free(&lines);
    buf_free(&body);
    return NULL;
}

ws_conn *ws_accept(http_request *req, const ws_callbacks *cb, void *user, const ws_options *opt,
                   char *err, size_t errlen) {
    if (!ws_is_upgrade_request(req) || !header_has_token(req, "connection", "upgrade"))
        return reject(req, 426, "upgrade: websocket\r\n", err, errlen,
                      "expected a WebSocket upgrade request (Upgrade: websocket and "
                      "Connection: Upgrade)");
    if (strcmp(req->method, "GET") != 0)
        return reject(req, 400, NULL, err, errlen, "a WebSocket handshake must be a GET, not %s",
                      req->method);
    if (req->http_minor < 1)
        return reject(req, 400, NULL, err, errlen, "a WebSocket handshake needs HTTP/1.1");
    size_t klen = 0, vlen = 0;
    const char *key = http_request_header(req, "sec-websocket-key", &klen);
    const char *version = http_request_header(req, "sec-websocket-version", &vlen);
    if (!key) return reject(req, 400, NULL, err, errlen, "the Sec-WebSocket-Key header is missing");
    if (!ws_key_valid(key, klen))
        return reject(req, 400, NULL, err, errlen,
                      "Sec-WebSocket-Key must be the base64 of 16 bytes");
    if (!version)
        return reject(req, 400, NULL, err, errlen, "the Sec-WebSocket-Version header is missing");
    if (vlen != 2 || memcmp(version, "13", 2) != 0)
        return reject(req, 426, "sec-websocket-version: 13\r\n", err, errlen,
                      "unsupported WebSocket version \"%.*s\" (this server speaks 13)",
                      vlen > 16 ? 16 : (int)vlen, version);

    ws_conn *ws = ws_new(cb, user, opt);
    ws->http_owned = true;
    snprintf(ws->peer, sizeof ws->peer, "%s", req->peer);
    buf resp = {0};
    char accept[WS_ACCEPT_LEN + 1];
    ws_accept_key(key, klen, accept);
    buf_printf(&resp,
               "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
               "connection: Upgrade\r\nsec-websocket-accept: %s\r\n",
               accept);
    if (opt && opt->subprotocols) {
        buf offered = {0};
        header_values(req, "sec-websocket-protocol", &offered);
        if (ws_select_protocol(offered.data, offered.len, opt->subprotocols, ws->protocol,
                               sizeof ws->protocol))
            buf_printf(&resp, "sec-websocket-protocol: %s\r\n", ws->protocol);
        buf_free(&offered);
    }
    if (opt && opt->response_headers) buf_puts(&resp, opt->response_headers);
    buf_puts(&resp, "\r\n");

    buf leftover = {0};
    http_detach_hooks hooks = {on_http_shutdown, on_http_release};
    uv_stream_t *stream = http_request_detach(req, &leftover, &hooks, ws);
    if (!stream) {
        buf_free(&resp);
        free_ws(ws);
        return reject(req, 503, NULL, err, errlen, "the connection cannot be upgraded now");
    }
    ws_start(ws, stream, leftover.data, leftover.len);
    if (!write_bytes(ws, resp.data, resp.len)) ws->failed = true; /* ends on the first turn */
    buf_free(&resp);
    buf_free(&leftover);
    return ws;
}

/* ---- sending and closing ------------------------------------------------------------------ */

static bool ws_send(ws_conn *ws, uint8_t opcode, const void *data, size_t len) {
    if (ws->state != WS_OPEN || ws->failed) return false;
    size_t max = ws->opt.max_buffered_bytes;
    if (len > max || ws_buffered_bytes(ws) > max - len) {
        ws->refused++;
        if (len <= max) ws->want_drain = true;
        return false;
    }
    struct wslay_event_msg msg = {opcode, data, len};
    if (wslay_event_queue_msg(ws->ctx, &msg) != 0) return false;
    pump(ws);
    /* Over half full: the producer hears from on_drain once it is at most half full again. */
    if (ws_buffered_bytes(ws) > max / 2) ws->want_drain = true;
    return true;
}

bool ws_send_text(ws_conn *ws, const char *data, size_t len) {
    return ws_send(ws, WSLAY_TEXT_FRAME, data, len);
}

bool ws_send_binary(ws_conn *ws, const void *data, size_t len) {
    return ws_send(ws, WSLAY_BINARY_FRAME, data, len);
}

/* The longest prefix of s (at most max bytes) that does not end inside a UTF-8 sequence. */
static size_t utf8_prefix(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n <= max) return n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
    return n;
}

/* The codes an endpoint may send (as wslay accepts them: 1012-1014 came later). */
static bool sendable_code(int code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

void ws_close(ws_conn *ws, int code, const char *reason) {
    if (ws->state != WS_OPEN) return;
    if (!sendable_code(code)) code = WS_CLOSE_NORMAL;
    if (!reason) reason = "";
    size_t n = utf8_prefix(reason, MAX_REASON);
    ws->we_closed = true;
    ws->close_code = code;
    memcpy(ws->reason, reason, n);
    ws->reason[n] = '\0';
    ws->reason_len = n;
    ws->close_pending = true;
    start_closing(ws);
    pump(ws);
}

uint64_t ws_refused_sends(const ws_conn *ws) {
    return ws->refused;
}

bool ws_is_open(const ws_conn *ws) {
    return ws->state == WS_OPEN;
}

void *ws_user(const ws_conn *ws) {
    return ws->user;
}

void ws_set_user(ws_conn *ws, void *user) {
    ws->user = user;
}

const char *ws_protocol(const ws_conn *ws) {
    return ws->protocol;
}

const char *ws_peer(const ws_conn *ws) {
    return ws->peer;
}
