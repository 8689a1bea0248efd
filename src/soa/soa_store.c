/* soa_store.c - SQL for subscription versions, history, events, LRNs, NPA-NXXs.
 *
 * An SV's integer fields map one to one onto columns of soa_sv; the X-macro
 * below is the single list both directions use, so a field added to
 * struct sv and to the list cannot be written but not read.
 */
#include "soa_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/tn.h"
#include "../db/db.h"

#define SV_COLS(X)                                                                        \
	X(tn) X(lrn) X(status) X(pre_cancel) X(lnp_type) X(wireless) X(new_created)       \
	X(old_created) X(authorized) X(disconnecting) X(cause) X(canceled_by) X(done)     \
	X(due) X(created_at) X(modified_at) X(t1_at) X(t2_at) X(conflict_until)           \
	X(conflict_at) X(resolve_at) X(conflict_expire_at) X(cancel1_at) X(cancel2_at)    \
	X(activated_at) X(erd) X(old_at) X(canceled_at)

#define COUNT(f) +1
#define N_COLS (0 SV_COLS(COUNT))
#define NAME(f) #f ", "
#define COL_NAMES SV_COLS(NAME) "old_spid, new_spid"

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE soa_sv ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  tn INTEGER NOT NULL, lrn INTEGER NOT NULL, status INTEGER NOT NULL,"
	"  pre_cancel INTEGER NOT NULL, lnp_type INTEGER NOT NULL, wireless INTEGER NOT NULL,"
	"  new_created INTEGER NOT NULL, old_created INTEGER NOT NULL,"
	"  authorized INTEGER NOT NULL, disconnecting INTEGER NOT NULL, cause INTEGER NOT NULL,"
	"  canceled_by INTEGER NOT NULL, done INTEGER NOT NULL, due INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL, modified_at INTEGER NOT NULL, t1_at INTEGER NOT NULL,"
	"  t2_at INTEGER NOT NULL, conflict_until INTEGER NOT NULL,"
	"  conflict_at INTEGER NOT NULL, resolve_at INTEGER NOT NULL,"
	"  conflict_expire_at INTEGER NOT NULL, cancel1_at INTEGER NOT NULL,"
	"  cancel2_at INTEGER NOT NULL, activated_at INTEGER NOT NULL, erd INTEGER NOT NULL,"
	"  old_at INTEGER NOT NULL, canceled_at INTEGER NOT NULL,"
	"  old_spid TEXT NOT NULL, new_spid TEXT NOT NULL,"
	"  next_due INTEGER NOT NULL, version_id INTEGER NOT NULL DEFAULT 0,"
	"  port_type TEXT NOT NULL DEFAULT '', auth_code TEXT NOT NULL DEFAULT '',"
	"  subscriber TEXT NOT NULL DEFAULT '{}');"
	"CREATE INDEX soa_sv_tn ON soa_sv (tn, status);"
	"CREATE INDEX soa_sv_next ON soa_sv (next_due);"
	"CREATE TABLE soa_history ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT, sv_id INTEGER NOT NULL, tn INTEGER NOT NULL,"
	"  at INTEGER NOT NULL, action TEXT NOT NULL, from_status INTEGER NOT NULL,"
	"  to_status INTEGER NOT NULL, by TEXT NOT NULL, details TEXT NOT NULL,"
	"  old_spid TEXT NOT NULL, new_spid TEXT NOT NULL);"
	"CREATE INDEX soa_history_tn ON soa_history (tn, id);"
	"CREATE TABLE soa_event ("
	"  recno INTEGER PRIMARY KEY AUTOINCREMENT, spid TEXT NOT NULL, sv_id INTEGER NOT NULL,"
	"  tn INTEGER NOT NULL, at INTEGER NOT NULL, type TEXT NOT NULL,"
	"  notification TEXT NOT NULL, details TEXT NOT NULL, acked INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX soa_event_spid ON soa_event (spid, acked, recno);"
	"CREATE TABLE soa_lrn ("
	"  lrn INTEGER PRIMARY KEY, spid TEXT NOT NULL, name TEXT NOT NULL,"
	"  created INTEGER NOT NULL);"
	"CREATE TABLE soa_npanxx ("
	"  npanxx INTEGER PRIMARY KEY, spid TEXT NOT NULL, effective INTEGER NOT NULL,"
	"  created INTEGER NOT NULL);",
};

