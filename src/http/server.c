/* server.c - libmicrohttpd glue: requests in, handlers called, responses out.
 *
 * libmicrohttpd runs its own thread pool with epoll. A request is answered on
 * the access handler's second call at the earliest: queueing a response on
 * the first call makes 0.9.75 close keep-alive connections.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/text.h"
#include "http.h"

struct http_server {
	struct MHD_Daemon *daemon;
	const struct http_router *router;
	size_t max_body;
	const struct cidr_set *trusted;
	unsigned port;
	atomic_int in_flight; /* requests begun and not yet completed */
	/* Deferred answers: parked connections are counted until answered or closed,
	 * and none is parked once stopping, so none is suspended when the daemon stops. */
	pthread_mutex_t park_mu;
	pthread_cond_t park_cv; /* parked reached 0, or a held worker's work ended */
	int parked;
	bool stopping;
	atomic_bool refusing; /* stopping: new connections are closed at once */
};

/* The library's accept policy: every connection until the server stops. */
static enum MHD_Result admit(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	const struct http_server *s = cls;

	(void)addr;
	(void)addrlen;
	return atomic_load(&s->refusing) ? MHD_NO : MHD_YES;
}

enum defer_state { DEFER_NONE, DEFER_WAITING, DEFER_OK, DEFER_FAILED };

/* Per-request state, from the first access-handler call to completion. */
struct req_ctx {
	struct http_req req;
	struct buf body;
	bool too_large;    /* the body passed max_body while arriving */
	bool discard_body; /* the route takes no body: drop what arrives */
	char *scratch;     /* the split path; path parameters point into it */
	int64_t started_ms;
	struct http_server *server;
	/* A deferred answer (http_defer): held here while the connection is parked. */
	http_defer_start_fn defer_start;
	void *defer_arg;
	struct http_resp held, held_failed;
	atomic_int defer_state;
	bool parked;    /* counted in the server's parked */
	bool held_here; /* stopping: the worker waits for the work instead */
	char scratch_buf[128]; /* scratch for the usual short path, saving a malloc */
};

static atomic_uint_fast64_t rid_counter;
static uint32_t rid_boot;

/* ---- request accessors ---- */

const char *http_param(const struct http_req *req, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < req->n_params; i++) {
		const char *p = req->param_names[i]; /* "{name}" */

		if (strncmp(p + 1, name, n) == 0 && p[n + 1] == '}' && p[n + 2] == '\0')
			return req->param_values[i];
	}
	return NULL;
}

const char *http_header(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)req->conn,
					   MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_req *req, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)req->conn,
					   MHD_GET_ARGUMENT_KIND, name);
}

/* ---- responses ---- */

void http_resp_set(struct http_resp *resp, unsigned status, const char *ctype,
		   const char *body, size_t len)
{
	char *copy = malloc(len + 1);

	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
	resp->status = status;
	resp->ctype = ctype;
	if (copy == NULL) {
		resp->status = 500;
		return;
	}
	memcpy(copy, body, len);
	copy[len] = '\0';
	resp->body = copy;
	resp->len = len;
}

void http_resp_json(struct http_resp *resp, unsigned status, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	if (s == NULL) {
		static const char fallback[] = "{\"status\":\"error\",\"error\":"
			"\"Internal server error\",\"error_code\":\"SERVER_ERROR\"}";

		http_resp_set(resp, 500, "application/json", fallback, sizeof(fallback) - 1);
		return;
	}
	free(resp->body);
	resp->status = status;
	resp->ctype = "application/json";
	resp->body = s;
	resp->len = strlen(s);
}

void http_resp_text(struct http_resp *resp, unsigned status, const char *text)
{
	http_resp_set(resp, status, "text/plain", text, strlen(text));
}

