/* inventory_store.c - inv_number, inv_change and inv_sync in ringer.db. */
#include "inventory_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/tn.h"
#include "../db/db.h"

/*
 * inv_tally: how many of a SPID's numbers share every countable field
 * (those the query language has except tn and lrn, plus the block and
 * where the number came from). Triggers keep it exact in the writing
 * transaction, so totalElements and the summary come from a few thousand
 * rows instead of a count over millions. The nullable fields are stored
 * with a sentinel (-1, or char(1), which no field holds) so that equal keys
 * meet in the primary key; inv_tally_view gives the NULLs back, with the
 * columns' affinities (a text bind compared with lata converts as it does
 * with inv_number.lata), so a compiled query means the same there as over
 * inv_number.
 */
#define TALLY_KEY(p) \
	"ifnull(" p "lata, -1), ifnull(" p "state, char(1)), ifnull(" p "locality, char(1))," \
	" ifnull(" p "ocn, char(1))"
#define TALLY_MATCH(p)                                                                    \
	"spid = " p "spid AND npa = " p "npa AND nxx = " p "nxx AND block = " p "block_id"  \
	" AND status = " p "status AND ported = " p "ported AND lata = ifnull(" p "lata, -1)" \
	" AND state = ifnull(" p "state, char(1)) AND locality = ifnull(" p "locality,"     \
	" char(1)) AND ocn = ifnull(" p "ocn, char(1)) AND via = " p "discovered_via"
#define TALLY_ADD(p)                                                                      \
	"INSERT INTO inv_tally VALUES (" p "spid, " p "npa, " p "nxx, " p "block_id, "     \
	p "status, " p "ported, " TALLY_KEY(p) ", " p "discovered_via, 1)"                  \
	" ON CONFLICT DO UPDATE SET n = n + 1;"
#define TALLY_SUB(p) "UPDATE inv_tally SET n = n - 1 WHERE " TALLY_MATCH(p) ";"
#define TALLY_SQL                                                                         \
	"CREATE TABLE inv_tally ("                                                          \
	"  spid TEXT NOT NULL, npa INTEGER NOT NULL, nxx INTEGER NOT NULL,"                 \
	"  block TEXT NOT NULL, status TEXT NOT NULL, ported TEXT NOT NULL,"                \
	"  lata INTEGER NOT NULL, state TEXT NOT NULL, locality TEXT NOT NULL,"             \
	"  ocn TEXT NOT NULL, via TEXT NOT NULL, n INTEGER NOT NULL,"                       \
	"  PRIMARY KEY (spid, npa, nxx, block, status, ported, lata, state, locality, ocn,"  \
	"  via)) WITHOUT ROWID;"                                                             \
	"CREATE VIEW inv_tally_view AS SELECT spid, npa, nxx, block, status, ported,"        \
	" CAST(nullif(lata, -1) AS INTEGER) AS lata, nullif(state, char(1)) AS state,"      \
	" nullif(locality, char(1)) AS locality, nullif(ocn, char(1)) AS ocn, via, n"        \
	" FROM inv_tally WHERE n > 0;"                                                       \
	"CREATE TRIGGER inv_tally_insert AFTER INSERT ON inv_number BEGIN "                   \
	TALLY_ADD("NEW.") " END;"                                                            \
	"CREATE TRIGGER inv_tally_delete AFTER DELETE ON inv_number BEGIN "                   \
	TALLY_SUB("OLD.") " END;"                                                            \
	"CREATE TRIGGER inv_tally_update AFTER UPDATE OF spid, npa, nxx, block_id, status,"  \
	" ported, lata, state, locality, ocn, discovered_via ON inv_number BEGIN "           \
	TALLY_SUB("OLD.") TALLY_ADD("NEW.") " END;"

/*
 * inv_meta: one row per top-level key of a number's metadata, holding the
 * value as the query language compares it (the text of json_extract), so
 * metadata.<key>=value and in (...) are index lookups, not a JSON parse of
 * every row. Kept by triggers like inv_tally.
 */
#define META_VALUE "CAST(CASE WHEN j.type IN ('object', 'array') THEN j.value ELSE j.atom END" \
		   " AS TEXT)"
#define META_FILL(p)                                                                      \
	"INSERT INTO inv_meta SELECT " p "id, j.key, " META_VALUE " FROM json_each("        \
	p "metadata) j WHERE " p "metadata IS NOT NULL AND json_valid(" p "metadata)"       \
	" AND j.type != 'null';"
