/* ivy_store.c - Ivy schema, random secrets, hashing, audit rows. */
#include "ivy_store.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../db/db.h"

static const char *const ivy_migrations[] = {
	/* 1: accounts form a tree; path is "/1/5/9/" so a subtree is one prefix match. */
	"CREATE TABLE ivy_accounts ("
	"  id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES ivy_accounts(id),"
	"  path TEXT NOT NULL DEFAULT '', depth INTEGER NOT NULL,"
	"  name TEXT NOT NULL, status TEXT NOT NULL, email TEXT NOT NULL DEFAULT '',"
	"  phone TEXT NOT NULL DEFAULT '', locale TEXT NOT NULL DEFAULT 'en-US',"
	"  plan TEXT NOT NULL DEFAULT '', balance TEXT NOT NULL DEFAULT '0.00',"
	"  balance_pref TEXT NOT NULL DEFAULT '0.00', recharge_pref TEXT NOT NULL DEFAULT '0.00',"
	"  max_recharge_pref TEXT NOT NULL DEFAULT '0.00',"
	"  international INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);"
	"CREATE INDEX ivy_accounts_path ON ivy_accounts(path);"
	"CREATE TABLE ivy_users ("
	"  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES ivy_accounts(id),"
	"  email TEXT NOT NULL UNIQUE COLLATE NOCASE, first_name TEXT NOT NULL DEFAULT '',"
	"  last_name TEXT NOT NULL DEFAULT '', role TEXT NOT NULL, active INTEGER NOT NULL,"
	"  locale TEXT NOT NULL DEFAULT 'en-US', pw_hash TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL);"
	"CREATE INDEX ivy_users_account ON ivy_users(account_id);"
	"CREATE TABLE oauth_clients ("
	"  id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL DEFAULT '',"
	"  confidential INTEGER NOT NULL, account_id INTEGER NOT NULL REFERENCES ivy_accounts(id),"
	"  name TEXT NOT NULL, redirect_uris TEXT NOT NULL DEFAULT '', grants INTEGER NOT NULL,"
	"  scopes INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL);"
	/* kind: 'a' access, 'r' refresh; family ties a refresh chain together. */
	"CREATE TABLE oauth_tokens ("
	"  hash TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL,"
	"  account_id INTEGER NOT NULL, user_id INTEGER NOT NULL, scopes INTEGER NOT NULL,"
	"  family TEXT NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
	"  rotated INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX oauth_tokens_family ON oauth_tokens(family);"
	"CREATE INDEX oauth_tokens_client ON oauth_tokens(client_id);"
	"CREATE TABLE oauth_codes ("
	"  hash TEXT PRIMARY KEY, client_id TEXT NOT NULL, account_id INTEGER NOT NULL,"
	"  user_id INTEGER NOT NULL, redirect_uri TEXT NOT NULL, scopes INTEGER NOT NULL,"
	"  challenge TEXT NOT NULL, expires_at INTEGER NOT NULL,"
	"  family TEXT NOT NULL DEFAULT '');"
	/* kind: 'confirm' (sign-up) or 'reset' (password); single use. */
	"CREATE TABLE ivy_onetime ("
	"  hash TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE ivy_login_failures ("
	"  key TEXT PRIMARY KEY, failures INTEGER NOT NULL, first_at INTEGER NOT NULL);"
	"CREATE TABLE ivy_audit ("
	"  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL,"
	"  source TEXT NOT NULL, account_id INTEGER NOT NULL, action TEXT NOT NULL,"
	"  target TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX ivy_audit_account ON ivy_audit(account_id);",
	/*
	 * 2: access tokens are signed JWTs with no row. Revoking one, or a whole
	 * family, puts "j:JTI" or "f:FAMILY" here until no such token can still be
	 * live; a user's token_gen rises to void all of that user's tokens.
	 */
	"CREATE TABLE oauth_revoked (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);"
	"ALTER TABLE ivy_users ADD COLUMN token_gen INTEGER NOT NULL DEFAULT 0;"
	"CREATE INDEX ivy_accounts_status ON ivy_accounts(status);"
	"DELETE FROM oauth_tokens WHERE kind = 'a';",
};

