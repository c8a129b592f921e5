/* sfv — Structured Field Values for HTTP (RFC 8941), the subset hearth reads: dictionaries,
 * used by the Cloudflare-Workers-Version-Overrides request header
 * (`hello="f1c3...", api="0a9e..."`).
 *
 * The parser follows RFC 8941 §4.2 exactly (including inner lists, parameters, byte sequences,
 * tokens, decimals and booleans) so that it accepts and rejects what the RFC does; callers get
 * each member's bare item when it is a string or token. */
#ifndef HEARTH_NET_SFV_H
#define HEARTH_NET_SFV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sfv_type {
    SFV_INTEGER,
    SFV_DECIMAL,
    SFV_STRING,
    SFV_TOKEN,
    SFV_BYTES,
    SFV_BOOLEAN,
    SFV_INNER_LIST, /* the member's value is an inner list (its items are not exposed) */
} sfv_type;

typedef struct sfv_member {
    char *key; /* NUL-terminated, lowercase as the RFC requires */
    sfv_type type;
    char *string; /* SFV_STRING / SFV_TOKEN: the value, unescaped, NUL-terminated;
                     SFV_BYTES: the decoded bytes (len in bytes_len) */
    size_t bytes_len;
    int64_t integer; /* SFV_INTEGER; SFV_BOOLEAN: 0 or 1 */
    double decimal;  /* SFV_DECIMAL */
} sfv_member;

typedef struct sfv_dict {
    sfv_member *members; /* in order; a key given twice keeps its last value (RFC 8941) */
    size_t count;
} sfv_dict;

/* Parses a dictionary field value (several header lines already combined with ", ").
 * Returns 0 and fills *out (free with sfv_dict_free), or -1 if the value is not a valid
 * dictionary (then *out is empty; err, if not NULL, says why). */
int sfv_parse_dict(const char *value, size_t len, sfv_dict *out, char *err, size_t errlen);
void sfv_dict_free(sfv_dict *d);
/* The member with this key, or NULL. */
const sfv_member *sfv_dict_get(const sfv_dict *d, const char *key);

#endif
