#include "platform/store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/ids.h"

struct store {
    sqlite3 *db;
    char *dir;
    char *blob_dir;
    char account_id[33];
};

static const char kSchema[] =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    "  hash TEXT NOT NULL UNIQUE, created_on TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS scripts (name TEXT PRIMARY KEY, created_on TEXT NOT NULL,"
    "  modified_on TEXT NOT NULL, routes TEXT NOT NULL DEFAULT '[]');"
    "CREATE TABLE IF NOT EXISTS versions (id TEXT PRIMARY KEY,"
    "  script TEXT NOT NULL REFERENCES scripts(name) ON DELETE CASCADE,"
    "  number INTEGER NOT NULL, created_on TEXT NOT NULL, author TEXT NOT NULL,"
    "  main_module TEXT NOT NULL, bindings TEXT NOT NULL, compatibility_date TEXT,"
    "  compatibility_flags TEXT NOT NULL, annotations TEXT NOT NULL, cpu_ms INTEGER NOT NULL,"
    "  routes TEXT, etag TEXT NOT NULL, modules TEXT NOT NULL,"
    "  settings TEXT NOT NULL DEFAULT '{}', UNIQUE (script, number));"
    "CREATE TABLE IF NOT EXISTS deployments (id TEXT PRIMARY KEY,"
    "  script TEXT NOT NULL REFERENCES scripts(name) ON DELETE CASCADE,"
    "  seq INTEGER NOT NULL, created_on TEXT NOT NULL, author TEXT NOT NULL,"
    "  annotations TEXT NOT NULL, versions TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS deployments_by_script ON deployments (script, seq);"
    "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL,"
    "  at TEXT NOT NULL, actor TEXT NOT NULL, email TEXT NOT NULL, action TEXT NOT NULL,"
    "  resource_type TEXT NOT NULL, resource_id TEXT NOT NULL, metadata TEXT NOT NULL);";

void store_now(char out[32]) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%06uZ", (unsigned)(ts.tv_nsec / 1000) % 1000000u);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- statement helpers ------------------------------------------------------------------- */

static sqlite3_stmt *prepare(store *s, const char *sql) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "[hearth] store: %s: %s\n", sqlite3_errmsg(s->db), sql);
        return NULL;
    }
    return st;
}

