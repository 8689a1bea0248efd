/* test_soa.c - the Portability API (teliport.yaml) through whole port scenarios.
 *
 * Two carriers share one ringerd: acme (SPID 2222) wins numbers from bolt
 * (SPID 1111, the LERG holder of 303-556). A third customer, cobra (3333),
 * must never see their ports. Each scenario has a week of its own and moves
 * the clock by restarting ringerd with a later RINGER_CLOCK_START on the same
 * data directory; timers are short (60 business minutes) and the scheduler
 * runs every 200 ms; a port left in conflict is canceled after one calendar
 * day. Business hours are the default 07:00-19:00 at -05:00,
 * so "Mon 10:00" local is 15:00Z.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define ACME "2222"
#define BOLT "1111"
#define ACME_LRN "3035550001"
#define WAIT_MS 5000

struct world {
	char root[256];
	char data[HARNESS_PATH_MAX];
	char ringer_log[HARNESS_PATH_MAX];
	struct harness_server srv;
	char acme[64], bolt[64], cobra[64], slow[64], expired[64], revoked[64], reader[64];
	int starts;
};

static struct world W;

/* 303-555 is acme's, 303-556 bolt's, 303-557 cobra's; 303-558 is in no LERG line. */
static const char fx_cocode[] =
	"\"NPA\",\"CO Code (NXX)\",\"Status\",\"Exchange Area\",\"Province\",\"Company\","
	"\"OCN\",\"Remarks\"\n"
	"303,555,\"In Service\",\"Denver\",\"CO\",\"Acme Tel\",\"" ACME "\",\n"
	"303,556,\"In Service\",\"Denver\",\"CO\",\"Bolt Tel\",\"" BOLT "\",\n"
	"303,557,\"In Service\",\"Denver\",\"CO\",\"Cobra Tel\",\"3333\",\n";

/* ---- running ringer and ringerd ---- */

static int ringer_run(const char *const *args, char *out, size_t outlen)
{
	char path[HARNESS_PATH_MAX];
	FILE *f;
	size_t n = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/ringer-%d.out", W.root, W.starts++);
	rc = harness_ringer(path, W.data, args);
	f = fopen(path, "rb");
	if (f) {
		n = fread(out, 1, outlen - 1, f);
		fclose(f);
	}
	out[n] = '\0';
	return rc;
}

static int make_token(char *secret, const char *customer, const char *scopes, const char *spids,
		      const char *extra_k, const char *extra_v, char *id)
{
	const char *args[] = { "token", "create", "--customer", customer, "--scopes", scopes,
			       "--spids", spids, extra_k, extra_v, NULL };
	char out[1024];
	const char *s;

	if (ringer_run(args, out, sizeof(out)) != 0 || (s = strstr(out, "rng_")) == NULL) {
		printf("token create failed: %s\n", out);
		return -1;
	}
	snprintf(secret, 64, "%.47s", s);
	if (id && sscanf(out, "token %31[0-9]", id) != 1)
		return -1;
	return 0;
}

static int make_customer(const char *name, const char *rate)
{
	const char *args[] = { "customer", "create", name, "--rate", rate, NULL };
	char out[512];

	return ringer_run(args, out, sizeof(out));
}

/* (Re)start ringerd with its clock at iso; the data directory carries over. */
static void at(const char *iso)
{
	char clock[64], name[32];
	const char *env[] = { clock, "RINGER_SOA_T1_MINUTES=60", "RINGER_SOA_T2_MINUTES=60",
			      "RINGER_SOA_RESOLVE_MINUTES=120",
			      "RINGER_SOA_CANCEL_INITIAL_MINUTES=60",
			      "RINGER_SOA_CANCEL_FINAL_MINUTES=60", "RINGER_SOA_SCHEDULER_MS=200",
			      "RINGER_SOA_CONFLICT_EXPIRE_DAYS=1", NULL };

	if (W.srv.pid > 0 && harness_server_stop(&W.srv, 10000) != 0) {
		harness_log_print("ringerd", W.srv.log_path, 8000);
		fail_msg("ringerd did not stop cleanly");
	}
	snprintf(clock, sizeof(clock), "RINGER_CLOCK_START=%s", iso);
	snprintf(name, sizeof(name), "ringerd-%d", W.starts++);
	if (harness_server_start(&W.srv, W.root, name, W.data, env) != 0)
		fail_msg("ringerd did not start at %s", iso);
}

/* SIGKILL ringerd: no chance to flush or finish anything. */
static void kill9(void)
{
	int status = 0;

	assert_true(W.srv.pid > 0);
	assert_int_equal(kill(W.srv.pid, SIGKILL), 0);
	assert_int_equal(waitpid(W.srv.pid, &status, 0), W.srv.pid);
	assert_true(WIFSIGNALED(status));
	W.srv.pid = 0;
}

/* ---- requests ---- */

static void send_as(const char *method, const char *path, const char *secret, const char *ctype,
		    const char *accept, const char *body, struct harness_resp *r)
{
	char auth[128], ct[96], ac[96];
	const char *headers[] = { auth, ct, ac, NULL };
	struct harness_req req = { .method = method, .path = path, .headers = headers,
				   .body = body, .body_len = body ? strlen(body) : 0 };

	snprintf(auth, sizeof(auth), secret ? "Authorization: Bearer %s" : "X-None: %s",
		 secret ? secret : "1");
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
	snprintf(ac, sizeof(ac), "Accept: %s", accept);
	assert_int_equal(harness_request(&W.srv, &req, r), 0);
}

static void send(const char *method, const char *path, const char *secret, const char *body,
		 struct harness_resp *r)
{
	send_as(method, path, secret, "application/json", "application/json", body, r);
}

static json_t *parse(const struct harness_resp *r)
{
	json_t *j = json_loads(r->body, 0, NULL);

	if (j == NULL)
		printf("not JSON: %s\n", r->body);
	assert_non_null(j);
	return j;
}

/* POST and check the status and, for errors, the errorCode. Returns the body (decref it). */
static json_t *post(const char *path, const char *secret, const char *body, long status,
		    const char *code)
{
	struct harness_resp r;
	json_t *j;

	send("POST", path, secret, body, &r);
	if (r.status != status)
		printf("POST %s %s\n  -> %ld %s\n", path, body, r.status, r.body);
	assert_int_equal(r.status, status);
	j = parse(&r);
	if (code)
		assert_string_equal(json_string_value(json_object_get(j, "errorCode")), code);
	else
		assert_string_equal(json_string_value(json_object_get(j, "status")), "SUCCESS");
	harness_resp_release(&r);
	return j;
}

