/* multipart — parsing multipart/form-data request bodies (RFC 7578, RFC 2046 §5.1), as the
 * control API's version uploads use them.
 *
 * A part's data is not copied: it points into the body, which must outlive the result. Its
 * name, filename and content type are small NUL-terminated copies owned by the result. Bodies
 * with bare LF line endings are accepted too (see multipart.c). Errors name what is wrong and
 * where. */
#ifndef HEARTH_NET_MULTIPART_H
#define HEARTH_NET_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

typedef struct multipart_part {
    const char *name;         /* form field name (Content-Disposition name=); NUL-terminated
                               * copy owned by the result */
    const char *filename;     /* filename= if given, else NULL; owned by the result */
    const char *content_type; /* the part's Content-Type, or NULL; owned by the result */
    const char *data;         /* points into the body */
    size_t len;
} multipart_part;

typedef struct multipart {
    multipart_part *parts;
    size_t count;
} multipart;

/* Extracts the boundary parameter from a Content-Type header value
 * ("multipart/form-data; boundary=...", quoted or not). Returns a malloc'd string, or NULL
 * with a message in err when the type is not multipart/form-data or has no valid boundary. */
char *multipart_boundary(const char *content_type, char *err, size_t errlen);

/* Parses body. Returns 0 and fills *out (free with multipart_free), or -1 with a message in
 * err such as "part 3: missing Content-Disposition header" or "the body ends before the closing
 * boundary". Limits: at most 1000 parts; part headers at most 8 KiB each. */
int multipart_parse(const char *body, size_t len, const char *boundary, multipart *out, char *err,
                    size_t errlen);
void multipart_free(multipart *m);

/* The first part named `name`, or NULL. */
const multipart_part *multipart_find(const multipart *m, const char *name);

#endif
