/* f32 row ops (softmax, log-softmax, layernorm, rmsnorm) and inference
 * batchnorm against double-precision references written here: sizes with
 * tails, row strides with sentinels in the gaps, in place, special rows,
 * thread counts, bad arguments. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "tests/unit/kernels/harness.h"

static const size_t sizes[] = { 1, 2, 3, 15, 16, 17, 31, 33, 1000, 4099 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define ROWS 3
#define GAP 5 /* ld = n + GAP */
#define SENTINEL -7777.5f

static const float eps24 = 0x1p-24f;

/* Rounding bound for a float sum of n terms in a few vector accumulators
 * (positive terms, or relative to the sum of magnitudes): each of at least
 * 8 chains (NEON: 4 lanes x 2) adds n/8 terms, then a short reduction. */
static double sum_bound(size_t n)
{
	return (16.0 + (double)n / 8) * eps24;
}

/* Row-major rows x n with stride ld, gaps and tail set to SENTINEL. */
static float *alloc_rows(size_t rows, size_t n, size_t ld)
{
	size_t total = rows * ld + 8;
	float *p = malloc(total * sizeof(float));
	for (size_t i = 0; i < total; i++)
		p[i] = SENTINEL;
	return p;
}

static void check_gaps(const float *y, size_t rows, size_t n, size_t ld, const char *what)
{
	size_t total = rows * ld + 8;
	for (size_t r = 0; r < rows; r++)
		for (size_t i = r * ld + n; i < (r + 1) * ld && i < total; i++)
			CHECK(y[i] == SENTINEL, "%s n=%zu: gap y[%zu] written", what, n, i);
	for (size_t i = rows * ld; i < total; i++)
		CHECK(y[i] == SENTINEL, "%s n=%zu: past the end y[%zu] written", what, n, i);
}

static const char *variant(const char *op)
{
	struct hwk_op *const *ops;
	size_t n = hwk_ops(&ops);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ops[i]->name, op) == 0)
			return hwk_op_variant(ops[i])->name;
	return "?";
}

/* --- softmax and log-softmax ---------------------------------------------- */

static void ref_softmax(size_t n, const float *x, double *sm, double *lsm)
{
	double m = -INFINITY, s = 0;
	for (size_t i = 0; i < n; i++)
		m = x[i] > m ? x[i] : m;
	for (size_t i = 0; i < n; i++)
		s += exp((double)x[i] - m);
	for (size_t i = 0; i < n; i++) {
		sm[i] = exp((double)x[i] - m) / s;
		lsm[i] = (double)x[i] - m - log(s);
	}
}

/* Tolerances: softmax relative, exp (2 ulp) + reciprocal and product (1)
 * + the sum's rounding + the rounding of x - max in float, which exp turns
 * into a relative error of |x - max| 2^-24; log-softmax absolute, the roundings of x - max and
 * of log(sum) (relative to their sizes) + the sum's relative error. */
