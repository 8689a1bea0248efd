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
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The owners of parent P, child C and sibling S (accounts 1, 2, 3). */
static const char *const who[] = { "p%40example.com", "c%40example.com", "s%40example.com" };
/* allowed[caller][target account]: P sees all three, C and S only themselves. */
static const int allowed[3][3] = { { 1, 1, 1 }, { 0, 1, 0 }, { 0, 0, 1 } };

static void matrix_tokens(char tok[3][1024])
{
	for (int i = 0; i < 3; i++)
		password_token(who[i], tok[i], NULL);
}

/* Parent, child, sibling: who sees whose accounts and users. */
static void test_account_matrix(void **state)
{
	char tok[3][1024], path[64];
	json_t *j;

	matrix_tokens(tok);
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

/* ---- the matrix over every operation: refused calls answer and change nothing ---- */

/* GET path as tok (200) and return the body as sorted compact JSON; free() it. */
static char *snapshot(const char *path, const char *tok)
{
	json_t *j;
	char *s;

	assert_int_equal(bearer("GET", path, tok, NULL, &j), 200);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	assert_non_null(s);
	return s;
}

/* The id of the newest audit entry in P's subtree: every change moves it. */
static long long audit_head(const char *ptok)
{
	json_t *j, *e;
	long long id;

	assert_int_equal(bearer("GET", "/v2/audit?limit=1", ptok, NULL, &j), 200);
	e = json_array_get(json_object_get(j, "entries"), 0);
	assert_non_null(e);
	id = json_integer_value(json_object_get(e, "id"));
	json_decref(j);
	assert_true(id > 0);
	return id;
}

struct refusal {
	const char *method, *path, *body;
	long status;       /* 404, or 403 for one's own account or self */
	const char *check; /* what P re-reads before and after */
};

/* tok's call is refused in the contract's shape, and P sees neither check nor audit move. */
static void refused(const char *tok, const char *ptok, const struct refusal *r)
{
	char *before = snapshot(r->check, ptok), *after;
	long long head = audit_head(ptok);
	json_t *j;

	assert_int_equal(bearer(r->method, r->path, tok, r->body, &j), r->status);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "error");
	assert_string_equal(json_string_value(json_object_get(j, "error_code")),
			    r->status == 404 ? "RESOURCE_NOT_FOUND" : "FORBIDDEN");
	json_decref(j);
	after = snapshot(r->check, ptok);
	assert_string_equal(after, before);
	assert_int_equal(audit_head(ptok), head);
	free(before);
	free(after);
}

/* P makes a member in account; returns its id. */
static long long member_new(const char *ptok, int account, const char *tag)
{
	char body[160];
	long long id;
	json_t *j;

	snprintf(body, sizeof(body), "{\"email\":\"%s@example.com\",\"account_id\":%d}", tag,
		 account);
	assert_int_equal(bearer("POST", "/v2/users", ptok, body, &j), 201);
	assert_int_equal(json_integer_value(json_object_get(j, "account_id")), account);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	return id;
}

/* Caller i on the owner of account t: read, update, delete. */
static void matrix_user(char tok[3][1024], int i, int t)
{
	char path[64], body[80], name[16];
	long long victim;
	json_t *j;

	snprintf(path, sizeof(path), "/v2/users/%lld", W.users[t]);
	snprintf(name, sizeof(name), "By%d", i);
	snprintf(body, sizeof(body), "{\"first_name\":\"%s\"}", name);
	if (allowed[i][t]) {
		assert_int_equal(bearer("GET", path, tok[i], NULL, NULL), 200);
		assert_int_equal(bearer("PUT", path, tok[i], body, NULL), 200);
		assert_int_equal(bearer("GET", path, tok[0], NULL, &j), 200);
		assert_string_equal(json_string_value(json_object_get(j, "first_name")), name);
		json_decref(j);
		/* Owners cannot delete themselves. */
		if (i == t)
			refused(tok[i], tok[0], &(struct refusal){ "DELETE", path, NULL, 403, path });
	} else {
		refused(tok[i], tok[0], &(struct refusal){ "GET", path, NULL, 404, path });
		refused(tok[i], tok[0], &(struct refusal){ "PUT", path, body, 404, path });
		refused(tok[i], tok[0], &(struct refusal){ "DELETE", path, NULL, 404, path });
	}
	/* A member of t, deleted by i or left as it was. */
	snprintf(body, sizeof(body), "victim%d%d", i, t);
	victim = member_new(tok[0], t + 1, body);
	snprintf(path, sizeof(path), "/v2/users/%lld", victim);
	if (allowed[i][t]) {
		assert_int_equal(bearer("DELETE", path, tok[i], NULL, NULL), 204);
		assert_int_equal(bearer("GET", path, tok[0], NULL, NULL), 404);
	} else {
		refused(tok[i], tok[0], &(struct refusal){ "DELETE", path, NULL, 404, path });
		assert_int_equal(bearer("DELETE", path, tok[0], NULL, NULL), 204);
	}
}

