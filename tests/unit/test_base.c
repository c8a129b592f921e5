/* Unit tests for the base helpers: the growable buffer (src/base/buf.c), the file helpers
 * (src/base/fs.c) and random identifiers (src/base/ids.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/buf.h"
#include "base/fs.h"
#include "base/ids.h"

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------------- */

/* Every buffer invariant the header promises: NUL at len, len < cap when storage exists. */
static void assert_buf_ok(const buf *b) {
    if (!b->data) {
        assert_int_equal(b->len, 0);
        return;
    }
    assert_true(b->len < b->cap);
    assert_int_equal(b->data[b->len], '\0');
}

/* A fresh, empty temporary directory; removed (with its files) by rm_tree. */
static char *make_temp_dir(void) {
    char tmpl[] = "/tmp/hearth-test-base-XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void rm_tree(char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

/* Writes a file without fs.c, so the tests of fs_read_file do not depend on fs_write_file. */
static void put_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------------------------------------
 * buf
 * ---------------------------------------------------------------------------------------- */

static void test_buf_zero_is_empty(void **state) {
    (void)state;
    buf b = {0};
    assert_buf_ok(&b);
    buf_clear(&b); /* clear and consume of a never-used buffer must not touch NULL data */
    buf_consume(&b, 5);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    buf_free(&b); /* idempotent */
    assert_null(b.data);
}

static void test_buf_reserve(void **state) {
    (void)state;
    /* Reserving room in an empty buffer gives an empty C string, even if nothing follows. */
    buf b = {0};
    buf_reserve(&b, 10);
    assert_non_null(b.data);
    assert_true(b.cap >= 11);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    size_t len = 99;
    char *p = buf_detach(&b, &len);
    assert_string_equal(p, "");
    assert_int_equal(len, 0);
    free(p);
    /* Reserve never shrinks and keeps the contents. */
    buf_puts(&b, "abc");
    size_t cap = b.cap;
    buf_reserve(&b, 0);
    assert_int_equal(b.cap, cap);
    buf_reserve(&b, cap * 3);
    assert_true(b.cap >= 3 + cap * 3 + 1);
    assert_string_equal(b.data, "abc");
    buf_free(&b);
}

static void test_buf_append_grows(void **state) {
    (void)state;
    buf b = {0};
    buf_append(&b, "abc", 3);
    assert_buf_ok(&b);
    assert_string_equal(b.data, "abc");
    assert_int_equal(b.len, 3);
    buf_append(&b, NULL, 0); /* appending nothing is allowed, even with NULL */
    assert_int_equal(b.len, 3);
    buf_putc(&b, 'd');
    buf_puts(&b, "efg");
    assert_string_equal(b.data, "abcdefg");
    /* Byte by byte across several reallocations: contents and NUL survive every growth. */
    buf c = {0};
    size_t last_cap = 0;
    int growths = 0;
    for (int i = 0; i < 10000; i++) {
        buf_putc(&c, (char)('a' + i % 26));
        assert_buf_ok(&c);
        if (c.cap != last_cap) growths++, last_cap = c.cap;
    }
    assert_int_equal(c.len, 10000);
    assert_true(growths >= 2 && growths < 20); /* geometric growth, not one realloc per byte */
    for (int i = 0; i < 10000; i++) assert_int_equal(c.data[i], 'a' + i % 26);
    buf_free(&b);
    buf_free(&c);
}

static void test_buf_binary_data(void **state) {
    (void)state;
    buf b = {0};
    buf_append(&b, "a\0b", 3);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b\0", 4);
    buf_free(&b);
}

static void test_buf_large_append(void **state) {
    (void)state;
    size_t n = 5 * 1024 * 1024 + 17;
    char *big = malloc(n);
    assert_non_null(big);
    for (size_t i = 0; i < n; i++) big[i] = (char)(i * 7 + 1);
    buf b = {0};
    buf_puts(&b, "head");
    buf_append(&b, big, n);
    assert_buf_ok(&b);
    assert_int_equal(b.len, n + 4);
    assert_memory_equal(b.data, "head", 4);
    assert_memory_equal(b.data + 4, big, n);
    buf_reserve(&b, 1000);
    assert_true(b.cap >= b.len + 1000 + 1);
    assert_memory_equal(b.data + 4, big, n); /* reserve keeps the contents */
    free(big);
    buf_free(&b);
}

static void test_buf_printf(void **state) {
    (void)state;
    buf b = {0};
    buf_printf(&b, "%d-%s", 42, "x");
    assert_string_equal(b.data, "42-x");
    buf_printf(&b, "%s", "");
    assert_int_equal(b.len, 4);
    /* Longer than the formatter's 256-byte stack buffer: the slow path must append, not
     * overwrite, and keep the NUL. */
    char long_arg[1001];
    memset(long_arg, 'z', 1000);
    long_arg[1000] = '\0';
    buf_printf(&b, "[%s]", long_arg);
    assert_buf_ok(&b);
    assert_int_equal(b.len, 4 + 1002);
    assert_memory_equal(b.data, "42-x[", 5);
    assert_int_equal(b.data[5 + 999], 'z');
    assert_int_equal(b.data[5 + 1000], ']');
    /* Exactly at the 255/256 boundary of the stack buffer. */
    for (size_t len = 250; len <= 260; len++) {
        buf c = {0};
        buf_puts(&c, "pre:");
        buf_printf(&c, "%.*s", (int)len, long_arg);
        assert_buf_ok(&c);
        assert_int_equal(c.len, 4 + len);
        assert_int_equal(strlen(c.data), 4 + len);
        buf_free(&c);
    }
    buf_free(&b);
}

static void test_buf_consume(void **state) {
    (void)state;
    buf b = {0};
    buf_puts(&b, "hello world");
    buf_consume(&b, 0);
    assert_string_equal(b.data, "hello world");
    buf_consume(&b, 6);
    assert_buf_ok(&b);
    assert_string_equal(b.data, "world");
    assert_int_equal(b.len, 5);
    buf_consume(&b, 5); /* everything */
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    buf_puts(&b, "abc");
    buf_consume(&b, 100); /* more than there is */
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    buf_puts(&b, "again");
    assert_string_equal(b.data, "again");
    buf_free(&b);
}

static void test_buf_clear_keeps_storage(void **state) {
    (void)state;
    buf b = {0};
    buf_puts(&b, "some text");
    size_t cap = b.cap;
    buf_clear(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.data, "");
    buf_free(&b);
}

static void test_buf_detach(void **state) {
    (void)state;
    buf b = {0};
    buf_puts(&b, "owned");
    size_t len = 0;
    char *p = buf_detach(&b, &len);
    assert_string_equal(p, "owned");
    assert_int_equal(len, 5);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    free(p);
    /* The buffer is reusable after detaching. */
    buf_puts(&b, "x");
    assert_string_equal(b.data, "x");
    buf_free(&b);
    /* Detaching an empty buffer gives an empty string, not NULL. */
    buf e = {0};
    len = 99;
    p = buf_detach(&e, &len);
    assert_non_null(p);
    assert_string_equal(p, "");
    assert_int_equal(len, 0);
    free(p);
    p = buf_detach(&e, NULL); /* len may be NULL */
    assert_string_equal(p, "");
    free(p);
}

/* ------------------------------------------------------------------------------------------
 * fs
 * ---------------------------------------------------------------------------------------- */

static void test_fs_join(void **state) {
    (void)state;
    struct {
        const char *a, *b, *want;
    } cases[] = {
        {"a", "b", "a/b"},
        {"a/", "b", "a/b"},
        {"/", "etc", "/etc"},
        {"", "b", "b"},
        {"dir/sub", "file.txt", "dir/sub/file.txt"},
        {"a", "", "a/"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = fs_join(cases[i].a, cases[i].b);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("fs_join(\"%s\", \"%s\") = \"%s\", want \"%s\"", cases[i].a, cases[i].b, got,
                     cases[i].want);
        free(got);
    }
}

static void test_fs_is_file_and_dir(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    char *file = fs_join(dir, "f");
    put_file(file, "x");
    assert_true(fs_is_dir(dir));
    assert_false(fs_is_file(dir));
    assert_true(fs_is_file(file));
    assert_false(fs_is_dir(file));
    char *missing = fs_join(dir, "missing");
    assert_false(fs_is_file(missing));
    assert_false(fs_is_dir(missing));
    free(missing);
    free(file);
    rm_tree(dir);
}

static void test_fs_read_file(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    char *path = fs_join(dir, "in.txt");
    put_file(path, "line 1\nline 2\n");
    size_t len = 0;
    char err[256] = "untouched";
    char *text = fs_read_file(path, &len, err, sizeof err);
    assert_non_null(text);
    assert_int_equal(len, 14);
    assert_string_equal(text, "line 1\nline 2\n");
    free(text);
    /* An empty file is an empty, NUL-terminated string. */
    put_file(path, "");
    text = fs_read_file(path, &len, err, sizeof err);
    assert_non_null(text);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    free(text);
    /* len may be NULL. */
    put_file(path, "abc");
    text = fs_read_file(path, NULL, NULL, 0);
    assert_string_equal(text, "abc");
    free(text);
    free(path);
    rm_tree(dir);
}

static void test_fs_read_large_file(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    char *path = fs_join(dir, "big.bin");
    size_t n = 3 * 65536 + 123; /* several read() chunks */
    unsigned char *data = malloc(n);
    for (size_t i = 0; i < n; i++) data[i] = (unsigned char)(i * 31 + i / 256);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
    size_t len = 0;
    char *got = fs_read_file(path, &len, NULL, 0);
    assert_non_null(got);
    assert_int_equal(len, n);
    assert_memory_equal(got, data, n);
    assert_int_equal(got[n], '\0');
    free(got);
    free(data);
    free(path);
    rm_tree(dir);
}

static void test_fs_read_errors_name_the_path(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    char *missing = fs_join(dir, "nope.toml");
    char err[512] = "";
    size_t len = 7;
    assert_null(fs_read_file(missing, &len, err, sizeof err));
    char want[600];
    snprintf(want, sizeof want, "%s: %s", missing, strerror(ENOENT));
    assert_string_equal(err, want);
    /* A directory is not a readable file. */
    err[0] = '\0';
    assert_null(fs_read_file(dir, &len, err, sizeof err));
    snprintf(want, sizeof want, "%s: ", dir);
    assert_true(strncmp(err, want, strlen(want)) == 0);
    assert_true(strlen(err) > strlen(want));
    /* err may be NULL. */
    assert_null(fs_read_file(missing, &len, NULL, 0));
    free(missing);
    rm_tree(dir);
}

static void test_fs_write_round_trip(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    char *path = fs_join(dir, "out.bin");
    const char data[] = "binary\0data\n\xff";
    char err[256] = "";
    assert_int_equal(fs_write_file(path, data, sizeof data - 1, err, sizeof err), 0);
    size_t len = 0;
    char *got = fs_read_file(path, &len, err, sizeof err);
    assert_non_null(got);
    assert_int_equal(len, sizeof data - 1);
    assert_memory_equal(got, data, sizeof data - 1);
    free(got);
    /* Overwriting replaces the whole file (shorter content, no leftover tail). */
    assert_int_equal(fs_write_file(path, "hi", 2, err, sizeof err), 0);
    got = fs_read_file(path, &len, err, sizeof err);
    assert_int_equal(len, 2);
    assert_string_equal(got, "hi");
    free(got);
    /* An empty write makes an empty file. */
    assert_int_equal(fs_write_file(path, "", 0, err, sizeof err), 0);
    got = fs_read_file(path, &len, err, sizeof err);
    assert_int_equal(len, 0);
    free(got);
    free(path);
    rm_tree(dir);
}

static void test_fs_write_is_atomic(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    char *path = fs_join(dir, "state.json");
    put_file(path, "old");
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    /* A reader that opened the old file keeps seeing the old content: the write replaced the
     * directory entry (rename) instead of truncating the file in place. */
    FILE *reader = fopen(path, "rb");
    assert_non_null(reader);
    assert_int_equal(fs_write_file(path, "new content", 11, NULL, 0), 0);
    char old[16] = "";
    assert_int_equal(fread(old, 1, sizeof old - 1, reader), 3);
    assert_string_equal(old, "old");
    fclose(reader);
    assert_int_equal(stat(path, &after), 0);
    assert_true(before.st_ino != after.st_ino);
    /* No temporary file is left next to it. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s')\" = state.json", dir);
    assert_int_equal(system(cmd), 0);
    free(path);
    rm_tree(dir);
}

static void test_fs_write_errors_name_the_path(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    char *path = fs_join(dir, "no-such-dir/out.txt");
    char err[512] = "";
    assert_int_equal(fs_write_file(path, "x", 1, err, sizeof err), -1);
    /* The message names the file the caller asked for, not an internal temporary name. */
    char want[600];
    snprintf(want, sizeof want, "%s: %s", path, strerror(ENOENT));
    assert_string_equal(err, want);
    assert_int_equal(fs_write_file(path, "x", 1, NULL, 0), -1); /* err may be NULL */
    /* Writing onto a directory fails at the rename, again naming the path. */
    char *sub = fs_join(dir, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    err[0] = '\0';
    assert_int_equal(fs_write_file(sub, "x", 1, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: ", sub);
    assert_true(strncmp(err, want, strlen(want)) == 0);
    /* ... and leaves no temporary file behind. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s')\" = sub", dir);
    assert_int_equal(system(cmd), 0);
    free(sub);
    free(path);
    rm_tree(dir);
}

static void test_fs_stamp(void **state) {
    (void)state;
    char *dir = make_temp_dir();
    char *path = fs_join(dir, "watched.js");
    assert_int_equal(fs_stamp(path), 0); /* missing */
    put_file(path, "export default {}");
    uint64_t s1 = fs_stamp(path);
    assert_true(s1 != 0);
    assert_int_equal(fs_stamp(path), s1); /* stable while unchanged */
    /* A change of size is always seen, even within the clock's resolution. */
    put_file(path, "export default {};\n");
    uint64_t s2 = fs_stamp(path);
    assert_true(s2 != 0 && s2 != s1);
    /* Same size, new content, later time: seen through the mtime. */
    sleep_ms(30);
    put_file(path, "export default {};\r");
    uint64_t s3 = fs_stamp(path);
    assert_true(s3 != s2);
    /* An atomic replacement (new inode) is seen. */
    sleep_ms(30);
    assert_int_equal(fs_write_file(path, "export default {};\r", 19, NULL, 0), 0);
    uint64_t s4 = fs_stamp(path);
    assert_true(s4 != 0 && s4 != s3);
    /* Removing the file brings it back to 0. */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(fs_stamp(path), 0);
    free(path);
    rm_tree(dir);
}

/* ------------------------------------------------------------------------------------------
 * ids
 * ---------------------------------------------------------------------------------------- */

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1; /* uppercase is not allowed: the header promises lowercase */
}

static void assert_uuid_v4(const char *u) {
    assert_int_equal(strlen(u), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-') fail_msg("uuid %s: expected '-' at %d", u, i);
        } else if (hex_value(u[i]) < 0) {
            fail_msg("uuid %s: '%c' at %d is not a lowercase hex digit", u, u[i], i);
        }
    }
    if (u[14] != '4') fail_msg("uuid %s: version nibble is %c, not 4", u, u[14]);
    int variant = hex_value(u[19]);
    if ((variant & 0xC) != 0x8)
        fail_msg("uuid %s: variant nibble %c is not 8, 9, a or b", u, u[19]);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

static void test_uuid_v4(void **state) {
    (void)state;
    enum { N = 4096 };
    char(*ids)[37] = calloc(N, 37);
    assert_non_null(ids);
    /* Every bit outside version and variant must vary: OR and AND over all ids. */
    unsigned char any[36] = {0}, all[36];
    memset(all, 0xF, sizeof all);
    for (int i = 0; i < N; i++) {
        memset(ids[i], 'X', 37);
        uuid_v4(ids[i]);
        assert_int_equal(ids[i][36], '\0');
        assert_uuid_v4(ids[i]);
        for (int k = 0; k < 36; k++) {
            int v = hex_value(ids[i][k]);
            if (v < 0) continue;
            any[k] |= (unsigned char)v;
            all[k] &= (unsigned char)v;
        }
    }
    for (int k = 0; k < 36; k++) {
        if (k == 8 || k == 13 || k == 18 || k == 23 || k == 14) continue;
        unsigned want_any = k == 19 ? 0xB : 0xF, want_all = k == 19 ? 0x8 : 0x0;
        if (any[k] != want_any || all[k] != want_all)
            fail_msg("uuid position %d: bits never set %x or always set %x", k, any[k], all[k]);
    }
    qsort(ids, N, 37, cmp_str);
    for (int i = 1; i < N; i++)
        if (strcmp(ids[i - 1], ids[i]) == 0) fail_msg("duplicate uuid %s", ids[i]);
    free(ids);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_zero_is_empty),
        cmocka_unit_test(test_buf_reserve),
        cmocka_unit_test(test_buf_append_grows),
        cmocka_unit_test(test_buf_binary_data),
        cmocka_unit_test(test_buf_large_append),
        cmocka_unit_test(test_buf_printf),
        cmocka_unit_test(test_buf_consume),
        cmocka_unit_test(test_buf_clear_keeps_storage),
        cmocka_unit_test(test_buf_detach),
        cmocka_unit_test(test_fs_join),
        cmocka_unit_test(test_fs_is_file_and_dir),
        cmocka_unit_test(test_fs_read_file),
        cmocka_unit_test(test_fs_read_large_file),
        cmocka_unit_test(test_fs_read_errors_name_the_path),
        cmocka_unit_test(test_fs_write_round_trip),
        cmocka_unit_test(test_fs_write_is_atomic),
        cmocka_unit_test(test_fs_write_errors_name_the_path),
        cmocka_unit_test(test_fs_stamp),
        cmocka_unit_test(test_uuid_v4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
