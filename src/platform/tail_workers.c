#include "platform/tail_workers.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "platform/invocation.h"
#include "platform/snapshot.h"

/* One consumer's queued events: their JSON texts, each followed by a NUL, in order. */
typedef struct tail_batch {
    struct tail_batch *next;
    char *consumer;
    buf events;
    size_t count;
} tail_batch;

static void batch_free(tail_batch *b) {
    buf_free(&b->events);
    free(b->consumer);
    free(b);
}

static void run_batches(uv_idle_t *idle) {
    shard *sh = idle->data;
    uv_idle_stop(idle);
    tail_batch *list = sh->tail_batches;
    sh->tail_batches = NULL;
    while (list) {
        tail_batch *b = list;
        list = b->next;
        script_entry *se =
            sh->snap ? snapshot_find_script(sh->snap, b->consumer, strlen(b->consumer)) : NULL;
        worker_version *v =
            se ? snapshot_pick_version(se, NULL, 0, NULL, 0, (uint64_t)uv_hrtime()) : NULL;
        /* A consumer that is not deployed: its events are dropped, as on the platform. */
        if (v && !sh->stopping) {
            buf json = {0};
            buf_putc(&json, '[');
            for (size_t off = 0, i = 0; i < b->count; i++) {
                size_t len = strlen(b->events.data + off);
                if (i) buf_putc(&json, ',');
                buf_append(&json, b->events.data + off, len);
                off += len + 1;
            }
            buf_putc(&json, ']');
            invocation_run_tail(sh, v, json.data, json.len);
            buf_free(&json);
        }
        batch_free(b);
    }
}

void tail_workers_init(shard *sh) {
    uv_idle_init(&sh->loop, &sh->tail_idle);
    sh->tail_idle.data = sh;
}

void tail_workers_free(shard *sh) {
    while (sh->tail_batches) {
        tail_batch *b = sh->tail_batches;
        sh->tail_batches = b->next;
        batch_free(b);
    }
}

void tail_workers_enqueue(shard *sh, const char *consumer, const char *event_json, size_t len) {
    tail_batch *b = sh->tail_batches;
    while (b && strcmp(b->consumer, consumer) != 0) b = b->next;
    if (!b) {
        b = xcalloc(1, sizeof *b);
        b->consumer = xstrdup(consumer);
        b->next = sh->tail_batches;
        sh->tail_batches = b;
    }
    /* A consumer that cannot keep up loses the newest events beyond the bound. */
    if (b->count >= TAIL_WORKERS_MAX_QUEUED) return;
    buf_append(&b->events, event_json, len);
    buf_putc(&b->events, '\0');
    b->count++;
    /* An idle handle makes the loop's next turn run it without waiting for I/O. */
    if (!uv_is_active((uv_handle_t *)&sh->tail_idle)) uv_idle_start(&sh->tail_idle, run_batches);
}
