/* token.h - customer bearer tokens for Portability and Inventory.
 *
 * A token is "rng_" followed by 43 base64url characters of randomness (32
 * bytes from OpenSSL's RAND_bytes). It is shown once, when made; ringer.db
 * keeps only its SHA-256 hash, so a stolen database yields no usable token.
 * Each token belongs to one customer and carries the operations it may call
 * (scopes), the SPIDs it may act for, an optional source-address allowlist
 * and an optional expiry. Tokens are managed with `ringer token ...` and an
 * authenticated token-management API.
 */
#ifndef RINGER_AUTH_TOKEN_H
#define RINGER_AUTH_TOKEN_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_PREFIX "rng_"
#define TOKEN_MAX_SPIDS 32
#define TOKEN_MAX_SCOPES 16

/* What a presented token proved. Filled by token_check(). */
struct token_info {
	int64_t id;           /* the token row */
	char customer[64];    /* the customer (tenant) it belongs to */
	char scopes[TOKEN_MAX_SCOPES][32]; /* e.g. "soa:read", "soa:write", "inventory:search" */
	size_t n_scopes;
	char spids[TOKEN_MAX_SPIDS][5];    /* SPIDs it may act for */
	size_t n_spids;
	unsigned rate_per_min; /* the customer's request budget per minute */
};

enum token_status {
	TOKEN_OK = 0,
	TOKEN_MISSING = -1,   /* no Authorization: Bearer header */
	TOKEN_UNKNOWN = -2,   /* not a token we made, or revoked */
	TOKEN_EXPIRED = -3,
	TOKEN_ADDRESS = -4,   /* the token's IP allowlist does not admit the client */
	TOKEN_ERROR = -5,     /* the database failed; logged */
};

/*
 * Check an Authorization header value ("Bearer rng_...") for a client address
 * at now (epoch seconds). Returns a token_status; fills *out on TOKEN_OK.
 */
int token_check(sqlite3 *db, const char *authorization, const uint8_t client_ip[16],
		int64_t now, struct token_info *out);

/* True if the token has scope (exact match). */
bool token_has_scope(const struct token_info *t, const char *scope);

/* True if the token may act for spid. */
bool token_has_spid(const struct token_info *t, const char *spid);

/*
 * Rate limit: count one request for the token's customer at now_ms. Returns
 * 0 when within budget, or the seconds until the next request is allowed
 * (for Retry-After). Thread safe; in memory, per process.
 */
unsigned token_rate_take(const struct token_info *t, int64_t now_ms);

/* ---- management (added: making, listing, revoking; customers) ---- */

#define TOKEN_TEXT_LEN 48 /* "rng_" + 43 base64url characters + NUL */
#define TOKEN_RATE_DEFAULT 100
#define TOKEN_RATE_MAX_CUSTOMERS 2048 /* customers the rate limiter tracks at once */

/* Results of the management functions (0 = done). */
enum token_result {
	TOKEN_R_ERROR = -1,     /* the database failed; logged */
	TOKEN_R_INVALID = -2,   /* a bad argument; err says which */
	TOKEN_R_NOT_FOUND = -3, /* no such customer, or no live token with that id */
	TOKEN_R_EXISTS = -4,    /* the customer name is taken */
	TOKEN_R_DENIED = -5,    /* the new token would have more than its maker */
};

/* What a new token may do. Lists are comma-separated. */
struct token_spec {
	const char *customer;
	const char *name;   /* a label for people; may be NULL */
	const char *scopes; /* at least one */
	const char *spids;  /* at least one, each 4 letters or digits */
	const char *allow;  /* CIDRs the token may be used from; NULL or "" = anywhere */
	int64_t expires;    /* epoch seconds, 0 = never */
};

/* A token as listed: never the secret, never its hash. */
struct token_row {
	int64_t id;
	char customer[64];
	char name[128];
	char scopes[TOKEN_MAX_SCOPES * 32];
	char spids[TOKEN_MAX_SPIDS * 5];
	char allow[512];
	int64_t created;
	int64_t expires;     /* 0 = never */
	int64_t revoked;     /* 0 = live */
	int64_t replaced_by; /* the token regenerate made from this one, or 0 */
};

/* Bring the auth tables of ringer.db up to date. Returns 0, or -1 after logging. */
int token_db_migrate(sqlite3 *db);

/* Create a customer; rate_per_min 0 means TOKEN_RATE_DEFAULT. Returns 0 or a token_result. */
int token_customer_create(sqlite3 *db, const char *name, unsigned rate_per_min, int64_t now,
			  char *err, size_t errlen);

/*
 * Make a token from spec at now. The secret goes to secret (shown once, kept
 * nowhere) and the row id to *id. Returns 0 or a token_result.
 */
int token_make(sqlite3 *db, const struct token_spec *spec, int64_t now,
	       char secret[TOKEN_TEXT_LEN], int64_t *id, char *err, size_t errlen);

/*
 * Revoke live token id. When customer is not NULL the token must be that
 * customer's, or it is TOKEN_R_NOT_FOUND. Returns 0 or a token_result.
 */
int token_revoke(sqlite3 *db, int64_t id, const char *customer, int64_t now);

/*
 * Replace live token id by a new one with the same attributes and a new
 * secret, revoking the old one, in one transaction. customer as for
 * token_revoke. An expired token is TOKEN_R_INVALID. Returns 0 or a token_result.
 */
int token_regenerate(sqlite3 *db, int64_t id, const char *customer, int64_t now,
		     char secret[TOKEN_TEXT_LEN], int64_t *new_id);

/* One token by id (revoked ones too). Returns 0, TOKEN_R_NOT_FOUND or TOKEN_R_ERROR. */
int token_get(sqlite3 *db, int64_t id, struct token_row *out);

/*
 * Call fn for each token, of customer only unless it is NULL, oldest first.
 * Stops early when fn returns non-zero. Returns 0 or TOKEN_R_ERROR.
 */
typedef int (*token_row_fn)(const struct token_row *row, void *arg);
int token_list(sqlite3 *db, const char *customer, token_row_fn fn, void *arg);

/*
 * Never escalate: check that a token made by the holder of parent would have
 * no more than parent has. Every scope and SPID of spec must be parent's;
 * when parent has an address list, spec needs one whose every CIDR lies
 * inside one of parent's; when parent expires, spec must expire no later.
 * Returns 0, TOKEN_R_INVALID (spec does not parse) or TOKEN_R_DENIED, with
 * the reason in err.
 */
int token_spec_within(const struct token_row *parent, const struct token_spec *spec,
		      char *err, size_t errlen);

/* Forget every rate-limit counter (tests, and a settings reload). */
void token_rate_reset(void);

#endif
