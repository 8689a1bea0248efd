/* cnam_cache.c - bounded LRU answer cache with TTLs, single-flight and stale answers.
 *
 * One mutex guards a chained hash table and an LRU list (most recent at the
 * head). A fill runs outside the lock: its entry carries a `flight` that
 * concurrent misses join and wait on. An entry with a flight is never evicted
 * or unlinked, so the filler can find it again without a second lookup. The
 * flight is reference-counted because a waiter that timed out may leave
 * before the filler, or the filler before the last waiter wakes.
 */
#include "cnam_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/clock.h"

struct flight {
	pthread_cond_t cond;
	int refs;
	bool done;
	int rc;
	struct cnam_lookup result;
};

struct entry {
	uint64_t tn;
	struct entry *hnext;       /* hash chain */
	struct entry *prev, *next; /* LRU list */
	struct cnam_value v;
	bool has_value;
	int64_t expires_ms;
	struct flight *flight; /* non-NULL while a fill runs */
};

struct cnam_cache {
	pthread_mutex_t lock;
	struct cnam_cache_opts o;
	struct entry **buckets;
	size_t mask;
	struct entry *head, *tail;
	size_t count; /* entries linked, with or without a value */
	size_t held;  /* entries with a value */
};

/* ---- table and list ---- */

static size_t slot(const struct cnam_cache *c, uint64_t tn)
{
	return (size_t)((tn * 0x9e3779b97f4a7c15ull) >> 20) & c->mask;
}

static struct entry *find(const struct cnam_cache *c, uint64_t tn)
{
	struct entry *e = c->buckets[slot(c, tn)];

	while (e && e->tn != tn)
		e = e->hnext;
	return e;
}

