/* router.c - matching method and path against route patterns.
 *
 * Patterns are split into segments once, when added; a segment written
 * "{name}" matches any one non-empty path segment and binds it to name.
 *
 * The patterns form a segment trie: each node has its literal children in
 * name order (binary search) and one child for every "{...}" segment, so a
 * request costs one step per path segment whatever the number of routes.
 * Several patterns can match one path (a literal and a parameter sibling);
 * the walk collects every node the path ends on, and the routes there are
 * ranked by the order they were added, exactly as a scan of the route list
 * in that order would rank them.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"

/* More end nodes than this for one path: fall back to the plain scan. */
#define MAX_ENDS 16

struct compiled {
	const struct http_route *route;
	size_t index; /* order of addition: the first match wins */
	char *copy;   /* the pattern, split in place */
	const char *seg[HTTP_MAX_SEGMENTS];
	size_t n_seg;
};

struct node;

struct edge {
	char *name; /* a literal segment (its own copy: a refused route may free its pattern) */
	struct node *to;
};

struct node {
	struct edge *lit; /* sorted by name */
	size_t n_lit;
	struct node *param;
	struct compiled **ends; /* routes whose pattern ends here, in order of addition */
	size_t n_ends;
};

struct prefix {
	const char *text;
	size_t len;
	const struct http_family *family;
};

struct http_router {
	struct compiled **routes; /* in order of addition */
	size_t n_routes;
	struct node root;
	struct prefix *prefixes; /* longest first; equal lengths in order of registration */
	size_t n_prefixes;
};

struct http_router *http_router_new(void)
{
	return calloc(1, sizeof(struct http_router));
}

static void node_free(struct node *n, bool self)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->n_lit; i++) {
		node_free(n->lit[i].to, true);
		free(n->lit[i].name);
	}
	node_free(n->param, true);
	free(n->lit);
	free(n->ends);
	if (self)
		free(n);
}

void http_router_free(struct http_router *r)
{
	if (r == NULL)
		return;
	node_free(&r->root, false);
	for (size_t i = 0; i < r->n_routes; i++) {
		free(r->routes[i]->copy);
		free(r->routes[i]);
	}
	free(r->routes);
	free(r->prefixes);
	free(r);
}

/* Split s (modified) at '/'; returns the count or -1 if too many or empty segments. */
static int split(char *s, const char **seg)
{
	int n = 0;

	if (*s != '/')
		return -1;
	while (*s == '/') {
		*s++ = '\0';
		if (n == HTTP_MAX_SEGMENTS || *s == '\0' || *s == '/')
			return -1;
		seg[n++] = s;
		s = strchr(s, '/');
		if (s == NULL)
			break;
	}
	return n;
}

