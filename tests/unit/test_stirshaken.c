/* test_stirshaken.c - PASSporT verification against a PKI made with the openssl command.
 *
 * tests/stirshaken/mkpki.sh builds the CA, the SP certificates (good, expired,
 * not yet valid, untrusted, without TNAuthList, revoked) and the TLS server
 * certificate; `openssl s_server -HTTP` serves them over real HTTPS on
 * 127.0.0.1; tests/stirshaken/mkjws.sh signs tokens with `openssl dgst`. None
 * of it goes through ringer's own signer. Besides that server, the only
 * socket is a listener in this process that never answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "telique/certfetch.h"
#include "telique/stirshaken.h"

#define ORIGID "123e4567-e89b-12d3-a456-426655440000"
#define LIMIT_MS 3000 /* every verdict, the silent server included, comes within this */

struct world {
	char dir[256];
	char script_dir[512];
	unsigned port;       /* s_server */
	unsigned mute_port;  /* a listener that never accepts */
	char ports[32];      /* both, for fetch_ports */
	int mute_fd;
	pid_t server;
	struct certfetch *fetch;
	struct stirshaken_verifier *v;
	struct stirshaken_verifier *v_crl;
};

static struct world W;

/* ---- plumbing ---- */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int listen_any(unsigned *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
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

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static pid_t start_server(void)
{
	char www[300], port[32];
	pid_t pid;

	snprintf(www, sizeof(www), "%s/www", W.dir);
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

static int world_setup(void **state)
{
	const char *root = getenv("RINGER_SOURCE_ROOT");
	char cmd[1024], path[600], ca[600], err[200];
	struct certfetch_cfg fc = { .allow = "127.0.0.1/32" };
	struct stirshaken_cfg vc = { .iat_window = 60 };
	int fd;

	snprintf(W.dir, sizeof(W.dir), "/tmp/ringer-ss-XXXXXX");
	snprintf(W.script_dir, sizeof(W.script_dir), "%s/tests/stirshaken", root ? root : ".");
	if (mkdtemp(W.dir) == NULL || (fd = listen_any(&W.port)) < 0)
		return -1;
	close(fd); /* the port s_server takes */
	if ((W.mute_fd = listen_any(&W.mute_port)) < 0)
		return -1;
	snprintf(W.ports, sizeof(W.ports), "%u,%u", W.port, W.mute_port);
	fc.ports = W.ports;
	snprintf(cmd, sizeof(cmd), "sh %s/mkpki.sh %s %u", W.script_dir, W.dir, W.port);
	if (run(cmd) != 0 || (W.server = start_server()) <= 0)
		return -1;
	for (int i = 0; i < 200 && !port_open(W.port); i++)
		usleep(25000);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(path, sizeof(path), "%s/tls-ca.pem", W.dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", W.dir);
	fc.ca_file = path;
	vc.trust_anchors = ca;
	if ((W.fetch = certfetch_new(&fc, err, sizeof(err))) == NULL)
		return -1;
	vc.fetch = W.fetch;
	W.v = stirshaken_verifier_new(&vc, err, sizeof(err));
	vc.crl_check = true;
	W.v_crl = stirshaken_verifier_new(&vc, err, sizeof(err));
	*state = &W;
	return W.v && W.v_crl && port_open(W.port) ? 0 : -1;
}

static int world_teardown(void **state)
{
	char cmd[400];

	stirshaken_verifier_free(W.v);
	stirshaken_verifier_free(W.v_crl);
	certfetch_free(W.fetch);
	if (W.server > 0) {
		kill(W.server, SIGTERM);
		waitpid(W.server, NULL, 0);
	}
	close(W.mute_fd);
	curl_global_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", W.dir);
	return run(cmd) == 0 ? 0 : -1;
}

/* ---- tokens, made with the openssl command ---- */

static void url_of(const char *name, char *out, size_t outlen)
{
	snprintf(out, outlen, "https://127.0.0.1:%u/%s", W.port, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Sign header.payload with key (a file in the PKI directory); the caller frees. */
static char *jws(const char *key, const char *header, const char *payload)
{
	char hp[300], pp[300], cmd[2400], *tok = calloc(1, 8192);
	FILE *p;

	assert_non_null(tok);
	snprintf(hp, sizeof(hp), "%s/h.json", W.dir);
	snprintf(pp, sizeof(pp), "%s/p.json", W.dir);
	write_file(hp, header);
	write_file(pp, payload);
	snprintf(cmd, sizeof(cmd), "sh %s/mkjws.sh %s/%s %s %s", W.script_dir, W.dir, key, hp,
		 pp);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(tok, 8192, p));
	assert_int_equal(pclose(p), 0);
	tok[strcspn(tok, "\n")] = '\0';
	return tok;
}

static void header_for(const char *x5u, char *out, size_t outlen)
{
	snprintf(out, outlen, "{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"passport\","
		 "\"x5u\":\"%s\"}", x5u);
}

static void payload_at(long long iat, char *out, size_t outlen)
{
	snprintf(out, outlen, "{\"attest\":\"A\",\"dest\":{\"tn\":[\"12155551213\"]},\"iat\":%lld,"
		 "\"orig\":{\"tn\":\"12155551212\"},\"origid\":\"" ORIGID "\"}", iat);
}

/* A fresh token over the certificate at name, signed by key. */
static char *token_for(const char *name, const char *key)
{
	char url[200], h[400], p[400];

	url_of(name, url, sizeof(url));
	header_for(url, h, sizeof(h));
	payload_at(clock_now(), p, sizeof(p));
	return jws(key, h, p);
}

/* ---- verdicts ---- */

static struct stirshaken_result check_in(struct stirshaken_verifier *v,
					 const struct stirshaken_input *in, unsigned code)
{
	struct stirshaken_result r;
	long long t0 = now_ms();

	assert_int_equal(stirshaken_verify(v, in, &r), 0);
	if (r.code != code)
		printf("expected %u, got %u \"%s\"\n", code, r.code, r.text);
	assert_int_equal(r.code, code);
	assert_int_equal(r.valid, code == 0);
	assert_true(now_ms() - t0 < LIMIT_MS);
	return r;
}

static struct stirshaken_result check(const char *token, const char *url, unsigned code)
{
	struct stirshaken_input in = { .token = token, .cert_url = url, .algorithm = "ES256",
				       .ppt = "shaken" };

	return check_in(W.v, &in, code);
}

/* Token signed with key over header and payload, checked against url. */
static struct stirshaken_result check_parts(const char *key, const char *header,
					    const char *payload, const char *url, unsigned code)
{
	char *tok = jws(key, header, payload);
	struct stirshaken_result r = check(tok, url, code);

	free(tok);
	return r;
}

/* ---- tests ---- */

static void test_valid(void **state)
{
	char url[200], *tok = token_for("sp.pem", "sp.key");
	struct stirshaken_result r;

	url_of("sp.pem", url, sizeof(url));
	r = check(tok, url, 0);
	assert_true(r.signature_ok);
	assert_string_equal(r.attest, "A");
	assert_string_equal(r.orig, "12155551212");
	assert_int_equal(r.n_dest, 1);
	assert_string_equal(r.dest[0], "12155551213");
	assert_string_equal(r.origid, ORIGID);
	assert_string_equal(r.spc, "1234");
	/* Again, now from the cache. */
	assert_true(certfetch_cache_size(W.fetch) >= 1);
	r = check(tok, url, 0);
	assert_string_equal(r.spc, "1234");
	free(tok);
}

static void test_missing_claims(void **state)
{
	static const char *const claims[] = { "attest", "dest", "iat", "orig", "origid" };
	char url[200], h[400], p[400], *at, *end;
	struct stirshaken_result r;

	url_of("sp.pem", url, sizeof(url));
	header_for(url, h, sizeof(h));
	for (size_t i = 0; i < 5; i++) {
		char want[64];

		payload_at(clock_now(), p, sizeof(p));
		/* Cut "name":value and its comma out of the payload. */
		snprintf(want, sizeof(want), "\"%s\":", claims[i]);
		at = strstr(p, want);
		assert_non_null(at);
		end = at + strlen(want);
		end += strcspn(end, ",{}");
		if (*end == '{')
			end = strchr(end, '}') + 1;
		if (*end == ',')
			end++;
		else if (at[-1] == ',')
			at--;
		memmove(at, end, strlen(end) + 1);
		r = check_parts("sp.key", h, p, url, SS_BAD_HEADER);
		snprintf(want, sizeof(want), "missing claim %s", claims[i]);
		assert_string_equal(r.text, want);
		assert_false(r.signature_ok);
	}
}

static void test_bad_claim_values(void **state)
{
	char url[200], h[400], p[400];

	url_of("sp.pem", url, sizeof(url));
	header_for(url, h, sizeof(h));
	snprintf(p, sizeof(p), "{\"attest\":\"D\",\"dest\":{\"tn\":[\"12155551213\"]},\"iat\":%lld,"
		 "\"orig\":{\"tn\":\"12155551212\"},\"origid\":\"x\"}", (long long)clock_now());
	check_parts("sp.key", h, p, url, SS_BAD_HEADER);
	snprintf(p, sizeof(p), "{\"attest\":\"A\",\"dest\":{\"tn\":\"12155551213\"},\"iat\":%lld,"
		 "\"orig\":{\"tn\":\"12155551212\"},\"origid\":\"x\"}", (long long)clock_now());
	check_parts("sp.key", h, p, url, SS_BAD_HEADER);
	snprintf(p, sizeof(p), "{\"attest\":\"A\",\"dest\":{\"tn\":[\"12155551213\"]},\"iat\":%lld,"
		 "\"orig\":{\"tn\":\"abc\"},\"origid\":\"x\"}", (long long)clock_now());
	check_parts("sp.key", h, p, url, SS_BAD_HEADER);
	/* A duplicate claim is refused rather than read one way or the other. */
	snprintf(p, sizeof(p), "{\"attest\":\"A\",\"attest\":\"C\",\"dest\":{\"tn\":[\"1\"]},"
		 "\"iat\":%lld,\"orig\":{\"tn\":\"1\"},\"origid\":\"x\"}", (long long)clock_now());
	check_parts("sp.key", h, p, url, SS_BAD_HEADER);
}

static void test_iat(void **state)
{
	/* iat relative to the clock when each token is made (rel) or absolute (abs). */
	const struct {
		bool rel;
		long long iat;
		unsigned code;
	} cases[] = {
		{ false, 0, SS_STALE }, { true, -61, SS_STALE }, { true, -3600, SS_STALE },
		{ true, 30, SS_STALE }, { true, 2, SS_STALE }, { false, -5, SS_BAD_HEADER },
		{ true, -50, 0 },
	};
	const long long now = clock_now();
	char url[200], h[400], p[400];

	url_of("sp.pem", url, sizeof(url));
	header_for(url, h, sizeof(h));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		payload_at(cases[i].iat + (cases[i].rel ? clock_now() : 0), p, sizeof(p));
		check_parts("sp.key", h, p, url, cases[i].code);
	}
	snprintf(p, sizeof(p), "{\"attest\":\"A\",\"dest\":{\"tn\":[\"1\"]},\"iat\":\"%lld\","
		 "\"orig\":{\"tn\":\"1\"},\"origid\":\"x\"}", now);
	check_parts("sp.key", h, p, url, SS_BAD_HEADER);
}

static void test_header_fields(void **state)
{
	static const char *const bad[] = {
		"{\"alg\":\"ES384\",\"ppt\":\"shaken\",\"typ\":\"passport\",\"x5u\":\"%s\"}",
		"{\"alg\":\"none\",\"ppt\":\"shaken\",\"typ\":\"passport\",\"x5u\":\"%s\"}",
		"{\"alg\":\"RS256\",\"ppt\":\"shaken\",\"typ\":\"passport\",\"x5u\":\"%s\"}",
		"{\"alg\":\"ES256\",\"ppt\":\"div\",\"typ\":\"passport\",\"x5u\":\"%s\"}",
		"{\"alg\":\"ES256\",\"typ\":\"passport\",\"x5u\":\"%s\"}",
		"{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"JWT\",\"x5u\":\"%s\"}",
		"{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"x5u\":\"%s\"}",
		"{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"passport\",\"x5u\":\"%s\","
		"\"crit\":[\"foo\"]}",
		"{\"alg\":\"ES256\",\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"passport\","
		"\"x5u\":\"%s\"}",
	};
	char url[200], h[400], p[400];

	url_of("sp.pem", url, sizeof(url));
	payload_at(clock_now(), p, sizeof(p));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(h, sizeof(h), bad[i], url);
		check_parts("sp.key", h, p, url, SS_BAD_HEADER);
	}
}

static void test_encoding(void **state)
{
	char url[200], *tok = token_for("sp.pem", "sp.key"), bad[8400];
	const char *dot = strchr(tok, '.');

	url_of("sp.pem", url, sizeof(url));
	/* Header not base64url. */
	snprintf(bad, sizeof(bad), "eyJ!!!%s", dot);
	check(bad, url, SS_BAD_HEADER);
	snprintf(bad, sizeof(bad), "eyJh+/==%s", dot);
	check(bad, url, SS_BAD_HEADER);
	/* Header base64url but not JSON ("not json"). */
	snprintf(bad, sizeof(bad), "bm90IGpzb24%s", dot);
	check(bad, url, SS_BAD_HEADER);
	/* Header JSON but no object ("[1]"). */
	snprintf(bad, sizeof(bad), "WzFd%s", dot);
	check(bad, url, SS_BAD_HEADER);
	/* Two parts, four parts, spaces, empty. */
	snprintf(bad, sizeof(bad), "%.*s", (int)(strrchr(tok, '.') - tok), tok);
	check(bad, url, SS_BAD_HEADER);
	snprintf(bad, sizeof(bad), "%s.AAAA", tok);
	check(bad, url, SS_BAD_HEADER);
	snprintf(bad, sizeof(bad), " %s", tok);
	check(bad, url, SS_BAD_HEADER);
	check("", url, SS_BAD_HEADER);
	check("..", url, SS_BAD_HEADER);
	free(tok);
}

static void test_wrong_key(void **state)
{
	char url[200], *tok = token_for("sp.pem", "other.key");
	struct stirshaken_result r;

	url_of("sp.pem", url, sizeof(url));
	r = check(tok, url, SS_BAD_HEADER);
	assert_string_equal(r.text, "signature does not verify");
	assert_false(r.signature_ok);
	/* The right key, but one signature byte changed. */
	free(tok);
	tok = token_for("sp.pem", "sp.key");
	tok[strlen(tok) - 5] = tok[strlen(tok) - 5] == 'A' ? 'B' : 'A';
	check(tok, url, SS_BAD_HEADER);
	free(tok);
}

static void expect_cert(const char *name, unsigned code, const char *text)
{
	char url[200], *tok = token_for(name, "sp.key");
	struct stirshaken_result r;

	url_of(name, url, sizeof(url));
	r = check(tok, url, code);
	if (text)
		assert_string_equal(r.text, text);
	assert_false(r.signature_ok);
	free(tok);
}

static void test_certificates(void **state)
{
	expect_cert("expired.pem", SS_BAD_CREDENTIAL, "certificate expired");
	expect_cert("future.pem", SS_BAD_CREDENTIAL, "certificate not yet valid");
	expect_cert("untrusted.pem", SS_BAD_CREDENTIAL,
		    "certificate not issued by a trusted STI-CA");
	expect_cert("notn.pem", SS_BAD_CREDENTIAL, "certificate has no TNAuthList SPC");
	expect_cert("notcert.pem", SS_BAD_INFO, "certificate document holds no certificate");
	expect_cert("empty.pem", SS_BAD_INFO, "certificate document is empty");
	expect_cert("missing.pem", SS_BAD_INFO, "certificate server answered an error");
	/* A CRL is no certificate. */
	expect_cert("ca.crl", SS_BAD_INFO, NULL);
}

/* One certificate per ATIS-1000080 rule, each breaking only that rule. */
static void test_cert_profile(void **state)
{
	expect_cert("noku.pem", SS_BAD_CREDENTIAL, "certificate has no keyUsage");
	expect_cert("kunotcrit.pem", SS_BAD_CREDENTIAL, "certificate keyUsage is not critical");
	expect_cert("kuextra.pem", SS_BAD_CREDENTIAL,
		    "certificate keyUsage is not digitalSignature only");
	expect_cert("noski.pem", SS_BAD_CREDENTIAL, "certificate has no subjectKeyIdentifier");
	expect_cert("noaki.pem", SS_BAD_CREDENTIAL, "certificate has no authorityKeyIdentifier");
	expect_cert("shortserial.pem", SS_BAD_CREDENTIAL,
		    "certificate serial number is shorter than 64 bits");
	expect_cert("nopolicy.pem", SS_BAD_CREDENTIAL, "certificate has no certificatePolicies");
}

static void test_silent_server(void **state)
{
	char url[200], h[400], p[400], *tok;
	struct stirshaken_result r;
	long long t0;

	snprintf(url, sizeof(url), "https://127.0.0.1:%u/sp.pem", W.mute_port);
	header_for(url, h, sizeof(h));
	payload_at(clock_now(), p, sizeof(p));
	tok = jws("sp.key", h, p);
	t0 = now_ms();
	r = check(tok, url, SS_BAD_INFO);
	assert_string_equal(r.text, "certificate fetch timed out");
	assert_true(now_ms() - t0 >= 1900); /* it waited for the limit, not less */
	free(tok);
}

static void test_x5u(void **state)
{
	char url[200], other[200], h[400], p[400];

	url_of("sp.pem", url, sizeof(url));
	url_of("expired.pem", other, sizeof(other));
	payload_at(clock_now(), p, sizeof(p));
	header_for("", h, sizeof(h));
	check_parts("sp.key", h, p, url, SS_BAD_HEADER);
	snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"passport\"}");
	check_parts("sp.key", h, p, url, SS_BAD_HEADER);
	snprintf(h, sizeof(h), "{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"passport\","
		 "\"x5u\":42}");
	check_parts("sp.key", h, p, url, SS_BAD_HEADER);
	header_for(other, h, sizeof(h));
	check_parts("sp.key", h, p, url, SS_BAD_HEADER);
	/* Not a URL, in both places: nothing to fetch. */
	header_for("not a url", h, sizeof(h));
	check_parts("sp.key", h, p, "not a url", SS_BAD_INFO);
	header_for("ftp://127.0.0.1/sp.pem", h, sizeof(h));
	check_parts("sp.key", h, p, "ftp://127.0.0.1/sp.pem", SS_BAD_INFO);
	/* Plain HTTP is refused unless the operator allows it. */
	snprintf(other, sizeof(other), "http://127.0.0.1:%u/sp.pem", W.port);
	header_for(other, h, sizeof(h));
	check_parts("sp.key", h, p, other, SS_BAD_INFO);
}

static void test_orig_dest(void **state)
{
	char url[200], *tok = token_for("sp.pem", "sp.key");
	struct stirshaken_input in = { .token = tok, .algorithm = "ES256", .ppt = "shaken" };
	struct stirshaken_result r;

	url_of("sp.pem", url, sizeof(url));
	in.cert_url = url;
	in.orig_tn = "+12155551212";
	in.dest_tn = "2155551213";
	check_in(W.v, &in, 0);
	in.orig_tn = "12155550000";
	r = check_in(W.v, &in, SS_BAD_HEADER);
	assert_string_equal(r.text, "orig does not match the calling number");
	assert_true(r.signature_ok); /* what the token said is still reported */
	assert_string_equal(r.orig, "12155551212");
	in.orig_tn = "12155551212";
	in.dest_tn = "12155550000";
	r = check_in(W.v, &in, SS_BAD_HEADER);
	assert_string_equal(r.text, "dest does not match the called number");
	free(tok);
}

static void test_identity_header(void **state)
{
	char url[200], id[9000], *tok = token_for("sp.pem", "sp.key");
	struct stirshaken_input in = { .identity = id };
	struct stirshaken_result r;

	url_of("sp.pem", url, sizeof(url));
	snprintf(id, sizeof(id), "%s;info=<%s>;alg=ES256;ppt=shaken", tok, url);
	r = check_in(W.v, &in, 0);
	assert_string_equal(r.spc, "1234");
	snprintf(id, sizeof(id), "%s ; info=<%s> ; alg=ES256 ; ppt=\"shaken\"", tok, url);
	check_in(W.v, &in, 0);
	snprintf(id, sizeof(id), "%s;info=<%s>;alg=ES256;ppt=div", tok, url);
	check_in(W.v, &in, SS_BAD_HEADER);
	snprintf(id, sizeof(id), "%s;info=%s;alg=ES256", tok, url);
	check_in(W.v, &in, SS_BAD_HEADER);
	snprintf(id, sizeof(id), "%s;info=<%s>", tok, url);
	in.cert_url = "https://example.invalid/other.pem";
	check_in(W.v, &in, SS_BAD_HEADER);
	in.cert_url = NULL;
	snprintf(id, sizeof(id), "%s;alg=ES256", tok);
	check_in(W.v, &in, SS_BAD_INFO);
	free(tok);
}

static void test_request_alg_ppt(void **state)
{
	char url[200], *tok = token_for("sp.pem", "sp.key");
	struct stirshaken_input in = { .token = tok, .algorithm = "RS256", .ppt = "shaken" };

	url_of("sp.pem", url, sizeof(url));
	in.cert_url = url;
	check_in(W.v, &in, SS_BAD_HEADER);
	in.algorithm = "ES256";
	in.ppt = "div";
	check_in(W.v, &in, SS_BAD_HEADER);
	free(tok);
}

static void test_crl(void **state)
{
	char url[200], *tok = token_for("sp.pem", "sp.key");
	struct stirshaken_input in = { .token = tok, .algorithm = "ES256", .ppt = "shaken" };
	struct stirshaken_result r;

	url_of("sp.pem", url, sizeof(url));
	in.cert_url = url;
	check_in(W.v_crl, &in, 0);
	free(tok);
	/*
	 * test_certificates fetched ca.crl as an x5u already; that must not have
	 * spoiled the CRL for the revocation check that follows.
	 */
	tok = token_for("revoked.pem", "sp.key");
	url_of("revoked.pem", url, sizeof(url));
	in.token = tok;
	r = check_in(W.v_crl, &in, SS_BAD_CREDENTIAL);
	assert_string_equal(r.text, "certificate revoked");
	/* Without the CRL check the same certificate passes: the CRL made the difference. */
	check_in(W.v, &in, 0);
	free(tok);
}

/* ---- the fetch guard and cache ---- */

static void test_addr_guard(void **state)
{
	static const char *const refused[] = {
		"127.0.0.2", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "169.254.1.1", "0.0.0.0", "100.64.0.1", "224.0.0.1",
		"::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "::ffff:10.0.0.1",
		"::127.0.0.1",
	};
	static const char *const public_ips[] = { "8.8.8.8", "172.32.0.1", "2001:4860::8888" };
	uint8_t ip[16];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(ip_parse(refused[i], ip), 0);
		if (!certfetch_addr_refused(W.fetch, ip))
			printf("not refused: %s\n", refused[i]);
		assert_true(certfetch_addr_refused(W.fetch, ip));
	}
	for (size_t i = 0; i < sizeof(public_ips) / sizeof(public_ips[0]); i++) {
		assert_int_equal(ip_parse(public_ips[i], ip), 0);
		assert_false(certfetch_addr_refused(W.fetch, ip));
	}
	/* 127.0.0.1 is in this fetcher's allow list. */
	assert_int_equal(ip_parse("127.0.0.1", ip), 0);
	assert_false(certfetch_addr_refused(W.fetch, ip));
}

