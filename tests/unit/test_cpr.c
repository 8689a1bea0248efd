/* test_cpr.c - CPR validation and evaluation (docs/cpr.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "base/clock.h"
#include "telique/cpr.h"

/* The full example of docs/cpr.md, with ' for " so it reads as JSON. */
static const char example[] =
	"{'crn': '8005551234', 'timezone': 'C', 'dst': true, 'default_cic': '0288',"
	" 'sections': {"
	"  'M': {'decision': 'switch', 'on': false,"
	"   'then': {'carrier': '0432', 'tel': '3035550111'},"
	"   'other': {'decision': 'lata',"
	"    'branches': ["
	"     {'values': ['656', '658'], 'then': {'goto': 'SDENVER'}},"
	"     {'values': ['358'], 'then': {'carrier': '0222'}}],"
	"    'other': {'decision': 'dow',"
	"     'branches': [{'values': ['mon-fri'], 'then': {'decision': 'time',"
	"      'branches': [{'values': ['08:00-17:00'], 'then': {'decision': 'percent',"
	"       'branches': [{'percent': 60, 'then': {'carrier': '0288'}},"
	"                    {'percent': 40, 'then': {'carrier': '0333'}}]}}],"
	"      'other': {'carrier': '0288', 'tel': '3125550100'}}}],"
	"     'other': {'goto': 'SWEEKEND'}}}},"
	"  'SDENVER': {'decision': 'npa',"
	"   'branches': [{'values': ['303', '720'],"
	"                 'then': {'carrier': '0432', 'tel': '3035550199'}}],"
	"   'other': {'carrier': '0288'}},"
	"  'SWEEKEND': {'decision': 'date',"
	"   'branches': [{'values': ['12/24-01/02'], 'then': {'carrier': '0110'}}],"
	"   'other': {'decision': 'state',"
	"    'branches': [{'values': ['IL', 'WI'], 'then': {'carrier': '0288'}}]}}}}";

/* Parse JSON written with ' for ". */
static json_t *load(const char *text)
{
	char *s = strdup(text);
	json_error_t jerr;
	json_t *r;

	assert_non_null(s);
	for (char *p = s; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	r = json_loads(s, 0, &jerr);
	if (r == NULL)
		fail_msg("bad test JSON at %d: %s", jerr.position, jerr.text);
	free(s);
	return r;
}

/* A zone C, DST-observing record whose main section is node (' for "). */
static json_t *with_main(const char *node)
{
	char buf[8192];

	snprintf(buf, sizeof(buf),
		 "{'crn': '8005551234', 'timezone': 'C', 'dst': true, 'sections': {'M': %s}}",
		 node);
	return load(buf);
}

static int64_t utc(int y, unsigned mo, unsigned d, int h, int mi, int s)
{
	return clock_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

/* Denver caller (LATA 656) on Wednesday 2026-01-14, 15:00 UTC = 09:00 CST. */
static struct cpr_call base_call(void)
{
	return (struct cpr_call){
		.ani = 3035551234, .lata = 656, .state = "CO",
		.now = utc(2026, 1, 14, 15, 0, 0), .percent_draw = 0,
	};
}

/* Evaluate and return the CIC as a number (cic "0288" -> 288), or -1. */
static int eval_cic(const json_t *r, const struct cpr_call *c)
{
	struct cpr_result out;
	int cic;

	if (cpr_eval(r, c, &out) != 0)
		return -1;
	assert_non_null(out.ir);
	assert_int_equal(strlen(out.cic), 4);
	cic = atoi(out.cic);
	json_decref(out.ir);
	return cic;
}

/* Evaluate and return the compact interpretation record (caller frees). */
static char *eval_ir(const json_t *r, const struct cpr_call *c, struct cpr_result *out)
{
	char *s;

	assert_int_equal(cpr_eval(r, c, out), 0);
	s = json_dumps(out->ir, JSON_COMPACT);
	assert_non_null(s);
	json_decref(out->ir);
	return s;
}

/* A one-decision main section: values v give 0222, other gives 0333. */
static json_t *one_decision(const char *type, const char *values)
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "{'decision': '%s', 'branches': [{'values': [%s], 'then': {'carrier': '0222'}}],"
		 " 'other': {'carrier': '0333'}}", type, values);
	return with_main(buf);
}

static void test_cpr__epoch_helper(void **state)
{
	(void)state;
	assert_int_equal(utc(2026, 1, 15, 15, 0, 0), 1768489200);
	assert_int_equal(utc(2026, 3, 10, 14, 0, 0), 1773151200);
}

