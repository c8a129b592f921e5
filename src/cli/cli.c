#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

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

int cli_usage_error(const char *usage, const char *msg) {
    fprintf(stderr, "hearth: %s\n\n%s", msg, usage);
    return 2;
}
