/* Unit tests for the TOML 1.0 parser (src/config/toml.c): the tree it builds, the lines it
 * records, and the errors (message, line, column) users see for typical mistakes. The full
 * grammar is exercised by the toml-test conformance runner; these tests pin down hearth's own
 * choices (datetime normalisation, NUL keys, limits, messages) and realistic documents. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "config/toml.h"
#include "config/value.h"

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------------- */

static cfg_value *parse_ok(const char *src) {
    toml_error err;
    cfg_value *doc = toml_parse(src, strlen(src), &err);
    if (!doc) fail_msg("unexpected parse error %d:%d: %s", err.line, err.column, err.message);
    assert_int_equal(doc->type, CFG_TABLE);
    return doc;
}

/* Asserts that src is rejected at line:column with a message containing `expected`. */
static void expect_error(const char *src, int line, int column, const char *expected) {
    toml_error err;
    cfg_value *doc = toml_parse(src, strlen(src), &err);
    if (doc) {
        cfg_free(doc);
        fail_msg("accepted, but should fail with \"%s\":\n%s", expected, src);
    }
    if (!strstr(err.message, expected))
        fail_msg("message \"%s\" does not contain \"%s\"", err.message, expected);
    if (err.line != line || err.column != column)
        fail_msg("error at %d:%d, expected %d:%d (%s)", err.line, err.column, line, column,
                 err.message);
}

static void expect_rejected(const char *src) {
    toml_error err;
    cfg_value *doc = toml_parse(src, strlen(src), &err);
    if (doc) {
        cfg_free(doc);
        fail_msg("accepted, but must be rejected:\n%s", src);
    }
    assert_true(err.line >= 1);
    assert_true(err.column >= 1);
    assert_true(err.message[0] != '\0');
}

/* Follows a dotted path of table keys, e.g. get(doc, "vars.RETRIES"). */
static cfg_value *get(const cfg_value *table, const char *path) {
    char copy[256];
    snprintf(copy, sizeof copy, "%s", path);
    const cfg_value *v = table;
    for (char *part = strtok(copy, "."); part; part = strtok(NULL, ".")) {
        v = cfg_table_get(v, part);
        if (!v) fail_msg("missing key %s (in %s)", part, path);
    }
    return (cfg_value *)v;
}

static void assert_str(const cfg_value *v, const char *want) {
    assert_non_null(v);
    assert_int_equal(v->type, CFG_STRING);
    assert_int_equal(v->u.str.len, strlen(want));
    assert_string_equal(v->u.str.ptr, want);
}

static void assert_int_value(const cfg_value *v, int64_t want) {
    assert_non_null(v);
    assert_int_equal(v->type, CFG_INTEGER);
    assert_true(v->u.i == want);
}

static void assert_text(const cfg_value *v, cfg_type type, const char *want) {
    assert_non_null(v);
    assert_int_equal(v->type, type);
    assert_string_equal(v->u.str.ptr, want);
}

static cfg_value *item(const cfg_value *arr, size_t i) {
    assert_non_null(arr);
    assert_int_equal(arr->type, CFG_ARRAY);
    assert_true(i < arr->u.arr.len);
    return arr->u.arr.items[i];
}

/* ------------------------------------------------------------------------------------------
 * Documents.
 * ---------------------------------------------------------------------------------------- */

static const char wrangler_toml[] =
    "# Demo worker\n"                                                   /* 1 */
    "name = \"my-worker\"\n"                                            /* 2 */
    "main = \"src/index.js\"\n"                                         /* 3 */
    "compatibility_date = \"2024-09-23\"\n"                             /* 4 */
    "compatibility_flags = [\"nodejs_compat\"]\n"                       /* 5 */
    "workers_dev = true\n"                                              /* 6 */
    "routes = [\n"                                                      /* 7 */
    "  { pattern = \"example.com/*\", zone_name = \"example.com\" },\n" /* 8 */
    "  { pattern = \"api.example.com/v1/*\", custom_domain = true },\n" /* 9 */
    "]\n"                                                               /* 10 */
    "\n"                                                                /* 11 */
    "[vars]\n"                                                          /* 12 */
    "API_HOST = \"api.example.com\"\n"                                  /* 13 */
    "RETRIES = 3\n"                                                     /* 14 */
    "RATIO = 0.75\n"                                                    /* 15 */
    "\n"                                                                /* 16 */
    "[[ratelimits]]\n"                                                  /* 17 */
    "name = \"MY_RATE_LIMITER\"\n"                                      /* 18 */
    "namespace_id = \"1001\"\n"                                         /* 19 */
    "simple = { limit = 100, period = 60 }\n"                           /* 20 */
    "\n"                                                                /* 21 */
    "[[durable_objects.bindings]]\n"                                    /* 22 */
    "name = \"COUNTER\"\n"                                              /* 23 */
    "class_name = \"Counter\"\n"                                        /* 24 */
    "\n"                                                                /* 25 */
    "[[durable_objects.bindings]]\n"                                    /* 26 */
    "name = \"ROOMS\"\n"                                                /* 27 */
    "class_name = \"ChatRoom\"\n"                                       /* 28 */
    "script_name = \"chat\"\n"                                          /* 29 */
    "\n"                                                                /* 30 */
    "[[migrations]]\n"                                                  /* 31 */
    "tag = \"v1\"\n"                                                    /* 32 */
    "new_classes = [\"Counter\"]\n"                                     /* 33 */
    "\n"                                                                /* 34 */
    "[[migrations]]\n"                                                  /* 35 */
    "tag = \"v2\"\n"                                                    /* 36 */
    "new_sqlite_classes = [\"ChatRoom\"]\n";                            /* 37 */

