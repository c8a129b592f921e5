#include "platform/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "net/listen.h"
#include "observe/metrics.h"
#include "ratelimit/ratelimit.h"

/* How often the watchdog looks at the running JavaScript; the CPU limit is enforced to within
 * about this much. */
#define WATCHDOG_PERIOD_MS 5

void server_config_defaults(server_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->ip, sizeof cfg->ip, "127.0.0.1");
    cfg->port = 8787;
    http_server_config_defaults(&cfg->http);
    cfg->access_log = true;
    cfg->shutdown_grace_ms = 10000;
    cfg->realm_heap_limit = 128u * 1024 * 1024;
    cfg->unload_idle_ms = 30000;
    cfg->ws_max_message = 1024 * 1024;
}

static void watchdog_main(void *arg) {
    hearth_server *srv = arg;
    struct timespec period = {0, WATCHDOG_PERIOD_MS * 1000000L};
    while (!atomic_load(&srv->watchdog_stop)) {
        nanosleep(&period, NULL);
        for (unsigned i = 0; i < srv->shard_count; i++) {
            shard *sh = srv->shards[i];
            /* A dispatch running since before this tick: put it on the CPU clock (shard.h). */
            uv_mutex_lock(&sh->cpu_watch_lock);
            if (sh->dispatch_start_ns && !sh->engaged_wall_ns) {
                uint64_t cpu = thread_cpu_ns(sh->cpu_clock), now = uv_hrtime();
                uint64_t ran = now - sh->dispatch_start_ns; /* counted as CPU: at most that */
                sh->engaged_cpu_ns = cpu;
                sh->engaged_wall_ns = now;
                uint64_t budget = sh->dispatch_budget_ns;
                atomic_store(&sh->cpu_deadline_ns, cpu + (ran < budget ? budget - ran : 1));
            }
            uv_mutex_unlock(&sh->cpu_watch_lock);
            uint64_t deadline = atomic_load(&sh->cpu_deadline_ns);
            if (!deadline || thread_cpu_ns(sh->cpu_clock) < deadline) continue;
            /* Interrupt once per breach: the shard clears the deadline when it is done. */
            if (atomic_compare_exchange_strong(&sh->cpu_deadline_ns, &deadline, 0)) {
                uv_mutex_lock(&sh->js_lock);
                if (sh->js) js_shard_interrupt(sh->js, "exceededCpu");
                uv_mutex_unlock(&sh->js_lock);
            }
        }
    }
}

typedef struct shard_start {
    shard *sh;
    uv_sem_t ready;
    int rc;
    char err[256];
} shard_start;

static void shard_thread(void *arg) {
    shard_start *st = arg;
    shard *sh = st->sh;
    st->rc = shard_thread_setup(sh, st->err, sizeof st->err);
    int rc = st->rc;
    uv_sem_post(&st->ready); /* st may be gone after this */
    if (rc == 0) shard_thread_run(sh);
}

