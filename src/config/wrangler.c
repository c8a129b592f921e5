#include "config/wrangler.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/alloc.h"
#include "base/fs.h"
#include "config/dotenv.h"
#include "config/jsonc.h"
#include "config/toml.h"
#include "platform/cron.h"
#include "platform/route_pattern.h"
#include "ratelimit/binding.h"

/* ---- diagnostics ------------------------------------------------------------------------- */

typedef struct loader {
    worker_config *c;
    config_diag *d;
    const char *file; /* the config file name as shown in messages */
    const char *env;  /* the environment chosen with --env, or NULL for the top level */
} loader;

static void diag(loader *l, bool error, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void diag(loader *l, bool error, int line, const char *fmt, ...) {
    buf *t = &l->d->text;
    if (line > 0)
        buf_printf(t, "%s:%d: %s: ", l->file, line, error ? "error" : "warning");
    else
        buf_printf(t, "%s: %s: ", l->file, error ? "error" : "warning");
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(t, fmt, ap);
    va_end(ap);
    buf_putc(t, '\n');
    if (error)
        l->d->errors++;
    else
        l->d->warnings++;
}

void config_diag_free(config_diag *d) {
    buf_free(&d->text);
}

/* "a string", "an integer", ... for messages. Literals, not a shared buffer: one message
 * often names two types ("must be a table ... (found a string)"). */
static const char *a_type(cfg_type t) {
    switch (t) {
    case CFG_STRING:
        return "a string";
    case CFG_INTEGER:
        return "an integer";
    case CFG_FLOAT:
        return "a float";
    case CFG_BOOL:
        return "a boolean";
    case CFG_DATETIME:
        return "a datetime";
    case CFG_DATETIME_LOCAL:
        return "a local datetime";
    case CFG_DATE_LOCAL:
        return "a local date";
    case CFG_TIME_LOCAL:
        return "a local time";
    case CFG_ARRAY:
        return "an array";
    case CFG_TABLE:
        return "a table";
    case CFG_NULL:
        return "null";
    }
    return "a value";
}

/* The value of `key` if it has type `type`; otherwise an error naming what was expected. */
static const cfg_value *get_typed(loader *l, const cfg_value *table, const char *path,
                                  const char *key, cfg_type type, const char *expected) {
    const cfg_value *v = cfg_table_get(table, key);
    if (!v) return NULL;
    if (v->type != type) {
        diag(l, true, v->line, "\"%s%s\" must be %s, e.g. %s (found %s)", path, key, a_type(type),
             expected, a_type(v->type));
        return NULL;
    }
    return v;
}

/* ---- known keys -------------------------------------------------------------------------- */

typedef enum key_support { KEY_SUPPORTED, KEY_LATER, KEY_IGNORED, KEY_UNSUPPORTED } key_support;

static const struct {
    const char *key;
    key_support support;
    const char *note;
} kTopLevelKeys[] = {
    {"name", KEY_SUPPORTED, NULL},
    {"main", KEY_SUPPORTED, NULL},
    {"compatibility_date", KEY_SUPPORTED, NULL},
    {"compatibility_flags", KEY_SUPPORTED, NULL},
    {"vars", KEY_SUPPORTED, NULL},
    {"limits", KEY_SUPPORTED, NULL},
    {"rules", KEY_SUPPORTED, NULL},
    {"upload_source_maps", KEY_SUPPORTED, NULL},
    {"$schema", KEY_IGNORED, NULL},
    {"account_id", KEY_IGNORED, NULL},
    {"workers_dev", KEY_IGNORED, NULL},
    {"preview_urls", KEY_IGNORED, NULL},
    {"send_metrics", KEY_IGNORED, NULL},
    {"keep_vars", KEY_IGNORED, NULL},
    {"minify", KEY_IGNORED, NULL},
    {"no_bundle", KEY_IGNORED, NULL},
    {"find_additional_modules", KEY_IGNORED, NULL},
    {"base_dir", KEY_IGNORED, NULL},
    {"preserve_file_names", KEY_IGNORED, NULL},
    {"dev", KEY_IGNORED, NULL},
    {"build", KEY_UNSUPPORTED, "hearth runs the files as they are and does not run build commands"},
    {"routes", KEY_SUPPORTED, NULL},
    {"route", KEY_SUPPORTED, NULL},
    {"ratelimits", KEY_SUPPORTED, NULL},
    {"unsafe", KEY_SUPPORTED, NULL},
    {"durable_objects", KEY_LATER, "Durable Objects are not implemented yet"},
    {"migrations", KEY_LATER, "Durable Objects are not implemented yet"},
    {"services", KEY_SUPPORTED, NULL},
    {"version_metadata", KEY_SUPPORTED, NULL},
    {"observability", KEY_SUPPORTED, NULL},
    {"tail_consumers", KEY_SUPPORTED, NULL},
    {"triggers", KEY_SUPPORTED, NULL},
    {"env", KEY_SUPPORTED, NULL},
    {"kv_namespaces", KEY_UNSUPPORTED, NULL},
    {"r2_buckets", KEY_UNSUPPORTED, NULL},
    {"d1_databases", KEY_UNSUPPORTED, NULL},
    {"queues", KEY_UNSUPPORTED, NULL},
    {"analytics_engine_datasets", KEY_UNSUPPORTED, NULL},
    {"ai", KEY_UNSUPPORTED, NULL},
    {"browser", KEY_UNSUPPORTED, NULL},
    {"hyperdrive", KEY_UNSUPPORTED, NULL},
    {"vectorize", KEY_UNSUPPORTED, NULL},
    {"send_email", KEY_UNSUPPORTED, NULL},
    {"mtls_certificates", KEY_UNSUPPORTED, NULL},
    {"dispatch_namespaces", KEY_UNSUPPORTED, NULL},
    {"assets", KEY_UNSUPPORTED, NULL},
    {"site", KEY_UNSUPPORTED, NULL},
    {"logpush", KEY_UNSUPPORTED, NULL},
    {"placement", KEY_UNSUPPORTED, NULL},
    {"node_compat", KEY_UNSUPPORTED, NULL},
    {"usage_model", KEY_UNSUPPORTED, NULL},
    {"wasm_modules", KEY_UNSUPPORTED, "use ES module imports of .wasm files"},
    {"text_blobs", KEY_UNSUPPORTED, "use ES module imports of .txt files"},
    {"data_blobs", KEY_UNSUPPORTED, "use ES module imports of .bin files"},
    {"workflows", KEY_UNSUPPORTED, NULL},
    {"pipelines", KEY_UNSUPPORTED, NULL},
    {"containers", KEY_UNSUPPORTED, NULL},
    {"alias", KEY_UNSUPPORTED, "hearth does not bundle"},
    {"define", KEY_UNSUPPORTED, "hearth does not bundle"},
    {"tsconfig", KEY_UNSUPPORTED, "hearth does not bundle"},
    {"jsx_factory", KEY_UNSUPPORTED, "hearth does not bundle"},
    {"jsx_fragment", KEY_UNSUPPORTED, "hearth does not bundle"},
};

static void check_top_level_keys(loader *l, const cfg_value *doc) {
    for (size_t i = 0; i < doc->u.tab.len; i++) {
        const char *key = doc->u.tab.keys[i];
        int line = doc->u.tab.vals[i]->line;
        size_t k = 0, n = sizeof kTopLevelKeys / sizeof kTopLevelKeys[0];
        while (k < n && strcmp(kTopLevelKeys[k].key, key) != 0) k++;
        if (k == n) {
            diag(l, false, line, "unknown key \"%s\" (ignored)", key);
            continue;
        }
        const char *note = kTopLevelKeys[k].note;
        switch (kTopLevelKeys[k].support) {
        case KEY_LATER:
        case KEY_UNSUPPORTED:
            diag(l, false, line, "\"%s\" is not supported by hearth and is ignored%s%s", key,
                 note ? ": " : "", note ? note : "");
            break;
        default:
            break;
        }
    }
}

/* ---- environments ------------------------------------------------------------------------ */

/* wrangler's rules for [env.NAME]: bindings are not inherited from the top level (an
 * environment has only the ones it declares), these keys are read at the top level only, and
 * every other key is inherited unless the environment sets its own. */
static const char *const kPerEnvironmentKeys[] = {
    "define",
    "vars",
    "durable_objects",
    "workflows",
    "containers",
    "kv_namespaces",
    "send_email",
    "queues",
    "r2_buckets",
    "d1_databases",
    "vectorize",
    "hyperdrive",
    "services",
    "analytics_engine_datasets",
    "dispatch_namespaces",
    "mtls_certificates",
    "tail_consumers",
    "unsafe",
    "browser",
    "ai",
    "images",
    "version_metadata",
    "ratelimits",
    "pipelines",
    "secrets_store_secrets",
};
static const char *const kTopLevelOnlyKeys[] = {"$schema",      "env", "keep_vars",
                                                "send_metrics", "dev", "legacy_env"};

static bool key_in(const char *key, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], key)) return true;
    return false;
}
#define KEY_IN(key, list) key_in((key), (list), sizeof(list) / sizeof((list)[0]))

