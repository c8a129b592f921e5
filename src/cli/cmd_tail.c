/* hearth tail — a Worker's trace events live, as they happen: creates a tail session through
 * the control API (POST .../tails), connects its WebSocket, sends the filters, and prints each
 * event like `wrangler tail` (or as JSON lines) until Ctrl-C, which deletes the session. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/table.h"
#include "cli/trace_print.h"
#include "net/websocket_client.h"

static const char kTailUsage[] =
    "Usage: hearth tail [<worker>] [options]\n"
    "\n"
    "Streams the Worker's trace events live: an event per invocation (the request, its\n"
    "outcome, what the code logged, exceptions with source-mapped stacks). Ctrl-C stops.\n"
    "More than 100 events a second are sampled; the stream says so.\n"
    "\n"
    "Options:\n"
    "  --name NAME          the Worker (default: the one named in ./wrangler.toml)\n"
    "  --format F           pretty (default) or json (one event per line)\n"
    "  --status S           only ok, error (exceptions and exceeded limits) or canceled;\n"
    "                       may be repeated\n"
    "  --method M           only requests with that method; may be repeated\n"
    "  --header K:V         only requests with header K containing V (K alone: having K)\n"
    "  --search S           only events whose logs, exceptions or URL contain S\n"
    "  --ip IP              only requests from that client address; may be repeated\n"
    "  --version-id ID      only events of that version (an id, or a prefix only it has)\n"
    "  --sampling-rate R    keep a share R (0 < R <= 1) of the matching events\n"
    "  -h, --help           show this help\n";

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

typedef struct tail_args {
    const char *name, *format, *header, *search, *version, *sampling;
    json_t *statuses, *methods, *ips; /* arrays of strings */
} tail_args;

static void args_free(tail_args *a) {
    json_decref(a->statuses);
    json_decref(a->methods);
    json_decref(a->ips);
}

/* Parses the arguments; -1 when they are fine, else the exit status. */
static int parse_args(int argc, char **argv, tail_args *a) {
    a->statuses = json_array();
    a->methods = json_array();
    a->ips = json_array();
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *v = NULL;
        int r;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            fputs(kTailUsage, stdout);
            return 0;
        }
        static const char *const kValued[] = {"--name",   "--format",     "--status",
                                              "--method", "--header",     "--search",
                                              "--ip",     "--version-id", "--sampling-rate"};
        bool matched = false;
        for (size_t k = 0; k < sizeof kValued / sizeof kValued[0] && !matched; k++) {
            if ((r = client_option(argc, argv, &i, kValued[k], NULL, &v)) == 0) continue;
            if (r < 0) return client_missing_value(kTailUsage, kValued[k]);
            matched = true;
            const char *opt = kValued[k];
            if (!strcmp(opt, "--name"))
                a->name = v;
            else if (!strcmp(opt, "--format"))
                a->format = v;
            else if (!strcmp(opt, "--status"))
                json_array_append_new(a->statuses, json_string(v));
            else if (!strcmp(opt, "--method"))
                json_array_append_new(a->methods, json_string(v));
            else if (!strcmp(opt, "--header"))
                a->header = v;
            else if (!strcmp(opt, "--search"))
                a->search = v;
            else if (!strcmp(opt, "--ip"))
                json_array_append_new(a->ips, json_string(v));
            else if (!strcmp(opt, "--version-id"))
                a->version = v;
            else
                a->sampling = v;
        }
        if (matched) continue;
        if (arg[0] == '-' || a->name) return client_bad_argument(kTailUsage, arg);
        a->name = arg;
    }
    if (a->format && strcmp(a->format, "pretty") != 0 && strcmp(a->format, "json") != 0)
        return cli_usage_error(kTailUsage, "--format is pretty or json");
    return -1;
}

/* The filters message of Cloudflare's tail protocol. NULL after a usage error (*status). */
static json_t *build_filters(const tail_args *a, const char *version_id, int *status) {
    json_t *filters = json_array();
    if (json_array_size(a->statuses)) {
        json_t *outcomes = json_array();
        size_t i;
        json_t *s;
        json_array_foreach(a->statuses, i, s) {
            const char *v = json_string_value(s);
            if (!strcmp(v, "ok")) {
                json_array_append_new(outcomes, json_string("ok"));
            } else if (!strcmp(v, "error")) {
                json_array_append_new(outcomes, json_string("exception"));
                json_array_append_new(outcomes, json_string("exceededCpu"));
                json_array_append_new(outcomes, json_string("exceededMemory"));
            } else if (!strcmp(v, "canceled")) {
                json_array_append_new(outcomes, json_string("canceled"));
            } else {
                json_decref(outcomes);
                json_decref(filters);
                *status = cli_usage_error(kTailUsage, "--status is ok, error or canceled");
                return NULL;
            }
        }
        json_array_append_new(filters, json_pack("{s:o}", "outcome", outcomes));
    }
    if (json_array_size(a->methods))
        json_array_append_new(filters, json_pack("{s:O}", "method", a->methods));
    if (json_array_size(a->ips))
        json_array_append_new(filters, json_pack("{s:O}", "client_ip", a->ips));
    if (a->header) {
        const char *colon = strchr(a->header, ':');
        char *key = colon ? xstrndup(a->header, (size_t)(colon - a->header)) : xstrdup(a->header);
        const char *value = colon ? colon + 1 : NULL;
        while (value && *value == ' ') value++;
        json_t *h = json_pack("{s:s}", "key", key);
        if (value) json_object_set_new(h, "query", json_string(value));
        json_array_append_new(filters, json_pack("{s:o}", "header", h));
        free(key);
    }
    if (a->search) json_array_append_new(filters, json_pack("{s:s}", "query", a->search));
    if (version_id) json_array_append_new(filters, json_pack("{s:[s]}", "version_id", version_id));
    if (a->sampling) {
        char *end;
        double r = strtod(a->sampling, &end);
        if (*end || !(r > 0 && r <= 1)) {
            json_decref(filters);
            *status = cli_usage_error(kTailUsage, "--sampling-rate is a number above 0, at most 1");
            return NULL;
        }
        json_array_append_new(filters, json_pack("{s:f}", "sampling_rate", r));
    }
    return json_pack("{s:o, s:b}", "filters", filters, "debug", 0);
}