static void softmax_sizes_strides_in_place(void)
{
	for (size_t s = 0; s < NSIZES; s++) {
		size_t n = sizes[s], ld = n + GAP;
		float *x = alloc_rows(ROWS, n, ld), *y = alloc_rows(ROWS, n, ld),
		      *z = alloc_rows(ROWS, n, ld), *w = alloc_rows(ROWS, n, ld);
		for (size_t r = 0; r < ROWS; r++)
			ht_fill(x + r * ld, n, 11 * n + r, r == 2 ? -60.0f : -8.0f, r == 1 ? 40.0f : 8.0f);
		double *sm = malloc(n * sizeof(double)), *lsm = malloc(n * sizeof(double));
		CHECK(hwk_f32_softmax(ROWS, n, x, ld, y, ld, NULL) == 0, "rc");
		CHECK(hwk_f32_logsoftmax(ROWS, n, x, ld, w, ld, NULL) == 0, "rc");
		double rtol = 4 * eps24 + sum_bound(n);
		for (size_t r = 0; r < ROWS; r++) {
			const float *xr = x + r * ld, *yr = y + r * ld, *wr = w + r * ld;
			ref_softmax(n, xr, sm, lsm);
			double m = -INFINITY;
			for (size_t i = 0; i < n; i++)
				m = xr[i] > m ? xr[i] : m;
			int bad = 0;
			for (size_t i = 0; i < n; i++) {
				double tol = (rtol + fabs((double)xr[i] - m) * eps24) * sm[i] + 1e-44;
				if (!(fabs(yr[i] - sm[i]) <= tol) && bad++ < 3)
					CHECK(0, "softmax[%s] n=%zu row %zu [%zu]: %a want %a", variant("f32-softmax"),
					      n, r, i, yr[i], sm[i]);
				double ls = (double)xr[i] - m - lsm[i]; /* log(sum) */
				double atol = 2 * eps24 * (fabs((double)xr[i] - m) + fabs(ls)) + sum_bound(n);
				if (!(fabs(wr[i] - lsm[i]) <= atol) && bad++ < 3)
					CHECK(0, "logsoftmax[%s] n=%zu row %zu [%zu]: %a want %a",
					      variant("f32-logsoftmax"), n, r, i, wr[i], lsm[i]);
			}
		}
		check_gaps(y, ROWS, n, ld, "softmax");
		check_gaps(w, ROWS, n, ld, "logsoftmax");
		/* in place: the same bits */
		memcpy(z, x, (ROWS * ld + 8) * sizeof(float));
		CHECK(hwk_f32_softmax(ROWS, n, z, ld, z, ld, NULL) == 0, "rc");
		for (size_t r = 0; r < ROWS; r++)
			CHECK(memcmp(z + r * ld, y + r * ld, n * sizeof(float)) == 0,
			      "softmax in place n=%zu row %zu", n, r);
		memcpy(z, x, (ROWS * ld + 8) * sizeof(float));
		CHECK(hwk_f32_logsoftmax(ROWS, n, z, ld, z, ld, NULL) == 0, "rc");
		for (size_t r = 0; r < ROWS; r++)
			CHECK(memcmp(z + r * ld, w + r * ld, n * sizeof(float)) == 0,
			      "logsoftmax in place n=%zu row %zu", n, r);
		/* different strides for x and y */
		float *y2 = alloc_rows(ROWS, n, n);
		CHECK(hwk_f32_softmax(ROWS, n, x, ld, y2, n, NULL) == 0, "rc");
		for (size_t r = 0; r < ROWS; r++)
			CHECK(memcmp(y2 + r * n, y + r * ld, n * sizeof(float)) == 0, "ldy = n");
		free(y2);
		free(sm);
		free(lsm);
		free(x);
		free(y);
		free(z);
		free(w);
	}
}

static void softmax_special_rows(void)
{
	const float inf = INFINITY;
	float y[8], w[8];
	/* -inf entries: 0 (log: -inf); the rest as if they were absent */
	float a[5] = { 1.0f, -inf, 2.0f, -inf, 3.0f };
	hwk_f32_softmax(1, 5, a, 5, y, 5, NULL);
	hwk_f32_logsoftmax(1, 5, a, 5, w, 5, NULL);
	double s = exp(-2.0) + exp(-1.0) + 1;
	CHECK(y[1] == 0 && y[3] == 0, "softmax of -inf: %g %g", y[1], y[3]);
	CHECK(fabs(y[4] - 1 / s) < 1e-6 && fabs(y[0] - exp(-2.0) / s) < 1e-6, "softmax: %g", y[4]);
	CHECK(w[1] == -inf && w[3] == -inf, "logsoftmax of -inf: %g", w[1]);
	CHECK(fabs(w[4] + log(s)) < 1e-6, "logsoftmax: %g", w[4]);
	/* all -inf, a NaN, or +inf: a NaN row */
	float rows[3][4] = { { -inf, -inf, -inf, -inf }, { 0, NAN, 1, 2 }, { 0, inf, 1, 2 } };
	for (int r = 0; r < 3; r++) {
		hwk_f32_softmax(1, 4, rows[r], 4, y, 4, NULL);
		hwk_f32_logsoftmax(1, 4, rows[r], 4, w, 4, NULL);
		for (int i = 0; i < 4; i++)
			CHECK(isnan(y[i]) && isnan(w[i]), "special row %d [%d]: %g %g", r, i, y[i], w[i]);
	}
	/* n = 1: 1 and 0, whatever the value */
	float one = -1e30f;
	hwk_f32_softmax(1, 1, &one, 1, y, 1, NULL);
	hwk_f32_logsoftmax(1, 1, &one, 1, w, 1, NULL);
	CHECK(y[0] == 1.0f && w[0] == 0.0f, "n=1: %g %g", y[0], w[0]);
	/* large magnitudes: no overflow, thanks to the max */
	float big[3] = { 1e30f, 1e30f, -1e30f };
	hwk_f32_softmax(1, 3, big, 3, y, 3, NULL);
	CHECK(y[0] == 0.5f && y[1] == 0.5f && y[2] == 0.0f, "large: %g %g %g", y[0], y[1], y[2]);
	float hi[2] = { 88.0f, 80.0f };
	hwk_f32_softmax(1, 2, hi, 2, y, 2, NULL);
	CHECK(fabs(y[0] - 1 / (1 + exp(-8.0))) < 1e-6, "near overflow: %g", y[0]);
}

