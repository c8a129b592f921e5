/* fetch_ops — outbound requests for the runtime's fetch().
 *
 *   fetchStart(method, url, headerLines, bodyLength) → handle
 *       bodyLength: -1 no body, -2 streamed (chunked), else the body's byte length; the
 *       body follows with fetchWrite(handle, bytes) → bytes queued (-1: not sending) and
 *       fetchEndBody(handle); fetchWaitDrain(handle) asks for a "fetchDrain" event.
 *   fetchPull(handle)  asks for the next "fetchData" (or "fetchEnd" / "fetchError").
 *   fetchAbort(handle) stops it; no event follows.
 *   fetchSplice(handle, invocationId) sends the body to that invocation's client (see below).
 *
 * Events (dispatch kinds): fetchHead(handle, status, statusText, headerLines),
 * fetchData(handle, bytes), fetchEnd(handle), fetchError(handle, message), fetchDrain(handle).
 *
 * Every event JavaScript waits for counts in its invocation's `pending` until it arrives (the
 * head; a pull; a drain), so an invocation waiting on the network is neither finished nor
 * "hung". A body nobody reads keeps nothing alive: it is freed with its invocation. */
#include "platform/fetch_ops.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "js/engine.h"
#include "net/http_client.h"
#include "platform/invocation.h"

typedef struct fetch_job {
    shard *sh;
    uint64_t inv_id;
    double handle;
    http_fetch *f;
    int waits;   /* events JavaScript waits for, counted in the invocation's pending */
    bool splice; /* the body goes straight to the invocation's client (fetchSplice) */
    struct fetch_job *next;
} fetch_job;

static _Thread_local double next_handle;

static uint64_t fetch_timeout_ms(void) {
    const char *s = getenv("HEARTH_FETCH_TIMEOUT_MS");
    return s ? strtoull(s, NULL, 10) : 0;
}

static void wait_add(fetch_job *j, int n) {
    invocation *inv = invocation_lookup(j->sh, j->inv_id);
    j->waits += n;
    if (inv) {
        inv->pending += n;
        if (inv->pending < 0) inv->pending = 0;
    }
}

static void job_unlink(fetch_job *j) {
    for (fetch_job **pp = &j->sh->fetch_jobs; *pp; pp = &(*pp)->next) {
        if (*pp == j) {
            *pp = j->next;
            return;
        }
    }
}

static fetch_job *job_find(shard *sh, double handle) {
    if (!sh) return NULL;
    for (fetch_job *j = sh->fetch_jobs; j; j = j->next)
        if (j->handle == handle) return j;
    return NULL;
}

/* Delivers an event; j may be gone afterwards. */
static void emit(shard *sh, uint64_t inv_id, const char *kind, const js_args *a) {
    invocation_deliver(sh, inv_id, kind, a);
}

static void on_head(void *ud, int status, const char *reason, size_t reason_len, const char *lines,
                    size_t lines_len) {
    fetch_job *j = ud;
    wait_add(j, -1);
    js_args a = {0};
    js_args_number(&a, j->handle);
    js_args_number(&a, status);
    js_args_latin1(&a, reason, reason_len);
    js_args_latin1(&a, lines, lines_len);
    emit(j->sh, j->inv_id, "fetchHead", &a);
}

static void splice_data(fetch_job *j, const uint8_t *data, size_t len);

static void on_data(void *ud, const uint8_t *data, size_t len) {
    fetch_job *j = ud;
    if (j->splice) {
        splice_data(j, data, len);
        return;
    }
    wait_add(j, -1);
    shard_note_body_bytes(j->sh, len);
    js_args a = {0};
    js_args_number(&a, j->handle);
    js_args_bytes(&a, data, len);
    emit(j->sh, j->inv_id, "fetchData", &a);
}

static void on_drain(void *ud) {
    fetch_job *j = ud;
    wait_add(j, -1);
    js_args a = {0};
    js_args_number(&a, j->handle);
    emit(j->sh, j->inv_id, "fetchDrain", &a);
}

static void splice_done(fetch_job *j, const char *message);

