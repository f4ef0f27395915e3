/* AVX2 conversions: bf16 by integer rounding, f16 by F16C, fp8 decode by a
 * table gather; tails in scalar code (same results). */
#if !defined(__AVX2__) || !defined(__F16C__)
#error "x8-avx2.c needs AVX2 and F16C: build it through the Makefile"
#endif

#include <immintrin.h>

#include "kernels/f32-cvt/cvt.h"

void hwk_f32_cvt_bf16_ukernel_x8__avx2(size_t n, const float *x, uint16_t *y)
{
	size_t i = 0;
	const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff);
	const __m256i abs = _mm256_set1_epi32(0x7fffffff), inf = _mm256_set1_epi32(0x7f800000);
	for (; i + 8 <= n; i += 8) {
		__m256i u = _mm256_loadu_si256((const __m256i *)(x + i));
		__m256i lsb = _mm256_and_si256(_mm256_srli_epi32(u, 16), one);
		__m256i r = _mm256_srli_epi32(_mm256_add_epi32(u, _mm256_add_epi32(lsb, bias)), 16);
		__m256i q = _mm256_or_si256(_mm256_srli_epi32(u, 16), _mm256_set1_epi32(0x40));
		__m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, abs), inf);
		r = _mm256_blendv_epi8(r, q, nan);
		/* 8 x 32-bit -> 8 x 16-bit: values fit, so pack without saturation harm */
		__m128i lo = _mm256_castsi256_si128(r), hi = _mm256_extracti128_si256(r, 1);
		_mm_storeu_si128((__m128i *)(y + i), _mm_packus_epi32(lo, hi));
	}
	for (; i < n; i++)
		y[i] = hwk_cvt_f32_to_bf16_1(x[i]);
}

void hwk_bf16_cvt_f32_ukernel_x8__avx2(size_t n, const uint16_t *x, float *y)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(x + i)));
		_mm256_storeu_si256((__m256i *)(y + i), _mm256_slli_epi32(v, 16));
	}
	for (; i < n; i++)
		y[i] = hwk_cvt_bf16_to_f32_1(x[i]);
}

void hwk_f32_cvt_f16_ukernel_x8__avx2(size_t n, const float *x, uint16_t *y)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm_storeu_si128((__m128i *)(y + i),
				 _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
	for (; i < n; i++)
		y[i] = hwk_cvt_f32_to_f16_1(x[i]);
}

void hwk_f16_cvt_f32_ukernel_x8__avx2(size_t n, const uint16_t *x, float *y)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))));
	for (; i < n; i++)
		y[i] = hwk_cvt_f16_to_f32_1(x[i]);
}

void hwk_lut8_cvt_f32_ukernel_x8__avx2(size_t n, const uint8_t *x, const float *table,
				       float scale, float *y)
{
	const __m256 s = _mm256_set1_ps(scale);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(x + i)));
		_mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_i32gather_ps(table, idx, 4), s));
	}
	for (; i < n; i++)
		y[i] = table[x[i]] * scale;
}
