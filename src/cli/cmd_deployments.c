/* hearth deployments list|status, hearth rollback — a Worker's deployments on `hearth serve`,
 * newest (the active one) first, and going back to an earlier version. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/table.h"

static const char kDeploymentsUsage[] =
    "Usage: hearth deployments <list|status> [--name NAME] [--json]\n"
    "\n"
    "  list     the Worker's deployments, newest first (the first is the active one)\n"
    "  status   the active deployment and the versions it serves\n"
    "\n"
    "The Worker is the one named in ./wrangler.toml, or by --name.\n"
    "\n"
    "Options:\n"
    "  --name NAME   the Worker (instead of the one in ./wrangler.toml)\n"
    "  --json        print the API's result as JSON\n"
    "  -h, --help    show this help\n";

static const char kRollbackUsage[] =
    "Usage: hearth rollback [<version-id>] [options]\n"
    "\n"
    "Creates a deployment that sends all traffic to the given version (an id, or a prefix only\n"
    "one version has) or, without one, to the version the previous deployment served most.\n"
    "On a terminal, hearth shows the deployment and asks before creating it.\n"
    "\n"
    "Options:\n"
    "  -m, --message MSG   a message recorded with the deployment\n"
    "  -y, --yes           do not ask for confirmation (needed when stdin is not a terminal)\n"
    "  --name NAME         the Worker (default: the name in ./wrangler.toml)\n"
    "  --json              print the API's result as JSON\n"
    "  -h, --help          show this help\n";

/* GET .../deployments: the result, checked to hold a "deployments" array, or NULL after
 * printing why. */
static json_t *list_deployments(api_client *c, const char *script) {
    char *path = api_script_path(c, script, "/deployments", NULL);
    json_t *result = api_call(c, "GET", path, NULL, NULL, 0);
    free(path);
    if (result && !json_is_array(json_object_get(result, "deployments"))) {
        fprintf(stderr, "hearth: the control API's list of deployments has no \"deployments\" "
                        "array\n");
        json_decref(result);
        return NULL;
    }
    return result;
}

/* "90% <id>, 10% <id>" */
static char *splits_text(json_t *splits) {
    buf b = {0};
    size_t i;
    json_t *s;
    json_array_foreach(splits, i, s) {
        json_t *pct = json_object_get(s, "percentage");
        const char *id = json_str(s, "version_id");
        char p[32] = "?";
        if (json_is_number(pct)) client_format_percent(json_number_value(pct), p, sizeof p);
        buf_printf(&b, "%s%s%% %s", i ? ", " : "", p, id ? id : "?");
    }
    return buf_detach(&b, NULL);
}

static void print_deployment_list(json_t *list) {
    static const char *const headers[] = {"DEPLOYMENT ID", "CREATED",  "AUTHOR",
                                          "SOURCE",        "VERSIONS", "MESSAGE"};
    table *t = table_new(6, headers);
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) {
        table_row(t);
        table_cell(t, json_str(d, "id"), 64);
        char *created = client_time(json_str(d, "created_on"));
        table_cell(t, created, 0);
        free(created);
        table_cell(t, json_str(d, "author_email"), 32);
        table_cell(t, json_str(d, "source"), 16);
        char *versions = splits_text(json_object_get(d, "versions"));
        table_cell(t, versions, 0);
        free(versions);
        table_cell(t, json_str(json_object_get(d, "annotations"), "workers/message"), 48);
    }
    table_print(t, stdout, 0);
    table_free(t);
}

static void field(const char *label, const char *value) {
    char *v = term_clean(value && *value ? value : "-", false, 0);
    printf("%-15s%s\n", label, v);
    free(v);
}

static void print_status(json_t *d, json_t *versions) {
    field("Deployment ID:", json_str(d, "id"));
    char *created = client_time(json_str(d, "created_on"));
    field("Created:", created);
    free(created);
    field("Author:", json_str(d, "author_email"));
    field("Source:", json_str(d, "source"));
    field("Message:", json_str(json_object_get(d, "annotations"), "workers/message"));
    printf("Versions:\n");
    client_print_splits(stdout, json_object_get(d, "versions"), versions, 2);
}

