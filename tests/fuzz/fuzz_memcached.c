/* libFuzzer target for the memcached meta protocol reply parser (src/ratelimit/memcached_reply.c).
 *
 * The input is a byte stream as a server would send it. Beyond "no crash, no overread, no
 * undefined behaviour" (the sanitizers' job) it checks:
 *   - each parse consumes at most what it was given, and a parsed reply is well-formed: it ends
 *     with CRLF, its line fits MC_REPLY_MAX_LINE, its flags / opaque / data / message lie inside
 *     the bytes consumed, an opaque is the token after an 'O' flag, a VA's data is followed by
 *     CRLF, error replies have no flags;
 *   - the stream parsed at once, byte by byte, and in chunks whose sizes come from the input
 *     itself gives the same replies (at the same offsets) and stops at the same place with the
 *     same verdict (need more / malformed) — i.e. the result does not depend on how reads split
 *     the stream;
 *   - for the first reply, every prefix shorter than it says "need more", and a malformed
 *     stream is rejected at one point: shorter prefixes need more, longer ones are rejected.
 *
 * Build and run:
 *   make build/fuzz/fuzz_memcached
 *   build/fuzz/fuzz_memcached -max_total_time=60 /tmp/memcached-corpus tests/fuzz/seeds/memcached
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit/memcached_reply.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_memcached: check failed at line %d: %s\n", __LINE__, #cond);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A parsed reply, positions relative to the start of the stream. */
typedef struct seen {
    int type;
    size_t start, end;
    ptrdiff_t flags, opaque, data, msg; /* -1: absent */
    size_t flags_len, opaque_len, data_len, msg_len;
} seen;

typedef struct outcome {
    seen *replies;
    size_t count, cap;
    size_t consumed;
    int last; /* 0: stopped needing more, -1: stopped at malformed bytes */
} outcome;

static ptrdiff_t pos(const char *base, const char *p) {
    return p ? p - base : -1;
}

/* Checks one parsed reply against the bytes it came from. */
static void check_reply(const char *p, size_t len, ptrdiff_t n, const mc_reply *r) {
    FUZZ_CHECK(n > 0 && (size_t)n <= len);
    size_t end = (size_t)n;
    FUZZ_CHECK(end >= 4 && p[end - 2] == '\r' && p[end - 1] == '\n');
    const char *crlf = memchr(p, '\n', end);
    FUZZ_CHECK(crlf && crlf > p && crlf[-1] == '\r');
    size_t line = (size_t)(crlf - p) + 1;
    FUZZ_CHECK(line <= MC_REPLY_MAX_LINE);
    FUZZ_CHECK(strncmp(p, mc_reply_type_name(r->type), strlen(mc_reply_type_name(r->type))) == 0);
    bool error = r->type == MC_REPLY_ERROR || r->type == MC_REPLY_CLIENT_ERROR ||
                 r->type == MC_REPLY_SERVER_ERROR;
    if (error) {
        FUZZ_CHECK(r->flags == NULL && r->opaque == NULL && r->data == NULL);
        FUZZ_CHECK(r->msg && r->msg >= p && r->msg + r->msg_len <= p + line - 2);
        FUZZ_CHECK(line == end);
    } else {
        FUZZ_CHECK(r->msg == NULL);
        FUZZ_CHECK(r->flags && r->flags >= p && r->flags + r->flags_len <= p + line - 2);
        for (size_t i = 0; i < r->flags_len; i++)
            FUZZ_CHECK(r->flags[i] >= 0x20 && r->flags[i] <= 0x7e);
        if (r->opaque) {
            FUZZ_CHECK(r->opaque > r->flags && r->opaque[-1] == 'O');
            FUZZ_CHECK(r->opaque - 1 == r->flags || r->opaque[-2] == ' ');
            FUZZ_CHECK(r->opaque + r->opaque_len <= r->flags + r->flags_len);
            FUZZ_CHECK(memchr(r->opaque, ' ', r->opaque_len) == NULL);
        }
        if (r->type == MC_REPLY_VA) {
            FUZZ_CHECK(r->data == p + line);
            FUZZ_CHECK(r->data_len <= MC_REPLY_MAX_VALUE);
            FUZZ_CHECK(line + r->data_len + 2 == end);
            uint64_t v;
            if (mc_reply_number(r->data, r->data_len, &v) == 0) {
                FUZZ_CHECK(r->data[0] >= '0' && r->data[0] <= '9');
                /* The value printed back is the digits, give or take leading zeros. */
                char text[24];
                int k = snprintf(text, sizeof text, "%llu", (unsigned long long)v);
                size_t digits = 0;
                while (digits < r->data_len && r->data[digits] != ' ') digits++;
                size_t zeros = 0;
                while (zeros + 1 < digits && r->data[zeros] == '0') zeros++;
                FUZZ_CHECK((size_t)k == digits - zeros);
                FUZZ_CHECK(memcmp(text, r->data + zeros, (size_t)k) == 0);
            }
        } else {
            FUZZ_CHECK(r->data == NULL && line == end);
        }
    }
}

