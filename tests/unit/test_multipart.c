/* Unit tests for the multipart/form-data parser (src/net/multipart.c): the boundary from
 * Content-Type, realistic uploads as wrangler (undici's FormData) and curl send them, the edge
 * cases of RFC 2046's grammar, every error message, and a randomized round trip of generated
 * bodies (all boundary lengths and characters, binary data full of near-delimiters).
 *
 * Every body is parsed from an exact-size heap copy, so that AddressSanitizer catches any
 * read past its end, and every part's data is checked to point into that copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "net/multipart.h"

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------------- */

/* A parsed body with the exact-size copy its parts point into. */
typedef struct parsed {
    multipart m;
    char *body;
    size_t len;
} parsed;

static int parse_copy(const char *body, size_t len, const char *boundary, parsed *out, char *err,
                      size_t errlen) {
    out->body = malloc(len ? len : 1);
    if (len) memcpy(out->body, body, len);
    out->len = len;
    int rc = multipart_parse(out->body, len, boundary, &out->m, err, errlen);
    if (rc == 0) {
        for (size_t i = 0; i < out->m.count; i++) {
            const multipart_part *p = &out->m.parts[i];
            if (!p->data || p->data < out->body || p->len > len ||
                p->data + p->len > out->body + len)
                fail_msg("part %zu: data outside the body", i + 1);
            if (!p->name) fail_msg("part %zu: no name", i + 1);
        }
    } else {
        if (out->m.count != 0 || out->m.parts != NULL) fail_msg("failed parse left parts");
    }
    return rc;
}

static void parsed_free(parsed *p) {
    multipart_free(&p->m);
    free(p->body);
}

static void parse_ok(const char *body, size_t len, const char *boundary, parsed *out) {
    char err[256] = "";
    if (parse_copy(body, len, boundary, out, err, sizeof err) != 0)
        fail_msg("unexpected error: %s", err);
}

/* Asserts that the body is rejected with exactly this message. */
static void expect_error_n(const char *body, size_t len, const char *boundary,
                           const char *expected) {
    parsed p;
    char err[256] = "";
    if (parse_copy(body, len, boundary, &p, err, sizeof err) == 0) {
        parsed_free(&p);
        fail_msg("accepted, but should fail with \"%s\"", expected);
    }
    free(p.body);
    if (strcmp(err, expected) != 0) fail_msg("error \"%s\", expected \"%s\"", err, expected);
}

static void expect_error(const char *body, const char *boundary, const char *expected) {
    expect_error_n(body, strlen(body), boundary, expected);
}

static void assert_part(const multipart_part *p, const char *name, const char *filename,
                        const char *content_type, const char *data, size_t len) {
    assert_non_null(p);
    assert_string_equal(p->name, name);
    if (filename) {
        assert_non_null(p->filename);
        assert_string_equal(p->filename, filename);
    } else {
        assert_null(p->filename);
    }
    if (content_type) {
        assert_non_null(p->content_type);
        assert_string_equal(p->content_type, content_type);
    } else {
        assert_null(p->content_type);
    }
    assert_int_equal(p->len, len);
    if (len) assert_memory_equal(p->data, data, len);
}

static void assert_text_part(const multipart_part *p, const char *name, const char *data) {
    assert_part(p, name, NULL, NULL, data, strlen(data));
}

static void expect_boundary(const char *content_type, const char *expected) {
    char err[256] = "";
    char *b = multipart_boundary(content_type, err, sizeof err);
    if (!b) fail_msg("[%s]: %s", content_type, err);
    if (strcmp(b, expected) != 0)
        fail_msg("[%s]: boundary [%s], expected [%s]", content_type, b, expected);
    free(b);
}

static void expect_boundary_error(const char *content_type, const char *expected) {
    char err[256] = "";
    char *b = multipart_boundary(content_type, err, sizeof err);
    if (b) {
        free(b);
        fail_msg("[%s]: accepted, expected \"%s\"", content_type, expected);
    }
    if (strcmp(err, expected) != 0)
        fail_msg("[%s]: \"%s\", expected \"%s\"", content_type, err, expected);
}

/* ------------------------------------------------------------------------------------------
 * The boundary.
 * ---------------------------------------------------------------------------------------- */

static void test_boundary(void **state) {
    (void)state;
    expect_boundary("multipart/form-data; boundary=----formdata-undici-026795566464",
                    "----formdata-undici-026795566464");
    expect_boundary("multipart/form-data; boundary=------------------------d74496d66958873e",
                    "------------------------d74496d66958873e");
    expect_boundary("multipart/form-data; boundary=\"simple boundary\"", "simple boundary");
    expect_boundary("Multipart/Form-Data; BOUNDARY=abc", "abc");
    expect_boundary("multipart/form-data;boundary=abc", "abc");
    expect_boundary("  multipart/form-data ; boundary = abc ; charset=utf-8", "abc");
    expect_boundary("multipart/form-data; charset=\"a;boundary=wrong\"; boundary=right", "right");
    expect_boundary("multipart/form-data; boundary=\"===============0123456789==\"",
                    "===============0123456789==");
    /* RFC 2046's characters are allowed unquoted too: clients do send "=" and ":" bare. */
    expect_boundary("multipart/form-data; boundary=a=b:c?d(e),f/g'h+i_j.k-l",
                    "a=b:c?d(e),f/g'h+i_j.k-l");
    expect_boundary("multipart/form-data; boundary=\"(),/:=? '+_-.\"", "(),/:=? '+_-.");
    expect_boundary("multipart/form-data; boundary=\"a'b\"; x=1", "a'b");
    /* 70 characters is the maximum. */
    expect_boundary("multipart/form-data; boundary="
                    "0123456789012345678901234567890123456789012345678901234567890123456789",
                    "0123456789012345678901234567890123456789012345678901234567890123456789");
    expect_boundary("multipart/form-data; boundary=1", "1");
    expect_boundary("multipart/form-data; boundary=x;", "x");
}

