/* test_query.c - the inventory query language: contract examples, errors, hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "inventory/query.h"

/* Parse and describe text; the description is returned (malloc'd). */
static char *describe_ok(const char *text)
{
	struct query_error err;
	struct query *q = NULL;
	char *d;

	assert_int_equal(query_parse(text, &q, &err), 0);
	assert_int_equal(err.type, QUERY_E_NONE);
	d = query_describe(q);
	assert_non_null(d);
	query_free(q);
	return d;
}

static void expect_description(const char *text, const char *want)
{
	char *d = describe_ok(text);

	assert_string_equal(d, want);
	free(d);
}

static void expect_error(const char *text, enum query_err_type type, const char *msg, int pos)
{
	struct query_error err;
	struct query *q = NULL;

	assert_int_equal(query_parse(text, &q, &err), -1);
	assert_null(q);
	assert_int_equal(err.type, type);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.position, pos);
}

/* A small table to run compiled queries against. */
static sqlite3 *fixture_db(void)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE inv_number (tn INTEGER PRIMARY KEY, status TEXT, ported TEXT,"
		" spid TEXT, lata INTEGER, state TEXT, npa INTEGER, nxx INTEGER, ocn TEXT,"
		" lrn INTEGER, locality TEXT, metadata TEXT,"
		" id INTEGER GENERATED ALWAYS AS (tn) VIRTUAL);"
		"INSERT INTO inv_number VALUES"
		" (3035551234,'AVAILABLE','no','567G',656,'CO',303,555,'567G',NULL,'DENVER',NULL),"
		" (3035551235,'IN_USE','in','567G',656,'CO',303,555,'567G',3035550001,'DENVER',"
		"  '{\"ban\":90000957,\"note\":\"50% off_\"}'),"
		" (2125550100,'RESERVED','no','123A',120,'NY',212,555,'123A',NULL,'New York',"
		"  '{\"ban\":\"BAN1\"}'),"
		" (2125550101,'AVAILABLE','out','123A',122,'NY',212,555,'123A',NULL,"
		"  'NEW YORK CITY',NULL);"
		/* inv_meta as the store's triggers fill it (inventory_store.c, META_VALUE). */
		"CREATE TABLE inv_meta (number_id INTEGER, key TEXT, value TEXT);"
		"INSERT INTO inv_meta SELECT n.id, j.key, CAST(CASE WHEN j.type IN"
		" ('object', 'array') THEN j.value ELSE j.atom END AS TEXT)"
		" FROM inv_number n, json_each(n.metadata) j"
		" WHERE n.metadata IS NOT NULL AND j.type != 'null';",
		NULL, NULL, NULL), SQLITE_OK);
	return db;
}

/* Run text against the fixture and return the matching numbers, ascending, comma-joined. */
static void expect_rows(const char *text, const char *want)
{
	struct query_error err;
	struct query_sql s;
	struct query *q = NULL;
	sqlite3 *db = fixture_db();
	sqlite3_stmt *st;
	char *sql, got[256] = "";
	size_t i;

	assert_int_equal(query_parse(text, &q, &err), 0);
	assert_int_equal(query_compile(q, &s), 0);
	assert_true(asprintf(&sql, "SELECT tn FROM inv_number WHERE %s ORDER BY tn", s.where) > 0);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_bind_parameter_count(st), (int)s.n_binds);
	for (i = 0; i < s.n_binds; i++)
		sqlite3_bind_text(st, (int)i + 1, s.binds[i], -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t n = strlen(got);
		snprintf(got + n, sizeof(got) - n, "%s%lld", n ? "," : "",
			 (long long)sqlite3_column_int64(st, 0));
	}
	sqlite3_finalize(st);
	assert_string_equal(got, want);
	free(sql);
	query_sql_free(&s);
	query_free(q);
	sqlite3_close(db);
}

