#include "cli/cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "js/engine.h"
#include "platform/runtime_ops.h"
#include "platform/server.h"

bool cli_parse_long(const char *s, long min, long max, long *out) {
    if (!s || !*s) return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

bool cli_parse_seconds(const char *s, double *out) {
    if (!s || !*s) return false;
    char *end;
    double v = strtod(s, &end);
    if (*end || !(v >= 0) || v > 86400.0 * 365) return false;
    *out = v;
    return true;
}

static const char *chosen_environment;

int cli_take_environment(int argc, char **argv) {
    int out = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *name = NULL;
        if (!strcmp(a, "--env") || !strcmp(a, "-e")) {
            name = i + 1 < argc ? argv[++i] : "";
        } else if (!strncmp(a, "--env=", 6)) {
            name = a + 6;
        } else {
            argv[out++] = argv[i];
            continue;
        }
        if (!*name || name[0] == '-') {
            fprintf(stderr, "hearth: --env needs the name of an environment ([env.NAME] in "
                            "wrangler.toml)\n");
            return -1;
        }
        chosen_environment = name;
    }
    argv[out] = NULL;
    return out;
}

const char *cli_environment(void) {
    return chosen_environment;
}

int cli_start_runtime(void) {
    js_error err = {0};
    runtime_ops_register();
    if (js_engine_init(&err) == 0) return 0;
    char *text = js_error_format(&err);
    fprintf(stderr, "hearth: the JavaScript runtime failed to start: %s\n", text);
    free(text);
    return -1;
}

int cli_usage_error(const char *usage, const char *msg) {
    fprintf(stderr, "hearth: %s\n\n%s", msg, usage);
    return 2;
}

int cli_server_option(int argc, char **argv, int *i, server_config *cfg, const char *usage) {
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long n;
    double s;
    if (!strcmp(a, "--threads")) {
        /* At most 64: per-shard metric blocks are a fixed array (METRICS_MAX_SHARDS). */
        if (!cli_parse_long(v, 1, 64, &n))
            return cli_usage_error(usage, "--threads needs a number from 1 to 64"), -1;
        cfg->threads = (unsigned)n;
    } else if (!strcmp(a, "--max-body-size")) {
        if (!cli_parse_long(v, 0, 1L << 40, &n))
            return cli_usage_error(usage, "--max-body-size needs a number of bytes"), -1;
        cfg->http.max_body_bytes = (size_t)n;
    } else if (!strcmp(a, "--ws-max-message")) {
        if (!cli_parse_long(v, 125, 1L << 30, &n))
            return cli_usage_error(
                       usage, "--ws-max-message needs a number of bytes from 125 to 1073741824"),
                   -1;
        cfg->ws_max_message = (size_t)n;
    } else if (!strcmp(a, "--memory-limit")) {
        if (!cli_parse_long(v, 16, 65536, &n))
            return cli_usage_error(usage, "--memory-limit needs a number of MiB from 16 to 65536"),
                   -1;
        cfg->realm_heap_limit = (size_t)n * 1024 * 1024;
    } else if (!strcmp(a, "--request-timeout") || !strcmp(a, "--idle-timeout")) {
        if (!cli_parse_seconds(v, &s))
            return cli_usage_error(usage, "timeouts are given in seconds, e.g. 30 or 0.5"), -1;
        uint64_t ms = (uint64_t)(s * 1000.0);
        if (!strcmp(a, "--request-timeout"))
            cfg->http.request_timeout_ms = ms ? ms : 1;
        else
            cfg->http.idle_timeout_ms = ms ? ms : 1;
    } else if (!strcmp(a, "--ratelimit")) {
        /* Checked when the server starts (ratelimiter_new), with the other startup errors. */
        if (!v || !*v)
            return cli_usage_error(usage, "--ratelimit needs embedded or memcached://HOST:PORT"),
                   -1;
        cfg->ratelimit = v;
    } else if (!strcmp(a, "--ratelimit-fail")) {
        if (!v || (strcmp(v, "open") != 0 && strcmp(v, "closed") != 0))
            return cli_usage_error(usage, "--ratelimit-fail needs open or closed"), -1;
        cfg->ratelimit_fail_closed = !strcmp(v, "closed");
    } else {
        return 0;
    }
    (*i)++;
    return 1;
}
