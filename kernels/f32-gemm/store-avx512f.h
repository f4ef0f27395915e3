/* The AVX-512 GEMM tile store shared by the f32 and bf16 microkernels:
 * alpha, beta, bias and the fused activation and clip on one output vector,
 * with the activations of kernels/vmath/vmath.h (the same functions as the
 * element-wise ops). Include it only from AVX-512 variant files. */
#ifndef HWK_F32_GEMM_STORE_AVX512F_H
#define HWK_F32_GEMM_STORE_AVX512F_H

#include <immintrin.h>

#include "kernels/f32-gemm/gemm.h"
#include "kernels/vmath/avx512f.h"
#include "kernels/vmath/vmath.h"

#define INLINE static inline __attribute__((always_inline))

/* One output vector: alpha*acc (+ beta*C) (+ bias), epilogue, masked store. */
INLINE void store_vec(float *c, __mmask16 m, __m512 acc, __m512 bias, const struct f32_gemm_ep *ep,
		      int flags)
{
	__m512 r = acc;
	if (flags & 1)
		r = _mm512_mul_ps(r, _mm512_set1_ps(ep->alpha));
	if (ep->beta != 0.0f) {
		__m512 cv = _mm512_maskz_loadu_ps(m, c);
		r = ep->beta == 1.0f ? _mm512_add_ps(r, cv)
				     : _mm512_fmadd_ps(cv, _mm512_set1_ps(ep->beta), r);
	}
	if (flags & 2) {
		r = _mm512_add_ps(r, bias);
	}
	if (flags & 4)
		r = hv_gemm_act(r, ep->act, ep->clip, ep->lo, ep->hi);
	_mm512_mask_storeu_ps(c, m, r);
}

#endif
