/* json_text — writing JSON text directly into a buffer, for output built on a hot path (trace
 * events) where building a tree of objects first would cost more than the output itself. */
#ifndef HEARTH_BASE_JSON_TEXT_H
#define HEARTH_BASE_JSON_TEXT_H

#include <stddef.h>

#include "base/buf.h"

/* Appends s[0..len) as a quoted JSON string: quotes, backslashes and control characters
 * escaped, bytes that are not valid UTF-8 replaced by U+FFFD (the output is always valid JSON
 * whatever the input). */
void json_text_string(buf *b, const char *s, size_t len);
/* The same for a NUL-terminated string; NULL writes `null`. */
void json_text_cstring(buf *b, const char *s);

#endif
