#include "net/http_server.h"

#include <http_parser.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"

/* Reading stops while this much unparsed input is queued behind a request being handled. */
#define MAX_QUEUED_INPUT (1024 * 1024)
#define READ_CHUNK       (64 * 1024)

typedef enum conn_state {
    CONN_IDLE,     /* between requests (keep-alive) */
    CONN_READING,  /* a request has started arriving */
    CONN_HANDLING, /* a complete request is with its owner */
    CONN_DETACHED, /* taken over by another protocol (http_request_detach) */
} conn_state;

struct http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    http_server *srv;
    http_parser parser;
    http_request req;
    buf in; /* received, not yet parsed */
    conn_state state;
    bool request_ready;  /* the parser completed a request; hand it over after parsing */
    bool last_was_value; /* header callbacks: the previous piece was a value */
    bool in_host_header; /* the field being read is Host */
    bool reading;
    bool closing;
    bool draining; /* the last response is on its way; no further requests are read */
    bool client_gone;
    bool streaming;    /* a streaming response is between start and end */
    bool chunked;      /* ... and frames its body in chunks */
    bool close_after;  /* ... and closes the connection when it ends */
    int64_t body_left; /* ... bytes still due when it declared a length, else -1 */
    http_drain_cb drain_cb;
    void *drain_ud;
    http_detach_hooks detach_hooks; /* CONN_DETACHED: the new owner's */
    void *detach_ud;
    int handles_open; /* tcp + timer, until their close callbacks ran */
    int error_status; /* set by a parser callback that rejects the request */
    char peer[64];
    struct http_conn *prev, *next;
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    http_server_config cfg;
    http_request_cb on_request;
    void *ud;
    http_conn *conns;
    size_t busy;
    bool shutting_down;
    bool listener_closed;
    char date[64];
    uint64_t date_ms;
};

static atomic_uint_fast64_t next_request_id = 1;
static http_parser_settings parser_settings;
static uv_once_t settings_once = UV_ONCE_INIT;

static void conn_parse(http_conn *c);
static void conn_close(http_conn *c);
static void conn_resume_reading(http_conn *c);
static void on_handle_closed(uv_handle_t *h);
static void send_error(http_conn *c, int status, const char *message);

void http_server_config_defaults(http_server_config *cfg) {
    cfg->max_header_bytes = 128 * 1024;
    cfg->max_body_bytes = 100 * 1024 * 1024;
    cfg->request_timeout_ms = 30 * 1000;
    cfg->idle_timeout_ms = 60 * 1000;
}

const char *http_status_reason(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 101:
        return "Switching Protocols";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 203:
        return "Non-Authoritative Information";
    case 204:
        return "No Content";
    case 205:
        return "Reset Content";
    case 206:
        return "Partial Content";
    case 300:
        return "Multiple Choices";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 406:
        return "Not Acceptable";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 418:
        return "I'm a teapot";
    case 422:
        return "Unprocessable Entity";
    case 425:
        return "Too Early";
    case 426:
        return "Upgrade Required";
    case 428:
        return "Precondition Required";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 451:
        return "Unavailable For Legal Reasons";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "";
    }
}

static void on_request_timeout(uv_timer_t *t);

/* ---- parser callbacks ------------------------------------------------------------------- */

static int on_message_begin(http_parser *p) {
    http_conn *c = p->data;
    http_request *r = &c->req;
    buf_clear(&r->target);
    buf_clear(&r->headers);
    buf_clear(&r->host);
    buf_clear(&r->body);
    r->header_count = 0;
    r->id = atomic_fetch_add(&next_request_id, 1);
    r->start_ns = uv_hrtime();
    r->conn = c;
    memcpy(r->peer, c->peer, sizeof r->peer);
    c->last_was_value = false;
    c->in_host_header = false;
    c->state = CONN_READING;
    /* A request must arrive whole within the timeout, counted from its first byte. */
    uv_timer_start(&c->timer, on_request_timeout, c->srv->cfg.request_timeout_ms, 0);
    return 0;
}

