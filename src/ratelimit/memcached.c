/* memcached — the client (see memcached.h for what it promises).
 *
 * Per server, an mc_conn: a state (down / connecting / up), the socket of the current attempt,
 * the queue of commands sent or about to be sent (in order: replies come back in that order),
 * an output buffer the commands are encoded into, and two timers: one for the oldest command's
 * deadline, one for the connect timeout or the backoff wait.
 *
 * Callbacks that cannot be answered by a server (server down, queue full, bad key) go through
 * the client's `deferred` queue and an idle handle, which is what keeps them asynchronous.
 *
 * Reentrancy: a callback may issue commands or close the client. Queues are therefore popped
 * one command at a time with the callback called after the pop, a failing connection is marked
 * down before its commands are told, and every loop that calls callbacks stops as soon as the
 * client is closing (mc_client_close then answers whatever is left). */
#include "ratelimit/memcached.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "ratelimit/consistent_hash.h"
#include "ratelimit/memcached_reply.h"

#define READ_CHUNK 65536
/* Buffers that grew past this for a burst are given back once empty. */
#define BUF_KEEP (256 * 1024)

enum { OP_GET, OP_INCR, OP_DECR };

typedef enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_UP } conn_state;

typedef struct mc_cmd {
    mc_cb cb;
    void *arg;
    uint64_t when; /* queued: the deadline (loop time, ms); deferred: the value to report */
    uint32_t seq;  /* the opaque token sent with it */
    int8_t status; /* deferred: the status to report */
    uint8_t op;
    bool dead; /* timed out while connecting: already answered, its reply is skipped */
} mc_cmd;

/* A ring buffer of commands (cap a power of two). */
typedef struct mc_queue {
    mc_cmd *items;
    uint32_t head, count, cap;
} mc_queue;

typedef struct mc_conn mc_conn;

/* One connection attempt: a fresh TCP handle each time, since a closed one is only reusable
 * after its close callback. */
typedef struct mc_sock {
    uv_tcp_t tcp;
    uv_connect_t connect;
    mc_conn *conn;
} mc_sock;

struct mc_conn {
    mc_client *client;
    char *name; /* the entry as written, e.g. "10.0.0.1:11211" */
    struct sockaddr_storage addr;
    conn_state state;
    mc_sock *sock; /* the current attempt; NULL while down */
    uv_timer_t deadline_timer;
    uv_timer_t state_timer; /* connect timeout while connecting, backoff wait while down */
    mc_queue pending;
    uint32_t ndead; /* pending's first ndead commands are dead (see mc_cmd.dead) */
    buf out, in;
    uint32_t next_seq;
    unsigned failures; /* consecutive; sets the backoff */
    bool dirty;        /* has output waiting for the next flush */
};

struct mc_client {
    uv_loop_t *loop;
    mc_options opt;
    mc_conn *conns;
    size_t nconns;
    ch_ring *ring;
    mc_queue deferred;
    uv_idle_t defer_idle;
    uv_prepare_t flush_prepare;
    uv_check_t flush_check;
    size_t ndirty;
    int open_handles; /* the client is freed when the last one has closed after mc_client_close */
    bool closing;
    uint64_t rng;
    /* Written by the loop thread, read by mc_client_stats from any thread (/metrics). */
    atomic_uint_fast64_t sent, ok, errors, timeouts, reconnects;
    atomic_uint servers_up;
    uint32_t servers;
};

/* Every change of a connection's state goes through here, to keep servers_up true. */
static void set_state(mc_conn *cn, conn_state st) {
    if (cn->state == CONN_UP && st != CONN_UP)
        atomic_fetch_sub_explicit(&cn->client->servers_up, 1, memory_order_relaxed);
    else if (cn->state != CONN_UP && st == CONN_UP)
        atomic_fetch_add_explicit(&cn->client->servers_up, 1, memory_order_relaxed);
    cn->state = st;
}

typedef struct mc_write {
    uv_write_t req;
    mc_sock *sock;
    char data[];
} mc_write;

static void conn_connect(mc_conn *cn);
static void conn_fail(mc_conn *cn, int status);

