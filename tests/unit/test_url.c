/* Unit tests for the URL parser (src/webapi/url*.c): the URLs hearth sees on every request,
 * serialization, origins, each URL API setter with its early-return rules, hosts (IPv4, IPv6,
 * IDNA) and the percent-encoding helpers. The parser as a whole is exercised by the WPT
 * conformance runner (tests/conformance/url.c); these pin down the API contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "webapi/url.h"

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------------- */

static url parse_ok(const char *input, const char *base) {
    url u;
    const char *err = NULL;
    int rc =
        url_parse_with_base_string(input, strlen(input), base, base ? strlen(base) : 0, &u, &err);
    if (rc != 0) fail_msg("\"%s\" failed to parse: %s", input, err ? err : "(no error)");
    return u;
}

static void expect_failure(const char *input, const char *base, const char *why) {
    url u;
    const char *err = NULL;
    int rc =
        url_parse_with_base_string(input, strlen(input), base, base ? strlen(base) : 0, &u, &err);
    if (rc == 0) {
        char *href = url_serialize(&u, false);
        fail_msg("\"%s\" parsed as %s but must fail", input, href);
    }
    assert_non_null(err);
    if (why && strcmp(err, why) != 0)
        fail_msg("\"%s\": error \"%s\", expected \"%s\"", input, err, why);
}

/* Compares a malloc'd getter result with the expected string and frees it. */
static void check_str(char *got, const char *expected) {
    if (strcmp(got, expected) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "got \"%s\", expected \"%s\"", got, expected);
        free(got);
        fail_msg("%s", msg);
    }
    free(got);
}

static void expect_href(const char *input, const char *base, const char *href) {
    url u = parse_ok(input, base);
    check_str(url_serialize(&u, false), href);
    url_free(&u);
}

typedef void (*setter)(url *, const char *, size_t);

/* Parses start, applies setter(value) and compares the resulting href. */
static void expect_set(const char *start, setter set, const char *value, const char *href) {
    url u = parse_ok(start, NULL);
    set(&u, value, strlen(value));
    check_str(url_serialize(&u, false), href);
    url_free(&u);
}

/* ------------------------------------------------------------------------------------------
 * Request URLs and getters.
 * ---------------------------------------------------------------------------------------- */

static void test_request_url_getters(void **state) {
    (void)state;
    url u = parse_ok("http://127.0.0.1:8787/path?x=1", NULL);
    assert_string_equal(u.scheme, "http");
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 8787);
    assert_string_equal(u.path, "/path");
    assert_string_equal(u.query, "x=1");
    assert_null(u.fragment);
    assert_false(u.opaque_path);
    check_str(url_get_href(&u), "http://127.0.0.1:8787/path?x=1");
    check_str(url_get_protocol(&u), "http:");
    check_str(url_get_username(&u), "");
    check_str(url_get_password(&u), "");
    check_str(url_get_host(&u), "127.0.0.1:8787");
    check_str(url_get_hostname(&u), "127.0.0.1");
    check_str(url_get_port(&u), "8787");
    check_str(url_get_pathname(&u), "/path");
    check_str(url_get_search(&u), "?x=1");
    check_str(url_get_hash(&u), "");
    check_str(url_origin(&u), "http://127.0.0.1:8787");
    url_free(&u);
}

static void test_request_url_normalization(void **state) {
    (void)state;
    /* Default port dropped, host lowercased, dot segments resolved, spaces encoded. */
    expect_href("HTTP://Example.COM:80/a/./b/../c d?q=1 2#frag ment", NULL,
                "http://example.com/a/c%20d?q=1%202#frag%20ment");
    expect_href("https://example.com", NULL, "https://example.com/");
    expect_href("  \t http://h/\na\rb  ", NULL, "http://h/ab");
    expect_href("http://h/%2e%2E/x/%2e/y", NULL, "http://h/x/y");
    expect_href("http:\\\\h\\a\\b", NULL, "http://h/a/b");
    expect_href("http://user:p%40ss@h:8080/", NULL, "http://user:p%40ss@h:8080/");
    expect_href("http://a@b@h/", NULL, "http://a%40b@h/");
    expect_href("http://h/?'\"", NULL, "http://h/?%27%22");
    expect_href("sc://h/?'\"", NULL, "sc://h/?'%22");
}

