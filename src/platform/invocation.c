#include "platform/invocation.h"

#include <ctype.h>
#include <inttypes.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "platform/fetch_ops.h"
#include "platform/server.h"
#include "platform/service_ops.h"
#include "platform/service_pipe.h"
#include "platform/timers.h"
#include "observe/metrics.h"
#include "platform/tracing.h"
#include "platform/websocket_ops.h"
#include "webapi/url.h"

/* Invocation ids: slot in the low 20 bits, a generation above, so an id that outlived its
 * invocation never finds the slot's next occupant. Stays below 2^53 (exact in JavaScript). */
#define SLOT_BITS 20
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

const char INVOCATION_GLOBAL_SCOPE_MESSAGE[] =
    "Disallowed operation called within global scope. Asynchronous I/O (ex: fetch() or "
    "connect()), setting a timeout, and generating random values are not allowed within global "
    "scope. To fix this error, perform this operation within a handler.";

#define DEFAULT_SUBREQUEST_LIMIT 1000

bool invocation_count_subrequest(invocation *inv) {
    static int limit;
    if (!limit) {
        const char *s = getenv("HEARTH_SUBREQUEST_LIMIT");
        int v = s ? atoi(s) : 0;
        limit = v > 0 ? v : DEFAULT_SUBREQUEST_LIMIT;
    }
    return ++inv->subrequests <= limit;
}

static invocation *invocation_new(shard *sh, http_request *req, realm_entry *e) {
    uint32_t slot = 0;
    while (slot < sh->invocation_cap && sh->invocations[slot]) slot++;
    if (slot == sh->invocation_cap) {
        uint32_t cap = sh->invocation_cap ? sh->invocation_cap * 2 : 64;
        if (cap > SLOT_MASK) abort(); /* a million concurrent requests on one thread */
        sh->invocations = xrealloc(sh->invocations, cap * sizeof *sh->invocations);
        memset(sh->invocations + sh->invocation_cap, 0,
               (cap - sh->invocation_cap) * sizeof *sh->invocations);
        sh->invocation_cap = cap;
    }
    invocation *inv = xcalloc(1, sizeof *inv);
    inv->slot = slot;
    inv->id = ((uint64_t)(++sh->invocation_gen) << SLOT_BITS) | slot;
    inv->sh = sh;
    inv->req = req;
    inv->entry = e;
    inv->start_ns = req ? req->start_ns : uv_hrtime();
    inv->outcome = "ok";
    snprintf(inv->method, sizeof inv->method, "%s", req ? req->method : "TAIL");
    inv->path =
        req ? xmemdup0(req->target.data ? req->target.data : "/", req->target.len) : xstrdup("");
    e->inflight++;
    sh->invocations[slot] = inv;
    return inv;
}

invocation *invocation_lookup(shard *sh, uint64_t id) {
    if (!sh) return NULL; /* ops run by the compiler shard (a trial load) serve no request */
    uint32_t slot = (uint32_t)(id & SLOT_MASK);
    if (slot >= sh->invocation_cap) return NULL;
    invocation *inv = sh->invocations[slot];
    return inv && inv->id == id ? inv : NULL;
}

static void access_log(invocation *inv) {
    hearth_server *srv = inv->sh->server;
    if (!srv->cfg.access_log || inv->is_tail) return;
    double ms = (double)(uv_hrtime() - inv->start_ns) / 1e6;
    shard_log(inv->sh, false, "[hearth] %s %s %d %s (%.1fms)\n", inv->method, inv->path,
              inv->status, http_status_reason(inv->status), ms);
}

static void record_metrics(invocation *inv) {
    worker_version *v = inv->entry->version;
    if (!v->metrics) return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t now_ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    metrics_record(v->metrics, inv->sh->index, metrics_outcome_from_name(inv->outcome), inv->status,
                   uv_hrtime() - inv->start_ns, inv->cpu_ns, now_ms);
}

static void invocation_free(invocation *inv) {
    shard *sh = inv->sh;
    tracing_end(inv);
    record_metrics(inv);
    if (inv->streaming) {
        http_respond_abort(inv->req);
        inv->req = NULL;
        inv->streaming = false;
    }
    timers_cancel_invocation(sh, inv->id);
    fetch_ops_cancel_invocation(sh, inv->id);
    websocket_ops_end_invocation(sh, inv);
    service_pipes_invocation_ended(sh, inv->id);
    sh->invocations[inv->slot] = NULL;
    shard_realm_release(sh, inv->entry);
    free(inv->path);
    free(inv);
}

