/* crypto_pkey — EC (ECDSA, ECDH), Ed25519, X25519 and RSA keys for crypto.subtle: import and
 * export (SPKI, PKCS #8, raw, JWK components), generation, signatures, RSA-OAEP and key
 * agreement. Keys cross this file as DER; each call parses, works and frees. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "webapi/crypto_impl.h"

static const EVP_MD *md_of(const char *hash) {
    if (!hash) return NULL;
    if (!strcasecmp(hash, "SHA-1")) return EVP_sha1();
    if (!strcasecmp(hash, "SHA-256")) return EVP_sha256();
    if (!strcasecmp(hash, "SHA-384")) return EVP_sha384();
    if (!strcasecmp(hash, "SHA-512")) return EVP_sha512();
    return NULL;
}

static const char *group_of(const char *curve) {
    if (!curve) return NULL;
    if (!strcmp(curve, "P-256")) return "prime256v1";
    if (!strcmp(curve, "P-384")) return "secp384r1";
    if (!strcmp(curve, "P-521")) return "secp521r1";
    return NULL;
}

static size_t curve_bytes(const char *curve) {
    return !strcmp(curve, "P-256") ? 32 : !strcmp(curve, "P-384") ? 48 : 66;
}

static int take(hc_buf *out, uint8_t *p, int len) {
    if (len <= 0) {
        OPENSSL_free(p);
        return HC_OPERATION;
    }
    out->p = malloc((size_t)len);
    if (!out->p) {
        OPENSSL_free(p);
        return HC_OPERATION;
    }
    memcpy(out->p, p, (size_t)len);
    out->len = (size_t)len;
    OPENSSL_clear_free(p, (size_t)len);
    return HC_OK;
}

static int to_spki(EVP_PKEY *k, hc_buf *out) {
    uint8_t *p = NULL;
    int n = i2d_PUBKEY(k, &p);
    return take(out, p, n);
}

static int to_pkcs8(EVP_PKEY *k, hc_buf *out) {
    PKCS8_PRIV_KEY_INFO *info = EVP_PKEY2PKCS8(k);
    if (!info) return HC_OPERATION;
    uint8_t *p = NULL;
    int n = i2d_PKCS8_PRIV_KEY_INFO(info, &p);
    PKCS8_PRIV_KEY_INFO_free(info);
    return take(out, p, n);
}

static EVP_PKEY *from_spki(const uint8_t *der, size_t len) {
    const uint8_t *p = der;
    if (len > INT32_MAX) return NULL;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)len);
    if (k && p != der + len) {
        EVP_PKEY_free(k);
        return NULL;
    }
    return k;
}

static EVP_PKEY *from_pkcs8(const uint8_t *der, size_t len) {
    const uint8_t *p = der;
    if (len > INT32_MAX) return NULL;
    PKCS8_PRIV_KEY_INFO *info = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, (long)len);
    if (!info) return NULL;
    EVP_PKEY *k = p == der + len ? EVP_PKCS82PKEY(info) : NULL;
    PKCS8_PRIV_KEY_INFO_free(info);
    return k;
}

static EVP_PKEY *from_der(int type, const uint8_t *der, size_t len) {
    return type == HC_PRIVATE ? from_pkcs8(der, len) : from_spki(der, len);
}

/* Is k a key of this kind (and curve), and sound? */
static int check_kind(EVP_PKEY *k, const char *kind, const char *curve, int type) {
    if (!strcmp(kind, "EC")) {
        if (!EVP_PKEY_is_a(k, "EC")) return 0;
        char name[64];
        size_t n = 0;
        if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &n))
            return 0;
        const char *want = group_of(curve);
        if (!want || strcmp(name, want)) return 0;
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
        int ok =
            ctx && (type == HC_PRIVATE ? EVP_PKEY_check(ctx) : EVP_PKEY_public_check(ctx)) == 1;
        EVP_PKEY_CTX_free(ctx);
        return ok;
    }
    if (!strcmp(kind, "Ed25519")) return EVP_PKEY_is_a(k, "ED25519");
    if (!strcmp(kind, "X25519")) return EVP_PKEY_is_a(k, "X25519");
    if (!strcmp(kind, "RSA")) return EVP_PKEY_is_a(k, "RSA") && EVP_PKEY_get_bits(k) >= 256;
    return 0;
}

/* EC and RSA keys remember details of the DER they came from (the ECPrivateKey and RSA
 * version fields, an EC point's compressed form) and would write them back out; a key rebuilt
 * from its components exports canonically, as WebCrypto requires. Frees k. */