void http_resp_xml(struct http_resp *resp, unsigned status, const char *xml)
{
	struct buf b;

	buf_init(&b, 1u << 20);
	if (buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") || buf_puts(&b, xml)) {
		buf_release(&b);
		http_resp_text(resp, 500, "Internal server error");
		return;
	}
	free(resp->body);
	resp->status = status;
	resp->ctype = "application/xml";
	resp->body = buf_steal(&b, &resp->len);
}

int http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
	size_t used = strlen(resp->extra);
	int n;

	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		return -1;
	n = snprintf(resp->extra + used, sizeof(resp->extra) - used, "%s: %s\n", name, value);
	if (n < 0 || (size_t)n >= sizeof(resp->extra) - used) {
		resp->extra[used] = '\0';
		return -1;
	}
	return 0;
}

/* Put the "Name: value\n" lines of resp->extra on r. */
static void add_extra_headers(struct MHD_Response *r, char *extra)
{
	char *save = NULL;

	for (char *line = strtok_r(extra, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (colon == NULL)
			continue;
		*colon = '\0';
		MHD_add_response_header(r, line, colon + 1 + strspn(colon + 1, " "));
	}
}

/* Errors outside any family: a plain JSON shape. */
static void generic_error(struct http_resp *resp, enum http_fmt fmt, unsigned status,
			  const char *code, const char *msg)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "status", "error", "error", msg,
			      "error_code", code);

	http_resp_json(resp, status, j);
}

void http_resp_error(const struct http_req *req, struct http_resp *resp, unsigned status,
		     const char *code, const char *msg)
{
	if (req->family && req->family->render_error)
		req->family->render_error(resp, req->fmt, status, code, msg);
	else
		generic_error(resp, req->fmt, status, code, msg);
}

/* ---- the access handler ---- */

/* v as `digits` lowercase hex digits at out (snprintf's %0Nx without its cost per request) */
static char *put_hex(char *out, uint64_t v, int digits)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = digits - 1; i >= 0; i--, v >>= 4)
		out[i] = hex[v & 15];
	return out + digits;
}

/*
 * The boot stamp in 8 hex digits, then the counter in at least 8: what
 * snprintf(out, 24, "%08x%08llx") writes, cut to 23 characters like it.
 */
static void make_rid(char out[24])
{
	uint64_t n = atomic_fetch_add(&rid_counter, 1);
	int digits = 8;
	char *p = put_hex(out, rid_boot, 8);

	while (digits < 16 && (n >> (digits * 4)) != 0)
		digits++;
	if (digits == 16)
		*put_hex(p, n >> 4, 15) = '\0';
	else
		*put_hex(p, n, digits) = '\0';
}

/* Dotted-quad text of a v4-mapped address, as inet_ntop writes it; anything else by ip_format. */
static void client_format(const uint8_t ip[16], char *out, size_t outlen)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char *p = out;

	if (outlen < 16 || memcmp(ip, mapped, sizeof(mapped)) != 0) {
		ip_format(ip, out, outlen);
		return;
	}
	for (int i = 12; i < 16; i++) {
		unsigned v = ip[i];

		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
		*p++ = i < 15 ? '.' : '\0';
	}
}

/* Count X-Forwarded-For headers, including ones whose name has trailing blanks. */
static enum MHD_Result count_xff(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	size_t n = strlen("X-Forwarded-For");

	if (strncasecmp(key, "X-Forwarded-For", n) == 0 && strspn(key + n, " \t") == strlen(key + n))
		(*(int *)cls)++;
	return MHD_YES;
}