static void bind_text(sqlite3_stmt *st, int i, const char *v) {
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_json(sqlite3_stmt *st, int i, const json_t *v) {
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
    bind_text(st, i, text);
    free(text);
}

static const char *col_text(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : NULL;
}

static json_t *col_json(sqlite3_stmt *st, int i) {
    const char *t = col_text(st, i);
    if (!t) return json_null();
    json_t *v = json_loads(t, JSON_DECODE_ANY, NULL);
    return v ? v : json_null();
}

static int exec(store *s, const char *sql) {
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "[hearth] store: %s\n", msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Columns added after a store may already have been created: added in place. */
static int migrate(store *s) {
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT settings FROM versions LIMIT 0", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_finalize(st);
        return 0;
    }
    return exec(s, "ALTER TABLE versions ADD COLUMN settings TEXT NOT NULL DEFAULT '{}'");
}

static char *meta_get(store *s, const char *key) {
    sqlite3_stmt *st = prepare(s, "SELECT value FROM meta WHERE key = ?");
    if (!st) return NULL;
    bind_text(st, 1, key);
    char *v = sqlite3_step(st) == SQLITE_ROW ? xstrdup(col_text(st, 0)) : NULL;
    sqlite3_finalize(st);
    return v;
}

static int meta_set(store *s, const char *key, const char *value) {
    sqlite3_stmt *st = prepare(s, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    if (!st) return -1;
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

/* ---- open -------------------------------------------------------------------------------- */

static int mkdir_p(const char *path) {
    if (mkdir(path, 0700) == 0 || errno == EEXIST) return 0;
    return -1;
}

store *store_open(const char *data_dir, char *err, size_t errlen) {
    if (mkdir_p(data_dir) != 0) {
        set_err(err, errlen, "cannot create %s: %s", data_dir, strerror(errno));
        return NULL;
    }
    store *s = xcalloc(1, sizeof *s);
    s->dir = xstrdup(data_dir);
    s->blob_dir = fs_join(data_dir, "blobs");
    if (mkdir_p(s->blob_dir) != 0) {
        set_err(err, errlen, "cannot create %s: %s", s->blob_dir, strerror(errno));
        store_close(s);
        return NULL;
    }
    char *path = fs_join(data_dir, "state.db");
    /* Created owner-only (it holds token hashes and secrets); SQLite gives its -wal and -shm
     * files the same mode. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) close(fd);
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    free(path);
    if (rc != SQLITE_OK) {
        set_err(err, errlen, "cannot open %s/state.db: %s", data_dir,
                s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(s);
        return NULL;
    }
    sqlite3_busy_timeout(s->db, 5000);
    /* WAL for concurrent readers; synchronous=FULL so that a commit the API acknowledged is
     * on disk even if the machine loses power right after. */
    if (exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;") ||
        exec(s, kSchema) || migrate(s)) {
        set_err(err, errlen, "cannot initialise %s/state.db: %s", data_dir, sqlite3_errmsg(s->db));
        store_close(s);
        return NULL;
    }
    char *account = meta_get(s, "account_id");
    if (!account) {
        uint8_t b[16];
        if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) abort();
        account = xmalloc(33);
        for (int i = 0; i < 16; i++) sprintf(account + 2 * i, "%02x", b[i]);
        meta_set(s, "account_id", account);
    }
    snprintf(s->account_id, sizeof s->account_id, "%s", account);
    free(account);
    return s;
}

void store_close(store *s) {
    if (!s) return;
    if (s->db) sqlite3_close(s->db);
    free(s->dir);
    free(s->blob_dir);
    free(s);
}

const char *store_account_id(store *s) {
    return s->account_id;
}

/* ---- tokens ------------------------------------------------------------------------------ */

size_t store_token_count(store *s) {
    sqlite3_stmt *st = prepare(s, "SELECT COUNT(*) FROM tokens");
    size_t n = st && sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return n;
}

int store_token_add(store *s, const char *name, const char *sha256_hex, char id[37]) {
    uuid_v4(id);
    char now[32];
    store_now(now);
    sqlite3_stmt *st =
        prepare(s, "INSERT OR IGNORE INTO tokens (id, name, hash, created_on) VALUES (?,?,?,?)");
    if (!st) return -1;
    bind_text(st, 1, id);
    bind_text(st, 2, name);
    bind_text(st, 3, sha256_hex);
    bind_text(st, 4, now);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

bool store_token_find(store *s, const char *sha256_hex, char id[37]) {
    sqlite3_stmt *st = prepare(s, "SELECT id FROM tokens WHERE hash = ?");
    if (!st) return false;
    bind_text(st, 1, sha256_hex);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) snprintf(id, 37, "%s", col_text(st, 0));
    sqlite3_finalize(st);
    return found;
}

/* ---- blobs ------------------------------------------------------------------------------- */

static void sha256_hex(const void *data, size_t len, char out[65]) {
    unsigned char md[32];
    unsigned int n = 0;
    EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", md[i]);
}

int store_blob_put(store *s, const void *data, size_t len, char hash[65], char *err,
                   size_t errlen) {
    sha256_hex(data, len, hash);
    char *path = fs_join(s->blob_dir, hash);
    int rc = 0;
    if (!fs_is_file(path)) rc = fs_write_file(path, data, len, err, errlen);
    free(path);
    return rc;
}

char *store_blob_get(store *s, const char *hash, size_t *len) {
    char *path = fs_join(s->blob_dir, hash);
    char *data = fs_read_file(path, len, NULL, 0);
    free(path);
    return data;
}

/* ---- shaping rows as API resources -------------------------------------------------------- */

static const char kVersionColumns[] =
    "id, number, created_on, author, main_module, bindings, compatibility_date,"
    " compatibility_flags, annotations, cpu_ms, etag, modules, script, routes, settings";

/* The binding list as the API shows it: secret texts are not given back. */
static json_t *public_bindings(json_t *bindings) {
    json_t *out = json_array();
    size_t i;
    json_t *b;
    json_array_foreach(bindings, i, b) {
        json_t *copy = json_deep_copy(b);
        if (json_is_string(json_object_get(copy, "type")) &&
            strcmp(json_string_value(json_object_get(copy, "type")), "secret_text") == 0)
            json_object_del(copy, "text");
        json_array_append_new(out, copy);
    }
    return out;
}

static json_t *version_from_row(sqlite3_stmt *st) {
    json_t *bindings = col_json(st, 5);
    json_t *modules = col_json(st, 11);
    json_t *module_names = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(modules, i, m) json_array_append(module_names, json_object_get(m, "name"));
    json_t *v =
        json_pack("{s:s, s:I, s:{s:s, s:s, s:s, s:s}, s:o, s:{s:o, s:{s:s, s:s, s:o}, s:{s:s?, "
                  "s:o, s:{s:I}}}}",
                  "id", col_text(st, 0), "number", (json_int_t)sqlite3_column_int64(st, 1),
                  "metadata", "created_on", col_text(st, 2), "modified_on", col_text(st, 2),
                  "source", "api", "author_email", col_text(st, 3), "annotations", col_json(st, 8),
                  "resources", "bindings", public_bindings(bindings), "script", "etag",
                  col_text(st, 10), "main_module", col_text(st, 4), "modules", module_names,
                  "script_runtime", "compatibility_date", col_text(st, 6), "compatibility_flags",
                  col_json(st, 7), "limits", "cpu_ms", (json_int_t)sqlite3_column_int64(st, 9));
    /* Internal fields the control plane needs; the API layer removes those starting with "_". */
    json_object_set_new(v, "_bindings", bindings);
    json_object_set_new(v, "_modules", modules);
    json_object_set_new(v, "_script", json_string(col_text(st, 12)));
    json_object_set_new(v, "_routes", col_json(st, 13));
    /* observability and tail_consumers, shown with the runtime settings */
    json_t *settings = col_json(st, 14);
    json_t *runtime = json_object_get(json_object_get(v, "resources"), "script_runtime");
    if (json_is_object(settings)) json_object_update(runtime, settings);
    json_decref(settings);
    return v;
}

static json_t *deployment_from_row(sqlite3_stmt *st) {
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "id", col_text(st, 0), "created_on",
                     col_text(st, 1), "source", "api", "strategy", "percentage", "author_email",
                     col_text(st, 2), "annotations", col_json(st, 3), "versions", col_json(st, 4));
}

/* ---- reads ------------------------------------------------------------------------------- */

static json_t *script_from_row(store *s, sqlite3_stmt *st) {
    const char *name = col_text(st, 0);
    json_t *active = store_active_deployment(s, name);
    json_t *obj =
        json_pack("{s:s, s:s, s:s, s:O, s:o}", "id", name, "created_on", col_text(st, 1),
                  "modified_on", col_text(st, 2), "active_deployment_id",
                  active ? json_object_get(active, "id") : json_null(), "routes", col_json(st, 3));
    json_decref(active);
    return obj;
}

json_t *store_scripts(store *s) {
    json_t *out = json_array();
    sqlite3_stmt *st =
        prepare(s, "SELECT name, created_on, modified_on, routes FROM scripts ORDER BY name");
    while (st && sqlite3_step(st) == SQLITE_ROW) json_array_append_new(out, script_from_row(s, st));
    sqlite3_finalize(st);
    return out;
}

json_t *store_script(store *s, const char *name) {
    sqlite3_stmt *st =
        prepare(s, "SELECT name, created_on, modified_on, routes FROM scripts WHERE name = ?");
    if (!st) return NULL;
    bind_text(st, 1, name);
    json_t *out = sqlite3_step(st) == SQLITE_ROW ? script_from_row(s, st) : NULL;
    sqlite3_finalize(st);
    return out;
}

json_t *store_versions(store *s, const char *script) {
    buf sql = {0};
    buf_printf(&sql, "SELECT %s FROM versions WHERE script = ? ORDER BY number DESC",
               kVersionColumns);
    sqlite3_stmt *st = prepare(s, sql.data);
    buf_free(&sql);
    json_t *out = json_array();
    if (!st) return out;
    bind_text(st, 1, script);
    while (sqlite3_step(st) == SQLITE_ROW) json_array_append_new(out, version_from_row(st));
    sqlite3_finalize(st);
    return out;
}

json_t *store_version(store *s, const char *script, const char *version_id) {
    buf sql = {0};
    buf_printf(&sql, "SELECT %s FROM versions WHERE id = ? AND (? IS NULL OR script = ?)",
               kVersionColumns);
    sqlite3_stmt *st = prepare(s, sql.data);
    buf_free(&sql);
    if (!st) return NULL;
    bind_text(st, 1, version_id);
    bind_text(st, 2, script);
    bind_text(st, 3, script);
    json_t *out = sqlite3_step(st) == SQLITE_ROW ? version_from_row(st) : NULL;
    sqlite3_finalize(st);
    return out;
}

json_t *store_version_modules(store *s, const char *version_id) {
    json_t *v = store_version(s, NULL, version_id);
    if (!v) return NULL;
    json_t *modules = json_incref(json_object_get(v, "_modules"));
    json_decref(v);
    return modules;
}

json_t *store_deployments(store *s, const char *script) {
    sqlite3_stmt *st = prepare(s, "SELECT id, created_on, author, annotations, versions FROM "
                                  "deployments WHERE script = ? ORDER BY seq DESC");
    json_t *out = json_array();
    if (!st) return out;
    bind_text(st, 1, script);
    while (sqlite3_step(st) == SQLITE_ROW) json_array_append_new(out, deployment_from_row(st));
    sqlite3_finalize(st);
    return out;
}

json_t *store_deployment(store *s, const char *script, const char *deployment_id) {
    sqlite3_stmt *st = prepare(s, "SELECT id, created_on, author, annotations, versions FROM "
                                  "deployments WHERE script = ? AND id = ?");
    if (!st) return NULL;
    bind_text(st, 1, script);
    bind_text(st, 2, deployment_id);
    json_t *out = sqlite3_step(st) == SQLITE_ROW ? deployment_from_row(st) : NULL;
    sqlite3_finalize(st);
    return out;
}

json_t *store_active_deployment(store *s, const char *script) {
    sqlite3_stmt *st = prepare(s, "SELECT id, created_on, author, annotations, versions FROM "
                                  "deployments WHERE script = ? ORDER BY seq DESC LIMIT 1");
    if (!st) return NULL;
    bind_text(st, 1, script);
    json_t *out = sqlite3_step(st) == SQLITE_ROW ? deployment_from_row(st) : NULL;
    sqlite3_finalize(st);
    return out;
}

json_t *store_audit(store *s, const char *script, int limit) {
    sqlite3_stmt *st = prepare(s, "SELECT id, at, actor, email, action, resource_type, resource_id,"
                                  " metadata FROM audit WHERE (? IS NULL OR resource_id = ?)"
                                  " ORDER BY seq DESC LIMIT ?");
    json_t *out = json_array();
    if (!st) return out;
    bind_text(st, 1, script);
    bind_text(st, 2, script);
    sqlite3_bind_int(st, 3, limit > 0 ? limit : 100);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_array_append_new(
            out, json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:b}, s:{s:s, s:s}, s:o}", "id",
                           col_text(st, 0), "when", col_text(st, 1), "actor", "type", "token", "id",
                           col_text(st, 2), "email", col_text(st, 3), "action", "type",
                           col_text(st, 4), "result", 1, "resource", "type", col_text(st, 5), "id",
                           col_text(st, 6), "metadata", col_json(st, 7)));
    }
    sqlite3_finalize(st);
    return out;
}

