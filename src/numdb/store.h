/* store.h - the SQLite file that holds the imported lookup data.
 *
 * `ringer import` writes here, one transaction per file; `ringerd` reads it
 * into an in-memory generation (numdb.h) at start and whenever it changes.
 * Numbers are stored as 10-digit integers; codes as integers of their digits
 * (NPA-NXX 204200, NPA-NXX-X 2042001).
 */
#ifndef RINGER_NUMDB_STORE_H
#define RINGER_NUMDB_STORE_H

#include <sqlite3.h>
#include <stdbool.h>

/*
 * Open (and create or migrate when writable) the lookup store at path.
 * Returns 0 and a handle in *out, or -1 with a log line.
 */
int numstore_open(const char *path, bool readonly, sqlite3 **out);

/* Close a handle from numstore_open(); NULL is fine. */
void numstore_close(sqlite3 *db);

/* The schema version numstore_open() brings a writable file to. */
#define NUMSTORE_SCHEMA_VERSION 2

#endif
