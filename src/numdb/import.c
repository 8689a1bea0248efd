/* import.c - loading NANPA, pooling, NPAC, CNAM, DNC, DNO and toll-free files.
 *
 * Every kind runs through the same frame: BEGIN IMMEDIATE, read the file line
 * by line (bounded length, CR / LF / CRLF, BOM, blank lines), hand each line to
 * the kind's parser, count what was accepted and rejected, then either COMMIT
 * or ROLLBACK against the error threshold. Replace semantics use a temporary
 * key table: rows the file names are written as they come, and at the end the
 * rows of the replaced scope (the whole table, or each NPA the file names) that
 * the file did not name are swept. The formats are described in docs/import.md.
 */
#include "import.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/text.h"
#include "../base/tn.h"
#include "../telique/cpr.h"
#include "portover.h"

#define LINE_MAX_BYTES (64 * 1024)
#define MAX_FIELDS 128
#define CPR_FILE_MAX (64L * 1024 * 1024)
#define N_NPA 1000
#define MAX_COLS 10

/* What a kind's parser says about one line. */
enum line_rc {
	LINE_OK,   /* a data line, applied */
	LINE_SKIP, /* not a data line: header, file date, metadata row */
	LINE_BAD,  /* a data line, rejected (reason in im->why) */
	LINE_STOP, /* the file cannot be read as this kind: reject it whole */
	LINE_FAIL, /* the database failed */
};

enum outcome { OUT_COMMITTED, OUT_REJECTED, OUT_FAILED };

enum layout {
	LAY_NONE,
	LAY_CO_CA,     /* Canadian CO code status CSV */
	LAY_CO_UTLZD,  /* NANPA allutlzd, tab-delimited */
	LAY_BLK_CSV,   /* AllBlocksAugmentedReport */
	LAY_BLK_BDD,   /* NPAC number-pool-block BDD */
	LAY_SV_LSMS,   /* LSMS SV BDD, 18 or 20 fields */
	LAY_SV_SOA,    /* SOA SV BDD, 21 fields or more */
};

/* Prepared statements; which slots a kind uses is up to the kind. */
enum stmt_slot { S_PUT, S_PUT2, S_DEL, S_KEY, S_SWEEP, S_COUNT, S_REPORT, S_MAX };

struct fields {
	int n;
	char *v[MAX_FIELDS];
	size_t len[MAX_FIELDS];
};

struct reader {
	FILE *fp;
	char *buf;     /* LINE_MAX_BYTES + 1 */
	size_t len;
	bool too_long;
	bool skip_lf;  /* the last line ended in CR: a following LF belongs to it */
};

struct imp {
	sqlite3 *db;
	enum import_kind kind;
	const char *path;
	const struct import_opts *opts;
	FILE *rep;
	struct import_result res;
	long lineno;
	long reported, unreported;
	char why[200];
	enum layout layout;
	bool header_done;
	int col[MAX_COLS]; /* header column of each wanted name, -1 when absent */
	int need;          /* fields a data row must have */
	sqlite3_stmt *st[S_MAX];
	struct fields f;
	unsigned char npa_seen[N_NPA];
	long old_count[N_NPA];
	char today[11];
	int64_t max_version; /* ported: the highest version id read */
	int64_t watermark;   /* ported: changes at or below it were applied (portover.h) */
	int64_t t0_ms, tick_ms;
	bool tty, progressed;
};

struct kind_ops {
	const char *name;
	int (*begin)(struct imp *im);
	enum line_rc (*line)(struct imp *im, char *line, size_t len);
	int (*end)(struct imp *im);
};

/* ---------------------------------------------------------------- helpers */