/* Caller i adds a user to account t, with account_id as a number and as form text. */
static void matrix_user_create(char tok[3][1024], int i, int t)
{
	char body[160], list[64];
	json_t *j;

	snprintf(list, sizeof(list), "/v2/users?account_id=%d", t + 1);
	snprintf(body, sizeof(body), "{\"email\":\"made%d%d@example.com\",\"account_id\":%d}",
		 i, t, t + 1);
	if (!allowed[i][t]) {
		refused(tok[i], tok[0], &(struct refusal){ "POST", "/v2/users", body, 404, list });
		snprintf(body, sizeof(body), "{\"email\":\"made%d%d@example.com\",\"account_id\":"
			 "\"%d\"}", i, t, t + 1);
		refused(tok[i], tok[0], &(struct refusal){ "POST", "/v2/users", body, 404, list });
		return;
	}
	assert_int_equal(bearer("POST", "/v2/users", tok[i], body, &j), 201);
	assert_int_equal(json_integer_value(json_object_get(j, "account_id")), t + 1);
	json_decref(j);
	/* An id given as text is that account, never quietly the caller's own. */
	snprintf(body, sizeof(body), "{\"email\":\"text%d%d@example.com\",\"account_id\":\"%d\"}",
		 i, t, t + 1);
	assert_int_equal(bearer("POST", "/v2/users", tok[i], body, &j), 201);
	assert_int_equal(json_integer_value(json_object_get(j, "account_id")), t + 1);
	json_decref(j);
}

static void test_matrix_users(void **state)
{
	char tok[3][1024];
	json_t *j;

	matrix_tokens(tok);
	for (int i = 0; i < 3; i++) {
		for (int t = 0; t < 3; t++) {
			matrix_user(tok, i, t);
			matrix_user_create(tok, i, t);
		}
	}
	/* An account id that is no id is refused, not taken as one's own account. */
	assert_int_equal(bearer("POST", "/v2/users", tok[1], "{\"email\":\"odd@example.com\","
				"\"account_id\":\"2x\"}", &j), 400);
	assert_string_equal(json_string_value(json_object_get(j, "error_code")),
			    "VALIDATION_ERROR");
	json_decref(j);
	assert_int_equal(bearer("GET", "/v2/users?account_id=2x", tok[1], NULL, NULL), 404);
}

/* Caller i suspends and resumes account t; refused ones leave its status alone. */
static void matrix_status(char tok[3][1024], int i, int t)
{
	char acct[64], sus[80], res[80];
	long want = !allowed[i][t] ? 404 : i == t ? 403 : 0;
	json_t *j;

	snprintf(acct, sizeof(acct), "/v2/accounts/%d", t + 1);
	snprintf(sus, sizeof(sus), "%s/suspend", acct);
	snprintf(res, sizeof(res), "%s/resume", acct);
	if (want == 0) {
		assert_int_equal(bearer("POST", sus, tok[i], "{}", &j), 200);
		assert_string_equal(json_string_value(json_object_get(j, "status")), "suspended");
		json_decref(j);
		assert_int_equal(bearer("POST", res, tok[i], "{}", &j), 200);
		assert_string_equal(json_string_value(json_object_get(j, "status")), "active");
		json_decref(j);
		return;
	}
	refused(tok[i], tok[0], &(struct refusal){ "POST", sus, "{}", want, acct });
	/* A suspended account's own token no longer works: its resume is tried while active. */
	if (t == 0 || i == t) {
		refused(tok[i], tok[0], &(struct refusal){ "POST", res, "{}", want, acct });
		return;
	}
	/* Resume refused while P has t suspended: it stays suspended. */
	assert_int_equal(bearer("POST", sus, tok[0], "{}", NULL), 200);
	refused(tok[i], tok[0], &(struct refusal){ "POST", res, "{}", want, acct });
	assert_int_equal(bearer("GET", acct, tok[0], NULL, &j), 200);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "suspended");
	json_decref(j);
	assert_int_equal(bearer("POST", res, tok[0], "{}", NULL), 200);
}

