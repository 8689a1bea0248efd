/* ops.c - /health and /ready for load balancers and orchestrators, /metrics for Prometheus. */
#include "ops.h"

#include <stdatomic.h>

#include "../auth/allow.h"
#include "../base/metrics.h"
#include "../base/text.h"
#include "../numdb/numdb.h"

static atomic_bool ready;

void ops_set_ready(bool r)
{
	atomic_store(&ready, r);
}

static void health(struct http_req *req, struct http_resp *resp)
{
	http_resp_json(resp, 200, json_pack("{s:s}", "status", "ok"));
}

static void readiness(struct http_req *req, struct http_resp *resp)
{
	struct numdb *g = numdb_acquire();
	struct numdb_stats st = { 0 };
	bool ok = atomic_load(&ready) && g != NULL;

	if (g)
		numdb_get_stats(g, &st);
	numdb_release(g);
	http_resp_json(resp, ok ? 200 : 503,
		       json_pack("{s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}", "status",
				 ok ? "ready" : "not ready", "data", "ported",
				 (json_int_t)st.ported, "blocks", (json_int_t)st.blocks,
				 "cocodes", (json_int_t)st.cocodes, "cnam", (json_int_t)st.cnam,
				 "dnc", (json_int_t)st.dnc, "dno", (json_int_t)st.dno,
				 "tollfree", (json_int_t)st.tollfree, "cpr",
				 (json_int_t)st.cpr));
}

static void metrics_text(struct http_req *req, struct http_resp *resp)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	if (metrics_render(&b) != 0) {
		buf_release(&b);
		http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error");
		return;
	}
	http_resp_set(resp, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "",
		      b.len);
	buf_release(&b);
}

/* Counters say how busy the server is and which upstreams fail: allowlisted clients only. */
static int metrics_admit(const struct http_req *req)
{
	return allow_live_check(req->client_ip) ? 0 : -1;
}

static const char *const prefixes[] = { "/health", "/ready", NULL };
static const char *const metrics_prefixes[] = { "/metrics", NULL };

static const struct http_family ops_family = {
	.name = "ops",
	.prefixes = prefixes,
};

static const struct http_family metrics_family = {
	.name = "metrics",
	.prefixes = metrics_prefixes,
	.admit = metrics_admit,
};

static const struct http_route routes[] = {
	{ "GET", "/health", HTTP_JSON, &ops_family, health, false },
	{ "GET", "/ready", HTTP_JSON, &ops_family, readiness, false },
	{ "GET", "/metrics", HTTP_TEXT, &metrics_family, metrics_text, false },
};

int ops_api_mount(struct http_router *r)
{
	if (http_router_add_family(r, &ops_family) != 0 ||
	    http_router_add_family(r, &metrics_family) != 0)
		return -1;
	return http_router_add(r, routes, sizeof(routes) / sizeof(routes[0]));
}
