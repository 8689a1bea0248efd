/* config.c - defaults, INI file (inih), environment and flag overrides. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "log.h"

enum kind { K_STR, K_UINT, K_SIZE };

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t offset;
	size_t size;     /* of the string buffer */
	uint64_t min, max;
};

#define STR(sec, nm, field) \
	{ sec, nm, K_STR, offsetof(struct config, field), sizeof(((struct config *)0)->field), 0, 0 }
#define UINT(sec, nm, field, lo, hi) \
	{ sec, nm, K_UINT, offsetof(struct config, field), 0, lo, hi }
#define SIZE(sec, nm, field, lo, hi) \
	{ sec, nm, K_SIZE, offsetof(struct config, field), 0, lo, hi }

/* The five keys of one CNAM upstream; [cnam] holds the first. */
#define UPSTREAM(sec, i)                                                 \
	STR(sec, "name", cnam_up[i].name), STR(sec, "url", cnam_up[i].url), \
	STR(sec, "field", cnam_up[i].field),                                \
	STR(sec, "presentation_field", cnam_up[i].presentation_field),      \
	STR(sec, "auth_header", cnam_up[i].auth_header)

static const struct key keys[] = {
	STR("server", "listen", listen_addr),
	UINT("server", "port", port, 0, 65535),
	UINT("server", "threads", threads, 0, 256),
	SIZE("server", "max_body", max_body, 64, 64u << 20),
	UINT("server", "conn_timeout", conn_timeout, 1, 3600),
	UINT("server", "max_connections", max_connections, 1, 100000),
	UINT("server", "per_ip_connections", per_ip_connections, 0, 100000),
	STR("data", "dir", data_dir),
	UINT("data", "reload_ms", reload_ms, 50, 3600000),
	UINT("data", "fold_rows", fold_rows, 0, 1000000000),
	STR("telique", "trusted_proxies", trusted_proxies),
	STR("log", "level", log_level),
	STR("clock", "start", clock_start),
	UINT("cnam", "timeout_ms", cnam_timeout_ms, 10, 60000),
	SIZE("cnam", "cache_entries", cnam_cache_entries, 1, 100000000),
	UINT("cnam", "ttl", cnam_ttl, 1, 30 * 86400),
	UINT("cnam", "negative_ttl", cnam_negative_ttl, 1, 30 * 86400),
	UINT("cnam", "stale_ttl", cnam_stale_ttl, 0, 365 * 86400),
	STR("cnam", "routes", cnam_routes),
	STR("cnam", "redis", cnam_redis),
	UINT("cnam", "redis_timeout_ms", cnam_redis_timeout_ms, 1, 10000),
	UPSTREAM("cnam", 0),
	UPSTREAM("cnam_upstream2", 1),
	UPSTREAM("cnam_upstream3", 2),
	UPSTREAM("cnam_upstream4", 3),
	STR("stirshaken", "trust_anchors", ss_trust_anchors),
	STR("stirshaken", "fetch_ca_file", ss_fetch_ca_file),
	STR("stirshaken", "fetch_allow", ss_fetch_allow),
	STR("stirshaken", "fetch_ports", ss_fetch_ports),
	UINT("stirshaken", "allow_http", ss_allow_http, 0, 1),
	UINT("stirshaken", "iat_window", ss_iat_window, 1, 86400),
	UINT("stirshaken", "fetch_timeout_ms", ss_fetch_timeout_ms, 100, 60000),
	STR("stirshaken", "sign_key", ss_sign_key),
	STR("stirshaken", "sign_x5u", ss_sign_x5u),
	UINT("stirshaken", "crl_check", ss_crl_check, 0, 1),
	STR("soa", "business_days", soa_business_days),
	STR("soa", "business_hours", soa_business_hours),
	STR("soa", "utc_offset", soa_utc_offset),
	UINT("soa", "dst", soa_dst, 0, 1),
	STR("soa", "holidays", soa_holidays),
	UINT("soa", "t1_minutes", soa_t1_minutes, 0, 100000),
	UINT("soa", "t2_minutes", soa_t2_minutes, 0, 100000),
	UINT("soa", "short_t1_minutes", soa_short_t1_minutes, 0, 100000),
	UINT("soa", "short_t2_minutes", soa_short_t2_minutes, 0, 100000),
	STR("soa", "conflict_restrict", soa_conflict_restrict),
	UINT("soa", "resolve_minutes", soa_resolve_minutes, 0, 100000),
	UINT("soa", "cancel_initial_minutes", soa_cancel_initial_minutes, 0, 100000),
	UINT("soa", "cancel_final_minutes", soa_cancel_final_minutes, 0, 100000),
	UINT("soa", "conflict_expire_days", soa_conflict_expire_days, 1, 3650),
	UINT("soa", "port_interval_days", soa_port_interval_days, 0, 60),
	UINT("soa", "complex_interval_days", soa_complex_interval_days, 0, 60),
	UINT("soa", "old_first_cancel", soa_old_first_cancel, 0, 1),
	UINT("soa", "scheduler_ms", soa_scheduler_ms, 10, 3600000),
	UINT("ivy", "access_ttl", ivy_access_ttl, 1, 86400),
	UINT("ivy", "refresh_ttl", ivy_refresh_ttl, 60, 365 * 86400),
	UINT("ivy", "code_ttl", ivy_code_ttl, 1, 600),
	UINT("ivy", "confirm_ttl", ivy_confirm_ttl, 60, 30 * 86400),
	UINT("ivy", "reset_ttl", ivy_reset_ttl, 60, 86400),
	UINT("ivy", "login_max_failures", ivy_login_max_failures, 1, 1000),
	UINT("ivy", "login_window", ivy_login_window, 1, 86400),
	UINT("ivy", "reveal_tokens", ivy_reveal_tokens, 0, 1),
	UINT("ivy", "signup_parent", ivy_signup_parent, 0, 2000000000),
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen_addr, sizeof(cfg->listen_addr), "127.0.0.1");
	cfg->port = 8080;
	cfg->threads = 0;
	cfg->max_body = 1u << 20;
	cfg->conn_timeout = 30;
	cfg->max_connections = 4096;
	cfg->per_ip_connections = 0;
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "data");
	cfg->reload_ms = 1000;
	cfg->fold_rows = 1000000;
	snprintf(cfg->log_level, sizeof(cfg->log_level), "info");
	cfg->cnam_timeout_ms = 2000;
	cfg->cnam_cache_entries = 100000;
	cfg->cnam_ttl = 86400;
	cfg->cnam_negative_ttl = 900;
	cfg->cnam_stale_ttl = 7 * 86400;
	cfg->cnam_redis_timeout_ms = 50;
	cfg->ss_iat_window = 60;
	cfg->ss_fetch_timeout_ms = 2000;
	snprintf(cfg->soa_business_days, sizeof(cfg->soa_business_days), "mon-fri");
	snprintf(cfg->soa_business_hours, sizeof(cfg->soa_business_hours), "07:00-19:00");
	snprintf(cfg->soa_utc_offset, sizeof(cfg->soa_utc_offset), "-05:00");
	snprintf(cfg->soa_conflict_restrict, sizeof(cfg->soa_conflict_restrict), "12:00");
	cfg->soa_t1_minutes = cfg->soa_t2_minutes = 540;
	cfg->soa_short_t1_minutes = cfg->soa_short_t2_minutes = 60;
	cfg->soa_resolve_minutes = 360;
	cfg->soa_cancel_initial_minutes = cfg->soa_cancel_final_minutes = 540;
	cfg->soa_conflict_expire_days = 30;
	cfg->soa_port_interval_days = 1;
	cfg->soa_complex_interval_days = 4;
	cfg->soa_old_first_cancel = 1;
	cfg->soa_scheduler_ms = 1000;
	cfg->ivy_access_ttl = 300;
	cfg->ivy_refresh_ttl = 30 * 86400;
	cfg->ivy_code_ttl = 60;
	cfg->ivy_confirm_ttl = 7 * 86400;
	cfg->ivy_reset_ttl = 3600;
	cfg->ivy_login_max_failures = 5;
	cfg->ivy_login_window = 900;
	for (int i = 0; i < CONFIG_CNAM_UPSTREAMS; i++) {
		struct config_cnam_upstream *u = &cfg->cnam_up[i];

		snprintf(u->name, sizeof(u->name), i == 0 ? "default" : "upstream%d", i + 1);
		snprintf(u->field, sizeof(u->field), "name");
	}
}

