/* Unit tests for src/webapi/encoding.c: the UTF-8 decoder behind TextDecoder (Encoding
 * Standard, "UTF-8 decode": one U+FFFD per maximal subpart of an ill-formed sequence, streaming
 * and fatal modes) and base64 for btoa/atob (HTML Standard, "forgiving-base64 decode"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "webapi/encoding.h"

#define FFFD "\xEF\xBF\xBD"

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------------- */

/* Byte string literals with their length (they may contain NUL). */
#define BYTES(s) (const uint8_t *)(s), sizeof(s) - 1

static void fail_bytes(const char *what, const uint8_t *in, size_t len, const char *got,
                       size_t got_len, const char *want, size_t want_len) {
    char a[512] = "", b[512] = "", c[512] = "";
    for (size_t i = 0; i < len && i < 100; i++) sprintf(a + strlen(a), "%02X ", in[i]);
    for (size_t i = 0; i < got_len && i < 100; i++)
        sprintf(b + strlen(b), "%02X ", (uint8_t)got[i]);
    for (size_t i = 0; i < want_len && i < 100; i++)
        sprintf(c + strlen(c), "%02X ", (uint8_t)want[i]);
    fail_msg("%s of [%s]:\n  got  [%s]\n  want [%s]", what, a, b, c);
}

/* Decodes in one call and checks the output, the bytes consumed and the error flag. */
static void expect_decode(const uint8_t *in, size_t len, bool stream, bool fatal,
                          const void *want_bytes, size_t want_len, size_t want_consumed,
                          bool want_error) {
    const char *want = want_bytes;
    buf out = {0};
    bool error = !want_error; /* must be set either way */
    size_t consumed = utf8_decode(in, len, stream, fatal, &out, &error);
    const char *got = out.data ? out.data : "";
    if (out.len != want_len || memcmp(got, want, want_len) != 0)
        fail_bytes("utf8_decode", in, len, got, out.len, want, want_len);
    if (consumed != want_consumed)
        fail_msg("utf8_decode consumed %zu bytes, want %zu", consumed, want_consumed);
    if (error != want_error) fail_msg("utf8_decode error = %d, want %d", error, want_error);
    if (out.data) assert_int_equal(out.data[out.len], '\0');
    buf_free(&out);
}

/* Non-streaming, non-fatal: the whole input is consumed. */
#define DECODES_TO(in, want)                                                                       \
    expect_decode(BYTES(in), false, false, BYTES(want), sizeof(in) - 1, false)

static char *encode(const uint8_t *in, size_t len) {
    buf out = {0};
    base64_encode(in, len, &out);
    return buf_detach(&out, NULL);
}

static void expect_b64_decode(const char *in, const char *want, size_t want_len) {
    buf out = {0};
    if (!base64_decode_forgiving((const uint8_t *)in, strlen(in), &out))
        fail_msg("base64 \"%s\" rejected", in);
    const char *got = out.data ? out.data : "";
    if (out.len != want_len || memcmp(got, want, want_len) != 0)
        fail_bytes("base64_decode_forgiving", (const uint8_t *)in, strlen(in), got, out.len, want,
                   want_len);
    buf_free(&out);
}

static void expect_b64_invalid(const uint8_t *in, size_t len) {
    buf out = {0};
    if (base64_decode_forgiving(in, len, &out))
        fail_bytes("accepted base64", in, len, out.data ? out.data : "", out.len, "", 0);
    assert_int_equal(out.len, 0); /* nothing half-decoded is left behind */
    buf_free(&out);
}

#define B64_OK(in, want) expect_b64_decode(in, want, sizeof(want) - 1)
#define B64_INVALID(in)  expect_b64_invalid(BYTES(in))

/* ------------------------------------------------------------------------------------------
 * UTF-8 decoding
 * ---------------------------------------------------------------------------------------- */

