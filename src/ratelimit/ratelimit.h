/* ratelimit — the limiter behind `env.X.limit({ key })` (docs/rate-limiting.md).
 *
 * One `ratelimiter` per process holds the backend choice, the embedded counter table and the
 * statistics; each loop thread makes its own `ratelimit_thread` from it, which for the
 * memcached backend owns that thread's connections. A decision is a sliding-window counter
 * (window.h) per (namespace_id, period, key): Workers and versions whose bindings share a
 * namespace_id share counters, and with memcached so do all processes using the same servers.
 *
 * When the backend cannot answer (memcached down or slow), the request is allowed ("fail
 * open", the default) or refused ("fail closed"), the error is counted, and a line is logged
 * at most every RATELIMIT_LOG_INTERVAL_MS. */
#ifndef HEARTH_RATELIMIT_RATELIMIT_H
#define HEARTH_RATELIMIT_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"

#define RATELIMIT_LOG_INTERVAL_MS 10000

typedef struct ratelimit_options {
    const char *backend; /* "embedded" (NULL too) or "memcached://host:port[,host:port...]" */
    bool fail_closed;    /* refuse, rather than allow, when the backend cannot answer */
    size_t max_keys;     /* embedded: keys kept at most (0: the default) */
    uint32_t timeout_ms; /* memcached: a decision waits this long at most (0: 250 ms) */
    /* Unix time in milliseconds; NULL for the real clock. Tests move time themselves. */
    uint64_t (*clock_ms)(void *arg);
    void *clock_arg;
} ratelimit_options;

typedef struct ratelimiter ratelimiter;
typedef struct ratelimit_thread ratelimit_thread;

/* Validates the options (a bad backend spec is an error naming what is wrong). */
ratelimiter *ratelimiter_new(const ratelimit_options *o, char *err, size_t errlen);
void ratelimiter_free(ratelimiter *r);
/* "embedded" or the memcached spec, for messages. */
const char *ratelimiter_backend(const ratelimiter *r);

/* For the thread running `loop`. */
ratelimit_thread *ratelimit_thread_new(ratelimiter *r, uv_loop_t *loop);
/* Closes the thread's connections (pending decisions are made by the failure mode, their
 * callbacks called before this returns); call before the loop closes its handles. */
void ratelimit_thread_close(ratelimit_thread *t);

typedef void (*ratelimit_cb)(void *arg, bool success);

/* One call of limit(): namespace_id (a decimal string), the caller's key (any bytes), and the
 * binding's limit and period. Returns 1 (allowed) or 0 (limited) when decided at once, or -1
 * when `cb` will be called later, from the thread's loop, never from inside this call. */
int ratelimit_check(ratelimit_thread *t, const char *namespace_id, const char *key, size_t key_len,
                    uint32_t limit, uint32_t period_s, ratelimit_cb cb, void *arg);

/* Counters of one namespace (for tests; /metrics shows all). */
typedef struct ratelimit_counts {
    uint64_t allowed, limited, errors;
} ratelimit_counts;
void ratelimiter_counts(ratelimiter *r, const char *namespace_id, ratelimit_counts *out);

/* Prometheus text: per-namespace decisions, backend errors and latency, embedded table size. */
void ratelimiter_render_prometheus(ratelimiter *r, buf *out);

#endif