static int parse_uint(const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (v == NULL || !isdigit((unsigned char)v[0]))
		return -1;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < lo || n > hi)
		return -1;
	*out = n;
	return 0;
}

int config_set(struct config *cfg, const char *section, const char *name, const char *value,
	       char *err, size_t errlen)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key *k = &keys[i];
		char *field = (char *)cfg + k->offset;
		uint64_t n;

		if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
			continue;
		if (k->kind == K_STR) {
			if (strlen(value) >= k->size) {
				snprintf(err, errlen, "%s.%s: value longer than %zu bytes",
					 section, name, k->size - 1);
				return -1;
			}
			memcpy(field, value, strlen(value) + 1);
			return 0;
		}
		if (parse_uint(value, k->min, k->max, &n) != 0) {
			snprintf(err, errlen, "%s.%s: \"%s\" is not a number in %llu..%llu",
				 section, name, value, (unsigned long long)k->min,
				 (unsigned long long)k->max);
			return -1;
		}
		if (k->kind == K_UINT)
			*(unsigned *)(void *)field = (unsigned)n;
		else
			*(size_t *)(void *)field = (size_t)n;
		return 0;
	}
	snprintf(err, errlen, "unknown setting %s.%s", section, name);
	return -1;
}

struct ini_ctx {
	struct config *cfg;
	char *err;
	size_t errlen;
	const char *path;
	int failed;
};

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *c = user;
	char why[200];

	if (c->failed)
		return 0;
	if (config_set(c->cfg, section, name, value, why, sizeof(why)) != 0) {
		snprintf(c->err, c->errlen, "%s", why);
		c->failed = 1;
		return 0;
	}
	return 1;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct ini_ctx c = { cfg, err, errlen, path, 0 };
	struct stat sb;
	int rc;

	/* A directory reads as empty and /dev/zero never ends: neither is a settings file. */
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	rc = ini_parse(path, on_ini, &c);
	if (rc == -1) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	if (c.failed) {
		/* inih stops at the line the handler refused and returns its number. */
		char why[256];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s:%d: %s", path, rc, why);
		return -1;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s:%d: not an INI line", path, rc);
		return -1;
	}
	return 0;
}

