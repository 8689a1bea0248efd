/* lsms_api.c - /api/v1/data/stats and /v1/lsms/list/{phone_number|spid|lrn}.
 *
 * The contracts in reference/ringer-oapi define neither path, so the shapes
 * are ours (docs: the handler comments). A list answers the distinct values
 * of the path's field among the ported numbers that match one filter
 * (lrn, spid or phone_number), in ascending order, limit at a time; the
 * next page starts after `cursor`. Listing numbers by LRN or SPID walks the
 * numbers in order and stops after SCAN_BUDGET of them, answering a cursor
 * where it stopped, so no request holds a worker for long.
 */
#include "lsms_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/tn.h"
#include "../numdb/numdb.h"
#include "../numdb/portstore.h"
#include "telique_api.h"

#define LIMIT_DEFAULT 100
#define LIMIT_MAX 1000
#define SCAN_BUDGET 2000000L

enum field { F_TN, F_SPID, F_LRN, F_NONE };

static const char *const field_names[] = { "phone_number", "spid", "lrn" };

static enum field field_parse(const char *s)
{
	for (int i = 0; s && i < 3; i++)
		if (strcmp(s, field_names[i]) == 0)
			return (enum field)i;
	return F_NONE;
}

/* ---- stats ---- */

static json_t *last_update(const struct numdb_stats *st)
{
	int64_t overlay = 0, t = st->ported_built_at;
	char s[40];

	if (st->ported_updated[0] && clock_parse_rfc3339(st->ported_updated, &overlay) == 0 &&
	    overlay > t)
		t = overlay;
	if (t <= 0)
		return json_null();
	clock_format_rfc3339(t, s, sizeof(s));
	return json_string(s);
}

static void data_stats(struct http_req *req, struct http_resp *resp)
{
	struct numdb *g = numdb_acquire();
	struct numdb_stats st;

	memset(&st, 0, sizeof(st));
	if (g)
		numdb_get_stats(g, &st);
	numdb_release(g);
	http_resp_json(resp, 200, json_pack("{s:I, s:I, s:I, s:f, s:o, s:I, s:b}",
					    "records", (json_int_t)st.ported,
					    "overlayRecords", (json_int_t)st.ported_overlay,
					    "bytesInUse", (json_int_t)st.ported_bytes,
					    "bytesPerRecord", st.ported ? (double)st.ported_bytes /
							      (double)st.ported : 0.0,
					    "lastUpdate", last_update(&st),
					    "highestTransactionId",
					    (json_int_t)st.ported_max_version, "ready", g != NULL));
}

/* ---- lists ---- */

struct query {
	enum field want, by;
	uint64_t tn, lrn; /* filter values */
	char spid[5];
	unsigned limit;
	const char *cursor;
	uint64_t from; /* phone numbers: the first number of the page */
};

static bool profile_matches(const struct query *q, const struct port_profile *p)
{
	if (q->by == F_LRN)
		return p->lrn == q->lrn;
	return strcmp(p->spid, q->spid) == 0;
}

static int filter_parse(const struct http_req *req, struct query *q)
{
	const char *v[3];
	int n = 0;

	for (int i = 0; i < 3; i++) {
		v[i] = http_query(req, field_names[i]);
		if (v[i]) {
			q->by = (enum field)i;
			n++;
		}
	}
	if (n != 1)
		return -1;
	if (q->by == F_TN)
		return tn_parse_str(v[F_TN], &q->tn) == TN_OK ? 0 : -1;
	if (q->by == F_LRN)
		return tn_parse_str(v[F_LRN], &q->lrn) == TN_OK ? 0 : -1;
	if (strlen(v[F_SPID]) != 4)
		return -1;
	memcpy(q->spid, v[F_SPID], 5);
	return 0;
}

static int query_parse(const struct http_req *req, struct query *q)
{
	const char *limit = http_query(req, "limit");
	char *end;
	long n;

	memset(q, 0, sizeof(*q));
	q->want = field_parse(http_param(req, "field"));
	q->limit = LIMIT_DEFAULT;
	q->cursor = http_query(req, "cursor");
	if (q->want == F_NONE || filter_parse(req, q) != 0)
		return -1;
	if (limit) {
		n = strtol(limit, &end, 10);
		if (*limit == '\0' || *end != '\0' || n < 1 || n > LIMIT_MAX)
			return -1;
		q->limit = (unsigned)n;
	}
	if (q->cursor && q->want == F_TN && tn_parse_str(q->cursor, &q->from) != TN_OK)
		return -1;
	return 0;
}

static void value_text(enum field f, uint64_t tn, const struct port_profile *p, char out[16])
{
	if (f == F_TN)
		tn_format(tn, out);
	else if (f == F_LRN)
		tn_format(p->lrn, out);
	else
		snprintf(out, 16, "%s", p->spid);
}

