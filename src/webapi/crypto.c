#include "webapi/crypto.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "base/ids.h"
#include "js/engine.h"
#include "webapi/crypto_impl.h"

/* randomBytes(n) → ArrayBuffer of n bytes from the kernel CSPRNG (n ≤ 65536, checked by the
 * caller as getRandomValues' quota). */
static void op_random_bytes(js_call *c) {
    double n = js_arg_number(c, 0);
    if (!(n >= 0 && n <= 65536)) {
        js_throw(c, "RangeError", "randomBytes: bad length");
        return;
    }
    uint8_t b[65536];
    size_t len = (size_t)n, off = 0;
    while (off < len) {
        ssize_t got = getrandom(b + off, len - off, 0);
        if (got <= 0) {
            js_throw(c, "Error", "the system random number generator failed");
            return;
        }
        off += (size_t)got;
    }
    js_ret_bytes(c, b, len);
}

static void op_random_uuid(js_call *c) {
    char id[37];
    uuid_v4(id);
    js_ret_latin1(c, id, 36);
}

static const EVP_MD *digest_by_name(const char *name) {
    if (!strcasecmp(name, "SHA-1")) return EVP_sha1();
    if (!strcasecmp(name, "SHA-256")) return EVP_sha256();
    if (!strcasecmp(name, "SHA-384")) return EVP_sha384();
    if (!strcasecmp(name, "SHA-512")) return EVP_sha512();
    if (!strcasecmp(name, "MD5")) return EVP_md5(); /* a Workers extension, for compatibility */
    return NULL;
}

/* digest(name, bytes) → ArrayBuffer. The name was normalised by the caller. */
static void op_digest(js_call *c) {
    const char *name = js_arg_string(c, 0, NULL);
    size_t len;
    const uint8_t *data = js_arg_bytes(c, 1, &len);
    const EVP_MD *md = digest_by_name(name);
    if (!md) {
        js_throw(c, "DOMException:NotSupportedError", "Unrecognized name.");
        return;
    }
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int out_len = 0;
    if (!EVP_Digest(data, len, out, &out_len, md, NULL)) {
        js_throw(c, "DOMException:OperationError", "digest failed");
        return;
    }
    js_ret_bytes(c, out, out_len);
}

/* ---- crypto.subtle: thin wrappers over crypto_impl.h ---------------------------------------
 * Byte arguments are copied out at once: js_arg_bytes may hand back a copy of a small buffer
 * whose storage a later js_arg_bytes call can move, so no two views are held together. */

static void arg_dup(js_call *c, size_t i, hc_buf *b) {
    b->p = NULL;
    b->len = 0;
    if (js_arg_is_nullish(c, i)) return;
    size_t n;
    const uint8_t *p = js_arg_bytes(c, i, &n);
    b->p = malloc(n ? n : 1);
    if (!b->p) return;
    memcpy(b->p, p, n);
    b->len = n;
}

/* Copies a short string argument (names of algorithms, hashes, curves, formats). */
static void arg_name(js_call *c, size_t i, char *out, size_t cap) {
    out[0] = 0;
    if (js_arg_is_nullish(c, i)) return;
    size_t n;
    const char *s = js_arg_string(c, i, &n);
    if (n >= cap) n = cap - 1;
    memcpy(out, s, n);
    out[n] = 0;
}

static void ret_result(js_call *c, int rc, hc_buf *out) {
    if (rc != HC_OK) {
        js_throw(c, hc_error_class(rc), "%s",
                 rc == HC_DATA            ? "Invalid key data."
                 : rc == HC_NOT_SUPPORTED ? "Unrecognized or unsupported algorithm parameters."
                 : rc == HC_INVALID_ACCESS
                     ? "The key is not of the expected type."
                     : "The operation failed for an operation-specific reason.");
        return;
    }
    js_ret_bytes_take(c, out->p, out->len);
    out->p = NULL;
    out->len = 0;
}

