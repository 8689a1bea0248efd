/* soa.c - validated creates, moves inside transactions, routing, timers.
 *
 * A change to an SV is one transaction on ringer.db: the SV row, a history
 * row and an event per provider the change concerns. A change that routes
 * (activation) or unroutes (disconnect) first commits the SV as `sending`,
 * then writes the lookup store's overlay and publishes a new generation,
 * then commits `active` or `old` (or `failed`). A crash between the steps
 * leaves the SV `sending`, and soa_tick() finishes the broadcast: the
 * overlay write is idempotent, so nothing acknowledged is lost or doubled.
 */
#include "soa.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/tn.h"
#include "../inventory/inventory.h"
#include "../numdb/numdb.h"
#include "../numdb/portover.h"
#include "../numdb/store.h"
#include "soa_store.h"

#define TICK_BATCH 64
#define ROUTE_TRIES 3

static struct {
	struct sv_timers tm;
	struct bizcal cal;
	struct sv_env env;
	unsigned interval_simple, interval_complex;
	char lookup_path[512];
	pthread_mutex_t route_lock; /* one writer of the lookup store from here */
	sqlite3 *lookup;            /* opened on first broadcast, under route_lock */
} S = { .route_lock = PTHREAD_MUTEX_INITIALIZER };

static int hhmm(const char *s, int *out)
{
	unsigned h, m;
	char tail;

	if (s[0] == '\0') {
		*out = -1;
		return 0;
	}
	if (strlen(s) != 5 || sscanf(s, "%2u:%2u%c", &h, &m, &tail) != 2 || h > 23 || m > 59)
		return -1;
	*out = (int)(h * 60 + m);
	return 0;
}

int soa_init(const struct config *cfg, char *err, size_t errlen)
{
	int restrict_min;

	if (bizcal_parse(&S.cal, cfg->soa_business_days, cfg->soa_business_hours,
			 cfg->soa_utc_offset, cfg->soa_holidays, err, errlen) != 0)
		return -1;
	bizcal_set_us_dst(&S.cal, cfg->soa_dst != 0);
	if (hhmm(cfg->soa_conflict_restrict, &restrict_min) != 0) {
		snprintf(err, errlen, "soa.conflict_restrict \"%s\" is not HH:MM",
			 cfg->soa_conflict_restrict);
		return -1;
	}
	S.tm = (struct sv_timers){
		.t1 = cfg->soa_t1_minutes * 60LL, .t2 = cfg->soa_t2_minutes * 60LL,
		.t1_short = cfg->soa_short_t1_minutes * 60LL,
		.t2_short = cfg->soa_short_t2_minutes * 60LL,
		.conflict_restrict_min = restrict_min,
		.resolve_restrict = cfg->soa_resolve_minutes * 60LL,
		.cancel_initial = cfg->soa_cancel_initial_minutes * 60LL,
		.cancel_final = cfg->soa_cancel_final_minutes * 60LL,
		.conflict_expire = cfg->soa_conflict_expire_days * 86400LL,
		.old_first_cancel = cfg->soa_old_first_cancel != 0,
	};
	S.env = (struct sv_env){ &S.tm, &S.cal };
	S.interval_simple = cfg->soa_port_interval_days;
	S.interval_complex = cfg->soa_complex_interval_days;
	if (config_data_path(cfg, "lookup.db", S.lookup_path, sizeof(S.lookup_path)) != 0) {
		snprintf(err, errlen, "data.dir is too long");
		return -1;
	}
	return 0;
}

void soa_shutdown(void)
{
	pthread_mutex_lock(&S.route_lock);
	numstore_close(S.lookup);
	S.lookup = NULL;
	pthread_mutex_unlock(&S.route_lock);
}

const struct bizcal *soa_calendar(void)
{
	return &S.cal;
}

bool soa_caller_has(const struct soa_caller *c, const char *spid)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->spids[i], spid) == 0)
			return true;
	return false;
}

static void result(struct soa_result *res, unsigned http, const char *code, const char *msg)
{
	res->http = http;
	snprintf(res->code, sizeof(res->code), "%s", code);
	snprintf(res->msg, sizeof(res->msg), "%s", msg);
}

/* ---- events and history for one change ---- */

