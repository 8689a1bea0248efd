/* numdb.c - building, publishing and reading lookup generations.
 *
 * Every table becomes an array sorted by its integer key, searched by binary
 * search: compact, cache friendly and simple to build in one pass. Strings
 * that many rows share (companies, sources) are kept once per generation.
 */
#include "numdb.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/tn.h"
#include "portover.h"
#include "portstore.h"

/* An overlay row: a change since the generation file was built. */
struct ported_rec {
	uint64_t tn; /* key: first member, see find_key() */
	struct port_profile p;
	bool gone;   /* a tombstone: the number snapped back */
};

struct block_rec {
	uint64_t npanxxx;
	uint64_t lrn; /* 0 when the block report gave no LRN */
	char spid[5];
};

struct cocode_rec {
	uint64_t npanxx;
	struct cocode_info info;
};

struct cnam_rec {
	uint64_t tn;
	char name[16];
	bool restricted;
};

struct dno_rec {
	uint64_t prefix;
	const char *source;
};

struct ror_rec {
	uint64_t crn;
	char ror[6];
};

struct cpr_rec {
	uint64_t crn;
	json_t *record;
};

struct npa_rec {
	bool present;
	const char *location;
};

/* Strings owned by a generation, freed with it. */
struct strings {
	char **v;
	size_t n, cap;
};

/*
 * Everything but the ported numbers: rebuilt only when those tables change,
 * shared (by reference) between the generations that ported updates make.
 */
struct tables {
	atomic_long refs;
	int64_t log_id; /* highest non-ported import_log id they reflect */
	struct block_rec *blocks;
	size_t n_blocks;
	struct cocode_rec *cocodes;
	size_t n_cocodes;
	struct cnam_rec *cnam;
	size_t n_cnam;
	uint64_t *dnc;
	size_t n_dnc;
	struct dno_rec *dno[4]; /* by pattern length 3, 6, 7, 10 */
	size_t n_dno[4];
	struct ror_rec *ror;
	size_t n_ror;
	struct cpr_rec *cpr;
	size_t n_cpr;
	struct dnc_count *report;
	size_t n_report;
	struct npa_rec npa[1000];
	size_t n_npa;
	struct strings strs;
};

struct numdb {
	atomic_long refs;
	int64_t built_at;
	bool incremental;          /* the previous generation plus the rows since */
	struct tables *t;
	struct portstore *base;    /* the generation file, NULL when there is none */
	struct ported_rec *ported; /* the overlay, consulted before base */
	size_t n_ported;
	size_t n_ported_total;     /* numbers answered as ported */
	uint64_t ported_max_version;
	uint64_t ported_seq;       /* the last update transaction read */
	char ported_updated[24];
};

static const unsigned dno_lengths[4] = { 3, 6, 7, 10 };

/* ---- building ---- */

