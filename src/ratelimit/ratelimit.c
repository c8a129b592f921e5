/* ratelimit — see ratelimit.h. */
#include "ratelimit/ratelimit.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "ratelimit/embedded.h"
#include "ratelimit/memcached.h"
#include "ratelimit/window.h"

/* Keys up to this long, of printable ASCII, are used as they are; longer or other keys are
 * replaced by '#' and their SHA-256 in hex: memcached keys are at most 250 printable bytes,
 * and the embedded table's memory stays bounded whatever the Worker passes. */
#define RAW_KEY_MAX 64
#define CANON_MAX   (1 + 64 + 1)

/* Upper bounds (ms) of the backend latency histogram. */
static const double kLatencyBounds[] = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000};
#define LATENCY_BUCKETS (sizeof kLatencyBounds / sizeof kLatencyBounds[0])

/* Threads whose counters are kept apart (more share slots, still correctly: atomics). */
#define COUNTER_SLOTS 64

/* One thread's counts for a namespace, alone on its cache line: every decision writes one, and
 * threads sharing a line would slow each other down. */
typedef struct slot_counts {
    atomic_uint_fast64_t allowed, limited, errors;
    char pad[64 - 3 * sizeof(atomic_uint_fast64_t)];
} slot_counts;

typedef struct ns_stats {
    char id[64]; /* a whole line, so that the slots start on one (and sizeof is a multiple) */
    slot_counts slots[COUNTER_SLOTS];
} ns_stats;

struct ratelimiter {
    ratelimit_options opt;
    char *backend;        /* owned copy of opt.backend ("embedded" when none) */
    char *servers;        /* memcached: "host:port,..." (after the scheme) */
    rl_table *table;      /* embedded */
    pthread_mutex_t lock; /* guards the namespace list */
    ns_stats **ns;
    size_t ns_count;
    atomic_uint_fast64_t backend_errors, backend_calls;
    atomic_uint_fast64_t latency[LATENCY_BUCKETS + 1]; /* last: above every bound */
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t last_log_ms;
    atomic_uint next_slot;
    pthread_mutex_t threads_lock;
    ratelimit_thread **threads; /* for their memcached statistics */
    size_t thread_count;
};

struct ratelimit_thread {
    ratelimiter *r;
    mc_client *mc;
    unsigned slot; /* which slot_counts it writes */
    /* Namespaces this thread has seen: looked up without the limiter's lock. */
    ns_stats **seen;
    size_t seen_count;
};

/* ---- options, lifetime ---------------------------------------------------------------- */

static uint64_t real_clock_ms(void *arg) {
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

ratelimiter *ratelimiter_new(const ratelimit_options *o, char *err, size_t errlen) {
    const char *spec = o->backend && *o->backend ? o->backend : "embedded";
    const char *servers = NULL;
    if (strncmp(spec, "memcached://", 12) == 0) {
        servers = spec + 12;
        /* A client made now checks the list the way the threads' clients will parse it. */
        uv_loop_t loop;
        uv_loop_init(&loop);
        mc_options mo;
        mc_options_defaults(&mo);
        mo.servers = servers;
        char why[200];
        mc_client *probe = mc_client_new(&loop, &mo, why, sizeof why);
        if (probe) mc_client_close(probe);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        if (!probe) {
            snprintf(err, errlen, "--ratelimit %s: %s", spec, why);
            return NULL;
        }
    } else if (strcmp(spec, "embedded") != 0) {
        snprintf(err, errlen,
                 "--ratelimit: expected \"embedded\" or \"memcached://host:port[,host:port...]\", "
                 "got \"%s\"",
                 spec);
        return NULL;
    }
    ratelimiter *r = xcalloc(1, sizeof *r);
    r->opt = *o;
    if (!r->opt.clock_ms) r->opt.clock_ms = real_clock_ms;
    if (!r->opt.timeout_ms) r->opt.timeout_ms = 250;
    r->backend = xstrdup(spec);
    r->opt.backend = r->backend;
    if (servers)
        r->servers = xstrdup(servers);
    else
        r->table = rl_table_new(o->max_keys);
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->threads_lock, NULL);
    return r;
}