#define META_SQL                                                                          \
	"CREATE TABLE inv_meta (number_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT,"  \
	"  PRIMARY KEY (key, value, number_id)) WITHOUT ROWID;"                              \
	"CREATE INDEX inv_meta_by_number ON inv_meta (number_id);"                           \
	"CREATE TRIGGER inv_meta_insert AFTER INSERT ON inv_number"                          \
	" WHEN NEW.metadata IS NOT NULL BEGIN " META_FILL("NEW.") " END;"                    \
	"CREATE TRIGGER inv_meta_update AFTER UPDATE OF metadata ON inv_number BEGIN"        \
	" DELETE FROM inv_meta WHERE number_id = OLD.id; " META_FILL("NEW.") " END;"        \
	"CREATE TRIGGER inv_meta_delete AFTER DELETE ON inv_number"                          \
	" WHEN OLD.metadata IS NOT NULL BEGIN"                                               \
	" DELETE FROM inv_meta WHERE number_id = OLD.id; END;"

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE inv_number ("
	"  id INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, tn INTEGER NOT NULL,"
	"  spid TEXT NOT NULL, npa INTEGER NOT NULL, nxx INTEGER NOT NULL,"
	"  block_id TEXT NOT NULL, current_owner_spid TEXT, status TEXT NOT NULL,"
	"  ported TEXT NOT NULL DEFAULT 'no', lrn INTEGER, ocn TEXT, ocn_name TEXT,"
	"  lata INTEGER, state TEXT, locality TEXT, last_port_date INTEGER,"
	"  port_direction TEXT, original_spid TEXT, application_id TEXT, metadata TEXT,"
	"  reserved_by TEXT, discovered_via TEXT NOT NULL, first_assigned_at INTEGER,"
	"  last_assigned_at INTEGER, times_assigned INTEGER NOT NULL DEFAULT 0,"
	"  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
	"  UNIQUE (spid, tn));"
	"CREATE INDEX inv_by_tn ON inv_number (tn);"
	"CREATE INDEX inv_by_status ON inv_number (spid, status, tn);"
	"CREATE INDEX inv_by_npanxx ON inv_number (spid, npa, nxx, tn);"
	"CREATE INDEX inv_by_lata ON inv_number (lata, tn);"
	"CREATE INDEX inv_by_state ON inv_number (state, tn);"
	"CREATE INDEX inv_by_locality ON inv_number (locality COLLATE NOCASE, tn);"
	"CREATE INDEX inv_by_ocn ON inv_number (ocn, tn);"
	"CREATE INDEX inv_by_lrn ON inv_number (lrn) WHERE lrn IS NOT NULL;"
	"CREATE INDEX inv_by_ported ON inv_number (spid, ported, tn);"
	"CREATE TABLE inv_change ("
	"  id INTEGER PRIMARY KEY, number_id INTEGER NOT NULL, at INTEGER NOT NULL,"
	"  action TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL);"
	"CREATE INDEX inv_change_by_number ON inv_change (number_id, at);"
	"CREATE TABLE inv_sync ("
	"  spid TEXT PRIMARY KEY, lookup_built INTEGER NOT NULL, lookup_seq INTEGER NOT NULL,"
	"  synced_at INTEGER NOT NULL);",
	/* 1 -> 2: running counts (inv_tally) and an index of metadata values (inv_meta). */
	TALLY_SQL META_SQL
	"INSERT INTO inv_tally SELECT spid, npa, nxx, block_id, status, ported, "
	TALLY_KEY("") ", discovered_via, count(*) FROM inv_number GROUP BY spid, npa, nxx,"
	" block_id, status, ported, 7, 8, 9, 10, discovered_via;"
	"INSERT INTO inv_meta SELECT n.id, j.key, " META_VALUE " FROM inv_number n,"
	" json_each(n.metadata) j WHERE n.metadata IS NOT NULL AND json_valid(n.metadata)"
	" AND j.type != 'null';",
};

#define COLS "id, uuid, tn, block_id, spid, current_owner_spid, status, lrn, ocn, ocn_name," \
	     " lata, state, locality, last_port_date, port_direction, original_spid," \
	     " application_id, metadata, reserved_by, discovered_via, first_assigned_at," \
	     " last_assigned_at, times_assigned, created_at, updated_at"

int inv_store_migrate(sqlite3 *db)
{
	return db_migrate_module(db, "inventory", migrations,
				 sizeof(migrations) / sizeof(migrations[0]));
}

/*
 * Planner statistics written from the tally instead of read from the rows.
 * sqlite_stat1 holds, per index, "rows, then the average rows sharing the
 * first 1, 2, ... columns". The data has a known shape (whole NPA-NXXs per
 * SPID), so distinct counts over the tally's few thousand rows give those
 * averages exactly, where ANALYZE would read every index of millions of
 * rows, and a sampling ANALYZE (analysis_limit) misjudges the locality and
 * NPA indexes badly enough to pick plans a thousand times slower.
 */
static const char analyze_sql[] =
	"WITH t AS (SELECT * FROM inv_tally WHERE n > 0),"
	" c AS (SELECT max(sum(n), 1) AS n, max(count(DISTINCT spid), 1) AS s,"
	"  max(count(DISTINCT spid || status), 1) AS ss,"
	"  max(count(DISTINCT spid || '/' || npa), 1) AS sn,"
	"  max(count(DISTINCT spid || '/' || npa || '/' || nxx), 1) AS snx,"
	"  max(count(DISTINCT spid || ported), 1) AS sp,"
	"  max(count(DISTINCT lata), 1) AS la, max(count(DISTINCT state), 1) AS st,"
	"  max(count(DISTINCT lower(locality)), 1) AS lo, max(count(DISTINCT ocn), 1) AS oc"
	"  FROM t),"
	" m AS (SELECT max(count(*), 1) AS n, max(count(DISTINCT key), 1) AS k,"
	"  max(count(DISTINCT key || '=' || ifnull(value, '')), 1) AS kv FROM inv_meta)"
	" INSERT INTO sqlite_stat1 (tbl, idx, stat)"
	" SELECT 'inv_number', 'inv_by_tn', c.n || ' 1' FROM c"
	" UNION ALL SELECT 'inv_number', 'inv_by_status', c.n || ' ' || (c.n / c.s) || ' ' ||"
	"  max(c.n / c.ss, 1) || ' 1' FROM c"
	" UNION ALL SELECT 'inv_number', 'inv_by_npanxx', c.n || ' ' || (c.n / c.s) || ' ' ||"
	"  max(c.n / c.sn, 1) || ' ' || max(c.n / c.snx, 1) || ' 1' FROM c"
	" UNION ALL SELECT 'inv_number', 'inv_by_ported', c.n || ' ' || (c.n / c.s) || ' ' ||"
	"  max(c.n / c.sp, 1) || ' 1' FROM c"
	" UNION ALL SELECT 'inv_number', 'inv_by_lata', c.n || ' ' || max(c.n / c.la, 1) ||"
	"  ' 1' FROM c"
	" UNION ALL SELECT 'inv_number', 'inv_by_state', c.n || ' ' || max(c.n / c.st, 1) ||"
	"  ' 1' FROM c"
	" UNION ALL SELECT 'inv_number', 'inv_by_locality', c.n || ' ' || max(c.n / c.lo, 1) ||"
	"  ' 1' FROM c"
	" UNION ALL SELECT 'inv_number', 'inv_by_ocn', c.n || ' ' || max(c.n / c.oc, 1) ||"
	"  ' 1' FROM c"
	" UNION ALL SELECT 'inv_number', 'inv_by_lrn', max(c.n / 10, 1) || ' 1' FROM c"
	" UNION ALL SELECT 'inv_number', 'sqlite_autoindex_inv_number_1', c.n || ' 1' FROM c"
	" UNION ALL SELECT 'inv_number', 'sqlite_autoindex_inv_number_2', c.n || ' ' ||"
	"  (c.n / c.s) || ' 1' FROM c"
	" UNION ALL SELECT 'inv_meta', 'inv_meta', m.n || ' ' || max(m.n / m.k, 1) || ' ' ||"
	"  max(m.n / m.kv, 1) || ' 1' FROM m"
	" UNION ALL SELECT 'inv_meta', 'inv_meta_by_number', m.n || ' 2' FROM m";