/* ---- options and statuses ------------------------------------------------------------------ */

void mc_options_defaults(mc_options *o) {
    memset(o, 0, sizeof *o);
    o->timeout_ms = 250;
    o->connect_timeout_ms = 1000;
    o->backoff_min_ms = 100;
    o->backoff_max_ms = 5000;
}

const char *mc_strerror(int status) {
    switch (status) {
    case MC_OK:
        return "ok";
    case MC_MISS:
        return "not found";
    case MC_ETIMEDOUT:
        return "memcached timed out";
    case MC_EDOWN:
        return "memcached server down";
    case MC_EPROTO:
        return "memcached protocol error";
    case MC_ECANCELED:
        return "canceled";
    }
    return "unknown memcached status";
}

/* ---- command queues ------------------------------------------------------------------------ */

static void queue_push(mc_queue *q, const mc_cmd *cmd) {
    if (q->count == q->cap) {
        uint32_t cap = q->cap ? q->cap * 2 : 64;
        mc_cmd *items = xmalloc(cap * sizeof *items);
        for (uint32_t i = 0; i < q->count; i++) items[i] = q->items[(q->head + i) & (q->cap - 1)];
        free(q->items);
        q->items = items;
        q->head = 0;
        q->cap = cap;
    }
    q->items[(q->head + q->count) & (q->cap - 1)] = *cmd;
    q->count++;
}

static mc_cmd *queue_at(mc_queue *q, uint32_t i) {
    return &q->items[(q->head + i) & (q->cap - 1)];
}

