/* lsms_api.h - ported-number data over HTTP: store statistics and the LSMS
 * relationship lists, admitted like every Telique route (source allowlist). */
#ifndef RINGER_TELIQUE_LSMS_API_H
#define RINGER_TELIQUE_LSMS_API_H

#include "../http/http.h"

/* Add GET /api/v1/data/stats and GET /v1/lsms/list/{field}. Returns 0 or -1. */
int lsms_api_mount(struct http_router *r);

#endif
