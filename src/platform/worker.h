/* worker_version — one immutable, runnable version of a Worker: its compiled program, its
 * bindings and limits. Loop threads instantiate it lazily as a realm; it is freed when the
 * last routing snapshot and the last in-flight request let go of it. */
#ifndef HEARTH_PLATFORM_WORKER_H
#define HEARTH_PLATFORM_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "js/engine.h"

struct version_metrics;
struct sourcemap_set;

typedef struct worker_limits {
    uint64_t cpu_ms;       /* per-invocation CPU time; default 30000 */
    uint64_t memory_bytes; /* per-realm heap; default 128 MiB */
} worker_limits;

typedef struct worker_version {
    atomic_int refs;
    uint64_t serial; /* process-unique; realm caches key on it */
    char *worker_name;
    char *version_id; /* UUID in `serve`; "dev-N" in `dev` */
    js_program *program;
    char *bindings_json; /* Cloudflare upload-metadata bindings array */
    char *worker_json;   /* facts for the runtime: {"name":..., "dev":true, ...} */
    worker_limits limits;
    /* Set by the creator after worker_version_new (all optional): */
    int64_t number;                  /* the version's number within its Worker; orders a split */
    char *tag;                       /* workers/tag annotation */
    char *created_on;                /* RFC 3339 */
    struct version_metrics *metrics; /* where its invocations are counted (a reference) */
    char *message;                   /* workers/message annotation */
    /* Observability: trace events are made for its invocations when it stores them, has Tail
     * Workers, or a tail session watches its Worker. */
    bool store_logs;           /* [observability] enabled */
    double head_sampling_rate; /* share of invocations stored, 0..1 */
    char **tail_consumers;     /* names of Workers whose tail() gets its events */
    size_t tail_consumer_count;
    /* [triggers] crons: when its scheduled() runs (while it is deployed). */
    char **cron_texts;
    struct cron_expr *crons;
    size_t cron_count;
    struct sourcemap_set *source_maps; /* of its modules, for stack traces (owned; may be NULL) */
} worker_version;

void worker_limits_defaults(worker_limits *l);

/* Takes ownership of program and the strings. */
worker_version *worker_version_new(const char *worker_name, const char *version_id,
                                   js_program *program, char *bindings_json, char *worker_json,
                                   const worker_limits *limits);
worker_version *worker_version_ref(worker_version *v);
void worker_version_unref(worker_version *v);
/* Copies the names into v->tail_consumers. */
void worker_version_set_tail_consumers(worker_version *v, char *const *names, size_t count);
/* Parses and keeps the cron expressions (already validated; an invalid one is skipped). */
void worker_version_set_crons(worker_version *v, char *const *texts, size_t count);

#endif