static const char *event_type(enum sv_note n, enum sv_status to)
{
	if (n == SV_NOTE_STATUS) {
		if (to == SV_ACTIVE)
			return "ACTIVATION";
		if (to == SV_CANCELED || to == SV_CANCEL_PENDING)
			return "CANCELLATION";
		return to == SV_CONFLICT ? "CONFLICT" : "STATUS_CHANGE";
	}
	if (n == SV_NOTE_CANCEL_ACK_REQUEST)
		return "CANCELLATION";
	if (n == SV_NOTE_CREATED || n == SV_NOTE_NEW_SP_CREATE_REQUEST ||
	    n == SV_NOTE_OLD_SP_CONCURRENCE_REQUEST || n == SV_NOTE_CONCURRED)
		return "PORT_REQUEST";
	return "STATUS_CHANGE";
}

static json_t *event_details(const struct sv *sv, enum sv_status from)
{
	char due[32];

	clock_format_rfc3339(sv->due, due, sizeof(due));
	return json_pack("{s:I, s:s, s:i, s:s, s:s, s:s, s:s}", "portRequestId",
			 (json_int_t)sv->id, "status", sv_status_name(sv->status), "statusCode",
			 (int)sv->status, "previousStatus", sv_status_name(from), "oldSpid",
			 sv->old_spid, "newSpid", sv->new_spid, "dueDate", due);
}

static int record(sqlite3 *db, const struct sv *sv, const struct sv_effects *fx,
		  const char *action, const char *by, int64_t now)
{
	json_t *d = event_details(sv, fx->from);
	int rc = soa_history_add(db, sv, now, action, fx->from, by, "");

	for (size_t i = 0; rc == 0 && i < fx->n_notes; i++) {
		const char *type = event_type(fx->notes[i].note, fx->to);
		const char *name = sv_note_name(fx->notes[i].note);

		if (fx->notes[i].to & SV_TO_NEW)
			rc = soa_event_add(db, sv->new_spid, sv, now, type, name, d);
		if (rc == 0 && (fx->notes[i].to & SV_TO_OLD) &&
		    ((fx->notes[i].to & SV_TO_NEW) == 0 || strcmp(sv->old_spid, sv->new_spid)))
			rc = soa_event_add(db, sv->old_spid, sv, now, type, name, d);
	}
	json_decref(d);
	return rc;
}

/* ---- routing ---- */

static int lookup_open(void)
{
	if (S.lookup == NULL && numstore_open(S.lookup_path, false, &S.lookup) != 0)
		return -1;
	return 0;
}

/* Make the live generation show the change now, not at the next reload tick. */
static void publish_now(void)
{
	struct numdb *prev = numdb_acquire(), *g;

	if (numdb_update(S.lookup, prev, &g) == 0)
		numdb_publish(g);
	numdb_release(prev);
}

/* Write the SV's route (or its removal) with a version above everything applied. */
static int route_write(const struct sv *sv, int64_t *version)
{
	struct port_change c = { .tn = sv->tn, .deleted = sv->disconnecting, .lrn = sv->lrn };
	int64_t w;
	int rc = -1;

	snprintf(c.spid, sizeof(c.spid), "%s", sv->new_spid);
	pthread_mutex_lock(&S.route_lock);
	for (int i = 0; i < ROUTE_TRIES && rc != 1 && lookup_open() == 0; i++) {
		if (portover_watermark(S.lookup, &w) != 0)
			break;
		c.version = w + 1;
		rc = portover_apply(S.lookup, &c);
	}
	if (rc == 1) {
		publish_now();
		*version = c.version;
	}
	pthread_mutex_unlock(&S.route_lock);
	return rc == 1 ? 0 : -1;
}

/* Apply an NPAC move to sv and record it; inside the caller's transaction. */
static int npac_move(sqlite3 *db, struct sv *sv, enum sv_move m, int64_t now)
{
	struct sv_effects fx;

	if (sv_apply(sv, m, SV_BY_NPAC, NULL, &S.env, now, &fx) != SV_OK)
		return -1;
	if (soa_sv_update(db, sv) != 0 || record(db, sv, &fx, sv_move_name(m), "NPAC", now))
		return -1;
	return 0;
}