static EVP_PKEY *rebuild(EVP_PKEY *k, int type) {
    if (!k || !(EVP_PKEY_is_a(k, "EC") || EVP_PKEY_is_a(k, "RSA"))) return k;
    int sel = type == HC_PRIVATE ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    EVP_PKEY *out = NULL;
    if (ctx && EVP_PKEY_todata(k, sel, &params) > 0 && EVP_PKEY_fromdata_init(ctx) > 0 &&
        EVP_PKEY_fromdata(ctx, &out, sel, params) <= 0)
        out = NULL;
    if (out && EVP_PKEY_is_a(out, "EC") &&
        !EVP_PKEY_set_utf8_string_param(out, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                        "uncompressed")) {
        EVP_PKEY_free(out);
        out = NULL;
    }
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(k);
    return out;
}

static int finish_import(EVP_PKEY *k, const char *kind, const char *curve, int type, int *out_type,
                         hc_buf *der) {
    int rc = HC_DATA;
    k = rebuild(k, type);
    if (k && check_kind(k, kind, curve, type))
        rc = type == HC_PRIVATE ? to_pkcs8(k, der) : to_spki(k, der);
    EVP_PKEY_free(k);
    if (rc == HC_OK) *out_type = type;
    return rc == HC_OK ? HC_OK : HC_DATA;
}

static EVP_PKEY *from_params(const char *name, int selection, OSSL_PARAM_BLD *bld) {
    OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, name, NULL) : NULL;
    EVP_PKEY *k = NULL;
    if (ctx && EVP_PKEY_fromdata_init(ctx) > 0) {
        if (EVP_PKEY_fromdata(ctx, &k, selection, params) <= 0) k = NULL;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return k;
}

static EVP_PKEY *ec_from_parts(const char *curve, const uint8_t *pub, size_t pub_len,
                               const BIGNUM *priv) {
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *k = NULL;
    if (bld &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group_of(curve), 0) &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len) &&
        (!priv || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)))
        k = from_params("EC", priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld);
    OSSL_PARAM_BLD_free(bld);
    return k;
}

int hc_pkey_import(const char *kind, const char *curve, const char *format, const uint8_t *data,
                   size_t len, int *type, hc_buf *der) {
    der->p = NULL;
    der->len = 0;
    if (!strcmp(kind, "EC") && !group_of(curve)) return HC_NOT_SUPPORTED;
    if (!strcmp(format, "spki"))
        return finish_import(from_spki(data, len), kind, curve, HC_PUBLIC, type, der);
    if (!strcmp(format, "pkcs8"))
        return finish_import(from_pkcs8(data, len), kind, curve, HC_PRIVATE, type, der);
    if (!strcmp(format, "raw")) {
        EVP_PKEY *k = NULL;
        if (!strcmp(kind, "EC")) {
            size_t n = curve_bytes(curve);
            if ((len == 2 * n + 1 && data[0] == 4) ||
                (len == n + 1 && (data[0] == 2 || data[0] == 3)))
                k = ec_from_parts(curve, data, len, NULL);
        } else if (!strcmp(kind, "Ed25519") || !strcmp(kind, "X25519")) {
            if (len == 32)
                k = EVP_PKEY_new_raw_public_key_ex(
                    NULL, !strcmp(kind, "Ed25519") ? "ED25519" : "X25519", NULL, data, len);
        } else {
            return HC_NOT_SUPPORTED;
        }
        return finish_import(k, kind, curve, HC_PUBLIC, type, der);
    }
    return HC_NOT_SUPPORTED;
}

static BIGNUM *bn_of(const hc_buf *b) {
    if (!b->p || b->len == 0 || b->len > 2048) return NULL;
    return BN_bin2bn(b->p, (int)b->len, NULL);
}

