/* test_portstore.c - the ported-number generation file, its overlay and folds,
 * checked number by number against a plain reference map. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "numdb/import.h"
#include "numdb/numdb.h"
#include "numdb/portover.h"
#include "numdb/portstore.h"
#include "numdb/store.h"

/* Codes under test: empty, sparse (list), dense (bitmap), full, single number. */
static const unsigned codes[] = { 212555, 212556, 303555, 303556, 720555 };
#define N_CODES (sizeof(codes) / sizeof(codes[0]))
#define N_PROFILES 70000u /* more than 65,536: three-byte profile ids */

/* The reference: profile id + 1 of every number of every code, 0 = not ported. */
struct ref {
	uint32_t pid[N_CODES][10000];
	struct port_profile *prof;
	uint32_t n_prof;
};

struct fx {
	char dir[64], gen[128], db_path[128];
	sqlite3 *db;
	struct ref ref;
};

static uint64_t rnd_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void make_profiles(struct ref *r, uint32_t n)
{
	r->prof = calloc(n, sizeof(*r->prof));
	assert_non_null(r->prof);
	r->n_prof = n;
	for (uint32_t i = 0; i < n; i++) {
		r->prof[i].lrn = 2015550000ull + i;
		snprintf(r->prof[i].spid, sizeof(r->prof[i].spid), "S%03u", i % 1000);
		if (i % 3 == 0)
			snprintf(r->prof[i].cnam_dpc, sizeof(r->prof[i].cnam_dpc), "%03u%03u%03u",
				 1 + i % 255, i / 255 % 256, 7u);
	}
}

/* Fill the reference: code 0 empty, 1 sparse, 2 dense runs, 3 full, 4 one number. */
static void make_numbers(struct ref *r)
{
	memset(r->pid, 0, sizeof(r->pid));
	for (int i = 0; i < 40; i++)
		r->pid[1][rnd() % 10000] = (uint32_t)(rnd() % r->n_prof) + 1;
	for (unsigned line = 0; line < 10000; line++) {
		if ((line / 100) % 3 != 1) /* runs of 100 ported together */
			r->pid[2][line] = (uint32_t)(rnd() % r->n_prof) + 1;
		r->pid[3][line] = (uint32_t)((line * 7u) % r->n_prof) + 1;
	}
	/* every profile used at least once, so ids are what they are */
	for (uint32_t i = 0; i < r->n_prof && i < 10000; i++)
		r->pid[3][i] = i + 1;
	r->pid[4][9999] = r->n_prof;
}

static uint64_t tn_of(size_t c, unsigned line)
{
	return (uint64_t)codes[c] * 10000u + line;
}

static void write_file(const char *path, const struct ref *r)
{
	struct portbuild *b;
	char err[256];

	assert_int_equal(portbuild_begin(path, r->prof, r->n_prof, &b, err, sizeof(err)), 0);
	for (size_t c = 0; c < N_CODES; c++)
		for (unsigned line = 0; line < 10000; line++)
			if (r->pid[c][line])
				assert_int_equal(portbuild_add(b, tn_of(c, line), r->pid[c][line] - 1),
						 0);
	assert_int_equal(portbuild_finish(b, 42, 0, err, sizeof(err)), 0);
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	log_set_level(LOG_ERROR);
	snprintf(f->dir, sizeof(f->dir), "/tmp/ringer_port_XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->gen, sizeof(f->gen), "%s/%s", f->dir, PORTOVER_FILE);
	snprintf(f->db_path, sizeof(f->db_path), "%s/lookup.db", f->dir);
	assert_int_equal(numstore_open(f->db_path, false, &f->db), 0);
	make_profiles(&f->ref, N_PROFILES);
	make_numbers(&f->ref);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	numstore_close(f->db);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->ref.prof);
	free(f);
	return 0;
}