/* ---- changes ----------------------------------------------------------------------------- */

static int begin(store *s) {
    return exec(s, "BEGIN IMMEDIATE");
}
static void rollback(store *s) {
    exec(s, "ROLLBACK");
}
static int commit(store *s) {
    return exec(s, "COMMIT");
}

static int audit(store *s, const store_actor *actor, const char *action, const char *rtype,
                 const char *rid, json_t *metadata) {
    char id[37], now[32];
    uuid_v4(id);
    store_now(now);
    sqlite3_stmt *st = prepare(s, "INSERT INTO audit (id, at, actor, email, action, resource_type,"
                                  " resource_id, metadata) VALUES (?,?,?,?,?,?,?,?)");
    if (!st) return -1;
    bind_text(st, 1, id);
    bind_text(st, 2, now);
    bind_text(st, 3, actor->token_id);
    bind_text(st, 4, actor->email);
    bind_text(st, 5, action);
    bind_text(st, 6, rtype);
    bind_text(st, 7, rid);
    bind_json(st, 8, metadata);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int64_t next_number(store *s, const char *sql, const char *script) {
    sqlite3_stmt *st = prepare(s, sql);
    if (!st) return -1;
    bind_text(st, 1, script);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) + 1 : 1;
    sqlite3_finalize(st);
    return n;
}

