/* websocket_ops — the ops behind a Worker's server-side WebSocket.
 *
 *   wsUpgrade(rid, [name, value, ...]) → handle (> 0), 0 when ws_accept refused the handshake
 *       (it answered the request itself: 400/426/503), or throws a TypeError when the request
 *       is not a WebSocket upgrade at all (the runtime then fails the request: a 500).
 *   wsSend(handle, data, isText) → true if queued (or held until the socket has room), false
 *       once the socket is closing or closed.
 *   wsClose(handle, code, reason) starts the close handshake.
 *
 * Events (dispatch kinds): wsMessage(handle, string | ArrayBuffer), wsClose(handle, code,
 * reason, wasClean).
 *
 * The socket's state lives here, not in the JavaScript object: a `wsock` per connection, on the
 * shard's list, found by handle. While the socket is open it counts once in its invocation's
 * `pending` (the invocation is waiting for events, not hung); the runtime keeps the invocation
 * from completing until the close event. If the invocation is gone (its realm was reset), the
 * socket is closed with 1011 at its next event. */
#include "platform/websocket_ops.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "js/engine.h"
#include "net/websocket.h"
#include "platform/invocation.h"
#include "platform/server.h"
#include "platform/shard.h"

/* A message ws_send refused for lack of room, sent again on on_drain. */
typedef struct held_msg {
    struct held_msg *next;
    bool text;
    size_t len;
    uint8_t data[];
} held_msg;

typedef struct wsock {
    shard *sh;
    uint64_t inv_id;
    double handle;
    ws_conn *ws;
    bool counted; /* counts in the invocation's pending */
    held_msg *held, *held_tail;
    int close_code; /* a close asked for while messages were held: sent after them */
    char *close_reason;
    struct wsock *next;
} wsock;

/* Per thread: every shard runs on a thread of its own. */
static _Thread_local wsock *socks;
static _Thread_local double next_handle;

static wsock *sock_find(double handle) {
    for (wsock *s = socks; s; s = s->next)
        if (s->handle == handle) return s;
    return NULL;
}

static void sock_unlink(wsock *s) {
    for (wsock **pp = &socks; *pp; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            return;
        }
    }
}

static void held_free(wsock *s) {
    while (s->held) {
        held_msg *m = s->held;
        s->held = m->next;
        free(m);
    }
    s->held_tail = NULL;
    free(s->close_reason);
    s->close_reason = NULL;
}

static void uncount(wsock *s) {
    if (!s->counted) return;
    s->counted = false;
    invocation *inv = invocation_lookup(s->sh, s->inv_id);
    if (inv && inv->pending > 0) inv->pending--;
}

/* Delivers an event to the invocation; false if it is gone. */
static bool emit(wsock *s, const char *kind, const js_args *a) {
    return invocation_deliver(s->sh, s->inv_id, kind, a);
}

static void on_message(ws_conn *ws, ws_opcode op, const uint8_t *data, size_t len) {
    wsock *s = ws_user(ws);
    if (!s) return;
    js_args a = {0};
    js_args_number(&a, s->handle);
    if (op == WS_TEXT)
        js_args_string(&a, (const char *)data, len);
    else
        js_args_bytes(&a, data, len);
    if (!emit(s, "wsMessage", &a)) ws_close(ws, WS_CLOSE_INTERNAL_ERROR, "the Worker is gone");
}

static void on_close(ws_conn *ws, int code, const char *reason, size_t reason_len) {
    wsock *s = ws_user(ws);
    if (!s) return;
    ws_set_user(ws, NULL);
    sock_unlink(s);
    held_free(s);
    s->ws = NULL;
    uncount(s);
    js_args a = {0};
    js_args_number(&a, s->handle);
    js_args_number(&a, code);
    js_args_string(&a, reason ? reason : "", reason ? reason_len : 0);
    js_args_bool(&a, code != WS_CLOSE_ABNORMAL);
    emit(s, "wsClose", &a);
    free(s);
}

static bool send_now(wsock *s, bool text, const void *data, size_t len) {
    return text ? ws_send_text(s->ws, data, len) : ws_send_binary(s->ws, data, len);
}

static void on_drain(ws_conn *ws) {
    wsock *s = ws_user(ws);
    if (!s) return;
    while (s->held && ws_is_open(ws)) {
        held_msg *m = s->held;
        if (!send_now(s, m->text, m->data, m->len)) return; /* wait for the next drain */
        s->held = m->next;
        if (!s->held) s->held_tail = NULL;
        free(m);
    }
    if (!s->held && s->close_code) {
        ws_close(ws, s->close_code, s->close_reason ? s->close_reason : "");
        s->close_code = 0;
    }
}

static const ws_callbacks callbacks = {on_message, on_close, on_drain};

/* Response headers for the 101: the Worker's, minus what the handshake owns. The Worker's
 * Sec-WebSocket-Protocol is what the server speaks: it becomes the subprotocol list. */
