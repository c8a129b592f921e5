/* sourcemap — decoding Source Map v3 (ECMA-426) into sorted arrays, and lookups.
 *
 * The JSON is parsed with jansson and validated field by field; `mappings` is decoded in one
 * pass straight into two parallel arrays, one entry per segment:
 *
 *     keys[i]  = generated line << 32 | generated column      (sorted, unique)
 *     segs[i]  = {source, original line, original column, name}
 *
 * plus, when the generated lines are not absurdly sparse, line_start[L], the index of the
 * first segment of line L, so that a lookup binary-searches one line's segments only. Keeping
 * the keys apart from the rest makes the search touch 8 bytes per probe.
 *
 * An index map is flattened into the same arrays: each section's segments are shifted by the
 * section's offset, its sources and names appended to the map's. So that code of a section
 * before its first segment does not borrow the mapping of the previous section's last one,
 * every section starts with a "section start" segment that maps to nothing; it yields to a
 * real segment at the same position. (Mozilla's source-map answers the same way.) */
#include "observe/sourcemap.h"
#include "observe/sourcemap_slim.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"

#define NO_STRING     UINT32_MAX
#define NO_NAME       (-1)
#define UNMAPPED      (-1) /* a one-field segment */
#define SECTION_START (-2) /* an index map section's start, until the map is finished */

typedef struct seg {
    int32_t source; /* index into sources, or UNMAPPED */
    uint32_t line, column;
    int32_t name;
} seg;

struct sourcemap {
    char *strings; /* every string of the map, NUL-terminated, one after the other */
    uint32_t file; /* offsets into strings, or NO_STRING */
    uint32_t nsources, nnames;
    uint32_t *source_off; /* per source: the resolved source, or NO_STRING for null */
    uint32_t *path_off;   /* per source: the project path, or NO_STRING for null */
    uint8_t *ignored;     /* per source */
    uint32_t *name_off;
    uint32_t nsegs;
    uint64_t *keys;
    seg *segs;
    uint32_t nlines;      /* lines covered by line_start */
    uint32_t *line_start; /* nlines + 1 entries, or NULL: search all segments */
};

/* ------------------------------------------------------------------------------------------
 * The decoder's state: growing arrays, and the error being reported.
 * ---------------------------------------------------------------------------------------- */

typedef struct decoder {
    buf strings;
    uint32_t *source_off, *path_off, *name_off;
    uint8_t *ignored;
    size_t nsources, cap_sources, nnames, cap_names;
    uint64_t *keys;
    seg *segs;
    size_t nsegs, cap_segs;
    bool unsorted;    /* some key is smaller than the one before it */
    uint64_t max_key; /* the greatest key so far (valid when nsegs > 0) */
    const char *dir;  /* directory of the map inside the project ("" or "dist/") */
    size_t dir_len;
    const char *prefix; /* prepended to error messages: "sections[2].map." */
    char *err;
    size_t errlen;
} decoder;

