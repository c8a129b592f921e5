/* service_ops — the ops behind service bindings (see service_ops.h and src/runtime/service.js).
 *
 *   serviceCall(ticket, service, "fetch", method, url, [name, value, ...], body | pipe | null)
 *       body: bytes (all of it), or the id of a pipe the caller writes the body into
 *   serviceCall(ticket, service, "rpc", entrypoint, methodName, arguments (serialized bytes),
 *               pipes (Float64Array) | null)
 *       → "" when the call is on its way, else why not (no such Worker, nothing deployed)
 *   serviceReturn(invocationId, ok, bytes, pipes (Float64Array) | null) — the callee's RPC
 *       method settled (serialized result, or the error it threw)
 *
 * An RPC value's streams and bodies cross as pipes (service.js encodeRpcValue): their ids
 * travel inside the serialized value, and `pipes` lists them here so that the receiver becomes
 * their reader when it gets the value (their writer, for a WritableStream's pipe, listed as a
 * negative id), and so that they are cancelled (or failed) when it never does.
 *   serviceRespondStart(invocationId, status, [name, value, ...], statusText) → pipe id — the
 *       callee's Response has a streamed body, which it writes into that pipe
 *
 * The caller's invocation counts the call as pending work until the reply arrives as
 * dispatch("serviceReply", ticket, status, statusText, headerLines, body, rpcBytes, rpcOk),
 * where body is bytes, a pipe id (a number: the body follows through it) or null. */
#include "platform/service_ops.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "js/engine.h"
#include "platform/service_pipe.h"
#include "platform/shard.h"
#include "platform/snapshot.h"

typedef struct hop {
    uv_timer_t timer;
    shard *sh;
    service_call *call; /* to the callee, or NULL for a reply */
    /* the reply */
    uint64_t caller_id;
    double ticket;
    int status;
    char *reason;
    char *headers;
    size_t hlen;
    uint8_t *body;
    size_t blen;
    bool has_body;
    double body_pipe; /* the body streams through this pipe (0: it does not) */
    uint8_t *rpc;     /* an RPC's result or error (serialized); NULL when there is none */
    size_t rpc_len;
    bool rpc_ok;
    double *rpc_pipes; /* the pipes of the result's streams */
    size_t rpc_pipe_count;
} hop;

void service_rpc_pipes_handed(shard *sh, const double *pipes, size_t n, uint64_t receiver) {
    for (size_t i = 0; i < n; i++) {
        /* A negative id: the pipe of a WritableStream, which the receiver writes. */
        double id = pipes[i] < 0 ? -pipes[i] : pipes[i];
        if (pipes[i] < 0) {
            if (receiver)
                service_pipe_set_writer(sh, id, receiver);
            else
                service_pipe_abandon(sh, id);
        } else {
            if (receiver)
                service_pipe_set_reader(sh, id, receiver);
            else
                service_pipe_cancel(sh, id);
        }
    }
}

/* The pipe ids of argument i (a Float64Array), copied; NULL when there are none. */
static double *pipe_list(js_call *c, size_t i, size_t *n) {
    *n = 0;
    if (!js_arg_is_bytes(c, i)) return NULL;
    size_t len = 0;
    const uint8_t *b = js_arg_bytes(c, i, &len);
    if (!b || len < sizeof(double)) return NULL;
    *n = len / sizeof(double);
    double *out = xmalloc(*n * sizeof(double));
    memcpy(out, b, *n * sizeof(double));
    return out;
}

static void call_free(service_call *call) {
    if (!call) return;
    if (call->version) worker_version_unref(call->version);
    free(call->method);
    free(call->url);
    free(call->headers);
    free(call->body);
    free(call->pipes);
    free(call);
}

static void hop_closed(uv_handle_t *h) {
    hop *p = h->data;
    call_free(p->call);
    free(p->reason);
    free(p->headers);
    free(p->body);
    free(p->rpc);
    free(p->rpc_pipes);
    free(p);
}

