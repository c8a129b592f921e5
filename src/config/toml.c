/* TOML 1.0 parser: a single-pass recursive-descent parser over the raw bytes.
 *
 * The document is first checked to be valid UTF-8, so everything after that can treat bytes
 * >= 0x80 as parts of well-formed characters. Values are parsed straight into cfg_value
 * nodes; the only extra state is a small side table (meta_map) recording how each table or
 * array came to exist, which is what TOML's redefinition rules depend on:
 *
 *   - a [header] may define a table only once, but may define a table that an earlier header
 *     such as [a.b.c] created implicitly as a prefix (META_IMPLICIT);
 *   - dotted keys (a.b = 1) create tables too (META_DOTTED); those may be extended by more
 *     dotted keys and may get sub-tables from headers, but cannot be defined by a header;
 *   - dotted keys may not reach into tables made by headers;
 *   - inline tables are complete once closed (META_FROZEN): nothing can be added to them;
 *   - [[header]] appends only to arrays that [[header]] created (META_AOT), never to arrays
 *     written as values.
 *
 * Errors stop the parse at the first problem; fail_at() records it and every function then
 * returns false or NULL up the stack. */
#include "config/toml.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

/* ------------------------------------------------------------------------------------------
 * Side table of per-node flags, keyed by node address (open addressing, linear probing).
 * ---------------------------------------------------------------------------------------- */

enum {
    META_IMPLICIT = 1 << 0, /* table created only as a prefix of a [header]; definable once */
    META_DOTTED = 1 << 1,   /* table created by a dotted key */
    META_FROZEN = 1 << 2,   /* inline table, complete once its '}' was read */
    META_AOT = 1 << 3,      /* array created by [[header]] */
};

typedef struct meta_map {
    const cfg_value **nodes;
    unsigned char *flags;
    size_t cap; /* 0 or a power of two */
    size_t len;
} meta_map;

static size_t meta_slot(const meta_map *m, const cfg_value *node) {
    size_t mask = m->cap - 1;
    size_t h = (size_t)(((uint64_t)(uintptr_t)node * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    while (m->nodes[h] && m->nodes[h] != node) h = (h + 1) & mask;
    return h;
}

static unsigned meta_get(const meta_map *m, const cfg_value *node) {
    if (m->cap == 0) return 0;
    size_t h = meta_slot(m, node);
    return m->nodes[h] ? m->flags[h] : 0;
}

static void meta_grow(meta_map *m) {
    meta_map bigger = {0};
    bigger.cap = m->cap ? m->cap * 2 : 64;
    bigger.nodes = xcalloc(bigger.cap, sizeof *bigger.nodes);
    bigger.flags = xcalloc(bigger.cap, sizeof *bigger.flags);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->nodes[i]) continue;
        size_t h = meta_slot(&bigger, m->nodes[i]);
        bigger.nodes[h] = m->nodes[i];
        bigger.flags[h] = m->flags[i];
        bigger.len++;
    }
    free(m->nodes);
    free(m->flags);
    *m = bigger;
}

static void meta_set(meta_map *m, const cfg_value *node, unsigned flags) {
    if ((m->len + 1) * 2 > m->cap) meta_grow(m);
    size_t h = meta_slot(m, node);
    if (!m->nodes[h]) {
        m->nodes[h] = node;
        m->len++;
    }
    m->flags[h] = (unsigned char)flags;
}

static void meta_free(meta_map *m) {
    free(m->nodes);
    free(m->flags);
}

/* ------------------------------------------------------------------------------------------
 * Parser state, character classes and error reporting.
 * ---------------------------------------------------------------------------------------- */

typedef struct parser {
    const char *src;
    size_t len;
    size_t pos;
    int line; /* 1-based line of pos; every consumed newline must bump it */
    toml_error *err;
    bool failed;
    meta_map meta;
    cfg_value *root;
    cfg_value *section; /* table that key/value lines go into: the last [header]'s */
    int section_depth;  /* nesting depth of section (root = 0) */
} parser;

/* One part of a possibly dotted key, already unescaped. */
typedef struct key_part {
    char *name; /* as stored in the tree (U+0000 written as C0 80) */
    size_t pos; /* where the part starts in the source */
} key_part;

typedef struct key_path {
    key_part *parts;
    size_t len, cap;
} key_path;

static bool is_bare_key_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static bool is_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}