static mc_cmd queue_pop(mc_queue *q) {
    mc_cmd cmd = q->items[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    q->count--;
    return cmd;
}

static void queue_free(mc_queue *q) {
    free(q->items);
    memset(q, 0, sizeof *q);
}

/* ---- deferred callbacks -------------------------------------------------------------------- */

static void on_defer_idle(uv_idle_t *h) {
    mc_client *c = h->data;
    /* Only those queued before this pass: a callback that retries into a down server must not
     * keep this loop going forever. */
    uint32_t n = c->deferred.count;
    while (n-- && !c->closing) {
        mc_cmd cmd = queue_pop(&c->deferred);
        cmd.cb(cmd.arg, cmd.status, cmd.when);
    }
    if (!c->closing && c->deferred.count == 0) uv_idle_stop(&c->defer_idle);
}

/* Answers a command from the next loop iteration (an active idle handle also keeps the loop
 * from blocking in poll meanwhile). */
static void defer(mc_client *c, mc_cb cb, void *arg, int status, uint64_t value) {
    if (status == MC_EDOWN || status == MC_EPROTO)
        atomic_fetch_add_explicit(&c->errors, 1, memory_order_relaxed);
    if (!cb) return;
    mc_cmd cmd = {.cb = cb, .arg = arg, .when = value, .status = (int8_t)status};
    queue_push(&c->deferred, &cmd);
    if (!c->closing && !uv_is_active((uv_handle_t *)&c->defer_idle))
        uv_idle_start(&c->defer_idle, on_defer_idle);
}

static void count_result(mc_client *c, int status) {
    if (status == MC_OK || status == MC_MISS)
        atomic_fetch_add_explicit(&c->ok, 1, memory_order_relaxed);
    else if (status == MC_ETIMEDOUT)
        atomic_fetch_add_explicit(&c->timeouts, 1, memory_order_relaxed);
    else if (status != MC_ECANCELED)
        atomic_fetch_add_explicit(&c->errors, 1, memory_order_relaxed);
}

/* ---- handles and memory -------------------------------------------------------------------- */

static void client_free(mc_client *c) {
    for (size_t i = 0; i < c->nconns; i++) {
        mc_conn *cn = &c->conns[i];
        free(cn->name);
        queue_free(&cn->pending);
        buf_free(&cn->out);
        buf_free(&cn->in);
    }
    free(c->conns);
    ch_ring_free(c->ring);
    queue_free(&c->deferred);
    free(c);
}

static void on_handle_closed(uv_handle_t *h) {
    mc_client *c = h->data;
    if (--c->open_handles == 0 && c->closing) client_free(c);
}

static void on_sock_closed(uv_handle_t *h) {
    mc_sock *s = h->data;
    mc_client *c = s->conn->client;
    free(s);
    if (--c->open_handles == 0 && c->closing) client_free(c);
}

/* Drops the connection's socket and everything in flight on it (not the queue). */
static void conn_drop_socket(mc_conn *cn) {
    if (cn->sock) {
        uv_close((uv_handle_t *)&cn->sock->tcp, on_sock_closed);
        cn->sock = NULL;
    }
    buf_clear(&cn->out);
    buf_clear(&cn->in);
    if (cn->out.cap > BUF_KEEP) buf_free(&cn->out);
    if (cn->in.cap > BUF_KEEP) buf_free(&cn->in);
}

/* ---- flushing ------------------------------------------------------------------------------ */

static void on_write(uv_write_t *req, int status) {
    mc_write *w = (mc_write *)req;
    mc_sock *s = w->sock;
    free(w);
    if (status < 0 && status != UV_ECANCELED && s->conn->sock == s && !s->conn->client->closing)
        conn_fail(s->conn, MC_EDOWN);
}

/* Hands the output buffer to the socket: what the kernel takes at once, then the rest as a
 * queued write (libuv keeps writes in order). */
static void conn_flush(mc_conn *cn) {
    if (cn->state != CONN_UP || cn->out.len == 0) return;
    uv_stream_t *stream = (uv_stream_t *)&cn->sock->tcp;
    size_t done = 0;
    if (uv_stream_get_write_queue_size(stream) == 0) {
        uv_buf_t b = uv_buf_init(cn->out.data, (unsigned)cn->out.len);
        int n = uv_try_write(stream, &b, 1);
        if (n < 0 && n != UV_EAGAIN) {
            conn_fail(cn, MC_EDOWN);
            return;
        }
        if (n > 0) done = (size_t)n;
    }
    if (done < cn->out.len) {
        size_t rest = cn->out.len - done;
        mc_write *w = xmalloc(sizeof *w + rest);
        memcpy(w->data, cn->out.data + done, rest);
        w->sock = cn->sock;
        uv_buf_t b = uv_buf_init(w->data, (unsigned)rest);
        if (uv_write(&w->req, stream, &b, 1, on_write) != 0) {
            free(w);
            conn_fail(cn, MC_EDOWN);
            return;
        }
    }
    buf_clear(&cn->out);
    if (cn->out.cap > BUF_KEEP) buf_free(&cn->out);
}

static void flush_all(mc_client *c) {
    for (size_t i = 0; i < c->nconns && !c->closing; i++) {
        mc_conn *cn = &c->conns[i];
        if (!cn->dirty) continue;
        cn->dirty = false;
        c->ndirty--;
        conn_flush(cn);
    }
    if (!c->closing && c->ndirty == 0) {
        uv_prepare_stop(&c->flush_prepare);
        uv_check_stop(&c->flush_check);
    }
}

/* Prepare runs just before the loop blocks for I/O and check right after the I/O callbacks, so
 * between them every command issued in a loop phase leaves in one write, before any wait. */
static void on_flush_prepare(uv_prepare_t *h) {
    flush_all(h->data);
}
static void on_flush_check(uv_check_t *h) {
    flush_all(h->data);
}

static void mark_dirty(mc_conn *cn) {
    mc_client *c = cn->client;
    if (cn->dirty) return;
    cn->dirty = true;
    if (c->ndirty++ == 0) {
        uv_prepare_start(&c->flush_prepare, on_flush_prepare);
        uv_check_start(&c->flush_check, on_flush_check);
    }
}

/* ---- failures, backoff, timeouts ----------------------------------------------------------- */

static uint64_t next_random(mc_client *c) {
    /* xorshift64*: plenty for jitter. */
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 0x2545f4914f6cdd1dULL;
}

/* min * 2^(failures-1), capped at max, then jittered down by up to a quarter so that clients
 * that lost a server together do not all come back in the same millisecond. */
static uint64_t backoff_ms(mc_conn *cn) {
    mc_client *c = cn->client;
    uint64_t d = c->opt.backoff_min_ms;
    for (unsigned i = 1; i < cn->failures && d < c->opt.backoff_max_ms; i++) d *= 2;
    if (d > c->opt.backoff_max_ms) d = c->opt.backoff_max_ms;
    return d - next_random(c) % (d / 4 + 1);
}

static void on_backoff_done(uv_timer_t *t) {
    mc_conn *cn = t->data;
    atomic_fetch_add_explicit(&cn->client->reconnects, 1, memory_order_relaxed);
    conn_connect(cn);
}

/* The connection failed: drop it, mark the server down until the backoff has passed, and fail
 * what was pending on it with status. */
static void conn_fail(mc_conn *cn, int status) {
    mc_client *c = cn->client;
    conn_drop_socket(cn);
    set_state(cn, CONN_DOWN);
    cn->failures++;
    uv_timer_stop(&cn->deadline_timer);
    uv_timer_start(&cn->state_timer, on_backoff_done, backoff_ms(cn), 0);
    cn->ndead = 0;
    while (cn->pending.count && !c->closing) {
        mc_cmd cmd = queue_pop(&cn->pending);
        if (cmd.dead) continue;
        count_result(c, status);
        if (cmd.cb) cmd.cb(cmd.arg, status, 0);
    }
}

static void on_deadline(uv_timer_t *t) {
    mc_conn *cn = t->data;
    mc_client *c = cn->client;
    uint64_t now = uv_now(c->loop);
    if (cn->state == CONN_CONNECTING) {
        /* Nothing was sent yet: answer the expired commands and keep their place in the output
         * (they go out once connected, and their replies are skipped). */
        while (cn->ndead < cn->pending.count && !c->closing) {
            mc_cmd *cmd = queue_at(&cn->pending, cn->ndead);
            if (cmd->when > now) break;
            cmd->dead = true;
            cn->ndead++;
            count_result(c, MC_ETIMEDOUT);
            if (cmd->cb) cmd->cb(cmd->arg, MC_ETIMEDOUT, 0);
        }
    } else if (cn->ndead < cn->pending.count && queue_at(&cn->pending, cn->ndead)->when <= now) {
        conn_fail(cn, MC_ETIMEDOUT);
        return;
    }
    if (c->closing) return;
    if (cn->ndead < cn->pending.count) {
        uint64_t when = queue_at(&cn->pending, cn->ndead)->when;
        uv_timer_start(&cn->deadline_timer, on_deadline, when > now ? when - now : 0, 0);
    }
}

/* ---- replies ------------------------------------------------------------------------------- */

static bool opaque_is(const mc_reply *r, uint32_t seq) {
    if (!r->opaque || r->opaque_len == 0 || r->opaque_len > 10) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < r->opaque_len; i++) {
        char ch = r->opaque[i];
        if (ch < '0' || ch > '9') return false;
        v = v * 10 + (uint64_t)(ch - '0');
    }
    return v == seq;
}

