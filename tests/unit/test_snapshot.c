/* Unit tests for worker versions (src/platform/worker.c) and routing snapshots
 * (src/platform/snapshot.c):
 *
 * - ownership: worker_version and snapshot reference counts, publish/current and their
 *   generations, a request keeping its version after a newer snapshot is published;
 * - building: scripts, versions, splits (kept oldest version first), the default script;
 * - routing a request's host and path: `<script>.<domain>` (or the first label when there is
 *   no domain), preview hosts `<first 8 hex of a version id>-<script>.<domain>`, route
 *   patterns (`*` only at the start of the host and the end of the path, most specific wins,
 *   hosts case-insensitive, paths not), bad patterns, Cloudflare's documented rules on schemes
 *   and queries in patterns and URLs, the default script;
 * - picking the version within a deployment: Cloudflare-Workers-Version-Overrides (an RFC 8941
 *   dictionary, honoured only for a version of the active split), Cloudflare-Workers-Version-
 *   Key (hashed onto cumulative percentages: the share is statistically right, a key is
 *   stable, and raising the newer version's share never moves a key off it), else random
 *   (a 0% version is never picked).
 *
 * Versions are made without a compiled program (NULL): these tests are about ownership,
 * routing and selection, and worker_version_unref must cope with that (js_program_unref(NULL)
 * is a no-op). Frees are checked by the sanitizers: a version freed too early is a
 * use-after-free, one never freed is a leak. */
#include <math.h>
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

#define DOMAIN "workers.test"

/* Version ids as `serve` makes them (UUIDs); previews use their first 8 hex digits. */
#define ID_A "0a1b2c3d-1111-4111-8111-111111111111"
#define ID_B "f00dbabe-2222-4222-8222-222222222222"
#define ID_C "0a1b2c3e-3333-4333-8333-333333333333" /* differs from ID_A in the 8th digit */

static worker_version *version_of(const char *name, const char *id, int64_t number) {
    worker_limits limits;
    worker_limits_defaults(&limits);
    char facts[128];
    snprintf(facts, sizeof facts, "{\"name\":\"%s\"}", name);
    worker_version *v = worker_version_new(name, id, NULL, strdup("[]"), strdup(facts), &limits);
    v->number = number;
    return v;
}

static worker_version *version(const char *name) {
    return version_of(name, "dev-1", 1);
}

static int refs(worker_version *v) {
    return atomic_load(&v->refs);
}

static int snapshot_refs(snapshot *s) {
    return atomic_load(&s->refs);
}

/* A script with one version deployed at 100%. The snapshot holds the version's only
 * reference. */
static script_entry *add_deployed(snapshot *s, const char *name, const char *id) {
    script_entry *se = snapshot_add_script(s, name);
    worker_version *v = version_of(name, id, 1);
    snapshot_add_version(se, v);
    snapshot_set_split(se, v, 100, NULL, 0);
    worker_version_unref(v);
    return se;
}

/* The script a request for host and path goes to, or NULL; checks it is not a preview. */
static script_entry *route_to(const snapshot *s, const char *host, const char *path) {
    route_result rr = {(script_entry *)1, (worker_version *)1};
    bool ok = snapshot_route(s, host, strlen(host), path, strlen(path), &rr);
    if (ok != (rr.script != NULL))
        fail_msg("%s%s: returned %d but script is %p", host, path, ok, (void *)rr.script);
    if (rr.preview) fail_msg("%s%s: unexpectedly a preview", host, path);
    return rr.script;
}

static script_entry *route(const snapshot *s, const char *host) {
    return route_to(s, host, "/");
}

/* The version a preview host reaches, or NULL when the host is not a preview of any. */
static worker_version *preview(const snapshot *s, const char *host) {
    route_result rr;
    if (!snapshot_route(s, host, strlen(host), "/", 1, &rr)) return NULL;
    if (rr.preview && rr.script != snapshot_find_script(s, rr.preview->worker_name,
                                                        strlen(rr.preview->worker_name)))
        fail_msg("%s: preview of %s but script %s", host, rr.preview->worker_name, rr.script->name);
    return rr.preview;
}

static const char *name_of(const script_entry *se) {
    return se ? se->name : "(none)";
}

static worker_version *pick_key(const script_entry *se, const char *key) {
    return snapshot_pick_version(se, NULL, 0, key, strlen(key), 0);
}

static worker_version *pick_random(const script_entry *se, uint64_t random) {
    return snapshot_pick_version(se, NULL, 0, NULL, 0, random);
}

static worker_version *pick_override(const script_entry *se, const char *overrides, const char *key,
                                     uint64_t random) {
    return snapshot_pick_version(se, overrides, strlen(overrides), key, key ? strlen(key) : 0,
                                 random);
}

/* Deterministic pseudo-random numbers (xorshift64*), as a shard draws them. */
static uint64_t next_random(uint64_t *x) {
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 2685821657736338717ull;
}

enum { kKeys = 20000 };

static const char *key_n(char *buf, size_t size, int i) {
    snprintf(buf, size, "user-%d", i);
    return buf;
}

/* A share of n trials with probability p is within 5 standard deviations of its mean: the
 * chance of a correct implementation failing is below 1e-6. */
static void assert_share(size_t count, size_t n, double p, const char *what) {
    double mean = (double)n * p;
    double tolerance = 5 * sqrt((double)n * p * (1 - p));
    if (fabs((double)count - mean) > tolerance)
        fail_msg("%s: %zu of %zu, expected %.0f +- %.0f", what, count, n, mean, tolerance);
}

/* ------------------------------------------------------------------------------------------
 * Publishing. This test must run first: it checks the state before any publish.
 * ---------------------------------------------------------------------------------------- */

