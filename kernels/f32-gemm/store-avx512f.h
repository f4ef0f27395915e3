/* The AVX-512 GEMM tile store shared by the f32 and bf16 microkernels:
 * alpha, beta, bias and the fused activation and clip on one output vector,
 * with the vector primitives kernels/f32-gemm/vmath.h builds its GELU and
 * SiLU from. Include it only from AVX-512 variant files. */
#ifndef HWK_F32_GEMM_STORE_AVX512F_H
#define HWK_F32_GEMM_STORE_AVX512F_H

#include <immintrin.h>

#include "kernels/f32-gemm/gemm.h"

typedef __m512 vf;
static inline vf vf_set1(float x) { return _mm512_set1_ps(x); }
static inline vf vf_add(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vf_sub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vf_mul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vf_div(vf a, vf b) { return _mm512_div_ps(a, b); }
static inline vf vf_min(vf a, vf b) { return _mm512_min_ps(a, b); }
static inline vf vf_max(vf a, vf b) { return _mm512_max_ps(a, b); }
static inline vf vf_fma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vf_round(vf a)
{
	return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
static inline vf vf_scale2(vf p, vf n) { return _mm512_scalef_ps(p, n); }
#include "kernels/f32-gemm/vmath.h"

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
		r = vm_epilogue(r, ep->act, ep->clip, ep->lo, ep->hi);
	_mm512_mask_storeu_ps(c, m, r);
}

#endif
