/* test_oauth.c - the Ivy OAuth server and accounts through a real ringerd.
 *
 * World: a reseller P with two customers C and S (siblings), an owner in
 * each and a read-only user in P, made with `ringer ivy-account`/`ivy-user`;
 * a confidential client (client_credentials, password, refresh_token), a
 * read-only confidential client and a public client (authorization code with
 * PKCE), made with `ringer oauth-client create`. The clock is set with
 * RINGER_CLOCK_START; a restart an hour later shows access tokens expire.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define PW "correct horse battery"
#define REDIRECT "http://127.0.0.1:9/cb"
#define VERIFIER "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define FORM "Content-Type: application/x-www-form-urlencoded"

struct client {
	char id[80], secret[80];
};

static struct world {
	char root[HARNESS_PATH_MAX];
	char data[HARNESS_PATH_MAX + 16];
	char log[HARNESS_PATH_MAX + 16];
	struct harness_server d;
	struct client conf, ro, pub;
	long long users[4]; /* P owner, C owner, S owner, P read-only */
} W;

/* Run ringer with args; the first line starting with key gives its second word. */
static int ringer_out(const char *const *args, const char *key, char *out, size_t outlen)
{
	char log[HARNESS_PATH_MAX + 32], line[256], k[64], v[160];
	int rc = -1;
	FILE *f;

	snprintf(log, sizeof(log), "%s/cmd.out", W.root);
	remove(log);
	if (harness_ringer(log, W.data, args) != 0 || (f = fopen(log, "r")) == NULL)
		return -1;
	while (rc != 0 && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %159s", k, v) == 2 && strcmp(k, key) == 0) {
			snprintf(out, outlen, "%s", v);
			rc = 0;
		}
	}
	fclose(f);
	return rc;
}

