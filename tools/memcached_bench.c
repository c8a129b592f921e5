/* memcached_bench — memcached increments as fast as they go, for the Rate Limiting benchmark:
 *
 *   memcached_bench HOST:PORT [--connections N] [--depth D] [--seconds S] [--client]
 *
 * Each of N connections (default 4) keeps D commands in flight (default 32) for S seconds
 * (default 5): `ma bench:<i> N60 J1 D1 v`, autovivifying counters with a TTL of 60 s over
 * 10 000 keys. Without --client it is a raw pipelined client (nonblocking sockets and epoll,
 * one write per batch of replies read): the physical limit of the server and the network. With
 * --client the same load goes through hearth's memcached client (src/ratelimit/memcached.c),
 * one mc_client (one connection) per N on one libuv loop, so the two can be compared.
 *
 * Prints one JSON line: {"ops_per_sec":..., "p50_us":..., "p99_us":...} (latency from sending a
 * command to reading its reply). Errors, if any, are counted on stderr. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "ratelimit/memcached.h"
#include "ratelimit/memcached_reply.h"

#define KEYS    10000
#define HIST_US 1000000 /* latencies in 1 µs buckets up to 1 s (the last bucket takes the rest) */

static uint64_t hist[HIST_US + 1];
static uint64_t ops, errors;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void record_latency(uint64_t ns) {
    uint64_t us = ns / 1000;
    hist[us > HIST_US ? HIST_US : us]++;
}

static uint64_t percentile(double p) {
    uint64_t total = 0, seen = 0;
    for (size_t i = 0; i <= HIST_US; i++) total += hist[i];
    if (total == 0) return 0;
    uint64_t want = (uint64_t)(p * (double)total);
    if (want >= total) want = total - 1;
    for (size_t i = 0; i <= HIST_US; i++) {
        seen += hist[i];
        if (seen > want) return i;
    }
    return HIST_US;
}

static int usage(void) {
    fprintf(stderr, "usage: memcached_bench HOST:PORT [--connections N] [--depth D] "
                    "[--seconds S] [--client]\n");
    return 2;
}

/* ---- raw: epoll and nonblocking sockets ---------------------------------------------------- */

typedef struct raw_conn {
    int fd;
    buf out, in;
    uint64_t *sent_at; /* a ring of D send times, oldest first */
    uint32_t head, count, depth;
    uint32_t key;
    bool want_write;
} raw_conn;

static void raw_fill(raw_conn *rc, uint64_t now) {
    while (rc->count < rc->depth) {
        char line[64];
        int n = snprintf(line, sizeof line, "ma bench:%u N60 J1 D1 v\r\n", rc->key);
        buf_append(&rc->out, line, (size_t)n);
        rc->key = (rc->key + 1) % KEYS;
        rc->sent_at[(rc->head + rc->count) % rc->depth] = now;
        rc->count++;
    }
}

/* Writes what the socket takes; 0, or -1 on error. */
static int raw_write(raw_conn *rc) {
    while (rc->out.len) {
        ssize_t n = send(rc->fd, rc->out.data, rc->out.len, MSG_NOSIGNAL);
        if (n < 0) return errno == EAGAIN ? 0 : -1;
        buf_consume(&rc->out, (size_t)n);
    }
    return 0;
}

