/* test_token_api.c - bearer tokens against a real ringerd.
 *
 * Customers and tokens are made with `ringer customer` and `ringer token`,
 * then the token-management API (/api/v1/tokens) is driven with them. The
 * server's clock starts at 2031-01-01, so a token `ringer` made to expire in
 * 2030 is expired there. Errors are SoaResponse JSON (teliport.yaml).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

#define CLOCK "2031-01-01T00:00:00Z"

struct tok {
	char secret[64];
	long id;
};

struct world {
	char root[256];
	char data[HARNESS_PATH_MAX];
	struct harness_server srv;
	struct tok mgr, reader, expired, revoked, globex, slow, fenced;
	int runs;
};

static struct world W;

/* ---- helpers ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* Run ringer with its output in a file of its own; the output goes to out. */
static int ringer_out(const char *const *args, char *out, size_t outlen)
{
	char path[HARNESS_PATH_MAX];
	size_t len = 0;
	char *text;
	int rc;

	snprintf(path, sizeof(path), "%s/ringer-%d.out", W.root, W.runs++);
	rc = harness_ringer(path, W.data, args);
	text = slurp(path, &len);
	snprintf(out, outlen, "%s", text ? text : "");
	free(text);
	return rc;
}

/* Pull "token N ..." and the rng_ line out of `ringer token create|regenerate` output. */
static int parse_made(const char *out, struct tok *t)
{
	const char *s = strstr(out, "rng_");
	const char *by = strstr(out, "replaced by token ");

	if (s == NULL || strspn(s + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					"0123456789-_") != 43)
		return -1;
	snprintf(t->secret, sizeof(t->secret), "%.47s", s);
	if (by)
		t->id = strtol(by + strlen("replaced by token "), NULL, 10);
	else if (sscanf(out, "token %ld", &t->id) != 1)
		return -1;
	return 0;
}

static int make_token(struct tok *t, const char *customer, const char *scopes,
		      const char *spids, const char *extra_k, const char *extra_v)
{
	const char *args[] = { "token", "create", "--customer", customer, "--scopes", scopes,
			       "--spids", spids, "--name", "made by test", extra_k, extra_v,
			       NULL };
	char out[1024];

	if (ringer_out(args, out, sizeof(out)) != 0 || parse_made(out, t) != 0) {
		printf("token create failed: %s\n", out);
		return -1;
	}
	return 0;
}

static int make_customer(const char *name, const char *rate)
{
	const char *args[] = { "customer", "create", name, "--rate", rate, NULL };
	char out[512];

	return ringer_out(args, out, sizeof(out));
}

/* One request with a bearer token (NULL = none); JSON bodies. */
static void call(const char *method, const char *path, const char *secret, const char *body,
		 struct harness_resp *resp)
{
	char auth[128];
	const char *headers[] = { auth, "Content-Type: application/json", NULL };
	struct harness_req req = { .method = method, .path = path, .headers = headers,
				   .body = body, .body_len = body ? strlen(body) : 0 };

	if (secret)
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", secret);
	else
		snprintf(auth, sizeof(auth), "X-None: 1");
	assert_int_equal(harness_request(&W.srv, &req, resp), 0);
}

/* Check a SoaResponse error and return its parsed body (caller decrefs). */
static json_t *expect_error(const struct harness_resp *r, long status, const char *code)
{
	json_error_t je;
	json_t *j = json_loads(r->body, 0, &je);

	if (r->status != status)
		printf("status %ld, body %s\n", r->status, r->body);
	assert_int_equal(r->status, status);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "ERROR");
	assert_string_equal(json_string_value(json_object_get(j, "errorCode")), code);
	assert_non_null(json_string_value(json_object_get(j, "message")));
	assert_non_null(strstr(json_string_value(json_object_get(j, "timestamp")), "2031-01-01T"));
	assert_non_null(strstr(r->ctype, "application/json"));
	return j;
}