static int make_client(const char *const *args, struct client *c)
{
	char log[HARNESS_PATH_MAX + 32], line[256];
	FILE *f;

	snprintf(log, sizeof(log), "%s/cmd.out", W.root);
	remove(log);
	c->secret[0] = '\0';
	if (harness_ringer(log, W.data, args) != 0 || (f = fopen(log, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "client_id %79s", c->id);
		sscanf(line, "client_secret %79s", c->secret);
	}
	fclose(f);
	return c->id[0] ? 0 : -1;
}

static int start(const char *clock)
{
	char env[64];
	const char *e[] = { env, "RINGER_IVY_REVEAL_TOKENS=1", NULL };

	snprintf(env, sizeof(env), "RINGER_CLOCK_START=%s", clock);
	return harness_server_start(&W.d, W.root, "ivy", W.data, e);
}

static int make_world(void)
{
	const char *acc[][6] = {
		{ "ivy-account", "create", "Reseller", NULL },
		{ "ivy-account", "create", "Customer", "--parent", "1", NULL },
		{ "ivy-account", "create", "Sibling", "--parent", "1", NULL },
	};
	const char *usr[][10] = {
		{ "ivy-user", "create", "p@example.com", "--account", "1", "--role", "owner",
		  "--password-env", "IVY_TEST_PW", NULL },
		{ "ivy-user", "create", "c@example.com", "--account", "2", "--role", "owner",
		  "--password-env", "IVY_TEST_PW", NULL },
		{ "ivy-user", "create", "s@example.com", "--account", "3", "--role", "owner",
		  "--password-env", "IVY_TEST_PW", NULL },
		{ "ivy-user", "create", "ro@example.com", "--account", "1", "--role", "read-only",
		  "--password-env", "IVY_TEST_PW", NULL },
	};
	const char *conf[] = { "oauth-client", "create", "--account", "1", "--name", "m2m",
			       "--grants", "client_credentials,password,refresh_token",
			       "--scopes", "read write admin", NULL };
	const char *ro[] = { "oauth-client", "create", "--account", "2", "--name", "reader",
			     "--scopes", "read", NULL };
	const char *pub[] = { "oauth-client", "create", "--account", "1", "--name", "spa",
			      "--public", "--redirect", REDIRECT, "--scopes", "read write", NULL };
	char out[160];

	setenv("IVY_TEST_PW", PW, 1);
	for (size_t i = 0; i < 3; i++) {
		if (ringer_out(acc[i], "account", out, sizeof(out)) != 0 ||
		    atoll(out) != (long)i + 1)
			return -1;
	}
	for (size_t i = 0; i < 4; i++) {
		if (ringer_out(usr[i], "user", out, sizeof(out)) != 0)
			return -1;
		W.users[i] = atoll(out);
	}
	return make_client(conf, &W.conf) || make_client(ro, &W.ro) || make_client(pub, &W.pub);
}

static int setup(void **state)
{
	if (harness_dir_new(W.root, sizeof(W.root)) != 0)
		return -1;
	snprintf(W.data, sizeof(W.data), "%s/data", W.root);
	snprintf(W.log, sizeof(W.log), "%s/ivy.log", W.root);
	if (make_world() != 0)
		return -1;
	return start("2030-01-01T00:00:00Z");
}

static int teardown(void **state)
{
	harness_server_stop(&W.d, 10000);
	return harness_dir_remove(W.root);
}

/* ---- helpers ---- */

static long post(const char *path, const char *ctype, const char *auth, const char *body,
		 json_t **out, struct harness_resp *keep)
{
	char h1[300], h2[300];
	const char *hdrs[3] = { NULL, NULL, NULL };
	struct harness_req req = { .method = "POST", .path = path, .headers = hdrs,
				   .body = body, .body_len = strlen(body) };
	struct harness_resp r;
	size_t n = 0;
	long status;

	snprintf(h1, sizeof(h1), "Content-Type: %s", ctype);
	hdrs[n++] = h1;
	if (auth) {
		snprintf(h2, sizeof(h2), "Authorization: %s", auth);
		hdrs[n++] = h2;
	}
	assert_int_equal(harness_request(&W.d, &req, &r), 0);
	status = r.status;
	if (out)
		*out = json_loads(r.body, 0, NULL);
	if (keep)
		*keep = r;
	else
		harness_resp_release(&r);
	return status;
}

static long form(const char *path, const char *body, json_t **out)
{
	return post(path, "application/x-www-form-urlencoded", NULL, body, out, NULL);
}

/* A request with a bearer token; returns the status, body parsed into *out when wanted. */
static long bearer(const char *method, const char *path, const char *tok, const char *body,
		   json_t **out)
{
	char h[1100];
	const char *hdrs[] = { h, "Content-Type: application/json", NULL };
	struct harness_req req = { .method = method, .path = path, .headers = hdrs,
				   .body = body, .body_len = body ? strlen(body) : 0 };
	struct harness_resp r;
	long status;

	snprintf(h, sizeof(h), "Authorization: Bearer %s", tok);
	assert_int_equal(harness_request(&W.d, &req, &r), 0);
	status = r.status;
	if (out)
		*out = json_loads(r.body, 0, NULL);
	harness_resp_release(&r);
	return status;
}

static void password_token(const char *user, char *at, char *rt)
{
	char body[400];
	json_t *j;

	snprintf(body, sizeof(body), "grant_type=password&username=%s&password=correct+horse+"
		 "battery&client_id=%s&client_secret=%s", user, W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 200);
	snprintf(at, 1024, "%s", json_string_value(json_object_get(j, "access_token")));
	if (rt)
		snprintf(rt, 80, "%s", json_string_value(json_object_get(j, "refresh_token")));
	json_decref(j);
}

static const char *err_of(json_t *j)
{
	return json_string_value(json_object_get(j, "error"));
}

/* ---- tests ---- */

static void test_client_credentials(void **state)
{
	char body[400], basic[300], at[1024];
	json_t *j;

	/* JSON body */
	snprintf(body, sizeof(body), "{\"grant_type\":\"client_credentials\",\"client_id\":\"%s\","
		 "\"client_secret\":\"%s\",\"scope\":\"read write\"}", W.conf.id, W.conf.secret);
	assert_int_equal(post("/v2/oauth/token", "application/json", NULL, body, &j, NULL), 200);
	assert_string_equal(json_string_value(json_object_get(j, "token_type")), "Bearer");
	assert_int_equal(json_integer_value(json_object_get(j, "expires_in")), 300);
	assert_string_equal(json_string_value(json_object_get(j, "scope")), "read write");
	assert_null(json_object_get(j, "refresh_token"));
	snprintf(at, sizeof(at), "%s", json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 1);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "Reseller");
	json_decref(j);
	/* HTTP Basic, form body */
	{
		char raw[200], cmd[300];
		FILE *p;

		snprintf(raw, sizeof(raw), "%s:%s", W.conf.id, W.conf.secret);
		snprintf(cmd, sizeof(cmd), "printf %%s '%s' | base64 -w0", raw);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_non_null(fgets(basic + 6, sizeof(basic) - 6, p));
		pclose(p);
		memcpy(basic, "Basic ", 6);
	}
	assert_int_equal(post("/v2/oauth/token", "application/x-www-form-urlencoded", basic,
			      "grant_type=client_credentials&scope=read", &j, NULL), 200);
	assert_string_equal(json_string_value(json_object_get(j, "scope")), "read");
	json_decref(j);
	/* Wrong secret: 401 invalid_client */
	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=%s&client_secret=%sx",
		 W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 401);
	assert_string_equal(err_of(j), "invalid_client");
	assert_string_equal(json_string_value(json_object_get(j, "status")), "error");
	json_decref(j);
	/* Scope escalation: a read-only client asks for admin. */
	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=%s&client_secret=%s"
		 "&scope=read+admin", W.ro.id, W.ro.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 400);
	assert_string_equal(err_of(j), "invalid_scope");
	json_decref(j);
	/* Unknown grant, missing grant */
	snprintf(body, sizeof(body), "grant_type=implicit&client_id=%s&client_secret=%s",
		 W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 400);
	assert_string_equal(err_of(j), "unsupported_grant_type");
	json_decref(j);
	/* A public client asking for client_credentials */
	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=%s", W.pub.id);
	assert_int_equal(form("/v2/oauth/token", body, &j), 400);
	assert_string_equal(err_of(j), "unauthorized_client");
	json_decref(j);
	/* No token, garbage token */
	assert_int_equal(bearer("GET", "/v2/account", "iva_nope", NULL, &j), 401);
	assert_string_equal(json_string_value(json_object_get(j, "error_code")), "UNAUTHORIZED");
	json_decref(j);
}

