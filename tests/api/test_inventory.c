/* test_inventory.c - the Number Inventory API against a real ringerd.
 *
 * Three carriers: acme (SPID 2222) holds code 303-555 and the pooled block
 * 303-557-3xxx, bolt (1111) holds 303-556, cobra (3333) holds 303-557 less
 * acme's block. The LSMS data has 303-557-9001 ported from cobra to acme.
 * Every count below follows from those lines. Tests run in order: the
 * lifecycle tests change numbers later tests read, and the port test moves
 * ringerd's clock.
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
#include <unistd.h>

#include "harness.h"

#define ACME "2222"
#define BOLT "1111"
#define COBRA "3333"
#define ACME_LRN "3035550001"
#define ALL_SCOPES "inventory:search,inventory:reserve,inventory:assign,inventory:release"

struct world {
	char root[256];
	char data[HARNESS_PATH_MAX];
	char log[HARNESS_PATH_MAX];
	struct harness_server srv;
	char acme[64], bolt[64], cobra[64], reader[64], soa_only[64], both[64];
	int starts;
};

static struct world W;

static const char fx_cocode[] =
	"\"NPA\",\"CO Code (NXX)\",\"Status\",\"Exchange Area\",\"Province\",\"Company\","
	"\"OCN\",\"Remarks\"\n"
	"303,555,\"In Service\",\"Denver\",\"CO\",\"Acme Tel\",\"" ACME "\",\n"
	"303,556,\"In Service\",\"Boulder\",\"CO\",\"Bolt Tel\",\"" BOLT "\",\n"
	"303,557,\"In Service\",\"New York Mills\",\"CO\",\"Cobra Tel\",\"" COBRA "\",\n";

/* NPB BDD: id|NPA-NXX-X|LRN|SPID|activation. */
static const char fx_blocks[] = "1|3035573|" ACME_LRN "|" ACME "|20240101120000\r";

/* LSMS SV BDD: 303-557-9001 routed to acme. */
static const char fx_ported[] = "1001|3035579001|" ACME_LRN "|" ACME
				"|20240101120000|||||||||||||0\r";

/* ---- running ---- */

static int ringer_out(const char *const *args, char *out, size_t outlen)
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

static int make_token(char *secret, const char *customer, const char *scopes, const char *spids)
{
	const char *args[] = { "token", "create", "--customer", customer, "--scopes", scopes,
			       "--spids", spids, NULL };
	char out[1024];
	const char *s;

	if (ringer_out(args, out, sizeof(out)) != 0 || (s = strstr(out, "rng_")) == NULL) {
		printf("token create failed: %s\n", out);
		return -1;
	}
	snprintf(secret, 64, "%.47s", s);
	return 0;
}

static int make_customer(const char *name)
{
	const char *args[] = { "customer", "create", name, "--rate", "100000", NULL };
	char out[512];

	return ringer_out(args, out, sizeof(out));
}

static int import(const char *kind, const char *name, const char *text)
{
	char path[HARNESS_PATH_MAX];
	const char *args[] = { "import", kind, path, NULL };

	if (harness_file_write(W.root, name, text, path, sizeof(path)) != 0)
		return -1;
	return harness_ringer(W.log, W.data, args);
}

/* (Re)start ringerd with its clock at iso. */
static void at(const char *iso)
{
	char clock[64], name[32];
	const char *env[] = { clock, "RINGER_SOA_SCHEDULER_MS=200", NULL };

	if (W.srv.pid > 0 && harness_server_stop(&W.srv, 10000) != 0) {
		harness_log_print("ringerd", W.srv.log_path, 8000);
		fail_msg("ringerd did not stop cleanly");
	}
	snprintf(clock, sizeof(clock), "RINGER_CLOCK_START=%s", iso);
	snprintf(name, sizeof(name), "ringerd-%d", W.starts++);
	if (harness_server_start(&W.srv, W.root, name, W.data, env) != 0)
		fail_msg("ringerd did not start at %s", iso);
}

/* ---- requests ---- */

