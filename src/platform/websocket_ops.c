/* websocket_ops — the ops behind a Worker's WebSockets: the server side of a 101 upgrade,
 * and outbound connections (fetch() with Upgrade: websocket, new WebSocket(url)).
 *
 *   wsUpgrade(rid, [name, value, ...]) → handle (> 0), 0 when ws_accept refused the handshake
 *       (it answered the request itself: 400/426/503), or throws a TypeError when the request
 *       is not a WebSocket upgrade at all (the runtime then fails the request: a 500).
 *   wsConnect(tls, hostname, port, hostHeader, target, [name, value, ...]) → handle: starts an
 *       outbound connection (websocket_connect.c); counts as a subrequest. Its
 *       Sec-WebSocket-Protocol values are the subprotocols offered.
 *   wsSend(handle, data, isText) → true if queued (or held until the socket has room), false
 *       once the socket is closing or closed.
 *   wsClose(handle, code, reason) starts the close handshake (or abandons a connection still
 *       being made, with no event: the runtime settles it itself).
 *
 * Events (dispatch kinds): wsMessage(handle, string | ArrayBuffer), wsClose(handle, code,
 * reason, wasClean), and for an outbound socket first wsHandshake(handle, status, head, extra):
 * head = reason phrase, "\r\n", the response's header lines, and extra = the selected
 * subprotocol for a 101, else the response's body bytes; status 0 when no response came, with
 * head saying why.
 *
 * The socket's state lives here, not in the JavaScript object: a `wsock` per connection, on the
 * shard's list, found by handle. While the socket is open it counts once in its invocation's
 * `pending` (the invocation is waiting for events, not hung); the runtime keeps the invocation
 * from completing until a server socket's close event, and an open outbound socket keeps it
 * too (websocket_ops_keeps_alive). When the invocation ends its sockets are closed at once
 * (websocket_ops_end_invocation: 1011 when its realm was reset, else 1001); when the Worker is
 * redeployed (its realm retired) or the server stops, its sockets are closed with 1001 and the
 * Worker still sees their close events. */
#include "platform/websocket_ops.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "js/engine.h"
#include "net/websocket.h"
#include "net/websocket_connect.h"
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
    ws_connect *connecting; /* an outbound socket's handshake, until it is done */
    bool outbound;
    bool counted; /* counts in the invocation's pending */
    held_msg *held, *held_tail;
    int close_code; /* a close asked for while messages were held: sent after them */
    char *close_reason;
    /* A proxied pair (wsProxy): the client's socket and the outbound one a Worker returned
     * in its Response. Each one's messages and close go straight to the other, in C. */
    struct wsock *peer;
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

static bool sock_send(wsock *s, bool text, const void *data, size_t len);
static void sock_close(wsock *s, int code, const char *reason);

static void on_message(ws_conn *ws, ws_opcode op, const uint8_t *data, size_t len) {
    wsock *s = ws_user(ws);
    if (!s) return;
    if (s->peer) {
        sock_send(s->peer, op == WS_TEXT, data, len);
        return;
    }
    js_args a = {0};
    js_args_number(&a, s->handle);
    if (op == WS_TEXT)
        js_args_string(&a, (const char *)data, len);
    else
        js_args_bytes(&a, data, len);
    if (!emit(s, "wsMessage", &a)) ws_close(ws, WS_CLOSE_INTERNAL_ERROR, "the Worker is gone");
}

/* One side of a proxied pair closed: the other closes with the same code (a code that cannot
 * be sent — none given, or an abrupt end — becomes 1000 or 1011). */
static void unpeer(wsock *s, int code, const char *reason) {
    wsock *other = s->peer;
    if (!other) return;
    s->peer = NULL;
    other->peer = NULL;
    if (code == WS_CLOSE_NO_STATUS)
        sock_close(other, WS_CLOSE_NORMAL, "");
    else if (code == WS_CLOSE_ABNORMAL || code == 1015 || code < 1000)
        sock_close(other, WS_CLOSE_INTERNAL_ERROR, "the other side of the proxy went away");
    else
        sock_close(other, code, reason);
}