/* The document as the environment `l->env` sees it: a new table built from the top level and
 * [env.NAME] by the rules above. Its values keep their lines, so messages point at the line
 * that set them. Returns NULL (with an error) when the file has no such environment. */
static cfg_value *environment_doc(loader *l, const cfg_value *doc) {
    const char *name = l->env;
    const cfg_value *envs = cfg_table_get(doc, "env");
    if (envs && envs->type != CFG_TABLE) {
        diag(l, true, envs->line,
             "\"env\" must be a table of environments, e.g. [env.%s] (found %s)", name,
             a_type(envs->type));
        return NULL;
    }
    const cfg_value *e = cfg_table_get(envs, name);
    if (!e) {
        buf known = {0};
        for (size_t i = 0; envs && i < envs->u.tab.len; i++)
            buf_printf(&known, "%s%s", known.len ? ", " : "", envs->u.tab.keys[i]);
        diag(l, true, 0, "--env %s: there is no [env.%s] section (%s%s)", name, name,
             known.len ? "the environments are: " : "the file has no environments",
             known.len ? known.data : "");
        buf_free(&known);
        return NULL;
    }
    if (e->type != CFG_TABLE) {
        diag(l, true, e->line, "\"env.%s\" must be a table (found %s)", name, a_type(e->type));
        return NULL;
    }
    cfg_value *out = cfg_new(CFG_TABLE, doc->line);
    for (size_t i = 0; i < doc->u.tab.len; i++) {
        const char *key = doc->u.tab.keys[i];
        const cfg_value *v = doc->u.tab.vals[i];
        if (!strcmp(key, "env")) continue;
        if (KEY_IN(key, kPerEnvironmentKeys)) {
            if (!cfg_table_get(e, key))
                diag(l, false, v->line,
                     "\"%s\" is set at the top level but not in [env.%s], and environments do "
                     "not inherit it: env.%s has none. Add \"%s\" to [env.%s] if it needs them",
                     key, name, name, key, name);
            continue;
        }
        if (!strcmp(key, "name") && !cfg_table_get(e, "name") && v->type == CFG_STRING) {
            /* Like wrangler: the environment's Worker is called "<name>-<env>". */
            buf composed = {0};
            buf_printf(&composed, "%s-%s", v->u.str.ptr, name);
            cfg_table_set(out, key, cfg_new_string(composed.data, composed.len, v->line));
            buf_free(&composed);
            continue;
        }
        if (KEY_IN(key, kTopLevelOnlyKeys) || !cfg_table_get(e, key))
            cfg_table_set(out, key, cfg_clone(v));
    }
    for (size_t i = 0; i < e->u.tab.len; i++) {
        const char *key = e->u.tab.keys[i];
        if (KEY_IN(key, kTopLevelOnlyKeys)) {
            diag(l, false, e->u.tab.vals[i]->line,
                 "\"env.%s.%s\" is only read at the top level (ignored)", name, key);
            continue;
        }
        cfg_table_set(out, key, cfg_clone(e->u.tab.vals[i]));
    }
    return out;
}

