/* stirshaken.h - verifying and signing SHAKEN PASSporTs (RFC 8225, 8588, 8224).
 *
 * Verification follows DOMAIN.md section 6.3: strict compact JWS, header
 * (alg ES256, typ passport, ppt shaken, x5u equal to the certificate URL),
 * required claims, freshness against clock_now(), the certificate fetched
 * through certfetch (chain to the configured STI-CA trust anchors at
 * clock_now(), TNAuthList with its SPC, CRL when enabled), the ES256
 * signature, then the optional orig/dest numbers. Every failure maps to the
 * SIP code a verification service would use:
 *   403 Stale Date             iat too old, zero or in the future
 *   436 Bad Identity Info      certificate URL unusable (scheme, port), refused, not fetched,
 *                              not a certificate
 *   437 Unsupported Credential untrusted, expired, not yet valid, revoked, ATIS-1000080
 *                              profile (keyUsage, SKI, AKI, serial, policies), no TNAuthList
 *   438 Invalid Identity Header encoding, header, claims, signature, orig/dest mismatch
 * No HTTP here: stirshaken_api.c parses requests and renders answers.
 */
#ifndef RINGER_TELIQUE_STIRSHAKEN_H
#define RINGER_TELIQUE_STIRSHAKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "certfetch.h"

#define SS_STALE 403
#define SS_BAD_INFO 436
#define SS_BAD_CREDENTIAL 437
#define SS_BAD_HEADER 438

#define SS_TN_MAX 32    /* bytes of a telephone number claim, NUL included */
#define SS_DEST_MAX 8   /* dest.tn entries reported */
#define SS_ORIGID_MAX 80
#define SS_SPC_MAX 64
#define SS_DEFAULT_IAT_WINDOW 60

struct stirshaken_cfg {
	const char *trust_anchors; /* PEM file of STI-CA roots; NULL or "" = none trusted */
	unsigned iat_window;       /* seconds; 0 = SS_DEFAULT_IAT_WINDOW */
	bool crl_check;            /* check revocation through the CRL distribution point */
	struct certfetch *fetch;   /* borrowed; outlives the verifier */
};

/* What is being verified. Strings may be NULL when absent. */
struct stirshaken_input {
	const char *token;     /* compact PASSporT */
	const char *cert_url;  /* certUrl */
	const char *algorithm; /* the request's algorithm; must be ES256 when given */
	const char *ppt;       /* the request's ppt; must be shaken when given */
	const char *identity;  /* a whole SIP Identity header value instead of token */
	const char *orig_tn;   /* expected orig.tn */
	const char *dest_tn;   /* expected among dest.tn */
};

struct stirshaken_result {
	bool valid;
	unsigned code;  /* 0 when valid, else SS_* */
	char text[96];  /* the reason, short */
	bool signature_ok; /* the fields below are filled only then */
	char attest[2];
	char orig[SS_TN_MAX];
	char dest[SS_DEST_MAX][SS_TN_MAX];
	size_t n_dest;
	char origid[SS_ORIGID_MAX];
	char spc[SS_SPC_MAX];
};

struct stirshaken_verifier;

/* Make a verifier. Returns NULL with a reason in err (trust anchors unreadable). */
struct stirshaken_verifier *stirshaken_verifier_new(const struct stirshaken_cfg *cfg, char *err,
						    size_t errlen);
void stirshaken_verifier_free(struct stirshaken_verifier *v);

/*
 * Verify in and fill *res (always, valid or not). Returns 0, or -1 only when
 * the verification could not run (out of memory), with *res untouched.
 * Thread-safe.
 */
int stirshaken_verify(struct stirshaken_verifier *v, const struct stirshaken_input *in,
		      struct stirshaken_result *res);

/* ---- signing ---- */

struct stirshaken_claims {
	char attest;              /* 'A', 'B' or 'C' */
	const char *orig;         /* orig.tn */
	const char *const *dest;  /* dest.tn entries */
	size_t n_dest;
	const char *origid;
	int64_t iat;
};

struct stirshaken_signer;

/* Load an EC P-256 private key (PEM) and the x5u to name. Returns NULL with err set. */
struct stirshaken_signer *stirshaken_signer_new(const char *key_file, const char *x5u,
						char *err, size_t errlen);
void stirshaken_signer_free(struct stirshaken_signer *s);

/*
 * Sign c. Returns 0 with the compact PASSporT and the SIP Identity header
 * value in *passport and *identity (both malloc'd), or -1 with both untouched
 * (a claim out of range, a signing failure). Thread-safe.
 */
int stirshaken_sign(const struct stirshaken_signer *s, const struct stirshaken_claims *c,
		    char **passport, char **identity);

/* True if s is a telephone number claim: 1 to 20 digits, optionally after '+'. */
bool stirshaken_tn_ok(const char *s);

#endif
