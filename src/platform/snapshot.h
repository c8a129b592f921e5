/* snapshot — the immutable routing table the loop threads serve from.
 *
 * The control side (dev's file watcher, serve's control plane) builds a new snapshot and
 * publishes it; each loop thread is woken, takes a reference to the newest snapshot and drops
 * its old one. Requests already running keep a reference to the worker version they started
 * on, so a publish never blocks or drops a request.
 *
 * A snapshot holds scripts (named Workers). Each has the split of its active deployment (one
 * or two versions with percentages) and every version it has, for preview URLs. Requests reach
 * a script by host name, by route pattern, or as the default script. */
#ifndef HEARTH_PLATFORM_SNAPSHOT_H
#define HEARTH_PLATFORM_SNAPSHOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/route_pattern.h"
#include "platform/worker.h"

typedef struct split_entry {
    worker_version *version;
    double percentage;
} split_entry;

typedef struct script_entry {
    char *name;
    /* The active deployment, oldest version first (see snapshot_pick_version). */
    split_entry split[2];
    size_t split_count; /* 0: nothing deployed (previews only) */
    worker_version **versions;
    size_t version_count;
    struct tail_session **tails; /* live tail sessions watching it (references) */
    size_t tail_count;
} script_entry;

typedef struct route_entry {
    char *pattern; /* as given, e.g. "api.example.com/<star>" (a star: any suffix) */
    route_pattern parsed;
    script_entry *script;
} route_entry;

typedef struct snapshot {
    atomic_int refs;
    uint64_t generation;
    script_entry *scripts;
    size_t script_count;
    route_entry *routes;
    size_t route_count;
    script_entry *default_script; /* serves requests nothing else matched; may be NULL */
    char *domain; /* "<script>.<domain>" hosts; NULL: the host's first label names the script */
} snapshot;

/* ---- building (by one thread, before publishing) ----------------------------------------- */

snapshot *snapshot_new(const char *domain);
script_entry *snapshot_add_script(snapshot *s, const char *name);
/* Takes a reference to v. */
void snapshot_add_version(script_entry *se, worker_version *v);
/* The active split: one version at 100, or two whose percentages sum to 100. The versions must
 * have been added. Entries are kept oldest version (lowest number) first. */
void snapshot_set_split(script_entry *se, worker_version *a, double pa, worker_version *b,
                        double pb);
/* Returns -1 (with a message) for a pattern that cannot be parsed. */
int snapshot_add_route(snapshot *s, const char *pattern, script_entry *se, char *err,
                       size_t errlen);
void snapshot_set_default(snapshot *s, script_entry *se);
script_entry *snapshot_find_script(const snapshot *s, const char *name, size_t len);
/* Takes a reference to the session. */
void snapshot_add_tail(script_entry *se, struct tail_session *t);

snapshot *snapshot_ref(snapshot *s);
void snapshot_unref(snapshot *s);

/* The process-wide current snapshot. publish takes over the caller's reference. */
void snapshot_publish(snapshot *s);
/* A new reference to the current snapshot (NULL before the first publish). */
snapshot *snapshot_current(void);

/* ---- serving ------------------------------------------------------------------------------- */

typedef struct route_result {
    script_entry *script;
    worker_version *preview; /* set for a preview URL: serve exactly this version */
} route_result;

/* Where a request for host (without port) and path goes. False if nowhere. */
bool snapshot_route(const snapshot *s, const char *host, size_t host_len, const char *path,
                    size_t path_len, route_result *out);

/* The version of the script's active deployment that serves a request, given the raw values
 * of its Cloudflare-Workers-Version-Overrides and -Key headers (NULL when absent) and a random
 * number for requests with neither. NULL if nothing is deployed. */
worker_version *snapshot_pick_version(const script_entry *se, const char *overrides,
                                      size_t overrides_len, const char *key, size_t key_len,
                                      uint64_t random);

/* The point in [0, 100) a Version-Key maps to. */
double version_key_point(const char *key, size_t len);

#endif
