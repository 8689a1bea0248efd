/* http.h - the HTTP layer: routes, requests, responses, families.
 *
 * Handlers see a parsed request (path parameters, body, the client address
 * after proxy rules) and fill in a response; they never touch libmicrohttpd.
 * Each API family renders its own errors in its contract's shape, so a 404
 * under /v1/telique/ looks like a Telique error and a text/plain route's
 * errors stay text/plain.
 */
#ifndef RINGER_HTTP_HTTP_H
#define RINGER_HTTP_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../auth/allow.h"

enum http_fmt { HTTP_JSON, HTTP_TEXT, HTTP_XML };

#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_SEGMENTS 16

struct http_conn; /* the library's connection, opaque to handlers */

struct http_req {
	const char *method;
	const char *path; /* decoded path, no query */
	char rid[24];     /* request id, also in every log line and X-Request-Id */
	const char *param_names[HTTP_MAX_PARAMS];
	const char *param_values[HTTP_MAX_PARAMS];
	size_t n_params;
	const char *body; /* NUL-terminated, may be "" */
	size_t body_len;
	uint8_t client_ip[16];
	char client_text[48];
	struct http_conn *conn;
	const struct http_route *route;   /* NULL when no route matched */
	const struct http_family *family; /* whose error shape applies, or NULL */
	enum http_fmt fmt;                /* the format errors are rendered in */
};

struct http_resp {
	unsigned status;
	const char *ctype;
	char *body; /* malloc'd, owned by the response */
	size_t len;
	char allow[64]; /* Allow header for 405, "" otherwise */
	char extra[192]; /* more headers, "Name: value\n" each (http_resp_header); "" = none */
};

struct http_family;

/*
 * Renders an error in the family's shape. fmt is the format of the route the
 * error belongs to; code is a machine code ("INVALID_FORMAT"), msg a sentence.
 */
typedef void (*http_error_fn)(struct http_resp *resp, enum http_fmt fmt, unsigned status,
			      const char *code, const char *msg);

/* Decides whether a request may reach the family's handlers; 0 = yes. */
typedef int (*http_admit_fn)(const struct http_req *req);

struct http_family {
	const char *name;
	const char *const *prefixes; /* NULL-terminated path prefixes it owns */
	http_error_fn render_error;
	http_admit_fn admit; /* NULL = everyone */
};

typedef void (*http_handler_fn)(struct http_req *req, struct http_resp *resp);

struct http_route {
	const char *method;
	const char *pattern; /* "/v1/telique/lrn/{phoneNumber}" */
	enum http_fmt fmt;
	const struct http_family *family;
	http_handler_fn handler;
	bool has_body; /* accepts a request body */
};

/* ---- routing (router.c) ---- */

struct http_router;

struct http_router *http_router_new(void);
void http_router_free(struct http_router *r);

/* Add routes; the array must outlive the router. Returns 0 or -1. */
int http_router_add(struct http_router *r, const struct http_route *routes, size_t n);

/* Register a family for 404s under its prefixes. The family must outlive the router. */
int http_router_add_family(struct http_router *r, const struct http_family *f);

enum http_match { HTTP_MATCH_OK, HTTP_MATCH_NO_PATH, HTTP_MATCH_NO_METHOD };

/*
 * Find the route for method and path. On HTTP_MATCH_OK, *route is set and the
 * path parameters are stored in req (values point into scratch, which must
 * hold strlen(path) + 1 bytes). On HTTP_MATCH_NO_METHOD, *route is one route
 * of that path and allow lists its methods. On HTTP_MATCH_NO_PATH, *family is
 * the family owning the prefix, or NULL.
 */
enum http_match http_router_match(const struct http_router *r, const char *method,
				  const char *path, struct http_req *req, char *scratch,
				  const struct http_route **route,
				  const struct http_family **family, char *allow,
				  size_t allowlen);

/* ---- requests and responses (server.c) ---- */

/* The value of path parameter name, or NULL. */
const char *http_param(const struct http_req *req, const char *name);

/* A request header (case-insensitive), or NULL. */
const char *http_header(const struct http_req *req, const char *name);

/* A query-string argument, or NULL. */
const char *http_query(const struct http_req *req, const char *name);

/* Set the response to body (copied) with a content type. */
void http_resp_set(struct http_resp *resp, unsigned status, const char *ctype,
		   const char *body, size_t len);

/* Serialize j (takes the reference) as application/json. */
void http_resp_json(struct http_resp *resp, unsigned status, json_t *j);

/* text/plain, as the contracts name it (the bytes are ASCII or UTF-8) */
void http_resp_text(struct http_resp *resp, unsigned status, const char *text);

/* application/xml; body is the document without the XML declaration (UTF-8). */
void http_resp_xml(struct http_resp *resp, unsigned status, const char *xml);

/*
 * Add a header to the response (Retry-After, WWW-Authenticate, ...). name and
 * value must not contain CR or LF. Returns 0, or -1 when it does not fit.
 */
int http_resp_header(struct http_resp *resp, const char *name, const char *value);

/* Render an error through the route's family (what handlers call). */
void http_resp_error(const struct http_req *req, struct http_resp *resp, unsigned status,
		     const char *code, const char *msg);

/*
 * Deferred answers. A handler whose answer must wait for work that needs no
 * worker thread (a group commit of audit rows) fills resp with the answer
 * for when that work succeeds and calls http_defer(req, start, arg) before
 * returning. The server then parks the connection, so the worker goes on
 * with other clients, and calls start(d, arg), which hands d to the work.
 * The work calls http_defer_done(d, ok) exactly once, from any thread; the
 * held answer is sent when ok, otherwise *failed (taken over; NULL = a 500
 * in the route's shape). d must not be used after http_defer_done.
 */
struct http_defer;
typedef void (*http_defer_start_fn)(struct http_defer *d, void *arg);

void http_defer(struct http_req *req, struct http_resp *failed, http_defer_start_fn start,
		void *arg);
void http_defer_done(struct http_defer *d, bool ok);

/* ---- the server (server.c) ---- */

struct http_server;

struct http_server_opts {
	const char *listen_addr;
	unsigned port;    /* 0 = any free port */
	unsigned threads; /* worker threads */
	size_t max_body;
	unsigned conn_timeout;
	unsigned max_connections;
	unsigned per_ip_connections; /* 0 = no limit */
	const struct cidr_set *trusted_proxies; /* borrowed; may be NULL */
};

/* Start serving r. Returns NULL after logging when the port cannot be bound. */
struct http_server *http_server_start(const struct http_server_opts *opts,
				      const struct http_router *r);

/* The port actually bound. */
unsigned http_server_port(const struct http_server *s);

/*
 * Stop accepting, give requests in flight up to grace_ms to finish (idle
 * keep-alive connections count as in flight until they time out), free.
 */
void http_server_stop(struct http_server *s, unsigned grace_ms);

#endif
