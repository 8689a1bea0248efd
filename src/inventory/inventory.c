/* inventory.c - syncing from the lookup data, state rules, the port hook. */
#include "inventory.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/tn.h"
#include "../db/db.h"
#include "../numdb/numdb.h"
#include "../numdb/portstore.h"
#include "../numdb/store.h"
#include "inventory_store.h"

#define N_BLOCKS 10000000u /* NPA-NXX-X values */

/*
 * A sync is keyed on the lookup data itself (the last non-ported import and
 * the last ported update read), not on a generation's build time, so that
 * one done by `ringer inventory sync` holds for ringerd too. The import id of
 * the current generation is read once and kept here.
 */
static struct {
	pthread_mutex_t lock;
	char lookup_path[512];
	const struct numdb *tables_g; /* the generation tables_id is for */
	int64_t tables_g_built, tables_id;
} S = { .lock = PTHREAD_MUTEX_INITIALIZER };

int inventory_migrate(sqlite3 *db)
{
	return inv_store_migrate(db);
}

int inventory_analyze(sqlite3 *db)
{
	return inv_store_analyze(db);
}

void inventory_set_lookup_path(const char *path)
{
	pthread_mutex_lock(&S.lock);
	snprintf(S.lookup_path, sizeof(S.lookup_path), "%s", path);
	pthread_mutex_unlock(&S.lock);
}

/* ---- sync ---- */

struct sync {
	sqlite3 *db;
	const struct numdb *g;
	const char *spid;
	int64_t now;
	long added;
	bool add_ranges; /* insert the numbers of the SPID's codes and blocks, not only hold */
	int64_t fresh_until; /* the generation's build: rows changed later are newer than it */
	uint8_t *held;   /* bitmap of the SPID's NPA-NXX-X blocks */
};

/*
 * How much a sync redoes. The LERG tables changed (or the SPID is new): all
 * of it. Only ported numbers changed: the SPID's blocks are read (not
 * inserted) and then the changed numbers from lookup.db's overlay are
 * visited; unless a fold or refresh absorbed overlay rows newer than the
 * last sync into the generation file, in which case every ported number is.
 */
enum sync_mode { SYNC_NONE, SYNC_FULL, SYNC_PORTED_WALK, SYNC_PORTED_DELTA };

static void hold(struct sync *s, uint64_t block)
{
	if (block < N_BLOCKS)
		s->held[block / 8] |= (uint8_t)(1u << (block % 8));
}

static bool held(const struct sync *s, uint64_t block)
{
	return block < N_BLOCKS && (s->held[block / 8] & (1u << (block % 8)));
}

static int sync_code(void *ctx, const struct inv_code *code)
{
	struct sync *s = ctx;
	struct inv_range r = {
		.spid = s->spid, .ocn = s->spid, .ocn_name = code->company, .state = code->state,
		.locality = code->rate_center,
	};
	const char *p = code->foreign_blocks;
	unsigned b, i;
	long n;

	r.first = (uint64_t)code->npanxx * (code->block ? 1000u : 10000u);
	r.count = code->block ? 1000u : 10000u;
	while (p && *p && r.n_skip < 10) {
		b = (unsigned)strtoul(p, (char **)&p, 10);
		r.skip_lo[r.n_skip] = (uint64_t)b * 1000u;
		r.skip_hi[r.n_skip++] = (uint64_t)b * 1000u + 1000u;
		if (*p == ',')
			p++;
	}
	for (i = 0; i < r.count / 1000u; i++) {
		uint64_t block = r.first / 1000u + i;
		bool foreign = false;
		unsigned k;

		for (k = 0; k < r.n_skip; k++)
			foreign |= r.skip_lo[k] == block * 1000u;
		if (!foreign)
			hold(s, block);
	}
	if (!s->add_ranges)
		return 0;
	n = inv_store_add_range(s->db, &r, s->now);
	if (n < 0)
		return -1;
	s->added += n;
	return 0;
}

