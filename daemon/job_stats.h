/* Fixed-bucket histograms for job times and batch sizes: cheap to update
 * on the loop thread, rendered as Prometheus histograms, and differenced
 * between snapshots for interval quantiles (p99 in `top`). */
#ifndef HWOPTD_JOB_STATS_H
#define HWOPTD_JOB_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Seconds: 50 µs .. 10 s, roughly 1-2.5-5 per decade. */
#define JS_TIME_BUCKETS 18
extern const double js_time_le[JS_TIME_BUCKETS];
/* Requests per run: 1, 2, 4 .. 256. */
#define JS_BATCH_BUCKETS 9
extern const double js_batch_le[JS_BATCH_BUCKETS];

struct js_hist_time {
	uint64_t counts[JS_TIME_BUCKETS + 1]; /* last: above the largest bound */
	uint64_t count;
	double sum;
};

struct js_hist_batch {
	uint64_t counts[JS_BATCH_BUCKETS + 1];
	uint64_t count;
	double sum;
};

void js_time_observe(struct js_hist_time *h, double seconds);
void js_batch_observe(struct js_hist_batch *h, double requests);

/* The q-quantile (0..1) of the observations in now minus then, as the upper
 * bound of the bucket where it falls (the largest bound when above it);
 * -1 when no observation lies between them. */
double js_time_quantile(const struct js_hist_time *now, const struct js_hist_time *then, double q);

#endif
