/* token_api.c - authenticating requests by bearer token; the token API.
 *
 * Answers follow teliport.yaml's SoaResponse: status SUCCESS or ERROR, a
 * message, data for successes, errorCode for errors, and a timestamp.
 */
#include "token_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/text.h"
#include "../db/db.h"

static char db_path[512];
static pthread_key_t db_key;
static pthread_once_t db_once = PTHREAD_ONCE_INIT;
static int db_key_ok = -1;

/* ---- per-thread connections ---- */

static void db_close(void *p)
{
	sqlite3_close(p);
}

static void db_key_make(void)
{
	db_key_ok = pthread_key_create(&db_key, db_close);
}

sqlite3 *token_api_db(void)
{
	sqlite3 *db;

	pthread_once(&db_once, db_key_make);
	if (db_key_ok != 0 || db_path[0] == '\0') {
		log_error("token database not set up", NULL);
		return NULL;
	}
	db = pthread_getspecific(db_key);
	if (db != NULL)
		return db;
	if (mgmt_open(db_path, false, &db) != 0)
		return NULL;
	if (pthread_setspecific(db_key, db) != 0) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

void token_api_db_close(void)
{
	sqlite3 *db;

	if (db_key_ok != 0)
		return;
	db = pthread_getspecific(db_key);
	if (db != NULL) {
		pthread_setspecific(db_key, NULL);
		sqlite3_close(db);
	}
}

/* ---- SoaResponse ---- */

static void timestamp(char out[32])
{
	clock_format_rfc3339(clock_now(), out, 32);
}

void token_api_render_error(struct http_resp *resp, enum http_fmt fmt, unsigned status,
			    const char *code, const char *msg)
{
	char ts[32];
	struct buf b;
	int bad = 0;

	timestamp(ts);
	if (fmt != HTTP_XML) {
		http_resp_json(resp, status, json_pack("{s:s, s:s, s:s, s:s}", "status", "ERROR",
						       "message", msg, "errorCode", code,
						       "timestamp", ts));
		return;
	}
	buf_init(&b, 1u << 16);
	bad |= buf_puts(&b, "<SoaResponse><status>ERROR</status><message>");
	bad |= buf_put_xml(&b, msg);
	bad |= buf_puts(&b, "</message><errorCode>");
	bad |= buf_put_xml(&b, code);
	bad |= buf_printf(&b, "</errorCode><timestamp>%s</timestamp></SoaResponse>", ts);
	bad |= buf_append(&b, "", 1);
	if (bad)
		http_resp_text(resp, 500, "Internal server error");
	else
		http_resp_xml(resp, status, b.data);
	buf_release(&b);
}

/* Answer a SoaResponse success; takes the reference to data (may be NULL). */
static void soa_ok(struct http_resp *resp, unsigned status, const char *msg, json_t *data)
{
	char ts[32];

	timestamp(ts);
	http_resp_json(resp, status, json_pack("{s:s, s:s, s:o*, s:s}", "status", "SUCCESS",
					       "message", msg, "data", data, "timestamp", ts));
}

/* ---- authenticating a request ---- */

static void unauthorized(const struct http_req *req, struct http_resp *resp, const char *msg,
			 bool invalid)
{
	http_resp_error(req, resp, 401, "UNAUTHORIZED", msg);
	http_resp_header(resp, "WWW-Authenticate",
			 invalid ? "Bearer realm=\"ringer\", error=\"invalid_token\""
				 : "Bearer realm=\"ringer\"");
}

int token_request_or_respond(const struct http_req *req, struct http_resp *resp, sqlite3 *db,
			     const char *scope, struct token_info *out)
{
	struct token_info t;
	char msg[128], secs[16];
	unsigned wait;
	int rc;

	if (db == NULL)
		db = token_api_db();
	rc = db ? token_check(db, http_header(req, "Authorization"), req->client_ip, clock_now(),
			      &t)
		: TOKEN_ERROR;
	switch (rc) {
	case TOKEN_OK: break;
	case TOKEN_MISSING: unauthorized(req, resp, "Missing bearer token", false); return -1;
	case TOKEN_UNKNOWN: unauthorized(req, resp, "Invalid or revoked token", true); return -1;
	case TOKEN_EXPIRED: unauthorized(req, resp, "Token has expired", true); return -1;
	case TOKEN_ADDRESS:
		http_resp_error(req, resp, 403, "FORBIDDEN",
				"This token may not be used from this address");
		return -1;
	default:
		http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error");
		return -1;
	}
	wait = token_rate_take(&t, clock_now_ms());
	if (wait > 0) {
		snprintf(msg, sizeof(msg), "Rate limit of %u requests a minute exceeded; "
			 "retry in %u seconds", t.rate_per_min, wait);
		snprintf(secs, sizeof(secs), "%u", wait);
		http_resp_error(req, resp, 429, "RATE_LIMITED", msg);
		http_resp_header(resp, "Retry-After", secs);
		return -1;
	}
	if (scope && !token_has_scope(&t, scope)) {
		snprintf(msg, sizeof(msg), "This token does not have scope %s", scope);
		http_resp_error(req, resp, 403, "FORBIDDEN", msg);
		return -1;
	}
	*out = t;
	return 0;
}

/* ---- rendering tokens ---- */

static json_t *list_json(const char *csv)
{
	json_t *a = json_array();

	for (const char *p = csv; a && *p; ) {
		size_t n = strcspn(p, ",");

		json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

static json_t *time_json(int64_t t)
{
	char s[32];

	if (t == 0)
		return json_null();
	clock_format_rfc3339(t, s, sizeof(s));
	return json_string(s);
}

static json_t *row_json(const struct token_row *r)
{
	return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o*}", "id",
			 (json_int_t)r->id, "customer", r->customer, "name", r->name, "scopes",
			 list_json(r->scopes), "spids", list_json(r->spids), "allow",
			 list_json(r->allow), "created", time_json(r->created), "expires",
			 time_json(r->expires), "revoked", time_json(r->revoked), "replacedBy",
			 r->replaced_by ? json_integer(r->replaced_by) : NULL);
}

/* The new token's row with its secret: the only answer that ever holds one. */
static void answer_secret(sqlite3 *db, struct http_resp *resp, int64_t id, const char *secret,
			  const char *msg)
{
	struct token_row r;
	json_t *j;

	if (token_get(db, id, &r) != 0 || (j = row_json(&r)) == NULL) {
		token_api_render_error(resp, HTTP_JSON, 500, "SERVER_ERROR",
				       "Internal server error");
		return;
	}
	json_object_set_new(j, "token", json_string(secret));
	soa_ok(resp, 201, msg, j);
}

/* ---- handlers ---- */

/* Authenticate for management and find the per-thread connection. */
static sqlite3 *manager(struct http_req *req, struct http_resp *resp, struct token_info *t)
{
	sqlite3 *db = token_api_db();

	if (db == NULL) {
		http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error");
		return NULL;
	}
	return token_request_or_respond(req, resp, db, TOKEN_SCOPE_MANAGE, t) == 0 ? db : NULL;
}

/* The {id} of the path, or 0 when it is not a positive number. */
static int64_t path_id(const struct http_req *req)
{
	const char *s = http_param(req, "id");
	char *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 18)
		return 0;
	v = strtoll(s, &end, 10);
	return *end == '\0' ? (int64_t)v : 0;
}

