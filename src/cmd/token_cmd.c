/* token_cmd.c - customers and their bearer tokens from the command line.
 *
 *   ringer customer create NAME [--rate N]
 *   ringer token create --customer NAME --scopes a,b --spids X1AB,Y2CD [--allow CIDRs]
 *                       [--expires RFC3339 | --ttl SECONDS] [--name TEXT]
 *   ringer token list [--customer NAME]
 *   ringer token revoke ID
 *   ringer token regenerate ID
 * A token is printed once, when made; ringer.db keeps only its hash.
 */
#include "token_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../auth/token.h"
#include "../base/clock.h"
#include "../db/db.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: ringer customer create NAME [--rate N]\n"
		"       ringer token create --customer NAME --scopes a,b --spids S1,S2\n"
		"                           [--allow CIDRs] [--expires RFC3339 | --ttl SECONDS]\n"
		"                           [--name TEXT]\n"
		"       ringer token list [--customer NAME]\n"
		"       ringer token revoke ID | ringer token regenerate ID\n");
}

static int open_db(const struct config *cfg, sqlite3 **out)
{
	char path[512];
	sqlite3 *db;

	if (config_make_dir(cfg->data_dir) != 0) {
		fprintf(stderr, "ringer: cannot create %s: %s\n", cfg->data_dir, strerror(errno));
		return -1;
	}
	if (config_data_path(cfg, "ringer.db", path, sizeof(path)) != 0 ||
	    mgmt_open(path, false, &db) != 0)
		return -1;
	if (token_db_migrate(db) != 0) {
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

/* A decimal number in [1, max]. Returns 0 or -1. */
static int parse_num(const char *s, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int customer_create(sqlite3 *db, int argc, char **argv)
{
	long long rate = TOKEN_RATE_DEFAULT;
	char err[200];
	int rc;

	if (argc < 2 || strcmp(argv[0], "create") != 0 || (argc != 2 && argc != 4) ||
	    (argc == 4 && (strcmp(argv[2], "--rate") != 0 ||
			   parse_num(argv[3], 1000000, &rate) != 0))) {
		usage();
		return 2;
	}
	rc = token_customer_create(db, argv[1], (unsigned)rate, clock_now(), err, sizeof(err));
	if (rc == 0) {
		printf("customer %s created (%lld requests a minute)\n", argv[1], rate);
		return 0;
	}
	if (rc != TOKEN_R_ERROR)
		fprintf(stderr, "ringer: %s\n", err);
	return 1;
}

/* Read `token create` options into spec. Returns 0, or 2 after printing why. */
static int create_args(int argc, char **argv, struct token_spec *spec)
{
	long long ttl = 0;

	for (int i = 1; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			break;
		if (strcmp(k, "--customer") == 0)
			spec->customer = v;
		else if (strcmp(k, "--scopes") == 0)
			spec->scopes = v;
		else if (strcmp(k, "--spids") == 0)
			spec->spids = v;
		else if (strcmp(k, "--allow") == 0)
			spec->allow = v;
		else if (strcmp(k, "--name") == 0)
			spec->name = v;
		else if (strcmp(k, "--expires") == 0 && clock_parse_rfc3339(v, &spec->expires) == 0)
			continue;
		else if (strcmp(k, "--ttl") == 0 && parse_num(v, 20LL * 365 * 86400, &ttl) == 0)
			spec->expires = clock_now() + ttl;
		else {
			fprintf(stderr, "ringer: bad option or value \"%s\"\n", k);
			return 2;
		}
	}
	if ((argc - 1) % 2 != 0 || spec->customer == NULL || spec->scopes == NULL ||
	    spec->spids == NULL) {
		usage();
		return 2;
	}
	return 0;
}

static int token_create(sqlite3 *db, int argc, char **argv)
{
	struct token_spec spec = { 0 };
	char err[200], secret[TOKEN_TEXT_LEN];
	int64_t id = 0;
	int rc = create_args(argc, argv, &spec);

	if (rc != 0)
		return rc;
	rc = token_make(db, &spec, clock_now(), secret, &id, err, sizeof(err));
	if (rc != 0) {
		if (rc != TOKEN_R_ERROR)
			fprintf(stderr, "ringer: %s\n", err);
		if (rc == TOKEN_R_NOT_FOUND)
			fprintf(stderr, "ringer: create it with `ringer customer create NAME`\n");
		return 1;
	}
	printf("token %lld for customer %s (shown only now; ringer keeps only its hash):\n%s\n",
	       (long long)id, spec.customer, secret);
	memset(secret, 0, sizeof(secret));
	return 0;
}

static void when(int64_t t, char *out, size_t outlen)
{
	if (t == 0)
		snprintf(out, outlen, "-");
	else
		clock_format_rfc3339(t, out, outlen);
}

static int print_row(const struct token_row *r, void *arg)
{
	int64_t now = *(const int64_t *)arg;
	char created[32], expires[32];
	const char *state = r->revoked ? "revoked" :
			    r->expires && r->expires <= now ? "expired" : "live";

	when(r->created, created, sizeof(created));
	when(r->expires, expires, sizeof(expires));
	printf("%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", (long long)r->id, r->customer, state,
	       r->scopes, r->spids, r->allow[0] ? r->allow : "-", created, expires,
	       r->name[0] ? r->name : "-");
	return 0;
}

static int token_list_cmd(sqlite3 *db, int argc, char **argv)
{
	int64_t now = clock_now();

	if (argc != 1 && (argc != 3 || strcmp(argv[1], "--customer") != 0)) {
		usage();
		return 2;
	}
	printf("id\tcustomer\tstate\tscopes\tspids\tallow\tcreated\texpires\tname\n");
	return token_list(db, argc == 3 ? argv[2] : NULL, print_row, &now) == 0 ? 0 : 1;
}

static int token_by_id(sqlite3 *db, int argc, char **argv)
{
	char secret[TOKEN_TEXT_LEN];
	long long id;
	int64_t nid = 0;
	int rc;

	if (argc != 2 || parse_num(argv[1], INT64_MAX, &id) != 0) {
		usage();
		return 2;
	}
	if (strcmp(argv[0], "revoke") == 0) {
		rc = token_revoke(db, id, NULL, clock_now());
		if (rc == 0)
			printf("token %lld revoked\n", id);
	} else {
		rc = token_regenerate(db, id, NULL, clock_now(), secret, &nid);
		if (rc == 0)
			printf("token %lld replaced by token %lld (shown only now):\n%s\n", id,
			       (long long)nid, secret);
		memset(secret, 0, sizeof(secret));
	}
	if (rc == TOKEN_R_NOT_FOUND)
		fprintf(stderr, "ringer: no live token %lld\n", id);
	else if (rc == TOKEN_R_INVALID)
		fprintf(stderr, "ringer: token %lld has expired; make a new one\n", id);
	return rc == 0 ? 0 : 1;
}

static int token_words(sqlite3 *db, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "create") == 0)
		return token_create(db, argc, argv);
	if (argc >= 1 && strcmp(argv[0], "list") == 0)
		return token_list_cmd(db, argc, argv);
	if (argc >= 1 && (strcmp(argv[0], "revoke") == 0 || strcmp(argv[0], "regenerate") == 0))
		return token_by_id(db, argc, argv);
	usage();
	return 2;
}

int token_cmd_main(const struct config *cfg, int argc, char **argv)
{
	bool customer = strcmp(argv[0], "customer") == 0;
	sqlite3 *db;
	int rc;

	if (argc < 2) {
		usage();
		return 2;
	}
	if (open_db(cfg, &db) != 0)
		return 1;
	rc = customer ? customer_create(db, argc - 1, argv + 1)
		      : token_words(db, argc - 1, argv + 1);
	sqlite3_close(db);
	return rc;
}
