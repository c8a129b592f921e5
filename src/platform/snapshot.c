#include "platform/snapshot.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "observe/tail.h"
#include "net/sfv.h"

/* A mutex rather than a lock-free pointer: loop threads take it once per publish (not per
 * request), so it is never contended on the hot path and the reference count can never race
 * with the final unref. */
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static snapshot *current;
static uint64_t generation;

/* ---- building ---------------------------------------------------------------------------- */

snapshot *snapshot_new(const char *domain) {
    snapshot *s = xcalloc(1, sizeof *s);
    atomic_init(&s->refs, 1);
    s->domain = domain ? xstrdup(domain) : NULL;
    return s;
}

script_entry *snapshot_add_script(snapshot *s, const char *name) {
    /* Entries are pointed to by routes and the default; grow only before those are added. */
    s->scripts = xrealloc(s->scripts, (s->script_count + 1) * sizeof *s->scripts);
    script_entry *se = &s->scripts[s->script_count++];
    memset(se, 0, sizeof *se);
    se->name = xstrdup(name);
    return se;
}

void snapshot_add_version(script_entry *se, worker_version *v) {
    se->versions = xrealloc(se->versions, (se->version_count + 1) * sizeof *se->versions);
    se->versions[se->version_count++] = worker_version_ref(v);
}

void snapshot_set_split(script_entry *se, worker_version *a, double pa, worker_version *b,
                        double pb) {
    se->split_count = 0;
    if (a) se->split[se->split_count++] = (split_entry){a, pa};
    if (b) se->split[se->split_count++] = (split_entry){b, pb};
    /* Oldest first, so the newest version's range is the top of [0, 100) and grows downward:
     * a Version-Key already on the new version stays there as its share grows. */
    if (se->split_count == 2 && se->split[0].version->number > se->split[1].version->number) {
        split_entry t = se->split[0];
        se->split[0] = se->split[1];
        se->split[1] = t;
    }
}

int snapshot_add_route(snapshot *s, const char *pattern, script_entry *se, char *err,
                       size_t errlen) {
    route_entry r = {0};
    if (route_pattern_parse(pattern, &r.parsed, err, errlen) != 0) return -1;
    r.pattern = xstrdup(pattern);
    r.script = se;
    s->routes = xrealloc(s->routes, (s->route_count + 1) * sizeof *s->routes);
    s->routes[s->route_count++] = r;
    return 0;
}

void snapshot_add_tail(script_entry *se, tail_session *t) {
    se->tails = xrealloc(se->tails, (se->tail_count + 1) * sizeof *se->tails);
    se->tails[se->tail_count++] = tail_session_ref(t);
}

void snapshot_set_default(snapshot *s, script_entry *se) {
    s->default_script = se;
}

script_entry *snapshot_find_script(const snapshot *s, const char *name, size_t len) {
    for (size_t i = 0; i < s->script_count; i++)
        if (strlen(s->scripts[i].name) == len && strncasecmp(s->scripts[i].name, name, len) == 0)
            return &s->scripts[i];
    return NULL;
}

snapshot *snapshot_ref(snapshot *s) {
    atomic_fetch_add(&s->refs, 1);
    return s;
}

void snapshot_unref(snapshot *s) {
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    for (size_t i = 0; i < s->script_count; i++) {
        script_entry *se = &s->scripts[i];
        for (size_t k = 0; k < se->version_count; k++) worker_version_unref(se->versions[k]);
        free(se->versions);
        for (size_t k = 0; k < se->tail_count; k++) tail_session_unref(se->tails[k]);
        free(se->tails);
        free(se->name);
    }
    for (size_t i = 0; i < s->route_count; i++) {
        free(s->routes[i].pattern);
        route_pattern_free(&s->routes[i].parsed);
    }
    free(s->routes);
    free(s->scripts);
    free(s->domain);
    free(s);
}

void snapshot_publish(snapshot *s) {
    pthread_mutex_lock(&current_lock);
    snapshot *old = current;
    s->generation = ++generation;
    current = s;
    pthread_mutex_unlock(&current_lock);
    snapshot_unref(old);
}

snapshot *snapshot_current(void) {
    pthread_mutex_lock(&current_lock);
    snapshot *s = current ? snapshot_ref(current) : NULL;
    pthread_mutex_unlock(&current_lock);
    return s;
}