static int on_url(http_parser *p, const char *at, size_t len) {
    http_conn *c = p->data;
    buf_append(&c->req.target, at, len);
    return 0;
}

static void finish_header_value(http_conn *c) {
    /* http-parser keeps trailing whitespace of values; field values exclude it. */
    buf *h = &c->req.headers;
    while (h->len && (h->data[h->len - 1] == ' ' || h->data[h->len - 1] == '\t')) h->len--;
    if (c->in_host_header) {
        buf *host = &c->req.host;
        while (host->len && (host->data[host->len - 1] == ' ' || host->data[host->len - 1] == '\t'))
            host->len--;
        host->data[host->len] = '\0';
    }
    buf_append(h, "\r\n", 2);
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
    http_conn *c = p->data;
    if (c->last_was_value) {
        finish_header_value(c);
        c->last_was_value = false;
        c->in_host_header = false;
    }
    if (c->req.headers.len == 0 || c->req.headers.data[c->req.headers.len - 1] == '\n')
        c->req.header_count++;
    buf_append(&c->req.headers, at, len);
    return 0;
}

static bool last_field_is_host(const buf *h) {
    /* The current field name is the text after the last "\r\n" (or from the start). */
    size_t start = h->len;
    while (start > 0 && h->data[start - 1] != '\n') start--;
    return h->len - start == 4 && strncasecmp(h->data + start, "host", 4) == 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
    http_conn *c = p->data;
    if (!c->last_was_value) {
        c->in_host_header = last_field_is_host(&c->req.headers);
        buf_append(&c->req.headers, ": ", 2);
        c->last_was_value = true;
    }
    buf_append(&c->req.headers, at, len);
    if (c->in_host_header) buf_append(&c->req.host, at, len);
    return 0;
}

static void write_raw(http_conn *c, const char *data, size_t len);

static int on_headers_complete(http_parser *p) {
    http_conn *c = p->data;
    http_request *r = &c->req;
    if (c->last_was_value) finish_header_value(c);
    if (p->http_major != 1) {
        c->error_status = 505;
        return -1;
    }
    const char *m = http_method_str((enum http_method)p->method);
    snprintf(r->method, sizeof r->method, "%s", m);
    r->is_head = p->method == HTTP_HEAD;
    r->http_minor = (uint8_t)p->http_minor;
    r->keep_alive = http_should_keep_alive(p) != 0;
    bool has_length = (p->flags & F_CONTENTLENGTH) != 0;
    if (has_length && p->content_length > c->srv->cfg.max_body_bytes) {
        c->error_status = 413;
        return -1;
    }
    /* Expect: 100-continue — the client waits for a go-ahead before sending the body. */
    if (p->http_major == 1 && p->http_minor >= 1 && has_length && p->content_length > 0) {
        const char *h = r->headers.data;
        const char *e = h ? strcasestr(h, "\nexpect: 100-continue") : NULL;
        if (!e && h && strncasecmp(h, "expect: 100-continue", 20) == 0) e = h;
        if (e) write_raw(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    }
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len) {
    http_conn *c = p->data;
    if (c->req.body.len + len > c->srv->cfg.max_body_bytes) {
        c->error_status = 413;
        return -1;
    }
    buf_append(&c->req.body, at, len);
    return 0;
}

static int on_message_complete(http_parser *p) {
    http_conn *c = p->data;
    c->request_ready = true;
    /* One request at a time: stop here; the rest of the input waits for the response. */
    http_parser_pause(p, 1);
    return 0;
}

static void init_settings(void) {
    memset(&parser_settings, 0, sizeof parser_settings);
    parser_settings.on_message_begin = on_message_begin;
    parser_settings.on_url = on_url;
    parser_settings.on_header_field = on_header_field;
    parser_settings.on_header_value = on_header_value;
    parser_settings.on_headers_complete = on_headers_complete;
    parser_settings.on_body = on_body;
    parser_settings.on_message_complete = on_message_complete;
}

/* ---- timers ------------------------------------------------------------------------------ */

static void on_request_timeout(uv_timer_t *t) {
    http_conn *c = t->data;
    if (c->state == CONN_READING) send_error(c, 408, "request not received in time\n");
}

static void on_idle_timeout(uv_timer_t *t) {
    http_conn *c = t->data;
    if (c->state == CONN_IDLE) conn_close(c);
}

static void arm_idle_timer(http_conn *c) {
    uv_timer_start(&c->timer, on_idle_timeout, c->srv->cfg.idle_timeout_ms, 0);
}

/* ---- writing ----------------------------------------------------------------------------- */

typedef struct write_req {
    uv_write_t req;
    http_conn *conn;
    bool close_after;
    size_t len;
    char data[];
} write_req;

static void notify_drain(http_conn *c) {
    http_drain_cb cb = c->drain_cb;
    if (!cb) return;
    c->drain_cb = NULL;
    cb(c->drain_ud, &c->req);
}

static void on_write_done(uv_write_t *w, int status) {
    write_req *wr = (write_req *)w;
    http_conn *c = wr->conn;
    if (c->state == CONN_DETACHED) {
        /* An earlier response that went out after the takeover: nothing more to do here. */
        free(wr);
        return;
    }
    if (status < 0) c->client_gone = true;
    if ((wr->close_after || status < 0) && !c->closing) conn_close(c);
    free(wr);
    if (c->drain_cb &&
        (c->client_gone || c->closing ||
         uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) <= HTTP_DRAIN_LOW_WATER))
        notify_drain(c);
}