/* Sends a response and logs it. header_lines are preformatted "name: value\r\n" lines. */
static void send_response(invocation *inv, int status, const char *reason, const char *header_lines,
                          size_t hlen, const void *body, size_t blen) {
    if (inv->responded) return;
    inv->responded = true;
    inv->status = status;
    if (inv->is_service) {
        service_deliver_response(inv, status, reason, header_lines, hlen, body, blen);
        access_log(inv);
        return;
    }
    http_respond(inv->req, status, reason, header_lines, hlen, body, blen);
    inv->req = NULL;
    access_log(inv);
}

static void request_id_hex(const invocation *inv, char out[17]) {
    snprintf(out, 17, "%016" PRIx64, inv->sh->server->request_id_salt ^ inv->id);
}

/* An error page, as the platform's own response (the Worker produced none). */
static void send_error_page(invocation *inv, int status, const char *title, const char *detail) {
    char rid[17];
    request_id_hex(inv, rid);
    buf body = {0};
    buf_printf(&body,
               "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s | hearth</title>"
               "</head>\n<body>\n<h1>%d %s</h1>\n<p>%s</p>\n<p>Request ID: <code>%s</code></p>\n",
               title, status, http_status_reason(status), title, rid);
    if (detail && *detail) {
        /* Details (the exception and its stack) only where the operator is the developer. */
        buf_puts(&body, "<pre>");
        for (const char *p = detail; *p; p++) {
            switch (*p) {
            case '<':
                buf_puts(&body, "&lt;");
                break;
            case '>':
                buf_puts(&body, "&gt;");
                break;
            case '&':
                buf_puts(&body, "&amp;");
                break;
            default:
                buf_putc(&body, *p);
            }
        }
        buf_puts(&body, "</pre>\n");
    }
    buf_puts(&body, "</body></html>\n");
    buf lines = {0};
    buf_printf(&lines, "content-type: text/html; charset=utf-8\r\nhearth-request-id: %s\r\n", rid);
    send_response(inv, status, NULL, lines.data, lines.len, body.data, body.len);
    buf_free(&body);
    buf_free(&lines);
}

static void fail_uncaught(invocation *inv, const char *text) {
    char rid[17];
    request_id_hex(inv, rid);
    shard_log(inv->sh, true, "[hearth] Uncaught exception in %s %s (request %s)\n%s\n", inv->method,
              inv->path, rid, text);
    inv->outcome = "exception";
    bool dev = inv->sh->server->cfg.dev;
    send_error_page(inv, 500, "Worker threw exception", dev ? text : NULL);
}

static void fail_limit(invocation *inv, const char *reason) {
    inv->outcome = reason;
    const char *what = strcmp(reason, "exceededMemory") == 0 ? "memory" : "CPU time";
    char title[128];
    snprintf(title, sizeof title, "Worker exceeded its %s limit", what);
    shard_log(inv->sh, true, "[hearth] %s %s: %s; its isolate was reset\n", inv->method, inv->path,
              title);
    send_error_page(inv, 503, title, NULL);
    inv->js_done = true;
}

static void abort_stream(invocation *inv) {
    if (!inv->streaming) return;
    inv->streaming = false;
    http_respond_abort(inv->req);
    inv->req = NULL;
}

void invocation_settle(invocation *inv) {
    if (inv->responded && inv->js_done && !inv->streaming) {
        if (websocket_ops_keeps_alive(inv)) return; /* until its outbound sockets close */
        invocation_free(inv);
        return;
    }
    if (inv->pending > 0) return;
    if (inv->streaming) {
        /* Its body stream waits for data nothing will ever produce. */
        inv->outcome = "exception";
        shard_log(inv->sh, true,
                  "[hearth] %s %s: the response body stream stalled (nothing will ever write to "
                  "it); the connection was closed\n",
                  inv->method, inv->path);
        abort_stream(inv);
        invocation_free(inv);
        return;
    }
    /* Nothing queued can resume this invocation: its promises can never settle. */
    if (!inv->responded) {
        inv->outcome = "exception";
        shard_log(inv->sh, true,
                  "[hearth] %s %s: the Worker's code had hung and would never generate a "
                  "response (a promise that nothing will resolve)\n",
                  inv->method, inv->path);
        send_error_page(inv, 500, "The script will never generate a response", NULL);
    }
    invocation_free(inv);
}

