#include "cli/client.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "cli/cli.h"
#include "cli/table.h"
#include "config/wrangler.h"

/* ---- options ----------------------------------------------------------------------------- */

int client_option(int argc, char **argv, int *i, const char *name, const char *alias,
                  const char **value) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) == 0 && a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (strcmp(a, name) != 0 && !(alias && strcmp(a, alias) == 0)) return 0;
    if (*i + 1 >= argc) return -1;
    *value = argv[++*i];
    return 1;
}

bool client_utf8(const char *s) {
    json_t *j = json_string(s);
    if (!j) return false;
    json_decref(j);
    return true;
}

int client_missing_value(const char *usage, const char *option) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s needs a value", option);
    return cli_usage_error(usage, msg);
}

int client_bad_argument(const char *usage, const char *arg) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s %.200s",
             arg[0] == '-' && arg[1] ? "unknown option" : "unexpected argument", arg);
    return cli_usage_error(usage, msg);
}

/* ---- the script -------------------------------------------------------------------------- */

char *client_script_name(const char *name, const char *dir) {
    if (name) {
        if (!*name) {
            fprintf(stderr, "hearth: --name needs a Worker name\n");
            return NULL;
        }
        return xstrdup(name);
    }
    worker_config cfg;
    config_diag d = {0};
    char *out = NULL;
    /* Only the name is needed here; warnings about other keys were shown by `deploy`. */
    if (worker_config_load(dir, cli_environment(), &cfg, &d) == 0 && cfg.name) {
        out = xstrdup(cfg.name);
    } else {
        if (d.text.len) fputs(d.text.data, stderr);
        fprintf(stderr, "hearth: cannot tell which Worker: give --name NAME, or run this in the "
                        "Worker's project directory (the one with its wrangler.toml)\n");
    }
    worker_config_free(&cfg);
    config_diag_free(&d);
    return out;
}

/* ---- prompts ----------------------------------------------------------------------------- */

bool client_interactive(void) {
    return isatty(STDIN_FILENO) == 1;
}

/* While a hidden prompt has echo off, an interrupt must turn it back on, or the user's shell
 * is left without echo. */
static struct termios saved_termios;

static void restore_echo(int sig) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
    signal(sig, SIG_DFL);
    raise(sig);
}

char *client_read_line(const char *prompt, bool hidden) {
    bool hooked = hidden && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_termios) == 0;
    struct sigaction old_int, old_term;
    if (hooked) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = restore_echo;
        sigaction(SIGINT, &sa, &old_int);
        sigaction(SIGTERM, &sa, &old_term);
        struct termios t = saved_termios;
        t.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
    }
    /* Only now: whatever is typed after the prompt appears must not be echoed. */
    fputs(prompt, stderr);
    fflush(stderr);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (hooked) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        fputc('\n', stderr); /* the newline the user typed was not echoed */
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    return line;
}

bool client_confirm(const char *question) {
    char prompt[256];
    snprintf(prompt, sizeof prompt, "%s (y/N) ", question);
    char *answer = client_read_line(prompt, false);
    if (!answer) {
        fputc('\n', stderr);
        return false;
    }
    char *a = answer;
    while (isspace((unsigned char)*a)) a++;
    size_t n = strlen(a);
    while (n && isspace((unsigned char)a[n - 1])) a[--n] = '\0';
    bool yes = !strcasecmp(a, "y") || !strcasecmp(a, "yes");
    free(answer);
    return yes;
}

int client_refuse_without_tty(const char *what) {
    fprintf(stderr,
            "hearth: not %s: stdin is not a terminal, so hearth cannot ask for confirmation; "
            "pass -y (--yes) to go ahead without asking\n",
            what);
    return 2;
}

/* ---- output ------------------------------------------------------------------------------ */

void client_print_json(const json_t *v) {
    char *text = json_dumps(v ? v : json_null(), JSON_INDENT(2) | JSON_ENCODE_ANY);
    printf("%s\n", text ? text : "null");
    free(text);
}

char *client_time(const char *s) {
    if (!s) return NULL;
    if (strlen(s) >= 19 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':') {
        char *out = xstrndup(s, 19);
        out[10] = ' ';
        return out;
    }
    return xstrdup(s);
}

void client_format_percent(double pct, char *out, size_t outlen) {
    snprintf(out, outlen, "%.10g", pct);
}

/* ---- versions and deployments ------------------------------------------------------------ */

json_t *client_list_versions(api_client *c, const char *script) {
    char *path = api_script_path(c, script, "/versions", NULL);
    json_t *result = api_call(c, "GET", path, NULL, NULL, 0);
    free(path);
    if (!result) return NULL;
    json_t *items = json_object_get(result, "items");
    if (!json_is_array(items)) {
        fprintf(stderr, "hearth: the control API's list of versions has no \"items\" array\n");
        json_decref(result);
        return NULL;
    }
    json_incref(items);
    json_decref(result);
    return items;
}

static void print_version_line(FILE *out, json_t *v) {
    json_t *num = json_object_get(v, "number");
    char *created = client_time(json_str(json_object_get(v, "metadata"), "created_on"));
    char *id = term_clean(json_str(v, "id"), false, 64);
    char *tag = term_clean(json_str(json_object_get(v, "annotations"), "workers/tag"), false, 40);
    if (json_is_integer(num))
        fprintf(out, "  %s  #%lld  %s  tag %s\n", id, (long long)json_integer_value(num),
                created ? created : "-", tag);
    else
        fprintf(out, "  %s  %s  tag %s\n", id, created ? created : "-", tag);
    free(created);
    free(id);
    free(tag);
}