static void test_query__contract_examples_parse(void **state)
{
	(void)state;
	expect_description("status=available", "ComparisonNode(status=available)");
	expect_description("status=available and lata=656",
			   "LogicalNode(AND, ComparisonNode(status=available), "
			   "ComparisonNode(lata=656))");
	expect_description("status=available and lata=656 and ported=in",
			   "LogicalNode(AND, ComparisonNode(status=available), "
			   "ComparisonNode(lata=656), ComparisonNode(ported=in))");
	expect_description("lata in (120,122) and status=available",
			   "LogicalNode(AND, ComparisonNode(lata in (120,122)), "
			   "ComparisonNode(status=available))");
	expect_description("locality contains \"new york\"",
			   "ComparisonNode(locality contains new york)");
	expect_description("metadata.ban=90000957 and status=in_use",
			   "LogicalNode(AND, ComparisonNode(metadata.ban=90000957), "
			   "ComparisonNode(status=in_use))");
	expect_description("(status=available or status=reserved) and ported=in",
			   "LogicalNode(AND, LogicalNode(OR, ComparisonNode(status=available), "
			   "ComparisonNode(status=reserved)), ComparisonNode(ported=in))");
	expect_description("lata in (120,122,656) and status in (available,reserved)",
			   "LogicalNode(AND, ComparisonNode(lata in (120,122,656)), "
			   "ComparisonNode(status in (available,reserved)))");
	expect_description("STATUS = Available AND Lata != 656",
			   "LogicalNode(AND, ComparisonNode(status=Available), "
			   "ComparisonNode(lata!=656))");
}

static void test_query__contract_examples_match(void **state)
{
	(void)state;
	expect_rows("status=available", "2125550101,3035551234");
	expect_rows("status=available and lata=656", "3035551234");
	expect_rows("lata in (120,122) and status=available", "2125550101");
	expect_rows("locality contains \"new york\"", "2125550100,2125550101");
	expect_rows("metadata.ban=90000957 and status=in_use", "3035551235");
	expect_rows("(status=available or status=reserved) and ported=in", "");
	expect_rows("(status=available or status=in_use) and ported=in", "3035551235");
	expect_rows("lata in (120,122,656) and status in (available,reserved)",
		    "2125550100,2125550101,3035551234");
	expect_rows("spid=567g and status!=in_use", "3035551234");
	expect_rows("locality='new york'", "2125550100");
	expect_rows("metadata.ban!=BAN1", "2125550101,3035551234,3035551235");
	expect_rows("tn contains 555010", "2125550100,2125550101");
	expect_rows("status=available or status=reserved and lata=120",
		    "2125550100,2125550101,3035551234");
}

static void test_query__contract_error_examples(void **state)
{
	struct query_error err;
	struct query *q = NULL;
	size_t i;

	(void)state;
	/* The contract prints 15 here; 17 is where "xyz" starts (see docs/inventory.md). */
	expect_error("status=available xyz", QUERY_E_PARSE,
		     "Unexpected token 'xyz' (expected 'and', 'or' or end of query) at position 17",
		     17);
	expect_error("status=", QUERY_E_PARSE,
		     "Unexpected token '' (expected value) at position 7", 7);
	expect_error("invalid_field=test", QUERY_E_VALIDATION, "Invalid field 'invalid_field'",
		     -1);
	assert_int_equal(query_parse("invalid_field=test", &q, &err), -1);
	assert_int_equal(err.n_options, 11);
	for (i = 0; i < err.n_options; i++)
		assert_string_equal(err.options[i], query_fields[i]);
	assert_string_equal(err.options[0], "tn");
	assert_string_equal(err.options[10], "locality");
	assert_int_equal(query_parse("status=sold", &q, &err), -1);
	assert_int_equal(err.type, QUERY_E_VALIDATION);
	assert_string_equal(err.msg, "Invalid value 'sold' for field 'status'");
	assert_string_equal(err.options[0], "available");
}

static void test_query__parse_errors(void **state)
{
	(void)state;
	expect_error("", QUERY_E_PARSE, "Unexpected token '' (expected field) at position 0", 0);
	expect_error("status available", QUERY_E_PARSE,
		     "Unexpected token 'available' (expected operator ('=', '!=', 'in' or "
		     "'contains')) at position 7", 7);
	expect_error("(status=available", QUERY_E_PARSE,
		     "Unexpected token '' (expected ')') at position 17", 17);
	expect_error("lata in (120 122)", QUERY_E_PARSE,
		     "Unexpected token '122' (expected ',' or ')') at position 13", 13);
	expect_error("lata in 120", QUERY_E_PARSE,
		     "Unexpected token '120' (expected '(') at position 8", 8);
	expect_error("locality contains \"new york", QUERY_E_PARSE,
		     "Unexpected token '\"new york' (expected value) at position 18", 18);
	expect_error("status=available and", QUERY_E_PARSE,
		     "Unexpected token '' (expected field) at position 20", 20);
	expect_error("status=available)", QUERY_E_PARSE,
		     "Unexpected token ')' (expected 'and', 'or' or end of query (unbalanced ')'))"
		     " at position 16", 16);
	expect_error("status ! available", QUERY_E_PARSE,
		     "Unexpected token '!' (expected operator ('=', '!=', 'in' or 'contains')) at "
		     "position 7", 7);
	expect_error("metadata.=1", QUERY_E_VALIDATION, "Invalid field 'metadata.'", -1);
	expect_error("metadata.a$b=1", QUERY_E_PARSE,
		     "Unexpected token 'metadata.a$b' (expected metadata key of letters, digits, "
		     "'_' or '-') at position 0", 0);
}

