#include "observe/trace.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/json_text.h"

struct trace_record {
    uint64_t timestamp_ms;
    char *method;
    char *url;
    size_t url_len;
    char *client_ip;
    char *headers; /* "Name: value\r\n" lines, as received */
    size_t headers_len;
    buf logs;       /* comma-separated JSON objects */
    buf exceptions; /* the same */
    bool truncated;
};

/* Substrings of header names whose values are secrets. Matching by substring catches the
 * usual x-api-key, x-auth-token, x-amz-security-token, ... without a list of every one. */
static const char *const kSensitive[] = {"authorization", "cookie",         "token",   "secret",
                                         "password",      "passwd",         "api-key", "apikey",
                                         "session",       "x-amz-security", "jwt"};

bool trace_header_is_sensitive(const char *name, size_t len) {
    char lower[128];
    if (len >= sizeof lower) len = sizeof lower - 1;
    for (size_t i = 0; i < len; i++) lower[i] = (char)tolower((unsigned char)name[i]);
    lower[len] = 0;
    for (size_t i = 0; i < sizeof kSensitive / sizeof kSensitive[0]; i++)
        if (strstr(lower, kSensitive[i])) return true;
    return false;
}

trace_record *trace_record_new(uint64_t timestamp_ms, const char *method, const char *url,
                               size_t url_len, const char *headers, size_t headers_len,
                               const char *client_ip) {
    trace_record *t = xcalloc(1, sizeof *t);
    t->timestamp_ms = timestamp_ms;
    t->method = xstrdup(method ? method : "");
    t->url = xmemdup0(url ? url : "", url ? url_len : 0);
    t->url_len = url ? url_len : 0;
    t->client_ip = xstrdup(client_ip ? client_ip : "");
    t->headers = xmemdup0(headers ? headers : "", headers ? headers_len : 0);
    t->headers_len = headers ? headers_len : 0;
    return t;
}

void trace_record_free(trace_record *t) {
    if (!t) return;
    free(t->method);
    free(t->url);
    free(t->client_ip);
    free(t->headers);
    buf_free(&t->logs);
    buf_free(&t->exceptions);
    free(t);
}

/* Keeps a budget of bytes per event: a Worker that logs megabytes must not make every tail
 * client and the logs store carry them. */
static bool room_for(trace_record *t, size_t n) {
    if (t->truncated || t->logs.len + t->exceptions.len + n > TRACE_MAX_BYTES) {
        t->truncated = true;
        return false;
    }
    return true;
}

void trace_record_log(trace_record *t, const char *level, const char *values_json, size_t len,
                      uint64_t timestamp_ms) {
    if (!room_for(t, len + 64)) return;
    buf *b = &t->logs;
    if (b->len) buf_putc(b, ',');
    buf_puts(b, "{\"level\":");
    json_text_cstring(b, level);
    buf_puts(b, ",\"message\":");
    if (len && values_json[0] == '[') {
        buf_append(b, values_json, len); /* JSON.stringify's output, as is */
    } else {
        buf_putc(b, '[');
        json_text_string(b, values_json, len);
        buf_putc(b, ']');
    }
    buf_printf(b, ",\"timestamp\":%" PRIu64 "}", timestamp_ms);
}

void trace_record_exception(trace_record *t, const char *name, const char *message,
                            const char *stack, uint64_t timestamp_ms) {
    name = name ? name : "Error";
    message = message ? message : "";
    stack = stack ? stack : "";
    if (!room_for(t, strlen(name) + strlen(message) + strlen(stack) + 64)) return;
    buf *b = &t->exceptions;
    if (b->len) buf_putc(b, ',');
    buf_puts(b, "{\"name\":");
    json_text_cstring(b, name);
    buf_puts(b, ",\"message\":");
    json_text_cstring(b, message);
    buf_puts(b, ",\"stack\":");
    json_text_cstring(b, stack);
    buf_printf(b, ",\"timestamp\":%" PRIu64 "}", timestamp_ms);
}

