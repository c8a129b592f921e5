/* cron_scheduler — see cron_scheduler.h. */
#include "platform/cron_scheduler.h"

#include <stdlib.h>
#include <time.h>

#include "platform/cron.h"
#include "platform/invocation.h"
#include "platform/snapshot.h"

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds until the next minute starts (a little after, so the clock says that minute). */
static uint64_t until_next_minute(void) {
    return 60000 - now_ms() % 60000 + 5;
}

static void on_minute(uv_timer_t *t) {
    shard *sh = t->data;
    uint64_t minute_ms = now_ms() / 60000 * 60000;
    snapshot *snap = sh->snap;
    for (size_t i = 0; snap && i < snap->script_count; i++) {
        script_entry *se = &snap->scripts[i];
        if (!se->split_count) continue;
        /* A gradual deployment splits scheduled events like requests: by percentage. */
        worker_version *v = snapshot_pick_version(se, NULL, 0, NULL, 0, shard_random(sh));
        for (size_t k = 0; v && k < v->cron_count; k++)
            if (cron_matches(&v->crons[k], (int64_t)(minute_ms / 1000)))
                invocation_run_scheduled(sh, v, v->cron_texts[k], minute_ms, NULL);
    }
    uv_timer_start(t, on_minute, until_next_minute(), 0);
}

void cron_scheduler_start(shard *sh) {
    uv_timer_init(&sh->loop, &sh->cron_timer);
    sh->cron_timer.data = sh;
    uv_timer_start(&sh->cron_timer, on_minute, until_next_minute(), 0);
    uv_unref((uv_handle_t *)&sh->cron_timer);
}
