/* cnam.c - the CNAM lookup path and its counters. */
#include "cnam.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/metrics.h"
#include "../base/tn.h"
#include "cnam_cache.h"
#include "cnam_redis.h"
#include "cnam_source.h"

struct service {
	struct cnam_source *local;
	struct cnam_source *up[CONFIG_CNAM_UPSTREAMS + 1]; /* NULL-terminated */
	struct cnam_source *named[CONFIG_CNAM_UPSTREAMS + 2]; /* local + upstreams, for routes */
	struct cnam_routes *routes;
	struct cnam_cache *cache;
	struct cnam_redis *redis;
	int64_t ttl_ms, negative_ttl_ms;
};

static struct service *svc;

/* ---- counters ---- */

static struct metric m_lookups = METRIC_COUNTER_INIT(
	"ringer_cnam_lookups_total", "CNAM lookups answered or failed");
static struct metric m_local = METRIC_COUNTER_INIT(
	"ringer_cnam_local_answers_total", "CNAM lookups answered from local data or routed local");
static struct metric m_hits = METRIC_COUNTER_INIT(
	"ringer_cnam_cache_hits_total", "CNAM lookups answered by a fresh cached answer");
static struct metric m_misses = METRIC_COUNTER_INIT(
	"ringer_cnam_cache_misses_total", "CNAM lookups the cache could not answer fresh");
static struct metric m_shared = METRIC_COUNTER_INIT(
	"ringer_cnam_singleflight_waits_total", "CNAM misses that waited on a dip in flight");
static struct metric m_stale = METRIC_COUNTER_INIT(
	"ringer_cnam_stale_answers_total", "Expired CNAM answers served because a dip failed");
static struct metric m_failures = METRIC_COUNTER_INIT(
	"ringer_cnam_failures_total", "CNAM lookups failed: network down and nothing cached");
static struct metric m_up_requests = METRIC_COUNTER_INIT(
	"ringer_cnam_upstream_requests_total", "CNAM dips sent to an upstream");
static struct metric m_up_errors = METRIC_COUNTER_INIT(
	"ringer_cnam_upstream_errors_total", "CNAM dips that failed or answered unreadably");
static struct metric m_up_latency = METRIC_HISTOGRAM_INIT(
	"ringer_cnam_upstream_latency_seconds", "Time a CNAM dip took, failures included");
static struct metric m_redis_hits = METRIC_COUNTER_INIT(
	"ringer_cnam_redis_hits_total", "CNAM misses answered by the shared Redis cache");
static struct metric m_redis_errors = METRIC_COUNTER_INIT(
	"ringer_cnam_redis_errors_total", "Redis commands that failed or timed out");
static struct metric m_entries = METRIC_GAUGE_INIT(
	"ringer_cnam_cache_entries", "CNAM answers held in this node's cache");

