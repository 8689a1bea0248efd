/* test_numdb.c - building lookup generations from lookup.db and reading them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/clock.h"
#include "base/log.h"
#include "db/db.h"
#include "numdb/numdb.h"
#include "numdb/store.h"

/* Rows for every table; each number below is named by what it exercises. */
static const char fixture[] =
	"INSERT INTO npa (npa, type, assigned, in_service, location, country) VALUES"
	" (212, 'G', 1, 1, 'NY', 'US'), (646, 'G', 1, 1, 'NY', 'US'),"
	" (718, 'G', 1, 1, 'NY', 'US'), (310, 'G', 1, 1, 'CA', 'US'),"
	" (800, 'N', 1, 1, 'US-CANADA', 'US'), (204, 'G', 1, 1, NULL, 'CANADA');"
	"INSERT INTO cocode (npanxx, ocn, company, rate_center, state, status, pooled) VALUES"
	" (212555, 'OCN1', 'Big Telco', 'NWYRCYZN01', 'NY', 'AS', 1),"
	" (646555, NULL, NULL, NULL, NULL, 'available', 0),"
	" (310555, 'OCN3', 'West Telco', 'LSAN DA 01', 'CA', 'AS', 0),"
	" (204200, 'OCN4', 'North Telco', 'WINNIPEG', 'Manitoba', 'AS', 0);"
	"INSERT INTO block (npanxxx, lrn, spid, status) VALUES"
	" (2125551, 2125559999, 'BLK1', 'AS'), (2125552, NULL, 'BLK2', 'AS');"
	"INSERT INTO ported (tn, lrn, spid, version_id, status, cnam_dpc) VALUES"
	" (2125551000, 9175550000, 'SP01', 10, 1, '001002003'),"
	" (3105550001, 2135550000, 'SP02', 11, 1, NULL);"
	"INSERT INTO cnam (tn, name, restricted) VALUES"
	" (2125550001, 'JOHN DOE', 0), (2125550004, 'PRIVATE', 1),"
	" (3105550009, 'FIFTEEN CHARS!!', 0);"
	"INSERT INTO dnc (tn) VALUES (2125550002), (7185550002);"
	"INSERT INTO dnc_report (npa, old_count, new_count, updated) VALUES"
	" (212, 10, 12, '2026-01-01'), (201, 5, 6, '2026-01-01');"
	"INSERT INTO dno (pattern, source) VALUES"
	" ('212', 'invalid'), ('212555', 'unallocated'), ('2125559', 'block'),"
	" ('2125550001', 'subscriber'), ('21255', 'five digits'), ('21a', 'letters');"
	"INSERT INTO tollfree (crn, ror, status) VALUES"
	" (8005551234, 'ABC01', 'WORKING'), (8885550000, 'XYZ99', NULL);"
	"INSERT INTO cpr (crn, record) VALUES"
	" (8005551234, '{\"crn\": \"8005551234\", \"timezone\": \"E\"}'),"
	" (8005550000, 'not json');";

struct fx {
	char dir[64];
	char path[96];
	sqlite3 *db;
	struct numdb *g;
};

