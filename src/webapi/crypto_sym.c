/* crypto_sym — HMAC, AES (GCM, CBC, CTR, KW), PBKDF2 and HKDF for crypto.subtle. */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "webapi/crypto_impl.h"

void hc_buf_free(hc_buf *b) {
    if (b->p) OPENSSL_cleanse(b->p, b->len);
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

const char *hc_error_class(int rc) {
    switch (rc) {
    case HC_DATA:
        return "DOMException:DataError";
    case HC_NOT_SUPPORTED:
        return "DOMException:NotSupportedError";
    case HC_INVALID_ACCESS:
        return "DOMException:InvalidAccessError";
    default:
        return "DOMException:OperationError";
    }
}

static const char *md_name(const char *hash) {
    if (!hash) return NULL;
    if (!strcasecmp(hash, "SHA-1")) return "SHA1";
    if (!strcasecmp(hash, "SHA-256")) return "SHA2-256";
    if (!strcasecmp(hash, "SHA-384")) return "SHA2-384";
    if (!strcasecmp(hash, "SHA-512")) return "SHA2-512";
    return NULL;
}

static int buf_alloc(hc_buf *out, size_t len) {
    out->p = malloc(len ? len : 1);
    out->len = len;
    return out->p ? HC_OK : HC_OPERATION;
}

int hc_hmac(const char *hash, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
            hc_buf *out) {
    const char *md = md_name(hash);
    if (!md) return HC_NOT_SUPPORTED;
    static const uint8_t empty[1];
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_end(),
    };
    int rc = HC_OPERATION;
    size_t n = 0;
    if (ctx && buf_alloc(out, EVP_MAX_MD_SIZE) == HC_OK &&
        EVP_MAC_init(ctx, key_len ? key : empty, key_len, params) &&
        EVP_MAC_update(ctx, data, len) && EVP_MAC_final(ctx, out->p, &n, out->len)) {
        out->len = n;
        rc = HC_OK;
    } else {
        hc_buf_free(out);
    }
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

static const EVP_CIPHER *aes_cipher(const char *mode, size_t key_len) {
    int bits = (int)key_len * 8;
    if (bits != 128 && bits != 192 && bits != 256) return NULL;
    if (!strcmp(mode, "AES-GCM"))
        return bits == 128   ? EVP_aes_128_gcm()
               : bits == 192 ? EVP_aes_192_gcm()
                             : EVP_aes_256_gcm();
    if (!strcmp(mode, "AES-CBC"))
        return bits == 128   ? EVP_aes_128_cbc()
               : bits == 192 ? EVP_aes_192_cbc()
                             : EVP_aes_256_cbc();
    if (!strcmp(mode, "AES-CTR"))
        return bits == 128   ? EVP_aes_128_ctr()
               : bits == 192 ? EVP_aes_192_ctr()
                             : EVP_aes_256_ctr();
    if (!strcmp(mode, "AES-KW"))
        return bits == 128   ? EVP_aes_128_wrap()
               : bits == 192 ? EVP_aes_192_wrap()
                             : EVP_aes_256_wrap();
    return NULL;
}

/* One pass of a cipher over in → out (out has room for in_len + 16 + 8). */
static int run_cipher(const EVP_CIPHER *cipher, int encrypt, const uint8_t *key, const uint8_t *iv,
                      const uint8_t *in, size_t in_len, uint8_t *out, size_t *out_len, int wrap) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = 0, n = 0, m = 0;
    if (!ctx || in_len > INT32_MAX) goto done;
    if (wrap) EVP_CIPHER_CTX_set_flags(ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
    if (!EVP_CipherInit_ex(ctx, cipher, NULL, key, iv, encrypt)) goto done;
    if (!EVP_CipherUpdate(ctx, out, &n, in, (int)in_len)) goto done;
    if (!EVP_CipherFinal_ex(ctx, out + n, &m)) goto done;
    *out_len = (size_t)n + (size_t)m;
    ok = 1;
done:
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

static int aes_gcm(int encrypt, const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t *iv,
                   size_t iv_len, const uint8_t *aad, size_t aad_len, unsigned tag_bits,
                   const uint8_t *in, size_t in_len, hc_buf *out) {
    size_t tag_len = tag_bits / 8;
    if (tag_bits % 8 || !(tag_len == 4 || tag_len == 8 || (tag_len >= 12 && tag_len <= 16)))
        return HC_OPERATION;
    if (iv_len == 0 || iv_len > INT32_MAX || aad_len > INT32_MAX || in_len > INT32_MAX)
        return HC_OPERATION;
    if (!encrypt && in_len < tag_len) return HC_OPERATION;
    size_t body = encrypt ? in_len : in_len - tag_len;
    if (buf_alloc(out, body + (encrypt ? tag_len : 0)) != HC_OK) return HC_OPERATION;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int ok = 0, n = 0, m = 0;
    if (!ctx || !EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, encrypt)) goto done;
    if (!EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, (int)iv_len, NULL)) goto done;
    if (!EVP_CipherInit_ex(ctx, NULL, NULL, key, iv, encrypt)) goto done;
    if (aad_len && !EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len)) goto done;
    if (body && !EVP_CipherUpdate(ctx, out->p, &n, in, (int)body)) goto done;
    if (!body) n = 0;
    if (!encrypt &&
        !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, (int)tag_len, (void *)(in + body)))
        goto done;
    if (!EVP_CipherFinal_ex(ctx, out->p + n, &m)) goto done;
    if (encrypt && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, (int)tag_len, out->p + body))
        goto done;
    ok = 1;
