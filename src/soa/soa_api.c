/* soa_api.c - parse, authorise and render the Portability operations.
 *
 * Handlers check the body against the contract (required fields present and
 * well formed) before anything reaches the service; a body that fails
 * answers 400 and changes nothing. Bodies are JSON or XML (soa_xml.h); the
 * answer is XML when the body is or the client's Accept asks for it.
 */
#include "soa_api.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../auth/token_api.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "../base/tn.h"
#include "../numdb/numdb.h"
#include "soa.h"
#include "soa_store.h"
#include "soa_xml.h"

#define EVENTS_LIMIT 500

/* ---- the family ---- */

static const char *const prefixes[] = { "/v1/lnp/soa/", "/api/v1/soa/", NULL };

static const struct http_family family = {
	.name = "soa",
	.prefixes = prefixes,
	.render_error = token_api_render_error,
	.admit = NULL,
};

/* ---- answers ---- */

/* Answer j (takes the reference) in the request's format: XML under root, or JSON. */
static void reply(const struct http_req *req, struct http_resp *resp, unsigned status,
		  const char *root, json_t *j)
{
	char *xml;

	if (req->fmt != HTTP_XML) {
		http_resp_json(resp, status, j);
		return;
	}
	xml = j ? soa_xml_render(root, j) : NULL;
	json_decref(j);
	if (xml == NULL) {
		http_resp_text(resp, 500, "Internal server error");
		return;
	}
	http_resp_xml(resp, status, xml);
	free(xml);
}

static void answer(const struct http_req *req, struct http_resp *resp, unsigned status,
		   const char *msg, json_t *data)
{
	char ts[32];
	json_t *j;

	clock_format_rfc3339(clock_now(), ts, sizeof(ts));
	j = json_pack("{s:s, s:s, s:s}", "status", "SUCCESS", "message", msg, "timestamp", ts);
	if (data)
		json_object_set_new(j, "data", data);
	reply(req, resp, status, "SoaResponse", j);
}

static void bad(struct http_req *req, struct http_resp *resp, const char *msg)
{
	http_resp_error(req, resp, 400, "INVALID_REQUEST", msg);
}

static json_t *sv_json(const struct sv *sv)
{
	char tn[TN_STR_LEN + 1], lrn[TN_STR_LEN + 1], due[32];

	tn_format(sv->tn, tn);
	tn_format(sv->lrn, lrn);
	clock_format_rfc3339(sv->due, due, sizeof(due));
	return json_pack("{s:I, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:b}", "portRequestId",
			 (json_int_t)sv->id, "tn", tn, "status", sv_status_name(sv->status),
			 "statusCode", (int)sv->status, "oldSpid", sv->old_spid, "newSpid",
			 sv->new_spid, "lrn", sv->lrn ? lrn : "", "dueDate", due, "concurred",
			 sv->authorized);
}

static void answer_result(struct http_req *req, struct http_resp *resp,
			  const struct soa_result *res)
{
	if (res->http >= 300) {
		http_resp_error(req, resp, res->http, res->code, res->msg);
		return;
	}
	answer(req, resp, res->http, res->msg, res->sv.id ? sv_json(&res->sv) : NULL);
}

/* ---- authentication: the token's SPIDs become the caller ---- */

struct call {
	struct token_info tok;
	struct soa_caller c;
	sqlite3 *db;
	json_t *body; /* POSTs */
};

static bool media_is_xml(const char *v)
{
	return v && (strcasestr(v, "application/xml") || strcasestr(v, "text/xml"));
}

/* XML answers when the body is XML or the client asks for XML (teliport.yaml allows both). */
static bool wants_xml(const struct http_req *req)
{
	return media_is_xml(http_header(req, "Content-Type")) ||
	       media_is_xml(http_header(req, "Accept"));
}

static int begin(struct http_req *req, struct http_resp *resp, const char *scope,
		 struct call *k)
{
	memset(k, 0, sizeof(*k));
	req->fmt = wants_xml(req) ? HTTP_XML : HTTP_JSON;
	if (token_request_or_respond(req, resp, NULL, scope, &k->tok) != 0)
		return -1;
	k->db = token_api_db();
	if (k->db == NULL) {
		http_resp_error(req, resp, 500, "SERVER_ERROR", "the database is not available");
		return -1;
	}
	k->c.spids = (const char (*)[5])k->tok.spids;
	k->c.n = k->tok.n_spids;
	return 0;
}