static void post_ok(const char *path, const char *secret, const char *body, long status)
{
	json_decref(post(path, secret, body, status, NULL));
}

static void post_err(const char *path, const char *secret, const char *body, long status,
		     const char *code)
{
	json_decref(post(path, secret, body, status, code));
}

static long get_status(const char *path, const char *secret)
{
	struct harness_resp r;
	long s;

	send("GET", path, secret, NULL, &r);
	s = r.status;
	harness_resp_release(&r);
	return s;
}

/* The query answer for tn as acme sees it, as text (freed by the caller), or NULL on 404. */
static char *query_text(const char *tn, const char *secret)
{
	char path[64];
	struct harness_resp r;
	char *text = NULL;

	snprintf(path, sizeof(path), "/v1/lnp/soa/query/%s", tn);
	send("GET", path, secret, NULL, &r);
	if (r.status == 200)
		text = strdup(r.body);
	else
		assert_int_equal(r.status, 404);
	harness_resp_release(&r);
	return text;
}

/* The port's NPAC status name ("pending", ...) or "" when there is none. */
static void npac_status(const char *tn, const char *secret, char *out, size_t outlen)
{
	char *text = query_text(tn, secret);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	const char *s = json_string_value(json_object_get(json_object_get(j, "portDetails"),
							  "npacStatus"));

	snprintf(out, outlen, "%s", s ? s : "");
	json_decref(j);
	free(text);
}

static void expect_status(const char *tn, const char *want)
{
	char got[32];

	npac_status(tn, W.acme, got, sizeof(got));
	if (strcmp(got, want) != 0)
		printf("%s: npacStatus %s, want %s\n", tn, got, want);
	assert_string_equal(got, want);
}

/* Wait for the scheduler to move a port to want. */
static void wait_status(const char *tn, const char *want)
{
	long long end = harness_now_ms() + WAIT_MS;
	char got[32];

	do {
		npac_status(tn, W.acme, got, sizeof(got));
		if (strcmp(got, want) == 0)
			return;
		harness_sleep_ms(100);
	} while (harness_now_ms() < end);
	fail_msg("%s stayed %s, want %s", tn, got, want);
}

/* The LRN dip answer "LRN;SPID". */
static void dip(const char *tn, char *out, size_t outlen)
{
	char path[64];
	struct harness_resp r;

	snprintf(path, sizeof(path), "/v1/telique/lrn/%s", tn);
	assert_int_equal(harness_get(&W.srv, path, &r), 0);
	assert_int_equal(r.status, 200);
	snprintf(out, outlen, "%s", r.body);
	harness_resp_release(&r);
}

static void expect_dip(const char *tn, const char *want)
{
	char got[64];

	dip(tn, got, sizeof(got));
	assert_string_equal(got, want);
}

/* Unacknowledged events of the token's SPIDs: totalCount, and how many name tn. */
static long events(const char *secret, const char *tn, long *for_tn)
{
	struct harness_resp r;
	json_t *j, *e;
	size_t i;
	long total;

	send("GET", "/v1/lnp/soa/events", secret, NULL, &r);
	assert_int_equal(r.status, 200);
	j = parse(&r);
	total = (long)json_integer_value(json_object_get(j, "totalCount"));
	*for_tn = 0;
	json_array_foreach(json_object_get(j, "events"), i, e)
		*for_tn += tn && strcmp(json_string_value(json_object_get(e, "tn")), tn) == 0;
	json_decref(j);
	harness_resp_release(&r);
	return total;
}

/* ---- bodies ---- */

static const char *create_body(const char *tn, const char *old_spid, const char *new_spid,
			       const char *due)
{
	static char b[700];

	snprintf(b, sizeof(b), "{\"tn\":\"%s\",\"oldSpid\":\"%s\",\"newSpid\":\"%s\","
		 "\"portType\":\"SIMPLE\",\"requestedPortDate\":\"%s\",\"lrn\":\"" ACME_LRN
		 "\",\"authorizationCode\":\"PIN1234\",\"subscriberInfo\":{\"lastName\":"
		 "\"Doe\",\"firstName\":\"Jane\",\"address\":{\"street\":\"1 Main St\","
		 "\"city\":\"Denver\",\"state\":\"CO\",\"zip\":\"80202\"}}}", tn, old_spid,
		 new_spid, due);
	return b;
}

static const char *tn_body(const char *tn, const char *extra)
{
	static char b[400];

	snprintf(b, sizeof(b), "{\"tn\":\"%s\"%s}", tn, extra);
	return b;
}

static void create_by_acme(const char *tn, const char *due)
{
	post_ok("/v1/lnp/soa/create", W.acme, create_body(tn, BOLT, ACME, due), 201);
}

static void concur_by_bolt(const char *tn)
{
	post_ok("/v1/lnp/soa/release", W.bolt, tn_body(tn, ",\"reason\":\"customer asked\""), 200);
}

static void activate_lrn(const char *tn, const char *lrn, const char *secret, long status,
			 const char *code)
{
	char b[200];

	snprintf(b, sizeof(b), "{\"tn\":\"%s\",\"lrn\":\"%s\",\"activationTime\":"
		 "\"2031-01-01T00:00:00Z\"}", tn, lrn);
	if (code)
		post_err("/v1/lnp/soa/activate", secret, b, status, code);
	else
		post_ok("/v1/lnp/soa/activate", secret, b, status);
}

static void activate(const char *tn, const char *secret, long status, const char *code)
{
	activate_lrn(tn, ACME_LRN, secret, status, code);
}

/* ---- the world ---- */

