/* test_text.c - bounded buffers, UTF-8 checks, XML escaping, form decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/text.h"

/* text_utf8_clean() over a whole literal, embedded NULs included. */
#define CLEAN(lit) text_utf8_clean((lit), sizeof(lit) - 1)

static void test_text__buf_starts_empty(void **state)
{
	struct buf b;
	size_t len = 99;
	char *p;

	buf_init(&b, 10);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 10);
	/* Stealing an empty buffer still hands over a string. */
	p = buf_steal(&b, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	assert_int_equal(len, 0);
	free(p);
}

static void test_text__buf_ceiling(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_puts(&b, "abcde"), 0);
	assert_int_equal(b.len, 5);
	/* 5 + 4 > 8: refused, and what was there stays exactly as it was. */
	assert_int_equal(buf_puts(&b, "fghi"), -1);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "abcde");
	assert_int_equal(buf_printf(&b, "%d", 1234), -1);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "abcde");
	/* Exactly up to the ceiling is fine, one more byte is not. */
	assert_int_equal(buf_puts(&b, "fgh"), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "abcdefgh");
	assert_int_equal(buf_append(&b, "z", 1), -1);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_string_equal(b.data, "abcdefgh");
	assert_true(b.cap <= b.max + 1);
	buf_release(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_text__buf_huge_append_refused(void **state)
{
	struct buf b;

	buf_init(&b, 100);
	assert_int_equal(buf_puts(&b, "x"), 0);
	/* A length that would wrap size_t arithmetic must not slip past the check. */
	assert_int_equal(buf_append(&b, "y", SIZE_MAX), -1);
	assert_int_equal(buf_append(&b, "y", SIZE_MAX - 1), -1);
	assert_int_equal(buf_append(&b, "y", 101), -1);
	assert_int_equal(b.len, 1);
	assert_string_equal(b.data, "x");
	buf_release(&b);
}

static void test_text__buf_grows(void **state)
{
	struct buf b;
	char *p;
	size_t len = 0;

	buf_init(&b, 100000);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(buf_append(&b, "0123456789" + i % 10, 1), 0);
	assert_int_equal(b.len, 10000);
	assert_int_equal(strlen(b.data), 10000);
	assert_memory_equal(b.data + 9990, "0123456789", 10);
	p = buf_steal(&b, &len);
	assert_int_equal(len, 10000);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(p);
	/* Binary data with NULs counts by length, and stays NUL-terminated. */
	assert_int_equal(buf_append(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	buf_release(&b);
}

static void test_text__buf_printf(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(buf_printf(&b, "%s=%d", "port", 8080), 0);
	assert_string_equal(b.data, "port=8080");
	assert_int_equal(buf_printf(&b, ";%05.1f", 3.14159), 0);
	assert_string_equal(b.data, "port=8080;003.1");
	assert_int_equal(b.len, strlen("port=8080;003.1"));
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 15);
	/* 15 + 49 = 64 fits exactly; then nothing more does. */
	assert_int_equal(buf_printf(&b, "%049d", 7), 0);
	assert_int_equal(b.len, 64);
	assert_int_equal(b.data[63], '7');
	assert_int_equal(b.data[64], '\0');
	assert_int_equal(buf_printf(&b, "%c", 'x'), -1);
	assert_int_equal(b.len, 64);
	buf_release(&b);
}

static void test_text__utf8_valid(void **state)
{
	assert_true(CLEAN(""));
	assert_true(CLEAN("plain ascii ~"));
	assert_true(CLEAN("tab\tis fine"));
	assert_true(CLEAN("caf\xc3\xa9"));                /* U+00E9 */
	assert_true(CLEAN("\xc2\x80"));                   /* U+0080, smallest 2-byte */
	assert_true(CLEAN("\xdf\xbf"));                   /* U+07FF */
	assert_true(CLEAN("\xe0\xa0\x80"));               /* U+0800, smallest 3-byte */
	assert_true(CLEAN("\xe2\x82\xac"));               /* euro sign */
	assert_true(CLEAN("\xed\x9f\xbf"));               /* U+D7FF, just below surrogates */
	assert_true(CLEAN("\xee\x80\x80"));               /* U+E000, just above */
	assert_true(CLEAN("\xef\xbf\xbd"));               /* U+FFFD */
	assert_true(CLEAN("\xf0\x90\x80\x80"));           /* U+10000 */
	assert_true(CLEAN("\xf0\x9f\x93\x9e"));           /* telephone receiver emoji */
	assert_true(CLEAN("\xf4\x8f\xbf\xbf"));           /* U+10FFFF, the last */
	assert_true(CLEAN("a\xc3\xa9" "b\xe2\x82\xac" "c\xf0\x9f\x93\x9e" "d"));
}

static void test_text__utf8_invalid(void **state)
{
	assert_false(CLEAN("\xc0\xaf"));         /* overlong '/' */
	assert_false(CLEAN("\xc1\xbf"));         /* overlong */
	assert_false(CLEAN("\xe0\x80\xaf"));     /* overlong 3-byte */
	assert_false(CLEAN("\xe0\x9f\xbf"));     /* overlong U+07FF */
	assert_false(CLEAN("\xf0\x80\x80\xaf")); /* overlong 4-byte */
	assert_false(CLEAN("\xf0\x8f\xbf\xbf")); /* overlong U+FFFF */
	assert_false(CLEAN("\xed\xa0\x80"));     /* U+D800, a surrogate */
	assert_false(CLEAN("\xed\xbf\xbf"));     /* U+DFFF */
	assert_false(CLEAN("\xf4\x90\x80\x80")); /* U+110000 */
	assert_false(CLEAN("\xf5\x80\x80\x80"));
	assert_false(CLEAN("\xff"));
	assert_false(CLEAN("\xfe"));
	assert_false(CLEAN("\x80"));             /* lone continuation */
	assert_false(CLEAN("a\xbf"));
	assert_false(CLEAN("\xc3\x28"));         /* lead byte, then not a continuation */
	assert_false(CLEAN("\xe2\x82\x28"));
	assert_false(CLEAN("\xf0\x9f\x93\x28"));
}

static void test_text__utf8_truncated(void **state)
{
	assert_false(CLEAN("\xc3"));
	assert_false(CLEAN("abc\xc3"));
	assert_false(CLEAN("\xe2\x82"));
	assert_false(CLEAN("\xe2"));
	assert_false(CLEAN("\xf0\x9f\x93"));
	assert_false(CLEAN("\xf0\x9f"));
	/* The length, not a NUL, ends the input: a sequence cut by len is truncated. */
	assert_false(text_utf8_clean("\xe2\x82\xac", 2));
	assert_true(text_utf8_clean("\xe2\x82\xac", 3));
	assert_true(text_utf8_clean("ab\xe2\x82\xac", 2));
}

static void test_text__utf8_controls(void **state)
{
	assert_false(CLEAN("a\0b"));
	assert_false(CLEAN("\0"));
	assert_false(CLEAN("line\n"));
	assert_false(CLEAN("cr\r"));
	assert_false(CLEAN("\x01"));
	assert_false(CLEAN("\x1b[31m"));
	assert_false(CLEAN("\x1f"));
	assert_false(CLEAN("del\x7f"));
	/* A NUL hidden in a 2-byte sequence is still rejected as overlong. */
	assert_false(CLEAN("\xc0\x80"));
}

static void test_text__printable_ascii(void **state)
{
	assert_true(text_printable_ascii(" ~AZaz09", 8));
	assert_true(text_printable_ascii("", 0));
	assert_false(text_printable_ascii("a\tb", 3));
	assert_false(text_printable_ascii("a\x7f", 2));
	assert_false(text_printable_ascii("caf\xc3\xa9", 5));
	assert_false(text_printable_ascii("a\0b", 3));
	assert_true(text_printable_ascii("a\0b", 1));
}

static void test_text__xml_escape(void **state)
{
	struct buf b;

	buf_init(&b, 1024);
	assert_int_equal(buf_put_xml(&b, "AT&T <\"Bell\"> 'x'"), 0);
	assert_string_equal(b.data, "AT&amp;T &lt;&quot;Bell&quot;&gt; &apos;x&apos;");
	buf_release(&b);
	/* Already-escaped text is escaped again: the caller passes raw text. */
	assert_int_equal(buf_put_xml(&b, "&amp;"), 0);
	assert_string_equal(b.data, "&amp;amp;");
	buf_release(&b);
	assert_int_equal(buf_put_xml(&b, "caf\xc3\xa9 plain"), 0);
	assert_string_equal(b.data, "caf\xc3\xa9 plain");
	buf_release(&b);
	/* Empty input appends nothing. */
	assert_int_equal(buf_put_xml(&b, ""), 0);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void test_text__xml_escape_ceiling(void **state)
{
	struct buf b;

	/* "&amp;" needs 5 bytes; only 4 are left after "ab". */
	buf_init(&b, 6);
	assert_int_equal(buf_put_xml(&b, "ab&"), -1);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.data, "ab");
	buf_release(&b);
	buf_init(&b, 7);
	assert_int_equal(buf_put_xml(&b, "ab&"), 0);
	assert_string_equal(b.data, "ab&amp;");
	buf_release(&b);
}

static long form(const char *body, const char *key, char *out, size_t outlen)
{
	return text_form_value(body, strlen(body), key, out, outlen);
}

static void test_text__form_values(void **state)
{
	char out[32];

	assert_int_equal(form("number=2125551234", "number", out, sizeof(out)), 10);
	assert_string_equal(out, "2125551234");
	assert_int_equal(form("a=1&number=%2B12125551234&b=2", "number", out, sizeof(out)), 12);
	assert_string_equal(out, "+12125551234");
	assert_int_equal(form("name=John+Q%20Public", "name", out, sizeof(out)), 13);
	assert_string_equal(out, "John Q Public");
	assert_int_equal(form("name=%e2%82%ac", "name", out, sizeof(out)), 3);
	assert_string_equal(out, "\xe2\x82\xac");
	assert_int_equal(form("name=%41%4a%4A", "name", out, sizeof(out)), 3);
	assert_string_equal(out, "AJJ");
	/* An empty value and a bare key are both present and empty. */
	assert_int_equal(form("a=&b=2", "a", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(form("flag&b=2", "flag", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* The first of two values wins; '=' inside a value is data. */
	assert_int_equal(form("k=1&k=2", "k", out, sizeof(out)), 1);
	assert_string_equal(out, "1");
	assert_int_equal(form("k=a=b", "k", out, sizeof(out)), 3);
	assert_string_equal(out, "a=b");
	/* %00 decodes to a NUL that the returned length counts; strlen() would not. */
	assert_int_equal(form("k=a%00b", "k", out, sizeof(out)), 3);
	assert_memory_equal(out, "a\0b", 4);
	/* Only len bytes of the body are read. */
	assert_int_equal(text_form_value("k=12345", 4, "k", out, sizeof(out)), 2);
	assert_string_equal(out, "12");
}

static void test_text__form_key_matching(void **state)
{
	char out[32];

	assert_int_equal(form("xnumber=1&number=2", "number", out, sizeof(out)), 1);
	assert_string_equal(out, "2");
	assert_int_equal(form("numberx=1&number=3", "number", out, sizeof(out)), 1);
	assert_string_equal(out, "3");
	assert_int_equal(form("number=4&xnumber=1", "number", out, sizeof(out)), 1);
	assert_string_equal(out, "4");
	assert_int_equal(form("Number=5", "number", out, sizeof(out)), -1);
	assert_int_equal(form("numbe=5&numbers=6", "number", out, sizeof(out)), -1);
	assert_int_equal(form("", "number", out, sizeof(out)), -1);
	assert_int_equal(form("&&&", "number", out, sizeof(out)), -1);
	assert_int_equal(form("=number", "number", out, sizeof(out)), -1);
	assert_int_equal(form("a=number", "number", out, sizeof(out)), -1);
	/* An encoded key is not decoded, so it is not the key. */
	assert_int_equal(form("n%75mber=7", "number", out, sizeof(out)), -1);
	assert_int_equal(form("&number=8&", "number", out, sizeof(out)), 1);
	assert_string_equal(out, "8");
}

static void test_text__form_malformed(void **state)
{
	char out[16];

	memcpy(out, "keep", 5);
	assert_int_equal(form("number=%ZZ", "number", out, sizeof(out)), -2);
	assert_int_equal(form("number=%2", "number", out, sizeof(out)), -2);
	assert_int_equal(form("number=%", "number", out, sizeof(out)), -2);
	assert_int_equal(form("number=12%G0", "number", out, sizeof(out)), -2);
	assert_int_equal(form("number=%2&x=1", "number", out, sizeof(out)), -2);
	/* A malformed value elsewhere does not spoil the key asked for. */
	assert_int_equal(form("bad=%ZZ&number=9", "number", out, sizeof(out)), 1);
	assert_string_equal(out, "9");
}

static void test_text__form_too_long(void **state)
{
	char out[5];

	/* Four decoded bytes fit in five; five do not. */
	assert_int_equal(form("k=abcd", "k", out, sizeof(out)), 4);
	assert_string_equal(out, "abcd");
	assert_int_equal(form("k=abcde", "k", out, sizeof(out)), -2);
	/* The decoded length counts, not the encoded one. */
	assert_int_equal(form("k=%41%42%43%44", "k", out, sizeof(out)), 4);
	assert_string_equal(out, "ABCD");
	assert_int_equal(form("k=%41%42%43%44%45", "k", out, sizeof(out)), -2);
	assert_int_equal(form("k=", "k", out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(form("k=a", "k", out, 1), -2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text__buf_starts_empty),
		cmocka_unit_test(test_text__buf_ceiling),
		cmocka_unit_test(test_text__buf_huge_append_refused),
		cmocka_unit_test(test_text__buf_grows),
		cmocka_unit_test(test_text__buf_printf),
		cmocka_unit_test(test_text__utf8_valid),
		cmocka_unit_test(test_text__utf8_invalid),
		cmocka_unit_test(test_text__utf8_truncated),
		cmocka_unit_test(test_text__utf8_controls),
		cmocka_unit_test(test_text__printable_ascii),
		cmocka_unit_test(test_text__xml_escape),
		cmocka_unit_test(test_text__xml_escape_ceiling),
		cmocka_unit_test(test_text__form_values),
		cmocka_unit_test(test_text__form_key_matching),
		cmocka_unit_test(test_text__form_malformed),
		cmocka_unit_test(test_text__form_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