static int begin_post(struct http_req *req, struct http_resp *resp, struct call *k)
{
	char msg[160];
	json_error_t e;

	if (begin(req, resp, SOA_SCOPE_WRITE, k) != 0)
		return -1;
	if (media_is_xml(http_header(req, "Content-Type"))) {
		k->body = soa_xml_parse(req->body, req->body_len, msg, sizeof(msg));
		if (k->body == NULL) {
			bad(req, resp, msg);
			return -1;
		}
		return 0;
	}
	k->body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!json_is_object(k->body)) {
		json_decref(k->body);
		k->body = NULL;
		bad(req, resp, "the body is not a JSON object");
		return -1;
	}
	return 0;
}

/* ---- fields ---- */

static const char *field(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

/* A required 10-digit NANP number field. */
static int tn_field(struct http_req *req, struct http_resp *resp, const json_t *o,
		    const char *name, uint64_t *out)
{
	const char *s = field(o, name);
	char msg[80];

	if (s && strlen(s) == 10 && tn_parse_str(s, out) == TN_OK)
		return 0;
	snprintf(msg, sizeof(msg), "%s must be a 10-digit NANP number", name);
	bad(req, resp, msg);
	return -1;
}

static bool spid_ok(const char *s)
{
	if (s == NULL || strlen(s) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

static int spid_field(struct http_req *req, struct http_resp *resp, const json_t *o,
		      const char *name, char out[5])
{
	const char *s = field(o, name);
	char msg[80];

	if (spid_ok(s)) {
		memcpy(out, s, 5);
		return 0;
	}
	snprintf(msg, sizeof(msg), "%s must be a 4-character SPID", name);
	bad(req, resp, msg);
	return -1;
}

static int text_field(struct http_req *req, struct http_resp *resp, const json_t *o,
		      const char *name, size_t max)
{
	const char *s = field(o, name);
	char msg[80];

	if (s && s[0] && strlen(s) <= max)
		return 0;
	snprintf(msg, sizeof(msg), "%s is required (at most %zu characters)", name, max);
	bad(req, resp, msg);
	return -1;
}

static int date_field(struct http_req *req, struct http_resp *resp, const json_t *o,
		      const char *name, int64_t *day)
{
	const char *s = field(o, name);
	char msg[80];

	/* Dates more than a year out would hold a number's port open for ever. */
	if (s && bizcal_parse_date(s, day) == 0 && *day <= clock_now() / 86400 + 366)
		return 0;
	snprintf(msg, sizeof(msg), "%s must be a date (YYYY-MM-DD) within a year", name);
	bad(req, resp, msg);
	return -1;
}

static void call_end(struct call *k)
{
	json_decref(k->body);
}

/* ---- create ---- */

/* Every string in o (one level of objects down) is at most max bytes. */
static bool strings_bounded(const json_t *o, size_t max, int depth)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)o, key, v) {
		if (json_is_string(v) && json_string_length(v) > max)
			return false;
		if (json_is_object(v) && (depth == 0 || !strings_bounded(v, max, depth - 1)))
			return false;
		if (json_is_array(v))
			return false;
	}
	return true;
}

static int subscriber_ok(const json_t *s)
{
	const json_t *addr = json_object_get(s, "address");
	const char *zip = json_string_value(json_object_get(addr, "zip"));
	const char *state = json_string_value(json_object_get(addr, "state"));

	if (!json_is_object(s) || (!field(s, "lastName") && !field(s, "businessName")))
		return -1;
	/* The other carrier is shown all of it: bound what one side may store. */
	if (!strings_bounded(s, 200, 1))
		return -1;
	if (addr && !json_is_object(addr))
		return -1;
	if (state && strlen(state) != 2)
		return -1;
	if (zip && (strlen(zip) != 5 && strlen(zip) != 10))
		return -1;
	for (size_t i = 0; zip && zip[i]; i++)
		if (!(isdigit((unsigned char)zip[i]) || (i == 5 && zip[i] == '-')))
			return -1;
	return 0;
}

static int auth_code_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (s == NULL)
		return 0;
	if (n == 0 || n > 32)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return -1;
	return 0;
}

static int create_parse(struct http_req *req, struct http_resp *resp, const json_t *b,
			struct soa_create_req *rq, bool intra)
{
	const char *pt = field(b, "portType"), *lrn = field(b, "lrn");

