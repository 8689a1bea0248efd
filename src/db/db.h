/* db.h - SQLite files: opening, numbered migrations, change detection.
 *
 * ringer keeps two files in its data directory: ringer.db for management
 * state (allowlists now; tokens, ports and accounts later) and lookup.db for
 * imported lookup data (numdb/store.h). Both are WAL-mode SQLite.
 */
#ifndef RINGER_DB_DB_H
#define RINGER_DB_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Process-wide SQLite and allocator settings for a server with many worker
 * threads; call once, first thing, before any other SQLite call. SQLite's
 * allocation counters take one global mutex on every malloc (contended by
 * every worker), and glibc gives each freed cursor buffer back to the kernel
 * at the top of a thread's heap (a madvise and a TLB flush on every core):
 * both are turned off. Returns 0, or -1 when SQLite was already in use.
 */
int db_process_init(void);

/*
 * Open path. When writable, create it if needed and apply migrations[v..n)
 * where v is the file's user_version, each in its own transaction. A file
 * newer than n migrations is refused. Returns 0 with *out, or -1 after logging.
 */
int db_open(const char *path, bool readonly, const char *const *migrations, size_t n,
	    sqlite3 **out);

/*
 * Bring one module's tables in db up to date: apply migrations[v..n) where v
 * is the version recorded for module in the schema_migrations table, each in
 * its own transaction with the version bump. Modules (auth, soa, ivy, ...)
 * keep their own numbered lists, so they never compete for one sequence.
 * Returns 0, or -1 after logging (the failed step is rolled back).
 */
int db_migrate_module(sqlite3 *db, const char *module, const char *const *migrations,
		      size_t n);

/* Open ringer.db with the management schema. */
int mgmt_open(const char *path, bool readonly, sqlite3 **out);

/*
 * A number that changes whenever another connection commits to db. Returns 0
 * or -1.
 */
int db_data_version(sqlite3 *db, int64_t *out);

/* Run sql (no results wanted). Returns 0, or -1 after logging what failed. */
int db_exec(sqlite3 *db, const char *sql);

#endif
