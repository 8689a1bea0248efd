/* stirshaken_api.h - STIR/SHAKEN over HTTP, in the Telique family.
 *
 * POST /v1/telique/stirshaken/validate  verify a PASSporT (telique.yaml)
 * POST /v1/telique/stirshaken/sign      sign one with the configured key
 * docs/stirshaken.md describes both.
 */
#ifndef RINGER_TELIQUE_STIRSHAKEN_API_H
#define RINGER_TELIQUE_STIRSHAKEN_API_H

#include "../base/config.h"
#include "../http/http.h"

/*
 * Build the verifier (and the signer when [stirshaken] sign_key is set) from
 * cfg and add the routes to r. Call once, before serving. Returns 0, or -1
 * after logging why (unreadable trust anchors or key, a bad fetch_allow).
 */
int stirshaken_api_mount(struct http_router *r, const struct config *cfg);

/* Free what stirshaken_api_mount() built, after the server stopped. */
void stirshaken_api_shutdown(void);

#endif
