/* q8-cvt for AVX2: 8 lanes per vector, 32 elements per iteration; tails
 * go through the scalar rounding (the same function the scalar variant
 * uses, so results agree bit for bit). cvtps2dq rounds by MXCSR: half to
 * even by default. */
#if !defined(__AVX2__)
#error "x32-avx2.c needs -mavx2"
#endif
#include <immintrin.h>

#include "kernels/q8-cvt/q8-cvt.h"

static inline __m256i quant8(__m256 x, __m256 vs, __m256 lo, __m256 hi, __m256i vzp)
{
	__m256 t = _mm256_div_ps(x, vs);
	t = _mm256_and_ps(t, _mm256_cmp_ps(t, t, _CMP_ORD_Q)); /* NaN -> 0 */
	t = _mm256_min_ps(_mm256_max_ps(t, lo), hi);
	return _mm256_add_epi32(_mm256_cvtps_epi32(t), vzp);
}

/* Four vectors of 32-bit values that fit in the output type -> 32 bytes. */
static inline __m256i pack32(__m256i a, __m256i b, __m256i c, __m256i d, int is_signed)
{
	__m256i ab = _mm256_packs_epi32(a, b), cd = _mm256_packs_epi32(c, d);
	__m256i p = is_signed ? _mm256_packs_epi16(ab, cd) : _mm256_packus_epi16(ab, cd);
	return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static void quantize(size_t n, const float *x, uint8_t *y, float scale, int32_t zp, int32_t qmin,
		     int32_t qmax)
{
	const __m256 vs = _mm256_set1_ps(scale);
	const __m256 lo = _mm256_set1_ps((float)(qmin - zp)), hi = _mm256_set1_ps((float)(qmax - zp));
	const __m256i vzp = _mm256_set1_epi32(zp);
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i q0 = quant8(_mm256_loadu_ps(x + i), vs, lo, hi, vzp);
		__m256i q1 = quant8(_mm256_loadu_ps(x + i + 8), vs, lo, hi, vzp);
		__m256i q2 = quant8(_mm256_loadu_ps(x + i + 16), vs, lo, hi, vzp);
		__m256i q3 = quant8(_mm256_loadu_ps(x + i + 24), vs, lo, hi, vzp);
		_mm256_storeu_si256((__m256i *)(y + i), pack32(q0, q1, q2, q3, qmin < 0));
	}
	for (; i < n; i++)
		y[i] = (uint8_t)hwk_q8_round_sat(x[i] / scale, zp, qmin, qmax);
}

static void quantize_v(size_t n, const float *x, uint8_t *y, const float *scale, const int32_t *zp,
		       int32_t qmin, int32_t qmax)
{
	const __m256 vmin = _mm256_set1_ps((float)qmin), vmax = _mm256_set1_ps((float)qmax);
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m256i q[4];
		for (int j = 0; j < 4; j++) {
			__m256i vzp = zp ? _mm256_loadu_si256((const __m256i *)(zp + i + 8 * j))
					 : _mm256_setzero_si256();
			__m256 fzp = _mm256_cvtepi32_ps(vzp);
			q[j] = quant8(_mm256_loadu_ps(x + i + 8 * j), _mm256_loadu_ps(scale + i + 8 * j),
				      _mm256_sub_ps(vmin, fzp), _mm256_sub_ps(vmax, fzp), vzp);
		}
		_mm256_storeu_si256((__m256i *)(y + i), pack32(q[0], q[1], q[2], q[3], qmin < 0));
	}
	for (; i < n; i++)
		y[i] = (uint8_t)hwk_q8_round_sat(x[i] / scale[i], zp ? zp[i] : 0, qmin, qmax);
}

static inline __m256i load8(const uint8_t *q, int is_signed)
{
	__m128i b = _mm_loadl_epi64((const __m128i *)q);
	return is_signed ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b);
}

static inline int32_t load_q(const uint8_t *q, size_t i, int is_signed)
{
	return is_signed ? (int32_t)(int8_t)q[i] : (int32_t)q[i];
}

static void dequantize(size_t n, const uint8_t *q, int is_signed, float *y, float scale, int32_t zp)
{
	const __m256 vs = _mm256_set1_ps(scale);
	const __m256i vzp = _mm256_set1_epi32(zp);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256i v = _mm256_sub_epi32(load8(q + i, is_signed), vzp);
		_mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(v), vs));
	}
	for (; i < n; i++)
		y[i] = (float)(load_q(q, i, is_signed) - zp) * scale;
}

static void dequantize_v(size_t n, const uint8_t *q, int is_signed, float *y, const float *scale,
			 const int32_t *zp)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256i vzp = zp ? _mm256_loadu_si256((const __m256i *)(zp + i)) : _mm256_setzero_si256();
		__m256i v = _mm256_sub_epi32(load8(q + i, is_signed), vzp);
		_mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_loadu_ps(scale + i)));
	}
	for (; i < n; i++)
		y[i] = (float)(load_q(q, i, is_signed) - (zp ? zp[i] : 0)) * scale[i];
}

static void minmax(size_t n, const float *x, float *mn, float *mx)
{
	/* vminps returns its second operand when either is NaN: NaN ignored. */
	__m256 lo = _mm256_set1_ps(INFINITY), hi = _mm256_set1_ps(-INFINITY);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 a = _mm256_loadu_ps(x + i);
		lo = _mm256_min_ps(a, lo);
		hi = _mm256_max_ps(a, hi);
	}
	float l[8], h[8];
	_mm256_storeu_ps(l, lo);
	_mm256_storeu_ps(h, hi);
	float rl = l[0], rh = h[0];
	for (int j = 1; j < 8; j++) {
		rl = l[j] < rl ? l[j] : rl;
		rh = h[j] > rh ? h[j] : rh;
	}
	for (; i < n; i++) {
		rl = x[i] < rl ? x[i] : rl;
		rh = x[i] > rh ? x[i] : rh;
	}
	*mn = rl;
	*mx = rh;
}

const struct hwk_q8_cvt_impl hwk_q8_cvt_ukernel_x32__avx2 = {
	quantize, quantize_v, dequantize, dequantize_v, minmax,
};
