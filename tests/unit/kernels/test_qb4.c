/* int4 weight-only GEMM: quantizer round trip, products against a double
 * reference on the dequantized weights, strides, bias, threads. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "kernels/f32-qb4-gemm/qb4.h"
#include "tests/unit/kernels/harness.h"

static float deq(const struct hwk_qb4_weights *w, size_t r, size_t c)
{
	size_t kb = w->k / 32, b = c / 32, t = c % 32;
	uint8_t byte = w->q[r * (w->k / 2) + b * 16 + t % 16];
	int q = t < 16 ? byte & 15 : byte >> 4;
	float s = w->scale[r * kb + b];
	return w->min ? (float)q * s + w->min[r * kb + b] : (float)(q - 8) * s;
}

struct qw {
	struct hwk_qb4_weights w;
	uint8_t *q;
	float *scale, *min, *src;
};

static void make_weights(struct qw *o, size_t n, size_t k, int asym, unsigned long long seed)
{
	o->src = malloc(n * k * 4);
	o->q = malloc(n * k / 2);
	o->scale = malloc(n * k / 32 * 4);
	o->min = asym ? malloc(n * k / 32 * 4) : NULL;
	ht_fill(o->src, n * k, seed, -1, 1);
	if (n > 1)
		for (size_t c = 0; c < k; c++)
			o->src[k + c] = 0; /* an all-zero row: scale 0 */
	int rc = hwk_qb4_quantize(n, k, o->src, o->q, o->scale, o->min);
	CHECK(rc == 0, "quantize rc %d", rc);
	o->w = (struct hwk_qb4_weights){ n, k, o->q, o->scale, o->min };
}

static void free_weights(struct qw *o)
{
	free(o->src);
	free(o->q);
	free(o->scale);
	free(o->min);
}

/* Dequantized weights are within half a step of the originals. */
static void quantize_round_trip(void)
{
	for (int asym = 0; asym < 2; asym++) {
		struct qw o;
		make_weights(&o, 5, 96, asym, 3);
		for (size_t r = 0; r < 5; r++)
			for (size_t c = 0; c < 96; c++) {
				float s = o.scale[r * 3 + c / 32];
				float err = fabsf(deq(&o.w, r, c) - o.src[r * 96 + c]);
				/* half a step, plus rounding of q*s+min in float */
				CHECK(err <= 0.5f * s + 1e-6f, "asym %d (%zu,%zu): err %g step %g", asym, r,
				      c, err, s);
			}
		free_weights(&o);
	}
	float bad[32] = { NAN };
	uint8_t q[16];
	float s;
	CHECK(hwk_qb4_quantize(1, 32, bad, q, &s, NULL) == -EINVAL, "NaN weight accepted");
	CHECK(hwk_qb4_quantize(1, 48, bad, q, &s, NULL) == -EINVAL, "k not a multiple of 32");
}

/* y against a double reference on the dequantized weights. */
static void check_gemm(size_t m, size_t n, size_t k, int asym, int with_bias,
		       unsigned long long seed)
{
	size_t ldx = k + 3, ldy = n + 2;
	struct qw o;
	make_weights(&o, n, k, asym, seed);
	float *x = malloc(m * ldx * 4), *y = malloc(m * ldy * 4);
	float *bias = malloc(n * 4);
	ht_fill(x, m * ldx, 7 + seed, -2, 2);
	ht_fill(bias, n, 9, -1, 1);
	for (size_t i = 0; i < m * ldy; i++)
		y[i] = 1234.5f; /* gaps must keep this */
	int rc = hwk_f32_qb4_gemm(m, x, ldx, &o.w, with_bias ? bias : NULL, y, ldy, NULL);
	CHECK(rc == 0, "rc %d", rc);
	for (size_t i = 0; i < m; i++) {
		for (size_t j = 0; j < n; j++) {
			double r = with_bias ? bias[j] : 0, mag = fabs(r);
			for (size_t t = 0; t < k; t++) {
				double p = (double)x[i * ldx + t] * deq(&o.w, j, t);
				r += p;
				mag += fabs(p);
			}
			/* float sums over k terms: relative to the sum of
			 * magnitudes, k * 2^-23 bounds it */
			double tol = mag * (double)k * 1.2e-7 + 1e-6;
			float v = y[i * ldy + j];
			CHECK(fabs(v - r) <= tol, "asym %d m%zu n%zu k%zu (%zu,%zu): %.8g want %.8g [%s]",
			      asym, m, n, k, i, j, v, r, ht_variant(&hwk_op_f32_qb4_gemm));
		}
		for (size_t j = n; j < ldy; j++)
			CHECK(y[i * ldy + j] == 1234.5f, "gap written at (%zu,%zu)", i, j);
	}
	free(x);
	free(y);
	free(bias);
	free_weights(&o);
}

