/* ringer.c - the command-line tool: import data, manage allowlists, demo data. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/allow.h"
#include "base/config.h"
#include "base/log.h"
#include "cmd/demo.h"
#include "cmd/inventory_cmd.h"
#include "cmd/pki.h"
#include "cmd/oauth_cmd.h"
#include "cmd/token_cmd.h"
#include "db/db.h"
#include "numdb/import.h"
#include "numdb/portover.h"
#include "numdb/store.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ringer [-c FILE] [-d DIR] COMMAND ...\n"
		"  import KIND FILE [--max-errors N] [--max-error-rate R]\n"
		"        KIND: npa cocode blocks ported cnam dnc dno ror cpr ported-full\n"
		"        (ported: SV changes over the live set; ported-full: full refresh,\n"
		"        FILE - reads standard input)\n"
		"  fold-ported   fold ported changes into a new generation file\n"
		"  allow add CIDR [NOTE] | allow remove CIDR | allow list\n"
		"  demo-data DIR [--with-codes] [--seed N]\n"
		"  cnam purge [TN] [--url http://HOST:PORT]   (asks the running ringerd)\n"
		"  pki ca DIR | pki sp DIR --ca DIR --spc CODE | pki key FILE\n"
		"  oauth-client create|list|revoke ...  ivy-account create ...  ivy-user create ...\n"
		"  oauth-key rotate   (new access-token signing key; restart ringerd)\n"
		"  ivy-audit [--limit N]   (docs/ivy.md)\n"
		"  inventory sync [--spid S]   build or refresh inventories (docs/inventory.md)\n"
		"  customer create NAME [--rate N]\n"
		"  token create --customer NAME --scopes a,b --spids S1,S2 [--allow CIDRs]\n"
		"        [--expires RFC3339 | --ttl SECONDS] [--name TEXT]\n"
		"  token list [--customer NAME] | token revoke ID | token regenerate ID\n"
		"Options: -c FILE settings file, -d DIR data directory (default ./data).\n");
}

static int ensure_dir(const char *dir)
{
	if (config_make_dir(dir) == 0)
		return 0;
	fprintf(stderr, "ringer: cannot create %s: %s\n", dir, strerror(errno));
	return -1;
}

/* Imports read files: a device or a FIFO could feed one line for ever. */
static int regular_file_or_complain(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		fprintf(stderr, "ringer: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(sb.st_mode)) {
		fprintf(stderr, "ringer: %s: not a regular file\n", path);
		return -1;
	}
	return 0;
}

static int cmd_import(const struct config *cfg, int argc, char **argv)
{
	struct import_opts opts;
	struct import_result res;
	char path[512];
	sqlite3 *db;
	int kind, rc;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	/* "ported-full" replaces the generation; "ported" applies changes over it. */
	kind = strcmp(argv[0], "ported-full") == 0 ? IMPORT_PORTED : import_kind_parse(argv[0]);
	if (kind < 0) {
		fprintf(stderr, "ringer: unknown import kind \"%s\"\n", argv[0]);
		return 2;
	}
	import_opts_default(&opts);
	opts.progress = true;
	for (int i = 2; i < argc; i++) {
		char *end;

		errno = 0;
		if (strcmp(argv[i], "--max-errors") == 0 && i + 1 < argc) {
			opts.max_errors = strtol(argv[++i], &end, 10);
		} else if (strcmp(argv[i], "--max-error-rate") == 0 && i + 1 < argc) {
			opts.max_error_rate = strtod(argv[++i], &end);
		} else {
			usage(stderr);
			return 2;
		}
		/* Written so that NaN fails too: every comparison with it is false. */
		if (*end != '\0' || end == argv[i] || errno != 0 || opts.max_errors < 0 ||
		    !(opts.max_error_rate >= 0 && opts.max_error_rate <= 1)) {
			fprintf(stderr, "ringer: bad value \"%s\"\n", argv[i]);
			return 2;
		}
	}
	/* ported-full may stream from a generator: "-" is standard input. */
	if (!(strcmp(argv[0], "ported-full") == 0 && strcmp(argv[1], "-") == 0) &&
	    regular_file_or_complain(argv[1]) != 0)
		return 1;
	if (ensure_dir(cfg->data_dir) != 0 ||
	    config_data_path(cfg, "lookup.db", path, sizeof(path)) != 0 ||
	    numstore_open(path, false, &db) != 0)
		return 1;
	if (strcmp(argv[0], "ported-full") == 0)
		rc = portover_refresh(db, argv[1], &opts, &res);
	else
		rc = import_file(db, (enum import_kind)kind, argv[1], &opts, &res);
	numstore_close(db);
	printf("%s %s: %ld lines, %ld accepted, %ld rejected, %ld removed: %s\n", argv[0],
	       argv[1], res.lines, res.accepted, res.rejected, res.removed,
	       res.committed ? "committed" : "rejected, nothing changed");
	if (strcmp(argv[0], "ported") == 0 && res.committed)
		printf("%ld changes applied\n", res.changed);
	return rc == 0 ? 0 : 1;
}

static int cmd_fold(const struct config *cfg)
{
	char path[512];
	long folded = 0;
	sqlite3 *db;
	int rc;

	if (config_data_path(cfg, "lookup.db", path, sizeof(path)) != 0 ||
	    numstore_open(path, false, &db) != 0)
		return 1;
	rc = portover_fold(db, &folded);
	numstore_close(db);
	if (rc == 0)
		printf("folded %ld ported changes into a new generation\n", folded);
	else
		fprintf(stderr, "ringer: fold failed, the live generation is unchanged\n");
	return rc == 0 ? 0 : 1;
}

