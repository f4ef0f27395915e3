/* Scalar reference for the int4 microkernel. */
#include "kernels/f32-qb4-gemm/qb4.h"

void hwk_f32_qb4_gemm_ukernel_4x4__scalar(size_t mr, size_t nr, size_t kb, const float *x,
					  size_t ldx, const float *xsum, const uint8_t *q, size_t ldq,
					  const float *scale, const float *min, size_t lds, float *y,
					  size_t ldy)
{
	for (size_t i = 0; i < mr; i++)
		for (size_t j = 0; j < nr; j++) {
			const float *xr = x + i * ldx;
			const uint8_t *qr = q + j * ldq;
			float acc = 0;
			for (size_t b = 0; b < kb; b++) {
				/* sum q*x over the block, then one scale and the offset:
				 * sum (q*s + m) x = s*sum q x + m*sum x */
				float dot = 0;
				for (size_t t = 0; t < 16; t++) {
					dot += (float)(qr[b * 16 + t] & 15) * xr[b * 32 + t];
					dot += (float)(qr[b * 16 + t] >> 4) * xr[b * 32 + t + 16];
				}
				float off = min ? min[j * lds + b] : -8.0f * scale[j * lds + b];
				acc += dot * scale[j * lds + b] + off * xsum[i * kb + b];
			}
			y[i * ldy + j] = acc;
		}
}