static void gemm_matches_reference(void)
{
	static const size_t ms[] = { 1, 2, 3, 4, 5, 8, 13 };
	static const size_t ns[] = { 1, 3, 4, 5, 17, 64 };
	static const size_t ks[] = { 32, 64, 96, 512 };
	for (int asym = 0; asym < 2; asym++)
		for (size_t a = 0; a < 7; a++)
			for (size_t b = 0; b < 6; b++)
				for (size_t c = 0; c < 4; c++)
					check_gemm(ms[a], ns[b], ks[c], asym, (int)(a & 1),
						   100 * a + 10 * b + c);
}

/* Rows long enough (k/32 not a multiple of 4) for the GEMV paths that
 * take several weight rows at once. */
static void gemm_long_rows(void)
{
	for (int asym = 0; asym < 2; asym++)
		for (size_t m = 1; m <= 2; m++)
			check_gemm(m, 9, 32 * 203, asym, (int)m & 1, 500 + m);
}

static void threads_do_not_change(size_t m, size_t n, size_t k)
{
	struct qw o;
	make_weights(&o, n, k, 1, 77);
	float *x = malloc(m * k * 4), *y1 = malloc(m * n * 4), *y3 = malloc(m * n * 4);
	ht_fill(x, m * k, 5, -1, 1);
	hwk_f32_qb4_gemm(m, x, k, &o.w, NULL, y1, n, NULL);
	for (size_t t = 2; t <= 3; t++) {
		struct hwk_pool *pool = hwk_pool_create(t);
		hwk_f32_qb4_gemm(m, x, k, &o.w, NULL, y3, n, hwk_pool_parallel(pool));
		hwk_pool_destroy(pool);
		CHECK(memcmp(y1, y3, m * n * 4) == 0, "%zu threads differ", t);
	}
	free(x);
	free(y1);
	free(y3);
	free_weights(&o);
}

static void threads_do_not_change_results(void)
{
	threads_do_not_change(7, 301, 256);
	threads_do_not_change(1, 301, 32 * 203); /* GEMV, long rows */
}

static void bad_arguments(void)
{
	uint8_t q[16] = { 0 };
	float s = 1, x[32] = { 0 }, y[1];
	struct hwk_qb4_weights w = { 1, 32, q, &s, NULL };
	CHECK(hwk_f32_qb4_gemm(1, x, 32, &w, NULL, y, 1, NULL) == 0, "valid call");
	CHECK(hwk_f32_qb4_gemm(1, x, 31, &w, NULL, y, 1, NULL) == -EINVAL, "ldx < k");
	CHECK(hwk_f32_qb4_gemm(1, NULL, 32, &w, NULL, y, 1, NULL) == -EINVAL, "NULL x");
	CHECK(hwk_f32_qb4_gemm(0, NULL, 0, &w, NULL, NULL, 0, NULL) == 0, "m 0 is fine");
	w.k = 40;
	CHECK(hwk_f32_qb4_gemm(1, x, 40, &w, NULL, y, 1, NULL) == -EINVAL, "k not a multiple of 32");
	CHECK(hwk_f32_qb4_gemm(1, x, 32, NULL, NULL, y, 1, NULL) == -EINVAL, "NULL weights");
}

int main(void)
{
	static const struct ht_test tests[] = {
		{ "quantize_round_trip", quantize_round_trip },
		{ "gemm_matches_reference", gemm_matches_reference },
		{ "gemm_long_rows", gemm_long_rows },
		{ "threads_do_not_change_results", threads_do_not_change_results },
		{ "bad_arguments", bad_arguments },
	};
	return ht_run("qb4", tests, sizeof(tests) / sizeof(tests[0]));
}