static bool pending_connection(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

/* Accept and close what earlier tests left in the listener's queue. */
static void drain(int fd)
{
	int c;

	while (pending_connection(fd) && (c = accept(fd, NULL, NULL)) >= 0)
		close(c);
}

static void test_ssrf_refused(void **state)
{
	struct certfetch_cfg fc = { .allow = "" };
	struct certfetch_doc *d = NULL;
	struct certfetch *f;
	char url[200], err[200], ports[48];
	long long t0;

	snprintf(ports, sizeof(ports), "443,%s", W.ports);
	fc.ports = ports;
	f = certfetch_new(&fc, err, sizeof(err));
	assert_non_null(f);
	drain(W.mute_fd);
	assert_false(pending_connection(W.mute_fd));
	/* 127.0.0.1 is not allowed here: refused before any connection is made. */
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/sp.pem", W.mute_port);
	assert_int_equal(certfetch_get(f, url, &d), CERTFETCH_FORBIDDEN);
	assert_false(pending_connection(W.mute_fd));
	snprintf(url, sizeof(url), "https://localhost:%u/sp.pem", W.mute_port);
	assert_int_equal(certfetch_get(f, url, &d), CERTFETCH_FORBIDDEN);
	snprintf(url, sizeof(url), "https://[::1]:%u/sp.pem", W.mute_port);
	assert_int_equal(certfetch_get(f, url, &d), CERTFETCH_FORBIDDEN);
	assert_false(pending_connection(W.mute_fd));
	t0 = now_ms();
	assert_int_equal(certfetch_get(f, "https://169.254.169.254/latest/meta-data/", &d),
			 CERTFETCH_FORBIDDEN);
	assert_int_equal(certfetch_get(f, "http://169.254.169.254/", &d), CERTFETCH_BAD_URL);
	assert_int_equal(certfetch_get(f, "https://[fd00:ec2::254]/", &d), CERTFETCH_FORBIDDEN);
	assert_int_equal(certfetch_get(f, "https://10.0.0.1/x.pem", &d), CERTFETCH_FORBIDDEN);
	assert_int_equal(certfetch_get(f, "https://user:pw@8.8.8.8/x.pem", &d),
			 CERTFETCH_BAD_URL);
	assert_true(now_ms() - t0 < 500); /* refused outright, no timeout spent */
	assert_null(d);
	certfetch_free(f);
}

static void test_ports(void **state)
{
	struct certfetch_cfg fc = { .allow = "127.0.0.1/32" };
	struct certfetch_doc *d = NULL;
	char url[200], h[400], p[400], err[200];
	struct certfetch *f = certfetch_new(&fc, err, sizeof(err));

	assert_non_null(f);
	/* The default: 443 and 8443, nothing else. */
	assert_true(certfetch_port_allowed(f, 443));
	assert_true(certfetch_port_allowed(f, 8443));
	assert_false(certfetch_port_allowed(f, 80));
	assert_false(certfetch_port_allowed(f, 8080));
	assert_false(certfetch_port_allowed(f, W.mute_port));
	drain(W.mute_fd);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/sp.pem", W.mute_port);
	assert_int_equal(certfetch_get(f, url, &d), CERTFETCH_PORT);
	assert_false(pending_connection(W.mute_fd)); /* refused before connecting */
	assert_null(d);
	certfetch_free(f);
	/* http adds 80 to the default only. */
	fc.allow_http = true;
	f = certfetch_new(&fc, err, sizeof(err));
	assert_non_null(f);
	assert_true(certfetch_port_allowed(f, 80));
	certfetch_free(f);
	fc.ports = "8443, 9000-9002 10000";
	f = certfetch_new(&fc, err, sizeof(err));
	assert_non_null(f);
	assert_false(certfetch_port_allowed(f, 443));
	assert_false(certfetch_port_allowed(f, 80));
	assert_false(certfetch_port_allowed(f, 8999));
	assert_true(certfetch_port_allowed(f, 9001));
	assert_true(certfetch_port_allowed(f, 10000));
	certfetch_free(f);
	static const char *const bad[] = { "0", "65536", "443;8443", "9002-9000", "-5", "x",
					   "443-", "1-2-3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fc.ports = bad[i];
		assert_null(certfetch_new(&fc, err, sizeof(err)));
		assert_non_null(strstr(err, "fetch_ports"));
	}
	/* Through the verifier: a port outside the list is Bad Identity Info. */
	snprintf(url, sizeof(url), "https://127.0.0.1:1/sp.pem");
	header_for(url, h, sizeof(h));
	payload_at(clock_now(), p, sizeof(p));
	assert_string_equal(check_parts("sp.key", h, p, url, SS_BAD_INFO).text,
			    "certificate URL port not allowed");
}

static int slow_resolver(const char *name, struct addrinfo **res)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST };

	(void)name;
	sleep(3);
	return getaddrinfo("127.0.0.1", NULL, &hints, res);
}

