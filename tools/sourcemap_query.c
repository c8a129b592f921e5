/* sourcemap_query — hearth's source map decoder on the command line, for the tests and the
 * benchmark that compare it with JavaScript implementations:
 *
 *   sourcemap_query info MAP [PATH]
 *       decodes MAP and prints {"sources", "paths", "names", "ignored", "file"} as JSON, or
 *       {"error": "..."} (exit status 1) when the map is rejected. PATH is where the map lives
 *       in the project (default: MAP's file name).
 *   sourcemap_query lookup MAP
 *       reads "LINE COLUMN" lines (from 0) on stdin and prints, for each, the mapping found as
 *       "SOURCE LINE COLUMN NAME" (indexes; NAME -1 for none) or "-" for none.
 *   sourcemap_query stack MODULE=MAP...
 *       reads a stack trace on stdin and prints it rewritten through the maps.
 *   sourcemap_query bench MAP POSITIONS [ROUNDS]
 *       times decoding MAP (the best of ROUNDS, default 10) and looking up every position of
 *       POSITIONS (pairs of little-endian uint32 line, column) and prints one JSON line:
 *       {"decodeMs", "lookups", "lookupNs", "found", "checksum", "sources", "names"}. The checksum
 *       sums the original line + column of every mapping found, for comparing answers. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "observe/sourcemap.h"

static char *read_all(FILE *f, size_t *len) {
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) buf_append(&b, chunk, n);
    char *data = buf_detach(&b, len);
    if (!data) {
        data = calloc(1, 1);
        *len = 0;
    }
    return data;
}

static char *read_path(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "sourcemap_query: cannot read %s\n", path);
        exit(2);
    }
    char *data = read_all(f, len);
    fclose(f);
    return data;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static sourcemap *load(const char *file, const char *path, char *err, size_t errlen) {
    size_t len;
    char *text = read_path(file, &len);
    sourcemap *m = sourcemap_parse(text, len, path ? path : base_name(file), err, errlen);
    free(text);
    return m;
}

static json_t *string_or_null(const char *s) {
    return s ? json_string(s) : json_null();
}

static int cmd_info(const char *file, const char *path) {
    char err[512];
    sourcemap *m = load(file, path, err, sizeof err);
    json_t *out = json_object();
    if (!m) {
        json_object_set_new(out, "error", json_string(err));
    } else {
        json_t *sources = json_array(), *paths = json_array(), *names = json_array(),
               *ignored = json_array();
        for (uint32_t i = 0; i < sourcemap_source_count(m); i++) {
            json_array_append_new(sources, string_or_null(sourcemap_source(m, i)));
            json_array_append_new(paths, string_or_null(sourcemap_source_path(m, i)));
            json_array_append_new(ignored, json_boolean(sourcemap_source_ignored(m, i)));
        }
        for (uint32_t i = 0; i < sourcemap_name_count(m); i++)
            json_array_append_new(names, json_string(sourcemap_name(m, i)));
        json_object_set_new(out, "file", string_or_null(sourcemap_file(m)));
        json_object_set_new(out, "sources", sources);
        json_object_set_new(out, "paths", paths);
        json_object_set_new(out, "names", names);
        json_object_set_new(out, "ignored", ignored);
    }
    char *text = json_dumps(out, JSON_COMPACT);
    puts(text);
    free(text);
    json_decref(out);
    sourcemap_free(m);
    return m ? 0 : 1;
}

static int cmd_lookup(const char *file) {
    char err[512];
    sourcemap *m = load(file, NULL, err, sizeof err);
    if (!m) {
        fprintf(stderr, "sourcemap_query: %s\n", err);
        return 1;
    }
    unsigned long line, column;
    while (scanf("%lu %lu", &line, &column) == 2) {
        sourcemap_mapping r;
        if (line <= UINT32_MAX && column <= UINT32_MAX &&
            sourcemap_lookup(m, (uint32_t)line, (uint32_t)column, &r))
            printf("%d %u %u %d\n", r.source, r.line, r.column, r.name);
        else
            puts("-");
    }
    sourcemap_free(m);
    return 0;
}

static int cmd_stack(int argc, char **argv) {
    sourcemap_set *set = sourcemap_set_new();
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "sourcemap_query: expected MODULE=MAP, got %s\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        char err[512];
        sourcemap *m = load(eq + 1, NULL, err, sizeof err);
        if (!m) {
            fprintf(stderr, "sourcemap_query: %s: %s\n", eq + 1, err);
            return 1;
        }
        sourcemap_set_add(set, argv[i], m);
    }
    size_t len;
    char *stack = read_all(stdin, &len);
    char *out = sourcemap_rewrite_stack(set, stack);
    fputs(out, stdout);
    free(out);
    free(stack);
    sourcemap_set_free(set);
    return 0;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmd_bench(const char *file, const char *positions_file, int rounds) {
    size_t len, plen;
    char *text = read_path(file, &len);
    char *raw = read_path(positions_file, &plen);
    size_t count = plen / 8;
    uint32_t *pos = malloc(count * 8 + 8);
    memcpy(pos, raw, count * 8); /* little-endian hosts only, like the benchmark */
    free(raw);

    char err[512];
    double best = 0;
    sourcemap *m = NULL;
    for (int r = 0; r < rounds; r++) {
        sourcemap_free(m);
        double t0 = now_ns();
        m = sourcemap_parse(text, len, base_name(file), err, sizeof err);
        double t = now_ns() - t0;
        if (!m) {
            fprintf(stderr, "sourcemap_query: %s\n", err);
            return 1;
        }
        if (r == 0 || t < best) best = t;
    }
    free(text);

    /* The best of a few passes over all positions, each answer folded into the checksum so
     * that no lookup can be optimised away. */
    double best_lookup = 0;
    uint64_t checksum = 0;
    size_t found = 0;
    for (int r = 0; r < 3; r++) {
        uint64_t sum = 0;
        size_t hits = 0;
        double t0 = now_ns();
        for (size_t i = 0; i < count; i++) {
            sourcemap_mapping mp;
            if (sourcemap_lookup(m, pos[2 * i], pos[2 * i + 1], &mp)) {
                sum += (uint64_t)mp.line + mp.column;
                hits++;
            }
        }
        double t = now_ns() - t0;
        if (r == 0 || t < best_lookup) best_lookup = t;
        checksum = sum;
        found = hits;
    }
    printf("{\"decodeMs\": %.3f, \"lookups\": %zu, \"lookupNs\": %.1f, \"found\": %zu, "
           "\"checksum\": %llu, \"sources\": %u, \"names\": %u}\n",
           best / 1e6, count, count ? best_lookup / (double)count : 0.0, found,
           (unsigned long long)checksum, sourcemap_source_count(m), sourcemap_name_count(m));
    sourcemap_free(m);
    free(pos);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "info") == 0)
        return cmd_info(argv[2], argc >= 4 ? argv[3] : NULL);
    if (argc == 3 && strcmp(argv[1], "lookup") == 0) return cmd_lookup(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "stack") == 0) return cmd_stack(argc - 2, argv + 2);
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "bench") == 0)
        return cmd_bench(argv[2], argv[3], argc == 5 && atoi(argv[4]) > 0 ? atoi(argv[4]) : 10);
    fprintf(stderr, "usage: sourcemap_query info MAP [PATH] | lookup MAP | stack MODULE=MAP... "
                    "| bench MAP POSITIONS [ROUNDS]\n");
    return 2;
}