/* hmac(hash, key, data) */
static void op_hmac(js_call *c) {
    char hash[16];
    hc_buf key, data, out = {0};
    arg_name(c, 0, hash, sizeof hash);
    arg_dup(c, 1, &key);
    arg_dup(c, 2, &data);
    int rc = hc_hmac(hash, key.p, key.len, data.p, data.len, &out);
    ret_result(c, rc, &out);
    hc_buf_free(&key);
    hc_buf_free(&data);
}

/* aes(mode, encrypt, key, iv, aad, tagBits, counterBits, data) */
static void op_aes(js_call *c) {
    char mode[16];
    hc_buf key, iv, aad, data, out = {0};
    arg_name(c, 0, mode, sizeof mode);
    bool enc = js_arg_bool(c, 1);
    arg_dup(c, 2, &key);
    arg_dup(c, 3, &iv);
    arg_dup(c, 4, &aad);
    unsigned tag = (unsigned)js_arg_int(c, 5), ctr = (unsigned)js_arg_int(c, 6);
    arg_dup(c, 7, &data);
    int rc = hc_aes(mode, enc, key.p, key.len, iv.p, iv.len, aad.p, aad.len, tag, ctr, data.p,
                    data.len, &out);
    ret_result(c, rc, &out);
    hc_buf_free(&key);
    hc_buf_free(&iv);
    hc_buf_free(&aad);
    hc_buf_free(&data);
}

/* aesKw(wrap, key, data) */
static void op_aes_kw(js_call *c) {
    hc_buf key, data, out = {0};
    bool wrap = js_arg_bool(c, 0);
    arg_dup(c, 1, &key);
    arg_dup(c, 2, &data);
    ret_result(c, hc_aes_kw(wrap, key.p, key.len, data.p, data.len, &out), &out);
    hc_buf_free(&key);
    hc_buf_free(&data);
}

/* pbkdf2(hash, password, salt, iterations, bytes) */
static void op_pbkdf2(js_call *c) {
    char hash[16];
    hc_buf pw, salt, out = {0};
    arg_name(c, 0, hash, sizeof hash);
    arg_dup(c, 1, &pw);
    arg_dup(c, 2, &salt);
    double iter = js_arg_number(c, 3), n = js_arg_number(c, 4);
    int rc = HC_OPERATION;
    if (iter >= 1 && iter <= 100000000 && n >= 0 && n <= 1 << 20)
        rc = hc_pbkdf2(hash, pw.p, pw.len, salt.p, salt.len, (unsigned)iter, (size_t)n, &out);
    ret_result(c, rc, &out);
    hc_buf_free(&pw);
    hc_buf_free(&salt);
}

/* hkdf(hash, ikm, salt, info, bytes) */
static void op_hkdf(js_call *c) {
    char hash[16];
    hc_buf ikm, salt, info, out = {0};
    arg_name(c, 0, hash, sizeof hash);
    arg_dup(c, 1, &ikm);
    arg_dup(c, 2, &salt);
    arg_dup(c, 3, &info);
    double n = js_arg_number(c, 4);
    int rc = HC_OPERATION;
    if (n >= 0 && n <= 255 * 64)
        rc = hc_hkdf(hash, ikm.p, ikm.len, salt.p, salt.len, info.p, info.len, (size_t)n, &out);
    ret_result(c, rc, &out);
    hc_buf_free(&ikm);
    hc_buf_free(&salt);
    hc_buf_free(&info);
}

static void ret_key(js_call *c, int rc, int type, hc_buf *der) {
    if (rc != HC_OK) {
        ret_result(c, rc, der);
        return;
    }
    js_ret_list(c);
    js_ret_push_number(c, type);
    js_ret_push_bytes(c, der->p, der->len);
    hc_buf_free(der);
}

/* pkeyImport(kind, curve, format, data) → [type, der] (type 0 public/SPKI, 1 private/PKCS #8) */
static void op_pkey_import(js_call *c) {
    char kind[16], curve[16], format[16];
    hc_buf data, der = {0};
    arg_name(c, 0, kind, sizeof kind);
    arg_name(c, 1, curve, sizeof curve);
    arg_name(c, 2, format, sizeof format);
    arg_dup(c, 3, &data);
    int type = 0;
    int rc = hc_pkey_import(kind, curve, format, data.p, data.len, &type, &der);
    ret_key(c, rc, type, &der);
    hc_buf_free(&data);
}