/* Control characters may not appear literally in strings or comments (tab excepted). */
static bool is_control(unsigned char c) {
    return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool has_utf8_bom(const parser *p) {
    return p->len >= 3 && memcmp(p->src, "\xEF\xBB\xBF", 3) == 0;
}

/* Line and column of a byte offset. Only used on the error path, so it simply rescans. */
static void locate(const parser *p, size_t pos, int *line, int *column) {
    int ln = 1;
    size_t line_start = has_utf8_bom(p) ? 3 : 0;
    if (pos < line_start) pos = line_start;
    for (size_t i = line_start; i < pos; i++) {
        if (p->src[i] == '\n') {
            ln++;
            line_start = i + 1;
        }
    }
    int col = 1;
    for (size_t i = line_start; i < pos; i++)
        if (((unsigned char)p->src[i] & 0xC0) != 0x80) col++;
    *line = ln;
    *column = col;
}

static bool fail_at(parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail_at(parser *p, size_t pos, const char *fmt, ...) {
    if (p->failed) return false;
    p->failed = true;
    if (pos > p->len) pos = p->len;
    locate(p, pos, &p->err->line, &p->err->column);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    va_end(ap);
    return false;
}

static bool at_newline_pos(const parser *p, size_t pos) {
    if (pos >= p->len) return false;
    if (p->src[pos] == '\n') return true;
    return p->src[pos] == '\r' && pos + 1 < p->len && p->src[pos + 1] == '\n';
}

static bool at_newline(const parser *p) {
    return at_newline_pos(p, p->pos);
}

static void eat_newline(parser *p) {
    p->pos += p->src[p->pos] == '\r' ? 2 : 1;
    p->line++;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len && (p->src[p->pos] == ' ' || p->src[p->pos] == '\t')) p->pos++;
}

/* Decodes the (already validated) UTF-8 character at pos. */
static uint32_t char_at(const parser *p, size_t pos) {
    const unsigned char *s = (const unsigned char *)p->src + pos;
    if (s[0] < 0x80) return s[0];
    if (s[0] < 0xE0) return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    if (s[0] < 0xF0)
        return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
           (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

/* Names the character at pos for an error message: 'x', U+0001, end of line, end of file. */
static const char *describe_char(const parser *p, size_t pos, char out[16]) {
    if (pos >= p->len) return "end of file";
    if (at_newline_pos(p, pos)) return "end of line";
    uint32_t c = char_at(p, pos);
    if (c > 0x20 && c < 0x7f)
        snprintf(out, 16, "'%c'", (char)c);
    else
        snprintf(out, 16, "U+%04X", (unsigned)c);
    return out;
}

/* Writes a key as a quoted, escaped string for messages, shortened with "..." if long. */
static const char *quote_key(const char *name, char *out, size_t size) {
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; name[i];) {
        unsigned char c = (unsigned char)name[i];
        char piece[8];
        size_t n, used;
        if (c == 0xC0 && (unsigned char)name[i + 1] == 0x80) {
            n = (size_t)snprintf(piece, sizeof piece, "\\u0000");
            used = 2;
        } else if (c == '"' || c == '\\') {
            n = (size_t)snprintf(piece, sizeof piece, "\\%c", c);
            used = 1;
        } else if (c < 0x20 || c == 0x7f) {
            n = (size_t)snprintf(piece, sizeof piece, "\\u%04X", c);
            used = 1;
        } else {
            used = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            memcpy(piece, name + i, used);
            n = used;
        }
        if (o + n + 5 > size) { /* keep room for ..." and the NUL */
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, piece, n);
        o += n;
        i += used;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

/* Writes the first n parts of a key as a dotted path for messages, e.g. a."b c".d */
static const char *format_path(const key_path *key, size_t n, char *out, size_t size) {
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *name = key->parts[i].name;
        char quoted[64];
        bool bare = name[0] != '\0';
        for (const char *c = name; *c; c++)
            if (!is_bare_key_char((unsigned char)*c)) bare = false;
        const char *text = bare ? name : quote_key(name, quoted, sizeof quoted);
        size_t tlen = strlen(text);
        if (o + tlen + 5 > size) {
            memcpy(out + o, "...", 4);
            return out;
        }
        if (i > 0) out[o++] = '.';
        memcpy(out + o, text, tlen + 1);
        o += tlen;
    }
    return out;
}

static bool fail_too_deep(parser *p, size_t pos) {
    return fail_at(p, pos, "nesting too deep: more than %d levels of tables and arrays",
                   TOML_MAX_DEPTH);
}

static const char *type_article(cfg_type type) {
    return type == CFG_INTEGER || type == CFG_ARRAY ? "an" : "a";
}

/* ------------------------------------------------------------------------------------------
 * Whole-document checks, comments and line ends.
 * ---------------------------------------------------------------------------------------- */

/* Length of the UTF-8 sequence at s (n bytes available), or 0 if it is malformed: overlong
 * forms, surrogates and code points above U+10FFFF are all rejected. */
static size_t utf8_sequence_length(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return len;
}

static bool check_utf8(parser *p) {
    const unsigned char *s = (const unsigned char *)p->src;
    for (size_t i = 0; i < p->len;) {
        size_t n = utf8_sequence_length(s + i, p->len - i);
        if (n == 0)
            return fail_at(p, i, "invalid UTF-8 byte 0x%02X (TOML documents must be UTF-8)", s[i]);
        i += n;
    }
    return true;
}

/* At '#': consumes the comment up to (not including) the end of the line. */
static bool skip_comment(parser *p) {
    for (p->pos++; p->pos < p->len && !at_newline(p); p->pos++) {
        unsigned char c = (unsigned char)p->src[p->pos];
        if (is_control(c))
            return fail_at(p, p->pos, "control character U+%04X is not allowed in a comment", c);
    }
    return true;
}

/* Skips whitespace, comments and newlines: the filler allowed between array elements. */
static bool skip_blank(parser *p) {
    for (;;) {
        skip_ws(p);
        if (p->pos < p->len && p->src[p->pos] == '#') {
            if (!skip_comment(p)) return false;
        } else if (at_newline(p)) {
            eat_newline(p);
        } else {
            return true;
        }
    }
}

/* After a key/value pair or a header only whitespace and a comment may follow on the line. */
static bool expect_line_end(parser *p, const char *after) {
    skip_ws(p);
    if (p->pos < p->len && p->src[p->pos] == '#' && !skip_comment(p)) return false;
    if (p->pos >= p->len) return true;
    if (at_newline(p)) {
        eat_newline(p);
        return true;
    }
    char c[16];
    return fail_at(p, p->pos, "unexpected %s after %s (expected a newline or a comment)",
                   describe_char(p, p->pos, c), after);
}

/* ------------------------------------------------------------------------------------------
 * Strings.
 * ---------------------------------------------------------------------------------------- */

static void append_utf8(buf *out, uint32_t cp) {
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_append(out, b, n);
}

/* At a backslash: \uXXXX or \UXXXXXXXX. */
static bool scan_unicode_escape(parser *p, int digits, buf *out) {
    size_t at = p->pos;
    char letter = p->src[at + 1];
    uint32_t cp = 0;
    for (int i = 0; i < digits; i++) {
        size_t k = at + 2 + (size_t)i;
        int h = k < p->len ? hex_value((unsigned char)p->src[k]) : -1;
        if (h < 0)
            return fail_at(p, at, "invalid escape: \\%c must be followed by %d hex digits", letter,
                           digits);
        cp = cp << 4 | (uint32_t)h;
    }
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return fail_at(p, at,
                       "invalid escape \\%.*s: not a Unicode scalar value (surrogates and values "
                       "above 10FFFF are not allowed)",
                       digits + 1, p->src + at + 1);
    append_utf8(out, cp);
    p->pos = at + 2 + (size_t)digits;
    return true;
}

/* At a backslash followed by whitespace in a multi-line basic string: the backslash must be
 * the last thing on its line, and it swallows all whitespace and newlines that follow. */
static bool skip_line_ending_backslash(parser *p) {
    size_t i = p->pos + 1;
    while (i < p->len && (p->src[i] == ' ' || p->src[i] == '\t')) i++;
    if (!at_newline_pos(p, i))
        return fail_at(p, p->pos,
                       "invalid escape: a backslash followed by whitespace must end the line");
    p->pos = i;
    for (;;) {
        skip_ws(p);
        if (!at_newline(p)) return true;
        eat_newline(p);
    }
}

static bool scan_escape(parser *p, bool multiline, buf *out) {
    static const char names[] = "btnfr\"\\";
    static const char chars[] = "\b\t\n\f\r\"\\";
    size_t at = p->pos;
    unsigned char e = at + 1 < p->len ? (unsigned char)p->src[at + 1] : 0;
    const char *simple = e ? strchr(names, e) : NULL;
    if (simple) {
        buf_putc(out, chars[simple - names]);
        p->pos += 2;
        return true;
    }
    if (e == 'u') return scan_unicode_escape(p, 4, out);
    if (e == 'U') return scan_unicode_escape(p, 8, out);
    if (multiline && (e == ' ' || e == '\t' || at_newline_pos(p, at + 1)))
        return skip_line_ending_backslash(p);
    if (e > 0x20 && e < 0x7f)
        return fail_at(p, at, "invalid escape \\%c in string (write \\\\ for a backslash)", e);
    return fail_at(p, at,
                   "invalid escape in string: a backslash must be followed by one of "
                   "b t n f r \" \\ u U (write \\\\ for a backslash)");
}

/* At a run of delimiters inside a multi-line string. One or two are content; three close the
 * string, and up to two more right before them are content too ("""a""""" is a""). */
static bool scan_multiline_quotes(parser *p, char delim, buf *out, bool *closed) {
    size_t run = 0;
    while (p->pos + run < p->len && p->src[p->pos + run] == delim) run++;
    if (run > 5)
        return fail_at(p, p->pos + 5, "too many %c characters at the end of a multi-line string",
                       delim);
    *closed = run >= 3;
    size_t content = *closed ? run - 3 : run;
    for (size_t i = 0; i < content; i++) buf_putc(out, delim);
    p->pos += run;
    return true;
}

static bool fail_unterminated(parser *p, size_t open, bool multiline, char delim) {
    if (multiline)
        return fail_at(p, open, "unterminated multi-line string (missing closing %c%c%c)", delim,
                       delim, delim);
    return fail_at(p, open, "unterminated string: missing closing %c before the end of the %s",
                   delim, p->pos >= p->len ? "file" : "line");
}

/* Scans the body of a string after its opening delimiter, up to and including the closing
 * one. Basic strings ('"') process escapes; literal strings ('\'') take every byte as is. */
static bool scan_string_body(parser *p, size_t open, char delim, bool multiline, buf *out) {
    bool basic = delim == '"';
    for (;;) {
        size_t run = p->pos;
        while (run < p->len) {
            unsigned char c = (unsigned char)p->src[run];
            if (c == (unsigned char)delim || is_control(c) || (basic && c == '\\')) break;
            run++;
        }
        buf_append(out, p->src + p->pos, run - p->pos);
        p->pos = run;
        if (p->pos >= p->len) return fail_unterminated(p, open, multiline, delim);

        unsigned char c = (unsigned char)p->src[p->pos];
        if (c == (unsigned char)delim) {
            if (!multiline) {
                p->pos++;
                return true;
            }
            bool closed = false;
            if (!scan_multiline_quotes(p, delim, out, &closed)) return false;
            if (closed) return true;
        } else if (c == '\\') {
            if (!scan_escape(p, multiline, out)) return false;
        } else if (at_newline(p)) {
            if (!multiline) return fail_unterminated(p, open, false, delim);
            buf_putc(out, '\n');
            eat_newline(p);
        } else if (c == '\r') {
            return fail_at(p, p->pos,
                           "a carriage return in a string must be followed by a line feed");
        } else {
            if (basic)
                return fail_at(p, p->pos,
                               "control character U+%04X is not allowed in a string; write it "
                               "as \\u%04X",
                               c, c);
            return fail_at(p, p->pos, "control character U+%04X is not allowed in a literal string",
                           c);
        }
    }
}

/* At an opening quote: parses any of the four string forms. Keys may not be multi-line. */
static bool parse_string(parser *p, bool allow_multiline, buf *out) {
    size_t open = p->pos;
    char delim = p->src[open];
    bool multiline = p->len - open >= 3 && p->src[open + 1] == delim && p->src[open + 2] == delim;
    if (multiline) {
        if (!allow_multiline) return fail_at(p, open, "a multi-line string cannot be a key");
        p->pos += 3;
        if (at_newline(p)) eat_newline(p); /* a newline right after the opening is trimmed */
    } else {
        p->pos++;
    }
    return scan_string_body(p, open, delim, multiline, out);
}

/* ------------------------------------------------------------------------------------------
 * Numbers: pure functions over the token text, returning NULL or the reason it is invalid
 * (with *bad the offset of the offending character).
 * ---------------------------------------------------------------------------------------- */

/* One or more digits of the base with single underscores between digits, appended to clean
 * without the underscores. `expected` says what is missing when there is no digit at all. */
static const char *scan_digits(const char *s, size_t n, size_t *i, int base, buf *clean,
                               const char *expected, size_t *bad) {
    int d = *i < n ? hex_value((unsigned char)s[*i]) : -1;
    if (d < 0 || d >= base) {
        *bad = *i;
        return *i < n && s[*i] == '_' ? "an underscore must be between two digits" : expected;
    }
    while (*i < n) {
        unsigned char c = (unsigned char)s[*i];
        d = hex_value(c);
        if (d >= 0 && d < base) {
            buf_putc(clean, (char)c);
            (*i)++;
        } else if (c == '_') {
            int next = *i + 1 < n ? hex_value((unsigned char)s[*i + 1]) : -1;
            if (next < 0 || next >= base) {
                *bad = *i;
                return "an underscore must be between two digits";
            }
            (*i)++;
        } else {
            break;
        }
    }
    return NULL;
}

/* Converts clean digits to a magnitude; false if it would exceed limit. */
static bool digits_to_magnitude(const buf *digits, int base, uint64_t limit, uint64_t *out) {
    uint64_t mag = 0;
    for (size_t i = 0; i < digits->len; i++) {
        uint64_t d = (uint64_t)hex_value((unsigned char)digits->data[i]);
        if (mag > (limit - d) / (uint64_t)base) return false;
        mag = mag * (uint64_t)base + d;
    }
    *out = mag;
    return true;
}

typedef struct number {
    bool is_float;
    int64_t i;
    double f;
} number;

/* 0x, 0o and 0b integers: no sign, and no more than INT64_MAX. */
static const char *lex_prefixed_integer(const char *s, size_t n, number *out, size_t *bad) {
    int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
    buf digits = {0};
    size_t i = 2;
    const char *why = scan_digits(s, n, &i, base, &digits, "expected digits after the prefix", bad);
    uint64_t mag = 0;
    if (!why && i != n) {
        *bad = i;
        why = base == 16  ? "not a hexadecimal digit"
              : base == 8 ? "not an octal digit"
                          : "not a binary digit";
    }
    if (!why && !digits_to_magnitude(&digits, base, INT64_MAX, &mag)) {
        *bad = 0;
        why = "integer does not fit in 64 bits (largest is 9223372036854775807)";
    }
    buf_free(&digits);
    out->is_float = false;
    out->i = (int64_t)mag;
    return why;
}

/* strtod() follows LC_NUMERIC; TOML always uses '.', so swap in the locale's decimal point. */
static double locale_independent_strtod(const char *text) {
    const char *point = localeconv()->decimal_point;
    if (strcmp(point, ".") == 0 || !strchr(text, '.')) return strtod(text, NULL);
    buf b = {0};
    for (const char *c = text; *c; c++) {
        if (*c == '.')
            buf_puts(&b, point);
        else
            buf_putc(&b, *c);
    }
    double d = strtod(b.data, NULL);
    buf_free(&b);
    return d;
}

/* Decimal integers and floats: [+-] int [. digits] [e [+-] digits]. */
static const char *lex_decimal(const char *s, size_t n, number *out, size_t *bad) {
    bool negative = s[0] == '-';
    size_t i = s[0] == '+' || s[0] == '-';
    size_t int_start = i;
    buf clean = {0}; /* the literal without sign and underscores, e.g. "15.5e-3" */
    bool is_float = false;
    const char *why = scan_digits(s, n, &i, 10, &clean, "a number must start with a digit", bad);
    if (!why && s[int_start] == '0' && i - int_start > 1) {
        *bad = int_start;
        why = "leading zeros are not allowed";
    }
    if (!why && i < n && s[i] == '.') {
        is_float = true;
        buf_putc(&clean, s[i++]);
        why = scan_digits(s, n, &i, 10, &clean, "a '.' must be followed by a digit", bad);
    }
    if (!why && i < n && (s[i] == 'e' || s[i] == 'E')) {
        is_float = true;
        buf_putc(&clean, s[i++]);
        if (i < n && (s[i] == '+' || s[i] == '-')) buf_putc(&clean, s[i++]);
        why = scan_digits(s, n, &i, 10, &clean, "the exponent needs digits", bad);
    }
    if (!why && i != n) {
        *bad = i;
        why = "unexpected character in number";
    }
    out->is_float = is_float;
    if (!why && is_float) {
        double f = locale_independent_strtod(clean.data);
        out->f = negative ? -f : f;
        if (isinf(f)) {
            *bad = 0;
            why = "float is too large to be represented";
        }
    } else if (!why) {
        uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        uint64_t mag = 0;
        if (digits_to_magnitude(&clean, 10, limit, &mag)) {
            if (!negative)
                out->i = (int64_t)mag;
            else /* -2^63 has no positive counterpart, so it cannot be negated */
                out->i = mag > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)mag;
        } else {
            *bad = 0;
            why = "integer does not fit in 64 bits (range is -9223372036854775808 to "
                  "9223372036854775807)";
        }
    }
    buf_free(&clean);
    return why;
}

static const char *lex_number(const char *s, size_t n, number *out, size_t *bad) {
    size_t sign = s[0] == '+' || s[0] == '-';
    const char *rest = s + sign;
    size_t rest_len = n - sign;
    if (rest_len == 3 && (memcmp(rest, "inf", 3) == 0 || memcmp(rest, "nan", 3) == 0)) {
        out->is_float = true;
        out->f = rest[0] == 'i' ? INFINITY : NAN;
        if (s[0] == '-') out->f = -out->f;
        return NULL;
    }
    if (rest_len >= 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'o' || rest[1] == 'b')) {
        if (sign) {
            *bad = 0;
            return "a sign is not allowed on hexadecimal, octal or binary integers";
        }
        return lex_prefixed_integer(s, n, out, bad);
    }
    return lex_decimal(s, n, out, bad);
}

/* ------------------------------------------------------------------------------------------
 * Dates and times, also pure functions. Text is appended to `text` in normalised form.
 * ---------------------------------------------------------------------------------------- */

static bool two_digits(const char *s, size_t n, size_t i, int *value) {
    if (i + 2 > n || !is_digit((unsigned char)s[i]) || !is_digit((unsigned char)s[i + 1]))
        return false;
    *value = (s[i] - '0') * 10 + (s[i + 1] - '0');
    return true;
}

static int days_in_month(int year, int month) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static const char *lex_date(const char *s, size_t n, size_t *i, buf *text, size_t *bad) {
    int century, year2, month, day;
    *bad = 0;
    if (!two_digits(s, n, 0, &century) || !two_digits(s, n, 2, &year2) || n < 5 || s[4] != '-')
        return "the year must have exactly four digits (YYYY-MM-DD)";
    *bad = 5;
    if (!two_digits(s, n, 5, &month) || n < 8 || s[7] != '-')
        return "the month must have two digits (YYYY-MM-DD)";
    if (month < 1 || month > 12) return "month must be between 01 and 12";
    *bad = 8;
    if (!two_digits(s, n, 8, &day)) return "the day must have two digits (YYYY-MM-DD)";
    int year = century * 100 + year2;
    if (day < 1 || day > days_in_month(year, month)) return "day is out of range for the month";
    buf_append(text, s, 10);
    *i = 10;
    return NULL;
}

static const char *lex_time(const char *s, size_t n, size_t *i, buf *text, size_t *bad) {
    size_t t = *i;
    int hour, minute, second;
    *bad = t;
    if (!two_digits(s, n, t, &hour) || t + 2 >= n || s[t + 2] != ':')
        return "the hour must have two digits (HH:MM:SS)";
    if (hour > 23) return "hour must be between 00 and 23";
    *bad = t + 3;
    if (!two_digits(s, n, t + 3, &minute)) return "the minute must have two digits (HH:MM:SS)";
    if (minute > 59) return "minute must be between 00 and 59";
    *bad = t + 5;
    if (t + 5 >= n || s[t + 5] != ':') return "seconds are required in TOML 1.0 (HH:MM:SS)";
    *bad = t + 6;
    if (!two_digits(s, n, t + 6, &second)) return "the second must have two digits (HH:MM:SS)";
    if (second > 60) return "second must be between 00 and 60";
    size_t end = t + 8;
    if (end < n && s[end] == '.') {
        end++;
        if (end >= n || !is_digit((unsigned char)s[end])) {
            *bad = end;
            return "expected digits after the '.' in the seconds";
        }
        while (end < n && is_digit((unsigned char)s[end])) end++;
    }
    buf_append(text, s + t, end - t);
    *i = end;
    return NULL;
}

static const char *lex_offset(const char *s, size_t n, size_t *i, buf *text, size_t *bad) {
    size_t o = *i;
    *bad = o;
    if (s[o] == 'Z' || s[o] == 'z') {
        buf_putc(text, 'Z');
        *i = o + 1;
        return NULL;
    }
    int hour, minute;
    if (s[o] != '+' && s[o] != '-') return "expected Z or a +HH:MM / -HH:MM offset after the time";
    if (!two_digits(s, n, o + 1, &hour) || o + 3 >= n || s[o + 3] != ':' ||
        !two_digits(s, n, o + 4, &minute))
        return "the offset must be written as +HH:MM or -HH:MM";
    if (hour > 23 || minute > 59) return "offset out of range";
    buf_append(text, s + o, 6);
    *i = o + 6;
    return NULL;
}

static const char *lex_datetime(const char *s, size_t n, cfg_type *type, buf *text, size_t *bad) {
    size_t i = 0;
    while (i < n && is_digit((unsigned char)s[i])) i++;
    bool has_date = i < n && s[i] == '-'; /* otherwise it is a time: digits then ':' */
    i = 0;
    const char *why;
    if (has_date) {
        if ((why = lex_date(s, n, &i, text, bad))) return why;
        if (i == n) {
            *type = CFG_DATE_LOCAL;
            return NULL;
        }
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') {
            *bad = i;
            return "expected 'T' or a space between the date and the time";
        }
        buf_putc(text, 'T');
        i++;
    }
    if ((why = lex_time(s, n, &i, text, bad))) return why;
    if (i == n) {
        *type = has_date ? CFG_DATETIME_LOCAL : CFG_TIME_LOCAL;
        return NULL;
    }
    if (!has_date) {
        *bad = i;
        return "unexpected characters after the time (a time without a date has no offset)";
    }
    if ((why = lex_offset(s, n, &i, text, bad))) return why;
    if (i != n) {
        *bad = i;
        return "unexpected characters after the date-time";
    }
    *type = CFG_DATETIME;
    return NULL;
}

