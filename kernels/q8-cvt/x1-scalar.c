/* q8-cvt scalar reference: one element at a time. */
#include "kernels/q8-cvt/q8-cvt.h"

static void quantize(size_t n, const float *x, uint8_t *y, float scale, int32_t zp, int32_t qmin,
		     int32_t qmax)
{
	for (size_t i = 0; i < n; i++)
		y[i] = (uint8_t)hwk_q8_round_sat(x[i] / scale, zp, qmin, qmax);
}

static void quantize_v(size_t n, const float *x, uint8_t *y, const float *scale, const int32_t *zp,
		       int32_t qmin, int32_t qmax)
{
	for (size_t i = 0; i < n; i++)
		y[i] = (uint8_t)hwk_q8_round_sat(x[i] / scale[i], zp ? zp[i] : 0, qmin, qmax);
}

static inline int32_t load_q(const uint8_t *q, size_t i, int is_signed)
{
	return is_signed ? (int32_t)(int8_t)q[i] : (int32_t)q[i];
}

static void dequantize(size_t n, const uint8_t *q, int is_signed, float *y, float scale, int32_t zp)
{
	for (size_t i = 0; i < n; i++)
		y[i] = (float)(load_q(q, i, is_signed) - zp) * scale;
}

static void dequantize_v(size_t n, const uint8_t *q, int is_signed, float *y, const float *scale,
			 const int32_t *zp)
{
	for (size_t i = 0; i < n; i++)
		y[i] = (float)(load_q(q, i, is_signed) - (zp ? zp[i] : 0)) * scale[i];
}

static void minmax(size_t n, const float *x, float *mn, float *mx)
{
	float lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		lo = x[i] < lo ? x[i] : lo;
		hi = x[i] > hi ? x[i] : hi;
	}
	*mn = lo;
	*mx = hi;
}

const struct hwk_q8_cvt_impl hwk_q8_cvt_ukernel_x1__scalar = {
	quantize, quantize_v, dequantize, dequantize_v, minmax,
};
