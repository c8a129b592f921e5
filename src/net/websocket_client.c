#include "net/websocket_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "net/websocket_handshake.h"

#define MAX_RESPONSE_HEAD (16 * 1024)

struct ws_client {
    int fd;
    wslay_event_context_ptr ctx;
    buf pending; /* bytes read with the handshake response, given to wslay first */
    size_t pending_off;
    bool eof;    /* the server closed the TCP connection */
    bool failed; /* a socket error: the connection is over */
    ws_client_message_cb cb;
    void *ud;
    char reason[124];
    size_t reason_len;
    char protocol[64];
};

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline (0: none). >0 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline) {
    for (;;) {
        int wait = -1;
        if (deadline) {
            uint64_t now = now_ms();
            wait = now >= deadline ? 0 : (int)(deadline - now);
        }
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, wait);
        if (r < 0 && errno == EINTR) continue;
        return r;
    }
}

/* ---- the URL ------------------------------------------------------------------------------ */

typedef struct ws_url {
    char host[256];      /* without brackets */
    char port[8];        /* "80" by default */
    char authority[300]; /* for the Host header, as written */
    const char *path;    /* "/..." in the URL, or "" */
    size_t path_len;
} ws_url;

static int parse_url(const char *url, ws_url *u, char *err, size_t errlen) {
    const char *rest;
    if (strncasecmp(url, "ws://", 5) == 0) {
        rest = url + 5;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        rest = url + 7;
    } else if (strncasecmp(url, "wss://", 6) == 0 || strncasecmp(url, "https://", 8) == 0) {
        snprintf(err, errlen,
                 "%s: wss:// and https:// are not supported yet (no TLS in the WebSocket "
                 "client); use ws:// or http://, through a TLS-terminating proxy if needed",
                 url);
        return -1;
    } else {
        snprintf(err, errlen, "%s: expected a ws:// or http:// URL", url);
        return -1;
    }
    size_t alen = strcspn(rest, "/?#");
    if (alen == 0 || alen >= sizeof u->authority) {
        snprintf(err, errlen, "%s: the URL has no host", url);
        return -1;
    }
    memcpy(u->authority, rest, alen);
    u->authority[alen] = '\0';
    if (memchr(u->authority, '@', alen)) {
        snprintf(err, errlen, "%s: credentials in the URL are not supported", url);
        return -1;
    }
    const char *a = u->authority, *port = NULL;
    size_t hlen;
    if (a[0] == '[') {
        const char *close = strchr(a, ']');
        if (!close || (close[1] && close[1] != ':')) {
            snprintf(err, errlen, "%s: bad IPv6 address", url);
            return -1;
        }
        hlen = (size_t)(close - a - 1);
        memcpy(u->host, a + 1, hlen);
        if (close[1] == ':') port = close + 2;
    } else {
        const char *colon = strchr(a, ':');
        hlen = colon ? (size_t)(colon - a) : alen;
        memcpy(u->host, a, hlen);
        if (colon) port = colon + 1;
    }
    u->host[hlen] = '\0';
    snprintf(u->port, sizeof u->port, "80");
    if (port) {
        char *end;
        long p = strtol(port, &end, 10);
        if (!*port || *end || p < 1 || p > 65535) {
            snprintf(err, errlen, "%s: bad port", url);
            return -1;
        }
        snprintf(u->port, sizeof u->port, "%ld", p);
    }
    if (hlen == 0) {
        snprintf(err, errlen, "%s: the URL has no host", url);
        return -1;
    }
    u->path = rest + alen;
    u->path_len = strcspn(u->path, "#");
    return 0;
}

/* ---- connecting and the handshake --------------------------------------------------------- */

static int connect_to(const ws_url *u, uint64_t deadline, char *err, size_t errlen) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", u->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, last_errno = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            int e = errno;
            if (e == EINPROGRESS) {
                socklen_t elen = sizeof e;
                if (wait_fd(fd, POLLOUT, deadline) <= 0)
                    e = ETIMEDOUT;
                else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
                    e = errno;
            }
            if (e != 0) {
                last_errno = e;
                close(fd);
                fd = -1;
            }
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "cannot connect to %s:%s: %s", u->host, u->port,
                 strerror(last_errno ? last_errno : ECONNREFUSED));
    return fd;
}

static int send_all(int fd, const char *p, size_t len, uint64_t deadline) {
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) <= 0) return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Reads into b until it holds "\r\n\r\n" (returns the head's length) or fails (-1). */
static long read_head(int fd, buf *b, uint64_t deadline, char *err, size_t errlen) {
    for (;;) {
        char *end = b->data ? strstr(b->data, "\r\n\r\n") : NULL;
        if (end) return end + 4 - b->data;
        if (b->len > MAX_RESPONSE_HEAD) {
            snprintf(err, errlen, "the server's response head is too large");
            return -1;
        }
        buf_reserve(b, 4096);
        ssize_t n = recv(fd, b->data + b->len, 4096, 0);
        if (n > 0) {
            b->len += (size_t)n;
            b->data[b->len] = '\0';
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLIN, deadline) <= 0) {
                snprintf(err, errlen, "no answer to the WebSocket handshake in time");
                return -1;
            }
        } else {
            snprintf(err, errlen, "the server closed the connection during the handshake");
            return -1;
        }
    }
}