/* Every number of every code answers what the reference says. */
static void check_file(const struct portstore *s, const struct ref *r)
{
	for (size_t c = 0; c < N_CODES; c++)
		for (unsigned line = 0; line < 10000; line++) {
			uint32_t pid = 0xdeadbeef;
			bool hit = portstore_find(s, tn_of(c, line), &pid);

			assert_int_equal(hit, r->pid[c][line] != 0);
			if (hit)
				assert_int_equal(pid, r->pid[c][line] - 1);
		}
}

static void test_portstore__matches_reference(void **state)
{
	struct fx *f = *state;
	struct portstore_info info;
	struct portstore *s;
	char err[256];
	uint64_t n = 0;

	write_file(f->gen, &f->ref);
	assert_int_equal(portstore_open(f->gen, &s, err, sizeof(err)), 0);
	portstore_get_info(s, &info);
	for (size_t c = 0; c < N_CODES; c++)
		for (unsigned line = 0; line < 10000; line++)
			n += f->ref.pid[c][line] != 0;
	assert_int_equal(info.numbers, n);
	assert_int_equal(info.codes, 4);
	assert_int_equal(info.profiles, N_PROFILES);
	assert_int_equal(info.profile_width, 3);
	assert_int_equal(info.max_version, 42);
	check_file(s, &f->ref);
	/* Numbers outside every code, and out of range. */
	assert_false(portstore_find(s, 2125570000, &(uint32_t){ 0 }));
	assert_false(portstore_find(s, 99999999999ull, &(uint32_t){ 0 }));
	assert_int_equal(portstore_profile(s, 69999)->lrn, 2015550000ull + 69999);
	/* Bytes per number: the fixed 4 MB slot table dominates at this size. */
	assert_true(info.file_bytes < 4000000u + 128u + 24u * N_PROFILES + 4u * n + 8000u);
	portstore_unref(s);
}

static void test_portstore__small_profile_table(void **state)
{
	struct fx *f = *state;
	struct portstore_info info;
	struct portstore *s;
	struct ref *r = calloc(1, sizeof(*r));
	char err[256];

	assert_non_null(r);
	make_profiles(r, 300);
	make_numbers(r);
	write_file(f->gen, r);
	assert_int_equal(portstore_open(f->gen, &s, err, sizeof(err)), 0);
	portstore_get_info(s, &info);
	assert_int_equal(info.profile_width, 2);
	check_file(s, r);
	portstore_unref(s);
	free(r->prof);
	free(r);
}

struct walked {
	uint64_t n, last;
	bool ordered;
};

static int count_walk(void *ctx, uint64_t tn, uint32_t pid)
{
	struct walked *w = ctx;

	w->ordered = w->ordered && (w->n == 0 || tn > w->last);
	w->last = tn;
	w->n++;
	return 0;
}

static void test_portstore__walk(void **state)
{
	struct fx *f = *state;
	struct walked w = { 0, 0, true };
	struct portstore *s;
	char err[256];
	uint64_t want = 0;

	write_file(f->gen, &f->ref);
	assert_int_equal(portstore_open(f->gen, &s, err, sizeof(err)), 0);
	for (unsigned line = 5000; line < 10000; line++)
		want += f->ref.pid[3][line] != 0;
	want += 1; /* 720555 9999 */
	assert_int_equal(portstore_walk(s, tn_of(3, 5000), count_walk, &w), 0);
	assert_int_equal(w.n, want);
	assert_true(w.ordered);
	assert_int_equal(w.last, tn_of(4, 9999));
	portstore_unref(s);
}

static void expect_refused(const char *path, const char *why)
{
	struct portstore *s = NULL;
	char err[256] = "";

	assert_int_equal(portstore_open(path, &s, err, sizeof(err)), -1);
	assert_null(s);
	if (strstr(err, why) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, why);
}

