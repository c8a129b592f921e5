/* dotenv — the `.dev.vars` file: KEY=value lines, as wrangler reads them (dotenv syntax:
 * comments, `export ` prefixes, single-quoted literal values, double-quoted values with \n
 * escapes, unquoted values trimmed and ending at a " #" comment). */
#ifndef HEARTH_CONFIG_DOTENV_H
#define HEARTH_CONFIG_DOTENV_H

#include <stddef.h>

#include "config/value.h"

/* Returns a CFG_TABLE of strings (lines recorded), or NULL with a message naming the line. */
cfg_value *dotenv_parse(const char *src, size_t len, char *err, size_t errlen);

#endif