static int raw_connect(const struct sockaddr_storage *addr, socklen_t len) {
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)addr, len) != 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static int run_raw(const char *hostport, int nconns, int depth, double seconds) {
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (!colon || (size_t)(colon - hostport) >= sizeof host) return usage();
    size_t hl = (size_t)(colon - hostport);
    if (hostport[0] == '[' && hl >= 2 && hostport[hl - 1] == ']') {
        memcpy(host, hostport + 1, hl - 2);
        host[hl - 2] = '\0';
    } else {
        memcpy(host, hostport, hl);
        host[hl] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, colon + 1, &hints, &res) != 0) {
        fprintf(stderr, "memcached_bench: cannot resolve %s\n", hostport);
        return 1;
    }
    struct sockaddr_storage addr;
    memcpy(&addr, res->ai_addr, res->ai_addrlen);
    socklen_t addrlen = res->ai_addrlen;
    freeaddrinfo(res);

    int ep = epoll_create1(EPOLL_CLOEXEC);
    raw_conn *conns = xcalloc((size_t)nconns, sizeof *conns);
    uint64_t start = now_ns();
    for (int i = 0; i < nconns; i++) {
        raw_conn *rc = &conns[i];
        rc->fd = raw_connect(&addr, addrlen);
        if (rc->fd < 0) {
            fprintf(stderr, "memcached_bench: cannot connect to %s: %s\n", hostport,
                    strerror(errno));
            return 1;
        }
        rc->depth = (uint32_t)depth;
        rc->sent_at = xcalloc((size_t)depth, sizeof *rc->sent_at);
        rc->key = (uint32_t)(i * (KEYS / nconns));
        raw_fill(rc, start);
        rc->want_write = true;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = rc};
        epoll_ctl(ep, EPOLL_CTL_ADD, rc->fd, &ev);
    }

    uint64_t end = start + (uint64_t)(seconds * 1e9);
    struct epoll_event events[64];
    uint64_t now = start;
    while (now < end) {
        int n = epoll_wait(ep, events, 64, 100);
        now = now_ns();
        /* Read everything that is ready first, then write: the commands of one wakeup leave in
         * one write per connection (as many as possible per server wakeup, too). */
        for (int i = 0; i < n; i++) {
            raw_conn *rc = events[i].data.ptr;
            if (events[i].events & (EPOLLERR | EPOLLHUP)) {
                fprintf(stderr, "memcached_bench: connection lost\n");
                return 1;
            }
            if (events[i].events & EPOLLIN) {
                /* Until a short read: the socket is drained then, without a read that fails
                 * with EAGAIN to prove it. */
                for (;;) {
                    buf_reserve(&rc->in, 65536);
                    size_t room = rc->in.cap - rc->in.len - 1;
                    ssize_t got = recv(rc->fd, rc->in.data + rc->in.len, room, 0);
                    if (got == 0 || (got < 0 && errno != EAGAIN)) {
                        fprintf(stderr, "memcached_bench: connection closed\n");
                        return 1;
                    }
                    if (got < 0) break;
                    rc->in.len += (size_t)got;
                    if ((size_t)got < room) break;
                }
                size_t off = 0;
                for (;;) {
                    mc_reply r;
                    ptrdiff_t k = mc_reply_parse(rc->in.data + off, rc->in.len - off, &r);
                    if (k == 0) break;
                    if (k < 0 || rc->count == 0) {
                        fprintf(stderr, "memcached_bench: malformed reply\n");
                        return 1;
                    }
                    off += (size_t)k;
                    if (r.type == MC_REPLY_VA)
                        ops++;
                    else
                        errors++;
                    record_latency(now - rc->sent_at[rc->head]);
                    rc->head = (rc->head + 1) % rc->depth;
                    rc->count--;
                }
                buf_consume(&rc->in, off);
                raw_fill(rc, now);
            }
        }
        for (int i = 0; i < n; i++) {
            raw_conn *rc = events[i].data.ptr;
            if (raw_write(rc) != 0) {
                fprintf(stderr, "memcached_bench: write failed: %s\n", strerror(errno));
                return 1;
            }
            bool want = rc->out.len > 0;
            if (want != rc->want_write) {
                struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = rc};
                epoll_ctl(ep, EPOLL_CTL_MOD, rc->fd, &ev);
                rc->want_write = want;
            }
        }
    }
    double elapsed = (double)(now - start) / 1e9;
    printf("{\"ops_per_sec\":%.0f,\"p50_us\":%llu,\"p99_us\":%llu}\n", (double)ops / elapsed,
           (unsigned long long)percentile(0.50), (unsigned long long)percentile(0.99));
    for (int i = 0; i < nconns; i++) {
        close(conns[i].fd);
        buf_free(&conns[i].out);
        buf_free(&conns[i].in);
        free(conns[i].sent_at);
    }
    free(conns);
    close(ep);
    return 0;
}

