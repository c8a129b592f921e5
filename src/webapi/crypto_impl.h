/* crypto_impl — the WebCrypto primitives behind crypto.subtle, over OpenSSL 3's EVP APIs, with
 * no JavaScript in sight (the ops in crypto.c are thin wrappers; tests/unit/test_crypto.c
 * checks these against published vectors).
 *
 * Keys are plain bytes owned by the caller: a secret key's raw bytes, a public key as
 * SubjectPublicKeyInfo DER, a private key as PKCS #8 DER. Every function parses what it is
 * given and frees what it made, so nothing outlives a call. Results are malloc'd (hc_buf). */
#ifndef HEARTH_WEBAPI_CRYPTO_IMPL_H
#define HEARTH_WEBAPI_CRYPTO_IMPL_H

#include <stddef.h>
#include <stdint.h>

typedef struct hc_buf {
    uint8_t *p;
    size_t len;
} hc_buf;

void hc_buf_free(hc_buf *b);

/* Outcomes, named after the DOMException each one becomes. */
enum {
    HC_OK = 0,
    HC_DATA = 1,           /* DataError: bad key data */
    HC_OPERATION = 2,      /* OperationError: the operation failed (e.g. decryption) */
    HC_NOT_SUPPORTED = 3,  /* NotSupportedError */
    HC_INVALID_ACCESS = 4, /* InvalidAccessError */
};
const char *hc_error_class(int rc); /* "DOMException:DataError", ... */

/* ---- symmetric (crypto_sym.c) ---- */
int hc_hmac(const char *hash, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
            hc_buf *out);
/* mode: "AES-GCM", "AES-CBC", "AES-CTR". iv is the GCM iv, the CBC iv or the CTR counter
 * block; tag_bits applies to GCM, ctr_bits (the counter's length) to CTR. */
int hc_aes(const char *mode, int encrypt, const uint8_t *key, size_t key_len, const uint8_t *iv,
           size_t iv_len, const uint8_t *aad, size_t aad_len, unsigned tag_bits, unsigned ctr_bits,
           const uint8_t *in, size_t in_len, hc_buf *out);
int hc_aes_kw(int wrap, const uint8_t *key, size_t key_len, const uint8_t *in, size_t in_len,
              hc_buf *out);
int hc_pbkdf2(const char *hash, const uint8_t *pw, size_t pw_len, const uint8_t *salt,
              size_t salt_len, unsigned iterations, size_t out_len, hc_buf *out);
int hc_hkdf(const char *hash, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
            size_t salt_len, const uint8_t *info, size_t info_len, size_t out_len, hc_buf *out);

/* ---- asymmetric (crypto_pkey.c) ----
 * kind: "EC" (curve "P-256"/"P-384"/"P-521"), "Ed25519", "X25519", "RSA" (curve NULL). */
enum { HC_PUBLIC = 0, HC_PRIVATE = 1 };

/* Imports spki / pkcs8 / raw (public only; EC uncompressed or compressed point, OKP 32 bytes)
 * and checks it is a key of the given kind; *der gets the canonical SPKI or PKCS #8. */
int hc_pkey_import(const char *kind, const char *curve, const char *format, const uint8_t *data,
                   size_t len, int *type, hc_buf *der);
/* JWK fields, base64url-decoded, in a fixed order (absent = NULL):
 *   EC:  x, y, d          OKP: x, d          RSA: n, e, d, p, q, dp, dq, qi */
enum { HC_JWK_MAX = 8 };
int hc_pkey_import_jwk(const char *kind, const char *curve, const hc_buf fields[HC_JWK_MAX],
                       int *type, hc_buf *der);
int hc_pkey_export_jwk(const char *kind, int type, const uint8_t *der, size_t len,
                       hc_buf fields[HC_JWK_MAX]);
/* The public key as raw bytes (EC uncompressed point, OKP 32 bytes), from an SPKI. */
int hc_pkey_export_raw(const uint8_t *spki, size_t len, hc_buf *out);
/* Public key of a private key (SPKI from PKCS #8). */
int hc_pkey_public_of(const uint8_t *pkcs8, size_t len, hc_buf *spki);
/* RSA: modulus length in bits and the public exponent (big-endian). */
int hc_pkey_rsa_info(int type, const uint8_t *der, size_t len, unsigned *bits, hc_buf *pubexp);
int hc_pkey_generate(const char *kind, const char *curve, unsigned rsa_bits, const uint8_t *pubexp,
                     size_t pubexp_len, hc_buf *spki, hc_buf *pkcs8);

/* alg: "ECDSA" (raw r||s signatures), "Ed25519", "RSASSA-PKCS1-v1_5", "RSA-PSS". */
int hc_sign(const char *alg, const char *hash, unsigned salt_len, const uint8_t *pkcs8,
            size_t key_len, const uint8_t *data, size_t len, hc_buf *sig);
/* *ok = 1 when the signature is valid. */
int hc_verify(const char *alg, const char *hash, unsigned salt_len, const uint8_t *spki,
              size_t key_len, const uint8_t *sig, size_t sig_len, const uint8_t *data, size_t len,
              int *ok);
int hc_rsa_oaep(int encrypt, const char *hash, const uint8_t *der, size_t key_len,
                const uint8_t *label, size_t label_len, const uint8_t *in, size_t in_len,
                hc_buf *out);
/* ECDH / X25519 shared secret (full length). */
int hc_derive(const uint8_t *pkcs8, size_t key_len, const uint8_t *peer_spki, size_t peer_len,
              hc_buf *out);

#endif
