/* qs8-gemm: u8 x s8 -> s32 GEMM with zero points and epilogues. Internal
 * to libhwk: what the driver hands the microkernels.
 *
 * A microkernel computes an mr x nr tile (mr <= MR, nr <= NR) of
 * acc = sum_k a[m][k] * b[k][n] over the whole K (never split, so any task
 * split gives the same bits), in 32-bit two's complement arithmetic
 * (exact modulo 2^32), then applies the epilogue:
 *   v = acc - azp[m] * colsum[n] - bzp[n] * arsum[m]      (mod 2^32)
 * which is sum_k (a - azp)(b - bzp), and stores v (S32), or
 *   y = fmaf((float)v, ascale[m] * bscale[n], bias[n])   (F32), or
 *   q = saturate(rne(y / cscale) + czp) to [0, 255]        (U8).
 * Packed B: panels of NR columns; in a panel, K (padded with zeros to a
 * multiple of KR) in groups of KR: element (k, n) of the panel sits at
 * ((k / KR) * NR + n) * KR + k % KR, each 1 byte (s8) or 2 (s16). */
#ifndef HWK_QS8_GEMM_H
#define HWK_QS8_GEMM_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/hwk.h"

struct hwk_qs8_epilogue {
	enum hwk_qs8_output out;
	const int32_t *colsum; /* NR values for this panel: sum_k b[k][n] */
	const int32_t *bzp;    /* NR values, or NULL when B has no zero point */
	const int32_t *azp;    /* mr values */
	const int32_t *arsum;  /* mr values: sum_k (a - azp); read only with bzp */
	const float *ascale;   /* mr values (F32, U8) */
	const float *bscale;   /* NR values (F32, U8) */
	const float *bias;     /* NR values (F32, U8), zeros when none */
	float cscale;          /* U8 */
	int32_t czp;           /* U8 */
};

typedef void (*hwk_qs8_gemm_fn)(size_t mr, size_t nr, size_t k, const uint8_t *a, size_t lda,
				const void *w, void *c, size_t ldc,
				const struct hwk_qs8_epilogue *ep);

struct hwk_qs8_gemm_impl {
	unsigned mr, nr, kr; /* tile rows, tile columns, k per packed group */
	unsigned b_bytes;    /* packed B element: 1 (s8) or 2 (s16) */
	hwk_qs8_gemm_fn gemm;
};

/* The epilogue for one element, in the scalar order every variant follows. */
static inline int32_t hwk_qs8_fix(uint32_t acc, int32_t colsum, int32_t azp, int32_t bzp,
				  int32_t arsum)
{
	return (int32_t)(acc - (uint32_t)azp * (uint32_t)colsum - (uint32_t)bzp * (uint32_t)arsum);
}

static inline float hwk_qs8_dequant(int32_t v, float ascale, float bscale, float bias)
{
	return fmaf((float)v, ascale * bscale, bias);
}

static inline uint8_t hwk_qs8_requant(float y, float cscale, int32_t czp)
{
	float t = y / cscale;
	float lo = (float)(0 - czp), hi = (float)(255 - czp);
	if (t != t)
		t = 0.0f;
	t = t < lo ? lo : t;
	t = t > hi ? hi : t;
	return (uint8_t)((int32_t)nearbyintf(t) + czp);
}

/* Stores one element of the tile with the epilogue; for scalar code and
 * vector tails. */
static inline void hwk_qs8_store1(const struct hwk_qs8_epilogue *ep, size_t i, size_t j,
				  uint32_t acc, void *c, size_t ldc)
{
	int32_t v = hwk_qs8_fix(acc, ep->colsum[j], ep->azp[i], ep->bzp ? ep->bzp[j] : 0,
				ep->bzp ? ep->arsum[i] : 0);
	if (ep->out == HWK_QS8_S32) {
		((int32_t *)c)[i * ldc + j] = v;
		return;
	}
	float y = hwk_qs8_dequant(v, ep->ascale[i], ep->bscale[j], ep->bias[j]);
	if (ep->out == HWK_QS8_F32)
		((float *)c)[i * ldc + j] = y;
	else
		((uint8_t *)c)[i * ldc + j] = hwk_qs8_requant(y, ep->cscale, ep->czp);
}

extern const struct hwk_qs8_gemm_impl hwk_qs8_gemm_ukernel_4x8__scalar;
#if defined(__x86_64__)
extern const struct hwk_qs8_gemm_impl hwk_qs8_gemm_ukernel_4x16c2__avx2;
extern const struct hwk_qs8_gemm_impl hwk_qs8_gemm_ukernel_6x64c4__avx512vnni;
#endif
#if defined(__aarch64__)
extern const struct hwk_qs8_gemm_impl hwk_qs8_gemm_ukernel_4x16__neon;
extern const struct hwk_qs8_gemm_impl hwk_qs8_gemm_ukernel_4x16c4__neondot;
#endif

#endif
