/* Unit tests for src/observe/logstore.c: append and search (every filter, order, limits),
 * retention and the size bound (run with an explicit clock), the queue bound under a flood
 * from several threads while the database is locked, close and reopen, bad paths, writers
 * and a reader at once, and a micro-benchmark of appending and of the writer (printed, never
 * asserted). */
#include <dirent.h>
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "observe/logstore.h"

#define HOUR UINT64_C(3600000)

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    char path[96];
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/hearth-logstore-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/logs.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static uint64_t real_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static logstore *open_store(fixture *f, const logstore_options *o) {
    char err[256] = "";
    logstore *ls = logstore_open(f->path, o, err, sizeof err);
    if (!ls) fail_msg("logstore_open: %s", err);
    return ls;
}

/* A trace event as the producer writes it; `pad` bytes of filler make it larger. */
static char *event_json(const char *script, const char *version, const char *outcome, uint64_t ts,
                        const char *message, const char *url, size_t pad) {
    char *filler = malloc(pad + 1);
    memset(filler, 'x', pad);
    filler[pad] = '\0';
    json_t *ev = json_pack(
        "{s:s, s:{s:s?, s:s, s:s}, s:s, s:{s:{s:s, s:s, s:{}, s:{}}, s:{s:i}}, s:I, s:s?,"
        " s:[{s:s, s:[s], s:I}], s:[], s:i, s:i, s:b, s:s}",
        "scriptName", script, "scriptVersion", "id", version, "tag", "", "message", "",
        "entrypoint", "default", "event", "request", "url", url, "method", "GET", "headers", "cf",
        "response", "status", 200, "eventTimestamp", (json_int_t)ts, "outcome", outcome, "logs",
        "level", "log", "message", message, "timestamp", (json_int_t)ts, "exceptions", "cpuTime", 1,
        "wallTime", 2, "truncated", 0, "pad", filler);
    free(filler);
    assert_non_null(ev);
    char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev);
    return text;
}

/* Appends an event; returns its length. */
static size_t add(logstore *ls, const char *script, const char *version, const char *outcome,
                  uint64_t ts, const char *message) {
    char *text = event_json(script, version, outcome, ts, message, "https://example.com/", 0);
    size_t n = strlen(text);
    logstore_append(ls, script, version, outcome, ts, text, n);
    free(text);
    return n;
}

/* The events a query finds (asserting it succeeds). */
static json_t *find(logstore *ls, logstore_query q) {
    json_t *out = NULL;
    char err[256] = "";
    if (logstore_search(ls, &q, &out, err, sizeof err) != 0) fail_msg("search: %s", err);
    assert_true(json_is_array(out));
    return out;
}

static size_t count(logstore *ls, logstore_query q) {
    json_t *out = find(ls, q);
    size_t n = json_array_size(out);
    json_decref(out);
    return n;
}

static uint64_t ts_of(json_t *events, size_t i) {
    json_t *ev = json_array_get(events, i);
    assert_non_null(ev);
    return (uint64_t)json_integer_value(json_object_get(ev, "eventTimestamp"));
}

static const char *message_of(json_t *events, size_t i) {
    json_t *logs = json_object_get(json_array_get(events, i), "logs");
    return json_string_value(
        json_array_get(json_object_get(json_array_get(logs, 0), "message"), 0));
}

static logstore_stats stats(logstore *ls) {
    logstore_stats s;
    logstore_stats_get(ls, &s);
    return s;
}

/* ------------------------------------------------------------------------------------------
 * Append and search.
 * ---------------------------------------------------------------------------------------- */

static void test_round_trip(void **state) {
    fixture *f = *state;
    logstore *ls = open_store(f, NULL);
    uint64_t t = real_ms();
    size_t bytes = 0;
    bytes += add(ls, "hello", "v1", "ok", t - 2000, "first");
    bytes += add(ls, "hello", "v1", "exception", t - 1000, "second");
    bytes += add(ls, "hello", "v2", "ok", t, "third");
    logstore_flush(ls);

    json_t *ev = find(ls, (logstore_query){.script = "hello"});
    assert_int_equal(json_array_size(ev), 3);
    assert_string_equal(message_of(ev, 0), "third");
    assert_string_equal(message_of(ev, 1), "second");
    assert_string_equal(message_of(ev, 2), "first");
    json_t *e0 = json_array_get(ev, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "scriptName")), "hello");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(e0, "scriptVersion"), "id")), "v2");
    assert_int_equal(ts_of(ev, 0), t);
    json_decref(ev);

    logstore_stats s = stats(ls);
    assert_int_equal(s.stored, 3);
    assert_int_equal(s.bytes, bytes);
    assert_int_equal(s.dropped, 0);
    /* Nothing for another script. */
    assert_int_equal(count(ls, (logstore_query){.script = "other"}), 0);
    logstore_close(ls);
    logstore_close(NULL);
}

