/* cfg_value: the document tree shared by the TOML parser and the JSON/JSONC loader.
 *
 * Both config formats are parsed into this one tree, so validation of wrangler keys is
 * written once. Every node remembers the 1-based source line where it was defined (0 when
 * the format cannot tell), which is what lets config errors name a line. Tables keep their
 * keys in insertion order. */
#ifndef HEARTH_CONFIG_VALUE_H
#define HEARTH_CONFIG_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum cfg_type {
    CFG_STRING,
    CFG_INTEGER,
    CFG_FLOAT,
    CFG_BOOL,
    CFG_DATETIME,       /* offset date-time; str holds RFC 3339 text */
    CFG_DATETIME_LOCAL, /* local date-time; str holds the text */
    CFG_DATE_LOCAL,     /* local date; str holds the text */
    CFG_TIME_LOCAL,     /* local time; str holds the text */
    CFG_ARRAY,
    CFG_TABLE,
    CFG_NULL, /* JSON null only; TOML has no null */
} cfg_type;

typedef struct cfg_value cfg_value;

struct cfg_value {
    cfg_type type;
    int line;
    union {
        struct {
            char *ptr; /* NUL-terminated; may contain NULs in the middle (len is the truth) */
            size_t len;
        } str;
        int64_t i;
        double f;
        bool b;
        struct {
            cfg_value **items;
            size_t len, cap;
        } arr;
        struct {
            char **keys; /* NUL-terminated UTF-8 keys */
            cfg_value **vals;
            size_t len, cap;
        } tab;
    } u;
};

cfg_value *cfg_new(cfg_type type, int line);
cfg_value *cfg_new_string(const char *s, size_t len, int line);
cfg_value *cfg_new_integer(int64_t v, int line);
cfg_value *cfg_new_float(double v, int line);
cfg_value *cfg_new_bool(bool v, int line);
void cfg_free(cfg_value *v);
/* True for the types whose value is text in u.str: strings and the date/time kinds. */
bool cfg_has_text(cfg_type type);
/* A deep copy, lines included. */
cfg_value *cfg_clone(const cfg_value *v);

/* Appends to an array; takes ownership of item. */
void cfg_array_push(cfg_value *arr, cfg_value *item);
/* Sets key in a table (replacing any previous value); takes ownership of val. */
void cfg_table_set(cfg_value *tab, const char *key, cfg_value *val);
/* Looks a key up in a table; NULL if absent or if tab is not a table. */
cfg_value *cfg_table_get(const cfg_value *tab, const char *key);

const char *cfg_type_name(cfg_type type);

#endif
