#include "webapi/crypto.h"

#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>

#include "base/ids.h"
#include "js/engine.h"

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

static const js_op crypto_ops[] = {
    {"randomBytes", op_random_bytes},
    {"randomUUID", op_random_uuid},
    {"digest", op_digest},
};

void crypto_ops_register(void) {
    js_ops_register(crypto_ops, sizeof crypto_ops / sizeof crypto_ops[0]);
}
