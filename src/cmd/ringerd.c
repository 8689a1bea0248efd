/* ringerd.c - the ringer server.
 *
 * Start-up: settings, databases, the first lookup generation, the allowlist,
 * then the HTTP server. The main thread then waits for signals and, between
 * them, notices data that `ringer` committed and swaps it in: SIGHUP forces a
 * reload, SIGTERM and SIGINT stop gracefully.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/allow.h"
#include "auth/token_api.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/log.h"
#include "db/db.h"
#include "http/http.h"
#include "http/ops.h"
#include "ivy/ivy_api.h"
#include "numdb/numdb.h"
#include "numdb/portover.h"
#include "numdb/store.h"
#include "soa/soa_api.h"
#include "inventory/inventory_api.h"
#include "telique/cnam.h"
#include "telique/stirshaken_api.h"
#include "telique/lsms_api.h"
#include "telique/telique_api.h"

struct daemon_state {
	struct config cfg;
	sqlite3 *lookup; /* read connection used to build generations */
	sqlite3 *mgmt;
	int64_t lookup_version;
	int64_t mgmt_version;
	dev_t lookup_dev; /* identity of the lookup.db file the connection has open */
	ino_t lookup_ino;
	struct cidr_set trusted;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ringerd [options]\n"
		"  -c, --config FILE      INI settings file\n"
		"  -l, --listen ADDR      address to bind (default 127.0.0.1)\n"
		"  -p, --port N           port (default 8080; 0 = any free port)\n"
		"  -d, --data-dir DIR     data directory (default ./data)\n"
		"  -t, --threads N        worker threads (default: one per core)\n"
		"      --port-file FILE   write the bound port here once serving\n"
		"      --log-level LEVEL  debug, info, warn or error\n"
		"  -h, --help\n"
		"Environment: RINGER_<SECTION>_<KEY>, e.g. RINGER_SERVER_PORT=9000.\n");
}

/*
 * A lookup.db that was deleted and made again, or a rebuilt one moved into
 * place, is a different file: the open connection would keep reading the old
 * one for ever. Notice that and reopen. Returns 1 when reopened, 0 when not
 * needed, -1 when the new file cannot be opened (the old one keeps serving).
 */
static int reopen_if_replaced(struct daemon_state *st)
{
	char path[512];
	struct stat sb;
	sqlite3 *db;

	if (config_data_path(&st->cfg, "lookup.db", path, sizeof(path)) != 0 ||
	    stat(path, &sb) != 0)
		return 0; /* gone for now: keep what we have until a new one appears */
	if (sb.st_dev == st->lookup_dev && sb.st_ino == st->lookup_ino)
		return 0;
	if (st->lookup != NULL) {
		log_warn("lookup.db was replaced, reopening", "path=%s", path);
		if (numstore_open(path, false, &db) != 0) /* migrate a file made by an older build */
			return -1;
		numstore_close(db);
	}
	if (numstore_open(path, true, &db) != 0)
		return -1;
	numstore_close(st->lookup);
	st->lookup = db;
	st->lookup_dev = sb.st_dev;
	st->lookup_ino = sb.st_ino;
	return 1;
}

static int reload_lookup(struct daemon_state *st, bool force)
{
	struct numdb_stats s;
	struct numdb *g, *prev;
	char path[512];
	int64_t v;
	int rc;
	int r = reopen_if_replaced(st);

	if (r < 0 || st->lookup == NULL)
		return -1;
	if (r == 1)
		force = true;
	if (db_data_version(st->lookup, &v) != 0)
		return -1;
	if (!force && v == st->lookup_version)
		return 0;
	/* Ported changes extend the live generation: the cost is the delta. */
	prev = force ? NULL : numdb_acquire();
	rc = numdb_update(st->lookup, prev, &g);
	numdb_release(prev);
	if (rc != 0)
		return -1; /* the live generation keeps serving */
	numdb_get_stats(g, &s);
	numdb_publish(g);
	st->lookup_version = v;
	if (st->cfg.fold_rows && s.ported_overlay >= st->cfg.fold_rows &&
	    config_data_path(&st->cfg, "lookup.db", path, sizeof(path)) == 0 &&
	    portover_fold_start(path) == 1)
		log_info("ported fold started", "overlay=%zu", s.ported_overlay);
	if (s.incremental) {
		log_debug("ported changes loaded", "seq=%llu overlay=%zu ported=%zu",
			  (unsigned long long)s.ported_seq, s.ported_overlay, s.ported);
		return 0;
	}
	log_info("lookup data loaded",
		 "ported=%zu blocks=%zu cocodes=%zu npas=%zu cnam=%zu dnc=%zu dno=%zu "
		 "tollfree=%zu cpr=%zu", s.ported, s.blocks, s.cocodes, s.npas, s.cnam, s.dnc,
		 s.dno, s.tollfree, s.cpr);
	return 0;
}