static void rewrite_byte(const char *path, long off, int delta)
{
	FILE *fp = fopen(path, "r+b");
	int c;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	c = fgetc(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	fputc((c + delta) & 0xff, fp);
	assert_int_equal(fclose(fp), 0);
}

static void test_portstore__corrupt_refused(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char path[160];
	FILE *fp;

	write_file(f->gen, &f->ref);
	assert_int_equal(stat(f->gen, &st), 0);
	/* A flipped byte in the body, in the header, the magic. */
	rewrite_byte(f->gen, st.st_size - 3, 1);
	expect_refused(f->gen, "body checksum");
	rewrite_byte(f->gen, st.st_size - 3, -1);
	rewrite_byte(f->gen, 20, 1);
	expect_refused(f->gen, "header checksum");
	rewrite_byte(f->gen, 20, -1);
	rewrite_byte(f->gen, 0, 1);
	expect_refused(f->gen, "magic");
	rewrite_byte(f->gen, 0, -1);
	/* Truncated, then shorter than a header, then empty, then missing. */
	assert_int_equal(truncate(f->gen, st.st_size - 8), 0);
	expect_refused(f->gen, "truncated");
	assert_int_equal(truncate(f->gen, 100), 0);
	expect_refused(f->gen, "shorter than a header");
	assert_int_equal(truncate(f->gen, 0), 0);
	expect_refused(f->gen, "shorter than a header");
	snprintf(path, sizeof(path), "%s/none.gen", f->dir);
	expect_refused(path, "cannot open");
	/* Not a generation file at all. */
	fp = fopen(path, "wb");
	assert_non_null(fp);
	for (int i = 0; i < 4096; i++)
		fputc(i * 31, fp);
	fclose(fp);
	expect_refused(path, "magic");
}

static void test_portstore__kill_during_build(void **state)
{
	struct fx *f = *state;
	struct portstore *s;
	char err[256], tmp[160];
	struct stat st;
	pid_t child;
	int status;

	write_file(f->gen, &f->ref);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->gen);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct portbuild *b;
		struct port_profile p = { .lrn = 3035550000ull, .spid = "KILL" };

		if (portbuild_begin(f->gen, &p, 1, &b, err, sizeof(err)) != 0)
			_exit(3);
		/* Half a file, then wait to be killed before finishing. */
		for (uint64_t tn = 2012000000ull; tn < 2013000000ull; tn++)
			if (portbuild_add(b, tn, 0) != 0)
				_exit(4);
		for (;;)
			pause();
	}
	for (int i = 0; i < 3000 && (stat(tmp, &st) != 0 || st.st_size < 1000000); i++)
		usleep(10000);
	usleep(50000);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	/* The live file is the old one, whole; the half build is not mistaken for it. */
	assert_int_equal(portstore_open(f->gen, &s, err, sizeof(err)), 0);
	check_file(s, &f->ref);
	portstore_unref(s);
	expect_refused(tmp, "");
	/* The next build replaces the leftover. */
	write_file(f->gen, &f->ref);
	assert_int_equal(portstore_open(f->gen, &s, err, sizeof(err)), 0);
	portstore_unref(s);
	assert_int_not_equal(access(tmp, F_OK), 0);
}

/* ---- through numdb: refresh, updates, deletes, fold ---- */

static void check_numdb(struct fx *f, const struct ref *r)
{
	struct numdb *g = NULL;

	assert_int_equal(numdb_build(f->db, &g), 0);
	for (size_t c = 0; c < N_CODES; c++)
		for (unsigned line = 0; line < 10000; line++) {
			struct lrn_answer a;
			uint32_t want = r->pid[c][line];

			numdb_lrn(g, tn_of(c, line), &a);
			assert_int_equal(a.ported, want != 0);
			if (want == 0) {
				assert_int_equal(a.lrn, tn_of(c, line));
				continue;
			}
			assert_int_equal(a.lrn, r->prof[want - 1].lrn);
			assert_string_equal(a.spid, r->prof[want - 1].spid);
			assert_string_equal(a.cnam_dpc, r->prof[want - 1].cnam_dpc);
		}
	numdb_free(g);
}

