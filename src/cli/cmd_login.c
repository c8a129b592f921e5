/* hearth login — check an API token against `hearth serve`'s control API and save it, with
 * the server's address and the account, for the other commands. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/table.h"

static const char kLoginUsage[] =
    "Usage: hearth login [--api-url URL] [--token TOKEN]\n"
    "\n"
    "Checks the API token with the control API of `hearth serve` and saves the URL, the token\n"
    "and the account in $XDG_CONFIG_HOME/hearth/config.json (default\n"
    "~/.config/hearth/config.json, readable only by you). Without --token the token is read\n"
    "from stdin (asked for, without echo, on a terminal).\n"
    "\n"
    "Options:\n"
    "  --api-url URL   the control API (default: $HEARTH_API_URL, else " API_DEFAULT_URL ")\n"
    "  --token TOKEN   the API token `hearth serve` printed when it first started\n"
    "  -h, --help      show this help\n"
    "\n"
    "Other commands use HEARTH_API_URL and HEARTH_API_TOKEN from the environment when they\n"
    "are set, and this file otherwise.\n";

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

int cmd_login(int argc, char **argv) {
    const char *url = NULL, *token = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(kLoginUsage, stdout);
            return 0;
        } else if ((r = client_option(argc, argv, &i, "--api-url", NULL, &url)) != 0) {
            if (r < 0) return client_missing_value(kLoginUsage, "--api-url");
        } else if ((r = client_option(argc, argv, &i, "--token", NULL, &token)) != 0) {
            if (r < 0) return client_missing_value(kLoginUsage, "--token");
        } else {
            return client_bad_argument(kLoginUsage, a);
        }
    }
    if (!url) url = getenv("HEARTH_API_URL");
    if (!url || !*url) url = API_DEFAULT_URL;
    char *line = NULL;
    if (!token) {
        line = client_read_line(client_interactive() ? "API token: " : "", true);
        token = line ? trim(line) : "";
        if (!*token) {
            fprintf(stderr, "hearth: no API token was given\n");
            free(line);
            return 1;
        }
    }
    api_client c;
    int status = 1;
    if (api_client_init(&c, url, token) == 0) {
        json_t *verify = api_call(&c, "GET", "/user/tokens/verify", NULL, NULL, 0);
        const char *state = json_str(verify, "status");
        char err[512];
        if (!verify) {
            /* reported */
        } else if (state && strcmp(state, "active") != 0) {
            char *shown = term_clean(state, false, 40);
            fprintf(stderr, "hearth: the API token is not active (its status is \"%s\")\n", shown);
            free(shown);
        } else if (api_fetch_account(&c) != 0) {
            /* reported */
        } else if (api_config_save(&c, err, sizeof err) != 0) {
            fprintf(stderr, "hearth: cannot save the settings: %s\n", err);
        } else {
            char *path = api_config_path();
            char *account = term_clean(c.account_id, false, 64);
            printf("Logged in to %s (account %s)\n", c.url, account);
            printf("Settings saved in %s\n", path);
            free(account);
            free(path);
            status = 0;
        }
        json_decref(verify);
    }
    api_client_close(&c);
    free(line);
    return status;
}
