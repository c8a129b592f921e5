/* The URL class keeps the values of its getters in an array; parsing and every setter return
 * a fresh array from C, so JavaScript never re-implements any URL Standard algorithm. */
#include "webapi/url_ops.h"

#include <stdlib.h>
#include <string.h>

#include "js/engine.h"
#include "webapi/url.h"

/* Order of the array: must match the indexes in src/runtime/url.js. */
static void push_record(js_call *c, const url *u) {
    char *parts[] = {url_get_href(u),     url_get_protocol(u), url_get_username(u),
                     url_get_password(u), url_get_host(u),     url_get_hostname(u),
                     url_get_port(u),     url_get_pathname(u), url_get_search(u),
                     url_get_hash(u),     url_origin(u)};
    js_ret_list(c);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        js_ret_push_string(c, parts[i], strlen(parts[i]));
        free(parts[i]);
    }
}

/* urlParse(input, base | null) → record, or null when parsing fails. */
static void op_url_parse(js_call *c) {
    size_t len, base_len = 0;
    const char *input = js_arg_string(c, 0, &len);
    const char *base = js_arg_is_nullish(c, 1) ? NULL : js_arg_string(c, 1, &base_len);
    url u;
    if (url_parse_with_base_string(input, len, base, base_len, &u, NULL) != 0) {
        js_ret_null(c);
        return;
    }
    push_record(c, &u);
    url_free(&u);
}

/* urlSet(href, field, value) → the record after the setter, or null when the href setter is
 * given an invalid URL (the class throws then). */
static void op_url_set(js_call *c) {
    size_t href_len, vlen;
    const char *href = js_arg_string(c, 0, &href_len);
    const char *field = js_arg_string(c, 1, NULL);
    const char *value = js_arg_string(c, 2, &vlen);
    url u;
    if (url_parse(href, href_len, NULL, &u, NULL) != 0) {
        js_ret_null(c);
        return;
    }
    static const struct {
        const char *name;
        void (*set)(url *, const char *, size_t);
    } setters[] = {
        {"protocol", url_set_protocol}, {"username", url_set_username},
        {"password", url_set_password}, {"host", url_set_host},
        {"hostname", url_set_hostname}, {"port", url_set_port},
        {"pathname", url_set_pathname}, {"search", url_set_search},
        {"hash", url_set_hash},
    };
    if (!strcmp(field, "href")) {
        if (url_set_href(&u, value, vlen, NULL) != 0) {
            url_free(&u);
            js_ret_null(c);
            return;
        }
    } else if (!strcmp(field, "query")) {
        /* URLSearchParams' update steps: value is already form-urlencoded; "" means null. */
        url_set_query_serialized(&u, vlen ? value : NULL);
    } else {
        size_t i = 0, n = sizeof setters / sizeof setters[0];
        while (i < n && strcmp(setters[i].name, field) != 0) i++;
        if (i == n) {
            url_free(&u);
            js_throw(c, "TypeError", "urlSet: unknown field %s", field);
            return;
        }
        setters[i].set(&u, value, vlen);
    }
    push_record(c, &u);
    url_free(&u);
}

static const js_op url_ops[] = {
    {"urlParse", op_url_parse},
    {"urlSet", op_url_set},
};

void url_ops_register(void) {
    js_ops_register(url_ops, sizeof url_ops / sizeof url_ops[0]);
}
