/* f32 GEMM: every variant against a double-accumulating triple loop, over
 * shapes with tails, all transposes, padded leading dimensions (whose gaps
 * must stay untouched), alpha/beta cases, the epilogues, prepacked B, and
 * bit-identical results for any thread count. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/core/registry.h"
#include "tests/unit/kernels/harness.h"

#if defined(__aarch64__)
/* qemu is slow: the same coverage with smaller large cases. */
#define BIG 128
#define BIG_K 700
#else
#define BIG 512
#define BIG_K 2000
#endif

static struct hwk_pool *pools[4]; /* threads 1, 2, 3 */

static const struct hwk_parallel *par_of(size_t threads)
{
	if (!pools[threads])
		pools[threads] = hwk_pool_create(threads);
	return pools[threads] ? hwk_pool_parallel(pools[threads]) : NULL;
}

/* NaN for never-read padding: a kernel that reads (and uses) it poisons its
 * result. A distinct bit pattern for C's gaps, checked bit for bit. */
static const uint32_t GAP_BITS = 0x7fc0dead;

static float gap_value(void)
{
	float f;
	memcpy(&f, &GAP_BITS, sizeof(f));
	return f;
}

struct mat {
	float *p;
	size_t rows, cols, ld;
};

/* rows x cols in a buffer of rows x ld, values in [-1, 1), gaps NaN. */
static struct mat mat_new(size_t rows, size_t cols, size_t pad, unsigned long long seed)
{
	struct mat m = { NULL, rows, cols, cols + pad };
	size_t n = rows * m.ld;
	m.p = malloc((n ? n : 1) * sizeof(float));
	for (size_t i = 0; i < n; i++)
		m.p[i] = gap_value();
	unsigned long long s = seed * 0x9e3779b97f4a7c15ull + 7;
	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < cols; c++)
			m.p[r * m.ld + c] = ht_randf(&s, -1.0f, 1.0f);
	return m;
}

static double act_ref(double x, enum hwk_f32_gemm_act act)
{
	switch (act) {
	case HWK_F32_GEMM_ACT_RELU: return x > 0 ? x : 0;
	case HWK_F32_GEMM_ACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
	case HWK_F32_GEMM_ACT_GELU_TANH:
		return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
	case HWK_F32_GEMM_ACT_SILU: return x / (1.0 + exp(-x));
	default: return x;
	}
}

/* Bound on the activation's own error: the approximations (the element-wise
 * functions of kernels/vmath/vmath.h, measured in ulps in
 * docs/kernels-eltwise.md) stay below 1e-6 * max(1, |x|); ReLU and none are
 * exact. */
static double act_tol(double x, enum hwk_f32_gemm_act act)
{
	if (act == HWK_F32_GEMM_ACT_NONE || act == HWK_F32_GEMM_ACT_RELU)
		return 0;
	return 1e-6 * (fabs(x) > 1 ? fabs(x) : 1);
}

struct gcase {
	bool ta, tb;
	size_t M, N, K;
	float alpha, beta;
	size_t pad_a, pad_b, pad_c;
	const struct hwk_f32_gemm_epilogue *ep;
	bool c_nan; /* C starts as NaN (with beta 0 it must be overwritten) */
	bool packed;
	size_t threads;
};

/* Runs one case and checks it against the reference; returns the worst
 * error relative to its tolerance (for messages). */
