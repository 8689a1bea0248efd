/* test_log.c - the event line's exact shape, levels, request ids, quoting. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"

/* Log with stderr sent to a temporary file; returns what was written (malloc'd). */
static char *capture(void (*emit)(void))
{
	char path[] = "/tmp/test_log_XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	char *text = calloc(1, 8192);
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0 && text != NULL);
	fflush(stderr);
	assert_int_equal(dup2(fd, 2), 2);
	emit();
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	n = pread(fd, text, 8191, 0);
	assert_true(n >= 0);
	close(fd);
	unlink(path);
	return text;
}

static void assert_matches(const char *text, const char *pattern)
{
	regex_t re;
	int rc;

	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&re, text, 0, NULL, 0);
	regfree(&re);
	if (rc != 0)
		fail_msg("\"%s\" does not match %s", text, pattern);
}

static void emit_two(void)
{
	log_set_level(LOG_INFO);
	log_set_rid("00c0ffee00000001");
	log_event(LOG_INFO, "request", "method=\"%s\" status=%u", "GET", 200u);
	log_set_rid(NULL);
	log_event(LOG_WARN, "plain", NULL);
}

static void test_log__line_shape(void **state)
{
	char *text = capture(emit_two);

	assert_matches(text, "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
			     "level=info rid=00c0ffee00000001 msg=\"request\" method=\"GET\" "
			     "status=200\n"
			     "ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
			     "level=warn rid=- msg=\"plain\"\n$");
	free(text);
}

static void emit_levels(void)
{
	log_set_level(LOG_WARN);
	log_event(LOG_INFO, "hidden", NULL);
	log_event(LOG_ERROR, "shown", NULL);
	log_set_level(LOG_INFO);
}

static void test_log__levels(void **state)
{
	char *text = capture(emit_levels);

	assert_null(strstr(text, "hidden"));
	assert_non_null(strstr(text, "level=error rid=- msg=\"shown\"\n"));
	log_set_level(LOG_WARN);
	assert_false(log_enabled(LOG_DEBUG));
	assert_false(log_enabled(LOG_INFO));
	assert_true(log_enabled(LOG_WARN));
	assert_true(log_enabled(LOG_ERROR));
	log_set_level(LOG_DEBUG);
	assert_true(log_enabled(LOG_DEBUG));
	log_set_level(LOG_INFO);
	assert_false(log_enabled(LOG_DEBUG));
	assert_true(log_enabled(LOG_INFO));
	free(text);
}

static void test_log__rid_is_cut(void **state)
{
	char rid[64];

	memset(rid, 'a', sizeof(rid) - 1);
	rid[sizeof(rid) - 1] = '\0';
	log_set_rid(rid);
	assert_int_equal(strlen(log_rid()), 39);
	assert_int_equal(strspn(log_rid(), "a"), 39);
	log_set_rid("short");
	assert_string_equal(log_rid(), "short");
	log_set_rid(NULL);
	assert_string_equal(log_rid(), "-");
}

static void emit_long(void)
{
	char msg[3000];

	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	log_event(LOG_WARN, msg, "k=v");
}

static void test_log__long_line_is_cut(void **state)
{
	char *text = capture(emit_long);

	/* 2047 bytes of line, then the newline: one whole line whatever the message. */
	assert_int_equal(strlen(text), 2048);
	assert_int_equal(text[2047], '\n');
	assert_int_equal(text[2046], 'm');
	free(text);
}

static void test_log__quote(void **state)
{
	char out[32];

	log_quote("a\"b\\c\n\x7f", out, sizeof(out));
	assert_string_equal(out, "a\\x22b\\x5cc\\x0a\\x7f");
	log_quote("abcdefghij", out, 8);
	assert_string_equal(out, "abc"); /* room kept for one escape */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log__line_shape),
		cmocka_unit_test(test_log__levels),
		cmocka_unit_test(test_log__rid_is_cut),
		cmocka_unit_test(test_log__long_line_is_cut),
		cmocka_unit_test(test_log__quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