void invocation_fail_entry(shard *sh, realm_entry *e, const char *reason) {
    timers_cancel_entry(sh, e);
    for (uint32_t i = 0; i < sh->invocation_cap; i++) {
        invocation *inv = sh->invocations[i];
        if (!inv || inv->entry != e) continue;
        if (!inv->responded) fail_limit(inv, reason);
        inv->js_done = true;
        inv->pending = 0;
    }
    /* The one whose JavaScript is running is settled by its dispatcher; the others, which
     * only timers could have resumed, end now. */
    for (uint32_t i = 0; i < sh->invocation_cap; i++) {
        invocation *inv = sh->invocations[i];
        if (inv && inv->entry == e && inv != sh->running) invocation_free(inv);
    }
}

void invocation_fail_all(shard *sh, const char *why) {
    for (uint32_t i = 0; i < sh->invocation_cap; i++) {
        invocation *inv = sh->invocations[i];
        if (!inv) continue;
        if (!inv->responded) {
            inv->outcome = "canceled";
            send_error_page(inv, 503, why, NULL);
        }
        invocation_free(inv);
    }
}

/* "host:port" → "host"; bracketed IPv6 stays bracketed. */
static size_t host_without_port(const char *host, size_t len) {
    if (len && host[0] == '[') {
        const char *end = memchr(host, ']', len);
        return end ? (size_t)(end - host) + 1 : len;
    }
    const char *colon = memchr(host, ':', len);
    return colon ? (size_t)(colon - host) : len;
}

/* The worker version that serves req: by host, route or default, then within the active
 * deployment by override header, version key, or at random. */
static worker_version *route_request(shard *sh, http_request *req, script_entry **se) {
    *se = NULL;
    if (!sh->snap) return NULL;
    const char *host = req->host.data ? req->host.data : "";
    size_t host_len = host_without_port(host, req->host.len);
    const char *path = req->target.data ? req->target.data : "/";
    size_t path_len = req->target.len;
    if (path_len && path[0] != '/') {
        /* absolute-form target: route on its path */
        const char *p = strstr(path, "://");
        p = p ? strchr(p + 3, '/') : NULL;
        path_len = p ? path_len - (size_t)(p - path) : 1;
        path = p ? p : "/";
    }
    route_result rr;
    if (!snapshot_route(sh->snap, host, host_len, path, path_len, &rr)) return NULL;
    *se = rr.script;
    if (rr.preview) return rr.preview;
    const char *overrides = NULL, *key = NULL;
    size_t overrides_len = 0, key_len = 0;
    if (rr.script->split_count > 1) {
        /* The headers matter only when there is a choice to make. */
        overrides =
            http_request_header(req, "cloudflare-workers-version-overrides", &overrides_len);
        key = http_request_header(req, "cloudflare-workers-version-key", &key_len);
    }
    return snapshot_pick_version(rr.script, overrides, overrides_len, key, key_len,
                                 key ? 0 : shard_random(sh));
}

/* The value of query parameter `name` in target, decoded (%XX and + for space); NULL if absent. */
static char *query_param(const char *target, size_t len, const char *name) {
    const char *q = memchr(target, '?', len), *end = target + len;
    size_t n = strlen(name);
    for (const char *p = q ? q + 1 : end; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - p) > n && !strncmp(p, name, n) && p[n] == '=') {
            buf out = {0};
            for (const char *s = p + n + 1; s < stop; s++) {
                if (*s == '+') {
                    buf_putc(&out, ' ');
                } else if (*s == '%' && stop - s >= 3 && isxdigit((unsigned char)s[1]) &&
                           isxdigit((unsigned char)s[2])) {
                    char hex[3] = {s[1], s[2], 0};
                    buf_putc(&out, (char)strtol(hex, NULL, 16));
                    s += 2;
                } else {
                    buf_putc(&out, *s);
                }
            }
            return buf_detach(&out, NULL);
        }
        p = stop + 1;
    }
    return NULL;
}

/* hearth dev, like wrangler dev: GET /__scheduled?cron=<expression>&time=<Unix ms> runs the
 * Worker's scheduled() instead of fetch(). */
