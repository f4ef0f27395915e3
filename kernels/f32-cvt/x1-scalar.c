/* Scalar conversions: exact codecs, written from the format definitions. */
#include <math.h>
#include <string.h>

#include "kernels/f32-cvt/cvt.h"

static uint32_t bits(float x)
{
	uint32_t u;
	memcpy(&u, &x, 4);
	return u;
}

static float from_bits(uint32_t u)
{
	float x;
	memcpy(&x, &u, 4);
	return x;
}

uint16_t hwk_cvt_f32_to_bf16_1(float x)
{
	uint32_t u = bits(x);
	if (isnan(x))
		return (uint16_t)((u >> 16) | 0x40); /* quiet, sign and payload top kept */
	u += 0x7fff + ((u >> 16) & 1);             /* round to nearest even */
	return (uint16_t)(u >> 16);
}

float hwk_cvt_bf16_to_f32_1(uint16_t x)
{
	return from_bits((uint32_t)x << 16);
}

/* Generic small-float encoder: m mantissa bits, bias, the largest finite
 * value max. Rounds at the step of ax's own exponent (the fixed subnormal
 * step below the normal range), which is exact in double, then checks the
 * result against max: so a tie just above max goes where round-to-even
 * sends it (E4M3FN 464 -> 448; E5M2 61440 -> overflow). Sets *out to the
 * magnitude code, or returns -1 on overflow. */
static int encode(double ax, int m, int bias, double max, uint32_t *out)
{
	if (isinf(ax))
		return -1;
	if (ax == 0) {
		*out = 0;
		return 0;
	}
	int e;
	frexp(ax, &e);  /* ax = f * 2^e, f in [0.5, 1) */
	int ue = e - 1; /* exponent of the leading bit */
	if (ue < 1 - bias)
		ue = 1 - bias;
	double v = nearbyint(ax / ldexp(1.0, ue - m)) * ldexp(1.0, ue - m); /* half to even */
	if (v > max)
		return -1;
	if (v == 0) {
		*out = 0;
		return 0;
	}
	frexp(v, &e);
	ue = e - 1;
	if (ue < 1 - bias)
		*out = (uint32_t)(v / ldexp(1.0, 1 - bias - m)); /* subnormal */
	else
		*out = (uint32_t)(ue + bias) << m | ((uint32_t)(v / ldexp(1.0, ue - m)) - (1u << m));
	return 0;
}

uint16_t hwk_cvt_f32_to_f16_1(float x)
{
	uint32_t sign = (bits(x) >> 16) & 0x8000, code;
	if (isnan(x))
		return (uint16_t)(sign | 0x7e00);
	if (encode(fabs((double)x), 10, 15, 65504.0, &code) < 0)
		code = 0x7c00; /* overflow is infinity, as IEEE rounding gives */
	return (uint16_t)(sign | code);
}

float hwk_cvt_f16_to_f32_1(uint16_t h)
{
	int e = (h >> 10) & 31, m = h & 1023;
	double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
	return (float)((h & 0x8000) ? -v : v);
}

uint8_t hwk_cvt_f32_to_fp8_1(enum hwk_fp8 fmt, bool saturate, float x)
{
	uint32_t sign = (bits(x) >> 24) & 0x80, code;
	bool e4 = fmt == HWK_FP8_E4M3FN;
	if (isnan(x))
		return (uint8_t)(sign | 0x7f); /* both formats: all ones is a NaN */
	if (encode(fabs((double)x), e4 ? 3 : 2, e4 ? 7 : 15, e4 ? 448.0 : 57344.0, &code) < 0)
		code = saturate ? (e4 ? 0x7e : 0x7b) : (e4 ? 0x7f : 0x7c);
	return (uint8_t)(sign | code);
}

float hwk_cvt_fp8_to_f32_1(enum hwk_fp8 fmt, uint8_t b)
{
	double v;
	if (fmt == HWK_FP8_E4M3FN) {
		int e = (b >> 3) & 15, m = b & 7;
		if (e == 15 && m == 7)
			return NAN;
		v = e == 0 ? ldexp(m, -9) : ldexp(8 + m, e - 10);
	} else {
		int e = (b >> 2) & 31, m = b & 3;
		if (e == 31)
			v = m ? NAN : INFINITY;
		else
			v = e == 0 ? ldexp(m, -16) : ldexp(4 + m, e - 17);
	}
	return (float)((b & 0x80) ? -v : v);
}

void hwk_f32_cvt_bf16_ukernel_x1__scalar(size_t n, const float *x, uint16_t *y)
{
	for (size_t i = 0; i < n; i++)
		y[i] = hwk_cvt_f32_to_bf16_1(x[i]);
}

void hwk_bf16_cvt_f32_ukernel_x1__scalar(size_t n, const uint16_t *x, float *y)
{
	for (size_t i = 0; i < n; i++)
		y[i] = hwk_cvt_bf16_to_f32_1(x[i]);
}

void hwk_f32_cvt_f16_ukernel_x1__scalar(size_t n, const float *x, uint16_t *y)
{
	for (size_t i = 0; i < n; i++)
		y[i] = hwk_cvt_f32_to_f16_1(x[i]);
}

void hwk_f16_cvt_f32_ukernel_x1__scalar(size_t n, const uint16_t *x, float *y)
{
	for (size_t i = 0; i < n; i++)
		y[i] = hwk_cvt_f16_to_f32_1(x[i]);
}

void hwk_lut8_cvt_f32_ukernel_x1__scalar(size_t n, const uint8_t *x, const float *table,
					 float scale, float *y)
{
	for (size_t i = 0; i < n; i++)
		y[i] = table[x[i]] * scale;
}
