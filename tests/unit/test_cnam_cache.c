/* test_cnam_cache.c - the CNAM cache: LRU, TTLs, stale answers, single-flight, purge;
 * the name rules and the metrics rendering it reports through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/metrics.h"
#include "telique/cnam_cache.h"
#include "telique/telique.h"

#define T0 1717426800 /* 2024-06-03T15:00:00Z */
#define TTL_S 60
#define NEG_TTL_S 10
#define STALE_S 300

/* A fill that names a number after its last four digits, or fails on demand. */
struct fake {
	atomic_int calls;
	atomic_bool fail;
	int sleep_ms;
	uint64_t no_name; /* this number has no name */
	int64_t expires_ms;
};

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int fake_fill(void *ctx, uint64_t tn, struct cnam_fill *out)
{
	struct fake *f = ctx;

	atomic_fetch_add(&f->calls, 1);
	if (f->sleep_ms)
		sleep_ms(f->sleep_ms);
	if (atomic_load(&f->fail))
		return -1;
	out->v.available = tn != f->no_name;
	if (out->v.available)
		snprintf(out->v.name, sizeof(out->v.name), "NAME %04u", (unsigned)(tn % 10000));
	out->dipped = true;
	out->expires_ms = f->expires_ms;
	return 0;
}

static struct cnam_cache *cache_with(size_t entries, unsigned wait_ms)
{
	struct cnam_cache_opts o = {
		.entries = entries, .ttl_ms = TTL_S * 1000, .negative_ttl_ms = NEG_TTL_S * 1000,
		.stale_ms = STALE_S * 1000, .wait_ms = wait_ms,
	};
	struct cnam_cache *c = cnam_cache_new(&o);

	assert_non_null(c);
	clock_start_at(T0);
	return c;
}

/* Get tn and check where the answer came from. */
static struct cnam_lookup get_ok(struct cnam_cache *c, struct fake *f, uint64_t tn,
				 enum cnam_origin want)
{
	struct cnam_lookup lk;

	assert_int_equal(cnam_cache_get(c, tn, fake_fill, f, &lk), 0);
	if (lk.origin != want)
		fail_msg("%llu: origin %d, want %d", (unsigned long long)tn, lk.origin, want);
	return lk;
}

static void test_cnam_cache__miss_fills_then_hits(void **state)
{
	struct cnam_cache *c = cache_with(10, 1000);
	struct fake f = { .calls = 0 };
	struct cnam_lookup lk;

	lk = get_ok(c, &f, 3035551234, CNAM_FILLED);
	assert_true(lk.dipped);
	assert_true(lk.v.available);
	assert_string_equal(lk.v.name, "NAME 1234");
	lk = get_ok(c, &f, 3035551234, CNAM_HIT);
	assert_false(lk.dipped);
	assert_string_equal(lk.v.name, "NAME 1234");
	assert_int_equal(atomic_load(&f.calls), 1);
	assert_int_equal(cnam_cache_count(c), 1);
	cnam_cache_free(c);
	clock_reset();
}

static void test_cnam_cache__lru_evicts_least_recent(void **state)
{
	struct cnam_cache *c = cache_with(3, 1000);
	struct fake f = { .calls = 0 };

	get_ok(c, &f, 2025550001, CNAM_FILLED);
	get_ok(c, &f, 2025550002, CNAM_FILLED);
	get_ok(c, &f, 2025550003, CNAM_FILLED);
	get_ok(c, &f, 2025550001, CNAM_HIT); /* now 0002 is the coldest */
	get_ok(c, &f, 2025550004, CNAM_FILLED);
	assert_int_equal(cnam_cache_count(c), 3);
	get_ok(c, &f, 2025550001, CNAM_HIT);
	get_ok(c, &f, 2025550003, CNAM_HIT);
	get_ok(c, &f, 2025550004, CNAM_HIT);
	get_ok(c, &f, 2025550002, CNAM_FILLED); /* evicted: dipped again, evicting 0001 */
	get_ok(c, &f, 2025550001, CNAM_FILLED);
	assert_int_equal(atomic_load(&f.calls), 6);
	assert_int_equal(cnam_cache_count(c), 3);
	cnam_cache_free(c);
	clock_reset();
}

