/* Vector primitives for the f32 math in vmath.h: AVX2 + FMA. One vector is
 * 8 floats; tails use vmaskmovps, so an element's arithmetic never depends
 * on where it falls in the array. */
#ifndef HWK_VMATH_AVX2_H
#define HWK_VMATH_AVX2_H

#if !defined(__AVX2__) || !defined(__FMA__)
#error "kernels/vmath/avx2.h needs -mavx2 -mfma"
#endif

#include <immintrin.h>
#include <stddef.h>

typedef __m256 hv;
typedef __m256 hm; /* all-ones lanes are true */

#define HV_LANES_MAX 8
static inline size_t hv_lanes(void) { return 8; }

static inline __m256i hv_tailmask_(size_t k)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline hv hv_set1(float a) { return _mm256_set1_ps(a); }
static inline hv hv_load(const float *p) { return _mm256_loadu_ps(p); }
static inline void hv_store(float *p, hv v) { _mm256_storeu_ps(p, v); }
/* The first k (< lanes) elements from p, the rest `fill`. */
static inline hv hv_loadn(const float *p, size_t k, float fill)
{
	__m256i m = hv_tailmask_(k);
	return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
}
static inline void hv_storen(float *p, hv v, size_t k) { _mm256_maskstore_ps(p, hv_tailmask_(k), v); }

static inline hv hv_add(hv a, hv b) { return _mm256_add_ps(a, b); }
static inline hv hv_sub(hv a, hv b) { return _mm256_sub_ps(a, b); }
static inline hv hv_mul(hv a, hv b) { return _mm256_mul_ps(a, b); }
static inline hv hv_div(hv a, hv b) { return _mm256_div_ps(a, b); }
static inline hv hv_sqrt(hv a) { return _mm256_sqrt_ps(a); }
static inline hv hv_fma(hv a, hv b, hv c) { return _mm256_fmadd_ps(a, b, c); }   /* a*b+c */
static inline hv hv_fnma(hv a, hv b, hv c) { return _mm256_fnmadd_ps(a, b, c); } /* c-a*b */
static inline hv hv_fms(hv a, hv b, hv c) { return _mm256_fmsub_ps(a, b, c); }   /* a*b-c */
/* max/min of a constant-like c and x: a NaN in x comes out (vmaxps returns
 * its second operand when either is NaN). */
static inline hv hv_max(hv c, hv x) { return _mm256_max_ps(c, x); }
static inline hv hv_min(hv c, hv x) { return _mm256_min_ps(c, x); }
static inline hv hv_abs(hv a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
static inline hv hv_neg(hv a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
static inline hv hv_copysign(hv a, hv s)
{
	const __m256 sign = _mm256_set1_ps(-0.0f);
	return _mm256_or_ps(_mm256_andnot_ps(sign, a), _mm256_and_ps(sign, s));
}
static inline hm hv_lt(hv a, hv b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
static inline hm hv_ge(hv a, hv b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
static inline hv hv_sel(hm m, hv t, hv f) { return _mm256_blendv_ps(f, t, m); }
/* p * 2^n for integral n in [-151, 128], as two exact power-of-two factors
 * so that overflow gives inf and underflow rounds once into the subnormals. */
static inline hv hv_scale2(hv p, hv n)
{
	__m256i ni = _mm256_cvtps_epi32(n);
	__m256i n1 = _mm256_srai_epi32(ni, 1);
	__m256i n2 = _mm256_sub_epi32(ni, n1);
	__m256i b = _mm256_set1_epi32(127);
	__m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, b), 23));
	__m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, b), 23));
	return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}
static inline float hv_reduce_add(hv a)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}
static inline float hv_reduce_max(hv a)
{
	__m128 s = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
	s = _mm_max_ps(s, _mm_movehl_ps(s, s));
	s = _mm_max_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

#endif