int cmd_deployments(int argc, char **argv) {
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub && (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help"))) {
        fputs(kDeploymentsUsage, stdout);
        return 0;
    }
    if (!sub) return cli_usage_error(kDeploymentsUsage, "which deployments command?");
    bool status_cmd = !strcmp(sub, "status");
    if (!status_cmd && strcmp(sub, "list") != 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "unknown deployments command \"%.100s\"", sub);
        return cli_usage_error(kDeploymentsUsage, msg);
    }
    const char *name = NULL;
    bool json = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(kDeploymentsUsage, stdout);
            return 0;
        } else if ((r = client_option(argc, argv, &i, "--name", NULL, &name)) != 0) {
            if (r < 0) return client_missing_value(kDeploymentsUsage, "--name");
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else {
            return client_bad_argument(kDeploymentsUsage, a);
        }
    }
    char *script = client_script_name(name, ".");
    if (!script) return 1;
    api_client c;
    if (api_client_open(&c) != 0) {
        free(script);
        return 1;
    }
    int status = 1;
    json_t *result = list_deployments(&c, script);
    json_t *list = json_object_get(result, "deployments");
    json_t *active = json_array_get(list, 0);
    char *shown = term_clean(script, false, 0);
    if (!list) {
        /* reported */
    } else if (!status_cmd) {
        status = 0;
        if (json)
            client_print_json(result);
        else if (json_array_size(list) == 0)
            printf("%s has no deployments.\n", shown);
        else
            print_deployment_list(list);
    } else if (json) {
        status = 0;
        client_print_json(active);
    } else if (!active) {
        status = 0;
        printf("%s has no deployments.\n", shown);
    } else {
        /* The versions give the table numbers, tags and messages. */
        json_t *versions = client_list_versions(&c, script);
        if (versions) {
            status = 0;
            print_status(active, versions);
        }
        json_decref(versions);
    }
    free(shown);
    json_decref(result);
    api_client_close(&c);
    free(script);
    return status;
}

/* The version the deployment gave the most traffic (the first of equals). */
static const char *busiest_version(json_t *deployment) {
    const char *best = NULL;
    double best_pct = -1;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(deployment, "versions"), i, s) {
        const char *id = json_str(s, "version_id");
        double pct = json_number_value(json_object_get(s, "percentage"));
        if (id && pct > best_pct) best = id, best_pct = pct;
    }
    return best;
}

int cmd_rollback(int argc, char **argv) {
    const char *name = NULL, *message = NULL, *ref = NULL;
    bool json = false, yes = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(kRollbackUsage, stdout);
            return 0;
        } else if ((r = client_option(argc, argv, &i, "--name", NULL, &name)) != 0) {
            if (r < 0) return client_missing_value(kRollbackUsage, "--name");
        } else if ((r = client_option(argc, argv, &i, "--message", "-m", &message)) != 0) {
            if (r < 0) return client_missing_value(kRollbackUsage, "--message");
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "-y") || !strcmp(a, "--yes")) {
            yes = true;
        } else if (a[0] == '-' || ref) {
            return client_bad_argument(kRollbackUsage, a);
        } else {
            ref = a;
        }
    }
    if (message && !client_utf8(message))
        return cli_usage_error(kRollbackUsage, "the message is not valid UTF-8");
    if (!yes && !client_interactive()) return client_refuse_without_tty("rolling back");
    char *script = client_script_name(name, ".");
    if (!script) return 1;
    api_client c;
    if (api_client_open(&c) != 0) {
        free(script);
        return 1;
    }
    int status = 1;
    json_t *versions = client_list_versions(&c, script);
    json_t *deployments = NULL;
    const char *target = NULL;
    if (versions && ref) {
        target = json_str(client_find_version(versions, ref, script), "id");
    } else if (versions && (deployments = list_deployments(&c, script))) {
        char *shown = term_clean(script, false, 0);
        json_t *previous = json_array_get(json_object_get(deployments, "deployments"), 1);
        if (!previous)
            fprintf(stderr,
                    "hearth: %s has no earlier deployment to roll back to; name the "
                    "version: hearth rollback <version-id>\n",
                    shown);
        else if (!(target = busiest_version(previous)))
            fprintf(stderr, "hearth: the previous deployment of %s lists no versions\n", shown);
        free(shown);
    }
    if (target) {
        deploy_split split = {(char *)target, 100};
        char default_message[64] = "Rollback";
        json_t *num = NULL;
        size_t i;
        json_t *v;
        json_array_foreach(versions, i, v) {
            if (json_str(v, "id") && !strcmp(json_str(v, "id"), target))
                num = json_object_get(v, "number");
        }
        if (json_is_integer(num))
            snprintf(default_message, sizeof default_message, "Rollback to version %lld",
                     (long long)json_integer_value(num));
        status = client_deploy(&c, script, &split, 1, message ? message : default_message, yes,
                               json, versions);
    }
    json_decref(deployments);
    json_decref(versions);
    api_client_close(&c);
    free(script);
    return status;
}
