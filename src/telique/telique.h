/* telique.h - Telique answers, independent of HTTP.
 *
 * The API layer (telique_api.c) parses and renders; these functions decide.
 * Each reads one lookup generation the caller holds.
 */
#ifndef RINGER_TELIQUE_TELIQUE_H
#define RINGER_TELIQUE_TELIQUE_H

#include <stdbool.h>
#include <stdint.h>

#include "../numdb/numdb.h"
#include "cpr.h"

/* The name shown for a presentation-restricted number. */
#define CNAM_PRIVATE_NAME "PRIVATE"

struct cnam_answer {
	bool available;       /* a record exists */
	bool restricted;      /* presentation restricted */
	char name[16];        /* what to show: the name, PRIVATE, or "" */
};

/* Caller name from local data. Never fails; see available. */
void telique_cnam(const struct numdb *g, uint64_t tn, struct cnam_answer *out);

/*
 * Turn an upstream's name (len bytes, any content) into a displayable CNAM
 * name in out: whitespace becomes a space, other bytes outside printable
 * ASCII are dropped, runs of spaces fold into one, leading and trailing
 * spaces go, and the result is cut to 15 characters (then trimmed again).
 * Returns the length of out, 0 when nothing displayable is left.
 */
size_t telique_cnam_clean(const char *in, size_t len, char out[16]);

enum cic_status {
	CIC_OK = 0,
	CIC_UNKNOWN_CRN = -1, /* no call processing record for the number */
	CIC_NO_ROUTE = -2,    /* the record decides nothing for this call */
};

/*
 * Evaluate crn's CPR for a call from ani in lata at now. On CIC_OK fills *out
 * (the caller json_decref()s out->ir); otherwise *out is untouched.
 */
int telique_cic(const struct numdb *g, uint64_t crn, uint64_t ani, unsigned lata, int64_t now,
		struct cpr_result *out);

#endif