/* The header lines of a response head (after its status line). */
static const char *head_lines(const char *head, size_t head_len, size_t *len) {
    const char *p = memchr(head, '\n', head_len);
    if (!p) return NULL;
    *len = (size_t)(head + head_len - (p + 1));
    return p + 1;
}

/* A refused handshake: the status line and the first line of the body (what the server says
 * is wrong: "missing token", ...). */
static void describe_refusal(int fd, buf *resp, long head_len, uint64_t deadline, char *err,
                             size_t errlen) {
    size_t cl_len = 0;
    const char *cl = head_lines(resp->data, (size_t)head_len, &cl_len);
    cl = cl ? ws_header_field(cl, cl_len, "content-length", &cl_len) : NULL;
    size_t want = cl ? (size_t)strtoul(cl, NULL, 10) : 0;
    if (want > 512) want = 512;
    while (resp->len - (size_t)head_len < want) {
        buf_reserve(resp, 512);
        ssize_t n = recv(fd, resp->data + resp->len, 512, 0);
        if (n > 0) {
            resp->len += (size_t)n;
            resp->data[resp->len] = '\0';
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLIN, deadline) <= 0) break;
        } else {
            break;
        }
    }
    const char *status = strchr(resp->data, ' ');
    int slen = status ? (int)strcspn(status + 1, "\r\n") : 0;
    const char *body = resp->data + head_len;
    int blen = (int)strcspn(body, "\r\n");
    if (blen > (int)want) blen = (int)want;
    snprintf(err, errlen, "the server answered %.*s%s%.*s", slen, status ? status + 1 : "",
             blen ? ": " : "", blen, body);
}

static int handshake(ws_client *c, const ws_url *u, const ws_client_options *opt, uint64_t deadline,
                     char *err, size_t errlen, int *http_status) {
    char key[25], expected[WS_ACCEPT_LEN + 1];
    if (!ws_client_key(key, expected)) {
        snprintf(err, errlen, "no random bytes for the WebSocket key");
        return -1;
    }
    buf req = {0};
    ws_handshake_request(&req, u->path, u->path_len, u->authority, key, opt->protocols,
                         opt->headers);
    int rc = send_all(c->fd, req.data, req.len, deadline);
    buf_free(&req);
    if (rc != 0) {
        snprintf(err, errlen, "cannot send the WebSocket handshake: %s", strerror(errno));
        return -1;
    }

    buf resp = {0};
    long head_len = read_head(c->fd, &resp, deadline, err, errlen);
    if (head_len < 0) {
        buf_free(&resp);
        return -1;
    }
    int status = 0;
    if (sscanf(resp.data, "HTTP/1.%*d %d", &status) != 1) {
        snprintf(err, errlen, "the server did not answer with HTTP");
        buf_free(&resp);
        return -1;
    }
    if (status != 101) {
        if (http_status) *http_status = status;
        describe_refusal(c->fd, &resp, head_len, deadline, err, errlen);
        buf_free(&resp);
        return -1;
    }
    size_t lines_len = 0;
    const char *lines = head_lines(resp.data, (size_t)head_len, &lines_len);
    const char *bad = ws_check_handshake(lines ? lines : "", lines ? lines_len : 0, expected,
                                         opt->protocols, c->protocol, sizeof c->protocol);
    if (bad) {
        snprintf(err, errlen, "the server's WebSocket handshake has %s", bad);
        buf_free(&resp);
        return -1;
    }
    /* Frames the server sent right behind its 101. */
    buf_append(&c->pending, resp.data + head_len, resp.len - (size_t)head_len);
    buf_free(&resp);
    return 0;
}

/* ---- wslay callbacks ---------------------------------------------------------------------- */

static ssize_t recv_cb(wslay_event_context_ptr ctx, uint8_t *out, size_t len, int flags,
                       void *user) {
    (void)flags;
    ws_client *c = user;
    if (c->pending_off < c->pending.len) {
        size_t n = c->pending.len - c->pending_off;
        if (n > len) n = len;
        memcpy(out, c->pending.data + c->pending_off, n);
        c->pending_off += n;
        return (ssize_t)n;
    }
    ssize_t n = recv(c->fd, out, len, 0);
    if (n > 0) return n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    } else {
        if (n == 0)
            c->eof = true;
        else
            c->failed = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    }
    return -1;
}

static ssize_t send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user) {
    (void)flags;
    ws_client *c = user;
    ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
    if (n >= 0) return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    } else {
        c->failed = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    }
    return -1;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user) {
    (void)ctx;
    ws_client *c = user;
    if (arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) {
        if (c->cb)
            c->cb(c->ud, arg->opcode == WSLAY_TEXT_FRAME ? WS_TEXT : WS_BINARY, arg->msg,
                  arg->msg_length);
    } else if (arg->opcode == WSLAY_CONNECTION_CLOSE && arg->msg_length > 2) {
        size_t n = arg->msg_length - 2;
        if (n >= sizeof c->reason) n = sizeof c->reason - 1;
        memcpy(c->reason, arg->msg + 2, n);
        c->reason_len = n;
    }
}

