/* oauth.h - the OAuth 2.0 authorization server's logic (no HTTP here).
 *
 * Clients are confidential (they hold a secret, stored as its SHA-256) or
 * public (no secret; they must use the authorization-code grant with PKCE).
 * Each client belongs to an account and lists its redirect URIs, the grants
 * it may use and the scopes it may ask for.
 *
 * Access tokens are ES256-signed JWTs (jwt.h) that nothing is stored for.
 * Checking one verifies the signature and times, then one query checks it
 * still stands: client not revoked, user active on the same token generation,
 * no suspended account above it, its jti and family not in the revoked set.
 * So revocation and suspension take effect on the next request.
 * Refresh tokens ("ivr_") are opaque too, belong to a family started by the
 * grant that first issued one, and are rotated on every use: the used one is
 * marked rotated and a new pair is issued in the same family. Presenting a
 * rotated refresh token again revokes the whole family (RFC 6819 5.2.2.3);
 * so does presenting an authorization code twice (RFC 6749 4.1.2).
 */
#ifndef RINGER_IVY_OAUTH_H
#define RINGER_IVY_OAUTH_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ivy_store.h"

/* Scopes as bits; "read write admin" on the wire. */
enum oauth_scope { OAUTH_READ = 1, OAUTH_WRITE = 2, OAUTH_ADMIN = 4 };
#define OAUTH_ALL_SCOPES (OAUTH_READ | OAUTH_WRITE | OAUTH_ADMIN)

/* The longest access token lifetime ivy.access_ttl allows; revoked ids are kept this long. */
#define OAUTH_ACCESS_TTL_MAX 86400

/* Grants as bits; their RFC 6749 names on the wire. */
enum oauth_grant {
	OAUTH_GRANT_CLIENT_CREDENTIALS = 1,
	OAUTH_GRANT_AUTHORIZATION_CODE = 2,
	OAUTH_GRANT_REFRESH_TOKEN = 4,
	OAUTH_GRANT_PASSWORD = 8,
};

/* Outcomes, named after RFC 6749 section 5.2 error codes. */
enum oauth_err {
	OAUTH_OK = 0,
	OAUTH_INVALID_REQUEST = -1,
	OAUTH_INVALID_CLIENT = -2,
	OAUTH_INVALID_GRANT = -3,
	OAUTH_UNAUTHORIZED_CLIENT = -4,
	OAUTH_UNSUPPORTED_GRANT_TYPE = -5,
	OAUTH_INVALID_SCOPE = -6,
	OAUTH_SERVER_ERROR = -7,
	OAUTH_REUSED = -8, /* invalid_grant: a used code or rotated refresh token came back */
};

/* The RFC 6749 error code for e ("invalid_grant"). */
const char *oauth_err_name(int e);

/* Parse space-separated scopes; NULL or "" is 0. Returns 0, or -1 on an unknown one. */
int oauth_scope_parse(const char *s, unsigned *out);
void oauth_scope_format(unsigned scopes, char *out, size_t outlen);

/* Parse comma- or space-separated grant names. Returns 0, or -1 on an unknown one. */
int oauth_grants_parse(const char *s, unsigned *out);
void oauth_grants_format(unsigned grants, char *out, size_t outlen);

/* True if verifier (RFC 7636 section 4.1) hashes (S256) to challenge. */
bool oauth_pkce_s256_ok(const char *verifier, const char *challenge);

struct oauth_settings {
	unsigned access_ttl;  /* seconds an access token lives */
	unsigned refresh_ttl; /* seconds a refresh token lives */
	unsigned code_ttl;    /* seconds an authorization code lives */
};

struct oauth_client {
	char id[IVY_SECRET_MAX];
	bool confidential;
	int64_t account_id;
	char name[128];
	char redirect_uris[1024]; /* space-separated, matched exactly */
	unsigned grants;
	unsigned scopes;
	bool revoked;
	int64_t created_at;
};

/*
 * Register a client from c (id ignored). Fills c->id and, for a confidential
 * client, secret (shown once, never stored). A public client may not have
 * the client_credentials or password grant. Returns 0, OAUTH_INVALID_REQUEST
 * for a bad combination, or OAUTH_SERVER_ERROR.
 */
int oauth_client_create(sqlite3 *db, struct oauth_client *c, char secret[IVY_SECRET_MAX]);

