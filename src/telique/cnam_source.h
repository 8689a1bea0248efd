/* cnam_source.h - where CNAM answers come from, and which source a number asks.
 *
 * A source answers one number with a name or with "no name". Two kinds sit
 * behind the one interface: the local CNAM data of a lookup generation, and
 * an HTTP upstream (any provider that answers a number with a name: the URL
 * template, the JSON field and an auth header are configuration).
 *
 * Routing rules pick the source per number, the way the SS7 network routes a
 * CNAM query (DOMAIN.md section 3): a ported number by the CNAM DPC of its
 * subscription version (10-digit GTT), any other number by its leading digits
 * (6-digit GTT and friends). docs/cnam.md has the rule syntax.
 */
#ifndef RINGER_TELIQUE_CNAM_SOURCE_H
#define RINGER_TELIQUE_CNAM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../numdb/numdb.h"
#include "cnam_cache.h"

struct cnam_http_conf {
	const char *name;               /* what routing rules call it */
	const char *url;                /* template: {tn} = 10 digits, {e164} = +1 and 10 digits */
	const char *field;              /* dotted JSON path of the name; "" = the whole body */
	const char *presentation_field; /* dotted JSON path: "restricted" etc. or true; "" = none */
	const char *auth_header;        /* "Name: value" or "" */
	unsigned timeout_ms;            /* bound on the whole dip, connect included */
};

enum cnam_source_error {
	CNAM_SRC_FAILED = -1, /* no answer: connect, timeout, HTTP error, oversize */
	CNAM_SRC_BAD = -2,    /* an answer we cannot read */
};

struct cnam_source;

/* The local-data source (name "local"), or NULL when out of memory. */
struct cnam_source *cnam_source_local_new(void);

/* An HTTP upstream, or NULL when the template or the header is malformed (err says why). */
struct cnam_source *cnam_source_http_new(const struct cnam_http_conf *conf, char *err,
					 size_t errlen);

void cnam_source_free(struct cnam_source *s);

const char *cnam_source_name(const struct cnam_source *s);

/* True for the local-data source: asking it is never a dip. */
bool cnam_source_is_local(const struct cnam_source *s);

/*
 * Ask s for tn's name. g is the generation the local source reads (HTTP
 * sources ignore it). Returns 0 with *out filled (a name, PRIVATE for a
 * restricted one, or no name), or a cnam_source_error with *out untouched.
 * HTTP sources reuse one keep-alive handle per calling thread.
 */
int cnam_source_fetch(struct cnam_source *s, const struct numdb *g, uint64_t tn,
		      struct cnam_value *out);

/*
 * Read an HTTP upstream's answer: status and body as received. 404 means no
 * name; other non-2xx statuses fail. Exposed for tests.
 */
int cnam_source_parse(const struct cnam_source *s, long status, const char *body, size_t len,
		      struct cnam_value *out);

/* ---- routing ---- */

struct cnam_routes;

/*
 * Parse rules ("303=a, 720555=b, dpc:001002003=b, *=local") against the named
 * sources (NULL-terminated). With no "*" rule the default is fallback.
 * Returns 0 with *out set, or -1 with err saying which rule is wrong.
 */
int cnam_routes_parse(const char *spec, struct cnam_source *const *sources,
		      struct cnam_source *fallback, struct cnam_routes **out, char *err,
		      size_t errlen);

/* The source to ask for tn, whose LRN answer (for the SV's CNAM DPC) is lrn. */
struct cnam_source *cnam_routes_pick(const struct cnam_routes *r, uint64_t tn,
				     const struct lrn_answer *lrn);

void cnam_routes_free(struct cnam_routes *r);

#endif
