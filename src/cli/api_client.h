/* api_client — the client side of `hearth serve`'s control API (docs/api.md): where the
 * settings come from (environment, then the file `hearth login` writes), HTTP calls through
 * libcurl, and the JSON envelope every answer comes in.
 *
 * Every failure is reported on stderr here, in words a user can act on, so commands only
 * have to check for NULL / -1 and exit 1. */
#ifndef HEARTH_CLI_API_CLIENT_H
#define HEARTH_CLI_API_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define API_DEFAULT_URL "http://127.0.0.1:8788"

typedef struct api_client {
    char *url; /* e.g. "http://127.0.0.1:8788", no trailing slash */
    char *token;
    char *account_id; /* NULL until known */
    void *curl;       /* CURL *, reused so connections are kept alive between calls */
} api_client;

/* A multipart/form-data part of an upload. */
typedef struct api_part {
    const char *name;
    const char *filename; /* NULL for none */
    const char *type;     /* the part's Content-Type */
    const char *data;
    size_t len;
} api_part;

/* Sets up a client for `url` and `token` without an account (what `hearth login` starts
 * from). Returns -1 when url is not an http(s) URL. */
int api_client_init(api_client *c, const char *url, const char *token);

/* Sets up a client from the settings: HEARTH_API_URL / HEARTH_API_TOKEN, else the config
 * file. The account id comes from the config file, or from GET /accounts when the
 * environment names the server or the token. Returns -1 after printing what is missing. */
int api_client_open(api_client *c);
void api_client_close(api_client *c);

/* One call. `path` is under /client/v4 ("/accounts"); `body` (borrowed) is sent as JSON, or
 * `parts` as multipart/form-data, or neither. Returns the envelope's `result` (a new
 * reference; json null when the API returned none), or NULL after printing the error. */
json_t *api_call(api_client *c, const char *method, const char *path, json_t *body,
                 const api_part *parts, size_t part_count);

/* "/accounts/<account>/workers/scripts/<script><suffix><id>", script and id (which may be
 * NULL) escaped for a URL path; malloc'd. */
char *api_script_path(const api_client *c, const char *script, const char *suffix, const char *id);

/* Asks GET /accounts for the account's id; -1 after printing why it could not. */
int api_fetch_account(api_client *c);

/* $XDG_CONFIG_HOME/hearth/config.json (default ~/.config/hearth/config.json); malloc'd,
 * NULL when neither XDG_CONFIG_HOME nor HOME is set. */
char *api_config_path(void);
/* Writes the config file (mode 0600, its directory created 0700). -1 with err. */
int api_config_save(const api_client *c, char *err, size_t errlen);

/* Borrowed string member of an object, or NULL when missing or not a string. */
const char *json_str(const json_t *obj, const char *key);

#endif
