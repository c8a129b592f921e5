/* hearth — runs Cloudflare-style JavaScript Workers on your own machines.
 *
 * This file only picks the command; each lives in src/cli/. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "js/engine.h"

static const char kUsage[] =
    "hearth — run JavaScript Workers on your own machines\n"
    "\n"
    "Usage: hearth <command> [options]\n"
    "\n"
    "Commands:\n"
    "  dev [DIR...]      serve the Worker in DIR from its wrangler.toml, reloading on edits\n"
    "  serve             run the platform: versions, deployments, the control API\n"
    "\n"
    "Options:\n"
    "  -h, --help        show this help (or `hearth <command> --help`)\n"
    "  -v, --version     print hearth's version\n";

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(kUsage, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        fputs(kUsage, stdout);
        return 0;
    }
    if (!strcmp(cmd, "-v") || !strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("hearth %s (%s)\n", HEARTH_VERSION, js_engine_version());
        return 0;
    }
    if (!strcmp(cmd, "dev")) return cmd_dev(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
    fprintf(stderr, "hearth: unknown command \"%s\"; run `hearth --help` for the list\n", cmd);
    return 2;
}