/* ---- the API ------------------------------------------------------------------------------ */

ws_client *ws_client_connect(const char *url, const ws_client_options *options, char *err,
                             size_t errlen, int *http_status) {
    ws_client_options opt = {0};
    if (options) opt = *options;
    if (opt.timeout_ms <= 0) opt.timeout_ms = 10000;
    if (!opt.max_message_bytes) opt.max_message_bytes = 16 * 1024 * 1024;
    if (http_status) *http_status = 0;
    ws_url u;
    if (parse_url(url, &u, err, errlen) != 0) return NULL;
    uint64_t deadline = now_ms() + (uint64_t)opt.timeout_ms;
    int fd = connect_to(&u, deadline, err, errlen);
    if (fd < 0) return NULL;
    ws_client *c = xcalloc(1, sizeof *c);
    c->fd = fd;
    if (handshake(c, &u, &opt, deadline, err, errlen, http_status) != 0) {
        ws_client_free(c);
        return NULL;
    }
    struct wslay_event_callbacks callbacks = {recv_cb, send_cb, ws_genmask_cb, NULL,
                                              NULL,    NULL,    on_msg};
    if (wslay_event_context_client_init(&c->ctx, &callbacks, c) != 0) {
        snprintf(err, errlen, "out of memory");
        ws_client_free(c);
        return NULL;
    }
    wslay_event_config_set_max_recv_msg_length(c->ctx, opt.max_message_bytes);
    return c;
}

static bool client_over(const ws_client *c) {
    return c->failed || (!wslay_event_want_read(c->ctx) && !wslay_event_want_write(c->ctx));
}

int ws_client_run(ws_client *c, int timeout_ms, ws_client_message_cb cb, void *ud, char *err,
                  size_t errlen) {
    c->cb = cb;
    c->ud = ud;
    uint64_t deadline = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        /* Bytes that came with the handshake are not on the socket: read them first. */
        if (c->pending_off < c->pending.len && wslay_event_want_read(c->ctx))
            wslay_event_recv(c->ctx);
        if (wslay_event_want_write(c->ctx)) wslay_event_send(c->ctx);
        if (c->eof && wslay_event_want_write(c->ctx) == 0) wslay_event_shutdown_read(c->ctx);
        if (client_over(c)) return 0;
        short events = 0;
        if (wslay_event_want_read(c->ctx)) events |= POLLIN;
        if (wslay_event_want_write(c->ctx)) events |= POLLOUT;
        int wait = -1;
        if (deadline) {
            uint64_t now = now_ms();
            if (now >= deadline) return 1;
            wait = (int)(deadline - now);
        }
        struct pollfd p = {c->fd, events, 0};
        int r = poll(&p, 1, wait);
        if (r < 0 && errno == EINTR) return 1;
        if (r < 0) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        if (r == 0) return 1;
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) wslay_event_recv(c->ctx);
        if ((p.revents & POLLOUT) && wslay_event_want_write(c->ctx)) wslay_event_send(c->ctx);
        /* A connection that dropped is over once nothing is left to try. */
        if (c->eof || c->failed) {
            wslay_event_shutdown_read(c->ctx);
            if (c->failed || !wslay_event_want_write(c->ctx)) return 0;
        }
    }
}

bool ws_client_send(ws_client *c, ws_opcode op, const void *data, size_t len) {
    struct wslay_event_msg msg = {op == WS_TEXT ? WSLAY_TEXT_FRAME : WSLAY_BINARY_FRAME, data, len};
    if (c->failed || wslay_event_queue_msg(c->ctx, &msg) != 0) return false;
    wslay_event_send(c->ctx);
    return true;
}

void ws_client_close(ws_client *c, int code, const char *reason) {
    size_t n = reason ? strlen(reason) : 0;
    if (n > 123) n = 123;
    if (wslay_event_queue_close(c->ctx, (uint16_t)code, (const uint8_t *)reason, n) == 0)
        wslay_event_send(c->ctx);
}

int ws_client_close_code(const ws_client *c, const char **reason, size_t *reason_len) {
    bool received = c->ctx && wslay_event_get_close_received(c->ctx);
    if (reason) *reason = c->reason;
    if (reason_len) *reason_len = received ? c->reason_len : 0;
    return received ? wslay_event_get_status_code_received(c->ctx) : WS_CLOSE_ABNORMAL;
}

const char *ws_client_protocol(const ws_client *c) {
    return c->protocol;
}

void ws_client_free(ws_client *c) {
    if (!c) return;
    if (c->fd >= 0) close(c->fd);
    wslay_event_context_free(c->ctx);
    buf_free(&c->pending);
    free(c);
}