/* The previous routed SV of the number goes old when sv goes active. */
static int supersede(sqlite3 *db, const struct sv *sv, int64_t now)
{
	struct sv prev;
	int rc = soa_sv_routed(db, sv->tn, &prev);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (prev.id == sv->id)
		return 0;
	return npac_move(db, &prev, SV_MOVE_SUPERSEDE, now);
}

/* Finish a `sending` SV: route it, then commit active/old or failed. */
static int broadcast(sqlite3 *db, struct sv *sv, int64_t now)
{
	int64_t version = 0;
	bool ok = route_write(sv, &version) == 0;
	int rc;

	if (soa_store_begin(db) != 0)
		return -1;
	rc = soa_sv_get(db, sv->id, sv);
	if (rc == 0 && sv->status == SV_SENDING) {
		if (ok && !sv->disconnecting)
			rc = soa_sv_set_version(db, sv->id, version);
		if (rc == 0)
			rc = npac_move(db, sv, ok ? SV_MOVE_BROADCAST_OK : SV_MOVE_BROADCAST_FAIL,
				       now);
		if (rc == 0 && ok && !sv->disconnecting)
			rc = supersede(db, sv, now);
		if (rc == 0 && ok && !sv->disconnecting) /* inventories of both SPIDs */
			rc = inventory_port_activated(db, sv->tn, sv->old_spid, sv->new_spid,
						      sv->lrn, now);
		if (rc == 0 && ok && sv->disconnecting) /* snapback to the block/code holder */
			rc = inventory_port_disconnected(db, sv->tn, sv->new_spid, now);
	}
	if (rc != 0) {
		soa_store_rollback(db);
		return -1;
	}
	return soa_store_commit(db) == 0 && ok ? 0 : -1;
}

/* ---- the current provider ---- */

int soa_current_provider(sqlite3 *db, uint64_t tn, char spid[5], uint64_t *lrn)
{
	struct lrn_answer a;
	struct numdb *g;
	struct sv sv;

	if (soa_sv_routed(db, tn, &sv) == 0) {
		snprintf(spid, 5, "%s", sv.new_spid);
		*lrn = sv.lrn;
		return 0;
	}
	g = numdb_acquire();
	if (g == NULL)
		return -1;
	numdb_lrn(g, tn, &a);
	numdb_release(g);
	if (a.spid[0] == '\0')
		return -1;
	snprintf(spid, 5, "%s", a.spid);
	*lrn = a.lrn;
	return 0;
}

static bool npanxx_known(uint64_t tn)
{
	struct numdb *g = numdb_acquire();
	const struct cocode_info *ci = g ? numdb_cocode(g, tn_npanxx(tn)) : NULL;
	bool ok = ci && ci->ocn;

	numdb_release(g);
	return ok;
}

/* ---- create ---- */

static int check_order(sqlite3 *db, const struct soa_create_req *rq, int64_t now,
		       struct soa_result *res)
{
	int64_t today = bizcal_day(&S.cal, now);
	unsigned interval = strcmp(rq->port_type, "SIMPLE") == 0 ? S.interval_simple
								 : S.interval_complex;
	char cur[5], owner[5];
	uint64_t cur_lrn;

	if (!npanxx_known(rq->tn)) {
		result(res, 422, "UNKNOWN_NPANXX", "the number's NPA-NXX is not in the LERG data");
		return -1;
	}
	if (soa_current_provider(db, rq->tn, cur, &cur_lrn) != 0 ||
	    strcmp(cur, rq->old_spid) != 0) {
		result(res, 422, "OLD_SPID_MISMATCH",
		       "oldSpid is not the number's current provider");
		return -1;
	}
	if (rq->lrn && (soa_lrn_owner(db, rq->lrn, owner) != 0 ||
			strcmp(owner, rq->new_spid) != 0)) {
		result(res, 422, "LRN_NOT_REGISTERED", "the LRN is not registered to newSpid");
		return -1;
	}
	if (!bizcal_is_business_day(&S.cal, rq->due_day) ||
	    rq->due_day < bizcal_add_days(&S.cal, today, interval)) {
		result(res, 422, "INVALID_DUE_DATE", "requestedPortDate must be a business day "
		       "no earlier than the port interval allows");
		return -1;
	}
	return 0;
}