static void rebuild(struct fx *f)
{
	numdb_free(f->g);
	f->g = NULL;
	assert_int_equal(numdb_build(f->db, &f->g), 0);
	assert_non_null(f->g);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/ringer_numdb_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/lookup.db", f->dir);
	assert_int_equal(numstore_open(f->path, false, &f->db), 0);
	assert_int_equal(db_exec(f->db, fixture), 0);
	rebuild(f);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char p[128];

	numdb_free(f->g);
	numstore_close(f->db);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void expect_lrn(const struct numdb *g, uint64_t tn, uint64_t lrn, const char *spid,
		       bool ported, enum lrn_source source)
{
	struct lrn_answer a;

	memset(&a, 0x6b, sizeof(a));
	numdb_lrn(g, tn, &a);
	assert_int_equal(a.lrn, lrn);
	assert_string_equal(a.spid, spid);
	assert_int_equal(a.ported, ported);
	assert_int_equal(a.source, source);
}

static void test_numdb__lrn_ported(void **state)
{
	struct fx *f = *state;
	struct lrn_answer a;

	/* Ported out of a pooled block: the SV wins over the block. */
	expect_lrn(f->g, 2125551000, 9175550000, "SP01", true, LRN_FROM_PORT);
	numdb_lrn(f->g, 2125551000, &a);
	assert_string_equal(a.cnam_dpc, "001002003");
	/* Ported out of a plain code. */
	expect_lrn(f->g, 3105550001, 2135550000, "SP02", true, LRN_FROM_PORT);
	numdb_lrn(f->g, 3105550001, &a);
	assert_string_equal(a.cnam_dpc, "");
}

static void test_numdb__lrn_block(void **state)
{
	struct fx *f = *state;
	struct lrn_answer a;

	/* Pooled block with a default route: its LRN and holder, not ported. */
	expect_lrn(f->g, 2125551234, 2125559999, "BLK1", false, LRN_FROM_BLOCK);
	expect_lrn(f->g, 2125551999, 2125559999, "BLK1", false, LRN_FROM_BLOCK);
	expect_lrn(f->g, 2125551001, 2125559999, "BLK1", false, LRN_FROM_BLOCK);
	numdb_lrn(f->g, 2125551234, &a);
	assert_string_equal(a.cnam_dpc, "");
	/* Block without an LRN: the number routes on itself, the holder is the SPID. */
	expect_lrn(f->g, 2125552345, 2125552345, "BLK2", false, LRN_FROM_BLOCK);
}

static void test_numdb__lrn_code(void **state)
{
	struct fx *f = *state;

	/* In an assigned code, outside any block. */
	expect_lrn(f->g, 2125553456, 2125553456, "OCN1", false, LRN_FROM_CODE);
	expect_lrn(f->g, 2125550000, 2125550000, "OCN1", false, LRN_FROM_CODE);
	expect_lrn(f->g, 2125559999, 2125559999, "OCN1", false, LRN_FROM_CODE);
	expect_lrn(f->g, 3105559999, 3105559999, "OCN3", false, LRN_FROM_CODE);
	/* A code with no OCN names no carrier. */
	expect_lrn(f->g, 6465551234, 6465551234, "", false, LRN_FROM_NONE);
	/* Nothing known at all. */
	expect_lrn(f->g, 7185551234, 7185551234, "", false, LRN_FROM_NONE);
	expect_lrn(f->g, 2125561234, 2125561234, "", false, LRN_FROM_NONE);
}

static void test_numdb__snapback(void **state)
{
	struct fx *f = *state;

	assert_int_equal(db_exec(f->db, "DELETE FROM ported"), 0);
	/* The generation already built is a snapshot: it still answers the port. */
	expect_lrn(f->g, 2125551000, 9175550000, "SP01", true, LRN_FROM_PORT);
	rebuild(f);
	expect_lrn(f->g, 2125551000, 2125559999, "BLK1", false, LRN_FROM_BLOCK);
	expect_lrn(f->g, 3105550001, 3105550001, "OCN3", false, LRN_FROM_CODE);
}

static void test_numdb__cocode(void **state)
{
	struct fx *f = *state;
	const struct cocode_info *c = numdb_cocode(f->g, 212555);

	assert_non_null(c);
	assert_string_equal(c->ocn, "OCN1");
	assert_string_equal(c->company, "Big Telco");
	assert_string_equal(c->rate_center, "NWYRCYZN01");
	assert_string_equal(c->state, "NY");
	assert_string_equal(c->status, "AS");
	c = numdb_cocode(f->g, 646555);
	assert_non_null(c);
	assert_null(c->ocn);
	assert_null(c->company);
	assert_string_equal(c->status, "available");
	assert_null(numdb_cocode(f->g, 212556));
	assert_null(numdb_cocode(f->g, 0));
	assert_null(numdb_cocode(f->g, 999999));
}

static void test_numdb__state(void **state)
{
	struct fx *f = *state;

	assert_string_equal(numdb_state(f->g, 2125553456), "NY");  /* the code's */
	assert_string_equal(numdb_state(f->g, 3105559999), "CA");
	assert_string_equal(numdb_state(f->g, 6465551234), "NY");  /* code without a state */
	assert_string_equal(numdb_state(f->g, 7185551234), "NY");  /* no code: the NPA's */
	/* A code state that is not a 2-letter code falls back to the NPA, which has none. */
	assert_null(numdb_state(f->g, 2042001234));
	assert_null(numdb_state(f->g, 8005551234)); /* location is not a state */
	assert_null(numdb_state(f->g, 5055551234)); /* nothing known */
}

static void test_numdb__dno(void **state)
{
	struct fx *f = *state;
	struct dno_match m;

	/* The 10-digit entry beats its NPA's 3-digit and NPA-NXX's 6-digit ones. */
	assert_true(numdb_dno(f->g, 2125550001, &m));
	assert_string_equal(m.pattern, "2125550001");
	assert_string_equal(m.source, "subscriber");
	assert_true(numdb_dno(f->g, 2125559123, &m));
	assert_string_equal(m.pattern, "2125559");
	assert_string_equal(m.source, "block");
	assert_true(numdb_dno(f->g, 2125550002, &m));
	assert_string_equal(m.pattern, "212555");
	assert_string_equal(m.source, "unallocated");
	assert_true(numdb_dno(f->g, 2120001234, &m));
	assert_string_equal(m.pattern, "212");
	assert_string_equal(m.source, "invalid");
	memcpy(m.pattern, "untouched", 10);
	assert_false(numdb_dno(f->g, 3105550000, &m));
	assert_false(numdb_dno(f->g, 2135550000, &m));
	assert_string_equal(m.pattern, "untouched");
}

static void test_numdb__dnc_cnam_ror_cpr(void **state)
{
	struct fx *f = *state;
	const char *name = "x", *ror = "x";
	bool restricted = true;
	const json_t *cpr;

	assert_true(numdb_dnc(f->g, 2125550002));
	assert_true(numdb_dnc(f->g, 7185550002));
	assert_false(numdb_dnc(f->g, 2125550003));
	assert_false(numdb_dnc(f->g, 0));

	assert_int_equal(numdb_cnam(f->g, 2125550001, &name, &restricted), 0);
	assert_string_equal(name, "JOHN DOE");
	assert_false(restricted);
	assert_int_equal(numdb_cnam(f->g, 2125550004, &name, &restricted), 0);
	assert_string_equal(name, "PRIVATE");
	assert_true(restricted);
	assert_int_equal(numdb_cnam(f->g, 3105550009, &name, &restricted), 0);
	assert_string_equal(name, "FIFTEEN CHARS!!");
	name = "none";
	assert_int_equal(numdb_cnam(f->g, 2125550005, &name, &restricted), -1);
	assert_string_equal(name, "none");

	assert_int_equal(numdb_ror(f->g, 8005551234, &ror), 0);
	assert_string_equal(ror, "ABC01");
	assert_int_equal(numdb_ror(f->g, 8885550000, &ror), 0);
	assert_string_equal(ror, "XYZ99");
	ror = "none";
	assert_int_equal(numdb_ror(f->g, 8005551235, &ror), -1);
	assert_string_equal(ror, "none");

	cpr = numdb_cpr(f->g, 8005551234);
	assert_non_null(cpr);
	assert_string_equal(json_string_value(json_object_get(cpr, "timezone")), "E");
	/* An unreadable record is skipped, not fatal. */
	assert_null(numdb_cpr(f->g, 8005550000));
	assert_null(numdb_cpr(f->g, 8885550000));
}

static void test_numdb__dnc_report_and_stats(void **state)
{
	struct fx *f = *state;
	const struct dnc_count *r;
	struct numdb_stats st;
	size_t n = 0;
	int64_t now = clock_now();

	r = numdb_dnc_report(f->g, &n);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].npa, 201);
	assert_int_equal(r[0].old_count, 5);
	assert_int_equal(r[0].new_count, 6);
	assert_int_equal(r[1].npa, 212);
	assert_int_equal(r[1].old_count, 10);
	assert_int_equal(r[1].new_count, 12);

	memset(&st, 0xff, sizeof(st));
	numdb_get_stats(f->g, &st);
	assert_int_equal(st.ported, 2);
	assert_int_equal(st.blocks, 2);
	assert_int_equal(st.cocodes, 4);
	assert_int_equal(st.npas, 6);
	assert_int_equal(st.cnam, 3);
	assert_int_equal(st.dnc, 2);
	assert_int_equal(st.dno, 4); /* the 5-digit and the non-digit patterns are dropped */
	assert_int_equal(st.tollfree, 2);
	assert_int_equal(st.cpr, 1);
	assert_true(st.built_at <= now && st.built_at >= now - 60);
}

