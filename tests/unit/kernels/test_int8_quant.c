/* q8-cvt: QuantizeLinear / DequantizeLinear (u8, s8; per tensor, row,
 * column) and dynamic per-row u8 quantization against references written
 * here, bit for bit, under every ISA ceiling. Ties round half to even;
 * out-of-range values saturate; NaN quantizes to the zero point; +-inf
 * saturate. */
#include <errno.h>
#include <float.h>
#include <stdint.h>

#include "tests/unit/kernels/harness.h"

/* Round half to even without the library's rounding functions. */
static double rne(double t)
{
	double f = floor(t), d = t - f;
	if (d > 0.5)
		return f + 1;
	if (d < 0.5)
		return f;
	return fmod(f, 2.0) == 0 ? f : f + 1;
}

static int32_t ref_q(float x, float scale, int32_t zp, enum hwk_qtype t)
{
	int32_t qmin = t == HWK_QS8 ? -128 : 0, qmax = t == HWK_QS8 ? 127 : 255;
	float v = x / scale; /* f32 division, as ONNX */
	if (isnan(v))
		return zp;
	if (isinf(v))
		return v > 0 ? qmax : qmin;
	double q = rne((double)v) + zp;
	return q < qmin ? qmin : q > qmax ? qmax : (int32_t)q;
}

static int32_t qval(const void *q, size_t i, enum hwk_qtype t)
{
	return t == HWK_QS8 ? ((const int8_t *)q)[i] : ((const uint8_t *)q)[i];
}

static struct hwk_pool *pool2, *pool3;

static const struct hwk_parallel *par_of(int t)
{
	return t == 1 ? NULL : hwk_pool_parallel(t == 2 ? pool2 : pool3);
}

/* Explicit ties and edges: x / scale = +-0.5, 1.5, 2.5, ... */
static void ties_and_saturation(void)
{
	static const float xs[] = { 0.5f, 1.5f, 2.5f, 3.5f, -0.5f, -1.5f, -2.5f, 254.5f, 255.5f,
				    -127.5f, -128.5f, 126.5f, 127.5f, 0.49999997f, 1e30f, -1e30f,
				    INFINITY, -INFINITY, NAN, -0.0f, 1e-45f };
	static const int32_t want_u8_zp0[] = { 0, 2, 2, 4, 0, 0, 0, 254, 255, 0, 0, 126, 128, 0, 255,
					       0, 255, 0, 0, 0, 0 };
	static const int32_t want_s8_zp0[] = { 0, 2, 2, 4, 0, -2, -2, 127, 127, -128, -128, 126, 127,
					       0, 127, -128, 127, -128, 0, 0, 0 };
	size_t n = sizeof(xs) / sizeof(xs[0]);
	uint8_t q[32];
	float one = 1.0f;
	int32_t zp0 = 0, zp3 = 3, zpm = -7;
	CHECK(hwk_quantize_f32(HWK_QU8, 1, n, xs, n, q, n, HWK_QAXIS_TENSOR, &one, &zp0, NULL) == 0, "u8");
	for (size_t i = 0; i < n; i++)
		CHECK(q[i] == want_u8_zp0[i], "u8 x=%g: %d want %d", xs[i], q[i], want_u8_zp0[i]);
	CHECK(hwk_quantize_f32(HWK_QS8, 1, n, xs, n, q, n, HWK_QAXIS_TENSOR, &one, NULL, NULL) == 0, "s8");
	for (size_t i = 0; i < n; i++)
		CHECK((int8_t)q[i] == want_s8_zp0[i], "s8 x=%g: %d want %d", xs[i], (int8_t)q[i],
		      want_s8_zp0[i]);
	/* With zero points: rounding happens before the zero point is added. */
	CHECK(hwk_quantize_f32(HWK_QU8, 1, n, xs, n, q, n, HWK_QAXIS_TENSOR, &one, &zp3, NULL) == 0, "u8 zp");
	for (size_t i = 0; i < n; i++)
		CHECK(q[i] == ref_q(xs[i], 1.0f, 3, HWK_QU8), "u8 zp3 x=%g: %d want %d", xs[i], q[i],
		      ref_q(xs[i], 1.0f, 3, HWK_QU8));
	CHECK(q[0] == 3 && q[1] == 5 && q[4] == 3 && q[18] == 3, "zp3 ties / NaN -> zp");
	CHECK(hwk_quantize_f32(HWK_QS8, 1, n, xs, n, q, n, HWK_QAXIS_TENSOR, &one, &zpm, NULL) == 0, "s8 zp");
	for (size_t i = 0; i < n; i++)
		CHECK((int8_t)q[i] == ref_q(xs[i], 1.0f, -7, HWK_QS8), "s8 zp-7 x=%g", xs[i]);
}

