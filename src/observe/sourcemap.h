/* sourcemap — Source Map v3 (ECMA-426) decoding and V8-style stack-trace rewriting.
 *
 * A Worker uploaded with source maps (wrangler's `upload_source_maps = true`) gets stack
 * traces that point into the code its author wrote instead of the bundled, minified output:
 *
 *     at n (index.js:1:342)     ->     at parseBytes (src/down.ts:30:8)
 *
 * A map is decoded once (sourcemap_parse) into sorted arrays; lookups are binary searches and
 * never allocate. A decoded map and a sourcemap_set are immutable, so any number of threads
 * may read them at once.
 *
 * Positions. Source maps count lines and columns from 0, and so does every function here
 * that takes or returns a position. Stack traces count both from 1; sourcemap_rewrite_stack
 * converts. Columns are in the units the map was written in (UTF-16 code units for
 * JavaScript tools); for ASCII code, as bundlers emit by default, that is also bytes. */
#ifndef HEARTH_OBSERVE_SOURCEMAP_H
#define HEARTH_OBSERVE_SOURCEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Inputs past these are rejected rather than decoded. */
#define SOURCEMAP_MAX_SEGMENTS 50000000u
#define SOURCEMAP_MAX_POSITION 2147483647u /* lines, columns and indexes: 2^31 - 1 */

typedef struct sourcemap sourcemap;

/* Decodes a source map: a regular map, or an index map whose sections each hold a regular
 * map. Every field the specification defines is validated, and anything invalid rejects the
 * whole map: returns NULL and writes to err a reason that starts with the field, e.g.
 * "mappings: invalid base64 character '!' at offset 12" or
 * "sections[1].offset: overlaps the previous section".
 *
 * `path` is where the map lives inside the project ("dist/index.js.map"; NULL for the project
 * root); relative sources are resolved against its directory for sourcemap_source_path. */
sourcemap *sourcemap_parse(const char *json, size_t len, const char *path, char *err,
                           size_t errlen);
void sourcemap_free(sourcemap *m);

typedef struct sourcemap_mapping {
    uint32_t generated_column; /* of the segment found (<= the column asked for) */
    int32_t source;            /* index for sourcemap_source / _source_path */
    uint32_t line, column;     /* in the original source, from 0 */
    int32_t name;              /* index for sourcemap_name, or -1 */
} sourcemap_mapping;

/* The mapping of generated position (line, column), both from 0, by "greatest lower bound":
 * the segment of that generated line with the greatest column <= `column` (of several at the
 * same column, the first in the map). Never a segment of another line. Returns false when
 * there is none, or when it maps to no original position (a one-field segment, or code of
 * an index map's section before that section's first segment). */
bool sourcemap_lookup(const sourcemap *m, uint32_t line, uint32_t column, sourcemap_mapping *out);

/* The map's `file`, or NULL. */
const char *sourcemap_file(const sourcemap *m);
uint32_t sourcemap_source_count(const sourcemap *m);
uint32_t sourcemap_name_count(const sourcemap *m);
/* `names[i]`. */
const char *sourcemap_name(const sourcemap *m, uint32_t i);
/* `sources[i]` resolved as the specification says: `sourceRoot` + "/" (unless it already ends
 * with one; an empty sourceRoot is none) + the source, with "." and ".." segments resolved as
 * URL parsing would (leading ".." of a relative path stay). NULL for a null source. */
const char *sourcemap_source(const sourcemap *m, uint32_t i);
/* The same source as a path inside the project, for people to read; NULL for a null source.
 * The rule:
 *   - a URL with a scheme loses "scheme://authority" and what is left is relative to the
 *     project root ("webpack://app/./src/a.ts" and "webpack:///src/a.ts" -> "src/a.ts");
 *     except file: URLs, which are absolute paths;
 *   - a relative path is resolved against the directory of the map's `path`
 *     ("../src/a.ts" in "dist/index.js.map" -> "src/a.ts"); ".." that would climb out of
 *     the project are dropped, so the result never starts with "../";
 *   - "." segments and repeated slashes are removed; absolute paths stay absolute;
 *   - a URL with no path left is shown as written, a path with nothing left is ".". */
const char *sourcemap_source_path(const sourcemap *m, uint32_t i);
/* Whether `sources[i]` is in the map's ignoreList (or x_google_ignoreList without one):
 * library or generated code that debuggers hide by default. */
bool sourcemap_source_ignored(const sourcemap *m, uint32_t i);

/* A Worker version's maps, by the name its modules have in stack traces ("index.js",
 * "src/worker.js"). Built once, then read-only. */
typedef struct sourcemap_set sourcemap_set;

sourcemap_set *sourcemap_set_new(void);
/* Adds the map of module `module`, replacing any earlier one; the set owns `m` from now on. */
void sourcemap_set_add(sourcemap_set *set, const char *module, sourcemap *m);
/* The map of `module`, or NULL (also for a NULL set). */
const sourcemap *sourcemap_set_get(const sourcemap_set *set, const char *module);
size_t sourcemap_set_count(const sourcemap_set *set);
void sourcemap_set_free(sourcemap_set *set);

/* Rewrites a V8-format stack (as hearth's engine formats `error.stack`):
 *
 *     Error: message                 lines that are not frames are kept as they are
 *         at fn (file:line:col)      a frame with a function name
 *         at file:line:col           a frame without one
 *
 * Each frame in a module of `set` whose position has a mapping becomes
 * `at NAME (PATH:LINE:COL)` (`at PATH:LINE:COL` without a name) with the original position
 * (from 1) and PATH from sourcemap_source_path.
 *
 * NAME: minifiers rename functions, and a frame's own position says nothing about its
 * function's name, but the frame below it (its caller) stands on the call, whose callee
 * identifier the map records with its original name. So NAME is the `names` entry of the
 * caller's segment there: one that starts exactly at the caller's column, or (the engine may
 * put a call's column on its "(") the length of the frame's generated name before it.
 * Failing that (no map for the caller's module, no such segment, no name), the frame keeps
 * the name it had ("async " and "new " prefixes are kept). Pass the stack with every frame,
 * the runtime's included, so that a frame's neighbour is its real caller.
 *
 * Frames without a mapping, and lines that are not frames, are copied unchanged (all of them
 * when `set` is NULL). Returns a malloc'd string (never NULL). */
char *sourcemap_rewrite_stack(const sourcemap_set *set, const char *stack);

#endif