/* Caller i reads account t and makes a child under it. */
static void matrix_account(char tok[3][1024], int i, int t)
{
	char acct[64], body[96];
	json_t *j;

	snprintf(acct, sizeof(acct), "/v2/accounts/%d", t + 1);
	snprintf(body, sizeof(body), "{\"name\":\"Kid %d%d\",\"parent_id\":%d}", i, t, t + 1);
	if (!allowed[i][t]) {
		refused(tok[i], tok[0], &(struct refusal){ "GET", acct, NULL, 404, acct });
		refused(tok[i], tok[0], &(struct refusal){ "POST", "/v2/accounts", body, 404,
							   "/v2/accounts" });
		return;
	}
	assert_int_equal(bearer("GET", acct, tok[i], NULL, &j), 200);
	assert_int_equal(json_integer_value(json_object_get(j, "id")), t + 1);
	json_decref(j);
	assert_int_equal(bearer("POST", "/v2/accounts", tok[i], body, &j), 201);
	assert_int_equal(json_integer_value(json_object_get(j, "parent_id")), t + 1);
	json_decref(j);
}

/* Caller i reads the audit trail of account t: only t's subtree comes back. */
static void matrix_audit(char tok[3][1024], int i, int t)
{
	char path[64];
	json_t *j, *e;
	size_t k;

	snprintf(path, sizeof(path), "/v2/audit?limit=1000&account_id=%d", t + 1);
	if (!allowed[i][t]) {
		refused(tok[i], tok[0], &(struct refusal){ "GET", path, NULL, 404, path });
		return;
	}
	assert_int_equal(bearer("GET", path, tok[i], NULL, &j), 200);
	assert_true(json_array_size(json_object_get(j, "entries")) > 0);
	json_array_foreach(json_object_get(j, "entries"), k, e) {
		json_int_t a = json_integer_value(json_object_get(e, "account_id"));

		/* C and S are leaves of P here but for the kids made under them (id > 3). */
		assert_true(t == 0 || a == t + 1 || a > 3);
	}
	json_decref(j);
}

static void test_matrix_accounts(void **state)
{
	char tok[3][1024];

	matrix_tokens(tok);
	for (int i = 0; i < 3; i++) {
		for (int t = 0; t < 3; t++) {
			matrix_status(tok, i, t);
			matrix_account(tok, i, t);
		}
	}
	for (int i = 0; i < 3; i++) {
		for (int t = 0; t < 3; t++)
			matrix_audit(tok, i, t);
	}
	assert_int_equal(bearer("POST", "/v2/accounts", tok[1], "{\"name\":\"Odd\","
				"\"parent_id\":\"3\"}", NULL), 404);
	assert_int_equal(bearer("POST", "/v2/accounts", tok[1], "{\"name\":\"Odd\","
				"\"parent_id\":true}", NULL), 400);
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

/* Send body to path (answered before) until it is throttled: 429, Retry-After, error shape. */
static void throttle_hit(const char *path, const char *body, long before)
{
	struct harness_resp r;
	char ra[16];
	long st = 0;
	json_t *j;
	int n;

	for (n = 0; n < 6; n++) {
		if ((st = post(path, "application/json", NULL, body, NULL, NULL)) == 429)
			break;
		assert_int_equal(st, before);
	}
	assert_int_equal(st, 429);
	/* Some got through first (the limit is ivy.login_max_failures, 5 here). */
	assert_true(n >= 1 && n < 5);
	assert_int_equal(post(path, "application/json", NULL, body, &j, &r), 429);
	assert_int_equal(harness_resp_header(&r, "Retry-After", ra, sizeof(ra)), 1);
	harness_resp_release(&r);
	assert_true(atoi(ra) >= 1 && atoi(ra) <= 900);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "error");
	assert_string_equal(json_string_value(json_object_get(j, "error_code")),
			    "TOO_MANY_REQUESTS");
	json_decref(j);
}

#define LATE "{\"name\":\"Late\",\"address\":{\"email\":\"late@example.com\"}}"

