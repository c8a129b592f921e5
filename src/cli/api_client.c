#include "cli/api_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/fs.h"
#include "cli/cli.h"
#include "cli/table.h"

/* Answers larger than this are not a control API talking. */
#define MAX_RESPONSE_BYTES (256u << 20)

const char *json_str(const json_t *obj, const char *key) {
    return json_string_value(json_object_get(obj, key));
}

/* Settings come from the user and end up in HTTP headers and URLs: a control character
 * there would let a value forge a header. */
static bool printable(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x21 || *p == 0x7F) return false;
    return true;
}

static bool http_url(const char *s) {
    return (!strncmp(s, "http://", 7) && s[7]) || (!strncmp(s, "https://", 8) && s[8]);
}

int api_client_init(api_client *c, const char *url, const char *token) {
    memset(c, 0, sizeof *c);
    if (!http_url(url) || !printable(url)) {
        fprintf(stderr,
                "hearth: the control API URL must start with http:// or https:// (found "
                "\"%s\")\n",
                url);
        return -1;
    }
    if (!*token || !printable(token)) {
        fprintf(stderr, "hearth: the API token is empty or holds spaces or control characters\n");
        return -1;
    }
    c->url = xstrdup(url);
    for (size_t n = strlen(c->url); n > 0 && c->url[n - 1] == '/'; n--) c->url[n - 1] = '\0';
    c->token = xstrdup(token);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    c->curl = curl_easy_init();
    if (!c->curl) {
        fprintf(stderr, "hearth: libcurl failed to start\n");
        api_client_close(c);
        return -1;
    }
    return 0;
}

void api_client_close(api_client *c) {
    if (c->curl) curl_easy_cleanup(c->curl);
    if (c->url) curl_global_cleanup(); /* paired with the init in api_client_init */
    free(c->url);
    free(c->token);
    free(c->account_id);
    memset(c, 0, sizeof *c);
}

char *api_config_path(void) {
    const char *xdg = getenv("XDG_CONFIG_HOME");
    /* The XDG spec says relative values are invalid and must be ignored. */
    if (xdg && xdg[0] == '/') return fs_join(xdg, "hearth/config.json");
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    return fs_join(home, ".config/hearth/config.json");
}

static int mkdir_parents(const char *path, char *err, size_t errlen) {
    char *dir = xstrdup(path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "%s: %s", dir, strerror(errno));
            free(dir);
            return -1;
        }
        *p = '/';
    }
    free(dir);
    return 0;
}

int api_config_save(const api_client *c, char *err, size_t errlen) {
    char *path = api_config_path();
    if (!path) {
        snprintf(err, errlen, "neither XDG_CONFIG_HOME nor HOME is set");
        return -1;
    }
    json_t *cfg = json_pack("{s:s, s:s, s:s?}", "api_url", c->url, "token", c->token, "account_id",
                            c->account_id);
    char *text = json_dumps(cfg, JSON_INDENT(2));
    json_decref(cfg);
    buf data = {0};
    buf_printf(&data, "%s\n", text);
    free(text);
    /* fs_write_file creates the file 0600 and renames it into place, so the token is never
     * readable by others, not even for a moment. */
    int rc = mkdir_parents(path, err, errlen);
    if (rc == 0) rc = fs_write_file(path, data.data, data.len, err, errlen);
    if (rc == 0) chmod(path, 0600);
    buf_free(&data);
    free(path);
    return rc;
}

/* Reads the config file. Returns 0 with *out (NULL when there is no file), or -1 after
 * printing why the file cannot be used. */
static int config_load(json_t **out) {
    *out = NULL;
    char *path = api_config_path();
    if (!path || !fs_exists(path)) {
        free(path);
        return 0;
    }
    json_error_t jerr;
    json_t *cfg = json_load_file(path, 0, &jerr);
    const char *bad = NULL;
    if (!cfg)
        bad = jerr.text;
    else if (!json_is_object(cfg))
        bad = "it is not a JSON object";
    else if ((json_object_get(cfg, "api_url") && !json_str(cfg, "api_url")) ||
             (json_object_get(cfg, "token") && !json_str(cfg, "token")) ||
             (json_object_get(cfg, "account_id") && !json_str(cfg, "account_id")))
        bad = "api_url, token and account_id must be strings";
    if (bad) {
        fprintf(stderr,
                "hearth: %s: not a usable hearth config file: %s; run `hearth login` "
                "again\n",
                path, bad);
        json_decref(cfg);
        free(path);
        return -1;
    }
    free(path);
    *out = cfg;
    return 0;
}

