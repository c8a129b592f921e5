/* service_pipe — see service_pipe.h. */
#include "platform/service_pipe.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "js/engine.h"
#include "platform/invocation.h"

typedef struct chunk {
    struct chunk *next;
    uint8_t *data; /* malloc'd; handed to the reader's ArrayBuffer */
    size_t len;
} chunk;

typedef struct service_pipe {
    struct service_pipe *next; /* the thread's list */
    double id;
    shard *sh;
    uint64_t writer, reader; /* invocations using each end (0: none yet) */
    chunk *head, *tail;
    size_t queued;
    bool closed;    /* the writer ended the body */
    uint8_t *error; /* ... or failed it: the error, serialized */
    size_t error_len;
    bool cancelled;      /* the reader wants no more (or is gone) */
    bool reader_done;    /* the reader saw the end or the error, or cancelled */
    bool writer_done;    /* the writer closed, failed, or learnt of the cancel */
    uint64_t read_wait;  /* invocation waiting for data (counted in its pending), or 0 */
    uint64_t drain_wait; /* invocation waiting for room (counted in its pending), or 0 */
    bool wake_reader, tell_cancel;
    /* pipeSplice: the invocation whose client gets the body straight from the writer, with
     * no JavaScript per chunk (its wait is counted in its pending), and how that ends (acted
     * on from the timer, outside any JavaScript). */
    uint64_t splice;
    enum { SPLICE_RUNNING, SPLICE_END, SPLICE_ABORT, SPLICE_GONE } splice_end;
    bool timer_armed, closing;
    uv_timer_t timer;
} service_pipe;

/* Queued bytes below which a waiting writer is woken again. */
#define PIPE_LOW_WATER (32 * 1024)

/* Pipes live on one shard's thread, like the invocations they serve. */
static _Thread_local service_pipe *pipes;
static _Thread_local double next_id;

static service_pipe *pipe_find(double id) {
    for (service_pipe *p = pipes; p; p = p->next)
        if (p->id == id) return p;
    return NULL;
}

static void drop_chunks(service_pipe *p) {
    while (p->head) {
        chunk *c = p->head;
        p->head = c->next;
        free(c->data);
        free(c);
    }
    p->tail = NULL;
    p->queued = 0;
}

static void pipe_closed(uv_handle_t *h) {
    service_pipe *p = h->data;
    drop_chunks(p);
    free(p->error);
    free(p);
}

/* Ends the wait counted in invocation id's pending. */
static void end_wait(shard *sh, uint64_t id) {
    invocation *inv = id ? invocation_lookup(sh, id) : NULL;
    if (inv && inv->pending > 0) inv->pending--;
}

/* Frees the pipe once both ends are finished with it. */
static void pipe_maybe_free(service_pipe *p) {
    if (p->closing || !p->reader_done || !p->writer_done) return;
    p->closing = true;
    for (service_pipe **pp = &pipes; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    end_wait(p->sh, p->read_wait);
    end_wait(p->sh, p->drain_wait);
    p->read_wait = p->drain_wait = 0;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, pipe_closed);
}

static void deliver(shard *sh, uint64_t inv, double id, const char *side, bool cancelled) {
    js_args a = {0};
    js_args_number(&a, id);
    js_args_latin1(&a, side, strlen(side));
    js_args_bool(&a, cancelled);
    invocation_deliver(sh, inv, "servicePipe", &a);
}

static void splice_finish(service_pipe *p);

static void on_wake(uv_timer_t *t) {
    service_pipe *p = t->data;
    p->timer_armed = false;
    shard *sh = p->sh;
    double id = p->id;
    if (p->splice && p->splice_end != SPLICE_RUNNING) {
        splice_finish(p); /* may free the pipe (after this callback) */
        if (p->closing) return;
    }
    if (p->wake_reader && p->read_wait) {
        uint64_t inv = p->read_wait;
        p->read_wait = 0;
        p->wake_reader = false;
        end_wait(sh, inv);
        deliver(sh, inv, id, "read", false);
    }
    /* The reader's JavaScript may have finished the pipe. */
    if (p->closing) return;
    bool drained = p->drain_wait && (p->queued <= PIPE_LOW_WATER || p->cancelled);
    if (drained || (p->tell_cancel && p->writer)) {
        uint64_t w = p->drain_wait ? p->drain_wait : p->writer;
        bool cancelled = p->tell_cancel;
        if (p->drain_wait) end_wait(sh, p->drain_wait);
        p->drain_wait = 0;
        p->tell_cancel = false;
        deliver(sh, w, id, "write", cancelled);
    }
}

