/* client — what the control-API commands (login, deploy, versions, deployments, rollback,
 * delete) share: option parsing, prompts, the script a command acts on, version ids given as
 * prefixes, and creating a deployment. */
#ifndef HEARTH_CLI_CLIENT_H
#define HEARTH_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli/api_client.h"

/* ---- options ----------------------------------------------------------------------------- */

/* Whether argv[*i] is the option `name` (or its short form `alias`, which may be NULL),
 * written "--name VALUE" or "--name=VALUE". Returns 1 with *value set (and *i moved past
 * the value), 0 when it is another argument, -1 when the value is missing. */
int client_option(int argc, char **argv, int *i, const char *name, const char *alias,
                  const char **value);
/* Whether s is valid UTF-8 (JSON strings must be; arguments need not be). */
bool client_utf8(const char *s);
/* Prints "option X needs a value" with the usage; returns 2. */
int client_missing_value(const char *usage, const char *option);
/* "unknown option X" or "unexpected argument X" with the usage; returns 2. */
int client_bad_argument(const char *usage, const char *arg);

/* ---- the script -------------------------------------------------------------------------- */

/* The script a command acts on: `name` when given, else the name in DIR's wrangler config.
 * malloc'd, or NULL after printing why. */
char *client_script_name(const char *name, const char *dir);

/* ---- prompts ----------------------------------------------------------------------------- */

/* Whether prompts can be answered: stdin is a terminal. */
bool client_interactive(void);
/* Prints `prompt` on stderr and reads a line from stdin (without its newline; with `hidden`,
 * not echoed). NULL at end of input. malloc'd. */
char *client_read_line(const char *prompt, bool hidden);
/* Asks "<question> (y/N) "; true only for y or yes. */
bool client_confirm(const char *question);

/* ---- output ------------------------------------------------------------------------------ */

/* Prints a JSON value on stdout, indented (what --json prints). */
void client_print_json(const json_t *v);
/* "2026-11-22T12:00:00.123456Z" shortened to "2026-11-22 12:00:00" for tables; other text
 * as it is. malloc'd. */
char *client_time(const char *rfc3339);
/* A percentage as people write it: "90", "12.5". */
void client_format_percent(double pct, char *out, size_t outlen);

/* ---- versions and deployments ------------------------------------------------------------ */

/* The script's versions, newest first (result.items of GET .../versions); NULL after
 * printing the error. */
json_t *client_list_versions(api_client *c, const char *script);
/* The version in `items` whose id is `ref` or starts with it. Returns its object (borrowed)
 * or NULL after printing the candidates (none, or several). */
json_t *client_find_version(json_t *items, const char *ref, const char *script);

typedef struct deploy_split {
    char *version_id;
    double percentage;
} deploy_split;

/* Creates a deployment of `script` (POST .../deployments) with the given versions and
 * message, after showing it and asking "Deploy? (y/N)" on a terminal (unless `yes`);
 * refuses without a terminal and without `yes`. Prints the result (JSON with `json`).
 * `versions` (the script's, may be NULL) give the table its numbers and tags. Returns the
 * exit status. */
int client_deploy(api_client *c, const char *script, const deploy_split *splits, size_t n,
                  const char *message, bool yes, bool json, json_t *versions);

/* Prints the table of a deployment's versions (percentage, id, and number, creation time,
 * tag and message when `versions` has them). */
void client_print_splits(FILE *out, json_t *splits, json_t *versions, int indent);

/* The refusal for commands that need confirmation when nobody can give it; returns 2. */
int client_refuse_without_tty(const char *what);

/* The entry point `hearth versions` dispatches `upload` to (in cmd_deploy.c). */
int cmd_versions_upload(int argc, char **argv);

#endif