static void test_boundary_errors(void **state) {
    (void)state;
    expect_boundary_error(NULL, "no Content-Type");
    expect_boundary_error("", "Content-Type is not multipart/form-data");
    expect_boundary_error("text/plain; boundary=x", "Content-Type is text/plain, not "
                                                    "multipart/form-data");
    expect_boundary_error("multipart/mixed; boundary=x",
                          "Content-Type is multipart/mixed, not multipart/form-data");
    expect_boundary_error("multipart/form-datax; boundary=x",
                          "Content-Type is multipart/form-datax, not multipart/form-data");
    expect_boundary_error("multipart; boundary=x", "Content-Type is not multipart/form-data");
    expect_boundary_error("multipart/form-data", "Content-Type has no boundary parameter");
    expect_boundary_error("multipart/form-data; charset=utf-8",
                          "Content-Type has no boundary parameter");
    expect_boundary_error("multipart/form-data; boundaryx=abc",
                          "Content-Type has no boundary parameter");
    expect_boundary_error("multipart/form-data; boundary=a; boundary=b",
                          "Content-Type has more than one boundary parameter");
    expect_boundary_error("multipart/form-data; boundary=\"\"", "the boundary is empty");
    expect_boundary_error("multipart/form-data; boundary=",
                          "Content-Type: a parameter has no value");
    expect_boundary_error("multipart/form-data; boundary",
                          "Content-Type: a parameter has no value");
    expect_boundary_error("multipart/form-data; =abc", "Content-Type: a parameter has no name");
    expect_boundary_error("multipart/form-data; boundary=\"abc",
                          "Content-Type: a quoted string is not terminated");
    expect_boundary_error("multipart/form-data; boundary=\"a\tb\"",
                          "the boundary contains byte 0x09, which RFC 2046 does not allow");
    expect_boundary_error("multipart/form-data; boundary=\"a\x01\"",
                          "Content-Type: a quoted string contains a control character");
    expect_boundary_error("multipart/form-data boundary=abc",
                          "Content-Type: expected \";\" between parameters");
    expect_boundary_error("multipart/form-data; boundary=ab cd",
                          "Content-Type: expected \";\" between parameters");
    expect_boundary_error("multipart/form-data; boundary=\"abc \"",
                          "the boundary ends with a space");
    expect_boundary_error("multipart/form-data; boundary=ab*c",
                          "the boundary contains '*', which RFC 2046 does not allow");
    expect_boundary_error("multipart/form-data; boundary=\"ab\\\\c\"",
                          "the boundary contains '\\', which RFC 2046 does not allow");
    expect_boundary_error("multipart/form-data; boundary=\"\xc3\xa9\"",
                          "the boundary contains byte 0xC3, which RFC 2046 does not allow");
    expect_boundary_error("multipart/form-data; boundary="
                          "01234567890123456789012345678901234567890123456789012345678901234567890",
                          "the boundary is longer than 70 characters");

    /* No error buffer is fine. */
    assert_null(multipart_boundary("text/plain", NULL, 0));
}

/* ------------------------------------------------------------------------------------------
 * Realistic uploads.
 * ---------------------------------------------------------------------------------------- */

#define UNDICI "----formdata-undici-026795566464"

/* A .wasm module with the bytes that trip naive parsers: CR, LF, NUL, the boundary without a
 * line break before it, and line breaks followed by boundary look-alikes. */
static const char wasm[] = "\0asm\x01\0\0\0\x01\r\n\x60\x00\x01\x7f"
                           "--" UNDICI "\r\n"
                           "\r\n--" UNDICI "X\r\n"
                           "\r\n--" UNDICI "-x"
                           "\r\n--" UNDICI " x\r\n"
                           "\r\n--" UNDICI "\t\r"
                           "\r\n--"
                           "----formdata-undici-02679556646\r\n"
                           "\n--" UNDICI "\r\n"
                           "\r\r\n\n\xff\xfe\r\n";

static const char metadata[] =
    "{\"main_module\":\"worker.js\",\"compatibility_date\":\"2024-09-23\","
    "\"bindings\":[{\"type\":\"plain_text\",\"name\":\"GREETING\",\"text\":\"hi\"}]}";

static const char worker_js[] = "import { add } from \"./lib/math.js\";\n"
                                "import wasm from \"./add.wasm\";\n"
                                "export default {\n"
                                "  async fetch(request) {\n"
                                "    return new Response(`--${add(1, 2)}--\\r\\n`);\n"
                                "  },\n"
                                "};\n";

static const char math_js[] = "export const add = (a, b) => a + b;\r\n";

static const char source_map[] =
    "{\"version\":3,\"sources\":[\"../src/index.ts\"],\"mappings\":\"AAAA;AACA\"}";

/* The body undici's FormData (which wrangler uses) produces for a module worker version. */
static void build_wrangler_body(buf *b) {
    buf_puts(b, "--" UNDICI "\r\n"
                "Content-Disposition: form-data; name=\"metadata\"; filename=\"blob\"\r\n"
                "Content-Type: application/json\r\n\r\n");
    buf_puts(b, metadata);
    buf_puts(b, "\r\n--" UNDICI "\r\n"
                "Content-Disposition: form-data; name=\"worker.js\"; filename=\"worker.js\"\r\n"
                "Content-Type: application/javascript+module\r\n\r\n");
    buf_puts(b, worker_js);
    buf_puts(b, "\r\n--" UNDICI "\r\n"
                "Content-Disposition: form-data; name=\"lib/math.js\"; filename=\"lib/math.js\"\r\n"
                "Content-Type: application/javascript+module\r\n\r\n");
    buf_puts(b, math_js);
    buf_puts(b, "\r\n--" UNDICI "\r\n"
                "Content-Disposition: form-data; name=\"add.wasm\"; filename=\"add.wasm\"\r\n"
                "Content-Type: application/wasm\r\n\r\n");
    buf_append(b, wasm, sizeof wasm - 1);
    buf_puts(b, "\r\n--" UNDICI "\r\n"
                "Content-Disposition: form-data; name=\"worker.js.map\"; "
                "filename=\"worker.js.map\"\r\n"
                "Content-Type: application/source-map\r\n\r\n");
    buf_puts(b, source_map);
    buf_puts(b, "\r\n--" UNDICI "--\r\n");
}

