/* cnam_redis.c - shared CNAM answers in Redis through hiredis, one connection per thread. */
#include "cnam_redis.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/tn.h"

#define KEY_PREFIX "ringer:cnam:"
#define BACKOFF_MS 1000
#define PURGE_ROUNDS 100000 /* SCAN rounds a purge-all may take before it gives up */

struct cnam_redis {
	char host[128];
	int port; /* 0: host is a unix socket path */
	struct timeval tv;
	pthread_key_t key;
};

struct conn {
	redisContext *ctx;
	int64_t retry_after; /* monotonic ms before which a broken thread does not reconnect */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_free(void *p)
{
	struct conn *c = p;

	if (c->ctx)
		redisFree(c->ctx);
	free(c);
}

static int parse_addr(struct cnam_redis *r, const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char *end;
	long port;

	if (strncmp(addr, "unix:", 5) == 0 && addr[5]) {
		snprintf(r->host, sizeof(r->host), "%s", addr + 5);
		return strlen(addr + 5) < sizeof(r->host) ? 0 : -1;
	}
	if (colon == NULL || colon == addr || (size_t)(colon - addr) >= sizeof(r->host))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || port < 1 || port > 65535)
		return -1;
	memcpy(r->host, addr, (size_t)(colon - addr));
	r->host[colon - addr] = '\0';
	r->port = (int)port;
	return 0;
}

struct cnam_redis *cnam_redis_new(const char *addr, unsigned timeout_ms, char *err,
				  size_t errlen)
{
	struct cnam_redis *r = calloc(1, sizeof(*r));

	if (r == NULL || parse_addr(r, addr) != 0 || pthread_key_create(&r->key, conn_free)) {
		snprintf(err, errlen, "cnam.redis \"%s\" is not host:port or unix:/path", addr);
		free(r);
		return NULL;
	}
	r->tv.tv_sec = timeout_ms / 1000;
	r->tv.tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000;
	return r;
}

void cnam_redis_free(struct cnam_redis *r)
{
	struct conn *c;

	if (r == NULL)
		return;
	c = pthread_getspecific(r->key);
	if (c)
		conn_free(c);
	pthread_setspecific(r->key, NULL);
	pthread_key_delete(r->key);
	free(r);
}

/* The thread's live connection, or NULL (Redis down, or in the back-off after an error). */
static redisContext *thread_ctx(struct cnam_redis *r)
{
	struct conn *c = pthread_getspecific(r->key);

	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL || pthread_setspecific(r->key, c) != 0) {
			free(c);
			return NULL;
		}
	}
	if (c->ctx || mono_ms() < c->retry_after)
		return c->ctx;
	c->ctx = r->port ? redisConnectWithTimeout(r->host, r->port, r->tv)
			 : redisConnectUnixWithTimeout(r->host, r->tv);
	if (c->ctx && c->ctx->err == 0 && redisSetTimeout(c->ctx, r->tv) == REDIS_OK)
		return c->ctx;
	log_warn("cnam redis unreachable", "err=\"%s\"", c->ctx ? c->ctx->errstr : "no memory");
	if (c->ctx)
		redisFree(c->ctx);
	c->ctx = NULL;
	c->retry_after = mono_ms() + BACKOFF_MS;
	return NULL;
}

/* Run a command; a transport failure drops the connection and starts the back-off. */
static redisReply *command(struct cnam_redis *r, const char *fmt, ...)
{
	redisContext *ctx = thread_ctx(r);
	struct conn *c;
	redisReply *rep;
	va_list ap;

	if (ctx == NULL)
		return NULL;
	va_start(ap, fmt);
	rep = redisvCommand(ctx, fmt, ap);
	va_end(ap);
	if (rep != NULL)
		return rep;
	log_warn("cnam redis failed", "err=\"%s\"", ctx->errstr);
	c = pthread_getspecific(r->key);
	redisFree(c->ctx);
	c->ctx = NULL;
	c->retry_after = mono_ms() + BACKOFF_MS;
	return NULL;
}

