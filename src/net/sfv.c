/* sfv — RFC 8941 dictionaries, parsed with the RFC's own algorithm (§4.2), step by step.
 *
 * The functions below mirror the RFC's sections ("Parsing a Key", "Parsing a Bare Item", ...)
 * so that each can be checked against the text. Everything is parsed and validated, including
 * parameters and the items of inner lists, but only a member's own bare item is kept: that is
 * all hearth's callers read. */
#include "net/sfv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

typedef struct parser {
    const char *s;
    size_t len, pos;
    char *err;
    size_t errlen;
} parser;

static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records why parsing failed, with the offset where it did, and returns -1. */
static int fail(parser *p, const char *fmt, ...) {
    if (p->err && p->errlen) {
        int n = snprintf(p->err, p->errlen, "offset %zu: ", p->pos);
        if (n >= 0 && (size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return -1;
}

static bool at_end(const parser *p) {
    return p->pos >= p->len;
}

/* The next character, or NUL at the end (NUL is never valid where it is tested). */
static char peek(const parser *p) {
    return at_end(p) ? '\0' : p->s[p->pos];
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
static bool is_lcalpha(char c) {
    return c >= 'a' && c <= 'z';
}
static bool is_alpha(char c) {
    return is_lcalpha(c) || (c >= 'A' && c <= 'Z');
}

static bool is_tchar(char c) {
    return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_sp(parser *p) {
    while (peek(p) == ' ') p->pos++;
}

static void skip_ows(parser *p) {
    while (peek(p) == ' ' || peek(p) == '\t') p->pos++;
}

static void clear_value(sfv_member *v) {
    free(v->string);
    v->string = NULL;
    v->bytes_len = 0;
}

/* §4.2.3.3 Parsing a Key. */
static int parse_key(parser *p, char **out) {
    char c = peek(p);
    if (!is_lcalpha(c) && c != '*') return fail(p, "a key must start with a-z or \"*\"");
    size_t start = p->pos;
    for (;;) {
        c = peek(p);
        if (!is_lcalpha(c) && !is_digit(c) && !(c && strchr("_-.*", c))) break;
        p->pos++;
    }
    *out = xmemdup0(p->s + start, p->pos - start);
    return 0;
}

/* §4.2.4 Parsing an Integer or a Decimal. */
static int parse_number(parser *p, sfv_member *v) {
    int64_t sign = 1;
    if (peek(p) == '-') {
        p->pos++;
        sign = -1;
    }
    if (at_end(p)) return fail(p, "a number has no digits");
    if (!is_digit(peek(p))) return fail(p, "a number must start with a digit");

    /* Digits are only accumulated while they fit the limits, which also keeps int64 safe. */
    int64_t int_part = 0, frac_part = 0;
    int int_digits = 0, frac_digits = 0;
    bool decimal = false;
    for (; !at_end(p); p->pos++) {
        char c = peek(p);
        if (is_digit(c)) {
            if (!decimal) {
                if (++int_digits > 15) return fail(p, "an integer has more than 15 digits");
                int_part = int_part * 10 + (c - '0');
            } else {
                if (++frac_digits > 3)
                    return fail(p, "a decimal has more than 3 fractional digits");
                frac_part = frac_part * 10 + (c - '0');
            }
        } else if (c == '.' && !decimal) {
            if (int_digits > 12) return fail(p, "a decimal has more than 12 integer digits");
            decimal = true;
        } else {
            break;
        }
    }
    if (!decimal) {
        v->type = SFV_INTEGER;
        v->integer = sign * int_part;
        return 0;
    }
    if (frac_digits == 0) return fail(p, "a decimal ends with \".\"");
    for (int i = frac_digits; i < 3; i++) frac_part *= 10;
    /* At most 15 significant digits: the integer below is exact in a double, and the one
     * division rounds correctly, giving what strtod would. */
    v->type = SFV_DECIMAL;
    v->decimal = (double)sign * ((double)(int_part * 1000 + frac_part) / 1000.0);
    return 0;
}

/* §4.2.5 Parsing a String. */
static int parse_string(parser *p, sfv_member *v) {
    p->pos++; /* the opening DQUOTE, checked by the caller */
    buf out = {0};
    buf_reserve(&out, 0);
    while (!at_end(p)) {
        char c = p->s[p->pos++];
        if (c == '\\') {
            if (at_end(p)) break;
            char next = p->s[p->pos++];
            if (next != '"' && next != '\\') {
                p->pos--;
                buf_free(&out);
                return fail(p, "a string may only escape '\"' and '\\'");
            }
            buf_putc(&out, next);
        } else if (c == '"') {
            v->type = SFV_STRING;
            v->string = buf_detach(&out, &v->bytes_len);
            return 0;
        } else if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f) {
            p->pos--;
            buf_free(&out);
            return fail(p, "a string may only contain printable ASCII");
        } else {
            buf_putc(&out, c);
        }
    }
    buf_free(&out);
    return fail(p, "a string is not terminated");
}

/* §4.2.6 Parsing a Token. */
static int parse_token(parser *p, sfv_member *v) {
    size_t start = p->pos++; /* the first character, checked by the caller */
    for (;;) {
        char c = peek(p);
        if (!is_tchar(c) && c != ':' && c != '/') break;
        p->pos++;
    }
    v->type = SFV_TOKEN;
    v->bytes_len = p->pos - start;
    v->string = xmemdup0(p->s + start, v->bytes_len);
    return 0;
}

static int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* §4.2.7 Parsing a Byte Sequence. As the RFC recommends, missing "=" padding and non-zero pad
 * bits are accepted; padding that is present must be right, and only at the end. */
static int parse_bytes(parser *p, sfv_member *v) {
    p->pos++; /* the opening ":", checked by the caller */
    const char *start = p->s + p->pos;
    const char *close = memchr(start, ':', p->len - p->pos);
    if (!close) return fail(p, "a byte sequence is not terminated");
    size_t n = (size_t)(close - start), data = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        if (start[i] == '=') {
            pad++;
        } else if (b64_value(start[i]) < 0 || pad) {
            p->pos += i;
            return fail(p, "a byte sequence may only contain base64 with \"=\" padding at its end");
        } else {
            data++;
        }
    }
    /* Present padding must complete the last group (which also bounds it to two "="). */
    if (data % 4 == 1 || (pad && (data % 4 == 0 || (data + pad) % 4 != 0)))
        return fail(p, "a byte sequence is not valid base64");

    char *out = xmalloc(data / 4 * 3 + 3);
    size_t len = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < data; i++) {
        acc = (acc << 6) | (uint32_t)b64_value(start[i]);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[len] = '\0';
    v->type = SFV_BYTES;
    v->string = out;
    v->bytes_len = len;
    p->pos += n + 1;
    return 0;
}

/* §4.2.8 Parsing a Boolean. */
static int parse_boolean(parser *p, sfv_member *v) {
    p->pos++; /* the "?", checked by the caller */
    char c = peek(p);
    if (c != '0' && c != '1') return fail(p, "a boolean must be ?0 or ?1");
    p->pos++;
    v->type = SFV_BOOLEAN;
    v->integer = c == '1';
    return 0;
}

/* §4.2.3.1 Parsing a Bare Item. */
static int parse_bare_item(parser *p, sfv_member *v) {
    char c = peek(p);
    if (c == '-' || is_digit(c)) return parse_number(p, v);
    if (c == '"') return parse_string(p, v);
    if (is_alpha(c) || c == '*') return parse_token(p, v);
    if (c == ':') return parse_bytes(p, v);
    if (c == '?') return parse_boolean(p, v);
    return at_end(p) ? fail(p, "an item is missing") : fail(p, "an item cannot start here");
}

/* §4.2.3.2 Parsing Parameters. Their values are validated and dropped. */
static int parse_params(parser *p) {
    while (peek(p) == ';') {
        p->pos++;
        skip_sp(p);
        char *key;
        if (parse_key(p, &key) < 0) return -1;
        free(key);
        if (peek(p) == '=') {
            p->pos++;
            sfv_member value = {0};
            int rc = parse_bare_item(p, &value);
            clear_value(&value);
            if (rc < 0) return -1;
        }
    }
    return 0;
}

/* §4.2.3 Parsing an Item. */
static int parse_item(parser *p, sfv_member *v) {
    if (parse_bare_item(p, v) < 0) return -1;
    return parse_params(p);
}

/* §4.2.1.2 Parsing an Inner List (the opening "(" is checked by the caller). */
static int parse_inner_list(parser *p, sfv_member *v) {
    p->pos++;
    while (!at_end(p)) {
        skip_sp(p);
        if (peek(p) == ')') {
            p->pos++;
            v->type = SFV_INNER_LIST;
            return parse_params(p);
        }
        sfv_member item = {0};
        int rc = parse_item(p, &item);
        clear_value(&item);
        if (rc < 0) return -1;
        char c = peek(p);
        if (c != ' ' && c != ')' && !at_end(p))
            return fail(p, "expected a space or \")\" in an inner list");
    }
    return fail(p, "an inner list is not closed");
}

/* §4.2.1.1 Parsing an Item or Inner List. */
static int parse_item_or_inner_list(parser *p, sfv_member *v) {
    if (peek(p) == '(') return parse_inner_list(p, v);
    return parse_item(p, v);
}

/* ------------------------------------------------------------------------------------------
 * Duplicate keys. The RFC's dictionary is an ordered map where a repeated key overwrites the
 * value but keeps its first position. A small hash of keys keeps that linear, so a long
 * header of distinct keys cannot make parsing quadratic.
 * ---------------------------------------------------------------------------------------- */

static uint32_t key_hash(const char *k) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 16777619u;
    return h;
}

/* Folds raw members (in input order, keys possibly repeated) into d. */
static void merge_duplicates(sfv_member *raw, size_t n, sfv_dict *d) {
    size_t cap = 16;
    while (cap < 2 * n) cap *= 2;
    size_t *slots = xcalloc(cap, sizeof *slots); /* index + 1 into d->members, 0 = empty */
    d->members = raw;
    d->count = 0;
    for (size_t i = 0; i < n; i++) {
        size_t h = key_hash(raw[i].key) & (cap - 1);
        while (slots[h] && strcmp(raw[slots[h] - 1].key, raw[i].key) != 0) h = (h + 1) & (cap - 1);
        if (slots[h]) {
            sfv_member *kept = &raw[slots[h] - 1];
            free(kept->string);
            free(raw[i].key);
            char *key = kept->key;
            *kept = raw[i];
            kept->key = key;
        } else {
            /* Compacting in place is safe: d->count <= i. */
            raw[d->count] = raw[i];
            slots[h] = ++d->count;
        }
    }
    free(slots);
}

/* ------------------------------------------------------------------------------------------
 * §4.2 Parsing Structured Fields, for a Dictionary (§4.2.2).
 * ---------------------------------------------------------------------------------------- */

int sfv_parse_dict(const char *value, size_t len, sfv_dict *out, char *err, size_t errlen) {
    out->members = NULL;
    out->count = 0;
    if (!value) value = "", len = 0;
    parser p = {.s = value, .len = len, .err = err, .errlen = errlen};
    if (err && errlen) err[0] = '\0';

    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)value[i] > 0x7f) {
            p.pos = i;
            return fail(&p, "the field value is not ASCII");
        }
    }
    skip_sp(&p);

    sfv_member *raw = NULL;
    size_t n = 0, cap = 0;
    while (!at_end(&p)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            raw = xrealloc(raw, cap * sizeof *raw);
        }
        sfv_member *m = &raw[n];
        memset(m, 0, sizeof *m);
        if (parse_key(&p, &m->key) < 0) goto fail;
        n++; /* from here on the member owns memory that the failure path must free */
        if (peek(&p) == '=') {
            p.pos++;
            if (parse_item_or_inner_list(&p, m) < 0) goto fail;
        } else {
            m->type = SFV_BOOLEAN;
            m->integer = 1;
            if (parse_params(&p) < 0) goto fail;
        }
        skip_ows(&p);
        if (at_end(&p)) break;
        if (peek(&p) != ',') {
            fail(&p, "expected \",\" after a member");
            goto fail;
        }
        p.pos++;
        skip_ows(&p);
        if (at_end(&p)) {
            fail(&p, "a trailing comma");
            goto fail;
        }
    }
    if (n)
        merge_duplicates(raw, n, out);
    else
        free(raw);
    return 0;

fail:
    for (size_t i = 0; i < n; i++) {
        free(raw[i].key);
        free(raw[i].string);
    }
    free(raw);
    return -1;
}

void sfv_dict_free(sfv_dict *d) {
    if (!d) return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->members[i].key);
        free(d->members[i].string);
    }
    free(d->members);
    d->members = NULL;
    d->count = 0;
}

const sfv_member *sfv_dict_get(const sfv_dict *d, const char *key) {
    if (!d || !key) return NULL;
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->members[i].key, key) == 0) return &d->members[i];
    return NULL;
}
