/* es256.c - from an OpenSSL P-256 key to a cjose signing key. */
#include "es256.h"

#include <openssl/core_names.h>
#include <stdint.h>
#include <string.h>

cjose_jwk_t *es256_private_jwk(EVP_PKEY *k)
{
	uint8_t d[32], x[32], y[32];
	BIGNUM *bd = NULL, *bx = NULL, *by = NULL;
	cjose_jwk_t *jwk = NULL;
	char group[32];

	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL) || strcmp(group, "prime256v1") != 0)
		return NULL;
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bd) &&
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &bx) &&
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &by) &&
	    BN_bn2binpad(bd, d, 32) == 32 && BN_bn2binpad(bx, x, 32) == 32 &&
	    BN_bn2binpad(by, y, 32) == 32) {
		cjose_jwk_ec_keyspec spec = { .crv = CJOSE_JWK_EC_P_256, .d = d, .dlen = 32,
					      .x = x, .xlen = 32, .y = y, .ylen = 32 };

		jwk = cjose_jwk_create_EC_spec(&spec, NULL);
	}
	OPENSSL_cleanse(d, sizeof(d));
	BN_clear_free(bd);
	BN_free(bx);
	BN_free(by);
	return jwk;
}