int hc_pkey_import_jwk(const char *kind, const char *curve, const hc_buf f[HC_JWK_MAX], int *type,
                       hc_buf *der) {
    der->p = NULL;
    der->len = 0;
    EVP_PKEY *k = NULL;
    int t = HC_PUBLIC;
    if (!strcmp(kind, "EC")) {
        if (!group_of(curve)) return HC_NOT_SUPPORTED;
        size_t n = curve_bytes(curve);
        if (!f[0].p || !f[1].p || f[0].len != n || f[1].len != n) return HC_DATA;
        if (f[2].p && f[2].len != n) return HC_DATA;
        uint8_t pub[1 + 2 * 66];
        pub[0] = 4;
        memcpy(pub + 1, f[0].p, n);
        memcpy(pub + 1 + n, f[1].p, n);
        BIGNUM *d = f[2].p ? bn_of(&f[2]) : NULL;
        if (f[2].p && !d) return HC_DATA;
        t = d ? HC_PRIVATE : HC_PUBLIC;
        k = ec_from_parts(curve, pub, 1 + 2 * n, d);
        BN_clear_free(d);
    } else if (!strcmp(kind, "Ed25519") || !strcmp(kind, "X25519")) {
        const char *name = !strcmp(kind, "Ed25519") ? "ED25519" : "X25519";
        if (!f[0].p || f[0].len != 32) return HC_DATA;
        if (f[1].p) {
            if (f[1].len != 32) return HC_DATA;
            t = HC_PRIVATE;
            k = EVP_PKEY_new_raw_private_key_ex(NULL, name, NULL, f[1].p, 32);
            /* The given public key must be the private key's. */
            uint8_t pub[32];
            size_t pl = sizeof pub;
            if (k && (!EVP_PKEY_get_raw_public_key(k, pub, &pl) || pl != 32 ||
                      memcmp(pub, f[0].p, 32))) {
                EVP_PKEY_free(k);
                k = NULL;
            }
        } else {
            k = EVP_PKEY_new_raw_public_key_ex(NULL, name, NULL, f[0].p, 32);
        }
    } else if (!strcmp(kind, "RSA")) {
        static const char *names[] = {
            OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
            OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
            OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
            OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
        };
        if (!f[0].p || !f[1].p) return HC_DATA;
        t = f[2].p ? HC_PRIVATE : HC_PUBLIC;
        size_t count = t == HC_PRIVATE ? 8 : 2;
        if (t == HC_PRIVATE)
            for (size_t i = 3; i < 8; i++)
                if (!f[i].p) return HC_DATA; /* multi-prime and d-only keys are not supported */
        BIGNUM *bn[8] = {0};
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        int ok = bld != NULL;
        for (size_t i = 0; ok && i < count; i++) {
            bn[i] = bn_of(&f[i]);
            ok = bn[i] && OSSL_PARAM_BLD_push_BN(bld, names[i], bn[i]);
        }
        if (ok)
            k = from_params("RSA", t == HC_PRIVATE ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld);
        OSSL_PARAM_BLD_free(bld);
        for (size_t i = 0; i < 8; i++) BN_clear_free(bn[i]);
    } else {
        return HC_NOT_SUPPORTED;
    }
    return finish_import(k, kind, curve, t, type, der);
}

static int bn_field(EVP_PKEY *k, const char *param, size_t pad, hc_buf *out) {
    BIGNUM *bn = NULL;
    if (!EVP_PKEY_get_bn_param(k, param, &bn)) return HC_OPERATION;
    size_t n = pad ? pad : (size_t)BN_num_bytes(bn);
    if (n == 0) n = 1;
    int rc = HC_OPERATION;
    out->p = malloc(n);
    if (out->p && BN_bn2binpad(bn, out->p, (int)n) == (int)n) {
        out->len = n;
        rc = HC_OK;
    }
    BN_clear_free(bn);
    return rc;
}

