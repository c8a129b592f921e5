/* runtime_ops — registers every op the runtime's JavaScript uses, once per process, before
 * js_engine_init. */
#ifndef HEARTH_PLATFORM_RUNTIME_OPS_H
#define HEARTH_PLATFORM_RUNTIME_OPS_H

void runtime_ops_register(void);

#endif
