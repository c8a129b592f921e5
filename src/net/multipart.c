/* multipart — multipart/form-data bodies (RFC 7578 on top of RFC 2046 §5.1).
 *
 * A body is an ignored preamble, a delimiter line "--boundary", then the parts, each one a
 * block of MIME headers, an empty line and the data, separated by "CRLF--boundary" lines; the
 * close delimiter "CRLF--boundary--" ends the last part and whatever follows is an ignored
 * epilogue. A delimiter line may carry trailing spaces or tabs ("transport padding").
 *
 * Line endings. The RFC wants CRLF, but hand-made bodies (shell heredocs, test fixtures)
 * often use bare LF. Header lines accept either everywhere. The line break before a delimiter
 * matters more, because it sits right after binary data: the first delimiter line of the body
 * decides. If it ends in CRLF, only "CRLF--boundary" ends a part's data, so a file containing
 * "LF--boundary" cannot cut itself short; if it ends in a bare LF, the body is taken to be
 * LF-only and "LF--boundary" (with an optional CR before the LF) ends the data.
 *
 * "--boundary" followed by anything other than padding plus a line break, or "--", is not a
 * delimiter and stays part of the data; so does the boundary without a line break before it.
 *
 * Memory is bounded by the limits in the header: at most 1000 parts, and headers of at most
 * 8 KiB each, which bounds every copied name, filename and content type. */
#include "net/multipart.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

#define MAX_PARTS        1000
#define MAX_HEADER_BYTES 8192
#define MAX_BOUNDARY     70

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------------------------------
 * Character classes and header parameters (shared by Content-Type and Content-Disposition).
 * ---------------------------------------------------------------------------------------- */