static int world_setup(void **state)
{
	char path[HARNESS_PATH_MAX], out[512];
	const char *imp[] = { "import", "cocode", path, NULL };
	const char *allow[] = { "allow", "add", "127.0.0.1", NULL };
	const char *revoke[] = { "token", "revoke", NULL, NULL };
	char id[32];

	if (harness_dir_new(W.root, sizeof(W.root)) != 0)
		return -1;
	snprintf(W.data, sizeof(W.data), "%s/data", W.root);
	snprintf(W.ringer_log, sizeof(W.ringer_log), "%s/ringer.log", W.root);
	if (mkdir(W.data, 0750) != 0 ||
	    harness_file_write(W.root, "cocode.csv", fx_cocode, path, sizeof(path)) != 0 ||
	    harness_ringer(W.ringer_log, W.data, imp) != 0 ||
	    harness_ringer(W.ringer_log, W.data, allow) != 0)
		return -1;
	if (make_customer("acme", "10000") || make_customer("bolt", "10000") ||
	    make_customer("cobra", "10000") || make_customer("slowco", "3"))
		return -1;
	if (make_token(W.acme, "acme", "soa:read,soa:write", ACME, NULL, NULL, NULL) ||
	    make_token(W.bolt, "bolt", "soa:read,soa:write", BOLT, NULL, NULL, NULL) ||
	    make_token(W.cobra, "cobra", "soa:read,soa:write", "3333", NULL, NULL, NULL) ||
	    make_token(W.slow, "slowco", "soa:read,soa:write", "4444", NULL, NULL, NULL) ||
	    make_token(W.reader, "acme", "soa:read", ACME, NULL, NULL, NULL) ||
	    make_token(W.expired, "acme", "soa:read,soa:write", ACME, "--expires",
		       "2030-01-01T00:00:00Z", NULL) ||
	    make_token(W.revoked, "acme", "soa:read,soa:write", ACME, NULL, NULL, id))
		return -1;
	revoke[2] = id;
	if (ringer_run(revoke, out, sizeof(out)) != 0 || strstr(out, "revoked") == NULL) {
		printf("revoke: %s\n", out);
		return -1;
	}
	return 0;
}

static int world_teardown(void **state)
{
	int rc = W.srv.pid > 0 ? harness_server_stop(&W.srv, 10000) : 0;

	if (rc != 0)
		harness_log_print("ringerd", W.srv.log_path, 8000);
	harness_dir_remove(W.root);
	return rc == 0 ? 0 : -1;
}

/* ---- scenarios ---- */

static void test_soa__network_data(void **state)
{
	at("2031-03-03T15:00:00Z");
	post_ok("/v1/lnp/soa/lrn/create", W.acme, "{\"lrn\":\"" ACME_LRN "\",\"spid\":\"" ACME
		"\",\"name\":\"Denver switch\"}", 201);
	post_err("/v1/lnp/soa/lrn/create", W.acme, "{\"lrn\":\"" ACME_LRN "\",\"spid\":\"" ACME
		 "\",\"name\":\"twice\"}", 409, "LRN_EXISTS");
	/* Another carrier's number is not an LRN one may claim, nor its code one may open. */
	post_err("/v1/lnp/soa/lrn/create", W.bolt, "{\"lrn\":\"" ACME_LRN "\",\"spid\":\"" BOLT
		 "\",\"name\":\"taken\"}", 403, "LRN_NOT_HELD");
	post_err("/api/v1/soa/npanxxcreate", W.bolt, "{\"npanxx\":\"303555\",\"spid\":\"" BOLT
		 "\",\"effectiveDate\":\"2031-03-03\"}", 403, "NPANXX_NOT_HELD");
	post_err("/v1/lnp/soa/lrn/create", W.bolt, "{\"lrn\":\"3035560001\",\"spid\":\"" ACME
		 "\",\"name\":\"not mine\"}", 403, "SPID_NOT_AUTHORIZED");
	post_ok("/v1/lnp/soa/lrn/create", W.bolt, "{\"lrn\":\"3035560001\",\"spid\":\"" BOLT
		"\",\"name\":\"Bolt switch\"}", 201);
	post_ok("/api/v1/soa/npanxxcreate", W.bolt, "{\"npanxx\":\"303556\",\"spid\":\"" BOLT
		"\",\"effectiveDate\":\"2031-03-03\"}", 200);
	/* Before any port the number routes to its LERG holder. */
	expect_dip("3035561001", "3035561001;" BOLT);
}

/* Create, concur, activation refused early and for the wrong provider, then on the due date. */
static void test_soa__simple_port(void **state)
{
	struct harness_resp r;
	long n;

	at("2031-03-03T15:00:00Z"); /* Mon 10:00 */
	create_by_acme("3035561001", "2031-03-04");
	expect_status("3035561001", "pending");
	assert_true(events(W.bolt, "3035561001", &n) >= 1 && n >= 1); /* bolt is told */
	concur_by_bolt("3035561001");
	activate("3035561001", W.acme, 409, "INVALID_TRANSITION"); /* before the due date */
	expect_status("3035561001", "pending");
	at("2031-03-04T15:00:00Z"); /* Tue 10:00: the due date */
	activate("3035561001", W.bolt, 409, "INVALID_TRANSITION"); /* the old provider */
	expect_status("3035561001", "pending");
	expect_dip("3035561001", "3035561001;" BOLT);
	activate("3035561001", W.acme, 200, NULL);
	expect_status("3035561001", "active");
	expect_dip("3035561001", ACME_LRN ";" ACME);
	assert_int_equal(get_status("/v1/lnp/soa/status/3035561001", W.bolt), 200);
	/* The /api/v1/soa forms see the same port. */
	send("POST", "/api/v1/soa/query", W.bolt, tn_body("3035561001", ""), &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"npacStatus\":\"active\""));
	harness_resp_release(&r);
	assert_int_equal(get_status("/api/v1/soa/status/3035561001", W.acme), 200);
	assert_int_equal(get_status("/api/v1/soa/status/3035561001", W.cobra), 404);
}

static void test_soa__conflict_resolved(void **state)
{
	char id[32];
	json_t *j;
	char *q;

	at("2031-03-10T15:00:00Z"); /* Mon 10:00 */
	create_by_acme("3035561002", "2031-03-11");
	post_ok("/v1/lnp/soa/conflict/create", W.bolt, tn_body("3035561002",
		",\"conflictType\":\"AUTHORIZATION\",\"description\":\"no such customer\""), 200);
	expect_status("3035561002", "conflict");
	q = query_text("3035561002", W.acme);
	j = json_loads(q, 0, NULL);
	snprintf(id, sizeof(id), ",\"conflictId\":\"%lld\"",
		 (long long)json_integer_value(json_object_get(j, "portRequestId")));
	json_decref(j);
	free(q);
	/* The new provider must wait out the resolution window (120 business minutes). */
	post_err("/v1/lnp/soa/conflict/remove", W.acme, tn_body("3035561002", id), 409,
		 "INVALID_TRANSITION");
	expect_status("3035561002", "conflict");
	at("2031-03-10T19:00:00Z"); /* Mon 14:00 */
	post_ok("/v1/lnp/soa/conflict/remove", W.acme, tn_body("3035561002", id), 200);
	expect_status("3035561002", "pending");
	at("2031-03-11T15:00:00Z");
	activate("3035561002", W.acme, 200, NULL);
	expect_status("3035561002", "active");
	expect_dip("3035561002", ACME_LRN ";" ACME);
}