static void test_wrangler_toml(void **state) {
    (void)state;
    cfg_value *doc = parse_ok(wrangler_toml);

    static const char *const top_keys[] = {
        "name",   "main", "compatibility_date", "compatibility_flags", "workers_dev",
        "routes", "vars", "ratelimits",         "durable_objects",     "migrations"};
    assert_int_equal(doc->u.tab.len, sizeof top_keys / sizeof top_keys[0]);
    for (size_t i = 0; i < doc->u.tab.len; i++)
        assert_string_equal(doc->u.tab.keys[i], top_keys[i]);

    assert_str(get(doc, "name"), "my-worker");
    assert_int_equal(get(doc, "name")->line, 2);
    assert_str(get(doc, "main"), "src/index.js");
    assert_str(get(doc, "compatibility_date"), "2024-09-23");
    assert_int_equal(get(doc, "compatibility_date")->line, 4);
    assert_str(item(get(doc, "compatibility_flags"), 0), "nodejs_compat");
    assert_int_equal(get(doc, "workers_dev")->type, CFG_BOOL);
    assert_true(get(doc, "workers_dev")->u.b);

    cfg_value *routes = get(doc, "routes");
    assert_int_equal(routes->type, CFG_ARRAY);
    assert_int_equal(routes->line, 7);
    assert_int_equal(routes->u.arr.len, 2);
    assert_int_equal(item(routes, 0)->type, CFG_TABLE);
    assert_int_equal(item(routes, 0)->line, 8);
    assert_int_equal(item(routes, 1)->line, 9);
    assert_str(get(item(routes, 0), "pattern"), "example.com/*");
    assert_str(get(item(routes, 0), "zone_name"), "example.com");
    assert_int_equal(get(item(routes, 0), "zone_name")->line, 8);
    assert_true(get(item(routes, 1), "custom_domain")->u.b);

    cfg_value *vars = get(doc, "vars");
    assert_int_equal(vars->type, CFG_TABLE);
    assert_int_equal(vars->line, 12);
    assert_str(get(vars, "API_HOST"), "api.example.com");
    assert_int_value(get(vars, "RETRIES"), 3);
    assert_int_equal(get(vars, "RETRIES")->line, 14);
    assert_int_equal(get(vars, "RATIO")->type, CFG_FLOAT);
    assert_true(get(vars, "RATIO")->u.f == 0.75);

    cfg_value *ratelimits = get(doc, "ratelimits");
    assert_int_equal(ratelimits->u.arr.len, 1);
    assert_int_equal(ratelimits->line, 17);
    cfg_value *limiter = item(ratelimits, 0);
    assert_int_equal(limiter->line, 17);
    assert_str(get(limiter, "name"), "MY_RATE_LIMITER");
    assert_str(get(limiter, "namespace_id"), "1001");
    assert_int_equal(get(limiter, "simple")->type, CFG_TABLE);
    assert_int_equal(get(limiter, "simple")->line, 20);
    assert_int_value(get(limiter, "simple.limit"), 100);
    assert_int_value(get(limiter, "simple.period"), 60);
    assert_int_equal(get(limiter, "simple.period")->line, 20);

    cfg_value *durable = get(doc, "durable_objects");
    assert_int_equal(durable->type, CFG_TABLE);
    assert_int_equal(durable->line, 22); /* created implicitly by the first header */
    cfg_value *bindings = get(durable, "bindings");
    assert_int_equal(bindings->u.arr.len, 2);
    assert_str(get(item(bindings, 0), "class_name"), "Counter");
    assert_int_equal(item(bindings, 0)->line, 22);
    assert_str(get(item(bindings, 1), "name"), "ROOMS");
    assert_str(get(item(bindings, 1), "script_name"), "chat");
    assert_int_equal(item(bindings, 1)->line, 26);
    assert_int_equal(get(item(bindings, 1), "script_name")->line, 29);
    assert_null(cfg_table_get(item(bindings, 0), "script_name"));

    cfg_value *migrations = get(doc, "migrations");
    assert_int_equal(migrations->u.arr.len, 2);
    assert_str(get(item(migrations, 0), "tag"), "v1");
    assert_str(item(get(item(migrations, 0), "new_classes"), 0), "Counter");
    assert_str(get(item(migrations, 1), "tag"), "v2");
    assert_int_equal(get(item(migrations, 1), "tag")->line, 36);
    assert_str(item(get(item(migrations, 1), "new_sqlite_classes"), 0), "ChatRoom");
    cfg_free(doc);
}