static bool run_scheduled_endpoint(shard *sh, worker_version *v, http_request *req) {
    const char *t = req->target.data ? req->target.data : "/";
    size_t len = req->target.len;
    if (!sh->server->cfg.dev || len < 12 || strncmp(t, "/__scheduled", 12) != 0 ||
        (len > 12 && t[12] != '?'))
        return false;
    char *cron = query_param(t, len, "cron");
    char *time = query_param(t, len, "time");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    uint64_t at = time && *time ? strtoull(time, NULL, 10) : now;
    invocation_run_scheduled(sh, v, cron ? cron : "", at, req);
    free(cron);
    free(time);
    return true;
}

/* Dispatches the event that starts inv (`kind`), then settles it. If the runtime's dispatcher
 * itself throws (a hearth bug, or an unusable realm), inv fails: with the error page if it has
 * not responded, else with a log line "<log_as> <Worker>: ..." (none when log_as is NULL).
 * JS_RESULT_TERMINATED has already failed the realm's invocations (invocation_fail_entry). */
static void start_invocation(invocation *inv, const char *kind, const js_args *a,
                             const char *log_as) {
    shard *sh = inv->sh;
    js_error err;
    const char *reason = NULL;
    if (shard_dispatch(sh, inv->entry, inv, kind, a, &err, &reason) == JS_RESULT_EXCEPTION) {
        char *text = js_error_format(&err);
        js_error_clear(&err);
        if (!inv->responded)
            fail_uncaught(inv, text);
        else if (log_as)
            shard_log(sh, true, "[hearth] %s %s: %s\n", log_as, inv->entry->version->worker_name,
                      text);
        free(text);
        inv->js_done = true;
    }
    if (invocation_lookup(sh, inv->id)) invocation_settle(inv);
}

void invocation_handle_request(void *shard_ptr, http_request *req) {
    shard *sh = shard_ptr;
    script_entry *se;
    worker_version *v = route_request(sh, req, &se);
    if (!v) {
        static const char msg[] = "No Worker is deployed at this address.\n";
        http_respond(req, 404, NULL, "content-type: text/plain; charset=utf-8\r\n", 41, msg,
                     sizeof msg - 1);
        return;
    }
    if (run_scheduled_endpoint(sh, v, req)) return;
    js_error err;
    realm_entry *e = shard_realm_for(sh, v, &err);
    if (!e) {
        char *text = js_error_format(&err);
        js_error_clear(&err);
        shard_log(sh, true, "[hearth] Worker %s failed to start:\n%s\n", v->worker_name, text);
        buf body = {0};
        buf_printf(&body, "Worker failed to start.\n%s\n", sh->server->cfg.dev ? text : "");
        http_respond(req, 500, NULL, "content-type: text/plain; charset=utf-8\r\n", 41, body.data,
                     body.len);
        buf_free(&body);
        free(text);
        return;
    }
    invocation *inv = invocation_new(sh, req, e);

    /* request.url is absolute and normalised, as on the platform: the URL parser sees scheme,
     * Host and target (percent-encoding raw UTF-8, resolving dot segments, ...). */
    buf raw = {0};
    if (req->target.len && req->target.data[0] != '/') {
        buf_append(&raw, req->target.data, req->target.len); /* absolute-form */
    } else {
        buf_puts(&raw, "http://");
        if (req->host.len)
            buf_append(&raw, req->host.data, req->host.len);
        else
            buf_puts(&raw, sh->server->cfg.default_host);
        buf_append(&raw, req->target.data ? req->target.data : "/", req->target.len);
    }
    url parsed;
    if (url_parse(raw.data, raw.len, NULL, &parsed, NULL) != 0) {
        static const char msg[] = "invalid request target or Host header\n";
        buf_free(&raw);
        inv->responded = true;
        inv->status = 400;
        inv->js_done = true;
        http_respond(req, 400, NULL, "content-type: text/plain; charset=utf-8\r\n", 41, msg,
                     sizeof msg - 1);
        inv->req = NULL;
        access_log(inv);
        invocation_free(inv);
        return;
    }
    buf_free(&raw);
    buf url = {0};
    char *href = url_serialize(&parsed, false);
    buf_puts(&url, href);
    free(href);
    url_free(&parsed);
    tracing_begin_fetch(inv, se, url.data, url.len);
    js_args a = {0};
    js_args_number(&a, (double)inv->id);
    js_args_latin1(&a, req->method, strlen(req->method));
    js_args_latin1(&a, url.data, url.len);
    js_args_latin1(&a, req->headers.data ? req->headers.data : "", req->headers.len);
    if (req->body.len)
        js_args_bytes(&a, req->body.data, req->body.len);
    else
        js_args_null(&a);
    js_args_latin1(&a, req->peer, strlen(req->peer));
    start_invocation(inv, "fetch", &a, NULL);
    buf_free(&url);
}