static int failing_resolver(const char *name, struct addrinfo **res)
{
	(void)name;
	(void)res;
	return EAI_NONAME;
}

/* getaddrinfo has no timeout: the fetch stops waiting for it at its limit. */
static void test_dns_bound(void **state)
{
	struct certfetch_cfg fc = { .allow = "127.0.0.1/32", .timeout_ms = 500,
				    .ports = W.ports, .resolver = slow_resolver };
	struct certfetch_doc *d = NULL;
	char url[200], err[200];
	struct certfetch *f = certfetch_new(&fc, err, sizeof(err));
	long long t0;

	assert_non_null(f);
	snprintf(url, sizeof(url), "https://cert.invalid:%u/sp.pem", W.port);
	t0 = now_ms();
	assert_int_equal(certfetch_get(f, url, &d), CERTFETCH_TIMEOUT);
	assert_true(now_ms() - t0 >= 450);
	assert_true(now_ms() - t0 < 1500); /* not the resolver's 3 s */
	assert_null(d);
	certfetch_free(f); /* the resolver thread still runs; it owns what it uses */
	fc.resolver = failing_resolver;
	f = certfetch_new(&fc, err, sizeof(err));
	assert_non_null(f);
	assert_int_equal(certfetch_get(f, url, &d), CERTFETCH_RESOLVE);
	certfetch_free(f);
}

