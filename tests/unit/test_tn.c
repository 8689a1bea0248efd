/* test_tn.c - NANP number parsing (DOMAIN.md section 2.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/tn.h"

/* Sentinel that a failed parse must leave in place. */
#define UNTOUCHED 4242424242u

/* tn_parse() over the whole of a string literal, embedded NULs included. */
#define PARSE_LIT(lit, out) tn_parse((lit), sizeof(lit) - 1, (out))

static void expect_tn(const char *s, uint64_t want)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(tn_parse_str(s, &v), TN_OK);
	assert_int_equal(v, want);
}

static void expect_err(const char *s, int err)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(tn_parse_str(s, &v), err);
	assert_int_equal(v, UNTOUCHED);
}

static void test_tn__three_accepted_forms(void **state)
{
	expect_tn("2125551234", 2125551234u);
	expect_tn("12125551234", 2125551234u);
	expect_tn("+12125551234", 2125551234u);
	expect_tn("9895551234", 9895551234u);
	expect_tn("2002000000", 2002000000u);
}

static void test_tn__wrong_lengths(void **state)
{
	expect_err("", TN_EFORMAT);
	expect_err("212555123", TN_EFORMAT);     /* 9 digits */
	expect_err("2125551234567", TN_EFORMAT); /* 13 digits */
	expect_err("21255512345", TN_EFORMAT);   /* 11 digits not starting with 1 */
	expect_err("112125551234", TN_EFORMAT);  /* 12 digits, "11" prefix */
	expect_err("+1212555123", TN_EFORMAT);   /* +1 and 9 digits */
	expect_err("+121255512345", TN_EFORMAT); /* +1 and 11 digits */
	expect_err("+", TN_EFORMAT);
	expect_err("+1", TN_EFORMAT);
}

static void test_tn__bad_characters(void **state)
{
	expect_err("212555123A", TN_EFORMAT);
	expect_err("A125551234", TN_EFORMAT);
	expect_err("212 555 1234", TN_EFORMAT);
	expect_err(" 2125551234", TN_EFORMAT);
	expect_err("2125551234 ", TN_EFORMAT);
	expect_err("212-555-1234", TN_EFORMAT);
	expect_err("(212)5551234", TN_EFORMAT);
	expect_err("1 2125551234", TN_EFORMAT);
	expect_err("+1 212555123", TN_EFORMAT);
	expect_err("-2125551234", TN_EFORMAT);
}

static void test_tn__plus_prefix_variants(void **state)
{
	expect_err("+22125551234", TN_EFORMAT);  /* another country code */
	expect_err("+442125551234", TN_EFORMAT);
	expect_err("++12125551234", TN_EFORMAT);
	expect_err("++1212555123", TN_EFORMAT);  /* 12 chars, but "++" */
	expect_err("+2125551234", TN_EFORMAT);   /* + without the 1 */
	expect_err("1+2125551234", TN_EFORMAT);
	expect_err("2125551234+", TN_EFORMAT);
}

static void test_tn__embedded_nul(void **state)
{
	uint64_t v = UNTOUCHED;

	/* len covers the NUL, so it is a character, and not a digit. */
	assert_int_equal(PARSE_LIT("21255\0" "1234", &v), TN_EFORMAT);
	assert_int_equal(PARSE_LIT("2125551234\0", &v), TN_EFORMAT);
	assert_int_equal(PARSE_LIT("\0" "2125551234", &v), TN_EFORMAT);
	assert_int_equal(PARSE_LIT("1\0" "125551234", &v), TN_EFORMAT);
	assert_int_equal(PARSE_LIT("+1212555\0" "234", &v), TN_EFORMAT);
	assert_int_equal(v, UNTOUCHED);
	/* With len stopping before the NUL the number is fine. */
	assert_int_equal(tn_parse("2125551234\0junk", 10, &v), TN_OK);
	assert_int_equal(v, 2125551234u);
	/* tn_parse_str stops at the NUL. */
	v = UNTOUCHED;
	assert_int_equal(tn_parse_str("2125551234\0" "99", &v), TN_OK);
	assert_int_equal(v, 2125551234u);
}

static void test_tn__null_input(void **state)
{
	uint64_t v = UNTOUCHED;

	assert_int_equal(tn_parse(NULL, 10, &v), TN_EFORMAT);
	assert_int_equal(tn_parse_str(NULL, &v), TN_EFORMAT);
	assert_int_equal(v, UNTOUCHED);
}

