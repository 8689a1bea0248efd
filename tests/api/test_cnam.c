/* test_cnam.c - CNAM from the network: ringerd, the cnamsim simulator and Redis, for real.
 *
 * One world for the group: local CNAM data and one ported number imported
 * with `ringer`, a cnamsim serving the upstream names (it demands an auth
 * header, so every dip also proves the header is sent), and a main ringerd
 * whose routes send 720 numbers to the simulator, keep 303 local, and send
 * the ported number's CNAM DPC to the simulator by its E.164 form. The
 * simulator's request counter tells how many dips ringerd made. Tests that
 * need other settings (a 1 s TTL, Redis) start their own ringerd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define CT_JSON "application/json"
#define AUTH "Authorization: Bearer sim-t0k3n"
#define TIMEOUT_MS 800
#define CONCURRENT 1000
#define DOWN_BODY                                                       \
	"{\"status\":\"error\",\"error\":\"CNAM network not responding\","  \
	"\"error_code\":\"SERVER_ERROR\"}"
#define NOT_FOUND_BODY \
	"{\"status\":\"error\",\"error\":\"Phone number not found\",\"error_code\":\"NOT_FOUND\"}"

struct world {
	char root[HARNESS_PATH_MAX];
	char data[HARNESS_PATH_MAX];
	char log[HARNESS_PATH_MAX];
	struct harness_server sim; /* pid and port of cnamsim; the harness talks to it too */
	struct harness_server main;
	char url_tn[128], url_e164[128];
};

static struct world W;

static const char fx_cocode[] =
	"\"NPA\",\"CO Code (NXX)\",\"Status\",\"Exchange Area\",\"Province\",\"Company\","
	"\"OCN\",\"Remarks\"\n"
	"303,555,\"In Service\",\"Denver\",\"CO\",\"Test Telco One\",\"1234\",\n"
	"303,557,\"In Service\",\"Denver\",\"CO\",\"Pool Holder Inc.\",\"5678\",\n";

/* One SV: 303-557-1500 ported, its CNAM DPC 001-002-003 (field 11), SSN 0. */
static const char fx_ported[] =
	"1002|3035571500|7205550002|PRT2|20240101120000|||||||001002003|0|||||0\r";

static const char fx_cnam[] = "tn,name,presentation\n3035551000,ACME CORP,allowed\n";

static const char fx_sim[] =
	"tn,name,presentation\n"
	"7205550100,SIM NAME ONE,allowed\n"
	"7205550102,  A VERY LONG\tUPSTREAM NAME INDEED\n"
	"7205550103,SECRET PERSON,restricted\n"
	"7205550104,CONCURRENT NAME\n"
	"7205550105,OUTAGE CACHED\n"
	"7205550106,NEVER ASKED OK\n"
	"7205550107,STALE NAME\n"
	"7205550108,SHARED NAME\n"
	"7205550109,REDIS DOWN OK\n"
	"7205550110,PURGE ME\n"
	"3035571500,PORTED NAME\n"
	"3035551999,WRONG ROUTE\n";

/* ---- processes ---- */

