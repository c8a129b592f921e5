/* metrics — per worker-version request accounting (see metrics.h).
 *
 * Layout. A version_metrics holds one pointer per shard to a shard_block, which that shard
 * allocates on its first record. A block carries
 *   - the cumulative counters behind /metrics and metrics_totals_get, and
 *   - a ring of METRICS_MINUTES minute slots (slot = minute % METRICS_MINUTES) behind the
 *     analytics API.
 * Only shard i ever writes block i, so every update is a relaxed load plus a relaxed store of
 * the shard's own counter: no lock, no read-modify-write instruction, no cache line shared
 * with another writer. Readers sum the blocks with relaxed loads. Each block's counters only
 * grow, so a sum read while shards record is between the totals before and after the read,
 * and it is exact once recording stops.
 *
 * Memory. An idle version costs its struct (a 64-pointer array, ~530 bytes) plus its names. A
 * (version, shard) that has recorded costs one anonymous mapping of sizeof(shard_block), about
 * 327 KiB of address space (520 bytes of counters + 360 slots of 928 bytes). The kernel backs
 * only the pages that are written, and a slot is first written in the minute it is used, so
 * resident memory is the counters' page plus the pages of the minutes that saw traffic (a
 * 4 KiB page holds ~4.4 consecutive minutes): the full 327 KiB only after 6 hours of steady
 * traffic on that shard. (malloc would not do: once glibc raises its mmap threshold, calloc
 * memsets the whole block and makes it resident.)
 *
 * Percentiles. Each minute slot keeps log-scale histograms of wall and CPU time with 4 buckets
 * per octave, at 2^(k/4) * 1024 ns (~1 us) up to 2^37 ns (~137 s), plus one bucket below and
 * one above, and the minute's min and max. The analytics reader sums the shards' buckets of a
 * minute, finds the bucket holding the wanted rank and interpolates linearly inside it, then
 * clamps to [min, max]. Precision: a bucket spans a factor of 2^(1/4) = 1.19, and the estimate
 * always lies in the same bucket as the true quantile, so it is never off by more than 19%
 * (a distribution piled up at one edge of a bucket); the bucket's geometric midpoint is within
 * 9% of any value in it. For latencies spread over several buckets (real ones) interpolation
 * is within a few percent (the tests check 10% on heavy-tailed and uniform distributions), and
 * a constant latency is exact thanks to the min/max clamp. Below 1 us the error is absolute
 * (< 1 us). */
#include "observe/metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "base/alloc.h"

/* ---- buckets --------------------------------------------------------------------------- */

/* Prometheus buckets (le, seconds), also in ns for recording. A value equal to a bound counts
 * in that bucket ("less than or equal"). */
#define PROM_BUCKETS 15
static const char *const prom_le[PROM_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
    "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "30",
};
static const uint64_t prom_le_ns[PROM_BUCKETS] = {
    500000u,     1000000u,    2500000u,    5000000u,     10000000u,
    25000000u,   50000000u,   100000000u,  250000000u,   500000000u,
    1000000000u, 2500000000u, 5000000000u, 10000000000u, 30000000000u,
};

/* Index of the first bucket whose bound is >= ns; PROM_BUCKETS for above all bounds (+Inf).
 * A linear scan: request latencies mostly stop within the first few bounds. */
static inline unsigned prom_bucket(uint64_t ns) {
    unsigned i = 0;
    while (i < PROM_BUCKETS && ns > prom_le_ns[i]) i++;
    return i;
}

/* Log-scale buckets of the minute series: [0] below 2^10 ns, then 4 per octave from 2^10 to
 * 2^37 ns, then [FINE_BUCKETS-1] from 2^37 ns up. */
#define FINE_MIN_EXP 10
#define FINE_MAX_EXP 37
#define FINE_BUCKETS (2 + 4 * (FINE_MAX_EXP - FINE_MIN_EXP))

/* 2^(63 + k/4) for k = 1, 2, 3, rounded up: a value normalised so its top bit is bit 63 is in
 * quarter-octave k or above exactly when it is >= step k. Integer compares, so bucket edges
 * are exact and no libm is needed on the request path. */
static const uint64_t quarter_step[3] = {
    UINT64_C(10968499650544839024),
    UINT64_C(13043817825332782213),
    UINT64_C(15511800964685064949),
};
/* 2^(k/4), for the readers' bucket edges. */
static const double quarter_factor[4] = {1.0, 1.189207115002721, 1.4142135623730951,
                                         1.6817928305074290};

