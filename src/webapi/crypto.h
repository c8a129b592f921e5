/* crypto — randomness and digests for crypto.getRandomValues, crypto.randomUUID and
 * crypto.subtle.digest, over OpenSSL and the kernel's random source. */
#ifndef HEARTH_WEBAPI_CRYPTO_H
#define HEARTH_WEBAPI_CRYPTO_H

void crypto_ops_register(void);

#endif