/* Record tn's port into or out of s's inventory, as p routes it (force: update the owner). */
static int sync_port(struct sync *s, uint64_t tn, const struct port_profile *p, bool force)
{
	struct inv_port port = { .tn = tn, .lrn = p->lrn, .now = s->now, .force = force };
	const struct cocode_info *code;
	bool ours = strcmp(p->spid, s->spid) == 0;

	port.spid = s->spid;
	port.new_spid = p->spid;
	port.old_spid = ours ? NULL : s->spid;
	code = ours ? numdb_cocode(s->g, tn_npanxx(tn)) : NULL;
	if (code) {
		port.old_spid = code->ocn;
		port.state = code->state;
		port.locality = code->rate_center;
		port.ocn = s->spid;
	}
	if (ours)
		return inv_store_port_in(s->db, &port) == 0 ? 0 : -1;
	return inv_store_port_out(s->db, &port) == 0 ? 0 : -1;
}

static int sync_ported(void *ctx, uint64_t tn, const struct port_profile *p)
{
	struct sync *s = ctx;

	/* Ours inside our own ranges is a route change or a port back (settle()
	 * handles those); outside them, or theirs inside ours, is a port. */
	if ((strcmp(p->spid, s->spid) == 0) == held(s, tn / 1000u))
		return 0;
	return sync_port(s, tn, p, false);
}

static enum sync_mode sync_mode(int mark_rc, int64_t built, int64_t seq, int64_t tables,
				const struct numdb_stats *st)
{
	if (mark_rc != 0 || built != tables)
		return SYNC_FULL;
	if (seq == (int64_t)st->ported_seq)
		return SYNC_NONE;
	if ((int64_t)st->ported_absorbed > seq || seq > (int64_t)st->ported_seq)
		return SYNC_PORTED_WALK;
	return SYNC_PORTED_DELTA;
}

static const char *const mode_names[] = { "none", "full", "ported-walk", "ported-delta" };

/* tn is holder's own and unused again (snapback), with its code's place names. */
static int snapback_to(sqlite3 *db, const struct numdb *g, uint64_t tn, const char *holder,
		       int64_t now)
{
	const struct cocode_info *code = numdb_cocode(g, tn_npanxx(tn));
	struct inv_port p = { .tn = tn, .spid = holder, .ocn = holder, .now = now };

	p.ocn_name = code ? code->company : NULL;
	p.state = code ? code->state : NULL;
	p.locality = code ? code->rate_center : NULL;
	return inv_store_snapback(db, &p) == 0 ? 0 : -1;
}

/*
 * Bring spid's row of tn in line with where g routes tn now: a number of its
 * ranges routed elsewhere is PORTED_OUT to that SPID, routed back to it or
 * no longer ported (snapback) is its own and AVAILABLE again; a number
 * outside its ranges routed to it is ported in, routed elsewhere or no
 * longer ported it is not the SPID's any more (the row goes). A row changed
 * after g was built is newer than g (an activation g does not know yet) and
 * is left alone.
 */
static int settle(struct sync *s, uint64_t tn)
{
	const struct port_profile *cur = numdb_ported(s->g, tn);
	bool ours = cur && strcmp(cur->spid, s->spid) == 0;
	struct inv_row_state row;
	int rc = inv_store_row_state(s->db, s->spid, tn, &row);

	if (rc < 0 || (rc == 0 && row.updated_at > s->fresh_until))
		return rc < 0 ? -1 : 0;
	if (held(s, tn / 1000u)) {
		if (cur && !ours) {
			if (rc == 0 && strcmp(row.status, "PORTED_OUT") == 0 &&
			    strcmp(row.owner, cur->spid) == 0)
				return 0;
			return sync_port(s, tn, cur, true);
		}
		if (rc != 0 || strcmp(row.status, "PORTED_OUT") != 0)
			return 0;
		return snapback_to(s->db, s->g, tn, s->spid, s->now);
	}
	if (ours)
		return sync_port(s, tn, cur, false);
	if (rc == 0 && strcmp(row.ported, "in") == 0)
		return inv_store_remove(s->db, s->spid, tn) == 0 ? 0 : -1;
	return 0;
}

/* settle() each number of v (n of them). */
static int settle_all(struct sync *s, const uint64_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (settle(s, v[i]) != 0)
			return -1;
	return 0;
}

