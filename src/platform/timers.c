#include "platform/timers.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "platform/invocation.h"

#define SLOT_BITS 20
#define SLOT_MASK ((1u << SLOT_BITS) - 1)

typedef struct shard_timer {
    uv_timer_t handle;
    uint64_t id;
    uint32_t slot;
    shard *sh;
    realm_entry *entry;
    uint64_t invocation_id;
    bool repeat;
} shard_timer;

static void on_timer_closed(uv_handle_t *h) {
    free(h->data);
}

/* Stops the timer, frees its slot and releases its hold on the invocation. */
static void timer_destroy(shard_timer *t) {
    shard *sh = t->sh;
    sh->timers[t->slot] = NULL;
    invocation *inv = invocation_lookup(sh, t->invocation_id);
    if (inv && inv->pending > 0) inv->pending--;
    uv_timer_stop(&t->handle);
    t->handle.data = t;
    uv_close((uv_handle_t *)&t->handle, on_timer_closed);
}

static shard_timer *timer_lookup(shard *sh, uint64_t id) {
    uint32_t slot = (uint32_t)(id & SLOT_MASK);
    if (slot >= sh->timer_cap) return NULL;
    shard_timer *t = sh->timers[slot];
    return t && t->id == id ? t : NULL;
}

static void on_timer_fire(uv_timer_t *h) {
    shard_timer *t = (shard_timer *)h;
    shard *sh = t->sh;
    uint64_t id = t->id, inv_id = t->invocation_id;
    realm_entry *e = t->entry;
    if (!t->repeat) timer_destroy(t); /* before running: the callback may set new timers */
    invocation *inv = invocation_lookup(sh, inv_id);
    /* A retired realm (replaced by a reload or deploy) still finishes what it started. */
    if (!inv || !e->realm || js_realm_is_broken(e->realm)) return;
    js_args a = {0};
    js_args_number(&a, (double)id);
    js_error err;
    const char *reason;
    if (shard_dispatch(sh, e, inv, "timer", &a, &err, &reason) == JS_RESULT_EXCEPTION) {
        /* The request goes on: an exception in a timer callback is only reported. */
        char *text = js_error_format(&err);
        invocation *cur = invocation_lookup(sh, inv_id);
        shard_log(sh, true, "[hearth] Uncaught exception in a timer callback%s%s%s:\n%s\n",
                  cur ? " of " : "", cur ? cur->method : "", cur ? "" : "", text);
        free(text);
        js_error_clear(&err);
    }
    inv = invocation_lookup(sh, inv_id);
    if (inv) invocation_settle(inv);
}

/* timerStart(delayMs, repeat) → id. Only inside a request: timers in global scope would
 * belong to no request (the platform forbids them there too). */
static void op_timer_start(js_call *c) {
    shard *sh = shard_of(c);
    invocation *inv = invocation_lookup(sh, js_call_async_id(c));
    js_realm *realm = js_call_realm(c);
    if (!inv || !realm) {
        js_throw(c, "Error", "%s", INVOCATION_GLOBAL_SCOPE_MESSAGE);
        return;
    }
    double delay = js_arg_number(c, 0);
    bool repeat = js_arg_bool(c, 1);
    if (!(delay >= 0)) delay = 0; /* NaN and negatives, as HTML says */
    if (delay > 2147483647.0) delay = 2147483647.0;
    uint32_t slot = 0;
    while (slot < sh->timer_cap && sh->timers[slot]) slot++;
    if (slot == sh->timer_cap) {
        uint32_t cap = sh->timer_cap ? sh->timer_cap * 2 : 64;
        if (cap > SLOT_MASK) {
            js_throw(c, "RangeError", "too many timers");
            return;
        }
        sh->timers = xrealloc(sh->timers, cap * sizeof *sh->timers);
        memset(sh->timers + sh->timer_cap, 0, (cap - sh->timer_cap) * sizeof *sh->timers);
        sh->timer_cap = cap;
    }
    shard_timer *t = xcalloc(1, sizeof *t);
    t->slot = slot;
    t->id = ((uint64_t)(++sh->timer_gen) << SLOT_BITS) | slot;
    t->sh = sh;
    t->entry = js_realm_host(realm);
    t->invocation_id = inv->id;
    t->repeat = repeat;
    sh->timers[slot] = t;
    inv->pending++;
    uv_timer_init(&sh->loop, &t->handle);
    uint64_t ms = (uint64_t)delay;
    uv_timer_start(&t->handle, on_timer_fire, ms, repeat ? (ms ? ms : 1) : 0);
    js_ret_number(c, (double)t->id);
}

static void op_timer_cancel(js_call *c) {
    shard *sh = shard_of(c);
    if (!sh) return;
    shard_timer *t = timer_lookup(sh, (uint64_t)js_arg_number(c, 0));
    if (t) timer_destroy(t);
}

/* currentInvocation() → the async context id (0 in global scope). */
static void op_current_invocation(js_call *c) {
    js_ret_number(c, (double)js_call_async_id(c));
}

void timers_cancel_invocation(shard *sh, uint64_t invocation_id) {
    for (uint32_t i = 0; i < sh->timer_cap; i++)
        if (sh->timers[i] && sh->timers[i]->invocation_id == invocation_id)
            timer_destroy(sh->timers[i]);
}

void timers_cancel_entry(shard *sh, realm_entry *e) {
    for (uint32_t i = 0; i < sh->timer_cap; i++)
        if (sh->timers[i] && sh->timers[i]->entry == e) timer_destroy(sh->timers[i]);
}

static const js_op timer_ops[] = {
    {"timerStart", op_timer_start},
    {"timerCancel", op_timer_cancel},
    {"currentInvocation", op_current_invocation},
};

void timers_ops_register(void) {
    js_ops_register(timer_ops, sizeof timer_ops / sizeof timer_ops[0]);
}
