/* test_clock.c - RFC 3339 parsing and formatting, calendar fields, the settable clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/clock.h"

#define UNTOUCHED 123456789

static int64_t parse_ok(const char *s)
{
	int64_t v = UNTOUCHED;

	if (clock_parse_rfc3339(s, &v) != 0)
		fail_msg("rejected \"%s\"", s);
	return v;
}

static void expect_reject(const char *s)
{
	int64_t v = UNTOUCHED;

	if (clock_parse_rfc3339(s, &v) != -1)
		fail_msg("accepted \"%s\" as %lld", s ? s : "(null)", (long long)v);
	assert_int_equal(v, UNTOUCHED);
}

static void test_clock__parse_known_instants(void **state)
{
	/* Values from `date -u -d ... +%s`. */
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -1);
	assert_int_equal(parse_ok("2026-03-10T15:00:00Z"), 1773154800);
	assert_int_equal(parse_ok("2038-01-19T03:14:08Z"), 2147483648);
	assert_int_equal(parse_ok("2100-03-01T00:00:00Z"), 4107542400);
	assert_int_equal(parse_ok("1900-01-01T00:00:00Z"), -2208988800);
	/* Lower-case t and z, and a space instead of T, are RFC 3339 too. */
	assert_int_equal(parse_ok("2026-03-10t15:00:00z"), 1773154800);
	assert_int_equal(parse_ok("2026-03-10 15:00:00Z"), 1773154800);
	/* Fractions are read and dropped. */
	assert_int_equal(parse_ok("2026-03-10T15:00:00.999Z"), 1773154800);
	assert_int_equal(parse_ok("2026-03-10T15:00:00.5+00:00"), 1773154800);
}

static void test_clock__offsets(void **state)
{
	int64_t z = parse_ok("2026-03-10T09:30:00Z");

	assert_int_equal(parse_ok("2026-03-10T15:00:00+05:30"), z);
	assert_int_equal(parse_ok("2026-03-10T01:30:00-08:00"), z);
	assert_int_equal(parse_ok("2026-03-10T09:30:00+00:00"), z);
	assert_int_equal(parse_ok("2026-03-10T09:30:00-00:00"), z);
	/* An offset can move the instant across a day and a year. */
	assert_int_equal(parse_ok("2027-01-01T01:00:00+02:00"),
			 parse_ok("2026-12-31T23:00:00Z"));
	assert_int_equal(parse_ok("2026-12-31T23:00:00-23:59"),
			 parse_ok("2027-01-01T22:59:00Z"));
}

static void test_clock__calendar_validity(void **state)
{
	assert_int_equal(parse_ok("2024-02-29T00:00:00Z"), 1709164800);
	assert_int_equal(parse_ok("2000-02-29T12:34:56Z"), 951827696);
	expect_reject("2023-02-29T00:00:00Z");
	expect_reject("1900-02-29T00:00:00Z"); /* century, not divisible by 400 */
	expect_reject("2024-02-30T00:00:00Z");
	expect_reject("2026-04-31T00:00:00Z");
	expect_reject("2026-06-31T00:00:00Z");
	expect_reject("2026-09-31T00:00:00Z");
	expect_reject("2026-11-31T00:00:00Z");
	parse_ok("2026-04-30T00:00:00Z");
	parse_ok("2026-12-31T23:59:59Z");
	expect_reject("2026-00-10T00:00:00Z");
	expect_reject("2026-13-10T00:00:00Z");
	expect_reject("2026-01-00T00:00:00Z");
	expect_reject("2026-01-32T00:00:00Z");
	expect_reject("2026-01-10T24:00:00Z");
	expect_reject("2026-01-10T23:60:00Z");
	expect_reject("2026-01-10T23:59:61Z");
	/* A leap second reads as the first second of the next minute. */
	assert_int_equal(parse_ok("2016-12-31T23:59:60Z"), parse_ok("2017-01-01T00:00:00Z"));
}

static void test_clock__garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"2026-03-10",
		"2026-03-10T15:00:00",       /* no zone */
		"2026-03-10T15:00Z",         /* no seconds */
		"2026-3-10T15:00:00Z",
		"26-03-10T15:00:00Z",
		"2026/03/10T15:00:00Z",
		"2026-03-10X15:00:00Z",
		"2026-03-10T15:00:00ZZ",
		"2026-03-10T15:00:00Z ",
		" 2026-03-10T15:00:00Z",
		"2026-03-10T15:00:00+0530",
		"2026-03-10T15:00:00+05",
		"2026-03-10T15:00:00+05:3",
		"2026-03-10T15:00:00+24:00",
		"2026-03-10T15:00:00+05:60",
		"2026-03-10T15:00:00 +05:30",
		"2026-03-10T15:00:00UTC",
		"2026-03-10T15:00:00.123",
		"2026-03-10T1a:00:00Z",
		"+2026-03-10T15:00:00Z",
		"2026-03-10T15:00:00Z\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_reject(bad[i]);
	expect_reject(NULL);
}

/*
 * RFC 3339 section 5.6: time-secfrac = "." 1*DIGIT. A dot with no digit after
 * it is not a timestamp.
 */
static void test_clock__fraction_needs_a_digit(void **state)
{
	expect_reject("2026-03-10T15:00:00.Z");
	expect_reject("2026-03-10T15:00:00.+05:30");
}

