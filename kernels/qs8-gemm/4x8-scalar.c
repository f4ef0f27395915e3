/* qs8-gemm scalar reference: 4 x 8 tiles, KR 1, s8 packed B, 32-bit
 * unsigned (wrapping) accumulation. */
#include "kernels/qs8-gemm/qs8-gemm.h"

#define MR 4
#define NR 8

static void gemm(size_t mr, size_t nr, size_t k, const uint8_t *a, size_t lda, const void *w,
		 void *c, size_t ldc, const struct hwk_qs8_epilogue *ep)
{
	const int8_t *b = w;
	uint32_t acc[MR][NR] = { { 0 } };
	for (size_t kk = 0; kk < k; kk++, b += NR)
		for (size_t i = 0; i < mr; i++) {
			uint32_t av = a[i * lda + kk];
			for (size_t j = 0; j < NR; j++)
				acc[i][j] += av * (uint32_t)(int32_t)b[j];
		}
	for (size_t i = 0; i < mr; i++)
		for (size_t j = 0; j < nr; j++)
			hwk_qs8_store1(ep, i, j, acc[i][j], c, ldc);
}

const struct hwk_qs8_gemm_impl hwk_qs8_gemm_ukernel_4x8__scalar = { MR, NR, 1, 1, gemm };
