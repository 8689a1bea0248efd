/* certfetch.c - guarded libcurl fetches and a URL-keyed cache (see certfetch.h). */
#include "certfetch.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/text.h"

/* Refused unless listed in the allow setting: none of these is a public server. */
static const char refused_list[] =
	"0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 "
	"192.0.0.0/24 192.168.0.0/16 198.18.0.0/15 224.0.0.0/4 240.0.0.0/4 "
	"::/96 64:ff9b::/96 fc00::/7 fe80::/10 fec0::/10 ff00::/8";

struct certfetch_doc {
	atomic_int refs;
	char *body;
	size_t len;
	int64_t expires;
	pthread_mutex_t mu; /* serialises attaching */
	struct slot {
		void (*free_fn)(void *); /* written before obj is published, then fixed */
		_Atomic(void *) obj;
	} slots[CERTFETCH_DOC_SLOTS];
};

struct entry {
	char *url;
	uint64_t hash;
	struct certfetch_doc *doc;
	struct entry *next;
};

struct certfetch {
	bool allow_http;
	long timeout_ms;
	size_t max_bytes;
	size_t max_entries;
	char *ca_file;
	certfetch_resolver_fn resolver;
	uint8_t ports[65536 / 8]; /* bit p set: URLs may name port p */
	struct cidr_set refused;
	struct cidr_set allow;
	pthread_mutex_t mu;
	struct entry **buckets;
	size_t nbuckets; /* a power of two */
	size_t n;
};

/* ---- documents ---- */

static struct certfetch_doc *doc_new(char *body, size_t len, int64_t expires)
{
	struct certfetch_doc *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	atomic_init(&d->refs, 1);
	for (int i = 0; i < CERTFETCH_DOC_SLOTS; i++)
		atomic_init(&d->slots[i].obj, NULL);
	pthread_mutex_init(&d->mu, NULL);
	d->body = body;
	d->len = len;
	d->expires = expires;
	return d;
}

void certfetch_doc_retain(struct certfetch_doc *d)
{
	atomic_fetch_add_explicit(&d->refs, 1, memory_order_relaxed);
}