static void test_utf8_valid_passes_through(void **state) {
    (void)state;
    DECODES_TO("", "");
    DECODES_TO("plain ASCII\n\t~", "plain ASCII\n\t~");
    DECODES_TO("a\0b", "a\0b"); /* NUL is a character like any other */
    /* The first and last code point of every sequence length, and around the surrogates. */
    DECODES_TO("\x7F", "\x7F");
    DECODES_TO("\xC2\x80", "\xC2\x80");                 /* U+0080 */
    DECODES_TO("\xDF\xBF", "\xDF\xBF");                 /* U+07FF */
    DECODES_TO("\xE0\xA0\x80", "\xE0\xA0\x80");         /* U+0800 */
    DECODES_TO("\xED\x9F\xBF", "\xED\x9F\xBF");         /* U+D7FF */
    DECODES_TO("\xEE\x80\x80", "\xEE\x80\x80");         /* U+E000 */
    DECODES_TO("\xEF\xBF\xBF", "\xEF\xBF\xBF");         /* U+FFFF */
    DECODES_TO("\xF0\x90\x80\x80", "\xF0\x90\x80\x80"); /* U+10000 */
    DECODES_TO("\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF"); /* U+10FFFF */
    /* A BOM is the caller's to strip: the decoder keeps it. */
    DECODES_TO("\xEF\xBB\xBFx", "\xEF\xBB\xBFx");
    DECODES_TO("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80!",
               "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80!");
    /* U+FFFD itself is valid. */
    DECODES_TO(FFFD, FFFD);
}

static void test_utf8_overlong(void **state) {
    (void)state;
    DECODES_TO("\xC0\x80", FFFD FFFD);
    DECODES_TO("\xC1\xBF", FFFD FFFD);
    DECODES_TO("\xE0\x80\x80", FFFD FFFD FFFD);
    DECODES_TO("\xE0\x9F\xBF", FFFD FFFD FFFD);
    DECODES_TO("\xF0\x80\x80\x80", FFFD FFFD FFFD FFFD);
    DECODES_TO("\xF0\x8F\xBF\xBF", FFFD FFFD FFFD FFFD);
    DECODES_TO("a\xC0\xAFz", "a" FFFD FFFD "z"); /* the classic overlong '/' */
}

