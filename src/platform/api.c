/* api — the control API (docs/api.md): routing, authentication, the Cloudflare-style envelope,
 * and the handlers. Runs on the control-plane thread. */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "net/multipart.h"
#include "observe/sourcemap.h"
#include "platform/api_internal.h"
#include "platform/control.h"
#include "platform/cron.h"
#include "platform/route_pattern.h"
#include "webapi/url.h"
#include "platform/server.h"
#include "ratelimit/binding.h"
#include "ratelimit/ratelimit.h"

/* ---- responses --------------------------------------------------------------------------- */

/* Internal fields ("_...") never leave the server. */
static void strip_internal(json_t *v) {
    if (json_is_object(v)) {
        const char *key;
        json_t *val;
        void *tmp;
        json_object_foreach_safe(v, tmp, key, val) {
            if (key[0] == '_')
                json_object_del(v, key);
            else
                strip_internal(val);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *val;
        json_array_foreach(v, i, val) strip_internal(val);
    }
}

static void send_json(api_call *a, int status, json_t *body) {
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    http_respond(a->req, status, NULL, "content-type: application/json\r\n", 32, text,
                 strlen(text));
    free(text);
    json_decref(body);
}

void api_ok(api_call *a, json_t *result) {
    strip_internal(result);
    json_t *body = json_pack("{s:b, s:[], s:[], s:o}", "success", 1, "errors", "messages", "result",
                             result ? result : json_null());
    if (json_is_array(result))
        json_object_set_new(body, "result_info",
                            json_pack("{s:I, s:I}", "count", (json_int_t)json_array_size(result),
                                      "total_count", (json_int_t)json_array_size(result)));
    send_json(a, 200, body);
}

void api_fail(api_call *a, int status, int code, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *body = json_pack("{s:b, s:[{s:i, s:s}], s:[], s:n}", "success", 0, "errors", "code",
                             code, "message", msg, "messages", "result");
    send_json(a, status, body);
}

/* ---- request parsing --------------------------------------------------------------------- */

static char *decode_component(const char *s, size_t n) {
    /* '+' means space in query strings. */
    char *plus = xmemdup0(s, n);
    for (char *p = plus; *p; p++)
        if (*p == '+') *p = ' ';
    size_t len;
    char *out = url_percent_decode(plus, n, &len);
    free(plus);
    return out;
}

static void parse_target(api_call *a) {
    const char *t = a->req->target.data ? a->req->target.data : "/";
    const char *q = strchr(t, '?');
    size_t path_len = q ? (size_t)(q - t) : strlen(t);
    const char *prefix = "/client/v4";
    size_t plen = strlen(prefix);
    const char *p = t;
    if (path_len >= plen && strncmp(t, prefix, plen) == 0) p = t + plen;
    const char *end = t + path_len;
    while (p < end && a->segment_count < 16) {
        while (p < end && *p == '/') p++;
        if (p >= end) break;
        const char *s = p;
        while (p < end && *p != '/') p++;
        a->segments[a->segment_count++] = decode_component(s, (size_t)(p - s));
    }
    a->query = json_object();
    if (!q) return;
    for (const char *s = q + 1; *s;) {
        const char *amp = strchr(s, '&');
        size_t len = amp ? (size_t)(amp - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        if (eq) {
            char *k = decode_component(s, (size_t)(eq - s));
            char *v = decode_component(eq + 1, len - (size_t)(eq - s) - 1);
            json_object_set_new(a->query, k, json_string(v));
            free(k);
            free(v);
        }
        s += len + (amp ? 1 : 0);
    }
}

const char *api_query(api_call *a, const char *key) {
    return json_string_value(json_object_get(a->query, key));
}

static bool seg_is(api_call *a, size_t i, const char *s) {
    return i < a->segment_count && strcmp(a->segments[i], s) == 0;
}

static bool authenticate(api_call *a) {
    size_t len;
    const char *h = http_request_header(a->req, "authorization", &len);
    if (!h || len < 8 || strncasecmp(h, "Bearer ", 7) != 0) {
        api_fail(a, 401, CODE_AUTH,
                 "Authentication error: send an API token as Authorization: Bearer <token>");
        return false;
    }
    char *token = xmemdup0(h + 7, len - 7);
    char hash[65];
    token_hash(token, hash);
    free(token);
    if (!store_token_find(a->c->store, hash, a->token_id)) {
        api_fail(a, 403, CODE_AUTH, "Authentication error: the API token is not valid");
        return false;
    }
    a->actor.token_id = a->token_id;
    a->actor.email = "admin";
    return true;
}

static bool valid_script_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-') return false;
    for (const char *p = s; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' || *p == '_'))
            return false;
    return true;
}

static bool valid_date(const char *s) {
    static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i])) return false;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (m < 1 || m > 12 || d < 1 || d > days[m - 1]) return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* ---- uploads ----------------------------------------------------------------------------- */

