/* Vector primitives for the f32 math in vmath.h: AArch64 Advanced SIMD. One
 * vector is 4 floats; tails go through a small stack buffer, so an element's
 * arithmetic never depends on where it falls in the array. */
#ifndef HWK_VMATH_NEON_H
#define HWK_VMATH_NEON_H

#if !defined(__ARM_NEON) || !defined(__aarch64__)
#error "kernels/vmath/neon.h needs AArch64 Advanced SIMD"
#endif

#include <arm_neon.h>
#include <stddef.h>
#include <string.h>

typedef float32x4_t hv;
typedef uint32x4_t hm;

#define HV_LANES_MAX 4
static inline size_t hv_lanes(void) { return 4; }

static inline hv hv_set1(float a) { return vdupq_n_f32(a); }
static inline hv hv_load(const float *p) { return vld1q_f32(p); }
static inline void hv_store(float *p, hv v) { vst1q_f32(p, v); }
static inline hv hv_loadn(const float *p, size_t k, float fill)
{
	float b[4] = { fill, fill, fill, fill };
	memcpy(b, p, k * sizeof(float));
	return vld1q_f32(b);
}
static inline void hv_storen(float *p, hv v, size_t k)
{
	float b[4];
	vst1q_f32(b, v);
	memcpy(p, b, k * sizeof(float));
}

static inline hv hv_add(hv a, hv b) { return vaddq_f32(a, b); }
static inline hv hv_sub(hv a, hv b) { return vsubq_f32(a, b); }
static inline hv hv_mul(hv a, hv b) { return vmulq_f32(a, b); }
static inline hv hv_div(hv a, hv b) { return vdivq_f32(a, b); }
static inline hv hv_sqrt(hv a) { return vsqrtq_f32(a); }
static inline hv hv_fma(hv a, hv b, hv c) { return vfmaq_f32(c, a, b); }  /* a*b+c */
static inline hv hv_fnma(hv a, hv b, hv c) { return vfmsq_f32(c, a, b); } /* c-a*b */
static inline hv hv_fms(hv a, hv b, hv c) { return vnegq_f32(vfmsq_f32(c, a, b)); } /* a*b-c */
/* FMAX/FMIN return NaN when either input is NaN. */
static inline hv hv_max(hv c, hv x) { return vmaxq_f32(c, x); }
static inline hv hv_min(hv c, hv x) { return vminq_f32(c, x); }
static inline hv hv_abs(hv a) { return vabsq_f32(a); }
static inline hv hv_neg(hv a) { return vnegq_f32(a); }
static inline hv hv_copysign(hv a, hv s)
{
	return vbslq_f32(vdupq_n_u32(0x80000000u), s, a);
}
static inline hm hv_lt(hv a, hv b) { return vcltq_f32(a, b); }
static inline hm hv_ge(hv a, hv b) { return vcgeq_f32(a, b); }
static inline hv hv_sel(hm m, hv t, hv f) { return vbslq_f32(m, t, f); }
/* p * 2^n for integral n in [-151, 128], as two exact power-of-two factors
 * so that overflow gives inf and underflow rounds once into the subnormals. */
static inline hv hv_scale2(hv p, hv n)
{
	int32x4_t ni = vcvtq_s32_f32(n);
	int32x4_t n1 = vshrq_n_s32(ni, 1);
	int32x4_t n2 = vsubq_s32(ni, n1);
	int32x4_t b = vdupq_n_s32(127);
	hv s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, b), 23));
	hv s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, b), 23));
	return vmulq_f32(vmulq_f32(p, s1), s2);
}
static inline float hv_reduce_add(hv a) { return vaddvq_f32(a); }
static inline float hv_reduce_max(hv a) { return vmaxvq_f32(a); }

#endif
