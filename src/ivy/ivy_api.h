/* ivy_api.h - what the Ivy Business routes (/v2/...) share.
 *
 * The Ivy family renders errors as the contract does ({status, error,
 * error_code}); the token endpoints render RFC 6749 5.2 errors themselves.
 * Each worker thread keeps its own connection to ringer.db. A request is
 * authorised by ivy_authorize(): a bearer access token, the permission the
 * operation needs in the caller's role (ivy_role_perms), and the OAuth scope
 * that permission needs (ivy_perm_scope).
 */
#ifndef RINGER_IVY_IVY_API_H
#define RINGER_IVY_IVY_API_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>

#include "../base/config.h"
#include "../http/http.h"
#include "account.h"
#include "oauth.h"

struct ivy_settings {
	struct oauth_settings oauth;
	struct login_policy login;
	unsigned confirm_ttl;  /* seconds a sign-up confirmation token lives */
	unsigned reset_ttl;    /* seconds a password reset token lives */
	bool reveal_tokens;    /* put reset tokens in responses (no mail yet) */
	int64_t signup_parent; /* account sign-ups are created under; 0 = top level */
};

const struct http_family *ivy_family(void);
const struct ivy_settings *ivy_settings(void);

/* This thread's ringer.db connection, or NULL after logging. */
sqlite3 *ivy_db(void);

/*
 * The request body as a JSON object: a JSON body as it is, a form body
 * (application/x-www-form-urlencoded) as an object of strings. NULL when it
 * cannot be read (the caller answers 400). Release with json_decref.
 */
json_t *ivy_body(const struct http_req *req);

/* A string member of o, or NULL when it is absent or not a string. */
const char *ivy_str(const json_t *o, const char *key);

/* The authenticated caller of an operation. */
struct ivy_caller {
	struct oauth_token_info tok;
	struct ivy_account account; /* the token's account */
	struct ivy_user user;       /* valid when tok.user_id != 0 */
	unsigned perms;             /* what the role allows (everything for a client) */
	struct ivy_actor actor;     /* for the audit trail */
};

/*
 * Authenticate the bearer token and require perm. Returns 0 with *out, or -1
 * with resp set to 401 (no valid token), 403 (role or scope lacks perm) or 500.
 */
int ivy_authorize(const struct http_req *req, struct http_resp *resp, unsigned perm,
		  struct ivy_caller *out);

/* True if the caller's role and token allow perm too. */
bool ivy_caller_may(const struct ivy_caller *c, unsigned perm);

/* An actor for an unauthenticated request (sign-up, token endpoint). */
void ivy_actor_anon(const struct http_req *req, const char *who, int64_t account_id,
		    struct ivy_actor *out);

/*
 * Send resp (already filled) only once an audit row for it has committed,
 * without holding the worker while the row waits for the group commit. When
 * the row cannot be written the client gets failed instead (taken over;
 * NULL = a 500 in the Ivy shape): no answer leaves unrecorded. db must have
 * no transaction open.
 */
void ivy_answer_audited(sqlite3 *db, struct http_req *req, struct http_resp *resp,
			struct http_resp *failed,
			const struct ivy_actor *who, const char *action, const char *target,
			int64_t account_id, const char *detail);

/* Answer 500 after a store failure. */
void ivy_server_error(const struct http_req *req, struct http_resp *resp);

/*
 * Open the Ivy tables in ringer.db under cfg's data directory, read the
 * [ivy] settings and add every /v2 route. Returns 0, or -1 after logging.
 */
int ivy_api_mount(struct http_router *r, const struct config *cfg);

/* Release what ivy_api_mount() set up, after the server stopped. */
void ivy_api_shutdown(void);

#endif