	memset(rq, 0, sizeof(*rq));
	if (tn_field(req, resp, b, "tn", &rq->tn) || spid_field(req, resp, b, "newSpid",
								  rq->new_spid))
		return -1;
	if (intra)
		memcpy(rq->old_spid, rq->new_spid, 5);
	else if (spid_field(req, resp, b, "oldSpid", rq->old_spid))
		return -1;
	if (pt == NULL && intra)
		pt = "SIMPLE";
	if (pt == NULL || (strcmp(pt, "SIMPLE") && strcmp(pt, "COMPLEX") && strcmp(pt, "PROJECT"))) {
		bad(req, resp, "portType must be SIMPLE, COMPLEX or PROJECT");
		return -1;
	}
	snprintf(rq->port_type, sizeof(rq->port_type), "%s", pt);
	if (date_field(req, resp, b, "requestedPortDate", &rq->due_day))
		return -1;
	rq->subscriber = json_object_get(b, "subscriberInfo");
	if (!intra && subscriber_ok(rq->subscriber) != 0) {
		bad(req, resp, "subscriberInfo must name the subscriber (lastName or "
			       "businessName) with a well-formed address");
		return -1;
	}
	if (auth_code_ok(field(b, "authorizationCode")) != 0) {
		bad(req, resp, "authorizationCode must be 1-32 letters or digits");
		return -1;
	}
	snprintf(rq->auth_code, sizeof(rq->auth_code), "%s",
		 field(b, "authorizationCode") ? field(b, "authorizationCode") : "");
	if (lrn && (strlen(lrn) != 10 || tn_parse_str(lrn, &rq->lrn) != TN_OK)) {
		bad(req, resp, "lrn must be a 10-digit NANP number");
		return -1;
	}
	if (intra && rq->lrn == 0) {
		bad(req, resp, "lrn is required for an intra-provider port");
		return -1;
	}
	rq->wireless = json_is_true(json_object_get(b, "wireless")) ||
		       (field(b, "wireless") && strcmp(field(b, "wireless"), "true") == 0);
	rq->intra = intra;
	return 0;
}

static void create_common(struct http_req *req, struct http_resp *resp, bool intra)
{
	struct soa_create_req rq;
	struct soa_result res;
	struct call k;

	if (begin_post(req, resp, &k) != 0)
		return;
	if (create_parse(req, resp, k.body, &rq, intra) == 0) {
		soa_create(k.db, &rq, &k.c, clock_now(), &res);
		answer_result(req, resp, &res);
	}
	call_end(&k);
}

static void soa_create_h(struct http_req *req, struct http_resp *resp)
{
	create_common(req, resp, false);
}

static void soa_intrasp_h(struct http_req *req, struct http_resp *resp)
{
	create_common(req, resp, true);
}

/* ---- moves on a number's port ---- */

static void move(struct http_req *req, struct http_resp *resp, struct call *k, uint64_t tn,
		 enum sv_move m, const struct sv_args *a)
{
	struct soa_result res;

	soa_move(k->db, tn, m, a, &k->c, clock_now(), &res);
	answer_result(req, resp, &res);
}

static void soa_release_h(struct http_req *req, struct http_resp *resp)
{
	struct call k;
	uint64_t tn;

	if (begin_post(req, resp, &k) != 0)
		return;
	if (tn_field(req, resp, k.body, "tn", &tn) == 0 &&
	    text_field(req, resp, k.body, "reason", 500) == 0)
		move(req, resp, &k, tn, SV_MOVE_CONCUR, NULL);
	call_end(&k);
}

static int cause_of(const json_t *b, const char *type)
{
	json_int_t c = json_integer_value(json_object_get(b, "causeCode"));

	const char *text = field(b, "causeCode");

	if (json_is_integer(json_object_get(b, "causeCode")))
		return (int)c;
	if (text && strlen(text) == 2 && isdigit((unsigned char)text[0]) &&
	    isdigit((unsigned char)text[1]))
		return atoi(text);
	if (strcmp(type, "AUTHORIZATION") == 0)
		return 50;
	if (strcmp(type, "DUPLICATE") == 0)
		return 52;
	return strcmp(type, "OWNERSHIP") == 0 ? 53 : 54;
}