int hc_pkey_export_jwk(const char *kind, int type, const uint8_t *der, size_t len,
                       hc_buf f[HC_JWK_MAX]) {
    memset(f, 0, sizeof(hc_buf) * HC_JWK_MAX);
    EVP_PKEY *k = from_der(type, der, len);
    if (!k) return HC_DATA;
    int rc = HC_OPERATION;
    if (!strcmp(kind, "EC")) {
        size_t n = (size_t)(EVP_PKEY_get_bits(k) + 7) / 8;
        rc = bn_field(k, OSSL_PKEY_PARAM_EC_PUB_X, n, &f[0]);
        if (rc == HC_OK) rc = bn_field(k, OSSL_PKEY_PARAM_EC_PUB_Y, n, &f[1]);
        if (rc == HC_OK && type == HC_PRIVATE) rc = bn_field(k, OSSL_PKEY_PARAM_PRIV_KEY, n, &f[2]);
    } else if (!strcmp(kind, "Ed25519") || !strcmp(kind, "X25519")) {
        f[0].p = malloc(32);
        f[0].len = 32;
        rc = f[0].p && EVP_PKEY_get_raw_public_key(k, f[0].p, &f[0].len) ? HC_OK : HC_OPERATION;
        if (rc == HC_OK && type == HC_PRIVATE) {
            f[1].p = malloc(32);
            f[1].len = 32;
            rc =
                f[1].p && EVP_PKEY_get_raw_private_key(k, f[1].p, &f[1].len) ? HC_OK : HC_OPERATION;
        }
    } else if (!strcmp(kind, "RSA")) {
        static const char *names[] = {
            OSSL_PKEY_PARAM_RSA_N,         OSSL_PKEY_PARAM_RSA_E,
            OSSL_PKEY_PARAM_RSA_D,         OSSL_PKEY_PARAM_RSA_FACTOR1,
            OSSL_PKEY_PARAM_RSA_FACTOR2,   OSSL_PKEY_PARAM_RSA_EXPONENT1,
            OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
        };
        size_t count = type == HC_PRIVATE ? 8 : 2;
        rc = HC_OK;
        for (size_t i = 0; rc == HC_OK && i < count; i++) rc = bn_field(k, names[i], 0, &f[i]);
    }
    EVP_PKEY_free(k);
    if (rc != HC_OK)
        for (size_t i = 0; i < HC_JWK_MAX; i++) hc_buf_free(&f[i]);
    return rc;
}

int hc_pkey_export_raw(const uint8_t *spki, size_t len, hc_buf *out) {
    out->p = NULL;
    out->len = 0;
    EVP_PKEY *k = from_spki(spki, len);
    if (!k) return HC_DATA;
    int rc = HC_OPERATION;
    if (EVP_PKEY_is_a(k, "EC")) {
        uint8_t *p = NULL;
        size_t n = EVP_PKEY_get1_encoded_public_key(k, &p);
        if (n)
            rc = take(out, p, (int)n);
        else
            OPENSSL_free(p);
    } else if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "X25519")) {
        out->p = malloc(32);
        out->len = 32;
        rc = out->p && EVP_PKEY_get_raw_public_key(k, out->p, &out->len) ? HC_OK : HC_OPERATION;
        if (rc != HC_OK) hc_buf_free(out);
    } else {
        rc = HC_INVALID_ACCESS;
    }
    EVP_PKEY_free(k);
    return rc;
}

int hc_pkey_public_of(const uint8_t *pkcs8, size_t len, hc_buf *spki) {
    spki->p = NULL;
    spki->len = 0;
    EVP_PKEY *k = from_pkcs8(pkcs8, len);
    if (!k) return HC_DATA;
    int rc = to_spki(k, spki);
    EVP_PKEY_free(k);
    return rc;
}

int hc_pkey_rsa_info(int type, const uint8_t *der, size_t len, unsigned *bits, hc_buf *pubexp) {
    pubexp->p = NULL;
    pubexp->len = 0;
    EVP_PKEY *k = from_der(type, der, len);
    if (!k || !EVP_PKEY_is_a(k, "RSA")) {
        EVP_PKEY_free(k);
        return HC_DATA;
    }
    *bits = (unsigned)EVP_PKEY_get_bits(k);
    int rc = bn_field(k, OSSL_PKEY_PARAM_RSA_E, 0, pubexp);
    EVP_PKEY_free(k);
    return rc;
}

int hc_pkey_generate(const char *kind, const char *curve, unsigned rsa_bits, const uint8_t *pubexp,
                     size_t pubexp_len, hc_buf *spki, hc_buf *pkcs8) {
    spki->p = pkcs8->p = NULL;
    spki->len = pkcs8->len = 0;
    EVP_PKEY *k = NULL;
    if (!strcmp(kind, "EC")) {
        if (!group_of(curve)) return HC_NOT_SUPPORTED;
        k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group_of(curve));
    } else if (!strcmp(kind, "Ed25519")) {
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    } else if (!strcmp(kind, "X25519")) {
        k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    } else if (!strcmp(kind, "RSA")) {
        if (rsa_bits < 512 || rsa_bits > 8192 || rsa_bits % 8 || !pubexp_len || pubexp_len > 8)
            return HC_OPERATION;
        BIGNUM *e = BN_bin2bn(pubexp, (int)pubexp_len, NULL);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
        /* Only odd exponents ≥ 3 make keys; OpenSSL would loop or fail on others. */
        if (e && ctx && BN_is_odd(e) && !BN_is_one(e) && EVP_PKEY_keygen_init(ctx) > 0 &&
            EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, (int)rsa_bits) > 0 &&
            EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e) > 0) {
            if (EVP_PKEY_generate(ctx, &k) <= 0) k = NULL;
        }
        EVP_PKEY_CTX_free(ctx);
        BN_free(e);
    } else {
        return HC_NOT_SUPPORTED;
    }
    if (!k) return HC_OPERATION;
    int rc = to_spki(k, spki);
    if (rc == HC_OK) rc = to_pkcs8(k, pkcs8);
    EVP_PKEY_free(k);
    if (rc != HC_OK) {
        hc_buf_free(spki);
        hc_buf_free(pkcs8);
    }
    return rc;
}

