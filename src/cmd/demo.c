/* demo.c - ringer demo-data: a small, realistic data set in the real file formats.
 *
 * Everything comes from the small tables below and a seeded PRNG, so one seed
 * always gives byte-identical files: no clock, no file reads, no rand(). The
 * rows the README relies on (the FIX_ constants) do not depend on the seed.
 * The codes are real Canadian NPA-NXX codes that are In Service in the CNA
 * status file, so the set also works beside the real NANPA data; with_codes
 * adds an npa_report.csv and a cocodes.csv of just these codes for machines
 * without that data. Each file is written as NAME.tmp and renamed when
 * complete, so a failed run never leaves a half-written file under its name.
 */
#include "demo.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"

/* Sizes of the set: every loop below is bounded by these. */
#define N_PORTED 2000     /* new SVs in ported.bdd */
#define N_DELETED 12      /* deleted SVs after them, the fixed one included */
#define N_BLOCKS_AS 50    /* assigned blocks in blocks.csv */
#define N_BLOCKS_BDD 30   /* of which carry an LRN in blocks.bdd */
#define N_CNAM 1500
#define N_DNC_PER_NPA 750 /* dnc.txt: four NPAs */
#define N_DNC_EXTRA 500   /* dnc-npa.csv: one more NPA */
#define N_DNO_TF 12       /* subscriber-request toll-free numbers in dno.csv */
#define N_ROR 200
#define N_CPR 50
#define MAX_TRIES 100000  /* draws before a generator gives up on uniqueness */
#define PATH_LEN 4096

/* Rows the README and the demo script use; independent of the seed. */
#define FIX_RUN_FIRST 2042221230ULL /* 2042221230-39 ported together to FIX_LRN */
#define FIX_RUN_LEN 10
#define FIX_PORTED 2042221234ULL
#define FIX_SNAPBACK 2042221235ULL /* ported, then deleted: snaps back */
#define FIX_NOT_PORTED 2042229999ULL
#define FIX_CNAM_RESTRICTED 2042225555ULL
#define FIX_BLOCK 2042234U
#define FIX_CRN 8005551234ULL
#define FIX_DNO_TF 8005550100ULL
#define FIX_VERSION 10000001LL

/* The date the demo files claim to be from (File Date, date rows). */
#define DEMO_Y 2025
#define DEMO_M 1
#define DEMO_D 6

/* ------------------------------------------------------------------ tables */

/* In Service codes of the Canadian CO code status file (CNA, 2024-10-10). */
struct code {
	unsigned short npa, nxx;
	const char *area, *prov, *company, *ocn;
};

static const struct code codes[] = {
	{ 204, 200, "Winnipeg", "MB", "ISP Telecom Inc.", "4727" },
	{ 204, 222, "Winnipeg", "MB", "MTS Inc.", "8088" },
	{ 204, 223, "Winnipeg", "MB", "MTS Inc.", "991B" },
	{ 204, 224, "Winnipeg", "MB", "MTS Inc.", "8088" },
	{ 306, 205, "Regina", "SK", "Zayo Canada Inc.", "8304" },
	{ 306, 303, "Biggar", "SK", "TELUS Mobility", "8303" },
	{ 306, 402, "Eston", "SK", "SaskTel Mobility", "9868" },
	{ 306, 502, "Regina", "SK", "Rogers Communications Canada Inc. (Wireless)", "8821" },
	{ 403, 204, "Calgary", "AB", "TELUS", "8084" },
	{ 403, 302, "Red Deer", "AB", "TELUS", "8084" },
	{ 403, 400, "Calgary", "AB", "Fido Solutions Inc.", "5643" },
	{ 403, 499, "Strathmore", "AB", "Bell Mobility", "6574" },
	{ 416, 201, "Toronto", "ON", "Bell Canada", "8051" },
	{ 416, 203, "Toronto", "ON", "Bell Canada", "8051" },
	{ 416, 206, "Toronto", "ON", "TELUS Mobility", "8303" },
	{ 416, 250, "Toronto", "ON", "Bell Canada", "8051" },
	{ 514, 204, "Montreal", "QC", "Bell Canada", "8050" },
	{ 514, 303, "Montreal", "QC", "Videotron Ltd.", "8306" },
	{ 514, 401, "Montreal", "QC", "Bell Canada", "8050" },
	{ 514, 502, "Montreal", "QC", "Rogers Communications Canada Inc. (Wireless)", "8821" },
	{ 604, 204, "Richmond", "BC", "TELUS", "8086" },
	{ 604, 303, "Richmond", "BC", "TELUS", "8086" },
	{ 604, 401, "Vancouver", "BC", "Freedom Mobile Inc.", "383F" },
	{ 604, 499, "Vancouver", "BC", "Rogers Communications Canada Inc. (Wireless)", "8821" },
	{ 613, 204, "Ottawa-Hull", "ON", "Bell Mobility", "6574" },
	{ 613, 303, "Bancroft", "ON", "Rogers Communications Canada Inc. (Wireless)", "8821" },
	{ 613, 403, "Belleville", "ON", "Bell Mobility", "6574" },
	{ 613, 503, "Picton", "ON", "Rogers Communications Canada Inc. (Wireless)", "8821" },
	{ 647, 204, "Toronto", "ON", "Rogers Communications Canada Inc. (Wireless)", "8821" },
	{ 647, 303, "Toronto", "ON", "Freedom Mobile Inc.", "383F" },
	{ 647, 403, "Toronto", "ON", "Rogers Communications Canada Inc. (Wireless)", "8821" },
	{ 647, 503, "Toronto", "ON", "Iristel Inc.", "154E" },
	{ 780, 204, "Whitecourt", "AB", "TELUS Mobility", "8301" },
	{ 780, 302, "Falher", "AB", "TELUS", "8084" },
	{ 780, 400, "Sherwood Park", "AB", "TELUS", "8084" },
	{ 780, 499, "Edmonton", "AB", "TELUS Mobility", "8301" },
	{ 905, 204, "Castlemore", "ON", "Rogers Communications Canada Inc. (Cable)", "8377" },
	{ 905, 304, "Ancaster", "ON", "Bell Canada", "8051" },
	{ 905, 404, "Oshawa", "ON", "Bell Canada", "8051" },
	{ 905, 504, "Bethesda", "ON", "Rogers Communications Canada Inc. (Cable)", "743B" },
};

#define N_CODES (sizeof(codes) / sizeof(codes[0]))

/* Codes of the same NPAs that no carrier holds: DNO "unallocated" patterns. */
struct spare {
	unsigned short npa, nxx;
	const char *status, *remarks;
};

static const struct spare spares[] = {
	{ 204, 555, "For Special Use", "Universal Information" },
	{ 204, 610, "Moratorium on Assignment", "" },
	{ 306, 942, "Available", "" },
	{ 403, 810, "Moratorium on Assignment", "" },
	{ 416, 555, "For Special Use", "Universal Information" },
	{ 416, 610, "Moratorium on Assignment", "" },
	{ 514, 810, "Moratorium on Assignment", "" },
	{ 604, 610, "Moratorium on Assignment", "" },
	{ 613, 610, "Moratorium on Assignment", "" },
	{ 647, 810, "Moratorium on Assignment", "" },
	{ 780, 610, "Moratorium on Assignment", "" },
	{ 905, 810, "Moratorium on Assignment", "" },
};

#define N_SPARES (sizeof(spares) / sizeof(spares[0]))

