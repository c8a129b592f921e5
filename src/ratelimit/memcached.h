/* memcached — an asynchronous, pipelined memcached client on libuv, for the counters of the
 * Rate Limiting binding.
 *
 * It speaks the meta text protocol (mg / ma) over one TCP connection per server. Commands
 * issued during one loop iteration to one server leave in one write (they are encoded into the
 * connection's output buffer and flushed from a prepare and a check handle, i.e. right after
 * the callbacks of a loop phase have run); replies come back in order and are matched to the
 * commands by an opaque token (O<seq>) as well, so a reply that is not the expected one is a
 * protocol error rather than a wrong counter.
 *
 * Which server: consistent hashing of a `route` given with each command (not of the key), so
 * the keys of one limit live together. The ring is built from the server entries as written in
 * `servers` (trimmed), so processes given the same list agree.
 *
 * Failures: a connection that is refused, reset or sends a malformed reply fails its pending
 * commands (MC_EDOWN, or MC_EPROTO for the malformed reply) and the server is down: its
 * commands fail fast with MC_EDOWN until a reconnect succeeds (exponential backoff from
 * backoff_min_ms to backoff_max_ms, with jitter). Commands are never rerouted to another server:
 * a counter must stay in one place. A command without a reply after timeout_ms fails with
 * MC_ETIMEDOUT together with everything queued behind it on that connection, and the
 * connection is reset (later replies could not be matched) and backs off like a failure.
 * At most MC_MAX_PENDING commands wait on one connection; beyond that they fail fast with
 * MC_EDOWN.
 *
 * Threads: one client per loop thread; every function must be called on that thread.
 * Callbacks are always called asynchronously (never from inside mc_get / mc_incr / mc_decr),
 * exactly once, on the loop thread. The client's handles are unreferenced while nothing is
 * pending, so an idle client does not keep uv_run from returning. */
#ifndef HEARTH_RATELIMIT_MEMCACHED_H
#define HEARTH_RATELIMIT_MEMCACHED_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* The bound on the commands waiting for a reply (or to be sent) on one connection. */
#define MC_MAX_PENDING 65536
/* The bound on servers in one client. */
#define MC_MAX_SERVERS 64

typedef struct mc_client mc_client;

typedef struct mc_options {
    const char *servers;         /* "host:port[,host:port...]": IPv4 literal, IPv6 in [..], or a
                                    hostname (resolved once, synchronously, at creation) */
    uint32_t timeout_ms;         /* a command without a reply by then fails: default 250 */
    uint32_t connect_timeout_ms; /* default 1000 */
    uint32_t backoff_min_ms;     /* reconnect backoff after a failure, doubling from min to */
    uint32_t backoff_max_ms;     /* max: defaults 100 / 5000 */
} mc_options;

/* Fills *o with the defaults (servers NULL). A 0 in any time field also means its default. */
void mc_options_defaults(mc_options *o);

enum {
    MC_OK = 0,
    MC_MISS = 1,
    MC_ETIMEDOUT = -1,
    MC_EDOWN = -2,
    MC_EPROTO = -3, /* a malformed or unexpected reply, an error reply, or an invalid key */
    MC_ECANCELED = -4,
};
const char *mc_strerror(int status);

typedef void (*mc_cb)(void *arg, int status, uint64_t value);

/* A client for the servers in o->servers. On a bad server list returns NULL and writes a
 * message naming the bad part to err (e.g. `"host:" has no port`). Connects at once, without
 * blocking the loop; commands issued before a connection is up wait for it (within their
 * timeout). */
mc_client *mc_client_new(uv_loop_t *loop, const mc_options *o, char *err, size_t errlen);
/* Closes connections and timers; every pending callback is called with MC_ECANCELED before
 * this returns (commands issued from those callbacks are canceled too). The memory is released
 * once libuv has closed the handles, so the caller keeps running the loop until then, as it
 * does at shutdown. The client must not be used after this call. */
void mc_client_close(mc_client *c);

/* Reads a counter: MC_OK and its value, or MC_MISS. */
void mc_get(mc_client *c, const char *route, size_t route_len, const char *key, size_t key_len,
            mc_cb cb, void *arg);
/* Adds delta to a counter, creating it with the value delta and a TTL of ttl_s seconds (0: no
 * expiry) if it is missing: MC_OK and the value after the addition. (memcached's autovivify
 * stores J<initial> without applying D, so the command sends J<delta> D<delta>.) Like
 * memcached, the addition wraps at 2^64. */
void mc_incr(mc_client *c, const char *route, size_t route_len, const char *key, size_t key_len,
             uint64_t delta, uint32_t ttl_s, mc_cb cb, void *arg);
/* Subtracts delta, stopping at 0 (memcached's rule): MC_OK and the new value, or MC_MISS.
 * cb may be NULL (fire and forget). */
void mc_decr(mc_client *c, const char *route, size_t route_len, const char *key, size_t key_len,
             uint64_t delta, mc_cb cb, void *arg);

typedef struct mc_stats {
    uint64_t sent;       /* commands encoded for a server */
    uint64_t ok;         /* completed with MC_OK or MC_MISS */
    uint64_t errors;     /* failed with MC_EDOWN or MC_EPROTO */
    uint64_t timeouts;   /* failed with MC_ETIMEDOUT */
    uint64_t reconnects; /* connection attempts after a failure */
    uint32_t servers, servers_up;
} mc_stats;
void mc_client_stats(const mc_client *c, mc_stats *out);

#endif
