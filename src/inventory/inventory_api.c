/* inventory_api.c - parse, authorise and render the Number Inventory operations. */
#include "inventory_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../auth/token_api.h"
#include "../base/clock.h"
#include "../base/log.h"
#include "../base/tn.h"
#include "inventory.h"

/* ---- the family: ErrorResponse {error, timestamp} ---- */

static void render_error(struct http_resp *resp, enum http_fmt fmt, unsigned status,
			 const char *code, const char *msg)
{
	char ts[32];

	(void)fmt;
	/* The contract's words for the token layer's refusals. */
	if (status == 401 && strcmp(msg, "Missing bearer token") == 0)
		msg = "No authentication token";
	else if (status == 403 && strncmp(msg, "This token does not have scope", 30) == 0)
		msg = "User does not have permission to access this resource";
	else if (status == 500 && strcmp(code, "SERVER_ERROR") == 0)
		msg = "An unexpected error occurred";
	clock_format_rfc3339(clock_now(), ts, sizeof(ts));
	http_resp_json(resp, status, json_pack("{s:s, s:s}", "error", msg, "timestamp", ts));
}

static const char *const prefixes[] = { "/api/v1/inventory/", NULL };

static const struct http_family family = {
	.name = "inventory",
	.prefixes = prefixes,
	.render_error = render_error,
	.admit = NULL,
};

/* ---- a call: token, caller, body ---- */

struct call {
	struct token_info tok;
	struct inv_caller c;
	sqlite3 *db;
	json_t *body;
	uint64_t tn;
};

static void fail(struct http_req *req, struct http_resp *resp, unsigned status, const char *msg)
{
	http_resp_error(req, resp, status, status == 400 ? "INVALID_REQUEST" : "ERROR", msg);
}

static int begin(struct http_req *req, struct http_resp *resp, const char *scope,
		 bool body, struct call *k)
{
	json_error_t e;

	memset(k, 0, sizeof(*k));
	if (token_request_or_respond(req, resp, NULL, scope, &k->tok) != 0)
		return -1;
	k->db = token_api_db();
	k->c.spids = (const char (*)[5])k->tok.spids;
	k->c.n = k->tok.n_spids;
	if (k->db == NULL || inventory_sync(k->db, &k->c, clock_now()) != 0) {
		fail(req, resp, 500, "An unexpected error occurred");
		return -1;
	}
	if (!body)
		return 0;
	k->body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
	if (json_is_object(k->body))
		return 0;
	json_decref(k->body);
	k->body = NULL;
	fail(req, resp, 400, "Request body must be a JSON object");
	return -1;
}

/* begin() for /numbers/{telephoneNumber}...: the number must be 10 digits. */
static int begin_tn(struct http_req *req, struct http_resp *resp, const char *scope,
		    bool body, struct call *k)
{
	const char *s = http_param(req, "telephoneNumber");

	if (begin(req, resp, scope, body, k) != 0)
		return -1;
	if (s && strlen(s) == 10 && strspn(s, "0123456789") == 10 &&
	    tn_parse_digits(s, 10, &k->tn) == 0)
		return 0;
	json_decref(k->body);
	fail(req, resp, 400, "telephoneNumber must be 10 digits");
	return -1;
}

static void answer(struct http_req *req, struct http_resp *resp, struct inv_result *res)
{
	if (res->http == 200)
		http_resp_json(resp, 200, res->dto);
	else
		fail(req, resp, res->http, res->msg);
}

/* ---- paging ---- */

static int page_args(struct http_req *req, struct http_resp *resp, const json_t *b,
		     struct inv_page *pg)
{
	const json_t *page = json_object_get(b, "page"), *size = json_object_get(b, "size");
	const char *sort = json_string_value(json_object_get(b, "sortBy"));
	const char *dir = json_string_value(json_object_get(b, "sortDirection"));

	pg->page = page ? (long)json_integer_value(page) : 0;
	pg->size = size ? (long)json_integer_value(size) : 50;
	if ((page && !json_is_integer(page)) || pg->page < 0 || pg->page > 100000000) {
		fail(req, resp, 400, "page must be an integer of at least 0");
		return -1;
	}
	if ((size && !json_is_integer(size)) || pg->size < 1 || pg->size > INV_MAX_PAGE_SIZE) {
		fail(req, resp, 400, "size must be an integer from 1 to 10000");
		return -1;
	}
	pg->sort_column = inventory_sort_column(sort ? sort : "telephoneNumber");
	if (pg->sort_column == NULL) {
		fail(req, resp, 400, "sortBy is not a sortable field");
		return -1;
	}
	if (dir && strcasecmp(dir, "ASC") != 0 && strcasecmp(dir, "DESC") != 0) {
		fail(req, resp, 400, "sortDirection must be ASC or DESC");
		return -1;
	}
	pg->desc = dir && strcasecmp(dir, "DESC") == 0;
	return 0;
}