/* 1000-blocks still in the pool: "AV" in blocks.csv, unallocated in dno.csv. */
static const unsigned spare_blocks[] = {
	2042247, 3065029, 4032045, 4162063, 5143038, 6044019, 6132046, 7804992,
};

#define N_SPARE_BLOCKS (sizeof(spare_blocks) / sizeof(spare_blocks[0]))

/* Demo service providers: SPID (also their OCN), name, SS7 network octet. */
struct spid {
	const char *id, *name;
	unsigned net;
	bool wireless; /* no ISVM point code */
};

static const struct spid spids[] = {
	{ "DEM1", "Demo Fibre Networks Inc.", 21, false },
	{ "DEM2", "Demo Wireless Inc.", 22, true },
	{ "DEM3", "Northern Demo Telecom", 23, false },
	{ "DEM4", "Maple Demo Communications", 24, false },
	{ "DEM5", "Lakeshore Demo Voice", 25, false },
	{ "DEM6", "Prairie Demo Tel", 26, false },
	{ "DEM7", "Coastal Demo Mobility", 27, true },
	{ "DEM8", "Laurentian Demo Telecom", 28, false },
};

/* The LRNs (switches) of the demo SPIDs, two per NPA. lrns[0] is FIX's. */
struct lrn {
	uint64_t tn;
	unsigned spid;
};

static const struct lrn lrns[] = {
	{ 4162500000ULL, 0 }, { 4162010000ULL, 3 }, { 2042230000ULL, 1 }, { 2042000000ULL, 5 },
	{ 3062050000ULL, 5 }, { 3063030000ULL, 2 }, { 4032040000ULL, 2 }, { 4034000000ULL, 6 },
	{ 5142040000ULL, 7 }, { 5144010000ULL, 4 }, { 6042040000ULL, 6 }, { 6044990000ULL, 1 },
	{ 6132040000ULL, 4 }, { 6134030000ULL, 0 }, { 6472040000ULL, 3 }, { 6475030000ULL, 0 },
	{ 7804990000ULL, 2 }, { 7802040000ULL, 1 }, { 9053040000ULL, 7 }, { 9054040000ULL, 3 },
};

#define N_LRNS (sizeof(lrns) / sizeof(lrns[0]))
#define FIX_LRN_IDX 0        /* 4162500000, DEM1 */
#define FIX_BLOCK_LRN_IDX 2  /* 2042230000, DEM2 */
#define FIX_BLOCK_SPID 1     /* DEM2 */

/* NANPA npa_report columns for the demo NPAs (public NANPA facts). */
struct npa_row {
	unsigned short npa;
	const char *assign_dt, *location, *insvc_dt, *complex, *parent, *tz;
	bool tollfree, overlay, relief;
};

static const struct npa_row npa_rows[] = {
	{ 204, "01-JAN-47", "MANITOBA", "01-JAN-47", "204/431", "", "C", false, true, true },
	{ 306, "01-JAN-47", "SASKATCHEWAN", "01-JAN-47", "306/639", "", "C", false, true, false },
	{ 403, "01-JAN-47", "ALBERTA", "01-JAN-47", "403/587/780/825", "", "M", false, true,
	  false },
	{ 416, "01-JAN-47", "ONTARIO", "01-JAN-47", "416/437/647", "", "E", false, true, false },
	{ 514, "01-JAN-47", "QUEBEC", "01-JAN-47", "438/514", "", "E", false, true, false },
	{ 604, "01-JAN-47", "BRITISH COLUMBIA", "01-JAN-47", "236/604/778/672", "", "P",
	  false, true, false },
	{ 613, "01-JAN-47", "ONTARIO", "01-JAN-47", "343/613", "", "E", false, true, false },
	{ 647, "14-DEC-99", "ONTARIO", "05-MAR-01", "416/437/647", "416", "E", false, true, false },
	{ 780, "", "ALBERTA", "18-MAY-99", "403/587/780/825", "403", "M", false, true, false },
	{ 800, "01-JAN-66", "NANP AREA", "01-JAN-66", "", "", "E", true, false, false },
	{ 833, "23-FEB-00", "NANP AREA", "03-JUN-17", "", "800", "E", true, false, false },
	{ 844, "23-FEB-00", "NANP AREA", "07-DEC-13", "", "800", "E", true, false, false },
	{ 855, "07-NOV-99", "NANP AREA", "09-OCT-10", "", "800", "E", true, false, false },
	{ 866, "07-NOV-99", "NANP AREA", "29-JUL-00", "", "800", "E", true, false, false },
	{ 877, "02-JUL-97", "NANP AREA", "04-APR-98", "", "800", "E", true, false, false },
	{ 888, "25-MAY-95", "NANP AREA", "01-MAR-96", "", "800", "E", true, false, false },
	{ 905, "", "ONTARIO", "04-OCT-93", "289/365/905", "416", "E", false, true, false },
};

#define N_NPA_ROWS (sizeof(npa_rows) / sizeof(npa_rows[0]))

static const unsigned short tf_npas[] = { 800, 800, 800, 833, 844, 855, 866, 877, 888, 888 };

#define N_TF_NPAS (sizeof(tf_npas) / sizeof(tf_npas[0]))

static const char *const surnames[] = {
	"SMITH", "BROWN", "TREMBLAY", "MARTIN", "ROY", "WILSON", "MACDONALD", "GAGNON",
	"JOHNSON", "TAYLOR", "COTE", "CAMPBELL", "ANDERSON", "LEBLANC", "LEE", "WONG",
	"SINGH", "PATEL", "NGUYEN", "CHEN", "MORIN", "BOUCHARD", "GAUTHIER", "THOMPSON",
	"WHITE", "YOUNG", "KELLY", "CLARK", "SCOTT", "STEWART", "REID", "ROSS",
	"MURRAY", "FRASER", "HALL", "WRIGHT", "KING", "GIRARD", "PELLETIER", "BELANGER",
};

static const char *const given[] = {
	"JOHN", "MARY", "DAVID", "SARAH", "MICHEL", "LINDA", "PAUL", "KAREN", "JAMES",
	"NATHALIE", "ROBERT", "SUSAN", "PIERRE", "ANNE", "MARK", "LISA", "KEVIN", "JULIE",
	"BRIAN", "EMMA", "RAJ", "PRIYA", "WEI", "MEI", "OMAR", "LUC", "SOPHIE", "ERIC",
};

static const char *const biz_first[] = {
	"NORTHERN", "PRAIRIE", "MAPLE", "LAKESHORE", "SUMMIT", "CEDAR", "GOLDEN", "ATLANTIC",
	"PACIFIC", "RIVERSIDE", "HARBOUR", "PIONEER", "CROWN", "TRILLIUM", "BOREAL", "CAPITAL",
	"UNION", "GRANITE", "ASPEN", "FRONTIER", "ACME", "BAYVIEW",
};

static const char *const biz_second[] = {
	"DENTAL", "PLUMBING", "MOTORS", "BAKERY", "PHARMACY", "LAW", "AUTO", "HVAC", "FOODS",
	"HOTEL", "INSURANCE", "CLINIC", "ROOFING", "TRAVEL", "PRINT", "FARMS", "REALTY",
	"VET", "SUPPLY", "ELECTRIC", "CONSULTING", "PIZZA",
};

static const char *const biz_suffix[] = { "", "", "INC", "LTD", "CORP", "CO" };

static const char *const resporgs[] = {
	"NEX99", "NEX99", "ZAC01", "ZAC01", "ZAC02", "TFN01", "TFN01", "TFN01", "DMO01", "DMO02",
};

static const char *const cics[] = { "0288", "0222", "0333", "0432", "0110" };

