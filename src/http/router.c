/* router.c - matching method and path against route patterns.
 *
 * Patterns are split into segments once, when added; a segment written
 * "{name}" matches any one non-empty path segment and binds it to name.
 */
#include <stdlib.h>
#include <string.h>

#include "http.h"

struct compiled {
	const struct http_route *route;
	char *copy; /* the pattern, split in place */
	const char *seg[HTTP_MAX_SEGMENTS];
	size_t n_seg;
};

struct http_router {
	struct compiled *routes;
	size_t n_routes;
	const struct http_family **families;
	size_t n_families;
};

struct http_router *http_router_new(void)
{
	return calloc(1, sizeof(struct http_router));
}

void http_router_free(struct http_router *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_routes; i++)
		free(r->routes[i].copy);
	free(r->routes);
	free(r->families);
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

int http_router_add(struct http_router *r, const struct http_route *routes, size_t n)
{
	struct compiled *v = realloc(r->routes, (r->n_routes + n) * sizeof(*v));

	if (v == NULL)
		return -1;
	r->routes = v;
	for (size_t i = 0; i < n; i++) {
		struct compiled *c = &r->routes[r->n_routes];
		int k;

		c->route = &routes[i];
		c->copy = strdup(routes[i].pattern);
		if (c->copy == NULL)
			return -1;
		k = split(c->copy, c->seg);
		if (k < 0) {
			free(c->copy);
			return -1;
		}
		c->n_seg = (size_t)k;
		r->n_routes++;
	}
	return 0;
}

int http_router_add_family(struct http_router *r, const struct http_family *f)
{
	const struct http_family **v =
		realloc(r->families, (r->n_families + 1) * sizeof(*v));

	if (v == NULL)
		return -1;
	v[r->n_families++] = f;
	r->families = v;
	return 0;
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

static const struct http_family *owner(const struct http_router *r, const char *path)
{
	const struct http_family *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < r->n_families; i++) {
		for (const char *const *p = r->families[i]->prefixes; p && *p; p++) {
			size_t n = strlen(*p);

			if (n > best_len && strncmp(path, *p, n) == 0) {
				best = r->families[i];
				best_len = n;
			}
		}
	}
	return best;
}

enum http_match http_router_match(const struct http_router *r, const char *method,
				  const char *path, struct http_req *req, char *scratch,
				  const struct http_route **route,
				  const struct http_family **family, char *allow,
				  size_t allowlen)
{
	const char *seg[HTTP_MAX_SEGMENTS];
	const struct compiled *other = NULL;
	int n;

	*family = owner(r, path);
	strcpy(scratch, path);
	n = split(scratch, seg);
	if (n < 0)
		return HTTP_MATCH_NO_PATH;
	if (allowlen == 0)
		return HTTP_MATCH_NO_PATH;
	allow[0] = '\0';
	for (size_t i = 0; i < r->n_routes; i++) {
		const struct compiled *c = &r->routes[i];

		if (!seg_matches(c, seg, (size_t)n))
			continue;
		if (strcmp(c->route->method, method) == 0) {
			bind_params(c, seg, req);
			*route = c->route;
			return HTTP_MATCH_OK;
		}
		if (strlen(allow) + strlen(c->route->method) + 3 < allowlen) {
			if (allow[0])
				strcat(allow, ", ");
			strcat(allow, c->route->method);
		}
		other = c;
	}
	if (other == NULL)
		return HTTP_MATCH_NO_PATH;
	*route = other->route;
	return HTTP_MATCH_NO_METHOD;
}
