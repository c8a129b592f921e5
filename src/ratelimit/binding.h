/* binding — validation of a rate limit binding, shared by the config loader and the control
 * API so that both accept and refuse the same things with the same words. */
#ifndef HEARTH_RATELIMIT_BINDING_H
#define HEARTH_RATELIMIT_BINDING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The periods the platform allows, in seconds. */
#define RATELIMIT_PERIODS "10 or 60"
/* Largest limit accepted (the counters are 32-bit). */
#define RATELIMIT_MAX_LIMIT 1000000000

/* Checks the fields of a binding in the upload-metadata form:
 *     { "type": "ratelimit", "name": "X", "namespace_id": "1001",
 *       "simple": { "limit": 100, "period": 60 } }
 * Returns true, or false with the failing field ("namespace_id", "simple.limit", ...) and a
 * message saying what is expected ("must be 10 or 60, got 30"). */
bool ratelimit_binding_check(const json_t *b, char *field, size_t fieldlen, char *msg,
                             size_t msglen);

#endif