/* An LSMS BDD line (18 fields) for tn with profile p (new), or a deletion when p is NULL. */
static void bdd_line(FILE *fp, int64_t version, uint64_t tn, const struct port_profile *p)
{
	char f[18][24];

	memset(f, 0, sizeof(f));
	snprintf(f[0], sizeof(f[0]), "%lld", (long long)version);
	snprintf(f[1], sizeof(f[1]), "%llu", (unsigned long long)tn);
	snprintf(f[17], sizeof(f[17]), "%s", p ? "0" : "1");
	if (p) {
		snprintf(f[2], sizeof(f[2]), "%llu", (unsigned long long)p->lrn);
		snprintf(f[3], sizeof(f[3]), "%s", p->spid);
		snprintf(f[4], sizeof(f[4]), "20240101120000");
		snprintf(f[11], sizeof(f[11]), "%s", p->cnam_dpc);
		snprintf(f[12], sizeof(f[12]), "%s", p->cnam_dpc[0] ? "0" : "");
		snprintf(f[16], sizeof(f[16]), "0");
	}
	for (int i = 0; i < 18; i++)
		fprintf(fp, "%s%s", f[i], i < 17 ? "|" : "\r");
}

static void write_bdd(const char *path, const struct ref *r)
{
	FILE *fp = fopen(path, "wb");
	int64_t v = 1;

	assert_non_null(fp);
	for (size_t c = 0; c < N_CODES; c++)
		for (unsigned line = 0; line < 10000; line++)
			if (r->pid[c][line])
				bdd_line(fp, v++, tn_of(c, line), &r->prof[r->pid[c][line] - 1]);
	assert_int_equal(fclose(fp), 0);
}

static int64_t q_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void change(struct fx *f, struct ref *r, size_t c, unsigned line, uint32_t pid,
		   int64_t version, int want)
{
	struct port_change ch = { .tn = tn_of(c, line), .version = version, .deleted = pid == 0 };

	if (pid) {
		ch.lrn = r->prof[pid - 1].lrn;
		memcpy(ch.spid, r->prof[pid - 1].spid, 5);
		memcpy(ch.cnam_dpc, r->prof[pid - 1].cnam_dpc, 10);
	}
	assert_int_equal(portover_apply(f->db, &ch), want);
	if (want == 1)
		r->pid[c][line] = pid;
}

static void test_portstore__refresh_update_fold(void **state)
{
	struct fx *f = *state;
	struct import_opts opts;
	struct import_result res;
	struct numdb_stats st;
	struct numdb *g;
	char bdd[160];
	long folded = -1;
	uint64_t total = 0;

	import_opts_default(&opts);
	snprintf(bdd, sizeof(bdd), "%s/full.bdd", f->dir);
	write_bdd(bdd, &f->ref);
	assert_int_equal(portover_refresh(f->db, bdd, &opts, &res), 0);
	assert_true(res.committed);
	assert_int_equal(res.rejected, 0);
	check_numdb(f, &f->ref);
	/* Updates: a new number, a modified one, a deleted one from the file, a
	 * stale change, a delete and a newer re-add, a delete of a number never ported. */
	change(f, &f->ref, 0, 17, 5, 1000000, 1);
	change(f, &f->ref, 3, 10, 6, 1000001, 1);
	change(f, &f->ref, 2, 0, 0, 1000002, 1);
	change(f, &f->ref, 3, 10, 7, 5, 0);
	change(f, &f->ref, 3, 11, 0, 1000003, 1);
	change(f, &f->ref, 3, 11, 8, 1000004, 1);
	change(f, &f->ref, 1, 1, 0, 1000005, 1);
	change(f, &f->ref, 3, 10, 6, 1000001, 0); /* replayed: nothing changes */
	check_numdb(f, &f->ref);
	assert_int_equal(q_int(f->db, "SELECT max_version FROM ported_state"), 1000005);
	/* Fold: the next file holds it all and the overlay is empty. */
	assert_int_equal(portover_fold(f->db, &folded), 0);
	assert_true(folded >= 5);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ported"), 0);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ported_gone"), 0);
	check_numdb(f, &f->ref);
	assert_int_equal(numdb_build(f->db, &g), 0);
	numdb_get_stats(g, &st);
	for (size_t c = 0; c < N_CODES; c++)
		for (unsigned line = 0; line < 10000; line++)
			total += f->ref.pid[c][line] != 0;
	assert_int_equal(st.ported, total);
	assert_int_equal(st.ported_overlay, 0);
	assert_int_equal(st.ported_max_version, 1000005);
	numdb_free(g);
	/* After the fold, changes go on top of the new file. */
	change(f, &f->ref, 4, 9999, 0, 2000000, 1);
	check_numdb(f, &f->ref);
}