static void wake(service_pipe *p) {
    if (p->closing || p->timer_armed) return;
    p->timer_armed = true;
    uv_timer_start(&p->timer, on_wake, 0, 0);
}

double service_pipe_open(shard *sh, uint64_t writer, uint64_t reader) {
    service_pipe *p = xcalloc(1, sizeof *p);
    p->id = ++next_id;
    p->sh = sh;
    p->writer = writer;
    p->reader = reader;
    uv_timer_init(&sh->loop, &p->timer);
    p->timer.data = p;
    p->next = pipes;
    pipes = p;
    return p->id;
}

void service_pipe_set_reader(shard *sh, double id, uint64_t reader) {
    (void)sh;
    service_pipe *p = pipe_find(id);
    if (p) p->reader = reader;
}

void service_pipe_set_writer(shard *sh, double id, uint64_t writer) {
    (void)sh;
    service_pipe *p = pipe_find(id);
    if (p) p->writer = writer;
}

/* The reader is gone or wants no more: drop what is queued, tell the writer. */
static void pipe_cancel(service_pipe *p) {
    if (!p->cancelled) {
        p->cancelled = true;
        drop_chunks(p);
        if (!p->writer_done) {
            p->tell_cancel = true;
            wake(p);
        }
    }
    p->reader_done = true;
    if (p->read_wait) {
        end_wait(p->sh, p->read_wait);
        p->read_wait = 0;
    }
}

void service_pipe_cancel(shard *sh, double id) {
    (void)sh;
    service_pipe *p = pipe_find(id);
    if (!p || p->closing || p->reader_done) return;
    pipe_cancel(p);
    pipe_maybe_free(p);
}

static void pipe_fail(service_pipe *p, const void *err, size_t len) {
    if (p->closed || p->error) return;
    p->error = (uint8_t *)xmemdup0(err, len);
    p->error_len = len;
    p->wake_reader = true;
    if (p->splice && p->splice_end == SPLICE_RUNNING) p->splice_end = SPLICE_ABORT;
    wake(p);
}

void service_pipe_abandon(shard *sh, double id) {
    (void)sh;
    service_pipe *p = pipe_find(id);
    if (!p || p->closing || p->writer_done) return;
    p->writer_done = true;
    pipe_fail(p, "", 0);
    pipe_maybe_free(p);
}

void service_pipes_invocation_ended(shard *sh, uint64_t id) {
    for (service_pipe *p = pipes, *next; p; p = next) {
        next = p->next;
        if (p->sh != sh) continue;
        if (p->read_wait == id) p->read_wait = 0; /* its pending went with it */
        if (p->drain_wait == id) p->drain_wait = 0;
        if (p->splice == id) p->splice = 0; /* its wait and its client went with it */
        if (p->reader == id && !p->reader_done) pipe_cancel(p);
        if (p->writer == id && !p->writer_done) {
            p->writer_done = true;
            /* An empty error: the reader makes "the Worker ended before its body" of it. */
            pipe_fail(p, "", 0);
        }
        pipe_maybe_free(p);
    }
}

static service_pipe *op_pipe(js_call *c) {
    service_pipe *p = pipe_find(js_arg_number(c, 0));
    return p && !p->closing ? p : NULL;
}

/* ---- splice: a body the caller returned untouched -----------------------------------------
 *
 * pipeSplice(id, invocationId): the invocation's response head is out (respondStart) and its
 * body is this pipe's. From then on each write goes straight to the client's socket, and the
 * writer waits on the socket's drain instead of on a reader; the end, an error or the client
 * leaving ends the response (from the timer). */