static void test_filters(void **state) {
    fixture *f = *state;
    logstore *ls = open_store(f, NULL);
    uint64_t t = real_ms() - 10 * HOUR;
    add(ls, "a", "v1", "ok", t + 0, "Hello World");
    add(ls, "a", "v1", "exception", t + 100, "boom: 100% _done_");
    add(ls, "a", "v2", "ok", t + 200, "say \"hi\" to C:\\dir");
    add(ls, "a", "v2", "exceededCpu", t + 300, "tab\there");
    add(ls, "a", NULL, NULL, t + 400, "no version");
    add(ls, "b", "v1", "ok", t + 100, "Hello from b");
    logstore_flush(ls);

    /* Time range, inclusive at both ends; until 0 is unbounded. */
    assert_int_equal(count(ls, (logstore_query){.script = "a"}), 5);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .since_ms = t + 100}), 4);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .until_ms = t + 100}), 2);
    assert_int_equal(
        count(ls, (logstore_query){.script = "a", .since_ms = t + 100, .until_ms = t + 300}), 3);
    assert_int_equal(
        count(ls, (logstore_query){.script = "a", .since_ms = t + 101, .until_ms = t + 199}), 0);
    assert_int_equal(
        count(ls, (logstore_query){.script = "a", .since_ms = t + 300, .until_ms = t + 100}), 0);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .since_ms = UINT64_MAX}), 0);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .until_ms = UINT64_MAX}), 5);

    /* Version and outcome. */
    assert_int_equal(count(ls, (logstore_query){.script = "a", .version_id = "v1"}), 2);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .version_id = "v2"}), 2);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .version_id = "v3"}), 0);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .outcome = "ok"}), 2);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .outcome = "exception"}), 1);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .outcome = "exceededCpu"}), 1);
    assert_int_equal(
        count(ls, (logstore_query){.script = "a", .version_id = "v2", .outcome = "ok"}), 1);

    /* Search: a substring, ASCII case-insensitive; LIKE's wildcards are literal; quotes,
     * backslashes and tabs match as the user typed them, not as JSON escapes them. */
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "hello"}), 1);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "HELLO WORLD"}), 1);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "100%"}), 1);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "100%_"}), 0);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "_done_"}), 1);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "o_e"}), 0);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "say \"hi\""}), 1);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "C:\\dir"}), 1);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "tab\there"}), 1);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "example.com"}), 5);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = "nowhere"}), 0);
    assert_int_equal(count(ls, (logstore_query){.script = "a", .search = ""}), 5);
    assert_int_equal(
        count(ls, (logstore_query){.script = "a", .search = "hello", .outcome = "exception"}), 0);
    assert_int_equal(count(ls, (logstore_query){.script = "b", .search = "hello"}), 1);

    json_t *ev = find(ls, (logstore_query){.script = "a", .search = "BOOM"});
    assert_string_equal(message_of(ev, 0), "boom: 100% _done_");
    json_decref(ev);

    /* Errors. */
    json_t *out = (json_t *)1;
    char err[256] = "";
    assert_int_equal(logstore_search(ls, &(logstore_query){0}, &out, err, sizeof err), -1);
    assert_null(out);
    assert_non_null(strstr(err, "script"));
    char long_search[LOGSTORE_MAX_SEARCH + 2];
    memset(long_search, 'q', sizeof long_search - 1);
    long_search[sizeof long_search - 1] = '\0';
    assert_int_equal(logstore_search(ls, &(logstore_query){.script = "a", .search = long_search},
                                     &out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "longer"));
    logstore_close(ls);
}