/* ------------------------------------------------------------------------------------------
 * Values.
 * ---------------------------------------------------------------------------------------- */

static cfg_value *parse_value(parser *p, int depth, int line);
static bool parse_keyval(parser *p, cfg_value *table, int depth);

/* Characters that can make up an unquoted value: numbers, booleans, dates and times. */
static bool is_token_char(unsigned char c) {
    return is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

static cfg_value *new_text_value(cfg_type type, buf *text, int line) {
    cfg_value *v = cfg_new(type, line);
    v->u.str.ptr = buf_detach(text, &v->u.str.len);
    return v;
}

/* A token is a date or time when it starts with digits followed by '-' or ':'. */
static bool looks_like_datetime(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && is_digit((unsigned char)s[i])) i++;
    return i > 0 && i < n && (s[i] == '-' || s[i] == ':');
}

static cfg_value *parse_bare_value(parser *p, int line) {
    const char *src = p->src;
    size_t start = p->pos, end = start;
    while (end < p->len && is_token_char((unsigned char)src[end])) end++;
    /* "1979-05-27 07:32:00": a space may separate date and time. */
    if (end - start == 10 && src[start + 4] == '-' && end + 3 < p->len && src[end] == ' ' &&
        is_digit((unsigned char)src[end + 1]) && is_digit((unsigned char)src[end + 2]) &&
        src[end + 3] == ':') {
        for (end++; end < p->len && is_token_char((unsigned char)src[end]);) end++;
    }
    char c[16];
    if (end == start) {
        fail_at(p, start, "expected a value, found %s", describe_char(p, start, c));
        return NULL;
    }
    const char *s = src + start;
    size_t n = end - start;
    int shown = n > 40 ? 40 : (int)n;
    const char *more = n > 40 ? "..." : "";
    p->pos = end;

    if (n == 4 && memcmp(s, "true", 4) == 0) return cfg_new_bool(true, line);
    if (n == 5 && memcmp(s, "false", 5) == 0) return cfg_new_bool(false, line);

    size_t bad = 0;
    if (looks_like_datetime(s, n)) {
        buf text = {0};
        cfg_type type;
        const char *why = lex_datetime(s, n, &type, &text, &bad);
        if (!why) return new_text_value(type, &text, line);
        buf_free(&text);
        fail_at(p, start + bad, "invalid date/time %.*s%s: %s", shown, s, more, why);
        return NULL;
    }
    bool numeric = is_digit((unsigned char)s[0]) || s[0] == '+' || s[0] == '-' || s[0] == '.' ||
                   (n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0));
    if (!numeric) {
        fail_at(p, start, "invalid value %.*s%s (strings must be in quotes)", shown, s, more);
        return NULL;
    }
    number num;
    const char *why = lex_number(s, n, &num, &bad);
    if (why) {
        fail_at(p, start + bad, "invalid number %.*s%s: %s", shown, s, more, why);
        return NULL;
    }
    return num.is_float ? cfg_new_float(num.f, line) : cfg_new_integer(num.i, line);
}

