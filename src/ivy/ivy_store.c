/* ivy_store.c - Ivy schema, random secrets, hashing, audit rows. */
#include "ivy_store.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
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

void ivy_b64url(const unsigned char *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);

	/* RFC 4648 section 5: the URL-safe alphabet, no padding. */
	while (n > 0 && out[n - 1] == '=')
		n--;
	out[n] = '\0';
	for (char *p = out; *p; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
	}
}

int ivy_secret_new(const char *prefix, char out[IVY_SECRET_MAX])
{
	unsigned char raw[32];
	char enc[48];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	ivy_b64url(raw, sizeof(raw), enc);
	snprintf(out, IVY_SECRET_MAX, "%s%s", prefix, enc);
	return 0;
}

void ivy_hash_hex(const char *s, char out[IVY_HASH_HEX])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)s, strlen(s), md);
	for (size_t i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int ivy_audit(sqlite3 *db, const struct ivy_actor *who, const char *action,
	      const char *target, int64_t account_id, const char *detail)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "INSERT INTO ivy_audit(at, actor, source, account_id, action,"
			       " target, detail) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, clock_now());
	sqlite3_bind_text(st, 2, who ? who->who : "system", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, who ? who->source : "local", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, account_id);
	sqlite3_bind_text(st, 5, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, detail ? detail : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	if (rc != 0)
		log_error("audit write failed", "action=%s err=\"%s\"", action, sqlite3_errmsg(db));
	return rc;
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
