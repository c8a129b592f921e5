/* Unit tests for trace events (src/observe/trace.c), the JSON text writer they use
 * (src/base/json_text.c) and live tail sessions (src/observe/tail.c): the event's shape,
 * redaction, truncation, filters, sampling, the bounded queue and its notices. Events are
 * checked by parsing them back with jansson. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/buf.h"
#include "base/json_text.h"
#include "observe/tail.h"
#include "observe/trace.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static const char kHeaders[] = "Host: example.com\r\n"
                               "Authorization: Bearer secret\r\n"
                               "Cookie: sid=1\r\n"
                               "X-Api-Key: k\r\n"
                               "Accept: text/html\r\n"
                               "accept: application/json\r\n"
                               "X-User: 42\r\n";

static trace_record *record(void) {
    const char *url = "https://example.com/path?q=1";
    return trace_record_new(1000, "POST", url, strlen(url), kHeaders, sizeof kHeaders - 1,
                            "203.0.113.7");
}

static const trace_meta kMeta = {
    .script = "shop",
    .version_id = "11111111-2222-4333-8444-555555555555",
    .version_tag = "v2",
    .version_message = NULL,
    .entrypoint = "fetch",
    .outcome = "exception",
    .status = 500,
    .cpu_ms = 1.4,
    .wall_ms = 2.6,
};

static json_t *event_of(trace_record *t, const trace_meta *m) {
    buf b = {0};
    trace_record_write(t, m, &b);
    json_error_t err;
    json_t *ev = json_loadb(b.data, b.len, 0, &err);
    if (!ev) fail_msg("the event is not JSON (%s): %.*s", err.text, (int)b.len, b.data);
    buf_free(&b);
    return ev;
}

/* ---- json_text --------------------------------------------------------------------------- */

static void test_json_text_escapes_and_repairs(void **state) {
    (void)state;
    const char input[] = "a\"b\\c\n\t\x01 é \xff\xfe ok \xe2\x82 \xf0\x9f\x98\x80 \xed\xa0\x80";
    buf b = {0};
    json_text_string(&b, input, sizeof input - 1);
    json_t *s = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
    assert_non_null(s); /* always valid JSON */
    assert_string_equal(json_string_value(s),
                        "a\"b\\c\n\t\x01 é \xef\xbf\xbd\xef\xbf\xbd ok \xef\xbf\xbd\xef\xbf\xbd "
                        "\xf0\x9f\x98\x80 \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    json_decref(s);
    buf_clear(&b);
    json_text_cstring(&b, NULL);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "null", 4);
    buf_free(&b);
}

/* ---- trace events ------------------------------------------------------------------------ */

