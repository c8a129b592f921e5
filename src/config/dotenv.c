#include "config/dotenv.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"

static bool is_key_char(char c) {
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

cfg_value *dotenv_parse(const char *src, size_t len, char *err, size_t errlen) {
    cfg_value *t = cfg_new(CFG_TABLE, 1);
    size_t i = 0;
    int line = 1;
    while (i < len) {
        size_t eol = i;
        while (eol < len && src[eol] != '\n') eol++;
        size_t p = i;
        while (p < eol && (src[p] == ' ' || src[p] == '\t')) p++;
        if (p == eol || src[p] == '#' || (src[p] == '\r' && p + 1 == eol)) {
            i = eol + 1;
            line++;
            continue;
        }
        if (eol - p > 7 && strncmp(src + p, "export ", 7) == 0) p += 7;
        size_t kstart = p;
        while (p < eol && is_key_char(src[p])) p++;
        size_t kend = p;
        while (p < eol && (src[p] == ' ' || src[p] == '\t')) p++;
        if (kend == kstart || p >= eol || src[p] != '=') {
            snprintf(err, errlen, "line %d: expected KEY=value", line);
            cfg_free(t);
            return NULL;
        }
        p++;
        while (p < eol && (src[p] == ' ' || src[p] == '\t')) p++;
        buf value = {0};
        int start_line = line;
        if (p < len && (src[p] == '"' || src[p] == '\'')) {
            /* Quoted values may span lines. */
            char q = src[p++];
            while (p < len && src[p] != q) {
                if (src[p] == '\n') line++;
                if (q == '"' && src[p] == '\\' && p + 1 < len) {
                    char e = src[++p];
                    /* An escaped real newline is still a line of the file. */
                    if (e == '\n') line++;
                    buf_putc(&value, e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e);
                } else {
                    buf_putc(&value, src[p]);
                }
                p++;
            }
            if (p >= len) {
                snprintf(err, errlen, "line %d: unterminated quoted value", start_line);
                buf_free(&value);
                cfg_free(t);
                return NULL;
            }
            p++;
            eol = p;
            while (eol < len && src[eol] != '\n') eol++;
        } else {
            size_t vend = eol;
            for (size_t k = p; k < eol; k++)
                if (src[k] == '#' && k > p && (src[k - 1] == ' ' || src[k - 1] == '\t')) {
                    vend = k;
                    break;
                }
            while (vend > p && isspace((unsigned char)src[vend - 1])) vend--;
            buf_append(&value, src + p, vend - p);
        }
        char key[256];
        snprintf(key, sizeof key, "%.*s", (int)(kend - kstart), src + kstart);
        cfg_value *v = cfg_new_string(value.data ? value.data : "", value.len, start_line);
        cfg_table_set(t, key, v);
        buf_free(&value);
        i = eol + 1;
        line++;
    }
    return t;
}