static bool fail(decoder *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Records why the map is rejected, as "<prefix><message>", and returns false. */
static bool fail(decoder *d, const char *fmt, ...) {
    if (d->err && d->errlen) {
        int n = snprintf(d->err, d->errlen, "%s", d->prefix);
        if (n >= 0 && (size_t)n < d->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(d->err + n, d->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return false;
}

/* Adds a NUL-terminated copy of s[0..n) to the string arena and returns its offset. */
static uint32_t intern(decoder *d, const char *s, size_t n) {
    size_t off = d->strings.len;
    buf_append(&d->strings, s, n);
    buf_putc(&d->strings, '\0');
    return (uint32_t)off; /* the input is far below 4 GiB: checked in sourcemap_parse */
}

static void push_segment(decoder *d, uint64_t key, seg s) {
    if (d->nsegs == d->cap_segs) {
        d->cap_segs = d->cap_segs ? d->cap_segs * 2 : 256;
        d->keys = xrealloc(d->keys, d->cap_segs * sizeof *d->keys);
        d->segs = xrealloc(d->segs, d->cap_segs * sizeof *d->segs);
    }
    if (d->nsegs > 0) {
        if (key < d->keys[d->nsegs - 1]) d->unsorted = true;
        if (key > d->max_key) d->max_key = key;
    } else {
        d->max_key = key;
    }
    d->keys[d->nsegs] = key;
    d->segs[d->nsegs++] = s;
}

static void decoder_free(decoder *d) {
    buf_free(&d->strings);
    free(d->source_off);
    free(d->path_off);
    free(d->name_off);
    free(d->ignored);
    free(d->keys);
    free(d->segs);
}

/* ------------------------------------------------------------------------------------------
 * Paths.
 * ---------------------------------------------------------------------------------------- */

/* Length of "scheme:" at the start of s (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )),
 * or 0. One letter is a Windows drive, not a scheme. */
static size_t scheme_len(const char *s) {
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
    for (size_t i = 1; s[i]; i++) {
        char c = s[i];
        if (c == ':') return i > 1 ? i + 1 : 0;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '-' || c == '.'))
            return 0;
    }
    return 0;
}

/* Length of the "scheme://authority" (or "scheme:") at the start of s, or 0 without a scheme. */
static size_t origin_len(const char *s) {
    size_t n = scheme_len(s);
    if (n && s[n] == '/' && s[n + 1] == '/') {
        n += 2;
        while (s[n] && s[n] != '/' && s[n] != '?' && s[n] != '#') n++;
    }
    return n;
}

/* Appends path p[0..n) to out with "." segments removed and ".." segments applied, the way URL
 * resolution removes dot segments. A ".." with no segment before it to remove is kept when
 * keep_up (a relative reference, whose base is unknown), dropped otherwise. collapse drops
 * empty segments ("a//b" -> "a/b"); URLs keep them. A leading "/" stays, and so does a
 * trailing one ("a/b/", "a/b/." and "a/b/c/.." all name the directory "a/b/"). */
static void put_normalized(buf *out, const char *p, size_t n, bool keep_up, bool collapse) {
    typedef struct span {
        const char *s;
        size_t len;
    } span;
    bool absolute = n > 0 && p[0] == '/';
    size_t i = absolute ? 1 : 0, count = 0, ups = 0, slashes = 0;
    for (size_t k = 0; k < n; k++) slashes += p[k] == '/';
    span *segs = xmalloc((slashes + 1) * sizeof *segs);
    bool dir = false;
    for (;;) {
        size_t j = i;
        while (j < n && p[j] != '/') j++;
        span sp = {p + i, j - i};
        bool last = j >= n;
        dir = false;
        if (sp.len == 1 && sp.s[0] == '.') {
            dir = true;
        } else if (sp.len == 2 && sp.s[0] == '.' && sp.s[1] == '.') {
            /* ".." are only ever at the bottom of the stack: pop anything above them */
            if (count > ups) {
                count--;
            } else if (keep_up) {
                segs[count++] = sp;
                ups++;
            }
            dir = true;
        } else if (sp.len == 0) {
            if (last)
                dir = true;
            else if (!collapse)
                segs[count++] = sp;
        } else {
            segs[count++] = sp;
        }
        if (last) break;
        i = j + 1;
    }
    if (absolute) buf_putc(out, '/');
    for (size_t k = 0; k < count; k++) {
        if (k) buf_putc(out, '/');
        buf_append(out, segs[k].s, segs[k].len);
    }
    if (dir && count > 0) buf_putc(out, '/');
    free(segs);
}

/* The source as the specification resolves it: sourceRoot, then dot segments. */
static uint32_t resolve_source(decoder *d, const char *root, size_t root_len, const char *src,
                               size_t src_len) {
    buf joined = {0};
    if (root_len > 0) {
        buf_append(&joined, root, root_len);
        if (root[root_len - 1] != '/') buf_putc(&joined, '/');
    }
    buf_append(&joined, src, src_len);
    const char *s = joined.data ? joined.data : "";
    size_t origin = origin_len(s);
    /* Dot segments are resolved in the path only, not in "?query" or "#fragment". */
    size_t end = origin + strcspn(s + origin, "?#");
    buf out = {0};
    buf_append(&out, s, origin);
    put_normalized(&out, s + origin, end - origin, origin == 0 && s[0] != '/', false);
    buf_puts(&out, s + end);
    uint32_t off = intern(d, out.data ? out.data : "", out.len);
    buf_free(&out);
    buf_free(&joined);
    return off;
}

/* The source as a path inside the project (see sourcemap_source_path). */
static uint32_t project_path(decoder *d, uint32_t resolved_off) {
    /* resolved points into the arena that intern() may move: it is only read before that */
    const char *resolved = d->strings.data + resolved_off;
    buf out = {0};
    size_t scheme = scheme_len(resolved);
    if (scheme == 5 && strncasecmp(resolved, "file:", 5) == 0) {
        /* file:///abs/path or file://localhost/abs/path: an absolute path */
        const char *p = resolved + 5;
        if (p[0] == '/' && p[1] == '/') p = p + 2 + strcspn(p + 2, "/");
        put_normalized(&out, p, strcspn(p, "?#"), false, true);
    } else if (scheme) {
        /* webpack://app/./src/a.ts: the path is relative to the project */
        const char *p = resolved + origin_len(resolved);
        while (*p == '/') p++;
        put_normalized(&out, p, strcspn(p, "?#"), false, true);
    } else if (resolved[0] == '/') {
        put_normalized(&out, resolved, strlen(resolved), false, true);
    } else {
        buf joined = {0};
        buf_append(&joined, d->dir, d->dir_len);
        buf_puts(&joined, resolved);
        put_normalized(&out, joined.data, joined.len, false, true);
        buf_free(&joined);
    }
    /* Nothing left: a URL ("webpack://") is shown as written, a path is the project root. */
    if (out.len == 0 && !scheme) buf_putc(&out, '.');
    uint32_t off = out.len ? intern(d, out.data, out.len) : resolved_off;
    buf_free(&out);
    return off;
}

/* ------------------------------------------------------------------------------------------
 * JSON fields.
 * ---------------------------------------------------------------------------------------- */

/* An integer in [0, max], which JSON may also write as a float with no fraction (3.0). */
static bool get_index(const json_t *v, uint64_t max, uint64_t *out) {
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0 || (uint64_t)i > max) return false;
        *out = (uint64_t)i;
        return true;
    }
    if (json_is_real(v)) {
        double r = json_real_value(v);
        if (!(r >= 0 && r <= (double)max) || floor(r) != r) return false;
        *out = (uint64_t)r;
        return true;
    }
    return false;
}

