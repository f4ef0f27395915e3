/* bf16 x bf16 -> f32 GEMM microkernel contract (vdpbf16ps and peers), used
 * by the reduced-precision weight GEMM driver (kernels/rpw-gemm/gemm.c).
 * Not installed.
 *
 * Data is in bf16 pairs along k: a uint32_t holds (k even) in its low 16
 * bits and (k odd) in its high 16 bits; an odd K is padded with a zero. */
#ifndef HWK_BF16_GEMM_INTERNAL_H
#define HWK_BF16_GEMM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/f32-gemm/gemm.h"

/* C[i][j] for i < mr <= MR, j < nr <= NR, over kp pairs of k:
 *   A pair (i, p) at a[i*a_rs + p]            (A converted row by row)
 *   B pair (p, j) at b[p*2*NR + 2*j .. +1]    (packed panel, zero-padded
 *                                              to NR columns)
 *   C element (i, j) at c[i*ldc + j]; the epilogue as in f32-gemm. */
typedef void (*bf16_gemm_ukernel_fn)(size_t mr, size_t nr, size_t kp, const uint32_t *a,
				     size_t a_rs, const uint16_t *b, float *c, size_t ldc,
				     const struct f32_gemm_ep *ep);

/* Rounds rows x K floats of A (row r at A + r*lda) to bf16 pairs, row r at
 * dst + r*kp (kp = ceil(K/2) pairs, the pad zero). */
typedef void (*bf16_gemm_cvt_a_fn)(size_t rows, size_t K, const float *A, size_t lda,
				   uint32_t *dst, size_t kp);

/* One row of C (GEMV): C[0][j] for j < nr <= 2*NR, over kp pairs, from two
 * adjacent packed panels, the second at b + b_ps (read only when nr > NR).
 * Same bits as the ukernel's row (one chain per column, same epilogue). */
typedef void (*bf16_gemm_gemv_fn)(size_t nr, size_t kp, const uint32_t *a, const uint16_t *b,
				  size_t b_ps, float *c, const struct f32_gemm_ep *ep);

struct bf16_gemm_ukr {
	bf16_gemm_ukernel_fn ukernel;
	bf16_gemm_cvt_a_fn cvt_a;
	bf16_gemm_gemv_fn gemv; /* NULL: rows of one go through ukernel */
	unsigned mr, nr;
};

#if defined(__x86_64__)
extern const struct bf16_gemm_ukr hwk_bf16_gemm_ukr_12x32__avx512bf16;
void hwk_bf16_gemm_ukernel_1x64__avx512bf16(size_t nr, size_t kp, const uint32_t *a,
					    const uint16_t *b, size_t b_ps, float *c,
					    const struct f32_gemm_ep *ep);
#endif

#endif
