/* AVX2 microkernel: 6 rows x 16 columns, 12 ymm accumulators, B panel
 * loaded as two vectors and A broadcast per k step. */
#if !defined(__AVX2__) || !defined(__FMA__)
#error "6x16-avx2.c needs AVX2 and FMA (-mavx2 -mfma)"
#endif

#include <immintrin.h>

#include "kernels/f32-gemm/gemm.h"

#include "kernels/vmath/avx2.h"
#include "kernels/vmath/vmath.h"

#define MR 6
#define NR 16

#define INLINE static inline __attribute__((always_inline))

static inline __m256i lane_mask(size_t n)
{
	__m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n > 8 ? 8 : n)), iota);
}

INLINE void store_vec(float *c, __m256i m, bool full, __m256 r, __m256 bias,
		      const struct f32_gemm_ep *ep, int flags)
{
	if (flags & 1)
		r = _mm256_mul_ps(r, _mm256_set1_ps(ep->alpha));
	if (ep->beta != 0.0f) {
		__m256 cv = full ? _mm256_loadu_ps(c) : _mm256_maskload_ps(c, m);
		r = ep->beta == 1.0f ? _mm256_add_ps(r, cv)
				     : _mm256_fmadd_ps(cv, _mm256_set1_ps(ep->beta), r);
	}
	if (flags & 2)
		r = _mm256_add_ps(r, bias);
	if (flags & 4)
		r = hv_gemm_act(r, ep->act, ep->clip, ep->lo, ep->hi);
	if (full)
		_mm256_storeu_ps(c, r);
	else
		_mm256_maskstore_ps(c, m, r);
}

INLINE void tile(const size_t mr, size_t nr, size_t kc, const float *a, const size_t a_rs,
		 const size_t a_cs, const float *b, size_t b_ks, float *c, size_t ldc,
		 const struct f32_gemm_ep *ep)
{
	__m256 acc0[MR], acc1[MR];
#pragma GCC unroll 6
	for (size_t i = 0; i < mr; i++) {
		acc0[i] = _mm256_setzero_ps();
		acc1[i] = _mm256_setzero_ps();
	}
	for (size_t k = 0; k < kc; k++) {
		__m256 b0 = _mm256_loadu_ps(b);
		__m256 b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
		for (size_t i = 0; i < mr; i++) {
			__m256 ai = _mm256_broadcast_ss(a + i * a_rs);
			acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
			acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
		}
		a += a_cs;
		b += b_ks;
	}
	bool full0 = nr >= 8, full1 = nr >= 16, any1 = nr > 8;
	__m256i m0 = lane_mask(nr), m1 = lane_mask(nr > 8 ? nr - 8 : 0);
	int flags = (ep->alpha != 1.0f ? 1 : 0) | (ep->bias ? 2 : 0) | (ep->act || ep->clip ? 4 : 0);
	__m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
	if (ep->bias) {
		bias0 = full0 ? _mm256_loadu_ps(ep->bias) : _mm256_maskload_ps(ep->bias, m0);
		if (any1)
			bias1 = full1 ? _mm256_loadu_ps(ep->bias + 8)
				      : _mm256_maskload_ps(ep->bias + 8, m1);
	}
#pragma GCC unroll 6
	for (size_t i = 0; i < mr; i++) {
		store_vec(c + i * ldc, m0, full0, acc0[i], bias0, ep, flags);
		if (any1)
			store_vec(c + i * ldc + 8, m1, full1, acc1[i], bias1, ep, flags);
	}
}

#define CASES(A_RS, A_CS)                                                                     \
	switch (mr) {                                                                         \
	case 6: tile(6, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 5: tile(5, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 4: tile(4, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 3: tile(3, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 2: tile(2, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	default: tile(1, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                  \
	}

void hwk_f32_gemm_ukernel_6x16__avx2(size_t mr, size_t nr, size_t kc, const float *a, size_t a_rs,
				     size_t a_cs, const float *b, size_t b_ks, float *c, size_t ldc,
				     const struct f32_gemm_ep *ep);
void hwk_f32_gemm_ukernel_6x16__avx2(size_t mr, size_t nr, size_t kc, const float *a, size_t a_rs,
				     size_t a_cs, const float *b, size_t b_ks, float *c, size_t ldc,
				     const struct f32_gemm_ep *ep)
{
	if (a_rs == 1 && a_cs == MR) {
		CASES(1, MR)
	} else {
		CASES(a_rs, a_cs)
	}
}

const struct f32_gemm_ukr hwk_f32_gemm_ukr_6x16__avx2 = {
	.ukernel = hwk_f32_gemm_ukernel_6x16__avx2,
	.pack = NULL,
	.mr = MR,
	.nr = NR,
	.direct_a_max_m = 24,
	.direct_b_max_m = 24,
};