/* Keep only the requested fields of each result ("tn" names telephoneNumber). */
static void select_fields(json_t *answer_j, const json_t *fields)
{
	json_t *content = json_object_get(answer_j, "content"), *row, *v;
	const char *key;
	size_t i, k;
	void *tmp;

	if (!json_is_array(fields) || json_array_size(fields) == 0)
		return;
	json_array_foreach(content, i, row) {
		json_object_foreach_safe(row, tmp, key, v) {
			bool keep = false;
			json_t *f;

			json_array_foreach(fields, k, f) {
				const char *name = json_string_value(f);
				if (name && (strcmp(name, key) == 0 ||
					     (strcmp(name, "tn") == 0 &&
					      strcmp(key, "telephoneNumber") == 0)))
					keep = true;
			}
			if (!keep)
				json_object_del(row, key);
		}
	}
	json_object_set(answer_j, "fields", (json_t *)fields);
}

/* ---- query ---- */

static json_t *error_json(const char *text, const struct query_error *err)
{
	json_t *j = json_pack("{s:s, s:s}", "error", err->msg, "query", text);
	json_t *opts;
	size_t i;

	if (err->type == QUERY_E_PARSE) {
		json_object_set_new(j, "position", json_integer(err->position));
	} else {
		opts = json_array();
		for (i = 0; i < err->n_options; i++)
			json_array_append_new(opts, json_string(err->options[i]));
		json_object_set_new(j, "validOptions", opts);
	}
	return j;
}

static void query_h(struct http_req *req, struct http_resp *resp)
{
	int64_t t0 = clock_now_ms();
	struct query_error err;
	struct query *q = NULL;
	struct query_sql s;
	struct inv_page pg;
	struct call k;
	const char *text;
	json_t *out = NULL;
	char *desc;
	int rc;

	if (begin(req, resp, INV_SCOPE_SEARCH, true, &k) != 0)
		return;
	text = json_string_value(json_object_get(k.body, "query"));
	if (text == NULL) {
		fail(req, resp, 400, "query is required");
	} else if (page_args(req, resp, k.body, &pg) == 0) {
		rc = query_parse(text, &q, &err);
		if (rc == -1) {
			http_resp_json(resp, 400, error_json(text, &err));
		} else if (rc != 0 || query_compile(q, &s) != 0) {
			fail(req, resp, 500, "An unexpected error occurred");
		} else {
			if (inventory_query(k.db, &k.c, &s, &pg, &out) != 0) {
				fail(req, resp, 500, "An unexpected error occurred");
			} else {
				desc = query_describe(q);
				json_object_set_new(out, "executionTimeMs",
						    json_integer(clock_now_ms() - t0));
				json_object_set_new(out, "parsedQuery", desc ? json_string(desc)
									     : json_null());
				free(desc);
				select_fields(out, json_object_get(k.body, "fields"));
				http_resp_json(resp, 200, out);
			}
			query_sql_free(&s);
		}
		query_free(q);
	}
	json_decref(k.body);
}

static void validate_h(struct http_req *req, struct http_resp *resp)
{
	struct query_error err;
	struct query *q = NULL;
	struct call k;
	const char *text;
	json_t *j;
	char *desc;

	if (begin(req, resp, INV_SCOPE_SEARCH, true, &k) != 0)
		return;
	text = json_string_value(json_object_get(k.body, "query"));
	if (text == NULL) {
		fail(req, resp, 400, "query is required");
	} else if (query_parse(text, &q, &err) == 0) {
		desc = query_describe(q);
		http_resp_json(resp, 200, json_pack("{s:b, s:s, s:s*}", "valid", 1, "query", text,
						    "parsedQuery", desc));
		free(desc);
		query_free(q);
	} else {
		j = error_json(text, &err);
		json_object_set_new(j, "valid", json_false());
		json_object_set_new(j, "type", json_string(err.type == QUERY_E_PARSE ? "parse"
							    : err.type == QUERY_E_VALIDATION
								    ? "validation" : "error"));
		http_resp_json(resp, 200, j);
	}
	json_decref(k.body);
}

static void search_h(struct http_req *req, struct http_resp *resp)
{
	int64_t t0 = clock_now_ms();
	struct inv_page pg;
	struct call k;
	const char *text;
	json_t *out = NULL;

	if (begin(req, resp, INV_SCOPE_SEARCH, true, &k) != 0)
		return;
	text = json_string_value(json_object_get(k.body, "searchQuery"));
	if (text == NULL || text[0] == '\0') {
		fail(req, resp, 400, "searchQuery is required");
	} else if (page_args(req, resp, k.body, &pg) == 0) {
		if (inventory_search(k.db, &k.c, text, &pg, &out) != 0) {
			fail(req, resp, 500, "An unexpected error occurred");
		} else {
			json_object_set_new(out, "executionTimeMs",
					    json_integer(clock_now_ms() - t0));
			http_resp_json(resp, 200, out);
		}
	}
	json_decref(k.body);
}

/* ---- summary and details ---- */