/* Sign-ups and reset requests from one address are limited, each on its own. */
static void test_signup_reset_throttled(void **state)
{
	char at[1024];

	throttle_hit("/v2/sign-up", "{\"name\":\"No address\"}", 400);
	assert_int_equal(post("/v2/sign-up", "application/json", NULL, LATE, NULL, NULL), 429);
	assert_int_equal(post("/v2/password", "application/json", NULL,
			      "{\"email\":\"nobody@example.com\"}", NULL, NULL), 404);
	throttle_hit("/v2/password", "{\"email\":\"nobody@example.com\"}", 404);
	assert_int_equal(post("/v2/password", "application/json", NULL,
			      "{\"email\":\"new@example.com\"}", NULL, NULL), 429);
	/* Logins are counted apart. */
	password_token("p%40example.com", at, NULL);
	assert_int_equal(bearer("GET", "/v2/account", at, NULL, NULL), 200);
}

/* After test_expiry's restart an hour on, the window has passed. */
static void test_throttle_window_passes(void **state)
{
	json_t *j;

	/* 201, not 409: the throttled sign-up made nothing. */
	assert_int_equal(post("/v2/sign-up", "application/json", NULL, LATE, NULL, NULL), 201);
	assert_int_equal(post("/v2/password", "application/json", NULL,
			      "{\"email\":\"new@example.com\"}", &j, NULL), 201);
	assert_non_null(json_string_value(json_object_get(j, "reset_password_token")));
	json_decref(j);
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

/* Run sql on the server's ringer.db from outside, as an operator could. */
static void db_exec(const char *sql)
{
	char path[HARNESS_PATH_MAX + 32];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/ringer.db", W.data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static long long db_count(const char *sql)
{
	char path[HARNESS_PATH_MAX + 32];
	sqlite3_stmt *st;
	long long n = -1;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/ringer.db", W.data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

#define ISSUED "SELECT count(*) FROM ivy_audit WHERE action = 'token.issue'"

/* A token whose audit row cannot be written never leaves: 500, and nothing to present. */
static void test_token_withheld_without_audit(void **state)
{
	char body[1500], at[1024];
	json_t *j;
	long long before = db_count(ISSUED), revokes;

	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=%s&client_secret=%s",
		 W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 200);
	snprintf(at, sizeof(at), "%s", json_string_value(json_object_get(j, "access_token")));
	json_decref(j);
	before++;
	/* Revoking a string that names no token changes nothing and records nothing. */
	revokes = db_count("SELECT count(*) FROM ivy_audit WHERE action = 'token.revoke'");
	snprintf(body, sizeof(body), "token=iva_x&client_id=%s&client_secret=%s", W.conf.id,
		 W.conf.secret);
	assert_int_equal(form("/v2/oauth/revoke", body, NULL), 204);
	assert_int_equal(db_count("SELECT count(*) FROM ivy_audit WHERE action = 'token.revoke'"),
			 revokes);
	db_exec("CREATE TRIGGER no_audit BEFORE INSERT ON ivy_audit"
		" BEGIN SELECT RAISE(ABORT, 'audit refused'); END");
	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=%s&client_secret=%s",
		 W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 500);
	assert_string_equal(err_of(j), "server_error");
	assert_null(json_object_get(j, "access_token"));
	json_decref(j);
	/* A revocation is recorded too: without its row the client hears 500. */
	snprintf(body, sizeof(body), "token=%s&client_id=%s&client_secret=%s", at, W.conf.id,
		 W.conf.secret);
	assert_int_equal(form("/v2/oauth/revoke", body, &j), 500);
	assert_string_equal(json_string_value(json_object_get(j, "error_code")), "SERVER_ERROR");
	json_decref(j);
	db_exec("DROP TRIGGER no_audit");
	assert_int_equal(db_count(ISSUED), before);
	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=%s&client_secret=%s",
		 W.conf.id, W.conf.secret);
	assert_int_equal(form("/v2/oauth/token", body, &j), 200);
	assert_non_null(json_object_get(j, "access_token"));
	json_decref(j);
	assert_int_equal(db_count(ISSUED), before + 1);
}

#define BURST_THREADS 16
#define BURST_EACH 25

struct burst {
	int ok, distinct_fail;
	char last[1024];
};

