/* libFuzzer target for the configuration parsers that read user files besides TOML:
 * wrangler.json/jsonc (jsonc_parse) and .dev.vars (dotenv_parse). Any input must give either a
 * tree or an error with a line, never a crash or a leak. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "config/dotenv.h"
#include "config/jsonc.h"

static void check_tree(const cfg_value *v, int depth) {
    if (!v || depth > 10000) abort();
    if (v->type == CFG_TABLE)
        for (size_t i = 0; i < v->u.tab.len; i++) check_tree(v->u.tab.vals[i], depth + 1);
    if (v->type == CFG_ARRAY)
        for (size_t i = 0; i < v->u.arr.len; i++) check_tree(v->u.arr.items[i], depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    jsonc_error jerr;
    cfg_value *doc = jsonc_parse((const char *)data, size, &jerr);
    if (doc) {
        check_tree(doc, 0);
        cfg_free(doc);
    } else if (jerr.line < 1 || jerr.column < 1) {
        abort(); /* errors must say where */
    }
    char err[256];
    cfg_value *vars = dotenv_parse((const char *)data, size, err, sizeof err);
    if (vars) {
        check_tree(vars, 0);
        cfg_free(vars);
    }
    return 0;
}
