/* test_db.c - per-module migrations in one SQLite file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Opening a file that is up to date takes no write lock: a worker's first
 * connection must not wait out another process's write transaction (it
 * waited up to the 5 s busy timeout, holding every request of its thread).
 */
static void test_db__open_current_file_takes_no_write_lock(void **state)
{
	static const char *const steps_a[] = { "CREATE TABLE a_one(x INTEGER);",
					       "ALTER TABLE a_one ADD COLUMN y TEXT;" };
	sqlite3 *holder, *db = NULL;
	long long t0;

	(void)state;
	assert_int_equal(mgmt_open(path, false, &holder), 0);
	assert_int_equal(db_exec(holder, "BEGIN IMMEDIATE"), 0);
	t0 = mono_ms();
	assert_int_equal(mgmt_open(path, false, &db), 0);
	assert_true(mono_ms() - t0 < 2000); /* the busy timeout is 5000 ms */
	/* Nor does a module whose tables are current (ringerd's start behind a lock). */
	sqlite3_close(db);
	assert_int_equal(db_exec(holder, "COMMIT"), 0);
	assert_int_equal(mgmt_open(path, false, &db), 0);
	assert_int_equal(db_migrate_module(db, "a", steps_a, 2), 0);
	assert_int_equal(db_exec(holder, "BEGIN IMMEDIATE"), 0);
	t0 = mono_ms();
	assert_int_equal(db_migrate_module(db, "a", steps_a, 2), 0);
	assert_true(mono_ms() - t0 < 2000);
	sqlite3_close(db);
	assert_int_equal(db_exec(holder, "COMMIT"), 0);
	sqlite3_close(holder);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_db__modules_migrate_independently, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_db__failed_step_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_db__open_current_file_takes_no_write_lock,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