int ivy_store_migrate(sqlite3 *db)
{
	return db_migrate_module(db, "ivy", ivy_migrations,
				 sizeof(ivy_migrations) / sizeof(ivy_migrations[0]));
}

/* Enough for every statement a request path keeps; more are prepared afresh. */
#define STMT_CACHE_MAX 48

struct stmt_slot {
	char *sql;
	sqlite3_stmt *st;
};

static _Thread_local struct {
	sqlite3 *db;
	unsigned n;
	struct stmt_slot slot[STMT_CACHE_MAX];
} stmt_cache;

void ivy_stmt_cache_release(sqlite3 *db)
{
	if (db == NULL || stmt_cache.db != db)
		return;
	for (unsigned i = 0; i < stmt_cache.n; i++) {
		sqlite3_finalize(stmt_cache.slot[i].st);
		free(stmt_cache.slot[i].sql);
	}
	stmt_cache.n = 0;
	stmt_cache.db = NULL;
}

void ivy_stmt_cache_own(sqlite3 *db)
{
	ivy_stmt_cache_release(stmt_cache.db);
	stmt_cache.db = db;
}

static int stmt_keep(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
	sqlite3_stmt *st;
	char *key = strdup(sql);

	if (key == NULL)
		return -1;
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		free(key);
		return -1;
	}
	stmt_cache.slot[stmt_cache.n++] = (struct stmt_slot){ key, st };
	*out = st;
	return 0;
}

int ivy_stmt_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
	if (db == stmt_cache.db) {
		for (unsigned i = 0; i < stmt_cache.n; i++) {
			if (strcmp(stmt_cache.slot[i].sql, sql) == 0) {
				*out = stmt_cache.slot[i].st;
				return 0;
			}
		}
		if (stmt_cache.n < STMT_CACHE_MAX)
			return stmt_keep(db, sql, out);
	}
	return sqlite3_prepare_v2(db, sql, -1, out, NULL) == SQLITE_OK ? 0 : -1;
}

void ivy_stmt_done(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	if (stmt_cache.db && sqlite3_db_handle(st) == stmt_cache.db) {
		for (unsigned i = 0; i < stmt_cache.n; i++) {
			if (stmt_cache.slot[i].st == st) {
				sqlite3_reset(st);
				sqlite3_clear_bindings(st);
				return;
			}
		}
	}
	sqlite3_finalize(st);
}

static int stmt_run(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	if (ivy_stmt_prepare(db, sql, &st) != 0)
		return -1;
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	ivy_stmt_done(st);
	return rc;
}

int ivy_read_begin(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		return 1;
	return stmt_run(db, "BEGIN") == 0 ? 0 : -1;
}

void ivy_read_end(sqlite3 *db, int began)
{
	/* Nothing was written: a failed COMMIT only needs the read ended. */
	if (began == 0 && stmt_run(db, "COMMIT") != 0 && !sqlite3_get_autocommit(db))
		stmt_run(db, "ROLLBACK");
}

/* One audit row as it is written; also what waits in the writer's queue. */
struct audit_row {
	int64_t at, account_id;
	char actor[96], source[48], action[48], target[96], detail[128];
	struct audit_wait *wait; /* a waiting caller, or NULL ... */
	ivy_audit_done_fn done;  /* ... one told by callback */
	void *done_arg;
};

/* Where a caller learns that the transaction holding its row has ended. */
struct audit_wait {
	bool done;
	int rc;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t more, room, done;
	struct audit_row q[IVY_AUDIT_QUEUE_MAX];
	struct audit_row batch[IVY_AUDIT_QUEUE_MAX]; /* the writer's alone */
	unsigned head, n;
	bool running, stopping;
	pthread_t thread;
	sqlite3 *db;
} aw = { .mu = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER,
	 .room = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER };

static const char audit_insert_sql[] =
	"INSERT INTO ivy_audit(at, actor, source, account_id, action, target, detail)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)";