static void test_portstore__replay_update_file(void **state)
{
	struct fx *f = *state;
	struct import_opts opts;
	struct import_result res;
	char path[160];
	FILE *fp;

	import_opts_default(&opts);
	write_file(f->gen, &f->ref);
	snprintf(path, sizeof(path), "%s/update.bdd", f->dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	bdd_line(fp, 500, tn_of(0, 1), &f->ref.prof[9]);
	bdd_line(fp, 501, tn_of(3, 0), NULL);
	bdd_line(fp, 502, tn_of(3, 1), &f->ref.prof[11]);
	assert_int_equal(fclose(fp), 0);
	f->ref.pid[0][1] = 10;
	f->ref.pid[3][0] = 0;
	f->ref.pid[3][1] = 12;
	assert_int_equal(import_file(f->db, IMPORT_PORTED, path, &opts, &res), 0);
	assert_int_equal(res.accepted, 3);
	assert_true(res.changed >= 3);
	check_numdb(f, &f->ref);
	/* The same file again: accepted, nothing written, the same answers. */
	assert_int_equal(import_file(f->db, IMPORT_PORTED, path, &opts, &res), 0);
	assert_int_equal(res.accepted, 3);
	assert_int_equal(res.changed, 0);
	check_numdb(f, &f->ref);
}

static void test_portstore__numdb_refuses_corrupt(void **state)
{
	struct fx *f = *state;
	struct numdb *g = NULL;
	struct stat st;

	write_file(f->gen, &f->ref);
	assert_int_equal(stat(f->gen, &st), 0);
	rewrite_byte(f->gen, st.st_size / 2, 1);
	assert_int_equal(numdb_build(f->db, &g), -1);
	assert_null(g);
}

static void test_portstore__refresh_rejects_bad_file(void **state)
{
	struct fx *f = *state;
	struct import_opts opts;
	struct import_result res;
	char path[160];
	FILE *fp;
	struct stat before, after;

	import_opts_default(&opts);
	opts.report = fopen("/dev/null", "w");
	write_file(f->gen, &f->ref);
	assert_int_equal(stat(f->gen, &before), 0);
	snprintf(path, sizeof(path), "%s/bad.bdd", f->dir);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	for (int i = 0; i < 10; i++)
		fprintf(fp, "%d|notanumber|x|y\r", i);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(portover_refresh(f->db, path, &opts, &res), -1);
	assert_int_equal(res.rejected, 10);
	assert_false(res.committed);
	assert_int_equal(stat(f->gen, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	fclose(opts.report);
}

/* An update file of three lines over the reference, applied to it. */
static void write_updates(struct fx *f, const char *path, int64_t v0)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	bdd_line(fp, v0, tn_of(0, 1), &f->ref.prof[9]);
	bdd_line(fp, v0 + 1, tn_of(3, 0), NULL);
	bdd_line(fp, v0 + 2, tn_of(3, 1), &f->ref.prof[11]);
	assert_int_equal(fclose(fp), 0);
	f->ref.pid[0][1] = 10;
	f->ref.pid[3][0] = 0;
	f->ref.pid[3][1] = 12;
}

static void test_portstore__replay_after_fold(void **state)
{
	struct fx *f = *state;
	struct import_opts opts;
	struct import_result res;
	char path[160];
	long folded = 0;

	import_opts_default(&opts);
	write_file(f->gen, &f->ref);
	snprintf(path, sizeof(path), "%s/update.bdd", f->dir);
	write_updates(f, path, 500);
	assert_int_equal(import_file(f->db, IMPORT_PORTED, path, &opts, &res), 0);
	assert_int_equal(res.changed, 3); /* put, tombstone, put */
	assert_int_equal(portover_fold(f->db, &folded), 0);
	assert_int_equal(folded, 3);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ported"), 0);
	check_numdb(f, &f->ref);
	/* The same file after the fold: accepted, nothing written, same answers. */
	assert_int_equal(import_file(f->db, IMPORT_PORTED, path, &opts, &res), 0);
	assert_int_equal(res.accepted, 3);
	assert_int_equal(res.changed, 0);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ported"), 0);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ported_gone"), 0);
	check_numdb(f, &f->ref);
	/* Stale single changes after the fold: a put and a delete below the
	 * folded versions are ignored, also for numbers the fold did not touch. */
	change(f, &f->ref, 0, 1, 3, 499, 0);
	change(f, &f->ref, 3, 1, 0, 501, 0);
	change(f, &f->ref, 3, 0, 4, 502, 0);
	change(f, &f->ref, 1, 2, 5, 100, 0);
	check_numdb(f, &f->ref);
	/* A newer one still applies, and a stale one for that number stays out. */
	change(f, &f->ref, 0, 1, 3, 503, 1);
	change(f, &f->ref, 0, 1, 4, 502, 0);
	check_numdb(f, &f->ref);
	assert_int_equal(q_int(f->db, "SELECT max_version FROM ported_state"), 503);
}