/* Sets up RSA padding on a signing/verifying context. */
static int rsa_sig_setup(EVP_PKEY_CTX *pctx, const char *alg, const EVP_MD *md, unsigned salt) {
    if (!strcmp(alg, "RSA-PSS"))
        return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
               EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)salt) > 0 &&
               EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0;
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
}

static int alg_matches(EVP_PKEY *k, const char *alg) {
    if (!strcmp(alg, "ECDSA")) return EVP_PKEY_is_a(k, "EC");
    if (!strcmp(alg, "Ed25519")) return EVP_PKEY_is_a(k, "ED25519");
    if (!strcmp(alg, "RSASSA-PKCS1-v1_5") || !strcmp(alg, "RSA-PSS"))
        return EVP_PKEY_is_a(k, "RSA");
    return 0;
}

int hc_sign(const char *alg, const char *hash, unsigned salt_len, const uint8_t *pkcs8,
            size_t key_len, const uint8_t *data, size_t len, hc_buf *sig) {
    sig->p = NULL;
    sig->len = 0;
    int ed = !strcmp(alg, "Ed25519");
    const EVP_MD *md = ed ? NULL : md_of(hash);
    if (!ed && !md) return HC_NOT_SUPPORTED;
    if (salt_len > 4096) return HC_OPERATION;
    EVP_PKEY *k = from_pkcs8(pkcs8, key_len);
    if (!k || !alg_matches(k, alg)) {
        EVP_PKEY_free(k);
        return HC_INVALID_ACCESS;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    uint8_t *der = NULL;
    size_t n = 0;
    int rc = HC_OPERATION;
    if (!ctx || EVP_DigestSignInit(ctx, &pctx, md, NULL, k) <= 0) goto done;
    if (!strncmp(alg, "RSA", 3) && !rsa_sig_setup(pctx, alg, md, salt_len)) goto done;
    static const uint8_t empty[1];
    if (EVP_DigestSign(ctx, NULL, &n, len ? data : empty, len) <= 0) goto done;
    der = OPENSSL_malloc(n);
    if (!der || EVP_DigestSign(ctx, der, &n, len ? data : empty, len) <= 0) goto done;
    if (!strcmp(alg, "ECDSA")) {
        /* DER ECDSA-Sig-Value → r || s, each padded to the field size. */
        size_t fn = (size_t)(EVP_PKEY_get_bits(k) + 7) / 8;
        const uint8_t *p = der;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
        if (!es) goto done;
        sig->p = malloc(2 * fn);
        sig->len = 2 * fn;
        if (sig->p && BN_bn2binpad(ECDSA_SIG_get0_r(es), sig->p, (int)fn) == (int)fn &&
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig->p + fn, (int)fn) == (int)fn)
            rc = HC_OK;
        ECDSA_SIG_free(es);
        if (rc != HC_OK) hc_buf_free(sig);
    } else {
        sig->p = malloc(n);
        if (sig->p) {
            memcpy(sig->p, der, n);
            sig->len = n;
            rc = HC_OK;
        }
    }
done:
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return rc;
}