/* ---- routing ----------------------------------------------------------------------------- */

static bool is_hex8(const char *p, size_t len) {
    if (len < 8) return false;
    for (int i = 0; i < 8; i++)
        if (!isxdigit((unsigned char)p[i])) return false;
    return true;
}

/* "<8 hex>-<script>" — a preview URL of one version. */
static bool route_preview(const snapshot *s, const char *label, size_t len, route_result *out) {
    if (len < 10 || !is_hex8(label, len) || label[8] != '-') return false;
    script_entry *se = snapshot_find_script(s, label + 9, len - 9);
    if (!se) return false;
    for (size_t i = 0; i < se->version_count; i++) {
        if (strncasecmp(se->versions[i]->version_id, label, 8) == 0) {
            out->script = se;
            out->preview = se->versions[i];
            return true;
        }
    }
    return false;
}

bool snapshot_route(const snapshot *s, const char *host, size_t host_len, const char *path,
                    size_t path_len, route_result *out) {
    out->script = NULL;
    out->preview = NULL;
    /* The label naming the script: before ".<domain>", or the first label without a domain. */
    const char *label = host;
    size_t label_len = 0;
    if (s->domain) {
        size_t dl = strlen(s->domain);
        if (host_len > dl + 1 && host[host_len - dl - 1] == '.' &&
            strncasecmp(host + host_len - dl, s->domain, dl) == 0)
            label_len = host_len - dl - 1;
    } else {
        const char *dot = memchr(host, '.', host_len);
        label_len = dot ? (size_t)(dot - host) : 0;
    }
    if (label_len) {
        if (route_preview(s, label, label_len, out)) return true;
        script_entry *se = snapshot_find_script(s, label, label_len);
        if (se) {
            out->script = se;
            return true;
        }
    }
    /* Route patterns: the most specific match wins. */
    const route_entry *best = NULL;
    for (size_t i = 0; i < s->route_count; i++) {
        const route_entry *r = &s->routes[i];
        if (route_pattern_matches(&r->parsed, host, host_len, path, path_len) &&
            (!best || r->parsed.specificity > best->parsed.specificity))
            best = r;
    }
    if (best) {
        out->script = best->script;
        return true;
    }
    out->script = s->default_script;
    return out->script != NULL;
}

/* ---- version selection ------------------------------------------------------------------- */

double version_key_point(const char *key, size_t len) {
    /* FNV-1a, then a fixed-point position with 0.0001 resolution. */
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ull;
    }
    return (double)(h % 1000000u) / 10000.0;
}

static worker_version *pick_by_point(const script_entry *se, double point) {
    double edge = 0;
    for (size_t i = 0; i < se->split_count; i++) {
        edge += se->split[i].percentage;
        if (point < edge) return se->split[i].version;
    }
    /* Rounding at the top end: the last version with a share. */
    for (size_t i = se->split_count; i-- > 0;)
        if (se->split[i].percentage > 0) return se->split[i].version;
    return se->split[0].version;
}

worker_version *snapshot_pick_version(const script_entry *se, const char *overrides,
                                      size_t overrides_len, const char *key, size_t key_len,
                                      uint64_t random) {
    if (se->split_count == 0) return NULL;
    if (overrides) {
        /* hello="<version id>": honoured only for a version of the active deployment; a value
         * that does not parse as a dictionary is ignored. */
        sfv_dict d;
        if (sfv_parse_dict(overrides, overrides_len, &d, NULL, 0) == 0) {
            const sfv_member *m = sfv_dict_get(&d, se->name);
            worker_version *chosen = NULL;
            if (m && (m->type == SFV_STRING || m->type == SFV_TOKEN)) {
                for (size_t i = 0; i < se->split_count; i++)
                    if (strcasecmp(se->split[i].version->version_id, m->string) == 0)
                        chosen = se->split[i].version;
            }
            sfv_dict_free(&d);
            if (chosen) return chosen;
        }
    }
    if (se->split_count == 1) return se->split[0].version;
    double point = key ? version_key_point(key, key_len) : (double)(random % 1000000u) / 10000.0;
    return pick_by_point(se, point);
}
