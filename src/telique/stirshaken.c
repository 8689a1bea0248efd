/* stirshaken.c - PASSporT verification and signing (see stirshaken.h). */
#include "stirshaken.h"

#include <cjose/cjose.h>
#include <ctype.h>
#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../auth/es256.h"
#include "../base/clock.h"
#include "../base/log.h"

#define TNAUTHLIST_OID "1.3.6.1.5.5.7.1.26"
#define TOKEN_MAX 8192
#define URL_MAX 1024

struct stirshaken_verifier {
	X509_STORE *store;
	ASN1_OBJECT *tnauth;
	EVP_MD *sha256; /* fetched once: a per-request fetch takes the provider store's locks */
	unsigned iat_window;
	bool crl_check;
	struct certfetch *fetch;
};

/*
 * A certificate document parsed once and attached to its cache entry. What
 * is known from the document alone is fixed; whether the chain checks out
 * depends on the clock and the CRL, so the last good result is kept with the
 * span of time it holds for.
 */
struct cred {
	unsigned err_code; /* 0, or the SS_* code that every use of it fails with */
	const char *err_text;
	X509 *leaf;
	STACK_OF(X509) *extra; /* the rest of the document: intermediates */
	EVP_PKEY_CTX *vctx;    /* the leaf's key, initialised for verifying: dup'd per use */
	const char *profile_err; /* the first ATIS-1000080 profile rule it breaks, or NULL */
	bool has_tnauth;
	char spc[SS_SPC_MAX];
	char crl_url[URL_MAX];
	pthread_mutex_t mu;
	const struct stirshaken_verifier *ok_by; /* whose trust anchors and CRL policy */
	int64_t ok_from, ok_until; /* the chain verified for clock times in this span */
};

/* ---- small helpers ---- */

static void fail(struct stirshaken_result *res, unsigned code, const char *text)
{
	res->valid = false;
	res->code = code;
	snprintf(res->text, sizeof(res->text), "%s", text);
}

bool stirshaken_tn_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	if (*s == '+')
		s++;
	for (; s[n]; n++)
		if (!isdigit((unsigned char)s[n]))
			return false;
	return n >= 1 && n <= 20;
}

/* Digits of a TN, "+" dropped and a 10-digit NANP number given its country code. */
static void tn_normal(const char *s, char *out, size_t outlen)
{
	if (*s == '+')
		s++;
	snprintf(out, outlen, strlen(s) == 10 ? "1%s" : "%s", s);
}

static bool tn_equal(const char *a, const char *b)
{
	char x[SS_TN_MAX + 2], y[SS_TN_MAX + 2];

	tn_normal(a, x, sizeof(x));
	tn_normal(b, y, sizeof(y));
	return strcmp(x, y) == 0;
}

static int64_t asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

/* ---- the SIP Identity header ---- */

struct identity {
	char *copy; /* owns the strings below */
	const char *token, *info, *alg, *ppt;
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int identity_param(struct identity *id, char *p)
{
	char *eq = strchr(p, '='), *v;
	size_t n;

	if (eq == NULL)
		return 0; /* a flag parameter: none is defined, none matters */
	*eq = '\0';
	v = trim(eq + 1);
	n = strlen(v);
	p = trim(p);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		v++;
		n -= 2;
	}
	if (strcmp(p, "info") == 0) {
		if (n < 2 || v[0] != '<' || v[n - 1] != '>')
			return -1;
		v[n - 1] = '\0';
		id->info = v + 1;
	} else if (strcmp(p, "alg") == 0) {
		id->alg = v;
	} else if (strcmp(p, "ppt") == 0) {
		id->ppt = v;
	}
	return 0;
}

/* Split "token;info=<url>;alg=ES256;ppt=shaken". Returns 0, or -1 if malformed. */
static int identity_parse(const char *value, struct identity *id)
{
	char *save = NULL, *p;

	memset(id, 0, sizeof(*id));
	if (strlen(value) > TOKEN_MAX + URL_MAX || (id->copy = strdup(value)) == NULL)
		return -1;
	p = strtok_r(id->copy, ";", &save);
	if (p == NULL || *(id->token = trim(p)) == '\0')
		return -1;
	while ((p = strtok_r(NULL, ";", &save)) != NULL)
		if (identity_param(id, p) != 0)
			return -1;
	return 0;
}

/* ---- the token ---- */