static bool check_version(decoder *d, const json_t *map) {
    const json_t *v = json_object_get(map, "version");
    uint64_t version;
    if (!v) return fail(d, "version: missing");
    if (!get_index(v, 1000, &version) || version != 3) return fail(d, "version: must be 3");
    return true;
}

/* `file`: optional string. */
static bool check_file(decoder *d, const json_t *map, const json_t **out) {
    const json_t *v = json_object_get(map, "file");
    *out = NULL;
    if (!v || json_is_null(v)) return true;
    if (!json_is_string(v)) return fail(d, "file: must be a string");
    *out = v;
    return true;
}

/* ignoreList (or x_google_ignoreList without one): indexes into this map's sources. */
static bool read_ignore_list(decoder *d, const json_t *map, size_t source_base, size_t nsources) {
    const char *field = "ignoreList";
    const json_t *list = json_object_get(map, field);
    if (!list) {
        field = "x_google_ignoreList";
        list = json_object_get(map, field);
    }
    if (!list || json_is_null(list)) return true;
    if (!json_is_array(list)) return fail(d, "%s: must be an array", field);
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item) {
        uint64_t index;
        if (!get_index(item, SOURCEMAP_MAX_POSITION, &index))
            return fail(d, "%s[%zu]: must be an index into sources", field, i);
        if (index >= nsources)
            return fail(d, "%s[%zu]: %llu is out of range (%zu sources)", field, i,
                        (unsigned long long)index, nsources);
        d->ignored[source_base + index] = 1;
    }
    return true;
}