static void *burst_run(void *arg)
{
	struct burst *b = arg;
	char body[400];

	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=%s&client_secret=%s",
		 W.conf.id, W.conf.secret);
	for (int i = 0; i < BURST_EACH; i++) {
		struct harness_req req = { .method = "POST", .path = "/v2/oauth/token",
					   .headers = (const char *[]){ FORM, NULL },
					   .body = body, .body_len = strlen(body) };
		struct harness_resp r;
		json_t *j;

		if (harness_request(&W.d, &req, &r) != 0)
			continue;
		j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
		if (j && json_string_value(json_object_get(j, "access_token"))) {
			const char *at = json_string_value(json_object_get(j, "access_token"));

			b->distinct_fail += strcmp(at, b->last) == 0;
			snprintf(b->last, sizeof(b->last), "%s", at);
			b->ok++;
		}
		json_decref(j);
		harness_resp_release(&r);
	}
	return NULL;
}

/* Answers parked for the group commit all come back, each with its own committed row. */
static void test_token_burst_all_audited(void **state)
{
	struct burst b[BURST_THREADS] = { 0 };
	pthread_t t[BURST_THREADS];
	long long before = db_count(ISSUED);
	int ok = 0;

	for (int i = 0; i < BURST_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, burst_run, &b[i]), 0);
	for (int i = 0; i < BURST_THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += b[i].ok;
		assert_int_equal(b[i].distinct_fail, 0);
	}
	assert_int_equal(ok, BURST_THREADS * BURST_EACH);
	assert_int_equal(db_count(ISSUED), before + BURST_THREADS * BURST_EACH);
}

/* A raw HTTP/1.1 client_credentials request for the confidential client; its length. */
static int token_request(char *out, size_t outlen)
{
	char body[400];

	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=%s&client_secret=%s",
		 W.conf.id, W.conf.secret);
	return snprintf(out, outlen, "POST /v2/oauth/token HTTP/1.1\r\nHost: t\r\n" FORM
			"\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
}

/* Another process's write transaction on the server's ringer.db (COMMIT and close to end it). */
static sqlite3 *db_lock(void)
{
	char path[HARNESS_PATH_MAX + 32];
	sqlite3 *lock;

	snprintf(path, sizeof(path), "%s/ringer.db", W.data);
	assert_int_equal(sqlite3_open(path, &lock), SQLITE_OK);
	assert_int_equal(sqlite3_exec(lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	return lock;
}

struct parked_client {
	long status;
};

static void *parked_request(void *arg)
{
	struct parked_client *pc = arg;
	char body[400];
	const char *hdrs[] = { FORM, NULL };
	struct harness_req req = { .method = "POST", .path = "/v2/oauth/token", .headers = hdrs };
	struct harness_resp r;

	snprintf(body, sizeof(body), "grant_type=client_credentials&client_id=%s&client_secret=%s",
		 W.conf.id, W.conf.secret);
	req.body = body;
	req.body_len = strlen(body);
	pc->status = harness_request(&W.d, &req, &r) == 0 ? r.status : -1;
	if (pc->status >= 0)
		harness_resp_release(&r);
	return NULL;
}

/*
 * SIGTERM while answers wait, parked, for an audit writer that another
 * process keeps from the database for longer than the stop's grace: every
 * client gets its answer (a token only with its row), and ringerd exits 0.
 * The input that made it abort ("MHD_stop_daemon() called while we have
 * suspended connections").
 */
static void test_stop_with_parked_requests(void **state)
{
	struct parked_client pc[4] = { 0 };
	pthread_t t[4];
	long long before = db_count(ISSUED), ok = 0;
	sqlite3 *lock;

	lock = db_lock();
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, parked_request, &pc[i]), 0);
	harness_sleep_ms(500);
	kill(W.d.pid, SIGTERM);
	harness_sleep_ms(5500); /* past the 5 s grace */
	assert_int_equal(sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	assert_int_equal(harness_server_stop(&W.d, 20000), 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_true(pc[i].status == 200 || pc[i].status == 500);
		ok += pc[i].status == 200;
	}
	assert_int_equal(db_count(ISSUED), before + ok);
	assert_int_equal(start("2030-01-01T00:00:00Z"), 0);
}

/* One kept-alive connection issuing tokens until the server closes it. */
struct keepalive_client {
	unsigned port;
	int tokens, refused;
};

/* Read one answer: its status, and whether it carries a token. -1 when the connection ended. */
static int read_answer(int fd, bool *token)
{
	char buf[8192], *end, *cl;
	size_t got = 0;
	ssize_t n;
	long len;

	for (;;) {
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		cl = end ? strcasestr(buf, "Content-Length:") : NULL;
		if (end && cl && (size_t)(end + 4 - buf) + (size_t)(len = atol(cl + 15)) <= got)
			break;
		if (got >= sizeof(buf) - 1 || (n = read(fd, buf + got, sizeof(buf) - 1 - got)) <= 0)
			return -1;
		got += (size_t)n;
	}
	*token = strstr(end, "\"access_token\"") != NULL;
	return atoi(buf + 9);
}

static void *keepalive_run(void *arg)
{
	struct keepalive_client *k = arg;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)k->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[800];
	int fd = socket(AF_INET, SOCK_STREAM, 0), status, len;
	bool token;

	len = token_request(req, sizeof(req));
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (write(fd, req, (size_t)len) == len && (status = read_answer(fd, &token)) > 0) {
		k->tokens += status == 200 && token;
		k->refused += status == 503;
	}
	close(fd);
	return NULL;
}