/* ---- individual keys --------------------------------------------------------------------- */

static bool valid_worker_name(const char *s) {
    if (!*s || strlen(s) > 63) return false;
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '_'))
            return false;
    return *s != '-';
}

/* Exactly YYYY-MM-DD naming a real day. Checked character by character: sscanf("%4d") would
 * also take " 2024-01-1" or "2024-+1-01". */
static bool valid_date(const char *s) {
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 2000 || m < 1 || m > 12 || d < 1 || d > days[m - 1]) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

static void load_name(loader *l, const cfg_value *doc) {
    const cfg_value *v = get_typed(l, doc, "", "name", CFG_STRING, "name = \"my-worker\"");
    if (v) {
        if (!valid_worker_name(v->u.str.ptr))
            diag(l, true, v->line,
                 "\"name\" must be lowercase letters, digits, '-' and '_' (at most 63, not "
                 "starting with '-'), e.g. name = \"my-worker\" (found \"%s\")",
                 v->u.str.ptr);
        l->c->name = xstrdup(v->u.str.ptr);
        return;
    }
    /* Like wrangler dev: a Worker without a name is named after its directory. The directory
     * is resolved first, so ".", "dir/" and "dir/." name it too, not an empty or "-" name. */
    char *real = realpath(l->c->dir, NULL);
    buf path = {0};
    buf_puts(&path, real ? real : l->c->dir);
    free(real);
    while (path.len > 1 && path.data[path.len - 1] == '/') path.data[--path.len] = '\0';
    const char *base = strrchr(path.data, '/');
    base = base ? base + 1 : path.data;
    /* Map to a valid name: lowercase, '-' for anything else, no '-' at either end, 63 at most. */
    buf name = {0};
    for (const char *p = base; *p; p++) {
        char ch = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
        if (ch == '-' && name.len == 0) continue;
        buf_putc(&name, ch);
    }
    if (name.len > 63) name.len = 63;
    while (name.len && name.data[name.len - 1] == '-') name.len--;
    if (name.len)
        name.data[name.len] = '\0';
    else
        buf_puts(&name, "worker");
    buf_free(&path);
    if (l->env) {
        buf_printf(&name, "-%s", l->env);
        if (!valid_worker_name(name.data))
            diag(l, true, 0,
                 "the Worker's name for --env %s, \"%s\", is not a valid name (lowercase letters, "
                 "digits, '-' and '_', at most 63): set name in [env.%s]",
                 l->env, name.data, l->env);
    }
    l->c->name = buf_detach(&name, NULL);
}

static void load_main(loader *l, const cfg_value *doc) {
    const cfg_value *v = get_typed(l, doc, "", "main", CFG_STRING, "main = \"src/index.js\"");
    if (!v) {
        if (!cfg_table_get(doc, "main"))
            diag(l, true, 0,
                 "\"main\" is required: the path of the Worker's entry module, e.g. main = "
                 "\"src/index.js\"");
        return;
    }
    const char *m = v->u.str.ptr;
    while (m[0] == '.' && m[1] == '/') m += 2;
    if (!*m) {
        /* An empty path would only fail later, as a confusing module load error. */
        diag(l, true, v->line,
             "\"main\" must be the path of the Worker's entry module, e.g. main = "
             "\"src/index.js\" (found \"%s\")",
             v->u.str.ptr);
        return;
    }
    l->c->main = xstrdup(m);
}

static void load_compat(loader *l, const cfg_value *doc) {
    const cfg_value *v = get_typed(l, doc, "", "compatibility_date", CFG_STRING,
                                   "compatibility_date = \"2024-09-23\"");
    if (v && !valid_date(v->u.str.ptr))
        diag(l, true, v->line,
             "\"compatibility_date\" must be a date written YYYY-MM-DD, e.g. "
             "compatibility_date = \"2024-09-23\" (found \"%s\")",
             v->u.str.ptr);
    if (v) {
        l->c->compatibility_date = xstrdup(v->u.str.ptr);
    } else if (!cfg_table_get(doc, "compatibility_date")) {
        char today[16];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(today, sizeof today, "%Y-%m-%d", &tm);
        diag(l, false, 0, "no \"compatibility_date\" was given; using today's date, %s", today);
        l->c->compatibility_date = xstrdup(today);
    }
    const cfg_value *flags = get_typed(l, doc, "", "compatibility_flags", CFG_ARRAY,
                                       "compatibility_flags = [\"nodejs_compat\"]");
    if (!flags) return;
    l->c->compatibility_flags = xcalloc(flags->u.arr.len + 1, sizeof(char *));
    for (size_t i = 0; i < flags->u.arr.len; i++) {
        const cfg_value *f = flags->u.arr.items[i];
        if (f->type != CFG_STRING) {
            diag(l, true, f->line, "\"compatibility_flags\" must hold strings (found %s)",
                 a_type(f->type));
            continue;
        }
        l->c->compatibility_flags[l->c->compatibility_flag_count++] = xstrdup(f->u.str.ptr);
    }
}

static void load_limits(loader *l, const cfg_value *doc) {
    const cfg_value *limits = get_typed(l, doc, "", "limits", CFG_TABLE, "[limits] cpu_ms = 50");
    if (!limits) return;
    for (size_t i = 0; i < limits->u.tab.len; i++) {
        const char *key = limits->u.tab.keys[i];
        const cfg_value *v = limits->u.tab.vals[i];
        if (strcmp(key, "cpu_ms") != 0) {
            diag(l, false, v->line, "unknown key \"limits.%s\" (ignored)", key);
            continue;
        }
        if (v->type != CFG_INTEGER || v->u.i < 1 || v->u.i > 300000) {
            diag(l, true, v->line,
                 "\"limits.cpu_ms\" must be an integer number of milliseconds from 1 to 300000, "
                 "e.g. cpu_ms = 50");
            continue;
        }
        l->c->cpu_ms = (uint64_t)v->u.i;
    }
}

