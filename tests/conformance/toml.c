/* toml-test conformance runner for hearth's TOML parser.
 *
 * Runs every case that tests/files-toml-1.0.0 lists from the toml-lang/toml-test suite:
 * valid/X.toml must parse and match X.json (toml-test's "tagged JSON"), invalid/X.toml must
 * be rejected. Values are compared the way toml-test compares them: integers exactly, floats
 * numerically (inf/nan by kind), datetimes by the instant or wall-clock value they denote.
 *
 * The suite lives outside the repository, in $HEARTH_CONFORMANCE_DIR or ../shared/conformance
 * relative to the repository root (the working directory). Without it the run is reported as
 * skipped, loudly. `-v` also prints the error message produced for every invalid case. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "config/toml.h"
#include "config/value.h"

/* jansson cannot load object keys containing U+0000 (one valid case has such a key), so
 * before decoding, the JSON escape \u0000 is rewritten to this code point, which no case
 * uses; the parser's NULs (C0 80 in keys, raw 0 bytes in strings) are mapped to it as well. */
#define NUL_STAND_IN_JSON "\\uDBFF\\uDFFE"
#define NUL_STAND_IN_UTF8 "\xF4\x8F\xBF\xBE"

static char *conf_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
    fclose(f);
    return buf_detach(&b, len);
}

static json_t *conf_load_json(const char *path, buf *why) {
    size_t len;
    char *text = conf_read_file(path, &len);
    if (!text) {
        buf_printf(why, "cannot read %s", path);
        return NULL;
    }
    buf fixed = {0};
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\\' && i + 1 < len) {
            if (strncmp(text + i, "\\u0000", 6) == 0) {
                buf_puts(&fixed, NUL_STAND_IN_JSON);
                i += 5;
            } else {
                buf_append(&fixed, text + i, 2); /* keeps \\ from pairing with what follows */
                i++;
            }
        } else {
            buf_putc(&fixed, text[i]);
        }
    }
    free(text);
    json_error_t jerr;
    json_t *json = json_loadb(fixed.data, fixed.len, JSON_ALLOW_NUL, &jerr);
    buf_free(&fixed);
    if (!json) buf_printf(why, "bad expected JSON: %s (line %d)", jerr.text, jerr.line);
    return json;
}