int soa_store_migrate(sqlite3 *db)
{
	return db_migrate_module(db, "soa", migrations, sizeof(migrations) / sizeof(migrations[0]));
}

int soa_store_begin(sqlite3 *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int soa_store_commit(sqlite3 *db)
{
	if (db_exec(db, "COMMIT") == 0)
		return 0;
	soa_store_rollback(db);
	return -1;
}

void soa_store_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- statements ---- */

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("soa sql failed", "err=\"%s\" sql=\"%.60s\"", sqlite3_errmsg(db), sql);
		return NULL;
	}
	return st;
}

/* Step a statement that returns no rows and finalize it. */
static int done(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;

	if (rc != 0)
		log_error("soa write failed", "err=\"%s\"", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

static void bind_spid(sqlite3_stmt *st, int i, const char *spid)
{
	sqlite3_bind_text(st, i, spid, -1, SQLITE_TRANSIENT);
}

/* Bind the SV's columns from index 1, in COL_NAMES order. Returns the next index. */
static int bind_sv(sqlite3_stmt *st, const struct sv *sv)
{
	int i = 1;

#define BIND(f) sqlite3_bind_int64(st, i++, (int64_t)sv->f);
	SV_COLS(BIND)
#undef BIND
	bind_spid(st, i++, sv->old_spid);
	bind_spid(st, i++, sv->new_spid);
	return i;
}

static void copy_spid(char out[5], const unsigned char *s)
{
	snprintf(out, 5, "%s", s ? (const char *)s : "");
}

/* Read an SV from a row of "SELECT id, COL_NAMES ...". */
static void read_sv(sqlite3_stmt *st, struct sv *sv)
{
	int i = 1;

	memset(sv, 0, sizeof(*sv));
	sv->id = sqlite3_column_int64(st, 0);
#define READ(f) sv->f = (__typeof__(sv->f))sqlite3_column_int64(st, i++);
	SV_COLS(READ)
#undef READ
	copy_spid(sv->old_spid, sqlite3_column_text(st, i++));
	copy_spid(sv->new_spid, sqlite3_column_text(st, i++));
}

int soa_sv_insert(sqlite3 *db, struct sv *sv, const struct soa_order *o)
{
	char sql[1024];
	size_t len;
	char *sub;
	int i, rc;
	sqlite3_stmt *st;

	len = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO soa_sv (" COL_NAMES
			       ", next_due, port_type, auth_code, subscriber) VALUES (");
	for (i = 0; i < N_COLS + 6 && len + 4 < sizeof(sql); i++)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, i ? ", ?" : "?");
	snprintf(sql + len, sizeof(sql) - len, ")");
	if ((st = prep(db, sql)) == NULL)
		return -1;
	i = bind_sv(st, sv);
	sqlite3_bind_int64(st, i++, sv_next_due(sv));
	sqlite3_bind_text(st, i++, o ? o->port_type : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, i++, o ? o->auth_code : "", -1, SQLITE_TRANSIENT);
	sub = o && o->subscriber ? json_dumps(o->subscriber, JSON_COMPACT) : NULL;
	sqlite3_bind_text(st, i, sub ? sub : "{}", -1, SQLITE_TRANSIENT);
	free(sub);
	rc = done(db, st);
	if (rc == 0)
		sv->id = sqlite3_last_insert_rowid(db);
	return rc;
}

int soa_sv_update(sqlite3 *db, const struct sv *sv)
{
	char sql[1024];
	size_t len = (size_t)snprintf(sql, sizeof(sql), "UPDATE soa_sv SET ");
	sqlite3_stmt *st;
	int i;

#define SET(f) len += (size_t)snprintf(sql + len, sizeof(sql) - len, #f " = ?, ");
	SV_COLS(SET)
#undef SET
	snprintf(sql + len, sizeof(sql) - len,
		 "old_spid = ?, new_spid = ?, next_due = ? WHERE id = ?");
	if ((st = prep(db, sql)) == NULL)
		return -1;
	i = bind_sv(st, sv);
	sqlite3_bind_int64(st, i++, sv_next_due(sv));
	sqlite3_bind_int64(st, i, sv->id);
	return done(db, st);
}

int soa_sv_set_version(sqlite3 *db, int64_t id, int64_t version)
{
	sqlite3_stmt *st = prep(db, "UPDATE soa_sv SET version_id = ?2 WHERE id = ?1");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, version);
	return done(db, st);
}