static json_t *expect_ok(const struct harness_resp *r, long status)
{
	json_error_t je;
	json_t *j = json_loads(r->body, 0, &je);

	if (r->status != status)
		printf("status %ld, body %s\n", r->status, r->body);
	assert_int_equal(r->status, status);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "status")), "SUCCESS");
	assert_non_null(json_object_get(j, "data"));
	return j;
}

/* A token made through the API: secret and id from the 201 answer. */
static void api_make(const char *by, const char *body, struct tok *out)
{
	struct harness_resp r;
	json_t *j, *d;

	call("POST", "/api/v1/tokens", by, body, &r);
	j = expect_ok(&r, 201);
	d = json_object_get(j, "data");
	snprintf(out->secret, sizeof(out->secret), "%s",
		 json_string_value(json_object_get(d, "token")));
	out->id = (long)json_integer_value(json_object_get(d, "id"));
	assert_memory_equal(out->secret, "rng_", 4);
	assert_int_equal(strlen(out->secret), 47);
	json_decref(j);
	harness_resp_release(&r);
}

static long status_of(const char *method, const char *path, const char *secret)
{
	struct harness_resp r;
	long s;

	call(method, path, secret, NULL, &r);
	s = r.status;
	harness_resp_release(&r);
	return s;
}

/* ---- the world ---- */

static int world_setup(void **state)
{
	const char *env[] = { "RINGER_CLOCK_START=" CLOCK, NULL };
	const char *revoke[] = { "token", "revoke", NULL, NULL };
	char out[512], id[32];

	if (harness_dir_new(W.root, sizeof(W.root)) != 0)
		return -1;
	snprintf(W.data, sizeof(W.data), "%s/data", W.root);
	if (mkdir(W.data, 0750) != 0 || make_customer("acme", "10000") != 0 ||
	    make_customer("globex", "10000") != 0 || make_customer("slowco", "3") != 0)
		return -1;
	if (make_token(&W.mgr, "acme", "soa:read,soa:write,tokens:manage", "AB12,CD34", NULL,
		       NULL) ||
	    make_token(&W.reader, "acme", "soa:read", "AB12", NULL, NULL) ||
	    make_token(&W.expired, "acme", "tokens:manage", "AB12", "--expires",
		       "2030-01-01T00:00:00Z") ||
	    make_token(&W.revoked, "acme", "tokens:manage", "AB12", NULL, NULL) ||
	    make_token(&W.globex, "globex", "tokens:manage,soa:read", "GX01", NULL, NULL) ||
	    make_token(&W.slow, "slowco", "tokens:manage", "SL01", NULL, NULL) ||
	    make_token(&W.fenced, "acme", "tokens:manage", "AB12", "--allow", "10.0.0.0/8"))
		return -1;
	snprintf(id, sizeof(id), "%ld", W.revoked.id);
	revoke[2] = id;
	if (ringer_out(revoke, out, sizeof(out)) != 0 || strstr(out, "revoked") == NULL)
		return -1;
	return harness_server_start(&W.srv, W.root, "ringerd", W.data, env);
}

static int world_teardown(void **state)
{
	/* A clean exit also means no sanitizer report (those exit non-zero). */
	int rc = W.srv.pid ? harness_server_stop(&W.srv, 10000) : 0;

	if (rc != 0)
		harness_log_print("ringerd", W.srv.log_path, 8000);
	harness_dir_remove(W.root);
	return rc == 0 ? 0 : -1;
}

/* ---- tests ---- */

static void test_token_api__list_shows_own_tokens_without_secrets(void **state)
{
	struct harness_resp r;
	json_t *j, *arr, *e;
	size_t i, live = 0;

	call("GET", "/api/v1/tokens", W.mgr.secret, NULL, &r);
	j = expect_ok(&r, 200);
	arr = json_object_get(json_object_get(j, "data"), "tokens");
	assert_true(json_array_size(arr) >= 5);
	json_array_foreach(arr, i, e) {
		assert_string_equal(json_string_value(json_object_get(e, "customer")), "acme");
		assert_null(json_object_get(e, "token"));
		assert_null(json_object_get(e, "hash"));
		live += json_is_null(json_object_get(e, "revoked"));
	}
	assert_true(live < json_array_size(arr)); /* the revoked one is listed as such */
	assert_null(strstr(r.body, "rng_"));
	assert_null(strstr(r.body, "GX01"));
	json_decref(j);
	harness_resp_release(&r);
}

