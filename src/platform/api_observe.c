/* api_observe — the control API's observability endpoints (docs/api.md, "Logs" and "Tail"):
 * stored trace events, and live tail sessions. Runs on the control thread. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "net/websocket.h"
#include "observe/logstore.h"
#include "observe/tail.h"
#include "platform/api_internal.h"

static const char *const kOutcomes[] = {"ok", "exception", "exceededCpu", "exceededMemory",
                                        "canceled"};

/* GET .../scripts/{script}/logs?since&until&version_id&outcome&search&limit */
void api_logs(api_call *a, const char *script) {
    if (strcmp(a->method, "GET") != 0) {
        api_fail(a, 405, CODE_METHOD, "%s is not allowed here (use GET)", a->method);
        return;
    }
    logstore *ls = a->c->cfg.server ? a->c->cfg.server->cfg.logstore : NULL;
    if (!ls) {
        api_fail(a, 500, CODE_INTERNAL, "this server keeps no logs");
        return;
    }
    logstore_query q = {.script = script};
    const char *since = api_query(a, "since"), *until = api_query(a, "until");
    if (since && !api_parse_time(since, &q.since_ms)) {
        api_fail(a, 400, CODE_VALIDATION,
                 "since: expected an RFC 3339 time such as 2026-11-22T12:00:00Z");
        return;
    }
    if (until && !api_parse_time(until, &q.until_ms)) {
        api_fail(a, 400, CODE_VALIDATION,
                 "until: expected an RFC 3339 time such as 2026-11-22T12:00:00Z");
        return;
    }
    q.version_id = api_query(a, "version_id");
    q.outcome = api_query(a, "outcome");
    if (q.outcome) {
        size_t i = 0, n = sizeof kOutcomes / sizeof kOutcomes[0];
        while (i < n && strcmp(kOutcomes[i], q.outcome) != 0) i++;
        if (i == n) {
            api_fail(a, 400, CODE_VALIDATION,
                     "outcome: expected ok, exception, exceededCpu, exceededMemory or canceled");
            return;
        }
    }
    q.search = api_query(a, "search");
    const char *limit = api_query(a, "limit");
    if (limit) {
        char *end;
        long n = strtol(limit, &end, 10);
        if (*end || n < 1 || n > LOGSTORE_MAX_LIMIT) {
            api_fail(a, 400, CODE_VALIDATION, "limit: expected a whole number from 1 to %d",
                     LOGSTORE_MAX_LIMIT);
            return;
        }
        q.limit = (size_t)n;
    }
    json_t *events = NULL;
    char err[256];
    if (logstore_search(ls, &q, &events, err, sizeof err) != 0) {
        api_fail(a, 400, CODE_VALIDATION, "%s", err);
        return;
    }
    api_ok(a, json_pack("{s:o}", "events", events));
}

/* ---- tails ------------------------------------------------------------------------------- */

static json_t *tail_json(api_call *a, const char *script, control_tail *t) {
    /* The WebSocket URL on the address the client reached us at. */
    size_t hlen = 0;
    const char *host = http_request_header(a->req, "host", &hlen);
    char url[512];
    snprintf(url, sizeof url, "ws://%.*s/client/v4/accounts/%s/workers/scripts/%s/tails/%s",
             (int)(host ? hlen : 9), host ? host : "127.0.0.1", a->segments[1], script,
             tail_session_id(t->session));
    uint64_t left_ms = tail_session_expires_at(t->session) - uv_hrtime() / 1000000u;
    time_t expires = time(NULL) + (time_t)(left_ms / 1000);
    struct tm tm;
    gmtime_r(&expires, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_pack("{s:s, s:s, s:s, s:b}", "id", tail_session_id(t->session), "url", url,
                     "expires_at", when, "connected", t->ws != NULL);
}

void api_tails(api_call *a, const char *script, size_t rest) {
    control *c = a->c;
    if (rest == a->segment_count) {
        if (!strcmp(a->method, "POST")) {
            api_ok(a, tail_json(a, script, control_tail_create(c, script)));
        } else if (!strcmp(a->method, "GET")) {
            json_t *list = json_array();
            for (size_t i = 0; i < c->tail_count; i++)
                if (!strcmp(tail_session_script(c->tails[i]->session), script))
                    json_array_append_new(list, tail_json(a, script, c->tails[i]));
            api_ok(a, list);
        } else {
            api_fail(a, 405, CODE_METHOD, "%s is not allowed here (use GET or POST)", a->method);
        }
        return;
    }
    if (rest + 1 != a->segment_count) {
        api_fail(a, 404, CODE_NOT_FOUND, "no such path");
        return;
    }
    control_tail *t = control_tail_find(c, script, a->segments[rest]);
    if (!t) {
        api_fail(a, 404, CODE_NOT_FOUND, "%s has no tail session %s (it may have expired)", script,
                 a->segments[rest]);
        return;
    }
    if (!strcmp(a->method, "DELETE")) {
        control_tail_end(c, t, WS_CLOSE_NORMAL, "tail session deleted");
        api_ok(a, json_null());
    } else if (!strcmp(a->method, "GET") && ws_is_upgrade_request(a->req)) {
        if (t->ws) {
            api_fail(a, 409, CODE_VALIDATION, "tail session %s already has a client",
                     a->segments[rest]);
            return;
        }
        control_tail_connect(c, t, a->req);
    } else if (!strcmp(a->method, "GET")) {
        api_ok(a, tail_json(a, script, t));
    } else {
        api_fail(a, 405, CODE_METHOD, "%s is not allowed here (use GET or DELETE)", a->method);
    }
}
