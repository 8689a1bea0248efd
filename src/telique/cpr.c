/* cpr.c - toll-free call processing records: validation and evaluation.
 *
 * A record is a JSON tree (docs/cpr.md). Validation runs once at import and
 * proves everything evaluation relies on: value syntax, bounded nesting, and a
 * goto graph with no cycle and no chain longer than CPR_MAX_GOTOS. Evaluation
 * only reads the record, so one copy serves every thread; it still re-checks
 * what it reads and fails rather than trusts an unvalidated record.
 */
#include "cpr.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"

enum {
	CPR_MAX_DEPTH = 32,        /* decisions on one path inside a section */
	CPR_MAX_NODES = 4096,      /* nodes in the whole record */
	CPR_MAX_BRANCHES = 1000,   /* branches of one decision */
	CPR_MAX_VALUES = 1000,     /* values of one branch */
	CPR_MAX_ALL_VALUES = 65536, /* values in the whole record */
	CPR_MAX_GOTOS = 64,        /* gotos one walk may take */
	CPR_SECTION_MAX = 8,       /* characters in a section name */
};

enum dtype {
	D_STATE, D_NPA, D_NXX, D_NPANXX, D_ANI, D_LATA,
	D_DATE, D_DOW, D_TIME, D_PERCENT, D_SWITCH, D_COUNT
};

static const char *const dtype_names[D_COUNT] = {
	"state", "npa", "nxx", "npanxx", "ani", "lata",
	"date", "dow", "time", "percent", "switch",
};

static const char *const dow_names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

/* Somos time zone letters and their standard offsets, minutes east of UTC. */
static const struct {
	char letter;
	int offset;
} zones[] = {
	{ 'N', -210 }, { 'A', -240 }, { 'E', -300 }, { 'C', -360 },
	{ 'M', -420 }, { 'P', -480 }, { 'Y', -540 }, { 'H', -600 },
};

/* ---- value syntax, shared by validation and evaluation ---- */

/* A set of keys lo..hi, inclusive; lo > hi wraps (fri-mon, 12/24-01/02). */
struct span {
	int64_t lo, hi;
	bool annual; /* a date given as MM/DD: keys are month * 100 + day */
};