static cfg_value *parse_array(parser *p, int depth, int line) {
    size_t open = p->pos++;
    cfg_value *arr = cfg_new(CFG_ARRAY, line);
    for (;;) {
        if (!skip_blank(p)) break;
        if (p->pos >= p->len) {
            fail_at(p, open, "unterminated array (missing ']')");
            break;
        }
        if (p->src[p->pos] == ']') {
            p->pos++;
            return arr;
        }
        cfg_value *item = parse_value(p, depth + 1, p->line);
        if (!item) break;
        cfg_array_push(arr, item);
        if (!skip_blank(p)) break;
        if (p->pos < p->len && p->src[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->src[p->pos] == ']') {
            p->pos++;
            return arr;
        }
        char c[16];
        if (p->pos >= p->len)
            fail_at(p, open, "unterminated array (missing ']')");
        else
            fail_at(p, p->pos, "expected ',' or ']' after an array element, found %s",
                    describe_char(p, p->pos, c));
        break;
    }
    cfg_free(arr);
    return NULL;
}

/* Reports what is wrong at p->pos inside the inline table opened at `open`. */
static void fail_in_inline_table(parser *p, size_t open, const char *expected) {
    char c[16];
    if (p->pos >= p->len)
        fail_at(p, open, "unterminated inline table (missing '}')");
    else if (at_newline(p))
        fail_at(p, p->pos, "newlines are not allowed inside an inline table in TOML 1.0");
    else
        fail_at(p, p->pos, "expected %s in an inline table, found %s", expected,
                describe_char(p, p->pos, c));
}

static cfg_value *parse_inline_table(parser *p, int depth, int line) {
    size_t open = p->pos++;
    cfg_value *table = cfg_new(CFG_TABLE, line);
    skip_ws(p);
    if (p->pos < p->len && p->src[p->pos] == '}') goto closed; /* {} */
    for (;;) {
        if (p->pos >= p->len || at_newline(p)) {
            fail_in_inline_table(p, open, "a key");
            break;
        }
        if (!parse_keyval(p, table, depth)) break;
        skip_ws(p);
        if (p->pos < p->len && p->src[p->pos] == '}') goto closed;
        if (p->pos >= p->len || p->src[p->pos] != ',') {
            fail_in_inline_table(p, open, "',' or '}' after a value");
            break;
        }
        size_t comma = p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->src[p->pos] == '}') {
            fail_at(p, comma, "trailing comma is not allowed in an inline table");
            break;
        }
    }
    cfg_free(table);
    return NULL;
closed:
    p->pos++;
    meta_set(&p->meta, table, META_FROZEN);
    return table;
}

