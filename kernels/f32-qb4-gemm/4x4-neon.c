/* NEON int4 microkernel: a block as eight vectors of 4. */
#if !defined(__ARM_NEON)
#error "4x4-neon.c needs NEON: build it through the Makefile"
#endif

#include <arm_neon.h>

#include "kernels/f32-qb4-gemm/qb4.h"

static inline float offset_dot(size_t kb, const float *scale, const float *min, const float *xs)
{
	float32x4_t acc = vdupq_n_f32(0);
	size_t b = 0;
	for (; b + 4 <= kb; b += 4) {
		float32x4_t o = min ? vld1q_f32(min + b) : vmulq_n_f32(vld1q_f32(scale + b), -8.0f);
		acc = vfmaq_f32(acc, o, vld1q_f32(xs + b));
	}
	float r = vaddvq_f32(acc);
	for (; b < kb; b++)
		r += (min ? min[b] : -8.0f * scale[b]) * xs[b];
	return r;
}

static inline float32x4_t widen(uint8x8_t v, int high)
{
	uint16x8_t w = vmovl_u8(v);
	return vcvtq_f32_u32(high ? vmovl_high_u16(w) : vmovl_u16(vget_low_u16(w)));
}

void hwk_f32_qb4_gemm_ukernel_4x4__neon(size_t mr, size_t nr, size_t kb, const float *x,
					size_t ldx, const float *xsum, const uint8_t *q, size_t ldq,
					const float *scale, const float *min, size_t lds, float *y,
					size_t ldy)
{
	float32x4_t acc[4][4];
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < 4; j++)
			acc[i][j] = vdupq_n_f32(0);

	for (size_t b = 0; b < kb; b++) {
		for (size_t j = 0; j < nr; j++) {
			uint8x16_t bytes = vld1q_u8(q + j * ldq + b * 16);
			uint8x16_t lo = vandq_u8(bytes, vdupq_n_u8(15)), hi = vshrq_n_u8(bytes, 4);
			float32x4_t qv[8] = {
				widen(vget_low_u8(lo), 0), widen(vget_low_u8(lo), 1),
				widen(vget_high_u8(lo), 0), widen(vget_high_u8(lo), 1),
				widen(vget_low_u8(hi), 0), widen(vget_low_u8(hi), 1),
				widen(vget_high_u8(hi), 0), widen(vget_high_u8(hi), 1),
			};
			float s = scale[j * lds + b];
			for (size_t i = 0; i < mr; i++) {
				const float *xb = x + i * ldx + b * 32;
				float32x4_t d = vmulq_f32(qv[0], vld1q_f32(xb));
				for (int t = 1; t < 8; t++)
					d = vfmaq_f32(d, qv[t], vld1q_f32(xb + 4 * t));
				acc[i][j] = vfmaq_n_f32(acc[i][j], d, s);
			}
		}
	}
	for (size_t j = 0; j < nr; j++)
		for (size_t i = 0; i < mr; i++)
			y[i * ldy + j] = vaddvq_f32(acc[i][j]) +
					 offset_dot(kb, scale + j * lds, min ? min + j * lds : NULL,
						    xsum + i * kb);
}
