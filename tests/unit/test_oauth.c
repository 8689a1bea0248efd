/* test_oauth.c - OAuth logic on a scratch ringer.db: PKCE, scopes, rotation, expiry, hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/log.h"
#include "db/db.h"
#include "ivy/account.h"
#include "ivy/ivy_store.h"
#include "ivy/jwt.h"
#include "ivy/oauth.h"

#include <sys/stat.h>

#define T0 1893456000 /* 2030-01-01T00:00:00Z */

static char dir[64];
static char path[128];
static sqlite3 *db;
static const struct oauth_settings S = { 300, 3600, 60 };
static int64_t root_acct, user;

static int setup(void **state)
{
	char wal[160];

	log_set_level(LOG_ERROR);
	snprintf(dir, sizeof(dir), "/tmp/ringer_oauthtest_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/ringer.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	clock_start_at(T0);
	if (account_crypto_init() != 0 || ivy_jwt_init(dir) != 0 || mgmt_open(path, false, &db) != 0 ||
	    ivy_store_migrate(db) != 0 ||
	    account_create(db, 0, "Reseller", "r@example.com", "active", &root_acct) != 0)
		return -1;
	struct ivy_user u = { .account_id = root_acct, .role = ROLE_OWNER, .active = true };
	snprintf(u.email, sizeof(u.email), "owner@example.com");
	snprintf(u.locale, sizeof(u.locale), "en-US");
	if (user_create(db, &u, "a long enough password") != 0)
		return -1;
	user = u.id;
	return 0;
}

static int teardown(void **state)
{
	char cmd[200];

	sqlite3_close(db);
	ivy_jwt_shutdown();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	clock_reset();
	return system(cmd) == 0 ? 0 : -1;
}

static void client_new(bool confidential, unsigned grants, unsigned scopes,
		       struct oauth_client *c, char secret[IVY_SECRET_MAX])
{
	memset(c, 0, sizeof(*c));
	c->confidential = confidential;
	c->account_id = root_acct;
	c->grants = grants;
	c->scopes = scopes;
	snprintf(c->name, sizeof(c->name), "test");
	snprintf(c->redirect_uris, sizeof(c->redirect_uris), "https://app.example/cb");
	assert_int_equal(oauth_client_create(db, c, secret), 0);
}

/* RFC 7636 appendix B. */
static void test_pkce(void **state)
{
	const char *v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	const char *ch = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

	assert_true(oauth_pkce_s256_ok(v, ch));
	assert_false(oauth_pkce_s256_ok("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", ch));
	assert_false(oauth_pkce_s256_ok("short", ch));
	assert_false(oauth_pkce_s256_ok(v, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
	assert_false(oauth_pkce_s256_ok(NULL, ch));
}

static void test_scopes(void **state)
{
	unsigned s = 99;
	char text[32];

	assert_int_equal(oauth_scope_parse("read  admin", &s), 0);
	assert_int_equal(s, OAUTH_READ | OAUTH_ADMIN);
	oauth_scope_format(s, text, sizeof(text));
	assert_string_equal(text, "read admin");
	assert_int_equal(oauth_scope_parse("read,write", &s), -1);
	assert_int_equal(oauth_scope_parse("root", &s), -1);
	assert_int_equal(oauth_scope_grant(NULL, OAUTH_READ | OAUTH_WRITE, &s), 0);
	assert_int_equal(s, OAUTH_READ | OAUTH_WRITE);
	assert_int_equal(oauth_scope_grant("admin", OAUTH_READ | OAUTH_WRITE, &s),
			 OAUTH_INVALID_SCOPE);
	assert_int_equal(ivy_perm_scope(PERM_USER_WRITE), OAUTH_ADMIN);
	assert_int_equal(ivy_role_perms(ROLE_READ_ONLY) & PERM_ACCOUNT_WRITE, 0);
	assert_true(ivy_role_perms(ROLE_ADMIN) & PERM_USER_WRITE);
}

static void test_client_rules(void **state)
{
	struct oauth_client c, got;
	struct oauth_issued t;
	char secret[IVY_SECRET_MAX];

	memset(&c, 0, sizeof(c));
	c.account_id = root_acct;
	c.grants = OAUTH_GRANT_CLIENT_CREDENTIALS;
	c.scopes = OAUTH_READ;
	assert_int_equal(oauth_client_create(db, &c, secret), OAUTH_INVALID_REQUEST);
	client_new(true, OAUTH_GRANT_CLIENT_CREDENTIALS, OAUTH_READ, &c, secret);
	assert_int_equal(strncmp(secret, "ivs_", 4), 0);
	assert_int_equal(oauth_client_auth(db, c.id, secret, &got), 0);
	secret[10] ^= 1;
	assert_int_equal(oauth_client_auth(db, c.id, secret, &got), OAUTH_INVALID_CLIENT);
	assert_int_equal(oauth_client_auth(db, c.id, NULL, &got), OAUTH_INVALID_CLIENT);
	/* A public client authenticates by id alone and still cannot act on its own. */
	client_new(false, OAUTH_GRANT_AUTHORIZATION_CODE, OAUTH_READ, &c, secret);
	assert_string_equal(secret, "");
	assert_int_equal(oauth_client_auth(db, c.id, "", &got), 0);
	c.grants |= OAUTH_GRANT_CLIENT_CREDENTIALS; /* even if the row said otherwise */
	assert_int_equal(oauth_grant_client_credentials(db, &S, &c, NULL, &t),
			 OAUTH_UNAUTHORIZED_CLIENT);
}

static int count_rows(const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_hashing(void **state)
{
	struct login_policy p = { 3, 900 };
	char secret[IVY_SECRET_MAX], hash[IVY_HASH_HEX];
	struct oauth_client c;
	struct oauth_issued t;
	struct ivy_user u;

	client_new(true, OAUTH_GRANT_CLIENT_CREDENTIALS, OAUTH_READ, &c, secret);
	assert_int_equal(oauth_grant_client_credentials(db, &S, &c, "read", &t), 0);
	/* A signed access token: three parts, and nothing stored for it. */
	assert_int_equal(strncmp(t.access_token, "eyJ", 3), 0);
	assert_non_null(strchr(strchr(t.access_token, '.') + 1, '.'));
	secret_sha256_hex(t.access_token, hash);
	assert_int_equal(count_rows("SELECT count(*) FROM oauth_tokens WHERE hash = ?1", hash), 0);
	assert_int_equal(count_rows("SELECT count(*) FROM oauth_clients WHERE secret_hash = ?1",
				    secret), 0);
	assert_int_equal(count_rows("SELECT count(*) FROM ivy_users WHERE email = ?1"
				    " AND pw_hash LIKE '$argon2id$%'", "owner@example.com"), 1);
	assert_int_equal(user_login(db, &p, "owner@example.com", "a long enough password",
				    "192.0.2.1", &u), LOGIN_OK);
	assert_int_equal(u.id, user);
	for (int i = 0; i < 3; i++)
		assert_int_equal(user_login(db, &p, "owner@example.com", "wrong password",
					    "192.0.2.1", &u), LOGIN_BAD);
	/* Throttled: even the right password is not tried now. */
	assert_int_equal(user_login(db, &p, "owner@example.com", "a long enough password",
				    "192.0.2.9", &u), LOGIN_THROTTLED);
	clock_start_at(T0 + 901);
	assert_int_equal(user_login(db, &p, "owner@example.com", "a long enough password",
				    "192.0.2.9", &u), LOGIN_OK);
	clock_start_at(T0);
}

static void test_expiry(void **state)
{
	char secret[IVY_SECRET_MAX];
	struct oauth_token_info info;
	struct oauth_client c;
	struct oauth_issued t;

	client_new(true, OAUTH_GRANT_CLIENT_CREDENTIALS, OAUTH_READ | OAUTH_WRITE, &c, secret);
	clock_start_at(T0 + 5000);
	assert_int_equal(oauth_grant_client_credentials(db, &S, &c, "write", &t), 0);
	assert_string_equal(t.refresh_token, "");
	assert_int_equal(t.expires_in, 300);
	assert_int_equal(oauth_token_lookup(db, t.access_token, &info), 0);
	assert_int_equal(info.scopes, OAUTH_WRITE);
	assert_int_equal(info.expires_at, T0 + 5300);
	clock_start_at(T0 + 5299);
	assert_int_equal(oauth_token_lookup(db, t.access_token, &info), 0);
	clock_start_at(T0 + 5300);
	assert_int_equal(oauth_token_lookup(db, t.access_token, &info), 1);
	clock_start_at(T0);
}

static void test_refresh_rotation_and_reuse(void **state)
{
	char secret[IVY_SECRET_MAX];
	struct oauth_token_info info;
	struct oauth_issued t1, t2, t3;
	struct oauth_client c, other;

	client_new(true, OAUTH_GRANT_PASSWORD | OAUTH_GRANT_REFRESH_TOKEN, OAUTH_ALL_SCOPES, &c,
		   secret);
	client_new(true, OAUTH_GRANT_PASSWORD | OAUTH_GRANT_REFRESH_TOKEN, OAUTH_ALL_SCOPES,
		   &other, secret);
	assert_int_equal(oauth_issue_for_user(db, &S, &c, root_acct, user, OAUTH_READ | OAUTH_WRITE,
					      &t1), 0);
	assert_int_equal(strncmp(t1.refresh_token, "ivr_", 4), 0);
	/* Another client cannot use it, and scope cannot widen. */
	assert_int_equal(oauth_grant_refresh(db, &S, &other, t1.refresh_token, NULL, &t2),
			 OAUTH_INVALID_GRANT);
	assert_int_equal(oauth_grant_refresh(db, &S, &c, t1.refresh_token, "admin", &t2),
			 OAUTH_INVALID_SCOPE);
	assert_int_equal(oauth_grant_refresh(db, &S, &c, t1.refresh_token, "read", &t2), 0);
	assert_int_equal(t2.scopes, OAUTH_READ);
	assert_string_not_equal(t2.refresh_token, t1.refresh_token);
	assert_int_equal(oauth_token_lookup(db, t2.access_token, &info), 0);
	/* The old one comes back: the whole family dies. */
	assert_int_equal(oauth_grant_refresh(db, &S, &c, t1.refresh_token, NULL, &t3),
			 OAUTH_REUSED);
	assert_int_equal(oauth_token_lookup(db, t2.access_token, &info), 1);
	assert_int_equal(oauth_token_lookup(db, t1.access_token, &info), 1);
	assert_int_equal(oauth_grant_refresh(db, &S, &c, t2.refresh_token, NULL, &t3),
			 OAUTH_INVALID_GRANT);
}

static void test_code_flow(void **state)
{
	const char *v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
	const char *ch = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
	char secret[IVY_SECRET_MAX], code[IVY_SECRET_MAX];
	struct oauth_token_info info;
	struct oauth_client c;
	struct oauth_issued t, t2;

	client_new(false, OAUTH_GRANT_AUTHORIZATION_CODE | OAUTH_GRANT_REFRESH_TOKEN,
		   OAUTH_READ, &c, secret);
	assert_int_equal(oauth_code_create(db, &S, &c, root_acct, user, "https://evil.example/cb",
					   OAUTH_READ, ch, code), OAUTH_INVALID_REQUEST);
	assert_int_equal(oauth_code_create(db, &S, &c, root_acct, user, "https://app.example/cb",
					   OAUTH_READ, ch, code), 0);
	assert_int_equal(oauth_grant_code(db, &S, &c, code, "https://app.example/cb",
					  "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", &t),
			 OAUTH_INVALID_GRANT);
	assert_int_equal(oauth_grant_code(db, &S, &c, code, "https://app.example/other", v, &t),
			 OAUTH_INVALID_GRANT);
	assert_int_equal(oauth_grant_code(db, &S, &c, code, "https://app.example/cb", v, &t), 0);
	assert_int_equal(oauth_token_lookup(db, t.access_token, &info), 0);
	assert_int_equal(info.user_id, user);
	assert_int_equal(oauth_grant_code(db, &S, &c, code, "https://app.example/cb", v, &t2),
			 OAUTH_REUSED);
	assert_int_equal(oauth_token_lookup(db, t.access_token, &info), 1);
	/* An expired code is refused. */
	assert_int_equal(oauth_code_create(db, &S, &c, root_acct, user, "https://app.example/cb",
					   OAUTH_READ, ch, code), 0);
	clock_start_at(T0 + 61);
	assert_int_equal(oauth_grant_code(db, &S, &c, code, "https://app.example/cb", v, &t),
			 OAUTH_INVALID_GRANT);
	clock_start_at(T0);
}

static void make_claims(struct ivy_jwt *j, int64_t iat, int64_t nbf, int64_t exp)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->jti, sizeof(j->jti), "jti-1");
	snprintf(j->client_id, sizeof(j->client_id), "ivc_x");
	snprintf(j->family, sizeof(j->family), "fam");
	j->account_id = root_acct;
	j->scopes = OAUTH_READ;
	j->iat = iat;
	j->nbf = nbf;
	j->exp = exp;
}

static void test_jwt_keys_and_times(void **state)
{
	char tok[IVY_JWT_MAX], bad[IVY_JWT_MAX], kpath[200];
	struct ivy_jwt j, got;
	struct stat sb;
	json_t *jwks;

	snprintf(kpath, sizeof(kpath), "%s/ivy-jwt-current.pem", dir);
	assert_int_equal(stat(kpath, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	make_claims(&j, T0, T0, T0 + 300);
	assert_int_equal(ivy_jwt_sign(&j, tok, sizeof(tok)), 0);
	assert_int_equal(ivy_jwt_verify(tok, &got), 0);
	assert_int_equal(got.account_id, root_acct);
	assert_string_equal(got.jti, "jti-1");
	assert_string_equal(got.family, "fam");
	/* One changed character in the payload or the signature: refused. */
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[strchr(bad, '.') - bad + 5] ^= 1;
	assert_int_equal(ivy_jwt_verify(bad, &got), 1);
	snprintf(bad, sizeof(bad), "%s", tok);
	bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
	assert_int_equal(ivy_jwt_verify(bad, &got), 1);
	/* alg "none" with the same payload. */
	snprintf(bad, sizeof(bad), "eyJhbGciOiJub25lIn0%.*s.", (int)(strrchr(tok, '.') - strchr(tok, '.')),
		 strchr(tok, '.'));
	assert_int_equal(ivy_jwt_verify(bad, &got), 1);
	/* exp, nbf and iat against the clock. */
	clock_start_at(T0 + 300);
	assert_int_equal(ivy_jwt_verify(tok, &got), 1);
	clock_start_at(T0);
	make_claims(&j, T0, T0 + 10, T0 + 300);
	assert_int_equal(ivy_jwt_sign(&j, bad, sizeof(bad)), 0);
	assert_int_equal(ivy_jwt_verify(bad, &got), 1);
	make_claims(&j, T0 + 10, T0, T0 + 300);
	assert_int_equal(ivy_jwt_sign(&j, bad, sizeof(bad)), 0);
	assert_int_equal(ivy_jwt_verify(bad, &got), 1);
	/* After a rotation the old key still verifies; after two it does not. */
	assert_int_equal(ivy_jwt_rotate(dir), 0);
	assert_int_equal(ivy_jwt_init(dir), 0);
	assert_int_equal(ivy_jwt_verify(tok, &got), 0);
	jwks = ivy_jwt_jwks();
	assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(jwks, "keys"), 0), "alg")), "ES256");
	assert_null(json_object_get(json_array_get(json_object_get(jwks, "keys"), 0), "d"));
	json_decref(jwks);
	assert_int_equal(ivy_jwt_rotate(dir), 0);
	assert_int_equal(ivy_jwt_init(dir), 0);
	assert_int_equal(ivy_jwt_verify(tok, &got), 1);
}