/* Inserts a deployment row inside the caller's transaction. */
static int insert_deployment(store *s, const char *script, const char *id, json_t *versions,
                             json_t *annotations, const store_actor *actor) {
    char now[32];
    store_now(now);
    int64_t seq = next_number(s, "SELECT MAX(seq) FROM deployments WHERE script = ?", script);
    sqlite3_stmt *st = prepare(s, "INSERT INTO deployments (id, script, seq, created_on, author,"
                                  " annotations, versions) VALUES (?,?,?,?,?,?,?)");
    if (!st) return -1;
    bind_text(st, 1, id);
    bind_text(st, 2, script);
    sqlite3_bind_int64(st, 3, seq);
    bind_text(st, 4, now);
    bind_text(st, 5, actor->email);
    bind_json(st, 6, annotations);
    bind_json(st, 7, versions);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    if (rc == 0) {
        json_t *meta = json_pack("{s:s, s:O}", "deployment_id", id, "versions", versions);
        rc = audit(s, actor, "deployment.create", "script", script, meta);
        json_decref(meta);
    }
    return rc;
}

/* The routes of the deployment's versions (the one with the largest share) become the
 * script's. */
static int update_script_routes(store *s, const char *script, json_t *versions) {
    size_t i;
    json_t *entry, *routes = NULL;
    double best = -1;
    json_array_foreach(versions, i, entry) {
        double pct = json_number_value(json_object_get(entry, "percentage"));
        json_t *v =
            store_version(s, script, json_string_value(json_object_get(entry, "version_id")));
        if (v && pct > best && json_is_array(json_object_get(v, "_routes"))) {
            json_decref(routes);
            routes = json_incref(json_object_get(v, "_routes"));
            best = pct;
        }
        json_decref(v);
    }
    if (!routes) return 0;
    char now[32];
    store_now(now);
    sqlite3_stmt *st = prepare(s, "UPDATE scripts SET routes = ?, modified_on = ? WHERE name = ?");
    int rc = -1;
    if (st) {
        bind_json(st, 1, routes);
        bind_text(st, 2, now);
        bind_text(st, 3, script);
        rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
        sqlite3_finalize(st);
    }
    json_decref(routes);
    return rc;
}

