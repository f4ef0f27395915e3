/* hwk_f32_softmax and hwk_f32_logsoftmax: checks, the row split, and the
 * registered ops (variants best first). */
#include <stddef.h>

#include "kernels/core/registry.h"
#include "kernels/f32-rows/rows.h"
#include "kernels/f32-softmax/softmax.h"

#if defined(__x86_64__)
#define SM_VARIANTS(F)                                                             \
	{ HWK_ISA_AVX512F, "x32-avx512f", &hwk_f32_softmax_ukernels__avx512f.F },   \
	{ HWK_ISA_AVX2, "x16-avx2", &hwk_f32_softmax_ukernels__avx2.F },           \
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_softmax_ukernels__scalar.F }
#elif defined(__aarch64__)
#define SM_VARIANTS(F)                                                             \
	{ HWK_ISA_SVE, "x2v-sve", &hwk_f32_softmax_ukernels__sve.F },               \
	{ HWK_ISA_NEON, "x8-neon", &hwk_f32_softmax_ukernels__neon.F },             \
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_softmax_ukernels__scalar.F }
#else
#define SM_VARIANTS(F) { HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_softmax_ukernels__scalar.F }
#endif

static const struct hwk_variant softmax_variants[] = { SM_VARIANTS(softmax) };
static const struct hwk_variant logsoftmax_variants[] = { SM_VARIANTS(logsoftmax) };
struct hwk_op hwk_op_f32_softmax = { "f32-softmax", softmax_variants,
				     sizeof(softmax_variants) / sizeof(softmax_variants[0]), NULL };
struct hwk_op hwk_op_f32_logsoftmax = { "f32-logsoftmax", logsoftmax_variants,
					sizeof(logsoftmax_variants) / sizeof(logsoftmax_variants[0]),
					NULL };

struct sm_job {
	hwk_f32_softmax_fn fn;
	size_t n, ldx, ldy;
	const float *x;
	float *y;
};

static void sm_rows(void *ctx, size_t r0, size_t r1)
{
	const struct sm_job *j = ctx;
	for (size_t r = r0; r < r1; r++)
		j->fn(j->n, j->x + r * j->ldx, j->y + r * j->ldy);
}

static int run(struct hwk_op *op, size_t rows, size_t n, const float *x, size_t ldx, float *y,
	       size_t ldy, const struct hwk_parallel *par)
{
	int rc = hwk_rows_check(rows, n, x, ldx, y, ldy);
	if (rc)
		return rc < 0 ? rc : 0;
	const hwk_f32_softmax_fn *fn = hwk_op_variant(op)->impl;
	struct sm_job job = { *fn, n, ldx, ldy, x, y };
	hwk_rows_run(rows, n, par, sm_rows, &job);
	return 0;
}

int hwk_f32_softmax(size_t rows, size_t n, const float *x, size_t ldx, float *y, size_t ldy,
		    const struct hwk_parallel *par)
{
	return run(&hwk_op_f32_softmax, rows, n, x, ldx, y, ldy, par);
}

int hwk_f32_logsoftmax(size_t rows, size_t n, const float *x, size_t ldx, float *y, size_t ldy,
		       const struct hwk_parallel *par)
{
	return run(&hwk_op_f32_logsoftmax, rows, n, x, ldx, y, ldy, par);
}