static void run_case(const struct gcase *g, unsigned long long seed)
{
	size_t M = g->M, N = g->N, K = g->K;
	struct mat A = g->ta ? mat_new(K, M, g->pad_a, seed) : mat_new(M, K, g->pad_a, seed + 1);
	struct mat B = g->tb ? mat_new(N, K, g->pad_b, seed + 2) : mat_new(K, N, g->pad_b, seed + 3);
	struct mat C = mat_new(M, N, g->pad_c, seed + 4);
	size_t cn = M * C.ld;
	if (g->c_nan)
		for (size_t r = 0; r < M; r++)
			for (size_t c = 0; c < N; c++)
				C.p[r * C.ld + c] = NAN;
	for (size_t r = 0; r < M; r++) /* C's gaps carry a marker */
		for (size_t c = N; c < C.ld; c++)
			C.p[r * C.ld + c] = gap_value();
	float *C0 = malloc((cn ? cn : 1) * sizeof(float));
	memcpy(C0, C.p, cn * sizeof(float));

	int rc;
	const struct hwk_parallel *par = g->threads ? par_of(g->threads) : NULL;
	if (g->packed) {
		struct hwk_f32_packed_b *pb = hwk_f32_gemm_pack_b(K, N, B.p, B.ld, g->tb);
		CHECK(pb != NULL, "pack_b K %zu N %zu", K, N);
		rc = hwk_f32_gemm_packed(g->ta, M, N, K, g->alpha, A.p, A.ld, pb, g->beta, C.p, C.ld,
					 g->ep, par);
		hwk_f32_gemm_packed_b_free(pb);
	} else {
		rc = hwk_f32_gemm(g->ta, g->tb, M, N, K, g->alpha, A.p, A.ld, B.p, B.ld, g->beta, C.p,
				  C.ld, g->ep, par);
	}
	CHECK(rc == 0, "rc %d for %zux%zux%zu", rc, M, N, K);

	int bad = 0;
	enum hwk_f32_gemm_act act = g->ep ? g->ep->act : HWK_F32_GEMM_ACT_NONE;
	for (size_t i = 0; i < M && bad < 3; i++) {
		for (size_t j = 0; j < N && bad < 3; j++) {
			double s = 0, sabs = 0;
			for (size_t k = 0; k < K; k++) {
				double a = g->ta ? A.p[k * A.ld + i] : A.p[i * A.ld + k];
				double b = g->tb ? B.p[j * B.ld + k] : B.p[k * B.ld + j];
				s += a * b;
				sabs += fabs(a * b);
			}
			double c0 = C0[i * C.ld + j];
			double x = g->alpha == 0 ? 0 : (double)g->alpha * s;
			double mag = fabs((double)g->alpha) * sabs;
			if (g->beta != 0) {
				x += (double)g->beta * c0;
				mag += fabs((double)g->beta * c0);
			}
			if (g->ep && g->ep->bias) {
				x += g->ep->bias[j];
				mag += fabs(g->ep->bias[j]);
			}
			/* Float accumulation: the worst case is K*u*mag; with
			 * random signs the partial sums stay near mag/sqrt(K), so
			 * (4 + 2 sqrt K) eps * mag is far above the expected error
			 * yet well below one missing or doubled product (~mag/K
			 * for the K used here). The activations' slopes are at
			 * most 1.13 (GELU), so the pre-activation error carries
			 * through scaled by 1.2, plus their own error. */
			double tol = (4.0 + 2.0 * sqrt((double)K)) * FLT_EPSILON * mag;
			double want = act_ref(x, act);
			tol = 1.2 * tol + act_tol(x, act);
			if (g->ep && g->ep->clip)
				want = want < g->ep->clip_min ? g->ep->clip_min
				       : want > g->ep->clip_max ? g->ep->clip_max : want;
			float got = C.p[i * C.ld + j];
			if (!(fabs(got - want) <= tol)) {
				bad++;
				CHECK(0,
				      "%s%s M%zu N%zu K%zu a%g b%g act%d: C[%zu][%zu] = %.9g, want %.9g "
				      "(tol %.3g)",
				      g->ta ? "T" : "N", g->tb ? "T" : "N", M, N, K, g->alpha, g->beta,
				      (int)act, i, j, got, want, tol);
			}
		}
	}
	/* The gaps of C keep their exact bits. */
	for (size_t r = 0; r < M; r++)
		for (size_t c = N; c < C.ld; c++)
			if (memcmp(&C.p[r * C.ld + c], &GAP_BITS, 4) != 0) {
				CHECK(0, "M%zu N%zu ldc %zu: gap C[%zu][%zu] written", M, N, C.ld, r, c);
				r = M;
				break;
			}
	free(A.p);
	free(B.p);
	free(C.p);
	free(C0);
}

static const size_t SIZES[] = { 0, 1, 2, 3, 5, 7, 13, 16, 17, 31, 64, 67, 127, 257 };
#define NSIZES (sizeof(SIZES) / sizeof(SIZES[0]))

/* A spread of (M, N, K) from SIZES, not the cross product: every size
 * appears in every position, with varied partners. */