int inv_store_analyze(sqlite3 *db)
{
	/* ANALYZE of the tiny inv_sync creates sqlite_stat1 when it is missing. */
	if (db_exec(db, "ANALYZE inv_sync") != 0 || db_exec(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (db_exec(db, "DELETE FROM sqlite_stat1 WHERE tbl IN ('inv_number', 'inv_meta')") ||
	    db_exec(db, analyze_sql) || db_exec(db, "COMMIT")) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	/* This connection plans with them from now on; others when they next load the schema. */
	return db_exec(db, "ANALYZE sqlite_schema");
}

int inv_store_begin(sqlite3 *db)
{
	return db_exec(db, "BEGIN IMMEDIATE");
}

int inv_store_commit(sqlite3 *db)
{
	return db_exec(db, "COMMIT");
}

void inv_store_rollback(sqlite3 *db)
{
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

bool inv_store_ready(sqlite3 *db)
{
	return sqlite3_table_column_metadata(db, "main", "inv_number", "tn", NULL, NULL, NULL,
					     NULL, NULL) == SQLITE_OK;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("inventory sql failed", "err=\"%s\"", sqlite3_errmsg(db));
		return NULL;
	}
	return st;
}

/* Step a write to its end; 0 or -1 (logged). Finalizes st. */
static int run(sqlite3 *db, sqlite3_stmt *st)
{
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_error("inventory write failed", "err=\"%s\"", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static void bind_spids(sqlite3_stmt *st, int first, const struct inv_caller *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		sqlite3_bind_text(st, first + (int)i, c->spids[i], -1, SQLITE_TRANSIENT);
}

/* "?,?,?" for n placeholders (n >= 1), into out. */
static void marks(char *out, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (i)
			out[o++] = ',';
		out[o++] = '?';
	}
	out[o] = '\0';
}

int inv_store_find(sqlite3 *db, const struct inv_caller *c, uint64_t tn, int64_t *id,
		   char status[16])
{
	char sql[400], m[2 * 32 + 1];
	sqlite3_stmt *st;
	int rc;

	if (c->n == 0 || c->n > 32)
		return 1;
	marks(m, c->n);
	snprintf(sql, sizeof(sql), "SELECT id, status FROM inv_number WHERE tn = ? AND spid IN (%s)"
		 " ORDER BY status = 'PORTED_OUT', spid LIMIT 1", m);
	st = prep(db, sql);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)tn);
	bind_spids(st, 2, c);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		snprintf(status, 16, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

/* ---- rows as NumberInventoryDto ---- */

static json_t *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? json_string((const char *)s) : json_null();
}

static json_t *col_time(sqlite3_stmt *st, int i)
{
	char ts[32];

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	clock_format_rfc3339(sqlite3_column_int64(st, i), ts, sizeof(ts));
	return json_string(ts);
}

static json_t *col_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

static json_t *col_tn(sqlite3_stmt *st, int i)
{
	char s[TN_STR_LEN + 1];

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	tn_format((uint64_t)sqlite3_column_int64(st, i), s);
	return json_string(s);
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;

	return j ? j : json_null();
}

static const char *dip_result(const char *status, const char *direction)
{
	if (strcmp(status, "PORTED_OUT") == 0)
		return "PORTED_OUT";
	return direction ? NULL : "NEVER_PORTED";
}

static json_t *row_dto(sqlite3_stmt *st)
{
	char tn[TN_STR_LEN + 1], npa[4], nxx[4];
	uint64_t n = (uint64_t)sqlite3_column_int64(st, 2);
	const char *status = (const char *)sqlite3_column_text(st, 6);
	const char *dir = (const char *)sqlite3_column_text(st, 14);
	json_t *j = json_object();

	tn_format(n, tn);
	snprintf(npa, sizeof(npa), "%03u", tn_npa(n) % 1000);
	snprintf(nxx, sizeof(nxx), "%03u", tn_npanxx(n) % 1000);
	json_object_set_new(j, "id", col_text(st, 1));
	json_object_set_new(j, "telephoneNumber", json_string(tn));
	json_object_set_new(j, "npa", json_string(npa));
	json_object_set_new(j, "nxx", json_string(nxx));
	json_object_set_new(j, "blockId", col_text(st, 3));
	json_object_set_new(j, "spid", col_text(st, 4));
	json_object_set_new(j, "currentOwnerSpid", col_text(st, 5));
	json_object_set_new(j, "customerId", json_null());
	json_object_set_new(j, "customerName", json_null());
	json_object_set_new(j, "status", json_string(status));
	json_object_set_new(j, "lifecycleState", json_null());
	json_object_set_new(j, "currentLrn", col_tn(st, 7));
	json_object_set_new(j, "currentOcn", col_text(st, 8));
	json_object_set_new(j, "ocnName", col_text(st, 9));
	json_object_set_new(j, "lata", col_int(st, 10));
	json_object_set_new(j, "state", col_text(st, 11));
	json_object_set_new(j, "locality", col_text(st, 12));
	json_object_set_new(j, "lastPortDate", col_time(st, 13));
	json_object_set_new(j, "portDirection", col_text(st, 14));
	json_object_set_new(j, "originalSpid", col_text(st, 15));
	json_object_set_new(j, "applicationId", col_text(st, 16));
	json_object_set_new(j, "applicationMetadata", col_json(st, 17));
	json_object_set_new(j, "reservedUntil", json_null());
	json_object_set_new(j, "reservedBy", col_text(st, 18));
	json_object_set_new(j, "lastLrnDipResult", dip_result(status, dir) ?
			    json_string(dip_result(status, dir)) : json_null());
	json_object_set_new(j, "discoveredVia", col_text(st, 19));
	json_object_set_new(j, "firstAssignedAt", col_time(st, 20));
	json_object_set_new(j, "lastAssignedAt", col_time(st, 21));
	json_object_set_new(j, "timesAssigned", col_int(st, 22));
	json_object_set_new(j, "createdAt", col_time(st, 23));
	json_object_set_new(j, "updatedAt", col_time(st, 24));
	return j;
}

int inv_store_dto(sqlite3 *db, int64_t id, json_t **out)
{
	sqlite3_stmt *st = prep(db, "SELECT " COLS " FROM inv_number WHERE id = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = row_dto(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

/* ---- transitions ---- */

int inv_store_reserve(sqlite3 *db, int64_t id, const char *by, int64_t now)
{
	sqlite3_stmt *st = prep(db, "UPDATE inv_number SET status = 'RESERVED', reserved_by = ?,"
				" updated_at = ? WHERE id = ?");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, id);
	return run(db, st);
}

int inv_store_assign(sqlite3 *db, int64_t id, const char *app, const char *meta, int64_t now)
{
	sqlite3_stmt *st = prep(db, "UPDATE inv_number SET status = 'IN_USE', application_id = ?,"
				" metadata = ?,"
				" first_assigned_at = coalesce(first_assigned_at, ?3),"
				" last_assigned_at = ?3, times_assigned = times_assigned + 1,"
				" updated_at = ?3 WHERE id = ?4");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_TRANSIENT);
	bind_opt(st, 2, meta);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, id);
	return run(db, st);
}

int inv_store_metadata(sqlite3 *db, int64_t id, const char *meta, int64_t now)
{
	sqlite3_stmt *st = prep(db, "UPDATE inv_number SET metadata = ?, updated_at = ?"
				" WHERE id = ?");

	if (st == NULL)
		return -1;
	bind_opt(st, 1, meta);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, id);
	return run(db, st);
}

