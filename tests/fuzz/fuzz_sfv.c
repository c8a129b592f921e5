/* libFuzzer target for the RFC 8941 dictionary parser.
 *
 * Beyond "no crash, no leak, no undefined behaviour" (the sanitizers' job) it checks:
 *   - a rejected value gets an "offset N: ..." message within the input and an empty result;
 *   - every member of an accepted dictionary satisfies the RFC's invariants: a valid key,
 *     unique keys, strings of printable ASCII, valid tokens, integers of at most 15 digits,
 *     decimals below 10^12, booleans 0 or 1;
 *   - the dictionary survives a round trip: serialized as RFC 8941 §4.1 would (without the
 *     parameters and inner-list items, which the parser drops), it parses to the same members.
 *
 * Build and run:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc tests/fuzz/fuzz_sfv.c \
 *       src/net/sfv.c src/base/alloc.c src/base/buf.c -o /tmp/fuzz_sfv
 *   /tmp/fuzz_sfv -max_total_time=60 /tmp/sfv-corpus tests/fuzz/seeds/sfv
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "net/sfv.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_sfv: check failed at line %d: %s\n", __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool is_lcalpha(char c) {
    return c >= 'a' && c <= 'z';
}
static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
static bool is_alpha(char c) {
    return is_lcalpha(c) || (c >= 'A' && c <= 'Z');
}

static bool valid_key(const char *k) {
    if (!is_lcalpha(k[0]) && k[0] != '*') return false;
    for (; *k; k++)
        if (!is_lcalpha(*k) && !is_digit(*k) && !strchr("_-.*", *k)) return false;
    return true;
}

static bool valid_token(const char *t) {
    if (!is_alpha(t[0]) && t[0] != '*') return false;
    for (; *t; t++)
        if (!is_alpha(*t) && !is_digit(*t) && !strchr("!#$%&'*+-.^_`|~:/", *t)) return false;
    return true;
}

static void check_member(const sfv_member *m) {
    FUZZ_CHECK(m->key && valid_key(m->key));
    switch (m->type) {
    case SFV_INTEGER:
        FUZZ_CHECK(m->integer >= -999999999999999LL && m->integer <= 999999999999999LL);
        FUZZ_CHECK(m->string == NULL);
        break;
    case SFV_DECIMAL:
        FUZZ_CHECK(isfinite(m->decimal) && fabs(m->decimal) < 1e12);
        FUZZ_CHECK(m->string == NULL);
        break;
    case SFV_STRING:
        FUZZ_CHECK(m->string && strlen(m->string) == m->bytes_len);
        for (const char *s = m->string; *s; s++) FUZZ_CHECK(*s >= 0x20 && *s <= 0x7e);
        break;
    case SFV_TOKEN:
        FUZZ_CHECK(m->string && valid_token(m->string) && strlen(m->string) == m->bytes_len);
        break;
    case SFV_BYTES:
        FUZZ_CHECK(m->string != NULL && m->string[m->bytes_len] == '\0');
        break;
    case SFV_BOOLEAN:
        FUZZ_CHECK(m->integer == 0 || m->integer == 1);
        FUZZ_CHECK(m->string == NULL);
        break;
    case SFV_INNER_LIST:
        FUZZ_CHECK(m->string == NULL);
        break;
    default:
        FUZZ_CHECK(!"unknown member type");
    }
}

static void put_base64(buf *out, const unsigned char *p, size_t n) {
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        buf_putc(out, alphabet[v >> 18]);
        buf_putc(out, alphabet[(v >> 12) & 63]);
        buf_putc(out, i + 1 < n ? alphabet[(v >> 6) & 63] : '=');
        buf_putc(out, i + 2 < n ? alphabet[v & 63] : '=');
    }
}

static void serialize(const sfv_dict *d, buf *out) {
    for (size_t i = 0; i < d->count; i++) {
        const sfv_member *m = &d->members[i];
        if (i) buf_puts(out, ", ");
        buf_printf(out, "%s=", m->key);
        switch (m->type) {
        case SFV_INTEGER:
            buf_printf(out, "%lld", (long long)m->integer);
            break;
        case SFV_DECIMAL:
            buf_printf(out, "%.3f", m->decimal);
            break;
        case SFV_STRING:
            buf_putc(out, '"');
            for (const char *s = m->string; *s; s++) {
                if (*s == '"' || *s == '\\') buf_putc(out, '\\');
                buf_putc(out, *s);
            }
            buf_putc(out, '"');
            break;
        case SFV_TOKEN:
            buf_puts(out, m->string);
            break;
        case SFV_BYTES:
            buf_putc(out, ':');
            put_base64(out, (const unsigned char *)m->string, m->bytes_len);
            buf_putc(out, ':');
            break;
        case SFV_BOOLEAN:
            buf_puts(out, m->integer ? "?1" : "?0");
            break;
        case SFV_INNER_LIST:
            buf_puts(out, "()");
            break;
        }
    }
}

static void check_same(const sfv_dict *a, const sfv_dict *b) {
    FUZZ_CHECK(a->count == b->count);
    for (size_t i = 0; i < a->count; i++) {
        const sfv_member *x = &a->members[i], *y = &b->members[i];
        FUZZ_CHECK(strcmp(x->key, y->key) == 0);
        FUZZ_CHECK(x->type == y->type);
        switch (x->type) {
        case SFV_INTEGER:
        case SFV_BOOLEAN:
            FUZZ_CHECK(x->integer == y->integer);
            break;
        case SFV_DECIMAL:
            FUZZ_CHECK(memcmp(&x->decimal, &y->decimal, sizeof x->decimal) == 0);
            break;
        case SFV_STRING:
        case SFV_TOKEN:
        case SFV_BYTES:
            FUZZ_CHECK(x->bytes_len == y->bytes_len);
            FUZZ_CHECK(memcmp(x->string, y->string, x->bytes_len) == 0);
            break;
        case SFV_INNER_LIST:
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Copy so that reading one byte past the input is caught. */
    char *src = malloc(size ? size : 1);
    if (size) memcpy(src, data, size);

    sfv_dict d;
    char err[160];
    if (sfv_parse_dict(src, size, &d, err, sizeof err) != 0) {
        size_t offset = 0;
        FUZZ_CHECK(sscanf(err, "offset %zu: ", &offset) == 1 && offset <= size);
        FUZZ_CHECK(strchr(err, ':') && strchr(err, ':')[1] == ' ' && strchr(err, ':')[2] != '\0');
        FUZZ_CHECK(d.count == 0 && d.members == NULL);
        free(src);
        return 0;
    }
    for (size_t i = 0; i < d.count; i++) {
        check_member(&d.members[i]);
        for (size_t j = 0; j < i; j++) FUZZ_CHECK(strcmp(d.members[i].key, d.members[j].key) != 0);
        FUZZ_CHECK(sfv_dict_get(&d, d.members[i].key) == &d.members[i]);
    }

    buf text = {0};
    serialize(&d, &text);
    sfv_dict again;
    if (sfv_parse_dict(text.data ? text.data : "", text.len, &again, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_sfv: round trip rejected (%s):\n%s\n", err, text.data);
        abort();
    }
    check_same(&d, &again);
    sfv_dict_free(&again);
    buf_free(&text);
    sfv_dict_free(&d);
    free(src);
    return 0;
}
