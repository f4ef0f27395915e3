/* SVE microkernel, vector-length agnostic: 8 rows x 2 vectors (2*svcntw()
 * columns, so B panels are as wide as two vectors of the machine running
 * it), 16 accumulators. Row and column tails use predicates; rows past mr
 * recompute the last valid row and are not stored, so A is never read out
 * of bounds. */
#if !defined(__ARM_FEATURE_SVE)
#error "8x2v-sve.c needs SVE (-march=armv8.2-a+sve)"
#endif

#include <arm_sve.h>

#include "kernels/f32-gemm/gemm.h"

typedef svfloat32_t vf;
#define PT svptrue_b32()
#include "kernels/vmath/sve.h"
#include "kernels/vmath/vmath.h"

#define MR 8

static inline vf finish(vf r, const float *c, svbool_t pg, vf bias, const struct f32_gemm_ep *ep)
{
	if (ep->alpha != 1.0f)
		r = svmul_n_f32_x(PT, r, ep->alpha);
	if (ep->beta != 0.0f)
		r = svmla_n_f32_x(PT, r, svld1_f32(pg, c), ep->beta);
	if (ep->bias)
		r = svadd_f32_x(PT, r, bias);
	if (ep->act || ep->clip)
		r = hv_gemm_act(r, ep->act, ep->clip, ep->lo, ep->hi);
	return r;
}

void hwk_f32_gemm_ukernel_8x2v__sve(size_t mr, size_t nr, size_t kc, const float *a, size_t a_rs,
				    size_t a_cs, const float *b, size_t b_ks, float *c, size_t ldc,
				    const struct f32_gemm_ep *ep);
void hwk_f32_gemm_ukernel_8x2v__sve(size_t mr, size_t nr, size_t kc, const float *a, size_t a_rs,
				    size_t a_cs, const float *b, size_t b_ks, float *c, size_t ldc,
				    const struct f32_gemm_ep *ep)
{
	const size_t vl = svcntw();
	/* Row i reads row min(i, mr-1). */
#define ROW_OFF(i) const size_t o##i = ((i) < mr ? (i) : mr - 1) * a_rs;
	ROW_OFF(0) ROW_OFF(1) ROW_OFF(2) ROW_OFF(3) ROW_OFF(4) ROW_OFF(5) ROW_OFF(6) ROW_OFF(7)
#define ACC(i) vf c##i##0 = svdup_n_f32(0.0f), c##i##1 = svdup_n_f32(0.0f);
	ACC(0) ACC(1) ACC(2) ACC(3) ACC(4) ACC(5) ACC(6) ACC(7)
	for (size_t k = 0; k < kc; k++) {
		vf b0 = svld1_f32(PT, b), b1 = svld1_f32(PT, b + vl);
#define STEP(i)                                                 \
	{                                                       \
		float ai = a[o##i];                             \
		c##i##0 = svmla_n_f32_x(PT, c##i##0, b0, ai);   \
		c##i##1 = svmla_n_f32_x(PT, c##i##1, b1, ai);   \
	}
		STEP(0) STEP(1) STEP(2) STEP(3) STEP(4) STEP(5) STEP(6) STEP(7)
		a += a_cs;
		b += b_ks;
	}
	svbool_t pg0 = svwhilelt_b32((uint64_t)0, (uint64_t)nr);
	svbool_t pg1 = svwhilelt_b32((uint64_t)vl, (uint64_t)nr);
	vf bias0 = svdup_n_f32(0.0f), bias1 = bias0;
	if (ep->bias) {
		bias0 = svld1_f32(pg0, ep->bias);
		bias1 = svld1_f32(pg1, ep->bias + vl);
	}
#define OUT(i)                                                                          \
	if ((i) < mr) {                                                                 \
		float *ci = c + (i) * ldc;                                              \
		svst1_f32(pg0, ci, finish(c##i##0, ci, pg0, bias0, ep));               \
		svst1_f32(pg1, ci + vl, finish(c##i##1, ci + vl, pg1, bias1, ep));     \
	}
	OUT(0) OUT(1) OUT(2) OUT(3) OUT(4) OUT(5) OUT(6) OUT(7)
}

static unsigned nr_sve(void)
{
	return (unsigned)(2 * svcntw());
}

const struct f32_gemm_ukr hwk_f32_gemm_ukr_8x2v__sve = {
	.ukernel = hwk_f32_gemm_ukernel_8x2v__sve,
	.pack = NULL,
	.mr = MR,
	.nr = 0,
	.nr_fn = nr_sve,
	.direct_a_max_m = 32,
	.direct_b_max_m = 32,
};