static void not_found(struct http_req *req, struct http_resp *resp)
{
	http_resp_error(req, resp, 404, "NOT_FOUND", "Token not found");
}

static void store_failed(struct http_req *req, struct http_resp *resp, int rc, const char *err)
{
	if (rc == TOKEN_R_NOT_FOUND)
		not_found(req, resp);
	else if (rc == TOKEN_R_DENIED)
		http_resp_error(req, resp, 403, "FORBIDDEN", err);
	else if (rc == TOKEN_R_INVALID)
		http_resp_error(req, resp, 400, "INVALID_REQUEST", err);
	else
		http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error");
}

struct list_ctx {
	json_t *arr;
	size_t n;
};

static int list_one(const struct token_row *r, void *arg)
{
	struct list_ctx *c = arg;

	c->n++;
	return json_array_append_new(c->arr, row_json(r));
}

static void tokens_list(struct http_req *req, struct http_resp *resp)
{
	struct list_ctx c = { json_array(), 0 };
	struct token_info t;
	char msg[64];
	sqlite3 *db = manager(req, resp, &t);

	if (db == NULL || c.arr == NULL || token_list(db, t.customer, list_one, &c) != 0) {
		if (db != NULL)
			http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error");
		json_decref(c.arr);
		return;
	}
	snprintf(msg, sizeof(msg), "%zu tokens", c.n);
	soa_ok(resp, 200, msg, json_pack("{s:s, s:o}", "customer", t.customer, "tokens", c.arr));
}

