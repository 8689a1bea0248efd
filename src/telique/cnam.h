/* cnam.h - CNAM lookups end to end: local data, routing, caches, network dips.
 *
 * A lookup answers from the local CNAM data when it has the number (never a
 * dip). Otherwise the routing rules pick a source; a local target answers
 * "no name", an upstream is asked through the cache (cnam_cache.h), then the
 * shared Redis cache when configured, then the upstream itself. docs/cnam.md
 * describes the behaviour and the counters it keeps for /metrics.
 */
#ifndef RINGER_TELIQUE_CNAM_H
#define RINGER_TELIQUE_CNAM_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/config.h"
#include "../numdb/numdb.h"
#include "telique.h"

/*
 * Set up sources, routes, the cache and Redis from cfg's [cnam] settings.
 * Call once before serving. Returns 0, or -1 with err saying which setting
 * is wrong.
 */
int cnam_init(const struct config *cfg, char *err, size_t errlen);

/* Free everything cnam_init() made. No lookup may be running. */
void cnam_shutdown(void);

/*
 * The answer for tn, reading generation g. Returns 0 with *out filled and
 * *cache_hit true when no network dip was made for it, or -1 when the
 * network failed (or outlasted its timeout) and nothing usable is cached;
 * then *out is untouched. Before cnam_init() only local data answers.
 */
int cnam_lookup(const struct numdb *g, uint64_t tn, struct cnam_answer *out, bool *cache_hit);

/*
 * Forget the cached answer of tn, or every cached answer when tn is 0, here
 * and in Redis. Returns the answers this node's cache held; *shared gets the
 * Redis keys deleted (-1 when Redis failed, 0 without Redis).
 */
long cnam_purge(uint64_t tn, long *shared);

#endif
