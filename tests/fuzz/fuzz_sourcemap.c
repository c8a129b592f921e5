/* libFuzzer target for the source map decoder and the stack rewriter.
 *
 * The first byte picks what the rest is:
 *   0: a whole source map (JSON). Accepted maps must satisfy the lookup invariants below and
 *      give project paths that stay in the project; rejected ones must say why.
 *   1: the `mappings` of a map with 3 sources and 2 names. Compared with a small, slow
 *      decoder written straight from the specification's algorithm: both must accept or reject
 *      the same strings, and agree on every lookup around every segment.
 *   2: a stack trace, rewritten through a fixed map: the rewriter must keep the number of
 *      lines and never fail.
 * Beyond "no crash, no leak, no undefined behaviour" (the sanitizers' job).
 *
 * Build and run:
 *   make build/fuzz/fuzz_sourcemap
 *   build/fuzz/fuzz_sourcemap -max_total_time=60 /tmp/sm-corpus tests/fuzz/seeds/sourcemap
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "observe/sourcemap.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_sourcemap: check failed at line %d: %s\n", __LINE__, #cond);     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* ------------------------------------------------------------------------------------------
 * The reference decoder: ECMA-426 "decode source map mappings", literally, into a flat list.
 * ---------------------------------------------------------------------------------------- */

typedef struct ref_seg {
    int64_t line, column, source, orig_line, orig_column, name; /* source -1: one field */
} ref_seg;

static int ref_digit(char c) {
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* "Decode a base64 VLQ" from s[*pos..end): false on error; *present false at the end. */
static bool ref_vlq(const char *s, size_t end, size_t *pos, bool *present, int64_t *out) {
    *present = false;
    if (*pos >= end) return true;
    int first = ref_digit(s[*pos]);
    int64_t sign = (first & 1) ? -1 : 1;
    uint64_t value = (uint64_t)((first >> 1) & 0x0F);
    unsigned shift = 4;
    int current = first;
    while (current & 0x20) {
        (*pos)++;
        if (*pos >= end) return false;
        current = ref_digit(s[*pos]);
        uint64_t chunk = (uint64_t)(current & 0x1F);
        if (chunk && shift >= 31) return false;
        if (chunk) value += chunk << shift;
        if (value >= 2147483648u) return false;
        if (shift < 64) shift += 5;
    }
    (*pos)++;
    *present = true;
    *out = value == 0 && sign < 0 ? -2147483648LL : (int64_t)value * sign;
    return true;
}

/* Decodes like the specification with every "optionally report an error" an error, plus
 * hearth's two rules: values at most 2^31 - 1, and each segment 1, 4 or 5 fields. */
static ref_seg *ref_decode(const char *s, size_t n, size_t *count, bool *ok) {
    *ok = false;
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] != ',' && s[i] != ';' && ref_digit(s[i]) < 0) return NULL;
    ref_seg *out = malloc((n + 1) * sizeof *out);
    int64_t line = 0, src = 0, ol = 0, oc = 0, name = 0;
    const int64_t max = 2147483647;
    size_t g = 0;
    while (g <= n) {
        size_t gend = g;
        while (gend < n && s[gend] != ';') gend++;
        int64_t col = 0;
        if (gend > g) {
            size_t sg = g;
            while (sg <= gend) {
                size_t send = sg;
                while (send < gend && s[send] != ',') send++;
                if (send == sg) goto fail; /* an empty segment */
                size_t pos = sg;
                int64_t f[6];
                bool present;
                int nf = 0;
                while (pos < send) {
                    if (nf == 6 || !ref_vlq(s, send, &pos, &present, &f[nf])) goto fail;
                    nf++;
                }
                if (nf != 1 && nf != 4 && nf != 5) goto fail;
                col += f[0];
                if (col < 0 || col > max) goto fail;
                ref_seg r = {line, col, -1, 0, 0, -1};
                if (nf >= 4) {
                    src += f[1];
                    ol += f[2];
                    oc += f[3];
                    if (src < 0 || src >= 3 || ol < 0 || ol > max || oc < 0 || oc > max) goto fail;
                    r.source = src;
                    r.orig_line = ol;
                    r.orig_column = oc;
                }
                if (nf == 5) {
                    name += f[4];
                    if (name < 0 || name >= 2) goto fail;
                    r.name = name;
                }
                out[(*count)++] = r;
                sg = send + 1;
            }
        }
        if (gend == n) break;
        g = gend + 1;
        line++;
    }
    *ok = true;
    return out;