static void soa_conflict_create_h(struct http_req *req, struct http_resp *resp)
{
	static const char *const types[] = { "DUPLICATE", "OWNERSHIP", "AUTHORIZATION", "OTHER" };
	struct sv_args a = { 0 };
	const char *type;
	struct call k;
	uint64_t tn;
	bool known = false;

	if (begin_post(req, resp, &k) != 0)
		return;
	type = field(k.body, "conflictType");
	for (int i = 0; type && i < 4; i++)
		known |= strcmp(type, types[i]) == 0;
	if (tn_field(req, resp, k.body, "tn", &tn) != 0)
		goto out;
	if (!known) {
		bad(req, resp, "conflictType must be DUPLICATE, OWNERSHIP, AUTHORIZATION or OTHER");
		goto out;
	}
	if (text_field(req, resp, k.body, "description", 500) != 0)
		goto out;
	a.cause = cause_of(k.body, type);
	move(req, resp, &k, tn, SV_MOVE_CONFLICT, &a);
out:
	call_end(&k);
}

static void soa_conflict_remove_h(struct http_req *req, struct http_resp *resp)
{
	struct soa_result res;
	struct call k;
	struct sv sv;
	char id[24];
	uint64_t tn;

	if (begin_post(req, resp, &k) != 0)
		return;
	if (tn_field(req, resp, k.body, "tn", &tn) != 0 ||
	    text_field(req, resp, k.body, "conflictId", 24) != 0)
		goto out;
	if (soa_visible(k.db, tn, &k.c, &sv) != 0) {
		http_resp_error(req, resp, 404, "NOT_FOUND", "no port request for this number");
		goto out;
	}
	snprintf(id, sizeof(id), "%lld", (long long)sv.id);
	if (strcmp(id, field(k.body, "conflictId")) != 0) {
		http_resp_error(req, resp, 404, "NOT_FOUND", "no such conflict for this number");
		goto out;
	}
	soa_move(k.db, tn, SV_MOVE_RESOLVE, NULL, &k.c, clock_now(), &res);
	answer_result(req, resp, &res);
out:
	call_end(&k);
}

static void soa_cancel_h(struct http_req *req, struct http_resp *resp)
{
	struct call k;
	uint64_t tn;

	if (begin_post(req, resp, &k) != 0)
		return;
	if (tn_field(req, resp, k.body, "tn", &tn) == 0 &&
	    text_field(req, resp, k.body, "reason", 500) == 0)
		move(req, resp, &k, tn, SV_MOVE_CANCEL, NULL);
	call_end(&k);
}

static void soa_activate_h(struct http_req *req, struct http_resp *resp)
{
	struct sv_args a = { 0 };
	const char *at;
	char owner[5];
	struct call k;
	struct sv sv;
	int64_t t;
	uint64_t tn;

	if (begin_post(req, resp, &k) != 0)
		return;
	at = field(k.body, "activationTime");
	if (tn_field(req, resp, k.body, "tn", &tn) || tn_field(req, resp, k.body, "lrn", &a.lrn))
		goto out;
	if (at == NULL || clock_parse_rfc3339(at, &t) != 0) {
		bad(req, resp, "activationTime must be an RFC 3339 date-time");
		goto out;
	}
	if (soa_visible(k.db, tn, &k.c, &sv) != 0) {
		http_resp_error(req, resp, 404, "NOT_FOUND", "no port request for this number");
		goto out;
	}
	if (soa_lrn_owner(k.db, a.lrn, owner) != 0 || strcmp(owner, sv.new_spid) != 0) {
		http_resp_error(req, resp, 422, "LRN_NOT_REGISTERED",
				"the LRN is not registered to the new provider");
		goto out;
	}
	move(req, resp, &k, tn, SV_MOVE_ACTIVATE, &a);
out:
	call_end(&k);
}

static void soa_disconnect_h(struct http_req *req, struct http_resp *resp)
{
	const struct bizcal *cal = soa_calendar();
	struct sv_args a = { 0 };
	struct call k;
	int64_t day, now = clock_now();
	uint64_t tn;

	if (begin_post(req, resp, &k) != 0)
		return;
	if (tn_field(req, resp, k.body, "tn", &tn) == 0 &&
	    date_field(req, resp, k.body, "disconnectDate", &day) == 0) {
		a.erd = day > bizcal_day(cal, now) ? bizcal_instant(cal, day, 0) : 0;
		move(req, resp, &k, tn, SV_MOVE_DISCONNECT, &a);
	}
	call_end(&k);
}

/* ---- network data ---- */

static int spid_allowed(struct http_req *req, struct http_resp *resp, struct call *k,
			const char *spid)
{
	if (soa_caller_has(&k->c, spid))
		return 0;
	http_resp_error(req, resp, 403, "SPID_NOT_AUTHORIZED", "the token may not act for this SPID");
	return -1;
}