int inv_store_release(sqlite3 *db, int64_t id, int64_t now)
{
	sqlite3_stmt *st = prep(db, "UPDATE inv_number SET status = 'AVAILABLE',"
				" application_id = NULL, metadata = NULL, reserved_by = NULL,"
				" updated_at = ? WHERE id = ?");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, id);
	return run(db, st);
}

int inv_store_change(sqlite3 *db, int64_t id, const char *from, const char *to,
		     const char *action, int64_t now)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO inv_change (number_id, at, action, from_status,"
				" to_status) VALUES (?, ?, ?, ?, ?)");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	bind_opt(st, 4, from);
	sqlite3_bind_text(st, 5, to, -1, SQLITE_STATIC);
	return run(db, st);
}

/* ---- pages ---- */

/* "SELECT <what> FROM <from> WHERE spid IN (c's) AND (where)" bound, ready to step. */
static sqlite3_stmt *select_for(sqlite3 *db, const char *what, const char *from,
				const struct inv_caller *c, const char *where,
				char *const *binds, size_t n_binds, const char *tail)
{
	char m[2 * 32 + 1], *sql = NULL;
	sqlite3_stmt *st;
	size_t i;

	if (c->n == 0 || c->n > 32)
		snprintf(m, sizeof(m), "NULL");
	else
		marks(m, c->n);
	if (asprintf(&sql, "SELECT %s FROM %s WHERE spid IN (%s) AND %s%s", what, from, m,
		     where ? where : "1", tail) < 0)
		return NULL;
	st = prep(db, sql);
	free(sql);
	if (st == NULL)
		return NULL;
	bind_spids(st, 1, c);
	for (i = 0; i < n_binds; i++)
		sqlite3_bind_text(st, (int)(c->n + i + 1), binds[i], -1, SQLITE_STATIC);
	return st;
}

