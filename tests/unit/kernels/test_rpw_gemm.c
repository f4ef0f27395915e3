/* GEMM with reduced-precision weights (bf16, f16, fp8 E4M3FN/E5M2): every
 * path against a double reference computed from the decoded weights, over
 * shapes with 0, 1, primes and tails, padded leading dimensions (gaps stay
 * untouched), beta and epilogues, transposed weights at pack time, a large
 * case, bit-identical results for 1, 2 and 3 threads, and bad arguments.
 *
 * Tolerances (mag = sum_k |alpha a_ik w_kj| + |beta c| + |bias|):
 *  - f32 arithmetic (decoded weights): (4 + 2 sqrt K) eps mag, as in
 *    test_f32_gemm.c (worst case K u mag; random signs keep it far lower).
 *  - the bf16 pairs path (vdpbf16ps) rounds A to bf16: each product is off
 *    by at most 2^-8 of itself, so the documented bound adds 2^-8 mag. That
 *    alone is loose, so the same result is also held to the f32 tolerance
 *    against a reference whose A is rounded to bf16 first (a missing or
 *    doubled product, ~mag/K, fails that one). */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/core/registry.h"
#include "tests/unit/kernels/harness.h"

#if defined(__aarch64__)
#define BIG_M 40
#define BIG_N 70
#define BIG_K 300
#else
#define BIG_M 150
#define BIG_N 300
#define BIG_K 1100
#endif

static struct hwk_pool *pools[4];

static const struct hwk_parallel *par_of(size_t threads)
{
	if (!pools[threads])
		pools[threads] = hwk_pool_create(threads);
	return pools[threads] ? hwk_pool_parallel(pools[threads]) : NULL;
}

static size_t nz(size_t n)
{
	return n ? n : 1;
}

static const uint32_t GAP_BITS = 0x7fc0dead;

static float gap_value(void)
{
	float f;
	memcpy(&f, &GAP_BITS, sizeof(f));
	return f;
}

static const enum hwk_rpw_type TYPES[] = { HWK_RPW_BF16, HWK_RPW_F16, HWK_RPW_FP8_E4M3FN,
					   HWK_RPW_FP8_E5M2 };
static const char *const TYPE_NAMES[] = { "bf16", "f16", "e4m3fn", "e5m2" };

static float type_scale(enum hwk_rpw_type t)
{
	return t == HWK_RPW_FP8_E4M3FN ? 1.0f / 256 : t == HWK_RPW_FP8_E5M2 ? 1.0f / 4096 : 1.0f;
}

/* Weights: rows x cols (ld) in the type, plus their f32 decode (dense). */
struct wts {
	void *q;     /* elements of 1 or 2 bytes */
	float *w;    /* decoded, rows x cols */
	size_t ld;
};

static struct wts wts_new(enum hwk_rpw_type t, size_t rows, size_t cols, size_t pad,
			  unsigned long long seed)
{
	struct wts x;
	x.ld = cols + pad;
	size_t n = rows * x.ld;
	float *f = malloc((n ? n : 1) * sizeof(float));
	ht_fill(f, n, seed, -1.0f, 1.0f);
	size_t esz = t == HWK_RPW_BF16 || t == HWK_RPW_F16 ? 2 : 1;
	x.q = malloc((n ? n : 1) * esz);
	x.w = malloc((n ? n : 1) * sizeof(float));
	switch (t) {
	case HWK_RPW_BF16:
		hwk_f32_to_bf16(n, f, x.q);
		hwk_bf16_to_f32(n, x.q, x.w);
		break;
	case HWK_RPW_F16:
		hwk_f32_to_f16(n, f, x.q);
		hwk_f16_to_f32(n, x.q, x.w);
		break;
	default: {
		enum hwk_fp8 fmt = t == HWK_RPW_FP8_E4M3FN ? HWK_FP8_E4M3FN : HWK_FP8_E5M2;
		hwk_f32_to_fp8(fmt, true, type_scale(t), n, f, x.q);
		hwk_fp8_to_f32(fmt, type_scale(t), n, x.q, x.w);
	}
	}
	/* Gaps of the weights: NaN-like codes would poison a product; use the
	 * type's bits of NaN where it has one (bf16/f16 0x7fc0/0x7e00, E4M3FN
	 * 0x7f, E5M2 0x7f). */
	for (size_t r = 0; r < rows; r++)
		for (size_t c = cols; c < x.ld; c++) {
			if (esz == 2)
				((uint16_t *)x.q)[r * x.ld + c] = t == HWK_RPW_BF16 ? 0x7fc0 : 0x7e00;
			else
				((uint8_t *)x.q)[r * x.ld + c] = 0x7f;
		}
	free(f);
	return x;
}

