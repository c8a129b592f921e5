#include "observe/logstore.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"

/* A batch is committed when this many events are queued, or this long after the first of
 * them was. Measured: a transaction of one event costs ~80 us, an event in a batch ~6 us. */
#define BATCH_EVENTS 1000
#define BATCH_MS     100
/* Retention runs this often. The size bound is also checked after every batch. */
#define MAINTENANCE_MS 60000
/* Rows deleted per maintenance transaction, so that queued events get written in between
 * and a large deletion does not make the queue overflow. */
#define DELETE_CHUNK 2000
/* Over the size bound, the oldest events are deleted until the total is this fraction under
 * it, so that eviction runs now and then rather than after every batch. */
#define EVICT_SLACK_DIVISOR 10
/* The writer reports failures on stderr at most this often. */
#define REPORT_EVERY_MS 60000

/* The queue is a byte buffer of records: this header, then the script, version id, outcome
 * and event, each followed by a NUL (a NULL string has length NO_STRING and no bytes).
 * Appenders copy into one buffer while the writer drains the other, and the two are swapped:
 * after warm-up an append allocates nothing, and memory is never freed on another thread
 * than the one that allocated it (which made malloc'd items cost several times more). */
typedef struct record {
    uint64_t ts;
    uint32_t script_len, version_len, outcome_len, event_len;
} record;
#define NO_STRING UINT32_MAX
/* A drained buffer larger than this is freed rather than kept for the next swap. */
#define KEEP_BUFFER_BYTES ((size_t)4 << 20)

struct logstore {
    logstore_options opt;
    sqlite3 *wdb;         /* used by the writer thread only (and by open/close) */
    sqlite3_stmt *insert; /* on wdb */
    sqlite3 *rdb;         /* searches, one at a time under read_lock */
    pthread_mutex_t read_lock;
    uint64_t search_deadline; /* monotonic ms, for the progress handler; under read_lock */

    pthread_t writer;
    pthread_mutex_t lock;        /* guards the fields down to `stopping` */
    pthread_cond_t wake;         /* tells the writer there is work */
    pthread_cond_t done;         /* tells flush/maintain callers the writer progressed */
    buf queue;                   /* records waiting for the writer */
    size_t count;                /* how many */
    uint64_t queued_event_bytes; /* the sum of their event_len */
    atomic_size_t queue_bytes;   /* queue.len, readable without the lock for a cheap pre-check */
    uint64_t enqueued;           /* events queued so far */
    uint64_t written;            /* of those, how many the writer has finished with */
    uint64_t flush_target;       /* logstore_flush wants `written` to reach this */
    uint64_t maint_asked, maint_done; /* logstore_maintain calls made and finished */
    uint64_t maint_clock;             /* the time the last of them gave (0: real clock) */
    bool stopping;

    atomic_uint_least64_t stored, bytes, dropped;

    /* The writer's own state. */
    bool maintaining;     /* a maintenance run is under way (it takes several chunks) */
    uint64_t run_serves;  /* the logstore_maintain calls (up to this one) it answers */
    uint64_t cutoff_ms;   /* its retention cutoff: events before it go */
    uint64_t evict_to;    /* its size target */
    uint64_t incoming;    /* bytes of the batch about to be written, to make room for */
    uint64_t next_report; /* monotonic ms before which failures are not reported again */
};

static const char kSchema[] =
    /* id gives the order of events with the same timestamp (the last appended is newest).
     * size is the event's length, kept so the size bound needs no scan of the events. */
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, script TEXT NOT NULL,"
    "  ts INTEGER NOT NULL, version_id TEXT, outcome TEXT, size INTEGER NOT NULL,"
    "  event TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS events_by_script ON events (script, ts);"
    /* Oldest first for retention and eviction; covering (ts, size, id), so neither they nor
     * the totals read at open touch the events themselves. */
    "CREATE INDEX IF NOT EXISTS events_by_ts ON events (ts, size);"
    "PRAGMA user_version = 1;";

static const char kInsert[] = "INSERT INTO events (script, ts, version_id, outcome, size, event)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/* The index on (script, ts) serves both the range and the order; rowid (id) is the index's
 * last column, so ties come out last-appended first without a sort. */