void ratelimiter_free(ratelimiter *r) {
    if (!r) return;
    rl_table_free(r->table);
    for (size_t i = 0; i < r->ns_count; i++) free(r->ns[i]);
    free(r->ns);
    free(r->threads);
    free(r->backend);
    free(r->servers);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->threads_lock);
    free(r);
}

const char *ratelimiter_backend(const ratelimiter *r) {
    return r->backend;
}

ratelimit_thread *ratelimit_thread_new(ratelimiter *r, uv_loop_t *loop) {
    ratelimit_thread *t = xcalloc(1, sizeof *t);
    t->r = r;
    t->slot = atomic_fetch_add(&r->next_slot, 1) % COUNTER_SLOTS;
    if (r->servers) {
        mc_options mo;
        mc_options_defaults(&mo);
        mo.servers = r->servers;
        mo.timeout_ms = r->opt.timeout_ms;
        char err[200];
        t->mc = mc_client_new(loop, &mo, err, sizeof err); /* validated by ratelimiter_new */
        if (!t->mc) abort();
    }
    pthread_mutex_lock(&r->threads_lock);
    r->threads = xrealloc(r->threads, (r->thread_count + 1) * sizeof *r->threads);
    r->threads[r->thread_count++] = t;
    pthread_mutex_unlock(&r->threads_lock);
    return t;
}

void ratelimit_thread_close(ratelimit_thread *t) {
    if (!t) return;
    ratelimiter *r = t->r;
    pthread_mutex_lock(&r->threads_lock);
    size_t k = 0;
    for (size_t i = 0; i < r->thread_count; i++)
        if (r->threads[i] != t) r->threads[k++] = r->threads[i];
    r->thread_count = k;
    pthread_mutex_unlock(&r->threads_lock);
    if (t->mc) mc_client_close(t->mc); /* answers what is pending (ECANCELED) */
    free(t->seen);
    free(t);
}

/* ---- statistics ------------------------------------------------------------------------ */

static ns_stats *find_ns(ratelimiter *r, const char *id, bool create) {
    pthread_mutex_lock(&r->lock);
    ns_stats *s = NULL;
    for (size_t i = 0; i < r->ns_count && !s; i++)
        if (strcmp(r->ns[i]->id, id) == 0) s = r->ns[i];
    if (!s && create) {
        s = aligned_alloc(64, sizeof *s);
        if (!s) abort();
        memset(s, 0, sizeof *s);
        snprintf(s->id, sizeof s->id, "%s", id);
        r->ns = xrealloc(r->ns, (r->ns_count + 1) * sizeof *r->ns);
        r->ns[r->ns_count++] = s;
    }
    pthread_mutex_unlock(&r->lock);
    return s;
}

static ns_stats *thread_ns(ratelimit_thread *t, const char *id) {
    for (size_t i = 0; i < t->seen_count; i++)
        if (strcmp(t->seen[i]->id, id) == 0) return t->seen[i];
    ns_stats *s = find_ns(t->r, id, true);
    t->seen = xrealloc(t->seen, (t->seen_count + 1) * sizeof *t->seen);
    t->seen[t->seen_count++] = s;
    return s;
}

static void sum_counts(const ns_stats *s, ratelimit_counts *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < COUNTER_SLOTS; i++) {
        out->allowed += atomic_load_explicit(&s->slots[i].allowed, memory_order_relaxed);
        out->limited += atomic_load_explicit(&s->slots[i].limited, memory_order_relaxed);
        out->errors += atomic_load_explicit(&s->slots[i].errors, memory_order_relaxed);
    }
}

void ratelimiter_counts(ratelimiter *r, const char *namespace_id, ratelimit_counts *out) {
    memset(out, 0, sizeof *out);
    ns_stats *s = find_ns(r, namespace_id, false);
    if (s) sum_counts(s, out);
}