/* Checks metadata.bindings; on error writes a message naming the entry and field. */
static bool check_bindings(json_t *bindings, char *err, size_t errlen) {
    if (!bindings) return true;
    if (!json_is_array(bindings)) {
        snprintf(err, errlen, "metadata.bindings: expected an array");
        return false;
    }
    size_t i;
    json_t *b;
    json_array_foreach(bindings, i, b) {
        const char *type = json_string_value(json_object_get(b, "type"));
        const char *name = json_string_value(json_object_get(b, "name"));
        if (!json_is_object(b) || !type || !name || !*name) {
            snprintf(err, errlen,
                     "metadata.bindings[%zu]: expected an object with string \"type\" and \"name\"",
                     i);
            return false;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(json_string_value(json_object_get(json_array_get(bindings, k), "name")),
                       name) == 0) {
                snprintf(err, errlen, "metadata.bindings[%zu].name: \"%s\" is bound twice", i,
                         name);
                return false;
            }
        }
        if (!strcmp(type, "plain_text") || !strcmp(type, "secret_text")) {
            if (!json_is_string(json_object_get(b, "text"))) {
                snprintf(err, errlen,
                         "metadata.bindings[%zu].text: expected a string for a %s binding", i,
                         type);
                return false;
            }
        } else if (!strcmp(type, "json")) {
            if (!json_object_get(b, "json")) {
                snprintf(err, errlen, "metadata.bindings[%zu].json: required for a json binding",
                         i);
                return false;
            }
        } else if (!strcmp(type, "ratelimit")) {
            char field[32], msg[200];
            if (!ratelimit_binding_check(b, field, sizeof field, msg, sizeof msg)) {
                snprintf(err, errlen, "metadata.bindings[%zu].%s: %s (binding \"%s\")", i, field,
                         msg, name);
                return false;
            }
        } else if (!strcmp(type, "service")) {
            json_t *svc = json_object_get(b, "service"), *ep = json_object_get(b, "entrypoint");
            if (!json_is_string(svc) || !valid_script_name(json_string_value(svc))) {
                snprintf(err, errlen,
                         "metadata.bindings[%zu].service: expected the name of a Worker for a "
                         "service binding (binding \"%s\")",
                         i, name);
                return false;
            }
            if (ep && !json_is_null(ep) && (!json_is_string(ep) || !*json_string_value(ep))) {
                snprintf(err, errlen,
                         "metadata.bindings[%zu].entrypoint: expected the name of an exported "
                         "class (binding \"%s\")",
                         i, name);
                return false;
            }
        } else if (strcmp(type, "version_metadata") != 0) {
            snprintf(err, errlen,
                     "metadata.bindings[%zu].type: unknown binding type \"%s\" (hearth supports "
                     "plain_text, secret_text, json, version_metadata, ratelimit, service)",
                     i, type);
            return false;
        }
    }
    return true;
}

