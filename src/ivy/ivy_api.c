/* ivy_api.c - the Ivy family: errors, per-thread connections, bodies, bearer tokens. */
#include "ivy_api.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/log.h"
#include "../db/db.h"
#include "account_api.h"
#include "jwt.h"
#include "oauth_api.h"

static char db_path[512];
static pthread_key_t db_key;
static bool db_key_made;
static struct ivy_settings settings;

static void render_error(struct http_resp *resp, enum http_fmt fmt, unsigned status,
			 const char *code, const char *msg)
{
	http_resp_json(resp, status, json_pack("{s:s, s:s, s:s}", "status", "error", "error", msg,
					       "error_code", code));
}

static const char *const prefixes[] = { "/v2/", NULL };
static const struct http_family family = { "ivy", prefixes, render_error, NULL };

const struct http_family *ivy_family(void)
{
	return &family;
}

const struct ivy_settings *ivy_settings(void)
{
	return &settings;
}

static void db_close(void *p)
{
	/* Kept statements would hold the connection open. */
	ivy_stmt_cache_release(p);
	sqlite3_close(p);
}

sqlite3 *ivy_db(void)
{
	sqlite3 *db = pthread_getspecific(db_key);

	if (db)
		return db;
	if (mgmt_open(db_path, false, &db) != 0)
		return NULL;
	if (pthread_setspecific(db_key, db) != 0) {
		sqlite3_close(db);
		return NULL;
	}
	ivy_stmt_cache_own(db);
	return db;
}

/* An audit row waiting for the connection to be parked. */
struct audited {
	sqlite3 *db;
	struct ivy_actor who;
	char action[48], target[96], detail[128];
	int64_t account_id;
};

static void audited_done(void *arg, int rc)
{
	http_defer_done(arg, rc == 0);
}

static void audited_start(struct http_defer *d, void *arg)
{
	struct audited *a = arg;

	ivy_audit_async(a->db, &a->who, a->action, a->target, a->account_id, a->detail,
			audited_done, d);
	free(a);
}

void ivy_answer_audited(sqlite3 *db, struct http_req *req, struct http_resp *resp,
			struct http_resp *failed, const struct ivy_actor *who,
			const char *action, const char *target, int64_t account_id,
			const char *detail)
{
	struct audited *a = malloc(sizeof(*a));
	struct http_resp none = { 0 };

	if (a == NULL) {
		/* No memory to wait with: write it now, holding the worker. */
		failed = failed ? failed : &none;
		if (ivy_audit(db, who, action, target, account_id, detail) == 0) {
			free(failed->body);
			return;
		}
		free(resp->body);
		*resp = *failed;
		if (resp->body == NULL)
			ivy_server_error(req, resp);
		return;
	}
	a->db = db;
	a->who = *who;
	a->account_id = account_id;
	snprintf(a->action, sizeof(a->action), "%s", action);
	snprintf(a->target, sizeof(a->target), "%s", target);
	snprintf(a->detail, sizeof(a->detail), "%s", detail ? detail : "");
	http_defer(req, failed, audited_start, a);
}

void ivy_server_error(const struct http_req *req, struct http_resp *resp)
{
	http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error.");
}

const char *ivy_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* Decode one form component ('+' is a space, then %HH). NULL on failure. */
static char *form_decode(const char *s, size_t len)
{
	char *copy = strndup(s, len), *out = NULL, *dec;
	int n = 0;

	if (copy == NULL)
		return NULL;
	for (char *p = copy; *p; p++) {
		if (*p == '+')
			*p = ' ';
	}
	dec = curl_easy_unescape(NULL, copy, 0, &n);
	/* A decoded NUL would cut the value short of what was sent: refuse it. */
	if (dec && (size_t)n == strlen(dec))
		out = strdup(dec);
	curl_free(dec);
	free(copy);
	return out;
}

static json_t *form_parse(const char *body)
{
	json_t *o = json_object();

	for (const char *p = body; o && *p; ) {
		size_t len = strcspn(p, "&"), klen = strcspn(p, "=");
		char *k, *v;

		if (klen > len)
			klen = len;
		k = form_decode(p, klen);
		v = form_decode(p + klen + (klen < len), len - klen - (klen < len));
		/* RFC 6749 3.1: parameters must not be included more than once. */
		if (k == NULL || v == NULL || (k[0] && json_object_get(o, k)) ||
		    (k[0] && json_object_set_new(o, k, json_string(v)) != 0)) {
			json_decref(o);
			o = NULL;
		}
		free(k);
		free(v);
		p += len;
		p += *p == '&';
	}
	return o;
}

json_t *ivy_body(const struct http_req *req)
{
	const char *ct = http_header(req, "Content-Type");
	json_t *j;

	if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		return strlen(req->body) == req->body_len ? form_parse(req->body) : NULL;
	j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (j && json_is_object(j))
		return j;
	json_decref(j);
	return NULL;
}

void ivy_actor_anon(const struct http_req *req, const char *who, int64_t account_id,
		    struct ivy_actor *out)
{
	snprintf(out->who, sizeof(out->who), "%s", who);
	snprintf(out->source, sizeof(out->source), "%s", req->client_text);
	out->account_id = account_id;
}