static const char *const latas[] = {
	"132", "224", "358", "438", "460", "520", "552", "656", "658", "674", "722", "730",
};

static const char *const geo_npas[] = {
	"204", "306", "403", "416", "514", "604", "613", "647", "780", "905",
};

static const char *const states[] = {
	"ON", "QC", "MB", "SK", "AB", "BC", "NY", "IL", "TX", "CA", "FL", "WA",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------- PRNG */

/* splitmix64: small, fast and the same on every platform. */
struct rng {
	uint64_t s;
};

/* One stream per file, so a change to one file's generator leaves the rest. */
static void rng_init(struct rng *r, unsigned seed, unsigned stream)
{
	r->s = ((uint64_t)seed << 32 | stream) ^ 0x243f6a8885a308d3ULL;
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* 0 .. n-1; the modulo bias of a 64-bit draw is far below what a demo shows. */
static unsigned rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

/* True with probability pct in 100. */
static bool rng_pct(struct rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

/* ----------------------------------------------------------- number sets */

/* An open-addressing set of numbers, sized for one file (load under 1/2). */
struct tnset {
	uint64_t *slot;
	size_t mask;
	size_t n;
};

static int tnset_init(struct tnset *s, unsigned bits)
{
	s->slot = calloc((size_t)1 << bits, sizeof(*s->slot));
	s->mask = ((size_t)1 << bits) - 1;
	s->n = 0;
	return s->slot ? 0 : -1;
}

static void tnset_free(struct tnset *s)
{
	free(s->slot);
	s->slot = NULL;
}

static size_t tnset_pos(const struct tnset *s, uint64_t tn)
{
	uint64_t h = tn * 0x9e3779b97f4a7c15ULL;
	size_t i = (size_t)(h ^ (h >> 29)) & s->mask;

	while (s->slot[i] != 0 && s->slot[i] != tn)
		i = (i + 1) & s->mask;
	return i;
}

static bool tnset_has(const struct tnset *s, uint64_t tn)
{
	return s->slot[tnset_pos(s, tn)] == tn;
}

/* Add tn (never 0); false when it was there already or the set is full. */
static bool tnset_add(struct tnset *s, uint64_t tn)
{
	size_t i;

	if (s->n * 2 >= s->mask)
		return false;
	i = tnset_pos(s, tn);
	if (s->slot[i] == tn)
		return false;
	s->slot[i] = tn;
	s->n++;
	return true;
}

/* Numbers no generator may hand out at random: the fixed ones and the LRNs. */
static void tnset_reserve(struct tnset *s)
{
	for (unsigned i = 0; i < FIX_RUN_LEN; i++)
		tnset_add(s, FIX_RUN_FIRST + i);
	tnset_add(s, FIX_NOT_PORTED);
	tnset_add(s, FIX_CNAM_RESTRICTED);
	for (size_t i = 0; i < N_LRNS; i++)
		tnset_add(s, lrns[i].tn);
}

static bool in_spare_block(uint64_t tn)
{
	for (size_t i = 0; i < N_SPARE_BLOCKS; i++)
		if (tn / 1000 == spare_blocks[i])
			return true;
	return false;
}

static bool is_spare_code(unsigned npa, unsigned nxx)
{
	for (size_t i = 0; i < N_SPARES; i++)
		if (spares[i].npa == npa && spares[i].nxx == nxx)
			return true;
	return false;
}

/* A random number in one of the demo codes; 0 if it is taken or unusable. */
static uint64_t draw_code_tn(struct rng *r, const struct tnset *used)
{
	const struct code *c = &codes[rng_below(r, N_CODES)];
	uint64_t tn = (uint64_t)c->npa * 10000000 + c->nxx * 10000U + rng_below(r, 10000);

	return in_spare_block(tn) || tnset_has(used, tn) ? 0 : tn;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* -------------------------------------------------------------- time text */

static int64_t day_epoch(int y, unsigned m, unsigned d)
{
	return clock_days_from_civil(y, m, d) * 86400;
}

/* Text buffers are sized for any int the compiler can imagine, not just dates. */
#define TXT_LEN 64

/* NPAC timestamp YYYYMMDDHHMMSS, GMT. */
static void fmt_ts14(int64_t t, char out[TXT_LEN])
{
	struct clock_tm tm;

	clock_split(t, &tm);
	snprintf(out, TXT_LEN, "%04d%02d%02d%02d%02d%02d", tm.year, tm.mon, tm.mday, tm.hour,
		 tm.min, tm.sec);
}

/* Report date MM/DD/YYYY. */
static void fmt_mdy(int64_t t, char out[TXT_LEN])
{
	struct clock_tm tm;

	clock_split(t, &tm);
	snprintf(out, TXT_LEN, "%02d/%02d/%04d", tm.mon, tm.mday, tm.year);
}

/* ----------------------------------------------------------------- output */

struct out {
	FILE *fp;
	char path[PATH_LEN];
	char tmp[PATH_LEN + 8];
	long records;
	int err; /* first errno seen, 0 while all is well */
};

static int out_open(struct out *o, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	const char *sep = dl && dir[dl - 1] == '/' ? "" : "/";
	int n = snprintf(o->path, sizeof(o->path), "%s%s%s", dir, sep, name);

	o->fp = NULL;
	o->records = 0;
	o->err = 0;
	if (n < 0 || (size_t)n >= sizeof(o->path)) {
		fprintf(stderr, "ringer: demo-data: path too long: %s/%s\n", dir, name);
		return -1;
	}
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp", o->path);
	o->fp = fopen(o->tmp, "wb");
	if (o->fp == NULL) {
		fprintf(stderr, "ringer: demo-data: cannot write %s: %s\n", o->tmp,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int rc;

	if (o->err != 0)
		return;
	va_start(ap, fmt);
	rc = vfprintf(o->fp, fmt, ap);
	va_end(ap);
	if (rc < 0)
		o->err = errno ? errno : EIO;
}

/* A CSV text field, quoted when it holds a comma or a quote. */
static void out_csv(struct out *o, const char *s)
{
	if (strpbrk(s, ",\"") == NULL) {
		out_printf(o, "%s", s);
		return;
	}
	out_printf(o, "\"");
	for (; *s; s++) {
		if (*s == '"')
			out_printf(o, "\"\"");
		else
			out_printf(o, "%c", *s);
	}
	out_printf(o, "\"");
}

/* Drop a file that could not be completed. */
static int out_abort(struct out *o, const char *why)
{
	if (o->fp)
		fclose(o->fp);
	o->fp = NULL;
	remove(o->tmp);
	fprintf(stderr, "ringer: demo-data: cannot write %s: %s\n", o->path, why);
	return -1;
}

/* Finish the file, put it in place and say so. */
static int out_close(struct out *o)
{
	int rc = 0;

	if (o->err == 0 && fflush(o->fp) != 0)
		o->err = errno;
	if (o->err == 0 && ferror(o->fp))
		o->err = EIO;
	if (o->err != 0)
		return out_abort(o, strerror(o->err));
	if (fclose(o->fp) != 0)
		rc = -1;
	o->fp = NULL;
	if (rc != 0 || rename(o->tmp, o->path) != 0)
		return out_abort(o, strerror(errno));
	printf("wrote %s (%ld records)\n", o->path, o->records);
	return 0;
}

/* ------------------------------------------------------------ ported.bdd */

struct sv_rec {
	uint64_t tn;
	int64_t version, when;
	unsigned lrn;
	bool deleted;
};

struct ported {
	struct rng r;
	struct tnset used;
	struct sv_rec *sv;
	size_t n;
	int64_t version, when, last;
	unsigned dropped; /* random deletions so far */
	bool fixed_deleted;
	struct out o;
};

/* One SS7 point code of a SPID's network: network, cluster, member. */
static void fmt_dpc(const struct spid *s, unsigned cluster, char out[TXT_LEN])
{
	snprintf(out, TXT_LEN, "%03u%03u%03u", s->net % 256, cluster % 256, 10U);
}

/* One LSMS record: 18 fields, CR-terminated. */
static void sv_line(struct out *o, const struct sv_rec *sv, const char *reason)
{
	const struct lrn *l = &lrns[sv->lrn];
	const struct spid *s = &spids[l->spid];
	char ts[TXT_LEN], cl[TXT_LEN], li[TXT_LEN], is[TXT_LEN], cn[TXT_LEN];

	fmt_ts14(sv->when, ts);
	fmt_dpc(s, 1, cl);
	fmt_dpc(s, 2, li);
	fmt_dpc(s, 3, is);
	fmt_dpc(s, 4, cn);
	out_printf(o, "%" PRId64 "|%" PRIu64 "|%" PRIu64 "|%s|%s|%s|000|%s|000|%s|%s|%s|000"
		   "||||0|%s\r", sv->version, sv->tn, l->tn, s->id, ts, cl, li,
		   s->wireless ? "" : is, s->wireless ? "" : "000", cn, reason);
	o->records++;
}

static void port_add(struct ported *p, uint64_t tn, unsigned lrn)
{
	struct sv_rec *sv = &p->sv[p->n++];

	tnset_add(&p->used, tn);
	sv->tn = tn;
	sv->version = p->version++;
	sv->when = p->when;
	sv->lrn = lrn;
	sv->deleted = false;
	sv_line(&p->o, sv, "new");
}

/* An LRN of the number's own NPA (each NPA has two), as a port would use. */
static unsigned lrn_for_npa(struct rng *r, unsigned npa)
{
	unsigned idx[N_LRNS], n = 0;

	for (unsigned i = 0; i < N_LRNS; i++)
		if (lrns[i].tn / 10000000 == npa)
			idx[n++] = i;
	return n ? idx[rng_below(r, n)] : rng_below(r, N_LRNS);
}

/* Most ports are one number; businesses move runs of consecutive numbers. */
static unsigned run_length(struct rng *r)
{
	unsigned k = rng_below(r, 100);

	if (k < 55)
		return 1;
	if (k < 85)
		return 2 + rng_below(r, 4);
	return 6 + rng_below(r, 20);
}

/*
 * Free for a random port: not taken, not in a block still in the pool, and not
 * in the fixed block, whose numbers all answer with the block's LRN.
 */
static bool port_free(const struct ported *p, uint64_t tn)
{
	return !tnset_has(&p->used, tn) && !in_spare_block(tn) && tn / 1000 != FIX_BLOCK;
}

/* One run of consecutive numbers ported together; false if it collided. */
static bool port_run(struct ported *p)
{
	const struct code *c = &codes[rng_below(&p->r, N_CODES)];
	unsigned len = run_length(&p->r), lrn = lrn_for_npa(&p->r, c->npa);
	uint64_t base;

	if (len > N_PORTED - p->n)
		len = (unsigned)(N_PORTED - p->n);
	base = (uint64_t)c->npa * 10000000 + c->nxx * 10000U + rng_below(&p->r, 10001 - len);
	for (unsigned i = 0; i < len; i++)
		if (!port_free(p, base + i))
			return false;
	/* Other SVs of the region take version ids between this file's runs. */
	p->version += 1 + rng_below(&p->r, 40);
	p->when += 3600 + rng_below(&p->r, 600000);
	if (p->when > p->last)
		p->when = p->last;
	for (unsigned i = 0; i < len; i++)
		port_add(p, base + i, lrn);
	return true;
}

/* The SV ends (disconnect): a "deleted" record of the same version. */
static void port_delete(struct ported *p, struct sv_rec *sv)
{
	sv->deleted = true;
	sv_line(&p->o, sv, "deleted");
}

/* Deletions spread through the file, each for a number ported earlier. */
static void port_deletes(struct ported *p)
{
	size_t step = N_PORTED / N_DELETED;

	if (!p->fixed_deleted && p->n >= N_PORTED / 2) {
		port_delete(p, &p->sv[FIX_SNAPBACK - FIX_RUN_FIRST]);
		p->fixed_deleted = true;
	}
	while (p->dropped < N_DELETED - 1 && p->n >= (p->dropped + 1) * step) {
		struct sv_rec *sv = NULL;

		for (unsigned t = 0; t < MAX_TRIES && sv == NULL; t++) {
			size_t i = rng_below(&p->r, (unsigned)p->n);

			if (i >= FIX_RUN_LEN && !p->sv[i].deleted)
				sv = &p->sv[i];
		}
		if (sv == NULL)
			return;
		port_delete(p, sv);
		p->dropped++;
	}
}

static void ported_fill(struct ported *p)
{
	p->version = FIX_VERSION;
	p->when = day_epoch(2019, 1, 7) + 15 * 3600;
	p->last = day_epoch(DEMO_Y, DEMO_M, DEMO_D) - 86400;
	for (unsigned i = 0; i < FIX_RUN_LEN; i++)
		port_add(p, FIX_RUN_FIRST + i, FIX_LRN_IDX);
	for (unsigned t = 0; t < MAX_TRIES && p->n < N_PORTED; t++)
		if (port_run(p))
			port_deletes(p);
	port_deletes(p);
}

static int write_ported(const char *dir, unsigned seed)
{
	struct ported p = { 0 };
	int rc;

	rng_init(&p.r, seed, 1);
	if (out_open(&p.o, dir, "ported.bdd") != 0)
		return -1;
	p.sv = calloc(N_PORTED, sizeof(*p.sv));
	if (p.sv == NULL || tnset_init(&p.used, 13) != 0) {
		free(p.sv);
		return out_abort(&p.o, "out of memory");
	}
	tnset_reserve(&p.used);
	ported_fill(&p);
	rc = out_close(&p.o);
	tnset_free(&p.used);
	free(p.sv);
	return rc;
}

/* ------------------------------------------------ blocks.csv, blocks.bdd */

struct block {
	unsigned code; /* NPA-NXX-X */
	unsigned spid, lrn;
	const struct code *c;
	int64_t avail, assigned, effective;
	unsigned contaminated; /* TNs in use by the donor, 0 = clean */
};

static const struct code *code_of(unsigned npa, unsigned nxx)
{
	for (size_t i = 0; i < N_CODES; i++)
		if (codes[i].npa == npa && codes[i].nxx == nxx)
			return &codes[i];
	return NULL;
}

static bool block_taken(const struct block *b, size_t n, unsigned code)
{
	for (size_t i = 0; i < n; i++)
		if (b[i].code == code)
			return true;
	for (size_t i = 0; i < N_SPARE_BLOCKS; i++)
		if (spare_blocks[i] == code)
			return true;
	/* 204-222 stays unpooled: its numbers answer from the code holder. */
	return code / 10 == 204222;
}

static void block_dates(struct rng *r, struct block *b)
{
	b->avail = day_epoch(2012, 1, 2) + (int64_t)rng_below(r, 4000) * 86400;
	b->assigned = b->avail + (int64_t)(14 + rng_below(r, 300)) * 86400;
	b->effective = b->assigned + (int64_t)(7 + rng_below(r, 14)) * 86400;
	b->contaminated = rng_pct(r, 15) ? 1 + rng_below(r, 90) : 0;
}

/* The assigned blocks; b[0] is the fixed one. Returns how many were drawn. */
static size_t blocks_fill(struct rng *r, struct block *b)
{
	size_t n = 1;

	b[0] = (struct block){ FIX_BLOCK, FIX_BLOCK_SPID, FIX_BLOCK_LRN_IDX,
			       code_of(204, 223), day_epoch(2020, 2, 3), day_epoch(2020, 3, 2),
			       day_epoch(2020, 3, 16), 0 };
	for (unsigned t = 0; t < MAX_TRIES && n < N_BLOCKS_AS; t++) {
		const struct code *c = &codes[rng_below(r, N_CODES)];
		unsigned code = c->npa * 10000U + c->nxx * 10U + rng_below(r, 10);

		if (block_taken(b, n, code))
			continue;
		/* The holder is a SPID with a switch (LRN) in the block's NPA. */
		b[n].code = code;
		b[n].c = c;
		b[n].lrn = lrn_for_npa(r, c->npa);
		b[n].spid = lrns[b[n].lrn].spid;
		block_dates(r, &b[n]);
		n++;
	}
	return n;
}

static const char *region_of(const char *prov)
{
	return strcmp(prov, "ON") == 0 || strcmp(prov, "QC") == 0 ? "Eastern" : "Western";
}

static void block_csv_as(struct out *o, const struct block *b)
{
	char av[TXT_LEN], as[TXT_LEN], ef[TXT_LEN];

	fmt_mdy(b->avail, av);
	fmt_mdy(b->assigned, as);
	fmt_mdy(b->effective, ef);
	out_printf(o, "%s,%s,%u,%u,%u,AS,", region_of(b->c->prov), b->c->prov, b->code / 10000,
		   b->code / 10 % 1000, b->code % 10);
	out_csv(o, b->c->company);
	out_printf(o, ",%s,%u,", b->contaminated ? "Y" : "N", b->contaminated);
	out_csv(o, b->c->area);
	out_printf(o, ",%s,%s,", ef, av);
	out_csv(o, spids[b->spid].name);
	out_printf(o, ",%s,%s\n", spids[b->spid].id, as);
	o->records++;
}

static void block_csv_av(struct out *o, unsigned code)
{
	const struct code *c = code_of(code / 10000, code / 10 % 1000);

	out_printf(o, "%s,%s,%u,%u,%u,AV,", region_of(c->prov), c->prov, code / 10000,
		   code / 10 % 1000, code % 10);
	out_csv(o, c->company);
	out_printf(o, ",N,0,");
	out_csv(o, c->area);
	out_printf(o, ",,01/02/2012,,,\n");
	o->records++;
}

static int cmp_block(const void *a, const void *b)
{
	unsigned x = (*(const struct block *const *)a)->code;
	unsigned y = (*(const struct block *const *)b)->code;

	return x < y ? -1 : x > y;
}

/* The pooling report, sorted by block as the PA publishes it. */
static int write_blocks_csv(const char *dir, const struct block *b)
{
	const struct block *sorted[N_BLOCKS_AS];
	struct out o;
	size_t s = 0;

	if (out_open(&o, dir, "blocks.csv") != 0)
		return -1;
	for (size_t i = 0; i < N_BLOCKS_AS; i++)
		sorted[i] = &b[i];
	qsort(sorted, N_BLOCKS_AS, sizeof(sorted[0]), cmp_block);
	out_printf(&o, "Region,State,NPA,NXX,X,STATUS,Code Holder,Contaminated (Y or N),"
		   "Contaminated TNs not Available for Assignment,Rate Center,"
		   "Block Effective Date,Block Available Date,Assigned To,OCN,Date Assigned\n");
	for (size_t i = 0; i < N_BLOCKS_AS; i++) {
		for (; s < N_SPARE_BLOCKS && spare_blocks[s] < sorted[i]->code; s++)
			block_csv_av(&o, spare_blocks[s]);
		block_csv_as(&o, sorted[i]);
	}
	for (; s < N_SPARE_BLOCKS; s++)
		block_csv_av(&o, spare_blocks[s]);
	return out_close(&o);
}

/* NPB BDD: the first N_BLOCKS_BDD blocks, DPCs of the holder, SSN 000. */
static int write_blocks_bdd(const char *dir, const struct block *b)
{
	struct out o;
	char ts[TXT_LEN], cl[TXT_LEN], li[TXT_LEN], is[TXT_LEN], cn[TXT_LEN];

	if (out_open(&o, dir, "blocks.bdd") != 0)
		return -1;
	for (size_t i = 0; i < N_BLOCKS_BDD; i++) {
		const struct spid *s = &spids[b[i].spid];

		fmt_ts14(b[i].effective + 5 * 3600, ts);
		fmt_dpc(s, 1, cl);
		fmt_dpc(s, 2, li);
		fmt_dpc(s, 3, is);
		fmt_dpc(s, 4, cn);
		out_printf(&o, "%zu|%u|%" PRIu64 "|%s|%s|%s|000|%s|000|%s|%s|%s|000||\r",
			   400001 + i, b[i].code, lrns[b[i].lrn].tn, s->id, ts, cl, li,
			   s->wireless ? "" : is, s->wireless ? "" : "000", cn);
		o.records++;
	}
	return out_close(&o);
}

static int write_blocks(const char *dir, unsigned seed)
{
	struct block b[N_BLOCKS_AS];
	struct rng r;

	rng_init(&r, seed, 2);
	if (blocks_fill(&r, b) != N_BLOCKS_AS) {
		fprintf(stderr, "ringer: demo-data: could not draw the blocks\n");
		return -1;
	}
	if (write_blocks_csv(dir, b) != 0)
		return -1;
	return write_blocks_bdd(dir, b);
}

/* --------------------------------------------------------------- cnam.csv */

/* Up to 15 characters, the way CNAM truncates, without a trailing space. */
static void name_fit(char *name)
{
	size_t n = strlen(name);

	if (n > 15)
		n = 15;
	while (n > 0 && name[n - 1] == ' ')
		n--;
	name[n] = '\0';
}

static void name_person(struct rng *r, char *out, size_t len)
{
	const char *last = surnames[rng_below(r, COUNT(surnames))];
	const char *first = given[rng_below(r, COUNT(given))];

	if (rng_pct(r, 25))
		snprintf(out, len, "%s %c", last, first[0]);
	else
		snprintf(out, len, "%s %s", last, first);
}

static void name_business(struct rng *r, char *out, size_t len)
{
	const char *a = biz_first[rng_below(r, COUNT(biz_first))];
	const char *b = biz_second[rng_below(r, COUNT(biz_second))];
	const char *s = biz_suffix[rng_below(r, COUNT(biz_suffix))];

	snprintf(out, len, "%s %s%s%s", a, b, *s ? " " : "", s);
}

/* A wireless number often carries only its place: "WINNIPEG MB". */
static void name_place(uint64_t tn, char *out, size_t len)
{
	const struct code *c = code_of((unsigned)(tn / 10000000), (unsigned)(tn / 10000 % 1000));
	size_t i;

	snprintf(out, len, "%.12s %s", c ? c->area : "UNKNOWN", c ? c->prov : "");
	for (i = 0; out[i]; i++)
		if (out[i] >= 'a' && out[i] <= 'z')
			out[i] = (char)(out[i] - 'a' + 'A');
}

static void cnam_name(struct rng *r, uint64_t tn, char *out, size_t len)
{
	unsigned k = rng_below(r, 100);

	if (k < 55)
		name_person(r, out, len);
	else if (k < 85)
		name_business(r, out, len);
	else if (k < 93)
		name_place(tn, out, len);
	else
		snprintf(out, len, "WIRELESS CALLER");
	name_fit(out);
}

static void cnam_row(struct out *o, uint64_t tn, const char *name, bool restricted)
{
	out_printf(o, "%" PRIu64 ",%s,%s\n", tn, name, restricted ? "restricted" : "allowed");
	o->records++;
}

static int write_cnam(const char *dir, unsigned seed)
{
	struct tnset used;
	struct out o;
	struct rng r;
	char name[64];
	int rc;

	rng_init(&r, seed, 3);
	if (out_open(&o, dir, "cnam.csv") != 0)
		return -1;
	if (tnset_init(&used, 12) != 0)
		return out_abort(&o, "out of memory");
	tnset_reserve(&used);
	out_printf(&o, "tn,name,presentation\n");
	cnam_row(&o, FIX_PORTED, "ACME CORP", false);
	cnam_row(&o, FIX_CNAM_RESTRICTED, "TREMBLAY MARIE", true);
	for (unsigned t = 0; t < MAX_TRIES && o.records < N_CNAM; t++) {
		uint64_t tn = draw_code_tn(&r, &used);

		if (tn == 0)
			continue;
		tnset_add(&used, tn);
		cnam_name(&r, tn, name, sizeof(name));
		cnam_row(&o, tn, name, rng_pct(&r, 6));
	}
	rc = out_close(&o);
	tnset_free(&used);
	return rc;
}

/* ------------------------------------------------- dnc.txt, dnc-npa.csv */

/* An NXX a real subscriber could have: valid, not special, not a spare code. */
static bool nxx_subscriber(unsigned npa, unsigned nxx)
{
	return nxx % 100 != 11 && nxx != 555 && nxx != 950 && nxx != 958 && nxx != 959 &&
	       nxx != 976 && !is_spare_code(npa, nxx);
}

/* n distinct numbers of npa appended to v (which has room); returns the count. */
static size_t dnc_draw(struct rng *r, struct tnset *used, unsigned npa, size_t n, uint64_t *v)
{
	size_t k = 0;

	for (unsigned t = 0; t < MAX_TRIES && k < n; t++) {
		unsigned nxx = 200 + rng_below(r, 800);
		uint64_t tn = (uint64_t)npa * 10000000 + nxx * 10000U + rng_below(r, 10000);

		if (!nxx_subscriber(npa, nxx) || in_spare_block(tn) || !tnset_add(used, tn))
			continue;
		v[k++] = tn;
	}
	return k;
}

static void dnc_lines(struct out *o, const uint64_t *v, size_t n, bool pairs)
{
	for (size_t i = 0; i < n; i++) {
		if (pairs)
			out_printf(o, "%" PRIu64 ",%07" PRIu64 "\n", v[i] / 10000000,
				   v[i] % 10000000);
		else
			out_printf(o, "%" PRIu64 "\n", v[i]);
		o->records++;
	}
}

/* A full list: sorted, one number per line (or "npa,number" pairs). */
static int dnc_file(const char *dir, const char *name, const uint64_t *v, size_t n, bool pairs)
{
	struct out o;

	if (out_open(&o, dir, name) != 0)
		return -1;
	dnc_lines(&o, v, n, pairs);
	return out_close(&o);
}

static int dnc_fill(struct rng *r, struct tnset *used, uint64_t *v, size_t *n)
{
	static const unsigned npas[] = { 204, 416, 514, 604 };
	size_t want;

	v[0] = FIX_PORTED;
	*n = 1;
	for (size_t i = 0; i < COUNT(npas); i++) {
		want = N_DNC_PER_NPA - (npas[i] == 204);
		if (dnc_draw(r, used, npas[i], want, v + *n) != want)
			return -1;
		*n += want;
	}
	qsort(v, *n, sizeof(*v), cmp_u64);
	return 0;
}

static int write_dnc(const char *dir, unsigned seed)
{
	uint64_t *v = calloc(4 * N_DNC_PER_NPA + N_DNC_EXTRA, sizeof(*v));
	struct tnset used = { 0 };
	struct rng r;
	size_t n = 0, m = 0;
	int rc = -1;

	rng_init(&r, seed, 4);
	if (v == NULL || tnset_init(&used, 13) != 0) {
		fprintf(stderr, "ringer: demo-data: out of memory\n");
		goto cleanup;
	}
	tnset_reserve(&used);
	if (dnc_fill(&r, &used, v, &n) != 0 ||
	    (m = dnc_draw(&r, &used, 905, N_DNC_EXTRA, v + n)) != N_DNC_EXTRA) {
		fprintf(stderr, "ringer: demo-data: could not draw the DNC numbers\n");
		goto cleanup;
	}
	qsort(v + n, m, sizeof(*v), cmp_u64);
	rc = dnc_file(dir, "dnc.txt", v, n, false);
	if (rc == 0)
		rc = dnc_file(dir, "dnc-npa.csv", v + n, m, true);
cleanup:
	tnset_free(&used);
	free(v);
	return rc;
}

/* ---------------------------------------------------------------- dno.csv */

/* Invalid by NANP rules (0/1 first, N11, 9 in the middle) and unassigned NPAs. */
static const char *const dno_invalid[] = {
	"000", "011", "100", "111", "123", "199", "211", "311", "411", "611", "296", "593",
};

static const char *const dno_unassigned_npa[] = { "221", "230", "232", "235", "237", "238" };

static void dno_row(struct out *o, const char *pattern, const char *source)
{
	out_printf(o, "%s,%s\n", pattern, source);
	o->records++;
}

/* Inbound-only toll-free numbers in the fictional 555-01XX range. */
static void dno_tollfree(struct out *o, struct rng *r)
{
	struct tnset used;
	char p[TXT_LEN];

	dno_row(o, "8005550100", "subscriber-request");
	if (tnset_init(&used, 6) != 0) {
		o->err = ENOMEM;
		return;
	}
	tnset_add(&used, FIX_DNO_TF);
	for (unsigned t = 0, n = 1; t < MAX_TRIES && n < N_DNO_TF; t++) {
		uint64_t tn = tf_npas[rng_below(r, N_TF_NPAS)] * 10000000ULL + 5550100 +
			      rng_below(r, 100);

		if (!tnset_add(&used, tn))
			continue;
		snprintf(p, sizeof(p), "%" PRIu64, tn);
		dno_row(o, p, "subscriber-request");
		n++;
	}
	tnset_free(&used);
}

static int write_dno(const char *dir, unsigned seed)
{
	struct out o;
	struct rng r;
	char p[TXT_LEN];

	rng_init(&r, seed, 5);
	if (out_open(&o, dir, "dno.csv") != 0)
		return -1;
	out_printf(&o, "pattern,source\n");
	for (size_t i = 0; i < COUNT(dno_invalid); i++)
		dno_row(&o, dno_invalid[i], "invalid");
	for (size_t i = 0; i < COUNT(dno_unassigned_npa); i++)
		dno_row(&o, dno_unassigned_npa[i], "unallocated");
	for (size_t i = 0; i < N_SPARES; i++) {
		snprintf(p, sizeof(p), "%u%03u", spares[i].npa, spares[i].nxx);
		dno_row(&o, p, "unallocated");
	}
	for (size_t i = 0; i < N_SPARE_BLOCKS; i++) {
		snprintf(p, sizeof(p), "%u", spare_blocks[i]);
		dno_row(&o, p, "unallocated");
	}
	dno_tollfree(&o, &r);
	return out_close(&o);
}

/* -------------------------------------------------------- ror.csv, cpr.json */

struct tf {
	uint64_t crn;
	const char *ror, *status;
};

/* TFN statuses (47 CFR 52.103), most of them working. */
static const char *tf_status(struct rng *r)
{
	unsigned k = rng_below(r, 100);

	if (k < 85)
		return "working";
	if (k < 90)
		return "reserved";
	if (k < 94)
		return "assigned";
	if (k < 97)
		return "disconnect";
	return k < 99 ? "transitional" : "suspend";
}

static size_t tf_fill(struct rng *r, struct tf *v)
{
	struct tnset used;
	size_t n = 1;

	v[0] = (struct tf){ FIX_CRN, "NEX99", "working" };
	if (tnset_init(&used, 10) != 0)
		return 0;
	tnset_add(&used, FIX_CRN);
	for (unsigned t = 0; t < MAX_TRIES && n < N_ROR; t++) {
		unsigned nxx = 200 + rng_below(r, 800);
		uint64_t crn = tf_npas[rng_below(r, N_TF_NPAS)] * 10000000ULL + nxx * 10000U +
			       rng_below(r, 10000);

		if (nxx % 100 == 11 || nxx == 555 || !tnset_add(&used, crn))
			continue;
		v[n].crn = crn;
		v[n].ror = resporgs[rng_below(r, COUNT(resporgs))];
		v[n].status = tf_status(r);
		n++;
	}
	tnset_free(&used);
	return n;
}

static int write_ror(const char *dir, const struct tf *v, size_t n)
{
	struct out o;

	if (out_open(&o, dir, "ror.csv") != 0)
		return -1;
	out_printf(&o, "crn,ror,status\n");
	for (size_t i = 0; i < n; i++) {
		out_printf(&o, "%" PRIu64 ",%s,%s\n", v[i].crn, v[i].ror, v[i].status);
		o.records++;
	}
	return out_close(&o);
}

/* CPR nodes (docs/cpr.md). A NULL part makes the whole record NULL. */
static json_t *node_carrier(struct rng *r)
{
	return json_pack("{s:s}", "carrier", cics[rng_below(r, COUNT(cics))]);
}

/* A carrier that also translates to a POTS number in one of the demo codes. */
static json_t *node_carrier_tel(struct rng *r)
{
	const struct code *c = &codes[rng_below(r, N_CODES)];
	char tel[TXT_LEN];

	snprintf(tel, sizeof(tel), "%u%03u%04u", c->npa, c->nxx, rng_below(r, 10000));
	return json_pack("{s:s,s:s}", "carrier", cics[rng_below(r, COUNT(cics))], "tel", tel);
}

static json_t *node_decision(const char *type, json_t *branches, json_t *other)
{
	if (other == NULL)
		return json_pack("{s:s,s:o}", "decision", type, "branches", branches);
	return json_pack("{s:s,s:o,s:o}", "decision", type, "branches", branches, "other",
			 other);
}

static json_t *branch1(const char *value, json_t *then)
{
	return json_pack("{s:[s],s:o}", "values", value, "then", then);
}

static json_t *branch2(const char *a, const char *b, json_t *then)
{
	return json_pack("{s:[s,s],s:o}", "values", a, b, "then", then);
}

/* Two distinct entries of a list of strings. */
static void pick2(struct rng *r, const char *const *list, unsigned n, const char **a,
		  const char **b)
{
	unsigned i = rng_below(r, n), j = (i + 1 + rng_below(r, n - 1)) % n;

	*a = list[i];
	*b = list[j];
}

/*
 * The builders below draw every random part into a local first: the order in
 * which C evaluates call arguments is unspecified, and the files must be the
 * same whichever compiler built ringer.
 */
static json_t *cpr_percent(struct rng *r)
{
	static const int splits[][3] = { { 50, 50, 0 }, { 60, 40, 0 }, { 70, 30, 0 },
					 { 34, 33, 33 } };
	const int *s = splits[rng_below(r, COUNT(splits))];
	json_t *a = node_carrier(r), *b = node_carrier(r), *c;

	if (s[2] == 0)
		return json_pack("{s:s,s:[{s:i,s:o},{s:i,s:o}]}", "decision", "percent",
				 "branches", "percent", s[0], "then", a, "percent", s[1], "then",
				 b);
	c = node_carrier(r);
	return json_pack("{s:s,s:[{s:i,s:o},{s:i,s:o},{s:i,s:o}]}", "decision", "percent",
			 "branches", "percent", s[0], "then", a, "percent", s[1], "then", b,
			 "percent", s[2], "then", c);
}

/* LATA split; the second group of LATAs goes to a sub-section. */
static json_t *cpr_lata(struct rng *r, json_t **sub)
{
	const char *a, *b;
	json_t *first, *other;

	*sub = cpr_percent(r);
	pick2(r, latas, COUNT(latas), &a, &b);
	first = branch1(a, node_carrier(r));
	other = node_carrier(r);
	return node_decision("lata", json_pack("[o,o]", first,
					       branch1(b, json_pack("{s:s}", "goto", "S1"))),
			     other);
}

static json_t *cpr_npa(struct rng *r)
{
	const char *a, *b;
	json_t *first, *other;

	pick2(r, geo_npas, COUNT(geo_npas), &a, &b);
	first = branch2(a, b, node_carrier_tel(r));
	other = node_carrier(r);
	return node_decision("npa", json_pack("[o]", first), other);
}

static json_t *cpr_state(struct rng *r)
{
	const char *a, *b;
	json_t *first, *second, *other = NULL;

	pick2(r, states, COUNT(states), &a, &b);
	first = branch1(a, node_carrier_tel(r));
	second = branch1(b, node_carrier(r));
	if (rng_pct(r, 70))
		other = node_carrier(r);
	return node_decision("state", json_pack("[o,o]", first, second), other);
}

static json_t *cpr_time(struct rng *r)
{
	static const char *const hours[] = { "08:00-17:00", "09:00-18:00", "07:30-19:00",
					     "08:00-20:00" };
	const char *h = hours[rng_below(r, COUNT(hours))];
	json_t *first = branch1(h, node_carrier_tel(r));

	return node_decision("time", json_pack("[o]", first), node_carrier_tel(r));
}

static json_t *cpr_dow(struct rng *r)
{
	json_t *week = branch1("mon-fri", cpr_time(r));

	return node_decision("dow", json_pack("[o,o]", week,
					      branch2("sat", "sun", node_carrier(r))),
			     NULL);
}

/* The main section of record i: each decision type in turn. */
static json_t *cpr_sections(struct rng *r, unsigned i)
{
	json_t *sub = NULL, *main;

	switch (i % 6) {
	case 0:
		main = cpr_lata(r, &sub);
		break;
	case 1:
		main = cpr_npa(r);
		break;
	case 2:
		main = cpr_state(r);
		break;
	case 3:
		main = cpr_time(r);
		break;
	case 4:
		main = cpr_dow(r);
		break;
	default:
		main = cpr_percent(r);
		break;
	}
	if (sub)
		return json_pack("{s:o,s:o}", "M", main, "S1", sub);
	return json_pack("{s:o}", "M", main);
}

static json_t *cpr_record(struct rng *r, uint64_t crn, unsigned i)
{
	static const char *const zones[] = { "E", "E", "C", "C", "M", "P", "A", "N" };
	bool hawaii = rng_pct(r, 5);
	char s[TXT_LEN];
	json_t *rec;

	snprintf(s, sizeof(s), "%" PRIu64, crn);
	rec = json_pack("{s:s,s:s,s:b}", "crn", s, "timezone",
			hawaii ? "H" : zones[rng_below(r, COUNT(zones))], "dst", !hawaii);
	if (rec && rng_pct(r, 50) &&
	    json_object_set_new(rec, "default_cic", json_string(cics[rng_below(r, 5)])) != 0) {
		json_decref(rec);
		return NULL;
	}
	if (rec && json_object_set_new(rec, "sections", cpr_sections(r, i)) != 0) {
		json_decref(rec);
		return NULL;
	}
	return rec;
}

/* The README's record: LATA 656 -> 0288, else NPA 204 -> 0222, else 0333. */
static json_t *cpr_fixed(void)
{
	return json_pack("{s:s,s:s,s:b,s:s,s:{s:{s:s,s:[{s:[s],s:{s:s}}],s:"
			 "{s:s,s:[{s:[s],s:{s:s}}],s:{s:s}}}}}",
			 "crn", "8005551234", "timezone", "C", "dst", 1, "default_cic", "0333",
			 "sections", "M", "decision", "lata", "branches", "values", "656",
			 "then", "carrier", "0288", "other", "decision", "npa", "branches",
			 "values", "204", "then", "carrier", "0222", "other", "carrier", "0333");
}

/* Records for the fixed number and the first working numbers after it. */
static json_t *cpr_all(struct rng *r, const struct tf *v, size_t n)
{
	json_t *all = json_array();
	unsigned k = 1;

	if (all == NULL || json_array_append_new(all, cpr_fixed()) != 0)
		goto fail;
	for (size_t i = 1; i < n && k < N_CPR; i++) {
		if (strcmp(v[i].status, "working") != 0)
			continue;
		if (json_array_append_new(all, cpr_record(r, v[i].crn, k++)) != 0)
			goto fail;
	}
	return all;
fail:
	json_decref(all);
	return NULL;
}

static int write_cpr(const char *dir, struct rng *r, const struct tf *v, size_t n)
{
	json_t *all = cpr_all(r, v, n);
	struct out o;

	if (out_open(&o, dir, "cpr.json") != 0) {
		json_decref(all);
		return -1;
	}
	if (all == NULL)
		return out_abort(&o, "out of memory");
	if (json_dumpf(all, o.fp, JSON_INDENT(2)) != 0 && o.err == 0)
		o.err = errno ? errno : EIO;
	out_printf(&o, "\n");
	o.records = (long)json_array_size(all);
	json_decref(all);
	return out_close(&o);
}

static int write_tollfree(const char *dir, unsigned seed)
{
	struct tf *v = calloc(N_ROR, sizeof(*v));
	struct rng r;
	size_t n;
	int rc = -1;

	rng_init(&r, seed, 6);
	if (v == NULL || (n = tf_fill(&r, v)) == 0) {
		fprintf(stderr, "ringer: demo-data: out of memory\n");
		free(v);
		return -1;
	}
	rng_init(&r, seed, 7);
	if (write_ror(dir, v, n) == 0)
		rc = write_cpr(dir, &r, v, n);
	free(v);
	return rc;
}

/* ------------------------------------------------- npa_report, cocodes */

static void npa_line(struct out *o, const struct npa_row *p)
{
	out_printf(o, "%u,%s,Yes,,No,Yes,%s,%s,%s,%s,Y,%s,%s,,%s,%s,%s,%s,%s,%s,,,No,%s\n",
		   p->npa, p->tollfree ? "Easily Recognizable Code" : "General Purpose Code",
		   p->assign_dt, p->tollfree ? "N" : "G", p->location,
		   p->tollfree ? "" : "CANADA", p->insvc_dt, p->relief ? "Active" : "",
		   p->tollfree ? "Toll-free" : "", p->overlay ? "Yes" : "No",
		   p->tollfree ? "800/888/877/866/855/844/833" : p->complex, p->parent,
		   p->tollfree ? "Toll-Free" : "", p->tz, p->relief ? "Yes" : "No");
	o->records++;
}

static int write_npa(const char *dir)
{
	struct out o;

	if (out_open(&o, dir, "npa_report.csv") != 0)
		return -1;
	out_printf(&o, "File Date,%02d/%02d/%04d\n", DEMO_M, DEMO_D, DEMO_Y);
	out_printf(&o, "NPA_ID,type_of_code,ASSIGNABLE,EXPLANATION,RESERVED,ASSIGNED,"
		   "ASSIGNMENT_DT,USE,LOCATION,COUNTRY,IN_SERVICE,IN_SERVICE_DT,STATUS,"
		   "PLANNING_LETTERS,NOTES,OVERLAY,OVERLAY_COMPLEX,PARENT_NPA_ID,SERVICE,"
		   "TIME_ZONE,AREA_SERVED,MAP,IN_JEOPARDY,RELIEF_PLANNING_IN_PROGRESS\n");
	for (size_t i = 0; i < N_NPA_ROWS; i++)
		npa_line(&o, &npa_rows[i]);
	return out_close(&o);
}

static void cocode_held(struct out *o, const struct code *c)
{
	out_printf(o, "%u,%u,\"In Service\",\"%s\",\"%s\",\"%s\",\"%s\",\r\n", c->npa, c->nxx,
		   c->area, c->prov, c->company, c->ocn);
	o->records++;
}

static void cocode_spare(struct out *o, const struct spare *s)
{
	out_printf(o, "%u,%u,\"%s\",,,,,", s->npa, s->nxx, s->status);
	if (*s->remarks)
		out_printf(o, "\"%s\"", s->remarks);
	out_printf(o, "\r\n");
	o->records++;
}

/* Both tables are in NPA-NXX order; merge them as the CNA file lists codes (CRLF). */
static int write_cocodes(const char *dir)
{
	struct out o;
	size_t s = 0;

	if (out_open(&o, dir, "cocodes.csv") != 0)
		return -1;
	out_printf(&o, "\"NPA\",\"CO Code (NXX)\",\"Status\",\"Exchange Area\",\"Province\","
		   "\"Company\",\"OCN\",\"Remarks\"\r\n");
	out_printf(&o, ",,,,,,,%04d-%02d-%02d\r\n", DEMO_Y, DEMO_M, DEMO_D);
	for (size_t i = 0; i < N_CODES; i++) {
		unsigned key = codes[i].npa * 1000U + codes[i].nxx;

		for (; s < N_SPARES && spares[s].npa * 1000U + spares[s].nxx < key; s++)
			cocode_spare(&o, &spares[s]);
		cocode_held(&o, &codes[i]);
	}
	for (; s < N_SPARES; s++)
		cocode_spare(&o, &spares[s]);
	return out_close(&o);
}

/* ------------------------------------------------------------------ entry */

int demo_generate(const char *dir, int with_codes, unsigned seed)
{
	if (dir == NULL || *dir == '\0') {
		fprintf(stderr, "ringer: demo-data: no directory given\n");
		return -1;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "ringer: demo-data: cannot create %s: %s\n", dir,
			strerror(errno));
		return -1;
	}
	if (with_codes && (write_npa(dir) != 0 || write_cocodes(dir) != 0))
		return -1;
	if (write_blocks(dir, seed) != 0 || write_ported(dir, seed) != 0 ||
	    write_cnam(dir, seed) != 0 || write_dnc(dir, seed) != 0 ||
	    write_dno(dir, seed) != 0 || write_tollfree(dir, seed) != 0)
		return -1;
	return 0;
}
