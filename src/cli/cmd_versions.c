/* hearth versions — list, view and deploy the versions of a Worker on `hearth serve`
 * (`versions upload` is in cmd_deploy.c, next to `deploy`, since both upload). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/table.h"

static const char kVersionsUsage[] =
    "Usage: hearth versions <command> [options]\n"
    "\n"
    "Commands:\n"
    "  upload [DIR]                       upload a new version without deploying it\n"
    "  list [DIR]                         list the Worker's versions, newest first\n"
    "  view <version-id>                  show one version\n"
    "  deploy <version-id>@<percentage>...  deploy one or two versions (gradual deployment)\n"
    "\n"
    "Run `hearth versions <command> --help` for the options of each.\n";

static const char kListUsage[] =
    "Usage: hearth versions list [DIR] [--name NAME] [--json]\n"
    "\n"
    "Lists the versions of the Worker named in DIR/wrangler.toml (DIR default: the current\n"
    "directory) or named by --name, newest first.\n"
    "\n"
    "Options:\n"
    "  --name NAME   the Worker (instead of the one in DIR)\n"
    "  --json        print the API's result as JSON\n"
    "  -h, --help    show this help\n";

static const char kViewUsage[] =
    "Usage: hearth versions view <version-id> [--name NAME] [--json]\n"
    "\n"
    "Shows one version of the Worker named in ./wrangler.toml or by --name. The id may be\n"
    "shortened to any prefix that only one version has.\n"
    "\n"
    "Options:\n"
    "  --name NAME   the Worker (instead of the one in ./wrangler.toml)\n"
    "  --json        print the API's result as JSON\n"
    "  -h, --help    show this help\n";

static const char kDeployUsage[] =
    "Usage: hearth versions deploy [<version-id>@<percentage>...] [options]\n"
    "\n"
    "Creates a deployment that splits the Worker's traffic between one or two versions, e.g.\n"
    "  hearth versions deploy 5d1f3a2c@90 0b8e44f1@10 -m \"canary 10%\"\n"
    "Version ids may be shortened to any prefix that only one version has. Percentages must\n"
    "add up to 100; a version given without @<percentage> gets what the others leave.\n"
    "On a terminal, hearth shows the deployment and asks before creating it, and without\n"
    "versions asks which ones to deploy.\n"
    "\n"
    "Options:\n"
    "  -m, --message MSG   a message recorded with the deployment\n"
    "  -y, --yes           do not ask for confirmation (needed when stdin is not a terminal)\n"
    "  --name NAME         the Worker (default: the name in ./wrangler.toml)\n"
    "  --json              print the API's result as JSON\n"
    "  -h, --help          show this help\n";

#define MAX_SPLITS 16

/* ---- list -------------------------------------------------------------------------------- */

/* Where a version came from: "api (upload)", "api (create)" for one made by `deploy`. */
static char *version_source(json_t *v) {
    const char *source = json_str(json_object_get(v, "metadata"), "source");
    const char *trigger = json_str(json_object_get(v, "annotations"), "workers/triggered_by");
    buf b = {0};
    if (source && trigger)
        buf_printf(&b, "%s (%s)", source, trigger);
    else if (source || trigger)
        buf_puts(&b, source ? source : trigger);
    return b.len ? buf_detach(&b, NULL) : NULL;
}

