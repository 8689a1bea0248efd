/* test_token.c - bearer tokens: making, checking, revoking, rate limits, storage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <pthread.h>

#include "auth/allow.h"
#include "auth/token.h"
#include "base/clock.h"
#include "base/log.h"
#include "db/db.h"

#define T0 1780000000 /* 2026-05-28T20:26:40Z */

static char dir[64];
static char path[128];
static sqlite3 *db;
static uint8_t ip_local[16];

static int setup(void **state)
{
	char err[200];

	snprintf(dir, sizeof(dir), "/tmp/ringer_toktest_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/ringer.db", dir);
	log_set_level(LOG_ERROR);
	clock_start_at(T0);
	token_rate_reset();
	if (ip_parse("127.0.0.1", ip_local) != 0 || mgmt_open(path, false, &db) != 0 ||
	    token_db_migrate(db) != 0 ||
	    token_customer_create(db, "acme", 0, T0, err, sizeof(err)) != 0 ||
	    token_customer_create(db, "globex", 3, T0, err, sizeof(err)) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char p[160];

	if (db)
		sqlite3_close(db);
	db = NULL;
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	rmdir(dir);
	clock_reset();
	return 0;
}

static int64_t make(const char *customer, const char *scopes, const char *spids,
		    const char *allow, int64_t expires, char secret[TOKEN_TEXT_LEN])
{
	struct token_spec spec = { .customer = customer, .name = "test", .scopes = scopes,
				   .spids = spids, .allow = allow, .expires = expires };
	char err[200] = "";
	int64_t id = 0;
	int rc = token_make(db, &spec, clock_now(), secret, &id, err, sizeof(err));

	if (rc != 0)
		print_message("token_make: %d %s\n", rc, err);
	assert_int_equal(rc, 0);
	assert_true(id > 0);
	return id;
}

static int check(const char *secret, const uint8_t ip[16], struct token_info *out)
{
	char hdr[128];

	snprintf(hdr, sizeof(hdr), "Bearer %s", secret);
	return token_check(db, hdr, ip, clock_now(), out);
}

static void test_token__make_and_check(void **state)
{
	char secret[TOKEN_TEXT_LEN], hdr[128];
	struct token_info t;
	int64_t id = make("acme", "soa:read, soa:write,soa:read", "ab12,CD34", NULL, 0, secret);

	assert_int_equal(strlen(secret), 47);
	assert_memory_equal(secret, "rng_", 4);
	assert_int_equal(strspn(secret + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					    "0123456789-_"), 43);
	assert_int_equal(check(secret, ip_local, &t), TOKEN_OK);
	assert_int_equal(t.id, id);
	assert_string_equal(t.customer, "acme");
	assert_int_equal(t.n_scopes, 2); /* the repeat is dropped */
	assert_string_equal(t.scopes[0], "soa:read");
	assert_string_equal(t.scopes[1], "soa:write");
	assert_int_equal(t.n_spids, 2);
	assert_string_equal(t.spids[0], "AB12");
	assert_string_equal(t.spids[1], "CD34");
	assert_int_equal(t.rate_per_min, 100);
	/* The scheme is case-insensitive; blanks around the token are the header's. */
	snprintf(hdr, sizeof(hdr), "  bearer   %s  ", secret);
	assert_int_equal(token_check(db, hdr, ip_local, clock_now(), &t), TOKEN_OK);
	assert_int_equal(token_check(db, NULL, ip_local, clock_now(), &t), TOKEN_MISSING);
	assert_int_equal(token_check(db, "Basic YWxhZGRpbjo=", ip_local, clock_now(), &t),
			 TOKEN_MISSING);
	assert_int_equal(token_check(db, "Bearer ", ip_local, clock_now(), &t), TOKEN_MISSING);
	snprintf(hdr, sizeof(hdr), "Bearer %s x", secret);
	assert_int_equal(token_check(db, hdr, ip_local, clock_now(), &t), TOKEN_UNKNOWN);
	/* One character changed is another token, which nobody made. */
	secret[10] = secret[10] == 'A' ? 'B' : 'A';
	assert_int_equal(check(secret, ip_local, &t), TOKEN_UNKNOWN);
	assert_int_equal(check("rng_short", ip_local, &t), TOKEN_UNKNOWN);
}

static void test_token__secrets_differ(void **state)
{
	char a[TOKEN_TEXT_LEN], b[TOKEN_TEXT_LEN];

	make("acme", "soa:read", "AB12", NULL, 0, a);
	make("acme", "soa:read", "AB12", NULL, 0, b);
	assert_string_not_equal(a, b);
}

static void test_token__expiry_follows_the_clock(void **state)
{
	char secret[TOKEN_TEXT_LEN];
	struct token_info t;

	make("acme", "soa:read", "AB12", NULL, T0 + 60, secret);
	assert_int_equal(check(secret, ip_local, &t), TOKEN_OK);
	clock_start_at(T0 + 59);
	assert_int_equal(check(secret, ip_local, &t), TOKEN_OK);
	clock_start_at(T0 + 60);
	assert_int_equal(check(secret, ip_local, &t), TOKEN_EXPIRED);
	clock_start_at(T0 + 86400);
	assert_int_equal(check(secret, ip_local, &t), TOKEN_EXPIRED);
}

static void test_token__revoke(void **state)
{
	char secret[TOKEN_TEXT_LEN];
	struct token_info t;
	struct token_row r;
	int64_t id = make("acme", "soa:read", "AB12", NULL, 0, secret);

	/* Another customer's revoke finds nothing and changes nothing. */
	assert_int_equal(token_revoke(db, id, "globex", T0), TOKEN_R_NOT_FOUND);
	assert_int_equal(check(secret, ip_local, &t), TOKEN_OK);
	assert_int_equal(token_revoke(db, id, "acme", T0 + 5), 0);
	assert_int_equal(check(secret, ip_local, &t), TOKEN_UNKNOWN);
	assert_int_equal(token_revoke(db, id, NULL, T0 + 6), TOKEN_R_NOT_FOUND);
	assert_int_equal(token_revoke(db, id + 100, NULL, T0), TOKEN_R_NOT_FOUND);
	assert_int_equal(token_get(db, id, &r), 0);
	assert_int_equal(r.revoked, T0 + 5);
}

static void test_token__regenerate(void **state)
{
	char old[TOKEN_TEXT_LEN], fresh[TOKEN_TEXT_LEN], again[TOKEN_TEXT_LEN];
	struct token_info t;
	struct token_row r;
	int64_t id = make("acme", "soa:read,tokens:manage", "AB12", "127.0.0.0/8", T0 + 3600, old);
	int64_t nid = 0;

	assert_int_equal(token_regenerate(db, id, "globex", T0, fresh, &nid), TOKEN_R_NOT_FOUND);
	assert_int_equal(nid, 0);
	assert_int_equal(token_regenerate(db, id, "acme", T0, fresh, &nid), 0);
	assert_true(nid > id);
	assert_string_not_equal(old, fresh);
	assert_int_equal(check(old, ip_local, &t), TOKEN_UNKNOWN);
	assert_int_equal(check(fresh, ip_local, &t), TOKEN_OK);
	assert_int_equal(t.id, nid);
	assert_int_equal(t.n_scopes, 2);
	assert_string_equal(t.scopes[1], "tokens:manage");
	assert_int_equal(token_get(db, nid, &r), 0);
	assert_string_equal(r.allow, "127.0.0.0/8");
	assert_int_equal(r.expires, T0 + 3600);
	assert_string_equal(r.name, "test");
	assert_int_equal(token_get(db, id, &r), 0);
	assert_int_equal(r.replaced_by, nid);
	assert_true(r.revoked != 0);
	/* The old one is gone for good. */
	assert_int_equal(token_regenerate(db, id, NULL, T0, again, &nid), TOKEN_R_NOT_FOUND);
	/* An expired token is not brought back. */
	clock_start_at(T0 + 7200);
	assert_int_equal(token_regenerate(db, r.replaced_by, NULL, clock_now(), again, &nid),
			 TOKEN_R_INVALID);
}

static void test_token__scopes_and_spids(void **state)
{
	char secret[TOKEN_TEXT_LEN];
	struct token_info t;

	make("acme", "soa:read,inventory:search", "AB12,ZZ99", NULL, 0, secret);
	assert_int_equal(check(secret, ip_local, &t), TOKEN_OK);
	assert_true(token_has_scope(&t, "soa:read"));
	assert_true(token_has_scope(&t, "inventory:search"));
	assert_false(token_has_scope(&t, "soa:write"));
	assert_false(token_has_scope(&t, "soa:rea"));
	assert_false(token_has_scope(&t, "soa"));
	assert_false(token_has_scope(&t, NULL));
	assert_true(token_has_spid(&t, "AB12"));
	assert_true(token_has_spid(&t, "zz99"));
	assert_false(token_has_spid(&t, "AB1"));
	assert_false(token_has_spid(&t, "CD34"));
}

static void test_token__ip_allowlist(void **state)
{
	char secret[TOKEN_TEXT_LEN];
	struct token_info t;
	uint8_t in4[16], out4[16], in6[16], out6[16];

	assert_int_equal(ip_parse("10.20.30.40", in4), 0);
	assert_int_equal(ip_parse("11.0.0.1", out4), 0);
	assert_int_equal(ip_parse("2001:db8::1", in6), 0);
	assert_int_equal(ip_parse("2001:db9::1", out6), 0);
	make("acme", "soa:read", "AB12", "10.0.0.0/8 2001:db8::/32", 0, secret);
	assert_int_equal(check(secret, in4, &t), TOKEN_OK);
	assert_int_equal(check(secret, in6, &t), TOKEN_OK);
	assert_int_equal(check(secret, out4, &t), TOKEN_ADDRESS);
	assert_int_equal(check(secret, out6, &t), TOKEN_ADDRESS);
	assert_int_equal(check(secret, ip_local, &t), TOKEN_ADDRESS);
}

static void test_token__bad_specs(void **state)
{
	struct token_spec spec = { .customer = "acme", .scopes = "soa:read", .spids = "AB12" };
	char secret[TOKEN_TEXT_LEN] = "", err[200];
	int64_t id = -7;

	spec.spids = "ABCDE";
	assert_int_equal(token_make(db, &spec, T0, secret, &id, err, sizeof(err)),
			 TOKEN_R_INVALID);
	assert_non_null(strstr(err, "ABCDE"));
	spec.spids = "";
	assert_int_equal(token_make(db, &spec, T0, secret, &id, err, sizeof(err)),
			 TOKEN_R_INVALID);
	spec.spids = "AB12";
	spec.scopes = "Soa:Read";
	assert_int_equal(token_make(db, &spec, T0, secret, &id, err, sizeof(err)),
			 TOKEN_R_INVALID);
	spec.scopes = "soa:read";
	spec.allow = "10.0.0.0/33";
	assert_int_equal(token_make(db, &spec, T0, secret, &id, err, sizeof(err)),
			 TOKEN_R_INVALID);
	spec.allow = NULL;
	spec.expires = T0;
	assert_int_equal(token_make(db, &spec, T0, secret, &id, err, sizeof(err)),
			 TOKEN_R_INVALID);
	spec.expires = 0;
	spec.customer = "initech";
	assert_int_equal(token_make(db, &spec, T0, secret, &id, err, sizeof(err)),
			 TOKEN_R_NOT_FOUND);
	/* Outputs stay untouched on failure. */
	assert_int_equal(id, -7);
	assert_string_equal(secret, "");
	assert_int_equal(token_customer_create(db, "acme", 0, T0, err, sizeof(err)),
			 TOKEN_R_EXISTS);
	assert_int_equal(token_customer_create(db, "", 0, T0, err, sizeof(err)), TOKEN_R_INVALID);
}

static int count_rows(const struct token_row *r, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void test_token__list(void **state)
{
	char secret[TOKEN_TEXT_LEN];
	int all = 0, acme = 0, globex = 0;

	make("acme", "soa:read", "AB12", NULL, 0, secret);
	make("acme", "soa:read", "AB12", NULL, 0, secret);
	make("globex", "soa:read", "GX01", NULL, 0, secret);
	assert_int_equal(token_list(db, NULL, count_rows, &all), 0);
	assert_int_equal(token_list(db, "acme", count_rows, &acme), 0);
	assert_int_equal(token_list(db, "globex", count_rows, &globex), 0);
	assert_int_equal(all, 3);
	assert_int_equal(acme, 2);
	assert_int_equal(globex, 1);
}

/* The database holds the hash of the secret and never the secret. */
static void test_token__only_the_hash_is_stored(void **state)
{
	char secret[TOKEN_TEXT_LEN], hex[65], p[160];
	unsigned char md[32];
	unsigned n = 0;
	bool hash_seen = false;

	make("acme", "soa:read", "AB12", NULL, 0, secret);
	assert_int_equal(EVP_Digest(secret, strlen(secret), md, &n, EVP_sha256(), NULL), 1);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	sqlite3_close(db);
	db = NULL;
	for (int f = 0; f < 2; f++) {
		FILE *fp;
		char *buf;
		long len;

		snprintf(p, sizeof(p), f ? "%s-wal" : "%s", path);
		fp = fopen(p, "rb");
		if (fp == NULL)
			continue;
		fseek(fp, 0, SEEK_END);
		len = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		buf = malloc((size_t)len + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
		fclose(fp);
		assert_null(memmem(buf, (size_t)len, secret + 4, 43));
		hash_seen |= memmem(buf, (size_t)len, hex, 64) != NULL;
		free(buf);
	}
	assert_true(hash_seen); /* the search looked in the right place */
}

static void test_token__within(void **state)
{
	struct token_row parent = { .scopes = "soa:read,tokens:manage", .spids = "AB12,CD34",
				    .allow = "10.0.0.0/8", .expires = T0 + 100 };
	struct token_spec s = { .scopes = "soa:read", .spids = "ab12", .allow = "10.1.0.0/16",
				.expires = T0 + 50 };
	char err[200];

	assert_int_equal(token_spec_within(&parent, &s, err, sizeof(err)), 0);
	s.scopes = "soa:read,soa:write";
	assert_int_equal(token_spec_within(&parent, &s, err, sizeof(err)), TOKEN_R_DENIED);
	assert_non_null(strstr(err, "soa:write"));
	s.scopes = "soa:read";
	s.spids = "AB12,ZZ99";
	assert_int_equal(token_spec_within(&parent, &s, err, sizeof(err)), TOKEN_R_DENIED);
	s.spids = "CD34";
	s.allow = "0.0.0.0/0";
	assert_int_equal(token_spec_within(&parent, &s, err, sizeof(err)), TOKEN_R_DENIED);
	s.allow = NULL;
	assert_int_equal(token_spec_within(&parent, &s, err, sizeof(err)), TOKEN_R_DENIED);
	s.allow = "10.9.9.9";
	s.expires = 0;
	assert_int_equal(token_spec_within(&parent, &s, err, sizeof(err)), TOKEN_R_DENIED);
	s.expires = T0 + 101;
	assert_int_equal(token_spec_within(&parent, &s, err, sizeof(err)), TOKEN_R_DENIED);
	s.expires = T0 + 100;
	assert_int_equal(token_spec_within(&parent, &s, err, sizeof(err)), 0);
	s.spids = "BAD!";
	assert_int_equal(token_spec_within(&parent, &s, err, sizeof(err)), TOKEN_R_INVALID);
}

static void test_token__rate_limit(void **state)
{
	struct token_info g = { .customer = "globex", .rate_per_min = 3 };
	struct token_info a = { .customer = "acme", .rate_per_min = 3 };
	int64_t ms = (int64_t)T0 * 1000;

	for (int i = 0; i < 3; i++)
		assert_int_equal(token_rate_take(&g, ms), 0);
	/* One request refills every 20 s at 3 a minute. */
	assert_int_equal(token_rate_take(&g, ms), 20);
	assert_int_equal(token_rate_take(&g, ms + 5000), 15);
	assert_int_equal(token_rate_take(&a, ms + 5000), 0); /* customers are apart */
	assert_int_equal(token_rate_take(&g, ms + 20000), 0);
	assert_int_equal(token_rate_take(&g, ms + 20000), 20);
	/* A full minute idle refills the whole budget, and no more. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(token_rate_take(&g, ms + 600000), 0);
	assert_int_equal(token_rate_take(&g, ms + 600000), 20);
}

static void test_token__rate_table_is_bounded(void **state)
{
	struct token_info t = { .rate_per_min = 100 };
	int64_t ms = (int64_t)T0 * 1000;

	for (int i = 0; i < TOKEN_RATE_MAX_CUSTOMERS; i++) {
		snprintf(t.customer, sizeof(t.customer), "c%d", i);
		assert_int_equal(token_rate_take(&t, ms), 0);
	}
	/* Full of customers active this minute: a new one waits rather than evicting. */
	snprintf(t.customer, sizeof(t.customer), "newcomer");
	assert_int_equal(token_rate_take(&t, ms + 1000), 60);
	/* A minute on, the idle ones are dropped (they would be full anyway). */
	assert_int_equal(token_rate_take(&t, ms + 61000), 0);
	snprintf(t.customer, sizeof(t.customer), "c7");
	assert_int_equal(token_rate_take(&t, ms + 61000), 0);
}

struct racer {
	int64_t ms;
	int allowed;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	struct token_info t = { .customer = "racers", .rate_per_min = 100 };

	for (int i = 0; i < 60; i++)
		if (token_rate_take(&t, r->ms) == 0)
			r->allowed++;
	return NULL;
}

static void test_token__rate_limit_threads(void **state)
{
	struct racer r[4];
	pthread_t th[4];
	int total = 0;

	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ (int64_t)T0 * 1000, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += r[i].allowed;
	}
	assert_int_equal(total, 100); /* 240 tries at one instant, budget 100 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_token__make_and_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token__secrets_differ, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token__expiry_follows_the_clock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_token__revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token__regenerate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token__scopes_and_spids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token__ip_allowlist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token__bad_specs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token__list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token__only_the_hash_is_stored, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_token__within, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token__rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token__rate_table_is_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_token__rate_limit_threads, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
