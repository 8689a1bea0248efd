/* oauth_cmd.c - manage OAuth clients, bootstrap Ivy accounts and users, read the audit. */
#include "oauth_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "db/db.h"
#include "ivy/account.h"
#include "ivy/ivy_store.h"
#include "ivy/jwt.h"
#include "ivy/oauth.h"

static const struct ivy_actor cli_actor = { "cli", "local", 0 };

bool oauth_cmd_handles(const char *cmd)
{
	return strcmp(cmd, "oauth-client") == 0 || strcmp(cmd, "ivy-account") == 0 ||
	       strcmp(cmd, "ivy-user") == 0 || strcmp(cmd, "ivy-audit") == 0 ||
	       strcmp(cmd, "oauth-key") == 0;
}

/* ringer oauth-key rotate: a new signing key; the old one verifies until the next rotation. */
static int cmd_key(const struct config *cfg, int argc, char **argv)
{
	if (argc != 1 || strcmp(argv[0], "rotate") != 0) {
		fprintf(stderr, "usage: ringer oauth-key rotate   (then restart ringerd)\n");
		return 2;
	}
	if (config_make_dir(cfg->data_dir) != 0 ||
	    ivy_jwt_rotate(cfg->data_dir) != 0 || ivy_jwt_init(cfg->data_dir) != 0)
		return 1;
	printf("rotated; restart ringerd to sign with the new key\n");
	ivy_jwt_shutdown();
	return 0;
}

static int open_db(const struct config *cfg, sqlite3 **db)
{
	char path[512];

	if (config_make_dir(cfg->data_dir) != 0 ||
	    config_data_path(cfg, "ringer.db", path, sizeof(path)) != 0 ||
	    mgmt_open(path, false, db) != 0)
		return -1;
	if (ivy_store_migrate(*db) != 0) {
		sqlite3_close(*db);
		return -1;
	}
	return 0;
}

static int usage_error(void)
{
	fprintf(stderr, "usage: ringer oauth-client create --account ID --name NAME [--public]"
		" [--redirect URI]... [--grants LIST] [--scopes LIST]\n"
		"       ringer oauth-client list | ringer oauth-client revoke CLIENT_ID\n"
		"       ringer ivy-account create NAME [--parent ID] [--email EMAIL]\n"
		"       ringer ivy-user create EMAIL --account ID --role ROLE"
		" [--password-env VAR]\n"
		"       ringer ivy-audit [--limit N]\n");
	return 2;
}

/* Append uri to the client's space-separated redirect URIs. */
static int add_redirect(struct oauth_client *c, const char *uri)
{
	size_t used = strlen(c->redirect_uris);

	if (strchr(uri, ' ') || strncmp(uri, "http", 4) != 0 ||
	    used + strlen(uri) + 2 > sizeof(c->redirect_uris))
		return -1;
	snprintf(c->redirect_uris + used, sizeof(c->redirect_uris) - used, "%s%s",
		 used ? " " : "", uri);
	return 0;
}

static int client_opts(int argc, char **argv, struct oauth_client *c)
{
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;

		if (strcmp(argv[i], "--public") == 0) {
			c->confidential = false;
			continue;
		}
		if (v == NULL)
			return -1;
		if (strcmp(argv[i], "--account") == 0)
			c->account_id = strtoll(v, NULL, 10);
		else if (strcmp(argv[i], "--name") == 0)
			snprintf(c->name, sizeof(c->name), "%s", v);
		else if (strcmp(argv[i], "--redirect") == 0)
			bad = add_redirect(c, v);
		else if (strcmp(argv[i], "--grants") == 0)
			bad = oauth_grants_parse(v, &c->grants);
		else if (strcmp(argv[i], "--scopes") == 0)
			bad = oauth_scope_parse(v, &c->scopes);
		else
			return -1;
		if (bad)
			return -1;
		i++;
	}
	return c->account_id > 0 && c->name[0] ? 0 : -1;
}

static int client_create(sqlite3 *db, int argc, char **argv)
{
	struct oauth_client c = { .confidential = true, .scopes = OAUTH_READ,
				  .grants = OAUTH_GRANT_CLIENT_CREDENTIALS };
	char secret[IVY_SECRET_MAX], grants[96], scopes[32];
	struct ivy_account a;

	if (client_opts(argc, argv, &c) != 0)
		return usage_error();
	if (!c.confidential && c.grants == OAUTH_GRANT_CLIENT_CREDENTIALS)
		c.grants = OAUTH_GRANT_AUTHORIZATION_CODE | OAUTH_GRANT_REFRESH_TOKEN;
	if (account_get(db, c.account_id, &a) != 0) {
		fprintf(stderr, "ringer: no account %lld\n", (long long)c.account_id);
		return 1;
	}
	if (oauth_client_create(db, &c, secret) != 0) {
		fprintf(stderr, "ringer: refused: a public client cannot use client_credentials"
			" or password, and authorization_code needs a --redirect\n");
		return 1;
	}
	ivy_audit(db, &cli_actor, "client.create", c.id, c.account_id, c.name);
	oauth_grants_format(c.grants, grants, sizeof(grants));
	oauth_scope_format(c.scopes, scopes, sizeof(scopes));
	printf("client_id %s\n", c.id);
	if (c.confidential)
		printf("client_secret %s\n(shown once; only its hash is kept)\n", secret);
	printf("grants %s\nscopes %s\n", grants, scopes);
	return 0;
}

