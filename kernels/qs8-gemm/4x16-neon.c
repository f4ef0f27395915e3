/* qs8-gemm for plain NEON: up to 4 rows x 16 columns, KR 1. A widens to
 * s16 (0..255), B to s16 (-128..127); smlal by lane multiplies s16 x s16
 * into s32 exactly and accumulates modulo 2^32, like the reference. */
#if !defined(__ARM_NEON) || !defined(__aarch64__)
#error "4x16-neon.c needs AArch64 NEON"
#endif
#include <arm_neon.h>
#include <string.h>

#include "kernels/qs8-gemm/epilogue-neon.h"

#define MR 4
#define NR 16

#define MAC(l)                                                                       \
	do {                                                                         \
		int8x16_t b = vld1q_s8(w);                                           \
		w += 16;                                                             \
		int16x8_t bl = vmovl_s8(vget_low_s8(b)), bh = vmovl_high_s8(b);      \
		for (int i = 0; i < mr; i++) {                                       \
			acc[i][0] = vmlal_laneq_s16(acc[i][0], vget_low_s16(bl), av[i], l); \
			acc[i][1] = vmlal_high_laneq_s16(acc[i][1], bl, av[i], l);   \
			acc[i][2] = vmlal_laneq_s16(acc[i][2], vget_low_s16(bh), av[i], l); \
			acc[i][3] = vmlal_high_laneq_s16(acc[i][3], bh, av[i], l);   \
		}                                                                    \
	} while (0)

static inline __attribute__((always_inline)) void
tile(const int mr, size_t nr, size_t k, const uint8_t *a, size_t lda, const int8_t *w, void *c,
     size_t ldc, const struct hwk_qs8_epilogue *ep)
{
	int32x4_t acc[MR][4];
	int16x8_t av[MR];
	for (int i = 0; i < mr; i++)
		for (int j = 0; j < 4; j++)
			acc[i][j] = vdupq_n_s32(0);
	size_t kk = 0;
	for (; kk + 8 <= k; kk += 8) {
		for (int i = 0; i < mr; i++)
			av[i] = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(a + (size_t)i * lda + kk)));
		MAC(0); MAC(1); MAC(2); MAC(3); MAC(4); MAC(5); MAC(6); MAC(7);
	}
	if (kk < k) {
		size_t r = k - kk;
		for (int i = 0; i < mr; i++) {
			uint8_t t[8] = { 0 };
			memcpy(t, a + (size_t)i * lda + kk, r);
			av[i] = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(t)));
		}
		MAC(0);
		if (r > 1) MAC(1);
		if (r > 2) MAC(2);
		if (r > 3) MAC(3);
		if (r > 4) MAC(4);
		if (r > 5) MAC(5);
		if (r > 6) MAC(6);
	}
	for (int i = 0; i < mr; i++)
		hwk_qs8_neon_store_row(ep, (size_t)i, acc[i], nr, c, ldc);
}

static void gemm(size_t mr, size_t nr, size_t k, const uint8_t *a, size_t lda, const void *w,
		 void *c, size_t ldc, const struct hwk_qs8_epilogue *ep)
{
	switch (mr) {
	case 1: tile(1, nr, k, a, lda, w, c, ldc, ep); break;
	case 2: tile(2, nr, k, a, lda, w, c, ldc, ep); break;
	case 3: tile(3, nr, k, a, lda, w, c, ldc, ep); break;
	default: tile(4, nr, k, a, lda, w, c, ldc, ep); break;
	}
}

const struct hwk_qs8_gemm_impl hwk_qs8_gemm_ukernel_4x16__neon = { MR, NR, 1, 1, gemm };