done:
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) hc_buf_free(out);
    return ok ? HC_OK : HC_OPERATION;
}

/* AES-CTR whose counter is the rightmost ctr_bits of the block: OpenSSL increments all 128
 * bits, so the input is split where the counter would carry out of its bits. */
static int aes_ctr(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t *iv,
                   unsigned ctr_bits, const uint8_t *in, size_t in_len, hc_buf *out) {
    if (ctr_bits == 0 || ctr_bits > 128) return HC_OPERATION;
    size_t blocks = (in_len + 15) / 16;
    /* Counter value now (low 64 bits suffice: longer counters never wrap in practice). */
    unsigned low_bits = ctr_bits > 64 ? 64 : ctr_bits;
    uint64_t ctr = 0;
    for (int i = 8; i < 16; i++) ctr = ctr << 8 | iv[i];
    uint64_t mask = low_bits == 64 ? UINT64_MAX : (((uint64_t)1 << low_bits) - 1);
    ctr &= mask;
    if (ctr_bits < 64 && blocks > ((uint64_t)1 << ctr_bits)) return HC_OPERATION;
    uint64_t before_wrap = ctr_bits >= 64 ? UINT64_MAX : (mask - ctr + 1);
    if (buf_alloc(out, in_len + 16) != HC_OK) return HC_OPERATION;
    size_t first = in_len;
    if (ctr_bits < 64 && blocks > before_wrap) first = (size_t)before_wrap * 16;
    size_t n1 = 0, n2 = 0;
    int ok = run_cipher(cipher, 1, key, iv, in, first, out->p, &n1, 0);
    if (ok && first < in_len) {
        uint8_t iv2[16];
        memcpy(iv2, iv, 16);
        for (unsigned b = 0; b < ctr_bits; b++) iv2[15 - b / 8] &= (uint8_t) ~(1u << (b % 8));
        ok = run_cipher(cipher, 1, key, iv2, in + first, in_len - first, out->p + n1, &n2, 0);
    }
    if (!ok) {
        hc_buf_free(out);
        return HC_OPERATION;
    }
    out->len = n1 + n2;
    return HC_OK;
}

