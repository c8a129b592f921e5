#include "net/websocket_connect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "net/tls_stream.h"
#include "net/websocket_handshake.h"
#include "net/websocket_response.h"

#define DEFAULT_TIMEOUT_MS (30 * 1000)
#define DEFAULT_MAX_BODY   (1024 * 1024)
#define RELAY_HIGH_WATER   (256 * 1024) /* bytes queued on one side before the other pauses */

struct ws_connect {
    uv_loop_t *loop;
    ws_connect_callbacks cb;
    void *ud;
    bool done; /* reported or aborted: nothing more is said */
    int refs;  /* the timer, a pending resolution, connection or write, an open socket */
    uv_timer_t timer;
    uv_getaddrinfo_t gai;
    bool resolving;
    struct addrinfo *addrs, *next_addr;
    uv_connect_t connect_req;
    uv_tcp_t *tcp;   /* while this side owns it */
    tls_stream *tls; /* likewise */
    bool tls_wanted;
    char *host, *host_header, *target, *lines, *protocols, *ca_file;
    int port;
    uint64_t timeout_ms;
    ws_options ws_opt;
    ws_callbacks ws_cb;
    void *ws_user;
    char key[25], expected[WS_ACCEPT_LEN + 1];
    ws_response_parser *parser;
    char last_error[160];
    char in[16 * 1024];
};

static void release(ws_connect *c);

/* ---- the TLS relay ------------------------------------------------------------------------ */

/* Moves bytes between the ws_conn's end of a socketpair and the TLS connection. Ends when
 * either side does: the other is then closed (the ws_conn sees EOF, or the server gets
 * close_notify). */
typedef struct relay {
    tls_stream *tls;
    uv_pipe_t *pipe;
    bool tls_closed;
    char in[64 * 1024];
} relay;

typedef struct relay_write {
    uv_write_t req;
    relay *r;
    char data[];
} relay_write;

static void relay_end_tls(relay *r) {
    if (r->tls_closed) return;
    r->tls_closed = true;
    tls_stream_close(r->tls);
}

static void on_relay_pipe_closed(uv_handle_t *h) {
    relay *r = h->data;
    free(h);
    relay_end_tls(r);
    free(r);
}

static void relay_end(relay *r) {
    if (!uv_is_closing((uv_handle_t *)r->pipe))
        uv_close((uv_handle_t *)r->pipe, on_relay_pipe_closed);
}

static void on_relay_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
    (void)suggested;
    relay *r = h->data;
    *out = uv_buf_init(r->in, sizeof r->in);
}

/* From the ws_conn to the server. */
static void on_relay_pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
    relay *r = s->data;
    if (nread == 0) return;
    if (nread < 0 || !tls_stream_write(r->tls, b->base, (size_t)nread)) {
        relay_end(r);
        return;
    }
    if (tls_stream_queued(r->tls) > RELAY_HIGH_WATER) uv_read_stop(s);
}

static void on_relay_tls_drain(void *ud) {
    relay *r = ud;
    if (!uv_is_closing((uv_handle_t *)r->pipe))
        uv_read_start((uv_stream_t *)r->pipe, on_relay_alloc, on_relay_pipe_read);
}

static void on_relay_write_done(uv_write_t *w, int status) {
    relay_write *wr = (relay_write *)w;
    relay *r = wr->r;
    free(wr);
    if (status < 0 || uv_is_closing((uv_handle_t *)r->pipe)) return;
    if (!r->tls_closed && uv_stream_get_write_queue_size((uv_stream_t *)r->pipe) == 0)
        tls_stream_set_reading(r->tls, true);
}

/* From the server to the ws_conn. */
static void on_relay_tls_data(void *ud, const char *data, size_t len) {
    relay *r = ud;
    if (uv_is_closing((uv_handle_t *)r->pipe)) return;
    relay_write *wr = xmalloc(sizeof *wr + len);
    wr->r = r;
    memcpy(wr->data, data, len);
    uv_buf_t b = uv_buf_init(wr->data, (unsigned)len);
    if (uv_write(&wr->req, (uv_stream_t *)r->pipe, &b, 1, on_relay_write_done) < 0) {
        free(wr);
        relay_end(r);
        return;
    }
    if (uv_stream_get_write_queue_size((uv_stream_t *)r->pipe) > RELAY_HIGH_WATER)
        tls_stream_set_reading(r->tls, false);
}

