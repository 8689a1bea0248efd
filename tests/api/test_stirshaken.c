/* test_stirshaken.c - STIR/SHAKEN through a real ringerd (POST /v1/telique/stirshaken/...).
 *
 * The PKI and the tokens are made with the openssl command
 * (tests/stirshaken/mkpki.sh, mkjws.sh), served by `openssl s_server -HTTP`
 * on 127.0.0.1, which ringerd is told to allow; a second, ringer-made chain
 * (`ringer pki ca` and `ringer pki sp`) is used for the signing route. A
 * listener in this process that never answers stands in for a dead server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define VALIDATE "/v1/telique/stirshaken/validate"
#define SIGN "/v1/telique/stirshaken/sign"
#define ORIGID "123e4567-e89b-12d3-a456-426655440000"
#define BAD_REQ "{\"status\":\"error\",\"error\":\"Invalid request parameters\"," \
		"\"error_code\":\"INVALID_REQUEST\"}"
#define LIMIT_MS 3000

struct world {
	char root[HARNESS_PATH_MAX];
	char pki[HARNESS_PATH_MAX + 16];
	char data[HARNESS_PATH_MAX + 16];
	char log[HARNESS_PATH_MAX + 16];
	char scripts[HARNESS_PATH_MAX + 32];
	unsigned port;      /* s_server */
	unsigned mute_port; /* accepts connections, never answers */
	int mute_fd;
	pid_t tls_server;
	struct harness_server d;
};

static struct world W;

/* ---- set-up ---- */