static void test_fetch_cache(void **state)
{
	struct certfetch_cfg fc = { .allow = "127.0.0.1/32", .max_bytes = 100,
				    .ports = W.ports };
	struct certfetch_doc *a = NULL, *b = NULL;
	char url[200], path[300], err[200];
	struct certfetch *small;
	size_t len;

	url_of("notn.pem", url, sizeof(url));
	certfetch_cache_clear(W.fetch);
	assert_int_equal(certfetch_get(W.fetch, url, &a), CERTFETCH_OK);
	assert_int_equal(certfetch_cache_size(W.fetch), 1);
	/* max-age=3600 from the server. */
	assert_true(certfetch_doc_expires(a) >= clock_now() + 3590);
	assert_true(certfetch_doc_expires(a) <= clock_now() + 3600);
	assert_int_equal(certfetch_get(W.fetch, url, &b), CERTFETCH_OK);
	assert_ptr_equal(a, b); /* the same document, not a second fetch */
	assert_non_null(strstr(certfetch_doc_body(a, &len), "BEGIN CERTIFICATE"));
	certfetch_doc_release(a);
	certfetch_doc_release(b);
	/* Failures are not cached. */
	url_of("missing.pem", url, sizeof(url));
	assert_int_equal(certfetch_get(W.fetch, url, &a), CERTFETCH_STATUS);
	assert_int_equal(certfetch_cache_size(W.fetch), 1);
	/* The size cap. */
	snprintf(path, sizeof(path), "%s/tls-ca.pem", W.dir);
	fc.ca_file = path;
	small = certfetch_new(&fc, err, sizeof(err));
	assert_non_null(small);
	url_of("sp.pem", url, sizeof(url));
	assert_int_equal(certfetch_get(small, url, &a), CERTFETCH_TOO_BIG);
	certfetch_free(small);
	/* A server whose TLS certificate nobody vouches for. */
	fc.ca_file = NULL;
	fc.max_bytes = 0;
	small = certfetch_new(&fc, err, sizeof(err));
	assert_non_null(small);
	assert_int_equal(certfetch_get(small, url, &a), CERTFETCH_NETWORK);
	certfetch_free(small);
	fc.allow = "not a cidr";
	assert_null(certfetch_new(&fc, err, sizeof(err)));
}

