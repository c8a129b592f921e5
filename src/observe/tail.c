#include "observe/tail.h"

#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"

typedef struct str_list {
    char **v;
    size_t n;
} str_list;

typedef struct tail_filters {
    str_list outcomes, methods, ips, versions;
    char *header_key, *header_query; /* query NULL: the header only has to be there */
    char *query;                     /* substring of logs, exceptions or the URL */
    double sampling_rate;            /* asked for by the client; 1 = all */
} tail_filters;

typedef struct message {
    struct message *next;
    size_t len;
    char text[];
} message;

struct tail_session {
    atomic_int refs;
    char *id, *script;
    uint64_t expires_at_ms;
    void (*notify)(void *);
    void *notify_arg;

    pthread_mutex_t lock; /* everything below */
    bool closed;
    tail_filters filters;
    message *head, *tail;
    size_t queued_bytes;
    /* Sampling: events that passed the filters in the current one-second window, and the rate
     * of the window before, which sets the share kept in this one. */
    uint64_t window_start_ms, window_passed, window_kept, previous_rate;
    uint64_t rng;
    /* For the next notice. */
    uint64_t notice_at_ms, notice_sampled, notice_dropped;
    tail_session_stats stats;
};

/* ---- lifecycle --------------------------------------------------------------------------- */

tail_session *tail_session_new(const char *id, const char *script, uint64_t expires_at_ms,
                               void (*notify)(void *), void *notify_arg) {
    tail_session *s = xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    s->id = xstrdup(id);
    s->script = xstrdup(script);
    s->expires_at_ms = expires_at_ms;
    s->notify = notify;
    s->notify_arg = notify_arg;
    pthread_mutex_init(&s->lock, NULL);
    s->filters.sampling_rate = 1.0;
    s->rng = 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)s;
    return s;
}

tail_session *tail_session_ref(tail_session *s) {
    atomic_fetch_add(&s->refs, 1);
    return s;
}

static void list_free(str_list *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void filters_free(tail_filters *f) {
    list_free(&f->outcomes);
    list_free(&f->methods);
    list_free(&f->ips);
    list_free(&f->versions);
    free(f->header_key);
    free(f->header_query);
    free(f->query);
    memset(f, 0, sizeof *f);
    f->sampling_rate = 1.0;
}

void tail_session_unref(tail_session *s) {
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    for (message *m = s->head, *next; m; m = next) {
        next = m->next;
        free(m);
    }
    filters_free(&s->filters);
    pthread_mutex_destroy(&s->lock);
    free(s->id);
    free(s->script);
    free(s);
}

const char *tail_session_id(const tail_session *s) {
    return s->id;
}
const char *tail_session_script(const tail_session *s) {
    return s->script;
}
uint64_t tail_session_expires_at(const tail_session *s) {
    return s->expires_at_ms;
}

void tail_session_close(tail_session *s) {
    pthread_mutex_lock(&s->lock);
    s->closed = true;
    pthread_mutex_unlock(&s->lock);
}

bool tail_session_closed(tail_session *s) {
    pthread_mutex_lock(&s->lock);
    bool closed = s->closed;
    pthread_mutex_unlock(&s->lock);
    return closed;
}

/* ---- filters ----------------------------------------------------------------------------- */

static int string_list(json_t *v, str_list *out, const char *what, char *err, size_t errlen) {
    if (json_is_string(v)) { /* a single value is a list of one */
        out->v = xcalloc(1, sizeof *out->v);
        out->v[out->n++] = xstrdup(json_string_value(v));
        return 0;
    }
    if (!json_is_array(v) || json_array_size(v) == 0) {
        snprintf(err, errlen, "filters: \"%s\" must be a list of strings", what);
        return -1;
    }
    out->v = xcalloc(json_array_size(v), sizeof *out->v);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        if (!json_is_string(e)) {
            snprintf(err, errlen, "filters: \"%s\"[%zu] must be a string", what, i);
            return -1;
        }
        out->v[out->n++] = xstrdup(json_string_value(e));
    }
    return 0;
}

