/* account.c - accounts, users, roles, argon2id passwords, login throttling. */
#include "account.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "oauth.h"

/* The one role -> permission table. */
static const struct {
	const char *name;
	unsigned perms;
} roles[] = {
	[ROLE_OWNER] = { "owner", ~0u },
	[ROLE_ADMIN] = { "admin", ~0u },
	[ROLE_BILLING] = { "billing", PERM_ACCOUNT_READ | PERM_USER_READ | PERM_BILLING_READ |
					PERM_BILLING_WRITE },
	[ROLE_MEMBER] = { "member", PERM_ACCOUNT_READ | PERM_USER_READ | PERM_CHILD_READ |
				      PERM_BILLING_READ },
	[ROLE_READ_ONLY] = { "read-only", PERM_ACCOUNT_READ | PERM_USER_READ },
};

#define N_ROLES (sizeof(roles) / sizeof(roles[0]))

int ivy_role_parse(const char *s)
{
	for (size_t i = 0; s && i < N_ROLES; i++) {
		if (strcmp(s, roles[i].name) == 0)
			return (int)i;
	}
	return -1;
}

const char *ivy_role_name(int role)
{
	return role >= 0 && (size_t)role < N_ROLES ? roles[role].name : "read-only";
}

unsigned ivy_role_perms(int role)
{
	return role >= 0 && (size_t)role < N_ROLES ? roles[role].perms : 0;
}

unsigned ivy_perm_scope(unsigned perm)
{
	/* Managing people, the tree and the audit trail is administration. */
	if (perm & (PERM_USER_WRITE | PERM_CHILD_WRITE | PERM_AUDIT_READ))
		return OAUTH_ADMIN;
	if (perm & (PERM_ACCOUNT_WRITE | PERM_BILLING_WRITE))
		return OAUTH_WRITE;
	return OAUTH_READ;
}

int account_crypto_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

static int step_done(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_CONSTRAINT)
		log_error("sql failed", "err=\"%s\"", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : rc == SQLITE_CONSTRAINT ? 1 : -1;
}

static void col_copy(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const unsigned char *v = sqlite3_column_text(st, i);

	snprintf(out, outlen, "%s", v ? (const char *)v : "");
}

/* ---- accounts ---- */

#define ACCOUNT_COLS "id, IFNULL(parent_id, 0), path, depth, name, status, email, phone," \
		     " locale, plan, balance, balance_pref, recharge_pref, max_recharge_pref," \
		     " international, created_at"

static void account_row(sqlite3_stmt *st, struct ivy_account *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	a->parent_id = sqlite3_column_int64(st, 1);
	col_copy(st, 2, a->path, sizeof(a->path));
	a->depth = sqlite3_column_int(st, 3);
	col_copy(st, 4, a->name, sizeof(a->name));
	col_copy(st, 5, a->status, sizeof(a->status));
	col_copy(st, 6, a->email, sizeof(a->email));
	col_copy(st, 7, a->phone, sizeof(a->phone));
	col_copy(st, 8, a->locale, sizeof(a->locale));
	col_copy(st, 9, a->plan, sizeof(a->plan));
	col_copy(st, 10, a->balance, sizeof(a->balance));
	col_copy(st, 11, a->balance_pref, sizeof(a->balance_pref));
	col_copy(st, 12, a->recharge_pref, sizeof(a->recharge_pref));
	col_copy(st, 13, a->max_recharge_pref, sizeof(a->max_recharge_pref));
	a->international = sqlite3_column_int(st, 14) != 0;
	a->created_at = sqlite3_column_int64(st, 15);
}