static void check_wrangler_parts(const multipart *m) {
    assert_int_equal(m->count, 5);
    assert_part(&m->parts[0], "metadata", "blob", "application/json", metadata,
                sizeof metadata - 1);
    assert_part(&m->parts[1], "worker.js", "worker.js", "application/javascript+module", worker_js,
                sizeof worker_js - 1);
    assert_part(&m->parts[2], "lib/math.js", "lib/math.js", "application/javascript+module",
                math_js, sizeof math_js - 1);
    assert_part(&m->parts[3], "add.wasm", "add.wasm", "application/wasm", wasm, sizeof wasm - 1);
    assert_part(&m->parts[4], "worker.js.map", "worker.js.map", "application/source-map",
                source_map, sizeof source_map - 1);
}

static void test_wrangler_upload(void **state) {
    (void)state;
    buf b = {0};
    build_wrangler_body(&b);
    char err[128];
    char *boundary = multipart_boundary("multipart/form-data; boundary=" UNDICI, err, sizeof err);
    assert_non_null(boundary);

    parsed p;
    parse_ok(b.data, b.len, boundary, &p);
    check_wrangler_parts(&p.m);
    /* Zero copy: the wasm bytes are the body's own. */
    const char *at = memmem(p.body, p.len, "\0asm", 4);
    assert_ptr_equal(p.m.parts[3].data, at);

    assert_ptr_equal(multipart_find(&p.m, "add.wasm"), &p.m.parts[3]);
    assert_ptr_equal(multipart_find(&p.m, "metadata"), &p.m.parts[0]);
    assert_null(multipart_find(&p.m, "worker"));
    assert_null(multipart_find(&p.m, "METADATA"));
    assert_null(multipart_find(NULL, "metadata"));
    assert_null(multipart_find(&p.m, NULL));
    parsed_free(&p);
    assert_null(p.m.parts);
    assert_int_equal(p.m.count, 0);
    free(boundary);
    buf_free(&b);
}

/* Every prefix of a valid body that stops before the close delimiter is complete is rejected,
 * with an error that says the body is cut short. */
static void test_truncated_bodies(void **state) {
    (void)state;
    buf b = {0};
    build_wrangler_body(&b);
    size_t full = b.len - 2; /* without the CRLF after "--boundary--" */
    for (size_t n = 0; n < full; n++) {
        parsed p;
        char err[256] = "";
        if (parse_copy(b.data, n, UNDICI, &p, err, sizeof err) == 0) {
            parsed_free(&p);
            fail_msg("prefix of %zu bytes accepted", n);
        }
        free(p.body);
        if (n == 0)
            assert_string_equal(err, "the body is empty");
        else if (n < 2 + strlen(UNDICI))
            assert_string_equal(err, "no boundary found in the body");
        else if (!strstr(err, "the body ends before the closing boundary"))
            fail_msg("prefix of %zu bytes: %s", n, err);
    }
    for (size_t n = full; n <= b.len; n++) {
        parsed p;
        parse_ok(b.data, n, UNDICI, &p);
        check_wrangler_parts(&p.m);
        parsed_free(&p);
    }
    buf_free(&b);
}

/* What `curl -F 'metadata=@meta.json;type=application/json' -F 'index.js=@index.js;...'`
 * sends. */
static void test_curl_upload(void **state) {
    (void)state;
    const char *body =
        "--------------------------d74496d66958873e\r\n"
        "Content-Disposition: form-data; name=\"metadata\"; filename=\"meta.json\"\r\n"
        "Content-Type: application/json\r\n"
        "\r\n"
        "{\"main_module\":\"index.js\"}\n"
        "\r\n"
        "--------------------------d74496d66958873e\r\n"
        "Content-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\n"
        "Content-Type: application/javascript+module\r\n"
        "\r\n"
        "export default { fetch() { return new Response('ok'); } };\n"
        "\r\n"
        "--------------------------d74496d66958873e\r\n"
        "Content-Disposition: form-data; name=\"message\"\r\n"
        "\r\n"
        "first deploy\r\n"
        "--------------------------d74496d66958873e--\r\n";
    parsed p;
    parse_ok(body, strlen(body), "------------------------d74496d66958873e", &p);
    assert_int_equal(p.m.count, 3);
    assert_part(&p.m.parts[0], "metadata", "meta.json", "application/json",
                "{\"main_module\":\"index.js\"}\n", 27);
    assert_part(&p.m.parts[1], "index.js", "index.js", "application/javascript+module",
                "export default { fetch() { return new Response('ok'); } };\n", 59);
    assert_text_part(&p.m.parts[2], "message", "first deploy");
    parsed_free(&p);
}

