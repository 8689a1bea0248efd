/* jwt.c - ES256 access tokens with cjose; keys made and read with OpenSSL. */
#include "jwt.h"

#include <cjose/cjose.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../auth/es256.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "oauth.h"

#define CURRENT "ivy-jwt-current.pem"
#define PREVIOUS "ivy-jwt-previous.pem"

struct key {
	cjose_jwk_t *jwk;
	char kid[48];
};

/* keys[0] signs; keys[1], when set, only verifies. Set once before the workers start. */
static struct key keys[2];
static atomic_uint key_epoch = 1; /* invalidates the verify caches when keys change */

/*
 * A verification costs a P-256 signature check; a client presents the same
 * token for minutes. Each thread remembers the last tokens it verified, by
 * SHA-256 of the whole token, so only the cheap time checks run again.
 */
#define CACHE_SLOTS 64
struct cache_slot {
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned epoch;
	struct ivy_jwt claims;
};
static _Thread_local struct cache_slot cache[CACHE_SLOTS];

static int path_in(const char *dir, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* The public JWK of k as a JSON object, or NULL. */
static json_t *public_json(const cjose_jwk_t *k)
{
	char *text = cjose_jwk_to_json(k, false, NULL);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	free(text);
	return j;
}

/* RFC 7638: SHA-256 of the required members in lexical order, no whitespace. */
static int thumbprint(const cjose_jwk_t *k, char kid[48])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	json_t *pub = public_json(k), *req = NULL;
	char *text = NULL;
	int rc = -1;

	if (pub)
		req = json_pack("{s:O, s:O, s:O, s:O}", "crv", json_object_get(pub, "crv"),
				"kty", json_object_get(pub, "kty"), "x", json_object_get(pub, "x"),
				"y", json_object_get(pub, "y"));
	if (req && (text = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS)) != NULL) {
		SHA256((const unsigned char *)text, strlen(text), md);
		secret_b64url(md, sizeof(md), kid);
		rc = 0;
	}
	free(text);
	json_decref(req);
	json_decref(pub);
	return rc;
}

/* Read a key file. Returns 0, 1 when it does not exist, or -1. */
static int key_read(const char *path, struct key *out)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = NULL;
	struct key kk = { 0 };
	int rc = -1;

	if (f == NULL)
		return errno == ENOENT ? 1 : -1;
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	if (k && (kk.jwk = es256_private_jwk(k)) != NULL && thumbprint(kk.jwk, kk.kid) == 0) {
		*out = kk;
		kk.jwk = NULL;
		rc = 0;
	}
	if (rc != 0)
		log_error("ivy: not a readable EC P-256 private key", "file=%s", path);
	cjose_jwk_release(kk.jwk);
	EVP_PKEY_free(k);
	fclose(f);
	return rc;
}

/* Make a P-256 key in path (0600, written whole then renamed into place). */
static int key_make(const char *path)
{
	char tmp[600];
	EVP_PKEY *k = EVP_EC_gen("P-256");
	FILE *f = NULL;
	int fd = -1, rc = -1;

	if (k == NULL || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		goto cleanup;
	unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    (f = fdopen(fd, "w")) == NULL)
		goto cleanup;
	fd = -1;
	if (PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1 && fflush(f) == 0 &&
	    fsync(fileno(f)) == 0 && rename(tmp, path) == 0)
		rc = 0;
cleanup:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		log_error("ivy: cannot make a signing key", "file=%s err=\"%s\"", path,
			  strerror(errno));
	EVP_PKEY_free(k);
	return rc;
}

void ivy_jwt_shutdown(void)
{
	for (size_t i = 0; i < 2; i++) {
		cjose_jwk_release(keys[i].jwk);
		keys[i] = (struct key){ 0 };
	}
	atomic_fetch_add(&key_epoch, 1);
}

