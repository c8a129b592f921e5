/* wsload — a WebSocket echo load generator for the benchmark (j) (bench/run.mjs):
 *
 *   wsload [--host H] [--port P] [--path /] [--connections N] [--inflight K] [--size B]
 *          [--seconds S] [--binary]
 *
 * Opens N WebSocket connections (default 100) to ws://H:P/path, then each keeps K messages
 * (default 1) of B bytes (default 64, text unless --binary) in flight for S seconds (default
 * 10): it sends K, and sends one more for every echo it reads. The clock starts when every
 * connection has its 101 (handshakes are not measured). Latency is from writing a message to
 * reading its echo (the echoes of one connection come back in order).
 *
 * Single-threaded: nonblocking sockets and epoll, client framing by hand (masked frames out,
 * unmasked frames in; pings are answered, anything else ends the connection with an error).
 * The handshake's Sec-WebSocket-Accept is not checked: a 101 is enough for a load generator.
 *
 * Prints one JSON line: {"messages":..., "msgs_per_sec":..., "p50_us":..., "p99_us":...,
 * "connections":..., "errors":..., "reads":..., "writes":...} (reads and writes: the client's
 * syscalls while measuring, to see how the server's frames arrive: a message that comes in two
 * TCP segments can cost the client two reads). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
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

#define HIST_US  1000000 /* latencies in 1 µs buckets up to 1 s (the last bucket takes the rest) */
#define RBUF     (256 * 1024)
#define MAX_SIZE (64 * 1024)

enum state { CONNECTING, HANDSHAKE, OPEN, DEAD };

typedef struct conn {
    int fd;
    enum state state;
    uint8_t *rbuf;
    size_t rlen;
    uint8_t *wbuf;
    size_t woff, wlen, wcap;
    bool want_out;
    uint64_t *sent; /* ring of send times, K entries */
    size_t head, count;
} conn;

static struct {
    const char *host, *path;
    int port, connections, inflight, size;
    double seconds;
    bool binary;
    int ep;
    conn *conns;
    int open;
    bool running, measuring;
    uint64_t messages, errors, reads, writes; /* reads and writes: syscalls while measuring */
    uint32_t rng;
    uint8_t *payload;
} G;