static bool check_metadata(json_t *meta, char *err, size_t errlen) {
    json_t *v;
    if (!json_is_string(json_object_get(meta, "main_module"))) {
        snprintf(err, errlen,
                 "metadata.main_module: required, the name of the part holding the entry module");
        return false;
    }
    if (!check_bindings(json_object_get(meta, "bindings"), err, errlen)) return false;
    if ((v = json_object_get(meta, "compatibility_date")) &&
        (!json_is_string(v) || !valid_date(json_string_value(v)))) {
        snprintf(err, errlen, "metadata.compatibility_date: expected a date written YYYY-MM-DD");
        return false;
    }
    if ((v = json_object_get(meta, "compatibility_flags"))) {
        size_t i;
        json_t *f;
        bool okf = json_is_array(v);
        json_array_foreach(v, i, f) okf = okf && json_is_string(f);
        if (!okf) {
            snprintf(err, errlen, "metadata.compatibility_flags: expected an array of strings");
            return false;
        }
    }
    if ((v = json_object_get(meta, "annotations"))) {
        json_t *m = json_object_get(v, "workers/message"), *t = json_object_get(v, "workers/tag");
        if (!json_is_object(v)) {
            snprintf(err, errlen, "metadata.annotations: expected an object");
            return false;
        }
        if (m && (!json_is_string(m) || strlen(json_string_value(m)) > 1000)) {
            snprintf(err, errlen,
                     "metadata.annotations[\"workers/message\"]: expected a string of at most 1000 "
                     "characters");
            return false;
        }
        if (t && (!json_is_string(t) || strlen(json_string_value(t)) > 100)) {
            snprintf(err, errlen,
                     "metadata.annotations[\"workers/tag\"]: expected a string of at most 100 "
                     "characters");
            return false;
        }
    }
    if ((v = json_object_get(meta, "limits"))) {
        json_t *cpu = json_object_get(v, "cpu_ms");
        if (!json_is_object(v) || (cpu && (!json_is_integer(cpu) || json_integer_value(cpu) < 1 ||
                                           json_integer_value(cpu) > 300000))) {
            snprintf(err, errlen, "metadata.limits.cpu_ms: expected an integer from 1 to 300000");
            return false;
        }
    }
    if ((v = json_object_get(meta, "observability"))) {
        json_t *en = json_object_get(v, "enabled"),
               *rate = json_object_get(v, "head_sampling_rate");
        if (!json_is_object(v) || (en && !json_is_boolean(en))) {
            snprintf(err, errlen,
                     "metadata.observability: expected { \"enabled\": true|false, "
                     "\"head_sampling_rate\": 0..1 }");
            return false;
        }
        if (rate &&
            (!json_is_number(rate) || json_number_value(rate) < 0 || json_number_value(rate) > 1)) {
            snprintf(err, errlen,
                     "metadata.observability.head_sampling_rate: expected a number from 0 to 1");
            return false;
        }
    }
    if ((v = json_object_get(meta, "tail_consumers"))) {
        size_t i;
        json_t *t;
        if (!json_is_array(v)) {
            snprintf(err, errlen,
                     "metadata.tail_consumers: expected an array of { \"service\": "
                     "\"<worker name>\" }");
            return false;
        }
        json_array_foreach(v, i, t) {
            const char *svc = json_string_value(json_object_get(t, "service"));
            if (!svc || !valid_script_name(svc)) {
                snprintf(err, errlen,
                         "metadata.tail_consumers[%zu].service: expected the name of a Worker", i);
                return false;
            }
        }
    }
    if ((v = json_object_get(meta, "triggers"))) {
        json_t *crons = json_object_get(v, "crons");
        if (!json_is_object(v) || (crons && !json_is_array(crons))) {
            snprintf(err, errlen,
                     "metadata.triggers: expected { \"crons\": [\"<cron expression>\", ...] }");
            return false;
        }
        size_t i;
        json_t *c;
        json_array_foreach(crons, i, c) {
            cron_expr expr;
            char why[200];
            if (!json_is_string(c)) {
                snprintf(err, errlen, "metadata.triggers.crons[%zu]: expected a string", i);
                return false;
            }
            if (cron_parse(json_string_value(c), &expr, why, sizeof why) != 0) {
                snprintf(err, errlen, "metadata.triggers.crons[%zu] (\"%s\"): %s", i,
                         json_string_value(c), why);
                return false;
            }
        }
    }
    if ((v = json_object_get(meta, "routes"))) {
        size_t i;
        json_t *r;
        if (!json_is_array(v)) {
            snprintf(err, errlen, "metadata.routes: expected an array of route patterns");
            return false;
        }
        json_array_foreach(v, i, r) {
            const char *pat = json_string_value(r);
            if (!pat) {
                snprintf(err, errlen,
                         "metadata.routes[%zu]: expected a pattern like \"api.example.com/*\"", i);
                return false;
            }
            route_pattern parsed;
            char why[256];
            if (route_pattern_parse(pat, &parsed, why, sizeof why) != 0) {
                snprintf(err, errlen, "metadata.routes[%zu]: %s", i, why);
                return false;
            }
            route_pattern_free(&parsed);
        }
    }
    return true;
}

