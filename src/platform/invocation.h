/* invocation — one event delivered to a Worker (for now: an HTTP request to its fetch
 * handler), from the moment it is dispatched until the response is sent and every
 * ctx.waitUntil() promise has settled.
 *
 * Its id doubles as the async context id the engine carries through promise jobs, so ops
 * called from any continuation of the handler find the invocation they serve. */
#ifndef HEARTH_PLATFORM_INVOCATION_H
#define HEARTH_PLATFORM_INVOCATION_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "net/http_server.h"
#include "platform/shard.h"

struct invocation {
    uint64_t id;
    uint32_t slot;
    shard *sh;
    http_request *req; /* until responded */
    realm_entry *entry;
    uint64_t start_ns;
    uint64_t cpu_ns; /* CPU time used by its JavaScript so far */
    char method[24];
    char *path;                 /* for the access log */
    int status;                 /* response status, once responded */
    int pending;                /* outstanding async work that can resume it (timers, ...) */
    bool responded;             /* the head (or the whole response) was sent */
    bool streaming;             /* a streamed body is still being written */
    bool drain_wait;            /* the runtime waits for queued output to drain */
    bool js_done;               /* the runtime said: response settled and waitUntil drained */
    const char *outcome;        /* "ok", "exception", "exceededCpu", "exceededMemory", "canceled" */
    struct trace_record *trace; /* its trace event so far, when someone watches (tracing.c) */
    bool store_log;             /* the event goes to the logs store */
    bool is_tail;               /* a Tail Worker's tail(): no request, no response */
    bool is_scheduled;          /* scheduled(): from a cron trigger, or dev's /__scheduled */
    int subrequests;            /* fetch() calls so far (fetch_ops.c limits them) */
    bool is_service;            /* called through a service binding: answers its caller */
    uint64_t caller_id;         /* ... the caller's invocation (service_ops.c) */
    double caller_ticket;       /* ... and the call's ticket there */
};

/* Handles an HTTP request arriving at the shard's server. */
void invocation_handle_request(void *shard_ptr, http_request *req);

/* Runs Tail Worker version v's tail() with a JSON array of trace events. */
void invocation_run_tail(shard *sh, worker_version *v, const char *events_json, size_t len);

/* Runs v's scheduled(controller) for `cron` at scheduled_ms (Unix ms). With req (dev's
 * /__scheduled endpoint) the request is answered once the handler settled: 200 "Ran scheduled
 * event", or the error page. */
void invocation_run_scheduled(shard *sh, worker_version *v, const char *cron, uint64_t scheduled_ms,
                              http_request *req);

struct service_call;
/* Runs the callee of a service binding call (service_ops.c): its fetch() or an RPC method.
 * Its response goes back to the caller. Returns NULL, or why the callee could not start
 * (malloc'd). */
char *invocation_run_service(shard *sh, struct service_call *call);

invocation *invocation_lookup(shard *sh, uint64_t id);

/* The platform's error for I/O and timers in a Worker's global scope (no invocation). */
extern const char INVOCATION_GLOBAL_SCOPE_MESSAGE[];

/* Counts one subrequest of inv (a fetch(), an outbound WebSocket): false once past the limit
 * (HEARTH_SUBREQUEST_LIMIT, default 1000, as on the platform); the caller then throws "Too many
 * subrequests.". */
bool invocation_count_subrequest(invocation *inv);

/* Async work finished for invocation `id`: delivers the event `kind` to its realm and settles
 * it (it may finish). By id, because the invocation may have ended meanwhile; returns false
 * (and delivers nothing) if it has. The caller adjusts `pending` before, as its work requires. */
bool invocation_deliver(shard *sh, uint64_t id, const char *kind, const js_args *a);

/* After JavaScript ran on behalf of inv: finish it if it is complete, or fail it if nothing
 * can ever resume it (a handler that will never produce a response). */
void invocation_settle(invocation *inv);

/* A Worker's [name, value, ...] header list (argument `arg` of an op) appended to `lines` as
 * "name: value\r\n" lines, leaving out the names in `skip` (lower case, NULL-terminated): the
 * ones the framing of the message owns. */
void invocation_header_lines(js_call *c, size_t arg, const char *const *skip, buf *lines);

/* inv's streamed response body (after respondStart), as native code writes it (fetch_ops.c
 * moves a fetched body this way): bytes still queued for the client, or -1 when the client is
 * gone or the body is no longer being written. */
int64_t invocation_body_write(invocation *inv, const void *data, size_t len);
/* The streamed body is complete. */
void invocation_body_end(invocation *inv);
/* The streamed body failed midway: the client sees the connection close; outcome is
 * "exception" (the source failed) or "canceled" (the client left). */
void invocation_body_abort(invocation *inv, const char *outcome);

/* The realm of `e` was torn down: fail its invocations. */
void invocation_fail_entry(shard *sh, realm_entry *e, const char *reason);

/* Fails every invocation of the shard (shutdown deadline passed). */
void invocation_fail_all(shard *sh, const char *why);

void invocation_ops_register(void);

#endif
