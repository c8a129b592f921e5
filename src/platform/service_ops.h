/* service_ops — service bindings between Workers of the same hearth (src/runtime/service.js).
 *
 * `env.X.fetch(...)` and `env.X.method(...)` (RPC) run the target Worker on the caller's
 * shard: serviceCall creates an invocation of the callee's version (picked as for a request);
 * the callee's response head (or RPC result) comes back to the caller as a "serviceReply"
 * event. Both hops go through the loop (a zero timer), never nested inside another realm's
 * JavaScript.
 *
 * RPC arguments and results cross as bytes of the engine's structured clone (ops.serialize in
 * the sending realm, ops.deserialize in the receiving one; src/js/clone.cpp). Bodies that are
 * streams cross as pipes (service_pipe.h): chunk by chunk, with backpressure, in both
 * directions. */
#ifndef HEARTH_PLATFORM_SERVICE_OPS_H
#define HEARTH_PLATFORM_SERVICE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "platform/invocation.h"

/* A call on its way to the callee (owned by service_ops.c; read by invocation_run_service). */
typedef struct service_call {
    uint64_t caller_id;
    double ticket;
    worker_version *version; /* a reference */
    int rpc;                 /* 0: fetch; 1: RPC */
    char *method;            /* fetch: HTTP method; RPC: method name */
    char *url;               /* fetch: URL; RPC: entrypoint export name ("" = default) */
    char *headers;           /* fetch: "Name: value\r\n" lines */
    uint8_t *body;           /* fetch: the whole body; RPC: the arguments (serialized) */
    size_t body_len;         /* ... NULL body: none (or see body_pipe) */
    double body_pipe;        /* fetch: the body streams through this pipe; 0: it does not */
    double *pipes;           /* RPC: the pipes of the ReadableStreams in the arguments */
    size_t pipe_count;
} service_call;

/* The pipes of an RPC value's streams now have `receiver` (the callee, or the caller getting a
 * result) as their reader, or as their writer for a negative id (a WritableStream's pipe);
 * with receiver 0 nobody will use them (the call did not start, the caller is gone): they are
 * cancelled, or failed. */
void service_rpc_pipes_handed(shard *sh, const double *pipes, size_t n, uint64_t receiver);

/* The callee inv answered (from send_response): deliver to its caller. */
void service_deliver_response(invocation *inv, int status, const char *reason,
                              const char *header_lines, size_t hlen, const void *body, size_t blen);

void service_ops_register(void);

#endif