/* Writes bufs in order: synchronously when the socket accepts it all, else queued with a copy
 * of what is left (the caller's memory is only borrowed). */
static void write_bufs(http_conn *c, uv_buf_t *bufs, unsigned nbufs, bool close_after) {
    if (c->closing || c->client_gone) {
        if (close_after && !c->closing) conn_close(c);
        return;
    }
    if (nbufs == 0) {
        /* Nothing to write: close once what is queued has gone out. */
        if (close_after) {
            if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) == 0) {
                conn_close(c);
            } else {
                write_req *wr = xmalloc(sizeof *wr);
                wr->conn = c;
                wr->close_after = true;
                wr->len = 0;
                uv_buf_t none = uv_buf_init(NULL, 0);
                if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &none, 1, on_write_done) < 0) {
                    free(wr);
                    conn_close(c);
                }
            }
        }
        return;
    }
    size_t total = 0;
    for (unsigned i = 0; i < nbufs; i++) total += bufs[i].len;
    int n = uv_try_write((uv_stream_t *)&c->tcp, bufs, nbufs);
    size_t written = n > 0 ? (size_t)n : 0;
    if (n < 0 && n != UV_EAGAIN) {
        c->client_gone = true;
        conn_close(c);
        return;
    }
    if (written == total) {
        if (close_after) conn_close(c);
        return;
    }
    write_req *wr = xmalloc(sizeof *wr + (total - written));
    wr->conn = c;
    wr->close_after = close_after;
    wr->len = total - written;
    size_t skip = written, off = 0;
    for (unsigned i = 0; i < nbufs; i++) {
        size_t len = bufs[i].len;
        const char *base = bufs[i].base;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        memcpy(wr->data + off, base + skip, len - skip);
        off += len - skip;
        skip = 0;
    }
    uv_buf_t rest = uv_buf_init(wr->data, (unsigned)wr->len);
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &rest, 1, on_write_done) < 0) {
        free(wr);
        c->client_gone = true;
        conn_close(c);
    }
}

static void write_raw(http_conn *c, const char *data, size_t len) {
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    write_bufs(c, &b, 1, false);
}