static int versions_list(int argc, char **argv) {
    const char *name = NULL, *dir = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(kListUsage, stdout);
            return 0;
        } else if ((r = client_option(argc, argv, &i, "--name", NULL, &name)) != 0) {
            if (r < 0) return client_missing_value(kListUsage, "--name");
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (a[0] == '-' || dir) {
            return client_bad_argument(kListUsage, a);
        } else {
            dir = a;
        }
    }
    char *script = client_script_name(name, dir ? dir : ".");
    if (!script) return 1;
    api_client c;
    if (api_client_open(&c) != 0) {
        free(script);
        return 1;
    }
    char *path = api_script_path(&c, script, "/versions", NULL);
    json_t *result = api_call(&c, "GET", path, NULL, NULL, 0);
    free(path);
    int status = result ? 0 : 1;
    json_t *items = json_object_get(result, "items");
    if (!result) {
        /* reported */
    } else if (json) {
        client_print_json(result);
    } else if (!json_is_array(items)) {
        fprintf(stderr, "hearth: the control API's list of versions has no \"items\" array\n");
        status = 1;
    } else if (json_array_size(items) == 0) {
        char *shown = term_clean(script, false, 0);
        printf("%s has no versions.\n", shown);
        free(shown);
    } else {
        static const char *const headers[] = {"VERSION ID", "NUMBER",  "CREATED",
                                              "TAG",        "MESSAGE", "SOURCE"};
        table *t = table_new(6, headers);
        size_t i;
        json_t *v;
        json_array_foreach(items, i, v) {
            json_t *meta = json_object_get(v, "metadata");
            json_t *ann = json_object_get(v, "annotations");
            json_t *num = json_object_get(v, "number");
            table_row(t);
            table_cell(t, json_str(v, "id"), 64);
            if (json_is_integer(num))
                table_cellf(t, "%lld", (long long)json_integer_value(num));
            else
                table_cell(t, NULL, 0);
            char *created = client_time(json_str(meta, "created_on"));
            table_cell(t, created, 0);
            free(created);
            table_cell(t, json_str(ann, "workers/tag"), 24);
            table_cell(t, json_str(ann, "workers/message"), 48);
            char *source = version_source(v);
            table_cell(t, source, 0);
            free(source);
        }
        table_print(t, stdout, 0);
        table_free(t);
    }
    json_decref(result);
    api_client_close(&c);
    free(script);
    return status;
}

/* ---- view -------------------------------------------------------------------------------- */

static void field(const char *label, const char *value) {
    char *v = term_clean(value && *value ? value : "-", false, 0);
    printf("%-21s%s\n", label, v);
    free(v);
}

static void print_bindings(json_t *bindings) {
    if (json_array_size(bindings) == 0) {
        field("Bindings:", NULL);
        return;
    }
    printf("Bindings:\n");
    static const char *const headers[] = {"NAME", "TYPE", "VALUE"};
    table *t = table_new(3, headers);
    size_t i;
    json_t *b;
    json_array_foreach(bindings, i, b) {
        const char *type = json_str(b, "type");
        table_row(t);
        table_cell(t, json_str(b, "name"), 64);
        table_cell(t, type, 0);
        if (type && !strcmp(type, "secret_text")) {
            table_cell(t, "(hidden)", 0);
        } else if (json_str(b, "text")) {
            table_cell(t, json_str(b, "text"), 60);
        } else if (json_object_get(b, "json")) {
            char *text = json_dumps(json_object_get(b, "json"), JSON_COMPACT | JSON_ENCODE_ANY);
            table_cell(t, text, 60);
            free(text);
        } else {
            table_cell(t, NULL, 0);
        }
    }
    table_print(t, stdout, 2);
    table_free(t);
}

/* "a, b, c" from an array of strings (anything else in it shows as "?"). */
static char *join_strings(json_t *arr) {
    buf b = {0};
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s) {
        if (i) buf_puts(&b, ", ");
        buf_puts(&b, json_string_value(s) ? json_string_value(s) : "?");
    }
    return buf_detach(&b, NULL);
}

static void print_version(json_t *v) {
    json_t *meta = json_object_get(v, "metadata");
    json_t *ann = json_object_get(v, "annotations");
    json_t *res = json_object_get(v, "resources");
    json_t *script = json_object_get(res, "script");
    json_t *rt = json_object_get(res, "script_runtime");
    char text[64];
    field("Version ID:", json_str(v, "id"));
    json_t *num = json_object_get(v, "number");
    snprintf(text, sizeof text, "%lld", (long long)json_integer_value(num));
    field("Number:", json_is_integer(num) ? text : NULL);
    char *created = client_time(json_str(meta, "created_on"));
    field("Created:", created);
    free(created);
    field("Author:", json_str(meta, "author_email"));
    char *source = version_source(v);
    field("Source:", source);
    free(source);
    field("Tag:", json_str(ann, "workers/tag"));
    field("Message:", json_str(ann, "workers/message"));
    field("Main module:", json_str(script, "main_module"));
    char *modules = join_strings(json_object_get(script, "modules"));
    field("Modules:", modules);
    free(modules);
    field("Etag:", json_str(script, "etag"));
    field("Compatibility date:", json_str(rt, "compatibility_date"));
    char *flags = join_strings(json_object_get(rt, "compatibility_flags"));
    field("Compatibility flags:", flags);
    free(flags);
    json_t *cpu = json_object_get(json_object_get(rt, "limits"), "cpu_ms");
    snprintf(text, sizeof text, "%g ms", json_number_value(cpu));
    field("CPU limit:", json_is_number(cpu) ? text : NULL);
    print_bindings(json_object_get(res, "bindings"));
}

