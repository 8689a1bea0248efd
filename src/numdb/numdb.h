/* numdb.h - the in-memory generation of lookup data that dips read.
 *
 * A generation is built from lookup.db in one pass and never changes after.
 * ringerd publishes one as current; request threads acquire it, read it
 * without locks and release it. Publishing a new generation does not wait
 * for readers: the old one is freed when its last reader releases it.
 */
#ifndef RINGER_NUMDB_NUMDB_H
#define RINGER_NUMDB_NUMDB_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct numdb;

/* Where an LRN answer came from. */
enum lrn_source {
	LRN_FROM_PORT,  /* an active subscription version */
	LRN_FROM_BLOCK, /* a pooled 1000-block's default route */
	LRN_FROM_CODE,  /* the NPA-NXX code holder (LERG-style) */
	LRN_FROM_NONE,  /* nothing known: the number is its own LRN */
};

struct lrn_answer {
	uint64_t lrn;
	char spid[5]; /* "" when unknown */
	bool ported;
	enum lrn_source source;
	char cnam_dpc[10]; /* the SV's CNAM DPC, "" when none */
};

struct cocode_info {
	const char *ocn; /* NULL when the code is not assigned */
	const char *company;
	const char *rate_center;
	const char *state;
	const char *status;
};

struct dno_match {
	char pattern[11];
	const char *source;
};

struct dnc_count {
	unsigned npa;
	long old_count;
	long new_count;
};

struct numdb_stats {
	size_t ported, blocks, cocodes, npas, cnam, dnc, dno, tollfree, cpr;
	int64_t built_at; /* epoch seconds */
	size_t ported_overlay;       /* changes since the generation file */
	uint64_t ported_bytes;       /* generation file plus overlay */
	uint64_t ported_max_version; /* highest NPAC version id applied */
	int64_t ported_built_at;     /* the generation file's build, 0 without one */
	char ported_updated[24];     /* last overlay change, RFC 3339, "" if none */
	uint64_t ported_seq;         /* the last update transaction read */
	uint64_t ported_absorbed;    /* update transactions the generation file holds */
	bool incremental;            /* made from the previous generation plus a delta */
};

/* Build a generation from an open lookup store. Returns 0 or -1 (logged). */
int numdb_build(sqlite3 *db, struct numdb **out);

/*
 * The generation after prev (NULL: a full build). When only ported numbers
 * changed, prev's other tables are shared, and when the generation file is
 * also the same, the overlay is prev's plus the rows written since it was
 * read: a reload costs the changes, not the data. prev stays valid.
 * Returns 0 or -1 (logged).
 */
int numdb_update(sqlite3 *db, const struct numdb *prev, struct numdb **out);

/* Free a generation nobody else holds (build failures, tests). */
void numdb_free(struct numdb *g);

/* Make g current (takes the caller's reference). The old one goes when unused. */
void numdb_publish(struct numdb *g);

/* The current generation with a reference held, or NULL before the first publish. */
struct numdb *numdb_acquire(void);

/* Drop a reference taken by numdb_acquire(). */
void numdb_release(struct numdb *g);

/* Unpublish and drop the current generation (shutdown). */
void numdb_shutdown(void);

/*
 * LRN with LNP meaning: an active port answers its LRN and new SPID; else a
 * pooled block answers its LRN (when known) and holder; else the number is
 * its own LRN and the code holder's OCN is the SPID when the code is assigned.
 */
void numdb_lrn(const struct numdb *g, uint64_t tn, struct lrn_answer *out);

struct port_profile;

/* The route of a ported number (borrowed from g), or NULL when tn is not ported. */
const struct port_profile *numdb_ported(const struct numdb *g, uint64_t tn);

/*
 * Visit the ported numbers >= from in ascending order, the overlay merged
 * over the file. fn returns 0 to go on; anything else stops the walk and is
 * returned.
 */
typedef int (*numdb_ported_fn)(void *ctx, uint64_t tn, const struct port_profile *p);
int numdb_ported_walk(const struct numdb *g, uint64_t from, numdb_ported_fn fn, void *ctx);

/*
 * Visit every route profile ported numbers may answer (the file's table and
 * the overlay's rows; tn is 0). Cheap next to a walk: one per distinct route.
 */
int numdb_ported_profiles(const struct numdb *g, numdb_ported_fn fn, void *ctx);

/* The NPA-NXX's assignment, or NULL when the code is not in the data. */
const struct cocode_info *numdb_cocode(const struct numdb *g, unsigned npanxx);

/* State or province of a number: its code's, else its NPA's location; NULL if unknown. */
const char *numdb_state(const struct numdb *g, uint64_t tn);

/* CNAM record: returns 0 and the name (borrowed) or -1 when there is none. */
int numdb_cnam(const struct numdb *g, uint64_t tn, const char **name, bool *restricted);

/* True if tn is on a Do Not Call list. */
bool numdb_dnc(const struct numdb *g, uint64_t tn);

/* The longest DNO pattern covering tn: returns true and fills *m. */
bool numdb_dno(const struct numdb *g, uint64_t tn, struct dno_match *m);

/* RespOrg of a toll-free number: returns 0 and the ROR (borrowed), or -1. */
int numdb_ror(const struct numdb *g, uint64_t crn, const char **ror);

/* The CPR of a toll-free number (borrowed, read-only), or NULL. */
const json_t *numdb_cpr(const struct numdb *g, uint64_t crn);

/* The DNC update report rows, ascending by NPA (borrowed). */
const struct dnc_count *numdb_dnc_report(const struct numdb *g, size_t *n);

void numdb_get_stats(const struct numdb *g, struct numdb_stats *st);

#endif
