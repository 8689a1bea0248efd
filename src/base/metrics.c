/* metrics.c - atomic metrics and their Prometheus text rendering. */
#include "metrics.h"

#include <pthread.h>

/* Bucket bounds in microseconds: 5 ms to 5 s, enough to tell a cache from a dip. */
static const uint64_t bounds_us[METRIC_BUCKETS] = {
	1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct metric *head;
static struct metric **tail = &head;

void metrics_register(struct metric *m)
{
	pthread_mutex_lock(&reg_lock);
	if (!m->registered) {
		/* Appended, so /metrics lists metrics in the order modules registered them. */
		m->registered = 1;
		m->next = NULL;
		*tail = m;
		tail = &m->next;
	}
	pthread_mutex_unlock(&reg_lock);
}

void metrics_add(struct metric *m, uint64_t n)
{
	atomic_fetch_add_explicit(&m->value, (int_fast64_t)n, memory_order_relaxed);
}

void metrics_set(struct metric *m, int64_t v)
{
	atomic_store_explicit(&m->value, v, memory_order_relaxed);
}

void metrics_gauge_add(struct metric *m, int64_t d)
{
	atomic_fetch_add_explicit(&m->value, d, memory_order_relaxed);
}

void metrics_observe_us(struct metric *m, uint64_t us)
{
	size_t i = 0;

	while (i < METRIC_BUCKETS && us > bounds_us[i])
		i++;
	atomic_fetch_add_explicit(&m->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->sum_us, us, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->value, 1, memory_order_relaxed);
}

int64_t metrics_value(const struct metric *m)
{
	return atomic_load_explicit(&m->value, memory_order_relaxed);
}

static const char *kind_name(enum metric_kind k)
{
	return k == METRIC_COUNTER ? "counter" : k == METRIC_GAUGE ? "gauge" : "histogram";
}

/* Buckets are cumulative in the exposition format; ours are per bucket. */
static int render_histogram(struct buf *b, struct metric *m)
{
	uint64_t cum = 0, sum = atomic_load(&m->sum_us);
	int rc = 0;

	for (size_t i = 0; i <= METRIC_BUCKETS && rc == 0; i++) {
		cum += atomic_load(&m->buckets[i]);
		if (i < METRIC_BUCKETS)
			rc = buf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", m->name,
					(double)bounds_us[i] / 1e6, (unsigned long long)cum);
		else
			rc = buf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", m->name,
					(unsigned long long)cum);
	}
	if (rc == 0)
		rc = buf_printf(b, "%s_sum %.6f\n%s_count %llu\n", m->name, (double)sum / 1e6,
				m->name, (unsigned long long)cum);
	return rc;
}

int metrics_render(struct buf *b)
{
	int rc = 0;

	pthread_mutex_lock(&reg_lock);
	for (struct metric *m = head; m && rc == 0; m = m->next) {
		rc = buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
				kind_name(m->kind));
		if (rc != 0)
			break;
		if (m->kind == METRIC_HISTOGRAM)
			rc = render_histogram(b, m);
		else
			rc = buf_printf(b, "%s %lld\n", m->name, (long long)metrics_value(m));
	}
	pthread_mutex_unlock(&reg_lock);
	return rc;
}