static void client_print(const struct oauth_client *c, void *arg)
{
	char grants[96], scopes[32], created[32];

	oauth_grants_format(c->grants, grants, sizeof(grants));
	oauth_scope_format(c->scopes, scopes, sizeof(scopes));
	clock_format_rfc3339(c->created_at, created, sizeof(created));
	printf("%s\taccount=%lld\t%s\t%s\tgrants=%s\tscopes=\"%s\"\t%s\t%s\n", c->id,
	       (long long)c->account_id, c->confidential ? "confidential" : "public",
	       c->revoked ? "revoked" : "active", grants, scopes, created, c->name);
}

static int cmd_client(sqlite3 *db, int argc, char **argv)
{
	int rc;

	if (argc >= 1 && strcmp(argv[0], "create") == 0)
		return client_create(db, argc, argv);
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return oauth_client_list(db, client_print, NULL) == 0 ? 0 : 1;
	if (argc != 2 || strcmp(argv[0], "revoke") != 0)
		return usage_error();
	rc = oauth_client_revoke(db, argv[1]);
	if (rc == 1)
		fprintf(stderr, "ringer: no client %s\n", argv[1]);
	if (rc == 0) {
		ivy_audit(db, &cli_actor, "client.revoke", argv[1], 0, NULL);
		printf("revoked %s and its tokens\n", argv[1]);
	}
	return rc == 0 ? 0 : 1;
}

static int cmd_account(sqlite3 *db, int argc, char **argv)
{
	const char *email = "";
	int64_t parent = 0, id;
	char target[48];
	int rc;

	if (argc < 2 || strcmp(argv[0], "create") != 0)
		return usage_error();
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--parent") == 0)
			parent = strtoll(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--email") == 0)
			email = argv[i + 1];
		else
			return usage_error();
	}
	if (argc % 2 != 0)
		return usage_error();
	rc = account_create(db, parent, argv[1], email, "active", &id);
	if (rc != 0) {
		fprintf(stderr, "ringer: cannot create: %s\n",
			rc > 0 ? "no such parent, or deeper than three levels" : "database error");
		return 1;
	}
	snprintf(target, sizeof(target), "account:%lld", (long long)id);
	ivy_audit(db, &cli_actor, "account.create", target, id, argv[1]);
	printf("account %lld\n", (long long)id);
	return 0;
}

static int user_opts(int argc, char **argv, struct ivy_user *u, const char **pw)
{
	for (int i = 2; i < argc; i += 2) {
		if (i + 1 >= argc)
			return -1;
		if (strcmp(argv[i], "--account") == 0)
			u->account_id = strtoll(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--role") == 0)
			u->role = ivy_role_parse(argv[i + 1]);
		else if (strcmp(argv[i], "--password-env") == 0)
			*pw = getenv(argv[i + 1]);
		else
			return -1;
	}
	return u->account_id > 0 && u->role >= 0 ? 0 : -1;
}

static int cmd_user(sqlite3 *db, int argc, char **argv)
{
	struct ivy_user u = { .role = -1, .active = true };
	struct ivy_account a;
	const char *pw = NULL;
	char target[48];
	int rc;

	if (argc < 2 || strcmp(argv[0], "create") != 0 || user_opts(argc, argv, &u, &pw) != 0)
		return usage_error();
	snprintf(u.email, sizeof(u.email), "%s", argv[1]);
	snprintf(u.locale, sizeof(u.locale), "en-US");
	if (account_crypto_init() != 0 || account_get(db, u.account_id, &a) != 0) {
		fprintf(stderr, "ringer: no account %lld\n", (long long)u.account_id);
		return 1;
	}
	if ((rc = user_create(db, &u, pw)) != 0) {
		fprintf(stderr, "ringer: cannot create: %s\n",
			rc == 1 ? "email taken" :
			rc == 2 ? "bad email, or a password under 10 characters"
				: "database error");
		return 1;
	}
	snprintf(target, sizeof(target), "user:%lld", (long long)u.id);
	ivy_audit(db, &cli_actor, "user.create", target, u.account_id, ivy_role_name(u.role));
	printf("user %lld\n", (long long)u.id);
	return 0;
}

static void audit_print(const struct ivy_audit_entry *e, void *arg)
{
	char at[32];

	clock_format_rfc3339(e->at, at, sizeof(at));
	printf("%s\t%s\t%s\taccount=%lld\t%s\t%s\t%s\n", at, e->actor, e->source,
	       (long long)e->account_id, e->action, e->target, e->detail);
}

static int cmd_audit(sqlite3 *db, int argc, char **argv)
{
	unsigned limit = 100;

	if (argc == 2 && strcmp(argv[0], "--limit") == 0)
		limit = (unsigned)strtoul(argv[1], NULL, 10);
	else if (argc != 0)
		return usage_error();
	return ivy_audit_list(db, "/", limit ? limit : 100, audit_print, NULL) == 0 ? 0 : 1;
}

int oauth_cmd_main(const struct config *cfg, int argc, char **argv)
{
	sqlite3 *db;
	int rc;

	if (strcmp(argv[0], "oauth-key") == 0)
		return cmd_key(cfg, argc - 1, argv + 1);
	if (open_db(cfg, &db) != 0)
		return 1;
	if (strcmp(argv[0], "oauth-client") == 0)
		rc = cmd_client(db, argc - 1, argv + 1);
	else if (strcmp(argv[0], "ivy-account") == 0)
		rc = cmd_account(db, argc - 1, argv + 1);
	else if (strcmp(argv[0], "ivy-user") == 0)
		rc = cmd_user(db, argc - 1, argv + 1);
	else
		rc = cmd_audit(db, argc - 1, argv + 1);
	sqlite3_close(db);
	return rc;
}