fail:
    free(out);
    *count = 0;
    return NULL;
}

/* Greatest lower bound by a linear scan: the greatest column <= `column` on the line, the
 * first such segment in the map's order. */
static const ref_seg *ref_lookup(const ref_seg *segs, size_t n, int64_t line, int64_t column) {
    const ref_seg *best = NULL;
    for (size_t i = 0; i < n; i++) {
        if (segs[i].line != line || segs[i].column > column) continue;
        if (!best || segs[i].column > best->column) best = &segs[i];
    }
    return best && best->source >= 0 ? best : NULL;
}

static void compare_lookup(const sourcemap *m, const ref_seg *segs, size_t n, int64_t line,
                           int64_t column) {
    if (line < 0 || column < 0 || line > UINT32_MAX || column > UINT32_MAX) return;
    const ref_seg *want = ref_lookup(segs, n, line, column);
    sourcemap_mapping got;
    bool found = sourcemap_lookup(m, (uint32_t)line, (uint32_t)column, &got);
    FUZZ_CHECK(found == (want != NULL));
    if (!found) return;
    FUZZ_CHECK(got.generated_column == want->column);
    FUZZ_CHECK(got.source == want->source);
    FUZZ_CHECK(got.line == want->orig_line);
    FUZZ_CHECK(got.column == want->orig_column);
    FUZZ_CHECK(got.name == want->name);
}

static void fuzz_mappings(const uint8_t *data, size_t size) {
    buf json = {0};
    buf_puts(&json, "{\"version\":3,\"sources\":[\"a.js\",\"b.js\",null],\"names\":[\"x\",\"y\"],"
                    "\"mappings\":\"");
    for (size_t i = 0; i < size; i++) {
        unsigned char c = data[i];
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f)
            buf_printf(&json, "\\u%04x", c);
        else
            buf_putc(&json, (char)c);
    }
    buf_puts(&json, "\"}");
    char err[256] = "";
    sourcemap *m = sourcemap_parse(json.data, json.len, NULL, err, sizeof err);
    size_t n;
    bool ok;
    ref_seg *segs = ref_decode((const char *)data, size, &n, &ok);
    if (!ok) {
        if (m) fprintf(stderr, "hearth accepts what the reference rejects\n");
        FUZZ_CHECK(m == NULL);
        FUZZ_CHECK(strncmp(err, "mappings: ", 10) == 0);
    } else {
        if (!m) fprintf(stderr, "hearth rejects what the reference accepts: %s\n", err);
        FUZZ_CHECK(m != NULL);
        for (size_t i = 0; i < n && i < 200; i++) {
            compare_lookup(m, segs, n, segs[i].line, segs[i].column);
            compare_lookup(m, segs, n, segs[i].line, segs[i].column - 1);
            compare_lookup(m, segs, n, segs[i].line, segs[i].column + 1);
            compare_lookup(m, segs, n, segs[i].line + 1, segs[i].column);
        }
        compare_lookup(m, segs, n, 0, 0);
        compare_lookup(m, segs, n, 0, UINT32_MAX);
    }
    free(segs);
    sourcemap_free(m);
    buf_free(&json);
}

/* ------------------------------------------------------------------------------------------
 * Whole maps: invariants only.
 * ---------------------------------------------------------------------------------------- */

static size_t count_lines(const char *s, size_t n) {
    size_t lines = 0;
    for (size_t i = 0; i < n; i++) lines += s[i] == '\n';
    return lines;
}

static void check_project_path(const char *p, const char *resolved) {
    if (!p) return;
    /* a URL with nothing left of its path is shown as written */
    if (strcmp(p, resolved) == 0 && strchr(p, ':')) return;
    FUZZ_CHECK(strncmp(p, "../", 3) != 0 && strcmp(p, "..") != 0);
    FUZZ_CHECK(strstr(p, "/../") == NULL && strstr(p, "/./") == NULL);
    FUZZ_CHECK(strstr(p, "//") == NULL && strncmp(p, "./", 2) != 0);
}

