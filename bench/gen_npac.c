/* gen_npac.c - synthetic NPAC subscription-version BDD (LSMS layout) at any size.
 *
 * usage: gen_npac COUNT [--codes CSV] [--out FILE] [--seed N] [--lrns N] [--spids N]
 *
 * Numbers are spread over the In Service NPA-NXX codes of the Canadian CO
 * code status CSV (../shared/data/nanp/ca-cocode-status.csv); when the file
 * is missing, or its codes cannot hold COUNT numbers at a realistic density,
 * valid codes that are not in it are added. Codes get uneven loads (a few
 * nearly full, many sparse), numbers come in runs of consecutive lines that
 * port together, and each run routes to one of --lrns LRNs (30,000 by
 * default, skewed: a few LRNs carry most numbers), each LRN owned by one of
 * --spids SPIDs (2,000), each SPID with its CNAM DPC or none. Lines come out
 * in ascending number order, CR-terminated, as NPAC writes them.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/tn.h"

#define MEAN_PER_CODE 3000u /* about 30% of a code ported, on average */
#define OUT_BUF (4u << 20)

struct gen {
	uint64_t rng;
	unsigned *codes; /* NPA-NXX */
	size_t n_codes;
	uint64_t *lrn;
	uint32_t *lrn_spid;
	uint32_t n_lrns, n_spids;
	char (*spid)[5];
	char (*dpc)[10];
	FILE *out;
	char *buf;
	size_t len;
	uint64_t version;
};

static uint64_t rnd(struct gen *g)
{
	g->rng ^= g->rng << 13;
	g->rng ^= g->rng >> 7;
	g->rng ^= g->rng << 17;
	return g->rng;
}

static uint64_t below(struct gen *g, uint64_t n)
{
	return n ? rnd(g) % n : 0;
}

/* "204,200,\"In Service\",..." -> 204200; 0 for anything else. */
static unsigned csv_code(const char *line)
{
	unsigned npa, nxx;
	char status[32];

	if (sscanf(line, "%u,%u,\"%31[^\"]\"", &npa, &nxx, status) != 3)
		return 0;
	if (strcmp(status, "In Service") != 0 || !tn_npa_valid(npa) || !tn_nxx_valid(nxx))
		return 0;
	return npa * 1000u + nxx;
}

static int load_codes(struct gen *g, const char *csv, unsigned char *used)
{
	FILE *fp = csv ? fopen(csv, "r") : NULL;
	char line[1024];

	if (fp == NULL) {
		fprintf(stderr, "gen_npac: %s not readable, generating codes\n", csv ? csv : "-");
		return 0;
	}
	while (fgets(line, sizeof(line), fp)) {
		unsigned c = csv_code(line);

		if (c && !used[c]) {
			used[c] = 1;
			g->codes[g->n_codes++] = c;
		}
	}
	fclose(fp);
	fprintf(stderr, "gen_npac: %zu In Service codes from %s\n", g->n_codes, csv);
	return 0;
}

/* Valid codes not in the file, in a scattered order, until `need` codes in all. */
static void add_codes(struct gen *g, size_t need, unsigned char *used)
{
	size_t added = 0;

	for (uint64_t i = 0; g->n_codes < need && i < 4000000u; i++) {
		unsigned c = (unsigned)(below(g, 800) + 200) * 1000u + (unsigned)(below(g, 800) + 200);

		if (used[c] || !tn_npa_valid(c / 1000u) || !tn_nxx_valid(c % 1000u) ||
		    tn_npa_tollfree(c / 1000u))
			continue;
		used[c] = 1;
		g->codes[g->n_codes++] = c;
		added++;
	}
	if (added)
		fprintf(stderr, "gen_npac: %zu generated codes added\n", added);
}

