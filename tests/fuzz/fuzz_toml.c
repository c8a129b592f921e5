/* libFuzzer target for the TOML parser.
 *
 * Beyond "no crash, no leak, no undefined behaviour" (the sanitizers' job) it checks:
 *   - a rejected document gets a usable error: line within the document, column >= 1, a
 *     non-empty message;
 *   - an accepted document is a well-formed tree (lines in range, unique keys, strings
 *     NUL-terminated at their length);
 *   - the tree survives a round trip: written back as TOML (one line per top-level key, with
 *     inline tables and arrays) it parses to an equal tree.
 *
 * Build and run (seed with the toml-test files):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc tests/fuzz/fuzz_toml.c \
 *       src/config/toml*.c src/config/value.c src/base/alloc.c src/base/buf.c -o /tmp/fuzz_toml
 *   /tmp/fuzz_toml -max_total_time=120 /tmp/toml-corpus ../shared/conformance/toml-test/tests
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config/toml.h"
#include "config/value.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_toml: check failed at line %d: %s\n", __LINE__, #cond);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static bool fuzz_is_text(cfg_type type) {
    return type == CFG_STRING || type == CFG_DATETIME || type == CFG_DATETIME_LOCAL ||
           type == CFG_DATE_LOCAL || type == CFG_TIME_LOCAL;
}

static void fuzz_check_tree(const cfg_value *v, int max_line, int depth) {
    FUZZ_CHECK(v->line >= 1 && v->line <= max_line);
    FUZZ_CHECK(depth <= TOML_MAX_DEPTH + 1);
    if (fuzz_is_text(v->type)) {
        FUZZ_CHECK(v->u.str.ptr != NULL && v->u.str.ptr[v->u.str.len] == '\0');
    } else if (v->type == CFG_ARRAY) {
        for (size_t i = 0; i < v->u.arr.len; i++)
            fuzz_check_tree(v->u.arr.items[i], max_line, depth + 1);
    } else if (v->type == CFG_TABLE) {
        for (size_t i = 0; i < v->u.tab.len; i++) {
            for (size_t j = 0; j < i; j++)
                FUZZ_CHECK(strcmp(v->u.tab.keys[i], v->u.tab.keys[j]) != 0);
            fuzz_check_tree(v->u.tab.vals[i], max_line, depth + 1);
        }
    }
}

/* Writes s as a TOML basic string; C0 80 (how keys store U+0000) is written as \u0000. */
static void fuzz_write_string(buf *out, const char *s, size_t len) {
    buf_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xC0 && i + 1 < len && (unsigned char)s[i + 1] == 0x80) {
            buf_puts(out, "\\u0000");
            i++;
        } else if (c == '"' || c == '\\') {
            buf_printf(out, "\\%c", c);
        } else if (c < 0x20 || c == 0x7f) {
            buf_printf(out, "\\u%04X", c);
        } else {
            buf_putc(out, (char)c);
        }
    }
    buf_putc(out, '"');
}

static void fuzz_write_value(buf *out, const cfg_value *v) {
    switch (v->type) {
    case CFG_STRING:
        fuzz_write_string(out, v->u.str.ptr, v->u.str.len);
        break;
    case CFG_INTEGER:
        buf_printf(out, "%lld", (long long)v->u.i);
        break;
    case CFG_FLOAT:
        if (isnan(v->u.f)) {
            buf_puts(out, signbit(v->u.f) ? "-nan" : "nan");
        } else if (isinf(v->u.f)) {
            buf_puts(out, v->u.f < 0 ? "-inf" : "inf");
        } else {
            char text[64];
            snprintf(text, sizeof text, "%.17g", v->u.f);
            buf_puts(out, text);
            if (!strpbrk(text, ".e")) buf_puts(out, ".0");
        }
        break;
    case CFG_BOOL:
        buf_puts(out, v->u.b ? "true" : "false");
        break;
    case CFG_ARRAY:
        buf_putc(out, '[');
        for (size_t i = 0; i < v->u.arr.len; i++) {
            if (i) buf_puts(out, ", ");
            fuzz_write_value(out, v->u.arr.items[i]);
        }
        buf_putc(out, ']');
        break;
    case CFG_TABLE:
        buf_putc(out, '{');
        for (size_t i = 0; i < v->u.tab.len; i++) {
            buf_puts(out, i ? ", " : " ");
            fuzz_write_string(out, v->u.tab.keys[i], strlen(v->u.tab.keys[i]));
            buf_puts(out, " = ");
            fuzz_write_value(out, v->u.tab.vals[i]);
        }
        buf_puts(out, v->u.tab.len ? " }" : "}");
        break;
    default:
        buf_puts(out, v->u.str.ptr);
        break; /* datetimes: normalised text is TOML */
    }
}