static void test_token_api__bad_tokens_401(void **state)
{
	char hdr[128];
	struct harness_resp r;
	json_t *j;

	call("GET", "/api/v1/tokens", NULL, NULL, &r);
	json_decref(expect_error(&r, 401, "UNAUTHORIZED"));
	assert_int_equal(harness_resp_header(&r, "WWW-Authenticate", hdr, sizeof(hdr)), 1);
	assert_non_null(strstr(hdr, "Bearer"));
	harness_resp_release(&r);

	call("GET", "/api/v1/tokens", "rng_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, &r);
	json_decref(expect_error(&r, 401, "UNAUTHORIZED"));
	assert_int_equal(harness_resp_header(&r, "WWW-Authenticate", hdr, sizeof(hdr)), 1);
	assert_non_null(strstr(hdr, "invalid_token"));
	harness_resp_release(&r);

	call("GET", "/api/v1/tokens", "not-a-token", NULL, &r);
	json_decref(expect_error(&r, 401, "UNAUTHORIZED"));
	harness_resp_release(&r);

	call("GET", "/api/v1/tokens", W.expired.secret, NULL, &r);
	j = expect_error(&r, 401, "UNAUTHORIZED");
	assert_string_equal(json_string_value(json_object_get(j, "message")), "Token has expired");
	json_decref(j);
	harness_resp_release(&r);

	call("GET", "/api/v1/tokens", W.revoked.secret, NULL, &r);
	json_decref(expect_error(&r, 401, "UNAUTHORIZED"));
	harness_resp_release(&r);
}

static void test_token_api__scope_and_address_403(void **state)
{
	struct harness_resp r;
	json_t *j;

	call("GET", "/api/v1/tokens", W.reader.secret, NULL, &r);
	j = expect_error(&r, 403, "FORBIDDEN");
	assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "tokens:manage"));
	json_decref(j);
	harness_resp_release(&r);

	call("GET", "/api/v1/tokens", W.fenced.secret, NULL, &r); /* 127.0.0.1 is not 10/8 */
	json_decref(expect_error(&r, 403, "FORBIDDEN"));
	harness_resp_release(&r);
}

static void test_token_api__other_customers_ids_404(void **state)
{
	char path[64];
	struct harness_resp r;

	snprintf(path, sizeof(path), "/api/v1/tokens/%ld", W.mgr.id);
	call("DELETE", path, W.globex.secret, NULL, &r);
	json_decref(expect_error(&r, 404, "NOT_FOUND"));
	harness_resp_release(&r);
	assert_int_equal(status_of("GET", path, W.globex.secret), 404);
	snprintf(path, sizeof(path), "/api/v1/tokens/%ld/regenerate", W.mgr.id);
	assert_int_equal(status_of("POST", path, W.globex.secret), 404);
	assert_int_equal(status_of("GET", "/api/v1/tokens/999999", W.mgr.secret), 404);
	assert_int_equal(status_of("GET", "/api/v1/tokens/abc", W.mgr.secret), 404);
	assert_int_equal(status_of("DELETE", "/api/v1/tokens/0", W.mgr.secret), 404);
	/* Nothing changed: the token globex went for still works. */
	assert_int_equal(status_of("GET", "/api/v1/tokens", W.mgr.secret), 200);
	snprintf(path, sizeof(path), "/api/v1/tokens/%ld", W.mgr.id);
	assert_int_equal(status_of("GET", path, W.mgr.secret), 200);
}