static const char *cached_date(http_server *srv) {
    uint64_t now = uv_now(srv->loop);
    if (!srv->date[0] || now - srv->date_ms >= 1000) {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(srv->date, sizeof srv->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        srv->date_ms = now;
    }
    return srv->date;
}

static bool status_has_body(int status) {
    return !(status < 200 || status == 204 || status == 304);
}

/* The response head for `status`; close says whether the connection ends after it. */
static void format_head(http_conn *c, buf *out, int status, const char *reason, const char *lines,
                        size_t lines_len, int64_t body_len, bool close) {
    if (!reason || !*reason) reason = http_status_reason(status);
    buf_printf(out, "HTTP/1.1 %d %s\r\n", status, reason);
    buf_append(out, lines, lines_len);
    if (status_has_body(status) && body_len >= 0)
        buf_printf(out, "content-length: %lld\r\n", (long long)body_len);
    buf_printf(out, "date: %s\r\n", cached_date(c->srv));
    if (close)
        buf_puts(out, "connection: close\r\n");
    else if (c->parser.http_major == 1 && c->parser.http_minor == 0)
        buf_puts(out, "connection: keep-alive\r\n");
    buf_puts(out, "\r\n");
}

/* ---- request lifecycle ------------------------------------------------------------------- */

/* Parses requests that were pipelined behind the one just answered. Runs from the loop:
 * http_respond is typically called from inside the Worker's JavaScript, and the next request
 * must not be dispatched while that code is still on the stack. */
static void on_resume_parsing(uv_timer_t *t) {
    http_conn *c = t->data;
    arm_idle_timer(c);
    conn_parse(c);
}

static void start_next_request(http_conn *c) {
    c->state = CONN_IDLE;
    c->request_ready = false;
    http_parser_pause(&c->parser, 0);
    if (!c->reading && !c->closing && !c->client_gone) {
        /* Reading was paused because too much input was queued; resume. */
        conn_resume_reading(c);
    }
    if (c->in.len > 0)
        uv_timer_start(&c->timer, on_resume_parsing, 0, 0);
    else
        arm_idle_timer(c);
}

static void free_conn(http_conn *c) {
    http_server *srv = c->srv;
    if (c->state == CONN_DETACHED && c->detach_hooks.release) c->detach_hooks.release(c->detach_ud);
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    buf_free(&c->in);
    buf_free(&c->req.target);
    buf_free(&c->req.headers);
    buf_free(&c->req.host);
    buf_free(&c->req.body);
    free(c);
}

/* The request is answered: release it and move the connection on (next request, or close
 * once the last write completed). */
static void finish_request(http_conn *c, bool close) {
    c->state = CONN_IDLE;
    c->streaming = false;
    c->drain_cb = NULL;
    if (c->closing) {
        if (c->handles_open == 0) free_conn(c);
        return;
    }
    if (close) return;
    start_next_request(c);
}

void http_respond(http_request *req, int status, const char *reason, const char *header_lines,
                  size_t header_len, const void *body, size_t body_len) {
    http_conn *c = req->conn;
    http_server *srv = c->srv;
    if (c->state == CONN_HANDLING) srv->busy--;
    bool can_write = !c->closing && !c->client_gone;
    bool close = !req->keep_alive || srv->shutting_down || c->client_gone;
    if (close) c->draining = true;
    if (can_write) {
        buf head = {0};
        format_head(c, &head, status, reason, header_lines, header_len, (int64_t)body_len, close);
        uv_buf_t bufs[2];
        unsigned n = 1;
        bufs[0] = uv_buf_init(head.data, (unsigned)head.len);
        if (!req->is_head && status_has_body(status) && body_len > 0)
            bufs[n++] = uv_buf_init((char *)body, (unsigned)body_len);
        /* With close set, the connection closes once the write completed. */
        write_bufs(c, bufs, n, close);
        buf_free(&head);
    } else if (!c->closing) {
        conn_close(c);
    }
    finish_request(c, close);
}

void http_respond_start(http_request *req, int status, const char *reason, const char *header_lines,
                        size_t header_len, int64_t content_length) {
    http_conn *c = req->conn;
    http_server *srv = c->srv;
    bool http10 = c->parser.http_major == 1 && c->parser.http_minor == 0;
    bool has_body = status_has_body(status);
    c->streaming = true;
    c->body_left = has_body ? content_length : 0;
    c->chunked = has_body && content_length < 0 && !http10;
    /* Without a length or chunking (HTTP/1.0), the end of the body is the end of the
     * connection. */
    c->close_after =
        !req->keep_alive || srv->shutting_down || (has_body && content_length < 0 && http10);
    if (c->close_after) c->draining = true;
    if (c->closing || c->client_gone) return;
    buf head = {0};
    buf lines = {0};
    buf_append(&lines, header_lines, header_len);
    if (c->chunked) buf_puts(&lines, "transfer-encoding: chunked\r\n");
    format_head(c, &head, status, reason, lines.data ? lines.data : "", lines.len,
                c->chunked ? -1 : content_length, c->close_after);
    write_raw(c, head.data, head.len);
    buf_free(&head);
    buf_free(&lines);
}

int64_t http_respond_write(http_request *req, const void *data, size_t len) {
    http_conn *c = req->conn;
    if (c->closing || c->client_gone) return -1;
    if (req->is_head || len == 0 || c->body_left == 0) {
        return (int64_t)uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    }
    if (c->body_left > 0 && (int64_t)len > c->body_left) len = (size_t)c->body_left;
    if (c->body_left > 0) c->body_left -= (int64_t)len;
    if (c->chunked) {
        char size_line[32];
        int n = snprintf(size_line, sizeof size_line, "%zx\r\n", len);
        uv_buf_t bufs[3] = {uv_buf_init(size_line, (unsigned)n),
                            uv_buf_init((char *)data, (unsigned)len),
                            uv_buf_init((char *)"\r\n", 2)};
        write_bufs(c, bufs, 3, false);
    } else {
        uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
        write_bufs(c, &b, 1, false);
    }
    if (c->closing || c->client_gone) return -1;
    return (int64_t)uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
}

void http_respond_end(http_request *req) {
    http_conn *c = req->conn;
    if (c->state == CONN_HANDLING) c->srv->busy--;
    /* A declared length that was not reached cannot be completed: the client must see a
     * truncated body rather than a response that looks whole. */
    if (c->body_left > 0 && !req->is_head) {
        c->close_after = true;
        if (!c->closing) conn_close(c);
        finish_request(c, true);
        return;
    }
    bool close = c->close_after || c->client_gone;
    if (c->closing || c->client_gone) {
        if (!c->closing) conn_close(c);
    } else if (c->chunked && !req->is_head) {
        uv_buf_t b = uv_buf_init((char *)"0\r\n\r\n", 5);
        write_bufs(c, &b, 1, close);
    } else if (close) {
        write_bufs(c, NULL, 0, true);
    }
    finish_request(c, close);
}

void http_respond_abort(http_request *req) {
    http_conn *c = req->conn;
    if (c->state == CONN_HANDLING) c->srv->busy--;
    c->draining = true;
    if (!c->closing) conn_close(c);
    finish_request(c, true);
}

void http_respond_on_drain(http_request *req, http_drain_cb cb, void *ud) {
    http_conn *c = req->conn;
    c->drain_cb = cb;
    c->drain_ud = ud;
    if (c->closing || c->client_gone ||
        uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) <= HTTP_DRAIN_LOW_WATER)
        notify_drain(c);
}

