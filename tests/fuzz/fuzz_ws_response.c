/* libFuzzer target for the WebSocket handshake-response parser (src/net/websocket_response.c),
 * which reads what a remote server answers an outbound WebSocket (a Worker's fetch() with
 * Upgrade: websocket, or new WebSocket(url)).
 *
 * The input is the byte stream a server would send. Beyond "no crash, no overread, no undefined
 * behaviour" (the sanitizers' job) it checks that:
 *   - the verdict does not depend on how reads split the stream: fed at once, byte by byte, and
 *     in chunks whose sizes come from the input, it ends the same way (upgrade / complete /
 *     error / more), at the same offset for an upgrade, with the same status, header lines and
 *     body;
 *   - an upgrade is a 101, and the bytes it used are within what it was given;
 *   - a complete response has a status in 100..999 and a body no larger than the limit.
 *
 * Build and run:
 *   make build/fuzz/fuzz_ws_response
 *   build/fuzz/fuzz_ws_response -max_total_time=60 /tmp/ws-corpus tests/fuzz/seeds/ws_response
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/websocket_response.h"

#define MAX_BODY 4096

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_ws_response: check failed at line %d: %s\n", __LINE__, #cond);   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct outcome {
    ws_parse_result result;
    size_t at; /* the stream offset where an upgrade's head ended */
    int status;
    char *lines;
    size_t lines_len;
    uint8_t *body;
    size_t body_len;
} outcome;

/* Feeds data in pieces of the sizes `step` gives (0 → all at once), then EOF if undecided. */
static outcome run(const uint8_t *data, size_t size,
                   size_t (*step)(size_t i, const uint8_t *d, size_t n)) {
    outcome o = {0};
    ws_response_parser *p = ws_response_parser_new(MAX_BODY);
    size_t off = 0;
    ws_parse_result r = WS_PARSE_MORE;
    for (size_t i = 0; off < size && r == WS_PARSE_MORE; i++) {
        size_t n = step ? step(i, data, size) : size - off;
        if (n == 0) n = 1;
        if (n > size - off) n = size - off;
        size_t used = 0;
        r = ws_response_parser_feed(p, (const char *)data + off, n, &used);
        FUZZ_CHECK(used <= n);
        if (r == WS_PARSE_UPGRADE) o.at = off + used;
        off += n;
    }
    if (r == WS_PARSE_MORE) r = ws_response_parser_eof(p);
    o.result = r;
    if (r == WS_PARSE_UPGRADE || r == WS_PARSE_COMPLETE) {
        o.status = ws_response_status(p);
        const char *lines = ws_response_lines(p, &o.lines_len);
        o.lines = malloc(o.lines_len + 1);
        if (o.lines_len) memcpy(o.lines, lines, o.lines_len);
        const uint8_t *body = ws_response_body(p, &o.body_len);
        o.body = malloc(o.body_len + 1);
        if (o.body_len) memcpy(o.body, body, o.body_len);
        FUZZ_CHECK(ws_response_reason(p) != NULL);
    }
    if (r == WS_PARSE_ERROR) FUZZ_CHECK(ws_response_parser_error(p) != NULL);
    ws_response_parser_free(p);
    return o;
}

static size_t one_byte(size_t i, const uint8_t *d, size_t n) {
    (void)i, (void)d, (void)n;
    return 1;
}

static size_t from_input(size_t i, const uint8_t *d, size_t n) {
    return n ? (size_t)(d[(i * 7) % n] % 23) + 1 : 1;
}

static void same(const outcome *a, const outcome *b) {
    FUZZ_CHECK(a->result == b->result);
    if (a->result == WS_PARSE_UPGRADE) FUZZ_CHECK(a->at == b->at);
    if (a->result == WS_PARSE_UPGRADE || a->result == WS_PARSE_COMPLETE) {
        FUZZ_CHECK(a->status == b->status);
        FUZZ_CHECK(a->lines_len == b->lines_len && !memcmp(a->lines, b->lines, a->lines_len));
        FUZZ_CHECK(a->body_len == b->body_len && !memcmp(a->body, b->body, a->body_len));
    }
}

static void outcome_free(outcome *o) {
    free(o->lines);
    free(o->body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    outcome whole = run(data, size, NULL);
    if (whole.result == WS_PARSE_UPGRADE) FUZZ_CHECK(whole.status == 101 && whole.at <= size);
    if (whole.result == WS_PARSE_COMPLETE)
        FUZZ_CHECK(whole.status >= 100 && whole.status <= 999 && whole.body_len <= MAX_BODY);
    outcome bytes = run(data, size, one_byte);
    outcome chunks = run(data, size, from_input);
    same(&whole, &bytes);
    same(&whole, &chunks);
    outcome_free(&whole);
    outcome_free(&bytes);
    outcome_free(&chunks);
    return 0;
}
