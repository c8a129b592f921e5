/* fetch_ops — the ops behind the global fetch() (src/runtime/fetch.js) over the shard's
 * http_client (src/net/http_client.c). */
#ifndef HEARTH_PLATFORM_FETCH_OPS_H
#define HEARTH_PLATFORM_FETCH_OPS_H

#include <stdint.h>

#include "platform/shard.h"

void fetch_ops_register(void);

/* The invocation ended: its fetches are aborted and freed. */
void fetch_ops_cancel_invocation(shard *sh, uint64_t invocation_id);

#endif