static int reload_allowlist(struct daemon_state *st, bool force)
{
	struct cidr_set set;
	int64_t v;

	if (db_data_version(st->mgmt, &v) != 0)
		return -1;
	if (!force && v == st->mgmt_version)
		return 0;
	if (allow_store_load(st->mgmt, &set) != 0)
		return -1;
	log_info("allowlist loaded", "entries=%zu", set.n);
	allow_live_set(&set);
	st->mgmt_version = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct config *cfg, const char **port_file)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "port", required_argument, NULL, 'p' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[300];
	int c, rc = 0;

	config_defaults(cfg);
	/* The file comes first so that environment and flags override it. */
	for (int i = 1; i < argc - 1; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
		    config_load_file(cfg, argv[i + 1], err, sizeof(err)) != 0) {
			fprintf(stderr, "ringerd: %s\n", err);
			return -1;
		}
	}
	if (config_load_env(cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ringerd: environment: %s\n", err);
		return -1;
	}
	while (rc == 0 && (c = getopt_long(argc, argv, "c:l:p:d:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': break;
		case 'l': rc = config_set(cfg, "server", "listen", optarg, err, sizeof(err)); break;
		case 'p': rc = config_set(cfg, "server", "port", optarg, err, sizeof(err)); break;
		case 'd': rc = config_set(cfg, "data", "dir", optarg, err, sizeof(err)); break;
		case 't': rc = config_set(cfg, "server", "threads", optarg, err, sizeof(err)); break;
		case 'L': rc = config_set(cfg, "log", "level", optarg, err, sizeof(err)); break;
		case 'P': *port_file = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (rc != 0) {
		fprintf(stderr, "ringerd: %s\n", err);
		return -1;
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static int apply_settings(struct daemon_state *st, char *err, size_t errlen)
{
	struct config *cfg = &st->cfg;
	int lvl = log_level_parse(cfg->log_level);
	int64_t start;

	if (lvl < 0) {
		snprintf(err, errlen, "log.level \"%s\" is not debug, info, warn or error",
			 cfg->log_level);
		return -1;
	}
	log_set_level((enum log_level)lvl);
	if (cfg->clock_start[0]) {
		if (clock_parse_rfc3339(cfg->clock_start, &start) != 0) {
			snprintf(err, errlen, "clock.start \"%s\" is not an RFC 3339 instant",
				 cfg->clock_start);
			return -1;
		}
		clock_start_at(start);
		log_warn("clock set by configuration", "start=%s", cfg->clock_start);
	}
	if (cfg->threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		cfg->threads = n > 0 ? (unsigned)n : 2;
	}
	return cidr_set_parse(cfg->trusted_proxies, &st->trusted, err, errlen);
}

static int open_data(struct daemon_state *st)
{
	char path[512];
	sqlite3 *w;

	if (config_make_dir(st->cfg.data_dir) != 0) {
		log_error("cannot create data directory", "dir=%s err=\"%s\"", st->cfg.data_dir,
			  strerror(errno));
		return -1;
	}
	/* Create or migrate lookup.db, then read it through its own connection. */
	if (config_data_path(&st->cfg, "lookup.db", path, sizeof(path)) != 0 ||
	    numstore_open(path, false, &w) != 0)
		return -1;
	numstore_close(w);
	if (config_data_path(&st->cfg, "ringer.db", path, sizeof(path)) != 0 ||
	    mgmt_open(path, false, &st->mgmt) != 0)
		return -1;
	st->lookup_version = st->mgmt_version = -1;
	if (reload_lookup(st, true) != 0 || reload_allowlist(st, true) != 0)
		return -1;
	return 0;
}

static int write_port_file(const char *path, unsigned port)
{
	char tmp[512];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0)
		return -1;
	return rename(tmp, path); /* readers never see a half-written port */
}

/* Wait for signals; between them pick up new data. Returns on SIGTERM/SIGINT. */
static void serve_until_stopped(struct daemon_state *st, const sigset_t *set)
{
	struct timespec tick = { st->cfg.reload_ms / 1000,
				 (long)(st->cfg.reload_ms % 1000) * 1000000L };

	for (;;) {
		int sig = sigtimedwait(set, NULL, &tick);

		if (sig == SIGTERM || sig == SIGINT) {
			log_info("stopping", "signal=%s", sig == SIGTERM ? "TERM" : "INT");
			return;
		}
		reload_lookup(st, sig == SIGHUP);
		reload_allowlist(st, sig == SIGHUP);
	}
}

int main(int argc, char **argv)
{
	struct daemon_state st = { 0 };
	const char *port_file = NULL;
	struct http_server_opts o;
	struct http_router *router;
	struct http_server *srv;
	char err[300];
	sigset_t set;

	db_process_init(); /* before any SQLite use */
	if (parse_args(argc, argv, &st.cfg, &port_file) != 0)
		return 2;
	if (apply_settings(&st, err, sizeof(err)) != 0 ||
	    cnam_init(&st.cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ringerd: %s\n", err);
		return 2;
	}
	/* Block the signals in every thread; the main thread takes them with sigtimedwait. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (open_data(&st) != 0)
		return 1;
	router = http_router_new();
	if (router == NULL || ops_api_mount(router) != 0 || telique_api_mount(router) != 0 ||
	    lsms_api_mount(router) != 0 ||
	    stirshaken_api_mount(router, &st.cfg) != 0 ||
	    token_api_mount(router, &st.cfg) != 0 ||
	    ivy_api_mount(router, &st.cfg) != 0 || soa_api_mount(router, &st.cfg) != 0 ||
	    inventory_api_mount(router, &st.cfg) != 0) {
		log_error("cannot set up routes", NULL);
		return 1;
	}
	o = (struct http_server_opts){
		.listen_addr = st.cfg.listen_addr, .port = st.cfg.port,
		.threads = st.cfg.threads, .max_body = st.cfg.max_body,
		.conn_timeout = st.cfg.conn_timeout, .max_connections = st.cfg.max_connections,
		.per_ip_connections = st.cfg.per_ip_connections,
		.trusted_proxies = &st.trusted,
	};
	srv = http_server_start(&o, router);
	if (srv == NULL)
		return 1;
	if (port_file && write_port_file(port_file, http_server_port(srv)) != 0)
		log_error("cannot write port file", "path=%s", port_file);
	ops_set_ready(true);
	log_info("serving", "listen=%s port=%u threads=%u data=%s", st.cfg.listen_addr,
		 http_server_port(srv), st.cfg.threads, st.cfg.data_dir);
	serve_until_stopped(&st, &set);
	ops_set_ready(false);
	http_server_stop(srv, 5000);
	soa_api_shutdown();
	token_api_db_close(); /* the main thread's; workers closed theirs on exit */
	http_router_free(router);
	cnam_shutdown();
	stirshaken_api_shutdown();
	ivy_api_shutdown();
	portover_fold_wait(); /* a fold killed instead would be safe, only wasted */
	numdb_shutdown();
	allow_live_clear();
	cidr_set_release(&st.trusted);
	numstore_close(st.lookup);
	sqlite3_close(st.mgmt);
	log_info("stopped", NULL);
	return 0;
}
