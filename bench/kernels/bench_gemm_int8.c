/* u8 x s8 -> s32 GEMM: libhwk's qs8-gemm (B packed once, outside the
 * timing; s32 output and the f32 dequantizing epilogue) against oneDNN's
 * dnnl_gemm_u8s8s32 (which takes B as it is), GOPS = 2*M*N*K / s.
 *
 * Threads: oneDNN here is Debian's OpenMP build, so its thread count is set
 * with omp_set_num_threads (looked up at run time: it lives in libgomp,
 * which libdnnl brings) to the same count our pool has. Samples of ours
 * and of oneDNN alternate (the machine is shared and noisy), with a pause
 * after each so OpenMP's spinning workers are asleep again; medians.
 * BENCH_REPS, BENCH_MIN_S as in common.h; BENCH_THREADS="1 2" by default. */
#include <dlfcn.h>
#include <dnnl.h>
#include <stdint.h>
#include <unistd.h>

#include "bench/kernels/common.h"

struct run_ctx {
	size_t m, n, k;
	uint8_t *a;
	int8_t *b;
	int32_t *c;
	float *cf;
	struct hwk_qs8_packed *pk;
	const struct hwk_parallel *par;
	enum hwk_qs8_output out;
	float a_scale;
	int failed;
};

static void run_ours(void *p)
{
	struct run_ctx *r = p;
	struct hwk_qs8_gemm_args x = { 0 };
	x.m = r->m;
	x.a = r->a;
	x.lda = r->k;
	x.out = r->out;
	x.c = r->out == HWK_QS8_S32 ? (void *)r->c : (void *)r->cf;
	x.ldc = r->n;
	x.a_scale = &r->a_scale;
	x.a_scale_count = 1;
	if (hwk_qs8_gemm(r->pk, &x, r->par) != 0)
		r->failed = 1;
}

static void run_dnnl(void *p)
{
	struct run_ctx *r = p;
	int32_t co = 0;
	if (dnnl_gemm_u8s8s32('N', 'N', 'F', (dnnl_dim_t)r->m, (dnnl_dim_t)r->n, (dnnl_dim_t)r->k, 1.0f,
			      r->a, (dnnl_dim_t)r->k, 0, r->b, (dnnl_dim_t)r->n, 0, 0.0f, r->c,
			      (dnnl_dim_t)r->n, &co) != dnnl_success)
		r->failed = 1;
}

/* Like bench_time, for three functions at once: the samples alternate, so
 * on a shared, noisy machine each meets the same noise; medians. */
struct timed {
	void (*fn)(void *);
	void *ctx;
	long iters;
	double samples[64];
};

static void run_n(struct timed *t, long n)
{
	for (long i = 0; i < n; i++)
		t->fn(t->ctx);
}

static void time_interleaved(struct timed *t, int n, int reps, double min_s, double *out)
{
	if (reps > 64)
		reps = 64;
	for (int j = 0; j < n; j++) {
		run_n(&t[j], 1);
		t[j].iters = 1;
		for (;;) {
			double t0 = bench_now();
			run_n(&t[j], t[j].iters);
			double dt = bench_now() - t0;
			if (dt >= min_s || t[j].iters > (1l << 30))
				break;
			t[j].iters = dt > 0 ? (long)(t[j].iters * (min_s / dt) * 1.2) + 1 : t[j].iters * 10;
		}
	}
	for (int r = 0; r < reps; r++)
		for (int j = 0; j < n; j++) {
			double t0 = bench_now();
			run_n(&t[j], t[j].iters);
			t[j].samples[r] = (bench_now() - t0) / (double)t[j].iters;
			/* Let OpenMP's workers stop spinning before the next sample:
			 * on 2 cores they would steal time from the next one. */
			usleep(5000);
		}
	for (int j = 0; j < n; j++) {
		qsort(t[j].samples, (size_t)reps, sizeof(double), bench_cmp);
		out[j] = t[j].samples[reps / 2];
	}
}

static void run_ours_s32(void *p)
{
	struct run_ctx *r = p;
	r->out = HWK_QS8_S32;
	run_ours(r);
}

static void run_ours_f32(void *p)
{
	struct run_ctx *r = p;
	r->out = HWK_QS8_F32;
	run_ours(r);
}

