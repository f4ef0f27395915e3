/* qs8-gemm for NEON with the dot-product extension: up to 4 rows x 16
 * columns, K in groups of 4 (sdot by lane). sdot multiplies s8 by s8, so A
 * enters as a ^ 0x80 = a - 128 (s8) and the kernel adds back
 * 128 * colsum[n]: sum a*b = sum (a - 128)*b + 128 * sum b, all modulo 2^32
 * like the reference. */
#if !defined(__ARM_NEON) || !defined(__ARM_FEATURE_DOTPROD)
#error "4x16c4-neondot.c needs -march=armv8.2-a+dotprod"
#endif
#include <arm_neon.h>
#include <string.h>

#include "kernels/qs8-gemm/epilogue-neon.h"

#define MR 4
#define NR 16

#define DOT(g)                                                                   \
	do {                                                                     \
		int8x16_t b0 = vld1q_s8(w), b1 = vld1q_s8(w + 16);               \
		int8x16_t b2 = vld1q_s8(w + 32), b3 = vld1q_s8(w + 48);          \
		w += 64;                                                         \
		for (int i = 0; i < mr; i++) {                                   \
			acc[i][0] = vdotq_laneq_s32(acc[i][0], b0, av[i], g);    \
			acc[i][1] = vdotq_laneq_s32(acc[i][1], b1, av[i], g);    \
			acc[i][2] = vdotq_laneq_s32(acc[i][2], b2, av[i], g);    \
			acc[i][3] = vdotq_laneq_s32(acc[i][3], b3, av[i], g);    \
		}                                                                \
	} while (0)

static inline __attribute__((always_inline)) void
tile(const int mr, size_t nr, size_t k, const uint8_t *a, size_t lda, const int8_t *w, void *c,
     size_t ldc, const struct hwk_qs8_epilogue *ep)
{
	int32x4_t acc[MR][4];
	int8x16_t av[MR];
	const uint8x16_t flip = vdupq_n_u8(0x80);
	for (int i = 0; i < mr; i++)
		for (int j = 0; j < 4; j++)
			acc[i][j] = vdupq_n_s32(0);
	size_t kk = 0;
	for (; kk + 16 <= k; kk += 16) {
		for (int i = 0; i < mr; i++)
			av[i] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(a + (size_t)i * lda + kk), flip));
		DOT(0);
		DOT(1);
		DOT(2);
		DOT(3);
	}
	if (kk < k) {
		size_t r = k - kk;
		for (int i = 0; i < mr; i++) {
			uint8_t t[16] = { 0 };
			memcpy(t, a + (size_t)i * lda + kk, r);
			av[i] = vreinterpretq_s8_u8(veorq_u8(vld1q_u8(t), flip));
		}
		/* B is zero-padded to a multiple of 4 only: stop at the last group. */
		DOT(0);
		if (r > 4)
			DOT(1);
		if (r > 8)
			DOT(2);
		if (r > 12)
			DOT(3);
	}
	int32x4_t fix[4];
	for (int j = 0; j < 4; j++)
		fix[j] = vshlq_n_s32(vld1q_s32(ep->colsum + 4 * j), 7);
	for (int i = 0; i < mr; i++) {
		for (int j = 0; j < 4; j++)
			acc[i][j] = vaddq_s32(acc[i][j], fix[j]);
		hwk_qs8_neon_store_row(ep, (size_t)i, acc[i], nr, c, ldc);
	}
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

const struct hwk_qs8_gemm_impl hwk_qs8_gemm_ukernel_4x16c4__neondot = { MR, NR, 4, 1, gemm };