static inline unsigned fine_bucket(uint64_t ns) {
    if (ns < (UINT64_C(1) << FINE_MIN_EXP)) return 0;
    unsigned e = 63u - (unsigned)__builtin_clzll(ns);
    if (e >= FINE_MAX_EXP) return FINE_BUCKETS - 1;
    uint64_t m = ns << (63u - e);
    unsigned q = (m >= quarter_step[0]) + (m >= quarter_step[1]) + (m >= quarter_step[2]);
    return 1u + (e - FINE_MIN_EXP) * 4u + q;
}

/* Lower edge of fine bucket i in ns (the top bucket has no upper edge: readers use the max). */
static double fine_lower(unsigned i) {
    if (i == 0) return 0;
    unsigned e = FINE_MIN_EXP + (i - 1) / 4;
    return (double)(UINT64_C(1) << e) * quarter_factor[(i - 1) % 4];
}

/* ---- storage --------------------------------------------------------------------------- */

/* Status classes: [0] none (or outside 100..599), [1] 1xx ... [5] 5xx. */
#define STATUS_CLASSES 6
static const char *const status_label[STATUS_CLASSES] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

/* One minute of one shard. `minute` is the Unix minute plus one (0: never used), and doubles
 * as the sequence word of a seqlock: the writer zeroes it while it resets the slot for a new
 * minute, so a reader that sees the same minute before and after copying the slot has a copy
 * of that minute only. Counts are 32-bit: a shard would need 71M requests/s to overflow. */
typedef struct minute_slot {
    _Atomic uint64_t minute;
    _Atomic uint32_t requests;
    _Atomic uint32_t errors;
    _Atomic uint64_t wall_min, wall_max, cpu_min, cpu_max;
    _Atomic uint32_t wall[FINE_BUCKETS];
    _Atomic uint32_t cpu[FINE_BUCKETS];
} minute_slot;

typedef struct shard_block {
    _Atomic uint64_t requests[METRICS_OUTCOMES][STATUS_CLASSES];
    _Atomic uint64_t wall_le[PROM_BUCKETS + 1]; /* per bucket, not cumulative; last is +Inf */
    _Atomic uint64_t cpu_le[PROM_BUCKETS + 1];
    _Atomic uint64_t wall_sum_ns, cpu_sum_ns;
    _Atomic uint64_t newest_minute; /* largest minute (+1) written to the ring */
    minute_slot ring[METRICS_MINUTES];
} shard_block;

struct version_metrics {
    /* The registry holds one reference while the version is listed, and every loaded
     * worker_version one more: a request finishing after its Worker was deleted still
     * records into live memory. */
    atomic_int refs;
    char *worker;
    char *version_id;
    /* Written once each, by its shard (release); read by anyone (acquire). */
    shard_block *_Atomic shards[METRICS_MAX_SHARDS];
};

struct metrics_registry {
    pthread_mutex_t lock;
    version_metrics **v; /* sorted by (worker, version_id), which is also the output order */
    size_t len, cap;
};

/* Single-writer updates: a relaxed load and store, cheaper than an atomic add (no lock prefix)
 * and race-free because no one else writes this counter. */
static inline void add64(_Atomic uint64_t *c, uint64_t n) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}
static inline void inc32(_Atomic uint32_t *c) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}
static inline void lower_to(_Atomic uint64_t *c, uint64_t v) {
    if (v < atomic_load_explicit(c, memory_order_relaxed))
        atomic_store_explicit(c, v, memory_order_relaxed);
}
static inline void raise_to(_Atomic uint64_t *c, uint64_t v) {
    if (v > atomic_load_explicit(c, memory_order_relaxed))
        atomic_store_explicit(c, v, memory_order_relaxed);
}
static inline uint64_t load64(const _Atomic uint64_t *c) {
    return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

static shard_block *block_of(version_metrics *m, unsigned shard) {
    return atomic_load_explicit(&m->shards[shard], memory_order_acquire);
}

/* The shard's first record for this version. Zero pages are a valid empty block (all counters
 * 0, every slot unused), so nothing is initialised and nothing becomes resident yet. */
__attribute__((noinline, cold)) static shard_block *block_new(version_metrics *m, unsigned shard) {
    void *p =
        mmap(NULL, sizeof(shard_block), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "hearth: out of memory mapping %zu bytes of metrics\n",
                sizeof(shard_block));
        abort();
    }
    shard_block *b = p;
    atomic_store_explicit(&m->shards[shard], b, memory_order_release);
    return b;
}

