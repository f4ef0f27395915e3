/* NEON microkernel: 8 rows x 8 columns, 16 q-register accumulators; each
 * k step loads two vectors of the packed B panel and multiplies them by 8
 * elements of A. */
#if !defined(__ARM_NEON)
#error "8x8-neon.c needs NEON (AArch64 Advanced SIMD)"
#endif

#include <arm_neon.h>
#include <string.h>

#include "kernels/f32-gemm/gemm.h"

typedef float32x4_t vf;
#include "kernels/vmath/neon.h"
#include "kernels/vmath/vmath.h"

#define MR 8
#define NR 8

#define INLINE static inline __attribute__((always_inline))

/* Loads n (< 4 allowed) floats, zero beyond. */
static inline vf load_part(const float *p, size_t n)
{
	if (n >= 4)
		return vld1q_f32(p);
	float t[4] = { 0, 0, 0, 0 };
	memcpy(t, p, n * sizeof(float));
	return vld1q_f32(t);
}

static inline void store_part(float *p, size_t n, vf v)
{
	if (n >= 4) {
		vst1q_f32(p, v);
		return;
	}
	float t[4];
	vst1q_f32(t, v);
	memcpy(p, t, n * sizeof(float));
}

INLINE vf finish(vf r, const float *c, size_t n, vf bias, const struct f32_gemm_ep *ep)
{
	if (ep->alpha != 1.0f)
		r = vmulq_n_f32(r, ep->alpha);
	if (ep->beta != 0.0f)
		r = vfmaq_n_f32(r, load_part(c, n), ep->beta);
	if (ep->bias)
		r = vaddq_f32(r, bias);
	if (ep->act || ep->clip)
		r = hv_gemm_act(r, ep->act, ep->clip, ep->lo, ep->hi);
	return r;
}

INLINE void tile(const size_t mr, size_t nr, size_t kc, const float *a, const size_t a_rs,
		 const size_t a_cs, const float *b, size_t b_ks, float *c, size_t ldc,
		 const struct f32_gemm_ep *ep)
{
	vf acc0[MR], acc1[MR];
#pragma GCC unroll 8
	for (size_t i = 0; i < mr; i++) {
		acc0[i] = vdupq_n_f32(0.0f);
		acc1[i] = vdupq_n_f32(0.0f);
	}
	for (size_t k = 0; k < kc; k++) {
		vf b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4);
#pragma GCC unroll 8
		for (size_t i = 0; i < mr; i++) {
			float ai = a[i * a_rs];
			acc0[i] = vfmaq_n_f32(acc0[i], b0, ai);
			acc1[i] = vfmaq_n_f32(acc1[i], b1, ai);
		}
		a += a_cs;
		b += b_ks;
	}
	size_t n0 = nr < 4 ? nr : 4, n1 = nr > 4 ? nr - 4 : 0;
	vf bias0 = vdupq_n_f32(0.0f), bias1 = bias0;
	if (ep->bias) {
		bias0 = load_part(ep->bias, n0);
		if (n1)
			bias1 = load_part(ep->bias + 4, n1);
	}
#pragma GCC unroll 8
	for (size_t i = 0; i < mr; i++) {
		float *ci = c + i * ldc;
		store_part(ci, n0, finish(acc0[i], ci, n0, bias0, ep));
		if (n1)
			store_part(ci + 4, n1, finish(acc1[i], ci + 4, n1, bias1, ep));
	}
}

#define CASES(A_RS, A_CS)                                                                     \
	switch (mr) {                                                                         \
	case 8: tile(8, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 7: tile(7, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 6: tile(6, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 5: tile(5, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 4: tile(4, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 3: tile(3, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	case 2: tile(2, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                   \
	default: tile(1, nr, kc, a, A_RS, A_CS, b, b_ks, c, ldc, ep); break;                  \
	}

void hwk_f32_gemm_ukernel_8x8__neon(size_t mr, size_t nr, size_t kc, const float *a, size_t a_rs,
				    size_t a_cs, const float *b, size_t b_ks, float *c, size_t ldc,
				    const struct f32_gemm_ep *ep);
void hwk_f32_gemm_ukernel_8x8__neon(size_t mr, size_t nr, size_t kc, const float *a, size_t a_rs,
				    size_t a_cs, const float *b, size_t b_ks, float *c, size_t ldc,
				    const struct f32_gemm_ep *ep)
{
	if (a_rs == 1 && a_cs == MR) {
		CASES(1, MR)
	} else {
		CASES(a_rs, a_cs)
	}
}

const struct f32_gemm_ukr hwk_f32_gemm_ukr_8x8__neon = {
	.ukernel = hwk_f32_gemm_ukernel_8x8__neon,
	.pack = NULL,
	.mr = MR,
	.nr = NR,
	.direct_a_max_m = 32,
	.direct_b_max_m = 32,
};
