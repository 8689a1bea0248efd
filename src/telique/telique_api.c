/* telique_api.c - Telique over HTTP: parse, admit, render (telique.yaml).
 *
 * Paths, status codes, content types and error codes follow the contract;
 * the short /v1/<kind>/ paths answer JSON. The family admits clients by the
 * source-address allowlist.
 */
#include "telique_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../auth/allow.h"
#include "../base/clock.h"
#include "../base/text.h"
#include "../base/tn.h"
#include "../numdb/numdb.h"
#include "cnam.h"
#include "telique.h"

#define MSG_BAD_TN "Invalid phone number format"
#define MSG_BAD_TN_LRN "Invalid phone number format. Must be a 10-digit NANP number."
#define MSG_FORBIDDEN "Forbidden. Your IP address is not authorized to access this resource."

/* ---- the family ---- */

static void render_error(struct http_resp *resp, enum http_fmt fmt, unsigned status,
			 const char *code, const char *msg)
{
	struct buf b;

	if (status == 403)
		msg = MSG_FORBIDDEN;
	if (fmt == HTTP_TEXT) {
		http_resp_text(resp, status, msg);
		return;
	}
	if (fmt == HTTP_JSON) {
		http_resp_json(resp, status, json_pack("{s:s, s:s, s:s}", "status", "error",
						       "error", msg, "error_code", code));
		return;
	}
	buf_init(&b, 4096);
	if (buf_puts(&b, "<error><status>error</status><message>") || buf_put_xml(&b, msg) ||
	    buf_puts(&b, "</message><error_code>") || buf_put_xml(&b, code) ||
	    buf_puts(&b, "</error_code></error>")) {
		buf_release(&b);
		http_resp_text(resp, 500, "Internal server error");
		return;
	}
	http_resp_xml(resp, status, b.data);
	buf_release(&b);
}

static int admit(const struct http_req *req)
{
	return allow_live_check(req->client_ip) ? 0 : -1;
}

static const char *const prefixes[] = {
	"/v1/telique/", "/v1/lrn/", "/v1/cnam/", "/v1/dno/", "/v1/ror/", "/v1/cic/",
	"/v1/cicror/", NULL,
};

static const struct http_family family = {
	.name = "telique",
	.prefixes = prefixes,
	.render_error = render_error,
	.admit = admit,
};

const struct http_family *telique_family(void)
{
	return &family;
}

/* ---- shared steps ---- */

/* The current generation, or NULL after answering 500. */
static struct numdb *data_or_respond(const struct http_req *req, struct http_resp *resp)
{
	struct numdb *g = numdb_acquire();

	if (g == NULL)
		http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error");
	return g;
}

/* Parse the number in path parameter name, or answer 400 and return -1. */
static int tn_or_respond(const struct http_req *req, struct http_resp *resp, const char *name,
			 const char *msg, uint64_t *tn)
{
	if (tn_parse_str(http_param(req, name), tn) == TN_OK)
		return 0;
	http_resp_error(req, resp, 400, "INVALID_FORMAT", msg);
	return -1;
}

static json_t *tn_json(uint64_t tn)
{
	char s[TN_STR_LEN + 1];

	tn_format(tn, s);
	return json_string(s);
}

/* ---- LRN ---- */

static void lrn_plain(struct http_req *req, struct http_resp *resp)
{
	struct lrn_answer a;
	char line[TN_STR_LEN + 1 + sizeof(a.spid)]; /* "lrn;spid" */
	size_t spid_len;
	struct numdb *g;
	uint64_t tn;

	if (tn_or_respond(req, resp, "phoneNumber", MSG_BAD_TN_LRN, &tn) != 0)
		return;
	if ((g = data_or_respond(req, resp)) == NULL)
		return;
	numdb_lrn(g, tn, &a);
	numdb_release(g);
	/* Built by hand: this is the hottest handler, and snprintf was a tenth of it. */
	tn_format(a.lrn, line);
	spid_len = strnlen(a.spid, sizeof(a.spid) - 1);
	if (spid_len) {
		line[TN_STR_LEN] = ';';
		memcpy(line + TN_STR_LEN + 1, a.spid, spid_len);
	}
	http_resp_set(resp, 200, "text/plain", line, spid_len ? TN_STR_LEN + 1 + spid_len
							  : TN_STR_LEN);
}

