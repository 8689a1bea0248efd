/* import.h - loading the real data files into the lookup store.
 *
 * One call imports one file of one kind in one transaction. A malformed line
 * is reported with file and line number; when the rejected lines pass the
 * threshold the transaction is rolled back and the data already in the store
 * stays as it was. Formats are documented in docs/import.md.
 */
#ifndef RINGER_NUMDB_IMPORT_H
#define RINGER_NUMDB_IMPORT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>

enum import_kind {
	IMPORT_NPA,     /* NANPA npa_report.csv */
	IMPORT_COCODE,  /* central office codes: Canadian CSV or NANPA allutlzd (tab) */
	IMPORT_BLOCKS,  /* pooled 1000-blocks: AllBlocksAugmentedReport or NPB BDD */
	IMPORT_PORTED,  /* NPAC subscription-version BDD (pipe-delimited) */
	IMPORT_CNAM,    /* caller names */
	IMPORT_DNC,     /* Do Not Call full lists */
	IMPORT_DNO,     /* Do Not Originate patterns */
	IMPORT_ROR,     /* toll-free RespOrg assignments */
	IMPORT_CPR,     /* toll-free call processing records (JSON) */
};

struct import_opts {
	long max_errors;       /* reject the file when more lines than this fail */
	double max_error_rate; /* ... or when this fraction of data lines fail (0-1) */
	FILE *report;          /* where line errors go; NULL = stderr */
	long max_reported;     /* line errors printed before "and N more" */
	bool progress;         /* print progress lines while importing */
};

struct import_result {
	long lines;    /* data lines read (headers and blank lines not counted) */
	long accepted; /* lines applied */
	long rejected; /* malformed lines */
	long removed;  /* rows removed (deleted SVs, NPAs replaced) */
	long changed;  /* ported: overlay rows written (0 when a file is replayed) */
	bool committed;
};

/* Fill opts with the defaults: 100 errors, 1%, stderr, 20 reported. */
void import_opts_default(struct import_opts *opts);

/* Parse a kind name ("npa", "cocode", ...); returns -1 if unknown. */
int import_kind_parse(const char *name);

/* The name of a kind. */
const char *import_kind_name(enum import_kind kind);

/*
 * Import path as kind into db. Returns 0 when committed; -1 when the file
 * could not be read or was rejected (nothing changed). *res is always filled.
 */
int import_file(sqlite3 *db, enum import_kind kind, const char *path,
		const struct import_opts *opts, struct import_result *res);

#endif
