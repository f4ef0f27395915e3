/* f32 element-wise ukernels: one function per op and ISA, gathered per ISA
 * in a table indexed by enum hwk_vunary_op. A ukernel takes any n >= 0,
 * allows y == x, and never reads or writes past n. */
#ifndef HWK_F32_VUNARY_H
#define HWK_F32_VUNARY_H

#include "kernels/hwk.h"

typedef void (*hwk_f32_vunary_fn)(size_t n, const float *x, float *y,
				  const struct hwk_vunary_params *p);

struct hwk_f32_vunary_ukernels {
	hwk_f32_vunary_fn fn[HWK_VUNARY_COUNT];
};

extern const struct hwk_f32_vunary_ukernels hwk_f32_vunary_ukernels__scalar;
#if defined(__x86_64__)
extern const struct hwk_f32_vunary_ukernels hwk_f32_vunary_ukernels__avx2;
extern const struct hwk_f32_vunary_ukernels hwk_f32_vunary_ukernels__avx512f;
#endif
#if defined(__aarch64__)
extern const struct hwk_f32_vunary_ukernels hwk_f32_vunary_ukernels__neon;
extern const struct hwk_f32_vunary_ukernels hwk_f32_vunary_ukernels__sve;
#endif

#endif
