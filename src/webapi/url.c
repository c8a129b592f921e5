/* url.c: the URL Standard's basic URL parser (every state, with and without state override),
 * the URL serializer, origins, and the URL API getters and setters.
 *
 * The parser walks UTF-8 bytes rather than code points. That is exact because every decision
 * the state machine takes is about ASCII code points, and every percent-encode set contains all
 * code points above U+007E, so encoding a code point and encoding its UTF-8 bytes one by one
 * give the same result. Input is first made well-formed UTF-8 so that this holds.
 *
 * While parsing, a URL lives in a url_rec whose members are growable buffers; its path is kept
 * serialized ("/a/b"), which is a faithful encoding of the standard's list of segments because
 * a segment never contains '/'. */
#include "webapi/url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "webapi/url_internal.h"

/* ---- Schemes ---- */

typedef enum scheme_kind {
    SCHEME_OTHER, /* not special */
    SCHEME_HTTP,
    SCHEME_HTTPS,
    SCHEME_WS,
    SCHEME_WSS,
    SCHEME_FTP,
    SCHEME_FILE,
} scheme_kind;

static scheme_kind scheme_kind_of(const char *s, size_t n) {
    switch (n) {
    case 2:
        if (!memcmp(s, "ws", 2)) return SCHEME_WS;
        break;
    case 3:
        if (!memcmp(s, "wss", 3)) return SCHEME_WSS;
        if (!memcmp(s, "ftp", 3)) return SCHEME_FTP;
        break;
    case 4:
        if (!memcmp(s, "http", 4)) return SCHEME_HTTP;
        if (!memcmp(s, "file", 4)) return SCHEME_FILE;
        break;
    case 5:
        if (!memcmp(s, "https", 5)) return SCHEME_HTTPS;
        break;
    }
    return SCHEME_OTHER;
}

static int default_port_of(scheme_kind k) {
    switch (k) {
    case SCHEME_HTTP:
    case SCHEME_WS:
        return 80;
    case SCHEME_HTTPS:
    case SCHEME_WSS:
        return 443;
    case SCHEME_FTP:
        return 21;
    default:
        return -1;
    }
}

int url_default_port(const char *scheme) {
    return default_port_of(scheme_kind_of(scheme, strlen(scheme)));
}

bool url_is_special(const url *u) {
    return scheme_kind_of(u->scheme, strlen(u->scheme)) != SCHEME_OTHER;
}

/* ---- Character classes (ASCII only; bytes >= 0x80 are never in them) ---- */

static bool is_alpha(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_digit(int c) {
    return c >= '0' && c <= '9';
}
static bool is_hex(int c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static int to_lower(int c) {
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* ---- UTF-8 ---- */

size_t url_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned char b = s[0];
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    size_t need;
    uint32_t v;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1, v = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2, v = b & 0x0F;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3, v = b & 0x07;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *cp = 0xFFFD;
            return i;
        }
        v = (v << 6) | (s[i] & 0x3F);
        lo = 0x80, hi = 0xBF;
    }
    *cp = v;
    return need + 1;
}

void url_utf8_append(buf *b, uint32_t cp) {
    char t[4];
    size_t n;
    if (cp < 0x80) {
        t[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6)), t[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12)), t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        t[0] = (char)(0xF0 | (cp >> 18)), t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), t[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    }
    buf_append(b, t, n);
}

bool url_utf8_is_valid(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = url_utf8_decode(s + i, n - i, &cp);
        if (cp == 0xFFFD && !(k == 3 && s[i] == 0xEF && s[i + 1] == 0xBF && s[i + 2] == 0xBD))
            return false;
        i += k;
    }
    return true;
}

/* ---- Percent-encoding ---- */

/* Which percent-encode sets each printable ASCII code point is in: bit 1 << set. C0 controls,
 * U+007F and everything above are in every set. Most sets are the previous one plus a few code
 * points, hence the cumulative masks. */
#define IN(set) (1u << URL_ENCODE_##set)
#define FROM_QUERY                                                                                 \
    (IN(QUERY) | IN(SPECIAL_QUERY) | IN(PATH) | IN(USERINFO) | IN(COMPONENT) | IN(FORM_URLENCODED))
#define FROM_PATH      (IN(PATH) | IN(USERINFO) | IN(COMPONENT) | IN(FORM_URLENCODED))
#define FROM_USERINFO  (IN(USERINFO) | IN(COMPONENT) | IN(FORM_URLENCODED))
#define FROM_COMPONENT (IN(COMPONENT) | IN(FORM_URLENCODED))

static const uint8_t encode_sets[128] = {
    [' '] = IN(FRAGMENT) | FROM_QUERY,
    ['"'] = IN(FRAGMENT) | FROM_QUERY,
    ['<'] = IN(FRAGMENT) | FROM_QUERY,
    ['>'] = IN(FRAGMENT) | FROM_QUERY,
    ['#'] = FROM_QUERY,
    ['`'] = IN(FRAGMENT) | FROM_PATH,
    ['?'] = FROM_PATH,
    ['{'] = FROM_PATH,
    ['}'] = FROM_PATH,
    ['/'] = FROM_USERINFO,
    [':'] = FROM_USERINFO,
    [';'] = FROM_USERINFO,
    ['='] = FROM_USERINFO,
    ['@'] = FROM_USERINFO,
    ['['] = FROM_USERINFO,
    ['\\'] = FROM_USERINFO,
    [']'] = FROM_USERINFO,
    ['^'] = FROM_USERINFO,
    ['|'] = FROM_USERINFO,
    ['$'] = FROM_COMPONENT,
    ['%'] = FROM_COMPONENT,
    ['&'] = FROM_COMPONENT,
    ['+'] = FROM_COMPONENT,
    [','] = FROM_COMPONENT,
    ['\''] = IN(SPECIAL_QUERY) | IN(FORM_URLENCODED),
    ['!'] = IN(FORM_URLENCODED),
    ['('] = IN(FORM_URLENCODED),
    [')'] = IN(FORM_URLENCODED),
    ['~'] = IN(FORM_URLENCODED),
};