static void test_token_api__create_never_escalates(void **state)
{
	struct harness_resp r;
	struct tok child;

	api_make(W.mgr.secret, "{\"name\":\"child\",\"scopes\":[\"soa:read\"],"
		 "\"spids\":[\"AB12\"],\"ttl\":3600}", &child);
	/* The child works, within its scopes only. */
	assert_int_equal(status_of("GET", "/api/v1/tokens", child.secret), 403);

	call("POST", "/api/v1/tokens", W.mgr.secret,
	     "{\"scopes\":[\"soa:admin\"],\"spids\":[\"AB12\"]}", &r);
	json_decref(expect_error(&r, 403, "FORBIDDEN"));
	harness_resp_release(&r);
	call("POST", "/api/v1/tokens", W.mgr.secret,
	     "{\"scopes\":[\"soa:read\"],\"spids\":[\"GX01\"]}", &r);
	json_decref(expect_error(&r, 403, "FORBIDDEN"));
	harness_resp_release(&r);
	call("POST", "/api/v1/tokens", W.mgr.secret, "{\"scopes\":[\"soa:read\"],"
	     "\"spids\":[\"TOOLONG\"]}", &r);
	json_decref(expect_error(&r, 400, "INVALID_REQUEST"));
	harness_resp_release(&r);
	call("POST", "/api/v1/tokens", W.mgr.secret, "{\"scopes\":", &r);
	json_decref(expect_error(&r, 400, "INVALID_REQUEST"));
	harness_resp_release(&r);
	call("POST", "/api/v1/tokens", W.mgr.secret, "{\"scopes\":[\"soa:read\"],"
	     "\"spids\":[\"AB12\"],\"expires\":\"2030-06-01T00:00:00Z\"}", &r);
	json_decref(expect_error(&r, 400, "INVALID_REQUEST")); /* already past on this clock */
	harness_resp_release(&r);
}

static void test_token_api__revoke(void **state)
{
	char path[64];
	struct harness_resp r;
	struct tok child;

	api_make(W.mgr.secret, "{\"scopes\":\"tokens:manage\",\"spids\":\"AB12\"}", &child);
	assert_int_equal(status_of("GET", "/api/v1/tokens", child.secret), 200);
	snprintf(path, sizeof(path), "/api/v1/tokens/%ld", child.id);
	call("DELETE", path, W.mgr.secret, NULL, &r);
	json_decref(expect_ok(&r, 200));
	harness_resp_release(&r);
	assert_int_equal(status_of("GET", "/api/v1/tokens", child.secret), 401);
	assert_int_equal(status_of("DELETE", path, W.mgr.secret), 404);
}

static void test_token_api__regenerate(void **state)
{
	char path[64];
	struct harness_resp r;
	struct tok child, narrow;
	json_t *j, *d;

	api_make(W.mgr.secret, "{\"scopes\":[\"tokens:manage\",\"soa:read\"],"
		 "\"spids\":[\"AB12\"]}", &child);
	snprintf(path, sizeof(path), "/api/v1/tokens/%ld/regenerate", child.id);
	call("POST", path, W.mgr.secret, NULL, &r);
	j = expect_ok(&r, 201);
	d = json_object_get(j, "data");
	assert_memory_equal(json_string_value(json_object_get(d, "token")), "rng_", 4);
	assert_string_not_equal(json_string_value(json_object_get(d, "token")), child.secret);
	assert_int_equal(json_array_size(json_object_get(d, "scopes")), 2);
	assert_int_equal(status_of("GET", "/api/v1/tokens", child.secret), 401);
	assert_int_equal(status_of("GET", "/api/v1/tokens",
				   json_string_value(json_object_get(d, "token"))), 200);
	json_decref(j);
	harness_resp_release(&r);
	/* A narrower manager may not take a new secret for a broader token. */
	api_make(W.mgr.secret, "{\"scopes\":[\"tokens:manage\"],\"spids\":[\"AB12\"]}", &narrow);
	snprintf(path, sizeof(path), "/api/v1/tokens/%ld/regenerate", W.mgr.id);
	call("POST", path, narrow.secret, NULL, &r);
	json_decref(expect_error(&r, 403, "FORBIDDEN"));
	harness_resp_release(&r);
	assert_int_equal(status_of("GET", "/api/v1/tokens", W.mgr.secret), 200);
}