static void count(ratelimit_thread *t, ns_stats *s, bool allowed) {
    slot_counts *c = &s->slots[t->slot];
    atomic_fetch_add_explicit(allowed ? &c->allowed : &c->limited, 1, memory_order_relaxed);
}

static void record_latency(ratelimiter *r, uint64_t us) {
    size_t b = 0;
    while (b < LATENCY_BUCKETS && (double)us / 1000.0 > kLatencyBounds[b]) b++;
    atomic_fetch_add_explicit(&r->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->latency_sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->backend_calls, 1, memory_order_relaxed);
}

/* A backend failure: counted always, logged at most once per interval (by whichever thread
 * wins the race for the slot). */
static void backend_failed(ratelimit_thread *t, ns_stats *s, int status) {
    ratelimiter *r = t->r;
    atomic_fetch_add_explicit(&r->backend_errors, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->slots[t->slot].errors, 1, memory_order_relaxed);
    uint64_t now = real_clock_ms(NULL), last = atomic_load(&r->last_log_ms);
    if (now - last < RATELIMIT_LOG_INTERVAL_MS && last != 0) return;
    if (!atomic_compare_exchange_strong(&r->last_log_ms, &last, now)) return;
    fprintf(stderr,
            "[hearth] rate limit backend %s: %s; %s requests until it answers again (logged at "
            "most every %ds)\n",
            r->backend, mc_strerror(status), r->opt.fail_closed ? "refusing" : "allowing",
            RATELIMIT_LOG_INTERVAL_MS / 1000);
}

