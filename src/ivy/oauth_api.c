/* oauth_api.c - token, revocation, introspection and authorize endpoints. */
#include "oauth_api.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/log.h"
#include "../base/text.h"
#include "ivy_api.h"
#include "jwt.h"

/* ---- answers ---- */

static void no_store(struct http_resp *resp)
{
	/* RFC 6749 5.1: token answers must not be cached. */
	http_resp_header(resp, "Cache-Control", "no-store");
	http_resp_header(resp, "Pragma", "no-cache");
}

/*
 * An RFC 6749 5.2 error ({error, error_description}) that also carries the
 * contract's {status, error_code}; clients ignore members they do not know.
 */
static void oauth_error(struct http_resp *resp, int e, const char *desc)
{
	const char *name = oauth_err_name(e);
	unsigned status = e == OAUTH_INVALID_CLIENT ? 401 : e == OAUTH_SERVER_ERROR ? 500 : 400;
	char code[40];
	size_t i;

	for (i = 0; name[i] && i < sizeof(code) - 1; i++)
		code[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
	code[i] = '\0';
	http_resp_json(resp, status, json_pack("{s:s, s:s, s:s, s:s}", "error", name,
					       "error_description", desc, "status", "error",
					       "error_code", code));
	no_store(resp);
	if (status == 401)
		http_resp_header(resp, "WWW-Authenticate", "Basic realm=\"ivy\"");
}

static void token_answer(struct http_resp *resp, const struct oauth_issued *t)
{
	char scope[32];
	json_t *j;

	oauth_scope_format(t->scopes, scope, sizeof(scope));
	j = json_pack("{s:s, s:s, s:i, s:s}", "access_token", t->access_token, "token_type",
		      "Bearer", "expires_in", (int)t->expires_in, "scope", scope);
	if (j && t->refresh_token[0])
		json_object_set_new(j, "refresh_token", json_string(t->refresh_token));
	http_resp_json(resp, 200, j);
	no_store(resp);
}

/* ---- client authentication ---- */

struct client_creds {
	char id[IVY_SECRET_MAX * 2];
	char secret[IVY_SECRET_MAX * 2];
	bool basic;
};

/* Percent-decode one part of a Basic credential (RFC 6749 2.3.1). */
static int basic_part(const char *s, size_t len, char *out, size_t outlen)
{
	char *copy = strndup(s, len), *dec;
	int n = 0, rc = -1;

	if (copy == NULL)
		return -1;
	dec = curl_easy_unescape(NULL, copy, 0, &n);
	if (dec && (size_t)n < outlen && (size_t)n == strlen(dec)) {
		memcpy(out, dec, (size_t)n + 1);
		rc = 0;
	}
	curl_free(dec);
	free(copy);
	return rc;
}

static int basic_parse(const char *h, struct client_creds *c)
{
	unsigned char dec[512];
	const char *b64 = h + 6 + strspn(h + 6, " ");
	size_t n = strlen(b64), pad = 0;
	const char *colon;
	int len;

	if (n == 0 || n % 4 != 0 || n > 4 * (sizeof(dec) - 1) / 3)
		return -1;
	pad = (b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');
	len = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)n);
	if (len < 0)
		return -1;
	len -= (int)pad;
	dec[len] = '\0';
	if (memchr(dec, '\0', (size_t)len) || (colon = strchr((char *)dec, ':')) == NULL)
		return -1;
	if (basic_part((char *)dec, (size_t)(colon - (char *)dec), c->id, sizeof(c->id)) != 0 ||
	    basic_part(colon + 1, strlen(colon + 1), c->secret, sizeof(c->secret)) != 0)
		return -1;
	c->basic = true;
	return 0;
}