static void shapes_all_transposes(void)
{
	static const float alphas[] = { 1.0f, -0.5f, 2.0f };
	static const float betas[] = { 0.0f, 1.0f, 0.75f };
	unsigned long long seed = 1;
	for (size_t i = 0; i < NSIZES; i++)
		for (size_t v = 0; v < 3; v++) {
			size_t M = SIZES[i], N = SIZES[(i * 5 + 3 + v * 4) % NSIZES];
			size_t K = SIZES[(i * 3 + 7 + v * 5) % NSIZES];
#if defined(__aarch64__)
			if (M * N * K > 300000)
				continue;
#endif
			for (int t = 0; t < 4; t++) {
				struct gcase g = { t & 1, t >> 1, M, N, K, alphas[(i + v) % 3],
						   betas[(i + t) % 3], (i + t) % 3, (v + t) % 4, (i + v) % 2 * 5,
						   NULL, false, false, 0 };
				run_case(&g, seed++);
			}
		}
	/* Primes and the transformer-ish widths, tails on every side. */
	static const size_t extra[][3] = {
		{ 1, 768, 96 }, { 8, 100, 33 }, { 29, 61, 53 }, { 37, 97, 101 }, { 50, 33, 7 },
		{ 11, 1, 129 }, { 1, 1, 1 }, { 12, 32, 8 }, { 13, 33, 9 }, { 25, 65, 3 },
	};
	for (size_t e = 0; e < sizeof(extra) / sizeof(extra[0]); e++)
		for (int t = 0; t < 4; t++) {
			struct gcase g = { t & 1, t >> 1, extra[e][0], extra[e][1], extra[e][2], 1.0f,
					   t == 3 ? 0.5f : 0.0f, 1, 3, 2, NULL, false, false, 0 };
			run_case(&g, seed++);
		}
}

static void large_shapes(void)
{
	struct gcase g1 = { false, false, BIG, BIG, BIG, 1.0f, 0.0f, 0, 0, 0, NULL, false, false, 0 };
	run_case(&g1, 101);
	struct gcase g2 = { true, true, 33, 47, BIG_K, -1.0f, 1.0f, 3, 1, 2, NULL, false, false, 2 };
	run_case(&g2, 102);
	struct gcase g3 = { false, true, 70, 130, BIG_K, 0.5f, 0.0f, 0, 0, 0, NULL, false, true, 3 };
	run_case(&g3, 103);
}

/* K == 0 and alpha == 0: C = beta * C, A and B not read (NaN there). */
static void k_zero_and_alpha_zero(void)
{
	for (int beta_i = 0; beta_i < 3; beta_i++) {
		float beta = beta_i == 0 ? 0.0f : beta_i == 1 ? 1.0f : -3.0f;
		struct gcase g = { false, false, 5, 19, 0, 1.0f, beta, 0, 0, 3, NULL, beta == 0, false, 0 };
		run_case(&g, 200 + beta_i);
		g.packed = true;
		run_case(&g, 210 + beta_i);
	}
	/* K == 0 with NULL A and B. */
	float C[6] = { 1, 2, 3, 4, 5, 6 };
	CHECK(hwk_f32_gemm(false, false, 2, 3, 0, 1, NULL, 0, NULL, 0, 2, C, 3, NULL, NULL) == 0,
	      "K 0 with NULL A/B");
	CHECK(C[0] == 2 && C[5] == 12, "K 0: C = beta C, got %g %g", C[0], C[5]);
	/* alpha == 0: A and B full of NaN must not matter. */
	float A[4] = { NAN, NAN, NAN, NAN }, B[4] = { NAN, NAN, NAN, NAN }, C2[4] = { 1, 1, 1, 1 };
	CHECK(hwk_f32_gemm(false, false, 2, 2, 2, 0.0f, A, 2, B, 2, 0.5f, C2, 2, NULL, NULL) == 0,
	      "alpha 0");
	CHECK(C2[0] == 0.5f && C2[3] == 0.5f, "alpha 0: got %g", C2[0]);
}