static int64_t digits_n(const char *s, size_t n)
{
	int64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* s is exactly n digits. */
static bool is_digits(const char *s, size_t n)
{
	return s != NULL && strlen(s) == n && digits_n(s, n) >= 0;
}

static int days_in_month(int64_t y, int64_t m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

/* "MM/DD" (any year, so 02/29 is allowed) or "YYYY-MM-DD". */
static int date_token(const char *s, size_t len, int64_t *key, bool *annual)
{
	int64_t y = 2000, m, d;

	if (len == 5 && s[2] == '/') {
		m = digits_n(s, 2);
		d = digits_n(s + 3, 2);
		*annual = true;
	} else if (len == 10 && s[4] == '-' && s[7] == '-') {
		y = digits_n(s, 4);
		m = digits_n(s + 5, 2);
		d = digits_n(s + 8, 2);
		*annual = false;
	} else {
		return -1;
	}
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -1;
	*key = *annual ? m * 100 + d : y * 10000 + m * 100 + d;
	return 0;
}

static const char *parse_date(const char *s, struct span *sp)
{
	size_t len = strlen(s);
	size_t half = (len - 1) / 2;
	bool a1, a2;

	if (len == 5 || len == 10) {
		if (date_token(s, len, &sp->lo, &sp->annual))
			return "bad date value";
		sp->hi = sp->lo;
		return NULL;
	}
	/* Both ends have the same form, so a range splits at its middle. */
	if ((len != 11 && len != 21) || s[half] != '-' ||
	    date_token(s, half, &sp->lo, &a1) || date_token(s + half + 1, half, &sp->hi, &a2))
		return "bad date value";
	sp->annual = a1;
	if (!a1 && sp->lo > sp->hi)
		return "date range end before start";
	return NULL;
}

static int dow_token(const char *s)
{
	for (int i = 0; i < 7; i++) {
		if (strncmp(s, dow_names[i], 3) == 0)
			return i;
	}
	return -1;
}

static const char *parse_dow(const char *s, struct span *sp)
{
	size_t len = strlen(s);

	if (len == 3) {
		sp->lo = sp->hi = dow_token(s);
	} else if (len == 7 && s[3] == '-') {
		sp->lo = dow_token(s);
		sp->hi = dow_token(s + 4);
	} else {
		return "bad dow value";
	}
	return sp->lo < 0 || sp->hi < 0 ? "bad dow value" : NULL;
}

/* "HH:MM" as minutes since midnight, or -1. */
static int64_t time_token(const char *s)
{
	int64_t h = digits_n(s, 2), m = digits_n(s + 3, 2);

	if (s[2] != ':' || h < 0 || h > 23 || m < 0 || m > 59)
		return -1;
	return h * 60 + m;
}

/* Keys are minutes of the day; the end minute is excluded, "00:00" ends at midnight. */
static const char *parse_time(const char *s, struct span *sp)
{
	int64_t end;

	if (strlen(s) != 11 || s[5] != '-')
		return "bad time value";
	sp->lo = time_token(s);
	end = time_token(s + 6);
	if (sp->lo < 0 || end < 0)
		return "bad time value";
	if (end == 0)
		end = 24 * 60;
	if (end <= sp->lo)
		return "time range end not after start";
	sp->hi = end - 1;
	return NULL;
}

static const char *parse_state(const char *s, struct span *sp)
{
	if (strlen(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
		return "bad state value";
	sp->lo = sp->hi = (s[0] - 'A') * 26 + (s[1] - 'A');
	return NULL;
}

/* Digits each digit-valued type takes. */
static size_t dtype_digits(enum dtype t)
{
	switch (t) {
	case D_NPANXX:
		return 6;
	case D_ANI:
		return 10;
	default:
		return 3;
	}
}

/* Parse one value of a decision of type t. Returns NULL or the reason it is bad. */
static const char *value_parse(enum dtype t, const char *s, struct span *sp)
{
	static const char *const bad[] = {
		[D_NPA] = "bad npa value", [D_NXX] = "bad nxx value",
		[D_NPANXX] = "bad npanxx value", [D_ANI] = "bad ani value",
		[D_LATA] = "bad lata value",
	};

	sp->annual = false;
	if (s == NULL)
		return "values must be strings";
	switch (t) {
	case D_STATE:
		return parse_state(s, sp);
	case D_DATE:
		return parse_date(s, sp);
	case D_DOW:
		return parse_dow(s, sp);
	case D_TIME:
		return parse_time(s, sp);
	case D_NPA: case D_NXX: case D_NPANXX: case D_ANI: case D_LATA:
		if (!is_digits(s, dtype_digits(t)))
			return bad[t];
		sp->lo = sp->hi = digits_n(s, dtype_digits(t));
		return NULL;
	default:
		return "values not allowed here";
	}
}

static bool span_has(const struct span *sp, int64_t key)
{
	if (key < 0)
		return false;
	if (sp->lo <= sp->hi)
		return key >= sp->lo && key <= sp->hi;
	return key >= sp->lo || key <= sp->hi;
}

static int dtype_find(const char *name)
{
	for (int i = 0; name != NULL && i < D_COUNT; i++) {
		if (strcmp(name, dtype_names[i]) == 0)
			return i;
	}
	return -1;
}

static int zone_offset(const char *tz, int *offset)
{
	for (size_t i = 0; tz != NULL && i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (tz[0] == zones[i].letter && tz[1] == '\0') {
			*offset = zones[i].offset;
			return 0;
		}
	}
	return -1;
}

static bool has_key(const json_t *obj, const char *key)
{
	return json_object_get(obj, key) != NULL;
}

/* ---- validation ---- */

enum { MARK_NEW, MARK_OPEN, MARK_DONE };

/* The goto graph: sections are numbered in name order. */
struct graph {
	const char *names[CPR_MAX_NODES];
	unsigned nnames;
	unsigned edge_from[CPR_MAX_NODES], edge_to[CPR_MAX_NODES];
	unsigned nedges;
	unsigned off[CPR_MAX_NODES + 1]; /* edges of section i: adj[off[i]..off[i+1]) */
	unsigned adj[CPR_MAX_NODES];
	unsigned fill[CPR_MAX_NODES]; /* edges placed so far per section */
	unsigned char mark[CPR_MAX_NODES];
	int chain[CPR_MAX_NODES]; /* longest goto chain leaving section i */
};

struct vstate {
	char *err;
	size_t errlen;
	const char *section; /* prefixes messages while a section is checked */
	unsigned cur;        /* its number */
	unsigned nodes, values;
	struct graph *g;
};

static int fail(struct vstate *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct vstate *v, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (v->errlen == 0)
		return -1;
	if (v->section != NULL)
		n = snprintf(v->err, v->errlen, "section %s: ", v->section);
	if (n < 0 || (size_t)n >= v->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(v->err + n, v->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Refuse keys outside allowed (NULL-terminated): a misspelt key must not pass silently. */
static int keys_only(struct vstate *v, const json_t *obj, const char *const *allowed,
		     const char *what)
{
	const char *key;
	json_t *val;

	/* jansson's iterator takes a non-const object but only reads it. */
	json_object_foreach((json_t *)obj, key, val) {
		size_t i = 0;

		while (allowed[i] != NULL && strcmp(allowed[i], key) != 0)
			i++;
		if (allowed[i] == NULL)
			return fail(v, "unknown key \"%s\" in %s", key, what);
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int section_index(const struct graph *g, const char *name)
{
	const char *const *hit = bsearch(&name, g->names, g->nnames, sizeof(g->names[0]), name_cmp);

	return hit == NULL ? -1 : (int)(hit - g->names);
}

static int check_node(struct vstate *v, const json_t *node, unsigned depth);

static int check_action(struct vstate *v, const json_t *node)
{
	static const char *const keys[] = { "carrier", "tel", NULL };
	const json_t *tel = json_object_get(node, "tel");

	if (keys_only(v, node, keys, "node"))
		return -1;
	if (!is_digits(json_string_value(json_object_get(node, "carrier")), 4))
		return fail(v, "carrier must be 4 digits");
	if (tel != NULL && !is_digits(json_string_value(tel), 10))
		return fail(v, "tel must be 10 digits");
	return 0;
}

static int check_goto(struct vstate *v, const json_t *node)
{
	static const char *const keys[] = { "goto", NULL };
	const char *target = json_string_value(json_object_get(node, "goto"));
	int to;

	if (keys_only(v, node, keys, "node"))
		return -1;
	if (target == NULL)
		return fail(v, "goto must be a section name");
	to = section_index(v->g, target);
	if (to < 0)
		return fail(v, "goto to missing section %s", target);
	/* Each goto is a node, so the node limit also bounds the edges. */
	v->g->edge_from[v->g->nedges] = v->cur;
	v->g->edge_to[v->g->nedges++] = (unsigned)to;
	return 0;
}

static int check_values(struct vstate *v, enum dtype t, const json_t *values)
{
	size_t n = json_array_size(values);

	if (!json_is_array(values) || n == 0)
		return fail(v, "values must be a non-empty array");
	if (n > CPR_MAX_VALUES)
		return fail(v, "more than %d values in a branch", CPR_MAX_VALUES);
	v->values += (unsigned)n;
	if (v->values > CPR_MAX_ALL_VALUES)
		return fail(v, "more than %d values in the record", CPR_MAX_ALL_VALUES);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(values, i));
		struct span sp;
		const char *why = value_parse(t, s, &sp);

		if (why != NULL)
			return s == NULL ? fail(v, "%s", why) : fail(v, "%s \"%s\"", why, s);
	}
	return 0;
}

static int check_branch_list(struct vstate *v, const json_t *branches)
{
	if (!json_is_array(branches) || json_array_size(branches) == 0)
		return fail(v, "branches must be a non-empty array");
	if (json_array_size(branches) > CPR_MAX_BRANCHES)
		return fail(v, "more than %d branches", CPR_MAX_BRANCHES);
	return 0;
}

static int check_then(struct vstate *v, const json_t *br, unsigned depth)
{
	const json_t *then = json_object_get(br, "then");

	if (then == NULL)
		return fail(v, "branch needs then");
	return check_node(v, then, depth + 1);
}

static int check_other(struct vstate *v, const json_t *node, unsigned depth)
{
	const json_t *other = json_object_get(node, "other");

	return other == NULL ? 0 : check_node(v, other, depth + 1);
}

static int check_valued(struct vstate *v, const json_t *node, enum dtype t, unsigned depth)
{
	static const char *const keys[] = { "decision", "branches", "other", NULL };
	static const char *const bkeys[] = { "values", "then", NULL };
	const json_t *branches = json_object_get(node, "branches");

	if (keys_only(v, node, keys, "node") || check_branch_list(v, branches))
		return -1;
	for (size_t i = 0; i < json_array_size(branches); i++) {
		const json_t *br = json_array_get(branches, i);

		if (!json_is_object(br))
			return fail(v, "branch must be an object");
		if (keys_only(v, br, bkeys, "branch") ||
		    check_values(v, t, json_object_get(br, "values")) || check_then(v, br, depth))
			return -1;
	}
	return check_other(v, node, depth);
}

static int check_percent(struct vstate *v, const json_t *node, unsigned depth)
{
	static const char *const keys[] = { "decision", "branches", NULL };
	static const char *const bkeys[] = { "percent", "then", NULL };
	const json_t *branches = json_object_get(node, "branches");
	json_int_t total = 0;

	if (has_key(node, "other"))
		return fail(v, "percent decision takes no other");
	if (keys_only(v, node, keys, "node") || check_branch_list(v, branches))
		return -1;
	for (size_t i = 0; i < json_array_size(branches); i++) {
		const json_t *br = json_array_get(branches, i);
		const json_t *pct = json_object_get(br, "percent");

		if (!json_is_object(br))
			return fail(v, "branch must be an object");
		if (keys_only(v, br, bkeys, "branch"))
			return -1;
		if (!json_is_integer(pct) || json_integer_value(pct) < 0 ||
		    json_integer_value(pct) > 100)
			return fail(v, "percent must be a whole number 0-100");
		total += json_integer_value(pct);
		if (check_then(v, br, depth))
			return -1;
	}
	if (total != 100)
		return fail(v, "percents must total 100, not %lld", (long long)total);
	return 0;
}

static int check_switch(struct vstate *v, const json_t *node, unsigned depth)
{
	static const char *const keys[] = { "decision", "on", "then", "other", NULL };

	if (keys_only(v, node, keys, "node"))
		return -1;
	if (!json_is_boolean(json_object_get(node, "on")))
		return fail(v, "switch needs on: true or false");
	if (!has_key(node, "then"))
		return fail(v, "switch needs then");
	if (check_then(v, node, depth))
		return -1;
	return check_other(v, node, depth);
}

/* depth counts the decisions above node in its section. */
static int check_decision(struct vstate *v, const json_t *node, unsigned depth)
{
	const char *name = json_string_value(json_object_get(node, "decision"));
	int t = dtype_find(name);

	if (name == NULL)
		return fail(v, "decision must be a string");
	if (t < 0)
		return fail(v, "unknown decision type \"%s\"", name);
	if (depth >= CPR_MAX_DEPTH)
		return fail(v, "nesting deeper than %d", CPR_MAX_DEPTH);
	if (t == D_PERCENT)
		return check_percent(v, node, depth);
	if (t == D_SWITCH)
		return check_switch(v, node, depth);
	return check_valued(v, node, (enum dtype)t, depth);
}

static int check_node(struct vstate *v, const json_t *node, unsigned depth)
{
	int kinds;

	if (!json_is_object(node))
		return fail(v, "node must be an object");
	if (++v->nodes > CPR_MAX_NODES)
		return fail(v, "more than %d nodes", CPR_MAX_NODES);
	kinds = has_key(node, "carrier") + has_key(node, "goto") + has_key(node, "decision");
	if (kinds != 1)
		return fail(v, "node needs exactly one of carrier, goto, decision");
	if (has_key(node, "carrier"))
		return check_action(v, node);
	if (has_key(node, "goto"))
		return check_goto(v, node);
	return check_decision(v, node, depth);
}

static bool section_name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > CPR_SECTION_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool alnum = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
			     (s[i] >= 'a' && s[i] <= 'z');

		if (!alnum)
			return false;
	}
	return true;
}

/* Number the sections in name order, so checks and messages do not depend on key order. */
static int collect_sections(struct vstate *v, const json_t *sections)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)sections, key, val) {
		if (!section_name_ok(key))
			return fail(v, "bad section name \"%s\"", key);
		if (v->g->nnames == CPR_MAX_NODES)
			return fail(v, "more than %d nodes", CPR_MAX_NODES);
		v->g->names[v->g->nnames++] = key;
	}
	qsort(v->g->names, v->g->nnames, sizeof(v->g->names[0]), name_cmp);
	return 0;
}

/* Longest goto chain leaving section u; depth is how many gotos led here. */
static int graph_chain(struct vstate *v, unsigned u, unsigned depth)
{
	struct graph *g = v->g;
	int best = 0;

	if (g->mark[u] == MARK_DONE)
		return g->chain[u];
	if (g->mark[u] == MARK_OPEN)
		return fail(v, "goto cycle through section %s", g->names[u]);
	/* Stopping here also bounds the recursion. */
	if (depth > CPR_MAX_GOTOS)
		return fail(v, "goto chain longer than %d", CPR_MAX_GOTOS);
	g->mark[u] = MARK_OPEN;
	for (unsigned i = g->off[u]; i < g->off[u + 1]; i++) {
		int c = graph_chain(v, g->adj[i], depth + 1);

		if (c < 0)
			return -1;
		if (c + 1 > best)
			best = c + 1;
	}
	if (best > CPR_MAX_GOTOS)
		return fail(v, "goto chain longer than %d", CPR_MAX_GOTOS);
	g->mark[u] = MARK_DONE;
	g->chain[u] = best;
	return best;
}

/*
 * A walk's inputs never change, so a walk that re-enters a section loops for
 * ever: any cycle in the goto graph is an error, found here rather than per call.
 */
static int check_graph(struct vstate *v)
{
	struct graph *g = v->g;

	v->section = NULL;
	for (unsigned i = 0; i < g->nedges; i++)
		g->off[g->edge_from[i] + 1]++;
	for (unsigned i = 0; i < g->nnames; i++)
		g->off[i + 1] += g->off[i];
	for (unsigned i = 0; i < g->nedges; i++)
		g->adj[g->fill[g->edge_from[i]]++ + g->off[g->edge_from[i]]] = g->edge_to[i];
	for (unsigned i = 0; i < g->nnames; i++) {
		if (graph_chain(v, i, 0) < 0)
			return -1;
	}
	return 0;
}

static int check_top(struct vstate *v, const json_t *record)
{
	static const char *const keys[] = {
		"crn", "timezone", "dst", "default_cic", "sections", NULL
	};
	const char *crn = json_string_value(json_object_get(record, "crn"));
	const json_t *cic = json_object_get(record, "default_cic");
	const json_t *sections = json_object_get(record, "sections");
	int offset;

	if (!json_is_object(record))
		return fail(v, "record is not an object");
	if (keys_only(v, record, keys, "record"))
		return -1;
	if (!is_digits(crn, 10))
		return fail(v, "crn must be 10 digits");
	/* Toll-free NPAs are 8YY with a doubled digit; 811 is a service code. */
	if (crn[0] != '8' || crn[1] != crn[2] || crn[1] == '1')
		return fail(v, "crn is not a toll-free (8YY) number");
	if (zone_offset(json_string_value(json_object_get(record, "timezone")), &offset))
		return fail(v, "unknown timezone (use N, A, E, C, M, P, Y or H)");
	if (!json_is_boolean(json_object_get(record, "dst")))
		return fail(v, "dst must be true or false");
	if (cic != NULL && !is_digits(json_string_value(cic), 4))
		return fail(v, "default_cic must be 4 digits");
	if (!json_is_object(sections))
		return fail(v, "sections must be an object");
	if (json_object_get(sections, "M") == NULL)
		return fail(v, "missing main section M");
	return collect_sections(v, sections);
}

int cpr_validate(const json_t *record, char *err, size_t errlen)
{
	struct vstate v = { .err = err, .errlen = err == NULL ? 0 : errlen };
	const json_t *sections;
	int rc = -1;

	v.g = calloc(1, sizeof(*v.g));
	if (v.g == NULL) {
		fail(&v, "out of memory");
		return -1;
	}
	if (check_top(&v, record))
		goto cleanup;
	sections = json_object_get(record, "sections");
	for (unsigned i = 0; i < v.g->nnames; i++) {
		v.section = v.g->names[i];
		v.cur = i;
		if (check_node(&v, json_object_get(sections, v.section), 0))
			goto cleanup;
	}
	rc = check_graph(&v);
cleanup:
	free(v.g);
	return rc;
}

/* ---- evaluation ---- */

struct walk {
	const struct cpr_call *call;
	struct clock_tm local;
	int offset; /* minutes east of UTC in force at the call */
	json_t *path;
	const char *section;
};

static int walk_clock(struct walk *w, const json_t *record)
{
	int std;
	const json_t *dst = json_object_get(record, "dst");

	/* Years 0001-9999 only: keeps the calendar arithmetic far from overflow. */
	if (w->call->now < -62135596800 || w->call->now > 253402300799)
		return -1;
	if (zone_offset(json_string_value(json_object_get(record, "timezone")), &std) ||
	    !json_is_boolean(dst))
		return -1;
	w->offset = std;
	if (json_is_true(dst) && clock_us_dst(w->call->now, std * 60))
		w->offset += 60;
	clock_split(w->call->now + (int64_t)w->offset * 60, &w->local);
	return 0;
}

/* The call's key for type t, comparable with struct span; -1 when unknown. */
static int64_t call_key(const struct walk *w, enum dtype t, bool annual)
{
	const struct cpr_call *c = w->call;
	const struct clock_tm *tm = &w->local;
	int64_t ani = c->ani <= 9999999999ULL ? (int64_t)c->ani : -1;
	struct span sp;

	switch (t) {
	case D_STATE: {
		char up[3] = { 0 };

		if (c->state == NULL || strlen(c->state) != 2)
			return -1;
		for (int i = 0; i < 2; i++)
			up[i] = c->state[i] >= 'a' && c->state[i] <= 'z' ?
				(char)(c->state[i] - 'a' + 'A') : c->state[i];
		return parse_state(up, &sp) == NULL ? sp.lo : -1;
	}
	case D_NPA:
		return ani < 0 ? -1 : ani / 10000000;
	case D_NXX:
		return ani < 0 ? -1 : ani / 10000 % 1000;
	case D_NPANXX:
		return ani < 0 ? -1 : ani / 10000;
	case D_ANI:
		return ani;
	case D_LATA:
		return c->lata <= 999 ? (int64_t)c->lata : -1;
	case D_DATE:
		return (annual ? 0 : (int64_t)tm->year * 10000) + tm->mon * 100 + tm->mday;
	case D_DOW:
		return tm->wday;
	case D_TIME:
		return tm->hour * 60 + tm->min;
	default:
		return -1;
	}
}

/* The call's value as the interpretation record shows it; NULL when unknown. */
static const char *call_value(const struct walk *w, enum dtype t, char *buf, size_t len)
{
	const struct clock_tm *tm = &w->local;
	int64_t key = call_key(w, t, false);

	if (t == D_STATE && key >= 0)
		snprintf(buf, len, "%c%c", (char)('A' + key / 26), (char)('A' + key % 26));
	else if (t == D_DATE)
		snprintf(buf, len, "%04d-%02d-%02d", tm->year, tm->mon, tm->mday);
	else if (t == D_DOW)
		return dow_names[tm->wday];
	else if (t == D_TIME)
		snprintf(buf, len, "%02d:%02d:%02d", tm->hour, tm->min, tm->sec);
	else if (key < 0)
		return NULL;
	else
		snprintf(buf, len, "%0*lld", (int)dtype_digits(t), (long long)key);
	return buf;
}

/* Index of the first branch with a value that holds the call, 1 if none, -1 if malformed. */
static int pick_valued(const struct walk *w, enum dtype t, const json_t *branches, size_t *idx)
{
	for (size_t i = 0; i < json_array_size(branches); i++) {
		const json_t *values = json_object_get(json_array_get(branches, i), "values");

		for (size_t j = 0; j < json_array_size(values); j++) {
			struct span sp;

			if (value_parse(t, json_string_value(json_array_get(values, j)), &sp))
				return -1;
			if (span_has(&sp, call_key(w, t, sp.annual))) {
				*idx = i;
				return 0;
			}
		}
	}
	return 1;
}

/* Branches own consecutive slices of 0-99 in list order: 60/40 gives 0-59 and 60-99. */
static int pick_percent(const struct walk *w, const json_t *branches, size_t *idx)
{
	json_int_t upto = 0;

	if (w->call->percent_draw > 99)
		return -1;
	for (size_t i = 0; i < json_array_size(branches); i++) {
		const json_t *pct = json_object_get(json_array_get(branches, i), "percent");

		if (!json_is_integer(pct))
			return -1;
		upto += json_integer_value(pct);
		if ((json_int_t)w->call->percent_draw < upto) {
			*idx = i;
			return 0;
		}
	}
	return 1;
}

/* Record one decision; branch is a new reference (index, "other" or null). */
static int path_add_decision(struct walk *w, const char *type, const char *value, json_t *branch)
{
	json_t *e = json_object();

	if (e == NULL || json_object_set_new(e, "node", json_string(type)) ||
	    json_object_set_new(e, "value", value ? json_string(value) : json_null()) ||
	    json_object_set_new(e, "branch", branch) || json_array_append_new(w->path, e)) {
		json_decref(e);
		return -1;
	}
	return 0;
}

static int path_add_pair(struct walk *w, const char *type, const char *key, const char *value)
{
	json_t *e = json_pack("{s:s, s:s}", "node", type, key, value);

	return e == NULL || json_array_append_new(w->path, e) ? -1 : 0;
}

/* Take one decision: *next becomes the node chosen, or NULL when none matched. */
static int walk_decision(struct walk *w, const json_t *node, const json_t **next)
{
	int t = dtype_find(json_string_value(json_object_get(node, "decision")));
	const json_t *branches = json_object_get(node, "branches");
	size_t idx = 0;
	char buf[40];
	const char *value;
	int rc;

	if (t == D_SWITCH) {
		rc = json_is_true(json_object_get(node, "on")) ? 0 : 1;
		value = rc == 0 ? "on" : "off";
	} else if (t == D_PERCENT) {
		rc = pick_percent(w, branches, &idx);
		snprintf(buf, sizeof(buf), "%u", w->call->percent_draw);
		value = buf;
	} else if (t >= 0) {
		rc = pick_valued(w, (enum dtype)t, branches, &idx);
		value = call_value(w, (enum dtype)t, buf, sizeof(buf));
	} else {
		return -1;
	}
	if (rc < 0)
		return -1;
	if (rc == 0) {
		*next = t == D_SWITCH ? json_object_get(node, "then") :
					json_object_get(json_array_get(branches, idx), "then");
		if (*next == NULL)
			return -1;
		return path_add_decision(w, dtype_names[t], value, json_integer((json_int_t)idx));
	}
	*next = t == D_PERCENT ? NULL : json_object_get(node, "other");
	return path_add_decision(w, dtype_names[t], value,
				 *next ? json_string("other") : json_null());
}

static int take_action(struct walk *w, const char *cic, const json_t *tel,
		       struct cpr_result *res)
{
	const char *t = json_string_value(tel);
	json_t *e;

	if (!is_digits(cic, 4) || (tel != NULL && !is_digits(t, 10)))
		return -1;
	e = json_pack("{s:s, s:s}", "node", "carrier", "cic", cic);
	if (e == NULL || (t != NULL && json_object_set_new(e, "tel", json_string(t))) ||
	    json_array_append_new(w->path, e)) {
		json_decref(e);
		return -1;
	}
	memcpy(res->cic, cic, 5);
	snprintf(res->tel, sizeof(res->tel), "%s", t ? t : "");
	return 0;
}

/* Walk from M to an action. 0 = res filled, 1 = no branch matched, -1 = failure. */
static int walk_run(struct walk *w, const json_t *sections, struct cpr_result *res)
{
	const json_t *node = json_object_get(sections, "M");
	unsigned gotos = 0, depth = 0;

	w->section = "M";
	while (node != NULL) {
		const char *target = json_string_value(json_object_get(node, "goto"));

		if (has_key(node, "carrier"))
			return take_action(w, json_string_value(json_object_get(node, "carrier")),
					   json_object_get(node, "tel"), res);
		if (target != NULL) {
			if (++gotos > CPR_MAX_GOTOS || path_add_pair(w, "goto", "section", target))
				return -1;
			node = json_object_get(sections, target);
			w->section = target;
			depth = 0;
			if (node == NULL)
				return -1;
			continue;
		}
		if (++depth > CPR_MAX_DEPTH || walk_decision(w, node, &node))
			return -1;
	}
	return 1;
}

static json_t *ir_build(struct walk *w)
{
	const struct clock_tm *tm = &w->local;
	int off = w->offset < 0 ? -w->offset : w->offset;
	char lt[80], uo[32];

	snprintf(lt, sizeof(lt), "%04d-%02d-%02dT%02d:%02d:%02d", tm->year, tm->mon, tm->mday,
		 tm->hour, tm->min, tm->sec);
	snprintf(uo, sizeof(uo), "%c%02d:%02d", w->offset < 0 ? '-' : '+', off / 60, off % 60);
	return json_pack("{s:O, s:s, s:s, s:s}", "path", w->path, "section", w->section,
			 "localTime", lt, "utcOffset", uo);
}

/* No branch matched and there is no other: the record's default carrier, if it has one. */
static int take_default(struct walk *w, const char *cic, struct cpr_result *res)
{
	if (!is_digits(cic, 4) || path_add_pair(w, "default", "cic", cic))
		return -1;
	memcpy(res->cic, cic, 5);
	res->tel[0] = '\0';
	return 0;
}

int cpr_eval(const json_t *record, const struct cpr_call *call, struct cpr_result *out)
{
	struct walk w = { .call = call };
	struct cpr_result res = { .cic = "", .tel = "" };
	int rc;

	if (record == NULL || call == NULL || out == NULL || walk_clock(&w, record))
		return -1;
	w.path = json_array();
	if (w.path == NULL)
		return -1;
	rc = walk_run(&w, json_object_get(record, "sections"), &res);
	if (rc == 1)
		rc = take_default(&w, json_string_value(json_object_get(record, "default_cic")),
				  &res);
	if (rc == 0)
		res.ir = ir_build(&w);
	if (rc == 0 && res.ir != NULL)
		*out = res;
	else
		rc = -1;
	json_decref(w.path);
	return rc;
}