static void test_empty_documents(void **state) {
    (void)state;
    static const char *const docs[] = {"",         "\n",          "   \t\n", "# only a comment",
                                       "\r\n\r\n", "\xEF\xBB\xBF"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        cfg_value *doc = parse_ok(docs[i]);
        assert_int_equal(doc->u.tab.len, 0);
        assert_int_equal(doc->line, 1);
        cfg_free(doc);
    }
    /* err may be NULL, and src NULL with length 0 is an empty document. */
    cfg_value *doc = toml_parse(NULL, 0, NULL);
    assert_non_null(doc);
    cfg_free(doc);
    assert_null(toml_parse("a = ", 4, NULL));
}

static void test_integers(void **state) {
    (void)state;
    cfg_value *doc = parse_ok("a = 42\nb = +17\nc = -0\nd = 1_000_000\n"
                              "e = 0xDEAD_beef\nf = 0o755\ng = 0b1101\n"
                              "max = 9223372036854775807\nmin = -9223372036854775808\n"
                              "hexmax = 0x7FFFFFFFFFFFFFFF\n");
    assert_int_value(get(doc, "a"), 42);
    assert_int_value(get(doc, "b"), 17);
    assert_int_value(get(doc, "c"), 0);
    assert_int_value(get(doc, "d"), 1000000);
    assert_int_value(get(doc, "e"), 0xDEADBEEF);
    assert_int_value(get(doc, "f"), 0755);
    assert_int_value(get(doc, "g"), 13);
    assert_int_value(get(doc, "max"), INT64_MAX);
    assert_int_value(get(doc, "min"), INT64_MIN);
    assert_int_value(get(doc, "hexmax"), INT64_MAX);
    cfg_free(doc);

    expect_error("a = 9223372036854775808\n", 1, 5, "does not fit in 64 bits");
    expect_error("a = -9223372036854775809\n", 1, 5, "does not fit in 64 bits");
    expect_error("a = 0x8000000000000000\n", 1, 5, "does not fit in 64 bits");
    expect_error("a = 0777\n", 1, 5, "leading zeros are not allowed");
    expect_error("a = 1__0\n", 1, 6, "underscore must be between two digits");
    expect_error("a = -0x10\n", 1, 5, "sign is not allowed");
    expect_error("a = 0o8\n", 1, 7, "expected digits after the prefix");
}

static void test_floats(void **state) {
    (void)state;
    cfg_value *doc = parse_ok("a = 3.25\nb = -1e3\nc = 6.02E+23\nd = 1_0.5e-0_2\n"
                              "e = inf\nf = -inf\ng = nan\nh = -0.0\ni = 1e007\n");
    assert_int_equal(get(doc, "a")->type, CFG_FLOAT);
    assert_true(get(doc, "a")->u.f == 3.25);
    assert_true(get(doc, "b")->u.f == -1000.0);
    assert_true(get(doc, "c")->u.f == 6.02e23);
    assert_true(get(doc, "d")->u.f == 10.5e-2);
    assert_true(isinf(get(doc, "e")->u.f) && get(doc, "e")->u.f > 0);
    assert_true(isinf(get(doc, "f")->u.f) && get(doc, "f")->u.f < 0);
    assert_true(isnan(get(doc, "g")->u.f));
    assert_true(get(doc, "h")->u.f == 0.0 && signbit(get(doc, "h")->u.f));
    assert_true(get(doc, "i")->u.f == 1e7);
    cfg_free(doc);

    expect_error("a = 1e400\n", 1, 5, "float is too large");
    expect_error("a = 1.\n", 1, 7, "'.' must be followed by a digit");
    expect_error("a = .5\n", 1, 5, "must start with a digit");
    expect_error("a = 1e\n", 1, 7, "exponent needs digits");
    expect_error("a = NaN\n", 1, 5, "invalid value NaN");
}