/* [observability] enabled = true, head_sampling_rate = 0.1: store the Worker's trace events
 * (logs, exceptions, request details) for `hearth logs`. The nested [observability.logs]
 * table of newer wrangler versions is read the same way. */
static void load_observability(loader *l, const cfg_value *doc) {
    const cfg_value *o =
        get_typed(l, doc, "", "observability", CFG_TABLE, "[observability] enabled = true");
    l->c->head_sampling_rate = 1.0;
    if (!o) return;
    for (size_t i = 0; i < o->u.tab.len; i++) {
        const char *key = o->u.tab.keys[i];
        const cfg_value *v = o->u.tab.vals[i];
        if (!strcmp(key, "enabled")) {
            if (v->type != CFG_BOOL) {
                diag(l, true, v->line, "\"observability.enabled\" must be true or false");
                continue;
            }
            l->c->observability = v->u.b;
        } else if (!strcmp(key, "head_sampling_rate")) {
            double r = v->type == CFG_INTEGER ? (double)v->u.i : v->type == CFG_FLOAT ? v->u.f : -1;
            if (r < 0 || r > 1) {
                diag(l, true, v->line,
                     "\"observability.head_sampling_rate\" must be a number from 0 to 1, e.g. "
                     "head_sampling_rate = 0.1");
                continue;
            }
            l->c->head_sampling_rate = r;
        } else if (!strcmp(key, "logs") && v->type == CFG_TABLE) {
            const cfg_value *e = cfg_table_get(v, "enabled");
            if (e && e->type == CFG_BOOL) l->c->observability = l->c->observability || e->u.b;
        } else {
            diag(l, false, v->line, "unknown key \"observability.%s\" (ignored)", key);
        }
    }
}

/* tail_consumers = [{ service = "my-tail-worker" }]: Workers whose tail() handler receives this
 * Worker's trace events. */
static void load_tail_consumers(loader *l, const cfg_value *doc) {
    const cfg_value *tc = get_typed(l, doc, "", "tail_consumers", CFG_ARRAY,
                                    "tail_consumers = [{ service = \"my-tail-worker\" }]");
    if (!tc) return;
    for (size_t i = 0; i < tc->u.arr.len; i++) {
        const cfg_value *e = tc->u.arr.items[i];
        const cfg_value *svc = e->type == CFG_TABLE ? cfg_table_get(e, "service") : NULL;
        if (!svc || svc->type != CFG_STRING || !valid_worker_name(svc->u.str.ptr)) {
            diag(l, true, e->line,
                 "each entry of \"tail_consumers\" must name a Worker, e.g. { service = "
                 "\"my-tail-worker\" }");
            continue;
        }
        l->c->tail_consumers =
            xrealloc(l->c->tail_consumers, (l->c->tail_consumer_count + 1) * sizeof(char *));
        l->c->tail_consumers[l->c->tail_consumer_count++] = xstrdup(svc->u.str.ptr);
    }
}

static json_t *cfg_to_json(const cfg_value *v) {
    if (cfg_has_text(v->type)) return json_stringn(v->u.str.ptr, v->u.str.len);
    switch (v->type) {
    case CFG_INTEGER:
        return json_integer(v->u.i);
    /* json_real() fails (NULL) for NaN and infinities, which TOML allows; they become null,
     * as JSON.stringify makes them in wrangler. */
    case CFG_FLOAT:
        return isfinite(v->u.f) ? json_real(v->u.f) : json_null();
    case CFG_BOOL:
        return json_boolean(v->u.b);
    case CFG_NULL:
        return json_null();
    case CFG_ARRAY: {
        json_t *a = json_array();
        for (size_t i = 0; i < v->u.arr.len; i++)
            json_array_append_new(a, cfg_to_json(v->u.arr.items[i]));
        return a;
    }
    case CFG_TABLE: {
        json_t *o = json_object();
        for (size_t i = 0; i < v->u.tab.len; i++)
            json_object_set_new(o, v->u.tab.keys[i], cfg_to_json(v->u.tab.vals[i]));
        return o;
    }
    default:
        return json_null();
    }
}

static void add_binding(json_t *bindings, const char *type, const char *name, const char *field,
                        json_t *value) {
    /* A later binding of the same name replaces an earlier one (secrets override vars). */
    size_t i;
    json_t *b;
    json_array_foreach(bindings, i, b) {
        if (strcmp(json_string_value(json_object_get(b, "name")), name) == 0) {
            json_array_remove(bindings, i);
            break;
        }
    }
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(type));
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, field, value);
    json_array_append_new(bindings, o);
}

static void load_vars(loader *l, const cfg_value *doc, json_t *bindings) {
    const cfg_value *vars =
        get_typed(l, doc, "", "vars", CFG_TABLE, "[vars] API_HOST = \"example.com\"");
    if (!vars) return;
    for (size_t i = 0; i < vars->u.tab.len; i++) {
        const cfg_value *v = vars->u.tab.vals[i];
        const char *name = vars->u.tab.keys[i];
        /* json_stringn, with the length: a TOML string may hold "\u0000". */
        if (v->type == CFG_STRING)
            add_binding(bindings, "plain_text", name, "text",
                        json_stringn(v->u.str.ptr, v->u.str.len));
        else
            add_binding(bindings, "json", name, "json", cfg_to_json(v));
    }
}

/* [version_metadata] binding = "NAME" → env.NAME = { id, tag, timestamp }. */
static void load_version_metadata(loader *l, const cfg_value *doc, json_t *bindings) {
    const cfg_value *vm = get_typed(l, doc, "", "version_metadata", CFG_TABLE,
                                    "[version_metadata] binding = \"CF_VERSION_METADATA\"");
    if (!vm) return;
    const cfg_value *name = get_typed(l, vm, "version_metadata.", "binding", CFG_STRING,
                                      "binding = \"CF_VERSION_METADATA\"");
    if (!name) {
        if (!cfg_table_get(vm, "binding"))
            diag(l, true, vm->line,
                 "\"version_metadata.binding\" is required: the name of the binding in env");
        return;
    }
    json_t *b = json_pack("{s:s, s:s}", "type", "version_metadata", "name", name->u.str.ptr);
    json_array_append_new(bindings, b);
}

