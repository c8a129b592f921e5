/* ratelimit_ops — the op behind `env.X.limit({ key })` (src/runtime/ratelimit.js). */
#ifndef HEARTH_PLATFORM_RATELIMIT_OPS_H
#define HEARTH_PLATFORM_RATELIMIT_OPS_H

void ratelimit_ops_register(void);

#endif
