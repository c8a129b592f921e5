/* Unit tests for src/observe/metrics.c: the Prometheus exposition (exact text, escaping,
 * bucket edges), totals, the per-minute analytics JSON (windows, filters, percentile
 * precision, the ring), concurrent recording and reading, and a micro-benchmark of
 * metrics_record (printed, never asserted). */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/buf.h"
#include "observe/metrics.h"

/* 2026-11-22T12:00:00Z, a minute boundary. */
#define T0     UINT64_C(1795348800000)
#define MINUTE UINT64_C(60000)
#define MS     UINT64_C(1000000) /* ns */
#define US     UINT64_C(1000)    /* ns */

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------------- */

/* The registry's own entry for (worker, version_id): a borrowed pointer, valid while the
 * registry lists it (the tests that check reference counting call metrics_registry_get). */
static version_metrics *lookup(metrics_registry *r, const char *worker, const char *version_id) {
    version_metrics *m = metrics_registry_get(r, worker, version_id);
    metrics_version_unref(m);
    return m;
}

static char *render(metrics_registry *r) {
    buf b = {0};
    metrics_render_prometheus(r, &b);
    return buf_detach(&b, NULL);
}

/* The value of the sample line that starts with `series` followed by a space, or -1. */
static long long sample(const char *text, const char *series) {
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, series, n) == 0 && p[n] == ' ') return strtoll(p + n + 1, NULL, 10);
    return -1;
}

static json_t *analytics(metrics_registry *r, const char *worker, const char *version_id,
                         uint64_t since_ms, uint64_t until_ms) {
    buf b = {0};
    metrics_analytics_json(r, worker, version_id, since_ms, until_ms, &b);
    json_error_t err;
    json_t *j = json_loads(b.data, 0, &err);
    if (!j) fail_msg("analytics JSON does not parse (%s): %s", err.text, b.data);
    buf_free(&b);
    return j;
}

/* versions[i].points of an analytics result. */
static json_t *points_of(json_t *result, size_t i) {
    json_t *v = json_array_get(json_object_get(result, "versions"), i);
    assert_non_null(v);
    json_t *p = json_object_get(v, "points");
    assert_true(json_is_array(p));
    return p;
}