static void on_done(void *ud, const char *message) {
    fetch_job *j = ud;
    if (j->splice) {
        splice_done(j, message);
        return;
    }
    shard *sh = j->sh;
    uint64_t inv_id = j->inv_id;
    wait_add(j, -j->waits);
    j->f = NULL; /* the client frees it */
    job_unlink(j);
    js_args a = {0};
    js_args_number(&a, j->handle);
    if (message) js_args_string(&a, message, strlen(message));
    free(j);
    emit(sh, inv_id, message ? "fetchError" : "fetchEnd", &a);
}

static const http_fetch_callbacks callbacks = {on_head, on_data, on_done, on_drain};

static void job_abort(fetch_job *j, bool touch_invocation) {
    if (touch_invocation) wait_add(j, -j->waits);
    job_unlink(j);
    http_fetch_abort(j->f);
    free(j);
}

void fetch_ops_cancel_invocation(shard *sh, uint64_t invocation_id) {
    fetch_job **pp = &sh->fetch_jobs;
    while (*pp) {
        fetch_job *j = *pp;
        if (j->inv_id == invocation_id) {
            *pp = j->next;
            http_fetch_abort(j->f);
            free(j);
            continue;
        }
        pp = &j->next;
    }
}

static void op_fetch_start(js_call *c) {
    shard *sh = shard_of(c);
    invocation *inv = sh ? invocation_lookup(sh, js_call_async_id(c)) : NULL;
    if (!inv) {
        js_throw(c, "Error", "%s", INVOCATION_GLOBAL_SCOPE_MESSAGE);
        return;
    }
    if (!sh->http_client) {
        js_throw(c, "Error", "fetch() is not available in this process");
        return;
    }
    if (!invocation_count_subrequest(inv)) {
        js_throw(c, "Error", "Too many subrequests.");
        return;
    }
    char *method = xstrdup(js_arg_latin1(c, 0, NULL));
    char *url = xstrdup(js_arg_string(c, 1, NULL));
    size_t hlen = 0;
    const char *lines = js_arg_latin1(c, 2, &hlen);
    char *header_lines = xmemdup0(lines ? lines : "", lines ? hlen : 0);
    int64_t body_length = (int64_t)js_arg_number(c, 3);
    fetch_job *j = xcalloc(1, sizeof *j);
    j->sh = sh;
    j->inv_id = inv->id;
    j->handle = ++next_handle;
    http_fetch_options o = {method, url, header_lines, hlen, body_length, fetch_timeout_ms()};
    const char *err = NULL;
    j->f = http_fetch_start(sh->http_client, &o, &callbacks, j, &err);
    free(method);
    free(url);
    free(header_lines);
    if (!j->f) {
        free(j);
        js_throw(c, "TypeError", "fetch failed: %s", err);
        return;
    }
    j->next = sh->fetch_jobs;
    sh->fetch_jobs = j;
    wait_add(j, 1); /* the head */
    js_ret_number(c, j->handle);
}

static void op_fetch_write(js_call *c) {
    fetch_job *j = job_find(shard_of(c), js_arg_number(c, 0));
    if (!j) {
        js_ret_number(c, -1);
        return;
    }
    size_t len;
    const uint8_t *data = js_arg_bytes(c, 1, &len);
    js_ret_number(c, (double)http_fetch_write(j->f, data, len));
    shard_note_body_bytes(j->sh, len);
}

static void op_fetch_end_body(js_call *c) {
    fetch_job *j = job_find(shard_of(c), js_arg_number(c, 0));
    if (j) http_fetch_end_body(j->f);
}

static void op_fetch_wait_drain(js_call *c) {
    fetch_job *j = job_find(shard_of(c), js_arg_number(c, 0));
    if (!j) return;
    wait_add(j, 1);
    http_fetch_wait_drain(j->f);
}

static void op_fetch_pull(js_call *c) {
    fetch_job *j = job_find(shard_of(c), js_arg_number(c, 0));
    if (!j) return;
    wait_add(j, 1);
    http_fetch_want_data(j->f);
}

/* ---- splice: a fetched body the Worker returned untouched ---------------------------------
 *
 * fetchSplice(handle, invocationId): the invocation's response head is out (respondStart) and
 * its body is this fetch's body. From here on, C moves each chunk from curl to the client
 * socket, asking curl for the next only when the socket's queue is short (so a slow client
 * slows the origin, as the stream path does), and ends the response when the origin's body
 * ends. No JavaScript runs per chunk, and nothing is allocated per chunk beyond the socket's
 * own queue. The splice counts as one pending wait of the invocation, so it stays open (and
 * is not "hung") until the body is written. If the origin fails midway the client is cut off
 * and the Worker's code hears "fetchSpliceError" (to report it like a failed body stream). */

