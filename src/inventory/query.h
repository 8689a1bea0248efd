/* query.h - the inventory query language: parse, describe, compile to SQL.
 *
 *   query      := or_expr
 *   or_expr    := and_expr ( "or" and_expr )*
 *   and_expr   := factor ( "and" factor )*
 *   factor     := "(" or_expr ")" | comparison
 *   comparison := field ( "=" value | "!=" value | "contains" value
 *                       | "in" "(" value ( "," value )* ")" )
 *   field      := tn | status | ported | spid | lata | state | npa | nxx | ocn | lrn
 *               | locality | metadata.<key>
 *   value      := word | "double quoted" | 'single quoted'
 *
 * Keywords are case-insensitive. A tokenizer feeds a recursive-descent
 * parser; the tree it builds is compiled to a WHERE fragment with ?
 * placeholders and a list of text values to bind. No character of a query
 * value ever reaches SQL text: the fragment is made only of fixed column
 * expressions, operators and placeholders. Length, depth, node count and
 * list length are bounded so a hostile query costs little.
 */
#ifndef RINGER_INVENTORY_QUERY_H
#define RINGER_INVENTORY_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#define QUERY_MAX_LEN 4096
#define QUERY_MAX_DEPTH 32
#define QUERY_MAX_NODES 256
#define QUERY_MAX_LIST 100
#define QUERY_MAX_OPTIONS 12

enum query_err_type { QUERY_E_NONE = 0, QUERY_E_PARSE, QUERY_E_VALIDATION };

/* Why a query was refused, ready for QueryErrorResponse. */
struct query_error {
	enum query_err_type type;
	char msg[256];
	int position;                         /* parse errors: 0-based offset, else -1 */
	const char *options[QUERY_MAX_OPTIONS]; /* validation errors: static strings */
	size_t n_options;
};

struct query; /* a parsed query */

/*
 * Parse text (NUL-terminated). Returns 0 with *out (free with query_free),
 * or -1 with *err filled; -2 when memory ran out.
 */
int query_parse(const char *text, struct query **out, struct query_error *err);

void query_free(struct query *q);

/*
 * The parsed tree as text: "ComparisonNode(status=available)",
 * "LogicalNode(AND, ComparisonNode(...), ComparisonNode(...))". malloc'd.
 */
char *query_describe(const struct query *q);

/*
 * A compiled query: where is a boolean SQL expression over inv_number. When
 * tallied is true it names only columns inv_tally_view has too (no tn, lrn
 * or metadata), so matches can be counted there.
 */
struct query_sql {
	char *where;    /* malloc'd */
	char **binds;   /* malloc'd text values, one per ? in order */
	size_t n_binds;
	bool tallied;
};

/* Compile q. Returns 0 with *out (free with query_sql_free), or -1 (memory). */
int query_compile(const struct query *q, struct query_sql *out);

void query_sql_free(struct query_sql *s);

/* The fields the language knows (without metadata.*), for validOptions. */
extern const char *const query_fields[];
extern const size_t query_n_fields;

#endif