static void test_portstore__watermark_from_header(void **state)
{
	struct fx *f = *state;

	/* A file whose bookkeeping never reached lookup.db (a crash between the
	 * rename and the cleanup): its header's max_version still guards it. */
	write_file(f->gen, &f->ref); /* max_version 42 */
	assert_int_equal(q_int(f->db, "SELECT max_version FROM ported_state"), 0);
	change(f, &f->ref, 2, 5, 0, 42, 0);
	change(f, &f->ref, 0, 5, 2, 41, 0);
	change(f, &f->ref, 2, 5, 0, 43, 1);
	check_numdb(f, &f->ref);
}

static void test_portstore__apply_batch(void **state)
{
	struct fx *f = *state;
	struct port_change ch[600];
	long changed = -1;

	write_file(f->gen, &f->ref);
	memset(ch, 0, sizeof(ch));
	for (unsigned i = 0; i < 600; i++) {
		uint32_t pid = i % 3 == 0 ? 0 : 1 + (i * 13) % N_PROFILES;

		ch[i].tn = tn_of(i % N_CODES, i * 7);
		ch[i].version = 1000 + i;
		ch[i].deleted = pid == 0;
		if (pid) {
			ch[i].lrn = f->ref.prof[pid - 1].lrn;
			memcpy(ch[i].spid, f->ref.prof[pid - 1].spid, 5);
			memcpy(ch[i].cnam_dpc, f->ref.prof[pid - 1].cnam_dpc, 10);
		}
	}
	/* One bad change (a 3-letter SPID): the whole batch is refused. */
	snprintf(ch[599].spid, sizeof(ch[599].spid), "ABC");
	assert_int_equal(portover_apply_batch(f->db, ch, 600, &changed), -1);
	assert_int_equal(changed, -1);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ported"), 0);
	assert_int_equal(q_int(f->db, "SELECT max_version FROM ported_state"), 0);
	assert_int_equal(portover_apply_batch(f->db, ch, 599, &changed), 0);
	for (unsigned i = 0; i < 599; i++)
		f->ref.pid[i % N_CODES][i * 7] = ch[i].deleted ? 0 :
			1 + (i * 13) % N_PROFILES;
	/* Deletes of numbers that are not ported still leave a tombstone. */
	assert_int_equal(changed, 599);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ported"), 399);
	check_numdb(f, &f->ref);
	assert_int_equal(portover_apply_batch(f->db, ch, 599, &changed), 0);
	assert_int_equal(changed, 0);
}

