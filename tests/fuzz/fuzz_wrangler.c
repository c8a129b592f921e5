/* libFuzzer target for the wrangler configuration loader (src/config/wrangler.c): the checks
 * of every key on whatever tree a user's wrangler.toml or wrangler.json parses to, with and
 * without an environment chosen (--env), which builds a second tree from [env.NAME].
 *
 * The first input byte picks the file (TOML or JSON) and the environment; the rest is the
 * file. Beyond no crash, leak or undefined behaviour it checks that the result agrees with the
 * diagnostics (-1 exactly when there are errors), that every diagnostic names the file, and
 * that a config that loads has a name, a main module and bindings that are a JSON array. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/wrangler.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_wrangler: check failed at line %d: %s\n", __LINE__, #cond);      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static char dir[64];

static void write_file(const char *name, const uint8_t *data, size_t size) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(data, 1, size, f) == size);
    FUZZ_CHECK(fclose(f) == 0);
}

static void remove_file(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

static void remove_dir(void) {
    static const char *const names[] = {"wrangler.toml", "wrangler.json", "a.js",
                                        ".dev.vars.staging"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) remove_file(names[i]);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "/tmp/fuzz-wrangler-XXXXXX");
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    /* The entry module most seeds name, so that loads can succeed. */
    write_file("a.js", (const uint8_t *)"export default {};\n", 19);
    write_file(".dev.vars.staging", (const uint8_t *)"SECRET=s\n", 9);
    atexit(remove_dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    bool json = data[0] & 1;
    const char *env = (data[0] & 2) ? "staging" : NULL;
    remove_file(json ? "wrangler.toml" : "wrangler.json");
    write_file(json ? "wrangler.json" : "wrangler.toml", data + 1, size - 1);

    worker_config c;
    config_diag d = {0};
    int rc = worker_config_load(dir, env, &c, &d);
    FUZZ_CHECK(rc == (d.errors ? -1 : 0));
    /* Each diagnostic is a line that starts with the path of a file it is about. */
    const char *line = d.text.data;
    while (line && *line) {
        FUZZ_CHECK(strncmp(line, dir, strlen(dir)) == 0);
        const char *nl = strchr(line, '\n');
        FUZZ_CHECK(nl != NULL);
        line = nl + 1;
    }
    if (rc == 0) {
        FUZZ_CHECK(c.name && *c.name);
        FUZZ_CHECK(c.main && *c.main);
        json_error_t jerr;
        json_t *b = json_loads(c.bindings_json, JSON_ALLOW_NUL, &jerr);
        FUZZ_CHECK(b && json_is_array(b));
        json_decref(b);
    }
    worker_config_free(&c);
    config_diag_free(&d);
    return 0;
}