static int listen_any(unsigned *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 64) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static bool port_open(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static pid_t start_tls_server(void)
{
	char www[HARNESS_PATH_MAX + 32], port[32];
	pid_t pid;

	snprintf(www, sizeof(www), "%s/www", W.pki);
	snprintf(port, sizeof(port), "127.0.0.1:%u", W.port);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (chdir(www) != 0 || !freopen("/dev/null", "w", stdout))
			_exit(126);
		execlp("openssl", "openssl", "s_server", "-HTTP", "-quiet", "-accept", port,
		       "-cert", "../tls.pem", "-key", "../tls.key", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* `ringer pki` makes a second chain; its SP certificate is served as ringer-sp.pem. */
static int ringer_chain(void)
{
	char ca[HARNESS_PATH_MAX + 8], sp[HARNESS_PATH_MAX + 8];
	const char *a1[] = { "pki", "ca", ca, NULL };
	const char *a2[] = { "pki", "sp", sp, "--ca", ca, "--spc", "5678", NULL };

	snprintf(ca, sizeof(ca), "%s/rca", W.root);
	snprintf(sp, sizeof(sp), "%s/rsp", W.root);
	if (harness_ringer(W.log, W.data, a1) != 0 || harness_ringer(W.log, W.data, a2) != 0)
		return -1;
	if (sh("openssl verify -CAfile %s/ca.pem %s/sp.pem >/dev/null", ca, sp) != 0)
		return -1;
	return sh("cd %s/www && { printf 'HTTP/1.0 200 OK\\r\\n\\r\\n'; cat %s/sp.pem; } "
		  "> ringer-sp.pem && cat %s/ca.pem %s/ca.pem > %s/anchors.pem", W.pki, sp,
		  W.pki, ca, W.root);
}

static int start_ringerd(void)
{
	char e[7][HARNESS_PATH_MAX + 128];
	const char *env[8];

	snprintf(e[0], sizeof(e[0]), "RINGER_STIRSHAKEN_TRUST_ANCHORS=%s/anchors.pem", W.root);
	snprintf(e[1], sizeof(e[1]), "RINGER_STIRSHAKEN_FETCH_CA_FILE=%s/tls-ca.pem", W.pki);
	snprintf(e[2], sizeof(e[2]), "RINGER_STIRSHAKEN_FETCH_ALLOW=127.0.0.1/32");
	snprintf(e[3], sizeof(e[3]), "RINGER_STIRSHAKEN_SIGN_KEY=%s/rsp/sp.key", W.root);
	snprintf(e[4], sizeof(e[4]), "RINGER_STIRSHAKEN_SIGN_X5U=https://127.0.0.1:%u/ringer-sp.pem",
		 W.port);
	snprintf(e[5], sizeof(e[5]), "RINGER_LOG_LEVEL=info");
	/* The test servers' ports besides the default 443 and 8443. */
	snprintf(e[6], sizeof(e[6]), "RINGER_STIRSHAKEN_FETCH_PORTS=443,8443,%u,%u", W.port,
		 W.mute_port);
	for (int i = 0; i < 7; i++)
		env[i] = e[i];
	env[7] = NULL;
	return harness_server_start(&W.d, W.root, "ringerd", W.data, env);
}

static int world_setup(void **state)
{
	const char *src = getenv("RINGER_SOURCE_ROOT");
	const char *allow[] = { "allow", "add", "127.0.0.1", NULL };
	int fd;

	if (harness_dir_new(W.root, sizeof(W.root)) != 0)
		return -1;
	snprintf(W.pki, sizeof(W.pki), "%s/pki", W.root);
	snprintf(W.data, sizeof(W.data), "%s/data", W.root);
	snprintf(W.log, sizeof(W.log), "%s/ringer.log", W.root);
	snprintf(W.scripts, sizeof(W.scripts), "%s/tests/stirshaken", src ? src : ".");
	if ((fd = listen_any(&W.port)) < 0)
		return -1;
	close(fd);
	if ((W.mute_fd = listen_any(&W.mute_port)) < 0 ||
	    sh("sh %s/mkpki.sh %s %u", W.scripts, W.pki, W.port) != 0 ||
	    (W.tls_server = start_tls_server()) <= 0 || ringer_chain() != 0 ||
	    harness_ringer(W.log, W.data, allow) != 0) {
		harness_log_print("ringer", W.log, 4096);
		return -1;
	}
	for (int i = 0; i < 200 && !port_open(W.port); i++)
		harness_sleep_ms(25);
	return start_ringerd();
}

static int world_teardown(void **state)
{
	int rc = harness_server_stop(&W.d, 5000);

	if (W.tls_server > 0) {
		kill(W.tls_server, SIGTERM);
		waitpid(W.tls_server, NULL, 0);
	}
	close(W.mute_fd);
	if (rc != 0)
		harness_log_print("ringerd", W.d.log_path, 8192);
	harness_dir_remove(W.root);
	return rc == 0 ? 0 : -1;
}

/* ---- tokens (openssl) and requests ---- */

static void url_of(const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "https://127.0.0.1:%u/%s", W.port, name);
}

static char *jws(const char *key, const char *header, const char *payload)
{
	char hp[HARNESS_PATH_MAX], pp[HARNESS_PATH_MAX], cmd[4 * HARNESS_PATH_MAX + 128];
	char *tok = calloc(1, 8192);
	FILE *p;

	assert_non_null(tok);
	assert_int_equal(harness_file_write(W.root, "h.json", header, hp, sizeof(hp)), 0);
	assert_int_equal(harness_file_write(W.root, "p.json", payload, pp, sizeof(pp)), 0);
	snprintf(cmd, sizeof(cmd), "sh %s/mkjws.sh %s/%s %s %s", W.scripts, W.pki, key, hp, pp);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(tok, 8192, p));
	assert_int_equal(pclose(p), 0);
	tok[strcspn(tok, "\n")] = '\0';
	return tok;
}

/* header: a format with one %s for x5u; payload: a format with one %lld for iat. */
static char *token(const char *key, const char *hfmt, const char *x5u, const char *pfmt,
		   long long iat)
{
	char h[600], p[600];

	snprintf(h, sizeof(h), hfmt, x5u);
	snprintf(p, sizeof(p), pfmt, iat);
	return jws(key, h, p);
}

#define HDR "{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"passport\",\"x5u\":\"%s\"}"
#define PAY "{\"attest\":\"A\",\"dest\":{\"tn\":[\"12155551213\"]},\"iat\":%lld," \
	    "\"orig\":{\"tn\":\"12155551212\"},\"origid\":\"" ORIGID "\"}"

static long post(const char *path, const char *body, struct harness_resp *r)
{
	const char *hdrs[] = { "Content-Type: application/json", NULL };
	struct harness_req req = { .method = "POST", .path = path, .headers = hdrs,
				   .body = body, .body_len = strlen(body) };

	assert_int_equal(harness_request(&W.d, &req, r), 0);
	return r->status;
}

/* POST validate with token and certUrl; returns the parsed answer (decref it). */
static json_t *validate(const char *tok, const char *url, const char *extra_key,
			const char *extra_val)
{
	json_t *req = json_pack("{s:s, s:s, s:s, s:s}", "token", tok, "certUrl", url,
				"algorithm", "ES256", "ppt", "shaken");
	struct harness_resp r;
	char *body;
	json_t *j;
	long long t0 = harness_now_ms();

	if (extra_key)
		json_object_set_new(req, extra_key, json_string(extra_val));
	body = json_dumps(req, JSON_COMPACT);
	assert_int_equal(post(VALIDATE, body, &r), 200);
	assert_true(harness_now_ms() - t0 < LIMIT_MS);
	assert_string_equal(r.ctype, "application/json");
	j = json_loads(r.body, 0, NULL);
	assert_non_null(j);
	harness_resp_release(&r);
	free(body);
	json_decref(req);
	return j;
}

/* The reason code of an answer; 0 when valid (and then there must be no reason). */
static int code_of(json_t *j)
{
	json_t *reason = json_object_get(j, "reason");

	if (json_is_true(json_object_get(j, "valid"))) {
		assert_null(reason);
		return 0;
	}
	assert_true(json_is_false(json_object_get(j, "valid")));
	assert_true(json_is_string(json_object_get(reason, "text")));
	return (int)json_integer_value(json_object_get(reason, "code"));
}

static void expect(const char *tok, const char *url, int code)
{
	json_t *j = validate(tok, url, NULL, NULL);

	if (code_of(j) != code)
		printf("expected %d for %.60s...: %s\n", code, tok,
		       json_string_value(json_object_get(json_object_get(j, "reason"), "text")));
	assert_int_equal(code_of(j), code);
	json_decref(j);
}

/* ---- tests ---- */

static void test_valid(void **state)
{
	char url[200], *tok, want[600];
	struct harness_resp r;
	char *body;
	json_t *req;

	url_of("sp.pem", url, sizeof(url));
	tok = token("sp.key", HDR, url, PAY, (long long)time(NULL));
	req = json_pack("{s:s, s:s, s:s, s:s}", "token", tok, "certUrl", url, "algorithm",
			"ES256", "ppt", "shaken");
	body = json_dumps(req, JSON_COMPACT);
	assert_int_equal(post(VALIDATE, body, &r), 200);
	snprintf(want, sizeof(want), "{\"valid\":true,\"attest\":\"A\",\"orig\":\"12155551212\","
		 "\"dest\":[\"12155551213\"],\"origid\":\"%s\",\"spc\":\"1234\"}", ORIGID);
	assert_string_equal(r.body, want);
	harness_resp_release(&r);
	free(body);
	json_decref(req);
	free(tok);
}

struct tcase {
	const char *name;
	const char *key;
	const char *hdr;  /* NULL = HDR */
	const char *pay;  /* NULL = PAY */
	const char *cert; /* file on the TLS server */
	long long iat_offset;
	int code;
};

static const struct tcase cases[] = {
	{ "no attest", "sp.key", NULL, "{\"dest\":{\"tn\":[\"1\"]},\"iat\":%lld,"
	  "\"orig\":{\"tn\":\"1\"},\"origid\":\"x\"}", "sp.pem", 0, 438 },
	{ "no dest", "sp.key", NULL, "{\"attest\":\"A\",\"iat\":%lld,"
	  "\"orig\":{\"tn\":\"1\"},\"origid\":\"x\"}", "sp.pem", 0, 438 },
	{ "no iat", "sp.key", NULL, "{\"attest\":\"A\",\"dest\":{\"tn\":[\"1\"]},\"x\":%lld,"
	  "\"orig\":{\"tn\":\"1\"},\"origid\":\"x\"}", "sp.pem", 0, 438 },
	{ "no orig", "sp.key", NULL, "{\"attest\":\"A\",\"dest\":{\"tn\":[\"1\"]},\"iat\":%lld,"
	  "\"origid\":\"x\"}", "sp.pem", 0, 438 },
	{ "no origid", "sp.key", NULL, "{\"attest\":\"A\",\"dest\":{\"tn\":[\"1\"]},\"iat\":%lld,"
	  "\"orig\":{\"tn\":\"1\"}}", "sp.pem", 0, 438 },
	{ "iat past", "sp.key", NULL, NULL, "sp.pem", -61, 403 },
	{ "iat future", "sp.key", NULL, NULL, "sp.pem", 30, 403 },
	{ "alg", "sp.key", "{\"alg\":\"ES384\",\"ppt\":\"shaken\",\"typ\":\"passport\","
	  "\"x5u\":\"%s\"}", NULL, "sp.pem", 0, 438 },
	{ "ppt", "sp.key", "{\"alg\":\"ES256\",\"ppt\":\"div\",\"typ\":\"passport\","
	  "\"x5u\":\"%s\"}", NULL, "sp.pem", 0, 438 },
	{ "typ", "sp.key", "{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"JWT\","
	  "\"x5u\":\"%s\"}", NULL, "sp.pem", 0, 438 },
	{ "other key", "other.key", NULL, NULL, "sp.pem", 0, 438 },
	{ "expired", "sp.key", NULL, NULL, "expired.pem", 0, 437 },
	{ "not yet valid", "sp.key", NULL, NULL, "future.pem", 0, 437 },
	{ "untrusted", "sp.key", NULL, NULL, "untrusted.pem", 0, 437 },
	{ "no TNAuthList", "sp.key", NULL, NULL, "notn.pem", 0, 437 },
	{ "keyUsage not critical", "sp.key", NULL, NULL, "kunotcrit.pem", 0, 437 },
	{ "keyUsage beyond digitalSignature", "sp.key", NULL, NULL, "kuextra.pem", 0, 437 },
	{ "no SKI", "sp.key", NULL, NULL, "noski.pem", 0, 437 },
	{ "short serial", "sp.key", NULL, NULL, "shortserial.pem", 0, 437 },
	{ "no certificatePolicies", "sp.key", NULL, NULL, "nopolicy.pem", 0, 437 },
	{ "not a certificate", "sp.key", NULL, NULL, "notcert.pem", 0, 436 },
	{ "empty", "sp.key", NULL, NULL, "empty.pem", 0, 436 },
	{ "404", "sp.key", NULL, NULL, "missing.pem", 0, 436 },
	{ "x5u empty", "sp.key", "{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"passport\","
	  "\"x5u\":\"\"}%s", NULL, "sp.pem", 0, 438 },
};

static void test_cases(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *c = &cases[i];
		char url[200], *tok;

		url_of(c->cert, url, sizeof(url));
		tok = token(c->key, c->hdr ? c->hdr : HDR, c->hdr && strstr(c->hdr, "\"\"}") ?
			    "" : url, c->pay ? c->pay : PAY, (long long)time(NULL) + c->iat_offset);
		printf("case %s\n", c->name);
		expect(tok, url, c->code);
		free(tok);
	}
	/* iat zero and negative. */
	{
		char url[200], *tok;

		url_of("sp.pem", url, sizeof(url));
		tok = token("sp.key", HDR, url, PAY, 0);
		expect(tok, url, 403);
		free(tok);
		tok = token("sp.key", HDR, url, PAY, -100);
		expect(tok, url, 438);
		free(tok);
	}
}

