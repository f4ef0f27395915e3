/* int4 GEMM internals: the microkernel contract between the driver and the
 * per-ISA files. */
#ifndef HWK_F32_QB4_GEMM_H
#define HWK_F32_QB4_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/hwk.h"

/* y[i][j] = sum over kb blocks of x[i] . w[j], for i < mr, j < nr:
 *   x row i at x + i*ldx (kb*32 floats); xsum[i*kb + b] = sum of block b
 *   of x row i (the min / zero-point term uses it; NULL unless the
 *   ukernel asks for it);
 *   weight row j: q + j*ldq bytes, scale/min + j*lds floats (min NULL:
 *   symmetric, w = (q-8)*scale);
 *   y written (not accumulated) at y + i*ldy + j. */
typedef void (*qb4_ukernel_fn)(size_t mr, size_t nr, size_t kb, const float *x, size_t ldx,
			       const float *xsum, const uint8_t *q, size_t ldq, const float *scale,
			       const float *min, size_t lds, float *y, size_t ldy);

struct qb4_ukr {
	qb4_ukernel_fn ukernel;
	unsigned mr, nr; /* the largest tile it takes in one call */
	int xsum;        /* reads xsum (else it gets NULL) */
};

#define QB4_DECL(tile, isa) \
	void hwk_f32_qb4_gemm_ukernel_##tile##__##isa(size_t, size_t, size_t, const float *, size_t, \
						      const float *, const uint8_t *, size_t,        \
						      const float *, const float *, size_t, float *, \
						      size_t);

QB4_DECL(4x4, scalar)
#if defined(__x86_64__)
QB4_DECL(4x4, avx2)
QB4_DECL(4x4, avx512f)
#endif
#if defined(__aarch64__)
QB4_DECL(4x4, neon)
#endif

extern struct hwk_op hwk_op_f32_qb4_gemm;

#endif
