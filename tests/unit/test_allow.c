/* test_allow.c - CIDR parsing and matching, X-Forwarded-For, the allowlist table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/allow.h"
#include "db/db.h"

static struct cidr cidr(const char *s)
{
	struct cidr c;

	if (cidr_parse(s, &c) != 0)
		fail_msg("cidr_parse rejected \"%s\"", s);
	return c;
}

static const uint8_t *ip(const char *s)
{
	static uint8_t a[8][16];
	static unsigned next;
	uint8_t *p = a[next++ % 8];

	if (ip_parse(s, p) != 0)
		fail_msg("ip_parse rejected \"%s\"", s);
	return p;
}

static void expect_format(const char *in, const char *want)
{
	struct cidr c = cidr(in);
	char out[80];

	cidr_format(&c, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_allow__ip_parse_and_format(void **state)
{
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4 };
	uint8_t a[16];
	char out[64];

	assert_int_equal(ip_parse("1.2.3.4", a), 0);
	assert_memory_equal(a, mapped, 16);
	ip_format(a, out, sizeof(out));
	assert_string_equal(out, "1.2.3.4");
	/* The mapped IPv6 spelling is the same address. */
	assert_int_equal(ip_parse("::ffff:1.2.3.4", a), 0);
	assert_memory_equal(a, mapped, 16);
	assert_int_equal(ip_parse("2001:DB8:0::1", a), 0);
	assert_int_equal(a[0], 0x20);
	assert_int_equal(a[15], 1);
	ip_format(a, out, sizeof(out));
	assert_string_equal(out, "2001:db8::1");
	memset(a, 0xee, sizeof(a));
	assert_int_equal(ip_parse("1.2.3", a), -1);
	assert_int_equal(ip_parse("256.1.1.1", a), -1);
	assert_int_equal(ip_parse("1.2.3.4/8", a), -1);
	assert_int_equal(ip_parse(" 1.2.3.4", a), -1);
	assert_int_equal(ip_parse("010.0.0.1", a), -1);
	assert_int_equal(ip_parse("", a), -1);
	assert_int_equal(ip_parse("2001:db8:::1", a), -1);
	assert_int_equal(ip_parse("[::1]", a), -1);
	assert_int_equal(a[0], 0xee);
}

static void test_allow__cidr_parse(void **state)
{
	struct cidr c = cidr("10.1.2.3/8");

	assert_true(c.v4);
	assert_int_equal(c.bits, 96 + 8);
	assert_int_equal(c.addr[10], 0xff);
	assert_int_equal(c.addr[12], 10);
	assert_int_equal(c.addr[13], 0); /* host bits cleared */
	assert_int_equal(c.addr[15], 0);
	c = cidr("1.2.3.4");
	assert_true(c.v4);
	assert_int_equal(c.bits, 128);
	c = cidr("2001:db8:1234::1/32");
	assert_false(c.v4);
	assert_int_equal(c.bits, 32);
	assert_int_equal(c.addr[3], 0xb8);
	assert_int_equal(c.addr[4], 0);
	assert_int_equal(c.addr[15], 0);
	c = cidr("::1");
	assert_false(c.v4);
	assert_int_equal(c.bits, 128);
	c = cidr("0.0.0.0/0");
	assert_int_equal(c.bits, 96);
	c = cidr("::/0");
	assert_int_equal(c.bits, 0);
	/* A zero-padded prefix length reads as its number. */
	c = cidr("10.0.0.0/08");
	assert_int_equal(c.bits, 104);
}

static void test_allow__cidr_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", "/8", "1.2.3", "1.2.3/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
		"10.0.0.0/abc", "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0/8 ", " 10.0.0.0/8",
		"10.0.0.0/+8", "10.0.0.0/0032", "10.0.0.0/4294967304", "::/129", "::/1000",
		"2001:db8::/-0", "example.com/8", "10.0.0.0\\8",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd/64",
	};
	struct cidr c;

	memset(&c, 0x5a, sizeof(c));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cidr_parse(bad[i], &c) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	assert_int_equal(c.bits, 0x5a);
}