static void test_event_shape(void **state) {
    (void)state;
    trace_record *t = record();
    trace_record_log(t, "log", "[\"hello\",{\"n\":1}]", 17, 1001);
    trace_record_log(t, "warn", "not an array", 12, 1002);
    trace_record_exception(t, "TypeError", "bad \"thing\"", "TypeError: bad\n    at f (a.js:1:2)",
                           1003);
    json_t *ev = event_of(t, &kMeta);
    assert_string_equal(json_string_value(json_object_get(ev, "scriptName")), "shop");
    json_t *ver = json_object_get(ev, "scriptVersion");
    assert_string_equal(json_string_value(json_object_get(ver, "id")), kMeta.version_id);
    assert_string_equal(json_string_value(json_object_get(ver, "tag")), "v2");
    assert_true(json_is_null(json_object_get(ver, "message")));
    assert_string_equal(json_string_value(json_object_get(ev, "entrypoint")), "fetch");
    json_t *req = json_object_get(json_object_get(ev, "event"), "request");
    assert_string_equal(json_string_value(json_object_get(req, "url")),
                        "https://example.com/path?q=1");
    assert_string_equal(json_string_value(json_object_get(req, "method")), "POST");
    assert_true(json_is_object(json_object_get(req, "cf")));
    json_t *h = json_object_get(req, "headers");
    assert_string_equal(json_string_value(json_object_get(h, "host")), "example.com");
    assert_string_equal(json_string_value(json_object_get(h, "authorization")), "REDACTED");
    assert_string_equal(json_string_value(json_object_get(h, "cookie")), "REDACTED");
    assert_string_equal(json_string_value(json_object_get(h, "x-api-key")), "REDACTED");
    assert_string_equal(json_string_value(json_object_get(h, "accept")),
                        "text/html, application/json");
    assert_string_equal(json_string_value(json_object_get(h, "x-user")), "42");
    assert_int_equal(json_object_size(h), 6);
    json_t *resp = json_object_get(json_object_get(ev, "event"), "response");
    assert_int_equal(json_integer_value(json_object_get(resp, "status")), 500);
    assert_int_equal(json_integer_value(json_object_get(ev, "eventTimestamp")), 1000);
    assert_string_equal(json_string_value(json_object_get(ev, "outcome")), "exception");
    json_t *logs = json_object_get(ev, "logs");
    assert_int_equal(json_array_size(logs), 2);
    json_t *first = json_array_get(logs, 0);
    assert_string_equal(json_string_value(json_object_get(first, "level")), "log");
    assert_int_equal(json_integer_value(json_object_get(first, "timestamp")), 1001);
    json_t *msg = json_object_get(first, "message");
    assert_string_equal(json_string_value(json_array_get(msg, 0)), "hello");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(msg, 1), "n")), 1);
    json_t *second = json_object_get(json_array_get(logs, 1), "message");
    assert_string_equal(json_string_value(json_array_get(second, 0)), "not an array");
    json_t *ex = json_array_get(json_object_get(ev, "exceptions"), 0);
    assert_string_equal(json_string_value(json_object_get(ex, "name")), "TypeError");
    assert_string_equal(json_string_value(json_object_get(ex, "message")), "bad \"thing\"");
    assert_string_equal(json_string_value(json_object_get(ex, "stack")),
                        "TypeError: bad\n    at f (a.js:1:2)");
    assert_int_equal(json_integer_value(json_object_get(ev, "cpuTime")), 1);
    assert_int_equal(json_integer_value(json_object_get(ev, "wallTime")), 3);
    assert_true(json_is_false(json_object_get(ev, "truncated")));
    json_decref(ev);

    /* No response sent: null. */
    trace_meta m = kMeta;
    m.status = 0;
    ev = event_of(t, &m);
    assert_true(json_is_null(json_object_get(json_object_get(ev, "event"), "response")));
    json_decref(ev);
    trace_record_free(t);
}

static void test_event_truncated(void **state) {
    (void)state;
    trace_record *t = record();
    char big[10000];
    memset(big, 'x', sizeof big);
    big[0] = '[';
    big[1] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = ']';
    size_t kept = 0;
    for (int i = 0; i < 100; i++) trace_record_log(t, "log", big, sizeof big, 1);
    trace_record_exception(t, "Error", "after the budget", "", 2);
    json_t *ev = event_of(t, &kMeta);
    kept = json_array_size(json_object_get(ev, "logs"));
    assert_true(kept > 10 && kept < 100);
    assert_true(kept * sizeof big <= TRACE_MAX_BYTES);
    assert_int_equal(json_array_size(json_object_get(ev, "exceptions")), 0);
    assert_true(json_is_true(json_object_get(ev, "truncated")));
    json_decref(ev);
    trace_record_free(t);
}

static void test_record_fields_for_filters(void **state) {
    (void)state;
    trace_record *t = record();
    trace_record_log(t, "log", "[\"Needle in a haystack\"]", 24, 1);
    size_t len;
    const char *v = trace_record_header(t, "x-user", &len);
    assert_non_null(v);
    assert_int_equal(len, 2);
    assert_memory_equal(v, "42", 2);
    v = trace_record_header(t, "AUTHORIZATION", &len);
    assert_string_equal(v, "REDACTED");
    assert_null(trace_record_header(t, "x-missing", &len));
    assert_true(trace_record_contains(t, "needle"));
    assert_true(trace_record_contains(t, "path?Q=1")); /* the URL, any case */
    assert_false(trace_record_contains(t, "secret"));  /* headers are not searched */
    assert_string_equal(trace_record_method(t), "POST");
    assert_string_equal(trace_record_client_ip(t), "203.0.113.7");
    assert_true(trace_header_is_sensitive("X-Auth-Token", 12));
    assert_true(trace_header_is_sensitive("Set-Cookie", 10));
    assert_false(trace_header_is_sensitive("Content-Type", 12));
    trace_record_free(t);
}

/* ---- tail sessions ----------------------------------------------------------------------- */

static int notified;
static void on_notify(void *arg) {
    (*(int *)arg)++;
}

typedef struct collected {
    size_t n;
    json_t *items;
} collected;

static void collect(void *arg, const char *text, size_t len) {
    collected *c = arg;
    json_t *v = json_loadb(text, len, 0, NULL);
    assert_non_null(v);
    json_array_append_new(c->items, v);
    c->n++;
}

