/* AVX-512 BF16 microkernel: 12 rows x 32 columns, 24 zmm accumulators. Each
 * step takes one pair of k: two vectors of the packed B panel (16 columns x
 * 2 k each) and 12 broadcast A pairs, 24 vdpbf16ps, so every instruction
 * does twice the multiply-adds of an f32 FMA.
 *
 * Precision: vdpbf16ps multiplies bf16 by bf16 exactly and adds into f32
 * (round to nearest even, denormal inputs and outputs flushed to zero),
 * so A is rounded to bf16 first (vcvtne2ps2bf16: nearest even, denormals
 * to zero): a relative error up to 2^-8 per element of A, on top of the
 * f32 accumulation. */
#if !defined(__AVX512F__) || !defined(__AVX512BW__) || !defined(__AVX512DQ__) ||             \
	!defined(__AVX512VL__) || !defined(__AVX512BF16__) || !defined(__FMA__)
#error "12x32-avx512bf16.c needs AVX-512 F/BW/DQ/VL/BF16 and FMA: build it through the Makefile"
#endif

#include <immintrin.h>
#include <stdint.h>

#include "kernels/bf16-gemm/gemm.h"
#include "kernels/f32-gemm/store-avx512f.h"

#define MR 12
#define NR 32
#define PF_B_STEPS 8

INLINE void tile(const size_t mr, size_t nr, size_t kp, const uint32_t *a, size_t a_rs,
		 const uint16_t *b, float *c, size_t ldc, const struct f32_gemm_ep *ep)
{
	__m512 acc0[MR], acc1[MR];
#pragma GCC unroll 12
	for (size_t i = 0; i < mr; i++) {
		acc0[i] = _mm512_setzero_ps();
		acc1[i] = _mm512_setzero_ps();
	}
#pragma GCC unroll 12
	for (size_t i = 0; i < mr; i++) {
		_mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
		_mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
	}
	for (size_t p = 0; p < kp; p++) {
		_mm_prefetch((const char *)(b + PF_B_STEPS * 2 * NR), _MM_HINT_T0);
		_mm_prefetch((const char *)(b + PF_B_STEPS * 2 * NR + 32), _MM_HINT_T0);
		__m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)b);
		__m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(b + 32));
#pragma GCC unroll 12
		for (size_t i = 0; i < mr; i++) {
			__m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i * a_rs + p]);
			acc0[i] = _mm512_dpbf16_ps(acc0[i], ai, b0);
			acc1[i] = _mm512_dpbf16_ps(acc1[i], ai, b1);
		}
		b += 2 * NR;
	}
	__mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
	__mmask16 m1 = nr >= 32 ? 0xffff : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
	int flags = (ep->alpha != 1.0f ? 1 : 0) | (ep->bias ? 2 : 0) | (ep->act || ep->clip ? 4 : 0);
	__m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
	if (ep->bias) {
		bias0 = _mm512_maskz_loadu_ps(m0, ep->bias);
		bias1 = _mm512_maskz_loadu_ps(m1, ep->bias + 16);
	}
#pragma GCC unroll 12
	for (size_t i = 0; i < mr; i++) {
		store_vec(c + i * ldc, m0, acc0[i], bias0, ep, flags);
		if (m1)
			store_vec(c + i * ldc + 16, m1, acc1[i], bias1, ep, flags);
	}
}

void hwk_bf16_gemm_ukernel_12x32__avx512bf16(size_t mr, size_t nr, size_t kp, const uint32_t *a,
					     size_t a_rs, const uint16_t *b, float *c, size_t ldc,
					     const struct f32_gemm_ep *ep);
void hwk_bf16_gemm_ukernel_12x32__avx512bf16(size_t mr, size_t nr, size_t kp, const uint32_t *a,
					     size_t a_rs, const uint16_t *b, float *c, size_t ldc,
					     const struct f32_gemm_ep *ep)
{
	switch (mr) {
	case 12: tile(12, nr, kp, a, a_rs, b, c, ldc, ep); break;
	case 11: tile(11, nr, kp, a, a_rs, b, c, ldc, ep); break;
	case 10: tile(10, nr, kp, a, a_rs, b, c, ldc, ep); break;
	case 9: tile(9, nr, kp, a, a_rs, b, c, ldc, ep); break;
	case 8: tile(8, nr, kp, a, a_rs, b, c, ldc, ep); break;
	case 7: tile(7, nr, kp, a, a_rs, b, c, ldc, ep); break;
	case 6: tile(6, nr, kp, a, a_rs, b, c, ldc, ep); break;
	case 5: tile(5, nr, kp, a, a_rs, b, c, ldc, ep); break;
	case 4: tile(4, nr, kp, a, a_rs, b, c, ldc, ep); break;
	case 3: tile(3, nr, kp, a, a_rs, b, c, ldc, ep); break;
	case 2: tile(2, nr, kp, a, a_rs, b, c, ldc, ep); break;
	default: tile(1, nr, kp, a, a_rs, b, c, ldc, ep); break;
	}
}

/* A to bf16 pairs, 32 floats (16 pairs) at a time; the pad reads as 0. */
static void cvt_a(size_t rows, size_t K, const float *A, size_t lda, uint32_t *dst, size_t kp)
{
	for (size_t r = 0; r < rows; r++) {
		const float *s = A + r * lda;
		uint16_t *d = (uint16_t *)(void *)(dst + r * kp);
		for (size_t k = 0; k < 2 * kp; k += 32) {
			size_t n = K - k < 32 ? K - k : 32; /* k < 2kp <= K + 1, so k <= K */
			if (k >= K)
				n = 0;
			__mmask16 lo = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
			__mmask16 hi = n >= 32 ? 0xffff : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);
			__m512bh v = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, s + k + 16),
							 _mm512_maskz_loadu_ps(lo, s + k));
			size_t w = 2 * kp - k < 32 ? 2 * kp - k : 32;
			__mmask32 wm = w >= 32 ? 0xffffffffu : (__mmask32)((1u << w) - 1);
			_mm512_mask_storeu_epi16(d + k, wm, (__m512i)v);
		}
	}
}

const struct bf16_gemm_ukr hwk_bf16_gemm_ukr_12x32__avx512bf16 = {
	.ukernel = hwk_bf16_gemm_ukernel_12x32__avx512bf16,
	.cvt_a = cvt_a,
	.gemv = hwk_bf16_gemm_ukernel_1x64__avx512bf16,
	.mr = MR,
	.nr = NR,
};