/* ---- through mc_client --------------------------------------------------------------------- */

/* One connection: an mc_client and the next key, cycled like a raw connection's. */
typedef struct client_conn {
    mc_client *c;
    uint32_t key;
} client_conn;

/* One of a connection's D commands in flight. */
typedef struct client_slot {
    client_conn *conn;
    uint64_t t0;
} client_slot;

static bool stopping;

static void client_issue(client_slot *s);

static void on_client_reply(void *arg, int status, uint64_t value) {
    (void)value;
    client_slot *s = arg;
    if (status == MC_ECANCELED) return;
    record_latency(uv_hrtime() - s->t0);
    if (status == MC_OK)
        ops++;
    else
        errors++;
    if (!stopping) client_issue(s);
}

static void client_issue(client_slot *s) {
    char key[32];
    int n = snprintf(key, sizeof key, "bench:%u", s->conn->key);
    s->conn->key = (s->conn->key + 1) % KEYS;
    s->t0 = uv_hrtime();
    mc_incr(s->conn->c, "bench", 5, key, (size_t)n, 1, 60, on_client_reply, s);
}

typedef struct client_run {
    mc_client **clients;
    int nclients;
    uint64_t start, end;
} client_run;

static void on_client_stop(uv_timer_t *t) {
    client_run *run = t->data;
    stopping = true;
    run->end = uv_hrtime();
    for (int i = 0; i < run->nclients; i++) mc_client_close(run->clients[i]);
    uv_close((uv_handle_t *)t, NULL);
}

static int run_client(const char *hostport, int nconns, int depth, double seconds) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    mc_options o;
    mc_options_defaults(&o);
    o.servers = hostport;
    o.timeout_ms = 5000;
    client_run run = {.clients = xcalloc((size_t)nconns, sizeof(mc_client *)), .nclients = nconns};
    client_slot *slots = xcalloc((size_t)nconns * (size_t)depth, sizeof *slots);
    client_conn *conns = xcalloc((size_t)nconns, sizeof *conns);
    char err[256];
    for (int i = 0; i < nconns; i++) {
        run.clients[i] = mc_client_new(&loop, &o, err, sizeof err);
        if (!run.clients[i]) {
            fprintf(stderr, "memcached_bench: %s\n", err);
            return 1;
        }
        conns[i].c = run.clients[i];
        conns[i].key = (uint32_t)(i * (KEYS / nconns));
    }
    run.start = uv_hrtime();
    for (int i = 0; i < nconns; i++) {
        for (int d = 0; d < depth; d++) {
            client_slot *s = &slots[i * depth + d];
            s->conn = &conns[i];
            client_issue(s);
        }
    }
    uv_timer_t stop;
    uv_timer_init(&loop, &stop);
    stop.data = &run;
    uv_timer_start(&stop, on_client_stop, (uint64_t)(seconds * 1000), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    double elapsed = (double)(run.end - run.start) / 1e9;
    printf("{\"ops_per_sec\":%.0f,\"p50_us\":%llu,\"p99_us\":%llu}\n", (double)ops / elapsed,
           (unsigned long long)percentile(0.50), (unsigned long long)percentile(0.99));
    uv_loop_close(&loop);
    free(run.clients);
    free(slots);
    free(conns);
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    const char *hostport = NULL;
    int nconns = 4, depth = 32;
    double seconds = 5;
    bool client = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--client") == 0)
            client = true;
        else if (strcmp(argv[i], "--connections") == 0 && i + 1 < argc)
            nconns = atoi(argv[++i]);
        else if (strcmp(argv[i], "--depth") == 0 && i + 1 < argc)
            depth = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (argv[i][0] != '-' && !hostport)
            hostport = argv[i];
        else
            return usage();
    }
    if (!hostport || nconns < 1 || nconns > 1024 || depth < 1 || depth > 65536 || seconds <= 0)
        return usage();
    int rc = client ? run_client(hostport, nconns, depth, seconds)
                    : run_raw(hostport, nconns, depth, seconds);
    if (errors) fprintf(stderr, "memcached_bench: %llu errors\n", (unsigned long long)errors);
    return rc;
}