int main(void)
{
	void (*omp_set)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
	int reps = bench_reps();
	double min_s = bench_min_s();
	const char *te = getenv("BENCH_THREADS");
	int threads_list[8], nthreads = 0;
	{
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", te && *te ? te : "1 2");
		for (char *s = strtok(buf, " ,"); s && nthreads < 8; s = strtok(NULL, " ,"))
			if (atoi(s) > 0)
				threads_list[nthreads++] = atoi(s);
	}
	static const size_t shapes[][3] = {
		{ 256, 256, 256 },   { 512, 512, 512 },   { 1024, 1024, 1024 }, { 2048, 2048, 2048 },
		{ 1, 768, 768 },     { 8, 768, 768 },     { 32, 768, 768 },     { 128, 768, 768 },
		{ 1, 3072, 768 },    { 8, 3072, 768 },    { 32, 3072, 768 },    { 128, 3072, 768 },
		{ 1, 768, 3072 },    { 8, 768, 3072 },    { 32, 768, 3072 },    { 128, 768, 3072 },
	};
	const char *only = getenv("BENCH_SHAPES"); /* e.g. "1024,128" to filter by M */
	printf("u8s8s32 GEMM, GOPS (2*M*N*K/s), median of %d; oneDNN threads via %s\n", reps,
	       omp_set ? "omp_set_num_threads" : "(omp_set_num_threads not found)");
	printf("%5s %5s %5s %3s | %9s %9s | %9s | %6s %6s  %s\n", "M", "N", "K", "thr", "ours-s32",
	       "ours-f32", "oneDNN", "ratio", "f32/dn", "variant");
	int rc = 0;
	for (int ti = 0; ti < nthreads; ti++) {
		int t = threads_list[ti];
		struct hwk_pool *pool = t > 1 ? hwk_pool_create((size_t)t) : NULL;
		const struct hwk_parallel *par = pool ? hwk_pool_parallel(pool) : NULL;
		if (omp_set)
			omp_set(t);
		for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
			size_t m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
			if (only && *only) {
				char key[32];
				snprintf(key, sizeof(key), "%zu", m);
				int hit = 0;
				char buf[128];
				snprintf(buf, sizeof(buf), "%s", only);
				for (char *q = strtok(buf, ","); q; q = strtok(NULL, ","))
					hit |= strcmp(q, key) == 0;
				if (!hit)
					continue;
			}
			struct run_ctx r = { m, n, k, NULL, NULL, NULL, NULL, NULL, par, HWK_QS8_S32, 0.01f, 0 };
			r.a = hwk_alloc(m * k);
			r.b = hwk_alloc(k * n);
			r.c = hwk_alloc(m * n * 4);
			r.cf = hwk_alloc(m * n * 4);
			for (size_t i = 0; i < m * k; i++)
				r.a[i] = (uint8_t)(i * 2654435761u >> 13);
			for (size_t i = 0; i < k * n; i++)
				r.b[i] = (int8_t)(i * 2246822519u >> 11);
			float bs = 0.02f;
			struct hwk_qs8_weights w = { .k = k, .n = n, .b = r.b, .ldb = n, .scale = &bs,
						     .scale_count = 1 };
			if (hwk_qs8_gemm_pack(&w, &r.pk) != 0) {
				fprintf(stderr, "pack failed\n");
				return 1;
			}
			double ops = 2.0 * (double)m * (double)n * (double)k;
			struct timed tt[3] = { { run_ours_s32, &r, 0, { 0 } },
					       { run_ours_f32, &r, 0, { 0 } },
					       { run_dnnl, &r, 0, { 0 } } };
			double tm[3];
			time_interleaved(tt, 3, reps, min_s, tm);
			double ts = tm[0], tf = tm[1], td = tm[2];
			/* Check ours against oneDNN once (both s32). */
			int32_t *mine = hwk_alloc(m * n * 4);
			run_ours_s32(&r);
			memcpy(mine, r.c, m * n * 4);
			run_dnnl(&r);
			int same = memcmp(mine, r.c, m * n * 4) == 0;
			if (!same || r.failed) {
				fprintf(stderr, "MISMATCH or failure at %zux%zux%zu\n", m, n, k);
				rc = 1;
			}
			double gs = ops / ts / 1e9, gf = ops / tf / 1e9, gd = ops / td / 1e9;
			printf("%5zu %5zu %5zu %3d | %9.1f %9.1f | %9.1f | %6.2f %6.2f  %s\n", m, n, k, t,
			       gs, gf, gd, gs / gd, gf / gd, hwk_qs8_gemm_packed_variant(r.pk));
			bench_json("\"bench\":\"gemm_int8\",\"m\":%zu,\"n\":%zu,\"k\":%zu,\"threads\":%d,"
				   "\"variant\":\"%s\",\"ours_s32_gops\":%.2f,\"ours_f32_gops\":%.2f,"
				   "\"onednn_gops\":%.2f,\"ratio_s32\":%.3f,\"ratio_f32\":%.3f,\"exact\":%s",
				   m, n, k, t, hwk_qs8_gemm_packed_variant(r.pk), gs, gf, gd, gs / gd,
				   gf / gd, same ? "true" : "false");
			hwk_free(mine);
			hwk_qs8_gemm_packed_free(r.pk);
			hwk_free(r.a);
			hwk_free(r.b);
			hwk_free(r.c);
			hwk_free(r.cf);
		}
		hwk_pool_destroy(pool);
	}
	return rc;
}