struct gcase {
	enum hwk_rpw_type type;
	size_t M, N, K;
	bool tb;
	size_t pad;
	float alpha, beta;
	const struct hwk_f32_gemm_epilogue *ep;
	size_t threads;
};

static bool pairs_path(const struct hwk_rpw_packed_b *pb)
{
	const char *v = hwk_rpw_gemm_packed_variant(pb);
	return v && strstr(v, "bf16") != NULL;
}

static void run_case(const struct gcase *g, unsigned long long seed)
{
	size_t M = g->M, N = g->N, K = g->K;
	size_t lda = K + g->pad, ldc = N + g->pad;
	float *A = malloc(nz(M * lda) * sizeof(float));
	for (size_t i = 0; i < M * lda; i++)
		A[i] = gap_value();
	unsigned long long s = seed * 0x9e3779b97f4a7c15ull + 5;
	for (size_t i = 0; i < M; i++)
		for (size_t k = 0; k < K; k++)
			A[i * lda + k] = ht_randf(&s, -1.0f, 1.0f);
	/* A rounded to bf16, for the pairs path's second reference. */
	float *Ar = malloc(nz(M * K) * sizeof(float));
	uint16_t *tmp = malloc((K ? K : 1) * sizeof(uint16_t));
	for (size_t i = 0; i < M; i++) {
		hwk_f32_to_bf16(K, A + i * lda, tmp);
		hwk_bf16_to_f32(K, tmp, Ar + i * K);
	}
	free(tmp);
	struct wts W = g->tb ? wts_new(g->type, N, K, g->pad, seed + 1)
			     : wts_new(g->type, K, N, g->pad, seed + 1);
	float *C = malloc(nz(M * ldc) * sizeof(float));
	ht_fill(C, M * ldc, seed + 2, -1.0f, 1.0f);
	for (size_t r = 0; r < M; r++)
		for (size_t c = N; c < ldc; c++)
			C[r * ldc + c] = gap_value();
	float *C0 = malloc(nz(M * ldc) * sizeof(float));
	memcpy(C0, C, M * ldc * sizeof(float));

	struct hwk_rpw_packed_b *pb =
		hwk_rpw_gemm_pack_b(g->type, K, N, W.q, W.ld, g->tb, type_scale(g->type));
	CHECK(pb != NULL, "pack %s K %zu N %zu", TYPE_NAMES[g->type], K, N);
	if (!pb)
		goto out;
	bool pairs = pairs_path(pb);
	int rc = hwk_rpw_gemm(M, N, K, g->alpha, A, lda, pb, g->beta, C, ldc, g->ep,
			      g->threads ? par_of(g->threads) : NULL);
	CHECK(rc == 0, "rc %d", rc);
	int bad = 0;
	bool relu = g->ep && g->ep->act == HWK_F32_GEMM_ACT_RELU;
	for (size_t i = 0; i < M && bad < 3; i++) {
		for (size_t j = 0; j < N && bad < 3; j++) {
			double sum = 0, sumr = 0, mag = 0;
			for (size_t k = 0; k < K; k++) {
				double w = g->tb ? W.w[j * W.ld + k] : W.w[k * W.ld + j];
				sum += (double)A[i * lda + k] * w;
				sumr += (double)Ar[i * K + k] * w;
				mag += fabs((double)A[i * lda + k] * w);
			}
			double x = (double)g->alpha * sum, xr = (double)g->alpha * sumr;
			mag *= fabs((double)g->alpha);
			double extra = 0;
			if (g->beta != 0)
				extra += (double)g->beta * C0[i * ldc + j];
			if (g->ep && g->ep->bias)
				extra += g->ep->bias[j];
			x += extra;
			xr += extra;
			mag += fabs(extra);
			double tol = (4.0 + 2.0 * sqrt((double)K)) * FLT_EPSILON * mag + 1e-30;
			double want = x, wantr = xr;
			if (relu) {
				want = want > 0 ? want : 0;
				wantr = wantr > 0 ? wantr : 0;
			}
			double got = C[i * ldc + j];
			double bound = pairs ? tol + 0x1p-8 * mag : tol;
			if (!(fabs(got - want) <= bound) || (pairs && !(fabs(got - wantr) <= tol))) {
				bad++;
				CHECK(0,
				      "%s%s M%zu N%zu K%zu a%g b%g: C[%zu][%zu] = %.9g, want %.9g "
				      "(bf16-A %.9g, tol %.3g, %s)",
				      TYPE_NAMES[g->type], g->tb ? " T" : "", M, N, K, g->alpha, g->beta,
				      i, j, got, want, wantr, bound, hwk_rpw_gemm_packed_variant(pb));
			}
		}
	}
	for (size_t r = 0; r < M; r++)
		for (size_t c = N; c < ldc; c++)
			if (memcmp(&C[r * ldc + c], &GAP_BITS, 4) != 0) {
				CHECK(0, "M%zu N%zu: gap C[%zu][%zu] written", M, N, r, c);
				r = M;
				break;
			}
	hwk_rpw_gemm_packed_b_free(pb);
out:
	free(A);
	free(Ar);
	free(W.q);
	free(W.w);
	free(C);
	free(C0);
}

