/* int4 weight-only GEMV/GEMM: GB/s of weight bytes streamed (nibbles,
 * scales, minimums) beside a STREAM-like triad measured just before each
 * row (the machine is shared: one triad per run let a noisy moment skew
 * every ratio), and GFLOPS. Weights sized beyond the caches, as at decode
 * time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/kernels/common.h"
#include "kernels/f32-qb4-gemm/qb4.h"

struct ctx {
	size_t m;
	const float *x;
	const struct hwk_qb4_weights *w;
	float *y;
	const struct hwk_parallel *par;
};

static void run(void *p)
{
	struct ctx *c = p;
	hwk_f32_qb4_gemm(c->m, c->x, c->w->k, c->w, NULL, c->y, c->w->n, c->par);
}

int main(void)
{
	static const size_t shapes[][3] = {
		/* m, n, k */
		{ 1, 4096, 4096 }, { 1, 11008, 4096 }, { 1, 4096, 11008 },
		{ 8, 4096, 4096 }, { 32, 4096, 4096 },
	};
	printf("%-24s %4s %3s %10s %10s %10s %8s\n", "int4 gemm (m x n x k)", "asym", "thr",
	       "GFLOPS", "GB/s", "triad GB/s", "ratio");
	for (size_t threads = 1; threads <= 2; threads++) {
		struct hwk_pool *pool = threads > 1 ? hwk_pool_create(threads) : NULL;
		const struct hwk_parallel *par = pool ? hwk_pool_parallel(pool) : NULL;
		for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
			for (int asym = 0; asym < 2; asym++) {
				size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
				float *src = hwk_alloc(n * k * 4), *x = hwk_alloc(m * k * 4);
				float *y = hwk_alloc(m * n * 4), *scale = hwk_alloc(n * k / 32 * 4);
				float *mn = asym ? hwk_alloc(n * k / 32 * 4) : NULL;
				uint8_t *q = hwk_alloc(n * k / 2);
				for (size_t i = 0; i < n * k; i++)
					src[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
				for (size_t i = 0; i < m * k; i++)
					x[i] = (float)(i % 17) / 17.0f;
				hwk_qb4_quantize(n, k, src, q, scale, mn);
				hwk_free(src);
				struct hwk_qb4_weights w = { n, k, q, scale, mn };
				struct ctx c = { m, x, &w, y, par };
				double triad = bench_triad_gbs(32u << 20, par);
				double t = bench_time(run, &c, bench_reps(), bench_min_s());
				double bytes = (double)n * k / 2 + (double)n * k / 32 * 4 * (asym ? 2 : 1);
				double gbs = bytes / t / 1e9, gflops = 2.0 * m * n * k / t / 1e9;
				char label[48];
				snprintf(label, sizeof(label), "%zu x %zu x %zu", m, n, k);
				printf("%-24s %4s %3zu %10.1f %10.1f %10.1f %8.2f\n", label, asym ? "yes" : "no",
				       threads, gflops, gbs, triad, gbs / triad);
				bench_json("\"op\":\"f32-qb4-gemm\",\"variant\":\"%s\",\"m\":%zu,\"n\":%zu,"
					   "\"k\":%zu,\"asym\":%s,\"threads\":%zu,\"gflops\":%.2f,"
					   "\"weight_gbs\":%.2f,\"triad_gbs\":%.2f,\"ratio_triad\":%.3f",
					   hwk_op_variant(&hwk_op_f32_qb4_gemm)->name, m, n, k,
					   asym ? "true" : "false", threads, gflops, gbs, triad, gbs / triad);
				hwk_free(x);
				hwk_free(y);
				hwk_free(scale);
				hwk_free(mn);
				hwk_free(q);
			}
		hwk_pool_destroy(pool);
	}
	return 0;
}
