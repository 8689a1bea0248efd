/* secret.h - random bearer secrets and their stored hashes.
 *
 * Every credential ringer hands out (Portability tokens, OAuth client
 * secrets, refresh tokens, one-time links) is a prefix and 32 random bytes
 * in base64url; only the SHA-256 of it, in hex, is stored.
 */
#ifndef RINGER_AUTH_SECRET_H
#define RINGER_AUTH_SECRET_H

#include <stddef.h>

#define SECRET_B64_CHARS 43 /* base64url of 32 bytes, no padding */
#define SECRET_HASH_HEX 65  /* SHA-256 in hex and a NUL */

/* RFC 4648 section 5 base64url of in[0..len), no padding; out holds 4 * (len + 2) / 3 + 1. */
void secret_b64url(const unsigned char *in, size_t len, char *out);

/*
 * prefix followed by 32 random bytes in base64url, into out (outlen bytes).
 * Returns 0, or -1 when the random source fails or out is too small.
 */
int secret_new(const char *prefix, char *out, size_t outlen);

/* The SHA-256 of s in lower-case hex. */
void secret_sha256_hex(const char *s, char out[SECRET_HASH_HEX]);

#endif
