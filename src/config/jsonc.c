#include "config/jsonc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

/* Skips the JSON string starting at the quote at i; returns the index just past its end. */
static size_t skip_string(const char *s, size_t len, size_t i) {
    for (i++; i < len && s[i] != '"'; i++)
        if (s[i] == '\\' && i + 1 < len) i++;
    return i + 1;
}

/* JSONC → JSON with the same byte offsets: comments become spaces (newlines kept) and a comma
 * followed only by whitespace before a closing bracket becomes a space. Keeping offsets lets
 * jansson's error positions and our key lines match the user's file.
 *
 * Two passes: comments are blanked first, so that a trailing comma followed by a comment
 * (`"a": 1, // note` on the last line of an object, common in wrangler.jsonc) is still seen as
 * trailing. *open_comment gets the offset of a block comment that is never closed, or -1. */
static char *strip_jsonc(const char *src, size_t len, long *open_comment) {
    char *out = xmemdup0(src, len);
    *open_comment = -1;
    size_t i = 0;
    while (i < len) {
        char c = out[i];
        if (c == '"') {
            i = skip_string(out, len, i);
        } else if (c == '/' && i + 1 < len && out[i + 1] == '/') {
            while (i < len && out[i] != '\n') out[i++] = ' ';
        } else if (c == '/' && i + 1 < len && out[i + 1] == '*') {
            size_t start = i;
            out[i++] = ' ';
            out[i++] = ' ';
            while (i < len && !(out[i] == '*' && i + 1 < len && out[i + 1] == '/')) {
                if (out[i] != '\n') out[i] = ' ';
                i++;
            }
            if (i >= len) {
                *open_comment = (long)start;
                break;
            }
            out[i++] = ' ';
            out[i++] = ' ';
        } else {
            i++;
        }
    }
    /* prev: the last character outside whitespace. A comma is trailing only after a value, so
     * `[,]`, `{,}` and `[1,,]` stay errors. */
    char prev = 0;
    for (i = 0; i < len;) {
        char c = out[i];
        if (c == '"') {
            i = skip_string(out, len, i);
            prev = '"';
            continue;
        }
        if (c == ',' && prev && prev != '[' && prev != '{' && prev != ',') {
            size_t j = i + 1;
            while (j < len && (out[j] == ' ' || out[j] == '\t' || out[j] == '\n' || out[j] == '\r'))
                j++;
            if (j < len && (out[j] == '}' || out[j] == ']')) out[i] = c = ' ';
        }
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') prev = c;
        i++;
    }
    return out;
}

static int line_at(const char *text, size_t offset) {
    int line = 1;
    for (size_t i = 0; i < offset && text[i]; i++)
        if (text[i] == '\n') line++;
    return line;
}

/* 1-based column of offset, counting characters (like jansson's error columns). */
static int column_at(const char *text, size_t offset) {
    size_t start = offset;
    while (start > 0 && text[start - 1] != '\n') start--;
    int column = 1;
    for (size_t i = start; i < offset; i++)
        if (((unsigned char)text[i] & 0xC0) != 0x80) column++;
    return column;
}

/* Where key `"key"` appears at or after *from (its line): jansson does not report positions of
 * values, so find the key's text. Advances *from so sibling keys are found in order. */
static int locate_key(const char *text, size_t len, size_t *from, const char *key) {
    size_t klen = strlen(key);
    for (size_t i = *from; i + klen + 2 <= len; i++) {
        if (text[i] != '"' || strncmp(text + i + 1, key, klen) != 0 || text[i + 1 + klen] != '"')
            continue;
        size_t j = i + klen + 2;
        while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n' || text[j] == '\r'))
            j++;
        if (j < len && text[j] == ':') {
            *from = j + 1;
            return line_at(text, i);
        }
    }
    return 0;
}

static cfg_value *convert(json_t *j, const char *text, size_t len, size_t *from, int line) {
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        cfg_value *t = cfg_new(CFG_TABLE, line);
        const char *key;
        json_t *val;
        json_object_foreach(j, key, val) {
            int kline = locate_key(text, len, from, key);
            cfg_table_set(t, key, convert(val, text, len, from, kline ? kline : line));
        }
        return t;
    }
    case JSON_ARRAY: {
        cfg_value *a = cfg_new(CFG_ARRAY, line);
        size_t i;
        json_t *val;
        json_array_foreach(j, i, val) cfg_array_push(a, convert(val, text, len, from, line));
        return a;
    }
    case JSON_STRING:
        return cfg_new_string(json_string_value(j), json_string_length(j), line);
    case JSON_INTEGER:
        return cfg_new_integer(json_integer_value(j), line);
    case JSON_REAL:
        return cfg_new_float(json_real_value(j), line);
    case JSON_TRUE:
        return cfg_new_bool(true, line);
    case JSON_FALSE:
        return cfg_new_bool(false, line);
    case JSON_NULL:
        return cfg_new(CFG_NULL, line);
    }
    return cfg_new(CFG_NULL, line);
}

cfg_value *jsonc_parse(const char *src, size_t len, jsonc_error *err) {
    long open_comment;
    char *clean = strip_jsonc(src, len, &open_comment);
    if (open_comment >= 0) {
        /* Without this check a truncated file ending inside a comment would be accepted. */
        if (err) {
            err->line = line_at(src, (size_t)open_comment);
            err->column = column_at(src, (size_t)open_comment);
            snprintf(err->message, sizeof err->message, "unterminated /* comment");
        }
        free(clean);
        return NULL;
    }
    json_error_t jerr;
    /* Keys in document order, so the tree matches the file and our key search advances. */
    json_t *root = json_loadb(clean, len, JSON_DECODE_ANY | JSON_PRESERVE_ORDER, &jerr);
    if (!root) {
        if (err) {
            err->line = jerr.line > 0 ? jerr.line : 1;
            err->column = jerr.column > 0 ? jerr.column : 1;
            snprintf(err->message, sizeof err->message, "%s", jerr.text);
        }
        free(clean);
        return NULL;
    }
    size_t from = 0;
    cfg_value *v = convert(root, clean, len, &from, 1);
    json_decref(root);
    free(clean);
    return v;
}