static void test_allow__cidr_format_canonical(void **state)
{
	expect_format("10.1.2.3/8", "10.0.0.0/8");
	expect_format("192.168.1.255/25", "192.168.1.128/25");
	expect_format("1.2.3.4", "1.2.3.4/32");
	expect_format("0.0.0.0/0", "0.0.0.0/0");
	expect_format("255.255.255.255/1", "128.0.0.0/1");
	expect_format("2001:DB8:0:0::1/32", "2001:db8::/32");
	expect_format("2001:db8:abcd:12ff::1/60", "2001:db8:abcd:12f0::/60");
	expect_format("::1", "::1/128");
	expect_format("::/0", "::/0");
}

static void test_allow__cidr_format_reparses(void **state)
{
	/* Whatever cidr_format writes is what allow_store_* keep: it must parse back. */
	static const char *const in[] = {
		"10.0.0.0/8", "2001:db8::/32", "::1", "::ffff:10.0.0.0/104", "::ffff:1.2.3.4",
		"::ffff:0:0/96",
	};

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct cidr c = cidr(in[i]), back;
		char out[80];

		cidr_format(&c, out, sizeof(out));
		if (cidr_parse(out, &back) != 0)
			fail_msg("\"%s\" formats as \"%s\", which does not parse", in[i], out);
		assert_int_equal(back.bits, c.bits);
		assert_memory_equal(back.addr, c.addr, 16);
	}
}

static void test_allow__contains_v4(void **state)
{
	struct cidr c = cidr("10.0.0.0/8");

	assert_true(cidr_contains(&c, ip("10.0.0.0")));
	assert_true(cidr_contains(&c, ip("10.255.255.255")));
	assert_true(cidr_contains(&c, ip("::ffff:10.1.1.1")));
	assert_false(cidr_contains(&c, ip("11.0.0.0")));
	assert_false(cidr_contains(&c, ip("9.255.255.255")));
	assert_false(cidr_contains(&c, ip("::a01:101"))); /* 10.1.1.1's bits, not mapped */
	c = cidr("192.168.1.128/25");
	assert_true(cidr_contains(&c, ip("192.168.1.200")));
	assert_false(cidr_contains(&c, ip("192.168.1.127")));
	c = cidr("1.2.3.4");
	assert_true(cidr_contains(&c, ip("1.2.3.4")));
	assert_false(cidr_contains(&c, ip("1.2.3.5")));
	c = cidr("0.0.0.0/0");
	assert_true(cidr_contains(&c, ip("255.255.255.255")));
	assert_true(cidr_contains(&c, ip("0.0.0.0")));
	assert_false(cidr_contains(&c, ip("::1")));
	assert_false(cidr_contains(&c, ip("2001:db8::1")));
}

static void test_allow__contains_v6(void **state)
{
	struct cidr c = cidr("2001:db8::/32");

	assert_true(cidr_contains(&c, ip("2001:db8::1")));
	assert_true(cidr_contains(&c, ip("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")));
	assert_false(cidr_contains(&c, ip("2001:db9::")));
	assert_false(cidr_contains(&c, ip("1.2.3.4")));
	c = cidr("::1");
	assert_true(cidr_contains(&c, ip("::1")));
	assert_false(cidr_contains(&c, ip("::2")));
	assert_false(cidr_contains(&c, ip("127.0.0.1")));
	c = cidr("2001:db8::/127");
	assert_true(cidr_contains(&c, ip("2001:db8::1")));
	assert_false(cidr_contains(&c, ip("2001:db8::2")));
	/*
	 * IPv4 is held in ::ffff:0:0/96, so ::/0 covers every IPv4 address too:
	 * an allowlist entry "::/0" admits the whole IPv4 internet as well.
	 */
	c = cidr("::/0");
	assert_true(cidr_contains(&c, ip("2001:db8::1")));
	assert_true(cidr_contains(&c, ip("1.2.3.4")));
	c = cidr("::ffff:0:0/96");
	assert_true(cidr_contains(&c, ip("1.2.3.4")));
	assert_false(cidr_contains(&c, ip("::1")));
}

