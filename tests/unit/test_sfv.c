/* Unit tests for the RFC 8941 dictionary parser (src/net/sfv.c).
 *
 * The httpwg structured-field-tests suite is not available offline, so the table below is
 * modelled on its files (dictionary, string, token, number, boolean, binary, param-dict,
 * key-generated): each case is a field value and either the dictionary it must parse to,
 * written in a compact notation, or NULL when it must be rejected. The other tests cover the
 * API around the parser: duplicate keys, lengths, error messages, lookups. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/buf.h"
#include "net/sfv.h"

/* ------------------------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------------------------- */

/* The compact notation: members joined by ",", each `key=` and then I<integer>, D<decimal
 * with 3 places>, S:<string>, T:<token>, B:<hex bytes>, ?0 / ?1, or L for an inner list. */
static void describe(const sfv_dict *d, buf *out) {
    for (size_t i = 0; i < d->count; i++) {
        const sfv_member *m = &d->members[i];
        if (i) buf_putc(out, ',');
        buf_printf(out, "%s=", m->key);
        switch (m->type) {
        case SFV_INTEGER:
            buf_printf(out, "I%lld", (long long)m->integer);
            break;
        case SFV_DECIMAL:
            buf_printf(out, "D%.3f", m->decimal);
            break;
        case SFV_STRING:
            buf_printf(out, "S:%s", m->string);
            break;
        case SFV_TOKEN:
            buf_printf(out, "T:%s", m->string);
            break;
        case SFV_BYTES:
            buf_puts(out, "B:");
            for (size_t j = 0; j < m->bytes_len; j++)
                buf_printf(out, "%02x", (unsigned char)m->string[j]);
            break;
        case SFV_BOOLEAN:
            buf_printf(out, "?%d", (int)m->integer);
            break;
        case SFV_INNER_LIST:
            buf_putc(out, 'L');
            break;
        }
    }
}

typedef struct sfv_case {
    const char *name;
    const char *input;
    const char *expected; /* NULL: must fail */
} sfv_case;

/* Runs one case and returns an error description, or NULL when it behaves as expected. */
static char *run_case(const sfv_case *c) {
    sfv_dict d;
    char err[200] = "unset";
    int rc = sfv_parse_dict(c->input, strlen(c->input), &d, err, sizeof err);
    buf why = {0};
    if (!c->expected) {
        if (rc == 0) {
            buf got = {0};
            describe(&d, &got);
            buf_printf(&why, "%s: accepted [%s] as {%s}, must fail", c->name, c->input,
                       got.data ? got.data : "");
            buf_free(&got);
            sfv_dict_free(&d);
        } else if (d.count != 0 || d.members != NULL || err[0] == '\0' ||
                   strncmp(err, "offset ", 7) != 0) {
            buf_printf(&why, "%s: failed without an empty result and a message (%s)", c->name, err);
        }
        return why.data;
    }
    if (rc != 0) {
        buf_printf(&why, "%s: rejected [%s]: %s", c->name, c->input, err);
        return why.data;
    }
    buf got = {0};
    buf_puts(&got, "");
    describe(&d, &got);
    if (strcmp(got.data, c->expected) != 0)
        buf_printf(&why, "%s: [%s] parsed to {%s}, expected {%s}", c->name, c->input, got.data,
                   c->expected);
    buf_free(&got);
    sfv_dict_free(&d);
    return why.data;
}

static void run_cases(const sfv_case *cases, size_t n) {
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        char *why = run_case(&cases[i]);
        if (why) {
            print_error("%s\n", why);
            failures++;
            free(why);
        }
    }
    assert_int_equal(failures, 0);
}

#define RUN_CASES(table) run_cases(table, sizeof table / sizeof table[0])

/* ------------------------------------------------------------------------------------------
 * Cases modelled on the httpwg structured-field-tests.
 * ---------------------------------------------------------------------------------------- */

