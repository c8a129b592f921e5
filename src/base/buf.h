/* buf: a growable byte buffer, always NUL-terminated so it can be used as a C string.
 *
 * Zero-initialised (`buf b = {0};`) is a valid empty buffer. */
#ifndef HEARTH_BASE_BUF_H
#define HEARTH_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
} buf;

void buf_reserve(buf *b, size_t extra);
void buf_append(buf *b, const void *p, size_t n);
void buf_puts(buf *b, const char *s);
void buf_putc(buf *b, char c);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
void buf_clear(buf *b);
/* Removes the first n bytes (used by connection input buffers after a parse). */
void buf_consume(buf *b, size_t n);
/* Hands the storage to the caller (who must free() it) and leaves b empty. */
char *buf_detach(buf *b, size_t *len);
void buf_free(buf *b);

#endif
