/* inventory.h - a carrier's telephone numbers: where they come from, their states.
 *
 * A SPID's inventory is materialised in ringer.db (table inv_number, one
 * row per SPID and number) from the lookup data: every number of the
 * NPA-NXX codes whose OCN is the SPID (except 1000-blocks pooled to someone
 * else), every number of the pooled blocks it holds, and numbers ported to
 * it. Numbers of its ranges ported elsewhere are PORTED_OUT. A sync runs
 * when a SPID is first used and again after the lookup data changes; it
 * adds what is new and never undoes a state an application set.
 *
 * States (soa-inventory.yaml): AVAILABLE -> RESERVED -> IN_USE, AVAILABLE
 * -> IN_USE, RESERVED|IN_USE -> AVAILABLE (release), and PORTED_OUT for the
 * donor when a number ports away. A number ported in is AVAILABLE to its new
 * SPID with ported = 'in' (the contract's `ported=in`, portDirection IN and
 * portedInCount): the contract has no PORTED_IN status. Every change stamps
 * updated_at and writes a row to inv_change in the same transaction.
 *
 * No HTTP here; the SQL lives in inventory_store.c.
 */
#ifndef RINGER_INVENTORY_INVENTORY_H
#define RINGER_INVENTORY_INVENTORY_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "query.h"

#define INV_SCOPE_SEARCH "inventory:search"
#define INV_SCOPE_RESERVE "inventory:reserve"
#define INV_SCOPE_ASSIGN "inventory:assign"
#define INV_SCOPE_RELEASE "inventory:release"
#define INV_MAX_PAGE_SIZE 10000

/* The SPIDs a caller may see and act for (a token's). */
struct inv_caller {
	const char (*spids)[5];
	size_t n;
};

/* The outcome of an operation: http 200 with dto, or an error status and message. */
struct inv_result {
	unsigned http;
	char msg[200];
	json_t *dto; /* owned by the caller when set */
};

/* Bring the inventory tables of ringer.db up to date. Returns 0 or -1 (logged). */
int inventory_migrate(sqlite3 *db);

/*
 * Give the query planner the shape of inv_number (rows per SPID, status,
 * NPA-NXX, LATA, locality ...) from the running counts, in milliseconds
 * where ANALYZE would read every row. A sync runs it after adding numbers.
 * Returns 0 or -1 (logged).
 */
int inventory_analyze(sqlite3 *db);

/* Remember lookup.db's path for syncs. */
void inventory_set_lookup_path(const char *path);

/*
 * Sync each of c's SPIDs from the lookup data unless already synced against
 * the current lookup generation. Returns 0 or -1 (logged).
 */
int inventory_sync(sqlite3 *db, const struct inv_caller *c, int64_t now);

/* Sync one SPID now from an open lookup store. Returns numbers added, or -1. */
long inventory_sync_spid(sqlite3 *db, sqlite3 *lookup, const char *spid, int64_t now);

/*
 * The SPIDs synced before, for a refresh of them all: *out (n entries,
 * freed by the caller) is set on success. Returns 0 or -1.
 */
int inventory_synced_spids(sqlite3 *db, char (**out)[5], size_t *n);

/* Paging and order for query and search. */
struct inv_page {
	long page, size;
	const char *sort_column; /* from inventory_sort_column() */
	bool desc;
};

/* The column for a contract sortBy name, or NULL when it is not one. */
const char *inventory_sort_column(const char *sort_by);

/*
 * One page of c's numbers matching the compiled query s (NULL = all), as a
 * QueryResponse without executionTimeMs. Returns 0 with *out, or -1.
 */
int inventory_query(sqlite3 *db, const struct inv_caller *c, const struct query_sql *s,
		    const struct inv_page *pg, json_t **out);

/*
 * Free-text search: digits match telephone-number prefixes, anything else
 * a locality (contains), state, SPID or OCN. Same answer as inventory_query.
 */
int inventory_search(sqlite3 *db, const struct inv_caller *c, const char *text,
		     const struct inv_page *pg, json_t **out);

/* InventorySummaryDto for spid (which c must hold). res->http 200 or 404. */
void inventory_summary(sqlite3 *db, const char *spid, struct inv_result *res);

/* NumberInventoryDto of tn among c's numbers. res->http 200 or 404. */
void inventory_get(sqlite3 *db, const struct inv_caller *c, uint64_t tn, struct inv_result *res);

void inventory_reserve(sqlite3 *db, const struct inv_caller *c, uint64_t tn,
		       const char *reserved_by, int64_t now, struct inv_result *res);

/* metadata may be NULL (none); it is copied. */
void inventory_assign(sqlite3 *db, const struct inv_caller *c, uint64_t tn, const char *app_id,
		      const json_t *metadata, int64_t now, struct inv_result *res);

void inventory_set_metadata(sqlite3 *db, const struct inv_caller *c, uint64_t tn,
			    const json_t *metadata, int64_t now, struct inv_result *res);

void inventory_release(sqlite3 *db, const struct inv_caller *c, uint64_t tn, int64_t now,
		       struct inv_result *res);

/*
 * The Portability hook: tn was ported from old_spid to new_spid (routed to
 * lrn) at now. Runs inside the caller's transaction on ringer.db: the old
 * SPID's number becomes PORTED_OUT, the new SPID's is ported in (AVAILABLE,
 * ported = 'in'), both with the port date. A no-op when the inventory
 * tables do not exist or the port is intra-provider. Returns 0 or -1.
 */
int inventory_port_activated(sqlite3 *db, uint64_t tn, const char *old_spid,
			     const char *new_spid, uint64_t lrn, int64_t now);

/*
 * The Portability hook for a disconnect (the SV that routed tn to cur_spid
 * went old), called inside the caller's transaction once the route's removal
 * is published. Snapback: the holder of tn's pooled block, else of its
 * NPA-NXX code, has the number AVAILABLE again, not ported, application data
 * cleared; cur_spid's row, unless cur_spid is that holder, leaves its
 * inventory with its history. A no-op without inventory tables. Returns 0 or -1.
 */
int inventory_port_disconnected(sqlite3 *db, uint64_t tn, const char *cur_spid, int64_t now);

#endif
