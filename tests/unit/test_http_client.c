/* Unit tests for the pure parts of the outbound HTTP client (src/net/http_client.c): status
 * lines and header lines as curl delivers them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "net/http_client.h"

static int status_of(const char *line, char *reason, size_t cap) {
    const char *r = NULL;
    size_t rlen = 0;
    int status = http_parse_status_line(line, strlen(line), &r, &rlen);
    if (status >= 0 && reason) {
        if (rlen >= cap) rlen = cap - 1;
        memcpy(reason, r, rlen);
        reason[rlen] = 0;
    }
    return status;
}

static void test_status_lines(void **state) {
    (void)state;
    char reason[64];
    assert_int_equal(status_of("HTTP/1.1 200 OK\r\n", reason, sizeof reason), 200);
    assert_string_equal(reason, "OK");
    assert_int_equal(status_of("HTTP/1.1 404 Not Found\r\n", reason, sizeof reason), 404);
    assert_string_equal(reason, "Not Found");
    assert_int_equal(status_of("HTTP/1.0 201 Made It Anyway\n", reason, sizeof reason), 201);
    assert_string_equal(reason, "Made It Anyway");
    /* no reason phrase, with and without the space */
    assert_int_equal(status_of("HTTP/1.1 204 \r\n", reason, sizeof reason), 204);
    assert_string_equal(reason, "");
    assert_int_equal(status_of("HTTP/1.1 204\r\n", reason, sizeof reason), 204);
    assert_string_equal(reason, "");
    assert_int_equal(status_of("HTTP/2 200 \r\n", reason, sizeof reason), 200);
    assert_int_equal(status_of("HTTP/1.1 100 Continue\r\n", reason, sizeof reason), 100);
    /* not status lines */
    assert_int_equal(status_of("Content-Type: text/plain\r\n", NULL, 0), -1);
    assert_int_equal(status_of("HTTP/1.1 2x0 OK\r\n", NULL, 0), -1);
    assert_int_equal(status_of("HTTP/1.1 2000 OK\r\n", NULL, 0), -1);
    assert_int_equal(status_of("\r\n", NULL, 0), -1);
}

static void test_header_lines(void **state) {
    (void)state;
    buf out = {0};
    assert_true(http_header_line_append(&out, "Content-Type: text/plain\r\n", 26));
    assert_true(http_header_line_append(&out, "X-Spaces:   padded value  \r\n", 28));
    assert_true(http_header_line_append(&out, "X-Empty:\r\n", 10));
    assert_string_equal(out.data,
                        "Content-Type: text/plain\r\nX-Spaces: padded value\r\nX-Empty: \r\n");
    buf_clear(&out);
    /* obs-fold continues the previous value */
    assert_true(http_header_line_append(&out, "X-Folded: one\r\n", 15));
    assert_false(http_header_line_append(&out, "   two\r\n", 8));
    assert_string_equal(out.data, "X-Folded: one two\r\n");
    buf_clear(&out);
    /* lines without a name are dropped */
    assert_false(http_header_line_append(&out, "no colon here\r\n", 15));
    assert_false(http_header_line_append(&out, ": no name\r\n", 11));
    assert_false(http_header_line_append(&out, "\r\n", 2));
    assert_int_equal(out.len, 0);
    /* a fold before any header is dropped */
    assert_false(http_header_line_append(&out, " stray\r\n", 8));
    assert_int_equal(out.len, 0);
    buf_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_lines),
        cmocka_unit_test(test_header_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