/* Random data, with many exact ties, every axis, type and length. */
static void axes_and_lengths(void)
{
	static const size_t colss[] = { 1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 257 };
	static const size_t rowss[] = { 1, 3, 8 };
	unsigned long long s = 7;
	for (int ty = 0; ty < 2; ty++) {
		enum hwk_qtype t = (enum hwk_qtype)ty;
		int32_t qmin = t == HWK_QS8 ? -128 : 0;
		for (size_t ri = 0; ri < 3; ri++)
			for (size_t ci = 0; ci < sizeof(colss) / sizeof(colss[0]); ci++)
				for (int ax = 0; ax < 3; ax++)
					for (int withzp = 0; withzp < 2; withzp++) {
						size_t rows = rowss[ri], cols = colss[ci];
						size_t ldx = cols + 3, ldq = cols + 5;
						float *x = malloc(rows * ldx * 4), *y = malloc(rows * ldx * 4);
						uint8_t *q = malloc(rows * ldq);
						float scale[300];
						int32_t zp[300];
						for (size_t i = 0; i < 300; i++) {
							/* Powers of two make x / scale exact: real ties. */
							scale[i] = ldexpf(1.0f, (int)(ht_randf(&s, -4, 3)));
							if (i % 3 == 0)
								scale[i] *= 0.37f;
							zp[i] = qmin + (int32_t)ht_randf(&s, 0, 255.99f);
						}
						for (size_t r = 0; r < rows; r++)
							for (size_t c = 0; c < ldx; c++) {
								float v = ht_randf(&s, -300, 300);
								/* Half the values land on .5 of a step. */
								size_t ch = ax == HWK_QAXIS_ROW ? r : ax == HWK_QAXIS_COL ? c : 0;
								if (c < cols && (c & 1))
									v = (floorf(v / 4) + 0.5f) * scale[ch];
								x[r * ldx + c] = v;
							}
						if (cols > 5) {
							x[3] = NAN;
							x[4] = INFINITY;
							x[5] = -INFINITY;
						}
						const int32_t *z = withzp ? zp : NULL;
						for (int th = 1; th <= 3; th++) {
							memset(q, 0xcd, rows * ldq);
							int rc = hwk_quantize_f32(t, rows, cols, x, ldx, q, ldq,
										  (enum hwk_qaxis)ax, scale, z,
										  par_of(th));
							CHECK(rc == 0, "rc %d", rc);
							for (size_t r = 0; r < rows; r++)
								for (size_t c = 0; c < cols; c++) {
									size_t ch = ax == HWK_QAXIS_ROW ? r
										    : ax == HWK_QAXIS_COL ? c : 0;
									int32_t want = ref_q(x[r * ldx + c], scale[ch],
											     z ? z[ch] : 0, t);
									int32_t got = qval(q, r * ldq + c, t);
									CHECK(got == want,
									      "t%d ax%d zp%d %zux%zu at %zu,%zu x=%.9g s=%g: %d want %d",
									      ty, ax, withzp, rows, cols, r, c,
									      x[r * ldx + c], scale[ch], got, want);
								}
							for (size_t r = 0; r + 1 < rows; r++)
								CHECK(q[r * ldq + cols] == 0xcd, "wrote past cols");
						}
						/* Dequantize exactly: (q - zp) * scale. */
						for (int th = 1; th <= 3; th++) {
							int rc = hwk_dequantize_f32(t, rows, cols, q, ldq, y, ldx,
										    (enum hwk_qaxis)ax, scale, z,
										    par_of(th));
							CHECK(rc == 0, "deq rc %d", rc);
							for (size_t r = 0; r < rows; r++)
								for (size_t c = 0; c < cols; c++) {
									size_t ch = ax == HWK_QAXIS_ROW ? r
										    : ax == HWK_QAXIS_COL ? c : 0;
									float want = (float)(qval(q, r * ldq + c, t) -
											     (z ? z[ch] : 0)) * scale[ch];
									CHECK(memcmp(&y[r * ldx + c], &want, 4) == 0,
									      "deq at %zu,%zu: %g want %g", r, c,
									      y[r * ldx + c], want);
									/* Round trip within half a step unless saturated. */
									float xv = x[r * ldx + c];
									int32_t qv = qval(q, r * ldq + c, t);
									if (isfinite(xv) && qv != qmin && qv != qmin + 255)
										CHECK(fabsf(y[r * ldx + c] - xv) <=
											      scale[ch] * 0.5f * 1.0001f,
										      "round trip %g -> %g", xv,
										      y[r * ldx + c]);
								}
						}
						free(x);
						free(y);
						free(q);
					}
	}
}

static void ref_dynamic(const float *x, size_t cols, uint8_t *q, float *scale, uint8_t *zp)
{
	float lo = 0, hi = 0;
	for (size_t i = 0; i < cols; i++) {
		if (x[i] < lo)
			lo = x[i];
		if (x[i] > hi)
			hi = x[i];
	}
	float s = (hi - lo) / 255.0f;
	if (s == 0)
		s = 1;
	float izp = 0.0f - lo / s;
	izp = izp < 0 ? 0 : izp > 255 ? 255 : izp;
	int32_t z = (int32_t)rne(izp);
	*scale = s;
	*zp = (uint8_t)z;
	for (size_t i = 0; i < cols; i++)
		q[i] = (uint8_t)ref_q(x[i], s, z, HWK_QU8);
}

