/* test_inventory.c - inventory state rules, history and the port hook on a scratch ringer.db. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/clock.h"
#include "base/log.h"
#include "db/db.h"
#include "inventory/inventory.h"
#include "inventory/query.h"
#include "numdb/numdb.h"
#include "numdb/portover.h"
#include "numdb/store.h"

#define T0 1780000000 /* 2026-05-28T20:26:40Z */

static char dir[64], path[128];
static sqlite3 *db;
static const char acme_spids[][5] = { "2222" };
static const struct inv_caller acme = { .spids = acme_spids, .n = 1 };
static const char bolt_spids[][5] = { "1111" };
static const struct inv_caller bolt = { .spids = bolt_spids, .n = 1 };

/* Ten AVAILABLE numbers 3035550000-09 for acme, as a sync would add them. */
static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ringer_invtest_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/ringer.db", dir);
	log_set_level(LOG_ERROR);
	if (mgmt_open(path, false, &db) != 0 || inventory_migrate(db) != 0)
		return -1;
	return db_exec(db, "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s"
		       " WHERE i < 9) INSERT INTO inv_number (uuid, tn, spid, npa, nxx, block_id,"
		       " current_owner_spid, status, discovered_via, created_at, updated_at)"
		       " SELECT 'u' || i, 3035550000 + i, '2222', 303, 555, '0', '2222',"
		       " 'AVAILABLE', 'LERG', 1, 1 FROM s");
}