static void test_scope_enforced(void **state)
{
	char body[300], at[1024];
	json_t *j;

	/* A read-scoped token of an owner may read but not write. */
	snprintf(body, sizeof(body), "grant_type=password&username=p%%40example.com&password="
		 "correct+horse+battery&scope=read&client_id=%s&client_secret=%s",
		 W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 200);
	snprintf(at, sizeof(at), "%s", json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, NULL), 200);
	assert_int_equal(bearer("PUT", "/v2/account", at, "{\"locale\":\"en-GB\"}", &j), 403);
	assert_string_equal(json_string_value(json_object_get(j, "error_code")), "FORBIDDEN");
	json_decref(j);
	/* A read-only user with every scope still cannot write: the role decides too. */
	password_token("ro%40example.com", at, NULL);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, NULL), 200);
	assert_int_equal(bearer("PUT", "/v2/account", at, "{\"locale\":\"en-GB\"}", NULL), 403);
	assert_int_equal(bearer("POST", "/v2/users", at, "{\"email\":\"x@example.com\"}", NULL),
			 403);
	assert_int_equal(bearer("GET", "/v2/audit", at, NULL, NULL), 403);
}

static void test_refresh_rotation_reuse(void **state)
{
	char at[1024], rt[80], body[400], at2[1024], rt2[80];
	json_t *j;

	password_token("p%40example.com", at, rt);
	assert_int_equal(strncmp(rt, "ivr_", 4), 0);
	snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s&client_id=%s"
		 "&client_secret=%s&scope=read", rt, W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 200);
	snprintf(at2, sizeof(at2), "%s", json_string_value(json_object_get(j, "access_token")));
	snprintf(rt2, sizeof(rt2), "%s", json_string_value(json_object_get(j, "refresh_token")));
	assert_string_equal(json_string_value(json_object_get(j, "scope")), "read");
	json_decref(j);
	assert_string_not_equal(rt, rt2);
	assert_int_equal(bearer("GET", "/v2/account", at2, NULL, NULL), 200);
	/* Scope may not widen on refresh. */
	snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s&client_id=%s"
		 "&client_secret=%s&scope=admin", rt2, W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 400);
	assert_string_equal(err_of(j), "invalid_scope");
	json_decref(j);
	/* Reuse the first refresh token: invalid_grant, and the family is revoked. */
	snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s&client_id=%s"
		 "&client_secret=%s", rt, W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 400);
	assert_string_equal(err_of(j), "invalid_grant");
	json_decref(j);
	assert_int_equal(bearer("GET", "/v2/account", at2, NULL, NULL), 401);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, NULL), 401);
	snprintf(body, sizeof(body), "grant_type=refresh_token&refresh_token=%s&client_id=%s"
		 "&client_secret=%s", rt2, W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 400);
	json_decref(j);
}

