/* api_internal — what the control API's handler files share: the call being answered and
 * the Cloudflare-style envelope. api.c routes; api_observe.c answers logs and tails. */
#ifndef HEARTH_PLATFORM_API_INTERNAL_H
#define HEARTH_PLATFORM_API_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "net/http_server.h"
#include "platform/control.h"
#include "platform/store.h"

enum {
    CODE_AUTH = 10000,
    CODE_NOT_FOUND = 10007,
    CODE_INTERNAL = 10013,
    CODE_VALIDATION = 10021,
    CODE_TOO_LARGE = 10032,
    CODE_METHOD = 10405,
};

typedef struct api_call {
    control *c;
    http_request *req;
    const char *method;
    char *segments[16]; /* path after /client/v4, split on '/' */
    size_t segment_count;
    json_t *query; /* object of decoded query parameters */
    store_actor actor;
    char token_id[37];
} api_call;

/* 200 with {"success": true, "result": result}; takes the reference. */
void api_ok(api_call *a, json_t *result);
/* An error envelope with `code` and the formatted message. */
void api_fail(api_call *a, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A decoded query parameter, or NULL. */
const char *api_query(api_call *a, const char *key);
/* Parses an RFC 3339 time ("2026-11-22T12:00:00Z", fractions and offsets allowed) to Unix ms. */
bool api_parse_time(const char *s, uint64_t *ms);

/* GET .../scripts/{script}/logs (api_observe.c). */
void api_logs(api_call *a, const char *script);
/* .../scripts/{script}/tails[/{id}] (api_observe.c); rest: index of the segment after "tails". */
void api_tails(api_call *a, const char *script, size_t rest);

#endif