/* [triggers] crons = ["0 * * * *", ...]: when scheduled() runs (UTC; platform/cron.h). */
static void load_triggers(loader *l, const cfg_value *doc) {
    const cfg_value *t =
        get_typed(l, doc, "", "triggers", CFG_TABLE, "[triggers] crons = [\"*/5 * * * *\"]");
    if (!t) return;
    for (size_t i = 0; i < t->u.tab.len; i++)
        if (strcmp(t->u.tab.keys[i], "crons") != 0)
            diag(l, false, t->u.tab.vals[i]->line, "unknown key \"triggers.%s\" (ignored)",
                 t->u.tab.keys[i]);
    const cfg_value *crons =
        get_typed(l, t, "triggers.", "crons", CFG_ARRAY, "crons = [\"*/5 * * * *\"]");
    for (size_t i = 0; crons && i < crons->u.arr.len; i++) {
        const cfg_value *e = crons->u.arr.items[i];
        char err[200];
        cron_expr expr;
        if (e->type != CFG_STRING) {
            diag(l, true, e->line, "\"triggers.crons[%zu]\" must be a string such as \"0 * * * *\"",
                 i);
            continue;
        }
        if (cron_parse(e->u.str.ptr, &expr, err, sizeof err) != 0) {
            diag(l, true, e->line, "\"triggers.crons[%zu]\" (\"%s\"): %s", i, e->u.str.ptr, err);
            continue;
        }
        l->c->crons = xrealloc(l->c->crons, (l->c->cron_count + 1) * sizeof(char *));
        l->c->crons[l->c->cron_count++] = xstrdup(e->u.str.ptr);
    }
}

/* One rate limit binding, from [[ratelimits]] (`what` = "ratelimits[0]") or from
 * [[unsafe.bindings]] with type = "ratelimit" (then `type` is among the keys). */
static void load_ratelimit(loader *l, const cfg_value *e, const char *what, json_t *bindings) {
    static const char *const known[] = {"name", "namespace_id", "simple", "type"};
    for (size_t i = 0; i < e->u.tab.len; i++) {
        size_t k = 0;
        while (k < 4 && strcmp(known[k], e->u.tab.keys[i]) != 0) k++;
        if (k == 4)
            diag(l, false, e->u.tab.vals[i]->line, "unknown key \"%s.%s\" (ignored)", what,
                 e->u.tab.keys[i]);
    }
    const cfg_value *name = cfg_table_get(e, "name");
    if (!name || name->type != CFG_STRING || !name->u.str.len) {
        diag(l, true, e->line,
             "\"%s.name\" is required: the name of the binding in env, e.g. name = "
             "\"MY_RATE_LIMITER\"",
             what);
        return;
    }
    json_t *b = json_pack("{s:s, s:s}", "type", "ratelimit", "name", name->u.str.ptr);
    const cfg_value *ns = cfg_table_get(e, "namespace_id");
    const cfg_value *simple = cfg_table_get(e, "simple");
    if (ns) json_object_set_new(b, "namespace_id", cfg_to_json(ns));
    if (simple) json_object_set_new(b, "simple", cfg_to_json(simple));
    char field[32], msg[200];
    if (!ratelimit_binding_check(b, field, sizeof field, msg, sizeof msg)) {
        const cfg_value *at = !strcmp(field, "namespace_id") ? ns : simple;
        diag(l, true, at ? at->line : e->line,
             "rate limit binding \"%s\": \"%s.%s\" %s; e.g. namespace_id = \"1001\", simple = "
             "{ limit = 100, period = 60 }",
             name->u.str.ptr, what, field, msg);
        json_decref(b);
        return;
    }
    json_array_append_new(bindings, b);
}

/* [[ratelimits]] name = "X", namespace_id = "1001", simple = { limit = 100, period = 60 }. */
static void load_ratelimits(loader *l, const cfg_value *doc, json_t *bindings) {
    const cfg_value *list =
        get_typed(l, doc, "", "ratelimits", CFG_ARRAY,
                  "[[ratelimits]] name = \"LIMITER\" namespace_id = \"1001\" simple = { "
                  "limit = 100, period = 60 }");
    for (size_t i = 0; list && i < list->u.arr.len; i++) {
        const cfg_value *e = list->u.arr.items[i];
        char what[40];
        snprintf(what, sizeof what, "ratelimits[%zu]", i);
        if (e->type != CFG_TABLE) {
            diag(l, true, e->line, "\"%s\" must be a table, e.g. { name = \"LIMITER\", ... }",
                 what);
            continue;
        }
        load_ratelimit(l, e, what, bindings);
    }
}

/* [[services]] binding = "X", service = "other-worker", entrypoint = "Name" (optional): env.X
 * calls that Worker of the same hearth (fetch() and RPC). The Worker need not exist yet: a
 * call to one that does not fails at call time. */
