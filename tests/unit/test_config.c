/* Unit tests for the configuration loaders: JSON with comments (src/config/jsonc.c), the
 * `.dev.vars` dotenv reader (src/config/dotenv.c) and the wrangler configuration loader
 * (src/config/wrangler.c), which is driven through real temporary project directories. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/buf.h"
#include "config/dotenv.h"
#include "config/jsonc.h"
#include "config/value.h"
#include "config/wrangler.h"

/* ------------------------------------------------------------------------------------------
 * Helpers: documents.
 * ---------------------------------------------------------------------------------------- */

static cfg_value *jsonc_ok(const char *src) {
    jsonc_error err = {0};
    cfg_value *doc = jsonc_parse(src, strlen(src), &err);
    if (!doc)
        fail_msg("unexpected JSONC error %d:%d: %s\n%s", err.line, err.column, err.message, src);
    return doc;
}

/* Asserts that src is rejected at line:column with a message containing `expected`. */
static void jsonc_fails(const char *src, int line, int column, const char *expected) {
    jsonc_error err = {0};
    cfg_value *doc = jsonc_parse(src, strlen(src), &err);
    if (doc) {
        cfg_free(doc);
        fail_msg("accepted, but must be rejected:\n%s", src);
    }
    if (!strstr(err.message, expected))
        fail_msg("message \"%s\" does not contain \"%s\"", err.message, expected);
    if (err.line != line || err.column != column)
        fail_msg("error at %d:%d, expected %d:%d (%s)", err.line, err.column, line, column,
                 err.message);
}

static cfg_value *dotenv_ok(const char *src) {
    char err[256] = "";
    cfg_value *t = dotenv_parse(src, strlen(src), err, sizeof err);
    if (!t) fail_msg("unexpected dotenv error: %s\n%s", err, src);
    assert_int_equal(t->type, CFG_TABLE);
    return t;
}

static void dotenv_fails(const char *src, const char *want_message) {
    char err[256] = "";
    cfg_value *t = dotenv_parse(src, strlen(src), err, sizeof err);
    if (t) {
        cfg_free(t);
        fail_msg("accepted, but must be rejected:\n%s", src);
    }
    if (strcmp(err, want_message) != 0) fail_msg("message \"%s\", want \"%s\"", err, want_message);
}

static const cfg_value *get(const cfg_value *table, const char *key) {
    const cfg_value *v = cfg_table_get(table, key);
    if (!v) fail_msg("missing key %s", key);
    return v;
}

static void assert_str(const cfg_value *v, const char *want) {
    assert_non_null(v);
    assert_int_equal(v->type, CFG_STRING);
    assert_int_equal(v->u.str.len, strlen(want));
    assert_string_equal(v->u.str.ptr, want);
}

static void assert_key_str(const cfg_value *t, const char *key, const char *want, int line) {
    const cfg_value *v = get(t, key);
    assert_str(v, want);
    if (v->line != line) fail_msg("%s: line %d, want %d", key, v->line, line);
}

/* ------------------------------------------------------------------------------------------
 * Helpers: projects on disk.
 * ---------------------------------------------------------------------------------------- */

/* A fresh project directory named `leaf` inside a new temporary directory. */
static char *project_dir(const char *leaf) {
    char tmpl[] = "/tmp/hearth-test-config-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    size_t n = strlen(tmpl) + strlen(leaf) + 2;
    char *dir = malloc(n);
    snprintf(dir, n, "%s/%s", tmpl, leaf);
    assert_int_equal(mkdir(dir, 0700), 0);
    return dir;
}

