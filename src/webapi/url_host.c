/* url_host.c: the URL Standard's host parser (IPv6 literals, opaque hosts, domains and the
 * IPv4 forms that domains may turn out to be) and host serialization. Domain to ASCII itself
 * is in url_idna.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "webapi/url.h"
#include "webapi/url_internal.h"

static bool is_digit(int c) {
    return c >= '0' && c <= '9';
}
static bool is_hex(int c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static unsigned hex_value(int c) {
    if (is_digit(c)) return (unsigned)(c - '0');
    return (unsigned)((c | 0x20) - 'a' + 10);
}

static bool is_forbidden_host_cp(unsigned char c) {
    return c == 0 || (c < 0x80 && strchr("\t\n\r #/:<>?@[\\]^|", c) != NULL);
}

/* ---- IPv6 ---- */

/* The IPv6 parser over s[0..n) (the text between the brackets). */
static bool ipv6_parse(const unsigned char *s, size_t n, uint16_t addr[8]) {
    memset(addr, 0, 8 * sizeof *addr);
    int piece = 0, compress = -1;
    size_t p = 0;
#define C (p < n ? s[p] : -1)
    if (C == ':') {
        if (p + 1 >= n || s[p + 1] != ':') return false;
        p += 2;
        compress = ++piece;
    }
    while (C != -1) {
        if (piece == 8) return false;
        if (C == ':') {
            if (compress != -1) return false;
            p++;
            compress = ++piece;
            continue;
        }
        unsigned value = 0, length = 0;
        while (length < 4 && is_hex(C)) {
            value = value * 16 + hex_value(C);
            p++, length++;
        }
        if (C == '.') {
            /* An IPv4 address in the last two pieces: "::ffff:1.2.3.4". */
            if (length == 0) return false;
            p -= length;
            if (piece > 6) return false;
            int numbers_seen = 0;
            while (C != -1) {
                int v4 = -1;
                if (numbers_seen > 0) {
                    if (C == '.' && numbers_seen < 4)
                        p++;
                    else
                        return false;
                }
                if (!is_digit(C)) return false;
                while (is_digit(C)) {
                    int number = C - '0';
                    if (v4 == -1)
                        v4 = number;
                    else if (v4 == 0)
                        return false; /* no leading zeros */
                    else
                        v4 = v4 * 10 + number;
                    if (v4 > 255) return false;
                    p++;
                }
                addr[piece] = (uint16_t)(addr[piece] * 0x100 + v4);
                numbers_seen++;
                if (numbers_seen == 2 || numbers_seen == 4) piece++;
            }
            if (numbers_seen != 4) return false;
            break;
        } else if (C == ':') {
            p++;
            if (C == -1) return false;
        } else if (C != -1) {
            return false;
        }
        addr[piece++] = (uint16_t)value;
    }
#undef C
    if (compress != -1) {
        int swaps = piece - compress;
        piece = 7;
        while (piece != 0 && swaps > 0) {
            uint16_t t = addr[piece];
            addr[piece] = addr[compress + swaps - 1];
            addr[compress + swaps - 1] = t;
            piece--, swaps--;
        }
    } else if (piece != 8) {
        return false;
    }
    return true;
}

static void ipv6_serialize(buf *out, const uint16_t addr[8]) {
    /* Compress the first longest run of two or more zero pieces. */
    int compress = -1, longest = 1;
    for (int i = 0; i < 8;) {
        if (addr[i]) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && !addr[j]) j++;
        if (j - i > longest) longest = j - i, compress = i;
        i = j;
    }
    url_putc(out, '[');
    bool ignore0 = false;
    for (int i = 0; i < 8; i++) {
        if (ignore0 && !addr[i]) continue;
        ignore0 = false;
        if (compress == i) {
            buf_puts(out, i == 0 ? "::" : ":");
            ignore0 = true;
            continue;
        }
        buf_printf(out, "%x", addr[i]);
        if (i != 7) url_putc(out, ':');
    }
    url_putc(out, ']');
}

/* ---- IPv4 ---- */

/* Values above this are all equally out of range; saturating keeps the arithmetic safe. */
#define IPV4_TOO_BIG ((uint64_t)1 << 40)

/* The IPv4 number parser: decimal, "0x" hex, or "0" octal. */
static bool ipv4_number(const char *s, size_t n, uint64_t *out) {
    if (n == 0) return false;
    unsigned radix = 10;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2, n -= 2, radix = 16;
    } else if (n >= 2 && s[0] == '0') {
        s++, n--, radix = 8;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        unsigned d;
        if (radix == 16 && is_hex(c))
            d = hex_value(c);
        else if (is_digit(c) && (unsigned)(c - '0') < radix)
            d = (unsigned)(c - '0');
        else
            return false;
        v = v * radix + d;
        if (v > IPV4_TOO_BIG) v = IPV4_TOO_BIG;
    }
    *out = v;
    return true;
}