static void test_access_revocation(void **state)
{
	char secret[IVY_SECRET_MAX];
	struct oauth_token_info info;
	struct oauth_client c, other;
	struct oauth_issued t1, t2;

	client_new(true, OAUTH_GRANT_PASSWORD | OAUTH_GRANT_CLIENT_CREDENTIALS, OAUTH_READ, &c,
		   secret);
	client_new(true, OAUTH_GRANT_CLIENT_CREDENTIALS, OAUTH_READ, &other, secret);
	assert_int_equal(oauth_grant_client_credentials(db, &S, &c, NULL, &t1), 0);
	assert_int_equal(oauth_grant_client_credentials(db, &S, &c, NULL, &t2), 0);
	/* RFC 7009: another client's revocation is ignored; the owner's voids only that jti. */
	assert_int_equal(oauth_revoke(db, &other, t1.access_token), 0);
	assert_int_equal(oauth_token_lookup(db, t1.access_token, &info), 0);
	assert_int_equal(oauth_revoke(db, &c, t1.access_token), 1);
	assert_int_equal(oauth_token_lookup(db, t1.access_token, &info), 1);
	assert_int_equal(oauth_revoke(db, &c, "iva_not-a-token"), 0);
	assert_int_equal(oauth_revoke(db, &c, t1.access_token), 0); /* revoked before */
	assert_int_equal(oauth_token_lookup(db, t2.access_token, &info), 0);
	/* A user's tokens die with a password reset (the generation rises). */
	assert_int_equal(oauth_issue_for_user(db, &S, &c, root_acct, user, OAUTH_READ, &t1), 0);
	assert_int_equal(oauth_token_lookup(db, t1.access_token, &info), 0);
	assert_int_equal(info.user_id, user);
	assert_int_equal(user_revoke_tokens(db, user), 0);
	assert_int_equal(oauth_token_lookup(db, t1.access_token, &info), 1);
	assert_int_equal(oauth_issue_for_user(db, &S, &c, root_acct, user, OAUTH_READ, &t1), 0);
	assert_int_equal(oauth_token_lookup(db, t1.access_token, &info), 0);
	/* A revoked client takes its tokens with it. */
	assert_int_equal(oauth_client_revoke(db, c.id), 0);
	assert_int_equal(oauth_token_lookup(db, t1.access_token, &info), 1);
	assert_int_equal(oauth_token_lookup(db, t2.access_token, &info), 1);
}

