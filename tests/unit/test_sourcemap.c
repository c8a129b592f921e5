/* Unit tests for the source map decoder and the stack rewriter (src/observe/sourcemap*.c).
 *
 * Maps are written inline, some with `mappings` produced by a small VLQ encoder below so that
 * the positions they describe are readable. The realistic stacks are real: a three-file
 * TypeScript Worker bundled and minified by esbuild, run by hearth, its `error.stack` copied
 * here with the map esbuild wrote. The ECMA-426 suite itself runs in tests/conformance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/buf.h"
#include "observe/sourcemap.h"

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------------- */

static sourcemap *parse_ok(const char *json, const char *path) {
    char err[256] = "";
    sourcemap *m = sourcemap_parse(json, strlen(json), path, err, sizeof err);
    if (!m) fail_msg("rejected: %s\n%s", err, json);
    return m;
}

/* The map must be rejected with a reason that contains `reason`. */
static void expect_reject(const char *json, const char *reason) {
    char err[256] = "";
    sourcemap *m = sourcemap_parse(json, strlen(json), NULL, err, sizeof err);
    if (m) {
        sourcemap_free(m);
        fail_msg("accepted, must be rejected with \"%s\":\n%s", reason, json);
    }
    if (!strstr(err, reason)) fail_msg("rejected with \"%s\", expected \"%s\"", err, reason);
}

/* A map with two sources ("a.js", "b.js"), two names ("x", "y") and these mappings. */
static char *map_with(const char *mappings) {
    buf b = {0};
    buf_printf(&b,
               "{\"version\":3,\"sources\":[\"a.js\",\"b.js\"],\"names\":[\"x\",\"y\"],"
               "\"mappings\":\"%s\"}",
               mappings);
    return b.data;
}

static void expect_mappings_reject(const char *mappings, const char *reason) {
    char *json = map_with(mappings);
    expect_reject(json, reason);
    free(json);
}

/* Looks (line, column) up and compares with the expected "source:line:column name" (name
 * "-" for none), or NULL for no mapping. */
static void expect_lookup(const sourcemap *m, uint32_t line, uint32_t column, const char *want) {
    sourcemap_mapping r;
    bool found = sourcemap_lookup(m, line, column, &r);
    char got[256] = "(none)";
    if (found)
        snprintf(got, sizeof got, "%s:%u:%u %s", sourcemap_source(m, (uint32_t)r.source), r.line,
                 r.column, r.name >= 0 ? sourcemap_name(m, (uint32_t)r.name) : "-");
    if (!want && found) fail_msg("%u:%u: expected no mapping, got %s", line, column, got);
    if (want && strcmp(got, want) != 0)
        fail_msg("%u:%u: expected %s, got %s", line, column, want, got);
}

static void put_vlq(buf *b, int64_t v) {
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint64_t raw = v < 0 ? ((uint64_t)(-v) << 1) | 1 : (uint64_t)v << 1;
    do {
        unsigned digit = raw & 31;
        raw >>= 5;
        if (raw) digit |= 32;
        buf_putc(b, digits[digit]);
    } while (raw);
}

/* One segment for encode(): fields from `nfields` (1, 4 or 5). */
typedef struct test_seg {
    int line, column, source, orig_line, orig_column, name, nfields;
} test_seg;

/* Encodes segments (in order) as a `mappings` string. */
static char *encode(const test_seg *s, size_t n) {
    buf b = {0};
    buf_reserve(&b, 0);
    int line = 0, col = 0, src = 0, ol = 0, oc = 0, name = 0;
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        while (line < s[i].line) {
            buf_putc(&b, ';');
            line++;
            col = 0;
            first = true;
        }
        if (!first) buf_putc(&b, ',');
        first = false;
        put_vlq(&b, s[i].column - col);
        col = s[i].column;
        if (s[i].nfields >= 4) {
            put_vlq(&b, s[i].source - src);
            put_vlq(&b, s[i].orig_line - ol);
            put_vlq(&b, s[i].orig_column - oc);
            src = s[i].source;
            ol = s[i].orig_line;
            oc = s[i].orig_column;
        }
        if (s[i].nfields == 5) {
            put_vlq(&b, s[i].name - name);
            name = s[i].name;
        }
    }
    return b.data;
}

static void expect_rewrite(const sourcemap_set *set, const char *stack, const char *want) {
    char *got = sourcemap_rewrite_stack(set, stack);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "stack:\n%s\n--- expected:\n%s\n--- got:\n%s\n", stack, want, got);
        free(got);
        fail_msg("stack rewritten differently");
    }
    free(got);
}

/* ------------------------------------------------------------------------------------------
 * VLQ.
 * ---------------------------------------------------------------------------------------- */

/* Values survive encoding and decoding: as absolute values (an original column) and as
 * relative ones that bring a column back down. */
static void test_vlq_values(void **state) {
    (void)state;
    static const int64_t values[] = {0,    1,      15,      16,         31,        32,
                                     1000, 123456, 1 << 20, 2147483646, 2147483647};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        buf b = {0};
        buf_puts(&b, "AAA");
        put_vlq(&b, values[i]);
        char *json = map_with(b.data);
        sourcemap *m = parse_ok(json, NULL);
        char want[64];
        snprintf(want, sizeof want, "a.js:0:%lld -", (long long)values[i]);
        expect_lookup(m, 0, 0, want);
        sourcemap_free(m);
        free(json);
        /* and back down to 0 from 2^31 - 1 with a negative relative value */
        buf_clear(&b);
        buf_puts(&b, "AAA+/////D,CAA");
        put_vlq(&b, values[i] - 2147483647);
        json = map_with(b.data);
        m = parse_ok(json, NULL);
        snprintf(want, sizeof want, "a.js:0:%lld -", (long long)values[i]);
        expect_lookup(m, 0, 1, want);
        sourcemap_free(m);
        free(json);
        buf_free(&b);
    }
}

