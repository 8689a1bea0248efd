/* allow.c - CIDR parsing and matching, X-Forwarded-For, the allowlist table. */
#include "allow.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/log.h"

static const uint8_t v4_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

int ip_parse(const char *s, uint8_t out[16])
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memcpy(out, v4_prefix, 12);
		memcpy(out + 12, &a4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6) == 1) {
		memcpy(out, &a6, 16);
		return 0;
	}
	return -1;
}

static bool is_v4(const uint8_t ip[16])
{
	return memcmp(ip, v4_prefix, 12) == 0;
}

void ip_format(const uint8_t ip[16], char *out, size_t outlen)
{
	if (is_v4(ip))
		inet_ntop(AF_INET, ip + 12, out, (socklen_t)outlen);
	else
		inet_ntop(AF_INET6, ip, out, (socklen_t)outlen);
}

static void clear_host_bits(uint8_t a[16], unsigned bits)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned lo = i * 8;

		if (bits <= lo)
			a[i] = 0;
		else if (bits < lo + 8)
			a[i] &= (uint8_t)(0xff << (lo + 8 - bits));
	}
}

int cidr_parse(const char *s, struct cidr *out)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned bits, maxbits;
	struct cidr c;

	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (ip_parse(host, c.addr) != 0)
		return -1;
	c.v4 = strchr(host, ':') == NULL;
	maxbits = c.v4 ? 32 : 128;
	bits = maxbits;
	if (slash) {
		char *end;
		unsigned long n;

		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		n = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || n > maxbits || end - (slash + 1) > 3)
			return -1;
		bits = (unsigned)n;
	}
	c.bits = (uint8_t)(c.v4 ? bits + 96 : bits);
	clear_host_bits(c.addr, c.bits);
	/* ::ffff:a.b.c.d/n with n >= 96 is an IPv4 network: say so, so it prints as one. */
	if (!c.v4 && c.bits >= 96 && is_v4(c.addr))
		c.v4 = true;
	*out = c;
	return 0;
}

void cidr_format(const struct cidr *c, char *out, size_t outlen)
{
	char ip[64];

	if (c->v4)
		inet_ntop(AF_INET, c->addr + 12, ip, sizeof(ip));
	else
		inet_ntop(AF_INET6, c->addr, ip, sizeof(ip));
	snprintf(out, outlen, "%s/%u", ip, c->v4 ? c->bits - 96u : c->bits);
}

bool cidr_contains(const struct cidr *c, const uint8_t ip[16])
{
	uint8_t masked[16];

	memcpy(masked, ip, 16);
	clear_host_bits(masked, c->bits);
	return memcmp(masked, c->addr, 16) == 0;
}

bool cidr_set_contains(const struct cidr_set *set, const uint8_t ip[16])
{
	for (size_t i = 0; i < set->n; i++)
		if (cidr_contains(&set->v[i], ip))
			return true;
	return false;
}

int cidr_set_parse(const char *list, struct cidr_set *set, char *err, size_t errlen)
{
	struct cidr_set s = { NULL, 0 };
	const char *p = list ? list : "";

	while (*p) {
		size_t n = strcspn(p, ", \t");
		char item[80];
		struct cidr c, *v;

		if (n == 0) {
			p++;
			continue;
		}
		if (n < sizeof(item)) {
			memcpy(item, p, n);
			item[n] = '\0';
		}
		if (n >= sizeof(item) || cidr_parse(item, &c) != 0) {
			snprintf(err, errlen, "not a CIDR: \"%.*s\"", (int)(n > 60 ? 60 : n), p);
			free(s.v);
			return -1;
		}
		v = realloc(s.v, (s.n + 1) * sizeof(*v));
		if (v == NULL) {
			snprintf(err, errlen, "out of memory");
			free(s.v);
			return -1;
		}
		s.v = v;
		s.v[s.n++] = c;
		p += n;
	}
	*set = s;
	return 0;
}

