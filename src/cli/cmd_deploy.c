/* hearth deploy / hearth versions upload — upload a project as a new version of its Worker
 * (deploy also sends all traffic to it), in the multipart form docs/api.md describes. */
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
#include "config/value.h"
#include "platform/project.h"
#include "platform/runtime_ops.h"

static const char kDeployUsage[] =
    "Usage: hearth deploy [DIR] [options]\n"
    "\n"
    "Uploads the Worker in DIR (default: the current directory), configured by its\n"
    "wrangler.toml, as a new version and deploys it to 100% of its traffic.\n"
    "\n"
    "Options:\n"
    "  -e, --env NAME      upload [env.NAME] of the config, as the Worker <name>-NAME\n"
    "  -m, --message MSG   a message recorded with the version (at most 1000 characters)\n"
    "  --tag TAG           a tag recorded with the version (at most 100 characters)\n"
    "  --json              print the API's result as JSON\n"
    "  -h, --help          show this help\n";

static const char kUploadUsage[] =
    "Usage: hearth versions upload [DIR] [options]\n"
    "\n"
    "Uploads the Worker in DIR (default: the current directory), configured by its\n"
    "wrangler.toml, as a new version without deploying it; `hearth versions deploy` then\n"
    "sends traffic to it.\n"
    "\n"
    "Options:\n"
    "  -e, --env NAME      upload [env.NAME] of the config, as the Worker <name>-NAME\n"
    "  -m, --message MSG   a message recorded with the version (at most 1000 characters)\n"
    "  --tag TAG           a tag recorded with the version (at most 100 characters)\n"
    "  --json              print the API's result as JSON\n"
    "  -h, --help          show this help\n";

typedef struct upload_options {
    const char *dir, *message, *tag;
    bool json;
} upload_options;

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, const char *usage, upload_options *o) {
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if ((r = client_option(argc, argv, &i, "--message", "-m", &o->message)) != 0) {
            if (r < 0) return client_missing_value(usage, "--message");
        } else if ((r = client_option(argc, argv, &i, "--tag", NULL, &o->tag)) != 0) {
            if (r < 0) return client_missing_value(usage, "--tag");
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (a[0] == '-' || o->dir) {
            return client_bad_argument(usage, a);
        } else {
            o->dir = a;
        }
    }
    if (!o->dir) o->dir = ".";
    if ((o->message && !client_utf8(o->message)) || (o->tag && !client_utf8(o->tag)))
        return cli_usage_error(usage, "the message and the tag must be valid UTF-8");
    return -1;
}

/* Compiles the project to find every module it uploads. The engine only lives for this. */
static int collect(const char *dir, project_bundle *b) {
    js_error err = {0};
    runtime_ops_register();
    if (js_engine_init(&err) != 0) {
        char *text = js_error_format(&err);
        fprintf(stderr, "hearth: the JavaScript runtime failed to start: %s\n", text);
        free(text);
        return -1;
    }
    js_shard_options opts = {0};
    js_shard *compiler = js_shard_new(&opts);
    int rc = project_collect(compiler, dir, cli_environment(), b);
    js_shard_free(compiler);
    js_engine_shutdown();
    if (b->diag.text.len) fputs(b->diag.text.data, stderr);
    if (b->error) fprintf(stderr, "%s\n", b->error);
    if (rc != 0) fprintf(stderr, "hearth: %s was not uploaded\n", dir);
    return rc;
}

/* The route patterns of `route` / `routes` (strings or { pattern = "..." } tables; the
 * config loader has checked their form). */
static json_t *config_routes(const cfg_value *doc) {
    json_t *out = json_array();
    const cfg_value *one = cfg_table_get(doc, "route");
    const cfg_value *many = cfg_table_get(doc, "routes");
    const cfg_value *const *items = one ? (const cfg_value *const *)&one : NULL;
    size_t n = one ? 1 : 0;
    if (many && many->type == CFG_ARRAY) {
        items = (const cfg_value *const *)many->u.arr.items;
        n = many->u.arr.len;
    }
    for (size_t i = 0; i < n; i++) {
        const cfg_value *r = items[i];
        if (r->type == CFG_TABLE) r = cfg_table_get(r, "pattern");
        if (r && r->type == CFG_STRING) json_array_append_new(out, json_string(r->u.str.ptr));
    }
    return out;
}

