/* db.c - SQLite open, migrations and the management schema. */
#include "db.h"

#include <malloc.h>
#include <stdio.h>

#include "../base/log.h"

static const char *const mgmt_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE allowlist ("
	"  cidr TEXT PRIMARY KEY, note TEXT NOT NULL DEFAULT '',"
	"  created TEXT NOT NULL);",
};

/* Heap tops this size and smaller stay with the process (glibc's default is 128 KiB). */
#define KEEP_HEAP_TOP (64u << 20)

int db_process_init(void)
{
	/* Also fixes the mmap threshold, so large blocks keep coming from mmap. */
	mallopt(M_TRIM_THRESHOLD, (int)KEEP_HEAP_TOP);
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) {
		log_warn("sqlite: allocation counters stay on (SQLite was already in use)", NULL);
		return -1;
	}
	return 0;
}

int db_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	log_error("sql failed", "err=\"%s\" sql=\"%.60s\"", err ? err : sqlite3_errmsg(db), sql);
	sqlite3_free(err);
	return -1;
}

static int user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
	if (rc == 0)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

/*
 * Apply the steps the file lacks. The version is read inside the write
 * transaction, so two processes opening a new file at once (ringerd noticing
 * a lookup.db that `ringer import` is just creating) never apply a step twice.
 */
static int migrate(sqlite3 *db, const char *path, const char *const *migrations, size_t n)
{
	char sql[64];
	int v;

	/* Up to date already (every open after the first): no write lock, which
	 * another process's long transaction could keep us waiting for. */
	if (user_version(db, &v) == 0 && v == (int)n)
		return 0;
	for (;;) {
		if (db_exec(db, "BEGIN IMMEDIATE") != 0)
			return -1;
		if (user_version(db, &v) != 0 || v > (int)n) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			log_error("database is newer than this build, or unreadable",
				  "path=%s known=%zu", path, n);
			return -1;
		}
		if (v == (int)n)
			return db_exec(db, "COMMIT");
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
		if (db_exec(db, migrations[v]) != 0 || db_exec(db, sql) != 0 ||
		    db_exec(db, "COMMIT") != 0) {
			log_error("migration failed", "path=%s to=%d", path, v + 1);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
}

static int module_version(sqlite3 *db, const char *module, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT version FROM schema_migrations WHERE module = ?1", -1,
			       &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int set_module_version(sqlite3 *db, const char *module, int v)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO schema_migrations(module, version) VALUES(?1, ?2)"
			       " ON CONFLICT(module) DO UPDATE SET version = excluded.version",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, v);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

int db_migrate_module(sqlite3 *db, const char *module, const char *const *migrations,
		      size_t n)
{
	int v;

	/* Current already (every start after the first): no write lock to wait for. */
	if (module_version(db, module, &v) == 0 && v == (int)n)
		return 0;
	/* The table must exist before a transaction reads it; creating it is idempotent. */
	if (db_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    " module TEXT PRIMARY KEY, version INTEGER NOT NULL)") != 0)
		return -1;
	for (;;) {
		if (db_exec(db, "BEGIN IMMEDIATE") != 0)
			return -1;
		if (module_version(db, module, &v) != 0 || v > (int)n) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			log_error("module schema is newer than this build, or unreadable",
				  "module=%s known=%zu", module, n);
			return -1;
		}
		if (v == (int)n)
			return db_exec(db, "COMMIT");
		if (db_exec(db, migrations[v]) != 0 || set_module_version(db, module, v + 1) != 0 ||
		    db_exec(db, "COMMIT") != 0) {
			log_error("migration failed", "module=%s to=%d", module, v + 1);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
}

int db_open(const char *path, bool readonly, const char *const *migrations, size_t n,
	    sqlite3 **out)
{
	int flags = readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	sqlite3 *db = NULL;
	int v;

	if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_error("cannot open database", "path=%s err=\"%s\"", path,
			  db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (!readonly) {
		/* WAL lets ringerd read while `ringer import` writes. */
		if (db_exec(db, "PRAGMA journal_mode=WAL") != 0 ||
		    db_exec(db, "PRAGMA synchronous=FULL") != 0 ||
		    migrate(db, path, migrations, n) != 0) {
			sqlite3_close(db);
			return -1;
		}
	} else if (user_version(db, &v) != 0 || v != (int)n) {
		log_error("database schema does not match this build", "path=%s", path);
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

int mgmt_open(const char *path, bool readonly, sqlite3 **out)
{
	return db_open(path, readonly, mgmt_migrations,
		       sizeof(mgmt_migrations) / sizeof(mgmt_migrations[0]), out);
}

int db_data_version(sqlite3 *db, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
	if (rc == 0)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc;
}