static void lrn_json(struct http_req *req, struct http_resp *resp)
{
	struct lrn_answer a;
	struct numdb *g;
	uint64_t tn;

	if (tn_or_respond(req, resp, "tn", MSG_BAD_TN, &tn) != 0)
		return;
	if ((g = data_or_respond(req, resp)) == NULL)
		return;
	numdb_lrn(g, tn, &a);
	numdb_release(g);
	http_resp_json(resp, 200, json_pack("{s:o, s:o, s:o, s:b}", "phoneNumber", tn_json(tn),
					    "lrn", tn_json(a.lrn), "spid",
					    a.spid[0] ? json_string(a.spid) : json_null(),
					    "ported", a.ported));
}

/* ---- CNAM ---- */

#define MSG_CNAM_DOWN "CNAM network not responding"

/* The CNAM answer for tn (local data, cache or a dip), or -1 after answering 500. */
static int cnam_or_respond(const struct http_req *req, struct http_resp *resp, uint64_t tn,
			   struct cnam_answer *a, bool *hit)
{
	struct numdb *g;
	int rc;

	if ((g = data_or_respond(req, resp)) == NULL)
		return -1;
	rc = cnam_lookup(g, tn, a, hit);
	numdb_release(g);
	if (rc != 0)
		http_resp_error(req, resp, 500, "SERVER_ERROR", MSG_CNAM_DOWN);
	return rc;
}

static void cnam_answer_or_404(const struct http_req *req, struct http_resp *resp,
			       uint64_t tn)
{
	struct cnam_answer a;
	bool hit;

	if (cnam_or_respond(req, resp, tn, &a, &hit) != 0)
		return;
	if (!a.available) {
		http_resp_error(req, resp, 404, "NOT_FOUND", "Phone number not found");
		return;
	}
	http_resp_json(resp, 200, json_pack("{s:o, s:s, s:s, s:b}", "phoneNumber", tn_json(tn),
					    "name", a.name, "status", "success", "cacheHit",
					    hit));
}

static void cnam_get(struct http_req *req, struct http_resp *resp)
{
	uint64_t tn;

	if (tn_or_respond(req, resp, "phoneNumber", MSG_BAD_TN, &tn) == 0)
		cnam_answer_or_404(req, resp, tn);
}

