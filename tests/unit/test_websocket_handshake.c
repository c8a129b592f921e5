/* Unit tests for the client side of the WebSocket handshake: the request
 * (src/net/websocket_handshake.c), the checks of the server's 101, and the parser of the
 * server's answer (src/net/websocket_response.c) — 101 heads split anywhere, other answers
 * with Content-Length, chunked or close-delimited bodies, and malformed or oversized input.
 * The end-to-end side is tests/e2e/webapi_websocket_outbound.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "net/websocket.h"
#include "net/websocket_handshake.h"
#include "net/websocket_response.h"

static void test_request(void **state) {
    (void)state;
    char key[25], expected[WS_ACCEPT_LEN + 1];
    assert_true(ws_client_key(key, expected));
    assert_true(ws_key_valid(key, 24));
    char check[WS_ACCEPT_LEN + 1];
    ws_accept_key(key, 24, check);
    assert_string_equal(check, expected);

    buf req = {0};
    ws_handshake_request(&req, "", 0, "example.com:8080", key, "chat, superchat", "X-A: b");
    assert_non_null(strstr(req.data, "GET / HTTP/1.1\r\nHost: example.com:8080\r\n"));
    assert_non_null(strstr(req.data, "Sec-WebSocket-Protocol: chat, superchat\r\n"));
    assert_non_null(strstr(req.data, "X-A: b\r\n\r\n"));
    assert_non_null(strstr(req.data, key));
    buf_free(&req);
    ws_handshake_request(&req, "/a?b=1", 6, "h", key, NULL, NULL);
    assert_non_null(strstr(req.data, "GET /a?b=1 HTTP/1.1\r\n"));
    assert_null(strstr(req.data, "Sec-WebSocket-Protocol"));
    buf_free(&req);
}

static void test_check(void **state) {
    (void)state;
    /* RFC 6455 §1.3's example key and accept value. */
    char expected[WS_ACCEPT_LEN + 1];
    ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, expected);
    const char *good = "Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
                       "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
    char proto[64];
    assert_null(ws_check_handshake(good, strlen(good), expected, NULL, proto, sizeof proto));
    assert_string_equal(proto, "");

    const char *chosen = "upgrade: websocket\r\nconnection: upgrade\r\n"
                         "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                         "sec-websocket-protocol: beta\r\n";
    assert_null(
        ws_check_handshake(chosen, strlen(chosen), expected, "alpha, beta", proto, sizeof proto));
    assert_string_equal(proto, "beta");
    assert_string_equal(
        ws_check_handshake(chosen, strlen(chosen), expected, "alpha", proto, sizeof proto),
        "a subprotocol that was not offered");
    assert_string_equal(ws_check_handshake(chosen, strlen(chosen), expected, NULL, proto, 64),
                        "a subprotocol that was not offered");

    const char *bad_key = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n";
    assert_string_equal(ws_check_handshake(bad_key, strlen(bad_key), expected, NULL, proto, 64),
                        "a wrong Sec-WebSocket-Accept");
    const char *no_upgrade = "Connection: Upgrade\r\n";
    assert_string_equal(
        ws_check_handshake(no_upgrade, strlen(no_upgrade), expected, NULL, proto, 64),
        "no \"Upgrade: websocket\"");
    const char *no_connection = "Upgrade: websocket\r\n";
    assert_string_equal(
        ws_check_handshake(no_connection, strlen(no_connection), expected, NULL, proto, 64),
        "no \"Connection: Upgrade\"");
    const char *ext = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                      "Sec-WebSocket-Extensions: permessage-deflate\r\n";
    assert_string_equal(ws_check_handshake(ext, strlen(ext), expected, NULL, proto, 64),
                        "an extension that was not offered");
    assert_string_equal(ws_check_handshake("", 0, expected, NULL, proto, 64),
                        "no \"Upgrade: websocket\"");
}