json_t *client_find_version(json_t *items, const char *ref, const char *script) {
    size_t i, matches = 0, n = strlen(ref);
    json_t *v, *found = NULL;
    if (n == 0) {
        fprintf(stderr, "hearth: an empty version id matches nothing\n");
        return NULL;
    }
    json_array_foreach(items, i, v) {
        const char *id = json_str(v, "id");
        if (id && strcasecmp(id, ref) == 0) return v;
    }
    json_array_foreach(items, i, v) {
        const char *id = json_str(v, "id");
        if (id && strncasecmp(id, ref, n) == 0) found = v, matches++;
    }
    if (matches == 1) return found;
    char *shown = term_clean(ref, false, 64);
    if (matches == 0) {
        fprintf(stderr, "hearth: no version of %s has an id starting with \"%s\"", script, shown);
        if (json_array_size(items) == 0) {
            fprintf(stderr, "; it has no versions\n");
        } else {
            fprintf(stderr, "; its most recent versions are:\n");
            json_array_foreach(items, i, v) {
                if (i == 10) break;
                print_version_line(stderr, v);
            }
        }
    } else {
        fprintf(stderr,
                "hearth: \"%s\" is ambiguous: %zu versions of %s have ids starting with "
                "it:\n",
                shown, matches, script);
        json_array_foreach(items, i, v) {
            const char *id = json_str(v, "id");
            if (id && strncasecmp(id, ref, n) == 0) print_version_line(stderr, v);
        }
        fprintf(stderr, "Give more characters of the id.\n");
    }
    free(shown);
    return NULL;
}

static json_t *version_by_id(json_t *items, const char *id) {
    size_t i;
    json_t *v;
    json_array_foreach(items, i, v) {
        const char *vid = json_str(v, "id");
        if (vid && id && strcmp(vid, id) == 0) return v;
    }
    return NULL;
}

/* The table of a deployment's versions: percentage, id, and what `versions` know of each. */
static table *split_table(json_t *splits, json_t *versions) {
    static const char *const headers[] = {"PERCENT", "VERSION ID", "NUMBER",
                                          "CREATED", "TAG",        "MESSAGE"};
    table *t = table_new(6, headers);
    size_t i;
    json_t *s;
    json_array_foreach(splits, i, s) {
        const char *id = json_str(s, "version_id");
        json_t *pct = json_object_get(s, "percentage");
        json_t *v = version_by_id(versions, id);
        json_t *ann = json_object_get(v, "annotations");
        json_t *num = json_object_get(v, "number");
        char pbuf[32] = "-";
        if (json_is_number(pct)) {
            client_format_percent(json_number_value(pct), pbuf, sizeof pbuf - 1);
            strcat(pbuf, "%");
        }
        table_row(t);
        table_cell(t, pbuf, 0);
        table_cell(t, id, 64);
        if (json_is_integer(num))
            table_cellf(t, "%lld", (long long)json_integer_value(num));
        else
            table_cell(t, NULL, 0);
        char *created = client_time(json_str(json_object_get(v, "metadata"), "created_on"));
        table_cell(t, created, 0);
        free(created);
        table_cell(t, json_str(ann, "workers/tag"), 24);
        table_cell(t, json_str(ann, "workers/message"), 48);
    }
    return t;
}

void client_print_splits(FILE *out, json_t *splits, json_t *versions, int indent) {
    table *t = split_table(splits, versions);
    table_print(t, out, indent);
    table_free(t);
}

/* What a deployment result says, for people. */
static void print_deployment_result(const char *script, json_t *dep, json_t *versions) {
    char *name = term_clean(script, false, 0);
    printf("Deployed %s\n", name);
    client_print_splits(stdout, json_object_get(dep, "versions"), versions, 2);
    char *id = term_clean(json_str(dep, "id"), false, 64);
    printf("Current Deployment ID: %s\n", id);
    free(id);
    free(name);
}

int client_deploy(api_client *c, const char *script, const deploy_split *splits, size_t n,
                  const char *message, bool yes, bool json, json_t *versions) {
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        double p = splits[i].percentage;
        /* Whole numbers go as integers: what people expect to read back. */
        json_t *pct = p == (double)(long long)p ? json_integer((long long)p) : json_real(p);
        json_array_append_new(
            list, json_pack("{s:s, s:o}", "version_id", splits[i].version_id, "percentage", pct));
    }
    if (!yes) {
        if (!client_interactive()) {
            json_decref(list);
            return client_refuse_without_tty("deploying");
        }
        char *name = term_clean(script, false, 0);
        fprintf(stderr, "New deployment of %s:\n", name);
        free(name);
        client_print_splits(stderr, list, versions, 2);
        if (message) {
            char *m = term_clean(message, false, 0);
            fprintf(stderr, "  Message: %s\n", m);
            free(m);
        }
        if (!client_confirm("Deploy?")) {
            fprintf(stderr, "Not deployed.\n");
            json_decref(list);
            return 1;
        }
    }
    json_t *body = json_pack("{s:s, s:o}", "strategy", "percentage", "versions", list);
    if (message)
        json_object_set_new(body, "annotations", json_pack("{s:s}", "workers/message", message));
    char *path = api_script_path(c, script, "/deployments", NULL);
    json_t *dep = api_call(c, "POST", path, body, NULL, 0);
    free(path);
    json_decref(body);
    if (!dep) return 1;
    if (json)
        client_print_json(dep);
    else
        print_deployment_result(script, dep, versions);
    json_decref(dep);
    return 0;
}