static void test_vlq_limits(void **state) {
    (void)state;
    /* 2^31 - 1 is the largest value, in any field */
    char *json = map_with("+/////DA+/////D+/////D");
    sourcemap *m = parse_ok(json, NULL);
    expect_lookup(m, 0, 2147483647u, "a.js:2147483647:2147483647 -");
    expect_lookup(m, 0, 2147483646u, NULL);
    sourcemap_free(m);
    free(json);
    /* 2^31 is not, nor anything with digits past 32 bits */
    expect_mappings_reject("ggggggE", "mappings: a VLQ at offset 0 does not fit in 32 bits");
    expect_mappings_reject("AAAggggggE", "mappings: a VLQ at offset 3 does not fit in 32 bits");
    expect_mappings_reject("hgggggE", "does not fit in 32 bits");
    expect_mappings_reject("//////////D", "does not fit in 32 bits");
    /* -(2^31 - 1) is fine; "negative zero" is -2^31 (the specification's rule), which here
     * takes the original line below 0 */
    json = map_with("AA+/////DA,CA//////DA");
    m = parse_ok(json, NULL);
    expect_lookup(m, 0, 1, "a.js:0:0 -");
    sourcemap_free(m);
    free(json);
    expect_mappings_reject("AA+/////DA,CABA", "mappings: original line is negative at offset 11");
    /* leading zero digits are allowed, any number of them */
    json = map_with("AAAiggggggggggggggggggggggggggggggggggggggggA");
    m = parse_ok(json, NULL);
    expect_lookup(m, 0, 0, "a.js:0:1 -");
    sourcemap_free(m);
    free(json);
}

static void test_vlq_invalid(void **state) {
    (void)state;
    expect_mappings_reject("AA!A", "mappings: invalid base64 character '!' at offset 2");
    expect_mappings_reject(";;A=", "mappings: invalid base64 character '=' at offset 3");
    expect_mappings_reject("AAAA.AAAA", "invalid base64 character '.' at offset 4");
    expect_mappings_reject("AA\xc3\xa9", "mappings: invalid base64 character 0xc3 at offset 2");
    expect_mappings_reject("AAAg", "mappings: a VLQ ends without its last digit at offset 4");
    expect_mappings_reject("Ag,AAAA", "mappings: a VLQ ends without its last digit at offset 2");
    expect_mappings_reject("AAAg;A", "a VLQ ends without its last digit at offset 4");
    expect_mappings_reject("AA", "mappings: segment at offset 0 has 2 fields (must be 1, 4 or 5)");
    expect_mappings_reject("A,AAA", "mappings: segment at offset 2 has 3 fields");
    expect_mappings_reject("AAAAAA", "mappings: segment at offset 0 has more than 5 fields");
    expect_mappings_reject(",A", "mappings: empty segment at offset 0");
    expect_mappings_reject("A,,A", "mappings: empty segment at offset 2");
    expect_mappings_reject("A,", "mappings: empty segment at offset 2");
    expect_mappings_reject("A,;A", "mappings: empty segment at offset 2");
    expect_mappings_reject("D", "mappings: generated column is negative at offset 0");
    expect_mappings_reject("C,F", "mappings: generated column is negative at offset 2");
}

/* ------------------------------------------------------------------------------------------
 * Fields.
 * ---------------------------------------------------------------------------------------- */

static void test_fields_invalid(void **state) {
    (void)state;
    expect_reject("[]", "a source map must be a JSON object");
    expect_reject("{\"version\":3,", "not valid JSON");
    expect_reject("{\"sources\":[],\"mappings\":\"\"}", "version: missing");
    expect_reject("{\"version\":\"3\",\"sources\":[],\"mappings\":\"\"}", "version: must be 3");
    expect_reject("{\"version\":2,\"sources\":[],\"mappings\":\"\"}", "version: must be 3");
    expect_reject("{\"version\":3,\"mappings\":\"\"}", "sources: missing");
    expect_reject("{\"version\":3,\"sources\":{},\"mappings\":\"\"}", "sources: must be an array");
    expect_reject("{\"version\":3,\"sources\":[\"a\",1],\"mappings\":\"\"}",
                  "sources[1]: must be a string or null");
    expect_reject("{\"version\":3,\"sources\":[],\"mappings\":\"\",\"sourcesContent\":[2]}",
                  "sourcesContent[0]: must be a string or null");
    expect_reject("{\"version\":3,\"sources\":[]}", "mappings: missing");
    expect_reject("{\"version\":3,\"sources\":[],\"mappings\":[]}", "mappings: must be a string");
    expect_reject("{\"version\":3,\"sources\":[],\"mappings\":\"\",\"names\":[\"a\",null]}",
                  "names[1]: must be a string");
    expect_reject("{\"version\":3,\"sources\":[],\"mappings\":\"\",\"file\":1}",
                  "file: must be a string");
    expect_reject("{\"version\":3,\"sources\":[],\"mappings\":\"\",\"sourceRoot\":1}",
                  "sourceRoot: must be a string");
    /* a version written 3.0 is the number 3 */
    sourcemap *m =
        parse_ok("{\"version\":3.0,\"sources\":[],\"mappings\":\"\",\"file\":\"x.js\"}", NULL);
    assert_string_equal(sourcemap_file(m), "x.js");
    assert_int_equal(sourcemap_source_count(m), 0);
    sourcemap_free(m);
    /* unknown fields are ignored; names may be missing */
    m = parse_ok("{\"version\":3,\"sources\":[\"a.js\"],\"mappings\":\"AAAA\",\"x_foo\":[1]}",
                 NULL);
    assert_int_equal(sourcemap_name_count(m), 0);
    assert_null(sourcemap_file(m));
    sourcemap_free(m);
    /* the anti-XSSI prefix */
    const char *xssi = ")]}'\n{\"version\":3,\"sources\":[\"a.js\"],\"mappings\":\"AAAA\"}";
    m = parse_ok(xssi, NULL);
    expect_lookup(m, 0, 0, "a.js:0:0 -");
    sourcemap_free(m);
}