/* Credentials from Basic or the body (never both). Returns 0 or OAUTH_INVALID_REQUEST. */
static int creds_read(const struct http_req *req, const json_t *body, struct client_creds *c)
{
	const char *h = http_header(req, "Authorization");
	const char *id = ivy_str(body, "client_id"), *sec = ivy_str(body, "client_secret");

	memset(c, 0, sizeof(*c));
	if (h && strncasecmp(h, "Basic ", 6) == 0) {
		if (sec || basic_parse(h, c) != 0)
			return OAUTH_INVALID_REQUEST;
		/* A client_id in the body must agree with the authenticated one. */
		return id && strcmp(id, c->id) != 0 ? OAUTH_INVALID_REQUEST : 0;
	}
	if (id == NULL || strlen(id) >= sizeof(c->id) || (sec && strlen(sec) >= sizeof(c->secret)))
		return OAUTH_INVALID_REQUEST;
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->secret, sizeof(c->secret), "%s", sec ? sec : "");
	return 0;
}

/* Read and check the client. Returns 0 with *out, or -1 after answering. */
static int client_authenticate(sqlite3 *db, const struct http_req *req, const json_t *body,
			       struct http_resp *resp, struct oauth_client *out)
{
	struct client_creds c;
	int rc = creds_read(req, body, &c);

	if (rc != 0) {
		oauth_error(resp, rc, "Client credentials are missing or given twice.");
		return -1;
	}
	if (oauth_client_auth(db, c.id, c.secret, out) != 0) {
		oauth_error(resp, OAUTH_INVALID_CLIENT, "Client authentication failed.");
		return -1;
	}
	return 0;
}

/* ---- grants ---- */

static int grant_password(sqlite3 *db, const struct http_req *req, const json_t *body,
			  const struct oauth_client *c, struct oauth_issued *out,
			  struct http_resp *resp)
{
	const struct ivy_settings *s = ivy_settings();
	struct ivy_account client_acct, user_acct;
	struct ivy_user u;
	unsigned scopes;
	int rc;

	if (!(c->grants & OAUTH_GRANT_PASSWORD))
		return OAUTH_UNAUTHORIZED_CLIENT;
	if (!ivy_str(body, "username") || !ivy_str(body, "password"))
		return OAUTH_INVALID_REQUEST;
	if ((rc = oauth_scope_grant(ivy_str(body, "scope"), c->scopes, &scopes)) != 0)
		return rc;
	rc = user_login(db, &s->login, ivy_str(body, "username"), ivy_str(body, "password"),
			req->client_text, &u);
	if (rc == LOGIN_THROTTLED) {
		char ra[16];

		snprintf(ra, sizeof(ra), "%u", s->login.window);
		oauth_error(resp, OAUTH_INVALID_GRANT, "Too many failed logins; try again later.");
		resp->status = 429;
		http_resp_header(resp, "Retry-After", ra);
		return 1;
	}
	if (rc != LOGIN_OK)
		return rc == LOGIN_BAD ? OAUTH_INVALID_GRANT : OAUTH_SERVER_ERROR;
	/* A client serves its own account's subtree; users elsewhere cannot use it. */
	if (account_get(db, c->account_id, &client_acct) != 0 ||
	    account_get(db, u.account_id, &user_acct) != 0 ||
	    !account_in_subtree(&client_acct, &user_acct))
		return OAUTH_INVALID_GRANT;
	return oauth_issue_for_user(db, &s->oauth, c, u.account_id, u.id, scopes, out);
}

static int grant_run(sqlite3 *db, const struct http_req *req, const json_t *body,
		     const struct oauth_client *c, const char *grant, struct oauth_issued *out,
		     struct http_resp *resp)
{
	const struct oauth_settings *s = &ivy_settings()->oauth;

	if (strcmp(grant, "client_credentials") == 0)
		return oauth_grant_client_credentials(db, s, c, ivy_str(body, "scope"), out);
	if (strcmp(grant, "authorization_code") == 0)
		return oauth_grant_code(db, s, c, ivy_str(body, "code"),
					ivy_str(body, "redirect_uri"),
					ivy_str(body, "code_verifier"), out);
	if (strcmp(grant, "refresh_token") == 0)
		return oauth_grant_refresh(db, s, c, ivy_str(body, "refresh_token"),
					   ivy_str(body, "scope"), out);
	if (strcmp(grant, "password") == 0)
		return grant_password(db, req, body, c, out, resp);
	return OAUTH_UNSUPPORTED_GRANT_TYPE;
}

