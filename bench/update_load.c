/* update_load.c - single-SV changes at a steady rate into a data directory's
 * lookup store, through portover_apply_batch(), while ringerd serves it.
 *
 * usage: update_load DATA_DIR TN_FILE RATE SECONDS [BATCH_MS]
 * Every BATCH_MS (default 50) one transaction applies RATE * BATCH_MS / 1000
 * changes to numbers drawn from TN_FILE (one a line, e.g. lookup_bench's):
 * 70% re-route to another LRN, 20% port a neighbouring number, 10% delete.
 * Versions start above the store's watermark, so every change is new.
 * Prints: changes applied, changes/s achieved, overlay rows changed, and the
 * p50/p99/max commit time of a batch.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "numdb/portover.h"
#include "numdb/store.h"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static uint64_t *read_tns(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "r");
	uint64_t *v = NULL, *nv;
	size_t cap = 0;
	unsigned long long tn;

	*n = 0;
	if (fp == NULL)
		return NULL;
	while (fscanf(fp, "%llu", &tn) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 4096;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				break;
			v = nv;
		}
		v[(*n)++] = tn;
	}
	fclose(fp);
	return v;
}

static void make_change(struct port_change *c, const uint64_t *tns, size_t n, int64_t version,
			uint64_t *rng)
{
	uint64_t r = rnd(rng), tn = tns[r % n];
	unsigned kind = (unsigned)(r >> 40) % 10;

	memset(c, 0, sizeof(*c));
	c->version = version;
	c->tn = kind < 7 ? tn : (tn / 10000) * 10000 + (tn + (r >> 20)) % 10000;
	c->deleted = kind == 9;
	if (!c->deleted) {
		/* An LRN in the number's own NPA-NXX, one of 100 SPIDs. */
		c->lrn = (c->tn / 10000) * 10000 + (r >> 50) % 10000;
		snprintf(c->spid, sizeof(c->spid), "U%03u", (unsigned)(r >> 32) % 100);
	}
}

int main(int argc, char **argv)
{
	uint64_t rng = 0x2545f4914f6cdd1dull, *tns;
	unsigned rate, secs, batch_ms = argc > 5 ? (unsigned)atoi(argv[5]) : 50;
	size_t n_tns, per_batch, nb = 0, applied = 0;
	struct port_change *batch;
	double t0, *lat;
	long changed = 0, total_changed = 0;
	int64_t version;
	char path[600];
	sqlite3 *db;

	if (argc < 5 || (rate = (unsigned)atoi(argv[3])) == 0 ||
	    (secs = (unsigned)atoi(argv[4])) == 0 ||
	    batch_ms == 0) {
		fprintf(stderr, "usage: update_load DATA_DIR TN_FILE RATE SECONDS [BATCH_MS]\n");
		return 2;
	}
	log_set_level(LOG_WARN);
	snprintf(path, sizeof(path), "%s/lookup.db", argv[1]);
	tns = read_tns(argv[2], &n_tns);
	per_batch = (size_t)rate * batch_ms / 1000u;
	batch = calloc(per_batch + 1, sizeof(*batch));
	lat = calloc((size_t)secs * 1000u / batch_ms + 2, sizeof(*lat));
	if (tns == NULL || n_tns == 0 || batch == NULL || lat == NULL || per_batch == 0 ||
	    numstore_open(path, false, &db) != 0) {
		fprintf(stderr, "update_load: cannot read %s or open %s\n", argv[2], path);
		return 1;
	}
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (portover_watermark(db, &version) != 0)
		return 1;
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	t0 = now_s();
	for (double next = t0; next < t0 + secs; next += batch_ms / 1000.0) {
		double a, wait = next - now_s();

		if (wait > 0) {
			struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };

			nanosleep(&ts, NULL);
		}
		for (size_t i = 0; i < per_batch; i++)
			make_change(&batch[i], tns, n_tns, ++version, &rng);
		a = now_s();
		if (portover_apply_batch(db, batch, per_batch, &changed) != 0) {
			fprintf(stderr, "update_load: batch failed\n");
			return 1;
		}
		lat[nb++] = now_s() - a;
		applied += per_batch;
		total_changed += changed;
	}
	t0 = now_s() - t0;
	qsort(lat, nb, sizeof(*lat), cmp_d);
	printf("updates: %zu changes in %.1f s = %.0f changes/s (%ld rows changed), %zu batches "
	       "of %zu, commit p50 %.1f ms p99 %.1f ms max %.1f ms\n", applied, t0,
	       (double)applied / t0, total_changed, nb, per_batch, lat[nb / 2] * 1e3,
	       lat[nb * 99 / 100] * 1e3, lat[nb - 1] * 1e3);
	numstore_close(db);
	free(tns);
	free(batch);
	free(lat);
	return 0;
}