/* Whether ref has the shape of a whole version id (a UUID), so no lookup is needed. */
static bool full_uuid(const char *ref) {
    if (strlen(ref) != 36) return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? ref[i] != '-' : !isxdigit((unsigned char)ref[i])) return false;
    }
    return true;
}

static int versions_view(int argc, char **argv) {
    const char *name = NULL, *ref = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(kViewUsage, stdout);
            return 0;
        } else if ((r = client_option(argc, argv, &i, "--name", NULL, &name)) != 0) {
            if (r < 0) return client_missing_value(kViewUsage, "--name");
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (a[0] == '-' || ref) {
            return client_bad_argument(kViewUsage, a);
        } else {
            ref = a;
        }
    }
    if (!ref) return cli_usage_error(kViewUsage, "which version? give its id");
    char *script = client_script_name(name, ".");
    if (!script) return 1;
    api_client c;
    if (api_client_open(&c) != 0) {
        free(script);
        return 1;
    }
    int status = 1;
    char *id = NULL;
    if (full_uuid(ref)) {
        id = xstrdup(ref);
    } else {
        json_t *items = client_list_versions(&c, script);
        json_t *v = items ? client_find_version(items, ref, script) : NULL;
        if (v && json_str(v, "id")) id = xstrdup(json_str(v, "id"));
        json_decref(items);
    }
    if (id) {
        char *path = api_script_path(&c, script, "/versions/", id);
        json_t *v = api_call(&c, "GET", path, NULL, NULL, 0);
        free(path);
        if (v) {
            if (json)
                client_print_json(v);
            else
                print_version(v);
            json_decref(v);
            status = 0;
        }
    }
    free(id);
    api_client_close(&c);
    free(script);
    return status;
}

/* ---- deploy ------------------------------------------------------------------------------ */

typedef struct version_spec {
    const char *ref; /* the id or prefix as given */
    double percentage;
    bool has_percentage;
} version_spec;

/* A percentage as written on the command line: "90", "12.5", "90%". Stricter than strtod,
 * which would also take "nan", "inf" and hexadecimal. */
static bool parse_percentage(const char *s, double *out) {
    size_t n = strlen(s), digits = 0, dots = 0;
    if (n && s[n - 1] == '%') n--;
    for (size_t i = 0; i < n; i++) {
        if (isdigit((unsigned char)s[i]))
            digits++;
        else if (s[i] == '.')
            dots++;
        else
            return false;
    }
    if (!digits || dots > 1) return false;
    char *copy = xstrndup(s, n);
    double v = strtod(copy, NULL);
    free(copy);
    if (!(v >= 0 && v <= 100)) return false;
    *out = v;
    return true;
}

/* Fills in percentages left out (they share what the others leave) and checks the sum.
 * Returns NULL or an error message (in msg). */
static const char *complete_percentages(version_spec *specs, size_t n, char *msg, size_t len) {
    double sum = 0;
    size_t open = 0;
    for (size_t i = 0; i < n; i++) {
        if (specs[i].has_percentage)
            sum += specs[i].percentage;
        else
            open++;
    }
    if (open) {
        double share = (100 - sum) / (double)open;
        if (share < 0) share = 0;
        for (size_t i = 0; i < n; i++)
            if (!specs[i].has_percentage) specs[i].percentage = share, sum += share;
    }
    if (fabs(sum - 100) > 1e-9) {
        char shown[32];
        client_format_percent(sum, shown, sizeof shown);
        snprintf(msg, len, "the percentages add up to %s%%; they must add up to 100%%", shown);
        return msg;
    }
    return NULL;
}

