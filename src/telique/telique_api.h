/* telique_api.h - mounting the Telique routes on a router. */
#ifndef RINGER_TELIQUE_TELIQUE_API_H
#define RINGER_TELIQUE_TELIQUE_API_H

#include "../http/http.h"

/*
 * The Telique family: its error shapes and its admission by allowlist. Other
 * Telique modules (STIR/SHAKEN, ...) put their routes in it.
 */
const struct http_family *telique_family(void);

/* Add every Telique route and the family that renders its errors. Returns 0 or -1. */
int telique_api_mount(struct http_router *r);

#endif