static int cmp_u(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static void make_routes(struct gen *g)
{
	for (uint32_t s = 0; s < g->n_spids; s++) {
		snprintf(g->spid[s], 5, "%c%03u", 'A' + (int)(s / 1000 % 26), s % 1000);
		if (s % 4 != 3)
			snprintf(g->dpc[s], 10, "%03u%03u%03u", (unsigned)(1 + s % 255),
				 (unsigned)(s / 255 % 256), (unsigned)(below(g, 256)));
		else
			g->dpc[s][0] = '\0';
	}
	for (uint32_t i = 0; i < g->n_lrns; i++) {
		unsigned code = g->codes[below(g, g->n_codes)];

		g->lrn[i] = (uint64_t)code * 10000u + below(g, 10000);
		/* SPIDs own LRNs unevenly too */
		g->lrn_spid[i] = (uint32_t)(below(g, g->n_spids) * below(g, g->n_spids) /
					     (g->n_spids ? g->n_spids : 1));
	}
}

static void put(struct gen *g, const char *s, size_t n)
{
	if (g->len + n > OUT_BUF) {
		fwrite(g->buf, 1, g->len, g->out);
		g->len = 0;
	}
	memcpy(g->buf + g->len, s, n);
	g->len += n;
}

static size_t digits(char *p, uint64_t v, int width)
{
	char t[24];
	int n = 0;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		t[n++] = '0';
	for (int i = 0; i < n; i++)
		p[i] = t[n - 1 - i];
	return (size_t)n;
}

static void emit(struct gen *g, uint64_t tn, uint32_t lrn)
{
	char line[128];
	size_t n = 0;
	uint32_t s = g->lrn_spid[lrn];

	n += digits(line + n, ++g->version, 1);
	line[n++] = '|';
	n += digits(line + n, tn, 10);
	line[n++] = '|';
	n += digits(line + n, g->lrn[lrn], 10);
	line[n++] = '|';
	memcpy(line + n, g->spid[s], 4);
	n += 4;
	memcpy(line + n, "|20240101120000|||||||", 22);
	n += 22;
	if (g->dpc[s][0]) {
		memcpy(line + n, g->dpc[s], 9);
		n += 9;
		memcpy(line + n, "|0", 2);
		n += 2;
	} else {
		line[n++] = '|';
	}
	memcpy(line + n, "||||0|0\r", 8);
	n += 8;
	put(g, line, n);
}

/* Fill one code with `count` numbers in runs; emit them ascending. */
static void fill_code(struct gen *g, unsigned code, unsigned count, uint32_t *route,
		      unsigned char *set)
{
	unsigned placed = 0;

	memset(set, 0, 10000);
	while (placed < count) {
		unsigned start = (unsigned)below(g, 10000), len = 1 + (unsigned)below(g, 64);
		uint64_t r = below(g, g->n_lrns);
		uint32_t lrn = (uint32_t)(r * below(g, g->n_lrns) / (g->n_lrns ? g->n_lrns : 1));

		if (below(g, 4) == 0)
			len = 1; /* single ports are common too */
		for (unsigned l = start; l < 10000 && l < start + len && placed < count; l++)
			if (!set[l]) {
				set[l] = 1;
				route[l] = lrn;
				placed++;
			}
	}
	for (unsigned l = 0; l < 10000; l++)
		if (set[l])
			emit(g, (uint64_t)code * 10000u + l, route[l]);
}

/* How many numbers each code holds: uneven, summing to total. */
static void plan(struct gen *g, uint64_t total, unsigned *load)
{
	uint64_t left = total, mean = total / g->n_codes + 1;

	for (size_t i = 0; i < g->n_codes && left; i++) {
		uint64_t f = below(g, 100), want;

		want = f < 50 ? mean / 10 + 1 : f < 85 ? mean : f < 97 ? mean * 2 : mean * 3;
		if (want > 10000)
			want = 10000;
		if (want > left)
			want = left;
		load[i] = (unsigned)want;
		left -= want;
	}
	for (size_t i = 0; left && i < g->n_codes; i++) {
		uint64_t room = 10000u - load[i], add = room < left ? room : left;

		load[i] += (unsigned)add;
		left -= add;
	}
}

static int run(struct gen *g, uint64_t total, const char *csv)
{
	unsigned char *used = calloc(1000000, 1), set[10000];
	uint32_t *route = malloc(10000 * sizeof(uint32_t));
	unsigned *load;
	size_t need = (size_t)(total / MEAN_PER_CODE) + 1;

	g->codes = malloc(1000000 * sizeof(unsigned));
	if (used == NULL || route == NULL || g->codes == NULL)
		return -1;
	load_codes(g, csv, used);
	add_codes(g, need, used);
	if ((uint64_t)g->n_codes * 10000u < total) {
		fprintf(stderr, "gen_npac: %llu numbers do not fit in %zu codes\n",
			(unsigned long long)total, g->n_codes);
		return -1;
	}
	/* Use an evenly spread subset when there are more real codes than needed. */
	if (g->n_codes > need * 2) {
		size_t step = g->n_codes / need, k = 0;

		for (size_t i = 0; i < g->n_codes; i += step)
			g->codes[k++] = g->codes[i];
		g->n_codes = k;
	}
	qsort(g->codes, g->n_codes, sizeof(unsigned), cmp_u);
	load = calloc(g->n_codes, sizeof(unsigned));
	if (load == NULL)
		return -1;
	make_routes(g);
	plan(g, total, load);
	for (size_t i = 0; i < g->n_codes; i++)
		if (load[i])
			fill_code(g, g->codes[i], load[i], route, set);
	fwrite(g->buf, 1, g->len, g->out);
	fprintf(stderr, "gen_npac: %llu SVs over %zu codes, %u LRNs, %u SPIDs\n",
		(unsigned long long)g->version, g->n_codes, g->n_lrns, g->n_spids);
	free(load);
	free(used);
	free(route);
	return 0;
}

int main(int argc, char **argv)
{
	struct gen g = { .rng = 88172645463325252ull, .n_lrns = 30000, .n_spids = 2000 };
	const char *csv = "../shared/data/nanp/ca-cocode-status.csv", *out = NULL;
	uint64_t total;
	int rc;

	if (argc < 2 || (total = strtoull(argv[1], NULL, 10)) == 0 || total > 2000000000ull) {
		fprintf(stderr, "usage: gen_npac COUNT [--codes CSV] [--out FILE] [--seed N] "
				"[--lrns N] [--spids N]\n");
		return 2;
	}
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--codes") == 0)
			csv = argv[i + 1];
		else if (strcmp(argv[i], "--out") == 0)
			out = argv[i + 1];
		else if (strcmp(argv[i], "--seed") == 0)
			g.rng = strtoull(argv[i + 1], NULL, 10) | 1u;
		else if (strcmp(argv[i], "--lrns") == 0)
			g.n_lrns = (uint32_t)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--spids") == 0)
			g.n_spids = (uint32_t)strtoul(argv[i + 1], NULL, 10);
	}
	if (g.n_lrns == 0 || g.n_spids == 0)
		return 2;
	g.out = out ? fopen(out, "wb") : stdout;
	g.buf = malloc(OUT_BUF);
	g.lrn = malloc(g.n_lrns * sizeof(*g.lrn));
	g.lrn_spid = malloc(g.n_lrns * sizeof(*g.lrn_spid));
	g.spid = malloc(g.n_spids * sizeof(*g.spid));
	g.dpc = malloc(g.n_spids * sizeof(*g.dpc));
	if (g.out == NULL || !g.buf || !g.lrn || !g.lrn_spid || !g.spid || !g.dpc) {
		perror("gen_npac");
		return 1;
	}
	rc = run(&g, total, csv);
	if (fclose(g.out) != 0)
		rc = -1;
	return rc == 0 ? 0 : 1;
}
