/* source-map-tests conformance runner (tc39/source-map-tests, the ECMA-426 test suite) for
 * hearth's source map decoder.
 *
 * source-map-spec-tests.json lists the tests: each names a map in resources/ and whether it is
 * valid. A valid map must decode and pass its testActions; an invalid one must be rejected.
 * The actions:
 *   - checkMapping: generated (line, column) -> original source, line, column and name, all
 *     from 0 (null when the position maps to nothing), looked up with the decoder's "greatest
 *     lower bound" as every consumer of the suite does;
 *   - checkMappingTransitive: the same through a chain of maps: the original position in the
 *     map is looked up, as a generated position, in each of intermediateMaps in turn;
 *   - checkIgnoreList: the sources named in `present` are in the ignore list.
 * An action of another type is counted and printed as skipped.
 *
 * The suite lives outside the repository, in $HEARTH_CONFORMANCE_DIR or ../shared/conformance
 * relative to the repository root (the working directory). Without it the run is reported as
 * skipped, loudly. `-v` also prints the reason given for every rejected map. */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "observe/sourcemap.h"

static char *conf_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
    fclose(f);
    char *data = buf_detach(&b, len);
    if (!data) {
        data = calloc(1, 1);
        *len = 0;
    }
    return data;
}

/* Decodes resources/<name>; NULL with the reason in err when it is rejected or unreadable. */
static sourcemap *conf_load_map(const char *dir, const char *name, char *err, size_t errlen) {
    buf path = {0};
    buf_printf(&path, "%s/resources/%s", dir, name);
    size_t len;
    char *text = conf_read_file(path.data, &len);
    buf_free(&path);
    if (!text) {
        snprintf(err, errlen, "cannot read resources/%s", name);
        return NULL;
    }
    sourcemap *m = sourcemap_parse(text, len, name, err, errlen);
    free(text);
    return m;
}

/* Compares a nullable string with an expected JSON string or null. */
static bool conf_same_string(const char *got, const json_t *want) {
    if (!want || json_is_null(want)) return got == NULL;
    return got && json_is_string(want) && strcmp(got, json_string_value(want)) == 0;
}

static bool conf_same_int(bool present, uint32_t got, const json_t *want) {
    if (!want || json_is_null(want)) return !present;
    return present && json_is_integer(want) && json_integer_value(want) == (json_int_t)got;
}

static void conf_describe(buf *why, bool found, const sourcemap *m, const sourcemap_mapping *r) {
    if (!found) {
        buf_puts(why, "got no mapping");
        return;
    }
    const char *src = sourcemap_source(m, (uint32_t)r->source);
    const char *name = r->name >= 0 ? sourcemap_name(m, (uint32_t)r->name) : NULL;
    buf_printf(why, "got %s:%u:%u name %s", src ? src : "null", r->line, r->column,
               name ? name : "null");
}

/* checkMapping and checkMappingTransitive. */
static bool conf_check_mapping(const char *dir, const sourcemap *map, const json_t *action,
                               bool transitive, buf *why) {
    const json_t *gl = json_object_get(action, "generatedLine");
    const json_t *gc = json_object_get(action, "generatedColumn");
    if (!json_is_integer(gl) || !json_is_integer(gc)) {
        buf_puts(why, "action without generatedLine/generatedColumn");
        return false;
    }
    sourcemap_mapping r;
    const sourcemap *m = map;
    bool found =
        sourcemap_lookup(m, (uint32_t)json_integer_value(gl), (uint32_t)json_integer_value(gc), &r);
    sourcemap *owned = NULL;
    if (transitive) {
        const json_t *chain = json_object_get(action, "intermediateMaps");
        size_t i;
        const json_t *item;
        json_array_foreach(chain, i, item) {
            if (!found) break;
            char err[256];
            sourcemap *next = conf_load_map(dir, json_string_value(item), err, sizeof err);
            if (!next) {
                buf_printf(why, "intermediate map %s: %s", json_string_value(item), err);
                sourcemap_free(owned);
                return false;
            }
            sourcemap_mapping r2;
            found = sourcemap_lookup(next, r.line, r.column, &r2);
            r = r2;
            sourcemap_free(owned);
            owned = next;
            m = next;
        }
    }
    const char *src = found ? sourcemap_source(m, (uint32_t)r.source) : NULL;
    const char *name = found && r.name >= 0 ? sourcemap_name(m, (uint32_t)r.name) : NULL;
    bool ok = conf_same_string(src, json_object_get(action, "originalSource")) &&
              conf_same_int(found, r.line, json_object_get(action, "originalLine")) &&
              conf_same_int(found, r.column, json_object_get(action, "originalColumn")) &&
              conf_same_string(name, json_object_get(action, "mappedName"));
    if (!ok) {
        buf_printf(why, "at %lld:%lld ", (long long)json_integer_value(gl),
                   (long long)json_integer_value(gc));
        conf_describe(why, found, m, &r);
    }
    sourcemap_free(owned);
    return ok;
}