static void test_empty_parts(void **state) {
    (void)state;
    /* An empty value, a headers-only part whose empty line doubles as the delimiter's CRLF
     * (RFC 2046: body-part := headers [CRLF *OCTET]), and an empty name. */
    const char *body = "--b\r\n"
                       "Content-Disposition: form-data; name=\"empty\"\r\n"
                       "\r\n"
                       "\r\n--b\r\n"
                       "Content-Disposition: form-data; name=\"nobody\"\r\n"
                       "\r\n--b\r\n"
                       "Content-Disposition: form-data; name=\"\"\r\n"
                       "\r\n"
                       "x\r\n--b--";
    parsed p;
    parse_ok(body, strlen(body), "b", &p);
    assert_int_equal(p.m.count, 3);
    assert_text_part(&p.m.parts[0], "empty", "");
    assert_text_part(&p.m.parts[1], "nobody", "");
    assert_text_part(&p.m.parts[2], "", "x");
    assert_ptr_equal(multipart_find(&p.m, ""), &p.m.parts[2]);
    parsed_free(&p);

    /* An empty FormData: undici sends only the close delimiter. */
    parse_ok("--b--\r\n", 7, "b", &p);
    assert_int_equal(p.m.count, 0);
    assert_null(p.m.parts);
    assert_null(multipart_find(&p.m, "x"));
    parsed_free(&p);
}

/* A file field with nothing but its name and filename: no Content-Type, no data. */
static void test_filename_only_part(void **state) {
    (void)state;
    const char *body = "--b\r\n"
                       "Content-Disposition: form-data; name=\"upload\"; filename=\"\"\r\n"
                       "\r\n"
                       "\r\n--b\r\n"
                       "Content-Disposition: form-data; name=\"f\"; filename=\"empty.txt\"\r\n"
                       "\r\n"
                       "\r\n--b--\r\n";
    parsed p;
    parse_ok(body, strlen(body), "b", &p);
    assert_int_equal(p.m.count, 2);
    assert_part(&p.m.parts[0], "upload", "", NULL, "", 0);
    assert_part(&p.m.parts[1], "f", "empty.txt", NULL, "", 0);
    parsed_free(&p);

    expect_error("--b\r\nContent-Disposition: form-data; filename=\"a.txt\"\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition has no name parameter");
}

static void test_many_parts(void **state) {
    (void)state;
    buf b = {0};
    for (int i = 0; i < 1000; i++)
        buf_printf(&b, "--bnd\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nvalue %d\r\n",
                   i, i * 7);
    buf_puts(&b, "--bnd--\r\n");
    parsed p;
    parse_ok(b.data, b.len, "bnd", &p);
    assert_int_equal(p.m.count, 1000);
    for (int i = 0; i < 1000; i += 111) {
        char name[16], value[32];
        snprintf(name, sizeof name, "f%d", i);
        snprintf(value, sizeof value, "value %d", i * 7);
        assert_text_part(multipart_find(&p.m, name), name, value);
        assert_ptr_equal(multipart_find(&p.m, name), &p.m.parts[i]);
    }
    parsed_free(&p);

    /* One more is too many. */
    b.len -= strlen("--bnd--\r\n");
    buf_puts(&b, "--bnd\r\nContent-Disposition: form-data; name=\"last\"\r\n\r\nx\r\n--bnd--");
    expect_error_n(b.data, b.len, "bnd", "more than 1000 parts");
    buf_free(&b);
}

/* Fields with the same name are all kept; multipart_find returns the first. */
static void test_repeated_names(void **state) {
    (void)state;
    const char *body = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
                       "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n"
                       "--b--";
    parsed p;
    parse_ok(body, strlen(body), "b", &p);
    assert_int_equal(p.m.count, 2);
    assert_ptr_equal(multipart_find(&p.m, "a"), &p.m.parts[0]);
    assert_text_part(&p.m.parts[1], "a", "2");
    parsed_free(&p);
}

static void test_preamble_and_epilogue(void **state) {
    (void)state;
    const char *body = "This is the preamble.  It is to be ignored.\r\n"
                       "x--bnd is not a delimiter, nor is the next line\r\n"
                       "--bndX\r\n"
                       "--bnd-\r\n"
                       "--bnd \t \r\n" /* transport padding */
                       "Content-Disposition: form-data; name=\"a\"\r\n"
                       "\r\n"
                       "one\r\n"
                       "--bnd\t\r\n"
                       "Content-Disposition: form-data; name=\"b\"\r\n"
                       "\r\n"
                       "two\r\n"
                       "--bnd--  \r\n"
                       "This is the epilogue, also ignored, even\r\n"
                       "--bnd\r\n"
                       "Content-Disposition: form-data; name=\"c\"\r\n\r\nthree\r\n--bnd--\r\n";
    parsed p;
    parse_ok(body, strlen(body), "bnd", &p);
    assert_int_equal(p.m.count, 2);
    assert_text_part(&p.m.parts[0], "a", "one");
    assert_text_part(&p.m.parts[1], "b", "two");
    parsed_free(&p);

    /* Anything after "--bnd--" is epilogue, even without a line break. */
    const char *tight =
        "--bnd\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--bnd--xyz";
    parse_ok(tight, strlen(tight), "bnd", &p);
    assert_int_equal(p.m.count, 1);
    assert_text_part(&p.m.parts[0], "a", "1");
    parsed_free(&p);

    /* A preamble of only a line break. */
    const char *lead =
        "\r\n--bnd\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--bnd--";
    parse_ok(lead, strlen(lead), "bnd", &p);
    assert_int_equal(p.m.count, 1);
    parsed_free(&p);
}

/* A body whose first delimiter line ends in a bare LF is LF-only: "LF--boundary" ends the
 * data, and a CR before that LF goes with the delimiter. */
static void test_lf_only_body(void **state) {
    (void)state;
    const char *body = "--b\n"
                       "Content-Disposition: form-data; name=\"a\"\n"
                       "Content-Type: text/plain\n"
                       "\n"
                       "line 1\r\nline 2\n"
                       "\n--b\n"
                       "content-disposition: form-data; name=\"b\"\n"
                       "\n"
                       "crlf before the delimiter\r\n--b \n"
                       "Content-Disposition: form-data; name=\"c\"\n"
                       "\n"
                       "--bX\n--b--\n";
    parsed p;
    parse_ok(body, strlen(body), "b", &p);
    assert_int_equal(p.m.count, 3);
    assert_part(&p.m.parts[0], "a", NULL, "text/plain", "line 1\r\nline 2\n", 15);
    assert_text_part(&p.m.parts[1], "b", "crlf before the delimiter");
    assert_text_part(&p.m.parts[2], "c", "--bX");
    parsed_free(&p);
}

