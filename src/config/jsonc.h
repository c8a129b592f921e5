/* jsonc — wrangler.json and wrangler.jsonc (JSON with comments and trailing commas) parsed
 * with jansson into the cfg_value tree the TOML parser also produces. */
#ifndef HEARTH_CONFIG_JSONC_H
#define HEARTH_CONFIG_JSONC_H

#include <stddef.h>

#include "config/value.h"

typedef struct jsonc_error {
    int line, column;
    char message[256];
} jsonc_error;

/* Returns the document (any JSON value) or NULL with *err filled. */
cfg_value *jsonc_parse(const char *src, size_t len, jsonc_error *err);

#endif