static void deliver_reply(hop *p) {
    shard *sh = p->sh;
    invocation *inv = invocation_lookup(sh, p->caller_id);
    if (!inv) {
        /* The caller is gone: nobody will read the body or the result's streams. */
        if (p->body_pipe) service_pipe_cancel(sh, p->body_pipe);
        service_rpc_pipes_handed(sh, p->rpc_pipes, p->rpc_pipe_count, 0);
        return;
    }
    service_rpc_pipes_handed(sh, p->rpc_pipes, p->rpc_pipe_count, inv->id);
    if (inv->pending > 0) inv->pending--;
    js_args a = {0};
    js_args_number(&a, p->ticket);
    js_args_number(&a, p->status);
    js_args_latin1(&a, p->reason ? p->reason : "", p->reason ? strlen(p->reason) : 0);
    js_args_latin1(&a, p->headers ? p->headers : "", p->hlen);
    if (p->body_pipe)
        js_args_number(&a, p->body_pipe);
    else if (p->has_body)
        js_args_bytes(&a, p->body ? (const void *)p->body : "", p->blen);
    else
        js_args_null(&a);
    if (p->rpc)
        js_args_bytes(&a, p->rpc, p->rpc_len);
    else
        js_args_null(&a);
    js_args_bool(&a, p->rpc_ok);
    invocation_deliver(sh, p->caller_id, "serviceReply", &a);
}

static void on_hop(uv_timer_t *t) {
    hop *p = t->data;
    if (p->call) {
        char *why = invocation_run_service(p->sh, p->call);
        if (why) {
            if (p->call->body_pipe) service_pipe_cancel(p->sh, p->call->body_pipe);
            service_rpc_pipes_handed(p->sh, p->call->pipes, p->call->pipe_count, 0);
            /* The callee could not start: the caller gets the platform's 500. */
            p->caller_id = p->call->caller_id;
            p->ticket = p->call->ticket;
            p->status = 500;
            p->headers = xstrdup("content-type: text/plain; charset=utf-8\r\n");
            p->hlen = strlen(p->headers);
            buf b = {0};
            buf_printf(&b, "Worker failed to start.\n%s\n", why);
            p->body = (uint8_t *)buf_detach(&b, &p->blen);
            p->has_body = true;
            free(why);
            deliver_reply(p);
        }
    } else {
        deliver_reply(p);
    }
    uv_close((uv_handle_t *)&p->timer, hop_closed);
}

static void hop_start(shard *sh, hop *p) {
    p->sh = sh;
    uv_timer_init(&sh->loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_hop, 0, 0);
}

void service_deliver_response(invocation *inv, int status, const char *reason,
                              const char *header_lines, size_t hlen, const void *body,
                              size_t blen) {
    hop *p = xcalloc(1, sizeof *p);
    p->caller_id = inv->caller_id;
    p->ticket = inv->caller_ticket;
    p->status = status;
    p->reason = reason && *reason ? xstrdup(reason) : NULL;
    p->headers = xmemdup0(header_lines ? header_lines : "", hlen);
    p->hlen = hlen;
    p->has_body = true;
    p->body = blen ? (uint8_t *)xmemdup0(body, blen) : NULL;
    p->blen = blen;
    hop_start(inv->sh, p);
}

static void op_service_call(js_call *c) {
    shard *sh = shard_of(c);
    invocation *caller = sh ? invocation_lookup(sh, js_call_async_id(c)) : NULL;
    if (!caller) {
        js_throw(c, "Error",
                 "a service binding can only be called while the Worker handles an event");
        return;
    }
    double ticket = js_arg_number(c, 0);
    size_t name_len;
    const char *name = js_arg_string(c, 1, &name_len);
    const char *kind = js_arg_string(c, 2, NULL);
    if (!name || !kind) return;
    script_entry *se = sh->snap ? snapshot_find_script(sh->snap, name, name_len) : NULL;
    worker_version *v = se ? snapshot_pick_version(se, NULL, 0, NULL, 0, shard_random(sh)) : NULL;
    if (!v) {
        buf m = {0};
        buf_printf(&m,
                   se ? "the Worker \"%s\" has no active deployment"
                      : "there is no Worker named \"%s\" in this hearth",
                   name);
        js_ret_string(c, m.data, m.len);
        buf_free(&m);
        return;
    }
    service_call *call = xcalloc(1, sizeof *call);
    call->caller_id = caller->id;
    call->ticket = ticket;
    call->version = worker_version_ref(v);
    if (!strcmp(kind, "rpc")) {
        call->rpc = 1;
        call->url = xstrdup(js_arg_is_string(c, 3) ? js_arg_string(c, 3, NULL) : "");
        call->method = xstrdup(js_arg_is_string(c, 4) ? js_arg_string(c, 4, NULL) : "");
        call->headers = xstrdup("");
        size_t al = 0;
        const uint8_t *args = js_arg_is_bytes(c, 5) ? js_arg_bytes(c, 5, &al) : NULL;
        if (!args || !al) {
            call_free(call);
            js_throw(c, "TypeError", "serviceCall: the RPC arguments must be serialized bytes");
            return;
        }
        call->body = (uint8_t *)xmemdup0((const char *)args, al);
        call->body_len = al;
        call->pipes = pipe_list(c, 6, &call->pipe_count);
    } else {
        const char *m = js_arg_latin1(c, 3, NULL);
        call->method = xstrdup(m ? m : "GET");
        call->url = xstrdup(js_arg_is_string(c, 4) ? js_arg_string(c, 4, NULL) : "http://x/");
        buf lines = {0};
        size_t n = js_arg_array_len(c, 5);
        for (size_t i = 0; i + 1 < n; i += 2) {
            size_t nl, vl;
            const char *hn = js_arg_array_string(c, 5, i, &nl);
            const char *hv = js_arg_array_string(c, 5, i + 1, &vl);
            if (!hn || !hv) continue;
            buf_append(&lines, hn, nl);
            buf_append(&lines, ": ", 2);
            buf_append(&lines, hv, vl);
            buf_append(&lines, "\r\n", 2);
        }
        call->headers = lines.data ? buf_detach(&lines, NULL) : xstrdup("");
        if (js_arg_is_bytes(c, 6)) {
            size_t bl;
            const uint8_t *b = js_arg_bytes(c, 6, &bl);
            call->body = (uint8_t *)xmemdup0(b ? (const char *)b : "", bl);
            call->body_len = bl;
        } else if (!js_arg_is_nullish(c, 6)) {
            call->body_pipe = js_arg_number(c, 6);
        }
    }
    caller->pending++;
    hop *p = xcalloc(1, sizeof *p);
    p->call = call;
    hop_start(sh, p);
    js_ret_string(c, "", 0);
}