static cfg_value *parse_string_value(parser *p, int line) {
    buf text = {0};
    if (!parse_string(p, true, &text)) {
        buf_free(&text);
        return NULL;
    }
    return new_text_value(CFG_STRING, &text, line);
}

/* depth is the nesting depth the value will have in the tree (a top-level key's is 1); only
 * arrays and inline tables can make it exceed the limit. */
static cfg_value *parse_value(parser *p, int depth, int line) {
    char c = p->pos < p->len ? p->src[p->pos] : '\0';
    if (c == '"' || c == '\'') return parse_string_value(p, line);
    if (c == '[' || c == '{') {
        if (depth > TOML_MAX_DEPTH) {
            fail_too_deep(p, p->pos);
            return NULL;
        }
        return c == '[' ? parse_array(p, depth, line) : parse_inline_table(p, depth, line);
    }
    return parse_bare_value(p, line);
}

/* ------------------------------------------------------------------------------------------
 * Keys.
 * ---------------------------------------------------------------------------------------- */

static void key_path_free(key_path *key) {
    for (size_t i = 0; i < key->len; i++) free(key->parts[i].name);
    free(key->parts);
}

static void key_path_push(key_path *key, buf *name, size_t pos) {
    if (key->len == key->cap) {
        key->cap = key->cap ? key->cap * 2 : 4;
        key->parts = xrealloc(key->parts, key->cap * sizeof *key->parts);
    }
    /* Keys are C strings in the tree, so an escaped U+0000 becomes C0 80. */
    buf stored = {0};
    for (size_t i = 0; i < name->len; i++) {
        if (name->data[i] == '\0')
            buf_append(&stored, "\xC0\x80", 2);
        else
            buf_putc(&stored, name->data[i]);
    }
    key->parts[key->len].name = buf_detach(&stored, NULL);
    key->parts[key->len].pos = pos;
    key->len++;
}

