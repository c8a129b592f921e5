/* server — the data plane of one process: N shards (loop threads) serving HTTP on one
 * address, and the watchdog that enforces CPU limits. `hearth dev` and `hearth serve` both run
 * one; they differ in where worker versions come from (files vs. the control API). */
#ifndef HEARTH_PLATFORM_SERVER_H
#define HEARTH_PLATFORM_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "net/http_server.h"
#include "platform/shard.h"

typedef struct server_config {
    char ip[64];
    int port;         /* 0 picks a free port */
    unsigned threads; /* 0 = number of CPUs */
    http_server_config http;
    bool dev; /* error pages show exception details */
    bool access_log;
    char default_host[128]; /* Host used for request.url when a client sent none */
    uint64_t shutdown_grace_ms;
    size_t realm_heap_limit;    /* bytes per realm; default 128 MiB */
    struct logstore *logstore;  /* where [observability]-enabled Workers' events go (serve) */
    const char *ratelimit;      /* --ratelimit: "embedded" (NULL too) or "memcached://..." */
    bool ratelimit_fail_closed; /* --ratelimit-fail closed */
    uint64_t unload_idle_ms;    /* realms of versions in no active deployment are unloaded after
                                 * this long without a request; default 30 s */
    size_t ws_max_message;      /* largest message a Worker's WebSocket receives (else 1009);
                                 * default 1 MiB */
} server_config;

void server_config_defaults(server_config *cfg);

struct hearth_server {
    server_config cfg;
    shard **shards;
    unsigned shard_count;
    int port; /* the port actually bound */
    uint64_t request_id_salt;
    struct ratelimiter *ratelimiter; /* behind env.X.limit() (src/ratelimit/) */
    uv_thread_t watchdog;
    atomic_bool watchdog_stop;
};

/* Binds, starts the shards and the watchdog. Returns 0, or -1 with a message in err. */
int server_start(hearth_server *srv, const server_config *cfg, char *err, size_t errlen);
/* Tells every shard a new snapshot was published (snapshot_publish) and waits until all of
 * them serve from it (or timeout_ms passed). Returns true when every shard switched. */
bool server_notify_snapshot(hearth_server *srv, uint64_t timeout_ms);
/* Graceful stop: no new connections, in-flight requests finish (up to the grace period),
 * then the threads exit. Blocks until they did. */
void server_stop(hearth_server *srv);

#endif
