/* pki.c - a test STI-CA, SP certificates with a TNAuthList, and keys.
 *
 * Enough of a SHAKEN PKI to run the whole chain on one machine: the demo and
 * the tests make a root, issue an SP certificate carrying the SPC, serve it,
 * and sign with its key. Keys are EC P-256, written 0600. SP certificates
 * follow the ATIS-1000080 end-entity profile the verifier checks: critical
 * keyUsage digitalSignature only, SKI and AKI, a random serial over 64 bits,
 * certificatePolicies and the TNAuthList.
 */
#include "pki.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/config.h"

#define TNAUTHLIST_OID "1.3.6.1.5.5.7.1.26"
/* The SHAKEN certificate policy ATIS-1000080 has end-entity certificates name. */
#define SHAKEN_POLICY_OID "2.16.840.1.114569.1.1.1"

struct pki_opts {
	const char *dir;
	const char *ca_dir;
	const char *spc;
	const char *cn;
	const char *crl_url;
	long days;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ringer pki ca DIR [--cn NAME] [--days N]\n"
		"       ringer pki sp DIR --ca DIR --spc CODE [--cn NAME] [--days N] "
		"[--crl-url URL]\n"
		"       ringer pki key FILE\n"
		"ca writes DIR/ca.key and DIR/ca.pem (a self-signed STI-CA root);\n"
		"sp writes DIR/sp.key and DIR/sp.pem, issued by the CA in --ca, with a\n"
		"TNAuthList holding the SPC; key writes a P-256 private key.\n");
}

/* ---- files ---- */