static const char *keep(struct tables *g, const unsigned char *s)
{
	char *copy, **v;

	if (s == NULL)
		return NULL;
	/* Consecutive rows often repeat a company or source: share it. */
	if (g->strs.n && strcmp(g->strs.v[g->strs.n - 1], (const char *)s) == 0)
		return g->strs.v[g->strs.n - 1];
	if (g->strs.n == g->strs.cap) {
		size_t cap = g->strs.cap ? g->strs.cap * 2 : 1024;

		v = realloc(g->strs.v, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		g->strs.v = v;
		g->strs.cap = cap;
	}
	copy = strdup((const char *)s);
	if (copy)
		g->strs.v[g->strs.n++] = copy;
	return copy;
}

static void copy_text(char *dst, size_t size, const unsigned char *src)
{
	snprintf(dst, size, "%s", src ? (const char *)src : "");
}

/* Count rows of a table so each array is allocated once. */
static long count_rows(sqlite3 *db, const char *table)
{
	char sql[96];
	sqlite3_stmt *st;
	long n = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

typedef int (*row_fn)(struct tables *g, sqlite3_stmt *st, void *arr, size_t i);

/*
 * Run sql (ordered by key) and let fill() turn each row into arr[i].
 * Allocates the array; stores it and the row count.
 */
static int load_table(sqlite3 *db, struct tables *g, const char *table, const char *sql,
		      size_t elem, row_fn fill, void **arr, size_t *n)
{
	sqlite3_stmt *st = NULL;
	long rows = count_rows(db, table);
	size_t i = 0;
	char *a;
	int rc;

	if (rows < 0 || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_error("lookup load failed", "table=%s err=\"%s\"", table, sqlite3_errmsg(db));
		return -1;
	}
	a = calloc((size_t)rows + 1, elem);
	if (a == NULL) {
		sqlite3_finalize(st);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && i < (size_t)rows) {
		if (fill(g, st, a + i * elem, i) == 0)
			i++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		log_error("lookup load failed", "table=%s err=\"%s\"", table, sqlite3_errmsg(db));
		free(a);
		return -1;
	}
	*arr = a;
	*n = i;
	return 0;
}

static int fill_block(struct tables *g, sqlite3_stmt *st, void *p, size_t i)
{
	struct block_rec *r = p;

	r->npanxxx = (uint64_t)sqlite3_column_int64(st, 0);
	r->lrn = (uint64_t)sqlite3_column_int64(st, 1);
	copy_text(r->spid, sizeof(r->spid), sqlite3_column_text(st, 2));
	return 0;
}

static int fill_cocode(struct tables *g, sqlite3_stmt *st, void *p, size_t i)
{
	struct cocode_rec *r = p;

	r->npanxx = (uint64_t)sqlite3_column_int64(st, 0);
	r->info.ocn = keep(g, sqlite3_column_text(st, 1));
	r->info.company = keep(g, sqlite3_column_text(st, 2));
	r->info.rate_center = keep(g, sqlite3_column_text(st, 3));
	r->info.state = keep(g, sqlite3_column_text(st, 4));
	r->info.status = keep(g, sqlite3_column_text(st, 5));
	return 0;
}

static int fill_cnam(struct tables *g, sqlite3_stmt *st, void *p, size_t i)
{
	struct cnam_rec *r = p;

	r->tn = (uint64_t)sqlite3_column_int64(st, 0);
	copy_text(r->name, sizeof(r->name), sqlite3_column_text(st, 1));
	r->restricted = sqlite3_column_int(st, 2) != 0;
	return 0;
}

static int fill_u64(struct tables *g, sqlite3_stmt *st, void *p, size_t i)
{
	*(uint64_t *)p = (uint64_t)sqlite3_column_int64(st, 0);
	return 0;
}

static int fill_ror(struct tables *g, sqlite3_stmt *st, void *p, size_t i)
{
	struct ror_rec *r = p;

	r->crn = (uint64_t)sqlite3_column_int64(st, 0);
	copy_text(r->ror, sizeof(r->ror), sqlite3_column_text(st, 1));
	return 0;
}

static int fill_cpr(struct tables *g, sqlite3_stmt *st, void *p, size_t i)
{
	struct cpr_rec *r = p;
	const char *text = (const char *)sqlite3_column_text(st, 1);

	r->crn = (uint64_t)sqlite3_column_int64(st, 0);
	r->record = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (r->record == NULL) {
		log_warn("cpr record unreadable, skipped", "crn=%llu",
			 (unsigned long long)r->crn);
		return -1;
	}
	return 0;
}

static int fill_report(struct tables *g, sqlite3_stmt *st, void *p, size_t i)
{
	struct dnc_count *r = p;

	r->npa = (unsigned)sqlite3_column_int(st, 0);
	r->old_count = (long)sqlite3_column_int64(st, 1);
	r->new_count = (long)sqlite3_column_int64(st, 2);
	return 0;
}

/* DNO patterns arrive as text; split them by length into integer prefixes. */
static int load_dno(sqlite3 *db, struct tables *g)
{
	sqlite3_stmt *st = NULL;
	long rows = count_rows(db, "dno");
	int rc;

	if (rows < 0 || sqlite3_prepare_v2(db, "SELECT pattern, source FROM dno ORDER BY "
					   "length(pattern), pattern", -1, &st, NULL) != SQLITE_OK)
		return -1;
	for (int k = 0; k < 4; k++) {
		g->dno[k] = calloc((size_t)rows + 1, sizeof(struct dno_rec));
		if (g->dno[k] == NULL) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *pat = (const char *)sqlite3_column_text(st, 0);
		size_t len = pat ? strlen(pat) : 0;
		uint64_t v;

		for (int k = 0; k < 4; k++) {
			if (len != dno_lengths[k] || digits_parse(pat, len, (unsigned)len, &v) != 0)
				continue;
			g->dno[k][g->n_dno[k]].prefix = v;
			g->dno[k][g->n_dno[k]].source = keep(g, sqlite3_column_text(st, 1));
			g->n_dno[k]++;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int load_npas(sqlite3 *db, struct tables *g)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT npa, location FROM npa", -1, &st, NULL) != SQLITE_OK)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int npa = sqlite3_column_int(st, 0);

		if (npa < 0 || npa > 999)
			continue;
		g->npa[npa].present = true;
		g->npa[npa].location = keep(g, sqlite3_column_text(st, 1));
		g->n_npa++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- ported numbers: the generation file and its overlay ---- */

static pthread_mutex_t base_lock = PTHREAD_MUTEX_INITIALIZER;
static struct portstore *base_cache; /* the last file opened, kept while unchanged */
static char base_cache_path[600];

/*
 * The generation file beside db: the cached mapping while the file is the
 * same, else a fresh one. *out is NULL when there is no file. A file that
 * fails its checks fails the build: the live generation keeps serving.
 */
static int base_get(sqlite3 *db, struct portstore **out)
{
	char path[600], err[800];
	struct portstore *s = NULL;
	int rc = 0;

	*out = NULL;
	if (portover_path(db, path, sizeof(path)) != 0)
		return 0; /* an in-memory store has no file */
	pthread_mutex_lock(&base_lock);
	if (base_cache && strcmp(base_cache_path, path) == 0 &&
	    portstore_same_file(base_cache, path)) {
		*out = portstore_ref(base_cache);
	} else if (access(path, F_OK) == 0) {
		if (portstore_open(path, &s, err, sizeof(err)) != 0) {
			log_error("ported generation refused", "err=\"%s\"", err);
			rc = -1;
		} else {
			portstore_unref(base_cache);
			base_cache = portstore_ref(s);
			snprintf(base_cache_path, sizeof(base_cache_path), "%s", path);
			*out = s;
		}
	}
	pthread_mutex_unlock(&base_lock);
	return rc;
}

static int read_state(sqlite3 *db, struct numdb *g)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT max_version, updated, seq FROM ported_state "
			       "WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		g->ported_max_version = (uint64_t)sqlite3_column_int64(st, 0);
		copy_text(g->ported_updated, sizeof(g->ported_updated),
			  sqlite3_column_text(st, 1));
		g->ported_seq = (uint64_t)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int overlay_row(struct numdb *g, sqlite3_stmt *st, size_t *cap)
{
	struct ported_rec *r;

	if (g->n_ported == *cap) {
		size_t c = *cap ? *cap * 2 : 256;

		r = realloc(g->ported, c * sizeof(*r));
		if (r == NULL)
			return -1;
		g->ported = r;
		*cap = c;
	}
	r = &g->ported[g->n_ported++];
	memset(r, 0, sizeof(*r));
	r->tn = (uint64_t)sqlite3_column_int64(st, 0);
	r->p.lrn = (uint64_t)sqlite3_column_int64(st, 1);
	copy_text(r->p.spid, sizeof(r->p.spid), sqlite3_column_text(st, 2));
	copy_text(r->p.cnam_dpc, sizeof(r->p.cnam_dpc), sqlite3_column_text(st, 3));
	r->gone = sqlite3_column_int(st, 4) != 0;
	return 0;
}

/* Run an overlay query (tn, lrn, spid, cnam_dpc, gone by tn) into g->ported. */
static int load_rows(sqlite3 *db, struct numdb *g, const char *sql, uint64_t a, uint64_t b)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)a);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, (int64_t)b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (overlay_row(g, st, &cap) != 0)
			break;
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Count what the merged view answers as ported. */
static void count_ported(struct numdb *g, uint64_t base_numbers)
{
	uint32_t pid;

	g->n_ported_total = (size_t)base_numbers;
	for (size_t i = 0; i < g->n_ported; i++) {
		bool in_base = portstore_find(g->base, g->ported[i].tn, &pid);

		if (g->ported[i].gone && in_base)
			g->n_ported_total--;
		else if (!g->ported[i].gone && !in_base)
			g->n_ported_total++;
	}
}

/* The file and the whole overlay over it; g->base is set, state already read. */
static int load_ported(sqlite3 *db, struct numdb *g)
{
	struct portstore_info info = { 0 };

	if (g->base)
		portstore_get_info(g->base, &info);
	if (info.max_version > g->ported_max_version)
		g->ported_max_version = info.max_version;
	if (load_rows(db, g, PORTOVER_SQL_OVERLAY, info.absorbed_seq, info.max_version) != 0)
		return -1;
	count_ported(g, info.numbers);
	return 0;
}

/*
 * prev's overlay with the rows written since prev->ported_seq laid over it:
 * the delta goes into g->ported first, then both are merged by number.
 */
static int merge_delta(sqlite3 *db, struct numdb *g, const struct numdb *prev)
{
	struct ported_rec *m;
	size_t i = 0, j = 0, k = 0, nd;

	if (load_rows(db, g, PORTOVER_SQL_DELTA, prev->ported_seq, 0) != 0)
		return -1;
	nd = g->n_ported;
	g->n_ported_total = prev->n_ported_total;
	for (size_t d = 0; d < nd; d++) {
		bool was = numdb_ported(prev, g->ported[d].tn) != NULL;

		g->n_ported_total += (size_t)(!g->ported[d].gone && !was);
		g->n_ported_total -= (size_t)(g->ported[d].gone && was);
	}
	m = malloc((prev->n_ported + nd + 1) * sizeof(*m));
	if (m == NULL)
		return -1;
	while (i < prev->n_ported || j < nd) {
		if (j == nd || (i < prev->n_ported && prev->ported[i].tn < g->ported[j].tn)) {
			m[k++] = prev->ported[i++];
			continue;
		}
		if (i < prev->n_ported && prev->ported[i].tn == g->ported[j].tn)
			i++; /* the newer row replaces it */
		m[k++] = g->ported[j++];
	}
	free(g->ported);
	g->ported = m;
	g->n_ported = k;
	g->incremental = true;
	return 0;
}

/* The highest import_log id of the tables other than ported numbers. */
static int tables_log_id(sqlite3 *db, int64_t *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM import_log WHERE kind NOT "
			       "LIKE 'ported%'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

#define LOAD(tbl, sql, field, fn) \
	load_table(db, t, tbl, sql, sizeof(*t->field), fn, (void **)&t->field, &t->n_##field)

static void tables_unref(struct tables *t)
{
	if (t == NULL || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (size_t i = 0; i < t->n_cpr; i++)
		json_decref(t->cpr[i].record);
	for (size_t i = 0; i < t->strs.n; i++)
		free(t->strs.v[i]);
	for (int k = 0; k < 4; k++)
		free(t->dno[k]);
	free(t->strs.v);
	free(t->blocks);
	free(t->cocodes);
	free(t->cnam);
	free(t->dnc);
	free(t->ror);
	free(t->cpr);
	free(t->report);
	free(t);
}

static int load_tables(sqlite3 *db, int64_t log_id, struct tables **out)
{
	struct tables *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	atomic_init(&t->refs, 1);
	t->log_id = log_id;
	if (LOAD("block", "SELECT npanxxx, coalesce(lrn, 0), spid FROM block ORDER BY npanxxx",
		 blocks, fill_block) ||
	    LOAD("cocode", "SELECT npanxx, ocn, company, rate_center, state, status FROM cocode"
		 " ORDER BY npanxx", cocodes, fill_cocode) ||
	    LOAD("cnam", "SELECT tn, name, restricted FROM cnam ORDER BY tn", cnam, fill_cnam) ||
	    LOAD("dnc", "SELECT tn FROM dnc ORDER BY tn", dnc, fill_u64) ||
	    LOAD("tollfree", "SELECT crn, ror FROM tollfree ORDER BY crn", ror, fill_ror) ||
	    LOAD("cpr", "SELECT crn, record FROM cpr ORDER BY crn", cpr, fill_cpr) ||
	    LOAD("dnc_report", "SELECT npa, old_count, new_count FROM dnc_report ORDER BY npa",
		 report, fill_report) ||
	    load_dno(db, t) != 0 || load_npas(db, t) != 0) {
		tables_unref(t);
		return -1;
	}
	*out = t;
	return 0;
}

/*
 * Fill g inside one read transaction. With prev, its tables are shared when
 * no other import came since, and its overlay extended when the file is the
 * same; anything else is loaded whole.
 */
static int build_into(sqlite3 *db, struct numdb *g, const struct numdb *prev)
{
	int64_t log_id;

	/* The state row starts the snapshot; the file is looked at after it, so a
	 * fold's dropped rows are never paired with the file before the fold. */
	if (read_state(db, g) != 0 || tables_log_id(db, &log_id) != 0 ||
	    base_get(db, &g->base) != 0)
		return -1;
	/* Ported changes move seq or the file; a change that moved neither was elsewhere. */
	if (prev && prev->t->log_id == log_id &&
	    (prev->ported_seq != g->ported_seq || prev->base != g->base)) {
		atomic_fetch_add_explicit(&prev->t->refs, 1, memory_order_relaxed);
		g->t = prev->t;
	} else if (load_tables(db, log_id, &g->t) != 0) {
		return -1;
	}
	if (prev == NULL || prev->base != g->base)
		return load_ported(db, g);
	if (prev->ported_max_version > g->ported_max_version)
		g->ported_max_version = prev->ported_max_version;
	return merge_delta(db, g, prev);
}

int numdb_update(sqlite3 *db, const struct numdb *prev, struct numdb **out)
{
	struct numdb *g = calloc(1, sizeof(*g));
	int rc;

	if (g == NULL)
		return -1;
	atomic_init(&g->refs, 1);
	g->built_at = clock_now();
	/* One read transaction: the generation is a snapshot of one moment. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		rc = -1;
	else
		rc = build_into(db, g, prev);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != 0) {
		log_error("lookup generation build failed", "err=\"%s\"", sqlite3_errmsg(db));
		numdb_free(g);
		return -1;
	}
	*out = g;
	return 0;
}

int numdb_build(sqlite3 *db, struct numdb **out)
{
	return numdb_update(db, NULL, out);
}

void numdb_free(struct numdb *g)
{
	if (g == NULL)
		return;
	tables_unref(g->t);
	free(g->ported);
	portstore_unref(g->base);
	free(g);
}

/* ---- publishing ---- */

static pthread_rwlock_t current_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct numdb *current;

void numdb_publish(struct numdb *g)
{
	struct numdb *old;

	pthread_rwlock_wrlock(&current_lock);
	old = current;
	current = g;
	pthread_rwlock_unlock(&current_lock);
	numdb_release(old);
}

struct numdb *numdb_acquire(void)
{
	struct numdb *g;

	pthread_rwlock_rdlock(&current_lock);
	g = current;
	if (g)
		atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
	pthread_rwlock_unlock(&current_lock);
	return g;
}

void numdb_release(struct numdb *g)
{
	if (g && atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) == 1)
		numdb_free(g);
}

void numdb_shutdown(void)
{
	numdb_publish(NULL);
}

/* ---- reading ---- */

/* Binary search over records whose first member is a uint64_t key. */
static const void *find_key(const void *base, size_t n, size_t size, uint64_t key)
{
	const char *a = base;
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k;

		memcpy(&k, a + mid * size, sizeof(k));
		if (k == key)
			return a + mid * size;
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

#define FIND(arr, n, key) find_key((arr), (n), sizeof(*(arr)), (key))

const struct cocode_info *numdb_cocode(const struct numdb *g, unsigned npanxx)
{
	const struct cocode_rec *c = FIND(g->t->cocodes, g->t->n_cocodes, npanxx);

	return c ? &c->info : NULL;
}

const struct port_profile *numdb_ported(const struct numdb *g, uint64_t tn)
{
	const struct ported_rec *r = g->n_ported ? FIND(g->ported, g->n_ported, tn) : NULL;
	uint32_t pid;

	if (r != NULL)
		return r->gone ? NULL : &r->p;
	if (g->base && portstore_find(g->base, tn, &pid))
		return portstore_profile(g->base, pid);
	return NULL;
}

struct walk_ctx {
	const struct numdb *g;
	size_t next; /* the next overlay row to merge */
	numdb_ported_fn fn;
	void *ctx;
};

/* Overlay rows below tn go first; returns fn's stop value, or 1 when tn is overlaid. */
static int walk_rows(struct walk_ctx *w, uint64_t tn, bool *hit)
{
	int rc;

	*hit = false;
	while (w->next < w->g->n_ported && w->g->ported[w->next].tn <= tn) {
		const struct ported_rec *r = &w->g->ported[w->next++];

		if (r->tn == tn)
			*hit = true;
		if (!r->gone && (rc = w->fn(w->ctx, r->tn, &r->p)) != 0)
			return rc;
	}
	return 0;
}

static int walk_base(void *ctx, uint64_t tn, uint32_t pid)
{
	struct walk_ctx *w = ctx;
	bool hit;
	int rc = walk_rows(w, tn, &hit);

	if (rc != 0 || hit)
		return rc;
	return w->fn(w->ctx, tn, portstore_profile(w->g->base, pid));
}

int numdb_ported_walk(const struct numdb *g, uint64_t from, numdb_ported_fn fn, void *ctx)
{
	struct walk_ctx w = { g, 0, fn, ctx };
	size_t lo = 0, hi = g->n_ported;
	bool hit;
	int rc;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (g->ported[mid].tn < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	w.next = lo;
	if (g->base && (rc = portstore_walk(g->base, from, walk_base, &w)) != 0)
		return rc;
	return walk_rows(&w, UINT64_MAX, &hit);
}

int numdb_ported_profiles(const struct numdb *g, numdb_ported_fn fn, void *ctx)
{
	struct portstore_info info = { 0 };
	int rc;

	if (g->base)
		portstore_get_info(g->base, &info);
	for (uint32_t i = 0; i < info.profiles; i++)
		if ((rc = fn(ctx, 0, portstore_profile(g->base, i))) != 0)
			return rc;
	for (size_t i = 0; i < g->n_ported; i++)
		if (!g->ported[i].gone && (rc = fn(ctx, 0, &g->ported[i].p)) != 0)
			return rc;
	return 0;
}

void numdb_lrn(const struct numdb *g, uint64_t tn, struct lrn_answer *out)
{
	const struct port_profile *p = numdb_ported(g, tn);
	const struct block_rec *b;
	const struct cocode_info *c;

	memset(out, 0, sizeof(*out));
	if (p != NULL) {
		out->lrn = p->lrn;
		memcpy(out->spid, p->spid, sizeof(out->spid));
		memcpy(out->cnam_dpc, p->cnam_dpc, sizeof(out->cnam_dpc));
		out->ported = true;
		out->source = LRN_FROM_PORT;
		return;
	}
	b = FIND(g->t->blocks, g->t->n_blocks, tn_npanxxx(tn));
	if (b != NULL) {
		out->lrn = b->lrn ? b->lrn : tn;
		memcpy(out->spid, b->spid, sizeof(out->spid));
		out->source = LRN_FROM_BLOCK;
		return;
	}
	out->lrn = tn;
	c = numdb_cocode(g, tn_npanxx(tn));
	if (c != NULL && c->ocn != NULL) {
		snprintf(out->spid, sizeof(out->spid), "%s", c->ocn);
		out->source = LRN_FROM_CODE;
		return;
	}
	out->source = LRN_FROM_NONE;
}

const char *numdb_state(const struct numdb *g, uint64_t tn)
{
	const struct cocode_info *c = numdb_cocode(g, tn_npanxx(tn));
	const struct npa_rec *n = &g->t->npa[tn_npa(tn)];

	if (c && c->state && strlen(c->state) == 2)
		return c->state;
	if (n->present && n->location && strlen(n->location) == 2)
		return n->location;
	return NULL;
}

int numdb_cnam(const struct numdb *g, uint64_t tn, const char **name, bool *restricted)
{
	const struct cnam_rec *r = FIND(g->t->cnam, g->t->n_cnam, tn);

	if (r == NULL)
		return -1;
	*name = r->name;
	*restricted = r->restricted;
	return 0;
}

bool numdb_dnc(const struct numdb *g, uint64_t tn)
{
	return FIND(g->t->dnc, g->t->n_dnc, tn) != NULL;
}

bool numdb_dno(const struct numdb *g, uint64_t tn, struct dno_match *m)
{
	static const uint64_t div[4] = { 10000000, 10000, 1000, 1 };

	/* Longest first: a 10-digit entry says more than its area code's. */
	for (int k = 3; k >= 0; k--) {
		const struct dno_rec *r = FIND(g->t->dno[k], g->t->n_dno[k], tn / div[k]);

		if (r != NULL) {
			snprintf(m->pattern, sizeof(m->pattern), "%0*llu", (int)dno_lengths[k],
				 (unsigned long long)r->prefix);
			m->source = r->source ? r->source : "";
			return true;
		}
	}
	return false;
}

int numdb_ror(const struct numdb *g, uint64_t crn, const char **ror)
{
	const struct ror_rec *r = FIND(g->t->ror, g->t->n_ror, crn);

	if (r == NULL)
		return -1;
	*ror = r->ror;
	return 0;
}

const json_t *numdb_cpr(const struct numdb *g, uint64_t crn)
{
	const struct cpr_rec *r = FIND(g->t->cpr, g->t->n_cpr, crn);

	return r ? r->record : NULL;
}

const struct dnc_count *numdb_dnc_report(const struct numdb *g, size_t *n)
{
	*n = g->t->n_report;
	return g->t->report;
}

void numdb_get_stats(const struct numdb *g, struct numdb_stats *st)
{
	struct portstore_info info = { 0 };

	if (g->base)
		portstore_get_info(g->base, &info);
	st->ported = g->n_ported_total;
	st->ported_overlay = g->n_ported;
	st->ported_bytes = info.file_bytes + g->n_ported * sizeof(*g->ported);
	st->ported_max_version = g->ported_max_version;
	st->ported_built_at = g->base ? info.built_at : 0;
	st->ported_seq = g->ported_seq;
	st->ported_absorbed = g->base ? info.absorbed_seq : 0;
	st->incremental = g->incremental;
	snprintf(st->ported_updated, sizeof(st->ported_updated), "%s", g->ported_updated);
	st->blocks = g->t->n_blocks;
	st->cocodes = g->t->n_cocodes;
	st->npas = g->t->n_npa;
	st->cnam = g->t->n_cnam;
	st->dnc = g->t->n_dnc;
	st->dno = g->t->n_dno[0] + g->t->n_dno[1] + g->t->n_dno[2] + g->t->n_dno[3];
	st->tollfree = g->t->n_ror;
	st->cpr = g->t->n_cpr;
	st->built_at = g->built_at;
}