static invocation *splice_inv(service_pipe *p) {
    invocation *inv = p->splice ? invocation_lookup(p->sh, p->splice) : NULL;
    return inv && inv->streaming ? inv : NULL;
}

static int64_t splice_write(service_pipe *p, const uint8_t *data, size_t len) {
    if (p->splice_end != SPLICE_RUNNING) return -1;
    invocation *inv = splice_inv(p);
    int64_t queued = inv ? invocation_body_write(inv, data, len) : -1;
    if (queued < 0) {
        /* The client left: the writer stops (it cancels its stream). */
        p->splice_end = SPLICE_GONE;
        p->cancelled = true;
        p->tell_cancel = true;
        wake(p);
    }
    return queued;
}

static void splice_on_drain(void *ud, http_request *req) {
    (void)ud;
    for (service_pipe *p = pipes; p; p = p->next) {
        if (p->splice && p->splice == req->owner && p->drain_wait) {
            wake(p);
            return;
        }
    }
}

static void splice_wait_drain(service_pipe *p) {
    invocation *inv = splice_inv(p);
    if (!inv) {
        wake(p); /* the writer learns at its next write */
        return;
    }
    inv->req->owner = inv->id;
    http_respond_on_drain(inv->req, splice_on_drain, NULL);
}

static void splice_finish(service_pipe *p) {
    uint64_t id = p->splice;
    int how = p->splice_end;
    p->splice = 0;
    p->reader_done = true;
    invocation *inv = invocation_lookup(p->sh, id);
    if (inv) {
        if (how == SPLICE_END)
            invocation_body_end(inv);
        else
            invocation_body_abort(inv, how == SPLICE_GONE ? "canceled" : "exception");
        if (inv->pending > 0) inv->pending--;
    }
    pipe_maybe_free(p);
    inv = invocation_lookup(p->sh, id);
    if (inv) invocation_settle(inv);
}

static void op_pipe_splice(js_call *c) {
    service_pipe *p = op_pipe(c);
    shard *sh = shard_of(c);
    invocation *inv = sh ? invocation_lookup(sh, (uint64_t)js_arg_number(c, 1)) : NULL;
    if (!p || p->reader_done || !inv || !inv->streaming) {
        if (p && !p->reader_done) {
            pipe_cancel(p);
            pipe_maybe_free(p);
        }
        if (inv) invocation_body_abort(inv, "canceled");
        return;
    }
    p->reader = inv->id;
    p->splice = inv->id;
    p->splice_end = SPLICE_RUNNING;
    inv->pending++;
    /* What was queued before goes first. */
    while (p->head) {
        chunk *k = p->head;
        p->head = k->next;
        p->queued -= k->len;
        int64_t q = splice_write(p, k->data, k->len);
        free(k->data);
        free(k);
        if (q < 0) break;
    }
    drop_chunks(p);
    if (p->error)
        p->splice_end = SPLICE_ABORT;
    else if (p->closed)
        p->splice_end = SPLICE_END;
    if (p->splice_end != SPLICE_RUNNING || p->drain_wait) wake(p);
}

/* ---- ops ------------------------------------------------------------------------------- */

static void op_pipe_open(js_call *c) {
    shard *sh = shard_of(c);
    if (!sh) {
        js_throw(c, "Error", "a body can only be streamed while the Worker handles an event");
        return;
    }
    uint64_t me = js_call_async_id(c);
    bool for_reading = js_arg_bool(c, 0);
    js_ret_number(c, service_pipe_open(sh, for_reading ? 0 : me, for_reading ? me : 0));
}