static void test_relative_resolution(void **state) {
    (void)state;
    const char *base = "http://example.com/dir/page?q#f";
    expect_href("other", base, "http://example.com/dir/other");
    expect_href("../up", base, "http://example.com/up");
    expect_href("/abs", base, "http://example.com/abs");
    expect_href("?new", base, "http://example.com/dir/page?new");
    expect_href("#h", base, "http://example.com/dir/page?q#h");
    expect_href("//other.org/x", base, "http://other.org/x");
    expect_href("", base, "http://example.com/dir/page?q");
    expect_href("https:rel", base, "https://rel/");
    expect_href("http:rel", base, "http://example.com/dir/rel");
    expect_href("#x", "mailto:a@b", "mailto:a@b#x");
}

static void test_parse_failures(void **state) {
    (void)state;
    expect_failure("foo", NULL, "missing scheme");
    expect_failure("rel", "mailto:a@b", "missing scheme");
    expect_failure("http://exa mple.com/", NULL, "forbidden host code point");
    expect_failure("http://[::1/", NULL, "unclosed IPv6 address");
    expect_failure("http://[1:2:3]/", NULL, "invalid IPv6 address");
    expect_failure("http://h:65536/", NULL, "port out of range");
    expect_failure("http://h:8a/", NULL, "invalid port");
    expect_failure("http://1.2.3.256/", NULL, "invalid IPv4 address");
    expect_failure("http://user@/", NULL, "missing host");
    expect_failure("http:///", NULL, "missing host");
    expect_failure("http://a.b.c.xn--pokxncvks/", NULL, "invalid Punycode label");
    expect_failure("x", "not a url", "invalid base URL");
    /* A failed parse leaves the record zeroed, so freeing it is harmless. */
    url u;
    assert_int_equal(url_parse("nope", 4, NULL, &u, NULL), -1);
    assert_null(u.scheme);
    url_free(&u);
}

static void test_input_with_nul_and_invalid_utf8(void **state) {
    (void)state;
    static const char input[] = "http://h/a\0b\xff?\xc3\x28";
    url u;
    assert_int_equal(url_parse(input, sizeof input - 1, NULL, &u, NULL), 0);
    /* NUL is percent-encoded; each invalid UTF-8 sequence reads as U+FFFD. */
    check_str(url_get_pathname(&u), "/a%00b%EF%BF%BD");
    check_str(url_get_search(&u), "?%EF%BF%BD(");
    url_free(&u);
}

static void test_serialization_fragment(void **state) {
    (void)state;
    url u = parse_ok("https://h/p?q#frag", NULL);
    check_str(url_serialize(&u, false), "https://h/p?q#frag");
    check_str(url_serialize(&u, true), "https://h/p?q");
    url_free(&u);
    u = parse_ok("https://h/p#", NULL);
    check_str(url_serialize(&u, false), "https://h/p#");
    check_str(url_get_hash(&u), "");
    url_free(&u);
    /* A path starting with an empty segment and no host gets "/." so it reparses the same. */
    u = parse_ok("web+demo:/.//not-a-host/", NULL);
    check_str(url_serialize(&u, false), "web+demo:/.//not-a-host/");
    check_str(url_get_pathname(&u), "//not-a-host/");
    url_free(&u);
}

