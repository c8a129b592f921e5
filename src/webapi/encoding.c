/* Text encoding ops: UTF-8 for TextEncoder/TextDecoder, and forgiving base64 for atob/btoa.
 * The algorithms are the Encoding Standard's and the HTML Standard's. */
#include "webapi/encoding.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "js/engine.h"

/* ---- UTF-8 decoding (Encoding Standard "UTF-8 decoder") --------------------------------- */

/* Length of a complete, valid sequence at p (1-4), or 0 if the bytes at p are not a valid
 * sequence; *maximal gets the length of the maximal subpart to replace with one U+FFFD, or
 * 0 when the input ends in the middle of a sequence that could still be completed. */
static size_t utf8_sequence(const uint8_t *p, size_t avail, size_t *maximal) {
    uint8_t b = p[0];
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF)
        need = 1;
    else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        *maximal = 1;
        return 0;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= avail) {
            *maximal = 0; /* truncated: more input could complete it */
            return 0;
        }
        uint8_t c = p[i];
        if (c < lo || c > hi) {
            *maximal = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

size_t utf8_decode(const uint8_t *in, size_t len, bool stream, bool fatal, buf *out, bool *error) {
    static const char replacement[] = "\xEF\xBF\xBD";
    size_t i = 0, run = 0; /* run: start of valid bytes not yet copied */
    *error = false;
    while (i < len) {
        if (in[i] < 0x80) {
            i++;
            continue;
        }
        size_t maximal = 0;
        size_t n = utf8_sequence(in + i, len - i, &maximal);
        if (n) {
            i += n;
            continue;
        }
        if (maximal == 0 && stream) break; /* keep the incomplete tail for the next chunk */
        buf_append(out, in + run, i - run);
        if (fatal) {
            *error = true;
            return i;
        }
        buf_append(out, replacement, 3);
        i += maximal ? maximal : len - i; /* a truncated tail at the very end: one U+FFFD */
        run = i;
    }
    buf_append(out, in + run, i - run);
    return i;
}

/* utf8Decode(bytes, fatal, stream) → [text, consumed] or throws TypeError when fatal. The
 * caller keeps bytes[consumed:] when streaming; a BOM is the caller's to strip. */
static void op_utf8_decode(js_call *c) {
    size_t len;
    const uint8_t *in = js_arg_bytes(c, 0, &len);
    bool fatal = js_arg_bool(c, 1);
    bool stream = js_arg_bool(c, 2);
    if (js_bytes_are_ascii(in, len)) {
        /* ASCII (most JSON and HTML) decodes to itself: no copy until the string is made. */
        js_ret_list(c);
        js_ret_push_latin1_ref(c, (const char *)in, len);
        js_ret_push_number(c, (double)len);
        return;
    }
    buf out = {0};
    bool error;
    size_t consumed = utf8_decode(in, len, stream, fatal, &out, &error);
    if (error) {
        buf_free(&out);
        js_throw(c, "TypeError", "The encoded data was not valid for encoding utf-8");
        return;
    }
    js_ret_list(c);
    js_ret_push_string(c, out.data ? out.data : "", out.len);
    js_ret_push_number(c, (double)consumed);
    buf_free(&out);
}

/* utf8Encode(string) → ArrayBuffer. Lone surrogates were already replaced by U+FFFD when the
 * string was read. */
static void op_utf8_encode(js_call *c) {
    size_t len;
    const char *s = js_arg_string(c, 0, &len);
    js_ret_bytes(c, s, len);
}

/* ---- base64 ------------------------------------------------------------------------------ */

static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const uint8_t *in, size_t len, buf *out) {
    buf_reserve(out, (len + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        char q[4] = {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], kB64[v & 63]};
        buf_append(out, q, 4);
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0);
        char q[4] = {kB64[v >> 18], kB64[(v >> 12) & 63], i + 1 < len ? kB64[(v >> 6) & 63] : '=',
                     '='};
        buf_append(out, q, 4);
    }
}

static int b64_value(uint8_t c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* The HTML Standard's forgiving-base64 decode. Returns false on invalid input. */
bool base64_decode_forgiving(const uint8_t *in, size_t len, buf *out) {
    buf clean = {0};
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r') continue;
        buf_putc(&clean, (char)c);
    }
    size_t n = clean.len;
    const uint8_t *s = (const uint8_t *)clean.data;
    if (n % 4 == 0 && n >= 1 && s[n - 1] == '=') {
        n--;
        if (n >= 1 && s[n - 1] == '=') n--;
    }
    bool ok = n % 4 != 1;
    for (size_t i = 0; ok && i < n; i++) ok = b64_value(s[i]) >= 0;
    if (ok) {
        uint32_t acc = 0;
        int bits = 0;
        for (size_t i = 0; i < n; i++) {
            acc = acc << 6 | (uint32_t)b64_value(s[i]);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                buf_putc(out, (char)((acc >> bits) & 0xFF));
            }
        }
    }
    buf_free(&clean);
    return ok;
}

/* base64Encode(latin1String | bytes) → string (btoa checks for wide characters first). */
static void op_base64_encode(js_call *c) {
    size_t len;
    const uint8_t *in;
    if (js_arg_is_string(c, 0))
        in = (const uint8_t *)js_arg_latin1(c, 0, &len);
    else
        in = js_arg_bytes(c, 0, &len);
    if (!in) return;
    buf out = {0};
    base64_encode(in, len, &out);
    js_ret_latin1(c, out.data ? out.data : "", out.len);
    buf_free(&out);
}

/* base64Decode(string, asBytes) → latin1 string (atob) or ArrayBuffer; null if invalid. */
static void op_base64_decode(js_call *c) {
    size_t len;
    const char *in = js_arg_latin1(c, 0, &len);
    if (!in) {
        js_ret_null(c); /* characters above U+00FF can never be base64 */
        return;
    }
    bool as_bytes = js_arg_bool(c, 1);
    buf out = {0};
    if (!base64_decode_forgiving((const uint8_t *)in, len, &out)) {
        js_ret_null(c);
    } else if (as_bytes) {
        js_ret_bytes(c, out.data ? out.data : "", out.len);
    } else {
        js_ret_latin1(c, out.data ? out.data : "", out.len);
    }
    buf_free(&out);
}

static const js_op encoding_ops[] = {
    {"utf8Decode", op_utf8_decode},
    {"utf8Encode", op_utf8_encode},
    {"base64Encode", op_base64_encode},
    {"base64Decode", op_base64_decode},
};

void encoding_ops_register(void) {
    js_ops_register(encoding_ops, sizeof encoding_ops / sizeof encoding_ops[0]);
}
