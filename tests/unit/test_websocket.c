/* Unit tests for WebSockets (src/net/websocket.c, src/net/websocket_client.c): the handshake
 * helpers, then the real thing in one process — an http_server with ws_accept on a loop
 * thread, talked to by the C client and by a raw socket sending hand-made frames — and a
 * ws_conn on a socketpair for the bounded send queue. The end-to-end tests
 * (tests/e2e/websocket.test.mjs) cover the same ground from Node with the `ws` package. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "base/buf.h"
#include "net/http_server.h"
#include "net/listen.h"
#include "net/websocket.h"
#include "net/websocket_client.h"

/* ---- handshake helpers ---------------------------------------------------------------------- */

static void test_accept_key(void **state) {
    (void)state;
    char out[WS_ACCEPT_LEN + 1];
    /* RFC 6455 §1.3. */
    const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
    ws_accept_key(key, strlen(key), out);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    key = "AAAAAAAAAAAAAAAAAAAAAA==";
    ws_accept_key(key, strlen(key), out);
    assert_int_equal(strlen(out), WS_ACCEPT_LEN);
    assert_string_not_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_key_valid(void **state) {
    (void)state;
    const char *good[] = {
        "dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAA==", "/+/+/+/+/+/+/+/+/+/+/w=="};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        assert_true(ws_key_valid(good[i], strlen(good[i])));
    const char *bad[] = {
        "",
        "c2hvcnQ=",                  /* 5 bytes */
        "AAAAAAAAAAAAAAAAAAAAAAA=",  /* 17 bytes */
        "AAAAAAAAAAAAAAAAAAAAAAAA",  /* 18 bytes, no padding */
        "AAAAAAAAAAAAAAAAAAAAA===",  /* bad padding */
        "AAAAAAAAAAAAAAAAAAAA A==",  /* a space */
        "AAAAAAAAAAAAAAAAAAAA-_==",  /* base64url */
        "dGhlIHNhbXBsZSBub25jZQ==x", /* too long */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(ws_key_valid(bad[i], strlen(bad[i])));
}

static void test_header_tokens(void **state) {
    (void)state;
    const char *v = "keep-alive, Upgrade";
    assert_true(ws_header_has_token(v, strlen(v), "upgrade"));
    assert_true(ws_header_has_token(v, strlen(v), "keep-alive"));
    v = " \tUPGRADE\t ";
    assert_true(ws_header_has_token(v, strlen(v), "upgrade"));
    v = "upgraded, xupgrade, upgrade-x";
    assert_false(ws_header_has_token(v, strlen(v), "upgrade"));
    v = ",,websocket,";
    assert_true(ws_header_has_token(v, strlen(v), "websocket"));
    assert_false(ws_header_has_token("", 0, "websocket"));
    assert_false(ws_header_has_token(NULL, 0, "websocket"));
    /* Only the first len bytes count. */
    v = "close, upgrade";
    assert_false(ws_header_has_token(v, 5, "upgrade"));
}

static void test_select_protocol(void **state) {
    (void)state;
    char out[32];
    const char *offered = "v2.chat, chat ,superchat";
    assert_true(ws_select_protocol(offered, strlen(offered), "superchat, chat", out, sizeof out));
    assert_string_equal(out, "chat"); /* the client's order decides */
    assert_false(ws_select_protocol(offered, strlen(offered), "other", out, sizeof out));
    assert_false(ws_select_protocol(NULL, 0, "chat", out, sizeof out));
    assert_false(ws_select_protocol(offered, strlen(offered), NULL, out, sizeof out));
    /* A protocol that does not fit the output is not selected. */
    char tiny[4];
    assert_false(ws_select_protocol("superchat", 9, "superchat", tiny, sizeof tiny));
}

/* ---- an echo server on a loop thread -------------------------------------------------------- */

typedef struct test_server {
    uv_loop_t loop;
    uv_async_t stop_async;
    uv_thread_t thread;
    http_server *http;
    int port;
    ws_options opt;
    bool walk_on_stop; /* end the loop by closing every handle, as the control thread does */
    uv_mutex_t lock;   /* guards what on_close records */
    int codes[32];
    char reasons[32][128];
    int ncodes;
    int accepted;
} test_server;

static void srv_message(ws_conn *ws, ws_opcode op, const uint8_t *data, size_t len) {
    if (op == WS_TEXT && len > 6 && memcmp(data, "close:", 6) == 0) {
        char text[128];
        snprintf(text, sizeof text, "%.*s", (int)len, (const char *)data);
        char *reason = strchr(text + 6, ':');
        ws_close(ws, atoi(text + 6), reason ? reason + 1 : "");
        return;
    }
    if (op == WS_TEXT)
        ws_send_text(ws, (const char *)data, len);
    else
        ws_send_binary(ws, data, len);
}

static void srv_close(ws_conn *ws, int code, const char *reason, size_t reason_len) {
    test_server *s = ws_user(ws);
    uv_mutex_lock(&s->lock);
    if (s->ncodes < 32) {
        snprintf(s->reasons[s->ncodes], sizeof s->reasons[0], "%.*s", (int)reason_len, reason);
        s->codes[s->ncodes++] = code;
    }
    uv_mutex_unlock(&s->lock);
}

static void srv_request(void *ud, http_request *req) {
    test_server *s = ud;
    ws_callbacks cb = {srv_message, srv_close, NULL};
    char err[128];
    if (ws_accept(req, &cb, s, &s->opt, err, sizeof err)) s->accepted++;
}

static void close_walk(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void srv_stop(uv_async_t *a) {
    test_server *s = a->data;
    uv_close((uv_handle_t *)a, NULL);
    http_server_shutdown(s->http);
    if (s->walk_on_stop) uv_walk(&s->loop, close_walk, NULL);
}

static void srv_thread(void *arg) {
    test_server *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
}

static test_server *server_start(const ws_options *opt) {
    test_server *s = calloc(1, sizeof *s);
    ws_options_defaults(&s->opt);
    if (opt) s->opt = *opt;
    uv_mutex_init(&s->lock);
    uv_loop_init(&s->loop);
    char err[128];
    int fd = net_listen("127.0.0.1", 0, false, err, sizeof err);
    assert_true(fd >= 0);
    s->port = net_bound_port(fd);
    http_server_config cfg;
    http_server_config_defaults(&cfg);
    s->http = http_server_new(&s->loop, fd, &cfg, srv_request, s);
    uv_async_init(&s->loop, &s->stop_async, srv_stop);
    s->stop_async.data = s;
    uv_thread_create(&s->thread, srv_thread, s);
    return s;
}

/* Stops the server (graceful or by closing every handle) and waits for its loop to end. */
static void server_stop(test_server *s) {
    uv_async_send(&s->stop_async);
    uv_thread_join(&s->thread);
    http_server_free(s->http);
    assert_int_equal(uv_loop_close(&s->loop), 0);
}

static void server_free(test_server *s) {
    uv_mutex_destroy(&s->lock);
    free(s);
}

/* Waits (up to 5 s) until the server recorded n closes. */
static void wait_closes(test_server *s, int n) {
    for (int i = 0; i < 500; i++) {
        uv_mutex_lock(&s->lock);
        int have = s->ncodes;
        uv_mutex_unlock(&s->lock);
        if (have >= n) return;
        usleep(10000);
    }
    fail_msg("expected %d closes", n);
}

/* ---- a raw client ---------------------------------------------------------------------------- */

static int raw_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void raw_send(int fd, const void *p, size_t len) {
    assert_int_equal(send(fd, p, len, MSG_NOSIGNAL), (ssize_t)len);
}

static const char *upgrade_request =
    "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/* Reads an HTTP response head (and the body, if it has a content-length) into out. */
static void raw_response(int fd, buf *out) {
    buf_clear(out);
    char c;
    while (!(out->len >= 4 && memcmp(out->data + out->len - 4, "\r\n\r\n", 4) == 0)) {
        assert_int_equal(recv(fd, &c, 1, 0), 1);
        buf_putc(out, c);
    }
    const char *cl = strstr(out->data, "content-length: ");
    for (long n = cl ? atol(cl + 16) : 0; n > 0; n--) {
        assert_int_equal(recv(fd, &c, 1, 0), 1);
        buf_putc(out, c);
    }
}

static void raw_read(int fd, uint8_t *p, size_t len) {
    while (len) {
        ssize_t n = recv(fd, p, len, 0);
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* Reads one server frame (it must be unmasked): its opcode, payload into out. */
static int raw_frame(int fd, buf *out) {
    uint8_t h[2];
    raw_read(fd, h, 2);
    assert_int_equal(h[1] & 0x80, 0);
    uint64_t len = h[1] & 0x7f;
    if (len == 126) {
        uint8_t e[2];
        raw_read(fd, e, 2);
        len = (uint64_t)e[0] << 8 | e[1];
    } else if (len == 127) {
        uint8_t e[8];
        raw_read(fd, e, 8);
        len = 0;
        for (int i = 0; i < 8; i++) len = len << 8 | e[i];
    }
    buf_clear(out);
    buf_reserve(out, (size_t)len);
    raw_read(fd, (uint8_t *)out->data, (size_t)len);
    out->len = (size_t)len;
    out->data[len] = '\0';
    return h[0] & 0x0f;
}

/* A masked client frame (mask key 1 2 3 4). */
static void client_frame(buf *out, int first_byte, const void *payload, size_t len) {
    buf_putc(out, (char)first_byte);
    if (len < 126) {
        buf_putc(out, (char)(0x80 | len));
    } else {
        buf_putc(out, (char)(0x80 | 126));
        buf_putc(out, (char)(len >> 8));
        buf_putc(out, (char)(len & 0xff));
    }
    const uint8_t key[4] = {1, 2, 3, 4};
    buf_append(out, key, 4);
    for (size_t i = 0; i < len; i++)
        buf_putc(out, (char)(((const uint8_t *)payload)[i] ^ key[i % 4]));
}

/* Opens a raw WebSocket to s and returns its fd. */
static int raw_open(test_server *s) {
    int fd = raw_connect(s->port);
    raw_send(fd, upgrade_request, strlen(upgrade_request));
    buf head = {0};
    raw_response(fd, &head);
    assert_non_null(strstr(head.data, "HTTP/1.1 101 Switching Protocols\r\n"));
    assert_non_null(strstr(head.data, "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    buf_free(&head);
    return fd;
}

/* Sends bytes on a new WebSocket and returns the close code the server answers with. */
static int close_code_for(test_server *s, const void *bytes, size_t len) {
    int fd = raw_open(s);
    raw_send(fd, bytes, len);
    buf payload = {0};
    int op;
    while ((op = raw_frame(fd, &payload)) != 8) {
    }
    int code = payload.len >= 2 ? ((uint8_t)payload.data[0] << 8 | (uint8_t)payload.data[1]) : 1005;
    /* Then the server closes the connection. */
    char c;
    assert_int_equal(recv(fd, &c, 1, 0), 0);
    close(fd);
    buf_free(&payload);
    return code;
}

/* ---- the server through a raw socket -----------------------------------------------------------
 */

static void test_frames(void **state) {
    (void)state;
    ws_options opt;
    ws_options_defaults(&opt);
    opt.max_message_bytes = 1000;
    test_server *s = server_start(&opt);

    /* Echo, then a fragmented message with a ping between its fragments: the pong goes out
     * first (wslay sends control frames ahead of queued messages). */
    int fd = raw_open(s);
    buf f = {0}, payload = {0};
    client_frame(&f, 0x81, "hello", 5);
    raw_send(fd, f.data, f.len);
    assert_int_equal(raw_frame(fd, &payload), 1);
    assert_string_equal(payload.data, "hello");
    buf_clear(&f);
    client_frame(&f, 0x01, "frag", 4);
    client_frame(&f, 0x89, "p", 1);
    client_frame(&f, 0x80, "ment", 4);
    raw_send(fd, f.data, f.len);
    assert_int_equal(raw_frame(fd, &payload), 0xa);
    assert_string_equal(payload.data, "p");
    assert_int_equal(raw_frame(fd, &payload), 1);
    assert_string_equal(payload.data, "fragment");
    /* A 300-byte binary message (16-bit length) comes back whole. */
    uint8_t big[300];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)i;
    buf_clear(&f);
    client_frame(&f, 0x82, big, sizeof big);
    raw_send(fd, f.data, f.len);
    assert_int_equal(raw_frame(fd, &payload), 2);
    assert_int_equal(payload.len, sizeof big);
    assert_memory_equal(payload.data, big, sizeof big);
    /* Client-initiated close: the code is echoed, then the server closes the connection. */
    buf_clear(&f);
    client_frame(&f, 0x88,
                 "\x0f\xa0"
                 "ciao",
                 6); /* 4000 */
    raw_send(fd, f.data, f.len);
    assert_int_equal(raw_frame(fd, &payload), 8);
    assert_int_equal(payload.len, 6);
    assert_memory_equal(payload.data,
                        "\x0f\xa0"
                        "ciao",
                        6);
    char c;
    assert_int_equal(recv(fd, &c, 1, 0), 0);
    close(fd);

    /* Errors. */
    buf_clear(&f);
    client_frame(&f, 0x81, "\xc3\x28", 2);
    assert_int_equal(close_code_for(s, f.data, f.len), 1007);
    buf_clear(&f);
    client_frame(&f, 0x82, big, sizeof big);
    client_frame(&f, 0x82, (uint8_t[1001]){0}, 1001);
    assert_int_equal(close_code_for(s, f.data, f.len), 1009);
    assert_int_equal(close_code_for(s, "\x81\x01x", 3), 1002); /* not masked */
    buf_clear(&f);
    client_frame(&f, 0x83, "x", 1); /* reserved opcode */
    assert_int_equal(close_code_for(s, f.data, f.len), 1002);
    assert_int_equal(close_code_for(s, "\x89\xfe\x00\x7e", 4), 1002); /* 126-byte ping */
    assert_int_equal(close_code_for(s, "\x82\xfe\x00\x05", 4), 1002); /* non-minimal length */
    buf_clear(&f);
    client_frame(&f, 0x88, "\x03", 1); /* 1-byte close payload */
    assert_int_equal(close_code_for(s, f.data, f.len), 1002);

    server_stop(s);
    /* on_close saw, in order: 4000, 1007, 1009, 1002 x 5. */
    int expected[] = {4000, 1007, 1009, 1002, 1002, 1002, 1002, 1002};
    assert_int_equal(s->ncodes, 8);
    for (int i = 0; i < 8; i++) assert_int_equal(s->codes[i], expected[i]);
    assert_string_equal(s->reasons[0], "ciao");
    buf_free(&f);
    buf_free(&payload);
    server_free(s);
}

static void test_bad_handshakes(void **state) {
    (void)state;
    test_server *s = server_start(NULL);
    struct {
        const char *request, *status, *text;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "426 Upgrade Required",
         "expected a WebSocket upgrade request"},
        {"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 12\r\n\r\n",
         "426 Upgrade Required", "unsupported WebSocket version \"12\""},
        {"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
         "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
         "400 Bad Request", "Sec-WebSocket-Key must be the base64 of 16 bytes"},
        {"PUT / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nContent-Length: 0\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
         "400 Bad Request", "must be a GET, not PUT"},
    };
    buf resp = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int fd = raw_connect(s->port);
        raw_send(fd, cases[i].request, strlen(cases[i].request));
        raw_response(fd, &resp);
        assert_non_null(strstr(resp.data, cases[i].status));
        assert_non_null(strstr(resp.data, cases[i].text));
        assert_non_null(strstr(resp.data, "connection: close\r\n"));
        close(fd);
    }
    buf_free(&resp);
    server_stop(s);
    assert_int_equal(s->accepted, 0);
    server_free(s);
}

/* ---- the C client --------------------------------------------------------------------------- */

typedef struct received {
    int count;
    char last[256];
    ws_opcode op;
} received;

static void on_client_message(void *ud, ws_opcode op, const uint8_t *data, size_t len) {
    received *r = ud;
    r->count++;
    r->op = op;
    snprintf(r->last, sizeof r->last, "%.*s", (int)len, (const char *)data);
}

static void run_until(ws_client *c, received *r, int count) {
    char err[128];
    for (int i = 0; i < 100 && r->count < count; i++)
        assert_int_equal(ws_client_run(c, 50, on_client_message, r, err, sizeof err), 1);
    assert_int_equal(r->count, count);
}

static void test_client(void **state) {
    (void)state;
    ws_options opt;
    ws_options_defaults(&opt);
    opt.ping_interval_ms = 20;
    test_server *s = server_start(&opt);
    char url[64], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x?y=1", s->port);
    ws_client *c = ws_client_connect(url, NULL, err, sizeof err, NULL);
    assert_non_null(c);
    received r = {0};
    assert_true(ws_client_send(c, WS_TEXT, "one", 3));
    assert_true(ws_client_send(c, WS_BINARY, "\0two", 4));
    run_until(c, &r, 2);
    assert_int_equal(r.op, WS_BINARY);
    /* The server's pings are answered meanwhile (wslay); the connection stays up. */
    assert_int_equal(ws_client_run(c, 200, on_client_message, &r, err, sizeof err), 1);
    ws_client_close(c, 1000, "bye");
    assert_int_equal(ws_client_run(c, 5000, on_client_message, &r, err, sizeof err), 0);
    const char *reason;
    size_t reason_len;
    assert_int_equal(ws_client_close_code(c, &reason, &reason_len), 1000);
    assert_int_equal(reason_len, 3);
    assert_memory_equal(reason, "bye", 3);
    ws_client_free(c);

    /* The server closes. */
    c = ws_client_connect(url, NULL, err, sizeof err, NULL);
    assert_non_null(c);
    ws_client_send(c, WS_TEXT, "close:4321:enough", 17);
    assert_int_equal(ws_client_run(c, 5000, on_client_message, &r, err, sizeof err), 0);
    assert_int_equal(ws_client_close_code(c, &reason, &reason_len), 4321);
    ws_client_free(c);

    /* Refusals and bad URLs. */
    int status = -1;
    assert_null(ws_client_connect("wss://127.0.0.1:1/", NULL, err, sizeof err, &status));
    assert_non_null(strstr(err, "not supported yet"));
    assert_int_equal(status, 0);
    assert_null(ws_client_connect("ws://[::1/", NULL, err, sizeof err, NULL));
    assert_non_null(strstr(err, "bad IPv6 address"));
    assert_null(ws_client_connect("ws://127.0.0.1:99999/", NULL, err, sizeof err, NULL));
    assert_non_null(strstr(err, "bad port"));
    assert_null(ws_client_connect("ws:///x", NULL, err, sizeof err, NULL));
    assert_non_null(strstr(err, "no host"));

    wait_closes(s, 2);
    server_stop(s);
    assert_int_equal(s->codes[0], 1000);
    assert_int_equal(s->codes[1], 4321);
    server_free(s);
}

/* http_server_shutdown sends 1001 to every WebSocket; the loop ends once they are closed. */
static void test_shutdown(void **state) {
    (void)state;
    test_server *s = server_start(NULL);
    char url[64], err[256];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", s->port);
    ws_client *a = ws_client_connect(url, NULL, err, sizeof err, NULL);
    ws_client *b = ws_client_connect(url, NULL, err, sizeof err, NULL);
    assert_non_null(a);
    assert_non_null(b);
    received r = {0};
    ws_client_send(a, WS_TEXT, "x", 1);
    run_until(a, &r, 1); /* both are accepted by now (a's echo came after b's 101) */
    uv_async_send(&s->stop_async);
    const char *reason;
    size_t reason_len;
    assert_int_equal(ws_client_run(a, 5000, on_client_message, &r, err, sizeof err), 0);
    assert_int_equal(ws_client_close_code(a, &reason, &reason_len), 1001);
    assert_memory_equal(reason, "going away", 10);
    assert_int_equal(ws_client_run(b, 5000, on_client_message, &r, err, sizeof err), 0);
    assert_int_equal(ws_client_close_code(b, NULL, NULL), 1001);
    uv_thread_join(&s->thread);
    http_server_free(s->http);
    assert_int_equal(uv_loop_close(&s->loop), 0);
    assert_int_equal(s->ncodes, 2);
    assert_int_equal(s->codes[0], 1001);
    assert_int_equal(s->codes[1], 1001);
    ws_client_free(a);
    ws_client_free(b);
    server_free(s);
}

/* A loop ended by closing every handle (uv_walk) with a WebSocket still open: http_server_free
 * releases it (on_close with 1006), nothing leaks (ASan). */
static void test_walk_release(void **state) {
    (void)state;
    test_server *s = server_start(NULL);
    s->walk_on_stop = true;
    char url[64], err[256];
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", s->port);
    ws_client *c = ws_client_connect(url, NULL, err, sizeof err, NULL);
    assert_non_null(c);
    received r = {0};
    ws_client_send(c, WS_TEXT, "x", 1);
    run_until(c, &r, 1);
    server_stop(s);
    assert_int_equal(s->ncodes, 1);
    /* The 1001 close went out (or not) before the walk closed the socket; either way the
     * server side ends exactly once. */
    assert_true(s->codes[0] == 1001 || s->codes[0] == 1006);
    ws_client_free(c);
    server_free(s);
}

/* ---- the bounded queue, on a socketpair ------------------------------------------------------ */

typedef struct queue_state {
    int drains, closes, close_code;
} queue_state;

static void q_drain(ws_conn *ws) {
    queue_state *q = ws_user(ws);
    q->drains++;
}

static void q_close(ws_conn *ws, int code, const char *reason, size_t len) {
    (void)reason;
    (void)len;
    queue_state *q = ws_user(ws);
    q->closes++;
    q->close_code = code;
}

static void test_bounded_queue(void **state) {
    (void)state;
    uv_loop_t loop;
    uv_loop_init(&loop);
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    uv_pipe_t *pipe = malloc(sizeof *pipe);
    uv_pipe_init(&loop, pipe, 0);
    assert_int_equal(uv_pipe_open(pipe, fds[0]), 0);
    ws_options opt;
    ws_options_defaults(&opt);
    opt.max_buffered_bytes = 256 * 1024;
    queue_state q = {0};
    ws_callbacks cb = {NULL, q_close, q_drain};
    ws_conn *ws = ws_open_stream((uv_stream_t *)pipe, NULL, 0, &cb, &q, &opt);
    uv_run(&loop, UV_RUN_NOWAIT);

    /* The peer never reads: sends succeed until the socket and then the queue are full. */
    static char chunk[16 * 1024];
    int sent = 0, refused = 0;
    for (int i = 0; i < 10000 && refused < 10; i++) {
        if (ws_send_binary(ws, chunk, sizeof chunk))
            sent++;
        else
            refused++;
        assert_true(ws_buffered_bytes(ws) <= opt.max_buffered_bytes);
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(refused, 10);
    assert_int_equal(ws_refused_sends(ws), 10);
    assert_true(ws_buffered_bytes(ws) > opt.max_buffered_bytes - sizeof chunk);
    /* A message larger than the limit never fits. */
    static char huge[300 * 1024];
    assert_false(ws_send_binary(ws, huge, sizeof huge));
    assert_int_equal(q.drains, 0);

    /* The peer reads: the queue drains and on_drain says so. */
    char sink[65536];
    size_t total = 0;
    for (int i = 0; i < 100000 && q.drains == 0; i++) {
        ssize_t n = recv(fds[1], sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0) total += (size_t)n;
        uv_run(&loop, UV_RUN_NOWAIT);
    }
    assert_int_equal(q.drains, 1);
    assert_true(total > 0);
    assert_true(ws_send_text(ws, "again", 5));

    /* Close: everything queued goes out first, then the close frame; the peer hangs up. */
    ws_close(ws, 1000, "done");
    assert_false(ws_is_open(ws));
    assert_false(ws_send_text(ws, "late", 4));
    buf all = {0};
    for (int i = 0; i < 100000; i++) {
        ssize_t n = recv(fds[1], sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0) buf_append(&all, sink, (size_t)n);
        uv_run(&loop, UV_RUN_NOWAIT);
        if (all.len >= 8 && memcmp(all.data + all.len - 8,
                                   "\x88\x06\x03\xe8"
                                   "done",
                                   8) == 0)
            break;
    }
    assert_true(all.len >= 13);
    assert_memory_equal(all.data + all.len - 13,
                        "again\x88\x06\x03\xe8"
                        "done",
                        13);
    close(fds[1]);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(q.closes, 1);
    assert_int_equal(q.close_code, 1000);
    buf_free(&all);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),    cmocka_unit_test(test_key_valid),
        cmocka_unit_test(test_header_tokens), cmocka_unit_test(test_select_protocol),
        cmocka_unit_test(test_frames),        cmocka_unit_test(test_bad_handshakes),
        cmocka_unit_test(test_client),        cmocka_unit_test(test_shutdown),
        cmocka_unit_test(test_walk_release),  cmocka_unit_test(test_bounded_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