static const char *grant_error_text(int e)
{
	switch (e) {
	case OAUTH_INVALID_REQUEST: return "A required parameter is missing or malformed.";
	case OAUTH_UNAUTHORIZED_CLIENT: return "This client may not use this grant type.";
	case OAUTH_UNSUPPORTED_GRANT_TYPE: return "The grant type is not supported.";
	case OAUTH_INVALID_SCOPE: return "The requested scope is invalid or exceeds the grant.";
	case OAUTH_INVALID_GRANT: return "The grant is invalid, expired or revoked.";
	case OAUTH_REUSED: return "The grant was already used; its tokens are revoked.";
	default: return "Internal server error.";
	}
}

/*
 * Tokens leave only once their audit row has committed; the answer waits
 * for the group commit with the connection parked, not the worker.
 */
static void token_audited(sqlite3 *db, struct http_req *req, struct http_resp *resp,
			  const struct oauth_client *c, const char *grant, int rc,
			  const struct oauth_issued *t)
{
	char who[96], detail[96], scope[32] = "";
	struct http_resp failed = { 0 };
	struct ivy_actor a;

	snprintf(who, sizeof(who), "client:%.80s", c->id);
	ivy_actor_anon(req, who, c->account_id, &a);
	if (rc == 0)
		oauth_scope_format(t->scopes, scope, sizeof(scope));
	snprintf(detail, sizeof(detail), "grant=%s scope=\"%s\"", grant, scope);
	oauth_error(&failed, OAUTH_SERVER_ERROR, "Internal server error.");
	ivy_answer_audited(db, req, resp, &failed, &a,
			   rc == 0 ? "token.issue" : "token.reuse_revoked", who, c->account_id,
			   detail);
}

static void token(struct http_req *req, struct http_resp *resp)
{
	sqlite3 *db = ivy_db();
	json_t *body = ivy_body(req);
	struct oauth_issued t;
	struct oauth_client c;
	const char *grant;
	int rc;

	if (db == NULL) {
		oauth_error(resp, OAUTH_SERVER_ERROR, "Internal server error.");
	} else if (body == NULL) {
		oauth_error(resp, OAUTH_INVALID_REQUEST, "The body is not JSON or a form.");
	} else if (client_authenticate(db, req, body, resp, &c) == 0) {
		grant = ivy_str(body, "grant_type");
		rc = grant ? grant_run(db, req, body, &c, grant, &t, resp) : OAUTH_INVALID_REQUEST;
		if (rc == 0)
			token_answer(resp, &t);
		else if (rc < 0)
			oauth_error(resp, rc, grant_error_text(rc));
		if (rc == 0 || rc == OAUTH_REUSED)
			token_audited(db, req, resp, &c, grant, rc, &t);
	}
	json_decref(body);
}

/* ---- revocation and introspection ---- */

static void revoke(struct http_req *req, struct http_resp *resp)
{
	sqlite3 *db = ivy_db();
	json_t *body = ivy_body(req);
	struct oauth_client c;
	struct ivy_actor a;
	char who[96];
	int rc;

	if (db == NULL) {
		ivy_server_error(req, resp);
	} else if (body == NULL || ivy_str(body, "token") == NULL) {
		http_resp_error(req, resp, 400, "INVALID_REQUEST_PARAMETERS",
				"Invalid request: 'token' parameter is missing.");
	} else if (client_authenticate(db, req, body, resp, &c) == 0) {
		rc = oauth_revoke(db, &c, ivy_str(body, "token"));
		if (rc < 0) {
			ivy_server_error(req, resp);
		} else {
			http_resp_set(resp, 204, "application/json", "", 0);
			/* Only a revocation that happened is recorded: strings that name
			 * no token of this client change nothing and cannot fill the trail. */
			snprintf(who, sizeof(who), "client:%.80s", c.id);
			ivy_actor_anon(req, who, c.account_id, &a);
			if (rc == 1)
				ivy_answer_audited(db, req, resp, NULL, &a, "token.revoke", who,
						   c.account_id, NULL);
		}
	}
	json_decref(body);
}

