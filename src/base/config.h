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
#define CONFIG_CNAM_UPSTREAMS 4

struct config {
	/* [server] */
	char listen_addr[64];     /* IP to bind, "127.0.0.1" */
	unsigned port;            /* 8080 */
	unsigned threads;         /* worker threads; 0 = one per core */
	size_t max_body;          /* bytes a request body may have */
	unsigned conn_timeout;    /* seconds an idle connection is kept */
	unsigned max_connections; /* open connections at once */
	unsigned per_ip_connections; /* open connections from one address; 0 = no limit */
	/* [data] */
	char data_dir[CONFIG_STR]; /* where ringer.db and lookup.db live */
	unsigned reload_ms;        /* how often ringerd looks for new data */
	unsigned fold_rows;        /* overlay rows that start a background fold; 0 = never */
	/* [telique] */
	char trusted_proxies[CONFIG_STR]; /* CIDRs whose X-Forwarded-For is believed */
	/* [log] */
	char log_level[16];
	/* [clock] */
	char clock_start[40]; /* RFC 3339; empty = system clock */
	/* [cnam]: the network path, its cache and routing (docs/cnam.md) */
	unsigned cnam_timeout_ms;          /* bound on one upstream dip, connect included */
	size_t cnam_cache_entries;         /* answers the cache holds */
	unsigned cnam_ttl;                 /* seconds a name is cached */
	unsigned cnam_negative_ttl;        /* seconds a "no name" answer is cached */
	unsigned cnam_stale_ttl;           /* seconds past expiry an answer may stand in */
	char cnam_routes[1024];            /* "303=a, dpc:001002003=b, *=local" */
	char cnam_redis[128];              /* "host:port" or "unix:/path"; empty = none */
	unsigned cnam_redis_timeout_ms;    /* bound on one Redis command */
	/* [cnam] (upstream 1) and [cnam_upstream2] .. [cnam_upstream4] */
	struct config_cnam_upstream {
		char name[32];               /* what routes call it */
		char url[CONFIG_STR];        /* template with {tn} or {e164}; empty = unused */
		char field[64];              /* dotted JSON path of the name; empty = the body */
		char presentation_field[64]; /* JSON field saying "restricted"; empty = none */
		char auth_header[CONFIG_STR]; /* "Name: value" sent with a dip; not logged */
	} cnam_up[CONFIG_CNAM_UPSTREAMS];
	/* [stirshaken]: PASSporT verification and signing (docs/stirshaken.md) */
	char ss_trust_anchors[CONFIG_STR];  /* PEM file of trusted STI-CA roots */
	char ss_fetch_ca_file[CONFIG_STR];  /* CA bundle for certificate servers' TLS */
	char ss_fetch_allow[CONFIG_STR];    /* CIDRs exempt from the fetch address guard */
	char ss_fetch_ports[CONFIG_STR];    /* ports certificate URLs may name; "" = 443,8443 */
	unsigned ss_allow_http;             /* 1 = http:// certificate URLs too */
	unsigned ss_iat_window;             /* seconds a PASSporT stays fresh */
	unsigned ss_fetch_timeout_ms;       /* bound on one certificate fetch */
	char ss_sign_key[CONFIG_STR];       /* EC P-256 private key (PEM) for signing */
	char ss_sign_x5u[CONFIG_STR];       /* certificate URL put in signed PASSporTs */
	unsigned ss_crl_check;              /* 1 = check revocation via the CRL DP */
	/* [ivy]: the OAuth 2.0 server, accounts and users (docs/ivy.md) */
	unsigned ivy_access_ttl;         /* seconds an access token lives */
	unsigned ivy_refresh_ttl;        /* seconds a refresh token lives */
	unsigned ivy_code_ttl;           /* seconds an authorization code lives */
	unsigned ivy_confirm_ttl;        /* seconds a sign-up confirmation token lives */
	unsigned ivy_reset_ttl;          /* seconds a password reset token lives */
	unsigned ivy_login_max_failures; /* failed logins per user or address per window */
	unsigned ivy_login_window;       /* seconds failed logins are counted over */
	unsigned ivy_reveal_tokens;      /* 1 = reset tokens in responses (no mail yet) */
	unsigned ivy_signup_parent;      /* account id sign-ups go under; 0 = top level */
	/* [soa]: the Portability port lifecycle (docs/portability.md) */
	char soa_business_days[32];        /* "mon-fri" */
	char soa_business_hours[16];       /* "07:00-19:00" local */
	char soa_utc_offset[8];            /* "-05:00": the region's standard time */
	unsigned soa_dst;                  /* 1 = US daylight saving time on top of it */
	char soa_holidays[CONFIG_STR * 4]; /* "2026-01-01,2026-07-03" */
	unsigned soa_t1_minutes, soa_t2_minutes;             /* business minutes, long timers */
	unsigned soa_short_t1_minutes, soa_short_t2_minutes; /* wireless */
	char soa_conflict_restrict[8];     /* "12:00" on the business day before due; "" = none */
	unsigned soa_resolve_minutes;      /* new SP's wait before resolving a conflict */
	unsigned soa_cancel_initial_minutes, soa_cancel_final_minutes;
	unsigned soa_conflict_expire_days; /* calendar days in conflict before canceled */
	unsigned soa_port_interval_days;   /* business days from create to due (SIMPLE) */
	unsigned soa_complex_interval_days; /* ... for COMPLEX and PROJECT */
	unsigned soa_old_first_cancel;     /* 1 = cancel an unmatched old-SP create at T2 */
	unsigned soa_scheduler_ms;         /* how often timers are checked */
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

/*
 * mkdir -p with mode 0750: dir and any missing parent ("-d /srv/ringer/data"
 * on a fresh machine, "pki/ca"). Returns 0, or -1 with errno set.
 */
int config_make_dir(const char *dir);

#endif