/* "headers": {...} with lowercase names, credentials redacted, repeats joined. */
static void write_headers(const trace_record *t, buf *out) {
    const char *h = t->headers, *end = h + t->headers_len;
    /* Names seen, to join repeats: the few headers of a request make a scan cheap. */
    typedef struct seen_name {
        const char *name;
        size_t len;
    } seen_name;
    seen_name seen[64];
    size_t nseen = 0;
    bool first = true;
    buf_putc(out, '{');
    for (const char *line = h; line < end;) {
        const char *eol = memchr(line, '\r', (size_t)(end - line));
        if (!eol) eol = end;
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (colon && colon > line) {
            size_t nlen = (size_t)(colon - line);
            bool repeat = false;
            for (size_t i = 0; i < nseen && !repeat; i++)
                repeat = seen[i].len == nlen && strncasecmp(seen[i].name, line, nlen) == 0;
            if (!repeat) {
                if (nseen < sizeof seen / sizeof seen[0]) seen[nseen++] = (seen_name){line, nlen};
                char lower[256];
                size_t ln = nlen < sizeof lower ? nlen : sizeof lower - 1;
                for (size_t i = 0; i < ln; i++) lower[i] = (char)tolower((unsigned char)line[i]);
                if (!first) buf_putc(out, ',');
                first = false;
                json_text_string(out, lower, ln);
                buf_putc(out, ':');
                if (trace_header_is_sensitive(line, nlen)) {
                    buf_puts(out, "\"REDACTED\"");
                } else {
                    /* This value and those of later lines with the same name. */
                    buf joined = {0};
                    for (const char *l2 = line; l2 < end;) {
                        const char *e2 = memchr(l2, '\r', (size_t)(end - l2));
                        if (!e2) e2 = end;
                        const char *c2 = memchr(l2, ':', (size_t)(e2 - l2));
                        if (c2 && (size_t)(c2 - l2) == nlen && strncasecmp(l2, line, nlen) == 0) {
                            const char *v = c2 + 1;
                            while (v < e2 && (*v == ' ' || *v == '\t')) v++;
                            if (joined.len) buf_append(&joined, ", ", 2);
                            buf_append(&joined, v, (size_t)(e2 - v));
                        }
                        l2 = e2 + (e2 + 1 < end && e2[1] == '\n' ? 2 : 1);
                    }
                    json_text_string(out, joined.data ? joined.data : "", joined.len);
                    buf_free(&joined);
                }
            }
        }
        line = eol + (eol + 1 < end && eol[1] == '\n' ? 2 : 1);
    }
    buf_putc(out, '}');
}

void trace_record_write(const trace_record *t, const trace_meta *m, buf *out) {
    buf_puts(out, "{\"scriptName\":");
    json_text_cstring(out, m->script);
    buf_puts(out, ",\"scriptVersion\":{\"id\":");
    json_text_cstring(out, m->version_id);
    buf_puts(out, ",\"tag\":");
    json_text_cstring(out, m->version_tag);
    buf_puts(out, ",\"message\":");
    json_text_cstring(out, m->version_message);
    buf_puts(out, "},\"entrypoint\":");
    json_text_cstring(out, m->entrypoint ? m->entrypoint : "fetch");
    buf_puts(out, ",\"event\":{\"request\":{\"url\":");
    json_text_string(out, t->url, t->url_len);
    buf_puts(out, ",\"method\":");
    json_text_cstring(out, t->method);
    buf_puts(out, ",\"headers\":");
    write_headers(t, out);
    buf_puts(out, ",\"cf\":{}},\"response\":");
    if (m->status)
        buf_printf(out, "{\"status\":%d}", m->status);
    else
        buf_puts(out, "null");
    buf_printf(out, "},\"eventTimestamp\":%" PRIu64 ",\"outcome\":", t->timestamp_ms);
    json_text_cstring(out, m->outcome ? m->outcome : "ok");
    buf_puts(out, ",\"logs\":[");
    if (t->logs.len) buf_append(out, t->logs.data, t->logs.len);
    buf_puts(out, "],\"exceptions\":[");
    if (t->exceptions.len) buf_append(out, t->exceptions.data, t->exceptions.len);
    buf_printf(out, "],\"cpuTime\":%" PRIu64 ",\"wallTime\":%" PRIu64 ",\"truncated\":%s}",
               (uint64_t)(m->cpu_ms + 0.5), (uint64_t)(m->wall_ms + 0.5),
               t->truncated ? "true" : "false");
}

uint64_t trace_record_timestamp(const trace_record *t) {
    return t->timestamp_ms;
}

const char *trace_record_method(const trace_record *t) {
    return t->method;
}

const char *trace_record_client_ip(const trace_record *t) {
    return t->client_ip;
}

const char *trace_record_header(const trace_record *t, const char *name, size_t *len) {
    size_t nlen = strlen(name);
    const char *h = t->headers, *end = h + t->headers_len;
    for (const char *line = h; line < end;) {
        const char *eol = memchr(line, '\r', (size_t)(end - line));
        if (!eol) eol = end;
        const char *colon = memchr(line, ':', (size_t)(eol - line));
        if (colon && (size_t)(colon - line) == nlen && strncasecmp(line, name, nlen) == 0) {
            if (trace_header_is_sensitive(name, nlen)) {
                *len = 8;
                return "REDACTED";
            }
            const char *v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            *len = (size_t)(eol - v);
            return v;
        }
        line = eol + (eol + 1 < end && eol[1] == '\n' ? 2 : 1);
    }
    return NULL;
}

static bool contains_ci(const char *hay, size_t hlen, const char *needle, size_t n) {
    if (n == 0) return true;
    for (size_t i = 0; i + n <= hlen; i++)
        if (strncasecmp(hay + i, needle, n) == 0) return true;
    return false;
}

bool trace_record_contains(const trace_record *t, const char *needle) {
    size_t n = strlen(needle);
    return contains_ci(t->logs.data ? t->logs.data : "", t->logs.len, needle, n) ||
           contains_ci(t->exceptions.data ? t->exceptions.data : "", t->exceptions.len, needle,
                       n) ||
           contains_ci(t->url, t->url_len, needle, n);
}