void certfetch_doc_release(struct certfetch_doc *d)
{
	void *p;

	if (d == NULL || atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (int i = 0; i < CERTFETCH_DOC_SLOTS; i++)
		if ((p = atomic_load(&d->slots[i].obj)) != NULL)
			d->slots[i].free_fn(p);
	pthread_mutex_destroy(&d->mu);
	free(d->body);
	free(d);
}

const char *certfetch_doc_body(const struct certfetch_doc *d, size_t *len)
{
	*len = d->len;
	return d->body;
}

int64_t certfetch_doc_expires(const struct certfetch_doc *d)
{
	return d->expires;
}

void *certfetch_doc_parsed(const struct certfetch_doc *d, void (*free_fn)(void *))
{
	struct certfetch_doc *m = (struct certfetch_doc *)d;

	for (int i = 0; i < CERTFETCH_DOC_SLOTS; i++) {
		void *p = atomic_load_explicit(&m->slots[i].obj, memory_order_acquire);

		if (p && m->slots[i].free_fn == free_fn)
			return p;
	}
	return NULL;
}

void *certfetch_doc_attach(struct certfetch_doc *d, void *obj, void (*free_fn)(void *))
{
	struct slot *empty = NULL;
	void *cur = NULL;

	pthread_mutex_lock(&d->mu);
	for (int i = 0; i < CERTFETCH_DOC_SLOTS && cur == NULL; i++) {
		void *p = atomic_load(&d->slots[i].obj);

		if (p && d->slots[i].free_fn == free_fn)
			cur = p;
		else if (p == NULL && empty == NULL)
			empty = &d->slots[i];
	}
	if (cur == NULL && empty) {
		empty->free_fn = free_fn;
		atomic_store_explicit(&empty->obj, obj, memory_order_release);
		cur = obj;
	}
	pthread_mutex_unlock(&d->mu);
	if (cur != obj)
		free_fn(obj);
	return cur;
}

/* ---- set-up ---- */

static void port_set(struct certfetch *f, unsigned p)
{
	f->ports[p / 8] |= (uint8_t)(1u << (p % 8));
}

bool certfetch_port_allowed(const struct certfetch *f, unsigned port)
{
	return port > 0 && port < 65536 && (f->ports[port / 8] & (1u << (port % 8))) != 0;
}

/* One "N" or "A-B" (1-65535) at *s; advances *s. Returns 0 or -1. */
static int port_item(struct certfetch *f, const char **s)
{
	char *end;
	long a = strtol(*s, &end, 10), b = a;

	if (end == *s || !isdigit((unsigned char)**s))
		return -1;
	if (*end == '-') {
		*s = end + 1;
		if (!isdigit((unsigned char)**s))
			return -1;
		b = strtol(*s, &end, 10);
	}
	if (a < 1 || b > 65535 || a > b)
		return -1;
	for (long p = a; p <= b; p++)
		port_set(f, (unsigned)p);
	*s = end;
	return 0;
}

/* "443,8443 10000-10099": ports and ranges separated by commas or blanks. */
static int ports_parse(struct certfetch *f, const char *list, bool http)
{
	const char *s = list;

	if (list == NULL || list[0] == '\0') {
		port_set(f, 443);
		port_set(f, 8443);
		if (http)
			port_set(f, 80);
		return 0;
	}
	while (*s) {
		if (*s == ',' || *s == ' ' || *s == '\t')
			s++;
		else if (port_item(f, &s) != 0)
			return -1;
	}
	return 0;
}

struct certfetch *certfetch_new(const struct certfetch_cfg *cfg, char *err, size_t errlen)
{
	struct certfetch *f = calloc(1, sizeof(*f));
	char why[200];

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->allow_http = cfg->allow_http;
	f->timeout_ms = cfg->timeout_ms ? (long)cfg->timeout_ms : CERTFETCH_TIMEOUT_MS;
	f->max_bytes = cfg->max_bytes ? cfg->max_bytes : CERTFETCH_MAX_BYTES;
	f->max_entries = cfg->max_entries ? cfg->max_entries : CERTFETCH_MAX_ENTRIES;
	f->resolver = cfg->resolver;
	for (f->nbuckets = 16; f->nbuckets < 2 * f->max_entries; f->nbuckets *= 2)
		;
	f->buckets = calloc(f->nbuckets, sizeof(*f->buckets));
	f->ca_file = cfg->ca_file && cfg->ca_file[0] ? strdup(cfg->ca_file) : NULL;
	pthread_mutex_init(&f->mu, NULL);
	if (f->buckets == NULL || (cfg->ca_file && cfg->ca_file[0] && f->ca_file == NULL) ||
	    cidr_set_parse(refused_list, &f->refused, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "out of memory");
		certfetch_free(f);
		return NULL;
	}
	if (cidr_set_parse(cfg->allow ? cfg->allow : "", &f->allow, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "fetch_allow: %s", why);
		certfetch_free(f);
		return NULL;
	}
	if (ports_parse(f, cfg->ports, cfg->allow_http) != 0) {
		snprintf(err, errlen, "fetch_ports: \"%s\" is not a list of ports (1-65535)",
			 cfg->ports);
		certfetch_free(f);
		return NULL;
	}
	return f;
}

void certfetch_free(struct certfetch *f)
{
	if (f == NULL)
		return;
	if (f->buckets)
		certfetch_cache_clear(f);
	free(f->buckets);
	free(f->ca_file);
	cidr_set_release(&f->refused);
	cidr_set_release(&f->allow);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

const char *certfetch_strerror(int err)
{
	switch (err) {
	case CERTFETCH_OK: return "ok";
	case CERTFETCH_BAD_URL: return "certificate URL not usable";
	case CERTFETCH_FORBIDDEN: return "certificate URL address refused";
	case CERTFETCH_RESOLVE: return "certificate host does not resolve";
	case CERTFETCH_NETWORK: return "certificate fetch failed";
	case CERTFETCH_TIMEOUT: return "certificate fetch timed out";
	case CERTFETCH_STATUS: return "certificate server answered an error";
	case CERTFETCH_TOO_BIG: return "certificate document too large";
	case CERTFETCH_PORT: return "certificate URL port not allowed";
	default: return "out of memory";
	}
}

/* ---- the address guard ---- */

bool certfetch_addr_refused(const struct certfetch *f, const uint8_t ip[16])
{
	if (cidr_set_contains(&f->allow, ip))
		return false;
	return cidr_set_contains(&f->refused, ip);
}

static int sockaddr_ip(const struct sockaddr *sa, uint8_t ip[16])
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (sa->sa_family == AF_INET) {
		memcpy(ip, mapped, 12);
		memcpy(ip + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(ip, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

/*
 * The last check, on the address curl is about to connect to: whatever path
 * led there (a resolver surprise, a curl default), a refused address gets no
 * socket.
 */
static curl_socket_t open_socket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	const struct certfetch *f = ud;
	uint8_t ip[16];

	if (purpose != CURLSOCKTYPE_IPCXN || sockaddr_ip(&a->addr, ip) != 0 ||
	    certfetch_addr_refused(f, ip))
		return CURL_SOCKET_BAD;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* ---- URL and resolution ---- */

struct target {
	char host[256];
	char port[8];
	char pin[320]; /* CURLOPT_RESOLVE entry "host:port:addr" */
};

static int url_target(const struct certfetch *f, const char *url, struct target *t)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *user = NULL;
	CURLU *u = curl_url();
	int rc = CERTFETCH_BAD_URL;

	if (u == NULL)
		return CERTFETCH_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto cleanup;
	/* Credentials in a certificate URL have no use and would end up in logs. */
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto cleanup;
	if (strcasecmp(scheme, "https") != 0 &&
	    !(f->allow_http && strcasecmp(scheme, "http") == 0))
		goto cleanup;
	if (strlen(host) >= sizeof(t->host) || strlen(port) >= sizeof(t->port))
		goto cleanup;
	if (!certfetch_port_allowed(f, (unsigned)strtoul(port, NULL, 10))) {
		rc = CERTFETCH_PORT;
		goto cleanup;
	}
	snprintf(t->host, sizeof(t->host), "%s", host);
	snprintf(t->port, sizeof(t->port), "%s", port);
	rc = 0;
cleanup:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int default_resolver(const char *name, struct addrinfo **res)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };

	return getaddrinfo(name, NULL, &hints, res);
}

/*
 * One resolution, shared by the fetch waiting for it and the thread running
 * it; whichever lets go last frees it, so a fetch that stops waiting leaves
 * the thread nothing dangling.
 */
struct lookup {
	pthread_mutex_t mu;
	pthread_cond_t done_cv;
	int refs;
	bool done;
	int rc;
	struct addrinfo *res;
	certfetch_resolver_fn fn;
	char name[256];
};

/* Drop one reference; called with l->mu held, returns with it released. */
static void lookup_release(struct lookup *l)
{
	bool last = --l->refs == 0;

	pthread_mutex_unlock(&l->mu);
	if (!last)
		return;
	if (l->res)
		freeaddrinfo(l->res);
	pthread_cond_destroy(&l->done_cv);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static void *lookup_run(void *p)
{
	struct lookup *l = p;
	struct addrinfo *res = NULL;
	int rc = l->fn(l->name, &res);

	pthread_mutex_lock(&l->mu);
	l->rc = rc;
	l->res = res;
	l->done = true;
	pthread_cond_signal(&l->done_cv);
	lookup_release(l);
	return NULL;
}

static struct lookup *lookup_new(certfetch_resolver_fn fn, const char *name)
{
	struct lookup *l = calloc(1, sizeof(*l));
	pthread_condattr_t ca;

	if (l == NULL)
		return NULL;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&l->mu, NULL);
	l->refs = 2;
	l->fn = fn;
	snprintf(l->name, sizeof(l->name), "%s", name);
	return l;
}

/*
 * getaddrinfo() with a bound: it has no timeout of its own and a resolver
 * that never answers would hold the request past the fetch limit. Returns 0
 * with *res, CERTFETCH_RESOLVE, CERTFETCH_TIMEOUT or CERTFETCH_NOMEM.
 */
static int resolve_bounded(const struct certfetch *f, const char *name, long long deadline_ms,
			   struct addrinfo **res)
{
	struct lookup *l = lookup_new(f->resolver ? f->resolver : default_resolver, name);
	struct timespec until = { .tv_sec = deadline_ms / 1000,
				  .tv_nsec = (deadline_ms % 1000) * 1000000 };
	pthread_attr_t attr;
	pthread_t th;
	int rc = CERTFETCH_NOMEM;

	if (l == NULL)
		return CERTFETCH_NOMEM;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, lookup_run, l) != 0)
		l->refs = 1; /* no thread: this side is the only owner */
	pthread_attr_destroy(&attr);
	pthread_mutex_lock(&l->mu);
	while (l->refs == 2 && !l->done &&
	       pthread_cond_timedwait(&l->done_cv, &l->mu, &until) != ETIMEDOUT)
		;
	if (l->done) {
		rc = l->rc == 0 ? 0 : CERTFETCH_RESOLVE;
		*res = l->res;
		l->res = NULL;
	} else if (l->refs == 2) {
		rc = CERTFETCH_TIMEOUT;
	}
	lookup_release(l);
	return rc;
}

/* Resolve the host and keep the first address the guard accepts, as a pin. */
static int resolve_pin(const struct certfetch *f, struct target *t, long long deadline_ms)
{
	struct addrinfo *res = NULL;
	char name[256], text[INET6_ADDRSTRLEN];
	size_t n = strlen(t->host);
	int rc;

	/* CURLU gives IPv6 literals in brackets; the resolver wants them bare. */
	if (n > 2 && t->host[0] == '[' && t->host[n - 1] == ']')
		snprintf(name, sizeof(name), "%.*s", (int)(n - 2), t->host + 1);
	else
		snprintf(name, sizeof(name), "%s", t->host);
	if ((rc = resolve_bounded(f, name, deadline_ms, &res)) != 0)
		return rc;
	rc = CERTFETCH_FORBIDDEN;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		uint8_t ip[16];

		if (sockaddr_ip(ai->ai_addr, ip) != 0 || certfetch_addr_refused(f, ip))
			continue;
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, ip + 12, text, sizeof(text));
		else
			inet_ntop(AF_INET6, ip, text, sizeof(text));
		snprintf(t->pin, sizeof(t->pin), ai->ai_family == AF_INET6 ? "%s:%s:[%s]" :
			 "%s:%s:%s", t->host, t->port, text);
		rc = 0;
		break;
	}
	if (res)
		freeaddrinfo(res);
	return rc;
}