static void test_cpr__example_validates_and_routes(void **state)
{
	json_t *r = load(example);
	char err[128] = "";
	struct cpr_result out;
	struct cpr_call c = base_call();
	char *ir;

	(void)state;
	assert_int_equal(cpr_validate(r, err, sizeof(err)), 0);
	assert_string_equal(err, "");

	c.now = utc(2026, 3, 10, 14, 0, 0); /* Tuesday 09:00 CDT */
	ir = eval_ir(r, &c, &out);
	assert_string_equal(out.cic, "0432");
	assert_string_equal(out.tel, "3035550199");
	assert_string_equal(ir,
		"{\"path\":[{\"node\":\"switch\",\"value\":\"off\",\"branch\":\"other\"},"
		"{\"node\":\"lata\",\"value\":\"656\",\"branch\":0},"
		"{\"node\":\"goto\",\"section\":\"SDENVER\"},"
		"{\"node\":\"npa\",\"value\":\"303\",\"branch\":0},"
		"{\"node\":\"carrier\",\"cic\":\"0432\",\"tel\":\"3035550199\"}],"
		"\"section\":\"SDENVER\",\"localTime\":\"2026-03-10T09:00:00\","
		"\"utcOffset\":\"-05:00\"}");
	free(ir);

	/* Chicago caller, Tuesday 09:00 CDT, draw 72: the 40% branch. */
	c.ani = 3125557777, c.lata = 359, c.state = "IL", c.percent_draw = 72;
	ir = eval_ir(r, &c, &out);
	assert_string_equal(out.cic, "0333");
	assert_string_equal(out.tel, "");
	assert_string_equal(ir,
		"{\"path\":[{\"node\":\"switch\",\"value\":\"off\",\"branch\":\"other\"},"
		"{\"node\":\"lata\",\"value\":\"359\",\"branch\":\"other\"},"
		"{\"node\":\"dow\",\"value\":\"tue\",\"branch\":0},"
		"{\"node\":\"time\",\"value\":\"09:00:00\",\"branch\":0},"
		"{\"node\":\"percent\",\"value\":\"72\",\"branch\":1},"
		"{\"node\":\"carrier\",\"cic\":\"0333\"}],"
		"\"section\":\"M\",\"localTime\":\"2026-03-10T09:00:00\","
		"\"utcOffset\":\"-05:00\"}");
	free(ir);

	/* Saturday, caller in Texas: SWEEKEND has no match, default_cic applies. */
	c.now = utc(2026, 3, 14, 18, 0, 0), c.state = "TX";
	ir = eval_ir(r, &c, &out);
	assert_string_equal(out.cic, "0288");
	assert_string_equal(out.tel, "");
	assert_non_null(strstr(ir, "{\"node\":\"state\",\"value\":\"TX\",\"branch\":null},"
				   "{\"node\":\"default\",\"cic\":\"0288\"}],"
				   "\"section\":\"SWEEKEND\""));
	free(ir);
	json_decref(r);
}

static void test_cpr__state_match_and_other(void **state)
{
	json_t *r = one_decision("state", "'CO', 'WY'");
	struct cpr_call c = base_call();

	(void)state;
	assert_int_equal(cpr_validate(r, NULL, 0), 0);
	assert_int_equal(eval_cic(r, &c), 222);
	c.state = "wy"; /* the call side is matched without regard to case */
	assert_int_equal(eval_cic(r, &c), 222);
	c.state = "NE";
	assert_int_equal(eval_cic(r, &c), 333);
	c.state = NULL;
	assert_int_equal(eval_cic(r, &c), 333);
	json_decref(r);
}

static void test_cpr__ani_digit_types(void **state)
{
	static const struct {
		const char *type, *hit, *miss;
	} cases[] = {
		{ "npa", "'720', '303'", "'304'" },
		{ "nxx", "'555'", "'123'" },
		{ "npanxx", "'303555'", "'303556'" },
		{ "ani", "'3035551234'", "'3035551235'" },
	};
	struct cpr_call c = base_call();

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *hit = one_decision(cases[i].type, cases[i].hit);
		json_t *miss = one_decision(cases[i].type, cases[i].miss);

		assert_int_equal(cpr_validate(hit, NULL, 0), 0);
		assert_int_equal(cpr_validate(miss, NULL, 0), 0);
		assert_int_equal(eval_cic(hit, &c), 222);
		assert_int_equal(eval_cic(miss, &c), 333);
		json_decref(hit);
		json_decref(miss);
	}
}

static void test_cpr__lata_match_and_other(void **state)
{
	json_t *r = one_decision("lata", "'656', '020'");
	struct cpr_call c = base_call();

	(void)state;
	assert_int_equal(eval_cic(r, &c), 222);
	c.lata = 20; /* LATA values are zero padded to 3 digits */
	assert_int_equal(eval_cic(r, &c), 222);
	c.lata = 658;
	assert_int_equal(eval_cic(r, &c), 333);
	json_decref(r);
}

