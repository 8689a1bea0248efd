/* inventory_cmd.c - syncing inventories from the command line.
 *
 *   ringer inventory sync [--spid S]
 * A national carrier's first sync adds millions of rows; doing it here
 * keeps that wait out of its first request. A SPID already synced against
 * the current lookup data is left as it is.
 */
#include "inventory_cmd.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../db/db.h"
#include "../inventory/inventory.h"
#include "../numdb/numdb.h"
#include "../numdb/store.h"

static void usage(void)
{
	fprintf(stderr, "usage: ringer inventory sync [--spid S]\n");
}

static bool spid_ok(const char *s)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return s[4] == '\0';
}

/* The lookup store and its generation, published so that syncs read it. */
static int open_lookup(const struct config *cfg, sqlite3 **out)
{
	struct numdb *g;
	char path[512];
	sqlite3 *lookup;

	if (config_data_path(cfg, "lookup.db", path, sizeof(path)) != 0 ||
	    numstore_open(path, true, &lookup) != 0) {
		fprintf(stderr, "ringer: cannot open the lookup data in %s\n", cfg->data_dir);
		return -1;
	}
	if (numdb_build(lookup, &g) != 0) {
		numstore_close(lookup);
		return -1;
	}
	numdb_publish(g);
	*out = lookup;
	return 0;
}

static int open_mgmt(const struct config *cfg, sqlite3 **out)
{
	char path[512];
	sqlite3 *db;

	if (config_data_path(cfg, "ringer.db", path, sizeof(path)) != 0 ||
	    mgmt_open(path, false, &db) != 0)
		return -1;
	if (inventory_migrate(db) != 0) {
		sqlite3_close(db);
		return -1;
	}
	*out = db;
	return 0;
}

static int sync_all(sqlite3 *db, sqlite3 *lookup, char (*spids)[5], size_t n)
{
	size_t i;
	long added;
	int rc = 0;

	for (i = 0; i < n; i++) {
		added = inventory_sync_spid(db, lookup, spids[i], clock_now());
		if (added < 0) {
			fprintf(stderr, "ringer: inventory sync of %s failed\n", spids[i]);
			rc = -1;
			continue;
		}
		printf("%s: %ld numbers added\n", spids[i], added);
	}
	return rc;
}

int inventory_cmd_main(const struct config *cfg, int argc, char **argv)
{
	char (*spids)[5] = NULL;
	sqlite3 *db = NULL, *lookup = NULL;
	size_t n = 0;
	int rc = 1;

	if (argc < 1 || strcmp(argv[0], "sync") != 0 || (argc != 1 && argc != 3) ||
	    (argc == 3 && (strcmp(argv[1], "--spid") != 0 || !spid_ok(argv[2])))) {
		usage();
		return 2;
	}
	if (open_lookup(cfg, &lookup) != 0)
		return 1;
	if (open_mgmt(cfg, &db) != 0)
		goto out;
	if (argc == 3) {
		spids = calloc(1, sizeof(*spids));
		if (spids == NULL)
			goto out;
		for (n = 0; n < 4; n++)
			spids[0][n] = (char)toupper((unsigned char)argv[2][n]);
		n = 1;
	} else if (inventory_synced_spids(db, &spids, &n) != 0) {
		goto out;
	}
	rc = sync_all(db, lookup, spids, n) == 0 ? 0 : 1;
out:
	free(spids);
	sqlite3_close(db);
	numstore_close(lookup);
	numdb_shutdown();
	return rc;
}