static const sfv_case dictionary_cases[] = {
    /* RFC 8941 §3.2's examples. */
    {"rfc basic",
     "en=\"Applepie\", da=:w4ZibGV0w6ZydGUK:", "en=S:Applepie,da=B:c386626c6574c3a67274650a"},
    {"rfc booleans", "a=?0, b, c; foo=bar", "a=?0,b=?1,c=?1"},
    {"rfc inner list", "rating=1.5, feelings=(joy sadness)", "rating=D1.500,feelings=L"},
    {"rfc mixed", "a=(1 2), b=3, c=4;aa=bb, d=(5 6);valid", "a=L,b=I3,c=I4,d=L"},
    {"hearth overrides", "hello=\"f1c3a2\", api=\"0a9e77\"", "hello=S:f1c3a2,api=S:0a9e77"},
    /* dictionary.json */
    {"empty dictionary", "", ""},
    {"only spaces", "   ", ""},
    {"single item", "a=1", "a=I1"},
    {"list item", "a=(1 2)", "a=L"},
    {"single list item", "a=(1)", "a=L"},
    {"empty list item", "a=()", "a=L"},
    {"no whitespace", "a=1,b=2", "a=I1,b=I2"},
    {"extra whitespace", "a=1 ,  b=2", "a=I1,b=I2"},
    {"tab separated", "a=1\t,\tb=2", "a=I1,b=I2"},
    {"leading whitespace", "     a=1 ,  b=2", "a=I1,b=I2"},
    {"trailing whitespace", "a=1 ,  b=2   ", "a=I1,b=I2"},
    {"trailing tab", "a=1\t", "a=I1"},
    {"leading tab", "\ta=1", NULL},
    {"whitespace before =", "a =1, b=2", NULL},
    {"whitespace after =", "a=1, b= 2", NULL},
    {"two lines combined", "a=1, b=2", "a=I1,b=I2"},
    {"missing value", "a=1, b, c=3", "a=I1,b=?1,c=I3"},
    {"all missing value", "a, b, c", "a=?1,b=?1,c=?1"},
    {"start missing value", "a, b=2", "a=?1,b=I2"},
    {"end missing value", "a=1, b", "a=I1,b=?1"},
    {"missing value with params", "a=1, b;foo=9, c=3", "a=I1,b=?1,c=I3"},
    {"explicit true with params", "a=1, b=?1;foo=9, c=3", "a=I1,b=?1,c=I3"},
    {"trailing comma", "a=1, b=2,", NULL},
    {"trailing comma and space", "a=1, b=2, ", NULL},
    {"empty item", "a=1,,b=2,", NULL},
    {"lone comma", ",", NULL},
    {"leading comma", ",a=1", NULL},
    {"duplicate key", "a=1,b=2,a=3", "a=I3,b=I2"},
    {"numeric key", "a=1,1b=2,a=1", NULL},
    {"uppercase key", "a=1,B=2,a=1", NULL},
    {"bad key character", "a=1,b!=2", NULL},
    {"missing separator", "a=1 b=2", NULL},
    {"semicolon separator", "a=1;b=2", "a=I1"},
    {"list syntax", "abc;a=1;b=2; cde_456, (ghi;jk=4 l);q=\"9\";r=w", NULL},
    {"member value missing", "a=", NULL},
    {"member value missing before comma", "a=,b=1", NULL},
    {"non-ascii outside strings", "a=1, \xc3\xbc=2", NULL},
};