static void test_allow__set_parse(void **state)
{
	struct cidr_set s = { NULL, 0 };
	char err[128] = "";

	assert_int_equal(cidr_set_parse("10.0.0.0/8, 192.168.1.0/24 2001:db8::/32\t::1,,", &s,
					err, sizeof(err)), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.v[0].bits, 104);
	assert_int_equal(s.v[2].bits, 32);
	assert_true(cidr_set_contains(&s, ip("192.168.1.7")));
	assert_true(cidr_set_contains(&s, ip("2001:db8::9")));
	assert_true(cidr_set_contains(&s, ip("::1")));
	assert_false(cidr_set_contains(&s, ip("192.168.2.7")));
	cidr_set_release(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
	assert_int_equal(cidr_set_parse("", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
	assert_false(cidr_set_contains(&s, ip("1.2.3.4")));
	assert_int_equal(cidr_set_parse(NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(cidr_set_parse(" , \t,", &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 0);
	cidr_set_release(&s);
}

static void test_allow__set_parse_errors(void **state)
{
	struct cidr_set s = { NULL, 7 };
	char err[128] = "";
	char longitem[200];

	assert_int_equal(cidr_set_parse("10.0.0.0/8,bogus,1.2.3.4", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "not a CIDR: \"bogus\"");
	assert_int_equal(s.n, 7);
	assert_null(s.v);
	assert_int_equal(cidr_set_parse("10.0.0.0/33", &s, err, sizeof(err)), -1);
	assert_string_equal(err, "not a CIDR: \"10.0.0.0/33\"");
	/* An item longer than any address is refused without overflowing anything. */
	memset(longitem, '1', sizeof(longitem) - 1);
	longitem[sizeof(longitem) - 1] = '\0';
	assert_int_equal(cidr_set_parse(longitem, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a CIDR: \"111"));
	assert_true(strlen(err) < 80);
	/* A short err buffer is truncated, not overrun. */
	assert_int_equal(cidr_set_parse("nope", &s, err, 6), -1);
	assert_string_equal(err, "not a");
	assert_int_equal(s.n, 7);
}

static void expect_client(const char *peer, const char *xff, const struct cidr_set *trusted,
			  const char *want)
{
	uint8_t out[16];
	char text[64];

	memset(out, 0xee, sizeof(out));
	assert_int_equal(allow_client_ip(ip(peer), xff, trusted, out), 0);
	ip_format(out, text, sizeof(text));
	assert_string_equal(text, want);
}

static void expect_client_err(const char *peer, const char *xff, const struct cidr_set *trusted)
{
	uint8_t out[16];

	memset(out, 0xee, sizeof(out));
	assert_int_equal(allow_client_ip(ip(peer), xff, trusted, out), -1);
	assert_int_equal(out[0], 0xee);
	assert_int_equal(out[15], 0xee);
}

static void test_allow__client_ip(void **state)
{
	struct cidr_set t = { NULL, 0 };
	char err[128];

	assert_int_equal(cidr_set_parse("10.0.0.0/8 ::1", &t, err, sizeof(err)), 0);
	/* An untrusted peer's X-Forwarded-For is ignored, whatever it says. */
	expect_client("203.0.113.9", "1.2.3.4", &t, "203.0.113.9");
	expect_client("203.0.113.9", "garbage", &t, "203.0.113.9");
	expect_client("10.0.0.1", NULL, &t, "10.0.0.1");
	expect_client("10.0.0.1", "1.2.3.4", &t, "1.2.3.4");
	expect_client("10.0.0.1", " 1.2.3.4\t", &t, "1.2.3.4");
	expect_client("10.0.0.1", "spoofed, 1.2.3.4, 10.0.0.2", &t, "1.2.3.4");
	expect_client("10.0.0.1", "1.2.3.4,5.6.7.8", &t, "5.6.7.8");
	/* Only proxies all the way: the leftmost one is the best answer there is. */
	expect_client("10.0.0.1", "10.0.0.3, 10.0.0.2", &t, "10.0.0.3");
	/* A trusted proxy's empty header, or an empty entry reached in the walk, names nobody. */
	expect_client_err("10.0.0.1", "", &t);
	expect_client_err("10.0.0.1", " ", &t);
	expect_client_err("10.0.0.1", ",10.0.0.2", &t);
	expect_client_err("10.0.0.1", "1.2.3.4 x", &t);
	expect_client("::1", "2001:db8::5", &t, "2001:db8::5");
	expect_client("::1", "10.9.9.9, ::ffff:198.51.100.7", &t, "198.51.100.7");
	expect_client_err("10.0.0.1", "garbage", &t);
	expect_client_err("10.0.0.1", "1.2.3.4, ", &t);
	expect_client_err("10.0.0.1", "1.2.3.4:8080", &t);
	expect_client_err("10.0.0.1", "[2001:db8::1]", &t);
	expect_client_err("10.0.0.1", "1.2.3.4, 10.0.0.2, nonsense", &t);
	expect_client_err("10.0.0.1", "1.2.3.4,,10.0.0.2", &t);
	expect_client_err("10.0.0.1",
			  "1111111111111111111111111111111111111111111111111111111111111111111",
			  &t);
	cidr_set_release(&t);
}

static void test_allow__client_ip_no_trusted(void **state)
{
	struct cidr_set none = { NULL, 0 };

	expect_client("10.0.0.1", "1.2.3.4", &none, "10.0.0.1");
}

/* A fresh ringer.db in its own temporary directory. */
struct tmpdb {
	char dir[64];
	char path[96];
	sqlite3 *db;
};

static int tmpdb_setup(void **state)
{
	struct tmpdb *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	snprintf(t->dir, sizeof(t->dir), "/tmp/ringer_allow_XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/ringer.db", t->dir);
	assert_int_equal(mgmt_open(t->path, false, &t->db), 0);
	*state = t;
	return 0;
}

static int tmpdb_teardown(void **state)
{
	struct tmpdb *t = *state;
	char p[128];

	sqlite3_close(t->db);
	unlink(t->path);
	snprintf(p, sizeof(p), "%s-wal", t->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", t->path);
	unlink(p);
	rmdir(t->dir);
	free(t);
	return 0;
}

static void expect_note(sqlite3 *db, const char *cidr_text, const char *want)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT note FROM allowlist WHERE cidr = ?1", -1,
					    &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, cidr_text, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
	sqlite3_finalize(st);
}

static void test_allow__store(void **state)
{
	struct tmpdb *t = *state;
	struct cidr_set s = { NULL, 0 };
	struct cidr office = cidr("10.9.9.9/8"), lab = cidr("2001:db8::/32");
	char text[80];
	sqlite3 *ro;

	assert_int_equal(allow_store_load(t->db, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(allow_store_add(t->db, &office, "office"), 0);
	assert_int_equal(allow_store_add(t->db, &lab, NULL), 0);
	expect_note(t->db, "10.0.0.0/8", "office");
	expect_note(t->db, "2001:db8::/32", "");
	/* Adding again updates the note and keeps one row. */
	assert_int_equal(allow_store_add(t->db, &office, "head office"), 0);
	expect_note(t->db, "10.0.0.0/8", "head office");
	assert_int_equal(allow_store_load(t->db, &s), 0);
	assert_int_equal(s.n, 2);
	cidr_format(&s.v[0], text, sizeof(text));
	assert_string_equal(text, "10.0.0.0/8");
	cidr_format(&s.v[1], text, sizeof(text));
	assert_string_equal(text, "2001:db8::/32");
	assert_true(cidr_set_contains(&s, ip("10.200.1.1")));
	cidr_set_release(&s);
	/* Another spelling of the same network removes it. */
	office = cidr("10.1.1.1/8");
	assert_int_equal(allow_store_remove(t->db, &office), 0);
	assert_int_equal(allow_store_remove(t->db, &office), 1);
	assert_int_equal(allow_store_load(t->db, &s), 0);
	assert_int_equal(s.n, 1);
	assert_false(cidr_set_contains(&s, ip("10.200.1.1")));
	assert_true(cidr_set_contains(&s, ip("2001:db8::1")));
	cidr_set_release(&s);
	/* A read-only handle sees the same rows. */
	assert_int_equal(mgmt_open(t->path, true, &ro), 0);
	assert_int_equal(allow_store_load(ro, &s), 0);
	assert_int_equal(s.n, 1);
	cidr_set_release(&s);
	sqlite3_close(ro);
}

static void test_allow__store_skips_bad_rows(void **state)
{
	struct tmpdb *t = *state;
	struct cidr_set s = { NULL, 0 };
	struct cidr c = cidr("192.0.2.0/24");

	assert_int_equal(db_exec(t->db, "INSERT INTO allowlist(cidr, note, created) VALUES"
				 "('not-a-cidr', '', '2026-01-01T00:00:00Z')"), 0);
	assert_int_equal(allow_store_add(t->db, &c, "x"), 0);
	assert_int_equal(allow_store_load(t->db, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(cidr_set_contains(&s, ip("192.0.2.77")));
	cidr_set_release(&s);
}

static void test_allow__store_without_table(void **state)
{
	struct cidr_set s = { NULL, 3 };
	struct cidr c = cidr("192.0.2.0/24");
	sqlite3 *db;

	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(allow_store_load(db, &s), -1);
	assert_int_equal(s.n, 3);
	assert_int_equal(allow_store_add(db, &c, "x"), -1);
	assert_int_equal(allow_store_remove(db, &c), -1);
	sqlite3_close(db);
}

/* What an admin adds must still be there after ringerd reloads the table. */
static void test_allow__store_round_trips_mapped_v6(void **state)
{
	struct tmpdb *t = *state;
	struct cidr_set s = { NULL, 0 };
	struct cidr c = cidr("::ffff:10.0.0.0/104");

	assert_int_equal(allow_store_add(t->db, &c, "mapped"), 0);
	assert_int_equal(allow_store_load(t->db, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(cidr_set_contains(&s, ip("10.1.2.3")));
	cidr_set_release(&s);
}

static void test_allow__live(void **state)
{
	struct cidr_set s = { NULL, 0 }, s2 = { NULL, 0 };
	char err[64];

	/* Before the first set nothing is admitted. */
	assert_false(allow_live_check(ip("127.0.0.1")));
	assert_int_equal(cidr_set_parse("127.0.0.1/32 ::1", &s, err, sizeof(err)), 0);
	allow_live_set(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
	assert_true(allow_live_check(ip("127.0.0.1")));
	assert_true(allow_live_check(ip("::1")));
	assert_false(allow_live_check(ip("127.0.0.2")));
	/* A new set replaces the old one whole. */
	assert_int_equal(cidr_set_parse("192.0.2.0/24", &s2, err, sizeof(err)), 0);
	allow_live_set(&s2);
	assert_false(allow_live_check(ip("127.0.0.1")));
	assert_true(allow_live_check(ip("192.0.2.1")));
	allow_live_clear();
	assert_false(allow_live_check(ip("192.0.2.1")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allow__live),
		cmocka_unit_test(test_allow__ip_parse_and_format),
		cmocka_unit_test(test_allow__cidr_parse),
		cmocka_unit_test(test_allow__cidr_parse_rejects),
		cmocka_unit_test(test_allow__cidr_format_canonical),
		cmocka_unit_test(test_allow__cidr_format_reparses),
		cmocka_unit_test(test_allow__contains_v4),
		cmocka_unit_test(test_allow__contains_v6),
		cmocka_unit_test(test_allow__set_parse),
		cmocka_unit_test(test_allow__set_parse_errors),
		cmocka_unit_test(test_allow__client_ip),
		cmocka_unit_test(test_allow__client_ip_no_trusted),
		cmocka_unit_test_setup_teardown(test_allow__store, tmpdb_setup, tmpdb_teardown),
		cmocka_unit_test_setup_teardown(test_allow__store_skips_bad_rows, tmpdb_setup,
						tmpdb_teardown),
		cmocka_unit_test(test_allow__store_without_table),
		cmocka_unit_test_setup_teardown(test_allow__store_round_trips_mapped_v6,
						tmpdb_setup, tmpdb_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
