#include "platform/route_pattern.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"

static int fail(char *err, size_t errlen, const char *pattern, const char *what) {
    snprintf(err, errlen, "route \"%s\": %s (expected e.g. \"api.example.com/*\")", pattern, what);
    return -1;
}

static bool host_char(char c) {
    return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

int route_pattern_parse(const char *pattern, route_pattern *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    const char *p = pattern;
    if (strncasecmp(p, "https://", 8) == 0)
        p += 8;
    else if (strncasecmp(p, "http://", 7) == 0)
        p += 7;
    const char *slash = strchr(p, '/');
    size_t host_len = slash ? (size_t)(slash - p) : strlen(p);
    const char *path = slash ? slash : "/";
    size_t path_len = strlen(path);

    bool host_wildcard = host_len > 0 && p[0] == '*';
    const char *host = p + (host_wildcard ? 1 : 0);
    size_t hlen = host_len - (host_wildcard ? 1 : 0);
    if (host_len == 0) return fail(err, errlen, pattern, "no host");
    if (hlen == 0) return fail(err, errlen, pattern, "\"*\" alone is not a host");
    for (size_t i = 0; i < hlen; i++) {
        if (host[i] == '*')
            return fail(err, errlen, pattern, "\"*\" is allowed only at the start of the host");
        if (host[i] == ':') return fail(err, errlen, pattern, "a port is not allowed");
        if (!host_char(host[i]))
            return fail(err, errlen, pattern,
                        "the host may hold only letters, digits, '-' and '.'");
    }
    for (size_t i = 0; i < path_len; i++) {
        if (path[i] == '?' || path[i] == '#')
            return fail(err, errlen, pattern, "a query or fragment is not allowed");
        if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f)
            return fail(err, errlen, pattern, "spaces and control characters are not allowed");
        if (path[i] == '*' && i != path_len - 1)
            return fail(err, errlen, pattern, "\"*\" is allowed only at the end of the path");
    }
    out->host_wildcard = host_wildcard;
    out->host = xstrndup(host, hlen);
    for (char *c = out->host; *c; c++) *c = (char)tolower((unsigned char)*c);
    out->path_wildcard = path[path_len - 1] == '*';
    out->path = xstrndup(path, path_len - (out->path_wildcard ? 1 : 0));
    /* Longer wins; between equal lengths, an exact host or path beats a wildcard. */
    out->specificity =
        hlen + strlen(out->path) + (host_wildcard ? 0 : 1) + (out->path_wildcard ? 0 : 1);
    return 0;
}

void route_pattern_free(route_pattern *p) {
    free(p->host);
    free(p->path);
    p->host = p->path = NULL;
}

bool route_pattern_matches(const route_pattern *p, const char *host, size_t host_len,
                           const char *target, size_t target_len) {
    size_t n = strlen(p->host);
    bool host_ok = p->host_wildcard
                       ? host_len >= n && strncasecmp(host + host_len - n, p->host, n) == 0
                       : host_len == n && strncasecmp(host, p->host, n) == 0;
    if (!host_ok) return false;
    size_t m = strlen(p->path);
    if (p->path_wildcard) return target_len >= m && strncmp(target, p->path, m) == 0;
    return target_len == m && strncmp(target, p->path, m) == 0;
}