/* A token of the caller's customer (live or not), or 404. */
static int own_row(struct http_req *req, struct http_resp *resp, sqlite3 *db,
		   const struct token_info *t, struct token_row *r)
{
	int64_t id = path_id(req);
	int rc = id ? token_get(db, id, r) : TOKEN_R_NOT_FOUND;

	if (rc == 0 && strcmp(r->customer, t->customer) != 0)
		rc = TOKEN_R_NOT_FOUND;
	if (rc != 0)
		store_failed(req, resp, rc, "");
	return rc;
}

static void tokens_get(struct http_req *req, struct http_resp *resp)
{
	struct token_info t;
	struct token_row r;
	sqlite3 *db = manager(req, resp, &t);

	if (db != NULL && own_row(req, resp, db, &t, &r) == 0)
		soa_ok(resp, 200, "Token found", row_json(&r));
}

/* Join a JSON array of strings (or take a string) into "a,b". Returns 0 or -1. */
static int csv_from_json(const json_t *v, char *out, size_t outlen)
{
	size_t used = 0, i;
	json_t *e;

	out[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v))
		return snprintf(out, outlen, "%s", json_string_value(v)) < (int)outlen ? 0 : -1;
	if (!json_is_array(v))
		return -1;
	json_array_foreach(v, i, e) {
		int n;

		if (!json_is_string(e) || strchr(json_string_value(e), ','))
			return -1;
		n = snprintf(out + used, outlen - used, "%s%s", used ? "," : "",
			     json_string_value(e));
		if (n < 0 || (size_t)n >= outlen - used)
			return -1;
		used += (size_t)n;
	}
	return 0;
}

struct create_body {
	char name[128];
	char scopes[1024];
	char spids[1024];
	char allow[1024];
	bool has_allow;
	int64_t expires;
};

/* Parse the POST body. Returns 0, or -1 with the reason in err. */
static int create_parse(const struct http_req *req, const struct token_row *caller,
			struct create_body *b, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &je);
	json_t *name, *exp, *ttl;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	snprintf(err, errlen, "The body must be a JSON object");
	if (j == NULL || !json_is_object(j))
		goto cleanup;
	name = json_object_get(j, "name");
	exp = json_object_get(j, "expires");
	ttl = json_object_get(j, "ttl");
	b->has_allow = json_object_get(j, "allow") != NULL;
	snprintf(err, errlen, "name, scopes, spids and allow are strings or arrays of strings");
	if ((name && !json_is_string(name)) ||
	    csv_from_json(json_object_get(j, "scopes"), b->scopes, sizeof(b->scopes)) != 0 ||
	    csv_from_json(json_object_get(j, "spids"), b->spids, sizeof(b->spids)) != 0 ||
	    csv_from_json(json_object_get(j, "allow"), b->allow, sizeof(b->allow)) != 0)
		goto cleanup;
	snprintf(b->name, sizeof(b->name), "%s", name ? json_string_value(name) : "");
	snprintf(err, errlen, "Give expires (RFC 3339) or ttl (seconds, positive), not both");
	if ((exp && ttl) || (exp && (!json_is_string(exp) ||
				     clock_parse_rfc3339(json_string_value(exp), &b->expires))) ||
	    (ttl && (!json_is_integer(ttl) || json_integer_value(ttl) <= 0 ||
		     json_integer_value(ttl) > 20LL * 365 * 86400)))
		goto cleanup;
	if (ttl)
		b->expires = clock_now() + json_integer_value(ttl);
	/* Unless told otherwise a new token inherits the caller's limits. */
	if (!exp && !ttl)
		b->expires = caller->expires;
	if (!b->has_allow)
		snprintf(b->allow, sizeof(b->allow), "%s", caller->allow);
	rc = 0;
cleanup:
	json_decref(j);
	return rc;
}

static void tokens_create(struct http_req *req, struct http_resp *resp)
{
	char err[200], secret[TOKEN_TEXT_LEN];
	struct create_body b;
	struct token_spec spec;
	struct token_info t;
	struct token_row caller;
	int64_t id = 0;
	int rc;
	sqlite3 *db = manager(req, resp, &t);

	if (db == NULL)
		return;
	rc = token_get(db, t.id, &caller);
	if (rc != 0) {
		store_failed(req, resp, TOKEN_R_ERROR, "");
		return;
	}
	if (create_parse(req, &caller, &b, err, sizeof(err)) != 0) {
		http_resp_error(req, resp, 400, "INVALID_REQUEST", err);
		return;
	}
	spec = (struct token_spec){ .customer = t.customer, .name = b.name, .scopes = b.scopes,
				    .spids = b.spids, .allow = b.allow, .expires = b.expires };
	rc = token_spec_within(&caller, &spec, err, sizeof(err));
	if (rc == 0)
		rc = token_make(db, &spec, clock_now(), secret, &id, err, sizeof(err));
	if (rc != 0) {
		store_failed(req, resp, rc, err);
		return;
	}
	log_info("token made", "id=%lld customer=%s by=%lld", (long long)id, t.customer,
		 (long long)t.id);
	answer_secret(db, resp, id, secret, "Token created; the token is shown only this once");
	memset(secret, 0, sizeof(secret));
}