static void test_indexes_out_of_range(void **state) {
    (void)state;
    expect_mappings_reject("AEAA",
                           "mappings: source index 2 is out of range (2 sources) at offset 0");
    expect_mappings_reject("AAAAA,AAAAC,AAAAC",
                           "mappings: name index 2 is out of range (2 names) at offset 12");
    expect_mappings_reject("ADAA", "mappings: source index is negative at offset 0");
    expect_mappings_reject("AAAAD", "mappings: name index is negative at offset 0");
    expect_mappings_reject("AADA", "mappings: original line is negative");
    expect_mappings_reject("AAAD", "mappings: original column is negative");
    expect_reject("{\"version\":3,\"sources\":[],\"mappings\":\"AAAA\"}",
                  "source index 0 is out of range (0 sources)");
    expect_reject("{\"version\":3,\"sources\":[\"a\"],\"mappings\":\"AAAAA\"}",
                  "name index 0 is out of range (0 names)");
    /* a one-field segment needs no source */
    sourcemap *m = parse_ok("{\"version\":3,\"sources\":[],\"mappings\":\"A,C\"}", NULL);
    expect_lookup(m, 0, 1, NULL);
    sourcemap_free(m);
}

/* ------------------------------------------------------------------------------------------
 * Sources: sourceRoot, normalisation, project paths.
 * ---------------------------------------------------------------------------------------- */

typedef struct source_case {
    const char *root;   /* NULL: no sourceRoot */
    const char *source; /* JSON text: a string or null */
    const char *path;   /* the map's path */
    const char *resolved, *project;
} source_case;