/* RFC 7662 2.2 for an active token. */
static json_t *introspection(const struct oauth_token_info *t)
{
	char scope[32], sub[96];

	oauth_scope_format(t->scopes, scope, sizeof(scope));
	if (t->user_id)
		snprintf(sub, sizeof(sub), "user:%lld", (long long)t->user_id);
	else
		snprintf(sub, sizeof(sub), "client:%.80s", t->client_id);
	return json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "active", 1, "scope", scope,
			 "client_id", t->client_id, "token_type",
			 t->refresh ? "refresh_token" : "Bearer", "sub", sub, "exp",
			 (json_int_t)t->expires_at, "iat", (json_int_t)t->issued_at,
			 "account_id", (json_int_t)t->account_id);
}

/* Active for this caller: a live token of an account within the caller's subtree. */
static int introspect_one(sqlite3 *db, const struct oauth_client *c, const char *token,
			  struct oauth_token_info *t)
{
	struct ivy_account mine, theirs;
	int rc = oauth_token_lookup(db, token, t);

	if (rc != 0)
		return rc;
	if (account_get(db, c->account_id, &mine) != 0 ||
	    account_get(db, t->account_id, &theirs) != 0)
		return -1;
	return account_in_subtree(&mine, &theirs) ? 0 : 1;
}

static void introspect(struct http_req *req, struct http_resp *resp)
{
	sqlite3 *db = ivy_db();
	json_t *body = ivy_body(req);
	struct oauth_token_info t;
	struct oauth_client c;
	int rc;

	if (db == NULL) {
		ivy_server_error(req, resp);
	} else if (body == NULL || ivy_str(body, "token") == NULL) {
		http_resp_error(req, resp, 400, "INVALID_REQUEST_PARAMETERS",
				"Invalid request: 'token' parameter is missing.");
	} else if (client_authenticate(db, req, body, resp, &c) == 0) {
		/* A public client cannot prove who asks; introspection is for resource servers. */
		if (!c.confidential) {
			oauth_error(resp, OAUTH_INVALID_CLIENT, "Client authentication failed.");
		} else if ((rc = introspect_one(db, &c, ivy_str(body, "token"), &t)) < 0) {
			ivy_server_error(req, resp);
		} else {
			http_resp_json(resp, 200, rc == 0 ? introspection(&t)
							  : json_pack("{s:b}", "active", 0));
			no_store(resp);
		}
	}
	json_decref(body);
}

/* ---- authorize: login page and code ---- */

static void html_escape(struct buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		case '"': buf_puts(b, "&quot;"); break;
		case '\'': buf_puts(b, "&#39;"); break;
		default: buf_append(b, s, 1);
		}
	}
}

static const char *const auth_params[] = { "response_type", "client_id", "redirect_uri",
					   "scope", "state", "code_challenge",
					   "code_challenge_method", NULL };

static void html_answer(struct http_resp *resp, unsigned status, struct buf *b)
{
	size_t len;
	char *s = buf_steal(b, &len);

	if (s == NULL) {
		http_resp_text(resp, 500, "Internal server error");
		return;
	}
	free(resp->body);
	resp->status = status;
	resp->ctype = "text/html; charset=utf-8";
	resp->body = s;
	resp->len = len;
	/* The login form must not be framed by another site (clickjacking). */
	http_resp_header(resp, "X-Frame-Options", "DENY");
	http_resp_header(resp, "Cache-Control", "no-store");
}

static void page_start(struct buf *b, const char *title)
{
	buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
	html_escape(b, title);
	buf_puts(b, "</title></head><body><h1>");
	html_escape(b, title);
	buf_puts(b, "</h1>\n");
}