static void test_strings(void **state) {
    (void)state;
    cfg_value *doc =
        parse_ok("basic = \"tab\\there \\\"quoted\\\" \\\\ \\u00e9 \\U0001F600 \\u0041\\u007F\"\n"
                 "literal = 'C:\\Users\\nodejs'\n"
                 "empty = \"\"\n"
                 "multi = \"\"\"\nfirst\n  second\"\"\"\n"
                 "folded = \"\"\"\\\n    The quick \\\n\n    brown fox.\\\n    \"\"\"\n"
                 "rawmulti = '''\n\\n is not an escape\n'''\n"
                 "quotes = \"\"\"two \"\" quotes at the end\"\"\"\"\"\n"
                 "litquotes = ''''one'''\n"
                 "nul = \"a\\u0000b\"\n"
                 "crlf = \"\"\"x\r\ny\"\"\"\n");
    assert_str(get(doc, "basic"), "tab\there \"quoted\" \\ \xC3\xA9 \xF0\x9F\x98\x80 A\x7F");
    assert_str(get(doc, "literal"), "C:\\Users\\nodejs");
    assert_str(get(doc, "empty"), "");
    assert_str(get(doc, "multi"), "first\n  second");
    assert_str(get(doc, "folded"), "The quick brown fox.");
    assert_str(get(doc, "rawmulti"), "\\n is not an escape\n");
    assert_str(get(doc, "quotes"), "two \"\" quotes at the end\"\"");
    assert_str(get(doc, "litquotes"), "'one");
    cfg_value *nul = get(doc, "nul");
    assert_int_equal(nul->u.str.len, 3);
    assert_memory_equal(nul->u.str.ptr, "a\0b", 3);
    assert_str(get(doc, "crlf"), "x\ny"); /* CRLF inside a multi-line string becomes \n */
    /* Lines keep counting through multi-line strings. */
    assert_int_equal(get(doc, "folded")->line, 7);
    assert_int_equal(get(doc, "rawmulti")->line, 12);
    assert_int_equal(get(doc, "crlf")->line, 18);
    cfg_free(doc);
}

static void test_datetimes_are_normalised(void **state) {
    (void)state;
    cfg_value *doc = parse_ok("odt1 = 1979-05-27T07:32:00Z\n"
                              "odt2 = 1979-05-27 00:32:00.999999-07:00\n"
                              "odt3 = 1979-05-27t07:32:00z\n"
                              "ldt = 1979-05-27T07:32:00.5\n"
                              "ld = 1979-05-27\n"
                              "lt = 00:32:00.123456789012\n"
                              "leap = 2024-02-29\n"
                              "leap400 = 2000-02-29T00:00:00\n"
                              "leapsecond = 1990-12-31T23:59:60Z\n");
    assert_text(get(doc, "odt1"), CFG_DATETIME, "1979-05-27T07:32:00Z");
    assert_text(get(doc, "odt2"), CFG_DATETIME, "1979-05-27T00:32:00.999999-07:00");
    assert_text(get(doc, "odt3"), CFG_DATETIME, "1979-05-27T07:32:00Z");
    assert_text(get(doc, "ldt"), CFG_DATETIME_LOCAL, "1979-05-27T07:32:00.5");
    assert_text(get(doc, "ld"), CFG_DATE_LOCAL, "1979-05-27");
    assert_text(get(doc, "lt"), CFG_TIME_LOCAL, "00:32:00.123456789012");
    assert_text(get(doc, "leap"), CFG_DATE_LOCAL, "2024-02-29");
    assert_text(get(doc, "leap400"), CFG_DATETIME_LOCAL, "2000-02-29T00:00:00");
    assert_text(get(doc, "leapsecond"), CFG_DATETIME, "1990-12-31T23:59:60Z");
    assert_int_equal(get(doc, "odt2")->u.str.len, strlen("1979-05-27T00:32:00.999999-07:00"));
    cfg_free(doc);

    expect_error("d = 1900-02-29\n", 1, 13, "day is out of range for the month");
    expect_error("d = 2023-04-31\n", 1, 13, "day is out of range for the month");
    expect_error("d = 2023-13-01\n", 1, 10, "month must be between 01 and 12");
    expect_error("d = 2023-01-01T24:00:00\n", 1, 16, "hour must be between 00 and 23");
    expect_error("d = 2023-01-01T23:59:61\n", 1, 22, "second must be between 00 and 60");
    expect_error("d = 2023-01-01T23:59\n", 1, 21, "seconds are required");
    expect_error("d = 07:32:00Z\n", 1, 13, "a time without a date has no offset");
    expect_error("d = 2023-01-01T00:00:00+24:00\n", 1, 24, "offset out of range");
}