static void test_publish_and_current(void **state) {
    (void)state;
    assert_null(snapshot_current()); /* nothing published yet */

    worker_version *v = version("app");
    snapshot *s1 = snapshot_new(DOMAIN);
    script_entry *app1 = snapshot_add_script(s1, "app");
    snapshot_add_version(app1, v);
    snapshot_set_split(app1, v, 100, NULL, 0);
    assert_int_equal(refs(v), 2); /* ours and the snapshot's (the split takes none) */
    assert_int_equal(s1->generation, 0);
    snapshot_publish(s1); /* takes over our reference to s1 */
    assert_int_equal(snapshot_refs(s1), 1);
    uint64_t gen1 = s1->generation;
    assert_true(gen1 >= 1);

    snapshot *cur = snapshot_current();
    assert_ptr_equal(cur, s1);
    assert_int_equal(snapshot_refs(s1), 2);

    /* Publishing a new snapshot drops the old current reference, but ours keeps s1 alive
     * (and with it the version it routes to). */
    worker_version *v2 = version("app");
    snapshot *s2 = snapshot_new(DOMAIN);
    script_entry *app2 = snapshot_add_script(s2, "app");
    snapshot_add_version(app2, v2);
    snapshot_set_split(app2, v2, 100, NULL, 0);
    worker_version_unref(v2);
    snapshot_publish(s2);
    assert_true(s2->generation > gen1);
    assert_int_equal(s1->generation, gen1); /* unchanged */
    assert_int_equal(snapshot_refs(s1), 1);
    assert_ptr_equal(route(cur, "app." DOMAIN), app1);
    assert_ptr_equal(pick_random(route(cur, "app." DOMAIN), 7), v);

    snapshot *cur2 = snapshot_current();
    assert_ptr_equal(cur2, s2);
    assert_ptr_equal(pick_random(route(cur2, "app." DOMAIN), 7), v2);
    assert_null(route(cur2, "other." DOMAIN)); /* s2 has no default */

    /* A request still running on v holds its own reference: dropping the old snapshot keeps v. */
    worker_version *in_flight = worker_version_ref(pick_random(route(cur, "app." DOMAIN), 1));
    assert_ptr_equal(in_flight, v);
    worker_version_unref(v);
    snapshot_unref(cur); /* frees s1 */
    assert_int_equal(refs(in_flight), 1);
    assert_string_equal(in_flight->worker_name, "app"); /* still readable */
    worker_version_unref(in_flight);                    /* the last reference: freed */

    /* Generations keep counting up. */
    snapshot *s3 = snapshot_new(NULL);
    snapshot_publish(s3);
    assert_true(s3->generation > s2->generation);
    snapshot_unref(cur2); /* s2 was dropped by the publish; this frees it */
    snapshot *cur3 = snapshot_current();
    assert_ptr_equal(cur3, s3);
    assert_null(route(cur3, "app." DOMAIN));
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
    /* The fields the creator sets afterwards start empty. */
    assert_int_equal(v->number, 0);
    assert_null(v->tag);
    assert_null(v->created_on);
    assert_null(v->metrics);
    /* ... and the strings among them are the version's to free (a leak otherwise). */
    v->tag = strdup("v1.2");
    v->created_on = strdup("2024-01-01T00:00:00Z");
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
 * Building snapshots.
 * ---------------------------------------------------------------------------------------- */

static void test_snapshot_holds_versions(void **state) {
    (void)state;
    worker_version *a1 = version_of("a", ID_A, 1), *a2 = version_of("a", ID_B, 2);
    worker_version *b = version_of("b", ID_C, 1);
    snapshot *s = snapshot_new(DOMAIN);
    assert_int_equal(snapshot_refs(s), 1);
    script_entry *sa = snapshot_add_script(s, "a");
    snapshot_add_version(sa, a1);
    snapshot_add_version(sa, a2);
    snapshot_set_split(sa, a1, 50, a2, 50);
    script_entry *sb = snapshot_add_script(s, "b");
    snapshot_add_version(sb, b);
    snapshot_set_split(sb, b, 100, NULL, 0);
    assert_int_equal(s->script_count, 2);
    assert_ptr_equal(&s->scripts[1], sb);
    sa = &s->scripts[0]; /* it may have moved when sb was added */
    assert_string_equal(sa->name, "a");
    assert_int_equal(sa->version_count, 2);
    assert_ptr_equal(sa->versions[0], a1);
    assert_ptr_equal(sa->versions[1], a2);
    /* Each add_version took a reference; the split took none. */
    assert_int_equal(refs(a1), 2);
    assert_int_equal(refs(a2), 2);
    assert_int_equal(refs(b), 2);
    /* Dropping our references leaves the snapshot's. */
    worker_version_unref(a1);
    worker_version_unref(a2);
    worker_version_unref(b);
    assert_int_equal(refs(a1), 1);
    assert_string_equal(pick_random(route(s, "b." DOMAIN), 0)->worker_name, "b");
    /* Another snapshot reference keeps everything alive. */
    assert_ptr_equal(snapshot_ref(s), s);
    assert_int_equal(snapshot_refs(s), 2);
    snapshot_unref(s);
    assert_int_equal(snapshot_refs(s), 1);
    assert_string_equal(pick_random(route(s, "a." DOMAIN), 0)->version_id, ID_A);
    /* A version referenced elsewhere outlives the snapshot. */
    worker_version *kept = worker_version_ref(a2);
    snapshot_unref(s); /* frees s, a1 and b */
    assert_int_equal(refs(kept), 1);
    assert_string_equal(kept->version_id, ID_B);
    worker_version_unref(kept);
    snapshot_unref(NULL); /* allowed */
}

static void test_snapshot_building(void **state) {
    (void)state;
    /* The domain and names are copied. */
    char domain[] = DOMAIN;
    char name[] = "api";
    snapshot *s = snapshot_new(domain);
    script_entry *api = snapshot_add_script(s, name);
    domain[0] = 'X';
    name[0] = 'X';
    assert_string_equal(s->domain, DOMAIN);
    assert_string_equal(api->name, "api");
    /* A new script has nothing: no split (not deployed), no versions. */
    assert_int_equal(api->split_count, 0);
    assert_int_equal(api->version_count, 0);
    assert_null(s->default_script);
    assert_int_equal(s->route_count, 0);
    assert_ptr_equal(route(s, "api." DOMAIN), api); /* reachable, ... */
    assert_null(pick_random(api, 0));               /* ... but nothing serves it */
    assert_null(pick_key(api, "k"));
    assert_null(pick_override(api, "api=\"" ID_A "\"", NULL, 0));

    /* snapshot_find_script: exact name, any case, only len bytes. */
    snapshot_add_script(s, "api-v2");
    api = &s->scripts[0];
    assert_ptr_equal(snapshot_find_script(s, "api", 3), api);
    assert_ptr_equal(snapshot_find_script(s, "API", 3), api);
    assert_ptr_equal(snapshot_find_script(s, "api-v2", 6), &s->scripts[1]);
    assert_ptr_equal(snapshot_find_script(s, "api-v2", 3), api);
    char exact[3] = {'a', 'p', 'i'}; /* no NUL after it (ASan checks) */
    assert_ptr_equal(snapshot_find_script(s, exact, 3), api);
    assert_null(snapshot_find_script(s, "ap", 2));
    assert_null(snapshot_find_script(s, "api-", 4));
    assert_null(snapshot_find_script(s, "www", 3));
    assert_null(snapshot_find_script(s, "", 0));

    snapshot_set_default(s, &s->scripts[1]);
    assert_ptr_equal(s->default_script, &s->scripts[1]);
    snapshot_unref(s);

    /* Without a domain. */
    s = snapshot_new(NULL);
    assert_null(s->domain);
    assert_int_equal(s->script_count, 0);
    assert_null(snapshot_find_script(s, "api", 3));
    snapshot_unref(s);
}

static void test_set_split(void **state) {
    (void)state;
    worker_version *old = version_of("w", ID_A, 3), *newer = version_of("w", ID_B, 4);
    snapshot *s = snapshot_new(DOMAIN);
    script_entry *se = snapshot_add_script(s, "w");
    snapshot_add_version(se, old);
    snapshot_add_version(se, newer);
    worker_version_unref(old);
    worker_version_unref(newer);

    /* The oldest version (lowest number) is kept first, whichever order they are given in. */
    snapshot_set_split(se, newer, 10, old, 90);
    assert_int_equal(se->split_count, 2);
    assert_ptr_equal(se->split[0].version, old);
    assert_true(se->split[0].percentage == 90);
    assert_ptr_equal(se->split[1].version, newer);
    assert_true(se->split[1].percentage == 10);
    snapshot_set_split(se, old, 90, newer, 10);
    assert_int_equal(se->split_count, 2);
    assert_ptr_equal(se->split[0].version, old);
    assert_ptr_equal(se->split[1].version, newer);
    assert_true(se->split[1].percentage == 10);

    /* Setting again replaces the split. */
    snapshot_set_split(se, newer, 100, NULL, 0);
    assert_int_equal(se->split_count, 1);
    assert_ptr_equal(se->split[0].version, newer);
    assert_true(se->split[0].percentage == 100);
    for (uint64_t r = 0; r < 1000; r++) assert_ptr_equal(pick_random(se, r * 997), newer);
    snapshot_set_split(se, NULL, 0, NULL, 0);
    assert_int_equal(se->split_count, 0);
    assert_null(pick_random(se, 0));
    /* The references are the versions list's, not the split's. */
    assert_int_equal(refs(old), 1);
    assert_int_equal(refs(newer), 1);
    snapshot_unref(s);
}

/* ------------------------------------------------------------------------------------------
 * Routing by host name.
 * ---------------------------------------------------------------------------------------- */

static void test_route_by_name(void **state) {
    (void)state;
    snapshot *s = snapshot_new(DOMAIN);
    add_deployed(s, "api", ID_A);
    add_deployed(s, "api-v2", ID_B);
    add_deployed(s, "www", ID_C);
    script_entry *api = &s->scripts[0], *api2 = &s->scripts[1], *www = &s->scripts[2];
    struct {
        const char *host;
        script_entry *want;
    } cases[] = {
        {"api." DOMAIN, api},
        {"API.Workers.TEST", api}, /* hosts are case-insensitive */
        {"api-v2." DOMAIN, api2},  /* not taken by "api", a prefix of its name */
        {"www." DOMAIN, www},
        {DOMAIN, NULL},                    /* the domain itself names no script */
        {"." DOMAIN, NULL},                /* an empty label */
        {"apix." DOMAIN, NULL},            /* names match whole */
        {"ap." DOMAIN, NULL},              /* ... not by prefix */
        {"x.api." DOMAIN, NULL},           /* the label is everything before the domain */
        {"api.other.test", NULL},          /* another domain */
        {"api.x" DOMAIN, NULL},            /* the domain must start at a label */
        {"api" DOMAIN, NULL},              /* ... after a dot */
        {"api." DOMAIN ".evil.com", NULL}, /* ... and end the host */
        {"api.localhost", NULL},
        {"api", NULL},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        script_entry *got = route(s, cases[i].host);
        if (got != cases[i].want)
            fail_msg("host \"%s\" routed to %s, want %s", cases[i].host, name_of(got),
                     name_of(cases[i].want));
    }
    /* The script's own version serves it. */
    assert_string_equal(pick_random(route(s, "api-v2." DOMAIN), 0)->version_id, ID_B);
    /* Only host_len bytes are looked at: the host need not be NUL-terminated (the caller has
     * cut the port off the Host header by length). */
    route_result rr;
    const char header[] = "api." DOMAIN ":8787";
    assert_true(snapshot_route(s, header, strlen("api." DOMAIN), "/", 1, &rr));
    assert_ptr_equal(rr.script, api);
    assert_null(rr.preview);
    const char longer[] = "www." DOMAIN "x";
    assert_true(snapshot_route(s, longer, strlen(longer) - 1, "/", 1, &rr));
    assert_ptr_equal(rr.script, www);
    char exact[] = {'w', 'w', 'w', '.', 'w', 'o', 'r', 'k', 'e', 'r', 's', '.', 't', 'e', 's', 't'};
    assert_true(snapshot_route(s, exact, sizeof exact, "/", 1, &rr)); /* no NUL (ASan checks) */
    assert_ptr_equal(rr.script, www);
    snapshot_unref(s);
}

/* Without a domain (`hearth dev`), the host's first label names the script. */
static void test_route_by_first_label(void **state) {
    (void)state;
    snapshot *s = snapshot_new(NULL);
    add_deployed(s, "api", "dev-1");
    add_deployed(s, "main", "dev-2");
    script_entry *api = &s->scripts[0], *main_script = &s->scripts[1];
    assert_ptr_equal(route(s, "api.localhost"), api);
    assert_ptr_equal(route(s, "api.example.com"), api);
    assert_ptr_equal(route(s, "API.anything.at.all"), api);
    assert_ptr_equal(route(s, "main.localhost"), main_script);
    assert_null(route(s, "x.api.localhost")); /* only the first label */
    assert_null(route(s, "apix.localhost"));
    assert_null(route(s, "api")); /* a bare name has no label before a dot */
    assert_null(route(s, "localhost"));
    assert_null(route(s, ""));
    /* The default takes what no name matched. */
    snapshot_set_default(s, main_script);
    assert_ptr_equal(route(s, "api.localhost"), api);
    assert_ptr_equal(route(s, "localhost"), main_script);
    assert_ptr_equal(route(s, "api"), main_script);
    assert_ptr_equal(route(s, "x.api.localhost"), main_script);
    assert_ptr_equal(route(s, "127.0.0.1"), main_script);
    assert_ptr_equal(route(s, ""), main_script);
    snapshot_unref(s);
}

static void test_route_default(void **state) {
    (void)state;
    snapshot *s = snapshot_new(DOMAIN);
    /* Nothing at all: no match, and the result says so. */
    route_result rr = {(script_entry *)1, (worker_version *)1};
    assert_false(snapshot_route(s, "anything." DOMAIN, strlen("anything." DOMAIN), "/", 1, &rr));
    assert_null(rr.script);
    assert_null(rr.preview);
    assert_null(route(s, ""));

    add_deployed(s, "a", ID_A);
    add_deployed(s, "fallback", ID_B);
    script_entry *a = &s->scripts[0], *fallback = &s->scripts[1];
    assert_int_equal(snapshot_add_route(s, "api.example.com/*", a, (char[64]){0}, 64), 0);
    assert_null(route(s, "unknown." DOMAIN));
    assert_null(route(s, "example.com"));
    snapshot_set_default(s, fallback);
    /* Names and routes still win over the default ... */
    assert_ptr_equal(route(s, "a." DOMAIN), a);
    assert_ptr_equal(route_to(s, "api.example.com", "/x"), a);
    /* ... which takes everything else. */
    assert_ptr_equal(route(s, "unknown." DOMAIN), fallback);
    assert_ptr_equal(route(s, "example.com"), fallback);
    assert_ptr_equal(route(s, "localhost"), fallback);
    assert_ptr_equal(route(s, ""), fallback);
    assert_ptr_equal(route(s, "fallback." DOMAIN), fallback);
    assert_string_equal(pick_random(route(s, "nowhere.example"), 0)->version_id, ID_B);
    snapshot_unref(s);
}

/* ------------------------------------------------------------------------------------------
 * Route patterns.
 * ---------------------------------------------------------------------------------------- */

static void test_route_patterns(void **state) {
    (void)state;
    snapshot *s = snapshot_new(DOMAIN);
    const char *names[] = {"shop", "shopapi", "wild", "org", "logo", "root", "v1", "upper"};
    enum { kShop, kShopApi, kWild, kOrg, kLogo, kRoot, kV1, kUpper, kCount };
    for (int i = 0; i < kCount; i++) add_deployed(s, names[i], ID_A);
    script_entry *sc = s->scripts; /* all added: the array no longer moves */
    struct {
        const char *pattern;
        int script;
    } patterns[] = {
        {"*.example.com/*", kWild}, /* any subdomain, any path */
        {"shop.example.com/*", kShop},
        {"shop.example.com/api/*", kShopApi},   /* more specific than the two above */
        {"*example.org/*", kOrg},               /* the domain and its subdomains */
        {"static.example.net/logo.png", kLogo}, /* exactly this path */
        {"static.example.net", kRoot},          /* no path: "/" exactly */
        {"static.example.net/v1*", kV1},        /* a path prefix, not only a directory */
        {"MiXeD.Example.NET/*", kUpper},        /* hosts are case-insensitive */
    };
    char err[256];
    for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
        err[0] = '\0';
        int rc =
            snapshot_add_route(s, patterns[i].pattern, &sc[patterns[i].script], err, sizeof err);
        if (rc != 0) fail_msg("pattern \"%s\" refused: %s", patterns[i].pattern, err);
    }
    assert_int_equal(s->route_count, sizeof patterns / sizeof patterns[0]);
    assert_string_equal(s->routes[0].pattern, "*.example.com/*");

    struct {
        const char *host, *path;
        int want; /* -1: no match */
    } cases[] = {
        {"shop.example.com", "/", kShop},
        {"shop.example.com", "/cart?item=1", kShop},
        {"SHOP.Example.COM", "/x", kShop},
        {"shop.example.com", "/api/users", kShopApi},
        {"shop.example.com", "/api/", kShopApi},
        {"shop.example.com", "/api/users?x=/", kShopApi},
        {"shop.example.com", "/api", kShop},        /* "/api/..." wants the slash */
        {"shop.example.com", "/apix/users", kShop}, /* ... so this is not under it */
        {"shop.example.com", "/API/users", kShop},  /* paths are case-sensitive */
        {"blog.example.com", "/anything", kWild},
        {"a.b.example.com", "/", kWild},
        {"BLOG.EXAMPLE.COM", "/", kWild},
        {"x.shop.example.com", "/api/users", kWild}, /* "shop.example.com" is exact */
        {"example.com", "/", -1},                    /* "*.example.com" needs a subdomain */
        {"notexample.com", "/", -1},
        {"shop.example.com.evil.net", "/", -1}, /* the host must end with the pattern's */
        {"shop.example.co", "/", -1},
        {"example.org", "/", kOrg},
        {"www.example.org", "/a/b", kOrg},
        {"WWW.Example.ORG", "/a/b", kOrg},
        {"static.example.net", "/logo.png", kLogo},
        {"static.example.net", "/logo.png/x", -1}, /* exact: nothing after it */
        {"static.example.net", "/logo.pn", -1},
        {"static.example.net", "/LOGO.PNG", -1},
        {"static.example.net", "/", kRoot},
        {"static.example.net", "/index.html", -1},
        {"static.example.net", "/v1", kV1},
        {"static.example.net", "/v1/users", kV1},
        {"static.example.net", "/v10", kV1},
        {"static.example.net", "/v", -1},
        {"www.static.example.net", "/v1", -1}, /* exact host */
        {"mixed.example.net", "/", kUpper},
        {"MIXED.EXAMPLE.NET", "/z", kUpper},
        {"other.test", "/", -1},
        {"", "/", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        script_entry *got = route_to(s, cases[i].host, cases[i].path);
        script_entry *want = cases[i].want < 0 ? NULL : &sc[cases[i].want];
        if (got != want)
            fail_msg("%s%s routed to %s, want %s", cases[i].host, cases[i].path, name_of(got),
                     name_of(want));
    }

    /* Only path_len bytes of the path are looked at. */
    route_result rr;
    const char *path = "/api/users";
    assert_true(snapshot_route(s, "shop.example.com", 16, path, 4, &rr)); /* "/api" */
    assert_ptr_equal(rr.script, &sc[kShop]);
    assert_true(snapshot_route(s, "shop.example.com", 16, path, 5, &rr)); /* "/api/" */
    assert_ptr_equal(rr.script, &sc[kShopApi]);

    /* The most specific pattern wins whichever order the routes were added in. */
    snapshot *t = snapshot_new(DOMAIN);
    add_deployed(t, "narrow", ID_A);
    add_deployed(t, "broad", ID_B);
    add_deployed(t, "wide", ID_C);
    assert_int_equal(snapshot_add_route(t, "shop.example.com/api/*", &t->scripts[0], err, 256), 0);
    assert_int_equal(snapshot_add_route(t, "shop.example.com/*", &t->scripts[1], err, 256), 0);
    assert_int_equal(snapshot_add_route(t, "*.example.com/*", &t->scripts[2], err, 256), 0);
    assert_ptr_equal(route_to(t, "shop.example.com", "/api/x"), &t->scripts[0]);
    assert_ptr_equal(route_to(t, "shop.example.com", "/x"), &t->scripts[1]);
    assert_ptr_equal(route_to(t, "blog.example.com", "/api/x"), &t->scripts[2]);
    snapshot_unref(t);

    /* A script's `<name>.<domain>` host needs no route; routes apply to hosts of any domain. */
    assert_ptr_equal(route(s, "shop." DOMAIN), &sc[kShop]);
    assert_null(route(s, "shop.example.dev"));
    snapshot_unref(s);
}

static void test_route_pattern_errors(void **state) {
    (void)state;
    snapshot *s = snapshot_new(DOMAIN);
    script_entry *se = add_deployed(s, "w", ID_A);
    const char *bad[] = {
        "",                         /* no host */
        "/api/*",                   /* no host */
        "/",                        /* no host */
        "a*.example.com/*",         /* "*" inside the host */
        "*.*.example.com/*",        /* a second "*" in the host */
        "**.example.com/*",         /* ... even right after the first */
        "example.*/*",              /* at the end of the host */
        "example.com*/x",           /* ... before the path */
        "example.com/*/users",      /* "*" inside the path */
        "example.com/a*b*",         /* ... even with one at the end */
        "example.com/**",           /* two at the end */
        "*example.com/v1/*/items*", /* both legal stars, plus an illegal one */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        if (snapshot_add_route(s, bad[i], se, err, sizeof err) != -1)
            fail_msg("pattern \"%s\" accepted", bad[i]);
        if (err[0] == '\0') fail_msg("pattern \"%s\": no message", bad[i]);
        /* The message names the pattern. */
        char quoted[64];
        snprintf(quoted, sizeof quoted, "\"%s\"", bad[i]);
        if (!strstr(err, quoted)) fail_msg("pattern \"%s\": message \"%s\"", bad[i], err);
    }
    assert_int_equal(s->route_count, 0); /* nothing half-added (ASan: nothing leaked) */
    char err[256];
    assert_int_equal(snapshot_add_route(s, "/api/*", se, err, sizeof err), -1);
    assert_non_null(strstr(err, "no host"));
    assert_int_equal(snapshot_add_route(s, "a*b.example.com/*", se, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"*\" is allowed only"));
    /* A short buffer gets a truncated, terminated message. */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    assert_int_equal(snapshot_add_route(s, "", se, tiny, sizeof tiny), -1);
    assert_int_equal(strlen(tiny), sizeof tiny - 1);

    /* The legal forms still work next to the refused ones. */
    const char *good[] = {"example.com/*", "*.example.com/*", "*example.com/*",
                          "example.com",   "example.com/a/b", "example.com/a*"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (snapshot_add_route(s, good[i], se, err, sizeof err) != 0)
            fail_msg("pattern \"%s\" refused: %s", good[i], err);
    assert_int_equal(s->route_count, sizeof good / sizeof good[0]);
    assert_ptr_equal(route_to(s, "example.com", "/anything"), se);
    assert_null(route_to(s, "example.net", "/anything"));
    snapshot_unref(s);
}

/* Cloudflare's documented route rules (developers.cloudflare.com/workers/configuration/routing/
 * routes/, "Matching behavior" and "Validity") that the tests above leave open. Each test
 * frees what it made before it asserts, so that a failure reports no leaks. */

/* "Route patterns may optionally begin with http:// or https://": a scheme is understood, or
 * at least refused; never taken as part of the host, giving a pattern that matches nothing. */
static void test_route_pattern_scheme(void **state) {
    (void)state;
    const char *schemed[] = {"https://api.example.com/*", "http://api.example.com/*"};
    for (size_t i = 0; i < sizeof schemed / sizeof schemed[0]; i++) {
        snapshot *s = snapshot_new(DOMAIN);
        script_entry *se = add_deployed(s, "w", ID_A);
        char err[256];
        bool accepted = snapshot_add_route(s, schemed[i], se, err, sizeof err) == 0;
        bool reached = route_to(s, "api.example.com", "/x") == se;
        snapshot_unref(s);
        if (accepted && !reached)
            fail_msg("pattern \"%s\" accepted, but api.example.com/x does not reach it",
                     schemed[i]);
    }
}

/* "Route patterns may not contain any query parameters" ("https://example.com/?anything" is
 * not valid): refused, rather than accepted as a pattern that never matches. */
static void test_route_pattern_query_refused(void **state) {
    (void)state;
    const char *queries[] = {"example.com/?foo=1", "example.com/a?b", "example.com/?foo=*"};
    for (size_t i = 0; i < sizeof queries / sizeof queries[0]; i++) {
        snapshot *s = snapshot_new(DOMAIN);
        script_entry *se = add_deployed(s, "w", ID_A);
        char err[256];
        int rc = snapshot_add_route(s, queries[i], se, err, sizeof err);
        snapshot_unref(s);
        if (rc != -1) fail_msg("pattern \"%s\" (with a query) accepted", queries[i]);
    }
}

/* "Route pattern matching considers the entire request URL, including the query parameter
 * string ... the only way to have a route pattern match URLs with query parameters is to
 * terminate it with a wildcard": "*example.com/images/cat.png" does not match
 * "/images/cat.png?foo=bar". */
static void test_route_query_needs_wildcard(void **state) {
    (void)state;
    snapshot *s = snapshot_new(DOMAIN);
    add_deployed(s, "exact", ID_A);
    add_deployed(s, "prefix", ID_B);
    add_deployed(s, "root", ID_C);
    char err[256];
    assert_int_equal(snapshot_add_route(s, "example.com/logo.png", &s->scripts[0], err, 256), 0);
    assert_int_equal(snapshot_add_route(s, "example.com/img*", &s->scripts[1], err, 256), 0);
    assert_int_equal(snapshot_add_route(s, "example.org", &s->scripts[2], err, 256), 0);
    script_entry *plain = route_to(s, "example.com", "/logo.png");
    script_entry *queried = route_to(s, "example.com", "/logo.png?v=2");
    script_entry *prefixed = route_to(s, "example.com", "/img/a.png?v=2");
    script_entry *root = route_to(s, "example.org", "/");
    script_entry *root_queried = route_to(s, "example.org", "/?q=1");
    bool ok = plain == &s->scripts[0] && prefixed == &s->scripts[1] && root == &s->scripts[2];
    const char *queried_name = queried ? queried->name : NULL;
    const char *root_queried_name = root_queried ? root_queried->name : NULL;
    snapshot_unref(s);
    assert_true(ok);
    if (queried_name) fail_msg("example.com/logo.png?v=2 matched \"example.com/logo.png\"");
    if (root_queried_name) fail_msg("example.org/?q=1 matched \"example.org\"");
}

/* ------------------------------------------------------------------------------------------
 * Preview hosts: `<first 8 hex of the version id>-<script>.<domain>` reaches that version,
 * deployed or not.
 * ---------------------------------------------------------------------------------------- */

static void test_route_preview(void **state) {
    (void)state;
    worker_version *a = version_of("api", ID_A, 1), *b = version_of("api", ID_B, 2);
    worker_version *c = version_of("api", ID_C, 3), *w = version_of("www", ID_B "-www", 1);
    worker_version *odd = version_of("api", "nothex00-4444", 4); /* not a UUID */
    snapshot *s = snapshot_new(DOMAIN);
    script_entry *api = snapshot_add_script(s, "api");
    snapshot_add_version(api, a);
    snapshot_add_version(api, b);
    snapshot_add_version(api, c);
    snapshot_add_version(api, odd);
    snapshot_set_split(api, a, 100, NULL, 0); /* b and c are in no split */
    script_entry *www = snapshot_add_script(s, "www");
    api = &s->scripts[0];
    snapshot_add_version(www, w); /* nothing deployed: previews only */
    script_entry *idle = snapshot_add_script(s, "idle");
    www = &s->scripts[1];
    api = &s->scripts[0];
    (void)idle;

    assert_ptr_equal(preview(s, "f00dbabe-api." DOMAIN), b);
    assert_ptr_equal(preview(s, "F00DBABE-API.WORKERS.TEST"), b); /* any case */
    assert_ptr_equal(preview(s, "0a1b2c3d-api." DOMAIN), a);      /* the deployed one too */
    assert_ptr_equal(preview(s, "0a1b2c3e-api." DOMAIN), c);      /* all 8 digits count */
    assert_ptr_equal(preview(s, "f00dbabe-www." DOMAIN), w);      /* its own script's version */

    /* A preview request is the version's script, and the version is used as is. */
    route_result rr;
    const char *host = "f00dbabe-api." DOMAIN;
    assert_true(snapshot_route(s, host, strlen(host), "/x", 2, &rr));
    assert_ptr_equal(rr.script, api);
    assert_ptr_equal(rr.preview, b);

    /* Not previews: a wrong prefix, or something else that looks almost like one. With no
     * default and no routes, these reach nothing. */
    const char *not_previews[] = {
        "f00dbab0-api." DOMAIN,    /* no version starts so */
        "0a1b2c3f-api." DOMAIN,    /* ... */
        "f00dbabe-www2." DOMAIN,   /* no such script */
        "0a1b2c3d-www." DOMAIN,    /* a version of api, not of www */
        "0a1b2c3d-idle." DOMAIN,   /* idle has no versions */
        "f00dbab-api." DOMAIN,     /* 7 digits */
        "f00dbabe2-api." DOMAIN,   /* 9 digits */
        "f00dbabeapi." DOMAIN,     /* no dash */
        "f00dbabe_api." DOMAIN,    /* not a dash */
        "g00dbabe-api." DOMAIN,    /* not hex */
        "nothex00-api." DOMAIN,    /* ... even when a version id starts so */
        "f00dbabe-." DOMAIN,       /* no script */
        "f00dbabe-api.other.test", /* another domain */
        "x.f00dbabe-api." DOMAIN,  /* not the whole label */
    };
    for (size_t i = 0; i < sizeof not_previews / sizeof not_previews[0]; i++) {
        route_result r = {(script_entry *)1, (worker_version *)1};
        const char *h = not_previews[i];
        if (snapshot_route(s, h, strlen(h), "/", 1, &r) || r.script || r.preview)
            fail_msg("\"%s\" reached %s", h, name_of(r.script));
    }
    /* With a default, those go to it as ordinary requests (no preview). */
    snapshot_set_default(s, www);
    assert_ptr_equal(route(s, "f00dbab0-api." DOMAIN), www);
    assert_ptr_equal(route(s, "0a1b2c3d-www." DOMAIN), www);
    assert_ptr_equal(preview(s, "f00dbabe-api." DOMAIN), b);

    /* The name without a prefix is the deployment, never an undeployed version. */
    assert_ptr_equal(route(s, "api." DOMAIN), api);
    for (int i = 0; i < 1000; i++) {
        char key[32];
        assert_ptr_equal(pick_key(api, key_n(key, sizeof key, i)), a);
    }
    assert_null(pick_random(route(s, "www." DOMAIN), 0)); /* nothing deployed */

    /* Without a domain, the first label is the preview label. */
    snapshot *d = snapshot_new(NULL);
    script_entry *dapi = snapshot_add_script(d, "api");
    snapshot_add_version(dapi, b);
    assert_ptr_equal(preview(d, "f00dbabe-api.localhost"), b);
    assert_null(preview(d, "f00dbabe-api"));
    snapshot_unref(d);

    worker_version_unref(a);
    worker_version_unref(b);
    worker_version_unref(c);
    worker_version_unref(w);
    worker_version_unref(odd);
    snapshot_unref(s);
}

/* ------------------------------------------------------------------------------------------
 * Version selection by Version-Key and at random.
 * ---------------------------------------------------------------------------------------- */

/* A script "svc" with versions A (older, number 1), B (number 2) and C (number 3, in no split
 * unless a test puts it there). */
typedef struct fixture {
    snapshot *s;
    script_entry *se;
    worker_version *a, *b, *c;
} fixture;

static fixture make_fixture(void) {
    fixture f;
    f.s = snapshot_new(DOMAIN);
    f.se = snapshot_add_script(f.s, "svc");
    f.a = version_of("svc", ID_A, 1);
    f.b = version_of("svc", ID_B, 2);
    f.c = version_of("svc", ID_C, 3);
    snapshot_add_version(f.se, f.a);
    snapshot_add_version(f.se, f.b);
    snapshot_add_version(f.se, f.c);
    worker_version_unref(f.a);
    worker_version_unref(f.b);
    worker_version_unref(f.c);
    return f;
}

static void test_version_key_point(void **state) {
    (void)state;
    char key[32];
    double lo = 100, hi = 0;
    size_t below_half = 0;
    for (int i = 0; i < kKeys; i++) {
        key_n(key, sizeof key, i);
        double p = version_key_point(key, strlen(key));
        if (!(p >= 0 && p < 100)) fail_msg("key %s: point %f", key, p);
        if (p != version_key_point(key, strlen(key))) fail_msg("key %s: not stable", key);
        if (p < lo) lo = p;
        if (p > hi) hi = p;
        if (p < 50) below_half++;
    }
    /* Spread over the whole range. */
    assert_true(lo < 1);
    assert_true(hi > 99);
    assert_share(below_half, kKeys, 0.5, "points below 50");
    /* Only len bytes count; an empty key is a key. */
    assert_true(version_key_point("user-1", 6) == version_key_point("user-1xyz", 6));
    double empty = version_key_point("", 0);
    assert_true(empty >= 0 && empty < 100);
}

static void test_pick_by_key_share(void **state) {
    (void)state;
    fixture f = make_fixture();
    snapshot_set_split(f.se, f.a, 90, f.b, 10);
    char key[32];
    size_t on_b = 0;
    for (int i = 0; i < kKeys; i++) {
        key_n(key, sizeof key, i);
        worker_version *v = pick_key(f.se, key);
        if (v != f.a && v != f.b) fail_msg("key %s: picked a version not in the split", key);
        if (v == f.b) on_b++;
        /* The same key always picks the same version, whatever the random number. */
        uint64_t randoms[] = {0, 999999, UINT64_MAX};
        for (size_t r = 0; r < 3; r++)
            if (snapshot_pick_version(f.se, NULL, 0, key, strlen(key), randoms[r]) != v)
                fail_msg("key %s: a different version on another try", key);
    }
    assert_share(on_b, kKeys, 0.10, "keys on the 10% version");

    /* The order the split was given in does not change where a key goes. */
    snapshot *s2 = snapshot_new(DOMAIN);
    script_entry *se2 = snapshot_add_script(s2, "svc");
    snapshot_add_version(se2, f.a);
    snapshot_add_version(se2, f.b);
    snapshot_set_split(se2, f.b, 10, f.a, 90);
    for (int i = 0; i < kKeys; i++) {
        key_n(key, sizeof key, i);
        if (pick_key(se2, key) != pick_key(f.se, key)) fail_msg("key %s: order matters", key);
    }
    snapshot_unref(s2);

    /* Other shares. */
    double shares[] = {1, 33.3, 50, 75};
    for (size_t k = 0; k < sizeof shares / sizeof shares[0]; k++) {
        snapshot_set_split(f.se, f.a, 100 - shares[k], f.b, shares[k]);
        on_b = 0;
        for (int i = 0; i < kKeys; i++) on_b += pick_key(f.se, key_n(key, sizeof key, i)) == f.b;
        char what[64];
        snprintf(what, sizeof what, "keys on the %g%% version", shares[k]);
        assert_share(on_b, kKeys, shares[k] / 100, what);
    }
    snapshot_unref(f.s);
}

static void test_pick_by_key_monotonic(void **state) {
    (void)state;
    fixture f = make_fixture();
    char key[32];
    static bool on_b[kKeys], on_b_half[kKeys];
    size_t count10 = 0, count50 = 0;
    snapshot_set_split(f.se, f.a, 90, f.b, 10);
    for (int i = 0; i < kKeys; i++) {
        on_b[i] = pick_key(f.se, key_n(key, sizeof key, i)) == f.b;
        count10 += on_b[i];
    }
    assert_true(count10 > 0);
    /* Raising B to 50%: every key already on B stays on it, and more join. */
    snapshot_set_split(f.se, f.a, 50, f.b, 50);
    for (int i = 0; i < kKeys; i++) {
        on_b_half[i] = pick_key(f.se, key_n(key, sizeof key, i)) == f.b;
        if (on_b[i] && !on_b_half[i]) fail_msg("key %s left B when B went from 10%% to 50%%", key);
        count50 += on_b_half[i];
    }
    assert_true(count50 > count10);
    assert_share(count50, kKeys, 0.5, "keys on B at 50%");
    /* ... to 99% and 100% (still a split of two): all of them stay. */
    snapshot_set_split(f.se, f.a, 1, f.b, 99);
    for (int i = 0; i < kKeys; i++)
        if (on_b_half[i] && pick_key(f.se, key_n(key, sizeof key, i)) != f.b)
            fail_msg("key %s left B when B went from 50%% to 99%%", key);
    snapshot_set_split(f.se, f.a, 0, f.b, 100);
    for (int i = 0; i < kKeys; i++)
        if (pick_key(f.se, key_n(key, sizeof key, i)) != f.b)
            fail_msg("key %s not on B at 100%%", key);
    /* Lowering it back: keys on A at 50% stay on A at 90%. */
    snapshot_set_split(f.se, f.a, 90, f.b, 10);
    for (int i = 0; i < kKeys; i++) {
        bool b_now = pick_key(f.se, key_n(key, sizeof key, i)) == f.b;
        if (b_now != on_b[i]) fail_msg("key %s: not where it was at 10%% before", key);
        if (b_now && !on_b_half[i]) fail_msg("key %s moved from A to B as B shrank", key);
    }

    /* The same holds for the newer version when the versions are B and C, given newest
     * first: the range that grows is always the newer version's. */
    snapshot_set_split(f.se, f.c, 10, f.b, 90);
    for (int i = 0; i < kKeys; i++) on_b[i] = pick_key(f.se, key_n(key, sizeof key, i)) == f.c;
    snapshot_set_split(f.se, f.c, 60, f.b, 40);
    for (int i = 0; i < kKeys; i++)
        if (on_b[i] && pick_key(f.se, key_n(key, sizeof key, i)) != f.c)
            fail_msg("key %s left C when C went from 10%% to 60%%", key);
    snapshot_unref(f.s);
}

static void test_pick_random(void **state) {
    (void)state;
    fixture f = make_fixture();
    enum { kPicks = 100000 };
    uint64_t x = 0x243f6a8885a308d3ull;

    /* 0% is never picked, at either end, over many numbers and the edge values. */
    uint64_t edges[] = {0, 1, 999999, 1000000, 1999999, UINT64_MAX, UINT64_MAX - 1};
    snapshot_set_split(f.se, f.a, 100, f.b, 0);
    for (int i = 0; i < kPicks; i++)
        if (pick_random(f.se, next_random(&x)) != f.a) fail_msg("B at 0%% picked (pick %d)", i);
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        assert_ptr_equal(pick_random(f.se, edges[i]), f.a);
    snapshot_set_split(f.se, f.a, 0, f.b, 100);
    for (int i = 0; i < kPicks; i++)
        if (pick_random(f.se, next_random(&x)) != f.b) fail_msg("A at 0%% picked (pick %d)", i);
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        assert_ptr_equal(pick_random(f.se, edges[i]), f.b);
    /* The same for keys. */
    char key[32];
    for (int i = 0; i < kKeys; i++)
        if (pick_key(f.se, key_n(key, sizeof key, i)) != f.b) fail_msg("key %s on A at 0%%", key);

    /* A 90/10 split: the share of random picks is right, and only split versions come out. */
    snapshot_set_split(f.se, f.b, 10, f.a, 90);
    size_t on_b = 0;
    for (int i = 0; i < kPicks; i++) {
        worker_version *v = pick_random(f.se, next_random(&x));
        if (v != f.a && v != f.b) fail_msg("a version not in the split");
        on_b += v == f.b;
    }
    assert_share(on_b, kPicks, 0.10, "random picks on the 10% version");
    /* The newer version has the top of the range. */
    assert_ptr_equal(pick_random(f.se, 0), f.a);
    assert_ptr_equal(pick_random(f.se, 899999), f.a);
    assert_ptr_equal(pick_random(f.se, 900000), f.b);
    assert_ptr_equal(pick_random(f.se, 999999), f.b);
    /* Percentages that do not add up exactly in binary still cover the top end. */
    snapshot_set_split(f.se, f.a, 66.7, f.b, 33.3);
    assert_ptr_equal(pick_random(f.se, 999999), f.b);
    snapshot_set_split(f.se, f.a, 33.3, f.b, 66.7);
    assert_ptr_equal(pick_random(f.se, 999999), f.b);
    snapshot_unref(f.s);
}

/* ------------------------------------------------------------------------------------------
 * Cloudflare-Workers-Version-Overrides.
 * ---------------------------------------------------------------------------------------- */

static void test_pick_overrides(void **state) {
    (void)state;
    fixture f = make_fixture();
    /* B is in the split at 0%: without an override nothing reaches it. */
    snapshot_set_split(f.se, f.a, 100, f.b, 0);
    char key[32];
    uint64_t x = 42;

    const char *selecting[] = {
        "svc=\"" ID_B "\"",
        "svc=" ID_B, /* a token is as good as a string */
        "other=\"" ID_A "\", svc=\"" ID_B "\"",
        "svc=\"" ID_A "\", svc=\"" ID_B "\"", /* the last of a repeated key */
        "svc=\"" ID_B "\";q=1",               /* parameters are allowed */
        "  svc=\"" ID_B "\"  ",
        "svc=\"F00DBABE-2222-4222-8222-222222222222\"", /* ids compare in any case */
        "svc=\"" ID_B "\",other=(1 2);p, x=?0",
    };
    for (size_t k = 0; k < sizeof selecting / sizeof selecting[0]; k++) {
        for (int i = 0; i < 100; i++) {
            key_n(key, sizeof key, i);
            if (pick_override(f.se, selecting[k], key, 0) != f.b)
                fail_msg("override '%s' with key %s: not B", selecting[k], key);
            if (pick_override(f.se, selecting[k], NULL, next_random(&x)) != f.b)
                fail_msg("override '%s' at random: not B", selecting[k]);
        }
    }
    /* Only overrides_len bytes are read. */
    const char *buf = "svc=\"" ID_B "\"GARBAGE";
    assert_ptr_equal(snapshot_pick_version(f.se, buf, strlen(buf) - 7, NULL, 0, 0), f.b);
    assert_ptr_equal(snapshot_pick_version(f.se, buf, strlen(buf), NULL, 0, 0), f.a);

    /* Ignored: they fall back to the key or random choice, which with B at 0% is always A. */
    static const char garbage[] = {'\xff', '\xfe', 's', 'v', 'c', '=', '\0', '"', '\x80'};
    const char *ignored[] = {
        "svc=\"" ID_C "\"",   /* a version of svc, but not in the split */
        "svc=\"" ID_B "x\"",  /* not exactly B's id */
        "svc=\"f00dbabe\"",   /* a preview prefix is not an id */
        "other=\"" ID_B "\"", /* for another script */
        "svc2=\"" ID_B "\"",  /* ... */
        "svc=\"" ID_B "\", svc=\"" ID_A "\"",
        "\"",                    /* malformed */
        "a=",                    /* ... */
        "svc=",                  /* ... */
        "svc=\"" ID_B,           /* unterminated string */
        "svc=\"" ID_B "\",",     /* trailing comma */
        "svc=\"" ID_B "\" junk", /* junk after a member */
        "SVC=\"" ID_B "\"",      /* keys are lowercase */
        "svc=\"" ID_B "\";",     /* an empty parameter */
        "svc:\"" ID_B "\"",      /* not a dictionary */
        "svc=1",                 /* not a string or a token */
        "svc=?1",
        "svc=(\"" ID_B "\")", /* an inner list */
        "svc=:Zm9v:",         /* bytes */
        "",
        "svc=\"\"",
    };
    for (size_t k = 0; k < sizeof ignored / sizeof ignored[0]; k++) {
        for (int i = 0; i < 100; i++) {
            key_n(key, sizeof key, i);
            if (pick_override(f.se, ignored[k], key, 0) != f.a)
                fail_msg("override '%s' with key %s: not ignored", ignored[k], key);
            if (pick_override(f.se, ignored[k], NULL, next_random(&x)) != f.a)
                fail_msg("override '%s' at random: not ignored", ignored[k]);
        }
    }
    assert_ptr_equal(snapshot_pick_version(f.se, garbage, sizeof garbage, NULL, 0, 1), f.a);
    static const char nul_in_value[] = "svc=\"f00dbabe\0-2222\"";
    assert_ptr_equal(snapshot_pick_version(f.se, nul_in_value, sizeof nul_in_value - 1, NULL, 0, 1),
                     f.a);

    /* An ignored override leaves exactly the key's choice (not, say, always the first). */
    snapshot_set_split(f.se, f.a, 50, f.b, 50);
    size_t on_b = 0;
    for (int i = 0; i < kKeys; i++) {
        key_n(key, sizeof key, i);
        worker_version *want = pick_key(f.se, key);
        const char *kinds[] = {"svc=\"" ID_C "\"", "\"", "SVC=\"" ID_B "\""};
        for (size_t k = 0; k < 3; k++)
            if (pick_override(f.se, kinds[k], key, 0) != want)
                fail_msg("override '%s' with key %s: changed the key's choice", kinds[k], key);
        on_b += want == f.b;
    }
    assert_share(on_b, kKeys, 0.5, "keys on B at 50%");
    /* ... and picks at random the same as with no header at all. */
    for (uint64_t r = 0; r < 2000; r++) {
        uint64_t n = r * 500;
        assert_ptr_equal(pick_override(f.se, "svc=\"" ID_C "\"", NULL, n), pick_random(f.se, n));
    }

    /* Either version of the split can be chosen; C once it is in the split. */
    assert_ptr_equal(pick_override(f.se, "svc=\"" ID_A "\"", "user-1", 0), f.a);
    assert_ptr_equal(pick_override(f.se, "svc=\"" ID_B "\"", "user-1", 0), f.b);
    snapshot_set_split(f.se, f.b, 100, f.c, 0);
    assert_ptr_equal(pick_override(f.se, "svc=\"" ID_C "\"", "user-1", 0), f.c);
    assert_ptr_equal(pick_override(f.se, "svc=\"" ID_A "\"", "user-1", 0), f.b); /* A left */
    /* With one version deployed, an override for another never applies. */
    snapshot_set_split(f.se, f.a, 100, NULL, 0);
    assert_ptr_equal(pick_override(f.se, "svc=\"" ID_B "\"", NULL, 5), f.a);
    assert_ptr_equal(pick_override(f.se, "svc=\"" ID_A "\"", NULL, 5), f.a);
    /* Nothing deployed: nothing, override or not. */
    snapshot_set_split(f.se, NULL, 0, NULL, 0);
    assert_null(pick_override(f.se, "svc=\"" ID_A "\"", "k", 5));
    snapshot_unref(f.s);
}

/* ------------------------------------------------------------------------------------------
 * Concurrency: loop threads take the current snapshot and route while the control side
 * publishes. With the sanitizers, a reference count that raced would show as a use after free
 * or a leak.
 * ---------------------------------------------------------------------------------------- */

enum { kReaders = 4, kPublishes = 2000, kMaxPublishes = 1000000 };

static atomic_bool publishing_done;

static void *reader(void *arg) {
    atomic_long *served = arg;
    uint64_t x = (uint64_t)(uintptr_t)&x | 1;
    while (!atomic_load(&publishing_done)) {
        snapshot *s = snapshot_current();
        if (!s) continue;
        route_result rr;
        worker_version *v = NULL;
        const char *host = "svc." DOMAIN;
        if (snapshot_route(s, host, strlen(host), "/", 1, &rr))
            v = snapshot_pick_version(rr.script, NULL, 0, NULL, 0, next_random(&x));
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
    /* Keep publishing until the readers have really run alongside (they may start late), but
     * not forever if they never get a version. */
    int i;
    for (i = 0; i < kPublishes || (atomic_load(&served) < 1000 && i < kMaxPublishes); i++) {
        snapshot *s = snapshot_new(DOMAIN);
        script_entry *se = snapshot_add_script(s, "svc");
        worker_version *v1 = version_of("svc", ID_A, 1), *v2 = version_of("svc", ID_B, 2);
        snapshot_add_version(se, v1);
        snapshot_add_version(se, v2);
        snapshot_set_split(se, v1, 50, v2, 50);
        worker_version_unref(v1);
        worker_version_unref(v2);
        if (i == 0) first = snapshot_ref(s);
        snapshot_publish(s);
    }
    atomic_store(&publishing_done, true);
    for (int k = 0; k < kReaders; k++) assert_int_equal(pthread_join(threads[k], NULL), 0);
    assert_true(atomic_load(&served) >= 1000);
    /* Our reference to the first snapshot kept it (and its versions) alive throughout. */
    assert_int_equal(snapshot_refs(first), 1);
    assert_string_equal(pick_random(route(first, "svc." DOMAIN), 0)->version_id, ID_A);
    assert_string_equal(pick_random(route(first, "svc." DOMAIN), 999999)->version_id, ID_B);
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
        cmocka_unit_test(test_snapshot_building),
        cmocka_unit_test(test_set_split),
        cmocka_unit_test(test_route_by_name),
        cmocka_unit_test(test_route_by_first_label),
        cmocka_unit_test(test_route_default),
        cmocka_unit_test(test_route_patterns),
        cmocka_unit_test(test_route_pattern_errors),
        cmocka_unit_test(test_route_pattern_scheme),
        cmocka_unit_test(test_route_pattern_query_refused),
        cmocka_unit_test(test_route_query_needs_wildcard),
        cmocka_unit_test(test_route_preview),
        cmocka_unit_test(test_version_key_point),
        cmocka_unit_test(test_pick_by_key_share),
        cmocka_unit_test(test_pick_by_key_monotonic),
        cmocka_unit_test(test_pick_random),
        cmocka_unit_test(test_pick_overrides),
        cmocka_unit_test(test_concurrent_publish_and_route),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