static bool b64url_part(const char *s, size_t n)
{
	if (n == 0 || n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* Exactly three non-empty base64url parts, nothing else (no padding, no spaces). */
static bool compact_ok(const char *t)
{
	const char *d1 = strchr(t, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

	if (d2 == NULL || strchr(d2 + 1, '.') != NULL || strlen(t) > TOKEN_MAX)
		return false;
	return b64url_part(t, (size_t)(d1 - t)) && b64url_part(d1 + 1, (size_t)(d2 - d1 - 1)) &&
	       b64url_part(d2 + 1, strlen(d2 + 1));
}

/* base64url value of c, or -1 (the alphabet was checked by b64url_part already). */
static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : c == '_' ? 63 : -1;
}

/*
 * Decode n base64url characters (no padding) into out, which holds outlen
 * bytes. Returns the decoded length, or -1. Done here rather than by cjose:
 * no allocation, and the verifier decodes three parts per request.
 */
static long b64url_decode(const char *s, size_t n, uint8_t *out, size_t outlen)
{
	uint32_t acc = 0;
	size_t len = 0;
	int bits = 0;

	if (n % 4 == 1 || n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0) > outlen)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64url_value((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)len;
}

/* Decode one base64url part into a JSON object, duplicate keys refused. */
static json_t *part_json(const char *s, size_t n)
{
	uint8_t raw[TOKEN_MAX];
	long len = b64url_decode(s, n, raw, sizeof(raw));
	json_t *j;

	if (len < 0)
		return NULL;
	j = json_loadb((const char *)raw, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static bool str_is(json_t *o, const char *key, const char *want)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

/* The protected header. Returns 0, or fails res and returns -1. */
static int header_check(const char *token, const char *cert_url, struct stirshaken_result *res)
{
	json_t *h = part_json(token, (size_t)(strchr(token, '.') - token)), *x5u;
	int rc = -1;

	if (h == NULL)
		fail(res, SS_BAD_HEADER, "PASSporT header is not base64url JSON");
	else if (!str_is(h, "alg", "ES256"))
		fail(res, SS_BAD_HEADER, "alg is not ES256");
	else if (!str_is(h, "typ", "passport"))
		fail(res, SS_BAD_HEADER, "typ is not passport");
	else if (!str_is(h, "ppt", "shaken"))
		fail(res, SS_BAD_HEADER, "ppt is not shaken");
	else if (json_object_get(h, "crit") != NULL)
		fail(res, SS_BAD_HEADER, "unsupported crit header");
	else if (!json_is_string(x5u = json_object_get(h, "x5u")) ||
		 json_string_length(x5u) == 0)
		fail(res, SS_BAD_HEADER, "x5u missing");
	else if (strcmp(json_string_value(x5u), cert_url) != 0)
		fail(res, SS_BAD_HEADER, "x5u does not match the certificate URL");
	else
		rc = 0;
	json_decref(h);
	return rc;
}

struct claims {
	const char *attest, *orig, *origid;
	json_t *dest; /* array of TN strings */
	json_int_t iat;
};

static const char *claim_tn(json_t *payload, const char *key)
{
	json_t *tn = json_object_get(json_object_get(payload, key), "tn");

	return json_is_string(tn) && stirshaken_tn_ok(json_string_value(tn)) ?
	       json_string_value(tn) : NULL;
}

static bool dest_ok(json_t *dest)
{
	size_t i;
	json_t *v;

	if (!json_is_array(dest) || json_array_size(dest) == 0)
		return false;
	json_array_foreach(dest, i, v)
		if (!json_is_string(v) || !stirshaken_tn_ok(json_string_value(v)))
			return false;
	return true;
}

/* The required claims. Returns 0, or fails res and returns -1. */
static int claims_get(json_t *p, struct claims *c, struct stirshaken_result *res)
{
	static const char *const required[] = { "attest", "dest", "iat", "orig", "origid" };
	json_t *attest = json_object_get(p, "attest"), *iat = json_object_get(p, "iat");
	json_t *origid = json_object_get(p, "origid");
	char why[48];

	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (json_object_get(p, required[i]) == NULL) {
			snprintf(why, sizeof(why), "missing claim %s", required[i]);
			return fail(res, SS_BAD_HEADER, why), -1;
		}
	c->dest = json_object_get(json_object_get(p, "dest"), "tn");
	c->orig = claim_tn(p, "orig");
	if (!json_is_string(attest) || json_string_length(attest) != 1 ||
	    strchr("ABC", json_string_value(attest)[0]) == NULL)
		return fail(res, SS_BAD_HEADER, "attest is not A, B or C"), -1;
	if (!dest_ok(c->dest))
		return fail(res, SS_BAD_HEADER, "dest.tn is not a list of numbers"), -1;
	if (c->orig == NULL)
		return fail(res, SS_BAD_HEADER, "orig.tn is not a number"), -1;
	if (!json_is_string(origid) || json_string_length(origid) == 0 ||
	    json_string_length(origid) >= SS_ORIGID_MAX)
		return fail(res, SS_BAD_HEADER, "origid is not a string"), -1;
	/* A negative or fractional iat is no NumericDate a signer would send. */
	if (!json_is_integer(iat) || json_integer_value(iat) < 0)
		return fail(res, SS_BAD_HEADER, "iat is not a NumericDate"), -1;
	c->attest = json_string_value(attest);
	c->origid = json_string_value(origid);
	c->iat = json_integer_value(iat);
	return 0;
}

static int fresh_check(const struct stirshaken_verifier *v, json_int_t iat,
		       struct stirshaken_result *res)
{
	int64_t now = clock_now();

	if (iat > now) {
		fail(res, SS_STALE, "Stale Date: iat is in the future");
		return -1;
	}
	if (iat == 0 || now - iat > (int64_t)v->iat_window) {
		fail(res, SS_STALE, "Stale Date: iat is older than the freshness window");
		return -1;
	}
	return 0;
}

/* ---- certificates ---- */

static void cred_free(void *p)
{
	struct cred *c = p;

	if (c == NULL)
		return;
	X509_free(c->leaf);
	sk_X509_pop_free(c->extra, X509_free);
	EVP_PKEY_CTX_free(c->vctx);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* The SPC of a DER TNAuthList: the first spc [0] entry (explicit or implicit IA5String). */
static int tnauth_spc(const unsigned char *p, long n, char *out, size_t outlen)
{
	const unsigned char *end;
	int tag, cls, r;
	long len;

	r = ASN1_get_object(&p, &len, &tag, &cls, n);
	if ((r & 0x80) || !(r & V_ASN1_CONSTRUCTED) || tag != V_ASN1_SEQUENCE)
		return -1;
	for (end = p + len; p < end; p += len) {
		r = ASN1_get_object(&p, &len, &tag, &cls, end - p);
		if ((r & 0x80) != 0)
			return -1;
		if (cls != V_ASN1_CONTEXT_SPECIFIC || tag != 0)
			continue;
		if (r & V_ASN1_CONSTRUCTED) {
			r = ASN1_get_object(&p, &len, &tag, &cls, len);
			if ((r & 0x80) || tag != V_ASN1_IA5STRING || cls != V_ASN1_UNIVERSAL)
				return -1;
		}
		if (len < 1 || (size_t)len >= outlen)
			return -1;
		for (long i = 0; i < len; i++)
			if (p[i] < 0x21 || p[i] > 0x7e)
				return -1;
		memcpy(out, p, (size_t)len);
		out[len] = '\0';
		return 0;
	}
	return -1;
}

static void cred_tnauth(const struct stirshaken_verifier *v, struct cred *c)
{
	int i = X509_get_ext_by_OBJ(c->leaf, v->tnauth, -1);
	const ASN1_OCTET_STRING *d;

	if (i < 0)
		return;
	d = X509_EXTENSION_get_data(X509_get_ext(c->leaf, i));
	c->has_tnauth = d && tnauth_spc(ASN1_STRING_get0_data(d), ASN1_STRING_length(d), c->spc,
					sizeof(c->spc)) == 0;
}

static void cred_crl_url(struct cred *c)
{
	CRL_DIST_POINTS *dps = X509_get_ext_d2i(c->leaf, NID_crl_distribution_points, NULL, NULL);

	for (int i = 0; dps && i < sk_DIST_POINT_num(dps) && !c->crl_url[0]; i++) {
		DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (int k = 0; k < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); k++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, k);

			if (g->type == GEN_URI &&
			    ASN1_STRING_length(g->d.uniformResourceIdentifier) < URL_MAX) {
				snprintf(c->crl_url, sizeof(c->crl_url), "%.*s",
					 ASN1_STRING_length(g->d.uniformResourceIdentifier),
					 (const char *)ASN1_STRING_get0_data(
						 g->d.uniformResourceIdentifier));
				break;
			}
		}
	}
	CRL_DIST_POINTS_free(dps);
}

/*
 * The ATIS-1000080 end-entity profile beyond TNAuthList: the first rule the
 * leaf breaks, or NULL. The serial must hold 64 random bits; a length is all
 * a verifier can see, so fewer than 8 octets fails.
 */
static const char *cred_profile(X509 *leaf)
{
	int ku = X509_get_ext_by_NID(leaf, NID_key_usage, -1);

	if (ku < 0)
		return "certificate has no keyUsage";
	if (!X509_EXTENSION_get_critical(X509_get_ext(leaf, ku)))
		return "certificate keyUsage is not critical";
	if (X509_get_key_usage(leaf) != KU_DIGITAL_SIGNATURE)
		return "certificate keyUsage is not digitalSignature only";
	if (X509_get0_subject_key_id(leaf) == NULL)
		return "certificate has no subjectKeyIdentifier";
	if (X509_get0_authority_key_id(leaf) == NULL)
		return "certificate has no authorityKeyIdentifier";
	if (ASN1_STRING_length(X509_get0_serialNumber(leaf)) < 8 ||
	    ASN1_STRING_type(X509_get0_serialNumber(leaf)) == V_ASN1_NEG_INTEGER)
		return "certificate serial number is shorter than 64 bits";
	if (X509_get_ext_by_NID(leaf, NID_certificate_policies, -1) < 0)
		return "certificate has no certificatePolicies";
	return NULL;
}

/* A verify context on the certificate's key if it is EC P-256, or NULL. */
static EVP_PKEY_CTX *cred_vctx(X509 *leaf)
{
	EVP_PKEY *k = X509_get0_pubkey(leaf);
	EVP_PKEY_CTX *ctx;
	char group[32];

	if (k == NULL || EVP_PKEY_get_base_id(k) != EVP_PKEY_EC ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    NULL) || strcmp(group, "prime256v1") != 0)
		return NULL;
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
	if (ctx && EVP_PKEY_verify_init(ctx) == 1)
		return ctx;
	EVP_PKEY_CTX_free(ctx);
	return NULL;
}

static struct cred *cred_parse(const struct stirshaken_verifier *v, const char *body, size_t len)
{
	struct cred *c = calloc(1, sizeof(*c));
	BIO *b = BIO_new_mem_buf(body, (int)len);
	X509 *x;

	if (c == NULL || b == NULL || (c->extra = sk_X509_new_null()) == NULL) {
		BIO_free(b);
		cred_free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (c->leaf == NULL)
			c->leaf = x;
		else if (!sk_X509_push(c->extra, x))
			X509_free(x);
	BIO_free(b);
	if (c->leaf == NULL) {
		c->err_code = SS_BAD_INFO;
		c->err_text = len == 0 ? "certificate document is empty" :
			      "certificate document holds no certificate";
	} else if ((c->vctx = cred_vctx(c->leaf)) == NULL) {
		c->err_code = SS_BAD_CREDENTIAL;
		c->err_text = "certificate key is not EC P-256";
	} else {
		c->profile_err = cred_profile(c->leaf);
		cred_tnauth(v, c);
		cred_crl_url(c);
	}
	return c;
}

/* The parsed form of a fetched document, parsed on first use. */
static struct cred *cred_of(const struct stirshaken_verifier *v, struct certfetch_doc *d)
{
	struct cred *c = certfetch_doc_parsed(d, cred_free);
	const char *body;
	size_t len;

	if (c)
		return c;
	body = certfetch_doc_body(d, &len);
	if ((c = cred_parse(v, body, len)) == NULL)
		return NULL;
	return certfetch_doc_attach(d, c, cred_free);
}

static void crl_free(void *p)
{
	X509_CRL_free(p);
}

/* The CRL at url, parsed (DER or PEM) and cached with the fetched document. */
static X509_CRL *crl_of(struct certfetch_doc *d)
{
	X509_CRL *crl = certfetch_doc_parsed(d, crl_free);
	const unsigned char *p;
	size_t len;
	BIO *b;

	if (crl)
		return crl;
	p = (const unsigned char *)certfetch_doc_body(d, &len);
	crl = d2i_X509_CRL(NULL, &p, (long)len);
	if (crl == NULL && (b = BIO_new_mem_buf(certfetch_doc_body(d, &len), (int)len))) {
		crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	return crl ? certfetch_doc_attach(d, crl, crl_free) : NULL;
}

static const char *verify_error_text(int e)
{
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED: return "certificate expired";
	case X509_V_ERR_CERT_NOT_YET_VALID: return "certificate not yet valid";
	case X509_V_ERR_CERT_REVOKED: return "certificate revoked";
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID: return "revocation status unknown";
	default: return "certificate not issued by a trusted STI-CA";
	}
}

/* Span of clock times the verified chain (and CRL) stays good for. */
static void chain_span(X509_STORE_CTX *ctx, X509_CRL *crl, int64_t crl_expires, int64_t *from,
		       int64_t *until)
{
	STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);

	*from = INT64_MIN;
	*until = INT64_MAX;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		X509 *x = sk_X509_value(chain, i);
		int64_t nb = asn1_epoch(X509_get0_notBefore(x));
		int64_t na = asn1_epoch(X509_get0_notAfter(x));

		*from = nb > *from ? nb : *from;
		*until = na < *until ? na : *until;
	}
	if (crl) {
		int64_t next = asn1_epoch(X509_CRL_get0_nextUpdate(crl));

		*until = crl_expires < *until ? crl_expires : *until;
		*until = next && next < *until ? next : *until;
	}
}

/* Load the CRL named by the certificate into ctx. Returns 0, or fails res. */
static int crl_load(const struct stirshaken_verifier *v, const struct cred *c,
		    struct certfetch_doc **doc, X509_CRL **crl, STACK_OF(X509_CRL) **crls,
		    struct stirshaken_result *res)
{
	int rc;

	if (c->crl_url[0] == '\0') {
		fail(res, SS_BAD_CREDENTIAL, "certificate has no CRL distribution point");
		return -1;
	}
	if ((rc = certfetch_get(v->fetch, c->crl_url, doc)) != 0) {
		fail(res, SS_BAD_CREDENTIAL, "CRL not available");
		return -1;
	}
	if ((*crl = crl_of(*doc)) == NULL || (*crls = sk_X509_CRL_new_null()) == NULL ||
	    !sk_X509_CRL_push(*crls, *crl)) {
		fail(res, SS_BAD_CREDENTIAL, "CRL does not parse");
		return -1;
	}
	return 0;
}

/* Verify the chain at clock time now. Returns 0, or fails res and returns -1. */
static int chain_verify(const struct stirshaken_verifier *v, struct cred *c, int64_t now,
			struct stirshaken_result *res)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509_CRL) *crls = NULL;
	struct certfetch_doc *crl_doc = NULL;
	X509_CRL *crl = NULL;
	int rc = -1;

	if (ctx == NULL || !X509_STORE_CTX_init(ctx, v->store, c->leaf, c->extra)) {
		fail(res, SS_BAD_CREDENTIAL, "certificate check failed");
		goto cleanup;
	}
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)now);
	if (v->crl_check) {
		if (crl_load(v, c, &crl_doc, &crl, &crls, res) != 0)
			goto cleanup;
		X509_STORE_CTX_set0_crls(ctx, crls);
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_CRL_CHECK);
	}
	if (X509_verify_cert(ctx) != 1) {
		int e = X509_STORE_CTX_get_error(ctx);

		log_info("certificate refused", "reason=\"%s\"", X509_verify_cert_error_string(e));
		fail(res, SS_BAD_CREDENTIAL, verify_error_text(e));
		goto cleanup;
	}
	pthread_mutex_lock(&c->mu);
	chain_span(ctx, crl, crl_doc ? certfetch_doc_expires(crl_doc) : 0, &c->ok_from,
		   &c->ok_until);
	c->ok_by = v;
	pthread_mutex_unlock(&c->mu);
	rc = 0;
