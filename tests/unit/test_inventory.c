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
#include "numdb/numdb.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inventory__transitions_and_history),
		cmocka_unit_test(test_inventory__port_hook),
		cmocka_unit_test(test_inventory__disconnect_snapback),
		cmocka_unit_test(test_inventory__sync_ahead),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
