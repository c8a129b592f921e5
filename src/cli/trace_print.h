/* trace_print — trace events (docs/observability.md) printed by `hearth logs` and `hearth tail`:
 * for people as `wrangler tail` prints them, or as one JSON line each. Anything printed is
 * cleaned of terminal control characters. */
#ifndef HEARTH_CLI_TRACE_PRINT_H
#define HEARTH_CLI_TRACE_PRINT_H

#include <jansson.h>

/* "GET https://... - Ok @ 11/22/2026, 12:00:00 PM", then its logs and exceptions. */
void trace_print_pretty(json_t *ev);
/* The event as one line of JSON. */
void trace_print_json(json_t *ev);

#endif
