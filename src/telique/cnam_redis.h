/* cnam_redis.h - the optional CNAM cache shared by several ringerd nodes (Redis).
 *
 * Each node keeps its own cache and looks here after it and before a dip,
 * then writes every dip's answer through. Every command is bounded by the
 * timeout; a failing Redis makes calls fail fast (a thread that saw an error
 * leaves Redis alone for a second) and never fails a lookup by itself.
 *
 * Keys are "ringer:cnam:<10 digits>"; values are "<expires_ms> <A><R> <name>"
 * with A and R '1' or '0' for available and restricted, and expire in Redis
 * at the same instant (PX).
 */
#ifndef RINGER_TELIQUE_CNAM_REDIS_H
#define RINGER_TELIQUE_CNAM_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "cnam_cache.h"

struct cnam_redis;

/*
 * A client for addr ("host:port" or "unix:/path"); connections are made per
 * thread on first use. NULL with err set when addr does not parse.
 */
struct cnam_redis *cnam_redis_new(const char *addr, unsigned timeout_ms, char *err,
				  size_t errlen);

/* Free the client and the calling thread's connection. No other thread may use it. */
void cnam_redis_free(struct cnam_redis *r);

/* 0 with *v and *expires_ms filled, 1 when Redis has no live answer, -1 on error. */
int cnam_redis_get(struct cnam_redis *r, uint64_t tn, struct cnam_value *v,
		   int64_t *expires_ms);

/* Store v until expires_ms (clock module time). Returns 0 or -1. */
int cnam_redis_set(struct cnam_redis *r, uint64_t tn, const struct cnam_value *v,
		   int64_t expires_ms);

/* Delete tn's answer (tn 0: every ringer CNAM key). Returns the keys deleted, or -1. */
long cnam_redis_purge(struct cnam_redis *r, uint64_t tn);

#endif