static const sfv_case string_cases[] = {
    {"basic string", "a=\"foo bar\"", "a=S:foo bar"},
    {"empty string", "a=\"\"", "a=S:"},
    {"long string",
     "a=\""
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "\"",
     "a=S:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
    {"whitespace string", "a=\"   \"", "a=S:   "},
    {"non-ascii string", "a=\"f\xc3\xbc\xc3\xbc\"", NULL},
    {"tab in string", "a=\"\t\"", NULL},
    {"newline in string", "a=\" \n \"", NULL},
    {"del in string", "a=\"\x7f\"", NULL},
    {"single quoted string", "a='foo'", NULL},
    {"unbalanced string", "a=\"foo", NULL},
    {"string quoting", "a=\"foo \\\"bar\\\" \\\\ baz\"", "a=S:foo \"bar\" \\ baz"},
    {"bad string quoting", "a=\"foo \\,\"", NULL},
    {"escaped n", "a=\"foo \\n\"", NULL},
    {"ending string quote", "a=\"foo \\\"", NULL},
    {"abruptly ending string quote", "a=\"foo \\", NULL},
    {"printable punctuation", "a=\"!#$%&'()*+,-./:;<=>?@[]^_`{|}~\"",
     "a=S:!#$%&'()*+,-./:;<=>?@[]^_`{|}~"},
    {"string with params", "a=\"x\";q=1;r", "a=S:x"},
    {"text after string", "a=\"x\"y", NULL},
};

static const sfv_case token_cases[] = {
    {"basic token", "a=a_b-c.d3:f%00/*", "a=T:a_b-c.d3:f%00/*"},
    {"token with capitals", "a=fooBar", "a=T:fooBar"},
    {"token starting with capital", "a=FooBar", "a=T:FooBar"},
    {"token starting with star", "a=*foo", "a=T:*foo"},
    {"token of all tchars", "a=a!#$%&'*+-.^_`|~:/9", "a=T:a!#$%&'*+-.^_`|~:/9"},
    {"token with quote", "a=fo\"o", NULL},
    {"token with comma is two members", "a=foo,bar", "a=T:foo,bar=?1"},
    {"token starting with digit is a number", "a=1foo", NULL},
    {"token starting with underscore", "a=_foo", NULL},
    {"token with brace", "a=foo{", NULL},
};

static const sfv_case number_cases[] = {
    {"basic integer", "a=42", "a=I42"},
    {"zero integer", "a=0", "a=I0"},
    {"negative zero", "a=-0", "a=I0"},
    {"double negative zero", "a=--0", NULL},
    {"negative integer", "a=-42", "a=I-42"},
    {"leading 0 integer", "a=042", "a=I42"},
    {"leading 0 negative integer", "a=-042", "a=I-42"},
    {"leading 0 zero", "a=00", "a=I0"},
    {"comma", "a=2,3", NULL},
    {"negative non-digit first", "a=-a23", NULL},
    {"sign out of place", "a=4-2", NULL},
    {"whitespace after sign", "a=- 42", NULL},
    {"lone minus", "a=-", NULL},
    {"plus sign", "a=+42", NULL},
    {"long integer", "a=123456789012345", "a=I123456789012345"},
    {"long negative integer", "a=-123456789012345", "a=I-123456789012345"},
    {"too long integer", "a=1234567890123456", NULL},
    {"too long negative integer", "a=-1234567890123456", NULL},
    {"simple decimal", "a=1.23", "a=D1.230"},
    {"negative decimal", "a=-1.23", "a=D-1.230"},
    {"decimal, whitespace after point", "a=1. 23", NULL},
    {"decimal, whitespace before point", "a=1 .23", NULL},
    {"negative decimal, whitespace after sign", "a=- 1.23", NULL},
    {"tricky precision decimal", "a=123456789012.1", "a=D123456789012.100"},
    {"double decimal", "a=1.5.4", NULL},
    {"adjacent double decimal", "a=1..4", NULL},
    {"decimal with three fractional digits", "a=1.123", "a=D1.123"},
    {"negative decimal with three fractional digits", "a=-1.123", "a=D-1.123"},
    {"decimal with four fractional digits", "a=1.1234", NULL},
    {"negative decimal with four fractional digits", "a=-1.1234", NULL},
    {"decimal with twelve integer digits", "a=123456789012.123", "a=D123456789012.123"},
    {"decimal with thirteen integer digits", "a=1234567890123.0", NULL},
    {"negative decimal with thirteen integer digits", "a=-1234567890123.0", NULL},
    {"decimal with 1 significant digit and 1 insignificant digit", "a=1.20", "a=D1.200"},
    {"decimal ending with point", "a=1.", NULL},
    {"decimal starting with point", "a=.1", NULL},
    {"decimal with exponent", "a=1e3", NULL},
    {"many leading zeros are digits too", "a=0000000000000001", NULL},
};

static const sfv_case boolean_cases[] = {
    {"basic true", "a=?1", "a=?1"},           {"basic false", "a=?0", "a=?0"},
    {"unknown boolean", "a=?Q", NULL},        {"whitespace boolean", "a=? 1", NULL},
    {"negative zero boolean", "a=?-0", NULL}, {"t boolean", "a=?t", NULL},
    {"true boolean", "a=?True", NULL},        {"two digit boolean", "a=?10", NULL},
    {"lone question mark", "a=?", NULL},
};

static const sfv_case binary_cases[] = {
    {"basic binary", "a=:aGVsbG8=:", "a=B:68656c6c6f"},
    {"empty binary", "a=::", "a=B:"},
    {"padding at beginning", "a=:=aGVsbG8=:", NULL},
    {"padding in middle", "a=:a=GVsbG8=:", NULL},
    {"missing padding", "a=:aGVsbG8:", "a=B:68656c6c6f"},
    {"bad padding dot", "a=:aGVsbG8.:", NULL},
    {"too much padding", "a=:aGVsbG8==:", NULL},
    {"only padding", "a=:====:", NULL},
    {"impossible length", "a=:aGVsb:", NULL},
    {"bad end delimiter", "a=:aGVsbG8=", NULL},
    {"extra whitespace", "a=:aGVsb G8=:", NULL},
    {"all whitespace", "a=:    :", NULL},
    {"extra chars", "a=:aGVsbG!8=:", NULL},
    {"suffix chars", "a=:aGVsbG8=!:", NULL},
    {"non-zero pad bits", "a=:iZ==:", "a=B:89"},
    {"non-ascii binary", "a=:/+Ah:", "a=B:ffe021"},
    {"base64url binary", "a=:_-Ah:", NULL},
    {"long binary", "a=:cHJldGVuZCB0aGlzIGlzIGJpbmFyeSBjb250ZW50Lg==:",
     "a=B:70726574656e6420746869732069732062696e61727920636f6e74656e742e"},
};

static const sfv_case param_cases[] = {
    {"basic parameterised dict", "abc=123;a=1;b=2, def=456, ghi=789;q=9;r=\"+w\"",
     "abc=I123,def=I456,ghi=I789"},
    {"single item parameterised dict", "a=b; q=1.0", "a=T:b"},
    {"list item parameterised dictionary", "a=(1 2); q=1.0", "a=L"},
    {"missing parameter value", "a=3;c;d=5", "a=I3"},
    {"terminal missing parameter value", "a=3;c=5;d", "a=I3"},
    {"no whitespace parameterised dict", "a=b;c=1,d=e;f=2", "a=T:b,d=T:e"},
    {"whitespace before = parameterised dict", "a=b;q =0.5", NULL},
    {"whitespace after = parameterised dict", "a=b;q= 0.5", NULL},
    {"whitespace before ; parameterised dict", "a=b ;q=0.5", NULL},
    {"whitespace after ; parameterised dict", "a=b; q=0.5", "a=T:b"},
    {"tab after ; parameterised dict", "a=b;\tq=0.5", NULL},
    {"extra whitespace parameterised dict", "a=b;  c=1  ,  d=e; f=2; g=3", "a=T:b,d=T:e"},
    {"two lines parameterised dict", "a=b;c=1, d=e;f=2", "a=T:b,d=T:e"},
    {"trailing comma parameterised dict", "a=b; q=1.0,", NULL},
    {"empty item parameterised dict", "a=b; q=1.0,,c=d", NULL},
    {"empty parameter key", "a=1;", NULL},
    {"empty parameter key before another", "a=1;;b", NULL},
    {"uppercase parameter key", "a=1;B=2", NULL},
    {"parameter value is an inner list", "a=1;b=(1)", NULL},
    {"parameter value is invalid", "a=1;b=?2", NULL},
    {"duplicate parameters", "a=1;b=1;b=2", "a=I1"},
    /* Inner lists. */
    {"inner list with spaces inside", "a=( 1  2 )", "a=L"},
    {"inner list of all types", "a=(1 1.5 \"s\" t :aGk=: ?0)", "a=L"},
    {"inner list items with params", "a=(1;x=2 b;c);d", "a=L"},
    {"inner list with tab", "a=(1\t2)", NULL},
    {"inner list with comma", "a=(1,2)", NULL},
    {"unterminated inner list", "a=(1 2", NULL},
    {"unterminated inner list after space", "a=(1 ", NULL},
    {"nested inner list", "a=((1))", NULL},
    {"inner list item without space", "a=(1\"x\")", NULL},
    {"inner list with bad item", "a=(1 ?2)", NULL},
    {"inner list with bad params", "a=(1);B", NULL},
    {"space before inner list params", "a=(1) ;b", NULL},
};

static const sfv_case key_cases[] = {
    {"star key", "*=1", "*=I1"},
    {"star started key", "*a=1", "*a=I1"},
    {"all key characters", "a_-.*9z=1", "a_-.*9z=I1"},
    {"digit started key", "0a=1", NULL},
    {"underscore started key", "_a=1", NULL},
    {"dash started key", "-a=1", NULL},
    {"dot started key", ".a=1", NULL},
    {"uppercase started key", "Aa=1", NULL},
    {"uppercase inside key", "aA=1", NULL},
    {"hash inside key", "a#=1", NULL},
    {"slash inside key", "a/b=1", NULL},
    {"colon inside key", "a:b=1", NULL},
    {"long key", "abcdefghijklmnopqrstuvwxyz0123456789_-.*abcdefghijklmnopqrstuvwxyz=1",
     "abcdefghijklmnopqrstuvwxyz0123456789_-.*abcdefghijklmnopqrstuvwxyz=I1"},
};

static void test_dictionary_cases(void **state) {
    (void)state;
    RUN_CASES(dictionary_cases);
}

static void test_string_cases(void **state) {
    (void)state;
    RUN_CASES(string_cases);
}

static void test_token_cases(void **state) {
    (void)state;
    RUN_CASES(token_cases);
}

static void test_number_cases(void **state) {
    (void)state;
    RUN_CASES(number_cases);
}

static void test_boolean_cases(void **state) {
    (void)state;
    RUN_CASES(boolean_cases);
}

static void test_binary_cases(void **state) {
    (void)state;
    RUN_CASES(binary_cases);
}

static void test_param_cases(void **state) {
    (void)state;
    RUN_CASES(param_cases);
}

static void test_key_cases(void **state) {
    (void)state;
    RUN_CASES(key_cases);
}

/* Every control character and every byte above 0x7e is refused inside a string, and every
 * other printable character is kept. */
static void test_string_every_byte(void **state) {
    (void)state;
    for (int c = 1; c < 256; c++) {
        char text[8];
        int n = snprintf(text, sizeof text, "a=\"%c\"", c);
        sfv_dict d;
        int rc = sfv_parse_dict(text, (size_t)n, &d, NULL, 0);
        bool printable = c >= 0x20 && c <= 0x7e && c != '"' && c != '\\';
        if (printable) {
            if (rc != 0) fail_msg("byte 0x%02x rejected in a string", c);
            assert_int_equal(d.count, 1);
            assert_int_equal(d.members[0].type, SFV_STRING);
            assert_int_equal((unsigned char)d.members[0].string[0], c);
            assert_int_equal(d.members[0].bytes_len, 1);
            sfv_dict_free(&d);
        } else if (rc == 0) {
            sfv_dict_free(&d);
            fail_msg("byte 0x%02x accepted in a string", c);
        }
    }
}

/* ------------------------------------------------------------------------------------------
 * The API around the parser.
 * ---------------------------------------------------------------------------------------- */

static void test_member_values(void **state) {
    (void)state;
    const char *text = "i=-7, d=-2.5, s=\"x\\\"y\", t=tok/1, b=:AAEC:, f=?0, l=(a b), bare";
    sfv_dict d;
    char err[128];
    assert_int_equal(sfv_parse_dict(text, strlen(text), &d, err, sizeof err), 0);
    assert_string_equal(err, "");
    assert_int_equal(d.count, 8);

    const sfv_member *m = sfv_dict_get(&d, "i");
    assert_non_null(m);
    assert_int_equal(m->type, SFV_INTEGER);
    assert_int_equal(m->integer, -7);
    assert_null(m->string);

    m = sfv_dict_get(&d, "d");
    assert_int_equal(m->type, SFV_DECIMAL);
    assert_true(m->decimal == -2.5);

    m = sfv_dict_get(&d, "s");
    assert_int_equal(m->type, SFV_STRING);
    assert_string_equal(m->string, "x\"y");
    assert_int_equal(m->bytes_len, 3);

    m = sfv_dict_get(&d, "t");
    assert_int_equal(m->type, SFV_TOKEN);
    assert_string_equal(m->string, "tok/1");

    m = sfv_dict_get(&d, "b");
    assert_int_equal(m->type, SFV_BYTES);
    assert_int_equal(m->bytes_len, 3);
    assert_memory_equal(m->string, "\x00\x01\x02", 3);

    m = sfv_dict_get(&d, "f");
    assert_int_equal(m->type, SFV_BOOLEAN);
    assert_int_equal(m->integer, 0);

    m = sfv_dict_get(&d, "l");
    assert_int_equal(m->type, SFV_INNER_LIST);
    assert_null(m->string);

    m = sfv_dict_get(&d, "bare");
    assert_int_equal(m->type, SFV_BOOLEAN);
    assert_int_equal(m->integer, 1);

    assert_null(sfv_dict_get(&d, "missing"));
    assert_null(sfv_dict_get(&d, "I"));
    assert_null(sfv_dict_get(NULL, "i"));
    sfv_dict_free(&d);
    assert_null(d.members);
    assert_int_equal(d.count, 0);
}

/* Decimals are the nearest double to the decimal text, as strtod gives. */
static void test_decimal_precision(void **state) {
    (void)state;
    const char *texts[] = {"0.1", "0.001", "-0.3", "999999999999.999", "123.456", "0.0", "7.77"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char field[64];
        int n = snprintf(field, sizeof field, "x=%s", texts[i]);
        sfv_dict d;
        assert_int_equal(sfv_parse_dict(field, (size_t)n, &d, NULL, 0), 0);
        assert_int_equal(d.members[0].type, SFV_DECIMAL);
        if (d.members[0].decimal != strtod(texts[i], NULL))
            fail_msg("%s parsed to %.17g", texts[i], d.members[0].decimal);
        sfv_dict_free(&d);
    }
    sfv_dict d;
    assert_int_equal(sfv_parse_dict("x=-0.0", 6, &d, NULL, 0), 0);
    assert_true(d.members[0].decimal == 0.0 && signbit(d.members[0].decimal));
    sfv_dict_free(&d);
}

/* A repeated key takes the last value but keeps the place of its first occurrence. */
static void test_duplicate_keys(void **state) {
    (void)state;
    const char *text = "a=\"first\", b=2, a=tok, c, b=(1), a=:AA==:";
    sfv_dict d;
    assert_int_equal(sfv_parse_dict(text, strlen(text), &d, NULL, 0), 0);
    assert_int_equal(d.count, 3);
    assert_string_equal(d.members[0].key, "a");
    assert_int_equal(d.members[0].type, SFV_BYTES);
    assert_int_equal(d.members[0].bytes_len, 1);
    assert_string_equal(d.members[1].key, "b");
    assert_int_equal(d.members[1].type, SFV_INNER_LIST);
    assert_null(d.members[1].string);
    assert_string_equal(d.members[2].key, "c");
    assert_int_equal(d.members[2].type, SFV_BOOLEAN);
    sfv_dict_free(&d);
}

/* Thousands of distinct and repeated keys: checks the bookkeeping and that it stays fast. */
static void test_many_members(void **state) {
    (void)state;
    buf text = {0};
    for (int i = 0; i < 20000; i++) {
        if (i) buf_puts(&text, ", ");
        buf_printf(&text, "k%d=%d", i % 15000, i);
    }
    sfv_dict d;
    assert_int_equal(sfv_parse_dict(text.data, text.len, &d, NULL, 0), 0);
    assert_int_equal(d.count, 15000);
    for (int i = 0; i < 15000; i += 997) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        assert_string_equal(d.members[i].key, key);
        assert_int_equal(d.members[i].integer, i < 5000 ? i + 15000 : i);
    }
    sfv_dict_free(&d);
    buf_free(&text);
}

