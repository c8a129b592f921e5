/* cron — see cron.h. */
#include "platform/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const kFieldNames[5] = {"minute", "hour", "day of month", "month", "weekday"};
static const int kMin[5] = {0, 0, 1, 1, 1};
static const int kMax[5] = {59, 23, 31, 12, 7};
static const char *const kMonths[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                        "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const kWeekdays[7] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

typedef struct parser {
    const char *p, *end; /* the item being parsed */
    int field;
    char *err;
    size_t errlen;
} parser;

static int fail(parser *ps, const char *fmt, const char *detail) {
    char what[160];
    snprintf(what, sizeof what, fmt, detail);
    snprintf(ps->err, ps->errlen, "%s field: %s", kFieldNames[ps->field], what);
    return -1;
}

/* A number or (months, weekdays) a three-letter name, in the field's own numbering. */
static int value(parser *ps, int *out) {
    if (ps->p < ps->end && isdigit((unsigned char)*ps->p)) {
        int v = 0;
        while (ps->p < ps->end && isdigit((unsigned char)*ps->p) && v < 1000)
            v = v * 10 + (*ps->p++ - '0');
        *out = v;
    } else if (ps->end - ps->p >= 3 && (ps->field == 3 || ps->field == 4)) {
        const char *const *names = ps->field == 3 ? kMonths : kWeekdays;
        int n = ps->field == 3 ? 12 : 7, k = 0;
        while (k < n && strncasecmp(ps->p, names[k], 3) != 0) k++;
        if (k == n) return fail(ps, "unknown name \"%.3s\"", ps->p);
        ps->p += 3;
        *out = k + 1;
    } else {
        return fail(ps, "expected a number, found \"%s\"", ps->p < ps->end ? ps->p : "nothing");
    }
    if (*out == 0 && ps->field == 4)
        return fail(ps, "%sweekdays are 1-7 with 1 = Sunday (or SUN-SAT), as on the platform", "");
    if (*out < kMin[ps->field] || *out > kMax[ps->field]) {
        char range[32];
        snprintf(range, sizeof range, "%d-%d", kMin[ps->field], kMax[ps->field]);
        return fail(ps, "a value is outside %s", range);
    }
    return 0;
}

static void set_bits(cron_expr *c, int field, int from, int to, int step) {
    for (int v = from; v <= to; v += step) {
        switch (field) {
        case 0:
            c->minutes |= 1ull << v;
            break;
        case 1:
            c->hours |= 1u << v;
            break;
        case 2:
            c->mdays |= 1u << v;
            break;
        case 3:
            c->months |= (uint16_t)(1u << v);
            break;
        case 4:
            c->wdays |= (uint8_t)(1u << (v - 1));
            break;
        }
    }
}

/* One comma-separated item of a field. */
static int item(parser *ps, cron_expr *c) {
    int f = ps->field;
    size_t len = (size_t)(ps->end - ps->p);
    /* The day-of-month and weekday specials first. */
    if (f == 2 && len == 1 && *ps->p == 'L') return c->mday_last = true, 0;
    if (f == 2 && len == 2 && !strncasecmp(ps->p, "LW", 2)) return c->mday_last_weekday = true, 0;
    if (f == 2 && len >= 2 && toupper((unsigned char)ps->end[-1]) == 'W') {
        ps->end--;
        int d;
        if (value(ps, &d) != 0) return -1;
        if (ps->p != ps->end) return fail(ps, "\"W\" follows a single day, e.g. 15W%s", "");
        c->mday_nearest |= 1u << d;
        return 0;
    }
    if (f == 4 && len >= 2 && toupper((unsigned char)ps->end[-1]) == 'L') {
        ps->end--;
        int w;
        if (value(ps, &w) != 0) return -1;
        if (ps->p != ps->end) return fail(ps, "\"L\" follows a single weekday, e.g. 6L%s", "");
        c->wday_last |= (uint8_t)(1u << (w - 1));
        return 0;
    }
    const char *hash = f == 4 ? memchr(ps->p, '#', len) : NULL;
    if (hash) {
        const char *end = ps->end;
        ps->end = hash;
        int w;
        if (value(ps, &w) != 0) return -1;
        if (ps->p != ps->end) return fail(ps, "\"#\" follows a single weekday, e.g. MON#2%s", "");
        if (end - hash != 2 || hash[1] < '1' || hash[1] > '5')
            return fail(ps, "\"#\" is followed by 1 to 5 (the n-th weekday of the month)%s", "");
        c->wday_nth[w - 1] |= (uint8_t)(1u << (hash[1] - '0'));
        ps->p = end;
        return 0;
    }
    int from, to, step = 1;
    bool star = false;
    if (*ps->p == '*' || *ps->p == '?') {
        ps->p++;
        from = kMin[f];
        to = kMax[f];
        star = true;
    } else {
        if (value(ps, &from) != 0) return -1;
        to = from;
        if (ps->p < ps->end && *ps->p == '-') {
            ps->p++;
            if (value(ps, &to) != 0) return -1;
            if (to < from) return fail(ps, "a range runs backwards%s", "");
        }
    }
    if (ps->p < ps->end && *ps->p == '/') {
        ps->p++;
        step = 0;
        while (ps->p < ps->end && isdigit((unsigned char)*ps->p) && step < 1000)
            step = step * 10 + (*ps->p++ - '0');
        if (step < 1 || step > kMax[f])
            return fail(ps, "a step must be from 1 to the field's maximum%s", "");
        if (!star && to == from) to = kMax[f]; /* "a/n": from a to the end */
    }
    if (ps->p != ps->end) return fail(ps, "unexpected \"%s\"", ps->p);
    if (star && step == 1) {
        if (f == 2) c->mday_any = true;
        if (f == 4) c->wday_any = true;
    }
    set_bits(c, f, from, to, step);
    return 0;
}

int cron_parse(const char *text, cron_expr *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    char buf[256];
    if (strlen(text) >= sizeof buf) {
        snprintf(err, errlen, "the expression is too long");
        return -1;
    }
    snprintf(buf, sizeof buf, "%s", text);
    char *fields[6];
    int n = 0;
    for (char *save, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
        if (n == 6) break;
        fields[n++] = t;
    }
    if (n != 5) {
        snprintf(err, errlen,
                 "expected 5 fields (minute hour day-of-month month weekday), found %d", n);
        return -1;
    }
    for (int f = 0; f < 5; f++) {
        char *s = fields[f];
        for (char *save, *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            parser ps = {t, t + strlen(t), f, err, errlen};
            if (item(&ps, out) != 0) return -1;
        }
    }
    return 0;
}

/* ---- matching ---------------------------------------------------------------------------- */

static int days_in_month(int year, int month /* 1-12 */) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* The weekday (0 = Sunday) of day `mday` of the month whose day 1 is `wday1`. */
static int weekday_of(int wday1, int mday) {
    return (wday1 + mday - 1) % 7;
}

/* "nW": the weekday nearest day n, never leaving the month. */
static int nearest_weekday(int n, int last, int wday1) {
    if (n > last) n = last;
    int w = weekday_of(wday1, n);
    if (w == 6) return n == 1 ? 3 : n - 1;        /* Saturday: Friday, or Monday the 3rd */
    if (w == 0) return n == last ? n - 2 : n + 1; /* Sunday: Monday, or Friday before */
    return n;
}

static bool day_matches(const cron_expr *c, int year, int month, int mday, int wday) {
    if (!(c->months & (1u << month))) return false;
    int last = days_in_month(year, month);
    int wday1 = ((wday - (mday - 1)) % 7 + 7) % 7;
    bool by_mday = (c->mdays >> mday) & 1;
    if (c->mday_last && mday == last) by_mday = true;
    if (c->mday_last_weekday) {
        int d = last, w = weekday_of(wday1, d);
        while (w == 0 || w == 6) w = weekday_of(wday1, --d);
        if (mday == d) by_mday = true;
    }
    for (int n = 1; n <= 31 && c->mday_nearest; n++)
        if (((c->mday_nearest >> n) & 1) && nearest_weekday(n, last, wday1) == mday) by_mday = true;
    bool by_wday = (c->wdays >> wday) & 1;
    if (((c->wday_last >> wday) & 1) && mday + 7 > last) by_wday = true;
    if ((c->wday_nth[wday] >> ((mday - 1) / 7 + 1)) & 1) by_wday = true;
    /* Classic cron: with both fields restricted, either may match; a * defers to the other. */
    if (c->mday_any && c->wday_any) return true;
    if (c->mday_any) return by_wday;
    if (c->wday_any) return by_mday;
    return by_mday || by_wday;
}

bool cron_matches(const cron_expr *c, int64_t unix_seconds) {
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    return ((c->minutes >> tm.tm_min) & 1) && ((c->hours >> tm.tm_hour) & 1) &&
           day_matches(c, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_wday);
}

int64_t cron_next(const cron_expr *c, int64_t after) {
    int64_t start = (after / 60 + 1) * 60; /* the next whole minute */
    int64_t day = start / 86400 * 86400;
    for (int i = 0; i < 5 * 366 + 2; i++, day += 86400) {
        time_t t = (time_t)day;
        struct tm tm;
        gmtime_r(&t, &tm);
        if (!day_matches(c, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_wday)) continue;
        for (int h = 0; h < 24; h++) {
            if (!((c->hours >> h) & 1)) continue;
            for (int m = 0; m < 60; m++) {
                int64_t at = day + h * 3600 + m * 60;
                if (at >= start && ((c->minutes >> m) & 1)) return at;
            }
        }
    }
    return -1;
}