int server_start(hearth_server *srv, const server_config *cfg, char *err, size_t errlen) {
    memset(srv, 0, sizeof *srv);
    srv->cfg = *cfg;
    unsigned n = cfg->threads;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = cpus > 0 ? (unsigned)cpus : 1;
    }
    /* Per-shard metric blocks are a fixed array; a huge host still runs 64 event loops. */
    if (n > METRICS_MAX_SHARDS) n = METRICS_MAX_SHARDS;
    if (!srv->cfg.default_host[0])
        snprintf(srv->cfg.default_host, sizeof srv->cfg.default_host, "%s:%d", cfg->ip, cfg->port);
    if (getrandom(&srv->request_id_salt, sizeof srv->request_id_salt, 0) < 0)
        srv->request_id_salt = (uint64_t)time(NULL) * 2654435761u;
    ratelimit_options rl;
    memset(&rl, 0, sizeof rl);
    rl.backend = cfg->ratelimit;
    rl.fail_closed = cfg->ratelimit_fail_closed;
    srv->ratelimiter = ratelimiter_new(&rl, err, errlen);
    if (!srv->ratelimiter) return -1;

    int port = cfg->port;
    /* SO_REUSEPORT would let a second hearth share a port another one already serves (and
     * split its traffic); a plain bind first makes "address in use" an error as users expect. */
    if (port != 0) {
        int probe = net_port_free(cfg->ip, port, err, errlen);
        if (probe < 0) {
            ratelimiter_free(srv->ratelimiter);
            srv->ratelimiter = NULL;
            return -1;
        }
    }
    int fds[256];
    if (n > 256) n = 256;
    for (unsigned i = 0; i < n; i++) {
        fds[i] = net_listen(cfg->ip, port, true, err, errlen);
        if (fds[i] < 0) {
            for (unsigned j = 0; j < i; j++) close(fds[j]);
            return -1;
        }
        if (i == 0) port = net_bound_port(fds[0]); /* port 0: the others join the chosen one */
    }
    srv->port = port;
    if (cfg->default_host[0] == '\0' && cfg->port == 0)
        snprintf(srv->cfg.default_host, sizeof srv->cfg.default_host, "%s:%d", cfg->ip, port);

    srv->shards = xcalloc(n, sizeof *srv->shards);
    srv->shard_count = n;
    for (unsigned i = 0; i < n; i++) {
        shard *sh = xcalloc(1, sizeof *sh);
        sh->index = i;
        sh->server = srv;
        sh->listen_fd = fds[i];
        atomic_init(&sh->cpu_deadline_ns, 0);
        uv_mutex_init(&sh->js_lock);
        uv_mutex_init(&sh->cpu_watch_lock);
        srv->shards[i] = sh;
        shard_start st = {.sh = sh};
        uv_sem_init(&st.ready, 0);
        uv_thread_options_t opts = {UV_THREAD_HAS_STACK_SIZE, 8u * 1024 * 1024};
        if (uv_thread_create_ex(&sh->thread, &opts, shard_thread, &st) != 0) {
            snprintf(err, errlen, "could not start thread %u", i);
            return -1;
        }
        uv_sem_wait(&st.ready);
        uv_sem_destroy(&st.ready);
        if (st.rc != 0) {
            snprintf(err, errlen, "%s", st.err);
            return -1;
        }
    }
    atomic_init(&srv->watchdog_stop, false);
    uv_thread_options_t wopts = {UV_THREAD_HAS_STACK_SIZE, 256u * 1024};
    uv_thread_create_ex(&srv->watchdog, &wopts, watchdog_main, srv);
    return 0;
}

bool server_notify_snapshot(hearth_server *srv, uint64_t timeout_ms) {
    snapshot *cur = snapshot_current();
    uint64_t want = cur ? cur->generation : 0;
    snapshot_unref(cur);
    for (unsigned i = 0; i < srv->shard_count; i++) {
        atomic_store(&srv->shards[i]->snapshot_changed, true);
        uv_async_send(&srv->shards[i]->wakeup);
    }
    /* A shard switches between two requests, so this wait is short unless a shard is busy in
     * JavaScript; it polls rather than blocks because it is rare and cheap. */
    uint64_t deadline = uv_hrtime() + timeout_ms * 1000000u;
    for (;;) {
        unsigned done = 0;
        for (unsigned i = 0; i < srv->shard_count; i++)
            if (atomic_load(&srv->shards[i]->snapshot_generation) >= want) done++;
        if (done == srv->shard_count) return true;
        if (uv_hrtime() > deadline) return false;
        struct timespec pause = {0, 50000};
        nanosleep(&pause, NULL);
    }
}

void server_stop(hearth_server *srv) {
    for (unsigned i = 0; i < srv->shard_count; i++) {
        atomic_store(&srv->shards[i]->stop_requested, true);
        uv_async_send(&srv->shards[i]->wakeup);
    }
    for (unsigned i = 0; i < srv->shard_count; i++) uv_thread_join(&srv->shards[i]->thread);
    atomic_store(&srv->watchdog_stop, true);
    uv_thread_join(&srv->watchdog);
    for (unsigned i = 0; i < srv->shard_count; i++) {
        uv_mutex_destroy(&srv->shards[i]->js_lock);
        uv_mutex_destroy(&srv->shards[i]->cpu_watch_lock);
        free(srv->shards[i]);
    }
    free(srv->shards);
    srv->shards = NULL;
    srv->shard_count = 0;
    ratelimiter_free(srv->ratelimiter); /* after the threads: they held its per-thread sides */
    srv->ratelimiter = NULL;
}
