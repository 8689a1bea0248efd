/* token_api.h - bearer-token authentication for handlers, and /api/v1/tokens.
 *
 * Database handles: a SQLite connection is never shared between threads
 * here. Each thread that authenticates gets its own connection to ringer.db,
 * opened on first use from the path token_api_mount() recorded and closed
 * when the thread exits (a pthread key destructor). Workers therefore never
 * wait on one another for a lookup; WAL lets them read while `ringer token`
 * writes.
 *
 * Token management over HTTP (all need scope "tokens:manage", answers are
 * SoaResponse JSON as in teliport.yaml):
 *   GET    /api/v1/tokens                  the caller's customer's tokens
 *   GET    /api/v1/tokens/{id}             one of them
 *   POST   /api/v1/tokens                  make one, never more than the caller has
 *   DELETE /api/v1/tokens/{id}             revoke
 *   POST   /api/v1/tokens/{id}/regenerate  new secret, same attributes
 * Another customer's token ids answer 404.
 */
#ifndef RINGER_AUTH_TOKEN_API_H
#define RINGER_AUTH_TOKEN_API_H

#include "../base/config.h"
#include "../http/http.h"
#include "token.h"

#define TOKEN_SCOPE_MANAGE "tokens:manage"

/*
 * Record cfg's ringer.db for the per-thread connections, bring the auth
 * tables up to date and add the /api/v1/tokens routes. Returns 0 or -1
 * after logging.
 */
int token_api_mount(struct http_router *r, const struct config *cfg);

/*
 * This thread's connection to ringer.db, opened on first use; NULL (logged)
 * before token_api_mount() or when it cannot be opened.
 */
sqlite3 *token_api_db(void);

/*
 * Close the calling thread's connection now. Worker threads need not: theirs
 * close when they exit. The main thread's (if it used one) does not, so
 * ringerd calls this on the way out.
 */
void token_api_db_close(void);

/*
 * Authenticate req: its bearer token, the client address against the token's
 * allowlist, the customer's rate limit, then scope (NULL = any scope). db
 * NULL means token_api_db(). Returns 0 with *out filled, or -1 with resp
 * holding the answer, rendered by the route's family (http_resp_error):
 *   401 UNAUTHORIZED (no, unknown, revoked or expired token; WWW-Authenticate),
 *   403 FORBIDDEN (address not on the token's list, or scope missing),
 *   429 RATE_LIMITED (with Retry-After seconds), 500 SERVER_ERROR.
 * Safe on any worker thread.
 */
int token_request_or_respond(const struct http_req *req, struct http_resp *resp, sqlite3 *db,
			     const char *scope, struct token_info *out);

/*
 * A SoaResponse error: {"status":"ERROR","message":msg,"errorCode":code,
 * "timestamp":...}, or the same as <SoaResponse> XML when fmt is HTTP_XML.
 * The /api/v1/tokens family renders its errors with it.
 */
void token_api_render_error(struct http_resp *resp, enum http_fmt fmt, unsigned status,
			    const char *code, const char *msg);

#endif