/* --- layernorm, rmsnorm ----------------------------------------------------- */

/* Tolerance per element: the mean's and variance's rounding (sum_bound)
 * scaled by what they multiply, plus a few roundings of the output. */
static void layernorm_sizes_strides_in_place(void)
{
	for (size_t s = 0; s < NSIZES; s++) {
		size_t n = sizes[s], ld = n + GAP;
		float *x = alloc_rows(ROWS, n, ld), *y = alloc_rows(ROWS, n, ld),
		      *z = alloc_rows(ROWS, n, ld), *q = alloc_rows(ROWS, n, ld);
		float *gamma = malloc(n * sizeof(float)), *beta = malloc(n * sizeof(float));
		ht_fill(gamma, n, 5 + n, 0.5f, 2.0f);
		ht_fill(beta, n, 6 + n, -1.0f, 1.0f);
		for (size_t r = 0; r < ROWS; r++) /* row 1 has a large mean */
			ht_fill(x + r * ld, n, 21 * n + r, r == 1 ? 90.0f : -3.0f, r == 1 ? 110.0f : 3.0f);
		for (int variant_gb = 0; variant_gb < 4; variant_gb++) {
			const float *g = variant_gb & 1 ? gamma : NULL, *b = variant_gb & 2 ? beta : NULL;
			float mean[ROWS], rstd[ROWS];
			CHECK(hwk_f32_layernorm(ROWS, n, x, ld, g, b, 1e-5f, y, ld, mean, rstd, NULL) == 0, "rc");
			CHECK(hwk_f32_rmsnorm(ROWS, n, x, ld, g, 1e-5f, q, ld, NULL) == 0, "rc");
			for (size_t r = 0; r < ROWS; r++) {
				const float *xr = x + r * ld;
				double m = 0, v = 0, ss = 0, amax = 0;
				for (size_t i = 0; i < n; i++)
					m += xr[i], ss += (double)xr[i] * xr[i];
				m /= (double)n;
				for (size_t i = 0; i < n; i++) {
					v += ((double)xr[i] - m) * ((double)xr[i] - m);
					amax = fmax(amax, fabs(xr[i]));
				}
				double rs = 1 / sqrt(v / (double)n + 1e-5), rr = 1 / sqrt(ss / (double)n + 1e-5);
				/* mean to within sum_bound of max|x|; rstd relative */
				double merr = sum_bound(n) * amax, rerr = 2 * sum_bound(n) + 4 * eps24;
				if (v > 0)
					rerr += merr * merr * rs * rs * 2 + 2 * merr * sqrt(v / (double)n) * rs * rs;
				CHECK(fabs(mean[r] - m) <= merr + eps24 * fabs(m), "mean n=%zu: %g want %g", n,
				      mean[r], m);
				CHECK(fabs(rstd[r] - rs) <= rerr * rs, "rstd n=%zu: %g want %g", n, rstd[r], rs);
				int bad = 0;
				for (size_t i = 0; i < n; i++) {
					double gi = g ? g[i] : 1, bi = b ? b[i] : 0, d = (double)xr[i] - m;
					double want = d * rs * gi + bi;
					double tol = (fabs(d) * rerr + merr + 2 * eps24 * (fabs(d) + fabs(m))) * rs *
							     fabs(gi) + 2 * eps24 * (fabs(want) + fabs(bi));
					if (!(fabs(y[r * ld + i] - want) <= tol) && bad++ < 3)
						CHECK(0, "layernorm[%s] n=%zu row %zu g%d b%d [%zu]: %a want %a",
						      variant("f32-layernorm"), n, r, g != NULL, b != NULL, i,
						      y[r * ld + i], want);
					double wr = (double)xr[i] * rr * gi;
					double tolr = (2 * sum_bound(n) + 8 * eps24) * fabs(wr);
					if (!(fabs(q[r * ld + i] - wr) <= tolr) && bad++ < 3)
						CHECK(0, "rmsnorm[%s] n=%zu row %zu [%zu]: %a want %a",
						      variant("f32-rmsnorm"), n, r, i, q[r * ld + i], wr);
				}
			}
			check_gaps(y, ROWS, n, ld, "layernorm");
			check_gaps(q, ROWS, n, ld, "rmsnorm");
			memcpy(z, x, (ROWS * ld + 8) * sizeof(float));
			CHECK(hwk_f32_layernorm(ROWS, n, z, ld, g, b, 1e-5f, z, ld, NULL, NULL, NULL) == 0, "rc");
			for (size_t r = 0; r < ROWS; r++)
				CHECK(memcmp(z + r * ld, y + r * ld, n * sizeof(float)) == 0,
				      "layernorm in place n=%zu", n);
			memcpy(z, x, (ROWS * ld + 8) * sizeof(float));
			CHECK(hwk_f32_rmsnorm(ROWS, n, z, ld, g, 1e-5f, z, ld, NULL) == 0, "rc");
			for (size_t r = 0; r < ROWS; r++)
				CHECK(memcmp(z + r * ld, q + r * ld, n * sizeof(float)) == 0,
				      "rmsnorm in place n=%zu", n);
		}
		free(gamma);
		free(beta);
		free(x);
		free(y);
		free(z);
		free(q);
	}
}

