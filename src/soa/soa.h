/* soa.h - the Portability service: validated creates, moves, routing, timers.
 *
 * Between the HTTP handlers and the store: it checks an order against the
 * numbering data, decides which provider the caller is for an SV, runs the
 * state machine (sv.h) inside one transaction with the SV's history and
 * events, and sends activations and disconnects to the live LRN data
 * (portover_apply) before answering, so the next LRN dip sees them.
 * Callers pass their own ringer.db connection and the SPIDs they may act for.
 */
#ifndef RINGER_SOA_SOA_H
#define RINGER_SOA_SOA_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/config.h"
#include "sv.h"

/* The outcome of an operation, ready for an answer. */
struct soa_result {
	unsigned http;   /* 200, 201, 404, 409, 422, 503, 500 */
	char code[40];   /* errorCode: "", "NOT_FOUND", "INVALID_TRANSITION", ... */
	char msg[240];
	struct sv sv;    /* the SV acted on, when there is one (sv.id != 0) */
};

/* A caller: the SPIDs its token may act for. */
struct soa_caller {
	const char (*spids)[5];
	size_t n;
};

struct soa_create_req {
	uint64_t tn, lrn;      /* lrn 0 = given at activation */
	char old_spid[5], new_spid[5];
	char port_type[16];    /* SIMPLE, COMPLEX, PROJECT */
	int64_t due_day;       /* local day number of requestedPortDate */
	bool wireless;
	bool intra;            /* intra-provider port (old == new) */
	char auth_code[64];
	json_t *subscriber;    /* borrowed */
};

/* Read the [soa] settings and the lookup store path. Returns 0, or -1 with err. */
int soa_init(const struct config *cfg, char *err, size_t errlen);

/* Release what soa_init() opened. */
void soa_shutdown(void);

/* Create (or match, or concur with) a port. */
void soa_create(sqlite3 *db, const struct soa_create_req *rq, const struct soa_caller *c,
		int64_t now, struct soa_result *res);

/*
 * A move on the number's current SV (open, else routed). m is what the
 * caller asked for; SV_MOVE_CANCEL on a cancel-pending SV acknowledges it.
 */
void soa_move(sqlite3 *db, uint64_t tn, enum sv_move m, const struct sv_args *a,
	      const struct soa_caller *c, int64_t now, struct soa_result *res);

/* The number's SV visible to c (open, else routed, else latest). Returns 0 or 1 (none). */
int soa_visible(sqlite3 *db, uint64_t tn, const struct soa_caller *c, struct sv *out);

/* True if c may act for spid. */
bool soa_caller_has(const struct soa_caller *c, const char *spid);

/* Run due timers and unfinished broadcasts at now. Returns SVs moved, or -1. */
int soa_tick(sqlite3 *db, int64_t now);

/* The calendar and business-day rules the service uses. */
const struct bizcal *soa_calendar(void);

/* The number's current provider and LRN per the routing data; 0, or -1 if unknown. */
int soa_current_provider(sqlite3 *db, uint64_t tn, char spid[5], uint64_t *lrn);

#endif