static void test_header_encoding(void **state)
{
	char url[200], bad[9000], *tok;

	url_of("sp.pem", url, sizeof(url));
	tok = token("sp.key", HDR, url, PAY, (long long)time(NULL));
	snprintf(bad, sizeof(bad), "e!J*%s", strchr(tok, '.'));
	expect(bad, url, 438);
	snprintf(bad, sizeof(bad), "bm90IGpzb24%s", strchr(tok, '.'));
	expect(bad, url, 438);
	free(tok);
}

static void test_x5u_mismatch(void **state)
{
	char url[200], other[200], *tok;

	url_of("sp.pem", url, sizeof(url));
	url_of("notn.pem", other, sizeof(other));
	tok = token("sp.key", HDR, other, PAY, (long long)time(NULL));
	expect(tok, url, 438);
	free(tok);
	tok = token("sp.key", HDR, "not a url", PAY, (long long)time(NULL));
	expect(tok, "not a url", 436);
	free(tok);
}

static void test_orig_dest(void **state)
{
	char url[200], *tok;
	json_t *j;

	url_of("sp.pem", url, sizeof(url));
	tok = token("sp.key", HDR, url, PAY, (long long)time(NULL));
	j = validate(tok, url, "origTn", "12155550000");
	assert_int_equal(code_of(j), 438);
	assert_string_equal(json_string_value(json_object_get(j, "orig")), "12155551212");
	json_decref(j);
	j = validate(tok, url, "destTn", "+12155550000");
	assert_int_equal(code_of(j), 438);
	json_decref(j);
	j = validate(tok, url, "destTn", "2155551213");
	assert_int_equal(code_of(j), 0);
	json_decref(j);
	free(tok);
}

