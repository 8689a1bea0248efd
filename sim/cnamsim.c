/* cnamsim.c - a CNAM network simulator: names over HTTP from a file, with faults.
 *
 * Tests and benchmarks point ringerd's CNAM upstream at it, so dips go over
 * real sockets. It answers GET /cnam/{tn} from a file of `tn,name[,presentation]`
 * lines, after a configurable latency, failing a configurable share of
 * requests, and during an outage either failing fast (503) or hanging. It
 * counts every dip, and tests read the count at GET /stats:
 *
 *   GET  /cnam/{tn}   200 {"number","name","presentation"} or 404 {"error"}
 *   GET  /stats       {"requests","answered","not_found","errors","outage","mode"}
 *   POST /control?outage=on|off&mode=error|hang&latency_ms=N&error_rate=R&reset=1
 *
 * Flags: -f FILE (required), -l ADDR, -p PORT (0 = any), --port-file FILE,
 * --latency-ms N, --error-rate R (0..1), --outage error|hang,
 * --require-header "Name: value" (401 without it), --seed N.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define NAME_MAX_LEN 255
#define HANG_MAX_MS 60000

struct record {
	uint64_t tn;
	bool restricted;
	char name[NAME_MAX_LEN + 1];
};

static struct {
	struct record *v;
	size_t n;
	char header_name[128];
	char header_value[256];
	atomic_uint latency_ms;
	atomic_uint error_ppm; /* error rate in parts per million */
	atomic_bool outage;
	atomic_bool hang; /* outage mode: hang instead of 503 */
	atomic_bool stopping;
	atomic_uint_fast64_t requests, answered, not_found, errors;
	atomic_uint_fast64_t seed;
} S;

static int marker; /* *con_cls on the first call: answer on the second */

/* ---- the data file ---- */

static int cmp_record(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	return x->tn < y->tn ? -1 : x->tn > y->tn;
}

/* "3035551000,NAME[,restricted]"; returns 0, or -1 for a line that is not a record. */
static int parse_line(char *line, struct record *r)
{
	char *comma = strchr(line, ','), *end, *pres;
	size_t n = strcspn(line, "\r\n");

	line[n] = '\0';
	if (comma == NULL)
		return -1;
	*comma = '\0';
	if (line[0] == '+')
		line++;
	if (strlen(line) == 11 && line[0] == '1')
		line++;
	r->tn = strtoull(line, &end, 10);
	if (strlen(line) != 10 || *end != '\0')
		return -1;
	pres = strrchr(comma + 1, ',');
	r->restricted = false;
	if (pres && (strcmp(pres + 1, "restricted") == 0 || strcmp(pres + 1, "allowed") == 0)) {
		r->restricted = strcmp(pres + 1, "restricted") == 0;
		*pres = '\0';
	}
	snprintf(r->name, sizeof(r->name), "%s", comma + 1);
	return 0;
}

static int load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t cap = 0;

	if (f == NULL) {
		fprintf(stderr, "cnamsim: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct record r;

		if (line[0] == '#' || parse_line(line, &r) != 0)
			continue; /* comments and the header line */
		if (S.n == cap) {
			struct record *v = realloc(S.v, (cap = cap ? cap * 2 : 256) * sizeof(*v));

			if (v == NULL) {
				fclose(f);
				return -1;
			}
			S.v = v;
		}
		S.v[S.n++] = r;
	}
	fclose(f);
	qsort(S.v, S.n, sizeof(*S.v), cmp_record);
	return 0;
}

static const struct record *find(uint64_t tn)
{
	struct record key = { .tn = tn };

	return S.n ? bsearch(&key, S.v, S.n, sizeof(*S.v), cmp_record) : NULL;
}

