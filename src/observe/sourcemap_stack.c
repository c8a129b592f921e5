/* sourcemap_stack — a Worker version's source maps by module name, and the rewriting of
 * V8-format stack traces through them (see sourcemap.h for the rules). */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "observe/sourcemap.h"

/* ------------------------------------------------------------------------------------------
 * The set: a sorted array, searched by module name.
 * ---------------------------------------------------------------------------------------- */

typedef struct entry {
    char *module;
    sourcemap *map;
} entry;

struct sourcemap_set {
    entry *entries;
    size_t count, cap;
};

sourcemap_set *sourcemap_set_new(void) {
    return xcalloc(1, sizeof(sourcemap_set));
}

/* The index of `module` (or of the first name after it) in [0, count]; *found says which. */
static size_t set_find(const sourcemap_set *set, const char *module, size_t len, bool *found) {
    size_t lo = 0, hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = set->entries[mid].module;
        int c = strncmp(name, module, len);
        if (c == 0 && name[len] != '\0') c = 1; /* name is longer: it sorts after */
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

void sourcemap_set_add(sourcemap_set *set, const char *module, sourcemap *m) {
    bool found;
    size_t i = set_find(set, module, strlen(module), &found);
    if (found) {
        sourcemap_free(set->entries[i].map);
        set->entries[i].map = m;
        return;
    }
    if (set->count == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 4;
        set->entries = xrealloc(set->entries, set->cap * sizeof *set->entries);
    }
    memmove(set->entries + i + 1, set->entries + i, (set->count - i) * sizeof *set->entries);
    set->entries[i] = (entry){xstrdup(module), m};
    set->count++;
}

static const sourcemap *set_get_n(const sourcemap_set *set, const char *module, size_t len) {
    if (!set) return NULL;
    bool found;
    size_t i = set_find(set, module, len, &found);
    return found ? set->entries[i].map : NULL;
}

const sourcemap *sourcemap_set_get(const sourcemap_set *set, const char *module) {
    return set_get_n(set, module, strlen(module));
}

size_t sourcemap_set_count(const sourcemap_set *set) {
    return set->count;
}

void sourcemap_set_free(sourcemap_set *set) {
    if (!set) return;
    for (size_t i = 0; i < set->count; i++) {
        free(set->entries[i].module);
        sourcemap_free(set->entries[i].map);
    }
    free(set->entries);
    free(set);
}

/* ------------------------------------------------------------------------------------------
 * Frames.
 * ---------------------------------------------------------------------------------------- */

/* One line of the stack, and what it says when it is a frame:
 *
 *     <indent>at <prefix><name> (<file>:<line>:<column>)
 *     <indent>at <prefix><file>:<line>:<column>
 *
 * Offsets are into the stack text. */
typedef struct frame {
    size_t start, end;           /* the line, without its line break (or "\r\n") */
    bool is_frame;               /* parsed as a frame with a location */
    size_t at;                   /* just after "at " */
    size_t name_start, name_end; /* the function name after the prefix; empty if none */
    size_t prefix_len;           /* "async " or "new " */
    size_t file_start, file_end;
    uint32_t line, column; /* from 1 */
    const sourcemap *map;  /* the map of the frame's file, or NULL */
    bool mapped;
    sourcemap_mapping mapping;
} frame;

/* Parses "<digits>" ending at s[end] backwards; returns the start or SIZE_MAX. */
static size_t digits_before(const char *s, size_t start, size_t end, uint32_t *out) {
    size_t i = end;
    uint64_t v = 0, scale = 1;
    while (i > start && s[i - 1] >= '0' && s[i - 1] <= '9') {
        if (end - i >= 10) return SIZE_MAX;
        v += (uint64_t)(s[i - 1] - '0') * scale;
        scale *= 10;
        i--;
    }
    if (i == end || v > UINT32_MAX) return SIZE_MAX;
    *out = (uint32_t)v;
    return i;
}

/* Parses "<file>:<line>:<column>" in s[start..end). */
static bool parse_location(const char *s, size_t start, size_t end, frame *f) {
    size_t i = digits_before(s, start, end, &f->column);
    if (i == SIZE_MAX || i == start || s[i - 1] != ':') return false;
    i = digits_before(s, start, i - 1, &f->line);
    if (i == SIZE_MAX || i == start || s[i - 1] != ':') return false;
    if (i - 1 == start) return false; /* no file name */
    f->file_start = start;
    f->file_end = i - 1;
    return true;
}

static size_t starts_with(const char *s, size_t start, size_t end, const char *word) {
    size_t n = strlen(word);
    return end - start >= n && memcmp(s + start, word, n) == 0 ? n : 0;
}

static void parse_frame(const char *s, frame *f) {
    size_t i = f->start, end = f->end;
    while (i < end && (s[i] == ' ' || s[i] == '\t')) i++;
    if (i == f->start || !starts_with(s, i, end, "at ")) return;
    i += 3;
    f->at = i;
    f->prefix_len = starts_with(s, i, end, "async ");
    if (!f->prefix_len) f->prefix_len = starts_with(s, i, end, "new ");
    size_t body = i + f->prefix_len;
    /* "name (location)": the location is what follows the first " (". Names with " (" in them
     * are rare; file names with parentheses ("app/(group)/page.js") are not. */
    if (end > body && s[end - 1] == ')') {
        const char *open = NULL;
        for (size_t k = body; k + 1 < end; k++) {
            if (s[k] == ' ' && s[k + 1] == '(') {
                open = s + k;
                break;
            }
        }
        if (open && parse_location(s, (size_t)(open - s) + 2, end - 1, f)) {
            f->name_start = body;
            f->name_end = (size_t)(open - s);
            f->is_frame = true;
            return;
        }
    }
    if (parse_location(s, body, end, f)) {
        f->name_start = f->name_end = body;
        f->is_frame = true;
    }
}

/* Length of the identifier the generated name of a frame ends with ("u", "Object.fetch" ->
 * "fetch"), or 0 if it does not end with one ("fetch/<", as the engine names closures). */
static size_t identifier_len(const char *s, size_t start, size_t end) {
    size_t i = end;
    while (i > start) {
        unsigned char c = (unsigned char)s[i - 1];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '$' || c >= 0x80))
            break;
        i--;
    }
    return i > start && s[i - 1] != '.' ? 0 : end - i;
}

