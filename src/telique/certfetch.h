/* certfetch.h - fetching STIR/SHAKEN certificates (x5u) safely, with a cache.
 *
 * A PASSporT names the URL of its signer's certificate, so every verification
 * would make ringerd fetch a URL chosen by whoever built the token. The
 * fetcher therefore speaks HTTPS only (plain HTTP only when the operator
 * allows it), to ports 443 and 8443 only (unless the operator lists others),
 * follows no redirects, gives up after a time limit (DNS resolution included:
 * it runs on a thread of its own that the fetch stops waiting for) and a size
 * limit, and connects only to addresses that are not loopback, private,
 * link-local, metadata, multicast or unspecified, unless the operator lists
 * them. It resolves the host itself and pins curl to the address it checked,
 * so a DNS answer that changes between check and connect cannot get past it;
 * curl's socket callback checks the address once more before connecting.
 *
 * Answers are cached by URL for as long as Cache-Control max-age says (a
 * default when it says nothing, none for no-store/no-cache), in a bounded,
 * thread-safe table. A cached document can carry one parsed form, attached by
 * its first user, so that repeated verifications parse it once.
 */
#ifndef RINGER_TELIQUE_CERTFETCH_H
#define RINGER_TELIQUE_CERTFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../auth/allow.h"

struct addrinfo;

#define CERTFETCH_MAX_BYTES 65536
#define CERTFETCH_TIMEOUT_MS 2000
#define CERTFETCH_DEFAULT_TTL 300 /* seconds, when the server sends no max-age */
#define CERTFETCH_MAX_TTL 86400
#define CERTFETCH_MAX_ENTRIES 1024
#define CERTFETCH_DOC_SLOTS 2     /* parsed forms one document can carry */

enum certfetch_err {
	CERTFETCH_OK = 0,
	CERTFETCH_BAD_URL = -1,   /* not an absolute http(s) URL, or a scheme not allowed */
	CERTFETCH_FORBIDDEN = -2, /* resolves only to addresses the guard refuses */
	CERTFETCH_RESOLVE = -3,   /* the host name does not resolve */
	CERTFETCH_NETWORK = -4,   /* connect, TLS or transfer failure */
	CERTFETCH_TIMEOUT = -5,
	CERTFETCH_STATUS = -6,    /* an answer other than 200 */
	CERTFETCH_TOO_BIG = -7,
	CERTFETCH_NOMEM = -8,
	CERTFETCH_PORT = -9,      /* a port not in the allowed list */
};

/*
 * Resolves name (a host name or an address literal) for a TCP connection:
 * 0 with *res from getaddrinfo() (freed with freeaddrinfo()), or non-zero.
 * The default is getaddrinfo() itself; tests put a slow one here.
 */
typedef int (*certfetch_resolver_fn)(const char *name, struct addrinfo **res);

struct certfetch_cfg {
	bool allow_http;        /* accept http:// URLs too */
	unsigned timeout_ms;    /* whole transfer, DNS included; 0 = CERTFETCH_TIMEOUT_MS */
	size_t max_bytes;       /* 0 = CERTFETCH_MAX_BYTES */
	size_t max_entries;     /* cache size; 0 = CERTFETCH_MAX_ENTRIES */
	const char *ca_file;    /* CA bundle for the servers' TLS; NULL or "" = system's */
	const char *allow;      /* CIDRs exempt from the address guard; NULL or "" = none */
	/* Ports URLs may name: "443,8443,10000-10099"; NULL or "" = 443 and 8443 (and 80
	 * with allow_http). */
	const char *ports;
	certfetch_resolver_fn resolver; /* NULL = getaddrinfo() */
};

struct certfetch;
struct certfetch_doc;

/* Make a fetcher. Returns NULL with a reason in err (a bad allow or port list, no memory). */
struct certfetch *certfetch_new(const struct certfetch_cfg *cfg, char *err, size_t errlen);
void certfetch_free(struct certfetch *f);

/*
 * The document at url, from the cache or fetched now. Returns CERTFETCH_OK
 * with *out retained (certfetch_doc_release it), or a negative
 * certfetch_err with *out untouched. Failures are not cached. Thread-safe.
 */
int certfetch_get(struct certfetch *f, const char *url, struct certfetch_doc **out);

/* A short text for a certfetch_err ("HTTP status not 200"). */
const char *certfetch_strerror(int err);

/* True if URLs naming port may be fetched. */
bool certfetch_port_allowed(const struct certfetch *f, unsigned port);

/* True if the guard refuses ip (16-byte form, IPv4 mapped) for this fetcher. */
bool certfetch_addr_refused(const struct certfetch *f, const uint8_t ip[16]);

/* The body (NUL-terminated) and its length. */
const char *certfetch_doc_body(const struct certfetch_doc *d, size_t *len);

/* Epoch seconds (clock_now) after which the cache no longer serves it. */
int64_t certfetch_doc_expires(const struct certfetch_doc *d);

/*
 * The parsed form attached to d by free_fn's kind of user, or NULL. The free
 * function doubles as the kind: a URL fetched once as a certificate and once
 * as a CRL keeps one parsed form of each, so a token naming a CRL's URL as
 * its x5u cannot spoil that CRL for everyone else. certfetch_doc_attach()
 * sets it once per kind: it returns obj when obj was attached, or the object
 * of the same kind another thread attached first (obj is then freed); NULL
 * (obj freed) only when every slot holds another kind.
 */
void *certfetch_doc_parsed(const struct certfetch_doc *d, void (*free_fn)(void *));
void *certfetch_doc_attach(struct certfetch_doc *d, void *obj, void (*free_fn)(void *));

void certfetch_doc_retain(struct certfetch_doc *d);
void certfetch_doc_release(struct certfetch_doc *d);

/* Entries in the cache now (for tests and metrics). */
size_t certfetch_cache_size(struct certfetch *f);

/* Drop every cached entry. */
void certfetch_cache_clear(struct certfetch *f);

#endif