static void peer_address(struct MHD_Connection *c, uint8_t peer[16])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	memset(peer, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		peer[10] = peer[11] = 0xff;
		memcpy(peer + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa && sa->sa_family == AF_INET6) {
		memcpy(peer, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	}
}

/*
 * The client is the socket peer unless the peer is a trusted proxy. A chain
 * from a trusted proxy that cannot be read, or that comes in several
 * X-Forwarded-For headers (one of them may be the client's own), names
 * nobody: the request keeps the all-zero address, which no allowlist admits.
 */
static void client_address(const struct http_server *s, struct MHD_Connection *c,
			   struct http_req *req)
{
	uint8_t peer[16];

	peer_address(c, peer);
	memcpy(req->client_ip, peer, 16);
	if (s->trusted && s->trusted->n && cidr_set_contains(s->trusted, peer)) {
		const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							      "X-Forwarded-For");
		int headers = 0;

		MHD_get_connection_values(c, MHD_HEADER_KIND, count_xff, &headers);
		if (headers > 1 || (headers == 1 && xff == NULL) ||
		    allow_client_ip(peer, xff, s->trusted, req->client_ip) != 0)
			memset(req->client_ip, 0, 16);
	}
	client_format(req->client_ip, req->client_text, sizeof(req->client_text));
}

static enum MHD_Result queue(struct MHD_Connection *c, const struct http_req *req,
			     struct http_resp *resp)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	if (resp->body == NULL)
		http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error");
	r = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(resp->body);
		resp->body = NULL;
		return MHD_NO;
	}
	resp->body = NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->ctype);
	MHD_add_response_header(r, "X-Request-Id", req->rid);
	if (resp->allow[0])
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	add_extra_headers(r, resp->extra);
	rc = MHD_queue_response(c, resp->status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Append s at *p (the caller sized the buffer for every part). */
static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_dec(char *p, long long v)
{
	char tmp[24];
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	int n = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*p++ = '-';
	while (n)
		*p++ = tmp[--n];
	return p;
}

/*
 * One line per request at info: the fields are put together by hand, since
 * vsnprintf over six of them was a tenth of the request's own work.
 */
static void access_log(const struct req_ctx *ctx, const struct http_resp *resp)
{
	/* 503 is a state (not ready, stopping, a dependency away), not a fault. */
	enum log_level lvl = resp->status == 503 ? LOG_WARN :
			     resp->status >= 500 ? LOG_ERROR : LOG_INFO;
	char path[256], method[40], kv[sizeof(path) + sizeof(method) + 160], *p = kv;

	if (!log_enabled(lvl))
		return;
	/* Path and method are the client's text: quote them so they cannot forge fields. */
	log_quote(ctx->req.path, path, sizeof(path));
	log_quote(ctx->req.method, method, sizeof(method));
	p = put_str(p, "method=\"");
	p = put_str(p, method);
	p = put_str(p, "\" path=\"");
	p = put_str(p, path);
	p = put_str(p, "\" status=");
	p = put_dec(p, resp->status);
	p = put_str(p, " bytes=");
	p = put_dec(p, (long long)resp->len);
	p = put_str(p, " ms=");
	p = put_dec(p, (long long)(clock_now_ms() - ctx->started_ms));
	p = put_str(p, " client=");
	p = put_str(p, ctx->req.client_text);
	*p = '\0';
	log_event(lvl, "request", "%s", kv);
}

/* What the request headers say about the body; 0 when they are fine. */
struct framing {
	int content_lengths;
	int transfer_encodings;
	bool bad;
};

static enum MHD_Result check_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct framing *f = cls;
	size_t klen = strlen(key);

	/* "Name :" is not a header name (RFC 9112 5.1); a proxy may read it otherwise. */
	if (klen && (key[klen - 1] == ' ' || key[klen - 1] == '\t'))
		f->bad = true;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		f->content_lengths++;
		if (value == NULL || value[0] == '\0' || strspn(value, "0123456789") != strlen(value))
			f->bad = true;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encodings++;
		if (value == NULL || strcasecmp(value, "chunked") != 0)
			f->transfer_encodings += 100; /* only chunked is understood */
	}
	return MHD_YES;
}

/*
 * Everything that can be decided from the request line and headers alone:
 * framing, route, method, admission, declared size. Returns true when resp
 * holds the answer already, so the body need not be read at all.
 */
