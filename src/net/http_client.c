#include "net/http_client.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"

struct http_fetch {
    http_client *client;
    CURL *easy;
    struct curl_slist *headers;
    http_fetch_callbacks cb;
    void *ud;
    struct http_fetch *next;
    char *url;
    char errbuf[CURL_ERROR_SIZE];
    /* request body */
    bool has_body;
    buf send;
    size_t send_off;
    bool send_ended;
    bool send_paused;
    bool drain_wanted;
    /* response */
    buf block;        /* header lines of the response block being received */
    int block_status; /* its status (0 until its status line) */
    buf reason;
    bool head_ready; /* the final head is complete */
    bool head_sent;
    buf inbox; /* body received and not delivered yet */
    bool recv_paused;
    bool want_data;
    bool done; /* curl finished the transfer */
    CURLcode result;
    char *message; /* the failure, once done */
    bool dead;     /* aborted or finished: freed by the next sweep */
};

#define EASY_POOL_MAX 32

struct http_client {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer; /* curl's timeout */
    uv_timer_t kick;  /* runs process() soon, outside any caller's stack */
    http_fetch *fetches;
    char *ca_file;
    int delivering;
    int open_handles; /* uv handles still to close */
    bool closing;
    /* Finished easy handles kept for the next requests: creating one allocates ~100 KiB in
     * many pieces, a noticeable share of a small proxied request's cost. */
    CURL *idle_easy[EASY_POOL_MAX];
    int idle_count;
};