static bool is_source_map(const multipart_part *p) {
    if (p->content_type && strncasecmp(p->content_type, "application/source-map", 22) == 0)
        return true;
    size_t n = strlen(p->name);
    return !p->content_type && n > 4 && strcmp(p->name + n - 4, ".map") == 0;
}

/* POST .../versions and PUT .../scripts/{name}: a new version, deployed at 100% with deploy. */
static void upload(api_call *a, const char *script, bool deploy) {
    control *c = a->c;
    if (!valid_script_name(script)) {
        api_fail(a, 400, CODE_VALIDATION,
                 "script name \"%s\": expected lowercase letters, digits, '-' and '_' (at most 63)",
                 script);
        return;
    }
    size_t ct_len;
    const char *ct = http_request_header(a->req, "content-type", &ct_len);
    char err[1024] = "";
    char *ctype = ct ? xmemdup0(ct, ct_len) : NULL;
    char *boundary = ctype ? multipart_boundary(ctype, err, sizeof err) : NULL;
    free(ctype);
    if (!boundary) {
        api_fail(a, 400, CODE_VALIDATION, "Content-Type: %s",
                 err[0] ? err : "expected multipart/form-data");
        return;
    }
    multipart mp;
    int prc = multipart_parse(a->req->body.data ? a->req->body.data : "", a->req->body.len,
                              boundary, &mp, err, sizeof err);
    free(boundary);
    if (prc != 0) {
        api_fail(a, 400, CODE_VALIDATION, "multipart body: %s", err);
        return;
    }
    const multipart_part *meta_part = multipart_find(&mp, "metadata");
    json_error_t jerr;
    json_t *meta = meta_part ? json_loadb(meta_part->data, meta_part->len, 0, &jerr) : NULL;
    if (!meta_part) {
        api_fail(a, 400, CODE_VALIDATION, "metadata: missing the \"metadata\" part");
    } else if (!json_is_object(meta)) {
        api_fail(a, 400, CODE_VALIDATION, "metadata: not a JSON object (%s at line %d, column %d)",
                 meta ? "an array or a value" : jerr.text, jerr.line, jerr.column);
    } else if (!check_metadata(meta, err, sizeof err)) {
        api_fail(a, 400, CODE_VALIDATION, "%s", err);
    } else {
        goto valid;
    }
    json_decref(meta);
    multipart_free(&mp);
    return;
valid:;
    /* Modules and source maps from the other parts. */
    const char *main = json_string_value(json_object_get(meta, "main_module"));
    control_module *modules = xcalloc(mp.count + 1, sizeof *modules);
    control_module *maps = xcalloc(mp.count + 1, sizeof *maps);
    size_t n = 0, map_count = 0;
    sourcemap_set *source_maps = NULL;
    bool have_main = false, bad = false;
    for (size_t i = 0; i < mp.count && !bad; i++) {
        const multipart_part *p = &mp.parts[i];
        if (strcmp(p->name, "metadata") == 0) continue;
        if (is_source_map(p)) {
            maps[map_count++] = (control_module){p->name, JS_MODULE_DATA, p->data, p->len};
            continue;
        }
        int kind = control_kind_for_content_type(p->content_type);
        if (kind < 0) {
            api_fail(a, 400, CODE_VALIDATION,
                     "module \"%s\": unsupported Content-Type \"%s\" (see the upload format in "
                     "docs/api.md)",
                     p->name, p->content_type ? p->content_type : "(none)");
            bad = true;
            break;
        }
        if (strcmp(p->name, main) == 0) have_main = true;
        modules[n++] = (control_module){p->name, (js_module_kind)kind, p->data, p->len};
    }
    if (!bad && !have_main) {
        api_fail(a, 400, CODE_VALIDATION, "metadata.main_module: no module part is named \"%s\"",
                 main);
        bad = true;
    }
    /* Compile and run the top-level code once: what does not load is rejected here. */
    /* Optional metadata fields, with shared empty defaults (released at the end). */
    json_t *no_array = json_array(), *no_object = json_object();
    json_t *bindings =
        json_object_get(meta, "bindings") ? json_object_get(meta, "bindings") : no_array;
    json_t *flags = json_object_get(meta, "compatibility_flags")
                        ? json_object_get(meta, "compatibility_flags")
                        : no_array;
    json_t *annotations =
        json_object_get(meta, "annotations") ? json_object_get(meta, "annotations") : no_object;
    /* Stored with the version, shown with its runtime settings, read by the data plane. */
    json_t *observability = json_object_get(meta, "observability");
    json_t *settings =
        json_pack("{s:{s:b, s:f}, s:O}", "observability", "enabled",
                  json_is_true(json_object_get(observability, "enabled")), "head_sampling_rate",
                  json_is_number(json_object_get(observability, "head_sampling_rate"))
                      ? json_number_value(json_object_get(observability, "head_sampling_rate"))
                      : 1.0,
                  "tail_consumers",
                  json_object_get(meta, "tail_consumers") ? json_object_get(meta, "tail_consumers")
                                                          : no_array);
    json_t *crons = json_object_get(json_object_get(meta, "triggers"), "crons");
    json_object_set_new(settings, "triggers",
                        json_pack("{s:O}", "crons", crons ? crons : no_array));
    json_t *draft = NULL;
    worker_version *v = NULL;
    char *error = NULL;
    if (!bad) {
        draft = json_pack("{s:s, s:I, s:{s:s}, s:O, s:{s:{s:s}, s:{s:O, s:{s:I}}}, s:O}", "id",
                          "00000000-0000-0000-0000-000000000000", "number", (json_int_t)0,
                          "metadata", "created_on", "", "annotations", annotations, "resources",
                          "script", "main_module", main, "script_runtime", "compatibility_date",
                          json_object_get(meta, "compatibility_date")
                              ? json_object_get(meta, "compatibility_date")
                              : json_null(),
                          "limits", "cpu_ms",
                          (json_int_t)json_integer_value(
                              json_object_get(json_object_get(meta, "limits"), "cpu_ms")),
                          "_bindings", bindings);
        v = control_compile(c, script, draft, modules, n, &error);
        if (v && control_trial_run(c, v, &error) != 0) {
            worker_version_unref(v);
            v = NULL;
        }
        if (!v) {
            api_fail(a, 400, CODE_VALIDATION, "%s",
                     error ? error : "the upload could not be compiled");
            bad = true;
        }
        free(error);
        if (v) worker_version_unref(v); /* recompiled below with its real id */
        error = NULL;
        if (!bad &&
            control_decode_source_maps(maps, map_count, modules, n, &source_maps, &error) != 0) {
            api_fail(a, 400, CODE_VALIDATION, "%s", error);
            bad = true;
        }
        free(error);
        json_decref(draft);
    }
    /* Blobs, then the version (and deployment) in one transaction. */
    json_t *stored_modules = json_array();
    buf etag_input = {0};
    for (size_t i = 0; i < mp.count && !bad; i++) {
        const multipart_part *p = &mp.parts[i];
        if (strcmp(p->name, "metadata") == 0) continue;
        char hash[65];
        if (store_blob_put(c->store, p->data, p->len, hash, err, sizeof err) != 0) {
            api_fail(a, 500, CODE_INTERNAL, "storing module \"%s\": %s", p->name, err);
            bad = true;
            break;
        }
        const char *type = is_source_map(p) ? "application/source-map" : p->content_type;
        json_t *entry = json_pack("{s:s, s:s, s:s, s:I}", "name", p->name, "content_type", type,
                                  "blob", hash, "size", (json_int_t)p->len);
        /* The main module first, so a stored version lists its entry as modules[0]. */
        if (strcmp(p->name, main) == 0)
            json_array_insert_new(stored_modules, 0, entry);
        else
            json_array_append_new(stored_modules, entry);
        buf_puts(&etag_input, hash);
    }
    if (!bad) {
        char etag[65];
        unsigned char md[32];
        unsigned int mdlen;
        EVP_Digest(etag_input.data ? etag_input.data : "", etag_input.len, md, &mdlen, EVP_sha256(),
                   NULL);
        for (int i = 0; i < 32; i++) sprintf(etag + 2 * i, "%02x", md[i]);
        store_new_version nv = {
            .script = script,
            .main_module = main,
            .bindings = bindings,
            .compatibility_date = json_string_value(json_object_get(meta, "compatibility_date")),
            .compatibility_flags = flags,
            .annotations = json_object_get(meta, "annotations"),
            .triggered_by = deploy ? "create" : "upload",
            .cpu_ms = (int64_t)json_integer_value(
                json_object_get(json_object_get(meta, "limits"), "cpu_ms")),
            .routes = json_object_get(meta, "routes"),
            .modules = stored_modules,
            .etag = etag,
            .settings = settings,
        };
        char *deployment_id = NULL;
        json_t *version =
            store_create_version(c->store, &nv, &a->actor, deploy, &deployment_id, err, sizeof err);
        if (!version) {
            api_fail(a, 500, CODE_INTERNAL, "%s", err);
        } else {
            /* Compile under its real id and put it live (previews now; traffic if deployed). */
            worker_version *live = control_compile(c, script, version, modules, n, &error);
            free(error);
            if (live) {
                live->source_maps = source_maps;
                source_maps = NULL;
                control_add_version(c, live);
            }
            control_publish(c);
            if (deploy) {
                json_t *result = store_script(c->store, script);
                json_object_set(result, "version_id", json_object_get(version, "id"));
                json_object_set_new(result, "deployment_id", json_string(deployment_id));
                json_decref(version);
                api_ok(a, result);
            } else {
                api_ok(a, version);
            }
        }
        free(deployment_id);
    }
    buf_free(&etag_input);
    json_decref(stored_modules);
    json_decref(settings);
    json_decref(no_array);
    json_decref(no_object);
    free(modules);
    free(maps);
    if (source_maps) sourcemap_set_free(source_maps);
    json_decref(meta);
    multipart_free(&mp);
}