/* Only len bytes are read; a NUL inside them is invalid like any other stray byte. */
static void test_lengths(void **state) {
    (void)state;
    sfv_dict d;
    assert_int_equal(sfv_parse_dict("a=1, b=2", 3, &d, NULL, 0), 0);
    assert_int_equal(d.count, 1);
    assert_int_equal(d.members[0].integer, 1);
    sfv_dict_free(&d);

    assert_int_equal(sfv_parse_dict("a=1\0", 4, &d, NULL, 0), -1);
    assert_int_equal(sfv_parse_dict("a=\"x\0\"", 6, &d, NULL, 0), -1);
    assert_int_equal(sfv_parse_dict("a=:AA", 4, &d, NULL, 0), -1); /* the ":" is beyond len */
    assert_int_equal(sfv_parse_dict("a=\"x\"", 4, &d, NULL, 0), -1);

    assert_int_equal(sfv_parse_dict(NULL, 0, &d, NULL, 0), 0);
    assert_int_equal(d.count, 0);
    assert_null(d.members);
    sfv_dict_free(&d);
}

static void expect_message(const char *text, const char *expected) {
    sfv_dict d;
    char err[128] = "";
    if (sfv_parse_dict(text, strlen(text), &d, err, sizeof err) == 0) {
        sfv_dict_free(&d);
        fail_msg("[%s] accepted", text);
    }
    if (strcmp(err, expected) != 0) fail_msg("[%s]: \"%s\", expected \"%s\"", text, err, expected);
}