/* Matches one reply to the oldest pending command. -1 if the stream is out of step (a reply
 * nobody asked for, or for another command): the connection cannot be trusted any more. */
static int conn_reply(mc_conn *cn, const mc_reply *r) {
    mc_client *c = cn->client;
    if (cn->pending.count == 0) return -1;
    bool error_reply = r->type == MC_REPLY_ERROR || r->type == MC_REPLY_CLIENT_ERROR ||
                       r->type == MC_REPLY_SERVER_ERROR;
    /* Error replies carry no opaque; they answer the command in turn all the same. */
    if (!error_reply && !opaque_is(r, queue_at(&cn->pending, 0)->seq)) return -1;
    mc_cmd cmd = queue_pop(&cn->pending);
    if (cn->ndead) cn->ndead--;
    if (cn->pending.count == 0) uv_timer_stop(&cn->deadline_timer);
    /* The server answers sensibly: the backoff starts over (not merely on connecting, or a
     * server that accepts and then fails would be retried at the shortest interval forever). */
    cn->failures = 0;
    if (cmd.dead) return 0;

    int status = MC_EPROTO;
    uint64_t value = 0;
    if (r->type == MC_REPLY_VA)
        status = mc_reply_number(r->data, r->data_len, &value) == 0 ? MC_OK : MC_EPROTO;
    else if (r->type == MC_REPLY_EN && cmd.op == OP_GET)
        status = MC_MISS;
    else if (r->type == MC_REPLY_NF && cmd.op != OP_GET)
        status = MC_MISS;
    else if (r->type == MC_REPLY_MN)
        return -1; /* never asked for */
    if (status == MC_EPROTO) value = 0;
    count_result(c, status);
    if (cmd.cb) cmd.cb(cmd.arg, status, value);
    return 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
    (void)suggested;
    mc_sock *s = h->data;
    buf *in = &s->conn->in;
    buf_reserve(in, READ_CHUNK);
    *b = uv_buf_init(in->data + in->len, (unsigned)(in->cap - in->len - 1));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *b) {
    (void)b;
    mc_sock *s = stream->data;
    mc_conn *cn = s->conn;
    mc_client *c = cn->client;
    if (nread == 0) return;
    if (nread < 0) {
        conn_fail(cn, MC_EDOWN);
        return;
    }
    cn->in.len += (size_t)nread;
    cn->in.data[cn->in.len] = '\0';
    size_t off = 0;
    while (off < cn->in.len) {
        mc_reply r;
        ptrdiff_t n = mc_reply_parse(cn->in.data + off, cn->in.len - off, &r);
        if (n == 0) break;
        if (n < 0 || conn_reply(cn, &r) != 0) {
            conn_fail(cn, MC_EPROTO);
            return;
        }
        /* The callback may have closed the client. */
        if (c->closing || cn->sock != s) return;
        off += (size_t)n;
    }
    buf_consume(&cn->in, off);
    if (cn->in.len == 0 && cn->in.cap > BUF_KEEP) buf_free(&cn->in);
}