static void test_sources(void **state) {
    (void)state;
    static const source_case cases[] = {
        {NULL, "\"a.js\"", NULL, "a.js", "a.js"},
        {"theroot", "\"a.js\"", NULL, "theroot/a.js", "theroot/a.js"},
        {"theroot/", "\"a.js\"", NULL, "theroot/a.js", "theroot/a.js"},
        {"", "\"a.js\"", NULL, "a.js", "a.js"},
        {"http://x/y", "\"a.js\"", NULL, "http://x/y/a.js", "y/a.js"},
        {"/src", "\"a.ts\"", "dist/x.js.map", "/src/a.ts", "/src/a.ts"},
        {NULL, "\"./a/../b.js\"", NULL, "b.js", "b.js"},
        {NULL, "\"../src/a.ts\"", NULL, "../src/a.ts", "src/a.ts"},
        {NULL, "\"../src/a.ts\"", "dist/index.js.map", "../src/a.ts", "src/a.ts"},
        {NULL, "\"../../../etc/a.ts\"", "dist/index.js.map", "../../../etc/a.ts", "etc/a.ts"},
        {NULL, "\"lib/./a.ts\"", "dist/index.js.map", "lib/a.ts", "dist/lib/a.ts"},
        {NULL, "\"a//b.js\"", NULL, "a//b.js", "a/b.js"},
        {NULL, "\"webpack:///./src/a.ts\"", "dist/main.js.map", "webpack:///src/a.ts", "src/a.ts"},
        {NULL, "\"webpack://app/./src/../lib/a.ts\"", NULL, "webpack://app/lib/a.ts", "lib/a.ts"},
        {NULL, "\"webpack://app/src/a.ts?abcd\"", NULL, "webpack://app/src/a.ts?abcd", "src/a.ts"},
        {NULL, "\"file:///home/me/app/src/./a.ts\"", "dist/x.map", "file:///home/me/app/src/a.ts",
         "/home/me/app/src/a.ts"},
        {NULL, "\"/abs/../x.js\"", NULL, "/x.js", "/x.js"},
        {NULL, "\"webpack://\"", NULL, "webpack://", "webpack://"},
        {"root", "null", NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const source_case *c = &cases[i];
        buf b = {0};
        buf_puts(&b, "{\"version\":3,");
        if (c->root) buf_printf(&b, "\"sourceRoot\":\"%s\",", c->root);
        buf_printf(&b, "\"sources\":[%s],\"mappings\":\"AAAA\"}", c->source);
        sourcemap *m = parse_ok(b.data, c->path);
        const char *resolved = sourcemap_source(m, 0), *project = sourcemap_source_path(m, 0);
        if ((resolved == NULL) != (c->resolved == NULL) ||
            (resolved && strcmp(resolved, c->resolved) != 0) ||
            (project == NULL) != (c->project == NULL) ||
            (project && strcmp(project, c->project) != 0))
            fail_msg("case %zu (%s): resolved %s, path %s; expected %s, %s", i, b.data,
                     resolved ? resolved : "NULL", project ? project : "NULL",
                     c->resolved ? c->resolved : "NULL", c->project ? c->project : "NULL");
        sourcemap_free(m);
        buf_free(&b);
    }
}

/* sourcesContent's text is dropped before the JSON is parsed (sourcemap_slim.c): maps decode
 * the same, its shape is still validated, and malformed JSON anywhere still rejects the map
 * with the parser's own message. */
static void test_sources_content(void **state) {
    (void)state;
    const char *with = "{\"version\":3,\"sources\":[\"a.ts\",\"b.ts\"],\"names\":[\"f\"],"
                       "\"sourcesContent\":[\"const \\\"x\\\" = '\\u00e9\\n';\\t// é, 😀\",null],"
                       "\"mappings\":\"AAAAA,EAAC;ACCA\"}";
    const char *without = "{\"version\":3,\"sources\":[\"a.ts\",\"b.ts\"],\"names\":[\"f\"],"
                          "\"mappings\":\"AAAAA,EAAC;ACCA\"}";
    sourcemap *a = parse_ok(with, NULL), *b = parse_ok(without, NULL);
    for (uint32_t line = 0; line < 2; line++)
        for (uint32_t col = 0; col < 4; col++) {
            sourcemap_mapping ma, mb;
            bool fa = sourcemap_lookup(a, line, col, &ma), fb = sourcemap_lookup(b, line, col, &mb);
            assert_int_equal(fa, fb);
            if (!fa) continue;
            assert_int_equal(ma.source, mb.source);
            assert_int_equal(ma.line, mb.line);
            assert_int_equal(ma.column, mb.column);
            assert_int_equal(ma.name, mb.name);
        }
    sourcemap_free(a);
    sourcemap_free(b);

    /* A key named sourcesContent elsewhere, and nested arrays in it, are left alone. */
    sourcemap_free(parse_ok("{\"version\":3,\"sources\":[],\"names\":[],\"mappings\":\"\","
                            "\"x_meta\":{\"sourcesContent\":[[\"kept\"],{\"k\":\"v\"}]}}",
                            NULL));
    expect_reject("{\"version\":3,\"sources\":[\"a\"],\"names\":[],\"mappings\":\"\","
                  "\"sourcesContent\":[\"ok\",42]}",
                  "sourcesContent[1]: must be a string or null");
    expect_reject("{\"version\":3,\"sources\":[\"a\"],\"names\":[],\"mappings\":\"\","
                  "\"sourcesContent\":[[\"nested\"]]}",
                  "sourcesContent[0]: must be a string or null");
    /* Malformed text inside a dropped string: bad escape, raw control character, bad UTF-8,
     * unterminated. */
    const char *bad[] = {"\"a\\qb\"", "\"a\x01\"", "\"a\xff\"", "\"\xc3(\"", "\"abc"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char json[256];
        snprintf(json, sizeof json,
                 "{\"version\":3,\"sources\":[\"a\"],\"names\":[],\"mappings\":\"\","
                 "\"sourcesContent\":[%s]}",
                 bad[i]);
        expect_reject(json, "not valid JSON");
    }
}

static void test_ignore_list(void **state) {
    (void)state;
    sourcemap *m = parse_ok("{\"version\":3,\"sources\":[\"a\",\"b\",\"c\"],\"mappings\":\"\","
                            "\"ignoreList\":[2,0]}",
                            NULL);
    assert_true(sourcemap_source_ignored(m, 0));
    assert_false(sourcemap_source_ignored(m, 1));
    assert_true(sourcemap_source_ignored(m, 2));
    assert_false(sourcemap_source_ignored(m, 3)); /* out of range: no */
    sourcemap_free(m);
    /* the older name, used only without ignoreList */
    m = parse_ok("{\"version\":3,\"sources\":[\"a\",\"b\"],\"mappings\":\"\","
                 "\"x_google_ignoreList\":[1]}",
                 NULL);
    assert_false(sourcemap_source_ignored(m, 0));
    assert_true(sourcemap_source_ignored(m, 1));
    sourcemap_free(m);
    m = parse_ok("{\"version\":3,\"sources\":[\"a\",\"b\"],\"mappings\":\"\","
                 "\"ignoreList\":[0],\"x_google_ignoreList\":[1]}",
                 NULL);
    assert_true(sourcemap_source_ignored(m, 0));
    assert_false(sourcemap_source_ignored(m, 1));
    sourcemap_free(m);
    expect_reject("{\"version\":3,\"sources\":[\"a\"],\"mappings\":\"\",\"ignoreList\":[1]}",
                  "ignoreList[0]: 1 is out of range (1 sources)");
    expect_reject("{\"version\":3,\"sources\":[\"a\"],\"mappings\":\"\",\"ignoreList\":[-1]}",
                  "ignoreList[0]: must be an index into sources");
    expect_reject("{\"version\":3,\"sources\":[\"a\"],\"mappings\":\"\",\"ignoreList\":[0.5]}",
                  "ignoreList[0]: must be an index into sources");
    expect_reject("{\"version\":3,\"sources\":[\"a\"],\"mappings\":\"\","
                  "\"x_google_ignoreList\":\"0\"}",
                  "x_google_ignoreList: must be an array");
}

/* ------------------------------------------------------------------------------------------
 * Lookups.
 * ---------------------------------------------------------------------------------------- */

static void test_lookup_greatest_lower_bound(void **state) {
    (void)state;
    static const test_seg segs[] = {
        {0, 2, 0, 10, 0, 0, 5},  {0, 6, 1, 20, 4, 0, 4}, {0, 9, 0, 0, 0, 0, 1},
        {0, 12, 0, 11, 2, 1, 5}, {2, 0, 1, 30, 0, 0, 4}, {2, 100, 0, 31, 7, 0, 4},
    };
    char *mappings = encode(segs, sizeof segs / sizeof *segs);
    char *json = map_with(mappings);
    sourcemap *m = parse_ok(json, NULL);
    expect_lookup(m, 0, 0, NULL); /* before the first segment of the line */
    expect_lookup(m, 0, 1, NULL);
    expect_lookup(m, 0, 2, "a.js:10:0 x");
    expect_lookup(m, 0, 5, "a.js:10:0 x");
    expect_lookup(m, 0, 6, "b.js:20:4 -");
    expect_lookup(m, 0, 8, "b.js:20:4 -");
    expect_lookup(m, 0, 9, NULL); /* a one-field segment: maps to nothing */
    expect_lookup(m, 0, 11, NULL);
    expect_lookup(m, 0, 12, "a.js:11:2 y");
    expect_lookup(m, 0, 4000000000u, "a.js:11:2 y");
    expect_lookup(m, 1, 0, NULL); /* a line without segments: never the line above */
    expect_lookup(m, 1, 50, NULL);
    expect_lookup(m, 2, 0, "b.js:30:0 -");
    expect_lookup(m, 2, 99, "b.js:30:0 -");
    expect_lookup(m, 2, 100, "a.js:31:7 -");
    expect_lookup(m, 3, 0, NULL); /* past the last line */
    expect_lookup(m, 4000000000u, 0, NULL);
    sourcemap_mapping r;
    assert_true(sourcemap_lookup(m, 0, 7, &r));
    assert_int_equal(r.generated_column, 6);
    sourcemap_free(m);
    free(json);
    free(mappings);
    /* an empty map has no mappings at all */
    m = parse_ok("{\"version\":3,\"sources\":[],\"mappings\":\";;;\"}", NULL);
    expect_lookup(m, 0, 0, NULL);
    expect_lookup(m, 2, 5, NULL);
    sourcemap_free(m);
}

/* Segments out of column order are sorted; of several at one position, the first wins. */
static void test_lookup_order_and_duplicates(void **state) {
    (void)state;
    char *json = map_with("KACA,LACA,AAEA,EAAA,AAEA;AAAA,AACA");
    sourcemap *m = parse_ok(json, NULL);
    /* columns 5, 0, 0, 2, 2 with original lines 1, 2, 4, 4, 6 */
    expect_lookup(m, 0, 0, "a.js:2:0 -");
    expect_lookup(m, 0, 1, "a.js:2:0 -");
    expect_lookup(m, 0, 2, "a.js:4:0 -");
    expect_lookup(m, 0, 5, "a.js:1:0 -");
    expect_lookup(m, 1, 0, "a.js:6:0 -");
    sourcemap_free(m);
    free(json);
}

/* ------------------------------------------------------------------------------------------
 * Index maps.
 * ---------------------------------------------------------------------------------------- */

static void test_index_map(void **state) {
    (void)state;
    const char *json =
        "{\"version\":3,\"file\":\"all.js\",\"sections\":["
        "{\"offset\":{\"line\":0,\"column\":0},\"map\":{\"version\":3,\"sources\":[\"one.js\"],"
        "\"names\":[\"first\"],\"mappings\":\"AAAAA,IAAI;AACA\",\"ignoreList\":[0]}},"
        "{\"offset\":{\"line\":1,\"column\":10},\"map\":{\"version\":3,\"sourceRoot\":\"lib\","
        "\"sources\":[\"two.js\",\"three.js\"],\"names\":[\"second\"],"
        "\"mappings\":\"EAAAA,ECAA;AAAA\"}},"
        "{\"offset\":{\"line\":5,\"column\":0},\"map\":{\"version\":3,\"sources\":[\"one.js\"],"
        "\"mappings\":\"AAKA\"}}]}";
    sourcemap *m = parse_ok(json, NULL);
    assert_string_equal(sourcemap_file(m), "all.js");
    assert_int_equal(sourcemap_source_count(m), 4);
    assert_string_equal(sourcemap_source(m, 1), "lib/two.js");
    assert_int_equal(sourcemap_name_count(m), 2);
    assert_true(sourcemap_source_ignored(m, 0));
    assert_false(sourcemap_source_ignored(m, 1));
    expect_lookup(m, 0, 0, "one.js:0:0 first");
    expect_lookup(m, 0, 3, "one.js:0:0 first");
    expect_lookup(m, 0, 4, "one.js:0:4 -");
    expect_lookup(m, 1, 0, "one.js:1:4 -");
    expect_lookup(m, 1, 9, "one.js:1:4 -");
    /* the second section starts at column 10 of line 1, its first segment at 12: code between
     * belongs to that section, not to the first section's last segment */
    expect_lookup(m, 1, 10, NULL);
    expect_lookup(m, 1, 11, NULL);
    expect_lookup(m, 1, 12, "lib/two.js:0:0 second");
    expect_lookup(m, 1, 14, "lib/three.js:0:0 -");
    expect_lookup(m, 2, 0, "lib/three.js:0:0 -"); /* the column offset is for the first line only */
    expect_lookup(m, 5, 0, "one.js:5:0 -");
    sourcemap_free(m);
}

static void test_index_map_invalid(void **state) {
    (void)state;
    const char *sub = "{\"version\":3,\"sources\":[\"a.js\"],\"mappings\":\"AAAA,EAAE\"}";
    char json[1024];
    /* the first section's mappings reach column 2 of line 0: a section at column 1 overlaps */
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":0,\"column\":0},\"map\":%s},"
             "{\"offset\":{\"line\":0,\"column\":2},\"map\":%s}]}",
             sub, sub);
    expect_reject(json, "sections[1].offset: overlaps the previous section (whose mappings "
                        "reach line 0 column 2)");
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":0,\"column\":0},\"map\":%s},"
             "{\"offset\":{\"line\":0,\"column\":3},\"map\":%s}]}",
             sub, sub);
    sourcemap *m = parse_ok(json, NULL);
    expect_lookup(m, 0, 3, "a.js:0:0 -");
    expect_lookup(m, 0, 5, "a.js:0:2 -");
    sourcemap_free(m);
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":3,\"column\":0},\"map\":%s},"
             "{\"offset\":{\"line\":2,\"column\":9},\"map\":%s}]}",
             sub, sub);
    expect_reject(json, "sections[1].offset: comes before the previous section");
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":0,\"column\":0},\"map\":"
             "{\"version\":3,\"sections\":[]}}]}");
    expect_reject(json, "sections[0].map: an index map cannot contain another index map");
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":0,\"column\":0},\"map\":"
             "{\"version\":3,\"sources\":[\"a\"],\"mappings\":\"AAAA,A!\"}}]}");
    expect_reject(json, "sections[0].map.mappings: invalid base64 character '!' at offset 6");
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":-1,\"column\":0},\"map\":%s}]}",
             sub);
    expect_reject(json, "sections[0].offset.line: must be an integer from 0 to 2^31 - 1");
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":0,\"column\":2147483648},"
             "\"map\":%s}]}",
             sub);
    expect_reject(json, "sections[0].offset.column: must be an integer from 0 to 2^31 - 1");
    expect_reject("{\"version\":3,\"sections\":[1]}", "sections[0]: must be an object");
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":0,\"column\":0},"
             "\"map\":%s},[]]}",
             sub);
    expect_reject(json, "sections[1]: must be an object");
    expect_reject("{\"version\":3,\"sections\":[],\"mappings\":\"\"}",
                  "mappings: not allowed in an index map");
    m = parse_ok("{\"version\":3,\"sections\":[]}", NULL);
    expect_lookup(m, 0, 0, NULL);
    sourcemap_free(m);
}

