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
    "  login             save the control API's URL and token for the commands below\n"
    "  deploy [DIR]      upload the Worker in DIR and send all its traffic to it\n"
    "  versions          upload, list, view and deploy versions (gradual deployments)\n"
    "  deployments       list the Worker's deployments, or show the active one\n"
    "  rollback [ID]     deploy an earlier version again\n"
    "  delete [NAME]     delete a Worker with its versions and deployments\n"
    "  logs [NAME]       show a Worker's stored logs (requests, console output, exceptions)\n"
    "  tail [NAME]       stream a Worker's trace events live\n"
    "\n"
    "Options:\n"
    "  -e, --env NAME    use [env.NAME] of wrangler.toml (dev, deploy and the commands\n"
    "                    that take the Worker's name from it)\n"
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
    static const char *const kConfigCommands[] = {"dev",      "deploy", "versions", "deployments",
                                                  "rollback", "delete", "logs",     "tail"};
    for (size_t i = 0; i < sizeof kConfigCommands / sizeof kConfigCommands[0]; i++) {
        if (!strcmp(cmd, kConfigCommands[i])) {
            int n = cli_take_environment(argc - 1, argv + 1);
            if (n < 0) return 2;
            argc = n + 1;
        }
    }
    if (!strcmp(cmd, "dev")) return cmd_dev(argc - 1, argv + 1);
    if (!strcmp(cmd, "login")) return cmd_login(argc - 1, argv + 1);
    if (!strcmp(cmd, "deploy")) return cmd_deploy(argc - 1, argv + 1);
    if (!strcmp(cmd, "versions")) return cmd_versions(argc - 1, argv + 1);
    if (!strcmp(cmd, "deployments")) return cmd_deployments(argc - 1, argv + 1);
    if (!strcmp(cmd, "rollback")) return cmd_rollback(argc - 1, argv + 1);
    if (!strcmp(cmd, "delete")) return cmd_delete(argc - 1, argv + 1);
    if (!strcmp(cmd, "logs")) return cmd_logs(argc - 1, argv + 1);
    if (!strcmp(cmd, "tail")) return cmd_tail(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
    fprintf(stderr, "hearth: unknown command \"%s\"; run `hearth --help` for the list\n", cmd);
    return 2;
}