static void test_cpr__date_annual_range_wraps_new_year(void **state)
{
	json_t *r = one_decision("date", "'12/24-01/02', '07/04'");
	struct cpr_call c = base_call();

	(void)state;
	assert_int_equal(cpr_validate(r, NULL, 0), 0);
	c.now = utc(2025, 12, 31, 18, 0, 0);
	assert_int_equal(eval_cic(r, &c), 222);
	c.now = utc(2026, 1, 2, 18, 0, 0);
	assert_int_equal(eval_cic(r, &c), 222);
	c.now = utc(2026, 1, 3, 18, 0, 0);
	assert_int_equal(eval_cic(r, &c), 333);
	c.now = utc(2026, 12, 23, 18, 0, 0);
	assert_int_equal(eval_cic(r, &c), 333);
	c.now = utc(2026, 7, 4, 18, 0, 0);
	assert_int_equal(eval_cic(r, &c), 222);
	/* 2026-01-03 01:00 UTC is still 01-02 in zone C. */
	c.now = utc(2026, 1, 3, 1, 0, 0);
	assert_int_equal(eval_cic(r, &c), 222);
	json_decref(r);
}

static void test_cpr__date_absolute_range_across_years(void **state)
{
	json_t *r = one_decision("date", "'2025-12-20-2026-01-05', '2027-02-14'");
	struct cpr_call c = base_call();

	(void)state;
	assert_int_equal(cpr_validate(r, NULL, 0), 0);
	c.now = utc(2025, 12, 20, 18, 0, 0);
	assert_int_equal(eval_cic(r, &c), 222);
	c.now = utc(2026, 1, 5, 18, 0, 0);
	assert_int_equal(eval_cic(r, &c), 222);
	c.now = utc(2026, 1, 6, 18, 0, 0);
	assert_int_equal(eval_cic(r, &c), 333);
	c.now = utc(2026, 12, 25, 18, 0, 0); /* the range is not annual */
	assert_int_equal(eval_cic(r, &c), 333);
	c.now = utc(2027, 2, 14, 18, 0, 0);
	assert_int_equal(eval_cic(r, &c), 222);
	json_decref(r);
}

static void test_cpr__dow_ranges(void **state)
{
	json_t *week = one_decision("dow", "'mon-fri'");
	json_t *wrap = one_decision("dow", "'fri-mon', 'wed'");
	struct cpr_call c = base_call(); /* Wednesday */

	(void)state;
	assert_int_equal(eval_cic(week, &c), 222);
	c.now = utc(2026, 1, 16, 18, 0, 0); /* Friday */
	assert_int_equal(eval_cic(week, &c), 222);
	assert_int_equal(eval_cic(wrap, &c), 222);
	c.now = utc(2026, 1, 17, 18, 0, 0); /* Saturday */
	assert_int_equal(eval_cic(week, &c), 333);
	assert_int_equal(eval_cic(wrap, &c), 222);
	c.now = utc(2026, 1, 18, 18, 0, 0); /* Sunday */
	assert_int_equal(eval_cic(wrap, &c), 222);
	c.now = utc(2026, 1, 20, 18, 0, 0); /* Tuesday */
	assert_int_equal(eval_cic(wrap, &c), 333);
	/* Saturday 02:00 UTC is still Friday evening in zone C. */
	c.now = utc(2026, 1, 17, 2, 0, 0);
	assert_int_equal(eval_cic(week, &c), 222);
	json_decref(week);
	json_decref(wrap);
}

static void test_cpr__time_bounds_winter_and_summer(void **state)
{
	json_t *r = one_decision("time", "'08:00-17:00'");
	struct cpr_call c = base_call();

	(void)state;
	/* January: CST, UTC-6. */
	c.now = utc(2026, 1, 14, 13, 59, 59);
	assert_int_equal(eval_cic(r, &c), 333);
	c.now = utc(2026, 1, 14, 14, 0, 0);
	assert_int_equal(eval_cic(r, &c), 222);
	c.now = utc(2026, 1, 14, 22, 59, 59);
	assert_int_equal(eval_cic(r, &c), 222);
	c.now = utc(2026, 1, 14, 23, 0, 0);
	assert_int_equal(eval_cic(r, &c), 333);
	/* July: CDT, UTC-5, so the same UTC instants fall an hour later. */
	c.now = utc(2026, 7, 15, 13, 0, 0);
	assert_int_equal(eval_cic(r, &c), 222);
	c.now = utc(2026, 7, 15, 12, 59, 59);
	assert_int_equal(eval_cic(r, &c), 333);
	c.now = utc(2026, 7, 15, 21, 59, 59);
	assert_int_equal(eval_cic(r, &c), 222);
	c.now = utc(2026, 7, 15, 22, 0, 0);
	assert_int_equal(eval_cic(r, &c), 333);
	json_decref(r);
}

static void test_cpr__time_until_midnight(void **state)
{
	json_t *r = one_decision("time", "'17:00-00:00'");
	struct cpr_call c = base_call();

	(void)state;
	assert_int_equal(cpr_validate(r, NULL, 0), 0);
	c.now = utc(2026, 1, 15, 5, 59, 59); /* 23:59:59 CST */
	assert_int_equal(eval_cic(r, &c), 222);
	c.now = utc(2026, 1, 15, 6, 0, 0); /* 00:00 CST */
	assert_int_equal(eval_cic(r, &c), 333);
	json_decref(r);
}