/* beta == 0 never reads C: NaN in C is overwritten, on every path. */
static void beta_zero_overwrites_nan(void)
{
	static const size_t shapes[][3] = { { 1, 1, 1 }, { 7, 45, 13 }, { 64, 64, 64 }, { 100, 37, 259 } };
	for (size_t s = 0; s < 4; s++)
		for (int packed = 0; packed < 2; packed++) {
			struct gcase g = { s & 1, false, shapes[s][0], shapes[s][1], shapes[s][2], 1.5f, 0.0f, 0,
					   0, 1, NULL, true, packed, (size_t)packed + 1 };
			run_case(&g, 300 + s * 2 + (size_t)packed);
		}
}

static float *gemm_out(bool packed, bool ta, bool tb, size_t M, size_t N, size_t K,
		       const struct hwk_f32_gemm_epilogue *ep, size_t threads, unsigned long long seed)
{
	struct mat A = ta ? mat_new(K, M, 1, seed) : mat_new(M, K, 1, seed);
	struct mat B = tb ? mat_new(N, K, 2, seed + 1) : mat_new(K, N, 2, seed + 1);
	struct mat C = mat_new(M, N, 0, seed + 2);
	const struct hwk_parallel *par = threads ? par_of(threads) : NULL;
	int rc;
	if (packed) {
		struct hwk_f32_packed_b *pb = hwk_f32_gemm_pack_b(K, N, B.p, B.ld, tb);
		rc = hwk_f32_gemm_packed(ta, M, N, K, 0.75f, A.p, A.ld, pb, 0.5f, C.p, C.ld, ep, par);
		hwk_f32_gemm_packed_b_free(pb);
	} else {
		rc = hwk_f32_gemm(ta, tb, M, N, K, 0.75f, A.p, A.ld, B.p, B.ld, 0.5f, C.p, C.ld, ep, par);
	}
	CHECK(rc == 0, "rc %d", rc);
	free(A.p);
	free(B.p);
	return C.p;
}

static const size_t BIT_SHAPES[][3] = {
#if defined(__aarch64__)
	{ 1, 300, 200 }, { 8, 100, 77 }, { 32, 70, 300 }, { 40, 33, 600 }, { 60, 90, 50 },
	{ 3, 700, 40 },
#else
	{ 1, 768, 300 }, { 8, 200, 77 }, { 32, 130, 513 }, { 77, 65, 1100 }, { 200, 300, 150 },
	{ 3, 3000, 64 },
#endif
};
#define N_BIT_SHAPES (sizeof(BIT_SHAPES) / sizeof(BIT_SHAPES[0]))

/* Prepacked B gives the very bits of the unpacked call (same kernel, same
 * k blocking), for both B layouts, small M (A in place) and large. */
static void packed_equals_unpacked(void)
{
	struct hwk_f32_gemm_epilogue ep = { NULL, HWK_F32_GEMM_ACT_GELU, false, 0, 0 };
	for (size_t s = 0; s < N_BIT_SHAPES; s++)
		for (int t = 0; t < 4; t++) {
			size_t M = BIT_SHAPES[s][0], N = BIT_SHAPES[s][1], K = BIT_SHAPES[s][2];
			float *u = gemm_out(false, t & 1, t >> 1, M, N, K, t == 2 ? &ep : NULL, 0, 400 + s);
			float *p = gemm_out(true, t & 1, t >> 1, M, N, K, t == 2 ? &ep : NULL, 0, 400 + s);
			CHECK(memcmp(u, p, M * N * sizeof(float)) == 0, "M%zu N%zu K%zu t%d: packed differs",
			      M, N, K, t);
			free(u);
			free(p);
		}
}

/* Tasks split C only, never K: 1, 2 and 3 threads agree bit for bit. */
static void threads_bit_identical(void)
{
	struct hwk_f32_gemm_epilogue ep = { NULL, HWK_F32_GEMM_ACT_SILU, true, -0.5f, 3.0f };
	for (size_t s = 0; s < N_BIT_SHAPES; s++)
		for (int packed = 0; packed < 2; packed++) {
			size_t M = BIT_SHAPES[s][0], N = BIT_SHAPES[s][1], K = BIT_SHAPES[s][2];
			float *ref = gemm_out(packed, s & 1, false, M, N, K, &ep, 0, 500 + s);
			for (size_t t = 1; t <= 3; t++) {
				float *o = gemm_out(packed, s & 1, false, M, N, K, &ep, t, 500 + s);
				CHECK(memcmp(ref, o, M * N * sizeof(float)) == 0,
				      "M%zu N%zu K%zu packed %d: %zu threads differ from none", M, N, K,
				      packed, t);
				free(o);
			}
			free(ref);
		}
}