static void tokens_revoke(struct http_req *req, struct http_resp *resp)
{
	struct token_info t;
	int64_t id = path_id(req);
	int rc;
	sqlite3 *db = manager(req, resp, &t);

	if (db == NULL)
		return;
	rc = id ? token_revoke(db, id, t.customer, clock_now()) : TOKEN_R_NOT_FOUND;
	if (rc != 0) {
		store_failed(req, resp, rc, "");
		return;
	}
	log_info("token revoked", "id=%lld customer=%s by=%lld", (long long)id, t.customer,
		 (long long)t.id);
	soa_ok(resp, 200, "Token revoked", json_pack("{s:I}", "id", (json_int_t)id));
}

/* The target token as a spec, to hold it against the caller's own. */
static void spec_of_row(const struct token_row *r, struct token_spec *spec)
{
	*spec = (struct token_spec){ .customer = r->customer, .name = r->name,
				     .scopes = r->scopes, .spids = r->spids, .allow = r->allow,
				     .expires = r->expires };
}

static void tokens_regenerate(struct http_req *req, struct http_resp *resp)
{
	char err[200] = "", secret[TOKEN_TEXT_LEN];
	struct token_row caller, target;
	struct token_spec spec;
	struct token_info t;
	int64_t nid = 0;
	int rc;
	sqlite3 *db = manager(req, resp, &t);

	if (db == NULL || own_row(req, resp, db, &t, &target) != 0)
		return;
	rc = target.revoked ? TOKEN_R_NOT_FOUND : token_get(db, t.id, &caller);
	spec_of_row(&target, &spec);
	if (rc == 0)
		rc = token_spec_within(&caller, &spec, err, sizeof(err));
	if (rc == 0)
		rc = token_regenerate(db, target.id, t.customer, clock_now(), secret, &nid);
	if (rc == TOKEN_R_INVALID && err[0] == '\0')
		snprintf(err, sizeof(err), "The token has expired; make a new one");
	if (rc != 0) {
		store_failed(req, resp, rc, err);
		return;
	}
	log_info("token regenerated", "id=%lld new=%lld customer=%s by=%lld",
		 (long long)target.id, (long long)nid, t.customer, (long long)t.id);
	answer_secret(db, resp, nid, secret, "Token regenerated; the old token no longer works");
	memset(secret, 0, sizeof(secret));
}

/* ---- mounting ---- */

static const char *const token_prefixes[] = { "/api/v1/tokens", NULL };

static const struct http_family token_family = {
	.name = "tokens",
	.prefixes = token_prefixes,
	.render_error = token_api_render_error,
	.admit = NULL, /* every handler authenticates by token */
};

static const struct http_route token_routes[] = {
	{ "GET", "/api/v1/tokens", HTTP_JSON, &token_family, tokens_list, false },
	{ "POST", "/api/v1/tokens", HTTP_JSON, &token_family, tokens_create, true },
	{ "GET", "/api/v1/tokens/{id}", HTTP_JSON, &token_family, tokens_get, false },
	{ "DELETE", "/api/v1/tokens/{id}", HTTP_JSON, &token_family, tokens_revoke, false },
	{ "POST", "/api/v1/tokens/{id}/regenerate", HTTP_JSON, &token_family,
	  tokens_regenerate, false },
};

int token_api_mount(struct http_router *r, const struct config *cfg)
{
	sqlite3 *db;
	int rc;

	if (config_data_path(cfg, "ringer.db", db_path, sizeof(db_path)) != 0)
		return -1;
	if (mgmt_open(db_path, false, &db) != 0)
		return -1;
	rc = token_db_migrate(db);
	sqlite3_close(db);
	if (rc != 0)
		return -1;
	if (http_router_add_family(r, &token_family) != 0 ||
	    http_router_add(r, token_routes, sizeof(token_routes) / sizeof(token_routes[0])) != 0)
		return -1;
	return 0;
}