static void error_page(struct http_resp *resp, unsigned status, const char *msg)
{
	struct buf b;

	buf_init(&b, 64 * 1024);
	page_start(&b, "Authorization failed");
	buf_puts(&b, "<p>");
	html_escape(&b, msg);
	buf_puts(&b, "</p></body></html>\n");
	html_answer(resp, status, &b);
}

static void login_page(struct http_resp *resp, unsigned status, const json_t *p,
		       const struct oauth_client *c, const char *msg)
{
	struct buf b;

	buf_init(&b, 64 * 1024);
	page_start(&b, "Sign in");
	buf_puts(&b, "<p>");
	html_escape(&b, c->name);
	buf_puts(&b, " asks for access to your account.</p>\n");
	if (msg) {
		buf_puts(&b, "<p role=\"alert\">");
		html_escape(&b, msg);
		buf_puts(&b, "</p>\n");
	}
	buf_puts(&b, "<form method=\"post\" action=\"/v2/oauth/authorize\">\n");
	for (size_t i = 0; auth_params[i]; i++) {
		if (ivy_str(p, auth_params[i]) == NULL)
			continue;
		buf_puts(&b, "<input type=\"hidden\" name=\"");
		buf_puts(&b, auth_params[i]);
		buf_puts(&b, "\" value=\"");
		html_escape(&b, ivy_str(p, auth_params[i]));
		buf_puts(&b, "\">\n");
	}
	buf_puts(&b, "<label>Email <input name=\"username\" type=\"email\" required></label>\n"
		 "<label>Password <input name=\"password\" type=\"password\" required></label>\n"
		 "<button type=\"submit\">Sign in</button>\n</form></body></html>\n");
	html_answer(resp, status, &b);
}

/*
 * Check the request parameters. Returns 0 with *c and *scopes; otherwise an
 * error page is the answer (never a redirect to an unverified URI).
 */
static int authorize_check(sqlite3 *db, const json_t *p, struct http_resp *resp,
			   struct oauth_client *c, unsigned *scopes)
{
	const char *id = ivy_str(p, "client_id"), *method = ivy_str(p, "code_challenge_method");

	if (id == NULL || oauth_client_get(db, id, c) != 0 || c->revoked ||
	    !oauth_client_redirect_ok(c, ivy_str(p, "redirect_uri"))) {
		error_page(resp, 400, "Unknown client or redirect URI.");
		return -1;
	}
	if (!(c->grants & OAUTH_GRANT_AUTHORIZATION_CODE) ||
	    strcmp(ivy_str(p, "response_type") ? ivy_str(p, "response_type") : "", "code") != 0) {
		error_page(resp, 400, "This client may not use the authorization code flow.");
		return -1;
	}
	if (ivy_str(p, "code_challenge") == NULL || method == NULL || strcmp(method, "S256") != 0) {
		error_page(resp, 400, "PKCE is required: code_challenge with method S256.");
		return -1;
	}
	if (oauth_scope_grant(ivy_str(p, "scope"), c->scopes, scopes) != 0) {
		error_page(resp, 400, "The requested scope is not allowed for this client.");
		return -1;
	}
	return 0;
}

/* The query string as an object of strings (only the parameters we read). */
static json_t *query_params(const struct http_req *req)
{
	json_t *o = json_object();

	for (size_t i = 0; o && auth_params[i]; i++) {
		const char *v = http_query(req, auth_params[i]);

		if (v)
			json_object_set_new(o, auth_params[i], json_string(v));
	}
	return o;
}

static void authorize_get(struct http_req *req, struct http_resp *resp)
{
	sqlite3 *db = ivy_db();
	json_t *p = query_params(req);
	struct oauth_client c;
	unsigned scopes;

	if (db == NULL || p == NULL)
		error_page(resp, 500, "Internal server error.");
	else if (authorize_check(db, p, resp, &c, &scopes) == 0)
		login_page(resp, 200, p, &c, NULL);
	json_decref(p);
}