static uint64_t hist[HIST_US + 1];

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t next_rand(void) {
    uint32_t x = G.rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return G.rng = x;
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

static void fail(conn *c, const char *why) {
    if (c->state == DEAD) return;
    if (G.running) fprintf(stderr, "wsload: connection %d: %s\n", (int)(c - G.conns), why);
    G.errors++;
    if (c->state == OPEN) G.open--;
    c->state = DEAD;
    epoll_ctl(G.ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
}

static void watch(conn *c, bool out) {
    if (c->want_out == out) return;
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
    epoll_ctl(G.ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->want_out = out;
}

static void reserve(conn *c, size_t n) {
    if (c->woff > 0 && c->woff == c->wlen) c->woff = c->wlen = 0;
    if (c->wlen + n <= c->wcap) return;
    if (c->woff > 0) {
        memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
        c->wlen -= c->woff;
        c->woff = 0;
    }
    while (c->wlen + n > c->wcap) c->wcap *= 2;
    c->wbuf = realloc(c->wbuf, c->wcap);
    if (!c->wbuf) abort();
}

/* Appends a masked frame to the connection's output. */
static void put_frame(conn *c, int opcode, const uint8_t *data, size_t len) {
    reserve(c, len + 14);
    uint8_t *p = c->wbuf + c->wlen;
    *p++ = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        *p++ = (uint8_t)(0x80 | len);
    } else {
        *p++ = 0x80 | 126;
        *p++ = (uint8_t)(len >> 8);
        *p++ = (uint8_t)len;
    }
    uint32_t key = next_rand();
    uint8_t mask[4] = {(uint8_t)key, (uint8_t)(key >> 8), (uint8_t)(key >> 16),
                       (uint8_t)(key >> 24)};
    memcpy(p, mask, 4);
    p += 4;
    for (size_t i = 0; i < len; i++) p[i] = data[i] ^ mask[i & 3];
    c->wlen = (size_t)(p + len - c->wbuf);
}

static void flush(conn *c) {
    while (c->woff < c->wlen) {
        ssize_t n = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
        if (G.measuring) G.writes++;
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            fail(c, strerror(errno));
            return;
        }
        c->woff += (size_t)n;
    }
    watch(c, c->woff < c->wlen);
}

static void send_message(conn *c) {
    put_frame(c, G.binary ? 2 : 1, G.payload, (size_t)G.size);
    c->sent[(c->head + c->count) % (size_t)G.inflight] = now_ns();
    c->count++;
}

static void on_echo(conn *c, int opcode, size_t len) {
    if (c->count == 0 || len != (size_t)G.size || opcode != (G.binary ? 2 : 1)) {
        fail(c, "unexpected message");
        return;
    }
    uint64_t t0 = c->sent[c->head];
    c->head = (c->head + 1) % (size_t)G.inflight;
    c->count--;
    if (G.measuring) {
        uint64_t us = (now_ns() - t0) / 1000;
        hist[us > HIST_US ? HIST_US : us]++;
        G.messages++;
    }
    if (G.running) send_message(c);
}

/* Reads the server's frames out of rbuf; returns false once the connection has failed. */
static bool parse_frames(conn *c) {
    size_t off = 0;
    while (c->state == OPEN) {
        size_t avail = c->rlen - off;
        if (avail < 2) break;
        const uint8_t *p = c->rbuf + off;
        int opcode = p[0] & 0x0f;
        bool fin = p[0] & 0x80;
        if (p[1] & 0x80) return fail(c, "masked frame from the server"), false;
        uint64_t len = p[1] & 0x7f;
        size_t hdr = 2;
        if (len == 126) {
            if (avail < 4) break;
            len = (uint64_t)p[2] << 8 | p[3];
            hdr = 4;
        } else if (len == 127) {
            if (avail < 10) break;
            len = 0;
            for (int i = 0; i < 8; i++) len = len << 8 | p[2 + i];
            hdr = 10;
        }
        if (len > RBUF - 16) return fail(c, "frame too large"), false;
        if (avail < hdr + len) break;
        if (!fin) return fail(c, "fragmented message"), false;
        if (opcode == 1 || opcode == 2) {
            on_echo(c, opcode, (size_t)len);
        } else if (opcode == 9) {
            put_frame(c, 10, p + hdr, (size_t)len);
        } else if (opcode == 8) {
            return fail(c, "closed by the server"), false;
        } else if (opcode != 10) {
            return fail(c, "unexpected opcode"), false;
        }
        off += hdr + (size_t)len;
    }
    if (c->state != OPEN) return false;
    memmove(c->rbuf, c->rbuf + off, c->rlen - off);
    c->rlen -= off;
    return true;
}

static void start_sending(conn *c) {
    for (int i = 0; i < G.inflight; i++) send_message(c);
}

static void on_handshake(conn *c) {
    uint8_t *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
    if (!end) {
        if (c->rlen >= RBUF) fail(c, "handshake response too large");
        return;
    }
    if (c->rlen < 12 || memcmp(c->rbuf, "HTTP/1.1 101", 12) != 0) {
        fail(c, "no 101 in the handshake response");
        return;
    }
    size_t used = (size_t)(end + 4 - c->rbuf);
    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
    c->rlen -= used;
    c->state = OPEN;
    G.open++;
    if (G.running) start_sending(c);
    parse_frames(c);
}

static void on_readable(conn *c) {
    for (;;) {
        ssize_t n = read(c->fd, c->rbuf + c->rlen, RBUF - c->rlen);
        if (G.measuring) G.reads++;
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            fail(c, strerror(errno));
            return;
        }
        if (n == 0) {
            fail(c, "connection closed by the server");
            return;
        }
        c->rlen += (size_t)n;
        if (c->state == HANDSHAKE)
            on_handshake(c);
        else if (!parse_frames(c))
            return;
        if (c->state != HANDSHAKE && c->state != OPEN) return;
        if ((size_t)n < RBUF) return; /* level-triggered: the rest comes with the next event */
    }
}

static void on_connected(conn *c) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
        fail(c, strerror(err));
        return;
    }
    reserve(c, 512);
    int n = snprintf((char *)c->wbuf + c->wlen, 512,
                     "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     G.path, G.host, G.port);
    c->wlen += (size_t)n;
    c->state = HANDSHAKE;
}

static void open_connection(conn *c, const struct sockaddr_in *addr) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("socket");
        exit(1);
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->rbuf = malloc(RBUF);
    c->wcap = 4096;
    c->wbuf = malloc(c->wcap);
    c->sent = calloc((size_t)G.inflight, sizeof *c->sent);
    if (!c->rbuf || !c->wbuf || !c->sent) abort();
    c->state = CONNECTING;
    if (connect(c->fd, (const struct sockaddr *)addr, sizeof *addr) < 0 && errno != EINPROGRESS) {
        perror("connect");
        exit(1);
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(G.ep, EPOLL_CTL_ADD, c->fd, &ev);
    c->want_out = true;
}

