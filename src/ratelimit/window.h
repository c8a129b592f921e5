/* window — the sliding-window counter both rate limit backends use.
 *
 * Time is cut into fixed windows of `period` seconds, aligned on the Unix epoch, and a key
 * keeps two counts: the current window's and the previous one's. The number of requests in
 * the last `period` seconds is estimated as
 *
 *     previous × (the share of the previous window still inside the last period) + current
 *
 * which assumes the previous window's requests were spread evenly over it. A request is
 * allowed when the estimate, counting it, stays within the limit. The estimate is exact when
 * traffic is steady and errs by at most the previous window's count otherwise (a burst at
 * the end of one window weighs less than it should for the first part of the next); it never
 * lets more than 2 × limit through in any period, and exactly `limit` in a window that
 * follows an idle one. docs/rate-limiting.md discusses the accuracy.
 *
 * All arithmetic is in integers (milliseconds), so every backend and process decides alike. */
#ifndef HEARTH_RATELIMIT_WINDOW_H
#define HEARTH_RATELIMIT_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

/* The window that contains now_ms. */
static inline uint64_t rl_window_index(uint64_t now_ms, uint32_t period_s) {
    return now_ms / ((uint64_t)period_s * 1000);
}

/* Whether a request is within the limit: `current` counts the requests of this window
 * including this one, `previous` those of the window before. */
static inline bool rl_window_allows(uint64_t previous, uint64_t current, uint64_t now_ms,
                                    uint32_t period_s, uint32_t limit) {
    uint64_t period_ms = (uint64_t)period_s * 1000;
    uint64_t elapsed = now_ms % period_ms;
    /* previous × (period − elapsed)/period + current ≤ limit, multiplied out by period. Counts
     * are far below 2^32 and periods below 2^17 ms, so nothing overflows. */
    if (previous > UINT32_MAX) previous = UINT32_MAX;
    if (current > UINT32_MAX) current = UINT32_MAX;
    return previous * (period_ms - elapsed) + current * period_ms <= (uint64_t)limit * period_ms;
}

#endif
