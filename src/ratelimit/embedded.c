/* embedded — see embedded.h. */
#include "ratelimit/embedded.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "ratelimit/window.h"

#define STRIPES         64 /* a power of two */
#define DEFAULT_KEYS    (1u << 20)
#define SWEEP_PER_HIT   2  /* buckets the incremental sweep looks at per insertion */
#define SWEEP_WHEN_FULL 64 /* ... and when the stripe is full */
#define EVICTION_SAMPLE 8

typedef struct entry {
    struct entry *next;
    uint64_t hash;
    uint64_t window;   /* index of the window `current` counts */
    uint64_t last_ms;  /* last request */
    uint32_t current;  /* requests allowed in `window` */
    uint32_t previous; /* ... in the window before it */
    uint32_t period_s;
    uint32_t key_len;
    char key[];
} entry;

typedef struct stripe {
    pthread_mutex_t lock;
    entry **buckets;
    size_t nbuckets; /* a power of two */
    size_t count;
    size_t sweep; /* next bucket the incremental sweep looks at */
    char pad[64]; /* keeps neighbouring stripes' locks off one cache line */
} stripe;

struct rl_table {
    stripe stripes[STRIPES];
    size_t max_per_stripe;
    atomic_uint_fast64_t expired, evicted;
};

/* FNV-1a, then a final mix so that the low bits (the stripe) and the high bits (the bucket)
 * are both well spread. */
static uint64_t hash_key(const char *key, size_t len) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

rl_table *rl_table_new(size_t max_keys) {
    rl_table *t = xcalloc(1, sizeof *t);
    if (!max_keys) max_keys = DEFAULT_KEYS;
    t->max_per_stripe = max_keys / STRIPES ? max_keys / STRIPES : 1;
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_init(&t->stripes[i].lock, NULL);
        t->stripes[i].nbuckets = 16;
        t->stripes[i].buckets = xcalloc(16, sizeof(entry *));
    }
    return t;
}

void rl_table_free(rl_table *t) {
    if (!t) return;
    for (int i = 0; i < STRIPES; i++) {
        stripe *s = &t->stripes[i];
        for (size_t b = 0; b < s->nbuckets; b++) {
            entry *e = s->buckets[b];
            while (e) {
                entry *next = e->next;
                free(e);
                e = next;
            }
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    free(t);
}

/* Buckets are chosen by the hash's high bits; the stripe took the low ones. */
static size_t bucket_of(const stripe *s, uint64_t hash) {
    return (size_t)(hash >> 20) & (s->nbuckets - 1);
}

static void grow(stripe *s) {
    size_t n = s->nbuckets * 2;
    entry **b = xcalloc(n, sizeof *b);
    for (size_t i = 0; i < s->nbuckets; i++) {
        entry *e = s->buckets[i];
        while (e) {
            entry *next = e->next;
            size_t k = (size_t)(e->hash >> 20) & (n - 1);
            e->next = b[k];
            b[k] = e;
            e = next;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = n;
    s->sweep = 0;
}

/* A key whose last request is two periods old has nothing left to count. */
static bool is_expired(const entry *e, uint64_t now_ms) {
    return now_ms >= e->last_ms + 2 * (uint64_t)e->period_s * 1000;
}

/* Looks at `buckets` buckets, dropping expired keys: memory follows the keys in use. */
static void sweep_some(rl_table *t, stripe *s, uint64_t now_ms, size_t buckets) {
    if (buckets > s->nbuckets) buckets = s->nbuckets;
    for (size_t n = 0; n < buckets; n++) {
        entry **pp = &s->buckets[s->sweep];
        s->sweep = (s->sweep + 1) & (s->nbuckets - 1);
        while (*pp) {
            entry *e = *pp;
            if (is_expired(e, now_ms)) {
                *pp = e->next;
                free(e);
                s->count--;
                atomic_fetch_add_explicit(&t->expired, 1, memory_order_relaxed);
            } else {
                pp = &e->next;
            }
        }
    }
}

/* The stripe is full: drop the least recently used of a few keys from consecutive buckets
 * (an approximation of LRU that costs no per-request bookkeeping). */
static void evict_one(rl_table *t, stripe *s) {
    entry **victim = NULL;
    int seen = 0;
    for (size_t i = 0; i < s->nbuckets && seen < EVICTION_SAMPLE; i++) {
        size_t b = (s->sweep + i) & (s->nbuckets - 1);
        for (entry **pp = &s->buckets[b]; *pp && seen < EVICTION_SAMPLE; pp = &(*pp)->next) {
            seen++;
            if (!victim || (*pp)->last_ms < (*victim)->last_ms) victim = pp;
        }
    }
    if (!victim) return;
    entry *e = *victim;
    *victim = e->next;
    free(e);
    s->count--;
    atomic_fetch_add_explicit(&t->evicted, 1, memory_order_relaxed);
}

/* Moves the counts forward to the window of now_ms. */
static void roll(entry *e, uint64_t window) {
    if (e->window == window) return;
    e->previous = e->window + 1 == window ? e->current : 0;
    e->current = 0;
    e->window = window;
}

bool rl_table_hit(rl_table *t, const char *key, size_t key_len, uint32_t limit, uint32_t period_s,
                  uint64_t now_ms) {
    uint64_t h = hash_key(key, key_len);
    stripe *s = &t->stripes[h & (STRIPES - 1)];
    uint64_t window = rl_window_index(now_ms, period_s);
    pthread_mutex_lock(&s->lock);
    entry *e = s->buckets[bucket_of(s, h)];
    while (e && !(e->hash == h && e->key_len == key_len && e->period_s == period_s &&
                  memcmp(e->key, key, key_len) == 0))
        e = e->next;
    if (!e) {
        sweep_some(t, s, now_ms, SWEEP_PER_HIT);
        /* Full: look harder for expired keys before forgetting a live one. */
        if (s->count >= t->max_per_stripe) sweep_some(t, s, now_ms, SWEEP_WHEN_FULL);
        if (s->count >= t->max_per_stripe) evict_one(t, s);
        if (s->count >= s->nbuckets) grow(s);
        e = xmalloc(sizeof *e + key_len);
        e->hash = h;
        e->window = window;
        e->current = e->previous = 0;
        e->period_s = period_s;
        e->key_len = (uint32_t)key_len;
        memcpy(e->key, key, key_len);
        size_t b = bucket_of(s, h);
        e->next = s->buckets[b];
        s->buckets[b] = e;
        s->count++;
    }
    roll(e, window);
    e->last_ms = now_ms;
    bool ok = rl_window_allows(e->previous, (uint64_t)e->current + 1, now_ms, period_s, limit);
    if (ok) e->current++;
    pthread_mutex_unlock(&s->lock);
    return ok;
}

void rl_table_stats_get(rl_table *t, rl_table_stats *out) {
    out->keys = 0;
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_lock(&t->stripes[i].lock);
        out->keys += t->stripes[i].count;
        pthread_mutex_unlock(&t->stripes[i].lock);
    }
    out->expired = atomic_load_explicit(&t->expired, memory_order_relaxed);
    out->evicted = atomic_load_explicit(&t->evicted, memory_order_relaxed);
}