/* ---- recording ------------------------------------------------------------------------- */

static inline unsigned status_class(int status) {
    return status >= 100 && status <= 599 ? (unsigned)status / 100 : 0;
}

/* Resets slot s for `minute` (its writer only), once per minute. The resets are release
 * stores made after zeroing `minute`: a reader whose acquire load returns a reset value, or a
 * later increment of it by this thread (the same release sequence in C11), then sees `minute`
 * changed and drops its copy. (Fences would do the same on the request path's relaxed stores
 * alone, but ThreadSanitizer does not model fences.) */
__attribute__((noinline)) static void slot_claim(shard_block *b, minute_slot *s, uint64_t minute) {
    const memory_order rel = memory_order_release;
    atomic_store_explicit(&s->minute, 0, memory_order_relaxed);
    atomic_store_explicit(&s->requests, 0, rel);
    atomic_store_explicit(&s->errors, 0, rel);
    atomic_store_explicit(&s->wall_min, UINT64_MAX, rel);
    atomic_store_explicit(&s->cpu_min, UINT64_MAX, rel);
    atomic_store_explicit(&s->wall_max, 0, rel);
    atomic_store_explicit(&s->cpu_max, 0, rel);
    for (unsigned i = 0; i < FINE_BUCKETS; i++) {
        atomic_store_explicit(&s->wall[i], 0, rel);
        atomic_store_explicit(&s->cpu[i], 0, rel);
    }
    atomic_store_explicit(&s->minute, minute, rel);
    raise_to(&b->newest_minute, minute);
}

void metrics_record(version_metrics *m, unsigned shard, metrics_outcome outcome, int status,
                    uint64_t wall_ns, uint64_t cpu_ns, uint64_t now_ms) {
    /* A caller bug; dropping the sample beats corrupting another shard's block. */
    if (shard >= METRICS_MAX_SHARDS) return;
    if ((unsigned)outcome >= METRICS_OUTCOMES) outcome = METRICS_EXCEPTION;
    shard_block *b = atomic_load_explicit(&m->shards[shard], memory_order_relaxed);
    if (!b) b = block_new(m, shard);

    unsigned cls = status_class(status);
    add64(&b->requests[outcome][cls], 1);
    add64(&b->wall_le[prom_bucket(wall_ns)], 1);
    add64(&b->cpu_le[prom_bucket(cpu_ns)], 1);
    add64(&b->wall_sum_ns, wall_ns);
    add64(&b->cpu_sum_ns, cpu_ns);

    uint64_t minute = now_ms / 60000 + 1; /* + 1: 0 marks a slot never used */
    minute_slot *s = &b->ring[(minute - 1) % METRICS_MINUTES];
    uint64_t held = atomic_load_explicit(&s->minute, memory_order_relaxed);
    if (held != minute) {
        /* The clock went back by more than the ring: keep the newer minute it holds. */
        if (held > minute) return;
        slot_claim(b, s, minute);
    }
    inc32(&s->requests);
    if (outcome != METRICS_OK || cls == 5) inc32(&s->errors);
    inc32(&s->wall[fine_bucket(wall_ns)]);
    inc32(&s->cpu[fine_bucket(cpu_ns)]);
    lower_to(&s->wall_min, wall_ns);
    raise_to(&s->wall_max, wall_ns);
    lower_to(&s->cpu_min, cpu_ns);
    raise_to(&s->cpu_max, cpu_ns);
}

/* ---- outcomes -------------------------------------------------------------------------- */

static const char *const outcome_names[METRICS_OUTCOMES] = {
    "ok", "exception", "exceededCpu", "exceededMemory", "canceled",
};

const char *metrics_outcome_name(metrics_outcome o) {
    return (unsigned)o < METRICS_OUTCOMES ? outcome_names[o] : "exception";
}

metrics_outcome metrics_outcome_from_name(const char *name) {
    if (name)
        for (unsigned i = 0; i < METRICS_OUTCOMES; i++)
            if (strcmp(name, outcome_names[i]) == 0) return (metrics_outcome)i;
    return METRICS_EXCEPTION;
}

/* ---- registry -------------------------------------------------------------------------- */