void ratelimiter_render_prometheus(ratelimiter *r, buf *out) {
    buf_puts(out, "# HELP hearth_ratelimit_decisions_total Rate limit decisions by namespace.\n"
                  "# TYPE hearth_ratelimit_decisions_total counter\n");
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->ns_count; i++) {
        ratelimit_counts c;
        sum_counts(r->ns[i], &c);
        buf_printf(
            out,
            "hearth_ratelimit_decisions_total{namespace_id=\"%s\",result=\"allowed\"} %llu\n"
            "hearth_ratelimit_decisions_total{namespace_id=\"%s\",result=\"limited\"} %llu\n",
            r->ns[i]->id, (unsigned long long)c.allowed, r->ns[i]->id,
            (unsigned long long)c.limited);
    }
    buf_puts(out, "# HELP hearth_ratelimit_backend_errors_total Decisions the backend could not "
                  "make (taken by the failure mode), by namespace.\n"
                  "# TYPE hearth_ratelimit_backend_errors_total counter\n");
    for (size_t i = 0; i < r->ns_count; i++) {
        ratelimit_counts c;
        sum_counts(r->ns[i], &c);
        buf_printf(out, "hearth_ratelimit_backend_errors_total{namespace_id=\"%s\"} %llu\n",
                   r->ns[i]->id, (unsigned long long)c.errors);
    }
    pthread_mutex_unlock(&r->lock);

    /* Latency only for memcached: an embedded decision has no round trip to time. */
    if (r->servers) {
        const char *kind = "memcached";
        buf_printf(out,
                   "# HELP hearth_ratelimit_backend_latency_seconds Time the %s backend took to "
                   "decide.\n# TYPE hearth_ratelimit_backend_latency_seconds histogram\n",
                   kind);
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= LATENCY_BUCKETS; b++) {
            cumulative += atomic_load(&r->latency[b]);
            if (b < LATENCY_BUCKETS)
                buf_printf(
                    out,
                    "hearth_ratelimit_backend_latency_seconds_bucket{backend=\"%s\",le=\"%g\"} "
                    "%llu\n",
                    kind, kLatencyBounds[b] / 1000, (unsigned long long)cumulative);
            else
                buf_printf(
                    out,
                    "hearth_ratelimit_backend_latency_seconds_bucket{backend=\"%s\",le=\"+Inf\"}"
                    " %llu\n",
                    kind, (unsigned long long)cumulative);
        }
        buf_printf(out,
                   "hearth_ratelimit_backend_latency_seconds_sum{backend=\"%s\"} %.6f\n"
                   "hearth_ratelimit_backend_latency_seconds_count{backend=\"%s\"} %llu\n",
                   kind, (double)atomic_load(&r->latency_sum_us) / 1e6, kind,
                   (unsigned long long)cumulative);
    }
    if (r->table) {
        rl_table_stats ts;
        rl_table_stats_get(r->table, &ts);
        buf_printf(out,
                   "# HELP hearth_ratelimit_keys Keys the embedded backend counts now.\n"
                   "# TYPE hearth_ratelimit_keys gauge\nhearth_ratelimit_keys %llu\n"
                   "# HELP hearth_ratelimit_keys_evicted_total Keys dropped while still counting "
                   "because the table was full.\n"
                   "# TYPE hearth_ratelimit_keys_evicted_total counter\n"
                   "hearth_ratelimit_keys_evicted_total %llu\n",
                   (unsigned long long)ts.keys, (unsigned long long)ts.evicted);
    } else {
        mc_stats total = {0};
        pthread_mutex_lock(&r->threads_lock);
        for (size_t i = 0; i < r->thread_count; i++) {
            mc_stats st;
            mc_client_stats(r->threads[i]->mc, &st);
            total.sent += st.sent;
            total.timeouts += st.timeouts;
            total.reconnects += st.reconnects;
            total.servers = st.servers;
            total.servers_up += st.servers_up;
        }
        size_t threads = r->thread_count;
        pthread_mutex_unlock(&r->threads_lock);
        buf_printf(out,
                   "# HELP hearth_ratelimit_memcached_servers_up Connections up, over all "
                   "threads (each thread connects to every server).\n"
                   "# TYPE hearth_ratelimit_memcached_servers_up gauge\n"
                   "hearth_ratelimit_memcached_servers_up %llu\n"
                   "# HELP hearth_ratelimit_memcached_connections Connections there should be.\n"
                   "# TYPE hearth_ratelimit_memcached_connections gauge\n"
                   "hearth_ratelimit_memcached_connections %llu\n"
                   "# TYPE hearth_ratelimit_memcached_commands_total counter\n"
                   "hearth_ratelimit_memcached_commands_total %llu\n"
                   "# TYPE hearth_ratelimit_memcached_timeouts_total counter\n"
                   "hearth_ratelimit_memcached_timeouts_total %llu\n"
                   "# TYPE hearth_ratelimit_memcached_reconnects_total counter\n"
                   "hearth_ratelimit_memcached_reconnects_total %llu\n",
                   (unsigned long long)total.servers_up,
                   (unsigned long long)(total.servers * threads), (unsigned long long)total.sent,
                   (unsigned long long)total.timeouts, (unsigned long long)total.reconnects);
    }
}

/* ---- keys ------------------------------------------------------------------------------ */

/* The key as counters store it: itself when short and printable, else '#' + SHA-256 hex. */
static size_t canonical_key(const char *key, size_t len, char out[CANON_MAX + 1]) {
    bool raw = len <= RAW_KEY_MAX && !(len > 0 && key[0] == '#');
    for (size_t i = 0; raw && i < len; i++)
        if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f) raw = false;
    if (raw) {
        memcpy(out, key, len);
        out[len] = '\0';
        return len;
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL);
    out[0] = '#';
    for (unsigned i = 0; i < 32; i++) snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
    return 65;
}

/* ---- decisions ------------------------------------------------------------------------- */

/* A memcached decision in flight: two replies (the previous window's count, the current
 * window's after adding this request) make it. */
