/* tn.h - North American telephone numbers.
 *
 * A number is kept as a 10-digit integer (NPA-NXX-XXXX), so 2125551234 is the
 * number (212) 555-1234. One parser decides what counts as a number anywhere in
 * ringer; the rules are the NANP ones in DOMAIN.md section 2.3.
 */
#ifndef RINGER_BASE_TN_H
#define RINGER_BASE_TN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TN_STR_LEN 10 /* digits in a formatted number, without the NUL */

enum tn_err {
	TN_OK = 0,
	TN_EFORMAT = -1, /* not 10 digits, 1 + 10 digits or +1 + 10 digits */
	TN_ENPA = -2,    /* the area code breaks a NANP rule */
	TN_ENXX = -3,    /* the central office code breaks a NANP rule */
};

/*
 * Parse s[0..len) as a NANP number. Accepts "NPANXXXXXX", "1NPANXXXXXX" and
 * "+1NPANXXXXXX" with nothing before or after. On success stores the 10-digit
 * value in *out and returns TN_OK; otherwise returns a negative tn_err and
 * leaves *out untouched.
 */
int tn_parse(const char *s, size_t len, uint64_t *out);

/*
 * Like tn_parse() but without the NANP rules: any 10 digits in the same three
 * forms. For lists that exist to name invalid numbers (Do Not Originate).
 */
int tn_parse_digits(const char *s, size_t len, uint64_t *out);

/*
 * tn_parse() that also takes the dashed form NPA-NXX-XXXX that SOA tools and
 * BDD files write.
 */
int tn_parse_dashed(const char *s, size_t len, uint64_t *out);

/* tn_parse() on a NUL-terminated string. */
int tn_parse_str(const char *s, uint64_t *out);

/* Write tn as 10 digits and a NUL into out. */
void tn_format(uint64_t tn, char out[TN_STR_LEN + 1]);

/* True if npa is a valid area code by the NANP rules (not whether assigned). */
bool tn_npa_valid(unsigned npa);

/* True if nxx is a valid central office code by the NANP rules. */
bool tn_nxx_valid(unsigned nxx);

/* True for the toll-free area codes 800, 833, 844, 855, 866, 877, 888. */
bool tn_npa_tollfree(unsigned npa);

static inline unsigned tn_npa(uint64_t tn) { return (unsigned)(tn / 10000000u); }
static inline unsigned tn_npanxx(uint64_t tn) { return (unsigned)(tn / 10000u); }
static inline unsigned tn_npanxxx(uint64_t tn) { return (unsigned)(tn / 1000u); }

/*
 * Parse exactly n ASCII digits from s into *out. Returns 0, or -1 if s does
 * not hold exactly n digits (len must equal n).
 */
int digits_parse(const char *s, size_t len, unsigned n, uint64_t *out);

#endif