static void load_services(loader *l, const cfg_value *doc, json_t *bindings) {
    static const char example[] = "[[services]] binding = \"BACKEND\" service = \"backend-worker\"";
    const cfg_value *list = get_typed(l, doc, "", "services", CFG_ARRAY, example);
    for (size_t i = 0; list && i < list->u.arr.len; i++) {
        const cfg_value *e = list->u.arr.items[i];
        if (e->type != CFG_TABLE) {
            diag(l, true, e->line,
                 "\"services[%zu]\" must be a table, e.g. { binding = \"BACKEND\", service = "
                 "\"backend-worker\" }",
                 i);
            continue;
        }
        for (size_t k = 0; k < e->u.tab.len; k++) {
            const char *key = e->u.tab.keys[k];
            if (strcmp(key, "binding") && strcmp(key, "service") && strcmp(key, "entrypoint") &&
                strcmp(key, "environment"))
                diag(l, false, e->u.tab.vals[k]->line, "unknown key \"services[%zu].%s\" (ignored)",
                     i, key);
        }
        const cfg_value *name = cfg_table_get(e, "binding");
        const cfg_value *svc = cfg_table_get(e, "service");
        const cfg_value *ep = cfg_table_get(e, "entrypoint");
        if (!name || name->type != CFG_STRING || !name->u.str.len) {
            diag(l, true, name ? name->line : e->line,
                 "\"services[%zu].binding\" is required: the name of the binding in env, e.g. "
                 "binding = \"BACKEND\"",
                 i);
            continue;
        }
        if (!svc || svc->type != CFG_STRING || !svc->u.str.len) {
            diag(l, true, svc ? svc->line : e->line,
                 "\"services[%zu].service\" is required: the name of the Worker to call, e.g. "
                 "service = \"backend-worker\"",
                 i);
            continue;
        }
        if (ep && (ep->type != CFG_STRING || !ep->u.str.len)) {
            diag(l, true, ep->line,
                 "\"services[%zu].entrypoint\" must be the name of an exported class, e.g. "
                 "entrypoint = \"AdminEntrypoint\"",
                 i);
            continue;
        }
        json_t *b = json_pack("{s:s, s:s, s:s}", "type", "service", "name", name->u.str.ptr,
                              "service", svc->u.str.ptr);
        if (ep) json_object_set_new(b, "entrypoint", json_string(ep->u.str.ptr));
        json_array_append_new(bindings, b);
    }
}

/* The older form: [[unsafe.bindings]] type = "ratelimit", with the same fields. Other unsafe
 * bindings are platform internals hearth does not have. */
static void load_unsafe(loader *l, const cfg_value *doc, json_t *bindings) {
    const cfg_value *unsafe =
        get_typed(l, doc, "", "unsafe", CFG_TABLE, "[[unsafe.bindings]] type = \"ratelimit\"");
    if (!unsafe) return;
    for (size_t i = 0; i < unsafe->u.tab.len; i++)
        if (strcmp(unsafe->u.tab.keys[i], "bindings") != 0)
            diag(l, false, unsafe->u.tab.vals[i]->line, "\"unsafe.%s\" is not supported (ignored)",
                 unsafe->u.tab.keys[i]);
    const cfg_value *list = get_typed(l, unsafe, "unsafe.", "bindings", CFG_ARRAY,
                                      "[[unsafe.bindings]] type = \"ratelimit\"");
    for (size_t i = 0; list && i < list->u.arr.len; i++) {
        const cfg_value *e = list->u.arr.items[i];
        char what[40];
        snprintf(what, sizeof what, "unsafe.bindings[%zu]", i);
        const cfg_value *type = e->type == CFG_TABLE ? cfg_table_get(e, "type") : NULL;
        if (!type || type->type != CFG_STRING || strcmp(type->u.str.ptr, "ratelimit") != 0) {
            diag(l, true, e->line,
                 "\"%s.type\": hearth supports only type = \"ratelimit\" among unsafe bindings",
                 what);
            continue;
        }
        load_ratelimit(l, e, what, bindings);
    }
}

/* route = "..." or routes = [...], each a pattern string or a table with one ({ pattern =
 * "api.example.com/...", zone_name = "..." }: zones mean nothing to hearth). Only checked
 * here: `hearth deploy` uploads the patterns, `hearth dev` serves every host anyway. */
static void check_route(loader *l, const cfg_value *r, const char *key) {
    const cfg_value *pattern = r;
    if (r->type == CFG_TABLE) {
        pattern = cfg_table_get(r, "pattern");
        if (!pattern) {
            diag(l, true, r->line,
                 "each entry of \"%s\" needs a \"pattern\", e.g. { pattern = "
                 "\"api.example.com/*\" }",
                 key);
            return;
        }
    }
    if (pattern->type != CFG_STRING || pattern->u.str.len == 0) {
        diag(l, true, pattern->line,
             "\"%s\" must hold route patterns: strings like \"example.com/*\" or tables like "
             "{ pattern = \"example.com/*\" } (found %s)",
             key, pattern->type == CFG_STRING ? "an empty string" : a_type(pattern->type));
        return;
    }
    route_pattern parsed;
    char why[256];
    if (route_pattern_parse(pattern->u.str.ptr, &parsed, why, sizeof why) != 0)
        diag(l, true, pattern->line, "\"%s\": %s", key, why);
    else
        route_pattern_free(&parsed);
}

static void load_routes(loader *l, const cfg_value *doc) {
    const cfg_value *one = cfg_table_get(doc, "route");
    const cfg_value *many = cfg_table_get(doc, "routes");
    if (one && many) diag(l, true, one->line, "give either \"route\" or \"routes\", not both");
    if (one) check_route(l, one, "route");
    if (many && many->type != CFG_ARRAY) {
        diag(l, true, many->line,
             "\"routes\" must be an array, e.g. routes = [\"example.com/*\"] (found %s)",
             a_type(many->type));
        return;
    }
    for (size_t i = 0; many && i < many->u.arr.len; i++)
        check_route(l, many->u.arr.items[i], "routes");
}

/* Secrets for local development: .dev.vars.<env> when an environment is chosen and that file
 * exists (as wrangler does), otherwise .dev.vars. NULL when there is neither. */
char *worker_config_dev_vars_path(const char *dir, const char *env) {
    if (env) {
        char *name = xmalloc(strlen(".dev.vars.") + strlen(env) + 1);
        strcpy(name, ".dev.vars.");
        strcat(name, env);
        char *path = fs_join(dir, name);
        free(name);
        if (fs_exists(path)) return path;
        free(path);
    }
    char *path = fs_join(dir, ".dev.vars");
    if (fs_exists(path)) return path;
    free(path);
    return NULL;
}