typedef struct pending {
    ratelimit_thread *t;
    ns_stats *ns;
    ratelimit_cb cb;
    void *arg;
    uint64_t now_ms, started_ns;
    uint32_t limit, period_s;
    int replies;
    int error; /* the first failure, or 0 */
    uint64_t previous, current;
    size_t route_len, cur_len;
    char route[24 + 1 + CANON_MAX + 1];
    char cur_key[96 + CANON_MAX];
} pending;

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void decided(pending *p) {
    ratelimiter *r = p->t->r;
    bool allowed;
    if (p->error) {
        /* Canceled: the thread is closing, nobody waits for the answer any more. */
        if (p->error != MC_ECANCELED) backend_failed(p->t, p->ns, p->error);
        allowed = !r->opt.fail_closed;
    } else {
        record_latency(r, (mono_ns() - p->started_ns) / 1000);
        allowed = rl_window_allows(p->previous, p->current, p->now_ms, p->period_s, p->limit);
        /* A refused request must not use up the budget: take it back out. */
        if (!allowed)
            mc_decr(p->t->mc, p->route, p->route_len, p->cur_key, p->cur_len, 1, NULL, NULL);
    }
    count(p->t, p->ns, allowed);
    p->cb(p->arg, allowed);
    free(p);
}

static void on_reply(pending *p, int status, uint64_t value, uint64_t *slot) {
    if (status == MC_OK)
        *slot = value;
    else if (status == MC_MISS)
        *slot = 0;
    else if (!p->error)
        p->error = status;
    if (++p->replies == 2) decided(p);
}

static void on_previous(void *arg, int status, uint64_t value) {
    pending *p = arg;
    on_reply(p, status, value, &p->previous);
}

static void on_current(void *arg, int status, uint64_t value) {
    pending *p = arg;
    /* The counter is created by this very command: a miss cannot happen, treat it as one. */
    on_reply(p, status == MC_MISS ? MC_EPROTO : status, value, &p->current);
}

int ratelimit_check(ratelimit_thread *t, const char *namespace_id, const char *key, size_t key_len,
                    uint32_t limit, uint32_t period_s, ratelimit_cb cb, void *arg) {
    ratelimiter *r = t->r;
    ns_stats *ns = thread_ns(t, namespace_id);
    uint64_t now = r->opt.clock_ms(r->opt.clock_arg);
    char canon[CANON_MAX + 1];
    size_t canon_len = canonical_key(key, key_len, canon);
    if (r->table) {
        /* "<namespace>:<period>:<key>", built without printf: this is the whole cost of a
         * decision besides the table itself. (No latency is recorded: there is no round
         * trip, and reading the clock twice would cost more than the decision.) */
        char full[24 + 4 + CANON_MAX + 1];
        size_t n = strlen(namespace_id);
        if (n > 23) n = 23;
        memcpy(full, namespace_id, n);
        full[n++] = ':';
        full[n++] = period_s == 10 ? '1' : '6';
        full[n++] = ':';
        memcpy(full + n, canon, canon_len);
        n += canon_len;
        bool ok = rl_table_hit(r->table, full, n, limit, period_s, now);
        count(t, ns, ok);
        return ok ? 1 : 0;
    }
    pending *p = xcalloc(1, sizeof *p);
    p->t = t;
    p->ns = ns;
    p->cb = cb;
    p->arg = arg;
    p->now_ms = now;
    p->started_ns = mono_ns();
    p->limit = limit;
    p->period_s = period_s;
    /* Both windows of a key live on one server: the route is the key without the window. */
    p->route_len = (size_t)snprintf(p->route, sizeof p->route, "%s:%s", namespace_id, canon);
    uint64_t window = rl_window_index(now, period_s);
    char prev_key[sizeof p->cur_key];
    int prev_len = snprintf(prev_key, sizeof prev_key, "hrl:%s:%u:%llu:%s", namespace_id, period_s,
                            (unsigned long long)(window - 1), canon);
    p->cur_len = (size_t)snprintf(p->cur_key, sizeof p->cur_key, "hrl:%s:%u:%llu:%s", namespace_id,
                                  period_s, (unsigned long long)window, canon);
    /* The current window's counter is read again as the previous one during the next window,
     * so it must outlive it: two periods, and a margin for clocks that disagree a little. */
    uint32_t ttl = 2 * period_s + 10;
    mc_get(t->mc, p->route, p->route_len, prev_key, (size_t)prev_len, on_previous, p);
    mc_incr(t->mc, p->route, p->route_len, p->cur_key, p->cur_len, 1, ttl, on_current, p);
    return -1;
}