static void dynamic_rows(void)
{
	static const size_t colss[] = { 1, 5, 16, 33, 64, 77, 768 };
	for (size_t ci = 0; ci < sizeof(colss) / sizeof(colss[0]); ci++) {
		size_t rows = 9, cols = colss[ci], ld = cols + 2;
		float *x = calloc(rows * ld, 4);
		uint8_t *q = malloc(rows * ld), *wq = malloc(cols);
		float sc[9], ws;
		uint8_t zp[9], wz;
		ht_fill(x, rows * ld, ci + 1, -5.0f, 7.0f);
		for (size_t c = 0; c < cols; c++) {
			x[0 * ld + c] = 0.0f;                 /* all zero: scale 1, zp 0 */
			x[1 * ld + c] = fabsf(x[1 * ld + c]);  /* all >= 0: zp 0 */
			x[2 * ld + c] = -fabsf(x[2 * ld + c]); /* all <= 0: zp 255 */
			x[3 * ld + c] = 3.0f;                 /* constant */
		}
		x[4 * ld] = NAN; /* ignored by min/max, quantizes to zp */
		for (int th = 1; th <= 3; th++) {
			memset(q, 0, rows * ld);
			CHECK(hwk_qu8_dynamic_quantize_rows(rows, cols, x, ld, q, ld, sc, zp, par_of(th)) == 0,
			      "rc");
			for (size_t r = 0; r < rows; r++) {
				ref_dynamic(x + r * ld, cols, wq, &ws, &wz);
				CHECK(sc[r] == ws && zp[r] == wz, "cols %zu row %zu: scale %g zp %d want %g %d",
				      cols, r, sc[r], zp[r], ws, wz);
				CHECK(memcmp(q + r * ld, wq, cols) == 0, "cols %zu row %zu codes", cols, r);
			}
		}
		CHECK(sc[0] == 1.0f && zp[0] == 0, "zero row");
		CHECK(zp[1] == 0, "non-negative row zp %d", zp[1]);
		CHECK(cols < 2 || zp[2] == 255, "non-positive row zp %d", zp[2]);
		free(x);
		free(q);
		free(wq);
	}
}

static void bad_arguments(void)
{
	float x[4] = { 0 }, s = 1.0f, zero = 0.0f, nan = NAN;
	uint8_t q[4];
	int32_t zbig = 256, zneg = -129;
	CHECK(hwk_quantize_f32(HWK_QU8, 1, 4, x, 4, q, 4, HWK_QAXIS_TENSOR, &zero, NULL, NULL) == -EINVAL, "zero scale");
	CHECK(hwk_quantize_f32(HWK_QU8, 1, 4, x, 4, q, 4, HWK_QAXIS_TENSOR, &nan, NULL, NULL) == -EINVAL, "nan scale");
	CHECK(hwk_quantize_f32(HWK_QU8, 1, 4, x, 4, q, 4, HWK_QAXIS_TENSOR, &s, &zbig, NULL) == -EINVAL, "zp 256");
	CHECK(hwk_quantize_f32(HWK_QS8, 1, 4, x, 4, q, 4, HWK_QAXIS_TENSOR, &s, &zneg, NULL) == -EINVAL, "zp -129");
	CHECK(hwk_quantize_f32(HWK_QU8, 1, 4, x, 3, q, 4, HWK_QAXIS_TENSOR, &s, NULL, NULL) == -EINVAL, "ldx");
	CHECK(hwk_quantize_f32((enum hwk_qtype)5, 1, 4, x, 4, q, 4, HWK_QAXIS_TENSOR, &s, NULL, NULL) == -EINVAL, "type");
	CHECK(hwk_quantize_f32(HWK_QU8, 1, 4, x, 4, q, 4, (enum hwk_qaxis)9, &s, NULL, NULL) == -EINVAL, "axis");
	CHECK(hwk_dequantize_f32(HWK_QU8, 1, 4, q, 4, x, 4, HWK_QAXIS_TENSOR, NULL, NULL, NULL) == -EINVAL, "NULL scale");
	CHECK(hwk_quantize_f32(HWK_QU8, 0, 4, NULL, 0, NULL, 0, HWK_QAXIS_TENSOR, NULL, NULL, NULL) == 0, "empty");
	float sc;
	uint8_t zp;
	CHECK(hwk_qu8_dynamic_quantize_rows(1, 4, x, 3, q, 4, &sc, &zp, NULL) == -EINVAL, "dyn ldx");
	CHECK(hwk_qu8_dynamic_quantize_rows(1, 4, x, 4, q, 4, NULL, &zp, NULL) == -EINVAL, "dyn scale");
}

int main(void)
{
	pool2 = hwk_pool_create(2);
	pool3 = hwk_pool_create(3);
	if (!pool2 || !pool3)
		return 1;
	static const struct ht_test tests[] = {
		{ "ties_and_saturation", ties_and_saturation },
		{ "axes_and_lengths", axes_and_lengths },
		{ "dynamic_rows", dynamic_rows },
		{ "bad_arguments", bad_arguments },
	};
	int rc = ht_run("int8_quant", tests, sizeof(tests) / sizeof(tests[0]));
	hwk_pool_destroy(pool2);
	hwk_pool_destroy(pool3);
	return rc;
}
