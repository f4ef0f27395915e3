/* AVX-512 CSR row: 16 entries per step with a gather of x; lane i sums the
 * entries k = i mod 16, then a fixed halving reduction, as the scalar
 * reference does. Multiply then add (no FMA) to match it bit for bit. */
#if !defined(__AVX512F__)
#error "x16-avx512f.c needs AVX-512F: build it through the Makefile"
#endif

#include <immintrin.h>

#include "kernels/f32-rnn/spmv.h"

float hwk_f32_spmv_ukernel_x16__avx512f(size_t nnz, const uint32_t *col, const float *val,
					const float *x)
{
	__m512 acc = _mm512_setzero_ps();
	size_t k = 0;
	for (; k + 16 <= nnz; k += 16) {
		__m512i idx = _mm512_loadu_si512(col + k);
		__m512 xv = _mm512_i32gather_ps(idx, x, 4);
		acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(val + k), xv));
	}
	if (k < nnz) {
		__mmask16 m = (__mmask16)((1u << (nnz - k)) - 1);
		__m512i idx = _mm512_maskz_loadu_epi32(m, col + k);
		__m512 xv = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, x, 4);
		acc = _mm512_mask_add_ps(acc, m, acc, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, val + k), xv));
	}
	/* halves, quarters, ...: lane i += lane i + w */
	__m256 h = _mm256_add_ps(_mm512_castps512_ps256(acc),
				 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
	__m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
	q = _mm_add_ps(q, _mm_movehl_ps(q, q));
	q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
	return _mm_cvtss_f32(q);
}
