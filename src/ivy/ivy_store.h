/* ivy_store.h - the Ivy tables in ringer.db, secrets, and the audit trail.
 *
 * Every Ivy table (accounts, users, OAuth clients, tokens, one-time tokens,
 * login failures, audit) is created by the "ivy" module's numbered
 * migrations. Secrets the server hands out (client secrets, access and
 * refresh tokens, codes, confirmation and reset tokens) are 32 random bytes
 * in base64url behind a short prefix; only their SHA-256 is stored, so a
 * copy of the database yields nothing that can be presented.
 */
#ifndef RINGER_IVY_IVY_STORE_H
#define RINGER_IVY_IVY_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "../auth/secret.h"

/* Secrets and hashes come from auth/secret.h (secret_new, secret_sha256_hex). */
#define IVY_SECRET_MAX 64 /* a prefix, 43 base64url characters and a NUL fit */
#define IVY_HASH_HEX SECRET_HASH_HEX

/* Create or upgrade the Ivy tables in db. Returns 0, or -1 after logging. */
int ivy_store_migrate(sqlite3 *db);

/* Who did something, and from where: filled by the API layer or the CLI. */
struct ivy_actor {
	char who[96];     /* "user:7", "client:ivc_...", "cli" */
	char source[48];  /* client address, or "local" */
	int64_t account_id; /* the account acted in; 0 when none */
};

/*
 * Record one change: action ("user.create"), target ("user:9") and detail
 * (short free text, no secrets) at the clock's now. Returns 0 or -1. When
 * the audit writer runs and db has no transaction open, the row goes to the
 * writer and the call returns once the writer's transaction holding it has
 * committed; inside a transaction it is written there, with the change.
 */
int ivy_audit(sqlite3 *db, const struct ivy_actor *who, const char *action,
	      const char *target, int64_t account_id, const char *detail);

/*
 * ivy_audit without waiting: done(arg, rc) is called once the transaction
 * holding the row has ended (rc 0 committed, -1 not), on the writer's
 * thread; or before this returns, when the row is written on db directly
 * (db inside a transaction, or no writer running).
 */
typedef void (*ivy_audit_done_fn)(void *arg, int rc);
void ivy_audit_async(sqlite3 *db, const struct ivy_actor *who, const char *action,
		     const char *target, int64_t account_id, const char *detail,
		     ivy_audit_done_fn done, void *arg);

/*
 * Group commit of audit rows: one thread takes the queued rows (at most
 * IVY_AUDIT_QUEUE_MAX wait; callers beyond that block until there is room)
 * and writes each batch in one transaction, so concurrent callers share one
 * fsync. Takes db (opened with synchronous=FULL) and closes it when stopped.
 * Returns 0, or -1 (db is then closed) after logging.
 */
#define IVY_AUDIT_QUEUE_MAX 1024
int ivy_audit_writer_start(sqlite3 *db);

/* Write what is queued, end the writer and close its connection. */
void ivy_audit_writer_stop(void);

struct ivy_audit_entry {
	int64_t id, at, account_id;
	char actor[96], source[48], action[48], target[96], detail[128];
};

/*
 * Call fn for the newest limit entries of accounts whose path starts with
 * path (a subtree), newest first. Returns 0 or -1.
 */
int ivy_audit_list(sqlite3 *db, const char *path, unsigned limit,
		   void (*fn)(const struct ivy_audit_entry *, void *), void *arg);

/*
 * Per-thread prepared statements. Each worker thread's request connection
 * (ivy_db()) is handed to ivy_stmt_cache_own(); from then on, on that thread,
 * ivy_stmt_prepare() on that connection compiles a statement once
 * (SQLITE_PREPARE_PERSISTENT) and keeps it, keyed by its SQL text, so hot
 * requests compile nothing. On any other connection (the CLI, tests) it
 * prepares afresh. ivy_stmt_done() resets a kept statement (which ends its
 * implicit read) or finalizes any other. A kept statement must be done
 * before the same SQL is prepared again on the thread: only single-step
 * lookups and writes use it, never a loop that calls out.
 */
void ivy_stmt_cache_own(sqlite3 *db);

/* Finalize what the thread keeps for db; call before closing db. */
void ivy_stmt_cache_release(sqlite3 *db);

/* Prepare sql (or take the kept statement). Returns 0 with *out, or -1. */
int ivy_stmt_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out);

/* Reset and unbind a kept statement, or finalize another; NULL is ignored. */
void ivy_stmt_done(sqlite3_stmt *st);

/*
 * One read transaction around a request's lookups, so they share one
 * snapshot and take the WAL read lock once. Does nothing (returns 1) when a
 * transaction is already open. Returns 0 when it began one, or -1.
 */
int ivy_read_begin(sqlite3 *db);

/* End what ivy_read_begin() began (began == 0); otherwise do nothing. */
void ivy_read_end(sqlite3 *db, int began);

/* BEGIN IMMEDIATE, so that a read-then-write cannot race another writer. */
int ivy_tx_begin(sqlite3 *db);

/* COMMIT when rc == 0, else ROLLBACK. Returns rc, or -1 if the commit failed. */
int ivy_tx_end(sqlite3 *db, int rc);

#endif