int soa_sv_version(sqlite3 *db, int64_t id, int64_t *out)
{
	sqlite3_stmt *st = prep(db, "SELECT version_id FROM soa_sv WHERE id = ?1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Run a "SELECT id, COL_NAMES FROM soa_sv ..." with ?1 bound; first row to out. */
static int select_one(sqlite3 *db, const char *where, int64_t arg, struct sv *out)
{
	char sql[1024];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "SELECT id, " COL_NAMES " FROM soa_sv %s", where);
	if ((st = prep(db, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_sv(st, out);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int soa_sv_get(sqlite3 *db, int64_t id, struct sv *out)
{
	return select_one(db, "WHERE id = ?1", id, out);
}

int soa_sv_for_tn(sqlite3 *db, uint64_t tn, bool open_only, struct sv *out)
{
	int rc = select_one(db, "WHERE tn = ?1 AND status IN (0, 2, 3, 4, 5, 9) "
			    "ORDER BY id DESC LIMIT 1", (int64_t)tn, out);

	if (rc != 1 || open_only)
		return rc;
	rc = soa_sv_routed(db, tn, out);
	if (rc != 1)
		return rc;
	/* A number with nothing open or routed still shows its last port (canceled, old). */
	return select_one(db, "WHERE tn = ?1 ORDER BY id DESC LIMIT 1", (int64_t)tn, out);
}

int soa_sv_routed(sqlite3 *db, uint64_t tn, struct sv *out)
{
	return select_one(db, "WHERE tn = ?1 AND status IN (1, 6) ORDER BY id DESC LIMIT 1",
			  (int64_t)tn, out);
}

json_t *soa_sv_order(sqlite3 *db, int64_t id)
{
	sqlite3_stmt *st = prep(db, "SELECT port_type, subscriber FROM soa_sv WHERE id = ?1");
	json_t *j = NULL, *sub;

	if (st == NULL)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		sub = json_loads((const char *)sqlite3_column_text(st, 1), 0, NULL);
		j = json_pack("{s:s, s:o}", "portType", (const char *)sqlite3_column_text(st, 0),
			      "subscriberInfo", sub ? sub : json_object());
	}
	sqlite3_finalize(st);
	return j;
}

int soa_sv_due(sqlite3 *db, int64_t now, int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *st = prep(db, "SELECT id FROM soa_sv WHERE next_due <= ?1 OR "
				    "status = 3 ORDER BY id LIMIT ?2");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	*n = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static json_t *date_json(int64_t t)
{
	char s[32];

	clock_format_rfc3339(t, s, sizeof(s));
	s[10] = '\0';
	return json_string(s);
}

json_t *soa_sv_ready(sqlite3 *db, const char *new_spid, int64_t now)
{
	char sql[1024];
	sqlite3_stmt *st;
	json_t *items = json_array();
	char tn[TN_STR_LEN + 1], lrn[TN_STR_LEN + 1];
	struct sv sv;

	snprintf(sql, sizeof(sql), "SELECT id, " COL_NAMES ", port_type FROM soa_sv WHERE "
		 "new_spid = ?1 AND status = 2 AND new_created = 1 AND due <= ?2 AND "
		 "(authorized = 1 OR lnp_type = 1 OR t2_at <= ?2) ORDER BY due, id");
	if ((st = prep(db, sql)) == NULL) {
		json_decref(items);
		return NULL;
	}
	bind_spid(st, 1, new_spid);
	sqlite3_bind_int64(st, 2, now);
	while (sqlite3_step(st) == SQLITE_ROW) {
		read_sv(st, &sv);
		tn_format(sv.tn, tn);
		tn_format(sv.lrn, lrn);
		json_array_append_new(items, json_pack("{s:s, s:s, s:o, s:s, s:s}", "tn", tn,
			"oldSpid", sv.old_spid, "focDate", date_json(sv.due), "portType",
			(const char *)sqlite3_column_text(st, N_COLS + 3),
			"lrn", sv.lrn ? lrn : ""));
	}
	sqlite3_finalize(st);
	return items;
}

/* ---- history ---- */

int soa_history_add(sqlite3 *db, const struct sv *sv, int64_t at, const char *action,
		    enum sv_status from, const char *by, const char *details)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO soa_history (sv_id, tn, at, action, "
				    "from_status, to_status, by, details, old_spid, new_spid) "
				    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, sv->id);
	sqlite3_bind_int64(st, 2, (int64_t)sv->tn);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 5, (int)from);
	sqlite3_bind_int(st, 6, (int)sv->status);
	sqlite3_bind_text(st, 7, by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 8, details ? details : "", -1, SQLITE_TRANSIENT);
	bind_spid(st, 9, sv->old_spid);
	bind_spid(st, 10, sv->new_spid);
	return done(db, st);
}

/* "spid IN (...)" with the spids bound from index first. */
static int spid_list_sql(char *out, size_t outlen, const char *col, size_t n, int first)
{
	size_t len = (size_t)snprintf(out, outlen, "%s IN (", col);

	for (size_t i = 0; i < n && len + 8 < outlen; i++)
		len += (size_t)snprintf(out + len, outlen - len, "%s?%d", i ? ", " : "",
					first + (int)i);
	if (len + 2 >= outlen)
		return -1;
	snprintf(out + len, outlen - len, ")");
	return 0;
}

static void bind_spids(sqlite3_stmt *st, const char (*spids)[5], size_t n, int first)
{
	for (size_t i = 0; i < n; i++)
		bind_spid(st, first + (int)i, spids[i]);
}

json_t *soa_history_list(sqlite3 *db, uint64_t tn, const char (*spids)[5], size_t n)
{
	char in1[512], in2[512], sql[1400], ts[32];
	json_t *items = json_array();
	sqlite3_stmt *st;

	if (n == 0 || spid_list_sql(in1, sizeof(in1), "old_spid", n, 2) ||
	    spid_list_sql(in2, sizeof(in2), "new_spid", n, 2))
		return items;
	snprintf(sql, sizeof(sql), "SELECT at, action, from_status, to_status, by, details, "
		 "sv_id FROM soa_history WHERE tn = ?1 AND (%s OR %s) ORDER BY id", in1, in2);
	if ((st = prep(db, sql)) == NULL) {
		json_decref(items);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, (int64_t)tn);
	bind_spids(st, spids, n, 2);
	while (sqlite3_step(st) == SQLITE_ROW) {
		clock_format_rfc3339(sqlite3_column_int64(st, 0), ts, sizeof(ts));
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I}",
			"timestamp", ts, "action", (const char *)sqlite3_column_text(st, 1),
			"fromStatus", sv_status_name((enum sv_status)sqlite3_column_int(st, 2)),
			"toStatus", sv_status_name((enum sv_status)sqlite3_column_int(st, 3)),
			"by", (const char *)sqlite3_column_text(st, 4),
			"details", (const char *)sqlite3_column_text(st, 5),
			"portRequestId", (json_int_t)sqlite3_column_int64(st, 6)));
	}
	sqlite3_finalize(st);
	return items;
}