static void test_tree_and_onetime(void **state)
{
	struct ivy_account root, child, sub, sib;
	char tok[IVY_SECRET_MAX];
	int64_t c1, c2, s1, s2, uid = 0;

	assert_int_equal(account_create(db, root_acct, "Customer", "", "active", &c1), 0);
	assert_int_equal(account_create(db, c1, "Sub", "", "active", &s1), 0);
	assert_int_equal(account_create(db, s1, "Too deep", "", "active", &s2), 1);
	assert_int_equal(account_create(db, root_acct, "Sibling", "", "active", &c2), 0);
	assert_int_equal(account_get(db, root_acct, &root), 0);
	assert_int_equal(account_get(db, c1, &child), 0);
	assert_int_equal(account_get(db, s1, &sub), 0);
	assert_int_equal(account_get(db, c2, &sib), 0);
	assert_true(account_in_subtree(&root, &sub));
	assert_true(account_in_subtree(&child, &sub));
	assert_false(account_in_subtree(&child, &root));
	assert_false(account_in_subtree(&child, &sib));
	assert_false(account_in_subtree(&sib, &sub));
	assert_int_equal(onetime_issue(db, "reset", user, 60, tok), 0);
	assert_int_equal(onetime_use(db, "confirm", tok, &uid), 1);
	assert_int_equal(onetime_use(db, "reset", tok, &uid), 0);
	assert_int_equal(uid, user);
	assert_int_equal(onetime_use(db, "reset", tok, &uid), 1);
	assert_int_equal(onetime_issue(db, "reset", user, 60, tok), 0);
	clock_start_at(T0 + 60);
	assert_int_equal(onetime_use(db, "reset", tok, &uid), 1);
	clock_start_at(T0);
}

