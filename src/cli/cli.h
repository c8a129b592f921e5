/* cli — the command-line entry points and their shared helpers. */
#ifndef HEARTH_CLI_CLI_H
#define HEARTH_CLI_CLI_H

#include <stdbool.h>

#define HEARTH_VERSION "0.1.0"

int cmd_dev(int argc, char **argv);
/* Clients of `hearth serve`'s control API (docs/api.md). */
int cmd_login(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_versions(int argc, char **argv);
int cmd_deployments(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_tail(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Parses a whole decimal integer in [min, max]. */
bool cli_parse_long(const char *s, long min, long max, long *out);
/* Parses a non-negative number of seconds ("30", "0.5"). */
bool cli_parse_seconds(const char *s, double *out);
/* Registers the runtime's ops and starts the JavaScript engine (dev and serve); -1 after
 * printing why it could not. */
int cli_start_runtime(void);
/* Prints "hearth: <msg>" and the usage to stderr; returns the exit status for usage errors. */
int cli_usage_error(const char *usage, const char *msg);

/* The wrangler environment chosen with --env NAME (or -e NAME, --env=NAME), NULL for the top
 * level. Like wrangler's --env it is one option for every command that reads a project's
 * config: main takes it out of argv (cli_take_environment) before the command sees its own
 * options. cli_take_environment returns the new argc, or -1 after a usage error. */
int cli_take_environment(int argc, char **argv);
const char *cli_environment(void);

struct server_config;
/* The options `dev` and `serve` share: --threads, --max-body-size, --memory-limit,
 * --request-timeout, --idle-timeout, --ratelimit, --ratelimit-fail. Returns 1 if argv[*i] is one
 * (with *i moved past its value), 0 if it is not, or -1 after printing a usage error. */
int cli_server_option(int argc, char **argv, int *i, struct server_config *cfg, const char *usage);

#endif
