/* table — aligned text tables and terminal-safe text for the client commands' output.
 *
 * Everything shown comes from a server, so cells are cleaned of control characters (an
 * escape sequence in a version message must not reach the terminal) and widths count UTF-8
 * characters, not bytes. */
#ifndef HEARTH_CLI_TABLE_H
#define HEARTH_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct table table;

/* A table with `ncols` columns named by `headers`. */
table *table_new(size_t ncols, const char *const *headers);
/* Starts a new row; its cells are then given in order with table_cell. */
void table_row(table *t);
/* The next cell of the current row; NULL or "" shows as "-". Long text is cut to
 * `max_chars` (0: no limit) with "...". */
void table_cell(table *t, const char *text, size_t max_chars);
void table_cellf(table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t table_rows(const table *t);
/* Prints the header and the rows, columns two spaces apart, indented by `indent` spaces. */
void table_print(const table *t, FILE *out, int indent);
void table_free(table *t);

/* A copy of `s` safe to print: control characters become spaces (newlines and tabs are kept
 * when keep_newlines), invalid UTF-8 bytes become '?', and text longer than max_chars (0: no
 * limit) is cut and ends in "...". malloc'd; NULL s gives "-". */
char *term_clean(const char *s, bool keep_newlines, size_t max_chars);
/* Characters (UTF-8 code points) in s. */
size_t term_width(const char *s);

#endif
