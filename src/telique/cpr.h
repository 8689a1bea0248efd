/* cpr.h - toll-free call processing records (CPR) and their evaluation.
 *
 * A CPR is the decision tree a RespOrg stores with a toll-free number: it picks
 * a carrier (CIC) and optionally a POTS number from the caller's ANI, the
 * originating LATA and the time in the record's time zone (DOMAIN.md section
 * 4). ringer keeps each record as a JSON document whose form is documented in
 * docs/cpr.md. Records are validated once, at import, and evaluated per call.
 */
#ifndef RINGER_TELIQUE_CPR_H
#define RINGER_TELIQUE_CPR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* What the caller brings to a CPR. */
struct cpr_call {
	uint64_t ani;      /* calling number, 10 digits */
	unsigned lata;     /* originating LATA, 0-999 */
	const char *state; /* ANI's state or province (2 letters), or NULL if unknown */
	int64_t now;       /* the instant of the call, epoch seconds UTC */
	unsigned percent_draw; /* 0-99, the draw a PERCENT node uses */
};

/* What a CPR decides. */
struct cpr_result {
	char cic[5];  /* 4 digits, zero padded */
	char tel[11]; /* translated POTS number, or "" when the dialed number is kept */
	json_t *ir;   /* interpretation record: the nodes taken (caller frees) */
};

/*
 * Check that record is a well-formed CPR (docs/cpr.md). Returns 0, or -1 with
 * a short reason in err.
 */
int cpr_validate(const json_t *record, char *err, size_t errlen);

/*
 * Walk a validated record for call. Returns 0 and fills *out, or -1 if the
 * walk ends without a carrier (a branch with no action, a goto loop past the
 * step limit); *out is then untouched.
 */
int cpr_eval(const json_t *record, const struct cpr_call *call, struct cpr_result *out);

#endif