static void key_for(uint64_t tn, char *out, size_t outlen)
{
	char d[TN_STR_LEN + 1];

	tn_format(tn, d);
	snprintf(out, outlen, KEY_PREFIX "%s", d);
}

/* "<expires_ms> <A><R> <name>" into v. Returns 0 or -1. */
static int decode(const char *s, struct cnam_value *v, int64_t *expires_ms)
{
	long long exp;
	char a, rs;
	int used = 0;

	if (sscanf(s, "%lld %c%c %n", &exp, &a, &rs, &used) != 3 || used == 0 ||
	    (a != '0' && a != '1') || (rs != '0' && rs != '1') || strlen(s + used) > 15)
		return -1;
	memset(v, 0, sizeof(*v));
	v->available = a == '1';
	v->restricted = rs == '1';
	memcpy(v->name, s + used, strlen(s + used) + 1);
	*expires_ms = exp;
	return 0;
}

int cnam_redis_get(struct cnam_redis *r, uint64_t tn, struct cnam_value *v,
		   int64_t *expires_ms)
{
	char key[32];
	redisReply *rep;
	int rc = -1;

	key_for(tn, key, sizeof(key));
	rep = command(r, "GET %s", key);
	if (rep == NULL)
		return -1;
	if (rep->type == REDIS_REPLY_NIL)
		rc = 1;
	else if (rep->type == REDIS_REPLY_STRING && decode(rep->str, v, expires_ms) == 0)
		rc = *expires_ms > clock_now_ms() ? 0 : 1;
	freeReplyObject(rep);
	return rc;
}

int cnam_redis_set(struct cnam_redis *r, uint64_t tn, const struct cnam_value *v,
		   int64_t expires_ms)
{
	int64_t ttl = expires_ms - clock_now_ms();
	char key[32], val[64];
	redisReply *rep;
	int rc;

	if (ttl <= 0)
		return 0;
	key_for(tn, key, sizeof(key));
	snprintf(val, sizeof(val), "%lld %c%c %s", (long long)expires_ms,
		 v->available ? '1' : '0', v->restricted ? '1' : '0', v->name);
	rep = command(r, "SET %s %s PX %lld", key, val, (long long)ttl);
	if (rep == NULL)
		return -1;
	rc = rep->type == REDIS_REPLY_STATUS ? 0 : -1;
	freeReplyObject(rep);
	return rc;
}

/* Delete one SCAN page of keys; returns the next cursor (0 = done) or -1. */
static long long purge_page(struct cnam_redis *r, long long cursor, long *deleted)
{
	redisReply *rep = command(r, "SCAN %lld MATCH " KEY_PREFIX "* COUNT 1000", cursor);
	long long next = -1;

	if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
	    rep->element[0]->type == REDIS_REPLY_STRING) {
		redisReply *keys = rep->element[1];

		next = strtoll(rep->element[0]->str, NULL, 10);
		for (size_t i = 0; keys->type == REDIS_REPLY_ARRAY && i < keys->elements; i++) {
			redisReply *d = command(r, "DEL %s", keys->element[i]->str);

			if (d && d->type == REDIS_REPLY_INTEGER)
				*deleted += (long)d->integer;
			if (d)
				freeReplyObject(d);
		}
	}
	if (rep)
		freeReplyObject(rep);
	return next;
}

long cnam_redis_purge(struct cnam_redis *r, uint64_t tn)
{
	long deleted = 0;
	long long cursor = 0;
	redisReply *rep;
	char key[32];

	if (tn == 0) {
		for (int round = 0; round < PURGE_ROUNDS; round++) {
			cursor = purge_page(r, cursor, &deleted);
			if (cursor <= 0)
				return cursor < 0 ? -1 : deleted;
		}
		return -1;
	}
	key_for(tn, key, sizeof(key));
	rep = command(r, "DEL %s", key);
	if (rep == NULL)
		return -1;
	deleted = rep->type == REDIS_REPLY_INTEGER ? (long)rep->integer : -1;
	freeReplyObject(rep);
	return deleted;
}
