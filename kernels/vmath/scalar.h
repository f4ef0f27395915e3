/* Primitives for the f32 math in vmath.h on one float at a time: the
 * scalar GEMM epilogue uses them, so every GEMM variant runs the same
 * formulas. hv_fma is fmaf (fused, as the formulas need: the exact
 * x^2 low part in gelu and the ln2 reduction in exp rely on it). */
#ifndef HWK_VMATH_SCALAR_H
#define HWK_VMATH_SCALAR_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef float hv;
typedef int hm;

#define HV_LANES_MAX 1
static inline size_t hv_lanes(void) { return 1; }

static inline hv hv_set1(float a) { return a; }
static inline hv hv_load(const float *p) { return *p; }
static inline void hv_store(float *p, hv v) { *p = v; }
static inline hv hv_loadn(const float *p, size_t k, float fill) { return k ? *p : fill; }
static inline void hv_storen(float *p, hv v, size_t k)
{
	if (k)
		*p = v;
}

static inline hv hv_add(hv a, hv b) { return a + b; }
static inline hv hv_sub(hv a, hv b) { return a - b; }
static inline hv hv_mul(hv a, hv b) { return a * b; }
static inline hv hv_div(hv a, hv b) { return a / b; }
static inline hv hv_sqrt(hv a) { return sqrtf(a); }
static inline hv hv_fma(hv a, hv b, hv c) { return fmaf(a, b, c); }   /* a*b+c */
static inline hv hv_fnma(hv a, hv b, hv c) { return fmaf(-a, b, c); } /* c-a*b */
static inline hv hv_fms(hv a, hv b, hv c) { return fmaf(a, b, -c); }  /* a*b-c */
/* max/min of a constant-like c and x: a NaN in x comes out, as on the
 * vector ISAs. */
static inline hv hv_max(hv c, hv x) { return c > x ? c : x; }
static inline hv hv_min(hv c, hv x) { return c < x ? c : x; }
static inline hv hv_abs(hv a) { return fabsf(a); }
static inline hv hv_neg(hv a) { return -a; }
static inline hv hv_copysign(hv a, hv s) { return copysignf(a, s); }
static inline hm hv_lt(hv a, hv b) { return a < b; }
static inline hm hv_ge(hv a, hv b) { return a >= b; }
static inline hv hv_sel(hm m, hv t, hv f) { return m ? t : f; }
/* p * 2^n for integral n in [-151, 128], as two exact power-of-two factors
 * so that overflow gives inf and underflow rounds once into the subnormals. */
static inline hv hv_scale2(hv p, hv n)
{
	int32_t ni = (int32_t)n, n1 = ni / 2, n2 = ni - n1;
	uint32_t b1 = (uint32_t)(n1 + 127) << 23, b2 = (uint32_t)(n2 + 127) << 23;
	float s1, s2;
	memcpy(&s1, &b1, sizeof(s1));
	memcpy(&s2, &b2, sizeof(s2));
	return p * s1 * s2;
}
static inline float hv_reduce_add(hv a) { return a; }
static inline float hv_reduce_max(hv a) { return a; }

#endif