/* Runs the loop until `until` (ns), or until every connection is open when `until_open`. */
static void run_loop(uint64_t until, bool until_open) {
    struct epoll_event events[256];
    for (;;) {
        uint64_t now = now_ns();
        if (now >= until) return;
        if (until_open && G.open == G.connections) return;
        int timeout = (int)((until - now) / 1000000u) + 1;
        if (timeout > 100) timeout = 100;
        int n = epoll_wait(G.ep, events, 256, timeout);
        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (c->state == DEAD) continue;
            if (c->state == CONNECTING && (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                on_connected(c);
            else if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                on_readable(c);
            if (c->state != DEAD) flush(c);
        }
    }
}

static void usage(void) {
    fprintf(stderr, "usage: wsload [--host H] [--port P] [--path /] [--connections N] "
                    "[--inflight K] [--size B] [--seconds S] [--binary]\n");
    exit(2);
}

int main(int argc, char **argv) {
    G.host = "127.0.0.1";
    G.path = "/";
    G.port = 8787;
    G.connections = 100;
    G.inflight = 1;
    G.size = 64;
    G.seconds = 10;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--binary") == 0) {
            G.binary = true;
            continue;
        }
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (strcmp(a, "--host") == 0)
            G.host = v;
        else if (strcmp(a, "--port") == 0)
            G.port = atoi(v);
        else if (strcmp(a, "--path") == 0)
            G.path = v;
        else if (strcmp(a, "--connections") == 0)
            G.connections = atoi(v);
        else if (strcmp(a, "--inflight") == 0)
            G.inflight = atoi(v);
        else if (strcmp(a, "--size") == 0)
            G.size = atoi(v);
        else if (strcmp(a, "--seconds") == 0)
            G.seconds = atof(v);
        else
            usage();
    }
    if (G.connections < 1 || G.inflight < 1 || G.size < 0 || G.size > MAX_SIZE || G.seconds <= 0 ||
        G.port <= 0)
        usage();
    signal(SIGPIPE, SIG_IGN);
    G.rng = 0x9e3779b9u ^ (uint32_t)getpid();
    G.payload = malloc((size_t)G.size + 1);
    for (int i = 0; i < G.size; i++) G.payload[i] = (uint8_t)('a' + i % 26);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)G.port)};
    if (inet_pton(AF_INET, G.host, &addr.sin_addr) != 1) {
        fprintf(stderr, "wsload: --host must be an IPv4 address\n");
        return 2;
    }
    G.ep = epoll_create1(EPOLL_CLOEXEC);
    G.conns = calloc((size_t)G.connections, sizeof *G.conns);
    if (!G.conns) abort();
    for (int i = 0; i < G.connections; i++) open_connection(&G.conns[i], &addr);

    /* Every handshake first (at most 10 s), then the load on every open connection. */
    run_loop(now_ns() + 10000000000u, true);
    int opened = G.open;
    if (opened == 0) {
        fprintf(stderr, "wsload: no connection opened\n");
        return 1;
    }
    G.running = G.measuring = true;
    uint64_t t0 = now_ns();
    for (int i = 0; i < G.connections; i++) {
        conn *c = &G.conns[i];
        if (c->state == OPEN) {
            start_sending(c);
            flush(c);
        }
    }
    run_loop(t0 + (uint64_t)(G.seconds * 1e9), false);
    G.running = G.measuring = false;
    double elapsed = (double)(now_ns() - t0) / 1e9;

    for (int i = 0; i < G.connections; i++) {
        conn *c = &G.conns[i];
        if (c->state == DEAD) continue;
        static const uint8_t bye[2] = {0x03, 0xe8}; /* 1000 */
        put_frame(c, 8, bye, 2);
        if (write(c->fd, c->wbuf + c->woff, c->wlen - c->woff) < 0) {
        }
        close(c->fd);
    }
    printf("{\"messages\":%llu,\"msgs_per_sec\":%.1f,\"p50_us\":%llu,\"p99_us\":%llu,"
           "\"connections\":%d,\"errors\":%llu,\"reads\":%llu,\"writes\":%llu}\n",
           (unsigned long long)G.messages, (double)G.messages / elapsed,
           (unsigned long long)percentile(0.50), (unsigned long long)percentile(0.99), opened,
           (unsigned long long)G.errors, (unsigned long long)G.reads, (unsigned long long)G.writes);
    return 0;
}
