/* tail_workers — Tail Workers: a Worker's trace events delivered to the tail(events, env, ctx)
 * handler of each Worker its tail_consumers name.
 *
 * Events wait on the shard where the producer ran and go out in batches — one tail()
 * invocation per consumer for everything queued — from an idle callback, after the producer's
 * invocation is over. So a consumer that throws, is slow, or does not exist never changes the
 * producer's response or timing. The consumer runs its active deployment's version (picked at
 * random within a split), under its own CPU limit; its own invocations are not traced (a Tail
 * Worker watching itself would never stop). */
#ifndef HEARTH_PLATFORM_TAIL_WORKERS_H
#define HEARTH_PLATFORM_TAIL_WORKERS_H

#include <stddef.h>

#include "platform/shard.h"

/* Events queued per consumer per loop turn; more are dropped (a consumer that cannot keep up). */
#define TAIL_WORKERS_MAX_QUEUED 1000

/* On the shard's thread, before its loop runs / after it stopped. */
void tail_workers_init(shard *sh);
void tail_workers_free(shard *sh);

/* Queues an event (its JSON text, copied) for consumer Worker `consumer`. */
void tail_workers_enqueue(shard *sh, const char *consumer, const char *event_json, size_t len);

#endif
