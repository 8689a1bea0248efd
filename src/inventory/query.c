/* query.c - tokenizer, recursive-descent parser and SQL compiler for queries. */
#include "query.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- fields ---- */

enum fkind { F_INT, F_UPPER, F_NOCASE, F_STATUS, F_PORTED, F_META };

struct field {
	const char *name;
	const char *column;
	enum fkind kind;
};

static const struct field fields[] = {
	{ "tn", "tn", F_INT },         { "status", "status", F_STATUS },
	{ "ported", "ported", F_PORTED }, { "spid", "spid", F_UPPER },
	{ "lata", "lata", F_INT },     { "state", "state", F_UPPER },
	{ "npa", "npa", F_INT },       { "nxx", "nxx", F_INT },
	{ "ocn", "ocn", F_UPPER },     { "lrn", "lrn", F_INT },
	{ "locality", "locality", F_NOCASE },
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

const char *const query_fields[] = { "tn", "status", "ported", "spid", "lata", "state",
				     "npa", "nxx", "ocn", "lrn", "locality", NULL };
const size_t query_n_fields = N_FIELDS;

static const char *const status_options[] = { "available", "reserved", "in_use", "ported_out",
					      "quarantine", NULL };
static const char *const ported_options[] = { "in", "out", "no", NULL };

/* ---- the tree ---- */

enum nkind { N_AND, N_OR, N_CMP };
enum op { OP_EQ, OP_NE, OP_IN, OP_CONTAINS };

struct node {
	enum nkind kind;
	struct node *kids, *next; /* logical nodes: children; every node: next sibling */
	int field;                /* index into fields, or -1 for metadata.<key> */
	char *key;                /* metadata key */
	enum op op;
	char **vals;
	size_t n_vals;
};

struct query {
	struct node *root;
	struct node nodes[QUERY_MAX_NODES];
	size_t n_nodes;
};

/* ---- tokens ---- */

enum ttype { T_EOF, T_WORD, T_STRING, T_EQ, T_NE, T_LP, T_RP, T_COMMA, T_BAD };

struct tok {
	enum ttype type;
	size_t pos, len; /* the token's bytes in the query */
};

struct parser {
	const char *s;
	size_t len;
	struct tok cur;
	struct query *q;
	struct query_error *err;
	int depth;
	bool oom;
};

static bool word_char(unsigned char c)
{
	return c > 0x20 && c != 0x7f && strchr("=!(),\"'", c) == NULL;
}

/* Scan a quoted string from pos; returns its end (after the closing quote) or 0. */
static size_t scan_quoted(const char *s, size_t len, size_t pos)
{
	char q = s[pos];
	size_t i;

	for (i = pos + 1; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == q)
			return i + 1;
	}
	return 0;
}

static void lex(struct parser *p, size_t pos)
{
	const char *s = p->s;
	size_t end;

	while (pos < p->len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' ||
				s[pos] == '\r'))
		pos++;
	p->cur.pos = pos;
	p->cur.len = 1;
	if (pos >= p->len) {
		p->cur.type = T_EOF;
		p->cur.len = 0;
		return;
	}
	switch (s[pos]) {
	case '=': p->cur.type = T_EQ; return;
	case '(': p->cur.type = T_LP; return;
	case ')': p->cur.type = T_RP; return;
	case ',': p->cur.type = T_COMMA; return;
	case '!':
		p->cur.type = pos + 1 < p->len && s[pos + 1] == '=' ? T_NE : T_BAD;
		p->cur.len = p->cur.type == T_NE ? 2 : 1;
		return;
	case '"':
	case '\'':
		end = scan_quoted(s, p->len, pos);
		p->cur.type = end ? T_STRING : T_BAD;
		p->cur.len = end ? end - pos : p->len - pos;
		return;
	}
	if (!word_char((unsigned char)s[pos])) {
		p->cur.type = T_BAD;
		return;
	}
	for (end = pos; end < p->len && word_char((unsigned char)s[end]); end++)
		;
	p->cur.type = T_WORD;
	p->cur.len = end - pos;
}

