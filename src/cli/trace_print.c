/* trace_print — trace events printed for people, the way `wrangler tail` prints them, or as
 * JSON lines (hearth logs, hearth tail). */
#include "cli/trace_print.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "cli/client.h"
#include "cli/table.h"

/* Unix ms → local time as `wrangler tail` shows it (JavaScript's toLocaleString in en-US):
 * "11/22/2026, 12:00:00 PM". */
static void format_local(double ms, char *out, size_t outlen) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!(ms >= 0 && ms < 253402300800000.0) || !localtime_r(&t, &tm)) {
        snprintf(out, outlen, "unknown time");
        return;
    }
    int hour12 = tm.tm_hour % 12 ? tm.tm_hour % 12 : 12;
    snprintf(out, outlen, "%d/%d/%d, %d:%02d:%02d %s", tm.tm_mon + 1, tm.tm_mday, tm.tm_year + 1900,
             hour12, tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
}

/* ---- printing ---------------------------------------------------------------------------- */

/* Prints s cleaned of control characters (newlines and tabs kept when `multiline`). */
static void put_clean(const char *s, bool multiline) {
    char *c = term_clean(s, multiline, 0);
    fputs(c, stdout);
    free(c);
}

static const char *outcome_words(const char *outcome) {
    if (!outcome) return "Unknown";
    if (!strcmp(outcome, "ok")) return "Ok";
    if (!strcmp(outcome, "exception")) return "Exception Thrown";
    if (!strcmp(outcome, "exceededCpu")) return "Exceeded CPU Limit";
    if (!strcmp(outcome, "exceededMemory")) return "Exceeded Memory";
    if (!strcmp(outcome, "canceled")) return "Canceled";
    return "Unknown";
}

/* One part of a console message, as console.log would join it: strings as they are, other
 * values as JSON. */
static void put_part(const json_t *part) {
    if (json_is_string(part)) {
        put_clean(json_string_value(part), true);
        return;
    }
    char *text = json_dumps(part, JSON_COMPACT | JSON_ENCODE_ANY);
    put_clean(text ? text : "?", true);
    free(text);
}

/* The first line: what ran, its outcome and when. */
static void print_heading(json_t *ev) {
    json_t *trigger = json_object_get(ev, "event");
    json_t *request = json_object_get(trigger, "request");
    json_t *ts = json_object_get(ev, "eventTimestamp");
    char when[64];
    format_local(json_is_number(ts) ? json_number_value(ts) : -1, when, sizeof when);
    const char *outcome = outcome_words(json_str(ev, "outcome"));
    const char *cron = json_str(trigger, "cron");
    if (json_is_object(request) && json_str(request, "url")) {
        const char *method = json_str(request, "method");
        char *m = xstrdup(method ? method : "GET");
        for (char *p = m; *p; p++) *p = (char)toupper((unsigned char)*p);
        put_clean(m, false);
        fputc(' ', stdout);
        put_clean(json_str(request, "url"), false);
        free(m);
    } else if (cron) {
        /* A scheduled event: wrangler puts the time before the outcome here. */
        fputc('"', stdout);
        put_clean(cron, false);
        printf("\" @ %s - %s\n", when, outcome);
        return;
    } else if (json_is_object(request)) {
        fputs("[missing request]", stdout);
    } else {
        fputs("Unknown Event", stdout);
    }
    printf(" - %s @ %s\n", outcome, when);
}

static void print_logs(json_t *ev) {
    size_t i;
    json_t *log;
    json_array_foreach(json_object_get(ev, "logs"), i, log) {
        if (!json_is_object(log)) continue;
        const char *level = json_str(log, "level");
        fputs("  (", stdout);
        put_clean(level ? level : "log", false);
        fputc(')', stdout);
        json_t *message = json_object_get(log, "message");
        if (json_is_array(message)) {
            size_t j;
            json_t *part;
            json_array_foreach(message, j, part) {
                fputc(' ', stdout);
                put_part(part);
            }
        } else if (message) {
            fputc(' ', stdout);
            put_part(message);
        }
        fputc('\n', stdout);
    }
}

static void print_exceptions(json_t *ev) {
    size_t i;
    json_t *ex;
    json_array_foreach(json_object_get(ev, "exceptions"), i, ex) {
        if (!json_is_object(ex)) continue;
        const char *name = json_str(ex, "name");
        const char *message = json_str(ex, "message");
        buf head = {0};
        buf_puts(&head, name && *name ? name : "Error");
        if (message && *message) buf_printf(&head, ": %s", message);
        fputs("  \u2718 ", stdout);
        put_clean(head.data, false);
        fputc('\n', stdout);
        /* The stack, a frame a line, indented under the message; a V8-style stack starts
         * with the message, already shown. */
        const char *stack = json_str(ex, "stack");
        for (const char *p = stack; p && *p;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            char *line = xstrndup(p, n);
            char *l = line;
            while (*l == ' ' || *l == '\t') l++;
            size_t len = strlen(l);
            while (len && (l[len - 1] == ' ' || l[len - 1] == '\r')) l[--len] = '\0';
            if (*l && strcmp(l, head.data) != 0) {
                fputs("      ", stdout);
                put_clean(l, false);
                fputc('\n', stdout);
            }
            free(line);
            p = nl ? nl + 1 : p + n;
        }
        buf_free(&head);
    }
}

void trace_print_pretty(json_t *ev) {
    if (!json_is_object(ev)) return;
    print_heading(ev);
    print_logs(ev);
    print_exceptions(ev);
}

/* One event as one line of JSON. Control characters inside strings are escaped by JSON
 * itself, except DEL and the C1 controls (U+0080..U+009F), which some terminals obey: they
 * are escaped here (the JSON means the same). */
void trace_print_json(json_t *ev) {
    char *text = json_dumps(ev, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text) return;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == 0x7F) {
            fputs("\\u007f", stdout);
        } else if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            printf("\\u%04x", p[1]);
            p++;
        } else {
            putchar(*p);
        }
    }
    putchar('\n');
    free(text);
}