static enum line_rc bad(struct imp *im, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum line_rc bad(struct imp *im, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(im->why, sizeof(im->why), fmt, ap);
	va_end(ap);
	return LINE_BAD;
}

static int imp_exec(struct imp *im, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(im->db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	log_error("import statement failed", "kind=%s err=\"%s\"",
		  import_kind_name(im->kind), err ? err : sqlite3_errmsg(im->db));
	sqlite3_free(err);
	return -1;
}

static int prep(struct imp *im, enum stmt_slot slot, const char *sql)
{
	if (sqlite3_prepare_v2(im->db, sql, -1, &im->st[slot], NULL) == SQLITE_OK)
		return 0;
	log_error("import prepare failed", "kind=%s err=\"%s\"",
		  import_kind_name(im->kind), sqlite3_errmsg(im->db));
	return -1;
}

/* Step a statement that returns no row, then reset it for the next line. */
static int step(struct imp *im, enum stmt_slot slot)
{
	sqlite3_stmt *st = im->st[slot];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	log_error("import write failed", "kind=%s err=\"%s\"", import_kind_name(im->kind),
		  sqlite3_errmsg(im->db));
	return -1;
}

/* Step a statement that returns one integer. */
static int step_int(struct imp *im, enum stmt_slot slot, long *out)
{
	sqlite3_stmt *st = im->st[slot];
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*out = (long)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	log_error("import read failed", "kind=%s err=\"%s\"", import_kind_name(im->kind),
		  sqlite3_errmsg(im->db));
	return -1;
}

/* Text bound straight from the line buffer: every field is rebound per line. */
static void bind_text(sqlite3_stmt *st, int i, const char *s, size_t len)
{
	if (s == NULL || len == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, (int)len, SQLITE_STATIC);
}

static void bind_copy(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL || *s == '\0')
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Names, companies, places: UTF-8 without control bytes (tab included). */
static bool text_ok(const char *s, size_t len)
{
	return text_utf8_clean(s, len) && memchr(s, '\t', len) == NULL;
}

static bool alnum_n(const char *s, size_t len, size_t n)
{
	if (len != n)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

static bool same(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

static const char *tn_reason(int rc)
{
	switch (rc) {
	case TN_ENPA:
		return "invalid area code";
	case TN_ENXX:
		return "invalid central office code";
	default:
		return "not a 10-digit number";
	}
}

static bool civil_ok(int y, int m, int d)
{
	struct clock_tm tm;

	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > 31)
		return false;
	clock_split(clock_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400, &tm);
	return tm.mday == d;
}

/* Write v as exactly n digits (v is known to fit). */
static char *put_digits(char *p, int v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* Read 1..maxd digits at *p; returns the value or -1. */
static int num_at(const char **p, const char *end, int maxd)
{
	int v = 0, n = 0;

	while (*p < end && n < maxd && isdigit((unsigned char)**p)) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n ? v : -1;
}

/*
 * A report date: "MM/DD/YYYY" (one-digit month and day too) or "YYYY-MM-DD",
 * optionally followed by a space and a time, which is dropped. Out: "YYYY-MM-DD".
 */
static int date_norm(const char *s, size_t len, char out[11])
{
	const char *p = s, *end = memchr(s, ' ', len);
	int y, m, d;

	end = end ? end : s + len;
	if (end - s == 10 && s[4] == '-' && s[7] == '-') {
		y = num_at(&p, end, 4);
		p++;
		m = num_at(&p, end, 2);
		p++;
		d = num_at(&p, end, 2);
	} else {
		m = num_at(&p, end, 2);
		if (p >= end || *p++ != '/')
			return -1;
		d = num_at(&p, end, 2);
		if (p >= end || *p++ != '/')
			return -1;
		y = end - p == 4 ? num_at(&p, end, 4) : -1;
	}
	if (p != end || !civil_ok(y, m, d))
		return -1;
	out = put_digits(out, y, 4);
	*out++ = '-';
	out = put_digits(out, m, 2);
	*out++ = '-';
	out = put_digits(out, d, 2);
	*out = '\0';
	return 0;
}

/* An NPAC timestamp YYYYMMDDHHMMSS (GMT) as RFC 3339. */
static int ts14_norm(const char *s, size_t len, char out[21])
{
	uint64_t v;
	int y, mo, d, h, mi, se;

	if (digits_parse(s, len, 14, &v) != 0)
		return -1;
	se = (int)(v % 100);
	mi = (int)(v / 100 % 100);
	h = (int)(v / 10000 % 100);
	d = (int)(v / 1000000 % 100);
	mo = (int)(v / 100000000 % 100);
	y = (int)(v / 10000000000ULL);
	if (!civil_ok(y, mo, d) || h > 23 || mi > 59 || se > 59)
		return -1;
	clock_format_rfc3339(clock_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
			     h * 3600 + mi * 60 + se, out, 21);
	return 0;
}

/* A point code: 9 digits, three octets of 000-255. Empty is fine. */
static bool dpc_ok(const char *s, size_t len)
{
	uint64_t v;

	if (len == 0)
		return true;
	if (digits_parse(s, len, 9, &v) != 0)
		return false;
	return v / 1000000 <= 255 && v / 1000 % 1000 <= 255 && v % 1000 <= 255;
}

/* A subsystem number: 1-3 digits, 0-255. Empty is fine. */
static bool ssn_ok(const char *s, size_t len, int *out)
{
	uint64_t v;

	*out = -1;
	if (len == 0)
		return true;
	if (len > 3 || digits_parse(s, len, (unsigned)len, &v) != 0 || v > 255)
		return false;
	*out = (int)v;
	return true;
}

/* A single digit lo..hi, or -1 when empty; -2 when malformed. */
static int code_digit(const char *s, size_t len, int lo, int hi)
{
	if (len == 0)
		return -1;
	if (len != 1 || s[0] < '0' + lo || s[0] > '0' + hi)
		return -2;
	return s[0] - '0';
}

/* ---------------------------------------------------------------- fields */

static void trim(char **s, size_t *len)
{
	while (*len && (**s == ' '))
		(*s)++, (*len)--;
	while (*len && (*s)[*len - 1] == ' ')
		(*len)--;
	(*s)[*len] = '\0';
}

static int field_add(struct fields *f, char *s, size_t len)
{
	if (f->n == MAX_FIELDS)
		return -1;
	f->v[f->n] = s;
	f->len[f->n] = len;
	f->n++;
	return 0;
}

/* One quoted CSV field starting at line[*i] == '"', unquoted in place at w. */
static int csv_quoted(char *line, size_t len, size_t *i, char **w, const char **why)
{
	for ((*i)++;; (*i)++) {
		if (*i >= len) {
			*why = "unterminated quoted field";
			return -1;
		}
		if (line[*i] == '"') {
			if (*i + 1 < len && line[*i + 1] == '"') {
				*(*w)++ = '"';
				(*i)++;
				continue;
			}
			(*i)++;
			break;
		}
		*(*w)++ = line[*i];
	}
	while (*i < len && line[*i] == ' ')
		(*i)++;
	if (*i < len && line[*i] != ',') {
		*why = "text after a closing quote";
		return -1;
	}
	return 0;
}

/*
 * RFC 4180 fields of one line, split in place: quotes, doubled quotes, commas
 * inside quotes. Unquoted fields lose surrounding spaces. A quoted field may
 * not span lines.
 */
static int split_csv(char *line, size_t len, struct fields *f, const char **why)
{
	size_t i = 0;

	f->n = 0;
	for (;;) {
		char *start, *w;
		size_t flen;

		while (i < len && line[i] == ' ')
			i++;
		start = w = line + i;
		if (i < len && line[i] == '"') {
			if (csv_quoted(line, len, &i, &w, why) != 0)
				return -1;
			flen = (size_t)(w - start);
		} else {
			while (i < len && line[i] != ',')
				*w++ = line[i++];
			flen = (size_t)(w - start);
			while (flen && start[flen - 1] == ' ')
				flen--;
		}
		if (field_add(f, start, flen) != 0) {
			*why = "too many fields";
			return -1;
		}
		start[flen] = '\0';
		if (i >= len)
			return 0;
		i++; /* the comma */
	}
}

/* Undo "..." around a tab-delimited field (allutlzd quotes some companies). */
static void unquote(char **s, size_t *len)
{
	char *r, *w, *end;

	if (*len < 2 || (*s)[0] != '"' || (*s)[*len - 1] != '"')
		return;
	end = *s + *len - 1;
	r = w = *s + 1;
	while (r < end) {
		if (r[0] == '"' && r + 1 < end && r[1] == '"')
			r++;
		*w++ = *r++;
	}
	*w = '\0';
	*s += 1;
	*len = (size_t)(w - *s);
}

/* Fields split on sep (| or tab). Tab fields are trimmed and unquoted. */
static int split_sep(char *line, size_t len, char sep, struct fields *f, const char **why)
{
	char *p = line, *end = line + len;

	f->n = 0;
	for (;;) {
		char *q = memchr(p, sep, (size_t)(end - p));
		char *s = p;
		size_t flen = (size_t)((q ? q : end) - p);

		s[flen] = '\0';
		if (sep == '\t') {
			trim(&s, &flen);
			unquote(&s, &flen);
		}
		if (field_add(f, s, flen) != 0) {
			*why = "too many fields";
			return -1;
		}
		if (q == NULL)
			return 0;
		p = q + 1;
	}
}

static enum line_rc split(struct imp *im, char *line, size_t len, char sep)
{
	const char *why = NULL;
	int rc = sep == ',' ? split_csv(line, len, &im->f, &why)
			    : split_sep(line, len, sep, &im->f, &why);

	return rc == 0 ? LINE_OK : bad(im, "%s", why);
}

/* Field c of the current line, or "" when the column is absent or short. */
static const char *fv(const struct imp *im, int c, size_t *len)
{
	if (c < 0 || c >= im->f.n) {
		*len = 0;
		return "";
	}
	*len = im->f.len[c];
	return im->f.v[c];
}

/*
 * Map a header row: col[k] = position of names[k]. The first nreq names are
 * required; a missing one stops the import.
 */
static enum line_rc header_map(struct imp *im, const char *const *names, int nnames, int nreq)
{
	im->need = 0;
	for (int k = 0; k < nnames; k++) {
		im->col[k] = -1;
		for (int c = 0; c < im->f.n; c++)
			if (same(im->f.v[c], im->f.len[c], names[k])) {
				im->col[k] = c;
				break;
			}
		if (k < nreq && im->col[k] < 0) {
			snprintf(im->why, sizeof(im->why), "header has no \"%s\" column",
				 names[k]);
			return LINE_STOP;
		}
		if (k < nreq && im->col[k] + 1 > im->need)
			im->need = im->col[k] + 1;
	}
	im->header_done = true;
	return LINE_SKIP;
}

static enum line_rc need_fields(struct imp *im)
{
	if (im->f.n < im->need)
		return bad(im, "%d fields, the header needs at least %d", im->f.n, im->need);
	return LINE_OK;
}

/* A text column: clean UTF-8 of at most max bytes (empty allowed). */
static bool text_col(struct imp *im, int c, size_t max, const char *what, const char **s,
		     size_t *len)
{
	*s = fv(im, c, len);
	if (*len > max) {
		bad(im, "%s longer than %zu bytes", what, max);
		return false;
	}
	if (!text_ok(*s, *len)) {
		bad(im, "%s is not clean UTF-8 text", what);
		return false;
	}
	return true;
}

/* ------------------------------------------------------- replace by scope */

/*
 * Replace semantics: each row the file names is remembered in a temporary key
 * table; at the end the rows of the scope that the file did not name go.
 */
static int keys_begin(struct imp *im, bool text)
{
	/* A typed key lets the sweep's NOT IN search the key table's index. */
	if (imp_exec(im, "DROP TABLE IF EXISTS temp.import_keys") != 0 ||
	    imp_exec(im, text ? "CREATE TEMP TABLE import_keys (k TEXT PRIMARY KEY) WITHOUT ROWID"
			      : "CREATE TEMP TABLE import_keys (k INTEGER PRIMARY KEY)") != 0)
		return -1;
	return prep(im, S_KEY, "INSERT OR IGNORE INTO temp.import_keys (k) VALUES (?)");
}

static int key_int(struct imp *im, int64_t k)
{
	sqlite3_bind_int64(im->st[S_KEY], 1, k);
	return step(im, S_KEY);
}

/* Remove the rows of [lo, hi] (S_SWEEP's two parameters) not in the file. */
static int sweep_range(struct imp *im, int64_t lo, int64_t hi)
{
	sqlite3_bind_int64(im->st[S_SWEEP], 1, lo);
	sqlite3_bind_int64(im->st[S_SWEEP], 2, hi);
	if (step(im, S_SWEEP) != 0)
		return -1;
	im->res.removed += sqlite3_changes(im->db);
	return 0;
}

/* Sweep each NPA the file named; a code of the NPA spans [npa*span, +span). */
static int sweep_npas(struct imp *im, int64_t span)
{
	for (int npa = 0; npa < N_NPA; npa++)
		if (im->npa_seen[npa] && sweep_range(im, npa * span, npa * span + span - 1) != 0)
			return -1;
	return 0;
}

static int sweep_all(struct imp *im)
{
	if (step(im, S_SWEEP) != 0)
		return -1;
	im->res.removed += sqlite3_changes(im->db);
	return 0;
}

/* --------------------------------------------------------------------- npa */

static const char *const npa_cols[] = {
	"NPA_ID", "type_of_code", "ASSIGNED", "IN_SERVICE", "LOCATION", "COUNTRY",
	"TIME_ZONE", "OVERLAY_COMPLEX", "PARENT_NPA_ID",
};
enum { NC_NPA, NC_TYPE, NC_ASSIGNED, NC_INSVC, NC_LOC, NC_COUNTRY, NC_TZ, NC_OVERLAY,
       NC_PARENT };

static int npa_begin(struct imp *im)
{
	if (keys_begin(im, false) != 0)
		return -1;
	if (prep(im, S_SWEEP, "DELETE FROM npa WHERE npa NOT IN (SELECT k FROM temp.import_keys)"))
		return -1;
	return prep(im, S_PUT, "INSERT OR REPLACE INTO npa (npa, type, assigned, in_service, "
			       "location, country, time_zone, overlay_complex, parent_npa) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
}

/* Yes / No, Y / N; -1 for anything else. */
static int yes_no(const char *s, size_t len)
{
	if (same(s, len, "yes") || same(s, len, "y"))
		return 1;
	if (same(s, len, "no") || same(s, len, "n"))
		return 0;
	return -1;
}

static enum line_rc npa_bind_text(struct imp *im)
{
	static const struct { int col, param; size_t max; } t[] = {
		{ NC_TYPE, 2, 64 }, { NC_LOC, 5, 128 }, { NC_COUNTRY, 6, 64 },
		{ NC_TZ, 7, 16 }, { NC_OVERLAY, 8, 64 },
	};
	const char *s;
	size_t len;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!text_col(im, im->col[t[i].col], t[i].max, npa_cols[t[i].col], &s, &len))
			return LINE_BAD;
		bind_text(im->st[S_PUT], t[i].param, s, len);
	}
	fv(im, im->col[NC_TYPE], &len);
	return len ? LINE_OK : bad(im, "type_of_code is empty");
}

static enum line_rc npa_row(struct imp *im)
{
	sqlite3_stmt *st = im->st[S_PUT];
	const char *s;
	size_t len;
	uint64_t npa, parent;
	int assigned, insvc;

	s = fv(im, im->col[NC_NPA], &len);
	if (digits_parse(s, len, 3, &npa) != 0 || npa < 200)
		return bad(im, "NPA_ID is not an area code");
	s = fv(im, im->col[NC_ASSIGNED], &len);
	if ((assigned = yes_no(s, len)) < 0)
		return bad(im, "ASSIGNED is not Yes or No");
	s = fv(im, im->col[NC_INSVC], &len);
	if ((insvc = yes_no(s, len)) < 0)
		return bad(im, "IN_SERVICE is not Y or N");
	s = fv(im, im->col[NC_PARENT], &len);
	if (len && (digits_parse(s, len, 3, &parent) != 0 || parent < 200))
		return bad(im, "PARENT_NPA_ID is not an area code");
	if (npa_bind_text(im) != LINE_OK)
		return LINE_BAD;
	sqlite3_bind_int64(st, 1, (int64_t)npa);
	sqlite3_bind_int(st, 3, assigned);
	sqlite3_bind_int(st, 4, insvc);
	if (len)
		sqlite3_bind_int64(st, 9, (int64_t)parent);
	else
		sqlite3_bind_null(st, 9);
	if (step(im, S_PUT) != 0 || key_int(im, (int64_t)npa) != 0)
		return LINE_FAIL;
	return LINE_OK;
}

static enum line_rc npa_line(struct imp *im, char *line, size_t len)
{
	if (split(im, line, len, ',') != LINE_OK)
		return LINE_BAD;
	if (!im->header_done) {
		/* The report opens with "File Date,MM/DD/YYYY" before its header. */
		if (same(im->f.v[0], im->f.len[0], "File Date"))
			return LINE_SKIP;
		if (!same(im->f.v[0], im->f.len[0], "NPA_ID")) {
			snprintf(im->why, sizeof(im->why), "expected the NPA_ID header row");
			return LINE_STOP;
		}
		return header_map(im, npa_cols, 9, 4);
	}
	if (need_fields(im) != LINE_OK)
		return LINE_BAD;
	return npa_row(im);
}

/* ------------------------------------------------------------------ cocode */

static const char *const ca_cols[] = {
	"NPA", "CO Code (NXX)", "Status", "Company", "OCN", "Exchange Area", "Province",
};
enum { CA_NPA, CA_NXX, CA_STATUS, CA_COMPANY, CA_OCN, CA_AREA, CA_PROV };

static const char *const ut_cols[] = {
	"NPA-NXX", "OCN", "Company", "State", "RateCenter", "EffectiveDate", "Pooled Code",
};
enum { UT_NPANXX, UT_OCN, UT_COMPANY, UT_STATE, UT_RC, UT_EFF, UT_POOLED };

/*
 * Canadian statuses under which a carrier holds the code. Everything else
 * (Available, New NPA, For Special Use, Not Available, Moratorium on
 * Assignment, Plant Test, Stranded Code, Protected, Recovered/Aging,
 * Temporarily Unavailable, and any status not listed here) claims no carrier.
 */
static const char *const held_status[] = {
	"In Service", "Assigned", "Being Recovered", "New NPA Testing",
};

static bool status_held(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(held_status) / sizeof(held_status[0]); i++)
		if (same(s, len, held_status[i]))
			return true;
	return false;
}

static int cocode_begin(struct imp *im)
{
	if (keys_begin(im, false) != 0)
		return -1;
	if (prep(im, S_SWEEP, "DELETE FROM cocode WHERE npanxx BETWEEN ? AND ? AND "
			      "npanxx NOT IN (SELECT k FROM temp.import_keys)"))
		return -1;
	return prep(im, S_PUT, "INSERT OR REPLACE INTO cocode (npanxx, ocn, company, "
			       "rate_center, state, status, pooled, effective) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
}

/* Write one code; ocn/company only when the code is held by a carrier. */
static enum line_rc cocode_put(struct imp *im, unsigned npa, unsigned nxx, bool held)
{
	sqlite3_stmt *st = im->st[S_PUT];
	int64_t key = (int64_t)npa * 1000 + nxx;

	if (!held) {
		sqlite3_bind_null(st, 2);
		sqlite3_bind_null(st, 3);
	}
	sqlite3_bind_int64(st, 1, key);
	if (step(im, S_PUT) != 0 || key_int(im, key) != 0)
		return LINE_FAIL;
	im->npa_seen[npa] = 1;
	return LINE_OK;
}

static enum line_rc ocn_company(struct imp *im, int ocol, int ccol)
{
	const char *s;
	size_t len;

	s = fv(im, ocol, &len);
	if (len && !alnum_n(s, len, 4))
		return bad(im, "OCN is not 4 letters or digits");
	bind_text(im->st[S_PUT], 2, s, len);
	if (!text_col(im, ccol, 256, "Company", &s, &len))
		return LINE_BAD;
	bind_text(im->st[S_PUT], 3, s, len);
	return LINE_OK;
}

static enum line_rc ca_row(struct imp *im)
{
	sqlite3_stmt *st = im->st[S_PUT];
	const char *s, *status;
	size_t len, slen;
	uint64_t npa, nxx;

	s = fv(im, im->col[CA_NPA], &len);
	if (digits_parse(s, len, 3, &npa) != 0 || !tn_npa_valid((unsigned)npa))
		return bad(im, "NPA is not an area code");
	s = fv(im, im->col[CA_NXX], &len);
	if (digits_parse(s, len, 3, &nxx) != 0 || nxx < 200)
		return bad(im, "CO Code (NXX) is not a central office code");
	if (!text_col(im, im->col[CA_STATUS], 64, "Status", &status, &slen))
		return LINE_BAD;
	if (slen == 0)
		return bad(im, "Status is empty");
	bind_text(st, 6, status, slen);
	if (ocn_company(im, im->col[CA_OCN], im->col[CA_COMPANY]) != LINE_OK)
		return LINE_BAD;
	if (!text_col(im, im->col[CA_AREA], 128, "Exchange Area", &s, &len))
		return LINE_BAD;
	bind_text(st, 4, s, len);
	if (!text_col(im, im->col[CA_PROV], 16, "Province", &s, &len))
		return LINE_BAD;
	bind_text(st, 5, s, len);
	sqlite3_bind_int(st, 7, 0);
	sqlite3_bind_null(st, 8);
	return cocode_put(im, (unsigned)npa, (unsigned)nxx, status_held(status, slen));
}

/* "201-200" or "201200". */
static int npanxx_field(const char *s, size_t len, uint64_t *npa, uint64_t *nxx)
{
	if (len == 7 && s[3] == '-')
		return digits_parse(s, 3, 3, npa) | digits_parse(s + 4, 3, 3, nxx);
	if (len == 6)
		return digits_parse(s, 3, 3, npa) | digits_parse(s + 3, 3, 3, nxx);
	return -1;
}

/* allutlzd lists codes in use; one effective in the future is only assigned. */
static enum line_rc ut_status_eff(struct imp *im)
{
	sqlite3_stmt *st = im->st[S_PUT];
	const char *s;
	size_t len;
	char eff[11];

	s = fv(im, im->col[UT_EFF], &len);
	if (len && date_norm(s, len, eff) != 0)
		return bad(im, "EffectiveDate is not a date");
	if (len) {
		bind_copy(st, 8, eff);
		bind_copy(st, 6, strcmp(eff, im->today) > 0 ? "Assigned" : "In Service");
	} else {
		sqlite3_bind_null(st, 8);
		bind_copy(st, 6, "In Service");
	}
	s = fv(im, im->col[UT_POOLED], &len);
	if (len && yes_no(s, len) < 0)
		return bad(im, "Pooled Code is not Y or N");
	sqlite3_bind_int(st, 7, len ? yes_no(s, len) : 0);
	return LINE_OK;
}

static enum line_rc ut_row(struct imp *im)
{
	sqlite3_stmt *st = im->st[S_PUT];
	const char *s;
	size_t len;
	uint64_t npa, nxx;

	s = fv(im, im->col[UT_NPANXX], &len);
	if (npanxx_field(s, len, &npa, &nxx) != 0 || !tn_npa_valid((unsigned)npa) ||
	    nxx < 200)
		return bad(im, "NPA-NXX is not NPA-NXX");
	if (ocn_company(im, im->col[UT_OCN], im->col[UT_COMPANY]) != LINE_OK)
		return LINE_BAD;
	if (!text_col(im, im->col[UT_RC], 128, "RateCenter", &s, &len))
		return LINE_BAD;
	bind_text(st, 4, s, len);
	if (!text_col(im, im->col[UT_STATE], 16, "State", &s, &len))
		return LINE_BAD;
	bind_text(st, 5, s, len);
	if (ut_status_eff(im) != LINE_OK)
		return LINE_BAD;
	return cocode_put(im, (unsigned)npa, (unsigned)nxx, true);
}

/* The Canadian files carry a row ",,,,,,,2024-10-10": the file date. */
static bool date_row(const struct imp *im)
{
	char d[11];

	for (int i = 0; i + 1 < im->f.n; i++)
		if (im->f.len[i] != 0)
			return false;
	return im->f.n > 1 && date_norm(im->f.v[im->f.n - 1], im->f.len[im->f.n - 1], d) == 0;
}

static enum line_rc cocode_header(struct imp *im, char *line, size_t len)
{
	bool tab = memchr(line, '\t', len) != NULL;

	if (split(im, line, len, tab ? '\t' : ',') != LINE_OK)
		return LINE_BAD;
	if (!tab && same(im->f.v[0], im->f.len[0], "NPA")) {
		im->layout = LAY_CO_CA;
		return header_map(im, ca_cols, 7, 5);
	}
	if (tab && im->f.n > 1 && same(im->f.v[1], im->f.len[1], "NPA-NXX")) {
		im->layout = LAY_CO_UTLZD;
		return header_map(im, ut_cols, 7, 3);
	}
	snprintf(im->why, sizeof(im->why), "not a CO code file: expected a header starting "
		 "\"NPA\",\"CO Code (NXX)\" or State<TAB>NPA-NXX");
	return LINE_STOP;
}

static enum line_rc cocode_line(struct imp *im, char *line, size_t len)
{
	if (!im->header_done)
		return cocode_header(im, line, len);
	if (split(im, line, len, im->layout == LAY_CO_CA ? ',' : '\t') != LINE_OK)
		return LINE_BAD;
	if (im->layout == LAY_CO_CA && date_row(im))
		return LINE_SKIP;
	if (need_fields(im) != LINE_OK)
		return LINE_BAD;
	return im->layout == LAY_CO_CA ? ca_row(im) : ut_row(im);
}

static int cocode_end(struct imp *im)
{
	return sweep_npas(im, 1000);
}

/* ------------------------------------------------------------------ blocks */

static const char *const blk_cols[] = {
	"NPA", "NXX", "X", "STATUS", "OCN", "Rate Center", "Block Effective Date",
};
enum { BC_NPA, BC_NXX, BC_X, BC_STATUS, BC_OCN, BC_RC, BC_EFF };

static int blocks_begin(struct imp *im)
{
	if (keys_begin(im, false) != 0)
		return -1;
	if (prep(im, S_SWEEP, "DELETE FROM block WHERE npanxxx BETWEEN ? AND ? AND "
			      "npanxxx NOT IN (SELECT k FROM temp.import_keys)"))
		return -1;
	/* The pooling report knows no LRN: keep the one a BDD gave while the
	 * holder is the same. */
	if (prep(im, S_PUT, "INSERT INTO block (npanxxx, lrn, spid, status, rate_center, "
			    "effective) VALUES (?, NULL, ?, ?, ?, ?) ON CONFLICT (npanxxx) "
			    "DO UPDATE SET lrn = CASE WHEN block.spid = excluded.spid "
			    "THEN block.lrn END, spid = excluded.spid, status = excluded.status, "
			    "rate_center = excluded.rate_center, effective = excluded.effective"))
		return -1;
	if (prep(im, S_DEL, "DELETE FROM block WHERE npanxxx = ?"))
		return -1;
	return prep(im, S_PUT2, "INSERT INTO block (npanxxx, lrn, spid, status, effective) "
				 "VALUES (?, ?, ?, 'AS', ?) ON CONFLICT (npanxxx) DO UPDATE SET "
				 "lrn = excluded.lrn, spid = excluded.spid, status = 'AS', "
				 "effective = excluded.effective");
}

static enum line_rc blk_code(struct imp *im, uint64_t *npa, uint64_t *nxx, uint64_t *x)
{
	const char *s;
	size_t len;

	s = fv(im, im->col[BC_NPA], &len);
	if (digits_parse(s, len, 3, npa) != 0 || !tn_npa_valid((unsigned)*npa))
		return bad(im, "NPA is not an area code");
	s = fv(im, im->col[BC_NXX], &len);
	if (digits_parse(s, len, 3, nxx) != 0 || !tn_nxx_valid((unsigned)*nxx))
		return bad(im, "NXX is not a central office code");
	s = fv(im, im->col[BC_X], &len);
	if (digits_parse(s, len, 1, x) != 0)
		return bad(im, "X is not one digit");
	return LINE_OK;
}

static enum line_rc blk_csv_row(struct imp *im)
{
	sqlite3_stmt *st = im->st[S_PUT];
	const char *s;
	size_t len;
	uint64_t npa, nxx, x;
	char eff[11];

	if (blk_code(im, &npa, &nxx, &x) != LINE_OK)
		return LINE_BAD;
	/* Any valid row puts its NPA in the replaced scope, stored or not. */
	im->npa_seen[npa] = 1;
	s = fv(im, im->col[BC_STATUS], &len);
	if (!same(s, len, "AS"))
		return len && text_ok(s, len) ? LINE_OK : bad(im, "STATUS is empty or not text");
	bind_copy(st, 3, "AS");
	s = fv(im, im->col[BC_OCN], &len);
	if (!alnum_n(s, len, 4))
		return bad(im, "OCN of an assigned block is not 4 letters or digits");
	bind_text(st, 2, s, len);
	if (!text_col(im, im->col[BC_RC], 128, "Rate Center", &s, &len))
		return LINE_BAD;
	bind_text(st, 4, s, len);
	s = fv(im, im->col[BC_EFF], &len);
	if (len && date_norm(s, len, eff) != 0)
		return bad(im, "Block Effective Date is not a date");
	bind_copy(st, 5, len ? eff : NULL);
	sqlite3_bind_int64(st, 1, (int64_t)(npa * 10000 + nxx * 10 + x));
	if (step(im, S_PUT) != 0 || key_int(im, (int64_t)(npa * 10000 + nxx * 10 + x)) != 0)
		return LINE_FAIL;
	return LINE_OK;
}

/* "2042001" or "204-200-1". */
static int npanxxx_field(const char *s, size_t len, uint64_t *out)
{
	char d[7];

	if (len == 9 && s[3] == '-' && s[7] == '-') {
		memcpy(d, s, 3);
		memcpy(d + 3, s + 4, 3);
		d[6] = s[8];
		s = d;
		len = 7;
	}
	if (digits_parse(s, len, 7, out) != 0)
		return -1;
	return tn_npa_valid((unsigned)(*out / 10000)) && tn_nxx_valid(*out / 10 % 1000) ? 0 : -1;
}

/* Download reason: new(0), delete(1), modified(2), as a code or a word. */
enum reason { R_NONE = -1, R_NEW = 0, R_DELETE = 1, R_MODIFIED = 2, R_BAD = -2 };

static enum reason reason_parse(const char *s, size_t len)
{
	if (len == 0)
		return R_NONE;
	if (same(s, len, "0") || same(s, len, "new"))
		return R_NEW;
	if (same(s, len, "1") || same(s, len, "delete") || same(s, len, "deleted"))
		return R_DELETE;
	if (same(s, len, "2") || same(s, len, "modified") || same(s, len, "modify"))
		return R_MODIFIED;
	return R_BAD;
}

/* DPC/SSN pairs from field first, count pairs; all must be well-formed. */
static enum line_rc dpc_pairs(struct imp *im, int first, int count)
{
	const char *s;
	size_t len;
	int ssn;

	for (int i = first; i < first + 2 * count && i < im->f.n; i += 2) {
		s = fv(im, i, &len);
		if (!dpc_ok(s, len))
			return bad(im, "field %d: not a point code (9 digits, octets 000-255)", i);
		s = fv(im, i + 1, &len);
		if (!ssn_ok(s, len, &ssn))
			return bad(im, "field %d: not a subsystem number", i + 1);
	}
	return LINE_OK;
}

static enum line_rc blk_bdd_row(struct imp *im)
{
	sqlite3_stmt *st = im->st[S_PUT2];
	const char *s;
	size_t len;
	uint64_t code, lrn, id;
	char ts[21];
	enum reason r;
	int rc;

	if (im->f.n < 5)
		return bad(im, "%d fields, a pool block needs at least 5", im->f.n);
	s = fv(im, 0, &len);
	if (len == 0 || len > 18 || digits_parse(s, len, (unsigned)len, &id) != 0)
		return bad(im, "field 0: NPB id is not a number");
	s = fv(im, 1, &len);
	if (npanxxx_field(s, len, &code) != 0)
		return bad(im, "field 1: not an NPA-NXX-X");
	s = fv(im, 15, &len);
	if ((r = reason_parse(s, len)) == R_BAD)
		return bad(im, "field 15: unknown download reason");
	if (r == R_DELETE) {
		sqlite3_bind_int64(im->st[S_DEL], 1, (int64_t)code);
		if (step(im, S_DEL) != 0)
			return LINE_FAIL;
		im->res.removed += sqlite3_changes(im->db);
		return LINE_OK;
	}
	s = fv(im, 2, &len);
	if ((rc = tn_parse_dashed(s, len, &lrn)) != TN_OK)
		return bad(im, "field 2: LRN %s", tn_reason(rc));
	s = fv(im, 3, &len);
	if (!alnum_n(s, len, 4))
		return bad(im, "field 3: SPID is not 4 letters or digits");
	bind_text(st, 3, s, len);
	s = fv(im, 4, &len);
	if (len && ts14_norm(s, len, ts) != 0)
		return bad(im, "field 4: not a YYYYMMDDHHMMSS timestamp");
	bind_copy(st, 4, len ? ts : NULL);
	if (dpc_pairs(im, 5, 5) != LINE_OK)
		return LINE_BAD;
	s = fv(im, 17, &len);
	if (len && !alnum_n(s, len, 4))
		return bad(im, "field 17: alt SPID is not 4 letters or digits");
	sqlite3_bind_int64(st, 1, (int64_t)code);
	sqlite3_bind_int64(st, 2, (int64_t)lrn);
	return step(im, S_PUT2) == 0 ? LINE_OK : LINE_FAIL;
}

static enum line_rc blocks_line(struct imp *im, char *line, size_t len)
{
	if (im->layout == LAY_NONE) {
		if (len >= 6 && strncasecmp(line, "Region", 6) == 0) {
			im->layout = LAY_BLK_CSV;
			if (split(im, line, len, ',') != LINE_OK)
				return LINE_BAD;
			return header_map(im, blk_cols, 7, 5);
		}
		if (memchr(line, '|', len) == NULL) {
			snprintf(im->why, sizeof(im->why), "not a block file: expected a "
				 "\"Region,...\" header or pipe-delimited NPB records");
			return LINE_STOP;
		}
		im->layout = LAY_BLK_BDD;
	}
	if (im->layout == LAY_BLK_BDD)
		return split(im, line, len, '|') == LINE_OK ? blk_bdd_row(im) : LINE_BAD;
	if (split(im, line, len, ',') != LINE_OK || need_fields(im) != LINE_OK)
		return LINE_BAD;
	return blk_csv_row(im);
}

static int blocks_end(struct imp *im)
{
	return im->layout == LAY_BLK_CSV ? sweep_npas(im, 10000) : 0;
}

/* ------------------------------------------------------------------ ported */

/* One subscription version as read from a line. */
struct sv {
	int64_t version;
	uint64_t tn, lrn;
	enum reason reason;
	int status;   /* SOA status code, or 1 for an LSMS line that routes */
	bool routes, removes;
	const char *spid;
	char activated[21];
	const char *cnam_dpc;
	int cnam_ssn, lnp_type, sv_type;
	const char *alt_spid;
};

static int ported_begin(struct imp *im)
{
	if (portover_watermark(im->db, &im->watermark) != 0 ||
	    imp_exec(im, PORTOVER_SQL_BEGIN) != 0)
		return -1;
	return prep(im, S_DEL, PORTOVER_SQL_DEL) || prep(im, S_KEY, PORTOVER_SQL_GONE) ||
	       prep(im, S_PUT2, PORTOVER_SQL_UNGONE) || prep(im, S_REPORT, PORTOVER_SQL_MAXV) ||
	       prep(im, S_PUT, PORTOVER_SQL_PUT) || prep(im, S_COUNT, PORTOVER_SQL_STALE);
}

static int ported_end(struct imp *im)
{
	sqlite3_bind_int64(im->st[S_REPORT], 1, im->max_version);
	return step(im, S_REPORT);
}

/* Version, TN, reason and (SOA) status: what decides routing. */
static enum line_rc sv_key(struct imp *im, struct sv *sv)
{
	const char *s;
	size_t len;
	uint64_t v;
	int rc;

	s = fv(im, 0, &len);
	if (len == 0 || len > 18 || digits_parse(s, len, (unsigned)len, &v) != 0)
		return bad(im, "field 0: version id is not a number");
	sv->version = (int64_t)v;
	s = fv(im, 1, &len);
	if ((rc = tn_parse_dashed(s, len, &sv->tn)) != TN_OK)
		return bad(im, "field 1: TN %s", tn_reason(rc));
	s = fv(im, 17, &len);
	if ((sv->reason = reason_parse(s, len)) == R_BAD)
		return bad(im, "field 17: unknown download reason");
	if (im->layout == LAY_SV_LSMS) {
		if (sv->reason == R_NONE)
			return bad(im, "field 17: download reason is empty");
		sv->status = 1;
		sv->routes = sv->reason != R_DELETE;
		sv->removes = sv->reason == R_DELETE;
		return LINE_OK;
	}
	s = fv(im, 20, &len);
	if ((sv->status = code_digit(s, len, 0, 9)) < 0)
		return bad(im, "field 20: status is not a code 0-9");
	/* old (7) ends the SV's life: snap back to the code or block holder. */
	sv->removes = sv->reason == R_DELETE || sv->status == 7;
	sv->routes = !sv->removes && (sv->status == 1 || sv->status == 5 || sv->status == 6);
	return LINE_OK;
}

static enum line_rc sv_route(struct imp *im, struct sv *sv)
{
	const char *s;
	size_t len;
	int rc;

	s = fv(im, 2, &len);
	if ((rc = tn_parse_dashed(s, len, &sv->lrn)) != TN_OK)
		return bad(im, "field 2: LRN %s", tn_reason(rc));
	sv->spid = fv(im, 3, &len);
	if (!alnum_n(sv->spid, len, 4))
		return bad(im, "field 3: SPID is not 4 letters or digits");
	s = fv(im, 4, &len);
	sv->activated[0] = '\0';
	if (len && ts14_norm(s, len, sv->activated) != 0)
		return bad(im, "field 4: not a YYYYMMDDHHMMSS timestamp");
	if (dpc_pairs(im, 5, 4) != LINE_OK || dpc_pairs(im, 18, 1) != LINE_OK)
		return LINE_BAD;
	sv->cnam_dpc = fv(im, 11, &len);
	s = fv(im, 12, &len);
	ssn_ok(s, len, &sv->cnam_ssn);
	s = fv(im, 16, &len);
	if ((sv->lnp_type = code_digit(s, len, 0, 2)) == -2)
		return bad(im, "field 16: LNP type is not 0, 1 or 2");
	s = fv(im, 41, &len);
	if ((sv->sv_type = code_digit(s, len, 0, 6)) == -2)
		return bad(im, "field 41: SV type is not 0-6");
	sv->alt_spid = fv(im, 42, &len);
	if (len && !alnum_n(sv->alt_spid, len, 4))
		return bad(im, "field 42: alt SPID is not 4 letters or digits");
	return LINE_OK;
}

static void bind_opt_int(sqlite3_stmt *st, int i, int v)
{
	if (v < 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_int(st, i, v);
}

static enum line_rc sv_put(struct imp *im, const struct sv *sv)
{
	sqlite3_stmt *st = im->st[S_PUT];

	sqlite3_bind_int64(st, 1, (int64_t)sv->tn);
	sqlite3_bind_int64(st, 2, (int64_t)sv->lrn);
	bind_text(st, 3, sv->spid, 4);
	sqlite3_bind_int64(st, 4, sv->version);
	sqlite3_bind_int(st, 5, sv->status);
	bind_copy(st, 6, sv->activated);
	bind_text(st, 7, sv->cnam_dpc, strlen(sv->cnam_dpc));
	bind_opt_int(st, 8, sv->cnam_ssn);
	bind_opt_int(st, 9, sv->lnp_type);
	bind_opt_int(st, 10, sv->sv_type);
	bind_text(st, 11, sv->alt_spid, strlen(sv->alt_spid));
	if (step(im, S_PUT) != 0)
		return LINE_FAIL;
	if (sqlite3_changes(im->db) == 0)
		return LINE_OK; /* already there, or superseded */
	im->res.changed++;
	sqlite3_bind_int64(im->st[S_PUT2], 1, (int64_t)sv->tn);
	sqlite3_bind_int64(im->st[S_PUT2], 2, sv->version);
	return step(im, S_PUT2) == 0 ? LINE_OK : LINE_FAIL;
}

static enum line_rc sv_remove(struct imp *im, const struct sv *sv)
{
	for (int k = 0; k < 2; k++) {
		enum stmt_slot slot = k == 0 ? S_DEL : S_KEY;

		sqlite3_bind_int64(im->st[slot], 1, (int64_t)sv->tn);
		sqlite3_bind_int64(im->st[slot], 2, sv->version);
		if (step(im, slot) != 0)
			return LINE_FAIL;
		if (k == 0)
			im->res.removed += sqlite3_changes(im->db);
		im->res.changed += sqlite3_changes(im->db);
	}
	return LINE_OK;
}

/* The layout is fixed by the first data line: 18 or 20 fields LSMS, 21+ SOA. */
static enum line_rc ported_layout(struct imp *im)
{
	int n = im->f.n;

	if (im->layout == LAY_NONE) {
		if (n == 18 || n == 20)
			im->layout = LAY_SV_LSMS;
		else if (n >= 21)
			im->layout = LAY_SV_SOA;
		else
			return bad(im, "%d fields: neither LSMS (18 or 20) nor SOA (21+)", n);
	}
	if (im->layout == LAY_SV_LSMS && n != 18 && n != 20)
		return bad(im, "%d fields: an LSMS record has 18 or 20", n);
	if (im->layout == LAY_SV_SOA && n < 21)
		return bad(im, "%d fields: a SOA record has at least 21", n);
	return LINE_OK;
}

static enum line_rc ported_line(struct imp *im, char *line, size_t len)
{
	struct sv sv;
	long stale;

	memset(&sv, 0, sizeof(sv));
	if (split(im, line, len, '|') != LINE_OK || ported_layout(im) != LINE_OK ||
	    sv_key(im, &sv) != LINE_OK)
		return LINE_BAD;
	if (sv.version > im->max_version)
		im->max_version = sv.version;
	sqlite3_bind_int64(im->st[S_COUNT], 1, (int64_t)sv.tn);
	sqlite3_bind_int64(im->st[S_COUNT], 2, sv.version);
	sqlite3_bind_int64(im->st[S_COUNT], 3, im->watermark);
	if (step_int(im, S_COUNT, &stale) != 0)
		return LINE_FAIL;
	if (stale)
		return LINE_OK; /* at or below the watermark: folded, or a replay */
	if (sv.removes)
		return sv_remove(im, &sv);
	if (!sv.routes)
		return LINE_OK; /* pending, conflict, canceled ...: never routed */
	if (sv_route(im, &sv) != LINE_OK)
		return LINE_BAD;
	return sv_put(im, &sv);
}

/* -------------------------------------------------------------------- cnam */

/* A first line whose first field is word (case aside) is a header. */
static bool opt_header(struct imp *im, const char *word)
{
	bool first = !im->header_done;

	im->header_done = true;
	return first && im->f.n > 0 && same(im->f.v[0], im->f.len[0], word);
}

static int cnam_begin(struct imp *im)
{
	return prep(im, S_PUT, "INSERT OR REPLACE INTO cnam (tn, name, restricted) "
			       "VALUES (?, ?, ?)");
}

static enum line_rc cnam_line(struct imp *im, char *line, size_t len)
{
	sqlite3_stmt *st = im->st[S_PUT];
	const char *s;
	size_t n;
	uint64_t tn;
	int rc, restricted = 0;

	if (split(im, line, len, ',') != LINE_OK)
		return LINE_BAD;
	if (opt_header(im, "tn"))
		return LINE_SKIP;
	if (im->f.n < 2 || im->f.n > 3)
		return bad(im, "expected tn,name[,presentation]");
	if ((rc = tn_parse_dashed(im->f.v[0], im->f.len[0], &tn)) != TN_OK)
		return bad(im, "tn: %s", tn_reason(rc));
	s = fv(im, 1, &n);
	if (n == 0 || n > 15)
		return bad(im, "name must be 1 to 15 characters, not %zu", n);
	if (!text_printable_ascii(s, n))
		return bad(im, "name is not printable ASCII");
	bind_text(st, 2, s, n);
	s = fv(im, 2, &n);
	if (same(s, n, "restricted"))
		restricted = 1;
	else if (n && !same(s, n, "allowed"))
		return bad(im, "presentation is not allowed or restricted");
	sqlite3_bind_int64(st, 1, (int64_t)tn);
	sqlite3_bind_int(st, 3, restricted);
	return step(im, S_PUT) == 0 ? LINE_OK : LINE_FAIL;
}

/* --------------------------------------------------------------------- dnc */

#define DNC_SPAN 10000000LL

static int dnc_begin(struct imp *im)
{
	if (keys_begin(im, false) != 0)
		return -1;
	if (prep(im, S_SWEEP, "DELETE FROM dnc WHERE tn BETWEEN ? AND ? AND "
			      "tn NOT IN (SELECT k FROM temp.import_keys)"))
		return -1;
	if (prep(im, S_COUNT, "SELECT count(*) FROM dnc WHERE tn BETWEEN ? AND ?"))
		return -1;
	if (prep(im, S_REPORT, "INSERT OR REPLACE INTO dnc_report (npa, old_count, "
			       "new_count, updated) VALUES (?, ?, ?, ?)"))
		return -1;
	return prep(im, S_PUT, "INSERT OR IGNORE INTO dnc (tn) VALUES (?)");
}

static int dnc_count(struct imp *im, unsigned npa, long *out)
{
	sqlite3_bind_int64(im->st[S_COUNT], 1, npa * DNC_SPAN);
	sqlite3_bind_int64(im->st[S_COUNT], 2, npa * DNC_SPAN + DNC_SPAN - 1);
	return step_int(im, S_COUNT, out);
}

/* "NPANXXXXXX" (or NPA-NXX-XXXX) alone, or "NPA,NXXXXXX". */
static enum line_rc dnc_number(struct imp *im, uint64_t *tn)
{
	char d[TN_STR_LEN];
	int rc;

	if (im->f.n == 1) {
		rc = tn_parse_dashed(im->f.v[0], im->f.len[0], tn);
	} else if (im->f.n == 2 && im->f.len[0] == 3 && im->f.len[1] == 7) {
		memcpy(d, im->f.v[0], 3);
		memcpy(d + 3, im->f.v[1], 7);
		rc = tn_parse(d, sizeof(d), tn);
	} else {
		return bad(im, "expected a number or npa,number (3 and 7 digits)");
	}
	return rc == TN_OK ? LINE_OK : bad(im, "%s", tn_reason(rc));
}

static enum line_rc dnc_line(struct imp *im, char *line, size_t len)
{
	uint64_t tn;
	unsigned npa;

	if (split(im, line, len, ',') != LINE_OK || dnc_number(im, &tn) != LINE_OK)
		return LINE_BAD;
	npa = tn_npa(tn);
	if (!im->npa_seen[npa]) {
		if (dnc_count(im, npa, &im->old_count[npa]) != 0)
			return LINE_FAIL;
		im->npa_seen[npa] = 1;
	}
	sqlite3_bind_int64(im->st[S_PUT], 1, (int64_t)tn);
	if (step(im, S_PUT) != 0 || key_int(im, (int64_t)tn) != 0)
		return LINE_FAIL;
	return LINE_OK;
}

static int dnc_end(struct imp *im)
{
	char now[32];
	long count;

	clock_format_rfc3339(clock_now(), now, sizeof(now));
	if (sweep_npas(im, DNC_SPAN) != 0)
		return -1;
	for (unsigned npa = 0; npa < N_NPA; npa++) {
		if (!im->npa_seen[npa])
			continue;
		if (dnc_count(im, npa, &count) != 0)
			return -1;
		sqlite3_bind_int(im->st[S_REPORT], 1, (int)npa);
		sqlite3_bind_int64(im->st[S_REPORT], 2, im->old_count[npa]);
		sqlite3_bind_int64(im->st[S_REPORT], 3, count);
		sqlite3_bind_text(im->st[S_REPORT], 4, now, -1, SQLITE_TRANSIENT);
		if (step(im, S_REPORT) != 0)
			return -1;
	}
	return 0;
}

/* --------------------------------------------------------------------- dno */

static int dno_begin(struct imp *im)
{
	if (keys_begin(im, true) != 0)
		return -1;
	if (prep(im, S_SWEEP, "DELETE FROM dno WHERE pattern NOT IN "
			      "(SELECT k FROM temp.import_keys)"))
		return -1;
	return prep(im, S_PUT, "INSERT OR REPLACE INTO dno (pattern, source) VALUES (?, ?)");
}

static enum line_rc dno_line(struct imp *im, char *line, size_t len)
{
	const char *p, *src;
	size_t plen, slen;
	uint64_t v;

	if (split(im, line, len, ',') != LINE_OK)
		return LINE_BAD;
	if (opt_header(im, "pattern"))
		return LINE_SKIP;
	if (im->f.n != 2)
		return bad(im, "expected pattern,source");
	p = fv(im, 0, &plen);
	if ((plen != 3 && plen != 6 && plen != 7 && plen != 10) ||
	    digits_parse(p, plen, (unsigned)plen, &v) != 0)
		return bad(im, "pattern is not 3, 6, 7 or 10 digits");
	src = fv(im, 1, &slen);
	if (slen == 0 || slen > 64 || !text_printable_ascii(src, slen))
		return bad(im, "source must be 1 to 64 printable characters");
	bind_text(im->st[S_PUT], 1, p, plen);
	bind_text(im->st[S_PUT], 2, src, slen);
	if (step(im, S_PUT) != 0)
		return LINE_FAIL;
	sqlite3_bind_text(im->st[S_KEY], 1, p, (int)plen, SQLITE_STATIC);
	return step(im, S_KEY) == 0 ? LINE_OK : LINE_FAIL;
}

/* --------------------------------------------------------------------- ror */

static int ror_begin(struct imp *im)
{
	return prep(im, S_PUT, "INSERT OR REPLACE INTO tollfree (crn, ror, status) "
			       "VALUES (?, ?, ?)");
}

/* A RespOrg id: 2 letters (the entity) and 3 letters or digits. */
static bool ror_ok(char *s, size_t len)
{
	if (len != 5 || !isalpha((unsigned char)s[0]) || !isalpha((unsigned char)s[1]) ||
	    !alnum_n(s + 2, 3, 3))
		return false;
	for (size_t i = 0; i < len; i++)
		s[i] = (char)toupper((unsigned char)s[i]);
	return true;
}

static enum line_rc ror_line(struct imp *im, char *line, size_t len)
{
	sqlite3_stmt *st = im->st[S_PUT];
	const char *s;
	size_t n;
	uint64_t crn;
	int rc;

	if (split(im, line, len, ',') != LINE_OK)
		return LINE_BAD;
	if (opt_header(im, "crn"))
		return LINE_SKIP;
	if (im->f.n < 2 || im->f.n > 3)
		return bad(im, "expected crn,ror[,status]");
	if ((rc = tn_parse_dashed(im->f.v[0], im->f.len[0], &crn)) != TN_OK)
		return bad(im, "crn: %s", tn_reason(rc));
	if (!tn_npa_tollfree(tn_npa(crn)))
		return bad(im, "crn is not a toll-free number");
	if (!ror_ok(im->f.v[1], im->f.len[1]))
		return bad(im, "ror is not 2 letters and 3 letters or digits");
	s = fv(im, 2, &n);
	if (n > 32 || !text_printable_ascii(s, n))
		return bad(im, "status must be at most 32 printable characters");
	sqlite3_bind_int64(st, 1, (int64_t)crn);
	bind_text(st, 2, im->f.v[1], 5);
	bind_text(st, 3, s, n);
	return step(im, S_PUT) == 0 ? LINE_OK : LINE_FAIL;
}

/* --------------------------------------------------------------------- cpr */

static int cpr_begin(struct imp *im)
{
	return prep(im, S_PUT, "INSERT OR REPLACE INTO cpr (crn, record) VALUES (?, ?)");
}

/* ------------------------------------------------------------------ tables */

static const struct kind_ops kinds[] = {
	[IMPORT_NPA] = { "npa", npa_begin, npa_line, sweep_all },
	[IMPORT_COCODE] = { "cocode", cocode_begin, cocode_line, cocode_end },
	[IMPORT_BLOCKS] = { "blocks", blocks_begin, blocks_line, blocks_end },
	[IMPORT_PORTED] = { "ported", ported_begin, ported_line, ported_end },
	[IMPORT_CNAM] = { "cnam", cnam_begin, cnam_line, NULL },
	[IMPORT_DNC] = { "dnc", dnc_begin, dnc_line, dnc_end },
	[IMPORT_DNO] = { "dno", dno_begin, dno_line, sweep_all },
	[IMPORT_ROR] = { "ror", ror_begin, ror_line, NULL },
	[IMPORT_CPR] = { "cpr", cpr_begin, NULL, NULL },
};

#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

void import_opts_default(struct import_opts *opts)
{
	opts->max_errors = 100;
	opts->max_error_rate = 0.01;
	opts->report = stderr;
	opts->max_reported = 20;
	opts->progress = false;
}

int import_kind_parse(const char *name)
{
	for (int k = 0; name != NULL && k < N_KINDS; k++)
		if (strcmp(name, kinds[k].name) == 0)
			return k;
	return -1;
}

const char *import_kind_name(enum import_kind kind)
{
	return (int)kind >= 0 && (int)kind < N_KINDS ? kinds[kind].name : "unknown";
}

/* ----------------------------------------------------------------- reading */

/* The next physical line. Returns 1, 0 at end of file, -1 on a read error. */
static int reader_next(struct reader *r)
{
	size_t n = 0;
	bool any = false;
	int c;

	r->too_long = false;
	for (;;) {
		c = getc_unlocked(r->fp);
		if (c == '\n' && r->skip_lf && !any) {
			r->skip_lf = false;
			continue;
		}
		r->skip_lf = false;
		if (c == EOF) {
			if (ferror(r->fp))
				return -1;
			if (!any)
				return 0;
			break;
		}
		any = true;
		if (c == '\r') {
			r->skip_lf = true;
			break;
		}
		if (c == '\n')
			break;
		if (n < LINE_MAX_BYTES)
			r->buf[n++] = (char)c;
		else
			r->too_long = true;
	}
	r->buf[n] = '\0';
	r->len = n;
	return 1;
}

/* "path:LINE: why", "path:#INDEX: why" (cpr records) or "path: why" (where < 0). */
static void report(struct imp *im, bool record, long where)
{
	if (im->reported >= im->opts->max_reported) {
		im->unreported++;
		return;
	}
	im->reported++;
	if (where < 0)
		fprintf(im->rep, "%s: %s\n", im->path, im->why);
	else
		fprintf(im->rep, "%s:%s%ld: %s\n", im->path, record ? "#" : "", where, im->why);
}

static void progress(struct imp *im, bool last)
{
	int64_t now = clock_now_ms(), ms;
	long n = im->res.lines;

	if (!im->opts->progress || (!last && now - im->tick_ms < 1000))
		return;
	if (last && !im->progressed)
		return;
	im->tick_ms = now;
	im->progressed = true;
	ms = now - im->t0_ms > 0 ? now - im->t0_ms : 1;
	fprintf(stderr, "%simport %s: %ld records, %.0f records/s%s", im->tty ? "\r" : "",
		import_kind_name(im->kind), n, (double)n * 1000.0 / (double)ms,
		im->tty && !last ? "" : "\n");
	fflush(stderr);
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* One physical line through the kind's parser. */
static enum line_rc line_run(struct imp *im, struct reader *rd)
{
	char *line = rd->buf;
	size_t len = rd->len;

	if (im->lineno == 1 && len >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0) {
		line += 3;
		len -= 3;
	}
	if (rd->too_long)
		return bad(im, "line longer than %d bytes", LINE_MAX_BYTES);
	if (blank(line, len))
		return LINE_SKIP;
	if (memchr(line, '\0', len) != NULL)
		return bad(im, "NUL byte in line");
	return kinds[im->kind].line(im, line, len);
}

/* Count one line's outcome; false when reading must stop. */
static bool line_count(struct imp *im, enum line_rc rc, enum outcome *out)
{
	switch (rc) {
	case LINE_OK:
		im->res.lines++;
		im->res.accepted++;
		break;
	case LINE_SKIP:
		break;
	case LINE_BAD:
		im->res.lines++;
		im->res.rejected++;
		report(im, false, im->lineno);
		/* Past max_errors the outcome is settled; stop reading. */
		if (im->res.rejected > im->opts->max_errors) {
			*out = OUT_REJECTED;
			return false;
		}
		break;
	case LINE_STOP:
		im->res.rejected++;
		report(im, false, im->lineno);
		*out = OUT_REJECTED;
		return false;
	case LINE_FAIL:
		*out = OUT_FAILED;
		return false;
	}
	return true;
}

static enum outcome lines_read(struct imp *im)
{
	struct reader rd = { 0 };
	enum outcome out = OUT_COMMITTED;
	int rc;

	rd.fp = fopen(im->path, "rb");
	rd.buf = malloc(LINE_MAX_BYTES + 1);
	if (rd.fp == NULL || rd.buf == NULL) {
		snprintf(im->why, sizeof(im->why), "cannot open: %s", strerror(errno));
		report(im, false, -1);
		out = OUT_FAILED;
		goto cleanup;
	}
	while ((rc = reader_next(&rd)) > 0) {
		im->lineno++;
		if (!line_count(im, line_run(im, &rd), &out))
			break;
		progress(im, false);
	}
	if (rc < 0) {
		snprintf(im->why, sizeof(im->why), "read error: %s", strerror(errno));
		report(im, false, -1);
		out = OUT_FAILED;
	}
	progress(im, true);
cleanup:
	if (rd.fp)
		fclose(rd.fp);
	free(rd.buf);
	return out;
}

/* ---------------------------------------------------------------- cpr file */

static enum line_rc cpr_record(struct imp *im, json_t *rec)
{
	json_t *jcrn = json_object_get(rec, "crn");
	const char *crn;
	char *text;
	uint64_t tn;
	int rc;

	if (!json_is_object(rec))
		return bad(im, "record is not an object");
	if (!json_is_string(jcrn))
		return bad(im, "\"crn\" is missing or not a string");
	crn = json_string_value(jcrn);
	if ((rc = tn_parse_dashed(crn, strlen(crn), &tn)) != TN_OK)
		return bad(im, "crn: %s", tn_reason(rc));
	if (!tn_npa_tollfree(tn_npa(tn)))
		return bad(im, "crn is not a toll-free number");
	if (cpr_validate(rec, im->why, sizeof(im->why)) != 0)
		return LINE_BAD;
	text = json_dumps(rec, JSON_COMPACT);
	if (text == NULL)
		return LINE_FAIL;
	sqlite3_bind_int64(im->st[S_PUT], 1, (int64_t)tn);
	sqlite3_bind_text(im->st[S_PUT], 2, text, -1, SQLITE_TRANSIENT);
	free(text);
	return step(im, S_PUT) == 0 ? LINE_OK : LINE_FAIL;
}

/* Read the whole file into b, which refuses to grow past CPR_FILE_MAX. */
static int cpr_slurp(struct imp *im, FILE *fp, struct buf *b)
{
	char chunk[64 * 1024];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (buf_append(b, chunk, n) != 0) {
			snprintf(im->why, sizeof(im->why), "file larger than %ld bytes",
				 CPR_FILE_MAX);
			return -1;
		}
	if (ferror(fp)) {
		snprintf(im->why, sizeof(im->why), "read error: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Load the file as a JSON array; NULL with a reported reason. */
static json_t *cpr_load(struct imp *im)
{
	FILE *fp = fopen(im->path, "rb");
	struct buf b;
	json_error_t err;
	json_t *root = NULL;

	buf_init(&b, (size_t)CPR_FILE_MAX);
	if (fp == NULL) {
		snprintf(im->why, sizeof(im->why), "cannot open: %s", strerror(errno));
		goto cleanup;
	}
	if (cpr_slurp(im, fp, &b) != 0)
		goto cleanup;
	root = json_loadb(b.data ? b.data : "", b.len, JSON_REJECT_DUPLICATES, &err);
	if (root == NULL) {
		snprintf(im->why, sizeof(im->why), "line %d: %s", err.line, err.text);
	} else if (!json_is_array(root)) {
		snprintf(im->why, sizeof(im->why), "not a JSON array of CPR records");
		json_decref(root);
		root = NULL;
	}
cleanup:
	if (root == NULL)
		report(im, false, -1);
	if (fp)
		fclose(fp);
	buf_release(&b);
	return root;
}

static enum outcome cpr_read(struct imp *im)
{
	json_t *root = cpr_load(im), *rec;
	enum outcome out = OUT_COMMITTED;
	size_t i;

	if (root == NULL)
		return OUT_FAILED;
	json_array_foreach(root, i, rec) {
		enum line_rc rc = cpr_record(im, rec);

		if (rc == LINE_BAD) {
			im->res.lines++;
			im->res.rejected++;
			report(im, true, (long)i);
			if (im->res.rejected > im->opts->max_errors) {
				out = OUT_REJECTED;
				break;
			}
		} else if (rc == LINE_FAIL) {
			out = OUT_FAILED;
			break;
		} else {
			im->res.lines++;
			im->res.accepted++;
		}
		progress(im, false);
	}
	progress(im, true);
	json_decref(root);
	return out;
}

/* ------------------------------------------------------------------ driver */

static bool over_threshold(const struct imp *im)
{
	const struct import_result *r = &im->res;

	return r->rejected > im->opts->max_errors ||
	       (double)r->rejected > im->opts->max_error_rate * (double)r->lines;
}

static const char *const outcome_names[] = { "committed", "rejected", "failed" };

static int log_import(struct imp *im, enum outcome out, int64_t started)
{
	static const char sql[] = "INSERT INTO import_log (kind, file, started, finished, "
				  "lines, accepted, rejected, outcome) "
				  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	char t0[32], t1[32];
	sqlite3_stmt *st;
	int rc;

	clock_format_rfc3339(started, t0, sizeof(t0));
	clock_format_rfc3339(clock_now(), t1, sizeof(t1));
	if (sqlite3_prepare_v2(im->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, import_kind_name(im->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, im->path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t0, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t1, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, im->res.lines);
	sqlite3_bind_int64(st, 6, im->res.accepted);
	sqlite3_bind_int64(st, 7, im->res.rejected);
	sqlite3_bind_text(st, 8, outcome_names[out], -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

static void stmts_free(struct imp *im)
{
	for (int i = 0; i < S_MAX; i++) {
		sqlite3_finalize(im->st[i]);
		im->st[i] = NULL;
	}
}

/* Read the file into the open transaction and decide its outcome. */
static enum outcome import_body(struct imp *im)
{
	const struct kind_ops *ops = &kinds[im->kind];
	enum outcome out;

	if (ops->begin(im) != 0)
		return OUT_FAILED;
	out = im->kind == IMPORT_CPR ? cpr_read(im) : lines_read(im);
	if (out == OUT_COMMITTED && im->res.lines == 0) {
		snprintf(im->why, sizeof(im->why), "no data lines");
		report(im, false, -1);
		out = OUT_REJECTED;
	}
	if (out == OUT_COMMITTED && over_threshold(im))
		out = OUT_REJECTED;
	if (out == OUT_COMMITTED && ops->end && ops->end(im) != 0)
		out = OUT_FAILED;
	return out;
}

static enum outcome import_txn(struct imp *im, int64_t started)
{
	enum outcome out;

	if (imp_exec(im, "BEGIN IMMEDIATE") != 0)
		return OUT_FAILED;
	out = import_body(im);
	stmts_free(im);
	if (out == OUT_COMMITTED &&
	    (log_import(im, out, started) != 0 || imp_exec(im, "COMMIT") != 0))
		out = OUT_FAILED;
	if (out != OUT_COMMITTED) {
		sqlite3_exec(im->db, "ROLLBACK", NULL, NULL, NULL);
		im->res.removed = 0;
		im->res.changed = 0;
		if (log_import(im, out, started) != 0)
			log_warn("import not recorded in import_log", "err=\"%s\"",
				 sqlite3_errmsg(im->db));
	}
	sqlite3_exec(im->db, "DROP TABLE IF EXISTS temp.import_keys", NULL, NULL, NULL);
	return out;
}

static void import_summary(struct imp *im, enum outcome out, int64_t t0_ms)
{
	long more = im->unreported;
	long long ms = (long long)(clock_now_ms() - t0_ms);

	if (more > 0)
		fprintf(im->rep, "%s: ... and %ld more\n", im->path, more);
	if (out == OUT_COMMITTED)
		log_info("import committed", "kind=%s file=%s lines=%ld accepted=%ld "
			 "rejected=%ld removed=%ld ms=%lld", import_kind_name(im->kind),
			 im->path, im->res.lines, im->res.accepted, im->res.rejected,
			 im->res.removed, ms);
	else
		log_warn(out == OUT_REJECTED ? "import rejected" : "import failed",
			 "kind=%s file=%s lines=%ld accepted=%ld rejected=%ld ms=%lld",
			 import_kind_name(im->kind), im->path, im->res.lines,
			 im->res.accepted, im->res.rejected, ms);
}

int import_file(sqlite3 *db, enum import_kind kind, const char *path,
		const struct import_opts *opts, struct import_result *res)
{
	struct import_opts defaults;
	enum outcome out;
	struct imp *im;
	int64_t started = clock_now();

	memset(res, 0, sizeof(*res));
	if (opts == NULL) {
		import_opts_default(&defaults);
		opts = &defaults;
	}
	if (db == NULL || path == NULL || (int)kind < 0 || (int)kind >= N_KINDS)
		return -1;
	im = calloc(1, sizeof(*im));
	if (im == NULL)
		return -1;
	im->db = db;
	im->kind = kind;
	im->path = path;
	im->opts = opts;
	im->rep = opts->report ? opts->report : stderr;
	im->t0_ms = im->tick_ms = clock_now_ms();
	im->tty = isatty(fileno(stderr)) == 1;
	clock_format_rfc3339(started, im->today, sizeof(im->today));
	out = import_txn(im, started);
	import_summary(im, out, im->t0_ms);
	im->res.committed = out == OUT_COMMITTED;
	*res = im->res;
	free(im);
	return out == OUT_COMMITTED ? 0 : -1;
}