static void lru_unlink(struct cnam_cache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(struct cnam_cache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

static void drop_value(struct cnam_cache *c, struct entry *e)
{
	if (e->has_value)
		c->held--;
	e->has_value = false;
}

static void unlink_free(struct cnam_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[slot(c, e->tn)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	drop_value(c, e);
	c->count--;
	free(e);
}

/* Make room for one more: evict from the cold end, skipping entries being filled. */
static void evict_for_one(struct cnam_cache *c)
{
	struct entry *e = c->tail;

	while (c->count >= c->o.entries && e) {
		struct entry *prev = e->prev;

		if (e->flight == NULL)
			unlink_free(c, e);
		e = prev;
	}
}

static struct entry *insert(struct cnam_cache *c, uint64_t tn)
{
	struct entry *e;
	size_t s;

	evict_for_one(c);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->tn = tn;
	s = slot(c, tn);
	e->hnext = c->buckets[s];
	c->buckets[s] = e;
	lru_push_front(c, e);
	c->count++;
	return e;
}

/* ---- flights ---- */

static struct flight *flight_new(void)
{
	struct flight *f = calloc(1, sizeof(*f));
	pthread_condattr_t a;

	if (f == NULL)
		return NULL;
	/* Waits are bounded in real time, whatever the settable clock says. */
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	if (pthread_cond_init(&f->cond, &a) != 0) {
		pthread_condattr_destroy(&a);
		free(f);
		return NULL;
	}
	pthread_condattr_destroy(&a);
	f->refs = 1;
	return f;
}

static void flight_put(struct flight *f)
{
	if (--f->refs > 0)
		return;
	pthread_cond_destroy(&f->cond);
	free(f);
}

static void deadline_after(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* ---- answers ---- */

static bool usable_stale(const struct cnam_cache *c, const struct entry *e, int64_t now)
{
	return e->has_value && now < e->expires_ms + c->o.stale_ms;
}

static void answer_stale(const struct entry *e, struct cnam_lookup *out)
{
	out->v = e->v;
	out->origin = CNAM_STALE;
	out->dipped = true;
}

/* Join e's fill and wait for it, within wait_ms. Called and returns with the lock held. */
static int join_flight(struct cnam_cache *c, struct entry *e, struct cnam_lookup *out)
{
	struct flight *f = e->flight;
	struct timespec until;
	int rc = 0, w = 0;

	f->refs++;
	deadline_after(&until, c->o.wait_ms);
	while (!f->done && w != ETIMEDOUT)
		w = pthread_cond_timedwait(&f->cond, &c->lock, &until);
	if (f->done && f->rc == 0) {
		*out = f->result;
		if (out->origin != CNAM_STALE)
			out->origin = CNAM_SHARED;
	} else if (f->done) {
		rc = f->rc;
	} else if (usable_stale(c, e, clock_now_ms())) {
		/* The fill is still running, so e is still linked. */
		answer_stale(e, out);
	} else {
		rc = CNAM_CACHE_TIMEOUT;
	}
	flight_put(f);
	return rc;
}

static int64_t expiry_for(const struct cnam_cache *c, const struct cnam_fill *fr, int64_t now)
{
	int64_t ttl = fr->v.available ? c->o.ttl_ms : c->o.negative_ttl_ms;
	int64_t exp = now + ttl;

	/* A shared cache's remaining life can only shorten ours. */
	if (fr->expires_ms > 0 && fr->expires_ms < exp)
		exp = fr->expires_ms;
	return exp;
}

/* Record the fill's outcome in e and its flight. Lock held. */
static int settle(struct cnam_cache *c, struct entry *e, int rc, const struct cnam_fill *fr,
		  struct cnam_lookup *out)
{
	struct flight *f = e->flight;
	int64_t now = clock_now_ms();

	if (rc == 0) {
		if (!e->has_value)
			c->held++;
		e->v = fr->v;
		e->has_value = true;
		e->expires_ms = expiry_for(c, fr, now);
		out->v = fr->v;
		out->origin = CNAM_FILLED;
		out->dipped = fr->dipped;
	} else if (usable_stale(c, e, now)) {
		answer_stale(e, out);
		rc = 0;
	} else {
		rc = CNAM_CACHE_FAILED;
		drop_value(c, e); /* too old to stand in ever again */
	}
	f->rc = rc;
	if (rc == 0)
		f->result = *out;
	f->done = true;
	e->flight = NULL;
	pthread_cond_broadcast(&f->cond);
	flight_put(f);
	if (!e->has_value)
		unlink_free(c, e);
	return rc;
}

/* Start a fill for tn (creating its entry), run it unlocked, settle. Lock held. */
static int fill_locked(struct cnam_cache *c, struct entry *e, uint64_t tn, cnam_fill_fn fill,
		       void *ctx, struct cnam_lookup *out)
{
	struct cnam_fill fr;
	struct flight *f = flight_new();
	int rc;

	if (f == NULL)
		return CNAM_CACHE_NOMEM;
	if (e == NULL && (e = insert(c, tn)) == NULL) {
		flight_put(f);
		return CNAM_CACHE_NOMEM;
	}
	e->flight = f;
	pthread_mutex_unlock(&c->lock);
	memset(&fr, 0, sizeof(fr));
	rc = fill(ctx, tn, &fr);
	pthread_mutex_lock(&c->lock);
	return settle(c, e, rc, &fr, out);
}

int cnam_cache_get(struct cnam_cache *c, uint64_t tn, cnam_fill_fn fill, void *ctx,
		   struct cnam_lookup *out)
{
	struct cnam_lookup res;
	struct entry *e;
	int rc = 0;

	pthread_mutex_lock(&c->lock);
	e = find(c, tn);
	if (e && e->has_value && clock_now_ms() < e->expires_ms) {
		lru_unlink(c, e);
		lru_push_front(c, e);
		res.v = e->v;
		res.origin = CNAM_HIT;
		res.dipped = false;
	} else if (e && e->flight) {
		rc = join_flight(c, e, &res);
	} else {
		rc = fill_locked(c, e, tn, fill, ctx, &res);
	}
	pthread_mutex_unlock(&c->lock);
	if (rc == 0)
		*out = res;
	return rc;
}

/* ---- purge, size, life cycle ---- */

int cnam_cache_purge(struct cnam_cache *c, uint64_t tn)
{
	struct entry *e;
	int had = 0;

	pthread_mutex_lock(&c->lock);
	e = find(c, tn);
	if (e) {
		had = e->has_value;
		/* An entry being filled stays linked for its filler; only its answer goes. */
		if (e->flight)
			drop_value(c, e);
		else
			unlink_free(c, e);
	}
	pthread_mutex_unlock(&c->lock);
	return had;
}

size_t cnam_cache_purge_all(struct cnam_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->held;
	for (struct entry *e = c->head, *next; e; e = next) {
		next = e->next;
		if (e->flight)
			drop_value(c, e);
		else
			unlink_free(c, e);
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t cnam_cache_count(struct cnam_cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->held;
	pthread_mutex_unlock(&c->lock);
	return n;
}

struct cnam_cache *cnam_cache_new(const struct cnam_cache_opts *opts)
{
	struct cnam_cache *c = calloc(1, sizeof(*c));
	size_t n = 16;

	if (c == NULL || opts->entries == 0)
		goto fail;
	/* About one bucket per entry, bounded so a huge cap does not allocate a huge table. */
	while (n < opts->entries && n < ((size_t)1 << 22))
		n <<= 1;
	c->buckets = calloc(n, sizeof(*c->buckets));
	if (c->buckets == NULL)
		goto fail;
	c->mask = n - 1;
	c->o = *opts;
	pthread_mutex_init(&c->lock, NULL);
	return c;
fail:
	free(c);
	return NULL;
}

void cnam_cache_free(struct cnam_cache *c)
{
	if (c == NULL)
		return;
	for (struct entry *e = c->head, *next; e; e = next) {
		next = e->next;
		free(e);
	}
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