static int cmd_allow(const struct config *cfg, int argc, char **argv)
{
	struct cidr_set set;
	struct cidr c;
	char path[512], text[80];
	sqlite3 *db;
	int rc = 1;

	if (argc < 1 || (strcmp(argv[0], "list") != 0 && argc < 2)) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[0], "list") != 0 && cidr_parse(argv[1], &c) != 0) {
		fprintf(stderr, "ringer: \"%s\" is not an address or CIDR\n", argv[1]);
		return 2;
	}
	if (ensure_dir(cfg->data_dir) != 0 ||
	    config_data_path(cfg, "ringer.db", path, sizeof(path)) != 0 ||
	    mgmt_open(path, false, &db) != 0)
		return 1;
	if (strcmp(argv[0], "add") == 0) {
		rc = allow_store_add(db, &c, argc > 2 ? argv[2] : "") == 0 ? 0 : 1;
		cidr_format(&c, text, sizeof(text));
		if (rc == 0)
			printf("allowed %s\n", text);
	} else if (strcmp(argv[0], "remove") == 0) {
		int r = allow_store_remove(db, &c);

		cidr_format(&c, text, sizeof(text));
		if (r == 1)
			fprintf(stderr, "ringer: %s is not on the allowlist\n", text);
		else if (r == 0)
			printf("removed %s\n", text);
		rc = r == 0 ? 0 : 1;
	} else if (strcmp(argv[0], "list") == 0 && allow_store_load(db, &set) == 0) {
		for (size_t i = 0; i < set.n; i++) {
			cidr_format(&set.v[i], text, sizeof(text));
			printf("%s\n", text);
		}
		cidr_set_release(&set);
		rc = 0;
	} else if (strcmp(argv[0], "list") != 0) {
		usage(stderr);
		rc = 2;
	}
	sqlite3_close(db);
	return rc;
}

/* The running ringerd's base URL from the settings; a wildcard listener is reached on loopback. */
static void server_url(const struct config *cfg, char *out, size_t outlen)
{
	const char *h = cfg->listen_addr;

	if (strcmp(h, "0.0.0.0") == 0)
		h = "127.0.0.1";
	else if (strcmp(h, "::") == 0)
		h = "::1";
	snprintf(out, outlen, strchr(h, ':') ? "http://[%s]:%u" : "http://%s:%u", h, cfg->port);
}

/* `cnam purge [TN]`: DELETE the server's cached answers; the server prints what it did. */
static int cmd_cnam(const struct config *cfg, int argc, char **argv)
{
	const char *tn = NULL, *base = NULL;
	char url[512], deflt[128];
	long status = 0;
	CURLcode cc;
	CURL *h;

	if (argc < 1 || strcmp(argv[0], "purge") != 0) {
		usage(stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--url") == 0 && i + 1 < argc)
			base = argv[++i];
		else if (tn == NULL && strspn(argv[i], "+0123456789") == strlen(argv[i]))
			tn = argv[i];
		else {
			usage(stderr);
			return 2;
		}
	}
	server_url(cfg, deflt, sizeof(deflt));
	snprintf(url, sizeof(url), "%s/v1/telique/cnam/cache%s%s", base ? base : deflt,
		 tn ? "/" : "", tn ? tn : "");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (h = curl_easy_init()) == NULL)
		return 1;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "DELETE");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	if (cc != CURLE_OK)
		fprintf(stderr, "ringer: %s: %s\n", url, curl_easy_strerror(cc));
	else
		printf("\n");
	return status == 200 ? 0 : 1;
}

static int cmd_demo(int argc, char **argv)
{
	int with_codes = 0;
	unsigned seed = 1;

	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--with-codes") == 0)
			with_codes = 1;
		else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
			seed = (unsigned)strtoul(argv[++i], NULL, 10);
		else {
			usage(stderr);
			return 2;
		}
	}
	return demo_generate(argv[0], with_codes, seed) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[300];
	int i = 1;

	config_defaults(&cfg);
	log_set_level(LOG_WARN);
	/* Precedence: defaults, then the file, then the environment, then flags. */
	for (int k = 1; k < argc - 1 && argv[k][0] == '-'; k += 2) {
		if (strcmp(argv[k], "-c") == 0 &&
		    config_load_file(&cfg, argv[k + 1], err, sizeof(err)) != 0) {
			fprintf(stderr, "ringer: %s\n", err);
			return 2;
		}
	}
	if (config_load_env(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ringer: environment: %s\n", err);
		return 2;
	}
	for (; i < argc - 1 && (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "-d") == 0);
	     i += 2) {
		if (strcmp(argv[i], "-d") == 0 &&
		    config_set(&cfg, "data", "dir", argv[i + 1], err, sizeof(err)) != 0) {
			fprintf(stderr, "ringer: %s\n", err);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "import") == 0)
		return cmd_import(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "fold-ported") == 0)
		return cmd_fold(&cfg);
	if (strcmp(argv[i], "allow") == 0)
		return cmd_allow(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "pki") == 0)
		return pki_main(argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "demo-data") == 0)
		return cmd_demo(argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "cnam") == 0)
		return cmd_cnam(&cfg, argc - i - 1, argv + i + 1);
	if (strcmp(argv[i], "token") == 0 || strcmp(argv[i], "customer") == 0)
		return token_cmd_main(&cfg, argc - i, argv + i);
	if (strcmp(argv[i], "inventory") == 0)
		return inventory_cmd_main(&cfg, argc - i - 1, argv + i + 1);
	if (oauth_cmd_handles(argv[i]))
		return oauth_cmd_main(&cfg, argc - i, argv + i);
	if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return 2;
}
