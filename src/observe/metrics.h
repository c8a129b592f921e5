/* metrics — per worker-version request accounting, for Prometheus (/metrics) and for the
 * per-minute analytics the control API serves (and automatic rollback will read).
 *
 * Recording is on the request path of every shard, so it must be cheap and never contend:
 * each version keeps one block of counters per shard, written only by that shard's thread
 * (relaxed atomic stores, no locks); readers (the admin thread) sum the blocks. */
#ifndef HEARTH_OBSERVE_METRICS_H
#define HEARTH_OBSERVE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Shards a version can be recorded from: indexes 0 .. METRICS_MAX_SHARDS-1. */
#define METRICS_MAX_SHARDS 64
/* Minutes of per-minute series kept. */
#define METRICS_MINUTES 360

typedef enum metrics_outcome {
    METRICS_OK,
    METRICS_EXCEPTION,
    METRICS_EXCEEDED_CPU,
    METRICS_EXCEEDED_MEMORY,
    METRICS_CANCELED,
    METRICS_OUTCOMES,
} metrics_outcome;

/* "ok", "exception", "exceededCpu", "exceededMemory", "canceled"; the inverse maps unknown
 * names to METRICS_EXCEPTION. */
const char *metrics_outcome_name(metrics_outcome o);
metrics_outcome metrics_outcome_from_name(const char *name);

typedef struct version_metrics version_metrics;
typedef struct metrics_registry metrics_registry;

metrics_registry *metrics_registry_new(void);
void metrics_registry_free(metrics_registry *r);

/* The metrics of (worker, version_id), created on first use, as a new reference the caller
 * releases with metrics_version_unref. Thread-safe. Callers on the request path look it up
 * once (when a version is loaded) and keep it for the version's life. */
version_metrics *metrics_registry_get(metrics_registry *r, const char *worker,
                                      const char *version_id);
void metrics_version_unref(version_metrics *m);
/* Stops listing every version of a deleted worker; requests still running on one of them
 * keep recording into it (unlisted) until they release it. */
void metrics_registry_forget_worker(metrics_registry *r, const char *worker);

/* One finished invocation. status is the HTTP status sent (0 if none). now_ms is Unix time in
 * milliseconds (for the per-minute series). Called only by shard `shard` for a given block. */
void metrics_record(version_metrics *m, unsigned shard, metrics_outcome outcome, int status,
                    uint64_t wall_ns, uint64_t cpu_ns, uint64_t now_ms);

/* Totals of one version (for tests and for rollback logic). */
typedef struct metrics_totals {
    uint64_t requests;
    uint64_t by_outcome[METRICS_OUTCOMES];
    uint64_t by_status_class[6]; /* [0] no status, [1] 1xx ... [5] 5xx */
    uint64_t exceptions;
} metrics_totals;
void metrics_totals_get(version_metrics *m, metrics_totals *out);

/* Prometheus text exposition format, version 0.0.4, of every version in the registry:
 *   hearth_requests_total{worker,version,outcome,status}   counter (status: "2xx", ..., "none")
 *   hearth_exceptions_total{worker,version}                counter
 *   hearth_request_wall_seconds{worker,version}            histogram (_bucket{le}, _sum, _count)
 *   hearth_request_cpu_seconds{worker,version}             histogram
 * with # HELP and # TYPE lines. Label values are escaped as the format requires. */
void metrics_render_prometheus(metrics_registry *r, buf *out);

/* Per-minute series of a worker's versions (all, or only version_id when not NULL) between
 * since_ms and until_ms (Unix ms), as the JSON of docs/api.md's analytics `result`:
 * {"since","until","versions":[{"version_id","points":[{"minute","requests","errors",
 *  "wall_ms":{"p50","p99"},"cpu_ms":{"p50","p99"}}]}]}. Minutes without requests are omitted;
 * p50/p99 are estimated from histogram buckets (state the precision in the .c). "errors" counts
 * outcomes other than ok plus 5xx statuses. */
void metrics_analytics_json(metrics_registry *r, const char *worker, const char *version_id,
                            uint64_t since_ms, uint64_t until_ms, buf *out);

#endif
