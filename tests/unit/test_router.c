/* test_router.c - matching method and path against route patterns, family prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

static void handler(struct http_req *req, struct http_resp *resp)
{
	resp->status = 204;
}

static const char *const telique_prefixes[] = { "/v1/telique/", "/v1/lrn/", NULL };
static const char *const v1_prefixes[] = { "/v1/", NULL };
static const char *const ops_prefixes[] = { "/health", "/ready", NULL };
static const char *const deep_prefixes[] = { "/v1/telique/lrn/", NULL };

static const struct http_family telique = { "telique", telique_prefixes, NULL, NULL };
static const struct http_family v1 = { "v1", v1_prefixes, NULL, NULL };
static const struct http_family ops = { "ops", ops_prefixes, NULL, NULL };
static const struct http_family deep = { "deep", deep_prefixes, NULL, NULL };
static const struct http_family empty = { "empty", NULL, NULL, NULL };

enum {
	R_HEALTH, R_LRN, R_CNAM_GET, R_CNAM_POST, R_SHORT_LRN, R_AB_GET, R_AB_PUT, R_AB_DELETE,
	R_X_GET, R_X_NEW, R_COUNT
};

static const struct http_route routes[R_COUNT] = {
	[R_HEALTH] = { "GET", "/health", HTTP_TEXT, &ops, handler, false },
	[R_LRN] = { "GET", "/v1/telique/lrn/{phoneNumber}", HTTP_JSON, &telique, handler, false },
	[R_CNAM_GET] = { "GET", "/v1/telique/cnam/{phoneNumber}", HTTP_JSON, &telique, handler,
			 false },
	[R_CNAM_POST] = { "POST", "/v1/telique/cnam", HTTP_JSON, &telique, handler, true },
	[R_SHORT_LRN] = { "GET", "/v1/lrn/{tn}", HTTP_TEXT, &telique, handler, false },
	[R_AB_GET] = { "GET", "/v1/a/{x}/b/{y}", HTTP_JSON, &v1, handler, false },
	[R_AB_PUT] = { "PUT", "/v1/a/{x}/b/{y}", HTTP_JSON, &v1, handler, true },
	[R_AB_DELETE] = { "DELETE", "/v1/a/{x}/b/{y}", HTTP_JSON, &v1, handler, false },
	[R_X_GET] = { "GET", "/v1/x/{id}", HTTP_XML, &v1, handler, false },
	[R_X_NEW] = { "POST", "/v1/x/new", HTTP_XML, &v1, handler, true },
};

/* One match, with a scratch buffer of exactly the size the contract asks for. */
struct result {
	enum http_match m;
	const struct http_route *route;
	const struct http_family *family;
	struct http_req req;
	char allow[64];
	char *scratch;
};

static void match(const struct http_router *r, const char *method, const char *path,
		  struct result *out)
{
	free(out->scratch);
	memset(out, 0, sizeof(*out));
	out->scratch = malloc(strlen(path) + 1);
	assert_non_null(out->scratch);
	memset(out->allow, 'z', sizeof(out->allow) - 1);
	out->m = http_router_match(r, method, path, &out->req, out->scratch, &out->route,
				   &out->family, out->allow, sizeof(out->allow));
}

static int router_setup(void **state)
{
	struct http_router *r = http_router_new();

	assert_non_null(r);
	assert_int_equal(http_router_add(r, routes, R_COUNT), 0);
	assert_int_equal(http_router_add_family(r, &ops), 0);
	assert_int_equal(http_router_add_family(r, &v1), 0);
	assert_int_equal(http_router_add_family(r, &telique), 0);
	*state = r;
	return 0;
}

static int router_teardown(void **state)
{
	http_router_free(*state);
	return 0;
}

static void test_router__exact_path(void **state)
{
	struct result res = { 0 };

	match(*state, "GET", "/health", &res);
	assert_int_equal(res.m, HTTP_MATCH_OK);
	assert_ptr_equal(res.route, &routes[R_HEALTH]);
	assert_int_equal(res.req.n_params, 0);
	match(*state, "POST", "/v1/telique/cnam", &res);
	assert_int_equal(res.m, HTTP_MATCH_OK);
	assert_ptr_equal(res.route, &routes[R_CNAM_POST]);
	free(res.scratch);
}