static void move_error(struct soa_result *res, int err)
{
	unsigned http = err == SV_E_ARG ? 422 : 409;

	result(res, http, err == SV_E_ARG ? "VALIDATION_ERROR" : "INVALID_TRANSITION",
	       sv_err_text(err));
}

/* The create of the second provider on an open SV: a match or a concurrence. */
static void create_second(sqlite3 *db, struct sv *sv, const struct soa_create_req *rq,
			  enum sv_role by, int64_t now, struct soa_result *res)
{
	enum sv_move m = by == SV_BY_NEW ? SV_MOVE_NEW_CREATE : SV_MOVE_CONCUR;
	struct sv_args a = { .lrn = rq->lrn };
	struct sv_effects fx;
	int err;

	if (strcmp(sv->old_spid, rq->old_spid) || strcmp(sv->new_spid, rq->new_spid)) {
		result(res, 409, "PORT_IN_PROGRESS", "another port of this number is open");
		return;
	}
	err = sv_apply(sv, m, by, &a, &S.env, now, &fx);
	if (err != SV_OK) {
		move_error(res, err);
		return;
	}
	if (soa_sv_update(db, sv) != 0 ||
	    record(db, sv, &fx, sv_move_name(m), by == SV_BY_NEW ? sv->new_spid : sv->old_spid,
		   now) != 0) {
		result(res, 500, "SERVER_ERROR", "the port could not be stored");
		return;
	}
	res->sv = *sv;
	result(res, 200, "", by == SV_BY_NEW ? "port request matched" : "port request concurred");
}

static void create_new(sqlite3 *db, const struct soa_create_req *rq, enum sv_role by,
		       int64_t now, struct soa_result *res)
{
	struct sv_request r = { .tn = rq->tn, .lrn = rq->lrn, .wireless = rq->wireless,
				.lnp_type = rq->intra ? SV_LISP : SV_LSPP,
				.due = bizcal_instant(&S.cal, rq->due_day, 0) };
	struct soa_order o = { .subscriber = rq->subscriber };
	struct sv_effects fx;
	struct sv sv;
	int err;

	memcpy(r.old_spid, rq->old_spid, 5);
	memcpy(r.new_spid, rq->new_spid, 5);
	snprintf(o.port_type, sizeof(o.port_type), "%s", rq->port_type);
	snprintf(o.auth_code, sizeof(o.auth_code), "%s", rq->auth_code);
	if (check_order(db, rq, now, res) != 0)
		return;
	err = sv_create(&sv, &r, by, &S.env, now, &fx);
	if (err != SV_OK) {
		move_error(res, err);
		return;
	}
	if (soa_sv_insert(db, &sv, &o) != 0 ||
	    record(db, &sv, &fx, "create", by == SV_BY_NEW ? sv.new_spid : sv.old_spid, now)) {
		result(res, 500, "SERVER_ERROR", "the port could not be stored");
		return;
	}
	res->sv = sv;
	result(res, 201, "", "port request created");
}

void soa_create(sqlite3 *db, const struct soa_create_req *rq, const struct soa_caller *c,
		int64_t now, struct soa_result *res)
{
	enum sv_role by = soa_caller_has(c, rq->new_spid) ? SV_BY_NEW : SV_BY_OLD;
	struct sv open;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!soa_caller_has(c, rq->new_spid) && !soa_caller_has(c, rq->old_spid)) {
		result(res, 403, "SPID_NOT_AUTHORIZED", "the token may not act for these SPIDs");
		return;
	}
	if (soa_store_begin(db) != 0) {
		result(res, 500, "SERVER_ERROR", "the database is not available");
		return;
	}
	rc = soa_sv_for_tn(db, rq->tn, true, &open);
	if (rc == 0 && !rq->intra)
		create_second(db, &open, rq, by, now, res);
	else if (rc == 0)
		result(res, 409, "PORT_IN_PROGRESS", "another port of this number is open");
	else if (rc == 1)
		create_new(db, rq, by, now, res);
	else
		result(res, 500, "SERVER_ERROR", "the database is not available");
	if (res->http >= 300 || soa_store_commit(db) != 0) {
		soa_store_rollback(db);
		if (res->http < 300)
			result(res, 500, "SERVER_ERROR", "the port could not be stored");
	}
}

/* ---- moves ---- */

