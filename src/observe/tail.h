/* tail — live tail sessions: a client watching one Worker's trace events as they happen.
 *
 * The control API creates a session (POST .../tails); the client connects a WebSocket to it and
 * may send filters. The shards that run the Worker offer every finished trace event to each
 * session of its Worker: the session's filters run there, on the event's fields, before
 * anything is serialized, and what passes is queued as JSON text for the control thread to
 * send. Two limits protect the Worker from its watchers:
 *
 *   - sampling: a session receiving more than TAIL_MAX_EVENTS_PER_SECOND is sampled down to
 *     about that rate (events are kept at random, in proportion), and every
 *     TAIL_NOTICE_INTERVAL_MS the client is told how many events it did not get;
 *   - a bounded queue: a client that reads slower than events come loses the overflow
 *     (counted and reported the same way) instead of holding memory or slowing anything.
 *
 * Threads: tail_session_offer may be called from any thread at once; everything else about a
 * session's client (drain, filters) belongs to the thread that owns its WebSocket. */
#ifndef HEARTH_OBSERVE_TAIL_H
#define HEARTH_OBSERVE_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "observe/trace.h"

#define TAIL_MAX_EVENTS_PER_SECOND 100
#define TAIL_NOTICE_INTERVAL_MS    5000
#define TAIL_QUEUE_MAX_BYTES       (4u * 1024 * 1024)

typedef struct tail_session tail_session;

/* A session for Worker `script`; `notify(arg)` is called (from any thread) when messages are
 * queued. The caller holds the one reference. */
tail_session *tail_session_new(const char *id, const char *script, uint64_t expires_at_ms,
                               void (*notify)(void *), void *notify_arg);
tail_session *tail_session_ref(tail_session *s);
void tail_session_unref(tail_session *s);

const char *tail_session_id(const tail_session *s);
const char *tail_session_script(const tail_session *s);
uint64_t tail_session_expires_at(const tail_session *s);

/* Replaces the filters with those of a client message, Cloudflare's tail format:
 *   {"filters": [{"outcome": ["ok", "exception", ...]}, {"method": ["GET"]},
 *                {"header": {"key": "x-user", "query": "42"}}, {"query": "text"},
 *                {"client_ip": ["203.0.113.7"]}, {"version_id": ["<uuid>"]},
 *                {"sampling_rate": 0.1}], "debug": false}
 * Filters of different kinds must all match; a list matches any of its values. 0, or -1 with
 * a message naming the filter. */
int tail_session_set_filters(tail_session *s, const char *json, size_t len, char *err,
                             size_t errlen);

/* A finished invocation's event, offered to the sessions of its Worker. Filters read the
 * record; the JSON text is written once, by the first session that takes the event, into
 * `json` (the caller frees it). */
typedef struct tail_offer {
    const trace_record *record;
    const trace_meta *meta;
    buf json;
} tail_offer;

/* Filters, samples and queues one event. `now_ms`: monotonic milliseconds. Returns true if
 * the event was queued for this session. */
bool tail_session_offer(tail_session *s, tail_offer *o, uint64_t now_ms);

/* Hands the messages queued so far to fn(arg, text, len), in order, and forgets them. Also
 * produces the sampling and drop notice, at most every TAIL_NOTICE_INTERVAL_MS:
 *   {"type": "notice", "message": "...", "sampled_out": N, "dropped": M}
 * Returns the number of messages delivered. */
size_t tail_session_drain(tail_session *s, uint64_t now_ms,
                          void (*fn)(void *arg, const char *text, size_t len), void *arg);

/* Counters, for tests and the API. */
typedef struct tail_session_stats {
    uint64_t offered;     /* events of its Worker that reached it */
    uint64_t filtered;    /* of those, rejected by its filters */
    uint64_t sampled_out; /* over the rate limit */
    uint64_t dropped;     /* the queue was full */
    uint64_t sent;        /* handed to the client */
} tail_session_stats;
void tail_session_stats_get(tail_session *s, tail_session_stats *out);

/* Marks the session closed: later offers are ignored. */
void tail_session_close(tail_session *s);
bool tail_session_closed(tail_session *s);

#endif
