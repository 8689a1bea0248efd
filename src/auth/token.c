/* token.c - customer bearer tokens: storage, checks and the rate limiter.
 *
 * ringer.db holds the SHA-256 of each token (hex) and never the token, so a
 * presented token is found by hashing it and looking the hash up. The lists
 * (scopes, SPIDs, CIDRs) are stored as canonical comma-separated text.
 */
#include "token.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../base/log.h"
#include "../db/db.h"
#include "allow.h"
#include "secret.h"

#define UNIT 60000 /* one request in bucket units: the bucket refills rate units per ms */

static const char *const auth_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE customers ("
	"  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
	"  rate_per_min INTEGER NOT NULL DEFAULT 100 CHECK (rate_per_min > 0),"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  name TEXT NOT NULL DEFAULT '', hash TEXT NOT NULL UNIQUE,"
	"  scopes TEXT NOT NULL, spids TEXT NOT NULL, allow TEXT NOT NULL DEFAULT '',"
	"  created INTEGER NOT NULL, expires INTEGER, revoked INTEGER, replaced_by INTEGER);"
	"CREATE INDEX tokens_customer ON tokens(customer_id);",
};

int token_db_migrate(sqlite3 *db)
{
	return db_migrate_module(db, "auth", auth_migrations,
				 sizeof(auth_migrations) / sizeof(auth_migrations[0]));
}

/* ---- secrets and hashes ---- */

/* True if s has the shape of a token we make: the prefix and 43 base64url characters. */
static bool token_shape(const char *s)
{
	size_t p = strlen(TOKEN_PREFIX);

	if (strncmp(s, TOKEN_PREFIX, p) != 0 || strlen(s) != p + SECRET_B64_CHARS)
		return false;
	for (const char *c = s + p; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return false;
	return true;
}

/* ---- lists ---- */

static bool scope_ok(const char *s, size_t n)
{
	if (n == 0 || n >= 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    !strchr(":._-", s[i]))
			return false;
	return true;
}

static bool spid_ok(const char *s, size_t n)
{
	if (n != 4)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

/* True if the canonical list holds item as a whole entry. */
static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *q = list; (q = strstr(q, item)) != NULL; q++)
		if ((q == list || q[-1] == ',') && (q[n] == ',' || q[n] == '\0'))
			return true;
	return false;
}

/*
 * Canonicalize a comma- or space-separated list into out ("a,b"), dropping
 * repeats; SPIDs are upper-cased. Returns the count, or -1 naming the bad
 * entry in err.
 */
static int list_canon(const char *in, bool spids, size_t max, char *out, size_t outlen,
		      char *err, size_t errlen)
{
	const char *what = spids ? "SPID" : "scope";
	size_t count = 0, used = 0;

	out[0] = '\0';
	for (const char *p = in ? in : ""; *p; ) {
		size_t n;
		char item[40];

		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		if (!(spids ? spid_ok(p, n) : scope_ok(p, n))) {
			snprintf(err, errlen, "\"%.*s\" is not a valid %s", (int)(n > 32 ? 32 : n),
				 p, what);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			item[i] = spids ? (char)toupper((unsigned char)p[i]) : p[i];
		item[n] = '\0';
		p += n;
		if (list_has(out, item))
			continue;
		if (++count > max || used + n + 2 > outlen) {
			snprintf(err, errlen, "more than %zu %ss", max, what);
			return -1;
		}
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? "," : "", item);
	}
	if (count == 0) {
		snprintf(err, errlen, "at least one %s is needed", what);
		return -1;
	}
	return (int)count;
}

/* Canonical CIDR list ("" for none). Returns 0 or -1 with err. */
static int allow_canon(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
	struct cidr_set set = { 0 };
	size_t used = 0;
	int rc = 0;

	out[0] = '\0';
	if (in == NULL || in[strspn(in, ", \t")] == '\0')
		return 0;
	if (cidr_set_parse(in, &set, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < set.n && rc == 0; i++) {
		char text[64];

		cidr_format(&set.v[i], text, sizeof(text));
		if (used + strlen(text) + 2 > outlen) {
			snprintf(err, errlen, "the address list is too long");
			rc = -1;
			break;
		}
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? "," : "", text);
	}
	cidr_set_release(&set);
	return rc;
}