cleanup:
	sk_X509_CRL_free(crls);
	certfetch_doc_release(crl_doc);
	X509_STORE_CTX_free(ctx);
	return rc;
}

static int cred_check(const struct stirshaken_verifier *v, struct cred *c,
		      struct stirshaken_result *res)
{
	int64_t now = clock_now();
	bool cached;

	if (c->err_code) {
		fail(res, c->err_code, c->err_text);
		return -1;
	}
	pthread_mutex_lock(&c->mu);
	cached = c->ok_by == v && now >= c->ok_from && now < c->ok_until;
	pthread_mutex_unlock(&c->mu);
	if (!cached && chain_verify(v, c, now, res) != 0)
		return -1;
	if (c->profile_err) {
		fail(res, SS_BAD_CREDENTIAL, c->profile_err);
		return -1;
	}
	if (!c->has_tnauth) {
		fail(res, SS_BAD_CREDENTIAL, "certificate has no TNAuthList SPC");
		return -1;
	}
	return 0;
}

static int fetch_fail(int err, struct stirshaken_result *res)
{
	fail(res, SS_BAD_INFO, certfetch_strerror(err));
	return -1;
}

/* ---- verification ---- */

struct job {
	const char *token;
	const char *cert_url;
	struct identity id;
	json_t *payload;
	size_t signed_len; /* header.payload, the JWS signing input */
	struct certfetch_doc *doc;
	struct claims claims;
};