static void test_utf8_surrogates_and_out_of_range(void **state) {
    (void)state;
    DECODES_TO("\xED\xA0\x80", FFFD FFFD FFFD);                            /* U+D800 */
    DECODES_TO("\xED\xBF\xBF", FFFD FFFD FFFD);                            /* U+DFFF */
    DECODES_TO("\xED\xA0\x80\xED\xB0\x80", FFFD FFFD FFFD FFFD FFFD FFFD); /* a CESU-8 pair */
    DECODES_TO("\xF4\x90\x80\x80", FFFD FFFD FFFD FFFD);                   /* U+110000 */
    DECODES_TO("\xF5\x80\x80\x80", FFFD FFFD FFFD FFFD);
    DECODES_TO("\xF7\xBF\xBF\xBF", FFFD FFFD FFFD FFFD);
    DECODES_TO("\xF8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD); /* old 5-byte form */
    DECODES_TO("\xFE\xFF", FFFD FFFD);
    DECODES_TO("\x80", FFFD);
    DECODES_TO("\xBF\x80", FFFD FFFD);
    DECODES_TO("x\x80y", "x" FFFD "y");
}

static void test_utf8_maximal_subparts(void **state) {
    (void)state;
    /* A valid prefix cut short by a byte that cannot continue it is ONE replacement, and the
     * byte that ended it is decoded afresh. */
    DECODES_TO("\xC3\x41", FFFD "A");
    DECODES_TO("\xE2\x82\x41", FFFD "A");
    DECODES_TO("\xE2\x41", FFFD "A");
    DECODES_TO("\xF0\x9F\x98\x41", FFFD "A");
    DECODES_TO("\xF0\x9F\x41", FFFD "A");
    DECODES_TO("\xE2\x82\xE2\x82\xAC", FFFD "\xE2\x82\xAC");
    DECODES_TO("\xF0\x9F\xC3\xA9", FFFD "\xC3\xA9");
    /* Unicode's own example (Table 3-8 in chapter 3 of the standard). */
    DECODES_TO("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64",
               "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
    /* The second byte's range depends on the lead (E0, ED, F0, F4). */
    DECODES_TO("\xE0\xA0", FFFD);
    DECODES_TO("\xED\x9F", FFFD);
    DECODES_TO("\xF0\x90", FFFD);
    DECODES_TO("\xF4\x8F", FFFD);
    DECODES_TO("\xF4\x8F\xBF", FFFD);
}

static void test_utf8_truncated_at_end(void **state) {
    (void)state;
    /* Without stream: the incomplete tail is one U+FFFD and everything is consumed. */
    DECODES_TO("A\xC3", "A" FFFD);
    DECODES_TO("A\xE2", "A" FFFD);
    DECODES_TO("A\xE2\x82", "A" FFFD);
    DECODES_TO("A\xF0", "A" FFFD);
    DECODES_TO("A\xF0\x9F", "A" FFFD);
    DECODES_TO("A\xF0\x9F\x98", "A" FFFD);
    DECODES_TO("\xF0\x9F\x98", FFFD);
    /* With stream: the incomplete tail is left unconsumed, with nothing output for it. */
    expect_decode(BYTES("A\xC3"), true, false, BYTES("A"), 1, false);
    expect_decode(BYTES("A\xE2\x82"), true, false, BYTES("A"), 1, false);
    expect_decode(BYTES("AB\xF0\x9F\x98"), true, false, BYTES("AB"), 2, false);
    expect_decode(BYTES("\xF0"), true, false, BYTES(""), 0, false);
    /* ... but a tail that can no longer be completed is replaced right away. */
    expect_decode(BYTES("A\xE0\x80"), true, false, BYTES("A" FFFD FFFD), 3, false);
    expect_decode(BYTES("A\xF4\x90"), true, false, BYTES("A" FFFD FFFD), 3, false);
    expect_decode(BYTES("A\xED\xA0"), true, false, BYTES("A" FFFD FFFD), 3, false);
    expect_decode(BYTES("A\xC0"), true, false, BYTES("A" FFFD), 2, false);
    expect_decode(BYTES("A\x80"), true, false, BYTES("A" FFFD), 2, false);
    /* A complete final sequence is consumed in stream mode too. */
    expect_decode(BYTES("A\xE2\x82\xAC"), true, false, BYTES("A\xE2\x82\xAC"), 4, false);
    expect_decode(BYTES(""), true, false, BYTES(""), 0, false);
}

static void test_utf8_fatal(void **state) {
    (void)state;
    /* Valid input: no error, everything consumed. */
    expect_decode(BYTES("ok \xE2\x82\xAC"), false, true, BYTES("ok \xE2\x82\xAC"), 6, false);
    /* Stops at the first error: the text before it is output, nothing after. */
    expect_decode(BYTES("AB\xC0\x80"
                        "CD"),
                  false, true, BYTES("AB"), 2, true);
    expect_decode(BYTES("\xE2\x82\xAC\xED\xA0\x80z"), false, true, BYTES("\xE2\x82\xAC"), 3, true);
    expect_decode(BYTES("\x80"), false, true, BYTES(""), 0, true);
    expect_decode(BYTES("A\xE2\x82\x41"), false, true, BYTES("A"), 1, true);
    /* A truncated tail is an error at the end of the input, but not while streaming. */
    expect_decode(BYTES("A\xF0\x9F\x98"), false, true, BYTES("A"), 1, true);
    expect_decode(BYTES("A\xF0\x9F\x98"), true, true, BYTES("A"), 1, false);
    expect_decode(BYTES("A\xF0\x80"), true, true, BYTES("A"), 1, true);
}

static void test_utf8_appends_to_output(void **state) {
    (void)state;
    buf out = {0};
    buf_puts(&out, "prefix:");
    bool error = true;
    size_t n = utf8_decode(BYTES("x\xFFy"), false, false, &out, &error);
    assert_int_equal(n, 3);
    assert_false(error); /* reset by the call */
    assert_string_equal(out.data, "prefix:x" FFFD "y");
    buf_free(&out);
}

/* Feeding the input in chunks of every size (carrying the unconsumed tail, as TextDecoder
 * with {stream: true} does) gives exactly the one-shot result. */
static void test_utf8_streaming_matches_one_shot(void **state) {
    (void)state;
    static const char text[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"
                               "\xC0\x80\xE2\x82\x41\xF0\x9F\x98\xED\xA0\x80\xF4\x90\x80\x80"
                               "z\xE0\xA0\x80\xC3";
    const uint8_t *in = (const uint8_t *)text;
    size_t len = sizeof text - 1;
    buf whole = {0};
    bool error;
    assert_int_equal(utf8_decode(in, len, false, false, &whole, &error), len);
    for (size_t chunk = 1; chunk <= len; chunk++) {
        buf out = {0};
        uint8_t pending[8 + 64];
        size_t npending = 0;
        for (size_t off = 0; off < len; off += chunk) {
            size_t n = off + chunk < len ? chunk : len - off;
            memcpy(pending + npending, in + off, n);
            npending += n;
            size_t used = utf8_decode(pending, npending, true, false, &out, &error);
            assert_false(error);
            assert_true(used <= npending);
            assert_true(npending - used < 4); /* only an incomplete sequence is held back */
            memmove(pending, pending + used, npending - used);
            npending -= used;
        }
        assert_int_equal(utf8_decode(pending, npending, false, false, &out, &error), npending);
        if (out.len != whole.len || memcmp(out.data, whole.data, whole.len) != 0)
            fail_bytes("chunked decode", in, len, out.data, out.len, whole.data, whole.len);
        buf_free(&out);
    }
    buf_free(&whole);
}

/* Every 1-, 2-, 3- and 4-byte sequence over a range of bytes: the output is always valid UTF-8
 * and well-formed input comes out unchanged. */
static bool is_scalar_encoding(const uint8_t *p, size_t n) {
    uint32_t cp;
    if (n == 1) return p[0] < 0x80;
    if (n == 2) {
        if ((p[0] & 0xE0) != 0xC0 || (p[1] & 0xC0) != 0x80) return false;
        cp = (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
        return cp >= 0x80;
    }
    if (n == 3) {
        if ((p[0] & 0xF0) != 0xE0 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return false;
        cp = (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
        return cp >= 0x800 && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if ((p[0] & 0xF8) != 0xF0 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
        (p[3] & 0xC0) != 0x80)
        return false;
    cp = (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
         (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
    return cp >= 0x10000 && cp <= 0x10FFFF;
}

static void test_utf8_exhaustive_two_bytes_and_leads(void **state) {
    (void)state;
    uint8_t seq[4];
    /* All 65536 two-byte inputs. */
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            seq[0] = (uint8_t)a;
            seq[1] = (uint8_t)b;
            buf out = {0};
            bool error;
            assert_int_equal(utf8_decode(seq, 2, false, false, &out, &error), 2);
            size_t replacements = 0;
            for (size_t i = 0; i + 2 < out.len; i++)
                if (memcmp(out.data + i, FFFD, 3) == 0) replacements++;
            if (is_scalar_encoding(seq, 2)) {
                assert_int_equal(out.len, 2);
                assert_memory_equal(out.data, seq, 2);
            } else if (a < 0x80 && b < 0x80) {
                assert_memory_equal(out.data, seq, 2);
            } else {
                /* Each byte is its own error, except a valid lead followed by a byte that
                 * cannot continue it... which is also 2 units here; or the lead of a longer
                 * sequence followed by a valid continuation: one truncated sequence. */
                bool lead3 = a >= 0xE0 && a <= 0xF4;
                uint8_t lo = a == 0xE0 ? 0xA0 : a == 0xF0 ? 0x90 : 0x80;
                uint8_t hi = a == 0xED ? 0x9F : a == 0xF4 ? 0x8F : 0xBF;
                size_t want = lead3 && b >= lo && b <= hi ? 1 : (a >= 0x80) + (b >= 0x80);
                if (replacements != want)
                    fail_msg("%02X %02X: %zu replacements, want %zu", a, b, replacements, want);
            }
            buf_free(&out);
        }
    }
    /* Every 3- and 4-byte sequence with a multi-byte lead and continuation bytes. */
    for (unsigned a = 0xE0; a <= 0xF4; a++) {
        for (unsigned b = 0x80; b <= 0xBF; b++) {
            for (unsigned c = 0x80; c <= 0xBF; c += 7) {
                size_t n = a < 0xF0 ? 3 : 4;
                seq[0] = (uint8_t)a, seq[1] = (uint8_t)b, seq[2] = (uint8_t)c, seq[3] = 0x9A;
                buf out = {0};
                bool error;
                utf8_decode(seq, n, false, true, &out, &error);
                assert_true(error == !is_scalar_encoding(seq, n));
                if (!error) assert_memory_equal(out.data, seq, n);
                buf_free(&out);
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * base64
 * ---------------------------------------------------------------------------------------- */

static void test_base64_encode_tail_lengths(void **state) {
    (void)state;
    /* RFC 4648 section 10 vectors: tails of 0, 1 and 2 bytes. */
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = encode((const uint8_t *)cases[i].in, strlen(cases[i].in));
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    /* High bytes and the last two alphabet characters. */
    char *got = encode(BYTES("\xFB\xFF\xBF"));
    assert_string_equal(got, "+/+/");
    free(got);
    got = encode(BYTES("\xFF"));
    assert_string_equal(got, "/w==");
    free(got);
    got = encode(BYTES("\xFF\xFF"));
    assert_string_equal(got, "//8=");
    free(got);
    got = encode(BYTES("\0\0\0\0"));
    assert_string_equal(got, "AAAAAA==");
    free(got);
    /* Appends to what the buffer holds. */
    buf out = {0};
    buf_puts(&out, "data:");
    base64_encode(BYTES("hi"), &out);
    assert_string_equal(out.data, "data:aGk=");
    buf_free(&out);
}

static void test_base64_round_trip(void **state) {
    (void)state;
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 167 + 13);
    for (size_t len = 0; len <= sizeof data; len++) {
        buf enc = {0};
        base64_encode(data, len, &enc);
        assert_int_equal(enc.len, (len + 2) / 3 * 4);
        buf dec = {0};
        assert_true(
            base64_decode_forgiving((const uint8_t *)(enc.data ? enc.data : ""), enc.len, &dec));
        assert_int_equal(dec.len, len);
        if (len) assert_memory_equal(dec.data, data, len);
        buf_free(&enc);
        buf_free(&dec);
    }
    /* Every byte value. */
    uint8_t all[256];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    buf enc = {0}, dec = {0};
    base64_encode(all, sizeof all, &enc);
    assert_true(base64_decode_forgiving((const uint8_t *)enc.data, enc.len, &dec));
    assert_int_equal(dec.len, 256);
    assert_memory_equal(dec.data, all, 256);
    buf_free(&enc);
    buf_free(&dec);
}

static void test_base64_decode_padding(void **state) {
    (void)state;
    B64_OK("", "");
    B64_OK("Zm9vYmFy", "foobar");
    B64_OK("Zm9vYg==", "foob");
    B64_OK("Zm9vYmE=", "fooba");
    /* Padding is optional. */
    B64_OK("Zm9vYg", "foob");
    B64_OK("Zm9vYmE", "fooba");
    B64_OK("Zg", "f");
    /* ... but when present it must complete a group of four. */
    B64_INVALID("Zm9vYg=");
    B64_INVALID("Zm9vYg===");
    B64_INVALID("Zg=");
    B64_INVALID("Zm9vYmE==");
    B64_INVALID("Zm9v=");
    B64_INVALID("Zm9v====");
    B64_INVALID("Z===");
    B64_INVALID("=");
    B64_INVALID("==");
    B64_INVALID("====");
    /* '=' only at the end. */
    B64_INVALID("Zg==Zg==");
    B64_INVALID("Zm=v");
    B64_INVALID("=Zm9");
    /* Bits past the last whole byte are discarded, not checked. */
    B64_OK("Zh==", "f");
    B64_OK("Zh", "f");
    B64_OK("Zm9=", "fo");
}

static void test_base64_decode_length_mod_4(void **state) {
    (void)state;
    /* A length of 4n+1 (after removing whitespace) can never be base64. */
    B64_INVALID("Z");
    B64_INVALID("Zm9vY");
    B64_INVALID("Zm9vYmFyZ");
    B64_INVALID("Zm9vY===");    /* 8 long, but "Zm9vY=" after removing "==" */
    B64_INVALID(" Z m 9 v Y "); /* 5 without the spaces */
    B64_OK("Zm9", "fo");        /* 4n+3 */
    B64_OK("Zm", "f");          /* 4n+2 */
}

static void test_base64_decode_whitespace(void **state) {
    (void)state;
    /* ASCII whitespace (tab, LF, FF, CR, space) is removed first, anywhere. */
    B64_OK(" Zm9v\tYmFy\n", "foobar");
    B64_OK("Zm\r\n9v\fYg\n=\n=", "foob");
    B64_OK("Zg= =", "f");
    B64_OK("  \t\n", "");
    B64_OK("Z g", "f");
    /* Other characters that look like space are not. */
    B64_INVALID("Zm9v\vYmFy");   /* vertical tab */
    B64_INVALID("Zm9v\xA0YmFy"); /* no-break space (Latin-1) */
}

static void test_base64_decode_invalid_characters(void **state) {
    (void)state;
    B64_INVALID("Zm9v!");
    B64_INVALID("Zm9vYm-y"); /* base64url is a different alphabet */
    B64_INVALID("Zm9vYm_y");
    B64_INVALID("Zm9v\0Ymy"); /* NUL in the middle: the length counts, not strlen */
    B64_INVALID("Zm9v\x80YmFy");
    B64_INVALID("Zm9v\xFFYmFy");
    B64_INVALID("Zm9v.mFy");
    B64_INVALID("Zm9v:mFy");
    /* Only len bytes are read. */
    buf out = {0};
    assert_true(base64_decode_forgiving((const uint8_t *)"Zm9v!!!!", 4, &out));
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.data, "foo", 3);
    buf_free(&out);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_valid_passes_through),
        cmocka_unit_test(test_utf8_overlong),
        cmocka_unit_test(test_utf8_surrogates_and_out_of_range),
        cmocka_unit_test(test_utf8_maximal_subparts),
        cmocka_unit_test(test_utf8_truncated_at_end),
        cmocka_unit_test(test_utf8_fatal),
        cmocka_unit_test(test_utf8_appends_to_output),
        cmocka_unit_test(test_utf8_streaming_matches_one_shot),
        cmocka_unit_test(test_utf8_exhaustive_two_bytes_and_leads),
        cmocka_unit_test(test_base64_encode_tail_lengths),
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_base64_decode_padding),
        cmocka_unit_test(test_base64_decode_length_mod_4),
        cmocka_unit_test(test_base64_decode_whitespace),
        cmocka_unit_test(test_base64_decode_invalid_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