/* ---- the transfer ---- */

struct sink {
	struct buf body;
	bool too_big;
	long max_age; /* -1 = not said, 0 = do not cache */
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct sink *s = ud;

	if (buf_append(&s->body, p, size * n) != 0) {
		s->too_big = true;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	return size * n;
}

/* Read max-age, no-store and no-cache from one Cache-Control header line. */
static void cache_control(const char *v, size_t len, struct sink *s)
{
	char line[256], *save = NULL;

	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	memcpy(line, v, len);
	line[len] = '\0';
	for (char *tok = strtok_r(line, ", \t\r\n", &save); tok;
	     tok = strtok_r(NULL, ", \t\r\n", &save)) {
		if (strcasecmp(tok, "no-store") == 0 || strcasecmp(tok, "no-cache") == 0)
			s->max_age = 0;
		else if (strncasecmp(tok, "max-age=", 8) == 0 && s->max_age != 0)
			s->max_age = strtol(tok + 8, NULL, 10) > 0 ? strtol(tok + 8, NULL, 10) : 0;
	}
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	static const char name[] = "cache-control:";
	size_t len = size * n;

	if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0)
		cache_control(p + sizeof(name) - 1, len - (sizeof(name) - 1), ud);
	return len;
}

static void setup_easy(const struct certfetch *f, CURL *c, const char *url, long ms,
		       struct curl_slist *pins, struct sink *s)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, f->allow_http ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)f->max_bytes);
	curl_easy_setopt(c, CURLOPT_RESOLVE, pins);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, (void *)f);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "ringer-certfetch");
	if (f->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, f->ca_file);
}

