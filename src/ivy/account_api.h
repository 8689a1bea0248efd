/* account_api.h - accounts, users, sign-up and passwords in the Ivy family.
 *
 * Contract routes: GET/PUT /v2/account, GET/POST /v2/users,
 * GET/PUT/DELETE /v2/users/{id}, POST /v2/sign-up, POST /v2/confirmation,
 * POST/PUT /v2/password. Ringer's own: GET/POST /v2/accounts,
 * GET /v2/accounts/{id}, POST /v2/accounts/{id}/suspend and /resume, and
 * GET /v2/audit. An id outside the caller's subtree answers 404.
 */
#ifndef RINGER_IVY_ACCOUNT_API_H
#define RINGER_IVY_ACCOUNT_API_H

#include "../http/http.h"

/* Add the routes above to r. Returns 0 or -1. */
int account_api_mount(struct http_router *r);

#endif