static void test_tables_and_dotted_keys(void **state) {
    (void)state;
    cfg_value *doc = parse_ok("site.\"google.com\" = true\n" /* 1 */
                              "a . b = 1\n"                  /* 2 */
                              "[x.y.z]\n"                    /* 3 */
                              "k = 1\n"                      /* 4 */
                              "[x]\n"                        /* 5: defines the implicit x */
                              "other = 2\n"                  /* 6 */
                              "[fruit]\n"                    /* 7 */
                              "apple.color = \"red\"\n"      /* 8 */
                              "apple.taste.sweet = true\n"   /* 9 */
                              "[fruit.apple.texture]\n"      /* 10: allowed by the spec */
                              "smooth = true\n"              /* 11 */
                              "[[products]]\n"               /* 12 */
                              "name = \"Hammer\"\n"          /* 13 */
                              "[[products]]\n"               /* 14 */
                              "[[products]]\n"               /* 15 */
                              "name = \"Nail\"\n"            /* 16 */
                              "[products.dims]\n"            /* 17: in the last element */
                              "w = 1\n"                      /* 18 */
                              "[[products.variants]]\n"      /* 19 */
                              "v = 1\n");
    assert_true(get(doc, "site")->type == CFG_TABLE);
    assert_true(cfg_table_get(get(doc, "site"), "google.com")->u.b);
    assert_int_equal(get(doc, "site")->line, 1);
    assert_int_value(get(doc, "a.b"), 1);
    assert_int_value(get(doc, "x.y.z.k"), 1);
    assert_int_value(get(doc, "x.other"), 2);
    assert_int_equal(get(doc, "x")->line, 5);
    assert_int_equal(get(doc, "x.y")->line, 3);
    assert_str(get(doc, "fruit.apple.color"), "red");
    assert_true(get(doc, "fruit.apple.taste.sweet")->u.b);
    assert_int_equal(get(doc, "fruit.apple")->line, 8);
    assert_int_equal(get(doc, "fruit.apple.taste")->line, 9);
    assert_true(get(doc, "fruit.apple.texture.smooth")->u.b);
    assert_int_equal(get(doc, "fruit.apple.texture")->line, 10);

    cfg_value *products = get(doc, "products");
    assert_int_equal(products->u.arr.len, 3);
    assert_str(get(item(products, 0), "name"), "Hammer");
    assert_int_equal(item(products, 1)->u.tab.len, 0);
    assert_int_equal(item(products, 1)->line, 14);
    assert_str(get(item(products, 2), "name"), "Nail");
    assert_int_value(get(item(products, 2), "dims.w"), 1);
    assert_int_value(get(item(get(item(products, 2), "variants"), 0), "v"), 1);
    assert_null(cfg_table_get(item(products, 0), "dims"));

    /* Keys keep document order, including implicitly created tables. */
    static const char *const order[] = {"site", "a", "x", "fruit", "products"};
    assert_int_equal(doc->u.tab.len, 5);
    for (size_t i = 0; i < 5; i++) assert_string_equal(doc->u.tab.keys[i], order[i]);
    cfg_free(doc);
}

static void test_arrays_and_inline_tables(void **state) {
    (void)state;
    cfg_value *doc = parse_ok("mixed = [1, 'two', 3.0, [4], {five = 5}, 1979-05-27]\n"
                              "multi = [\n"
                              "  1, # one\n"
                              "  2,\n"
                              "]\n"
                              "empty = []\n"
                              "point = { x = 1, y.z = 2, s = { t = [] } }\n"
                              "blank = {}\n");
    cfg_value *mixed = get(doc, "mixed");
    assert_int_equal(mixed->u.arr.len, 6);
    assert_int_value(item(mixed, 0), 1);
    assert_str(item(mixed, 1), "two");
    assert_int_equal(item(mixed, 2)->type, CFG_FLOAT);
    assert_int_value(item(item(mixed, 3), 0), 4);
    assert_int_value(get(item(mixed, 4), "five"), 5);
    assert_text(item(mixed, 5), CFG_DATE_LOCAL, "1979-05-27");
    cfg_value *multi = get(doc, "multi");
    assert_int_equal(multi->u.arr.len, 2);
    assert_int_equal(item(multi, 0)->line, 3);
    assert_int_equal(item(multi, 1)->line, 4);
    assert_int_equal(get(doc, "empty")->u.arr.len, 0);
    assert_int_value(get(doc, "point.x"), 1);
    assert_int_value(get(doc, "point.y.z"), 2);
    assert_int_equal(get(doc, "point.s.t")->type, CFG_ARRAY);
    assert_int_equal(get(doc, "blank")->u.tab.len, 0);
    assert_int_equal(get(doc, "empty")->line, 6);
    cfg_free(doc);
}