static bool parse_key_part(parser *p, key_path *key) {
    size_t start = p->pos;
    buf name = {0};
    char c = p->pos < p->len ? p->src[p->pos] : '\0';
    if (c == '"' || c == '\'') {
        if (!parse_string(p, false, &name)) {
            buf_free(&name);
            return false;
        }
    } else {
        while (p->pos < p->len && is_bare_key_char((unsigned char)p->src[p->pos])) p->pos++;
        if (p->pos == start) {
            char d[16];
            if (c == '=') return fail_at(p, start, "missing key before '='");
            return fail_at(p, start,
                           "expected a key, found %s (bare keys may contain only A-Z a-z 0-9 _ "
                           "and -; put other keys in quotes)",
                           describe_char(p, start, d));
        }
        buf_append(&name, p->src + start, p->pos - start);
    }
    key_path_push(key, &name, start);
    buf_free(&name);
    return true;
}

/* A key: one or more parts separated by dots, with optional whitespace around the dots. */
static bool parse_key(parser *p, key_path *key) {
    for (;;) {
        if (key->len >= TOML_MAX_DEPTH)
            return fail_at(p, p->pos, "key has too many dotted parts (more than %d)",
                           TOML_MAX_DEPTH);
        if (!parse_key_part(p, key)) return false;
        skip_ws(p);
        if (p->pos >= p->len || p->src[p->pos] != '.') return true;
        p->pos++;
        skip_ws(p);
    }
}

