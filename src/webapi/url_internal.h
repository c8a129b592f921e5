/* Helpers shared by url.c, url_host.c and url_idna.c. Not part of the public API: every
 * global symbol still carries the url_ prefix so nothing collides with the rest of hearth. */
#ifndef HEARTH_WEBAPI_URL_INTERNAL_H
#define HEARTH_WEBAPI_URL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "webapi/url.h"

/* Decodes one UTF-8 sequence at s (n > 0 bytes available) the way the Encoding Standard's
 * UTF-8 decoder does: an invalid or truncated sequence yields U+FFFD and consumes only its
 * maximal valid prefix. Returns the number of bytes consumed. */
size_t url_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
void url_utf8_append(buf *b, uint32_t cp);
bool url_utf8_is_valid(const unsigned char *s, size_t n);

/* buf_putc without a call when there is room: the parser appends byte by byte. */
static inline void url_putc(buf *b, char c) {
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
    } else {
        buf_putc(b, c);
    }
}

/* Appends v in decimal (ports and IPv4 parts: no printf on the hot path). */
void url_append_uint(buf *b, unsigned v);

bool url_in_encode_set(unsigned char c, url_encode_set set);
/* Appends s percent-encoded with set; s must be valid UTF-8 (bytes >= 0x80 are always encoded,
 * which is what UTF-8 percent-encoding a code point amounts to). */
void url_encode_append(buf *b, const unsigned char *s, size_t n, url_encode_set set);
/* Percent-decodes s onto b. */
void url_decode_append(buf *b, const unsigned char *s, size_t n);

/* Host parser writing the serialized host to out. Returns 0, or -1 with *err set. */
int url_host_parse_into(buf *out, const unsigned char *in, size_t n, bool is_opaque,
                        const char **err);
/* Domain to ASCII of UTF-8 (already percent-decoded) input. Returns 0, or -1 with *err set. */
int url_domain_to_ascii_into(buf *out, const unsigned char *in, size_t n, bool be_strict,
                             const char **err);

#endif