static void test_crlf_and_lines(void **state) {
    (void)state;
    cfg_value *doc = parse_ok("# comment\r\n"
                              "a = 1 # trailing\r\n"
                              "\r\n"
                              "[t]\r\n"
                              "b = [\r\n  2,\r\n  3\r\n]\r\n"
                              "c = 'x'");
    assert_int_equal(get(doc, "a")->line, 2);
    assert_int_equal(get(doc, "t")->line, 4);
    assert_int_equal(get(doc, "t.b")->line, 5);
    assert_int_equal(item(get(doc, "t.b"), 1)->line, 7);
    assert_int_equal(get(doc, "t.c")->line, 9);
    cfg_free(doc);
    expect_error("a = 1\rb = 2\n", 1, 6, "unexpected U+000D after the value");
}

static void test_nul_in_keys(void **state) {
    (void)state;
    cfg_value *doc = parse_ok("\"\\u0000\" = 1\n\"\" = 2\n'\\u0000' = 3\n");
    assert_int_equal(doc->u.tab.len, 3);
    assert_string_equal(doc->u.tab.keys[0], "\xC0\x80");
    assert_string_equal(doc->u.tab.keys[1], "");
    assert_string_equal(doc->u.tab.keys[2], "\\u0000");
    assert_int_value(cfg_table_get(doc, "\xC0\x80"), 1);
    assert_int_value(cfg_table_get(doc, ""), 2);
    cfg_free(doc);
}

