#include "platform/tracing.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "observe/logstore.h"
#include "observe/sourcemap.h"
#include "observe/tail.h"
#include "observe/trace.h"
#include "platform/server.h"
#include "platform/tail_workers.h"

static uint64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Head sampling of stored logs: the share of invocations the version's
 * [observability] head_sampling_rate asks for. */
static bool sampled(shard *sh, double rate) {
    if (rate >= 1) return true;
    if (rate <= 0) return false;
    uint64_t x = sh->rng ? sh->rng : (uv_hrtime() | 1);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    sh->rng = x;
    return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0 < rate;
}

void tracing_begin_fetch(invocation *inv, const script_entry *se, const char *url, size_t url_len) {
    worker_version *v = inv->entry->version;
    hearth_server *srv = inv->sh->server;
    bool store = v->store_logs && srv->cfg.logstore && sampled(inv->sh, v->head_sampling_rate);
    bool watched = se && se->tail_count > 0;
    if (!store && !watched && v->tail_consumer_count == 0) return;
    inv->store_log = store;
    http_request *req = inv->req;
    inv->trace = trace_record_new(wall_ms() - (uv_hrtime() - inv->start_ns) / 1000000u, req->method,
                                  url, url_len, req->headers.data, req->headers.len, req->peer);
}

void tracing_end(invocation *inv) {
    trace_record *t = inv->trace;
    if (!t) return;
    inv->trace = NULL;
    shard *sh = inv->sh;
    worker_version *v = inv->entry->version;
    trace_meta m = {
        .script = v->worker_name,
        .version_id = v->version_id,
        .version_tag = v->tag,
        .version_message = v->message,
        .entrypoint = "fetch",
        .outcome = inv->outcome,
        .status = inv->status,
        .cpu_ms = (double)inv->cpu_ns / 1e6,
        .wall_ms = (double)(uv_hrtime() - inv->start_ns) / 1e6,
    };
    /* Tail sessions filter and sample on the record; the JSON is written at most once, and
     * only if someone takes it. */
    tail_offer offer = {.record = t, .meta = &m};
    script_entry *se =
        sh->snap ? snapshot_find_script(sh->snap, v->worker_name, strlen(v->worker_name)) : NULL;
    for (size_t i = 0; se && i < se->tail_count; i++)
        tail_session_offer(se->tails[i], &offer, uv_hrtime() / 1000000u);
    if ((inv->store_log || v->tail_consumer_count) && !offer.json.len)
        trace_record_write(t, &m, &offer.json);
    if (inv->store_log)
        logstore_append(sh->server->cfg.logstore, v->worker_name, v->version_id, m.outcome,
                        trace_record_timestamp(t), offer.json.data, offer.json.len);
    for (size_t i = 0; i < v->tail_consumer_count; i++)
        tail_workers_enqueue(sh, v->tail_consumers[i], offer.json.data, offer.json.len);
    buf_free(&offer.json);
    trace_record_free(t);
}

/* ---- exceptions and stacks --------------------------------------------------------------- */

static bool runtime_frame(const char *line, size_t len) {
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    if (len - i < 3 || strncmp(line + i, "at ", 3) != 0) return false;
    const char *rest = line + i + 3;
    size_t rlen = len - i - 3;
    if (rlen >= 7 && strncmp(rest, "hearth:", 7) == 0) return true;
    const char *paren = memchr(rest, '(', rlen);
    return paren && (size_t)(line + len - paren) > 8 && strncmp(paren + 1, "hearth:", 7) == 0;
}

char *tracing_map_stack(const worker_version *v, const char *stack) {
    char *mapped = v && v->source_maps ? sourcemap_rewrite_stack(v->source_maps, stack) : NULL;
    const char *s = mapped ? mapped : stack;
    buf out = {0};
    while (*s) {
        const char *eol = strchr(s, '\n');
        size_t len = eol ? (size_t)(eol - s) : strlen(s);
        if (!runtime_frame(s, len)) {
            if (out.len) buf_putc(&out, '\n');
            buf_append(&out, s, len);
        }
        s += len + (eol ? 1 : 0);
    }
    free(mapped);
    char *r = buf_detach(&out, NULL);
    return r ? r : xstrdup("");
}

char *tracing_exception(invocation *inv, const char *text, const char *name, const char *message,
                        const char *stack, const char *prefix, const char *suffix) {
    worker_version *v = inv ? inv->entry->version : NULL;
    bool maps = v && v->source_maps && stack && *stack;
    char *clean = stack && *stack ? tracing_map_stack(v, stack) : xstrdup("");
    if (inv && inv->trace) trace_record_exception(inv->trace, name, message, clean, wall_ms());
    if (!maps) {
        free(clean);
        return xstrdup(text ? text : "");
    }
    /* As formatError does: the stack, preceded by "Name: message" unless it starts with it. */
    buf head = {0};
    if (message && *message)
        buf_printf(&head, "%s: %s", name ? name : "Error", message);
    else
        buf_puts(&head, name ? name : "Error");
    buf out = {0};
    buf_puts(&out, prefix ? prefix : "");
    if (strncmp(clean, head.data, head.len) != 0) {
        buf_append(&out, head.data, head.len);
        buf_putc(&out, '\n');
    }
    buf_puts(&out, clean);
    buf_puts(&out, suffix ? suffix : "");
    buf_free(&head);
    free(clean);
    return buf_detach(&out, NULL);
}

/* ---- ops --------------------------------------------------------------------------------- */

/* traceLog(level, valuesJson) — a console call of a traced invocation (console.js asks only
 * when log() said the invocation is traced). */
static void op_trace_log(js_call *c) {
    invocation *inv = invocation_lookup(shard_of(c), js_call_async_id(c));
    if (!inv || !inv->trace) return;
    size_t len;
    const char *level = js_arg_string(c, 0, NULL);
    const char *json = js_arg_string(c, 1, &len);
    trace_record_log(inv->trace, level ? level : "log", json ? json : "[]", json ? len : 2,
                     wall_ms());
}

static const js_op tracing_ops[] = {
    {"traceLog", op_trace_log},
};

void tracing_ops_register(void) {
    js_ops_register(tracing_ops, sizeof tracing_ops / sizeof tracing_ops[0]);
}
