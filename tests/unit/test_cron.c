/* Unit tests for cron expressions (src/platform/cron.c): parsing and its errors, the
 * platform's extensions (L, W, LW, xL, x#n, names, 1 = Sunday), and the next run time across
 * month ends, leap years and both day fields. All times UTC. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "platform/cron.h"

/* Unix seconds of a UTC date and time. */
static int64_t at(int y, int mo, int d, int h, int mi) {
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm);
}

static cron_expr parse_ok(const char *text) {
    cron_expr c;
    char err[200] = "";
    if (cron_parse(text, &c, err, sizeof err) != 0) fail_msg("\"%s\" refused: %s", text, err);
    return c;
}

static void expect_next(const char *text, int64_t after, int64_t want) {
    cron_expr c = parse_ok(text);
    int64_t got = cron_next(&c, after);
    if (got != want) {
        char g[64] = "none", w[64] = "none";
        time_t tg = (time_t)got, tw = (time_t)want;
        if (got >= 0) strftime(g, sizeof g, "%Y-%m-%d %H:%M %a", gmtime(&tg));
        if (want >= 0) strftime(w, sizeof w, "%Y-%m-%d %H:%M %a", gmtime(&tw));
        fail_msg("\"%s\": next is %s, expected %s", text, g, w);
    }
}

static void test_basic_fields(void **state) {
    (void)state;
    int64_t t = at(2026, 11, 22, 15, 30); /* a Sunday */
    expect_next("* * * * *", t, at(2026, 11, 22, 15, 31));
    expect_next("* * * * *", t + 59, at(2026, 11, 22, 15, 31));
    expect_next("*/30 * * * *", t, at(2026, 11, 22, 16, 0));
    expect_next("45 * * * *", t, at(2026, 11, 22, 15, 45));
    expect_next("0 17 * * sun", t, at(2026, 11, 22, 17, 0));
    expect_next("0 17 * * 1", t, at(2026, 11, 22, 17, 0)); /* 1 = Sunday */
    expect_next("10 7 * * mon-fri", t, at(2026, 11, 23, 7, 10));
    expect_next("10 7 * * 2-6", t, at(2026, 11, 23, 7, 10));
    expect_next("0 15 1 * *", t, at(2026, 12, 1, 15, 0));
    expect_next("5,10 0 * JAN *", t, at(2027, 1, 1, 0, 5));
    expect_next("3-59/15 * * * *", t, at(2026, 11, 22, 15, 33));
    expect_next("0 0/6 * * *", t, at(2026, 11, 22, 18, 0));
    expect_next("0 0 29 2 *", t, at(2028, 2, 29, 0, 0)); /* the next leap day */
    expect_next("0 0 30 2 *", t, -1);
    /* Both day fields restricted: either one. The 1st of December 2026 is a Tuesday. */
    expect_next("0 12 1 * MON", t, at(2026, 11, 23, 12, 0));
    expect_next("0 12 1 * TUE", at(2026, 11, 25, 0, 0), at(2026, 12, 1, 12, 0));
}

static void test_extensions(void **state) {
    (void)state;
    int64_t t = at(2026, 11, 22, 15, 30);
    expect_next("0 9 L * *", t, at(2026, 11, 30, 9, 0));
    expect_next("0 9 L * *", at(2027, 2, 1, 0, 0), at(2027, 2, 28, 9, 0));
    expect_next("0 18 * * 6L", t, at(2026, 11, 27, 18, 0)); /* the last Friday */
    expect_next("0 18 * * friL", t, at(2026, 11, 27, 18, 0));
    /* The last weekday: 31 January 2027 is a Sunday, so Friday the 29th. */
    expect_next("59 23 LW * *", at(2027, 1, 2, 0, 0), at(2027, 1, 29, 23, 59));
    expect_next("0 10 * * MON#2", t, at(2026, 12, 14, 10, 0));
    expect_next("0 10 * * 2#2", t, at(2026, 12, 14, 10, 0));
    /* 15W: 15 August 2026 is a Saturday → Friday the 14th; 1W on Saturday 1 May 2027 → Monday
     * the 3rd; 31W on Sunday 31 January 2027 → Friday the 29th. */
    expect_next("0 8 15W * *", at(2026, 8, 1, 0, 0), at(2026, 8, 14, 8, 0));
    expect_next("0 8 1W * *", at(2027, 4, 20, 0, 0), at(2027, 5, 3, 8, 0));
    expect_next("0 8 31W 1 *", at(2026, 12, 1, 0, 0), at(2027, 1, 29, 8, 0));
    expect_next("0 0 ? * 7", t, at(2026, 11, 28, 0, 0)); /* 7 = Saturday */
}

static void test_matches(void **state) {
    (void)state;
    cron_expr c = parse_ok("*/5 9-17 * * MON-FRI");
    assert_true(cron_matches(&c, at(2026, 11, 23, 9, 0)));
    assert_true(cron_matches(&c, at(2026, 11, 23, 9, 0) + 59));
    assert_false(cron_matches(&c, at(2026, 11, 23, 9, 1)));
    assert_false(cron_matches(&c, at(2026, 11, 22, 9, 0))); /* Sunday */
    assert_false(cron_matches(&c, at(2026, 11, 23, 18, 0)));
}

static void expect_error(const char *text, const char *words) {
    cron_expr c;
    char err[200] = "";
    if (cron_parse(text, &c, err, sizeof err) == 0) fail_msg("\"%s\" accepted", text);
    if (!strstr(err, words)) fail_msg("\"%s\": error \"%s\" lacks \"%s\"", text, err, words);
}

static void test_errors(void **state) {
    (void)state;
    expect_error("* * * *", "expected 5 fields");
    expect_error("* * * * * *", "expected 5 fields");
    expect_error("", "expected 5 fields");
    expect_error("60 * * * *", "minute field: a value is outside 0-59");
    expect_error("* 24 * * *", "hour field: a value is outside 0-23");
    expect_error("* * 0 * *", "day of month field: a value is outside 1-31");
    expect_error("* * * 13 *", "month field: a value is outside 1-12");
    expect_error("* * * * 0", "weekday field: weekdays are 1-7 with 1 = Sunday");
    expect_error("* * * * 8", "weekday field: a value is outside 1-7");
    expect_error("* * * FOO *", "month field: unknown name \"FOO\"");
    expect_error("5-1 * * * *", "a range runs backwards");
    expect_error("*/0 * * * *", "a step must be");
    expect_error("1x * * * *", "unexpected \"x\"");
    expect_error("* * * * MON#6", "1 to 5");
    expect_error("* * 1-2W * *", "\"W\" follows a single day");
    expect_error("* * * * a", "expected a number");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_fields),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_matches),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
