/* Shared by the kernel benchmarks: timing by median of repeats, a
 * STREAM-like triad as the memory-bandwidth peer, and one JSON object per
 * measured row (to stdout, after the human table line). Benchmarks are not
 * tests: nothing here asserts a time. */
#ifndef HWK_BENCH_COMMON_H
#define HWK_BENCH_COMMON_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/hwk.h"

static inline double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median seconds per call of fn(ctx): each of `reps` samples runs fn
 * enough times to last at least min_s (the machine is shared and noisy;
 * the median resists that). */
static inline double bench_time(void (*fn)(void *), void *ctx, int reps, double min_s)
{
	double samples[64];
	if (reps > 64)
		reps = 64;
	fn(ctx); /* warm caches, fault pages in */
	long iters = 1;
	for (;;) {
		double t0 = bench_now();
		for (long i = 0; i < iters; i++)
			fn(ctx);
		double t = bench_now() - t0;
		if (t >= min_s || iters > (1l << 30))
			break;
		iters = t > 0 ? (long)(iters * (min_s / t) * 1.2) + 1 : iters * 10;
	}
	for (int r = 0; r < reps; r++) {
		double t0 = bench_now();
		for (long i = 0; i < iters; i++)
			fn(ctx);
		samples[r] = (bench_now() - t0) / (double)iters;
	}
	qsort(samples, (size_t)reps, sizeof(double), bench_cmp);
	return samples[reps / 2];
}

/* Environment knobs so `make bench-kernels` can be quick or thorough. */
static inline int bench_reps(void)
{
	const char *e = getenv("BENCH_REPS");
	int r = e ? atoi(e) : 5;
	return r < 1 ? 1 : r;
}

static inline double bench_min_s(void)
{
	const char *e = getenv("BENCH_MIN_S");
	double s = e ? atof(e) : 0.05;
	return s > 0 ? s : 0.05;
}

struct triad_ctx {
	float *a, *b, *c;
	size_t n;
	const struct hwk_parallel *par;
};

static void triad_task(void *p, size_t t)
{
	struct triad_ctx *c = p;
	size_t threads = hwk_parallel_threads(c->par);
	size_t per = (c->n + threads - 1) / threads;
	size_t lo = t * per, hi = lo + per > c->n ? c->n : lo + per;
	for (size_t i = lo; i < hi; i++)
		c->a[i] = c->b[i] + 3.0f * c->c[i];
}

static void triad_run(void *p)
{
	struct triad_ctx *c = p;
	hwk_parallel_for(c->par, hwk_parallel_threads(c->par), triad_task, c);
}

/* Triad bandwidth in GB/s (3 arrays of n floats: two read, one written)
 * over arrays far beyond the last-level cache. */
static inline double bench_triad_gbs(size_t n, const struct hwk_parallel *par)
{
	struct triad_ctx c = { hwk_alloc(n * 4), hwk_alloc(n * 4), hwk_alloc(n * 4), n, par };
	if (!c.a || !c.b || !c.c) {
		fprintf(stderr, "triad: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < n; i++) {
		c.a[i] = 0;
		c.b[i] = (float)i;
		c.c[i] = 1;
	}
	double s = bench_time(triad_run, &c, bench_reps(), bench_min_s());
	hwk_free(c.a);
	hwk_free(c.b);
	hwk_free(c.c);
	return 3.0 * 4.0 * (double)n / s / 1e9;
}

/* One result row: a JSON object per line, prefixed so the table and the
 * JSON can share stdout: "JSON {...}". */
static inline void bench_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void bench_json(const char *fmt, ...)
{
	va_list ap;
	printf("JSON {");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("}\n");
	fflush(stdout);
}

#endif
