/* toml: hearth's TOML 1.0 parser (https://toml.io/en/v1.0.0), producing a cfg_value tree.
 *
 * The whole document is parsed in one call; there is no streaming and no writer. The parser
 * is strict TOML 1.0: the 1.1 relaxations (newlines and trailing commas in inline tables,
 * \e and \xHH escapes, times without seconds) are rejected.
 *
 * How TOML maps onto cfg_value:
 *
 *   string           CFG_STRING. u.str.len is the truth: "\u0000" yields an embedded NUL.
 *                    Newlines inside multi-line strings are returned as "\n", also when the
 *                    document uses CRLF.
 *   integer          CFG_INTEGER (int64_t; literals outside the int64 range are errors).
 *   float            CFG_FLOAT. inf and nan keep their sign. Literals too large for a double
 *                    are errors rather than silently becoming inf.
 *   boolean          CFG_BOOL.
 *   offset datetime  CFG_DATETIME, text "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)".
 *   local datetime   CFG_DATETIME_LOCAL, text "YYYY-MM-DDTHH:MM:SS[.frac]".
 *   local date       CFG_DATE_LOCAL, text "YYYY-MM-DD".
 *   local time       CFG_TIME_LOCAL, text "HH:MM:SS[.frac]".
 *                    Datetime text is normalised: the date/time separator is always 'T' (TOML
 *                    also allows 't' and a space) and a UTC offset 'z' becomes 'Z'. Fraction
 *                    digits are kept exactly as written (any precision) and "-00:00" is kept.
 *                    Dates are checked against the calendar (leap years included); second 60
 *                    is accepted in any minute, since leap seconds cannot be known here.
 *   array            CFG_ARRAY (TOML 1.0 arrays may mix types).
 *   table            CFG_TABLE, keys in the order they first appear in the document.
 *
 * Keys are NUL-terminated UTF-8 strings. TOML allows U+0000 in a quoted key (only through an
 * escape such as "\u0000"); such a character is stored as the two bytes C0 80 (the "modified
 * UTF-8" convention), which keeps keys C strings while keeping "\u0000" distinct from "".
 *
 * Lines: every node's `line` is the 1-based line where its key was written; for a table
 * created by a [header] (including the tables a header like [a.b.c] creates implicitly, and
 * each element of an array of tables) it is the header's line, and for an array element it is
 * the line where the element starts. A table created implicitly by [a.b] and defined later by
 * its own [a] takes the line of [a]. The root table has line 1.
 *
 * Limits: at most TOML_MAX_DEPTH tables and arrays may be nested inside one another (the root
 * table is not counted; a key holds at most TOML_MAX_DEPTH dotted parts), so code walking the
 * tree recursively cannot exhaust the stack. Documents must be smaller than 2 GiB. */
#ifndef HEARTH_CONFIG_TOML_H
#define HEARTH_CONFIG_TOML_H

#include <stddef.h>

#include "config/value.h"

#define TOML_MAX_DEPTH 128

typedef struct toml_error {
    int line;   /* 1-based */
    int column; /* 1-based, counted in Unicode characters (a tab counts as one) */
    char message[256];
} toml_error;

/* Parses a whole TOML 1.0 document. Returns a CFG_TABLE (caller frees with cfg_free) or NULL
 * with *err filled: 1-based line and column of the problem and a message a user can act on,
 * e.g. "duplicate key \"name\" (first defined on line 3)", "invalid escape \\q in string",
 * "expected '=' after key". err may be NULL when the caller only needs success or failure.
 * src need not be NUL-terminated; it must be UTF-8 (a leading byte order mark is skipped). */
cfg_value *toml_parse(const char *src, size_t len, toml_error *err);

#endif
