/* hearth logs — a Worker's stored trace events from `hearth serve` (one per invocation of a
 * Worker with observability enabled), printed the way `wrangler tail` prints them, or as
 * JSON lines. */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/table.h"
#include "cli/trace_print.h"

static const char kLogsUsage[] =
    "Usage: hearth logs [<worker>] [options]\n"
    "\n"
    "Shows the Worker's stored logs: an event per invocation (the request, its outcome, what\n"
    "the code logged, exceptions) of a Worker whose config has [observability] enabled.\n"
    "The newest events that match are fetched, then printed oldest first.\n"
    "\n"
    "Options:\n"
    "  --name NAME        the Worker (default: the one named in ./wrangler.toml)\n"
    "  --since T          only events at or after T: RFC 3339 (2026-11-22T12:00:00Z) or a\n"
    "                     time ago (30s, 15m, 1h, 2d, 1w, or combined: 1h30m)\n"
    "  --until T          only events at or before T (same forms)\n"
    "  --version-id ID    only events of that version (an id, or a prefix only it has)\n"
    "  --outcome O        only events with that outcome: ok, exception, exceededCpu,\n"
    "                     exceededMemory or canceled\n"
    "  --search S         only events whose text (messages, exceptions, URL...) contains S,\n"
    "                     ignoring case\n"
    "  --limit N          at most N events, 1 to 1000 (default 100)\n"
    "  --format F         pretty (default) or json (one event per line)\n"
    "  -h, --help         show this help\n";

static const char *const kOutcomes[] = {"ok", "exception", "exceededCpu", "exceededMemory",
                                        "canceled"};

/* ---- times ------------------------------------------------------------------------------- */

/* Whether s[0..n) are digits; their value in *out. */
static bool digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i])) return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* RFC 3339 date-time (2026-11-22T12:00:00Z, with optional fraction and a Z or ±HH:MM
 * offset) → Unix milliseconds. */
static bool parse_rfc3339(const char *s, int64_t *out_ms) {
    int year, mon, day, hour, min, sec;
    if (strlen(s) < 20 || !digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &mon) ||
        s[7] != '-' || !digits(s + 8, 2, &day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &min) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return false;
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon < 1 || mon > 12 || day < 1 || day > days[mon - 1] || hour > 23 || min > 59 || sec > 60)
        return false;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon == 2 && day == 29 && !leap) return false;
    const char *p = s + 19;
    int ms = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; isdigit((unsigned char)*p); p++, n++)
            if (n < 3) ms = ms * 10 + (*p - '0');
        if (n == 0) return false;
        for (; n < 3; n++) ms *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p) return false;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = mon - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = min,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    *out_ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + ms;
    return true;
}

/* "now", or a time ago: one or more <number><unit> with units s, m, h, d, w ("1h30m"). */
static bool parse_ago(const char *s, int64_t now_ms, int64_t *out_ms) {
    if (!strcmp(s, "now")) {
        *out_ms = now_ms;
        return true;
    }
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        int64_t n = 0;
        const char *start = p;
        for (; isdigit((unsigned char)*p); p++) {
            n = n * 10 + (*p - '0');
            if (n > INT64_C(100000000)) return false; /* more than enough for any unit */
        }
        if (p == start) return false;
        int64_t unit = *p == 's'   ? 1000
                       : *p == 'm' ? 60000
                       : *p == 'h' ? 3600000
                       : *p == 'd' ? 86400000
                       : *p == 'w' ? 604800000
                                   : 0;
        if (!unit) return false;
        total += n * unit;
        if (total > INT64_C(1) << 50) return false; /* some 35,000 years */
        p++;
    }
    if (p == s) return false;
    *out_ms = now_ms - total;
    return true;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Unix ms → "2026-11-22T12:00:00.000Z", what the API takes. */
static void format_rfc3339(int64_t ms, char out[32]) {
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ms - (int64_t)t * 1000));
}

/* ---- the query --------------------------------------------------------------------------- */

/* Appends "&key=value" (the first with "?"), the value percent-encoded. */
static void query_param(buf *b, bool *first, const char *key, const char *value) {
    buf_printf(b, "%s%s=", *first ? "?" : "&", key);
    *first = false;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (isalnum(*p) || strchr("-._~", *p))
            buf_putc(b, (char)*p);
        else
            buf_printf(b, "%%%02X", *p);
    }
}

/* ---- the command ------------------------------------------------------------------------- */

typedef struct logs_args {
    const char *name, *since, *until, *version, *outcome, *search, *format, *limit;
} logs_args;

/* Parses the arguments; returns -1 when they are fine, else the exit status (help, usage). */
static int parse_args(int argc, char **argv, logs_args *a) {
    const struct {
        const char *option;
        const char **value;
    } options[] = {
        {"--since", &a->since},     {"--until", &a->until},   {"--version-id", &a->version},
        {"--outcome", &a->outcome}, {"--search", &a->search}, {"--format", &a->format},
        {"--limit", &a->limit},
    };
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value;
        int r;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            fputs(kLogsUsage, stdout);
            return 0;
        }
        if ((r = client_option(argc, argv, &i, "--name", NULL, &value)) != 0) {
            if (r < 0) return client_missing_value(kLogsUsage, "--name");
            if (a->name) return cli_usage_error(kLogsUsage, "give one Worker");
            a->name = value;
            continue;
        }
        bool matched = false;
        for (size_t k = 0; k < sizeof options / sizeof options[0] && !matched; k++) {
            r = client_option(argc, argv, &i, options[k].option, NULL, options[k].value);
            if (r < 0) return client_missing_value(kLogsUsage, options[k].option);
            matched = r > 0;
        }
        if (matched) continue;
        if (arg[0] == '-') return client_bad_argument(kLogsUsage, arg);
        if (a->name) return cli_usage_error(kLogsUsage, "give one Worker");
        a->name = arg;
    }
    return -1;
}

