/* q8-cvt for AVX-512 (F, BW, VL): 16 lanes per vector, 64 elements per
 * iteration, masked tails. Rounding and NaN as in q8-cvt.h. */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512VL__)
#error "x64-avx512f.c needs -mavx512f -mavx512bw -mavx512vl"
#endif
#include <immintrin.h>

#include "kernels/q8-cvt/q8-cvt.h"

/* t / scale -> clamped, rounded, zp added, as 32-bit integers. */
static inline __m512i quant16(__m512 x, __m512 vs, __m512 lo, __m512 hi, __m512i vzp)
{
	__m512 t = _mm512_div_ps(x, vs);
	t = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(t, t, _CMP_ORD_Q), t); /* NaN -> 0 */
	t = _mm512_min_ps(_mm512_max_ps(t, lo), hi);
	__m512i i = _mm512_cvt_roundps_epi32(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	return _mm512_add_epi32(i, vzp);
}

static void quantize(size_t n, const float *x, uint8_t *y, float scale, int32_t zp, int32_t qmin,
		     int32_t qmax)
{
	const __m512 vs = _mm512_set1_ps(scale);
	const __m512 lo = _mm512_set1_ps((float)(qmin - zp)), hi = _mm512_set1_ps((float)(qmax - zp));
	const __m512i vzp = _mm512_set1_epi32(zp);
	size_t i = 0;
	for (; i + 64 <= n; i += 64) {
		__m512i q0 = quant16(_mm512_loadu_ps(x + i), vs, lo, hi, vzp);
		__m512i q1 = quant16(_mm512_loadu_ps(x + i + 16), vs, lo, hi, vzp);
		__m512i q2 = quant16(_mm512_loadu_ps(x + i + 32), vs, lo, hi, vzp);
		__m512i q3 = quant16(_mm512_loadu_ps(x + i + 48), vs, lo, hi, vzp);
		_mm_storeu_si128((__m128i *)(y + i), _mm512_cvtepi32_epi8(q0));
		_mm_storeu_si128((__m128i *)(y + i + 16), _mm512_cvtepi32_epi8(q1));
		_mm_storeu_si128((__m128i *)(y + i + 32), _mm512_cvtepi32_epi8(q2));
		_mm_storeu_si128((__m128i *)(y + i + 48), _mm512_cvtepi32_epi8(q3));
	}
	for (; i < n; i += 16) {
		__mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
		__m512i q = quant16(_mm512_maskz_loadu_ps(m, x + i), vs, lo, hi, vzp);
		_mm_mask_storeu_epi8(y + i, m, _mm512_cvtepi32_epi8(q));
	}
}

static void quantize_v(size_t n, const float *x, uint8_t *y, const float *scale, const int32_t *zp,
		       int32_t qmin, int32_t qmax)
{
	const __m512 vmin = _mm512_set1_ps((float)qmin), vmax = _mm512_set1_ps((float)qmax);
	for (size_t i = 0; i < n; i += 16) {
		__mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
		__m512 vs = _mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), m, scale + i);
		__m512i vzp = zp ? _mm512_maskz_loadu_epi32(m, zp + i) : _mm512_setzero_si512();
		__m512 fzp = _mm512_cvtepi32_ps(vzp); /* exact: |zp| <= 255 */
		__m512 lo = _mm512_sub_ps(vmin, fzp), hi = _mm512_sub_ps(vmax, fzp);
		__m512i q = quant16(_mm512_maskz_loadu_ps(m, x + i), vs, lo, hi, vzp);
		_mm_mask_storeu_epi8(y + i, m, _mm512_cvtepi32_epi8(q));
	}
}

static inline __m512i load16(__mmask16 m, const uint8_t *q, int is_signed)
{
	__m128i b = _mm_maskz_loadu_epi8(m, q);
	return is_signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
}

static void dequantize(size_t n, const uint8_t *q, int is_signed, float *y, float scale, int32_t zp)
{
	const __m512 vs = _mm512_set1_ps(scale);
	const __m512i vzp = _mm512_set1_epi32(zp);
	for (size_t i = 0; i < n; i += 16) {
		__mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
		__m512i v = _mm512_sub_epi32(load16(m, q + i, is_signed), vzp);
		_mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_cvtepi32_ps(v), vs));
	}
}

static void dequantize_v(size_t n, const uint8_t *q, int is_signed, float *y, const float *scale,
			 const int32_t *zp)
{
	for (size_t i = 0; i < n; i += 16) {
		__mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
		__m512i vzp = zp ? _mm512_maskz_loadu_epi32(m, zp + i) : _mm512_setzero_si512();
		__m512i v = _mm512_sub_epi32(load16(m, q + i, is_signed), vzp);
		__m512 vs = _mm512_maskz_loadu_ps(m, scale + i);
		_mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_cvtepi32_ps(v), vs));
	}
}

static void minmax(size_t n, const float *x, float *mn, float *mx)
{
	/* vminps returns its second operand when either is NaN: NaN ignored. */
	__m512 lo0 = _mm512_set1_ps(INFINITY), hi0 = _mm512_set1_ps(-INFINITY);
	__m512 lo1 = lo0, hi1 = hi0;
	size_t i = 0;
	for (; i + 32 <= n; i += 32) {
		__m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
		lo0 = _mm512_min_ps(a, lo0);
		hi0 = _mm512_max_ps(a, hi0);
		lo1 = _mm512_min_ps(b, lo1);
		hi1 = _mm512_max_ps(b, hi1);
	}
	for (; i < n; i += 16) {
		__mmask16 m = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
		__m512 a = _mm512_maskz_loadu_ps(m, x + i);
		lo0 = _mm512_mask_min_ps(lo0, m, a, lo0);
		hi0 = _mm512_mask_max_ps(hi0, m, a, hi0);
	}
	*mn = _mm512_reduce_min_ps(_mm512_min_ps(lo0, lo1));
	*mx = _mm512_reduce_max_ps(_mm512_max_ps(hi0, hi1));
}

const struct hwk_q8_cvt_impl hwk_q8_cvt_ukernel_x64__avx512f = {
	quantize, quantize_v, dequantize, dequantize_v, minmax,
};