static const char kSearch[] =
    "SELECT event FROM events WHERE script = ?1 AND ts >= ?2 AND ts <= ?3"
    " AND (?4 IS NULL OR version_id = ?4) AND (?5 IS NULL OR outcome = ?5)"
    " AND (?6 IS NULL OR event LIKE ?6 ESCAPE '\\')"
    " ORDER BY ts DESC, id DESC LIMIT ?7";

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint64_t clock_ms(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* SQLite integers are signed. */
static sqlite3_int64 to_i64(uint64_t v) {
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

void logstore_options_defaults(logstore_options *o) {
    o->retention_ms = UINT64_C(3) * 24 * 3600 * 1000;
    o->max_bytes = UINT64_C(256) << 20;
    o->queue_max_bytes = (size_t)16 << 20;
    o->search_timeout_ms = 10000;
}

/* ---- the writer -------------------------------------------------------------------------- */

/* Prints a failure of the writer, at most once a minute (a full disk would otherwise print
 * one line per batch). */
static void report(logstore *ls, const char *what) {
    uint64_t now = clock_ms(CLOCK_MONOTONIC);
    if (now < ls->next_report) return;
    ls->next_report = now + REPORT_EVERY_MS;
    fprintf(stderr, "[hearth] logs: %s: %s (events are being dropped)\n", what,
            sqlite3_errmsg(ls->wdb));
}

static bool exec_w(logstore *ls, const char *sql) {
    return sqlite3_exec(ls->wdb, sql, NULL, NULL, NULL) == SQLITE_OK;
}

/* The string at *p of length n (NO_STRING: NULL); moves *p past it. */
static const char *take_string(const char **p, uint32_t n) {
    if (n == NO_STRING) return NULL;
    const char *s = *p;
    *p += (size_t)n + 1;
    return s;
}

/* Writes the records of a drained queue in one transaction. On failure the whole batch is
 * counted as dropped: logs are best-effort, and retrying would only let the queue overflow. */
static void write_batch(logstore *ls, const buf *batch) {
    if (!batch->len) return;
    uint64_t n = 0, bytes = 0;
    bool ok = exec_w(ls, "BEGIN IMMEDIATE");
    const char *p = batch->data, *end = batch->data + batch->len;
    while (p < end) {
        record r;
        memcpy(&r, p, sizeof r); /* records are not aligned */
        p += sizeof r;
        const char *script = take_string(&p, r.script_len);
        const char *version_id = take_string(&p, r.version_len);
        const char *outcome = take_string(&p, r.outcome_len);
        const char *event = take_string(&p, r.event_len);
        n++;
        bytes += r.event_len;
        if (!ok) continue; /* only counting */
        sqlite3_stmt *st = ls->insert;
        sqlite3_bind_text(st, 1, script, (int)r.script_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, to_i64(r.ts));
        sqlite3_bind_text(st, 3, version_id, version_id ? (int)r.version_len : 0, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, outcome, outcome ? (int)r.outcome_len : 0, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, (sqlite3_int64)r.event_len);
        sqlite3_bind_text(st, 6, event, (int)r.event_len, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_reset(st);
    }
    if (ok) ok = exec_w(ls, "COMMIT");
    if (ok) {
        atomic_fetch_add_explicit(&ls->stored, n, memory_order_relaxed);
        atomic_fetch_add_explicit(&ls->bytes, bytes, memory_order_relaxed);
    } else {
        report(ls, "cannot write events");
        if (!sqlite3_get_autocommit(ls->wdb)) exec_w(ls, "ROLLBACK");
        atomic_fetch_add_explicit(&ls->dropped, n, memory_order_relaxed);
    }
    sqlite3_clear_bindings(ls->insert);
}

/* Starts a maintenance run: retention relative to now_ms, and the size bound. */
static void maintenance_start(logstore *ls, uint64_t now_ms) {
    ls->maintaining = true;
    ls->cutoff_ms = now_ms > ls->opt.retention_ms ? now_ms - ls->opt.retention_ms : 0;
    ls->evict_to = ls->opt.max_bytes;
}

/* One chunk of a maintenance run: deletes up to DELETE_CHUNK of the oldest events that are
 * past the retention cutoff or over the size target; the run ends when a chunk is not full.
 * Returns the bytes freed. */
static uint64_t maintenance_step(logstore *ls) {
    uint64_t bytes = atomic_load_explicit(&ls->bytes, memory_order_relaxed) + ls->incoming;
    if (bytes > ls->opt.max_bytes)
        ls->evict_to = ls->opt.max_bytes - ls->opt.max_bytes / EVICT_SLACK_DIVISOR;
    sqlite3_stmt *sel = NULL, *del = NULL;
    sqlite3_int64 ids[DELETE_CHUNK];
    size_t n = 0;
    uint64_t freed = 0;
    bool finished = true;
    int rc = sqlite3_prepare_v2(ls->wdb, "SELECT id, ts, size FROM events ORDER BY ts LIMIT ?1", -1,
                                &sel, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(sel, 1, DELETE_CHUNK);
        while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
            uint64_t ts = (uint64_t)sqlite3_column_int64(sel, 1);
            uint64_t size = (uint64_t)sqlite3_column_int64(sel, 2);
            uint64_t left = bytes > freed ? bytes - freed : 0;
            if (ts >= ls->cutoff_ms && left <= ls->evict_to) break;
            ids[n++] = sqlite3_column_int64(sel, 0);
            freed += size;
        }
        /* Rows are collected before deleting: changing a table under a running scan of it
         * is not something to rely on. */
        finished = n < DELETE_CHUNK;
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(sel);
    if (rc == SQLITE_OK && n > 0) {
        rc = sqlite3_prepare_v2(ls->wdb, "DELETE FROM events WHERE id = ?1", -1, &del, NULL);
        if (rc == SQLITE_OK && !exec_w(ls, "BEGIN IMMEDIATE")) rc = SQLITE_ERROR;
        for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
            sqlite3_bind_int64(del, 1, ids[i]);
            if (sqlite3_step(del) != SQLITE_DONE) rc = SQLITE_ERROR;
            sqlite3_reset(del);
        }
        if (rc == SQLITE_OK && !exec_w(ls, "COMMIT")) rc = SQLITE_ERROR;
        sqlite3_finalize(del);
        if (rc == SQLITE_OK) {
            atomic_fetch_sub_explicit(&ls->stored, n, memory_order_relaxed);
            atomic_fetch_sub_explicit(&ls->bytes, freed, memory_order_relaxed);
        } else if (!sqlite3_get_autocommit(ls->wdb)) {
            exec_w(ls, "ROLLBACK");
        }
    }
    if (rc != SQLITE_OK) {
        report(ls, "cannot delete old events");
        finished = true; /* tried again at the next run */
        freed = 0;
    }
    if (finished) ls->maintaining = false;
    return freed;
}

static void *writer_main(void *arg) {
    logstore *ls = arg;
    uint64_t next_maintenance = 0; /* at once: the bounds may have changed since last time */
    uint64_t batch_due = 0;        /* when the queued events must be written */
    buf batch = {0};               /* the buffer being written, then kept for the next swap */
    pthread_mutex_lock(&ls->lock);
    for (;;) {
        uint64_t now = clock_ms(CLOCK_MONOTONIC);
        if (ls->count > 0 && batch_due == 0) batch_due = now + BATCH_MS;
        bool asked = ls->maint_asked > ls->maint_done;
        bool periodic = now >= next_maintenance;
        bool work = ls->stopping || ls->flush_target > ls->written || asked || periodic ||
                    ls->maintaining || ls->count >= BATCH_EVENTS ||
                    (ls->count > 0 && now >= batch_due);
        if (!work) {
            /* Appends wake the writer when the queue stops being empty and when it holds a
             * batch; otherwise it sleeps until the batch or the maintenance is due. */
            uint64_t until = ls->count > 0 ? batch_due : next_maintenance;
            struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                                  .tv_nsec = (long)(until % 1000) * 1000000};
            pthread_cond_timedwait(&ls->wake, &ls->lock, &ts);
            continue;
        }
        buf spare = batch;
        batch = ls->queue;
        ls->queue = spare;
        uint64_t upto = ls->enqueued;
        uint64_t asked_upto = ls->maint_asked, clock = ls->maint_clock;
        uint64_t incoming = ls->queued_event_bytes;
        ls->count = 0;
        ls->queued_event_bytes = 0;
        atomic_store_explicit(&ls->queue_bytes, 0, memory_order_relaxed);
        batch_due = 0;
        pthread_mutex_unlock(&ls->lock);

        /* Room is made before the batch is written, so the total never goes over the bound
         * (unless the batch alone is larger than the bound). A run deletes in chunks, so that a
         * long one does not hold up the queue, but each turn deletes at least as much as it is
         * about to write: otherwise a steady flood of large batches would outpace the eviction. */
        uint64_t stored_bytes = atomic_load_explicit(&ls->bytes, memory_order_relaxed);
        if (!ls->maintaining && stored_bytes + incoming > ls->opt.max_bytes)
            maintenance_start(ls, clock_ms(CLOCK_REALTIME));
        ls->incoming = incoming;
        for (uint64_t freed = 0; ls->maintaining && freed < incoming;)
            freed += maintenance_step(ls);
        ls->incoming = 0;
        write_batch(ls, &batch);
        batch.len = 0;
        if (batch.cap > KEEP_BUFFER_BYTES) buf_free(&batch); /* after a burst */

        /* Then, after the write so that they cover every event appended before them: a run
         * asked for by logstore_maintain, with its clock, even over a run under way (the
         * latest clock wins; the run answers every call made so far), or the periodic one. */
        if (asked && asked_upto > ls->run_serves) {
            maintenance_start(ls, clock ? clock : clock_ms(CLOCK_REALTIME));
            ls->run_serves = asked_upto;
        } else if (!ls->maintaining && periodic) {
            maintenance_start(ls, clock_ms(CLOCK_REALTIME));
        }
        if (periodic) next_maintenance = now + MAINTENANCE_MS;
        if (ls->maintaining) maintenance_step(ls);

        pthread_mutex_lock(&ls->lock);
        ls->written = upto;
        if (!ls->maintaining) ls->maint_done = ls->run_serves;
        pthread_cond_broadcast(&ls->done);
        /* Closing writes what is queued but does not finish a long eviction: the next open
         * starts with one. */
        if (ls->stopping && ls->count == 0) break;
    }
    pthread_mutex_unlock(&ls->lock);
    buf_free(&batch);
    return NULL;
}

/* ---- open and close ---------------------------------------------------------------------- */

static int open_db(const char *path, sqlite3 **db, char *err, size_t errlen) {
    int rc = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "cannot open %s: %s", path, *db ? sqlite3_errmsg(*db) : "no memory");
        return -1;
    }
    sqlite3_busy_timeout(*db, 5000);
    return 0;
}