static void test_tn__npa_rules(void **state)
{
	expect_err("0125551234", TN_ENPA); /* NPA starts with 0 */
	expect_err("1125551234", TN_ENPA); /* 10 digits starting with 1: NPA 112 */
	expect_err("1212555123", TN_ENPA); /* not "1" + 9 digits, NPA 121 */
	expect_err("10125551234", TN_ENPA); /* "1" + NPA 012 */
	expect_err("+11125551234", TN_ENPA);
	expect_err("4115551234", TN_ENPA); /* N11 */
	expect_err("2115551234", TN_ENPA);
	expect_err("9115551234", TN_ENPA);
	expect_err("2905551234", TN_ENPA); /* middle digit 9 */
	expect_err("2995551234", TN_ENPA);
	expect_err("9995551234", TN_ENPA);
	expect_err("+19915551234", TN_ENPA);
	/* The NPA is judged before the NXX. */
	expect_err("0110551234", TN_ENPA);
	/* Toll-free and other non-geographic NPAs are valid numbers. */
	expect_tn("8005551234", 8005551234u);
	expect_tn("8885550000", 8885550000u);
	expect_tn("9005551234", 9005551234u);
	expect_tn("2105551234", 2105551234u); /* x10 is not N11 */
	expect_tn("3125551234", 3125551234u); /* 312 is not N11 either */
}

static void test_tn__nxx_rules(void **state)
{
	expect_err("2120551234", TN_ENXX); /* NXX starts with 0 */
	expect_err("2121551234", TN_ENXX); /* NXX starts with 1 */
	expect_err("12121551234", TN_ENXX);
	expect_err("+12120991234", TN_ENXX);
	expect_err("2124111234", TN_ENXX); /* N11 */
	expect_err("2129111234", TN_ENXX); /* NPA-911 */
	expect_err("2122111234", TN_ENXX);
	expect_tn("2122901234", 2122901234u); /* a middle 9 is fine in an NXX */
	expect_tn("2129991234", 2129991234u);
	expect_tn("2124101234", 2124101234u);
	expect_tn("2122000000", 2122000000u);
	expect_tn("2125550100", 2125550100u); /* 555 is reserved, not malformed */
}

static void test_tn__npa_nxx_predicates(void **state)
{
	assert_false(tn_npa_valid(0));
	assert_false(tn_npa_valid(199));
	assert_true(tn_npa_valid(200));
	assert_true(tn_npa_valid(212));
	assert_false(tn_npa_valid(211));
	assert_false(tn_npa_valid(911));
	assert_false(tn_npa_valid(290));
	assert_false(tn_npa_valid(999));
	assert_true(tn_npa_valid(989));
	assert_false(tn_npa_valid(1000));
	assert_false(tn_npa_valid(1212));

	assert_false(tn_nxx_valid(0));
	assert_false(tn_nxx_valid(199));
	assert_true(tn_nxx_valid(200));
	assert_false(tn_nxx_valid(411));
	assert_true(tn_nxx_valid(290));
	assert_true(tn_nxx_valid(999));
	assert_false(tn_nxx_valid(1000));
}

