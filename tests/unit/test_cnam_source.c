/* test_cnam_source.c - CNAM routing rules and reading upstream answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "telique/cnam_source.h"

struct fixture {
	struct cnam_source *local, *up, *json, *plain;
};

static struct fixture F;

static int setup(void **state)
{
	struct cnam_http_conf up = { "up", "http://127.0.0.1:9/cnam/{tn}", "name", "", "", 500 };
	struct cnam_http_conf json = { "twilio", "https://127.0.0.1:9/v2/{e164}",
				       "caller_name.caller_name", "caller_name.presentation",
				       "Authorization: Basic eDp5", 500 };
	struct cnam_http_conf plain = { "pbx", "http://127.0.0.1:9/{e164}?format=pbx", "", "", "",
					500 };
	char err[200];

	F.local = cnam_source_local_new();
	F.up = cnam_source_http_new(&up, err, sizeof(err));
	F.json = cnam_source_http_new(&json, err, sizeof(err));
	F.plain = cnam_source_http_new(&plain, err, sizeof(err));
	return F.local && F.up && F.json && F.plain ? 0 : -1;
}

static int teardown(void **state)
{
	cnam_source_free(F.local);
	cnam_source_free(F.up);
	cnam_source_free(F.json);
	cnam_source_free(F.plain);
	return 0;
}

static struct cnam_routes *routes(const char *spec, struct cnam_source *fallback)
{
	struct cnam_source *named[] = { F.local, F.up, NULL };
	struct cnam_routes *r = NULL;
	char err[200];

	if (cnam_routes_parse(spec, named, fallback, &r, err, sizeof(err)) != 0)
		fail_msg("\"%s\" refused: %s", spec, err);
	return r;
}

static const char *pick(const struct cnam_routes *r, uint64_t tn, const char *dpc, bool ported)
{
	struct lrn_answer a = { .lrn = tn, .source = ported ? LRN_FROM_PORT : LRN_FROM_CODE };

	snprintf(a.cnam_dpc, sizeof(a.cnam_dpc), "%s", dpc);
	return cnam_source_name(cnam_routes_pick(r, tn, &a));
}

static void test_cnam_routes__prefix_dpc_default(void **state)
{
	struct cnam_routes *r =
		routes(" 720=up, 303555=local,303=up , dpc:001002003=up, 3035559999=up, *=local",
		       F.up);

	assert_string_equal(pick(r, 7205551234, "", false), "up");
	assert_string_equal(pick(r, 3035551234, "", false), "local"); /* longest prefix */
	assert_string_equal(pick(r, 3035561234, "", false), "up");
	assert_string_equal(pick(r, 2125551234, "", false), "local"); /* the * rule */
	/* Ported: the SV's CNAM DPC decides, prefix rules do not. */
	assert_string_equal(pick(r, 3035551234, "001002003", true), "up");
	assert_string_equal(pick(r, 7205551234, "009009009", true), "local");
	/* ... except a rule for the whole number. */
	assert_string_equal(pick(r, 3035559999, "009009009", true), "up");
	/* Ported without a DPC in the SV: routed like any other number. */
	assert_string_equal(pick(r, 7205551234, "", true), "up");
	/* Not ported: a DPC (none is given for codes, but be sure) does not matter. */
	assert_string_equal(pick(r, 2125551234, "001002003", false), "local");
	cnam_routes_free(r);
}

static void test_cnam_routes__fallback_without_star(void **state)
{
	struct cnam_routes *r = routes("303=local", F.up);

	assert_string_equal(pick(r, 3035551234, "", false), "local");
	assert_string_equal(pick(r, 7205551234, "", false), "up");
	cnam_routes_free(r);
	r = routes("", F.local);
	assert_string_equal(pick(r, 7205551234, "", false), "local");
	cnam_routes_free(r);
}