const char *http_request_header(const http_request *req, const char *name, size_t *len) {
    size_t nlen = strlen(name);
    const char *p = req->headers.data, *end = p ? p + req->headers.len : NULL;
    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        if ((size_t)(line_end - p) > nlen + 1 && p[nlen] == ':' &&
            strncasecmp(p, name, nlen) == 0) {
            const char *v = p + nlen + 1;
            while (v < line_end && (*v == ' ' || *v == '\t')) v++;
            const char *ve = line_end;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
            *len = (size_t)(ve - v);
            return v;
        }
        p = eol ? eol + 1 : end;
    }
    return NULL;
}

uv_stream_t *http_request_detach(http_request *req, buf *leftover, const http_detach_hooks *hooks,
                                 void *ud) {
    http_conn *c = req->conn;
    /* During shutdown the hooks would never be called for it: refuse. */
    if (c->state != CONN_HANDLING || c->streaming || c->closing || c->client_gone ||
        c->srv->shutting_down)
        return NULL;
    c->srv->busy--;
    c->state = CONN_DETACHED;
    uv_timer_stop(&c->timer);
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = false;
    }
    if (leftover && c->in.len) buf_append(leftover, c->in.data, c->in.len);
    /* The connection may live for hours: keep none of the request's memory. */
    buf_free(&c->in);
    buf_free(&c->req.target);
    buf_free(&c->req.headers);
    buf_free(&c->req.host);
    buf_free(&c->req.body);
    if (hooks) c->detach_hooks = *hooks;
    c->detach_ud = ud;
    c->tcp.data = NULL;
    return (uv_stream_t *)&c->tcp;
}