static void advance(struct parser *p)
{
	lex(p, p->cur.pos + p->cur.len);
}

static bool is_kw(const struct parser *p, const char *kw)
{
	return p->cur.type == T_WORD && p->cur.len == strlen(kw) &&
	       strncasecmp(p->s + p->cur.pos, kw, p->cur.len) == 0;
}

/* ---- errors ---- */

static int fail_at(struct parser *p, const char *expected)
{
	char shown[48];
	size_t n = p->cur.len < 40 ? p->cur.len : 40, i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p->s[p->cur.pos + i];
		shown[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	shown[n] = '\0';
	if (p->err->type != QUERY_E_NONE)
		return -1;
	p->err->type = QUERY_E_PARSE;
	p->err->position = (int)p->cur.pos;
	snprintf(p->err->msg, sizeof(p->err->msg),
		 "Unexpected token '%s%s' (expected %s) at position %zu", shown,
		 p->cur.len > 40 ? "..." : "", expected, p->cur.pos);
	return -1;
}

static int fail_invalid(struct parser *p, const char *const *options, const char *fmt, ...)
{
	va_list ap;

	if (p->err->type != QUERY_E_NONE)
		return -1;
	p->err->type = QUERY_E_VALIDATION;
	p->err->position = -1;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
	va_end(ap);
	for (p->err->n_options = 0; options[p->err->n_options] &&
	     p->err->n_options < QUERY_MAX_OPTIONS; p->err->n_options++)
		p->err->options[p->err->n_options] = options[p->err->n_options];
	return -1;
}

/* ---- building nodes ---- */

static struct node *node_new(struct parser *p, enum nkind kind)
{
	struct node *n;

	if (p->q->n_nodes >= QUERY_MAX_NODES) {
		fail_at(p, "a shorter query (too many terms)");
		return NULL;
	}
	n = &p->q->nodes[p->q->n_nodes++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	return n;
}

/* The current token's text, unquoted and unescaped; malloc'd. */
static char *tok_text(struct parser *p)
{
	const char *src = p->s + p->cur.pos;
	size_t n = p->cur.len, i, o = 0;
	char *out;

	if (p->cur.type == T_STRING) {
		src++;
		n -= 2;
	}
	out = malloc(n + 1);
	if (out == NULL) {
		p->oom = true;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (p->cur.type == T_STRING && src[i] == '\\' && i + 1 < n)
			i++;
		out[o++] = src[i];
	}
	out[o] = '\0';
	return out;
}

static int add_value(struct parser *p, struct node *n)
{
	char **grown, *v;

	if (p->cur.type != T_WORD && p->cur.type != T_STRING)
		return fail_at(p, "value");
	if (n->n_vals >= QUERY_MAX_LIST)
		return fail_at(p, "')' (too many values in the list)");
	grown = realloc(n->vals, (n->n_vals + 1) * sizeof(*grown));
	if (grown == NULL) {
		p->oom = true;
		return -1;
	}
	n->vals = grown;
	v = tok_text(p);
	if (v == NULL)
		return -1;
	n->vals[n->n_vals++] = v;
	advance(p);
	return 0;
}

/* ---- the grammar ---- */

static struct node *parse_or(struct parser *p);

static int meta_key_ok(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '_' && k[i] != '-')
			return 0;
	return 1;
}

static int parse_field(struct parser *p, struct node *n)
{
	const char *w = p->s + p->cur.pos;
	size_t len = p->cur.len, i;
	char name[72];

	if (p->cur.type != T_WORD)
		return fail_at(p, "field");
	if (len > 9 && strncasecmp(w, "metadata.", 9) == 0) {
		if (!meta_key_ok(w + 9, len - 9))
			return fail_at(p, "metadata key of letters, digits, '_' or '-'");
		n->field = -1;
		n->key = strndup(w + 9, len - 9);
		if (n->key == NULL)
			p->oom = true;
		advance(p);
		return n->key ? 0 : -1;
	}
	for (i = 0; i < N_FIELDS; i++) {
		if (strlen(fields[i].name) == len && strncasecmp(w, fields[i].name, len) == 0) {
			n->field = (int)i;
			advance(p);
			return 0;
		}
	}
	snprintf(name, sizeof(name), "%.*s", (int)(len < 64 ? len : 64), w);
	return fail_invalid(p, query_fields, "Invalid field '%s'", name);
}

static int parse_list(struct parser *p, struct node *n)
{
	if (p->cur.type != T_LP)
		return fail_at(p, "'('");
	advance(p);
	if (add_value(p, n) != 0)
		return -1;
	while (p->cur.type == T_COMMA) {
		advance(p);
		if (add_value(p, n) != 0)
			return -1;
	}
	if (p->cur.type != T_RP)
		return fail_at(p, "',' or ')'");
	advance(p);
	return 0;
}

static int check_enum(struct parser *p, const struct node *n)
{
	const char *const *opts;
	size_t i, k;

	if (n->field < 0 || n->op == OP_CONTAINS)
		return 0;
	if (fields[n->field].kind == F_STATUS)
		opts = status_options;
	else if (fields[n->field].kind == F_PORTED)
		opts = ported_options;
	else
		return 0;
	for (i = 0; i < n->n_vals; i++) {
		for (k = 0; opts[k] && strcasecmp(opts[k], n->vals[i]) != 0; k++)
			;
		if (opts[k] == NULL)
			return fail_invalid(p, opts, "Invalid value '%.64s' for field '%s'",
					    n->vals[i], fields[n->field].name);
	}
	return 0;
}

static struct node *parse_comparison(struct parser *p)
{
	struct node *n = node_new(p, N_CMP);
	int rc;

	if (n == NULL || parse_field(p, n) != 0)
		return NULL;
	if (p->cur.type == T_EQ || p->cur.type == T_NE) {
		n->op = p->cur.type == T_EQ ? OP_EQ : OP_NE;
		advance(p);
		rc = add_value(p, n);
	} else if (is_kw(p, "in")) {
		n->op = OP_IN;
		advance(p);
		rc = parse_list(p, n);
	} else if (is_kw(p, "contains")) {
		n->op = OP_CONTAINS;
		advance(p);
		rc = add_value(p, n);
	} else {
		rc = fail_at(p, "operator ('=', '!=', 'in' or 'contains')");
	}
	if (rc != 0 || check_enum(p, n) != 0)
		return NULL;
	return n;
}

static struct node *parse_factor(struct parser *p)
{
	struct node *n;

	if (p->cur.type != T_LP)
		return parse_comparison(p);
	if (++p->depth > QUERY_MAX_DEPTH) {
		fail_at(p, "a shallower query (too deeply nested)");
		return NULL;
	}
	advance(p);
	n = parse_or(p);
	if (n == NULL)
		return NULL;
	if (p->cur.type != T_RP) {
		fail_at(p, "')'");
		return NULL;
	}
	advance(p);
	p->depth--;
	return n;
}

/* A chain of sub-expressions joined by kw, flattened into one logical node. */
static struct node *parse_chain(struct parser *p, const char *kw, enum nkind kind,
				struct node *(*sub)(struct parser *))
{
	struct node *first = sub(p), *n, *last, *next;

	if (first == NULL || !is_kw(p, kw))
		return first;
	n = node_new(p, kind);
	if (n == NULL)
		return NULL;
	n->kids = last = first;
	while (is_kw(p, kw)) {
		advance(p);
		next = sub(p);
		if (next == NULL)
			return NULL;
		last->next = next;
		last = next;
	}
	return n;
}

static struct node *parse_and(struct parser *p)
{
	return parse_chain(p, "and", N_AND, parse_factor);
}

static struct node *parse_or(struct parser *p)
{
	return parse_chain(p, "or", N_OR, parse_and);
}

void query_free(struct query *q)
{
	size_t i, k;

	if (q == NULL)
		return;
	for (i = 0; i < q->n_nodes; i++) {
		for (k = 0; k < q->nodes[i].n_vals; k++)
			free(q->nodes[i].vals[k]);
		free(q->nodes[i].vals);
		free(q->nodes[i].key);
	}
	free(q);
}

int query_parse(const char *text, struct query **out, struct query_error *err)
{
	struct parser p = { .s = text, .len = strlen(text), .err = err };

	memset(err, 0, sizeof(*err));
	err->position = -1;
	p.q = calloc(1, sizeof(*p.q));
	if (p.q == NULL)
		return -2;
	lex(&p, 0);
	if (p.len > QUERY_MAX_LEN) {
		p.cur.pos = QUERY_MAX_LEN;
		p.cur.len = 0;
		fail_at(&p, "a query of at most 4096 characters");
	} else if (p.cur.type == T_EOF) {
		fail_at(&p, "field");
	} else {
		p.q->root = parse_or(&p);
		if (p.q->root != NULL && p.cur.type != T_EOF)
			fail_at(&p, p.cur.type == T_RP
					    ? "'and', 'or' or end of query (unbalanced ')')"
					    : "'and', 'or' or end of query");
	}
	if (p.oom || err->type != QUERY_E_NONE) {
		query_free(p.q);
		return p.oom ? -2 : -1;
	}
	*out = p.q;
	return 0;
}

/* ---- growing strings ---- */

struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *grown;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 128) + (size_t)(n < 0 ? 0 : n);
		grown = n < 0 ? NULL : realloc(b->s, cap);
		if (grown == NULL) {
			b->oom = true;
			return;
		}
		b->s = grown;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* ---- description ---- */