static void test_numdb__empty_store(void **state)
{
	struct fx *f = *state;
	struct numdb_stats st;
	struct dno_match m;
	const char *name;
	bool restricted;
	size_t n = 9;

	assert_int_equal(db_exec(f->db, "DELETE FROM npa; DELETE FROM cocode; DELETE FROM block;"
				 "DELETE FROM ported; DELETE FROM cnam; DELETE FROM dnc;"
				 "DELETE FROM dnc_report; DELETE FROM dno; DELETE FROM tollfree;"
				 "DELETE FROM cpr;"), 0);
	rebuild(f);
	numdb_get_stats(f->g, &st);
	assert_int_equal(st.ported + st.blocks + st.cocodes + st.npas + st.cnam + st.dnc + st.dno +
			 st.tollfree + st.cpr, 0);
	expect_lrn(f->g, 2125551000, 2125551000, "", false, LRN_FROM_NONE);
	assert_false(numdb_dno(f->g, 2125550001, &m));
	assert_false(numdb_dnc(f->g, 2125550002));
	assert_int_equal(numdb_cnam(f->g, 2125550001, &name, &restricted), -1);
	assert_null(numdb_state(f->g, 2125553456));
	numdb_dnc_report(f->g, &n);
	assert_int_equal(n, 0);
}

