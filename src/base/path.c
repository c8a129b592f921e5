#include "base/path.h"

#include <string.h>

int path_resolve(const char *referrer, const char *specifier, buf *out) {
    buf joined = {0};
    if (referrer) {
        const char *slash = strrchr(referrer, '/');
        if (slash) buf_append(&joined, referrer, (size_t)(slash - referrer) + 1);
    }
    buf_puts(&joined, specifier);
    /* Split on '/' and rebuild without "." and "..". */
    const char *segs[256];
    size_t lens[256], n = 0;
    const char *p = joined.data;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || (len == 1 && p[0] == '.')) {
            /* skip */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (n == 0) {
                buf_free(&joined);
                return -1;
            }
            n--;
        } else if (n < 256) {
            segs[n] = p;
            lens[n++] = len;
        }
        if (!e) break;
        p = e + 1;
    }
    buf_clear(out);
    for (size_t i = 0; i < n; i++) {
        if (i) buf_putc(out, '/');
        buf_append(out, segs[i], lens[i]);
    }
    buf_free(&joined);
    return 0;
}