static bool screen(const struct http_server *s, struct req_ctx *ctx, struct http_resp *resp)
{
	struct http_req *req = &ctx->req;
	const struct http_route *route = NULL;
	const struct http_family *fam = NULL;
	struct framing fr = { 0 };
	size_t plen = strlen(req->path);
	char *scratch = plen < sizeof(ctx->scratch_buf) ? ctx->scratch_buf : malloc(plen + 1);
	const char *cl;
	enum http_match m;

	ctx->scratch = scratch; /* lives until the request completes */
	if (scratch == NULL) {
		http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error");
		return true;
	}
	/* HEAD is GET without the body; the library drops the body. */
	m = http_router_match(s->router, strcmp(req->method, "HEAD") == 0 ? "GET" : req->method,
			      req->path, req, scratch, &route, &fam, resp->allow,
			      sizeof(resp->allow));
	req->family = m == HTTP_MATCH_NO_PATH ? fam : route->family;
	req->fmt = m == HTTP_MATCH_NO_PATH ? HTTP_JSON : route->fmt;
	req->route = m == HTTP_MATCH_OK ? route : NULL;
	if (m != HTTP_MATCH_NO_METHOD)
		resp->allow[0] = '\0';
	MHD_get_connection_values((struct MHD_Connection *)req->conn, MHD_HEADER_KIND,
				  check_framing, &fr);
	cl = MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND,
					 MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (fr.bad || fr.content_lengths > 1 || (fr.content_lengths && fr.transfer_encodings)) {
		http_resp_error(req, resp, 400, "BAD_REQUEST", "Bad request");
	} else if (fr.transfer_encodings > 1) {
		http_resp_error(req, resp, 501, "NOT_IMPLEMENTED",
				"Only chunked transfer coding is supported");
	} else if (req->family && req->family->admit && req->family->admit(req) != 0) {
		/* Before 404 and 405, so a stranger learns nothing about the routes. */
		resp->allow[0] = '\0';
		http_resp_error(req, resp, 403, "FORBIDDEN", "Forbidden");
	} else if (m == HTTP_MATCH_NO_PATH) {
		http_resp_error(req, resp, 404, "NOT_FOUND", "Not found");
	} else if (m == HTTP_MATCH_NO_METHOD) {
		http_resp_error(req, resp, 405, "METHOD_NOT_ALLOWED", "Method not allowed");
	} else if (cl && route->has_body && strtoull(cl, NULL, 10) > s->max_body) {
		http_resp_error(req, resp, 413, "PAYLOAD_TOO_LARGE", "Request body too large");
	} else {
		ctx->discard_body = !route->has_body;
		return false;
	}
	return true;
}

static struct req_ctx *begin(struct http_server *s, struct MHD_Connection *c,
			     const char *url, const char *method)
{
	struct req_ctx *ctx = calloc(1, sizeof(*ctx));

	if (ctx == NULL)
		return NULL;
	atomic_fetch_add(&s->in_flight, 1);
	ctx->started_ms = clock_now_ms();
	ctx->server = s;
	ctx->req.method = method;
	ctx->req.path = url;
	ctx->req.body = "";
	ctx->req.conn = (struct http_conn *)c;
	make_rid(ctx->req.rid);
	buf_init(&ctx->body, s->max_body);
	client_address(s, c, &ctx->req);
	return ctx;
}

static enum MHD_Result answer(struct MHD_Connection *c, struct req_ctx *ctx,
			      struct http_resp *resp)
{
	enum MHD_Result rc;

	/* Stopping: end kept-alive connections after this answer, so no client has
	 * its next request under way when the daemon closes (the reset would also
	 * drop this answer from the client's buffer). */
	if (atomic_load(&ctx->server->refusing) && strstr(resp->extra, "Connection:") == NULL)
		http_resp_header(resp, "Connection", "close");
	access_log(ctx, resp);
	rc = queue(c, &ctx->req, resp);
	log_set_rid(NULL);
	return rc;
}