/*
 * Network data belongs to the carrier that holds the numbers: an NPA-NXX is
 * opened by its LERG code holder, and an LRN must be a number of the SPID's
 * own (its code or pooled block). Otherwise one carrier could claim another's
 * codes and LRNs and lock the holder out.
 */
static bool holds_code(unsigned npanxx, const char *spid)
{
	struct numdb *g = numdb_acquire();
	const struct cocode_info *ci = g ? numdb_cocode(g, npanxx) : NULL;
	bool ok = ci && ci->ocn && strcmp(ci->ocn, spid) == 0;

	numdb_release(g);
	return ok;
}

static bool holds_lrn(sqlite3 *db, uint64_t lrn, const char *spid)
{
	char holder[5];
	uint64_t routed;

	return soa_current_provider(db, lrn, holder, &routed) == 0 && strcmp(holder, spid) == 0;
}

static void soa_lrn_create_h(struct http_req *req, struct http_resp *resp)
{
	char spid[5];
	struct call k;
	uint64_t lrn;
	int rc;

	if (begin_post(req, resp, &k) != 0)
		return;
	if (tn_field(req, resp, k.body, "lrn", &lrn) || spid_field(req, resp, k.body, "spid", spid) ||
	    text_field(req, resp, k.body, "name", 200) || spid_allowed(req, resp, &k, spid))
		goto out;
	if (!holds_lrn(k.db, lrn, spid)) {
		http_resp_error(req, resp, 403, "LRN_NOT_HELD",
				"the LRN is not a number of the SPID's own codes or blocks");
		goto out;
	}
	rc = soa_lrn_add(k.db, lrn, spid, field(k.body, "name"), clock_now());
	if (rc == 0)
		answer(req, resp, 201, "LRN created", json_pack("{s:s, s:s}", "lrn",
							   field(k.body, "lrn"), "spid", spid));
	else if (rc == 1)
		http_resp_error(req, resp, 409, "LRN_EXISTS", "the LRN is already registered");
	else
		http_resp_error(req, resp, 500, "SERVER_ERROR", "the LRN could not be stored");
out:
	call_end(&k);
}

static void soa_lrn_remove_h(struct http_req *req, struct http_resp *resp)
{
	char spid[5];
	struct call k;
	uint64_t lrn;
	int rc;

	if (begin_post(req, resp, &k) != 0)
		return;
	if (tn_field(req, resp, k.body, "lrn", &lrn) || spid_field(req, resp, k.body, "spid", spid) ||
	    spid_allowed(req, resp, &k, spid))
		goto out;
	rc = soa_lrn_remove(k.db, lrn, spid);
	if (rc == 0)
		answer(req, resp, 200, "LRN removed", NULL);
	else if (rc == 1)
		http_resp_error(req, resp, 404, "NOT_FOUND", "the SPID has no such LRN");
	else if (rc == 2)
		http_resp_error(req, resp, 409, "LRN_IN_USE", "a port still uses the LRN");
	else
		http_resp_error(req, resp, 500, "SERVER_ERROR", "the LRN could not be removed");
out:
	call_end(&k);
}

static void soa_npanxx_create_h(struct http_req *req, struct http_resp *resp)
{
	const char *code;
	char spid[5];
	struct call k;
	uint64_t npanxx;
	int64_t day;
	int rc;

	if (begin_post(req, resp, &k) != 0)
		return;
	code = field(k.body, "npanxx");
	if (code == NULL || digits_parse(code, strlen(code), 6, &npanxx) != 0 ||
	    !tn_npa_valid((unsigned)(npanxx / 1000)) || !tn_nxx_valid((unsigned)(npanxx % 1000))) {
		bad(req, resp, "npanxx must be a valid 6-digit NPA-NXX");
		goto out;
	}
	if (spid_field(req, resp, k.body, "spid", spid) || spid_allowed(req, resp, &k, spid) ||
	    date_field(req, resp, k.body, "effectiveDate", &day))
		goto out;
	if (!holds_code((unsigned)npanxx, spid)) {
		http_resp_error(req, resp, 403, "NPANXX_NOT_HELD",
				"the SPID is not the LERG holder of the NPA-NXX");
		goto out;
	}
	rc = soa_npanxx_add(k.db, (unsigned)npanxx, spid, day * 86400, clock_now());
	if (rc == 0)
		answer(req, resp, 200, "NPA-NXX open for porting", NULL);
	else if (rc == 1)
		http_resp_error(req, resp, 409, "NPANXX_EXISTS", "another SPID opened the NPA-NXX");
	else
		http_resp_error(req, resp, 500, "SERVER_ERROR", "the NPA-NXX could not be stored");
out:
	call_end(&k);
}

