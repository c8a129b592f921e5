/* Conformance runner for the URL parser against web-platform-tests' urltestdata.json.
 *
 * Every case is `new URL(input, base)`: either it must fail, or every field the case gives
 * (href, origin, protocol, username, password, host, hostname, port, pathname, search, hash,
 * searchParams) must match the corresponding getter. The data is found at
 * $HEARTH_CONFORMANCE_DIR/wpt-url or ../shared/conformance/wpt-url from the repository root. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "webapi/url.h"

static int read_file(const char *path, buf *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(out, chunk, n);
    fclose(f);
    return 0;
}

static int hex4(const char *s) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

/* The data has JSON escapes of lone surrogates, which jansson rejects. A JS string holding one
 * reaches the parser as U+FFFD (USVString conversion), so rewrite them to \uFFFD. */
static void replace_lone_surrogates(const buf *in, buf *out) {
    for (size_t i = 0; i < in->len; i++) {
        const char *s = in->data + i;
        if (s[0] != '\\') {
            buf_putc(out, s[0]);
            continue;
        }
        if (i + 6 > in->len || s[1] != 'u') {
            buf_append(out, s, i + 1 < in->len ? 2 : 1);
            i++;
            continue;
        }
        int cu = hex4(s + 2);
        if (cu >= 0xD800 && cu <= 0xDBFF && i + 12 <= in->len && s[6] == '\\' && s[7] == 'u' &&
            hex4(s + 8) >= 0xDC00 && hex4(s + 8) <= 0xDFFF) {
            buf_append(out, s, 12); /* a proper pair */
            i += 11;
        } else if (cu >= 0xD800 && cu <= 0xDFFF) {
            buf_puts(out, "\\uFFFD");
            i += 5;
        } else {
            buf_append(out, s, 6);
            i += 5;
        }
    }
}

/* Prints s with control and non-ASCII bytes escaped, so failures are readable. */
static void print_escaped(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F)
            printf("\\x%02X", c);
        else if (c == '"' || c == '\\')
            printf("\\%c", c);
        else
            putchar(c);
    }
    putchar('"');
}

/* URLSearchParams: parse the query as application/x-www-form-urlencoded and serialize it. */
static char *search_params_of(const char *query) {
    buf out = {0};
    const char *p = query ? query : "";
    bool first = true;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            const char *eq = memchr(p, '=', len);
            size_t name_len = eq ? (size_t)(eq - p) : len;
            const char *parts[2] = {p, eq ? eq + 1 : p + len};
            size_t lens[2] = {name_len, eq ? len - name_len - 1 : 0};
            if (!first) buf_putc(&out, '&');
            first = false;
            for (int k = 0; k < 2; k++) {
                char *plus = xmemdup0(parts[k], lens[k]);
                for (char *c = plus; *c; c++)
                    if (*c == '+') *c = ' ';
                size_t dlen;
                char *decoded = url_percent_decode(plus, lens[k], &dlen);
                char *encoded = url_percent_encode(decoded, dlen, URL_ENCODE_FORM_URLENCODED, true);
                buf_puts(&out, encoded);
                if (k == 0) buf_putc(&out, '=');
                free(plus), free(decoded), free(encoded);
            }
        }
        p += len;
        if (*p == '&') p++;
    }
    return buf_detach(&out, NULL);
}

typedef char *(*getter)(const url *);

static char *get_origin(const url *u) {
    return url_origin(u);
}
static char *get_search_params(const url *u) {
    return search_params_of(u->query);
}

static const struct {
    const char *field;
    getter get;
} fields[] = {
    {"href", url_get_href},         {"origin", get_origin},
    {"protocol", url_get_protocol}, {"username", url_get_username},
    {"password", url_get_password}, {"host", url_get_host},
    {"hostname", url_get_hostname}, {"port", url_get_port},
    {"pathname", url_get_pathname}, {"search", url_get_search},
    {"hash", url_get_hash},         {"searchParams", get_search_params},
};

static void report_case(const char *in, size_t in_len, json_t *base) {
    printf("FAIL input=");
    print_escaped(in, in_len);
    printf(" base=");
    if (json_is_string(base))
        print_escaped(json_string_value(base), json_string_length(base));
    else
        printf("null");
}

/* Runs one case; returns true if it passed. */
static bool run_case(json_t *c) {
    json_t *jin = json_object_get(c, "input"), *jbase = json_object_get(c, "base");
    const char *in = json_string_value(jin);
    size_t in_len = json_string_length(jin);
    bool expect_failure = json_is_true(json_object_get(c, "failure"));
    const char *err = NULL;
    url u;
    int rc = json_is_string(jbase)
                 ? url_parse_with_base_string(in, in_len, json_string_value(jbase),
                                              json_string_length(jbase), &u, &err)
                 : url_parse(in, in_len, NULL, &u, &err);
    if (expect_failure || rc < 0) {
        bool ok = expect_failure == (rc < 0);
        if (!ok) {
            report_case(in, in_len, jbase);
            if (expect_failure) {
                char *href = url_serialize(&u, false);
                printf(" expected failure, got %s\n", href);
                free(href);
            } else {
                printf(" expected success, got failure (%s)\n", err ? err : "?");
            }
        }
        if (rc == 0) url_free(&u);
        return ok;
    }
    bool ok = true;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *want = json_object_get(c, fields[i].field);
        if (!json_is_string(want)) continue;
        char *got = fields[i].get(&u);
        if (strcmp(got, json_string_value(want)) != 0) {
            report_case(in, in_len, jbase);
            printf(" field=%s expected=", fields[i].field);
            print_escaped(json_string_value(want), json_string_length(want));
            printf(" got=");
            print_escaped(got, strlen(got));
            putchar('\n');
            ok = false;
        }
        free(got);
    }
    url_free(&u);
    return ok;
}

static void skip(const char *path) {
    const char *fmt = "wpt-url: SKIPPED — conformance data not found at %s (set "
                      "HEARTH_CONFORMANCE_DIR)\n";
    printf(fmt, path);
    fprintf(stderr, fmt, path);
}

int main(void) {
    const char *env = getenv("HEARTH_CONFORMANCE_DIR");
    buf dir = {0}, path = {0};
    buf_printf(&dir, "%s/wpt-url", env && *env ? env : "../shared/conformance");
    buf_printf(&path, "%s/urltestdata.json", dir.data);
    buf raw = {0}, text = {0};
    int rc = 0;
    if (read_file(path.data, &raw) < 0) {
        skip(dir.data);
        goto done;
    }
    replace_lone_surrogates(&raw, &text);
    json_error_t jerr;
    json_t *root = json_loadb(text.data, text.len, JSON_ALLOW_NUL, &jerr);
    if (!json_is_array(root)) {
        printf("wpt-url: cannot parse %s: %s (line %d)\n", path.data, jerr.text, jerr.line);
        rc = 1;
        goto done;
    }
    size_t passed = 0, total = 0, i;
    json_t *c;
    json_array_foreach(root, i, c) {
        if (!json_is_object(c)) continue; /* comments */
        total++;
        passed += run_case(c);
    }
    printf("wpt-url: %zu/%zu urltestdata cases passed\n", passed, total);
    json_decref(root);
    rc = passed == total ? 0 : 1;
done:
    buf_free(&raw), buf_free(&text), buf_free(&dir), buf_free(&path);
    return rc;
}
