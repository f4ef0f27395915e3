/* Vector primitives for the f32 math in vmath.h: SVE, vector-length
 * agnostic (svcntw lanes, svwhilelt tails). Arithmetic runs on all lanes
 * (the _x forms under an all-true predicate); only loads and stores are
 * predicated. */
#ifndef HWK_VMATH_SVE_H
#define HWK_VMATH_SVE_H

#if !defined(__ARM_FEATURE_SVE)
#error "kernels/vmath/sve.h needs SVE (-march=...+sve)"
#endif

#include <arm_sve.h>
#include <stddef.h>

typedef svfloat32_t hv;
typedef svbool_t hm;

#define HV_LANES_MAX 64 /* 2048-bit vectors */
static inline size_t hv_lanes(void) { return (size_t)svcntw(); }
#define HV_PT svptrue_b32()

static inline hv hv_set1(float a) { return svdup_n_f32(a); }
static inline hv hv_load(const float *p) { return svld1_f32(HV_PT, p); }
static inline void hv_store(float *p, hv v) { svst1_f32(HV_PT, p, v); }
static inline hv hv_loadn(const float *p, size_t k, float fill)
{
	svbool_t pg = svwhilelt_b32_u64(0, (uint64_t)k);
	return svsel_f32(pg, svld1_f32(pg, p), svdup_n_f32(fill));
}
static inline void hv_storen(float *p, hv v, size_t k)
{
	svst1_f32(svwhilelt_b32_u64(0, (uint64_t)k), p, v);
}

static inline hv hv_add(hv a, hv b) { return svadd_f32_x(HV_PT, a, b); }
static inline hv hv_sub(hv a, hv b) { return svsub_f32_x(HV_PT, a, b); }
static inline hv hv_mul(hv a, hv b) { return svmul_f32_x(HV_PT, a, b); }
static inline hv hv_div(hv a, hv b) { return svdiv_f32_x(HV_PT, a, b); }
static inline hv hv_sqrt(hv a) { return svsqrt_f32_x(HV_PT, a); }
static inline hv hv_fma(hv a, hv b, hv c) { return svmla_f32_x(HV_PT, c, a, b); }  /* a*b+c */
static inline hv hv_fnma(hv a, hv b, hv c) { return svmls_f32_x(HV_PT, c, a, b); } /* c-a*b */
static inline hv hv_fms(hv a, hv b, hv c) { return svnmls_f32_x(HV_PT, c, a, b); } /* a*b-c */
/* FMAX/FMIN return NaN when either input is NaN. */
static inline hv hv_max(hv c, hv x) { return svmax_f32_x(HV_PT, c, x); }
static inline hv hv_min(hv c, hv x) { return svmin_f32_x(HV_PT, c, x); }
static inline hv hv_abs(hv a) { return svabs_f32_x(HV_PT, a); }
static inline hv hv_neg(hv a) { return svneg_f32_x(HV_PT, a); }
static inline hv hv_copysign(hv a, hv s)
{
	svuint32_t sign = svdup_n_u32(0x80000000u);
	svuint32_t r = svorr_u32_x(HV_PT, svbic_u32_x(HV_PT, svreinterpret_u32_f32(a), sign),
				   svand_u32_x(HV_PT, svreinterpret_u32_f32(s), sign));
	return svreinterpret_f32_u32(r);
}
static inline hm hv_lt(hv a, hv b) { return svcmplt_f32(HV_PT, a, b); }
static inline hm hv_ge(hv a, hv b) { return svcmpge_f32(HV_PT, a, b); }
static inline hv hv_sel(hm m, hv t, hv f) { return svsel_f32(m, t, f); }
/* p * 2^n (FSCALE: overflow gives inf, underflow rounds once). */
static inline hv hv_scale2(hv p, hv n)
{
	return svscale_f32_x(HV_PT, p, svcvt_s32_f32_x(HV_PT, n));
}
static inline float hv_reduce_add(hv a) { return svaddv_f32(HV_PT, a); }
static inline float hv_reduce_max(hv a) { return svmaxv_f32(HV_PT, a); }

#endif