static bool read_sources(decoder *d, const json_t *map, size_t *count) {
    const json_t *sources = json_object_get(map, "sources");
    if (!sources) return fail(d, "sources: missing");
    if (!json_is_array(sources)) return fail(d, "sources: must be an array");

    const json_t *root = json_object_get(map, "sourceRoot");
    if (root && !json_is_null(root) && !json_is_string(root))
        return fail(d, "sourceRoot: must be a string");
    /* An empty sourceRoot is no sourceRoot, as in every implementation (the specification
     * would make "" + "/" + "a.js" an absolute path). */
    const char *root_s = root && json_is_string(root) ? json_string_value(root) : "";
    size_t root_len = root && json_is_string(root) ? json_string_length(root) : 0;

    const json_t *content = json_object_get(map, "sourcesContent");
    if (content && !json_is_null(content)) {
        if (!json_is_array(content)) return fail(d, "sourcesContent: must be an array");
        size_t i;
        const json_t *item;
        json_array_foreach(content, i, item) {
            if (!json_is_string(item) && !json_is_null(item))
                return fail(d, "sourcesContent[%zu]: must be a string or null", i);
        }
    }

    size_t n = json_array_size(sources);
    if (n > SOURCEMAP_MAX_POSITION - d->nsources) return fail(d, "sources: too many");
    if (d->nsources + n > d->cap_sources) {
        d->cap_sources = (d->nsources + n) * 2;
        d->source_off = xrealloc(d->source_off, d->cap_sources * sizeof *d->source_off);
        d->path_off = xrealloc(d->path_off, d->cap_sources * sizeof *d->path_off);
        d->ignored = xrealloc(d->ignored, d->cap_sources);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(sources, i);
        size_t k = d->nsources + i;
        d->ignored[k] = 0;
        if (json_is_null(item)) {
            d->source_off[k] = d->path_off[k] = NO_STRING;
        } else if (json_is_string(item)) {
            d->source_off[k] = resolve_source(d, root_s, root_len, json_string_value(item),
                                              json_string_length(item));
            d->path_off[k] = project_path(d, d->source_off[k]);
        } else {
            return fail(d, "sources[%zu]: must be a string or null", i);
        }
    }
    *count = n;
    return true;
}

static bool read_names(decoder *d, const json_t *map, size_t *count) {
    const json_t *names = json_object_get(map, "names");
    *count = 0;
    if (!names || json_is_null(names)) return true;
    if (!json_is_array(names)) return fail(d, "names: must be an array");
    size_t n = json_array_size(names);
    if (n > SOURCEMAP_MAX_POSITION - d->nnames) return fail(d, "names: too many");
    if (d->nnames + n > d->cap_names) {
        d->cap_names = (d->nnames + n) * 2;
        d->name_off = xrealloc(d->name_off, d->cap_names * sizeof *d->name_off);
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(names, i);
        if (!json_is_string(item)) return fail(d, "names[%zu]: must be a string", i);
        d->name_off[d->nnames + i] = intern(d, json_string_value(item), json_string_length(item));
    }
    *count = n;
    return true;
}

/* ------------------------------------------------------------------------------------------
 * mappings: Base64 VLQ.
 * ---------------------------------------------------------------------------------------- */

/* Base64 digit values ("A" = 0 ... "/" = 63); -1 for every other byte. */
// clang-format off
static const int8_t B64[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
    -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};
// clang-format on

static bool bad_char(decoder *d, const char *s, size_t pos) {
    unsigned char c = (unsigned char)s[pos];
    if (c == ',' || c == ';')
        return fail(d, "mappings: a VLQ ends without its last digit at offset %zu", pos);
    if (c >= 0x20 && c < 0x7f)
        return fail(d, "mappings: invalid base64 character '%c' at offset %zu", c, pos);
    return fail(d, "mappings: invalid base64 character 0x%02x at offset %zu", c, pos);
}

/* Decodes one VLQ at s[*pos] (the specification's "decode a base64 VLQ"): digits of 5 bits,
 * least significant first, a continuation bit 0x20, the sign in the lowest bit of the first.
 * Values must fit in 32 bits, sign included: |v| <= 2^31 - 1, and "negative zero" is -2^31.
 * Leading zero digits (continuations that add nothing) are allowed in any number. */