static void op_service_return(js_call *c) {
    shard *sh = shard_of(c);
    invocation *inv = invocation_lookup(sh, (uint64_t)js_arg_number(c, 0));
    if (!inv || !inv->is_service || inv->responded) {
        size_t n;
        double *pipes = pipe_list(c, 3, &n);
        service_rpc_pipes_handed(sh, pipes, n, 0);
        free(pipes);
        return;
    }
    bool ok = js_arg_bool(c, 1);
    size_t len = 0;
    const uint8_t *bytes = js_arg_is_bytes(c, 2) ? js_arg_bytes(c, 2, &len) : NULL;
    inv->responded = true;
    inv->status = ok ? 200 : 500;
    if (!ok) inv->outcome = "exception";
    hop *p = xcalloc(1, sizeof *p);
    p->caller_id = inv->caller_id;
    p->ticket = inv->caller_ticket;
    p->status = inv->status;
    /* No bytes: the caller reports the callee's failure by its status. */
    p->rpc = bytes && len ? (uint8_t *)xmemdup0((const char *)bytes, len) : NULL;
    p->rpc_len = len;
    p->rpc_ok = ok;
    p->rpc_pipes = pipe_list(c, 3, &p->rpc_pipe_count);
    hop_start(sh, p);
}

/* Header lines from [name, value, ...], without the framing ones (as for a whole body). */
static const char *const framing_headers[] = {"content-length", "transfer-encoding", "connection",
                                              NULL};

static void op_service_respond_start(js_call *c) {
    shard *sh = shard_of(c);
    invocation *inv = invocation_lookup(sh, (uint64_t)js_arg_number(c, 0));
    if (!inv || !inv->is_service || inv->responded) {
        js_ret_number(c, 0);
        return;
    }
    int status = (int)js_arg_number(c, 1);
    if (status < 200 || status > 599) status = 500;
    buf lines = {0};
    invocation_header_lines(c, 2, framing_headers, &lines);
    const char *reason = js_arg_is_string(c, 3) ? js_arg_latin1(c, 3, NULL) : NULL;
    inv->responded = true;
    inv->status = status;
    hop *p = xcalloc(1, sizeof *p);
    p->caller_id = inv->caller_id;
    p->ticket = inv->caller_ticket;
    p->status = status;
    p->reason = reason && *reason ? xstrdup(reason) : NULL;
    p->hlen = lines.len;
    p->headers = lines.data ? buf_detach(&lines, NULL) : xstrdup("");
    p->body_pipe = service_pipe_open(sh, inv->id, inv->caller_id);
    hop_start(sh, p);
    js_ret_number(c, p->body_pipe);
}

static const js_op service_ops[] = {
    {"serviceCall", op_service_call},
    {"serviceReturn", op_service_return},
    {"serviceRespondStart", op_service_respond_start},
};

void service_ops_register(void) {
    js_ops_register(service_ops, sizeof service_ops / sizeof service_ops[0]);
    service_pipe_ops_register();
}