static inline bool in_encode_set(unsigned char c, url_encode_set set) {
    return c < 0x20 || c > 0x7E || ((encode_sets[c] >> set) & 1);
}

bool url_in_encode_set(unsigned char c, url_encode_set set) {
    return in_encode_set(c, set);
}

static const char hex_upper[] = "0123456789ABCDEF";

static inline void encode_byte(buf *b, unsigned char c, url_encode_set set) {
    if (!in_encode_set(c, set)) {
        url_putc(b, (char)c);
        return;
    }
    char t[3] = {'%', hex_upper[c >> 4], hex_upper[c & 15]};
    buf_append(b, t, 3);
}

void url_encode_append(buf *b, const unsigned char *s, size_t n, url_encode_set set) {
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && !in_encode_set(s[i], set)) i++;
        buf_append(b, s + start, i - start);
        if (i < n) encode_byte(b, s[i++], set);
    }
}

void url_append_uint(buf *b, unsigned v) {
    char t[10];
    size_t n = 0;
    do {
        t[sizeof t - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(b, t + sizeof t - n, n);
}

static int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

void url_decode_append(buf *b, const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            url_putc(b, (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else {
            url_putc(b, (char)s[i]);
        }
    }
}

/* Appends s as well-formed UTF-8: every invalid sequence becomes U+FFFD. */
static void append_well_formed(buf *b, const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        while (i < n && s[i] < 0x80) i++;
        buf_append(b, s + start, i - start);
        if (i == n) break;
        uint32_t cp;
        size_t k = url_utf8_decode(s + i, n - i, &cp);
        if (cp == 0xFFFD)
            buf_append(b, "\xEF\xBF\xBD", 3);
        else
            buf_append(b, s + i, k);
        i += k;
    }
}

char *url_percent_encode(const char *s, size_t n, url_encode_set set, bool space_as_plus) {
    buf clean = {0}, out = {0};
    append_well_formed(&clean, (const unsigned char *)s, n);
    for (size_t i = 0; i < clean.len; i++) {
        unsigned char c = (unsigned char)clean.data[i];
        if (c == ' ' && space_as_plus)
            url_putc(&out, '+');
        else
            encode_byte(&out, c, set);
    }
    buf_free(&clean);
    return buf_detach(&out, NULL);
}

char *url_percent_decode(const char *s, size_t n, size_t *out_len) {
    buf out = {0};
    url_decode_append(&out, (const unsigned char *)s, n);
    return buf_detach(&out, out_len);
}

/* ---- The URL record under construction ---- */

typedef struct url_rec {
    buf scheme;
    scheme_kind kind;
    buf username, password;
    bool has_host;
    buf host;
    int port;
    buf path; /* serialized segments, or the opaque path */
    bool opaque_path;
    bool has_query;
    buf query;
    bool has_fragment;
    buf fragment;
} url_rec;

static void rec_free(url_rec *r) {
    buf_free(&r->scheme), buf_free(&r->username), buf_free(&r->password);
    buf_free(&r->host), buf_free(&r->path), buf_free(&r->query), buf_free(&r->fragment);
}

static void buf_set(buf *b, const char *s) {
    buf_clear(b);
    if (s) buf_puts(b, s);
}

static void rec_from_url(url_rec *r, const url *u) {
    memset(r, 0, sizeof *r);
    buf_puts(&r->scheme, u->scheme);
    r->kind = scheme_kind_of(u->scheme, strlen(u->scheme));
    buf_puts(&r->username, u->username);
    buf_puts(&r->password, u->password);
    r->has_host = u->host != NULL;
    buf_set(&r->host, u->host);
    r->port = u->port;
    buf_puts(&r->path, u->path);
    r->opaque_path = u->opaque_path;
    r->has_query = u->query != NULL;
    buf_set(&r->query, u->query);
    r->has_fragment = u->fragment != NULL;
    buf_set(&r->fragment, u->fragment);
}

static char *detach_or_null(buf *b, bool present) {
    if (!present) {
        buf_free(b);
        return NULL;
    }
    return buf_detach(b, NULL);
}

/* Moves r into *u (which must not hold a live record); r is left empty. */
static void rec_to_url(url_rec *r, url *u) {
    u->scheme = buf_detach(&r->scheme, NULL);
    u->username = buf_detach(&r->username, NULL);
    u->password = buf_detach(&r->password, NULL);
    u->host = detach_or_null(&r->host, r->has_host);
    u->port = r->port;
    u->path = buf_detach(&r->path, NULL);
    u->opaque_path = r->opaque_path;
    u->query = detach_or_null(&r->query, r->has_query);
    u->fragment = detach_or_null(&r->fragment, r->has_fragment);
}

static bool rec_includes_credentials(const url_rec *r) {
    return r->username.len || r->password.len;
}

/* A Windows drive letter: an ASCII alpha followed by ':' or '|' (normalized: only ':'). */
static bool is_drive_letter(const unsigned char *s, size_t n, bool normalized) {
    return n == 2 && is_alpha(s[0]) && (s[1] == ':' || (!normalized && s[1] == '|'));
}

static bool starts_with_drive_letter(const unsigned char *s, size_t n) {
    if (n < 2 || !is_drive_letter(s, 2, false)) return false;
    return n == 2 || s[2] == '/' || s[2] == '\\' || s[2] == '?' || s[2] == '#';
}

/* The first path segment (the path must not be opaque); *n receives its length. */
static const unsigned char *path_first_segment(const buf *path, size_t *n) {
    if (path->len == 0) {
        *n = 0;
        return NULL;
    }
    const char *start = path->data + 1;
    const char *end = memchr(start, '/', path->len - 1);
    *n = end ? (size_t)(end - start) : path->len - 1;
    return (const unsigned char *)start;
}

static size_t path_size(const buf *path) {
    size_t count = 0;
    for (size_t i = 0; i < path->len; i++) count += path->data[i] == '/';
    return count;
}

static void path_push(buf *path, const void *seg, size_t n) {
    url_putc(path, '/');
    buf_append(path, seg, n);
}

static void path_shorten(url_rec *r) {
    size_t n;
    const unsigned char *first = path_first_segment(&r->path, &n);
    if (r->kind == SCHEME_FILE && path_size(&r->path) == 1 && is_drive_letter(first, n, true))
        return;
    if (r->path.len == 0) return;
    char *last = memrchr(r->path.data, '/', r->path.len);
    r->path.len = (size_t)(last - r->path.data);
    r->path.data[r->path.len] = '\0';
}

/* ---- The basic URL parser ---- */

typedef enum parse_state {
    ST_NONE, /* no state override */
    ST_SCHEME_START,
    ST_SCHEME,
    ST_NO_SCHEME,
    ST_SPECIAL_RELATIVE_OR_AUTHORITY,
    ST_PATH_OR_AUTHORITY,
    ST_RELATIVE,
    ST_RELATIVE_SLASH,
    ST_SPECIAL_AUTHORITY_SLASHES,
    ST_SPECIAL_AUTHORITY_IGNORE_SLASHES,
    ST_AUTHORITY,
    ST_HOST,
    ST_HOSTNAME,
    ST_PORT,
    ST_FILE,
    ST_FILE_SLASH,
    ST_FILE_HOST,
    ST_PATH_START,
    ST_PATH,
    ST_OPAQUE_PATH,
    ST_QUERY,
    ST_FRAGMENT,
} parse_state;

/* What one run of a state asks the driver to do. */
enum { STEP_CONTINUE = 0, STEP_RETURN = 1, STEP_FAILURE = -1 };

#define EOF_CP (-1)

typedef struct parser {
    const unsigned char *in;
    ptrdiff_t len;
    ptrdiff_t p;
    const url *base;
    scheme_kind base_kind;
    url_rec *u;
    parse_state state;
    parse_state override;
    buf buffer;
    bool at_sign_seen, inside_brackets, password_token_seen;
    const char *err;
} parser;

static int cur(const parser *ps) {
    return ps->p < ps->len ? ps->in[ps->p] : EOF_CP;
}

/* The code point at pointer + k, or EOF. */
static int peek(const parser *ps, ptrdiff_t k) {
    ptrdiff_t i = ps->p + k;
    return i >= 0 && i < ps->len ? ps->in[i] : EOF_CP;
}

static bool is_special(const parser *ps) {
    return ps->u->kind != SCHEME_OTHER;
}

static int fail(parser *ps, const char *why) {
    ps->err = why;
    return STEP_FAILURE;
}

static void copy_base_authority(parser *ps) {
    const url *b = ps->base;
    url_rec *u = ps->u;
    buf_set(&u->username, b->username);
    buf_set(&u->password, b->password);
    u->has_host = b->host != NULL;
    buf_set(&u->host, b->host);
    u->port = b->port;
}

static void copy_base_query(parser *ps) {
    ps->u->has_query = ps->base->query != NULL;
    buf_set(&ps->u->query, ps->base->query);
}

static void start_query(parser *ps) {
    ps->u->has_query = true;
    buf_clear(&ps->u->query);
    ps->state = ST_QUERY;
}

static void start_fragment(parser *ps) {
    ps->u->has_fragment = true;
    buf_clear(&ps->u->fragment);
    ps->state = ST_FRAGMENT;
}

/* Runs the host parser on the buffer and stores the result as the URL's host. */
static int store_host(parser *ps) {
    buf host = {0};
    if (url_host_parse_into(&host, (const unsigned char *)ps->buffer.data, ps->buffer.len,
                            !is_special(ps), &ps->err) < 0) {
        buf_free(&host);
        return STEP_FAILURE;
    }
    buf_free(&ps->u->host);
    ps->u->host = host;
    ps->u->has_host = true;
    return STEP_CONTINUE;
}

static int st_scheme_start(parser *ps, int c) {
    if (is_alpha(c)) {
        url_putc(&ps->buffer, (char)to_lower(c));
        ps->state = ST_SCHEME;
    } else if (!ps->override) {
        ps->state = ST_NO_SCHEME;
        ps->p--;
    } else {
        return fail(ps, "invalid scheme");
    }
    return STEP_CONTINUE;
}

static int st_scheme(parser *ps, int c) {
    url_rec *u = ps->u;
    if (c != EOF_CP && (is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.')) {
        url_putc(&ps->buffer, (char)to_lower(c));
        return STEP_CONTINUE;
    }
    if (c != ':') {
        if (ps->override) return fail(ps, "invalid scheme");
        buf_clear(&ps->buffer);
        ps->state = ST_NO_SCHEME;
        ps->p = -1; /* start over from the first code point */
        return STEP_CONTINUE;
    }
    scheme_kind kind = scheme_kind_of(ps->buffer.data, ps->buffer.len);
    if (ps->override) {
        if ((u->kind != SCHEME_OTHER) != (kind != SCHEME_OTHER)) return STEP_RETURN;
        if ((rec_includes_credentials(u) || u->port >= 0) && kind == SCHEME_FILE)
            return STEP_RETURN;
        if (u->kind == SCHEME_FILE && u->has_host && u->host.len == 0) return STEP_RETURN;
    }
    buf_clear(&u->scheme);
    buf_append(&u->scheme, ps->buffer.data, ps->buffer.len);
    u->kind = kind;
    if (ps->override) {
        if (u->port == default_port_of(kind)) u->port = -1;
        return STEP_RETURN;
    }
    buf_clear(&ps->buffer);
    if (kind == SCHEME_FILE) {
        ps->state = ST_FILE;
    } else if (kind != SCHEME_OTHER && ps->base && ps->base_kind == kind) {
        ps->state = ST_SPECIAL_RELATIVE_OR_AUTHORITY;
    } else if (kind != SCHEME_OTHER) {
        ps->state = ST_SPECIAL_AUTHORITY_SLASHES;
    } else if (peek(ps, 1) == '/') {
        ps->state = ST_PATH_OR_AUTHORITY;
        ps->p++;
    } else {
        u->opaque_path = true;
        buf_clear(&u->path);
        ps->state = ST_OPAQUE_PATH;
    }
    return STEP_CONTINUE;
}

static int st_no_scheme(parser *ps, int c) {
    const url *b = ps->base;
    url_rec *u = ps->u;
    if (!b || (b->opaque_path && c != '#')) return fail(ps, "missing scheme");
    if (b->opaque_path) {
        buf_set(&u->scheme, b->scheme);
        u->kind = ps->base_kind;
        u->opaque_path = true;
        buf_set(&u->path, b->path);
        copy_base_query(ps);
        start_fragment(ps);
    } else {
        ps->state = ps->base_kind == SCHEME_FILE ? ST_FILE : ST_RELATIVE;
        ps->p--;
    }
    return STEP_CONTINUE;
}

static int st_special_relative_or_authority(parser *ps, int c) {
    if (c == '/' && peek(ps, 1) == '/') {
        ps->state = ST_SPECIAL_AUTHORITY_IGNORE_SLASHES;
        ps->p++;
    } else {
        ps->state = ST_RELATIVE;
        ps->p--;
    }
    return STEP_CONTINUE;
}

static int st_path_or_authority(parser *ps, int c) {
    if (c == '/') {
        ps->state = ST_AUTHORITY;
    } else {
        ps->state = ST_PATH;
        ps->p--;
    }
    return STEP_CONTINUE;
}

static int st_relative(parser *ps, int c) {
    url_rec *u = ps->u;
    buf_set(&u->scheme, ps->base->scheme);
    u->kind = ps->base_kind;
    if (c == '/' || (is_special(ps) && c == '\\')) {
        ps->state = ST_RELATIVE_SLASH;
        return STEP_CONTINUE;
    }
    copy_base_authority(ps);
    buf_set(&u->path, ps->base->path);
    copy_base_query(ps);
    if (c == '?') {
        start_query(ps);
    } else if (c == '#') {
        start_fragment(ps);
    } else if (c != EOF_CP) {
        u->has_query = false;
        buf_clear(&u->query);
        path_shorten(u);
        ps->state = ST_PATH;
        ps->p--;
    }
    return STEP_CONTINUE;
}

static int st_relative_slash(parser *ps, int c) {
    if (is_special(ps) && (c == '/' || c == '\\')) {
        ps->state = ST_SPECIAL_AUTHORITY_IGNORE_SLASHES;
    } else if (c == '/') {
        ps->state = ST_AUTHORITY;
    } else {
        copy_base_authority(ps);
        ps->state = ST_PATH;
        ps->p--;
    }
    return STEP_CONTINUE;
}

static int st_special_authority_slashes(parser *ps, int c) {
    ps->state = ST_SPECIAL_AUTHORITY_IGNORE_SLASHES;
    if (c == '/' && peek(ps, 1) == '/')
        ps->p++;
    else
        ps->p--;
    return STEP_CONTINUE;
}

static int st_special_authority_ignore_slashes(parser *ps, int c) {
    if (c != '/' && c != '\\') {
        ps->state = ST_AUTHORITY;
        ps->p--;
    }
    return STEP_CONTINUE;
}

/* Ends of the authority, host and path: EOF, '/', '?', '#', and '\' in special URLs. */
static bool ends_component(const parser *ps, int c) {
    return c == EOF_CP || c == '/' || c == '?' || c == '#' || (c == '\\' && is_special(ps));
}

/* Several states take ordinary code points one at a time; they take a whole run of them in one
 * step instead, which comes to the same. Returns the length of the run at the pointer that
 * stop() ends. */
static size_t run_length(const parser *ps, bool (*stop)(const parser *, int)) {
    ptrdiff_t i = ps->p;
    while (i < ps->len && !stop(ps, ps->in[i])) i++;
    return (size_t)(i - ps->p);
}

static const unsigned char *here(const parser *ps) {
    return ps->in + ps->p;
}

static bool ends_userinfo_or_host(const parser *ps, int c) {
    return c == '@' || ends_component(ps, c);
}

static int st_authority(parser *ps, int c) {
    url_rec *u = ps->u;
    if (c == '@') {
        /* The buffer held userinfo, not a host. An earlier '@' belongs to it, as "%40". */
        if (ps->at_sign_seen)
            buf_puts(ps->password_token_seen ? &u->password : &u->username, "%40");
        ps->at_sign_seen = true;
        for (size_t i = 0; i < ps->buffer.len; i++) {
            unsigned char b = (unsigned char)ps->buffer.data[i];
            if (b == ':' && !ps->password_token_seen) {
                ps->password_token_seen = true;
                continue;
            }
            encode_byte(ps->password_token_seen ? &u->password : &u->username, b,
                        URL_ENCODE_USERINFO);
        }
        buf_clear(&ps->buffer);
    } else if (ends_component(ps, c)) {
        if (ps->at_sign_seen && ps->buffer.len == 0) return fail(ps, "missing host");
        ps->p -= (ptrdiff_t)ps->buffer.len + 1;
        buf_clear(&ps->buffer);
        ps->state = ST_HOST;
    } else {
        size_t n = run_length(ps, ends_userinfo_or_host);
        buf_append(&ps->buffer, here(ps), n);
        ps->p += (ptrdiff_t)n - 1;
    }
    return STEP_CONTINUE;
}

static bool ends_host_run(const parser *ps, int c) {
    return c == ':' || c == '[' || c == ']' || ends_component(ps, c);
}

static int st_host(parser *ps, int c) {
    url_rec *u = ps->u;
    if (ps->override && u->kind == SCHEME_FILE) {
        ps->p--;
        ps->state = ST_FILE_HOST;
    } else if (c == ':' && !ps->inside_brackets) {
        if (ps->buffer.len == 0) return fail(ps, "missing host");
        if (ps->override == ST_HOSTNAME) return fail(ps, "port not allowed");
        if (store_host(ps) < 0) return STEP_FAILURE;
        buf_clear(&ps->buffer);
        ps->state = ST_PORT;
    } else if (ends_component(ps, c)) {
        ps->p--;
        if (is_special(ps) && ps->buffer.len == 0) return fail(ps, "missing host");
        if (ps->override && ps->buffer.len == 0 && (rec_includes_credentials(u) || u->port >= 0))
            return fail(ps, "host required");
        if (store_host(ps) < 0) return STEP_FAILURE;
        buf_clear(&ps->buffer);
        ps->state = ST_PATH_START;
        if (ps->override) return STEP_RETURN;
    } else if (c == '[' || c == ']' || c == ':') {
        if (c == '[') ps->inside_brackets = true;
        if (c == ']') ps->inside_brackets = false;
        url_putc(&ps->buffer, (char)c);
    } else {
        size_t n = run_length(ps, ends_host_run);
        buf_append(&ps->buffer, here(ps), n);
        ps->p += (ptrdiff_t)n - 1;
    }
    return STEP_CONTINUE;
}

static int st_port(parser *ps, int c) {
    url_rec *u = ps->u;
    if (is_digit(c)) {
        url_putc(&ps->buffer, (char)c);
        return STEP_CONTINUE;
    }
    if (!ends_component(ps, c) && !ps->override) return fail(ps, "invalid port");
    if (ps->buffer.len) {
        long port = 0;
        for (size_t i = 0; i < ps->buffer.len && port <= 65535; i++)
            port = port * 10 + (ps->buffer.data[i] - '0');
        if (port > 65535) return fail(ps, "port out of range");
        u->port = port == default_port_of(u->kind) ? -1 : (int)port;
        buf_clear(&ps->buffer);
        if (ps->override) return STEP_RETURN;
    }
    if (ps->override) return fail(ps, "invalid port");
    ps->state = ST_PATH_START;
    ps->p--;
    return STEP_CONTINUE;
}

static const unsigned char *rest(const parser *ps, size_t *n) {
    *n = (size_t)(ps->len - ps->p);
    return ps->in + ps->p;
}

static int st_file(parser *ps, int c) {
    url_rec *u = ps->u;
    const url *b = ps->base;
    buf_set(&u->scheme, "file");
    u->kind = SCHEME_FILE;
    u->has_host = true;
    buf_clear(&u->host);
    if (c == '/' || c == '\\') {
        ps->state = ST_FILE_SLASH;
        return STEP_CONTINUE;
    }
    if (!b || ps->base_kind != SCHEME_FILE) {
        ps->state = ST_PATH;
        ps->p--;
        return STEP_CONTINUE;
    }
    u->has_host = b->host != NULL;
    buf_set(&u->host, b->host);
    buf_set(&u->path, b->path);
    copy_base_query(ps);
    if (c == '?') {
        start_query(ps);
    } else if (c == '#') {
        start_fragment(ps);
    } else if (c != EOF_CP) {
        u->has_query = false;
        buf_clear(&u->query);
        size_t n;
        const unsigned char *s = rest(ps, &n);
        if (!starts_with_drive_letter(s, n))
            path_shorten(u);
        else
            buf_clear(&u->path); /* the Windows drive letter quirk */
        ps->state = ST_PATH;
        ps->p--;
    }
    return STEP_CONTINUE;
}

static int st_file_slash(parser *ps, int c) {
    url_rec *u = ps->u;
    const url *b = ps->base;
    if (c == '/' || c == '\\') {
        ps->state = ST_FILE_HOST;
        return STEP_CONTINUE;
    }
    if (b && ps->base_kind == SCHEME_FILE) {
        u->has_host = b->host != NULL;
        buf_set(&u->host, b->host);
        size_t n, first_n;
        const unsigned char *s = rest(ps, &n);
        buf base_path = {.data = b->path, .len = strlen(b->path)};
        const unsigned char *first = path_first_segment(&base_path, &first_n);
        /* The Windows drive letter quirk: "/x" against "file:///C:/y" stays on drive C. */
        if (!starts_with_drive_letter(s, n) && is_drive_letter(first, first_n, true))
            path_push(&u->path, first, first_n);
    }
    ps->state = ST_PATH;
    ps->p--;
    return STEP_CONTINUE;
}

static int st_file_host(parser *ps, int c) {
    url_rec *u = ps->u;
    if (!(c == EOF_CP || c == '/' || c == '\\' || c == '?' || c == '#')) {
        url_putc(&ps->buffer, (char)c);
        return STEP_CONTINUE;
    }
    ps->p--;
    if (!ps->override &&
        is_drive_letter((const unsigned char *)ps->buffer.data, ps->buffer.len, false)) {
        /* The drive letter quirk: "file://C|/" has no host; the buffer becomes the path. */
        ps->state = ST_PATH;
    } else if (ps->buffer.len == 0) {
        u->has_host = true;
        buf_clear(&u->host);
        if (ps->override) return STEP_RETURN;
        ps->state = ST_PATH_START;
    } else {
        if (store_host(ps) < 0) return STEP_FAILURE;
        if (u->host.len == 9 && !memcmp(u->host.data, "localhost", 9)) buf_clear(&u->host);
        if (ps->override) return STEP_RETURN;
        buf_clear(&ps->buffer);
        ps->state = ST_PATH_START;
    }
    return STEP_CONTINUE;
}

static int st_path_start(parser *ps, int c) {
    url_rec *u = ps->u;
    if (is_special(ps)) {
        ps->state = ST_PATH;
        if (c != '/' && c != '\\') ps->p--;
    } else if (!ps->override && c == '?') {
        start_query(ps);
    } else if (!ps->override && c == '#') {
        start_fragment(ps);
    } else if (c != EOF_CP) {
        ps->state = ST_PATH;
        if (c != '/') ps->p--;
    } else if (ps->override && !u->has_host) {
        path_push(&u->path, "", 0);
    }
    return STEP_CONTINUE;
}

static bool ascii_case_equal(const char *s, size_t n, const char *lower) {
    if (strlen(lower) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (to_lower((unsigned char)s[i]) != lower[i]) return false;
    return true;
}

static bool is_single_dot(const buf *b) {
    return ascii_case_equal(b->data, b->len, ".") || ascii_case_equal(b->data, b->len, "%2e");
}

static bool is_double_dot(const buf *b) {
    return ascii_case_equal(b->data, b->len, "..") || ascii_case_equal(b->data, b->len, ".%2e") ||
           ascii_case_equal(b->data, b->len, "%2e.") || ascii_case_equal(b->data, b->len, "%2e%2e");
}

static bool ends_segment(const parser *ps, int c) {
    return c == EOF_CP || c == '/' || (is_special(ps) && c == '\\') ||
           (!ps->override && (c == '?' || c == '#'));
}

static int st_path(parser *ps, int c) {
    url_rec *u = ps->u;
    bool slash = c == '/' || (is_special(ps) && c == '\\');
    if (!ends_segment(ps, c)) {
        size_t n = run_length(ps, ends_segment);
        url_encode_append(&ps->buffer, here(ps), n, URL_ENCODE_PATH);
        ps->p += (ptrdiff_t)n - 1;
        return STEP_CONTINUE;
    }
    if (is_double_dot(&ps->buffer)) {
        path_shorten(u);
        if (!slash) path_push(&u->path, "", 0); /* "/usr/.." is "/", not an empty path */
    } else if (is_single_dot(&ps->buffer)) {
        if (!slash) path_push(&u->path, "", 0);
    } else {
        if (u->kind == SCHEME_FILE && u->path.len == 0 &&
            is_drive_letter((const unsigned char *)ps->buffer.data, ps->buffer.len, false))
            ps->buffer.data[1] = ':';
        path_push(&u->path, ps->buffer.data, ps->buffer.len);
    }
    buf_clear(&ps->buffer);
    if (c == '?') start_query(ps);
    if (c == '#') start_fragment(ps);
    return STEP_CONTINUE;
}

static bool ends_opaque_run(const parser *ps, int c) {
    (void)ps;
    return c == '?' || c == '#' || c == ' ';
}

static int st_opaque_path(parser *ps, int c) {
    url_rec *u = ps->u;
    if (c == '?') {
        start_query(ps);
    } else if (c == '#') {
        start_fragment(ps);
    } else if (c == ' ') {
        /* A space right before '?' or '#' would be lost if the query or fragment were later
         * removed and the href reparsed, so it is escaped. */
        int next = peek(ps, 1);
        buf_puts(&u->path, next == '?' || next == '#' ? "%20" : " ");
    } else if (c != EOF_CP) {
        size_t n = run_length(ps, ends_opaque_run);
        url_encode_append(&u->path, here(ps), n, URL_ENCODE_C0_CONTROL);
        ps->p += (ptrdiff_t)n - 1;
    }
    return STEP_CONTINUE;
}

static bool ends_query(const parser *ps, int c) {
    return !ps->override && c == '#';
}

static bool ends_fragment(const parser *ps, int c) {
    (void)ps, (void)c;
    return false;
}

static int st_query(parser *ps, int c) {
    if ((!ps->override && c == '#') || c == EOF_CP) {
        if (c == '#') start_fragment(ps);
        return STEP_CONTINUE;
    }
    /* With UTF-8 the query can be encoded as it goes instead of through a buffer. */
    size_t n = run_length(ps, ends_query);
    url_encode_append(&ps->u->query, here(ps), n,
                      is_special(ps) ? URL_ENCODE_SPECIAL_QUERY : URL_ENCODE_QUERY);
    ps->p += (ptrdiff_t)n - 1;
    return STEP_CONTINUE;
}

static int st_fragment(parser *ps, int c) {
    if (c == EOF_CP) return STEP_CONTINUE;
    size_t n = run_length(ps, ends_fragment);
    url_encode_append(&ps->u->fragment, here(ps), n, URL_ENCODE_FRAGMENT);
    ps->p += (ptrdiff_t)n - 1;
    return STEP_CONTINUE;
}

static int run_state(parser *ps) {
    int c = cur(ps);
    switch (ps->state) {
    case ST_SCHEME_START:
        return st_scheme_start(ps, c);
    case ST_SCHEME:
        return st_scheme(ps, c);
    case ST_NO_SCHEME:
        return st_no_scheme(ps, c);
    case ST_SPECIAL_RELATIVE_OR_AUTHORITY:
        return st_special_relative_or_authority(ps, c);
    case ST_PATH_OR_AUTHORITY:
        return st_path_or_authority(ps, c);
    case ST_RELATIVE:
        return st_relative(ps, c);
    case ST_RELATIVE_SLASH:
        return st_relative_slash(ps, c);
    case ST_SPECIAL_AUTHORITY_SLASHES:
        return st_special_authority_slashes(ps, c);
    case ST_SPECIAL_AUTHORITY_IGNORE_SLASHES:
        return st_special_authority_ignore_slashes(ps, c);
    case ST_AUTHORITY:
        return st_authority(ps, c);
    case ST_HOST:
    case ST_HOSTNAME:
        return st_host(ps, c);
    case ST_PORT:
        return st_port(ps, c);
    case ST_FILE:
        return st_file(ps, c);
    case ST_FILE_SLASH:
        return st_file_slash(ps, c);
    case ST_FILE_HOST:
        return st_file_host(ps, c);
    case ST_PATH_START:
        return st_path_start(ps, c);
    case ST_PATH:
        return st_path(ps, c);
    case ST_OPAQUE_PATH:
        return st_opaque_path(ps, c);
    case ST_QUERY:
        return st_query(ps, c);
    case ST_FRAGMENT:
        return st_fragment(ps, c);
    case ST_NONE:
        break;
    }
    return fail(ps, "internal error");
}

static bool is_tab_or_newline(unsigned char c) {
    return c == '\t' || c == '\n' || c == '\r';
}

/* The input the state machine sees: tabs and newlines removed, well-formed UTF-8, and (for a
 * fresh parse) leading and trailing C0 controls and spaces trimmed. Returns in itself when it
 * needs no change, which is the common case; otherwise the cleaned copy is built in scratch. */
static const unsigned char *clean_input(const char *input, size_t *len, bool trim, buf *scratch) {
    const unsigned char *s = (const unsigned char *)input;
    size_t n = *len;
    if (trim) {
        while (n && s[0] <= 0x20) s++, n--;
        while (n && s[n - 1] <= 0x20) n--;
    }
    /* Printable ASCII (and space) needs no work, which is the common case. */
    size_t i = 0;
    while (i < n && s[i] >= 0x20 && s[i] < 0x80) i++;
    if (i == n || (url_utf8_is_valid(s, n) && !memchr(s, '\t', n) && !memchr(s, '\n', n) &&
                   !memchr(s, '\r', n))) {
        *len = n;
        return s;
    }
    buf stripped = {0};
    for (i = 0; i < n; i++)
        if (!is_tab_or_newline(s[i])) url_putc(&stripped, (char)s[i]);
    append_well_formed(scratch, (const unsigned char *)stripped.data, stripped.len);
    buf_free(&stripped);
    *len = scratch->len;
    return (const unsigned char *)scratch->data;
}

/* Runs the state machine over input; r is the URL being built or modified. */
static int basic_parse(const char *input, size_t len, const url *base, url_rec *r,
                       parse_state override, const char **err) {
    buf scratch = {0};
    parser ps = {0};
    size_t n = len;
    ps.in = clean_input(input, &n, override == ST_NONE, &scratch);
    ps.len = (ptrdiff_t)n;
    ps.base = base;
    ps.base_kind = base ? scheme_kind_of(base->scheme, strlen(base->scheme)) : SCHEME_OTHER;
    ps.u = r;
    ps.override = override;
    ps.state = override ? override : ST_SCHEME_START;
    int rc;
    for (;;) {
        rc = run_state(&ps);
        if (rc != STEP_CONTINUE) break;
        if (ps.p >= ps.len) break;
        ps.p++;
    }
    buf_free(&ps.buffer);
    buf_free(&scratch);
    if (rc == STEP_FAILURE) {
        if (err) *err = ps.err;
        return -1;
    }
    return 0;
}

int url_parse(const char *input, size_t len, const url *base, url *out, const char **err) {
    url_rec r = {0};
    r.port = -1;
    memset(out, 0, sizeof *out);
    if (basic_parse(input, len, base, &r, ST_NONE, err) < 0) {
        rec_free(&r);
        return -1;
    }
    rec_to_url(&r, out);
    return 0;
}

int url_parse_with_base_string(const char *input, size_t len, const char *base, size_t base_len,
                               url *out, const char **err) {
    if (!base) return url_parse(input, len, NULL, out, err);
    url parsed_base;
    if (url_parse(base, base_len, NULL, &parsed_base, err) < 0) {
        memset(out, 0, sizeof *out);
        if (err) *err = "invalid base URL";
        return -1;
    }
    int rc = url_parse(input, len, &parsed_base, out, err);
    url_free(&parsed_base);
    return rc;
}

void url_free(url *u) {
    free(u->scheme), free(u->username), free(u->password), free(u->host);
    free(u->path), free(u->query), free(u->fragment);
    memset(u, 0, sizeof *u);
    u->port = -1;
}

static char *dup_or_null(const char *s) {
    return s ? xstrdup(s) : NULL;
}

void url_copy(url *dst, const url *src) {
    dst->scheme = xstrdup(src->scheme);
    dst->username = xstrdup(src->username);
    dst->password = xstrdup(src->password);
    dst->host = dup_or_null(src->host);
    dst->port = src->port;
    dst->path = xstrdup(src->path);
    dst->opaque_path = src->opaque_path;
    dst->query = dup_or_null(src->query);
    dst->fragment = dup_or_null(src->fragment);
}

/* ---- Serializing ---- */

char *url_serialize(const url *u, bool exclude_fragment) {
    buf out = {0};
    buf_puts(&out, u->scheme);
    url_putc(&out, ':');
    if (u->host) {
        buf_puts(&out, "//");
        if (u->username[0] || u->password[0]) {
            buf_puts(&out, u->username);
            if (u->password[0]) {
                url_putc(&out, ':');
                buf_puts(&out, u->password);
            }
            url_putc(&out, '@');
        }
        buf_puts(&out, u->host);
        if (u->port >= 0) {
            url_putc(&out, ':');
            url_append_uint(&out, (unsigned)u->port);
        }
    } else if (!u->opaque_path && u->path[0] == '/' && u->path[1] == '/') {
        /* A path whose first segment is empty would read back as a host: "web+demo:/.//x". */
        buf_puts(&out, "/.");
    }
    buf_puts(&out, u->path);
    if (u->query) {
        url_putc(&out, '?');
        buf_puts(&out, u->query);
    }
    if (!exclude_fragment && u->fragment) {
        url_putc(&out, '#');
        buf_puts(&out, u->fragment);
    }
    return buf_detach(&out, NULL);
}

char *url_origin(const url *u) {
    scheme_kind kind = scheme_kind_of(u->scheme, strlen(u->scheme));
    if (!strcmp(u->scheme, "blob")) {
        /* A blob URL's origin is that of the URL in its path, for http(s) ones. */
        url inner;
        if (url_parse(u->path, strlen(u->path), NULL, &inner, NULL) < 0) return xstrdup("null");
        scheme_kind inner_kind = scheme_kind_of(inner.scheme, strlen(inner.scheme));
        char *origin = inner_kind == SCHEME_HTTP || inner_kind == SCHEME_HTTPS ? url_origin(&inner)
                                                                               : xstrdup("null");
        url_free(&inner);
        return origin;
    }
    if (kind == SCHEME_OTHER || kind == SCHEME_FILE) return xstrdup("null");
    buf out = {0};
    buf_puts(&out, u->scheme);
    buf_puts(&out, "://");
    buf_puts(&out, u->host ? u->host : "");
    if (u->port >= 0) {
        url_putc(&out, ':');
        url_append_uint(&out, (unsigned)u->port);
    }
    return buf_detach(&out, NULL);
}

/* ---- Getters ---- */

static char *prefixed_or_empty(char prefix, const char *s) {
    if (!s || !s[0]) return xstrdup("");
    buf out = {0};
    url_putc(&out, prefix);
    buf_puts(&out, s);
    return buf_detach(&out, NULL);
}

char *url_get_href(const url *u) {
    return url_serialize(u, false);
}

char *url_get_protocol(const url *u) {
    buf out = {0};
    buf_puts(&out, u->scheme);
    url_putc(&out, ':');
    return buf_detach(&out, NULL);
}

char *url_get_username(const url *u) {
    return xstrdup(u->username);
}
char *url_get_password(const url *u) {
    return xstrdup(u->password);
}

char *url_get_host(const url *u) {
    if (!u->host) return xstrdup("");
    if (u->port < 0) return xstrdup(u->host);
    buf out = {0};
    buf_puts(&out, u->host);
    url_putc(&out, ':');
    url_append_uint(&out, (unsigned)u->port);
    return buf_detach(&out, NULL);
}

char *url_get_hostname(const url *u) {
    return xstrdup(u->host ? u->host : "");
}

char *url_get_port(const url *u) {
    if (u->port < 0) return xstrdup("");
    buf out = {0};
    url_append_uint(&out, (unsigned)u->port);
    return buf_detach(&out, NULL);
}

char *url_get_pathname(const url *u) {
    return xstrdup(u->path);
}
char *url_get_search(const url *u) {
    return prefixed_or_empty('?', u->query);
}
char *url_get_hash(const url *u) {
    return prefixed_or_empty('#', u->fragment);
}

/* ---- Setters ---- */

/* Runs the basic URL parser with a state override on *u. Whatever the parser changed before
 * it returned (even with failure) stays changed, as in the standard. */
static void parse_with_override(url *u, const char *s, size_t n, parse_state override,
                                void (*prepare)(url_rec *)) {
    url_rec r;
    rec_from_url(&r, u);
    if (prepare) prepare(&r);
    basic_parse(s, n, NULL, &r, override, NULL);
    url_free(u);
    rec_to_url(&r, u);
}

static bool cannot_have_credentials_or_port(const url *u) {
    return !u->host || !u->host[0] || !strcmp(u->scheme, "file");
}

void url_set_protocol(url *u, const char *s, size_t n) {
    buf value = {0};
    buf_append(&value, s, n);
    url_putc(&value, ':');
    parse_with_override(u, value.data, value.len, ST_SCHEME_START, NULL);
    buf_free(&value);
}

static void set_userinfo_part(url *u, char **part, const char *s, size_t n) {
    if (cannot_have_credentials_or_port(u)) return;
    free(*part);
    *part = url_percent_encode(s, n, URL_ENCODE_USERINFO, false);
}

void url_set_username(url *u, const char *s, size_t n) {
    set_userinfo_part(u, &u->username, s, n);
}
void url_set_password(url *u, const char *s, size_t n) {
    set_userinfo_part(u, &u->password, s, n);
}

void url_set_host(url *u, const char *s, size_t n) {
    if (u->opaque_path) return;
    parse_with_override(u, s, n, ST_HOST, NULL);
}

void url_set_hostname(url *u, const char *s, size_t n) {
    if (u->opaque_path) return;
    parse_with_override(u, s, n, ST_HOSTNAME, NULL);
}

void url_set_port(url *u, const char *s, size_t n) {
    if (cannot_have_credentials_or_port(u)) return;
    if (n == 0) {
        u->port = -1;
        return;
    }
    parse_with_override(u, s, n, ST_PORT, NULL);
}

static void empty_path(url_rec *r) {
    buf_clear(&r->path);
}

void url_set_pathname(url *u, const char *s, size_t n) {
    if (u->opaque_path) return;
    parse_with_override(u, s, n, ST_PATH_START, empty_path);
}

static void empty_query(url_rec *r) {
    r->has_query = true;
    buf_clear(&r->query);
}

void url_set_search(url *u, const char *s, size_t n) {
    if (n == 0) {
        free(u->query);
        u->query = NULL;
        return;
    }
    if (s[0] == '?') s++, n--;
    parse_with_override(u, s, n, ST_QUERY, empty_query);
}

static void empty_fragment(url_rec *r) {
    r->has_fragment = true;
    buf_clear(&r->fragment);
}

void url_set_hash(url *u, const char *s, size_t n) {
    if (n == 0) {
        free(u->fragment);
        u->fragment = NULL;
        return;
    }
    if (s[0] == '#') s++, n--;
    parse_with_override(u, s, n, ST_FRAGMENT, empty_fragment);
}

int url_set_href(url *u, const char *s, size_t n, const char **err) {
    url parsed;
    if (url_parse(s, n, NULL, &parsed, err) < 0) return -1;
    url_free(u);
    *u = parsed;
    return 0;
}

void url_set_query_serialized(url *u, const char *query) {
    free(u->query);
    u->query = query ? xstrdup(query) : NULL;
}