int soa_visible(sqlite3 *db, uint64_t tn, const struct soa_caller *c, struct sv *out)
{
	struct sv sv;

	if (soa_sv_for_tn(db, tn, false, &sv) != 0)
		return 1;
	if (!soa_caller_has(c, sv.new_spid) && !soa_caller_has(c, sv.old_spid))
		return 1;
	*out = sv;
	return 0;
}

static enum sv_role role_for(const struct sv *sv, enum sv_move m, const struct soa_caller *c)
{
	bool is_new = soa_caller_has(c, sv->new_spid), is_old = soa_caller_has(c, sv->old_spid);

	if (m == SV_MOVE_CONCUR || m == SV_MOVE_CONFLICT)
		return is_old ? SV_BY_OLD : SV_BY_NEW;
	if (m == SV_MOVE_CANCEL_ACK && sv->status == SV_CANCEL_PENDING && is_new && is_old)
		return sv->canceled_by == SV_BY_NEW ? SV_BY_OLD : SV_BY_NEW;
	return is_new ? SV_BY_NEW : SV_BY_OLD;
}

static int move_locked(sqlite3 *db, struct sv *sv, enum sv_move m, const struct sv_args *a,
		       const struct soa_caller *c, int64_t now, struct soa_result *res)
{
	enum sv_role who;
	struct sv_effects fx;
	int err;

	if (m == SV_MOVE_CANCEL && sv->status == SV_CANCEL_PENDING)
		m = SV_MOVE_CANCEL_ACK;
	who = role_for(sv, m, c);
	err = sv_apply(sv, m, who, a, &S.env, now, &fx);
	if (err != SV_OK) {
		move_error(res, err);
		return -1;
	}
	if (soa_sv_update(db, sv) != 0 ||
	    record(db, sv, &fx, sv_move_name(m), who == SV_BY_NEW ? sv->new_spid : sv->old_spid,
		   now) != 0) {
		result(res, 500, "SERVER_ERROR", "the port could not be stored");
		return -1;
	}
	return 0;
}

void soa_move(sqlite3 *db, uint64_t tn, enum sv_move m, const struct sv_args *a,
	      const struct soa_caller *c, int64_t now, struct soa_result *res)
{
	struct sv sv;

	memset(res, 0, sizeof(*res));
	if (soa_store_begin(db) != 0) {
		result(res, 500, "SERVER_ERROR", "the database is not available");
		return;
	}
	if (soa_visible(db, tn, c, &sv) != 0) {
		soa_store_rollback(db);
		result(res, 404, "NOT_FOUND", "no port request for this number");
		return;
	}
	if (move_locked(db, &sv, m, a, c, now, res) != 0 || soa_store_commit(db) != 0) {
		soa_store_rollback(db);
		if (res->http == 0)
			result(res, 500, "SERVER_ERROR", "the port could not be stored");
		return;
	}
	result(res, 200, "", "done");
	if (sv.status == SV_SENDING && broadcast(db, &sv, now) != 0)
		result(res, 503, "ROUTING_UNAVAILABLE",
		       "the change is stored but the routing data did not take it yet");
	res->sv = sv;
}

/* ---- timers ---- */

static int tick_one(sqlite3 *db, int64_t id, int64_t now)
{
	struct sv sv;
	int m, n = 0;

	if (soa_store_begin(db) != 0)
		return -1;
	if (soa_sv_get(db, id, &sv) != 0) {
		soa_store_rollback(db);
		return -1;
	}
	while (n < 8 && (m = sv_due_move(&sv, now)) >= 0) {
		if (npac_move(db, &sv, (enum sv_move)m, now) != 0) {
			soa_store_rollback(db);
			return -1;
		}
		n++;
	}
	if (soa_store_commit(db) != 0)
		return -1;
	if (sv.status == SV_SENDING)
		broadcast(db, &sv, now);
	return n;
}

int soa_tick(sqlite3 *db, int64_t now)
{
	int64_t ids[TICK_BATCH];
	size_t n;
	int moved = 0;

	if (soa_sv_due(db, now, ids, TICK_BATCH, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int r = tick_one(db, ids[i], now);

		if (r > 0)
			moved += r;
		else if (r < 0)
			log_warn("soa timer step failed", "sv=%lld", (long long)ids[i]);
	}
	return moved;
}