static void remove_project(char *dir) {
    char *slash = strrchr(dir, '/');
    *slash = '\0'; /* the temporary parent */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

static void remove_file_in(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(unlink(path), 0);
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Loads a project whose config file `name` holds `text`; asserts the return code matches the
 * error count. The caller frees c and d. */
static int load_project_env(const char *dir, const char *env, worker_config *c, config_diag *d) {
    memset(d, 0, sizeof *d);
    int rc = worker_config_load(dir, env, c, d);
    assert_int_equal(rc, d->errors ? -1 : 0);
    /* One line per diagnostic. */
    size_t lines = 0;
    for (size_t i = 0; i < d->text.len; i++) lines += d->text.data[i] == '\n';
    assert_int_equal(lines, (size_t)(d->errors + d->warnings));
    return rc;
}

static int load_project(const char *dir, worker_config *c, config_diag *d) {
    return load_project_env(dir, NULL, c, d);
}

/* Asserts the diagnostics contain `want` (with the project directory prepended when it starts
 * with '/'; e.g. "/wrangler.toml:3: warning: ..."). */
static void assert_diag(const char *dir, const config_diag *d, const char *want) {
    char full[1024];
    snprintf(full, sizeof full, "%s%s", want[0] == '/' ? dir : "", want);
    if (!d->text.data || !strstr(d->text.data, full))
        fail_msg("diagnostics do not contain \"%s\":\n%s", full, d->text.data ? d->text.data : "");
}

static void assert_no_diag(const config_diag *d, const char *unwanted) {
    if (d->text.data && strstr(d->text.data, unwanted))
        fail_msg("diagnostics must not contain \"%s\":\n%s", unwanted, d->text.data);
}

static json_t *bindings_of(const worker_config *c) {
    assert_non_null(c->bindings_json);
    json_error_t jerr;
    json_t *j = json_loads(c->bindings_json, JSON_ALLOW_NUL, &jerr);
    if (!j) fail_msg("bindings_json is not JSON (%s): %s", jerr.text, c->bindings_json);
    assert_true(json_is_array(j));
    return j;
}

/* The one binding called `name`; fails if there is none or more than one. */
static json_t *binding(json_t *bindings, const char *name) {
    json_t *found = NULL;
    size_t i;
    json_t *b;
    json_array_foreach(bindings, i, b) {
        assert_true(json_is_object(b));
        const char *n = json_string_value(json_object_get(b, "name"));
        assert_non_null(n);
        if (strcmp(n, name) != 0) continue;
        if (found) fail_msg("two bindings named %s", name);
        found = b;
    }
    if (!found) fail_msg("no binding named %s", name);
    return found;
}

static void assert_text_binding(json_t *bindings, const char *name, const char *type,
                                const char *text) {
    json_t *b = binding(bindings, name);
    assert_string_equal(json_string_value(json_object_get(b, "type")), type);
    json_t *t = json_object_get(b, "text");
    if (!json_is_string(t)) fail_msg("%s: \"text\" is missing or not a string", name);
    assert_int_equal(json_string_length(t), strlen(text));
    assert_string_equal(json_string_value(t), text);
    assert_int_equal(json_object_size(b), 3);
}

/* A json binding whose value equals `want` (a JSON text). */
static void assert_json_binding(json_t *bindings, const char *name, const char *want) {
    json_t *b = binding(bindings, name);
    assert_string_equal(json_string_value(json_object_get(b, "type")), "json");
    json_t *value = json_object_get(b, "json");
    if (!value) fail_msg("%s: no \"json\" member", name);
    json_t *expected = json_loads(want, JSON_DECODE_ANY, NULL);
    assert_non_null(expected);
    if (!json_equal(value, expected)) {
        char *got = json_dumps(value, JSON_ENCODE_ANY);
        fail_msg("%s: json is %s, want %s", name, got, want);
    }
    json_decref(expected);
    assert_int_equal(json_object_size(b), 3);
}

static const char kMinimalToml[] = "name = \"app\"\n"
                                   "main = \"src/index.js\"\n"
                                   "compatibility_date = \"2024-09-23\"\n";

/* ------------------------------------------------------------------------------------------
 * jsonc
 * ---------------------------------------------------------------------------------------- */

static void test_jsonc_plain_json(void **state) {
    (void)state;
    cfg_value *doc = jsonc_ok("{\"s\": \"x\", \"i\": -7, \"f\": 1.5, \"t\": true, \"n\": null, "
                              "\"a\": [1, \"two\"], \"o\": {\"k\": false}, \"u\": \"\\u00e9\"}");
    assert_int_equal(doc->type, CFG_TABLE);
    assert_str(get(doc, "s"), "x");
    assert_int_equal(get(doc, "i")->type, CFG_INTEGER);
    assert_true(get(doc, "i")->u.i == -7);
    assert_int_equal(get(doc, "f")->type, CFG_FLOAT);
    assert_true(get(doc, "f")->u.f == 1.5);
    assert_int_equal(get(doc, "t")->type, CFG_BOOL);
    assert_true(get(doc, "t")->u.b);
    assert_int_equal(get(doc, "n")->type, CFG_NULL);
    const cfg_value *a = get(doc, "a");
    assert_int_equal(a->type, CFG_ARRAY);
    assert_int_equal(a->u.arr.len, 2);
    assert_true(a->u.arr.items[0]->u.i == 1);
    assert_str(a->u.arr.items[1], "two");
    assert_int_equal(get(get(doc, "o"), "k")->type, CFG_BOOL);
    assert_false(get(get(doc, "o"), "k")->u.b);
    assert_str(get(doc, "u"), "\xC3\xA9");
    /* Keys keep document order. */
    static const char *order[] = {"s", "i", "f", "t", "n", "a", "o", "u"};
    assert_int_equal(doc->u.tab.len, 8);
    for (size_t i = 0; i < 8; i++) assert_string_equal(doc->u.tab.keys[i], order[i]);
    cfg_free(doc);
    /* Any JSON value is a document. */
    doc = jsonc_ok(" [1, 2] ");
    assert_int_equal(doc->type, CFG_ARRAY);
    cfg_free(doc);
    doc = jsonc_ok("\"text\" // comment");
    assert_str(doc, "text");
    cfg_free(doc);
}

static void test_jsonc_comments(void **state) {
    (void)state;
    const char *src = "// leading comment\n"              /* 1 */
                      "{\n"                               /* 2 */
                      "  /* block */ \"a\": 1, // tail\n" /* 3 */
                      "  /* multi\n"                      /* 4 */
                      "     line\n"                       /* 5 */
                      "     comment */\n"                 /* 6 */
                      "  \"b\": /* inside */ \"x\",\n"    /* 7 */
                      "  \"c\": [1, /* two */ 2]\n"       /* 8 */
                      "}\n"                               /* 9 */
                      "/* trailing */ // end";            /* 10 */
    cfg_value *doc = jsonc_ok(src);
    assert_int_equal(doc->u.tab.len, 3);
    assert_true(get(doc, "a")->u.i == 1);
    assert_int_equal(get(doc, "a")->line, 3);
    assert_key_str(doc, "b", "x", 7); /* lines survive the multi-line comment */
    assert_int_equal(get(doc, "c")->u.arr.len, 2);
    assert_int_equal(get(doc, "c")->line, 8);
    cfg_free(doc);
    /* A comment with no newline at the end of the file; CRLF line ends. */
    doc = jsonc_ok("{\"a\": 1} // no newline");
    cfg_free(doc);
    doc = jsonc_ok("{\r\n// c\r\n\"a\": 1\r\n}\r\n");
    assert_int_equal(get(doc, "a")->line, 3);
    cfg_free(doc);
}

static void test_jsonc_comment_markers_in_strings(void **state) {
    (void)state;
    cfg_value *doc = jsonc_ok("{\n"
                              "  \"url\": \"https://example.com/a//b\",\n"
                              "  \"glob\": \"src/**/*.js\",\n"
                              "  \"end\": \"*/\",\n"
                              "  \"q\": \"say \\\"//hi\\\" /* not */\",\n"
                              "  \"bs\": \"C:\\\\\",\n"
                              "  \"after\": \"// still\",\n"
                              "  \"commas\": \"a,}b,]\",\n"
                              "  \"k//ey\": 1\n"
                              "}");
    assert_key_str(doc, "url", "https://example.com/a//b", 2);
    assert_key_str(doc, "glob", "src/**/*.js", 3);
    assert_key_str(doc, "end", "*/", 4);
    assert_key_str(doc, "q", "say \"//hi\" /* not */", 5);
    assert_key_str(doc, "bs", "C:\\", 6); /* an escaped backslash does not escape the quote */
    assert_key_str(doc, "after", "// still", 7);
    assert_key_str(doc, "commas", "a,}b,]", 8); /* trailing-comma removal skips strings */
    assert_int_equal(get(doc, "k//ey")->line, 9);
    cfg_free(doc);
}

static void test_jsonc_trailing_commas(void **state) {
    (void)state;
    cfg_value *doc = jsonc_ok("{\"a\": [1, 2, ], \"b\": {\"c\": 3,}, \"d\": [[],\n\t],\n}");
    assert_int_equal(doc->u.tab.len, 3);
    assert_int_equal(get(doc, "a")->u.arr.len, 2);
    assert_int_equal(get(get(doc, "b"), "c")->u.i, 3);
    assert_int_equal(get(doc, "d")->u.arr.len, 1);
    cfg_free(doc);
    /* A trailing comma followed by a comment, as editors and wrangler's templates write it. */
    doc = jsonc_ok("{\n"
                   "  \"name\": \"app\", // the Worker's name\n"
                   "  \"vars\": {\n"
                   "    \"A\": \"1\", /* last */\n"
                   "  },\n"
                   "  \"flags\": [\"x\", // one\n"
                   "  ],\n"
                   "}\n");
    assert_key_str(doc, "name", "app", 2);
    assert_key_str(get(doc, "vars"), "A", "1", 4);
    assert_int_equal(get(doc, "flags")->u.arr.len, 1);
    cfg_free(doc);
    /* Only one trailing comma is forgiven: a hole or a lone comma is still an error. */
    jsonc_fails("[1,,]", 1, 4, "unexpected token");
    jsonc_fails("{,}", 1, 2, "string or '}' expected");
    jsonc_fails("[,]", 1, 2, "unexpected token");
    jsonc_fails("[\n  // nothing yet\n  ,\n]", 3, 3, "unexpected token");
    jsonc_fails("{\"a\": 1,, }", 1, 9, "string or '}' expected");
}

static void test_jsonc_errors(void **state) {
    (void)state;
    jsonc_fails("{\n  \"a\": 1,\n  \"b\": x\n}", 3, 8, "invalid token");
    jsonc_fails("{\n  \"a\": 1\n  \"b\": 2\n}", 3, 5, "'}' expected");
    /* Comments before the error do not move its position. */
    jsonc_fails("/* one\ntwo */ {\"a\": // c\n ]}", 3, 2, "unexpected token");
    /* Columns count characters, not bytes. */
    jsonc_fails("{\"\xC3\xA9\xC3\xA9\": ]}", 1, 8, "unexpected token");
    jsonc_fails("", 1, 1, "end of file");
    jsonc_fails("{\"a\": \"unterminated}", 1, 20, "premature end of input");
    /* A block comment that is never closed is an error at the comment, even after a complete
     * value (a truncated file must not load). */
    jsonc_fails("{\"a\": 1}\n  /* never closed", 2, 3, "unterminated");
    jsonc_fails("{\"a\": 1, /* never closed }", 1, 10, "unterminated");
    jsonc_fails("{\"\xC3\xA9\": 1} /*/", 1, 10, "unterminated");
    /* NULL err is allowed. */
    assert_null(jsonc_parse("{", 1, NULL));
    assert_null(jsonc_parse("1 /*", 4, NULL));
}

static void test_jsonc_key_lines(void **state) {
    (void)state;
    const char *src = "{\n"                            /* 1 */
                      "  \"name\": \"x\",\n"           /* 2 */
                      "  \"vars\": {\n"                /* 3 */
                      "    \"name\": \"inner\",\n"     /* 4 */
                      "    \"B\":\n"                   /* 5 */
                      "      2\n"                      /* 6 */
                      "  },\n"                         /* 7 */
                      "  \"rules\": [\n"               /* 8 */
                      "    {\"type\": \"Text\"}\n"     /* 9 */
                      "  ],\n"                         /* 10 */
                      "  \"s\": \"\\\"vars\\\": \",\n" /* 11: a key's text inside a string */
                      "  \"last\"\n"                   /* 12 */
                      "     : true\n"                  /* 13 */
                      "}";
    cfg_value *doc = jsonc_ok(src);
    assert_int_equal(doc->line, 1);
    assert_int_equal(get(doc, "name")->line, 2);
    const cfg_value *vars = get(doc, "vars");
    assert_int_equal(vars->line, 3);
    /* The inner "name" is found after its parent key, not confused with the outer one. */
    assert_key_str(vars, "name", "inner", 4);
    assert_int_equal(get(vars, "B")->line, 5);
    const cfg_value *rules = get(doc, "rules");
    assert_int_equal(rules->line, 8);
    assert_int_equal(get(rules->u.arr.items[0], "type")->line, 9);
    assert_int_equal(get(doc, "s")->line, 11);
    assert_int_equal(get(doc, "last")->line, 12);
    cfg_free(doc);
}

static void test_jsonc_length_delimited(void **state) {
    (void)state;
    /* Only len bytes are parsed: what follows is not part of the document. */
    const char *src = "{\"a\": 1}garbage";
    jsonc_error err;
    cfg_value *doc = jsonc_parse(src, 8, &err);
    assert_non_null(doc);
    assert_true(get(doc, "a")->u.i == 1);
    cfg_free(doc);
    assert_null(jsonc_parse(src, 7, &err));
}

/* ------------------------------------------------------------------------------------------
 * dotenv
 * ---------------------------------------------------------------------------------------- */

static void test_dotenv_basic(void **state) {
    (void)state;
    cfg_value *t = dotenv_ok("# comment\n"                /* 1 */
                             "A=1\n"                      /* 2 */
                             "  B = two words  \n"        /* 3 */
                             "\n"                         /* 4 */
                             "   # indented comment\n"    /* 5 */
                             "export C=exported\n"        /* 6 */
                             "D=\n"                       /* 7 */
                             "E=x=y\n"                    /* 8 */
                             "F=value # comment\n"        /* 9 */
                             "G=a#b\n"                    /* 10 */
                             "H.I-J_K=dots\n"             /* 11 */
                             "export=plain\n"             /* 12 */
                             "A=again\n"                  /* 13: a later line wins */
                             "\tL\t=\ttabs\t\n"           /* 14 */
                             "M=#not a comment\n"         /* 15 */
                             "N=https://x.test/#frag\n"); /* 16 */
    assert_key_str(t, "A", "again", 13);
    assert_key_str(t, "B", "two words", 3);
    assert_key_str(t, "C", "exported", 6);
    assert_key_str(t, "D", "", 7);
    assert_key_str(t, "E", "x=y", 8);
    assert_key_str(t, "F", "value", 9);
    assert_key_str(t, "G", "a#b", 10);
    assert_key_str(t, "H.I-J_K", "dots", 11);
    assert_key_str(t, "export", "plain", 12);
    assert_key_str(t, "L", "tabs", 14);
    assert_key_str(t, "M", "#not a comment", 15);
    assert_key_str(t, "N", "https://x.test/#frag", 16);
    assert_int_equal(t->u.tab.len, 12);
    cfg_free(t);
    /* No final newline; an empty file. */
    t = dotenv_ok("K=v");
    assert_key_str(t, "K", "v", 1);
    cfg_free(t);
    t = dotenv_ok("");
    assert_int_equal(t->u.tab.len, 0);
    cfg_free(t);
}

static void test_dotenv_quotes(void **state) {
    (void)state;
    cfg_value *t = dotenv_ok("S='single # not comment'\n"      /* 1 */
                             "L='lit\\n\\t$x'\n"               /* 2 */
                             "D=\"a\\nb\\tc\\rd\"\n"           /* 3 */
                             "Q=\"say \\\"hi\\\" \\\\ end\"\n" /* 4 */
                             "E=\"\"\n"                        /* 5 */
                             "C=\"kept\" # comment\n"          /* 6 */
                             "P=  \"  padded  \"  \n"          /* 7 */
                             "H=\"has 'single' inside\"\n"     /* 8 */
                             "I='has \"double\" inside'\n");   /* 9 */
    assert_key_str(t, "S", "single # not comment", 1);
    assert_key_str(t, "L", "lit\\n\\t$x", 2); /* single quotes are literal */
    assert_key_str(t, "D", "a\nb\tc\rd", 3);
    assert_key_str(t, "Q", "say \"hi\" \\ end", 4);
    assert_key_str(t, "E", "", 5);
    assert_key_str(t, "C", "kept", 6);
    assert_key_str(t, "P", "  padded  ", 7);
    assert_key_str(t, "H", "has 'single' inside", 8);
    assert_key_str(t, "I", "has \"double\" inside", 9);
    cfg_free(t);
}

static void test_dotenv_multiline(void **state) {
    (void)state;
    cfg_value *t = dotenv_ok("KEY=\"-----BEGIN KEY-----\n" /* 1 */
                             "abc\n"                       /* 2 */
                             "-----END KEY-----\"\n"       /* 3 */
                             "NEXT=1\n"                    /* 4 */
                             "S='a\n"                      /* 5 */
                             "b'\n"                        /* 6 */
                             "AFTER=2\n");                 /* 7 */
    assert_key_str(t, "KEY", "-----BEGIN KEY-----\nabc\n-----END KEY-----", 1);
    assert_key_str(t, "NEXT", "1", 4);
    assert_key_str(t, "S", "a\nb", 5);
    assert_key_str(t, "AFTER", "2", 7);
    cfg_free(t);
    /* A backslash before a real newline inside double quotes: the newline is still a line. */
    t = dotenv_ok("A=\"x\\\n"   /* 1 */
                  "y\"\n"       /* 2 */
                  "B=after\n"); /* 3 */
    assert_key_str(t, "A", "x\ny", 1);
    assert_key_str(t, "B", "after", 3);
    cfg_free(t);
    dotenv_fails("A=\"x\\\n"
                 "y\"\n"
                 "not a pair\n",
                 "line 3: expected KEY=value");
}

static void test_dotenv_crlf(void **state) {
    (void)state;
    cfg_value *t = dotenv_ok("A=1\r\n"
                             "\r\n"
                             "# c\r\n"
                             "B=\"q\"\r\n"
                             "C=v # c\r\n"
                             "D=x\r\n");
    assert_key_str(t, "A", "1", 1);
    assert_key_str(t, "B", "q", 4);
    assert_key_str(t, "C", "v", 5);
    assert_key_str(t, "D", "x", 6);
    cfg_free(t);
}

static void test_dotenv_errors(void **state) {
    (void)state;
    dotenv_fails("A=1\njust words\n", "line 2: expected KEY=value");
    dotenv_fails("A=1\n\n# c\n=value\n", "line 4: expected KEY=value");
    dotenv_fails("KEY value\n", "line 1: expected KEY=value");
    dotenv_fails("export KEY\n", "line 1: expected KEY=value");
    dotenv_fails("A B=1\n", "line 1: expected KEY=value");
    dotenv_fails("A=1\nB=\"never closed\nC=3\n", "line 2: unterminated quoted value");
    dotenv_fails("A='x", "line 1: unterminated quoted value");
    /* Lines are counted through multi-line values. */
    dotenv_fails("A=\"1\n2\n3\"\n?\n", "line 4: expected KEY=value");
}

/* ------------------------------------------------------------------------------------------
 * wrangler: loading
 * ---------------------------------------------------------------------------------------- */

static void test_wrangler_toml_full(void **state) {
    (void)state;
    char *dir = project_dir("full");
    write_file(dir, "wrangler.toml",
               "name = \"my-worker\"\n"                             /* 1 */
               "main = \"./src/index.js\"\n"                        /* 2 */
               "compatibility_date = \"2024-09-23\"\n"              /* 3 */
               "compatibility_flags = [\"nodejs_compat\", \"x\"]\n" /* 4 */
               "upload_source_maps = true\n"                        /* 5 */
               "workers_dev = true\n"                               /* 6: known, ignored quietly */
               "\n"
               "[limits]\n"
               "cpu_ms = 50\n"
               "\n"
               "[vars]\n"
               "API_HOST = \"api.example.com\"\n"
               "RETRIES = 3\n"
               "RATIO = 0.75\n"
               "DEBUG = false\n"
               "LIST = [1, \"two\", { three = 3 }]\n"
               "OBJ = { nested = { deep = \"yes\" } }\n"
               "DAY = 1979-05-27\n"
               "EMPTY = \"\"\n"
               "LOOKS_LIKE_NUMBER = \"42\"\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    if (d.errors || d.warnings) fail_msg("unexpected diagnostics:\n%s", d.text.data);
    assert_string_equal(c.name, "my-worker");
    assert_string_equal(c.main, "src/index.js");
    assert_string_equal(c.compatibility_date, "2024-09-23");
    assert_int_equal(c.compatibility_flag_count, 2);
    assert_string_equal(c.compatibility_flags[0], "nodejs_compat");
    assert_string_equal(c.compatibility_flags[1], "x");
    assert_true(c.upload_source_maps);
    assert_int_equal(c.cpu_ms, 50);
    assert_string_equal(c.dir, dir);
    char want_file[512];
    snprintf(want_file, sizeof want_file, "%s/wrangler.toml", dir);
    assert_string_equal(c.file, want_file);
    assert_non_null(c.doc);

    json_t *b = bindings_of(&c);
    assert_int_equal(json_array_size(b), 9);
    assert_text_binding(b, "API_HOST", "plain_text", "api.example.com");
    assert_text_binding(b, "EMPTY", "plain_text", "");
    assert_text_binding(b, "LOOKS_LIKE_NUMBER", "plain_text", "42");
    assert_json_binding(b, "RETRIES", "3");
    assert_json_binding(b, "RATIO", "0.75");
    assert_json_binding(b, "DEBUG", "false");
    assert_json_binding(b, "LIST", "[1, \"two\", {\"three\": 3}]");
    assert_json_binding(b, "OBJ", "{\"nested\": {\"deep\": \"yes\"}}");
    assert_json_binding(b, "DAY", "\"1979-05-27\"");
    /* Bindings keep the order of the file. */
    assert_string_equal(json_string_value(json_object_get(json_array_get(b, 0), "name")),
                        "API_HOST");
    assert_string_equal(json_string_value(json_object_get(json_array_get(b, 8), "name")),
                        "LOOKS_LIKE_NUMBER");
    json_decref(b);
    worker_config_free(&c);
    assert_null(c.name); /* free resets the struct */
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_vars_are_binary_safe(void **state) {
    (void)state;
    char *dir = project_dir("nul");
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "[vars]\n"
               "NUL = \"a\\u0000b\"\n"
               "UNI = \"\\u00e9\\ud7ff\"\n"
               "NAN = nan\n"
               "INF = -inf\n"
               "IN_LIST = [nan, 1.0]\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    json_t *b = bindings_of(&c);
    json_t *nul = json_object_get(binding(b, "NUL"), "text");
    assert_true(json_is_string(nul));
    assert_int_equal(json_string_length(nul), 3); /* not cut at the NUL */
    assert_memory_equal(json_string_value(nul), "a\0b", 3);
    assert_text_binding(b, "UNI", "plain_text", "\xC3\xA9\xED\x9F\xBF");
    /* Like JSON.stringify in wrangler: numbers JSON cannot hold become null, and the binding
     * keeps its "json" member. */
    assert_json_binding(b, "NAN", "null");
    assert_json_binding(b, "INF", "null");
    assert_json_binding(b, "IN_LIST", "[null, 1.0]");
    json_decref(b);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_dev_vars(void **state) {
    (void)state;
    char *dir = project_dir("secrets");
    write_file(dir, "wrangler.toml",
               "name = \"s\"\nmain = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "[vars]\n"
               "API_KEY = \"from-vars\"\n"
               "PORT = 8080\n"
               "KEEP = \"kept\"\n");
    write_file(dir, ".dev.vars",
               "# local secrets\n"
               "API_KEY=from-dev-vars\n"
               "PORT=9090\n"
               "export TOKEN=\"multi\nline\"\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    json_t *b = bindings_of(&c);
    assert_int_equal(json_array_size(b), 4);
    /* .dev.vars overrides vars of the same name (whatever their type) as secret_text. */
    assert_text_binding(b, "API_KEY", "secret_text", "from-dev-vars");
    assert_text_binding(b, "PORT", "secret_text", "9090");
    assert_text_binding(b, "KEEP", "plain_text", "kept");
    assert_text_binding(b, "TOKEN", "secret_text", "multi\nline");
    json_decref(b);
    worker_config_free(&c);
    config_diag_free(&d);

    /* Values must be UTF-8 (bindings are JSON text); the error names the file and line. */
    write_file(dir, ".dev.vars", "OK=1\nLATIN1=caf\xe9\n");
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 1);
    assert_diag(dir, &d, "/.dev.vars:2: error: the value of LATIN1 is not valid UTF-8\n");
    worker_config_free(&c);
    config_diag_free(&d);

    /* A broken .dev.vars is an error that names the file and the line. */
    write_file(dir, ".dev.vars", "A=1\nthis is not a pair\n");
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 1);
    assert_diag(dir, &d, "/.dev.vars");
    assert_diag(dir, &d, "line 2: expected KEY=value");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

/* [env.NAME] chosen with --env: inherited keys come from the top level unless the environment
 * sets them, bindings only from the environment, and the Worker is called "<name>-<env>". */
static void test_wrangler_environments(void **state) {
    (void)state;
    char *dir = project_dir("envs");
    write_file(dir, "wrangler.toml",
               "name = \"shop\"\n"                     /* 1 */
               "main = \"a.js\"\n"                     /* 2 */
               "compatibility_date = \"2024-01-01\"\n" /* 3 */
               "routes = [\"shop.example/*\"]\n"       /* 4 */
               "[vars]\n"                              /* 5 */
               "STAGE = \"top\"\n"                     /* 6 */
               "[[services]]\n"                        /* 7 */
               "binding = \"API\"\n"                   /* 8 */
               "service = \"api\"\n"                   /* 9 */
               "[env.staging]\n"                       /* 10 */
               "compatibility_date = \"2024-06-01\"\n" /* 11 */
               "keep_vars = true\n"                    /* 12 */
               "[env.staging.vars]\n"                  /* 13 */
               "STAGE = \"staging\"\n"                 /* 14 */
               "[env.production]\n"                    /* 15 */
               "name = \"shop-prod\"\n"                /* 16 */
               "routes = [\"prod.example/*\"]\n"       /* 17 */
               "vars = { STAGE = 5 }\n"                /* 18 */
               "services = [{ binding = \"API\", service = \"api-prod\" }]\n");
    worker_config c;
    config_diag d;

    /* No --env: the top level, and no warning about the env table. */
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_int_equal(d.warnings, 0);
    assert_string_equal(c.name, "shop");
    json_t *b = bindings_of(&c);
    assert_int_equal(json_array_size(b), 2);
    assert_text_binding(b, "STAGE", "plain_text", "top");
    json_decref(b);
    worker_config_free(&c);
    config_diag_free(&d);

    /* staging: its own date and vars, main and routes inherited, no services (not inherited,
     * with a warning that says so), keep_vars ignored (top level only). */
    assert_int_equal(load_project_env(dir, "staging", &c, &d), 0);
    assert_string_equal(c.name, "shop-staging");
    assert_string_equal(c.main, "a.js");
    assert_string_equal(c.compatibility_date, "2024-06-01");
    const cfg_value *routes = cfg_table_get(c.doc, "routes");
    assert_non_null(routes);
    assert_int_equal(routes->line, 4);
    b = bindings_of(&c);
    assert_int_equal(json_array_size(b), 1);
    assert_text_binding(b, "STAGE", "plain_text", "staging");
    json_decref(b);
    assert_int_equal(d.warnings, 2);
    assert_diag(dir, &d,
                "/wrangler.toml:7: warning: \"services\" is set at the top level but not in "
                "[env.staging], and environments do not inherit it: env.staging has none.");
    assert_diag(dir, &d,
                "/wrangler.toml:12: warning: \"env.staging.keep_vars\" is only read at the top "
                "level (ignored)\n");
    worker_config_free(&c);
    config_diag_free(&d);

    /* production: its own name, routes and bindings; errors point at the environment's lines. */
    assert_int_equal(load_project_env(dir, "production", &c, &d), 0);
    assert_int_equal(d.warnings, 0);
    assert_string_equal(c.name, "shop-prod");
    assert_string_equal(c.compatibility_date, "2024-01-01");
    routes = cfg_table_get(c.doc, "routes");
    assert_int_equal(routes->line, 17);
    b = bindings_of(&c);
    assert_json_binding(b, "STAGE", "5");
    json_t *api = binding(b, "API");
    assert_string_equal(json_string_value(json_object_get(api, "service")), "api-prod");
    json_decref(b);
    worker_config_free(&c);
    config_diag_free(&d);

    /* An environment the file does not have is an error that lists the ones it has. */
    assert_int_equal(load_project_env(dir, "qa", &c, &d), -1);
    assert_diag(dir, &d,
                "/wrangler.toml: error: --env qa: there is no [env.qa] section (the environments "
                "are: staging, production)\n");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

/* The environment's own values are checked like top-level ones, at their lines; a derived name
 * gets the suffix too; .dev.vars.<env> replaces .dev.vars. */
static void test_wrangler_environment_errors_and_secrets(void **state) {
    (void)state;
    char *dir = project_dir("envsecrets");
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\n"
               "compatibility_date = \"2024-01-01\"\n"
               "[env.dev]\n"
               "compatibility_date = \"yesterday\"\n"
               "[env.Bad]\n"
               "[env.ok]\n");
    write_file(dir, ".dev.vars", "WHO=plain\n");
    write_file(dir, ".dev.vars.ok", "WHO=ok\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project_env(dir, "dev", &c, &d), -1);
    assert_diag(dir, &d, "/wrangler.toml:4: error: \"compatibility_date\"");
    worker_config_free(&c);
    config_diag_free(&d);

    assert_int_equal(load_project_env(dir, "Bad", &c, &d), -1);
    assert_diag(dir, &d, "is not a valid name");
    assert_diag(dir, &d, "set name in [env.Bad]");
    worker_config_free(&c);
    config_diag_free(&d);

    assert_int_equal(load_project_env(dir, "ok", &c, &d), 0);
    assert_string_equal(c.name, "envsecrets-ok");
    json_t *b = bindings_of(&c);
    assert_text_binding(b, "WHO", "secret_text", "ok");
    json_decref(b);
    worker_config_free(&c);
    config_diag_free(&d);

    /* Without .dev.vars.<env>, .dev.vars. */
    write_file(dir, "wrangler.toml", "name = \"n\"\nmain = \"a.js\"\n[env.x]\n");
    assert_int_equal(load_project_env(dir, "x", &c, &d), 0);
    b = bindings_of(&c);
    assert_text_binding(b, "WHO", "secret_text", "plain");
    json_decref(b);
    worker_config_free(&c);
    config_diag_free(&d);

    /* wrangler.json: the same rules on the same tree. */
    remove_file_in(dir, "wrangler.toml");
    write_file(dir, "wrangler.json",
               "{\n"
               "  \"name\": \"j\", \"main\": \"a.js\", \"vars\": { \"WHO\": \"top\" },\n"
               "  \"env\": { \"ok\": { \"vars\": { \"WHO\": \"json-env\" } } }\n"
               "}\n");
    assert_int_equal(load_project_env(dir, "ok", &c, &d), 0);
    assert_string_equal(c.name, "j-ok");
    b = bindings_of(&c);
    /* .dev.vars.ok (a secret) overrides the environment's var of the same name. */
    assert_text_binding(b, "WHO", "secret_text", "ok");
    json_decref(b);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_file_in(dir, ".dev.vars.ok");
    remove_file_in(dir, ".dev.vars");
    assert_int_equal(load_project_env(dir, "ok", &c, &d), 0);
    b = bindings_of(&c);
    assert_text_binding(b, "WHO", "plain_text", "json-env");
    json_decref(b);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_file_in(dir, "wrangler.json");

    /* "env" that is not a table. */
    write_file(dir, "wrangler.toml", "name = \"n\"\nmain = \"a.js\"\nenv = 3\n");
    assert_int_equal(load_project_env(dir, "x", &c, &d), -1);
    assert_diag(dir, &d, "/wrangler.toml:3: error: \"env\" must be a table of environments");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_no_vars_gives_empty_bindings(void **state) {
    (void)state;
    char *dir = project_dir("plain");
    write_file(dir, "wrangler.toml", kMinimalToml);
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_int_equal(d.warnings, 0);
    json_t *b = bindings_of(&c);
    assert_int_equal(json_array_size(b), 0);
    json_decref(b);
    assert_int_equal(c.cpu_ms, 0);
    assert_false(c.upload_source_maps);
    assert_int_equal(c.compatibility_flag_count, 0);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_missing_config(void **state) {
    (void)state;
    char *dir = project_dir("empty");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 1);
    assert_diag(dir, &d, ": error: no wrangler.toml, wrangler.json or wrangler.jsonc");
    assert_true(strncmp(d.text.data, dir, strlen(dir)) == 0); /* names the directory */
    worker_config_free(&c);
    config_diag_free(&d);
    /* A directory named wrangler.toml is not a config file. */
    char sub[512];
    snprintf(sub, sizeof sub, "%s/wrangler.toml", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_diag(dir, &d, "no wrangler.toml");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_toml_syntax_error(void **state) {
    (void)state;
    char *dir = project_dir("bad");
    write_file(dir, "wrangler.toml", "name = \"x\"\nmain = \n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 1);
    assert_diag(dir, &d, "/wrangler.toml:2:");
    assert_diag(dir, &d, ": error: ");
    assert_null(c.doc);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

/* ------------------------------------------------------------------------------------------
 * wrangler: name and main
 * ---------------------------------------------------------------------------------------- */

static char *name_for_dir(const char *leaf, const char *load_as_suffix) {
    char *dir = project_dir(leaf);
    write_file(dir, "wrangler.toml", "main = \"index.js\"\ncompatibility_date = \"2024-01-01\"\n");
    char path[600];
    snprintf(path, sizeof path, "%s%s", dir, load_as_suffix);
    worker_config c;
    config_diag d;
    if (load_project(path, &c, &d) != 0) fail_msg("%s", d.text.data);
    assert_int_equal(d.warnings, 0);
    char *name = strdup(c.name);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
    return name;
}

static void test_wrangler_name_defaults_to_directory(void **state) {
    (void)state;
    struct {
        const char *leaf, *suffix, *want;
    } cases[] = {
        {"hello", "", "hello"},
        {"My App_2", "", "my-app-2"},
        {"hello", "/", "hello"}, /* trailing slash, as shells complete it */
        {"hello", "//", "hello"},
        {"hello", "/.", "hello"},  /* "." means the directory itself */
        {".hidden", "", "hidden"}, /* never starts or ends with '-' */
        {"--x--", "", "x"},
        {"...", "", "worker"},
        {"0123456789012345678901234567890123456789012345678901234567890123456789", "",
         "012345678901234567890123456789012345678901234567890123456789012"}, /* 63 at most */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *name = name_for_dir(cases[i].leaf, cases[i].suffix);
        if (strcmp(name, cases[i].want) != 0)
            fail_msg("directory \"%s%s\": name \"%s\", want \"%s\"", cases[i].leaf, cases[i].suffix,
                     name, cases[i].want);
        free(name);
    }
}

static void test_wrangler_name_from_cwd(void **state) {
    (void)state;
    /* `hearth dev` without a directory loads "."; the name comes from the real directory. */
    char *dir = project_dir("from-cwd");
    write_file(dir, "wrangler.toml", "main = \"index.js\"\ncompatibility_date = \"2024-01-01\"\n");
    char old[PATH_MAX];
    assert_non_null(getcwd(old, sizeof old));
    assert_int_equal(chdir(dir), 0);
    worker_config c;
    config_diag d;
    int rc = load_project(".", &c, &d);
    assert_int_equal(chdir(old), 0);
    assert_int_equal(rc, 0);
    assert_string_equal(c.name, "from-cwd");
    assert_string_equal(c.dir, "."); /* paths stay as given */
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_name_validation(void **state) {
    (void)state;
    char *dir = project_dir("names");
    const char *bad[] = {"\"My-Worker\"", "\"-x\"", "\"\"", "\"a b\"", "\"a.b\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char toml[256];
        snprintf(toml, sizeof toml,
                 "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\nname = %s\n", bad[i]);
        write_file(dir, "wrangler.toml", toml);
        worker_config c;
        config_diag d;
        assert_int_equal(load_project(dir, &c, &d), -1);
        assert_int_equal(d.errors, 1);
        assert_diag(dir, &d, "/wrangler.toml:3: error: \"name\" must be lowercase letters");
        worker_config_free(&c);
        config_diag_free(&d);
    }
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\nname = 7\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_diag(dir, &d,
                "/wrangler.toml:3: error: \"name\" must be a string, e.g. name = \"my-worker\" "
                "(found an integer)");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_main(void **state) {
    (void)state;
    char *dir = project_dir("main");
    struct {
        const char *main, *want;
    } cases[] = {
        {"src/index.js", "src/index.js"},
        {"./src/index.js", "src/index.js"},
        {"././worker.mjs", "worker.mjs"},
        {"dist/./w.js", "dist/./w.js"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char toml[256];
        snprintf(toml, sizeof toml, "main = \"%s\"\ncompatibility_date = \"2024-01-01\"\n",
                 cases[i].main);
        write_file(dir, "wrangler.toml", toml);
        worker_config c;
        config_diag d;
        assert_int_equal(load_project(dir, &c, &d), 0);
        assert_string_equal(c.main, cases[i].want);
        worker_config_free(&c);
        config_diag_free(&d);
    }
    /* Missing, of the wrong type, or naming no file at all. */
    struct {
        const char *toml, *want;
    } errors[] = {
        {"compatibility_date = \"2024-01-01\"\n", "/wrangler.toml: error: \"main\" is required"},
        {"compatibility_date = \"2024-01-01\"\nmain = [\"a.js\"]\n",
         "/wrangler.toml:2: error: \"main\" must be a string, e.g. main = \"src/index.js\" "
         "(found an array)"},
        {"compatibility_date = \"2024-01-01\"\nmain = \"\"\n",
         "/wrangler.toml:2: error: \"main\" must be"},
        {"compatibility_date = \"2024-01-01\"\nmain = \"./\"\n",
         "/wrangler.toml:2: error: \"main\" must be"},
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        write_file(dir, "wrangler.toml", errors[i].toml);
        worker_config c;
        config_diag d;
        assert_int_equal(load_project(dir, &c, &d), -1);
        assert_int_equal(d.errors, 1);
        assert_diag(dir, &d, errors[i].want);
        worker_config_free(&c);
        config_diag_free(&d);
    }
    remove_project(dir);
}

/* ------------------------------------------------------------------------------------------
 * wrangler: compatibility date, limits, keys
 * ---------------------------------------------------------------------------------------- */

static void test_wrangler_compatibility_date_default(void **state) {
    (void)state;
    char *dir = project_dir("nodate");
    write_file(dir, "wrangler.toml", "main = \"a.js\"\n");
    time_t before = time(NULL);
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    time_t after = time(NULL);
    assert_int_equal(d.warnings, 1);
    /* Today's date in UTC (either side of the call, in case midnight passed during it). */
    char today1[16], today2[16];
    struct tm tm;
    strftime(today1, sizeof today1, "%Y-%m-%d", gmtime_r(&before, &tm));
    strftime(today2, sizeof today2, "%Y-%m-%d", gmtime_r(&after, &tm));
    assert_non_null(c.compatibility_date);
    if (strcmp(c.compatibility_date, today1) != 0 && strcmp(c.compatibility_date, today2) != 0)
        fail_msg("default compatibility date %s is not today (%s)", c.compatibility_date, today1);
    char want[128];
    snprintf(
        want, sizeof want,
        "/wrangler.toml: warning: no \"compatibility_date\" was given; using today's date, %s\n",
        c.compatibility_date);
    assert_diag(dir, &d, want);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_compatibility_date_validation(void **state) {
    (void)state;
    char *dir = project_dir("dates");
    const char *good[] = {"2000-01-01", "2024-09-23", "2024-02-29", "2023-12-31", "2021-11-03"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char toml[256];
        snprintf(toml, sizeof toml, "main = \"a.js\"\ncompatibility_date = \"%s\"\n", good[i]);
        write_file(dir, "wrangler.toml", toml);
        worker_config c;
        config_diag d;
        if (load_project(dir, &c, &d) != 0) fail_msg("%s rejected:\n%s", good[i], d.text.data);
        assert_int_equal(d.warnings, 0);
        assert_string_equal(c.compatibility_date, good[i]);
        worker_config_free(&c);
        config_diag_free(&d);
    }
    const char *bad[] = {"2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32",       "1999-12-31",
                         "2024-1-01",  "24-01-01",   "2024/01/01", "2024-01-01T00:00", " 2024-01-1",
                         "2024-+1-01", "2024- 1-01", "+024-01-01", "2024-02-30",       "2023-02-29",
                         "2024-04-31", "",           "today"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char toml[256];
        snprintf(toml, sizeof toml, "main = \"a.js\"\n\ncompatibility_date = \"%s\"\n", bad[i]);
        write_file(dir, "wrangler.toml", toml);
        worker_config c;
        config_diag d;
        if (load_project(dir, &c, &d) != -1) fail_msg("compatibility_date \"%s\" accepted", bad[i]);
        assert_int_equal(d.errors, 1);
        char want[256];
        snprintf(want, sizeof want,
                 "/wrangler.toml:3: error: \"compatibility_date\" must be a date written "
                 "YYYY-MM-DD, e.g. compatibility_date = \"2024-09-23\" (found \"%s\")",
                 bad[i]);
        assert_diag(dir, &d, want);
        worker_config_free(&c);
        config_diag_free(&d);
    }
    /* A TOML date literal is not a string. */
    write_file(dir, "wrangler.toml", "main = \"a.js\"\ncompatibility_date = 2024-09-23\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_diag(dir, &d,
                "/wrangler.toml:2: error: \"compatibility_date\" must be a string, e.g. "
                "compatibility_date = \"2024-09-23\" (found a local date)");
    assert_no_diag(&d, "using today's date");
    worker_config_free(&c);
    config_diag_free(&d);
    /* Flags must be strings. */
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-09-23\"\ncompatibility_flags = "
               "[\"a\", 1]\n");
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_diag(dir, &d,
                "/wrangler.toml:3: error: \"compatibility_flags\" must hold strings (found an "
                "integer)");
    assert_int_equal(c.compatibility_flag_count, 1);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_limits(void **state) {
    (void)state;
    char *dir = project_dir("limits");
    struct {
        const char *value;
        uint64_t want; /* 0: an error */
    } cases[] = {
        {"1", 1},      {"300000", 300000}, {"50", 50},  {"0", 0},    {"-5", 0},
        {"300001", 0}, {"\"50\"", 0},      {"50.0", 0}, {"true", 0}, {"9223372036854775807", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char toml[256];
        snprintf(toml, sizeof toml,
                 "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n[limits]\ncpu_ms = %s\n",
                 cases[i].value);
        write_file(dir, "wrangler.toml", toml);
        worker_config c;
        config_diag d;
        int rc = load_project(dir, &c, &d);
        if (cases[i].want) {
            if (rc != 0) fail_msg("cpu_ms = %s rejected:\n%s", cases[i].value, d.text.data);
            assert_int_equal(c.cpu_ms, cases[i].want);
        } else {
            if (rc != -1) fail_msg("cpu_ms = %s accepted", cases[i].value);
            assert_int_equal(d.errors, 1);
            assert_diag(dir, &d,
                        "/wrangler.toml:4: error: \"limits.cpu_ms\" must be an integer number of "
                        "milliseconds from 1 to 300000");
            assert_int_equal(c.cpu_ms, 0);
        }
        worker_config_free(&c);
        config_diag_free(&d);
    }
    /* Unknown limits keys warn with their line; a non-table [limits] is an error. */
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n[limits]\ncpu_ms = 10\n"
               "memory_mb = 128\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_int_equal(d.warnings, 1);
    assert_diag(dir, &d, "/wrangler.toml:5: warning: unknown key \"limits.memory_mb\" (ignored)");
    assert_int_equal(c.cpu_ms, 10);
    worker_config_free(&c);
    config_diag_free(&d);
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\nlimits = 50\n");
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_diag(dir, &d, "/wrangler.toml:3: error: \"limits\" must be a table");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_unknown_and_unsupported_keys(void **state) {
    (void)state;
    char *dir = project_dir("keys");
    write_file(dir, "wrangler.toml",
               "name = \"k\"\n"                        /* 1 */
               "main = \"a.js\"\n"                     /* 2 */
               "nmae = \"typo\"\n"                     /* 3 */
               "compatibility_date = \"2024-01-01\"\n" /* 4 */
               "account_id = \"abc\"\n"                /* 5: ignored quietly */
               "migrations = []\n"                     /* 6 */
               "\n"                                    /* 7 */
               "[build]\n"                             /* 8 */
               "command = \"npm run build\"\n"         /* 9 */
               "\n"                                    /* 10 */
               "[[kv_namespaces]]\n"                   /* 11 */
               "binding = \"KV\"\n"                    /* 12 */
               "id = \"x\"\n"                          /* 13 */
               "\n"                                    /* 14 */
               "[[d1_databases]]\n"                    /* 15 */
               "binding = \"DB\"\n");                  /* 16 */
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0); /* warnings only */
    assert_int_equal(d.errors, 0);
    assert_int_equal(d.warnings, 5);
    assert_diag(dir, &d, "/wrangler.toml:3: warning: unknown key \"nmae\" (ignored)\n");
    assert_diag(
        dir, &d,
        "/wrangler.toml:6: warning: \"migrations\" is not supported by hearth and is ignored: "
        "Durable Objects are not implemented yet\n");
    assert_diag(dir, &d,
                "/wrangler.toml:8: warning: \"build\" is not supported by hearth and is ignored: "
                "hearth runs the files as they are and does not run build commands\n");
    assert_diag(dir, &d,
                "/wrangler.toml:11: warning: \"kv_namespaces\" is not supported by hearth and is "
                "ignored\n");
    assert_diag(dir, &d,
                "/wrangler.toml:15: warning: \"d1_databases\" is not supported by hearth and is "
                "ignored\n");
    assert_no_diag(&d, "account_id");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_observability_and_tail_consumers(void **state) {
    (void)state;
    char *dir = project_dir("observability");
    worker_config c;
    config_diag d;
    write_file(dir, "wrangler.toml", "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n");
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_false(c.observability);
    assert_true(c.head_sampling_rate == 1.0);
    assert_int_equal(c.tail_consumer_count, 0);
    worker_config_free(&c);
    config_diag_free(&d);

    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "tail_consumers = [{ service = \"tailer\" }, { service = \"audit-2\" }]\n"
               "[observability]\nenabled = true\nhead_sampling_rate = 0.25\n");
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_int_equal(d.warnings, 0);
    assert_true(c.observability);
    assert_true(c.head_sampling_rate == 0.25);
    assert_int_equal(c.tail_consumer_count, 2);
    assert_string_equal(c.tail_consumers[0], "tailer");
    assert_string_equal(c.tail_consumers[1], "audit-2");
    worker_config_free(&c);
    config_diag_free(&d);

    /* wrangler's newer form */
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "[observability.logs]\nenabled = true\n");
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_true(c.observability);
    worker_config_free(&c);
    config_diag_free(&d);

    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n" /* 1, 2 */
               "tail_consumers = [{ name = \"x\" }, \"y\"]\n"           /* 3 */
               "[observability]\n"                                      /* 4 */
               "enabled = \"yes\"\n"                                    /* 5 */
               "head_sampling_rate = 2\n"                               /* 6 */
               "colour = 1\n");                                         /* 7 */
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 4);
    assert_diag(dir, &d,
                "/wrangler.toml:3: error: each entry of \"tail_consumers\" must name a Worker");
    assert_diag(dir, &d,
                "/wrangler.toml:5: error: \"observability.enabled\" must be true or false");
    assert_diag(dir, &d,
                "/wrangler.toml:6: error: \"observability.head_sampling_rate\" must be a number "
                "from 0 to 1");
    assert_diag(dir, &d, "/wrangler.toml:7: warning: unknown key \"observability.colour\"");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_services(void **state) {
    (void)state;
    char *dir = project_dir("services");
    worker_config c;
    config_diag d;
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "[[services]]\nbinding = \"B\"\nservice = \"backend\"\n"
               "[[services]]\nbinding = \"ADMIN\"\nservice = \"backend\"\n"
               "entrypoint = \"Admin\"\n");
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_int_equal(d.warnings, 0);
    assert_non_null(
        strstr(c.bindings_json, "{\"type\":\"service\",\"name\":\"B\",\"service\":\"backend\"}"));
    assert_non_null(strstr(c.bindings_json,
                           "{\"type\":\"service\",\"name\":\"ADMIN\",\"service\":\"backend\","
                           "\"entrypoint\":\"Admin\"}"));
    worker_config_free(&c);
    config_diag_free(&d);

    char *jdir = project_dir("services-json");
    write_file(jdir, "wrangler.json",
               "{ \"main\": \"a.js\", \"compatibility_date\": \"2024-01-01\",\n"
               "  \"services\": [{ \"binding\": \"B\", \"service\": \"backend\", "
               "\"entrypoint\": \"Api\" }] }\n");
    assert_int_equal(load_project(jdir, &c, &d), 0);
    assert_non_null(strstr(c.bindings_json, "{\"type\":\"service\",\"name\":\"B\",\"service\":"
                                            "\"backend\",\"entrypoint\":\"Api\"}"));
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(jdir);

    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n" /* 1, 2 */
               "[[services]]\nbinding = \"B\"\ncolour = 1\n"            /* 3-5 */
               "[[services]]\nservice = \"x\"\n"                        /* 6, 7 */
               "[[services]]\nbinding = \"C\"\nservice = \"x\"\n"       /* 8-10 */
               "entrypoint = 3\n");                                     /* 11 */
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 3);
    assert_diag(dir, &d, "/wrangler.toml:5: warning: unknown key \"services[0].colour\"");
    assert_diag(dir, &d, "/wrangler.toml:3: error: \"services[0].service\" is required");
    assert_diag(dir, &d, "/wrangler.toml:6: error: \"services[1].binding\" is required");
    assert_diag(dir, &d, "/wrangler.toml:11: error: \"services[2].entrypoint\" must be");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_ratelimits(void **state) {
    (void)state;
    char *dir = project_dir("ratelimits");
    worker_config c;
    config_diag d;
    /* Both forms become the upload metadata's ratelimit binding. */
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "[[ratelimits]]\nname = \"A\"\nnamespace_id = \"1001\"\n"
               "simple = { limit = 100, period = 60 }\n"
               "[[unsafe.bindings]]\nname = \"B\"\ntype = \"ratelimit\"\nnamespace_id = \"7\"\n"
               "simple = { limit = 5, period = 10 }\n");
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_int_equal(d.warnings, 0);
    assert_non_null(strstr(c.bindings_json,
                           "{\"type\":\"ratelimit\",\"name\":\"A\",\"namespace_id\":\"1001\","
                           "\"simple\":{\"limit\":100,\"period\":60}}"));
    assert_non_null(strstr(c.bindings_json,
                           "{\"type\":\"ratelimit\",\"name\":\"B\",\"namespace_id\":\"7\","
                           "\"simple\":{\"limit\":5,\"period\":10}}"));
    worker_config_free(&c);
    config_diag_free(&d);

    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"       /* 1, 2 */
               "[[ratelimits]]\nname = \"A\"\nnamespace_id = \"x\"\n"         /* 3-5 */
               "simple = { limit = 100, period = 60 }\ncolour = 1\n"          /* 6, 7 */
               "[[ratelimits]]\nname = \"B\"\nnamespace_id = \"1\"\n"         /* 8-10 */
               "simple = { limit = 0, period = 60 }\n"                        /* 11 */
               "[[unsafe.bindings]]\nname = \"C\"\ntype = \"ratelimit\"\n"    /* 12-14 */
               "namespace_id = \"1\"\nsimple = { limit = 1, period = 120 }\n" /* 15, 16 */
               "[unsafe.metadata]\nx = 1\n");                                 /* 17, 18 */
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 3);
    assert_diag(dir, &d,
                "/wrangler.toml:5: error: rate limit binding \"A\": \"ratelimits[0].namespace_id\" "
                "must be a string holding a positive integer, e.g. \"1001\" (got \"x\")");
    assert_diag(dir, &d, "/wrangler.toml:7: warning: unknown key \"ratelimits[0].colour\"");
    assert_diag(
        dir, &d,
        "/wrangler.toml:11: error: rate limit binding \"B\": \"ratelimits[1].simple.limit\" "
        "must be a positive integer (at most 1000000000), got 0");
    assert_diag(dir, &d,
                "/wrangler.toml:16: error: rate limit binding \"C\": "
                "\"unsafe.bindings[0].simple.period\" must be 10 or 60 (seconds), got 120");
    assert_diag(dir, &d, "/wrangler.toml:17: warning: \"unsafe.metadata\" is not supported");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_routes(void **state) {
    (void)state;
    char *dir = project_dir("routes");
    worker_config c;
    config_diag d;
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "routes = [\"example.com/*\", { pattern = \"api.example.com/v1/*\", zone_name = "
               "\"example.com\" }]\n"
               "[version_metadata]\nbinding = \"VM\"\n");
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_int_equal(d.warnings, 0); /* both keys are supported */
    worker_config_free(&c);
    config_diag_free(&d);

    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "route = { pattern = \"example.com/*\" }\n");
    assert_int_equal(load_project(dir, &c, &d), 0);
    worker_config_free(&c);
    config_diag_free(&d);

    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\n"                     /* 1 */
               "compatibility_date = \"2024-01-01\"\n" /* 2 */
               "route = \"a.example.com/*\"\n"         /* 3 */
               "routes = [\n"                          /* 4 */
               "  5,\n"                                /* 5 */
               "  { zone_name = \"example.com\" },\n"  /* 6 */
               "  \"\",\n"                             /* 7 */
               "]\n");                                 /* 8 */
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 4);
    assert_diag(dir, &d, "/wrangler.toml:3: error: give either \"route\" or \"routes\", not both");
    assert_diag(dir, &d,
                "/wrangler.toml:5: error: \"routes\" must hold route patterns: strings like "
                "\"example.com/*\" or tables like { pattern = \"example.com/*\" } (found an "
                "integer)");
    assert_diag(dir, &d, "/wrangler.toml:6: error: each entry of \"routes\" needs a \"pattern\"");
    assert_diag(dir, &d, "(found an empty string)");
    worker_config_free(&c);
    config_diag_free(&d);

    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\nroutes = \"x.com/*\"\n");
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_diag(dir, &d, "/wrangler.toml:3: error: \"routes\" must be an array");
    worker_config_free(&c);
    config_diag_free(&d);

    /* Patterns are checked by the same rules the platform routes by. */
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "routes = [\n"
               "  \"example.com/?page=1\",\n" /* 4 */
               "  \"api.*.example.com/*\",\n" /* 5 */
               "  \"https://ok.example.com/*\",\n"
               "]\n");
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 2);
    assert_diag(dir, &d,
                "/wrangler.toml:4: error: \"routes\": route \"example.com/?page=1\": a query or "
                "fragment is not allowed");
    assert_diag(dir, &d,
                "/wrangler.toml:5: error: \"routes\": route \"api.*.example.com/*\": \"*\" is "
                "allowed only at the start of the host");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_errors_name_file_line_and_key(void **state) {
    (void)state;
    char *dir = project_dir("types");
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\n"                         /* 1 */
               "compatibility_date = \"2024-01-01\"\n"     /* 2 */
               "compatibility_flags = \"nodejs_compat\"\n" /* 3 */
               "upload_source_maps = \"yes\"\n"            /* 4 */
               "vars = [1]\n");                            /* 5 */
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 3);
    assert_diag(dir, &d,
                "/wrangler.toml:3: error: \"compatibility_flags\" must be an array, e.g. "
                "compatibility_flags = [\"nodejs_compat\"] (found a string)\n");
    assert_diag(dir, &d,
                "/wrangler.toml:4: error: \"upload_source_maps\" must be a boolean, e.g. "
                "upload_source_maps = true (found a string)\n");
    assert_diag(dir, &d,
                "/wrangler.toml:5: error: \"vars\" must be a table, e.g. [vars] API_HOST = "
                "\"example.com\" (found an array)\n");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

/* ------------------------------------------------------------------------------------------
 * wrangler: JSON and JSONC files
 * ---------------------------------------------------------------------------------------- */

static void test_wrangler_json(void **state) {
    (void)state;
    char *dir = project_dir("json-app");
    write_file(dir, "wrangler.json",
               "{\n"                                                            /* 1 */
               "  \"$schema\": \"node_modules/wrangler/config-schema.json\",\n" /* 2 */
               "  \"main\": \"./src/worker.js\",\n"                             /* 3 */
               "  \"compatibility_date\": \"2024-09-23\",\n"                    /* 4 */
               "  \"vars\": {\n"                                                /* 5 */
               "    \"S\": \"text\",\n"                                         /* 6 */
               "    \"N\": 5,\n"                                                /* 7 */
               "    \"O\": {\"a\": [true, null]}\n"                             /* 8 */
               "  },\n"                                                         /* 9 */
               "  \"limits\": {\"cpu_ms\": 100},\n"                             /* 10 */
               "  \"unknwn\": 1,\n"                                             /* 11 */
               "  \"r2_buckets\": []\n"                                         /* 12 */
               "}\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_string_equal(c.name, "json-app");
    assert_string_equal(c.main, "src/worker.js");
    assert_int_equal(c.cpu_ms, 100);
    assert_int_equal(d.warnings, 2);
    assert_diag(dir, &d, "/wrangler.json:11: warning: unknown key \"unknwn\" (ignored)\n");
    assert_diag(dir, &d,
                "/wrangler.json:12: warning: \"r2_buckets\" is not supported by hearth and is "
                "ignored\n");
    json_t *b = bindings_of(&c);
    assert_int_equal(json_array_size(b), 3);
    assert_text_binding(b, "S", "plain_text", "text");
    assert_json_binding(b, "N", "5");
    assert_json_binding(b, "O", "{\"a\": [true, null]}");
    json_decref(b);
    worker_config_free(&c);
    config_diag_free(&d);

    /* Errors name the JSON file and the key's line. */
    write_file(dir, "wrangler.json",
               "{\n"
               "  \"main\": \"a.js\",\n"
               "  \"compatibility_date\": \"2024-09-23\",\n"
               "  \"limits\": {\n"
               "    \"cpu_ms\": \"fast\"\n"
               "  }\n"
               "}\n");
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_diag(dir, &d, "/wrangler.json:5: error: \"limits.cpu_ms\" must be an integer");
    worker_config_free(&c);
    config_diag_free(&d);

    /* Not an object. */
    write_file(dir, "wrangler.json", "[1, 2]\n");
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_diag(dir, &d, "/wrangler.json:1: error: the configuration must be a JSON object");
    worker_config_free(&c);
    config_diag_free(&d);

    /* Syntax errors name file, line and column. */
    write_file(dir, "wrangler.json", "{\n  \"main\": \"a.js\"\n  \"x\": 1\n}\n");
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_diag(dir, &d, "/wrangler.json:3:5: error: ");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_jsonc(void **state) {
    (void)state;
    char *dir = project_dir("jsonc-app");
    write_file(dir, "wrangler.jsonc",
               "/**\n"                                                                 /* 1 */
               " * For more details, see https://developers.cloudflare.com/workers/\n" /* 2 */
               " */\n"                                                                 /* 3 */
               "{\n"                                                                   /* 4 */
               "  \"name\": \"jsonc-app\", // the Worker\n"                            /* 5 */
               "  \"main\": \"src/index.js\",\n"                                       /* 6 */
               "  \"compatibility_date\": \"2025-01-01\",\n"                           /* 7 */
               "  /* \"vars\": { \"OFF\": \"1\" }, */\n"                               /* 8 */
               "  \"vars\": {\n"                                                       /* 9 */
               "    \"URL\": \"https://example.com/*\", // a pattern\n"                /* 10 */
               "  },\n"                                                                /* 11 */
               "  \"observability\": { \"enabled\": true },\n"                         /* 12 */
               "}\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_string_equal(c.name, "jsonc-app");
    assert_string_equal(c.compatibility_date, "2025-01-01");
    assert_int_equal(d.warnings, 0);
    assert_true(c.observability);
    json_t *b = bindings_of(&c);
    assert_int_equal(json_array_size(b), 1);
    assert_text_binding(b, "URL", "plain_text", "https://example.com/*");
    json_decref(b);
    worker_config_free(&c);
    config_diag_free(&d);

    /* wrangler.toml wins when several config files exist. */
    write_file(dir, "wrangler.toml",
               "name = \"from-toml\"\nmain = \"a.js\"\n"
               "compatibility_date = \"2024-01-01\"\n");
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_string_equal(c.name, "from-toml");
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

/* ------------------------------------------------------------------------------------------
 * wrangler: module rules
 * ---------------------------------------------------------------------------------------- */

static void test_wrangler_default_module_rules(void **state) {
    (void)state;
    char *dir = project_dir("rules");
    write_file(dir, "wrangler.toml", kMinimalToml);
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    struct {
        const char *path;
        int kind;
    } cases[] = {
        {"src/a.js", JS_MODULE_ESM},
        {"index.js", JS_MODULE_ESM},
        {"lib/x/y/z.mjs", JS_MODULE_ESM},
        {"a/b/c.txt", JS_MODULE_TEXT},
        {"page.html", JS_MODULE_TEXT},
        {"x.wasm", JS_MODULE_WASM},
        {"deep/dir/x.wasm", JS_MODULE_WASM},
        {"x.json", JS_MODULE_JSON},
        {"blob.bin", JS_MODULE_DATA},
        {"x.md", -1},
        {"src/a.ts", -1},
        {"Makefile", -1},
        {"a.js.map", -1},
        {"a.json5", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int kind = worker_config_module_kind(&c, cases[i].path);
        if (kind != cases[i].kind)
            fail_msg("%s: kind %d, want %d", cases[i].path, kind, cases[i].kind);
    }
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_user_module_rules(void **state) {
    (void)state;
    char *dir = project_dir("userrules");
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "[[rules]]\n"
               "type = \"Text\"\n"
               "globs = [\"**/*.md\", \"templates/*.tmpl\"]\n"
               "fallthrough = true\n"
               "\n"
               "[[rules]]\n"
               "type = \"Data\"\n"
               "globs = [\"**/*.txt\"]\n" /* before the default Text rule: it wins */
               "fallthrough = false\n"    /* replaces the default Data rule, silently */
               "\n"
               "[[rules]]\n"
               "type = \"ESModule\"\n"
               "globs = [\"src/**/*.esm\"]\n"
               "fallthrough = true\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    if (d.warnings) fail_msg("%s", d.text.data);
    struct {
        const char *path;
        int kind;
    } cases[] = {
        {"x.md", JS_MODULE_TEXT},
        {"docs/guide/x.md", JS_MODULE_TEXT},
        {"templates/a.tmpl", JS_MODULE_TEXT},
        {"templates/sub/a.tmpl", -1}, /* '*' does not cross '/' */
        {"other/a.tmpl", -1},
        {"a/b/c.txt", JS_MODULE_DATA},
        {"page.html", JS_MODULE_TEXT},
        {"src/a.js", JS_MODULE_ESM},
        /* "**" matches any number of directories, also in the middle of a glob. */
        {"src/a.esm", JS_MODULE_ESM},
        {"src/x/a.esm", JS_MODULE_ESM},
        {"src/x/y/a.esm", JS_MODULE_ESM},
        {"lib/a.esm", -1},
        {"x.wasm", JS_MODULE_WASM},
        /* The Data rule has no fallthrough, so it replaced wrangler's default Data rule. */
        {"x.bin", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int kind = worker_config_module_kind(&c, cases[i].path);
        if (kind != cases[i].kind)
            fail_msg("%s: kind %d, want %d", cases[i].path, kind, cases[i].kind);
    }
    /* User rules come first, then wrangler's defaults but the replaced Data one. */
    assert_int_equal(c.rule_count, 3 + 4);
    assert_true(c.rules[0].fallthrough);
    assert_false(c.rules[1].fallthrough);
    assert_true(c.rules[2].fallthrough);
    assert_int_equal(c.rules[0].glob_count, 2);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_rule_without_fallthrough_warns(void **state) {
    (void)state;
    char *dir = project_dir("rulewarn");
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n"
               "[[rules]]\ntype = \"Text\"\nglobs = [\"**/*.md\"]\n");
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), 0);
    assert_non_null(strstr(
        d.text.data, "wrangler.toml:3: warning: this Text rule replaces the default Text rule"));
    assert_int_equal(worker_config_module_kind(&c, "a.md"), JS_MODULE_TEXT);
    assert_int_equal(worker_config_module_kind(&c, "a.txt"), -1);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

static void test_wrangler_bad_module_rules(void **state) {
    (void)state;
    char *dir = project_dir("badrules");
    write_file(dir, "wrangler.toml",
               "main = \"a.js\"\ncompatibility_date = \"2024-01-01\"\n" /* 1-2 */
               "[[rules]]\n"                                            /* 3 */
               "type = \"CommonJS\"\n"                                  /* 4 */
               "globs = [\"**/*.cjs\"]\n"                               /* 5 */
               "[[rules]]\n"                                            /* 6 */
               "type = \"Markdown\"\n"                                  /* 7 */
               "globs = [\"**/*.md\"]\n"                                /* 8 */
               "[[rules]]\n"                                            /* 9 */
               "type = \"Text\"\n"                                      /* 10 */
               "[[rules]]\n"                                            /* 11 */
               "type = \"Text\"\n"                                      /* 12 */
               "globs = [\"**/*.a\", 3]\n");                            /* 13 */
    worker_config c;
    config_diag d;
    assert_int_equal(load_project(dir, &c, &d), -1);
    assert_int_equal(d.errors, 4);
    assert_diag(dir, &d,
                "/wrangler.toml:4: error: rule type \"CommonJS\" is not supported: hearth runs "
                "ES modules\n");
    assert_diag(dir, &d,
                "/wrangler.toml:7: error: \"rules.type\" must be one of ESModule, Text, Data, "
                "CompiledWasm, JSON (found \"Markdown\")\n");
    assert_diag(dir, &d, "/wrangler.toml:9: error: each rule needs \"type\" and \"globs\"\n");
    assert_diag(dir, &d, "/wrangler.toml:13: error: \"rules.globs\" must hold strings\n");
    /* The valid glob of the last rule still counts. */
    assert_int_equal(worker_config_module_kind(&c, "x.a"), JS_MODULE_TEXT);
    assert_int_equal(worker_config_module_kind(&c, "x.cjs"), -1);
    worker_config_free(&c);
    config_diag_free(&d);
    remove_project(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonc_plain_json),
        cmocka_unit_test(test_jsonc_comments),
        cmocka_unit_test(test_jsonc_comment_markers_in_strings),
        cmocka_unit_test(test_jsonc_trailing_commas),
        cmocka_unit_test(test_jsonc_errors),
        cmocka_unit_test(test_jsonc_key_lines),
        cmocka_unit_test(test_jsonc_length_delimited),
        cmocka_unit_test(test_dotenv_basic),
        cmocka_unit_test(test_dotenv_quotes),
        cmocka_unit_test(test_dotenv_multiline),
        cmocka_unit_test(test_dotenv_crlf),
        cmocka_unit_test(test_dotenv_errors),
        cmocka_unit_test(test_wrangler_toml_full),
        cmocka_unit_test(test_wrangler_vars_are_binary_safe),
        cmocka_unit_test(test_wrangler_dev_vars),
        cmocka_unit_test(test_wrangler_environments),
        cmocka_unit_test(test_wrangler_environment_errors_and_secrets),
        cmocka_unit_test(test_wrangler_no_vars_gives_empty_bindings),
        cmocka_unit_test(test_wrangler_missing_config),
        cmocka_unit_test(test_wrangler_toml_syntax_error),
        cmocka_unit_test(test_wrangler_name_defaults_to_directory),
        cmocka_unit_test(test_wrangler_name_from_cwd),
        cmocka_unit_test(test_wrangler_name_validation),
        cmocka_unit_test(test_wrangler_main),
        cmocka_unit_test(test_wrangler_compatibility_date_default),
        cmocka_unit_test(test_wrangler_compatibility_date_validation),
        cmocka_unit_test(test_wrangler_limits),
        cmocka_unit_test(test_wrangler_unknown_and_unsupported_keys),
        cmocka_unit_test(test_wrangler_routes),
        cmocka_unit_test(test_wrangler_observability_and_tail_consumers),
        cmocka_unit_test(test_wrangler_ratelimits),
        cmocka_unit_test(test_wrangler_services),
        cmocka_unit_test(test_wrangler_errors_name_file_line_and_key),
        cmocka_unit_test(test_wrangler_json),
        cmocka_unit_test(test_wrangler_jsonc),
        cmocka_unit_test(test_wrangler_default_module_rules),
        cmocka_unit_test(test_wrangler_user_module_rules),
        cmocka_unit_test(test_wrangler_rule_without_fallthrough_warns),
        cmocka_unit_test(test_wrangler_bad_module_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
