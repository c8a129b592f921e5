/* ratelimit_ops — rateLimit(ticket, namespaceId, key, limit, period) for the runtime.
 *
 * The embedded backend decides during the call (1 allowed, 0 limited). The memcached backend
 * answers later: the op returns -1, the invocation counts the decision as pending work (it is
 * neither finished nor hung while it waits), and the answer arrives as a "ratelimit" event
 * (ticket, success) that resolves the promise limit() returned. */
#include "platform/ratelimit_ops.h"

#include <stdlib.h>

#include "base/alloc.h"
#include "js/engine.h"
#include "platform/invocation.h"
#include "platform/shard.h"
#include "ratelimit/ratelimit.h"

typedef struct waiter {
    shard *sh;
    uint64_t invocation_id; /* by id: the invocation may be gone when the answer comes */
    double ticket;
} waiter;

static void on_decided(void *arg, bool success) {
    waiter *w = arg;
    shard *sh = w->sh;
    invocation *inv = invocation_lookup(sh, w->invocation_id);
    if (inv) {
        inv->pending--;
        js_args a = {0};
        js_args_number(&a, w->ticket);
        js_args_bool(&a, success);
        invocation_deliver(sh, w->invocation_id, "ratelimit", &a);
    }
    free(w);
}

static void op_rate_limit(js_call *c) {
    shard *sh = shard_of(c);
    invocation *inv = sh ? invocation_lookup(sh, js_call_async_id(c)) : NULL;
    if (!inv) {
        js_throw(c, "Error", "limit() can only be called while the Worker handles an event");
        return;
    }
    if (!sh->ratelimit) {
        js_throw(c, "Error", "rate limiting is not available in this process");
        return;
    }
    double ticket = js_arg_number(c, 0);
    const char *ns = js_arg_string(c, 1, NULL);
    int64_t limit = js_arg_int(c, 3), period = js_arg_int(c, 4);
    size_t key_len;
    const char *key = js_arg_string(c, 2, &key_len);
    if (!ns || !key || limit < 1 || limit > UINT32_MAX || (period != 10 && period != 60)) return;
    waiter *w = xmalloc(sizeof *w);
    w->sh = sh;
    w->invocation_id = inv->id;
    w->ticket = ticket;
    int r = ratelimit_check(sh->ratelimit, ns, key, key_len, (uint32_t)limit, (uint32_t)period,
                            on_decided, w);
    if (r >= 0) {
        free(w);
        js_ret_number(c, r);
        return;
    }
    inv->pending++;
    js_ret_number(c, -1);
}

static const js_op ratelimit_ops[] = {
    {"rateLimit", op_rate_limit},
};

void ratelimit_ops_register(void) {
    js_ops_register(ratelimit_ops, sizeof ratelimit_ops / sizeof ratelimit_ops[0]);
}
