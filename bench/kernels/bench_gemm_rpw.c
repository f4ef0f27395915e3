/* GEMM with reduced-precision weights: bf16, f16 and fp8 (E4M3FN, per-tensor
 * scale) weights packed once, against our f32 GEMM with B prepacked, on
 * square shapes and transformer shapes (M tokens x K x N weights), with 1
 * and 2 threads. GFLOPS count 2MNK whatever the weight type.
 *
 * Samples of the four alternate (time_interleaved), medians.
 * Env: BENCH_REPS, BENCH_MIN_S (see common.h); BENCH_GEMM_FILTER=substr
 * keeps the shapes whose label contains it (e.g. "1024", "M=8 "). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/kernels/common.h"
#include "kernels/core/registry.h"
#include "kernels/hwk.h"

enum impl { F32_PACKED, BF16, F16, FP8, N_IMPL };
static const char *const IMPL_NAMES[] = { "f32-pk", "bf16", "f16", "fp8e4m3" };

struct run {
	enum impl impl;
	size_t M, N, K;
	const float *A;
	float *C;
	const struct hwk_f32_packed_b *pf;
	const struct hwk_rpw_packed_b *pr;
	const struct hwk_parallel *par;
};

static void run_once(void *p)
{
	struct run *r = p;
	int rc = r->impl == F32_PACKED
			 ? hwk_f32_gemm_packed(false, r->M, r->N, r->K, 1.0f, r->A, r->K, r->pf, 0.0f,
					       r->C, r->N, NULL, r->par)
			 : hwk_rpw_gemm(r->M, r->N, r->K, 1.0f, r->A, r->K, r->pr, 0.0f, r->C, r->N,
					NULL, r->par);
	if (rc) {
		fprintf(stderr, "%s failed: %d\n", IMPL_NAMES[r->impl], rc);
		exit(1);
	}
}

/* Median seconds per call for each of n runs, their samples interleaved
 * (one of each in turn) so that on a shared, noisy machine every impl
 * meets the same noise and the ratios hold even when the times do not. */
static void time_interleaved(struct run *r, int n, int reps, double min_s, double *out)
{
	long iters[N_IMPL];
	double samples[N_IMPL][64];
	if (reps > 64)
		reps = 64;
	for (int j = 0; j < n; j++) {
		run_once(&r[j]); /* warm caches, fault pages in */
		iters[j] = 1;
		for (;;) {
			double t0 = bench_now();
			for (long i = 0; i < iters[j]; i++)
				run_once(&r[j]);
			double t = bench_now() - t0;
			if (t >= min_s || iters[j] > (1l << 30))
				break;
			iters[j] = t > 0 ? (long)(iters[j] * (min_s / t) * 1.2) + 1 : iters[j] * 10;
		}
	}
	for (int k = 0; k < reps; k++)
		for (int j = 0; j < n; j++) {
			double t0 = bench_now();
			for (long i = 0; i < iters[j]; i++)
				run_once(&r[j]);
			samples[j][k] = (bench_now() - t0) / (double)iters[j];
		}
	for (int j = 0; j < n; j++) {
		qsort(samples[j], (size_t)reps, sizeof(double), bench_cmp);
		out[j] = samples[j][reps / 2];
	}
}

struct shape {
	const char *kind;
	size_t M, N, K;
};