/* Positions past 2^31 - 1 are rejected; sparse lines far apart still work. */
static void test_limits(void **state) {
    (void)state;
    const char *sub = "{\"version\":3,\"sources\":[\"a.js\"],\"mappings\":\"%s\"}";
    char map[256], json[1024];
    snprintf(map, sizeof map, sub, "AAAA;A");
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":2147483647,\"column\":0},"
             "\"map\":%s}]}",
             map);
    expect_reject(json, "sections[0].map.mappings: more than 2^31 - 1 lines");
    snprintf(map, sizeof map, sub, "CAAA");
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":0,\"column\":2147483647},"
             "\"map\":%s}]}",
             map);
    expect_reject(json, "sections[0].map.mappings: generated column exceeds 2^31 - 1");
    expect_mappings_reject("+/////DAAA,CAAA", "generated column exceeds 2^31 - 1 at offset 11");

    snprintf(map, sizeof map, sub, "AAAA;EACA");
    snprintf(json, sizeof json,
             "{\"version\":3,\"sections\":[{\"offset\":{\"line\":0,\"column\":0},\"map\":%s},"
             "{\"offset\":{\"line\":2147483645,\"column\":7},\"map\":%s}]}",
             map, map);
    sourcemap *m = parse_ok(json, NULL);
    expect_lookup(m, 0, 0, "a.js:0:0 -");
    expect_lookup(m, 1, 3, "a.js:1:0 -");
    expect_lookup(m, 2147483645u, 6, NULL);
    expect_lookup(m, 2147483645u, 7, "a.js:0:0 -");
    expect_lookup(m, 2147483646u, 1, NULL);
    expect_lookup(m, 2147483646u, 2, "a.js:1:0 -");
    expect_lookup(m, 2147483644u, 9, NULL);
    sourcemap_free(m);
}