static void test_numdb__build_from_read_only_store(void **state)
{
	struct fx *f = *state;
	struct numdb *g = NULL;
	struct numdb_stats st;
	sqlite3 *ro;

	assert_int_equal(numstore_open(f->path, true, &ro), 0);
	assert_int_equal(numdb_build(ro, &g), 0);
	numdb_get_stats(g, &st);
	assert_int_equal(st.ported, 2);
	expect_lrn(g, 2125551000, 9175550000, "SP01", true, LRN_FROM_PORT);
	numdb_free(g);
	numstore_close(ro);
}

static void test_numdb__build_needs_the_schema(void **state)
{
	struct numdb *g = NULL;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(numdb_build(db, &g), -1);
	assert_null(g);
	sqlite3_close(db);
	numdb_free(NULL);
}

static void test_numdb__publish_acquire_release(void **state)
{
	struct fx *f = *state;
	struct numdb *first, *held, *now, *second = NULL;
	struct lrn_answer a;

	assert_null(numdb_acquire());
	first = f->g;
	f->g = NULL; /* published: the fixture no longer owns it */
	numdb_publish(first);
	now = numdb_acquire();
	assert_ptr_equal(now, first);
	numdb_release(now);

	/* A reader holds the first generation while a second one is published. */
	held = numdb_acquire();
	assert_ptr_equal(held, first);
	assert_int_equal(db_exec(f->db, "DELETE FROM ported"), 0);
	assert_int_equal(numdb_build(f->db, &second), 0);
	numdb_publish(second);
	now = numdb_acquire();
	assert_ptr_equal(now, second);
	numdb_lrn(now, 2125551000, &a);
	assert_false(a.ported);
	/* The old one is still whole (ASan would flag a read of freed memory). */
	numdb_lrn(held, 2125551000, &a);
	assert_true(a.ported);
	assert_int_equal(a.lrn, 9175550000);
	numdb_release(held);
	numdb_release(now);
	/* Still current after its readers left. */
	now = numdb_acquire();
	assert_ptr_equal(now, second);
	numdb_release(now);
	numdb_shutdown();
	assert_null(numdb_acquire());
}

struct reader {
	atomic_bool *stop;
	long reads;
	long bad;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct lrn_answer a;

	while (!atomic_load(r->stop)) {
		struct numdb *g = numdb_acquire();

		if (g == NULL)
			continue;
		numdb_lrn(g, 2125551234, &a);
		if (a.lrn != 2125559999 || strcmp(a.spid, "BLK1") != 0)
			r->bad++;
		r->reads++;
		numdb_release(g);
	}
	return NULL;
}

static void test_numdb__publish_under_readers(void **state)
{
	struct fx *f = *state;
	atomic_bool stop = false;
	struct reader rd[4];
	pthread_t th[4];

	/* Every build warns about the fixture's unreadable CPR row: keep that quiet. */
	log_set_level(LOG_ERROR);
	for (int i = 0; i < 4; i++) {
		rd[i] = (struct reader){ &stop, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, reader_main, &rd[i]), 0);
	}
	for (int i = 0; i < 30; i++) {
		struct numdb *g = NULL;

		assert_int_equal(numdb_build(f->db, &g), 0);
		numdb_publish(g);
		usleep(1000);
	}
	atomic_store(&stop, true);
	log_set_level(LOG_INFO);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(rd[i].bad, 0);
		assert_true(rd[i].reads > 0);
	}
	numdb_shutdown();
	assert_null(numdb_acquire());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_numdb__lrn_ported, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__lrn_block, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__lrn_code, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__snapback, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__cocode, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__state, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__dno, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__dnc_cnam_ror_cpr, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__dnc_report_and_stats, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__empty_store, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__build_from_read_only_store, fx_setup,
						fx_teardown),
		cmocka_unit_test(test_numdb__build_needs_the_schema),
		cmocka_unit_test_setup_teardown(test_numdb__publish_acquire_release, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_numdb__publish_under_readers, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