/* ---- connecting ---------------------------------------------------------------------------- */

static void on_connect_timeout(uv_timer_t *t) {
    conn_fail(t->data, MC_EDOWN);
}

static void on_connect(uv_connect_t *req, int status) {
    mc_sock *s = req->data;
    mc_conn *cn = s->conn;
    if (status == UV_ECANCELED || cn->sock != s || cn->client->closing) return;
    if (status < 0) {
        conn_fail(cn, MC_EDOWN);
        return;
    }
    uv_timer_stop(&cn->state_timer);
    if (uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read) != 0) {
        conn_fail(cn, MC_EDOWN);
        return;
    }
    set_state(cn, CONN_UP);
    conn_flush(cn);
}

static void conn_connect(mc_conn *cn) {
    mc_client *c = cn->client;
    mc_sock *s = xcalloc(1, sizeof *s);
    s->conn = cn;
    uv_tcp_init(c->loop, &s->tcp);
    c->open_handles++;
    s->tcp.data = s;
    s->connect.data = s;
    /* An idle connection must not keep the loop alive; pending commands do (their timer). */
    uv_unref((uv_handle_t *)&s->tcp);
    cn->sock = s;
    set_state(cn, CONN_CONNECTING);
    uv_timer_start(&cn->state_timer, on_connect_timeout, c->opt.connect_timeout_ms, 0);
    int rc = uv_tcp_connect(&s->connect, &s->tcp, (struct sockaddr *)&cn->addr, on_connect);
    if (rc == 0) rc = uv_tcp_nodelay(&s->tcp, 1);
    if (rc != 0) conn_fail(cn, MC_EDOWN);
}

/* ---- the server list ----------------------------------------------------------------------- */

static bool host_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '-' || ch == '_';
}

