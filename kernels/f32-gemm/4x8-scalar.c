/* The scalar reference microkernel: 4 rows x 8 columns, plain C. */
#include <stdint.h>
#include <string.h>

#include "kernels/f32-gemm/gemm.h"

#include "kernels/vmath/scalar.h"
#include "kernels/vmath/vmath.h"

#define MR 4
#define NR 8

static void ukernel_4x8(size_t mr, size_t nr, size_t kc, const float *a, size_t a_rs, size_t a_cs,
			const float *b, size_t b_ks, float *c, size_t ldc,
			const struct f32_gemm_ep *ep)
{
	float acc[MR][NR] = { { 0 } };
	for (size_t k = 0; k < kc; k++) {
		for (size_t i = 0; i < mr; i++) {
			float ai = a[i * a_rs];
			for (size_t j = 0; j < NR; j++)
				acc[i][j] += ai * b[j];
		}
		a += a_cs;
		b += b_ks;
	}
	for (size_t i = 0; i < mr; i++) {
		float *ci = c + i * ldc;
		for (size_t j = 0; j < nr; j++) {
			float r = ep->alpha * acc[i][j];
			if (ep->beta != 0.0f)
				r += ep->beta * ci[j];
			if (ep->bias)
				r += ep->bias[j];
			ci[j] = hv_gemm_act(r, ep->act, ep->clip, ep->lo, ep->hi);
		}
	}
}

void hwk_f32_gemm_ukernel_4x8__scalar(size_t mr, size_t nr, size_t kc, const float *a, size_t a_rs,
				      size_t a_cs, const float *b, size_t b_ks, float *c,
				      size_t ldc, const struct f32_gemm_ep *ep);
void hwk_f32_gemm_ukernel_4x8__scalar(size_t mr, size_t nr, size_t kc, const float *a, size_t a_rs,
				      size_t a_cs, const float *b, size_t b_ks, float *c,
				      size_t ldc, const struct f32_gemm_ep *ep)
{
	ukernel_4x8(mr, nr, kc, a, a_rs, a_cs, b, b_ks, c, ldc, ep);
}

const struct f32_gemm_ukr hwk_f32_gemm_ukr_4x8__scalar = {
	.ukernel = hwk_f32_gemm_ukernel_4x8__scalar,
	.pack = NULL,
	.mr = MR,
	.nr = NR,
	.direct_a_max_m = 16,
	.direct_b_max_m = 16,
};
