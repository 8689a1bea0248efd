/* test_demo.c - ringer demo-data: sizes, fixed rows, determinism and a clean import. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "cmd/demo.h"
#include "numdb/import.h"
#include "numdb/numdb.h"
#include "numdb/store.h"
#include "telique/cpr.h"

#define SEED 42

/* Records drawn from SEED: the first random SV, CNAM row and RespOrg row. */
#define SEED_PORTED_LINE                                                                   \
	"10000040|3064023480|3062050000|DEM6|20190112010900|026001010|000|026002010|000|"  \
	"026003010|000|026004010|000||||0|new"
#define SEED_CNAM_LINE "6133031142,REID ROBERT,allowed"
#define SEED_ROR_LINE "8882677675,TFN01,working"

static const char *const all_files[] = {
	"npa_report.csv", "cocodes.csv", "blocks.csv", "blocks.bdd", "ported.bdd", "cnam.csv",
	"dnc.txt", "dnc-npa.csv", "dno.csv", "ror.csv", "cpr.json",
};

#define N_FILES (sizeof(all_files) / sizeof(all_files[0]))

/* The fixed SV of the README, exactly as ported.bdd carries it. */
static const char sv_fixed[] =
	"10000005|2042221234|4162500000|DEM1|20190107150000|021001010|000|021002010|000|"
	"021003010|000|021004010|000||||0|new";

/* ---------------------------------------------------------------- helpers */