struct tn_page {
	const struct query *q;
	json_t *items;
	long scanned;
	uint64_t next; /* where the next page starts, 0 = the end */
};

static int tn_visit(void *ctx, uint64_t tn, const struct port_profile *p)
{
	struct tn_page *pg = ctx;
	char s[16];

	if (json_array_size(pg->items) == pg->q->limit || ++pg->scanned > SCAN_BUDGET) {
		pg->next = tn;
		return 1;
	}
	if (profile_matches(pg->q, p)) {
		value_text(F_TN, tn, p, s);
		json_array_append_new(pg->items, json_string(s));
	}
	return 0;
}

/* Numbers by LRN or SPID: a walk in number order. */
static json_t *list_numbers(const struct numdb *g, const struct query *q, uint64_t *next)
{
	struct tn_page pg = { q, json_array(), 0, 0 };

	numdb_ported_walk(g, q->from, tn_visit, &pg);
	*next = pg.next;
	return pg.items;
}

struct values {
	const struct query *q;
	char (*v)[16];
	size_t n, cap;
};

static int value_visit(void *ctx, uint64_t tn, const struct port_profile *p)
{
	struct values *vs = ctx;

	if (!profile_matches(vs->q, p))
		return 0;
	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? vs->cap * 2 : 64;
		char (*v)[16] = realloc(vs->v, cap * sizeof(*v));

		if (v == NULL)
			return -1;
		vs->v = v;
		vs->cap = cap;
	}
	value_text(vs->q->want, tn, p, vs->v[vs->n++]);
	return 0;
}

static int cmp_value(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* LRNs of a SPID or SPIDs of an LRN: distinct values of the route profiles. */
static json_t *list_values(const struct numdb *g, const struct query *q, bool *more)
{
	struct values vs = { q, NULL, 0, 0 };
	json_t *items = json_array();

	numdb_ported_profiles(g, value_visit, &vs);
	if (vs.n)
		qsort(vs.v, vs.n, sizeof(*vs.v), cmp_value);
	*more = false;
	for (size_t i = 0; i < vs.n; i++) {
		if ((i && strcmp(vs.v[i], vs.v[i - 1]) == 0) ||
		    (q->cursor && strcmp(vs.v[i], q->cursor) <= 0))
			continue;
		if (json_array_size(items) == q->limit) {
			*more = true;
			break;
		}
		json_array_append_new(items, json_string(vs.v[i]));
	}
	free(vs.v);
	return items;
}

/* A single number: its own value, if it is ported (and past the cursor). */
static json_t *list_one(const struct numdb *g, const struct query *q)
{
	const struct port_profile *p = numdb_ported(g, q->tn);
	json_t *items = json_array();
	char s[16];

	if (p == NULL)
		return items;
	value_text(q->want, q->tn, p, s);
	if (q->cursor == NULL || strcmp(s, q->cursor) > 0)
		json_array_append_new(items, json_string(s));
	return items;
}

static void lsms_list(struct http_req *req, struct http_resp *resp)
{
	struct query q;
	struct numdb *g;
	json_t *items, *filter;
	uint64_t next = 0;
	bool more = false;
	char nexts[16] = "";

	if (query_parse(req, &q) != 0) {
		http_resp_error(req, resp, 400, "INVALID_FORMAT",
				"Give exactly one of lrn, spid or phone_number, a limit of "
				"1-1000 and a cursor from a previous page");
		return;
	}
	if ((g = numdb_acquire()) == NULL) {
		http_resp_error(req, resp, 500, "SERVER_ERROR", "Internal server error");
		return;
	}
	if (q.by == F_TN)
		items = list_one(g, &q);
	else if (q.want == F_TN)
		items = list_numbers(g, &q, &next);
	else
		items = list_values(g, &q, &more);
	numdb_release(g);
	if (next)
		tn_format(next, nexts);
	else if (more && json_array_size(items))
		snprintf(nexts, sizeof(nexts), "%s",
			 json_string_value(json_array_get(items, json_array_size(items) - 1)));
	filter = json_pack("{s:s}", field_names[q.by], http_query(req, field_names[q.by]));
	http_resp_json(resp, 200, json_pack("{s:s, s:o, s:o, s:I, s:o}", "field",
					    field_names[q.want], "filter", filter, "items", items,
					    "count", (json_int_t)json_array_size(items), "nextCursor",
					    nexts[0] ? json_string(nexts) : json_null()));
}

static struct http_route routes[] = {
	{ "GET", "/api/v1/data/stats", HTTP_JSON, NULL, data_stats, false },
	{ "GET", "/v1/lsms/list/{field}", HTTP_JSON, NULL, lsms_list, false },
};

int lsms_api_mount(struct http_router *r)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		routes[i].family = telique_family();
	return http_router_add(r, routes, sizeof(routes) / sizeof(routes[0]));
}
