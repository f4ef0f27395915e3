/* NEON conversions: bf16 by integer rounding, f16 by the hardware
 * conversions (round to nearest even in the default FPCR mode). NEON has no
 * gather: the fp8 table decode stays a scalar loop. */
#if !defined(__ARM_NEON)
#error "x4-neon.c needs NEON: build it through the Makefile"
#endif

#include <arm_neon.h>

#include "kernels/f32-cvt/cvt.h"

void hwk_f32_cvt_bf16_ukernel_x4__neon(size_t n, const float *x, uint16_t *y)
{
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		uint32x4_t u = vld1q_u32((const uint32_t *)(x + i));
		uint32x4_t lsb = vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1));
		uint32x4_t r = vshrq_n_u32(vaddq_u32(u, vaddq_u32(lsb, vdupq_n_u32(0x7fff))), 16);
		uint32x4_t q = vorrq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(0x40));
		uint32x4_t nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7fffffff)), vdupq_n_u32(0x7f800000));
		vst1_u16(y + i, vmovn_u32(vbslq_u32(nan, q, r)));
	}
	for (; i < n; i++)
		y[i] = hwk_cvt_f32_to_bf16_1(x[i]);
}

void hwk_bf16_cvt_f32_ukernel_x4__neon(size_t n, const uint16_t *x, float *y)
{
	size_t i = 0;
	for (; i + 4 <= n; i += 4)
		vst1q_u32((uint32_t *)(y + i), vshll_n_u16(vld1_u16(x + i), 16));
	for (; i < n; i++)
		y[i] = hwk_cvt_bf16_to_f32_1(x[i]);
}

void hwk_f32_cvt_f16_ukernel_x4__neon(size_t n, const float *x, uint16_t *y)
{
	size_t i = 0;
	for (; i + 4 <= n; i += 4)
		vst1_u16(y + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(x + i))));
	for (; i < n; i++)
		y[i] = hwk_cvt_f32_to_f16_1(x[i]);
}

void hwk_f16_cvt_f32_ukernel_x4__neon(size_t n, const uint16_t *x, float *y)
{
	size_t i = 0;
	for (; i + 4 <= n; i += 4)
		vst1q_f32(y + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i))));
	for (; i < n; i++)
		y[i] = hwk_cvt_f16_to_f32_1(x[i]);
}

void hwk_lut8_cvt_f32_ukernel_x4__neon(size_t n, const uint8_t *x, const float *table,
				       float scale, float *y)
{
	for (size_t i = 0; i < n; i++)
		y[i] = table[x[i]] * scale;
}