/* ---- deferred answers ---- */

void http_defer(struct http_req *req, struct http_resp *failed, http_defer_start_fn start,
		void *arg)
{
	struct req_ctx *ctx = (struct req_ctx *)req; /* req is the context's first member */

	ctx->defer_start = start;
	ctx->defer_arg = arg;
	if (failed) {
		ctx->held_failed = *failed;
		failed->body = NULL;
	}
}

/* Count a parked connection; false once the server is stopping. */
static bool park_begin(struct http_server *s)
{
	bool ok;

	pthread_mutex_lock(&s->park_mu);
	ok = !s->stopping;
	s->parked += ok;
	pthread_mutex_unlock(&s->park_mu);
	return ok;
}

/* The parked request was answered, or its connection ended. */
static void park_end(struct req_ctx *ctx)
{
	struct http_server *s = ctx->server;

	if (!ctx->parked)
		return;
	ctx->parked = false;
	pthread_mutex_lock(&s->park_mu);
	if (--s->parked == 0)
		pthread_cond_broadcast(&s->park_cv);
	pthread_mutex_unlock(&s->park_mu);
}

/* The answer after the work ended: the held one, or the failure answer. */
static enum MHD_Result answer_deferred(struct MHD_Connection *c, struct req_ctx *ctx)
{
	struct http_resp resp;

	if (atomic_load(&ctx->defer_state) == DEFER_OK) {
		resp = ctx->held;
		free(ctx->held_failed.body);
	} else {
		resp = ctx->held_failed;
		free(ctx->held.body);
		if (resp.body == NULL)
			http_resp_error(&ctx->req, &resp, 500, "SERVER_ERROR",
					"Internal server error");
	}
	memset(&ctx->held, 0, sizeof(ctx->held));
	memset(&ctx->held_failed, 0, sizeof(ctx->held_failed));
	return answer(c, ctx, &resp);
}

/*
 * Hold the handler's answer and start the work: with the connection parked,
 * or, once the server is stopping (no connection may be suspended when the
 * daemon stops), with this worker waiting for it as a plain handler would.
 */
static enum MHD_Result park(struct MHD_Connection *c, struct req_ctx *ctx,
			    struct http_resp *resp)
{
	struct http_server *s = ctx->server;
	http_defer_start_fn start = ctx->defer_start;

	ctx->held = *resp;
	ctx->defer_start = NULL;
	atomic_store(&ctx->defer_state, DEFER_WAITING);
	ctx->parked = park_begin(s);
	if (!ctx->parked) {
		ctx->held_here = true;
		start((struct http_defer *)ctx, ctx->defer_arg);
		pthread_mutex_lock(&s->park_mu);
		while (atomic_load(&ctx->defer_state) == DEFER_WAITING)
			pthread_cond_wait(&s->park_cv, &s->park_mu);
		pthread_mutex_unlock(&s->park_mu);
		return answer_deferred(c, ctx);
	}
	/* Suspended before the work can end, so its resume always finds it parked. */
	MHD_suspend_connection(c);
	start((struct http_defer *)ctx, ctx->defer_arg);
	log_set_rid(NULL);
	return MHD_YES;
}

void http_defer_done(struct http_defer *d, bool ok)
{
	struct req_ctx *ctx = (struct req_ctx *)d;
	struct http_server *s = ctx->server;

	if (ctx->held_here) {
		pthread_mutex_lock(&s->park_mu);
		atomic_store(&ctx->defer_state, ok ? DEFER_OK : DEFER_FAILED);
		pthread_cond_broadcast(&s->park_cv);
		pthread_mutex_unlock(&s->park_mu);
		return;
	}
	atomic_store(&ctx->defer_state, ok ? DEFER_OK : DEFER_FAILED);
	/* The connection cannot end while parked; after the resume ctx is not ours. */
	MHD_resume_connection((struct MHD_Connection *)ctx->req.conn);
}

