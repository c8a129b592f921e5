/* Unit tests for worker versions (src/platform/worker.c) and routing snapshots
 * (src/platform/snapshot.c): reference counting, publishing, and routing a Host to a Worker.
 *
 * Versions are made without a compiled program (NULL): these tests are about ownership and
 * routing, and worker_version_unref must cope with that (js_program_unref(NULL) is a no-op).
 * Frees are checked by the sanitizers: a version freed too early is a use-after-free, one
 * never freed is a leak. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "platform/snapshot.h"
#include "platform/worker.h"

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------------- */

static worker_version *version(const char *name) {
    worker_limits limits;
    worker_limits_defaults(&limits);
    char facts[128];
    snprintf(facts, sizeof facts, "{\"name\":\"%s\"}", name);
    return worker_version_new(name, "dev-1", NULL, strdup("[]"), strdup(facts), &limits);
}

static int refs(worker_version *v) {
    return atomic_load(&v->refs);
}

static int snapshot_refs(snapshot *s) {
    return atomic_load(&s->refs);
}

static worker_version *route(const snapshot *s, const char *host) {
    return snapshot_route(s, host, strlen(host));
}

/* ------------------------------------------------------------------------------------------
 * Publishing. This test must run first: it checks the state before any publish.
 * ---------------------------------------------------------------------------------------- */

static void test_publish_and_current(void **state) {
    (void)state;
    assert_null(snapshot_current()); /* nothing published yet */

    worker_version *v = version("app");
    snapshot *s1 = snapshot_new(&v, 1, v);
    assert_int_equal(refs(v), 3); /* ours, the route and the default */
    snapshot_publish(s1);         /* takes over our reference to s1 */
    assert_int_equal(snapshot_refs(s1), 1);
    uint64_t gen1 = s1->generation;
    assert_true(gen1 >= 1);

    snapshot *cur = snapshot_current();
    assert_ptr_equal(cur, s1);
    assert_int_equal(snapshot_refs(s1), 2);

    /* Publishing a new snapshot drops the old current reference, but ours keeps s1 alive
     * (and with it the version it routes to). */
    worker_version *v2 = version("app");
    snapshot *s2 = snapshot_new(&v2, 1, NULL);
    worker_version_unref(v2);
    snapshot_publish(s2);
    assert_true(s2->generation > gen1);
    assert_int_equal(snapshot_refs(s1), 1);
    assert_ptr_equal(route(cur, "app.example.com"), v);
    assert_string_equal(route(cur, "app.example.com")->worker_name, "app");

    snapshot *cur2 = snapshot_current();
    assert_ptr_equal(cur2, s2);
    assert_ptr_equal(route(cur2, "app.example.com"), v2);
    assert_null(route(cur2, "other.example.com")); /* s2 has no default */

    /* A request still running on v holds its own reference: dropping the old snapshot keeps v. */
    worker_version *in_flight = worker_version_ref(route(cur, "app.example.com"));
    worker_version_unref(v);
    snapshot_unref(cur); /* frees s1 */
    assert_int_equal(refs(in_flight), 1);
    assert_string_equal(in_flight->worker_name, "app"); /* still readable */
    worker_version_unref(in_flight);                    /* the last reference: freed */

    /* Generations keep counting up. */
    snapshot *s3 = snapshot_new(NULL, 0, NULL);
    snapshot_publish(s3);
    assert_true(s3->generation > s2->generation);
    snapshot_unref(cur2); /* s2 was dropped by the publish; this frees it */
    snapshot *cur3 = snapshot_current();
    assert_ptr_equal(cur3, s3);
    assert_null(route(cur3, "app.example.com"));
    snapshot_unref(cur3);
}

/* ------------------------------------------------------------------------------------------
 * Worker versions.
 * ---------------------------------------------------------------------------------------- */

static void test_worker_limits_defaults(void **state) {
    (void)state;
    worker_limits l = {0, 0};
    worker_limits_defaults(&l);
    assert_int_equal(l.cpu_ms, 30000);
    assert_int_equal(l.memory_bytes, 128u * 1024 * 1024);
}