static void shapes(void)
{
	static const size_t MS[] = { 0, 1, 3, 13, 31 };
	static const size_t NS[] = { 1, 5, 32, 33, 67 };
	static const size_t KS[] = { 0, 1, 2, 7, 64, 131 };
	static const float bias[67] = { 0.5f, -0.25f, 1.0f, 0.125f, -1.0f, 0.75f, 0.3f };
	static const struct hwk_f32_gemm_epilogue relu = { bias, HWK_F32_GEMM_ACT_RELU, false, 0,
							   0 };
	unsigned long long seed = 1;
	for (size_t t = 0; t < 4; t++)
		for (size_t m = 0; m < sizeof(MS) / sizeof(MS[0]); m++)
			for (size_t n = 0; n < sizeof(NS) / sizeof(NS[0]); n++)
				for (size_t k = 0; k < sizeof(KS) / sizeof(KS[0]); k++) {
					seed++;
					struct gcase g = { TYPES[t], MS[m], NS[n], KS[k],
							   seed % 3 == 0, seed % 2 ? 3 : 0,
							   seed % 5 == 0 ? 0.5f : 1.0f,
							   seed % 4 == 0 ? 1.0f : seed % 7 == 0 ? -0.5f : 0.0f,
							   seed % 6 == 0 ? &relu : NULL, 0 };
					run_case(&g, seed);
				}
}

static void large(void)
{
	for (size_t t = 0; t < 4; t++) {
		struct gcase g = { TYPES[t], BIG_M, BIG_N, BIG_K, t == 1, 1, 1.0f, 0.0f, NULL, 2 };
		run_case(&g, 100 + t);
	}
}

static void k_zero_and_alpha_zero(void)
{
	for (size_t t = 0; t < 4; t++) {
		struct gcase g = { TYPES[t], 5, 9, 0, false, 0, 1.0f, 0.5f, NULL, 0 };
		run_case(&g, 200 + t);
		struct gcase h = { TYPES[t], 5, 9, 20, false, 0, 0.0f, 1.0f, NULL, 0 };
		run_case(&h, 300 + t);
	}
}