void invocation_run_scheduled(shard *sh, worker_version *v, const char *cron, uint64_t scheduled_ms,
                              http_request *req) {
    js_error err;
    realm_entry *e = shard_realm_for(sh, v, &err);
    if (!e) {
        char *text = js_error_format(&err);
        js_error_clear(&err);
        shard_log(sh, true, "[hearth] Worker %s failed to start for scheduled():\n%s\n",
                  v->worker_name, text);
        free(text);
        if (req)
            http_respond(req, 500, NULL, "content-type: text/plain; charset=utf-8\r\n", 41,
                         "Worker failed to start.\n", 24);
        return;
    }
    invocation *inv = invocation_new(sh, req, e);
    inv->is_scheduled = true;
    if (!req) {
        inv->responded = true; /* a cron trigger has no one to answer */
        snprintf(inv->method, sizeof inv->method, "CRON");
        free(inv->path);
        inv->path = xstrdup(cron);
    }
    js_args a = {0};
    js_args_number(&a, (double)inv->id);
    js_args_string(&a, cron, strlen(cron));
    js_args_number(&a, (double)scheduled_ms);
    js_args_bool(&a, req != NULL);
    start_invocation(inv, "scheduled", &a, "scheduled() of");
}

void invocation_run_tail(shard *sh, worker_version *v, const char *events_json, size_t len) {
    js_error err;
    realm_entry *e = shard_realm_for(sh, v, &err);
    if (!e) {
        char *text = js_error_format(&err);
        js_error_clear(&err);
        shard_log(sh, true, "[hearth] Tail Worker %s failed to start:\n%s\n", v->worker_name, text);
        free(text);
        return;
    }
    invocation *inv = invocation_new(sh, NULL, e);
    inv->is_tail = true;
    inv->responded = true; /* there is nothing to respond to */
    js_args a = {0};
    js_args_number(&a, (double)inv->id);
    js_args_string(&a, events_json, len);
    start_invocation(inv, "tail", &a, "Tail Worker"); /* responded: never an error page */
}

char *invocation_run_service(shard *sh, service_call *call) {
    worker_version *v = call->version;
    js_error err;
    realm_entry *e = shard_realm_for(sh, v, &err);
    if (!e) {
        char *text = js_error_format(&err);
        js_error_clear(&err);
        shard_log(sh, true, "[hearth] Worker %s failed to start for a service binding:\n%s\n",
                  v->worker_name, text);
        return text;
    }
    invocation *inv = invocation_new(sh, NULL, e);
    inv->is_service = true;
    inv->caller_id = call->caller_id;
    inv->caller_ticket = call->ticket;
    snprintf(inv->method, sizeof inv->method, "%s", call->rpc ? "RPC" : call->method);
    free(inv->path);
    inv->path = xstrdup(call->rpc ? call->method : call->url);
    js_args a = {0};
    js_args_number(&a, (double)inv->id);
    if (call->rpc) {
        js_args_string(&a, call->url, strlen(call->url));
        js_args_string(&a, call->method, strlen(call->method));
        js_args_bytes(&a, call->body, call->body_len); /* the arguments, serialized */
        service_rpc_pipes_handed(sh, call->pipes, call->pipe_count, inv->id);
    } else {
        js_args_latin1(&a, call->method, strlen(call->method));
        js_args_string(&a, call->url, strlen(call->url));
        js_args_latin1(&a, call->headers, strlen(call->headers));
        if (call->body_pipe) {
            /* The body streams: the callee reads the pipe the caller writes. */
            service_pipe_set_reader(sh, call->body_pipe, inv->id);
            js_args_number(&a, call->body_pipe);
        } else if (call->body) {
            js_args_bytes(&a, call->body, call->body_len);
        } else {
            js_args_null(&a);
        }
    }
    start_invocation(inv, call->rpc ? "rpc" : "serviceFetch", &a, NULL);
    return NULL;
}

/* ---- ops ------------------------------------------------------------------------------- */

static invocation *op_invocation(js_call *c, size_t arg) {
    shard *sh = shard_of(c);
    return invocation_lookup(sh, (uint64_t)js_arg_number(c, arg));
}