/* The numbers the overlay changed since seq, then (walks) every ported row of the SPID. */
static int settle_changes(struct sync *s, sqlite3 *lookup, enum sync_mode mode, int64_t seq,
			  int64_t to)
{
	uint64_t *v = NULL;
	size_t n = 0;
	int rc;

	if (mode == SYNC_PORTED_DELTA)
		rc = inv_store_lookup_ported_since(lookup, seq, to, &v, &n);
	else
		rc = inv_store_ported_rows(s->db, s->spid, &v, &n);
	if (rc == 0)
		rc = settle_all(s, v, n);
	free(v);
	return rc;
}

/*
 * After a full pass: blocks the SPID had rows for from the LERG data but no
 * longer holds (pooled away, or the code reassigned) lose their unused rows.
 */
static int prune_blocks(struct sync *s)
{
	uint64_t *v = NULL;
	size_t n = 0, i;
	long dropped = 0, d;
	int rc = inv_store_lerg_blocks(s->db, s->spid, &v, &n);

	for (i = 0; rc == 0 && i < n; i++) {
		if (held(s, v[i]))
			continue;
		d = inv_store_drop_block(s->db, s->spid, v[i]);
		rc = d < 0 ? -1 : 0;
		dropped += d > 0 ? d : 0;
	}
	free(v);
	if (dropped > 0)
		log_info("inventory: numbers no longer the SPID's", "spid=%s dropped=%ld", s->spid,
			 dropped);
	return rc;
}

/* Everything for one SPID in one transaction, with the generation it matches. */
static long sync_one(sqlite3 *db, sqlite3 *lookup, const struct numdb *g, const char *spid,
		     int64_t now)
{
	struct sync s = { .db = db, .g = g, .spid = spid, .now = now };
	struct numdb_stats st;
	int64_t built = 0, seq = 0, tables;
	enum sync_mode mode;
	int rc;

	numdb_get_stats(g, &st);
	if (inv_store_lookup_log_id(lookup, &tables) != 0)
		return -1;
	s.held = calloc(N_BLOCKS / 8, 1);
	if (s.held == NULL || inv_store_begin(db) != 0) {
		free(s.held);
		return -1;
	}
	rc = inv_store_sync_mark(db, spid, &built, &seq);
	mode = rc < 0 ? SYNC_NONE : sync_mode(rc, built, seq, tables, &st);
	if (mode == SYNC_NONE) {
		inv_store_rollback(db);
		free(s.held);
		return rc < 0 ? -1 : 0;
	}
	s.add_ranges = mode == SYNC_FULL;
	s.fresh_until = st.built_at;
	rc = inv_store_lookup_codes(lookup, spid, sync_code, &s);
	if (rc == 0)
		rc = inv_store_lookup_blocks(lookup, spid, sync_code, &s);
	if (rc == 0 && mode == SYNC_FULL)
		rc = prune_blocks(&s);
	/* A walk finds every port in or out; settling then corrects the rows
	 * that moved since (onward ports, ports back, snapbacks). */
	if (rc == 0 && mode != SYNC_PORTED_DELTA)
		rc = numdb_ported_walk(g, 0, sync_ported, &s);
	if (rc == 0)
		rc = settle_changes(&s, lookup, mode, seq, (int64_t)st.ported_seq);
	if (rc == 0)
		rc = inv_store_sync_set(db, spid, tables, (int64_t)st.ported_seq, now);
	free(s.held);
	if (rc != 0 || inv_store_commit(db) != 0) {
		inv_store_rollback(db);
		return -1;
	}
	log_info("inventory synced", "spid=%s mode=%s added=%ld", spid, mode_names[mode],
		 s.added);
	if (s.added > 0)
		inventory_analyze(db);
	return s.added;
}

long inventory_sync_spid(sqlite3 *db, sqlite3 *lookup, const char *spid, int64_t now)
{
	struct numdb *g = numdb_acquire();
	long n;

	if (g == NULL)
		return 0;
	n = sync_one(db, lookup, g, spid, now);
	numdb_release(g);
	return n;
}