static void test_error_messages(void **state) {
    (void)state;
    expect_message("a=1, b=2,", "offset 9: a trailing comma");
    expect_message("a=1 b", "offset 4: expected \",\" after a member");
    expect_message("A=1", "offset 0: a key must start with a-z or \"*\"");
    expect_message("a=\"abc", "offset 6: a string is not terminated");
    expect_message("a=\"a\\x\"", "offset 5: a string may only escape '\"' and '\\'");
    expect_message("a=\"\xc3\xa9\"", "offset 3: the field value is not ASCII");
    expect_message("a=1234567890123456", "offset 17: an integer has more than 15 digits");
    expect_message("a=1.2345", "offset 7: a decimal has more than 3 fractional digits");
    expect_message("a=1.", "offset 4: a decimal ends with \".\"");
    expect_message("a=?x", "offset 3: a boolean must be ?0 or ?1");
    expect_message("a=:ab", "offset 3: a byte sequence is not terminated");
    expect_message("a=:a=b:", "offset 5: a byte sequence may only contain base64 with \"=\" "
                              "padding at its end");
    expect_message("a=(1 2", "offset 6: an inner list is not closed");
    expect_message("a=(1 2;", "offset 7: a key must start with a-z or \"*\"");
    expect_message("a=(1\"x\")", "offset 4: expected a space or \")\" in an inner list");
    expect_message("a=", "offset 2: an item is missing");
    expect_message("a=@", "offset 2: an item cannot start here");

    /* A small buffer gets a truncated, still terminated message; no buffer is fine too. */
    sfv_dict d;
    char small[10];
    memset(small, 'x', sizeof small);
    assert_int_equal(sfv_parse_dict("a=1,", 4, &d, small, sizeof small), -1);
    assert_string_equal(small, "offset 4:");
    assert_int_equal(sfv_parse_dict("a=1,", 4, &d, NULL, 0), -1);
    assert_int_equal(sfv_parse_dict("a=1,", 4, &d, small, 0), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dictionary_cases),  cmocka_unit_test(test_string_cases),
        cmocka_unit_test(test_token_cases),       cmocka_unit_test(test_number_cases),
        cmocka_unit_test(test_boolean_cases),     cmocka_unit_test(test_binary_cases),
        cmocka_unit_test(test_param_cases),       cmocka_unit_test(test_key_cases),
        cmocka_unit_test(test_string_every_byte), cmocka_unit_test(test_member_values),
        cmocka_unit_test(test_decimal_precision), cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_many_members),      cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_error_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