/* ---- deployments ------------------------------------------------------------------------- */

static void create_deployment(api_call *a, const char *script) {
    control *c = a->c;
    json_error_t jerr;
    json_t *body =
        json_loadb(a->req->body.data ? a->req->body.data : "", a->req->body.len, 0, &jerr);
    char err[512];
    if (!json_is_object(body)) {
        api_fail(a, 400, CODE_VALIDATION, "body: expected a JSON object (%s)",
                 body ? "not an object" : jerr.text);
        json_decref(body);
        return;
    }
    json_t *strategy = json_object_get(body, "strategy");
    json_t *versions = json_object_get(body, "versions");
    json_t *annotations = json_object_get(body, "annotations");
    json_t *message = annotations ? json_object_get(annotations, "workers/message") : NULL;
    const char *problem = NULL;
    if (!json_is_string(strategy) || strcmp(json_string_value(strategy), "percentage") != 0)
        problem = "strategy: must be \"percentage\"";
    else if (!json_is_array(versions) || json_array_size(versions) < 1 ||
             json_array_size(versions) > 2)
        problem = "versions: expected an array of 1 or 2 {version_id, percentage} objects";
    else if (annotations && !json_is_object(annotations))
        problem = "annotations: expected an object";
    else if (message && (!json_is_string(message) || strlen(json_string_value(message)) > 1000))
        problem = "annotations[\"workers/message\"]: expected a string of at most 1000 characters";
    if (problem) {
        api_fail(a, 400, CODE_VALIDATION, "%s", problem);
        json_decref(body);
        return;
    }
    double total = 0;
    json_t *clean = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(versions, i, e) {
        const char *id = json_string_value(json_object_get(e, "version_id"));
        json_t *pct = json_object_get(e, "percentage");
        if (!id) {
            snprintf(err, sizeof err, "versions[%zu].version_id: required, a version id of %s", i,
                     script);
        } else if (!json_is_number(pct) || json_number_value(pct) < 0 ||
                   json_number_value(pct) > 100 || isnan(json_number_value(pct))) {
            snprintf(err, sizeof err, "versions[%zu].percentage: expected a number from 0 to 100",
                     i);
        } else if (i == 1 && strcmp(id, json_string_value(json_object_get(
                                            json_array_get(versions, 0), "version_id"))) == 0) {
            snprintf(err, sizeof err, "versions[1].version_id: the same version is listed twice");
        } else {
            json_t *v = store_version(c->store, script, id);
            if (!v) {
                snprintf(err, sizeof err, "versions[%zu].version_id: %s has no version %s", i,
                         script, id);
            } else {
                err[0] = '\0';
                json_decref(v);
            }
        }
        if (err[0]) {
            api_fail(a, 400, CODE_VALIDATION, "%s", err);
            json_decref(clean);
            json_decref(body);
            return;
        }
        total += json_number_value(pct);
        json_array_append_new(clean, json_pack("{s:s, s:O}", "version_id", id, "percentage", pct));
    }
    if (fabs(total - 100.0) > 1e-9) {
        api_fail(a, 400, CODE_VALIDATION, "versions: the percentages add up to %g, not 100", total);
        json_decref(clean);
        json_decref(body);
        return;
    }
    json_t *ann = json_object();
    if (message) json_object_set(ann, "workers/message", message);
    json_t *dep = store_create_deployment(c->store, script, clean, ann, &a->actor, err, sizeof err);
    json_decref(ann);
    json_decref(clean);
    json_decref(body);
    if (!dep) {
        api_fail(a, 500, CODE_INTERNAL, "%s", err);
        return;
    }
    control_publish(c); /* live on every thread before the answer */
    api_ok(a, dep);
}