/* Every epilogue, with and without bias and clip, on tails and on the
 * path that packs A. */
static void epilogues(void)
{
	float bias[300];
	ht_fill(bias, 300, 77, -2.0f, 2.0f);
	static const size_t shapes[][3] = { { 5, 37, 19 }, { 61, 70, 40 } };
	unsigned long long seed = 600;
	for (int act = 0; act <= (int)HWK_F32_GEMM_ACT_SILU; act++)
		for (int v = 0; v < 4; v++)
			for (size_t s = 0; s < 2; s++) {
				struct hwk_f32_gemm_epilogue ep = { v & 1 ? bias : NULL,
								    (enum hwk_f32_gemm_act)act, v >= 2,
								    -0.25f, 0.5f };
				struct gcase g = { false, s == 1, shapes[s][0], shapes[s][1], shapes[s][2],
						   2.0f, v == 3 ? 1.0f : 0.0f, 0, 0, 3, &ep, false, v == 1,
						   0 };
				run_case(&g, seed++);
			}
}

/* The approximations alone: K = 1, A = x, B = 1, so the GEMM passes x to
 * the activation exactly. Measures the worst error over a dense grid of
 * [-12, 12] and a few far points, and checks the documented bound
 * |error| <= 1e-6 * max(1, |x|). */
static void activation_accuracy(void)
{
	enum { NX = 24001 + 8 };
	static float xs[NX], out[NX];
	size_t n = 0;
	for (int i = 0; i <= 24000; i++)
		xs[n++] = -12.0f + (float)i * 0.001f;
	static const float far[8] = { -100.0f, -50.0f, -20.0f, 20.0f, 50.0f, 87.5f, 100.0f, 1e-30f };
	for (int i = 0; i < 8; i++)
		xs[n++] = far[i];
	float one = 1.0f;
	static const char *names[] = { "none", "relu", "gelu", "gelu_tanh", "silu" };
	for (int act = 1; act <= (int)HWK_F32_GEMM_ACT_SILU; act++) {
		struct hwk_f32_gemm_epilogue ep = { NULL, (enum hwk_f32_gemm_act)act, false, 0, 0 };
		/* A is NX x 1, B is 1 x 1: C (NX x 1) = act(x). */
		int rc = hwk_f32_gemm(false, false, n, 1, 1, 1.0f, xs, 1, &one, 1, 0.0f, out, 1, &ep,
				      NULL);
		CHECK(rc == 0, "rc %d", rc);
		double worst = 0, worst_x = 0;
		for (size_t i = 0; i < n; i++) {
			double want = act_ref(xs[i], (enum hwk_f32_gemm_act)act);
			double e = fabs(out[i] - want) / (fabs(xs[i]) > 1 ? fabs(xs[i]) : 1);
			if (!(e <= worst)) {
				worst = e;
				worst_x = xs[i];
			}
		}
		CHECK(worst <= 1e-6, "%s: error %.3g at x = %g", names[act], worst, worst_x);
		if (getenv("HWK_TEST_VERBOSE"))
			printf("  %s [%s]: max |err|/max(1,|x|) = %.3g at x = %g\n", names[act],
			       ht_variant(&hwk_op_f32_gemm), worst, worst_x);
	}
}