static void check_lookup(const sourcemap *m, uint32_t line, uint32_t column) {
    sourcemap_mapping r;
    if (!sourcemap_lookup(m, line, column, &r)) return;
    FUZZ_CHECK(r.generated_column <= column);
    FUZZ_CHECK(r.source >= 0 && (uint32_t)r.source < sourcemap_source_count(m));
    FUZZ_CHECK(r.name == -1 || (r.name >= 0 && (uint32_t)r.name < sourcemap_name_count(m)));
    FUZZ_CHECK(r.line <= SOURCEMAP_MAX_POSITION && r.column <= SOURCEMAP_MAX_POSITION);
    /* the same segment is found at its own column, and nothing between */
    sourcemap_mapping again;
    FUZZ_CHECK(sourcemap_lookup(m, line, r.generated_column, &again));
    FUZZ_CHECK(memcmp(&again, &r, sizeof r) == 0);
    if (r.generated_column < column) {
        FUZZ_CHECK(sourcemap_lookup(m, line, r.generated_column + 1, &again));
        FUZZ_CHECK(again.generated_column == r.generated_column);
    }
}

static void fuzz_map(const uint8_t *data, size_t size) {
    char err[256] = "";
    sourcemap *m = sourcemap_parse((const char *)data, size, "dist/out.js.map", err, sizeof err);
    if (!m) {
        FUZZ_CHECK(err[0] != '\0');
        return;
    }
    for (uint32_t i = 0; i < sourcemap_source_count(m); i++) {
        check_project_path(sourcemap_source_path(m, i), sourcemap_source(m, i));
        FUZZ_CHECK((sourcemap_source(m, i) == NULL) == (sourcemap_source_path(m, i) == NULL));
    }
    for (uint32_t i = 0; i < sourcemap_name_count(m); i++) FUZZ_CHECK(sourcemap_name(m, i));
    for (uint32_t line = 0; line < 8; line++)
        for (uint32_t column = 0; column < 64; column += 3) check_lookup(m, line, column);
    check_lookup(m, 0, UINT32_MAX);
    check_lookup(m, UINT32_MAX, UINT32_MAX);

    /* and rewrite a stack through it */
    sourcemap_set *set = sourcemap_set_new();
    sourcemap_set_add(set, "dist/out.js", m);
    char *out = sourcemap_rewrite_stack(set, "Error: x\n    at a (dist/out.js:1:1)\n"
                                             "    at b (dist/out.js:1:5)\n"
                                             "    at dist/out.js:2:3\n");
    FUZZ_CHECK(out != NULL && count_lines(out, strlen(out)) == 4); /* names: no line breaks */
    free(out);
    sourcemap_set_free(set);
}

/* ------------------------------------------------------------------------------------------
 * Stacks.
 * ---------------------------------------------------------------------------------------- */

static const char STACK_MAP[] =
    "{\"version\":3,\"sources\":[\"../src/a.ts\",\"webpack:///./src/b.ts\"],"
    "\"names\":[\"alpha\",\"beta\"],\"mappings\":\"AAAAA,EAAEC,CCAA,EAAEA;AACAD,KAAK,C\"}";

static void fuzz_stack(const uint8_t *data, size_t size) {
    static sourcemap_set *set;
    if (!set) { /* kept for the whole run: libFuzzer reports it as reachable, not leaked */
        set = sourcemap_set_new();
        char err[256];
        sourcemap *m = sourcemap_parse(STACK_MAP, strlen(STACK_MAP), "dist/x.map", err, sizeof err);
        FUZZ_CHECK(m != NULL);
        sourcemap_set_add(set, "x.js", m);
    }
    char *stack = malloc(size + 1);
    memcpy(stack, data, size);
    stack[size] = '\0';
    size_t len = strlen(stack); /* the rewriter reads a C string: up to the first NUL */
    char *out = sourcemap_rewrite_stack(set, stack);
    FUZZ_CHECK(count_lines(out, strlen(out)) == count_lines(stack, len));
    free(out);
    free(stack);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    /* Copy so that reading one byte past the input is caught. */
    uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
    memcpy(copy, data + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        fuzz_map(copy, size - 1);
        break;
    case 1:
        fuzz_mappings(copy, size - 1);
        break;
    default:
        fuzz_stack(copy, size - 1);
        break;
    }
    free(copy);
    return 0;
}