static void test_router__params(void **state)
{
	static const char path[] = "/v1/telique/lrn/2125551234";
	struct result res = { 0 };

	match(*state, "GET", path, &res);
	assert_int_equal(res.m, HTTP_MATCH_OK);
	assert_ptr_equal(res.route, &routes[R_LRN]);
	assert_int_equal(res.req.n_params, 1);
	assert_string_equal(res.req.param_names[0], "{phoneNumber}");
	assert_string_equal(res.req.param_values[0], "2125551234");
	/* Values live in scratch, cut at the segment end; the path is untouched. */
	assert_ptr_equal(res.req.param_values[0], res.scratch + strlen("/v1/telique/lrn/"));
	assert_string_equal(path, "/v1/telique/lrn/2125551234");

	match(*state, "PUT", "/v1/a/first/b/second", &res);
	assert_int_equal(res.m, HTTP_MATCH_OK);
	assert_ptr_equal(res.route, &routes[R_AB_PUT]);
	assert_int_equal(res.req.n_params, 2);
	assert_string_equal(res.req.param_names[0], "{x}");
	assert_string_equal(res.req.param_values[0], "first");
	assert_string_equal(res.req.param_names[1], "{y}");
	assert_string_equal(res.req.param_values[1], "second");

	/* A parameter is one whole segment: anything goes in it but a slash. */
	match(*state, "GET", "/v1/lrn/+1 212.555", &res);
	assert_int_equal(res.m, HTTP_MATCH_OK);
	assert_ptr_equal(res.route, &routes[R_SHORT_LRN]);
	assert_string_equal(res.req.param_values[0], "+1 212.555");
	free(res.scratch);
}

