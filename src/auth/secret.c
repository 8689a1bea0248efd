/* secret.c - random secrets (OpenSSL RAND_bytes) and their SHA-256. */
#include "secret.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"

void secret_b64url(const unsigned char *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);

	/* EVP_EncodeBlock writes standard base64: strip the padding, swap two letters. */
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (char *p = out; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
}

int secret_new(const char *prefix, char *out, size_t outlen)
{
	unsigned char raw[32];
	char enc[48];
	int n;

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		log_error("no randomness for a secret", NULL);
		return -1;
	}
	secret_b64url(raw, sizeof(raw), enc);
	OPENSSL_cleanse(raw, sizeof(raw));
	n = snprintf(out, outlen, "%s%s", prefix, enc);
	OPENSSL_cleanse(enc, sizeof(enc));
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

void secret_sha256_hex(const char *s, char out[SECRET_HASH_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)s, strlen(s), md);
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * sizeof(md)] = '\0';
}