static void on_relay_tls_end(void *ud, const char *error) {
    (void)error; /* the ws_conn sees the connection drop (1006) */
    relay *r = ud;
    relay_end_tls(r);
    relay_end(r);
}

static void on_relay_tls_ready(void *ud) {
    (void)ud;
}

static const tls_stream_callbacks relay_callbacks = {on_relay_tls_ready, on_relay_tls_data,
                                                     on_relay_tls_end, on_relay_tls_drain};

/* A malloc'd uv_pipe_t on fd (closed on failure). */
static uv_pipe_t *pipe_on(uv_loop_t *loop, int fd) {
    uv_pipe_t *p = xmalloc(sizeof *p);
    uv_pipe_init(loop, p, 0);
    if (uv_pipe_open(p, fd) != 0) {
        close(fd);
        uv_close((uv_handle_t *)p, (uv_close_cb)free);
        return NULL;
    }
    return p;
}

/* The stream the ws_conn runs on, relayed through tls; NULL if no socketpair. */
static uv_stream_t *relay_start(uv_loop_t *loop, tls_stream *tls) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) return NULL;
    uv_pipe_t *ours = pipe_on(loop, fds[0]);
    uv_pipe_t *theirs = pipe_on(loop, fds[1]);
    if (!ours || !theirs) {
        if (ours) uv_close((uv_handle_t *)ours, (uv_close_cb)free);
        if (theirs) uv_close((uv_handle_t *)theirs, (uv_close_cb)free);
        return NULL;
    }
    relay *r = xcalloc(1, sizeof *r);
    r->tls = tls;
    r->pipe = ours;
    ours->data = r;
    tls_stream_set_callbacks(tls, &relay_callbacks, r);
    uv_read_start((uv_stream_t *)ours, on_relay_alloc, on_relay_pipe_read);
    return (uv_stream_t *)theirs;
}

/* ---- reporting ---------------------------------------------------------------------------- */

static void on_tcp_closed(uv_handle_t *h) {
    ws_connect *c = h->data;
    free(h);
    release(c);
}

/* Gives up what this side still owns (the socket, the TLS connection). */
static void drop_transport(ws_connect *c) {
    if (c->tls) {
        tls_stream_close(c->tls);
        c->tls = NULL;
    }
    if (c->tcp) {
        uv_close((uv_handle_t *)c->tcp, on_tcp_closed);
        c->tcp = NULL;
    }
}

static void on_timer_closed(uv_handle_t *h) {
    release(h->data);
}

/* Ends the attempt: nothing more is reported, handles close, c is freed by the last. */
static void finish(ws_connect *c) {
    c->done = true;
    drop_transport(c);
    if (!uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, on_timer_closed);
    if (c->resolving) uv_cancel((uv_req_t *)&c->gai);
}

