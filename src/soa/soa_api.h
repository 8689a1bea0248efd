/* soa_api.h - the Portability API of teliport.yaml over HTTP, and its timers.
 *
 * Both path forms (/v1/lnp/soa/... and /api/v1/soa/...) answer SoaResponse
 * shapes. Every route needs a bearer token (auth/token_api.h): GETs the
 * scope "soa:read", POSTs "soa:write". A port whose SPIDs the token may not
 * act for answers 404, as if it did not exist.
 */
#ifndef RINGER_SOA_SOA_API_H
#define RINGER_SOA_SOA_API_H

#include "../base/config.h"
#include "../http/http.h"

#define SOA_SCOPE_READ "soa:read"
#define SOA_SCOPE_WRITE "soa:write"

/*
 * Read the [soa] settings, bring the soa tables up to date, add the routes
 * and start the scheduler thread. Call after token_api_mount(). Returns 0 or
 * -1 after logging.
 */
int soa_api_mount(struct http_router *r, const struct config *cfg);

/* Stop the scheduler and release the module (after the server stopped). */
void soa_api_shutdown(void);

#endif
