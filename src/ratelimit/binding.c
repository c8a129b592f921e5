/* binding — see binding.h. */
#include "ratelimit/binding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool fail(char *field, size_t fieldlen, const char *f, char *msg, size_t msglen,
                 const char *m) {
    snprintf(field, fieldlen, "%s", f);
    snprintf(msg, msglen, "%s", m);
    return false;
}

/* What the user wrote, for the message: JSON text, shortened. */
static void describe(const json_t *v, char *out, size_t outlen) {
    char *text = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    snprintf(out, outlen, "%.40s%s", text ? text : "nothing",
             text && strlen(text) > 40 ? "..." : "");
    free(text);
}

bool ratelimit_binding_check(const json_t *b, char *field, size_t fieldlen, char *msg,
                             size_t msglen) {
    char got[64], m[160];
    const json_t *ns = json_object_get(b, "namespace_id");
    const char *s = json_string_value(ns);
    size_t n = s ? strlen(s) : 0;
    bool digits = n > 0 && n <= 19 && strspn(s, "0123456789") == n;
    if (!digits) {
        describe(ns, got, sizeof got);
        snprintf(m, sizeof m, "must be a string holding a positive integer, e.g. \"1001\" (got %s)",
                 got);
        return fail(field, fieldlen, "namespace_id", msg, msglen, m);
    }
    const json_t *simple = json_object_get(b, "simple");
    if (!json_is_object(simple))
        return fail(field, fieldlen, "simple", msg, msglen,
                    "required: { limit = <requests>, period = " RATELIMIT_PERIODS " }");
    const json_t *limit = json_object_get(simple, "limit");
    if (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
        json_integer_value(limit) > RATELIMIT_MAX_LIMIT) {
        describe(limit, got, sizeof got);
        snprintf(m, sizeof m, "must be a positive integer (at most %d), got %s",
                 RATELIMIT_MAX_LIMIT, got);
        return fail(field, fieldlen, "simple.limit", msg, msglen, m);
    }
    const json_t *period = json_object_get(simple, "period");
    if (!json_is_integer(period) ||
        (json_integer_value(period) != 10 && json_integer_value(period) != 60)) {
        describe(period, got, sizeof got);
        snprintf(m, sizeof m, "must be " RATELIMIT_PERIODS " (seconds), got %s", got);
        return fail(field, fieldlen, "simple.period", msg, msglen, m);
    }
    return true;
}