static void bad_arguments(void)
{
	float a[64] = { 0 }, b[64] = { 0 }, c[64] = { 0 };
	CHECK(hwk_f32_gemm(false, false, 4, 4, 4, 1, a, 3, b, 4, 0, c, 4, NULL, NULL) == -EINVAL,
	      "lda < K");
	CHECK(hwk_f32_gemm(true, false, 4, 4, 3, 1, a, 3, b, 4, 0, c, 4, NULL, NULL) == -EINVAL,
	      "trans lda < M");
	CHECK(hwk_f32_gemm(false, false, 4, 4, 4, 1, a, 4, b, 3, 0, c, 4, NULL, NULL) == -EINVAL,
	      "ldb < N");
	CHECK(hwk_f32_gemm(false, true, 4, 4, 5, 1, a, 5, b, 4, 0, c, 4, NULL, NULL) == -EINVAL,
	      "trans ldb < K");
	CHECK(hwk_f32_gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, c, 3, NULL, NULL) == -EINVAL,
	      "ldc < N");
	CHECK(hwk_f32_gemm(false, false, 4, 4, 4, 1, NULL, 4, b, 4, 0, c, 4, NULL, NULL) == -EINVAL,
	      "A NULL");
	CHECK(hwk_f32_gemm(false, false, 4, 4, 4, 1, a, 4, NULL, 4, 0, c, 4, NULL, NULL) == -EINVAL,
	      "B NULL");
	CHECK(hwk_f32_gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, NULL, 4, NULL, NULL) == -EINVAL,
	      "C NULL");
	struct hwk_f32_gemm_epilogue bad_act = { NULL, (enum hwk_f32_gemm_act)99, false, 0, 0 };
	CHECK(hwk_f32_gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, c, 4, &bad_act, NULL) == -EINVAL,
	      "unknown activation");
	struct hwk_f32_gemm_epilogue bad_clip = { NULL, HWK_F32_GEMM_ACT_NONE, true, 1, -1 };
	CHECK(hwk_f32_gemm(false, false, 4, 4, 4, 1, a, 4, b, 4, 0, c, 4, &bad_clip, NULL) == -EINVAL,
	      "clip min > max");
	/* Empty is fine, with NULLs. */
	CHECK(hwk_f32_gemm(false, false, 0, 0, 0, 1, NULL, 0, NULL, 0, 0, NULL, 0, NULL, NULL) == 0,
	      "all empty");
	CHECK(hwk_f32_gemm(false, false, 0, 5, 5, 1, NULL, 5, b, 5, 0, NULL, 5, NULL, NULL) == 0,
	      "M 0");
	errno = 0;
	CHECK(hwk_f32_gemm_pack_b(4, 4, NULL, 4, false) == NULL && errno == EINVAL, "pack NULL B");
	CHECK(hwk_f32_gemm_pack_b(4, 4, b, 3, false) == NULL && errno == EINVAL, "pack ldb < N");
	struct hwk_f32_packed_b *pb = hwk_f32_gemm_pack_b(4, 4, b, 4, false);
	CHECK(pb != NULL, "pack");
	CHECK(hwk_f32_gemm_packed(false, 4, 5, 4, 1, a, 4, pb, 0, c, 5, NULL, NULL) == -EINVAL,
	      "packed N mismatch");
	CHECK(hwk_f32_gemm_packed(false, 4, 4, 4, 1, a, 4, NULL, 0, c, 4, NULL, NULL) == -EINVAL,
	      "packed NULL");
	CHECK(hwk_f32_gemm_packed(false, 4, 4, 4, 1, a, 2, pb, 0, c, 4, NULL, NULL) == -EINVAL,
	      "packed lda");
	hwk_f32_gemm_packed_b_free(pb);
	CHECK(hwk_f32_gemm_packed_b_size(100, 100) >= 100 * 100 * sizeof(float), "size query");
}

int main(void)
{
	static const struct ht_test tests[] = {
		{ "shapes_all_transposes", shapes_all_transposes },
		{ "large_shapes", large_shapes },
		{ "k_zero_and_alpha_zero", k_zero_and_alpha_zero },
		{ "beta_zero_overwrites_nan", beta_zero_overwrites_nan },
		{ "packed_equals_unpacked", packed_equals_unpacked },
		{ "threads_bit_identical", threads_bit_identical },
		{ "epilogues", epilogues },
		{ "activation_accuracy", activation_accuracy },
		{ "bad_arguments", bad_arguments },
	};
	/* F32_GEMM_TEST=name runs that test alone (for timing under qemu). */
	const char *only = getenv("F32_GEMM_TEST");
	size_t n = sizeof(tests) / sizeof(tests[0]);
	const struct ht_test *run = tests;
	for (size_t i = 0; only && *only && i < n; i++)
		if (strcmp(tests[i].name, only) == 0) {
			run = &tests[i];
			n = 1;
		}
	int rc = ht_run("f32_gemm", run, n);
	for (size_t t = 1; t <= 3; t++)
		hwk_pool_destroy(pools[t]);
	return rc;
}