/* ------------------------------------------------------------------------------------------
 * Sets and stack rewriting.
 * ---------------------------------------------------------------------------------------- */

static void test_set(void **state) {
    (void)state;
    sourcemap_set *set = sourcemap_set_new();
    const char *names[] = {"src/b.js", "index.js", "src/a.js", "src/a.jsx", "src/a"};
    for (size_t i = 0; i < 5; i++) {
        char json[128];
        snprintf(json, sizeof json, "{\"version\":3,\"sources\":[\"%zu.js\"],\"mappings\":\"\"}",
                 i);
        sourcemap_set_add(set, names[i], parse_ok(json, NULL));
    }
    assert_int_equal(sourcemap_set_count(set), 5);
    for (size_t i = 0; i < 5; i++) {
        char want[16];
        snprintf(want, sizeof want, "%zu.js", i);
        const sourcemap *m = sourcemap_set_get(set, names[i]);
        assert_non_null(m);
        assert_string_equal(sourcemap_source(m, 0), want);
    }
    assert_null(sourcemap_set_get(set, "src/a.j"));
    assert_null(sourcemap_set_get(set, "src"));
    assert_null(sourcemap_set_get(set, ""));
    assert_null(sourcemap_set_get(NULL, "index.js"));
    sourcemap_set_add(set, "index.js",
                      parse_ok("{\"version\":3,\"sources\":[\"new.js\"],\"mappings\":\"\"}", NULL));
    assert_int_equal(sourcemap_set_count(set), 5);
    assert_string_equal(sourcemap_source(sourcemap_set_get(set, "index.js"), 0), "new.js");
    sourcemap_set_free(set);
    sourcemap_set_free(NULL);
}

/* The map esbuild 0.28 wrote for a three-file TypeScript Worker, bundled and minified
 * (`esbuild src/index.ts --bundle --minify --sourcemap --format=esm --outfile=dist/index.js`,
 * without sourcesContent), and the stacks hearth gave for its errors. */
static const char ESBUILD_MAP[] =
    "{\"version\":3,\"sources\":[\"../src/down.ts\",\"../src/router.ts\",\"../src/index.ts\"],"
    "\"mappings\":\"AAAO,SAASA,EAAWC,EAAgC,CACzD,IAAMC,EAAIC,EAAcF,CAAK,EAC7B,OAAO,IAAI,"
    "SAAS,OAAOC,CAAC,CAAC,CAC/B,CAEA,SAASC,EAAcF,EAA8B,CACnD,GAAIA,IAAU,KACZ,MAAM,IAAI,MAAM,"
    "2BAA6BA,CAAK,EAEpD,OAAO,OAAOA,CAAK,CACrB,CCRO,IAAMG,EAAN,KAAa,CACV,OAAS,IAAI,IAErB,"
    "IAAIC,EAAcC,EAAwB,CACxC,KAAK,OAAO,IAAID,EAAMC,CAAO,CAC/B,CAEA,MAAM,OAAOC,EAAqC,CAEhD,"
    "OADgB,KAAK,YAAY,IAAI,IAAIA,EAAQ,GAAG,EAAE,QAAQ,EAC/CA,CAAO,CACxB,CAEA,YAAYF,EAAuB,"
    "CACjC,IAAMG,EAAI,KAAK,OAAO,IAAIH,CAAI,EAC9B,GAAI,CAACG,EAAG,MAAM,IAAI,MAAM,YAAcH,CAAI,EAC1C,"
    "OAAOG,CACT,CACF,EChBA,IAAMC,EAAS,IAAIC,EACnBD,EAAO,IAAI,QAAUE,GAAiBC,EAAWD,EAAI,QAAQ,IAAI,"
    "SAAS,CAAC,CAAC,EAC5EF,EAAO,IAAI,SAAU,MAAOE,IAC1B,MAAM,QAAQ,QAAQ,EACfC,EAAW,IAAI,EACvB,"
    "EAED,IAAOC,EAAQ,CACb,MAAM,MAAMC,EAAqC,CAC/C,GAAI,CACF,OAAO,MAAML,EAAO,OAAOK,CAAO,"
    "CACpC,OAASC,EAAG,CACV,OAAO,IAAI,SAAUA,EAAY,KAAK,CACxC,CACF,CACF\","
    "\"names\":[\"parseBytes\",\"value\",\"n\",\"checkedNumber\",\"Router\",\"path\",\"handler\","
    "\"request\",\"h\",\"router\",\"Router\",\"req\",\"parseBytes\",\"index_default\",\"request\","
    "\"e\"]}";