static size_t offer(tail_session *s, trace_record *t, const trace_meta *m, uint64_t now) {
    tail_offer o = {.record = t, .meta = m};
    size_t taken = tail_session_offer(s, &o, now);
    buf_free(&o.json);
    return taken;
}

static void test_tail_filters(void **state) {
    (void)state;
    notified = 0;
    tail_session *s = tail_session_new("id1", "shop", 0, on_notify, &notified);
    trace_record *t = record();
    trace_record_log(t, "log", "[\"checkout failed\"]", 19, 1);
    const char *ok[] = {
        "{\"filters\":[]}",
        "{\"filters\":[{\"outcome\":[\"ok\",\"exception\"]}]}",
        "{\"filters\":[{\"method\":[\"post\"]}]}",
        "{\"filters\":[{\"client_ip\":[\"203.0.113.7\"]}]}",
        "{\"filters\":[{\"version_id\":[\"11111111-2222-4333-8444-555555555555\"]}]}",
        "{\"filters\":[{\"header\":{\"key\":\"X-User\",\"query\":\"4\"}}]}",
        "{\"filters\":[{\"header\":{\"key\":\"x-user\"}}]}",
        "{\"filters\":[{\"query\":\"CHECKOUT\"}]}",
        "{\"filters\":[{\"outcome\":\"exception\"},{\"method\":[\"POST\"]},{\"query\":\"fail\"}]}",
    };
    const char *no[] = {
        "{\"filters\":[{\"outcome\":[\"ok\"]}]}",
        "{\"filters\":[{\"method\":[\"GET\"]}]}",
        "{\"filters\":[{\"client_ip\":[\"198.51.100.1\"]}]}",
        "{\"filters\":[{\"version_id\":[\"00000000-0000-4000-8000-000000000000\"]}]}",
        "{\"filters\":[{\"header\":{\"key\":\"x-user\",\"query\":\"7\"}}]}",
        "{\"filters\":[{\"header\":{\"key\":\"x-other\"}}]}",
        "{\"filters\":[{\"query\":\"refund\"}]}",
        "{\"filters\":[{\"outcome\":[\"exception\"]},{\"method\":[\"GET\"]}]}",
    };
    char err[256];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(tail_session_set_filters(s, ok[i], strlen(ok[i]), err, sizeof err), 0);
        if (offer(s, t, &kMeta, 10000 + i * 2000) != 1) fail_msg("filters %s rejected", ok[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        assert_int_equal(tail_session_set_filters(s, no[i], strlen(no[i]), err, sizeof err), 0);
        if (offer(s, t, &kMeta, 40000 + i * 2000) != 0) fail_msg("filters %s accepted", no[i]);
    }
    assert_int_equal(notified, (int)(sizeof ok / sizeof ok[0]));
    collected c = {0, json_array()};
    assert_int_equal(tail_session_drain(s, 100000, collect, &c), sizeof ok / sizeof ok[0]);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(c.items, 0), "scriptName")), "shop");
    json_decref(c.items);
    tail_session_stats st;
    tail_session_stats_get(s, &st);
    assert_int_equal(st.offered, 17);
    assert_int_equal(st.filtered, 8);
    assert_int_equal(st.sent, 9);

    /* Bad filter messages are refused naming what is wrong; the old filters stay. */
    const char *bad[][2] = {
        {"not json", "not JSON"},
        {"[1]", "expected {\"filters\""},
        {"{\"filters\":[{\"colour\":[\"red\"]}]}", "unknown filter \"colour\""},
        {"{\"filters\":[{\"outcome\":[1]}]}", "\"outcome\"[0] must be a string"},
        {"{\"filters\":[{\"sampling_rate\":0}]}", "sampling_rate"},
        {"{\"filters\":[{\"header\":{\"query\":\"x\"}}]}", "filters[0].header"},
        {"{\"filters\":[{\"a\":1,\"b\":2}]}", "one key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tail_session_set_filters(s, bad[i][0], strlen(bad[i][0]), err, sizeof err),
                         -1);
        if (!strstr(err, bad[i][1]))
            fail_msg("%s: error \"%s\" lacks \"%s\"", bad[i][0], err, bad[i][1]);
    }
    assert_int_equal(offer(s, t, &kMeta, 200000), 0); /* still the last good filters */

    tail_session_close(s);
    assert_true(tail_session_closed(s));
    assert_int_equal(tail_session_set_filters(s, "{\"filters\":[]}", 14, err, sizeof err), 0);
    assert_int_equal(offer(s, t, &kMeta, 300000), 0);
    trace_record_free(t);
    tail_session_unref(s);
}