typedef struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    http_client *client;
} sock_ctx;

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static void global_init(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ---- pure helpers ------------------------------------------------------------------------ */

int http_parse_status_line(const char *line, size_t len, const char **reason, size_t *reason_len) {
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n')) len--;
    if (len < 10 || strncmp(line, "HTTP/", 5) != 0) return -1;
    const char *sp = memchr(line, ' ', len);
    if (!sp) return -1;
    size_t i = (size_t)(sp - line) + 1;
    if (i + 3 > len) return -1;
    int status = 0;
    for (size_t k = 0; k < 3; k++) {
        char ch = line[i + k];
        if (ch < '0' || ch > '9') return -1;
        status = status * 10 + (ch - '0');
    }
    i += 3;
    if (i < len && line[i] != ' ') return -1;
    if (i < len) i++;
    *reason = line + i;
    *reason_len = len - i;
    return status;
}

static bool is_ows(char ch) {
    return ch == ' ' || ch == '\t';
}

bool http_header_line_append(buf *out, const char *line, size_t len) {
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n')) len--;
    if (len == 0) return false;
    if (is_ows(line[0])) {
        /* obs-fold: continues the previous line's value, joined by a space */
        while (len && is_ows(*line)) line++, len--;
        while (len && is_ows(line[len - 1])) len--;
        if (out->len >= 2 && len) {
            out->len -= 2; /* its "\r\n" */
            buf_putc(out, ' ');
            buf_append(out, line, len);
            buf_append(out, "\r\n", 2);
        }
        return false;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon || colon == line) return false;
    size_t nlen = (size_t)(colon - line);
    while (nlen && is_ows(line[nlen - 1])) nlen--;
    const char *v = colon + 1;
    size_t vlen = len - (size_t)(v - line);
    while (vlen && is_ows(*v)) v++, vlen--;
    while (vlen && is_ows(v[vlen - 1])) vlen--;
    buf_append(out, line, nlen);
    buf_append(out, ": ", 2);
    buf_append(out, v, vlen);
    buf_append(out, "\r\n", 2);
    return true;
}

/* ---- curl callbacks (never call out of this file from here) ------------------------------- */

static void schedule(http_client *c);

static size_t on_header(char *p, size_t size, size_t n, void *arg) {
    http_fetch *f = arg;
    size_t len = size * n;
    if (f->head_ready) return len; /* trailers */
    const char *reason;
    size_t rlen;
    int status = http_parse_status_line(p, len, &reason, &rlen);
    if (status >= 0) {
        buf_clear(&f->block);
        buf_clear(&f->reason);
        buf_append(&f->reason, reason, rlen);
        f->block_status = status;
        return len;
    }
    if (len <= 2 && (len == 0 || p[0] == '\r' || p[0] == '\n')) {
        /* the end of a block: interim (1xx) responses are skipped */
        if (f->block_status >= 200) {
            f->head_ready = true;
            schedule(f->client);
        }
        return len;
    }
    http_header_line_append(&f->block, p, len);
    return len;
}

static size_t on_write(char *p, size_t size, size_t n, void *arg) {
    http_fetch *f = arg;
    size_t len = size * n;
    if (f->inbox.len >= HTTP_FETCH_INBOX_MAX) {
        f->recv_paused = true;
        return CURL_WRITEFUNC_PAUSE;
    }
    buf_append(&f->inbox, p, len);
    if (f->want_data) schedule(f->client);
    return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *arg) {
    http_fetch *f = arg;
    size_t cap = size * n;
    size_t avail = f->send.len - f->send_off;
    if (avail == 0) {
        if (f->send_ended) return 0;
        f->send_paused = true;
        return CURL_READFUNC_PAUSE;
    }
    size_t take = avail < cap ? avail : cap;
    memcpy(p, f->send.data + f->send_off, take);
    f->send_off += take;
    if (f->send_off == f->send.len) {
        buf_clear(&f->send);
        f->send_off = 0;
    } else if (f->send_off > 256 * 1024) {
        buf_consume(&f->send, f->send_off);
        f->send_off = 0;
    }
    if (f->drain_wanted && f->send.len - f->send_off < HTTP_FETCH_SEND_LOW) schedule(f->client);
    return take;
}

/* ---- driving curl from the loop ----------------------------------------------------------- */

static void process(http_client *c);

static void on_poll(uv_poll_t *h, int status, int events) {
    sock_ctx *s = h->data;
    http_client *c = s->client;
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    process(c);
}

static void on_timer(uv_timer_t *t) {
    http_client *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    process(c);
}

static void on_kick(uv_timer_t *t) {
    process(t->data);
}

static void schedule(http_client *c) {
    if (!c->closing && !uv_is_active((uv_handle_t *)&c->kick))
        uv_timer_start(&c->kick, on_kick, 0, 0);
}

static void on_handle_closed(uv_handle_t *h) {
    http_client *c = h->data;
    if (--c->open_handles == 0 && c->closing) {
        free(c->ca_file);
        free(c);
    }
}

static void on_sock_closed(uv_handle_t *h) {
    sock_ctx *s = h->data;
    http_client *c = s->client;
    free(s);
    if (--c->open_handles == 0 && c->closing) {
        free(c->ca_file);
        free(c);
    }
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    (void)easy;
    http_client *c = userp;
    sock_ctx *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(c->multi, fd, NULL);
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, on_sock_closed);
        }
        return 0;
    }
    if (!s) {
        s = xcalloc(1, sizeof *s);
        s->fd = fd;
        s->client = c;
        if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        c->open_handles++;
        curl_multi_assign(c->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN) events |= UV_READABLE;
    if (what & CURL_POLL_OUT) events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    http_client *c = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- fetch lifetime ----------------------------------------------------------------------- */

static void detach_easy(http_fetch *f) {
    if (!f->easy) return;
    http_client *c = f->client;
    curl_multi_remove_handle(c->multi, f->easy);
    if (!c->closing && c->idle_count < EASY_POOL_MAX) {
        curl_easy_reset(f->easy);
        c->idle_easy[c->idle_count++] = f->easy;
    } else {
        curl_easy_cleanup(f->easy);
    }
    f->easy = NULL;
    curl_slist_free_all(f->headers);
    f->headers = NULL;
}

static void fetch_free(http_fetch *f) {
    detach_easy(f);
    buf_free(&f->send);
    buf_free(&f->block);
    buf_free(&f->reason);
    buf_free(&f->inbox);
    free(f->message);
    free(f->url);
    free(f);
}

static void sweep(http_client *c) {
    http_fetch **pp = &c->fetches;
    while (*pp) {
        http_fetch *f = *pp;
        if (f->dead) {
            *pp = f->next;
            fetch_free(f);
            continue;
        }
        pp = &f->next;
    }
}

static void set_pause(http_fetch *f) {
    if (!f->easy) return;
    int mask = (f->recv_paused ? CURLPAUSE_RECV : 0) | (f->send_paused ? CURLPAUSE_SEND : 0);
    curl_easy_pause(f->easy, mask);
}

/* "host" of a URL, for messages. */
static void url_host(const char *url, char *out, size_t cap) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) n -= (size_t)(at + 1 - p), p = at + 1;
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
}

