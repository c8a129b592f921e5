#include "cli/table.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

struct table {
    size_t ncols;
    char **cells;  /* row-major; row 0 is the header */
    size_t rows;   /* including the header */
    size_t filled; /* cells given so far */
};

/* Length of the well-formed UTF-8 sequence at s (1 to 4), 0 if it is not one. Overlong
 * forms and surrogates count as malformed, as in a strict decoder. */
static size_t utf8_seq(const unsigned char *s, uint32_t *cp) {
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (n == 0 || (n == 3 && s[0] > 0xEF)) return 0;
    uint32_t v = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

char *term_clean(const char *s, bool keep_newlines, size_t max_chars) {
    if (!s) return xstrdup("-");
    buf out = {0};
    size_t chars = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        if (max_chars && chars == max_chars) {
            /* Cut, leaving room for the marker so the result stays within max_chars. */
            size_t keep = max_chars > 3 ? max_chars - 3 : 0;
            size_t i = 0, seen = 0;
            while (i < out.len && seen < keep) {
                i++;
                while (i < out.len && ((unsigned char)out.data[i] & 0xC0) == 0x80) i++;
                seen++;
            }
            out.len = i;
            out.data[i] = '\0';
            buf_puts(&out, "...");
            break;
        }
        uint32_t cp;
        size_t n = utf8_seq(p, &cp);
        if (n == 0) {
            buf_putc(&out, '?');
            p++;
        } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
            buf_putc(&out, keep_newlines && (cp == '\n' || cp == '\t') ? (char)cp : ' ');
            p += n;
        } else {
            buf_append(&out, p, n);
            p += n;
        }
        chars++;
    }
    return buf_detach(&out, NULL);
}

size_t term_width(const char *s) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) n += (*p & 0xC0) != 0x80;
    return n;
}

table *table_new(size_t ncols, const char *const *headers) {
    table *t = xcalloc(1, sizeof *t);
    t->ncols = ncols;
    table_row(t);
    for (size_t i = 0; i < ncols; i++) table_cell(t, headers[i], 0);
    return t;
}

void table_row(table *t) {
    t->rows++;
    t->cells = xrealloc(t->cells, t->rows * t->ncols * sizeof(char *));
    for (size_t i = 0; i < t->ncols; i++) t->cells[(t->rows - 1) * t->ncols + i] = NULL;
    t->filled = (t->rows - 1) * t->ncols;
}

void table_cell(table *t, const char *text, size_t max_chars) {
    if (t->filled >= t->rows * t->ncols) return; /* more cells than columns: dropped */
    t->cells[t->filled++] = term_clean(text && *text ? text : "-", false, max_chars);
}

void table_cellf(table *t, const char *fmt, ...) {
    buf b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    table_cell(t, b.data, 0);
    buf_free(&b);
}

size_t table_rows(const table *t) {
    return t->rows - 1;
}

void table_print(const table *t, FILE *out, int indent) {
    size_t *width = xcalloc(t->ncols, sizeof *width);
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            size_t w = s ? term_width(s) : 1;
            if (w > width[c]) width[c] = w;
        }
    for (size_t r = 0; r < t->rows; r++) {
        fprintf(out, "%*s", indent, "");
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            if (!s) s = "-";
            fputs(s, out);
            /* No padding after the last column: trailing spaces only get in the way. */
            if (c + 1 < t->ncols) fprintf(out, "%*s", (int)(width[c] - term_width(s) + 2), "");
        }
        fputc('\n', out);
    }
    free(width);
}

void table_free(table *t) {
    if (!t) return;
    for (size_t i = 0; i < t->rows * t->ncols; i++) free(t->cells[i]);
    free(t->cells);
    free(t);
}
