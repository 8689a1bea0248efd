/* es256.h - P-256 keys as cjose JWKs, shared by the PASSporT signer and Ivy's JWTs. */
#ifndef RINGER_AUTH_ES256_H
#define RINGER_AUTH_ES256_H

#include <cjose/cjose.h>
#include <openssl/evp.h>

/*
 * The private JWK (with x, y and d) of an EC P-256 key, for signing with
 * cjose. Returns NULL when k is not a P-256 key or cjose fails. The caller
 * releases it with cjose_jwk_release(); the private scalar copied on the way
 * is wiped before return.
 */
cjose_jwk_t *es256_private_jwk(EVP_PKEY *k);

#endif
