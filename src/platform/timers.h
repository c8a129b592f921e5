/* timers — setTimeout/setInterval for Workers: a uv timer per JavaScript timer, owned by the
 * invocation that set it (a timer never outlives its request). */
#ifndef HEARTH_PLATFORM_TIMERS_H
#define HEARTH_PLATFORM_TIMERS_H

#include <stdint.h>

#include "platform/shard.h"

void timers_ops_register(void);
void timers_cancel_invocation(shard *sh, uint64_t invocation_id);
void timers_cancel_entry(shard *sh, realm_entry *e);

#endif
