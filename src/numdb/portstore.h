/* portstore.h - the generation file of ported numbers.
 *
 * One immutable file holds every routed subscription version of a refresh:
 * an NPA-NXX index (a 1,000,000-slot table), per code either a sorted list of
 * line numbers or a 10,000-bit bitmap with a rank directory (whichever is
 * smaller), and per number an index into a table of distinct route profiles
 * (LRN, SPID, CNAM DPC), 2, 3 or 4 bytes wide as the profile count needs.
 *
 * A builder takes numbers in ascending order and writes NAME.tmp, fsyncs it
 * and renames it over NAME, so a crash mid-build leaves the old file whole.
 * Readers map the file read-only; every section is checked against the
 * checksums in the header when it is opened, and a file that fails is
 * refused with a reason, never read.
 */
#ifndef RINGER_NUMDB_PORTSTORE_H
#define RINGER_NUMDB_PORTSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A route profile: what a ported number answers. */
struct port_profile {
	uint64_t lrn;
	char spid[5];      /* 4 characters and a NUL */
	char cnam_dpc[10]; /* 9 digits and a NUL, or "" */
};

/* ---- building ---- */

struct portbuild;

/*
 * Start a file at path (written as path.tmp) for numbers that use the n
 * profiles in profiles[] (copied). Returns 0, or -1 with a reason in err.
 */
int portbuild_begin(const char *path, const struct port_profile *profiles, uint32_t n,
		    struct portbuild **out, char *err, size_t errlen);

/*
 * Add one number; numbers must come in strictly ascending order and profile
 * must be below the count given to portbuild_begin(). Returns 0 or -1.
 */
int portbuild_add(struct portbuild *b, uint64_t tn, uint32_t profile);

/*
 * Write the index, fsync and rename over the live name. max_version is the
 * highest NPAC version id the file reflects and seq the last overlay update
 * transaction it absorbed (portover.h). Frees b. Returns 0, or -1 with err
 * set (the live file is untouched and path.tmp removed).
 */
int portbuild_finish(struct portbuild *b, uint64_t max_version, uint64_t seq, char *err,
		     size_t errlen);

/* Give up a build: remove path.tmp and free b. NULL is fine. */
void portbuild_abort(struct portbuild *b);

/* ---- reading ---- */

struct portstore;

struct portstore_info {
	uint64_t numbers;
	uint32_t codes, profiles;
	unsigned profile_width; /* bytes per number in the profile index */
	uint64_t max_version;
	uint64_t absorbed_seq;  /* overlay rows up to this update transaction are in it */
	int64_t built_at;       /* epoch seconds */
	uint64_t file_bytes;
};

/*
 * Map and verify path. Returns 0 and *out (one reference), or -1 with a
 * reason in err: missing, truncated, wrong magic or version, bad checksums
 * or an inconsistent index.
 */
int portstore_open(const char *path, struct portstore **out, char *err, size_t errlen);

/* Take another reference. */
struct portstore *portstore_ref(struct portstore *s);

/* Drop a reference; the mapping goes with the last one. NULL is fine. */
void portstore_unref(struct portstore *s);

/* Returns the profile id of tn and true, or false when tn is not in the file. */
bool portstore_find(const struct portstore *s, uint64_t tn, uint32_t *profile);

/* The profile with id (below info.profiles), inside the mapping. */
const struct port_profile *portstore_profile(const struct portstore *s, uint32_t id);

void portstore_get_info(const struct portstore *s, struct portstore_info *info);

/*
 * Read only the header of path (magic, version and header checksum checked,
 * the body not): what the file absorbed, cheaply enough to ask before every
 * update transaction. Returns 0 and fills info, or -1 (missing or unusable).
 */
int portstore_peek(const char *path, struct portstore_info *info);

/* The file this store was opened from and its identity, to notice a new one. */
bool portstore_same_file(const struct portstore *s, const char *path);

/*
 * Visit the numbers >= from in ascending order. fn returns 0 to go on and
 * anything else to stop; that value is returned (0 when the end is reached).
 */
typedef int (*portstore_visit_fn)(void *ctx, uint64_t tn, uint32_t profile);
int portstore_walk(const struct portstore *s, uint64_t from, portstore_visit_fn fn, void *ctx);

#endif