/* Above this many bytes queued for the client, the next chunk waits for the socket. */
#define SPLICE_HIGH_WATER (256u * 1024u)

static fetch_job *splice_job_of(shard *sh, uint64_t inv_id) {
    for (fetch_job *j = sh->fetch_jobs; j; j = j->next)
        if (j->splice && j->inv_id == inv_id) return j;
    return NULL;
}

/* The client's socket drained: ask curl for more. By id: the splice may have ended. */
static void splice_on_drain(void *ud, http_request *req) {
    fetch_job *j = splice_job_of(ud, req->owner);
    if (j) http_fetch_want_data(j->f);
}

/* Ends the splice: the job is freed and the invocation's wait released (the caller settles
 * the invocation, which ends once its JavaScript is done too). */
static void splice_end(fetch_job *j, bool abort_fetch) {
    wait_add(j, -j->waits);
    job_unlink(j);
    if (abort_fetch) http_fetch_abort(j->f);
    free(j);
}

static void settle_by_id(shard *sh, uint64_t inv_id) {
    invocation *inv = invocation_lookup(sh, inv_id);
    if (inv) invocation_settle(inv);
}

static void splice_data(fetch_job *j, const uint8_t *data, size_t len) {
    invocation *inv = invocation_lookup(j->sh, j->inv_id);
    int64_t queued = inv ? invocation_body_write(inv, data, len) : -1;
    if (queued < 0) {
        /* The client left (or the response was cut off): stop fetching. */
        shard *sh = j->sh;
        uint64_t inv_id = j->inv_id;
        if (inv) invocation_body_abort(inv, "canceled");
        splice_end(j, true);
        settle_by_id(sh, inv_id);
    } else if ((uint64_t)queued > SPLICE_HIGH_WATER) {
        inv->req->owner = inv->id;
        http_respond_on_drain(inv->req, splice_on_drain, j->sh);
    } else {
        http_fetch_want_data(j->f);
    }
}

static void splice_done(fetch_job *j, const char *message) {
    shard *sh = j->sh;
    uint64_t inv_id = j->inv_id;
    j->f = NULL; /* the client frees it */
    splice_end(j, false);
    invocation *inv = invocation_lookup(sh, inv_id);
    if (!inv) return;
    if (!message) {
        invocation_body_end(inv);
        invocation_settle(inv);
        return;
    }
    invocation_body_abort(inv, "exception");
    js_args a = {0};
    js_args_number(&a, (double)inv_id);
    js_args_string(&a, message, strlen(message));
    invocation_deliver(sh, inv_id, "fetchSpliceError", &a); /* settles it */
}

static void op_fetch_splice(js_call *c) {
    shard *sh = shard_of(c);
    fetch_job *j = job_find(sh, js_arg_number(c, 0));
    invocation *inv = sh ? invocation_lookup(sh, (uint64_t)js_arg_number(c, 1)) : NULL;
    if (!j || !inv || j->splice || !inv->streaming) {
        /* Nothing to move the body to (the client is gone): the body is dropped. */
        if (j) job_abort(j, true);
        if (inv) invocation_body_abort(inv, "canceled");
        return;
    }
    /* The fetch now serves the responding invocation (a body fetched by one invocation and
     * returned by another moves with it). */
    wait_add(j, -j->waits);
    j->inv_id = inv->id;
    j->splice = true;
    wait_add(j, 1);
    http_fetch_want_data(j->f);
}

static void op_fetch_abort(js_call *c) {
    fetch_job *j = job_find(shard_of(c), js_arg_number(c, 0));
    if (j) job_abort(j, true);
}

static const js_op fetch_ops[] = {
    {"fetchStart", op_fetch_start},      {"fetchWrite", op_fetch_write},
    {"fetchEndBody", op_fetch_end_body}, {"fetchWaitDrain", op_fetch_wait_drain},
    {"fetchPull", op_fetch_pull},        {"fetchAbort", op_fetch_abort},
    {"fetchSplice", op_fetch_splice},
};

void fetch_ops_register(void) {
    js_ops_register(fetch_ops, sizeof fetch_ops / sizeof fetch_ops[0]);
}
