/* stirshaken_api.c - the STIR/SHAKEN routes: parse JSON, call stirshaken.c, render.
 *
 * An invalid PASSporT is an answer, not an error: 200 {"valid":false, "reason":
 * {"code":438, "text":...}}. Only a request that cannot be read (bad JSON, a
 * required field missing or not a string) is a 400 in the Telique shape.
 */
#include "stirshaken_api.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "certfetch.h"
#include "stirshaken.h"
#include "telique_api.h"

#define MSG_BAD_REQUEST "Invalid request parameters"

static struct certfetch *fetcher;
static struct stirshaken_verifier *verifier;
static struct stirshaken_signer *signer; /* NULL when no key is configured */

/* ---- request reading ---- */

/* The body as a JSON object (duplicate keys refused), or NULL after answering 400. */
static json_t *body_or_400(const struct http_req *req, struct http_resp *resp)
{
	json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);

	if (j && json_is_object(j))
		return j;
	json_decref(j);
	http_resp_error(req, resp, 400, "INVALID_REQUEST", MSG_BAD_REQUEST);
	return NULL;
}

/* Member key as a string: 0 with *out set (NULL when absent), -1 when not a string. */
static int opt_str(json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	*out = v ? json_string_value(v) : NULL;
	return v && !json_is_string(v) ? -1 : 0;
}

/* The fields present make a request: 0, or -1 for a 400. */
static int input_check(const struct stirshaken_input *in)
{
	/* The contract's four fields are required unless a whole Identity header came. */
	if (in->identity == NULL &&
	    (!in->token || !in->cert_url || !in->algorithm || !in->ppt))
		return -1;
	if ((in->orig_tn && !stirshaken_tn_ok(in->orig_tn)) ||
	    (in->dest_tn && !stirshaken_tn_ok(in->dest_tn)))
		return -1;
	return 0;
}

static int validate_input(json_t *b, struct stirshaken_input *in)
{
	if (opt_str(b, "token", &in->token) || opt_str(b, "certUrl", &in->cert_url) ||
	    opt_str(b, "algorithm", &in->algorithm) || opt_str(b, "ppt", &in->ppt) ||
	    opt_str(b, "identity", &in->identity) || opt_str(b, "origTn", &in->orig_tn) ||
	    opt_str(b, "destTn", &in->dest_tn))
		return -1;
	return input_check(in);
}

/*
 * The usual request read without building a JSON tree (jansson costs more
 * per request than everything else but the ECDSA): one flat object of
 * printable-ASCII strings without escapes, no key twice. Anything else
 * returns -1 and the full parser decides, so the answers are the same.
 * s is a writable copy of the body; the values point into it.
 */
#define FAST_KEYS 16

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* A plain string at *p: NUL-terminates it in place and returns its start, or NULL. */
static char *fast_string(char **p)
{
	char *start, *q;

	if (**p != '"')
		return NULL;
	start = q = *p + 1;
	while (*q >= 0x20 && *q <= 0x7e && *q != '"' && *q != '\\')
		q++;
	if (*q != '"')
		return NULL;
	*q = '\0';
	*p = q + 1;
	return start;
}

static void fast_assign(struct stirshaken_input *in, const char *k, const char *v)
{
	static const char *const names[] = { "token", "certUrl", "algorithm", "ppt", "identity",
					     "origTn", "destTn" };
	const char **slots[] = { &in->token, &in->cert_url, &in->algorithm, &in->ppt,
				 &in->identity, &in->orig_tn, &in->dest_tn };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(k, names[i]) == 0)
			*slots[i] = v;
}

static int fast_input(char *s, struct stirshaken_input *in)
{
	const char *keys[FAST_KEYS];
	size_t n = 0;
	char *p = (char *)skip_ws(s), *k, *v;

	if (*p++ != '{')
		return -1;
	p = (char *)skip_ws(p);
	while (*p != '}') {
		if (n == FAST_KEYS || (k = fast_string(&p)) == NULL)
			return -1;
		p = (char *)skip_ws(p);
		if (*p++ != ':')
			return -1;
		p = (char *)skip_ws(p);
		if ((v = fast_string(&p)) == NULL)
			return -1;
		for (size_t i = 0; i < n; i++)
			if (strcmp(keys[i], k) == 0)
				return -1;
		keys[n++] = k;
		fast_assign(in, k, v);
		p = (char *)skip_ws(p);
		if (*p == ',') {
			p = (char *)skip_ws(p + 1);
			if (*p != '"')
				return -1; /* a trailing comma: not JSON */
		} else if (*p != '}') {
			return -1;
		}
	}
	return *skip_ws(p + 1) == '\0' ? 0 : -1;
}

/* ---- validate ---- */

static json_t *result_json(const struct stirshaken_result *r)
{
	json_t *j = json_pack("{s:b}", "valid", r->valid), *dest;

	if (j == NULL)
		return NULL;
	if (!r->valid)
		json_object_set_new(j, "reason", json_pack("{s:i, s:s}", "code", (int)r->code,
							   "text", r->text));
	if (!r->signature_ok)
		return j;
	dest = json_array();
	for (size_t i = 0; dest && i < r->n_dest; i++)
		json_array_append_new(dest, json_string(r->dest[i]));
	json_object_set_new(j, "attest", json_string(r->attest));
	json_object_set_new(j, "orig", json_string(r->orig));
	json_object_set_new(j, "dest", dest ? dest : json_null());
	json_object_set_new(j, "origid", json_string(r->origid));
	json_object_set_new(j, "spc", json_string(r->spc));
	return j;
}