/* ---- events ---- */

static void soa_events_h(struct http_req *req, struct http_resp *resp)
{
	const char *after = http_query(req, "after");
	struct call k;
	json_t *items;
	long total;

	if (begin(req, resp, SOA_SCOPE_READ, &k) != 0)
		return;
	items = soa_events_list(k.db, k.c.spids, k.c.n, after ? strtoll(after, NULL, 10) : 0,
				EVENTS_LIMIT, &total);
	if (items == NULL) {
		http_resp_error(req, resp, 500, "SERVER_ERROR", "events could not be read");
		return;
	}
	reply(req, resp, 200, "SoaEventsResponse",
	      json_pack("{s:o, s:I}", "events", items, "totalCount", (json_int_t)total));
}

static void soa_event_ack_h(struct http_req *req, struct http_resp *resp)
{
	const char *s = http_param(req, "recno");
	struct call k;
	char *end;
	long long recno;
	int rc;

	if (begin(req, resp, SOA_SCOPE_WRITE, &k) != 0)
		return;
	recno = s ? strtoll(s, &end, 10) : 0;
	if (s == NULL || *s == '\0' || *end != '\0' || recno <= 0) {
		bad(req, resp, "recno must be a positive integer");
		return;
	}
	rc = soa_event_ack(k.db, recno, k.c.spids, k.c.n);
	if (rc == 0)
		answer(req, resp, 200, "event acknowledged", json_pack("{s:I}", "recno",
								  (json_int_t)recno));
	else
		http_resp_error(req, resp, rc == 1 ? 404 : 500, rc == 1 ? "NOT_FOUND" :
				"SERVER_ERROR", rc == 1 ? "no such event" : "the database failed");
}

/* ---- queries ---- */

static int path_tn(struct http_req *req, struct http_resp *resp, uint64_t *tn)
{
	const char *s = http_param(req, "tn");

	if (s && strlen(s) == 10 && tn_parse_str(s, tn) == TN_OK)
		return 0;
	bad(req, resp, "tn must be a 10-digit NANP number");
	return -1;
}

static const char *query_status(const struct sv *sv)
{
	switch (sv->status) {
	case SV_CONFLICT: return "CONFLICT";
	case SV_ACTIVE: case SV_DISCONNECT_PENDING: return "ACTIVE";
	case SV_CANCELED: case SV_CANCEL_PENDING: return "CANCELLED";
	case SV_PENDING: return sv->authorized ? "FOC" : "PENDING";
	default: return "PENDING";
	}
}

static json_t *query_json(struct call *k, const struct sv *sv)
{
	char tn[TN_STR_LEN + 1], created[32], due[32];
	json_t *order = soa_sv_order(k->db, sv->id);
	json_t *details, *j;

	tn_format(sv->tn, tn);
	clock_format_rfc3339(sv->created_at, created, sizeof(created));
	details = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "currentSpid",
			    sv->status == SV_ACTIVE ? sv->new_spid : sv->old_spid, "newSpid",
			    sv->new_spid, "portType",
			    order ? json_string_value(json_object_get(order, "portType")) : "",
			    "status", query_status(sv), "requestDate", created, "npacStatus",
			    sv_status_name(sv->status), "npacStatusCode", (int)sv->status);
	clock_format_rfc3339(sv->due, due, sizeof(due));
	due[10] = '\0';
	json_object_set_new(details, "focDate", json_string(due));
	if (sv->activated_at) {
		clock_format_rfc3339(sv->activated_at, created, sizeof(created));
		created[10] = '\0';
		json_object_set_new(details, "activationDate", json_string(created));
	}
	j = json_pack("{s:s, s:o, s:o, s:o}", "tn", tn, "portDetails", details,
		      "subscriberInfo", order ? json_incref(json_object_get(order,
			      "subscriberInfo")) : json_object(), "history",
		      soa_history_list(k->db, sv->tn, k->c.spids, k->c.n));
	json_object_set_new(j, "portRequestId", json_integer(sv->id));
	json_decref(order);
	return j;
}

static void query_common(struct http_req *req, struct http_resp *resp, uint64_t tn,
			 struct call *k)
{
	struct sv sv;