/*
 * SIGTERM under kept-alive token load: every token a client received has its
 * audit row and every row's token reached its client (requests begun after
 * the stop started get 503 and the connection closes; before, answers of
 * requests begun during the stop were cut off after their rows committed).
 */
static void test_stop_under_keepalive_load(void **state)
{
	struct keepalive_client k[8];
	pthread_t t[8];
	long long before = db_count(ISSUED), tokens = 0;

	for (int i = 0; i < 8; i++) {
		k[i] = (struct keepalive_client){ .port = W.d.port };
		assert_int_equal(pthread_create(&t[i], NULL, keepalive_run, &k[i]), 0);
	}
	harness_sleep_ms(700);
	assert_int_equal(harness_server_stop(&W.d, 20000), 0);
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		tokens += k[i].tokens;
	}
	assert_true(tokens > 0);
	assert_int_equal(db_count(ISSUED) - before, tokens);
	assert_int_equal(start("2030-01-01T00:00:00Z"), 0);
}

/* True when the log past offset from has a line holding needle. */
static bool log_has(const char *path, long from, const char *needle)
{
	char line[2048];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (f && fseek(f, from, SEEK_SET) != 0) {
		fclose(f);
		return false;
	}
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

static long log_size(const char *path)
{
	FILE *f = fopen(path, "r");
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	fclose(f);
	return n;
}

/*
 * A client that resets while its answer waits for the audit row still
 * leaves a line: the request line when the library asks for the answer
 * after the resume, "client left before its answer" when it ends the
 * request first (which one depends on when the library sees the reset).
 */
static void test_client_gone_while_parked_is_logged(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)W.d.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[800];
	long from = log_size(W.d.log_path);
	sqlite3 *lock;
	int fd, len;

	lock = db_lock();
	len = token_request(req, sizeof(req));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(write(fd, req, (size_t)len), len);
	harness_sleep_ms(300); /* parked now, behind the lock */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 },
				    sizeof(struct linger)), 0);
	close(fd);
	assert_int_equal(sqlite3_exec(lock, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(lock);
	for (int waited = 0;
	     !log_has(W.d.log_path, from, "path=\"/v2/oauth/token\" status=") &&
	     !log_has(W.d.log_path, from, "client left before its answer"); waited += 50) {
		if (waited > 5000) {
			harness_log_print(W.d.name, W.d.log_path, 2048);
			fail_msg("no log line for the client that left");
		}
		harness_sleep_ms(50);
	}
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
		cmocka_unit_test(test_token_withheld_without_audit),
		cmocka_unit_test(test_token_burst_all_audited),
		cmocka_unit_test(test_stop_with_parked_requests),
		cmocka_unit_test(test_stop_under_keepalive_load),
		cmocka_unit_test(test_client_gone_while_parked_is_logged),
		cmocka_unit_test(test_account_matrix),
		cmocka_unit_test(test_matrix_users),
		cmocka_unit_test(test_matrix_accounts),
		cmocka_unit_test(test_signup_confirm_reset),
		cmocka_unit_test(test_signup_reset_throttled),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_throttle_window_passes),
		/* Last: it throttles every login from this address. */
		cmocka_unit_test(test_login_throttled),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