static void test_soa__old_first_canceled_at_t2(void **state)
{
	long n;

	at("2031-03-17T15:00:00Z"); /* Mon 10:00: T1 at 11:00, T2 at 12:00 */
	post_ok("/v1/lnp/soa/create", W.bolt, create_body("3035561003", BOLT, ACME, "2031-03-18"),
		201);
	expect_status("3035561003", "pending");
	assert_true(events(W.acme, "3035561003", &n) >= 1 && n == 1); /* acme is asked */
	at("2031-03-17T19:00:00Z"); /* Mon 14:00: past T2, acme never created */
	wait_status("3035561003", "canceled");
	events(W.acme, "3035561003", &n);
	assert_true(n >= 3); /* the request, the T1/T2 notices, the cancellation */
	events(W.bolt, "3035561003", &n);
	assert_true(n >= 2);
	activate("3035561003", W.acme, 409, "INVALID_TRANSITION");
}

static void test_soa__cancel(void **state)
{
	at("2031-03-24T15:00:00Z");
	/* Only acme created: canceled at once. */
	create_by_acme("3035561004", "2031-03-25");
	post_ok("/v1/lnp/soa/cancel", W.acme, tn_body("3035561004", ",\"reason\":\"oops\""), 200);
	expect_status("3035561004", "canceled");
	/* Both created: cancel-pending until bolt acknowledges. */
	create_by_acme("3035561005", "2031-03-25");
	concur_by_bolt("3035561005");
	post_ok("/v1/lnp/soa/cancel", W.acme, tn_body("3035561005", ",\"reason\":\"oops\""), 200);
	expect_status("3035561005", "cancel-pending");
	post_err("/v1/lnp/soa/cancel", W.acme, tn_body("3035561005", ",\"reason\":\"again\""), 409,
		 "INVALID_TRANSITION"); /* the canceler cannot acknowledge itself */
	post_ok("/v1/lnp/soa/cancel", W.bolt, tn_body("3035561005", ",\"reason\":\"ack\""), 200);
	expect_status("3035561005", "canceled");
	/* Both created, nobody acknowledges: the cancel windows run out (60 + 60 minutes). */
	create_by_acme("3035561008", "2031-03-25");
	concur_by_bolt("3035561008");
	post_ok("/v1/lnp/soa/cancel", W.acme, tn_body("3035561008", ",\"reason\":\"oops\""), 200);
	expect_status("3035561008", "cancel-pending");
	at("2031-03-24T19:00:00Z");
	wait_status("3035561008", "canceled");
	/* A new port of a number whose port was canceled is allowed. */
	create_by_acme("3035561004", "2031-03-25");
	expect_status("3035561004", "pending");
}

static void test_soa__disconnect_and_snapback(void **state)
{
	at("2031-03-31T15:00:00Z");
	create_by_acme("3035561006", "2031-04-01");
	concur_by_bolt("3035561006");
	at("2031-04-01T15:00:00Z");
	activate("3035561006", W.acme, 200, NULL);
	expect_dip("3035561006", ACME_LRN ";" ACME);
	post_err("/v1/lnp/soa/disconnect", W.bolt, tn_body("3035561006",
		 ",\"disconnectDate\":\"2031-04-02\""), 409, "INVALID_TRANSITION");
	post_ok("/v1/lnp/soa/disconnect", W.acme, tn_body("3035561006",
		",\"disconnectDate\":\"2031-04-02\""), 200);
	expect_status("3035561006", "disconnect-pending");
	expect_dip("3035561006", ACME_LRN ";" ACME); /* still routed until the release date */
	at("2031-04-02T15:00:00Z");
	wait_status("3035561006", "old");
	expect_dip("3035561006", "3035561006;" BOLT); /* back to the code holder */
}