/* The import id g reflects, read from lookup.db once per generation. Returns 0 or -1. */
static int tables_id(const struct numdb *g, const struct numdb_stats *st, int64_t *out)
{
	sqlite3 *lookup;
	int rc = 0;

	pthread_mutex_lock(&S.lock);
	if (S.tables_g != g || S.tables_g_built != st->built_at) {
		rc = -1;
		if (S.lookup_path[0] != '\0' && numstore_open(S.lookup_path, true, &lookup) == 0) {
			rc = inv_store_lookup_log_id(lookup, &S.tables_id);
			numstore_close(lookup);
		}
		S.tables_g = rc == 0 ? g : NULL;
		S.tables_g_built = st->built_at;
	}
	if (rc == 0)
		*out = S.tables_id;
	pthread_mutex_unlock(&S.lock);
	return rc;
}

/* True when spid was synced against g's data already (checked without the write lock). */
static bool synced(sqlite3 *db, const struct numdb *g, const char *spid)
{
	struct numdb_stats st;
	int64_t built, seq, tables;

	numdb_get_stats(g, &st);
	return tables_id(g, &st, &tables) == 0 &&
	       inv_store_sync_mark(db, spid, &built, &seq) == 0 && built == tables &&
	       seq == (int64_t)st.ported_seq;
}

int inventory_sync(sqlite3 *db, const struct inv_caller *c, int64_t now)
{
	struct numdb *g = numdb_acquire();
	sqlite3 *lookup = NULL;
	char path[512];
	size_t i;
	int rc = 0;

	if (g == NULL)
		return 0;
	for (i = 0; i < c->n && rc == 0; i++) {
		if (synced(db, g, c->spids[i]))
			continue;
		if (lookup == NULL) {
			pthread_mutex_lock(&S.lock);
			snprintf(path, sizeof(path), "%s", S.lookup_path);
			pthread_mutex_unlock(&S.lock);
			if (path[0] == '\0' || numstore_open(path, true, &lookup) != 0) {
				rc = -1;
				break;
			}
		}
		rc = sync_one(db, lookup, g, c->spids[i], now) < 0 ? -1 : 0;
	}
	numstore_close(lookup);
	numdb_release(g);
	return rc;
}

/* ---- reading ---- */

static const struct {
	const char *name, *column;
} sorts[] = {
	{ "telephoneNumber", "tn" }, { "tn", "tn" },         { "status", "status" },
	{ "spid", "spid" },          { "lata", "lata" },     { "state", "state" },
	{ "npa", "npa" },            { "nxx", "nxx" },       { "locality", "locality" },
	{ "ocn", "ocn" },            { "lrn", "lrn" },       { "createdAt", "created_at" },
	{ "updatedAt", "updated_at" },
};