static bool parse_count(const char *s, size_t max, size_t *out) {
    long v;
    if (!cli_parse_long(s, 1, (long)max, &v)) return false;
    *out = (size_t)v;
    return true;
}

/* Asks which versions to deploy and how to split traffic between them. Returns the number
 * of versions chosen (1 or 2), or 0 when input ended. */
static size_t choose_versions(json_t *items, const char *script, deploy_split *out) {
    size_t shown = json_array_size(items) < 10 ? json_array_size(items) : 10;
    static const char *const headers[] = {"#", "VERSION ID", "NUMBER", "CREATED", "TAG", "MESSAGE"};
    table *t = table_new(6, headers);
    for (size_t i = 0; i < shown; i++) {
        json_t *v = json_array_get(items, i);
        json_t *num = json_object_get(v, "number");
        json_t *ann = json_object_get(v, "annotations");
        table_row(t);
        table_cellf(t, "%zu", i + 1);
        table_cell(t, json_str(v, "id"), 64);
        if (json_is_integer(num))
            table_cellf(t, "%lld", (long long)json_integer_value(num));
        else
            table_cell(t, NULL, 0);
        char *created = client_time(json_str(json_object_get(v, "metadata"), "created_on"));
        table_cell(t, created, 0);
        free(created);
        table_cell(t, json_str(ann, "workers/tag"), 24);
        table_cell(t, json_str(ann, "workers/message"), 40);
    }
    char *name = term_clean(script, false, 0);
    fprintf(stderr, "Recent versions of %s:\n", name);
    free(name);
    table_print(t, stderr, 2);
    table_free(t);

    json_t *chosen[2];
    size_t count = 0;
    while (count == 0) {
        char *line = client_read_line("Versions to deploy (one or two, by # or id prefix, e.g. "
                                      "\"1\" or \"1 2\"): ",
                                      false);
        if (!line) return 0;
        bool ok = true;
        for (char *tok = strtok(line, " ,\t"); tok && ok; tok = strtok(NULL, " ,\t")) {
            size_t index;
            json_t *v = parse_count(tok, shown, &index) ? json_array_get(items, index - 1)
                                                        : client_find_version(items, tok, script);
            if (!v) {
                ok = false;
            } else if (count == 2) {
                fprintf(stderr, "A deployment serves at most two versions.\n");
                ok = false;
            } else if (count == 1 && chosen[0] == v) {
                fprintf(stderr, "That is the same version twice.\n");
                ok = false;
            } else {
                chosen[count++] = v;
            }
        }
        free(line);
        if (!ok) count = 0;
    }
    for (size_t i = 0; i < count; i++) {
        const char *id = json_str(chosen[i], "id");
        out[i].version_id = xstrdup(id ? id : "");
        out[i].percentage = 100;
    }
    while (count == 2) {
        char prompt[160];
        char *id = term_clean(out[0].version_id, false, 64);
        snprintf(prompt, sizeof prompt, "Percentage of traffic for %s (0-100): ", id);
        free(id);
        char *line = client_read_line(prompt, false);
        if (!line) {
            free(out[0].version_id);
            free(out[1].version_id);
            return 0;
        }
        double pct;
        bool ok = parse_percentage(line, &pct);
        free(line);
        if (ok) {
            out[0].percentage = pct;
            out[1].percentage = 100 - pct;
            break;
        }
        fprintf(stderr, "Give a number from 0 to 100.\n");
    }
    return count;
}

