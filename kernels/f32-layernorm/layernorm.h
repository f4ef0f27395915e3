/* f32 layer normalization and RMS normalization of one row of n >= 1
 * floats; y may equal x; gamma/beta (n floats) may be NULL (1 and 0);
 * mean and rstd (one float each) may be NULL. */
#ifndef HWK_F32_LAYERNORM_H
#define HWK_F32_LAYERNORM_H

#include <stddef.h>

typedef void (*hwk_f32_layernorm_fn)(size_t n, const float *x, const float *gamma,
				     const float *beta, float eps, float *y, float *mean,
				     float *rstd);
typedef void (*hwk_f32_rmsnorm_fn)(size_t n, const float *x, const float *gamma, float eps,
				   float *y);

struct hwk_f32_layernorm_ukernels {
	hwk_f32_layernorm_fn layernorm;
	hwk_f32_rmsnorm_fn rmsnorm;
};

extern const struct hwk_f32_layernorm_ukernels hwk_f32_layernorm_ukernels__scalar;
#if defined(__x86_64__)
extern const struct hwk_f32_layernorm_ukernels hwk_f32_layernorm_ukernels__avx2;
extern const struct hwk_f32_layernorm_ukernels hwk_f32_layernorm_ukernels__avx512f;
#endif
#if defined(__aarch64__)
extern const struct hwk_f32_layernorm_ukernels hwk_f32_layernorm_ukernels__neon;
extern const struct hwk_f32_layernorm_ukernels hwk_f32_layernorm_ukernels__sve;
#endif

#endif
