/* control — the control plane of `hearth serve`: a thread of its own with a libuv loop that
 * serves the control API on the admin address, owns the store and a compiler context, keeps
 * every stored version compiled, and publishes a new routing snapshot after every change.
 *
 * The data plane never waits for it: shards pick up snapshots between requests. */
#ifndef HEARTH_PLATFORM_CONTROL_H
#define HEARTH_PLATFORM_CONTROL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "js/engine.h"
#include "net/http_server.h"
#include "observe/metrics.h"
#include "platform/server.h"
#include "platform/store.h"
#include "platform/worker.h"

typedef struct control_config {
    const char *data_dir;
    const char *domain;         /* "<script>.<domain>" hosts */
    const char *default_worker; /* serves hosts nothing else matched; may be NULL */
    char admin_ip[64];
    int admin_port;        /* 0 picks a free port */
    hearth_server *server; /* the data plane to notify */
    metrics_registry *metrics;
    size_t max_upload_bytes;
} control_config;

typedef struct control control;

/* Opens the store (creating the account and the first admin token, printed once), compiles
 * every stored version, publishes the first snapshot and starts serving the control API.
 * Returns 0 (and the bound admin port), or -1 with err. */
int control_start(const control_config *cfg, control **out, int *admin_port, char *err,
                  size_t errlen);
void control_stop(control *c);

/* ---- for the API handlers (control thread only) ------------------------------------------- */

struct control {
    control_config cfg;
    store *store;
    js_shard *compiler;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t stop_async;
    http_server *http;
    int admin_fd;
    worker_version **versions; /* every stored version, compiled */
    size_t version_count;
};

/* A module of an upload or a stored version. */
typedef struct control_module {
    const char *name;
    js_module_kind kind;
    const char *data;
    size_t len;
} control_module;

/* Compiles a set of modules into a worker version (without running it), for script `script`
 * and version `version` (the store's API-shaped object, with its internal "_" fields).
 * Returns NULL with err (file:line:col) on failure. */
worker_version *control_compile(control *c, const char *script, json_t *version,
                                const control_module *modules, size_t count, char **error);
/* Runs a version's top-level code once in a throwaway realm. 0, or -1 with *error. */
int control_trial_run(control *c, worker_version *v, char **error);
/* Keeps v (compiled) under its id; takes the reference. */
void control_add_version(control *c, worker_version *v);
/* Forgets every version of a script. */
void control_forget_script(control *c, const char *script);
/* Rebuilds the routing snapshot from the store and publishes it; returns once every shard
 * serves from it. */
void control_publish(control *c);

/* The module kind for an upload part's Content-Type (docs/api.md); -1 if not a module type. */
int control_kind_for_content_type(const char *content_type);
const char *control_content_type_for_kind(js_module_kind kind);

/* The SHA-256 (hex) under which an API token is stored. */
void token_hash(const char *token, char out[65]);

/* api.c: answers one control API request. */
void api_handle(control *c, http_request *req);

#endif