/* A pending port and everything that must leave it alone. */
static void test_soa__refusals_change_nothing(void **state)
{
	const char *tn = "3035561007";
	char *before, *after, retry[16], id[48];
	struct harness_resp r;
	long acme_ev, bolt_ev, n;
	json_t *j;

	at("2031-04-07T15:00:00Z");
	create_by_acme(tn, "2031-04-08");
	before = query_text(tn, W.acme);
	assert_non_null(before);
	acme_ev = events(W.acme, NULL, &n);
	bolt_ev = events(W.bolt, NULL, &n);

	/* A due date years out would lock the number; a huge name would be stored and shown. */
	post_err("/v1/lnp/soa/create", W.acme, create_body("3035561099", BOLT, ACME, "9999-12-31"),
		 400, "INVALID_REQUEST");
	{
		char big[1400], name[301];

		memset(name, 'A', 300);
		name[300] = '\0';
		snprintf(big, sizeof(big), "{\"tn\":\"3035561099\",\"oldSpid\":\"" BOLT "\","
			 "\"newSpid\":\"" ACME "\",\"portType\":\"SIMPLE\",\"requestedPortDate\":"
			 "\"2031-04-08\",\"lrn\":\"" ACME_LRN "\",\"authorizationCode\":\"PIN1234\","
			 "\"subscriberInfo\":{\"lastName\":\"%s\"}}", name);
		post_err("/v1/lnp/soa/create", W.acme, big, 400, "INVALID_REQUEST");
	}

	/* Illegal transitions. */
	post_err("/v1/lnp/soa/create", W.acme, create_body(tn, BOLT, ACME, "2031-04-08"), 409,
		 "INVALID_TRANSITION"); /* acme's create, made twice */
	j = json_loads(before, 0, NULL);
	snprintf(id, sizeof(id), ",\"conflictId\":\"%lld\"",
		 (long long)json_integer_value(json_object_get(j, "portRequestId")));
	json_decref(j);
	post_err("/v1/lnp/soa/conflict/remove", W.bolt, tn_body(tn, id), 409,
		 "INVALID_TRANSITION"); /* not in conflict */
	post_err("/v1/lnp/soa/release", W.acme, tn_body(tn, ",\"reason\":\"r\""), 409,
		 "INVALID_TRANSITION");
	post_err("/v1/lnp/soa/disconnect", W.acme, tn_body(tn, ",\"disconnectDate\":"
		 "\"2031-04-09\""), 409, "INVALID_TRANSITION");
	post_err("/v1/lnp/soa/conflict/remove", W.bolt, tn_body(tn, ",\"conflictId\":\"1\""),
		 404, "NOT_FOUND");
	activate(tn, W.acme, 409, "INVALID_TRANSITION");
	post_err("/v1/lnp/soa/create", W.cobra, create_body(tn, BOLT, ACME, "2031-04-08"), 403,
		 "SPID_NOT_AUTHORIZED");
	j = post("/v1/lnp/soa/create", W.cobra, create_body(tn, BOLT, "3333", "2031-04-08"), 409,
		 "PORT_IN_PROGRESS"); /* a competing order: refused, nothing of the port shown */
	assert_null(json_object_get(j, "data"));
	assert_null(strstr(json_string_value(json_object_get(j, "message")), ACME));
	json_decref(j);
	/* Orders that fail validation. */
	post_err("/v1/lnp/soa/create", W.acme, create_body("3035581000", BOLT, ACME,
		 "2031-04-08"), 422, "UNKNOWN_NPANXX");
	post_err("/v1/lnp/soa/create", W.acme, create_body("3035571000", BOLT, ACME,
		 "2031-04-08"), 422, "OLD_SPID_MISMATCH");
	post_err("/v1/lnp/soa/create", W.acme, create_body("3035561100", BOLT, ACME,
		 "2031-04-12"), 422, "INVALID_DUE_DATE"); /* a Saturday */
	post_err("/v1/lnp/soa/create", W.acme, create_body("3035561100", BOLT, ACME,
		 "2031-04-07"), 422, "INVALID_DUE_DATE"); /* today */
	assert_null(query_text("3035561100", W.acme));
	/* Bad bodies. */
	post_err("/v1/lnp/soa/cancel", W.acme, "{\"tn\":", 400, "INVALID_REQUEST");
	post_err("/v1/lnp/soa/cancel", W.acme, "[1,2]", 400, "INVALID_REQUEST");
	post_err("/v1/lnp/soa/cancel", W.acme, "{\"reason\":\"no tn\"}", 400, "INVALID_REQUEST");
	post_err("/v1/lnp/soa/cancel", W.acme, tn_body("30355610", ",\"reason\":\"r\""), 400,
		 "INVALID_REQUEST");
	post_err("/v1/lnp/soa/create", W.acme, "{\"tn\":\"3035561007\",\"oldSpid\":\"" BOLT
		 "\",\"newSpid\":\"" ACME "\",\"portType\":\"SIMPLE\"}", 400, "INVALID_REQUEST");
	/* Tokens: unknown, expired, revoked, none, read-only. */
	post_err("/v1/lnp/soa/cancel", "rng_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		 tn_body(tn, ",\"reason\":\"r\""), 401, "UNAUTHORIZED");
	post_err("/v1/lnp/soa/cancel", W.expired, tn_body(tn, ",\"reason\":\"r\""), 401,
		 "UNAUTHORIZED");
	post_err("/v1/lnp/soa/cancel", W.revoked, tn_body(tn, ",\"reason\":\"r\""), 401,
		 "UNAUTHORIZED");
	post_err("/v1/lnp/soa/cancel", NULL, tn_body(tn, ",\"reason\":\"r\""), 401,
		 "UNAUTHORIZED");
	post_err("/v1/lnp/soa/cancel", W.reader, tn_body(tn, ",\"reason\":\"r\""), 403,
		 "FORBIDDEN");
	/* Out of scope: cobra's answers are those of a number without a port. */
	post_err("/v1/lnp/soa/cancel", W.cobra, tn_body(tn, ",\"reason\":\"r\""), 404,
		 "NOT_FOUND");
	post_err("/v1/lnp/soa/conflict/create", W.cobra, tn_body(tn, ",\"conflictType\":"
		 "\"OTHER\",\"description\":\"d\""), 404, "NOT_FOUND");
	send("GET", "/v1/lnp/soa/query/3035561007", W.cobra, NULL, &r);
	assert_int_equal(r.status, 404);
	assert_null(strstr(r.body, ACME));
	assert_null(strstr(r.body, BOLT));
	harness_resp_release(&r);
	assert_int_equal(get_status("/v1/lnp/soa/status/3035561007", W.cobra), 404);
	assert_int_equal(get_status("/v1/lnp/soa/query/3035569999", W.cobra), 404);
	assert_int_equal(events(W.cobra, tn, &n), 0);
	/* Rate limit: slowco may make 3 requests a minute. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(get_status("/v1/lnp/soa/events", W.slow), 200);
	send("POST", "/v1/lnp/soa/cancel", W.slow, tn_body(tn, ",\"reason\":\"r\""), &r);
	assert_int_equal(r.status, 429);
	assert_int_equal(harness_resp_header(&r, "Retry-After", retry, sizeof(retry)), 1);
	assert_true(atoi(retry) >= 1 && atoi(retry) <= 20);
	harness_resp_release(&r);

	after = query_text(tn, W.acme);
	assert_non_null(after);
	assert_string_equal(before, after);
	assert_int_equal(events(W.acme, NULL, &n), acme_ev);
	assert_int_equal(events(W.bolt, NULL, &n), bolt_ev);
	free(before);
	free(after);
}

static void test_soa__events_ack(void **state)
{
	struct harness_resp r;
	json_t *j, *first;
	long long recno, prev = 0;
	char path[80];
	long total, n;
	size_t i;

	send("GET", "/v1/lnp/soa/events", W.acme, NULL, &r);
	assert_int_equal(r.status, 200);
	j = parse(&r);
	harness_resp_release(&r);
	total = (long)json_integer_value(json_object_get(j, "totalCount"));
	assert_true(total > 0);
	json_array_foreach(json_object_get(j, "events"), i, first) {
		long long rn = json_integer_value(json_object_get(first, "recno"));

		assert_true(rn > prev); /* increasing */
		prev = rn;
		assert_string_equal(json_string_value(json_object_get(json_object_get(first,
				    "details"), "spid")), ACME);
	}
	first = json_array_get(json_object_get(j, "events"), 0);
	recno = json_integer_value(json_object_get(first, "recno"));
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/lnp/soa/events/%lld/acknowledge", recno);
	post_err(path, W.bolt, NULL, 404, "NOT_FOUND"); /* acme's event, not bolt's */
	post_err(path, W.cobra, NULL, 404, "NOT_FOUND");
	assert_int_equal(events(W.acme, NULL, &n), total);
	post_ok(path, W.acme, NULL, 200);
	assert_int_equal(events(W.acme, NULL, &n), total - 1);
	post_err("/v1/lnp/soa/events/abc/acknowledge", W.acme, NULL, 400, "INVALID_REQUEST");
	post_err("/v1/lnp/soa/events/0/acknowledge", W.acme, NULL, 400, "INVALID_REQUEST");
	post_err("/v1/lnp/soa/events/99999999/acknowledge", W.acme, NULL, 404, "NOT_FOUND");
}

