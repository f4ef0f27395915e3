/* AVX-512 conversions: bf16 by integer rounding (nearest even, NaN kept
 * quiet), f16 by the F16C instructions AVX-512F carries, fp8 decode by a
 * table gather. Tails use masks. */
#if !defined(__AVX512F__)
#error "x16-avx512f.c needs AVX-512F: build it through the Makefile"
#endif

#include <immintrin.h>

#include "kernels/f32-cvt/cvt.h"

static inline __m256i bf16_round(__m512i u)
{
	__m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
	__m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
	__m512i q = _mm512_or_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(0x40));
	__mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff)),
						_mm512_set1_epi32(0x7f800000));
	return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(r, nan, q));
}

void hwk_f32_cvt_bf16_ukernel_x16__avx512f(size_t n, const float *x, uint16_t *y)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		_mm256_storeu_si256((__m256i *)(y + i), bf16_round(_mm512_loadu_si512(x + i)));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		__m256i r = bf16_round(_mm512_maskz_loadu_epi32(m, x + i));
		_mm256_mask_storeu_epi16(y + i, m, r);
	}
}

void hwk_bf16_cvt_f32_ukernel_x16__avx512f(size_t n, const uint16_t *x, float *y)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(x + i)));
		_mm512_storeu_si512(y + i, _mm512_slli_epi32(v, 16));
	}
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		__m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, x + i));
		_mm512_mask_storeu_epi32(y + i, m, _mm512_slli_epi32(v, 16));
	}
}

void hwk_f32_cvt_f16_ukernel_x16__avx512f(size_t n, const float *x, uint16_t *y)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		_mm256_storeu_si256((__m256i *)(y + i),
				    _mm512_cvtps_ph(_mm512_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		__m256i r = _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, x + i), _MM_FROUND_TO_NEAREST_INT);
		_mm256_mask_storeu_epi16(y + i, m, r);
	}
}

void hwk_f16_cvt_f32_ukernel_x16__avx512f(size_t n, const uint16_t *x, float *y)
{
	size_t i = 0;
	for (; i + 16 <= n; i += 16)
		_mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(x + i))));
	if (i < n) {
		__mmask16 m = (__mmask16)((1u << (n - i)) - 1);
		_mm512_mask_storeu_ps(y + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, x + i)));
	}
}

void hwk_lut8_cvt_f32_ukernel_x16__avx512f(size_t n, const uint8_t *x, const float *table,
					    float scale, float *y)
{
	const __m512 s = _mm512_set1_ps(scale);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(x + i)));
		_mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_i32gather_ps(idx, table, 4), s));
	}
	for (; i < n; i++)
		y[i] = table[x[i]] * scale;
}