typedef struct printer {
    bool json;
    bool ready; /* the server applied the filters */
    const char *shown;
} printer;

static void on_message(void *ud, ws_opcode op, const uint8_t *data, size_t len) {
    printer *p = ud;
    if (op != WS_TEXT) return;
    json_t *msg = json_loadb((const char *)data, len, 0, NULL);
    if (!json_is_object(msg)) {
        json_decref(msg);
        return;
    }
    const char *type = json_str(msg, "type");
    if (type && !strcmp(type, "filters")) {
        if (!p->ready)
            fprintf(stderr, "Connected to %s, waiting for events... (Ctrl-C to stop)\n", p->shown);
        p->ready = true;
    } else if (type && (!strcmp(type, "notice") || !strcmp(type, "error"))) {
        char *text = term_clean(json_str(msg, "message") ? json_str(msg, "message") : "", false, 0);
        fprintf(stderr, "%s: %s\n", !strcmp(type, "notice") ? "Notice" : "Error", text);
        free(text);
    } else if (p->json) {
        trace_print_json(msg);
    } else {
        trace_print_pretty(msg);
    }
    fflush(stdout);
    json_decref(msg);
}

int cmd_tail(int argc, char **argv) {
    tail_args a = {0};
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) {
        args_free(&a);
        return rc;
    }
    char *script = client_script_name(a.name, ".");
    api_client c;
    if (!script || api_client_open(&c) != 0) {
        free(script);
        args_free(&a);
        return 1;
    }
    int status = 1;
    json_t *versions = NULL, *filters = NULL, *session = NULL;
    ws_client *ws = NULL;
    char *shown = term_clean(script, false, 0);
    const char *version_id = a.version;
    if (a.version && strlen(a.version) != 36) {
        versions = client_list_versions(&c, script);
        version_id =
            versions ? json_str(client_find_version(versions, a.version, script), "id") : NULL;
        if (!version_id) goto done;
    }
    int usage = 0;
    filters = build_filters(&a, version_id, &usage);
    if (!filters) {
        status = usage;
        goto done;
    }
    char *path = api_script_path(&c, script, "/tails", NULL);
    session = api_call(&c, "POST", path, NULL, NULL, 0);
    free(path);
    const char *url = json_str(session, "url"), *id = json_str(session, "id");
    if (!session) goto done;
    if (!url || !id) {
        fprintf(stderr, "hearth: the control API's answer has no tail session url\n");
        goto done;
    }
    buf headers = {0};
    buf_printf(&headers, "Authorization: Bearer %s\r\n", c.token);
    ws_client_options opt = {.headers = headers.data, .protocols = "trace-v1"};
    char err[512];
    int http_status = 0;
    ws = ws_client_connect(url, &opt, err, sizeof err, &http_status);
    buf_free(&headers);
    if (!ws) {
        char *e = term_clean(err, false, 0);
        fprintf(stderr, "hearth: cannot connect to the tail session: %s\n", e);
        free(e);
        goto end_session;
    }
    char *text = json_dumps(filters, JSON_COMPACT);
    ws_client_send(ws, WS_TEXT, text, strlen(text));
    free(text);
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    printer p = {a.format && !strcmp(a.format, "json"), false, shown};
    bool closing = false;
    for (;;) {
        int r = ws_client_run(ws, 250, on_message, &p, err, sizeof err);
        if (r < 0) {
            char *e = term_clean(err, false, 0);
            fprintf(stderr, "hearth: the tail connection failed: %s\n", e);
            free(e);
            break;
        }
        if (r == 0) {
            const char *reason = NULL;
            size_t reason_len = 0;
            int code = ws_client_close_code(ws, &reason, &reason_len);
            if (closing) {
                status = 0;
            } else {
                char *why = xstrndup(reason ? reason : "", reason_len);
                char *e = term_clean(why, false, 0);
                fprintf(stderr, "The tail session ended (%d%s%s).\n", code, *e ? ": " : "", e);
                free(e);
                free(why);
                status = code == WS_CLOSE_NORMAL ? 0 : 1;
            }
            break;
        }
        if (interrupted && !closing) {
            closing = true;
            ws_client_close(ws, WS_CLOSE_NORMAL, "the client stopped");
        }
    }
    goto done; /* the session ended with its connection */
end_session:
    /* No connection was made: the session would otherwise wait for one until it expires. */
    path = api_script_path(&c, script, "/tails/", id);
    json_decref(api_call(&c, "DELETE", path, NULL, NULL, 0));
    free(path);
done:
    if (ws) ws_client_free(ws);
    json_decref(session);
    json_decref(filters);
    json_decref(versions);
    free(shown);
    api_client_close(&c);
    free(script);
    args_free(&a);
    return status;
}