/* Split canonical "a,b" into fixed slots. */
static size_t list_split(const char *s, size_t max, size_t width, char *slots)
{
	size_t n = 0;

	while (s && *s && n < max) {
		size_t len = strcspn(s, ",");

		if (len < width) {
			memcpy(slots + n * width, s, len);
			slots[n * width + len] = '\0';
			n++;
		}
		s += len + (s[len] == ',');
	}
	return n;
}

/* ---- checking ---- */

bool token_has_scope(const struct token_info *t, const char *scope)
{
	for (size_t i = 0; scope && i < t->n_scopes; i++)
		if (strcmp(t->scopes[i], scope) == 0)
			return true;
	return false;
}

bool token_has_spid(const struct token_info *t, const char *spid)
{
	for (size_t i = 0; spid && i < t->n_spids; i++)
		if (strcasecmp(t->spids[i], spid) == 0)
			return true;
	return false;
}

static bool address_admitted(const char *allow, const uint8_t ip[16])
{
	struct cidr_set set = { 0 };
	char err[80];
	bool ok;

	if (allow == NULL || allow[0] == '\0')
		return true;
	if (cidr_set_parse(allow, &set, err, sizeof(err)) != 0)
		return false; /* stored lists are canonical; an unreadable one admits nobody */
	ok = cidr_set_contains(&set, ip);
	cidr_set_release(&set);
	return ok;
}

static const char *bearer_value(const char *authorization)
{
	const char *p;

	if (authorization == NULL)
		return NULL;
	p = authorization + strspn(authorization, " \t");
	if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
		return NULL;
	return p + 6 + strspn(p + 6, " \t");
}

static void info_fill(sqlite3_stmt *st, struct token_info *out)
{
	const char *c = (const char *)sqlite3_column_text(st, 1);

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	snprintf(out->customer, sizeof(out->customer), "%s", c ? c : "");
	out->n_scopes = list_split((const char *)sqlite3_column_text(st, 2), TOKEN_MAX_SCOPES,
				   sizeof(out->scopes[0]), out->scopes[0]);
	out->n_spids = list_split((const char *)sqlite3_column_text(st, 3), TOKEN_MAX_SPIDS,
				  sizeof(out->spids[0]), out->spids[0]);
	out->rate_per_min = (unsigned)sqlite3_column_int64(st, 7);
}

int token_check(sqlite3 *db, const char *authorization, const uint8_t client_ip[16],
		int64_t now, struct token_info *out)
{
	static const char sql[] =
		"SELECT t.id, c.name, t.scopes, t.spids, t.allow, t.expires, t.revoked,"
		" c.rate_per_min FROM tokens t JOIN customers c ON c.id = t.customer_id"
		" WHERE t.hash = ?1";
	const char *tok = bearer_value(authorization);
	char hash[SECRET_HASH_HEX], trimmed[TOKEN_TEXT_LEN];
	sqlite3_stmt *st = NULL;
	size_t n;
	int rc, step;

	if (tok == NULL || *tok == '\0')
		return TOKEN_MISSING;
	/* Trailing blanks are the header's, not the token's; anything else after it is not. */
	n = strcspn(tok, " \t");
	if (n >= sizeof(trimmed) || tok[n + strspn(tok + n, " \t")] != '\0')
		return TOKEN_UNKNOWN;
	memcpy(trimmed, tok, n);
	trimmed[n] = '\0';
	if (!token_shape(trimmed))
		return TOKEN_UNKNOWN;
	secret_sha256_hex(trimmed, hash);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("token check failed", "err=\"%s\"", sqlite3_errmsg(db));
		return TOKEN_ERROR;
	}
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE ||
	    (step == SQLITE_ROW && sqlite3_column_type(st, 6) != SQLITE_NULL))
		rc = TOKEN_UNKNOWN; /* revoked tokens are as good as unknown */
	else if (step != SQLITE_ROW)
		rc = TOKEN_ERROR;
	else if (sqlite3_column_type(st, 5) != SQLITE_NULL && sqlite3_column_int64(st, 5) <= now)
		rc = TOKEN_EXPIRED;
	else if (!address_admitted((const char *)sqlite3_column_text(st, 4), client_ip))
		rc = TOKEN_ADDRESS;
	else
		rc = TOKEN_OK;
	if (rc == TOKEN_OK)
		info_fill(st, out);
	if (rc == TOKEN_ERROR)
		log_error("token check failed", "err=\"%s\"", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

/* ---- the rate limiter: a token bucket per customer ---- */

/*
 * The bucket holds up to rate * UNIT units and refills rate units per ms, so
 * it fills from empty in exactly one minute; a request costs UNIT. A bucket
 * untouched for a minute is full, which is what a missing one means too, so
 * such buckets can be dropped without changing any answer: that keeps the
 * table bounded. Open addressing, rebuilt when it fills.
 */
struct bucket {
	char customer[64];
	int64_t units;
	int64_t last_ms;
	bool used;
};

#define RATE_SLOTS (TOKEN_RATE_MAX_CUSTOMERS * 2)

static struct bucket rate_table[RATE_SLOTS];
static size_t rate_count;
static pthread_mutex_t rate_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t rate_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)(h % RATE_SLOTS);
}

