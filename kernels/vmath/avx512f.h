/* Vector primitives for the f32 math in vmath.h: AVX-512F (+DQ). One
 * vector is 16 floats; tails use masked loads and stores, so an element's
 * arithmetic never depends on where it falls in the array. */
#ifndef HWK_VMATH_AVX512F_H
#define HWK_VMATH_AVX512F_H

#if !defined(__AVX512F__) || !defined(__AVX512DQ__) || !defined(__FMA__)
#error "kernels/vmath/avx512f.h needs -mavx512f -mavx512dq -mfma"
#endif

#include <immintrin.h>
#include <stddef.h>

typedef __m512 hv;
typedef __mmask16 hm;

#define HV_LANES_MAX 16
static inline size_t hv_lanes(void) { return 16; }

static inline hv hv_set1(float a) { return _mm512_set1_ps(a); }
static inline hv hv_load(const float *p) { return _mm512_loadu_ps(p); }
static inline void hv_store(float *p, hv v) { _mm512_storeu_ps(p, v); }
/* The first k (< lanes) elements from p, the rest `fill`. */
static inline hv hv_loadn(const float *p, size_t k, float fill)
{
	return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), (__mmask16)((1u << k) - 1), p);
}
static inline void hv_storen(float *p, hv v, size_t k)
{
	_mm512_mask_storeu_ps(p, (__mmask16)((1u << k) - 1), v);
}

static inline hv hv_add(hv a, hv b) { return _mm512_add_ps(a, b); }
static inline hv hv_sub(hv a, hv b) { return _mm512_sub_ps(a, b); }
static inline hv hv_mul(hv a, hv b) { return _mm512_mul_ps(a, b); }
static inline hv hv_div(hv a, hv b) { return _mm512_div_ps(a, b); }
static inline hv hv_sqrt(hv a) { return _mm512_sqrt_ps(a); }
static inline hv hv_fma(hv a, hv b, hv c) { return _mm512_fmadd_ps(a, b, c); }   /* a*b+c */
static inline hv hv_fnma(hv a, hv b, hv c) { return _mm512_fnmadd_ps(a, b, c); } /* c-a*b */
static inline hv hv_fms(hv a, hv b, hv c) { return _mm512_fmsub_ps(a, b, c); }   /* a*b-c */
/* max/min of a constant-like c and x: a NaN in x comes out (vmaxps returns
 * its second operand when either is NaN). */
static inline hv hv_max(hv c, hv x) { return _mm512_max_ps(c, x); }
static inline hv hv_min(hv c, hv x) { return _mm512_min_ps(c, x); }
static inline hv hv_abs(hv a) { return _mm512_abs_ps(a); }
static inline hv hv_neg(hv a) { return _mm512_xor_ps(a, _mm512_set1_ps(-0.0f)); }
/* Magnitude of a, sign of s. */
static inline hv hv_copysign(hv a, hv s)
{
	const __m512 sign = _mm512_set1_ps(-0.0f);
	return _mm512_or_ps(_mm512_andnot_ps(sign, a), _mm512_and_ps(sign, s));
}
static inline hm hv_lt(hv a, hv b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
static inline hm hv_ge(hv a, hv b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
/* m ? t : f, lane by lane. */
static inline hv hv_sel(hm m, hv t, hv f) { return _mm512_mask_blend_ps(m, f, t); }
/* p * 2^n for integral n in [-151, 128]: overflow gives inf, underflow
 * rounds once into the subnormals (vscalefps). */
static inline hv hv_scale2(hv p, hv n) { return _mm512_scalef_ps(p, n); }
static inline float hv_reduce_add(hv a) { return _mm512_reduce_add_ps(a); }
static inline float hv_reduce_max(hv a) { return _mm512_reduce_max_ps(a); }

#endif