/* The local time the IR reports for an instant. */
static void check_local(const json_t *r, int64_t now, const char *local, const char *offset)
{
	struct cpr_call c = base_call();
	struct cpr_result out;

	c.now = now;
	assert_int_equal(cpr_eval(r, &c, &out), 0);
	assert_string_equal(json_string_value(json_object_get(out.ir, "localTime")), local);
	assert_string_equal(json_string_value(json_object_get(out.ir, "utcOffset")), offset);
	json_decref(out.ir);
}

static void test_cpr__dst_transitions(void **state)
{
	json_t *r = with_main("{'carrier': '0288'}");
	json_t *nodst = load("{'crn': '8445550000', 'timezone': 'C', 'dst': false,"
			     " 'sections': {'M': {'carrier': '0288'}}}");
	json_t *nf = load("{'crn': '8775550000', 'timezone': 'N', 'dst': true,"
			  " 'sections': {'M': {'carrier': '0288'}}}");

	(void)state;
	/* 2026: second Sunday of March is the 8th, first Sunday of November the 1st. */
	check_local(r, utc(2026, 3, 8, 7, 59, 59), "2026-03-08T01:59:59", "-06:00");
	check_local(r, utc(2026, 3, 8, 8, 0, 0), "2026-03-08T03:00:00", "-05:00");
	check_local(r, utc(2026, 11, 1, 6, 59, 59), "2026-11-01T01:59:59", "-05:00");
	check_local(r, utc(2026, 11, 1, 7, 0, 0), "2026-11-01T01:00:00", "-06:00");
	check_local(nodst, utc(2026, 7, 15, 15, 0, 0), "2026-07-15T09:00:00", "-06:00");
	check_local(nf, utc(2026, 1, 14, 15, 0, 0), "2026-01-14T11:30:00", "-03:30");
	check_local(nf, utc(2026, 7, 15, 15, 0, 0), "2026-07-15T12:30:00", "-02:30");
	json_decref(r);
	json_decref(nodst);
	json_decref(nf);
}

static void test_cpr__percent_draws(void **state)
{
	json_t *r = with_main("{'decision': 'percent', 'branches': ["
			      "{'percent': 60, 'then': {'carrier': '0222'}},"
			      "{'percent': 40, 'then': {'carrier': '0333'}}]}");
	struct cpr_call c = base_call();
	struct cpr_result out = { .cic = "none" };

	(void)state;
	assert_int_equal(cpr_validate(r, NULL, 0), 0);
	c.percent_draw = 0;
	assert_int_equal(eval_cic(r, &c), 222);
	c.percent_draw = 59;
	assert_int_equal(eval_cic(r, &c), 222);
	c.percent_draw = 60;
	assert_int_equal(eval_cic(r, &c), 333);
	c.percent_draw = 99;
	assert_int_equal(eval_cic(r, &c), 333);
	c.percent_draw = 100;
	assert_int_equal(cpr_eval(r, &c, &out), -1);
	assert_string_equal(out.cic, "none");
	json_decref(r);
}

static void test_cpr__switch_on_and_off(void **state)
{
	json_t *on = with_main("{'decision': 'switch', 'on': true,"
			       " 'then': {'carrier': '0222'}, 'other': {'carrier': '0333'}}");
	json_t *off = with_main("{'decision': 'switch', 'on': false,"
				" 'then': {'carrier': '0222'}, 'other': {'carrier': '0333'}}");
	struct cpr_call c = base_call();

	(void)state;
	assert_int_equal(cpr_validate(on, NULL, 0), 0);
	assert_int_equal(eval_cic(on, &c), 222);
	assert_int_equal(eval_cic(off, &c), 333);
	json_decref(on);
	json_decref(off);
}

static void test_cpr__goto_sub_section_with_tel(void **state)
{
	json_t *r = load("{'crn': '8885550000', 'timezone': 'E', 'dst': true, 'sections': {"
			 " 'M': {'decision': 'npa', 'branches': ["
			 "  {'values': ['303'], 'then': {'goto': 'S1'}}],"
			 "  'other': {'carrier': '0333'}},"
			 " 'S1': {'carrier': '0222', 'tel': '3035550199'}}}");
	struct cpr_call c = base_call();
	struct cpr_result out;
	char *ir;

	(void)state;
	assert_int_equal(cpr_validate(r, NULL, 0), 0);
	ir = eval_ir(r, &c, &out);
	assert_string_equal(out.cic, "0222");
	assert_string_equal(out.tel, "3035550199");
	assert_string_equal(ir,
		"{\"path\":[{\"node\":\"npa\",\"value\":\"303\",\"branch\":0},"
		"{\"node\":\"goto\",\"section\":\"S1\"},"
		"{\"node\":\"carrier\",\"cic\":\"0222\",\"tel\":\"3035550199\"}],"
		"\"section\":\"S1\",\"localTime\":\"2026-01-14T10:00:00\","
		"\"utcOffset\":\"-05:00\"}");
	free(ir);
	json_decref(r);
}

