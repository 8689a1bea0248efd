/* cnam_source.c - local and HTTP CNAM sources, and the rules that choose one. */
#include "cnam_source.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../base/log.h"
#include "../base/text.h"
#include "../base/tn.h"
#include "telique.h"

/* Far above any real CNAM answer; a larger body is refused, not buffered. */
#define BODY_MAX 16384
#define URL_MAX 1024
#define ROUTES_MAX 64

struct cnam_source {
	char *name;
	bool local;
	/* HTTP only */
	char *url;
	char *field;
	char *presentation_field;
	struct curl_slist *headers;
	unsigned timeout_ms;
};

/* ---- one keep-alive handle per thread ---- */

static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void handle_free(void *h)
{
	curl_easy_cleanup(h);
}

static void handle_key_make(void)
{
	pthread_key_create(&handle_key, handle_free);
}

/*
 * The calling thread's handle. A reset handle keeps its connection cache, so
 * the next dip to the same upstream reuses the open connection.
 */
static CURL *thread_handle(void)
{
	CURL *h;

	pthread_once(&handle_once, handle_key_make);
	h = pthread_getspecific(handle_key);
	if (h) {
		curl_easy_reset(h);
		return h;
	}
	h = curl_easy_init();
	if (h && pthread_setspecific(handle_key, h) != 0) {
		curl_easy_cleanup(h);
		return NULL;
	}
	return h;
}

/* ---- life cycle ---- */

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