static void layernorm_special_rows(void)
{
	/* a constant row with exactly summable values: y = beta, rstd = eps^-1/2 */
	float x[17], y[17], beta[17], mean, rstd;
	for (int i = 0; i < 17; i++)
		x[i] = 3.0f, beta[i] = (float)i - 8;
	CHECK(hwk_f32_layernorm(1, 17, x, 17, NULL, beta, 1e-5f, y, 17, &mean, &rstd, NULL) == 0, "rc");
	CHECK(mean == 3.0f && fabsf(rstd - 1 / sqrtf(1e-5f)) <= 1e-3f, "constant: %g %g", mean, rstd);
	for (int i = 0; i < 17; i++)
		CHECK(y[i] == beta[i], "constant row [%d]: %g want %g", i, y[i], beta[i]);
	/* epsilon 0 and a constant row: 0 * inf = NaN, as the formula says */
	hwk_f32_layernorm(1, 17, x, 17, NULL, NULL, 0.0f, y, 17, NULL, NULL, NULL);
	CHECK(isnan(y[0]), "eps 0, constant row: %g", y[0]);
	/* n = 1: x - mean = 0 */
	hwk_f32_layernorm(1, 1, x, 1, NULL, beta, 1e-5f, y, 1, NULL, NULL, NULL);
	CHECK(y[0] == beta[0], "n=1: %g", y[0]);
	/* NaN or inf in a row: a NaN row */
	x[5] = NAN;
	hwk_f32_layernorm(1, 17, x, 17, NULL, NULL, 1e-5f, y, 17, NULL, NULL, NULL);
	CHECK(isnan(y[0]) && isnan(y[16]), "NaN row: %g", y[0]);
	hwk_f32_rmsnorm(1, 17, x, 17, NULL, 1e-5f, y, 17, NULL);
	CHECK(isnan(y[0]), "rmsnorm NaN row: %g", y[0]);
	/* rmsnorm of zeros: zeros */
	float zeros[5] = { 0 };
	hwk_f32_rmsnorm(1, 5, zeros, 5, NULL, 1e-5f, y, 5, NULL);
	CHECK(y[0] == 0 && y[4] == 0, "rmsnorm zeros: %g", y[0]);
}

/* --- batchnorm -------------------------------------------------------------- */

