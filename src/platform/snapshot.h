/* snapshot — the immutable routing table the loop threads serve from.
 *
 * The control side (dev's file watcher, later the deploy API) builds a new snapshot and
 * publishes it; each loop thread is woken, takes a reference to the newest snapshot and drops
 * its old one. Requests already running keep a reference to the worker version they started
 * on, so a publish never blocks or drops a request. */
#ifndef HEARTH_PLATFORM_SNAPSHOT_H
#define HEARTH_PLATFORM_SNAPSHOT_H

#include <stdatomic.h>
#include <stddef.h>

#include "platform/worker.h"

typedef struct snapshot {
    atomic_int refs;
    uint64_t generation;
    worker_version **workers; /* one live version per Worker, for now */
    size_t worker_count;
    worker_version *default_worker; /* serves requests no route matched; may be NULL */
} snapshot;

/* Takes a reference to each version. */
snapshot *snapshot_new(worker_version **workers, size_t count, worker_version *default_worker);
snapshot *snapshot_ref(snapshot *s);
void snapshot_unref(snapshot *s);

/* The process-wide current snapshot. publish takes over the caller's reference. */
void snapshot_publish(snapshot *s);
/* A new reference to the current snapshot (NULL before the first publish). */
snapshot *snapshot_current(void);

/* The Worker serving `host` (Host header without port) in this snapshot. */
worker_version *snapshot_route(const snapshot *s, const char *host, size_t host_len);

#endif