/* In a CRLF body, binary data may contain "LF--boundary": only CRLF starts a delimiter. Header
 * lines may still end in a bare LF. */
static void test_crlf_body_keeps_lf_delimiters(void **state) {
    (void)state;
    const char *body = "--b\r\n"
                       "Content-Disposition: form-data; name=\"bin\"\n"
                       "\n"
                       "\x01\n--b\r\n\n--b--\r\n\x02"
                       "\r\n--b--\r\n";
    parsed p;
    parse_ok(body, strlen(body), "b", &p);
    assert_int_equal(p.m.count, 1);
    static const char data[] = "\x01\n--b\r\n\n--b--\r\n\x02";
    assert_part(&p.m.parts[0], "bin", NULL, NULL, data, sizeof data - 1);
    parsed_free(&p);
}

static void test_part_headers(void **state) {
    (void)state;
    const char *body =
        "--b\r\n"
        /* Names of headers and parameters ignore case; other headers are ignored. */
        "content-DISPOSITION: FORM-DATA; NAME=\"a\"; FileName=\"x.txt\"\r\n"
        "CONTENT-TYPE:text/plain;charset=utf-8   \r\n"
        "Content-Transfer-Encoding: binary\r\n"
        "X-Whatever: folded\r\n"
        "  continuation of an ignored header\r\n"
        "\r\n"
        "1\r\n--b\r\n"
        /* Escapes: only \" and \\ are escapes; other backslashes stay (Windows paths). */
        "Content-Disposition: form-data; name=\"q\\\"uote\\\\d\"; filename=\"C:\\dir\\f.txt\"\r\n"
        "\r\n"
        "2\r\n--b\r\n"
        /* Unquoted tokens, OWS around "=" and ";", empty and trailing ";", RFC 5987 form. */
        "Content-Disposition: form-data ;name = field ;; filename*=UTF-8''%E2%82%AC.txt ;\r\n"
        "\r\n"
        "3\r\n--b\r\n"
        /* filename* does not hide or replace filename; raw UTF-8 is kept as sent. */
        "Content-Disposition: form-data; filename*=UTF-8''a.txt; name=\"n\"; "
        "filename=\"\xe2\x82\xac \xc3\xa9t\xc3\xa9.txt\"\r\n"
        "\r\n"
        "4\r\n--b\r\n"
        /* A folded Content-Disposition, and RFC 5322's "Name :" form. */
        "Content-Disposition : form-data;\r\n"
        "\tname=\"folded\"\r\n"
        "Content-Type: \t application/octet-stream\r\n"
        "\r\n"
        "5\r\n--b\r\n"
        /* Semicolons and equals signs inside quotes are text. */
        "Content-Disposition: form-data; name=\"a;b=c\"; filename=\"x\\\"; name=y\"\r\n"
        "\r\n"
        "6\r\n--b--\r\n";
    parsed p;
    parse_ok(body, strlen(body), "b", &p);
    assert_int_equal(p.m.count, 6);
    assert_part(&p.m.parts[0], "a", "x.txt", "text/plain;charset=utf-8", "1", 1);
    assert_part(&p.m.parts[1], "q\"uote\\d", "C:\\dir\\f.txt", NULL, "2", 1);
    assert_part(&p.m.parts[2], "field", NULL, NULL, "3", 1);
    assert_part(&p.m.parts[3], "n", "\xe2\x82\xac \xc3\xa9t\xc3\xa9.txt", NULL, "4", 1);
    assert_part(&p.m.parts[4], "folded", NULL, "application/octet-stream", "5", 1);
    assert_part(&p.m.parts[5], "a;b=c", "x\"; name=y", NULL, "6", 1);
    parsed_free(&p);
}

/* Headers may take up to 8 KiB (line breaks included, the empty line not). */
static void test_header_limit(void **state) {
    (void)state;
    const char *cd = "Content-Disposition: form-data; name=\"a\"\r\n";
    for (int extra = 0; extra <= 1; extra++) {
        buf b = {0};
        buf_puts(&b, "--b\r\n");
        buf_puts(&b, cd);
        buf_puts(&b, "X-Pad: ");
        size_t pad = 8192 - strlen(cd) - strlen("X-Pad: \r\n") + (size_t)extra;
        for (size_t i = 0; i < pad; i++) buf_putc(&b, 'p');
        buf_puts(&b, "\r\n\r\ndata\r\n--b--\r\n");
        if (extra) {
            expect_error_n(b.data, b.len, "b", "part 1: the headers are longer than 8 KiB");
        } else {
            parsed p;
            parse_ok(b.data, b.len, "b", &p);
            assert_text_part(&p.m.parts[0], "a", "data");
            parsed_free(&p);
        }
        buf_free(&b);
    }

    /* Many short lines, and a long run without any line break. */
    buf b = {0};
    buf_puts(&b, "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n");
    for (int i = 0; i < 1100; i++) buf_puts(&b, "X-A: 1\r\n");
    buf_puts(&b, "\r\n\r\n--b--");
    expect_error_n(b.data, b.len, "b", "part 1: the headers are longer than 8 KiB");
    buf_clear(&b);
    buf_puts(&b, "--b\r\n");
    for (int i = 0; i < 20000; i++) buf_putc(&b, 'h');
    expect_error_n(b.data, b.len, "b", "part 1: the headers are longer than 8 KiB");
    buf_free(&b);
}