/* Values that look like SQL stay values: they are bound, never spliced. */
static void test_query__sql_looking_values(void **state)
{
	struct query_error err;
	struct query_sql s;
	struct query *q = NULL;
	const char *evil = "locality=\"x' OR 1=1; DROP TABLE inv_number; --\"";

	(void)state;
	assert_int_equal(query_parse(evil, &q, &err), 0);
	assert_int_equal(query_compile(q, &s), 0);
	assert_string_equal(s.where, "(locality = ? COLLATE NOCASE)");
	assert_int_equal(s.n_binds, 1);
	assert_string_equal(s.binds[0], "x' OR 1=1; DROP TABLE inv_number; --");
	query_sql_free(&s);
	query_free(q);
	expect_rows(evil, "");
	expect_rows("spid in ('567G') or ocn='x\\' or \\'1\\'=\\'1'", "3035551234,3035551235");
	expect_rows("metadata.note contains \"50%\"", "3035551235");
	expect_rows("metadata.note contains \"%\"", "3035551235");
	expect_rows("locality contains \"%\"", "");
	expect_rows("locality contains \"_\"", "");
	expect_rows("tn=\"3035551234 OR 1=1\"", "");

	assert_int_equal(query_parse("metadata.ban=1 and lata in (1,2)", &q, &err), 0);
	assert_int_equal(query_compile(q, &s), 0);
	assert_string_equal(s.where, "((id IN (SELECT number_id FROM inv_meta WHERE key = ? AND"
			    " value IN (?))) AND (lata IN (?,?)))");
	assert_int_equal(s.n_binds, 4);
	assert_string_equal(s.binds[0], "ban");
	assert_false(s.tallied);
	query_sql_free(&s);
	query_free(q);
	/* Only status, ported, spid, npa, nxx, lata, state, ocn and locality count from the tally. */
	assert_int_equal(query_parse("(status=available or ocn!=x) and locality contains d"
				     " and npa in (303) and nxx=555 and ported=in and spid=567G"
				     " and state=co and lata=656", &q, &err), 0);
	assert_int_equal(query_compile(q, &s), 0);
	assert_true(s.tallied);
	query_sql_free(&s);
	query_free(q);
	assert_int_equal(query_parse("status=available or lrn=3035550001", &q, &err), 0);
	assert_int_equal(query_compile(q, &s), 0);
	assert_false(s.tallied);
	query_sql_free(&s);
	query_free(q);
}

static void test_query__depth_and_length_bounds(void **state)
{
	char buf[QUERY_MAX_LEN + 64];
	struct query_error err;
	struct query *q = NULL;
	size_t i, n;

	(void)state;
	for (n = 1; n <= QUERY_MAX_DEPTH + 1; n++) {
		for (i = 0; i < n; i++)
			buf[i] = '(';
		memcpy(buf + n, "npa=303", 7);
		for (i = 0; i < n; i++)
			buf[n + 7 + i] = ')';
		buf[2 * n + 7] = '\0';
		if (n <= QUERY_MAX_DEPTH) {
			assert_int_equal(query_parse(buf, &q, &err), 0);
			query_free(q);
		} else {
			assert_int_equal(query_parse(buf, &q, &err), -1);
			assert_int_equal(err.position, QUERY_MAX_DEPTH);
		}
	}
	memset(buf, '(', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(query_parse(buf, &q, &err), -1);
	assert_int_equal(err.position, QUERY_MAX_LEN);
	for (i = 0, n = 0; i < QUERY_MAX_NODES + 1; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%snpa=%zu", i ? " or " : "",
				      i % 10);
	assert_true(n < QUERY_MAX_LEN);
	assert_int_equal(query_parse(buf, &q, &err), -1);
	assert_int_equal(err.type, QUERY_E_PARSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query__contract_examples_parse),
		cmocka_unit_test(test_query__contract_examples_match),
		cmocka_unit_test(test_query__contract_error_examples),
		cmocka_unit_test(test_query__parse_errors),
		cmocka_unit_test(test_query__sql_looking_values),
		cmocka_unit_test(test_query__depth_and_length_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