json_t *store_create_version(store *s, const store_new_version *v, const store_actor *actor,
                             bool deploy, char **deployment_id, char *err, size_t errlen) {
    if (begin(s) != 0) {
        set_err(err, errlen, "store: %s", sqlite3_errmsg(s->db));
        return NULL;
    }
    char now[32], id[37];
    store_now(now);
    uuid_v4(id);
    bool created = false;
    sqlite3_stmt *st = prepare(s, "INSERT OR IGNORE INTO scripts (name, created_on, modified_on)"
                                  " VALUES (?,?,?)");
    int ok = st != NULL;
    if (ok) {
        bind_text(st, 1, v->script);
        bind_text(st, 2, now);
        bind_text(st, 3, now);
        ok = sqlite3_step(st) == SQLITE_DONE;
        created = ok && sqlite3_changes(s->db) > 0;
        sqlite3_finalize(st);
    }
    if (ok && created) {
        json_t *meta = json_object();
        ok = audit(s, actor, "script.create", "script", v->script, meta) == 0;
        json_decref(meta);
    }
    int64_t number =
        ok ? next_number(s, "SELECT MAX(number) FROM versions WHERE script = ?", v->script) : -1;
    json_t *annotations = (v->annotations ? json_deep_copy(v->annotations) : json_object());
    json_object_set_new(annotations, "workers/triggered_by", json_string(v->triggered_by));
    if (ok && number > 0) {
        st = prepare(s, "INSERT INTO versions (id, script, number, created_on, author, main_module,"
                        " bindings, compatibility_date, compatibility_flags, annotations, cpu_ms,"
                        " routes, etag, modules, settings) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
        ok = st != NULL;
        if (ok) {
            bind_text(st, 1, id);
            bind_text(st, 2, v->script);
            sqlite3_bind_int64(st, 3, number);
            bind_text(st, 4, now);
            bind_text(st, 5, actor->email);
            bind_text(st, 6, v->main_module);
            bind_json(st, 7, v->bindings);
            bind_text(st, 8, v->compatibility_date);
            bind_json(st, 9, v->compatibility_flags);
            bind_json(st, 10, annotations);
            sqlite3_bind_int64(st, 11, v->cpu_ms);
            bind_json(st, 12, v->routes);
            bind_text(st, 13, v->etag);
            bind_json(st, 14, v->modules);
            bind_json(st, 15, v->settings);
            ok = sqlite3_step(st) == SQLITE_DONE;
            sqlite3_finalize(st);
        }
        if (ok) {
            json_t *meta = json_pack("{s:s, s:O}", "version_id", id, "message",
                                     json_object_get(annotations, "workers/message")
                                         ? json_object_get(annotations, "workers/message")
                                         : json_null());
            ok = audit(s, actor, "version.upload", "script", v->script, meta) == 0;
            json_decref(meta);
        }
    }
    json_decref(annotations);
    char dep_id[37] = "";
    if (ok && deploy) {
        uuid_v4(dep_id);
        json_t *versions = json_pack("[{s:s, s:i}]", "version_id", id, "percentage", 100);
        json_t *dep_annotations = json_object();
        if (json_object_get(v->annotations, "workers/message"))
            json_object_set(dep_annotations, "workers/message",
                            json_object_get(v->annotations, "workers/message"));
        ok = insert_deployment(s, v->script, dep_id, versions, dep_annotations, actor) == 0;
        if (ok && v->routes) ok = update_script_routes(s, v->script, versions) == 0;
        json_decref(versions);
        json_decref(dep_annotations);
    }
    if (!ok || commit(s) != 0) {
        set_err(err, errlen, "store: %s", sqlite3_errmsg(s->db));
        rollback(s);
        return NULL;
    }
    if (deploy && deployment_id) *deployment_id = xstrdup(dep_id);
    return store_version(s, v->script, id);
}

json_t *store_create_deployment(store *s, const char *script, json_t *versions, json_t *annotations,
                                const store_actor *actor, char *err, size_t errlen) {
    if (begin(s) != 0) {
        set_err(err, errlen, "store: %s", sqlite3_errmsg(s->db));
        return NULL;
    }
    char id[37];
    uuid_v4(id);
    int ok = insert_deployment(s, script, id, versions, annotations ? annotations : json_object(),
                               actor) == 0 &&
             update_script_routes(s, script, versions) == 0;
    if (!ok || commit(s) != 0) {
        set_err(err, errlen, "store: %s", sqlite3_errmsg(s->db));
        rollback(s);
        return NULL;
    }
    return store_deployment(s, script, id);
}

int store_delete_script(store *s, const char *script, const store_actor *actor, char *err,
                        size_t errlen) {
    if (begin(s) != 0) {
        set_err(err, errlen, "store: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    sqlite3_stmt *st = prepare(s, "DELETE FROM scripts WHERE name = ?");
    int ok = st != NULL;
    if (ok) {
        bind_text(st, 1, script);
        ok = sqlite3_step(st) == SQLITE_DONE;
        sqlite3_finalize(st);
    }
    if (ok) {
        json_t *meta = json_object();
        ok = audit(s, actor, "script.delete", "script", script, meta) == 0;
        json_decref(meta);
    }
    if (!ok || commit(s) != 0) {
        set_err(err, errlen, "store: %s", sqlite3_errmsg(s->db));
        rollback(s);
        return -1;
    }
    return 0;
}
