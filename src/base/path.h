/* path — resolving module specifiers inside a Worker's set of files. */
#ifndef HEARTH_BASE_PATH_H
#define HEARTH_BASE_PATH_H

#include "base/buf.h"

/* Joins `specifier` to the directory of `referrer` ("src/a/index.js"; NULL for the top) and
 * removes "." and ".." segments into *out ("src/b.js"). Returns -1 when the result would
 * leave the top directory: a Worker reads only its own files. */
int path_resolve(const char *referrer, const char *specifier, buf *out);

#endif