static sourcemap_set *esbuild_set(void) {
    sourcemap_set *set = sourcemap_set_new();
    sourcemap_set_add(set, "dist/index.js", parse_ok(ESBUILD_MAP, "dist/index.js.map"));
    return set;
}

static void test_rewrite_real_stacks(void **state) {
    (void)state;
    sourcemap_set *set = esbuild_set();
    /* a synchronous chain through an arrow function, and the runtime's frames */
    expect_rewrite(set,
                   "Error: Unexpected input value: null\n"
                   "    at u (dist/index.js:1:89)\n"
                   "    at s (dist/index.js:1:22)\n"
                   "    at dist/index.js:1:389\n"
                   "    at handle (dist/index.js:1:267)\n"
                   "    at fetch (dist/index.js:1:517)\n"
                   "    at findHandler/< (hearth:invocation.js:170:37)\n"
                   "    at startFetch (hearth:invocation.js:188:14)\n"
                   "    at dispatch (hearth:main.js:26:17)",
                   "Error: Unexpected input value: null\n"
                   "    at checkedNumber (src/down.ts:8:11)\n"
                   "    at parseBytes (src/down.ts:2:13)\n"
                   "    at src/index.ts:5:39\n"
                   "    at handle (src/router.ts:11:67)\n"
                   "    at fetch (src/index.ts:14:27)\n"
                   "    at findHandler/< (hearth:invocation.js:170:37)\n"
                   "    at startFetch (hearth:invocation.js:188:14)\n"
                   "    at dispatch (hearth:main.js:26:17)");
    /* after an await: the async function's frame is there, the call site on the callee */
    expect_rewrite(set,
                   "Error: Unexpected input value: null\n"
                   "    at u (dist/index.js:1:89)\n"
                   "    at s (dist/index.js:1:22)\n"
                   "    at dist/index.js:1:466\n"
                   "    at handle (dist/index.js:1:267)\n"
                   "    at fetch (dist/index.js:1:517)\n",
                   "Error: Unexpected input value: null\n"
                   "    at checkedNumber (src/down.ts:8:11)\n"
                   "    at parseBytes (src/down.ts:2:13)\n"
                   "    at src/index.ts:8:10\n"
                   "    at handle (src/router.ts:11:67)\n"
                   "    at fetch (src/index.ts:14:27)\n");
    /* names that were not minified stay */
    expect_rewrite(set,
                   "Error: no route /nope\n"
                   "    at lookupRoute (dist/index.js:1:323)\n"
                   "    at handle (dist/index.js:1:231)\n"
                   "    at fetch (dist/index.js:1:517)",
                   "Error: no route /nope\n"
                   "    at lookupRoute (src/router.ts:17:19)\n"
                   "    at handle (src/router.ts:11:26)\n"
                   "    at fetch (src/index.ts:14:27)");
    sourcemap_set_free(set);
}

static void test_rewrite_forms(void **state) {
    (void)state;
    sourcemap_set *set = esbuild_set();
    /* the first line stays even when it looks like a frame; frames without a header; async
     * and new prefixes; modules without maps; unmappable locations; positions of no segment;
     * CRLF line ends; the last line without a line break */
    expect_rewrite(set,
                   "TypeError: at dist/index.js:1:89\n"
                   "  multi-line message\n"
                   "    at async u (dist/index.js:1:89)\r\n"
                   "    at new s (dist/index.js:1:22)\n"
                   "    at async dist/index.js:1:466\n"
                   "    at other (src/other.js:1:22)\n"
                   "    at Promise.all (index 0)\n"
                   "    at x (dist/index.js:2:1)\n"
                   "    at y (dist/index.js:0:1)\n"
                   "    at z (dist/index.js:1:0)\n"
                   "    at w (dist/index.js:1:99999999999)\n"
                   "    at dist/index.js\n"
                   "    at (dist/index.js:1:2)\n"
                   "\tat tab (dist/index.js:1:1)\n"
                   "at noindent (dist/index.js:1:1)\n"
                   "    at app/(group)/page.js:1:1",
                   "TypeError: at dist/index.js:1:89\n"
                   "  multi-line message\n"
                   "    at async checkedNumber (src/down.ts:8:11)\r\n"
                   "    at new parseBytes (src/down.ts:2:13)\n"
                   "    at async src/index.ts:8:10\n"
                   "    at other (src/other.js:1:22)\n"
                   "    at Promise.all (index 0)\n"
                   "    at x (dist/index.js:2:1)\n"
                   "    at y (dist/index.js:0:1)\n"
                   "    at z (dist/index.js:1:0)\n"
                   "    at w (dist/index.js:1:99999999999)\n"
                   "    at dist/index.js\n"
                   "    at (dist/index.js:1:2)\n"
                   "\tat tab (src/down.ts:1:8)\n"
                   "at noindent (dist/index.js:1:1)\n"
                   "    at app/(group)/page.js:1:1");
    expect_rewrite(set, "    at s (dist/index.js:1:22)\n    at q (dist/index.js:1:389)\n",
                   "    at parseBytes (src/down.ts:2:13)\n    at q (src/index.ts:5:39)\n");
    expect_rewrite(set, "", "");
    expect_rewrite(set, "\n\n", "\n\n");
    expect_rewrite(set, "Error\n", "Error\n");
    sourcemap_set *empty = sourcemap_set_new();
    expect_rewrite(empty, "Error: x\n    at u (dist/index.js:1:89)",
                   "Error: x\n    at u (dist/index.js:1:89)");
    sourcemap_set_free(empty);
    expect_rewrite(NULL, "Error: x\n    at u (dist/index.js:1:89)",
                   "Error: x\n    at u (dist/index.js:1:89)");
    sourcemap_set_free(set);
}