/* The parser's text with NULs replaced by the stand-in used on the JSON side. */
static void conf_canonical_text(const char *s, size_t n, buf *out) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0') {
            buf_puts(out, NUL_STAND_IN_UTF8);
        } else if ((unsigned char)s[i] == 0xC0 && i + 1 < n && (unsigned char)s[i + 1] == 0x80) {
            buf_puts(out, NUL_STAND_IN_UTF8);
            i++;
        } else {
            buf_putc(out, s[i]);
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * Datetime comparison.
 * ---------------------------------------------------------------------------------------- */

typedef struct conf_datetime {
    bool has_date, has_time, has_offset;
    int year, month, day, hour, minute, second;
    long nanos;
    int offset_minutes;
} conf_datetime;

static int conf_num(const char *s, int digits) {
    int v = 0;
    for (int i = 0; i < digits; i++) v = v * 10 + (s[i] - '0');
    return v;
}

/* Parses RFC 3339-style text (as produced by the parser and by toml-test). */
static bool conf_parse_datetime(const char *s, conf_datetime *dt) {
    memset(dt, 0, sizeof *dt);
    size_t n = strlen(s);
    if (n >= 10 && s[4] == '-') {
        dt->has_date = true;
        dt->year = conf_num(s, 4);
        dt->month = conf_num(s + 5, 2);
        dt->day = conf_num(s + 8, 2);
        s += 10;
        if (*s == 'T' || *s == 't' || *s == ' ') s++;
    }
    if (strlen(s) >= 8 && s[2] == ':') {
        dt->has_time = true;
        dt->hour = conf_num(s, 2);
        dt->minute = conf_num(s + 3, 2);
        dt->second = conf_num(s + 6, 2);
        s += 8;
        if (*s == '.') {
            long scale = 100000000;
            for (s++; *s >= '0' && *s <= '9'; s++, scale /= 10) dt->nanos += (*s - '0') * scale;
        }
    }
    if (*s == 'Z' || *s == 'z') {
        dt->has_offset = true;
        s++;
    } else if (*s == '+' || *s == '-') {
        dt->has_offset = true;
        int minutes = conf_num(s + 1, 2) * 60 + conf_num(s + 4, 2);
        dt->offset_minutes = *s == '-' ? -minutes : minutes;
        s += 6;
    }
    return *s == '\0';
}

/* Days since 1970-01-01 in the proleptic Gregorian calendar. */
static long conf_days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static long long conf_seconds(const conf_datetime *dt) {
    long long days = conf_days_from_civil(dt->year, dt->month, dt->day);
    return days * 86400 + dt->hour * 3600 + dt->minute * 60 + dt->second - dt->offset_minutes * 60;
}

static bool conf_same_datetime(const char *got, const char *want) {
    conf_datetime a, b;
    if (!conf_parse_datetime(got, &a) || !conf_parse_datetime(want, &b)) return false;
    if (a.has_date != b.has_date || a.has_time != b.has_time || a.has_offset != b.has_offset)
        return false;
    return conf_seconds(&a) == conf_seconds(&b) && a.nanos == b.nanos;
}

/* ------------------------------------------------------------------------------------------
 * Tree comparison.
 * ---------------------------------------------------------------------------------------- */

static const char *conf_tag(cfg_type type) {
    switch (type) {
    case CFG_STRING:
        return "string";
    case CFG_INTEGER:
        return "integer";
    case CFG_FLOAT:
        return "float";
    case CFG_BOOL:
        return "bool";
    case CFG_DATETIME:
        return "datetime";
    case CFG_DATETIME_LOCAL:
        return "datetime-local";
    case CFG_DATE_LOCAL:
        return "date-local";
    case CFG_TIME_LOCAL:
        return "time-local";
    default:
        return "?";
    }
}

static bool conf_scalar_matches(const cfg_value *v, const char *want) {
    switch (v->type) {
    case CFG_STRING: {
        buf got = {0};
        conf_canonical_text(v->u.str.ptr, v->u.str.len, &got);
        bool same =
            got.len == strlen(want) && (got.len == 0 || memcmp(got.data, want, got.len) == 0);
        buf_free(&got);
        return same;
    }
    case CFG_INTEGER: {
        char *end;
        long long expected = strtoll(want, &end, 10);
        return *end == '\0' && expected == v->u.i;
    }
    case CFG_FLOAT: {
        char *end;
        double expected = strtod(want, &end);
        if (*end != '\0') return false;
        if (isnan(expected) || isnan(v->u.f)) return isnan(expected) && isnan(v->u.f);
        return expected == v->u.f && signbit(expected) == signbit(v->u.f);
    }
    case CFG_BOOL:
        return strcmp(want, v->u.b ? "true" : "false") == 0;
    default:
        return conf_same_datetime(v->u.str.ptr, want);
    }
}

static bool conf_matches(const cfg_value *v, json_t *want, buf *path, buf *why);

/* Appends ".key" to a failure path, escaping what would garble a terminal. */
static void conf_append_key(buf *path, const char *key) {
    buf_putc(path, '.');
    for (const unsigned char *c = (const unsigned char *)key; *c; c++) {
        if (c[0] == 0xC0 && c[1] == 0x80) {
            buf_puts(path, "\\u0000");
            c++;
        } else if (*c < 0x20 || *c == 0x7f) {
            buf_printf(path, "\\u%04X", *c);
        } else {
            buf_putc(path, (char)*c);
        }
    }
}

static bool conf_table_matches(const cfg_value *v, json_t *want, buf *path, buf *why) {
    if (!json_is_object(want)) {
        buf_printf(why, "%s: got a table, expected %s", path->data,
                   json_is_array(want) ? "an array" : "a scalar");
        return false;
    }
    for (size_t i = 0; i < v->u.tab.len; i++) {
        buf key = {0};
        conf_canonical_text(v->u.tab.keys[i], strlen(v->u.tab.keys[i]), &key);
        json_t *child = json_object_getn(want, key.data ? key.data : "", key.len);
        size_t saved = path->len;
        conf_append_key(path, v->u.tab.keys[i]);
        buf_free(&key);
        bool ok = child != NULL;
        if (!ok) buf_printf(why, "%s: unexpected key", path->data);
        if (ok) ok = conf_matches(v->u.tab.vals[i], child, path, why);
        path->len = saved;
        path->data[saved] = '\0';
        if (!ok) return false;
    }
    if (json_object_size(want) != v->u.tab.len) {
        buf_printf(why, "%s: got %zu keys, expected %zu", path->data, v->u.tab.len,
                   json_object_size(want));
        return false;
    }
    return true;
}

static bool conf_matches(const cfg_value *v, json_t *want, buf *path, buf *why) {
    if (v->type == CFG_TABLE) return conf_table_matches(v, want, path, why);
    if (v->type == CFG_ARRAY) {
        if (!json_is_array(want) || json_array_size(want) != v->u.arr.len) {
            buf_printf(why, "%s: got an array of %zu, expected %s", path->data, v->u.arr.len,
                       json_is_array(want) ? "a different length" : "no array");
            return false;
        }
        for (size_t i = 0; i < v->u.arr.len; i++) {
            size_t saved = path->len;
            buf_printf(path, "[%zu]", i);
            bool ok = conf_matches(v->u.arr.items[i], json_array_get(want, i), path, why);
            path->len = saved;
            path->data[saved] = '\0';
            if (!ok) return false;
        }
        return true;
    }
    const char *type = json_string_value(json_object_get(want, "type"));
    const char *value = json_string_value(json_object_get(want, "value"));
    if (!type || !value || json_object_size(want) != 2) {
        buf_printf(why, "%s: got a %s, expected a table or array", path->data, conf_tag(v->type));
        return false;
    }
    if (strcmp(type, conf_tag(v->type)) != 0) {
        buf_printf(why, "%s: got type %s, expected %s", path->data, conf_tag(v->type), type);
        return false;
    }
    if (!conf_scalar_matches(v, value)) {
        buf_printf(why, "%s: got %s ", path->data, type);
        if (v->type == CFG_INTEGER)
            buf_printf(why, "%lld", (long long)v->u.i);
        else if (v->type == CFG_FLOAT)
            buf_printf(why, "%.17g", v->u.f);
        else if (v->type == CFG_BOOL)
            buf_puts(why, v->u.b ? "true" : "false");
        else
            buf_printf(why, "%.60s", v->u.str.ptr);
        buf_printf(why, ", expected %.100s", value);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------------------------
 * Running the cases.
 * ---------------------------------------------------------------------------------------- */

typedef struct conf_tally {
    int valid_passed, valid_total, invalid_passed, invalid_total;
} conf_tally;

static bool conf_run_valid(const char *dir, const char *name, buf *why) {
    buf path = {0};
    buf_printf(&path, "%s/%s", dir, name);
    size_t len;
    char *src = conf_read_file(path.data, &len);
    if (!src) {
        buf_printf(why, "cannot read %s", path.data);
        buf_free(&path);
        return false;
    }
    toml_error err;
    cfg_value *doc = toml_parse(src, len, &err);
    free(src);
    if (!doc) {
        buf_printf(why, "rejected: %d:%d: %s", err.line, err.column, err.message);
        buf_free(&path);
        return false;
    }
    path.len -= strlen(".toml");
    buf_puts(&path, ".json");
    json_t *want = conf_load_json(path.data, why);
    buf_free(&path);
    bool ok = false;
    if (want) {
        buf where = {0};
        buf_puts(&where, "root");
        ok = conf_matches(doc, want, &where, why);
        buf_free(&where);
        json_decref(want);
    }
    cfg_free(doc);
    return ok;
}

static bool conf_run_invalid(const char *dir, const char *name, bool verbose, buf *why) {
    buf path = {0};
    buf_printf(&path, "%s/%s", dir, name);
    size_t len;
    char *src = conf_read_file(path.data, &len);
    if (!src) {
        buf_printf(why, "cannot read %s", path.data);
        buf_free(&path);
        return false;
    }
    buf_free(&path);
    toml_error err;
    cfg_value *doc = toml_parse(src, len, &err);
    free(src);
    if (doc) {
        cfg_free(doc);
        buf_printf(why, "accepted, but must be rejected");
        return false;
    }
    if (verbose) printf("ok   %s: %d:%d: %s\n", name, err.line, err.column, err.message);
    return true;
}

static bool conf_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int main(int argc, char **argv) {
    bool verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    const char *root = getenv("HEARTH_CONFORMANCE_DIR");
    if (!root || !*root) root = "../shared/conformance";
    buf dir = {0}, list_path = {0};
    buf_printf(&dir, "%s/toml-test/tests", root);
    buf_printf(&list_path, "%s/files-toml-1.0.0", dir.data);

    struct stat st;
    FILE *list = stat(dir.data, &st) == 0 ? fopen(list_path.data, "r") : NULL;
    buf_free(&list_path);
    if (!list) {
        const char *msg = "toml-test: SKIPPED — conformance data not found at %s "
                          "(set HEARTH_CONFORMANCE_DIR)\n";
        fprintf(stderr, msg, dir.data);
        printf(msg, dir.data);
        buf_free(&dir);
        return 0;
    }

    conf_tally t = {0};
    char line[4096];
    buf why = {0};
    while (fgets(line, sizeof line, list)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!conf_ends_with(line, ".toml")) continue;
        bool valid = strncmp(line, "valid/", 6) == 0;
        if (!valid && strncmp(line, "invalid/", 8) != 0) continue;
        buf_clear(&why);
        bool ok = valid ? conf_run_valid(dir.data, line, &why)
                        : conf_run_invalid(dir.data, line, verbose, &why);
        if (valid) {
            t.valid_total++;
            t.valid_passed += ok;
        } else {
            t.invalid_total++;
            t.invalid_passed += ok;
        }
        if (!ok) printf("FAIL %s: %s\n", line, why.data);
    }
    fclose(list);
    buf_free(&why);
    buf_free(&dir);
    printf("toml-test: valid %d/%d, invalid %d/%d (TOML 1.0)\n", t.valid_passed, t.valid_total,
           t.invalid_passed, t.invalid_total);
    return t.valid_passed == t.valid_total && t.invalid_passed == t.invalid_total ? 0 : 1;
}