static const char *env_setting(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int api_client_open(api_client *c) {
    memset(c, 0, sizeof *c);
    const char *env_url = env_setting("HEARTH_API_URL");
    const char *env_token = env_setting("HEARTH_API_TOKEN");
    json_t *cfg = NULL;
    if ((!env_url || !env_token) && config_load(&cfg) != 0) return -1;
    const char *url = env_url ? env_url : json_str(cfg, "api_url");
    const char *token = env_token ? env_token : json_str(cfg, "token");
    if (!url) url = API_DEFAULT_URL;
    if (!token) {
        char *path = api_config_path();
        fprintf(stderr,
                "hearth: no API token: run `hearth login` (it saves one in %s), or set "
                "HEARTH_API_TOKEN (and HEARTH_API_URL, default %s)\n",
                path ? path : "~/.config/hearth/config.json", API_DEFAULT_URL);
        free(path);
        json_decref(cfg);
        return -1;
    }
    if (api_client_init(c, url, token) != 0) {
        json_decref(cfg);
        return -1;
    }
    /* The saved account belongs to the saved server and token; when the environment names
     * another, ask that server. */
    const char *account = json_str(cfg, "account_id");
    int rc = 0;
    if (!env_url && !env_token && account && *account && printable(account))
        c->account_id = xstrdup(account);
    else
        rc = api_fetch_account(c);
    json_decref(cfg);
    if (rc != 0) api_client_close(c);
    return rc;
}

int api_fetch_account(api_client *c) {
    json_t *accounts = api_call(c, "GET", "/accounts", NULL, NULL, 0);
    if (!accounts) return -1;
    const char *id = json_str(json_array_get(accounts, 0), "id");
    if (!id || !*id || !printable(id)) {
        fprintf(stderr, "hearth: the control API at %s lists no account for this token\n", c->url);
        json_decref(accounts);
        return -1;
    }
    free(c->account_id);
    c->account_id = xstrdup(id);
    json_decref(accounts);
    return 0;
}

char *api_script_path(const api_client *c, const char *script, const char *suffix, const char *id) {
    char *esc = curl_easy_escape(c->curl, script, 0);
    char *esc_id = id ? curl_easy_escape(c->curl, id, 0) : NULL;
    buf b = {0};
    buf_printf(&b, "/accounts/%s/workers/scripts/%s%s%s", c->account_id ? c->account_id : "",
               esc ? esc : "", suffix ? suffix : "", esc_id ? esc_id : "");
    curl_free(esc);
    curl_free(esc_id);
    return buf_detach(&b, NULL);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg) {
    buf *b = arg;
    if (b->len + size * n > MAX_RESPONSE_BYTES) return 0; /* aborts the transfer */
    buf_append(b, data, size * n);
    return size * n;
}

/* Prints the errors of a failed envelope: each message (they name the field or module:line
 * they are about) with its code. */
static void print_api_errors(const api_client *c, json_t *env, long status, const char *method,
                             const char *path) {
    size_t i, printed = 0;
    json_t *e;
    json_array_foreach(json_object_get(env, "errors"), i, e) {
        const char *msg = json_str(e, "message");
        if (!msg) continue;
        char *clean = term_clean(msg, true, 0);
        json_t *code = json_object_get(e, "code");
        if (json_is_integer(code))
            fprintf(stderr, "hearth: %s [code %lld]\n", clean, (long long)json_integer_value(code));
        else
            fprintf(stderr, "hearth: %s\n", clean);
        free(clean);
        printed++;
    }
    if (!printed)
        fprintf(stderr, "hearth: the control API refused the request without saying why\n");
    fprintf(stderr, "  (HTTP %ld from %s %s/client/v4%s)\n", status, method, c->url, path);
    if (status == 401 || status == 403)
        fprintf(stderr, "hearth: check the API token: run `hearth login`, or set "
                        "HEARTH_API_TOKEN\n");
}

json_t *api_call(api_client *c, const char *method, const char *path, json_t *body,
                 const api_part *parts, size_t part_count) {
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the connection cache */
    buf url = {0}, auth = {0}, resp = {0};
    buf_printf(&url, "%s/client/v4%s", c->url, path);
    buf_printf(&auth, "Authorization: Bearer %s", c->token);
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, auth.data);
    headers = curl_slist_append(headers, "Accept: application/json");
    /* Without this curl waits up to a second for "100 Continue" before large bodies. */
    headers = curl_slist_append(headers, "Expect:");
    char *json_body = NULL;
    curl_mime *mime = NULL;
    if (body) {
        json_body = json_dumps(body, JSON_COMPACT);
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json_body));
    } else if (parts) {
        mime = curl_mime_init(h);
        for (size_t i = 0; i < part_count; i++) {
            curl_mimepart *p = curl_mime_addpart(mime);
            curl_mime_name(p, parts[i].name);
            if (parts[i].filename) curl_mime_filename(p, parts[i].filename);
            curl_mime_type(p, parts[i].type);
            curl_mime_data(p, parts[i].data, parts[i].len);
        }
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hearth/" HEARTH_VERSION);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    /* Uploads are compiled and run before the answer, so allow a quiet server a while, but
     * do not hang forever on one that stopped answering. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 300L);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_mime_free(mime);
    free(json_body);
    buf_free(&auth);
    buf_free(&url);

    json_t *result = NULL;
    if (rc != CURLE_OK) {
        char *why = term_clean(errbuf[0] ? errbuf : curl_easy_strerror(rc), false, 300);
        if (rc == CURLE_WRITE_ERROR)
            fprintf(stderr, "hearth: the control API at %s sent an answer larger than %u MiB\n",
                    c->url, MAX_RESPONSE_BYTES >> 20);
        else
            fprintf(stderr, "hearth: cannot reach the control API at %s: %s\n", c->url, why);
        free(why);
        buf_free(&resp);
        return NULL;
    }
    json_error_t jerr;
    json_t *env = resp.len ? json_loadb(resp.data, resp.len, 0, &jerr) : NULL;
    if (!json_is_object(env)) {
        char *snippet = term_clean(resp.data ? resp.data : "", false, 200);
        fprintf(stderr,
                "hearth: the control API at %s answered HTTP %ld to %s %s/client/v4%s with "
                "something that is not a JSON envelope%s%s\n",
                c->url, status, method, c->url, path, *snippet ? ": " : " (an empty body)",
                snippet);
        free(snippet);
    } else if (status < 200 || status > 299 || !json_is_true(json_object_get(env, "success"))) {
        print_api_errors(c, env, status, method, path);
    } else {
        result = json_object_get(env, "result");
        result = result ? json_incref(result) : json_null();
    }
    json_decref(env);
    buf_free(&resp);
    return result;
}