static void batchnorm_matches_reference(void)
{
	enum { C = 5 };
	float gamma[C], beta[C], mean[C], var[C], scale[C], bias[C];
	ht_fill(gamma, C, 1, 0.5f, 2.0f);
	ht_fill(beta, C, 2, -1.0f, 1.0f);
	ht_fill(mean, C, 3, -2.0f, 2.0f);
	ht_fill(var, C, 4, 0.1f, 3.0f);
	var[2] = 0; /* epsilon keeps it finite */
	CHECK(hwk_f32_batchnorm_fold(C, gamma, beta, mean, var, 1e-5f, scale, bias) == 0, "fold");
	for (size_t s = 0; s < NSIZES; s++) {
		size_t sp = sizes[s], total = 2 * C * sp;
		float *x = malloc((total + 8) * sizeof(float)), *y = malloc((total + 8) * sizeof(float));
		ht_fill(x, total, 9 + sp, -4.0f, 4.0f);
		for (size_t i = 0; i < total + 8; i++)
			y[i] = SENTINEL;
		CHECK(hwk_f32_batchnorm(2, C, sp, x, scale, bias, y, NULL) == 0, "rc");
		int bad = 0;
		for (size_t i = 0; i < total; i++) {
			size_t c = (i / sp) % C;
			/* ONNX: (x - mean) / sqrt(var + eps) * gamma + beta, in double */
			double sd = sqrt((double)var[c] + 1e-5f);
			double want = ((double)x[i] - mean[c]) / sd * gamma[c] + beta[c];
			/* folding rounds scale and bias (1/2 ulp each), the fma once more:
			 * relative to |x scale| + |bias| */
			double tol = 2 * eps24 * (fabs((double)x[i] * scale[c]) + fabs(bias[c]) + fabs(want));
			if (!(fabs(y[i] - want) <= tol) && bad++ < 3)
				CHECK(0, "batchnorm[%s] spatial=%zu [%zu]: %a want %a", variant("f32-batchnorm"),
				      sp, i, y[i], want);
		}
		for (size_t i = total; i < total + 8; i++)
			CHECK(y[i] == SENTINEL, "batchnorm wrote past the end");
		CHECK(hwk_f32_batchnorm(2, C, sp, x, scale, bias, x, NULL) == 0, "rc");
		CHECK(memcmp(x, y, total * sizeof(float)) == 0, "batchnorm in place spatial=%zu", sp);
		free(x);
		free(y);
	}
	CHECK(hwk_f32_batchnorm_fold(C, NULL, NULL, mean, var, 1e-5f, scale, bias) == 0, "fold NULL");
	CHECK(fabsf(scale[0] - 1 / sqrtf(var[0] + 1e-5f)) < 1e-6f * scale[0], "fold gamma NULL");
}

/* --- threads, arguments ----------------------------------------------------- */

static void rowops_threads_identical(void)
{
#if defined(__aarch64__)
	const size_t rows = 37, n = 700;
#else
	const size_t rows = 61, n = 1000;
#endif
	size_t total = rows * n;
	float *x = malloc(total * sizeof(float)), *y0 = malloc(total * sizeof(float)),
	      *y1 = malloc(total * sizeof(float)), *g = malloc(n * sizeof(float));
	float m0[64], m1[64], r0[64], r1[64], sc[3] = { 1.5f, -2, 0.25f }, bi[3] = { 0, 1, -1 };
	ht_fill(x, total, 5, -5, 5);
	ht_fill(g, n, 6, 0.5f, 1.5f);
	for (size_t t = 1; t <= 3; t++) {
		struct hwk_pool *pool = hwk_pool_create(t);
		const struct hwk_parallel *par = hwk_pool_parallel(pool);
		hwk_f32_softmax(rows, n, x, n, y0, n, NULL);
		hwk_f32_softmax(rows, n, x, n, y1, n, par);
		CHECK(memcmp(y0, y1, total * 4) == 0, "softmax %zu threads", t);
		hwk_f32_logsoftmax(rows, n, x, n, y0, n, NULL);
		hwk_f32_logsoftmax(rows, n, x, n, y1, n, par);
		CHECK(memcmp(y0, y1, total * 4) == 0, "logsoftmax %zu threads", t);
		hwk_f32_layernorm(rows, n, x, n, g, g, 1e-5f, y0, n, m0, r0, NULL);
		hwk_f32_layernorm(rows, n, x, n, g, g, 1e-5f, y1, n, m1, r1, par);
		CHECK(memcmp(y0, y1, total * 4) == 0 && memcmp(m0, m1, rows * 4) == 0 &&
			      memcmp(r0, r1, rows * 4) == 0,
		      "layernorm %zu threads", t);
		hwk_f32_rmsnorm(rows, n, x, n, g, 1e-5f, y0, n, NULL);
		hwk_f32_rmsnorm(rows, n, x, n, g, 1e-5f, y1, n, par);
		CHECK(memcmp(y0, y1, total * 4) == 0, "rmsnorm %zu threads", t);
		/* batchnorm: 1 x 3 planes of 20000, several chunks each */
		hwk_f32_batchnorm(1, 3, total / 3, x, sc, bi, y0, NULL);
		hwk_f32_batchnorm(1, 3, total / 3, x, sc, bi, y1, par);
		CHECK(memcmp(y0, y1, total / 3 * 3 * 4) == 0, "batchnorm %zu threads", t);
		hwk_pool_destroy(pool);
	}
	free(x);
	free(y0);
	free(y1);
	free(g);
}