/* SIGKILL right after acknowledged changes: all of them, and their events, survive. */
static void test_soa__kill9_loses_nothing(void **state)
{
	const char *tn = "3035561009";
	long a0, b0, a1, b1, n;

	at("2031-04-14T15:00:00Z");
	a0 = events(W.acme, NULL, &n);
	b0 = events(W.bolt, NULL, &n);
	create_by_acme(tn, "2031-04-15");
	kill9();
	at("2031-04-14T15:00:05Z");
	expect_status(tn, "pending");
	b1 = events(W.bolt, tn, &n);
	assert_true(n >= 1 && b1 > b0);
	concur_by_bolt(tn);
	a1 = events(W.acme, NULL, &n);
	assert_true(a1 > a0);
	kill9();
	at("2031-04-14T15:00:10Z");
	assert_int_equal(events(W.acme, NULL, &n), a1);
	assert_int_equal(events(W.bolt, NULL, &n), b1);
	char *q = query_text(tn, W.acme);
	assert_non_null(strstr(q, "\"FOC\""));
	free(q);
	at("2031-04-15T15:00:00Z");
	activate(tn, W.acme, 200, NULL);
	a1 = events(W.acme, NULL, &n);
	kill9();
	at("2031-04-15T15:00:05Z");
	expect_status(tn, "active");
	expect_dip(tn, ACME_LRN ";" ACME);
	assert_int_equal(events(W.acme, NULL, &n), a1);
}

/* ---- XML bodies and answers ---- */

#define XML_CT "application/xml"

static void send_xml(const char *path, const char *secret, const char *body,
		     struct harness_resp *r)
{
	send_as("POST", path, secret, XML_CT, XML_CT, body, r);
}