/* Parses one "host:port" entry (already trimmed) into an address. */
static int parse_entry(const char *e, struct sockaddr_storage *addr, char *err, size_t errlen) {
    char host[256];
    const char *port;
    if (e[0] == '[') {
        const char *close = strchr(e, ']');
        if (!close) {
            snprintf(err, errlen, "\"%s\" has no closing ']'", e);
            return -1;
        }
        if (close[1] == '\0' || (close[1] == ':' && close[2] == '\0')) {
            snprintf(err, errlen, "\"%s\" has no port", e);
            return -1;
        }
        if (close[1] != ':') {
            snprintf(err, errlen, "\"%s\": expected ':' and a port after ']'", e);
            return -1;
        }
        size_t n = (size_t)(close - e - 1);
        if (n == 0 || n >= sizeof host) {
            snprintf(err, errlen, "\"%s\" has no valid IPv6 address in brackets", e);
            return -1;
        }
        memcpy(host, e + 1, n);
        host[n] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(e, ':');
        if (!colon || colon[1] == '\0') {
            snprintf(err, errlen, "\"%s\" has no port", e);
            return -1;
        }
        if (memchr(e, ':', (size_t)(colon - e))) {
            snprintf(err, errlen, "\"%s\": an IPv6 address goes in brackets, as in [::1]:11211", e);
            return -1;
        }
        size_t n = (size_t)(colon - e);
        if (n == 0) {
            snprintf(err, errlen, "\"%s\" has no host", e);
            return -1;
        }
        if (n >= sizeof host) {
            snprintf(err, errlen, "\"%.40s...\": host name too long", e);
            return -1;
        }
        memcpy(host, e, n);
        host[n] = '\0';
        port = colon + 1;
    }

    unsigned long p = 0;
    for (const char *q = port; *q; q++) {
        if (*q < '0' || *q > '9' || p > 65535) {
            p = 0;
            break;
        }
        p = p * 10 + (unsigned long)(*q - '0');
    }
    if (p == 0 || p > 65535) {
        snprintf(err, errlen, "\"%s\": bad port \"%s\" (expected 1-65535)", e, port);
        return -1;
    }

    memset(addr, 0, sizeof *addr);
    struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
    if (e[0] == '[') {
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
            snprintf(err, errlen, "\"%s\": \"%s\" is not an IPv6 address", e, host);
            return -1;
        }
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p);
        return 0;
    }
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)p);
        return 0;
    }
    for (const char *q = host; *q; q++) {
        if (!host_char(*q)) {
            snprintf(err, errlen, "\"%s\": \"%s\" is not a valid host name", e, host);
            return -1;
        }
    }
    /* Resolved once, here: the client is created at startup, where blocking is acceptable. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "\"%s\": cannot resolve \"%s\": %s", e, host,
                 rc ? gai_strerror(rc) : "no address");
        if (res) freeaddrinfo(res);
        return -1;
    }
    memcpy(addr, res->ai_addr, res->ai_addrlen);
    if (addr->ss_family == AF_INET6)
        in6->sin6_port = htons((uint16_t)p);
    else
        in4->sin_port = htons((uint16_t)p);
    freeaddrinfo(res);
    return 0;
}

static bool is_space(char ch) {
    return ch == ' ' || ch == '\t';
}

static int parse_servers(mc_client *c, const char *spec, char *err, size_t errlen) {
    if (!spec) spec = "";
    const char *p = spec;
    while (is_space(*p)) p++;
    if (*p == '\0') {
        snprintf(err, errlen, "no memcached servers given");
        return -1;
    }
    c->conns = xcalloc(MC_MAX_SERVERS, sizeof *c->conns);
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        const char *b = p, *e = end;
        while (b < e && is_space(*b)) b++;
        while (e > b && is_space(e[-1])) e--;
        if (b == e) {
            snprintf(err, errlen, "empty entry in the server list \"%s\"", spec);
            return -1;
        }
        if (c->nconns == MC_MAX_SERVERS) {
            snprintf(err, errlen, "more than %d servers", MC_MAX_SERVERS);
            return -1;
        }
        char *name = xstrndup(b, (size_t)(e - b));
        mc_conn *cn = &c->conns[c->nconns];
        if (parse_entry(name, &cn->addr, err, errlen) != 0) {
            free(name);
            return -1;
        }
        for (size_t i = 0; i < c->nconns; i++) {
            if (strcmp(c->conns[i].name, name) == 0) {
                snprintf(err, errlen, "\"%s\" is listed twice", name);
                free(name);
                return -1;
            }
        }
        cn->name = name;
        c->nconns++;
        if (*end == '\0') break;
        p = end + 1;
    }
    return 0;
}

/* ---- the client ---------------------------------------------------------------------------- */