/* The original name of the function of frame `callee`, from the map of its caller: the caller
 * stands on the call, and the map gives the callee's identifier there its original name. The
 * engine puts a call's column either on the callee (`u(e)` at "u", `o.m()` at "m") or on the
 * "(" after it, where the identifier, still named as the callee's generated name, ends. So a
 * named segment counts if it starts exactly at the caller's column, or that name's length
 * before it; any other segment belongs to some other token. */
static const char *callee_name(const char *stack, const frame *callee, const frame *caller) {
    if (!caller->is_frame || !caller->map || caller->line == 0 || caller->column == 0) return NULL;
    sourcemap_mapping m;
    uint32_t column = caller->column - 1;
    if (!sourcemap_lookup(caller->map, caller->line - 1, column, &m) || m.name < 0) return NULL;
    size_t ident = identifier_len(stack, callee->name_start, callee->name_end);
    if (m.generated_column != column && (ident == 0 || m.generated_column + ident != column))
        return NULL;
    return sourcemap_name(caller->map, (uint32_t)m.name);
}

/* Appends a name or path from a map. A map is data from whoever deployed the Worker: control
 * characters become "?", so that a frame stays one line of a log. */
static void put_text(buf *out, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) buf_putc(out, (unsigned char)s[i] < 0x20 ? '?' : s[i]);
}

char *sourcemap_rewrite_stack(const sourcemap_set *set, const char *stack) {
    /* Split into lines and parse every frame first: a frame's name needs the next one. */
    size_t nframes = 1;
    for (const char *p = stack; *p; p++) nframes += *p == '\n';
    frame *frames = xcalloc(nframes, sizeof *frames);
    size_t n = 0;
    for (size_t pos = 0;; n++) {
        const char *nl = strchr(stack + pos, '\n');
        size_t end = nl ? (size_t)(nl - stack) : pos + strlen(stack + pos);
        frames[n].start = pos;
        frames[n].end = end > pos && stack[end - 1] == '\r' ? end - 1 : end;
        if (!nl) {
            n++;
            break;
        }
        pos = end + 1;
    }
    for (size_t k = 0; k < n; k++) {
        frame *f = &frames[k];
        parse_frame(stack, f);
        if (!f->is_frame) continue;
        f->map = set_get_n(set, stack + f->file_start, f->file_end - f->file_start);
        if (f->map && f->line > 0 && f->column > 0 &&
            sourcemap_lookup(f->map, f->line - 1, f->column - 1, &f->mapping) &&
            sourcemap_source_path(f->map, (uint32_t)f->mapping.source))
            f->mapped = true;
    }

    size_t total = strlen(stack);
    buf out = {0};
    buf_reserve(&out, total + 64);
    for (size_t k = 0; k < n; k++) {
        const frame *f = &frames[k];
        if (!f->mapped) {
            buf_append(&out, stack + f->start, f->end - f->start);
        } else {
            buf_append(&out, stack + f->start, f->at - f->start); /* indentation and "at " */
            const char *name = k + 1 < n ? callee_name(stack, f, &frames[k + 1]) : NULL;
            size_t name_len = name ? strlen(name) : f->name_end - f->name_start;
            if (!name) name = stack + f->name_start;
            buf_append(&out, stack + f->at, f->prefix_len); /* "async ", "new " */
            put_text(&out, name, name_len);
            if (name_len) buf_puts(&out, " (");
            const char *path = sourcemap_source_path(f->map, (uint32_t)f->mapping.source);
            put_text(&out, path, strlen(path));
            buf_printf(&out, ":%u:%u%s", f->mapping.line + 1, f->mapping.column + 1,
                       name_len ? ")" : "");
        }
        /* the line break as it was */
        size_t next = k + 1 < n ? frames[k + 1].start : total;
        buf_append(&out, stack + f->end, next - f->end);
    }
    free(frames);
    size_t len;
    char *result = buf_detach(&out, &len);
    return result ? result : xstrdup("");
}