int hc_aes(const char *mode, int encrypt, const uint8_t *key, size_t key_len, const uint8_t *iv,
           size_t iv_len, const uint8_t *aad, size_t aad_len, unsigned tag_bits, unsigned ctr_bits,
           const uint8_t *in, size_t in_len, hc_buf *out) {
    const EVP_CIPHER *cipher = aes_cipher(mode, key_len);
    out->p = NULL;
    out->len = 0;
    if (!cipher) return HC_OPERATION;
    if (!strcmp(mode, "AES-GCM"))
        return aes_gcm(encrypt, cipher, key, iv, iv_len, aad, aad_len, tag_bits, in, in_len, out);
    if (iv_len != 16) return HC_OPERATION;
    if (!strcmp(mode, "AES-CTR")) return aes_ctr(cipher, key, iv, ctr_bits, in, in_len, out);
    if (!strcmp(mode, "AES-CBC")) {
        if (buf_alloc(out, in_len + 16) != HC_OK) return HC_OPERATION;
        size_t n = 0;
        if (!run_cipher(cipher, encrypt, key, iv, in, in_len, out->p, &n, 0)) {
            hc_buf_free(out);
            return HC_OPERATION;
        }
        out->len = n;
        return HC_OK;
    }
    return HC_OPERATION;
}

int hc_aes_kw(int wrap, const uint8_t *key, size_t key_len, const uint8_t *in, size_t in_len,
              hc_buf *out) {
    const EVP_CIPHER *cipher = aes_cipher("AES-KW", key_len);
    out->p = NULL;
    out->len = 0;
    if (!cipher) return HC_OPERATION;
    if (in_len % 8 || in_len < (wrap ? 16u : 24u)) return HC_OPERATION;
    if (buf_alloc(out, in_len + 16) != HC_OK) return HC_OPERATION;
    size_t n = 0;
    if (!run_cipher(cipher, wrap, key, NULL, in, in_len, out->p, &n, 1)) {
        hc_buf_free(out);
        return HC_OPERATION;
    }
    out->len = n;
    return HC_OK;
}

static int kdf(const char *name, OSSL_PARAM *params, size_t out_len, hc_buf *out) {
    out->p = NULL;
    out->len = 0;
    EVP_KDF *k = EVP_KDF_fetch(NULL, name, NULL);
    EVP_KDF_CTX *ctx = k ? EVP_KDF_CTX_new(k) : NULL;
    int rc = HC_OPERATION;
    if (ctx && buf_alloc(out, out_len) == HC_OK) {
        if (out_len == 0 || EVP_KDF_derive(ctx, out->p, out_len, params) > 0)
            rc = HC_OK;
        else
            hc_buf_free(out);
    }
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(k);
    return rc;
}

int hc_pbkdf2(const char *hash, const uint8_t *pw, size_t pw_len, const uint8_t *salt,
              size_t salt_len, unsigned iterations, size_t out_len, hc_buf *out) {
    const char *md = md_name(hash);
    if (!md) return HC_NOT_SUPPORTED;
    if (iterations == 0) return HC_OPERATION;
    static uint8_t empty[1];
    int no_check = 0; /* allow short salts and passwords, as WebCrypto does */
    uint64_t iter = iterations;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, pw_len ? (void *)pw : empty,
                                          pw_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_len ? (void *)salt : empty,
                                          salt_len),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_ITER, &iter),
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_PKCS5, &no_check),
        OSSL_PARAM_construct_end(),
    };
    no_check = 1;
    return kdf("PBKDF2", params, out_len, out);
}

int hc_hkdf(const char *hash, const uint8_t *ikm, size_t ikm_len, const uint8_t *salt,
            size_t salt_len, const uint8_t *info, size_t info_len, size_t out_len, hc_buf *out) {
    const char *md = md_name(hash);
    if (!md) return HC_NOT_SUPPORTED;
    static uint8_t empty[1];
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm_len ? (void *)ikm : empty,
                                          ikm_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt_len ? (void *)salt : empty,
                                          salt_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info_len ? (void *)info : empty,
                                          info_len),
        OSSL_PARAM_construct_end(),
    };
    return kdf("HKDF", params, out_len, out);
}