static void test_input_is_length_delimited(void **state) {
    (void)state;
    /* Bytes after len must be ignored, and the input need not be NUL-terminated. */
    const char src[] = {'a', ' ', '=', ' ', '1', '2', 'x', 'y'};
    toml_error err;
    cfg_value *doc = toml_parse(src, 6, &err);
    assert_non_null(doc);
    assert_int_value(get(doc, "a"), 12);
    cfg_free(doc);
    assert_null(toml_parse(src, 7, &err));
    assert_int_equal(err.column, 7);
    /* An embedded NUL is a control character, not the end of the document. */
    assert_null(toml_parse("a = 1\0b", 7, &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 6);
}

/* ------------------------------------------------------------------------------------------
 * Errors users make.
 * ---------------------------------------------------------------------------------------- */

static void test_error_missing_quote(void **state) {
    (void)state;
    expect_error("name = \"my-worker\nmain = \"src/index.js\"\n", 1, 8,
                 "unterminated string: missing closing \" before the end of the line");
    expect_error("[vars]\nKEY = 'value\n", 2, 7, "missing closing '");
    expect_error("a = \"\"\"\nnever closed\n", 1, 5,
                 "unterminated multi-line string (missing closing \"\"\")");
}

static void test_error_duplicate_key(void **state) {
    (void)state;
    expect_error("# worker\n\nname = \"a\"\nmain = \"b\"\nname = \"c\"\n", 5, 1,
                 "duplicate key \"name\" (first defined on line 3)");
    expect_error("[vars]\nA = 1\n  A = 2\n", 3, 3, "duplicate key \"A\" (first defined on line 2)");
    expect_error("simple = { limit = 100, limit = 60 }\n", 1, 25,
                 "duplicate key \"limit\" (first defined on line 1)");
    expect_error("\"quoted key\" = 1\n'quoted key' = 2\n", 2, 1,
                 "duplicate key \"quoted key\" (first defined on line 1)");
}

static void test_error_bad_values(void **state) {
    (void)state;
    expect_error("name = my-worker\n", 1, 8, "invalid value my-worker (strings must be in quotes)");
    expect_error("port = 80a\n", 1, 10, "invalid number 80a: unexpected character in number");
    expect_error("a = \n", 1, 5, "expected a value, found end of line");
    expect_error("a = 1 2\n", 1, 7, "unexpected '2' after the value");
    expect_error("flag = True\n", 1, 8, "invalid value True");
    expect_error("a = [1, 2\n", 1, 5, "unterminated array (missing ']')");
    expect_error("a = [1 2]\n", 1, 8, "expected ',' or ']' after an array element, found '2'");
}

static void test_error_syntax(void **state) {
    (void)state;
    expect_error("name \"x\"\n", 1, 6, "expected '=' after key \"name\", found '\"'");
    expect_error("name\n", 1, 5, "expected '=' after key \"name\", found end of line");
    expect_error("= 1\n", 1, 1, "missing key before '='");
    expect_error("na me = 1\n", 1, 4, "expected '=' after key \"na\"");
    expect_error("[vars\nA = 1\n", 1, 6, "expected ']' to close the table header");
    expect_error("[[a]\n", 1, 4, "expected ']]' to close the table header");
    expect_error("caf\xC3\xA9 = 1\n", 1, 4, "expected '=' after key \"caf\", found U+00E9");
    expect_error("a = \"\\q\"\n", 1, 6, "invalid escape \\q in string");
    expect_error("a = \"\\uD800\"\n", 1, 6, "not a Unicode scalar value");
    expect_error("a = \"\\u12\"\n", 1, 6, "\\u must be followed by 4 hex digits");
    expect_error("a = \"x\ty\x01\"\n", 1, 9, "control character U+0001 is not allowed");
    expect_error("# bad \x7f\n", 1, 7, "control character U+007F is not allowed in a comment");
    expect_error("a = \"\"\"x\"\"\"\"\"\"\n", 1, 14, "too many \" characters at the end");
    expect_error("a = '''x''''''\n", 1, 14, "too many ' characters at the end");
}

static void test_error_inline_tables_are_1_0(void **state) {
    (void)state;
    expect_error("t = { a = 1, }\n", 1, 12, "trailing comma is not allowed in an inline table");
    expect_error("t = { a = 1,\n b = 2 }\n", 1, 13,
                 "newlines are not allowed inside an inline table");
    expect_error("t = { a = 1 b = 2 }\n", 1, 13, "expected ',' or '}'");
    expect_error("a = \"\\e\"\n", 1, 6, "invalid escape \\e");
}

static void test_error_redefinitions(void **state) {
    (void)state;
    expect_error("[a]\nx = 1\n[b]\n[a]\n", 4, 2,
                 "table [a] defined twice (first defined on line 1)");
    expect_error("[a.b]\n[a]\n[a]\n", 3, 2, "table [a] defined twice (first defined on line 2)");
    expect_error("a = { b = 1 }\n[a]\n", 2, 2, "it is an inline table");
    expect_error("a = { b = 1 }\n[a.c]\n", 2, 2, "cannot add a table to inline table a");
    expect_error("a = { b = 1 }\na.c = 2\n", 2, 1, "cannot add keys to inline table \"a\"");
    expect_error("a = { b = { c = 1 }, b.d = 2 }\n", 1, 22,
                 "cannot add keys to inline table \"b\"");
    expect_error(
        "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 4, 1,
        "cannot add to table b with a dotted key: it was created by a [table] header on line 1");
    expect_error("[fruit]\napple.color = 'red'\n[fruit.apple]\n", 3, 8,
                 "cannot define table [fruit.apple]: already created by a dotted key on line 2");
    expect_error("a = [1]\n[[a]]\n", 2, 3, "cannot append to array a with [[a]]");
    expect_error("[[a]]\n[a]\n", 2, 2, "[a] conflicts with the array of tables [[a]] on line 1");
    expect_error("[a]\n[[a]]\n", 2, 3, "[[a]] conflicts with table [a] defined on line 1");
    expect_error("a = 1\n[a.b]\n", 2, 2,
                 "cannot define a table inside a: it is an integer (line 1)");
    expect_error("a = 1\na.b = 2\n", 2, 1, "cannot use a as a table: it is already an integer");
    expect_error("[t]\nx = 1\n[t.x]\n", 3, 4,
                 "cannot define table [t.x]: key already defined as an integer on line 2");
}

static void test_error_columns_count_characters(void **state) {
    (void)state;
    /* Column is in characters: the two-byte é and four-byte emoji count once each. */
    expect_error("\"\xC3\xA9\xF0\x9F\x98\x80\" = 1 x\n", 1, 10, "unexpected 'x'");
    expect_error("\xEF\xBB\xBF"
                 "a = ?\n",
                 1, 5, "expected a value, found '?'");
    expect_error("a = \"\xC3\x28\"\n", 1, 6, "invalid UTF-8 byte 0xC3");
    expect_error("a = 1\n# \xED\xA0\x80 surrogate\n", 2, 3, "invalid UTF-8 byte 0xED");
    expect_error("a = 1\n\xC0\xAF = 2\n", 2, 1, "invalid UTF-8 byte 0xC0");
}

/* ------------------------------------------------------------------------------------------
 * Limits.
 * ---------------------------------------------------------------------------------------- */

static char *repeat(const char *prefix, const char *unit, int count, const char *middle,
                    const char *closing) {
    buf b = {0};
    buf_puts(&b, prefix);
    for (int i = 0; i < count; i++) buf_puts(&b, unit);
    buf_puts(&b, middle);
    for (int i = 0; i < count; i++) buf_puts(&b, closing);
    buf_putc(&b, '\n');
    return buf_detach(&b, NULL);
}

static void test_nesting_limit(void **state) {
    (void)state;
    toml_error err;
    /* a = [[...[1]...]]: TOML_MAX_DEPTH nested arrays fit, one more does not. */
    char *deepest_ok = repeat("a = ", "[", TOML_MAX_DEPTH, "1", "]");
    cfg_value *doc = toml_parse(deepest_ok, strlen(deepest_ok), &err);
    if (!doc) fail_msg("%s", err.message);
    cfg_free(doc);
    free(deepest_ok);

    char *too_deep = repeat("a = ", "[", TOML_MAX_DEPTH + 1, "1", "]");
    assert_null(toml_parse(too_deep, strlen(too_deep), &err));
    assert_non_null(strstr(err.message, "nesting too deep"));
    free(too_deep);

    char *inline_bomb = repeat("a = ", "{b=", 100000, "1", "}");
    assert_null(toml_parse(inline_bomb, strlen(inline_bomb), &err));
    assert_non_null(strstr(err.message, "nesting too deep"));
    free(inline_bomb);

    char *array_bomb = repeat("a = ", "[", 1000000, "", "]");
    assert_null(toml_parse(array_bomb, strlen(array_bomb), &err));
    assert_non_null(strstr(err.message, "nesting too deep"));
    free(array_bomb);

    /* A dotted key may have TOML_MAX_DEPTH parts (creating MAX - 1 tables) at the top level
     * or in [t], but not in [t.u], where its tables would nest MAX + 1 deep. */
    char *longest = repeat("", "a.", TOML_MAX_DEPTH - 1, "a = 1", "");
    doc = toml_parse(longest, strlen(longest), &err);
    if (!doc) fail_msg("%s", err.message);
    cfg_free(doc);
    char *in_table = repeat("[t.u]\nx = 1\n", "a.", TOML_MAX_DEPTH - 1, "a = 1", "");
    assert_null(toml_parse(in_table, strlen(in_table), &err));
    assert_non_null(strstr(err.message, "nesting too deep"));
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 1);
    free(in_table);
    free(longest);

    char *dotted = repeat("", "a.", 1000, "a = 1", "");
    assert_null(toml_parse(dotted, strlen(dotted), &err));
    assert_non_null(strstr(err.message, "too many dotted parts"));
    free(dotted);

    /* Headers nest through arrays of tables too: each [[x]] level counts twice. */
    buf b = {0};
    for (int i = 0; i < TOML_MAX_DEPTH; i++) {
        buf_puts(&b, "[[");
        for (int j = 0; j <= i; j++) buf_puts(&b, j ? ".x" : "x");
        buf_puts(&b, "]]\n");
    }
    assert_null(toml_parse(b.data, b.len, &err));
    assert_non_null(strstr(err.message, "nesting too deep"));
    assert_int_equal(err.line, TOML_MAX_DEPTH / 2 + 1);
    buf_free(&b);
}