/* Header lines for the wire from [name, value, ...]; framing headers are the server's. */
void invocation_header_lines(js_call *c, size_t arg, const char *const *skip, buf *lines) {
    size_t n = js_arg_array_len(c, arg);
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t nl, vl;
        const char *name = js_arg_array_string(c, arg, i, &nl);
        const char *value = js_arg_array_string(c, arg, i + 1, &vl);
        if (!name || !value) continue;
        bool skipped = false;
        for (size_t k = 0; skip[k] && !skipped; k++)
            skipped = strlen(skip[k]) == nl && strncasecmp(name, skip[k], nl) == 0;
        if (skipped) continue;
        buf_append(lines, name, nl);
        buf_append(lines, ": ", 2);
        buf_append(lines, value, vl);
        buf_append(lines, "\r\n", 2);
    }
}

/* What the HTTP server writes itself on a response. */
static const char *const framing_headers[] = {"content-length", "transfer-encoding", "connection",
                                              "date", NULL};

static void header_lines(js_call *c, size_t arg, buf *lines) {
    invocation_header_lines(c, arg, framing_headers, lines);
}

/* respond(rid, status, [name, value, ...], body, statusText) — body is a string, bytes or
 * null; statusText the reason phrase ("" for the standard one). */
static void op_respond(js_call *c) {
    invocation *inv = op_invocation(c, 0);
    if (!inv || inv->responded) return;
    int status = (int)js_arg_number(c, 1);
    if (status < 200 || status > 599) status = 500;
    buf lines = {0};
    header_lines(c, 2, &lines);
    const char *reason = js_arg_is_string(c, 4) ? js_arg_latin1(c, 4, NULL) : NULL;
    /* The body is read last: a string view stays valid only until the next argument read. */
    const void *body = NULL;
    size_t blen = 0;
    if (js_arg_is_string(c, 3))
        body = js_arg_string_view(c, 3, &blen);
    else if (js_arg_is_bytes(c, 3))
        body = js_arg_bytes(c, 3, &blen);
    send_response(inv, status, reason, lines.data ? lines.data : "", lines.len, body, blen);
    buf_free(&lines);
}

/* respondStart(rid, status, [name, value, ...], contentLength, statusText) — the head of a
 * response whose body follows with respondWrite; contentLength -1 when unknown. */
static void op_respond_start(js_call *c) {
    invocation *inv = op_invocation(c, 0);
    if (!inv || inv->responded) return;
    int status = (int)js_arg_number(c, 1);
    if (status < 200 || status > 599) status = 500;
    buf lines = {0};
    header_lines(c, 2, &lines);
    int64_t length = (int64_t)js_arg_number(c, 3);
    const char *reason = js_arg_is_string(c, 4) ? js_arg_latin1(c, 4, NULL) : NULL;
    inv->responded = true;
    inv->streaming = true;
    inv->status = status;
    http_respond_start(inv->req, status, reason, lines.data ? lines.data : "", lines.len, length);
    buf_free(&lines);
}

/* respondWrite(rid, bytes) → bytes queued for the client (wait for drain when large), or -1
 * when the client is gone (the runtime cancels the body then). */
static void op_respond_write(js_call *c) {
    invocation *inv = op_invocation(c, 0);
    if (!inv) {
        js_ret_number(c, -1);
        return;
    }
    size_t len;
    const uint8_t *data = js_arg_bytes(c, 1, &len);
    js_ret_number(c, (double)invocation_body_write(inv, data, len));
    shard_note_body_bytes(inv->sh, len);
}

int64_t invocation_body_write(invocation *inv, const void *data, size_t len) {
    if (!inv->streaming) return -1;
    return http_respond_write(inv->req, data, len);
}

void invocation_body_end(invocation *inv) {
    if (!inv->streaming) return;
    inv->streaming = false;
    http_respond_end(inv->req);
    inv->req = NULL;
    access_log(inv);
}

void invocation_body_abort(invocation *inv, const char *outcome) {
    if (!inv->streaming) return;
    inv->outcome = outcome;
    abort_stream(inv);
    access_log(inv);
}

bool invocation_deliver(shard *sh, uint64_t id, const char *kind, const js_args *a) {
    invocation *inv = invocation_lookup(sh, id);
    if (!inv) return false;
    js_error err;
    const char *reason;
    if (shard_dispatch(sh, inv->entry, inv, kind, a, &err, &reason) == JS_RESULT_EXCEPTION)
        js_error_clear(&err);
    inv = invocation_lookup(sh, id);
    if (inv) invocation_settle(inv);
    return true;
}