static void fail(ws_connect *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(ws_connect *c, const char *fmt, ...) {
    if (c->done) return;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->done = true;
    c->cb.on_error(c->ud, msg);
    finish(c);
}

static void release(ws_connect *c) {
    if (--c->refs > 0) return;
    if (c->addrs) uv_freeaddrinfo(c->addrs);
    ws_response_parser_free(c->parser);
    free(c->host);
    free(c->host_header);
    free(c->target);
    free(c->lines);
    free(c->protocols);
    free(c->ca_file);
    free(c);
}

/* ---- the handshake ------------------------------------------------------------------------ */

static void opened(ws_connect *c, const char *leftover, size_t len) {
    size_t lines_len;
    const char *lines = ws_response_lines(c->parser, &lines_len);
    char protocol[256];
    const char *bad =
        ws_check_handshake(lines, lines_len, c->expected, c->protocols, protocol, sizeof protocol);
    if (bad) {
        fail(c, "the server's WebSocket handshake has %s", bad);
        return;
    }
    uv_stream_t *stream;
    if (c->tls) {
        stream = relay_start(c->loop, c->tls);
        if (!stream) {
            fail(c, "cannot create a socket pair for the TLS relay");
            return;
        }
        c->tls = NULL; /* the relay's now */
    } else {
        uv_read_stop((uv_stream_t *)c->tcp);
        stream = (uv_stream_t *)c->tcp;
        c->tcp = NULL; /* the ws_conn's now */
        release(c);    /* its reference */
    }
    c->ws_opt.client = true;
    ws_conn *ws = ws_open_stream(stream, leftover, len, &c->ws_cb, c->ws_user, &c->ws_opt);
    c->done = true;
    c->cb.on_open(c->ud, ws, protocol, lines, lines_len);
    finish(c);
}

static void responded(ws_connect *c) {
    int status = ws_response_status(c->parser);
    size_t lines_len, body_len;
    const char *lines = ws_response_lines(c->parser, &lines_len);
    const uint8_t *body = ws_response_body(c->parser, &body_len);
    c->done = true;
    c->cb.on_response(c->ud, status, ws_response_reason(c->parser), lines, lines_len, body,
                      body_len);
    finish(c);
}

static void handle_result(ws_connect *c, ws_parse_result r, const char *data, size_t len,
                          size_t used) {
    switch (r) {
    case WS_PARSE_UPGRADE:
        opened(c, data + used, len - used);
        break;
    case WS_PARSE_COMPLETE:
        responded(c);
        break;
    case WS_PARSE_ERROR:
        fail(c, "%s", ws_response_parser_error(c->parser));
        break;
    case WS_PARSE_MORE:
        break;
    }
}

static void feed(ws_connect *c, const char *data, size_t len) {
    if (c->done) return;
    size_t used = 0;
    ws_parse_result r = ws_response_parser_feed(c->parser, data, len, &used);
    handle_result(c, r, data, len, used);
}

static void ended(ws_connect *c, const char *error) {
    if (c->done) return;
    if (error) {
        fail(c, "%s", error);
        return;
    }
    handle_result(c, ws_response_parser_eof(c->parser), NULL, 0, 0);
}

static void send_request(ws_connect *c, buf *req);

/* TLS: the request goes once the handshake is done; the answer comes decrypted. */
static void on_tls_ready(void *ud) {
    ws_connect *c = ud;
    buf req = {0};
    send_request(c, &req);
    if (!tls_stream_write(c->tls, req.data, req.len)) fail(c, "cannot write to the server");
    buf_free(&req);
}

static void on_tls_data(void *ud, const char *data, size_t len) {
    feed(ud, data, len);
}

static void on_tls_end(void *ud, const char *error) {
    ws_connect *c = ud;
    if (error) {
        fail(c, "wss://%s:%d: %s", c->host, c->port, error);
        return;
    }
    ended(c, NULL);
}

static const tls_stream_callbacks tls_callbacks = {on_tls_ready, on_tls_data, on_tls_end, NULL};

/* Plain TCP. */
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
    (void)suggested;
    ws_connect *c = h->data;
    *out = uv_buf_init(c->in, sizeof c->in);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
    ws_connect *c = s->data;
    if (nread == 0 || c->done) return;
    if (nread < 0) {
        uv_read_stop(s);
        ended(c, nread == UV_EOF ? NULL : uv_strerror((int)nread));
        return;
    }
    feed(c, b->base, (size_t)nread);
}

typedef struct plain_write {
    uv_write_t req;
    ws_connect *c;
    char data[];
} plain_write;

static void on_request_written(uv_write_t *w, int status) {
    plain_write *pw = (plain_write *)w;
    ws_connect *c = pw->c;
    free(pw);
    if (status < 0 && status != UV_ECANCELED)
        fail(c, "cannot send the WebSocket handshake: %s", uv_strerror(status));
    release(c);
}

static void send_request(ws_connect *c, buf *req) {
    ws_handshake_request(req, c->target, strlen(c->target), c->host_header, c->key, c->protocols,
                         c->lines);
}

/* ---- connecting --------------------------------------------------------------------------- */

static void try_next(ws_connect *c);

static void on_connected(uv_connect_t *req, int status) {
    ws_connect *c = req->data;
    c->refs--; /* the connection request; the socket's own reference stays */
    if (c->done) return;
    if (status < 0) {
        snprintf(c->last_error, sizeof c->last_error, "%s", uv_strerror(status));
        drop_transport(c);
        try_next(c);
        return;
    }
    uv_tcp_nodelay(c->tcp, 1);
    if (c->tls_wanted) {
        char err[200];
        uv_tcp_t *tcp = c->tcp;
        c->tcp = NULL;
        release(c); /* the socket is the tls_stream's now */
        c->tls = tls_stream_start(tcp, c->host, c->ca_file, &tls_callbacks, c, err, sizeof err);
        if (!c->tls) fail(c, "wss://%s:%d: %s", c->host, c->port, err);
        return;
    }
    buf request = {0};
    send_request(c, &request);
    plain_write *pw = xmalloc(sizeof *pw + request.len);
    pw->c = c;
    memcpy(pw->data, request.data, request.len);
    uv_buf_t b = uv_buf_init(pw->data, (unsigned)request.len);
    buf_free(&request);
    if (uv_write(&pw->req, (uv_stream_t *)c->tcp, &b, 1, on_request_written) < 0) {
        free(pw);
        fail(c, "cannot send the WebSocket handshake");
        return;
    }
    c->refs++;
    uv_read_start((uv_stream_t *)c->tcp, on_alloc, on_read);
}