static bool is_alnum(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 9110 tchar: what a token (a header name, a parameter name or unquoted value) is made of. */
static bool is_tchar(unsigned char c) {
    return is_alnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

/* RFC 2046 bchars, without the space (allowed inside a boundary, but not at its end). */
static bool is_bchar(unsigned char c) {
    return is_alnum(c) || (c && strchr("'()+_,-./:=?", c));
}

static unsigned char lower(unsigned char c) {
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Whether s[0..n) equals the lowercase literal, ignoring ASCII case. */
static bool ieq(const char *s, size_t n, const char *lit) {
    if (strlen(lit) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)lit[i]) return false;
    return true;
}

static const char *skip_ows(const char *p, const char *end) {
    while (p < end && is_ows(*p)) p++;
    return p;
}

static const char *skip_token(const char *p, const char *end) {
    while (p < end && is_tchar((unsigned char)*p)) p++;
    return p;
}

/* Reads the next `; name=value` parameter at *pp. The value is a token or a quoted string;
 * with `bchars`, an unquoted value may also use RFC 2046's boundary characters, which some
 * clients send unquoted in Content-Type ("boundary=====abc=="). Returns 1 with the name and
 * the unescaped value, 0 when no parameter is left, -1 with *why set when the text is
 * malformed.
 *
 * A backslash escapes only `"` and `\` and is otherwise kept: browsers do not escape
 * backslashes in filenames (the HTML spec percent-encodes `"` instead), and old clients send
 * Windows paths such as "C:\dir\file.txt", which must not lose their backslashes. */
static int next_param(const char **pp, const char *end, bool bchars, const char **name,
                      size_t *name_len, buf *value, const char **why) {
    const char *p = *pp;
    for (;;) {
        p = skip_ows(p, end);
        if (p == end) return 0;
        if (*p != ';') {
            *why = "expected \";\" between parameters";
            return -1;
        }
        p = skip_ows(p + 1, end);
        /* Empty parameters (";;", or a trailing ";") are harmless; some clients emit them. */
        if (p < end && *p != ';') break;
    }

    const char *n = p;
    p = skip_token(p, end);
    if (p == n) {
        *why = "a parameter has no name";
        return -1;
    }
    *name = n;
    *name_len = (size_t)(p - n);
    p = skip_ows(p, end);
    if (p == end || *p != '=') {
        *why = "a parameter has no value";
        return -1;
    }
    p = skip_ows(p + 1, end);

    buf_clear(value);
    if (p < end && *p == '"') {
        for (p++;; p++) {
            if (p == end) {
                *why = "a quoted string is not terminated";
                return -1;
            }
            unsigned char c = (unsigned char)*p;
            if (c == '"') break;
            if (c == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
                c = (unsigned char)*++p;
            else if ((c < 0x20 && c != '\t') || c == 0x7f) {
                *why = "a quoted string contains a control character";
                return -1;
            }
            buf_putc(value, (char)c);
        }
        p++;
    } else {
        const char *v = p;
        while (p < end && (is_tchar((unsigned char)*p) || (bchars && is_bchar((unsigned char)*p))))
            p++;
        if (p == v) {
            *why = "a parameter has no value";
            return -1;
        }
        buf_append(value, v, (size_t)(p - v));
    }
    /* What follows must be the next ";" or the end, which the next call checks. */
    *pp = p;
    return 1;
}

/* ------------------------------------------------------------------------------------------
 * The boundary from Content-Type.
 * ---------------------------------------------------------------------------------------- */

char *multipart_boundary(const char *content_type, char *err, size_t errlen) {
    if (!content_type) {
        set_err(err, errlen, "no Content-Type");
        return NULL;
    }
    const char *p = content_type, *end = content_type + strlen(content_type);
    p = skip_ows(p, end);
    const char *type = p;
    p = skip_token(p, end);
    size_t type_len = (size_t)(p - type);
    const char *sub = NULL;
    size_t sub_len = 0;
    if (p < end && *p == '/') {
        sub = ++p;
        p = skip_token(p, end);
        sub_len = (size_t)(p - sub);
    }
    if (!sub || !ieq(type, type_len, "multipart") || !ieq(sub, sub_len, "form-data")) {
        if (sub && type_len && sub_len)
            set_err(err, errlen, "Content-Type is %.*s/%.*s, not multipart/form-data",
                    (int)(type_len > 40 ? 40 : type_len), type, (int)(sub_len > 40 ? 40 : sub_len),
                    sub);
        else
            set_err(err, errlen, "Content-Type is not multipart/form-data");
        return NULL;
    }

    buf value = {0};
    char *boundary = NULL;
    const char *name, *why;
    size_t name_len;
    int r;
    while ((r = next_param(&p, end, true, &name, &name_len, &value, &why)) == 1) {
        if (!ieq(name, name_len, "boundary")) continue;
        if (boundary) {
            /* Two boundaries could make two parsers see two different bodies. */
            set_err(err, errlen, "Content-Type has more than one boundary parameter");
            goto fail;
        }
        boundary = xmemdup0(value.data, value.len);
    }
    if (r < 0) {
        set_err(err, errlen, "Content-Type: %s", why);
        goto fail;
    }
    if (!boundary) {
        set_err(err, errlen, "Content-Type has no boundary parameter");
        goto fail;
    }

    size_t len = strlen(boundary);
    if (len == 0) {
        set_err(err, errlen, "the boundary is empty");
        goto fail;
    }
    if (len > MAX_BOUNDARY) {
        set_err(err, errlen, "the boundary is longer than %d characters", MAX_BOUNDARY);
        goto fail;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)boundary[i];
        if (is_bchar(c) || (c == ' ' && i + 1 < len)) continue;
        if (c == ' ')
            set_err(err, errlen, "the boundary ends with a space");
        else if (c > 0x20 && c < 0x7f)
            set_err(err, errlen, "the boundary contains '%c', which RFC 2046 does not allow", c);
        else
            set_err(err, errlen, "the boundary contains byte 0x%02X, which RFC 2046 does not allow",
                    c);
        goto fail;
    }
    buf_free(&value);
    return boundary;

fail:
    buf_free(&value);
    free(boundary);
    return NULL;
}

/* ------------------------------------------------------------------------------------------
 * The body.
 * ---------------------------------------------------------------------------------------- */

typedef struct parser {
    const char *body, *end;
    char delim[4 + MAX_BOUNDARY + 1]; /* "\r\n--boundary"; +1 is "\n--…", +2 is "--…" */
    size_t dlen;
    bool lf_only; /* the body's first delimiter line ended in a bare LF */
    char *err;
    size_t errlen;
} parser;

enum { TAIL_NONE, TAIL_NEXT, TAIL_CLOSE, TAIL_SHORT };

/* Classifies what follows "--boundary" at p: the close delimiter "--", padding and a line
 * break (then *next is the start of the next part), the end of the body in the middle of
 * either (TAIL_SHORT), or anything else, which makes it no delimiter at all. */
static int delim_tail(const char *p, const char *end, const char **next) {
    if (p < end && *p == '-') {
        if (p + 1 == end) return TAIL_SHORT;
        return p[1] == '-' ? TAIL_CLOSE : TAIL_NONE;
    }
    p = skip_ows(p, end);
    if (p == end) return TAIL_SHORT;
    if (*p == '\n') {
        *next = p + 1;
        return TAIL_NEXT;
    }
    if (*p == '\r') {
        if (p + 1 == end) return TAIL_SHORT;
        if (p[1] == '\n') {
            *next = p + 2;
            return TAIL_NEXT;
        }
    }
    return TAIL_NONE;
}

/* Whether a "--boundary" delimiter starts at p; returns its TAIL_* kind or TAIL_NONE. */
static int delim_at(const parser *ps, const char *p, const char **next) {
    size_t n = ps->dlen - 2;
    if ((size_t)(ps->end - p) < n || memcmp(p, ps->delim + 2, n) != 0) return TAIL_NONE;
    return delim_tail(p + n, ps->end, next);
}

/* Finds the first delimiter line: "--boundary" at the start of the body or of a line.
 * Returns its kind and sets *next past it, or returns -1 with an error. */
static int find_first(parser *ps, const char **next) {
    if (ps->body == ps->end) {
        set_err(ps->err, ps->errlen, "the body is empty");
        return -1;
    }
    const char *p = ps->body;
    int tail = delim_at(ps, p, next);
    while (tail == TAIL_NONE) {
        const char *hit = memmem(p, (size_t)(ps->end - p), ps->delim + 1, ps->dlen - 1);
        if (!hit) {
            set_err(ps->err, ps->errlen, "no boundary found in the body");
            return -1;
        }
        p = hit + 1;
        tail = delim_at(ps, p, next);
    }
    if (tail == TAIL_SHORT) {
        set_err(ps->err, ps->errlen, "the body ends before the closing boundary");
        return -1;
    }
    if (tail == TAIL_NEXT) ps->lf_only = (*next)[-2] != '\r';
    return tail;
}

/* Finds where the data starting at p ends. Returns TAIL_NEXT or TAIL_CLOSE with *data_end
 * and *next set, or -1 with an error. */
static int find_data_end(parser *ps, int part, const char *p, const char **data_end,
                         const char **next) {
    /* "headers CRLF CRLF --boundary" is a part without a body (RFC 2046's body-part is
     * headers [CRLF *OCTET]): the empty line's CRLF belongs to the delimiter. */
    int tail = delim_at(ps, p, next);
    if (tail == TAIL_NEXT || tail == TAIL_CLOSE) {
        *data_end = p;
        return tail;
    }
    const char *pat = ps->lf_only ? ps->delim + 1 : ps->delim;
    size_t patlen = ps->lf_only ? ps->dlen - 1 : ps->dlen;
    const char *from = p;
    while (tail != TAIL_SHORT) {
        const char *hit = memmem(from, (size_t)(ps->end - from), pat, patlen);
        if (!hit) break;
        tail = delim_tail(hit + patlen, ps->end, next);
        if (tail == TAIL_NEXT || tail == TAIL_CLOSE) {
            if (ps->lf_only && hit > p && hit[-1] == '\r') hit--;
            *data_end = hit;
            return tail;
        }
        from = hit + 1;
    }
    set_err(ps->err, ps->errlen, "part %d: the body ends before the closing boundary", part);
    return -1;
}

/* The value of a header without the whitespace around it, as [*s, *e). */
static void trim(const buf *b, const char **s, const char **e) {
    *s = skip_ows(b->data, b->data + b->len);
    *e = b->data + b->len;
    while (*e > *s && is_ows((*e)[-1])) (*e)--;
}

static int parse_disposition(parser *ps, int part, const buf *cd, multipart_part *out) {
    const char *p, *end;
    trim(cd, &p, &end);
    const char *type = p;
    p = skip_token(p, end);
    if (!ieq(type, (size_t)(p - type), "form-data")) {
        if (p > type)
            set_err(ps->err, ps->errlen, "part %d: Content-Disposition is \"%.*s\", not form-data",
                    part, (int)(p - type > 40 ? 40 : p - type), type);
        else
            set_err(ps->err, ps->errlen, "part %d: Content-Disposition is not form-data", part);
        return -1;
    }

    buf value = {0};
    const char *name, *why;
    size_t name_len;
    int r;
    while ((r = next_param(&p, end, false, &name, &name_len, &value, &why)) == 1) {
        const char **field = NULL;
        if (ieq(name, name_len, "name"))
            field = &out->name;
        else if (ieq(name, name_len, "filename"))
            field = &out->filename;
        /* Everything else, notably RFC 5987's filename*=UTF-8''..., is read and ignored. */
        if (!field) continue;
        if (*field) {
            set_err(ps->err, ps->errlen,
                    "part %d: Content-Disposition has more than one %s parameter", part,
                    field == &out->name ? "name" : "filename");
            r = -2;
            break;
        }
        /* next_param rejects control characters, NUL included, so the copy is the whole
         * value. */
        *field = xmemdup0(value.data, value.len);
    }
    if (r == -1) set_err(ps->err, ps->errlen, "part %d: Content-Disposition: %s", part, why);
    buf_free(&value);
    if (r < 0) return -1;
    if (!out->name) {
        set_err(ps->err, ps->errlen, "part %d: Content-Disposition has no name parameter", part);
        return -1;
    }
    return 0;
}

/* Parses the headers of a part starting at *pp; on success *pp is the start of its data. */
static int parse_headers(parser *ps, int part, const char **pp, multipart_part *out) {
    const char *start = *pp, *p = start, *end = ps->end;
    /* Look for line ends only within the limit, so a huge headerless blob is not scanned. */
    const char *limit =
        (size_t)(end - start) > MAX_HEADER_BYTES + 2 ? start + MAX_HEADER_BYTES + 2 : end;
    buf cd = {0}, ct = {0};
    bool have_cd = false, have_ct = false;
    buf *cur = NULL; /* the header that folded continuation lines extend, if one we keep */
    bool in_header = false;
    int rc = -1;

    for (int line = 1;; line++) {
        const char *next;
        int tail = delim_at(ps, p, &next);
        if (tail == TAIL_NEXT || tail == TAIL_CLOSE) {
            set_err(ps->err, ps->errlen, "part %d: the headers are not followed by an empty line",
                    part);
            goto done;
        }
        const char *eol = memchr(p, '\n', (size_t)(limit - p));
        if (!eol) {
            if (limit < end)
                set_err(ps->err, ps->errlen, "part %d: the headers are longer than 8 KiB", part);
            else
                set_err(ps->err, ps->errlen, "part %d: the body ends before the closing boundary",
                        part);
            goto done;
        }
        const char *le = eol > p && eol[-1] == '\r' ? eol - 1 : eol;
        if (le == p) {
            *pp = eol + 1;
            break;
        }
        if (eol + 1 - start > MAX_HEADER_BYTES) {
            set_err(ps->err, ps->errlen, "part %d: the headers are longer than 8 KiB", part);
            goto done;
        }
        if (is_ows(*p)) {
            /* An obsolete folded line: it continues the previous header's value. */
            if (!in_header) {
                set_err(ps->err, ps->errlen,
                        "part %d: header line %d starts with whitespace but follows no header",
                        part, line);
                goto done;
            }
            if (cur) buf_append(cur, p, (size_t)(le - p));
            p = eol + 1;
            continue;
        }
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (!colon) {
            set_err(ps->err, ps->errlen, "part %d: header line %d has no colon", part, line);
            goto done;
        }
        const char *ne = colon;
        while (ne > p && is_ows(ne[-1])) ne--; /* RFC 5322's obsolete "Name :" */
        if (skip_token(p, ne) != ne || ne == p) {
            set_err(ps->err, ps->errlen, "part %d: header line %d has an invalid name", part, line);
            goto done;
        }
        cur = NULL;
        bool *seen = NULL;
        const char *label = NULL;
        if (ieq(p, (size_t)(ne - p), "content-disposition")) {
            cur = &cd, seen = &have_cd, label = "Content-Disposition";
        } else if (ieq(p, (size_t)(ne - p), "content-type")) {
            cur = &ct, seen = &have_ct, label = "Content-Type";
        }
        if (cur) {
            if (*seen) {
                set_err(ps->err, ps->errlen, "part %d: more than one %s header", part, label);
                goto done;
            }
            *seen = true;
            buf_append(cur, colon + 1, (size_t)(le - colon - 1));
        }
        in_header = true;
        p = eol + 1;
    }

    if (!have_cd) {
        set_err(ps->err, ps->errlen, "part %d: missing Content-Disposition header", part);
        goto done;
    }
    if (parse_disposition(ps, part, &cd, out) < 0) goto done;
    if (have_ct) {
        for (size_t i = 0; i < ct.len; i++) {
            unsigned char c = (unsigned char)ct.data[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                set_err(ps->err, ps->errlen, "part %d: Content-Type contains a control character",
                        part);
                goto done;
            }
        }
        const char *s, *e;
        trim(&ct, &s, &e);
        out->content_type = xmemdup0(s, (size_t)(e - s));
    }
    rc = 0;
done:
    buf_free(&cd);
    buf_free(&ct);
    return rc;
}

int multipart_parse(const char *body, size_t len, const char *boundary, multipart *out, char *err,
                    size_t errlen) {
    out->parts = NULL;
    out->count = 0;
    size_t blen = boundary ? strlen(boundary) : 0;
    if (blen == 0 || blen > MAX_BOUNDARY) {
        set_err(err, errlen, "invalid boundary: it must have 1 to %d characters", MAX_BOUNDARY);
        return -1;
    }
    if (!body) body = "", len = 0;

    parser ps = {.body = body, .end = body + len, .err = err, .errlen = errlen};
    memcpy(ps.delim, "\r\n--", 4);
    memcpy(ps.delim + 4, boundary, blen);
    ps.dlen = blen + 4;

    const char *p;
    int tail = find_first(&ps, &p);
    if (tail < 0) return -1;

    size_t cap = 0;
    for (int part = 1; tail == TAIL_NEXT; part++) {
        if (out->count == MAX_PARTS) {
            set_err(err, errlen, "more than %d parts", MAX_PARTS);
            goto fail;
        }
        if (out->count == cap) {
            cap = cap ? cap * 2 : 8;
            if (cap > MAX_PARTS) cap = MAX_PARTS;
            out->parts = xrealloc(out->parts, cap * sizeof *out->parts);
        }
        /* Counted before it is filled, so that multipart_free releases a half-parsed part. */
        multipart_part *mp = &out->parts[out->count++];
        memset(mp, 0, sizeof *mp);
        if (parse_headers(&ps, part, &p, mp) < 0) goto fail;
        const char *data = p, *data_end;
        tail = find_data_end(&ps, part, data, &data_end, &p);
        if (tail < 0) goto fail;
        mp->data = data;
        mp->len = (size_t)(data_end - data);
    }
    return 0;

fail:
    multipart_free(out);
    return -1;
}

void multipart_free(multipart *m) {
    if (!m) return;
    for (size_t i = 0; i < m->count; i++) {
        free((char *)m->parts[i].name);
        free((char *)m->parts[i].filename);
        free((char *)m->parts[i].content_type);
    }
    free(m->parts);
    m->parts = NULL;
    m->count = 0;
}

const multipart_part *multipart_find(const multipart *m, const char *name) {
    if (!m || !name) return NULL;
    for (size_t i = 0; i < m->count; i++)
        if (strcmp(m->parts[i].name, name) == 0) return &m->parts[i];
    return NULL;
}
