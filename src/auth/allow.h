/* allow.h - source address allowlists (CIDR, IPv4 and IPv6).
 *
 * Addresses are held as 16 bytes; IPv4 is mapped into ::ffff:0:0/96 so one
 * comparison covers both families. The allowlist itself lives in ringer.db
 * (allow_store_*); ringerd keeps an immutable copy it swaps on change.
 */
#ifndef RINGER_AUTH_ALLOW_H
#define RINGER_AUTH_ALLOW_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cidr {
	uint8_t addr[16]; /* network address, host bits cleared */
	uint8_t bits;     /* prefix length over the 128-bit form */
	bool v4;
};

struct cidr_set {
	struct cidr *v;
	size_t n;
};

/* Parse "a.b.c.d", "a.b.c.d/n", an IPv6 address or "v6/n". Returns 0 or -1. */
int cidr_parse(const char *s, struct cidr *out);

/* Write the canonical text form ("10.0.0.0/8", "2001:db8::/32") into out. */
void cidr_format(const struct cidr *c, char *out, size_t outlen);

/* Parse a single address (no prefix) into 16 bytes. Returns 0 or -1. */
int ip_parse(const char *s, uint8_t out[16]);

/* Format a 16-byte address, IPv4-mapped ones in dotted form. */
void ip_format(const uint8_t ip[16], char *out, size_t outlen);

bool cidr_contains(const struct cidr *c, const uint8_t ip[16]);
bool cidr_set_contains(const struct cidr_set *set, const uint8_t ip[16]);

/*
 * Parse a comma- or space-separated list of CIDRs. Returns 0, or -1 naming
 * the first bad entry in err. The set owns its array (cidr_set_release).
 */
int cidr_set_parse(const char *list, struct cidr_set *set, char *err, size_t errlen);
void cidr_set_release(struct cidr_set *set);

/*
 * The address a request comes from. peer is the socket's address. Only when
 * peer is a trusted proxy is X-Forwarded-For (xff, may be NULL) read: walking
 * from its right end, the first address that is not itself a trusted proxy
 * is the client. Returns 0 with the address in out, or -1 when a trusted
 * proxy sent an X-Forwarded-For that does not parse.
 */
int allow_client_ip(const uint8_t peer[16], const char *xff,
		    const struct cidr_set *trusted, uint8_t out[16]);

/* The allowlist table in ringer.db. Each returns 0, or -1 after logging. */
int allow_store_add(sqlite3 *db, const struct cidr *c, const char *note);
/* Returns 0 if removed, 1 if it was not there, -1 on error. */
int allow_store_remove(sqlite3 *db, const struct cidr *c);
/* Load every entry into set (caller releases). */
int allow_store_load(sqlite3 *db, struct cidr_set *set);

/*
 * The allowlist ringerd enforces. allow_live_set() takes ownership of set and
 * replaces the previous one atomically; allow_live_check() may run on any
 * thread at any time. Before the first set nothing is admitted.
 */
void allow_live_set(struct cidr_set *set);
bool allow_live_check(const uint8_t ip[16]);
void allow_live_clear(void);

#endif
