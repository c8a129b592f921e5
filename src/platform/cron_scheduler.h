/* cron_scheduler — runs cron triggers: at the start of every minute (UTC), the scheduled()
 * handler of each deployed Worker whose version lists a matching cron expression. It runs on
 * shard 0's loop, which reads the routing snapshot like any request would. */
#ifndef HEARTH_PLATFORM_CRON_SCHEDULER_H
#define HEARTH_PLATFORM_CRON_SCHEDULER_H

#include "platform/shard.h"

/* Starts the minute timer on sh's loop (it does not keep the loop alive). */
void cron_scheduler_start(shard *sh);

#endif