static void test_identity(void **state)
{
	char url[200], id[9000], body[9200], *tok;
	struct harness_resp r;

	url_of("sp.pem", url, sizeof(url));
	tok = token("sp.key", HDR, url, PAY, (long long)time(NULL));
	snprintf(id, sizeof(id), "%s;info=<%s>;alg=ES256;ppt=shaken", tok, url);
	snprintf(body, sizeof(body), "{\"identity\":\"%s\"}", id);
	assert_int_equal(post(VALIDATE, body, &r), 200);
	assert_non_null(strstr(r.body, "\"valid\":true"));
	harness_resp_release(&r);
	free(tok);
}

static void test_silent_server_and_health(void **state)
{
	char url[200], *tok;
	struct harness_resp r;
	long long t0;

	snprintf(url, sizeof(url), "https://127.0.0.1:%u/sp.pem", W.mute_port);
	tok = token("sp.key", HDR, url, PAY, (long long)time(NULL));
	t0 = harness_now_ms();
	expect(tok, url, 436);
	assert_true(harness_now_ms() - t0 >= 1900);
	free(tok);
	assert_true(harness_server_alive(&W.d));
	assert_int_equal(harness_get(&W.d, "/health", &r), 0);
	assert_int_equal(r.status, 200);
	harness_resp_release(&r);
}