static void validate(struct http_req *req, struct http_resp *resp)
{
	struct stirshaken_input in = { .token = NULL };
	struct stirshaken_result r;
	char *copy = NULL;
	json_t *b = NULL;
	int rc;

	if (strlen(req->body) == req->body_len && (copy = strdup(req->body)) != NULL &&
	    fast_input(copy, &in) == 0) {
		rc = input_check(&in);
	} else {
		in = (struct stirshaken_input){ .token = NULL };
		if ((b = body_or_400(req, resp)) == NULL) {
			free(copy);
			return;
		}
		rc = validate_input(b, &in);
	}
	if (rc != 0) {
		http_resp_error(req, resp, 400, "INVALID_REQUEST", MSG_BAD_REQUEST);
	} else if (stirshaken_verify(verifier, &in, &r) != 0) {
		http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error");
	} else {
		if (!r.valid)
			log_info("passport refused", "code=%u reason=\"%s\"", r.code, r.text);
		http_resp_json(resp, 200, result_json(&r));
	}
	json_decref(b);
	free(copy);
}

/* ---- sign ---- */

/* dest as one number or a list of them; at most SS_DEST_MAX. */
static int dest_list(json_t *d, const char **out, size_t *n)
{
	size_t i;
	json_t *v;

	if (json_is_string(d)) {
		out[0] = json_string_value(d);
		*n = 1;
		return 0;
	}
	if (!json_is_array(d) || json_array_size(d) == 0 || json_array_size(d) > SS_DEST_MAX)
		return -1;
	json_array_foreach(d, i, v) {
		if (!json_is_string(v))
			return -1;
		out[i] = json_string_value(v);
	}
	*n = json_array_size(d);
	return 0;
}

static int sign_input(json_t *b, struct stirshaken_claims *c, const char **dest)
{
	const char *attest = NULL;

	if (opt_str(b, "orig", &c->orig) || opt_str(b, "attest", &attest) ||
	    opt_str(b, "origid", &c->origid) || !c->orig || !attest || !c->origid ||
	    dest_list(json_object_get(b, "dest"), dest, &c->n_dest) != 0)
		return -1;
	if (strlen(attest) != 1 || strchr("ABC", attest[0]) == NULL)
		return -1;
	c->attest = attest[0];
	c->dest = dest;
	c->iat = clock_now();
	return 0;
}

static void sign(struct http_req *req, struct http_resp *resp)
{
	const char *dest[SS_DEST_MAX];
	struct stirshaken_claims c = { .attest = 0 };
	char *passport = NULL, *identity = NULL;
	json_t *b;

	if (signer == NULL) {
		http_resp_error(req, resp, 500, "SERVER_ERROR", "Signing is not configured");
		return;
	}
	if ((b = body_or_400(req, resp)) == NULL)
		return;
	if (sign_input(b, &c, dest) != 0 ||
	    stirshaken_sign(signer, &c, &passport, &identity) != 0) {
		/* Claims that pass sign_input fail in signing only when out of range. */
		http_resp_error(req, resp, 400, "INVALID_REQUEST", MSG_BAD_REQUEST);
	} else {
		http_resp_json(resp, 200, json_pack("{s:s, s:s}", "passport", passport,
						    "identity", identity));
	}
	free(passport);
	free(identity);
	json_decref(b);
}

/* ---- mounting ---- */

static struct http_route routes[2];

static int build(const struct config *cfg, char *err, size_t errlen)
{
	struct certfetch_cfg fc = {
		.allow_http = cfg->ss_allow_http != 0, .timeout_ms = cfg->ss_fetch_timeout_ms,
		.ca_file = cfg->ss_fetch_ca_file, .allow = cfg->ss_fetch_allow,
		.ports = cfg->ss_fetch_ports,
	};
	struct stirshaken_cfg vc = {
		.trust_anchors = cfg->ss_trust_anchors, .iat_window = cfg->ss_iat_window,
		.crl_check = cfg->ss_crl_check != 0,
	};

	if ((fetcher = certfetch_new(&fc, err, errlen)) == NULL)
		return -1;
	vc.fetch = fetcher;
	if ((verifier = stirshaken_verifier_new(&vc, err, errlen)) == NULL)
		return -1;
	if (cfg->ss_sign_key[0] &&
	    (signer = stirshaken_signer_new(cfg->ss_sign_key, cfg->ss_sign_x5u, err,
					    errlen)) == NULL)
		return -1;
	if (cfg->ss_trust_anchors[0] == '\0')
		log_warn("stirshaken: no trust anchors set, every certificate is refused", NULL);
	return 0;
}

int stirshaken_api_mount(struct http_router *r, const struct config *cfg)
{
	char err[300];

	/* Before any worker thread exists: curl's global set-up is not thread-safe. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || build(cfg, err, sizeof(err))) {
		log_error("stirshaken: cannot start", "reason=\"%s\"", err);
		stirshaken_api_shutdown();
		return -1;
	}
	routes[0] = (struct http_route){ "POST", "/v1/telique/stirshaken/validate", HTTP_JSON,
					 telique_family(), validate, true };
	routes[1] = (struct http_route){ "POST", "/v1/telique/stirshaken/sign", HTTP_JSON,
					 telique_family(), sign, true };
	return http_router_add(r, routes, 2);
}

void stirshaken_api_shutdown(void)
{
	stirshaken_signer_free(signer);
	stirshaken_verifier_free(verifier);
	certfetch_free(fetcher);
	signer = NULL;
	verifier = NULL;
	fetcher = NULL;
}