/* Where the token and URL come from: the Identity header or the fields. */
static int job_inputs(const struct stirshaken_input *in, struct job *j,
		      struct stirshaken_result *res)
{
	if (in->algorithm && strcmp(in->algorithm, "ES256") != 0)
		return fail(res, SS_BAD_HEADER, "unsupported algorithm"), -1;
	if (in->ppt && strcmp(in->ppt, "shaken") != 0)
		return fail(res, SS_BAD_HEADER, "unsupported ppt"), -1;
	j->token = in->token;
	j->cert_url = in->cert_url;
	if (in->identity) {
		if (identity_parse(in->identity, &j->id) != 0)
			return fail(res, SS_BAD_HEADER, "malformed Identity header"), -1;
		if ((j->id.alg && strcmp(j->id.alg, "ES256") != 0) ||
		    (j->id.ppt && strcmp(j->id.ppt, "shaken") != 0))
			return fail(res, SS_BAD_HEADER, "Identity alg or ppt unsupported"), -1;
		if (j->id.info && j->cert_url && strcmp(j->id.info, j->cert_url) != 0)
			return fail(res, SS_BAD_HEADER, "Identity info does not match certUrl"), -1;
		j->token = j->id.token;
		j->cert_url = j->id.info ? j->id.info : j->cert_url;
	}
	if (j->token == NULL)
		return fail(res, SS_BAD_HEADER, "no PASSporT"), -1;
	if (j->cert_url == NULL || j->cert_url[0] == '\0')
		return fail(res, SS_BAD_INFO, "no certificate URL"), -1;
	return 0;
}