static int curl_result(CURL *c, CURLcode cc, const struct sink *s)
{
	long status = 0;

	if (s->too_big || cc == CURLE_FILESIZE_EXCEEDED)
		return CERTFETCH_TOO_BIG;
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return CERTFETCH_TIMEOUT;
	if (cc == CURLE_COULDNT_RESOLVE_HOST)
		return CERTFETCH_RESOLVE;
	if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT)
		return CERTFETCH_BAD_URL;
	if (cc != CURLE_OK)
		return CERTFETCH_NETWORK;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status == 200 ? CERTFETCH_OK : CERTFETCH_STATUS;
}

/* Fetch url now. Returns 0 with a new document (ttl applied), or a certfetch_err. */
static int fetch(const struct certfetch *f, const char *url, struct certfetch_doc **out)
{
	struct sink s = { .max_age = -1 };
	struct curl_slist *pins = NULL;
	struct target t = { .pin = "" };
	long long deadline = mono_ms() + f->timeout_ms;
	int64_t ttl;
	CURL *c = NULL;
	char *body;
	size_t len;
	int rc;

	buf_init(&s.body, f->max_bytes);
	if ((rc = url_target(f, url, &t)) != 0 || (rc = resolve_pin(f, &t, deadline)) != 0)
		goto cleanup;
	/* What the resolution left of the time limit is the transfer's. */
	rc = CERTFETCH_TIMEOUT;
	if (deadline - mono_ms() < 1)
		goto cleanup;
	rc = CERTFETCH_NOMEM;
	if ((pins = curl_slist_append(NULL, t.pin)) == NULL || (c = curl_easy_init()) == NULL)
		goto cleanup;
	setup_easy(f, c, url, (long)(deadline - mono_ms() > 1 ? deadline - mono_ms() : 1), pins,
		   &s);
	if ((rc = curl_result(c, curl_easy_perform(c), &s)) != 0)
		goto cleanup;
	ttl = s.max_age < 0 ? CERTFETCH_DEFAULT_TTL :
	      s.max_age > CERTFETCH_MAX_TTL ? CERTFETCH_MAX_TTL : s.max_age;
	len = 0;
	/* An empty answer still gets a real, NUL-terminated body. */
	body = s.body.data ? buf_steal(&s.body, &len) : calloc(1, 1);
	if (body == NULL)
		goto cleanup;
	if ((*out = doc_new(body, len, clock_now() + ttl)) == NULL) {
		free(body);
		goto cleanup;
	}
	rc = 0;
cleanup:
	buf_release(&s.body);
	curl_slist_free_all(pins);
	curl_easy_cleanup(c);
	return rc;
}

