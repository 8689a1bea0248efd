/* portover.h - ported numbers: full refresh, live updates and folding.
 *
 * The bulk of the ported numbers lives in the generation file (portstore.h)
 * beside lookup.db. Changes since it was built live in lookup.db: routed SVs
 * in `ported`, deletions as tombstones in `ported_gone`, both written by an
 * update transaction numbered in `ported_state.seq`. Lookups consult these
 * rows (the overlay) before the file, so a change is visible at the next
 * reload without rebuilding the file.
 *
 * Per number the higher NPAC version id wins; an equal version replaces the
 * row only when its content differs, so replaying a file changes nothing.
 * A full refresh builds a new file from a BDD file; a fold builds one from
 * the current file and the overlay. Both drop exactly the overlay rows they
 * absorbed, after the new file is in place.
 *
 * Folded rows are gone, and the file keeps no version per number, so the
 * highest version id ever applied is the watermark (ported_state.max_version,
 * and max_version in the file's header): a change at or below the watermark
 * of the transaction's start, for a number with no overlay row, is taken as
 * already applied and ignored. Replaying a file after a fold is therefore a
 * no-op, and a stale change cannot override folded data. This assumes NPAC
 * version ids grow over time (they do within one feed); a change delivered
 * late with a lower id than one already applied elsewhere is dropped.
 */
#ifndef RINGER_NUMDB_PORTOVER_H
#define RINGER_NUMDB_PORTOVER_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "import.h"

/* The generation file's name inside the data directory. */
#define PORTOVER_FILE "ported.gen"

/* Start an update transaction's rows: bump the sequence (inside BEGIN). */
#define PORTOVER_SQL_BEGIN \
	"UPDATE ported_state SET seq = seq + 1, updated = strftime('%Y-%m-%dT%H:%M:%SZ') " \
	"WHERE id = 1"

/* A routed SV: newer version, or same version with other content. */
#define PORTOVER_SQL_PUT                                                                  \
	"INSERT INTO ported (tn, lrn, spid, version_id, status, activated, cnam_dpc, "       \
	"cnam_ssn, lnp_type, sv_type, alt_spid, seq) "                                      \
	"SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "                             \
	"(SELECT seq FROM ported_state WHERE id = 1) "                                      \
	"WHERE NOT EXISTS (SELECT 1 FROM ported_gone g WHERE g.tn = ?1 AND g.version_id > ?4) " \
	"ON CONFLICT (tn) DO UPDATE SET lrn = excluded.lrn, spid = excluded.spid, "         \
	"version_id = excluded.version_id, status = excluded.status, "                     \
	"activated = excluded.activated, cnam_dpc = excluded.cnam_dpc, "                   \
	"cnam_ssn = excluded.cnam_ssn, lnp_type = excluded.lnp_type, "                     \
	"sv_type = excluded.sv_type, alt_spid = excluded.alt_spid, seq = excluded.seq "   \
	"WHERE ported.version_id < excluded.version_id OR "                                 \
	"(ported.version_id = excluded.version_id AND (ported.lrn, ported.spid, "           \
	"ported.status, ported.activated, ported.cnam_dpc, ported.cnam_ssn, "              \
	"ported.lnp_type, ported.sv_type, ported.alt_spid) IS NOT (excluded.lrn, "        \
	"excluded.spid, excluded.status, excluded.activated, excluded.cnam_dpc, "          \
	"excluded.cnam_ssn, excluded.lnp_type, excluded.sv_type, excluded.alt_spid))"

/* After a put that changed a row: an older tombstone no longer applies. */
#define PORTOVER_SQL_UNGONE "DELETE FROM ported_gone WHERE tn = ?1 AND version_id <= ?2"

/* A deleted (or old) SV: drop the row ... */
#define PORTOVER_SQL_DEL "DELETE FROM ported WHERE tn = ?1 AND version_id <= ?2"

/* ... and leave a tombstone unless a newer SV is there. */
#define PORTOVER_SQL_GONE                                                                 \
	"INSERT INTO ported_gone (tn, version_id, seq) "                                    \
	"SELECT ?1, ?2, (SELECT seq FROM ported_state WHERE id = 1) "                        \
	"WHERE NOT EXISTS (SELECT 1 FROM ported p WHERE p.tn = ?1 AND p.version_id > ?2) "   \
	"ON CONFLICT (tn) DO UPDATE SET version_id = excluded.version_id, seq = excluded.seq " \
	"WHERE ported_gone.version_id < excluded.version_id"

