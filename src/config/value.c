#include "config/value.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

cfg_value *cfg_new(cfg_type type, int line) {
    cfg_value *v = xcalloc(1, sizeof *v);
    v->type = type;
    v->line = line;
    return v;
}

cfg_value *cfg_new_string(const char *s, size_t len, int line) {
    cfg_value *v = cfg_new(CFG_STRING, line);
    v->u.str.ptr = xmemdup0(s, len);
    v->u.str.len = len;
    return v;
}

cfg_value *cfg_new_integer(int64_t i, int line) {
    cfg_value *v = cfg_new(CFG_INTEGER, line);
    v->u.i = i;
    return v;
}

cfg_value *cfg_new_float(double f, int line) {
    cfg_value *v = cfg_new(CFG_FLOAT, line);
    v->u.f = f;
    return v;
}

cfg_value *cfg_new_bool(bool b, int line) {
    cfg_value *v = cfg_new(CFG_BOOL, line);
    v->u.b = b;
    return v;
}

bool cfg_has_text(cfg_type type) {
    return type == CFG_STRING || type == CFG_DATETIME || type == CFG_DATETIME_LOCAL ||
           type == CFG_DATE_LOCAL || type == CFG_TIME_LOCAL;
}

void cfg_free(cfg_value *v) {
    if (!v) return;
    if (cfg_has_text(v->type)) free(v->u.str.ptr);
    switch (v->type) {
    case CFG_ARRAY:
        for (size_t i = 0; i < v->u.arr.len; i++) cfg_free(v->u.arr.items[i]);
        free(v->u.arr.items);
        break;
    case CFG_TABLE:
        for (size_t i = 0; i < v->u.tab.len; i++) {
            free(v->u.tab.keys[i]);
            cfg_free(v->u.tab.vals[i]);
        }
        free(v->u.tab.keys);
        free(v->u.tab.vals);
        break;
    default:
        break;
    }
    free(v);
}

cfg_value *cfg_clone(const cfg_value *v) {
    cfg_value *c = cfg_new(v->type, v->line);
    if (cfg_has_text(v->type)) {
        c->u.str.ptr = xmemdup0(v->u.str.ptr, v->u.str.len);
        c->u.str.len = v->u.str.len;
        return c;
    }
    switch (v->type) {
    case CFG_ARRAY:
        for (size_t i = 0; i < v->u.arr.len; i++) cfg_array_push(c, cfg_clone(v->u.arr.items[i]));
        break;
    case CFG_TABLE:
        for (size_t i = 0; i < v->u.tab.len; i++)
            cfg_table_set(c, v->u.tab.keys[i], cfg_clone(v->u.tab.vals[i]));
        break;
    default:
        c->u = v->u;
        break;
    }
    return c;
}

void cfg_array_push(cfg_value *arr, cfg_value *item) {
    if (arr->u.arr.len == arr->u.arr.cap) {
        arr->u.arr.cap = arr->u.arr.cap ? arr->u.arr.cap * 2 : 4;
        arr->u.arr.items = xrealloc(arr->u.arr.items, arr->u.arr.cap * sizeof(cfg_value *));
    }
    arr->u.arr.items[arr->u.arr.len++] = item;
}

void cfg_table_set(cfg_value *tab, const char *key, cfg_value *val) {
    for (size_t i = 0; i < tab->u.tab.len; i++) {
        if (strcmp(tab->u.tab.keys[i], key) == 0) {
            cfg_free(tab->u.tab.vals[i]);
            tab->u.tab.vals[i] = val;
            return;
        }
    }
    if (tab->u.tab.len == tab->u.tab.cap) {
        tab->u.tab.cap = tab->u.tab.cap ? tab->u.tab.cap * 2 : 4;
        tab->u.tab.keys = xrealloc(tab->u.tab.keys, tab->u.tab.cap * sizeof(char *));
        tab->u.tab.vals = xrealloc(tab->u.tab.vals, tab->u.tab.cap * sizeof(cfg_value *));
    }
    tab->u.tab.keys[tab->u.tab.len] = xstrdup(key);
    tab->u.tab.vals[tab->u.tab.len] = val;
    tab->u.tab.len++;
}

cfg_value *cfg_table_get(const cfg_value *tab, const char *key) {
    if (!tab || tab->type != CFG_TABLE) return NULL;
    for (size_t i = 0; i < tab->u.tab.len; i++)
        if (strcmp(tab->u.tab.keys[i], key) == 0) return tab->u.tab.vals[i];
    return NULL;
}

const char *cfg_type_name(cfg_type type) {
    switch (type) {
    case CFG_STRING:
        return "string";
    case CFG_INTEGER:
        return "integer";
    case CFG_FLOAT:
        return "float";
    case CFG_BOOL:
        return "boolean";
    case CFG_DATETIME:
        return "datetime";
    case CFG_DATETIME_LOCAL:
        return "local datetime";
    case CFG_DATE_LOCAL:
        return "local date";
    case CFG_TIME_LOCAL:
        return "local time";
    case CFG_ARRAY:
        return "array";
    case CFG_TABLE:
        return "table";
    case CFG_NULL:
        return "null";
    }
    return "?";
}
