/* inventory_store.h - the SQL of the inventory module (ringer.db and lookup.db reads).
 *
 * Internal to src/inventory/. Functions return 0 (done), 1 (no such row)
 * or -1 (the database failed; logged).
 */
#ifndef RINGER_INVENTORY_STORE_H
#define RINGER_INVENTORY_STORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "../numdb/portstore.h"
#include "inventory.h"

int inv_store_migrate(sqlite3 *db);

/* inventory_analyze: sqlite_stat1 for inv_number from inv_tally. */
int inv_store_analyze(sqlite3 *db);
int inv_store_begin(sqlite3 *db);
int inv_store_commit(sqlite3 *db);
void inv_store_rollback(sqlite3 *db);

/* True when inv_number exists in db. */
bool inv_store_ready(sqlite3 *db);

/* The row of tn among c's SPIDs (a live one before a PORTED_OUT one). */
int inv_store_find(sqlite3 *db, const struct inv_caller *c, uint64_t tn, int64_t *id,
		   char status[16]);

/* The NumberInventoryDto of row id. */
int inv_store_dto(sqlite3 *db, int64_t id, json_t **out);

/* Set columns of row id (NULL text = SQL NULL) and stamp it; see the .c for the sets. */
int inv_store_reserve(sqlite3 *db, int64_t id, const char *by, int64_t now);
int inv_store_assign(sqlite3 *db, int64_t id, const char *app, const char *meta, int64_t now);
int inv_store_metadata(sqlite3 *db, int64_t id, const char *meta, int64_t now);
int inv_store_release(sqlite3 *db, int64_t id, int64_t now);

/* Record a change of row id (from -> to) by action at now. */
int inv_store_change(sqlite3 *db, int64_t id, const char *from, const char *to,
		     const char *action, int64_t now);

/*
 * Which numbers a page is from: where over inv_number (NULL = all) with its
 * text binds, and, when the matches can be counted from inv_tally_view, the
 * same condition over it (tally_where, tally_binds); NULL counts the rows.
 */
struct inv_filter {
	const char *where;
	char *const *binds;
	size_t n_binds;
	const char *tally_where;
	char *const *tally_binds;
	size_t n_tally_binds;
};

/* One page of c's numbers matching f. */
int inv_store_page(sqlite3 *db, const struct inv_caller *c, const struct inv_filter *f,
		   const struct inv_page *pg, json_t **out);

/* Free-text search (inventory_search). */
int inv_store_search(sqlite3 *db, const struct inv_caller *c, const char *text,
		     const struct inv_page *pg, json_t **out);

/* InventorySummaryDto of spid; 1 when the SPID has no numbers. */
int inv_store_summary(sqlite3 *db, const char *spid, json_t **out);

/*
 * Sync bookkeeping: the lookup data a SPID was last synced against (built:
 * the last non-ported import_log id, seq: the last ported update read).
 */
int inv_store_sync_mark(sqlite3 *db, const char *spid, int64_t *built, int64_t *seq);
int inv_store_sync_set(sqlite3 *db, const char *spid, int64_t built, int64_t seq, int64_t now);

/* Port effects on one row each (inserted when missing). */
struct inv_port {
	uint64_t tn, lrn;
	const char *spid;      /* whose row */
	const char *old_spid, *new_spid;
	const char *state, *locality, *ocn, *ocn_name; /* for a new row; may be NULL */
	int64_t at;  /* the port date, 0 = unknown (learnt from lookup data) */
	int64_t now; /* the change's stamp */
	bool force;  /* stamp the port even when the row is already in that state */
};
int inv_store_port_out(sqlite3 *db, const struct inv_port *p);
int inv_store_port_in(sqlite3 *db, const struct inv_port *p);

/* tn is home with p->spid again (snapback); inserted when missing. */
int inv_store_snapback(sqlite3 *db, const struct inv_port *p);

/* Remove spid's row of tn and its history (0 also when there is none). */
int inv_store_remove(sqlite3 *db, const char *spid, uint64_t tn);

/* Every SPID in inv_sync, in order; *out freed by the caller. */
int inv_store_synced(sqlite3 *db, char (**out)[5], size_t *n);

/* Bulk insert of a 1000-block (number % 1000 == 0 at start) for a sync. */
struct inv_range {
	uint64_t first;      /* first number */
	unsigned count;      /* 1000 or 10000 */
	const char *spid, *ocn, *ocn_name, *state, *locality;
	uint64_t skip_lo[10], skip_hi[10]; /* blocks held by others, [lo, hi) */
	unsigned n_skip;
};
long inv_store_add_range(sqlite3 *db, const struct inv_range *r, int64_t now);

/* A code (npanxx = NPA-NXX) or pooled block (npanxx = NPA-NXX-X) from lookup.db. */
struct inv_code {
	unsigned npanxx;
	bool block;
	const char *company, *rate_center, *state; /* may be NULL */
	const char *foreign_blocks; /* codes: "NPANXXX,..." pooled to other SPIDs, or NULL */
};
typedef int (*inv_code_fn)(void *ctx, const struct inv_code *code);

/* The highest import_log id of the tables other than ported numbers. */
int inv_store_lookup_log_id(sqlite3 *lookup, int64_t *out);

/* The codes whose OCN is spid, then the blocks it holds. fn returns non-zero to stop. */
/*
 * The numbers whose ported data update transactions after seq from and up
 * to seq to changed (lookup.db's overlay: routed and deleted SVs), in
 * ascending order, as a malloc'd array *out of *n. Returns 0 or -1.
 */
int inv_store_lookup_ported_since(sqlite3 *lookup, int64_t from, int64_t to, uint64_t **out,
				  size_t *n);

/* What a sync needs to know of spid's row of tn. */
struct inv_row_state {
	char status[16], ported[8], owner[8];
	int64_t updated_at;
};

/* spid's row of tn: 0 with *out, 1 none, -1. */
int inv_store_row_state(sqlite3 *db, const char *spid, uint64_t tn, struct inv_row_state *out);

/*
 * The NPA-NXX-X blocks (tn / 1000) spid has rows from the LERG data in,
 * ascending (malloc'd *out), read from inv_tally. 0 or -1.
 */
int inv_store_lerg_blocks(sqlite3 *db, const char *spid, uint64_t **out, size_t *n);

/*
 * Block (tn / 1000) is not spid's any more: drop its rows there that nothing
 * uses (AVAILABLE, never ported, from the LERG data), with their history.
 * Numbers in use stay. Returns the rows dropped, or -1.
 */
long inv_store_drop_block(sqlite3 *db, const char *spid, uint64_t block);

/* spid's numbers that are PORTED_OUT or ported in, ascending (malloc'd *out). 0 or -1. */
int inv_store_ported_rows(sqlite3 *db, const char *spid, uint64_t **out, size_t *n);

int inv_store_lookup_codes(sqlite3 *lookup, const char *spid, inv_code_fn fn, void *ctx);
int inv_store_lookup_blocks(sqlite3 *lookup, const char *spid, inv_code_fn fn, void *ctx);

#endif