/* ---- helpers ---- */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* splitmix64 over a shared counter: good enough to decide which requests fail. */
static double draw(void)
{
	uint64_t z = atomic_fetch_add(&S.seed, 0x9e3779b97f4a7c15ull) + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

static void json_escape(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *s && n + 7 < outlen; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			n += (size_t)snprintf(out + n, outlen - n, "\\%c", c);
		else if (c < 0x20)
			n += (size_t)snprintf(out + n, outlen - n, "\\u%04x", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body,
								 MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "application/json");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result stats(struct MHD_Connection *c)
{
	char body[256];

	snprintf(body, sizeof(body),
		 "{\"requests\":%llu,\"answered\":%llu,\"not_found\":%llu,\"errors\":%llu,"
		 "\"outage\":%s,\"mode\":\"%s\"}",
		 (unsigned long long)atomic_load(&S.requests),
		 (unsigned long long)atomic_load(&S.answered),
		 (unsigned long long)atomic_load(&S.not_found),
		 (unsigned long long)atomic_load(&S.errors),
		 atomic_load(&S.outage) ? "true" : "false",
		 atomic_load(&S.hang) ? "hang" : "error");
	return reply(c, 200, body);
}

/* ---- endpoints ---- */

static enum MHD_Result control(struct MHD_Connection *c)
{
	const char *v;

	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "mode")))
		atomic_store(&S.hang, strcmp(v, "hang") == 0);
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "outage")))
		atomic_store(&S.outage, strcmp(v, "on") == 0);
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "latency_ms")))
		atomic_store(&S.latency_ms, (unsigned)strtoul(v, NULL, 10));
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "error_rate")))
		atomic_store(&S.error_ppm, (unsigned)(strtod(v, NULL) * 1e6));
	if ((v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "reset"))) {
		atomic_store(&S.requests, 0);
		atomic_store(&S.answered, 0);
		atomic_store(&S.not_found, 0);
		atomic_store(&S.errors, 0);
	}
	return stats(c);
}

static bool authorised(struct MHD_Connection *c)
{
	const char *v;

	if (S.header_name[0] == '\0')
		return true;
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, S.header_name);
	return v && strcmp(v, S.header_value) == 0;
}

/* An outage in hang mode holds the request until the outage ends (or a minute passes). */
static bool outage_fails(void)
{
	for (unsigned waited = 0; atomic_load(&S.outage) && atomic_load(&S.hang) &&
				  !atomic_load(&S.stopping) && waited < HANG_MAX_MS; waited += 10)
		sleep_ms(10);
	return atomic_load(&S.outage);
}

static enum MHD_Result lookup(struct MHD_Connection *c, const char *arg)
{
	char body[6 * NAME_MAX_LEN + 128], name[6 * NAME_MAX_LEN + 1], *end;
	const struct record *r;
	uint64_t tn;

