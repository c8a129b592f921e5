/* Unit tests for the rate limiter (src/ratelimit/): the sliding-window rule at the edges of
 * windows with a clock the test moves, the embedded table (sharing, expiry, the memory bound,
 * many threads at once), binding validation, and the limiter's statistics. The memcached
 * backend is tested against a real memcached in test_memcached.c and end to end in
 * tests/e2e/ratelimit.test.mjs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "ratelimit/binding.h"
#include "ratelimit/embedded.h"
#include "ratelimit/ratelimit.h"
#include "ratelimit/window.h"

#define PERIOD_MS 60000ull /* one 60-second period, in ms */

/* ---- the window rule ------------------------------------------------------------------- */

static void test_window_rule(void **state) {
    (void)state;
    /* No previous window: exactly `limit` requests. */
    assert_true(rl_window_allows(0, 100, 0, 60, 100));
    assert_false(rl_window_allows(0, 101, 0, 60, 100));
    /* At the very start of a window the previous one weighs fully... */
    assert_false(rl_window_allows(100, 1, 10 * PERIOD_MS, 60, 100));
    /* ...and halfway through, half: 50 + 50 fits, 50 + 51 does not. */
    assert_true(rl_window_allows(100, 50, 10 * PERIOD_MS + PERIOD_MS / 2, 60, 100));
    assert_false(rl_window_allows(100, 51, 10 * PERIOD_MS + PERIOD_MS / 2, 60, 100));
    /* The last millisecond of a window: 100 × 1/60000 of the previous one still counts. */
    assert_true(rl_window_allows(100, 99, 11 * PERIOD_MS - 1, 60, 100));
    assert_false(rl_window_allows(100, 100, 11 * PERIOD_MS - 1, 60, 100));
    /* 10-second periods. */
    assert_true(rl_window_allows(10, 5, 10000 + 5000, 10, 10));
    assert_false(rl_window_allows(10, 6, 10000 + 5000, 10, 10));
    assert_int_equal(rl_window_index(59999, 60), 0);
    assert_int_equal(rl_window_index(60000, 60), 1);
    /* Huge counts saturate instead of overflowing. */
    assert_false(rl_window_allows(UINT64_MAX, UINT64_MAX, 0, 60, 1000000000));
}

/* ---- the embedded table ---------------------------------------------------------------- */

static void test_table_limits_per_key(void **state) {
    (void)state;
    rl_table *t = rl_table_new(0);
    uint64_t now = 100 * PERIOD_MS + 5;
    for (int i = 0; i < 100; i++) assert_true(rl_table_hit(t, "a", 1, 100, 60, now));
    assert_false(rl_table_hit(t, "a", 1, 100, 60, now));
    /* Refused requests use up nothing: still refused, still exactly 100 counted. */
    for (int i = 0; i < 50; i++) assert_false(rl_table_hit(t, "a", 1, 100, 60, now));
    /* Another key, and the same key with another period, count separately. */
    assert_true(rl_table_hit(t, "b", 1, 100, 60, now));
    assert_true(rl_table_hit(t, "a", 1, 100, 10, now));
    rl_table_free(t);
}

static void test_table_sliding_window(void **state) {
    (void)state;
    rl_table *t = rl_table_new(0);
    uint64_t start = 200 * PERIOD_MS; /* a window boundary */
    for (int i = 0; i < 100; i++) assert_true(rl_table_hit(t, "k", 1, 100, 60, start + 1000));
    /* Next window, one quarter in: the previous 100 weigh 75, so 25 more fit. */
    uint64_t q = start + PERIOD_MS + PERIOD_MS / 4;
    int allowed = 0;
    for (int i = 0; i < 100; i++) allowed += rl_table_hit(t, "k", 1, 100, 60, q);
    assert_int_equal(allowed, 25);
    /* Three quarters in: 100 × 1/4 + 25 = 50, so 50 more. */
    allowed = 0;
    for (int i = 0; i < 100; i++)
        allowed += rl_table_hit(t, "k", 1, 100, 60, start + PERIOD_MS + 3 * PERIOD_MS / 4);
    assert_int_equal(allowed, 50);
    /* Two windows later the old counts are gone entirely. */
    allowed = 0;
    for (int i = 0; i < 150; i++)
        allowed += rl_table_hit(t, "k", 1, 100, 60, start + 3 * PERIOD_MS);
    assert_int_equal(allowed, 100);
    rl_table_free(t);
}