int account_get(sqlite3 *db, int64_t id, struct ivy_account *out)
{
	sqlite3_stmt *st;
	int rc;

	if (ivy_stmt_prepare(db, "SELECT " ACCOUNT_COLS " FROM ivy_accounts WHERE id = ?1",
			     &st) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		account_row(st, out);
	ivy_stmt_done(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

bool account_in_subtree(const struct ivy_account *root, const struct ivy_account *a)
{
	size_t n = strlen(root->path);

	return n > 0 && strncmp(a->path, root->path, n) == 0;
}

static int account_insert(sqlite3 *db, const struct ivy_account *parent, const char *name,
			  const char *email, const char *status, int64_t *id)
{
	char path[160];
	sqlite3_stmt *st;
	int64_t nid;

	if (sqlite3_prepare_v2(db, "INSERT INTO ivy_accounts(parent_id, depth, name, status,"
			       " email, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6)", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	if (parent)
		sqlite3_bind_int64(st, 1, parent->id);
	else
		sqlite3_bind_null(st, 1);
	sqlite3_bind_int(st, 2, parent ? parent->depth + 1 : 1);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, email ? email : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, clock_now());
	if (step_done(db, st) != 0)
		return -1;
	nid = sqlite3_last_insert_rowid(db);
	/* Three levels of ids fit the 128 bytes a path is read back into. */
	snprintf(path, sizeof(path), "%s%lld/", parent ? parent->path : "/", (long long)nid);
	if (sqlite3_prepare_v2(db, "UPDATE ivy_accounts SET path = ?2 WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, nid);
	sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
	if (step_done(db, st) != 0)
		return -1;
	*id = nid;
	return 0;
}

int account_create(sqlite3 *db, int64_t parent_id, const char *name, const char *email,
		   const char *status, int64_t *id)
{
	struct ivy_account parent;
	int rc;

	if (name == NULL || name[0] == '\0' || strlen(name) >= sizeof(parent.name))
		return 1;
	if (parent_id) {
		if ((rc = account_get(db, parent_id, &parent)) != 0)
			return rc;
		if (parent.depth >= ACCOUNT_MAX_DEPTH)
			return 1;
	}
	if (ivy_tx_begin(db) != 0)
		return -1;
	rc = account_insert(db, parent_id ? &parent : NULL, name, email, status, id);
	return ivy_tx_end(db, rc);
}

/* A money amount as the contract writes it: digits, a dot, two digits. */
static bool dollars_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return n >= 1 && n <= 9 && s[n] == '.' && strspn(s + n + 1, "0123456789") == 2 &&
	       s[n + 3] == '\0';
}

/* A locale like "en", "en-US", "en-GB". */
static bool locale_ok(const char *s)
{
	size_t n = strlen(s);

	return (n == 2 || n == 5) && strspn(s, "abcdefghijklmnopqrstuvwxyz") == 2 &&
	       (n == 2 || (s[2] == '-' && strspn(s + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 2));
}

static bool update_ok(const struct account_update *u)
{
	if (u->name && (u->name[0] == '\0' || strlen(u->name) >= 128))
		return false;
	if (u->locale && !locale_ok(u->locale))
		return false;
	return (!u->balance_pref || dollars_ok(u->balance_pref)) &&
	       (!u->recharge_pref || dollars_ok(u->recharge_pref)) &&
	       (!u->max_recharge_pref || dollars_ok(u->max_recharge_pref));
}

int account_update(sqlite3 *db, int64_t id, const struct account_update *u)
{
	sqlite3_stmt *st;

	if (!update_ok(u))
		return 1;
	if (sqlite3_prepare_v2(db, "UPDATE ivy_accounts SET name = IFNULL(?2, name),"
			       " locale = IFNULL(?3, locale),"
			       " balance_pref = IFNULL(?4, balance_pref),"
			       " recharge_pref = IFNULL(?5, recharge_pref),"
			       " max_recharge_pref = IFNULL(?6, max_recharge_pref) WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, u->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->locale, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, u->balance_pref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, u->recharge_pref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, u->max_recharge_pref, -1, SQLITE_STATIC);
	return step_done(db, st) == 0 ? 0 : -1;
}

int account_set_status(sqlite3 *db, int64_t id, const char *status)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "UPDATE ivy_accounts SET status = ?2 WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	if (step_done(db, st) != 0)
		return -1;
	return sqlite3_changes(db) ? 0 : 1;
}

int account_move_status(sqlite3 *db, int64_t id, const char *from, const char *to)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "UPDATE ivy_accounts SET status = ?3 WHERE id = ?1"
			       " AND status = ?2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, to, -1, SQLITE_STATIC);
	if (step_done(db, st) != 0)
		return -1;
	return sqlite3_changes(db) ? 0 : 1;
}

int account_list_below(sqlite3 *db, const struct ivy_account *root,
		       void (*fn)(const struct ivy_account *, void *), void *arg)
{
	struct ivy_account a;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT " ACCOUNT_COLS " FROM ivy_accounts WHERE id != ?1"
			       " AND substr(path, 1, length(?2)) = ?2 ORDER BY id", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, root->id);
	sqlite3_bind_text(st, 2, root->path, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		account_row(st, &a);
		fn(&a, arg);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- users ---- */

#define USER_COLS "id, account_id, email, first_name, last_name, role, active, locale, created_at"

static void user_row(sqlite3_stmt *st, struct ivy_user *u)
{
	char role[16];

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	u->account_id = sqlite3_column_int64(st, 1);
	col_copy(st, 2, u->email, sizeof(u->email));
	col_copy(st, 3, u->first_name, sizeof(u->first_name));
	col_copy(st, 4, u->last_name, sizeof(u->last_name));
	col_copy(st, 5, role, sizeof(role));
	u->role = ivy_role_parse(role);
	u->active = sqlite3_column_int(st, 6) != 0;
	col_copy(st, 7, u->locale, sizeof(u->locale));
	u->created_at = sqlite3_column_int64(st, 8);
}

static int user_query(sqlite3 *db, const char *where, int64_t id, const char *text,
		      struct ivy_user *out)
{
	char sql[256];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT " USER_COLS " FROM ivy_users WHERE %s", where);
	if (ivy_stmt_prepare(db, sql, &st) != 0)
		return -1;
	if (text)
		sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		user_row(st, out);
	ivy_stmt_done(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int user_get(sqlite3 *db, int64_t id, struct ivy_user *out)
{
	return user_query(db, "id = ?1", id, NULL, out);
}

int user_get_by_email(sqlite3 *db, const char *email, struct ivy_user *out)
{
	return user_query(db, "email = ?1", 0, email, out);
}

static bool email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	return at && at != s && strchr(at + 1, '.') && !strchr(at + 1, '@') &&
	       strlen(s) < 128 && !strpbrk(s, " \t\r\n<>\"'");
}

static bool user_ok(const struct ivy_user *u)
{
	return email_ok(u->email) && u->role >= 0 && (size_t)u->role < N_ROLES &&
	       locale_ok(u->locale);
}

int user_create(sqlite3 *db, struct ivy_user *u, const char *password)
{
	char hash[crypto_pwhash_STRBYTES] = "";
	sqlite3_stmt *st;
	int rc;

	if (!user_ok(u) || (password && !user_password_ok(password)))
		return 2;
	if (password && crypto_pwhash_str(hash, password, strlen(password),
					  crypto_pwhash_OPSLIMIT_INTERACTIVE,
					  crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return -1;
	if (sqlite3_prepare_v2(db, "INSERT INTO ivy_users(account_id, email, first_name, last_name,"
			       " role, active, locale, pw_hash, created_at)"
			       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, u->account_id);
	sqlite3_bind_text(st, 2, u->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->first_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, u->last_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ivy_role_name(u->role), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, u->active);
	sqlite3_bind_text(st, 7, u->locale, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, clock_now());
	rc = step_done(db, st);
	if (rc == 0) {
		u->id = sqlite3_last_insert_rowid(db);
		u->created_at = clock_now();
	}
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

int user_save(sqlite3 *db, const struct ivy_user *u)
{
	sqlite3_stmt *st;

	if (!user_ok(u))
		return 2;
	if (sqlite3_prepare_v2(db, "UPDATE ivy_users SET email = ?2, first_name = ?3,"
			       " last_name = ?4, role = ?5, active = ?6, locale = ?7 WHERE id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, u->id);
	sqlite3_bind_text(st, 2, u->email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, u->first_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, u->last_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ivy_role_name(u->role), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, u->active);
	sqlite3_bind_text(st, 7, u->locale, -1, SQLITE_STATIC);
	return step_done(db, st);
}

static int exec_id(sqlite3 *db, const char *sql, int64_t id)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return step_done(db, st) == 0 ? 0 : -1;
}

int user_delete(sqlite3 *db, int64_t id)
{
	int rc, changed = 0;

	if (ivy_tx_begin(db) != 0)
		return -1;
	rc = exec_id(db, "DELETE FROM ivy_users WHERE id = ?1", id);
	if (rc == 0)
		changed = sqlite3_changes(db);
	if (rc == 0)
		rc = user_revoke_tokens(db, id);
	if (rc == 0)
		rc = exec_id(db, "DELETE FROM ivy_onetime WHERE user_id = ?1", id);
	if (ivy_tx_end(db, rc) != 0)
		return -1;
	return changed ? 0 : 1;
}

int user_revoke_tokens(sqlite3 *db, int64_t id)
{
	/* Refresh tokens have rows; access tokens carry the generation this voids. */
	if (exec_id(db, "UPDATE oauth_tokens SET revoked = 1 WHERE user_id = ?1", id) != 0)
		return -1;
	return exec_id(db, "UPDATE ivy_users SET token_gen = token_gen + 1 WHERE id = ?1", id);
}

int user_list(sqlite3 *db, int64_t account_id, void (*fn)(const struct ivy_user *, void *),
	      void *arg)
{
	struct ivy_user u;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT " USER_COLS " FROM ivy_users WHERE account_id = ?1"
			       " ORDER BY last_name, first_name, id", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, account_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		user_row(st, &u);
		fn(&u, arg);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

bool user_password_ok(const char *password)
{
	size_t n = password ? strlen(password) : 0;

	return n >= 10 && n <= 128;
}

int user_set_password(sqlite3 *db, int64_t id, const char *password)
{
	char hash[crypto_pwhash_STRBYTES];
	sqlite3_stmt *st;
	int rc;

	if (!user_password_ok(password))
		return 2;
	if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return -1;
	if (sqlite3_prepare_v2(db, "UPDATE ivy_users SET pw_hash = ?2 WHERE id = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
	rc = step_done(db, st) == 0 ? 0 : -1;
	sodium_memzero(hash, sizeof(hash));
	return rc;
}

/* ---- login ---- */

/* Failures recorded for key within the window. */
static int failures(sqlite3 *db, const struct login_policy *p, const char *key, unsigned *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT failures FROM ivy_login_failures WHERE key = ?1"
			       " AND first_at > ?2", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, clock_now() - p->window);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? (unsigned)sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Count one failure for key; a count from a window that has passed starts over. */
static int failure_add(sqlite3 *db, const struct login_policy *p, const char *key)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "INSERT INTO ivy_login_failures(key, failures, first_at)"
			       " VALUES(?1, 1, ?2) ON CONFLICT(key) DO UPDATE SET"
			       " failures = CASE WHEN first_at > ?3 THEN failures + 1 ELSE 1 END,"
			       " first_at = CASE WHEN first_at > ?3 THEN first_at ELSE ?2 END",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, clock_now());
	sqlite3_bind_int64(st, 3, clock_now() - p->window);
	return step_done(db, st) == 0 ? 0 : -1;
}

static int failure_clear(sqlite3 *db, const char *key)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "DELETE FROM ivy_login_failures WHERE key = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return step_done(db, st) == 0 ? 0 : -1;
}

/* The stored hash of email's user ("" when none), and the user. */
static int pw_hash_get(sqlite3 *db, const char *email, char *hash, size_t hashlen,
		       struct ivy_user *u)
{
	sqlite3_stmt *st;
	int rc;

	hash[0] = '\0';
	if (sqlite3_prepare_v2(db, "SELECT " USER_COLS ", pw_hash FROM ivy_users"
			       " WHERE email = ?1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		user_row(st, u);
		col_copy(st, 9, hash, hashlen);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* A hash of a random password, made once, to verify against when there is no user. */
static char decoy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t decoy_once = PTHREAD_ONCE_INIT;

static void decoy_make(void)
{
	char pw[33];

	randombytes_buf(pw, sizeof(pw) - 1);
	for (size_t i = 0; i < sizeof(pw) - 1; i++)
		pw[i] = (char)('a' + (unsigned char)pw[i] % 26);
	pw[sizeof(pw) - 1] = '\0';
	if (crypto_pwhash_str(decoy_hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		decoy_hash[0] = '\0';
}

/*
 * Verify password against hash; with no usable hash (no such user, or an
 * inactive one) verify against the decoy instead and fail, so that an unknown
 * address costs the same argon2id time as a known one and timing tells nothing.
 */
static bool password_matches(const char *hash, bool usable, const char *password)
{
	if (usable)
		return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	pthread_once(&decoy_once, decoy_make);
	/* The result is thrown away: only the time it takes matters. */
	if (decoy_hash[0] && crypto_pwhash_str_verify(decoy_hash, password, strlen(password)) == 0)
		log_debug("login against the decoy hash matched", NULL);
	return false;
}

int user_login(sqlite3 *db, const struct login_policy *p, const char *email,
	       const char *password, const char *source, struct ivy_user *out)
{
	char ukey[160], akey[80], hash[crypto_pwhash_STRBYTES];
	unsigned fu, fa;
	struct ivy_user u;
	bool ok;

	if (email == NULL || password == NULL || strlen(email) >= 128)
		return LOGIN_BAD;
	snprintf(ukey, sizeof(ukey), "user:%s", email);
	snprintf(akey, sizeof(akey), "addr:%s", source);
	if (failures(db, p, ukey, &fu) != 0 || failures(db, p, akey, &fa) != 0)
		return LOGIN_ERROR;
	if (fu >= p->max_failures || fa >= p->max_failures)
		return LOGIN_THROTTLED;
	if (pw_hash_get(db, email, hash, sizeof(hash), &u) != 0)
		return LOGIN_ERROR;
	/* No row leaves u unset: look at it only when a hash came back. */
	ok = password_matches(hash, hash[0] != '\0' && u.active, password);
	if (!ok) {
		if (failure_add(db, p, ukey) != 0 || failure_add(db, p, akey) != 0)
			return LOGIN_ERROR;
		return LOGIN_BAD;
	}
	if (failure_clear(db, ukey) != 0)
		return LOGIN_ERROR;
	*out = u;
	return LOGIN_OK;
}

int request_throttle(sqlite3 *db, const struct login_policy *p, const char *kind,
		     const char *source, unsigned *retry_after)
{
	int64_t now = clock_now(), first = now;
	unsigned n = 0;
	sqlite3_stmt *st;
	char key[96];
	int rc;

	snprintf(key, sizeof(key), "%s:%s", kind, source);
	/* Count and read back in one statement, so two requests at once cannot both slip
	 * in under the limit; a count from a window that has passed starts over. */
	if (sqlite3_prepare_v2(db, "INSERT INTO ivy_login_failures(key, failures, first_at)"
			       " VALUES(?1, 1, ?2) ON CONFLICT(key) DO UPDATE SET"
			       " failures = CASE WHEN first_at > ?3 THEN failures + 1 ELSE 1 END,"
			       " first_at = CASE WHEN first_at > ?3 THEN first_at ELSE ?2 END"
			       " RETURNING failures, first_at", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, now - p->window);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		n = (unsigned)sqlite3_column_int(st, 0);
		first = sqlite3_column_int64(st, 1);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || n == 0)
		return -1;
	if (n <= p->max_failures)
		return 0;
	*retry_after = first + p->window > now ? (unsigned)(first + p->window - now) : 1;
	return 1;
}

/* ---- one-time tokens ---- */

int onetime_issue(sqlite3 *db, const char *kind, int64_t user_id, unsigned ttl,
		  char token[IVY_SECRET_MAX])
{
	char tok[IVY_SECRET_MAX], hash[IVY_HASH_HEX];
	sqlite3_stmt *st;

	if (secret_new("ivt_", tok, IVY_SECRET_MAX) != 0)
		return -1;
	secret_sha256_hex(tok, hash);
	if (sqlite3_prepare_v2(db, "INSERT INTO ivy_onetime(hash, kind, user_id, expires_at)"
			       " VALUES(?1, ?2, ?3, ?4)", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, user_id);
	sqlite3_bind_int64(st, 4, clock_now() + ttl);
	if (step_done(db, st) != 0)
		return -1;
	memcpy(token, tok, sizeof(tok));
	return 0;
}

int onetime_use(sqlite3 *db, const char *kind, const char *token, int64_t *user_id)
{
	char hash[IVY_HASH_HEX];
	sqlite3_stmt *st;
	int64_t uid = 0;
	int rc;

	if (token == NULL || strlen(token) >= IVY_SECRET_MAX)
		return 1;
	secret_sha256_hex(token, hash);
	/* One statement marks it used and says whether it was usable: no race. */
	if (sqlite3_prepare_v2(db, "UPDATE ivy_onetime SET used = 1 WHERE hash = ?1 AND kind = ?2"
			       " AND used = 0 AND expires_at > ?3 RETURNING user_id", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, clock_now());
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		uid = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (uid == 0)
		return 1;
	/* A used token voids the user's other ones of its kind (an older reset link). */
	if (sqlite3_prepare_v2(db, "UPDATE ivy_onetime SET used = 1 WHERE user_id = ?1 AND kind = ?2"
			       " AND used = 0", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	*user_id = uid;
	return 0;
}
