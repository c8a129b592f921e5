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

/* A live tail session and the WebSocket of its client (control_tails.c). */
typedef struct control_tail {
    struct tail_session *session;
    struct ws_conn *ws; /* NULL until the client connects */
    bool active;        /* the client sent its filters: events flow */
    struct control *c;
    uint64_t created_ms;
} control_tail;

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
    control_tail **tails; /* live tail sessions */
    size_t tail_count;
    uv_async_t tail_async; /* a session has messages queued */
    uv_timer_t tail_timer; /* notices, expiry */
    bool stopping;         /* shutting down: nothing is published any more */
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
/* Decodes the source maps of an upload: each map part is named after its module plus ".map"
 * ("src/index.js.map" for "src/index.js"). *out is NULL when there are none. 0, or -1 with
 * *error naming the map and what is wrong with it. */
struct sourcemap_set;
int control_decode_source_maps(const control_module *maps, size_t map_count,
                               const control_module *modules, size_t module_count,
                               struct sourcemap_set **out, char **error);
/* Runs a version's top-level code once in a throwaway realm. 0, or -1 with *error. */
int control_trial_run(control *c, worker_version *v, char **error);
/* Keeps v (compiled) under its id; takes the reference. */
void control_add_version(control *c, worker_version *v);
/* Forgets every version of a script. */
void control_forget_script(control *c, const char *script);

/* Tail sessions (control_tails.c). Sessions last TAIL_SESSION_TTL_MS from their creation. */
#define TAIL_SESSION_TTL_MS (6u * 3600 * 1000)
void control_tails_init(control *c);
/* Frees what is left of the sessions once the control loop has stopped. */
void control_tails_free(control *c);
control_tail *control_tail_create(control *c, const char *script);
control_tail *control_tail_find(control *c, const char *script, const char *id);
/* Closes the client's WebSocket (if any) with `code`/`reason` and forgets the session. */
void control_tail_end(control *c, control_tail *t, int code, const char *reason);
/* Ends every session of a script (deleted). */
void control_tails_end_script(control *c, const char *script);
/* Takes over req as the session's WebSocket (the API already checked it). */
void control_tail_connect(control *c, control_tail *t, http_request *req);
/* Adds the live sessions to a snapshot being built. */
struct snapshot;
void control_tails_publish(control *c, struct snapshot *snap);
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