mc_client *mc_client_new(uv_loop_t *loop, const mc_options *o, char *err, size_t errlen) {
    mc_client *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    mc_options_defaults(&c->opt);
    if (o) {
        c->opt.servers = o->servers;
        if (o->timeout_ms) c->opt.timeout_ms = o->timeout_ms;
        if (o->connect_timeout_ms) c->opt.connect_timeout_ms = o->connect_timeout_ms;
        if (o->backoff_min_ms) c->opt.backoff_min_ms = o->backoff_min_ms;
        if (o->backoff_max_ms) c->opt.backoff_max_ms = o->backoff_max_ms;
    }
    if (c->opt.backoff_max_ms < c->opt.backoff_min_ms)
        c->opt.backoff_max_ms = c->opt.backoff_min_ms;
    if (parse_servers(c, c->opt.servers, err, errlen) != 0) {
        client_free(c);
        return NULL;
    }
    c->opt.servers = NULL; /* not kept: the caller's string */
    const char *names[MC_MAX_SERVERS];
    for (size_t i = 0; i < c->nconns; i++) names[i] = c->conns[i].name;
    c->ring = ch_ring_new(names, c->nconns, CH_DEFAULT_POINTS);
    c->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ULL;
    if (!c->rng) c->rng = 1;

    uv_idle_init(loop, &c->defer_idle);
    uv_prepare_init(loop, &c->flush_prepare);
    uv_check_init(loop, &c->flush_check);
    c->defer_idle.data = c->flush_prepare.data = c->flush_check.data = c;
    uv_unref((uv_handle_t *)&c->flush_prepare);
    uv_unref((uv_handle_t *)&c->flush_check);
    c->open_handles += 3;
    for (size_t i = 0; i < c->nconns; i++) {
        mc_conn *cn = &c->conns[i];
        cn->client = c;
        uv_timer_init(loop, &cn->deadline_timer);
        uv_timer_init(loop, &cn->state_timer);
        cn->deadline_timer.data = cn->state_timer.data = cn;
        /* The deadline timer runs only while commands are pending, and then should keep the
         * loop alive; reconnecting alone should not. */
        uv_unref((uv_handle_t *)&cn->state_timer);
        c->open_handles += 2;
        conn_connect(cn);
    }
    c->servers = (uint32_t)c->nconns;
    return c;
}

void mc_client_close(mc_client *c) {
    if (!c || c->closing) return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->defer_idle, on_handle_closed);
    uv_close((uv_handle_t *)&c->flush_prepare, on_handle_closed);
    uv_close((uv_handle_t *)&c->flush_check, on_handle_closed);
    for (size_t i = 0; i < c->nconns; i++) {
        mc_conn *cn = &c->conns[i];
        conn_drop_socket(cn);
        set_state(cn, CONN_DOWN);
        /* The timers' data is the connection; on_handle_closed wants the client. */
        cn->deadline_timer.data = cn->state_timer.data = c;
        uv_close((uv_handle_t *)&cn->deadline_timer, on_handle_closed);
        uv_close((uv_handle_t *)&cn->state_timer, on_handle_closed);
    }
    /* Answer everything; commands issued by these callbacks land in `deferred` (the client is
     * closing) and are answered by the same loop. */
    bool more = true;
    while (more) {
        more = false;
        for (size_t i = 0; i < c->nconns; i++) {
            mc_conn *cn = &c->conns[i];
            while (cn->pending.count) {
                mc_cmd cmd = queue_pop(&cn->pending);
                if (cmd.dead || !cmd.cb) continue;
                cmd.cb(cmd.arg, MC_ECANCELED, 0);
                more = true;
            }
            cn->ndead = 0;
        }
        while (c->deferred.count) {
            mc_cmd cmd = queue_pop(&c->deferred);
            cmd.cb(cmd.arg, MC_ECANCELED, 0);
            more = true;
        }
    }
}