static const char UPGRADE[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"
                              "\x81\x02hi";

static void test_upgrade_any_split(void **state) {
    (void)state;
    size_t total = sizeof UPGRADE - 1, head = total - 4;
    for (size_t cut = 0; cut <= total; cut++) {
        ws_response_parser *p = ws_response_parser_new(1024);
        size_t used = 0;
        ws_parse_result r = ws_response_parser_feed(p, UPGRADE, cut, &used);
        size_t off = used;
        if (r == WS_PARSE_MORE) {
            assert_int_equal(used, cut);
            r = ws_response_parser_feed(p, UPGRADE + cut, total - cut, &used);
            off = cut + used;
        }
        assert_int_equal(r, WS_PARSE_UPGRADE);
        assert_int_equal(off, head); /* the frame after the head is the WebSocket's */
        assert_int_equal(ws_response_status(p), 101);
        assert_string_equal(ws_response_reason(p), "Switching Protocols");
        size_t len;
        const char *lines = ws_response_lines(p, &len);
        assert_string_equal(lines, "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                   "Sec-WebSocket-Accept: x\r\n");
        ws_response_parser_free(p);
    }
}

static ws_parse_result parse_all(ws_response_parser *p, const char *text, bool eof) {
    size_t used;
    ws_parse_result r = ws_response_parser_feed(p, text, strlen(text), &used);
    if (r == WS_PARSE_MORE && eof) r = ws_response_parser_eof(p);
    return r;
}

static void test_other_answers(void **state) {
    (void)state;
    size_t len;
    ws_response_parser *p = ws_response_parser_new(1024);
    assert_int_equal(parse_all(p,
                               "HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\nX-Why: no\r\n\r\n"
                               "go awayEXTRA",
                               false),
                     WS_PARSE_COMPLETE);
    assert_int_equal(ws_response_status(p), 403);
    assert_string_equal(ws_response_reason(p), "Forbidden");
    const uint8_t *body = ws_response_body(p, &len);
    assert_int_equal(len, 7);
    assert_memory_equal(body, "go away", 7);
    ws_response_parser_free(p);

    p = ws_response_parser_new(1024);
    assert_int_equal(parse_all(p,
                               "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                               false),
                     WS_PARSE_COMPLETE);
    body = ws_response_body(p, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(body, "abcde", 5);
    ws_response_parser_free(p);

    /* No length: the body ends with the connection. */
    p = ws_response_parser_new(1024);
    assert_int_equal(parse_all(p, "HTTP/1.0 500 Oops\r\n\r\nbroken", true), WS_PARSE_COMPLETE);
    body = ws_response_body(p, &len);
    assert_int_equal(len, 6);
    ws_response_parser_free(p);
}

static void test_bad_answers(void **state) {
    (void)state;
    ws_response_parser *p = ws_response_parser_new(1024);
    assert_int_equal(parse_all(p, "SSH-2.0-OpenSSH\r\n\r\n", false), WS_PARSE_ERROR);
    assert_non_null(strstr(ws_response_parser_error(p), "not a valid HTTP response"));
    ws_response_parser_free(p);

    /* A status code of fewer than three digits (found by fuzz_ws_response). */
    p = ws_response_parser_new(1024);
    assert_int_equal(parse_all(p, "HTTP/1.1 4 Forbidden\r\nContent-Length: 0\r\n\r\n", false),
                     WS_PARSE_ERROR);
    assert_non_null(strstr(ws_response_parser_error(p), "status 4"));
    ws_response_parser_free(p);

    /* Cut short. */
    p = ws_response_parser_new(1024);
    assert_int_equal(parse_all(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true),
                     WS_PARSE_ERROR);
    assert_non_null(strstr(ws_response_parser_error(p), "before its response was complete"));
    ws_response_parser_free(p);
    p = ws_response_parser_new(1024);
    assert_int_equal(parse_all(p, "", true), WS_PARSE_ERROR);
    ws_response_parser_free(p);

    /* Over the body limit. */
    p = ws_response_parser_new(4);
    assert_int_equal(parse_all(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", false),
                     WS_PARSE_ERROR);
    assert_non_null(strstr(ws_response_parser_error(p), "larger than 4 bytes"));
    ws_response_parser_free(p);

    /* A head that never ends. */
    p = ws_response_parser_new(1024);
    size_t used;
    assert_int_equal(ws_response_parser_feed(p, "HTTP/1.1 200 OK\r\n", 17, &used), WS_PARSE_MORE);
    char line[1000];
    memset(line, 'a', sizeof line);
    memcpy(line, "X-Big: ", 7);
    line[sizeof line - 2] = '\r';
    line[sizeof line - 1] = '\n';
    ws_parse_result r = WS_PARSE_MORE;
    for (int i = 0; i < 200 && r == WS_PARSE_MORE; i++)
        r = ws_response_parser_feed(p, line, sizeof line, &used);
    assert_int_equal(r, WS_PARSE_ERROR);
    ws_response_parser_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request),           cmocka_unit_test(test_check),
        cmocka_unit_test(test_upgrade_any_split), cmocka_unit_test(test_other_answers),
        cmocka_unit_test(test_bad_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
