#include "platform/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "observe/sourcemap.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/path.h"
#include "config/wrangler.h"
#include "platform/store.h"

#include <jansson.h>

typedef struct project_loader {
    const worker_config *cfg;
    project_build_result *res;
} project_loader;

static void watch(project_build_result *res, const char *path) {
    for (size_t i = 0; i < res->watched_count; i++)
        if (strcmp(res->watched[i], path) == 0) return;
    res->watched = xrealloc(res->watched, (res->watched_count + 1) * sizeof(char *));
    res->watched[res->watched_count++] = xstrdup(path);
}

static int project_load_module(void *ud, const char *referrer, const char *specifier,
                               js_module_source *out, char *msg, size_t msglen) {
    project_loader *pl = ud;
    const worker_config *cfg = pl->cfg;
    bool relative = strncmp(specifier, "./", 2) == 0 || strncmp(specifier, "../", 3) == 0;
    if (referrer && !relative) {
        if (specifier[0] == '/')
            snprintf(msg, msglen, "absolute paths are not allowed; import it relatively");
        else if (strncmp(specifier, "node:", 5) == 0)
            snprintf(msg, msglen, "Node.js built-in modules are not available in hearth");
        else
            snprintf(msg, msglen,
                     "hearth runs the Worker's files as they are and does not resolve npm "
                     "packages; bundle the Worker first (e.g. wrangler deploy --dry-run --outdir "
                     "dist, or esbuild --bundle --format=esm) and point \"main\" at the bundle");
        return -1;
    }
    /* wrangler's "x.wasm?module" form names the same file as "x.wasm". */
    char *spec = xstrdup(specifier);
    size_t slen = strlen(spec);
    if (slen > 7 && strcmp(spec + slen - 7, "?module") == 0) spec[slen - 7] = '\0';
    buf name = {0};
    int resolved = path_resolve(referrer, spec, &name);
    free(spec);
    if (resolved != 0) {
        snprintf(msg, msglen, "the path leads outside the project directory");
        buf_free(&name);
        return -1;
    }
    /* Try the exact name, then the extensions a bundler would have added. */
    static const char *suffixes[] = {"", ".js", ".mjs", "/index.js", "/index.mjs"};
    char *full = NULL;
    buf tried = {0};
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        buf candidate = {0};
        buf_append(&candidate, name.data, name.len);
        buf_puts(&candidate, suffixes[i]);
        char *path = fs_join(cfg->dir, candidate.data);
        watch(pl->res, path);
        if (fs_is_file(path)) {
            full = path;
            buf_clear(&name);
            buf_append(&name, candidate.data, candidate.len);
            buf_free(&candidate);
            break;
        }
        if (i == 0 && name.len) buf_printf(&tried, "%s", candidate.data);
        free(path);
        buf_free(&candidate);
        if (i == 0 && strrchr(name.data, '.') > strrchr(name.data, '/'))
            break; /* had an extension */
    }
    if (!full) {
        snprintf(msg, msglen, "no such file %s", tried.len ? tried.data : name.data);
        buf_free(&name);
        buf_free(&tried);
        return -1;
    }
    buf_free(&tried);
    int kind = worker_config_module_kind(cfg, name.data);
    if (kind < 0) {
        snprintf(msg, msglen,
                 "no module rule matches %s (add a [[rules]] entry giving its type, e.g. type = "
                 "\"Text\" globs = [\"**/*%s\"])",
                 name.data, strrchr(name.data, '.') ? strrchr(name.data, '.') : "");
        free(full);
        buf_free(&name);
        return -1;
    }
    char ioerr[512];
    size_t len;
    char *data = fs_read_file(full, &len, ioerr, sizeof ioerr);
    free(full);
    if (!data) {
        snprintf(msg, msglen, "%s", ioerr);
        buf_free(&name);
        return -1;
    }
    out->name = buf_detach(&name, NULL);
    out->kind = (js_module_kind)kind;
    out->data = data;
    out->len = len;
    return 0;
}

