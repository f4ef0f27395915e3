/* The qs8-gemm epilogue for NEON microkernels: one row of up to 16
 * accumulators (4 vectors), stored as S32, F32 or U8 (see qs8-gemm.h). */
#ifndef HWK_QS8_GEMM_EPILOGUE_NEON_H
#define HWK_QS8_GEMM_EPILOGUE_NEON_H

#include <arm_neon.h>
#include <string.h>

#include "kernels/qs8-gemm/qs8-gemm.h"

static inline void hwk_qs8_neon_store_row(const struct hwk_qs8_epilogue *ep, size_t i,
					  const int32x4_t acc[4], size_t nr, void *c, size_t ldc)
{
	int32x4_t v[4];
	float32x4_t y[4];
	const int32x4_t vaz = vdupq_n_s32(ep->azp[i]);
	for (int j = 0; j < 4; j++) {
		v[j] = vmlsq_s32(acc[j], vaz, vld1q_s32(ep->colsum + 4 * j));
		if (ep->bzp)
			v[j] = vmlsq_s32(v[j], vld1q_s32(ep->bzp + 4 * j), vdupq_n_s32(ep->arsum[i]));
	}
	if (ep->out == HWK_QS8_S32) {
		int32_t t[16];
		for (int j = 0; j < 4; j++)
			vst1q_s32(t + 4 * j, v[j]);
		memcpy((int32_t *)c + i * ldc, t, nr * sizeof(int32_t));
		return;
	}
	const float32x4_t as = vdupq_n_f32(ep->ascale[i]);
	for (int j = 0; j < 4; j++) {
		float32x4_t s = vmulq_f32(as, vld1q_f32(ep->bscale + 4 * j));
		/* vfmaq_f32(a, b, c) = a + b * c, rounded once: fmaf(b, c, a). */
		y[j] = vfmaq_f32(vld1q_f32(ep->bias + 4 * j), vcvtq_f32_s32(v[j]), s);
	}
	if (ep->out == HWK_QS8_F32) {
		float t[16];
		for (int j = 0; j < 4; j++)
			vst1q_f32(t + 4 * j, y[j]);
		memcpy((float *)c + i * ldc, t, nr * sizeof(float));
		return;
	}
	const float32x4_t cs = vdupq_n_f32(ep->cscale);
	const float32x4_t lo = vdupq_n_f32((float)(0 - ep->czp)), hi = vdupq_n_f32((float)(255 - ep->czp));
	int16x4_t h[4];
	for (int j = 0; j < 4; j++) {
		float32x4_t t = vdivq_f32(y[j], cs);
		t = vbslq_f32(vceqq_f32(t, t), t, vdupq_n_f32(0.0f));
		t = vminq_f32(vmaxq_f32(t, lo), hi);
		h[j] = vmovn_s32(vaddq_s32(vcvtnq_s32_f32(t), vdupq_n_s32(ep->czp)));
	}
	uint8_t t[16];
	vst1_u8(t, vmovn_u16(vreinterpretq_u16_s16(vcombine_s16(h[0], h[1]))));
	vst1_u8(t + 8, vmovn_u16(vreinterpretq_u16_s16(vcombine_s16(h[2], h[3]))));
	memcpy((uint8_t *)c + i * ldc, t, nr);
}

#endif
