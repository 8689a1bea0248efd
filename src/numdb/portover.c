/* portover.c - full refresh, single changes and folds of the ported numbers.
 *
 * A refresh reads the BDD file with its own line scanner (the file can hold
 * hundreds of millions of lines), packs each routed or deleted number into
 * one 64-bit word (number << 30 | profile id), sorts the words by number
 * with a stable radix sort so the last line for a number wins, and streams
 * them into a portstore builder.
 */
#include "portover.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/clock.h"
#include "../base/log.h"
#include "../base/tn.h"
#include "portstore.h"
#include "store.h"

#define PID_BITS 30
#define PID_GONE ((1u << PID_BITS) - 1u) /* a deleted number, not a profile */
#define MAX_FIELDS 64
#define CHUNK (8u << 20)
#define LINE_MAX_BYTES (64u * 1024u)

/* ---- paths and single changes ---- */

int portover_path(sqlite3 *db, char *out, size_t outlen)
{
	const char *f = sqlite3_db_filename(db, "main");
	char copy[512];
	int n;

	if (f == NULL || f[0] == '\0' || strlen(f) >= sizeof(copy))
		return -1;
	snprintf(copy, sizeof(copy), "%s", f);
	n = snprintf(out, outlen, "%s/%s", dirname(copy), PORTOVER_FILE);
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int portover_watermark(sqlite3 *db, int64_t *out)
{
	struct portstore_info info;
	sqlite3_stmt *st;
	char gen[600];
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, "SELECT max_version FROM ported_state WHERE id = 1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (v < 0)
		return -1;
	if (portover_path(db, gen, sizeof(gen)) == 0 && portstore_peek(gen, &info) == 0 &&
	    (int64_t)info.max_version > v)
		v = (int64_t)info.max_version;
	*out = v;
	return 0;
}

/*
 * One builder of the generation file at a time (folds from ringerd and
 * ringer, refreshes): they share path.tmp. Blocks; returns the lock's fd.
 */
static int gen_lock(const char *gen)
{
	char path[620];
	int fd;

	snprintf(path, sizeof(path), "%s.lock", gen);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

static void gen_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

/* The statements of one update transaction, prepared once for all its changes. */
enum { A_STALE, A_PUT, A_UNGONE, A_DEL, A_GONE, A_MAXV, A_N };

struct applier {
	sqlite3 *db;
	sqlite3_stmt *st[A_N];
	int64_t watermark, max_version;
	long changed;
};

static int applier_init(struct applier *a, sqlite3 *db)
{
	static const char *const sql[A_N] = {
		PORTOVER_SQL_STALE, PORTOVER_SQL_PUT, PORTOVER_SQL_UNGONE,
		PORTOVER_SQL_DEL,   PORTOVER_SQL_GONE, PORTOVER_SQL_MAXV,
	};

	memset(a, 0, sizeof(*a));
	a->db = db;
	for (int i = 0; i < A_N; i++)
		if (sqlite3_prepare_v2(db, sql[i], -1, &a->st[i], NULL) != SQLITE_OK)
			return -1;
	return 0;
}

static void applier_free(struct applier *a)
{
	for (int i = 0; i < A_N; i++)
		sqlite3_finalize(a->st[i]);
}

/* Step statement i with (tn, version) bound; adds its row changes to *n. */
static int step_tv(struct applier *a, int i, const struct port_change *c, long *n)
{
	sqlite3_stmt *st = a->st[i];
	int rc;

	sqlite3_bind_int64(st, 1, (int64_t)c->tn);
	sqlite3_bind_int64(st, 2, c->version);
	if (i == A_STALE)
		sqlite3_bind_int64(st, 3, a->watermark);
	rc = sqlite3_step(st);
	if (i == A_STALE && rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0)
		*n = 1;
	else if (rc == SQLITE_DONE && n)
		*n += sqlite3_changes(a->db);
	sqlite3_reset(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

static int apply_put(struct applier *a, const struct port_change *c, long *n)
{
	sqlite3_stmt *st = a->st[A_PUT];
	int rc;

	sqlite3_bind_int64(st, 1, (int64_t)c->tn);
	sqlite3_bind_int64(st, 2, (int64_t)c->lrn);
	sqlite3_bind_text(st, 3, c->spid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->version);
	sqlite3_bind_int(st, 5, 1);
	sqlite3_bind_text(st, 7, c->cnam_dpc, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		*n += sqlite3_changes(a->db);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	return *n > 0 ? step_tv(a, A_UNGONE, c, NULL) : 0;
}

/* One change inside the transaction; a->changed counts it when it changed a row. */
static int apply_one(struct applier *a, const struct port_change *c)
{
	long stale = 0, n = 0;

	if (c->tn > 9999999999ull || c->version < 0 ||
	    (!c->deleted && (strlen(c->spid) != 4 || c->lrn > 9999999999ull)))
		return -1;
	if (step_tv(a, A_STALE, c, &stale) != 0)
		return -1;
	if (c->version > a->max_version)
		a->max_version = c->version;
	if (stale)
		return 0; /* at or below the watermark: folded, or a replay */
	if (c->deleted) {
		if (step_tv(a, A_DEL, c, &n) != 0 || step_tv(a, A_GONE, c, &n) != 0)
			return -1;
	} else if (apply_put(a, c, &n) != 0) {
		return -1;
	}
	a->changed += n > 0;
	return 0;
}

int portover_apply_batch(sqlite3 *db, const struct port_change *c, size_t n, long *changed)
{
	struct applier a;
	int rc = -1;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	if (applier_init(&a, db) != 0 || portover_watermark(db, &a.watermark) != 0 ||
	    sqlite3_exec(db, PORTOVER_SQL_BEGIN, NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (apply_one(&a, &c[i]) != 0)
			goto out;
	sqlite3_bind_int64(a.st[A_MAXV], 1, a.max_version);
	if (sqlite3_step(a.st[A_MAXV]) == SQLITE_DONE &&
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		rc = 0;
out:
	applier_free(&a);
	if (rc != 0) {
		log_error("ported change failed", "err=\"%s\"", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (changed)
		*changed = a.changed;
	return 0;
}

int portover_apply(sqlite3 *db, const struct port_change *c)
{
	long changed = 0;

	if (portover_apply_batch(db, c, 1, &changed) != 0)
		return -1;
	return changed > 0 ? 1 : 0;
}

/* ---- the profile table of a build ---- */

struct intern {
	struct port_profile *v;
	uint32_t n, cap;
	uint32_t *slots; /* id + 1, 0 = empty */
	uint32_t mask;
};

static uint64_t profile_hash(const struct port_profile *p)
{
	uint64_t h = p->lrn * 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; p->spid[i] && i < 4; i++)
		h = (h ^ (unsigned char)p->spid[i]) * 0x100000001b3ull;
	for (size_t i = 0; p->cnam_dpc[i] && i < 9; i++)
		h = (h ^ (unsigned char)p->cnam_dpc[i]) * 0x100000001b3ull;
	return h ^ (h >> 31);
}

static bool profile_eq(const struct port_profile *a, const struct port_profile *b)
{
	return a->lrn == b->lrn && strcmp(a->spid, b->spid) == 0 &&
	       strcmp(a->cnam_dpc, b->cnam_dpc) == 0;
}

static int intern_rehash(struct intern *t)
{
	uint32_t size = t->mask ? (t->mask + 1) * 2 : 1024;
	uint32_t *s = calloc(size, sizeof(*s));

	if (s == NULL)
		return -1;
	for (uint32_t id = 0; id < t->n; id++) {
		uint32_t i = (uint32_t)profile_hash(&t->v[id]) & (size - 1);

		while (s[i])
			i = (i + 1) & (size - 1);
		s[i] = id + 1;
	}
	free(t->slots);
	t->slots = s;
	t->mask = size - 1;
	return 0;
}

static int intern_get(struct intern *t, const struct port_profile *p, uint32_t *id)
{
	uint32_t i;

	if ((t->n + 1) * 2 > t->mask && intern_rehash(t) != 0)
		return -1;
	for (i = (uint32_t)profile_hash(p) & t->mask; t->slots[i]; i = (i + 1) & t->mask)
		if (profile_eq(&t->v[t->slots[i] - 1], p)) {
			*id = t->slots[i] - 1;
			return 0;
		}
	if (t->n >= PID_GONE)
		return -1;
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 1024;
		struct port_profile *v = realloc(t->v, (size_t)cap * sizeof(*v));

		if (v == NULL)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	memset(&t->v[t->n], 0, sizeof(*t->v));
	t->v[t->n] = *p;
	t->slots[i] = t->n + 1;
	*id = t->n++;
	return 0;
}

static void intern_free(struct intern *t)
{
	free(t->v);
	free(t->slots);
}

/* ---- reading a BDD file fast ---- */

struct refresh {
	const char *path;
	const struct import_opts *opts;
	FILE *rep;
	struct import_result res;
	struct intern prof;
	uint64_t *recs;
	size_t n, cap;
	bool sorted, soa, layout_known;
	int64_t max_version;
	long lineno, reported, unreported;
	char why[160];
	/* progress */
	int64_t t0_ms, tick_ms;
	uint64_t bytes, total_bytes;
	bool tty;
};

struct line {
	const char *f[MAX_FIELDS];
	size_t len[MAX_FIELDS];
	int n;
};

static void split_pipes(const char *s, size_t len, struct line *l)
{
	const char *end = s + len, *p = s;

	l->n = 0;
	for (;;) {
		const char *bar = memchr(p, '|', (size_t)(end - p));
		const char *stop = bar ? bar : end;

		if (l->n < MAX_FIELDS) {
			l->f[l->n] = p;
			l->len[l->n] = (size_t)(stop - p);
		}
		l->n++;
		if (bar == NULL)
			break;
		p = bar + 1;
	}
	for (int i = 0; i < l->n && i < MAX_FIELDS; i++) {
		while (l->len[i] && l->f[i][0] == ' ') {
			l->f[i]++;
			l->len[i]--;
		}
		while (l->len[i] && l->f[i][l->len[i] - 1] == ' ')
			l->len[i]--;
	}
}

static size_t fl(const struct line *l, int i, const char **s)
{
	if (i >= l->n || i >= MAX_FIELDS) {
		*s = "";
		return 0;
	}
	*s = l->f[i];
	return l->len[i];
}

static int tn_at(const struct line *l, int i, uint64_t *out)
{
	const char *s;
	size_t len = fl(l, i, &s);

	return tn_parse_dashed(s, len, out);
}

static bool word(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

/* Download reason: 0 new, 1 delete, 2 modified; -1 empty; -2 malformed. */
static int reason_at(const struct line *l, int i)
{
	const char *s;
	size_t len = fl(l, i, &s);

	if (len == 0)
		return -1;
	if (word(s, len, "0") || word(s, len, "new"))
		return 0;
	if (word(s, len, "1") || word(s, len, "delete") || word(s, len, "deleted"))
		return 1;
	if (word(s, len, "2") || word(s, len, "modified") || word(s, len, "modify"))
		return 2;
	return -2;
}

static bool dpc_at(const struct line *l, int i, char out[10])
{
	const char *s;
	size_t len = fl(l, i, &s);
	uint64_t v;

	out[0] = '\0';
	if (len == 0)
		return true;
	if (digits_parse(s, len, 9, &v) != 0 || v / 1000000 > 255 || v / 1000 % 1000 > 255 ||
	    v % 1000 > 255)
		return false;
	memcpy(out, s, 9);
	out[9] = '\0';
	return true;
}

static int why(struct refresh *r, const char *text)
{
	snprintf(r->why, sizeof(r->why), "%s", text);
	return -1;
}

/* Routing action of a line: 1 routes, 0 removes, 2 ignored; -1 bad. */
static int line_action(struct refresh *r, const struct line *l)
{
	const char *s;
	size_t len;
	int reason, status;

	if (!r->layout_known) {
		if (l->n != 18 && l->n != 20 && l->n < 21)
			return why(r, "neither an LSMS (18 or 20 fields) nor a SOA (21+) record");
		r->soa = l->n >= 21;
		r->layout_known = true;
	}
	if (r->soa ? l->n < 21 : (l->n != 18 && l->n != 20))
		return why(r, r->soa ? "a SOA record has at least 21 fields"
				     : "an LSMS record has 18 or 20 fields");
	if ((reason = reason_at(l, 17)) == -2 || (!r->soa && reason == -1))
		return why(r, "field 17: unknown or empty download reason");
	if (!r->soa)
		return reason == 1 ? 0 : 1;
	len = fl(l, 20, &s);
	if (len != 1 || s[0] < '0' || s[0] > '9')
		return why(r, "field 20: status is not a code 0-9");
	status = s[0] - '0';
	if (reason == 1 || status == 7)
		return 0;
	return status == 1 || status == 5 || status == 6 ? 1 : 2;
}

static int rec_push(struct refresh *r, uint64_t tn, uint32_t pid)
{
	uint64_t v = tn << PID_BITS | pid;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 1u << 16;
		uint64_t *a = realloc(r->recs, cap * sizeof(*a));

		if (a == NULL)
			return -1;
		r->recs = a;
		r->cap = cap;
	}
	if (r->n && (r->recs[r->n - 1] >> PID_BITS) >= tn)
		r->sorted = false;
	r->recs[r->n++] = v;
	return 0;
}

/* One data line: 0 accepted, -1 rejected (r->why), -2 out of memory. */
static int refresh_line(struct refresh *r, const char *s, size_t len)
{
	struct line l;
	struct port_profile p;
	uint64_t tn, v;
	uint32_t pid = PID_GONE;
	const char *f;
	size_t n;
	int act;

	split_pipes(s, len, &l);
	if ((act = line_action(r, &l)) < 0)
		return -1;
	n = fl(&l, 0, &f);
	if (n == 0 || n > 18 || digits_parse(f, n, (unsigned)n, &v) != 0)
		return why(r, "field 0: version id is not a number");
	if (tn_at(&l, 1, &tn) != TN_OK)
		return why(r, "field 1: not a valid NANP number");
	if ((int64_t)v > r->max_version)
		r->max_version = (int64_t)v;
	if (act == 2)
		return 0;
	if (act == 1) {
		memset(&p, 0, sizeof(p));
		if (tn_at(&l, 2, &p.lrn) != TN_OK)
			return why(r, "field 2: LRN is not a valid NANP number");
		n = fl(&l, 3, &f);
		if (n != 4 || !isalnum((unsigned char)f[0]) || !isalnum((unsigned char)f[1]) ||
		    !isalnum((unsigned char)f[2]) || !isalnum((unsigned char)f[3]))
			return why(r, "field 3: SPID is not 4 letters or digits");
		memcpy(p.spid, f, 4);
		if (!dpc_at(&l, 11, p.cnam_dpc))
			return why(r, "field 11: CNAM DPC is not a point code");
		if (intern_get(&r->prof, &p, &pid) != 0)
			return -2;
	}
	return rec_push(r, tn, pid) == 0 ? 0 : -2;
}

static void refresh_report(struct refresh *r)
{
	if (r->reported >= r->opts->max_reported) {
		r->unreported++;
		return;
	}
	r->reported++;
	fprintf(r->rep, "%s:%ld: %s\n", r->path, r->lineno, r->why);
}

static void refresh_progress(struct refresh *r, bool last)
{
	int64_t now = clock_now_ms(), ms;
	double rate, eta;

	if (!r->opts->progress || (!last && now - r->tick_ms < 1000) ||
	    (last && r->tick_ms == r->t0_ms))
		return;
	r->tick_ms = now;
	ms = now - r->t0_ms > 0 ? now - r->t0_ms : 1;
	rate = (double)r->res.lines * 1000.0 / (double)ms;
	eta = r->bytes ? (double)(r->total_bytes - r->bytes) * (double)ms / 1000.0 /
				 (double)r->bytes : 0;
	if (r->total_bytes == 0) /* a pipe: no size, no ETA */
		fprintf(stderr, "%srefresh ported: %ld records, %.0f records/s%s",
			r->tty ? "\r" : "", r->res.lines, rate, r->tty && !last ? "" : "\n");
	else
		fprintf(stderr,
			"%srefresh ported: %ld records, %.0f records/s, %.0f%%, ETA %.0f s%s",
			r->tty ? "\r" : "", r->res.lines, rate,
			100.0 * (double)r->bytes / (double)r->total_bytes, last ? 0.0 : eta,
			r->tty && !last ? "" : "\n");
	fflush(stderr);
}

static bool blank_line(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* Count one line; false when reading must stop. */
static bool refresh_count(struct refresh *r, const char *s, size_t len, int *fatal)
{
	int rc;

	r->lineno++;
	if (r->lineno == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		len -= 3;
	}
	if (blank_line(s, len))
		return true;
	r->res.lines++;
	if (len > LINE_MAX_BYTES)
		rc = why(r, "line too long");
	else if (memchr(s, '\0', len) != NULL)
		rc = why(r, "NUL byte in line");
	else
		rc = refresh_line(r, s, len);
	if (rc == -2) {
		*fatal = 1;
		return false;
	}
	if (rc == 0) {
		r->res.accepted++;
		return true;
	}
	r->res.rejected++;
	refresh_report(r);
	return r->res.rejected <= r->opts->max_errors;
}

/* Split buf[0..len) into lines; returns bytes consumed (the rest is partial). */
static size_t refresh_lines(struct refresh *r, const char *buf, size_t len, bool eof,
			    int *fatal, bool *stop)
{
	size_t pos = 0;

	while (pos < len && !*stop) {
		const char *s = buf + pos;
		const char *cr = memchr(s, '\r', len - pos);
		/* Look for LF only before the CR: NPAC files have no LF at all. */
		const char *lf = memchr(s, '\n', cr ? (size_t)(cr - s) : len - pos);
		const char *e = cr && (!lf || cr < lf) ? cr : lf;
		size_t n;

		if (e == NULL) {
			if (!eof && len - pos <= LINE_MAX_BYTES)
				break;
			e = buf + len;
		}
		n = (size_t)(e - s);
		if (!refresh_count(r, s, n, fatal))
			*stop = true;
		pos += n;
		if (pos < len && buf[pos] == '\r')
			pos++;
		if (pos < len && buf[pos] == '\n' && (e == buf + pos || buf[pos - 1] == '\r'))
			pos++;
	}
	return pos;
}

static int refresh_read(struct refresh *r)
{
	bool piped = strcmp(r->path, "-") == 0;
	FILE *fp = piped ? stdin : fopen(r->path, "rb");
	char *buf = malloc(CHUNK + 1);
	size_t have = 0, got, used;
	int fatal = 0, rc = -1;
	bool stop = false;
	struct stat st;

	if (fp == NULL || buf == NULL) {
		fprintf(r->rep, "%s: cannot open: %s\n", r->path, strerror(errno));
		goto out;
	}
	/* A regular file's size drives the ETA; a pipe (stdin, "-") has none. */
	if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode))
		r->total_bytes = (uint64_t)st.st_size;
	do {
		got = fread(buf + have, 1, CHUNK - have, fp);
		have += got;
		r->bytes += got;
		used = refresh_lines(r, buf, have, got == 0, &fatal, &stop);
		memmove(buf, buf + used, have - used);
		have -= used;
		refresh_progress(r, false);
	} while (got > 0 && !stop);
	if (ferror(fp))
		fprintf(r->rep, "%s: read error: %s\n", r->path, strerror(errno));
	else if (!fatal)
		rc = 0;
	refresh_progress(r, true);
out:
	if (fp && !piped)
		fclose(fp);
	free(buf);
	return rc;
}

/* ---- sorting and writing ---- */

/* Stable LSD radix sort on the number bits: equal numbers keep file order. */
static int sort_recs(struct refresh *r)
{
	uint64_t *tmp, *src = r->recs, *dst;
	size_t *count = malloc(4096 * sizeof(size_t));

	if (r->sorted || r->n < 2) {
		free(count);
		return 0;
	}
	tmp = malloc(r->n * sizeof(*tmp));
	if (tmp == NULL || count == NULL) {
		free(tmp);
		free(count);
		return -1;
	}
	dst = tmp;
	for (unsigned shift = PID_BITS; shift < 64; shift += 12) {
		size_t sum = 0;
		uint64_t *t;

		memset(count, 0, 4096 * sizeof(size_t));
		for (size_t i = 0; i < r->n; i++)
			count[(src[i] >> shift) & 4095u]++;
		for (size_t d = 0; d < 4096; d++) {
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < r->n; i++)
			dst[count[(src[i] >> shift) & 4095u]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != r->recs)
		memcpy(r->recs, src, r->n * sizeof(*src));
	free(tmp);
	free(count);
	return 0;
}

static int write_gen(const char *gen, struct refresh *r, uint64_t seq)
{
	struct portbuild *b;
	char err[600];

	if (portbuild_begin(gen, r->prof.v, r->prof.n, &b, err, sizeof(err)) != 0) {
		fprintf(r->rep, "%s\n", err);
		return -1;
	}
	for (size_t i = 0; i < r->n; i++) {
		uint64_t tn = r->recs[i] >> PID_BITS;
		uint32_t pid = (uint32_t)(r->recs[i] & PID_GONE);

		if (i + 1 < r->n && r->recs[i + 1] >> PID_BITS == tn)
			continue; /* a later line for the same number wins */
		if (pid != PID_GONE && portbuild_add(b, tn, pid) != 0) {
			portbuild_abort(b);
			fprintf(r->rep, "%s: cannot add %llu to the generation\n", gen,
				(unsigned long long)tn);
			return -1;
		}
	}
	if (portbuild_finish(b, (uint64_t)r->max_version, seq, err, sizeof(err)) != 0) {
		fprintf(r->rep, "%s\n", err);
		return -1;
	}
	return 0;
}

static int64_t state_int(sqlite3 *db, const char *col)
{
	char sql[96];
	sqlite3_stmt *st;
	int64_t v = -1;

	snprintf(sql, sizeof(sql), "SELECT %s FROM ported_state WHERE id = 1", col);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Drop the overlay rows a new file absorbed, note the refresh. Best effort: the
 * file's header already hides those rows from readers. */
static int gc_overlay(sqlite3 *db, uint64_t seq, int64_t maxv, const char *kind,
		      const char *file, const struct import_result *res)
{
	char sql[512];
	int rc;

	snprintf(sql, sizeof(sql),
		 "BEGIN IMMEDIATE;"
		 "DELETE FROM ported WHERE seq <= %llu AND version_id <= %lld;"
		 "DELETE FROM ported_gone WHERE seq <= %llu AND version_id <= %lld;"
		 "UPDATE ported_state SET max_version = max(max_version, %lld), "
		 "updated = strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ') WHERE id = 1;",
		 (unsigned long long)seq, (long long)maxv, (unsigned long long)seq,
		 (long long)maxv, (long long)maxv);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	if (rc == 0) {
		sqlite3_stmt *st;

		rc = sqlite3_prepare_v2(db, "INSERT INTO import_log (kind, file, started, finished,"
					" lines, accepted, rejected, outcome) VALUES (?, ?, "
					"strftime('%Y-%m-%dT%H:%M:%SZ'), strftime('%Y-%m-%dT%H:%M:%SZ'),"
					" ?, ?, ?, 'committed')", -1, &st, NULL) == SQLITE_OK ? 0 : -1;
		if (rc == 0) {
			sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, file, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, res->lines);
			sqlite3_bind_int64(st, 4, res->accepted);
			sqlite3_bind_int64(st, 5, res->rejected);
			rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
			sqlite3_finalize(st);
		}
	}
	if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	log_warn("overlay cleanup failed", "err=\"%s\"", sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static bool refresh_rejected(const struct refresh *r)
{
	const struct import_result *x = &r->res;

	return x->lines == 0 || x->rejected > r->opts->max_errors ||
	       (double)x->rejected > r->opts->max_error_rate * (double)x->lines;
}

int portover_refresh(sqlite3 *db, const char *bdd, const struct import_opts *opts,
		     struct import_result *res)
{
	struct import_opts defaults;
	struct refresh r;
	char gen[600];
	int64_t seq = -1;
	int rc = -1, lock = -1;

	memset(res, 0, sizeof(*res));
	if (opts == NULL) {
		import_opts_default(&defaults);
		opts = &defaults;
	}
	memset(&r, 0, sizeof(r));
	r.path = bdd;
	r.opts = opts;
	r.rep = opts->report ? opts->report : stderr;
	r.sorted = true;
	r.t0_ms = r.tick_ms = clock_now_ms();
	r.tty = isatty(fileno(stderr)) == 1;
	if (portover_path(db, gen, sizeof(gen)) != 0 || (lock = gen_lock(gen)) < 0 ||
	    (seq = state_int(db, "seq")) < 0) {
		fprintf(r.rep, "%s: lookup store has no ported_state or no file name\n", bdd);
		goto out;
	}
	if (refresh_read(&r) != 0)
		goto out;
	if (r.unreported)
		fprintf(r.rep, "%s: ... and %ld more\n", bdd, r.unreported);
	if (refresh_rejected(&r)) {
		fprintf(r.rep, "%s: rejected (%ld of %ld lines bad), nothing changed\n", bdd,
			r.res.rejected, r.res.lines);
		goto out;
	}
	if (sort_recs(&r) != 0 || write_gen(gen, &r, (uint64_t)seq) != 0)
		goto out;
	gc_overlay(db, (uint64_t)seq, r.max_version, "ported", bdd, &r.res);
	r.res.committed = true;
	rc = 0;
	log_info("ported refresh committed", "file=%s lines=%ld accepted=%ld rejected=%ld "
		 "ms=%lld", bdd, r.res.lines, r.res.accepted, r.res.rejected,
		 (long long)(clock_now_ms() - r.t0_ms));
out:
	gen_unlock(lock);
	*res = r.res;
	intern_free(&r.prof);
	free(r.recs);
	return rc;
}

/* ---- fold ---- */

struct ov_row {
	uint64_t tn;
	struct port_profile p;
	bool gone;
};

struct fold {
	struct portbuild *b;
	struct intern prof;
	const struct portstore *base;
	struct ov_row *rows;
	size_t n, next;
	uint32_t *row_pid;
	int err;
};

static int load_rows(sqlite3 *db, struct fold *f, uint64_t seq, uint64_t maxv)
{
	sqlite3_stmt *st;
	size_t cap = 0;
	int rc;

	if (sqlite3_prepare_v2(db, PORTOVER_SQL_OVERLAY, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, (int64_t)seq);
	sqlite3_bind_int64(st, 2, (int64_t)maxv);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ov_row *o;
		const unsigned char *t;

		if (f->n == cap) {
			cap = cap ? cap * 2 : 1024;
			o = realloc(f->rows, cap * sizeof(*o));
			if (o == NULL)
				break;
			f->rows = o;
		}
		o = &f->rows[f->n++];
		memset(o, 0, sizeof(*o));
		o->tn = (uint64_t)sqlite3_column_int64(st, 0);
		o->p.lrn = (uint64_t)sqlite3_column_int64(st, 1);
		t = sqlite3_column_text(st, 2);
		snprintf(o->p.spid, sizeof(o->p.spid), "%s", t ? (const char *)t : "");
		t = sqlite3_column_text(st, 3);
		snprintf(o->p.cnam_dpc, sizeof(o->p.cnam_dpc), "%s", t ? (const char *)t : "");
		o->gone = sqlite3_column_int(st, 4) != 0;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Emit overlay rows below tn (all when tn is UINT64_MAX); true if tn itself is overlaid. */
static bool emit_rows(struct fold *f, uint64_t tn)
{
	while (f->next < f->n && f->rows[f->next].tn <= tn) {
		const struct ov_row *o = &f->rows[f->next];

		if (!o->gone && portbuild_add(f->b, o->tn, f->row_pid[f->next]) != 0)
			f->err = -1;
		f->next++;
		if (o->tn == tn)
			return true;
	}
	return false;
}

static int fold_visit(void *ctx, uint64_t tn, uint32_t pid)
{
	struct fold *f = ctx;

	if (!emit_rows(f, tn) && portbuild_add(f->b, tn, pid) != 0)
		f->err = -1;
	return f->err;
}

static int fold_profiles(struct fold *f)
{
	struct portstore_info info = { 0 };
	uint32_t id;

	if (f->base)
		portstore_get_info(f->base, &info);
	/* The file's profiles keep their ids; the overlay's new ones follow. */
	for (uint32_t i = 0; i < info.profiles; i++)
		if (intern_get(&f->prof, portstore_profile(f->base, i), &id) != 0 || id != i)
			return -1;
	f->row_pid = calloc(f->n + 1, sizeof(*f->row_pid));
	if (f->row_pid == NULL)
		return -1;
	for (size_t i = 0; i < f->n; i++)
		if (!f->rows[i].gone && intern_get(&f->prof, &f->rows[i].p, &f->row_pid[i]) != 0)
			return -1;
	return 0;
}

static int fold_build(struct fold *f, const char *gen, uint64_t maxv, uint64_t seq)
{
	char err[600];

	if (fold_profiles(f) != 0 ||
	    portbuild_begin(gen, f->prof.v, f->prof.n, &f->b, err, sizeof(err)) != 0)
		return -1;
	if (f->base)
		portstore_walk(f->base, 0, fold_visit, f);
	emit_rows(f, UINT64_MAX);
	if (f->err != 0) {
		portbuild_abort(f->b);
		return -1;
	}
	if (portbuild_finish(f->b, maxv, seq, err, sizeof(err)) != 0) {
		log_error("fold failed", "err=\"%s\"", err);
		return -1;
	}
	return 0;
}

int portover_fold(sqlite3 *db, long *folded)
{
	struct portstore_info info = { 0 };
	struct portstore *base = NULL;
	struct fold f;
	char gen[600], err[700];
	int64_t seq, maxv;
	int rc = -1, lock;

	memset(&f, 0, sizeof(f));
	if (portover_path(db, gen, sizeof(gen)) != 0 || (lock = gen_lock(gen)) < 0)
		return -1;
	if (access(gen, F_OK) == 0 && portstore_open(gen, &base, err, sizeof(err)) != 0) {
		log_error("fold refused", "err=\"%s\"", err);
		gen_unlock(lock);
		return -1;
	}
	if (base)
		portstore_get_info(base, &info);
	f.base = base;
	/* One read transaction: the rows and the sequence are one moment. */
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	seq = state_int(db, "seq");
	maxv = state_int(db, "max_version");
	rc = seq < 0 || load_rows(db, &f, info.absorbed_seq, info.max_version) != 0 ? -1 : 0;
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (rc != 0)
		goto out;
	if (maxv < (int64_t)info.max_version)
		maxv = (int64_t)info.max_version;
	rc = fold_build(&f, gen, (uint64_t)maxv, (uint64_t)seq);
	if (rc == 0) {
		struct import_result res = { .lines = (long)f.n, .accepted = (long)f.n };

		gc_overlay(db, (uint64_t)seq, maxv, "ported-fold", gen, &res);
		*folded = (long)f.n;
	}
out:
	gen_unlock(lock);
	portstore_unref(base);
	intern_free(&f.prof);
	free(f.rows);
	free(f.row_pid);
	return rc;
}

/* ---- folding in the background ---- */

static pthread_mutex_t bg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t bg_thread;
static bool bg_started, bg_running;

static void *fold_main(void *arg)
{
	char *path = arg;
	int64_t t0 = clock_now_ms();
	long folded = 0;
	sqlite3 *db;

	if (numstore_open(path, false, &db) == 0) {
		if (portover_fold(db, &folded) == 0)
			log_info("ported fold committed", "rows=%ld ms=%lld", folded,
				 (long long)(clock_now_ms() - t0));
		else
			log_error("ported fold failed, the live generation keeps serving", NULL);
		numstore_close(db);
	}
	free(path);
	pthread_mutex_lock(&bg_lock);
	bg_running = false;
	pthread_mutex_unlock(&bg_lock);
	return NULL;
}

int portover_fold_start(const char *db_path)
{
	char *copy;
	int rc = 1;

	pthread_mutex_lock(&bg_lock);
	if (bg_running) {
		pthread_mutex_unlock(&bg_lock);
		return 0;
	}
	if (bg_started)
		pthread_join(bg_thread, NULL); /* the last fold's thread has ended */
	bg_started = false;
	copy = strdup(db_path);
	if (copy == NULL || pthread_create(&bg_thread, NULL, fold_main, copy) != 0) {
		free(copy);
		rc = -1;
	} else {
		bg_started = bg_running = true;
	}
	pthread_mutex_unlock(&bg_lock);
	return rc;
}

bool portover_fold_running(void)
{
	bool r;

	pthread_mutex_lock(&bg_lock);
	r = bg_running;
	pthread_mutex_unlock(&bg_lock);
	return r;
}

void portover_fold_wait(void)
{
	bool started;

	/* Join without the lock: the thread takes it once more on its way out. */
	pthread_mutex_lock(&bg_lock);
	started = bg_started;
	bg_started = false;
	pthread_mutex_unlock(&bg_lock);
	if (started)
		pthread_join(bg_thread, NULL);
}
