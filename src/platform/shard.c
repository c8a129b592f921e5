#include "platform/tail_workers.h"
#include "platform/shard.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "platform/cron_scheduler.h"
#include "platform/invocation.h"
#include "platform/server.h"
#include "platform/timers.h"
#include "net/http_client.h"
#include "ratelimit/ratelimit.h"

shard *shard_of(js_call *c) {
    return js_shard_host(js_call_shard(c));
}

uint64_t thread_cpu_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#define BODY_BYTES_PER_GC (2u * 1024u * 1024u)

void shard_note_body_bytes(shard *sh, size_t n) {
    sh->body_bytes_since_gc += n;
    if (sh->body_bytes_since_gc < BODY_BYTES_PER_GC) return;
    sh->body_bytes_since_gc = 0;
    js_shard_collect_soon(sh->js);
}

void shard_log(shard *sh, bool to_stderr, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(to_stderr ? &sh->err : &sh->out, fmt, ap);
    va_end(ap);
}

static void write_all(int fd, buf *b) {
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = write(fd, b->data + off, b->len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; /* nowhere to write logs: drop them rather than block serving */
        off += (size_t)n;
    }
    buf_clear(b);
}

static void flush_logs(shard *sh) {
    if (sh->out.len) write_all(STDOUT_FILENO, &sh->out);
    if (sh->err.len) write_all(STDERR_FILENO, &sh->err);
}

/* ---- realms ------------------------------------------------------------------------------ */

static bool version_in_snapshot(const snapshot *snap, const worker_version *v) {
    if (!snap) return false;
    for (size_t i = 0; i < snap->script_count; i++)
        for (size_t k = 0; k < snap->scripts[i].version_count; k++)
            if (snap->scripts[i].versions[k] == v) return true;
    return false;
}

/* Runs `fn` under the version's CPU limit; used for top-level code at realm creation. */
static js_realm *create_realm(shard *sh, realm_entry *e, js_error *err) {
    worker_version *v = e->version;
    js_realm_config cfg = {v->bindings_json, v->worker_json, e};
    uint64_t t0 = thread_cpu_ns(sh->cpu_clock);
    atomic_store(&sh->cpu_deadline_ns, t0 + v->limits.cpu_ms * 1000000u);
    js_realm *r = js_realm_new(sh->js, v->program, &cfg, err);
    atomic_store(&sh->cpu_deadline_ns, 0);
    return r;
}

realm_entry *shard_realm_for(shard *sh, worker_version *v, js_error *err) {
    for (realm_entry *e = sh->realms; e; e = e->next) {
        if (e->version == v && !e->retired && e->realm && !js_realm_is_broken(e->realm)) {
            e->last_used_ms = uv_now(&sh->loop);
            return e;
        }
    }
    realm_entry *e = xcalloc(1, sizeof *e);
    e->version = worker_version_ref(v);
    e->realm = create_realm(sh, e, err);
    if (!e->realm) {
        worker_version_unref(e->version);
        free(e);
        return NULL;
    }
    e->last_used_ms = uv_now(&sh->loop);
    e->next = sh->realms;
    sh->realms = e;
    return e;
}

static bool version_deployed(const snapshot *snap, const worker_version *v) {
    if (!snap) return false;
    for (size_t i = 0; i < snap->script_count; i++)
        for (size_t k = 0; k < snap->scripts[i].split_count; k++)
            if (snap->scripts[i].split[k].version == v) return true;
    return false;
}

/* Realms of versions outside every active deployment (reached by preview URLs, or just
 * undeployed) are unloaded after --unload-after without a request. */
static void on_idle_sweep(uv_timer_t *t) {
    shard *sh = t->data;
    uint64_t now = uv_now(&sh->loop);
    for (realm_entry *e = sh->realms; e; e = e->next)
        if (!e->retired && e->inflight == 0 &&
            now - e->last_used_ms >= sh->server->cfg.unload_idle_ms &&
            !version_deployed(sh->snap, e->version))
            e->retired = true; /* freed by sweep_realms */
}

void shard_realm_release(shard *sh, realm_entry *e) {
    (void)sh;
    e->inflight--;
    /* Freed by sweep_realms, outside any JavaScript. */
}

static void sweep_realms(shard *sh) {
    realm_entry **pp = &sh->realms;
    while (*pp) {
        realm_entry *e = *pp;
        if ((e->retired || (e->realm && js_realm_is_broken(e->realm))) && e->inflight == 0) {
            *pp = e->next;
            timers_cancel_entry(sh, e);
            js_realm_free(e->realm);
            worker_version_unref(e->version);
            free(e);
            continue;
        }
        pp = &e->next;
    }
}