/* ------------------------------------------------------------------------------------------
 * Key/value pairs and dotted keys.
 * ---------------------------------------------------------------------------------------- */

/* Walks the dotted prefix of key (all parts but the last) from table, creating tables as
 * needed. Returns the table that receives the last part. */
static cfg_value *descend_dotted(parser *p, cfg_value *table, const key_path *key, int line) {
    char path[128], k[96];
    for (size_t i = 0; i + 1 < key->len; i++) {
        const key_part *part = &key->parts[i];
        cfg_value *child = cfg_table_get(table, part->name);
        if (!child) {
            child = cfg_new(CFG_TABLE, line);
            meta_set(&p->meta, child, META_DOTTED);
            cfg_table_set(table, part->name, child);
        } else if (child->type != CFG_TABLE) {
            fail_at(p, part->pos, "cannot use %s as a table: it is already %s %s (line %d)",
                    format_path(key, i + 1, path, sizeof path), type_article(child->type),
                    cfg_type_name(child->type), child->line);
            return NULL;
        } else {
            unsigned flags = meta_get(&p->meta, child);
            if (flags & META_FROZEN) {
                fail_at(p, part->pos, "cannot add keys to inline table %s (defined on line %d)",
                        quote_key(part->name, k, sizeof k), child->line);
                return NULL;
            }
            if (!(flags & META_DOTTED)) {
                fail_at(p, part->pos,
                        "cannot add to table %s with a dotted key: it was created by a [table] "
                        "header on line %d",
                        format_path(key, i + 1, path, sizeof path), child->line);
                return NULL;
            }
        }
        table = child;
    }
    return table;
}

/* key = value, into table (at the given depth); the value is parsed after the key has been
 * checked, so a duplicate key is reported at the key rather than somewhere in its value. */
static bool parse_keyval(parser *p, cfg_value *table, int depth) {
    int line = p->line;
    key_path key = {0};
    bool ok = false;
    char k[96], c[16];
    if (!parse_key(p, &key)) goto out;
    if (p->pos >= p->len || p->src[p->pos] != '=') {
        fail_at(p, p->pos, "expected '=' after key %s, found %s",
                quote_key(key.parts[key.len - 1].name, k, sizeof k), describe_char(p, p->pos, c));
        goto out;
    }
    p->pos++;
    skip_ws(p);
    if (depth + (int)key.len - 1 > TOML_MAX_DEPTH) { /* the tables the dotted key creates */
        fail_too_deep(p, key.parts[0].pos);
        goto out;
    }
    cfg_value *target = descend_dotted(p, table, &key, line);
    if (!target) goto out;
    const key_part *last = &key.parts[key.len - 1];
    cfg_value *old = cfg_table_get(target, last->name);
    if (old) {
        fail_at(p, last->pos, "duplicate key %s (first defined on line %d)",
                quote_key(last->name, k, sizeof k), old->line);
        goto out;
    }
    cfg_value *value = parse_value(p, depth + (int)key.len, line);
    if (!value) goto out;
    cfg_table_set(target, last->name, value);
    ok = true;
out:
    key_path_free(&key);
    return ok;
}

/* ------------------------------------------------------------------------------------------
 * Table headers: [a.b] and [[a.b]].
 * ---------------------------------------------------------------------------------------- */

/* Walks the header's prefix (all parts but the last) from the root, creating implicit tables
 * and stepping into the last element of arrays of tables. */
static cfg_value *descend_header(parser *p, const key_path *key, int line, int *depth) {
    char path[128];
    cfg_value *table = p->root;
    for (size_t i = 0; i + 1 < key->len; i++) {
        const key_part *part = &key->parts[i];
        cfg_value *child = cfg_table_get(table, part->name);
        if (!child) {
            child = cfg_new(CFG_TABLE, line);
            meta_set(&p->meta, child, META_IMPLICIT);
            cfg_table_set(table, part->name, child);
        } else if (child->type == CFG_ARRAY && (meta_get(&p->meta, child) & META_AOT)) {
            child = child->u.arr.items[child->u.arr.len - 1];
            (*depth)++;
        } else if (child->type != CFG_TABLE) {
            fail_at(p, part->pos, "cannot define a table inside %s: it is %s %s (line %d)",
                    format_path(key, i + 1, path, sizeof path), type_article(child->type),
                    cfg_type_name(child->type), child->line);
            return NULL;
        } else if (meta_get(&p->meta, child) & META_FROZEN) {
            fail_at(p, part->pos, "cannot add a table to inline table %s (defined on line %d)",
                    format_path(key, i + 1, path, sizeof path), child->line);
            return NULL;
        }
        (*depth)++;
        table = child;
    }
    return table;
}