static void test_ssrf(void **state)
{
	static const char *const urls[] = {
		"https://169.254.169.254/latest/meta-data/cert.pem",
		"https://127.0.0.2:%u/sp.pem",
		"https://10.0.0.1/sp.pem",
		"https://[::1]:%u/sp.pem",
		"https://[fd00:ec2::254]/cert.pem",
	};
	char url[200], *tok;
	long long t0;
	json_t *j;

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		snprintf(url, sizeof(url), urls[i], W.mute_port);
		tok = token("sp.key", HDR, url, PAY, (long long)time(NULL));
		t0 = harness_now_ms();
		j = validate(tok, url, NULL, NULL);
		assert_int_equal(code_of(j), 436);
		assert_string_equal(json_string_value(json_object_get(json_object_get(j, "reason"),
								      "text")),
				    "certificate URL address refused");
		assert_true(harness_now_ms() - t0 < 1000);
		json_decref(j);
		free(tok);
	}
	/* A port outside fetch_ports, on an address that is allowed. */
	snprintf(url, sizeof(url), "https://127.0.0.1:1/sp.pem");
	tok = token("sp.key", HDR, url, PAY, (long long)time(NULL));
	j = validate(tok, url, NULL, NULL);
	assert_int_equal(code_of(j), 436);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "reason"),
							      "text")),
			    "certificate URL port not allowed");
	json_decref(j);
	free(tok);
}