/* ---- the cache ---- */

static uint64_t hash_url(const char *s)
{
	uint64_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211u;
	return h;
}

/* Unlink and free the entry at *pp (lock held). */
static void entry_drop(struct certfetch *f, struct entry **pp)
{
	struct entry *e = *pp;

	*pp = e->next;
	certfetch_doc_release(e->doc);
	free(e->url);
	free(e);
	f->n--;
}

/* Find url's entry (lock held); expired ones are dropped on the way. */
static struct entry **entry_find(struct certfetch *f, const char *url, uint64_t h, int64_t now)
{
	struct entry **pp = &f->buckets[h & (f->nbuckets - 1)];

	while (*pp) {
		if ((*pp)->hash == h && strcmp((*pp)->url, url) == 0) {
			if ((*pp)->doc->expires > now)
				return pp;
			entry_drop(f, pp);
			return NULL;
		}
		pp = &(*pp)->next;
	}
	return NULL;
}

/* Make room for one more (lock held): expired entries first, then the soonest to expire. */
static void cache_make_room(struct certfetch *f, int64_t now)
{
	struct entry **victim = NULL;

	for (size_t b = 0; b < f->nbuckets && f->n >= f->max_entries; b++) {
		struct entry **pp = &f->buckets[b];

		while (*pp) {
			if ((*pp)->doc->expires <= now) {
				entry_drop(f, pp);
				continue;
			}
			if (victim == NULL || (*pp)->doc->expires < (*victim)->doc->expires)
				victim = pp;
			pp = &(*pp)->next;
		}
	}
	/* A later drop in the same bucket may have moved the victim's link: search again. */
	if (f->n >= f->max_entries && victim) {
		int64_t oldest = (*victim)->doc->expires;

		for (size_t b = 0; b < f->nbuckets; b++)
			for (struct entry **pp = &f->buckets[b]; *pp; pp = &(*pp)->next)
				if ((*pp)->doc->expires == oldest) {
					entry_drop(f, pp);
					return;
				}
	}
}