static void test_cpr__goto_loop_fails(void **state)
{
	json_t *r = load("{'crn': '8005551234', 'timezone': 'C', 'dst': true, 'sections': {"
			 " 'M': {'goto': 'S1'}, 'S1': {'decision': 'lata', 'branches': ["
			 "  {'values': ['656'], 'then': {'goto': 'M'}}],"
			 "  'other': {'carrier': '0288'}}}}");
	struct cpr_call c = base_call();
	struct cpr_result out = { .cic = "none", .tel = "keep", .ir = NULL };
	char err[128];

	(void)state;
	assert_int_equal(cpr_validate(r, err, sizeof(err)), -1);
	assert_string_equal(err, "goto cycle through section M");
	/* Evaluated anyway, the walk stops at the goto limit and leaves out alone. */
	assert_int_equal(cpr_eval(r, &c, &out), -1);
	assert_string_equal(out.cic, "none");
	assert_string_equal(out.tel, "keep");
	assert_null(out.ir);
	c.lata = 658; /* a call that never takes the loop is fine */
	assert_int_equal(eval_cic(r, &c), 288);
	json_decref(r);
}

static void test_cpr__no_match_without_default_fails(void **state)
{
	json_t *r = with_main("{'decision': 'npa', 'branches': ["
			      "{'values': ['212'], 'then': {'carrier': '0222'}}]}");
	struct cpr_call c = base_call();
	struct cpr_result out = { .cic = "none", .tel = "keep", .ir = NULL };

	(void)state;
	assert_int_equal(cpr_validate(r, NULL, 0), 0);
	assert_int_equal(cpr_eval(r, &c, &out), -1);
	assert_string_equal(out.cic, "none");
	assert_string_equal(out.tel, "keep");
	assert_null(out.ir);
	c.ani = 2125550000;
	assert_int_equal(eval_cic(r, &c), 222);
	json_decref(r);
}

/* A main section of depth nested npa decisions over one carrier. */
static json_t *nested(unsigned depth)
{
	json_t *node = json_pack("{s:s}", "carrier", "0288");

	for (unsigned i = 0; i < depth; i++)
		node = json_pack("{s:s, s:[{s:[s], s:o}]}", "decision", "npa", "branches",
				 "values", "303", "then", node);
	assert_non_null(node);
	return json_pack("{s:s, s:s, s:b, s:{s:o}}", "crn", "8005551234", "timezone", "C",
			 "dst", 1, "sections", "M", node);
}

static void test_cpr__nesting_limit(void **state)
{
	json_t *ok = nested(32), *deep = nested(33);
	struct cpr_call c = base_call();
	char err[128];

	(void)state;
	assert_int_equal(cpr_validate(ok, err, sizeof(err)), 0);
	assert_int_equal(eval_cic(ok, &c), 288);
	assert_int_equal(cpr_validate(deep, err, sizeof(err)), -1);
	assert_string_equal(err, "section M: nesting deeper than 32");
	assert_int_equal(eval_cic(deep, &c), -1);
	json_decref(ok);
	json_decref(deep);
}

/* A record whose sections M, S1 .. Sn-1 chain by goto; the last routes to 0288. */
static json_t *goto_chain(unsigned n)
{
	json_t *sections = json_object();
	char name[16], next[16];

	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), i == 0 ? "M" : "S%u", i);
		snprintf(next, sizeof(next), "S%u", i + 1);
		json_object_set_new(sections, name, i + 1 < n ?
				    json_pack("{s:s}", "goto", next) :
				    json_pack("{s:s}", "carrier", "0288"));
	}
	return json_pack("{s:s, s:s, s:b, s:o}", "crn", "8005551234", "timezone", "C",
			 "dst", 1, "sections", sections);
}

static void test_cpr__goto_chain_limit(void **state)
{
	json_t *ok = goto_chain(65), *along = goto_chain(66);
	struct cpr_call c = base_call();
	char err[128];

	(void)state;
	assert_int_equal(cpr_validate(ok, err, sizeof(err)), 0); /* 64 gotos */
	assert_int_equal(eval_cic(ok, &c), 288);
	assert_int_equal(cpr_validate(along, err, sizeof(err)), -1);
	assert_string_equal(err, "goto chain longer than 64");
	assert_int_equal(eval_cic(along, &c), -1);
	json_decref(ok);
	json_decref(along);
}

/* A section holding one npa decision with n branches, each to a carrier. */
static json_t *wide(unsigned n)
{
	json_t *branches = json_array();

	for (unsigned i = 0; i < n; i++)
		json_array_append_new(branches, json_pack("{s:[s], s:{s:s}}", "values", "303",
							  "then", "carrier", "0288"));
	return json_pack("{s:s, s:o}", "decision", "npa", "branches", branches);
}

static json_t *wide_record(unsigned sections, unsigned branches, unsigned last)
{
	json_t *s = json_object();
	char name[16];

	for (unsigned i = 0; i < sections; i++) {
		snprintf(name, sizeof(name), i == 0 ? "M" : "S%u", i);
		json_object_set_new(s, name, wide(i + 1 == sections ? last : branches));
	}
	return json_pack("{s:s, s:s, s:b, s:o}", "crn", "8005551234", "timezone", "C",
			 "dst", 1, "sections", s);
}