static void test_soa__xml_create_and_answers(void **state)
{
	static const char body[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<SoaCreateRequest><tn>3035561010</tn><oldSpid>" BOLT "</oldSpid>"
		"<newSpid>" ACME "</newSpid><portType>SIMPLE</portType>"
		"<requestedPortDate>2031-04-22</requestedPortDate><lrn>" ACME_LRN "</lrn>"
		"<authorizationCode>PIN99</authorizationCode><subscriberInfo>"
		"<lastName>O'Brien &amp; Sons</lastName><address><city>Denver</city>"
		"<state>CO</state><zip>80202</zip></address></subscriberInfo>"
		"</SoaCreateRequest>";
	struct harness_resp r;
	char *q;

	at("2031-04-21T15:00:00Z");
	send_xml("/v1/lnp/soa/create", W.acme, body, &r);
	if (r.status != 201)
		printf("%ld %s\n", r.status, r.body);
	assert_int_equal(r.status, 201);
	assert_non_null(strstr(r.ctype, XML_CT));
	assert_non_null(strstr(r.body, "<SoaResponse><status>SUCCESS</status>"));
	assert_non_null(strstr(r.body, "<tn>3035561010</tn>"));
	assert_non_null(strstr(r.body, "<status>pending</status>"));
	harness_resp_release(&r);
	/* The JSON view of the same port has the subscriber's name, unescaped. */
	q = query_text("3035561010", W.acme);
	assert_non_null(q);
	assert_non_null(strstr(q, "O'Brien & Sons"));
	free(q);
	/* Accept alone asks for XML answers, errors included. */
	send_as("GET", "/v1/lnp/soa/query/3035561010", W.acme, "application/json", XML_CT, NULL,
		&r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.ctype, XML_CT));
	assert_non_null(strstr(r.body, "<SoaQueryResponse>"));
	assert_non_null(strstr(r.body, "<lastName>O&apos;Brien &amp; Sons</lastName>"));
	harness_resp_release(&r);
	send_xml("/v1/lnp/soa/cancel", W.cobra, "<r><tn>3035561010</tn><reason>x</reason></r>", &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(r.ctype, XML_CT));
	assert_non_null(strstr(r.body, "<errorCode>NOT_FOUND</errorCode>"));
	harness_resp_release(&r);
	send_xml("/v1/lnp/soa/cancel", "rng_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		 "<r><tn>3035561010</tn><reason>x</reason></r>", &r);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body, "<errorCode>UNAUTHORIZED</errorCode>"));
	harness_resp_release(&r);
	/* XML moves work like JSON ones: bolt concurs in XML. */
	send_xml("/v1/lnp/soa/release", W.bolt,
		 "<SoaReleaseRequest><tn>3035561010</tn><reason>ok</reason></SoaReleaseRequest>",
		 &r);
	assert_int_equal(r.status, 200);
	harness_resp_release(&r);
	q = query_text("3035561010", W.acme);
	assert_non_null(strstr(q, "\"FOC\""));
	free(q);
}

/* A bad XML body answers 400 in XML and leaves the port as it was. */
static void xml_refused(const char *body, long max_ms)
{
	long long t0 = harness_now_ms();
	struct harness_resp r;
	char *before = query_text("3035561010", W.acme), *after;

	send_xml("/v1/lnp/soa/cancel", W.acme, body, &r);
	if (r.status != 400)
		printf("%ld %s\n", r.status, r.body);
	assert_int_equal(r.status, 400);
	assert_true(harness_now_ms() - t0 < max_ms);
	assert_non_null(strstr(r.ctype, XML_CT));
	assert_non_null(strstr(r.body, "<errorCode>INVALID_REQUEST</errorCode>"));
	assert_null(strstr(r.body, "TOPSECRET"));
	harness_resp_release(&r);
	after = query_text("3035561010", W.acme);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(get_status("/health", NULL), 200);
}

static void test_soa__xml_malformed(void **state)
{
	xml_refused("<SoaCancelRequest><tn>3035561010</tn><reason>x</SoaCancelRequest>", 5000);
	xml_refused("<SoaCancelRequest><tn>3035561010</tn>", 5000);
	xml_refused("not xml at all", 5000);
	xml_refused("", 5000);
	xml_refused("<a><tn>3035561010</tn><tn>3035561010</tn><reason>x</reason></a>", 5000);
	xml_refused("<a><x:tn xmlns:x=\"urn:x\">3035561010</x:tn><reason>x</reason></a>", 5000);
}

static void test_soa__xml_external_entity(void **state)
{
	char path[HARNESS_PATH_MAX], body[1024];

	assert_int_equal(harness_file_write(W.root, "secret.txt", "TOPSECRET", path,
					    sizeof(path)), 0);
	snprintf(body, sizeof(body), "<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "
		 "\"file://%s\">]><r><tn>3035561010</tn><reason>&x;</reason></r>", path);
	xml_refused(body, 5000);
	/* The same through a parameter entity and an external DTD. */
	snprintf(body, sizeof(body), "<!DOCTYPE r SYSTEM \"file://%s\"><r><tn>3035561010</tn>"
		 "<reason>x</reason></r>", path);
	xml_refused(body, 5000);
}

static void test_soa__xml_billion_laughs(void **state)
{
	char body[2048];
	size_t n = 0;

	n += (size_t)snprintf(body + n, sizeof(body) - n, "<?xml version=\"1.0\"?>\n"
			      "<!DOCTYPE r [<!ENTITY l0 \"lol\">");
	for (int i = 1; i <= 9; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "<!ENTITY l%d \"&l%d;&l%d;&l%d;"
				      "&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;\">", i, i - 1, i - 1,
				      i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	snprintf(body + n, sizeof(body) - n, "]><r><tn>3035561010</tn><reason>&l9;</reason></r>");
	xml_refused(body, 2000);
}

/* ---- intra-provider ports, LRN removal, activation-ready, conflict expiry ---- */

#define ACME_LRN2 "3035550002"

static void lrn_post(const char *op, const char *secret, const char *lrn, const char *spid,
		     long status, const char *code)
{
	char path[64], b[200];

	snprintf(path, sizeof(path), "/v1/lnp/soa/lrn/%s", op);
	snprintf(b, sizeof(b), "{\"lrn\":\"%s\",\"spid\":\"%s\",\"name\":\"n\"}", lrn, spid);
	if (code)
		post_err(path, secret, b, status, code);
	else
		post_ok(path, secret, b, status);
}

static const char *intra_body(const char *tn, const char *spid, const char *lrn,
			      const char *due)
{
	static char b[300];

	snprintf(b, sizeof(b), "{\"tn\":\"%s\",\"newSpid\":\"%s\",\"lrn\":\"%s\","
		 "\"requestedPortDate\":\"%s\"}", tn, spid, lrn, due);
	return b;
}

/* A number acme already holds moves to its other switch; nobody else may do that. */
static void test_soa__intra_provider_port(void **state)
{
	const char *tn = "3035561001"; /* ported to acme at ACME_LRN in simple_port */
	char *q;

	at("2031-04-28T15:00:00Z"); /* Mon 10:00 */
	expect_dip(tn, ACME_LRN ";" ACME);
	lrn_post("create", W.acme, ACME_LRN2, ACME, 201, NULL);
	post_err("/api/v1/soa/intrasp", W.bolt, intra_body(tn, BOLT, "3035560001", "2031-04-29"),
		 422, "OLD_SPID_MISMATCH"); /* bolt no longer serves the number */
	post_err("/api/v1/soa/intrasp", W.cobra, intra_body(tn, ACME, ACME_LRN2, "2031-04-29"),
		 403, "SPID_NOT_AUTHORIZED");
	post_err("/api/v1/soa/intrasp", W.acme, intra_body(tn, ACME, "3035560001", "2031-04-29"),
		 422, "LRN_NOT_REGISTERED"); /* bolt's LRN */
	post_err("/api/v1/soa/intrasp", W.acme, "{\"tn\":\"3035561001\",\"newSpid\":\"" ACME
		 "\",\"requestedPortDate\":\"2031-04-29\"}", 400, "INVALID_REQUEST"); /* no lrn */
	post_ok("/api/v1/soa/intrasp", W.acme, intra_body(tn, ACME, ACME_LRN2, "2031-04-29"),
		201);
	expect_status(tn, "pending");
	q = query_text(tn, W.acme);
	assert_non_null(strstr(q, "\"currentSpid\":\"" ACME "\",\"newSpid\":\"" ACME "\""));
	free(q);
	assert_null(query_text(tn, W.cobra));
	activate_lrn(tn, ACME_LRN2, W.acme, 409, "INVALID_TRANSITION"); /* before the due date */
	expect_dip(tn, ACME_LRN ";" ACME);
	at("2031-04-29T15:00:00Z");
	activate_lrn(tn, ACME_LRN2, W.acme, 200, NULL); /* no concurrence needed */
	expect_status(tn, "active");
	expect_dip(tn, ACME_LRN2 ";" ACME);
	/* A native number of acme's own code moves the same way. */
	post_ok("/api/v1/soa/intrasp", W.acme, intra_body("3035551001", ACME, ACME_LRN2,
		"2031-04-30"), 201);
	expect_dip("3035551001", "3035551001;" ACME);
	at("2031-04-30T15:00:00Z");
	activate_lrn("3035551001", ACME_LRN2, W.acme, 200, NULL);
	expect_dip("3035551001", ACME_LRN2 ";" ACME);
}

static void test_soa__lrn_remove(void **state)
{
	at("2031-04-30T15:10:00Z");
	lrn_post("create", W.acme, "3035550003", ACME, 201, NULL);
	lrn_post("remove", W.cobra, "3035550003", ACME, 403, "SPID_NOT_AUTHORIZED");
	lrn_post("remove", W.reader, "3035550003", ACME, 403, "FORBIDDEN");
	lrn_post("remove", W.acme, "3035550003", ACME, 200, NULL);
	lrn_post("remove", W.acme, "3035550003", ACME, 404, "NOT_FOUND"); /* gone */
	/* A removed LRN is no longer one a port may name. */
	post_err("/api/v1/soa/intrasp", W.acme, intra_body("3035551002", ACME, "3035550003",
		 "2031-05-01"), 422, "LRN_NOT_REGISTERED");
	/* Active ports route to these two: they stay. */
	lrn_post("remove", W.acme, ACME_LRN, ACME, 409, "LRN_IN_USE");
	lrn_post("remove", W.acme, ACME_LRN2, ACME, 409, "LRN_IN_USE");
	/* Bolt's LRN: not acme's to name, and not found among acme's own. */
	lrn_post("remove", W.acme, "3035560001", BOLT, 403, "SPID_NOT_AUTHORIZED");
	lrn_post("remove", W.acme, "3035560001", ACME, 404, "NOT_FOUND");
	lrn_post("create", W.bolt, "3035560001", BOLT, 409, "LRN_EXISTS"); /* still bolt's */
	lrn_post("remove", W.acme, "30355600", ACME, 400, "INVALID_REQUEST");
}

/* Whether spid's activation-ready list, as secret sees it, names tn (-1: refused). */
static int ready_has(const char *spid, const char *secret, const char *tn, long *status)
{
	char path[64];
	struct harness_resp r;
	json_t *j, *e;
	size_t i;
	int found = 0;

	snprintf(path, sizeof(path), "/v1/lnp/soa/activation-ready/%s", spid);
	send("GET", path, secret, NULL, &r);
	*status = r.status;
	if (r.status != 200) {
		assert_null(strstr(r.body, tn));
		harness_resp_release(&r);
		return -1;
	}
	j = parse(&r);
	harness_resp_release(&r);
	assert_string_equal(json_string_value(json_object_get(j, "spid")), spid);
	assert_int_equal(json_integer_value(json_object_get(j, "totalCount")),
			 json_array_size(json_object_get(j, "numbers")));
	json_array_foreach(json_object_get(j, "numbers"), i, e) {
		if (strcmp(json_string_value(json_object_get(e, "tn")), tn) == 0) {
			found = 1;
			assert_string_equal(json_string_value(json_object_get(e, "oldSpid")),
					    BOLT);
			assert_string_equal(json_string_value(json_object_get(e, "lrn")),
					    ACME_LRN);
		}
	}
	json_decref(j);
	return found;
}

static void test_soa__activation_ready(void **state)
{
	long st;

	at("2031-05-05T15:00:00Z"); /* Mon 10:00 */
	create_by_acme("3035561011", "2031-05-06");
	concur_by_bolt("3035561011");
	create_by_acme("3035561012", "2031-05-07");
	concur_by_bolt("3035561012");
	assert_int_equal(ready_has(ACME, W.acme, "3035561011", &st), 0); /* not due yet */
	at("2031-05-06T15:00:00Z");
	assert_int_equal(ready_has(ACME, W.acme, "3035561011", &st), 1);
	assert_int_equal(ready_has(ACME, W.reader, "3035561011", &st), 1);
	assert_int_equal(ready_has(ACME, W.acme, "3035561012", &st), 0); /* due tomorrow */
	/* Another customer sees neither acme's list nor acme's ports in its own. */
	assert_int_equal(ready_has(ACME, W.cobra, "3035561011", &st), -1);
	assert_int_equal(st, 403);
	assert_int_equal(ready_has(BOLT, W.acme, "3035561011", &st), -1);
	assert_int_equal(st, 403);
	assert_int_equal(ready_has("3333", W.cobra, "3035561011", &st), 0);
	assert_int_equal(ready_has(BOLT, W.bolt, "3035561011", &st), 0); /* bolt is the old SP */
	assert_int_equal(ready_has("22", W.acme, "3035561011", &st), -1);
	assert_int_equal(st, 400);
	post_err("/api/v1/soa/actreadyget", W.cobra, "{\"spid\":\"" ACME "\"}", 403,
		 "SPID_NOT_AUTHORIZED");
	/* Activated, it leaves the list. */
	activate("3035561011", W.acme, 200, NULL);
	assert_int_equal(ready_has(ACME, W.acme, "3035561011", &st), 0);
}

/* A conflict nobody resolves is canceled after soa.conflict_expire_days (1 here). */
static void test_soa__conflict_expires(void **state)
{
	const char *tn = "3035561013";
	long n0, n;

	at("2031-05-12T15:00:00Z"); /* Mon 10:00 */
	create_by_acme(tn, "2031-05-13");
	post_ok("/v1/lnp/soa/conflict/create", W.bolt, tn_body(tn, ",\"conflictType\":"
		"\"AUTHORIZATION\",\"description\":\"no such customer\""), 200);
	expect_status(tn, "conflict");
	events(W.acme, tn, &n0);
	at("2031-05-13T14:59:00Z"); /* a minute short of a day */
	harness_sleep_ms(600);      /* three scheduler runs */
	expect_status(tn, "conflict");
	at("2031-05-13T15:00:30Z");
	wait_status(tn, "canceled");
	events(W.acme, tn, &n);
	assert_true(n > n0); /* acme is told */
	activate(tn, W.acme, 409, "INVALID_TRANSITION");
	expect_dip(tn, "3035561013;" BOLT);
	/* The number may be ordered again. */
	create_by_acme(tn, "2031-05-14");
	expect_status(tn, "pending");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soa__network_data),
		cmocka_unit_test(test_soa__simple_port),
		cmocka_unit_test(test_soa__conflict_resolved),
		cmocka_unit_test(test_soa__old_first_canceled_at_t2),
		cmocka_unit_test(test_soa__cancel),
		cmocka_unit_test(test_soa__disconnect_and_snapback),
		cmocka_unit_test(test_soa__refusals_change_nothing),
		cmocka_unit_test(test_soa__events_ack),
		cmocka_unit_test(test_soa__kill9_loses_nothing),
		cmocka_unit_test(test_soa__xml_create_and_answers),
		cmocka_unit_test(test_soa__xml_malformed),
		cmocka_unit_test(test_soa__xml_external_entity),
		cmocka_unit_test(test_soa__xml_billion_laughs),
		cmocka_unit_test(test_soa__intra_provider_port),
		cmocka_unit_test(test_soa__lrn_remove),
		cmocka_unit_test(test_soa__activation_ready),
		cmocka_unit_test(test_soa__conflict_expires),
	};

	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
