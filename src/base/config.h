/* config.h - ringerd and ringer settings.
 *
 * Settings come, lowest precedence first, from built-in defaults, an INI file,
 * environment variables (RINGER_<SECTION>_<KEY>, e.g. RINGER_SERVER_LISTEN) and
 * command-line flags. docs/config.md lists every key.
 */
#ifndef RINGER_BASE_CONFIG_H
#define RINGER_BASE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_STR 256

struct config {
	/* [server] */
	char listen_addr[64];     /* IP to bind, "127.0.0.1" */
	unsigned port;            /* 8080 */
	unsigned threads;         /* worker threads; 0 = one per core */
	size_t max_body;          /* bytes a request body may have */
	unsigned conn_timeout;    /* seconds an idle connection is kept */
	unsigned max_connections; /* open connections at once */
	/* [data] */
	char data_dir[CONFIG_STR]; /* where ringer.db and lookup.db live */
	unsigned reload_ms;        /* how often ringerd looks for new data */
	/* [telique] */
	char trusted_proxies[CONFIG_STR]; /* CIDRs whose X-Forwarded-For is believed */
	/* [log] */
	char log_level[16];
	/* [clock] */
	char clock_start[40]; /* RFC 3339; empty = system clock */
};

/* Fill cfg with the built-in defaults. */
void config_defaults(struct config *cfg);

/*
 * Read an INI file into cfg. Returns 0, or -1 with a message in err naming
 * the file and line of the first bad entry. Unknown keys are errors, so a
 * typo does not silently keep a default.
 */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Apply RINGER_<SECTION>_<KEY> variables. Returns 0, or -1 with err set. */
int config_load_env(struct config *cfg, char *err, size_t errlen);

/* Set one "section.key" to value (used for flags). Returns 0, or -1 with err set. */
int config_set(struct config *cfg, const char *section, const char *key, const char *value,
	       char *err, size_t errlen);

/* Join data_dir and name into out. Returns 0, or -1 if it does not fit. */
int config_data_path(const struct config *cfg, const char *name, char *out, size_t outlen);

#endif
