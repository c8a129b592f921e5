/* tracing — the trace events of invocations (src/observe/trace.h), from deciding which
 * invocations get one to delivering it: to the tail sessions watching the Worker, to its Tail
 * Workers (src/platform/tail_workers.c) and to the logs store.
 *
 * Tracing costs nothing for an invocation nobody watches: the decision is made once, when it
 * starts, and an untraced invocation collects no logs or exception details. Also here: the
 * source-mapping of exception stacks, which every invocation gets when its version has maps. */
#ifndef HEARTH_PLATFORM_TRACING_H
#define HEARTH_PLATFORM_TRACING_H

#include <stdbool.h>
#include <stddef.h>

#include "platform/invocation.h"
#include "platform/snapshot.h"

/* At the start of a fetch invocation (se: the script it was routed to, may be NULL). */
void tracing_begin_fetch(invocation *inv, const script_entry *se, const char *url, size_t url_len);
/* When the invocation ends: builds and delivers its event, if it has one. */
void tracing_end(invocation *inv);

/* An uncaught exception of inv (NULL: none is known). `text` is what the console shows when
 * no source map applies; name/message/stack are the parts; prefix/suffix frame the text.
 * Returns the text to print (malloc'd): with the stack mapped when the version has maps. */
char *tracing_exception(invocation *inv, const char *text, const char *name, const char *message,
                        const char *stack, const char *prefix, const char *suffix);

/* The stack without the runtime's own frames ("hearth:..."), mapped through v's source maps
 * first when it has any. malloc'd. */
char *tracing_map_stack(const worker_version *v, const char *stack);

void tracing_ops_register(void);

#endif