static const char *field_name(const struct node *n)
{
	return n->field < 0 ? "metadata" : fields[n->field].name;
}

static void describe(const struct node *n, struct sbuf *b)
{
	static const char *const ops[] = { "=", "!=", " in ", " contains " };
	const struct node *k;
	size_t i;

	if (n->kind != N_CMP) {
		sb_add(b, "LogicalNode(%s", n->kind == N_AND ? "AND" : "OR");
		for (k = n->kids; k; k = k->next) {
			sb_add(b, ", ");
			describe(k, b);
		}
		sb_add(b, ")");
		return;
	}
	sb_add(b, "ComparisonNode(%s%s%s%s", field_name(n), n->key ? "." : "",
	       n->key ? n->key : "", ops[n->op]);
	if (n->op == OP_IN)
		sb_add(b, "(");
	for (i = 0; i < n->n_vals; i++)
		sb_add(b, "%s%s", i ? "," : "", n->vals[i]);
	sb_add(b, n->op == OP_IN ? "))" : ")");
}

char *query_describe(const struct query *q)
{
	struct sbuf b = { 0 };

	describe(q->root, &b);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* ---- compiling ---- */

struct compiler {
	struct sbuf sql;
	char **binds;
	size_t n, cap;
	bool oom;
	bool untallied; /* a field inv_tally does not keep was used */
};

static void bind_take(struct compiler *c, char *v)
{
	char **grown;

	if (v == NULL || c->oom) {
		c->oom = true;
		free(v);
		return;
	}
	if (c->n == c->cap) {
		grown = realloc(c->binds, (c->cap ? c->cap * 2 : 8) * sizeof(*grown));
		if (grown == NULL) {
			c->oom = true;
			free(v);
			return;
		}
		c->binds = grown;
		c->cap = c->cap ? c->cap * 2 : 8;
	}
	c->binds[c->n++] = v;
}

/* The value as stored: upper-case codes and statuses, lower-case ported. */
static char *normal(const struct node *n, const char *v, bool like)
{
	enum fkind kind = n->field < 0 ? F_META : fields[n->field].kind;
	size_t len = strlen(v), i, o = 0;
	char *out = malloc(len * 2 + 3);

	if (out == NULL)
		return NULL;
	if (like)
		out[o++] = '%';
	for (i = 0; i < len; i++) {
		char ch = v[i];
		if (kind == F_UPPER || kind == F_STATUS)
			ch = (char)toupper((unsigned char)ch);
		else if (kind == F_PORTED)
			ch = (char)tolower((unsigned char)ch);
		if (like && (ch == '%' || ch == '_' || ch == '\\'))
			out[o++] = '\\';
		out[o++] = ch;
	}
	if (like)
		out[o++] = '%';
	out[o] = '\0';
	return out;
}

static void compile_column(struct compiler *c, const struct node *n)
{
	if (n->field < 0) {
		size_t len = strlen(n->key) + 5;
		char *path = malloc(len);

		if (path)
			snprintf(path, len, "$.\"%s\"", n->key);
		bind_take(c, path);
		sb_add(&c->sql, "CAST(json_extract(metadata, ?) AS TEXT)");
	} else if (fields[n->field].kind == F_INT && n->op == OP_CONTAINS) {
		sb_add(&c->sql, "CAST(%s AS TEXT)", fields[n->field].column);
	} else {
		sb_add(&c->sql, "%s", fields[n->field].column);
	}
}

/* metadata.<key> = or in: a lookup in inv_meta's (key, value) index. */
static void compile_meta_lookup(struct compiler *c, const struct node *n)
{
	size_t i;

	sb_add(&c->sql, "(id IN (SELECT number_id FROM inv_meta WHERE key = ? AND value IN (");
	for (i = 0; i < n->n_vals; i++)
		sb_add(&c->sql, i ? ",?" : "?");
	sb_add(&c->sql, ")))");
	bind_take(c, strdup(n->key));
	for (i = 0; i < n->n_vals; i++)
		bind_take(c, normal(n, n->vals[i], false));
}

static void compile_cmp(struct compiler *c, const struct node *n)
{
	bool nocase = n->field >= 0 && fields[n->field].kind == F_NOCASE;
	const char *coll = nocase ? " COLLATE NOCASE" : "";
	size_t i;

	if (n->field < 0 || strcmp(fields[n->field].column, "tn") == 0 ||
	    strcmp(fields[n->field].column, "lrn") == 0)
		c->untallied = true;
	if (n->field < 0 && (n->op == OP_EQ || n->op == OP_IN)) {
		compile_meta_lookup(c, n);
		return;
	}
	sb_add(&c->sql, "(");
	compile_column(c, n);
	switch (n->op) {
	case OP_EQ: sb_add(&c->sql, " = ?%s)", coll); break;
	case OP_NE: sb_add(&c->sql, " IS NOT ?%s)", coll); break;
	case OP_CONTAINS: sb_add(&c->sql, " LIKE ? ESCAPE '\\')"); break;
	case OP_IN:
		sb_add(&c->sql, "%s IN (", coll);
		for (i = 0; i < n->n_vals; i++)
			sb_add(&c->sql, i ? ",?" : "?");
		sb_add(&c->sql, "))");
		break;
	}
	for (i = 0; i < n->n_vals; i++)
		bind_take(c, normal(n, n->vals[i], n->op == OP_CONTAINS));
}

static void compile_node(struct compiler *c, const struct node *n)
{
	const struct node *k;

	if (n->kind == N_CMP) {
		compile_cmp(c, n);
		return;
	}
	sb_add(&c->sql, "(");
	for (k = n->kids; k; k = k->next) {
		if (k != n->kids)
			sb_add(&c->sql, n->kind == N_AND ? " AND " : " OR ");
		compile_node(c, k);
	}
	sb_add(&c->sql, ")");
}

void query_sql_free(struct query_sql *s)
{
	size_t i;

	for (i = 0; i < s->n_binds; i++)
		free(s->binds[i]);
	free(s->binds);
	free(s->where);
	memset(s, 0, sizeof(*s));
}

int query_compile(const struct query *q, struct query_sql *out)
{
	struct compiler c = { 0 };
	struct query_sql s;

	compile_node(&c, q->root);
	s.where = c.sql.s;
	s.binds = c.binds;
	s.n_binds = c.n;
	s.tallied = !c.untallied;
	if (c.oom || c.sql.oom) {
		query_sql_free(&s);
		return -1;
	}
	*out = s;
	return 0;
}