static int parse_filters(json_t *msg, tail_filters *f, char *err, size_t errlen) {
    json_t *list = json_object_get(msg, "filters");
    if (!json_is_object(msg) || (list && !json_is_array(list))) {
        snprintf(err, errlen, "expected {\"filters\": [...]}");
        return -1;
    }
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) {
        const char *key;
        json_t *v;
        if (!json_is_object(item) || json_object_size(item) != 1) {
            snprintf(err, errlen, "filters[%zu]: expected an object with one key", i);
            return -1;
        }
        json_object_foreach(item, key, v) {
            int rc = 0;
            if (!strcmp(key, "outcome"))
                rc = string_list(v, &f->outcomes, key, err, errlen);
            else if (!strcmp(key, "method"))
                rc = string_list(v, &f->methods, key, err, errlen);
            else if (!strcmp(key, "client_ip"))
                rc = string_list(v, &f->ips, key, err, errlen);
            else if (!strcmp(key, "version_id"))
                rc = string_list(v, &f->versions, key, err, errlen);
            else if (!strcmp(key, "header")) {
                const char *k = json_string_value(json_object_get(v, "key"));
                json_t *q = json_object_get(v, "query");
                if (!k || !*k || (q && !json_is_string(q))) {
                    snprintf(err, errlen,
                             "filters[%zu].header: expected {\"key\": \"name\", \"query\": "
                             "\"value\"}",
                             i);
                    return -1;
                }
                free(f->header_key);
                free(f->header_query);
                f->header_key = xstrdup(k);
                f->header_query = q ? xstrdup(json_string_value(q)) : NULL;
            } else if (!strcmp(key, "query")) {
                if (!json_is_string(v)) {
                    snprintf(err, errlen, "filters[%zu].query: expected a string", i);
                    return -1;
                }
                free(f->query);
                f->query = xstrdup(json_string_value(v));
            } else if (!strcmp(key, "sampling_rate")) {
                double r = json_number_value(v);
                if (!json_is_number(v) || r <= 0 || r > 1) {
                    snprintf(err, errlen,
                             "filters[%zu].sampling_rate: expected a number above 0, at most 1", i);
                    return -1;
                }
                f->sampling_rate = r;
            } else {
                snprintf(err, errlen,
                         "filters[%zu]: unknown filter \"%s\" (known: outcome, method, header, "
                         "query, client_ip, version_id, sampling_rate)",
                         i, key);
                return -1;
            }
            if (rc) return -1;
        }
    }
    return 0;
}

