/* ws_echo_server — a WebSocket server for the end-to-end tests (tests/e2e/websocket.test.mjs):
 * http_server + ws_accept, as a product endpoint would use them, with nothing else around.
 *
 *   ws_echo_server [--port N] [--max-message BYTES] [--max-buffered BYTES] [--ping-interval MS]
 *                  [--idle-timeout MS] [--close-timeout MS]
 *
 * Prints "listening on PORT" once ready. Routes:
 *   GET /stats          JSON counters: open and accepted connections, close codes seen by
 *                       on_close, flood sends and refusals, the largest ws_buffered_bytes seen
 *   upgrade /auth       only with "Authorization: Bearer secret" (else 401)
 *   upgrade /protocols  offers the subprotocols "chat" and "superchat"
 *   upgrade /flood?size=N  sends N-byte messages ("seq <n> ...") as fast as it can, forever
 *   anything else       ws_accept (so a request that is no upgrade gets its 426): echoes
 *                       every message; the text "close:CODE:REASON" makes the server close,
 *                       "flood:N" starts a flood on this connection
 * SIGTERM/SIGINT shut the HTTP server down (WebSockets get 1001) and the program exits once
 * every connection is closed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "net/http_server.h"
#include "net/listen.h"
#include "net/websocket.h"

typedef struct conn {
    ws_conn *ws;
    bool flood;
    size_t flood_size;
    uint64_t seq;
    struct conn *prev, *next;
} conn;

typedef struct close_count {
    int code;
    uint64_t count;
} close_count;

static struct {
    uv_loop_t *loop;
    http_server *http;
    ws_options opt;
    uv_timer_t flood_timer;
    uv_signal_t sigterm, sigint;
    conn *conns;
    uint64_t open, accepted, flood_sent, flood_refused, max_buffered_seen, drains;
    close_count closes[64];
    size_t close_kinds;
} S;

static void on_flood_tick(uv_timer_t *t);

static void start_flood(conn *c, size_t size) {
    c->flood = true;
    c->flood_size = size < 32 ? 32 : size;
    if (!uv_is_active((uv_handle_t *)&S.flood_timer))
        uv_timer_start(&S.flood_timer, on_flood_tick, 1, 1);
}

/* The producer: every millisecond, as many messages as it wants; a refused send is dropped
 * and counted, never waited for. */
static void on_flood_tick(uv_timer_t *t) {
    (void)t;
    bool any = false;
    for (conn *c = S.conns; c; c = c->next) {
        if (!c->flood || !ws_is_open(c->ws)) continue;
        any = true;
        char *msg = xmalloc(c->flood_size);
        memset(msg, 'x', c->flood_size);
        for (int i = 0; i < 256; i++) {
            int n = snprintf(msg, c->flood_size, "seq %llu ", (unsigned long long)c->seq);
            msg[n] = ' ';
            if (ws_send_text(c->ws, msg, c->flood_size)) {
                S.flood_sent++;
                c->seq++;
            } else {
                S.flood_refused++;
                c->seq++; /* the gap shows the client what was dropped */
            }
            uint64_t b = ws_buffered_bytes(c->ws);
            if (b > S.max_buffered_seen) S.max_buffered_seen = b;
        }
        free(msg);
    }
    if (!any) uv_timer_stop(&S.flood_timer);
}

static void on_message(ws_conn *ws, ws_opcode op, const uint8_t *data, size_t len) {
    conn *c = ws_user(ws);
    if (op == WS_TEXT && len > 6 && memcmp(data, "close:", 6) == 0) {
        char text[200];
        snprintf(text, sizeof text, "%.*s", (int)len, (const char *)data);
        char *reason = strchr(text + 6, ':');
        ws_close(ws, atoi(text + 6), reason ? reason + 1 : "");
        return;
    }
    if (op == WS_TEXT && len > 6 && memcmp(data, "flood:", 6) == 0) {
        start_flood(c, (size_t)strtoul((const char *)data + 6, NULL, 10));
        return;
    }
    bool ok =
        op == WS_TEXT ? ws_send_text(ws, (const char *)data, len) : ws_send_binary(ws, data, len);
    if (!ok) fprintf(stderr, "echo refused: %zu bytes buffered\n", ws_buffered_bytes(ws));
}

static void on_drain(ws_conn *ws) {
    (void)ws;
    S.drains++;
}

static void on_close(ws_conn *ws, int code, const char *reason, size_t reason_len) {
    conn *c = ws_user(ws);
    (void)reason;
    (void)reason_len;
    size_t i = 0;
    while (i < S.close_kinds && S.closes[i].code != code) i++;
    if (i == S.close_kinds && i < sizeof S.closes / sizeof S.closes[0]) {
        S.closes[i].code = code;
        S.close_kinds++;
    }
    if (i < S.close_kinds) S.closes[i].count++;
    S.open--;
    if (c->prev)
        c->prev->next = c->next;
    else
        S.conns = c->next;
    if (c->next) c->next->prev = c->prev;
    free(c);
}