static bool vlq(decoder *d, const char *s, size_t n, size_t *pos, int64_t *out) {
    size_t i = *pos;
    int v = B64[(unsigned char)s[i]];
    /* The common case: one digit, no continuation. */
    if (v >= 0 && v < 32) {
        *out = (v & 1) ? (v >> 1 ? -(int64_t)(v >> 1) : -2147483648LL) : (v >> 1);
        *pos = i + 1;
        return true;
    }
    uint64_t raw = 0;
    unsigned shift = 0;
    for (;;) {
        if (i >= n) return fail(d, "mappings: a VLQ ends without its last digit at offset %zu", i);
        v = B64[(unsigned char)s[i]];
        if (v < 0) return bad_char(d, s, i);
        uint64_t digit = (uint64_t)(v & 31);
        if (digit) {
            if (shift > 32) break; /* too large: reported below */
            raw |= digit << shift;
        }
        i++;
        if (!(v & 32)) {
            uint64_t magnitude = raw >> 1;
            if (magnitude > 2147483647u) break;
            *out =
                (raw & 1) ? (magnitude ? -(int64_t)magnitude : -2147483648LL) : (int64_t)magnitude;
            *pos = i;
            return true;
        }
        if (shift < 64) shift += 5;
    }
    return fail(d, "mappings: a VLQ at offset %zu does not fit in 32 bits", *pos);
}

/* A segment's value: a previous value plus a relative one, within [0, limit). */
static bool add_field(decoder *d, int64_t *acc, int64_t delta, int64_t limit, const char *what,
                      const char *of, size_t at) {
    int64_t v = *acc + delta;
    if (v < 0) return fail(d, "mappings: %s is negative at offset %zu", what, at);
    if (v >= limit) {
        if (limit > (int64_t)SOURCEMAP_MAX_POSITION)
            return fail(d, "mappings: %s exceeds 2^31 - 1 at offset %zu", what, at);
        return fail(d, "mappings: %s %lld is out of range (%lld %s) at offset %zu", what,
                    (long long)v, (long long)limit, of, at);
    }
    *acc = v;
    return true;
}

/* Decodes a map's `mappings` into the decoder: generated positions shifted by (line_off,
 * col_off) (col_off applies to the first line only), source and name indexes by the bases. */
static bool decode_mappings(decoder *d, const char *s, size_t n, uint32_t line_off,
                            uint32_t col_off, size_t source_base, size_t nsources, size_t name_base,
                            size_t nnames) {
    const int64_t max = (int64_t)SOURCEMAP_MAX_POSITION + 1;
    int64_t line = line_off, col = 0, src = 0, oline = 0, ocol = 0, name = 0;
    /* Segments of real maps take about 5 bytes each: reserve for that many up front rather
     * than reallocate (and copy) a dozen times while growing. */
    size_t want = d->nsegs + n / 5 + 1;
    if (want > d->cap_segs && n > 1024) {
        d->cap_segs = want;
        d->keys = xrealloc(d->keys, d->cap_segs * sizeof *d->keys);
        d->segs = xrealloc(d->segs, d->cap_segs * sizeof *d->segs);
    }
    size_t i = 0;
    while (i < n) {
        if (s[i] == ';') {
            if (++line >= max) return fail(d, "mappings: more than 2^31 - 1 lines");
            col = 0;
            i++;
            continue;
        }
        size_t start = i;
        if (s[i] == ',') return fail(d, "mappings: empty segment at offset %zu", i);
        int64_t f[5];
        int nf = 0;
        while (i < n && s[i] != ',' && s[i] != ';') {
            if (nf == 5)
                return fail(d, "mappings: segment at offset %zu has more than 5 fields", start);
            if (!vlq(d, s, n, &i, &f[nf])) return false;
            nf++;
        }
        if (nf != 1 && nf != 4 && nf != 5)
            return fail(d, "mappings: segment at offset %zu has %d fields (must be 1, 4 or 5)",
                        start, nf);
        /* The generated column: relative to the previous segment of the line; offset by the
         * section's column on its first line. */
        if (!add_field(d, &col, f[0], max, "generated column", NULL, start)) return false;
        int64_t gcol = col + (line == line_off ? col_off : 0);
        if (gcol >= max) return fail(d, "mappings: generated column exceeds 2^31 - 1");
        seg sg = {UNMAPPED, 0, 0, NO_NAME};
        if (nf >= 4) {
            if (!add_field(d, &src, f[1], (int64_t)nsources, "source index", "sources", start) ||
                !add_field(d, &oline, f[2], max, "original line", NULL, start) ||
                !add_field(d, &ocol, f[3], max, "original column", NULL, start))
                return false;
            sg.source = (int32_t)(source_base + (size_t)src);
            sg.line = (uint32_t)oline;
            sg.column = (uint32_t)ocol;
            if (nf == 5) {
                if (!add_field(d, &name, f[4], (int64_t)nnames, "name index", "names", start))
                    return false;
                sg.name = (int32_t)(name_base + (size_t)name);
            }
        }
        if (d->nsegs >= SOURCEMAP_MAX_SEGMENTS)
            return fail(d, "mappings: more than %u segments", SOURCEMAP_MAX_SEGMENTS);
        push_segment(d, (uint64_t)line << 32 | (uint64_t)gcol, sg);
        if (i < n && s[i] == ',') {
            i++;
            if (i == n || s[i] == ',' || s[i] == ';')
                return fail(d, "mappings: empty segment at offset %zu", i);
        }
    }
    return true;
}

