/* Decoding of reduced-precision weights to f32 for the rpw-gemm driver's
 * decode path: per-ISA loops, all exact (each gives the bits of the
 * f32-cvt scalar codecs, times scale for fp8; NaN stays NaN). Not installed. */
#ifndef HWK_RPW_GEMM_DECODE_H
#define HWK_RPW_GEMM_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/hwk.h"

struct rpw_decode {
	void (*bf16)(size_t n, const uint16_t *x, float *y);
	void (*f16)(size_t n, const uint16_t *x, float *y);
	/* y = fp8(x) * scale */
	void (*e4m3fn)(size_t n, const uint8_t *x, float scale, float *y);
	void (*e5m2)(size_t n, const uint8_t *x, float scale, float *y);
};

#if defined(__x86_64__)
extern const struct rpw_decode hwk_rpw_decode_x32__avx512f;
#endif
extern const struct rpw_decode hwk_rpw_decode_x1__scalar;

#endif