static void test_bad_requests(void **state)
{
	static const char *const bodies[] = {
		"", "not json", "[]", "{\"token\":\"a\"}",
		"{\"token\":1,\"certUrl\":\"u\",\"algorithm\":\"ES256\",\"ppt\":\"shaken\"}",
		"{\"certUrl\":\"u\",\"algorithm\":\"ES256\",\"ppt\":\"shaken\"}",
		"{\"token\":\"a\",\"certUrl\":\"u\",\"algorithm\":\"ES256\"}",
		"{\"token\":\"a\",\"token\":\"b\",\"certUrl\":\"u\",\"algorithm\":\"ES256\","
		"\"ppt\":\"shaken\"}",
		"{\"token\":\"a\",\"certUrl\":\"u\",\"algorithm\":\"ES256\",\"ppt\":\"shaken\","
		"\"origTn\":\"abc\"}",
		/* What the handler's plain-object shortcut must still refuse as JSON does. */
		"{\"token\":\"a\",\"certUrl\":\"u\",\"algorithm\":\"ES256\",\"ppt\":\"shaken\",}",
		"{\"token\":\"a\",\"certUrl\":\"u\",\"algorithm\":\"ES256\",\"ppt\":\"shaken\"} x",
		"{\"x\":\"1\",\"x\":\"2\",\"token\":\"a\",\"certUrl\":\"u\","
		"\"algorithm\":\"ES256\",\"ppt\":\"shaken\"}",
		"{\"token\":\"a\" \"certUrl\":\"u\",\"algorithm\":\"ES256\",\"ppt\":\"shaken\"}",
		"{,\"token\":\"a\",\"certUrl\":\"u\",\"algorithm\":\"ES256\",\"ppt\":\"shaken\"}",
	};
	static const char *const answered[] = {
		/* An escape and a member of another type go to the full parser: still answers. */
		"{\"token\":\"a.b.c\",\"certUrl\":\"https://x/\",\"algorithm\":\"\\u0052S256\","
		"\"ppt\":\"shaken\"}",
		"{\"token\":\"a.b.c\",\"certUrl\":\"https://x/\",\"algorithm\":\"RS256\","
		"\"ppt\":\"shaken\",\"extra\":[1]}",
		" { \"token\" : \"a.b.c\" , \"certUrl\":\"https://x/\",\"algorithm\":\"RS256\","
		"\"ppt\":\"shaken\" }\n",
	};
	struct harness_resp r;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(post(VALIDATE, bodies[i], &r), 400);
		assert_string_equal(r.body, BAD_REQ);
		harness_resp_release(&r);
	}
	for (size_t i = 0; i < sizeof(answered) / sizeof(answered[0]); i++) {
		assert_int_equal(post(VALIDATE, answered[i], &r), 200);
		assert_string_equal(r.body, "{\"valid\":false,\"reason\":{\"code\":438,"
				    "\"text\":\"unsupported algorithm\"}}");
		harness_resp_release(&r);
	}
	/* Well-formed but wrong algorithm: an answer, not an error. */
	assert_int_equal(post(VALIDATE, "{\"token\":\"a.b.c\",\"certUrl\":\"https://x/\","
			      "\"algorithm\":\"RS256\",\"ppt\":\"shaken\"}", &r), 200);
	assert_string_equal(r.body, "{\"valid\":false,\"reason\":{\"code\":438,"
			    "\"text\":\"unsupported algorithm\"}}");
	harness_resp_release(&r);
}

static void test_sign_then_validate(void **state)
{
	struct harness_resp r;
	json_t *j, *v;
	char url[200];

	assert_int_equal(post(SIGN, "{\"orig\":\"12155551212\",\"dest\":[\"12155551213\"],"
			      "\"attest\":\"C\",\"origid\":\"" ORIGID "\"}", &r), 200);
	j = json_loads(r.body, 0, NULL);
	harness_resp_release(&r);
	assert_non_null(j);
	url_of("ringer-sp.pem", url, sizeof(url));
	assert_non_null(strstr(json_string_value(json_object_get(j, "identity")), url));
	v = validate(json_string_value(json_object_get(j, "passport")), url, NULL, NULL);
	assert_int_equal(code_of(v), 0);
	assert_string_equal(json_string_value(json_object_get(v, "spc")), "5678");
	assert_string_equal(json_string_value(json_object_get(v, "attest")), "C");
	json_decref(v);
	json_decref(j);
	/* A single dest string is accepted too; bad input is a 400. */
	assert_int_equal(post(SIGN, "{\"orig\":\"12155551212\",\"dest\":\"12155551213\","
			      "\"attest\":\"A\",\"origid\":\"x\"}", &r), 200);
	harness_resp_release(&r);
	assert_int_equal(post(SIGN, "{\"orig\":\"12155551212\",\"dest\":[\"1\"],"
			      "\"attest\":\"D\",\"origid\":\"x\"}", &r), 400);
	assert_string_equal(r.body, BAD_REQ);
	harness_resp_release(&r);
	assert_int_equal(post(SIGN, "{\"orig\":\"12155551212\",\"attest\":\"A\","
			      "\"origid\":\"x\"}", &r), 400);
	harness_resp_release(&r);
}

static void test_still_healthy(void **state)
{
	struct harness_resp r;

	assert_true(harness_server_alive(&W.d));
	assert_int_equal(harness_get(&W.d, "/health", &r), 0);
	assert_int_equal(r.status, 200);
	harness_resp_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_header_encoding),
		cmocka_unit_test(test_x5u_mismatch),
		cmocka_unit_test(test_orig_dest),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_silent_server_and_health),
		cmocka_unit_test(test_ssrf),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_sign_then_validate),
		cmocka_unit_test(test_still_healthy),
	};

	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