/* Send and return the JSON answer (decref it); the status must be want. */
static json_t *call(const char *method, const char *path, const char *secret, const char *body,
		    long want)
{
	char auth[128];
	const char *headers[] = { auth, "Content-Type: application/json", NULL };
	struct harness_req req = { .method = method, .path = path, .headers = headers,
				   .body = body, .body_len = body ? strlen(body) : 0 };
	struct harness_resp r;
	json_t *j;

	snprintf(auth, sizeof(auth), secret ? "Authorization: Bearer %s" : "X-None: %s",
		 secret ? secret : "1");
	assert_int_equal(harness_request(&W.srv, &req, &r), 0);
	if (r.status != want)
		printf("%s %s %s\n  -> %ld %s\n", method, path, body ? body : "", r.status, r.body);
	assert_int_equal(r.status, want);
	j = json_loads(r.body, 0, NULL);
	if (j == NULL)
		printf("not JSON: %s\n", r.body);
	assert_non_null(j);
	harness_resp_release(&r);
	return j;
}

static const char *str(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : "(null)";
}

static json_int_t num(const json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

/* POST /query with query text q (JSON-escaped by jansson); returns the answer. */
static json_t *query(const char *secret, const char *q, const char *extra, long want)
{
	json_t *js = json_string(q), *j;
	char *qs = json_dumps(js, JSON_ENCODE_ANY), body[2048];

	snprintf(body, sizeof(body), "{\"query\":%s%s}", qs, extra ? extra : "");
	free(qs);
	json_decref(js);
	j = call("POST", "/api/v1/inventory/query", secret, body, want);
	return j;
}

static json_int_t count(const char *secret, const char *q)
{
	json_t *j = query(secret, q, NULL, 200);
	json_int_t n = num(j, "totalElements");

	json_decref(j);
	return n;
}

static void expect_error(json_t *j, const char *msg)
{
	assert_string_equal(str(j, "error"), msg);
	assert_non_null(json_object_get(j, "timestamp"));
	json_decref(j);
}

/* ---- the world ---- */

static int world_setup(void **state)
{
	(void)state;
	if (harness_dir_new(W.root, sizeof(W.root)) != 0)
		return -1;
	snprintf(W.data, sizeof(W.data), "%s/data", W.root);
	snprintf(W.log, sizeof(W.log), "%s/ringer.log", W.root);
	if (mkdir(W.data, 0750) != 0 || import("cocode", "cocode.csv", fx_cocode) != 0 ||
	    import("blocks", "blocks.bdd", fx_blocks) != 0 ||
	    import("ported", "ported.bdd", fx_ported) != 0)
		return -1;
	if (make_customer("acme") || make_customer("bolt") || make_customer("cobra"))
		return -1;
	if (make_token(W.acme, "acme", ALL_SCOPES ",soa:read,soa:write", ACME) ||
	    make_token(W.bolt, "bolt", ALL_SCOPES ",soa:read,soa:write", BOLT) ||
	    make_token(W.cobra, "cobra", ALL_SCOPES, COBRA) ||
	    make_token(W.reader, "acme", "inventory:search", ACME) ||
	    make_token(W.soa_only, "acme", "soa:read", ACME) ||
	    make_token(W.both, "acme", ALL_SCOPES, ACME "," COBRA))
		return -1;
	at("2031-03-03T15:00:00Z"); /* a Monday, 10:00 in Denver */
	return 0;
}

static int world_teardown(void **state)
{
	int rc = W.srv.pid > 0 ? harness_server_stop(&W.srv, 10000) : 0;

	(void)state;
	if (rc != 0)
		harness_log_print("ringerd", W.srv.log_path, 8000);
	harness_dir_remove(W.root);
	return rc == 0 ? 0 : -1;
}

/* ---- where the inventory comes from ---- */

static void test_inventory__sources_and_summary(void **state)
{
	json_t *j;

	(void)state;
	/* acme: its code (10000), its pooled block in cobra's code (1000), one ported in. */
	j = call("GET", "/api/v1/inventory/summary?spid=" ACME, W.acme, NULL, 200);
	assert_string_equal(str(j, "spid"), ACME);
	assert_int_equal(num(j, "totalNumbers"), 11001);
	assert_int_equal(num(j, "availableCount"), 11001);
	assert_int_equal(num(j, "reservedCount"), 0);
	assert_int_equal(num(j, "inUseCount"), 0);
	assert_int_equal(num(j, "portedOutCount"), 0);
	assert_int_equal(num(j, "portedInCount"), 1);
	assert_int_equal(num(j, "quarantineCount"), 0);
	assert_int_equal(num(j, "totalBlocks"), 11);
	json_decref(j);
	/* cobra: its code less acme's block; the number ported to acme is PORTED_OUT. */
	j = call("GET", "/api/v1/inventory/summary?spid=" COBRA, W.cobra, NULL, 200);
	assert_int_equal(num(j, "totalNumbers"), 9000);
	assert_int_equal(num(j, "portedOutCount"), 1);
	assert_int_equal(num(j, "availableCount"), 8999);
	assert_int_equal(num(j, "totalBlocks"), 9);
	json_decref(j);

	j = call("GET", "/api/v1/inventory/numbers/3035579001", W.acme, NULL, 200);
	assert_string_equal(str(j, "spid"), ACME);
	assert_string_equal(str(j, "status"), "AVAILABLE");
	assert_string_equal(str(j, "portDirection"), "IN");
	assert_string_equal(str(j, "discoveredVia"), "LSMS");
	assert_string_equal(str(j, "currentLrn"), ACME_LRN);
	json_decref(j);
	j = call("GET", "/api/v1/inventory/numbers/3035579001", W.cobra, NULL, 200);
	assert_string_equal(str(j, "status"), "PORTED_OUT");
	assert_string_equal(str(j, "currentOwnerSpid"), ACME);
	assert_string_equal(str(j, "originalSpid"), COBRA);
	assert_string_equal(str(j, "lastLrnDipResult"), "PORTED_OUT");
	json_decref(j);

	j = call("GET", "/api/v1/inventory/numbers/3035573500", W.acme, NULL, 200);
	assert_string_equal(str(j, "telephoneNumber"), "3035573500");
	assert_string_equal(str(j, "npa"), "303");
	assert_string_equal(str(j, "nxx"), "557");
	assert_string_equal(str(j, "blockId"), "3");
	assert_string_equal(str(j, "discoveredVia"), "LERG");
	assert_string_equal(str(j, "lastLrnDipResult"), "NEVER_PORTED");
	assert_int_equal(strlen(str(j, "id")), 36);
	json_decref(j);
	/* acme's block is not cobra's, and never visible to it. */
	expect_error(call("GET", "/api/v1/inventory/numbers/3035573500", W.cobra, NULL, 404),
		     "Number not found");
	expect_error(call("GET", "/api/v1/inventory/summary?spid=" ACME, W.cobra, NULL, 403),
		     "User does not have access to SPID: " ACME);
	j = call("GET", "/api/v1/inventory/summary?spid=" BOLT, W.bolt, NULL, 200);
	assert_int_equal(num(j, "totalNumbers"), 10000);
	json_decref(j);
	expect_error(call("GET", "/api/v1/inventory/summary?spid=abc", W.acme, NULL, 400),
		     "spid must be 4 upper-case letters or digits");
}

/* ---- the query language over HTTP ---- */

static void test_inventory__query_contract_examples(void **state)
{
	json_t *j, *first;

	(void)state;
	j = query(W.acme, "status=available", ",\"page\":0,\"size\":50", 200);
	assert_int_equal(num(j, "totalElements"), 11001);
	assert_int_equal(num(j, "totalPages"), 221);
	assert_int_equal(num(j, "page"), 0);
	assert_int_equal(num(j, "size"), 50);
	assert_true(json_is_true(json_object_get(j, "first")));
	assert_true(json_is_false(json_object_get(j, "last")));
	assert_true(json_is_integer(json_object_get(j, "executionTimeMs")));
	assert_string_equal(str(j, "parsedQuery"), "ComparisonNode(status=available)");
	assert_int_equal(json_array_size(json_object_get(j, "content")), 50);
	first = json_array_get(json_object_get(j, "content"), 0);
	assert_string_equal(str(first, "telephoneNumber"), "3035550000");
	assert_string_equal(str(first, "spid"), ACME);
	assert_string_equal(str(first, "state"), "CO");
	json_decref(j);

	j = query(W.acme, "status=available and lata=656 and ported=in",
		  ",\"page\":0,\"size\":100,\"sortBy\":\"telephoneNumber\","
		  "\"sortDirection\":\"ASC\"", 200);
	assert_int_equal(num(j, "totalElements"), 0); /* no LATA in the CO code file */
	assert_true(json_is_true(json_object_get(j, "last")));
	json_decref(j);
	assert_int_equal(count(W.acme, "status=available and ported=in"), 1);
	assert_int_equal(count(W.acme, "lata in (120,122,656) and status in (available,reserved)"),
			 0);
	assert_int_equal(count(W.acme, "npa in (303,720) and nxx in (557) and status in "
			       "(available,reserved)"), 1001);
	assert_int_equal(count(W.acme, "locality contains \"new york\""), 1001);
	assert_int_equal(count(W.acme, "(status=available or status=reserved) and ported=in"), 1);
	assert_int_equal(count(W.acme, "metadata.ban=90000957 and status=in_use"), 0);
	assert_int_equal(count(W.acme, "tn=3035550042"), 1);

	j = query(W.acme, "nxx=557", ",\"size\":2,\"page\":1,\"sortDirection\":\"DESC\","
		  "\"fields\":[\"tn\",\"status\"]", 200);
	first = json_array_get(json_object_get(j, "content"), 0);
	assert_string_equal(str(first, "telephoneNumber"), "3035573998");
	assert_int_equal(json_object_size(first), 2);
	assert_int_equal(num(j, "totalElements"), 1001);
	json_decref(j);
}

static void test_inventory__query_errors(void **state)
{
	json_t *j, *opts;

	(void)state;
	j = query(W.acme, "status=available xyz", NULL, 400);
	assert_string_equal(str(j, "query"), "status=available xyz");
	assert_int_equal(num(j, "position"), 17);
	assert_string_equal(str(j, "error"), "Unexpected token 'xyz' (expected 'and', 'or' or end "
			    "of query) at position 17");
	json_decref(j);
	j = query(W.acme, "invalid_field=test", NULL, 400);
	assert_string_equal(str(j, "error"), "Invalid field 'invalid_field'");
	opts = json_object_get(j, "validOptions");
	assert_int_equal(json_array_size(opts), 11);
	assert_string_equal(json_string_value(json_array_get(opts, 0)), "tn");
	assert_string_equal(json_string_value(json_array_get(opts, 10)), "locality");
	json_decref(j);

	j = call("POST", "/api/v1/inventory/query/validate", W.acme,
		 "{\"query\":\"status=available and lata=656\"}", 200);
	assert_true(json_is_true(json_object_get(j, "valid")));
	assert_string_equal(str(j, "parsedQuery"), "LogicalNode(AND, ComparisonNode("
			    "status=available), ComparisonNode(lata=656))");
	json_decref(j);
	j = call("POST", "/api/v1/inventory/query/validate", W.acme,
		 "{\"query\":\"invalid_field=test\"}", 200);
	assert_true(json_is_false(json_object_get(j, "valid")));
	assert_string_equal(str(j, "type"), "validation");
	assert_string_equal(str(j, "error"), "Invalid field 'invalid_field'");
	assert_int_equal(json_array_size(json_object_get(j, "validOptions")), 11);
	json_decref(j);
	j = call("POST", "/api/v1/inventory/query/validate", W.acme, "{\"query\":\"status=\"}",
		 200);
	assert_true(json_is_false(json_object_get(j, "valid")));
	assert_string_equal(str(j, "type"), "parse");
	assert_string_equal(str(j, "error"), "Unexpected token '' (expected value) at position 7");
	assert_int_equal(num(j, "position"), 7);
	json_decref(j);

	expect_error(query(W.acme, "status=available", ",\"size\":0", 400),
		     "size must be an integer from 1 to 10000");
	expect_error(query(W.acme, "status=available", ",\"sortBy\":\"metadata\"", 400),
		     "sortBy is not a sortable field");
	expect_error(call("POST", "/api/v1/inventory/query", W.acme, "{}", 400),
		     "query is required");
	expect_error(call("POST", "/api/v1/inventory/query", W.acme, "[1", 400),
		     "Request body must be a JSON object");
}

/* Values that look like SQL match nothing and break nothing. */
static void test_inventory__hostile_queries(void **state)
{
	char deep[400];
	size_t i;

	(void)state;
	assert_int_equal(count(W.acme, "locality=\"x' OR '1'='1\""), 0);
	assert_int_equal(count(W.acme, "spid=\"2222') OR spid IN ('3333\""), 0);
	assert_int_equal(count(W.acme, "tn contains \"%\""), 0);
	assert_int_equal(count(W.acme, "metadata.ban=\"1; DROP TABLE inv_number; --\""), 0);
	/* acme's numbers only, however the OR is built. */
	assert_int_equal(count(W.acme, "spid=3333 or spid=2222 or spid=1111"), 11001);
	assert_int_equal(count(W.acme, "status=available"), 11001);
	for (i = 0; i < 30; i++)
		deep[i] = '(';
	snprintf(deep + 30, sizeof(deep) - 30, "nxx=556");
	for (i = 0; i < 30; i++)
		strcat(deep, ")");
	assert_int_equal(count(W.acme, deep), 0);
	assert_int_equal(count(W.bolt, deep), 10000);
	memset(deep, '(', 200);
	deep[200] = '\0';
	json_decref(query(W.acme, deep, NULL, 400));
}

static void test_inventory__search(void **state)
{
	json_t *j;

	(void)state;
	j = call("POST", "/api/v1/inventory/search", W.acme,
		 "{\"searchQuery\":\"303557\",\"page\":0,\"size\":50}", 200);
	assert_int_equal(num(j, "totalElements"), 1001);
	json_decref(j);
	j = call("POST", "/api/v1/inventory/search", W.acme, "{\"searchQuery\":\"303\"}", 200);
	assert_int_equal(num(j, "totalElements"), 11001);
	json_decref(j);
	j = call("POST", "/api/v1/inventory/search", W.bolt, "{\"searchQuery\":\"boulder\"}", 200);
	assert_int_equal(num(j, "totalElements"), 10000);
	json_decref(j);
	j = call("POST", "/api/v1/inventory/search", W.bolt, "{\"searchQuery\":\"303555\"}", 200);
	assert_int_equal(num(j, "totalElements"), 0);
	json_decref(j);
	expect_error(call("POST", "/api/v1/inventory/search", W.acme, "{}", 400),
		     "searchQuery is required");
}

/* ---- tokens ---- */

static void test_inventory__scopes(void **state)
{
	(void)state;
	expect_error(call("GET", "/api/v1/inventory/numbers/3035550100", NULL, NULL, 401),
		     "No authentication token");
	json_decref(call("GET", "/api/v1/inventory/numbers/3035550100", "rng_nope", NULL, 401));
	expect_error(call("GET", "/api/v1/inventory/numbers/3035550100", W.soa_only, NULL, 403),
		     "User does not have permission to access this resource");
	json_decref(call("GET", "/api/v1/inventory/numbers/3035550100", W.reader, NULL, 200));
	json_decref(call("POST", "/api/v1/inventory/numbers/3035550100/reserve", W.reader,
			 "{\"reservedBy\":\"ivr\"}", 403));
	json_decref(call("POST", "/api/v1/inventory/numbers/3035550100/assign", W.reader,
			 "{\"applicationId\":\"ivr\"}", 403));
	json_decref(call("PUT", "/api/v1/inventory/numbers/3035550100/metadata", W.reader,
			 "{\"metadata\":{}}", 403));
	json_decref(call("POST", "/api/v1/inventory/numbers/3035550100/release", W.reader, NULL,
			 403));
	/* Another carrier's number is simply not there. */
	expect_error(call("POST", "/api/v1/inventory/numbers/3035550100/reserve", W.bolt,
			  "{\"reservedBy\":\"ivr\"}", 404), "Number not found");
	expect_error(call("GET", "/api/v1/inventory/numbers/303555010", W.acme, NULL, 400),
		     "telephoneNumber must be 10 digits");
	/* A token for two SPIDs sees both. */
	assert_int_equal(count(W.both, "status=available or status=ported_out"), 11001 + 9000);
}

/* ---- the lifecycle ---- */

static void test_inventory__lifecycle(void **state)
{
	const char *tn = "/api/v1/inventory/numbers/3035551234";
	char path[128];
	json_t *j;

	(void)state;
	snprintf(path, sizeof(path), "%s/reserve", tn);
	expect_error(call("POST", path, W.acme, "{}", 400), "reservedBy is required");
	j = call("POST", path, W.acme, "{\"reservedBy\":\"ivr-system\"}", 200);
	assert_string_equal(str(j, "status"), "RESERVED");
	assert_string_equal(str(j, "reservedBy"), "ivr-system");
	assert_true(json_is_null(json_object_get(j, "reservedUntil")));
	assert_memory_equal(str(j, "updatedAt"), "2031-03-03T15:0", 15); /* the clock runs */
	json_decref(j);
	expect_error(call("POST", path, W.acme, "{\"reservedBy\":\"other\"}", 409),
		     "Number is not available: 3035551234 (current status: RESERVED)");

	snprintf(path, sizeof(path), "%s/metadata", tn);
	expect_error(call("PUT", path, W.acme, "{\"metadata\":{\"a\":1}}", 409),
		     "Can only update metadata for IN_USE numbers. Current status: RESERVED");

	snprintf(path, sizeof(path), "%s/assign", tn);
	expect_error(call("POST", path, W.acme, "{\"metadata\":{}}", 400),
		     "applicationId is required");
	j = call("POST", path, W.acme, "{\"applicationId\":\"ivr-system\",\"metadata\":{\"ban\":"
		 "\"BAN12345\",\"customer_name\":\"Acme Corp\",\"platform\":\"Asterisk\","
		 "\"department\":\"Sales\"}}", 200);
	assert_string_equal(str(j, "status"), "IN_USE");
	assert_string_equal(str(j, "applicationId"), "ivr-system");
	assert_string_equal(str(json_object_get(j, "applicationMetadata"), "customer_name"),
			    "Acme Corp");
	assert_int_equal(num(j, "timesAssigned"), 1);
	assert_memory_equal(str(j, "firstAssignedAt"), "2031-03-03T15:0", 15);
	json_decref(j);
	expect_error(call("POST", path, W.acme, "{\"applicationId\":\"x\"}", 409),
		     "Number is not available: 3035551234 (current status: IN_USE)");
	assert_int_equal(count(W.acme, "metadata.ban=BAN12345 and status=in_use"), 1);
	assert_int_equal(count(W.acme, "metadata.department contains sal"), 1);

	snprintf(path, sizeof(path), "%s/metadata", tn);
	expect_error(call("PUT", path, W.acme, "{}", 400), "metadata is required");
	j = call("PUT", path, W.acme, "{\"metadata\":{\"ban\":90000957,\"customer_name\":"
		 "\"Updated Corp\"}}", 200);
	assert_int_equal(json_object_size(json_object_get(j, "applicationMetadata")), 2);
	json_decref(j);
	assert_int_equal(count(W.acme, "metadata.ban=90000957 and status=in_use"), 1);
	assert_int_equal(count(W.acme, "metadata.platform=Asterisk"), 0);

	j = call("GET", "/api/v1/inventory/summary?spid=" ACME, W.acme, NULL, 200);
	assert_int_equal(num(j, "inUseCount"), 1);
	assert_int_equal(num(j, "availableCount"), 11000);
	json_decref(j);

	snprintf(path, sizeof(path), "%s/release", tn);
	j = call("POST", path, W.acme, NULL, 200);
	assert_string_equal(str(j, "status"), "AVAILABLE");
	assert_true(json_is_null(json_object_get(j, "applicationId")));
	assert_true(json_is_null(json_object_get(j, "applicationMetadata")));
	assert_true(json_is_null(json_object_get(j, "reservedBy")));
	json_decref(j);
	expect_error(call("POST", path, W.acme, NULL, 409),
		     "Number cannot be released from current status: AVAILABLE");

	/* AVAILABLE -> IN_USE directly, then a second assignment counts. */
	snprintf(path, sizeof(path), "%s/assign", tn);
	j = call("POST", path, W.acme, "{\"applicationId\":\"call-center-app\"}", 200);
	assert_int_equal(num(j, "timesAssigned"), 2);
	assert_true(json_is_null(json_object_get(j, "applicationMetadata")));
	json_decref(j);
}

/* A port activated by Portability changes both carriers' inventories at once. */
static void test_inventory__port_activation(void **state)
{
	const char *create = "{\"tn\":\"3035561500\",\"oldSpid\":\"" BOLT "\",\"newSpid\":\""
		ACME "\",\"portType\":\"SIMPLE\",\"requestedPortDate\":\"2031-03-04\",\"lrn\":\""
		ACME_LRN "\",\"authorizationCode\":\"PIN1234\",\"subscriberInfo\":{\"lastName\":"
		"\"Doe\",\"firstName\":\"Jane\",\"address\":{\"street\":\"1 Main St\",\"city\":"
		"\"Denver\",\"state\":\"CO\",\"zip\":\"80202\"}}}";
	const char *num_path = "/api/v1/inventory/numbers/3035561500";
	char path[128];
	json_t *j;

	(void)state;
	/* bolt's number is in use by one of bolt's applications before it ports. */
	snprintf(path, sizeof(path), "%s/assign", num_path);
	json_decref(call("POST", path, W.bolt, "{\"applicationId\":\"pbx\",\"metadata\":"
			 "{\"ban\":\"B1\"}}", 200));
	expect_error(call("GET", num_path, W.acme, NULL, 404), "Number not found");

	json_decref(call("POST", "/v1/lnp/soa/lrn/create", W.acme, "{\"lrn\":\"" ACME_LRN
			 "\",\"spid\":\"" ACME "\",\"name\":\"Denver switch\"}", 201));
	json_decref(call("POST", "/api/v1/soa/npanxxcreate", W.bolt, "{\"npanxx\":\"303556\","
			 "\"spid\":\"" BOLT "\",\"effectiveDate\":\"2031-03-03\"}", 200));
	json_decref(call("POST", "/v1/lnp/soa/create", W.acme, create, 201));
	json_decref(call("POST", "/v1/lnp/soa/release", W.bolt,
			 "{\"tn\":\"3035561500\",\"reason\":\"customer asked\"}", 200));
	/* Pending is not ported: bolt still has it in use. */
	j = call("GET", num_path, W.bolt, NULL, 200);
	assert_string_equal(str(j, "status"), "IN_USE");
	json_decref(j);

	at("2031-03-04T15:00:00Z"); /* the due date */
	json_decref(call("POST", "/v1/lnp/soa/activate", W.acme, "{\"tn\":\"3035561500\",\"lrn\":\""
			 ACME_LRN "\",\"activationTime\":\"2031-01-01T00:00:00Z\"}", 200));

	j = call("GET", num_path, W.bolt, NULL, 200);
	assert_string_equal(str(j, "status"), "PORTED_OUT");
	assert_string_equal(str(j, "currentOwnerSpid"), ACME);
	assert_string_equal(str(j, "originalSpid"), BOLT);
	assert_string_equal(str(j, "portDirection"), "OUT");
	assert_memory_equal(str(j, "lastPortDate"), "2031-03-04T15:0", 15);
	assert_true(json_is_null(json_object_get(j, "applicationId")));
	assert_true(json_is_null(json_object_get(j, "applicationMetadata")));
	json_decref(j);
	j = call("GET", num_path, W.acme, NULL, 200);
	assert_string_equal(str(j, "status"), "AVAILABLE");
	assert_string_equal(str(j, "spid"), ACME);
	assert_string_equal(str(j, "portDirection"), "IN");
	assert_string_equal(str(j, "originalSpid"), BOLT);
	assert_string_equal(str(j, "currentLrn"), ACME_LRN);
	assert_memory_equal(str(j, "lastPortDate"), "2031-03-04T15:0", 15);
	json_decref(j);

	/* The donor can do nothing more with it; the new carrier can. */
	snprintf(path, sizeof(path), "%s/reserve", num_path);
	expect_error(call("POST", path, W.bolt, "{\"reservedBy\":\"pbx\"}", 409),
		     "Cannot reserve ported-out number: 3035561500");
	snprintf(path, sizeof(path), "%s/assign", num_path);
	expect_error(call("POST", path, W.bolt, "{\"applicationId\":\"pbx\"}", 409),
		     "Cannot assign ported-out number: 3035561500");
	snprintf(path, sizeof(path), "%s/release", num_path);
	expect_error(call("POST", path, W.bolt, NULL, 409),
		     "Number cannot be released from current status: PORTED_OUT");
	snprintf(path, sizeof(path), "%s/reserve", num_path);
	json_decref(call("POST", path, W.acme, "{\"reservedBy\":\"ivr\"}", 200));

	assert_int_equal(count(W.bolt, "status=ported_out"), 1);
	assert_int_equal(count(W.bolt, "metadata.ban=B1"), 0);
	assert_int_equal(count(W.acme, "ported=in"), 2);
	assert_int_equal(count(W.acme, "(status=available or status=reserved) and ported=in"), 2);
	j = call("GET", "/api/v1/inventory/summary?spid=" BOLT, W.bolt, NULL, 200);
	assert_int_equal(num(j, "portedOutCount"), 1);
	assert_int_equal(num(j, "inUseCount"), 0);
	json_decref(j);
}

/* The port above disconnected: the number snaps back to bolt, the code holder, unused. */
static void test_inventory__disconnect_snapback(void **state)
{
	const char *num_path = "/api/v1/inventory/numbers/3035561500";
	json_t *j = NULL;
	int tries;

	(void)state;
	json_decref(call("POST", "/v1/lnp/soa/disconnect", W.acme,
			 "{\"tn\":\"3035561500\",\"disconnectDate\":\"2031-03-04\"}", 200));
	/* The SV goes old once the route's removal is broadcast. */
	for (tries = 0; tries < 50; tries++) {
		j = call("GET", num_path, W.bolt, NULL, 200);
		if (strcmp(str(j, "status"), "AVAILABLE") == 0)
			break;
		json_decref(j);
		j = NULL;
		usleep(100000);
	}
	assert_non_null(j);
	assert_string_equal(str(j, "currentOwnerSpid"), BOLT);
	assert_true(json_is_null(json_object_get(j, "portDirection")));
	assert_true(json_is_null(json_object_get(j, "currentLrn")));
	assert_true(json_is_null(json_object_get(j, "applicationId")));
	assert_true(json_is_null(json_object_get(j, "applicationMetadata")));
	json_decref(j);
	/* It left acme's inventory, reservation and all. */
	expect_error(call("GET", num_path, W.acme, NULL, 404), "Number not found");
	assert_int_equal(count(W.acme, "ported=in"), 1);
	assert_int_equal(count(W.bolt, "status=ported_out"), 0);
	json_decref(call("POST", "/api/v1/inventory/numbers/3035561500/assign", W.bolt,
			 "{\"applicationId\":\"pbx\"}", 200));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inventory__sources_and_summary),
		cmocka_unit_test(test_inventory__query_contract_examples),
		cmocka_unit_test(test_inventory__query_errors),
		cmocka_unit_test(test_inventory__hostile_queries),
		cmocka_unit_test(test_inventory__search),
		cmocka_unit_test(test_inventory__scopes),
		cmocka_unit_test(test_inventory__lifecycle),
		cmocka_unit_test(test_inventory__port_activation),
		cmocka_unit_test(test_inventory__disconnect_snapback),
	};

	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
