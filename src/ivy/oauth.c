/* oauth.c - OAuth 2.0 clients, grants, rotation, revocation (RFC 6749, 7636, 7009). */
#include "oauth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "jwt.h"

static const char *const scope_names[] = { "read", "write", "admin" };
static const char *const grant_names[] = { "client_credentials", "authorization_code",
					   "refresh_token", "password" };

const char *oauth_err_name(int e)
{
	switch (e) {
	case OAUTH_INVALID_REQUEST: return "invalid_request";
	case OAUTH_INVALID_CLIENT: return "invalid_client";
	case OAUTH_INVALID_GRANT: return "invalid_grant";
	case OAUTH_REUSED: return "invalid_grant";
	case OAUTH_UNAUTHORIZED_CLIENT: return "unauthorized_client";
	case OAUTH_UNSUPPORTED_GRANT_TYPE: return "unsupported_grant_type";
	case OAUTH_INVALID_SCOPE: return "invalid_scope";
	default: return "server_error";
	}
}

/* Parse a list of names separated by spaces or commas into bits of names[]. */
static int bits_parse(const char *s, const char *const *names, size_t n, unsigned *out)
{
	unsigned bits = 0;

	while (s && *s) {
		size_t len = strcspn(s, " ,");
		size_t i;

		for (i = 0; len && i < n; i++) {
			if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0)
				break;
		}
		if (len && i == n)
			return -1;
		if (len)
			bits |= 1u << i;
		s += len;
		s += strspn(s, " ,");
	}
	*out = bits;
	return 0;
}

static void bits_format(unsigned bits, const char *const *names, size_t n, const char *sep,
			char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!(bits & (1u << i)))
			continue;
		used += (size_t)snprintf(out + used, used < outlen ? outlen - used : 0, "%s%s",
					 used ? sep : "", names[i]);
	}
}

int oauth_scope_parse(const char *s, unsigned *out)
{
	/* RFC 6749 3.3: scopes are separated by spaces only. */
	if (s && strchr(s, ','))
		return -1;
	return bits_parse(s, scope_names, 3, out);
}

void oauth_scope_format(unsigned scopes, char *out, size_t outlen)
{
	bits_format(scopes, scope_names, 3, " ", out, outlen);
}

int oauth_grants_parse(const char *s, unsigned *out)
{
	return bits_parse(s, grant_names, 4, out);
}

void oauth_grants_format(unsigned grants, char *out, size_t outlen)
{
	bits_format(grants, grant_names, 4, ",", out, outlen);
}

bool oauth_pkce_s256_ok(const char *verifier, const char *challenge)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char enc[48];
	size_t n = verifier ? strlen(verifier) : 0;

	/* RFC 7636 4.1: 43 to 128 unreserved characters. */
	if (n < 43 || n > 128 || strspn(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
				       "vwxyz0123456789-._~") != n || challenge == NULL)
		return false;
	SHA256((const unsigned char *)verifier, n, md);
	secret_b64url(md, sizeof(md), enc);
	return strlen(challenge) == strlen(enc) &&
	       CRYPTO_memcmp(enc, challenge, strlen(enc)) == 0;
}

int oauth_scope_grant(const char *requested, unsigned allowed, unsigned *out)
{
	unsigned want;

	if (oauth_scope_parse(requested, &want) != 0)
		return OAUTH_INVALID_SCOPE;
	if (want == 0)
		want = allowed;
	if ((want & ~allowed) != 0 || want == 0)
		return OAUTH_INVALID_SCOPE;
	*out = want;
	return 0;
}

/* ---- clients ---- */