static int key_write(const char *path, EVP_PKEY *k)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (f == NULL) {
		fprintf(stderr, "ringer: cannot write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int cert_write(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL) {
		fprintf(stderr, "ringer: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = PEM_write_X509(f, x);
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

static EVP_PKEY *key_read(const char *dir, const char *name)
{
	char path[512];
	EVP_PKEY *k = NULL;
	FILE *f;

	if (join(path, sizeof(path), dir, name) == 0 && (f = fopen(path, "r")) != NULL) {
		k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (k == NULL)
		fprintf(stderr, "ringer: cannot read the key %s/%s\n", dir, name);
	return k;
}

static X509 *cert_read(const char *dir, const char *name)
{
	char path[512];
	X509 *x = NULL;
	FILE *f;

	if (join(path, sizeof(path), dir, name) == 0 && (f = fopen(path, "r")) != NULL) {
		x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (x == NULL)
		fprintf(stderr, "ringer: cannot read the certificate %s/%s\n", dir, name);
	return x;
}

/* ---- certificates ---- */

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (e == NULL)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* TNAuthList ::= SEQUENCE OF TNEntry, here one spc [0] EXPLICIT IA5String (RFC 8226). */
static int add_tnauthlist(X509 *x, const char *spc)
{
	size_t n = strlen(spc);
	unsigned char der[128];
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	ASN1_OBJECT *oid = OBJ_txt2obj(TNAUTHLIST_OID, 1);
	X509_EXTENSION *e = NULL;
	int rc = -1;

	if (n == 0 || n > 64 || os == NULL || oid == NULL)
		goto cleanup;
	der[0] = 0x30;
	der[1] = (unsigned char)(n + 4);
	der[2] = 0xa0;
	der[3] = (unsigned char)(n + 2);
	der[4] = 0x16;
	der[5] = (unsigned char)n;
	memcpy(der + 6, spc, n);
	if (!ASN1_OCTET_STRING_set(os, der, (int)n + 6) ||
	    (e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, os)) == NULL || !X509_add_ext(x, e, -1))
		goto cleanup;
	rc = 0;
cleanup:
	X509_EXTENSION_free(e);
	ASN1_OBJECT_free(oid);
	ASN1_OCTET_STRING_free(os);
	return rc;
}

/* certificatePolicies naming the SHAKEN policy (X509V3_EXT_conf_nid wants a config for it). */
static int add_policy(X509 *x)
{
	CERTIFICATEPOLICIES *pols = sk_POLICYINFO_new_null();
	POLICYINFO *pi = POLICYINFO_new();
	int rc = -1;

	if (pols == NULL || pi == NULL ||
	    (pi->policyid = OBJ_txt2obj(SHAKEN_POLICY_OID, 1)) == NULL ||
	    !sk_POLICYINFO_push(pols, pi)) {
		POLICYINFO_free(pi);
		goto cleanup;
	}
	if (X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0, X509V3_ADD_DEFAULT) == 1)
		rc = 0;
cleanup:
	sk_POLICYINFO_pop_free(pols, POLICYINFO_free);
	return rc;
}

/* A 127-bit random serial: positive, and well over ATIS's 64 bits. */
static int set_serial(X509 *x)
{
	unsigned char r[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	r[0] = (unsigned char)((r[0] & 0x7f) | 0x01);
	bn = BN_bin2bn(r, sizeof(r), NULL);
	ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

/* A new certificate for key, named cn, valid from now for days. */
static X509 *cert_new(EVP_PKEY *key, const char *cn, long days)
{
	X509 *x = X509_new();
	time_t now = (time_t)clock_now();
	X509_NAME *name;

	if (x == NULL || !X509_set_version(x, X509_VERSION_3) || set_serial(x) != 0 ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, -300, &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, &now) ||
	    !X509_set_pubkey(x, key) || (name = X509_get_subject_name(x)) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
					-1, 0)) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int make_ca(const struct pki_opts *o)
{
	char kpath[512], cpath[512];
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = k ? cert_new(k, o->cn ? o->cn : "ringer test STI-CA", o->days) : NULL;
	int rc = 1;

	if (x == NULL || !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
	    add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") != 0 ||
	    add_ext(x, x, NID_subject_key_identifier, "hash") != 0 ||
	    !X509_sign(x, k, EVP_sha256())) {
		fprintf(stderr, "ringer: cannot build the CA certificate\n");
		goto cleanup;
	}
	if (join(kpath, sizeof(kpath), o->dir, "ca.key") != 0 ||
	    join(cpath, sizeof(cpath), o->dir, "ca.pem") != 0 || key_write(kpath, k) != 0 ||
	    cert_write(cpath, x) != 0)
		goto cleanup;
	printf("wrote %s and %s\n", kpath, cpath);
	rc = 0;
cleanup:
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

static int sp_extensions(X509 *x, X509 *ca, const struct pki_opts *o)
{
	char dp[600];

	if (add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, ca, NID_key_usage, "critical,digitalSignature") != 0 ||
	    add_ext(x, ca, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, ca, NID_authority_key_identifier, "keyid:always") != 0 ||
	    add_policy(x) != 0 ||
	    add_tnauthlist(x, o->spc) != 0)
		return -1;
	if (o->crl_url == NULL)
		return 0;
	if (snprintf(dp, sizeof(dp), "URI:%s", o->crl_url) >= (int)sizeof(dp))
		return -1;
	return add_ext(x, ca, NID_crl_distribution_points, dp);
}

static int make_sp(const struct pki_opts *o)
{
	char kpath[512], cpath[512], cn[96];
	EVP_PKEY *cak = key_read(o->ca_dir, "ca.key"), *k = EVP_EC_gen("P-256");
	X509 *ca = cert_read(o->ca_dir, "ca.pem"), *x = NULL;
	int rc = 1;

	if (cak == NULL || ca == NULL || k == NULL)
		goto cleanup;
	snprintf(cn, sizeof(cn), "SHAKEN %s", o->spc);
	x = cert_new(k, o->cn ? o->cn : cn, o->days);
	if (x == NULL || !X509_set_issuer_name(x, X509_get_subject_name(ca)) ||
	    sp_extensions(x, ca, o) != 0 || !X509_sign(x, cak, EVP_sha256())) {
		fprintf(stderr, "ringer: cannot build the SP certificate\n");
		goto cleanup;
	}
	if (join(kpath, sizeof(kpath), o->dir, "sp.key") != 0 ||
	    join(cpath, sizeof(cpath), o->dir, "sp.pem") != 0 || key_write(kpath, k) != 0 ||
	    cert_write(cpath, x) != 0)
		goto cleanup;
	printf("wrote %s and %s (SPC %s)\n", kpath, cpath, o->spc);
	rc = 0;
cleanup:
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
	return rc;
}

static int make_key(const char *path)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	int rc = k && key_write(path, k) == 0 ? 0 : 1;

	EVP_PKEY_free(k);
	if (rc == 0)
		printf("wrote %s\n", path);
	return rc;
}

/* ---- arguments ---- */

static int parse_opts(int argc, char **argv, struct pki_opts *o)
{
	for (int i = 2; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (v == NULL)
			return -1;
		if (strcmp(argv[i], "--ca") == 0)
			o->ca_dir = v;
		else if (strcmp(argv[i], "--spc") == 0)
			o->spc = v;
		else if (strcmp(argv[i], "--cn") == 0)
			o->cn = v;
		else if (strcmp(argv[i], "--crl-url") == 0)
			o->crl_url = v;
		else if (strcmp(argv[i], "--days") == 0 &&
			 ((o->days = strtol(v, &end, 10)) < 1 || o->days > 36500 || *end))
			return -1;
		else if (strcmp(argv[i], "--days") != 0)
			return -1;
	}
	return 0;
}

static bool spc_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

int pki_main(int argc, char **argv)
{
	struct pki_opts o = { .days = 365 };

	if (argc < 2 || parse_opts(argc, argv, &o) != 0) {
		usage(stderr);
		return 2;
	}
	o.dir = argv[1];
	if (strcmp(argv[0], "key") == 0 && argc == 2)
		return make_key(argv[1]);
	if (strcmp(argv[0], "ca") != 0 &&
	    (strcmp(argv[0], "sp") != 0 || o.ca_dir == NULL || !spc_ok(o.spc))) {
		usage(stderr);
		return 2;
	}
	if (config_make_dir(o.dir) != 0) {
		fprintf(stderr, "ringer: cannot create %s: %s\n", o.dir, strerror(errno));
		return 1;
	}
	return strcmp(argv[0], "ca") == 0 ? make_ca(&o) : make_sp(&o);
}