static void test_search_timeout(void **state) {
    fixture *f = *state;
    logstore_options o = {.search_timeout_ms = 1};
    logstore *ls = open_store(f, &o);
    uint64_t t = real_ms();
    char *text = event_json("w", "v", "ok", t, "m", "https://example.com/", 1000);
    size_t len = strlen(text);
    /* ~40 MB to scan for a string that is not there: far more than a millisecond. */
    for (int i = 0; i < 40000; i++) logstore_append(ls, "w", "v", "ok", t, text, len);
    free(text);
    logstore_flush(ls);
    json_t *out = NULL;
    char err[256] = "";
    assert_int_equal(logstore_search(ls, &(logstore_query){.script = "w", .search = "absent"}, &out,
                                     err, sizeof err),
                     -1);
    assert_null(out);
    assert_non_null(strstr(err, "longer than 1 ms"));
    /* The connection is usable again afterwards. */
    assert_int_equal(count(ls, (logstore_query){.script = "w", .limit = 3}), 3);
    logstore_close(ls);
}

static void test_order_and_limit(void **state) {
    fixture *f = *state;
    logstore *ls = open_store(f, NULL);
    uint64_t t = real_ms() - HOUR;
    /* Appended out of order, with ties: timestamps t + i/2 for i in a shuffled order. */
    enum { N = 1500 };
    for (int k = 0; k < N; k++) {
        int i = (k * 7919) % N; /* 7919 is prime: a permutation of 0..N-1 */
        char msg[32];
        snprintf(msg, sizeof msg, "m%d", i);
        add(ls, "w", "v", "ok", t + (uint64_t)(i / 2), msg);
    }
    logstore_flush(ls);
    json_t *ev = find(ls, (logstore_query){.script = "w", .limit = 5000});
    assert_int_equal(json_array_size(ev), LOGSTORE_MAX_LIMIT);
    for (size_t i = 1; i < json_array_size(ev); i++) assert_true(ts_of(ev, i - 1) >= ts_of(ev, i));
    assert_int_equal(ts_of(ev, 0), t + (N - 1) / 2);
    json_decref(ev);
    assert_int_equal(count(ls, (logstore_query){.script = "w"}), LOGSTORE_DEFAULT_LIMIT);
    assert_int_equal(count(ls, (logstore_query){.script = "w", .limit = 7}), 7);
    assert_int_equal(count(ls, (logstore_query){.script = "w", .limit = 1}), 1);

    /* Ties: the one appended last comes first. */
    uint64_t tie = t + 10 * HOUR;
    add(ls, "tie", "v", "ok", tie, "one");
    add(ls, "tie", "v", "ok", tie, "two");
    add(ls, "tie", "v", "ok", tie, "three");
    add(ls, "tie", "v", "ok", tie - 1, "older");
    logstore_flush(ls);
    ev = find(ls, (logstore_query){.script = "tie"});
    assert_int_equal(json_array_size(ev), 4);
    assert_string_equal(message_of(ev, 0), "three");
    assert_string_equal(message_of(ev, 1), "two");
    assert_string_equal(message_of(ev, 2), "one");
    assert_string_equal(message_of(ev, 3), "older");
    json_decref(ev);
    logstore_close(ls);
}

static void test_skips_what_does_not_parse(void **state) {
    fixture *f = *state;
    logstore *ls = open_store(f, NULL);
    uint64_t t = real_ms();
    logstore_append(ls, "w", "v", "ok", t, "not json", 8);
    logstore_append(ls, "w", "v", "ok", t, "[1,2]", 5);
    logstore_append(ls, "w", "v", "ok", t, "{\"a\":1}trailing", 7); /* only the first 7 bytes */
    logstore_flush(ls);
    json_t *ev = find(ls, (logstore_query){.script = "w"});
    assert_int_equal(json_array_size(ev), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 0), "a")), 1);
    json_decref(ev);
    assert_int_equal(stats(ls).stored, 3);
    logstore_close(ls);
}

/* ------------------------------------------------------------------------------------------
 * Retention and the size bound.
 * ---------------------------------------------------------------------------------------- */

