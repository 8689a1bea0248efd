/* account.h - Ivy accounts, users, roles and passwords (no HTTP here).
 *
 * Accounts form a tree at most three deep: a reseller (depth 1) owns
 * customer accounts (2), which may own sub-accounts (3). A caller acts
 * within the subtree of its own account; callers outside see nothing.
 * Users belong to one account and have one role; ivy_role_perms() is the one
 * table mapping roles to permissions. Passwords are argon2id (libsodium);
 * failed logins are counted per user and per source address.
 */
#ifndef RINGER_IVY_ACCOUNT_H
#define RINGER_IVY_ACCOUNT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ivy_store.h"

#define ACCOUNT_MAX_DEPTH 3

enum ivy_role { ROLE_OWNER, ROLE_ADMIN, ROLE_BILLING, ROLE_MEMBER, ROLE_READ_ONLY };

enum ivy_perm {
	PERM_ACCOUNT_READ = 1u << 0,
	PERM_ACCOUNT_WRITE = 1u << 1,
	PERM_CHILD_READ = 1u << 2,   /* see accounts below one's own */
	PERM_CHILD_WRITE = 1u << 3,  /* create, suspend, resume them */
	PERM_USER_READ = 1u << 4,
	PERM_USER_WRITE = 1u << 5,
	PERM_BILLING_READ = 1u << 6,
	PERM_BILLING_WRITE = 1u << 7,
	PERM_AUDIT_READ = 1u << 8,
};

/* "owner", "admin", "billing", "member", "read-only" -> role, or -1. */
int ivy_role_parse(const char *s);
const char *ivy_role_name(int role);

/* What a role may do. */
unsigned ivy_role_perms(int role);

/* The OAuth scope bit (oauth.h) an operation needing perm also needs. */
unsigned ivy_perm_scope(unsigned perm);

struct ivy_account {
	int64_t id, parent_id; /* parent_id 0 at the top */
	char path[128];        /* "/1/5/" */
	int depth;             /* 1 reseller, 2 customer, 3 sub-account */
	char name[128];
	char status[24];       /* active, inactive, suspended, pending_confirmation, closed */
	char email[128];
	char phone[32];
	char locale[16];
	char plan[64];
	char balance[16];
	char balance_pref[16], recharge_pref[16], max_recharge_pref[16];
	bool international;
	int64_t created_at;
};

/*
 * Create an account under parent_id (0 = a top-level account) with name,
 * email and status. Returns 0 with *id, 1 when the tree would grow deeper
 * than ACCOUNT_MAX_DEPTH or the parent does not exist, or -1.
 */
int account_create(sqlite3 *db, int64_t parent_id, const char *name, const char *email,
		   const char *status, int64_t *id);

/* Load an account. Returns 0, 1 when there is none, or -1. */
int account_get(sqlite3 *db, int64_t id, struct ivy_account *out);

/* True if a is root or below it. */
bool account_in_subtree(const struct ivy_account *root, const struct ivy_account *a);

/* Fields PUT /v2/account may change; NULL = leave as is. */
struct account_update {
	const char *name, *locale, *balance_pref, *recharge_pref, *max_recharge_pref;
};

/* Validate and apply u. Returns 0, 1 when a value is malformed, or -1. */
int account_update(sqlite3 *db, int64_t id, const struct account_update *u);

/* Set the status of one account. Returns 0, 1 when there is none, or -1. */
int account_set_status(sqlite3 *db, int64_t id, const char *status);

/*
 * Move an account from status from to status to, and only from there (so a
 * confirmation cannot lift a suspension). Returns 0, 1 when it was not in
 * from, or -1.
 */
int account_move_status(sqlite3 *db, int64_t id, const char *from, const char *to);

/* Call fn for every account strictly below root, in id order. Returns 0 or -1. */
int account_list_below(sqlite3 *db, const struct ivy_account *root,
		       void (*fn)(const struct ivy_account *, void *), void *arg);

struct ivy_user {
	int64_t id, account_id;
	char email[128];
	char first_name[64], last_name[64];
	int role;
	bool active;
	char locale[16];
	int64_t created_at;
};

/*
 * Create a user; password may be NULL (none set yet: the user cannot log in
 * until a reset). Returns 0 with u->id, 1 when the email is taken, 2 when a
 * field is malformed, or -1.
 */
int user_create(sqlite3 *db, struct ivy_user *u, const char *password);

/* Load a user. Returns 0, 1 when there is none, or -1. */
int user_get(sqlite3 *db, int64_t id, struct ivy_user *out);
int user_get_by_email(sqlite3 *db, const char *email, struct ivy_user *out);

/* Store u's editable fields (names, email, role, active, locale). Returns as user_create. */
int user_save(sqlite3 *db, const struct ivy_user *u);

/* Delete a user and revoke its tokens. Returns 0, 1 when there is none, or -1. */
int user_delete(sqlite3 *db, int64_t id);

/* Revoke every token issued to a user (after a password reset). Returns 0 or -1. */
int user_revoke_tokens(sqlite3 *db, int64_t id);

/* Call fn for each user of account, by last then first name. Returns 0 or -1. */
int user_list(sqlite3 *db, int64_t account_id, void (*fn)(const struct ivy_user *, void *),
	      void *arg);

/* True if password is acceptable: 10 to 128 bytes. */
bool user_password_ok(const char *password);

/* Hash and store a new password. Returns 0, 2 when it is not acceptable, or -1. */
int user_set_password(sqlite3 *db, int64_t id, const char *password);

struct login_policy {
	unsigned max_failures; /* within window, per user and per address */
	unsigned window;       /* seconds */
};

enum login_result { LOGIN_OK = 0, LOGIN_BAD = 1, LOGIN_THROTTLED = 2, LOGIN_ERROR = -1 };

/*
 * Check email and password from source (an address as text). Refused
 * without checking the password once either the user or the source has
 * max_failures failures within window. Returns a login_result; *out on OK.
 */
int user_login(sqlite3 *db, const struct login_policy *p, const char *email,
	       const char *password, const char *source, struct ivy_user *out);

/*
 * Count one request of kind ("signup", "reset") from source (an address as
 * text) in the login failure store, within p's window. Past max_failures in
 * the window it is refused: returns 1 with *retry_after (seconds until the
 * window ends, at least 1). Returns 0 when it may go on, or -1.
 */
int request_throttle(sqlite3 *db, const struct login_policy *p, const char *kind,
		     const char *source, unsigned *retry_after);

/*
 * One-time tokens: kind "confirm" or "reset", valid ttl seconds, used once.
 * issue returns 0 with token; use returns 0 with *user_id, 1 when the token
 * is unknown, used or expired, or -1. use marks it used.
 */
int onetime_issue(sqlite3 *db, const char *kind, int64_t user_id, unsigned ttl,
		  char token[IVY_SECRET_MAX]);
int onetime_use(sqlite3 *db, const char *kind, const char *token, int64_t *user_id);

/* Initialise libsodium; call once before any password work. Returns 0 or -1. */
int account_crypto_init(void);

#endif