/* ---- analytics ----------------------------------------------------------------------------- */

bool api_parse_time(const char *s, uint64_t *ms) {
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!rest) return false;
    double frac = 0;
    if (*rest == '.') frac = strtod(rest, (char **)&rest);
    int64_t offset_min = 0;
    if (*rest == '+' || *rest == '-') {
        int h, m;
        if (strlen(rest) != 6 || sscanf(rest + 1, "%2d:%2d", &h, &m) != 2 || rest[3] != ':' ||
            h > 23 || m > 59)
            return false;
        offset_min = (rest[0] == '-' ? -1 : 1) * (h * 60 + m);
        rest += 6;
    } else if (*rest == 'Z' || *rest == 'z') {
        rest++;
    }
    if (*rest != '\0') return false;
    int64_t t = (int64_t)timegm(&tm) - offset_min * 60;
    if (t < 0) return false;
    *ms = (uint64_t)t * 1000u + (uint64_t)(frac * 1000);
    return true;
}

static void analytics(api_call *a, const char *script) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t until = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    uint64_t since = until - 3600u * 1000u;
    const char *s = api_query(a, "since"), *u = api_query(a, "until");
    if ((s && !api_parse_time(s, &since)) || (u && !api_parse_time(u, &until))) {
        api_fail(a, 400, CODE_VALIDATION,
                 "%s: expected an RFC 3339 time such as 2026-11-22T12:00:00Z",
                 s && !api_parse_time(s, &since) ? "since" : "until");
        return;
    }
    buf out = {0};
    metrics_analytics_json(a->c->cfg.metrics, script, api_query(a, "version_id"), since, until,
                           &out);
    json_error_t jerr;
    json_t *result = json_loadb(out.data ? out.data : "{}", out.len, 0, &jerr);
    buf_free(&out);
    api_ok(a, result ? result : json_object());
}

