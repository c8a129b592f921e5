/* Files compiled into the binary by tools/embed.c (the JavaScript runtime, later the
 * dashboard). Each table ends with an entry whose name is NULL. */
#ifndef HEARTH_BASE_EMBEDDED_H
#define HEARTH_BASE_EMBEDDED_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct embedded_file {
    const char *name;
    const char *data; /* NUL-terminated for convenience; len excludes the NUL */
    size_t len;
};

/* The .js files of src/runtime/, named relative to it ("headers.js"). */
extern const struct embedded_file runtime_files[];

const struct embedded_file *embedded_find(const struct embedded_file *table, const char *name);

#ifdef __cplusplus
}
#endif

#endif