static void record(outcome *o, const char *base, const char *p, ptrdiff_t n, const mc_reply *r) {
    if (o->count == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 16;
        o->replies = realloc(o->replies, o->cap * sizeof *o->replies);
        FUZZ_CHECK(o->replies);
    }
    seen *s = &o->replies[o->count++];
    s->type = (int)r->type;
    s->start = (size_t)(p - base);
    s->end = s->start + (size_t)n;
    s->flags = pos(base, r->flags);
    s->opaque = pos(base, r->opaque);
    s->data = pos(base, r->data);
    s->msg = pos(base, r->msg);
    s->flags_len = r->flags_len;
    s->opaque_len = r->opaque_len;
    s->data_len = r->data_len;
    s->msg_len = r->msg_len;
}

/* Parses the stream as it would arrive in reads of the given sizes (sizes cycle; 0: all at once),
 * into a buffer that holds exactly the bytes received so far (so an overread is caught). */
static void parse_stream(const uint8_t *data, size_t size, const uint8_t *sizes, size_t nsizes,
                         outcome *o) {
    memset(o, 0, sizeof *o);
    char *stream = malloc(size ? size : 1);
    FUZZ_CHECK(stream);
    memcpy(stream, data, size);
    size_t received = 0, off = 0, turn = 0;
    for (;;) {
        size_t step = nsizes ? (size_t)sizes[turn++ % nsizes] % 17 + 1 : size;
        if (step > size - received) step = size - received;
        received += step;
        /* A fresh allocation per read, of the received length. */
        char *view = malloc(received ? received : 1);
        FUZZ_CHECK(view);
        memcpy(view, stream, received);
        for (;;) {
            mc_reply r;
            ptrdiff_t n = mc_reply_parse(view + off, received - off, &r);
            FUZZ_CHECK(n >= -1 && (n < 0 || (size_t)n <= received - off));
            if (n == 0) break;
            if (n < 0) {
                o->last = -1;
                o->consumed = off;
                free(view);
                free(stream);
                return;
            }
            check_reply(view + off, received - off, n, &r);
            record(o, view, view + off, n, &r);
            off += (size_t)n;
        }
        free(view);
        if (received == size) break;
    }
    o->last = 0;
    o->consumed = off;
    free(stream);
}

static void check_same(const outcome *a, const outcome *b) {
    FUZZ_CHECK(a->count == b->count);
    FUZZ_CHECK(a->consumed == b->consumed);
    FUZZ_CHECK(a->last == b->last);
    /* Field by field: the struct has padding. */
    for (size_t i = 0; i < a->count; i++) {
        const seen *x = &a->replies[i], *y = &b->replies[i];
        FUZZ_CHECK(x->type == y->type && x->start == y->start && x->end == y->end);
        FUZZ_CHECK(x->flags == y->flags && x->flags_len == y->flags_len);
        FUZZ_CHECK(x->opaque == y->opaque && x->opaque_len == y->opaque_len);
        FUZZ_CHECK(x->data == y->data && x->data_len == y->data_len);
        FUZZ_CHECK(x->msg == y->msg && x->msg_len == y->msg_len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    outcome whole, bytewise, chunked;
    parse_stream(data, size, NULL, 0, &whole);
    static const uint8_t one = 0;
    parse_stream(data, size, &one, 1, &bytewise); /* 0 % 17 + 1: one byte per read */
    check_same(&whole, &bytewise);
    parse_stream(data, size, data, size < 8 ? size : 8, &chunked);
    check_same(&whole, &chunked);

    /* The first reply (or the rejection) is decided at one point. (Checked on the first 600
     * bytes, to keep this quadratic loop fast; the byte-by-byte run covers the rest.) */
    size_t limit = size < 600 ? size : 600;
    char *copy = malloc(limit ? limit : 1);
    FUZZ_CHECK(copy);
    memcpy(copy, data, limit);
    mc_reply r;
    ptrdiff_t full = mc_reply_parse(copy, limit, &r);
    bool rejected = false;
    for (size_t k = 0; k < limit; k++) {
        char *prefix = malloc(k ? k : 1);
        FUZZ_CHECK(prefix);
        memcpy(prefix, copy, k);
        ptrdiff_t n = mc_reply_parse(prefix, k, &r);
        free(prefix);
        if (full > 0) {
            FUZZ_CHECK(n == ((ptrdiff_t)k < full ? 0 : full));
        } else if (full == 0) {
            FUZZ_CHECK(n == 0);
        } else {
            if (rejected) FUZZ_CHECK(n == -1);
            FUZZ_CHECK(n == 0 || n == -1);
            rejected = n == -1;
        }
        if (full > 0 && (ptrdiff_t)k >= full) break;
    }
    free(copy);
    free(whole.replies);
    free(bytewise.replies);
    free(chunked.replies);
    return 0;
}
