/* libFuzzer target for the URL parser.
 *
 * Parses the input on its own and against a fixed base, and checks the standard's round-trip
 * guarantee: the href of a parsed URL parses again, to the same href. Then runs every URL API
 * setter with the input (on URLs of different shapes) and checks the same guarantee for the
 * result, and feeds the input to the host and IDNA entry points.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE \
 *       -Isrc tests/fuzz/fuzz_url.c src/webapi/url.c src/webapi/url_host.c src/webapi/url_idna.c \
 *       src/base/alloc.c src/base/buf.c -o /tmp/fuzz_url
 *   /tmp/fuzz_url -max_total_time=120 corpus_dir   (seed it with the WPT inputs) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webapi/url.h"

static const char *const bases[] = {
    "https://user:pass@example.com:8080/dir/file?query#frag",
    "file:///C:/dir/file",
    "sc://host/a/b",
    "sc:opaque?q#f",
    "sc:/.//p",
};

/* Aborts unless href parses again to exactly href. */
static void check_round_trip(const url *u, const char *what) {
    char *href = url_serialize(u, false);
    url again;
    const char *err = NULL;
    if (url_parse(href, strlen(href), NULL, &again, &err) != 0) {
        fprintf(stderr, "%s: href \"%s\" does not reparse: %s\n", what, href, err);
        abort();
    }
    char *href2 = url_serialize(&again, false);
    if (strcmp(href, href2) != 0) {
        fprintf(stderr, "%s: href \"%s\" reparses as \"%s\"\n", what, href, href2);
        abort();
    }
    free(href2);
    url_free(&again);
    free(href);
}

static void exercise_getters(const url *u) {
    char *(*const getters[])(const url *) = {
        url_get_href,   url_get_protocol, url_get_username, url_get_password,
        url_get_host,   url_get_hostname, url_get_port,     url_get_pathname,
        url_get_search, url_get_hash,     url_origin,
    };
    for (size_t i = 0; i < sizeof getters / sizeof getters[0]; i++) free(getters[i](u));
}

static void exercise_setters(const char *data, size_t size) {
    void (*const setters[])(url *, const char *, size_t) = {
        url_set_protocol, url_set_username, url_set_password, url_set_host, url_set_hostname,
        url_set_port,     url_set_pathname, url_set_search,   url_set_hash,
    };
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++) {
        for (size_t i = 0; i < sizeof setters / sizeof setters[0]; i++) {
            url u;
            if (url_parse(bases[b], strlen(bases[b]), NULL, &u, NULL) != 0) abort();
            setters[i](&u, data, size);
            check_round_trip(&u, "setter");
            url_free(&u);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size) {
    const char *data = (const char *)bytes;
    url u, base;
    if (url_parse(data, size, NULL, &u, NULL) == 0) {
        check_round_trip(&u, "parse");
        exercise_getters(&u);
        url_free(&u);
    }
    if (url_parse(bases[0], strlen(bases[0]), NULL, &base, NULL) != 0) abort();
    if (url_parse(data, size, &base, &u, NULL) == 0) {
        check_round_trip(&u, "parse with base");
        url_free(&u);
    }
    url_free(&base);

    exercise_setters(data, size);

    free(url_host_parse(data, size, false, NULL));
    free(url_host_parse(data, size, true, NULL));
    free(url_domain_to_ascii(data, size, true, NULL));
    free(url_domain_to_unicode(data, size));
    return 0;
}