/* ------------------------------------------------------------------------------------------
 * Regular and index maps.
 * ---------------------------------------------------------------------------------------- */

static bool decode_regular(decoder *d, const json_t *map, uint32_t line_off, uint32_t col_off) {
    const json_t *file;
    if (!check_version(d, map) || !check_file(d, map, &file)) return false;
    const json_t *mappings = json_object_get(map, "mappings");
    if (!mappings) return fail(d, "mappings: missing");
    if (!json_is_string(mappings)) return fail(d, "mappings: must be a string");

    size_t source_base = d->nsources, name_base = d->nnames, nsources = 0, nnames = 0;
    if (!read_sources(d, map, &nsources)) return false;
    d->nsources += nsources;
    if (!read_names(d, map, &nnames)) return false;
    d->nnames += nnames;
    if (!read_ignore_list(d, map, source_base, nsources)) return false;
    return decode_mappings(d, json_string_value(mappings), json_string_length(mappings), line_off,
                           col_off, source_base, nsources, name_base, nnames);
}

static bool decode_index(decoder *d, const json_t *map) {
    const json_t *file;
    if (!check_version(d, map) || !check_file(d, map, &file)) return false;
    if (json_object_get(map, "mappings"))
        return fail(d, "mappings: not allowed in an index map (its sections have them)");
    const json_t *sections = json_object_get(map, "sections");
    if (!json_is_array(sections)) return fail(d, "sections: must be an array");

    char prefix[64];
    const char *outer = d->prefix;
    uint64_t prev = 0;
    size_t i;
    const json_t *section;
    json_array_foreach(sections, i, section) {
        d->prefix = outer;
        if (!json_is_object(section)) return fail(d, "sections[%zu]: must be an object", i);
        snprintf(prefix, sizeof prefix, "sections[%zu].", i);
        d->prefix = prefix;
        const json_t *offset = json_object_get(section, "offset");
        if (!offset) return fail(d, "offset: missing");
        if (!json_is_object(offset)) return fail(d, "offset: must be an object");
        const json_t *jl = json_object_get(offset, "line"), *jc = json_object_get(offset, "column");
        uint64_t line, col;
        if (!jl) return fail(d, "offset.line: missing");
        if (!get_index(jl, SOURCEMAP_MAX_POSITION, &line))
            return fail(d, "offset.line: must be an integer from 0 to 2^31 - 1");
        if (!jc) return fail(d, "offset.column: missing");
        if (!get_index(jc, SOURCEMAP_MAX_POSITION, &col))
            return fail(d, "offset.column: must be an integer from 0 to 2^31 - 1");
        uint64_t key = line << 32 | col;
        if (i > 0 && key < prev) return fail(d, "offset: comes before the previous section");
        if (i > 0 && key == prev) return fail(d, "offset: overlaps the previous section");
        if (d->nsegs > 0 && d->max_key >= key)
            return fail(d,
                        "offset: overlaps the previous section (whose mappings reach "
                        "line %u column %u)",
                        (uint32_t)(d->max_key >> 32), (uint32_t)d->max_key);
        prev = key;

        const json_t *sub = json_object_get(section, "map");
        if (!sub) return fail(d, "map: missing");
        if (!json_is_object(sub)) return fail(d, "map: must be an object");
        if (json_object_get(sub, "sections"))
            return fail(d, "map: an index map cannot contain another index map");
        push_segment(d, key, (seg){SECTION_START, 0, 0, NO_NAME});
        snprintf(prefix, sizeof prefix, "sections[%zu].map.", i);
        if (!decode_regular(d, sub, (uint32_t)line, (uint32_t)col)) return false;
    }
    d->prefix = outer;
    return true;
}