static void metrics_setup(void)
{
	struct metric *all[] = {
		&m_lookups, &m_local, &m_hits, &m_misses, &m_shared, &m_stale, &m_failures,
		&m_up_requests, &m_up_errors, &m_up_latency, &m_redis_hits, &m_redis_errors,
		&m_entries,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		metrics_register(all[i]);
}

/* ---- the fill: Redis, then the upstream ---- */

struct fill_ctx {
	struct service *s;
	struct cnam_source *src;
};

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int shared_get(struct service *s, uint64_t tn, struct cnam_fill *out)
{
	int rc = cnam_redis_get(s->redis, tn, &out->v, &out->expires_ms);

	if (rc < 0)
		metrics_add(&m_redis_errors, 1);
	else if (rc == 0)
		metrics_add(&m_redis_hits, 1);
	return rc;
}

static int fill(void *ctx, uint64_t tn, struct cnam_fill *out)
{
	struct fill_ctx *fc = ctx;
	struct service *s = fc->s;
	struct cnam_value v;
	int64_t t0, exp;
	int rc;

	if (s->redis && shared_get(s, tn, out) == 0)
		return 0;
	t0 = mono_us();
	rc = cnam_source_fetch(fc->src, NULL, tn, &v);
	metrics_observe_us(&m_up_latency, (uint64_t)(mono_us() - t0));
	metrics_add(&m_up_requests, 1);
	if (rc != 0) {
		metrics_add(&m_up_errors, 1);
		return rc;
	}
	out->v = v;
	out->expires_ms = 0;
	out->dipped = true;
	exp = clock_now_ms() + (v.available ? s->ttl_ms : s->negative_ttl_ms);
	if (s->redis && cnam_redis_set(s->redis, tn, &v, exp) != 0)
		metrics_add(&m_redis_errors, 1);
	return 0;
}

/* ---- lookups ---- */

static void answer_from(const struct cnam_value *v, struct cnam_answer *out)
{
	out->available = v->available;
	out->restricted = v->restricted;
	memcpy(out->name, v->name, sizeof(out->name));
}

/* Subscriber numbers stay out of logs: the area code and the last two digits say enough. */
static void tn_masked(uint64_t tn, char out[TN_STR_LEN + 1])
{
	tn_format(tn, out);
	memset(out + 3, '*', TN_STR_LEN - 5);
}

static void count_origin(const struct cnam_lookup *lk, const struct cnam_source *src,
			 uint64_t tn)
{
	char masked[TN_STR_LEN + 1];

	if (lk->origin == CNAM_HIT) {
		metrics_add(&m_hits, 1);
		return;
	}
	metrics_add(&m_misses, 1);
	if (lk->origin == CNAM_SHARED)
		metrics_add(&m_shared, 1);
	if (lk->origin == CNAM_STALE) {
		metrics_add(&m_stale, 1);
		tn_masked(tn, masked);
		log_warn("cnam stale answer served", "upstream=%s tn=%s",
			 cnam_source_name(src), masked);
	}
}

static int network_lookup(struct service *s, struct cnam_source *src, uint64_t tn,
			  struct cnam_answer *out, bool *cache_hit)
{
	struct fill_ctx fc = { s, src };
	struct cnam_lookup lk;
	int rc = cnam_cache_get(s->cache, tn, fill, &fc, &lk);

	metrics_set(&m_entries, (int64_t)cnam_cache_count(s->cache));
	if (rc != 0) {
		metrics_add(&m_misses, 1);
		metrics_add(&m_failures, 1);
		return -1;
	}
	count_origin(&lk, src, tn);
	answer_from(&lk.v, out);
	/* A stale answer followed a dip that was tried; only an answer no dip touched is a hit. */
	*cache_hit = !lk.dipped;
	return 0;
}

int cnam_lookup(const struct numdb *g, uint64_t tn, struct cnam_answer *out, bool *cache_hit)
{
	struct service *s = svc;
	struct cnam_source *src = NULL;
	struct cnam_answer local;
	struct lrn_answer lrn;

	metrics_add(&m_lookups, 1);
	telique_cnam(g, tn, &local);
	if (!local.available && s != NULL) {
		numdb_lrn(g, tn, &lrn);
		src = cnam_routes_pick(s->routes, tn, &lrn);
	}
	if (src == NULL || cnam_source_is_local(src)) {
		/* Our own data answers, or has no name and the route says not to dip. */
		metrics_add(&m_local, 1);
		*out = local;
		*cache_hit = true;
		return 0;
	}
	return network_lookup(s, src, tn, out, cache_hit);
}

long cnam_purge(uint64_t tn, long *shared)
{
	struct service *s = svc;
	long n;

	*shared = 0;
	if (s == NULL)
		return 0;
	n = tn ? cnam_cache_purge(s->cache, tn) : (long)cnam_cache_purge_all(s->cache);
	metrics_set(&m_entries, (int64_t)cnam_cache_count(s->cache));
	if (s->redis)
		*shared = cnam_redis_purge(s->redis, tn);
	if (s->redis && *shared < 0)
		metrics_add(&m_redis_errors, 1);
	log_info("cnam cache purged", "scope=%s local=%ld shared=%ld", tn ? "one" : "all", n,
		 *shared);
	return n;
}

/* ---- set-up ---- */

static int make_sources(struct service *s, const struct config *cfg, char *err, size_t errlen)
{
	size_t n = 0;

	s->local = cnam_source_local_new();
	if (s->local == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->named[0] = s->local;
	for (int i = 0; i < CONFIG_CNAM_UPSTREAMS; i++) {
		const struct config_cnam_upstream *u = &cfg->cnam_up[i];
		struct cnam_http_conf hc = {
			u->name, u->url, u->field, u->presentation_field, u->auth_header,
			cfg->cnam_timeout_ms,
		};

		if (u->url[0] == '\0')
			continue;
		if (strcmp(u->name, "local") == 0) {
			snprintf(err, errlen, "cnam upstream %d: \"local\" names the local data",
				 i + 1);
			return -1;
		}
		if ((s->up[n] = cnam_source_http_new(&hc, err, errlen)) == NULL)
			return -1;
		s->named[n + 1] = s->up[n];
		n++;
	}
	return 0;
}

static int make_cache(struct service *s, const struct config *cfg, char *err, size_t errlen)
{
	struct cnam_cache_opts o = {
		.entries = cfg->cnam_cache_entries,
		.ttl_ms = (int64_t)cfg->cnam_ttl * 1000,
		.negative_ttl_ms = (int64_t)cfg->cnam_negative_ttl * 1000,
		.stale_ms = (int64_t)cfg->cnam_stale_ttl * 1000,
		/* A waiter outlasts the fill it joined: two Redis commands and the dip. */
		.wait_ms = cfg->cnam_timeout_ms + 2 * cfg->cnam_redis_timeout_ms + 250,
	};

	s->ttl_ms = o.ttl_ms;
	s->negative_ttl_ms = o.negative_ttl_ms;
	s->cache = cnam_cache_new(&o);
	if (s->cache == NULL) {
		snprintf(err, errlen, "cnam cache: out of memory");
		return -1;
	}
	if (cfg->cnam_redis[0] == '\0')
		return 0;
	s->redis = cnam_redis_new(cfg->cnam_redis, cfg->cnam_redis_timeout_ms, err, errlen);
	return s->redis ? 0 : -1;
}

static void service_free(struct service *s)
{
	if (s == NULL)
		return;
	cnam_redis_free(s->redis);
	cnam_cache_free(s->cache);
	cnam_routes_free(s->routes);
	for (size_t i = 0; s->up[i]; i++)
		cnam_source_free(s->up[i]);
	cnam_source_free(s->local);
	free(s);
}

int cnam_init(const struct config *cfg, char *err, size_t errlen)
{
	struct service *s = calloc(1, sizeof(*s));

	metrics_setup();
	if (s == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "cnam: cannot initialise");
		free(s);
		return -1;
	}
	/* With no "*" rule, numbers go to the first upstream, or nowhere but local data. */
	if (make_sources(s, cfg, err, errlen) != 0 ||
	    cnam_routes_parse(cfg->cnam_routes, s->named, s->up[0] ? s->up[0] : s->local,
			      &s->routes, err, errlen) != 0 ||
	    make_cache(s, cfg, err, errlen) != 0) {
		service_free(s);
		curl_global_cleanup();
		return -1;
	}
	svc = s;
	return 0;
}

void cnam_shutdown(void)
{
	if (svc == NULL)
		return;
	service_free(svc);
	svc = NULL;
	curl_global_cleanup();
}