/* Pull code= out of a Location header. */
static void code_from(const char *loc, char *code, size_t len)
{
	const char *p = strstr(loc, "code=");
	size_t n;

	assert_non_null(p);
	p += 5;
	n = strcspn(p, "&");
	assert_true(n < len);
	memcpy(code, p, n);
	code[n] = '\0';
}

static void test_authorization_code_pkce(void **state)
{
	char path[600], body[800], loc[400], code[80], at[1024];
	struct harness_resp r;
	json_t *j;

	snprintf(path, sizeof(path), "/v2/oauth/authorize?response_type=code&client_id=%s"
		 "&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fcb&scope=read&state=xyz%%201"
		 "&code_challenge=%s&code_challenge_method=S256", W.pub.id, CHALLENGE);
	assert_int_equal(harness_get(&W.d, path, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.ctype, "text/html"));
	assert_non_null(strstr(r.body, "name=\"password\""));
	harness_resp_release(&r);
	/* Without PKCE the page refuses. */
	snprintf(path, sizeof(path), "/v2/oauth/authorize?response_type=code&client_id=%s"
		 "&redirect_uri=http%%3A%%2F%%2F127.0.0.1%%3A9%%2Fcb", W.pub.id);
	assert_int_equal(harness_get(&W.d, path, &r), 0);
	assert_int_equal(r.status, 400);
	harness_resp_release(&r);
	/* Log in through the form: 302 to the redirect URI with code and state. */
	snprintf(body, sizeof(body), "response_type=code&client_id=%s&redirect_uri=http%%3A%%2F%%2F"
		 "127.0.0.1%%3A9%%2Fcb&scope=read&state=xyz+1&code_challenge=%s"
		 "&code_challenge_method=S256&username=c%%40example.com&password=correct+horse+"
		 "battery", W.pub.id, CHALLENGE);
	assert_int_equal(post("/v2/oauth/authorize", "application/x-www-form-urlencoded", NULL,
			      body, NULL, &r), 302);
	assert_int_equal(harness_resp_header(&r, "Location", loc, sizeof(loc)), 1);
	harness_resp_release(&r);
	assert_int_equal(strncmp(loc, REDIRECT "?code=ivk_", strlen(REDIRECT) + 10), 0);
	assert_non_null(strstr(loc, "&state=xyz%201"));
	code_from(loc, code, sizeof(code));
	/* Wrong verifier */
	snprintf(body, sizeof(body), "grant_type=authorization_code&code=%s&redirect_uri=http%%3A"
		 "%%2F%%2F127.0.0.1%%3A9%%2Fcb&client_id=%s&code_verifier=%sX", code, W.pub.id,
		 "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjX");
	assert_int_equal(form("/v2/oauth/token", body, &j), 400);
	assert_string_equal(err_of(j), "invalid_grant");
	json_decref(j);
	/* Right verifier: the token acts for the customer account C. */
	snprintf(body, sizeof(body), "grant_type=authorization_code&code=%s&redirect_uri=http%%3A"
		 "%%2F%%2F127.0.0.1%%3A9%%2Fcb&client_id=%s&code_verifier=%s", code, W.pub.id,
		 VERIFIER);
	assert_int_equal(form("/v2/oauth/token", body, &j), 200);
	snprintf(at, sizeof(at), "%s", json_string_value(json_object_get(j, "access_token")));
	assert_non_null(json_object_get(j, "refresh_token"));
	json_decref(j);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 2);
	json_decref(j);
	/* The code a second time: refused, and what it gave is revoked. */
	assert_int_equal(form("/v2/oauth/token", body, &j), 400);
	json_decref(j);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, NULL), 401);
	/* Bad password on the form: 401 page, no code. */
	snprintf(body, sizeof(body), "response_type=code&client_id=%s&redirect_uri=http%%3A%%2F%%2F"
		 "127.0.0.1%%3A9%%2Fcb&code_challenge=%s&code_challenge_method=S256"
		 "&username=c%%40example.com&password=wrong+password", W.pub.id, CHALLENGE);
	assert_int_equal(form("/v2/oauth/authorize", body, NULL), 401);
}

