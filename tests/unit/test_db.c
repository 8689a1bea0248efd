/* test_db.c - per-module migrations in one SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "db/db.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/ringer_dbtest_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/ringer.db", dir);
	log_set_level(LOG_ERROR);
	return 0;
}

static int teardown(void **state)
{
	char wal[160], shm[160];

	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(shm, sizeof(shm), "%s-shm", path);
	unlink(path);
	unlink(wal);
	unlink(shm);
	rmdir(dir);
	return 0;
}

static long count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void test_db__modules_migrate_independently(void **state)
{
	static const char *const a1[] = { "CREATE TABLE a_one(x INTEGER);" };
	static const char *const a2[] = { "CREATE TABLE a_one(x INTEGER);",
					  "ALTER TABLE a_one ADD COLUMN y TEXT;" };
	static const char *const b[] = { "CREATE TABLE b_one(x INTEGER);" };
	sqlite3 *db;

	assert_int_equal(mgmt_open(path, false, &db), 0);
	assert_int_equal(db_migrate_module(db, "a", a1, 1), 0);
	assert_int_equal(db_migrate_module(db, "b", b, 1), 0);
	/* Running again applies nothing; a longer list applies only the new step. */
	assert_int_equal(db_migrate_module(db, "a", a1, 1), 0);
	assert_int_equal(db_migrate_module(db, "a", a2, 2), 0);
	assert_int_equal(count(db, "SELECT version FROM schema_migrations WHERE module='a'"), 2);
	assert_int_equal(count(db, "SELECT version FROM schema_migrations WHERE module='b'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM pragma_table_info('a_one')"), 2);
	/* A build that knows fewer steps than the file has refuses the file. */
	assert_int_equal(db_migrate_module(db, "a", a1, 1), -1);
	sqlite3_close(db);
}

static void test_db__failed_step_rolls_back(void **state)
{
	static const char *const bad[] = { "CREATE TABLE c_one(x INTEGER);",
					   "CREATE TABLE c_two(x INTEGER); SELECT nonsense(;" };
	sqlite3 *db;

	assert_int_equal(mgmt_open(path, false, &db), 0);
	assert_int_equal(db_migrate_module(db, "c", bad, 2), -1);
	assert_int_equal(count(db, "SELECT version FROM schema_migrations WHERE module='c'"), 1);
	assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name='c_two'"), 0);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_db__modules_migrate_independently, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_db__failed_step_rolls_back, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
