#include "platform/worker.h"

#include <stdlib.h>

#include "base/alloc.h"
#include "observe/metrics.h"
#include "observe/sourcemap.h"
#include "platform/cron.h"

static atomic_uint_fast64_t next_serial = 1;

void worker_limits_defaults(worker_limits *l) {
    l->cpu_ms = 30000;
    l->memory_bytes = 128u * 1024 * 1024;
}

worker_version *worker_version_new(const char *worker_name, const char *version_id,
                                   js_program *program, char *bindings_json, char *worker_json,
                                   const worker_limits *limits) {
    worker_version *v = xcalloc(1, sizeof *v);
    atomic_init(&v->refs, 1);
    v->serial = atomic_fetch_add(&next_serial, 1);
    v->worker_name = xstrdup(worker_name);
    v->version_id = xstrdup(version_id);
    v->program = program;
    v->bindings_json = bindings_json;
    v->worker_json = worker_json;
    v->limits = *limits;
    v->head_sampling_rate = 1.0;
    return v;
}

worker_version *worker_version_ref(worker_version *v) {
    atomic_fetch_add(&v->refs, 1);
    return v;
}

void worker_version_unref(worker_version *v) {
    if (!v || atomic_fetch_sub(&v->refs, 1) != 1) return;
    js_program_unref(v->program);
    metrics_version_unref(v->metrics);
    if (v->source_maps) sourcemap_set_free(v->source_maps);
    free(v->worker_name);
    free(v->version_id);
    free(v->bindings_json);
    free(v->worker_json);
    free(v->tag);
    free(v->message);
    for (size_t i = 0; i < v->tail_consumer_count; i++) free(v->tail_consumers[i]);
    free(v->tail_consumers);
    for (size_t i = 0; i < v->cron_count; i++) free(v->cron_texts[i]);
    free(v->cron_texts);
    free(v->crons);
    free(v->created_on);
    free(v);
}

void worker_version_set_crons(worker_version *v, char *const *texts, size_t count) {
    v->cron_texts = count ? xcalloc(count, sizeof *v->cron_texts) : NULL;
    v->crons = count ? xcalloc(count, sizeof *v->crons) : NULL;
    v->cron_count = 0;
    for (size_t i = 0; i < count; i++) {
        char err[200];
        if (cron_parse(texts[i], &v->crons[v->cron_count], err, sizeof err) != 0) continue;
        v->cron_texts[v->cron_count++] = xstrdup(texts[i]);
    }
}

void worker_version_set_tail_consumers(worker_version *v, char *const *names, size_t count) {
    v->tail_consumers = count ? xcalloc(count, sizeof *v->tail_consumers) : NULL;
    for (size_t i = 0; i < count; i++) v->tail_consumers[i] = xstrdup(names[i]);
    v->tail_consumer_count = count;
}