static void threads_bit_identical(void)
{
	static const size_t SH[][3] = { { 1, 700, 300 }, { 37, 130, 257 }, { 100, 200, 129 } };
	for (size_t t = 0; t < 4; t++)
		for (size_t s = 0; s < 3; s++) {
			size_t M = SH[s][0], N = SH[s][1], K = SH[s][2];
			struct wts W = wts_new(TYPES[t], K, N, 0, 400 + s);
			float *A = malloc(M * K * sizeof(float));
			ht_fill(A, M * K, 500 + s, -1.0f, 1.0f);
			struct hwk_rpw_packed_b *pb =
				hwk_rpw_gemm_pack_b(TYPES[t], K, N, W.q, N, false, type_scale(TYPES[t]));
			CHECK(pb != NULL, "pack");
			float *C[4];
			for (size_t th = 1; th <= 3; th++) {
				C[th] = malloc(M * N * sizeof(float));
				const struct hwk_parallel *par = par_of(th);
				CHECK(par != NULL, "pool %zu", th);
				CHECK(hwk_rpw_gemm(M, N, K, 1.0f, A, K, pb, 0.0f, C[th], N, NULL, par) == 0,
				      "rc");
			}
			CHECK(memcmp(C[1], C[2], M * N * sizeof(float)) == 0, "%s %zux%zux%zu 1 vs 2",
			      TYPE_NAMES[t], M, N, K);
			CHECK(memcmp(C[1], C[3], M * N * sizeof(float)) == 0, "%s %zux%zux%zu 1 vs 3",
			      TYPE_NAMES[t], M, N, K);
			for (size_t th = 1; th <= 3; th++)
				free(C[th]);
			hwk_rpw_gemm_packed_b_free(pb);
			free(A);
			free(W.q);
			free(W.w);
		}
}

/* Each row computed alone (M = 1: the GEMV microkernel where there is one)
 * gives the same bits as that row inside a larger M (the tile microkernel,
 * and the lone tail row): with alpha, beta, bias and an activation, K over
 * more than one k block, N with a partial and an odd count of panels. */
static void rows_alone_bit_identical(void)
{
	static const size_t SH[][3] = { { 13, 100, 2200 }, { 25, 67, 131 }, { 14, 33, 7 } };
	static const float bias[100] = { 0.5f, -0.25f, 1.0f, 0.125f, -1.0f, 0.75f, 0.3f };
	const struct hwk_f32_gemm_epilogue ep = { .bias = bias, .act = HWK_F32_GEMM_ACT_GELU };
	for (size_t t = 0; t < 4; t++)
		for (size_t s = 0; s < 3; s++) {
			size_t M = SH[s][0], N = SH[s][1], K = SH[s][2];
			struct wts W = wts_new(TYPES[t], K, N, 0, 600 + s);
			float *A = malloc(M * K * sizeof(float));
			float *C = malloc(M * N * sizeof(float)), *C0 = malloc(M * N * sizeof(float));
			ht_fill(A, M * K, 700 + s, -1.0f, 1.0f);
			ht_fill(C, M * N, 800 + s, -1.0f, 1.0f);
			memcpy(C0, C, M * N * sizeof(float));
			struct hwk_rpw_packed_b *pb =
				hwk_rpw_gemm_pack_b(TYPES[t], K, N, W.q, N, false, type_scale(TYPES[t]));
			CHECK(pb != NULL, "pack");
			CHECK(hwk_rpw_gemm(M, N, K, 0.75f, A, K, pb, 0.5f, C, N, &ep, NULL) == 0, "rc");
			int bad = 0;
			for (size_t r = 0; r < M && !bad; r++) {
				CHECK(hwk_rpw_gemm(1, N, K, 0.75f, A + r * K, K, pb, 0.5f, C0 + r * N, N,
						   &ep, NULL) == 0, "rc");
				if (memcmp(C0 + r * N, C + r * N, N * sizeof(float)) != 0)
					bad = 1;
				CHECK(!bad, "%s %zux%zux%zu row %zu alone", TYPE_NAMES[t], M, N, K, r);
			}
			free(C0);
			hwk_rpw_gemm_packed_b_free(pb);
			free(A);
			free(C);
			free(W.q);
			free(W.w);
		}
}

/* Every code of every type through the GEMM (K = 1, A = 1: C = w) equals
 * the f32-cvt decode (as values: -0 may come out +0; NaN only as NaN). The
 * pairs path flushes bf16 denormals (vdpbf16ps), so they are skipped there. */