static int step_done(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;

	if (rc != 0)
		log_error("sql failed", "err=\"%s\"", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

int oauth_client_create(sqlite3 *db, struct oauth_client *c, char secret[IVY_SECRET_MAX])
{
	char hash[IVY_HASH_HEX] = "";
	char id[IVY_SECRET_MAX], sec[IVY_SECRET_MAX] = "";
	sqlite3_stmt *st;

	if (!c->confidential &&
	    (c->grants & (OAUTH_GRANT_CLIENT_CREDENTIALS | OAUTH_GRANT_PASSWORD)))
		return OAUTH_INVALID_REQUEST;
	if ((c->grants & OAUTH_GRANT_AUTHORIZATION_CODE) && c->redirect_uris[0] == '\0')
		return OAUTH_INVALID_REQUEST;
	if (c->grants == 0 || c->scopes == 0 || (c->scopes & ~OAUTH_ALL_SCOPES))
		return OAUTH_INVALID_REQUEST;
	if (secret_new("ivc_", id, IVY_SECRET_MAX) != 0 ||
	    (c->confidential && secret_new("ivs_", sec, IVY_SECRET_MAX) != 0))
		return OAUTH_SERVER_ERROR;
	if (c->confidential)
		secret_sha256_hex(sec, hash);
	if (sqlite3_prepare_v2(db, "INSERT INTO oauth_clients(id, secret_hash, confidential,"
			       " account_id, name, redirect_uris, grants, scopes, created_at)"
			       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &st,
			       NULL) != SQLITE_OK)
		return OAUTH_SERVER_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, c->confidential);
	sqlite3_bind_int64(st, 4, c->account_id);
	sqlite3_bind_text(st, 5, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c->redirect_uris, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, (int)c->grants);
	sqlite3_bind_int(st, 8, (int)c->scopes);
	sqlite3_bind_int64(st, 9, clock_now());
	if (step_done(db, st) != 0)
		return OAUTH_SERVER_ERROR;
	memcpy(c->id, id, sizeof(id));
	memcpy(secret, sec, sizeof(sec));
	return 0;
}

#define CLIENT_COLS "id, confidential, account_id, name, redirect_uris, grants, scopes," \
		    " revoked, created_at, secret_hash"

static void client_row(sqlite3_stmt *st, struct oauth_client *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", (const char *)sqlite3_column_text(st, 0));
	c->confidential = sqlite3_column_int(st, 1) != 0;
	c->account_id = sqlite3_column_int64(st, 2);
	snprintf(c->name, sizeof(c->name), "%s", (const char *)sqlite3_column_text(st, 3));
	snprintf(c->redirect_uris, sizeof(c->redirect_uris), "%s",
		 (const char *)sqlite3_column_text(st, 4));
	c->grants = (unsigned)sqlite3_column_int(st, 5);
	c->scopes = (unsigned)sqlite3_column_int(st, 6);
	c->revoked = sqlite3_column_int(st, 7) != 0;
	c->created_at = sqlite3_column_int64(st, 8);
}

/* Load a client and its secret hash. Returns 0, 1 when there is none, or -1. */
static int client_load(sqlite3 *db, const char *id, struct oauth_client *out,
		       char hash[IVY_HASH_HEX])
{
	sqlite3_stmt *st;
	int rc;

	if (ivy_stmt_prepare(db, "SELECT " CLIENT_COLS " FROM oauth_clients WHERE id = ?1",
			     &st) != 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		client_row(st, out);
		snprintf(hash, IVY_HASH_HEX, "%s", (const char *)sqlite3_column_text(st, 9));
	}
	ivy_stmt_done(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int oauth_client_get(sqlite3 *db, const char *id, struct oauth_client *out)
{
	char hash[IVY_HASH_HEX];

	return client_load(db, id, out, hash);
}

int oauth_client_revoke(sqlite3 *db, const char *id)
{
	sqlite3_stmt *st;
	int rc, changed;

	if (ivy_tx_begin(db) != 0)
		return -1;
	rc = sqlite3_prepare_v2(db, "UPDATE oauth_clients SET revoked = 1 WHERE id = ?1", -1, &st,
				NULL) == SQLITE_OK ? 0 : -1;
	if (rc == 0) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		rc = step_done(db, st);
	}
	changed = sqlite3_changes(db);
	if (rc == 0 && sqlite3_prepare_v2(db, "UPDATE oauth_tokens SET revoked = 1"
					  " WHERE client_id = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		rc = step_done(db, st);
	}
	rc = ivy_tx_end(db, rc);
	return rc != 0 ? -1 : changed ? 0 : 1;
}

int oauth_client_list(sqlite3 *db, void (*fn)(const struct oauth_client *, void *), void *arg)
{
	struct oauth_client c;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT " CLIENT_COLS " FROM oauth_clients"
			       " ORDER BY created_at, id", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		client_row(st, &c);
		fn(&c, arg);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int oauth_client_auth(sqlite3 *db, const char *id, const char *secret,
		      struct oauth_client *out)
{
	char want[IVY_HASH_HEX], got[IVY_HASH_HEX];
	struct oauth_client c;

	if (id == NULL || id[0] == '\0' || client_load(db, id, &c, want) != 0 || c.revoked)
		return OAUTH_INVALID_CLIENT;
	if (c.confidential) {
		if (secret == NULL || secret[0] == '\0')
			return OAUTH_INVALID_CLIENT;
		secret_sha256_hex(secret, got);
		if (CRYPTO_memcmp(got, want, IVY_HASH_HEX) != 0)
			return OAUTH_INVALID_CLIENT;
	} else if (secret && secret[0]) {
		return OAUTH_INVALID_CLIENT; /* a public client has no secret to present */
	}
	*out = c;
	return 0;
}

bool oauth_client_redirect_ok(const struct oauth_client *c, const char *uri)
{
	size_t n = uri ? strlen(uri) : 0;

	for (const char *p = c->redirect_uris; n && *p; ) {
		size_t len = strcspn(p, " ");

		if (len == n && strncmp(p, uri, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

/* ---- tokens ---- */

static int token_insert(sqlite3 *db, const char *token, char kind, const char *client_id,
			int64_t account_id, int64_t user_id, unsigned scopes,
			const char *family, int64_t expires_at)
{
	char hash[IVY_HASH_HEX], k[2] = { kind, '\0' };
	sqlite3_stmt *st;

	secret_sha256_hex(token, hash);
	if (sqlite3_prepare_v2(db, "INSERT INTO oauth_tokens(hash, kind, client_id, account_id,"
			       " user_id, scopes, family, issued_at, expires_at)"
			       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, client_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, account_id);
	sqlite3_bind_int64(st, 5, user_id);
	sqlite3_bind_int(st, 6, (int)scopes);
	sqlite3_bind_text(st, 7, family, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, clock_now());
	sqlite3_bind_int64(st, 9, expires_at);
	return step_done(db, st);
}

/* The user's token generation: raising it voids every access token issued before. */
static int user_gen(sqlite3 *db, int64_t user_id, int64_t *gen)
{
	sqlite3_stmt *st;
	int rc;

	*gen = 0;
	if (user_id == 0)
		return 0;
	if (ivy_stmt_prepare(db, "SELECT token_gen FROM ivy_users WHERE id = ?1", &st) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*gen = sqlite3_column_int64(st, 0);
	ivy_stmt_done(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* A signed access token: nothing is stored for it. */
static int access_sign(sqlite3 *db, const struct oauth_settings *s,
		       const struct oauth_client *c, int64_t account_id, int64_t user_id,
		       unsigned scopes, const char *family, char *out, size_t outlen)
{
	struct ivy_jwt j = { .account_id = account_id, .user_id = user_id, .scopes = scopes };

	j.iat = j.nbf = clock_now();
	j.exp = j.iat + s->access_ttl;
	snprintf(j.client_id, sizeof(j.client_id), "%s", c->id);
	snprintf(j.family, sizeof(j.family), "%s", family);
	if (secret_new("", j.jti, IVY_SECRET_MAX) != 0 || user_gen(db, user_id, &j.gen) != 0)
		return -1;
	return ivy_jwt_sign(&j, out, outlen);
}

/* Issue an access token, and a refresh token when with_refresh, in family. */
/*
 * 1 when no account from the top of the tree down to account_id is suspended
 * or closed, 0 when one is, -1 on error. A token issued now would otherwise
 * start working the moment a suspension is lifted.
 */
static int account_standing(sqlite3 *db, int64_t account_id)
{
	static const char sql[] =
		"SELECT NOT EXISTS (SELECT 1 FROM ivy_accounts a, ivy_accounts b WHERE a.id = ?1"
		" AND b.status IN ('suspended', 'closed')"
		" AND substr(a.path, 1, length(b.path)) = b.path)";
	sqlite3_stmt *st;
	int rc;

	if (ivy_stmt_prepare(db, sql, &st) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	rc = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) != 0 : -1;
	ivy_stmt_done(st);
	return rc;
}

static int issue(sqlite3 *db, const struct oauth_settings *s, const struct oauth_client *c,
		 int64_t account_id, int64_t user_id, unsigned scopes, const char *family,
		 bool with_refresh, struct oauth_issued *out)
{
	struct oauth_issued o = { .expires_in = s->access_ttl, .scopes = scopes };
	int64_t now = clock_now();
	int standing = account_standing(db, account_id);

	if (standing < 0)
		return OAUTH_SERVER_ERROR;
	if (standing == 0)
		return OAUTH_INVALID_GRANT;
	if (access_sign(db, s, c, account_id, user_id, scopes, family, o.access_token,
			sizeof(o.access_token)) != 0 ||
	    (with_refresh && secret_new("ivr_", o.refresh_token, IVY_SECRET_MAX) != 0))
		return OAUTH_SERVER_ERROR;
	if (with_refresh && token_insert(db, o.refresh_token, 'r', c->id, account_id, user_id,
					 scopes, family, now + s->refresh_ttl) != 0)
		return OAUTH_SERVER_ERROR;
	*out = o;
	return 0;
}

static int new_family(char family[IVY_SECRET_MAX])
{
	return secret_new("f", family, IVY_SECRET_MAX) == 0 ? 0 : OAUTH_SERVER_ERROR;
}

int oauth_grant_client_credentials(sqlite3 *db, const struct oauth_settings *s,
				   const struct oauth_client *c, const char *scope,
				   struct oauth_issued *out)
{
	char family[IVY_SECRET_MAX];
	unsigned scopes;
	int rc;

	/* A public client cannot keep a credential, so it may not act on its own. */
	if (!c->confidential || !(c->grants & OAUTH_GRANT_CLIENT_CREDENTIALS))
		return OAUTH_UNAUTHORIZED_CLIENT;
	if ((rc = oauth_scope_grant(scope, c->scopes, &scopes)) != 0)
		return rc;
	if ((rc = new_family(family)) != 0)
		return rc;
	return issue(db, s, c, c->account_id, 0, scopes, family, false, out);
}

int oauth_issue_for_user(sqlite3 *db, const struct oauth_settings *s,
			 const struct oauth_client *c, int64_t account_id, int64_t user_id,
			 unsigned scopes, struct oauth_issued *out)
{
	char family[IVY_SECRET_MAX];
	int rc;

	if ((rc = new_family(family)) != 0)
		return rc;
	return issue(db, s, c, account_id, user_id, scopes, family,
		     (c->grants & OAUTH_GRANT_REFRESH_TOKEN) != 0, out);
}

int oauth_code_create(sqlite3 *db, const struct oauth_settings *s,
		      const struct oauth_client *c, int64_t account_id, int64_t user_id,
		      const char *redirect_uri, unsigned scopes, const char *challenge,
		      char code[IVY_SECRET_MAX])
{
	char tok[IVY_SECRET_MAX], hash[IVY_HASH_HEX];
	size_t n = challenge ? strlen(challenge) : 0;
	sqlite3_stmt *st;

	if (!(c->grants & OAUTH_GRANT_AUTHORIZATION_CODE))
		return OAUTH_UNAUTHORIZED_CLIENT;
	/* An S256 challenge is base64url of 32 bytes: 43 characters. */
	if (n != 43 || strspn(challenge, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			      "0123456789-_") != n || !oauth_client_redirect_ok(c, redirect_uri))
		return OAUTH_INVALID_REQUEST;
	if (secret_new("ivk_", tok, IVY_SECRET_MAX) != 0)
		return OAUTH_SERVER_ERROR;
	secret_sha256_hex(tok, hash);
	if (sqlite3_prepare_v2(db, "INSERT INTO oauth_codes(hash, client_id, account_id, user_id,"
			       " redirect_uri, scopes, challenge, expires_at)"
			       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", -1, &st,
			       NULL) != SQLITE_OK)
		return OAUTH_SERVER_ERROR;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, account_id);
	sqlite3_bind_int64(st, 4, user_id);
	sqlite3_bind_text(st, 5, redirect_uri, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, (int)scopes);
	sqlite3_bind_text(st, 7, challenge, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, clock_now() + s->code_ttl);
	if (step_done(db, st) != 0)
		return OAUTH_SERVER_ERROR;
	memcpy(code, tok, sizeof(tok));
	return 0;
}

/* Put "j:JTI" or "f:FAMILY" in the revoked set for as long as an access token can live. */
/* Remember a revoked jti or family. Returns 1 when it is new, 0 when known, -1. */
static int revoked_add(sqlite3 *db, char kind, const char *id)
{
	char k[2] = { kind, '\0' };
	sqlite3_stmt *st;
	int added;

	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO oauth_revoked(id, expires_at)"
			       " VALUES(?1 || ':' || ?2, ?3)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, clock_now() + OAUTH_ACCESS_TTL_MAX);
	if (step_done(db, st) != 0)
		return -1;
	added = sqlite3_changes(db) > 0;
	/* Entries past every access token's lifetime say nothing any more. */
	if (sqlite3_prepare_v2(db, "DELETE FROM oauth_revoked WHERE expires_at < ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, clock_now());
	return step_done(db, st) == 0 ? added : -1;
}

int oauth_family_revoke(sqlite3 *db, const char *family)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "UPDATE oauth_tokens SET revoked = 1 WHERE family = ?1", -1,
			       &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, family, -1, SQLITE_STATIC);
	if (step_done(db, st) != 0)
		return -1;
	return revoked_add(db, 'f', family);
}

struct code_row {
	char client_id[IVY_SECRET_MAX];
	int64_t account_id, user_id, expires_at;
	char redirect_uri[1024];
	unsigned scopes;
	char challenge[64];
	char family[IVY_SECRET_MAX]; /* set once the code has been exchanged */
};

static int code_load(sqlite3 *db, const char *hash, struct code_row *r)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT client_id, account_id, user_id, redirect_uri, scopes,"
			       " challenge, expires_at, family FROM oauth_codes WHERE hash = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(r->client_id, sizeof(r->client_id), "%s", sqlite3_column_text(st, 0));
		r->account_id = sqlite3_column_int64(st, 1);
		r->user_id = sqlite3_column_int64(st, 2);
		snprintf(r->redirect_uri, sizeof(r->redirect_uri), "%s",
			 sqlite3_column_text(st, 3));
		r->scopes = (unsigned)sqlite3_column_int(st, 4);
		snprintf(r->challenge, sizeof(r->challenge), "%s", sqlite3_column_text(st, 5));
		r->expires_at = sqlite3_column_int64(st, 6);
		snprintf(r->family, sizeof(r->family), "%s", sqlite3_column_text(st, 7));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

static int code_mark_used(sqlite3 *db, const char *hash, const char *family)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "UPDATE oauth_codes SET family = ?2 WHERE hash = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, family, -1, SQLITE_STATIC);
	return step_done(db, st);
}

/* The exchange itself, inside the caller's transaction. */
static int code_exchange(sqlite3 *db, const struct oauth_settings *s,
			 const struct oauth_client *c, const char *hash, const char *redirect_uri,
			 const char *verifier, struct oauth_issued *out)
{
	char family[IVY_SECRET_MAX];
	struct code_row r;
	int rc = code_load(db, hash, &r);

	if (rc < 0)
		return OAUTH_SERVER_ERROR;
	if (rc == 1 || strcmp(r.client_id, c->id) != 0)
		return OAUTH_INVALID_GRANT;
	if (r.family[0]) {
		/* A second exchange: someone else may hold the code; void what it gave. */
		log_warn("oauth: authorization code reused, tokens revoked", "client=%s", c->id);
		return oauth_family_revoke(db, r.family) >= 0 ? OAUTH_REUSED : OAUTH_SERVER_ERROR;
	}
	if (r.expires_at <= clock_now() || redirect_uri == NULL ||
	    strcmp(redirect_uri, r.redirect_uri) != 0 ||
	    !oauth_pkce_s256_ok(verifier, r.challenge))
		return OAUTH_INVALID_GRANT;
	if ((rc = new_family(family)) != 0 || code_mark_used(db, hash, family) != 0)
		return OAUTH_SERVER_ERROR;
	return issue(db, s, c, r.account_id, r.user_id, r.scopes, family,
		     (c->grants & OAUTH_GRANT_REFRESH_TOKEN) != 0, out);
}

int oauth_grant_code(sqlite3 *db, const struct oauth_settings *s, const struct oauth_client *c,
		     const char *code, const char *redirect_uri, const char *verifier,
		     struct oauth_issued *out)
{
	char hash[IVY_HASH_HEX];
	int rc;

	if (!(c->grants & OAUTH_GRANT_AUTHORIZATION_CODE))
		return OAUTH_UNAUTHORIZED_CLIENT;
	if (code == NULL || code[0] == '\0' || verifier == NULL)
		return OAUTH_INVALID_REQUEST;
	secret_sha256_hex(code, hash);
	if (ivy_tx_begin(db) != 0)
		return OAUTH_SERVER_ERROR;
	rc = code_exchange(db, s, c, hash, redirect_uri, verifier, out);
	/* A detected reuse must stay revoked although the grant fails. */
	if (rc == OAUTH_INVALID_GRANT || rc == OAUTH_REUSED)
		return ivy_tx_end(db, 0) == 0 ? rc : OAUTH_SERVER_ERROR;
	return ivy_tx_end(db, rc) == 0 ? 0 : rc == 0 ? OAUTH_SERVER_ERROR : rc;
}

struct token_row {
	char kind;
	char client_id[IVY_SECRET_MAX];
	int64_t account_id, user_id, issued_at, expires_at;
	unsigned scopes;
	char family[IVY_SECRET_MAX];
	bool rotated, revoked;
	bool standing; /* client, user and every account up the tree are in good standing */
};

static int token_load(sqlite3 *db, const char *hash, struct token_row *r)
{
	static const char sql[] =
		"SELECT t.kind, t.client_id, t.account_id, t.user_id, t.scopes, t.issued_at,"
		" t.expires_at, t.family, t.rotated, t.revoked,"
		" c.revoked = 0 AND (t.user_id = 0 OR IFNULL(u.active, 0) = 1)"
		" AND NOT EXISTS (SELECT 1 FROM ivy_accounts b WHERE b.status IN"
		"  ('suspended', 'closed') AND substr(a.path, 1, length(b.path)) = b.path)"
		" FROM oauth_tokens t JOIN oauth_clients c ON c.id = t.client_id"
		" JOIN ivy_accounts a ON a.id = t.account_id"
		" LEFT JOIN ivy_users u ON u.id = t.user_id WHERE t.hash = ?1";
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("sql failed", "err=\"%s\"", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->kind = ((const char *)sqlite3_column_text(st, 0))[0];
		snprintf(r->client_id, sizeof(r->client_id), "%s", sqlite3_column_text(st, 1));
		r->account_id = sqlite3_column_int64(st, 2);
		r->user_id = sqlite3_column_int64(st, 3);
		r->scopes = (unsigned)sqlite3_column_int(st, 4);
		r->issued_at = sqlite3_column_int64(st, 5);
		r->expires_at = sqlite3_column_int64(st, 6);
		snprintf(r->family, sizeof(r->family), "%s", sqlite3_column_text(st, 7));
		r->rotated = sqlite3_column_int(st, 8) != 0;
		r->revoked = sqlite3_column_int(st, 9) != 0;
		r->standing = sqlite3_column_int(st, 10) != 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

static int token_mark_rotated(sqlite3 *db, const char *hash)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "UPDATE oauth_tokens SET rotated = 1 WHERE hash = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	return step_done(db, st);
}

static int refresh_rotate(sqlite3 *db, const struct oauth_settings *s,
			  const struct oauth_client *c, const char *hash, const char *scope,
			  struct oauth_issued *out)
{
	struct token_row r;
	unsigned scopes;
	int rc = token_load(db, hash, &r);

	if (rc < 0)
		return OAUTH_SERVER_ERROR;
	if (rc == 1 || r.kind != 'r' || strcmp(r.client_id, c->id) != 0 || r.revoked)
		return OAUTH_INVALID_GRANT;
	if (r.rotated) {
		log_warn("oauth: rotated refresh token reused, family revoked", "client=%s", c->id);
		return oauth_family_revoke(db, r.family) >= 0 ? OAUTH_REUSED : OAUTH_SERVER_ERROR;
	}
	if (r.expires_at <= clock_now() || !r.standing)
		return OAUTH_INVALID_GRANT;
	/* RFC 6749 6: the new scope may narrow the original grant, never widen it. */
	if ((rc = oauth_scope_grant(scope, r.scopes, &scopes)) != 0)
		return rc;
	if (token_mark_rotated(db, hash) != 0)
		return OAUTH_SERVER_ERROR;
	return issue(db, s, c, r.account_id, r.user_id, scopes, r.family, true, out);
}

int oauth_grant_refresh(sqlite3 *db, const struct oauth_settings *s,
			const struct oauth_client *c, const char *refresh, const char *scope,
			struct oauth_issued *out)
{
	char hash[IVY_HASH_HEX];
	int rc;

	if (!(c->grants & OAUTH_GRANT_REFRESH_TOKEN))
		return OAUTH_UNAUTHORIZED_CLIENT;
	if (refresh == NULL || refresh[0] == '\0')
		return OAUTH_INVALID_REQUEST;
	secret_sha256_hex(refresh, hash);
	if (ivy_tx_begin(db) != 0)
		return OAUTH_SERVER_ERROR;
	rc = refresh_rotate(db, s, c, hash, scope, out);
	if (rc == OAUTH_INVALID_GRANT || rc == OAUTH_REUSED || rc == OAUTH_INVALID_SCOPE)
		return ivy_tx_end(db, 0) == 0 ? rc : OAUTH_SERVER_ERROR;
	return ivy_tx_end(db, rc) == 0 ? 0 : rc == 0 ? OAUTH_SERVER_ERROR : rc;
}

/*
 * A signed access token still stands: its client is not revoked, its user
 * (if any) is active and on the same token generation, no account from the
 * top down to its own is suspended or closed, and neither the token (jti)
 * nor its family is in the revoked set. One query; the status index keeps
 * the suspended-account check to the suspended accounts.
 */
static int jwt_standing(sqlite3 *db, const struct ivy_jwt *j)
{
	static const char sql[] =
		"SELECT 1 FROM oauth_clients c JOIN ivy_accounts a ON a.id = ?2"
		" LEFT JOIN ivy_users u ON u.id = ?3 WHERE c.id = ?1 AND c.revoked = 0"
		" AND (?3 = 0 OR (u.active = 1 AND u.token_gen = ?4 AND u.account_id = ?2"
		"  AND u.created_at <= ?7))"
		" AND NOT EXISTS (SELECT 1 FROM ivy_accounts b WHERE b.status IN"
		"  ('suspended', 'closed') AND substr(a.path, 1, length(b.path)) = b.path)"
		" AND NOT EXISTS (SELECT 1 FROM oauth_revoked r"
		"  WHERE r.id IN ('j:' || ?5, 'f:' || ?6))";
	sqlite3_stmt *st;
	int rc;

	if (ivy_stmt_prepare(db, sql, &st) != 0) {
		log_error("sql failed", "err=\"%s\"", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, j->client_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, j->account_id);
	sqlite3_bind_int64(st, 3, j->user_id);
	sqlite3_bind_int64(st, 4, j->gen);
	sqlite3_bind_text(st, 5, j->jti, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, j->family, -1, SQLITE_STATIC);
	/* A user made after the token (a reused id) is not the one it was issued to. */
	sqlite3_bind_int64(st, 7, j->iat);
	rc = sqlite3_step(st);
	ivy_stmt_done(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

static int access_lookup(sqlite3 *db, const char *token, struct oauth_token_info *out)
{
	struct ivy_jwt j;
	int rc;

	if (ivy_jwt_verify(token, &j) != 0)
		return 1;
	if ((rc = jwt_standing(db, &j)) != 0)
		return rc;
	memset(out, 0, sizeof(*out));
	snprintf(out->client_id, sizeof(out->client_id), "%s", j.client_id);
	snprintf(out->jti, sizeof(out->jti), "%s", j.jti);
	out->account_id = j.account_id;
	out->user_id = j.user_id;
	out->scopes = j.scopes;
	out->issued_at = j.iat;
	out->expires_at = j.exp;
	return 0;
}

int oauth_token_lookup(sqlite3 *db, const char *token, struct oauth_token_info *out)
{
	char hash[IVY_HASH_HEX];
	struct token_row r;
	int rc;

	if (token == NULL)
		return 1;
	if (strncmp(token, "ivr_", 4) != 0)
		return access_lookup(db, token, out);
	if (strlen(token) > IVY_SECRET_MAX)
		return 1;
	secret_sha256_hex(token, hash);
	if ((rc = token_load(db, hash, &r)) != 0)
		return rc;
	if (r.revoked || r.rotated || !r.standing || r.expires_at <= clock_now())
		return 1;
	memset(out, 0, sizeof(*out));
	out->refresh = true;
	snprintf(out->client_id, sizeof(out->client_id), "%s", r.client_id);
	out->account_id = r.account_id;
	out->user_id = r.user_id;
	out->scopes = r.scopes;
	out->issued_at = r.issued_at;
	out->expires_at = r.expires_at;
	return 0;
}

int oauth_revoke(sqlite3 *db, const struct oauth_client *c, const char *token)
{
	char hash[IVY_HASH_HEX];
	struct token_row r;
	struct ivy_jwt j;
	int rc;

	if (strncmp(token, "ivr_", 4) != 0) {
		/* An access token: remember its jti until it would have expired anyway. */
		if (ivy_jwt_verify(token, &j) != 0 || strcmp(j.client_id, c->id) != 0)
			return 0; /* RFC 7009 2.1: invalid or not this client's; say nothing */
		return revoked_add(db, 'j', j.jti);
	}
	secret_sha256_hex(token, hash);
	if ((rc = token_load(db, hash, &r)) != 0)
		return rc < 0 ? -1 : 0;
	if (strcmp(r.client_id, c->id) != 0)
		return 0;
	return oauth_family_revoke(db, r.family);
}
