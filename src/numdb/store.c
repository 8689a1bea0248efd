/* store.c - schema and migrations of the lookup store. */
#include "store.h"

#include <stddef.h>

#include "../db/db.h"

/*
 * Each entry moves the schema from version i to i + 1. Never edit an entry
 * that has shipped; add a new one.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE npa ("
	"  npa INTEGER PRIMARY KEY, type TEXT NOT NULL, assigned INTEGER NOT NULL,"
	"  in_service INTEGER NOT NULL, location TEXT, country TEXT,"
	"  time_zone TEXT, overlay_complex TEXT, parent_npa INTEGER);"
	"CREATE TABLE cocode ("
	"  npanxx INTEGER PRIMARY KEY, ocn TEXT, company TEXT, rate_center TEXT,"
	"  state TEXT, status TEXT NOT NULL, pooled INTEGER NOT NULL DEFAULT 0,"
	"  effective TEXT);"
	"CREATE TABLE block ("
	"  npanxxx INTEGER PRIMARY KEY, lrn INTEGER, spid TEXT NOT NULL,"
	"  status TEXT, rate_center TEXT, effective TEXT);"
	"CREATE TABLE ported ("
	"  tn INTEGER PRIMARY KEY, lrn INTEGER NOT NULL, spid TEXT NOT NULL,"
	"  version_id INTEGER NOT NULL, status INTEGER NOT NULL, activated TEXT,"
	"  cnam_dpc TEXT, cnam_ssn INTEGER, lnp_type INTEGER, sv_type INTEGER,"
	"  alt_spid TEXT);"
	"CREATE TABLE cnam ("
	"  tn INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	"  restricted INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE dnc (tn INTEGER PRIMARY KEY) WITHOUT ROWID;"
	"CREATE TABLE dnc_report ("
	"  npa INTEGER PRIMARY KEY, old_count INTEGER NOT NULL,"
	"  new_count INTEGER NOT NULL, updated TEXT NOT NULL);"
	"CREATE TABLE dno (pattern TEXT PRIMARY KEY, source TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE tollfree ("
	"  crn INTEGER PRIMARY KEY, ror TEXT NOT NULL, status TEXT);"
	"CREATE TABLE cpr (crn INTEGER PRIMARY KEY, record TEXT NOT NULL);"
	"CREATE TABLE import_log ("
	"  id INTEGER PRIMARY KEY, kind TEXT NOT NULL, file TEXT NOT NULL,"
	"  started TEXT NOT NULL, finished TEXT NOT NULL, lines INTEGER NOT NULL,"
	"  accepted INTEGER NOT NULL, rejected INTEGER NOT NULL,"
	"  outcome TEXT NOT NULL);",
	/*
	 * 1 -> 2: ported becomes the overlay on the generation file (portstore.h):
	 * deletes leave tombstones in ported_gone so they hide the file's numbers,
	 * and seq names the update transaction that wrote a row so a fold can
	 * drop exactly the rows it folded.
	 */
	"ALTER TABLE ported ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE ported_gone ("
	"  tn INTEGER PRIMARY KEY, version_id INTEGER NOT NULL,"
	"  seq INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE ported_state ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL,"
	"  max_version INTEGER NOT NULL, updated TEXT);"
	"INSERT INTO ported_state (id, seq, max_version) VALUES (1, 0, 0);",
	/* 2 -> 3: ringerd reads only the overlay rows newer than it has (by seq). */
	"CREATE INDEX ported_by_seq ON ported (seq);"
	"CREATE INDEX ported_gone_by_seq ON ported_gone (seq);",
};

int numstore_open(const char *path, bool readonly, sqlite3 **out)
{
	return db_open(path, readonly, migrations, sizeof(migrations) / sizeof(migrations[0]),
		       out);
}

void numstore_close(sqlite3 *db)
{
	sqlite3_close(db);
}