static void decode_every_code(void)
{
	static uint16_t codes[65536];
	static float want[65536], got[65536];
	for (size_t i = 0; i < 65536; i++)
		codes[i] = (uint16_t)i;
	float one = 1.0f;
	for (size_t t = 0; t < 4; t++) {
		size_t n = t < 2 ? 65536 : 256;
		uint8_t b8[256];
		for (size_t i = 0; i < 256; i++)
			b8[i] = (uint8_t)i;
		const void *src = t < 2 ? (const void *)codes : (const void *)b8;
		switch (TYPES[t]) {
		case HWK_RPW_BF16: hwk_bf16_to_f32(n, codes, want); break;
		case HWK_RPW_F16: hwk_f16_to_f32(n, codes, want); break;
		case HWK_RPW_FP8_E4M3FN: hwk_fp8_to_f32(HWK_FP8_E4M3FN, 0.375f, n, b8, want); break;
		case HWK_RPW_FP8_E5M2: hwk_fp8_to_f32(HWK_FP8_E5M2, 0.375f, n, b8, want); break;
		}
		struct hwk_rpw_packed_b *pb = hwk_rpw_gemm_pack_b(TYPES[t], 1, n, src, n, false, 0.375f);
		CHECK(pb != NULL, "pack");
		if (!pb)
			continue;
		bool pairs = pairs_path(pb);
		CHECK(hwk_rpw_gemm(1, n, 1, 1.0f, &one, 1, pb, 0.0f, got, n, NULL, NULL) == 0, "rc");
		int bad = 0;
		for (size_t i = 0; i < n && bad < 5; i++) {
			if (pairs && want[i] != 0 && fabsf(want[i]) < FLT_MIN)
				continue;
			if (isnan(want[i]) ? !isnan(got[i]) : got[i] != want[i]) {
				bad++;
				CHECK(0, "%s code 0x%zx: %g, want %g", TYPE_NAMES[t], i, got[i], want[i]);
			}
		}
		hwk_rpw_gemm_packed_b_free(pb);
	}
}

static void variant_choice(void)
{
	uint16_t b[4] = { 0 };
	struct hwk_rpw_packed_b *pb = hwk_rpw_gemm_pack_b(HWK_RPW_BF16, 2, 2, b, 2, false, 1.0f);
	CHECK(pb != NULL, "pack");
	const char *v = hwk_rpw_gemm_packed_variant(pb);
	bool want_pairs = hwk_isa_ceiling() >= HWK_ISA_AVX512BF16 && hwk_isa_ceiling() <= HWK_ISA_AMX;
	CHECK(v && (strstr(v, "avx512bf16") != NULL) == want_pairs, "variant %s", v ? v : "(null)");
	hwk_rpw_gemm_packed_b_free(pb);
	struct hwk_rpw_packed_b *pf = hwk_rpw_gemm_pack_b(HWK_RPW_F16, 2, 2, b, 2, false, 1.0f);
	CHECK(pf && strcmp(hwk_rpw_gemm_packed_variant(pf), hwk_op_variant(&hwk_op_f32_gemm)->name) == 0,
	      "f16 feeds the f32-gemm variant");
	hwk_rpw_gemm_packed_b_free(pf);
}

