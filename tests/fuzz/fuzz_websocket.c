/* libFuzzer target for the WebSocket frame path (src/net/websocket.c over wslay): the input is
 * what a client sends after the handshake. A ws_conn runs on one end of a socketpair in a
 * libuv loop (the first input byte says how much of the input arrives with the handshake, as
 * leftover bytes, and how much over the socket); every message it delivers is echoed.
 *
 * Beyond "no crash, no leak, no undefined behaviour" it checks:
 *   - on_close is called exactly once, and every handle is closed afterwards;
 *   - messages delivered are at most max_message_bytes, and text is valid UTF-8;
 *   - what the server wrote parses as server frames: unmasked, no reserved bits or opcodes,
 *     control frames final and at most 125 bytes, nothing after a close frame, a close code
 *     that may be sent; its data frames are the echoes, in order (all of them, unless a close
 *     frame cut them short);
 *   - a close frame the server sent carries the code on_close reported.
 *
 * Build and run:
 *   make fuzzers && build/fuzz/fuzz_websocket -max_total_time=60 /tmp/ws-corpus \
 *       tests/fuzz/seeds/websocket
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "base/buf.h"
#include "net/websocket.h"

#define MAX_MESSAGE 2048

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_websocket: check failed at line %d: %s\n", __LINE__, #cond);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct run {
    buf echoes; /* the frames the echoes should produce, in order */
    int closes;
    int close_code;
} run;

static bool utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n) return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}

/* The frame a server writes for a message (unmasked, final). */
static void server_frame(buf *out, int opcode, const uint8_t *p, size_t n) {
    buf_putc(out, (char)(0x80 | opcode));
    if (n < 126) {
        buf_putc(out, (char)n);
    } else {
        buf_putc(out, (char)126);
        buf_putc(out, (char)(n >> 8));
        buf_putc(out, (char)(n & 0xff));
    }
    buf_append(out, p, n);
}

static void on_message(ws_conn *ws, ws_opcode op, const uint8_t *data, size_t len) {
    run *r = ws_user(ws);
    FUZZ_CHECK(len <= MAX_MESSAGE);
    FUZZ_CHECK(op == WS_TEXT || op == WS_BINARY);
    if (op == WS_TEXT) FUZZ_CHECK(utf8_valid(data, len));
    bool sent =
        op == WS_TEXT ? ws_send_text(ws, (const char *)data, len) : ws_send_binary(ws, data, len);
    if (sent) server_frame(&r->echoes, op, data, len);
}

static void on_close(ws_conn *ws, int code, const char *reason, size_t reason_len) {
    run *r = ws_user(ws);
    (void)reason;
    FUZZ_CHECK(reason_len <= 123);
    r->closes++;
    r->close_code = code;
}

static bool sendable_code(int code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

/* Checks the server's output: frames as described above. */
static void check_output(const uint8_t *p, size_t n, const run *r) {
    buf data = {0};
    int close_sent = 0;
    size_t off = 0;
    bool closed = false;
    while (off < n) {
        FUZZ_CHECK(!closed); /* nothing after a close frame */
        FUZZ_CHECK(n - off >= 2);
        uint8_t b0 = p[off], b1 = p[off + 1];
        int opcode = b0 & 0x0f;
        FUZZ_CHECK((b0 & 0x70) == 0);
        FUZZ_CHECK((b1 & 0x80) == 0);
        FUZZ_CHECK(opcode == 1 || opcode == 2 || opcode == 8 || opcode == 9 || opcode == 10);
        size_t len = b1 & 0x7f, hl = 2;
        if (len == 126) {
            FUZZ_CHECK(n - off >= 4);
            len = (size_t)p[off + 2] << 8 | p[off + 3];
            hl = 4;
        }
        FUZZ_CHECK(len != 127); /* echoes are small */
        FUZZ_CHECK(n - off >= hl + len);
        if (opcode >= 8) FUZZ_CHECK((b0 & 0x80) && len <= 125);
        if (opcode == 1 || opcode == 2) buf_append(&data, p + off, hl + len);
        if (opcode == 8) {
            closed = true;
            FUZZ_CHECK(len != 1);
            if (len >= 2) {
                int code = p[off + hl] << 8 | p[off + hl + 1];
                FUZZ_CHECK(sendable_code(code));
                FUZZ_CHECK(utf8_valid(p + off + hl + 2, len - 2));
                close_sent = code;
            }
        }
        off += hl + len;
    }
    /* A prefix: when the client closes, echoes not yet sent are dropped. */
    FUZZ_CHECK(data.len <= r->echoes.len);
    FUZZ_CHECK(data.len == 0 || memcmp(data.data, r->echoes.data, data.len) == 0);
    if (!closed) FUZZ_CHECK(data.len == r->echoes.len);
    /* Whoever started the close, the code that went out is the one on_close reported. */
    if (close_sent) FUZZ_CHECK(close_sent == r->close_code);
    buf_free(&data);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size) {
    static uv_loop_t loop;
    static bool ready;
    if (!ready) {
        uv_loop_init(&loop);
        ready = true;
    }
    if (size == 0) return 0;
    size_t leftover = input[0] % 4 == 0 ? (size - 1) / 2 : 0;
    const uint8_t *data = input + 1;
    size_t len = size - 1;

    int fds[2];
    FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    uv_pipe_t *pipe = malloc(sizeof *pipe);
    uv_pipe_init(&loop, pipe, 0);
    FUZZ_CHECK(uv_pipe_open(pipe, fds[0]) == 0);
    ws_options opt;
    ws_options_defaults(&opt);
    opt.max_message_bytes = MAX_MESSAGE;
    opt.max_buffered_bytes = 64 * 1024;
    /* Never reached while the harness reads everything (a timeout would cut echoes short). */
    opt.close_timeout_ms = 1000;
    run r = {0};
    ws_callbacks cb = {on_message, on_close, NULL};
    ws_conn *ws = ws_open_stream((uv_stream_t *)pipe, data, leftover, &cb, &r, &opt);
    (void)ws;

    /* The rest comes over the socket, then the client stops sending; meanwhile the loop runs
     * and what the server writes is read, like a client would. */
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    size_t off = leftover;
    bool shut = false, alive = true;
    buf out = {0};
    char chunk[65536];
    ssize_t n;
    while (alive) {
        if (off < len && (n = write(fds[1], data + off, len - off)) > 0) off += (size_t)n;
        if (off == len && !shut) {
            shutdown(fds[1], SHUT_WR);
            shut = true;
        }
        alive = uv_run(&loop, UV_RUN_NOWAIT) != 0;
        while ((n = read(fds[1], chunk, sizeof chunk)) > 0) buf_append(&out, chunk, (size_t)n);
    }
    FUZZ_CHECK(r.closes == 1);
    check_output((const uint8_t *)out.data, out.len, &r);
    buf_free(&r.echoes);
    buf_free(&out);
    close(fds[1]);
    return 0;
}
