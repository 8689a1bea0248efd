/* metrics.h - process-wide counters, gauges and histograms in Prometheus form.
 *
 * A module defines its metrics as static objects, registers them once before
 * threads start (metrics_register), and updates them from any thread with
 * atomic operations that take no lock. GET /metrics renders every registered
 * metric in the Prometheus text exposition format (version 0.0.4).
 */
#ifndef RINGER_BASE_METRICS_H
#define RINGER_BASE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

enum metric_kind { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

/* Histogram bucket upper bounds in seconds; the +Inf bucket is implicit. */
#define METRIC_BUCKETS 11

struct metric {
	const char *name; /* "ringer_cnam_cache_hits_total" */
	const char *help; /* one line */
	enum metric_kind kind;
	atomic_int_fast64_t value;                     /* counter or gauge */
	atomic_uint_fast64_t buckets[METRIC_BUCKETS + 1]; /* histogram: per bucket, +Inf last */
	atomic_uint_fast64_t sum_us;                   /* histogram: sum of observations */
	struct metric *next;                           /* registry link */
	int registered;
};

#define METRIC_COUNTER_INIT(nm, hp) { .name = nm, .help = hp, .kind = METRIC_COUNTER }
#define METRIC_GAUGE_INIT(nm, hp) { .name = nm, .help = hp, .kind = METRIC_GAUGE }
#define METRIC_HISTOGRAM_INIT(nm, hp) { .name = nm, .help = hp, .kind = METRIC_HISTOGRAM }

/* Add m to the rendered set; registering twice is harmless. Not thread-safe. */
void metrics_register(struct metric *m);

/* Counter: add n. */
void metrics_add(struct metric *m, uint64_t n);

/* Gauge: set to v, or add d (may be negative). */
void metrics_set(struct metric *m, int64_t v);
void metrics_gauge_add(struct metric *m, int64_t d);

/* Histogram: record one observation of us microseconds. */
void metrics_observe_us(struct metric *m, uint64_t us);

/* Current counter or gauge value; for a histogram, the number of observations. */
int64_t metrics_value(const struct metric *m);

/* Append every registered metric to b. Returns 0, or -1 when b is full. */
int metrics_render(struct buf *b);

#endif