static void cache_put(struct certfetch *f, const char *url, uint64_t h,
		      struct certfetch_doc *d)
{
	struct entry *e = calloc(1, sizeof(*e));
	int64_t now = clock_now();
	struct entry **old;

	if (e == NULL || (e->url = strdup(url)) == NULL) {
		free(e);
		return; /* not cached: the caller still has its document */
	}
	e->hash = h;
	e->doc = d;
	certfetch_doc_retain(d);
	pthread_mutex_lock(&f->mu);
	if ((old = entry_find(f, url, h, now)) != NULL)
		entry_drop(f, old);
	cache_make_room(f, now);
	e->next = f->buckets[h & (f->nbuckets - 1)];
	f->buckets[h & (f->nbuckets - 1)] = e;
	f->n++;
	pthread_mutex_unlock(&f->mu);
}

int certfetch_get(struct certfetch *f, const char *url, struct certfetch_doc **out)
{
	uint64_t h = hash_url(url);
	struct certfetch_doc *d = NULL;
	struct entry **pp;
	int rc;

	pthread_mutex_lock(&f->mu);
	if ((pp = entry_find(f, url, h, clock_now())) != NULL) {
		d = (*pp)->doc;
		certfetch_doc_retain(d);
	}
	pthread_mutex_unlock(&f->mu);
	if (d) {
		*out = d;
		return CERTFETCH_OK;
	}
	rc = fetch(f, url, &d);
	if (rc != 0) {
		log_info("certificate fetch failed", "reason=\"%s\"", certfetch_strerror(rc));
		return rc;
	}
	if (d->expires > clock_now())
		cache_put(f, url, h, d);
	*out = d;
	return CERTFETCH_OK;
}

size_t certfetch_cache_size(struct certfetch *f)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->n;
	pthread_mutex_unlock(&f->mu);
	return n;
}

void certfetch_cache_clear(struct certfetch *f)
{
	pthread_mutex_lock(&f->mu);
	for (size_t b = 0; b < f->nbuckets; b++)
		while (f->buckets[b])
			entry_drop(f, &f->buckets[b]);
	pthread_mutex_unlock(&f->mu);
}