int hc_verify(const char *alg, const char *hash, unsigned salt_len, const uint8_t *spki,
              size_t key_len, const uint8_t *sig, size_t sig_len, const uint8_t *data, size_t len,
              int *ok) {
    *ok = 0;
    int ed = !strcmp(alg, "Ed25519");
    const EVP_MD *md = ed ? NULL : md_of(hash);
    if (!ed && !md) return HC_NOT_SUPPORTED;
    if (salt_len > 4096) return HC_OPERATION;
    EVP_PKEY *k = from_spki(spki, key_len);
    if (!k || !alg_matches(k, alg)) {
        EVP_PKEY_free(k);
        return HC_INVALID_ACCESS;
    }
    uint8_t *der = NULL;
    int der_len = 0;
    const uint8_t *s = sig;
    size_t s_len = sig_len;
    if (!strcmp(alg, "ECDSA")) {
        /* r || s → DER; a signature of the wrong length is simply invalid. */
        size_t fn = (size_t)(EVP_PKEY_get_bits(k) + 7) / 8;
        if (sig_len != 2 * fn) {
            EVP_PKEY_free(k);
            return HC_OK;
        }
        ECDSA_SIG *es = ECDSA_SIG_new();
        BIGNUM *r = BN_bin2bn(sig, (int)fn, NULL), *sv = BN_bin2bn(sig + fn, (int)fn, NULL);
        if (es && r && sv && ECDSA_SIG_set0(es, r, sv)) {
            r = sv = NULL;
            der_len = i2d_ECDSA_SIG(es, &der);
        }
        BN_free(r);
        BN_free(sv);
        ECDSA_SIG_free(es);
        if (der_len <= 0) {
            EVP_PKEY_free(k);
            return HC_OPERATION;
        }
        s = der;
        s_len = (size_t)der_len;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int rc = HC_OPERATION;
    static const uint8_t empty[1];
    if (ctx && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k) > 0 &&
        (strncmp(alg, "RSA", 3) || rsa_sig_setup(pctx, alg, md, salt_len))) {
        *ok = EVP_DigestVerify(ctx, s, s_len, len ? data : empty, len) == 1;
        rc = HC_OK;
    }
    OPENSSL_free(der);
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    return rc;
}

int hc_rsa_oaep(int encrypt, const char *hash, const uint8_t *der, size_t key_len,
                const uint8_t *label, size_t label_len, const uint8_t *in, size_t in_len,
                hc_buf *out) {
    out->p = NULL;
    out->len = 0;
    const EVP_MD *md = md_of(hash);
    if (!md) return HC_NOT_SUPPORTED;
    EVP_PKEY *k = from_der(encrypt ? HC_PUBLIC : HC_PRIVATE, der, key_len);
    if (!k || !EVP_PKEY_is_a(k, "RSA")) {
        EVP_PKEY_free(k);
        return HC_INVALID_ACCESS;
    }
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
    int rc = HC_OPERATION;
    size_t n = 0;
    uint8_t *lab = NULL;
    if (!ctx || (encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) <= 0) goto done;
    if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md) <= 0 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) <= 0)
        goto done;
    if (label_len) {
        lab = OPENSSL_memdup(label, label_len);
        if (!lab || EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, lab, (int)label_len) <= 0) goto done;
        lab = NULL; /* owned by ctx now */
    }
    static const uint8_t empty[1];
    const uint8_t *src = in_len ? in : empty;
    if ((encrypt ? EVP_PKEY_encrypt(ctx, NULL, &n, src, in_len)
                 : EVP_PKEY_decrypt(ctx, NULL, &n, src, in_len)) <= 0)
        goto done;
    out->p = malloc(n ? n : 1);
    if (!out->p) goto done;
    if ((encrypt ? EVP_PKEY_encrypt(ctx, out->p, &n, src, in_len)
                 : EVP_PKEY_decrypt(ctx, out->p, &n, src, in_len)) <= 0) {
        hc_buf_free(out);
        goto done;
    }
    out->len = n;
    rc = HC_OK;
done:
    OPENSSL_free(lab);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(k);
    return rc;
}

int hc_derive(const uint8_t *pkcs8, size_t key_len, const uint8_t *peer_spki, size_t peer_len,
              hc_buf *out) {
    out->p = NULL;
    out->len = 0;
    EVP_PKEY *k = from_pkcs8(pkcs8, key_len), *peer = from_spki(peer_spki, peer_len);
    EVP_PKEY_CTX *ctx = k && peer ? EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL) : NULL;
    int rc = k && peer ? HC_OPERATION : HC_INVALID_ACCESS;
    size_t n = 0;
    if (ctx && EVP_PKEY_derive_init(ctx) > 0 && EVP_PKEY_derive_set_peer(ctx, peer) > 0 &&
        EVP_PKEY_derive(ctx, NULL, &n) > 0 && (out->p = malloc(n ? n : 1)) != NULL) {
        if (EVP_PKEY_derive(ctx, out->p, &n) > 0) {
            out->len = n;
            rc = HC_OK;
        } else {
            hc_buf_free(out);
        }
    }
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(k);
    EVP_PKEY_free(peer);
    return rc;
}