/* ---- signing: ringer's signer, checked by the verifier ---- */

static void test_sign_roundtrip(void **state)
{
	char url[200], key[300], err[200], *pp = NULL, *id = NULL;
	const char *dest[] = { "12155551213", "12155551214" };
	struct stirshaken_claims c = { .attest = 'B', .orig = "12155551212", .dest = dest,
				       .n_dest = 2, .origid = ORIGID, .iat = clock_now() };
	struct stirshaken_input in = { .algorithm = "ES256", .ppt = "shaken" };
	struct stirshaken_signer *s;
	struct stirshaken_result r;

	url_of("sp.pem", url, sizeof(url));
	snprintf(key, sizeof(key), "%s/sp.key", W.dir);
	s = stirshaken_signer_new(key, url, err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(stirshaken_sign(s, &c, &pp, &id), 0);
	in.token = pp;
	in.cert_url = url;
	r = check_in(W.v, &in, 0);
	assert_string_equal(r.attest, "B");
	assert_int_equal(r.n_dest, 2);
	assert_string_equal(r.dest[1], "12155551214");
	in = (struct stirshaken_input){ .identity = id };
	check_in(W.v, &in, 0);
	free(pp);
	free(id);
	pp = id = NULL;
	c.attest = 'D';
	assert_int_equal(stirshaken_sign(s, &c, &pp, &id), -1);
	assert_null(pp);
	stirshaken_signer_free(s);
	snprintf(key, sizeof(key), "%s/ca.pem", W.dir);
	assert_null(stirshaken_signer_new(key, url, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_missing_claims),
		cmocka_unit_test(test_bad_claim_values),
		cmocka_unit_test(test_iat),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_certificates),
		cmocka_unit_test(test_cert_profile),
		cmocka_unit_test(test_silent_server),
		cmocka_unit_test(test_x5u),
		cmocka_unit_test(test_orig_dest),
		cmocka_unit_test(test_identity_header),
		cmocka_unit_test(test_request_alg_ppt),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_addr_guard),
		cmocka_unit_test(test_ssrf_refused),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_dns_bound),
		cmocka_unit_test(test_fetch_cache),
		cmocka_unit_test(test_sign_roundtrip),
	};

	return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
