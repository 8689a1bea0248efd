/* test_bizcal.c - business hours across nights, weekends and holidays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/clock.h"
#include "soa/bizcal.h"

#define HOUR 3600

static struct bizcal cal_us(void)
{
	struct bizcal c;
	char err[200];

	if (bizcal_parse(&c, "mon-fri", "07:00-19:00", "-05:00", "2026-01-01, 2026-07-03", err,
			 sizeof(err)) != 0)
		fail_msg("calendar refused: %s", err);
	return c;
}

static int64_t at(const char *s)
{
	int64_t t = 0;

	if (clock_parse_rfc3339(s, &t) != 0)
		fail_msg("bad instant %s", s);
	return t;
}

static void expect_add(const struct bizcal *c, const char *from, int64_t secs, const char *want)
{
	char got[32];

	clock_format_rfc3339(bizcal_add(c, at(from), secs), got, sizeof(got));
	assert_string_equal(got, want);
}

static void test_parse(void **state)
{
	struct bizcal c = cal_us();

	assert_int_equal(c.days, 0x3e);
	assert_int_equal(c.open_min, 7 * 60);
	assert_int_equal(c.close_min, 19 * 60);
	assert_int_equal(c.utc_offset_min, -300);
	assert_int_equal(c.n_holidays, 2);
	assert_int_equal(c.holidays[0], 20454); /* 2026-01-01 */
	assert_int_equal(c.holidays[1], 20637); /* 2026-07-03 */
}

static void test_parse_wrap_and_list(void **state)
{
	struct bizcal c;
	char err[200];

	assert_int_equal(bizcal_parse(&c, "fri-mon", "00:00-24:00", "+00:00", "", err,
				      sizeof(err)), 0);
	assert_int_equal(c.days, 0x63); /* sun, mon, fri, sat */
	assert_int_equal(bizcal_parse(&c, "tue,thu", "08:30-17:15", "+05:30", "", err,
				      sizeof(err)), 0);
	assert_int_equal(c.days, 0x14);
	assert_int_equal(c.open_min, 8 * 60 + 30);
	assert_int_equal(c.utc_offset_min, 330);
}

static void test_parse_rejects(void **state)
{
	struct bizcal c = cal_us(), before = c;
	char err[200];

	assert_int_equal(bizcal_parse(&c, "mon-xyz", "07:00-19:00", "-05:00", "", err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "business days"));
	assert_int_equal(bizcal_parse(&c, "", "07:00-19:00", "-05:00", "", err, sizeof(err)), -1);
	assert_int_equal(bizcal_parse(&c, "mon-fri", "19:00-07:00", "-05:00", "", err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "hours"));
	assert_int_equal(bizcal_parse(&c, "mon-fri", "07:00-19:60", "-05:00", "", err,
				      sizeof(err)), -1);
	assert_int_equal(bizcal_parse(&c, "mon-fri", "07:00-19:00", "-15:00", "", err,
				      sizeof(err)), -1);
	assert_int_equal(bizcal_parse(&c, "mon-fri", "07:00-19:00", "0500", "", err,
				      sizeof(err)), -1);
	assert_int_equal(bizcal_parse(&c, "mon-fri", "07:00-19:00", "-05:00", "2026-02-30", err,
				      sizeof(err)), -1);
	assert_non_null(strstr(err, "holidays"));
	assert_int_equal(bizcal_parse(&c, "mon-fri", "07:00-19:00", "-05:00", "2026-1-01", err,
				      sizeof(err)), -1);
	assert_memory_equal(&c, &before, sizeof(c));
}

static void test_days(void **state)
{
	struct bizcal c = cal_us();

	assert_true(bizcal_is_business_day(&c, 20518));  /* Friday 2026-03-06 */
	assert_false(bizcal_is_business_day(&c, 20519)); /* Saturday */
	assert_false(bizcal_is_business_day(&c, 20520)); /* Sunday */
	assert_true(bizcal_is_business_day(&c, 20521));  /* Monday */
	assert_false(bizcal_is_business_day(&c, 20637)); /* the Friday holiday */
	assert_int_equal(bizcal_prev_business_day(&c, 20521), 20518);
	assert_int_equal(bizcal_prev_business_day(&c, 20640), 20636); /* Mon -> Thu */
	assert_int_equal(bizcal_add_days(&c, 20518, 1), 20521);
	assert_int_equal(bizcal_add_days(&c, 20636, 1), 20640);
	assert_int_equal(bizcal_add_days(&c, 20636, 0), 20636);
	/* 23:30 local on Friday is already Saturday 04:30 UTC: still Friday locally. */
	assert_int_equal(bizcal_day(&c, at("2026-03-07T04:30:00Z")), 20518);
	assert_int_equal(bizcal_instant(&c, 20521, 7 * 60), at("2026-03-09T12:00:00Z"));
}