static int job_parse(const struct stirshaken_verifier *v, struct job *j,
		     struct stirshaken_result *res)
{
	const char *d1, *d2;

	if (!compact_ok(j->token))
		return fail(res, SS_BAD_HEADER, "PASSporT is not a compact JWS"), -1;
	if (header_check(j->token, j->cert_url, res) != 0)
		return -1;
	d1 = strchr(j->token, '.');
	d2 = strchr(d1 + 1, '.');
	if ((j->payload = part_json(d1 + 1, (size_t)(d2 - d1 - 1))) == NULL)
		return fail(res, SS_BAD_HEADER, "PASSporT payload is not base64url JSON"), -1;
	if (claims_get(j->payload, &j->claims, res) != 0 ||
	    fresh_check(v, j->claims.iat, res) != 0)
		return -1;
	j->signed_len = (size_t)(d2 - j->token);
	return 0;
}

/* One DER INTEGER for a 32-byte big-endian magnitude; returns the bytes written. */
static size_t der_uint(const uint8_t *m, uint8_t *out)
{
	size_t skip = 0, n;

	while (skip < 31 && m[skip] == 0)
		skip++;
	n = 32 - skip;
	out[0] = 0x02;
	out[1] = (uint8_t)(n + (m[skip] >> 7));
	out[2] = 0;
	memcpy(out + 2 + (m[skip] >> 7), m + skip, n);
	return 2 + (size_t)out[1];
}

