/* inventory_bench.c - inventory queries over a large ringer.db (bench/inventory.sh).
 *
 *   inventory_bench DB N
 *
 * Fills DB (a fresh ringer.db) with N numbers for SPID 567G (and N/10 for
 * another SPID the caller must never see), then times queries the way the
 * API runs them (parse, compile, count plus one page of 50), median of 7 runs,
 * beside a reference: the same query with its matches counted row by row
 * (median of 3), as every query was before the running counts (inv_tally).
 * The statistics the planner gets are those a sync leaves (inventory_analyze).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "db/db.h"
#include "inventory/inventory.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* 1000 numbers per NPA-NXX, spread over NPAs 200-999 then NXXs from 200. */
static int fill(sqlite3 *db, const char *spid, long n, long first)
{
	char sql[2048];

	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %ld - 1)"
		 " INSERT INTO inv_number (uuid, tn, spid, npa, nxx, block_id, current_owner_spid,"
		 " status, ported, ocn, lata, state, locality, metadata, application_id,"
		 " discovered_via, created_at, updated_at)"
		 " SELECT lower(hex(randomblob(16))), tn, '%s', tn / 10000000, tn / 10000 %% 1000,"
		 " tn / 1000 %% 10, '%s',"
		 " CASE WHEN i %% 100 = 7 THEN 'IN_USE' WHEN i %% 100 = 13 THEN 'RESERVED'"
		 "  ELSE 'AVAILABLE' END,"
		 " CASE WHEN i %% 500 = 1 THEN 'in' ELSE 'no' END, '%s',"
		 " 100 + tn / 10000000 %% 700,"
		 " 'CO', 'RC ' || (tn / 10000 %% 1000000),"
		 " CASE WHEN i %% 100 = 7 THEN json_object('ban', 'BAN' || i) END,"
		 " CASE WHEN i %% 100 = 7 THEN 'bench' END, 'LERG', 1780000000, 1780000000"
		 " FROM (SELECT i, %ld + (200 + i / 1000 %% 800) * 10000000"
		 "  + (200 + i / 800000 %% 800) * 10000 + i %% 1000 AS tn FROM s)",
		 n, spid, spid, spid, first);
	return db_exec(db, "BEGIN") || db_exec(db, sql) || db_exec(db, "COMMIT") ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median of runs of one query; with tally false the matches are counted row
 * by row (the reference: what the count cost before inv_tally).
 */
static int run_query(sqlite3 *db, const char *text, long page, bool tally, int runs_n,
		     double *median, double *max, json_int_t *total)
{
	static const char spid[][5] = { "567G" };
	struct inv_caller c = { .spids = spid, .n = 1 };
	struct inv_page pg = { .page = page, .size = 50, .sort_column = "tn" };
	struct query_error err;
	double runs[7], t0;
	json_t *out = NULL;
	int i;

	for (i = 0; i < runs_n; i++) {
		struct query *q = NULL;
		struct query_sql s;

		t0 = now_ms();
		if (query_parse(text, &q, &err) != 0 || query_compile(q, &s) != 0)
			return -1;
		s.tallied = s.tallied && tally;
		if (inventory_query(db, &c, &s, &pg, &out) != 0) {
			fprintf(stderr, "query failed: %s\n", text);
			return -1;
		}
		runs[i] = now_ms() - t0;
		*total = json_integer_value(json_object_get(out, "totalElements"));
		if (json_array_size(json_object_get(out, "content")) == 0 && *total > page * 50)
			return -1;
		json_decref(out);
		query_sql_free(&s);
		query_free(q);
	}
	qsort(runs, (size_t)runs_n, sizeof(runs[0]), cmp_double);
	*median = runs[runs_n / 2];
	*max = runs[runs_n - 1];
	return 0;
}

static int timed(sqlite3 *db, const char *text, long page)
{
	double med, max, ref_med, ref_max;
	json_int_t total = 0, ref_total = 0;

	if (run_query(db, text, page, true, 7, &med, &max, &total) != 0 ||
	    run_query(db, text, page, false, 3, &ref_med, &ref_max, &ref_total) != 0)
		return -1;
	if (total != ref_total) {
		fprintf(stderr, "%s: %lld matches, counted %lld\n", text, (long long)total,
			(long long)ref_total);
		return -1;
	}
	printf("%-48s page %-3ld matches %-8lld median %7.2f ms max %7.2f ms"
	       "  reference %8.2f ms  ratio %.3f\n", text, page, (long long)total, med, max,
	       ref_med, med / ref_med);
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const queries[] = {
		"npa=303 and nxx=201", "spid=567G and npa in (250,251)", "status=reserved",
		"status=in_use and npa=300", "lata=403 and status=available",
		"(status=available or status=reserved) and ported=in", "tn=3035551234",
		"locality='RC 303201' and status=available", "metadata.ban=BAN7",
		"metadata.ban in (BAN7,BAN107) and status=in_use", "status=available",
	};
	sqlite3 *db;
	double t0;
	long n;
	size_t i;
	int rc = 0;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: inventory_bench DB N\n");
		return 2;
	}
	log_set_level(LOG_ERROR);
	if (mgmt_open(argv[1], false, &db) != 0 || inventory_migrate(db) != 0 ||
	    db_exec(db, "PRAGMA cache_size = -1000000") != 0)
		return 1;
	t0 = now_ms();
	if (fill(db, "567G", n, 0) != 0 || fill(db, "123A", n / 10, 5000) != 0)
		return 1;
	printf("filled %ld + %ld numbers in %.1f s\n", n, n / 10, (now_ms() - t0) / 1e3);
	if (inventory_analyze(db) != 0)
		return 1;
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]) && rc == 0; i++)
		rc = timed(db, queries[i], 0);
	if (rc == 0)
		rc = timed(db, "npa=303 and nxx=201", 15);
	sqlite3_close(db);
	return rc ? 1 : 0;
}
