/* f32 GEMM: libhwk (B unpacked, and B prepacked once) against OpenBLAS
 * cblas_sgemm and oneDNN dnnl_sgemm, on square shapes and transformer
 * shapes (M tokens x K x N weights), with 1 and 2 threads.
 *
 * Threads: ours run on hwk_pool_create(t); OpenBLAS (the pthread build)
 * gets openblas_set_num_threads(t); Debian's oneDNN uses the OpenMP
 * runtime, so it gets omp_set_num_threads(t) (looked up at run time: libgomp
 * comes in through libdnnl). OpenMP workers spin between calls by default
 * and would steal the cores from whatever is measured next, so the bench
 * re-executes itself with OMP_WAIT_POLICY=passive unless that is set.
 *
 * Env: BENCH_REPS, BENCH_MIN_S (see common.h); BENCH_GEMM_FILTER=substr
 * keeps the shapes whose label contains it (e.g. "1024", "M=8 "). */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>
#include <dnnl.h>

#include "bench/kernels/common.h"
#include "kernels/core/registry.h"
#include "kernels/hwk.h"

enum impl { OURS, OURS_PACKED, OPENBLAS, ONEDNN, N_IMPL };

struct gemm_run {
	enum impl impl;
	size_t M, N, K;
	const float *A, *B;
	float *C;
	const struct hwk_f32_packed_b *pb;
	const struct hwk_parallel *par;
};

static void run_once(void *p)
{
	struct gemm_run *r = p;
	int M = (int)r->M, N = (int)r->N, K = (int)r->K;
	switch (r->impl) {
	case OURS:
		if (hwk_f32_gemm(false, false, r->M, r->N, r->K, 1.0f, r->A, r->K, r->B, r->N, 0.0f,
				 r->C, r->N, NULL, r->par)) {
			fprintf(stderr, "hwk_f32_gemm failed\n");
			exit(1);
		}
		break;
	case OURS_PACKED:
		if (hwk_f32_gemm_packed(false, r->M, r->N, r->K, 1.0f, r->A, r->K, r->pb, 0.0f, r->C,
					r->N, NULL, r->par)) {
			fprintf(stderr, "hwk_f32_gemm_packed failed\n");
			exit(1);
		}
		break;
	case OPENBLAS:
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, r->A, K, r->B, N,
			    0.0f, r->C, N);
		break;
	case ONEDNN:
		if (dnnl_sgemm('N', 'N', M, N, K, 1.0f, r->A, K, r->B, N, 0.0f, r->C, N) !=
		    dnnl_success) {
			fprintf(stderr, "dnnl_sgemm failed\n");
			exit(1);
		}
		break;
	default: break;
	}
}

static void (*omp_set_threads)(int);

static void set_peer_threads(int t)
{
	openblas_set_num_threads(t);
	if (omp_set_threads)
		omp_set_threads(t);
}

struct shape {
	const char *kind;
	size_t M, N, K;
};

int main(int argc, char **argv)
{
	if (!getenv("OMP_WAIT_POLICY")) {
		setenv("OMP_WAIT_POLICY", "passive", 1);
		execv("/proc/self/exe", argv);
		/* If re-exec fails, carry on: figures may suffer from spinning. */
	}
	(void)argc;
	omp_set_threads = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
	const char *filter = getenv("BENCH_GEMM_FILTER");

	static struct shape shapes[32];
	size_t ns = 0;
	static const size_t sq[] = { 256, 512, 1024, 2048 };
	for (size_t i = 0; i < 4; i++)
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
	const char *variant = hwk_op_variant(&hwk_op_f32_gemm)->name;
	int reps = bench_reps();
	double min_s = bench_min_s();
	printf("f32 GEMM (%s), GFLOPS (2MNK/s), median of %d; alpha 1, beta 0, row-major NN\n",
	       variant, reps);
	printf("%-8s %-22s %2s %9s %9s %9s %9s %8s %8s %8s\n", "kind", "M x N x K", "t", "ours",
	       "ours-pk", "openblas", "onednn", "ours/ob", "pk/ob", "pk/dnnl");
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
		if (!A || !B || !C) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		unsigned long long seed = 1;
		for (size_t i = 0; i < M * K; i++)
			A[i] = (float)((seed = seed * 6364136223846793005ull + 1) >> 40) / 16777216.0f - 0.5f;
		for (size_t i = 0; i < K * N; i++)
			B[i] = (float)((seed = seed * 6364136223846793005ull + 1) >> 40) / 16777216.0f - 0.5f;
		memset(C, 0, M * N * sizeof(float));
		struct hwk_f32_packed_b *pb = hwk_f32_gemm_pack_b(K, N, B, N, false);
		if (!pb) {
			fprintf(stderr, "pack_b failed\n");
			return 1;
		}
		for (int t = 1; t <= 2; t++) {
			set_peer_threads(t);
			double gf[N_IMPL];
			for (int im = 0; im < N_IMPL; im++) {
				struct gemm_run r = { (enum impl)im, M, N, K, A, B, C, pb,
						      hwk_pool_parallel(pools[t]) };
				double sec = bench_time(run_once, &r, reps, min_s);
				gf[im] = 2.0 * (double)M * (double)N * (double)K / sec / 1e9;
			}
			char dims[40];
			snprintf(dims, sizeof(dims), "%zux%zux%zu", M, N, K);
			printf("%-8s %-22s %2d %9.1f %9.1f %9.1f %9.1f %8.2f %8.2f %8.2f\n", sh->kind, dims, t,
			       gf[OURS], gf[OURS_PACKED], gf[OPENBLAS], gf[ONEDNN], gf[OURS] / gf[OPENBLAS],
			       gf[OURS_PACKED] / gf[OPENBLAS], gf[OURS_PACKED] / gf[ONEDNN]);
			fflush(stdout);
			bench_json("\"bench\":\"gemm_f32\",\"kind\":\"%s\",\"M\":%zu,\"N\":%zu,\"K\":%zu,"
				   "\"threads\":%d,\"ours_gflops\":%.2f,\"ours_packed_gflops\":%.2f,"
				   "\"openblas_gflops\":%.2f,\"onednn_gflops\":%.2f,"
				   "\"ours_over_openblas\":%.3f,\"packed_over_openblas\":%.3f,"
				   "\"ours_over_onednn\":%.3f,\"packed_over_onednn\":%.3f,"
				   "\"reps\":%d,\"variant\":\"%s\"",
				   sh->kind, M, N, K, t, gf[OURS], gf[OURS_PACKED], gf[OPENBLAS], gf[ONEDNN],
				   gf[OURS] / gf[OPENBLAS], gf[OURS_PACKED] / gf[OPENBLAS],
				   gf[OURS] / gf[ONEDNN], gf[OURS_PACKED] / gf[ONEDNN], reps, variant);
		}
		hwk_f32_gemm_packed_b_free(pb);
		hwk_free(A);
		hwk_free(B);
		hwk_free(C);
	}
	hwk_pool_destroy(pools[1]);
	hwk_pool_destroy(pools[2]);
	return 0;
}