static void test_add_same_day(void **state)
{
	struct bizcal c = cal_us();

	expect_add(&c, "2026-03-09T14:00:00Z", 2 * HOUR, "2026-03-09T16:00:00Z");
	/* Before opening: the clock starts at 07:00 local. */
	expect_add(&c, "2026-03-09T10:00:00Z", HOUR, "2026-03-09T13:00:00Z");
	/* The whole day lands exactly on closing time. */
	expect_add(&c, "2026-03-09T12:00:00Z", 12 * HOUR, "2026-03-10T00:00:00Z");
	expect_add(&c, "2026-03-09T14:00:00Z", 0, "2026-03-09T14:00:00Z");
}

static void test_add_over_night_and_weekend(void **state)
{
	struct bizcal c = cal_us();

	/* Tue 18:00 local + 2h: one hour Tuesday, one Wednesday from 07:00. */
	expect_add(&c, "2026-03-10T23:00:00Z", 2 * HOUR, "2026-03-11T13:00:00Z");
	/* Fri 17:00 local + 9h: 2h Friday, 7h Monday -> Mon 14:00 local. */
	expect_add(&c, "2026-03-06T22:00:00Z", 9 * HOUR, "2026-03-09T19:00:00Z");
	/* Saturday counts nothing: starts Monday 07:00. */
	expect_add(&c, "2026-03-07T15:00:00Z", HOUR, "2026-03-09T13:00:00Z");
}

static void test_add_over_holiday(void **state)
{
	struct bizcal c = cal_us();

	/* Thu 18:00 local + 9h: 1h Thursday, Friday is a holiday, 8h Monday. */
	expect_add(&c, "2026-07-02T23:00:00Z", 9 * HOUR, "2026-07-06T20:00:00Z");
}

/* ---- US daylight saving time (2026: 8 March and 1 November) ---- */

static struct bizcal cal_us_dst(void)
{
	struct bizcal c = cal_us();

	bizcal_set_us_dst(&c, true);
	return c;
}

static int64_t day_of(int y, unsigned m, unsigned d)
{
	return clock_days_from_civil(y, m, d);
}