static void test_origin(void **state) {
    (void)state;
    static const struct {
        const char *input, *origin;
    } cases[] = {
        {"https://a.com/x", "https://a.com"},
        {"https://a.com:443/", "https://a.com"},
        {"https://a.com:8080/", "https://a.com:8080"},
        {"ws://[::1]:81/", "ws://[::1]:81"},
        {"ftp://f.org/", "ftp://f.org"},
        {"file:///etc/passwd", "null"},
        {"data:text/plain,hi", "null"},
        {"blob:https://a.com:9/uuid", "https://a.com:9"},
        {"blob:file:///x", "null"},
        {"blob:not a url", "null"},
        {"sc://h/", "null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        url u = parse_ok(cases[i].input, NULL);
        check_str(url_origin(&u), cases[i].origin);
        url_free(&u);
    }
}

static void test_opaque_paths(void **state) {
    (void)state;
    url u = parse_ok("mailto:User@Example.com?subject=hi", NULL);
    assert_true(u.opaque_path);
    assert_null(u.host);
    check_str(url_get_pathname(&u), "User@Example.com");
    check_str(url_get_host(&u), "");
    url_free(&u);
    /* A space before '?' or '#' in an opaque path is escaped so that dropping the query or
     * fragment later cannot change the path on reparse. */
    expect_href("sc:a b ?x", NULL, "sc:a b%20?x");
    expect_set("sc:a #x", url_set_hash, "", "sc:a%20");
    expect_set("sc:a ?x", url_set_search, "", "sc:a%20");
}

/* ------------------------------------------------------------------------------------------
 * Setters.
 * ---------------------------------------------------------------------------------------- */

static void test_set_protocol(void **state) {
    (void)state;
    expect_set("http://h/", url_set_protocol, "https", "https://h/");
    expect_set("http://h/", url_set_protocol, "WSS:ignored", "wss://h/");
    /* The port becomes null when it is the new scheme's default. */
    expect_set("http://h:443/", url_set_protocol, "https", "https://h/");
    /* Special to non-special and back is refused. */
    expect_set("http://h/", url_set_protocol, "foo", "http://h/");
    expect_set("foo://h/", url_set_protocol, "http", "foo://h/");
    expect_set("foo://h/", url_set_protocol, "bar", "bar://h/");
    /* file cannot take credentials or a port, and an empty-host file URL keeps its scheme. */
    expect_set("http://u@h/", url_set_protocol, "file", "http://u@h/");
    expect_set("http://h:81/", url_set_protocol, "file", "http://h:81/");
    expect_set("http://h/", url_set_protocol, "file", "file://h/");
    expect_set("file:///x", url_set_protocol, "http", "file:///x");
    expect_set("file://host/x", url_set_protocol, "https", "https://host/x");
    /* Invalid schemes are ignored. */
    expect_set("http://h/", url_set_protocol, "1http", "http://h/");
    expect_set("http://h/", url_set_protocol, "ht tp", "http://h/");
    expect_set("http://h/", url_set_protocol, "", "http://h/");
}

static void test_set_credentials(void **state) {
    (void)state;
    expect_set("http://h/", url_set_username, "us er@:", "http://us%20er%40%3A@h/");
    expect_set("http://u@h/", url_set_password, "p/w", "http://u:p%2Fw@h/");
    expect_set("http://u:p@h/", url_set_password, "", "http://u@h/");
    expect_set("http://u:p@h/", url_set_username, "", "http://:p@h/");
    /* No credentials on file URLs, host-less or empty-host URLs. */
    expect_set("file:///x", url_set_username, "u", "file:///x");
    expect_set("sc:/x", url_set_username, "u", "sc:/x");
    expect_set("sc:///x", url_set_password, "p", "sc:///x");
}

static void test_set_host_and_hostname(void **state) {
    (void)state;
    expect_set("http://h/p", url_set_host, "Example.com:8080", "http://example.com:8080/p");
    /* Without a port in the value, the port stays. */
    expect_set("http://h:81/p", url_set_host, "other", "http://other:81/p");
    expect_set("http://h/p", url_set_host, "x:80", "http://x/p");
    expect_set("http://h/p", url_set_host, "x/ignored?y", "http://x/p");
    /* Invalid hosts and empty hosts on special URLs are ignored. */
    expect_set("http://h/p", url_set_host, "a b", "http://h/p");
    expect_set("http://h/p", url_set_host, "", "http://h/p");
    /* The host is applied before an invalid port is found; the port is left alone. */
    expect_set("http://h:81/p", url_set_host, "x:y", "http://x:81/p");
    /* hostname never takes a port. */
    expect_set("http://h:81/p", url_set_hostname, "x:82", "http://h:81/p");
    expect_set("http://h/p", url_set_hostname, "[::1]", "http://[::1]/p");
    /* Non-special URLs may have an empty host, unless they have credentials or a port. */
    expect_set("sc://h/p", url_set_host, "", "sc:///p");
    expect_set("sc://u@h/p", url_set_host, "", "sc://u@h/p");
    /* file hosts: localhost becomes the empty host. */
    expect_set("file://h/p", url_set_host, "localhost", "file:///p");
    expect_set("file://h/p", url_set_host, "other", "file://other/p");
    /* URLs with an opaque path have no host to set. */
    expect_set("mailto:a@b", url_set_host, "h", "mailto:a@b");
    expect_set("mailto:a@b", url_set_hostname, "h", "mailto:a@b");
    expect_set("sc:opaque", url_set_host, "h", "sc:opaque");
}

static void test_set_port(void **state) {
    (void)state;
    expect_set("http://h/", url_set_port, "8080", "http://h:8080/");
    expect_set("http://h:8080/", url_set_port, "80", "http://h/");
    expect_set("http://h:8080/", url_set_port, "", "http://h/");
    expect_set("http://h/", url_set_port, "8081abc", "http://h:8081/");
    expect_set("http://h:1/", url_set_port, "abc", "http://h:1/");
    expect_set("http://h:1/", url_set_port, "65536", "http://h:1/");
    expect_set("https://h/", url_set_port, "443", "https://h/");
    /* No port on file URLs or URLs without a (non-empty) host. */
    expect_set("file://h/x", url_set_port, "81", "file://h/x");
    expect_set("file:///x", url_set_port, "81", "file:///x");
    expect_set("sc:///x", url_set_port, "81", "sc:///x");
    expect_set("mailto:a@b", url_set_port, "81", "mailto:a@b");
}

static void test_set_pathname(void **state) {
    (void)state;
    expect_set("http://h/old?q#f", url_set_pathname, "/a b/c?d#e%zz",
               "http://h/a%20b/c%3Fd%23e%zz?q#f");
    expect_set("http://h/old", url_set_pathname, "no/leading", "http://h/no/leading");
    expect_set("http://h/old", url_set_pathname, "", "http://h/");
    expect_set("http://h/old", url_set_pathname, "/a/../b/./c/..", "http://h/b/");
    expect_set("http://h/old", url_set_pathname, "\\x\\y", "http://h/x/y");
    expect_set("sc://h/old", url_set_pathname, "", "sc://h");
    expect_set("sc://h/old", url_set_pathname, "\\x", "sc://h/\\x");
    expect_set("sc:/old", url_set_pathname, "//p", "sc:/.//p");
    expect_set("file:///old", url_set_pathname, "C|/x", "file:///C:/x");
    expect_set("mailto:a@b", url_set_pathname, "/x", "mailto:a@b");
}

static void test_set_search_and_hash(void **state) {
    (void)state;
    expect_set("http://h/p?old#f", url_set_search, "new q", "http://h/p?new%20q#f");
    expect_set("http://h/p?old#f", url_set_search, "??x#y", "http://h/p??x%23y#f");
    expect_set("http://h/p?old#f", url_set_search, "", "http://h/p#f");
    expect_set("http://h/p?old#f", url_set_search, "?", "http://h/p?#f");
    expect_set("http://h/p?old", url_set_search, "'", "http://h/p?%27");
    expect_set("sc://h/p?old", url_set_search, "'", "sc://h/p?'");
    expect_set("http://h/p#old", url_set_hash, "new `frag`", "http://h/p#new%20%60frag%60");
    expect_set("http://h/p#old", url_set_hash, "##x", "http://h/p##x");
    expect_set("http://h/p#old", url_set_hash, "", "http://h/p");
    expect_set("http://h/p", url_set_hash, "#", "http://h/p#");
    expect_set("mailto:a@b", url_set_hash, "x", "mailto:a@b#x");

    url u = parse_ok("http://h/p?a=1", NULL);
    check_str(url_get_search(&u), "?a=1");
    url_set_search(&u, "", 0);
    assert_null(u.query);
    check_str(url_get_search(&u), "");
    url_set_query_serialized(&u, "a=b+c");
    check_str(url_get_href(&u), "http://h/p?a=b+c");
    url_set_query_serialized(&u, NULL);
    check_str(url_get_href(&u), "http://h/p");
    url_free(&u);
}

static void test_set_href(void **state) {
    (void)state;
    url u = parse_ok("http://h/", NULL);
    const char *err = NULL;
    assert_int_equal(url_set_href(&u, "https://x/y", 11, &err), 0);
    check_str(url_get_href(&u), "https://x/y");
    assert_int_equal(url_set_href(&u, "relative", 8, &err), -1);
    assert_string_equal(err, "missing scheme");
    check_str(url_get_href(&u), "https://x/y");
    url_free(&u);
}

static void test_copy_is_independent(void **state) {
    (void)state;
    url a = parse_ok("http://u:p@h:81/p?q#f", NULL), b;
    url_copy(&b, &a);
    url_set_pathname(&a, "/changed", 8);
    url_set_hash(&a, "", 0);
    check_str(url_get_href(&b), "http://u:p@h:81/p?q#f");
    check_str(url_get_href(&a), "http://u:p@h:81/changed?q");
    url_free(&a);
    url_free(&b);
}

/* ------------------------------------------------------------------------------------------
 * Hosts.
 * ---------------------------------------------------------------------------------------- */

static void test_ipv4_forms(void **state) {
    (void)state;
    expect_href("http://0x7f.1/", NULL, "http://127.0.0.1/");
    expect_href("http://2130706433/", NULL, "http://127.0.0.1/");
    expect_href("http://0177.0.0.01/", NULL, "http://127.0.0.1/");
    expect_href("http://192.168.257/", NULL, "http://192.168.1.1/");
    expect_href("http://1.2.3.4./", NULL, "http://1.2.3.4/");
    expect_failure("http://1.2.3.4.5/", NULL, "invalid IPv4 address");
    expect_failure("http://4294967296/", NULL, "invalid IPv4 address");
    expect_failure("http://foo.09/", NULL, "invalid IPv4 address");
    /* Not ending in a number: a domain. */
    expect_href("http://1.2.3.foo/", NULL, "http://1.2.3.foo/");
    /* Opaque hosts are never IPv4. */
    expect_href("sc://0x7f.1/", NULL, "sc://0x7f.1/");
}

static void test_ipv6_forms(void **state) {
    (void)state;
    expect_href("http://[0:0:0:0:0:0:0:1]/", NULL, "http://[::1]/");
    expect_href("http://[1:0:0:2:0:0:0:3]/", NULL, "http://[1:0:0:2::3]/");
    expect_href("http://[1:0:0:2:0:0:3:4]/", NULL, "http://[1::2:0:0:3:4]/");
    expect_href("http://[::ffff:192.168.0.1]/", NULL, "http://[::ffff:c0a8:1]/");
    expect_href("http://[ABCD::]/", NULL, "http://[abcd::]/");
    expect_href("http://[1:2:3:4:5:6:7:8]/", NULL, "http://[1:2:3:4:5:6:7:8]/");
    expect_failure("http://[1::2::3]/", NULL, "invalid IPv6 address");
    expect_failure("http://[::1.2.3]/", NULL, "invalid IPv6 address");
    expect_failure("http://[::01.2.3.4]/", NULL, "invalid IPv6 address");
}

static void test_host_parse_api(void **state) {
    (void)state;
    const char *err = NULL;
    check_str(url_host_parse("EXAMPLE.com", 11, false, &err), "example.com");
    check_str(url_host_parse("EXAMPLE.com", 11, true, &err), "EXAMPLE.com");
    check_str(url_host_parse("0x1.2", 5, false, &err), "1.0.0.2");
    check_str(url_host_parse("%41.b", 5, false, &err), "a.b");
    check_str(url_host_parse("a\xc3\xa9", 3, true, &err), "a%C3%A9");
    assert_null(url_host_parse("a<b", 3, true, &err));
    assert_string_equal(err, "forbidden host code point");
    assert_null(url_host_parse("%zz", 3, false, &err));
    assert_string_equal(err, "forbidden host code point");
}

static void test_idna(void **state) {
    (void)state;
    expect_href("http://B\xc3\xbc"
                "cher.de/",
                NULL, "http://xn--bcher-kva.de/");
    expect_href("https://fa\xc3\x9f.ExAmPlE/", NULL, "https://xn--fa-hia.example/");
    /* UTS #46, not IDNA2008: symbols are allowed. */
    expect_href("http://\xe2\x98\x95.example/", NULL, "http://xn--53h.example/");
    /* Full-width dot and letters map to ASCII. */
    expect_href("http://\xef\xbc\xa7o\xe3\x80\x82"
                "com/",
                NULL, "http://go.com/");
    /* Valid Punycode passes; an all-ASCII or empty decoding does not. */
    expect_href("http://XN--53H.example/", NULL, "http://xn--53h.example/");
    expect_failure("http://xn--/", NULL, "invalid Punycode label");
    expect_failure("http://xn--abc-/", NULL, "invalid Punycode label");
    /* CheckHyphens is off, CheckJoiners and CheckBidi are on. */
    expect_href("http://-x-.com/", NULL, "http://-x-.com/");
    expect_failure("http://a\xe2\x80\x8d"
                   "b.com/",
                   NULL, "invalid international domain name");
    expect_failure("http://1.\xd7\x90/", NULL, "invalid international domain name");
    expect_failure("http://\xef\xbf\xbd/", NULL, "invalid international domain name");

    const char *err = NULL;
    check_str(url_domain_to_ascii("B\xc3\xbc"
                                  "cher.de",
                                  10, false, &err),
              "xn--bcher-kva.de");
    check_str(url_domain_to_ascii("a_b.com", 7, false, &err), "a_b.com");
    assert_null(url_domain_to_ascii("a_b.com", 7, true, &err));
    assert_null(url_domain_to_ascii("-ab.com", 7, true, &err));
    check_str(url_domain_to_unicode("xn--bcher-kva.de", 16), "b\xc3\xbc"
                                                             "cher.de");
    check_str(url_domain_to_unicode("xn--zz.de", 9), "xn--zz.de");
}

/* ------------------------------------------------------------------------------------------
 * file: URLs.
 * ---------------------------------------------------------------------------------------- */

static void test_file_urls(void **state) {
    (void)state;
    expect_href("file:///C|/x", NULL, "file:///C:/x");
    expect_href("file://localhost/etc", NULL, "file:///etc");
    expect_href("file:c:\\a\\b", NULL, "file:///c:/a/b");
    expect_href("/x", "file:///C:/y/z", "file:///C:/x");
    expect_href("..", "file:///C:/", "file:///C:/");
    expect_href("file://server/share", NULL, "file://server/share");
    expect_href("?q", "file:///a/b", "file:///a/b?q");
}

/* ------------------------------------------------------------------------------------------
 * Percent-encoding.
 * ---------------------------------------------------------------------------------------- */

static void test_percent_encoding(void **state) {
    (void)state;
    check_str(url_percent_encode("a b/c?d", 7, URL_ENCODE_COMPONENT, false), "a%20b%2Fc%3Fd");
    check_str(url_percent_encode("a b&c=~", 7, URL_ENCODE_FORM_URLENCODED, true), "a+b%26c%3D%7E");
    check_str(url_percent_encode("\xc3\xa9<\x7f", 4, URL_ENCODE_C0_CONTROL, false), "%C3%A9<%7F");
    check_str(url_percent_encode("{x}`", 4, URL_ENCODE_PATH, false), "%7Bx%7D%60");
    check_str(url_percent_encode("\xff", 1, URL_ENCODE_PATH, false), "%EF%BF%BD");
    size_t n;
    char *d = url_percent_decode("%41%2x%%00b", 11, &n);
    assert_int_equal(n, 7);
    assert_memory_equal(d, "A%2x%\0b", 7);
    free(d);
}

static void test_default_ports(void **state) {
    (void)state;
    assert_int_equal(url_default_port("http"), 80);
    assert_int_equal(url_default_port("wss"), 443);
    assert_int_equal(url_default_port("ftp"), 21);
    assert_int_equal(url_default_port("file"), -1);
    assert_int_equal(url_default_port("gopher"), -1);
    url u = parse_ok("ws://h/", NULL);
    assert_true(url_is_special(&u));
    url_free(&u);
    u = parse_ok("sc://h/", NULL);
    assert_false(url_is_special(&u));
    url_free(&u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_url_getters),
        cmocka_unit_test(test_request_url_normalization),
        cmocka_unit_test(test_relative_resolution),
        cmocka_unit_test(test_parse_failures),
        cmocka_unit_test(test_input_with_nul_and_invalid_utf8),
        cmocka_unit_test(test_serialization_fragment),
        cmocka_unit_test(test_origin),
        cmocka_unit_test(test_opaque_paths),
        cmocka_unit_test(test_set_protocol),
        cmocka_unit_test(test_set_credentials),
        cmocka_unit_test(test_set_host_and_hostname),
        cmocka_unit_test(test_set_port),
        cmocka_unit_test(test_set_pathname),
        cmocka_unit_test(test_set_search_and_hash),
        cmocka_unit_test(test_set_href),
        cmocka_unit_test(test_copy_is_independent),
        cmocka_unit_test(test_ipv4_forms),
        cmocka_unit_test(test_ipv6_forms),
        cmocka_unit_test(test_host_parse_api),
        cmocka_unit_test(test_idna),
        cmocka_unit_test(test_file_urls),
        cmocka_unit_test(test_percent_encoding),
        cmocka_unit_test(test_default_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