static long long int_at(json_t *point, const char *key) {
    json_t *v = json_object_get(point, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static double ms_at(json_t *point, const char *obj, const char *key) {
    json_t *v = json_object_get(json_object_get(point, obj), key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static const char *str_at(json_t *obj, const char *key) {
    json_t *v = json_object_get(obj, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void assert_near(double got, double want, double rel, const char *what) {
    double err = got > want ? (got - want) / want : (want - got) / want;
    print_message("    %-14s want %10.4f ms  got %10.4f ms  (%.2f%%)\n", what, want, got,
                  err * 100);
    if (err > rel) fail_msg("%s: %.4f is not within %.0f%% of %.4f", what, got, rel * 100, want);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------------------------
 * Names and registry.
 * ---------------------------------------------------------------------------------------- */

static void test_outcome_names(void **state) {
    (void)state;
    static const char *names[] = {"ok", "exception", "exceededCpu", "exceededMemory", "canceled"};
    for (int o = 0; o < METRICS_OUTCOMES; o++) {
        assert_string_equal(metrics_outcome_name((metrics_outcome)o), names[o]);
        assert_int_equal(metrics_outcome_from_name(names[o]), o);
    }
    assert_int_equal(metrics_outcome_from_name("nope"), METRICS_EXCEPTION);
    assert_int_equal(metrics_outcome_from_name("OK"), METRICS_EXCEPTION);
    assert_int_equal(metrics_outcome_from_name(""), METRICS_EXCEPTION);
}

static void test_registry_get_is_stable(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *a = lookup(r, "w", "v1");
    version_metrics *b = lookup(r, "w", "v2");
    version_metrics *c = lookup(r, "w2", "v1");
    assert_ptr_not_equal(a, b);
    assert_ptr_not_equal(a, c);
    for (int i = 0; i < 100; i++) { /* grow the array: the pointers must not move */
        char v[16];
        snprintf(v, sizeof v, "x%03d", i);
        lookup(r, "m", v);
    }
    assert_ptr_equal(lookup(r, "w", "v1"), a);
    assert_ptr_equal(lookup(r, "w", "v2"), b);
    assert_ptr_equal(lookup(r, "w2", "v1"), c);
    metrics_registry_free(r);
    metrics_registry_free(NULL);
}

static void test_forget_worker(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    metrics_record(lookup(r, "a", "1"), 0, METRICS_OK, 200, MS, MS, T0);
    metrics_record(lookup(r, "b", "1"), 3, METRICS_OK, 200, MS, MS, T0);
    metrics_record(lookup(r, "b", "2"), 0, METRICS_OK, 200, MS, MS, T0);
    metrics_record(lookup(r, "bb", "1"), 0, METRICS_OK, 200, MS, MS, T0);
    metrics_registry_forget_worker(r, "b");
    metrics_registry_forget_worker(r, "nobody");
    char *text = render(r);
    assert_non_null(strstr(text, "hearth_exceptions_total{worker=\"a\",version=\"1\"} 0\n"));
    assert_non_null(strstr(text, "hearth_exceptions_total{worker=\"bb\",version=\"1\"} 0\n"));
    assert_null(strstr(text, "worker=\"b\""));
    free(text);
    /* A forgotten worker starts from zero when it comes back. */
    metrics_totals t;
    metrics_totals_get(lookup(r, "b", "1"), &t);
    assert_int_equal(t.requests, 0);
    json_t *j = analytics(r, "b", NULL, T0, T0 + MINUTE);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 0);
    json_decref(j);
    metrics_registry_free(r);
}

/* A request still running on a deleted Worker's version records into memory that is still
 * live (the sanitizer build turns a mistake here into a use-after-free). */
static void test_forgotten_version_lives_while_referenced(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *held = metrics_registry_get(r, "gone", "v1");
    metrics_record(held, 0, METRICS_OK, 200, MS, MS, T0);
    metrics_registry_forget_worker(r, "gone");
    metrics_record(held, 0, METRICS_OK, 500, MS, MS, T0);
    metrics_totals t;
    metrics_totals_get(held, &t);
    assert_int_equal(t.requests, 2);
    assert_int_equal(t.by_status_class[5], 1);
    char *text = render(r); /* no longer listed */
    assert_null(strstr(text, "worker=\"gone\""));
    free(text);
    /* Released after the registry too: whichever is last frees it. */
    version_metrics *late = metrics_registry_get(r, "late", "v1");
    metrics_registry_free(r);
    metrics_record(late, 1, METRICS_OK, 200, MS, MS, T0);
    metrics_version_unref(late);
    metrics_version_unref(held);
    metrics_version_unref(NULL);
}

/* ------------------------------------------------------------------------------------------
 * Prometheus.
 * ---------------------------------------------------------------------------------------- */

static void test_prometheus_exact(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *v = lookup(r, "hello", "v1");
    lookup(r, "api", "a1"); /* idle, and sorted first */
    metrics_record(v, 0, METRICS_OK, 200, 500 * US, 100 * US, T0);
    metrics_record(v, 1, METRICS_OK, 404, 2 * MS, 1 * MS, T0);
    metrics_record(v, 1, METRICS_EXCEPTION, 500, 40000 * MS, 3 * MS, T0 + 1);
    metrics_record(v, 7, METRICS_CANCELED, 0, 1500, 1, T0 + 2);
    char *text = render(r);
    const char *want =
        "# HELP hearth_requests_total Invocations finished, by outcome and HTTP status class.\n"
        "# TYPE hearth_requests_total counter\n"
        "hearth_requests_total{worker=\"hello\",version=\"v1\",outcome=\"ok\",status=\"2xx\"} 1\n"
        "hearth_requests_total{worker=\"hello\",version=\"v1\",outcome=\"ok\",status=\"4xx\"} 1\n"
        "hearth_requests_total{worker=\"hello\",version=\"v1\",outcome=\"exception\","
        "status=\"5xx\"} 1\n"
        "hearth_requests_total{worker=\"hello\",version=\"v1\",outcome=\"canceled\","
        "status=\"none\"} 1\n"
        "# HELP hearth_exceptions_total Invocations that ended in an uncaught exception.\n"
        "# TYPE hearth_exceptions_total counter\n"
        "hearth_exceptions_total{worker=\"api\",version=\"a1\"} 0\n"
        "hearth_exceptions_total{worker=\"hello\",version=\"v1\"} 1\n"
        "# HELP hearth_request_wall_seconds Wall-clock time of invocations.\n"
        "# TYPE hearth_request_wall_seconds histogram\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.0005\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.001\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.0025\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.005\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.01\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.025\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.05\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.1\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.25\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.5\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"1\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"2.5\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"5\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"10\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"30\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"api\",version=\"a1\",le=\"+Inf\"} 0\n"
        "hearth_request_wall_seconds_sum{worker=\"api\",version=\"a1\"} 0\n"
        "hearth_request_wall_seconds_count{worker=\"api\",version=\"a1\"} 0\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.0005\"} 2\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.001\"} 2\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.0025\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.005\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.01\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.025\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.05\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.1\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.25\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.5\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"1\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"2.5\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"5\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"10\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"30\"} 3\n"
        "hearth_request_wall_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"+Inf\"} 4\n"
        "hearth_request_wall_seconds_sum{worker=\"hello\",version=\"v1\"} 40.0025015\n"
        "hearth_request_wall_seconds_count{worker=\"hello\",version=\"v1\"} 4\n"
        "# HELP hearth_request_cpu_seconds CPU time of invocations.\n"
        "# TYPE hearth_request_cpu_seconds histogram\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.0005\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.001\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.0025\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.005\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.01\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.025\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.05\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.1\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.25\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"0.5\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"1\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"2.5\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"5\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"10\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"30\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"api\",version=\"a1\",le=\"+Inf\"} 0\n"
        "hearth_request_cpu_seconds_sum{worker=\"api\",version=\"a1\"} 0\n"
        "hearth_request_cpu_seconds_count{worker=\"api\",version=\"a1\"} 0\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.0005\"} 2\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.001\"} 3\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.0025\"} 3\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.005\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.01\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.025\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.05\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.1\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.25\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"0.5\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"1\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"2.5\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"5\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"10\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"30\"} 4\n"
        "hearth_request_cpu_seconds_bucket{worker=\"hello\",version=\"v1\",le=\"+Inf\"} 4\n"
        "hearth_request_cpu_seconds_sum{worker=\"hello\",version=\"v1\"} 0.004100001\n"
        "hearth_request_cpu_seconds_count{worker=\"hello\",version=\"v1\"} 4\n";
    assert_string_equal(text, want);
    free(text);
    metrics_registry_free(r);
}

static void test_prometheus_empty_registry(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    char *text = render(r);
    assert_string_equal(
        text,
        "# HELP hearth_requests_total Invocations finished, by outcome and HTTP status class.\n"
        "# TYPE hearth_requests_total counter\n"
        "# HELP hearth_exceptions_total Invocations that ended in an uncaught exception.\n"
        "# TYPE hearth_exceptions_total counter\n"
        "# HELP hearth_request_wall_seconds Wall-clock time of invocations.\n"
        "# TYPE hearth_request_wall_seconds histogram\n"
        "# HELP hearth_request_cpu_seconds CPU time of invocations.\n"
        "# TYPE hearth_request_cpu_seconds histogram\n");
    free(text);
    metrics_registry_free(r);
}

/* Versions come out sorted by worker, then version id, whatever the creation order. */
static void test_prometheus_order(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    const char *keys[][2] = {
        {"zeta", "b"}, {"alpha", "z"}, {"zeta", "a"}, {"alpha", "a"}, {"mid", "m"}};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        metrics_record(lookup(r, keys[i][0], keys[i][1]), 0, METRICS_OK, 200, MS, MS, T0);
    char *text = render(r);
    const char *order[] = {"{worker=\"alpha\",version=\"a\"}", "{worker=\"alpha\",version=\"z\"}",
                           "{worker=\"mid\",version=\"m\"}", "{worker=\"zeta\",version=\"a\"}",
                           "{worker=\"zeta\",version=\"b\"}"};
    const char *prev = strstr(text, "hearth_exceptions_total{");
    assert_non_null(prev);
    for (size_t i = 0; i < 5; i++) {
        char line[128];
        snprintf(line, sizeof line, "hearth_exceptions_total%s 0\n", order[i]);
        const char *at = strstr(text, line);
        assert_non_null(at);
        assert_true(at >= prev);
        prev = at;
    }
    /* Rendering twice gives the same text. */
    char *again = render(r);
    assert_string_equal(text, again);
    free(again);
    free(text);
    metrics_registry_free(r);
}

static void test_prometheus_label_escaping(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *v = lookup(r, "we\"ird\\name", "line1\nline2");
    metrics_record(v, 0, METRICS_EXCEPTION, 500, MS, MS, T0);
    char *text = render(r);
    assert_non_null(strstr(
        text,
        "hearth_exceptions_total{worker=\"we\\\"ird\\\\name\",version=\"line1\\nline2\"} 1\n"));
    assert_non_null(strstr(text, "hearth_request_cpu_seconds_bucket{worker=\"we\\\"ird\\\\name\","
                                 "version=\"line1\\nline2\",le=\"+Inf\"} 1\n"));
    /* No raw newline inside any sample line: every line is a comment or ends in a number. */
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') continue;
        assert_non_null(strstr(line, "worker=\"we\\\"ird\\\\name\""));
    }
    free(text);
    metrics_registry_free(r);
}

/* A value equal to a bound counts in that bucket (le is "<="), one ns more in the next. */
static void test_prometheus_bucket_edges(void **state) {
    (void)state;
    static const uint64_t bound_ns[] = {
        500 * US, 1 * MS,   2500 * US, 5 * MS,    10 * MS,   25 * MS,    50 * MS,    100 * MS,
        250 * MS, 500 * MS, 1000 * MS, 2500 * MS, 5000 * MS, 10000 * MS, 30000 * MS,
    };
    static const char *le[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                               "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "30"};
    metrics_registry *r = metrics_registry_new();
    version_metrics *v = lookup(r, "w", "v");
    for (int k = 0; k < 15; k++)
        metrics_record(v, 0, METRICS_OK, 200, bound_ns[k], bound_ns[k] + 1, T0);
    metrics_record(v, 0, METRICS_OK, 200, 0, 0, T0); /* zero: the first bucket */
    char *text = render(r);
    for (int k = 0; k < 15; k++) {
        char series[160];
        snprintf(series, sizeof series,
                 "hearth_request_wall_seconds_bucket{worker=\"w\",version=\"v\",le=\"%s\"}", le[k]);
        assert_int_equal(sample(text, series), k + 2);
        snprintf(series, sizeof series,
                 "hearth_request_cpu_seconds_bucket{worker=\"w\",version=\"v\",le=\"%s\"}", le[k]);
        assert_int_equal(sample(text, series), k + 1);
    }
    assert_int_equal(
        sample(text, "hearth_request_wall_seconds_bucket{worker=\"w\",version=\"v\",le=\"+Inf\"}"),
        16);
    assert_int_equal(
        sample(text, "hearth_request_cpu_seconds_bucket{worker=\"w\",version=\"v\",le=\"+Inf\"}"),
        16);
    assert_int_equal(sample(text, "hearth_request_cpu_seconds_count{worker=\"w\",version=\"v\"}"),
                     16);
    /* _sum is exact decimal seconds: the bounds add up to 49.444 s, cpu has 15 ns more. */
    assert_non_null(
        strstr(text, "hearth_request_wall_seconds_sum{worker=\"w\",version=\"v\"} 49.444\n"));
    assert_non_null(
        strstr(text, "hearth_request_cpu_seconds_sum{worker=\"w\",version=\"v\"} 49.444000015\n"));
    free(text);
    metrics_registry_free(r);
}

/* ------------------------------------------------------------------------------------------
 * Totals.
 * ---------------------------------------------------------------------------------------- */

static void test_totals(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *v = lookup(r, "w", "v");
    struct {
        unsigned shard;
        metrics_outcome outcome;
        int status;
    } calls[] = {
        {0, METRICS_OK, 200},
        {1, METRICS_OK, 204},
        {2, METRICS_OK, 101},
        {63, METRICS_OK, 302},
        {0, METRICS_OK, 404},
        {1, METRICS_OK, 503},
        {2, METRICS_EXCEPTION, 500},
        {3, METRICS_EXCEPTION, 0},
        {4, METRICS_EXCEEDED_CPU, 0},
        {5, METRICS_EXCEEDED_MEMORY, 0},
        {6, METRICS_CANCELED, 200},
        {7, METRICS_OK, 600},                  /* outside 100..599: counted as "none" */
        {8, METRICS_OK, -1},                   /* likewise */
        {9, (metrics_outcome)42, 200},         /* an unknown outcome is an exception */
        {METRICS_MAX_SHARDS, METRICS_OK, 200}, /* a shard out of range is dropped */
    };
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++)
        metrics_record(v, calls[i].shard, calls[i].outcome, calls[i].status, MS, MS, T0);
    metrics_totals t;
    metrics_totals_get(v, &t);
    assert_int_equal(t.requests, 14);
    assert_int_equal(t.by_outcome[METRICS_OK], 8);
    assert_int_equal(t.by_outcome[METRICS_EXCEPTION], 3);
    assert_int_equal(t.by_outcome[METRICS_EXCEEDED_CPU], 1);
    assert_int_equal(t.by_outcome[METRICS_EXCEEDED_MEMORY], 1);
    assert_int_equal(t.by_outcome[METRICS_CANCELED], 1);
    assert_int_equal(t.by_status_class[0], 5);
    assert_int_equal(t.by_status_class[1], 1);
    assert_int_equal(t.by_status_class[2], 4);
    assert_int_equal(t.by_status_class[3], 1);
    assert_int_equal(t.by_status_class[4], 1);
    assert_int_equal(t.by_status_class[5], 2);
    assert_int_equal(t.exceptions, 3);

    /* A fresh version has all-zero totals. */
    metrics_totals_get(lookup(r, "w", "idle"), &t);
    metrics_totals zero = {0};
    assert_memory_equal(&t, &zero, sizeof t);
    metrics_registry_free(r);
}

/* ------------------------------------------------------------------------------------------
 * Analytics.
 * ---------------------------------------------------------------------------------------- */

static void test_analytics_counts_and_errors(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *v = lookup(r, "w", "v");
    /* Minute 0: 5 requests, 3 errors (exception+500 counts once, ok+503, canceled). */
    metrics_record(v, 0, METRICS_OK, 200, MS, MS, T0);
    metrics_record(v, 1, METRICS_OK, 404, MS, MS, T0 + 10);
    metrics_record(v, 2, METRICS_EXCEPTION, 500, MS, MS, T0 + 20);
    metrics_record(v, 0, METRICS_OK, 503, MS, MS, T0 + 59999);
    metrics_record(v, 3, METRICS_CANCELED, 0, MS, MS, T0 + 30);
    /* Minute 2: 1 request, exceeded CPU. Minute 1 has none and is omitted. */
    metrics_record(v, 1, METRICS_EXCEEDED_CPU, 0, 3 * MS, 2 * MS, T0 + 2 * MINUTE + 5);

    json_t *j = analytics(r, "w", NULL, T0, T0 + 3 * MINUTE);
    assert_string_equal(str_at(j, "since"), "2026-11-22T12:00:00.000000Z");
    assert_string_equal(str_at(j, "until"), "2026-11-22T12:03:00.000000Z");
    json_t *versions = json_object_get(j, "versions");
    assert_int_equal(json_array_size(versions), 1);
    assert_string_equal(str_at(json_array_get(versions, 0), "version_id"), "v");
    json_t *pts = points_of(j, 0);
    assert_int_equal(json_array_size(pts), 2);
    json_t *p0 = json_array_get(pts, 0), *p1 = json_array_get(pts, 1);
    assert_string_equal(str_at(p0, "minute"), "2026-11-22T12:00:00Z");
    assert_int_equal(int_at(p0, "requests"), 5);
    assert_int_equal(int_at(p0, "errors"), 3);
    assert_string_equal(str_at(p1, "minute"), "2026-11-22T12:02:00Z");
    assert_int_equal(int_at(p1, "requests"), 1);
    assert_int_equal(int_at(p1, "errors"), 1);
    /* A constant latency comes out exact (the estimate is clamped to the minute's min..max). */
    assert_true(ms_at(p0, "wall_ms", "p50") == 1.0);
    assert_true(ms_at(p0, "wall_ms", "p99") == 1.0);
    assert_true(ms_at(p1, "wall_ms", "p99") == 3.0);
    assert_true(ms_at(p1, "cpu_ms", "p50") == 2.0);
    json_decref(j);
    metrics_registry_free(r);
}

/* Stratified samples of known distributions, spread over 4 shards: the estimates are within
 * 10% of the true percentiles. */
static void test_analytics_percentiles(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *v = lookup(r, "w", "v");
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        double u = (i + 0.5) / n;
        /* wall: Pareto, x_m = 100 us, alpha = 1 (heavy tail: p50 200 us, p99 10 ms);
         * cpu: uniform on [1 ms, 11 ms] (p50 6 ms, p99 10.9 ms). */
        uint64_t wall = (uint64_t)(100e3 / (1 - u));
        uint64_t cpu = (uint64_t)(1e6 + 10e6 * u);
        metrics_record(v, (unsigned)i % 4, METRICS_OK, 200, wall, cpu, T0 + 1000 + (uint64_t)i);
    }
    /* Minute 1: bimodal, as with cache hits and misses: 90% uniform on [0.5, 1.5] ms, 10% on
     * [20, 60] ms (p50 1.056 ms, p99 56 ms). Shards in another pattern. */
    const int m = 5000;
    double sorted_wall[5000];
    for (int i = 0; i < m; i++) {
        double u = (i + 0.5) / m;
        double x = u < 0.9 ? 0.5 + u / 0.9 : 20 + 40 * (u - 0.9) / 0.1; /* ms, increasing */
        sorted_wall[i] = x;
        metrics_record(v, (unsigned)(i * 7) % 4, METRICS_OK, 200, (uint64_t)(x * 1e6),
                       (uint64_t)(x * 1e6), T0 + MINUTE + (uint64_t)i);
    }
    json_t *j = analytics(r, "w", "v", T0, T0 + 2 * MINUTE - 1);
    json_t *pts = points_of(j, 0);
    assert_int_equal(json_array_size(pts), 2);
    json_t *p0 = json_array_get(pts, 0), *p1 = json_array_get(pts, 1);
    assert_int_equal(int_at(p0, "requests"), n);
    assert_int_equal(int_at(p0, "errors"), 0);
    assert_near(ms_at(p0, "wall_ms", "p50"), 0.2, 0.10, "pareto p50");
    assert_near(ms_at(p0, "wall_ms", "p99"), 10.0, 0.10, "pareto p99");
    assert_near(ms_at(p0, "cpu_ms", "p50"), 6.0, 0.10, "uniform p50");
    assert_near(ms_at(p0, "cpu_ms", "p99"), 10.9, 0.10, "uniform p99");
    assert_int_equal(int_at(p1, "requests"), m);
    assert_near(ms_at(p1, "wall_ms", "p50"), sorted_wall[m / 2], 0.10, "bimodal p50");
    assert_near(ms_at(p1, "wall_ms", "p99"), sorted_wall[m * 99 / 100], 0.10, "bimodal p99");
    json_decref(j);
    metrics_registry_free(r);
}

static void test_analytics_window(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *v = lookup(r, "w", "v");
    for (uint64_t k = 0; k < 10; k++)
        for (uint64_t i = 0; i <= k; i++) /* minute k has k+1 requests */
            metrics_record(v, (unsigned)i % 2, METRICS_OK, 200, MS, MS, T0 + k * MINUTE + i);

    /* since and until inside minutes 3 and 6: those minutes are included (they meet the
     * window), 0-2 and 7-9 are not. */
    json_t *j = analytics(r, "w", NULL, T0 + 3 * MINUTE + 30123, T0 + 6 * MINUTE + 1);
    assert_string_equal(str_at(j, "since"), "2026-11-22T12:03:30.123000Z");
    assert_string_equal(str_at(j, "until"), "2026-11-22T12:06:00.001000Z");
    json_t *pts = points_of(j, 0);
    assert_int_equal(json_array_size(pts), 4);
    for (size_t i = 0; i < 4; i++) {
        char want[32];
        snprintf(want, sizeof want, "2026-11-22T12:%02zu:00Z", i + 3);
        assert_string_equal(str_at(json_array_get(pts, i), "minute"), want);
        assert_int_equal(int_at(json_array_get(pts, i), "requests"), (long long)i + 4);
    }
    json_decref(j);

    /* until exactly at a minute's start includes that minute. */
    j = analytics(r, "w", NULL, T0, T0 + 2 * MINUTE);
    assert_int_equal(json_array_size(points_of(j, 0)), 3);
    json_decref(j);

    /* A window with no traffic lists no version; an inverted one neither. */
    j = analytics(r, "w", NULL, T0 + 20 * MINUTE, T0 + 30 * MINUTE);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 0);
    json_decref(j);
    j = analytics(r, "w", NULL, T0 + 5 * MINUTE, T0 + 4 * MINUTE);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 0);
    json_decref(j);

    /* Whole history with extreme bounds. */
    j = analytics(r, "w", NULL, 0, UINT64_MAX);
    assert_int_equal(json_array_size(points_of(j, 0)), 10);
    assert_string_equal(str_at(j, "since"), "1970-01-01T00:00:00.000000Z");
    assert_string_equal(str_at(j, "until"), "9999-12-31T23:59:59.999000Z");
    json_decref(j);
    metrics_registry_free(r);
}

static void test_analytics_version_filter(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    metrics_record(lookup(r, "w", "b"), 0, METRICS_OK, 200, MS, MS, T0);
    metrics_record(lookup(r, "w", "a"), 1, METRICS_OK, 200, MS, MS, T0);
    metrics_record(lookup(r, "w", "a"), 1, METRICS_OK, 200, MS, MS, T0);
    metrics_record(lookup(r, "w", "c\"q"), 2, METRICS_OK, 200, MS, MS, T0);
    metrics_record(lookup(r, "other", "a"), 0, METRICS_OK, 200, MS, MS, T0);
    lookup(r, "w", "idle");
    lookup(r, "w2", "a");

    json_t *j = analytics(r, "w", NULL, T0, T0 + MINUTE);
    json_t *versions = json_object_get(j, "versions");
    assert_int_equal(json_array_size(versions), 3); /* sorted; the idle one has no points */
    assert_string_equal(str_at(json_array_get(versions, 0), "version_id"), "a");
    assert_string_equal(str_at(json_array_get(versions, 1), "version_id"), "b");
    assert_string_equal(str_at(json_array_get(versions, 2), "version_id"), "c\"q");
    assert_int_equal(int_at(json_array_get(points_of(j, 0), 0), "requests"), 2);
    json_decref(j);

    j = analytics(r, "w", "b", T0, T0 + MINUTE);
    versions = json_object_get(j, "versions");
    assert_int_equal(json_array_size(versions), 1);
    assert_string_equal(str_at(json_array_get(versions, 0), "version_id"), "b");
    assert_int_equal(int_at(json_array_get(points_of(j, 0), 0), "requests"), 1);
    json_decref(j);

    const char *none[][2] = {{"w", "nope"}, {"w", "idle"}, {"nobody", NULL}, {"w2", "a"}};
    for (size_t i = 0; i < 4; i++) {
        j = analytics(r, none[i][0], none[i][1], T0, T0 + MINUTE);
        assert_int_equal(json_array_size(json_object_get(j, "versions")), 0);
        json_decref(j);
    }
    metrics_registry_free(r);
}

/* After METRICS_MINUTES minutes the ring wraps: the old minutes disappear, also from shards
 * that did not record since (their slots are stale, not overwritten). */
static void test_analytics_ring_wraps(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *v = lookup(r, "w", "v");
    metrics_record(v, 1, METRICS_OK, 200, MS, MS, T0); /* only ever on shard 1 */
    const uint64_t total = METRICS_MINUTES + 40;
    for (uint64_t k = 0; k < total; k++)
        metrics_record(v, 0, METRICS_OK, 200, MS, MS, T0 + k * MINUTE);

    json_t *j = analytics(r, "w", NULL, T0, T0 + total * MINUTE);
    json_t *pts = points_of(j, 0);
    assert_int_equal(json_array_size(pts), METRICS_MINUTES);
    /* The first point is minute 40 (12:40); every point has exactly one request (reused
     * slots were reset). */
    assert_string_equal(str_at(json_array_get(pts, 0), "minute"), "2026-11-22T12:40:00Z");
    for (size_t i = 0; i < json_array_size(pts); i++)
        assert_int_equal(int_at(json_array_get(pts, i), "requests"), 1);
    assert_string_equal(str_at(json_array_get(pts, METRICS_MINUTES - 1), "minute"),
                        "2026-11-22T18:39:00Z");
    json_decref(j);

    /* A window on the dropped minutes alone is empty. */
    j = analytics(r, "w", NULL, T0, T0 + 39 * MINUTE);
    assert_int_equal(json_array_size(json_object_get(j, "versions")), 0);
    json_decref(j);

    /* The clock going back by more than the ring does not overwrite newer minutes; the totals
     * still count it. */
    metrics_record(v, 0, METRICS_OK, 200, MS, MS, T0 + 30 * MINUTE);
    j = analytics(r, "w", NULL, T0, T0 + total * MINUTE);
    pts = points_of(j, 0);
    assert_int_equal(json_array_size(pts), METRICS_MINUTES);
    assert_int_equal(int_at(json_array_get(pts, METRICS_MINUTES - 10), "requests"), 1);
    json_decref(j);
    metrics_totals t;
    metrics_totals_get(v, &t);
    assert_int_equal(t.requests, total + 2);
    metrics_registry_free(r);
}

/* ------------------------------------------------------------------------------------------
 * Concurrency.
 * ---------------------------------------------------------------------------------------- */

#define WRITERS            4
#define RECORDS_PER_WRITER 1000000

typedef struct writer_arg {
    version_metrics *v;
    unsigned shard;
} writer_arg;

static void *writer_main(void *p) {
    writer_arg *a = p;
    for (uint64_t i = 0; i < RECORDS_PER_WRITER; i++) {
        metrics_outcome o = i % 10 == 0 ? METRICS_EXCEPTION : METRICS_OK;
        int status = i % 10 == 0 ? 500 : i % 7 == 0 ? 404 : 200;
        uint64_t wall = 100 * US + (i % 1000) * 10 * US;
        /* 50 us of clock per record, from 30 s into a minute: the run spans two minutes. */
        metrics_record(a->v, a->shard, o, status, wall, wall / 2, T0 + 30000 + i / 20);
    }
    return NULL;
}

typedef struct reader_arg {
    metrics_registry *r;
    version_metrics *v;
    atomic_bool *stop;
    long renders;
    bool went_back; /* checked by the main thread: cmocka asserts only work there */
} reader_arg;

static void *reader_main(void *p) {
    reader_arg *a = p;
    uint64_t last = 0;
    buf b = {0};
    while (!atomic_load(a->stop)) {
        buf_clear(&b);
        metrics_render_prometheus(a->r, &b);
        buf_clear(&b);
        metrics_analytics_json(a->r, "w", NULL, T0, T0 + 10 * MINUTE, &b);
        metrics_totals t;
        metrics_totals_get(a->v, &t);
        if (t.requests < last) a->went_back = true;
        last = t.requests;
        a->renders++;
    }
    buf_free(&b);
    return NULL;
}

/* Creates and looks up versions while the others record and render. */
static void *registrar_main(void *p) {
    metrics_registry *r = p;
    for (int i = 0; i < 2000; i++) {
        char id[16];
        snprintf(id, sizeof id, "x%04d", i % 500);
        lookup(r, i % 2 ? "w" : "z", id);
    }
    return NULL;
}

static void test_concurrent_records_and_reads(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *v = lookup(r, "w", "v");
    atomic_bool stop = false;
    reader_arg ra = {r, v, &stop, 0, false};
    pthread_t reader, registrar, writers[WRITERS];
    writer_arg wa[WRITERS];
    assert_int_equal(pthread_create(&reader, NULL, reader_main, &ra), 0);
    assert_int_equal(pthread_create(&registrar, NULL, registrar_main, r), 0);
    for (unsigned i = 0; i < WRITERS; i++) {
        wa[i] = (writer_arg){v, i * 5}; /* shards 0, 5, 10, 15 */
        assert_int_equal(pthread_create(&writers[i], NULL, writer_main, &wa[i]), 0);
    }
    for (unsigned i = 0; i < WRITERS; i++) pthread_join(writers[i], NULL);
    pthread_join(registrar, NULL);
    atomic_store(&stop, true);
    pthread_join(reader, NULL);
    print_message("    reader rendered %ld times during the run\n", ra.renders);
    assert_false(ra.went_back);

    uint64_t exceptions = 0, not_found = 0;
    for (uint64_t i = 0; i < RECORDS_PER_WRITER; i++) {
        if (i % 10 == 0)
            exceptions++;
        else if (i % 7 == 0)
            not_found++;
    }
    const uint64_t n = (uint64_t)WRITERS * RECORDS_PER_WRITER;
    metrics_totals t;
    metrics_totals_get(v, &t);
    assert_int_equal(t.requests, n);
    assert_int_equal(t.exceptions, WRITERS * exceptions);
    assert_int_equal(t.by_outcome[METRICS_OK], n - WRITERS * exceptions);
    assert_int_equal(t.by_status_class[5], WRITERS * exceptions);
    assert_int_equal(t.by_status_class[4], WRITERS * not_found);
    assert_int_equal(t.by_status_class[2], n - WRITERS * (exceptions + not_found));

    char *text = render(r);
    assert_int_equal(sample(text, "hearth_request_wall_seconds_count{worker=\"w\",version=\"v\"}"),
                     (long long)n);
    free(text);

    /* Every record is in one of the two minutes. */
    json_t *j = analytics(r, "w", "v", T0, T0 + 10 * MINUTE);
    json_t *pts = points_of(j, 0);
    assert_int_equal(json_array_size(pts), 2);
    long long requests = 0, errors = 0;
    for (size_t i = 0; i < 2; i++) {
        requests += int_at(json_array_get(pts, i), "requests");
        errors += int_at(json_array_get(pts, i), "errors");
    }
    assert_int_equal(requests, n);
    assert_int_equal(errors, WRITERS * exceptions);
    json_decref(j);
    metrics_registry_free(r);
}

typedef struct getter_arg {
    metrics_registry *r;
    version_metrics *got[200];
    unsigned seed;
} getter_arg;

static void *getter_main(void *p) {
    getter_arg *a = p;
    for (unsigned k = 0; k < 200; k++) {
        unsigned i = (k * 37 + a->seed * 11) % 200; /* each thread in another order */
        char id[16];
        snprintf(id, sizeof id, "v%03u", i);
        a->got[i] = lookup(a->r, i % 3 ? "w" : "x", id);
    }
    return NULL;
}

static void test_concurrent_registry_get(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    static getter_arg args[8];
    pthread_t t[8];
    for (unsigned i = 0; i < 8; i++) {
        args[i] = (getter_arg){.r = r, .seed = i};
        assert_int_equal(pthread_create(&t[i], NULL, getter_main, &args[i]), 0);
    }
    for (unsigned i = 0; i < 8; i++) pthread_join(t[i], NULL);
    for (unsigned i = 1; i < 8; i++)
        for (unsigned k = 0; k < 200; k++) assert_ptr_equal(args[i].got[k], args[0].got[k]);
    char *text = render(r);
    size_t lines = 0;
    for (const char *p = text; (p = strstr(p, "hearth_exceptions_total{")); p++) lines++;
    assert_int_equal(lines, 200);
    free(text);
    metrics_registry_free(r);
}

/* ------------------------------------------------------------------------------------------
 * Micro-benchmark (prints, never asserts a time).
 * ---------------------------------------------------------------------------------------- */

static void test_bench_record(void **state) {
    (void)state;
    metrics_registry *r = metrics_registry_new();
    version_metrics *v = lookup(r, "w", "v");
    enum { SAMPLES = 4096, ROUNDS = 2000 };
    static uint64_t wall[SAMPLES], cpu[SAMPLES];
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < SAMPLES; i++) { /* xorshift: latencies from 1 us to ~1 s */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        wall[i] = (UINT64_C(1) << (10 + x % 20)) + (x >> 40) % 1000;
        cpu[i] = wall[i] / 3;
    }
    metrics_record(v, 0, METRICS_OK, 200, 1, 1, T0); /* first use maps the block */
    double t0 = now_s();
    uint64_t n = 0;
    for (int k = 0; k < ROUNDS; k++)
        for (int i = 0; i < SAMPLES; i++) {
            /* ~10k req/s on this shard: the clock moves 0.1 ms per record (~14 minutes). */
            metrics_record(v, 0, i % 50 ? METRICS_OK : METRICS_EXCEPTION, i % 50 ? 200 : 500,
                           wall[i], cpu[i], T0 + n++ / 10);
        }
    double dt = now_s() - t0;
    double calls = (double)SAMPLES * ROUNDS;
    print_message("    metrics_record: %.1f ns per call (%.0f calls)\n", dt * 1e9 / calls, calls);
    metrics_totals t;
    metrics_totals_get(v, &t);
    assert_int_equal(t.requests, (uint64_t)calls + 1);
    metrics_registry_free(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outcome_names),
        cmocka_unit_test(test_registry_get_is_stable),
        cmocka_unit_test(test_forget_worker),
        cmocka_unit_test(test_forgotten_version_lives_while_referenced),
        cmocka_unit_test(test_prometheus_exact),
        cmocka_unit_test(test_prometheus_empty_registry),
        cmocka_unit_test(test_prometheus_order),
        cmocka_unit_test(test_prometheus_label_escaping),
        cmocka_unit_test(test_prometheus_bucket_edges),
        cmocka_unit_test(test_totals),
        cmocka_unit_test(test_analytics_counts_and_errors),
        cmocka_unit_test(test_analytics_percentiles),
        cmocka_unit_test(test_analytics_window),
        cmocka_unit_test(test_analytics_version_filter),
        cmocka_unit_test(test_analytics_ring_wraps),
        cmocka_unit_test(test_concurrent_records_and_reads),
        cmocka_unit_test(test_concurrent_registry_get),
        cmocka_unit_test(test_bench_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