static void test_every_prefix_of_a_document_is_safe(void **state) {
    (void)state;
    /* Truncating a valid document anywhere must give a tree or an error, never a crash or a
     * leak (ASan checks the latter); most prefixes are invalid. */
    size_t len = strlen(wrangler_toml);
    int accepted = 0;
    for (size_t n = 0; n <= len; n++) {
        toml_error err;
        cfg_value *doc = toml_parse(wrangler_toml, n, &err);
        if (doc) {
            accepted++;
            cfg_free(doc);
        } else {
            assert_true(err.line >= 1 && err.line <= 37);
            assert_true(err.column >= 1);
        }
    }
    assert_true(accepted > 0 && (size_t)accepted < len);
    expect_rejected("a = 1\na = 1");
    expect_rejected("[a]\n[a]");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wrangler_toml),
        cmocka_unit_test(test_empty_documents),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_datetimes_are_normalised),
        cmocka_unit_test(test_tables_and_dotted_keys),
        cmocka_unit_test(test_arrays_and_inline_tables),
        cmocka_unit_test(test_crlf_and_lines),
        cmocka_unit_test(test_nul_in_keys),
        cmocka_unit_test(test_input_is_length_delimited),
        cmocka_unit_test(test_error_missing_quote),
        cmocka_unit_test(test_error_duplicate_key),
        cmocka_unit_test(test_error_bad_values),
        cmocka_unit_test(test_error_syntax),
        cmocka_unit_test(test_error_inline_tables_are_1_0),
        cmocka_unit_test(test_error_redefinitions),
        cmocka_unit_test(test_error_columns_count_characters),
        cmocka_unit_test(test_nesting_limit),
        cmocka_unit_test(test_every_prefix_of_a_document_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
