/* store — hearth serve's durable state: the account, API tokens, scripts, versions (with their
 * modules as content-addressed blobs), deployments and the audit log.
 *
 * SQLite in DATA_DIR/state.db (WAL, synchronous=FULL: a change the API acknowledged survives
 * kill -9 and power loss), module contents in DATA_DIR/blobs/<sha256>. Every change is one
 * transaction that also writes its audit entry, so a failed request changes nothing.
 *
 * Records come back as jansson objects already shaped like the control API's resources
 * (docs/api.md), which is what every caller wants. Only the control-plane thread uses a store. */
#ifndef HEARTH_PLATFORM_STORE_H
#define HEARTH_PLATFORM_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;

/* Opens (creating if needed) the store in data_dir. */
store *store_open(const char *data_dir, char *err, size_t errlen);
void store_close(store *s);

/* The account id (created with the store). */
const char *store_account_id(store *s);

/* ---- tokens ------------------------------------------------------------------------------ */

size_t store_token_count(store *s);
/* Adds a token by the SHA-256 (hex) of its secret; returns 0, or -1. id receives its id. */
int store_token_add(store *s, const char *name, const char *sha256_hex, char id[37]);
/* The id of the token with this hash, copied to id; false if none. */
bool store_token_find(store *s, const char *sha256_hex, char id[37]);

/* ---- blobs ------------------------------------------------------------------------------- */

/* Writes data as DATA_DIR/blobs/<sha256> (durably, once) and returns the hex hash in hash. */
int store_blob_put(store *s, const void *data, size_t len, char hash[65], char *err, size_t errlen);
/* The blob's contents (malloc'd, NUL-terminated), or NULL. */
char *store_blob_get(store *s, const char *hash, size_t *len);

/* ---- reads ------------------------------------------------------------------------------- */

/* Script objects {id, created_on, modified_on, active_deployment_id, routes}, by name. */
json_t *store_scripts(store *s);
json_t *store_script(store *s, const char *name); /* NULL if none */

/* Versions of a script, newest first (API shape), and one version (NULL if none). */
json_t *store_versions(store *s, const char *script);
json_t *store_version(store *s, const char *script, const char *version_id);
/* A version's modules in upload order: [{name, content_type, blob, size}], main module first. */
json_t *store_version_modules(store *s, const char *version_id);

/* Deployments of a script, newest first (API shape); one; the active one (or NULL). */
json_t *store_deployments(store *s, const char *script);
json_t *store_deployment(store *s, const char *script, const char *deployment_id);
json_t *store_active_deployment(store *s, const char *script);

/* Audit entries, newest first; script may be NULL (all). */
json_t *store_audit(store *s, const char *script, int limit);

/* ---- changes ----------------------------------------------------------------------------- */

/* Who makes a change: the token id (the API's actor). */
typedef struct store_actor {
    const char *token_id;
    const char *email; /* shown as author_email; "admin" for the admin token */
} store_actor;

/* A new version, as the upload handler built it. */
typedef struct store_new_version {
    const char *script;
    const char *main_module;
    json_t *bindings;               /* array, stored as given (secret texts included) */
    const char *compatibility_date; /* may be NULL */
    json_t *compatibility_flags;    /* array */
    json_t *annotations;            /* object: workers/message, workers/tag */
    const char *triggered_by;       /* "upload" or "create" */
    int64_t cpu_ms;                 /* 0 = default */
    json_t *routes;                 /* array or NULL */
    json_t *modules;                /* [{name, content_type, blob, size}], main first */
    const char *etag;
    json_t *settings; /* {observability, tail_consumers} as uploaded, or NULL */
} store_new_version;

/* Creates the script if needed and the version; returns the version (API shape) or NULL with
 * err. With deploy set, also a deployment of it at 100% in the same transaction (its id in
 * *deployment_id, malloc'd). */
json_t *store_create_version(store *s, const store_new_version *v, const store_actor *actor,
                             bool deploy, char **deployment_id, char *err, size_t errlen);

/* Creates a deployment ({version_id, percentage} array already validated) and, if the
 * deployment's versions carry routes, makes them the script's routes. Returns it or NULL. */
json_t *store_create_deployment(store *s, const char *script, json_t *versions, json_t *annotations,
                                const store_actor *actor, char *err, size_t errlen);

/* Deletes a script with its versions and deployments. 0, or -1 (err). */
int store_delete_script(store *s, const char *script, const store_actor *actor, char *err,
                        size_t errlen);

/* Current time as the API writes it: 2026-11-22T12:00:00.000000Z. */
void store_now(char out[32]);

#endif