static void test_revoke_introspect(void **state)
{
	char at[1024], body[1500];
	json_t *j;

	password_token("p%40example.com", at, NULL);
	snprintf(body, sizeof(body), "token=%s&client_id=%s&client_secret=%s", at, W.conf.id,
		 W.conf.secret);
	assert_int_equal(form("/v2/oauth/introspect", body, &j), 200);
	assert_true(json_is_true(json_object_get(j, "active")));
	assert_string_equal(json_string_value(json_object_get(j, "sub")), "user:1");
	assert_string_equal(json_string_value(json_object_get(j, "scope")), "read write admin");
	json_decref(j);
	/* Another account's client cannot see it. */
	snprintf(body, sizeof(body), "token=%s&client_id=%s&client_secret=%s", at, W.ro.id,
		 W.ro.secret);
	assert_int_equal(form("/v2/oauth/introspect", body, &j), 200);
	assert_true(json_is_false(json_object_get(j, "active")));
	json_decref(j);
	/* Revoked by another client: ignored (RFC 7009 2.1). */
	assert_int_equal(form("/v2/oauth/revoke", body, NULL), 204);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, NULL), 200);
	snprintf(body, sizeof(body), "token=%s&client_id=%s&client_secret=%s", at, W.conf.id,
		 W.conf.secret);
	assert_int_equal(form("/v2/oauth/revoke", body, NULL), 204);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, NULL), 401);
	assert_int_equal(form("/v2/oauth/introspect", body, &j), 200);
	assert_true(json_is_false(json_object_get(j, "active")));
	json_decref(j);
	snprintf(body, sizeof(body), "client_id=%s&client_secret=%s", W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/revoke", body, &j), 400);
	assert_string_equal(json_string_value(json_object_get(j, "error_code")),
			    "INVALID_REQUEST_PARAMETERS");
	json_decref(j);
}

