/* Convolution by implicit GEMM: GFLOPS (2 * N * C_out * OH * OW * K) and
 * microseconds per call on ResNet-50-like layers and a small CNN's layers,
 * batch 1, bias + ReLU, threads 1 and 2, beside our f32 GEMM on the
 * equivalent im2col GEMM shape (M = C_out, N = OH*OW, K = C_in*kh*kw, with
 * the im2col matrix already formed, i.e. the GEMM alone) in the same run.
 * BENCH_CONV=substring runs only the layers whose name contains it. */
#include "bench/kernels/common.h"

struct layer {
	const char *name;
	size_t cin, cout, h, w, k, s, pad;
};

static const struct layer layers[] = {
	{ "56x56x64-64-3x3", 64, 64, 56, 56, 3, 1, 1 },
	{ "28x28x128-128-3x3", 128, 128, 28, 28, 3, 1, 1 },
	{ "14x14x256-256-3x3", 256, 256, 14, 14, 3, 1, 1 },
	{ "7x7x512-512-3x3", 512, 512, 7, 7, 3, 1, 1 },
	{ "56x56x256-64-1x1", 256, 64, 56, 56, 1, 1, 0 },
	{ "224x224x3-64-7x7s2", 3, 64, 224, 224, 7, 2, 3 },
	/* A small CNN (where ONNX Runtime ran the whole model in ~74 us). */
	{ "32x32x3-16-3x3", 3, 16, 32, 32, 3, 1, 1 },
	{ "16x16x16-32-3x3", 16, 32, 16, 16, 3, 1, 1 },
	{ "56x56x32-64-3x3", 32, 64, 56, 56, 3, 1, 1 },
	{ "28x28x64-64-1x1", 64, 64, 28, 28, 1, 1, 0 },
};

struct conv_ctx {
	struct hwk_f32_conv2d_packed *w;
	size_t h, wd;
	const float *x;
	float *y;
	const struct hwk_f32_gemm_epilogue *ep;
	const struct hwk_parallel *par;
};

static void conv_run(void *p)
{
	struct conv_ctx *c = p;
	hwk_f32_conv2d(c->w, 1, c->h, c->wd, c->x, c->y, c->ep, c->par);
}

struct gemm_ctx {
	size_t M, N, K;
	const float *A, *B;
	float *C;
	const struct hwk_parallel *par;
};

static void gemm_run(void *p)
{
	struct gemm_ctx *g = p;
	hwk_f32_gemm(false, false, g->M, g->N, g->K, 1.0f, g->A, g->K, g->B, g->N, 0.0f, g->C, g->N,
		     NULL, g->par);
}

int main(void)
{
	struct hwk_pool *pool2 = hwk_pool_create(2);
	int reps = bench_reps();
	double min_s = bench_min_s();
	const char *only = getenv("BENCH_CONV");
	printf("%-22s %3s %10s %10s %10s %7s  %s\n", "layer", "thr", "conv us", "conv GF/s",
	       "gemm GF/s", "ratio", "variant");
	for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
		const struct layer *L = &layers[i];
		if (only && !strstr(L->name, only))
			continue;
		struct hwk_conv2d cp = { L->cin, L->cout, 1,
					 { L->k, L->k, L->s, L->s, 1, 1, L->pad, L->pad, L->pad,
					   L->pad, false, false } };
		size_t oh, ow, K = L->cin * L->k * L->k;
		hwk_window2d_output(&cp.win, L->h, L->w, &oh, &ow);
		size_t nx = L->cin * L->h * L->w, ny = L->cout * oh * ow;
		float *x = hwk_alloc(nx * 4), *wt = hwk_alloc(L->cout * K * 4), *y = hwk_alloc(ny * 4);
		float *bias = hwk_alloc(L->cout * 4), *B = hwk_alloc(K * oh * ow * 4);
		for (size_t j = 0; j < nx; j++)
			x[j] = (float)(j % 17) * 0.1f - 0.8f;
		for (size_t j = 0; j < L->cout * K; j++)
			wt[j] = (float)(j % 13) * 0.01f - 0.06f;
		for (size_t j = 0; j < K * oh * ow; j++)
			B[j] = (float)(j % 11) * 0.1f - 0.5f;
		for (size_t j = 0; j < L->cout; j++)
			bias[j] = 0.1f;
		struct hwk_f32_conv2d_packed *pw = hwk_f32_conv2d_pack(&cp, wt);
		struct hwk_f32_gemm_epilogue ep = { bias, HWK_F32_GEMM_ACT_RELU, false, 0, 0 };
		double flops = 2.0 * (double)L->cout * (double)(oh * ow) * (double)K;
		for (size_t t = 1; t <= 2; t++) {
			const struct hwk_parallel *par = t == 1 ? NULL : hwk_pool_parallel(pool2);
			struct conv_ctx cc = { pw, L->h, L->w, x, y, &ep, par };
			struct gemm_ctx gc = { L->cout, oh * ow, K, wt, B, y, par };
			double tc = bench_time(conv_run, &cc, reps, min_s);
			double tg = bench_time(gemm_run, &gc, reps, min_s);
			printf("%-22s %3zu %10.2f %10.1f %10.1f %7.2f  %s\n", L->name, t, tc * 1e6,
			       flops / tc / 1e9, flops / tg / 1e9, tg / tc,
			       hwk_f32_conv2d_packed_variant(pw));
			bench_json("\"bench\":\"conv\",\"layer\":\"%s\",\"threads\":%zu,"
				   "\"conv_us\":%.3f,\"conv_gflops\":%.2f,\"gemm_gflops\":%.2f,"
				   "\"M\":%zu,\"N\":%zu,\"K\":%zu,\"variant\":\"%s\"",
				   L->name, t, tc * 1e6, flops / tc / 1e9, flops / tg / 1e9, L->cout,
				   oh * ow, K,
				   hwk_f32_conv2d_packed_variant(pw));
		}
		hwk_f32_conv2d_packed_free(pw);
		hwk_free(x);
		hwk_free(wt);
		hwk_free(y);
		hwk_free(bias);
		hwk_free(B);
	}
	hwk_pool_destroy(pool2);
	return 0;
}
