/* trace — the trace event of one invocation, in the platform's tail format.
 *
 * An invocation that someone watches (a tail session, a Tail Worker, the logs store) gets a
 * trace_record when it starts. What the Worker logs and throws is appended as it happens;
 * when the invocation ends the record is written out as one JSON event:
 *
 *   { "scriptName", "scriptVersion": { "id", "tag", "message" }, "entrypoint",
 *     "event": { "request": { "url", "method", "headers", "cf" }, "response": { "status" } },
 *     "eventTimestamp", "outcome", "logs": [{ "level", "message": [...], "timestamp" }],
 *     "exceptions": [{ "name", "message", "stack", "timestamp" }], "cpuTime", "wallTime",
 *     "truncated" }
 *
 * Times are Unix milliseconds; cpuTime and wallTime are whole milliseconds (rounded), as on
 * the platform. Header names are lowercase; headers carrying credentials read "REDACTED"
 * (trace_header_is_sensitive); repeated headers are joined with ", ".
 *
 * A record keeps what it collects as JSON text, and the event is written straight into a
 * buffer: a watched request costs a few copies, not a tree of objects. The fields filters look
 * at are readable without writing the event. A record belongs to the thread running its
 * invocation. */
#ifndef HEARTH_OBSERVE_TRACE_H
#define HEARTH_OBSERVE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Bytes of log messages and exception text kept per event; past it, later entries are dropped
 * and the event says "truncated": true. */
#define TRACE_MAX_BYTES (256 * 1024)

typedef struct trace_record trace_record;

/* headers: "Name: value\r\n" lines as the HTTP server keeps them. */
trace_record *trace_record_new(uint64_t timestamp_ms, const char *method, const char *url,
                               size_t url_len, const char *headers, size_t headers_len,
                               const char *client_ip);
void trace_record_free(trace_record *t);

/* One console call: level ("log", "info", "debug", "warn", "error") and the logged values as a
 * JSON array text (as console.js makes it; anything not starting with '[' is kept as a
 * one-string array). */
void trace_record_log(trace_record *t, const char *level, const char *values_json, size_t len,
                      uint64_t timestamp_ms);
/* An uncaught exception (the stack already source-mapped, if it could be). */
void trace_record_exception(trace_record *t, const char *name, const char *message,
                            const char *stack, uint64_t timestamp_ms);

typedef struct trace_meta {
    const char *script;
    const char *version_id, *version_tag, *version_message; /* any may be NULL */
    const char *entrypoint;                                 /* "fetch" */
    const char *outcome;
    int status; /* response status, 0 if none was sent */
    double cpu_ms, wall_ms;
} trace_meta;

/* Appends the event's JSON text to out. */
void trace_record_write(const trace_record *t, const trace_meta *m, buf *out);

/* What filters look at. */
uint64_t trace_record_timestamp(const trace_record *t);
const char *trace_record_method(const trace_record *t);
const char *trace_record_client_ip(const trace_record *t);
/* The request header `name` (any case): its value (*len bytes; the first of repeated ones),
 * "REDACTED" for a sensitive one, or NULL. */
const char *trace_record_header(const trace_record *t, const char *name, size_t *len);
/* Whether the logs, exceptions or URL contain `needle`, ignoring ASCII case. Logs are matched
 * as JSON text: a needle with quotes or backslashes must be written escaped. */
bool trace_record_contains(const trace_record *t, const char *needle);

/* Authorization, Cookie and the like: names whose values are credentials. */
bool trace_header_is_sensitive(const char *name, size_t len);

#endif