/* The CPU time a dispatch that started at w0 (monotonic) used; clears the watch (shard.h). */
static uint64_t dispatch_watch_end(shard *sh, uint64_t w0) {
    uv_mutex_lock(&sh->cpu_watch_lock);
    uint64_t engaged_wall = sh->engaged_wall_ns, engaged_cpu = sh->engaged_cpu_ns;
    sh->dispatch_start_ns = 0;
    sh->engaged_wall_ns = 0;
    atomic_store(&sh->cpu_deadline_ns, 0);
    uv_mutex_unlock(&sh->cpu_watch_lock);
    if (!engaged_wall) return uv_hrtime() - w0;
    return (engaged_wall - w0) + (thread_cpu_ns(sh->cpu_clock) - engaged_cpu);
}

js_result shard_dispatch(shard *sh, realm_entry *e, invocation *inv, const char *kind,
                         const js_args *args, js_error *err, const char **reason) {
    uint64_t limit = e->version->limits.cpu_ms * 1000000u;
    uint64_t used = inv ? inv->cpu_ns : 0;
    /* Only the shard's thread writes dispatch_start_ns: reading it unlocked is safe here. */
    bool nested = sh->dispatch_start_ns != 0;
    uint64_t w0 = uv_hrtime();
    if (!nested) {
        uv_mutex_lock(&sh->cpu_watch_lock);
        sh->dispatch_start_ns = w0;
        sh->dispatch_budget_ns = used < limit ? limit - used : 1;
        uv_mutex_unlock(&sh->cpu_watch_lock);
    }
    invocation *prev = sh->running;
    sh->running = inv;
    js_result r = js_realm_dispatch(e->realm, inv ? inv->id : 0, kind, args, err, reason);
    sh->running = prev;
    /* A nested dispatch (none is expected) counts its wall time; the outer one is watched. */
    uint64_t spent = nested ? uv_hrtime() - w0 : dispatch_watch_end(sh, w0);
    if (inv && invocation_lookup(sh, inv->id) == inv) inv->cpu_ns += spent;
    return r;
}

/* ---- engine callbacks -------------------------------------------------------------------- */

static void on_realm_reset(void *host, js_realm *realm, const char *reason) {
    shard *sh = host;
    realm_entry *e = js_realm_host(realm);
    if (!e) return; /* a realm still being created */
    e->retired = true;
    invocation_fail_entry(sh, e, reason);
}

static void on_uncaught(void *host, js_realm *realm, uint64_t async_id, const js_error *err) {
    shard *sh = host;
    (void)realm;
    char *text = js_error_format(err);
    invocation *inv = invocation_lookup(sh, async_id);
    if (inv)
        shard_log(sh, true, "[hearth] Uncaught (in promise) in %s %s: %s\n", inv->method, inv->path,
                  text);
    else
        shard_log(sh, true, "[hearth] Uncaught (in promise) %s\n", text);
    free(text);
}

static void on_engine_wake(void *host) {
    shard *sh = host;
    atomic_store(&sh->tasks_ready, true);
    uv_async_send(&sh->wakeup);
}

static const js_shard_callbacks engine_callbacks = {on_realm_reset, on_uncaught, on_engine_wake};

/* Runs the engine's finished background work; any invocation may have been resumed by it. */
static void run_engine_tasks(shard *sh) {
    uint64_t t0 = thread_cpu_ns(sh->cpu_clock);
    atomic_store(&sh->cpu_deadline_ns, t0 + 30000u * 1000000u);
    js_shard_run_tasks(sh->js);
    atomic_store(&sh->cpu_deadline_ns, 0);
    for (uint32_t i = 0; i < sh->invocation_cap; i++)
        if (sh->invocations[i]) invocation_settle(sh->invocations[i]);
}

/* ---- the loop ---------------------------------------------------------------------------- */

static void take_snapshot(shard *sh) {
    snapshot *snap = snapshot_current();
    snapshot *old = sh->snap;
    sh->snap = snap;
    snapshot_unref(old);
    atomic_store(&sh->snapshot_generation, snap ? snap->generation : 0);
    /* Realms of versions that left the routing table serve their in-flight requests only. */
    for (realm_entry *e = sh->realms; e; e = e->next)
        if (!version_in_snapshot(snap, e->version)) e->retired = true;
}

/* xorshift64*: the random point of requests without a Version-Key (and of scheduled events). Per
 * shard, no locking. */
uint64_t shard_random(shard *sh) {
    uint64_t x = sh->rng ? sh->rng : (uv_hrtime() | 1) * (sh->index + 1);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    sh->rng = x;
    return x * 2685821657736338717ull;
}