static int teardown(void **state)
{
	char cmd[160];

	(void)state;
	sqlite3_close(db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *field(const struct inv_result *res, const char *key)
{
	return json_string_value(json_object_get(res->dto, key));
}

static void done(struct inv_result *res)
{
	json_decref(res->dto);
	res->dto = NULL;
}

static int64_t changes(uint64_t tn, const char *action)
{
	sqlite3_stmt *st;
	int64_t n = -1;
	char sql[200];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM inv_change c JOIN inv_number n"
		 " ON n.id = c.number_id WHERE n.tn = %llu AND c.action = '%s' AND c.at >= %d",
		 (unsigned long long)tn, action, T0);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_inventory__transitions_and_history(void **state)
{
	struct inv_result res;
	json_t *meta = json_pack("{s:s}", "ban", "B1");

	(void)state;
	inventory_reserve(db, &acme, 3035550001, "ivr", T0, &res);
	assert_int_equal(res.http, 200);
	assert_string_equal(field(&res, "status"), "RESERVED");
	assert_string_equal(field(&res, "updatedAt"), "2026-05-28T20:26:40Z");
	done(&res);
	inventory_assign(db, &acme, 3035550001, "ivr", meta, T0 + 60, &res);
	assert_int_equal(res.http, 200);
	assert_string_equal(field(&res, "status"), "IN_USE");
	assert_string_equal(field(&res, "lastAssignedAt"), "2026-05-28T20:27:40Z");
	done(&res);
	inventory_reserve(db, &acme, 3035550001, "x", T0, &res);
	assert_int_equal(res.http, 409);
	assert_string_equal(res.msg,
			    "Number is not available: 3035550001 (current status: IN_USE)");
	inventory_set_metadata(db, &acme, 3035550002, meta, T0, &res);
	assert_int_equal(res.http, 409);
	assert_string_equal(res.msg, "Can only update metadata for IN_USE numbers. "
			    "Current status: AVAILABLE");
	inventory_release(db, &acme, 3035550002, T0, &res);
	assert_int_equal(res.http, 409);
	assert_string_equal(res.msg, "Number cannot be released from current status: AVAILABLE");
	inventory_release(db, &acme, 3035550001, T0 + 120, &res);
	assert_int_equal(res.http, 200);
	assert_true(json_is_null(json_object_get(res.dto, "applicationMetadata")));
	done(&res);
	/* A refused move writes nothing; each done one writes one history row. */
	assert_int_equal(changes(3035550001, "RESERVE"), 1);
	assert_int_equal(changes(3035550001, "ASSIGN"), 1);
	assert_int_equal(changes(3035550001, "RELEASE"), 1);
	assert_int_equal(changes(3035550002, "RELEASE"), 0);
	/* bolt cannot see or touch acme's numbers. */
	inventory_get(db, &bolt, 3035550001, &res);
	assert_int_equal(res.http, 404);
	inventory_reserve(db, &bolt, 3035550003, "x", T0, &res);
	assert_int_equal(res.http, 404);
	json_decref(meta);
}

static void test_inventory__port_hook(void **state)
{
	struct inv_result res;

	(void)state;
	inventory_assign(db, &acme, 3035550005, "pbx", NULL, T0, &res);
	done(&res);
	assert_int_equal(db_exec(db, "BEGIN"), 0);
	assert_int_equal(inventory_port_activated(db, 3035550005, "2222", "1111", 7205550000,
						  T0 + 3600), 0);
	assert_int_equal(db_exec(db, "COMMIT"), 0);
	inventory_get(db, &acme, 3035550005, &res);
	assert_string_equal(field(&res, "status"), "PORTED_OUT");
	assert_string_equal(field(&res, "currentOwnerSpid"), "1111");
	assert_string_equal(field(&res, "lastPortDate"), "2026-05-28T21:26:40Z");
	assert_true(json_is_null(json_object_get(res.dto, "applicationId")));
	done(&res);
	inventory_get(db, &bolt, 3035550005, &res);
	assert_int_equal(res.http, 200);
	assert_string_equal(field(&res, "status"), "AVAILABLE");
	assert_string_equal(field(&res, "portDirection"), "IN");
	assert_string_equal(field(&res, "originalSpid"), "2222");
	assert_string_equal(field(&res, "currentLrn"), "7205550000");
	done(&res);
	inventory_assign(db, &acme, 3035550005, "pbx", NULL, T0, &res);
	assert_int_equal(res.http, 409);
	assert_string_equal(res.msg, "Cannot assign ported-out number: 3035550005");

	/* Ported back: acme's row is its own again, bolt's is ported out. */
	assert_int_equal(inventory_port_activated(db, 3035550005, "1111", "2222", 0, T0 + 7200),
			 0);
	inventory_get(db, &acme, 3035550005, &res);
	assert_string_equal(field(&res, "status"), "AVAILABLE");
	assert_string_equal(field(&res, "portDirection"), "IN");
	done(&res);
	inventory_get(db, &bolt, 3035550005, &res);
	assert_string_equal(field(&res, "status"), "PORTED_OUT");
	done(&res);
	/* Intra-provider: nothing to do. */
	assert_int_equal(inventory_port_activated(db, 3035550006, "2222", "2222", 0, T0), 0);
	inventory_get(db, &acme, 3035550006, &res);
	assert_string_equal(field(&res, "status"), "AVAILABLE");
	done(&res);
}

/* lookup.db: acme (2222) holds 303-555 but its block 303-555-1, pooled to 3333. */
static sqlite3 *lookup_fixture(void)
{
	struct numdb *g;
	char lpath[160];
	sqlite3 *lk;

	snprintf(lpath, sizeof(lpath), "%s/lookup.db", dir);
	assert_int_equal(numstore_open(lpath, false, &lk), 0);
	assert_int_equal(db_exec(lk, "INSERT INTO cocode (npanxx, ocn, company, rate_center,"
				 " state, status, pooled) VALUES (303555, '2222', 'Acme',"
				 " 'DENVER', 'CO', 'AS', 1);"
				 "INSERT INTO block (npanxxx, lrn, spid, status) VALUES"
				 " (3035551, NULL, '3333', 'AS')"), 0);
	assert_int_equal(numdb_build(lk, &g), 0);
	numdb_publish(g);
	return lk;
}

static void port_and_disconnect(uint64_t tn, const char *holder)
{
	json_t *meta = json_pack("{s:s}", "ban", "B9");
	struct inv_result res;

	assert_int_equal(inventory_port_activated(db, tn, holder, "1111", 7205550000, T0), 0);
	inventory_assign(db, &bolt, tn, "pbx", meta, T0 + 60, &res);
	assert_int_equal(res.http, 200);
	done(&res);
	json_decref(meta);
	assert_int_equal(db_exec(db, "BEGIN"), 0);
	assert_int_equal(inventory_port_disconnected(db, tn, "1111", T0 + 600), 0);
	assert_int_equal(db_exec(db, "COMMIT"), 0);
	/* It left bolt's inventory, history and all. */
	inventory_get(db, &bolt, tn, &res);
	assert_int_equal(res.http, 404);
	assert_int_equal(changes(tn, "ASSIGN"), 0);
}

static void test_inventory__disconnect_snapback(void **state)
{
	const char holder_spids[][5] = { "3333" };
	const struct inv_caller blk = { .spids = holder_spids, .n = 1 };
	struct inv_result res;
	sqlite3 *lk = lookup_fixture();

	(void)state;
	/* A number of acme's code goes back to acme, unused and no longer ported. */
	port_and_disconnect(3035550007, "2222");
	inventory_get(db, &acme, 3035550007, &res);
	assert_int_equal(res.http, 200);
	assert_string_equal(field(&res, "status"), "AVAILABLE");
	assert_string_equal(field(&res, "currentOwnerSpid"), "2222");
	assert_true(json_is_null(json_object_get(res.dto, "portDirection")));
	assert_true(json_is_null(json_object_get(res.dto, "currentLrn")));
	assert_true(json_is_null(json_object_get(res.dto, "applicationId")));
	assert_true(json_is_null(json_object_get(res.dto, "applicationMetadata")));
	assert_string_equal(field(&res, "updatedAt"), "2026-05-28T20:36:40Z");
	done(&res);
	assert_int_equal(changes(3035550007, "SNAPBACK"), 1);
	/* One of the pooled block goes to the block holder, not the code holder. */
	port_and_disconnect(3035551002, "3333");
	inventory_get(db, &blk, 3035551002, &res);
	assert_int_equal(res.http, 200);
	assert_string_equal(field(&res, "status"), "AVAILABLE");
	assert_string_equal(field(&res, "spid"), "3333");
	done(&res);
	inventory_get(db, &acme, 3035551002, &res);
	assert_int_equal(res.http, 404);
	/* A disconnect by the holder itself keeps its row. */
	assert_int_equal(inventory_port_disconnected(db, 3035550007, "2222", T0 + 900), 0);
	inventory_get(db, &acme, 3035550007, &res);
	assert_int_equal(res.http, 200);
	assert_string_equal(field(&res, "status"), "AVAILABLE");
	done(&res);
	sqlite3_close(lk);
}

static int64_t synced_at(const char *spid)
{
	sqlite3_stmt *st;
	int64_t at = -1;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT synced_at FROM inv_sync WHERE spid = ?",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, spid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		at = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return at;
}

/* A sync ahead of time adds the holder's numbers once, then nothing until the data changes. */
static void test_inventory__sync_ahead(void **state)
{
	char (*spids)[5] = NULL;
	struct numdb *g;
	size_t n = 9;
	char lpath[160];
	sqlite3 *lk;

	(void)state;
	snprintf(lpath, sizeof(lpath), "%s/lookup.db", dir);
	assert_int_equal(numstore_open(lpath, true, &lk), 0);
	/* 1000 in the block, 3035551002 already there from the snapback. */
	assert_int_equal(inventory_sync_spid(db, lk, "3333", T0), 999);
	assert_int_equal(inventory_sync_spid(db, lk, "3333", T0), 0);
	/* 10000 in the code less the pooled block and the ten (plus one) rows it has. */
	assert_int_equal(inventory_sync_spid(db, lk, "2222", T0), 10000 - 1000 - 10);
	assert_int_equal(inventory_synced_spids(db, &spids, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(spids[0], "2222");
	assert_string_equal(spids[1], "3333");
	free(spids);
	numstore_close(lk);
	/* The mark is the data's, not the process's: another generation of it is no news... */
	clock_start_at(T0 + 86400); /* a later build, as ringerd's would be */
	assert_int_equal(numstore_open(lpath, false, &lk), 0);
	assert_int_equal(numdb_build(lk, &g), 0);
	clock_reset();
	numdb_publish(g);
	assert_int_equal(inventory_sync_spid(db, lk, "3333", T0 + 100), 0);
	assert_int_equal(synced_at("3333"), T0); /* not walked again */
	/* ...but an import of a new block for 3333 is. */
	assert_int_equal(db_exec(lk, "INSERT INTO block (npanxxx, lrn, spid, status) VALUES"
				 " (3035552, NULL, '3333', 'AS');"
				 "INSERT INTO import_log (kind, file, started, finished,"
				 " lines, accepted, rejected, outcome) VALUES ('blocks',"
				 " 'b.csv', 'x', 'x', 1, 1, 0, 'committed')"), 0);
	assert_int_equal(numdb_build(lk, &g), 0);
	numdb_publish(g);
	assert_int_equal(inventory_sync_spid(db, lk, "3333", T0), 1000);
	numstore_close(lk);
	numdb_shutdown();
}

/* ---- ported-only syncs ---- */

static int64_t sql_count(const char *sql);

static const char *status_of(const struct inv_caller *c, uint64_t tn)
{
	static char out[16];
	struct inv_result res;

	inventory_get(db, c, tn, &res);
	snprintf(out, sizeof(out), "%s", res.http == 200 ? field(&res, "status") : "none");
	done(&res);
	return out;
}

static void port_to(sqlite3 *lk, uint64_t tn, const char *spid, int64_t version)
{
	struct port_change ch = { .tn = tn, .version = version, .lrn = 7205550000 };

	snprintf(ch.spid, sizeof(ch.spid), "%s", spid);
	assert_int_equal(portover_apply(lk, &ch), 1);
}

static void republish(sqlite3 *lk)
{
	struct numdb *g;

	assert_int_equal(numdb_build(lk, &g), 0);
	numdb_publish(g);
}

/*
 * After an LSMS update only the changed numbers are visited (a range number
 * deleted by hand stays deleted: the ranges were not walked again); after a
 * fold took the overlay rows into the generation file, every ported number
 * is (the change is found although its overlay row is gone).
 */
static void test_inventory__sync_ported_delta(void **state)
{
	const char holder_spids[][5] = { "3333" };
	const struct inv_caller blk = { .spids = holder_spids, .n = 1 };
	char lpath[160];
	long folded = 0;
	sqlite3 *lk;

	(void)state;
	snprintf(lpath, sizeof(lpath), "%s/lookup.db", dir);
	assert_int_equal(numstore_open(lpath, false, &lk), 0);
	republish(lk);
	/* The new LERG tables (block 303-555-2 for 3333): a full pass, nothing new for acme,
	 * and the block's unused numbers leave acme (they are 3333's now). */
	assert_string_equal(status_of(&acme, 3035552500), "AVAILABLE");
	{
		struct inv_result res;

		inventory_assign(db, &acme, 3035552600, "pbx", NULL, T0, &res);
		assert_int_equal(res.http, 200);
		done(&res);
	}
	assert_int_equal(inventory_sync_spid(db, lk, "2222", T0), 0);
	assert_string_equal(status_of(&acme, 3035552500), "none");
	assert_string_equal(status_of(&blk, 3035552500), "AVAILABLE");
	/* A number in use stays with the customer using it; the other 999 go. */
	assert_string_equal(status_of(&acme, 3035552600), "IN_USE");
	assert_int_equal(sql_count("SELECT count(*) FROM inv_number WHERE spid = '2222' AND"
				   " tn BETWEEN 3035552000 AND 3035552999"), 1);
	assert_int_equal(db_exec(db, "DELETE FROM inv_number WHERE spid = '2222'"
				 " AND tn = 3035559999"), 0);
	port_to(lk, 3035550100, "1111", 10); /* acme's, to bolt */
	port_to(lk, 3035551500, "2222", 11); /* 3333's block, to acme */
	republish(lk);
	assert_int_equal(inventory_sync_spid(db, lk, "2222", T0 + 1), 0);
	assert_int_equal(inventory_sync_spid(db, lk, "3333", T0 + 1), 0);
	assert_string_equal(status_of(&acme, 3035550100), "PORTED_OUT");
	assert_string_equal(status_of(&acme, 3035551500), "AVAILABLE");
	assert_string_equal(status_of(&blk, 3035551500), "PORTED_OUT");
	assert_string_equal(status_of(&acme, 3035559999), "none"); /* ranges not walked */
	/* A change folded into the file before the next sync: found by the walk. */
	port_to(lk, 3035550200, "1111", 12);
	assert_int_equal(portover_fold(lk, &folded), 0);
	assert_true(folded >= 1);
	republish(lk);
	assert_int_equal(inventory_sync_spid(db, lk, "2222", T0 + 2), 0);
	assert_string_equal(status_of(&acme, 3035550200), "PORTED_OUT");
	assert_string_equal(status_of(&acme, 3035559999), "none");
	/* Nothing new: no sync at all. */
	assert_int_equal(inventory_sync_spid(db, lk, "2222", T0 + 3), 0);
	assert_int_equal(synced_at("2222"), T0 + 2);
	/*
	 * Later changes to numbers already ported (the input a tester found
	 * ignored): the ported-in number moves on to bolt, acme's number comes
	 * back to acme, and a deleted SV snaps another back.
	 */
	port_to(lk, 3035551500, "1111", 13);
	port_to(lk, 3035550100, "2222", 14);
	{
		struct port_change del = { .tn = 3035550200, .version = 15, .deleted = true };

		assert_int_equal(portover_apply(lk, &del), 1);
	}
	republish(lk);
	assert_int_equal(inventory_sync_spid(db, lk, "2222", T0 + 4), 0);
	assert_int_equal(inventory_sync_spid(db, lk, "3333", T0 + 4), 0);
	assert_string_equal(status_of(&acme, 3035551500), "none");       /* left acme */
	assert_string_equal(status_of(&blk, 3035551500), "PORTED_OUT");  /* still 3333's range */
	assert_int_equal(sql_count("SELECT count(*) FROM inv_number WHERE spid = '3333' AND"
				   " tn = 3035551500 AND current_owner_spid = '1111'"), 1);
	assert_string_equal(status_of(&acme, 3035550100), "AVAILABLE");   /* ported back */
	assert_string_equal(status_of(&acme, 3035550200), "AVAILABLE");   /* snapback */
	assert_int_equal(sql_count("SELECT count(*) FROM inv_number WHERE spid = '2222' AND"
				   " tn IN (3035550100, 3035550200) AND ported = 'no'"), 2);
	/* The same after a fold, found by the walk and the settling of the SPID's rows. */
	port_to(lk, 3035551600, "2222", 16);
	republish(lk);
	assert_int_equal(inventory_sync_spid(db, lk, "2222", T0 + 5), 0);
	assert_string_equal(status_of(&acme, 3035551600), "AVAILABLE");   /* ported in */
	port_to(lk, 3035550100, "1111", 17);
	port_to(lk, 3035551600, "1111", 18);
	assert_int_equal(portover_fold(lk, &folded), 0);
	republish(lk);
	assert_int_equal(inventory_sync_spid(db, lk, "2222", T0 + 6), 0);
	assert_string_equal(status_of(&acme, 3035550100), "PORTED_OUT");
	assert_string_equal(status_of(&acme, 3035551600), "none");
	numstore_close(lk);
	numdb_shutdown();
}

/* ---- counts from the tally ---- */

static const char tally_spids[][5] = { "4444" };
static const struct inv_caller tally_caller = { .spids = tally_spids, .n = 1 };

/* totalElements of text as the API answers it, and (tallied = false) counted row by row. */
static int64_t total_of(const char *text, bool tallied)
{
	struct inv_page pg = { .page = 0, .size = 5, .sort_column = "tn" };
	struct query_error err;
	struct query_sql s;
	struct query *q;
	json_t *out = NULL;
	int64_t n;

	assert_int_equal(query_parse(text, &q, &err), 0);
	assert_int_equal(query_compile(q, &s), 0);
	s.tallied = s.tallied && tallied;
	assert_int_equal(inventory_query(db, &tally_caller, &s, &pg, &out), 0);
	n = json_integer_value(json_object_get(out, "totalElements"));
	json_decref(out);
	query_sql_free(&s);
	query_free(q);
	return n;
}

static int64_t sql_count(const char *sql)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Every query counts the same from inv_tally as row by row, and as plain SQL says. */
static void tally_agrees(void)
{
	static const char *const queries[] = {
		"status=available", "status!=available", "status in (reserved,in_use)",
		"lata=656", "lata!=656", "lata in (656,120)", "lata contains 5",
		"state=co", "state!=co", "locality=denver", "locality!=Denver",
		"locality contains ENV", "ocn=4444", "ocn!=4444", "ported=in", "ported!=no",
		"npa=303 and nxx in (555,556)", "(status=available or status=reserved) and ported=in",
		"spid=4444 and lata!=120", "npa=720 or locality='BOULDER'",
	};
	size_t i;

	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		int64_t a = total_of(queries[i], true), b = total_of(queries[i], false);

		if (a != b)
			fail_msg("%s: tally %lld, rows %lld", queries[i], (long long)a, (long long)b);
	}
	assert_int_equal(sql_count("SELECT sum(n) FROM inv_tally_view WHERE spid = '4444'"),
			 sql_count("SELECT count(*) FROM inv_number WHERE spid = '4444'"));
	assert_int_equal(sql_count("SELECT count(*) FROM inv_tally WHERE n < 0"), 0);
}

static void test_inventory__tally_counts(void **state)
{
	struct inv_result res;

	(void)state;
	/* 300 numbers with NULLs, mixed case and three NPA-NXXs; the statuses vary. */
	assert_int_equal(db_exec(db, "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1"
		" FROM s WHERE i < 299) INSERT INTO inv_number (uuid, tn, spid, npa, nxx,"
		" block_id, status, ported, lata, state, locality, ocn, discovered_via,"
		" created_at, updated_at) SELECT 't' || i, tn, '4444', tn / 10000000,"
		" tn / 10000 % 1000, tn / 1000 % 10,"
		" CASE i % 7 WHEN 0 THEN 'RESERVED' WHEN 1 THEN 'IN_USE' ELSE 'AVAILABLE' END,"
		" CASE WHEN i % 11 = 0 THEN 'in' ELSE 'no' END,"
		" CASE i % 3 WHEN 0 THEN 656 WHEN 1 THEN NULL ELSE 120 END,"
		" CASE WHEN i % 5 = 0 THEN NULL ELSE 'CO' END,"
		" CASE i % 4 WHEN 0 THEN 'DENVER' WHEN 1 THEN 'Denver' WHEN 2 THEN NULL"
		" ELSE 'BOULDER' END, CASE WHEN i % 6 = 0 THEN NULL ELSE '4444' END,"
		" CASE WHEN i % 11 = 0 THEN 'LSMS' ELSE 'LERG' END, 1, 1 FROM"
		" (SELECT i, CASE i % 3 WHEN 0 THEN 3035550000 WHEN 1 THEN 3035560000"
		" ELSE 7205550000 END + i AS tn FROM s)"), 0);
	tally_agrees();
	/* State changes through the API, a raw update of the fields, a delete. */
	inventory_reserve(db, &tally_caller, 3035550003, "t", T0, &res);
	assert_int_equal(res.http, 200);
	done(&res);
	inventory_release(db, &tally_caller, 3035550003, T0, &res);
	assert_int_equal(res.http, 200);
	done(&res);
	inventory_assign(db, &tally_caller, 3035560004, "app", NULL, T0, &res);
	assert_int_equal(res.http, 200);
	done(&res);
	assert_int_equal(db_exec(db, "UPDATE inv_number SET lata = NULL, locality = 'Golden'"
				 " WHERE spid = '4444' AND tn % 9 = 0"), 0);
	assert_int_equal(db_exec(db, "DELETE FROM inv_number WHERE spid = '4444'"
				 " AND tn % 13 = 0"), 0);
	tally_agrees();
	/* The summary comes from the tally: it must agree with the rows too. */
	inventory_summary(db, "4444", &res);
	assert_int_equal(res.http, 200);
	assert_int_equal(json_integer_value(json_object_get(res.dto, "totalNumbers")),
			 sql_count("SELECT count(*) FROM inv_number WHERE spid = '4444'"));
	assert_int_equal(json_integer_value(json_object_get(res.dto, "reservedCount")),
			 sql_count("SELECT count(*) FROM inv_number WHERE spid = '4444'"
				   " AND status = 'RESERVED'"));
	assert_int_equal(json_integer_value(json_object_get(res.dto, "portedInCount")),
			 sql_count("SELECT count(*) FROM inv_number WHERE spid = '4444'"
				   " AND ported = 'in'"));
	assert_int_equal(json_integer_value(json_object_get(res.dto, "totalBlocks")),
			 sql_count("SELECT count(DISTINCT tn / 1000) FROM inv_number"
				   " WHERE spid = '4444' AND discovered_via = 'LERG'"));
	done(&res);
}

/*
 * The count the old compilation (json_extract of every row) gives for a
 * query of the forms used below: "metadata.K=V", "metadata.K in (A,B)",
 * "metadata.K!=V", each optionally followed by " and status=in_use".
 */
static int64_t meta_oracle(const char *q)
{
	char k[32] = "", a[32] = "", b[32] = "", sql[512], cond[200];
	const char *extra = strstr(q, " and status=in_use") ? " AND status = 'IN_USE'" : "";

	if (sscanf(q, "metadata.%31[^ ] in (%31[^,],%31[^)])", k, a, b) == 3)
		snprintf(cond, sizeof(cond), "IN ('%s', '%s')", a, b);
	else if (sscanf(q, "metadata.%31[^!]!=%31[^ ]", k, a) == 2)
		snprintf(cond, sizeof(cond), "IS NOT '%s'", a);
	else if (sscanf(q, "metadata.%31[^=]=%31[^ ]", k, a) == 2)
		snprintf(cond, sizeof(cond), "= '%s'", a[0] == '\'' ? "[1,2]" : a);
	else
		fail_msg("oracle cannot read %s", q);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM inv_number WHERE spid = '4444' AND"
		 " CAST(json_extract(metadata, '$.\"%s\"') AS TEXT) %s%s", k, cond, extra);
	return sql_count(sql);
}

/* metadata.<key>= and in (...) use inv_meta; they must match what json_extract says. */
static void test_inventory__metadata_index(void **state)
{
	static const char *const metas[] = {
		"{\"ban\":\"90000957\",\"tier\":\"gold\"}", "{\"ban\":90000957}",
		"{\"ban\":\"x\",\"tags\":[1,2],\"n\":null,\"ok\":true}", "{\"tier\":\"silver\"}",
	};
	static const char *const queries[] = {
		"metadata.ban=90000957", "metadata.ban in (x,90000957)", "metadata.tier=gold",
		"metadata.ok=1", "metadata.tags='[1,2]'", "metadata.n=null",
		"metadata.ban!=90000957", "metadata.ban=90000957 and status=in_use",
	};
	static const uint64_t tns[] = { 7205550002, 7205550005, 7205550017, 7205550011 };
	struct inv_result res;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		json_t *m = json_loads(metas[i], 0, NULL);

		assert_non_null(m);
		inventory_assign(db, &tally_caller, tns[i], "app", m, T0, &res);
		assert_int_equal(res.http, 200);
		done(&res);
		json_decref(m);
	}
	assert_int_equal(total_of("metadata.ban=90000957", true), 2);
	assert_int_equal(total_of("metadata.ban in (x,90000957)", true), 3);
	assert_int_equal(total_of("metadata.tags='[1,2]'", true), 1);
	assert_int_equal(total_of("metadata.n=null", true), 0);
	/* Against the old way: json_extract on every row. */
	assert_int_equal(total_of("metadata.tier=gold", true),
			 sql_count("SELECT count(*) FROM inv_number WHERE spid = '4444' AND"
				   " CAST(json_extract(metadata, '$.\"tier\"') AS TEXT) = 'gold'"));
	assert_int_equal(total_of("metadata.ok=1", true), 1);
	/* A metadata update replaces the index rows; a release clears them. */
	{
		json_t *m = json_pack("{s:s}", "tier", "gold");

		inventory_set_metadata(db, &tally_caller, 7205550011, m, T0, &res);
		assert_int_equal(res.http, 200);
		done(&res);
		json_decref(m);
	}
	assert_int_equal(total_of("metadata.tier=gold", true), 2);
	assert_int_equal(total_of("metadata.tier=silver", true), 0);
	inventory_release(db, &tally_caller, 7205550002, T0, &res);
	assert_int_equal(res.http, 200);
	done(&res);
	/* Each query answers as json_extract over every row would. */
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		assert_int_equal(total_of(queries[i], true), meta_oracle(queries[i]));
	assert_int_equal(total_of("metadata.tier=gold", true), 1);
	assert_int_equal(sql_count("SELECT count(*) FROM inv_meta m LEFT JOIN inv_number n"
				   " ON n.id = m.number_id WHERE n.metadata IS NULL"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inventory__transitions_and_history),
		cmocka_unit_test(test_inventory__port_hook),
		cmocka_unit_test(test_inventory__disconnect_snapback),
		cmocka_unit_test(test_inventory__sync_ahead),
		cmocka_unit_test(test_inventory__sync_ported_delta),
		cmocka_unit_test(test_inventory__tally_counts),
		cmocka_unit_test(test_inventory__metadata_index),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