	if (soa_visible(k->db, tn, &k->c, &sv) != 0) {
		http_resp_error(req, resp, 404, "NOT_FOUND", "no port request for this number");
		return;
	}
	reply(req, resp, 200, "SoaQueryResponse", query_json(k, &sv));
}

static void soa_query_get_h(struct http_req *req, struct http_resp *resp)
{
	struct call k;
	uint64_t tn;

	if (begin(req, resp, SOA_SCOPE_READ, &k) == 0 && path_tn(req, resp, &tn) == 0)
		query_common(req, resp, tn, &k);
}

static void soa_query_post_h(struct http_req *req, struct http_resp *resp)
{
	struct call k;
	uint64_t tn;

	if (begin_post(req, resp, &k) != 0)
		return;
	if (tn_field(req, resp, k.body, "tn", &tn) == 0)
		query_common(req, resp, tn, &k);
	call_end(&k);
}

static const char *number_status(const struct sv *sv)
{
	switch (sv->status) {
	case SV_CONFLICT: return "CONFLICT";
	case SV_ACTIVE: case SV_DISCONNECT_PENDING: return "ACTIVE";
	case SV_OLD: return "DISCONNECTED";
	case SV_SENDING: return "PORTING";
	default: return "PENDING";
	}
}

static void soa_status_h(struct http_req *req, struct http_resp *resp)
{
	char tn[TN_STR_LEN + 1], created[32], due[32];
	struct call k;
	struct sv sv;
	uint64_t n;

	if (begin(req, resp, SOA_SCOPE_READ, &k) != 0 || path_tn(req, resp, &n) != 0)
		return;
	if (soa_visible(k.db, n, &k.c, &sv) != 0) {
		http_resp_error(req, resp, 404, "NOT_FOUND", "no port request for this number");
		return;
	}
	tn_format(n, tn);
	clock_format_rfc3339(sv.created_at, created, sizeof(created));
	clock_format_rfc3339(sv.due, due, sizeof(due));
	due[10] = '\0';
	reply(req, resp, 200, "SoaStatusResponse",
	      json_pack("{s:s, s:s, s:s, s:{s:b, s:s, s:s}, s:s, s:i}", "tn", tn, "status",
		number_status(&sv), "currentSpid",
		sv.status == SV_ACTIVE || sv.status == SV_DISCONNECT_PENDING ? sv.new_spid :
		sv.old_spid, "portStatus", "inProgress", sv_status_open(sv.status),
		"requestDate", created, "targetDate", due, "npacStatus",
		sv_status_name(sv.status), "npacStatusCode", (int)sv.status));
}

/* The number's provider is routing data any LRN dip answers; no port details. */
static void soa_spid_h(struct http_req *req, struct http_resp *resp)
{
	char tn[TN_STR_LEN + 1], lrn_s[TN_STR_LEN + 1], spid[5];
	struct call k;
	uint64_t n, lrn;

	if (begin(req, resp, SOA_SCOPE_READ, &k) != 0 || path_tn(req, resp, &n) != 0)
		return;
	if (soa_current_provider(k.db, n, spid, &lrn) != 0) {
		http_resp_error(req, resp, 404, "NOT_FOUND", "no provider known for this number");
		return;
	}
	tn_format(n, tn);
	tn_format(lrn, lrn_s);
	reply(req, resp, 200, "SoaSpidResponse",
	      json_pack("{s:s, s:s, s:s}", "tn", tn, "spid", spid, "lrn", lrn_s));
}

static void ready_common(struct http_req *req, struct http_resp *resp, struct call *k,
			 const char *spid)
{
	json_t *items;

	if (!spid_ok(spid)) {
		bad(req, resp, "newspid must be a 4-character SPID");
		return;
	}
	if (spid_allowed(req, resp, k, spid) != 0)
		return;
	items = soa_sv_ready(k->db, spid, clock_now());
	if (items == NULL) {
		http_resp_error(req, resp, 500, "SERVER_ERROR", "the database failed");
		return;
	}
	reply(req, resp, 200, "SoaActivationReadyResponse",
	      json_pack("{s:s, s:I, s:o}", "spid", spid, "totalCount",
			(json_int_t)json_array_size(items), "numbers", items));
}

static void soa_ready_get_h(struct http_req *req, struct http_resp *resp)
{
	struct call k;

	if (begin(req, resp, SOA_SCOPE_READ, &k) == 0)
		ready_common(req, resp, &k, http_param(req, "newspid"));
}