static char *describe_failure(http_fetch *f, CURLcode code) {
    char host[256];
    url_host(f->url, host, sizeof host);
    buf m = {0};
    const char *detail = f->errbuf[0] ? f->errbuf : curl_easy_strerror(code);
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
        buf_printf(&m, "DNS lookup failed: could not resolve host \"%s\"", host);
        break;
    case CURLE_COULDNT_CONNECT:
        buf_printf(&m, "Could not connect to %s: %s", host, detail);
        break;
    case CURLE_OPERATION_TIMEDOUT:
        buf_printf(&m, "The request to %s timed out (%s)", host, detail);
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_USE_SSL_FAILED:
        buf_printf(&m, "TLS error talking to %s: %s", host, detail);
        break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
        buf_printf(&m, "Network connection lost. (%s: %s)", host, detail);
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
        buf_printf(&m, "Fetch API cannot load: %s", detail);
        break;
    case CURLE_WEIRD_SERVER_REPLY:
        buf_printf(&m, "The origin %s sent an invalid HTTP response: %s", host, detail);
        break;
    default:
        buf_printf(&m, "fetch to %s failed: %s", host, detail);
    }
    return buf_detach(&m, NULL);
}

static void finish(http_fetch *f, const char *message) {
    f->dead = true;
    if (f->cb.on_done) f->cb.on_done(f->ud, message);
}

/* Delivers what a fetch has for its owner. Returns false once the fetch is gone. */
static bool deliver(http_fetch *f) {
    if (f->done && !f->head_sent && (f->result != CURLE_OK || !f->head_ready)) {
        finish(f, f->message ? f->message : "The origin sent no response.");
        return false;
    }
    if (f->head_ready && !f->head_sent) {
        f->head_sent = true;
        if (f->cb.on_head)
            f->cb.on_head(f->ud, f->block_status, f->reason.data ? f->reason.data : "",
                          f->reason.len, f->block.data ? f->block.data : "", f->block.len);
        if (f->dead) return false;
    }
    if (f->drain_wanted && (f->done || f->send.len - f->send_off < HTTP_FETCH_SEND_LOW)) {
        f->drain_wanted = false;
        if (f->cb.on_drain) f->cb.on_drain(f->ud);
        if (f->dead) return false;
    }
    if (f->head_sent && f->want_data) {
        if (f->inbox.len) {
            f->want_data = false;
            buf chunk = f->inbox;
            memset(&f->inbox, 0, sizeof f->inbox);
            if (f->recv_paused) {
                f->recv_paused = false;
                set_pause(f); /* may append to the inbox at once */
                schedule(f->client);
            }
            if (f->cb.on_data) f->cb.on_data(f->ud, (const uint8_t *)chunk.data, chunk.len);
            buf_free(&chunk);
            if (f->dead) return false;
        } else if (f->done) {
            f->want_data = false;
            finish(f, f->result == CURLE_OK ? NULL : f->message);
            return false;
        }
    }
    return true;
}

static void process(http_client *c) {
    if (c->closing) return;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        http_fetch *f = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        if (!f) continue;
        CURLcode code = msg->data.result;
        f->done = true;
        f->result = code;
        if (code != CURLE_OK) f->message = describe_failure(f, code);
        detach_easy(f); /* msg is invalid from here */
    }
    c->delivering++;
    for (http_fetch *f = c->fetches; f; f = f->next)
        if (!f->dead) deliver(f);
    c->delivering--;
    if (c->delivering == 0) sweep(c);
}

/* ---- API ---------------------------------------------------------------------------------- */

http_client *http_client_new(uv_loop_t *loop, const char *ca_file) {
    pthread_once(&global_once, global_init);
    http_client *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->multi = curl_multi_init();
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    uv_timer_init(loop, &c->kick);
    c->kick.data = c;
    c->open_handles = 2;
    if (ca_file && *ca_file) c->ca_file = xstrdup(ca_file);
    return c;
}

