/* Conversion internals: the per-ISA loops and the scalar codecs. */
#ifndef HWK_F32_CVT_H
#define HWK_F32_CVT_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/hwk.h"

struct cvt_ukernels {
	void (*f32_bf16)(size_t n, const float *x, uint16_t *y);
	void (*bf16_f32)(size_t n, const uint16_t *x, float *y);
	void (*f32_f16)(size_t n, const float *x, uint16_t *y);
	void (*f16_f32)(size_t n, const uint16_t *x, float *y);
	/* y = table[x] * scale; table holds the 256 decoded values */
	void (*lut8_f32)(size_t n, const uint8_t *x, const float *table, float scale, float *y);
};

#define CVT_DECL(tile, isa)                                                                      \
	void hwk_f32_cvt_bf16_ukernel_##tile##__##isa(size_t, const float *, uint16_t *);          \
	void hwk_bf16_cvt_f32_ukernel_##tile##__##isa(size_t, const uint16_t *, float *);          \
	void hwk_f32_cvt_f16_ukernel_##tile##__##isa(size_t, const float *, uint16_t *);           \
	void hwk_f16_cvt_f32_ukernel_##tile##__##isa(size_t, const uint16_t *, float *);           \
	void hwk_lut8_cvt_f32_ukernel_##tile##__##isa(size_t, const uint8_t *, const float *,      \
						       float, float *);

CVT_DECL(x1, scalar)
#if defined(__x86_64__)
CVT_DECL(x16, avx512f)
CVT_DECL(x8, avx2)
#endif
#if defined(__aarch64__)
CVT_DECL(x4, neon)
#endif

/* Scalar codecs, exact: the references for every variant. */
uint16_t hwk_cvt_f32_to_bf16_1(float x);
float hwk_cvt_bf16_to_f32_1(uint16_t x);
uint16_t hwk_cvt_f32_to_f16_1(float x);
float hwk_cvt_f16_to_f32_1(uint16_t x);
uint8_t hwk_cvt_f32_to_fp8_1(enum hwk_fp8 fmt, bool saturate, float x);
float hwk_cvt_fp8_to_f32_1(enum hwk_fp8 fmt, uint8_t x);

extern struct hwk_op hwk_op_f32_cvt;

#endif