static void upgrade_headers(js_call *c, size_t arg, buf *lines, buf *protocols) {
    static const char *const skip[] = {"content-length",
                                       "transfer-encoding",
                                       "connection",
                                       "date",
                                       "upgrade",
                                       "sec-websocket-accept",
                                       "sec-websocket-version",
                                       "sec-websocket-extensions"};
    size_t n = js_arg_array_len(c, arg);
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t nl, vl;
        const char *name = js_arg_array_string(c, arg, i, &nl);
        const char *value = js_arg_array_string(c, arg, i + 1, &vl);
        bool skipped = false;
        for (size_t k = 0; k < sizeof skip / sizeof skip[0]; k++)
            if (strlen(skip[k]) == nl && strncasecmp(name, skip[k], nl) == 0) skipped = true;
        if (skipped) continue;
        if (nl == 22 && strncasecmp(name, "sec-websocket-protocol", 22) == 0) {
            if (protocols->len) buf_putc(protocols, ',');
            buf_append(protocols, value, vl);
            continue;
        }
        buf_append(lines, name, nl);
        buf_append(lines, ": ", 2);
        buf_append(lines, value, vl);
        buf_append(lines, "\r\n", 2);
    }
}

static void op_ws_upgrade(js_call *c) {
    shard *sh = shard_of(c);
    invocation *inv = sh ? invocation_lookup(sh, (uint64_t)js_arg_number(c, 0)) : NULL;
    if (!inv || inv->responded || !inv->req) {
        js_throw(c, "TypeError", "This request can no longer be answered with a WebSocket.");
        return;
    }
    if (!ws_is_upgrade_request(inv->req)) {
        js_throw(c, "TypeError",
                 "Worker tried to return a WebSocket in a response to a request which did not "
                 "contain the header \"Upgrade: websocket\".");
        return;
    }
    buf lines = {0}, protocols = {0};
    upgrade_headers(c, 1, &lines, &protocols);
    ws_options opt;
    ws_options_defaults(&opt);
    opt.response_headers = lines.len ? lines.data : NULL;
    opt.subprotocols = protocols.len ? protocols.data : NULL;
    wsock *s = xcalloc(1, sizeof *s);
    s->sh = sh;
    s->inv_id = inv->id;
    s->handle = ++next_handle;
    char err[256];
    http_request *req = inv->req;
    inv->responded = true;
    inv->req = NULL;
    s->ws = ws_accept(req, &callbacks, s, &opt, err, sizeof err);
    buf_free(&lines);
    buf_free(&protocols);
    if (!s->ws) {
        inv->status = 400; /* ws_accept answered with its own error */
        shard_log(sh, true, "[hearth] %s %s: WebSocket upgrade refused: %s\n", inv->method,
                  inv->path, err);
        free(s);
        js_ret_number(c, 0);
        return;
    }
    inv->status = 101;
    if (sh->server->cfg.access_log)
        shard_log(sh, false, "[hearth] %s %s 101 Switching Protocols (%.1fms)\n", inv->method,
                  inv->path, (double)(uv_hrtime() - inv->start_ns) / 1e6);
    s->counted = true;
    inv->pending++;
    s->next = socks;
    socks = s;
    js_ret_number(c, s->handle);
}

static void op_ws_send(js_call *c) {
    wsock *s = sock_find(js_arg_number(c, 0));
    if (!s || !s->ws || !ws_is_open(s->ws)) {
        js_ret_bool(c, false);
        return;
    }
    bool text = js_arg_bool(c, 2);
    size_t len;
    const void *data = text ? (const void *)js_arg_string(c, 1, &len) : js_arg_bytes(c, 1, &len);
    if (!data) {
        js_ret_bool(c, false);
        return;
    }
    if (s->close_code) {
        js_ret_bool(c, false);
        return;
    }
    if (!s->held && send_now(s, text, data, len)) {
        js_ret_bool(c, true);
        return;
    }
    /* No room now: hold it (in order) until the client has taken what is queued. */
    held_msg *m = xmalloc(sizeof *m + len);
    m->next = NULL;
    m->text = text;
    m->len = len;
    memcpy(m->data, data, len);
    if (s->held_tail)
        s->held_tail->next = m;
    else
        s->held = m;
    s->held_tail = m;
    js_ret_bool(c, true);
}

static void op_ws_close(js_call *c) {
    wsock *s = sock_find(js_arg_number(c, 0));
    if (!s || !s->ws) return;
    int code = (int)js_arg_number(c, 1);
    const char *reason = js_arg_is_string(c, 2) ? js_arg_string(c, 2, NULL) : "";
    if (s->close_code) return;
    if (s->held) {
        s->close_code = code;
        s->close_reason = xstrdup(reason ? reason : "");
        return;
    }
    ws_close(s->ws, code, reason ? reason : "");
}

static const js_op websocket_ops[] = {
    {"wsUpgrade", op_ws_upgrade},
    {"wsSend", op_ws_send},
    {"wsClose", op_ws_close},
};

void websocket_ops_register(void) {
    js_ops_register(websocket_ops, sizeof websocket_ops / sizeof websocket_ops[0]);
}
