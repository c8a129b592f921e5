/* Allocation wrappers that never return NULL.
 *
 * hearth treats running out of memory in the C heap as fatal: every caller of these
 * functions can assume success, which keeps error paths for the things that can really
 * fail (bad input, I/O) readable. */
#ifndef HEARTH_BASE_ALLOC_H
#define HEARTH_BASE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Copy of n bytes of p followed by a NUL, so binary-safe data can also be used as a C string. */
char *xmemdup0(const void *p, size_t n);

#endif