/* The ends in a number checker, on an ASCII domain. */
static bool ends_in_number(const char *s, size_t n) {
    if (n && s[n - 1] == '.') {
        n--;
        if (n == 0) return false;
    }
    size_t start = n;
    while (start > 0 && s[start - 1] != '.') start--;
    const char *last = s + start;
    size_t len = n - start;
    if (len == 0) return false;
    bool digits = true;
    for (size_t i = 0; i < len; i++) digits &= is_digit(last[i]);
    if (digits) return true;
    uint64_t ignored;
    return len >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') &&
           ipv4_number(last, len, &ignored);
}

/* The IPv4 parser: the address s[0..n) denotes, or false. */
static bool ipv4_parse(const char *s, size_t n, uint32_t *address) {
    uint64_t numbers[4];
    size_t count = 0;
    if (n && s[n - 1] == '.') n--; /* one trailing empty part is allowed */
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') continue;
        if (count == 4) return false;
        if (!ipv4_number(s + start, i - start, &numbers[count++])) return false;
        start = i + 1;
    }
    for (size_t i = 0; i + 1 < count; i++)
        if (numbers[i] > 255) return false;
    uint64_t limit = (uint64_t)1 << (8 * (5 - count));
    if (numbers[count - 1] >= limit) return false;
    uint64_t ipv4 = numbers[count - 1];
    for (size_t i = 0; i + 1 < count; i++) ipv4 += numbers[i] << (8 * (3 - i));
    *address = (uint32_t)ipv4;
    return true;
}

static void ipv4_serialize(buf *out, uint32_t address) {
    for (int shift = 24; shift >= 0; shift -= 8) {
        url_append_uint(out, (address >> shift) & 255);
        if (shift) url_putc(out, '.');
    }
}

/* ---- The host parser ---- */

static int host_fail(const char **err, const char *why) {
    *err = why;
    return -1;
}

int url_host_parse_into(buf *out, const unsigned char *in, size_t n, bool is_opaque,
                        const char **err) {
    if (n && in[0] == '[') {
        uint16_t addr[8];
        if (in[n - 1] != ']') return host_fail(err, "unclosed IPv6 address");
        if (n < 2 || !ipv6_parse(in + 1, n - 2, addr))
            return host_fail(err, "invalid IPv6 address");
        ipv6_serialize(out, addr);
        return 0;
    }
    if (is_opaque) {
        for (size_t i = 0; i < n; i++)
            if (is_forbidden_host_cp(in[i])) return host_fail(err, "forbidden host code point");
        url_encode_append(out, in, n, URL_ENCODE_C0_CONTROL);
        return 0;
    }
    /* Percent-decode only when there is something to decode (rarely). */
    buf decoded = {0};
    if (memchr(in, '%', n)) {
        url_decode_append(&decoded, in, n);
        in = (const unsigned char *)decoded.data;
        n = decoded.len;
        /* Decoding can produce invalid UTF-8, which reads as U+FFFD: never a valid domain. */
        if (!url_utf8_is_valid(in, n)) {
            buf_free(&decoded);
            return host_fail(err, "invalid host");
        }
    }
    size_t mark = out->len;
    int rc = url_domain_to_ascii_into(out, in, n, false, err);
    buf_free(&decoded);
    if (rc < 0) return -1;
    if (!ends_in_number(out->data + mark, out->len - mark)) return 0;
    /* A domain that ends in a number must be an IPv4 address. */
    uint32_t address;
    if (!ipv4_parse(out->data + mark, out->len - mark, &address))
        return host_fail(err, "invalid IPv4 address");
    out->len = mark;
    out->data[mark] = '\0';
    ipv4_serialize(out, address);
    return 0;
}

char *url_host_parse(const char *input, size_t len, bool is_opaque, const char **err) {
    /* The host parser takes a scalar value string: make the bytes well-formed UTF-8 first. */
    buf clean = {0}, out = {0};
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        i += url_utf8_decode((const unsigned char *)input + i, len - i, &cp);
        url_utf8_append(&clean, cp);
    }
    const char *why = NULL;
    int rc = url_host_parse_into(&out, (const unsigned char *)(clean.data ? clean.data : ""),
                                 clean.len, is_opaque, &why);
    buf_free(&clean);
    if (rc < 0) {
        buf_free(&out);
        if (err) *err = why;
        return NULL;
    }
    return buf_detach(&out, NULL);
}
