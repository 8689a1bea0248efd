/* test_config.c - defaults, INI files, environment and flag overrides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/config.h"

/* A scratch directory holding the one INI file a test writes. */
struct tmp {
	char dir[64];
	char path[96];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/ringer_config_XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/ringer.ini", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	unlink(t->path);
	rmdir(t->dir);
	free(t);
	return 0;
}

static const char *write_ini(void **state, const char *text)
{
	struct tmp *t = *state;
	FILE *f = fopen(t->path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return t->path;
}

static void expect_contains(const char *s, const char *part)
{
	if (strstr(s, part) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", s, part);
}

static void test_config__defaults(void **state)
{
	struct config c;

	memset(&c, 0x7f, sizeof(c));
	config_defaults(&c);
	assert_string_equal(c.listen_addr, "127.0.0.1");
	assert_int_equal(c.port, 8080);
	assert_int_equal(c.threads, 0);
	assert_int_equal(c.max_body, 1048576);
	assert_int_equal(c.conn_timeout, 30);
	assert_int_equal(c.max_connections, 4096);
	assert_string_equal(c.data_dir, "data");
	assert_int_equal(c.reload_ms, 1000);
	assert_string_equal(c.trusted_proxies, "");
	assert_string_equal(c.log_level, "info");
	assert_string_equal(c.clock_start, "");
}

static void test_config__load_file(void **state)
{
	const char *path = write_ini(state,
		"; ringerd settings\n"
		"[server]\n"
		"listen = 0.0.0.0\n"
		"port = 9090\n"
		"max_body = 2048\n"
		"max_connections = 100000\n"
		"\n"
		"[data]\n"
		"dir = /var/lib/ringer\n"
		"reload_ms = 250\n"
		"[telique]\n"
		"trusted_proxies = 10.0.0.0/8, ::1\n"
		"[log]\n"
		"level = debug\n"
		"[clock]\n"
		"start = 2026-03-10T15:00:00Z\n");
	struct config c;
	char err[256] = "";

	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.listen_addr, "0.0.0.0");
	assert_int_equal(c.port, 9090);
	assert_int_equal(c.max_body, 2048);
	assert_int_equal(c.max_connections, 100000);
	assert_string_equal(c.data_dir, "/var/lib/ringer");
	assert_int_equal(c.reload_ms, 250);
	assert_string_equal(c.trusted_proxies, "10.0.0.0/8, ::1");
	assert_string_equal(c.log_level, "debug");
	assert_string_equal(c.clock_start, "2026-03-10T15:00:00Z");
	/* Keys the file does not name keep their defaults. */
	assert_int_equal(c.threads, 0);
	assert_int_equal(c.conn_timeout, 30);
}

static void test_config__empty_file(void **state)
{
	const char *path = write_ini(state, "");
	struct config c, d;
	char err[256] = "";

	config_defaults(&c);
	config_defaults(&d);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_memory_equal(&c, &d, sizeof(c));
}

static void test_config__unknown_key(void **state)
{
	const char *path = write_ini(state, "[server]\nport = 9090\nprot = 9091\n");
	struct config c;
	char err[256] = "";

	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	expect_contains(err, path);
	expect_contains(err, "unknown setting server.prot");
	assert_int_equal(c.port, 9090);

	path = write_ini(state, "[nosuch]\nport = 1\n");
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	expect_contains(err, "unknown setting nosuch.port");

	/* A key before any section header belongs to no section. */
	path = write_ini(state, "port = 1\n");
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	expect_contains(err, "unknown setting .port");
	assert_int_equal(c.port, 9090);
}

/* config.h: the message names "the file and line of the first bad entry". */
static void test_config__error_names_the_line(void **state)
{
	const char *path = write_ini(state, "[server]\nport = 9090\nprot = 9091\nbad = 1\n");
	struct config c;
	char err[256] = "", where[128];

	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	snprintf(where, sizeof(where), "%s:3", path);
	expect_contains(err, where);

	path = write_ini(state, "[server]\n\n\nport = 70000\n");
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	snprintf(where, sizeof(where), "%s:4", path);
	expect_contains(err, where);
}

static void test_config__not_ini(void **state)
{
	const char *path = write_ini(state, "[server]\nthis is not ini\n");
	struct config c;
	char err[256] = "", where[128];

	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	snprintf(where, sizeof(where), "%s:2: not an INI line", path);
	assert_string_equal(err, where);

	path = write_ini(state, "[server\nport = 1\n");
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	assert_int_equal(c.port, 8080);
}

static void test_config__missing_file(void **state)
{
	struct config c;
	char err[256] = "";

	config_defaults(&c);
	assert_int_equal(config_load_file(&c, "/nonexistent/ringer.ini", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/ringer.ini: cannot open");
}

static void test_config__out_of_range(void **state)
{
	const char *path = write_ini(state, "[server]\nport = 65536\n");
	struct config c;
	char err[256] = "";

	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	expect_contains(err, "server.port: \"65536\" is not a number in 0..65535");
	assert_int_equal(c.port, 8080);
}

static void expect_set_fails(struct config *c, const char *sec, const char *key,
			     const char *value)
{
	struct config before;
	char err[256] = "";

	memcpy(&before, c, sizeof(before));

	if (config_set(c, sec, key, value, err, sizeof(err)) != -1)
		fail_msg("%s.%s accepted \"%s\"", sec, key, value);
	assert_true(err[0] != '\0');
	/* A refused value changes nothing. */
	assert_memory_equal(c, &before, sizeof(*c));
}

static void test_config__numbers(void **state)
{
	struct config c;
	char err[256] = "";

	config_defaults(&c);
	assert_int_equal(config_set(&c, "server", "port", "0", err, sizeof(err)), 0);
	assert_int_equal(c.port, 0);
	assert_int_equal(config_set(&c, "server", "port", "65535", err, sizeof(err)), 0);
	assert_int_equal(c.port, 65535);
	assert_int_equal(config_set(&c, "server", "max_body", "64", err, sizeof(err)), 0);
	assert_int_equal(c.max_body, 64);
	assert_int_equal(config_set(&c, "server", "max_body", "67108864", err, sizeof(err)), 0);
	assert_int_equal(c.max_body, 67108864);
	assert_int_equal(config_set(&c, "server", "threads", "256", err, sizeof(err)), 0);
	assert_int_equal(c.threads, 256);
	expect_set_fails(&c, "server", "port", "65536");
	expect_set_fails(&c, "server", "port", "-1");
	expect_set_fails(&c, "server", "port", "+80");
	expect_set_fails(&c, "server", "port", " 80");
	expect_set_fails(&c, "server", "port", "80 ");
	expect_set_fails(&c, "server", "port", "80x");
	expect_set_fails(&c, "server", "port", "0x50");
	expect_set_fails(&c, "server", "port", "");
	expect_set_fails(&c, "server", "port", "abc");
	expect_set_fails(&c, "server", "port", "99999999999999999999999");
	expect_set_fails(&c, "server", "port", "4294967376"); /* 2^32 + 80 */
	expect_set_fails(&c, "server", "max_body", "63");
	expect_set_fails(&c, "server", "max_body", "67108865");
	expect_set_fails(&c, "server", "threads", "257");
	expect_set_fails(&c, "server", "conn_timeout", "0");
	expect_set_fails(&c, "server", "conn_timeout", "3601");
	expect_set_fails(&c, "server", "max_connections", "0");
	expect_set_fails(&c, "data", "reload_ms", "49");
	expect_set_fails(&c, "data", "reload_ms", "3600001");
}

static void test_config__string_limits(void **state)
{
	struct config c;
	char err[256] = "", v[300];

	config_defaults(&c);
	/* listen_addr holds 63 bytes and a NUL. */
	memset(v, 'a', 63);
	v[63] = '\0';
	assert_int_equal(config_set(&c, "server", "listen", v, err, sizeof(err)), 0);
	assert_string_equal(c.listen_addr, v);
	memset(v, 'b', 64);
	v[64] = '\0';
	expect_set_fails(&c, "server", "listen", v);
	assert_int_equal(config_set(&c, "server", "listen", v, err, sizeof(err)), -1);
	assert_string_equal(err, "server.listen: value longer than 63 bytes");
	memset(v, 'd', CONFIG_STR - 1);
	v[CONFIG_STR - 1] = '\0';
	assert_int_equal(config_set(&c, "data", "dir", v, err, sizeof(err)), 0);
	assert_int_equal(strlen(c.data_dir), CONFIG_STR - 1);
	v[CONFIG_STR - 1] = 'd';
	v[CONFIG_STR] = '\0';
	expect_set_fails(&c, "data", "dir", v);
	expect_set_fails(&c, "log", "level", "0123456789abcdef");
	assert_int_equal(config_set(&c, "log", "level", "", err, sizeof(err)), 0);
	assert_string_equal(c.log_level, "");
}

static void test_config__unknown_set(void **state)
{
	struct config c;
	char err[256] = "";

	config_defaults(&c);
	expect_set_fails(&c, "server", "nope", "1");
	assert_int_equal(config_set(&c, "server", "nope", "1", err, sizeof(err)), -1);
	assert_string_equal(err, "unknown setting server.nope");
	expect_set_fails(&c, "Server", "port", "1"); /* names are case-sensitive */
	expect_set_fails(&c, "data", "port", "1");
	/* A short err buffer is cut, not overrun. */
	assert_int_equal(config_set(&c, "server", "nope", "1", err, 8), -1);
	assert_string_equal(err, "unknown");
}

static void test_config__env(void **state)
{
	struct config c;
	char err[256] = "";

	config_defaults(&c);
	unsetenv("RINGER_SERVER_PORT");
	assert_int_equal(config_load_env(&c, err, sizeof(err)), 0);
	assert_int_equal(c.port, 8080);
	assert_int_equal(setenv("RINGER_SERVER_PORT", "9191", 1), 0);
	assert_int_equal(setenv("RINGER_DATA_RELOAD_MS", "500", 1), 0);
	assert_int_equal(setenv("RINGER_LOG_LEVEL", "warn", 1), 0);
	assert_int_equal(setenv("ringer_server_threads", "7", 1), 0); /* wrong case: ignored */
	assert_int_equal(config_load_env(&c, err, sizeof(err)), 0);
	assert_int_equal(c.port, 9191);
	assert_int_equal(c.reload_ms, 500);
	assert_string_equal(c.log_level, "warn");
	assert_int_equal(c.threads, 0);
	assert_int_equal(setenv("RINGER_SERVER_PORT", "70000", 1), 0);
	assert_int_equal(config_load_env(&c, err, sizeof(err)), -1);
	expect_contains(err, "server.port");
	assert_int_equal(c.port, 9191);
	unsetenv("RINGER_SERVER_PORT");
	unsetenv("RINGER_DATA_RELOAD_MS");
	unsetenv("RINGER_LOG_LEVEL");
	unsetenv("ringer_server_threads");
}

/* A typo in a known section is refused; other tools' RINGER_* variables are not ours. */
static void test_config__env_typo(void **state)
{
	struct config c;
	char err[256] = "";

	config_defaults(&c);
	assert_int_equal(setenv("RINGER_SERVER_THREADZ", "2", 1), 0);
	assert_int_equal(config_load_env(&c, err, sizeof(err)), -1);
	expect_contains(err, "RINGER_SERVER_THREADZ");
	unsetenv("RINGER_SERVER_THREADZ");
	assert_int_equal(setenv("RINGER_SOMETOOL_DIR", "/x", 1), 0);
	assert_int_equal(config_load_env(&c, err, sizeof(err)), 0);
	unsetenv("RINGER_SOMETOOL_DIR");
}

static void test_config__env_over_file(void **state)
{
	const char *path = write_ini(state, "[server]\nport = 9090\nthreads = 4\n");
	struct config c;
	char err[256] = "";

	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(setenv("RINGER_SERVER_PORT", "9292", 1), 0);
	assert_int_equal(config_load_env(&c, err, sizeof(err)), 0);
	unsetenv("RINGER_SERVER_PORT");
	assert_int_equal(c.port, 9292);
	assert_int_equal(c.threads, 4);
	/* And a flag (config_set) after both wins over both. */
	assert_int_equal(config_set(&c, "server", "port", "9393", err, sizeof(err)), 0);
	assert_int_equal(c.port, 9393);
}

static void test_config__data_path(void **state)
{
	struct config c;
	char out[32];

	config_defaults(&c);
	assert_int_equal(config_data_path(&c, "ringer.db", out, sizeof(out)), 0);
	assert_string_equal(out, "data/ringer.db");
	memcpy(out, "untouched", 10);
	assert_int_equal(config_data_path(&c, "a-name-far-too-long-to-fit.db", out, sizeof(out)),
			 -1);
	/* "data/" + 26 = 31 bytes and a NUL: exactly fits. */
	assert_int_equal(config_data_path(&c, "abcdefghijklmnopqrstuvwxyz", out, sizeof(out)), 0);
	assert_int_equal(strlen(out), 31);
	assert_int_equal(config_data_path(&c, "abcdefghijklmnopqrstuvwxyz1", out, sizeof(out)),
			 -1);
}

/* A data directory whose parents do not exist yet is made whole (ringerd -d a/b/data). */
static void test_config__make_dir_with_parents(void **state)
{
	char root[64], deep[160], cmd[200];
	struct stat sb;

	(void)state;
	snprintf(root, sizeof(root), "/tmp/ringer_cfgdir_XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(deep, sizeof(deep), "%s/srv/ringer/data", root);
	assert_int_equal(config_make_dir(deep), 0);
	assert_int_equal(stat(deep, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(config_make_dir(deep), 0); /* there already */
	snprintf(cmd, sizeof(cmd), "%s/srv/file", root);
	fclose(fopen(cmd, "w"));
	snprintf(deep, sizeof(deep), "%s/srv/file/data", root);
	assert_int_equal(config_make_dir(deep), -1); /* a file in the way */
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config__defaults),
		cmocka_unit_test(test_config__make_dir_with_parents),
		cmocka_unit_test_setup_teardown(test_config__load_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config__empty_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config__unknown_key, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config__error_names_the_line, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_config__not_ini, tmp_setup, tmp_teardown),
		cmocka_unit_test(test_config__missing_file),
		cmocka_unit_test_setup_teardown(test_config__out_of_range, tmp_setup,
						tmp_teardown),
		cmocka_unit_test(test_config__numbers),
		cmocka_unit_test(test_config__string_limits),
		cmocka_unit_test(test_config__unknown_set),
		cmocka_unit_test(test_config__env),
		cmocka_unit_test(test_config__env_typo),
		cmocka_unit_test_setup_teardown(test_config__env_over_file, tmp_setup,
						tmp_teardown),
		cmocka_unit_test(test_config__data_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
