/* test_secret.c - base64url, random secrets and their SHA-256 (auth/secret.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/secret.h"

static void test_secret__b64url_vectors(void **state)
{
	char out[16];

	/* RFC 4648 section 10 vectors, URL alphabet and no padding. */
	secret_b64url((const unsigned char *)"f", 1, out);
	assert_string_equal(out, "Zg");
	secret_b64url((const unsigned char *)"foob", 4, out);
	assert_string_equal(out, "Zm9vYg");
	secret_b64url((const unsigned char *)"foobar", 6, out);
	assert_string_equal(out, "Zm9vYmFy");
	secret_b64url((const unsigned char *)"\xfb\xff", 2, out);
	assert_string_equal(out, "-_8");
}

static void test_secret__sha256_hex(void **state)
{
	char h[SECRET_HASH_HEX];

	secret_sha256_hex("abc", h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_secret__new(void **state)
{
	char a[64], b[64], small[10];

	assert_int_equal(secret_new("rng_", a, sizeof(a)), 0);
	assert_int_equal(secret_new("rng_", b, sizeof(b)), 0);
	assert_int_equal(strlen(a), 4 + SECRET_B64_CHARS);
	assert_memory_equal(a, "rng_", 4);
	assert_int_equal(strspn(a + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789-_"), SECRET_B64_CHARS);
	assert_string_not_equal(a, b);
	assert_int_equal(secret_new("rng_", small, sizeof(small)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret__b64url_vectors),
		cmocka_unit_test(test_secret__sha256_hex),
		cmocka_unit_test(test_secret__new),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