int ivy_jwt_init(const char *dir)
{
	char cur[512], prev[512];
	struct key k[2] = { { 0 } };
	int rc;

	if (path_in(dir, CURRENT, cur, sizeof(cur)) != 0 ||
	    path_in(dir, PREVIOUS, prev, sizeof(prev)) != 0)
		return -1;
	rc = key_read(cur, &k[0]);
	if (rc == 1 && key_make(cur) == 0)
		rc = key_read(cur, &k[0]);
	if (rc != 0 || key_read(prev, &k[1]) < 0) {
		cjose_jwk_release(k[0].jwk);
		return -1;
	}
	ivy_jwt_shutdown();
	keys[0] = k[0];
	keys[1] = k[1];
	log_info("ivy: access token keys loaded", "kid=%s previous=%s", keys[0].kid,
		 keys[1].jwk ? keys[1].kid : "none");
	return 0;
}

int ivy_jwt_rotate(const char *dir)
{
	char cur[512], prev[512];

	if (path_in(dir, CURRENT, cur, sizeof(cur)) != 0 ||
	    path_in(dir, PREVIOUS, prev, sizeof(prev)) != 0)
		return -1;
	if (rename(cur, prev) != 0 && errno != ENOENT) {
		log_error("ivy: cannot keep the previous key", "err=\"%s\"", strerror(errno));
		return -1;
	}
	return key_make(cur);
}

int ivy_jwt_sign(const struct ivy_jwt *c, char *out, size_t outlen)
{
	char scope[32], sub[96];
	json_t *hdr = NULL, *body = NULL;
	cjose_jws_t *jws = NULL;
	const char *compact = NULL;
	char *text = NULL;
	int rc = -1;

	if (keys[0].jwk == NULL)
		return -1;
	oauth_scope_format(c->scopes, scope, sizeof(scope));
	if (c->user_id)
		snprintf(sub, sizeof(sub), "user:%lld", (long long)c->user_id);
	else
		snprintf(sub, sizeof(sub), "client:%.80s", c->client_id);
	hdr = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "typ", "at+jwt", "kid", keys[0].kid);
	body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "iss", IVY_JWT_ISSUER, "aud", IVY_JWT_AUDIENCE, "sub", sub,
			 "client_id", c->client_id, "jti", c->jti, "sid", c->family,
			 "scope", scope, "iat", (json_int_t)c->iat, "nbf", (json_int_t)c->nbf,
			 "exp", (json_int_t)c->exp, "acc", (json_int_t)c->account_id,
			 "uid", (json_int_t)c->user_id, "gen", (json_int_t)c->gen);
	if (hdr == NULL || body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL)
		goto cleanup;
	jws = cjose_jws_sign(keys[0].jwk, (cjose_header_t *)hdr, (const uint8_t *)text,
			     strlen(text), NULL);
	if (jws && cjose_jws_export(jws, &compact, NULL) && strlen(compact) < outlen) {
		memcpy(out, compact, strlen(compact) + 1);
		rc = 0;
	}
cleanup:
	free(text);
	cjose_jws_release(jws);
	json_decref(hdr);
	json_decref(body);
	return rc;
}

static const cjose_jwk_t *key_for(const char *kid)
{
	for (size_t i = 0; kid && i < 2; i++) {
		if (keys[i].jwk && strcmp(keys[i].kid, kid) == 0)
			return keys[i].jwk;
	}
	return NULL;
}

