/* AVX2 int4 microkernel: as the AVX-512 one, with a block as four vectors
 * of 8 (bytes 0..7 give elements 0..7 and 16..23, bytes 8..15 give 8..15
 * and 24..31). */
#if !defined(__AVX2__) || !defined(__FMA__)
#error "4x4-avx2.c needs AVX2 and FMA: build it through the Makefile"
#endif

#include <immintrin.h>

#include "kernels/f32-qb4-gemm/qb4.h"

static inline float hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

static inline float offset_dot(size_t kb, const float *scale, const float *min, const float *xs)
{
	__m256 acc = _mm256_setzero_ps();
	size_t b = 0;
	for (; b + 8 <= kb; b += 8) {
		__m256 o = min ? _mm256_loadu_ps(min + b)
			       : _mm256_mul_ps(_mm256_set1_ps(-8.0f), _mm256_loadu_ps(scale + b));
		acc = _mm256_fmadd_ps(o, _mm256_loadu_ps(xs + b), acc);
	}
	float r = hsum(acc);
	for (; b < kb; b++)
		r += (min ? min[b] : -8.0f * scale[b]) * xs[b];
	return r;
}

void hwk_f32_qb4_gemm_ukernel_4x4__avx2(size_t mr, size_t nr, size_t kb, const float *x,
					size_t ldx, const float *xsum, const uint8_t *q, size_t ldq,
					const float *scale, const float *min, size_t lds, float *y,
					size_t ldy)
{
	__m256 acc[4][4];
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 4; j++)
			acc[i][j] = _mm256_setzero_ps();
	const __m256i m15 = _mm256_set1_epi32(15);

	for (size_t b = 0; b < kb; b++) {
		for (size_t j = 0; j < nr; j++) {
			const uint8_t *qb = q + j * ldq + b * 16;
			__m256i b0 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)qb));
			__m256i b1 = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(qb + 8)));
			__m256 q0 = _mm256_cvtepi32_ps(_mm256_and_si256(b0, m15));  /* 0..7 */
			__m256 q1 = _mm256_cvtepi32_ps(_mm256_and_si256(b1, m15));  /* 8..15 */
			__m256 q2 = _mm256_cvtepi32_ps(_mm256_srli_epi32(b0, 4));   /* 16..23 */
			__m256 q3 = _mm256_cvtepi32_ps(_mm256_srli_epi32(b1, 4));   /* 24..31 */
			__m256 s = _mm256_set1_ps(scale[j * lds + b]);
			for (size_t i = 0; i < mr; i++) {
				const float *xb = x + i * ldx + b * 32;
				__m256 d = _mm256_mul_ps(q0, _mm256_loadu_ps(xb));
				d = _mm256_fmadd_ps(q1, _mm256_loadu_ps(xb + 8), d);
				d = _mm256_fmadd_ps(q2, _mm256_loadu_ps(xb + 16), d);
				d = _mm256_fmadd_ps(q3, _mm256_loadu_ps(xb + 24), d);
				acc[i][j] = _mm256_fmadd_ps(d, s, acc[i][j]);
			}
		}
	}
	for (size_t j = 0; j < nr; j++)
		for (size_t i = 0; i < mr; i++)
			y[i * ldy + j] = hsum(acc[i][j]) + offset_dot(kb, scale + j * lds,
								      min ? min + j * lds : NULL,
								      xsum + i * kb);
}
