/* Conversions between f32 and bf16, f16, fp8: variant choice, the fp8
 * tables, scaling. */
#include <errno.h>
#include <math.h>
#include <pthread.h>

#include "kernels/f32-cvt/cvt.h"

#define UK(tile, isa)                                                                           \
	{ hwk_f32_cvt_bf16_ukernel_##tile##__##isa, hwk_bf16_cvt_f32_ukernel_##tile##__##isa,     \
	  hwk_f32_cvt_f16_ukernel_##tile##__##isa, hwk_f16_cvt_f32_ukernel_##tile##__##isa,       \
	  hwk_lut8_cvt_f32_ukernel_##tile##__##isa }

static const struct cvt_ukernels uk_scalar = UK(x1, scalar);
#if defined(__x86_64__)
static const struct cvt_ukernels uk_avx2 = UK(x8, avx2);
static const struct cvt_ukernels uk_avx512f = UK(x16, avx512f);
#endif
#if defined(__aarch64__)
static const struct cvt_ukernels uk_neon = UK(x4, neon);
#endif

static const struct hwk_variant variants[] = {
#if defined(__x86_64__)
	{ HWK_ISA_AVX512F, "x16-avx512f", &uk_avx512f },
	{ HWK_ISA_AVX2, "x8-avx2", &uk_avx2 },
#endif
#if defined(__aarch64__)
	{ HWK_ISA_NEON, "x4-neon", &uk_neon },
#endif
	{ HWK_ISA_SCALAR, "x1-scalar", &uk_scalar },
};

struct hwk_op hwk_op_f32_cvt = {
	"f32-cvt", variants, sizeof(variants) / sizeof(variants[0]), NULL,
};

static const struct cvt_ukernels *uk(void)
{
	return hwk_op_variant(&hwk_op_f32_cvt)->impl;
}

void hwk_f32_to_bf16(size_t n, const float *x, uint16_t *y) { uk()->f32_bf16(n, x, y); }
void hwk_bf16_to_f32(size_t n, const uint16_t *x, float *y) { uk()->bf16_f32(n, x, y); }
void hwk_f32_to_f16(size_t n, const float *x, uint16_t *y) { uk()->f32_f16(n, x, y); }
void hwk_f16_to_f32(size_t n, const uint16_t *x, float *y) { uk()->f16_f32(n, x, y); }

static float tables[2][256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void make_tables(void)
{
	for (int b = 0; b < 256; b++) {
		tables[HWK_FP8_E4M3FN][b] = hwk_cvt_fp8_to_f32_1(HWK_FP8_E4M3FN, (uint8_t)b);
		tables[HWK_FP8_E5M2][b] = hwk_cvt_fp8_to_f32_1(HWK_FP8_E5M2, (uint8_t)b);
	}
}

static bool good(enum hwk_fp8 fmt, float scale)
{
	return (fmt == HWK_FP8_E4M3FN || fmt == HWK_FP8_E5M2) && isfinite(scale) && scale > 0;
}

int hwk_f32_to_fp8(enum hwk_fp8 fmt, bool saturate, float scale, size_t n, const float *x,
		   uint8_t *y)
{
	if (!good(fmt, scale) || (n && (!x || !y)))
		return -EINVAL;
	/* Weights are converted once, at load: the exact scalar codec serves. */
	for (size_t i = 0; i < n; i++)
		y[i] = hwk_cvt_f32_to_fp8_1(fmt, saturate, x[i] / scale);
	return 0;
}

int hwk_fp8_to_f32(enum hwk_fp8 fmt, float scale, size_t n, const uint8_t *x, float *y)
{
	if (!good(fmt, scale) || (n && (!x || !y)))
		return -EINVAL;
	pthread_once(&tables_once, make_tables);
	uk()->lut8_f32(n, x, tables[fmt], scale, y);
	return 0;
}