/* How many of c's numbers f matches: from the tally when it can, else counted. */
static int count_matches(sqlite3 *db, const struct inv_caller *c, const struct inv_filter *f,
			 int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (f->tally_where)
		st = select_for(db, "coalesce(sum(n), 0)", "inv_tally_view", c, f->tally_where,
				f->tally_binds, f->n_tally_binds, "");
	else
		st = select_for(db, "count(*)", "inv_number", c, f->where, f->binds, f->n_binds,
				"");
	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Few matches: sort them ("+col" keeps SQLite from walking the whole order
 * index to skip the sort, which costs every row of the SPID when the filter
 * is selective). Many: walking that index finds a page of them at once.
 */
#define SORT_MATCHES_MAX 20000

static int page_rows(sqlite3 *db, const struct inv_caller *c, const struct inv_filter *f,
		     const struct inv_page *pg, int64_t total, json_t *content)
{
	const char *dir = pg->desc ? "DESC" : "ASC", *plus = total <= SORT_MATCHES_MAX ? "+" : "";
	char tail[96];
	sqlite3_stmt *st;
	int rc, k = (int)(c->n + f->n_binds);

	snprintf(tail, sizeof(tail), " ORDER BY %s%s %s, %stn %s LIMIT ? OFFSET ?", plus,
		 pg->sort_column, dir, plus, dir);
	st = select_for(db, COLS, "inv_number", c, f->where, f->binds, f->n_binds, tail);
	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, k + 1, pg->size);
	sqlite3_bind_int64(st, k + 2, pg->page * pg->size);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(content, row_dto(st));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int inv_store_page(sqlite3 *db, const struct inv_caller *c, const struct inv_filter *f,
		   const struct inv_page *pg, json_t **out)
{
	json_t *content = json_array();
	int64_t total = 0, pages;
	int rc = -1;

	if (content == NULL || count_matches(db, c, f, &total) != 0 ||
	    (total > pg->page * pg->size && page_rows(db, c, f, pg, total, content) != 0))
		goto done;
	pages = (total + pg->size - 1) / pg->size;
	*out = json_pack("{s:O, s:I, s:I, s:I, s:I, s:b, s:b}", "content", content,
			 "totalElements", (json_int_t)total, "totalPages", (json_int_t)pages,
			 "page", (json_int_t)pg->page, "size", (json_int_t)pg->size, "first",
			 pg->page == 0, "last", pg->page + 1 >= pages);
	rc = *out ? 0 : -1;
done:
	json_decref(content);
	return rc;
}

int inv_store_summary(sqlite3 *db, const char *spid, json_t **out)
{
	sqlite3_stmt *st = prep(db,
		"SELECT sum(n), sum((status = 'AVAILABLE') * n), sum((status = 'RESERVED') * n),"
		" sum((status = 'IN_USE') * n), sum((status = 'PORTED_OUT') * n),"
		" sum((ported = 'in') * n), sum((status = 'QUARANTINE') * n),"
		" count(DISTINCT CASE WHEN via = 'LERG' THEN npa || '-' || nxx || '-' || block END)"
		" FROM inv_tally_view WHERE spid = ?");
	int rc, found = 0;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spid, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0) {
		found = 1;
		*out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "spid", spid,
				 "totalNumbers", (json_int_t)sqlite3_column_int64(st, 0),
				 "availableCount", (json_int_t)sqlite3_column_int64(st, 1),
				 "reservedCount", (json_int_t)sqlite3_column_int64(st, 2),
				 "inUseCount", (json_int_t)sqlite3_column_int64(st, 3),
				 "portedOutCount", (json_int_t)sqlite3_column_int64(st, 4),
				 "portedInCount", (json_int_t)sqlite3_column_int64(st, 5),
				 "quarantineCount", (json_int_t)sqlite3_column_int64(st, 6),
				 "totalBlocks", (json_int_t)sqlite3_column_int64(st, 7));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return -1;
	return found ? 0 : 1;
}

/* ---- sync ---- */

int inv_store_sync_mark(sqlite3 *db, const char *spid, int64_t *built, int64_t *seq)
{
	sqlite3_stmt *st = prep(db, "SELECT lookup_built, lookup_seq FROM inv_sync WHERE spid = ?");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spid, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*built = sqlite3_column_int64(st, 0);
		*seq = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int inv_store_sync_set(sqlite3 *db, const char *spid, int64_t built, int64_t seq, int64_t now)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO inv_sync (spid, lookup_built, lookup_seq,"
				" synced_at) VALUES (?, ?, ?, ?) ON CONFLICT (spid) DO UPDATE SET"
				" lookup_built = excluded.lookup_built,"
				" lookup_seq = excluded.lookup_seq,"
				" synced_at = excluded.synced_at");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, built);
	sqlite3_bind_int64(st, 3, seq);
	sqlite3_bind_int64(st, 4, now);
	return run(db, st);
}

/* A version 4 UUID from SQLite's generator (not a secret, only unique). */
static void uuid_make(char out[37])
{
	unsigned char b[16];

	sqlite3_randomness(sizeof(b), b);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

#define INSERT_SQL \
	"INSERT OR IGNORE INTO inv_number (uuid, tn, spid, npa, nxx, block_id," \
	" current_owner_spid, status, ported, lrn, ocn, ocn_name, state, locality," \
	" last_port_date, port_direction, original_spid, discovered_via, created_at, updated_at)" \
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17," \
	" ?18, ?19, ?19)"

static void bind_number(sqlite3_stmt *st, uint64_t tn)
{
	char uuid[37], block[2];

	uuid_make(uuid);
	block[0] = (char)('0' + (tn / 1000) % 10);
	block[1] = '\0';
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)tn);
	sqlite3_bind_int(st, 4, (int)tn_npa(tn));
	sqlite3_bind_int(st, 5, (int)(tn_npanxx(tn) % 1000));
	sqlite3_bind_text(st, 6, block, -1, SQLITE_TRANSIENT);
}