int tail_session_set_filters(tail_session *s, const char *json, size_t len, char *err,
                             size_t errlen) {
    json_error_t jerr;
    json_t *msg = json_loadb(json, len, 0, &jerr);
    if (!msg) {
        snprintf(err, errlen, "filters: not JSON (%s)", jerr.text);
        return -1;
    }
    tail_filters f = {.sampling_rate = 1.0};
    int rc = parse_filters(msg, &f, err, errlen);
    json_decref(msg);
    if (rc != 0) {
        filters_free(&f);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    filters_free(&s->filters);
    s->filters = f;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static bool in_list(const str_list *l, const char *v, bool ignore_case) {
    if (l->n == 0) return true; /* no such filter */
    if (!v) return false;
    for (size_t i = 0; i < l->n; i++)
        if (ignore_case ? strcasecmp(l->v[i], v) == 0 : strcmp(l->v[i], v) == 0) return true;
    return false;
}

static bool contains_ci(const char *hay, size_t hlen, const char *needle) {
    size_t n = strlen(needle);
    if (n == 0) return true;
    for (size_t i = 0; i + n <= hlen; i++)
        if (strncasecmp(hay + i, needle, n) == 0) return true;
    return false;
}

static bool matches(const tail_filters *f, const tail_offer *o) {
    if (!in_list(&f->outcomes, o->meta->outcome, false)) return false;
    if (!in_list(&f->methods, trace_record_method(o->record), true)) return false;
    if (!in_list(&f->ips, trace_record_client_ip(o->record), false)) return false;
    if (!in_list(&f->versions, o->meta->version_id, true)) return false;
    if (f->header_key) {
        size_t len;
        const char *v = trace_record_header(o->record, f->header_key, &len);
        if (!v || (f->header_query && !contains_ci(v, len, f->header_query))) return false;
    }
    if (f->query && !trace_record_contains(o->record, f->query)) return false;
    return true;
}

/* ---- producing --------------------------------------------------------------------------- */

static double random_unit(tail_session *s) {
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* Over the rate limit, keep each event with the probability that brings the previous second's
 * rate down to the limit, and never more than the limit in any one second. */
static bool sample_in(tail_session *s, uint64_t now_ms) {
    if (now_ms - s->window_start_ms >= 1000) {
        s->previous_rate = now_ms - s->window_start_ms >= 2000 ? 0 : s->window_passed;
        s->window_start_ms = now_ms;
        s->window_passed = s->window_kept = 0;
    }
    s->window_passed++;
    if (s->window_kept >= TAIL_MAX_EVENTS_PER_SECOND) return false;
    if (s->previous_rate > TAIL_MAX_EVENTS_PER_SECOND &&
        random_unit(s) * (double)s->previous_rate > TAIL_MAX_EVENTS_PER_SECOND)
        return false;
    s->window_kept++;
    return true;
}

static bool enqueue(tail_session *s, const char *text, size_t len) {
    if (s->queued_bytes + len > TAIL_QUEUE_MAX_BYTES) return false;
    message *m = xmalloc(sizeof *m + len + 1);
    m->next = NULL;
    m->len = len;
    memcpy(m->text, text, len);
    m->text[len] = 0;
    if (s->tail)
        s->tail->next = m;
    else
        s->head = m;
    s->tail = m;
    s->queued_bytes += len;
    return true;
}

bool tail_session_offer(tail_session *s, tail_offer *o, uint64_t now_ms) {
    bool queued = false;
    pthread_mutex_lock(&s->lock);
    if (s->closed) goto out;
    s->stats.offered++;
    if (!matches(&s->filters, o) ||
        (s->filters.sampling_rate < 1 && random_unit(s) >= s->filters.sampling_rate)) {
        s->stats.filtered++;
        goto out;
    }
    if (!sample_in(s, now_ms)) {
        s->stats.sampled_out++;
        s->notice_sampled++;
        goto out;
    }
    if (!o->json.len) trace_record_write(o->record, o->meta, &o->json);
    if (enqueue(s, o->json.data, o->json.len)) {
        queued = true;
    } else {
        s->stats.dropped++;
        s->notice_dropped++;
    }
out:
    pthread_mutex_unlock(&s->lock);
    if (queued && s->notify) s->notify(s->notify_arg);
    return queued;
}

/* ---- consuming --------------------------------------------------------------------------- */

size_t tail_session_drain(tail_session *s, uint64_t now_ms,
                          void (*fn)(void *arg, const char *text, size_t len), void *arg) {
    pthread_mutex_lock(&s->lock);
    message *list = s->head;
    s->head = s->tail = NULL;
    s->queued_bytes = 0;
    char notice[320] = "";
    if ((s->notice_sampled || s->notice_dropped) && now_ms >= s->notice_at_ms) {
        snprintf(notice, sizeof notice,
                 "{\"type\":\"notice\",\"message\":\"%s%s%s\",\"sampled_out\":%llu,"
                 "\"dropped\":%llu}",
                 s->notice_sampled ? "More than 100 events per second: tail is sampling" : "",
                 s->notice_sampled && s->notice_dropped ? "; " : "",
                 s->notice_dropped ? "the client reads too slowly: events were dropped" : "",
                 (unsigned long long)s->notice_sampled, (unsigned long long)s->notice_dropped);
        s->notice_sampled = s->notice_dropped = 0;
        s->notice_at_ms = now_ms + TAIL_NOTICE_INTERVAL_MS;
    }
    pthread_mutex_unlock(&s->lock);
    size_t n = 0;
    for (message *m = list, *next; m; m = next) {
        next = m->next;
        fn(arg, m->text, m->len);
        free(m);
        n++;
    }
    if (notice[0]) {
        fn(arg, notice, strlen(notice));
        n++;
    }
    pthread_mutex_lock(&s->lock);
    s->stats.sent += n - (notice[0] ? 1 : 0);
    pthread_mutex_unlock(&s->lock);
    return n;
}

void tail_session_stats_get(tail_session *s, tail_session_stats *out) {
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}