/* Load a client. Returns 0, 1 when there is none, or -1. */
int oauth_client_get(sqlite3 *db, const char *id, struct oauth_client *out);

/* Revoke a client and every token it holds. Returns 0, 1 when there is none, or -1. */
int oauth_client_revoke(sqlite3 *db, const char *id);

/* Call fn for each client (revoked ones too), oldest first. Returns 0 or -1. */
int oauth_client_list(sqlite3 *db, void (*fn)(const struct oauth_client *, void *), void *arg);

/*
 * Authenticate a client: a confidential one by its secret, a public one by
 * presenting no secret. Returns 0 with *out, or OAUTH_INVALID_CLIENT.
 */
int oauth_client_auth(sqlite3 *db, const char *id, const char *secret,
		      struct oauth_client *out);

/* True if uri is one of the client's registered redirect URIs. */
bool oauth_client_redirect_ok(const struct oauth_client *c, const char *uri);

/* What a token endpoint answer carries. */
struct oauth_issued {
	char access_token[1024];            /* a JWT (jwt.h) */
	char refresh_token[IVY_SECRET_MAX]; /* "" when none was issued */
	unsigned expires_in;
	unsigned scopes;
};

/*
 * Scopes a grant gets: the requested ones (all the client may have when
 * none are asked for), which must be within allowed. Returns 0 or
 * OAUTH_INVALID_SCOPE.
 */
int oauth_scope_grant(const char *requested, unsigned allowed, unsigned *out);

/* client_credentials: an access token for the client's own account, no refresh token. */
int oauth_grant_client_credentials(sqlite3 *db, const struct oauth_settings *s,
				   const struct oauth_client *c, const char *scope,
				   struct oauth_issued *out);

/*
 * Issue tokens for a user the caller authenticated (password grant, or an
 * authorization code being exchanged). A refresh token comes with them when
 * the client may use the refresh_token grant.
 */
int oauth_issue_for_user(sqlite3 *db, const struct oauth_settings *s,
			 const struct oauth_client *c, int64_t account_id, int64_t user_id,
			 unsigned scopes, struct oauth_issued *out);

/*
 * Make an authorization code for a user who logged in at the authorize
 * endpoint. challenge is the S256 code_challenge (required). Returns 0 with
 * code, or an oauth_err.
 */
int oauth_code_create(sqlite3 *db, const struct oauth_settings *s,
		      const struct oauth_client *c, int64_t account_id, int64_t user_id,
		      const char *redirect_uri, unsigned scopes, const char *challenge,
		      char code[IVY_SECRET_MAX]);

/* authorization_code: exchange code (once) given redirect_uri and the PKCE verifier. */
int oauth_grant_code(sqlite3 *db, const struct oauth_settings *s, const struct oauth_client *c,
		     const char *code, const char *redirect_uri, const char *verifier,
		     struct oauth_issued *out);

/* refresh_token: rotate; a reused token revokes its family. scope may narrow, never widen. */
int oauth_grant_refresh(sqlite3 *db, const struct oauth_settings *s,
			const struct oauth_client *c, const char *refresh, const char *scope,
			struct oauth_issued *out);

/* What a presented token stands for. */
struct oauth_token_info {
	bool refresh;         /* a refresh token, not an access token */
	char client_id[IVY_SECRET_MAX];
	char jti[IVY_SECRET_MAX]; /* an access token's id; "" for a refresh token */
	int64_t account_id;
	int64_t user_id;      /* 0 for client_credentials */
	unsigned scopes;
	int64_t issued_at, expires_at;
};

/*
 * Look a token up. Returns 0 with *out when it is active (known, not
 * revoked, not rotated, not expired, its client and account in good
 * standing), 1 when it is not, or -1.
 */
int oauth_token_lookup(sqlite3 *db, const char *token, struct oauth_token_info *out);

/*
 * RFC 7009: revoke token if it belongs to client c. A refresh token takes its
 * family with it. Unknown tokens and other clients' tokens are ignored.
 * Returns 1 when a token was revoked now, 0 when it was ignored or revoked
 * before, -1 on error.
 */
int oauth_revoke(sqlite3 *db, const struct oauth_client *c, const char *token);

/*
 * Revoke every token of a family (reuse detection), access tokens too.
 * Returns 1, or 0 when it was revoked before; -1 on error.
 */
int oauth_family_revoke(sqlite3 *db, const char *family);

#endif