/*
 * A RINGER_<SECTION>_... variable whose section is ours but whose key is not
 * is a typo: refuse it rather than run with the default. Variables of other
 * sections (RINGER_SHARED_DIR and the like) belong to other tools.
 */
static int check_env_names(char *err, size_t errlen)
{
	extern char **environ;

	for (char **e = environ; e && *e; e++) {
		const char *name = *e + strlen("RINGER_");
		size_t nlen = strcspn(*e, "=");
		bool section = false, known = false;

		if (strncmp(*e, "RINGER_", strlen("RINGER_")) != 0)
			continue;
		for (size_t i = 0; i < N_KEYS; i++) {
			char var[96];
			size_t n = (size_t)snprintf(var, sizeof(var), "RINGER_%s_%s",
						    keys[i].section, keys[i].name);
			size_t slen = strlen(keys[i].section);

			for (size_t j = 0; j < n && j < sizeof(var); j++)
				var[j] = (char)toupper((unsigned char)var[j]);
			if (strncasecmp(name, keys[i].section, slen) == 0 && name[slen] == '_')
				section = true;
			if (n == nlen && strncmp(*e, var, n) == 0)
				known = true;
		}
		if (section && !known) {
			snprintf(err, errlen, "unknown setting %.*s", (int)(nlen > 80 ? 80 : nlen),
				 *e);
			return -1;
		}
	}
	return 0;
}

int config_load_env(struct config *cfg, char *err, size_t errlen)
{
	if (check_env_names(err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < N_KEYS; i++) {
		char var[96];
		const char *v;
		size_t n;

		n = (size_t)snprintf(var, sizeof(var), "RINGER_%s_%s", keys[i].section,
				     keys[i].name);
		for (size_t j = 0; j < n && j < sizeof(var); j++)
			var[j] = (char)toupper((unsigned char)var[j]);
		v = getenv(var);
		if (v != NULL && config_set(cfg, keys[i].section, keys[i].name, v, err,
					    errlen) != 0)
			return -1;
	}
	return 0;
}

int config_make_dir(const char *dir)
{
	char path[512];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			return -1;
		path[i] = dir[i];
	}
	return 0;
}

int config_data_path(const struct config *cfg, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", cfg->data_dir, name);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}