static void op_pipe_write(js_call *c) {
    service_pipe *p = op_pipe(c);
    size_t len = 0;
    const uint8_t *data = js_arg_is_bytes(c, 1) ? js_arg_bytes(c, 1, &len) : NULL;
    if (!p || p->writer_done || !data) {
        js_ret_number(c, -1);
        return;
    }
    if (js_call_async_id(c)) p->writer = js_call_async_id(c);
    shard_note_body_bytes(p->sh, len);
    if (p->cancelled) {
        p->writer_done = true;
        pipe_maybe_free(p);
        js_ret_number(c, -1);
        return;
    }
    if (p->splice) {
        js_ret_number(c, (double)splice_write(p, data, len));
        return;
    }
    if (len) {
        chunk *k = xcalloc(1, sizeof *k);
        k->data = xmalloc(len);
        memcpy(k->data, data, len);
        k->len = len;
        if (p->tail)
            p->tail->next = k;
        else
            p->head = k;
        p->tail = k;
        p->queued += len;
        p->wake_reader = true;
        if (p->read_wait) wake(p);
    }
    js_ret_number(c, (double)p->queued);
}

static void op_pipe_wait_drain(js_call *c) {
    service_pipe *p = op_pipe(c);
    uint64_t me = js_call_async_id(c);
    invocation *inv = invocation_lookup(shard_of(c), me);
    if (!p || !inv || p->drain_wait) return;
    p->drain_wait = me;
    inv->pending++;
    if (p->splice) {
        splice_wait_drain(p);
        return;
    }
    /* Already drained (or cancelled) meanwhile: wake at once. */
    if (p->queued <= PIPE_LOW_WATER || p->cancelled) wake(p);
}

static void op_pipe_close(js_call *c) {
    service_pipe *p = op_pipe(c);
    if (!p || p->writer_done) return;
    p->writer_done = true;
    if (!p->error) p->closed = true;
    p->wake_reader = true;
    if (p->splice && p->splice_end == SPLICE_RUNNING) p->splice_end = SPLICE_END;
    wake(p);
    pipe_maybe_free(p);
}

static void op_pipe_error(js_call *c) {
    service_pipe *p = op_pipe(c);
    if (!p || p->writer_done) return;
    size_t len = 0;
    const uint8_t *err = js_arg_is_bytes(c, 1) ? js_arg_bytes(c, 1, &len) : NULL;
    p->writer_done = true;
    pipe_fail(p, err ? (const void *)err : "", err ? len : 0);
    pipe_maybe_free(p);
}

static void op_pipe_read(js_call *c) {
    service_pipe *p = op_pipe(c);
    if (!p || p->reader_done) {
        js_ret_number(c, 1);
        return;
    }
    uint64_t me = js_call_async_id(c);
    if (me) p->reader = me;
    if (p->head) {
        chunk *k = p->head;
        p->head = k->next;
        if (!p->head) p->tail = NULL;
        p->queued -= k->len;
        shard_note_body_bytes(p->sh, k->len);
        js_ret_bytes_take(c, k->data, k->len);
        free(k);
        if (p->drain_wait && p->queued <= PIPE_LOW_WATER) wake(p);
        return;
    }
    if (p->error) {
        p->reader_done = true;
        js_ret_list(c);
        js_ret_push_bytes(c, p->error, p->error_len);
        pipe_maybe_free(p);
        return;
    }
    if (p->closed) {
        p->reader_done = true;
        js_ret_number(c, 1);
        pipe_maybe_free(p);
        return;
    }
    invocation *inv = invocation_lookup(shard_of(c), me);
    if (inv && !p->read_wait) {
        p->read_wait = me;
        inv->pending++;
    }
    js_ret_number(c, 0);
}

static void op_pipe_cancel(js_call *c) {
    service_pipe *p = op_pipe(c);
    if (!p || p->reader_done) return;
    pipe_cancel(p);
    pipe_maybe_free(p);
}

static const js_op pipe_ops[] = {
    {"pipeOpen", op_pipe_open},
    {"pipeWrite", op_pipe_write},
    {"pipeWaitDrain", op_pipe_wait_drain},
    {"pipeClose", op_pipe_close},
    {"pipeError", op_pipe_error},
    {"pipeRead", op_pipe_read},
    {"pipeCancel", op_pipe_cancel},
    {"pipeSplice", op_pipe_splice},
};

void service_pipe_ops_register(void) {
    js_ops_register(pipe_ops, sizeof pipe_ops / sizeof pipe_ops[0]);
}