logstore *logstore_open(const char *path, const logstore_options *o, char *err, size_t errlen) {
    logstore *ls = xcalloc(1, sizeof *ls);
    logstore_options_defaults(&ls->opt);
    if (o) {
        if (o->retention_ms) ls->opt.retention_ms = o->retention_ms;
        if (o->max_bytes) ls->opt.max_bytes = o->max_bytes;
        if (o->queue_max_bytes) ls->opt.queue_max_bytes = o->queue_max_bytes;
        if (o->search_timeout_ms) ls->opt.search_timeout_ms = o->search_timeout_ms;
    }
    pthread_mutex_init(&ls->lock, NULL);
    pthread_mutex_init(&ls->read_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ls->wake, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&ls->done, NULL);

    /* Created owner-only: events hold request URLs and headers and whatever Workers log.
     * SQLite gives the -wal and -shm files the database's mode. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        goto fail;
    }
    close(fd);
    if (open_db(path, &ls->wdb, err, errlen) != 0) goto fail;
    /* WAL: searches read while the writer writes. synchronous=NORMAL: in WAL mode a commit is
     * then not fsynced, so the last batches may be lost if the machine (not the process)
     * dies, but the file stays consistent — the right trade for logs, written often and
     * in bulk, where FULL would add an fsync to every batch. journal_size_limit keeps a WAL
     * that grew during a long search from staying large. */
    if (!exec_w(ls, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                    "PRAGMA journal_size_limit=67108864;") ||
        !exec_w(ls, kSchema) ||
        sqlite3_prepare_v2(ls->wdb, kInsert, -1, &ls->insert, NULL) != SQLITE_OK) {
        set_err(err, errlen, "cannot initialise %s: %s", path, sqlite3_errmsg(ls->wdb));
        goto fail;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ls->wdb, "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM events", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        set_err(err, errlen, "cannot read %s: %s", path, sqlite3_errmsg(ls->wdb));
        sqlite3_finalize(st);
        goto fail;
    }
    atomic_store(&ls->stored, (uint64_t)sqlite3_column_int64(st, 0));
    atomic_store(&ls->bytes, (uint64_t)sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    if (open_db(path, &ls->rdb, err, errlen) != 0) goto fail;
    if (sqlite3_exec(ls->rdb, "PRAGMA query_only=1", NULL, NULL, NULL) != SQLITE_OK) {
        set_err(err, errlen, "cannot initialise %s: %s", path, sqlite3_errmsg(ls->rdb));
        goto fail;
    }
    if (pthread_create(&ls->writer, NULL, writer_main, ls) != 0) {
        set_err(err, errlen, "cannot start the log writer thread");
        goto fail;
    }
    return ls;

fail:
    sqlite3_finalize(ls->insert);
    if (ls->rdb) sqlite3_close(ls->rdb);
    if (ls->wdb) sqlite3_close(ls->wdb);
    pthread_cond_destroy(&ls->wake);
    pthread_cond_destroy(&ls->done);
    pthread_mutex_destroy(&ls->lock);
    pthread_mutex_destroy(&ls->read_lock);
    free(ls);
    return NULL;
}

void logstore_close(logstore *ls) {
    if (!ls) return;
    pthread_mutex_lock(&ls->lock);
    ls->stopping = true;
    pthread_cond_signal(&ls->wake);
    pthread_mutex_unlock(&ls->lock);
    pthread_join(ls->writer, NULL);
    sqlite3_finalize(ls->insert);
    sqlite3_close(ls->rdb);
    sqlite3_close(ls->wdb);
    pthread_cond_destroy(&ls->wake);
    pthread_cond_destroy(&ls->done);
    pthread_mutex_destroy(&ls->lock);
    pthread_mutex_destroy(&ls->read_lock);
    buf_free(&ls->queue);
    free(ls);
}

/* ---- appending --------------------------------------------------------------------------- */

void logstore_append(logstore *ls, const char *script, const char *version_id, const char *outcome,
                     uint64_t timestamp_ms, const char *event_json, size_t len) {
    record r = {.ts = timestamp_ms,
                .script_len = (uint32_t)strlen(script),
                .version_len = version_id ? (uint32_t)strlen(version_id) : NO_STRING,
                .outcome_len = outcome ? (uint32_t)strlen(outcome) : NO_STRING,
                .event_len = (uint32_t)len};
    size_t need = sizeof r + r.script_len + 1 + (version_id ? r.version_len + 1 : 0) +
                  (outcome ? r.outcome_len + 1 : 0) + len + 1;
    /* Checked without the lock first, so that a flood against a full queue does not contend
     * for it. (SQLite takes at most INT_MAX bytes of text.) */
    if (len > INT32_MAX || atomic_load_explicit(&ls->queue_bytes, memory_order_relaxed) + need >
                               ls->opt.queue_max_bytes) {
        atomic_fetch_add_explicit(&ls->dropped, 1, memory_order_relaxed);
        return;
    }
    pthread_mutex_lock(&ls->lock);
    buf *q = &ls->queue;
    if (q->len + need > ls->opt.queue_max_bytes) {
        pthread_mutex_unlock(&ls->lock);
        atomic_fetch_add_explicit(&ls->dropped, 1, memory_order_relaxed);
        return;
    }
    buf_reserve(q, need);
    char *p = q->data + q->len;
    memcpy(p, &r, sizeof r);
    p += sizeof r;
    memcpy(p, script, r.script_len + 1);
    p += r.script_len + 1;
    if (version_id) {
        memcpy(p, version_id, r.version_len + 1);
        p += r.version_len + 1;
    }
    if (outcome) {
        memcpy(p, outcome, r.outcome_len + 1);
        p += r.outcome_len + 1;
    }
    memcpy(p, event_json, len);
    p[len] = '\0';
    q->len += need;
    ls->count++;
    ls->queued_event_bytes += len;
    ls->enqueued++;
    atomic_store_explicit(&ls->queue_bytes, q->len, memory_order_relaxed);
    /* Only these two moments matter to the writer (see writer_main); signalling on every
     * append would wake it for nothing. */
    if (ls->count == 1 || ls->count == BATCH_EVENTS) pthread_cond_signal(&ls->wake);
    pthread_mutex_unlock(&ls->lock);
}

void logstore_flush(logstore *ls) {
    pthread_mutex_lock(&ls->lock);
    uint64_t target = ls->enqueued;
    if (target > ls->flush_target) ls->flush_target = target;
    pthread_cond_signal(&ls->wake);
    while (ls->written < target) pthread_cond_wait(&ls->done, &ls->lock);
    pthread_mutex_unlock(&ls->lock);
}

void logstore_maintain(logstore *ls, uint64_t now_ms) {
    pthread_mutex_lock(&ls->lock);
    uint64_t mine = ++ls->maint_asked;
    ls->maint_clock = now_ms;
    pthread_cond_signal(&ls->wake);
    while (ls->maint_done < mine) pthread_cond_wait(&ls->done, &ls->lock);
    pthread_mutex_unlock(&ls->lock);
}

void logstore_stats_get(logstore *ls, logstore_stats *out) {
    out->stored = atomic_load_explicit(&ls->stored, memory_order_relaxed);
    out->dropped = atomic_load_explicit(&ls->dropped, memory_order_relaxed);
    out->bytes = atomic_load_explicit(&ls->bytes, memory_order_relaxed);
}

/* ---- searching --------------------------------------------------------------------------- */

/* The LIKE pattern for a search string. Events are stored as JSON text, so the string is
 * first escaped as JSON would write it (a quote in a message is \" in the event), then
 * LIKE's own wildcards are escaped. */
static char *like_pattern(const char *search) {
    json_t *s = json_string(search);
    char *quoted = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    const char *text = search;
    size_t n = strlen(search);
    if (quoted) { /* without its quotes */
        text = quoted + 1;
        n = strlen(quoted) - 2;
    }
    buf b = {0};
    buf_putc(&b, '%');
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '%' || text[i] == '_' || text[i] == '\\') buf_putc(&b, '\\');
        buf_putc(&b, text[i]);
    }
    buf_putc(&b, '%');
    free(quoted);
    return buf_detach(&b, NULL);
}