/* pkeyImportJwk(kind, curve, f0..f7) → [type, der]; fields as in crypto_impl.h */
static void op_pkey_import_jwk(js_call *c) {
    char kind[16], curve[16];
    hc_buf f[HC_JWK_MAX], der = {0};
    arg_name(c, 0, kind, sizeof kind);
    arg_name(c, 1, curve, sizeof curve);
    for (size_t i = 0; i < HC_JWK_MAX; i++) arg_dup(c, 2 + i, &f[i]);
    int type = 0;
    int rc = hc_pkey_import_jwk(kind, curve, f, &type, &der);
    ret_key(c, rc, type, &der);
    for (size_t i = 0; i < HC_JWK_MAX; i++) hc_buf_free(&f[i]);
}

/* pkeyExportJwk(kind, type, der) → [f0..f7] (null where absent) */
static void op_pkey_export_jwk(js_call *c) {
    char kind[16];
    hc_buf der, f[HC_JWK_MAX];
    arg_name(c, 0, kind, sizeof kind);
    int type = (int)js_arg_int(c, 1);
    arg_dup(c, 2, &der);
    int rc = hc_pkey_export_jwk(kind, type, der.p, der.len, f);
    hc_buf_free(&der);
    if (rc != HC_OK) {
        ret_result(c, rc, &der);
        return;
    }
    js_ret_list(c);
    for (size_t i = 0; i < HC_JWK_MAX; i++) {
        if (f[i].p)
            js_ret_push_bytes(c, f[i].p, f[i].len);
        else
            js_ret_push_null(c);
        hc_buf_free(&f[i]);
    }
}

/* pkeyExportRaw(spki) */
static void op_pkey_export_raw(js_call *c) {
    hc_buf der, out = {0};
    arg_dup(c, 0, &der);
    ret_result(c, hc_pkey_export_raw(der.p, der.len, &out), &out);
    hc_buf_free(&der);
}

/* pkeyPublicOf(pkcs8) → spki */
static void op_pkey_public_of(js_call *c) {
    hc_buf der, out = {0};
    arg_dup(c, 0, &der);
    ret_result(c, hc_pkey_public_of(der.p, der.len, &out), &out);
    hc_buf_free(&der);
}

/* pkeyRsaInfo(type, der) → [modulusBits, publicExponent] */
static void op_pkey_rsa_info(js_call *c) {
    int type = (int)js_arg_int(c, 0);
    hc_buf der, e = {0};
    arg_dup(c, 1, &der);
    unsigned bits = 0;
    int rc = hc_pkey_rsa_info(type, der.p, der.len, &bits, &e);
    hc_buf_free(&der);
    if (rc != HC_OK) {
        ret_result(c, rc, &e);
        return;
    }
    js_ret_list(c);
    js_ret_push_number(c, bits);
    js_ret_push_bytes(c, e.p, e.len);
    hc_buf_free(&e);
}

/* pkeyGenerate(kind, curve, modulusBits, publicExponent) → [spki, pkcs8] */
static void op_pkey_generate(js_call *c) {
    char kind[16], curve[16];
    hc_buf e, spki = {0}, pkcs8 = {0};
    arg_name(c, 0, kind, sizeof kind);
    arg_name(c, 1, curve, sizeof curve);
    double bits = js_arg_number(c, 2);
    arg_dup(c, 3, &e);
    int rc = HC_OPERATION;
    /* Generation runs on the loop thread where the CPU limit cannot interrupt it: RSA keys
     * are generated up to 8192 bits (seconds), not 16384 (minutes). */
    if (bits >= 0 && bits <= 8192)
        rc = hc_pkey_generate(kind, curve, (unsigned)bits, e.p, e.len, &spki, &pkcs8);
    hc_buf_free(&e);
    if (rc != HC_OK) {
        ret_result(c, rc, &spki);
        return;
    }
    js_ret_list(c);
    js_ret_push_bytes(c, spki.p, spki.len);
    js_ret_push_bytes(c, pkcs8.p, pkcs8.len);
    hc_buf_free(&spki);
    hc_buf_free(&pkcs8);
}