void http_detached_close(uv_stream_t *stream) {
    http_conn *c = (http_conn *)((char *)stream - offsetof(http_conn, tcp));
    if (c->closing) return;
    c->closing = true;
    /* on_handle_closed finds the connection through the handle's data. A handle already
     * closed by someone else (uv_walk at the end of a loop) leaves the connection to
     * http_server_free. */
    stream->data = c;
    if (!uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)stream)) uv_close((uv_handle_t *)stream, on_handle_closed);
}

bool http_request_client_gone(const http_request *req) {
    return req->conn->client_gone || req->conn->closing;
}

/* Rejects the request being received with `status` and closes the connection. */
static void send_error(http_conn *c, int status, const char *message) {
    buf head = {0};
    size_t len = strlen(message);
    buf lines = {0};
    buf_puts(&lines, "content-type: text/plain; charset=utf-8\r\n");
    format_head(c, &head, status, NULL, lines.data, lines.len, (int64_t)len, true);
    uv_buf_t bufs[2] = {uv_buf_init(head.data, (unsigned)head.len),
                        uv_buf_init((char *)message, (unsigned)len)};
    c->state = CONN_IDLE;
    c->draining = true;
    uv_timer_stop(&c->timer);
    write_bufs(c, bufs, 2, true);
    buf_free(&head);
    buf_free(&lines);
}

static void conn_parse(http_conn *c) {
    if (c->state == CONN_HANDLING || c->closing || c->draining) return;
    size_t n = http_parser_execute(&c->parser, &parser_settings, c->in.data, c->in.len);
    enum http_errno err = HTTP_PARSER_ERRNO(&c->parser);
    if (err == HPE_PAUSED || err == HPE_OK) {
        buf_consume(&c->in, n);
    } else {
        int status = c->error_status ? c->error_status : 400;
        if (err == HPE_HEADER_OVERFLOW) status = 431;
        const char *msg = status == 413   ? "request body too large\n"
                          : status == 431 ? "request header fields too large\n"
                          : status == 505 ? "only HTTP/1.0 and HTTP/1.1 are supported\n"
                                          : http_errno_description(err);
        char text[256];
        snprintf(text, sizeof text, "%s%s", msg, status == 400 ? "\n" : "");
        buf_clear(&c->in);
        send_error(c, status, text);
        return;
    }
    if (c->request_ready) {
        c->request_ready = false;
        c->state = CONN_HANDLING;
        c->srv->busy++;
        uv_timer_stop(&c->timer);
        c->srv->on_request(c->srv->ud, &c->req);
    }
}

