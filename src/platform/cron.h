/* cron — the platform's cron expressions (`[triggers] crons`), in UTC.
 *
 * Five fields, as Cloudflare documents them, with the Quartz-style extensions it supports:
 *
 *     minute 0-59 | hour 0-23 | day of month 1-31 | month 1-12 or JAN-DEC | weekday 1-7 or SUN-SAT
 *
 * `*`, lists `a,b`, ranges `a-b`, steps `*` + `/n`, `a/n` and `a-b/n` everywhere; in the day of
 * the month `L` (the last day), `LW` (the last weekday: Monday to Friday) and `nW` (the
 * weekday nearest day n, within the month); in the weekday `xL` (the last x of the month, e.g.
 * `6L` or `FRIL`: the last Friday) and `x#n` (the n-th x, e.g. `MON#2`). Weekdays count from
 * 1 = Sunday, as on the platform (so `2-6` is Monday to Friday); 0 is refused rather than
 * guessed. `?` means `*`. When both the day of the month and the weekday are restricted, a
 * day matching either runs (as classic cron does). */
#ifndef HEARTH_PLATFORM_CRON_H
#define HEARTH_PLATFORM_CRON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cron_expr {
    uint64_t minutes;        /* bit m: minute m */
    uint32_t hours;          /* bit h */
    uint32_t mdays;          /* bit d: day d of the month (1-31) */
    uint32_t mday_nearest;   /* bit d: "dW" */
    bool mday_last;          /* "L" */
    bool mday_last_weekday;  /* "LW" */
    uint16_t months;         /* bit m: month m (1-12) */
    uint8_t wdays;           /* bit w: weekday w (0 = Sunday) */
    uint8_t wday_last;       /* bit w: "the last w of the month" */
    uint8_t wday_nth[7];     /* bit n: "the n-th w of the month" (n = 1..5) */
    bool mday_any, wday_any; /* the field was * (or ?) */
} cron_expr;

/* Parses `text`; returns 0, or -1 with a message naming the field and what is wrong in err. */
int cron_parse(const char *text, cron_expr *out, char *err, size_t errlen);

/* Whether the minute containing unix_seconds (UTC) matches. */
bool cron_matches(const cron_expr *c, int64_t unix_seconds);

/* The first matching minute strictly after `after` (Unix seconds, UTC), as Unix seconds at the
 * start of that minute; -1 if none in the next five years (e.g. "0 0 30 FEB *"). */
int64_t cron_next(const cron_expr *c, int64_t after);

#endif