/* The function name of a frame comes from the segment at its caller's call site. */
static void test_rewrite_callee_names(void **state) {
    (void)state;
    /* bundle.js, line 1: identifier "ab" at column 10 (named "original"), a token named
     * "other" at column 20, an unnamed one at 30 */
    static const test_seg segs[] = {
        {0, 0, 0, 0, 0, 0, 4},
        {0, 10, 0, 1, 2, 0, 5},
        {0, 20, 0, 2, 4, 1, 5},
        {0, 30, 0, 3, 0, 0, 4},
    };
    char *mappings = encode(segs, sizeof segs / sizeof *segs);
    buf json = {0};
    buf_printf(&json,
               "{\"version\":3,\"sources\":[\"app.ts\"],\"names\":[\"original\",\"other\"],"
               "\"mappings\":\"%s\"}",
               mappings);
    sourcemap_set *set = sourcemap_set_new();
    sourcemap_set_add(set, "bundle.js", parse_ok(json.data, NULL));
    expect_rewrite(set,
                   "Error: boom\n"
                   "    at ab (bundle.js:1:31)\n" /* called from "(" right after "ab" */
                   "    at f (bundle.js:1:13)\n"  /* called from the token named "other" */
                   "    at g (bundle.js:1:21)\n"  /* called from an unnamed token */
                   "    at h (bundle.js:1:32)\n"  /* called from a module without a map */
                   "    at other.js:1:11",
                   "Error: boom\n"
                   "    at original (app.ts:4:1)\n"
                   "    at other (app.ts:2:3)\n"
                   "    at g (app.ts:3:5)\n"
                   "    at h (app.ts:4:1)\n"
                   "    at other.js:1:11");
    /* a named segment counts only at the caller's column or the callee's name length before:
     * "abc" is one character too long for "(" at column 12, "a" one too short */
    expect_rewrite(set, "    at abc (bundle.js:1:1)\n    at f (bundle.js:1:13)",
                   "    at abc (app.ts:1:1)\n    at f (app.ts:2:3)");
    expect_rewrite(set, "    at a (bundle.js:1:1)\n    at f (bundle.js:1:13)",
                   "    at a (app.ts:1:1)\n    at f (app.ts:2:3)");
    /* dotted and closure names: the last identifier counts, a closure name ("f/<") only at
     * the exact column; an anonymous frame takes a name from an exact call site */
    expect_rewrite(set, "    at Object.ab (bundle.js:1:1)\n    at f (bundle.js:1:13)",
                   "    at original (app.ts:1:1)\n    at f (app.ts:2:3)");
    expect_rewrite(set, "    at f/< (bundle.js:1:1)\n    at f (bundle.js:1:13)",
                   "    at f/< (app.ts:1:1)\n    at f (app.ts:2:3)");
    expect_rewrite(set, "    at bundle.js:1:1\n    at f (bundle.js:1:21)",
                   "    at other (app.ts:1:1)\n    at f (app.ts:3:5)");
    sourcemap_set_free(set);
    buf_free(&json);
    free(mappings);
    /* names and paths come from whoever deployed the Worker: no line breaks into the log */
    set = sourcemap_set_new();
    sourcemap_set_add(set, "x.js",
                      parse_ok("{\"version\":3,\"sources\":[\"a\\nb.ts\"],\"names\":[\"f\\r\\ng\"],"
                               "\"mappings\":\"AAAAA\"}",
                               NULL));
    expect_rewrite(set, "    at f (x.js:1:1)\n    at x.js:1:1",
                   "    at f??g (a?b.ts:1:1)\n    at a?b.ts:1:1");
    sourcemap_set_free(set);
}

/* A 20-frame stack is rewritten in well under a millisecond. */
static void test_rewrite_speed(void **state) {
    (void)state;
    sourcemap_set *set = esbuild_set();
    buf stack = {0};
    buf_puts(&stack, "Error: deep");
    for (int i = 0; i < 20; i++) buf_puts(&stack, "\n    at s (dist/index.js:1:22)");
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 1000; i++) free(sourcemap_rewrite_stack(set, stack.data));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e6;
    print_message("20-frame stack: %.2f us per rewrite\n", us);
    assert_true(us < 1000); /* generous for sanitizer builds; ~5 us optimised */
    buf_free(&stack);
    sourcemap_set_free(set);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vlq_values),
        cmocka_unit_test(test_vlq_limits),
        cmocka_unit_test(test_vlq_invalid),
        cmocka_unit_test(test_fields_invalid),
        cmocka_unit_test(test_indexes_out_of_range),
        cmocka_unit_test(test_sources),
        cmocka_unit_test(test_sources_content),
        cmocka_unit_test(test_ignore_list),
        cmocka_unit_test(test_lookup_greatest_lower_bound),
        cmocka_unit_test(test_lookup_order_and_duplicates),
        cmocka_unit_test(test_index_map),
        cmocka_unit_test(test_index_map_invalid),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_rewrite_real_stacks),
        cmocka_unit_test(test_rewrite_forms),
        cmocka_unit_test(test_rewrite_callee_names),
        cmocka_unit_test(test_rewrite_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