/* ---- connection I/O ---------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out) {
    (void)suggested;
    http_conn *c = h->data;
    buf_reserve(&c->in, READ_CHUNK);
    *out = uv_buf_init(c->in.data + c->in.len, (unsigned)(c->in.cap - c->in.len - 1));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b) {
    (void)b;
    http_conn *c = s->data;
    if (nread < 0) {
        c->client_gone = true;
        if (c->state != CONN_HANDLING) {
            /* A half-received request gets nothing: the client is gone. */
            conn_close(c);
        } else {
            uv_read_stop(s);
            c->reading = false;
        }
        return;
    }
    if (nread == 0) return;
    c->in.len += (size_t)nread;
    c->in.data[c->in.len] = '\0';
    if (c->state == CONN_IDLE && !c->draining) {
        /* The request timer starts with its first byte. */
        uv_timer_start(&c->timer, on_request_timeout, c->srv->cfg.request_timeout_ms, 0);
    }
    if (c->state == CONN_HANDLING) {
        if (c->in.len > MAX_QUEUED_INPUT) {
            uv_read_stop(s);
            c->reading = false;
        }
        return;
    }
    conn_parse(c);
}

static void conn_resume_reading(http_conn *c) {
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) c->reading = true;
}

static void on_handle_closed(uv_handle_t *h) {
    http_conn *c = h->data;
    if (--c->handles_open == 0 && c->state != CONN_HANDLING) free_conn(c);
}

static void conn_close(http_conn *c) {
    if (c->closing) return;
    c->closing = true;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void on_connection(uv_stream_t *listener, int status) {
    http_server *srv = listener->data;
    if (status < 0 || srv->shutting_down) return;
    http_conn *c = xcalloc(1, sizeof *c);
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles_open = 2;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        c->closing = true;
        c->next = srv->conns;
        if (srv->conns) srv->conns->prev = c;
        srv->conns = c;
        uv_close((uv_handle_t *)&c->timer, on_handle_closed);
        uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
        return;
    }
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    uv_tcp_nodelay(&c->tcp, 1);
    struct sockaddr_storage addr;
    int alen = sizeof addr;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&addr, &alen) == 0) {
        if (addr.ss_family == AF_INET6)
            uv_ip6_name((struct sockaddr_in6 *)&addr, c->peer, sizeof c->peer);
        else
            uv_ip4_name((struct sockaddr_in *)&addr, c->peer, sizeof c->peer);
    }
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    c->state = CONN_IDLE;
    arm_idle_timer(c);
    conn_resume_reading(c);
}

http_server *http_server_new(uv_loop_t *loop, int fd, const http_server_config *cfg,
                             http_request_cb on_request, void *ud) {
    uv_once(&settings_once, init_settings);
    /* A process-wide setting of http-parser; every server uses the same limit. */
    http_parser_set_max_header_size((uint32_t)cfg->max_header_bytes);
    http_server *srv = xcalloc(1, sizeof *srv);
    srv->loop = loop;
    srv->cfg = *cfg;
    srv->on_request = on_request;
    srv->ud = ud;
    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    if (uv_tcp_open(&srv->listener, fd) != 0 ||
        uv_listen((uv_stream_t *)&srv->listener, 1024, on_connection) != 0) {
        uv_close((uv_handle_t *)&srv->listener, NULL);
        srv->listener_closed = true;
        return srv;
    }
    return srv;
}

void http_server_shutdown(http_server *srv) {
    if (srv->shutting_down) return;
    srv->shutting_down = true;
    if (!srv->listener_closed) {
        uv_close((uv_handle_t *)&srv->listener, NULL);
        srv->listener_closed = true;
    }
    for (http_conn *c = srv->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == CONN_DETACHED) {
            /* The owner ends its protocol and closes the stream (freed in a close callback,
             * never here, so `next` stays valid). */
            if (!c->closing && c->detach_hooks.shutdown) c->detach_hooks.shutdown(c->detach_ud);
        } else if (c->state != CONN_HANDLING) {
            conn_close(c);
        }
    }
}

size_t http_server_busy(const http_server *srv) {
    return srv->busy;
}

void http_server_free(http_server *srv) {
    if (!srv) return;
    while (srv->conns) free_conn(srv->conns);
    free(srv);
}