static void test_tn__tollfree(void **state)
{
	static const unsigned yes[] = { 800, 833, 844, 855, 866, 877, 888 };
	static const unsigned no[] = { 822, 880, 881, 887, 889, 899, 811, 900, 212, 0, 8000 };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(tn_npa_tollfree(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(tn_npa_tollfree(no[i]));
}

static void test_tn__parts(void **state)
{
	uint64_t tn = 2125551234u;

	assert_int_equal(tn_npa(tn), 212);
	assert_int_equal(tn_npanxx(tn), 212555);
	assert_int_equal(tn_npanxxx(tn), 2125551);
	assert_int_equal(tn_npa(9999999999u), 999);
	assert_int_equal(tn_npanxxx(2000000000u), 2000000);
}

static void test_tn__format_round_trip(void **state)
{
	static const char *const in[] = { "2125551234", "12015550000", "+19899999999",
					  "8002000001" };
	char out[TN_STR_LEN + 1];
	uint64_t v = 0, again = 0;

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(tn_parse_str(in[i], &v), TN_OK);
		memset(out, 'x', sizeof(out));
		tn_format(v, out);
		assert_int_equal(strlen(out), TN_STR_LEN);
		assert_string_equal(out, in[i] + strlen(in[i]) - TN_STR_LEN);
		assert_int_equal(tn_parse_str(out, &again), TN_OK);
		assert_int_equal(again, v);
	}
	/* Leading zeros are written, so the width is always 10. */
	tn_format(5, out);
	assert_string_equal(out, "0000000005");
	tn_format(0, out);
	assert_string_equal(out, "0000000000");
}

static void test_tn__digits_parse(void **state)
{
	uint64_t v = 77;

	assert_int_equal(digits_parse("123", 3, 3, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(digits_parse("007", 3, 3, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(digits_parse("9999999999999999999", 19, 19, &v), 0);
	assert_true(v == 9999999999999999999u);
	v = 77;
	assert_int_equal(digits_parse("1234", 4, 3, &v), -1); /* len != n */
	assert_int_equal(digits_parse("12", 2, 3, &v), -1);
	assert_int_equal(digits_parse("", 0, 0, &v), -1);
	assert_int_equal(digits_parse("12345678901234567890", 20, 20, &v), -1);
	assert_int_equal(digits_parse("12a", 3, 3, &v), -1);
	assert_int_equal(digits_parse("-12", 3, 3, &v), -1);
	assert_int_equal(digits_parse(" 12", 3, 3, &v), -1);
	assert_int_equal(digits_parse("1\0" "2", 3, 3, &v), -1);
	assert_int_equal(digits_parse(NULL, 3, 3, &v), -1);
	assert_int_equal(v, 77);
	/* Only len bytes are read: the rest of the string is not the number's. */
	assert_int_equal(digits_parse("12x", 2, 2, &v), 0);
	assert_int_equal(v, 12);
}

/* Forms without NANP rules, for DNO lists of invalid numbers. */
static void test_tn__parse_digits(void **state)
{
	uint64_t v = 7;

	assert_int_equal(tn_parse_digits("0115551234", 10, &v), TN_OK);
	assert_true(v == 115551234u);
	assert_int_equal(tn_parse_digits("+14115551234", 12, &v), TN_OK);
	assert_true(v == 4115551234u);
	assert_int_equal(tn_parse_digits("14115551234", 11, &v), TN_OK);
	assert_true(v == 4115551234u);
	v = 7;
	assert_int_equal(tn_parse_digits("411555123", 9, &v), TN_EFORMAT);
	assert_int_equal(tn_parse_digits("411555123x", 10, &v), TN_EFORMAT);
	assert_int_equal(tn_parse_digits(NULL, 0, &v), TN_EFORMAT);
	assert_true(v == 7);
}

static void test_tn__parse_dashed(void **state)
{
	uint64_t v = 7;

	assert_int_equal(tn_parse_dashed("204-200-1234", 12, &v), TN_OK);
	assert_true(v == 2042001234u);
	assert_int_equal(tn_parse_dashed("2042001235", 10, &v), TN_OK);
	assert_true(v == 2042001235u);
	v = 7;
	assert_int_equal(tn_parse_dashed("204-200-12a4", 12, &v), TN_EFORMAT);
	assert_int_equal(tn_parse_dashed("411-200-1234", 12, &v), TN_ENPA);
	assert_int_equal(tn_parse_dashed("204-2001234", 11, &v), TN_EFORMAT);
	assert_true(v == 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tn__three_accepted_forms),
		cmocka_unit_test(test_tn__wrong_lengths),
		cmocka_unit_test(test_tn__bad_characters),
		cmocka_unit_test(test_tn__plus_prefix_variants),
		cmocka_unit_test(test_tn__embedded_nul),
		cmocka_unit_test(test_tn__null_input),
		cmocka_unit_test(test_tn__npa_rules),
		cmocka_unit_test(test_tn__nxx_rules),
		cmocka_unit_test(test_tn__npa_nxx_predicates),
		cmocka_unit_test(test_tn__tollfree),
		cmocka_unit_test(test_tn__parts),
		cmocka_unit_test(test_tn__format_round_trip),
		cmocka_unit_test(test_tn__digits_parse),
		cmocka_unit_test(test_tn__parse_digits),
		cmocka_unit_test(test_tn__parse_dashed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
