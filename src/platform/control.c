#include "platform/control.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/path.h"
#include "net/listen.h"
#include "observe/sourcemap.h"
#include "platform/snapshot.h"

/* ---- module kinds ------------------------------------------------------------------------ */

static const struct {
    const char *type;
    js_module_kind kind;
} kContentTypes[] = {
    {"application/javascript+module", JS_MODULE_ESM},
    {"text/javascript", JS_MODULE_ESM},
    {"application/javascript", JS_MODULE_ESM},
    {"text/plain", JS_MODULE_TEXT},
    {"application/octet-stream", JS_MODULE_DATA},
    {"application/wasm", JS_MODULE_WASM},
    {"application/json", JS_MODULE_JSON},
};

int control_kind_for_content_type(const char *content_type) {
    if (!content_type) return -1;
    /* Parameters (";charset=utf-8") do not change the kind. */
    size_t len = strcspn(content_type, "; \t");
    for (size_t i = 0; i < sizeof kContentTypes / sizeof kContentTypes[0]; i++)
        if (strlen(kContentTypes[i].type) == len &&
            strncasecmp(kContentTypes[i].type, content_type, len) == 0)
            return (int)kContentTypes[i].kind;
    return -1;
}

const char *control_content_type_for_kind(js_module_kind kind) {
    for (size_t i = 0; i < sizeof kContentTypes / sizeof kContentTypes[0]; i++)
        if (kContentTypes[i].kind == kind) return kContentTypes[i].type;
    return "application/octet-stream";
}

/* ---- compiling --------------------------------------------------------------------------- */

typedef struct module_set {
    const control_module *modules;
    size_t count;
} module_set;

static const control_module *find_module(const module_set *ms, const char *name) {
    for (size_t i = 0; i < ms->count; i++)
        if (strcmp(ms->modules[i].name, name) == 0) return &ms->modules[i];
    return NULL;
}

/* Resolves imports among the uploaded modules, the way `hearth dev` resolves files. */
static int set_loader(void *ud, const char *referrer, const char *specifier, js_module_source *out,
                      char *msg, size_t msglen) {
    const module_set *ms = ud;
    const control_module *m = NULL;
    if (!referrer) {
        m = find_module(ms, specifier);
    } else if (strncmp(specifier, "./", 2) == 0 || strncmp(specifier, "../", 3) == 0) {
        buf name = {0};
        if (path_resolve(referrer, specifier, &name) != 0) {
            snprintf(msg, msglen, "the path leads outside the uploaded modules");
            buf_free(&name);
            return -1;
        }
        static const char *suffixes[] = {"", ".js", ".mjs", "/index.js", "/index.mjs"};
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0] && !m; i++) {
            buf candidate = {0};
            buf_printf(&candidate, "%s%s", name.data, suffixes[i]);
            m = find_module(ms, candidate.data);
            buf_free(&candidate);
        }
        if (!m) snprintf(msg, msglen, "no uploaded module named %s", name.data);
        buf_free(&name);
    } else {
        snprintf(msg, msglen,
                 "only relative imports of uploaded modules are supported (bundle npm packages "
                 "into the upload)");
        return -1;
    }
    if (!m) {
        if (!msg[0]) snprintf(msg, msglen, "no uploaded module named %s", specifier);
        return -1;
    }
    out->name = xstrdup(m->name);
    out->kind = m->kind;
    out->data = xmemdup0(m->data, m->len);
    out->len = m->len;
    return 0;
}

