/* f32 inference batch normalization, folded: y = x * scale + bias over one
 * plane of n floats; y may equal x. */
#ifndef HWK_F32_BATCHNORM_H
#define HWK_F32_BATCHNORM_H

#include <stddef.h>

typedef void (*hwk_f32_batchnorm_fn)(size_t n, const float *x, float scale, float bias,
				     float *y);

extern const hwk_f32_batchnorm_fn hwk_f32_batchnorm_ukernel__scalar;
#if defined(__x86_64__)
extern const hwk_f32_batchnorm_fn hwk_f32_batchnorm_ukernel__avx2;
extern const hwk_f32_batchnorm_fn hwk_f32_batchnorm_ukernel__avx512f;
#endif
#if defined(__aarch64__)
extern const hwk_f32_batchnorm_fn hwk_f32_batchnorm_ukernel__neon;
extern const hwk_f32_batchnorm_fn hwk_f32_batchnorm_ukernel__sve;
#endif

#endif