/* ---- events ---- */

int soa_event_add(sqlite3 *db, const char *spid, const struct sv *sv, int64_t at,
		  const char *type, const char *notification, json_t *details)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO soa_event (spid, sv_id, tn, at, type, "
				    "notification, details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	char *d;

	if (st == NULL)
		return -1;
	d = details ? json_dumps(details, JSON_COMPACT) : NULL;
	bind_spid(st, 1, spid);
	sqlite3_bind_int64(st, 2, sv->id);
	sqlite3_bind_int64(st, 3, (int64_t)sv->tn);
	sqlite3_bind_int64(st, 4, at);
	sqlite3_bind_text(st, 5, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, notification, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, d ? d : "{}", -1, SQLITE_TRANSIENT);
	free(d);
	return done(db, st);
}

static json_t *event_json(sqlite3_stmt *st)
{
	char ts[32], tn[TN_STR_LEN + 1];
	json_t *details = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);

	if (details == NULL)
		details = json_object();
	json_object_set_new(details, "notification",
			    json_string((const char *)sqlite3_column_text(st, 4)));
	json_object_set_new(details, "spid", json_string((const char *)sqlite3_column_text(st, 6)));
	clock_format_rfc3339(sqlite3_column_int64(st, 1), ts, sizeof(ts));
	tn_format((uint64_t)sqlite3_column_int64(st, 2), tn);
	return json_pack("{s:I, s:s, s:s, s:s, s:o, s:b}", "recno",
			 (json_int_t)sqlite3_column_int64(st, 0), "timestamp", ts, "eventType",
			 (const char *)sqlite3_column_text(st, 3), "tn", tn, "details", details,
			 "acknowledged", 0);
}