metrics_registry *metrics_registry_new(void) {
    metrics_registry *r = xcalloc(1, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    return r;
}

void metrics_version_unref(version_metrics *m) {
    if (!m || atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) != 1) return;
    for (unsigned i = 0; i < METRICS_MAX_SHARDS; i++) {
        shard_block *b = block_of(m, i);
        if (b) munmap(b, sizeof *b);
    }
    free(m->worker);
    free(m->version_id);
    free(m);
}

void metrics_registry_free(metrics_registry *r) {
    if (!r) return;
    for (size_t i = 0; i < r->len; i++) metrics_version_unref(r->v[i]);
    free(r->v);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static int key_cmp(const char *worker, const char *version_id, const version_metrics *m) {
    int c = strcmp(worker, m->worker);
    return c ? c : strcmp(version_id, m->version_id);
}

/* First index whose key is >= (worker, version_id). Called with the lock held. */
static size_t lower_bound(metrics_registry *r, const char *worker, const char *version_id) {
    size_t lo = 0, hi = r->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(worker, version_id, r->v[mid]) > 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

version_metrics *metrics_registry_get(metrics_registry *r, const char *worker,
                                      const char *version_id) {
    pthread_mutex_lock(&r->lock);
    size_t at = lower_bound(r, worker, version_id);
    if (at < r->len && key_cmp(worker, version_id, r->v[at]) == 0) {
        version_metrics *m = r->v[at];
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
        pthread_mutex_unlock(&r->lock);
        return m;
    }
    version_metrics *m = xcalloc(1, sizeof *m);
    atomic_init(&m->refs, 2); /* the registry's and the caller's */
    m->worker = xstrdup(worker);
    m->version_id = xstrdup(version_id);
    if (r->len == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->v = xrealloc(r->v, r->cap * sizeof *r->v);
    }
    memmove(r->v + at + 1, r->v + at, (r->len - at) * sizeof *r->v);
    r->v[at] = m;
    r->len++;
    pthread_mutex_unlock(&r->lock);
    return m;
}

void metrics_registry_forget_worker(metrics_registry *r, const char *worker) {
    pthread_mutex_lock(&r->lock);
    size_t from = lower_bound(r, worker, ""), to = from;
    while (to < r->len && strcmp(r->v[to]->worker, worker) == 0) metrics_version_unref(r->v[to++]);
    memmove(r->v + from, r->v + to, (r->len - to) * sizeof *r->v);
    r->len -= to - from;
    pthread_mutex_unlock(&r->lock);
}

/* ---- totals ---------------------------------------------------------------------------- */

/* Every cumulative counter of a version, summed over its shards. */
typedef struct version_sums {
    uint64_t requests[METRICS_OUTCOMES][STATUS_CLASSES];
    uint64_t wall_le[PROM_BUCKETS + 1], cpu_le[PROM_BUCKETS + 1];
    uint64_t wall_sum_ns, cpu_sum_ns;
} version_sums;

static void sum_version(version_metrics *m, version_sums *s) {
    memset(s, 0, sizeof *s);
    for (unsigned i = 0; i < METRICS_MAX_SHARDS; i++) {
        shard_block *b = block_of(m, i);
        if (!b) continue;
        for (unsigned o = 0; o < METRICS_OUTCOMES; o++)
            for (unsigned c = 0; c < STATUS_CLASSES; c++)
                s->requests[o][c] += load64(&b->requests[o][c]);
        for (unsigned k = 0; k <= PROM_BUCKETS; k++) {
            s->wall_le[k] += load64(&b->wall_le[k]);
            s->cpu_le[k] += load64(&b->cpu_le[k]);
        }
        s->wall_sum_ns += load64(&b->wall_sum_ns);
        s->cpu_sum_ns += load64(&b->cpu_sum_ns);
    }
}

void metrics_totals_get(version_metrics *m, metrics_totals *out) {
    version_sums s;
    sum_version(m, &s);
    memset(out, 0, sizeof *out);
    for (unsigned o = 0; o < METRICS_OUTCOMES; o++)
        for (unsigned c = 0; c < STATUS_CLASSES; c++) {
            out->requests += s.requests[o][c];
            out->by_outcome[o] += s.requests[o][c];
            out->by_status_class[c] += s.requests[o][c];
        }
    out->exceptions = out->by_outcome[METRICS_EXCEPTION];
}

/* ---- Prometheus ------------------------------------------------------------------------ */

/* A label value: backslash, double quote and newline escaped, as the text format requires. */
static void put_label(buf *out, const char *name, const char *value) {
    buf_puts(out, name);
    buf_puts(out, "=\"");
    for (const char *p = value; *p; p++) {
        if (*p == '\\')
            buf_puts(out, "\\\\");
        else if (*p == '"')
            buf_puts(out, "\\\"");
        else if (*p == '\n')
            buf_puts(out, "\\n");
        else
            buf_putc(out, *p);
    }
    buf_putc(out, '"');
}

/* `name{worker="...",version="..."` without the closing brace, for more labels to follow. */
static void put_series(buf *out, const char *name, const version_metrics *m) {
    buf_puts(out, name);
    buf_putc(out, '{');
    put_label(out, "worker", m->worker);
    buf_putc(out, ',');
    put_label(out, "version", m->version_id);
}

/* Exact decimal seconds of a ns count, without trailing zeros ("1.5", "0.000001", "3"), so
 * _sum is deterministic and loses nothing to binary floating point. */
static void put_seconds(buf *out, uint64_t ns) {
    buf_printf(out, "%" PRIu64, ns / 1000000000u);
    uint64_t frac = ns % 1000000000u;
    if (!frac) return;
    int digits = 9;
    while (frac % 10 == 0) frac /= 10, digits--;
    buf_printf(out, ".%0*" PRIu64, digits, frac);
}

static void put_histogram(buf *out, const char *name, const char *help, metrics_registry *r,
                          const version_sums *sums, bool wall) {
    buf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    char series[64];
    for (size_t i = 0; i < r->len; i++) {
        const uint64_t *le = wall ? sums[i].wall_le : sums[i].cpu_le;
        uint64_t cumulative = 0;
        snprintf(series, sizeof series, "%s_bucket", name);
        for (unsigned k = 0; k <= PROM_BUCKETS; k++) {
            cumulative += le[k];
            put_series(out, series, r->v[i]);
            buf_putc(out, ',');
            put_label(out, "le", k < PROM_BUCKETS ? prom_le[k] : "+Inf");
            buf_printf(out, "} %" PRIu64 "\n", cumulative);
        }
        snprintf(series, sizeof series, "%s_sum", name);
        put_series(out, series, r->v[i]);
        buf_puts(out, "} ");
        put_seconds(out, wall ? sums[i].wall_sum_ns : sums[i].cpu_sum_ns);
        buf_putc(out, '\n');
        /* _count is the +Inf bucket, from the same loads, so the two always agree. */
        snprintf(series, sizeof series, "%s_count", name);
        put_series(out, series, r->v[i]);
        buf_printf(out, "} %" PRIu64 "\n", cumulative);
    }
}

void metrics_render_prometheus(metrics_registry *r, buf *out) {
    /* The lock keeps the versions alive (forget_worker) and the array still (get); recording
     * never takes it. Sums are taken once so all families show the same moment per version. */
    pthread_mutex_lock(&r->lock);
    version_sums *sums = xmalloc((r->len ? r->len : 1) * sizeof *sums);
    for (size_t i = 0; i < r->len; i++) sum_version(r->v[i], &sums[i]);

    buf_puts(out, "# HELP hearth_requests_total Invocations finished, by outcome and HTTP status "
                  "class.\n# TYPE hearth_requests_total counter\n");
    for (size_t i = 0; i < r->len; i++)
        for (unsigned o = 0; o < METRICS_OUTCOMES; o++)
            for (unsigned k = 1; k <= STATUS_CLASSES; k++) {
                unsigned c = k % STATUS_CLASSES; /* 1xx .. 5xx, then none */
                uint64_t n = sums[i].requests[o][c];
                if (!n) continue; /* only series that happened */
                put_series(out, "hearth_requests_total", r->v[i]);
                buf_putc(out, ',');
                put_label(out, "outcome", outcome_names[o]);
                buf_putc(out, ',');
                put_label(out, "status", status_label[c]);
                buf_printf(out, "} %" PRIu64 "\n", n);
            }

    buf_puts(out, "# HELP hearth_exceptions_total Invocations that ended in an uncaught "
                  "exception.\n# TYPE hearth_exceptions_total counter\n");
    for (size_t i = 0; i < r->len; i++) {
        uint64_t n = 0;
        for (unsigned c = 0; c < STATUS_CLASSES; c++) n += sums[i].requests[METRICS_EXCEPTION][c];
        put_series(out, "hearth_exceptions_total", r->v[i]);
        buf_printf(out, "} %" PRIu64 "\n", n);
    }

    put_histogram(out, "hearth_request_wall_seconds", "Wall-clock time of invocations.", r, sums,
                  true);
    put_histogram(out, "hearth_request_cpu_seconds", "CPU time of invocations.", r, sums, false);
    pthread_mutex_unlock(&r->lock);
    free(sums);
}

/* ---- analytics ------------------------------------------------------------------------- */

/* One minute summed over shards. */
typedef struct minute_sum {
    uint64_t requests, errors;
    uint64_t wall_min, wall_max, cpu_min, cpu_max;
    uint64_t wall[FINE_BUCKETS], cpu[FINE_BUCKETS];
} minute_sum;

/* Adds slot s to acc if it holds `minute` (plus one) from start to end of the copy; a slot
 * being reset meanwhile (its minute moved on) is skipped. The copy uses acquire loads so that
 * seeing any value written by a reset implies seeing the reset's `minute` change (slot_claim);
 * on x86 they cost the same as relaxed ones. */
static void add_slot(minute_slot *w, uint64_t minute, minute_sum *acc) {
    const memory_order acq = memory_order_acquire;
    if (atomic_load_explicit(&w->minute, acq) != minute) return;
    uint32_t requests = atomic_load_explicit(&w->requests, acq);
    uint32_t errors = atomic_load_explicit(&w->errors, acq);
    uint64_t wall_min = atomic_load_explicit(&w->wall_min, acq);
    uint64_t wall_max = atomic_load_explicit(&w->wall_max, acq);
    uint64_t cpu_min = atomic_load_explicit(&w->cpu_min, acq);
    uint64_t cpu_max = atomic_load_explicit(&w->cpu_max, acq);
    uint32_t wall[FINE_BUCKETS], cpu[FINE_BUCKETS];
    for (unsigned i = 0; i < FINE_BUCKETS; i++) {
        wall[i] = atomic_load_explicit(&w->wall[i], acq);
        cpu[i] = atomic_load_explicit(&w->cpu[i], acq);
    }
    if (atomic_load_explicit(&w->minute, memory_order_relaxed) != minute) return;

    acc->requests += requests;
    acc->errors += errors;
    if (wall_min < acc->wall_min) acc->wall_min = wall_min;
    if (wall_max > acc->wall_max) acc->wall_max = wall_max;
    if (cpu_min < acc->cpu_min) acc->cpu_min = cpu_min;
    if (cpu_max > acc->cpu_max) acc->cpu_max = cpu_max;
    for (unsigned i = 0; i < FINE_BUCKETS; i++) {
        acc->wall[i] += wall[i];
        acc->cpu[i] += cpu[i];
    }
}

/* Estimated p-quantile (0 < p < 1), in ns, of the values counted in h, whose extremes were
 * lo..hi: linear interpolation inside the bucket holding rank p*n (precision: file comment). */
static double quantile_ns(const uint64_t *h, double p, uint64_t lo, uint64_t hi) {
    uint64_t n = 0;
    for (unsigned i = 0; i < FINE_BUCKETS; i++) n += h[i];
    if (!n) return 0;
    double rank = p * (double)n, below = 0, est = (double)hi;
    for (unsigned i = 0; i < FINE_BUCKETS; i++) {
        if (!h[i]) continue;
        if (below + (double)h[i] >= rank) {
            double from = fine_lower(i);
            double to = i + 1 < FINE_BUCKETS ? fine_lower(i + 1) : (double)hi;
            if (to < from) to = from;
            est = from + (to - from) * ((rank - below) / (double)h[i]);
            break;
        }
        below += (double)h[i];
    }
    if (est < (double)lo) est = (double)lo;
    if (est > (double)hi) est = (double)hi;
    return est;
}

/* Milliseconds with microsecond resolution and no trailing zeros: 0.4, 3.125, 12. */
static void put_ms(buf *out, double ns) {
    char s[64];
    snprintf(s, sizeof s, "%.3f", ns / 1e6);
    size_t n = strlen(s);
    while (s[n - 1] == '0') n--;
    if (s[n - 1] == '.') n--;
    buf_append(out, s, n);
}

/* A quoted RFC 3339 UTC time; with microseconds for since/until (the API's convention), whole
 * seconds for minutes (as in docs/api.md). Clamped to year 9999 so any input formats. */
static void put_time(buf *out, uint64_t ms, bool micros) {
    const uint64_t max_ms = UINT64_C(253402300799999);
    if (ms > max_ms) ms = max_ms;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    buf_printf(out, "\"%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
               tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (micros) buf_printf(out, ".%03u000", (unsigned)(ms % 1000));
    buf_puts(out, "Z\"");
}

static void put_json_string(buf *out, const char *s) {
    buf_putc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_printf(out, "\\%c", *p);
        else if (*p < 0x20)
            buf_printf(out, "\\u%04x", *p);
        else
            buf_putc(out, (char)*p);
    }
    buf_putc(out, '"');
}

/* The points of one version between minutes first..last (Unix minute + 1, inclusive), appended
 * to out as JSON objects separated by commas; returns how many. */
static size_t put_points(version_metrics *m, uint64_t first, uint64_t last, buf *out) {
    shard_block *blocks[METRICS_MAX_SHARDS];
    unsigned nblocks = 0;
    uint64_t newest = 0;
    for (unsigned i = 0; i < METRICS_MAX_SHARDS; i++) {
        shard_block *b = block_of(m, i);
        if (!b) continue;
        blocks[nblocks++] = b;
        uint64_t n = load64(&b->newest_minute);
        if (n > newest) newest = n;
    }
    /* A minute older than the ring, counted from the newest minute any shard wrote, may have
     * been overwritten on some shards and not others: show none of it rather than a part. */
    if (newest > METRICS_MINUTES && first < newest - METRICS_MINUTES + 1)
        first = newest - METRICS_MINUTES + 1;
    if (last > newest) last = newest;

    size_t points = 0;
    minute_sum *acc = xmalloc(sizeof *acc);
    for (uint64_t minute = first; minute <= last; minute++) {
        memset(acc, 0, sizeof *acc);
        acc->wall_min = acc->cpu_min = UINT64_MAX;
        for (unsigned i = 0; i < nblocks; i++)
            add_slot(&blocks[i]->ring[(minute - 1) % METRICS_MINUTES], minute, acc);
        if (!acc->requests) continue;
        if (points++) buf_putc(out, ',');
        buf_puts(out, "{\"minute\":");
        put_time(out, (minute - 1) * 60000, false);
        buf_printf(out, ",\"requests\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"wall_ms\":{\"p50\":",
                   acc->requests, acc->errors);
        put_ms(out, quantile_ns(acc->wall, 0.50, acc->wall_min, acc->wall_max));
        buf_puts(out, ",\"p99\":");
        put_ms(out, quantile_ns(acc->wall, 0.99, acc->wall_min, acc->wall_max));
        buf_puts(out, "},\"cpu_ms\":{\"p50\":");
        put_ms(out, quantile_ns(acc->cpu, 0.50, acc->cpu_min, acc->cpu_max));
        buf_puts(out, ",\"p99\":");
        put_ms(out, quantile_ns(acc->cpu, 0.99, acc->cpu_min, acc->cpu_max));
        buf_puts(out, "}}");
    }
    free(acc);
    return points;
}

void metrics_analytics_json(metrics_registry *r, const char *worker, const char *version_id,
                            uint64_t since_ms, uint64_t until_ms, buf *out) {
    /* Minutes whose span meets [since, until]. */
    uint64_t first = since_ms / 60000 + 1, last = until_ms / 60000 + 1;
    buf_puts(out, "{\"since\":");
    put_time(out, since_ms, true);
    buf_puts(out, ",\"until\":");
    put_time(out, until_ms, true);
    buf_puts(out, ",\"versions\":[");

    pthread_mutex_lock(&r->lock);
    buf points = {0};
    size_t shown = 0;
    for (size_t i = lower_bound(r, worker, version_id ? version_id : "");
         i < r->len && strcmp(r->v[i]->worker, worker) == 0; i++) {
        version_metrics *m = r->v[i];
        if (version_id && strcmp(m->version_id, version_id) != 0) break;
        buf_clear(&points);
        if (since_ms > until_ms || !put_points(m, first, last, &points)) continue;
        if (shown++) buf_putc(out, ',');
        buf_puts(out, "{\"version_id\":");
        put_json_string(out, m->version_id);
        buf_puts(out, ",\"points\":[");
        buf_append(out, points.data, points.len);
        buf_puts(out, "]}");
    }
    pthread_mutex_unlock(&r->lock);
    buf_free(&points);
    buf_puts(out, "]}");
}