static struct bucket *rate_slot(const char *customer)
{
	size_t i = rate_hash(customer);

	while (rate_table[i].used && strcmp(rate_table[i].customer, customer) != 0)
		i = (i + 1) % RATE_SLOTS;
	return &rate_table[i];
}

/* Drop the buckets idle for a minute (they are full); rehash the rest. */
static void rate_sweep(int64_t now_ms)
{
	static struct bucket keep[RATE_SLOTS];
	size_t n = 0;

	for (size_t i = 0; i < RATE_SLOTS; i++)
		if (rate_table[i].used && now_ms - rate_table[i].last_ms < 60000 &&
		    now_ms >= rate_table[i].last_ms)
			keep[n++] = rate_table[i];
	memset(rate_table, 0, sizeof(rate_table));
	rate_count = n;
	for (size_t i = 0; i < n; i++)
		*rate_slot(keep[i].customer) = keep[i];
}

unsigned token_rate_take(const struct token_info *t, int64_t now_ms)
{
	int64_t rate = t->rate_per_min ? t->rate_per_min : TOKEN_RATE_DEFAULT;
	int64_t cap = rate * UNIT, wait_ms;
	struct bucket *b;
	unsigned rc = 0;

	pthread_mutex_lock(&rate_lock);
	b = rate_slot(t->customer);
	if (!b->used && rate_count >= TOKEN_RATE_MAX_CUSTOMERS) {
		rate_sweep(now_ms);
		b = rate_slot(t->customer);
	}
	if (!b->used && rate_count >= TOKEN_RATE_MAX_CUSTOMERS) {
		/* Every tracked customer was active this minute: refuse rather than forget one. */
		log_warn("rate limiter full", "customers=%zu", rate_count);
		rc = 60;
	} else if (!b->used) {
		snprintf(b->customer, sizeof(b->customer), "%s", t->customer);
		b->used = true;
		b->units = cap - UNIT;
		b->last_ms = now_ms;
		rate_count++;
	} else {
		int64_t elapsed = now_ms > b->last_ms ? now_ms - b->last_ms : 0;

		/* A clock set back refills nothing; elapsed is capped before multiplying. */
		b->units += (elapsed > 60000 ? 60000 : elapsed) * rate;
		if (b->units > cap)
			b->units = cap;
		b->last_ms = now_ms;
		if (b->units >= UNIT) {
			b->units -= UNIT;
		} else {
			wait_ms = (UNIT - b->units + rate - 1) / rate;
			rc = (unsigned)((wait_ms + 999) / 1000);
		}
	}
	pthread_mutex_unlock(&rate_lock);
	return rc;
}

void token_rate_reset(void)
{
	pthread_mutex_lock(&rate_lock);
	memset(rate_table, 0, sizeof(rate_table));
	rate_count = 0;
	pthread_mutex_unlock(&rate_lock);
}

/* ---- management ---- */

static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT)
		return TOKEN_R_EXISTS;
	log_error("token store failed", "op=%s err=\"%s\"", what, sqlite3_errmsg(db));
	return TOKEN_R_ERROR;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK)
		return 0;
	log_error("token store failed", "err=\"%s\"", sqlite3_errmsg(db));
	return TOKEN_R_ERROR;
}