static void test_table_expiry_and_bound(void **state) {
    (void)state;
    /* 64 keys at most (one per stripe at least). */
    rl_table *t = rl_table_new(64 * 4);
    uint64_t now = 300 * PERIOD_MS;
    char key[32];
    for (int i = 0; i < 10000; i++) {
        int n = snprintf(key, sizeof key, "key-%d", i);
        assert_true(rl_table_hit(t, key, (size_t)n, 10, 60, now));
    }
    rl_table_stats st;
    rl_table_stats_get(t, &st);
    assert_true(st.keys <= 64 * 4);
    assert_true(st.evicted >= 10000 - 64 * 4);
    /* Two periods later, new keys sweep out the idle ones instead of evicting live ones. */
    uint64_t later = now + 2 * PERIOD_MS + 1;
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(key, sizeof key, "new-%d", i % 100);
        rl_table_hit(t, key, (size_t)n, 10, 60, later);
    }
    rl_table_stats st2;
    rl_table_stats_get(t, &st2);
    assert_true(st2.expired > 0);
    assert_true(st2.keys <= 64 * 4);
    rl_table_free(t);
}

/* Many threads on few keys: the total admitted is exactly the limit per key. */
typedef struct hammer {
    rl_table *table;
    ratelimit_thread *rt;
    int allowed;
} hammer;

static void *hammer_table(void *arg) {
    hammer *h = arg;
    char key[8];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(key, sizeof key, "k%d", i % 8);
        h->allowed += rl_table_hit(h->table, key, (size_t)n, 1000, 60, 400 * PERIOD_MS + 10);
    }
    return NULL;
}

static void test_table_threads(void **state) {
    (void)state;
    rl_table *t = rl_table_new(0);
    enum { N = 8 };
    pthread_t th[N];
    hammer h[N];
    for (int i = 0; i < N; i++) {
        h[i] = (hammer){.table = t};
        pthread_create(&th[i], NULL, hammer_table, &h[i]);
    }
    int total = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        total += h[i].allowed;
    }
    assert_int_equal(total, 8 * 1000);
    rl_table_free(t);
}

/* ---- bindings -------------------------------------------------------------------------- */

static void expect_binding(const char *json, const char *field, const char *words) {
    json_t *b = json_loads(json, 0, NULL);
    assert_non_null(b);
    char f[32] = "", msg[200] = "";
    bool ok = ratelimit_binding_check(b, f, sizeof f, msg, sizeof msg);
    json_decref(b);
    if (!field) {
        if (!ok) fail_msg("rejected %s: %s: %s", json, f, msg);
        return;
    }
    if (ok) fail_msg("accepted %s", json);
    assert_string_equal(f, field);
    if (!strstr(msg, words)) fail_msg("message \"%s\" lacks \"%s\"", msg, words);
}

static void test_binding_check(void **state) {
    (void)state;
    expect_binding("{\"namespace_id\":\"1001\",\"simple\":{\"limit\":100,\"period\":60}}", NULL,
                   NULL);
    expect_binding("{\"namespace_id\":\"1\",\"simple\":{\"limit\":1,\"period\":10}}", NULL, NULL);
    expect_binding("{\"simple\":{\"limit\":100,\"period\":60}}", "namespace_id", "got nothing");
    expect_binding("{\"namespace_id\":1001,\"simple\":{\"limit\":100,\"period\":60}}",
                   "namespace_id", "got 1001");
    expect_binding("{\"namespace_id\":\"abc\",\"simple\":{\"limit\":100,\"period\":60}}",
                   "namespace_id", "positive integer");
    expect_binding("{\"namespace_id\":\"1001\"}", "simple", "required");
    expect_binding("{\"namespace_id\":\"1001\",\"simple\":{\"limit\":0,\"period\":60}}",
                   "simple.limit", "got 0");
    expect_binding("{\"namespace_id\":\"1001\",\"simple\":{\"limit\":1.5,\"period\":60}}",
                   "simple.limit", "positive integer");
    expect_binding("{\"namespace_id\":\"1001\",\"simple\":{\"limit\":\"100\",\"period\":60}}",
                   "simple.limit", "got \"100\"");
    expect_binding("{\"namespace_id\":\"1001\",\"simple\":{\"limit\":100,\"period\":30}}",
                   "simple.period", "10 or 60");
    expect_binding("{\"namespace_id\":\"1001\",\"simple\":{\"limit\":100}}", "simple.period",
                   "got nothing");
}

/* ---- the limiter (embedded) ------------------------------------------------------------ */

static uint64_t fake_now;
static uint64_t fake_clock(void *arg) {
    (void)arg;
    return fake_now;
}

static void never_called(void *arg, bool success) {
    (void)arg, (void)success;
    fail_msg("the embedded backend decides during the call");
}

