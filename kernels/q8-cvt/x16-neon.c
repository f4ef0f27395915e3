/* q8-cvt for NEON (AArch64 Advanced SIMD): 4 lanes per vector, 16
 * elements per iteration; tails through the scalar rounding. vcvtnq rounds
 * half to even; vminnm/vmaxnm ignore NaN like the other variants. */
#if !defined(__ARM_NEON) || !defined(__aarch64__)
#error "x16-neon.c needs AArch64 NEON"
#endif
#include <arm_neon.h>

#include "kernels/q8-cvt/q8-cvt.h"

static inline int32x4_t quant4(float32x4_t x, float32x4_t vs, float32x4_t lo, float32x4_t hi,
			       int32x4_t vzp)
{
	float32x4_t t = vdivq_f32(x, vs);
	t = vbslq_f32(vceqq_f32(t, t), t, vdupq_n_f32(0.0f)); /* NaN -> 0 */
	t = vminq_f32(vmaxq_f32(t, lo), hi);
	return vaddq_s32(vcvtnq_s32_f32(t), vzp);
}

static inline uint8x16_t narrow16(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d)
{
	int16x8_t ab = vcombine_s16(vmovn_s32(a), vmovn_s32(b));
	int16x8_t cd = vcombine_s16(vmovn_s32(c), vmovn_s32(d));
	return vreinterpretq_u8_s8(vcombine_s8(vmovn_s16(ab), vmovn_s16(cd)));
}

static void quantize(size_t n, const float *x, uint8_t *y, float scale, int32_t zp, int32_t qmin,
		     int32_t qmax)
{
	const float32x4_t vs = vdupq_n_f32(scale);
	const float32x4_t lo = vdupq_n_f32((float)(qmin - zp)), hi = vdupq_n_f32((float)(qmax - zp));
	const int32x4_t vzp = vdupq_n_s32(zp);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		int32x4_t q0 = quant4(vld1q_f32(x + i), vs, lo, hi, vzp);
		int32x4_t q1 = quant4(vld1q_f32(x + i + 4), vs, lo, hi, vzp);
		int32x4_t q2 = quant4(vld1q_f32(x + i + 8), vs, lo, hi, vzp);
		int32x4_t q3 = quant4(vld1q_f32(x + i + 12), vs, lo, hi, vzp);
		vst1q_u8(y + i, narrow16(q0, q1, q2, q3));
	}
	for (; i < n; i++)
		y[i] = (uint8_t)hwk_q8_round_sat(x[i] / scale, zp, qmin, qmax);
}

static void quantize_v(size_t n, const float *x, uint8_t *y, const float *scale, const int32_t *zp,
		       int32_t qmin, int32_t qmax)
{
	const float32x4_t vmin = vdupq_n_f32((float)qmin), vmax = vdupq_n_f32((float)qmax);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		int32x4_t q[4];
		for (int j = 0; j < 4; j++) {
			int32x4_t vzp = zp ? vld1q_s32(zp + i + 4 * j) : vdupq_n_s32(0);
			float32x4_t fzp = vcvtq_f32_s32(vzp);
			q[j] = quant4(vld1q_f32(x + i + 4 * j), vld1q_f32(scale + i + 4 * j),
				      vsubq_f32(vmin, fzp), vsubq_f32(vmax, fzp), vzp);
		}
		vst1q_u8(y + i, narrow16(q[0], q[1], q[2], q[3]));
	}
	for (; i < n; i++)
		y[i] = (uint8_t)hwk_q8_round_sat(x[i] / scale[i], zp ? zp[i] : 0, qmin, qmax);
}

static inline int32_t load_q(const uint8_t *q, size_t i, int is_signed)
{
	return is_signed ? (int32_t)(int8_t)q[i] : (int32_t)q[i];
}

/* 8 quantized values -> two vectors of 4 int32. */
static inline void load8(const uint8_t *q, int is_signed, int32x4_t *lo, int32x4_t *hi)
{
	int16x8_t w = is_signed ? vmovl_s8(vld1_s8((const int8_t *)q))
				: vreinterpretq_s16_u16(vmovl_u8(vld1_u8(q)));
	*lo = vmovl_s16(vget_low_s16(w));
	*hi = vmovl_s16(vget_high_s16(w));
}

static void dequantize(size_t n, const uint8_t *q, int is_signed, float *y, float scale, int32_t zp)
{
	const int32x4_t vzp = vdupq_n_s32(zp);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		int32x4_t a, b;
		load8(q + i, is_signed, &a, &b);
		vst1q_f32(y + i, vmulq_n_f32(vcvtq_f32_s32(vsubq_s32(a, vzp)), scale));
		vst1q_f32(y + i + 4, vmulq_n_f32(vcvtq_f32_s32(vsubq_s32(b, vzp)), scale));
	}
	for (; i < n; i++)
		y[i] = (float)(load_q(q, i, is_signed) - zp) * scale;
}

static void dequantize_v(size_t n, const uint8_t *q, int is_signed, float *y, const float *scale,
			 const int32_t *zp)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		int32x4_t a, b;
		load8(q + i, is_signed, &a, &b);
		if (zp) {
			a = vsubq_s32(a, vld1q_s32(zp + i));
			b = vsubq_s32(b, vld1q_s32(zp + i + 4));
		}
		vst1q_f32(y + i, vmulq_f32(vcvtq_f32_s32(a), vld1q_f32(scale + i)));
		vst1q_f32(y + i + 4, vmulq_f32(vcvtq_f32_s32(b), vld1q_f32(scale + i + 4)));
	}
	for (; i < n; i++)
		y[i] = (float)(load_q(q, i, is_signed) - (zp ? zp[i] : 0)) * scale[i];
}

static void minmax(size_t n, const float *x, float *mn, float *mx)
{
	float32x4_t lo = vdupq_n_f32(INFINITY), hi = vdupq_n_f32(-INFINITY);
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		float32x4_t a = vld1q_f32(x + i);
		lo = vminnmq_f32(lo, a);
		hi = vmaxnmq_f32(hi, a);
	}
	float rl = vminnmvq_f32(lo), rh = vmaxnmvq_f32(hi);
	for (; i < n; i++) {
		rl = x[i] < rl ? x[i] : rl;
		rh = x[i] > rh ? x[i] : rh;
	}
	*mn = rl;
	*mx = rh;
}

const struct hwk_q8_cvt_impl hwk_q8_cvt_ukernel_x16__neon = {
	quantize, quantize_v, dequantize, dequantize_v, minmax,
};
