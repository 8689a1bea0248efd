/* cnam_cache.h - the CNAM answer cache in front of network dips.
 *
 * A bounded map from number to answer. Its model:
 * - At most `entries` answers are held; inserting past that evicts the least
 *   recently used answer that no fill is working on.
 * - A name lives ttl_ms, a "no name" answer negative_ttl_ms, both measured
 *   with the clock module (clock_now_ms), so tests can move time.
 * - A miss calls the caller's fill function outside the lock. Concurrent
 *   misses for the same number wait on that one fill (single-flight) for at
 *   most wait_ms instead of filling themselves.
 * - When a fill fails, an expired answer no older than stale_ms past its
 *   expiry is served instead (a stale answer); with none, the call fails.
 */
#ifndef RINGER_TELIQUE_CNAM_CACHE_H
#define RINGER_TELIQUE_CNAM_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One answer: a name, or none ("no name" answers are cached too). */
struct cnam_value {
	bool available;  /* a name exists */
	bool restricted; /* presentation restricted: name is the private form */
	char name[16];   /* at most 15 printable ASCII characters, "" when unavailable */
};

/* What a fill function hands back. */
struct cnam_fill {
	struct cnam_value v;
	int64_t expires_ms; /* 0 = the cache's TTL; else an earlier expiry to keep */
	bool dipped;        /* a network dip made this answer (vs. a shared cache) */
};

/* Produce the answer for tn. Returns 0 with *out filled, or negative on failure. */
typedef int (*cnam_fill_fn)(void *ctx, uint64_t tn, struct cnam_fill *out);

struct cnam_cache_opts {
	size_t entries;          /* cap on answers held, >= 1 */
	int64_t ttl_ms;          /* life of a name */
	int64_t negative_ttl_ms; /* life of a "no name" answer */
	int64_t stale_ms;        /* how long past expiry an answer may stand in for a failed fill */
	unsigned wait_ms;        /* how long a concurrent miss waits for the fill it joined */
};

enum cnam_origin {
	CNAM_HIT,    /* a fresh cached answer */
	CNAM_FILLED, /* this call's fill answered */
	CNAM_SHARED, /* another call's fill answered while this one waited */
	CNAM_STALE,  /* the fill failed or ran too long; an expired answer stood in */
};

struct cnam_lookup {
	struct cnam_value v;
	enum cnam_origin origin;
	bool dipped; /* a network dip was made (or tried) for this answer */
};

enum cnam_cache_error {
	CNAM_CACHE_FAILED = -1,  /* the fill failed and nothing usable is cached */
	CNAM_CACHE_TIMEOUT = -2, /* the joined fill outlasted wait_ms */
	CNAM_CACHE_NOMEM = -3,
};

struct cnam_cache;

/* A new cache, or NULL when out of memory. */
struct cnam_cache *cnam_cache_new(const struct cnam_cache_opts *opts);

/* Free the cache. No call may be running in it. */
void cnam_cache_free(struct cnam_cache *c);

/*
 * The answer for tn, from the cache or through fill(ctx, tn, ...). Returns 0
 * with *out filled, or a cnam_cache_error with *out untouched.
 */
int cnam_cache_get(struct cnam_cache *c, uint64_t tn, cnam_fill_fn fill, void *ctx,
		   struct cnam_lookup *out);

/* Forget tn's answer. Returns 1 if one was held, else 0. */
int cnam_cache_purge(struct cnam_cache *c, uint64_t tn);

/* Forget every answer. Returns how many were held. */
size_t cnam_cache_purge_all(struct cnam_cache *c);

/* Answers held now (fresh or expired). */
size_t cnam_cache_count(struct cnam_cache *c);

#endif