static void test_cnam_routes__bad_rules(void **state)
{
	static const char *const bad[] = {
		"720=nosuch", "72a=up", "dpc:=up", "12345678901=up", "720", "=up", "720=",
		"dpc:0123456789012345=up", "303=up, 720",
	};
	struct cnam_source *named[] = { F.local, F.up, NULL };
	struct cnam_routes *r = NULL;
	char err[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (cnam_routes_parse(bad[i], named, F.local, &r, err, sizeof(err)) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(strstr(err, "cnam.routes"));
		assert_null(r);
	}
}

static void expect_answer(const struct cnam_source *s, long status, const char *body,
			 bool available, bool restricted, const char *name)
{
	struct cnam_value v;
	int rc = cnam_source_parse(s, status, body, strlen(body), &v);

	if (rc != 0)
		fail_msg("%ld %s: refused (%d)", status, body, rc);
	if (v.available != available || v.restricted != restricted || strcmp(v.name, name) != 0)
		fail_msg("%ld %s: got %d/%d \"%s\"", status, body, v.available, v.restricted,
			 v.name);
}

static void expect_refused(const struct cnam_source *s, long status, const char *body, int want)
{
	struct cnam_value v = { .name = "UNTOUCHED" };

	assert_int_equal(cnam_source_parse(s, status, body, strlen(body), &v), want);
	assert_string_equal(v.name, "UNTOUCHED");
}

static void test_cnam_source__reading_answers(void **state)
{
	expect_answer(F.up, 200, "{\"name\":\"ACME CORP\"}", true, false, "ACME CORP");
	expect_answer(F.up, 200, "{\"name\":\"Acme Corporation of America\"}", true, false,
		     "Acme Corporatio");
	expect_answer(F.up, 200, "{\"name\":null}", false, false, "");
	expect_answer(F.up, 200, "{}", false, false, "");
	expect_answer(F.up, 200, "{\"name\":\" \\t \"}", false, false, "");
	expect_answer(F.up, 200, "{\"name\":\"unavailable\"}", false, false, "");
	expect_answer(F.up, 200, "{\"name\":\"OUT OF AREA\"}", false, false, "");
	expect_answer(F.up, 200, "{\"name\":\"Private\"}", true, true, "PRIVATE");
	expect_answer(F.up, 404, "{\"error\":\"not found\"}", false, false, "");
	expect_answer(F.up, 404, "", false, false, "");
	expect_refused(F.up, 500, "{\"name\":\"ACME\"}", CNAM_SRC_FAILED);
	expect_refused(F.up, 503, "", CNAM_SRC_FAILED);
	expect_refused(F.up, 301, "", CNAM_SRC_FAILED);
	expect_refused(F.up, 200, "ACME CORP", CNAM_SRC_BAD);
	expect_refused(F.up, 200, "{\"name\":42}", CNAM_SRC_BAD);
	/* Nested fields and a presentation flag. */
	expect_answer(F.json, 200, "{\"caller_name\":{\"caller_name\":\"JANE DOE\"}}", true, false,
		     "JANE DOE");
	expect_answer(F.json, 200,
		     "{\"caller_name\":{\"caller_name\":\"JANE DOE\",\"presentation\":"
		     "\"restricted\"}}", true, true, "PRIVATE");
	expect_answer(F.json, 200, "{\"caller_name\":{\"presentation\":true}}", true, true,
		     "PRIVATE");
	expect_answer(F.json, 200, "{\"caller_name\":\"flat\"}", false, false, "");
	/* A plain-text upstream: the body is the name. */
	expect_answer(F.plain, 200, "  JOHN  Q\r\n", true, false, "JOHN Q");
	expect_answer(F.plain, 200, "", false, false, "");
}

static void test_cnam_source__bad_configuration(void **state)
{
	static const struct { const char *url, *auth; } bad[] = {
		{ "ftp://127.0.0.1/{tn}", "" },
		{ "http://127.0.0.1/cnam", "" },
		{ "http://127.0.0.1/{tn}", "Authorization Bearer x" },
		{ "http://127.0.0.1/{tn}", "Authorization: x\r\nX-Evil: 1" },
	};
	char err[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cnam_http_conf c = { "u", bad[i].url, "name", "", bad[i].auth, 500 };

		err[0] = '\0';
		assert_null(cnam_source_http_new(&c, err, sizeof(err)));
		assert_non_null(strstr(err, "upstream u"));
	}
	assert_true(cnam_source_is_local(F.local));
	assert_false(cnam_source_is_local(F.up));
	assert_string_equal(cnam_source_name(F.json), "twilio");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cnam_routes__prefix_dpc_default),
		cmocka_unit_test(test_cnam_routes__fallback_without_star),
		cmocka_unit_test(test_cnam_routes__bad_rules),
		cmocka_unit_test(test_cnam_source__reading_answers),
		cmocka_unit_test(test_cnam_source__bad_configuration),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
