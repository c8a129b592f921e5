/* libFuzzer target for the multipart/form-data parser.
 *
 * Input layout: byte 0 picks the boundary length (byte % 70 + 1), the next bytes are the
 * boundary (bytes outside RFC 2046's set are mapped into it), the rest is the body. The whole
 * input, up to its first NUL, is also tried as a Content-Type value for multipart_boundary.
 *
 * Beyond "no crash, no leak, no undefined behaviour" (the sanitizers' job) it checks:
 *   - a rejected body gets a non-empty message and leaves an empty result;
 *   - an accepted body has at most 1000 parts, in order, whose data lies inside the body and
 *     whose names, filenames and content types are clean C strings;
 *   - the parts survive a round trip: written back as a canonical CRLF body with the same
 *     boundary, they parse to the same parts;
 *   - an accepted boundary is 1 to 70 allowed characters and reads back the same when quoted.
 *
 * Build and run:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *       tests/fuzz/fuzz_multipart.c src/net/multipart.c src/base/alloc.c src/base/buf.c \
 *       -o /tmp/fuzz_multipart
 *   /tmp/fuzz_multipart -max_total_time=120 /tmp/multipart-corpus tests/fuzz/seeds/multipart
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "net/multipart.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_multipart: check failed at line %d: %s\n", __LINE__, #cond);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char bchars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "'()+_,-./:=? ";

static bool is_bchar(char c) {
    return c && strchr(bchars, c) != NULL;
}

static bool clean_text(const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
    return true;
}

static void fuzz_boundary(const uint8_t *data, size_t size) {
    char *header = malloc(size + 1);
    memcpy(header, data, size);
    header[size] = '\0';
    char err[128];
    char *b = multipart_boundary(header, err, sizeof err);
    if (!b) {
        FUZZ_CHECK(err[0] != '\0');
    } else {
        size_t len = strlen(b);
        FUZZ_CHECK(len >= 1 && len <= 70);
        for (size_t i = 0; i < len; i++) FUZZ_CHECK(is_bchar(b[i]));
        FUZZ_CHECK(b[len - 1] != ' ');
        buf again = {0};
        buf_printf(&again, "multipart/form-data; boundary=\"%s\"", b);
        char *b2 = multipart_boundary(again.data, err, sizeof err);
        FUZZ_CHECK(b2 && strcmp(b, b2) == 0);
        free(b2);
        buf_free(&again);
        free(b);
    }
    free(header);
}

static void put_quoted(buf *out, const char *s) {
    buf_putc(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') buf_putc(out, '\\');
        buf_putc(out, *s);
    }
    buf_putc(out, '"');
}

/* Writes the parts back as a canonical body; false when its headers would exceed the limit
 * (re-escaping can make them longer than they were). */
static bool rebuild(const multipart *m, const char *boundary, buf *out) {
    for (size_t i = 0; i < m->count; i++) {
        const multipart_part *p = &m->parts[i];
        buf_printf(out, "--%s\r\n", boundary);
        size_t start = out->len;
        buf_puts(out, "Content-Disposition: form-data; name=");
        put_quoted(out, p->name);
        if (p->filename) {
            buf_puts(out, "; filename=");
            put_quoted(out, p->filename);
        }
        buf_puts(out, "\r\n");
        if (p->content_type) buf_printf(out, "Content-Type: %s\r\n", p->content_type);
        if (out->len - start > 8192) return false;
        buf_puts(out, "\r\n");
        buf_append(out, p->data, p->len);
        buf_puts(out, "\r\n");
    }
    buf_printf(out, "--%s--\r\n", boundary);
    return true;
}

static void check_same(const multipart *a, const multipart *b) {
    FUZZ_CHECK(a->count == b->count);
    for (size_t i = 0; i < a->count; i++) {
        const multipart_part *x = &a->parts[i], *y = &b->parts[i];
        FUZZ_CHECK(strcmp(x->name, y->name) == 0);
        FUZZ_CHECK(!x->filename == !y->filename);
        FUZZ_CHECK(!x->filename || strcmp(x->filename, y->filename) == 0);
        FUZZ_CHECK(!x->content_type == !y->content_type);
        FUZZ_CHECK(!x->content_type || strcmp(x->content_type, y->content_type) == 0);
        FUZZ_CHECK(x->len == y->len);
        FUZZ_CHECK(x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_boundary(data, size);
    if (size < 2) return 0;

    size_t blen = data[0] % 70 + 1;
    if (size < 1 + blen) return 0;
    char boundary[71];
    for (size_t i = 0; i < blen; i++) {
        char c = (char)data[1 + i];
        boundary[i] = is_bchar(c) ? c : bchars[data[1 + i] % (sizeof bchars - 1)];
    }
    boundary[blen] = '\0';

    /* Copy so that reading one byte past the body is caught. */
    size_t len = size - 1 - blen;
    char *body = malloc(len ? len : 1);
    if (len) memcpy(body, data + 1 + blen, len);

    multipart m;
    char err[256];
    err[0] = '\0';
    if (multipart_parse(body, len, boundary, &m, err, sizeof err) != 0) {
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(m.count == 0 && m.parts == NULL);
        free(body);
        return 0;
    }

    FUZZ_CHECK(m.count <= 1000);
    const char *prev_end = body;
    for (size_t i = 0; i < m.count; i++) {
        const multipart_part *p = &m.parts[i];
        FUZZ_CHECK(p->name != NULL && clean_text(p->name) && strlen(p->name) <= 8192);
        FUZZ_CHECK(!p->filename || (clean_text(p->filename) && strlen(p->filename) <= 8192));
        if (p->content_type) {
            size_t n = strlen(p->content_type);
            FUZZ_CHECK(clean_text(p->content_type) && n <= 8192);
            FUZZ_CHECK(n == 0 || (p->content_type[0] != ' ' && p->content_type[0] != '\t' &&
                                  p->content_type[n - 1] != ' ' && p->content_type[n - 1] != '\t'));
        }
        FUZZ_CHECK(p->data >= prev_end && p->len <= len);
        FUZZ_CHECK(p->data + p->len <= body + len);
        prev_end = p->data + p->len;
    }
    FUZZ_CHECK(multipart_find(&m, m.count ? m.parts[0].name : "x") == (m.count ? m.parts : NULL));

    buf again = {0};
    if (rebuild(&m, boundary, &again)) {
        multipart m2;
        if (multipart_parse(again.data, again.len, boundary, &m2, err, sizeof err) != 0) {
            fprintf(stderr, "fuzz_multipart: round trip rejected: %s\n", err);
            abort();
        }
        check_same(&m, &m2);
        multipart_free(&m2);
    }
    buf_free(&again);
    multipart_free(&m);
    free(body);
    return 0;
}