void cidr_set_release(struct cidr_set *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

/* Trim blanks around xff[a..b) and parse it as one address. */
static int xff_item(const char *xff, size_t a, size_t b, uint8_t ip[16])
{
	char item[64];

	while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
		a++;
	while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
		b--;
	if (b - a == 0 || b - a >= sizeof(item))
		return -1;
	memcpy(item, xff + a, b - a);
	item[b - a] = '\0';
	return ip_parse(item, ip);
}

int allow_client_ip(const uint8_t peer[16], const char *xff,
		    const struct cidr_set *trusted, uint8_t out[16])
{
	uint8_t cur[16];
	size_t end;

	memcpy(cur, peer, 16);
	if (xff == NULL || !cidr_set_contains(trusted, peer)) {
		memcpy(out, cur, 16);
		return 0;
	}
	/* A trusted proxy that sends the header must name someone in it. */
	if (xff[strspn(xff, " \t")] == '\0')
		return -1;
	/* Each proxy appends the address it saw, so trust is earned right to left. */
	end = strlen(xff);
	for (bool more = true; more && cidr_set_contains(trusted, cur);) {
		size_t start = end;

		while (start > 0 && xff[start - 1] != ',')
			start--;
		/* An empty or unreadable entry reached while trust still holds names nobody. */
		if (xff_item(xff, start, end, cur) != 0)
			return -1;
		if (start == 0)
			more = false;
		else
			end = start - 1;
	}
	memcpy(out, cur, 16);
	return 0;
}

int allow_store_add(sqlite3 *db, const struct cidr *c, const char *note)
{
	sqlite3_stmt *st = NULL;
	char text[80], now[32];
	int rc = -1;

	cidr_format(c, text, sizeof(text));
	clock_format_rfc3339(clock_now(), now, sizeof(now));
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO allowlist(cidr, note, created) VALUES(?1, ?2, ?3)"
			       " ON CONFLICT(cidr) DO UPDATE SET note = excluded.note",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, note ? note : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_DONE)
		rc = 0;
out:
	if (rc != 0)
		log_error("allowlist add failed", "cidr=%s err=\"%s\"", text, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

int allow_store_remove(sqlite3 *db, const struct cidr *c)
{
	sqlite3_stmt *st = NULL;
	char text[80];
	int rc = -1;

	cidr_format(c, text, sizeof(text));
	if (sqlite3_prepare_v2(db, "DELETE FROM allowlist WHERE cidr = ?1", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_DONE)
			rc = sqlite3_changes(db) > 0 ? 0 : 1;
	}
	if (rc < 0)
		log_error("allowlist remove failed", "cidr=%s err=\"%s\"", text,
			  sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

int allow_store_load(sqlite3 *db, struct cidr_set *set)
{
	sqlite3_stmt *st = NULL;
	struct cidr_set s = { NULL, 0 };
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT cidr FROM allowlist ORDER BY cidr", -1, &st, NULL) !=
	    SQLITE_OK) {
		log_error("allowlist load failed", "err=\"%s\"", sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 0);
		struct cidr c, *v;

		if (text == NULL || cidr_parse(text, &c) != 0) {
			log_warn("allowlist entry ignored", "cidr=\"%s\"", text ? text : "");
			continue;
		}
		v = realloc(s.v, (s.n + 1) * sizeof(*v));
		if (v == NULL)
			break;
		s.v = v;
		s.v[s.n++] = c;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(s.v);
		log_error("allowlist load failed", "err=\"%s\"", sqlite3_errmsg(db));
		return -1;
	}
	*set = s;
	return 0;
}

static pthread_rwlock_t live_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct cidr_set live;

void allow_live_set(struct cidr_set *set)
{
	struct cidr_set old;

	pthread_rwlock_wrlock(&live_lock);
	old = live;
	live = *set;
	pthread_rwlock_unlock(&live_lock);
	set->v = NULL;
	set->n = 0;
	cidr_set_release(&old);
}

bool allow_live_check(const uint8_t ip[16])
{
	bool ok;

	pthread_rwlock_rdlock(&live_lock);
	ok = cidr_set_contains(&live, ip);
	pthread_rwlock_unlock(&live_lock);
	return ok;
}

void allow_live_clear(void)
{
	struct cidr_set empty = { NULL, 0 };

	allow_live_set(&empty);
}