/* sign(alg, hash, saltLength, pkcs8, data) */
static void op_sign(js_call *c) {
    char alg[24], hash[16];
    hc_buf key, data, out = {0};
    arg_name(c, 0, alg, sizeof alg);
    arg_name(c, 1, hash, sizeof hash);
    double salt = js_arg_number(c, 2);
    arg_dup(c, 3, &key);
    arg_dup(c, 4, &data);
    int rc = HC_OPERATION;
    if (salt >= 0 && salt <= 4096)
        rc = hc_sign(alg, hash, (unsigned)salt, key.p, key.len, data.p, data.len, &out);
    ret_result(c, rc, &out);
    hc_buf_free(&key);
    hc_buf_free(&data);
}

/* verify(alg, hash, saltLength, spki, signature, data) → bool */
static void op_verify(js_call *c) {
    char alg[24], hash[16];
    hc_buf key, sig, data, none = {0};
    arg_name(c, 0, alg, sizeof alg);
    arg_name(c, 1, hash, sizeof hash);
    double salt = js_arg_number(c, 2);
    arg_dup(c, 3, &key);
    arg_dup(c, 4, &sig);
    arg_dup(c, 5, &data);
    int ok = 0, rc = HC_OPERATION;
    if (salt >= 0 && salt <= 4096)
        rc = hc_verify(alg, hash, (unsigned)salt, key.p, key.len, sig.p, sig.len, data.p, data.len,
                       &ok);
    if (rc == HC_OK)
        js_ret_bool(c, ok);
    else
        ret_result(c, rc, &none);
    hc_buf_free(&key);
    hc_buf_free(&sig);
    hc_buf_free(&data);
}

/* rsaOaep(encrypt, hash, der, label, data) */
static void op_rsa_oaep(js_call *c) {
    char hash[16];
    hc_buf key, label, data, out = {0};
    bool enc = js_arg_bool(c, 0);
    arg_name(c, 1, hash, sizeof hash);
    arg_dup(c, 2, &key);
    arg_dup(c, 3, &label);
    arg_dup(c, 4, &data);
    ret_result(c,
               hc_rsa_oaep(enc, hash, key.p, key.len, label.p, label.len, data.p, data.len, &out),
               &out);
    hc_buf_free(&key);
    hc_buf_free(&label);
    hc_buf_free(&data);
}

/* deriveShared(pkcs8, peerSpki) */
static void op_derive_shared(js_call *c) {
    hc_buf key, peer, out = {0};
    arg_dup(c, 0, &key);
    arg_dup(c, 1, &peer);
    ret_result(c, hc_derive(key.p, key.len, peer.p, peer.len, &out), &out);
    hc_buf_free(&key);
    hc_buf_free(&peer);
}

static const js_op crypto_ops[] = {
    {"randomBytes", op_random_bytes},
    {"randomUUID", op_random_uuid},
    {"digest", op_digest},
    {"hmac", op_hmac},
    {"aes", op_aes},
    {"aesKw", op_aes_kw},
    {"pbkdf2", op_pbkdf2},
    {"hkdf", op_hkdf},
    {"pkeyImport", op_pkey_import},
    {"pkeyImportJwk", op_pkey_import_jwk},
    {"pkeyExportJwk", op_pkey_export_jwk},
    {"pkeyExportRaw", op_pkey_export_raw},
    {"pkeyPublicOf", op_pkey_public_of},
    {"pkeyRsaInfo", op_pkey_rsa_info},
    {"pkeyGenerate", op_pkey_generate},
    {"sign", op_sign},
    {"verify", op_verify},
    {"rsaOaep", op_rsa_oaep},
    {"deriveShared", op_derive_shared},
};

void crypto_ops_register(void) {
    js_ops_register(crypto_ops, sizeof crypto_ops / sizeof crypto_ops[0]);
}