static void test_cpr__size_limits(void **state)
{
	json_t *r;
	char err[128];

	(void)state;
	r = wide_record(1, 1001, 1001);
	assert_int_equal(cpr_validate(r, err, sizeof(err)), -1);
	assert_string_equal(err, "section M: more than 1000 branches");
	json_decref(r);

	/* 4 sections of 1001 nodes and one of 92: exactly 4096 nodes. */
	r = wide_record(5, 1000, 91);
	assert_int_equal(cpr_validate(r, err, sizeof(err)), 0);
	json_decref(r);
	r = wide_record(5, 1000, 92);
	assert_int_equal(cpr_validate(r, err, sizeof(err)), -1);
	assert_string_equal(err, "section S4: more than 4096 nodes");
	json_decref(r);
}

static void test_cpr__validation_reasons(void **state)
{
	static const struct {
		const char *record, *reason;
	} cases[] = {
		{ "['8005551234']", "record is not an object" },
		{ "{'crn': '800555123', 'timezone': 'C', 'dst': true, 'sections': {}}",
		  "crn must be 10 digits" },
		{ "{'crn': 8005551234, 'timezone': 'C', 'dst': true, 'sections': {}}",
		  "crn must be 10 digits" },
		{ "{'crn': '3035551234', 'timezone': 'C', 'dst': true, 'sections': {}}",
		  "crn is not a toll-free (8YY) number" },
		{ "{'crn': '8005551234', 'timezone': 'X', 'dst': true, 'sections': {}}",
		  "unknown timezone (use N, A, E, C, M, P, Y or H)" },
		{ "{'crn': '8005551234', 'timezone': 'C', 'sections': {}}",
		  "dst must be true or false" },
		{ "{'crn': '8005551234', 'timezone': 'C', 'dst': true, 'default_cic': '288',"
		  " 'sections': {}}", "default_cic must be 4 digits" },
		{ "{'crn': '8005551234', 'timezone': 'C', 'dst': true, 'sections': []}",
		  "sections must be an object" },
		{ "{'crn': '8005551234', 'timezone': 'C', 'dst': true,"
		  " 'sections': {'S1': {'carrier': '0288'}}}", "missing main section M" },
		{ "{'crn': '8005551234', 'timezone': 'C', 'dst': true, 'cic': '0288',"
		  " 'sections': {}}", "unknown key \"cic\" in record" },
		{ "{'crn': '8005551234', 'timezone': 'C', 'dst': true,"
		  " 'sections': {'M': {'goto': 'S-1'}, 'S-1': {'carrier': '0288'}}}",
		  "bad section name \"S-1\"" },
		{ "{'crn': '8005551234', 'timezone': 'C', 'dst': true,"
		  " 'sections': {'M': {'goto': 'M'}}}", "goto cycle through section M" },
	};
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = load(cases[i].record);

		err[0] = '\0';
		assert_int_equal(cpr_validate(r, err, sizeof(err)), -1);
		assert_string_equal(err, cases[i].reason);
		json_decref(r);
	}
}

