/* origin — the upstream server of benchmark (i): answers every HTTP/1.1 request on a
 * keep-alive connection with the same 200 response of a fixed-size body. Single-threaded
 * epoll, so that the origin costs far less CPU than the proxies under test and the benchmark
 * measures them rather than it.
 *
 *   origin PORT [BODY_BYTES]     (listens on 127.0.0.1; prints "listening" when ready)
 *
 * It understands just enough HTTP for a proxy's GET requests: a request ends at the blank
 * line; request bodies are not expected (a connection sending one is closed). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 64
#define IN_CAP     16384

typedef struct conn {
    int fd;
    size_t in_len;
    char in[IN_CAP];
    size_t out_off;  /* bytes of the pending responses already written */
    size_t out_todo; /* responses' bytes not yet written (whole responses, back to back) */
} conn;

static char *response;
static size_t response_len;

static void conn_close(int ep, conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

/* Writes what is due; false when the connection failed. */
static int flush_out(int ep, conn *c) {
    while (c->out_todo > 0) {
        size_t at = c->out_off % response_len;
        size_t n = response_len - at;
        if (n > c->out_todo) n = c->out_todo;
        ssize_t w = write(c->fd, response + at, n);
        if (w < 0 && errno == EAGAIN) break;
        if (w <= 0) return 0;
        c->out_off += (size_t)w;
        c->out_todo -= (size_t)w;
    }
    struct epoll_event ev = {.events = EPOLLIN | (c->out_todo ? EPOLLOUT : 0u), .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    return 1;
}

/* Counts complete requests in the input and drops them; false on a malformed request. */
static int take_requests(conn *c) {
    for (;;) {
        char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
        if (!end) return c->in_len < IN_CAP;
        size_t used = (size_t)(end + 4 - c->in);
        if (memmem(c->in, used, "\r\nContent-Length:", 17) ||
            memmem(c->in, used, "\r\ncontent-length:", 17) ||
            memmem(c->in, used, "\r\nTransfer-Encoding:", 20) ||
            memmem(c->in, used, "\r\ntransfer-encoding:", 20))
            return 0;
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
        c->out_todo += response_len;
    }
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: origin PORT [BODY_BYTES]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    size_t body_len = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 16384;
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n"
                      "content-length: %zu\r\n\r\n",
                      body_len);
    response_len = (size_t)hl + body_len;
    response = malloc(response_len);
    memcpy(response, head, (size_t)hl);
    memset(response + hl, 'x', body_len);

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 1024) < 0) {
        perror("origin: listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    printf("listening\n");
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn *nc = calloc(1, sizeof *nc);
                    nc->fd = fd;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (events[i].events & EPOLLIN) {
                ssize_t r = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
                if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
                    conn_close(ep, c);
                    continue;
                }
                if (r > 0) c->in_len += (size_t)r;
                if (!take_requests(c)) {
                    conn_close(ep, c);
                    continue;
                }
            }
            if (!flush_out(ep, c)) conn_close(ep, c);
        }
    }
}