/* Index of the first literal child not below name (binary search). */
static size_t lit_lower(const struct node *n, const char *name)
{
	size_t lo = 0, hi = n->n_lit;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(n->lit[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The child of n for one pattern segment, created when missing; NULL without memory. */
static struct node *child_get(struct node *n, const char *seg)
{
	struct edge *v;
	size_t at;

	if (seg[0] == '{') {
		if (n->param == NULL)
			n->param = calloc(1, sizeof(*n->param));
		return n->param;
	}
	at = lit_lower(n, seg);
	if (at < n->n_lit && strcmp(n->lit[at].name, seg) == 0)
		return n->lit[at].to;
	v = realloc(n->lit, (n->n_lit + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	n->lit = v;
	memmove(&v[at + 1], &v[at], (n->n_lit - at) * sizeof(*v));
	v[at].name = strdup(seg);
	v[at].to = calloc(1, sizeof(struct node));
	if (v[at].name == NULL || v[at].to == NULL) {
		free(v[at].name);
		free(v[at].to);
		memmove(&v[at], &v[at + 1], (n->n_lit - at) * sizeof(*v));
		return NULL;
	}
	n->n_lit++;
	return v[at].to;
}

/* Put c in the trie; on failure the nodes made on the way stay, empty and harmless. */
static int trie_insert(struct http_router *r, struct compiled *c)
{
	struct node *n = &r->root;
	struct compiled **v;

	for (size_t i = 0; i < c->n_seg && n != NULL; i++)
		n = child_get(n, c->seg[i]);
	if (n == NULL)
		return -1;
	v = realloc(n->ends, (n->n_ends + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	v[n->n_ends++] = c;
	n->ends = v;
	return 0;
}

/* Compile one route; NULL for a bad pattern or without memory. */
static struct compiled *compile(const struct http_route *route, size_t index)
{
	struct compiled *c = calloc(1, sizeof(*c));
	int k;

	if (c == NULL)
		return NULL;
	c->route = route;
	c->index = index;
	c->copy = strdup(route->pattern);
	k = c->copy ? split(c->copy, c->seg) : -1;
	if (k < 0) {
		free(c->copy);
		free(c);
		return NULL;
	}
	c->n_seg = (size_t)k;
	return c;
}

int http_router_add(struct http_router *r, const struct http_route *routes, size_t n)
{
	struct compiled **v = realloc(r->routes, (r->n_routes + n) * sizeof(*v));

	if (v == NULL)
		return -1;
	r->routes = v;
	for (size_t i = 0; i < n; i++) {
		struct compiled *c = compile(&routes[i], r->n_routes);

		if (c == NULL)
			return -1;
		if (trie_insert(r, c) != 0) {
			free(c->copy);
			free(c);
			return -1;
		}
		r->routes[r->n_routes++] = c;
	}
	return 0;
}

int http_router_add_family(struct http_router *r, const struct http_family *f)
{
	size_t add = 0;
	struct prefix *v;

	for (const char *const *p = f->prefixes; p && *p; p++)
		add++;
	v = realloc(r->prefixes, (r->n_prefixes + add + 1) * sizeof(*v));
	if (v == NULL)
		return -1;
	r->prefixes = v;
	for (const char *const *p = f->prefixes; p && *p; p++) {
		size_t len = strlen(*p), at = r->n_prefixes;

		/* After every prefix at least as long: longest first, then first come. */
		while (at > 0 && v[at - 1].len < len) {
			v[at] = v[at - 1];
			at--;
		}
		v[at] = (struct prefix){ *p, len, f };
		r->n_prefixes++;
	}
	return 0;
}

static void bind_params(const struct compiled *c, const char **seg, struct http_req *req)
{
	req->n_params = 0;
	for (size_t i = 0; i < c->n_seg && req->n_params < HTTP_MAX_PARAMS; i++) {
		const char *s = c->seg[i];

		if (s[0] != '{')
			continue;
		req->param_names[req->n_params] = s;
		req->param_values[req->n_params] = seg[i];
		req->n_params++;
	}
}

/* The family with the longest prefix of path (an empty prefix never owns). */
static const struct http_family *owner(const struct http_router *r, const char *path)
{
	size_t plen = strlen(path);

	for (size_t i = 0; i < r->n_prefixes; i++) {
		const struct prefix *p = &r->prefixes[i];

		if (p->len > 0 && p->len <= plen && memcmp(path, p->text, p->len) == 0)
			return p->family;
	}
	return NULL;
}

/* The routes matching a path, as the end nodes holding them. */
struct ends {
	const struct node *node[MAX_ENDS];
	size_t n;
	bool overflow;
};

static void walk(const struct node *n, const char **seg, size_t left, struct ends *out)
{
	size_t at;

	if (left == 0) {
		if (n->n_ends == 0)
			return;
		if (out->n == MAX_ENDS)
			out->overflow = true;
		else
			out->node[out->n++] = n;
		return;
	}
	at = lit_lower(n, seg[0]);
	if (at < n->n_lit && strcmp(n->lit[at].name, seg[0]) == 0)
		walk(n->lit[at].to, seg + 1, left - 1, out);
	if (n->param)
		walk(n->param, seg + 1, left - 1, out);
}

static bool seg_matches(const struct compiled *c, const char **seg, size_t n)
{
	if (c->n_seg != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (c->seg[i][0] != '{' && strcmp(c->seg[i], seg[i]) != 0)
			return false;
	return true;
}

/*
 * The next matching route after index `after` (SIZE_MAX = from the start), in
 * order of addition, or NULL. Each end node's list is in that order already.
 */
static const struct compiled *next_match(const struct http_router *r, const struct ends *e,
					 const char **seg, size_t n_seg, size_t after)
{
	const struct compiled *best = NULL;

	if (e->overflow) {
		for (size_t i = after == SIZE_MAX ? 0 : after + 1; i < r->n_routes; i++)
			if (seg_matches(r->routes[i], seg, n_seg))
				return r->routes[i];
		return NULL;
	}
	for (size_t k = 0; k < e->n; k++) {
		const struct node *nd = e->node[k];

		for (size_t i = 0; i < nd->n_ends; i++) {
			const struct compiled *c = nd->ends[i];

			if (after != SIZE_MAX && c->index <= after)
				continue;
			if (best == NULL || c->index < best->index)
				best = c;
			break;
		}
	}
	return best;
}

static void allow_add(char *allow, size_t allowlen, const char *method)
{
	if (strlen(allow) + strlen(method) + 3 < allowlen) {
		if (allow[0])
			strcat(allow, ", ");
		strcat(allow, method);
	}
}

enum http_match http_router_match(const struct http_router *r, const char *method,
				  const char *path, struct http_req *req, char *scratch,
				  const struct http_route **route,
				  const struct http_family **family, char *allow,
				  size_t allowlen)
{
	const char *seg[HTTP_MAX_SEGMENTS];
	const struct compiled *other = NULL;
	struct ends e = { .n = 0 };
	size_t after = SIZE_MAX;
	int n;

	*family = owner(r, path);
	strcpy(scratch, path);
	n = split(scratch, seg);
	if (n < 0)
		return HTTP_MATCH_NO_PATH;
	if (allowlen == 0)
		return HTTP_MATCH_NO_PATH;
	allow[0] = '\0';
	walk(&r->root, seg, (size_t)n, &e);
	for (const struct compiled *c; (c = next_match(r, &e, seg, (size_t)n, after)) != NULL;
	     after = c->index) {
		if (strcmp(c->route->method, method) == 0) {
			bind_params(c, seg, req);
			*route = c->route;
			return HTTP_MATCH_OK;
		}
		allow_add(allow, allowlen, c->route->method);
		other = c;
	}
	if (other == NULL)
		return HTTP_MATCH_NO_PATH;
	*route = other->route;
	return HTTP_MATCH_NO_METHOD;
}