static int copy_str(json_t *o, const char *key, char *out, size_t outlen)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (s == NULL || strlen(s) >= outlen)
		return -1;
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* The claims of a verified payload, iss and aud checked. Returns 0 or 1. */
static int claims_read(json_t *b, struct ivy_jwt *out)
{
	struct ivy_jwt c = { 0 };
	const char *iss = json_string_value(json_object_get(b, "iss"));
	const char *aud = json_string_value(json_object_get(b, "aud"));
	json_int_t n[6];

	if (iss == NULL || strcmp(iss, IVY_JWT_ISSUER) != 0 || aud == NULL ||
	    strcmp(aud, IVY_JWT_AUDIENCE) != 0)
		return 1;
	if (json_unpack(b, "{s:I, s:I, s:I, s:I, s:I, s:I}", "iat", &n[0], "nbf", &n[1], "exp",
			&n[2], "acc", &n[3], "uid", &n[4], "gen", &n[5]) != 0 ||
	    copy_str(b, "jti", c.jti, sizeof(c.jti)) != 0 ||
	    copy_str(b, "client_id", c.client_id, sizeof(c.client_id)) != 0 ||
	    copy_str(b, "sid", c.family, sizeof(c.family)) != 0 ||
	    oauth_scope_parse(json_string_value(json_object_get(b, "scope")), &c.scopes) != 0)
		return 1;
	c.iat = n[0];
	c.nbf = n[1];
	c.exp = n[2];
	c.account_id = n[3];
	c.user_id = n[4];
	c.gen = n[5];
	*out = c;
	return 0;
}

/* Signature, header and claims: everything but the time checks. */
static int verify_signed(const char *token, struct ivy_jwt *out)
{
	cjose_jws_t *jws = cjose_jws_import(token, strlen(token), NULL);
	cjose_header_t *h = jws ? cjose_jws_get_protected(jws) : NULL;
	const char *alg = h ? cjose_header_get(h, CJOSE_HDR_ALG, NULL) : NULL;
	const cjose_jwk_t *k = h ? key_for(cjose_header_get(h, CJOSE_HDR_KID, NULL)) : NULL;
	uint8_t *plain = NULL;
	size_t plen = 0;
	json_t *b = NULL;
	int rc = 1;

	/* Only our algorithm: a token may not choose how it is checked (RFC 8725 3.1). */
	if (alg && strcmp(alg, CJOSE_HDR_ALG_ES256) == 0 && k &&
	    cjose_jws_verify(jws, k, NULL) && cjose_jws_get_plaintext(jws, &plain, &plen, NULL) &&
	    (b = json_loadb((const char *)plain, plen, JSON_REJECT_DUPLICATES, NULL)) != NULL)
		rc = claims_read(b, out);
	json_decref(b);
	cjose_jws_release(jws);
	return rc;
}

static bool times_ok(const struct ivy_jwt *c)
{
	int64_t now = clock_now();

	return c->exp > now && c->nbf <= now && c->iat <= now && c->nbf <= c->exp;
}

int ivy_jwt_verify(const char *token, struct ivy_jwt *out)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned epoch = atomic_load(&key_epoch);
	struct cache_slot *s;
	struct ivy_jwt c;

	if (token == NULL || strlen(token) >= IVY_JWT_MAX)
		return 1;
	SHA256((const unsigned char *)token, strlen(token), md);
	s = &cache[md[0] % CACHE_SLOTS];
	if (s->epoch == epoch && CRYPTO_memcmp(s->md, md, sizeof(md)) == 0) {
		c = s->claims;
	} else {
		if (verify_signed(token, &c) != 0)
			return 1;
		memcpy(s->md, md, sizeof(md));
		s->epoch = epoch;
		s->claims = c;
	}
	if (!times_ok(&c))
		return 1;
	*out = c;
	return 0;
}

json_t *ivy_jwt_jwks(void)
{
	json_t *arr = json_array(), *k;

	for (size_t i = 0; arr && i < 2; i++) {
		if (keys[i].jwk == NULL)
			continue;
		if ((k = public_json(keys[i].jwk)) == NULL ||
		    json_object_set_new(k, "kid", json_string(keys[i].kid)) != 0 ||
		    json_object_set_new(k, "use", json_string("sig")) != 0 ||
		    json_object_set_new(k, "alg", json_string("ES256")) != 0 ||
		    json_array_append_new(arr, k) != 0) {
			json_decref(k);
			json_decref(arr);
			return NULL;
		}
	}
	return arr ? json_pack("{s:o}", "keys", arr) : NULL;
}