static bool conf_check_ignore_list(const sourcemap *m, const json_t *action, buf *why) {
    size_t i;
    const json_t *item;
    json_array_foreach(json_object_get(action, "present"), i, item) {
        const char *want = json_string_value(item);
        bool ignored = false, seen = false;
        for (uint32_t s = 0; s < sourcemap_source_count(m); s++) {
            const char *src = sourcemap_source(m, s);
            if (src && want && strcmp(src, want) == 0) {
                seen = true;
                ignored |= sourcemap_source_ignored(m, s);
            }
        }
        if (!seen || !ignored) {
            buf_printf(why, "%s is %s", want ? want : "?",
                       seen ? "not in the ignore list" : "not a source");
            return false;
        }
    }
    return true;
}

typedef struct conf_tally {
    int passed, total, skipped_actions;
} conf_tally;

static void conf_run_test(const char *dir, const json_t *test, bool verbose, conf_tally *t) {
    const char *name = json_string_value(json_object_get(test, "name"));
    const char *file = json_string_value(json_object_get(test, "sourceMapFile"));
    bool valid = json_is_true(json_object_get(test, "sourceMapIsValid"));
    t->total++;
    if (!name || !file) {
        printf("FAIL test %d: no name or sourceMapFile\n", t->total);
        return;
    }
    char err[512];
    sourcemap *m = conf_load_map(dir, file, err, sizeof err);
    if (!valid) {
        if (m) {
            printf("FAIL %s: an invalid map was accepted (%s)\n", name, file);
            sourcemap_free(m);
            return;
        }
        if (verbose) printf("ok   %s: rejected: %s\n", name, err);
        t->passed++;
        return;
    }
    if (!m) {
        printf("FAIL %s: a valid map was rejected: %s\n", name, err);
        return;
    }
    bool ok = true;
    buf why = {0};
    size_t i;
    const json_t *action;
    json_array_foreach(json_object_get(test, "testActions"), i, action) {
        const char *type = json_string_value(json_object_get(action, "actionType"));
        buf_clear(&why);
        bool passed;
        if (type && strcmp(type, "checkMapping") == 0) {
            passed = conf_check_mapping(dir, m, action, false, &why);
        } else if (type && strcmp(type, "checkMappingTransitive") == 0) {
            passed = conf_check_mapping(dir, m, action, true, &why);
        } else if (type && strcmp(type, "checkIgnoreList") == 0) {
            passed = conf_check_ignore_list(m, action, &why);
        } else {
            printf("SKIP %s: action %s is not known to this runner\n", name,
                   type ? type : "(none)");
            t->skipped_actions++;
            continue;
        }
        if (!passed) {
            printf("FAIL %s: action %zu (%s): %s\n", name, i, type, why.data);
            ok = false;
        }
    }
    buf_free(&why);
    sourcemap_free(m);
    if (ok) t->passed++;
}

int main(int argc, char **argv) {
    bool verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    const char *root = getenv("HEARTH_CONFORMANCE_DIR");
    if (!root || !*root) root = "../shared/conformance";
    buf dir = {0}, list_path = {0};
    buf_printf(&dir, "%s/source-map-tests", root);
    buf_printf(&list_path, "%s/source-map-spec-tests.json", dir.data);

    struct stat st;
    json_error_t jerr;
    json_t *list = stat(list_path.data, &st) == 0 ? json_load_file(list_path.data, 0, &jerr) : NULL;
    buf_free(&list_path);
    if (!list) {
        const char *msg = "source-map-tests: SKIPPED — conformance data not found at %s "
                          "(set HEARTH_CONFORMANCE_DIR)\n";
        fprintf(stderr, msg, dir.data);
        printf(msg, dir.data);
        buf_free(&dir);
        return 0;
    }

    conf_tally t = {0};
    size_t i;
    const json_t *test;
    json_array_foreach(json_object_get(list, "tests"), i, test) {
        conf_run_test(dir.data, test, verbose, &t);
    }
    json_decref(list);
    buf_free(&dir);
    printf("source-map-tests: %d/%d passed", t.passed, t.total);
    if (t.skipped_actions) printf(" (%d actions skipped)", t.skipped_actions);
    printf("\n");
    return t.passed == t.total ? 0 : 1;
}
