/* lookup_bench.c - in-process LRN lookups: median ns of numdb_lrn() over random
 * ported and non-ported numbers of a data directory's generation.
 *
 * usage: lookup_bench DATA_DIR [LOOKUPS] [TN_FILE]
 * Half the lookups are sampled ported numbers, half random lines of the same
 * codes (ported or not, as the data has it).
 * TN_FILE, when given, receives a sample of ported and non-ported numbers
 * (one a line) for the HTTP benchmark.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "numdb/numdb.h"
#include "numdb/store.h"

#define SAMPLE 200000u
#define BATCH 64u

struct sample {
	uint64_t *tn;
	size_t n, seen;
	uint64_t rng;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Reservoir sample of the ported numbers. */
static int take(void *ctx, uint64_t tn, const struct port_profile *p)
{
	struct sample *s = ctx;
	uint64_t j;

	(void)p;
	s->seen++;
	if (s->n < SAMPLE) {
		s->tn[s->n++] = tn;
		return 0;
	}
	j = rnd(&s->rng) % s->seen;
	if (j < SAMPLE)
		s->tn[j] = tn;
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	struct sample s = { .rng = 0x9e3779b97f4a7c15ull };
	size_t lookups = argc > 2 ? strtoull(argv[2], NULL, 10) : 2000000u, nb;
	uint64_t *mix, sink = 0;
	struct numdb *g;
	double *batch, t0;
	char path[600];
	sqlite3 *db;

	if (argc < 2)
		return 2;
	log_set_level(LOG_WARN);
	snprintf(path, sizeof(path), "%s/lookup.db", argv[1]);
	t0 = now_ns();
	if (numstore_open(path, true, &db) != 0 || numdb_build(db, &g) != 0)
		return 1;
	printf("generation ready in %.0f ms\n", (now_ns() - t0) / 1e6);
	s.tn = malloc(SAMPLE * sizeof(uint64_t));
	numdb_ported_walk(g, 0, take, &s);
	if (s.n == 0)
		return 1;
	/* Half ported, half the next number over (mostly not ported). */
	mix = malloc(lookups * sizeof(uint64_t));
	for (size_t i = 0; i < lookups; i++) {
		uint64_t tn = s.tn[rnd(&s.rng) % s.n];

		/* The other half: any line of the same code, so always a valid number. */
		mix[i] = i % 2 ? tn : tn - tn % 10000u + rnd(&s.rng) % 10000u;
	}
	nb = lookups / BATCH;
	batch = malloc(nb * sizeof(double));
	for (size_t b = 0; b < nb; b++) {
		double t = now_ns();

		for (size_t i = b * BATCH; i < (b + 1) * BATCH; i++) {
			struct lrn_answer a;

			numdb_lrn(g, mix[i], &a);
			sink += a.lrn;
		}
		batch[b] = (now_ns() - t) / BATCH;
	}
	qsort(batch, nb, sizeof(double), cmp_d);
	printf("lookups=%zu ported_sampled=%zu median_ns=%.1f p99_ns=%.1f (sink %llu)\n",
	       nb * BATCH, s.n, batch[nb / 2], batch[nb * 99 / 100],
	       (unsigned long long)(sink & 1));
	if (argc > 3) {
		FILE *f = fopen(argv[3], "w");

		for (size_t i = 0; f && i < 100000 && i < lookups; i++)
			fprintf(f, "%010llu\n", (unsigned long long)mix[i]);
		if (f)
			fclose(f);
	}
	numdb_free(g);
	numstore_close(db);
	free(mix);
	free(batch);
	free(s.tn);
	return 0;
}