static json_t *upload_metadata(const project_bundle *b, const upload_options *o) {
    const worker_config *cfg = &b->config;
    /* [vars], [version_metadata] and .dev.vars, already in the upload's form. */
    json_t *bindings = json_loads(cfg->bindings_json ? cfg->bindings_json : "[]", 0, NULL);
    if (!json_is_array(bindings)) {
        json_decref(bindings);
        bindings = json_array();
    }
    json_t *flags = json_array();
    for (size_t i = 0; i < cfg->compatibility_flag_count; i++)
        json_array_append_new(flags, json_string(cfg->compatibility_flags[i]));
    json_t *meta = json_pack("{s:s, s:o, s:o}", "main_module", b->modules[0].name, "bindings",
                             bindings, "compatibility_flags", flags);
    if (cfg->compatibility_date)
        json_object_set_new(meta, "compatibility_date", json_string(cfg->compatibility_date));
    if (o->message || o->tag) {
        json_t *ann = json_object();
        if (o->message) json_object_set_new(ann, "workers/message", json_string(o->message));
        if (o->tag) json_object_set_new(ann, "workers/tag", json_string(o->tag));
        json_object_set_new(meta, "annotations", ann);
    }
    if (cfg->cpu_ms)
        json_object_set_new(meta, "limits", json_pack("{s:I}", "cpu_ms", (json_int_t)cfg->cpu_ms));
    /* Always sent, even empty: the config is the truth, and a version's routes replace the
     * script's when it is deployed, so removing them from the config removes them. */
    json_object_set_new(meta, "routes", config_routes(cfg->doc));
    /* As wrangler sends them: the Worker's observability settings and Tail Workers. */
    json_object_set_new(meta, "observability",
                        json_pack("{s:b, s:f}", "enabled", cfg->observability, "head_sampling_rate",
                                  cfg->head_sampling_rate));
    json_t *tails = json_array();
    for (size_t i = 0; i < cfg->tail_consumer_count; i++)
        json_array_append_new(tails, json_pack("{s:s}", "service", cfg->tail_consumers[i]));
    json_object_set_new(meta, "tail_consumers", tails);
    /* [triggers] crons: when the deployed version's scheduled() runs (docs/config.md). */
    json_t *crons = json_array();
    for (size_t i = 0; i < cfg->cron_count; i++)
        json_array_append_new(crons, json_string(cfg->crons[i]));
    json_object_set_new(meta, "triggers", json_pack("{s:o}", "crons", crons));
    return meta;
}

static const char *module_type(js_module_kind kind) {
    switch (kind) {
    case JS_MODULE_ESM:
        return "application/javascript+module";
    case JS_MODULE_TEXT:
        return "text/plain";
    case JS_MODULE_DATA:
        return "application/octet-stream";
    case JS_MODULE_JSON:
        return "application/json";
    case JS_MODULE_WASM:
        return "application/wasm";
    }
    return "application/octet-stream";
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int upload(int argc, char **argv, bool deploy) {
    upload_options o;
    int rc = parse_options(argc, argv, deploy ? kDeployUsage : kUploadUsage, &o);
    if (rc >= 0) return rc;
    /* Settings first: a missing login should not wait for a compile. */
    api_client c;
    if (api_client_open(&c) != 0) return 1;
    project_bundle b;
    if (collect(o.dir, &b) != 0) {
        project_bundle_free(&b);
        api_client_close(&c);
        return 1;
    }
    const char *script = b.config.name;
    json_t *meta = b.module_count ? upload_metadata(&b, &o) : NULL;
    if (!meta) {
        /* json_pack refuses strings that are not UTF-8: file names can be anything. */
        fprintf(stderr, "hearth: %s was not uploaded: its module names must be valid UTF-8\n",
                o.dir);
        project_bundle_free(&b);
        api_client_close(&c);
        return 1;
    }
    char *meta_text = json_dumps(meta, JSON_COMPACT);
    json_decref(meta);
    /* metadata, then each module and its source map */
    api_part *parts = xcalloc(1 + 2 * b.module_count, sizeof *parts);
    char **map_names = xcalloc(b.module_count ? b.module_count : 1, sizeof *map_names);
    size_t n = 0, maps = 0, total = strlen(meta_text);
    parts[n++] = (api_part){"metadata", NULL, "application/json", meta_text, strlen(meta_text)};
    for (size_t i = 0; i < b.module_count; i++) {
        const project_module *m = &b.modules[i];
        parts[n++] = (api_part){m->name, m->name, module_type(m->kind), m->data, m->len};
        total += m->len;
        if (m->source_map) {
            map_names[i] = xmalloc(strlen(m->name) + 5);
            sprintf(map_names[i], "%s.map", m->name);
            parts[n++] = (api_part){map_names[i], map_names[i], "application/source-map",
                                    m->source_map, m->source_map_len};
            total += m->source_map_len;
            maps++;
        }
    }
    if (!o.json) {
        printf("Total Upload: %.2f KiB (%zu module%s", (double)total / 1024.0, b.module_count,
               b.module_count == 1 ? "" : "s");
        if (maps) printf(", %zu source map%s", maps, maps == 1 ? "" : "s");
        printf(")\n");
        fflush(stdout);
    }
    double started = now_seconds();
    char *path = api_script_path(&c, script, deploy ? "" : "/versions", NULL);
    json_t *result = api_call(&c, deploy ? "PUT" : "POST", path, NULL, parts, n);
    free(path);
    double took = now_seconds() - started;
    int status = result ? 0 : 1;
    if (result && o.json) {
        client_print_json(result);
    } else if (result) {
        printf("Uploaded %s (%.2f sec)\n", script, took);
        if (deploy) {
            printf("Deployed %s\n", script);
            size_t i;
            json_t *route;
            json_array_foreach(json_object_get(result, "routes"), i, route) {
                char *r = term_clean(json_string_value(route), false, 0);
                printf("  %s\n", r);
                free(r);
            }
        }
        char *id = term_clean(json_str(result, deploy ? "version_id" : "id"), false, 64);
        printf("%s: %s\n", deploy ? "Current Version ID" : "Worker Version ID", id);
        free(id);
    }
    json_decref(result);
    for (size_t i = 0; i < b.module_count; i++) free(map_names[i]);
    free(map_names);
    free(parts);
    free(meta_text);
    project_bundle_free(&b);
    api_client_close(&c);
    return status;
}

int cmd_deploy(int argc, char **argv) {
    return upload(argc, argv, true);
}

int cmd_versions_upload(int argc, char **argv) {
    return upload(argc, argv, false);
}