void mc_client_stats(const mc_client *c, mc_stats *out) {
    mc_client *m = (mc_client *)c; /* atomic loads take non-const pointers */
    out->sent = atomic_load_explicit(&m->sent, memory_order_relaxed);
    out->ok = atomic_load_explicit(&m->ok, memory_order_relaxed);
    out->errors = atomic_load_explicit(&m->errors, memory_order_relaxed);
    out->timeouts = atomic_load_explicit(&m->timeouts, memory_order_relaxed);
    out->reconnects = atomic_load_explicit(&m->reconnects, memory_order_relaxed);
    out->servers = c->servers;
    out->servers_up = atomic_load_explicit(&m->servers_up, memory_order_relaxed);
}

/* ---- commands ------------------------------------------------------------------------------ */

/* A key memcached's text protocol takes as is: 1-250 bytes, no spaces or control characters. */
static bool key_valid(const char *key, size_t len) {
    if (!key || len == 0 || len > 250) return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (ch <= 0x20 || ch == 0x7f) return false;
    }
    return true;
}

static char *put_u64(char *p, uint64_t v) {
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s, size_t n) {
    memcpy(p, s, n);
    return p + n;
}

static void submit(mc_client *c, const char *route, size_t route_len, const char *key,
                   size_t key_len, int op, uint64_t delta, uint32_t ttl, mc_cb cb, void *arg) {
    if (c->closing) {
        defer(c, cb, arg, MC_ECANCELED, 0);
        return;
    }
    if (!key_valid(key, key_len)) {
        defer(c, cb, arg, MC_EPROTO, 0);
        return;
    }
    size_t idx = c->nconns == 1 ? 0 : ch_ring_lookup(c->ring, route ? route : "", route_len);
    mc_conn *cn = &c->conns[idx];
    if (cn->state == CONN_DOWN || cn->pending.count >= MC_MAX_PENDING) {
        defer(c, cb, arg, MC_EDOWN, 0);
        return;
    }

    /* "ma <key> N<ttl> J<delta> D<delta> v O<seq>\r\n" is the longest. */
    char line[250 + 100], *p = line;
    uint32_t seq = cn->next_seq++;
    if (op == OP_GET) {
        p = put_str(p, "mg ", 3);
        p = put_str(p, key, key_len);
    } else {
        p = put_str(p, "ma ", 3);
        p = put_str(p, key, key_len);
        if (op == OP_INCR) {
            p = put_str(p, " N", 2);
            p = put_u64(p, ttl);
            p = put_str(p, " J", 2);
            p = put_u64(p, delta);
        } else {
            p = put_str(p, " MD", 3);
        }
        p = put_str(p, " D", 2);
        p = put_u64(p, delta);
    }
    p = put_str(p, " v O", 4);
    p = put_u64(p, seq);
    p = put_str(p, "\r\n", 2);
    buf_append(&cn->out, line, (size_t)(p - line));

    uint64_t now = uv_now(c->loop);
    mc_cmd cmd = {
        .cb = cb, .arg = arg, .when = now + c->opt.timeout_ms, .seq = seq, .op = (uint8_t)op};
    queue_push(&cn->pending, &cmd);
    if (!uv_is_active((uv_handle_t *)&cn->deadline_timer))
        uv_timer_start(&cn->deadline_timer, on_deadline, c->opt.timeout_ms, 0);
    atomic_fetch_add_explicit(&c->sent, 1, memory_order_relaxed);
    mark_dirty(cn);
}

void mc_get(mc_client *c, const char *route, size_t route_len, const char *key, size_t key_len,
            mc_cb cb, void *arg) {
    submit(c, route, route_len, key, key_len, OP_GET, 0, 0, cb, arg);
}

void mc_incr(mc_client *c, const char *route, size_t route_len, const char *key, size_t key_len,
             uint64_t delta, uint32_t ttl_s, mc_cb cb, void *arg) {
    submit(c, route, route_len, key, key_len, OP_INCR, delta, ttl_s, cb, arg);
}

void mc_decr(mc_client *c, const char *route, size_t route_len, const char *key, size_t key_len,
             uint64_t delta, mc_cb cb, void *arg) {
    submit(c, route, route_len, key, key_len, OP_DECR, delta, 0, cb, arg);
}