static int audit_insert(sqlite3 *db, sqlite3_stmt *st, const struct audit_row *r)
{
	int rc;

	sqlite3_bind_int64(st, 1, r->at);
	sqlite3_bind_text(st, 2, r->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->account_id);
	sqlite3_bind_text(st, 5, r->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->detail, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	if (rc != 0)
		log_error("audit write failed", "action=%s err=\"%s\"", r->action,
			  sqlite3_errmsg(db));
	sqlite3_reset(st);
	return rc;
}

/* Write rows in one transaction: one fsync for all of them. */
static int audit_write_batch(sqlite3 *db, const struct audit_row *rows, unsigned n)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, audit_insert_sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("audit write failed", "err=\"%s\"", sqlite3_errmsg(db));
		return -1;
	}
	rc = ivy_tx_begin(db);
	for (unsigned i = 0; rc == 0 && i < n; i++)
		rc = audit_insert(db, st, &rows[i]);
	sqlite3_finalize(st);
	return ivy_tx_end(db, rc);
}

static void *audit_writer(void *arg)
{
	unsigned n;
	int rc;

	(void)arg;
	pthread_mutex_lock(&aw.mu);
	for (;;) {
		while (aw.n == 0 && !aw.stopping)
			pthread_cond_wait(&aw.more, &aw.mu);
		if (aw.n == 0)
			break; /* stopping, and everything queued is written */
		/* Take all that queued while the last commit ran: batches grow with load. */
		for (n = 0; aw.n > 0; n++, aw.n--) {
			aw.batch[n] = aw.q[aw.head];
			aw.head = (aw.head + 1) % IVY_AUDIT_QUEUE_MAX;
		}
		pthread_cond_broadcast(&aw.room);
		pthread_mutex_unlock(&aw.mu);
		rc = audit_write_batch(aw.db, aw.batch, n);
		pthread_mutex_lock(&aw.mu);
		for (unsigned i = 0; i < n; i++) {
			if (aw.batch[i].wait == NULL)
				continue;
			aw.batch[i].wait->rc = rc;
			aw.batch[i].wait->done = true;
		}
		pthread_cond_broadcast(&aw.done);
		/* Callbacks outside the lock: they may take locks of their own. */
		pthread_mutex_unlock(&aw.mu);
		for (unsigned i = 0; i < n; i++)
			if (aw.batch[i].wait == NULL)
				aw.batch[i].done(aw.batch[i].done_arg, rc);
		pthread_mutex_lock(&aw.mu);
	}
	pthread_mutex_unlock(&aw.mu);
	return NULL;
}

int ivy_audit_writer_start(sqlite3 *db)
{
	int rc;

	pthread_mutex_lock(&aw.mu);
	if (aw.running) {
		/* Mounted again in one process: the running writer serves both. */
		pthread_mutex_unlock(&aw.mu);
		sqlite3_close(db);
		return 0;
	}
	aw.db = db;
	aw.head = aw.n = 0;
	aw.stopping = false;
	rc = pthread_create(&aw.thread, NULL, audit_writer, NULL) == 0 ? 0 : -1;
	aw.running = rc == 0;
	pthread_mutex_unlock(&aw.mu);
	if (rc != 0) {
		log_error("ivy: cannot start the audit writer", NULL);
		sqlite3_close(db);
	}
	return rc;
}

void ivy_audit_writer_stop(void)
{
	pthread_mutex_lock(&aw.mu);
	if (!aw.running || aw.stopping) {
		pthread_mutex_unlock(&aw.mu);
		return;
	}
	aw.stopping = true;
	pthread_cond_signal(&aw.more);
	pthread_mutex_unlock(&aw.mu);
	pthread_join(aw.thread, NULL);
	pthread_mutex_lock(&aw.mu);
	sqlite3_close(aw.db);
	aw.db = NULL;
	aw.running = aw.stopping = false;
	pthread_mutex_unlock(&aw.mu);
}

/*
 * Queue r for the writer. With r->wait set, wait until its transaction
 * ended and return its result; without, return 0 at once (r->done will be
 * called). 1 = no writer runs: nothing was queued.
 */