static void test_body_errors(void **state) {
    (void)state;
    const char *cd = "Content-Disposition: form-data; name=\"a\"\r\n";
    char body[512];

    expect_error("", "b", "the body is empty");
    expect_error("just some text\r\n", "b", "no boundary found in the body");
    expect_error("text--b\r\nmore", "b", "no boundary found in the body");
    expect_error("--bX\r\n--b-x\r\n", "b", "no boundary found in the body");
    expect_error("--b", "b", "the body ends before the closing boundary");
    expect_error("--b  ", "b", "the body ends before the closing boundary");
    expect_error("--b-", "b", "the body ends before the closing boundary");
    expect_error("--b\r", "b", "the body ends before the closing boundary");
    expect_error("--b\r\n", "b", "part 1: the body ends before the closing boundary");
    expect_error("--b\r\nContent-Disposition: form-data; name=\"a\"", "b",
                 "part 1: the body ends before the closing boundary");
    snprintf(body, sizeof body, "--b\r\n%s\r\ndata", cd);
    expect_error(body, "b", "part 1: the body ends before the closing boundary");
    snprintf(body, sizeof body, "--b\r\n%s\r\ndata\r\n--b\r\n%s\r\nmore\r\n--b", cd, cd);
    expect_error(body, "b", "part 2: the body ends before the closing boundary");
    snprintf(body, sizeof body, "--b\r\n%s\r\ndata\r\n--b\r\n", cd);
    expect_error(body, "b", "part 2: the body ends before the closing boundary");
    snprintf(body, sizeof body, "--b\r\n%s\r\n--b", cd);
    expect_error(body, "b", "part 1: the body ends before the closing boundary");

    /* Header lines. */
    snprintf(body, sizeof body, "--b\r\n%sno colon here\r\n\r\nx\r\n--b--", cd);
    expect_error(body, "b", "part 1: header line 2 has no colon");
    expect_error("--b\r\nBad Name: x\r\n\r\nx\r\n--b--", "b",
                 "part 1: header line 1 has an invalid name");
    expect_error("--b\r\n: x\r\n\r\nx\r\n--b--", "b", "part 1: header line 1 has an invalid name");
    expect_error("--b\r\n  folded: x\r\n\r\nx\r\n--b--", "b",
                 "part 1: header line 1 starts with whitespace but follows no header");
    snprintf(body, sizeof body, "--b\r\n%s%s\r\nx\r\n--b--", cd, cd);
    expect_error(body, "b", "part 1: more than one Content-Disposition header");
    snprintf(body, sizeof body, "--b\r\n%sContent-Type: a/b\r\ncontent-type: c/d\r\n\r\nx\r\n--b--",
             cd);
    expect_error(body, "b", "part 1: more than one Content-Type header");
    snprintf(body, sizeof body, "--b\r\n%sContent-Type: text/\x01plain\r\n\r\nx\r\n--b--", cd);
    expect_error(body, "b", "part 1: Content-Type contains a control character");
    snprintf(body, sizeof body, "--b\r\n%s--b\r\n%s\r\nx\r\n--b--", cd, cd);
    expect_error(body, "b", "part 1: the headers are not followed by an empty line");
    snprintf(body, sizeof body, "--b\r\n%s\r\nx\r\n--b\r\n%s--b--", cd, cd);
    expect_error(body, "b", "part 2: the headers are not followed by an empty line");
    expect_error("--b\r\n--b--", "b", "part 1: the headers are not followed by an empty line");

    /* Content-Disposition. */
    snprintf(body, sizeof body,
             "--b\r\n%s\r\nx\r\n--b\r\nContent-Type: text/plain\r\n\r\ny\r\n--b--", cd);
    expect_error(body, "b", "part 2: missing Content-Disposition header");
    expect_error("--b\r\n\r\nx\r\n--b--", "b", "part 1: missing Content-Disposition header");
    expect_error("--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition is \"attachment\", not form-data");
    expect_error("--b\r\nContent-Disposition: \r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition is not form-data");
    expect_error("--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition has no name parameter");
    expect_error("--b\r\nContent-Disposition: form-data; filename*=UTF-8''a\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition has no name parameter");
    expect_error("--b\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition has more than one name parameter");
    expect_error("--b\r\nContent-Disposition: form-data; name=a; filename=x; FILENAME=y\r\n\r\n"
                 "x\r\n--b--",
                 "b", "part 1: Content-Disposition has more than one filename parameter");
    expect_error("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition: a quoted string is not terminated");
    expect_error("--b\r\nContent-Disposition: form-data; name=\"a\\\"\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition: a quoted string is not terminated");
    expect_error_n("--b\r\nContent-Disposition: form-data; name=\"a\0\"\r\n\r\nx\r\n--b--", 57, "b",
                   "part 1: Content-Disposition: a quoted string contains a control character");
    expect_error("--b\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition: a parameter has no value");
    expect_error("--b\r\nContent-Disposition: form-data; name=\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition: a parameter has no value");
    expect_error("--b\r\nContent-Disposition: form-data; =a\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition: a parameter has no name");
    expect_error("--b\r\nContent-Disposition: form-data; name=\"a\" x\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition: expected \";\" between parameters");
    expect_error("--b\r\nContent-Disposition: form-data name=\"a\"\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition: expected \";\" between parameters");
    expect_error("--b\r\nContent-Disposition: form-data; name=a\x01\r\n\r\nx\r\n--b--", "b",
                 "part 1: Content-Disposition: expected \";\" between parameters");

    /* The boundary argument. */
    expect_error("--b--", NULL, "invalid boundary: it must have 1 to 70 characters");
    expect_error("--b--", "", "invalid boundary: it must have 1 to 70 characters");
    expect_error("--b--", "01234567890123456789012345678901234567890123456789012345678901234567890",
                 "invalid boundary: it must have 1 to 70 characters");

    /* No error buffer, a tiny one, and a NULL body are all fine. */
    multipart m;
    assert_int_equal(multipart_parse("x", 1, "b", &m, NULL, 0), -1);
    char tiny[8];
    assert_int_equal(multipart_parse("x", 1, "b", &m, tiny, sizeof tiny), -1);
    assert_string_equal(tiny, "no boun");
    assert_int_equal(multipart_parse(NULL, 0, "b", &m, tiny, sizeof tiny), -1);
    assert_int_equal(m.count, 0);
    assert_null(m.parts);
    multipart_free(&m);
    multipart_free(NULL);
}