static int join(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* Fork and exec argv with output to log; the child dies with us. */
static pid_t spawn(char *const *argv, const char *log)
{
	pid_t parent = getpid(), pid;
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (out < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(out, 1);
		dup2(out, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(out);
	return pid;
}

static int read_port(const char *path, unsigned *port)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (f == NULL)
		return -1;
	ok = fscanf(f, "%u", port) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

static int sim_start(void)
{
	char file[HARNESS_PATH_MAX], port_path[HARNESS_PATH_MAX];
	const char *prog = getenv("CNAMSIM");
	char *argv[] = { (char *)prog, "-f", file, "-p", "0", "--port-file", port_path,
			 "--require-header", AUTH, NULL };
	long long t0 = harness_now_ms();

	if (prog == NULL || harness_file_write(W.root, "sim.csv", fx_sim, file, sizeof(file)) ||
	    join(port_path, sizeof(port_path), W.root, "sim.port") ||
	    join(W.sim.log_path, sizeof(W.sim.log_path), W.root, "cnamsim.log"))
		return -1;
	snprintf(W.sim.name, sizeof(W.sim.name), "cnamsim");
	W.sim.pid = spawn(argv, W.sim.log_path);
	while (W.sim.pid > 0 && read_port(port_path, &W.sim.port) != 0) {
		if (harness_now_ms() - t0 > 10000 || !harness_server_alive(&W.sim)) {
			harness_log_print("cnamsim", W.sim.log_path, 4096);
			return -1;
		}
		harness_sleep_ms(10);
	}
	snprintf(W.url_tn, sizeof(W.url_tn), "http://127.0.0.1:%u/cnam/{tn}", W.sim.port);
	snprintf(W.url_e164, sizeof(W.url_e164), "http://127.0.0.1:%u/cnam/{e164}", W.sim.port);
	return W.sim.pid > 0 ? 0 : -1;
}

/* ---- the simulator's counters and switches ---- */

static long sim_count(const char *field)
{
	struct harness_resp r;
	json_t *j;
	long n = -1;

	if (harness_get(&W.sim, "/stats", &r) != 0)
		fail_msg("cnamsim does not answer");
	j = json_loadb(r.body, r.len, 0, NULL);
	if (j && json_is_integer(json_object_get(j, field)))
		n = (long)json_integer_value(json_object_get(j, field));
	json_decref(j);
	harness_resp_release(&r);
	if (n < 0)
		fail_msg("cnamsim stats have no %s", field);
	return n;
}

static long sim_requests(void)
{
	return sim_count("requests");
}

static void sim_control(const char *query)
{
	char path[256];
	struct harness_req req = { .method = "POST", .path = path, .body = "", .body_len = 0 };
	struct harness_resp r;

	snprintf(path, sizeof(path), "/control?%s", query);
	if (harness_request(&W.sim, &req, &r) != 0 || r.status != 200)
		fail_msg("cnamsim control %s failed", query);
	harness_resp_release(&r);
}

/* ---- ringerd ---- */

static int import_text(const char *kind, const char *name, const char *text)
{
	char path[HARNESS_PATH_MAX];
	const char *args[] = { "import", kind, path, NULL };

	if (harness_file_write(W.root, name, text, path, sizeof(path)) != 0 ||
	    harness_ringer(W.log, W.data, args) != 0) {
		harness_log_print("ringer", W.log, 4096);
		return -1;
	}
	return 0;
}

/* Start a ringerd on the world's data with the simulator as upstream, plus extra settings. */
static int start_ringerd(struct harness_server *s, const char *name, const char *const *extra)
{
	char url1[160], url2[160];
	const char *env[24] = {
		url1, url2, "RINGER_CNAM_NAME=sim", "RINGER_CNAM_UPSTREAM2_NAME=sim164",
		"RINGER_CNAM_PRESENTATION_FIELD=presentation",
		"RINGER_CNAM_UPSTREAM2_PRESENTATION_FIELD=presentation",
		"RINGER_CNAM_AUTH_HEADER=" AUTH, "RINGER_CNAM_UPSTREAM2_AUTH_HEADER=" AUTH,
		"RINGER_CNAM_ROUTES=720=sim, 303=local, dpc:001002003=sim164, *=local",
		"RINGER_CNAM_TIMEOUT_MS=800", "RINGER_SERVER_THREADS=4",
		"NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1",
	};
	size_t n = 13;

	snprintf(url1, sizeof(url1), "RINGER_CNAM_URL=%s", W.url_tn);
	snprintf(url2, sizeof(url2), "RINGER_CNAM_UPSTREAM2_URL=%s", W.url_e164);
	for (size_t i = 0; extra && extra[i] && n < 23; i++)
		env[n++] = extra[i];
	env[n] = NULL;
	return harness_server_start(s, W.root, name, W.data, env);
}

static void stop_ok(struct harness_server *s)
{
	int rc = harness_server_stop(s, 10000);

	if (rc != 0)
		harness_log_print(s->name, s->log_path, 8192);
	assert_int_equal(rc, 0);
}

static int world_setup(void **state)
{
	const char *allow[] = { "allow", "add", "127.0.0.1", NULL };

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    harness_dir_new(W.root, sizeof(W.root)) != 0 ||
	    join(W.data, sizeof(W.data), W.root, "data") != 0 ||
	    join(W.log, sizeof(W.log), W.root, "ringer.log") != 0 || mkdir(W.data, 0750) != 0)
		return -1;
	if (import_text("cocode", "cocode.csv", fx_cocode) != 0 ||
	    import_text("ported", "ported.bdd", fx_ported) != 0 ||
	    import_text("cnam", "cnam.csv", fx_cnam) != 0 ||
	    harness_ringer(W.log, W.data, allow) != 0 || sim_start() != 0)
		return -1;
	return start_ringerd(&W.main, "ringerd-main", NULL);
}

static int world_teardown(void **state)
{
	int rc = W.main.port ? harness_server_stop(&W.main, 10000) : 0;

	if (rc != 0)
		harness_log_print(W.main.name, W.main.log_path, 8192);
	if (W.sim.pid > 0 && harness_server_stop(&W.sim, 5000) != 0)
		harness_log_print("cnamsim", W.sim.log_path, 4096);
	if (W.root[0])
		harness_dir_remove(W.root);
	curl_global_cleanup();
	return rc == 0 ? 0 : -1;
}

/* ---- checking answers ---- */

static void expect_get(const struct harness_server *s, const char *path, long status,
		       const char *body)
{
	struct harness_resp r;
	bool ok;

	if (harness_get(s, path, &r) != 0) {
		harness_log_print(s->name, s->log_path, 8192);
		fail_msg("no answer to %s", path);
	}
	ok = r.status == status && strcmp(r.ctype, CT_JSON) == 0 && strcmp(r.body, body) == 0;
	if (!ok) {
		printf("GET %s\n  want: %ld %s\n  got:  %ld [%s] %s\n", path, status, body,
		       r.status, r.ctype, r.body);
		harness_log_print(s->name, s->log_path, 8192);
	}
	harness_resp_release(&r);
	if (!ok)
		fail_msg("unexpected answer to %s", path);
}

/* The contract path's success body. */
static void expect_name(const struct harness_server *s, const char *tn, const char *name,
			bool hit)
{
	char path[64], body[256];

	snprintf(path, sizeof(path), "/v1/telique/cnam/%s", tn);
	snprintf(body, sizeof(body),
		 "{\"phoneNumber\":\"%s\",\"name\":\"%s\",\"status\":\"success\",\"cacheHit\":%s}",
		 tn, name, hit ? "true" : "false");
	expect_get(s, path, 200, body);
}

/* ---- the tests ---- */

static void test_cnam__dip_then_cache_hit(void **state)
{
	long before = sim_requests();

	expect_name(&W.main, "7205550100", "SIM NAME ONE", false);
	assert_int_equal(sim_requests(), before + 1);
	expect_name(&W.main, "7205550100", "SIM NAME ONE", true);
	expect_name(&W.main, "7205550100", "SIM NAME ONE", true);
	assert_int_equal(sim_requests(), before + 1);
}

static void test_cnam__post_form_uses_the_cache(void **state)
{
	static const char *const form[] = { "Content-Type: application/x-www-form-urlencoded",
					    NULL };
	struct harness_req req = { .method = "POST", .path = "/v1/telique/cnam",
				   .headers = form, .body = "number=7205550100",
				   .body_len = 17 };
	struct harness_resp r;
	long before = sim_requests();

	expect_name(&W.main, "7205550100", "SIM NAME ONE", true);
	assert_int_equal(harness_request(&W.main, &req, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"phoneNumber\":\"7205550100\",\"name\":\"SIM NAME ONE\","
			    "\"status\":\"success\",\"cacheHit\":true}");
	harness_resp_release(&r);
	assert_int_equal(sim_requests(), before);
}

static void test_cnam__name_rules(void **state)
{
	/* Whitespace folded, then cut to 15 characters. */
	expect_name(&W.main, "7205550102", "A VERY LONG UPS", false);
	expect_get(&W.main, "/v1/cnam/7205550103", 200,
		   "{\"phoneNumber\":\"7205550103\",\"calling_name\":\"PRIVATE\","
		   "\"calling_name_status\":\"available\","
		   "\"presentation_indicator\":\"restricted\",\"status\":\"success\","
		   "\"cacheHit\":false}");
	expect_get(&W.main, "/v1/cnam/7205550103", 200,
		   "{\"phoneNumber\":\"7205550103\",\"calling_name\":\"PRIVATE\","
		   "\"calling_name_status\":\"available\","
		   "\"presentation_indicator\":\"restricted\",\"status\":\"success\","
		   "\"cacheHit\":true}");
	expect_name(&W.main, "7205550103", "PRIVATE", true);
}

static void test_cnam__no_name_is_cached_too(void **state)
{
	long before = sim_requests();

	expect_get(&W.main, "/v1/telique/cnam/7205559999", 404, NOT_FOUND_BODY);
	expect_get(&W.main, "/v1/telique/cnam/7205559999", 404, NOT_FOUND_BODY);
	expect_get(&W.main, "/v1/cnam/7205559999", 200,
		   "{\"phoneNumber\":\"7205559999\",\"calling_name\":null,"
		   "\"calling_name_status\":\"unavailable\",\"presentation_indicator\":\"allowed\","
		   "\"status\":\"success\",\"cacheHit\":true}");
	assert_int_equal(sim_requests(), before + 1);
	assert_int_equal(sim_count("not_found") >= 1, 1);
}

static void test_cnam__local_data_and_routes(void **state)
{
	long before = sim_requests();

	/* Our own data answers without a dip, whatever the routes say. */
	expect_name(&W.main, "3035551000", "ACME CORP", true);
	/* 303 routes to local data: no name, no dip (the simulator would have one). */
	expect_get(&W.main, "/v1/telique/cnam/3035551999", 404, NOT_FOUND_BODY);
	assert_int_equal(sim_requests(), before);
	/* Ported out of 303: the SV's CNAM DPC routes it to the network (10-digit GTT). */
	expect_name(&W.main, "3035571500", "PORTED NAME", false);
	assert_int_equal(sim_requests(), before + 1);
	expect_name(&W.main, "3035571500", "PORTED NAME", true);
}

/* ---- 1,000 concurrent misses ---- */

static size_t sink(char *p, size_t size, size_t n, void *user)
{
	struct harness_resp *r = user;
	size_t len = size * n;
	char *b = realloc(r->body, r->len + len + 1);

	if (b == NULL)
		return 0;
	memcpy(b + r->len, p, len);
	r->len += len;
	b[r->len] = '\0';
	r->body = b;
	return len;
}

/*
 * Send n GETs of path at once, each on its own connection. Returns how many
 * answered 200 with body a or body b.
 */
static int fire_concurrently(const char *path, int n, const char *a, const char *b)
{
	CURLM *m = curl_multi_init();
	CURL **h = calloc((size_t)n, sizeof(*h));
	struct harness_resp *r = calloc((size_t)n, sizeof(*r));
	char url[128];
	int running = 1, good = 0;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", W.main.port, path);
	assert_non_null(m);
	assert_non_null(h);
	assert_non_null(r);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)n + 16);
	for (int i = 0; i < n; i++) {
		h[i] = curl_easy_init();
		curl_easy_setopt(h[i], CURLOPT_URL, url);
		curl_easy_setopt(h[i], CURLOPT_NOPROXY, "*");
		curl_easy_setopt(h[i], CURLOPT_TIMEOUT_MS, 60000L);
		curl_easy_setopt(h[i], CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(h[i], CURLOPT_WRITEFUNCTION, sink);
		curl_easy_setopt(h[i], CURLOPT_WRITEDATA, &r[i]);
		curl_multi_add_handle(m, h[i]);
	}
	while (running) {
		curl_multi_perform(m, &running);
		if (running)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	for (int i = 0; i < n; i++) {
		curl_easy_getinfo(h[i], CURLINFO_RESPONSE_CODE, &r[i].status);
		if (r[i].status == 200 && r[i].body &&
		    (strcmp(r[i].body, a) == 0 || strcmp(r[i].body, b) == 0))
			good++;
		else if (i - good < 5)
			printf("request %d: %ld %s\n", i, r[i].status, r[i].body ? r[i].body : "");
		curl_multi_remove_handle(m, h[i]);
		curl_easy_cleanup(h[i]);
		free(r[i].body);
	}
	curl_multi_cleanup(m);
	free(h);
	free(r);
	return good;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void test_cnam__thousand_concurrent_misses_one_dip(void **state)
{
	static const char body[] = "{\"phoneNumber\":\"7205550104\",\"name\":\"CONCURRENT NAME\","
				   "\"status\":\"success\",\"cacheHit\":false}";
	static const char hit[] = "{\"phoneNumber\":\"7205550104\",\"name\":\"CONCURRENT NAME\","
				  "\"status\":\"success\",\"cacheHit\":true}";
	long before;
	int good;

	raise_fd_limit();
	/* The dip takes long enough for every request to arrive while it is in flight. */
	sim_control("latency_ms=250"); /* well inside the 800 ms timeout on a loaded machine */
	before = sim_requests();
	/* Requests that arrived after the answer was cached say so; the rest waited on the dip. */
	good = fire_concurrently("/v1/telique/cnam/7205550104", CONCURRENT, body, hit);
	sim_control("latency_ms=0");
	assert_int_equal(good, CONCURRENT);
	assert_int_equal(sim_requests(), before + 1);
	expect_name(&W.main, "7205550104", "CONCURRENT NAME", true);
	assert_int_equal(sim_requests(), before + 1);
}

/* ---- the network down ---- */

static long elapsed_get(const char *path, long status, const char *body)
{
	long long t0 = harness_now_ms();

	expect_get(&W.main, path, status, body);
	return (long)(harness_now_ms() - t0);
}

static void test_cnam__outage_cached_answer_and_bounded_error(void **state)
{
	long ms;

	expect_name(&W.main, "7205550105", "OUTAGE CACHED", false);
	sim_control("outage=on&mode=hang");
	expect_name(&W.main, "7205550105", "OUTAGE CACHED", true);
	/* A hanging network: the error comes once the timeout has passed, not later. */
	ms = elapsed_get("/v1/telique/cnam/7205550106", 500, DOWN_BODY);
	printf("hanging upstream answered the error after %ld ms (timeout %d ms)\n", ms,
	       TIMEOUT_MS);
	assert_true(ms >= TIMEOUT_MS - 50);
	assert_true(ms < TIMEOUT_MS + 1500);
	ms = elapsed_get("/v1/cnam/7205550106", 500, DOWN_BODY);
	assert_true(ms < TIMEOUT_MS + 1500);
	/* A network that refuses: the error comes at once. */
	sim_control("mode=error");
	ms = elapsed_get("/v1/telique/cnam/7205550106", 500, DOWN_BODY);
	assert_true(ms < TIMEOUT_MS);
	sim_control("outage=off");
	expect_name(&W.main, "7205550106", "NEVER ASKED OK", false);
}

/* A ringerd with a 1 s TTL on a chosen clock: names expire, and stand in when the network fails. */
static void test_cnam__ttl_expiry_and_stale_answers(void **state)
{
	static const char *const env[] = { "RINGER_CNAM_TTL=1",
					   "RINGER_CLOCK_START=2024-06-03T15:00:00Z", NULL };
	struct harness_server s;
	struct harness_resp r;
	long before;

	assert_int_equal(start_ringerd(&s, "ringerd-ttl", env), 0);
	before = sim_requests();
	expect_name(&s, "7205550107", "STALE NAME", false);
	expect_name(&s, "7205550107", "STALE NAME", true);
	harness_sleep_ms(1300);
	expect_name(&s, "7205550107", "STALE NAME", false);
	assert_int_equal(sim_requests(), before + 2);
	harness_sleep_ms(1300);
	sim_control("outage=on&mode=error");
	/* Expired and the network down: the old answer stands in (a dip was tried). */
	expect_name(&s, "7205550107", "STALE NAME", false);
	sim_control("outage=off");
	assert_int_equal(sim_requests(), before + 3);
	assert_int_equal(harness_get(&s, "/metrics", &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\nringer_cnam_stale_answers_total 1\n"));
	harness_resp_release(&r);
	stop_ok(&s);
}

/* ---- purge ---- */

static void test_cnam__purge_endpoint_and_command(void **state)
{
	struct harness_req del = { .method = "DELETE",
				   .path = "/v1/telique/cnam/cache/7205550110" };
	char url[64];
	const char *args[] = { "cnam", "purge", "--url", url, NULL };
	struct harness_resp r;

	expect_name(&W.main, "7205550110", "PURGE ME", false);
	expect_name(&W.main, "7205550110", "PURGE ME", true);
	assert_int_equal(harness_request(&W.main, &del, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\":\"success\",\"purged\":1,\"sharedPurged\":0}");
	harness_resp_release(&r);
	expect_name(&W.main, "7205550110", "PURGE ME", false);
	del.path = "/v1/telique/cnam/cache/72055";
	assert_int_equal(harness_request(&W.main, &del, &r), 0);
	assert_int_equal(r.status, 400);
	harness_resp_release(&r);
	/* `ringer cnam purge` empties the whole cache of the running server. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", W.main.port);
	assert_int_equal(harness_ringer(W.log, W.data, args), 0);
	expect_name(&W.main, "7205550110", "PURGE ME", false);
	expect_name(&W.main, "7205550100", "SIM NAME ONE", false);
}

static void test_cnam__metrics(void **state)
{
	/* Sample lines start a line: the name, a space, the value. */
	static const char *const names[] = {
		"\nringer_cnam_cache_hits_total ", "\nringer_cnam_cache_misses_total ",
		"\nringer_cnam_upstream_requests_total ", "\nringer_cnam_upstream_errors_total ",
		"\nringer_cnam_upstream_latency_seconds_count ",
		"\nringer_cnam_singleflight_waits_total ", "\nringer_cnam_failures_total ",
		"\nringer_cnam_stale_answers_total ", "\nringer_cnam_cache_entries ",
	};
	struct harness_resp r;

	expect_name(&W.main, "7205550100", "SIM NAME ONE", true);
	assert_int_equal(harness_get(&W.main, "/metrics", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *p = strstr(r.body, names[i]);

		if (p == NULL)
			fail_msg("/metrics has no %s", names[i]);
		/* Everything above has happened at least once on the main server. */
		if (strncmp(names[i], "\nringer_cnam_stale", 18) != 0 &&
		    strtol(p + strlen(names[i]), NULL, 10) < 1)
			fail_msg("%s is %s", names[i], p + strlen(names[i]));
	}
	assert_non_null(strstr(r.body, "# TYPE ringer_cnam_upstream_latency_seconds histogram\n"));
	harness_resp_release(&r);
}

/* ---- Redis shared between two nodes ---- */

static const char *redis_binary(void)
{
	static const char *const where[] = { "/usr/bin/redis-server", "/usr/local/bin/redis-server",
					     NULL };

	for (size_t i = 0; where[i]; i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

static unsigned free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	unsigned port = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static bool redis_pong(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char buf[16] = "";
	bool ok = false;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    write(fd, "PING\r\n", 6) == 6 && read(fd, buf, sizeof(buf) - 1) > 0)
		ok = strncmp(buf, "+PONG", 5) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int redis_start(struct harness_server *rs)
{
	const char *bin = redis_binary();
	char port[16];
	char *argv[] = { (char *)bin, "--port", port, "--bind", "127.0.0.1", "--save", "",
			 "--appendonly", "no", NULL };
	long long t0 = harness_now_ms();

	memset(rs, 0, sizeof(*rs));
	rs->port = free_port();
	snprintf(port, sizeof(port), "%u", rs->port);
	snprintf(rs->name, sizeof(rs->name), "redis");
	if (join(rs->log_path, sizeof(rs->log_path), W.root, "redis.log") != 0)
		return -1;
	rs->pid = spawn(argv, rs->log_path);
	while (rs->pid > 0 && !redis_pong(rs->port)) {
		if (harness_now_ms() - t0 > 10000 || !harness_server_alive(rs)) {
			harness_log_print("redis", rs->log_path, 4096);
			return -1;
		}
		harness_sleep_ms(20);
	}
	return rs->pid > 0 ? 0 : -1;
}

static void test_cnam__redis_shared_between_nodes(void **state)
{
	struct harness_server rs, a, b;
	struct harness_req del = { .method = "DELETE",
				   .path = "/v1/telique/cnam/cache/7205550108" };
	struct harness_resp r;
	char addr[64];
	const char *env[] = { addr, NULL };
	long before;

	if (redis_binary() == NULL) {
		printf("redis-server is not installed: skipping the shared cache test\n");
		skip();
	}
	assert_int_equal(redis_start(&rs), 0);
	snprintf(addr, sizeof(addr), "RINGER_CNAM_REDIS=127.0.0.1:%u", rs.port);
	assert_int_equal(start_ringerd(&a, "ringerd-a", env), 0);
	assert_int_equal(start_ringerd(&b, "ringerd-b", env), 0);
	before = sim_requests();
	expect_name(&a, "7205550108", "SHARED NAME", false);
	/* Node b finds a's dip in Redis: no dip of its own. */
	expect_name(&b, "7205550108", "SHARED NAME", true);
	assert_int_equal(sim_requests(), before + 1);
	/* A purge on a removes the shared copy too. */
	assert_int_equal(harness_request(&a, &del, &r), 0);
	assert_string_equal(r.body, "{\"status\":\"success\",\"purged\":1,\"sharedPurged\":1}");
	harness_resp_release(&r);
	expect_name(&a, "7205550108", "SHARED NAME", false);
	assert_int_equal(sim_requests(), before + 2);
	/* Redis gone: lookups go on, straight to the network. */
	assert_int_equal(harness_server_stop(&rs, 5000), 0);
	expect_name(&b, "7205550109", "REDIS DOWN OK", false);
	expect_name(&b, "7205550109", "REDIS DOWN OK", true);
	expect_name(&a, "7205550109", "REDIS DOWN OK", false);
	assert_int_equal(sim_requests(), before + 4);
	stop_ok(&a);
	stop_ok(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cnam__dip_then_cache_hit),
		cmocka_unit_test(test_cnam__post_form_uses_the_cache),
		cmocka_unit_test(test_cnam__name_rules),
		cmocka_unit_test(test_cnam__no_name_is_cached_too),
		cmocka_unit_test(test_cnam__local_data_and_routes),
		cmocka_unit_test(test_cnam__thousand_concurrent_misses_one_dip),
		cmocka_unit_test(test_cnam__outage_cached_answer_and_bounded_error),
		cmocka_unit_test(test_cnam__ttl_expiry_and_stale_answers),
		cmocka_unit_test(test_cnam__metrics),
		cmocka_unit_test(test_cnam__purge_endpoint_and_command),
		cmocka_unit_test(test_cnam__redis_shared_between_nodes),
	};

	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
