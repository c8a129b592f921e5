/* route_pattern — Workers route patterns such as "api.example.com/<star>" or
 * "<star>.example.com/v1/<star>" (<star> being "*", which cannot be written here).
 *
 * The rules are the platform's: an optional "http://" or "https://" (accepted and ignored:
 * hearth's data plane is plain HTTP, usually behind a TLS proxy), a host that may start with
 * "*" (any host ending in the rest, so "<star>example.com" matches "example.com" too), then an
 * optional path that may end with "*" (a prefix). No query, fragment, port or "*" elsewhere.
 * Matching compares the request's whole path including its query, so only a pattern ending in "*"
 * matches a URL with a query. */
#ifndef HEARTH_PLATFORM_ROUTE_PATTERN_H
#define HEARTH_PLATFORM_ROUTE_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct route_pattern {
    char *host;         /* lowercase, without a leading "*" */
    bool host_wildcard; /* the host started with "*": a suffix */
    char *path;         /* without a trailing "*"; "/" when the pattern had no path */
    bool path_wildcard; /* the path ended with "*": a prefix */
    size_t specificity; /* of two matching patterns, the larger wins */
} route_pattern;

/* Parses `pattern`. Returns 0, or -1 with a message naming the pattern and what is wrong. */
int route_pattern_parse(const char *pattern, route_pattern *out, char *err, size_t errlen);
void route_pattern_free(route_pattern *p);

/* host: without port, any case; target: the request target's path and query. */
bool route_pattern_matches(const route_pattern *p, const char *host, size_t host_len,
                           const char *target, size_t target_len);

#endif