bool ivy_caller_may(const struct ivy_caller *c, unsigned perm)
{
	return (c->perms & perm) == perm && (c->tok.scopes & ivy_perm_scope(perm));
}

static int unauthorized(const struct http_req *req, struct http_resp *resp, const char *why)
{
	char h[96];

	snprintf(h, sizeof(h), "Bearer realm=\"ivy\", error=\"%s\"", why);
	http_resp_error(req, resp, 401, "UNAUTHORIZED", "Authentication required.");
	http_resp_header(resp, "WWW-Authenticate", h);
	return -1;
}

/* Load what the token stands for: its account, and its user if any. */
static int caller_load(sqlite3 *db, struct ivy_caller *c)
{
	if (account_get(db, c->tok.account_id, &c->account) != 0)
		return -1;
	if (c->tok.user_id == 0) {
		/* A client acting for itself: the account's machine identity, bounded by scope. */
		c->perms = ~0u;
		snprintf(c->actor.who, sizeof(c->actor.who), "client:%.80s", c->tok.client_id);
		return 0;
	}
	if (user_get(db, c->tok.user_id, &c->user) != 0)
		return -1;
	c->perms = ivy_role_perms(c->user.role);
	snprintf(c->actor.who, sizeof(c->actor.who), "user:%lld", (long long)c->user.id);
	return 0;
}

int ivy_authorize(const struct http_req *req, struct http_resp *resp, unsigned perm,
		  struct ivy_caller *out)
{
	const char *h = http_header(req, "Authorization");
	sqlite3 *db = ivy_db();
	struct ivy_caller c;
	int rc, began;

	memset(&c, 0, sizeof(c));
	if (db == NULL) {
		ivy_server_error(req, resp);
		return -1;
	}
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return unauthorized(req, resp, "invalid_request");
	if ((began = ivy_read_begin(db)) < 0) {
		ivy_server_error(req, resp);
		return -1;
	}
	rc = oauth_token_lookup(db, h + 7 + strspn(h + 7, " "), &c.tok);
	if (rc == 0 && c.tok.refresh)
		rc = 1; /* a refresh token is for the token endpoint only */
	if (rc == 0)
		rc = caller_load(db, &c) == 0 ? 0 : 1;
	ivy_read_end(db, began);
	if (rc != 0) {
		if (rc < 0) {
			ivy_server_error(req, resp);
			return -1;
		}
		return unauthorized(req, resp, "invalid_token");
	}
	snprintf(c.actor.source, sizeof(c.actor.source), "%s", req->client_text);
	c.actor.account_id = c.account.id;
	if (!ivy_caller_may(&c, perm)) {
		http_resp_error(req, resp, 403, "FORBIDDEN",
				"Permission denied to perform this action.");
		return -1;
	}
	*out = c;
	return 0;
}

static void settings_from(const struct config *cfg)
{
	settings = (struct ivy_settings){
		.oauth = { cfg->ivy_access_ttl, cfg->ivy_refresh_ttl, cfg->ivy_code_ttl },
		.login = { cfg->ivy_login_max_failures, cfg->ivy_login_window },
		.confirm_ttl = cfg->ivy_confirm_ttl,
		.reset_ttl = cfg->ivy_reset_ttl,
		.reveal_tokens = cfg->ivy_reveal_tokens != 0,
		.signup_parent = cfg->ivy_signup_parent,
	};
}

int ivy_api_mount(struct http_router *r, const struct config *cfg)
{
	sqlite3 *db;
	int rc;

	settings_from(cfg);
	if (account_crypto_init() != 0 || ivy_jwt_init(cfg->data_dir) != 0 ||
	    config_data_path(cfg, "ringer.db", db_path, sizeof(db_path)) != 0 ||
	    mgmt_open(db_path, false, &db) != 0) {
		log_error("ivy: cannot open ringer.db", NULL);
		return -1;
	}
	rc = ivy_store_migrate(db);
	sqlite3_close(db);
	if (rc != 0 || (!db_key_made && pthread_key_create(&db_key, db_close) != 0))
		return -1;
	db_key_made = true;
	/* The audit writer has a connection of its own (synchronous=FULL, as every one). */
	if (mgmt_open(db_path, false, &db) != 0 || ivy_audit_writer_start(db) != 0)
		return -1;
	if (settings.reveal_tokens)
		log_warn("ivy: reveal_tokens is on, reset tokens are sent in responses", NULL);
	if (http_router_add_family(r, &family) != 0 || oauth_api_mount(r) != 0 ||
	    account_api_mount(r) != 0)
		return -1;
	return 0;
}

void ivy_api_shutdown(void)
{
	sqlite3 *db;

	/* The server has stopped: no one queues any more; write what is queued. */
	ivy_audit_writer_stop();
	ivy_jwt_shutdown();
	if (!db_key_made)
		return;
	/* The workers closed theirs when they ended; this thread may hold one too. */
	db = pthread_getspecific(db_key);
	ivy_stmt_cache_release(db);
	sqlite3_close(db);
	pthread_setspecific(db_key, NULL);
	pthread_key_delete(db_key);
	db_key_made = false;
}
