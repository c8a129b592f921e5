/* memcached_reply — see memcached_reply.h for the grammar.
 *
 * Every decision is taken on bytes already seen, scanning forward, so a prefix of a reply can
 * only ever give "need more" or the same rejection the whole reply gives: that is what makes
 * the result independent of how reads split the stream (the fuzz target checks it). */
#include "ratelimit/memcached_reply.h"

#include <stdbool.h>
#include <string.h>

static const struct {
    const char *code;
    mc_reply_type type;
} codes[] = {
    {"HD", MC_REPLY_HD},
    {"VA", MC_REPLY_VA},
    {"EN", MC_REPLY_EN},
    {"NF", MC_REPLY_NF},
    {"NS", MC_REPLY_NS},
    {"EX", MC_REPLY_EX},
    {"MN", MC_REPLY_MN},
    {"ERROR", MC_REPLY_ERROR},
    {"CLIENT_ERROR", MC_REPLY_CLIENT_ERROR},
    {"SERVER_ERROR", MC_REPLY_SERVER_ERROR},
};
#define NCODES (sizeof codes / sizeof *codes)

const char *mc_reply_type_name(mc_reply_type t) {
    for (size_t i = 0; i < NCODES; i++)
        if (codes[i].type == t) return codes[i].code;
    return "?";
}

/* The code the bytes start with, as an index into codes[] (its length in *code_len), -2 when
 * more bytes are needed to tell, -1 when no reply starts this way. A code ends at a space or
 * the CR of its line, so "ERRORS" is not "ERROR". */
static int match_code(const char *p, size_t len, size_t *code_len) {
    bool maybe = false;
    for (size_t i = 0; i < NCODES; i++) {
        size_t k = strlen(codes[i].code);
        if (memcmp(p, codes[i].code, len < k ? len : k) != 0) continue;
        if (len <= k) {
            maybe = true;
        } else if (p[k] == ' ' || p[k] == '\r') {
            *code_len = k;
            return (int)i;
        }
    }
    return maybe ? -2 : -1;
}

static bool is_error_type(mc_reply_type t) {
    return t == MC_REPLY_ERROR || t == MC_REPLY_CLIENT_ERROR || t == MC_REPLY_SERVER_ERROR;
}

/* Flags are protocol tokens: printable ASCII. Error messages are free text, but still one line
 * of it: no control characters besides tab. */
static bool flag_char(unsigned char c) {
    return c >= 0x20 && c <= 0x7e;
}
static bool msg_char(unsigned char c) {
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

static void find_opaque(mc_reply *r) {
    const char *p = r->flags, *end = r->flags + r->flags_len;
    while (p < end) {
        const char *tok = p;
        while (p < end && *p != ' ') p++;
        if (p > tok && tok[0] == 'O') {
            r->opaque = tok + 1;
            r->opaque_len = (size_t)(p - tok - 1);
            return;
        }
        while (p < end && *p == ' ') p++;
    }
}

ptrdiff_t mc_reply_parse(const char *p, size_t len, mc_reply *out) {
    if (len == 0) return 0;
    size_t code_len = 0;
    int code = match_code(p, len, &code_len);
    if (code == -1) return -1;
    if (code == -2) return 0;
    mc_reply_type type = codes[code].type;
    bool error = is_error_type(type);

    /* The rest of the line: nothing, or a space and text, then CRLF. A line that has not ended
     * within MC_REPLY_MAX_LINE bytes never will be a reply. */
    size_t limit = len < MC_REPLY_MAX_LINE ? len : MC_REPLY_MAX_LINE;
    size_t text = p[code_len] == ' ' ? code_len + 1 : code_len;
    size_t i = text;
    for (;; i++) {
        if (i >= limit) return len >= MC_REPLY_MAX_LINE ? -1 : 0;
        unsigned char c = (unsigned char)p[i];
        if (c == '\r') {
            if (i + 1 >= limit) return len >= MC_REPLY_MAX_LINE ? -1 : 0;
            if (p[i + 1] != '\n') return -1;
            break;
        }
        if (!(error ? msg_char(c) : flag_char(c))) return -1;
    }
    size_t text_len = i - text, line_end = i + 2;

    mc_reply r = {.type = type};
    if (error) {
        r.msg = p + text;
        r.msg_len = text_len;
        *out = r;
        return (ptrdiff_t)line_end;
    }
    r.flags = p + text;
    r.flags_len = text_len;
    if (type == MC_REPLY_VA) {
        /* "VA <datalen>[ flags]" and then the data block with its own CRLF. */
        if (text == code_len) return -1; /* "VA" alone */
        size_t n = 0, d = 0;
        while (d < text_len && is_digit(r.flags[d])) {
            n = n * 10 + (size_t)(r.flags[d] - '0');
            if (n > MC_REPLY_MAX_VALUE) return -1;
            d++;
        }
        if (d == 0 || (d < text_len && r.flags[d] != ' ')) return -1;
        if (d < text_len) d++; /* the space before the flags */
        r.flags += d;
        r.flags_len -= d;
        if (len - line_end < n + 2) return 0;
        if (p[line_end + n] != '\r' || p[line_end + n + 1] != '\n') return -1;
        r.data = p + line_end;
        r.data_len = n;
        line_end += n + 2;
    }
    find_opaque(&r);
    *out = r;
    return (ptrdiff_t)line_end;
}

int mc_reply_number(const char *p, size_t len, uint64_t *out) {
    size_t i = 0;
    uint64_t v = 0;
    if (len == 0 || !is_digit(p[0])) return -1;
    for (; i < len && is_digit(p[i]); i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    while (i < len && p[i] == ' ') i++;
    if (i != len) return -1;
    *out = v;
    return 0;
}