/* Send the browser back to the client with the code (RFC 6749 4.1.2). */
static void redirect_with_code(struct http_resp *resp, const char *uri, const char *code,
			       const char *state)
{
	char *st = state ? curl_easy_escape(NULL, state, 0) : NULL;
	struct buf b, page;

	buf_init(&b, 8192);
	buf_puts(&b, uri);
	buf_puts(&b, strchr(uri, '?') ? "&code=" : "?code=");
	buf_puts(&b, code);
	if (st) {
		buf_puts(&b, "&state=");
		buf_puts(&b, st);
	}
	curl_free(st);
	buf_init(&page, 64 * 1024);
	page_start(&page, "Signed in");
	buf_puts(&page, "<p><a id=\"continue\" href=\"");
	html_escape(&page, b.data);
	buf_puts(&page, "\">Continue</a></p></body></html>\n");
	html_answer(resp, 302, &page);
	if (b.data == NULL || http_resp_header(resp, "Location", b.data) != 0)
		resp->status = 200; /* the link on the page still works */
	buf_release(&b);
}

static void authorize_post(struct http_req *req, struct http_resp *resp)
{
	const struct ivy_settings *s = ivy_settings();
	sqlite3 *db = ivy_db();
	json_t *p = ivy_body(req);
	struct ivy_account ca, ua;
	char code[IVY_SECRET_MAX];
	struct oauth_client c;
	struct ivy_user u;
	unsigned scopes;
	int rc;

	if (db == NULL || p == NULL) {
		error_page(resp, db ? 400 : 500, "The form could not be read.");
	} else if (authorize_check(db, p, resp, &c, &scopes) == 0) {
		rc = user_login(db, &s->login, ivy_str(p, "username"), ivy_str(p, "password"),
				req->client_text, &u);
		if (rc == LOGIN_OK && (account_get(db, c.account_id, &ca) != 0 ||
				       account_get(db, u.account_id, &ua) != 0 ||
				       !account_in_subtree(&ca, &ua)))
			rc = LOGIN_BAD;
		if (rc == LOGIN_OK &&
		    oauth_code_create(db, &s->oauth, &c, u.account_id, u.id,
				      ivy_str(p, "redirect_uri"), scopes,
				      ivy_str(p, "code_challenge"), code) == 0)
			redirect_with_code(resp, ivy_str(p, "redirect_uri"), code,
					   ivy_str(p, "state"));
		else if (rc == LOGIN_THROTTLED)
			login_page(resp, 429, p, &c, "Too many failed sign-ins; try again later.");
		else if (rc == LOGIN_BAD)
			login_page(resp, 401, p, &c, "Wrong email or password.");
		else
			error_page(resp, 500, "Internal server error.");
	}
	json_decref(p);
}

/* The public keys access tokens are signed with, for resource servers (RFC 7517). */
static void jwks(struct http_req *req, struct http_resp *resp)
{
	json_t *j = ivy_jwt_jwks();

	if (j == NULL) {
		ivy_server_error(req, resp);
		return;
	}
	http_resp_json(resp, 200, j);
	/* Short, so that a rotation (which needs a restart) is picked up soon. */
	http_resp_header(resp, "Cache-Control", "public, max-age=300");
}

static struct http_route routes[6];

int oauth_api_mount(struct http_router *r)
{
	const struct http_family *f = ivy_family();

	routes[0] = (struct http_route){ "POST", "/v2/oauth/token", HTTP_JSON, f, token, true };
	routes[1] = (struct http_route){ "POST", "/v2/oauth/revoke", HTTP_JSON, f, revoke, true };
	routes[2] = (struct http_route){ "POST", "/v2/oauth/introspect", HTTP_JSON, f,
					 introspect, true };
	routes[3] = (struct http_route){ "GET", "/v2/oauth/authorize", HTTP_TEXT, f,
					 authorize_get, false };
	routes[4] = (struct http_route){ "POST", "/v2/oauth/authorize", HTTP_TEXT, f,
					 authorize_post, true };
	routes[5] = (struct http_route){ "GET", "/v2/oauth/jwks", HTTP_JSON, f, jwks, false };
	return http_router_add(r, routes, 6);
}
