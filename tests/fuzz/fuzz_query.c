/* fuzz_query.c - the inventory query parser under arbitrary input.
 *
 * Built two ways: with clang and -fsanitize=fuzzer as a libFuzzer target
 * (meson option fuzz), and with -DFUZZ_QUERY_CORPUS_MAIN as a cmocka test
 * that feeds every file of tests/fuzz/corpus_query through the same entry
 * point, so every compiler's CI runs the checks.
 *
 * For each input: parse; on success describe and compile, and check that
 * the SQL fragment is made only of the compiler's fixed vocabulary, has one
 * placeholder per bound value, and prepares against the real column set.
 * Any breach aborts.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static sqlite3 *fuzz_db;

static sqlite3 *db_get(void)
{
	if (fuzz_db)
		return fuzz_db;
	if (sqlite3_open(":memory:", &fuzz_db) != SQLITE_OK ||
	    sqlite3_exec(fuzz_db,
			 "CREATE TABLE inv_number (id INTEGER PRIMARY KEY, tn INTEGER,"
			 " status TEXT, ported TEXT, spid TEXT, lata INTEGER, state TEXT,"
			 " npa INTEGER, nxx INTEGER, ocn TEXT, lrn INTEGER, locality TEXT,"
			 " metadata TEXT);"
			 "CREATE TABLE inv_meta (number_id INTEGER, key TEXT, value TEXT);"
			 "CREATE TABLE inv_tally_view (spid TEXT, npa INTEGER, nxx INTEGER,"
			 " block TEXT, status TEXT, ported TEXT, lata INTEGER, state TEXT,"
			 " locality TEXT, ocn TEXT, via TEXT, n INTEGER)",
			 NULL, NULL, NULL) != SQLITE_OK)
		abort();
	return fuzz_db;
}

static void check_sql(const struct query_sql *s)
{
	const char *ok = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_ (),?=\\'";
	sqlite3_stmt *st = NULL;
	char *sql;
	size_t i, marks = 0;

	for (i = 0; s->where[i]; i++) {
		if (strchr(ok, s->where[i]) == NULL)
			abort();
		marks += s->where[i] == '?';
	}
	if (marks != s->n_binds)
		abort();
	/* A query said to be countable from the tally must compile there too. */
	if (asprintf(&sql, "SELECT count(*) FROM %s WHERE %s",
		     s->tallied ? "inv_tally_view" : "inv_number", s->where) < 0)
		abort();
	if (sqlite3_prepare_v2(db_get(), sql, -1, &st, NULL) != SQLITE_OK ||
	    (size_t)sqlite3_bind_parameter_count(st) != s->n_binds)
		abort();
	for (i = 0; i < s->n_binds; i++)
		sqlite3_bind_text(st, (int)i + 1, s->binds[i], -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		abort();
	sqlite3_finalize(st);
	free(sql);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query_error err;
	struct query_sql s;
	struct query *q = NULL;
	char *text = malloc(size + 1), *desc;
	int rc;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	rc = query_parse(text, &q, &err);
	if (rc == 0) {
		desc = query_describe(q);
		if (desc == NULL || query_compile(q, &s) != 0)
			abort();
		check_sql(&s);
		query_sql_free(&s);
		free(desc);
		query_free(q);
	} else if (rc == -1) {
		if (err.msg[0] == '\0' || (err.type == QUERY_E_PARSE &&
					   (err.position < 0 || (size_t)err.position > size)))
			abort();
	}
	free(text);
	return 0;
}

#ifdef FUZZ_QUERY_CORPUS_MAIN
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

static const char *corpus_dir(void)
{
	static char path[1024];
	const char *root = getenv("RINGER_SOURCE_ROOT");

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus_query", root ? root : ".");
	return path;
}

static void test_fuzz_query__corpus(void **state)
{
	DIR *d = opendir(corpus_dir());
	struct dirent *e;
	size_t files = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[1536], buf[8192];
		FILE *f;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", corpus_dir(), e->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		assert_int_equal(LLVMFuzzerTestOneInput((const uint8_t *)buf, n), 0);
		files++;
	}
	closedir(d);
	assert_true(files >= 10);
}

/* Inputs made here rather than stored: sizes and shapes around the limits. */
static void test_fuzz_query__generated(void **state)
{
	static char buf[QUERY_MAX_LEN * 2];
	size_t i, n;

	(void)state;
	for (n = 0; n < 3 * QUERY_MAX_DEPTH; n++) {
		for (i = 0; i < n; i++)
			buf[i] = '(';
		memcpy(buf + n, "npa=303", 7);
		for (i = 0; i < n; i++)
			buf[n + 7 + i] = ')';
		LLVMFuzzerTestOneInput((const uint8_t *)buf, 2 * n + 7);
	}
	memset(buf, 'a', sizeof(buf));
	LLVMFuzzerTestOneInput((const uint8_t *)buf, sizeof(buf));
	for (i = 0, n = 0; n + 12 < sizeof(buf); i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%snpa=%zu", i ? " or " : "", i);
	LLVMFuzzerTestOneInput((const uint8_t *)buf, n);
	for (i = 0; i < 256; i++) {
		buf[0] = (char)i;
		LLVMFuzzerTestOneInput((const uint8_t *)buf, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_query__corpus),
		cmocka_unit_test(test_fuzz_query__generated),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	sqlite3_close(fuzz_db);
	return rc;
}
#endif