void http_client_close(http_client *c) {
    if (!c) return;
    while (c->fetches) {
        http_fetch *f = c->fetches;
        c->fetches = f->next;
        fetch_free(f);
    }
    c->closing = true;
    while (c->idle_count > 0) curl_easy_cleanup(c->idle_easy[--c->idle_count]);
    curl_multi_cleanup(c->multi); /* closes the cached connections: sockets are removed */
    c->multi = NULL;
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->kick, on_handle_closed);
}

http_fetch *http_fetch_start(http_client *c, const http_fetch_options *o,
                             const http_fetch_callbacks *cb, void *ud, const char **err) {
    CURL *e = c->idle_count > 0 ? c->idle_easy[--c->idle_count] : curl_easy_init();
    if (!e) {
        *err = "could not create a request";
        return NULL;
    }
    http_fetch *f = xcalloc(1, sizeof *f);
    f->client = c;
    f->easy = e;
    f->cb = *cb;
    f->ud = ud;
    f->url = xstrdup(o->url);
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)f);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* redirects are the runtime's */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
    if (o->timeout_ms) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->timeout_ms);
    if (c->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);

    const char *m = o->method;
    bool head = strcmp(m, "HEAD") == 0;
    if (o->body_length != -1) {
        f->has_body = true;
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, f);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(o->body_length >= 0 ? o->body_length : -1));
        if (strcmp(m, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    } else if (head) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        if (strcmp(m, "GET") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
    /* Header lines as given; curl's own defaults are dropped (no Accept, no Expect). */
    struct curl_slist *list = NULL;
    bool has_accept = false, has_type = false;
    const char *p = o->header_lines, *end = o->header_lines + o->header_lines_len;
    buf line = {0};
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t len = (size_t)(stop - p);
        if (len && p[len - 1] == '\r') len--;
        const char *colon = memchr(p, ':', len);
        if (colon && colon > p) {
            size_t nlen = (size_t)(colon - p);
            const char *v = colon + 1;
            while (v < p + len && is_ows(*v)) v++;
            size_t vlen = (size_t)(p + len - v);
            buf_clear(&line);
            buf_append(&line, p, nlen);
            if (nlen == 6 && strncasecmp(p, "accept", 6) == 0) has_accept = true;
            if (nlen == 12 && strncasecmp(p, "content-type", 12) == 0) has_type = true;
            /* curl writes "Name;" for a header with an empty value */
            buf_append(&line, vlen ? ": " : ";", vlen ? 2 : 1);
            buf_append(&line, v, vlen);
            list = curl_slist_append(list, line.data);
        }
        p = nl ? nl + 1 : end;
    }
    buf_free(&line);
    if (!has_accept) list = curl_slist_append(list, "Accept:");
    /* a body without a type stays without one (curl would call a POST a form) */
    if (f->has_body && !has_type) list = curl_slist_append(list, "Content-Type:");
    list = curl_slist_append(list, "Expect:");
    f->headers = list;
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);

    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        *err = "could not start the request";
        curl_easy_cleanup(e);
        f->easy = NULL;
        fetch_free(f);
        return NULL;
    }
    f->next = c->fetches;
    c->fetches = f;
    return f;
}

int64_t http_fetch_write(http_fetch *f, const void *data, size_t len) {
    if (!f->has_body || f->send_ended || f->done || f->dead) return -1;
    buf_append(&f->send, data, len);
    if (f->send_paused) {
        f->send_paused = false;
        set_pause(f);
    }
    return (int64_t)(f->send.len - f->send_off);
}

void http_fetch_end_body(http_fetch *f) {
    if (!f->has_body || f->send_ended) return;
    f->send_ended = true;
    if (f->send_paused) {
        f->send_paused = false;
        set_pause(f);
    }
}

void http_fetch_wait_drain(http_fetch *f) {
    f->drain_wanted = true;
    schedule(f->client);
}

void http_fetch_want_data(http_fetch *f) {
    f->want_data = true;
    schedule(f->client);
}

void http_fetch_abort(http_fetch *f) {
    if (!f || f->dead) return;
    f->dead = true;
    detach_easy(f);
    if (f->client->delivering == 0) sweep(f->client);
}
