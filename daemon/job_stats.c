#include "job_stats.h"

const double js_time_le[JS_TIME_BUCKETS] = {
	50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3,
	50e-3, 100e-3, 250e-3, 500e-3, 1.0, 2.5, 5.0, 10.0, 30.0,
};

const double js_batch_le[JS_BATCH_BUCKETS] = { 1, 2, 4, 8, 16, 32, 64, 128, 256 };

static size_t bucket(const double *le, size_t n, double v)
{
	size_t i = 0;
	while (i < n && v > le[i])
		i++;
	return i;
}

void js_time_observe(struct js_hist_time *h, double seconds)
{
	h->counts[bucket(js_time_le, JS_TIME_BUCKETS, seconds)]++;
	h->count++;
	h->sum += seconds;
}

void js_batch_observe(struct js_hist_batch *h, double requests)
{
	h->counts[bucket(js_batch_le, JS_BATCH_BUCKETS, requests)]++;
	h->count++;
	h->sum += requests;
}

double js_time_quantile(const struct js_hist_time *now, const struct js_hist_time *then, double q)
{
	uint64_t total = now->count - (then ? then->count : 0);
	if (!total)
		return -1;
	/* The rank of the quantile, 1-based, rounded up: p99 of 100 is the 99th. */
	double rank = q * (double)total;
	uint64_t need = (uint64_t)rank + ((double)(uint64_t)rank < rank);
	if (need < 1)
		need = 1;
	uint64_t cum = 0;
	for (size_t i = 0; i < JS_TIME_BUCKETS; i++) {
		cum += now->counts[i] - (then ? then->counts[i] : 0);
		if (cum >= need)
			return js_time_le[i];
	}
	return js_time_le[JS_TIME_BUCKETS - 1];
}