static void test_retention(void **state) {
    fixture *f = *state;
    logstore_options o = {.retention_ms = HOUR};
    logstore *ls = open_store(f, &o);
    /* Ten days ahead, so that the writer's own runs (real clock) delete none of these. */
    uint64_t t = real_ms() + 240 * HOUR;
    size_t young = 0;
    add(ls, "w", "v", "ok", t - 3 * HOUR, "ancient");
    add(ls, "w", "v", "ok", t - 2 * HOUR, "old");
    young += add(ls, "w", "v", "ok", t - HOUR / 2, "recent");
    young += add(ls, "x", "v", "ok", t, "now");
    logstore_flush(ls);
    assert_int_equal(stats(ls).stored, 4);

    /* As seen from t: the events more than an hour old go. */
    logstore_maintain(ls, t);
    assert_int_equal(stats(ls).stored, 2);
    assert_int_equal(stats(ls).bytes, young);
    json_t *ev = find(ls, (logstore_query){.script = "w"});
    assert_int_equal(json_array_size(ev), 1);
    assert_string_equal(message_of(ev, 0), "recent");
    json_decref(ev);

    /* With the real clock nothing more goes; half an hour and a minute later, "recent" is old
     * too. */
    logstore_maintain(ls, 0);
    assert_int_equal(stats(ls).stored, 2);
    logstore_maintain(ls, t + HOUR / 2 + 60000);
    assert_int_equal(stats(ls).stored, 1);
    assert_int_equal(count(ls, (logstore_query){.script = "x"}), 1);
    logstore_close(ls);

    /* Reopened with the defaults (3 days): an event four days old by the real clock is stored,
     * then deleted by the next run (or by the one at open, if the append came first). */
    logstore_options d = {0};
    ls = open_store(f, &d);
    add(ls, "w", "v", "ok", real_ms() - 4 * 24 * HOUR, "very old");
    logstore_maintain(ls, 0);
    assert_int_equal(stats(ls).stored, 1);
    assert_int_equal(stats(ls).dropped, 0);
    assert_int_equal(count(ls, (logstore_query){.script = "w"}), 0);
    logstore_close(ls);
}

static void test_size_bound(void **state) {
    fixture *f = *state;
    logstore_options o = {.max_bytes = 100000};
    logstore *ls = open_store(f, &o);
    uint64_t t = real_ms() - HOUR;
    enum { N = 400 };
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        char *text = event_json("w", "v", "ok", t + (uint64_t)i, "m", "https://example.com/", 900);
        len = strlen(text);
        logstore_append(ls, "w", "v", "ok", t + (uint64_t)i, text, len);
        free(text);
    }
    logstore_flush(ls);
    logstore_maintain(ls, 0);
    /* Evicted down to 10% under the bound, oldest first. */
    logstore_stats s = stats(ls);
    assert_true(s.bytes <= o.max_bytes);
    assert_true(s.bytes > o.max_bytes - o.max_bytes / 10 - len);
    assert_int_equal(s.bytes, s.stored * len);
    json_t *ev = find(ls, (logstore_query){.script = "w", .limit = 1000});
    assert_int_equal(json_array_size(ev), s.stored);
    for (size_t i = 0; i < json_array_size(ev); i++) assert_int_equal(ts_of(ev, i), t + N - 1 - i);
    json_decref(ev);

    /* Below the bound nothing more goes, even when asked. */
    uint64_t kept = s.stored;
    logstore_maintain(ls, 0);
    assert_int_equal(stats(ls).stored, kept);
    logstore_close(ls);

    /* Batches smaller than the bound never take the total over it, not even for a moment:
     * room is made before a batch is written. */
    logstore_options mib = {.max_bytes = 1 << 20};
    ls = open_store(f, &mib);
    uint64_t highest = 0;
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < 100; i++) {
            char *text =
                event_json("w", "v", "ok", t + N + (uint64_t)(round * 100 + i), "m", "u", 900);
            logstore_append(ls, "w", "v", "ok", t + N + (uint64_t)(round * 100 + i), text,
                            strlen(text));
            free(text);
        }
        logstore_flush(ls);
        if (stats(ls).bytes > highest) highest = stats(ls).bytes;
    }
    assert_true(highest <= mib.max_bytes);
    assert_true(highest > mib.max_bytes - 100 * len);
    assert_int_equal(stats(ls).dropped, 0);

    /* Reopened with a smaller bound: it applies at once. */
    logstore_options smaller = {.max_bytes = 20000};
    ls = open_store(f, &smaller);
    logstore_maintain(ls, 0);
    s = stats(ls);
    assert_true(s.bytes <= smaller.max_bytes);
    assert_true(s.stored > 0);
    logstore_close(ls);
}

/* ------------------------------------------------------------------------------------------
 * The queue bound, close and reopen, bad paths.
 * ---------------------------------------------------------------------------------------- */

typedef struct flood_arg {
    logstore *ls;
    int n;
    const char *text;
    size_t len;
} flood_arg;