	atomic_fetch_add(&S.requests, 1);
	if (!authorised(c))
		return reply(c, 401, "{\"error\":\"unauthorized\"}");
	sleep_ms(atomic_load(&S.latency_ms));
	if (outage_fails() || draw() * 1e6 < atomic_load(&S.error_ppm)) {
		atomic_fetch_add(&S.errors, 1);
		return reply(c, 503, "{\"error\":\"network unavailable\"}");
	}
	arg += arg[0] == '+';
	arg += strlen(arg) == 11 && arg[0] == '1';
	tn = strtoull(arg, &end, 10);
	if (strlen(arg) != 10 || *end != '\0')
		return reply(c, 400, "{\"error\":\"bad number\"}");
	if ((r = find(tn)) == NULL) {
		atomic_fetch_add(&S.not_found, 1);
		return reply(c, 404, "{\"error\":\"not found\"}");
	}
	json_escape(r->name, name, sizeof(name));
	snprintf(body, sizeof(body),
		 "{\"number\":\"+1%llu\",\"name\":\"%s\",\"presentation\":\"%s\"}",
		 (unsigned long long)tn, name, r->restricted ? "restricted" : "allowed");
	atomic_fetch_add(&S.answered, 1);
	return reply(c, 200, body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_size, void **con_cls)
{
	if (*con_cls == NULL) {
		*con_cls = &marker;
		return MHD_YES;
	}
	*upload_size = 0;
	if (strcmp(method, "GET") == 0 && strncmp(url, "/cnam/", 6) == 0)
		return lookup(c, url + 6);
	if (strcmp(method, "GET") == 0 && strcmp(url, "/stats") == 0)
		return stats(c);
	if (strcmp(method, "POST") == 0 && strcmp(url, "/control") == 0)
		return control(c);
	return reply(c, 404, "{\"error\":\"no such path\"}");
}

/* ---- start-up ---- */

struct opts {
	const char *file, *addr, *port_file;
	unsigned port;
};

static int set_header(const char *h)
{
	const char *colon = strchr(h, ':');

	if (colon == NULL || (size_t)(colon - h) >= sizeof(S.header_name))
		return -1;
	memcpy(S.header_name, h, (size_t)(colon - h));
	S.header_name[colon - h] = '\0';
	colon++;
	colon += strspn(colon, " ");
	snprintf(S.header_value, sizeof(S.header_value), "%s", colon);
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "port-file", required_argument, NULL, 'P' },
		{ "latency-ms", required_argument, NULL, 'L' },
		{ "error-rate", required_argument, NULL, 'E' },
		{ "outage", required_argument, NULL, 'O' },
		{ "require-header", required_argument, NULL, 'H' },
		{ "seed", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "f:l:p:", lo, NULL)) != -1) {
		switch (c) {
		case 'f': o->file = optarg; break;
		case 'l': o->addr = optarg; break;
		case 'p': o->port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': o->port_file = optarg; break;
		case 'L': atomic_store(&S.latency_ms, (unsigned)strtoul(optarg, NULL, 10)); break;
		case 'E': atomic_store(&S.error_ppm, (unsigned)(strtod(optarg, NULL) * 1e6)); break;
		case 'O':
			atomic_store(&S.outage, true);
			atomic_store(&S.hang, strcmp(optarg, "hang") == 0);
			break;
		case 'H':
			if (set_header(optarg) != 0)
				return -1;
			break;
		case 'S': atomic_store(&S.seed, strtoull(optarg, NULL, 10)); break;
		default: return -1;
		}
	}
	return o->file ? 0 : -1;
}

static int write_port_file(const char *path, unsigned port)
{
	char tmp[1024];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path);
}

static struct MHD_Daemon *start(const struct opts *o)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->port) };

	if (inet_pton(AF_INET, o->addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "cnamsim: %s is not an IPv4 address\n", o->addr);
		return NULL;
	}
	return MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
					MHD_USE_POLL | MHD_USE_ERROR_LOG,
				(uint16_t)o->port, NULL, NULL, on_request, NULL,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
}

int main(int argc, char **argv)
{
	struct opts o = { .addr = "127.0.0.1" };
	const union MHD_DaemonInfo *di;
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	if (parse_args(argc, argv, &o) != 0) {
		fprintf(stderr, "usage: cnamsim -f FILE [-l ADDR] [-p PORT] [--port-file FILE] "
			"[--latency-ms N] [--error-rate R] [--outage error|hang] "
			"[--require-header 'Name: value'] [--seed N]\n");
		return 2;
	}
	if (load(o.file) != 0)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((d = start(&o)) == NULL) {
		fprintf(stderr, "cnamsim: cannot listen on %s:%u\n", o.addr, o.port);
		return 1;
	}
	di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	fprintf(stderr, "cnamsim: %zu names, listening on %s:%u\n", S.n, o.addr,
		di ? di->port : o.port);
	if (o.port_file && write_port_file(o.port_file, di ? di->port : o.port) != 0)
		fprintf(stderr, "cnamsim: cannot write %s\n", o.port_file);
	sigwait(&set, &sig);
	atomic_store(&S.stopping, true);
	MHD_stop_daemon(d);
	free(S.v);
	return 0;
}