static bool skipped(const struct inv_range *r, uint64_t tn)
{
	unsigned i;

	for (i = 0; i < r->n_skip; i++)
		if (tn >= r->skip_lo[i] && tn < r->skip_hi[i])
			return true;
	return false;
}

long inv_store_add_range(sqlite3 *db, const struct inv_range *r, int64_t now)
{
	sqlite3_stmt *st = prep(db, INSERT_SQL);
	long added = 0;
	uint64_t tn;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 3, r->spid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->spid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, "AVAILABLE", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, "no", -1, SQLITE_STATIC);
	bind_opt(st, 11, r->ocn);
	bind_opt(st, 12, r->ocn_name);
	bind_opt(st, 13, r->state);
	bind_opt(st, 14, r->locality);
	sqlite3_bind_text(st, 18, "LERG", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 19, now);
	for (tn = r->first; tn < r->first + r->count; tn++) {
		if (skipped(r, tn))
			continue;
		bind_number(st, tn);
		if (sqlite3_step(st) != SQLITE_DONE) {
			log_error("inventory sync insert failed", "err=\"%s\"", sqlite3_errmsg(db));
			sqlite3_finalize(st);
			return -1;
		}
		added += sqlite3_changes(db);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return added;
}

/* ---- ports ---- */

static int port_insert(sqlite3 *db, const struct inv_port *p, bool in)
{
	sqlite3_stmt *st = prep(db, INSERT_SQL);

	if (st == NULL)
		return -1;
	bind_number(st, p->tn);
	sqlite3_bind_text(st, 3, p->spid, -1, SQLITE_STATIC);
	bind_opt(st, 7, p->new_spid);
	sqlite3_bind_text(st, 8, in ? "AVAILABLE" : "PORTED_OUT", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, in ? "in" : "out", -1, SQLITE_STATIC);
	if (p->lrn)
		sqlite3_bind_int64(st, 10, (sqlite3_int64)p->lrn);
	bind_opt(st, 11, p->ocn);
	bind_opt(st, 12, p->ocn_name);
	bind_opt(st, 13, p->state);
	bind_opt(st, 14, p->locality);
	if (p->at)
		sqlite3_bind_int64(st, 15, p->at);
	sqlite3_bind_text(st, 16, in ? "IN" : "OUT", -1, SQLITE_STATIC);
	bind_opt(st, 17, p->old_spid);
	sqlite3_bind_text(st, 18, in ? "LSMS" : "LERG", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 19, p->now);
	return run(db, st);
}

/* The row's id and status after the insert-or-ignore; 0, or -1. */
static int port_row(sqlite3 *db, const struct inv_port *p, int64_t *id, char status[16])
{
	const char (*one)[5] = (const char (*)[5])p->spid;
	struct inv_caller c = { .spids = one, .n = 1 };

	return inv_store_find(db, &c, p->tn, id, status) == 0 ? 0 : -1;
}

/*
 * A port out ends the donor's use of the number. A port in makes it the new
 * SPID's: AVAILABLE when it comes back from PORTED_OUT, otherwise the state
 * it has stays (the contract has no status of its own for ported-in numbers;
 * ported = 'in' and portDirection IN say it).
 */
static int port_update(sqlite3 *db, const struct inv_port *p, int64_t id, bool in)
{
	sqlite3_stmt *st = prep(db,
		"UPDATE inv_number SET"
		" status = CASE WHEN ?1 AND status != 'PORTED_OUT' THEN status"
		"  WHEN ?1 THEN 'AVAILABLE' ELSE 'PORTED_OUT' END,"
		" application_id = CASE WHEN ?1 AND status != 'PORTED_OUT' THEN application_id END,"
		" metadata = CASE WHEN ?1 AND status != 'PORTED_OUT' THEN metadata END,"
		" reserved_by = CASE WHEN ?1 AND status != 'PORTED_OUT' THEN reserved_by END,"
		" ported = ?2, current_owner_spid = ?3, lrn = coalesce(?4, lrn),"
		" last_port_date = ?5, port_direction = ?6, original_spid = ?7, updated_at = ?9"
		" WHERE id = ?8");

	if (st == NULL)
		return -1;
	sqlite3_bind_int(st, 1, in);
	sqlite3_bind_text(st, 2, in ? "in" : "out", -1, SQLITE_STATIC);
	bind_opt(st, 3, p->new_spid);
	if (p->lrn)
		sqlite3_bind_int64(st, 4, (sqlite3_int64)p->lrn);
	if (p->at)
		sqlite3_bind_int64(st, 5, p->at);
	sqlite3_bind_text(st, 6, in ? "IN" : "OUT", -1, SQLITE_STATIC);
	bind_opt(st, 7, p->old_spid);
	sqlite3_bind_int64(st, 8, id);
	sqlite3_bind_int64(st, 9, p->now);
	return run(db, st);
}

static int port_apply(sqlite3 *db, const struct inv_port *p, bool in)
{
	const char *action = in ? "PORT_IN" : "PORT_OUT";
	bool was_out;
	char status[16], after[16];
	int64_t id;
	int inserted;

	if (port_insert(db, p, in) != 0)
		return -1;
	inserted = sqlite3_changes(db);
	if (port_row(db, p, &id, status) != 0)
		return -1;
	if (inserted)
		return inv_store_change(db, id, NULL, status, action, p->now);
	was_out = strcmp(status, "PORTED_OUT") == 0;
	/* What lookup data shows again is no news; an activation always is. */
	if (!p->force && (in ? !was_out : was_out))
		return 0;
	if (port_update(db, p, id, in) != 0 || port_row(db, p, &id, after) != 0)
		return -1;
	return inv_store_change(db, id, status, after, action, p->now);
}

