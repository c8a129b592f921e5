/* service_pipe — a body streamed between two Workers of a service binding on one shard: the
 * callee's Response body to the caller, or the caller's request body to the callee.
 *
 * A pipe is a queue of chunks between a writer and a reader, each an invocation (the one whose
 * JavaScript last used that end). Neither side runs inside the other's JavaScript: a write
 * that a waiting reader should see, a read that frees room for a waiting writer, a cancel or
 * an error each wake the other side through a zero timer, as a "servicePipe" event
 * (src/runtime/service.js). The writer stops when more than a high-water mark is queued
 * (service.js waits for the drain wake), so a slow reader slows the producer and a stream
 * nobody reads holds at most that much. While a side waits, its invocation counts the wait as
 * pending work, so it is not taken for hung.
 *
 * When an invocation ends, the pipes it reads are cancelled and the pipes it writes fail
 * (service_pipes_invocation_ended), so the other side never waits forever.
 *
 * Ops (JavaScript, see service.js):
 *   pipeOpen(forReading) → id             a pipe the current invocation writes (or, with
 *                                         forReading, reads: an RPC WritableStream's)
 *   pipeWrite(id, bytes) → bytes queued, or -1 when the reader is gone (stop producing)
 *   pipeWaitDrain(id)                     wake me ("servicePipe" id, "write") when drained
 *   pipeClose(id) / pipeError(id, bytes)  the end; bytes: the error (engine serialize)
 *   pipeRead(id) → ArrayBuffer (a chunk) | 0 (nothing yet: a "servicePipe" id, "read" wake
 *                  follows) | 1 (the end) | [ArrayBuffer] (the error, serialized)
 *   pipeCancel(id)                        the reader wants no more
 *   pipeSplice(id, invocationId)          the reader returned the body untouched as its
 *                                         response (after respondStart): C writes each chunk
 *                                         straight to that invocation's client, the writer
 *                                         waits on the socket's drain, and the end, an error or
 *                                         the client leaving ends the response */
#ifndef HEARTH_PLATFORM_SERVICE_PIPE_H
#define HEARTH_PLATFORM_SERVICE_PIPE_H

#include <stdint.h>

#include "platform/shard.h"

/* A pipe on sh whose writer is invocation `writer` and reader `reader` (0: not known yet);
 * returns its id. */
double service_pipe_open(shard *sh, uint64_t writer, uint64_t reader);

/* The reader of pipe `id` is now invocation `reader` (the callee that got the body). */
void service_pipe_set_reader(shard *sh, double id, uint64_t reader);

/* The writer of pipe `id` is now invocation `writer` (the receiver of an RPC WritableStream). */
void service_pipe_set_writer(shard *sh, double id, uint64_t writer);

/* Nobody will read pipe `id` (its reader could not start, or is gone). */
void service_pipe_cancel(shard *sh, double id);

/* Nobody will write pipe `id`: its reader sees it fail. */
void service_pipe_abandon(shard *sh, double id);

/* Invocation `id` ended: cancel what it reads, fail what it writes. */
void service_pipes_invocation_ended(shard *sh, uint64_t id);

void service_pipe_ops_register(void);

#endif