static void respond_text(http_request *req, int status, const char *text) {
    const char *h = "content-type: text/plain\r\n";
    http_respond(req, status, NULL, h, strlen(h), text, strlen(text));
}

static void send_stats(http_request *req) {
    buf b = {0};
    buf_printf(&b,
               "{\"open\":%llu,\"accepted\":%llu,\"flood_sent\":%llu,\"flood_refused\":%llu,"
               "\"max_buffered_seen\":%llu,\"limit\":%zu,\"drains\":%llu,\"closes\":{",
               (unsigned long long)S.open, (unsigned long long)S.accepted,
               (unsigned long long)S.flood_sent, (unsigned long long)S.flood_refused,
               (unsigned long long)S.max_buffered_seen, S.opt.max_buffered_bytes,
               (unsigned long long)S.drains);
    for (size_t i = 0; i < S.close_kinds; i++)
        buf_printf(&b, "%s\"%d\":%llu", i ? "," : "", S.closes[i].code,
                   (unsigned long long)S.closes[i].count);
    buf_puts(&b, "}}");
    const char *h = "content-type: application/json\r\n";
    http_respond(req, 200, NULL, h, strlen(h), b.data, b.len);
    buf_free(&b);
}

static void on_request(void *ud, http_request *req) {
    (void)ud;
    const char *path = req->target.data ? req->target.data : "/";
    if (strcmp(path, "/stats") == 0) {
        send_stats(req);
        return;
    }
    if (strcmp(path, "/auth") == 0) {
        size_t len = 0;
        const char *auth = http_request_header(req, "authorization", &len);
        if (!auth || len != 13 || memcmp(auth, "Bearer secret", 13) != 0) {
            respond_text(req, 401, "missing or wrong token\n");
            return;
        }
    }
    /* req (and path, which points into it) is released by ws_accept. */
    size_t flood = 0;
    if (strncmp(path, "/flood", 6) == 0) {
        const char *size = strstr(path, "size=");
        flood = size ? (size_t)strtoul(size + 5, NULL, 10) : 1024;
    }
    ws_options opt = S.opt;
    if (strcmp(path, "/protocols") == 0) opt.subprotocols = "chat, superchat";
    opt.response_headers = "x-echo: 1\r\n";
    conn *c = xcalloc(1, sizeof *c);
    ws_callbacks cb = {on_message, on_close, on_drain};
    char err[256];
    c->ws = ws_accept(req, &cb, c, &opt, err, sizeof err);
    if (!c->ws) {
        fprintf(stderr, "handshake refused: %s\n", err);
        free(c);
        return;
    }
    S.open++;
    S.accepted++;
    c->next = S.conns;
    if (S.conns) S.conns->prev = c;
    S.conns = c;
    if (flood) start_flood(c, flood);
}

static void on_signal(uv_signal_t *s, int signum) {
    (void)s;
    fprintf(stderr, "signal %d: shutting down\n", signum);
    uv_close((uv_handle_t *)&S.sigterm, NULL);
    uv_close((uv_handle_t *)&S.sigint, NULL);
    uv_close((uv_handle_t *)&S.flood_timer, NULL);
    http_server_shutdown(S.http);
}

static uint64_t number_arg(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s needs a value\n", argv[*i]);
        exit(2);
    }
    return strtoull(argv[++*i], NULL, 10);
}

int main(int argc, char **argv) {
    int port = 0;
    ws_options_defaults(&S.opt);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0)
            port = (int)number_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--max-message") == 0)
            S.opt.max_message_bytes = number_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--max-buffered") == 0)
            S.opt.max_buffered_bytes = number_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--ping-interval") == 0)
            S.opt.ping_interval_ms = number_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--idle-timeout") == 0)
            S.opt.idle_timeout_ms = number_arg(argc, argv, &i);
        else if (strcmp(argv[i], "--close-timeout") == 0)
            S.opt.close_timeout_ms = number_arg(argc, argv, &i);
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    char err[256];
    int fd = net_listen("127.0.0.1", port, false, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    S.loop = uv_default_loop();
    http_server_config cfg;
    http_server_config_defaults(&cfg);
    S.http = http_server_new(S.loop, fd, &cfg, on_request, NULL);
    uv_timer_init(S.loop, &S.flood_timer);
    uv_signal_init(S.loop, &S.sigterm);
    uv_signal_init(S.loop, &S.sigint);
    uv_signal_start(&S.sigterm, on_signal, SIGTERM);
    uv_signal_start(&S.sigint, on_signal, SIGINT);
    printf("listening on %d\n", net_bound_port(fd));
    fflush(stdout);
    uv_run(S.loop, UV_RUN_DEFAULT);
    http_server_free(S.http);
    uv_loop_close(S.loop);
    fprintf(stderr, "shut down, %llu connection(s) accepted\n", (unsigned long long)S.accepted);
    return 0;
}