/* ---- routing ----------------------------------------------------------------------------- */

static bool method_is(api_call *a, const char *m) {
    return strcmp(a->method, m) == 0;
}

static void not_allowed(api_call *a) {
    api_fail(a, 405, CODE_METHOD, "%s is not allowed on this path", a->method);
}

static void script_routes(api_call *a, const char *script, size_t rest) {
    control *c = a->c;
    /* The script itself. */
    if (rest == a->segment_count) {
        if (method_is(a, "PUT")) {
            upload(a, script, true);
        } else if (method_is(a, "DELETE")) {
            json_t *existing = store_script(c->store, script);
            char err[256];
            if (!existing) {
                api_fail(a, 404, CODE_NOT_FOUND, "no script named %s", script);
            } else if (store_delete_script(c->store, script, &a->actor, err, sizeof err) != 0) {
                api_fail(a, 500, CODE_INTERNAL, "%s", err);
            } else {
                control_forget_script(c, script);
                control_tails_end_script(c, script);
                control_publish(c);
                api_ok(a, json_null());
            }
            json_decref(existing);
        } else if (method_is(a, "GET")) {
            json_t *s = store_script(c->store, script);
            if (s)
                api_ok(a, s);
            else
                api_fail(a, 404, CODE_NOT_FOUND, "no script named %s", script);
        } else {
            not_allowed(a);
        }
        return;
    }
    /* Uploading a version creates the script; everything else needs it to exist. */
    bool exists = true;
    json_t *s = store_script(c->store, script);
    if (!s) exists = false;
    json_decref(s);
    const char *what = a->segments[rest];
    if (strcmp(what, "versions") == 0 && rest + 1 == a->segment_count && method_is(a, "POST")) {
        upload(a, script, false);
        return;
    }
    if (!exists) {
        api_fail(a, 404, CODE_NOT_FOUND, "no script named %s", script);
        return;
    }
    if (strcmp(what, "versions") == 0) {
        if (rest + 1 == a->segment_count) {
            if (method_is(a, "GET"))
                api_ok(a, json_pack("{s:o}", "items", store_versions(c->store, script)));
            else
                not_allowed(a);
        } else if (rest + 2 == a->segment_count && method_is(a, "GET")) {
            json_t *v = store_version(c->store, script, a->segments[rest + 1]);
            if (v)
                api_ok(a, v);
            else
                api_fail(a, 404, CODE_NOT_FOUND, "%s has no version %s", script,
                         a->segments[rest + 1]);
        } else {
            api_fail(a, 404, CODE_NOT_FOUND, "no such path");
        }
    } else if (strcmp(what, "deployments") == 0) {
        if (rest + 1 == a->segment_count) {
            if (method_is(a, "GET"))
                api_ok(a, json_pack("{s:o}", "deployments", store_deployments(c->store, script)));
            else if (method_is(a, "POST"))
                create_deployment(a, script);
            else
                not_allowed(a);
        } else if (rest + 2 == a->segment_count && method_is(a, "GET")) {
            json_t *d = store_deployment(c->store, script, a->segments[rest + 1]);
            if (d)
                api_ok(a, d);
            else
                api_fail(a, 404, CODE_NOT_FOUND, "%s has no deployment %s", script,
                         a->segments[rest + 1]);
        } else {
            api_fail(a, 404, CODE_NOT_FOUND, "no such path");
        }
    } else if (strcmp(what, "logs") == 0 && rest + 1 == a->segment_count) {
        api_logs(a, script);
    } else if (strcmp(what, "tails") == 0) {
        api_tails(a, script, rest + 1);
    } else if (strcmp(what, "analytics") == 0 && rest + 1 == a->segment_count) {
        if (method_is(a, "GET"))
            analytics(a, script);
        else
            not_allowed(a);
    } else {
        api_fail(a, 404, CODE_NOT_FOUND, "no such path");
    }
}