static void summary_h(struct http_req *req, struct http_resp *resp)
{
	const char *spid = http_query(req, "spid");
	struct inv_result res;
	struct call k;
	char msg[80];

	if (begin(req, resp, INV_SCOPE_SEARCH, false, &k) != 0)
		return;
	if (spid == NULL || strlen(spid) != 4 ||
	    strspn(spid, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != 4) {
		fail(req, resp, 400, "spid must be 4 upper-case letters or digits");
		return;
	}
	if (!token_has_spid(&k.tok, spid)) {
		snprintf(msg, sizeof(msg), "User does not have access to SPID: %s", spid);
		fail(req, resp, 403, msg);
		return;
	}
	inventory_summary(k.db, spid, &res);
	answer(req, resp, &res);
}

static void number_h(struct http_req *req, struct http_resp *resp)
{
	struct inv_result res;
	struct call k;

	if (begin_tn(req, resp, INV_SCOPE_SEARCH, false, &k) != 0)
		return;
	inventory_get(k.db, &k.c, k.tn, &res);
	answer(req, resp, &res);
}

/* ---- changes ---- */

/* A required non-empty string field of at most 128 bytes. */
static const char *text_field(const json_t *b, const char *name)
{
	const char *s = json_string_value(json_object_get(b, name));

	return s && s[0] && strlen(s) <= 128 ? s : NULL;
}

static void reserve_h(struct http_req *req, struct http_resp *resp)
{
	struct inv_result res;
	struct call k;
	const char *by;

	if (begin_tn(req, resp, INV_SCOPE_RESERVE, true, &k) != 0)
		return;
	by = text_field(k.body, "reservedBy");
	if (by == NULL) {
		fail(req, resp, 400, "reservedBy is required");
	} else {
		inventory_reserve(k.db, &k.c, k.tn, by, clock_now(), &res);
		answer(req, resp, &res);
	}
	json_decref(k.body);
}

/* metadata: an object (or, for assign, absent or null). Returns 0 or -1. */
static int metadata_arg(const json_t *b, bool required, const json_t **out)
{
	const json_t *m = json_object_get(b, "metadata");

	if (m == NULL || json_is_null(m)) {
		*out = NULL;
		return required ? -1 : 0;
	}
	*out = m;
	return json_is_object(m) ? 0 : -1;
}

static void assign_h(struct http_req *req, struct http_resp *resp)
{
	struct inv_result res;
	const json_t *meta;
	struct call k;
	const char *app;

	if (begin_tn(req, resp, INV_SCOPE_ASSIGN, true, &k) != 0)
		return;
	app = text_field(k.body, "applicationId");
	if (app == NULL) {
		fail(req, resp, 400, "applicationId is required");
	} else if (metadata_arg(k.body, false, &meta) != 0) {
		fail(req, resp, 400, "metadata must be an object");
	} else {
		inventory_assign(k.db, &k.c, k.tn, app, meta, clock_now(), &res);
		answer(req, resp, &res);
	}
	json_decref(k.body);
}

static void metadata_h(struct http_req *req, struct http_resp *resp)
{
	struct inv_result res;
	const json_t *meta;
	struct call k;

	if (begin_tn(req, resp, INV_SCOPE_ASSIGN, true, &k) != 0)
		return;
	if (metadata_arg(k.body, true, &meta) != 0) {
		fail(req, resp, 400, json_object_get(k.body, "metadata") ?
		     "metadata must be an object" : "metadata is required");
	} else {
		inventory_set_metadata(k.db, &k.c, k.tn, meta, clock_now(), &res);
		answer(req, resp, &res);
	}
	json_decref(k.body);
}

static void release_h(struct http_req *req, struct http_resp *resp)
{
	struct inv_result res;
	struct call k;

	if (begin_tn(req, resp, INV_SCOPE_RELEASE, false, &k) != 0)
		return;
	inventory_release(k.db, &k.c, k.tn, clock_now(), &res);
	answer(req, resp, &res);
}

/* ---- routes ---- */

#define R(m, path, h, body) { m, "/api/v1/inventory" path, HTTP_JSON, &family, h, body }

static const struct http_route routes[] = {
	R("POST", "/query", query_h, true),
	R("POST", "/query/validate", validate_h, true),
	R("POST", "/search", search_h, true),
	R("GET", "/summary", summary_h, false),
	R("GET", "/numbers/{telephoneNumber}", number_h, false),
	R("POST", "/numbers/{telephoneNumber}/reserve", reserve_h, true),
	R("POST", "/numbers/{telephoneNumber}/assign", assign_h, true),
	R("PUT", "/numbers/{telephoneNumber}/metadata", metadata_h, true),
	R("POST", "/numbers/{telephoneNumber}/release", release_h, true),
};

int inventory_api_mount(struct http_router *r, const struct config *cfg)
{
	char path[512];
	sqlite3 *db = token_api_db();

	if (config_data_path(cfg, "lookup.db", path, sizeof(path)) != 0) {
		log_error("inventory: lookup.db path too long", "dir=\"%s\"", cfg->data_dir);
		return -1;
	}
	inventory_set_lookup_path(path);
	if (db == NULL || inventory_migrate(db) != 0 || http_router_add_family(r, &family) != 0 ||
	    http_router_add(r, routes, sizeof(routes) / sizeof(routes[0])) != 0)
		return -1;
	return 0;
}