static int audit_queue(struct audit_row *r)
{
	struct audit_wait w = { false, 0 };
	bool waiting = r->done == NULL;

	pthread_mutex_lock(&aw.mu);
	while (aw.running && !aw.stopping && aw.n == IVY_AUDIT_QUEUE_MAX)
		pthread_cond_wait(&aw.room, &aw.mu);
	if (!aw.running || aw.stopping) {
		pthread_mutex_unlock(&aw.mu);
		return 1;
	}
	r->wait = waiting ? &w : NULL;
	aw.q[(aw.head + aw.n) % IVY_AUDIT_QUEUE_MAX] = *r;
	aw.n++;
	pthread_cond_signal(&aw.more);
	while (waiting && !w.done)
		pthread_cond_wait(&aw.done, &aw.mu);
	pthread_mutex_unlock(&aw.mu);
	return w.rc;
}

static void audit_fill(struct audit_row *r, const struct ivy_actor *who, const char *action,
		       const char *target, int64_t account_id, const char *detail)
{
	memset(r, 0, sizeof(*r));
	r->at = clock_now();
	r->account_id = account_id;
	snprintf(r->actor, sizeof(r->actor), "%s", who ? who->who : "system");
	snprintf(r->source, sizeof(r->source), "%s", who ? who->source : "local");
	snprintf(r->action, sizeof(r->action), "%s", action);
	snprintf(r->target, sizeof(r->target), "%s", target);
	snprintf(r->detail, sizeof(r->detail), "%s", detail ? detail : "");
}

/* Write r on db itself (inside its transaction, or when no writer runs). */
static int audit_direct(sqlite3 *db, const struct audit_row *r)
{
	sqlite3_stmt *st;
	int rc;

	if (ivy_stmt_prepare(db, audit_insert_sql, &st) != 0)
		return -1;
	rc = audit_insert(db, st, r);
	ivy_stmt_done(st);
	return rc;
}

int ivy_audit(sqlite3 *db, const struct ivy_actor *who, const char *action,
	      const char *target, int64_t account_id, const char *detail)
{
	struct audit_row r;
	int rc;

	audit_fill(&r, who, action, target, account_id, detail);
	/* Inside the caller's transaction the row must commit, or not, with the change. */
	if (sqlite3_get_autocommit(db) && (rc = audit_queue(&r)) <= 0)
		return rc;
	return audit_direct(db, &r);
}

void ivy_audit_async(sqlite3 *db, const struct ivy_actor *who, const char *action,
		     const char *target, int64_t account_id, const char *detail,
		     ivy_audit_done_fn done, void *arg)
{
	struct audit_row r;

	audit_fill(&r, who, action, target, account_id, detail);
	r.done = done;
	r.done_arg = arg;
	if (sqlite3_get_autocommit(db) && audit_queue(&r) == 0)
		return;
	done(arg, audit_direct(db, &r));
}

static void text_col(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	snprintf(out, outlen, "%s", v ? (const char *)v : "");
}

int ivy_audit_list(sqlite3 *db, const char *path, unsigned limit,
		   void (*fn)(const struct ivy_audit_entry *, void *), void *arg)
{
	struct ivy_audit_entry e;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT l.id, l.at, l.account_id, l.actor, l.source, l.action,"
			       " l.target, l.detail FROM ivy_audit l JOIN ivy_accounts a"
			       " ON a.id = l.account_id WHERE substr(a.path, 1, length(?1)) = ?1"
			       " ORDER BY l.id DESC LIMIT ?2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e.id = sqlite3_column_int64(st, 0);
		e.at = sqlite3_column_int64(st, 1);
		e.account_id = sqlite3_column_int64(st, 2);
		text_col(st, 3, e.actor, sizeof(e.actor));
		text_col(st, 4, e.source, sizeof(e.source));
		text_col(st, 5, e.action, sizeof(e.action));
		text_col(st, 6, e.target, sizeof(e.target));
		text_col(st, 7, e.detail, sizeof(e.detail));
		fn(&e, arg);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int ivy_tx_begin(sqlite3 *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int ivy_tx_end(sqlite3 *db, int rc)
{
	if (rc == 0 && db_exec(db, "COMMIT") == 0)
		return 0;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc == 0 ? -1 : rc;
}