/* Attack findings: a used reset link voids the older ones; status moves are guarded. */
static void test_onetime_voids_siblings_and_status_moves(void **state)
{
	char t1[IVY_SECRET_MAX], t2[IVY_SECRET_MAX];
	struct ivy_account a;
	int64_t uid = 0, acct;

	assert_int_equal(onetime_issue(db, "reset", user, 600, t1), 0);
	assert_int_equal(onetime_issue(db, "reset", user, 600, t2), 0);
	assert_int_equal(onetime_use(db, "reset", t1, &uid), 0);
	assert_int_equal(onetime_use(db, "reset", t2, &uid), 1);
	assert_int_equal(account_create(db, root_acct, "Pending", "", "pending_confirmation",
					&acct), 0);
	/* Only from the named status: resume is no confirmation, confirmation no resume. */
	assert_int_equal(account_move_status(db, acct, "suspended", "active"), 1);
	assert_int_equal(account_set_status(db, acct, "suspended"), 0);
	assert_int_equal(account_move_status(db, acct, "pending_confirmation", "active"), 1);
	assert_int_equal(account_get(db, acct, &a), 0);
	assert_string_equal(a.status, "suspended");
	assert_int_equal(account_move_status(db, acct, "suspended", "active"), 0);
	assert_int_equal(account_get(db, acct, &a), 0);
	assert_string_equal(a.status, "active");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkce),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_client_rules),
		cmocka_unit_test(test_hashing),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_refresh_rotation_and_reuse),
		cmocka_unit_test(test_code_flow),
		cmocka_unit_test(test_tree_and_onetime),
		cmocka_unit_test(test_jwt_keys_and_times),
		cmocka_unit_test(test_access_revocation),
		cmocka_unit_test(test_onetime_voids_siblings_and_status_moves),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
