/* embedded — the in-process rate limit backend: one table of sliding-window counters shared
 * by every thread of the process.
 *
 * The table is split into stripes, each with its own lock and hash table, so threads only
 * contend when they touch keys of the same stripe, and only for the few instructions of one
 * decision. Memory is bounded: a key idle for two periods counts for nothing and is dropped
 * by an incremental sweep that every insertion advances; when a stripe is full anyway, the
 * least recently used of a few sampled keys is evicted (its count is forgotten, which can only
 * admit more, never fewer: this is counted in `evicted`). */
#ifndef HEARTH_RATELIMIT_EMBEDDED_H
#define HEARTH_RATELIMIT_EMBEDDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rl_table rl_table;

/* max_keys bounds the number of keys kept (0: the default, 1 048 576 — about 100 MiB with
 * the longest keys). */
rl_table *rl_table_new(size_t max_keys);
void rl_table_free(rl_table *t);

/* One request for `key` (any bytes; callers pass the canonical key: namespace, period and
 * the user's key) under `limit` per `period_s` at time now_ms. Counts it and returns true
 * when allowed; returns false, counting nothing, when it is over the limit. Thread-safe. */
bool rl_table_hit(rl_table *t, const char *key, size_t key_len, uint32_t limit, uint32_t period_s,
                  uint64_t now_ms);

typedef struct rl_table_stats {
    uint64_t keys;    /* kept now */
    uint64_t expired; /* dropped after two idle periods */
    uint64_t evicted; /* dropped while still counting, because the table was full */
} rl_table_stats;
void rl_table_stats_get(rl_table *t, rl_table_stats *out);

#endif