static void *flood(void *p) {
    flood_arg *a = p;
    for (int i = 0; i < a->n; i++)
        logstore_append(a->ls, "w", "v", "ok", real_ms(), a->text, a->len);
    return NULL;
}

static void test_queue_bound_drops_and_counts(void **state) {
    fixture *f = *state;
    logstore_options o = {.queue_max_bytes = 256 * 1024};
    logstore *ls = open_store(f, &o);
    /* Another connection holds the write lock, so the writer is stuck and the queue fills. */
    sqlite3 *blocker = NULL;
    assert_int_equal(sqlite3_open(f->path, &blocker), SQLITE_OK);
    assert_int_equal(sqlite3_exec(blocker, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    char *text = event_json("w", "v", "ok", real_ms(), "flood", "https://example.com/", 400);
    enum { THREADS = 8, EACH = 5000 };
    pthread_t th[THREADS];
    flood_arg arg = {ls, EACH, text, strlen(text)};
    for (int i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, flood, &arg);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    assert_int_equal(sqlite3_exec(blocker, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(blocker);
    logstore_flush(ls);

    logstore_stats s = stats(ls);
    print_message("    flood: %" PRIu64 " stored, %" PRIu64 " dropped\n", s.stored, s.dropped);
    assert_int_equal(s.stored + s.dropped, THREADS * EACH);
    assert_true(s.dropped > 0);
    /* At most what fits in the queue twice: once in the batch the stuck writer holds, once
     * waiting behind it. */
    assert_true(s.stored * arg.len <= 2 * o.queue_max_bytes);
    assert_int_equal(count(ls, (logstore_query){.script = "w", .limit = 1000}),
                     s.stored < 1000 ? s.stored : 1000);

    /* Once drained, appends are accepted again. */
    logstore_append(ls, "w", "v", "ok", real_ms(), text, arg.len);
    logstore_flush(ls);
    assert_int_equal(stats(ls).stored, s.stored + 1);
    assert_int_equal(stats(ls).dropped, s.dropped);
    /* An event larger than the whole queue can never be kept. */
    char *huge = calloc(1, o.queue_max_bytes + 1);
    memset(huge, ' ', o.queue_max_bytes);
    logstore_append(ls, "w", "v", "ok", real_ms(), huge, o.queue_max_bytes);
    assert_int_equal(stats(ls).dropped, s.dropped + 1);
    free(huge);
    free(text);
    logstore_close(ls);
}

static void test_close_flushes_and_reopen_persists(void **state) {
    fixture *f = *state;
    logstore *ls = open_store(f, NULL);
    uint64_t t = real_ms();
    enum { N = 2500 };
    size_t bytes = 0;
    for (int i = 0; i < N; i++) bytes += add(ls, "w", "v", "ok", t + (uint64_t)i, "persist");
    logstore_close(ls); /* no flush: close writes the queue */

    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    ls = open_store(f, NULL);
    logstore_stats s = stats(ls);
    assert_int_equal(s.stored, N);
    assert_int_equal(s.bytes, bytes);
    assert_int_equal(s.dropped, 0);
    json_t *ev = find(ls, (logstore_query){.script = "w", .limit = 3});
    assert_int_equal(ts_of(ev, 0), t + N - 1);
    json_decref(ev);
    add(ls, "w", "v", "ok", t + N, "after reopen");
    logstore_flush(ls);
    assert_int_equal(stats(ls).stored, N + 1);
    logstore_close(ls);
}

static void test_bad_paths(void **state) {
    fixture *f = *state;
    char err[256] = "";
    assert_null(logstore_open("/nonexistent-hearth-dir/x/logs.db", NULL, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent-hearth-dir/x/logs.db"));
    assert_non_null(strstr(err, "No such file"));
    err[0] = '\0';
    assert_null(logstore_open(f->dir, NULL, err, sizeof err)); /* a directory */
    assert_true(err[0] != '\0');
    /* A file that is not a database. */
    FILE *fp = fopen(f->path, "w");
    fputs("this is not a SQLite database, not even a little bit; it is just text.\n", fp);
    for (int i = 0; i < 100; i++) fputs("more text to fill a page of the would-be database\n", fp);
    fclose(fp);
    err[0] = '\0';
    assert_null(logstore_open(f->path, NULL, err, sizeof err));
    assert_non_null(strstr(err, "not a database"));
    /* A NULL err buffer is allowed. */
    assert_null(logstore_open("/nonexistent-hearth-dir/logs.db", NULL, NULL, 0));
}

/* ------------------------------------------------------------------------------------------
 * Concurrency.
 * ---------------------------------------------------------------------------------------- */

typedef struct writer_arg {
    logstore *ls;
    int id;
    int n;
} writer_arg;

static void *writer_thread(void *p) {
    writer_arg *a = p;
    char script[16];
    snprintf(script, sizeof script, "w%d", a->id % 2);
    for (int i = 0; i < a->n; i++) {
        char msg[64];
        snprintf(msg, sizeof msg, "thread %d event %d", a->id, i);
        add(a->ls, script, i % 3 ? "v1" : "v2", i % 5 ? "ok" : "exception", real_ms(), msg);
        if (i % 500 == 0) usleep(1000);
    }
    return NULL;
}

typedef struct reader_arg {
    logstore *ls;
    atomic_bool stop;
    int searches;
} reader_arg;

static void *reader_thread(void *p) {
    reader_arg *a = p;
    while (!atomic_load(&a->stop)) {
        logstore_query q = {.script = a->searches % 2 ? "w0" : "w1",
                            .outcome = a->searches % 3 ? NULL : "exception",
                            .search = a->searches % 4 ? NULL : "THREAD 1",
                            .limit = 200};
        json_t *ev = NULL;
        char err[256];
        if (logstore_search(a->ls, &q, &ev, err, sizeof err) != 0) fail_msg("search: %s", err);
        for (size_t i = 0; i < json_array_size(ev); i++) {
            json_t *e = json_array_get(ev, i);
            if (strcmp(json_string_value(json_object_get(e, "scriptName")), q.script) != 0)
                fail_msg("an event of another script");
            if (i && ts_of(ev, i - 1) < ts_of(ev, i)) fail_msg("not newest first");
        }
        json_decref(ev);
        logstore_stats s;
        logstore_stats_get(a->ls, &s);
        a->searches++;
    }
    return NULL;
}

static void test_concurrent_writers_and_reader(void **state) {
    fixture *f = *state;
    logstore *ls = open_store(f, NULL);
    enum { WRITERS = 4, EACH = 3000 };
    pthread_t w[WRITERS], r;
    writer_arg wa[WRITERS];
    reader_arg ra = {.ls = ls};
    pthread_create(&r, NULL, reader_thread, &ra);
    for (int i = 0; i < WRITERS; i++) {
        wa[i] = (writer_arg){ls, i, EACH};
        pthread_create(&w[i], NULL, writer_thread, &wa[i]);
    }
    /* A flush and a maintenance in the middle of it all. */
    logstore_flush(ls);
    logstore_maintain(ls, 0);
    for (int i = 0; i < WRITERS; i++) pthread_join(w[i], NULL);
    logstore_flush(ls);
    atomic_store(&ra.stop, true);
    pthread_join(r, NULL);
    print_message("    %d searches ran while writing\n", ra.searches);
    assert_true(ra.searches > 0);
    logstore_stats s = stats(ls);
    assert_int_equal(s.stored, WRITERS * EACH);
    assert_int_equal(s.dropped, 0);
    assert_int_equal(count(ls, (logstore_query){.script = "w0", .limit = 1000}), 1000);
    assert_int_equal(count(ls, (logstore_query){.script = "w1", .search = "thread 3 event 2999"}),
                     1);
    logstore_close(ls);
}

/* ------------------------------------------------------------------------------------------
 * Cost (printed, not asserted).
 * ---------------------------------------------------------------------------------------- */

#define BENCH_VERSION "0f7e3a52-7bd4-4c5e-9a57-5a0d1b2c3d4e"

typedef struct bench_arg {
    logstore *ls;
    const char *text;
    size_t len;
    int rounds, per_round;
    pthread_barrier_t *barrier;
    double *start, *end; /* per round: when the thread started and finished appending */
} bench_arg;

/* Each round: wait for the others, append per_round events, wait again (the main thread
 * flushes between rounds). The threads time themselves: on a machine with few CPUs the main
 * thread may be scheduled long after the barrier opens. */
static void *bench_thread(void *p) {
    bench_arg *a = p;
    uint64_t t = real_ms();
    for (int r = 0; r < a->rounds; r++) {
        pthread_barrier_wait(a->barrier);
        double t0 = now_s();
        for (int i = 0; i < a->per_round; i++)
            logstore_append(a->ls, "bench", BENCH_VERSION, "ok", t + (uint64_t)i, a->text, a->len);
        double t1 = now_s();
        a->start[r] = t0; /* each thread has its own arrays */
        a->end[r] = t1;
        pthread_barrier_wait(a->barrier);
    }
    return NULL;
}

/* The cost of an append in the steady state (the queue's buffers already grown, as they are
 * after the first batches), with `threads` threads appending at once: wall time per event,
 * from the first thread starting a round to the last one finishing it. */
static double bench_appends(logstore *ls, const char *text, size_t len, int threads) {
    enum { ROUNDS = 20, PER_ROUND = 4000 };
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
    bench_arg a[16];
    pthread_t th[16];
    for (int i = 0; i < threads; i++) {
        a[i] = (bench_arg){ls,
                           text,
                           len,
                           ROUNDS,
                           PER_ROUND / threads,
                           &barrier,
                           calloc(ROUNDS, sizeof(double)),
                           calloc(ROUNDS, sizeof(double))};
        pthread_create(&th[i], NULL, bench_thread, &a[i]);
    }
    for (int r = 0; r < ROUNDS; r++) {
        pthread_barrier_wait(&barrier);
        pthread_barrier_wait(&barrier);
        logstore_flush(ls);
    }
    double spent = 0;
    for (int r = 1; r < ROUNDS; r++) { /* round 0 grows the buffers */
        double first = a[0].start[r], last = a[0].end[r];
        for (int i = 1; i < threads; i++) {
            if (a[i].start[r] < first) first = a[i].start[r];
            if (a[i].end[r] > last) last = a[i].end[r];
        }
        spent += last - first;
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        free(a[i].start);
        free(a[i].end);
    }
    pthread_barrier_destroy(&barrier);
    return spent / ((ROUNDS - 1) * (double)(PER_ROUND / threads) * threads) * 1e9;
}

static void test_bench(void **state) {
    fixture *f = *state;
    logstore_options o = {.queue_max_bytes = (size_t)512 << 20, .max_bytes = UINT64_C(1) << 30};
    logstore *ls = open_store(f, &o);
    char *text =
        event_json("bench", BENCH_VERSION, "ok", real_ms(),
                   "a typical console.log line of some length", "https://example.com/", 300);
    size_t len = strlen(text);
    print_message("    append (%zu-byte events, steady state): %.0f ns/event on 1 thread, "
                  "%.0f ns/event with 8 threads at once (wall time per event)\n",
                  len, bench_appends(ls, text, len, 1), bench_appends(ls, text, len, 8));

    /* The writer: a burst much larger than a batch, appended at once, then waited for. */
    enum { N = 100000 };
    uint64_t t = real_ms();
    double t0 = now_s();
    for (int i = 0; i < N; i++)
        logstore_append(ls, "bench", BENCH_VERSION, "ok", t + (uint64_t)i, text, len);
    double t1 = now_s();
    logstore_flush(ls);
    double t2 = now_s();
    print_message("    burst of %d: appended in %.0f ns/event (growing the queue to %.0f MB); "
                  "writer %.0f events/s (%.1f MB/s)\n",
                  N, (t1 - t0) / N * 1e9, N * (double)len / 1e6, N / (t2 - t0),
                  N * (double)len / (t2 - t0) / 1e6);
    assert_int_equal(stats(ls).dropped, 0);

    /* Small batches: one event at a time as a light load would give them. */
    t0 = now_s();
    for (int i = 0; i < 200; i++) {
        logstore_append(ls, "bench", "v", "ok", real_ms(), text, len);
        logstore_flush(ls);
    }
    print_message("    one event per transaction: %.0f us each\n", (now_s() - t0) / 200 * 1e6);

    uint64_t stored = stats(ls).stored;
    t0 = now_s();
    assert_int_equal(count(ls, (logstore_query){.script = "bench", .search = "no such text"}), 0);
    t1 = now_s();
    assert_int_equal(count(ls, (logstore_query){.script = "bench", .limit = 1000}), 1000);
    t2 = now_s();
    print_message("    search without a match over %" PRIu64 " events (%.0f MB): %.1f ms; "
                  "newest 1000: %.1f ms\n",
                  stored, stored * (double)len / 1e6, (t1 - t0) * 1e3, (t2 - t1) * 1e3);
    free(text);
    logstore_close(ls);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_search_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_order_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_skips_what_does_not_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound_drops_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_flushes_and_reopen_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers_and_reader, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bench, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