static void route(api_call *a) {
    control *c = a->c;
    if (seg_is(a, 0, "user") && seg_is(a, 1, "tokens") && seg_is(a, 2, "verify") &&
        a->segment_count == 3) {
        api_ok(a, json_pack("{s:s, s:s}", "id", a->token_id, "status", "active"));
        return;
    }
    if (!seg_is(a, 0, "accounts")) {
        api_fail(a, 404, CODE_NOT_FOUND, "no such path");
        return;
    }
    if (a->segment_count == 1) {
        api_ok(a, json_pack("[{s:s, s:s}]", "id", store_account_id(c->store), "name", "hearth"));
        return;
    }
    if (strcmp(a->segments[1], store_account_id(c->store)) != 0) {
        api_fail(a, 404, CODE_NOT_FOUND, "no account %s", a->segments[1]);
        return;
    }
    if (seg_is(a, 2, "audit_logs") && a->segment_count == 3) {
        const char *limit = api_query(a, "limit");
        api_ok(a, store_audit(c->store, api_query(a, "script"), limit ? atoi(limit) : 100));
        return;
    }
    if (!seg_is(a, 2, "workers") || !seg_is(a, 3, "scripts")) {
        api_fail(a, 404, CODE_NOT_FOUND, "no such path");
        return;
    }
    if (a->segment_count == 4) {
        if (method_is(a, "GET"))
            api_ok(a, store_scripts(c->store));
        else
            not_allowed(a);
        return;
    }
    script_routes(a, a->segments[4], 5);
}

void api_handle(control *c, http_request *req) {
    api_call a;
    memset(&a, 0, sizeof a);
    a.c = c;
    a.req = req;
    a.method = req->method;
    const char *t = req->target.data ? req->target.data : "/";
    if (strcmp(t, "/metrics") == 0 || strncmp(t, "/metrics?", 9) == 0) {
        buf out = {0};
        metrics_render_prometheus(c->cfg.metrics, &out);
        if (c->cfg.server && c->cfg.server->ratelimiter)
            ratelimiter_render_prometheus(c->cfg.server->ratelimiter, &out);
        http_respond(req, 200, NULL, "content-type: text/plain; version=0.0.4\r\n", 41,
                     out.data ? out.data : "", out.len);
        buf_free(&out);
        return;
    }
    parse_target(&a);
    if (authenticate(&a)) route(&a);
    for (size_t i = 0; i < a.segment_count; i++) free(a.segments[i]);
    json_decref(a.query);
}