static bool fuzz_same(const cfg_value *a, const cfg_value *b) {
    if (a->type != b->type) return false;
    switch (a->type) {
    case CFG_INTEGER:
        return a->u.i == b->u.i;
    case CFG_FLOAT:
        if (isnan(a->u.f)) return isnan(b->u.f) && signbit(a->u.f) == signbit(b->u.f);
        return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case CFG_BOOL:
        return a->u.b == b->u.b;
    case CFG_ARRAY:
        if (a->u.arr.len != b->u.arr.len) return false;
        for (size_t i = 0; i < a->u.arr.len; i++)
            if (!fuzz_same(a->u.arr.items[i], b->u.arr.items[i])) return false;
        return true;
    case CFG_TABLE:
        if (a->u.tab.len != b->u.tab.len) return false;
        for (size_t i = 0; i < a->u.tab.len; i++) {
            if (strcmp(a->u.tab.keys[i], b->u.tab.keys[i]) != 0) return false;
            if (!fuzz_same(a->u.tab.vals[i], b->u.tab.vals[i])) return false;
        }
        return true;
    default:
        return a->u.str.len == b->u.str.len &&
               memcmp(a->u.str.ptr, b->u.str.ptr, a->u.str.len) == 0;
    }
}

static void fuzz_round_trip(const cfg_value *doc) {
    buf text = {0};
    for (size_t i = 0; i < doc->u.tab.len; i++) {
        fuzz_write_string(&text, doc->u.tab.keys[i], strlen(doc->u.tab.keys[i]));
        buf_puts(&text, " = ");
        fuzz_write_value(&text, doc->u.tab.vals[i]);
        buf_putc(&text, '\n');
    }
    toml_error err;
    cfg_value *again = toml_parse(text.data, text.len, &err);
    if (!again) {
        fprintf(stderr, "fuzz_toml: round trip rejected at %d:%d: %s\n%s\n", err.line, err.column,
                err.message, text.data);
        abort();
    }
    FUZZ_CHECK(fuzz_same(doc, again));
    cfg_free(again);
    buf_free(&text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* Copy so that reading one byte past the input is caught instead of hitting libFuzzer's
     * own buffer bookkeeping. */
    char *src = malloc(size ? size : 1);
    if (size) memcpy(src, data, size);
    int lines = 1;
    for (size_t i = 0; i < size; i++) lines += src[i] == '\n';

    toml_error err;
    cfg_value *doc = toml_parse(src, size, &err);
    if (!doc) {
        FUZZ_CHECK(err.line >= 1 && err.line <= lines);
        FUZZ_CHECK(err.column >= 1 && (size_t)err.column <= size + 1);
        FUZZ_CHECK(err.message[0] != '\0');
        FUZZ_CHECK(memchr(err.message, '\0', sizeof err.message) != NULL);
    } else {
        FUZZ_CHECK(doc->type == CFG_TABLE);
        fuzz_check_tree(doc, lines, 0);
        fuzz_round_trip(doc);
        cfg_free(doc);
    }
    free(src);
    return 0;
}