static void load_dev_vars(loader *l, json_t *bindings) {
    char *path = worker_config_dev_vars_path(l->c->dir, l->env);
    size_t len;
    if (!path) return; /* optional */
    char *text = fs_read_file(path, &len, NULL, 0);
    if (!text) {
        buf_printf(&l->d->text, "%s: error: cannot read the file: %s\n", path, strerror(errno));
        l->d->errors++;
        free(path);
        return;
    }
    char err[256];
    cfg_value *vars = dotenv_parse(text, len, err, sizeof err);
    if (!vars) {
        buf_printf(&l->d->text, "%s: error: %s\n", path, err);
        l->d->errors++;
    } else {
        for (size_t i = 0; i < vars->u.tab.len; i++) {
            const cfg_value *v = vars->u.tab.vals[i];
            /* Unlike TOML and JSON, nothing has checked this file's encoding; json_stringn
             * returns NULL for invalid UTF-8, which would leave a binding without its text. */
            json_t *text_value = json_stringn(v->u.str.ptr, v->u.str.len);
            if (!text_value) {
                buf_printf(&l->d->text, "%s:%d: error: the value of %s is not valid UTF-8\n", path,
                           v->line, vars->u.tab.keys[i]);
                l->d->errors++;
                continue;
            }
            add_binding(bindings, "secret_text", vars->u.tab.keys[i], "text", text_value);
        }
        cfg_free(vars);
    }
    free(text);
    free(path);
}

static void add_rule(worker_config *c, js_module_kind kind, bool fallthrough, const char **globs,
                     size_t n) {
    c->rules = xrealloc(c->rules, (c->rule_count + 1) * sizeof *c->rules);
    module_rule *r = &c->rules[c->rule_count++];
    r->kind = kind;
    r->fallthrough = fallthrough;
    r->globs = xcalloc(n ? n : 1, sizeof(char *));
    r->glob_count = n;
    for (size_t i = 0; i < n; i++) r->globs[i] = xstrdup(globs[i]);
}

static void load_rules(loader *l, const cfg_value *doc) {
    bool replaced[JS_MODULE_WASM + 1] = {false};
    const cfg_value *rules = get_typed(l, doc, "", "rules", CFG_ARRAY,
                                       "[[rules]] type = \"Text\" globs = [\"**/*.md\"]");
    for (size_t i = 0; rules && i < rules->u.arr.len; i++) {
        const cfg_value *r = rules->u.arr.items[i];
        if (r->type != CFG_TABLE) {
            diag(l, true, r->line, "each entry of \"rules\" must be a table");
            continue;
        }
        const cfg_value *type = get_typed(l, r, "rules.", "type", CFG_STRING, "type = \"Text\"");
        const cfg_value *globs =
            get_typed(l, r, "rules.", "globs", CFG_ARRAY, "globs = [\"**/*.md\"]");
        const cfg_value *ft =
            get_typed(l, r, "rules.", "fallthrough", CFG_BOOL, "fallthrough = true");
        if (!type || !globs) {
            if (!cfg_table_get(r, "type") || !cfg_table_get(r, "globs"))
                diag(l, true, r->line, "each rule needs \"type\" and \"globs\"");
            continue;
        }
        static const struct {
            const char *name;
            int kind;
        } kinds[] = {{"ESModule", JS_MODULE_ESM}, {"Text", JS_MODULE_TEXT},
                     {"Data", JS_MODULE_DATA},    {"CompiledWasm", JS_MODULE_WASM},
                     {"JSON", JS_MODULE_JSON},    {"CommonJS", -1}};
        int kind = -2;
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            if (strcmp(kinds[k].name, type->u.str.ptr) == 0) kind = kinds[k].kind;
        if (kind == -1) {
            diag(l, true, type->line,
                 "rule type \"CommonJS\" is not supported: hearth runs ES modules");
            continue;
        }
        if (kind == -2) {
            diag(l, true, type->line,
                 "\"rules.type\" must be one of ESModule, Text, Data, CompiledWasm, JSON (found "
                 "\"%s\")",
                 type->u.str.ptr);
            continue;
        }
        const char **list = xcalloc(globs->u.arr.len + 1, sizeof *list);
        size_t n = 0;
        for (size_t g = 0; g < globs->u.arr.len; g++) {
            const cfg_value *gv = globs->u.arr.items[g];
            if (gv->type != CFG_STRING) {
                diag(l, true, gv->line, "\"rules.globs\" must hold strings");
                continue;
            }
            list[n++] = gv->u.str.ptr;
        }
        bool fallthrough = ft && ft->u.b;
        add_rule(l->c, (js_module_kind)kind, fallthrough, list, n);
        /* As in wrangler: a rule without fallthrough replaces the default rule of its type
         * (with a warning, unless fallthrough = false says it is meant). */
        if (!fallthrough && !replaced[kind]) {
            replaced[kind] = true;
            if (!ft)
                diag(l, false, r->line,
                     "this %s rule replaces the default %s rule; add fallthrough = true to keep "
                     "the default one too, or fallthrough = false to silence this warning",
                     type->u.str.ptr, type->u.str.ptr);
        }
        free(list);
    }
    /* wrangler's default module rules come after the user's. */
    static const char *esm[] = {"**/*.js", "**/*.mjs"};
    static const char *text[] = {"**/*.txt", "**/*.html"};
    static const char *data[] = {"**/*.bin"};
    static const char *wasm[] = {"**/*.wasm", "**/*.wasm?module"};
    static const char *json[] = {"**/*.json"};
    if (!replaced[JS_MODULE_ESM]) add_rule(l->c, JS_MODULE_ESM, false, esm, 2);
    if (!replaced[JS_MODULE_TEXT]) add_rule(l->c, JS_MODULE_TEXT, false, text, 2);
    if (!replaced[JS_MODULE_DATA]) add_rule(l->c, JS_MODULE_DATA, false, data, 1);
    if (!replaced[JS_MODULE_WASM]) add_rule(l->c, JS_MODULE_WASM, false, wasm, 2);
    if (!replaced[JS_MODULE_JSON]) add_rule(l->c, JS_MODULE_JSON, false, json, 1);
}