static void test_router__literal_and_param_siblings(void **state)
{
	struct result res = { 0 };

	/* The POST literal is found although the GET param route comes first. */
	match(*state, "POST", "/v1/x/new", &res);
	assert_int_equal(res.m, HTTP_MATCH_OK);
	assert_ptr_equal(res.route, &routes[R_X_NEW]);
	match(*state, "GET", "/v1/x/new", &res);
	assert_int_equal(res.m, HTTP_MATCH_OK);
	assert_ptr_equal(res.route, &routes[R_X_GET]);
	assert_string_equal(res.req.param_values[0], "new");
	match(*state, "DELETE", "/v1/x/new", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
	assert_string_equal(res.allow, "GET, POST");
	match(*state, "POST", "/v1/x/other", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
	assert_string_equal(res.allow, "GET");
	free(res.scratch);
}

static void test_router__405_with_allow(void **state)
{
	struct result res = { 0 };

	match(*state, "POST", "/v1/telique/lrn/2125551234", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
	assert_ptr_equal(res.route, &routes[R_LRN]);
	assert_string_equal(res.allow, "GET");
	match(*state, "PATCH", "/v1/a/1/b/2", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
	assert_string_equal(res.allow, "GET, PUT, DELETE");
	assert_ptr_equal(res.route->family, &v1);
	match(*state, "GET", "/v1/telique/cnam", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
	assert_ptr_equal(res.route, &routes[R_CNAM_POST]);
	assert_string_equal(res.allow, "POST");
	/* Methods are case-sensitive (RFC 9110). */
	match(*state, "get", "/health", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
	assert_string_equal(res.allow, "GET");
	free(res.scratch);
}

static void test_router__allow_buffer_bounded(void **state)
{
	const struct http_route *route = NULL;
	const struct http_family *fam = NULL;
	struct http_req req;
	char scratch[32], allow[10];

	memset(allow, 'z', sizeof(allow));
	assert_int_equal(http_router_match(*state, "PATCH", "/v1/a/1/b/2", &req, scratch, &route,
					   &fam, allow, sizeof(allow)), HTTP_MATCH_NO_METHOD);
	/* Whole method names only, and always terminated inside the buffer. */
	assert_string_equal(allow, "GET, PUT");
	assert_true(strlen(allow) < sizeof(allow));
}

static void test_router__404(void **state)
{
	struct result res = { 0 };

	match(*state, "GET", "/v1/telique/nothing/here", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	assert_ptr_equal(res.family, &telique);
	match(*state, "GET", "/v1/telique/lrn", &res); /* too few segments */
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	assert_ptr_equal(res.family, &telique);
	match(*state, "GET", "/v1/telique/lrn/2125551234/extra", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	match(*state, "GET", "/nowhere", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	assert_null(res.family);
	match(*state, "GET", "/Health", &res); /* paths are case-sensitive */
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	match(*state, "GET", "/healthz", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	assert_ptr_equal(res.family, &ops); /* a prefix is a string prefix */
	free(res.scratch);
}

static void test_router__odd_paths(void **state)
{
	static const char *const paths[] = {
		"/health/", "//health", "/v1/telique/lrn/", "/v1//telique/lrn/2125551234",
		"/v1/telique/lrn//2125551234", "/", "", "health", "//", "/v1/lrn/2125551234/",
	};
	struct result res = { 0 };

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		match(*state, "GET", paths[i], &res);
		if (res.m != HTTP_MATCH_NO_PATH)
			fail_msg("\"%s\" matched (%d)", paths[i], (int)res.m);
	}
	/* A path cut off as a trailing slash still belongs to its family. */
	match(*state, "GET", "/v1/telique/lrn/", &res);
	assert_ptr_equal(res.family, &telique);
	match(*state, "GET", "/", &res);
	assert_null(res.family);
	free(res.scratch);
}

static void test_router__segment_limit(void **state)
{
	static const struct http_route ok16[] = {
		{ "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/{last}", HTTP_JSON, NULL, handler,
		  false },
	};
	static const struct http_route bad17[] = {
		{ "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", HTTP_JSON, NULL, handler,
		  false },
	};
	struct http_router *r = http_router_new();
	struct result res = { 0 };
	char path[4096];

	assert_non_null(r);
	assert_int_equal(http_router_add(r, ok16, 1), 0);
	assert_int_equal(http_router_add(r, bad17, 1), -1);
	match(r, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/sixteen", &res);
	assert_int_equal(res.m, HTTP_MATCH_OK);
	assert_string_equal(res.req.param_values[0], "sixteen");
	match(r, "GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	/* A very long path of many segments is refused without overrunning anything. */
	path[0] = '\0';
	for (int i = 0; i < 1000; i++)
		strcat(path, "/a");
	match(r, "GET", path, &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	free(res.scratch);
	http_router_free(r);
}

static void test_router__bad_patterns(void **state)
{
	static const struct http_route bad[] = {
		{ "GET", "", HTTP_JSON, NULL, handler, false },
		{ "GET", "/", HTTP_JSON, NULL, handler, false },
		{ "GET", "no/slash", HTTP_JSON, NULL, handler, false },
		{ "GET", "/a//b", HTTP_JSON, NULL, handler, false },
		{ "GET", "/a/", HTTP_JSON, NULL, handler, false },
	};
	static const struct http_route good[] = {
		{ "GET", "/good", HTTP_JSON, NULL, handler, false },
	};
	struct http_router *r = http_router_new();
	struct result res = { 0 };

	assert_non_null(r);
	assert_int_equal(http_router_add(r, good, 1), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(http_router_add(r, &bad[i], 1), -1);
	/* A refused pattern leaves the router as it was. */
	match(r, "GET", "/good", &res);
	assert_int_equal(res.m, HTTP_MATCH_OK);
	assert_ptr_equal(res.route, &good[0]);
	match(r, "GET", "/a/b", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	free(res.scratch);
	http_router_free(r);
	http_router_free(NULL);
}

static void test_router__family_longest_prefix(void **state)
{
	struct result res = { 0 };

	match(*state, "GET", "/v1/telique/zzz", &res);
	assert_ptr_equal(res.family, &telique);
	match(*state, "GET", "/v1/lrn/", &res);
	assert_ptr_equal(res.family, &telique);
	match(*state, "GET", "/v1/other/thing", &res);
	assert_ptr_equal(res.family, &v1);
	match(*state, "GET", "/v1/telique", &res); /* no trailing slash: not telique's */
	assert_ptr_equal(res.family, &v1);
	match(*state, "GET", "/v2/x", &res);
	assert_null(res.family);
	match(*state, "GET", "/ready", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	assert_ptr_equal(res.family, &ops);
	free(res.scratch);
}

static void test_router__family_order_does_not_matter(void **state)
{
	struct http_router *r = http_router_new();
	struct result res = { 0 };

	assert_non_null(r);
	/* The longest prefix registered first, the shortest last. */
	assert_int_equal(http_router_add_family(r, &empty), 0);
	assert_int_equal(http_router_add_family(r, &deep), 0);
	assert_int_equal(http_router_add_family(r, &telique), 0);
	assert_int_equal(http_router_add_family(r, &v1), 0);
	match(r, "GET", "/v1/telique/lrn/x/y", &res);
	assert_ptr_equal(res.family, &deep);
	match(r, "GET", "/v1/telique/cnam/x", &res);
	assert_ptr_equal(res.family, &telique);
	match(r, "GET", "/v1/nothing", &res);
	assert_ptr_equal(res.family, &v1);
	match(r, "GET", "/x", &res);
	assert_null(res.family);
	free(res.scratch);
	http_router_free(r);
}

static void test_router__empty_router(void **state)
{
	struct http_router *r = http_router_new();
	struct result res = { 0 };

	assert_non_null(r);
	match(r, "GET", "/health", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	assert_null(res.family);
	free(res.scratch);
	http_router_free(r);
}

/* Hundreds of routes: each still found, with its parameters, and 404/405 stay exact. */
static void test_router__many_routes(void **state)
{
	enum { N = 300 };
	static struct http_route many[N];
	static char patterns[N][48];
	struct http_router *r = http_router_new();
	struct result res = { 0 };
	char path[64];

	assert_non_null(r);
	for (int i = 0; i < N; i++) {
		/* Three shapes: literal leaf, parameter leaf, parameter in the middle. */
		if (i % 3 == 0)
			snprintf(patterns[i], sizeof(patterns[i]), "/v1/m%d/list", i);
		else if (i % 3 == 1)
			snprintf(patterns[i], sizeof(patterns[i]), "/v1/m%d/{id}", i);
		else
			snprintf(patterns[i], sizeof(patterns[i]), "/v1/m%d/{id}/x", i);
		many[i] = (struct http_route){ i % 2 ? "POST" : "GET", patterns[i], HTTP_JSON,
					       NULL, handler, false };
	}
	assert_int_equal(http_router_add(r, many, N), 0);
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			snprintf(path, sizeof(path), "/v1/m%d/list", i);
		else if (i % 3 == 1)
			snprintf(path, sizeof(path), "/v1/m%d/v%d", i, i);
		else
			snprintf(path, sizeof(path), "/v1/m%d/v%d/x", i, i);
		match(r, many[i].method, path, &res);
		assert_int_equal(res.m, HTTP_MATCH_OK);
		assert_ptr_equal(res.route, &many[i]);
		if (i % 3 != 0) {
			char want[16];

			snprintf(want, sizeof(want), "v%d", i);
			assert_int_equal(res.req.n_params, 1);
			assert_string_equal(res.req.param_values[0], want);
		}
		match(r, "DELETE", path, &res);
		assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
		assert_string_equal(res.allow, many[i].method);
	}
	match(r, "GET", "/v1/m300/list", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	match(r, "GET", "/v1/m1/a/x", &res); /* m1 has {id} but no {id}/x */
	assert_int_equal(res.m, HTTP_MATCH_NO_PATH);
	free(res.scratch);
	http_router_free(r);
}

/*
 * A literal and a parameter that both match: the route added first wins,
 * and a 405's Allow lists every matching route's method in order of addition.
 */
static void test_router__precedence_is_order_of_addition(void **state)
{
	static const struct http_route param_first[] = {
		{ "GET", "/p/{id}", HTTP_JSON, NULL, handler, false },
		{ "GET", "/p/stats", HTTP_JSON, NULL, handler, false },
		{ "PUT", "/p/stats", HTTP_JSON, NULL, handler, true },
		{ "DELETE", "/p/{id}", HTTP_JSON, NULL, handler, false },
		{ "GET", "/q/stats", HTTP_JSON, NULL, handler, false },
		{ "GET", "/q/{id}", HTTP_JSON, NULL, handler, false },
		{ "PATCH", "/{a}/{b}", HTTP_JSON, NULL, handler, true },
	};
	struct http_router *r = http_router_new();
	struct result res = { 0 };

	assert_non_null(r);
	assert_int_equal(http_router_add(r, param_first, 7), 0);
	match(r, "GET", "/p/stats", &res);
	assert_ptr_equal(res.route, &param_first[0]);
	assert_string_equal(res.req.param_values[0], "stats");
	match(r, "PUT", "/p/stats", &res);
	assert_ptr_equal(res.route, &param_first[2]);
	assert_int_equal(res.req.n_params, 0);
	match(r, "DELETE", "/p/stats", &res);
	assert_ptr_equal(res.route, &param_first[3]);
	match(r, "GET", "/q/stats", &res);
	assert_ptr_equal(res.route, &param_first[4]);
	assert_int_equal(res.req.n_params, 0);
	match(r, "GET", "/q/other", &res);
	assert_ptr_equal(res.route, &param_first[5]);
	match(r, "PATCH", "/q/stats", &res);
	assert_ptr_equal(res.route, &param_first[6]);
	assert_string_equal(res.req.param_values[0], "q");
	assert_string_equal(res.req.param_values[1], "stats");
	match(r, "POST", "/p/stats", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
	assert_string_equal(res.allow, "GET, GET, PUT, DELETE, PATCH");
	assert_ptr_equal(res.route, &param_first[6]); /* the last one matched */
	match(r, "POST", "/q/x", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
	assert_string_equal(res.allow, "GET, PATCH");
	free(res.scratch);
	http_router_free(r);
}

/* More parameter branches than the walk keeps: the answer is the same as with few. */
static void test_router__many_overlapping_patterns(void **state)
{
	static const char *const pats[] = {
		"/{a}/{b}/{c}/{d}/{e}", "/x/{b}/{c}/{d}/{e}", "/{a}/x/{c}/{d}/{e}",
		"/{a}/{b}/x/{d}/{e}", "/{a}/{b}/{c}/x/{e}", "/{a}/{b}/{c}/{d}/x",
		"/x/x/{c}/{d}/{e}", "/x/{b}/x/{d}/{e}", "/x/{b}/{c}/x/{e}", "/x/{b}/{c}/{d}/x",
		"/{a}/x/x/{d}/{e}", "/{a}/x/{c}/x/{e}", "/{a}/x/{c}/{d}/x", "/{a}/{b}/x/x/{e}",
		"/{a}/{b}/x/{d}/x", "/{a}/{b}/{c}/x/x", "/x/x/x/{d}/{e}", "/x/x/x/x/x",
	};
	enum { N = sizeof(pats) / sizeof(pats[0]) };
	static struct http_route rs[N];
	struct http_router *r = http_router_new();
	struct result res = { 0 };

	assert_non_null(r);
	for (size_t i = 0; i < N; i++)
		rs[i] = (struct http_route){ i == N - 1 ? "GET" : "PUT", pats[i], HTTP_JSON, NULL,
					     handler, true };
	assert_int_equal(http_router_add(r, rs, N), 0);
	match(r, "GET", "/x/x/x/x/x", &res);
	assert_int_equal(res.m, HTTP_MATCH_OK);
	assert_ptr_equal(res.route, &rs[N - 1]);
	match(r, "PUT", "/x/x/x/x/x", &res);
	assert_ptr_equal(res.route, &rs[0]);
	match(r, "PUT", "/x/x/y/x/x", &res);
	assert_ptr_equal(res.route, &rs[0]);
	match(r, "DELETE", "/x/x/x/x/x", &res);
	assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
	assert_ptr_equal(res.route, &rs[N - 1]); /* the last one matched */
	assert_int_equal(strlen(res.allow), strlen("PUT") * 12 + strlen(", ") * 11); /* bounded */
	match(r, "DELETE", "/x/y/x/x/x", &res); /* fewer branches: no fallback */
	assert_int_equal(res.m, HTTP_MATCH_NO_METHOD);
	assert_ptr_equal(res.route, &rs[15]);
	free(res.scratch);
	http_router_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_router__exact_path, router_setup,
						router_teardown),
		cmocka_unit_test_setup_teardown(test_router__params, router_setup,
						router_teardown),
		cmocka_unit_test_setup_teardown(test_router__literal_and_param_siblings,
						router_setup, router_teardown),
		cmocka_unit_test_setup_teardown(test_router__405_with_allow, router_setup,
						router_teardown),
		cmocka_unit_test_setup_teardown(test_router__allow_buffer_bounded, router_setup,
						router_teardown),
		cmocka_unit_test_setup_teardown(test_router__404, router_setup, router_teardown),
		cmocka_unit_test_setup_teardown(test_router__odd_paths, router_setup,
						router_teardown),
		cmocka_unit_test(test_router__segment_limit),
		cmocka_unit_test(test_router__bad_patterns),
		cmocka_unit_test_setup_teardown(test_router__family_longest_prefix, router_setup,
						router_teardown),
		cmocka_unit_test(test_router__family_order_does_not_matter),
		cmocka_unit_test(test_router__empty_router),
		cmocka_unit_test(test_router__many_routes),
		cmocka_unit_test(test_router__precedence_is_order_of_addition),
		cmocka_unit_test(test_router__many_overlapping_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