/* Parent, child, sibling: who sees whose accounts and users. */
static void test_account_matrix(void **state)
{
	static const char *const who[] = { "p%40example.com", "c%40example.com",
					   "s%40example.com" };
	/* allowed[caller][target account]: P sees all three, C and S only themselves. */
	static const int allowed[3][3] = { { 1, 1, 1 }, { 0, 1, 0 }, { 0, 0, 1 } };
	char tok[3][1024], path[64];
	json_t *j;

	for (int i = 0; i < 3; i++)
		password_token(who[i], tok[i], NULL);
	for (int i = 0; i < 3; i++) {
		for (int t = 0; t < 3; t++) {
			long want = allowed[i][t] ? 200 : 404;

			snprintf(path, sizeof(path), "/v2/accounts/%d", t + 1);
			assert_int_equal(bearer("GET", path, tok[i], NULL, NULL), want);
			snprintf(path, sizeof(path), "/v2/users/%lld", W.users[t]);
			assert_int_equal(bearer("GET", path, tok[i], NULL, NULL), want);
			assert_int_equal(bearer("PUT", path, tok[i], "{\"first_name\":\"N\"}",
						NULL), want);
			/* Status changes: only strictly below one's own account. */
			snprintf(path, sizeof(path), "/v2/accounts/%d/resume", t + 1);
			assert_int_equal(bearer("POST", path, tok[i], "{}", NULL),
					 !allowed[i][t] ? 404 : i == t ? 403 : 200);
		}
	}
	assert_int_equal(bearer("GET", "/v2/accounts", tok[0], NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "accounts")), 2);
	json_decref(j);
	assert_int_equal(bearer("GET", "/v2/accounts", tok[1], NULL, &j), 200);
	assert_int_equal(json_array_size(json_object_get(j, "accounts")), 0);
	json_decref(j);
	/* Suspend C: its owner's token stops working; resume: it works again. */
	assert_int_equal(bearer("POST", "/v2/accounts/2/suspend", tok[0], "{}", &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "suspended");
	json_decref(j);
	assert_int_equal(bearer("GET", "/v2/account", tok[1], NULL, NULL), 401);
	assert_int_equal(bearer("GET", "/v2/account", tok[2], NULL, NULL), 200);
	/* No new tokens for a suspended account either: they would wake up on resume. */
	{
		char body[400];

		snprintf(body, sizeof(body), "grant_type=password&username=%s&password=correct+"
			 "horse+battery&client_id=%s&client_secret=%s", who[1], W.conf.id,
			 W.conf.secret);
		assert_int_equal(form("/v2/oauth/token", body, &j), 400);
		assert_string_equal(err_of(j), "invalid_grant");
		json_decref(j);
	}
	assert_int_equal(bearer("POST", "/v2/accounts/2/resume", tok[0], "{}", NULL), 200);
	assert_int_equal(bearer("GET", "/v2/account", tok[1], NULL, NULL), 200);
	/* A child of C, made by C; P sees it, S does not; a fourth level is refused. */
	assert_int_equal(bearer("POST", "/v2/accounts", tok[1], "{\"name\":\"Sub\"}", &j), 201);
	snprintf(path, sizeof(path), "/v2/accounts/%lld",
		 (long long)json_integer_value(json_object_get(j, "id")));
	json_decref(j);
	assert_int_equal(bearer("GET", path, tok[0], NULL, NULL), 200);
	assert_int_equal(bearer("GET", path, tok[2], NULL, NULL), 404);
	assert_int_equal(bearer("POST", "/v2/accounts", tok[2], "{\"name\":\"X\",\"parent_id\":2}",
				NULL), 404);
	/* The audit trail names who did it. */
	assert_int_equal(bearer("GET", "/v2/audit?limit=200", tok[0], NULL, &j), 200);
	assert_true(json_array_size(json_object_get(j, "entries")) > 5);
	{
		char *dump = json_dumps(json_object_get(j, "entries"), JSON_COMPACT);

		assert_non_null(dump);
		assert_non_null(strstr(dump, "\"action\":\"account.suspend\""));
		assert_non_null(strstr(dump, "\"actor\":\"user:1\""));
		free(dump);
	}
	json_decref(j);
}