/* Whether the first `n` path segments of `path` match `prefix` ("a/b/", n == 2); *rest gets
 * what follows them. */
static bool match_segments(const char *prefix, size_t n, const char *path, const char **rest) {
    const char *p = path;
    for (size_t i = 0; i < n; i++) {
        p = strchr(p, '/');
        if (!p) return false;
        p++;
    }
    char *head = xstrndup(path, (size_t)(p - path));
    bool ok = fnmatch(prefix, head, FNM_PATHNAME) == 0;
    free(head);
    *rest = p;
    return ok;
}

static bool glob_matches(const char *glob, const char *path) {
    // A "**" segment matches any number of directories, including none, wherever it is
    // ("**/*.md", "src/**/*.txt"), as in wrangler's globs.
    const char *star = strstr(glob, "**/");
    while (star && star != glob && star[-1] != '/') star = strstr(star + 1, "**/");
    if (!star) return fnmatch(glob, path, FNM_PATHNAME) == 0;
    const char *rest = star + 3;
    const char *tail = path;
    if (star != glob) {
        size_t segments = 0;
        for (const char *g = glob; g < star; g++) segments += *g == '/';
        char *prefix = xstrndup(glob, (size_t)(star - glob));
        bool ok = match_segments(prefix, segments, path, &tail);
        free(prefix);
        if (!ok) return false;
    }
    if (glob_matches(rest, tail)) return true;
    for (const char *p = strchr(tail, '/'); p; p = strchr(p + 1, '/'))
        if (glob_matches(rest, p + 1)) return true;
    return false;
}

int worker_config_module_kind(const worker_config *c, const char *path) {
    for (size_t i = 0; i < c->rule_count; i++)
        for (size_t g = 0; g < c->rules[i].glob_count; g++)
            if (glob_matches(c->rules[i].globs[g], path)) return (int)c->rules[i].kind;
    return -1;
}

/* ---- loading ----------------------------------------------------------------------------- */

int worker_config_load(const char *dir, const char *env, worker_config *out, config_diag *d) {
    memset(out, 0, sizeof *out);
    static const char *names[] = {"wrangler.toml", "wrangler.json", "wrangler.jsonc"};
    char *path = NULL;
    for (size_t i = 0; i < 3 && !path; i++) {
        char *p = fs_join(dir, names[i]);
        if (fs_is_file(p))
            path = p;
        else
            free(p);
    }
    out->dir = xstrdup(dir);
    if (!path) {
        buf_printf(&d->text,
                   "%s: error: no wrangler.toml, wrangler.json or wrangler.jsonc in this "
                   "directory\n",
                   dir);
        d->errors++;
        return -1;
    }
    out->file = path;
    loader l = {out, d, path, env};
    size_t len;
    char ioerr[256];
    char *text = fs_read_file(path, &len, ioerr, sizeof ioerr);
    if (!text) {
        diag(&l, true, 0, "cannot read the file: %s", strerror(errno));
        return -1;
    }
    bool is_toml = strlen(path) > 5 && strcmp(path + strlen(path) - 5, ".toml") == 0;
    cfg_value *doc;
    if (is_toml) {
        toml_error terr;
        doc = toml_parse(text, len, &terr);
        if (!doc)
            buf_printf(&d->text, "%s:%d:%d: error: %s\n", path, terr.line, terr.column,
                       terr.message),
                d->errors++;
    } else {
        jsonc_error jerr;
        doc = jsonc_parse(text, len, &jerr);
        if (!doc)
            buf_printf(&d->text, "%s:%d:%d: error: %s\n", path, jerr.line, jerr.column,
                       jerr.message),
                d->errors++;
        else if (doc->type != CFG_TABLE) {
            diag(&l, true, 1, "the configuration must be a JSON object");
            cfg_free(doc);
            doc = NULL;
        }
    }
    free(text);
    if (!doc) return -1;
    if (env) {
        cfg_value *chosen = environment_doc(&l, doc);
        cfg_free(doc);
        if (!chosen) return -1;
        doc = chosen;
    }
    out->doc = doc;
    check_top_level_keys(&l, doc);
    load_name(&l, doc);
    load_main(&l, doc);
    load_compat(&l, doc);
    load_limits(&l, doc);
    load_rules(&l, doc);
    load_routes(&l, doc);
    load_observability(&l, doc);
    load_tail_consumers(&l, doc);
    load_triggers(&l, doc);
    const cfg_value *usm =
        get_typed(&l, doc, "", "upload_source_maps", CFG_BOOL, "upload_source_maps = true");
    out->upload_source_maps = usm && usm->u.b;

    json_t *bindings = json_array();
    load_vars(&l, doc, bindings);
    load_version_metadata(&l, doc, bindings);
    load_ratelimits(&l, doc, bindings);
    load_services(&l, doc, bindings);
    load_unsafe(&l, doc, bindings);
    load_dev_vars(&l, bindings);
    out->bindings_json = json_dumps(bindings, JSON_COMPACT);
    json_decref(bindings);
    return d->errors ? -1 : 0;
}

void worker_config_free(worker_config *c) {
    free(c->file);
    free(c->dir);
    free(c->name);
    free(c->main);
    free(c->compatibility_date);
    for (size_t i = 0; i < c->compatibility_flag_count; i++) free(c->compatibility_flags[i]);
    free(c->compatibility_flags);
    for (size_t i = 0; i < c->tail_consumer_count; i++) free(c->tail_consumers[i]);
    free(c->tail_consumers);
    for (size_t i = 0; i < c->cron_count; i++) free(c->crons[i]);
    free(c->crons);
    for (size_t i = 0; i < c->rule_count; i++) {
        for (size_t g = 0; g < c->rules[i].glob_count; g++) free(c->rules[i].globs[g]);
        free(c->rules[i].globs);
    }
    free(c->rules);
    free(c->bindings_json);
    cfg_free(c->doc);
    memset(c, 0, sizeof *c);
}
