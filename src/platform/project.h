/* project — turning a Worker's project directory (its wrangler config and files) into a
 * runnable worker_version: config, module graph, compilation, and a trial run of its
 * top-level code. Used by `hearth dev`; later by the CLI's uploads. */
#ifndef HEARTH_PLATFORM_PROJECT_H
#define HEARTH_PLATFORM_PROJECT_H

#include <stddef.h>

#include "config/wrangler.h"
#include "js/engine.h"
#include "platform/worker.h"

typedef struct project_build_result {
    worker_version *version;  /* on success (one reference, the caller's) */
    config_diag diag;         /* config errors and warnings */
    char *error;              /* compile or load error, formatted with file:line:col */
    char **watched;           /* every path the build read or looked for */
    size_t watched_count;
    size_t module_count;
} project_build_result;

/* Builds the project in `dir` on the compiler shard. Returns 0 or -1 (see res->diag and
 * res->error); res must be freed with project_build_result_free either way. */
int project_build(js_shard *compiler, const char *dir, const char *version_id,
                  project_build_result *res);
void project_build_result_free(project_build_result *res);

#endif
