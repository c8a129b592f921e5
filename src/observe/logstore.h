/* logstore — where trace events (one JSON object per invocation of a Worker with
 * observability enabled, in Cloudflare's tail format) are kept and searched.
 *
 * A SQLite file of its own (`DATA/logs.db`), apart from the deployment state, so that log
 * writes never wait behind a deployment and the reverse. Appending happens on the request
 * path of every shard, so it never touches the disk: the event is copied onto a bounded
 * in-memory queue that one writer thread drains in batched transactions. When the queue is
 * full, events are dropped and counted rather than slowing requests down.
 *
 * The writer also keeps the file bounded: events older than the retention, then the oldest
 * events while their total size is over the bound, are deleted periodically.
 *
 * Threads:
 * - logstore_append, logstore_flush, logstore_maintain, logstore_search and
 *   logstore_stats_get may be called from any thread, concurrently.
 * - logstore_search uses a connection of its own (WAL: readers do not block the writer);
 *   concurrent searches take turns on it.
 * - logstore_close must not race with any other call; it writes what is queued first. */
#ifndef HEARTH_OBSERVE_LOGSTORE_H
#define HEARTH_OBSERVE_LOGSTORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

typedef struct logstore logstore;

typedef struct logstore_options {
    uint64_t retention_ms;      /* events older than this are deleted; default 3 days */
    uint64_t max_bytes;         /* bound on the stored events' JSON bytes; default 256 MiB */
    size_t queue_max_bytes;     /* bound on events waiting for the writer; default 16 MiB
                                   (a batch as large may be being written meanwhile) */
    uint64_t search_timeout_ms; /* a search running longer fails; default 10 s */
} logstore_options;

/* Fills in the defaults. Fields left 0 in the options given to logstore_open also get them. */
void logstore_options_defaults(logstore_options *o);

/* Opens (creating, mode 0600) the database at `path` and starts the writer thread. `o` may be
 * NULL for the defaults. NULL with err on failure. */
logstore *logstore_open(const char *path, const logstore_options *o, char *err, size_t errlen);
/* Writes what is queued, stops the writer and closes the file. NULL is allowed. */
void logstore_close(logstore *ls);

/* Queues one event (the strings are copied; event_json need not be NUL-terminated).
 * version_id and outcome may be NULL. timestamp_ms is the event's eventTimestamp (Unix ms):
 * searches, retention and eviction go by it. Never blocks on disk; when the queue is over its
 * bound the event is dropped and counted. The JSON is not checked here (events that do not
 * parse are skipped by searches). */
void logstore_append(logstore *ls, const char *script, const char *version_id, const char *outcome,
                     uint64_t timestamp_ms, const char *event_json, size_t len);

/* Waits until everything appended before the call is written (or dropped, if writing it
 * failed). */
void logstore_flush(logstore *ls);

/* Runs retention and the size bound now, as if the time were now_ms (0: the real clock), and
 * waits until they are done. The writer does this by itself when opened, every minute, and
 * when a batch takes the total over the size bound; this is for tests and for callers that
 * want it done at once. */
void logstore_maintain(logstore *ls, uint64_t now_ms);

#define LOGSTORE_DEFAULT_LIMIT 100
#define LOGSTORE_MAX_LIMIT     1000
/* Longest `search` string accepted, in bytes. */
#define LOGSTORE_MAX_SEARCH 1024

typedef struct logstore_query {
    const char *script;          /* required */
    uint64_t since_ms, until_ms; /* inclusive range on eventTimestamp; until 0: no bound */
    const char *version_id;      /* NULL: any */
    const char *outcome;         /* NULL: any; e.g. "exception" */
    const char *search; /* NULL or "": any; a substring of the event's JSON text, ASCII letters
                           compared case-insensitively (messages, exceptions, url, ...) */
    size_t limit;       /* 0: LOGSTORE_DEFAULT_LIMIT; at most LOGSTORE_MAX_LIMIT */
} logstore_query;

/* The newest events matching q, newest first (ties: the last appended first), as a new JSON
 * array of the parsed event objects in *out. Sees what the writer has committed (everything
 * appended before a logstore_flush). -1 with err for a query without a script, a search
 * string that is too long, a search over its time limit, or a database error. */
int logstore_search(logstore *ls, const logstore_query *q, json_t **out, char *err, size_t errlen);

typedef struct logstore_stats {
    uint64_t stored;  /* events in the database */
    uint64_t dropped; /* events lost: queue over its bound, or a failed write */
    uint64_t bytes;   /* their JSON bytes (the file is larger: indexes, free pages) */
} logstore_stats;

void logstore_stats_get(logstore *ls, logstore_stats *out);

#endif
