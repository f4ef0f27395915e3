/* The reference decoding: the f32-cvt conversions (their own variants). */
#include "kernels/rpw-gemm/decode.h"

static void dec_e4m3fn(size_t n, const uint8_t *x, float scale, float *y)
{
	hwk_fp8_to_f32(HWK_FP8_E4M3FN, scale, n, x, y);
}

static void dec_e5m2(size_t n, const uint8_t *x, float scale, float *y)
{
	hwk_fp8_to_f32(HWK_FP8_E5M2, scale, n, x, y);
}

const struct rpw_decode hwk_rpw_decode_x1__scalar = { hwk_bf16_to_f32, hwk_f16_to_f32,
						      dec_e4m3fn, dec_e5m2 };
