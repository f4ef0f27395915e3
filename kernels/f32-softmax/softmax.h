/* f32 softmax and log-softmax of one row of n >= 1 floats; y may equal x. */
#ifndef HWK_F32_SOFTMAX_H
#define HWK_F32_SOFTMAX_H

#include <stddef.h>

typedef void (*hwk_f32_softmax_fn)(size_t n, const float *x, float *y);

struct hwk_f32_softmax_ukernels {
	hwk_f32_softmax_fn softmax, logsoftmax;
};

extern const struct hwk_f32_softmax_ukernels hwk_f32_softmax_ukernels__scalar;
#if defined(__x86_64__)
extern const struct hwk_f32_softmax_ukernels hwk_f32_softmax_ukernels__avx2;
extern const struct hwk_f32_softmax_ukernels hwk_f32_softmax_ukernels__avx512f;
#endif
#if defined(__aarch64__)
extern const struct hwk_f32_softmax_ukernels hwk_f32_softmax_ukernels__neon;
extern const struct hwk_f32_softmax_ukernels hwk_f32_softmax_ukernels__sve;
#endif

#endif