static char *worker_facts_json(const worker_config *cfg, const char *version_id) {
    char now[32];
    store_now(now);
    json_t *facts =
        json_pack("{s:s, s:s, s:b, s:{s:s, s:s, s:s}}", "name", cfg->name, "compatibilityDate",
                  cfg->compatibility_date ? cfg->compatibility_date : "", "dev", 1, "version", "id",
                  version_id, "tag", "", "timestamp", now);
    char *text = json_dumps(facts, JSON_COMPACT);
    json_decref(facts);
    return text;
}

/* The source map of a module: "<name>.map" next to it, or the file its last
 * "//# sourceMappingURL=" comment names (relative to the module; data: URLs are inline). */
static char *find_source_map(const char *dir, const char *name, const char *src, size_t len,
                             size_t *map_len, char **map_path) {
    const char *marker = "//# sourceMappingURL=";
    const char *found = NULL;
    for (const char *p = src; p && p < src + len;) {
        const char *hit = memmem(p, (size_t)(src + len - p), marker, strlen(marker));
        if (!hit) break;
        found = hit;
        p = hit + 1;
    }
    buf path = {0};
    if (found) {
        const char *url = found + strlen(marker);
        const char *end = url;
        while (end < src + len && *end != '\n' && *end != '\r' && *end != ' ') end++;
        if (end - url > 5 && strncmp(url, "data:", 5) == 0) return NULL; /* inline: not a file */
        const char *slash = strrchr(name, '/');
        if (slash) buf_append(&path, name, (size_t)(slash - name) + 1);
        buf_append(&path, url, (size_t)(end - url));
    } else {
        buf_printf(&path, "%s.map", name);
    }
    char *full = fs_join(dir, path.data);
    char *map = fs_is_file(full) ? fs_read_file(full, map_len, NULL, 0) : NULL;
    if (map_path) *map_path = map ? buf_detach(&path, NULL) : NULL;
    buf_free(&path);
    free(full);
    return map;
}

/* Source maps for stack traces in dev: each JavaScript module's map, found as for uploads.
 * A map that does not decode is reported as a warning; the Worker runs without it. */
static sourcemap_set *dev_source_maps(const char *dir, js_program *program,
                                      project_build_result *res) {
    sourcemap_set *set = NULL;
    for (size_t i = 0; i < js_program_module_count(program); i++) {
        if (js_program_module_kind(program, i) != JS_MODULE_ESM) continue;
        const char *name = js_program_module_name(program, i);
        size_t len, map_len;
        const char *data = js_program_module_data(program, i, &len);
        char *map_path = NULL;
        char *map = find_source_map(dir, name, data, len, &map_len, &map_path);
        if (!map) {
            char *next_to = fs_join(dir, name);
            char *guess = xmalloc(strlen(next_to) + 5);
            sprintf(guess, "%s.map", next_to);
            watch(res, guess); /* so that a map appearing later reloads */
            free(guess);
            free(next_to);
            continue;
        }
        char *full = fs_join(dir, map_path);
        watch(res, full);
        free(full);
        char err[512];
        sourcemap *m = sourcemap_parse(map, map_len, map_path, err, sizeof err);
        if (m) {
            if (!set) set = sourcemap_set_new();
            sourcemap_set_add(set, name, m);
        } else {
            buf_printf(&res->diag.text, "%s/%s: warning: source map not used: %s\n", dir, map_path,
                       err);
            res->diag.warnings++;
        }
        free(map);
        free(map_path);
    }
    return set;
}