int main(void)
{
	const char *filter = getenv("BENCH_GEMM_FILTER");
	static struct shape shapes[32];
	size_t ns = 0;
	static const size_t sq[] = { 1024, 2048 };
	for (size_t i = 0; i < 2; i++)
		shapes[ns++] = (struct shape){ "square", sq[i], sq[i], sq[i] };
	static const size_t ms[] = { 1, 8, 32, 128 };
	static const size_t kn[][2] = { { 768, 768 }, { 768, 3072 }, { 3072, 768 } };
	for (size_t m = 0; m < 4; m++)
		for (size_t w = 0; w < 3; w++)
			shapes[ns++] = (struct shape){ ms[m] == 1 ? "gemv" : "xformer", ms[m], kn[w][1],
						       kn[w][0] };
	struct hwk_pool *pools[3] = { NULL, hwk_pool_create(1), hwk_pool_create(2) };
	if (!pools[1] || !pools[2]) {
		fprintf(stderr, "pool: out of memory\n");
		return 1;
	}
	int reps = bench_reps();
	double min_s = bench_min_s();
	printf("GEMM with reduced-precision weights, GFLOPS (2MNK/s), median of %d; f32 (%s, B "
	       "prepacked) vs weights packed once\n",
	       reps, hwk_op_variant(&hwk_op_f32_gemm)->name);
	printf("%-8s %-18s %2s %8s %8s %8s %8s %9s %8s %8s  %s\n", "kind", "M x N x K", "t",
	       "f32-pk", "bf16", "f16", "fp8e4m3", "bf16/f32", "f16/f32", "fp8/f32", "bf16 variant");
	for (size_t s = 0; s < ns; s++) {
		const struct shape *sh = &shapes[s];
		char label[64];
		snprintf(label, sizeof(label), "M=%zu N=%zu K=%zu ", sh->M, sh->N, sh->K);
		if (filter && *filter && !strstr(label, filter))
			continue;
		size_t M = sh->M, N = sh->N, K = sh->K;
		float *A = hwk_alloc(M * K * sizeof(float));
		float *B = hwk_alloc(K * N * sizeof(float));
		float *C = hwk_alloc(M * N * sizeof(float));
		uint16_t *b16 = hwk_alloc(K * N * 2), *h16 = hwk_alloc(K * N * 2);
		uint8_t *b8 = hwk_alloc(K * N);
		if (!A || !B || !C || !b16 || !h16 || !b8) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		unsigned long long seed = 1;
		for (size_t i = 0; i < M * K; i++)
			A[i] = (float)((seed = seed * 6364136223846793005ull + 1) >> 40) / 16777216.0f - 0.5f;
		for (size_t i = 0; i < K * N; i++)
			B[i] = (float)((seed = seed * 6364136223846793005ull + 1) >> 40) / 16777216.0f - 0.5f;
		memset(C, 0, M * N * sizeof(float));
		hwk_f32_to_bf16(K * N, B, b16);
		hwk_f32_to_f16(K * N, B, h16);
		hwk_f32_to_fp8(HWK_FP8_E4M3FN, true, 1.0f / 512, K * N, B, b8);
		struct hwk_f32_packed_b *pf = hwk_f32_gemm_pack_b(K, N, B, N, false);
		struct hwk_rpw_packed_b *pr[N_IMPL] = {
			NULL,
			hwk_rpw_gemm_pack_b(HWK_RPW_BF16, K, N, b16, N, false, 1.0f),
			hwk_rpw_gemm_pack_b(HWK_RPW_F16, K, N, h16, N, false, 1.0f),
			hwk_rpw_gemm_pack_b(HWK_RPW_FP8_E4M3FN, K, N, b8, N, false, 1.0f / 512),
		};
		if (!pf || !pr[BF16] || !pr[F16] || !pr[FP8]) {
			fprintf(stderr, "pack failed\n");
			return 1;
		}
		const char *bv = hwk_rpw_gemm_packed_variant(pr[BF16]);
		for (int t = 1; t <= 2; t++) {
			double gf[N_IMPL], sec[N_IMPL];
			struct run r[N_IMPL];
			for (int im = 0; im < N_IMPL; im++)
				r[im] = (struct run){ (enum impl)im, M, N, K, A, C, pf, pr[im],
						      hwk_pool_parallel(pools[t]) };
			time_interleaved(r, N_IMPL, reps, min_s, sec);
			for (int im = 0; im < N_IMPL; im++)
				gf[im] = 2.0 * (double)M * (double)N * (double)K / sec[im] / 1e9;
			char dims[40];
			snprintf(dims, sizeof(dims), "%zux%zux%zu", M, N, K);
			printf("%-8s %-18s %2d %8.1f %8.1f %8.1f %8.1f %9.2f %8.2f %8.2f  %s\n", sh->kind,
			       dims, t, gf[F32_PACKED], gf[BF16], gf[F16], gf[FP8], gf[BF16] / gf[F32_PACKED],
			       gf[F16] / gf[F32_PACKED], gf[FP8] / gf[F32_PACKED], bv);
			fflush(stdout);
			bench_json("\"bench\":\"gemm_rpw\",\"kind\":\"%s\",\"M\":%zu,\"N\":%zu,\"K\":%zu,"
				   "\"threads\":%d,\"f32_packed_gflops\":%.2f,\"bf16_gflops\":%.2f,"
				   "\"f16_gflops\":%.2f,\"fp8_e4m3fn_gflops\":%.2f,"
				   "\"bf16_over_f32\":%.3f,\"f16_over_f32\":%.3f,\"fp8_over_f32\":%.3f,"
				   "\"reps\":%d,\"bf16_variant\":\"%s\"",
				   sh->kind, M, N, K, t, gf[F32_PACKED], gf[BF16], gf[F16], gf[FP8],
				   gf[BF16] / gf[F32_PACKED], gf[F16] / gf[F32_PACKED],
				   gf[FP8] / gf[F32_PACKED], reps, bv);
		}
		hwk_f32_gemm_packed_b_free(pf);
		for (int im = 1; im < N_IMPL; im++)
			hwk_rpw_gemm_packed_b_free(pr[im]);
		hwk_free(A);
		hwk_free(B);
		hwk_free(C);
		hwk_free(b16);
		hwk_free(h16);
		hwk_free(b8);
	}
	hwk_pool_destroy(pools[1]);
	hwk_pool_destroy(pools[2]);
	return 0;
}