/*
 * ES256 (RFC 7518 3.4): the JWS signature is R||S, 32 bytes each; OpenSSL
 * wants an ECDSA-Sig-Value in DER over the SHA-256 digest. Verifying with a
 * copy of the certificate's ready context costs no key set-up, fetch or
 * allocation beyond the copy.
 */
static bool sig_ok(const struct stirshaken_verifier *v, const struct cred *c,
		   const struct job *j)
{
	const char *sig = j->token + j->signed_len + 1;
	uint8_t raw[64], der[6 + 2 * 33], md[32];
	EVP_PKEY_CTX *ctx;
	size_t n;
	bool ok;

	if (b64url_decode(sig, strlen(sig), raw, sizeof(raw)) != 64 ||
	    EVP_Digest(j->token, j->signed_len, md, NULL, v->sha256, NULL) != 1)
		return false;
	n = der_uint(raw, der + 2);
	n += der_uint(raw + 32, der + 2 + n);
	der[0] = 0x30;
	der[1] = (uint8_t)n;
	if ((ctx = EVP_PKEY_CTX_dup(c->vctx)) == NULL)
		return false;
	ok = EVP_PKEY_verify(ctx, der, n + 2, md, sizeof(md)) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void report_claims(const struct job *j, const struct cred *c,
			  struct stirshaken_result *res)
{
	size_t i;
	json_t *t;

	res->signature_ok = true;
	snprintf(res->attest, sizeof(res->attest), "%s", j->claims.attest);
	snprintf(res->orig, sizeof(res->orig), "%s", j->claims.orig);
	snprintf(res->origid, sizeof(res->origid), "%s", j->claims.origid);
	snprintf(res->spc, sizeof(res->spc), "%s", c->spc);
	res->n_dest = 0;
	json_array_foreach(j->claims.dest, i, t)
		if (res->n_dest < SS_DEST_MAX)
			snprintf(res->dest[res->n_dest++], SS_TN_MAX, "%s", json_string_value(t));
}

static void match_numbers(const struct job *j, const struct stirshaken_input *in,
			  struct stirshaken_result *res)
{
	bool dest_hit = in->dest_tn == NULL;
	size_t i;
	json_t *t;

	json_array_foreach(j->claims.dest, i, t)
		dest_hit = dest_hit || tn_equal(json_string_value(t), in->dest_tn);
	if (in->orig_tn && !tn_equal(j->claims.orig, in->orig_tn))
		fail(res, SS_BAD_HEADER, "orig does not match the calling number");
	else if (!dest_hit)
		fail(res, SS_BAD_HEADER, "dest does not match the called number");
}

static void job_run(struct stirshaken_verifier *v, const struct stirshaken_input *in,
		    struct job *j, struct stirshaken_result *res)
{
	struct cred *c;
	int rc;

	if (job_inputs(in, j, res) != 0 || job_parse(v, j, res) != 0)
		return;
	if ((rc = certfetch_get(v->fetch, j->cert_url, &j->doc)) != 0) {
		fetch_fail(rc, res);
		return;
	}
	if ((c = cred_of(v, j->doc)) == NULL) {
		fail(res, SS_BAD_INFO, "certificate could not be read");
		return;
	}
	if (cred_check(v, c, res) != 0)
		return;
	if (!sig_ok(v, c, j)) {
		fail(res, SS_BAD_HEADER, "signature does not verify");
		return;
	}
	report_claims(j, c, res);
	res->valid = true;
	res->code = 0;
	snprintf(res->text, sizeof(res->text), "TN-Validation-Passed");
	match_numbers(j, in, res);
}

int stirshaken_verify(struct stirshaken_verifier *v, const struct stirshaken_input *in,
		      struct stirshaken_result *res)
{
	struct stirshaken_result r = { .valid = false };
	struct job j = { .token = NULL };

	job_run(v, in, &j, &r);
	free(j.id.copy);
	json_decref(j.payload);
	certfetch_doc_release(j.doc);
	*res = r;
	return 0;
}

struct stirshaken_verifier *stirshaken_verifier_new(const struct stirshaken_cfg *cfg, char *err,
						    size_t errlen)
{
	struct stirshaken_verifier *v = calloc(1, sizeof(*v));

	if (v == NULL || (v->store = X509_STORE_new()) == NULL ||
	    (v->tnauth = OBJ_txt2obj(TNAUTHLIST_OID, 1)) == NULL ||
	    (v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		stirshaken_verifier_free(v);
		return NULL;
	}
	if (cfg->trust_anchors && cfg->trust_anchors[0] &&
	    X509_STORE_load_file(v->store, cfg->trust_anchors) != 1) {
		snprintf(err, errlen, "trust_anchors: cannot load %s", cfg->trust_anchors);
		stirshaken_verifier_free(v);
		return NULL;
	}
	v->iat_window = cfg->iat_window ? cfg->iat_window : SS_DEFAULT_IAT_WINDOW;
	v->crl_check = cfg->crl_check;
	v->fetch = cfg->fetch;
	return v;
}

void stirshaken_verifier_free(struct stirshaken_verifier *v)
{
	if (v == NULL)
		return;
	X509_STORE_free(v->store);
	ASN1_OBJECT_free(v->tnauth);
	EVP_MD_free(v->sha256);
	free(v);
}

/* ---- signing ---- */

struct stirshaken_signer {
	cjose_jwk_t *jwk;
	char *x5u;
};

struct stirshaken_signer *stirshaken_signer_new(const char *key_file, const char *x5u,
						char *err, size_t errlen)
{
	struct stirshaken_signer *s = calloc(1, sizeof(*s));
	EVP_PKEY *k = NULL;
	FILE *f = fopen(key_file, "r");

	if (f)
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	if (s == NULL || k == NULL || (s->jwk = es256_private_jwk(k)) == NULL) {
		snprintf(err, errlen, "sign_key: %s is not a readable EC P-256 private key",
			 key_file);
		goto fail;
	}
	if (x5u == NULL || strncmp(x5u, "http", 4) != 0 || (s->x5u = strdup(x5u)) == NULL) {
		snprintf(err, errlen, "sign_x5u: \"%s\" is not an http(s) URL", x5u ? x5u : "");
		goto fail;
	}
	EVP_PKEY_free(k);
	fclose(f);
	return s;
fail:
	EVP_PKEY_free(k);
	if (f)
		fclose(f);
	stirshaken_signer_free(s);
	return NULL;
}

void stirshaken_signer_free(struct stirshaken_signer *s)
{
	if (s == NULL)
		return;
	cjose_jwk_release(s->jwk);
	free(s->x5u);
	free(s);
}

static char *payload_text(const struct stirshaken_claims *c)
{
	json_t *dest = json_array(), *p;
	char attest[2] = { c->attest, '\0' };
	char *text;

	for (size_t i = 0; dest && i < c->n_dest; i++)
		json_array_append_new(dest, json_string(c->dest[i]));
	/* Keys sorted and no spaces: the canonical form RFC 8225 asks for. */
	p = json_pack("{s:s, s:{s:o}, s:I, s:{s:s}, s:s}", "attest", attest, "dest", "tn", dest,
		      "iat", (json_int_t)c->iat, "orig", "tn", c->orig, "origid", c->origid);
	text = p ? json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(p);
	return text;
}

static bool claims_ok(const struct stirshaken_claims *c)
{
	if (strchr("ABC", c->attest) == NULL || c->attest == '\0' || !stirshaken_tn_ok(c->orig) ||
	    c->origid == NULL || c->origid[0] == '\0' || strlen(c->origid) >= SS_ORIGID_MAX ||
	    c->n_dest == 0 || c->n_dest > SS_DEST_MAX || c->iat <= 0)
		return false;
	for (size_t i = 0; i < c->n_dest; i++)
		if (!stirshaken_tn_ok(c->dest[i]))
			return false;
	return true;
}

int stirshaken_sign(const struct stirshaken_signer *s, const struct stirshaken_claims *c,
		    char **passport, char **identity)
{
	json_t *hdr = NULL;
	cjose_jws_t *jws = NULL;
	const char *compact = NULL;
	char *payload = NULL, *tok = NULL, *id = NULL;
	size_t idlen;
	int rc = -1;

	if (!claims_ok(c) || (payload = payload_text(c)) == NULL)
		goto cleanup;
	hdr = json_pack("{s:s, s:s, s:s, s:s}", "alg", "ES256", "ppt", "shaken", "typ",
			"passport", "x5u", s->x5u);
	if (hdr == NULL)
		goto cleanup;
	jws = cjose_jws_sign(s->jwk, (cjose_header_t *)hdr, (const uint8_t *)payload,
			     strlen(payload), NULL);
	if (jws == NULL || !cjose_jws_export(jws, &compact, NULL) ||
	    (tok = strdup(compact)) == NULL)
		goto cleanup;
	idlen = strlen(tok) + strlen(s->x5u) + 40;
	if ((id = malloc(idlen)) == NULL)
		goto cleanup;
	snprintf(id, idlen, "%s;info=<%s>;alg=ES256;ppt=shaken", tok, s->x5u);
	*passport = tok;
	*identity = id;
	tok = id = NULL;
	rc = 0;
cleanup:
	free(tok);
	free(id);
	free(payload);
	cjose_jws_release(jws);
	json_decref(hdr);
	return rc;
}
