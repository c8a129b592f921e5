/* wrangler — a Worker's configuration, read from wrangler.toml, wrangler.json or
 * wrangler.jsonc in its project directory, validated, with `.dev.vars` secrets merged in.
 *
 * Errors name the file, line and key and say what form was expected; keys hearth does not
 * know (or knows but does not support) produce warnings, never silence. */
#ifndef HEARTH_CONFIG_WRANGLER_H
#define HEARTH_CONFIG_WRANGLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "config/value.h"
#include "js/engine.h"

typedef struct module_rule {
    js_module_kind kind;
    char **globs;
    size_t glob_count;
    bool fallthrough;
} module_rule;

typedef struct worker_config {
    char *file; /* path of the config file */
    char *dir;  /* the project directory: module paths are relative to it */
    char *name;
    char *main; /* entry module, relative to dir */
    char *compatibility_date;
    char **compatibility_flags;
    size_t compatibility_flag_count;
    uint64_t cpu_ms; /* [limits] cpu_ms, 0 when not set */
    bool upload_source_maps;
    bool observability;        /* [observability] enabled: trace events are stored */
    double head_sampling_rate; /* [observability] head_sampling_rate, 0..1 (default 1) */
    char **tail_consumers;     /* tail_consumers = [{ service = "..." }] */
    size_t tail_consumer_count;
    char **crons; /* [triggers] crons = ["0 * * * *", ...], each checked by cron_parse */
    size_t cron_count;
    module_rule *rules; /* user rules first, then wrangler's defaults */
    size_t rule_count;
    char *bindings_json; /* Cloudflare upload-metadata form: vars, .dev.vars secrets, ... */
    cfg_value *doc;      /* the parsed document, for keys later stages read */
} worker_config;

/* Diagnostics collected while loading: one line per problem, "file:line: message". */
typedef struct config_diag {
    buf text;
    int errors;
    int warnings;
} config_diag;

/* Finds and loads the config of the project in `dir`. `env` chooses an environment
 * ([env.NAME], as wrangler's --env does), or NULL for the top level. Returns 0, or -1 when
 * there were errors (all of them are in d; warnings are there either way). */
int worker_config_load(const char *dir, const char *env, worker_config *out, config_diag *d);
void worker_config_free(worker_config *c);
void config_diag_free(config_diag *d);

/* The secrets file `hearth dev` reads for `env` (.dev.vars.<env>, else .dev.vars); NULL when
 * there is none. Freed by the caller. */
char *worker_config_dev_vars_path(const char *dir, const char *env);

/* The module kind the rules give `path` ("src/a.txt"); -1 if no rule matches. */
int worker_config_module_kind(const worker_config *c, const char *path);

#endif