static void test_cpr__node_reasons(void **state)
{
	static const struct {
		const char *node, *reason;
	} cases[] = {
		{ "{'decision': 'zip', 'branches': []}", "unknown decision type \"zip\"" },
		{ "{'carrier': '288'}", "carrier must be 4 digits" },
		{ "{'carrier': '02880'}", "carrier must be 4 digits" },
		{ "{'carrier': '0288', 'tel': '303555121'}", "tel must be 10 digits" },
		{ "{'carrier': '0288', 'goto': 'M'}",
		  "node needs exactly one of carrier, goto, decision" },
		{ "{'carrier': '0288', 'pots': '3035551212'}", "unknown key \"pots\" in node" },
		{ "{'goto': 'S9'}", "goto to missing section S9" },
		{ "{'decision': 'npa', 'branches': []}", "branches must be a non-empty array" },
		{ "{'decision': 'npa', 'branches': [{'values': ['30'],"
		  " 'then': {'carrier': '0288'}}]}", "bad npa value \"30\"" },
		{ "{'decision': 'nxx', 'branches': [{'values': ['55a'],"
		  " 'then': {'carrier': '0288'}}]}", "bad nxx value \"55a\"" },
		{ "{'decision': 'npanxx', 'branches': [{'values': ['3035551'],"
		  " 'then': {'carrier': '0288'}}]}", "bad npanxx value \"3035551\"" },
		{ "{'decision': 'ani', 'branches': [{'values': [3035551234],"
		  " 'then': {'carrier': '0288'}}]}", "values must be strings" },
		{ "{'decision': 'lata', 'branches': [{'values': ['6560'],"
		  " 'then': {'carrier': '0288'}}]}", "bad lata value \"6560\"" },
		{ "{'decision': 'state', 'branches': [{'values': ['co'],"
		  " 'then': {'carrier': '0288'}}]}", "bad state value \"co\"" },
		{ "{'decision': 'time', 'branches': [{'values': ['8:00-17:00'],"
		  " 'then': {'carrier': '0288'}}]}", "bad time value \"8:00-17:00\"" },
		{ "{'decision': 'time', 'branches': [{'values': ['08:00-24:00'],"
		  " 'then': {'carrier': '0288'}}]}", "bad time value \"08:00-24:00\"" },
		{ "{'decision': 'time', 'branches': [{'values': ['17:00-08:00'],"
		  " 'then': {'carrier': '0288'}}]}",
		  "time range end not after start \"17:00-08:00\"" },
		{ "{'decision': 'time', 'branches': [{'values': ['08:00-08:00'],"
		  " 'then': {'carrier': '0288'}}]}",
		  "time range end not after start \"08:00-08:00\"" },
		{ "{'decision': 'date', 'branches': [{'values': ['02/30'],"
		  " 'then': {'carrier': '0288'}}]}", "bad date value \"02/30\"" },
		{ "{'decision': 'date', 'branches': [{'values': ['2026-02-29'],"
		  " 'then': {'carrier': '0288'}}]}", "bad date value \"2026-02-29\"" },
		{ "{'decision': 'date', 'branches': [{'values': ['12/24-2027-01-02'],"
		  " 'then': {'carrier': '0288'}}]}", "bad date value \"12/24-2027-01-02\"" },
		{ "{'decision': 'date', 'branches': [{'values': ['2026-01-02-2025-12-24'],"
		  " 'then': {'carrier': '0288'}}]}",
		  "date range end before start \"2026-01-02-2025-12-24\"" },
		{ "{'decision': 'dow', 'branches': [{'values': ['monday'],"
		  " 'then': {'carrier': '0288'}}]}", "bad dow value \"monday\"" },
		{ "{'decision': 'dow', 'branches': [{'values': ['mon-fry'],"
		  " 'then': {'carrier': '0288'}}]}", "bad dow value \"mon-fry\"" },
		{ "{'decision': 'npa', 'branches': [{'values': [],"
		  " 'then': {'carrier': '0288'}}]}", "values must be a non-empty array" },
		{ "{'decision': 'npa', 'branches': [{'values': ['303']}]}", "branch needs then" },
		{ "{'decision': 'npa', 'branches': [{'values': ['303'], 'percent': 5,"
		  " 'then': {'carrier': '0288'}}]}", "unknown key \"percent\" in branch" },
		{ "{'decision': 'percent', 'branches': ["
		  " {'percent': 60, 'then': {'carrier': '0288'}},"
		  " {'percent': 30, 'then': {'carrier': '0222'}}]}",
		  "percents must total 100, not 90" },
		{ "{'decision': 'percent', 'branches': ["
		  " {'percent': 60.5, 'then': {'carrier': '0288'}},"
		  " {'percent': 39.5, 'then': {'carrier': '0222'}}]}",
		  "percent must be a whole number 0-100" },
		{ "{'decision': 'percent', 'branches': ["
		  " {'percent': 100, 'then': {'carrier': '0288'}}], 'other': {'carrier': '0222'}}",
		  "percent decision takes no other" },
		{ "{'decision': 'switch', 'on': 'yes', 'then': {'carrier': '0288'}}",
		  "switch needs on: true or false" },
		{ "{'decision': 'switch', 'on': true, 'other': {'carrier': '0288'}}",
		  "switch needs then" },
		{ "{'decision': 'npa', 'branches': [{'values': ['303'],"
		  " 'then': {'carrier': '0288'}}], 'other': 'carrier'}",
		  "node must be an object" },
	};
	char err[160];
	struct cpr_call c = base_call();
	struct cpr_result out;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *r = with_main(cases[i].node);
		char want[160];

		snprintf(want, sizeof(want), "section M: %s", cases[i].reason);
		err[0] = '\0';
		assert_int_equal(cpr_validate(r, err, sizeof(err)), -1);
		assert_string_equal(err, want);
		/* Evaluating a rejected record must stay safe (ASan watches this). */
		if (cpr_eval(r, &c, &out) == 0)
			json_decref(out.ir);
		json_decref(r);
	}
}

static void test_cpr__short_err_buffer(void **state)
{
	json_t *r = with_main("{'carrier': '288'}");
	char err[8] = "xxxxxxx";

	(void)state;
	assert_int_equal(cpr_validate(r, err, sizeof(err)), -1);
	assert_string_equal(err, "section");
	assert_int_equal(cpr_validate(r, NULL, 0), -1);
	json_decref(r);
}