static void test_cnam_cache__name_ttl_follows_clock(void **state)
{
	struct cnam_cache *c = cache_with(10, 1000);
	struct fake f = { .calls = 0 };

	get_ok(c, &f, 3035551000, CNAM_FILLED);
	clock_start_at(T0 + TTL_S - 2);
	get_ok(c, &f, 3035551000, CNAM_HIT);
	clock_start_at(T0 + TTL_S + 1);
	get_ok(c, &f, 3035551000, CNAM_FILLED);
	assert_int_equal(atomic_load(&f.calls), 2);
	cnam_cache_free(c);
	clock_reset();
}

static void test_cnam_cache__no_name_has_shorter_ttl(void **state)
{
	struct cnam_cache *c = cache_with(10, 1000);
	struct fake f = { .no_name = 3035550000 };
	struct cnam_lookup lk;

	lk = get_ok(c, &f, 3035550000, CNAM_FILLED);
	assert_false(lk.v.available);
	assert_string_equal(lk.v.name, "");
	get_ok(c, &f, 3035559999, CNAM_FILLED);
	clock_start_at(T0 + NEG_TTL_S - 2);
	get_ok(c, &f, 3035550000, CNAM_HIT);
	clock_start_at(T0 + NEG_TTL_S + 1);
	get_ok(c, &f, 3035550000, CNAM_FILLED);
	get_ok(c, &f, 3035559999, CNAM_HIT);
	assert_int_equal(atomic_load(&f.calls), 3);
	cnam_cache_free(c);
	clock_reset();
}

static void test_cnam_cache__fill_expiry_can_only_shorten(void **state)
{
	struct cnam_cache *c = cache_with(10, 1000);
	struct fake f = { .expires_ms = (int64_t)(T0 + 5) * 1000 };

	get_ok(c, &f, 3035551000, CNAM_FILLED);
	clock_start_at(T0 + 6);
	get_ok(c, &f, 3035551000, CNAM_FILLED);
	/* An expiry past our own TTL is cut to the TTL. */
	f.expires_ms = (int64_t)(T0 + 10 * TTL_S) * 1000;
	get_ok(c, &f, 3035552000, CNAM_FILLED);
	clock_start_at(T0 + 6 + TTL_S + 1);
	get_ok(c, &f, 3035552000, CNAM_FILLED);
	assert_int_equal(atomic_load(&f.calls), 4);
	cnam_cache_free(c);
	clock_reset();
}

static void test_cnam_cache__stale_answer_when_fill_fails(void **state)
{
	struct cnam_cache *c = cache_with(10, 1000);
	struct fake f = { .calls = 0 };
	struct cnam_lookup lk;

	get_ok(c, &f, 3035551000, CNAM_FILLED);
	atomic_store(&f.fail, true);
	clock_start_at(T0 + TTL_S + 1);
	lk = get_ok(c, &f, 3035551000, CNAM_STALE);
	assert_true(lk.dipped);
	assert_string_equal(lk.v.name, "NAME 1000");
	/* Still expired: every lookup tries the network again before standing in. */
	get_ok(c, &f, 3035551000, CNAM_STALE);
	assert_int_equal(atomic_load(&f.calls), 3);
	/* Past the stale window nothing stands in, and the dead answer is dropped. */
	clock_start_at(T0 + TTL_S + STALE_S + 1);
	assert_int_equal(cnam_cache_get(c, 3035551000, fake_fill, &f, &lk), CNAM_CACHE_FAILED);
	assert_int_equal(cnam_cache_count(c), 0);
	/* The network back: a fresh answer. */
	atomic_store(&f.fail, false);
	get_ok(c, &f, 3035551000, CNAM_FILLED);
	cnam_cache_free(c);
	clock_reset();
}