static void close_walk_cb(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static bool shard_idle(shard *sh) {
    if (http_server_busy(sh->http) > 0) return false;
    for (uint32_t i = 0; i < sh->invocation_cap; i++)
        if (sh->invocations[i]) return false;
    return true;
}

/* Polled while stopping: ends the loop once in-flight work finished or the grace period ran
 * out (then what is left is failed with a 503). */
static void check_stop(uv_timer_t *t) {
    shard *sh = t->data;
    bool deadline = uv_now(&sh->loop) - sh->stop_started_ms >= sh->server->cfg.shutdown_grace_ms;
    if (!shard_idle(sh) && !deadline) return;
    if (!shard_idle(sh)) invocation_fail_all(sh, "The server is shutting down");
    sweep_realms(sh);
    flush_logs(sh);
    ratelimit_thread_close(sh->ratelimit); /* its connections, before the walk closes all */
    sh->ratelimit = NULL;
    http_client_close(sh->http_client); /* aborts fetches, closes cached connections */
    sh->http_client = NULL;
    uv_walk(&sh->loop, close_walk_cb, NULL);
}

static void on_wakeup(uv_async_t *a) {
    shard *sh = a->data;
    if (atomic_exchange(&sh->snapshot_changed, false)) take_snapshot(sh);
    if (atomic_exchange(&sh->tasks_ready, false)) run_engine_tasks(sh);
    if (atomic_load(&sh->stop_requested) && !sh->stopping) {
        sh->stopping = true;
        sh->stop_started_ms = uv_now(&sh->loop);
        http_server_shutdown(sh->http);
        uv_timer_init(&sh->loop, &sh->stop_timer);
        sh->stop_timer.data = sh;
        uv_timer_start(&sh->stop_timer, check_stop, 0, 20);
    }
}

static void on_check(uv_check_t *c) {
    shard *sh = c->data;
    sweep_realms(sh);
    flush_logs(sh);
}

void shard_thread_run(shard *sh) {
    uv_run(&sh->loop, UV_RUN_DEFAULT);
    flush_logs(sh);
    /* Everything below frees what the loop owned. */
    tail_workers_free(sh);
    while (sh->realms) {
        realm_entry *e = sh->realms;
        sh->realms = e->next;
        js_realm_free(e->realm);
        worker_version_unref(e->version);
        free(e);
    }
    snapshot_unref(sh->snap);
    sh->snap = NULL;
    uv_mutex_lock(&sh->js_lock);
    js_shard_free(sh->js);
    sh->js = NULL;
    uv_mutex_unlock(&sh->js_lock);
    http_server_free(sh->http);
    sh->http = NULL;
    uv_loop_close(&sh->loop);
    free(sh->invocations);
    free(sh->timers);
    buf_free(&sh->out);
    buf_free(&sh->err);
}

/* Called on the shard's thread before its loop runs: the engine context and the server must
 * be created by the thread that uses them. */
int shard_thread_setup(shard *sh, char *err, size_t errlen) {
    hearth_server *srv = sh->server;
    uv_loop_init(&sh->loop);
    uv_async_init(&sh->loop, &sh->wakeup, on_wakeup);
    sh->wakeup.data = sh;
    uv_check_init(&sh->loop, &sh->flush_check);
    sh->flush_check.data = sh;
    uv_check_start(&sh->flush_check, on_check);
    uv_timer_init(&sh->loop, &sh->idle_timer);
    sh->idle_timer.data = sh;
    /* Checked a few times per period: a realm goes at most a quarter period late. */
    uint64_t every = srv->cfg.unload_idle_ms / 4 ? srv->cfg.unload_idle_ms / 4 : 1;
    uv_timer_start(&sh->idle_timer, on_idle_sweep, every, every);
    uv_unref((uv_handle_t *)&sh->idle_timer);
    tail_workers_init(sh);
    if (sh->index == 0) cron_scheduler_start(sh);
    sh->ratelimit = ratelimit_thread_new(srv->ratelimiter, &sh->loop);
    sh->http_client = http_client_new(&sh->loop, getenv("HEARTH_CA_FILE"));
    js_shard_options o = {0};
    o.index = sh->index;
    o.max_heap_bytes = 2048u * 1024 * 1024;
    o.realm_heap_limit = srv->cfg.realm_heap_limit;
    o.cb = &engine_callbacks;
    o.host = sh;
    sh->js = js_shard_new(&o);
    if (!sh->js) {
        snprintf(err, errlen, "could not create the JavaScript context of thread %u", sh->index);
        return -1;
    }
    if (pthread_getcpuclockid(pthread_self(), &sh->cpu_clock) != 0)
        sh->cpu_clock = CLOCK_THREAD_CPUTIME_ID;
    sh->http =
        http_server_new(&sh->loop, sh->listen_fd, &srv->cfg.http, invocation_handle_request, sh);
    take_snapshot(sh);
    return 0;
}