int inv_store_port_out(sqlite3 *db, const struct inv_port *p)
{
	return port_apply(db, p, false);
}

int inv_store_port_in(sqlite3 *db, const struct inv_port *p)
{
	return port_apply(db, p, true);
}

/* The holder's own row, as a sync would have added it. */
static int home_insert(sqlite3 *db, const struct inv_port *p)
{
	sqlite3_stmt *st = prep(db, INSERT_SQL);

	if (st == NULL)
		return -1;
	bind_number(st, p->tn);
	sqlite3_bind_text(st, 3, p->spid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, p->spid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, "AVAILABLE", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, "no", -1, SQLITE_STATIC);
	bind_opt(st, 11, p->ocn);
	bind_opt(st, 12, p->ocn_name);
	bind_opt(st, 13, p->state);
	bind_opt(st, 14, p->locality);
	sqlite3_bind_text(st, 18, "LERG", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 19, p->now);
	return run(db, st);
}

/* Whatever state the row was in, the number is the holder's and unused again. */
static int home_update(sqlite3 *db, int64_t id, const char *spid, int64_t now)
{
	sqlite3_stmt *st = prep(db,
		"UPDATE inv_number SET status = 'AVAILABLE', ported = 'no',"
		" application_id = NULL, metadata = NULL, reserved_by = NULL,"
		" current_owner_spid = ?1, lrn = NULL, port_direction = NULL,"
		" original_spid = NULL, updated_at = ?2 WHERE id = ?3");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, id);
	return run(db, st);
}

int inv_store_snapback(sqlite3 *db, const struct inv_port *p)
{
	char status[16];
	int64_t id;
	int inserted;

	if (home_insert(db, p) != 0)
		return -1;
	inserted = sqlite3_changes(db);
	if (port_row(db, p, &id, status) != 0 || home_update(db, id, p->spid, p->now) != 0)
		return -1;
	return inv_store_change(db, id, inserted ? NULL : status, "AVAILABLE", "SNAPBACK",
				p->now);
}

/*
 * Delete spid's rows of numbers lo <= tn < hi and their history; with
 * unused, only rows nothing uses (AVAILABLE, never ported, from the LERG
 * data). Returns the rows deleted, or -1.
 */
static long delete_numbers(sqlite3 *db, const char *spid, uint64_t lo, uint64_t hi, bool unused)
{
	static const char *const sql[] = {
		"DELETE FROM inv_change WHERE number_id IN (SELECT id FROM inv_number"
		" WHERE spid = ?1 AND tn >= ?2 AND tn < ?3 AND (NOT ?4 OR (status = 'AVAILABLE'"
		" AND ported = 'no' AND discovered_via = 'LERG')))",
		"DELETE FROM inv_number WHERE spid = ?1 AND tn >= ?2 AND tn < ?3 AND (NOT ?4 OR"
		" (status = 'AVAILABLE' AND ported = 'no' AND discovered_via = 'LERG'))",
	};
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		st = prep(db, sql[i]);
		if (st == NULL)
			return -1;
		sqlite3_bind_text(st, 1, spid, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)lo);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)hi);
		sqlite3_bind_int(st, 4, unused);
		if (run(db, st) != 0)
			return -1;
	}
	return sqlite3_changes(db);
}

int inv_store_remove(sqlite3 *db, const char *spid, uint64_t tn)
{
	return delete_numbers(db, spid, tn, tn + 1, false) < 0 ? -1 : 0;
}

int inv_store_synced(sqlite3 *db, char (**out)[5], size_t *n)
{
	sqlite3_stmt *st = prep(db, "SELECT spid FROM inv_sync ORDER BY spid");
	char (*v)[5] = NULL, (*grown)[5];
	size_t count = 0;
	int rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		grown = realloc(v, (count + 1) * sizeof(*v));
		if (grown == NULL)
			break;
		v = grown;
		snprintf(v[count++], 5, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return -1;
	}
	*out = v;
	*n = count;
	return 0;
}

int inv_store_search(sqlite3 *db, const struct inv_caller *c, const char *text,
		     const struct inv_page *pg, json_t **out)
{
	size_t n = strlen(text), i, o = 0;
	char lo[24], hi[24], lo_code[24], hi_code[24], like[2 * 64 + 3];
	char *binds[4], *code_binds[2];
	struct inv_filter f = { 0 };
	uint64_t prefix = 0, scale = 1;

	if (n > 0 && n <= 10 && strspn(text, "0123456789") == n) {
		for (i = 0; i < n; i++)
			prefix = prefix * 10 + (uint64_t)(text[i] - '0');
		for (i = n; i < 10; i++)
			scale *= 10;
		snprintf(lo, sizeof(lo), "%llu", (unsigned long long)(prefix * scale));
		snprintf(hi, sizeof(hi), "%llu", (unsigned long long)((prefix + 1) * scale));
		binds[0] = lo;
		binds[1] = hi;
		f.where = "(tn >= ? AND tn < ?)";
		f.binds = binds;
		f.n_binds = 2;
		if (n <= 6) {
			/* Whole NPA-NXXs: the same numbers, counted from the tally. */
			snprintf(lo_code, sizeof(lo_code), "%llu",
				 (unsigned long long)(prefix * scale / 10000));
			snprintf(hi_code, sizeof(hi_code), "%llu",
				 (unsigned long long)((prefix + 1) * scale / 10000));
			code_binds[0] = lo_code;
			code_binds[1] = hi_code;
			f.tally_where = "(npa * 1000 + nxx >= CAST(? AS INTEGER) AND"
					" npa * 1000 + nxx < CAST(? AS INTEGER))";
			f.tally_binds = code_binds;
			f.n_tally_binds = 2;
		}
		return inv_store_page(db, c, &f, pg, out);
	}
	like[o++] = '%';
	for (i = 0; i < n && i < 64; i++) {
		if (text[i] == '%' || text[i] == '_' || text[i] == '\\')
			like[o++] = '\\';
		like[o++] = text[i];
	}
	like[o++] = '%';
	like[o] = '\0';
	binds[0] = like;
	binds[1] = binds[2] = binds[3] = (char *)text;
	f.where = f.tally_where = "(locality LIKE ? ESCAPE '\\' OR state = upper(?) OR"
				  " spid = upper(?) OR ocn = upper(?))";
	f.binds = f.tally_binds = binds;
	f.n_binds = f.n_tally_binds = 4;
	return inv_store_page(db, c, &f, pg, out);
}