static void test_clock__format(void **state)
{
	char out[32];

	clock_format_rfc3339(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	clock_format_rfc3339(-1, out, sizeof(out));
	assert_string_equal(out, "1969-12-31T23:59:59Z");
	clock_format_rfc3339(1709164800, out, sizeof(out));
	assert_string_equal(out, "2024-02-29T00:00:00Z");
	clock_format_rfc3339(2147483648, out, sizeof(out));
	assert_string_equal(out, "2038-01-19T03:14:08Z");
	/* 21 bytes is enough, as the header promises. */
	memset(out, 'x', sizeof(out));
	clock_format_rfc3339(1773154800, out, 21);
	assert_string_equal(out, "2026-03-10T15:00:00Z");
}

static void test_clock__round_trips(void **state)
{
	static const char *const in[] = {
		"2026-03-10T15:00:00Z", "2024-02-29T23:59:59Z", "1999-12-31T00:00:01Z",
		"2000-01-01T00:00:00Z", "1960-07-04T12:00:00Z", "2400-02-29T06:07:08Z",
	};
	char out[32];

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		clock_format_rfc3339(parse_ok(in[i]), out, sizeof(out));
		assert_string_equal(out, in[i]);
	}
	/* Formatting then parsing is the identity on a spread of instants. */
	for (int64_t t = -4000000000; t < 8000000000; t += 86399 * 37 + 13) {
		clock_format_rfc3339(t, out, sizeof(out));
		assert_int_equal(parse_ok(out), t);
	}
	/* An offset is normalised to Z on the way out. */
	clock_format_rfc3339(parse_ok("2026-03-10T15:00:00+05:30"), out, sizeof(out));
	assert_string_equal(out, "2026-03-10T09:30:00Z");
}

static void expect_split(int64_t t, int y, int mo, int d, int h, int mi, int s, int wday)
{
	struct clock_tm tm;

	memset(&tm, 0x55, sizeof(tm));
	clock_split(t, &tm);
	assert_int_equal(tm.year, y);
	assert_int_equal(tm.mon, mo);
	assert_int_equal(tm.mday, d);
	assert_int_equal(tm.hour, h);
	assert_int_equal(tm.min, mi);
	assert_int_equal(tm.sec, s);
	assert_int_equal(tm.wday, wday);
}

static void test_clock__split_and_weekday(void **state)
{
	expect_split(0, 1970, 1, 1, 0, 0, 0, 4);                    /* Thursday */
	expect_split(-1, 1969, 12, 31, 23, 59, 59, 3);              /* Wednesday */
	expect_split(-86400 * 7, 1969, 12, 25, 0, 0, 0, 4);         /* Thursday */
	expect_split(1796342400, 2026, 12, 4, 0, 0, 0, 5);          /* Friday */
	expect_split(1796342400 + 86399, 2026, 12, 4, 23, 59, 59, 5);
	expect_split(1773154800, 2026, 3, 10, 15, 0, 0, 2);         /* Tuesday */
	expect_split(1709164800, 2024, 2, 29, 0, 0, 0, 4);          /* Thursday */
	expect_split(4107542400, 2100, 3, 1, 0, 0, 0, 1);           /* Monday */
	expect_split(-2208988800, 1900, 1, 1, 0, 0, 0, 1);          /* Monday */
	/* Agree with the C library across a long stretch, negative times included. */
	for (int64_t t = -3000000000; t < 5000000000; t += 3600 * 23 + 61) {
		time_t tt = (time_t)t;
		struct tm ref;
		struct clock_tm tm;

		gmtime_r(&tt, &ref);
		clock_split(t, &tm);
		assert_int_equal(tm.year, ref.tm_year + 1900);
		assert_int_equal(tm.mon, ref.tm_mon + 1);
		assert_int_equal(tm.mday, ref.tm_mday);
		assert_int_equal(tm.hour, ref.tm_hour);
		assert_int_equal(tm.wday, ref.tm_wday);
	}
}

static void test_clock__days_from_civil(void **state)
{
	assert_int_equal(clock_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(clock_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(clock_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(clock_days_from_civil(2024, 2, 29) * 86400, 1709164800);
	assert_int_equal(clock_days_from_civil(2024, 3, 1) - clock_days_from_civil(2024, 2, 28),
			 2);
	assert_int_equal(clock_days_from_civil(2023, 3, 1) - clock_days_from_civil(2023, 2, 28),
			 1);
}

static int64_t system_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static void test_clock__start_at_and_reset(void **state)
{
	int64_t want = 1796342400; /* 2026-12-04T00:00:00Z */
	int64_t now, ms;

	clock_start_at(want);
	now = clock_now();
	ms = clock_now_ms();
	assert_true(now >= want && now <= want + 1);
	assert_true(ms >= want * 1000 && ms <= (want + 1) * 1000);
	/* The chosen clock runs forward from the chosen instant, in step with real time. */
	clock_start_at(-86400);
	now = clock_now();
	assert_true(now >= -86400 && now <= -86399);
	assert_true(clock_now_ms() < 0);
	clock_reset();
	now = clock_now();
	assert_true(now >= system_now() - 1 && now <= system_now() + 1);
	assert_true(now > 1700000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock__parse_known_instants),
		cmocka_unit_test(test_clock__offsets),
		cmocka_unit_test(test_clock__calendar_validity),
		cmocka_unit_test(test_clock__garbage),
		cmocka_unit_test(test_clock__fraction_needs_a_digit),
		cmocka_unit_test(test_clock__format),
		cmocka_unit_test(test_clock__round_trips),
		cmocka_unit_test(test_clock__split_and_weekday),
		cmocka_unit_test(test_clock__days_from_civil),
		cmocka_unit_test(test_clock__start_at_and_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