/* [a.b]: defines the table, which may exist only as an implicit prefix of earlier headers. */
static cfg_value *define_table(parser *p, cfg_value *parent, const key_path *key, int line) {
    char path[128];
    const key_part *last = &key->parts[key->len - 1];
    cfg_value *table = cfg_table_get(parent, last->name);
    format_path(key, key->len, path, sizeof path);
    if (!table) {
        table = cfg_new(CFG_TABLE, line);
        cfg_table_set(parent, last->name, table);
        return table;
    }
    unsigned flags = meta_get(&p->meta, table);
    if (table->type == CFG_ARRAY && (flags & META_AOT)) {
        fail_at(p, last->pos, "[%s] conflicts with the array of tables [[%s]] on line %d", path,
                path, table->line);
    } else if (table->type != CFG_TABLE) {
        fail_at(p, last->pos, "cannot define table [%s]: key already defined as %s %s on line %d",
                path, type_article(table->type), cfg_type_name(table->type), table->line);
    } else if (flags & META_FROZEN) {
        fail_at(p, last->pos, "cannot define table [%s]: it is an inline table (line %d)", path,
                table->line);
    } else if (flags & META_DOTTED) {
        fail_at(p, last->pos,
                "cannot define table [%s]: already created by a dotted key on line %d", path,
                table->line);
    } else if (!(flags & META_IMPLICIT)) {
        fail_at(p, last->pos, "table [%s] defined twice (first defined on line %d)", path,
                table->line);
    } else {
        meta_set(&p->meta, table, 0);
        table->line = line;
        return table;
    }
    return NULL;
}

/* [[a.b]]: appends a new table to the array of tables, creating the array if needed. */
static cfg_value *append_table(parser *p, cfg_value *parent, const key_path *key, int line) {
    char path[128];
    const key_part *last = &key->parts[key->len - 1];
    cfg_value *arr = cfg_table_get(parent, last->name);
    format_path(key, key->len, path, sizeof path);
    if (!arr) {
        arr = cfg_new(CFG_ARRAY, line);
        meta_set(&p->meta, arr, META_AOT);
        cfg_table_set(parent, last->name, arr);
    } else if (arr->type == CFG_TABLE) {
        fail_at(p, last->pos, "[[%s]] conflicts with table [%s] defined on line %d", path, path,
                arr->line);
        return NULL;
    } else if (arr->type != CFG_ARRAY) {
        fail_at(p, last->pos, "cannot define [[%s]]: key already defined as %s %s on line %d", path,
                type_article(arr->type), cfg_type_name(arr->type), arr->line);
        return NULL;
    } else if (!(meta_get(&p->meta, arr) & META_AOT)) {
        fail_at(p, last->pos,
                "cannot append to array %s with [[%s]]: it was defined as a value on line %d", path,
                path, arr->line);
        return NULL;
    }
    cfg_value *table = cfg_new(CFG_TABLE, line);
    cfg_array_push(arr, table);
    return table;
}

static bool parse_table_header(parser *p) {
    int line = p->line;
    bool is_array = p->pos + 1 < p->len && p->src[p->pos + 1] == '[';
    p->pos += is_array ? 2 : 1;
    skip_ws(p);
    key_path key = {0};
    bool ok = false;
    if (!parse_key(p, &key)) goto out;
    const char *close = is_array ? "]]" : "]";
    if (p->len - p->pos < strlen(close) || memcmp(p->src + p->pos, close, strlen(close)) != 0) {
        char c[16];
        fail_at(p, p->pos, "expected '%s' to close the table header, found %s", close,
                describe_char(p, p->pos, c));
        goto out;
    }
    p->pos += strlen(close);
    int depth = 0;
    cfg_value *parent = descend_header(p, &key, line, &depth);
    if (!parent) goto out;
    depth += is_array ? 2 : 1; /* the array of tables counts as a level of its own */
    if (depth > TOML_MAX_DEPTH) {
        fail_too_deep(p, key.parts[0].pos);
        goto out;
    }
    cfg_value *table =
        is_array ? append_table(p, parent, &key, line) : define_table(p, parent, &key, line);
    if (!table) goto out;
    p->section = table;
    p->section_depth = depth;
    ok = true;
out:
    key_path_free(&key);
    return ok;
}

/* ------------------------------------------------------------------------------------------
 * Document.
 * ---------------------------------------------------------------------------------------- */

static bool parse_document(parser *p) {
    if (has_utf8_bom(p)) p->pos = 3;
    while (p->pos < p->len) {
        skip_ws(p);
        if (p->pos >= p->len) break;
        char c = p->src[p->pos];
        if (c == '[') {
            if (!parse_table_header(p) || !expect_line_end(p, "the table header")) return false;
        } else if (c == '#' || at_newline(p)) {
            if (!expect_line_end(p, "a comment")) return false;
        } else {
            if (!parse_keyval(p, p->section, p->section_depth) || !expect_line_end(p, "the value"))
                return false;
        }
    }
    return true;
}

cfg_value *toml_parse(const char *src, size_t len, toml_error *err) {
    toml_error scratch;
    parser p = {0};
    p.src = src ? src : "";
    p.len = src ? len : 0;
    p.line = 1;
    p.err = err ? err : &scratch;
    memset(p.err, 0, sizeof *p.err);
    if (p.len > INT_MAX) {
        p.err->line = 1;
        p.err->column = 1;
        snprintf(p.err->message, sizeof p.err->message, "document too large (2 GiB or more)");
        return NULL;
    }
    if (!check_utf8(&p)) return NULL;
    p.root = cfg_new(CFG_TABLE, 1);
    p.section = p.root;
    bool ok = parse_document(&p);
    meta_free(&p.meta);
    if (!ok) {
        cfg_free(p.root);
        return NULL;
    }
    return p.root;
}