static void bad_arguments(void)
{
	float a[64] = { 0 }, c[64] = { 0 };
	uint16_t b[64] = { 0 };
	errno = 0;
	CHECK(hwk_rpw_gemm_pack_b((enum hwk_rpw_type)9, 4, 4, b, 4, false, 1) == NULL &&
		      errno == EINVAL, "bad type");
	errno = 0;
	CHECK(hwk_rpw_gemm_pack_b(HWK_RPW_BF16, 4, 4, NULL, 4, false, 1) == NULL && errno == EINVAL,
	      "NULL B");
	errno = 0;
	CHECK(hwk_rpw_gemm_pack_b(HWK_RPW_F16, 4, 4, b, 3, false, 1) == NULL && errno == EINVAL,
	      "ldb < N");
	errno = 0;
	CHECK(hwk_rpw_gemm_pack_b(HWK_RPW_F16, 5, 4, b, 4, true, 1) == NULL && errno == EINVAL,
	      "trans ldb < K");
	errno = 0;
	CHECK(hwk_rpw_gemm_pack_b(HWK_RPW_FP8_E4M3FN, 4, 4, b, 4, false, 0.0f) == NULL &&
		      errno == EINVAL, "fp8 scale 0");
	errno = 0;
	CHECK(hwk_rpw_gemm_pack_b(HWK_RPW_FP8_E5M2, 4, 4, b, 4, false, NAN) == NULL &&
		      errno == EINVAL, "fp8 scale NaN");
	errno = 0;
	CHECK(hwk_rpw_gemm_pack_b(HWK_RPW_FP8_E5M2, 4, 4, b, 4, false, INFINITY) == NULL &&
		      errno == EINVAL, "fp8 scale inf");
	struct hwk_rpw_packed_b *empty = hwk_rpw_gemm_pack_b(HWK_RPW_BF16, 0, 0, NULL, 0, false, 1);
	CHECK(empty != NULL, "empty pack");
	CHECK(hwk_rpw_gemm(0, 0, 0, 1, NULL, 0, empty, 0, NULL, 0, NULL, NULL) == 0, "all empty");
	hwk_rpw_gemm_packed_b_free(empty);
	struct hwk_rpw_packed_b *pb = hwk_rpw_gemm_pack_b(HWK_RPW_BF16, 4, 4, b, 4, false, 1);
	CHECK(pb != NULL, "pack");
	CHECK(hwk_rpw_gemm(4, 4, 4, 1, a, 4, NULL, 0, c, 4, NULL, NULL) == -EINVAL, "B NULL");
	CHECK(hwk_rpw_gemm(4, 5, 4, 1, a, 4, pb, 0, c, 5, NULL, NULL) == -EINVAL, "N mismatch");
	CHECK(hwk_rpw_gemm(4, 4, 5, 1, a, 5, pb, 0, c, 4, NULL, NULL) == -EINVAL, "K mismatch");
	CHECK(hwk_rpw_gemm(4, 4, 4, 1, a, 3, pb, 0, c, 4, NULL, NULL) == -EINVAL, "lda < K");
	CHECK(hwk_rpw_gemm(4, 4, 4, 1, NULL, 4, pb, 0, c, 4, NULL, NULL) == -EINVAL, "A NULL");
	CHECK(hwk_rpw_gemm(4, 4, 4, 1, a, 4, pb, 0, c, 3, NULL, NULL) == -EINVAL, "ldc < N");
	CHECK(hwk_rpw_gemm(4, 4, 4, 1, a, 4, pb, 0, NULL, 4, NULL, NULL) == -EINVAL, "C NULL");
	struct hwk_f32_gemm_epilogue bad_act = { NULL, (enum hwk_f32_gemm_act)99, false, 0, 0 };
	CHECK(hwk_rpw_gemm(4, 4, 4, 1, a, 4, pb, 0, c, 4, &bad_act, NULL) == -EINVAL, "act");
	struct hwk_f32_gemm_epilogue bad_clip = { NULL, HWK_F32_GEMM_ACT_NONE, true, 1, -1 };
	CHECK(hwk_rpw_gemm(4, 4, 4, 1, a, 4, pb, 0, c, 4, &bad_clip, NULL) == -EINVAL, "clip");
	CHECK(hwk_rpw_gemm(0, 4, 4, 1, NULL, 4, pb, 0, NULL, 4, NULL, NULL) == 0, "M 0");
	hwk_rpw_gemm_packed_b_free(pb);
	hwk_rpw_gemm_packed_b_free(NULL);
	CHECK(hwk_rpw_gemm_packed_variant(NULL) == NULL, "variant of NULL");
}

int main(void)
{
	static const struct ht_test tests[] = {
		{ "shapes", shapes },
		{ "large", large },
		{ "k_zero_and_alpha_zero", k_zero_and_alpha_zero },
		{ "threads_bit_identical", threads_bit_identical },
		{ "rows_alone_bit_identical", rows_alone_bit_identical },
		{ "decode_every_code", decode_every_code },
		{ "variant_choice", variant_choice },
		{ "bad_arguments", bad_arguments },
	};
	int rc = ht_run("rpw_gemm", tests, sizeof(tests) / sizeof(tests[0]));
	for (size_t t = 1; t <= 3; t++)
		hwk_pool_destroy(pools[t]);
	return rc;
}
