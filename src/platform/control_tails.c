/* control_tails — live tail sessions on the control thread: creating them for the API,
 * carrying their events to the client's WebSocket, ending them.
 *
 * Shards queue events into a session (src/observe/tail.c) and poke tail_async; this thread
 * then sends what is queued, as far as the client's WebSocket has room. What does not fit stays
 * queued in the session, whose bounded queue drops (and counts) the overflow, so a slow client
 * costs the Workers nothing. A one-second timer sends the sampling and drop notices and ends
 * expired sessions. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "base/alloc.h"
#include "net/websocket.h"
#include "observe/tail.h"
#include "platform/control.h"
#include "platform/snapshot.h"

static uint64_t mono_ms(void) {
    return uv_hrtime() / 1000000u;
}

static void on_session_notify(void *arg) {
    uv_async_send(arg);
}

/* Sends what a session has queued while its socket has room. */
static void pump_one(control_tail *t);

static void send_message(void *arg, const char *text, size_t len) {
    control_tail *t = arg;
    /* The socket had room when draining started; a message that no longer fits is lost, and
     * the session's counters say so in the next notice. */
    if (t->ws) ws_send_text(t->ws, text, len);
}

static void pump_one(control_tail *t) {
    if (!t->ws || !ws_is_open(t->ws)) return;
    ws_options defaults;
    ws_options_defaults(&defaults);
    if (ws_buffered_bytes(t->ws) > defaults.max_buffered_bytes / 2) return; /* on_drain resumes */
    tail_session_drain(t->session, mono_ms(), send_message, t);
}

static void on_tail_async(uv_async_t *a) {
    control *c = a->data;
    for (size_t i = 0; i < c->tail_count; i++) pump_one(c->tails[i]);
}

static void on_tail_timer(uv_timer_t *timer) {
    control *c = timer->data;
    uint64_t now = mono_ms();
    for (size_t i = 0; i < c->tail_count;) {
        control_tail *t = c->tails[i];
        if (now >= tail_session_expires_at(t->session)) {
            control_tail_end(c, t, WS_CLOSE_NORMAL, "tail session expired");
            continue; /* the array shifted */
        }
        pump_one(t);
        i++;
    }
}

void control_tails_init(control *c) {
    uv_async_init(&c->loop, &c->tail_async, on_tail_async);
    c->tail_async.data = c;
    uv_timer_init(&c->loop, &c->tail_timer);
    c->tail_timer.data = c;
    uv_timer_start(&c->tail_timer, on_tail_timer, 1000, 1000);
    uv_unref((uv_handle_t *)&c->tail_timer);
}

control_tail *control_tail_create(control *c, const char *script) {
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) abort();
    char id[33];
    for (int i = 0; i < 16; i++) snprintf(id + 2 * i, 3, "%02x", r[i]);
    control_tail *t = xcalloc(1, sizeof *t);
    t->c = c;
    t->created_ms = mono_ms();
    t->session = tail_session_new(id, script, t->created_ms + TAIL_SESSION_TTL_MS,
                                  on_session_notify, &c->tail_async);
    c->tails = xrealloc(c->tails, (c->tail_count + 1) * sizeof *c->tails);
    c->tails[c->tail_count++] = t;
    control_publish(c);
    return t;
}

control_tail *control_tail_find(control *c, const char *script, const char *id) {
    for (size_t i = 0; i < c->tail_count; i++)
        if (strcmp(tail_session_id(c->tails[i]->session), id) == 0 &&
            strcmp(tail_session_script(c->tails[i]->session), script) == 0)
            return c->tails[i];
    return NULL;
}

static void forget(control *c, control_tail *t) {
    size_t k = 0;
    for (size_t i = 0; i < c->tail_count; i++)
        if (c->tails[i] != t) c->tails[k++] = c->tails[i];
    c->tail_count = k;
    tail_session_close(t->session);
    tail_session_unref(t->session);
    free(t);
    control_publish(c); /* the shards stop offering it events */
}

void control_tail_end(control *c, control_tail *t, int code, const char *reason) {
    if (t->ws) {
        ws_conn *ws = t->ws;
        t->ws = NULL;
        ws_set_user(ws, NULL); /* its on_close must not find the session */
        ws_close(ws, code, reason);
    }
    forget(c, t);
}

void control_tails_free(control *c) {
    /* The loop has stopped: sessions whose client never connected are still here. */
    for (size_t i = 0; i < c->tail_count; i++) {
        tail_session_close(c->tails[i]->session);
        tail_session_unref(c->tails[i]->session);
        free(c->tails[i]);
    }
    free(c->tails);
    c->tails = NULL;
    c->tail_count = 0;
}

void control_tails_end_script(control *c, const char *script) {
    for (size_t i = 0; i < c->tail_count;) {
        if (strcmp(tail_session_script(c->tails[i]->session), script) == 0)
            control_tail_end(c, c->tails[i], WS_CLOSE_NORMAL, "the Worker was deleted");
        else
            i++;
    }
}

void control_tails_publish(control *c, snapshot *snap) {
    for (size_t i = 0; i < c->tail_count; i++) {
        const char *script = tail_session_script(c->tails[i]->session);
        script_entry *se = snapshot_find_script(snap, script, strlen(script));
        /* Offer events once the client listens and said what it wants. */
        if (se && c->tails[i]->ws && c->tails[i]->active)
            snapshot_add_tail(se, c->tails[i]->session);
    }
}

/* ---- the client's WebSocket ---------------------------------------------------------------- */

static void on_ws_message(ws_conn *ws, ws_opcode op, const uint8_t *data, size_t len) {
    control_tail *t = ws_user(ws);
    if (!t || op != WS_TEXT) return;
    char err[300];
    json_t *msg;
    if (tail_session_set_filters(t->session, (const char *)data, len, err, sizeof err) != 0) {
        msg = json_pack("{s:s, s:s}", "type", "error", "message", err);
    } else {
        /* The first filters start the flow; the shards have the session when this returns,
         * so the acknowledgement means "events from now on match these filters". */
        if (!t->active) {
            t->active = true;
            control_publish(t->c);
        }
        msg = json_pack("{s:s, s:s}", "type", "filters", "message", "filters applied");
    }
    char *text = json_dumps(msg, JSON_COMPACT);
    ws_send_text(ws, text, strlen(text));
    free(text);
    json_decref(msg);
}

static void on_ws_close(ws_conn *ws, int code, const char *reason, size_t reason_len) {
    (void)code, (void)reason, (void)reason_len;
    control_tail *t = ws_user(ws);
    if (!t) return;
    t->ws = NULL;
    /* A session is one connection: when its client goes, so does the session. */
    forget(t->c, t);
}

static void on_ws_drain(ws_conn *ws) {
    control_tail *t = ws_user(ws);
    if (t) pump_one(t);
}

void control_tail_connect(control *c, control_tail *t, http_request *req) {
    static const ws_callbacks cb = {on_ws_message, on_ws_close, on_ws_drain};
    ws_options opt;
    ws_options_defaults(&opt);
    opt.subprotocols = "trace-v1";
    opt.ping_interval_ms = 30000;
    opt.idle_timeout_ms = 120000;
    opt.max_message_bytes = 64 * 1024; /* filters only */
    char err[256];
    ws_conn *ws = ws_accept(req, &cb, t, &opt, err, sizeof err);
    if (!ws) return; /* ws_accept answered the request */
    t->ws = ws;
    (void)c; /* events flow once the client sends its filters (on_ws_message) */
}
