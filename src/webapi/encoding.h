/* encoding — UTF-8 and base64, for TextEncoder/TextDecoder, atob/btoa and the ops behind
 * them. */
#ifndef HEARTH_WEBAPI_ENCODING_H
#define HEARTH_WEBAPI_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Decodes UTF-8 into (well-formed) UTF-8, replacing each maximal invalid subpart with U+FFFD
 * as the Encoding Standard says. With stream, an incomplete sequence at the end is left
 * unconsumed. With fatal, stops at the first error and sets *error. Returns bytes consumed. */
size_t utf8_decode(const uint8_t *in, size_t len, bool stream, bool fatal, buf *out, bool *error);

void base64_encode(const uint8_t *in, size_t len, buf *out);
/* The HTML Standard's forgiving-base64 decode; false if the input is not valid base64. */
bool base64_decode_forgiving(const uint8_t *in, size_t len, buf *out);

void encoding_ops_register(void);

#endif
