/* sourcemap_slim — a copy of a source map's JSON without the text of its sourcesContent
 * (see sourcemap_slim.c for why). */
#ifndef HEARTH_OBSERVE_SOURCEMAP_SLIM_H
#define HEARTH_OBSERVE_SOURCEMAP_SLIM_H

#include <stddef.h>

/* Returns the copy (free() it) and its length, or NULL when `json` is not well-formed JSON
 * (the caller then parses the original for the error). */
char *sourcemap_slim(const char *json, size_t len, size_t *out_len);

#endif
