/* hwk_f32_layernorm and hwk_f32_rmsnorm: checks, the row split, and the
 * registered ops (variants best first). */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "kernels/core/registry.h"
#include "kernels/f32-layernorm/layernorm.h"
#include "kernels/f32-rows/rows.h"

#if defined(__x86_64__)
#define LN_VARIANTS(F)                                                             \
	{ HWK_ISA_AVX512F, "x32-avx512f", &hwk_f32_layernorm_ukernels__avx512f.F }, \
	{ HWK_ISA_AVX2, "x16-avx2", &hwk_f32_layernorm_ukernels__avx2.F },         \
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_layernorm_ukernels__scalar.F }
#elif defined(__aarch64__)
#define LN_VARIANTS(F)                                                             \
	{ HWK_ISA_SVE, "x2v-sve", &hwk_f32_layernorm_ukernels__sve.F },             \
	{ HWK_ISA_NEON, "x8-neon", &hwk_f32_layernorm_ukernels__neon.F },           \
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_layernorm_ukernels__scalar.F }
#else
#define LN_VARIANTS(F) { HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_layernorm_ukernels__scalar.F }
#endif

static const struct hwk_variant layernorm_variants[] = { LN_VARIANTS(layernorm) };
static const struct hwk_variant rmsnorm_variants[] = { LN_VARIANTS(rmsnorm) };
struct hwk_op hwk_op_f32_layernorm = { "f32-layernorm", layernorm_variants,
				       sizeof(layernorm_variants) / sizeof(layernorm_variants[0]),
				       NULL };
struct hwk_op hwk_op_f32_rmsnorm = { "f32-rmsnorm", rmsnorm_variants,
				     sizeof(rmsnorm_variants) / sizeof(rmsnorm_variants[0]), NULL };

struct ln_job {
	hwk_f32_layernorm_fn ln;
	hwk_f32_rmsnorm_fn rms;
	size_t n, ldx, ldy;
	const float *x, *gamma, *beta;
	float eps;
	float *y, *mean, *rstd;
};

static void ln_rows(void *ctx, size_t r0, size_t r1)
{
	const struct ln_job *j = ctx;
	for (size_t r = r0; r < r1; r++)
		j->ln(j->n, j->x + r * j->ldx, j->gamma, j->beta, j->eps, j->y + r * j->ldy,
		      j->mean ? j->mean + r : NULL, j->rstd ? j->rstd + r : NULL);
}

static void rms_rows(void *ctx, size_t r0, size_t r1)
{
	const struct ln_job *j = ctx;
	for (size_t r = r0; r < r1; r++)
		j->rms(j->n, j->x + r * j->ldx, j->gamma, j->eps, j->y + r * j->ldy);
}

/* A per-row output (mean, inv_std_dev) must not overlap x or y. */
static bool disjoint(const float *a, size_t na, const float *b, size_t nb)
{
	uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
	return !a || !b || pa + na * sizeof(float) <= pb || pb + nb * sizeof(float) <= pa;
}

int hwk_f32_layernorm(size_t rows, size_t n, const float *x, size_t ldx, const float *gamma,
		      const float *beta, float epsilon, float *y, size_t ldy, float *mean,
		      float *inv_std_dev, const struct hwk_parallel *par)
{
	if (!(epsilon >= 0) || !isfinite(epsilon))
		return -EINVAL;
	int rc = hwk_rows_check(rows, n, x, ldx, y, ldy);
	if (rc)
		return rc < 0 ? rc : 0;
	size_t ex = (rows - 1) * ldx + n, ey = (rows - 1) * ldy + n;
	if (!disjoint(mean, rows, x, ex) || !disjoint(mean, rows, y, ey) ||
	    !disjoint(inv_std_dev, rows, x, ex) || !disjoint(inv_std_dev, rows, y, ey) ||
	    !disjoint(mean, rows, inv_std_dev, rows))
		return -EINVAL;
	const hwk_f32_layernorm_fn *fn = hwk_op_variant(&hwk_op_f32_layernorm)->impl;
	struct ln_job job = { *fn, NULL, n, ldx, ldy, x, gamma, beta, epsilon, y, mean, inv_std_dev };
	hwk_rows_run(rows, n, par, ln_rows, &job);
	return 0;
}

int hwk_f32_rmsnorm(size_t rows, size_t n, const float *x, size_t ldx, const float *gamma,
		    float epsilon, float *y, size_t ldy, const struct hwk_parallel *par)
{
	if (!(epsilon >= 0) || !isfinite(epsilon))
		return -EINVAL;
	int rc = hwk_rows_check(rows, n, x, ldx, y, ldy);
	if (rc)
		return rc < 0 ? rc : 0;
	const hwk_f32_rmsnorm_fn *fn = hwk_op_variant(&hwk_op_f32_rmsnorm)->impl;
	struct ln_job job = { NULL, *fn, n, ldx, ldy, x, gamma, NULL, epsilon, y, NULL, NULL };
	hwk_rows_run(rows, n, par, rms_rows, &job);
	return 0;
}