static void test_tail_sampling(void **state) {
    (void)state;
    tail_session *s = tail_session_new("id2", "shop", 0, NULL, NULL);
    trace_record *t = record();
    /* 1000 events a second for 5 seconds. */
    size_t kept_per_second[5] = {0};
    for (uint64_t ms = 0; ms < 5000; ms++)
        kept_per_second[ms / 1000] += offer(s, t, &kMeta, 10000 + ms);
    /* The first second keeps the first 100 (no rate known yet); later ones about 100, spread. */
    assert_int_equal(kept_per_second[0], TAIL_MAX_EVENTS_PER_SECOND);
    for (int i = 1; i < 5; i++) {
        assert_true(kept_per_second[i] <= TAIL_MAX_EVENTS_PER_SECOND);
        assert_true(kept_per_second[i] >= 70);
    }
    collected c = {0, json_array()};
    tail_session_drain(s, 100000, collect, &c);
    json_t *notice = json_array_get(c.items, json_array_size(c.items) - 1);
    assert_string_equal(json_string_value(json_object_get(notice, "type")), "notice");
    assert_true(json_integer_value(json_object_get(notice, "sampled_out")) > 4000);
    assert_true(strstr(json_string_value(json_object_get(notice, "message")), "sampling") != NULL);
    json_decref(c.items);

    /* The next notice waits TAIL_NOTICE_INTERVAL_MS. */
    for (uint64_t ms = 0; ms < 300; ms++) offer(s, t, &kMeta, 20000 + ms);
    c = (collected){0, json_array()};
    tail_session_drain(s, 100000 + 1000, collect, &c);
    for (size_t i = 0; i < json_array_size(c.items); i++)
        assert_null(json_object_get(json_array_get(c.items, i), "type"));
    json_decref(c.items);
    c = (collected){0, json_array()};
    tail_session_drain(s, 100000 + TAIL_NOTICE_INTERVAL_MS, collect, &c);
    assert_int_equal(json_array_size(c.items), 1);
    json_decref(c.items);

    /* A client-side sampling rate keeps about that share. */
    char err[128];
    const char *half = "{\"filters\":[{\"sampling_rate\":0.5}]}";
    assert_int_equal(tail_session_set_filters(s, half, strlen(half), err, sizeof err), 0);
    size_t kept = 0;
    for (uint64_t i = 0; i < 2000; i++) kept += offer(s, t, &kMeta, 50000 + i * 50);
    assert_true(kept > 850 && kept < 1150);
    trace_record_free(t);
    tail_session_unref(s);
}

static void test_tail_queue_bound(void **state) {
    (void)state;
    tail_session *s = tail_session_new("id3", "shop", 0, NULL, NULL);
    trace_record *t = record();
    char big[200000];
    memset(big, 'y', sizeof big);
    big[0] = '[';
    big[1] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = ']';
    trace_record_log(t, "log", big, sizeof big, 1);
    /* 50 events of ~200 KB in a quiet rate (one every 20 ms): the queue holds about 4 MiB. */
    size_t queued = 0;
    for (uint64_t i = 0; i < 50; i++) queued += offer(s, t, &kMeta, 1000 + i * 20);
    assert_true(queued >= 18 && queued <= 21);
    tail_session_stats st;
    tail_session_stats_get(s, &st);
    assert_int_equal(st.dropped, 50 - queued);
    collected c = {0, json_array()};
    assert_int_equal(tail_session_drain(s, 100000, collect, &c), queued + 1);
    json_t *notice = json_array_get(c.items, queued);
    assert_int_equal(json_integer_value(json_object_get(notice, "dropped")), 50 - queued);
    assert_true(strstr(json_string_value(json_object_get(notice, "message")), "dropped") != NULL);
    json_decref(c.items);
    /* Drained: room again. */
    assert_int_equal(offer(s, t, &kMeta, 2000000), 1);
    trace_record_free(t);
    tail_session_unref(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_text_escapes_and_repairs),
        cmocka_unit_test(test_event_shape),
        cmocka_unit_test(test_event_truncated),
        cmocka_unit_test(test_record_fields_for_filters),
        cmocka_unit_test(test_tail_filters),
        cmocka_unit_test(test_tail_sampling),
        cmocka_unit_test(test_tail_queue_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
