/* hearth delete — delete a Worker from `hearth serve`, with its versions and deployments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/table.h"

static const char kDeleteUsage[] =
    "Usage: hearth delete [<worker> | --name NAME] [options]\n"
    "\n"
    "Deletes the Worker (default: the one named in ./wrangler.toml) with all its versions and\n"
    "deployments; it stops serving at once. On a terminal, hearth asks first.\n"
    "\n"
    "Options:\n"
    "  --name NAME   the Worker to delete (the same as giving it as an argument)\n"
    "  -y, --yes     do not ask for confirmation (needed when stdin is not a terminal)\n"
    "  --json        print the API's result as JSON\n"
    "  -h, --help    show this help\n";

int cmd_delete(int argc, char **argv) {
    const char *name = NULL;
    bool json = false, yes = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value;
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(kDeleteUsage, stdout);
            return 0;
        } else if ((r = client_option(argc, argv, &i, "--name", NULL, &value)) != 0) {
            if (r < 0) return client_missing_value(kDeleteUsage, "--name");
            if (name) return cli_usage_error(kDeleteUsage, "give one Worker to delete");
            name = value;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "-y") || !strcmp(a, "--yes")) {
            yes = true;
        } else if (a[0] == '-') {
            return client_bad_argument(kDeleteUsage, a);
        } else if (name) {
            return cli_usage_error(kDeleteUsage, "give one Worker to delete");
        } else {
            name = a;
        }
    }
    if (!yes && !client_interactive()) return client_refuse_without_tty("deleting");
    char *script = client_script_name(name, ".");
    if (!script) return 1;
    api_client c;
    if (api_client_open(&c) != 0) {
        free(script);
        return 1;
    }
    int status = 1;
    char *shown = term_clean(script, false, 0);
    char question[200];
    snprintf(question, sizeof question,
             "Delete %.100s with all its versions and deployments? It stops serving at once.",
             shown);
    if (!yes && !client_confirm(question)) {
        fprintf(stderr, "Not deleted.\n");
    } else {
        char *path = api_script_path(&c, script, "", NULL);
        json_t *result = api_call(&c, "DELETE", path, NULL, NULL, 0);
        free(path);
        if (result) {
            status = 0;
            if (json)
                client_print_json(result);
            else
                printf("Deleted %s\n", shown);
        }
        json_decref(result);
    }
    free(shown);
    api_client_close(&c);
    free(script);
    return status;
}