static void on_close(ws_conn *ws, int code, const char *reason, size_t reason_len) {
    wsock *s = ws_user(ws);
    if (!s) return;
    if (s->peer) {
        char *r = xmemdup0(reason ? reason : "", reason ? reason_len : 0);
        unpeer(s, code, r);
        free(r);
    }
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

/* Headers the handshake owns, on the 101 the server sends and on the client's request. */
static const char *const response_owned[] = {"content-length",
                                             "transfer-encoding",
                                             "connection",
                                             "date",
                                             "upgrade",
                                             "sec-websocket-accept",
                                             "sec-websocket-version",
                                             "sec-websocket-extensions",
                                             NULL};
static const char *const request_owned[] = {"content-length",
                                            "transfer-encoding",
                                            "connection",
                                            "host",
                                            "upgrade",
                                            "sec-websocket-key",
                                            "sec-websocket-version",
                                            "sec-websocket-extensions",
                                            NULL};

/* A Worker's [name, value, ...] headers as "name: value\r\n" lines, minus those in `skip`. Its
 * Sec-WebSocket-Protocol values go to `protocols`: on a 101, the subprotocols the server
 * speaks; on a request, the ones offered. */
static void handshake_headers(js_call *c, size_t arg, const char *const *skip, buf *lines,
                              buf *protocols) {
    size_t n = js_arg_array_len(c, arg);
    for (size_t i = 0; i + 1 < n; i += 2) {
        size_t nl, vl;
        const char *name = js_arg_array_string(c, arg, i, &nl);
        const char *value = js_arg_array_string(c, arg, i + 1, &vl);
        bool skipped = false;
        for (size_t k = 0; skip[k]; k++)
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

/* Answers invocation `arg 0`'s request with the 101 whose headers are argument `headers_arg`:
 * the client's new wsock; or NULL after throwing a TypeError (*thrown), or when ws_accept
 * refused a malformed handshake (it answered the request itself: 400/426/503). */
static wsock *accept_client(js_call *c, size_t headers_arg, bool *thrown) {
    *thrown = true;
    shard *sh = shard_of(c);
    invocation *inv = sh ? invocation_lookup(sh, (uint64_t)js_arg_number(c, 0)) : NULL;
    if (!inv || inv->responded || !inv->req) {
        js_throw(c, "TypeError", "This request can no longer be answered with a WebSocket.");
        return NULL;
    }
    if (!ws_is_upgrade_request(inv->req)) {
        js_throw(c, "TypeError",
                 "Worker tried to return a WebSocket in a response to a request which did not "
                 "contain the header \"Upgrade: websocket\".");
        return NULL;
    }
    *thrown = false;
    buf lines = {0}, protocols = {0};
    handshake_headers(c, headers_arg, response_owned, &lines, &protocols);
    ws_options opt;
    ws_options_defaults(&opt);
    opt.max_message_bytes = sh->server->cfg.ws_max_message;
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
        return NULL;
    }
    inv->status = 101;
    if (sh->server->cfg.access_log)
        shard_log(sh, false, "[hearth] %s %s 101 Switching Protocols (%.1fms)\n", inv->method,
                  inv->path, (double)(uv_hrtime() - inv->start_ns) / 1e6);
    s->counted = true;
    inv->pending++;
    s->next = socks;
    socks = s;
    return s;
}

static void op_ws_upgrade(js_call *c) {
    bool thrown;
    wsock *s = accept_client(c, 1, &thrown);
    if (!thrown) js_ret_number(c, s ? s->handle : 0);
}

/* wsProxy(rid, [name, value, ...], outboundHandle) → handle, or 0 as wsUpgrade: the request's
 * connection becomes a WebSocket joined to the Worker's outbound one (a Worker returning the
 * Response of its fetch() with Upgrade: websocket): messages and closes pass between the two
 * in C, and the outbound socket's close event still reaches the Worker. */
static void op_ws_proxy(js_call *c) {
    wsock *out = sock_find(js_arg_number(c, 2));
    if (!out || !out->outbound || !out->ws || !ws_is_open(out->ws) || out->peer) {
        js_throw(c, "TypeError", "This WebSocket is closed, or already passed on.");
        return;
    }
    bool thrown;
    wsock *s = accept_client(c, 1, &thrown);
    if (thrown) return;
    if (!s) {
        sock_close(out, WS_CLOSE_GOING_AWAY, "the client's handshake was refused");
        js_ret_number(c, 0);
        return;
    }
    s->peer = out;
    out->peer = s;
    js_ret_number(c, s->handle);
}

/* ---- outbound sockets ---------------------------------------------------------------------- */

static void watch_start(shard *sh);

/* The connection attempt is over without a socket: the wsock goes, then JavaScript hears. */
static void connect_over(wsock *s, const char *kind, js_args *a) {
    shard *sh = s->sh;
    uint64_t inv_id = s->inv_id;
    s->connecting = NULL;
    sock_unlink(s);
    uncount(s);
    free(s);
    invocation_deliver(sh, inv_id, kind, a);
}

/* head: the reason phrase, "\r\n", then the header lines (borrowed by `a` until delivered). */
static void args_head(js_args *a, buf *head, const char *reason, const char *lines,
                      size_t lines_len) {
    buf_puts(head, reason);
    buf_puts(head, "\r\n");
    buf_append(head, lines, lines_len);
    js_args_latin1(a, head->data, head->len);
}

static void on_connect_open(void *ud, ws_conn *ws, const char *protocol, const char *lines,
                            size_t lines_len) {
    wsock *s = ud;
    s->connecting = NULL;
    s->ws = ws;
    js_args a = {0};
    buf head = {0};
    js_args_number(&a, s->handle);
    js_args_number(&a, 101);
    args_head(&a, &head, "Switching Protocols", lines, lines_len);
    js_args_string(&a, protocol, strlen(protocol));
    if (!emit(s, "wsHandshake", &a)) ws_close(ws, WS_CLOSE_INTERNAL_ERROR, "the Worker is gone");
    buf_free(&head);
}

static void on_connect_response(void *ud, int status, const char *reason, const char *lines,
                                size_t lines_len, const uint8_t *body, size_t body_len) {
    wsock *s = ud;
    js_args a = {0};
    buf head = {0};
    js_args_number(&a, s->handle);
    js_args_number(&a, status);
    args_head(&a, &head, reason, lines, lines_len);
    js_args_bytes(&a, body, body_len);
    connect_over(s, "wsHandshake", &a);
    buf_free(&head);
}

static void on_connect_error(void *ud, const char *message) {
    wsock *s = ud;
    js_args a = {0};
    js_args_number(&a, s->handle);
    js_args_number(&a, 0); /* no status: the message says what went wrong */
    js_args_string(&a, message, strlen(message));
    connect_over(s, "wsHandshake", &a);
}

static const ws_connect_callbacks connect_callbacks = {on_connect_open, on_connect_response,
                                                       on_connect_error};

static void op_ws_connect(js_call *c) {
    shard *sh = shard_of(c);
    invocation *inv = sh ? invocation_lookup(sh, js_call_async_id(c)) : NULL;
    if (!inv) {
        js_throw(c, "Error", "%s", INVOCATION_GLOBAL_SCOPE_MESSAGE);
        return;
    }
    if (!invocation_count_subrequest(inv)) {
        js_throw(c, "Error", "Too many subrequests.");
        return;
    }
    bool tls = js_arg_bool(c, 0);
    double port_arg = js_arg_number(c, 2);
    const char *host_arg = js_arg_string(c, 1, NULL);
    if (!host_arg || !*host_arg || !(port_arg >= 1 && port_arg <= 65535)) {
        js_throw(c, "TypeError", "Fetch API cannot load: the WebSocket URL has no host or port.");
        return;
    }
    char *host = xstrdup(host_arg);
    int port = (int)port_arg;
    const char *host_header_arg = js_arg_string(c, 3, NULL);
    char *host_header = xstrdup(host_header_arg ? host_header_arg : host);
    const char *target_arg = js_arg_string(c, 4, NULL);
    char *target = xstrdup(target_arg ? target_arg : "/");
    buf lines = {0}, protocols = {0};
    handshake_headers(c, 5, request_owned, &lines, &protocols);
    wsock *s = xcalloc(1, sizeof *s);
    s->sh = sh;
    s->inv_id = inv->id;
    s->handle = ++next_handle;
    s->outbound = true;
    ws_options wo;
    ws_options_defaults(&wo);
    wo.max_message_bytes =
        sh->server->cfg.ws_max_message; /* as the server side: --ws-max-message */
    ws_connect_options o = {
        .tls = tls,
        .host = host,
        .port = port,
        .host_header = host_header,
        .target = target,
        .header_lines = lines.len ? lines.data : NULL,
        .protocols = protocols.len ? protocols.data : NULL,
        .ca_file = getenv("HEARTH_CA_FILE"),
        .ws_opt = &wo,
        .ws_cb = &callbacks,
        .ws_user = s,
    };
    s->connecting = ws_connect_start(&sh->loop, &o, &connect_callbacks, s);
    free(host);
    free(host_header);
    free(target);
    buf_free(&lines);
    buf_free(&protocols);
    s->counted = true;
    inv->pending++;
    s->next = socks;
    socks = s;
    watch_start(sh);
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
    js_ret_bool(c, sock_send(s, text, data, len));
}

/* Sends a message, or holds it (in order) while the socket has no room: true if taken. */
static bool sock_send(wsock *s, bool text, const void *data, size_t len) {
    if (!s->ws || !ws_is_open(s->ws) || s->close_code) return false;
    if (!s->held && send_now(s, text, data, len)) return true;
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
    return true;
}

/* Starts the close handshake, after the held messages. */
static void sock_close(wsock *s, int code, const char *reason) {
    if (!s->ws || s->close_code) return;
    if (s->held) {
        s->close_code = code;
        s->close_reason = xstrdup(reason ? reason : "");
        return;
    }
    ws_close(s->ws, code, reason ? reason : "");
}

static void op_ws_close(js_call *c) {
    wsock *s = sock_find(js_arg_number(c, 0));
    if (s && s->connecting) {
        /* The runtime fails the socket itself: no event (this runs inside JavaScript). */
        ws_connect_abort(s->connecting);
        s->connecting = NULL;
        sock_unlink(s);
        uncount(s);
        free(s);
        return;
    }
    if (!s) return;
    int code = (int)js_arg_number(c, 1);
    sock_close(s, code, js_arg_is_string(c, 2) ? js_arg_string(c, 2, NULL) : "");
}

/* ---- the end of an invocation, a redeploy, shutdown -------------------------------------- */

/* Closes a socket whose Worker can no longer hear about it: nothing more is delivered. */
static void sock_drop(wsock *s, int code, const char *reason) {
    if (s->peer) s->peer->peer = NULL;
    s->peer = NULL;
    sock_unlink(s);
    if (s->connecting) ws_connect_abort(s->connecting);
    if (s->ws) {
        ws_set_user(s->ws, NULL);
        ws_close(s->ws, code, reason);
    }
    held_free(s);
    free(s);
}

static bool realm_broken(const invocation *inv) {
    return inv->entry && inv->entry->realm && js_realm_is_broken(inv->entry->realm);
}

void websocket_ops_end_invocation(shard *sh, const invocation *inv) {
    (void)sh;
    bool reset = realm_broken(inv) ||
                 (strcmp(inv->outcome, "ok") != 0 && strcmp(inv->outcome, "canceled") != 0);
    wsock *next;
    for (wsock *s = socks; s; s = next) {
        next = s->next;
        if (s->inv_id != inv->id) continue;
        s->counted = false; /* the invocation is going */
        if (reset)
            sock_drop(s, WS_CLOSE_INTERNAL_ERROR, "the Worker's isolate was reset");
        else
            sock_drop(s, WS_CLOSE_GOING_AWAY, "the Worker's invocation ended");
    }
}

bool websocket_ops_keeps_alive(const invocation *inv) {
    if (realm_broken(inv)) return false;
    for (wsock *s = socks; s; s = s->next)
        if (s->inv_id == inv->id && s->outbound) return true;
    return false;
}

/* Closes a socket the Worker still hears about, dropping what is held: its close event comes
 * when the handshake is done. */
static void sock_close_now(wsock *s, int code, const char *reason) {
    if (s->connecting) {
        ws_connect_abort(s->connecting);
        on_connect_error(s, reason);
        return;
    }
    held_free(s);
    if (s->ws) ws_close(s->ws, code, reason);
}

/* Per shard thread: after a routing change, sockets of retired realms (the Worker was
 * redeployed or reloaded) are closed; when the server stops, outbound ones are too (the HTTP
 * server closes the accepted ones). */
static _Thread_local uv_check_t watch;
static _Thread_local uv_loop_t *watch_loop;
static _Thread_local uint64_t watch_generation;

static void on_watch(uv_check_t *h) {
    shard *sh = h->data;
    uint64_t gen = atomic_load(&sh->snapshot_generation);
    if (!socks || (!sh->stopping && gen == watch_generation)) return;
    watch_generation = gen;
    /* By handle: a close event's listeners may close (and free) other sockets meanwhile. */
    size_t n = 0;
    for (wsock *s = socks; s; s = s->next) n++;
    double *handles = xmalloc(n * sizeof *handles);
    n = 0;
    for (wsock *s = socks; s; s = s->next) handles[n++] = s->handle;
    for (size_t i = 0; i < n; i++) {
        wsock *s = sock_find(handles[i]);
        invocation *inv = s ? invocation_lookup(sh, s->inv_id) : NULL;
        if (inv && inv->entry->retired)
            sock_close_now(s, WS_CLOSE_GOING_AWAY, "the Worker was updated");
        else if (s && sh->stopping && s->outbound)
            sock_close_now(s, WS_CLOSE_GOING_AWAY, "going away");
    }
    free(handles);
}

static void watch_start(shard *sh) {
    if (watch_loop == &sh->loop) return;
    watch_loop = &sh->loop;
    watch_generation = atomic_load(&sh->snapshot_generation);
    uv_check_init(&sh->loop, &watch);
    watch.data = sh;
    uv_check_start(&watch, on_watch);
    uv_unref((uv_handle_t *)&watch); /* never keeps the loop alive */
}

static const js_op websocket_ops[] = {
    {"wsUpgrade", op_ws_upgrade}, {"wsProxy", op_ws_proxy}, {"wsConnect", op_ws_connect},
    {"wsSend", op_ws_send},       {"wsClose", op_ws_close},
};

void websocket_ops_register(void) {
    js_ops_register(websocket_ops, sizeof websocket_ops / sizeof websocket_ops[0]);
}