static void rowops_bad_arguments(void)
{
	float a[64] = { 0 }, m[4], r[4];
	CHECK(hwk_f32_softmax(2, 8, NULL, 8, a, 8, NULL) == -EINVAL, "NULL x");
	CHECK(hwk_f32_softmax(2, 8, a, 8, NULL, 8, NULL) == -EINVAL, "NULL y");
	CHECK(hwk_f32_softmax(0, 8, NULL, 8, NULL, 8, NULL) == 0, "no rows");
	CHECK(hwk_f32_softmax(2, 0, NULL, 0, NULL, 0, NULL) == 0, "empty rows");
	CHECK(hwk_f32_softmax(2, 8, a, 7, a + 32, 8, NULL) == -EINVAL, "ldx < n");
	CHECK(hwk_f32_logsoftmax(2, 8, a, 8, a + 32, 4, NULL) == -EINVAL, "ldy < n");
	CHECK(hwk_f32_softmax(2, 8, a, 8, a + 4, 8, NULL) == -EINVAL, "overlap");
	CHECK(hwk_f32_softmax(2, 8, a, 8, a, 16, NULL) == -EINVAL, "in place, other ld");
	CHECK(hwk_f32_softmax(2, 8, a, 8, a, 8, NULL) == 0, "in place");
	CHECK(hwk_f32_softmax(SIZE_MAX / 4, 8, a, 8, a + 32, 8, NULL) == -EINVAL, "extent overflow");
	CHECK(hwk_f32_layernorm(2, 8, a, 8, NULL, NULL, -1.0f, a + 32, 8, NULL, NULL, NULL) == -EINVAL,
	      "negative eps");
	CHECK(hwk_f32_layernorm(2, 8, a, 8, NULL, NULL, NAN, a + 32, 8, NULL, NULL, NULL) == -EINVAL,
	      "NaN eps");
	CHECK(hwk_f32_layernorm(2, 8, a, 8, NULL, NULL, 1e-5f, a + 32, 8, a + 40, r, NULL) == -EINVAL,
	      "mean inside y");
	CHECK(hwk_f32_layernorm(2, 8, a, 8, NULL, NULL, 1e-5f, a + 32, 8, m, m + 1, NULL) == -EINVAL,
	      "mean overlaps inv_std_dev");
	CHECK(hwk_f32_layernorm(2, 8, a, 8, NULL, NULL, 1e-5f, a + 32, 8, m, r, NULL) == 0, "fine");
	CHECK(hwk_f32_rmsnorm(2, 8, a, 8, NULL, INFINITY, a + 32, 8, NULL) == -EINVAL, "inf eps");
	float v[2] = { 1, -1 }, s[2], b[2];
	CHECK(hwk_f32_batchnorm_fold(2, NULL, NULL, a, v, 1e-5f, s, b) == -EINVAL, "negative var");
	v[1] = 0;
	CHECK(hwk_f32_batchnorm_fold(2, NULL, NULL, a, v, 0.0f, s, b) == -EINVAL, "var + eps = 0");
	CHECK(hwk_f32_batchnorm_fold(2, NULL, NULL, NULL, v, 1e-5f, s, b) == -EINVAL, "NULL mean");
	CHECK(hwk_f32_batchnorm(1, 2, 4, a, s, NULL, a, NULL) == -EINVAL, "NULL bias");
	CHECK(hwk_f32_batchnorm(1, 2, 4, a, s, b, a + 3, NULL) == -EINVAL, "overlap");
	CHECK(hwk_f32_batchnorm(SIZE_MAX / 2, 4, 4, a, s, b, a, NULL) == -EINVAL, "overflow");
	CHECK(hwk_f32_batchnorm(0, 2, 4, NULL, NULL, NULL, NULL, NULL) == 0, "empty");
}

int main(void)
{
	static const struct ht_test tests[] = {
		{ "softmax_sizes_strides_in_place", softmax_sizes_strides_in_place },
		{ "softmax_special_rows", softmax_special_rows },
		{ "layernorm_sizes_strides_in_place", layernorm_sizes_strides_in_place },
		{ "layernorm_special_rows", layernorm_special_rows },
		{ "batchnorm_matches_reference", batchnorm_matches_reference },
		{ "rowops_threads_identical", rowops_threads_identical },
		{ "rowops_bad_arguments", rowops_bad_arguments },
	};
	return ht_run("rowops", tests, sizeof(tests) / sizeof(tests[0]));
}