/* Every number of every code, g against the reference. */
static void check_gen(const struct numdb *g, const struct ref *r)
{
	struct numdb_stats st;
	size_t total = 0;

	for (size_t c = 0; c < N_CODES; c++)
		for (unsigned line = 0; line < 10000; line++) {
			const struct port_profile *p = numdb_ported(g, tn_of(c, line));
			uint32_t want = r->pid[c][line];

			total += want != 0;
			assert_int_equal(p != NULL, want != 0);
			if (p)
				assert_int_equal(p->lrn, r->prof[want - 1].lrn);
		}
	numdb_get_stats(g, &st);
	assert_int_equal(st.ported, total);
}

static void test_portstore__incremental_reload(void **state)
{
	struct fx *f = *state;
	struct numdb *g0, *g1, *g2, *g3, *g4;
	struct numdb_stats st;
	long folded;

	write_file(f->gen, &f->ref);
	change(f, &f->ref, 0, 3, 7, 100, 1);
	assert_int_equal(numdb_build(f->db, &g0), 0);
	/* Only ported changes: the next generation is g0 plus the delta. */
	change(f, &f->ref, 0, 4, 8, 101, 1);
	change(f, &f->ref, 0, 3, 9, 102, 1);
	change(f, &f->ref, 3, 3, 0, 103, 1);
	assert_int_equal(numdb_update(f->db, g0, &g1), 0);
	numdb_get_stats(g1, &st);
	assert_true(st.incremental);
	assert_int_equal(st.ported_overlay, 3); /* (0,3) replaced, (0,4), (3,3) */
	check_gen(g1, &f->ref);
	/* g0 still answers what it did: readers of it are unaffected. */
	assert_int_equal(numdb_ported(g0, tn_of(0, 3))->lrn, f->ref.prof[6].lrn);
	assert_null(numdb_ported(g0, tn_of(0, 4)));
	/* Back again: a put over a tombstone, from the delta too. */
	change(f, &f->ref, 3, 3, 5, 104, 1);
	assert_int_equal(numdb_update(f->db, g1, &g2), 0);
	check_gen(g2, &f->ref);
	/* A fold changes the file: the overlay is loaded whole, the tables shared. */
	assert_int_equal(portover_fold(f->db, &folded), 0);
	assert_int_equal(numdb_update(f->db, g2, &g3), 0);
	numdb_get_stats(g3, &st);
	assert_false(st.incremental);
	assert_int_equal(st.ported_overlay, 0);
	check_gen(g3, &f->ref);
	/* Another table's import reloads the tables. */
	assert_int_equal(sqlite3_exec(f->db, "INSERT INTO cocode (npanxx, ocn, status) VALUES "
				      "(212555, 'OC12', 'assigned'); INSERT INTO import_log "
				      "(kind, file, started, finished, lines, accepted, rejected,"
				      " outcome) VALUES ('cocode', 'x', '', '', 1, 1, 0, "
				      "'committed')", NULL, NULL, NULL), SQLITE_OK);
	assert_null(numdb_cocode(g3, 212555));
	assert_int_equal(numdb_update(f->db, g3, &g4), 0);
	assert_non_null(numdb_cocode(g4, 212555));
	assert_string_equal(numdb_cocode(g4, 212555)->ocn, "OC12");
	check_gen(g4, &f->ref);
	numdb_free(g0);
	numdb_free(g1);
	numdb_free(g2);
	numdb_free(g3);
	numdb_free(g4);
}

