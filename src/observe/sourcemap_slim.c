/* sourcemap_slim — drops the text of `sourcesContent` before a map is parsed as JSON.
 *
 * A bundler's map is mostly the original sources, embedded as `sourcesContent` strings (1.6 of
 * the 2 MB of a typical esbuild map). hearth validates them but never uses them, and building
 * a JSON tree of them was 85% of the time to decode a map. This pass walks the document once,
 * checking it is well-formed JSON, and copies it with every string inside a `sourcesContent`
 * array replaced by "": the same structure, so the decoder validates exactly what it would
 * have, at a fraction of the cost.
 *
 * It is an optimisation only: whenever the document is not what it expects (not well-formed,
 * nested too deep), it returns NULL and the caller parses the original, which produces the
 * precise error. Strings it drops are checked the way the JSON parser checks strings
 * (escapes, control characters, UTF-8), except that the pairing of \u surrogate escapes is
 * not: the text is discarded, so a lone surrogate in it harms nothing. */
#include "observe/sourcemap_slim.h"

#include <stdbool.h>
#include <string.h>

#include "base/buf.h"

#define MAX_DEPTH 256

typedef struct {
    const char *p, *end;
    buf out;
} slimmer;

static void skip_ws(slimmer *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Length of the UTF-8 sequence at p (its first byte >= 0x80), or 0 if it is not valid. */
static size_t utf8_length(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000;
    else
        return 0;
    if ((size_t)(end - p) < n) return 0;
    unsigned cp = c & (0x3F >> (n - 1));
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

/* Checks the string starting at s->p (on its opening quote) and moves past it; copies it to
 * the output unless `drop`, in which case it writes "". */
static bool string(slimmer *s, bool drop) {
    const char *start = s->p++;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            s->p++;
            if (drop)
                buf_append(&s->out, "\"\"", 2);
            else
                buf_append(&s->out, start, (size_t)(s->p - start));
            return true;
        }
        if (c < 0x20) return false;
        if (c == '\\') {
            if (s->end - s->p < 2) return false;
            char e = s->p[1];
            if (e == 'u') {
                if (s->end - s->p < 6 || !is_hex(s->p[2]) || !is_hex(s->p[3]) || !is_hex(s->p[4]) ||
                    !is_hex(s->p[5]))
                    return false;
                s->p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                s->p += 2;
            } else {
                return false;
            }
        } else if (c >= 0x80) {
            size_t n = utf8_length((const unsigned char *)s->p, (const unsigned char *)s->end);
            if (!n) return false;
            s->p += n;
        } else {
            s->p++;
        }
    }
    return false;
}

/* Copies a number or a literal (true, false, null) verbatim; the JSON parser checks its form.
 * Only the characters such a token can contain are taken. */
static bool scalar(slimmer *s) {
    const char *start = s->p;
    while (s->p < s->end && strchr("0123456789+-.eEtruefalsn", *s->p) && *s->p) s->p++;
    if (s->p == start) return false;
    buf_append(&s->out, start, (size_t)(s->p - start));
    return true;
}

static bool value(slimmer *s, int depth, bool in_sources_content);

/* `[ value, ... ]`; the items of a sourcesContent array lose their text. */
static bool array(slimmer *s, int depth, bool sources_content) {
    buf_append(&s->out, "[", 1);
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        buf_append(&s->out, "]", 1);
        return true;
    }
    for (;;) {
        if (!value(s, depth + 1, sources_content)) return false;
        skip_ws(s);
        if (s->p >= s->end) return false;
        char c = *s->p++;
        buf_append(&s->out, &c, 1);
        if (c == ']') return true;
        if (c != ',') return false;
    }
}

static bool object(slimmer *s, int depth) {
    buf_append(&s->out, "{", 1);
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        buf_append(&s->out, "}", 1);
        return true;
    }
    for (;;) {
        skip_ws(s);
        if (s->p >= s->end || *s->p != '"') return false;
        const char *key = s->p;
        if (!string(s, false)) return false;
        bool sources_content = s->p - key == 16 && memcmp(key, "\"sourcesContent\"", 16) == 0;
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') return false;
        s->p++;
        buf_append(&s->out, ":", 1);
        skip_ws(s);
        if (sources_content && s->p < s->end && *s->p == '[') {
            if (depth + 1 > MAX_DEPTH || !array(s, depth + 1, true)) return false;
        } else if (!value(s, depth + 1, false)) {
            return false;
        }
        skip_ws(s);
        if (s->p >= s->end) return false;
        char c = *s->p++;
        buf_append(&s->out, &c, 1);
        if (c == '}') return true;
        if (c != ',') return false;
    }
}

static bool value(slimmer *s, int depth, bool in_sources_content) {
    if (depth > MAX_DEPTH) return false;
    skip_ws(s);
    if (s->p >= s->end) return false;
    switch (*s->p) {
    case '"':
        return string(s, in_sources_content);
    case '[':
        return array(s, depth, false);
    case '{':
        return object(s, depth);
    default:
        return scalar(s);
    }
}

char *sourcemap_slim(const char *json, size_t len, size_t *out_len) {
    slimmer s = {.p = json, .end = json + len};
    buf_reserve(&s.out, len / 4);
    bool ok = value(&s, 0, false);
    skip_ws(&s);
    if (!ok || s.p != s.end) {
        buf_free(&s.out);
        return NULL;
    }
    return buf_detach(&s.out, out_len);
}
