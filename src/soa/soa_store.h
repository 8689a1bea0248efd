/* soa_store.h - the Portability tables in ringer.db.
 *
 * Subscription versions, their history, the events each provider reads, and
 * the network data (LRNs and NPA-NXXs per SPID). Callers group the writes of
 * one change between soa_store_begin() and soa_store_commit(), so an SV, its
 * history row and its events land together or not at all; db_open() set
 * synchronous=FULL, so a committed change survives kill -9.
 */
#ifndef RINGER_SOA_SOA_STORE_H
#define RINGER_SOA_SOA_STORE_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sv.h"

/* What an SV carries beyond the state machine (the customer's order). */
struct soa_order {
	char port_type[16];  /* SIMPLE, COMPLEX, PROJECT */
	char auth_code[64];
	json_t *subscriber;  /* borrowed; may be NULL */
};

/* Create or update the soa tables. Returns 0 or -1 (logged). */
int soa_store_migrate(sqlite3 *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Return 0 or -1. */
int soa_store_begin(sqlite3 *db);
int soa_store_commit(sqlite3 *db);
void soa_store_rollback(sqlite3 *db);

/* Insert sv (its id is set) with its order. Returns 0 or -1. */
int soa_sv_insert(sqlite3 *db, struct sv *sv, const struct soa_order *o);

/* Write sv back (by id), with the instant of its next timer. Returns 0 or -1. */
int soa_sv_update(sqlite3 *db, const struct sv *sv);

/* Set the routing version id an SV was broadcast with. Returns 0 or -1. */
int soa_sv_set_version(sqlite3 *db, int64_t id, int64_t version);
int soa_sv_version(sqlite3 *db, int64_t id, int64_t *out);

/* Read an SV by id. Returns 0, 1 when there is none, or -1. */
int soa_sv_get(sqlite3 *db, int64_t id, struct sv *out);

/*
 * The number's SV that is still open (pending, conflict, cancel-pending,
 * sending, failed, partial-failure), else its routed one (active or
 * disconnect-pending), else its latest (canceled, old) when open_only is
 * false. Returns 0, 1 when none, -1.
 */
int soa_sv_for_tn(sqlite3 *db, uint64_t tn, bool open_only, struct sv *out);

/* The number's routed SV (active, disconnect-pending). Returns 0, 1, -1. */
int soa_sv_routed(sqlite3 *db, uint64_t tn, struct sv *out);

/* The order of an SV as JSON (portType, subscriberInfo); new reference or NULL. */
json_t *soa_sv_order(sqlite3 *db, int64_t id);

/* Ids of SVs whose next timer is at or before now, or that wait for a broadcast. */
int soa_sv_due(sqlite3 *db, int64_t now, int64_t *ids, size_t max, size_t *n);

/* Pending SVs of new_spid that may activate at now, as SoaActReadyResponse items. */
json_t *soa_sv_ready(sqlite3 *db, const char *new_spid, int64_t now);

/* One history row. Returns 0 or -1. */
int soa_history_add(sqlite3 *db, const struct sv *sv, int64_t at, const char *action,
		    enum sv_status from, const char *by, const char *details);

/* The history of every SV of tn the spids may see, oldest first; new reference. */
json_t *soa_history_list(sqlite3 *db, uint64_t tn, const char (*spids)[5], size_t n);

/*
 * One event for spid about sv: type (PORT_REQUEST, ACTIVATION, ...), the
 * NPAC notification name and details (borrowed). Returns 0 or -1.
 */
int soa_event_add(sqlite3 *db, const char *spid, const struct sv *sv, int64_t at,
		  const char *type, const char *notification, json_t *details);

/*
 * The unacknowledged events of the spids, recno ascending, from after_recno,
 * at most limit; *total gets how many there are in all. New reference or NULL.
 */
json_t *soa_events_list(sqlite3 *db, const char (*spids)[5], size_t n, int64_t after_recno,
			size_t limit, long *total);

/* Acknowledge recno if it belongs to one of spids. Returns 0, 1 when not found, -1. */
int soa_event_ack(sqlite3 *db, int64_t recno, const char (*spids)[5], size_t n);

/* Register an LRN to spid. Returns 0, 1 when the LRN is registered already, -1. */
int soa_lrn_add(sqlite3 *db, uint64_t lrn, const char *spid, const char *name, int64_t now);

/* Remove spid's LRN. Returns 0, 1 when spid has no such LRN, 2 when an SV uses it, -1. */
int soa_lrn_remove(sqlite3 *db, uint64_t lrn, const char *spid);

/* The SPID an LRN is registered to. Returns 0, 1 when none, -1. */
int soa_lrn_owner(sqlite3 *db, uint64_t lrn, char spid[5]);

/* Open an NPA-NXX for porting by spid. Returns 0, 1 when another SPID has it, -1. */
int soa_npanxx_add(sqlite3 *db, unsigned npanxx, const char *spid, int64_t effective,
		   int64_t now);

#endif