/* Remove a flat directory and everything in it. */
static void rm_dir(const char *dir)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static char *new_tmpdir(void)
{
	char *dir = strdup("/tmp/ringer-demo-XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

/* A fresh directory of demo files. */
static char *generate(int with_codes, unsigned seed)
{
	char *dir = new_tmpdir();

	assert_int_equal(demo_generate(dir, with_codes, seed), 0);
	return dir;
}

static char *slurp_path(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return slurp_path(path, len);
}

static bool file_exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static size_t count_byte(const char *buf, size_t len, char c)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += buf[i] == c;
	return n;
}

/* True if rec is a whole record of buf (records end in term). */
static bool has_record(const char *buf, const char *rec, char term)
{
	size_t n = strlen(rec);

	for (const char *p = strstr(buf, rec); p != NULL; p = strstr(p + 1, rec))
		if ((p == buf || p[-1] == term) && p[n] == term)
			return true;
	return false;
}

/* name holds want records, each ended by term, and nothing after the last. */
static void assert_records(const char *dir, const char *name, char term, size_t want)
{
	size_t len;
	char *buf = slurp(dir, name, &len);
	size_t n = count_byte(buf, len, term);
	bool ended = len > 0 && buf[len - 1] == term;

	free(buf);
	assert_int_equal(n, want);
	assert_true(ended);
}

static void assert_has(const char *dir, const char *name, const char *rec, char term)
{
	size_t len;
	char *buf = slurp(dir, name, &len);

	if (!has_record(buf, rec, term))
		fail_msg("%s has no record \"%s\"", name, rec);
	free(buf);
}

static bool same_file(const char *a, const char *b, const char *name)
{
	size_t la, lb;
	char *x = slurp(a, name, &la), *y = slurp(b, name, &lb);
	bool same = la == lb && memcmp(x, y, la) == 0;

	free(x);
	free(y);
	return same;
}

/* -------------------------------------------------------------- group */

static int group_setup(void **state)
{
	char *dir = new_tmpdir();

	if (demo_generate(dir, 1, SEED) != 0) {
		rm_dir(dir);
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int group_teardown(void **state)
{
	rm_dir(*state);
	free(*state);
	return 0;
}

/* ------------------------------------------------------------------ tests */

static void test_record_counts(void **state)
{
	const char *dir = *state;
	size_t len, lf, cr;
	char *buf = slurp(dir, "ported.bdd", &len), path[512];
	json_t *cpr;

	/* BDD records end in CR alone, as NPAC writes them; the CNA file in CRLF. */
	lf = count_byte(buf, len, '\n');
	free(buf);
	assert_int_equal(lf, 0);
	buf = slurp(dir, "cocodes.csv", &len);
	cr = count_byte(buf, len, '\r');
	free(buf);
	assert_int_equal(cr, 2 + 52);
	assert_records(dir, "ported.bdd", '\r', 2012);
	assert_records(dir, "blocks.bdd", '\r', 30);
	assert_records(dir, "blocks.csv", '\n', 1 + 58);
	assert_records(dir, "cnam.csv", '\n', 1 + 1500);
	assert_records(dir, "dnc.txt", '\n', 3000);
	assert_records(dir, "dnc-npa.csv", '\n', 500);
	assert_records(dir, "dno.csv", '\n', 1 + 50);
	assert_records(dir, "ror.csv", '\n', 1 + 200);
	assert_records(dir, "npa_report.csv", '\n', 2 + 17);
	assert_records(dir, "cocodes.csv", '\n', 2 + 52);
	snprintf(path, sizeof(path), "%s/cpr.json", dir);
	cpr = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	assert_true(json_is_array(cpr));
	assert_int_equal(json_array_size(cpr), 50);
	json_decref(cpr);
}

static void test_fixed_rows(void **state)
{
	const char *dir = *state;

	assert_has(dir, "ported.bdd", sv_fixed, '\r');
	assert_has(dir, "ported.bdd",
		   "10000006|2042221235|4162500000|DEM1|20190107150000|021001010|000|"
		   "021002010|000|021003010|000|021004010|000||||0|deleted", '\r');
	assert_has(dir, "blocks.bdd",
		   "400001|2042234|2042230000|DEM2|20200316050000|022001010|000|022002010|"
		   "000|||022004010|000||", '\r');
	assert_has(dir, "blocks.csv",
		   "Western,MB,204,223,4,AS,MTS Inc.,N,0,Winnipeg,03/16/2020,02/03/2020,"
		   "Demo Wireless Inc.,DEM2,03/02/2020", '\n');
	assert_has(dir, "cnam.csv", "2042221234,ACME CORP,allowed", '\n');
	assert_has(dir, "cnam.csv", "2042225555,TREMBLAY MARIE,restricted", '\n');
	assert_has(dir, "dnc.txt", "2042221234", '\n');
	assert_has(dir, "dno.csv", "8005550100,subscriber-request", '\n');
	assert_has(dir, "dno.csv", "204555,unallocated", '\n');
	assert_has(dir, "ror.csv", "8005551234,NEX99,working", '\n');
	assert_has(dir, "npa_report.csv", "File Date,01/06/2025", '\n');
	assert_has(dir, "cocodes.csv",
		   "204,200,\"In Service\",\"Winnipeg\",\"MB\",\"ISP Telecom Inc.\",\"4727\",\r",
		   '\n');
	assert_has(dir, "cocodes.csv", "204,223,\"In Service\",\"Winnipeg\",\"MB\",\"MTS Inc.\","
		   "\"991B\",\r", '\n');
}

/* Rows that depend on the seed: a change here changes every demo set. */
static void test_seed_rows(void **state)
{
	const char *dir = *state;
	size_t len;
	char *buf = slurp(dir, "ported.bdd", &len);

	/* The fixed run of ten, then the first drawn SV. */
	assert_non_null(strstr(buf, "10000010|2042221239|"));
	assert_null(strstr(buf, "|2042229999|"));
	free(buf);
	assert_has(dir, "ported.bdd", SEED_PORTED_LINE, '\r');
	assert_has(dir, "cnam.csv", SEED_CNAM_LINE, '\n');
	assert_has(dir, "ror.csv", SEED_ROR_LINE, '\n');
}

static void test_same_seed_same_bytes(void **state)
{
	char *again = generate(1, SEED), *other = generate(1, SEED + 1);

	for (size_t i = 0; i < N_FILES; i++)
		if (!same_file(*state, again, all_files[i]))
			fail_msg("%s differs between two runs with one seed", all_files[i]);
	assert_false(same_file(*state, other, "ported.bdd"));
	assert_false(same_file(*state, other, "cnam.csv"));
	assert_false(same_file(*state, other, "cpr.json"));
	/* The README's rows do not depend on the seed. */
	assert_has(other, "ported.bdd", sv_fixed, '\r');
	assert_has(other, "ror.csv", "8005551234,NEX99,working", '\n');
	rm_dir(again);
	rm_dir(other);
	free(again);
	free(other);
}

static void test_without_codes(void **state)
{
	char *dir = generate(0, SEED);

	assert_false(file_exists(dir, "npa_report.csv"));
	assert_false(file_exists(dir, "cocodes.csv"));
	/* Same numbers either way: the fixed rows work in both modes. */
	for (size_t i = 2; i < N_FILES; i++)
		if (!same_file(*state, dir, all_files[i]))
			fail_msg("%s differs with and without codes", all_files[i]);
	rm_dir(dir);
	free(dir);
}

/* Collect the decision types of a node tree into seen (a JSON object). */
static void collect_types(json_t *node, json_t *seen)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(node)) {
		if (json_is_string(json_object_get(node, "decision")))
			json_object_set_new(seen, json_string_value(json_object_get(node,
					    "decision")), json_true());
		json_object_foreach(node, key, v)
			collect_types(v, seen);
	} else if (json_is_array(node)) {
		json_array_foreach(node, i, v)
			collect_types(v, seen);
	}
}

static const char *eval_cic(const json_t *rec, uint64_t ani, unsigned lata, char *cic)
{
	struct cpr_call call = { ani, lata, "MB", 0, 10 };
	struct cpr_result res;

	clock_parse_rfc3339("2026-03-10T15:00:00Z", &call.now);
	assert_int_equal(cpr_eval(rec, &call, &res), 0);
	json_decref(res.ir);
	memcpy(cic, res.cic, 5);
	return cic;
}

static void test_cpr_records(void **state)
{
	static const char *const types[] = { "lata", "npa", "state", "time", "dow", "percent" };
	char path[512], err[200], cic[5];
	json_t *all, *rec, *seen = json_object();
	size_t i;

	snprintf(path, sizeof(path), "%s/cpr.json", (const char *)*state);
	all = json_load_file(path, 0, NULL);
	assert_non_null(all);
	json_array_foreach(all, i, rec) {
		if (cpr_validate(rec, err, sizeof(err)) != 0)
			fail_msg("record %zu: %s", i, err);
		collect_types(rec, seen);
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (json_object_get(seen, types[i]) == NULL)
			fail_msg("no %s decision in cpr.json", types[i]);
	rec = json_array_get(all, 0);
	assert_string_equal(json_string_value(json_object_get(rec, "crn")), "8005551234");
	assert_string_equal(eval_cic(rec, 2045551234, 656, cic), "0288");
	assert_string_equal(eval_cic(rec, 2045551234, 100, cic), "0222");
	assert_string_equal(eval_cic(rec, 4165551234, 100, cic), "0333");
	json_decref(seen);
	json_decref(all);
}

/* Every embedded code is a line of the real CNA file, when it is at hand. */
static void test_codes_are_real(void **state)
{
	const char *shared = getenv("RINGER_SHARED_DIR");
	char path[512], *mine, *line, *save = NULL;
	size_t len, rlen;
	char *real;

	snprintf(path, sizeof(path), "%s/data/nanp/ca-cocode-status.csv",
		 shared ? shared : "../shared");
	if (access(path, R_OK) != 0)
		skip();
	real = slurp_path(path, &rlen);
	mine = slurp(*state, "cocodes.csv", &len);
	strtok_r(mine, "\n", &save);
	strtok_r(NULL, "\n", &save); /* header and date row */
	/* Both files end lines in CRLF; each line keeps its CR here. */
	while ((line = strtok_r(NULL, "\n", &save)) != NULL)
		if (!has_record(real, line, '\n'))
			fail_msg("not in the CNA file: %s", line);
	free(mine);
	free(real);
}

static void import_ok(sqlite3 *db, enum import_kind kind, const char *dir, const char *name,
		      long want)
{
	struct import_result res;
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(import_file(db, kind, path, NULL, &res), 0);
	assert_true(res.committed);
	assert_int_equal(res.rejected, 0);
	assert_int_equal(res.accepted, want);
}

static void import_all(sqlite3 *db, const char *dir)
{
	import_ok(db, IMPORT_NPA, dir, "npa_report.csv", 17);
	import_ok(db, IMPORT_COCODE, dir, "cocodes.csv", 52);
	import_ok(db, IMPORT_BLOCKS, dir, "blocks.csv", 58);
	import_ok(db, IMPORT_BLOCKS, dir, "blocks.bdd", 30);
	import_ok(db, IMPORT_PORTED, dir, "ported.bdd", 2012);
	import_ok(db, IMPORT_CNAM, dir, "cnam.csv", 1500);
	import_ok(db, IMPORT_DNC, dir, "dnc.txt", 3000);
	import_ok(db, IMPORT_DNC, dir, "dnc-npa.csv", 500);
	import_ok(db, IMPORT_DNO, dir, "dno.csv", 50);
	import_ok(db, IMPORT_ROR, dir, "ror.csv", 200);
	import_ok(db, IMPORT_CPR, dir, "cpr.json", 50);
}

static void assert_lrn(const struct numdb *g, uint64_t tn, uint64_t lrn, const char *spid,
		       enum lrn_source source)
{
	struct lrn_answer a;

	numdb_lrn(g, tn, &a);
	assert_int_equal(a.lrn, lrn);
	assert_string_equal(a.spid, spid);
	assert_int_equal(a.source, source);
	assert_int_equal(a.ported, source == LRN_FROM_PORT);
}

/* The answers the README promises, from a store loaded with the demo files. */
static void assert_answers(const struct numdb *g)
{
	struct dno_match m;
	const char *s;
	bool restricted;

	assert_lrn(g, 2042221234, 4162500000, "DEM1", LRN_FROM_PORT);
	assert_lrn(g, 2042221235, 2042221235, "8088", LRN_FROM_CODE); /* snapback */
	assert_lrn(g, 2042229999, 2042229999, "8088", LRN_FROM_CODE);
	assert_lrn(g, 2042234567, 2042230000, "DEM2", LRN_FROM_BLOCK);
	assert_int_equal(numdb_cnam(g, 2042221234, &s, &restricted), 0);
	assert_string_equal(s, "ACME CORP");
	assert_false(restricted);
	assert_int_equal(numdb_cnam(g, 2042225555, &s, &restricted), 0);
	assert_true(restricted);
	assert_true(numdb_dnc(g, 2042221234));
	assert_false(numdb_dnc(g, 2042229999));
	assert_true(numdb_dno(g, 8005550100, &m));
	assert_string_equal(m.pattern, "8005550100");
	assert_string_equal(m.source, "subscriber-request");
	assert_true(numdb_dno(g, 2045550123, &m));
	assert_string_equal(m.pattern, "204555");
	assert_string_equal(m.source, "unallocated");
	assert_false(numdb_dno(g, 2042229999, &m));
	assert_int_equal(numdb_ror(g, 8005551234, &s), 0);
	assert_string_equal(s, "NEX99");
	assert_non_null(numdb_cpr(g, 8005551234));
}

static void test_imports_clean(void **state)
{
	const char *dir = *state;
	char path[512];
	struct numdb *g = NULL;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/lookup.db", dir);
	assert_int_equal(numstore_open(path, false, &db), 0);
	import_all(db, dir);
	assert_int_equal(numdb_build(db, &g), 0);
	assert_answers(g);
	numdb_free(g);
	numstore_close(db);
}

/* A directory that cannot hold files: -1, and nothing left behind. */
static void test_io_error(void **state)
{
	char *dir = new_tmpdir(), path[512];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/plain", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(demo_generate(path, 1, SEED), -1);
	snprintf(path, sizeof(path), "%s/plain/sub", dir);
	assert_int_equal(demo_generate(path, 0, SEED), -1);
	assert_int_equal(demo_generate("", 0, SEED), -1);
	rm_dir(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_counts),
		cmocka_unit_test(test_fixed_rows),
		cmocka_unit_test(test_seed_rows),
		cmocka_unit_test(test_same_seed_same_bytes),
		cmocka_unit_test(test_without_codes),
		cmocka_unit_test(test_cpr_records),
		cmocka_unit_test(test_codes_are_real),
		cmocka_unit_test(test_imports_clean),
		cmocka_unit_test(test_io_error),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
