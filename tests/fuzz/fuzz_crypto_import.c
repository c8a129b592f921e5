/* libFuzzer target for crypto.subtle's key import parsers (src/webapi/crypto_pkey.c): SPKI,
 * PKCS #8 and raw public keys of every kind, and JWK components.
 *
 * Beyond "no crash, no leak, no undefined behaviour" (the sanitizers' job) it checks:
 *   - a rejected key leaves no output;
 *   - an accepted key is canonical: importing its DER again gives the same bytes, and its JWK
 *     export imports back to the same DER.
 *
 * The first input byte picks the kind and format; the rest is the key data (for JWK, split into
 * components at 0xFF bytes).
 *
 * Build and run:
 *   make fuzzers   (or: clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc
 *                   tests/fuzz/fuzz_crypto_import.c src/webapi/crypto_pkey.c
 *                   src/webapi/crypto_sym.c -lcrypto -o /tmp/fuzz_crypto_import)
 *   build/fuzz/fuzz_crypto_import -max_total_time=60 /tmp/crypto-corpus
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webapi/crypto_impl.h"

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_crypto_import: check failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char *const kinds[] = {"EC", "EC", "EC", "Ed25519", "X25519", "RSA"};
static const char *const curves[] = {"P-256", "P-384", "P-521", NULL, NULL, NULL};
static const char *const formats[] = {"spki", "pkcs8", "raw", "jwk"};

static void check_canonical(size_t k, int type, const hc_buf *der) {
    hc_buf again = {0};
    int t2 = -1;
    int rc = hc_pkey_import(kinds[k], curves[k], type == HC_PRIVATE ? "pkcs8" : "spki", der->p,
                            der->len, &t2, &again);
    FUZZ_CHECK(rc == HC_OK && t2 == type);
    FUZZ_CHECK(again.len == der->len && !memcmp(again.p, der->p, der->len));
    hc_buf_free(&again);
    hc_buf f[HC_JWK_MAX];
    if (hc_pkey_export_jwk(kinds[k], type, der->p, der->len, f) == HC_OK) {
        rc = hc_pkey_import_jwk(kinds[k], curves[k], f, &t2, &again);
        /* RSA keys without CRT parameters export fewer fields; the others must round-trip. */
        if (rc == HC_OK) FUZZ_CHECK(again.len == der->len && !memcmp(again.p, der->p, der->len));
        hc_buf_free(&again);
        for (size_t i = 0; i < HC_JWK_MAX; i++) hc_buf_free(&f[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t k = (data[0] & 0x0f) % 6, fmt = (data[0] >> 4) % 4;
    const uint8_t *body = data + 1;
    size_t len = size - 1;
    hc_buf der = {0};
    int type = -1, rc;
    if (fmt < 3) {
        rc = hc_pkey_import(kinds[k], curves[k], formats[fmt], body, len, &type, &der);
    } else {
        hc_buf f[HC_JWK_MAX] = {0};
        size_t n = 0, start = 0;
        for (size_t i = 0; i <= len && n < HC_JWK_MAX; i++) {
            if (i == len || body[i] == 0xff) {
                f[n].p = (uint8_t *)body + start;
                f[n].len = i - start;
                n++;
                start = i + 1;
            }
        }
        rc = hc_pkey_import_jwk(kinds[k], curves[k], f, &type, &der);
    }
    if (rc != HC_OK) {
        FUZZ_CHECK(der.p == NULL);
        return 0;
    }
    check_canonical(k, type, &der);
    hc_buf_free(&der);
    return 0;
}