/* Called again after http_defer_done resumed the connection. */
static enum MHD_Result resumed(struct MHD_Connection *c, struct req_ctx *ctx)
{
	enum MHD_Result rc;

	if (atomic_load(&ctx->defer_state) == DEFER_WAITING) {
		/* Not ours to answer yet (a spurious call): stay parked. */
		log_set_rid(NULL);
		return MHD_YES;
	}
	rc = answer_deferred(c, ctx);
	/* Out of the library's suspended list now: a stop may go ahead. */
	park_end(ctx);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct http_server *s = cls;
	struct req_ctx *ctx = *con_cls;
	struct http_resp resp = { 0 };

	if (ctx == NULL) {
		ctx = begin(s, c, url, method);
		*con_cls = ctx;
		if (ctx == NULL)
			return MHD_NO;
		log_set_rid(ctx->req.rid);
		/* An answer queued now also stops "100 Continue" and the body upload;
		 * the library then closes the connection, which suits a refusal. */
		if (screen(s, ctx, &resp))
			return answer(c, ctx, &resp);
		if (atomic_load(&s->refusing)) {
			/* Stopping: a request begun now on a kept-alive connection could
			 * be cut off with its answer unsent, after its work (a token, an
			 * audit row) was done. Refuse it before any work, and close. */
			http_resp_error(&ctx->req, &resp, 503, "UNAVAILABLE", "Server is stopping");
			return answer(c, ctx, &resp);
		}
		log_set_rid(NULL);
		return MHD_YES;
	}
	log_set_rid(ctx->req.rid);
	if (atomic_load(&ctx->defer_state) != DEFER_NONE)
		return resumed(c, ctx);
	if (*upload_size != 0) {
		if (!ctx->too_large && !ctx->discard_body &&
		    buf_append(&ctx->body, upload_data, *upload_size) != 0) {
			ctx->too_large = true;
			buf_release(&ctx->body);
		}
		*upload_size = 0;
		log_set_rid(NULL);
		return MHD_YES;
	}
	if (ctx->too_large) {
		http_resp_error(&ctx->req, &resp, 413, "PAYLOAD_TOO_LARGE", "Request body too large");
	} else {
		ctx->req.body = ctx->body.data ? ctx->body.data : "";
		ctx->req.body_len = ctx->body.len;
		ctx->req.route->handler(&ctx->req, &resp);
		if (ctx->defer_start)
			return park(c, ctx, &resp);
	}
	return answer(c, ctx, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct req_ctx *ctx = *con_cls;

	if (ctx == NULL)
		return;
	atomic_fetch_sub(&s->in_flight, 1);
	park_end(ctx); /* a parked request whose client went away */
	if (ctx->held.body || ctx->held_failed.body) {
		/* Its answer was never queued, so answer() logged no line for it. */
		char path[256];

		log_quote(ctx->req.path, path, sizeof(path));
		log_warn("client left before its answer", "path=\"%s\" client=%s ms=%lld", path,
			 ctx->req.client_text, (long long)(clock_now_ms() - ctx->started_ms));
	}
	free(ctx->held.body);
	free(ctx->held_failed.body);
	buf_release(&ctx->body);
	if (ctx->scratch != ctx->scratch_buf)
		free(ctx->scratch);
	free(ctx);
	*con_cls = NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Decode %HH in paths and query values, except escapes of control bytes
 * (%00, %0A, ...): those stay as written. A decoded NUL would end the path
 * early for every handler, and a raw newline has no business in a number.
 * In the path (the one value the library hands over starting with '/') an
 * encoded slash stays too, so that it cannot move a request to another
 * route; in query values (a redirect_uri) it decodes like any other byte.
 */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
	bool path = s[0] == '/';
	char *w = s;

	for (const char *r = s; *r; ) {
		int hi = r[0] == '%' ? hexval(r[1]) : -1;
		int lo = hi >= 0 ? hexval(r[2]) : -1;
		int v = hi * 16 + lo;

		if (hi >= 0 && lo >= 0 && v >= 0x20 && v != 0x7f && !(path && v == '/')) {
			*w++ = (char)v;
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("http library", "detail=\"%s\"", msg);
}

static int bind_addr(const char *addr, unsigned port, struct sockaddr_storage *ss,
		     unsigned *flags)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*flags |= MHD_USE_IPv6;
		return 0;
	}
	return -1;
}

struct http_server *http_server_start(const struct http_server_opts *o,
				      const struct http_router *r)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	struct sockaddr_storage ss;
	struct http_server *s = calloc(1, sizeof(*s));
	const union MHD_DaemonInfo *di;