static void on_drain(void *ud, http_request *req) {
    shard *sh = ud;
    /* By id, not pointer: the invocation may have ended meanwhile. */
    uint64_t id = req->owner;
    invocation *inv = invocation_lookup(sh, id);
    if (!inv || !inv->drain_wait) return;
    inv->drain_wait = false;
    inv->pending--;
    js_args a = {0};
    js_args_number(&a, (double)id);
    invocation_deliver(sh, id, "drain", &a);
}

/* waitDrain(rid) — the runtime gets a "drain" event when the queued output is small again. */
static void op_wait_drain(js_call *c) {
    invocation *inv = op_invocation(c, 0);
    if (!inv || !inv->streaming || inv->drain_wait) return;
    inv->drain_wait = true;
    inv->pending++;
    inv->req->owner = inv->id;
    http_respond_on_drain(inv->req, on_drain, inv->sh);
}

/* respondEnd(rid) — the body is complete. */
static void op_respond_end(js_call *c) {
    invocation *inv = op_invocation(c, 0);
    if (inv) invocation_body_end(inv);
}

/* respondAbort(rid) — the body failed midway: the client sees the connection close. */
static void op_respond_abort(js_call *c) {
    invocation *inv = op_invocation(c, 0);
    if (inv) invocation_body_abort(inv, "exception");
}

/* reportException(rid, text, logOnly, name, message, stack, prefix, suffix) — the handler
 * threw or its promise rejected (the request fails, if it has no response yet); with logOnly,
 * an error that does not fail the request (a rejected waitUntil promise, ...). `text` is what
 * to print; the parts go to the trace event, and replace `text` when source maps apply. */
static void op_report_exception(js_call *c) {
    invocation *inv = op_invocation(c, 0);
    if (!inv) return;
    char *text = tracing_exception(inv, js_arg_string(c, 1, NULL), js_arg_string(c, 3, NULL),
                                   js_arg_string(c, 4, NULL), js_arg_string(c, 5, NULL),
                                   js_arg_string(c, 6, NULL), js_arg_string(c, 7, NULL));
    bool log_only = js_arg_bool(c, 2);
    if (inv->is_tail) {
        shard_log(inv->sh, true, "[hearth] Tail Worker %s: %s\n", inv->entry->version->worker_name,
                  text);
    } else if (inv->is_scheduled && !inv->req) {
        inv->outcome = "exception";
        shard_log(inv->sh, true, "[hearth] scheduled() of %s (cron \"%s\"): %s\n",
                  inv->entry->version->worker_name, inv->path, text);
    } else if (log_only) {
        shard_log(inv->sh, true, "[hearth] %s %s: %s\n", inv->method, inv->path, text);
    } else if (inv->responded) {
        shard_log(inv->sh, true, "[hearth] Uncaught exception in %s %s after its response:\n%s\n",
                  inv->method, inv->path, text);
    } else {
        fail_uncaught(inv, text);
    }
    free(text);
}

/* pendingBegin() → the current invocation's id, kept open (not "hung") until pendingEnd(id):
 * for work the engine does in the background on its behalf (WebAssembly compilation). */
static void op_pending_begin(js_call *c) {
    invocation *inv = invocation_lookup(shard_of(c), js_call_async_id(c));
    if (inv) inv->pending++;
    js_ret_number(c, inv ? (double)inv->id : 0);
}

static void op_pending_end(js_call *c) {
    invocation *inv = op_invocation(c, 0);
    if (inv && inv->pending > 0) inv->pending--;
}

/* invocationDone(rid) — the response settled and every waitUntil promise did too. */
static void op_invocation_done(js_call *c) {
    invocation *inv = op_invocation(c, 0);
    if (inv) inv->js_done = true;
}

static const js_op invocation_ops[] = {
    {"respond", op_respond},
    {"respondStart", op_respond_start},
    {"respondWrite", op_respond_write},
    {"respondEnd", op_respond_end},
    {"respondAbort", op_respond_abort},
    {"waitDrain", op_wait_drain},
    {"reportException", op_report_exception},
    {"invocationDone", op_invocation_done},
    {"pendingBegin", op_pending_begin},
    {"pendingEnd", op_pending_end},
};

void invocation_ops_register(void) {
    js_ops_register(invocation_ops, sizeof invocation_ops / sizeof invocation_ops[0]);
}