static void try_next(ws_connect *c) {
    while (c->next_addr) {
        struct addrinfo *ai = c->next_addr;
        c->next_addr = ai->ai_next;
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        c->tcp = xmalloc(sizeof *c->tcp);
        uv_tcp_init(c->loop, c->tcp);
        c->tcp->data = c;
        c->refs++; /* the socket, until closed or handed on */
        c->connect_req.data = c;
        int rc = uv_tcp_connect(&c->connect_req, c->tcp, ai->ai_addr, on_connected);
        if (rc == 0) {
            c->refs++;
            return;
        }
        snprintf(c->last_error, sizeof c->last_error, "%s", uv_strerror(rc));
        drop_transport(c);
    }
    fail(c, "cannot connect to %s:%d: %s", c->host, c->port,
         c->last_error[0] ? c->last_error : "no address");
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res) {
    ws_connect *c = req->data;
    c->resolving = false;
    c->addrs = res;
    if (c->done) {
        release(c);
        return;
    }
    if (status < 0) {
        fail(c, "cannot resolve %s: %s", c->host, uv_strerror(status));
    } else {
        c->next_addr = res;
        try_next(c);
    }
    release(c);
}

static void on_timeout(uv_timer_t *t) {
    ws_connect *c = t->data;
    fail(c, "no WebSocket handshake with %s:%d within %llu ms", c->host, c->port,
         (unsigned long long)c->timeout_ms);
}

static void on_start_failed(uv_timer_t *t) {
    ws_connect *c = t->data;
    fail(c, "cannot resolve %s: %s", c->host, c->last_error);
}

ws_connect *ws_connect_start(uv_loop_t *loop, const ws_connect_options *o,
                             const ws_connect_callbacks *cb, void *ud) {
    ws_connect *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->cb = *cb;
    c->ud = ud;
    c->tls_wanted = o->tls;
    c->host = xstrdup(o->host);
    c->port = o->port;
    c->host_header = xstrdup(o->host_header ? o->host_header : o->host);
    c->target = xstrdup(o->target ? o->target : "/");
    c->lines = o->header_lines ? xstrdup(o->header_lines) : NULL;
    c->protocols = o->protocols && *o->protocols ? xstrdup(o->protocols) : NULL;
    c->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
    if (o->ws_opt)
        c->ws_opt = *o->ws_opt;
    else
        ws_options_defaults(&c->ws_opt);
    c->ws_opt.subprotocols = c->ws_opt.response_headers = NULL;
    if (o->ws_cb) c->ws_cb = *o->ws_cb;
    c->ws_user = o->ws_user;
    c->parser = ws_response_parser_new(o->max_body_bytes ? o->max_body_bytes : DEFAULT_MAX_BODY);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    c->refs = 1; /* the timer */
    if (!ws_client_key(c->key, c->expected)) {
        snprintf(c->last_error, sizeof c->last_error, "no random bytes for the WebSocket key");
        uv_timer_start(&c->timer, on_start_failed, 0, 0);
        return c;
    }
    char port[8];
    snprintf(port, sizeof port, "%d", o->port);
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    c->gai.data = c;
    int rc = uv_getaddrinfo(loop, &c->gai, on_resolved, c->host, port, &hints);
    if (rc != 0) {
        snprintf(c->last_error, sizeof c->last_error, "%s", uv_strerror(rc));
        uv_timer_start(&c->timer, on_start_failed, 0, 0);
        return c;
    }
    c->refs++;
    c->resolving = true;
    uv_timer_start(&c->timer, on_timeout, c->timeout_ms, 0);
    return c;
}

void ws_connect_abort(ws_connect *c) {
    if (c->done) return;
    finish(c);
}