struct cnam_source *cnam_source_local_new(void)
{
	struct cnam_source *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->local = true;
	s->name = strdup("local");
	if (s->name == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static int check_conf(const struct cnam_http_conf *c, char *err, size_t errlen)
{
	const char *a = c->auth_header ? c->auth_header : "";

	if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0) {
		snprintf(err, errlen, "upstream %s: url must start with http:// or https://",
			 c->name);
		return -1;
	}
	if (strstr(c->url, "{tn}") == NULL && strstr(c->url, "{e164}") == NULL) {
		snprintf(err, errlen, "upstream %s: url has no {tn} or {e164}", c->name);
		return -1;
	}
	if (a[0] && (strchr(a, ':') == NULL || strpbrk(a, "\r\n") != NULL)) {
		snprintf(err, errlen, "upstream %s: auth_header is not one \"Name: value\" line",
			 c->name);
		return -1;
	}
	return 0;
}

struct cnam_source *cnam_source_http_new(const struct cnam_http_conf *c, char *err,
					 size_t errlen)
{
	struct cnam_source *s;
	struct curl_slist *h = NULL, *more;

	if (check_conf(c, err, errlen) != 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		goto nomem;
	s->timeout_ms = c->timeout_ms;
	s->name = dup_or_empty(c->name);
	s->url = dup_or_empty(c->url);
	s->field = dup_or_empty(c->field);
	s->presentation_field = dup_or_empty(c->presentation_field);
	h = curl_slist_append(NULL, "Accept: application/json, text/plain");
	more = h && c->auth_header && c->auth_header[0] ? curl_slist_append(h, c->auth_header) : h;
	if (!s->name || !s->url || !s->field || !s->presentation_field || !more)
		goto nomem;
	s->headers = h;
	return s;
nomem:
	curl_slist_free_all(h);
	cnam_source_free(s);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void cnam_source_free(struct cnam_source *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->url);
	free(s->field);
	free(s->presentation_field);
	curl_slist_free_all(s->headers);
	free(s);
}

const char *cnam_source_name(const struct cnam_source *s)
{
	return s->name;
}

bool cnam_source_is_local(const struct cnam_source *s)
{
	return s->local;
}

/* ---- reading an answer ---- */

/* The value at a dotted path ("caller_name.caller_name"), or NULL. */
static json_t *json_path(json_t *j, const char *path)
{
	char part[64];

	while (j && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		j = json_is_object(j) ? json_object_get(j, part) : NULL;
		path += n + (path[n] == '.');
	}
	return j;
}

static bool says_restricted(const json_t *p)
{
	const char *s = json_string_value(p);

	if (json_is_true(p))
		return true;
	return s && (strcasecmp(s, "restricted") == 0 || strcasecmp(s, "private") == 0 ||
		     strcasecmp(s, "prohibited") == 0);
}

/*
 * The value from a clean name. Upstreams that spell the GR-1188 display forms
 * out as names mean "private" and "no data" by them, not a subscriber's name.
 */
static void value_from(const char *raw, size_t len, bool restricted, struct cnam_value *out)
{
	char name[16];

	memset(out, 0, sizeof(*out));
	if (telique_cnam_clean(raw, len, name) > 0)
		restricted = restricted || strcasecmp(name, CNAM_PRIVATE_NAME) == 0;
	if (restricted) {
		out->available = out->restricted = true;
		snprintf(out->name, sizeof(out->name), "%s", CNAM_PRIVATE_NAME);
		return;
	}
	if (name[0] == '\0' || strcasecmp(name, "UNAVAILABLE") == 0 ||
	    strcasecmp(name, "OUT OF AREA") == 0)
		return;
	out->available = true;
	memcpy(out->name, name, sizeof(name));
}

static int parse_json(const struct cnam_source *s, const char *body, size_t len,
		      struct cnam_value *out)
{
	json_t *doc = json_loadb(body, len, 0, NULL);
	json_t *name, *pres;
	const char *v;
	int rc = 0;

	if (doc == NULL)
		return CNAM_SRC_BAD;
	name = json_path(doc, s->field);
	pres = s->presentation_field[0] ? json_path(doc, s->presentation_field) : NULL;
	if (name != NULL && !json_is_null(name) && !json_is_string(name)) {
		rc = CNAM_SRC_BAD;
	} else {
		v = json_string_value(name);
		value_from(v ? v : "", v ? json_string_length(name) : 0, says_restricted(pres),
			   out);
	}
	json_decref(doc);
	return rc;
}

int cnam_source_parse(const struct cnam_source *s, long status, const char *body, size_t len,
		      struct cnam_value *out)
{
	struct cnam_value v;
	int rc = 0;

	if (status == 404) {
		memset(&v, 0, sizeof(v));
	} else if (status < 200 || status > 299) {
		return CNAM_SRC_FAILED;
	} else if (s->field[0] == '\0') {
		value_from(body, len, false, &v);
	} else if ((rc = parse_json(s, body, len, &v)) != 0) {
		return rc;
	}
	*out = v;
	return 0;
}

/* ---- asking over HTTP ---- */

/* Fill the template. Returns 0, or -1 when the URL would not fit. */
static int build_url(const char *tmpl, uint64_t tn, char *out, size_t outlen)
{
	char digits[TN_STR_LEN + 1], e164[TN_STR_LEN + 3];
	size_t n = 0;

	tn_format(tn, digits);
	snprintf(e164, sizeof(e164), "+1%s", digits);
	while (*tmpl) {
		const char *put = tmpl;
		size_t plen = 1, skip = 1;

		if (strncmp(tmpl, "{tn}", 4) == 0) {
			put = digits;
			plen = TN_STR_LEN;
			skip = 4;
		} else if (strncmp(tmpl, "{e164}", 6) == 0) {
			put = e164;
			plen = TN_STR_LEN + 2;
			skip = 6;
		}
		if (n + plen >= outlen)
			return -1;
		memcpy(out + n, put, plen);
		n += plen;
		tmpl += skip;
	}
	out[n] = '\0';
	return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *user)
{
	/* Returning short makes curl stop with a write error: the answer is too big. */
	return buf_append(user, p, size * nmemb) == 0 ? size * nmemb : 0;
}

static void http_setup(CURL *h, const struct cnam_source *s, const char *url, struct buf *b)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
}

static int http_fetch(const struct cnam_source *s, uint64_t tn, struct cnam_value *out)
{
	char url[URL_MAX];
	struct buf b;
	long status = 0;
	CURLcode cc;
	CURL *h;
	int rc;

	if (build_url(s->url, tn, url, sizeof(url)) != 0 || (h = thread_handle()) == NULL)
		return CNAM_SRC_FAILED;
	buf_init(&b, BODY_MAX);
	http_setup(h, s, url, &b);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK) {
		log_warn("cnam upstream failed", "upstream=%s err=\"%s\"", s->name,
			 cc == CURLE_WRITE_ERROR ? "answer too large" : curl_easy_strerror(cc));
		rc = CNAM_SRC_FAILED;
	} else {
		rc = cnam_source_parse(s, status, b.data ? b.data : "", b.len, out);
		if (rc != 0)
			log_warn("cnam upstream answer refused", "upstream=%s status=%ld",
				 s->name, status);
	}
	buf_release(&b);
	return rc;
}

int cnam_source_fetch(struct cnam_source *s, const struct numdb *g, uint64_t tn,
		      struct cnam_value *out)
{
	struct cnam_answer a;

	if (!s->local)
		return http_fetch(s, tn, out);
	telique_cnam(g, tn, &a);
	out->available = a.available;
	out->restricted = a.restricted;
	memcpy(out->name, a.name, sizeof(out->name));
	return 0;
}