static void test_token_api__rate_limit_429(void **state)
{
	char retry[32];
	struct harness_resp r;
	long wait;

	for (int i = 0; i < 3; i++)
		assert_int_equal(status_of("GET", "/api/v1/tokens", W.slow.secret), 200);
	call("GET", "/api/v1/tokens", W.slow.secret, NULL, &r);
	json_decref(expect_error(&r, 429, "RATE_LIMITED"));
	assert_int_equal(harness_resp_header(&r, "Retry-After", retry, sizeof(retry)), 1);
	wait = strtol(retry, NULL, 10);
	assert_true(wait >= 1 && wait <= 20); /* 3 a minute: one every 20 s */
	harness_resp_release(&r);
	/* Other customers are not held back. */
	assert_int_equal(status_of("GET", "/api/v1/tokens", W.globex.secret), 200);
}

static void test_token_api__cli_regenerate_and_list(void **state)
{
	const char *list[] = { "token", "list", "--customer", "acme", NULL };
	const char *regen[] = { "token", "regenerate", NULL, NULL };
	char out[8192], id[32];
	struct tok fresh;

	assert_int_equal(ringer_out(list, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "revoked"));
	assert_non_null(strstr(out, "2030-01-01T00:00:00Z")); /* `ringer` reads the real clock */
	assert_null(strstr(out, "rng_"));
	assert_null(strstr(out, "globex"));
	snprintf(id, sizeof(id), "%ld", W.reader.id);
	regen[2] = id;
	assert_int_equal(ringer_out(regen, out, sizeof(out)), 0);
	assert_int_equal(parse_made(out, &fresh), 0);
	assert_true(fresh.id > W.reader.id);
	/* Both answer 403 (no tokens:manage) when live; the old one is now unknown. */
	assert_int_equal(status_of("GET", "/api/v1/tokens", fresh.secret), 403);
	assert_int_equal(status_of("GET", "/api/v1/tokens", W.reader.secret), 401);
	assert_int_equal(ringer_out(regen, out, sizeof(out)), 1);
}

static void test_token_api__secrets_not_in_database(void **state)
{
	const struct tok *all[] = { &W.mgr, &W.reader, &W.globex, &W.slow, &W.fenced };
	const char *files[] = { "ringer.db", "ringer.db-wal" };
	char path[HARNESS_PATH_MAX + 32];
	int read = 0;
	bool seen = false;

	for (size_t f = 0; f < 2; f++) {
		size_t len = 0;
		char *buf;

		snprintf(path, sizeof(path), "%s/%s", W.data, files[f]);
		buf = slurp(path, &len);
		if (buf == NULL)
			continue;
		read++;
		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			assert_null(memmem(buf, len, all[i]->secret + 4, 43));
		seen |= memmem(buf, len, "tokens:manage", 13) != NULL;
		free(buf);
	}
	assert_true(read > 0);
	assert_true(seen); /* the files searched do hold the tokens */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_api__list_shows_own_tokens_without_secrets),
		cmocka_unit_test(test_token_api__bad_tokens_401),
		cmocka_unit_test(test_token_api__scope_and_address_403),
		cmocka_unit_test(test_token_api__other_customers_ids_404),
		cmocka_unit_test(test_token_api__create_never_escalates),
		cmocka_unit_test(test_token_api__revoke),
		cmocka_unit_test(test_token_api__regenerate),
		cmocka_unit_test(test_token_api__rate_limit_429),
		cmocka_unit_test(test_token_api__cli_regenerate_and_list),
		cmocka_unit_test(test_token_api__secrets_not_in_database),
	};

	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