	if (s == NULL)
		return NULL;
	if (bind_addr(o->listen_addr, o->port, &ss, &flags) != 0) {
		log_error("listen address is not an IP address", "listen=%s", o->listen_addr);
		free(s);
		return NULL;
	}
	rid_boot = (uint32_t)(clock_now_ms() & 0xffffffffu);
	pthread_mutex_init(&s->park_mu, NULL);
	pthread_cond_init(&s->park_cv, NULL);
	s->router = r;
	s->max_body = o->max_body;
	s->trusted = o->trusted_proxies;
	/* The logger goes first so that it also hears about the options after it. */
	s->daemon = MHD_start_daemon(flags, (uint16_t)o->port, admit, s, on_request, s,
				     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_THREAD_POOL_SIZE, o->threads,
				     MHD_OPTION_CONNECTION_TIMEOUT, o->conn_timeout,
				     MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
				     /* One address cannot take every slot (slow-header clients). */
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->per_ip_connections,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				     MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024,
				     MHD_OPTION_UNESCAPE_CALLBACK, unescape, s,
				     MHD_OPTION_END);
	if (s->daemon == NULL) {
		log_error("cannot start HTTP server", "listen=%s port=%u", o->listen_addr,
			  o->port);
		pthread_mutex_destroy(&s->park_mu);
		pthread_cond_destroy(&s->park_cv);
		free(s);
		return NULL;
	}
	di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di ? di->port : o->port;
	return s;
}

unsigned http_server_port(const struct http_server *s)
{
	return s->port;
}

void http_server_stop(struct http_server *s, unsigned grace_ms)
{
	if (s == NULL)
		return;
	/* Stop taking connections (admit() refuses them), then give requests in
	 * flight a bounded time to end. Not MHD_quiesce_daemon: in 0.9.75 it takes
	 * the listen socket out of each worker's epoll set from this thread while
	 * the workers may be doing the same, and the loser aborts the process
	 * ("Failed to remove listen FD from epoll set"): seen about once in a
	 * hundred stops in the test suite. */
	pthread_mutex_lock(&s->park_mu);
	s->stopping = true;
	pthread_mutex_unlock(&s->park_mu);
	atomic_store(&s->refusing, true);
	/* Idle keep-alive connections hold no request: only wait for real work. */
	for (unsigned waited = 0; waited < grace_ms; waited += 10) {
		if (atomic_load(&s->in_flight) == 0)
			break;
		usleep(10 * 1000);
	}
	/* Parked requests are waited for to the end: their work always ends (the
	 * audit writer's transactions are bounded by the busy timeout), and the
	 * library refuses to stop with connections suspended. Nothing parks once
	 * stopping is set; later deferred requests hold their worker instead. */
	pthread_mutex_lock(&s->park_mu);
	while (s->parked > 0)
		pthread_cond_wait(&s->park_cv, &s->park_mu);
	pthread_mutex_unlock(&s->park_mu);
	MHD_stop_daemon(s->daemon);
	pthread_mutex_destroy(&s->park_mu);
	pthread_cond_destroy(&s->park_cv);
	free(s);
}
