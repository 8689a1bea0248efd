/* harness.c - child processes, temporary files and HTTP for the API tests. */
#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define START_TIMEOUT_MS 10000
#define RINGER_TIMEOUT_MS 60000
#define MAX_ARGS 32
#define MAX_ENV 512

long long harness_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void harness_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- files ---- */

int harness_dir_new(char *out, size_t outlen)
{
	const char *tmp = getenv("TMPDIR");
	char buf[HARNESS_PATH_MAX];
	int n;

	n = snprintf(buf, sizeof(buf), "%s/ringer-api-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (n < 0 || (size_t)n >= sizeof(buf) || (size_t)n >= outlen || mkdtemp(buf) == NULL)
		return -1;
	memcpy(out, buf, (size_t)n + 1);
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

int harness_dir_remove(const char *dir)
{
	return nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int harness_file_write(const char *dir, const char *name, const char *text, char *path,
		       size_t pathlen)
{
	size_t len = strlen(text);
	FILE *f;
	int n = snprintf(path, pathlen, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= pathlen)
		return -1;
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	if (fwrite(text, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

void harness_log_print(const char *title, const char *path, size_t max_bytes)
{
	char buf[4096];
	FILE *f = fopen(path, "rb");
	size_t n;
	long size;

	printf("---- %s (%s) ----\n", title, path);
	if (f == NULL) {
		printf("(cannot open: %s)\n", strerror(errno));
		return;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > (long)max_bytes) {
		fseek(f, size - (long)max_bytes, SEEK_SET);
		printf("(last %zu bytes)\n", max_bytes);
	} else {
		fseek(f, 0, SEEK_SET);
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	printf("---- end of %s ----\n", title);
	fclose(f);
	fflush(stdout);
}

/* ---- processes ---- */

/*
 * The child's environment: ours without RINGER_* (a setting left in the
 * caller's shell must not change what the test sees), then extra.
 */
static char **child_env(const char *const *extra)
{
	char **envp = calloc(MAX_ENV + 1, sizeof(char *));
	size_t n = 0;

	if (envp == NULL)
		return NULL;
	for (char **e = environ; *e && n < MAX_ENV; e++)
		if (strncmp(*e, "RINGER_", 7) != 0)
			envp[n++] = *e;
	for (size_t i = 0; extra && extra[i] && n < MAX_ENV; i++)
		envp[n++] = (char *)extra[i];
	return envp;
}

/*
 * Fork and exec prog with argv and envp, output appended to log_path. The
 * child is killed if this process dies. Returns the pid or -1.
 */
static pid_t spawn(const char *prog, char *const *argv, char *const *envp, const char *log_path)
{
	pid_t parent = getpid(), pid;
	int out = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (out < 0 || in < 0) {
		fprintf(stderr, "harness: cannot open %s or /dev/null: %s\n", log_path,
			strerror(errno));
		pid = -1;
		goto cleanup;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		/* Only async-signal-safe calls from here to exec. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(126);
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
			_exit(126);
		execve(prog, argv, envp);
		/* Say why in the log; the child exits either way. */
		(void)!write(2, "harness: exec failed\n", 21);
		_exit(127);
	}
	if (pid < 0)
		fprintf(stderr, "harness: fork: %s\n", strerror(errno));
cleanup:
	if (out >= 0)
		close(out);
	if (in >= 0)
		close(in);
	return pid;
}

/* Wait up to timeout_ms for pid. Returns 1 with *status, 0 on timeout, -1 on error. */
static int wait_bounded(pid_t pid, int timeout_ms, int *status)
{
	long long end = harness_now_ms() + timeout_ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (harness_now_ms() >= end)
			return 0;
		harness_sleep_ms(10);
	}
}

static const char *env_path(const char *var)
{
	const char *p = getenv(var);

	if (p == NULL || *p == '\0') {
		fprintf(stderr, "harness: $%s is not set (the path of the built binary)\n", var);
		return NULL;
	}
	return p;
}

int harness_ringer(const char *log_path, const char *data_dir, const char *const *args)
{
	const char *prog = env_path("RINGER");
	char *argv[MAX_ARGS + 4];
	char **envp = child_env(NULL);
	size_t n = 0;
	int status = 0, rc = -1;
	pid_t pid;

	if (prog == NULL || envp == NULL)
		goto cleanup;
	argv[n++] = (char *)prog;
	argv[n++] = (char *)"-d";
	argv[n++] = (char *)data_dir;
	for (size_t i = 0; args[i] && n < MAX_ARGS + 3; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;
	pid = spawn(prog, argv, envp, log_path);
	if (pid < 0)
		goto cleanup;
	if (wait_bounded(pid, RINGER_TIMEOUT_MS, &status) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		goto cleanup;
	}
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
cleanup:
	free(envp);
	return rc;
}

/* The port ringerd wrote, or 0 while the file is absent or incomplete. */
static unsigned port_read(const char *path)
{
	FILE *f = fopen(path, "r");
	unsigned port = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%u", &port) != 1 || port > 65535)
		port = 0;
	fclose(f);
	return port;
}

/* Poll the port file, then /health, until both answer or the time is up. */
static int server_wait_ready(struct harness_server *s)
{
	long long end = harness_now_ms() + START_TIMEOUT_MS;
	struct harness_resp r;

	while (harness_now_ms() < end && harness_server_alive(s)) {
		if (s->port == 0)
			s->port = port_read(s->port_path);
		if (s->port != 0 && harness_get(s, "/health", &r) == 0) {
			long status = r.status;

			harness_resp_release(&r);
			if (status == 200)
				return 0;
		}
		harness_sleep_ms(20);
	}
	return -1;
}

static int server_paths(struct harness_server *s, const char *dir, const char *name)
{
	int a = snprintf(s->name, sizeof(s->name), "%s", name);
	int b = snprintf(s->log_path, sizeof(s->log_path), "%s/%s.log", dir, name);
	int c = snprintf(s->port_path, sizeof(s->port_path), "%s/%s.port", dir, name);

	if (a < 0 || (size_t)a >= sizeof(s->name) || b < 0 || (size_t)b >= sizeof(s->log_path) ||
	    c < 0 || (size_t)c >= sizeof(s->port_path))
		return -1;
	return 0;
}

static pid_t server_spawn(const struct harness_server *s, const char *prog,
			  const char *data_dir, char *const *envp)
{
	char *const argv[] = {
		(char *)prog, "-d", (char *)data_dir, "-p", "0", "-l", "127.0.0.1",
		"--port-file", (char *)s->port_path, "--log-level", "info", NULL,
	};

	return spawn(prog, argv, envp, s->log_path);
}

int harness_server_start(struct harness_server *s, const char *dir, const char *name,
			 const char *data_dir, const char *const *env)
{
	const char *prog = env_path("RINGERD");
	const char *extra[MAX_ARGS + 2];
	char **envp = NULL;
	size_t n = 0;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (prog == NULL || server_paths(s, dir, name) != 0)
		return -1;
	unlink(s->port_path);
	/* getenv() takes the first match: the caller's settings go before the default. */
	for (size_t i = 0; env && env[i] && n < MAX_ARGS; i++)
		extra[n++] = env[i];
	extra[n++] = "RINGER_DATA_RELOAD_MS=100";
	extra[n] = NULL;
	envp = child_env(extra);
	if (envp == NULL)
		return -1;
	s->pid = server_spawn(s, prog, data_dir, envp);
	if (s->pid > 0 && server_wait_ready(s) == 0)
		rc = 0;
	if (rc != 0) {
		fprintf(stderr, "harness: ringerd \"%s\" did not become ready\n", name);
		harness_log_print(name, s->log_path, 8192);
		if (s->pid > 0)
			harness_server_stop(s, 2000);
		s->pid = 0;
		s->port = 0;
	}
	free(envp);
	return rc;
}

bool harness_server_alive(struct harness_server *s)
{
	int status;

	if (s->pid <= 0)
		return false;
	if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
		s->pid = 0;
		return false;
	}
	return true;
}

int harness_server_stop(struct harness_server *s, int timeout_ms)
{
	int status = 0, w;

	if (s->pid <= 0)
		return -3;
	kill(s->pid, SIGTERM);
	w = wait_bounded(s->pid, timeout_ms, &status);
	if (w != 1) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, &status, 0);
		s->pid = 0;
		return -1;
	}
	s->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

/* ---- HTTP ---- */

struct upload {
	const char *data;
	size_t len, off;
};

/* Hand out the body in small pieces so that it really arrives in chunks. */
static size_t upload_read(char *buf, size_t size, size_t nitems, void *ud)
{
	struct upload *u = ud;
	size_t n = size * nitems, left = u->len - u->off;

	if (n > 100)
		n = 100;
	if (n > left)
		n = left;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

static void set_body(CURL *c, const struct harness_req *req, struct upload *u)
{
	if (req->body == NULL)
		return;
	if (!req->chunked) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		return;
	}
	u->data = req->body;
	u->len = req->body_len;
	u->off = 0;
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(c, CURLOPT_READDATA, u);
}

static struct curl_slist *req_headers(const struct harness_req *req)
{
	struct curl_slist *h = NULL, *t;

	/* No "Expect: 100-continue" pause before a body. */
	h = curl_slist_append(h, "Expect:");
	if (h && req->chunked && (t = curl_slist_append(h, "Transfer-Encoding: chunked")))
		h = t;
	for (size_t i = 0; h && req->headers && req->headers[i]; i++) {
		t = curl_slist_append(h, req->headers[i]);
		if (t == NULL) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = t;
	}
	return h;
}

static void set_method(CURL *c, const struct harness_req *req)
{
	const char *m = req->method ? req->method : "GET";

	if (strcmp(m, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
	else if (strcmp(m, "POST") == 0 && req->body == NULL)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
}

static void resp_finish(CURL *c, struct harness_resp *resp)
{
	char *ct = NULL;

	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->ctype[0] = '\0';
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(resp->ctype, sizeof(resp->ctype), "%s", ct);
}

static char *url_for(const struct harness_server *s, const char *path)
{
	size_t n = strlen(path) + 32;
	char *url = malloc(n);

	if (url)
		snprintf(url, n, "http://127.0.0.1:%u%s", s->port, path);
	return url;
}

/* One request on a fresh connection, closed afterwards: no state between tests. */
static CURLcode perform(CURL *c, const char *url, const struct harness_req *req,
			struct curl_slist *h, FILE *body, FILE *headers)
{
	struct upload up;

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, headers);
	set_method(c, req);
	set_body(c, req, &up);
	return curl_easy_perform(c);
}

int harness_request(const struct harness_server *s, const struct harness_req *req,
		    struct harness_resp *resp)
{
	char *body = NULL, *hdrs = NULL, *url = url_for(s, req->path);
	size_t body_len = 0, hdrs_len = 0;
	FILE *bf = open_memstream(&body, &body_len), *hf = open_memstream(&hdrs, &hdrs_len);
	struct curl_slist *h = req_headers(req);
	CURL *c = curl_easy_init();
	CURLcode cc = CURLE_FAILED_INIT;
	int rc = -1;

	if (c && bf && hf && h && url)
		cc = perform(c, url, req, h, bf, hf);
	if (cc == CURLE_OK)
		resp_finish(c, resp);
	if (bf)
		fclose(bf);
	if (hf)
		fclose(hf);
	if (cc == CURLE_OK && body && hdrs) {
		resp->body = body;
		resp->len = body_len;
		resp->headers = hdrs;
		body = hdrs = NULL;
		rc = 0;
	} else {
		fprintf(stderr, "harness: %s %.200s: %s\n", req->method ? req->method : "GET",
			req->path, curl_easy_strerror(cc));
	}
	free(body);
	free(hdrs);
	free(url);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return rc;
}

int harness_get(const struct harness_server *s, const char *path, struct harness_resp *resp)
{
	struct harness_req req = { .path = path };

	return harness_request(s, &req, resp);
}

/* Copy the value on one header line (after "name:") into out, trimmed. */
static void header_value(const char *v, const char *eol, char *out, size_t outlen)
{
	size_t n;

	while (v < eol && (*v == ' ' || *v == '\t'))
		v++;
	while (eol > v && (eol[-1] == ' ' || eol[-1] == '\t' || eol[-1] == '\r'))
		eol--;
	n = (size_t)(eol - v);
	if (outlen == 0)
		return;
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, v, n);
	out[n] = '\0';
}

int harness_resp_header(const struct harness_resp *resp, const char *name, char *out,
			size_t outlen)
{
	size_t nlen = strlen(name);
	const char *p = resp->headers;
	int count = 0;

	if (outlen)
		out[0] = '\0';
	while (p && *p) {
		const char *eol = strchr(p, '\n');

		if (eol == NULL)
			eol = p + strlen(p);
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			if (count == 0)
				header_value(p + nlen + 1, eol, out, outlen);
			count++;
		}
		p = *eol ? eol + 1 : eol;
	}
	return count;
}

void harness_resp_release(struct harness_resp *resp)
{
	free(resp->body);
	free(resp->headers);
	resp->body = resp->headers = NULL;
	resp->len = 0;
}