static void test_worker_version_new(void **state) {
    (void)state;
    char name[] = "my-worker";
    char id[] = "dev-7";
    worker_limits limits = {50, 1024};
    char *bindings = strdup("[{\"type\":\"plain_text\",\"name\":\"A\",\"text\":\"x\"}]");
    char *facts = strdup("{\"name\":\"my-worker\"}");
    worker_version *v = worker_version_new(name, id, NULL, bindings, facts, &limits);
    /* Names are copied; the strings and the program are taken over. */
    name[0] = 'X';
    id[0] = 'X';
    limits.cpu_ms = 1;
    assert_string_equal(v->worker_name, "my-worker");
    assert_string_equal(v->version_id, "dev-7");
    assert_ptr_equal(v->bindings_json, bindings);
    assert_ptr_equal(v->worker_json, facts);
    assert_null(v->program);
    assert_int_equal(v->limits.cpu_ms, 50);
    assert_int_equal(v->limits.memory_bytes, 1024);
    assert_int_equal(refs(v), 1);
    /* Serials are unique and increasing. */
    worker_version *w = version("other");
    assert_true(w->serial > v->serial);
    assert_true(v->serial != 0);
    worker_version_unref(v); /* frees v, its strings; the NULL program is fine */
    worker_version_unref(w);
    worker_version_unref(NULL); /* allowed */
}

static void test_worker_version_refcount(void **state) {
    (void)state;
    worker_version *v = version("counted");
    assert_ptr_equal(worker_version_ref(v), v);
    assert_ptr_equal(worker_version_ref(v), v);
    assert_int_equal(refs(v), 3);
    worker_version_unref(v);
    worker_version_unref(v);
    assert_int_equal(refs(v), 1);
    assert_string_equal(v->worker_name, "counted");
    worker_version_unref(v);
}

/* ------------------------------------------------------------------------------------------
 * Snapshots.
 * ---------------------------------------------------------------------------------------- */

static void test_snapshot_holds_versions(void **state) {
    (void)state;
    worker_version *a = version("a"), *b = version("b");
    worker_version *list[] = {a, b};
    snapshot *s = snapshot_new(list, 2, b);
    assert_int_equal(snapshot_refs(s), 1);
    assert_int_equal(s->worker_count, 2);
    assert_ptr_equal(s->workers[0], a);
    assert_ptr_equal(s->workers[1], b);
    assert_ptr_equal(s->default_worker, b);
    assert_int_equal(refs(a), 2);
    assert_int_equal(refs(b), 3);
    /* The caller's array is copied. */
    list[0] = NULL;
    assert_ptr_equal(s->workers[0], a);
    /* Dropping our references leaves the snapshot's. */
    worker_version_unref(a);
    worker_version_unref(b);
    assert_int_equal(refs(a), 1);
    assert_int_equal(refs(b), 2);
    assert_string_equal(route(s, "a.example.com")->worker_name, "a");
    /* Another snapshot reference keeps everything alive. */
    assert_ptr_equal(snapshot_ref(s), s);
    snapshot_unref(s);
    assert_int_equal(snapshot_refs(s), 1);
    assert_string_equal(route(s, "b.example.com")->worker_name, "b");
    /* A version referenced elsewhere outlives the snapshot. */
    worker_version *kept = worker_version_ref(a);
    snapshot_unref(s); /* frees s and b */
    assert_int_equal(refs(kept), 1);
    assert_string_equal(kept->worker_name, "a");
    worker_version_unref(kept);
    snapshot_unref(NULL); /* allowed */
}

static void test_snapshot_empty(void **state) {
    (void)state;
    snapshot *s = snapshot_new(NULL, 0, NULL);
    assert_int_equal(s->worker_count, 0);
    assert_null(s->default_worker);
    assert_null(route(s, "anything.example.com"));
    assert_null(route(s, ""));
    snapshot_unref(s);
    /* Only a default Worker: it serves every host. */
    worker_version *d = version("fallback");
    s = snapshot_new(NULL, 0, d);
    worker_version_unref(d);
    assert_ptr_equal(route(s, "x.example.com"), d);
    assert_ptr_equal(route(s, "localhost"), d);
    assert_ptr_equal(route(s, ""), d);
    snapshot_unref(s);
}

/* ------------------------------------------------------------------------------------------
 * Routing.
 * ---------------------------------------------------------------------------------------- */