static void test_signup_confirm_reset(void **state)
{
	char body[1500], tok[1024];
	json_t *j;

	assert_int_equal(post("/v2/sign-up", "application/json", NULL, "{\"name\":\"New Co\","
			      "\"address\":{\"email\":\"new@example.com\"}}", &j, NULL), 201);
	assert_true(json_is_false(json_object_get(j, "active")));
	snprintf(tok, sizeof(tok), "%s",
		 json_string_value(json_object_get(j, "confirmation_token")));
	json_decref(j);
	assert_int_equal(post("/v2/sign-up", "application/json", NULL, "{\"name\":\"Again\","
			      "\"address\":{\"email\":\"new@example.com\"}}", NULL, NULL), 409);
	snprintf(body, sizeof(body), "{\"confirmation_token\":\"%s\"}", tok);
	assert_int_equal(post("/v2/confirmation", "application/json", NULL, body, NULL, NULL),
			 201);
	assert_int_equal(post("/v2/confirmation", "application/json", NULL, body, &j, NULL), 400);
	assert_string_equal(json_string_value(json_object_get(j, "error_code")),
			    "INVALID_CONFIRMATION_TOKEN");
	json_decref(j);
	assert_int_equal(post("/v2/password", "application/json", NULL,
			      "{\"email\":\"nobody@example.com\"}", NULL, NULL), 404);
	assert_int_equal(post("/v2/password", "application/json", NULL,
			      "{\"email\":\"new@example.com\"}", &j, NULL), 201);
	snprintf(tok, sizeof(tok), "%s",
		 json_string_value(json_object_get(j, "reset_password_token")));
	json_decref(j);
	snprintf(body, sizeof(body), "{\"reset_password_token\":\"%s\",\"password\":\"new password"
		 " 123\",\"password_confirmation\":\"new password 124\"}", tok);
	assert_int_equal(harness_server_alive(&W.d), true);
	{
		struct harness_req rq = { .method = "PUT", .path = "/v2/password",
					  .headers = (const char *const[]){
						  "Content-Type: application/json", NULL },
					  .body = body, .body_len = strlen(body) };
		struct harness_resp r;

		assert_int_equal(harness_request(&W.d, &rq, &r), 0);
		assert_int_equal(r.status, 400); /* mismatch, token not used up */
		harness_resp_release(&r);
		snprintf(body, sizeof(body), "{\"reset_password_token\":\"%s\",\"password\":\"new "
			 "password 123\",\"password_confirmation\":\"new password 123\"}", tok);
		rq.body_len = strlen(body);
		assert_int_equal(harness_request(&W.d, &rq, &r), 0);
		assert_int_equal(r.status, 200);
		harness_resp_release(&r);
		assert_int_equal(harness_request(&W.d, &rq, &r), 0);
		assert_int_equal(r.status, 400); /* single use */
		harness_resp_release(&r);
	}
}

static void test_login_throttled(void **state)
{
	char body[400];
	json_t *j;

	snprintf(body, sizeof(body), "grant_type=password&username=s%%40example.com&password=bad"
		 "&client_id=%s&client_secret=%s", W.conf.id, W.conf.secret);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(form("/v2/oauth/token", body, &j), 400);
		assert_string_equal(err_of(j), "invalid_grant");
		json_decref(j);
	}
	assert_int_equal(form("/v2/oauth/token", body, NULL), 429);
}

/* A restart an hour later, and a token from before is expired. */
/* An independent client (tests/oauth/authcode.sh: curl, openssl, sed) completes the flow. */
static void test_authcode_script(void **state)
{
	const char *src = getenv("RINGER_SOURCE_ROOT");
	char cmd[HARNESS_PATH_MAX * 3];
	int rc;

	assert_non_null(src);
	snprintf(cmd, sizeof(cmd), "AUTHCODE_PASSWORD='%s' NO_PROXY=127.0.0.1 sh %s/tests/oauth/"
		 "authcode.sh http://127.0.0.1:%u %s %s c@example.com read >>%s 2>&1", PW, src,
		 W.d.port, W.pub.id, REDIRECT, W.log);
	rc = system(cmd);
	assert_true(WIFEXITED(rc));
	assert_int_equal(WEXITSTATUS(rc), 0);
}

static void test_expiry(void **state)
{
	char at[1024], body[1500];
	json_t *j;

	password_token("c%40example.com", at, NULL);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, NULL), 200);
	assert_int_equal(harness_server_stop(&W.d, 10000), 0);
	assert_int_equal(start("2030-01-01T01:00:00Z"), 0);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, NULL), 401);
	snprintf(body, sizeof(body), "token=%s&client_id=%s&client_secret=%s", at, W.conf.id,
		 W.conf.secret);
	assert_int_equal(form("/v2/oauth/introspect", body, &j), 200);
	assert_true(json_is_false(json_object_get(j, "active")));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_credentials),
		cmocka_unit_test(test_scope_enforced),
		cmocka_unit_test(test_refresh_rotation_reuse),
		cmocka_unit_test(test_authorization_code_pkce),
		cmocka_unit_test(test_authcode_script),
		cmocka_unit_test(test_revoke_introspect),
		cmocka_unit_test(test_account_matrix),
		cmocka_unit_test(test_signup_confirm_reset),
		cmocka_unit_test(test_expiry),
		/* Last: it throttles every login from this address. */
		cmocka_unit_test(test_login_throttled),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