static void soa_ready_post_h(struct http_req *req, struct http_resp *resp)
{
	struct call k;

	if (begin_post(req, resp, &k) != 0)
		return;
	ready_common(req, resp, &k, field(k.body, "spid") ? field(k.body, "spid") :
		     field(k.body, "newSpid"));
	call_end(&k);
}

/* ---- routes ---- */

#define P(path, h) { "POST", path, HTTP_JSON, &family, h, true }
#define G(path, h) { "GET", path, HTTP_JSON, &family, h, false }

static const struct http_route routes[] = {
	P("/v1/lnp/soa/create", soa_create_h),
	P("/v1/lnp/soa/release", soa_release_h),
	P("/v1/lnp/soa/conflict/create", soa_conflict_create_h),
	P("/v1/lnp/soa/conflict/remove", soa_conflict_remove_h),
	P("/v1/lnp/soa/cancel", soa_cancel_h),
	P("/v1/lnp/soa/activate", soa_activate_h),
	P("/v1/lnp/soa/disconnect", soa_disconnect_h),
	P("/v1/lnp/soa/lrn/create", soa_lrn_create_h),
	P("/v1/lnp/soa/lrn/remove", soa_lrn_remove_h),
	P("/v1/lnp/soa/events/{recno}/acknowledge", soa_event_ack_h),
	G("/v1/lnp/soa/events", soa_events_h),
	G("/v1/lnp/soa/status/{tn}", soa_status_h),
	G("/v1/lnp/soa/spid/{tn}", soa_spid_h),
	G("/v1/lnp/soa/query/{tn}", soa_query_get_h),
	G("/v1/lnp/soa/activation-ready/{newspid}", soa_ready_get_h),
	P("/api/v1/soa/create", soa_create_h),
	P("/api/v1/soa/release", soa_release_h),
	P("/api/v1/soa/query", soa_query_post_h),
	P("/api/v1/soa/npanxxcreate", soa_npanxx_create_h),
	P("/api/v1/soa/intrasp", soa_intrasp_h),
	P("/api/v1/soa/conflictremove", soa_conflict_remove_h),
	P("/api/v1/soa/conflictcreate", soa_conflict_create_h),
	P("/api/v1/soa/actreadyget", soa_ready_post_h),
	P("/api/v1/soa/activate", soa_activate_h),
	G("/api/v1/soa/status/{tn}", soa_status_h),
	G("/api/v1/soa/spidget/{tn}", soa_spid_h),
};

/* ---- the scheduler ---- */

static struct {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool running, stop;
	unsigned every_ms;
} sched = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static void *sched_main(void *arg)
{
	struct timespec until;

	pthread_mutex_lock(&sched.lock);
	while (!sched.stop) {
		pthread_mutex_unlock(&sched.lock);
		sqlite3 *db = token_api_db();

		if (db && soa_tick(db, clock_now()) < 0)
			log_warn("soa timers could not run", NULL);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += sched.every_ms / 1000;
		until.tv_nsec += (long)(sched.every_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&sched.lock);
		if (!sched.stop)
			pthread_cond_timedwait(&sched.wake, &sched.lock, &until);
	}
	pthread_mutex_unlock(&sched.lock);
	return NULL;
}

int soa_api_mount(struct http_router *r, const struct config *cfg)
{
	char err[300];
	sqlite3 *db;

	soa_xml_init();
	if (soa_init(cfg, err, sizeof(err)) != 0) {
		log_error("soa settings refused", "err=\"%s\"", err);
		return -1;
	}
	db = token_api_db();
	if (db == NULL || soa_store_migrate(db) != 0 || http_router_add_family(r, &family) != 0 ||
	    http_router_add(r, routes, sizeof(routes) / sizeof(routes[0])) != 0)
		return -1;
	sched.every_ms = cfg->soa_scheduler_ms;
	sched.stop = false;
	if (pthread_create(&sched.thread, NULL, sched_main, NULL) != 0)
		return -1;
	sched.running = true;
	return 0;
}

void soa_api_shutdown(void)
{
	if (sched.running) {
		pthread_mutex_lock(&sched.lock);
		sched.stop = true;
		pthread_cond_signal(&sched.wake);
		pthread_mutex_unlock(&sched.lock);
		pthread_join(sched.thread, NULL);
		sched.running = false;
	}
	soa_shutdown();
	soa_xml_cleanup();
}