static bool is_form(const struct http_req *req)
{
	const char *ct = http_header(req, "Content-Type");
	size_t n = strlen("application/x-www-form-urlencoded");

	return ct && strncasecmp(ct, "application/x-www-form-urlencoded", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void cnam_post(struct http_req *req, struct http_resp *resp)
{
	char number[32];
	uint64_t tn;
	long n = -1;

	if (is_form(req))
		n = text_form_value(req->body, req->body_len, "number", number, sizeof(number));
	/* Parse by length: a decoded %00 must not cut the value short. */
	if (n < 0 || tn_parse(number, (size_t)n, &tn) != TN_OK) {
		http_resp_error(req, resp, 400, "INVALID_FORMAT", "Missing or invalid phone number");
		return;
	}
	cnam_answer_or_404(req, resp, tn);
}

static void cnam_short(struct http_req *req, struct http_resp *resp)
{
	struct cnam_answer a;
	uint64_t tn;
	bool hit;

	if (tn_or_respond(req, resp, "tn", MSG_BAD_TN, &tn) != 0 ||
	    cnam_or_respond(req, resp, tn, &a, &hit) != 0)
		return;
	http_resp_json(resp, 200,
		       json_pack("{s:o, s:o, s:s, s:s, s:s, s:b}", "phoneNumber", tn_json(tn),
				 "calling_name", a.available ? json_string(a.name) : json_null(),
				 "calling_name_status", a.available ? "available" : "unavailable",
				 "presentation_indicator", a.restricted ? "restricted" : "allowed",
				 "status", "success", "cacheHit", hit));
}

/* DELETE .../cnam/cache[/{phoneNumber}]: forget cached answers here and in Redis. */
static void cnam_purge_one_or_all(struct http_req *req, struct http_resp *resp, bool all)
{
	uint64_t tn = 0;
	long local, shared;

	if (!all && tn_or_respond(req, resp, "phoneNumber", MSG_BAD_TN, &tn) != 0)
		return;
	local = cnam_purge(tn, &shared);
	http_resp_json(resp, 200, json_pack("{s:s, s:I, s:I}", "status", "success", "purged",
					    (json_int_t)local, "sharedPurged",
					    (json_int_t)shared));
}

static void cnam_purge_tn(struct http_req *req, struct http_resp *resp)
{
	cnam_purge_one_or_all(req, resp, false);
}

static void cnam_purge_all(struct http_req *req, struct http_resp *resp)
{
	cnam_purge_one_or_all(req, resp, true);
}

/* ---- DNC and DNO ---- */

enum list_kind { LIST_DNC, LIST_DNO };

/*
 * DNO lists exist to name numbers that are not valid NANP numbers (N11 area
 * codes, 0/1 leading), so DNO takes any 10 digits; DNC takes valid numbers.
 */
static int list_tn_or_respond(const struct http_req *req, struct http_resp *resp,
			      const char *name, enum list_kind kind, uint64_t *tn)
{
	const char *s = http_param(req, name);

	if (kind == LIST_DNC)
		return tn_or_respond(req, resp, name, MSG_BAD_TN, tn);
	if (s && tn_parse_digits(s, strlen(s), tn) == TN_OK)
		return 0;
	http_resp_error(req, resp, 400, "INVALID_FORMAT", MSG_BAD_TN);
	return -1;
}

static void list_lookup(struct http_req *req, struct http_resp *resp, enum list_kind kind,
			bool xml)
{
	char tns[TN_STR_LEN + 1], doc[160];
	struct dno_match m;
	struct numdb *g;
	uint64_t tn;
	bool hit;

	if (list_tn_or_respond(req, resp, "num", kind, &tn) != 0)
		return;
	if ((g = data_or_respond(req, resp)) == NULL)
		return;
	hit = kind == LIST_DNC ? numdb_dnc(g, tn) : numdb_dno(g, tn, &m);
	numdb_release(g);
	tn_format(tn, tns);
	if (xml) {
		snprintf(doc, sizeof(doc), "<DnoResponse><phoneNumber>%s</phoneNumber>"
			 "<recordExists>%s</recordExists></DnoResponse>", tns,
			 hit ? "true" : "false");
		http_resp_xml(resp, 200, doc);
		return;
	}
	http_resp_json(resp, 200, json_pack("{s:s, s:b}", "phoneNumber", tns,
					    "recordExists", hit));
}

static void dnc_json(struct http_req *req, struct http_resp *resp)
{
	list_lookup(req, resp, LIST_DNC, false);
}

static void dnc_xml(struct http_req *req, struct http_resp *resp)
{
	list_lookup(req, resp, LIST_DNC, true);
}

static void dno_json(struct http_req *req, struct http_resp *resp)
{
	list_lookup(req, resp, LIST_DNO, false);
}

static void dno_xml(struct http_req *req, struct http_resp *resp)
{
	list_lookup(req, resp, LIST_DNO, true);
}

static void dno_short(struct http_req *req, struct http_resp *resp)
{
	struct dno_match m;
	struct numdb *g;
	uint64_t tn;
	bool hit;

	if (list_tn_or_respond(req, resp, "tn", LIST_DNO, &tn) != 0)
		return;
	if ((g = data_or_respond(req, resp)) == NULL)
		return;
	hit = numdb_dno(g, tn, &m);
	/* m.source points into the generation: render before releasing it. */
	http_resp_json(resp, 200,
		       json_pack("{s:o, s:b, s:b, s:o, s:o}", "phoneNumber", tn_json(tn),
				 "recordExists", hit, "is_dno", hit, "matched_pattern",
				 hit ? json_string(m.pattern) : json_null(), "source",
				 hit ? json_string(m.source) : json_null()));
	numdb_release(g);
}

static void dnc_report(struct http_req *req, struct http_resp *resp)
{
	const struct dnc_count *rows;
	struct numdb *g;
	json_t *arr;
	size_t n;

	if ((g = data_or_respond(req, resp)) == NULL)
		return;
	rows = numdb_dnc_report(g, &n);
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_pack("{s:i, s:I, s:I}", "npa", (int)rows[i].npa,
						     "oldCount", (json_int_t)rows[i].old_count,
						     "newCount", (json_int_t)rows[i].new_count));
	numdb_release(g);
	http_resp_json(resp, 200, arr);
}

/* ---- toll-free: ROR, CIC, CICROR ---- */

/* A CRN or ANI path value: exactly 10 digits in 2000000000-9999999999. */
static int ten_digits(const char *s, uint64_t *out)
{
	uint64_t v;

	if (s == NULL || digits_parse(s, strlen(s), 10, &v) != 0 || v < 2000000000u)
		return -1;
	*out = v;
	return 0;
}

/* A LATA path value: 1 to 3 digits. */
static int lata_value(const char *s, unsigned *out)
{
	uint64_t v;
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 3 || digits_parse(s, n, (unsigned)n, &v) != 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

struct tf_query {
	bool plain;    /* text/plain rendering */
	bool want_cic; /* evaluate the CPR */
	bool want_ror; /* answer the RespOrg */
};

static void tf_error(const struct http_req *req, struct http_resp *resp, bool plain,
		     unsigned status)
{
	if (status == 400)
		http_resp_error(req, resp, 400, "BAD_REQUEST", "Bad request");
	else if (status == 404)
		http_resp_error(req, resp, 404, "NOT_FOUND", plain ? "Unknown" : "Unknown CRN");
	else
		http_resp_error(req, resp, 500, "SERVER_ERROR",
				plain ? "Server error" : "Internal server error");
}

static json_t *cic_data(uint64_t crn, uint64_t ani, unsigned lata, const struct cpr_result *r)
{
	json_t *d = json_pack("{s:o, s:o, s:i}", "crn", tn_json(crn), "ani", tn_json(ani), "lata",
			      (int)lata);

	if (d && r->tel[0])
		json_object_set_new(d, "tel", json_string(r->tel));
	return d;
}

static void render_tf(struct http_resp *resp, const struct tf_query *q, const char *ror,
		      json_t *data, struct cpr_result *r)
{
	char line[64];
	json_t *j;

	if (q->plain) {
		if (q->want_cic && q->want_ror)
			snprintf(line, sizeof(line), "%s;%s", r->cic, ror);
		else
			snprintf(line, sizeof(line), "%s", q->want_cic ? r->cic : ror);
		http_resp_text(resp, 200, line);
		json_decref(data);
		json_decref(r ? r->ir : NULL);
		return;
	}
	if (!q->want_cic) {
		http_resp_json(resp, 200, json_pack("{s:s}", "ror", ror));
		return;
	}
	j = json_pack("{s:s}", "carrier", r->cic);
	if (j && q->want_ror)
		json_object_set_new(j, "ror", json_string(ror));
	if (j) {
		json_object_set_new(j, "data", data);
		json_object_set_new(j, "ir", r->ir);
	}
	http_resp_json(resp, 200, j);
}

static void tollfree(struct http_req *req, struct http_resp *resp, const struct tf_query *q)
{
	struct cpr_result r = { .ir = NULL };
	const char *ror = NULL;
	char ror_copy[8] = "";
	uint64_t crn, ani = 0;
	unsigned lata = 0;
	struct numdb *g;
	int rc = CIC_OK;

	if (ten_digits(http_param(req, "crn"), &crn) != 0 ||
	    (q->want_cic && (ten_digits(http_param(req, "ani"), &ani) != 0 ||
			     lata_value(http_param(req, "lata"), &lata) != 0))) {
		tf_error(req, resp, q->plain, 400);
		return;
	}
	if ((g = numdb_acquire()) == NULL) {
		tf_error(req, resp, q->plain, 500);
		return;
	}
	if (q->want_ror && numdb_ror(g, crn, &ror) == 0)
		snprintf(ror_copy, sizeof(ror_copy), "%s", ror);
	if (q->want_cic && (!q->want_ror || ror))
		rc = telique_cic(g, crn, ani, lata, clock_now(), &r);
	numdb_release(g);
	if ((q->want_ror && ror == NULL) || rc == CIC_UNKNOWN_CRN) {
		tf_error(req, resp, q->plain, 404);
		return;
	}
	if (rc == CIC_NO_ROUTE) {
		http_resp_error(req, resp, 404, "NOT_FOUND",
				q->plain ? "Unknown" : "No carrier for this call");
		return;
	}
	render_tf(resp, q, ror_copy, q->want_cic ? cic_data(crn, ani, lata, &r) : NULL, &r);
}

#define TF_HANDLER(fn, plain, cic, ror)                                  \
	static void fn(struct http_req *req, struct http_resp *resp)     \
	{                                                                \
		static const struct tf_query q = { plain, cic, ror };    \
		tollfree(req, resp, &q);                                 \
	}

TF_HANDLER(ror_json, false, false, true)
TF_HANDLER(ror_plain, true, false, true)
TF_HANDLER(cic_json, false, true, false)
TF_HANDLER(cic_plain, true, true, false)
TF_HANDLER(cicror_json, false, true, true)
TF_HANDLER(cicror_plain, true, true, true)

/* ---- the route table ---- */

#define T(m, p, f, h) { m, p, f, &family, h, false }

static const struct http_route routes[] = {
	T("GET", "/v1/telique/cnam/{phoneNumber}", HTTP_JSON, cnam_get),
	{ "POST", "/v1/telique/cnam", HTTP_JSON, &family, cnam_post, true },
	T("DELETE", "/v1/telique/cnam/cache", HTTP_JSON, cnam_purge_all),
	T("DELETE", "/v1/telique/cnam/cache/{phoneNumber}", HTTP_JSON, cnam_purge_tn),
	T("GET", "/v1/telique/lrn/{phoneNumber}", HTTP_TEXT, lrn_plain),
	T("GET", "/v1/telique/cic/{crn}/{ani}/{lata}", HTTP_JSON, cic_json),
	T("GET", "/v1/telique/cic/{crn}/{ani}/{lata}/plain", HTTP_TEXT, cic_plain),
	T("GET", "/v1/telique/cicror/{crn}/{ani}/{lata}", HTTP_JSON, cicror_json),
	T("GET", "/v1/telique/cicror/{crn}/{ani}/{lata}/plain", HTTP_TEXT, cicror_plain),
	T("GET", "/v1/telique/ror/{crn}", HTTP_JSON, ror_json),
	T("GET", "/v1/telique/ror/{crn}/plain", HTTP_TEXT, ror_plain),
	T("GET", "/v1/telique/dno/{num}", HTTP_JSON, dno_json),
	T("GET", "/v1/telique/dno/{num}/xml", HTTP_XML, dno_xml),
	T("GET", "/v1/telique/dnc/{num}", HTTP_JSON, dnc_json),
	T("GET", "/v1/telique/dnc/{num}/xml", HTTP_XML, dnc_xml),
	T("GET", "/v1/telique/dncreport", HTTP_JSON, dnc_report),
	T("GET", "/v1/lrn/{tn}", HTTP_JSON, lrn_json),
	T("GET", "/v1/cnam/{tn}", HTTP_JSON, cnam_short),
	T("GET", "/v1/dno/{tn}", HTTP_JSON, dno_short),
	T("GET", "/v1/ror/{crn}", HTTP_JSON, ror_json),
	T("GET", "/v1/cic/{crn}/{ani}/{lata}", HTTP_JSON, cic_json),
	T("GET", "/v1/cicror/{crn}/{ani}/{lata}", HTTP_JSON, cicror_json),
};

int telique_api_mount(struct http_router *r)
{
	if (http_router_add_family(r, &family) != 0)
		return -1;
	return http_router_add(r, routes, sizeof(routes) / sizeof(routes[0]));
}