/* ------------------------------------------------------------------------------------------
 * Randomized round trip: generate bodies the way many different clients might, parse them,
 * and compare with what was put in.
 * ---------------------------------------------------------------------------------------- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static size_t rnd_below(size_t n) {
    return rnd() % n;
}

static const char bchars[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "'()+_,-./:=?";

typedef struct gen_part {
    buf name, filename, content_type, data;
    bool has_filename, has_content_type;
} gen_part;

static void random_text(buf *b, size_t max) {
    size_t n = rnd_below(max + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned r = rnd_below(10);
        char c;
        if (r < 6)
            c = (char)(0x20 + rnd_below(0x5f)); /* printable, '"' and '\' included */
        else if (r < 8)
            c = (char)(0x80 + rnd_below(0x80));
        else
            c = "\"\\;=\t"[rnd_below(5)];
        buf_putc(b, c);
    }
}

static bool all_tchars(const buf *b) {
    if (b->len == 0) return false;
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = (unsigned char)b->data[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !(c && strchr("!#$%&'*+-.^_`|~", c))) return false;
    }
    return true;
}

/* Writes a parameter value as a token when it can be one (sometimes), else quoted. */
static void put_value(buf *out, const buf *v) {
    if (all_tchars(v) && rnd_below(2)) {
        buf_append(out, v->data, v->len);
        return;
    }
    buf_putc(out, '"');
    for (size_t i = 0; i < v->len; i++) {
        if (v->data[i] == '"' || v->data[i] == '\\') buf_putc(out, '\\');
        buf_putc(out, v->data[i]);
    }
    buf_putc(out, '"');
}

static void put_cased(buf *out, const char *s) {
    for (; *s; s++) {
        char c = *s;
        if (c >= 'a' && c <= 'z' && rnd_below(4) == 0) c = (char)(c - 32);
        buf_putc(out, c);
    }
}

static void put_padding(buf *out) {
    for (size_t n = rnd_below(4) == 0 ? rnd_below(4) : 0; n; n--) buf_putc(out, " \t"[rnd() & 1]);
}

/* Whether "--boundary" at p (in data of n bytes, followed by a delimiter) would be read as a
 * delimiter: it is followed by "-", padding or a line break, or by the data's end. */
static bool looks_like_delimiter(const char *p, const char *end) {
    return p == end || *p == '-' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n';
}

/* Random binary data, rich in line breaks and pieces of the boundary, but never containing a
 * real delimiter for the body's line-ending mode. */
static void random_data(buf *d, const char *boundary, bool lf_only) {
    size_t blen = strlen(boundary);
    for (;;) {
        buf_clear(d);
        size_t pieces = rnd_below(12);
        for (size_t i = 0; i < pieces; i++) {
            switch (rnd_below(8)) {
            case 0:
                buf_puts(d, "\r\n");
                break;
            case 1:
                buf_puts(d, "\n");
                break;
            case 2:
                buf_puts(d, "--");
                buf_append(d, boundary, rnd_below(blen + 1));
                break;
            case 3:
                buf_puts(d, rnd() & 1 ? "\r\n--" : "\n--");
                buf_puts(d, boundary);
                buf_putc(d, "Xx0;\"\x00"[rnd_below(6)]);
                break;
            case 4:
                buf_puts(d, "\r\n--");
                buf_append(d, boundary, rnd_below(blen));
                break;
            case 5:
                buf_puts(d, "\r");
                break;
            default:
                for (size_t n = rnd_below(40); n; n--) buf_putc(d, (char)rnd());
                break;
            }
        }
        /* Reject real delimiters: after a line break (or at the very start, where the empty
         * line before the data serves as one). */
        bool bad = false;
        const char *s = d->data ? d->data : "", *end = s + d->len;
        for (const char *p = s; p + 2 + blen <= end && !bad; p++) {
            if (p[0] != '-' || p[1] != '-' || memcmp(p + 2, boundary, blen) != 0) continue;
            bool line_start = p == s || (lf_only ? p[-1] == '\n'
                                                 : (p - s >= 2 && p[-1] == '\n' && p[-2] == '\r'));
            if (line_start && looks_like_delimiter(p + 2 + blen, end)) bad = true;
        }
        /* In an LF-only body, a CR at the end of the data goes with the delimiter. */
        if (lf_only && d->len && d->data[d->len - 1] == '\r') bad = true;
        if (!bad) return;
    }
}

static void random_boundary(char *out, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (i + 1 < len && rnd_below(12) == 0)
            out[i] = ' ';
        else
            out[i] = bchars[rnd_below(sizeof bchars - 1)];
    }
    out[len] = '\0';
}

static void content_type_header(buf *out, const char *boundary) {
    bool needs_quotes = false;
    for (const char *p = boundary; *p; p++)
        if (strchr(" (),/:=?", *p)) needs_quotes = true;
    put_cased(out, "multipart/form-data");
    if (rnd() & 1) buf_puts(out, "; charset=utf-8");
    buf_puts(out, rnd() & 1 ? "; " : ";");
    put_cased(out, "boundary");
    buf_putc(out, '=');
    if (needs_quotes || rnd() & 1)
        buf_printf(out, "\"%s\"", boundary);
    else
        buf_puts(out, boundary);
    if (rnd() & 1) buf_puts(out, "; x=\"y;z\"");
}

