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
    worker_version *version; /* on success (one reference, the caller's) */
    config_diag diag;        /* config errors and warnings */
    char *error;             /* compile or load error, formatted with file:line:col */
    char **watched;          /* every path the build read or looked for */
    size_t watched_count;
    size_t module_count;
} project_build_result;

/* Builds the project in `dir` (with the config of environment `env`, or NULL for the top
 * level) on the compiler shard. Returns 0 or -1 (see res->diag and
 * res->error); res must be freed with project_build_result_free either way. */
int project_build(js_shard *compiler, const char *dir, const char *env, const char *version_id,
                  project_build_result *res);
void project_build_result_free(project_build_result *res);

/* A project as it is uploaded: its configuration and every module its main module reaches
 * (in the order the compiler found them, main first), with the source map of each module
 * that has one when the config says upload_source_maps = true (a file named like the module
 * plus ".map", or the file a `//# sourceMappingURL=` comment names). */
typedef struct project_module {
    char *name; /* relative to the project directory, e.g. "src/index.js" */
    js_module_kind kind;
    char *data;
    size_t len;
    char *source_map; /* the map's JSON, or NULL */
    size_t source_map_len;
} project_module;

typedef struct project_bundle {
    worker_config config;    /* loaded and validated */
    project_module *modules; /* modules[0] is the main module */
    size_t module_count;
    config_diag diag;
    char *error; /* compile error (file:line:col), when loading failed */
} project_bundle;

/* Loads and compiles the project in `dir` (validating it as project_build does, but without
 * running its top-level code). Returns 0 or -1 (see diag and error); free with
 * project_bundle_free either way. */
int project_collect(js_shard *compiler, const char *dir, const char *env, project_bundle *out);
void project_bundle_free(project_bundle *b);

#endif