const char *inventory_sort_column(const char *sort_by)
{
	size_t i;

	for (i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
		if (strcmp(sorts[i].name, sort_by) == 0)
			return sorts[i].column;
	return NULL;
}

int inventory_query(sqlite3 *db, const struct inv_caller *c, const struct query_sql *s,
		    const struct inv_page *pg, json_t **out)
{
	static const char all[] = "1";
	struct inv_filter f = { .where = all, .tally_where = all };

	if (s != NULL) {
		f.where = s->where;
		f.binds = s->binds;
		f.n_binds = s->n_binds;
		f.tally_where = s->tallied ? s->where : NULL;
		f.tally_binds = s->binds;
		f.n_tally_binds = s->n_binds;
	}
	return inv_store_page(db, c, &f, pg, out);
}

int inventory_search(sqlite3 *db, const struct inv_caller *c, const char *text,
		     const struct inv_page *pg, json_t **out)
{
	return inv_store_search(db, c, text, pg, out);
}

static void result(struct inv_result *res, unsigned http, const char *fmt, const char *a,
		   const char *b)
{
	res->http = http;
	snprintf(res->msg, sizeof(res->msg), fmt, a, b ? b : "");
}

void inventory_summary(sqlite3 *db, const char *spid, struct inv_result *res)
{
	int rc;

	memset(res, 0, sizeof(*res));
	rc = inv_store_summary(db, spid, &res->dto);
	if (rc == 0)
		res->http = 200;
	else if (rc == 1)
		result(res, 404, "No inventory data for SPID: %s%s", spid, NULL);
	else
		result(res, 500, "An unexpected error occurred%s%s", "", NULL);
}

void inventory_get(sqlite3 *db, const struct inv_caller *c, uint64_t tn, struct inv_result *res)
{
	char status[16];
	int64_t id;
	int rc;

	memset(res, 0, sizeof(*res));
	rc = inv_store_find(db, c, tn, &id, status);
	if (rc == 0)
		rc = inv_store_dto(db, id, &res->dto);
	if (rc == 0)
		res->http = 200;
	else if (rc == 1)
		result(res, 404, "Number not found%s%s", "", NULL);
	else
		result(res, 500, "An unexpected error occurred%s%s", "", NULL);
}

/* ---- changes ---- */

enum action { A_RESERVE, A_ASSIGN, A_METADATA, A_RELEASE };

struct change {
	enum action action;
	const char *by, *app;
	char *meta; /* JSON text or NULL */
};

static bool is(const char *status, const char *want)
{
	return strcmp(status, want) == 0;
}

/* The contract's 409 for a move from status, or 0 when the move is allowed. */
static unsigned refuse(const struct change *ch, const char *status, const char *tn,
		       struct inv_result *res)
{
	bool usable = is(status, "AVAILABLE");

	switch (ch->action) {
	case A_RESERVE:
		if (is(status, "PORTED_OUT"))
			result(res, 409, "Cannot reserve ported-out number: %s%s", tn, NULL);
		else if (!usable)
			result(res, 409, "Number is not available: %s (current status: %s)", tn,
			       status);
		break;
	case A_ASSIGN:
		if (is(status, "PORTED_OUT"))
			result(res, 409, "Cannot assign ported-out number: %s%s", tn, NULL);
		else if (!usable && !is(status, "RESERVED"))
			result(res, 409, "Number is not available: %s (current status: %s)", tn,
			       status);
		break;
	case A_METADATA:
		if (!is(status, "IN_USE"))
			result(res, 409, "Can only update metadata for IN_USE numbers. "
			       "Current status: %s%s", status, NULL);
		break;
	case A_RELEASE:
		if (!is(status, "RESERVED") && !is(status, "IN_USE"))
			result(res, 409, "Number cannot be released from current status: %s%s",
			       status, NULL);
		break;
	}
	return res->http;
}

static int apply(sqlite3 *db, const struct change *ch, int64_t id, const char *from, int64_t now)
{
	static const char *const names[] = { "RESERVE", "ASSIGN", "METADATA", "RELEASE" };
	static const char *const to[] = { "RESERVED", "IN_USE", "IN_USE", "AVAILABLE" };
	int rc = -1;

	switch (ch->action) {
	case A_RESERVE: rc = inv_store_reserve(db, id, ch->by, now); break;
	case A_ASSIGN: rc = inv_store_assign(db, id, ch->app, ch->meta, now); break;
	case A_METADATA: rc = inv_store_metadata(db, id, ch->meta, now); break;
	case A_RELEASE: rc = inv_store_release(db, id, now); break;
	}
	if (rc != 0)
		return -1;
	return inv_store_change(db, id, from, to[ch->action], names[ch->action], now);
}

static void change(sqlite3 *db, const struct inv_caller *c, uint64_t tn, const struct change *ch,
		   int64_t now, struct inv_result *res)
{
	char status[16], text[TN_STR_LEN + 1];
	int64_t id;
	int rc;

	memset(res, 0, sizeof(*res));
	tn_format(tn, text);
	if (inv_store_begin(db) != 0) {
		result(res, 500, "An unexpected error occurred%s%s", "", NULL);
		return;
	}
	rc = inv_store_find(db, c, tn, &id, status);
	if (rc == 1)
		result(res, 404, "Number not found%s%s", "", NULL);
	else if (rc == 0 && refuse(ch, status, text, res) == 0 &&
		 apply(db, ch, id, status, now) == 0 && inv_store_commit(db) == 0 &&
		 inv_store_dto(db, id, &res->dto) == 0) {
		res->http = 200;
		return;
	}
	inv_store_rollback(db);
	if (res->http == 0)
		result(res, 500, "An unexpected error occurred%s%s", "", NULL);
}

void inventory_reserve(sqlite3 *db, const struct inv_caller *c, uint64_t tn,
		       const char *reserved_by, int64_t now, struct inv_result *res)
{
	struct change ch = { .action = A_RESERVE, .by = reserved_by };

	change(db, c, tn, &ch, now, res);
}

static char *meta_text(const json_t *metadata)
{
	return metadata && !json_is_null(metadata) ? json_dumps(metadata, JSON_COMPACT) : NULL;
}

void inventory_assign(sqlite3 *db, const struct inv_caller *c, uint64_t tn, const char *app_id,
		      const json_t *metadata, int64_t now, struct inv_result *res)
{
	struct change ch = { .action = A_ASSIGN, .app = app_id, .meta = meta_text(metadata) };

	change(db, c, tn, &ch, now, res);
	free(ch.meta);
}

void inventory_set_metadata(sqlite3 *db, const struct inv_caller *c, uint64_t tn,
			    const json_t *metadata, int64_t now, struct inv_result *res)
{
	struct change ch = { .action = A_METADATA, .meta = meta_text(metadata) };

	change(db, c, tn, &ch, now, res);
	free(ch.meta);
}

void inventory_release(sqlite3 *db, const struct inv_caller *c, uint64_t tn, int64_t now,
		       struct inv_result *res)
{
	struct change ch = { .action = A_RELEASE };

	change(db, c, tn, &ch, now, res);
}

/* ---- the Portability hook ---- */

int inventory_port_activated(sqlite3 *db, uint64_t tn, const char *old_spid,
			     const char *new_spid, uint64_t lrn, int64_t now)
{
	struct inv_port p = { .tn = tn, .lrn = lrn, .old_spid = old_spid, .new_spid = new_spid,
			      .at = now, .now = now, .force = true };
	const struct cocode_info *code;
	struct numdb *g;
	int rc;

	if (strcmp(old_spid, new_spid) == 0 || !inv_store_ready(db))
		return 0;
	g = numdb_acquire();
	code = g ? numdb_cocode(g, tn_npanxx(tn)) : NULL;
	if (code) {
		p.state = code->state;
		p.locality = code->rate_center;
		p.ocn = code->ocn;
		p.ocn_name = code->company;
	}
	p.spid = old_spid;
	rc = inv_store_port_out(db, &p);
	p.spid = new_spid;
	p.ocn = new_spid;
	p.ocn_name = NULL;
	if (rc == 0)
		rc = inv_store_port_in(db, &p);
	if (g)
		numdb_release(g);
	if (rc != 0)
		log_error("inventory port update failed", "new_spid=%s", new_spid);
	return rc;
}

/* The holder a number snaps back to: its pooled block's, else its code's. */
static bool snapback_holder(const struct numdb *g, uint64_t tn, char spid[5])
{
	struct lrn_answer a;

	numdb_lrn(g, tn, &a);
	if ((a.source != LRN_FROM_BLOCK && a.source != LRN_FROM_CODE) || a.spid[0] == '\0')
		return false;
	snprintf(spid, 5, "%s", a.spid);
	return true;
}

int inventory_port_disconnected(sqlite3 *db, uint64_t tn, const char *cur_spid, int64_t now)
{
	char holder[5] = "";
	struct numdb *g;
	int rc = 0;

	if (!inv_store_ready(db))
		return 0;
	g = numdb_acquire();
	if (g && snapback_holder(g, tn, holder))
		rc = snapback_to(db, g, tn, holder, now);
	if (rc == 0 && strcmp(holder, cur_spid) != 0)
		rc = inv_store_remove(db, cur_spid, tn);
	if (g)
		numdb_release(g);
	if (rc != 0)
		log_error("inventory snapback failed", "spid=%s", cur_spid);
	return rc;
}

int inventory_synced_spids(sqlite3 *db, char (**out)[5], size_t *n)
{
	if (!inv_store_ready(db)) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	return inv_store_synced(db, out, n);
}
