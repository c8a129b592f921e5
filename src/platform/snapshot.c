#include "platform/snapshot.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

/* A mutex rather than a lock-free pointer: loop threads take it once per publish (not per
 * request), so it is never contended on the hot path and the reference count can never race
 * with the final unref. */
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static snapshot *current;
static uint64_t generation;

snapshot *snapshot_new(worker_version **workers, size_t count, worker_version *default_worker) {
    snapshot *s = xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    s->workers = xcalloc(count ? count : 1, sizeof *s->workers);
    for (size_t i = 0; i < count; i++) s->workers[i] = worker_version_ref(workers[i]);
    s->worker_count = count;
    s->default_worker = default_worker ? worker_version_ref(default_worker) : NULL;
    return s;
}

snapshot *snapshot_ref(snapshot *s) {
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void snapshot_unref(snapshot *s) {
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    for (size_t i = 0; i < s->worker_count; i++) worker_version_unref(s->workers[i]);
    worker_version_unref(s->default_worker);
    free(s->workers);
    free(s);
}

void snapshot_publish(snapshot *s) {
    pthread_mutex_lock(&current_lock);
    snapshot *old = current;
    s->generation = ++generation;
    current = s;
    pthread_mutex_unlock(&current_lock);
    snapshot_unref(old);
}

snapshot *snapshot_current(void) {
    pthread_mutex_lock(&current_lock);
    snapshot *s = current ? snapshot_ref(current) : NULL;
    pthread_mutex_unlock(&current_lock);
    return s;
}

worker_version *snapshot_route(const snapshot *s, const char *host, size_t host_len) {
    /* `<worker>.<anything>` selects a Worker by name; otherwise the default one serves. */
    for (size_t i = 0; i < s->worker_count; i++) {
        const char *name = s->workers[i]->worker_name;
        size_t n = strlen(name);
        if (host_len > n && host[n] == '.' && strncasecmp(host, name, n) == 0)
            return s->workers[i];
    }
    return s->default_worker;
}