/* Checks the values and builds the query string. Returns -1 when fine, else the exit
 * status after printing the usage error. */
static int build_query(const logs_args *a, buf *query) {
    char msg[256];
    bool first = true;
    int64_t now = now_ms(), since = 0, until = 0;
    const char *names[] = {"--since", "--until"};
    const char *values[] = {a->since, a->until};
    int64_t *times[] = {&since, &until};
    for (int k = 0; k < 2; k++) {
        if (!values[k]) continue;
        if (!parse_rfc3339(values[k], times[k]) && !parse_ago(values[k], now, times[k])) {
            snprintf(msg, sizeof msg,
                     "%s needs a time: RFC 3339 (2026-11-22T12:00:00Z) or a time ago (30m, "
                     "1h, 2d); found \"%.80s\"",
                     names[k], values[k]);
            char *clean = term_clean(msg, false, 0);
            int rc = cli_usage_error(kLogsUsage, clean);
            free(clean);
            return rc;
        }
    }
    if (a->since && a->until && since > until)
        return cli_usage_error(kLogsUsage, "--since is later than --until");
    if (a->outcome) {
        bool known = false;
        for (size_t k = 0; k < sizeof kOutcomes / sizeof kOutcomes[0]; k++)
            known = known || !strcmp(a->outcome, kOutcomes[k]);
        if (!known)
            return cli_usage_error(kLogsUsage, "--outcome is one of ok, exception, exceededCpu, "
                                               "exceededMemory, canceled");
    }
    long limit = 0;
    if (a->limit && !cli_parse_long(a->limit, 1, 1000, &limit))
        return cli_usage_error(kLogsUsage, "--limit needs a number from 1 to 1000");
    if (a->search && !client_utf8(a->search))
        return cli_usage_error(kLogsUsage, "the search string is not valid UTF-8");
    char t[32];
    if (a->since) {
        format_rfc3339(since, t);
        query_param(query, &first, "since", t);
    }
    if (a->until) {
        format_rfc3339(until, t);
        query_param(query, &first, "until", t);
    }
    if (a->version) query_param(query, &first, "version_id", a->version);
    if (a->outcome) query_param(query, &first, "outcome", a->outcome);
    if (a->search && *a->search) query_param(query, &first, "search", a->search);
    if (a->limit) {
        snprintf(t, sizeof t, "%ld", limit);
        query_param(query, &first, "limit", t);
    }
    return -1;
}

int cmd_logs(int argc, char **argv) {
    logs_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    bool json = false;
    if (a.format && !strcmp(a.format, "json"))
        json = true;
    else if (a.format && strcmp(a.format, "pretty") != 0)
        return cli_usage_error(kLogsUsage, "--format is pretty or json");
    buf query = {0};
    if ((rc = build_query(&a, &query)) >= 0) {
        buf_free(&query);
        return rc;
    }
    char *script = client_script_name(a.name, ".");
    api_client c;
    if (!script || api_client_open(&c) != 0) {
        free(script);
        buf_free(&query);
        return 1;
    }
    int status = 1;
    char *shown = term_clean(script, false, 0);
    json_t *result = NULL, *versions = NULL;
    /* A short version id is resolved against the Worker's versions, as elsewhere; the query
     * is then built again with the full id. */
    bool resolved = true;
    if (a.version && strlen(a.version) != 36) {
        versions = client_list_versions(&c, script);
        a.version =
            versions ? json_str(client_find_version(versions, a.version, script), "id") : NULL;
        resolved = a.version != NULL;
        buf_clear(&query);
        if (resolved) build_query(&a, &query);
    }
    if (resolved) {
        char *path = api_script_path(&c, script, "/logs", NULL);
        buf url = {0};
        buf_printf(&url, "%s%s", path, query.len ? query.data : "");
        free(path);
        result = api_call(&c, "GET", url.data, NULL, NULL, 0);
        buf_free(&url);
    }
    json_t *events = json_object_get(result, "events");
    if (result && !json_is_array(events)) {
        fprintf(stderr, "hearth: the control API's answer has no \"events\" array\n");
    } else if (result) {
        status = 0;
        size_t n = json_array_size(events);
        /* The API gives the newest first; logs read oldest first, the latest last. */
        for (size_t i = n; i-- > 0;) {
            if (json)
                trace_print_json(json_array_get(events, i));
            else
                trace_print_pretty(json_array_get(events, i));
        }
        if (!json && n == 0)
            fprintf(stderr, "No logs of %s match.\n", shown);
        else if (!json && n == (a.limit ? (size_t)atol(a.limit) : 100))
            fprintf(stderr,
                    "(the newest %zu events; see earlier ones with --until, or more with "
                    "--limit, up to 1000)\n",
                    n);
    }
    json_decref(result);
    json_decref(versions);
    free(shown);
    buf_free(&query);
    api_client_close(&c);
    free(script);
    return status;
}