int token_customer_create(sqlite3 *db, const char *name, unsigned rate_per_min, int64_t now,
			  char *err, size_t errlen)
{
	sqlite3_stmt *st;
	size_t n = name ? strlen(name) : 0;
	int rc;

	if (n == 0 || n >= sizeof(((struct token_info *)0)->customer) ||
	    strcspn(name, ",\t\r\n\"\\") != n) {
		snprintf(err, errlen, "a customer name is 1 to 63 characters, no commas or quotes");
		return TOKEN_R_INVALID;
	}
	if (rate_per_min > 1000000) {
		snprintf(err, errlen, "the rate is at most 1000000 requests a minute");
		return TOKEN_R_INVALID;
	}
	if (prepare(db, "INSERT INTO customers(name, rate_per_min, created) VALUES(?1, ?2, ?3)",
		    &st) != 0)
		return TOKEN_R_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, rate_per_min ? rate_per_min : TOKEN_RATE_DEFAULT);
	sqlite3_bind_int64(st, 3, now);
	rc = step_done(db, st, "customer create");
	sqlite3_finalize(st);
	if (rc == TOKEN_R_EXISTS)
		snprintf(err, errlen, "customer \"%s\" already exists", name);
	return rc;
}

/* The canonical attributes of a new token. */
struct token_attrs {
	int64_t customer_id;
	char name[128];
	char scopes[TOKEN_MAX_SCOPES * 32];
	char spids[TOKEN_MAX_SPIDS * 5];
	char allow[512];
	int64_t expires;
};

static int customer_id(sqlite3 *db, const char *name, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(db, "SELECT id FROM customers WHERE name = ?1", &st) != 0)
		return TOKEN_R_ERROR;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? TOKEN_R_NOT_FOUND : TOKEN_R_ERROR;
}

static int attrs_from_spec(sqlite3 *db, const struct token_spec *spec, int64_t now,
			   struct token_attrs *a, char *err, size_t errlen)
{
	int rc;

	memset(a, 0, sizeof(*a));
	if (spec->name && strlen(spec->name) >= sizeof(a->name)) {
		snprintf(err, errlen, "the name is longer than %zu characters",
			 sizeof(a->name) - 1);
		return TOKEN_R_INVALID;
	}
	snprintf(a->name, sizeof(a->name), "%s", spec->name ? spec->name : "");
	if (list_canon(spec->scopes, false, TOKEN_MAX_SCOPES, a->scopes, sizeof(a->scopes), err,
		       errlen) < 0 ||
	    list_canon(spec->spids, true, TOKEN_MAX_SPIDS, a->spids, sizeof(a->spids), err,
		       errlen) < 0 ||
	    allow_canon(spec->allow, a->allow, sizeof(a->allow), err, errlen) != 0)
		return TOKEN_R_INVALID;
	if (spec->expires != 0 && spec->expires <= now) {
		snprintf(err, errlen, "the expiry is not in the future");
		return TOKEN_R_INVALID;
	}
	a->expires = spec->expires;
	rc = customer_id(db, spec->customer ? spec->customer : "", &a->customer_id);
	if (rc == TOKEN_R_NOT_FOUND)
		snprintf(err, errlen, "no customer \"%s\"", spec->customer ? spec->customer : "");
	return rc;
}