/* ?2 at or below the watermark ?3 and no overlay row for ?1: already applied. */
#define PORTOVER_SQL_STALE                                                                \
	"SELECT ?2 <= ?3 AND NOT EXISTS (SELECT 1 FROM ported WHERE tn = ?1) AND "         \
	"NOT EXISTS (SELECT 1 FROM ported_gone WHERE tn = ?1)"

/* Keep the highest version id seen. */
#define PORTOVER_SQL_MAXV \
	"UPDATE ported_state SET max_version = max(max_version, ?1) WHERE id = 1"

/*
 * The overlay rows that apply over a file whose header says it absorbed
 * updates up to seq ?1 and versions up to ?2: tn, lrn, spid, cnam_dpc, gone.
 */
#define PORTOVER_SQL_OVERLAY                                                              \
	"SELECT tn, lrn, spid, cnam_dpc, 0 FROM ported WHERE NOT (seq <= ?1 AND "          \
	"version_id <= ?2) UNION ALL SELECT tn, 0, '', '', 1 FROM ported_gone g WHERE NOT " \
	"(seq <= ?1 AND version_id <= ?2) AND NOT EXISTS (SELECT 1 FROM ported p WHERE "    \
	"p.tn = g.tn AND NOT (p.seq <= ?1 AND p.version_id <= ?2)) ORDER BY 1"

/*
 * The overlay rows written by update transactions after ?1 (a reader's last
 * seen seq): tn, lrn, spid, cnam_dpc, gone. Every change leaves a row with
 * its transaction's seq (a delete a tombstone), so these rows replace what a
 * reader holds for their numbers; only folds and refreshes remove rows, and
 * they change the file, which makes readers load the overlay whole.
 */
#define PORTOVER_SQL_DELTA                                                                \
	"SELECT tn, lrn, spid, cnam_dpc, 0 FROM ported WHERE seq > ?1 UNION ALL "          \
	"SELECT tn, 0, '', '', 1 FROM ported_gone WHERE seq > ?1 ORDER BY 1"

/* One single-SV change, as the Portability module or an API would send it. */
struct port_change {
	uint64_t tn;
	int64_t version;
	bool deleted;      /* deleted, or went old: snap back */
	uint64_t lrn;      /* when not deleted */
	char spid[5];
	char cnam_dpc[10]; /* "" when none */
};

/*
 * Apply one change in its own transaction. Returns 1 when it changed the
 * overlay, 0 when it was already applied or superseded, -1 on error.
 */
int portover_apply(sqlite3 *db, const struct port_change *c);

/*
 * Apply n changes in one transaction (one commit, one fsync): what a feed
 * that delivers thousands of changes a second uses. *changed (may be NULL)
 * gets how many changed the overlay. Returns 0, or -1 with nothing applied.
 */
int portover_apply_batch(sqlite3 *db, const struct port_change *c, size_t n, long *changed);

/*
 * The watermark for the next update transaction: the highest version id in
 * ported_state and in the generation file's header (which leads when a crash
 * came between a new file and its bookkeeping). Call inside the transaction.
 */
int portover_watermark(sqlite3 *db, int64_t *out);

/* Where the generation file of db lives (beside the database file). */
int portover_path(sqlite3 *db, char *out, size_t outlen);

/*
 * Full refresh: build a new generation file from an SV BDD file (LSMS or SOA
 * layout, the rules of `import ported-update`), swap it in and drop the
 * overlay rows it supersedes. Returns 0, or -1 with nothing changed. res
 * counts lines as import_file() does.
 */
int portover_refresh(sqlite3 *db, const char *bdd, const struct import_opts *opts,
		     struct import_result *res);

/*
 * Fold: build the next generation from the current file and the overlay,
 * swap it in and drop the folded rows. *folded gets the number of overlay
 * rows absorbed. Returns 0 or -1 (nothing changed).
 */
int portover_fold(sqlite3 *db, long *folded);

/*
 * Fold in a background thread on a connection of its own to the lookup
 * store at db_path, unless a fold is already running. Readers keep the old
 * file until the new one is in place; a crash or kill -9 mid-fold leaves the
 * old file serving. Returns 1 when started, 0 when one is running, -1.
 */
int portover_fold_start(const char *db_path);

/* True while a background fold runs. */
bool portover_fold_running(void);

/* Wait for a background fold to finish (shutdown). */
void portover_fold_wait(void);

#endif