/* Called by SQLite every few thousand instructions of a search: non-zero interrupts it. */
static int search_progress(void *arg) {
    logstore *ls = arg;
    return clock_ms(CLOCK_MONOTONIC) > ls->search_deadline;
}

int logstore_search(logstore *ls, const logstore_query *q, json_t **out, char *err, size_t errlen) {
    *out = NULL;
    if (!q->script) {
        set_err(err, errlen, "the query names no script");
        return -1;
    }
    bool searching = q->search && *q->search;
    if (searching && strlen(q->search) > LOGSTORE_MAX_SEARCH) {
        set_err(err, errlen, "the search string is longer than %d bytes", LOGSTORE_MAX_SEARCH);
        return -1;
    }
    size_t limit = q->limit ? q->limit : LOGSTORE_DEFAULT_LIMIT;
    if (limit > LOGSTORE_MAX_LIMIT) limit = LOGSTORE_MAX_LIMIT;
    char *pattern = searching ? like_pattern(q->search) : NULL;
    json_t *events = json_array();
    int rc = 0;

    pthread_mutex_lock(&ls->read_lock);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(ls->rdb, kSearch, -1, &st, NULL) != SQLITE_OK) {
        set_err(err, errlen, "cannot search the logs: %s", sqlite3_errmsg(ls->rdb));
        rc = -1;
    } else {
        sqlite3_bind_text(st, 1, q->script, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, to_i64(q->since_ms));
        sqlite3_bind_int64(st, 3, q->until_ms ? to_i64(q->until_ms) : INT64_MAX);
        sqlite3_bind_text(st, 4, q->version_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, q->outcome, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 6, pattern, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, (sqlite3_int64)limit);
        ls->search_deadline = clock_ms(CLOCK_MONOTONIC) + ls->opt.search_timeout_ms;
        sqlite3_progress_handler(ls->rdb, 10000, search_progress, ls);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            const char *text = (const char *)sqlite3_column_text(st, 0);
            int n = sqlite3_column_bytes(st, 0);
            json_t *ev = text ? json_loadb(text, (size_t)n, 0, NULL) : NULL;
            if (json_is_object(ev))
                json_array_append_new(events, ev);
            else
                json_decref(ev); /* not an event: the producer wrote something else */
        }
        sqlite3_progress_handler(ls->rdb, 0, NULL, NULL);
        if (step == SQLITE_INTERRUPT) {
            set_err(err, errlen,
                    "the search took longer than %llu ms; narrow the time range or the filters",
                    (unsigned long long)ls->opt.search_timeout_ms);
            rc = -1;
        } else if (step != SQLITE_DONE) {
            set_err(err, errlen, "cannot search the logs: %s", sqlite3_errmsg(ls->rdb));
            rc = -1;
        }
    }
    sqlite3_finalize(st);
    pthread_mutex_unlock(&ls->read_lock);
    free(pattern);
    if (rc != 0) {
        json_decref(events);
        return -1;
    }
    *out = events;
    return 0;
}