static int insert_token(sqlite3 *db, const struct token_attrs *a, int64_t now,
			char secret[TOKEN_TEXT_LEN], int64_t *id)
{
	char tok[TOKEN_TEXT_LEN], hash[SECRET_HASH_HEX];
	sqlite3_stmt *st;
	int rc;

	if (secret_new(TOKEN_PREFIX, tok, TOKEN_TEXT_LEN) != 0)
		return TOKEN_R_ERROR;
	secret_sha256_hex(tok, hash);
	if (prepare(db, "INSERT INTO tokens(customer_id, name, hash, scopes, spids, allow,"
		    " created, expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &st) != 0)
		return TOKEN_R_ERROR;
	sqlite3_bind_int64(st, 1, a->customer_id);
	sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->scopes, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->spids, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a->allow, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	if (a->expires)
		sqlite3_bind_int64(st, 8, a->expires);
	rc = step_done(db, st, "token insert");
	sqlite3_finalize(st);
	if (rc == 0) {
		*id = sqlite3_last_insert_rowid(db);
		memcpy(secret, tok, TOKEN_TEXT_LEN);
	}
	OPENSSL_cleanse(tok, sizeof(tok));
	return rc == 0 ? 0 : TOKEN_R_ERROR;
}

int token_make(sqlite3 *db, const struct token_spec *spec, int64_t now,
	       char secret[TOKEN_TEXT_LEN], int64_t *id, char *err, size_t errlen)
{
	struct token_attrs a;
	int rc = attrs_from_spec(db, spec, now, &a, err, errlen);

	if (rc != 0)
		return rc;
	return insert_token(db, &a, now, secret, id);
}

#define ROW_COLS "t.id, c.name, t.name, t.scopes, t.spids, t.allow, t.created, t.expires," \
	" t.revoked, t.replaced_by"

static void row_fill(sqlite3_stmt *st, struct token_row *r)
{
	const char *s;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	s = (const char *)sqlite3_column_text(st, 1);
	snprintf(r->customer, sizeof(r->customer), "%s", s ? s : "");
	s = (const char *)sqlite3_column_text(st, 2);
	snprintf(r->name, sizeof(r->name), "%s", s ? s : "");
	s = (const char *)sqlite3_column_text(st, 3);
	snprintf(r->scopes, sizeof(r->scopes), "%s", s ? s : "");
	s = (const char *)sqlite3_column_text(st, 4);
	snprintf(r->spids, sizeof(r->spids), "%s", s ? s : "");
	s = (const char *)sqlite3_column_text(st, 5);
	snprintf(r->allow, sizeof(r->allow), "%s", s ? s : "");
	r->created = sqlite3_column_int64(st, 6);
	r->expires = sqlite3_column_int64(st, 7);
	r->revoked = sqlite3_column_int64(st, 8);
	r->replaced_by = sqlite3_column_int64(st, 9);
}

int token_get(sqlite3 *db, int64_t id, struct token_row *out)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(db, "SELECT " ROW_COLS " FROM tokens t JOIN customers c"
		    " ON c.id = t.customer_id WHERE t.id = ?1", &st) != 0)
		return TOKEN_R_ERROR;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_fill(st, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? TOKEN_R_NOT_FOUND : TOKEN_R_ERROR;
}

int token_list(sqlite3 *db, const char *customer, token_row_fn fn, void *arg)
{
	sqlite3_stmt *st;
	struct token_row r;
	int rc;

	if (prepare(db, "SELECT " ROW_COLS " FROM tokens t JOIN customers c"
		    " ON c.id = t.customer_id WHERE ?1 IS NULL OR c.name = ?1 ORDER BY t.id",
		    &st) != 0)
		return TOKEN_R_ERROR;
	if (customer)
		sqlite3_bind_text(st, 1, customer, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_fill(st, &r);
		if (fn(&r, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		log_error("token list failed", "err=\"%s\"", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : TOKEN_R_ERROR;
}

/* The live token id (of customer, if given) into *r. */
static int live_token(sqlite3 *db, int64_t id, const char *customer, struct token_row *r)
{
	int rc = token_get(db, id, r);

	if (rc != 0)
		return rc;
	if (r->revoked != 0 || (customer && strcmp(r->customer, customer) != 0))
		return TOKEN_R_NOT_FOUND;
	return 0;
}

static int mark_revoked(sqlite3 *db, int64_t id, int64_t now, int64_t replaced_by)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(db, "UPDATE tokens SET revoked = ?2, replaced_by = ?3"
		    " WHERE id = ?1 AND revoked IS NULL", &st) != 0)
		return TOKEN_R_ERROR;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	if (replaced_by)
		sqlite3_bind_int64(st, 3, replaced_by);
	rc = step_done(db, st, "token revoke");
	if (rc == 0 && sqlite3_changes(db) == 0)
		rc = TOKEN_R_NOT_FOUND; /* revoked meanwhile by someone else */
	sqlite3_finalize(st);
	return rc == TOKEN_R_EXISTS ? TOKEN_R_ERROR : rc;
}

int token_revoke(sqlite3 *db, int64_t id, const char *customer, int64_t now)
{
	struct token_row r;
	int rc = live_token(db, id, customer, &r);

	return rc != 0 ? rc : mark_revoked(db, id, now, 0);
}

static int regenerate_locked(sqlite3 *db, int64_t id, const char *customer, int64_t now,
			     char secret[TOKEN_TEXT_LEN], int64_t *new_id)
{
	struct token_attrs a;
	struct token_row r;
	int rc = live_token(db, id, customer, &r);

	if (rc != 0)
		return rc;
	if (r.expires != 0 && r.expires <= now)
		return TOKEN_R_INVALID;
	memset(&a, 0, sizeof(a));
	if (customer_id(db, r.customer, &a.customer_id) != 0)
		return TOKEN_R_ERROR;
	memcpy(a.name, r.name, sizeof(a.name));
	memcpy(a.scopes, r.scopes, sizeof(a.scopes));
	memcpy(a.spids, r.spids, sizeof(a.spids));
	memcpy(a.allow, r.allow, sizeof(a.allow));
	a.expires = r.expires;
	rc = insert_token(db, &a, now, secret, new_id);
	return rc != 0 ? rc : mark_revoked(db, id, now, *new_id);
}

int token_regenerate(sqlite3 *db, int64_t id, const char *customer, int64_t now,
		     char secret[TOKEN_TEXT_LEN], int64_t *new_id)
{
	char tok[TOKEN_TEXT_LEN];
	int64_t nid = 0;
	int rc;

	if (db_exec(db, "BEGIN IMMEDIATE") != 0)
		return TOKEN_R_ERROR;
	rc = regenerate_locked(db, id, customer, now, tok, &nid);
	if (rc == 0 && db_exec(db, "COMMIT") != 0)
		rc = TOKEN_R_ERROR;
	if (rc != 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	} else {
		memcpy(secret, tok, TOKEN_TEXT_LEN);
		*new_id = nid;
	}
	OPENSSL_cleanse(tok, sizeof(tok));
	return rc;
}

/* Every entry of the canonical list sub is in the canonical list sup. */
static bool list_within(const char *sub, const char *sup, char *bad, size_t badlen)
{
	for (const char *p = sub; *p; ) {
		size_t n = strcspn(p, ",");

		snprintf(bad, badlen, "%.*s", (int)n, p);
		if (!list_has(sup, bad))
			return false;
		p += n + (p[n] == ',');
	}
	return true;
}

/* Every CIDR of the canonical list sub lies inside one of sup's. */
static bool cidrs_within(const char *sub, const char *sup)
{
	struct cidr_set a = { 0 }, b = { 0 };
	char err[80];
	bool ok = sub[0] != '\0' && cidr_set_parse(sub, &a, err, sizeof(err)) == 0 &&
		  cidr_set_parse(sup, &b, err, sizeof(err)) == 0;

	for (size_t i = 0; ok && i < a.n; i++) {
		bool inside = false;

		for (size_t j = 0; j < b.n && !inside; j++)
			inside = a.v[i].bits >= b.v[j].bits && cidr_contains(&b.v[j], a.v[i].addr);
		ok = inside;
	}
	cidr_set_release(&a);
	cidr_set_release(&b);
	return ok;
}

int token_spec_within(const struct token_row *parent, const struct token_spec *spec,
		      char *err, size_t errlen)
{
	char scopes[TOKEN_MAX_SCOPES * 32], spids[TOKEN_MAX_SPIDS * 5], allow[512], bad[40];

	if (list_canon(spec->scopes, false, TOKEN_MAX_SCOPES, scopes, sizeof(scopes), err,
		       errlen) < 0 ||
	    list_canon(spec->spids, true, TOKEN_MAX_SPIDS, spids, sizeof(spids), err,
		       errlen) < 0 ||
	    allow_canon(spec->allow, allow, sizeof(allow), err, errlen) != 0)
		return TOKEN_R_INVALID;
	if (!list_within(scopes, parent->scopes, bad, sizeof(bad))) {
		snprintf(err, errlen, "scope \"%s\" is not one of this token's", bad);
		return TOKEN_R_DENIED;
	}
	if (!list_within(spids, parent->spids, bad, sizeof(bad))) {
		snprintf(err, errlen, "SPID \"%s\" is not one of this token's", bad);
		return TOKEN_R_DENIED;
	}
	if (parent->allow[0] && !cidrs_within(allow, parent->allow)) {
		snprintf(err, errlen, "the address list must lie inside this token's (%s)",
			 parent->allow);
		return TOKEN_R_DENIED;
	}
	if (parent->expires && (spec->expires == 0 || spec->expires > parent->expires)) {
		snprintf(err, errlen, "the token must expire no later than this one");
		return TOKEN_R_DENIED;
	}
	return 0;
}
