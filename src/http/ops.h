/* ops.h - operations endpoints: /health (alive), /ready (serving data), /metrics. */
#ifndef RINGER_HTTP_OPS_H
#define RINGER_HTTP_OPS_H

#include <stdbool.h>

#include "http.h"

/* Mount /health, /ready and /metrics. Returns 0 or -1. */
int ops_api_mount(struct http_router *r);

/* Tell /ready whether the server can answer (data loaded, databases open). */
void ops_set_ready(bool ready);

#endif
