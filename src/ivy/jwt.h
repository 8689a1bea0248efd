/* jwt.h - Ivy access tokens: ES256-signed JWTs (RFC 7519, RFC 9068 profile).
 *
 * The signing keys are EC P-256 private keys in PEM under the data directory:
 * ivy-jwt-current.pem signs, ivy-jwt-previous.pem (after a rotation) still
 * verifies, so tokens issued just before a rotation live out their few
 * minutes. The first start makes the current key (mode 0600). Each key's
 * "kid" is its RFC 7638 thumbprint; both public keys are published as a JWKS.
 *
 * A signature proves who made a token, not that it still stands: the caller
 * (oauth_token_lookup) also checks revocation and account standing.
 */
#ifndef RINGER_IVY_JWT_H
#define RINGER_IVY_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ivy_store.h"

#define IVY_JWT_ISSUER "urn:ringer:ivy"
#define IVY_JWT_AUDIENCE "urn:ringer:ivy:v2"
#define IVY_JWT_MAX 1024

/* What an access token says. */
struct ivy_jwt {
	char jti[IVY_SECRET_MAX];
	char client_id[IVY_SECRET_MAX];
	char family[IVY_SECRET_MAX]; /* the grant's token family */
	int64_t account_id;
	int64_t user_id;             /* 0 for client_credentials */
	int64_t gen;                 /* the user's token generation when issued */
	unsigned scopes;
	int64_t iat, nbf, exp;
};

/* Load the keys from dir, making the current one if there is none. Returns 0 or -1. */
int ivy_jwt_init(const char *dir);

/* Forget the loaded keys. */
void ivy_jwt_shutdown(void);

/* Make a new current key; the old current one becomes the previous. Returns 0 or -1. */
int ivy_jwt_rotate(const char *dir);

/* Sign c as a compact JWS into out. Returns 0 or -1. */
int ivy_jwt_sign(const struct ivy_jwt *c, char *out, size_t outlen);

/*
 * Check token's signature (ES256, a known kid), issuer, audience and its
 * iat/nbf/exp against the clock. Returns 0 with *out, 1 when it is not a
 * valid token, or -1.
 */
int ivy_jwt_verify(const char *token, struct ivy_jwt *out);

/* The public keys as a JWKS ({"keys": [...]}); release with json_decref. NULL on failure. */
json_t *ivy_jwt_jwks(void);

#endif
