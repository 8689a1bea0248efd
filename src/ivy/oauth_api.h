/* oauth_api.h - the OAuth 2.0 endpoints of the Ivy family.
 *
 * POST /v2/oauth/token       RFC 6749: client_credentials, password,
 *                            authorization_code (PKCE S256), refresh_token
 * POST /v2/oauth/revoke      RFC 7009 (204, as the contract says)
 * POST /v2/oauth/introspect  RFC 7662
 * GET  /v2/oauth/authorize   the login page of the authorization-code flow
 * POST /v2/oauth/authorize   its form: log in, then redirect with a code
 * Bodies are JSON or application/x-www-form-urlencoded; clients authenticate
 * with HTTP Basic or client_id/client_secret in the body. docs/ivy.md.
 */
#ifndef RINGER_IVY_OAUTH_API_H
#define RINGER_IVY_OAUTH_API_H

#include "../http/http.h"

/* Add the routes above to r. Returns 0 or -1. */
int oauth_api_mount(struct http_router *r);

#endif