static void test_dst_switch_instants(void **state)
{
	struct bizcal c = cal_us_dst(), std = cal_us();

	/* Eastern: 02:00 EST is 07:00Z in March, 02:00 EDT is 06:00Z in November. */
	assert_false(clock_us_dst(at("2026-03-08T06:59:59Z"), -5 * HOUR));
	assert_true(clock_us_dst(at("2026-03-08T07:00:00Z"), -5 * HOUR));
	assert_true(clock_us_dst(at("2026-11-01T05:59:59Z"), -5 * HOUR));
	assert_false(clock_us_dst(at("2026-11-01T06:00:00Z"), -5 * HOUR));
	/* Pacific switches three hours later in UTC. */
	assert_false(clock_us_dst(at("2026-03-08T09:59:59Z"), -8 * HOUR));
	assert_true(clock_us_dst(at("2026-03-08T10:00:00Z"), -8 * HOUR));
	assert_false(clock_us_dst(at("2026-11-01T09:00:00Z"), -8 * HOUR));
	/* 2027: second Sunday 14 March, first Sunday 7 November. */
	assert_false(clock_us_dst(at("2027-03-13T12:00:00Z"), -5 * HOUR));
	assert_true(clock_us_dst(at("2027-03-14T12:00:00Z"), -5 * HOUR));
	assert_true(clock_us_dst(at("2027-11-06T12:00:00Z"), -5 * HOUR));
	assert_false(clock_us_dst(at("2027-11-07T12:00:00Z"), -5 * HOUR));

	assert_int_equal(bizcal_offset_at(&c, at("2026-03-08T06:59:59Z")), -300);
	assert_int_equal(bizcal_offset_at(&c, at("2026-03-08T07:00:00Z")), -240);
	assert_int_equal(bizcal_offset_at(&c, at("2026-11-01T05:59:59Z")), -240);
	assert_int_equal(bizcal_offset_at(&c, at("2026-11-01T06:00:00Z")), -300);
	assert_int_equal(bizcal_offset_at(&std, at("2026-07-01T12:00:00Z")), -300);
	/* Opening time is 07:00 on the wall clock either side of each switch. */
	assert_int_equal(bizcal_instant(&c, day_of(2026, 3, 6), 420), at("2026-03-06T12:00:00Z"));
	assert_int_equal(bizcal_instant(&c, day_of(2026, 3, 9), 420), at("2026-03-09T11:00:00Z"));
	assert_int_equal(bizcal_instant(&std, day_of(2026, 3, 9), 420),
			 at("2026-03-09T12:00:00Z"));
	assert_int_equal(bizcal_instant(&c, day_of(2026, 10, 30), 420),
			 at("2026-10-30T11:00:00Z"));
	assert_int_equal(bizcal_instant(&c, day_of(2026, 11, 2), 420), at("2026-11-02T12:00:00Z"));
	/* 02:30 on 8 March does not exist (03:30 EDT); 01:30 on 1 November is the EDT one. */
	assert_int_equal(bizcal_instant(&c, day_of(2026, 3, 8), 150), at("2026-03-08T07:30:00Z"));
	assert_int_equal(bizcal_instant(&c, day_of(2026, 11, 1), 90), at("2026-11-01T05:30:00Z"));
	assert_int_equal(bizcal_instant(&c, day_of(2026, 11, 1), 150), at("2026-11-01T07:30:00Z"));
	/* Local midnight moves with the offset. */
	assert_int_equal(bizcal_day(&c, at("2026-07-15T04:30:00Z")), day_of(2026, 7, 15));
	assert_int_equal(bizcal_day(&std, at("2026-07-15T04:30:00Z")), day_of(2026, 7, 14));
	assert_int_equal(bizcal_day(&c, at("2026-03-08T04:30:00Z")), day_of(2026, 3, 7));
	assert_int_equal(bizcal_day(&c, at("2026-11-01T03:30:00Z")), day_of(2026, 10, 31));
	assert_int_equal(bizcal_day(&c, at("2026-11-02T04:30:00Z")), day_of(2026, 11, 1));
}

static void test_dst_timers_over_switch(void **state)
{
	struct bizcal c = cal_us_dst(), std = cal_us();

	/* Fri 6 March 18:00 EST + 2h: 1h Friday, then Monday opens 07:00 EDT (11:00Z). */
	expect_add(&c, "2026-03-06T23:00:00Z", 2 * HOUR, "2026-03-09T12:00:00Z");
	expect_add(&std, "2026-03-06T23:00:00Z", 2 * HOUR, "2026-03-09T13:00:00Z");
	/* A full summer day: 07:00-19:00 EDT is 11:00Z-23:00Z. */
	expect_add(&c, "2026-06-15T11:00:00Z", 12 * HOUR, "2026-06-15T23:00:00Z");
	expect_add(&c, "2026-06-15T10:00:00Z", HOUR, "2026-06-15T12:00:00Z");
	/* Fri 30 October 22:00Z is 18:00 EDT: 1h left, then Monday 07:00 EST (12:00Z). */
	expect_add(&c, "2026-10-30T22:00:00Z", 2 * HOUR, "2026-11-02T13:00:00Z");
	/* Without the rule the same instant is 17:00 and both hours fit on Friday. */
	expect_add(&std, "2026-10-30T22:00:00Z", 2 * HOUR, "2026-10-31T00:00:00Z");
	/* Nine hours from Friday 17:00 EDT: 2h Friday, 7h Monday -> 14:00 EST. */
	expect_add(&c, "2026-10-30T21:00:00Z", 9 * HOUR, "2026-11-02T19:00:00Z");
	/* Business days are the same local days. */
	assert_true(bizcal_is_business_day(&c, bizcal_day(&c, at("2026-03-09T11:30:00Z"))));
	assert_false(bizcal_is_business_day(&c, bizcal_day(&c, at("2026-03-09T03:30:00Z"))));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_wrap_and_list),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_add_same_day),
		cmocka_unit_test(test_add_over_night_and_weekend),
		cmocka_unit_test(test_add_over_holiday),
		cmocka_unit_test(test_dst_switch_instants),
		cmocka_unit_test(test_dst_timers_over_switch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