static void test_cpr__eval_leaves_record_alone(void **state)
{
	json_t *r = load(example);
	json_t *m = json_object_get(json_object_get(r, "sections"), "M");
	char *before = json_dumps(r, JSON_COMPACT), *after;
	size_t refs = r->refcount, mrefs = m->refcount;
	struct cpr_call c = base_call();

	(void)state;
	for (unsigned draw = 0; draw < 100; draw += 7) {
		c.percent_draw = draw;
		assert_true(eval_cic(r, &c) > 0);
	}
	after = json_dumps(r, JSON_COMPACT);
	assert_string_equal(before, after);
	assert_int_equal(r->refcount, refs);
	assert_int_equal(m->refcount, mrefs);
	free(before);
	free(after);
	json_decref(r);
}

static void test_cpr__unvalidated_records_fail_safely(void **state)
{
	static const char *const bad[] = {
		"{'carrier': '288'}",
		"{'carrier': '0288', 'tel': '555'}",
		"{'decision': 'zip', 'branches': []}",
		"{'decision': 'npa',"
		" 'branches': [{'values': ['30'], 'then': {'carrier': '0222'}}]}",
		"{'decision': 'npa',"
		" 'branches': [{'values': ['303']}], 'other': {'carrier': '0222'}}",
		"{'decision': 'switch', 'on': true, 'other': {'carrier': '0222'}}",
		"{'goto': 'S9'}",
		"'0288'",
	};
	struct cpr_call c = base_call();
	json_t *r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = with_main(bad[i]);
		assert_int_equal(eval_cic(r, &c), -1);
		json_decref(r);
	}
	r = load("{'crn': '8005551234', 'timezone': 'Z', 'dst': true,"
		 " 'sections': {'M': {'carrier': '0288'}}}");
	assert_int_equal(eval_cic(r, &c), -1);
	json_decref(r);
	/* A clock far outside the calendar fails instead of overflowing. */
	r = with_main("{'carrier': '0288'}");
	c.now = INT64_MAX;
	assert_int_equal(eval_cic(r, &c), -1);
	c.now = 253402300799; /* 9999-12-31T23:59:59Z */
	assert_int_equal(eval_cic(r, &c), 288);
	c = base_call();
	json_decref(r);
	/* No M at all: the root is absent, so default_cic routes the call. */
	r = load("{'crn': '8005551234', 'timezone': 'C', 'dst': true, 'default_cic': '0110',"
		 " 'sections': {}}");
	assert_int_equal(eval_cic(r, &c), 110);
	json_decref(r);
}

struct worker {
	const json_t *record;
	unsigned id;
	int bad; /* wrong answers seen */
};

/* Each thread alternates a Denver and a Chicago call and checks every answer. */
static void *worker_run(void *arg)
{
	struct worker *wk = arg;
	struct cpr_call c = base_call();

	/* No cmocka asserts here: they may only fail on the test's own thread. */
	for (unsigned i = 0; i < 2000; i++) {
		bool denver = (i + wk->id) % 2 == 0;
		struct cpr_result out;

		c.ani = denver ? 3035551234 : 3125557777;
		c.lata = denver ? 656 : 358;
		if (cpr_eval(wk->record, &c, &out) != 0) {
			wk->bad++;
			continue;
		}
		wk->bad += strcmp(out.cic, denver ? "0432" : "0222") != 0;
		json_decref(out.ir);
	}
	return NULL;
}

static void test_cpr__concurrent_evals(void **state)
{
	json_t *r = load(example);
	pthread_t th[4];
	struct worker wk[4];

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		wk[i] = (struct worker){ .record = r, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &wk[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(wk[i].bad, 0);
	}
	json_decref(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpr__epoch_helper),
		cmocka_unit_test(test_cpr__example_validates_and_routes),
		cmocka_unit_test(test_cpr__state_match_and_other),
		cmocka_unit_test(test_cpr__ani_digit_types),
		cmocka_unit_test(test_cpr__lata_match_and_other),
		cmocka_unit_test(test_cpr__date_annual_range_wraps_new_year),
		cmocka_unit_test(test_cpr__date_absolute_range_across_years),
		cmocka_unit_test(test_cpr__dow_ranges),
		cmocka_unit_test(test_cpr__time_bounds_winter_and_summer),
		cmocka_unit_test(test_cpr__time_until_midnight),
		cmocka_unit_test(test_cpr__dst_transitions),
		cmocka_unit_test(test_cpr__percent_draws),
		cmocka_unit_test(test_cpr__switch_on_and_off),
		cmocka_unit_test(test_cpr__goto_sub_section_with_tel),
		cmocka_unit_test(test_cpr__goto_loop_fails),
		cmocka_unit_test(test_cpr__no_match_without_default_fails),
		cmocka_unit_test(test_cpr__nesting_limit),
		cmocka_unit_test(test_cpr__goto_chain_limit),
		cmocka_unit_test(test_cpr__size_limits),
		cmocka_unit_test(test_cpr__validation_reasons),
		cmocka_unit_test(test_cpr__node_reasons),
		cmocka_unit_test(test_cpr__short_err_buffer),
		cmocka_unit_test(test_cpr__eval_leaves_record_alone),
		cmocka_unit_test(test_cpr__unvalidated_records_fail_safely),
		cmocka_unit_test(test_cpr__concurrent_evals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