static void test_cnam_cache__failure_with_nothing_cached(void **state)
{
	struct cnam_cache *c = cache_with(10, 1000);
	struct fake f = { .calls = 0 };
	struct cnam_lookup lk = { .origin = CNAM_HIT, .v.name = "UNTOUCHED" };

	atomic_store(&f.fail, true);
	assert_int_equal(cnam_cache_get(c, 3035551000, fake_fill, &f, &lk), CNAM_CACHE_FAILED);
	assert_string_equal(lk.v.name, "UNTOUCHED");
	assert_int_equal(cnam_cache_count(c), 0);
	assert_int_equal(cnam_cache_get(c, 3035551000, fake_fill, &f, &lk), CNAM_CACHE_FAILED);
	assert_int_equal(atomic_load(&f.calls), 2);
	cnam_cache_free(c);
	clock_reset();
}

/* ---- single-flight ---- */

#define FLIGHT_THREADS 64

struct racer {
	struct cnam_cache *c;
	struct fake *f;
	pthread_barrier_t *start;
	int rc;
	struct cnam_lookup lk;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->start);
	r->rc = cnam_cache_get(r->c, 7205551234, fake_fill, r->f, &r->lk);
	return NULL;
}

static void run_racers(struct cnam_cache *c, struct fake *f, struct racer *r, size_t n)
{
	pthread_t t[FLIGHT_THREADS];
	pthread_barrier_t start;

	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (size_t i = 0; i < n; i++) {
		r[i] = (struct racer){ .c = c, .f = f, .start = &start };
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (size_t i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
}

static void test_cnam_cache__single_flight_one_fill(void **state)
{
	struct cnam_cache *c = cache_with(10, 5000);
	struct fake f = { .sleep_ms = 300 };
	struct racer r[FLIGHT_THREADS];
	int filled = 0, shared = 0;

	run_racers(c, &f, r, FLIGHT_THREADS);
	assert_int_equal(atomic_load(&f.calls), 1);
	for (size_t i = 0; i < FLIGHT_THREADS; i++) {
		assert_int_equal(r[i].rc, 0);
		assert_string_equal(r[i].lk.v.name, "NAME 1234");
		filled += r[i].lk.origin == CNAM_FILLED;
		shared += r[i].lk.origin == CNAM_SHARED;
	}
	assert_int_equal(filled, 1);
	assert_int_equal(shared, FLIGHT_THREADS - 1);
	cnam_cache_free(c);
	clock_reset();
}

static void test_cnam_cache__single_flight_failure_shared(void **state)
{
	struct cnam_cache *c = cache_with(10, 5000);
	struct fake f = { .sleep_ms = 200 };
	struct racer r[8];

	atomic_store(&f.fail, true);
	run_racers(c, &f, r, 8);
	assert_int_equal(atomic_load(&f.calls), 1);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(r[i].rc, CNAM_CACHE_FAILED);
	cnam_cache_free(c);
	clock_reset();
}

static void test_cnam_cache__waiter_is_bounded(void **state)
{
	struct cnam_cache *c = cache_with(10, 50);
	struct fake f = { .sleep_ms = 600 };
	struct racer r[2];
	int timeouts = 0, filled = 0;

	run_racers(c, &f, r, 2);
	for (size_t i = 0; i < 2; i++) {
		timeouts += r[i].rc == CNAM_CACHE_TIMEOUT;
		filled += r[i].rc == 0 && r[i].lk.origin == CNAM_FILLED;
	}
	assert_int_equal(filled, 1);
	assert_int_equal(timeouts, 1);
	assert_int_equal(atomic_load(&f.calls), 1);
	cnam_cache_free(c);
	clock_reset();
}

static void test_cnam_cache__purge(void **state)
{
	struct cnam_cache *c = cache_with(10, 1000);
	struct fake f = { .calls = 0 };

	get_ok(c, &f, 3035551000, CNAM_FILLED);
	get_ok(c, &f, 3035551001, CNAM_FILLED);
	get_ok(c, &f, 3035551002, CNAM_FILLED);
	assert_int_equal(cnam_cache_purge(c, 3035551000), 1);
	assert_int_equal(cnam_cache_purge(c, 3035551000), 0);
	get_ok(c, &f, 3035551000, CNAM_FILLED);
	get_ok(c, &f, 3035551001, CNAM_HIT);
	assert_int_equal(cnam_cache_purge_all(c), 3);
	assert_int_equal(cnam_cache_count(c), 0);
	get_ok(c, &f, 3035551001, CNAM_FILLED);
	assert_int_equal(atomic_load(&f.calls), 5);
	cnam_cache_free(c);
	clock_reset();
}

/* ---- name rules ---- */

static void expect_clean(const char *in, size_t len, const char *want)
{
	char out[16];
	size_t n = telique_cnam_clean(in, len, out);

	if (strcmp(out, want) != 0 || n != strlen(want))
		fail_msg("clean(\"%.*s\") = \"%s\" (%zu), want \"%s\"", (int)len, in, out, n, want);
}

static void test_cnam_clean__rules(void **state)
{
	static const char nul[] = "AB\0CD";

	expect_clean("ACME CORP", 9, "ACME CORP");
	expect_clean("  ACME\t\tCORP \r\n", 15, "ACME CORP");
	expect_clean("ABCDEFGHIJKLMNOPQRST", 20, "ABCDEFGHIJKLMNO");
	expect_clean("ABCDEFGHIJKLMN OPQ", 18, "ABCDEFGHIJKLMN");
	expect_clean("JOS\xc3\x89 GARC\xc3\x8d" "A", 13, "JOS GARCA");
	expect_clean(nul, 5, "ABCD");
	expect_clean("\x01\x7f\x80", 3, "");
	expect_clean("   ", 3, "");
	expect_clean("A \x80 B", 5, "A B");
}

/* ---- metrics ---- */

static void test_metrics__render(void **state)
{
	static struct metric hits = METRIC_COUNTER_INIT("t_hits_total", "hits");
	static struct metric lat = METRIC_HISTOGRAM_INIT("t_latency_seconds", "latency");
	struct buf b;

	metrics_register(&hits);
	metrics_register(&hits);
	metrics_register(&lat);
	metrics_add(&hits, 3);
	metrics_observe_us(&lat, 3000);   /* 5 ms bucket */
	metrics_observe_us(&lat, 200000); /* 250 ms bucket */
	buf_init(&b, 1 << 16);
	assert_int_equal(metrics_render(&b), 0);
	assert_non_null(strstr(b.data, "# TYPE t_hits_total counter\nt_hits_total 3\n"));
	assert_non_null(strstr(b.data, "t_latency_seconds_bucket{le=\"0.001\"} 0\n"));
	assert_non_null(strstr(b.data, "t_latency_seconds_bucket{le=\"0.005\"} 1\n"));
	assert_non_null(strstr(b.data, "t_latency_seconds_bucket{le=\"0.1\"} 1\n"));
	assert_non_null(strstr(b.data, "t_latency_seconds_bucket{le=\"0.25\"} 2\n"));
	assert_non_null(strstr(b.data, "t_latency_seconds_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(b.data, "t_latency_seconds_sum 0.203000\n"));
	assert_non_null(strstr(b.data, "t_latency_seconds_count 2\n"));
	/* Registered twice, listed once. */
	assert_non_null(strstr(b.data, "# HELP t_hits_total hits\n"));
	assert_null(strstr(strstr(b.data, "# HELP t_hits_total") + 1, "# HELP t_hits_total"));
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cnam_cache__miss_fills_then_hits),
		cmocka_unit_test(test_cnam_cache__lru_evicts_least_recent),
		cmocka_unit_test(test_cnam_cache__name_ttl_follows_clock),
		cmocka_unit_test(test_cnam_cache__no_name_has_shorter_ttl),
		cmocka_unit_test(test_cnam_cache__fill_expiry_can_only_shorten),
		cmocka_unit_test(test_cnam_cache__stale_answer_when_fill_fails),
		cmocka_unit_test(test_cnam_cache__failure_with_nothing_cached),
		cmocka_unit_test(test_cnam_cache__single_flight_one_fill),
		cmocka_unit_test(test_cnam_cache__single_flight_failure_shared),
		cmocka_unit_test(test_cnam_cache__waiter_is_bounded),
		cmocka_unit_test(test_cnam_cache__purge),
		cmocka_unit_test(test_cnam_clean__rules),
		cmocka_unit_test(test_metrics__render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