int project_build(js_shard *compiler, const char *dir, const char *env, const char *version_id,
                  project_build_result *res) {
    memset(res, 0, sizeof *res);
    worker_config cfg;
    char *cfg_dir = xstrdup(dir);
    int rc = worker_config_load(cfg_dir, env, &cfg, &res->diag);
    free(cfg_dir);
    if (cfg.file) watch(res, cfg.file);
    /* Both secrets files, so that creating .dev.vars.<env> reloads too. */
    char *dev_vars = fs_join(dir, ".dev.vars");
    watch(res, dev_vars);
    free(dev_vars);
    if (env) {
        buf name = {0};
        buf_printf(&name, ".dev.vars.%s", env);
        dev_vars = fs_join(dir, name.data);
        watch(res, dev_vars);
        free(dev_vars);
        buf_free(&name);
    }
    if (rc != 0) {
        worker_config_free(&cfg);
        return -1;
    }
    project_loader pl = {&cfg, res};
    js_error err;
    js_program *program = js_program_compile(compiler, cfg.main, project_load_module, &pl, &err);
    if (!program) {
        res->error = js_error_format(&err);
        js_error_clear(&err);
        worker_config_free(&cfg);
        return -1;
    }
    worker_limits limits;
    worker_limits_defaults(&limits);
    if (cfg.cpu_ms) limits.cpu_ms = cfg.cpu_ms;
    char *bindings = xstrdup(cfg.bindings_json);
    char *facts = worker_facts_json(&cfg, version_id);
    res->version = worker_version_new(cfg.name, version_id, program, bindings, facts, &limits);
    worker_version_set_tail_consumers(res->version, cfg.tail_consumers, cfg.tail_consumer_count);
    worker_version_set_crons(res->version, cfg.crons, cfg.cron_count);
    res->version->source_maps = dev_source_maps(dir, program, res);
    /* Run the top-level code once now, so a Worker that throws while loading is reported at
     * startup (or on reload) instead of on its first request. */
    js_realm_config rc_cfg = {bindings, facts, NULL};
    js_realm *probe = js_realm_new(compiler, program, &rc_cfg, &err);
    if (!probe) {
        res->error = js_error_format(&err);
        js_error_clear(&err);
        worker_version_unref(res->version);
        res->version = NULL;
        worker_config_free(&cfg);
        return -1;
    }
    js_realm_free(probe);
    res->module_count = js_program_module_count(program);
    worker_config_free(&cfg);
    return 0;
}

void project_build_result_free(project_build_result *res) {
    config_diag_free(&res->diag);
    free(res->error);
    for (size_t i = 0; i < res->watched_count; i++) free(res->watched[i]);
    free(res->watched);
    if (res->version) worker_version_unref(res->version);
    memset(res, 0, sizeof *res);
}

int project_collect(js_shard *compiler, const char *dir, const char *env, project_bundle *out) {
    memset(out, 0, sizeof *out);
    if (worker_config_load(dir, env, &out->config, &out->diag) != 0) return -1;
    project_build_result watched = {0};
    project_loader pl = {&out->config, &watched};
    js_error err;
    js_program *program =
        js_program_compile(compiler, out->config.main, project_load_module, &pl, &err);
    for (size_t i = 0; i < watched.watched_count; i++) free(watched.watched[i]);
    free(watched.watched);
    if (!program) {
        out->error = js_error_format(&err);
        js_error_clear(&err);
        return -1;
    }
    size_t n = js_program_module_count(program);
    out->modules = xcalloc(n ? n : 1, sizeof *out->modules);
    out->module_count = n;
    for (size_t i = 0; i < n; i++) {
        project_module *m = &out->modules[i];
        size_t len;
        const char *data = js_program_module_data(program, i, &len);
        m->name = xstrdup(js_program_module_name(program, i));
        m->kind = js_program_module_kind(program, i);
        m->data = xmemdup0(data, len);
        m->len = len;
        if (out->config.upload_source_maps && m->kind == JS_MODULE_ESM)
            m->source_map = find_source_map(dir, m->name, data, len, &m->source_map_len, NULL);
    }
    js_program_unref(program);
    return 0;
}

void project_bundle_free(project_bundle *b) {
    for (size_t i = 0; i < b->module_count; i++) {
        free(b->modules[i].name);
        free(b->modules[i].data);
        free(b->modules[i].source_map);
    }
    free(b->modules);
    worker_config_free(&b->config);
    config_diag_free(&b->diag);
    free(b->error);
    memset(b, 0, sizeof *b);
}