static void test_limiter_embedded(void **state) {
    (void)state;
    ratelimit_options o = {.clock_ms = fake_clock};
    char err[256];
    ratelimiter *r = ratelimiter_new(&o, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(ratelimiter_backend(r), "embedded");
    uv_loop_t loop;
    uv_loop_init(&loop);
    ratelimit_thread *t = ratelimit_thread_new(r, &loop);
    fake_now = 500 * PERIOD_MS;
    for (int i = 0; i < 5; i++)
        assert_int_equal(ratelimit_check(t, "1001", "/a", 2, 5, 60, never_called, NULL), 1);
    assert_int_equal(ratelimit_check(t, "1001", "/a", 2, 5, 60, never_called, NULL), 0);
    /* Another namespace has its own counters for the same key. */
    assert_int_equal(ratelimit_check(t, "1002", "/a", 2, 5, 60, never_called, NULL), 1);
    /* Long and binary keys are hashed, and still distinct from each other. */
    char big[5000];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ratelimit_check(t, "1001", big, sizeof big, 5, 60, never_called, NULL), 1);
    assert_int_equal(ratelimit_check(t, "1001", big, sizeof big, 5, 60, never_called, NULL), 0);
    assert_int_equal(ratelimit_check(t, "1001", big, sizeof big - 1, 5, 60, never_called, NULL), 1);
    assert_int_equal(ratelimit_check(t, "1001", "a\0b", 3, 5, 60, never_called, NULL), 1);
    /* A new window, two periods on: allowed again. */
    fake_now += 2 * PERIOD_MS;
    assert_int_equal(ratelimit_check(t, "1001", "/a", 2, 5, 60, never_called, NULL), 1);

    ratelimit_counts c;
    ratelimiter_counts(r, "1001", &c);
    assert_int_equal(c.allowed, 5 + 5 + 1 + 1 + 1);
    assert_int_equal(c.limited, 2);
    assert_int_equal(c.errors, 0);
    buf m = {0};
    ratelimiter_render_prometheus(r, &m);
    assert_non_null(strstr(m.data, "hearth_ratelimit_decisions_total{namespace_id=\"1001\","
                                   "result=\"limited\"} 2\n"));
    assert_non_null(strstr(m.data, "hearth_ratelimit_decisions_total{namespace_id=\"1002\","
                                   "result=\"allowed\"} 1\n"));
    assert_non_null(strstr(m.data, "hearth_ratelimit_keys "));
    buf_free(&m);
    ratelimit_thread_close(t);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    ratelimiter_free(r);
}

static void test_limiter_bad_backend(void **state) {
    (void)state;
    const char *bad[] = {"redis://x:1", "memcached://", "memcached://host", "memcached://h:99999",
                         "embeded"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ratelimit_options o = {.backend = bad[i]};
        char err[256] = "";
        ratelimiter *r = ratelimiter_new(&o, err, sizeof err);
        if (r) fail_msg("accepted --ratelimit %s", bad[i]);
        assert_non_null(strstr(err, "--ratelimit"));
    }
}

/* Every thread of a process through its own ratelimit_thread: the combined admissions are
 * exactly the limit (the point of one shared table). */
static void *hammer_limiter(void *arg) {
    hammer *h = arg;
    for (int i = 0; i < 5000; i++)
        h->allowed += ratelimit_check(h->rt, "7", "shared", 6, 3000, 60, never_called, NULL);
    return NULL;
}

static void test_limiter_threads(void **state) {
    (void)state;
    ratelimit_options o = {.clock_ms = fake_clock};
    fake_now = 600 * PERIOD_MS + 1;
    char err[256];
    ratelimiter *r = ratelimiter_new(&o, err, sizeof err);
    enum { N = 6 };
    uv_loop_t loops[N];
    pthread_t th[N];
    hammer h[N];
    for (int i = 0; i < N; i++) {
        uv_loop_init(&loops[i]);
        h[i] = (hammer){.rt = ratelimit_thread_new(r, &loops[i])};
        pthread_create(&th[i], NULL, hammer_limiter, &h[i]);
    }
    int total = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        total += h[i].allowed;
        ratelimit_thread_close(h[i].rt);
        uv_run(&loops[i], UV_RUN_DEFAULT);
        uv_loop_close(&loops[i]);
    }
    assert_int_equal(total, 3000);
    ratelimit_counts c;
    ratelimiter_counts(r, "7", &c);
    assert_int_equal(c.allowed, 3000);
    assert_int_equal(c.limited, N * 5000 - 3000);
    ratelimiter_free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_rule),          cmocka_unit_test(test_table_limits_per_key),
        cmocka_unit_test(test_table_sliding_window), cmocka_unit_test(test_table_expiry_and_bound),
        cmocka_unit_test(test_table_threads),        cmocka_unit_test(test_binding_check),
        cmocka_unit_test(test_limiter_embedded),     cmocka_unit_test(test_limiter_bad_backend),
        cmocka_unit_test(test_limiter_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