/* What the runtime knows about a version (env.X of a version_metadata binding, ...). */
static char *facts_json(const char *script, json_t *version) {
    json_t *annotations = json_object_get(version, "annotations");
    json_t *runtime = json_object_get(json_object_get(version, "resources"), "script_runtime");
    json_t *tag = json_object_get(annotations, "workers/tag");
    json_t *facts =
        json_pack("{s:s, s:O, s:b, s:{s:O, s:s, s:O}}", "name", script, "compatibilityDate",
                  json_object_get(runtime, "compatibility_date")
                      ? json_object_get(runtime, "compatibility_date")
                      : json_null(),
                  "dev", 0, "version", "id", json_object_get(version, "id"), "tag",
                  json_is_string(tag) ? json_string_value(tag) : "", "timestamp",
                  json_object_get(json_object_get(version, "metadata"), "created_on"));
    char *text = json_dumps(facts, JSON_COMPACT);
    json_decref(facts);
    return text;
}

worker_version *control_compile(control *c, const char *script, json_t *version,
                                const control_module *modules, size_t count, char **error) {
    const char *main = json_string_value(json_object_get(
        json_object_get(json_object_get(version, "resources"), "script"), "main_module"));
    module_set ms = {modules, count};
    js_error err;
    js_program *program = js_program_compile(c->compiler, main ? main : "", set_loader, &ms, &err);
    if (!program) {
        *error = js_error_format(&err);
        js_error_clear(&err);
        return NULL;
    }
    worker_limits limits;
    worker_limits_defaults(&limits);
    json_int_t cpu = json_integer_value(json_object_get(
        json_object_get(json_object_get(json_object_get(version, "resources"), "script_runtime"),
                        "limits"),
        "cpu_ms"));
    if (cpu > 0) limits.cpu_ms = (uint64_t)cpu;
    char *bindings = json_dumps(json_object_get(version, "_bindings"), JSON_COMPACT);
    const char *id = json_string_value(json_object_get(version, "id"));
    worker_version *v =
        worker_version_new(script, id, program, bindings, facts_json(script, version), &limits);
    v->number = (int64_t)json_integer_value(json_object_get(version, "number"));
    json_t *tag = json_object_get(json_object_get(version, "annotations"), "workers/tag");
    v->tag = json_is_string(tag) ? xstrdup(json_string_value(tag)) : NULL;
    json_t *message = json_object_get(json_object_get(version, "annotations"), "workers/message");
    v->message = json_is_string(message) ? xstrdup(json_string_value(message)) : NULL;
    json_t *runtime = json_object_get(json_object_get(version, "resources"), "script_runtime");
    json_t *obs = json_object_get(runtime, "observability");
    v->store_logs = json_is_true(json_object_get(obs, "enabled"));
    json_t *rate = json_object_get(obs, "head_sampling_rate");
    v->head_sampling_rate = json_is_number(rate) ? json_number_value(rate) : 1.0;
    json_t *consumers = json_object_get(runtime, "tail_consumers");
    size_t nc = json_array_size(consumers);
    char **names = xcalloc(nc ? nc : 1, sizeof *names);
    size_t k = 0;
    for (size_t i = 0; i < nc; i++) {
        const char *svc =
            json_string_value(json_object_get(json_array_get(consumers, i), "service"));
        if (svc) names[k++] = (char *)svc;
    }
    worker_version_set_tail_consumers(v, names, k);
    free(names);
    json_t *crons = json_object_get(json_object_get(runtime, "triggers"), "crons");
    size_t ncron = json_array_size(crons);
    char **texts = xcalloc(ncron ? ncron : 1, sizeof *texts);
    size_t kc = 0;
    for (size_t i = 0; i < ncron; i++)
        if (json_is_string(json_array_get(crons, i)))
            texts[kc++] = (char *)json_string_value(json_array_get(crons, i));
    worker_version_set_crons(v, texts, kc);
    free(texts);
    v->created_on = xstrdup(
        json_string_value(json_object_get(json_object_get(version, "metadata"), "created_on")));
    return v;
}