static long count_events(sqlite3 *db, const char *in, const char (*spids)[5], size_t n)
{
	char sql[700];
	sqlite3_stmt *st;
	long total = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM soa_event WHERE acked = 0 AND %s", in);
	if ((st = prep(db, sql)) == NULL)
		return -1;
	bind_spids(st, spids, n, 1);
	if (sqlite3_step(st) == SQLITE_ROW)
		total = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return total;
}

json_t *soa_events_list(sqlite3 *db, const char (*spids)[5], size_t n, int64_t after_recno,
			size_t limit, long *total)
{
	char in[512], sql[1024];
	json_t *items = json_array();
	sqlite3_stmt *st;

	*total = 0;
	if (n == 0)
		return items;
	if (spid_list_sql(in, sizeof(in), "spid", n, 1) != 0 ||
	    (*total = count_events(db, in, spids, n)) < 0)
		goto fail;
	snprintf(sql, sizeof(sql), "SELECT recno, at, tn, type, notification, details, spid "
		 "FROM soa_event WHERE acked = 0 AND %s AND recno > ?%zu ORDER BY recno "
		 "LIMIT ?%zu", in, n + 1, n + 2);
	if ((st = prep(db, sql)) == NULL)
		goto fail;
	bind_spids(st, spids, n, 1);
	sqlite3_bind_int64(st, (int)n + 1, after_recno);
	sqlite3_bind_int64(st, (int)n + 2, (int64_t)limit);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(items, event_json(st));
	sqlite3_finalize(st);
	return items;
fail:
	json_decref(items);
	return NULL;
}

int soa_event_ack(sqlite3 *db, int64_t recno, const char (*spids)[5], size_t n)
{
	char in[512], sql[700];
	sqlite3_stmt *st;

	if (n == 0)
		return 1;
	if (spid_list_sql(in, sizeof(in), "spid", n, 2) != 0)
		return -1;
	snprintf(sql, sizeof(sql), "UPDATE soa_event SET acked = 1 WHERE recno = ?1 AND %s", in);
	if ((st = prep(db, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, recno);
	bind_spids(st, spids, n, 2);
	if (done(db, st) != 0)
		return -1;
	return sqlite3_changes(db) > 0 ? 0 : 1;
}

/* ---- network data ---- */

int soa_lrn_add(sqlite3 *db, uint64_t lrn, const char *spid, const char *name, int64_t now)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO soa_lrn (lrn, spid, name, created) VALUES "
				    "(?1, ?2, ?3, ?4) ON CONFLICT (lrn) DO NOTHING");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)lrn);
	bind_spid(st, 2, spid);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now);
	if (done(db, st) != 0)
		return -1;
	return sqlite3_changes(db) > 0 ? 0 : 1;
}

int soa_lrn_remove(sqlite3 *db, uint64_t lrn, const char *spid)
{
	sqlite3_stmt *st = prep(db, "SELECT 1 FROM soa_sv WHERE lrn = ?1 AND new_spid = ?2 AND "
				    "status NOT IN (7, 8) LIMIT 1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)lrn);
	bind_spid(st, 2, spid);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 2;
	if (rc != SQLITE_DONE ||
	    (st = prep(db, "DELETE FROM soa_lrn WHERE lrn = ?1 AND spid = ?2")) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)lrn);
	bind_spid(st, 2, spid);
	if (done(db, st) != 0)
		return -1;
	return sqlite3_changes(db) > 0 ? 0 : 1;
}

int soa_lrn_owner(sqlite3 *db, uint64_t lrn, char spid[5])
{
	sqlite3_stmt *st = prep(db, "SELECT spid FROM soa_lrn WHERE lrn = ?1");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)lrn);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		copy_spid(spid, sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int soa_npanxx_add(sqlite3 *db, unsigned npanxx, const char *spid, int64_t effective,
		   int64_t now)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO soa_npanxx (npanxx, spid, effective, created) "
				    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (npanxx) DO UPDATE SET "
				    "effective = excluded.effective WHERE spid = excluded.spid");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, npanxx);
	bind_spid(st, 2, spid);
	sqlite3_bind_int64(st, 3, effective);
	sqlite3_bind_int64(st, 4, now);
	if (done(db, st) != 0)
		return -1;
	return sqlite3_changes(db) > 0 ? 0 : 1;
}