/* ------------------------------------------------------------------------------------------
 * Finishing: sort, drop duplicates, index lines.
 * ---------------------------------------------------------------------------------------- */

typedef struct order {
    uint64_t key;
    uint32_t index;
} order;

static int order_cmp(const void *a, const void *b) {
    const order *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts segments by key, keeping the map's order among equal keys (segments of a line need
 * not come in column order, though generators write them so: this is rarely needed). */
static void sort_segments(decoder *d) {
    order *o = xmalloc(d->nsegs * sizeof *o);
    for (size_t i = 0; i < d->nsegs; i++) o[i] = (order){d->keys[i], (uint32_t)i};
    qsort(o, d->nsegs, sizeof *o, order_cmp);
    seg *segs = xmalloc(d->cap_segs * sizeof *segs);
    for (size_t i = 0; i < d->nsegs; i++) {
        d->keys[i] = o[i].key;
        segs[i] = d->segs[o[i].index];
    }
    free(d->segs);
    d->segs = segs;
    free(o);
}

/* Of segments at the same position the first wins, except that a section start yields. */
static void drop_duplicates(decoder *d) {
    size_t out = 0;
    for (size_t i = 0; i < d->nsegs; i++) {
        if (out > 0 && d->keys[out - 1] == d->keys[i]) {
            if (d->segs[out - 1].source == SECTION_START && d->segs[i].source != SECTION_START)
                d->segs[out - 1] = d->segs[i];
            continue;
        }
        d->keys[out] = d->keys[i];
        d->segs[out++] = d->segs[i];
    }
    d->nsegs = out;
    for (size_t i = 0; i < out; i++)
        if (d->segs[i].source == SECTION_START) d->segs[i].source = UNMAPPED;
}

static sourcemap *finish(decoder *d, const json_t *file) {
    if (d->unsorted) sort_segments(d);
    drop_duplicates(d);

    sourcemap *m = xcalloc(1, sizeof *m);
    m->file = file ? intern(d, json_string_value(file), json_string_length(file)) : NO_STRING;
    m->nsources = (uint32_t)d->nsources;
    m->nnames = (uint32_t)d->nnames;
    m->source_off = d->source_off;
    m->path_off = d->path_off;
    m->ignored = d->ignored;
    m->name_off = d->name_off;
    m->nsegs = (uint32_t)d->nsegs;
    m->keys = xrealloc(d->keys, (d->nsegs ? d->nsegs : 1) * sizeof *d->keys);
    m->segs = xrealloc(d->segs, (d->nsegs ? d->nsegs : 1) * sizeof *d->segs);
    m->strings = buf_detach(&d->strings, NULL);
    if (!m->strings) m->strings = xstrdup("");

    /* The line index costs 4 bytes per generated line up to the last mapped one; an index
     * map can put a section at line 2^31 - 1, so it is only built for lines that are not
     * absurdly sparse. Without it a lookup searches all segments, which is just as correct. */
    if (m->nsegs > 0) {
        uint64_t nlines = (m->keys[m->nsegs - 1] >> 32) + 1;
        if (nlines <= 4 * (uint64_t)m->nsegs + 65536) {
            m->nlines = (uint32_t)nlines;
            m->line_start = xmalloc((nlines + 1) * sizeof *m->line_start);
            uint32_t s = 0;
            for (uint32_t l = 0; l <= m->nlines; l++) {
                while (s < m->nsegs && (m->keys[s] >> 32) < l) s++;
                m->line_start[l] = s;
            }
        }
    }
    return m;
}

