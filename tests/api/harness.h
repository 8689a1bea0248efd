/* harness.h - run the real ringer and ringerd and talk HTTP to ringerd.
 *
 * The API tests build a world in a temporary directory: fixture files, a data
 * directory filled by `ringer import`, and one or more ringerd processes
 * started on 127.0.0.1 with a free port. Each process writes its output to a
 * log file beside the data, which the tests print when something fails.
 * Children die with the test process (PR_SET_PDEATHSIG).
 */
#ifndef RINGER_TESTS_API_HARNESS_H
#define RINGER_TESTS_API_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HARNESS_PATH_MAX 512

struct harness_server {
	pid_t pid; /* 0 when not running */
	unsigned port;
	char name[32];
	char log_path[HARNESS_PATH_MAX];  /* ringerd's stdout and stderr */
	char port_path[HARNESS_PATH_MAX]; /* --port-file */
};

struct harness_req {
	const char *method;          /* NULL = GET */
	const char *path;            /* sent as written: percent-encode it yourself */
	const char *const *headers;  /* "Name: value" lines, NULL-terminated, or NULL */
	const char *body;            /* NULL = no body */
	size_t body_len;
	bool chunked;                /* send the body with chunked transfer coding */
};

struct harness_resp {
	long status;
	char ctype[128]; /* Content-Type, "" when none */
	char *headers;   /* the raw response header block */
	char *body;      /* NUL-terminated */
	size_t len;
};

/* Create a fresh directory under $TMPDIR (or /tmp). Returns 0 or -1. */
int harness_dir_new(char *out, size_t outlen);

/* Remove dir and everything below it. Returns 0 or -1. */
int harness_dir_remove(const char *dir);

/* Write text to dir/name (created or truncated); the full path goes to path. */
int harness_file_write(const char *dir, const char *name, const char *text, char *path,
		       size_t pathlen);

/*
 * Run `$RINGER -d data_dir args...` (args NULL-terminated) with its output
 * appended to log_path. Returns the exit status, or -1 if it did not exit.
 */
int harness_ringer(const char *log_path, const char *data_dir, const char *const *args);

/*
 * Start `$RINGERD -d data_dir -p 0 -l 127.0.0.1 --port-file ...` with
 * RINGER_DATA_RELOAD_MS=100 and the "NAME=value" entries of env (NULL-terminated,
 * may be NULL) added to the environment; inherited RINGER_* settings are
 * dropped. Waits up to 10 s for the port file and a 200 from /health. The log
 * and port files are dir/name.log and dir/name.port. Returns 0, or -1 after
 * printing the log (the process is then stopped).
 */
int harness_server_start(struct harness_server *s, const char *dir, const char *name,
			 const char *data_dir, const char *const *env);

/*
 * Send SIGTERM and wait up to timeout_ms. Returns the exit status; -1 when it
 * had to be killed, -2 when it died of a signal, -3 when it was not running.
 */
int harness_server_stop(struct harness_server *s, int timeout_ms);

/* True while the process has not exited. */
bool harness_server_alive(struct harness_server *s);

/* Print the last max_bytes of a log file to stdout under a title. */
void harness_log_print(const char *title, const char *path, size_t max_bytes);

/*
 * Send one request on a new connection. Returns 0 with *resp filled (release
 * it), or -1 when no HTTP answer came (the curl error is printed).
 */
int harness_request(const struct harness_server *s, const struct harness_req *req,
		    struct harness_resp *resp);

/* GET path: harness_request() with defaults. */
int harness_get(const struct harness_server *s, const char *path, struct harness_resp *resp);

/*
 * Count the response headers called name (case aside) and copy the value of
 * the first into out ("" when there is none). Returns the count.
 */
int harness_resp_header(const struct harness_resp *resp, const char *name, char *out,
			size_t outlen);

void harness_resp_release(struct harness_resp *resp);

/* Milliseconds of a monotonic clock, for bounded waits. */
long long harness_now_ms(void);

/* Sleep ms milliseconds. */
void harness_sleep_ms(int ms);

#endif