int control_decode_source_maps(const control_module *maps, size_t map_count,
                               const control_module *modules, size_t module_count,
                               sourcemap_set **out, char **error) {
    *out = NULL;
    for (size_t i = 0; i < map_count; i++) {
        const char *name = maps[i].name;
        size_t len = strlen(name);
        size_t k = 0;
        while (k < module_count && !(len == strlen(modules[k].name) + 4 &&
                                     strncmp(name, modules[k].name, len - 4) == 0 &&
                                     strcmp(name + len - 4, ".map") == 0))
            k++;
        char err[512];
        if (k == module_count) {
            snprintf(err, sizeof err,
                     "source map \"%s\": no module \"%.*s\" in the upload (a map is named after "
                     "its module plus \".map\")",
                     name, len > 4 ? (int)(len - 4) : (int)len, name);
            *error = xstrdup(err);
        } else {
            sourcemap *m = sourcemap_parse(maps[i].data, maps[i].len, name, err, sizeof err);
            if (m) {
                if (!*out) *out = sourcemap_set_new();
                sourcemap_set_add(*out, modules[k].name, m);
                continue;
            }
            buf msg = {0};
            buf_printf(&msg, "source map \"%s\": %s", name, err);
            *error = buf_detach(&msg, NULL);
        }
        if (*out) sourcemap_set_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

int control_trial_run(control *c, worker_version *v, char **error) {
    js_realm_config cfg = {v->bindings_json, v->worker_json, NULL};
    js_error err;
    js_realm *r = js_realm_new(c->compiler, v->program, &cfg, &err);
    if (!r) {
        *error = js_error_format(&err);
        js_error_clear(&err);
        return -1;
    }
    js_realm_free(r);
    return 0;
}

void control_add_version(control *c, worker_version *v) {
    /* Counted from here on (not at compile: upload drafts are compiled too, and never serve). */
    if (c->cfg.metrics && !v->metrics)
        v->metrics = metrics_registry_get(c->cfg.metrics, v->worker_name, v->version_id);
    c->versions = xrealloc(c->versions, (c->version_count + 1) * sizeof *c->versions);
    c->versions[c->version_count++] = v;
}

void control_forget_script(control *c, const char *script) {
    size_t k = 0;
    for (size_t i = 0; i < c->version_count; i++) {
        if (strcmp(c->versions[i]->worker_name, script) == 0)
            worker_version_unref(c->versions[i]);
        else
            c->versions[k++] = c->versions[i];
    }
    c->version_count = k;
    if (c->cfg.metrics) metrics_registry_forget_worker(c->cfg.metrics, script);
}

static worker_version *find_version(control *c, const char *id) {
    for (size_t i = 0; i < c->version_count; i++)
        if (strcmp(c->versions[i]->version_id, id) == 0) return c->versions[i];
    return NULL;
}

/* Compiles a stored version from its blobs (at startup). */
static worker_version *load_version(control *c, const char *script, json_t *version) {
    json_t *mods = json_object_get(version, "_modules");
    size_t n = json_array_size(mods);
    control_module *modules = xcalloc(n ? n : 1, sizeof *modules);
    control_module *maps = xcalloc(n ? n : 1, sizeof *maps);
    char **data = xcalloc(n ? n : 1, sizeof *data);
    bool ok = true;
    size_t count = 0, map_count = 0;
    for (size_t i = 0; i < n && ok; i++) {
        json_t *m = json_array_get(mods, i);
        const char *type = json_string_value(json_object_get(m, "content_type"));
        if (type && strcmp(type, "application/source-map") == 0) {
            size_t len = 0;
            data[i] = store_blob_get(c->store, json_string_value(json_object_get(m, "blob")), &len);
            if (data[i])
                maps[map_count++] = (control_module){json_string_value(json_object_get(m, "name")),
                                                     JS_MODULE_DATA, data[i], len};
            continue;
        }
        size_t len = 0;
        data[i] = store_blob_get(c->store, json_string_value(json_object_get(m, "blob")), &len);
        int kind =
            control_kind_for_content_type(json_string_value(json_object_get(m, "content_type")));
        ok = data[i] != NULL && kind >= 0;
        modules[count++] = (control_module){json_string_value(json_object_get(m, "name")),
                                            (js_module_kind)kind, data[i], len};
    }
    worker_version *v = NULL;
    char *error = NULL;
    if (ok) v = control_compile(c, script, version, modules, count, &error);
    /* Maps were checked at upload; one that no longer decodes only loses its mapping. */
    sourcemap_set *set = NULL;
    char *map_error = NULL;
    if (v && control_decode_source_maps(maps, map_count, modules, count, &set, &map_error) == 0)
        v->source_maps = set;
    free(map_error);
    if (!v)
        fprintf(stderr, "[hearth] version %s of %s could not be loaded: %s\n",
                json_string_value(json_object_get(version, "id")), script,
                error ? error : "a module blob is missing or has an unknown type");
    free(error);
    for (size_t i = 0; i < n; i++) free(data[i]);
    free(data);
    free(modules);
    free(maps);
    return v;
}

static void load_all(control *c) {
    json_t *scripts = store_scripts(c->store);
    size_t i;
    json_t *script;
    json_array_foreach(scripts, i, script) {
        const char *name = json_string_value(json_object_get(script, "id"));
        json_t *versions = store_versions(c->store, name);
        size_t k;
        json_t *version;
        json_array_foreach(versions, k, version) {
            worker_version *v = load_version(c, name, version);
            if (v) control_add_version(c, v);
        }
        json_decref(versions);
    }
    json_decref(scripts);
}

void control_publish(control *c) {
    if (c->stopping) return;
    snapshot *snap = snapshot_new(c->cfg.domain);
    json_t *scripts = store_scripts(c->store);
    /* Entries first (routes and the default point into the array, which must not move). */
    size_t i;
    json_t *script;
    json_array_foreach(scripts, i, script) {
        const char *name = json_string_value(json_object_get(script, "id"));
        script_entry *se = snapshot_add_script(snap, name);
        for (size_t k = 0; k < c->version_count; k++)
            if (strcmp(c->versions[k]->worker_name, name) == 0)
                snapshot_add_version(se, c->versions[k]);
        json_t *active = store_active_deployment(c->store, name);
        json_t *split = json_object_get(active, "versions");
        worker_version *v[2] = {NULL, NULL};
        double pct[2] = {0, 0};
        for (size_t k = 0; k < json_array_size(split) && k < 2; k++) {
            json_t *e = json_array_get(split, k);
            v[k] = find_version(c, json_string_value(json_object_get(e, "version_id")));
            pct[k] = json_number_value(json_object_get(e, "percentage"));
        }
        if (v[0] && (json_array_size(split) == 1 || v[1]))
            snapshot_set_split(se, v[0], pct[0], v[1], pct[1]);
        json_decref(active);
    }
    json_array_foreach(scripts, i, script) {
        json_t *routes = json_object_get(script, "routes");
        size_t k;
        json_t *route;
        json_array_foreach(routes, k, route) {
            char err[256];
            if (json_is_string(route) &&
                snapshot_add_route(snap, json_string_value(route), &snap->scripts[i], err,
                                   sizeof err) != 0)
                fprintf(stderr, "[hearth] %s\n", err);
        }
    }
    control_tails_publish(c, snap);
    if (c->cfg.default_worker) {
        script_entry *se =
            snapshot_find_script(snap, c->cfg.default_worker, strlen(c->cfg.default_worker));
        if (se) snapshot_set_default(snap, se);
    }
    json_decref(scripts);
    snapshot_publish(snap);
    if (c->cfg.server) server_notify_snapshot(c->cfg.server, 2000);
}

/* ---- the first admin token ----------------------------------------------------------------- */

void token_hash(const char *token, char out[65]) {
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(token, strlen(token), md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", md[i]);
}

static int bootstrap_token(control *c, char *err, size_t errlen) {
    const char *env = getenv("HEARTH_ADMIN_TOKEN");
    char hash[65], id[37];
    if (env && *env) {
        /* For automation: the token given is valid (added if this store does not have it). */
        token_hash(env, hash);
        if (!store_token_find(c->store, hash, id) &&
            store_token_add(c->store, "admin", hash, id) != 0) {
            snprintf(err, errlen, "cannot store the admin token");
            return -1;
        }
        return 0;
    }
    if (store_token_count(c->store) > 0) return 0;
    unsigned char raw[24];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) abort();
    char token[49];
    for (int i = 0; i < 24; i++) sprintf(token + 2 * i, "%02x", raw[i]);
    token_hash(token, hash);
    if (store_token_add(c->store, "admin", hash, id) != 0) {
        snprintf(err, errlen, "cannot store the admin token");
        return -1;
    }
    /* Shown once: only its hash is kept. */
    fprintf(stderr, "[hearth] Admin API token (shown once, keep it): %s\n", token);
    return 0;
}

/* ---- the thread ---------------------------------------------------------------------------- */

typedef struct control_start_state {
    control *c;
    uv_sem_t ready;
    int rc;
    char err[256];
} control_start_state;

static void on_api_request(void *ud, http_request *req) {
    api_handle(ud, req);
}

static void close_walk(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void on_stop(uv_async_t *a) {
    control *c = a->data;
    c->stopping = true;
    http_server_shutdown(c->http);
    uv_walk(&c->loop, close_walk, NULL);
}

static void control_thread(void *arg) {
    control_start_state *st = arg;
    control *c = st->c;
    uv_loop_init(&c->loop);
    uv_async_init(&c->loop, &c->stop_async, on_stop);
    c->stop_async.data = c;
    js_shard_options o = {0};
    c->compiler = js_shard_new(&o);
    if (!c->compiler) {
        st->rc = -1;
        snprintf(st->err, sizeof st->err,
                 "could not create the control plane's JavaScript context");
        uv_sem_post(&st->ready);
        return;
    }
    load_all(c);
    control_tails_init(c);
    control_publish(c);
    http_server_config hc;
    http_server_config_defaults(&hc);
    hc.max_body_bytes = c->cfg.max_upload_bytes;
    c->http = http_server_new(&c->loop, c->admin_fd, &hc, on_api_request, c);
    st->rc = 0;
    uv_sem_post(&st->ready);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    http_server_free(c->http);
    control_tails_free(c);
    for (size_t i = 0; i < c->version_count; i++) worker_version_unref(c->versions[i]);
    free(c->versions);
    js_shard_free(c->compiler);
    uv_loop_close(&c->loop);
}

int control_start(const control_config *cfg, control **out, int *admin_port, char *err,
                  size_t errlen) {
    control *c = xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->store = store_open(cfg->data_dir, err, errlen);
    if (!c->store) {
        free(c);
        return -1;
    }
    if (bootstrap_token(c, err, errlen) != 0 ||
        (cfg->admin_port && net_port_free(cfg->admin_ip, cfg->admin_port, err, errlen) != 0) ||
        (c->admin_fd = net_listen(cfg->admin_ip, cfg->admin_port, false, err, errlen)) < 0) {
        store_close(c->store);
        free(c);
        return -1;
    }
    *admin_port = net_bound_port(c->admin_fd);
    control_start_state st = {.c = c};
    uv_sem_init(&st.ready, 0);
    uv_thread_options_t opts = {UV_THREAD_HAS_STACK_SIZE, 8u * 1024 * 1024};
    if (uv_thread_create_ex(&c->thread, &opts, control_thread, &st) != 0) {
        snprintf(err, errlen, "could not start the control plane thread");
        return -1;
    }
    uv_sem_wait(&st.ready);
    uv_sem_destroy(&st.ready);
    if (st.rc != 0) {
        snprintf(err, errlen, "%s", st.err);
        uv_thread_join(&c->thread);
        return -1;
    }
    *out = c;
    return 0;
}

void control_stop(control *c) {
    if (!c) return;
    uv_async_send(&c->stop_async);
    uv_thread_join(&c->thread);
    store_close(c->store);
    free(c);
}