static void test_route_by_name(void **state) {
    (void)state;
    worker_version *api = version("api"), *api2 = version("api-v2"), *www = version("www");
    worker_version *def = version("main");
    worker_version *list[] = {api, api2, www};
    snapshot *s = snapshot_new(list, 3, def);
    struct {
        const char *host;
        worker_version *want;
    } cases[] = {
        {"api.example.com", api},
        {"api.localhost", api},
        {"API.Example.COM", api}, /* hosts are case-insensitive */
        {"api.staging.example.com", api},
        {"api-v2.example.com", api2}, /* not taken by "api", a prefix of its name */
        {"www.example.com", www},
        {"example.com", def},
        {"localhost", def},
        {"api", def}, /* a bare name has no domain */
        {"apix.example.com", def},
        {"ap.example.com", def},
        {"x.api.example.com", def}, /* the name must be the first label */
        {"", def},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        worker_version *got = route(s, cases[i].host);
        if (got != cases[i].want)
            fail_msg("host \"%s\" routed to %s, want %s", cases[i].host,
                     got ? got->worker_name : "(none)", cases[i].want->worker_name);
    }
    /* Only host_len bytes are looked at: the host need not be NUL-terminated. */
    const char header[] = "api.example.com:8787";
    assert_ptr_equal(snapshot_route(s, header, 15), api);
    assert_ptr_equal(snapshot_route(s, header, 3), def); /* "api" */
    assert_ptr_equal(snapshot_route(s, "www.", 3), def); /* "www" */
    char exact[3] = {'a', 'p', 'i'};                     /* no NUL after it (ASan checks) */
    assert_ptr_equal(snapshot_route(s, exact, 3), def);
    worker_version_unref(api);
    worker_version_unref(api2);
    worker_version_unref(www);
    worker_version_unref(def);
    snapshot_unref(s);
}

static void test_route_without_default(void **state) {
    (void)state;
    worker_version *a = version("a");
    snapshot *s = snapshot_new(&a, 1, NULL);
    worker_version_unref(a);
    assert_ptr_equal(route(s, "a.b"), a);
    assert_null(route(s, "b.a"));
    assert_null(route(s, "a"));
    snapshot_unref(s);
}

/* ------------------------------------------------------------------------------------------
 * Concurrency: loop threads take the current snapshot and route while the control side
 * publishes. With the sanitizers, a reference count that raced would show as a use after free
 * or a leak.
 * ---------------------------------------------------------------------------------------- */

enum { kReaders = 4, kPublishes = 2000 };

static atomic_bool publishing_done;

static void *reader(void *arg) {
    atomic_long *served = arg;
    while (!atomic_load(&publishing_done)) {
        snapshot *s = snapshot_current();
        if (!s) continue;
        worker_version *v = route(s, "svc.example.com");
        if (v) {
            worker_version_ref(v); /* a request starts on v ... */
            snapshot_unref(s);     /* ... the loop moves on to a newer snapshot ... */
            if (strcmp(v->worker_name, "svc") != 0) abort();
            worker_version_unref(v); /* ... and the request ends */
            atomic_fetch_add(served, 1);
        } else {
            snapshot_unref(s);
        }
    }
    return NULL;
}

static void test_concurrent_publish_and_route(void **state) {
    (void)state;
    atomic_store(&publishing_done, false);
    atomic_long served = 0;
    pthread_t threads[kReaders];
    for (int i = 0; i < kReaders; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, reader, &served), 0);
    snapshot *first = NULL;
    /* Keep publishing until the readers have really run alongside (they may start late). */
    for (int i = 0; i < kPublishes || atomic_load(&served) < 1000; i++) {
        worker_version *v = version("svc");
        snapshot *s = snapshot_new(&v, 1, v);
        worker_version_unref(v);
        if (i == 0) first = snapshot_ref(s);
        snapshot_publish(s);
    }
    atomic_store(&publishing_done, true);
    for (int i = 0; i < kReaders; i++) assert_int_equal(pthread_join(threads[i], NULL), 0);
    /* Our reference to the first snapshot kept it (and its version) alive throughout. */
    assert_int_equal(snapshot_refs(first), 1);
    assert_string_equal(route(first, "svc.example.com")->worker_name, "svc");
    snapshot_unref(first);
    snapshot *cur = snapshot_current();
    assert_non_null(cur);
    assert_int_equal(snapshot_refs(cur), 2); /* the current pointer and ours */
    snapshot_unref(cur);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_and_current), /* first: sees the unpublished state */
        cmocka_unit_test(test_worker_limits_defaults),
        cmocka_unit_test(test_worker_version_new),
        cmocka_unit_test(test_worker_version_refcount),
        cmocka_unit_test(test_snapshot_holds_versions),
        cmocka_unit_test(test_snapshot_empty),
        cmocka_unit_test(test_route_by_name),
        cmocka_unit_test(test_route_without_default),
        cmocka_unit_test(test_concurrent_publish_and_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