/* ---- lookup.db reads for a sync ---- */

static const char *col_str(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

/* The first column of every row of st (bound, unstepped) as numbers; finalizes st. */
static int collect_numbers(sqlite3_stmt *st, uint64_t **out, size_t *n)
{
	uint64_t *v = NULL, *grown;
	size_t count = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(v, cap * sizeof(*v));
			if (grown == NULL)
				break;
			v = grown;
		}
		v[count++] = (uint64_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return -1;
	}
	*out = v;
	*n = count;
	return 0;
}

int inv_store_lookup_ported_since(sqlite3 *lookup, int64_t from, int64_t to, uint64_t **out,
				  size_t *n)
{
	sqlite3_stmt *st = prep(lookup, "SELECT tn FROM ported WHERE seq > ?1 AND seq <= ?2"
				" UNION SELECT tn FROM ported_gone WHERE seq > ?1 AND seq <= ?2"
				" ORDER BY 1");

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	return collect_numbers(st, out, n);
}

int inv_store_lerg_blocks(sqlite3 *db, const char *spid, uint64_t **out, size_t *n)
{
	sqlite3_stmt *st = prep(db, "SELECT DISTINCT npa * 10000 + nxx * 10 + CAST(block AS"
				" INTEGER) FROM inv_tally WHERE spid = ?1 AND via = 'LERG' AND"
				" n > 0 ORDER BY 1");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spid, -1, SQLITE_STATIC);
	return collect_numbers(st, out, n);
}

long inv_store_drop_block(sqlite3 *db, const char *spid, uint64_t block)
{
	return delete_numbers(db, spid, block * 1000u, block * 1000u + 1000u, true);
}

int inv_store_ported_rows(sqlite3 *db, const char *spid, uint64_t **out, size_t *n)
{
	sqlite3_stmt *st = prep(db, "SELECT tn FROM inv_number WHERE spid = ?1 AND"
				" (status = 'PORTED_OUT' OR ported = 'in') ORDER BY tn");

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spid, -1, SQLITE_STATIC);
	return collect_numbers(st, out, n);
}

int inv_store_row_state(sqlite3 *db, const char *spid, uint64_t tn, struct inv_row_state *out)
{
	sqlite3_stmt *st = prep(db, "SELECT status, ported, ifnull(current_owner_spid, ''),"
				" updated_at FROM inv_number WHERE spid = ?1 AND tn = ?2");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)tn);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(out->status, sizeof(out->status), "%s", col_str(st, 0));
		snprintf(out->ported, sizeof(out->ported), "%s", col_str(st, 1));
		snprintf(out->owner, sizeof(out->owner), "%s", col_str(st, 2));
		out->updated_at = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
}

int inv_store_lookup_log_id(sqlite3 *lookup, int64_t *out)
{
	sqlite3_stmt *st = prep(lookup, "SELECT coalesce(max(id), 0) FROM import_log"
				" WHERE kind NOT LIKE 'ported%'");
	int rc;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int inv_store_lookup_codes(sqlite3 *lookup, const char *spid, inv_code_fn fn, void *ctx)
{
	sqlite3_stmt *st = prep(lookup, "SELECT c.npanxx, c.company, c.rate_center, c.state,"
				" (SELECT group_concat(b.npanxxx) FROM block b WHERE b.npanxxx"
				"  BETWEEN c.npanxx * 10 AND c.npanxx * 10 + 9 AND b.spid != ?1)"
				" FROM cocode c WHERE c.ocn = ?1 ORDER BY c.npanxx");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spid, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct inv_code code = {
			.npanxx = (unsigned)sqlite3_column_int(st, 0), .company = col_str(st, 1),
			.rate_center = col_str(st, 2), .state = col_str(st, 3),
			.foreign_blocks = col_str(st, 4),
		};
		if (fn(ctx, &code) != 0) {
			rc = SQLITE_ERROR;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int inv_store_lookup_blocks(sqlite3 *lookup, const char *spid, inv_code_fn fn, void *ctx)
{
	sqlite3_stmt *st = prep(lookup, "SELECT b.npanxxx, c.company,"
				" coalesce(b.rate_center, c.rate_center), c.state, c.ocn = ?1"
				" FROM block b LEFT JOIN cocode c ON c.npanxx = b.npanxxx / 10"
				" WHERE b.spid = ?1 ORDER BY b.npanxxx");
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, spid, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct inv_code code = {
			.npanxx = (unsigned)sqlite3_column_int(st, 0), .block = true,
			.company = sqlite3_column_int(st, 4) ? col_str(st, 1) : NULL,
			.rate_center = col_str(st, 2), .state = col_str(st, 3),
		};
		if (fn(ctx, &code) != 0) {
			rc = SQLITE_ERROR;
			break;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