sourcemap *sourcemap_parse(const char *json, size_t len, const char *path, char *err,
                           size_t errlen) {
    if (err && errlen) err[0] = '\0';
    decoder d = {.prefix = "", .err = err, .errlen = errlen};
    if (path) {
        const char *slash = strrchr(path, '/');
        d.dir = path;
        d.dir_len = slash ? (size_t)(slash - path) + 1 : 0;
    } else {
        d.dir = "";
    }
    /* A map may start with ")]}'" and a line break, against cross-site script inclusion. */
    if (len >= 4 && memcmp(json, ")]}'", 4) == 0) {
        const char *nl = memchr(json, '\n', len);
        size_t skip = nl ? (size_t)(nl - json) + 1 : len;
        json += skip;
        len -= skip;
    }
    if (len > UINT32_MAX / 2) {
        fail(&d, "the map is larger than 2 GiB");
        return NULL;
    }
    json_error_t jerr;
    size_t slim_len;
    char *slim = sourcemap_slim(json, len, &slim_len);
    json_t *root = slim ? json_loadb(slim, slim_len, JSON_ALLOW_NUL, &jerr) : NULL;
    free(slim);
    /* The original, when the slim copy was refused: for the parser's exact error. */
    if (!root) root = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        fail(&d, "not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
        return NULL;
    }
    sourcemap *m = NULL;
    if (!json_is_object(root)) {
        fail(&d, "a source map must be a JSON object");
    } else if (json_object_get(root, "sections") ? decode_index(&d, root)
                                                 : decode_regular(&d, root, 0, 0)) {
        const json_t *file;
        check_file(&d, root, &file);
        m = finish(&d, file);
    }
    if (!m) decoder_free(&d);
    json_decref(root);
    return m;
}

void sourcemap_free(sourcemap *m) {
    if (!m) return;
    free(m->strings);
    free(m->source_off);
    free(m->path_off);
    free(m->ignored);
    free(m->name_off);
    free(m->keys);
    free(m->segs);
    free(m->line_start);
    free(m);
}

/* ------------------------------------------------------------------------------------------
 * Lookups.
 * ---------------------------------------------------------------------------------------- */

bool sourcemap_lookup(const sourcemap *m, uint32_t line, uint32_t column, sourcemap_mapping *out) {
    size_t lo = 0, hi = m->nsegs;
    if (m->line_start) {
        if (line >= m->nlines) return false;
        lo = m->line_start[line];
        hi = m->line_start[line + 1];
    }
    if (lo == hi) return false;
    /* The last key <= the one asked for, by a branchless binary search: `base` always points
     * at a key <= target, or at the first one. */
    uint64_t target = (uint64_t)line << 32 | column;
    const uint64_t *base = m->keys + lo;
    size_t n = hi - lo;
    while (n > 1) {
        size_t half = n / 2;
        base = base[half] <= target ? base + half : base;
        n -= half;
    }
    if (*base > target || (*base >> 32) != line) return false;
    const seg *s = &m->segs[base - m->keys];
    if (s->source < 0) return false;
    out->generated_column = (uint32_t)*base;
    out->source = s->source;
    out->line = s->line;
    out->column = s->column;
    out->name = s->name;
    return true;
}

const char *sourcemap_file(const sourcemap *m) {
    return m->file == NO_STRING ? NULL : m->strings + m->file;
}

uint32_t sourcemap_source_count(const sourcemap *m) {
    return m->nsources;
}

uint32_t sourcemap_name_count(const sourcemap *m) {
    return m->nnames;
}

const char *sourcemap_name(const sourcemap *m, uint32_t i) {
    return i < m->nnames ? m->strings + m->name_off[i] : NULL;
}

const char *sourcemap_source(const sourcemap *m, uint32_t i) {
    return i < m->nsources && m->source_off[i] != NO_STRING ? m->strings + m->source_off[i] : NULL;
}

const char *sourcemap_source_path(const sourcemap *m, uint32_t i) {
    return i < m->nsources && m->path_off[i] != NO_STRING ? m->strings + m->path_off[i] : NULL;
}

bool sourcemap_source_ignored(const sourcemap *m, uint32_t i) {
    return i < m->nsources && m->ignored[i];
}