/* ---- routing ---- */

enum rule_kind { RULE_PREFIX, RULE_DPC };

struct rule {
	enum rule_kind kind;
	char match[16];
	size_t len;
	struct cnam_source *target;
};

struct cnam_routes {
	struct rule v[ROUTES_MAX];
	size_t n;
	struct cnam_source *deflt;
};

static struct cnam_source *source_named(const char *name, size_t len,
					struct cnam_source *const *sources)
{
	for (size_t i = 0; sources[i]; i++)
		if (strlen(sources[i]->name) == len && strncmp(sources[i]->name, name, len) == 0)
			return sources[i];
	return NULL;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* "MATCH=TARGET" (trimmed) into r or the default. Returns 0 or -1. */
static int parse_rule(const char *s, size_t len, struct cnam_source *const *sources,
		      struct cnam_routes *r)
{
	const char *eq = memchr(s, '=', len);
	size_t mlen, tlen;
	struct cnam_source *t;
	struct rule *ru = &r->v[r->n];

	if (eq == NULL || r->n == ROUTES_MAX)
		return -1;
	mlen = (size_t)(eq - s);
	while (mlen && s[mlen - 1] == ' ')
		mlen--;
	for (eq++, tlen = len - (size_t)(eq - s); tlen && *eq == ' '; eq++, tlen--)
		;
	if ((t = source_named(eq, tlen, sources)) == NULL)
		return -1;
	if (mlen == 1 && s[0] == '*') {
		r->deflt = t;
		return 0;
	}
	ru->kind = mlen > 4 && strncmp(s, "dpc:", 4) == 0 ? RULE_DPC : RULE_PREFIX;
	if (ru->kind == RULE_DPC)
		s += 4, mlen -= 4;
	if (mlen == 0 || mlen >= sizeof(ru->match) || (ru->kind == RULE_PREFIX && mlen > 10) ||
	    (ru->kind == RULE_PREFIX && !all_digits(s, mlen)))
		return -1;
	memcpy(ru->match, s, mlen);
	ru->match[mlen] = '\0';
	ru->len = mlen;
	ru->target = t;
	r->n++;
	return 0;
}

int cnam_routes_parse(const char *spec, struct cnam_source *const *sources,
		      struct cnam_source *fallback, struct cnam_routes **out, char *err,
		      size_t errlen)
{
	struct cnam_routes *r = calloc(1, sizeof(*r));
	const char *p = spec;

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->deflt = fallback;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t skip = n + (p[n] == ',');

		while (n && (*p == ' ' || *p == '\t'))
			p++, n--, skip--;
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n && parse_rule(p, n, sources, r) != 0) {
			snprintf(err, errlen, "cnam.routes: bad rule \"%.*s\" (MATCH=TARGET, "
				 "MATCH digits, dpc:DPC or *, TARGET an upstream or local)",
				 (int)n, p);
			free(r);
			return -1;
		}
		p += skip;
	}
	*out = r;
	return 0;
}

static struct cnam_source *pick_ported(const struct cnam_routes *r, const char *digits,
				       const char *dpc)
{
	/* 10-digit GTT: the SV's CNAM DPC, or a rule for the whole number. */
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].kind == RULE_DPC && strcmp(r->v[i].match, dpc) == 0)
			return r->v[i].target;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].kind == RULE_PREFIX && r->v[i].len == TN_STR_LEN &&
		    strcmp(r->v[i].match, digits) == 0)
			return r->v[i].target;
	return r->deflt;
}

struct cnam_source *cnam_routes_pick(const struct cnam_routes *r, uint64_t tn,
				     const struct lrn_answer *lrn)
{
	const struct rule *best = NULL;
	char digits[TN_STR_LEN + 1];

	tn_format(tn, digits);
	/*
	 * A ported number's name is no longer in the code holder's database, so
	 * prefix rules (which stand for that database) do not apply to it.
	 */
	if (lrn && lrn->source == LRN_FROM_PORT && lrn->cnam_dpc[0])
		return pick_ported(r, digits, lrn->cnam_dpc);
	for (size_t i = 0; i < r->n; i++) {
		const struct rule *ru = &r->v[i];

		if (ru->kind == RULE_PREFIX && strncmp(ru->match, digits, ru->len) == 0 &&
		    (best == NULL || ru->len > best->len))
			best = ru;
	}
	return best ? best->target : r->deflt;
}

void cnam_routes_free(struct cnam_routes *r)
{
	free(r);
}
