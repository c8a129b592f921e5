/* shard — one event-loop thread: a libuv loop, a JavaScript context, an HTTP server on its own
 * SO_REUSEPORT socket, and the realms of the Workers it has served.
 *
 * Everything in a shard is touched only by its own thread, except the few atomics the
 * watchdog and the publisher use to reach it (cpu_deadline_ns, the wakeup async). */
#ifndef HEARTH_PLATFORM_SHARD_H
#define HEARTH_PLATFORM_SHARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "base/buf.h"
#include "js/engine.h"
#include "net/http_server.h"
#include "platform/snapshot.h"

typedef struct hearth_server hearth_server;
typedef struct invocation invocation;

/* A realm of one worker version in this shard. A version has at most one live entry; entries
 * of replaced versions or of realms broken by a limit stay until their last request ends. */
typedef struct realm_entry {
    worker_version *version;
    js_realm *realm;
    int inflight;          /* invocations running on it */
    bool retired;          /* no longer serves new requests */
    uint64_t last_used_ms; /* loop time of its last request (idle realms of undeployed
                            * versions are unloaded) */
    struct realm_entry *next;
} realm_entry;

typedef struct shard {
    unsigned index;
    hearth_server *server;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wakeup;
    uv_check_t flush_check;
    uv_timer_t idle_timer; /* unloads realms of versions that are only reachable by preview */
    uv_timer_t cron_timer; /* shard 0: runs cron triggers (cron_scheduler.c) */
    uv_idle_t tail_idle;   /* runs queued Tail Worker batches (tail_workers.c) */
    struct tail_batch *tail_batches;
    struct ratelimit_thread *ratelimit; /* this thread's side of the rate limiter */
    struct http_client *http_client;    /* outbound fetch() (src/net/http_client.c) */
    struct fetch_job *fetch_jobs;       /* fetches in flight (fetch_ops.c) */
    atomic_bool snapshot_changed;
    atomic_uint_fast64_t snapshot_generation; /* of the snapshot this shard serves from */
    atomic_bool stop_requested;
    atomic_bool tasks_ready; /* the engine has background work to finish on this thread */
    bool stopping;
    uv_timer_t stop_timer;
    uint64_t stop_started_ms;
    js_shard *js;
    size_t body_bytes_since_gc; /* see shard_note_body_bytes */
    uv_mutex_t js_lock; /* held by the watchdog while it interrupts, and while js is freed */
    http_server *http;
    int listen_fd;
    snapshot *snap;
    realm_entry *realms; /* retired entries are freed by the loop's check phase, never
                          * while JavaScript runs */
    invocation *running; /* whose JavaScript runs now (NULL between dispatches) */
    /* Invocations and timers by slot; ids carry a generation so stale ids never match. */
    invocation **invocations;
    uint32_t invocation_cap;
    uint32_t invocation_gen;
    struct shard_timer **timers;
    uint32_t timer_cap;
    uint32_t timer_gen;
    /* CPU-limit watch (server.c's watchdog), on the thread's CPU clock. Reading that clock is
     * a system call (~0.4 µs), too dear for every dispatch: a dispatch publishes its start on
     * the monotonic clock (vDSO, ~20 ns) and its CPU budget; the watchdog, finding one still
     * running, reads the CPU clock once and sets the deadline ("engages"), counting the time
     * the dispatch already ran as CPU. A dispatch the watchdog never saw (shorter than its
     * 5 ms period, mostly) counts its wall time as CPU time; one it saw is measured on the
     * CPU clock from then on. cpu_watch_lock guards the dispatch_* and engaged_* fields. */
    clockid_t cpu_clock;
    uv_mutex_t cpu_watch_lock;
    uint64_t dispatch_start_ns;  /* monotonic (uv_hrtime) start of the dispatch running, or 0 */
    uint64_t dispatch_budget_ns; /* its CPU budget */
    uint64_t engaged_wall_ns;    /* when the watchdog engaged it (0: not yet) */
    uint64_t engaged_cpu_ns;     /* the thread's CPU clock then */
    atomic_uint_fast64_t cpu_deadline_ns; /* CPU-clock deadline of the code running now, 0: none */
    uint64_t rng;                         /* state of the version-split random numbers */
    /* Log lines (access log, console) collected during a loop turn, written once. */
    buf out, err;
} shard;

/* On the shard's own thread: creates its engine context and HTTP server (0, or -1 with err),
 * then runs its loop until stopped and frees what the loop owned. */
int shard_thread_setup(shard *sh, char *err, size_t errlen);
void shard_thread_run(shard *sh);

/* The shard of the calling op or callback. */
shard *shard_of(js_call *c);
/* A random number from the shard's own generator (no locking: the shard's thread only). */
uint64_t shard_random(shard *sh);

/* The realm entry serving `v` in this shard, creating its realm if needed. Returns NULL and
 * fills *err if the Worker's top-level code fails. */
realm_entry *shard_realm_for(shard *sh, worker_version *v, js_error *err);
void shard_realm_release(shard *sh, realm_entry *e);

/* Runs `kind` in the entry's realm on behalf of invocation `inv` (may be NULL), under the
 * invocation's CPU budget. */
js_result shard_dispatch(shard *sh, realm_entry *e, invocation *inv, const char *kind,
                         const js_args *args, js_error *err, const char **reason);

uint64_t thread_cpu_ns(clockid_t clock);

/* Log output, flushed once per loop turn. */
/* n bytes of a body crossed between C and JavaScript (a chunk written out, or handed in):
 * garbage for the engine soon after. Its malloc trigger lets ~60 MiB of such chunks pile up
 * before it collects, so a long stream would grow the process by that much; instead, every
 * 2 MiB the zone of the realm running next is collected (a small zone takes well under a
 * millisecond), and a 1 GiB stream grows the process by a few MiB. */
void shard_note_body_bytes(shard *sh, size_t n);

void shard_log(shard *sh, bool to_stderr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
