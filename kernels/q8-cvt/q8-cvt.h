/* q8-cvt: f32 <-> 8-bit quantization (ONNX QuantizeLinear and
 * DequantizeLinear), u8 and s8, and the per-row min/max behind dynamic
 * quantization. Internal to libhwk: the variants' descriptor and the scalar
 * rounding every variant must agree with bit for bit.
 *
 * Quantize: q = saturate(rne(x / scale) + zp), rne = round half to even
 * (the default rounding mode), saturate to [qmin, qmax]. The division is a
 * true IEEE division (not a multiply by 1/scale), as ONNX writes it. NaN
 * quantizes to zp; +-inf saturate. Because qmin - zp and qmax - zp are
 * integers, clamping x / scale to them before rounding gives the same result
 * as rounding first, which is what the vector variants do.
 *
 * Dequantize: y = (float)(q - zp) * scale (one exact integer subtraction,
 * an exact conversion, one rounding multiply). */
#ifndef HWK_Q8_CVT_H
#define HWK_Q8_CVT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/hwk.h"

struct hwk_q8_cvt_impl {
	/* y[i] = quantize(x[i]) with one scale/zp for all n elements. */
	void (*quantize)(size_t n, const float *x, uint8_t *y, float scale, int32_t zp,
			 int32_t qmin, int32_t qmax);
	/* Per element i: scale[i], zp[i] (zp NULL: 0). For per-column axes. */
	void (*quantize_v)(size_t n, const float *x, uint8_t *y, const float *scale,
			   const int32_t *zp, int32_t qmin, int32_t qmax);
	/* y[i] = (q[i] - zp) * scale; q is s8 when is_signed. */
	void (*dequantize)(size_t n, const uint8_t *q, int is_signed, float *y, float scale,
			   int32_t zp);
	void (*dequantize_v)(size_t n, const uint8_t *q, int is_signed, float *y,
			     const float *scale, const int32_t *zp);
	/* min and max of x[0..n), NaN ignored (a row of NaN gives +inf, -inf),
	 * n >= 1. Order-free, so every variant agrees. */
	void (*minmax)(size_t n, const float *x, float *min, float *max);
};

/* The scalar rounding, shared so every variant's tails agree. */
static inline int32_t hwk_q8_round_sat(float t, int32_t zp, int32_t qmin, int32_t qmax)
{
	float lo = (float)(qmin - zp), hi = (float)(qmax - zp);
	if (t != t)
		t = 0.0f;
	if (t < lo)
		t = lo;
	if (t > hi)
		t = hi;
	return (int32_t)nearbyintf(t) + zp;
}

extern const struct hwk_q8_cvt_impl hwk_q8_cvt_ukernel_x1__scalar;
#if defined(__x86_64__)
extern const struct hwk_q8_cvt_impl hwk_q8_cvt_ukernel_x32__avx2;
extern const struct hwk_q8_cvt_impl hwk_q8_cvt_ukernel_x64__avx512f;
#endif
#if defined(__aarch64__)
extern const struct hwk_q8_cvt_impl hwk_q8_cvt_ukernel_x16__neon;
#endif

#endif