static void round_trip_once(int iteration) {
    char boundary[71];
    random_boundary(boundary, (size_t)(iteration % 70) + 1);
    bool lf_only = iteration % 3 == 0;
    const char *eol = lf_only ? "\n" : "\r\n";

    buf ct = {0};
    content_type_header(&ct, boundary);
    char err[256] = "";
    char *got_boundary = multipart_boundary(ct.data, err, sizeof err);
    if (!got_boundary) fail_msg("Content-Type [%s]: %s", ct.data, err);
    if (strcmp(got_boundary, boundary) != 0)
        fail_msg("Content-Type [%s] gave [%s]", ct.data, got_boundary);

    size_t count = rnd_below(9);
    gen_part parts[8];
    buf body = {0};
    for (size_t n = rnd_below(3); n; n--) buf_printf(&body, "preamble line %zu%s", n, eol);
    for (size_t i = 0; i < count; i++) {
        gen_part *g = &parts[i];
        memset(g, 0, sizeof *g);
        random_text(&g->name, 12);
        buf_puts(&g->name, "");
        g->has_filename = rnd() & 1;
        if (g->has_filename) {
            random_text(&g->filename, 20);
            buf_puts(&g->filename, "");
        }
        g->has_content_type = rnd() & 1;
        if (g->has_content_type) {
            static const char *types[] = {"application/javascript+module", "application/wasm",
                                          "text/plain; charset=\"utf-8\"", "application/json",
                                          "application/octet-stream",      "x/y;a=b;c=\"d e\""};
            buf_puts(&g->content_type, types[rnd_below(6)]);
        }
        random_data(&g->data, boundary, lf_only);

        bool filename_first = g->has_filename && rnd() & 1;
        bool type_first = g->has_content_type && rnd() & 1;
        buf_printf(&body, "--%s", boundary);
        put_padding(&body);
        buf_puts(&body, eol);
        if (type_first) {
            put_cased(&body, "content-type");
            buf_printf(&body, ":%s%s%s", rnd() & 1 ? " " : "", g->content_type.data, eol);
        }
        put_cased(&body, "content-disposition");
        buf_puts(&body, ": form-data; ");
        if (filename_first) {
            put_cased(&body, "filename");
            buf_putc(&body, '=');
            put_value(&body, &g->filename);
            buf_puts(&body, "; ");
        }
        put_cased(&body, "name");
        buf_putc(&body, '=');
        put_value(&body, &g->name);
        if (g->has_filename && !filename_first) {
            buf_puts(&body, ";filename=");
            put_value(&body, &g->filename);
        }
        if (rnd() & 1) buf_puts(&body, "; filename*=UTF-8''%C3%A9");
        buf_puts(&body, eol);
        if (rnd() & 1) buf_printf(&body, "X-Ignored: %s%s", boundary, eol);
        if (g->has_content_type && !type_first) {
            put_cased(&body, "content-type");
            buf_printf(&body, ":%s%s%s", rnd() & 1 ? " " : "", g->content_type.data, eol);
        }
        buf_puts(&body, eol);
        /* Empty data can also be written as no body at all: the empty line then doubles as
         * the line break of the next delimiter. */
        if (g->data.len == 0 && rnd() & 1) continue;
        buf_append(&body, g->data.data, g->data.len);
        buf_puts(&body, lf_only && rnd() & 1 ? "\r\n" : eol);
    }
    buf_printf(&body, "--%s--", boundary);
    if (rnd() & 1) buf_printf(&body, "%sepilogue \x01\xff --%s%s", eol, boundary, eol);

    parsed p;
    if (parse_copy(body.data, body.len, boundary, &p, err, sizeof err) != 0)
        fail_msg("iteration %d: %s", iteration, err);
    assert_int_equal(p.m.count, count);
    for (size_t i = 0; i < count; i++) {
        const multipart_part *mp = &p.m.parts[i];
        gen_part *g = &parts[i];
        assert_int_equal(strlen(mp->name), g->name.len);
        assert_memory_equal(mp->name, g->name.data, g->name.len);
        if (g->has_filename) {
            assert_non_null(mp->filename);
            assert_string_equal(mp->filename, g->filename.data);
        } else {
            assert_null(mp->filename);
        }
        if (g->has_content_type) {
            assert_non_null(mp->content_type);
            assert_string_equal(mp->content_type, g->content_type.data);
        } else {
            assert_null(mp->content_type);
        }
        assert_int_equal(mp->len, g->data.len);
        if (g->data.len) assert_memory_equal(mp->data, g->data.data, g->data.len);
        buf_free(&g->name);
        buf_free(&g->filename);
        buf_free(&g->content_type);
        buf_free(&g->data);
    }
    parsed_free(&p);
    buf_free(&body);
    buf_free(&ct);
    free(got_boundary);
}

static void test_random_round_trip(void **state) {
    (void)state;
    for (int i = 0; i < 3000; i++) round_trip_once(i);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boundary),
        cmocka_unit_test(test_boundary_errors),
        cmocka_unit_test(test_wrangler_upload),
        cmocka_unit_test(test_truncated_bodies),
        cmocka_unit_test(test_curl_upload),
        cmocka_unit_test(test_empty_parts),
        cmocka_unit_test(test_filename_only_part),
        cmocka_unit_test(test_many_parts),
        cmocka_unit_test(test_repeated_names),
        cmocka_unit_test(test_preamble_and_epilogue),
        cmocka_unit_test(test_lf_only_body),
        cmocka_unit_test(test_crlf_body_keeps_lf_delimiters),
        cmocka_unit_test(test_part_headers),
        cmocka_unit_test(test_header_limit),
        cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_random_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