static void test_portstore__background_fold(void **state)
{
	struct fx *f = *state;

	write_file(f->gen, &f->ref);
	change(f, &f->ref, 1, 9, 2, 100, 1);
	change(f, &f->ref, 2, 0, 0, 101, 1);
	assert_int_equal(portover_fold_start(f->db_path), 1);
	portover_fold_wait();
	assert_false(portover_fold_running());
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ported"), 0);
	assert_int_equal(q_int(f->db, "SELECT count(*) FROM ported_gone"), 0);
	check_numdb(f, &f->ref);
}

/* A bigger file, so that a fold takes long enough to be killed in the middle. */
static void write_big(const char *path, const struct ref *r)
{
	struct portbuild *b;
	char err[256];

	assert_int_equal(portbuild_begin(path, r->prof, r->n_prof, &b, err, sizeof(err)), 0);
	for (size_t c = 0; c < N_CODES; c++)
		for (unsigned line = 0; line < 10000; line++)
			if (r->pid[c][line])
				assert_int_equal(portbuild_add(b, tn_of(c, line), r->pid[c][line] - 1),
						 0);
	for (uint64_t tn = 8012000000ull; tn < 8014000000ull; tn += 3)
		assert_int_equal(portbuild_add(b, tn, (uint32_t)(tn % r->n_prof)), 0);
	assert_int_equal(portbuild_finish(b, 42, 0, err, sizeof(err)), 0);
}

static void test_portstore__kill_during_fold(void **state)
{
	struct fx *f = *state;
	char tmp[160];
	struct stat st;
	pid_t child;
	long folded;
	int status;

	write_big(f->gen, &f->ref);
	change(f, &f->ref, 0, 8, 3, 100, 1);
	change(f, &f->ref, 3, 8, 0, 101, 1);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->gen);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		sqlite3 *db;

		if (numstore_open(f->db_path, false, &db) != 0)
			_exit(3);
		for (;;)
			portover_fold(db, &folded);
	}
	for (int i = 0; i < 3000 && (stat(tmp, &st) != 0 || st.st_size < 4000000); i++)
		usleep(1000);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	/* Whichever fold was cut short, the serving view is whole. */
	check_numdb(f, &f->ref);
	assert_int_equal(portover_fold(f->db, &folded), 0);
	check_numdb(f, &f->ref);
	assert_int_not_equal(access(tmp, F_OK), 0);
}

static void test_portstore__refresh_from_stdin(void **state)
{
	struct fx *f = *state;
	char bdd[160];
	pid_t child;
	int status;

	snprintf(bdd, sizeof(bdd), "%s/full.bdd", f->dir);
	write_bdd(bdd, &f->ref);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct import_result res;
		sqlite3 *db;

		if (freopen(bdd, "rb", stdin) == NULL ||
		    numstore_open(f->db_path, false, &db) != 0)
			_exit(3);
		_exit(portover_refresh(db, "-", NULL, &res) == 0 && res.rejected == 0 ? 0 : 4);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	check_numdb(f, &f->ref);
}

int main(void)
{
#define T(n) cmocka_unit_test_setup_teardown(test_portstore__##n, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(matches_reference), T(small_profile_table), T(walk), T(corrupt_refused),
		T(kill_during_build), T(refresh_update_fold), T(replay_update_file),
		T(numdb_refuses_corrupt), T(refresh_rejects_bad_file), T(replay_after_fold),
		T(watermark_from_header), T(apply_batch), T(incremental_reload),
		T(background_fold), T(kill_during_fold), T(refresh_from_stdin),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