static int versions_deploy(int argc, char **argv) {
    const char *name = NULL, *message = NULL;
    bool json = false, yes = false;
    version_spec specs[MAX_SPLITS];
    size_t nspecs = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(kDeployUsage, stdout);
            return 0;
        } else if ((r = client_option(argc, argv, &i, "--name", NULL, &name)) != 0) {
            if (r < 0) return client_missing_value(kDeployUsage, "--name");
        } else if ((r = client_option(argc, argv, &i, "--message", "-m", &message)) != 0) {
            if (r < 0) return client_missing_value(kDeployUsage, "--message");
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "-y") || !strcmp(a, "--yes")) {
            yes = true;
        } else if (a[0] == '-') {
            return client_bad_argument(kDeployUsage, a);
        } else if (nspecs == MAX_SPLITS) {
            return cli_usage_error(kDeployUsage, "too many versions");
        } else {
            version_spec *s = &specs[nspecs++];
            const char *at = strrchr(a, '@');
            s->ref = a;
            s->has_percentage = at != NULL;
            if (at && !parse_percentage(at + 1, &s->percentage)) {
                char msg[300];
                snprintf(msg, sizeof msg,
                         "bad percentage in \"%.200s\": write <version-id>@<percentage>, the "
                         "percentage a number from 0 to 100",
                         a);
                return cli_usage_error(kDeployUsage, msg);
            }
        }
    }
    if (message && !client_utf8(message))
        return cli_usage_error(kDeployUsage, "the message is not valid UTF-8");
    char msg[160];
    if (nspecs && complete_percentages(specs, nspecs, msg, sizeof msg))
        return cli_usage_error(kDeployUsage, msg);
    if (!nspecs && (yes || !client_interactive()))
        return cli_usage_error(kDeployUsage,
                               "give the versions to deploy as <version-id>@<percentage>");
    if (!yes && !client_interactive()) return client_refuse_without_tty("deploying");

    char *script = client_script_name(name, ".");
    if (!script) return 1;
    api_client c;
    if (api_client_open(&c) != 0) {
        free(script);
        return 1;
    }
    int status = 1;
    deploy_split splits[MAX_SPLITS];
    size_t n = 0;
    char *asked_message = NULL;
    json_t *items = client_list_versions(&c, script);
    if (!items) {
        /* reported */
    } else if (nspecs) {
        bool ok = true;
        for (size_t i = 0; i < nspecs && ok; i++) {
            /* The id ends at the last '@' (ids never hold one). */
            const char *at = strrchr(specs[i].ref, '@');
            char *ref =
                at ? xstrndup(specs[i].ref, (size_t)(at - specs[i].ref)) : xstrdup(specs[i].ref);
            const char *id = json_str(client_find_version(items, ref, script), "id");
            free(ref);
            for (size_t k = 0; k < n && id; k++) {
                if (strcmp(splits[k].version_id, id) != 0) continue;
                fprintf(stderr, "hearth: version %s is given twice\n", splits[k].version_id);
                id = NULL;
            }
            if (!id) {
                ok = false;
                break;
            }
            splits[n].version_id = xstrdup(id);
            splits[n++].percentage = specs[i].percentage;
        }
        if (ok) status = client_deploy(&c, script, splits, n, message, yes, json, items);
    } else if (json_array_size(items) == 0) {
        char *shown = term_clean(script, false, 0);
        fprintf(stderr,
                "hearth: %s has no versions to deploy; upload one with `hearth versions "
                "upload`\n",
                shown);
        free(shown);
    } else {
        n = choose_versions(items, script, splits);
        if (n && !message) {
            asked_message =
                client_read_line("Deployment message (optional, Enter to skip): ", false);
            if (asked_message && !*asked_message) {
                free(asked_message);
                asked_message = NULL;
            }
            message = asked_message;
        }
        if (n && message && !client_utf8(message)) {
            fprintf(stderr, "hearth: the message is not valid UTF-8\n");
        } else if (n) {
            status = client_deploy(&c, script, splits, n, message, false, json, items);
        } else {
            fprintf(stderr, "Not deployed.\n");
        }
    }
    for (size_t i = 0; i < n; i++) free(splits[i].version_id);
    free(asked_message);
    json_decref(items);
    api_client_close(&c);
    free(script);
    return status;
}

int cmd_versions(int argc, char **argv) {
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (!sub) return cli_usage_error(kVersionsUsage, "which versions command?");
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        fputs(kVersionsUsage, stdout);
        return 0;
    }
    if (!strcmp(sub, "upload")) return cmd_versions_upload(argc - 1, argv + 1);
    if (!strcmp(sub, "list")) return versions_list(argc - 1, argv + 1);
    if (!strcmp(sub, "view")) return versions_view(argc - 1, argv + 1);
    if (!strcmp(sub, "deploy")) return versions_deploy(argc - 1, argv + 1);
    char msg[160];
    snprintf(msg, sizeof msg, "unknown versions command \"%.100s\"", sub);
    return cli_usage_error(kVersionsUsage, msg);
}
