/* hwk_f32_batchnorm_fold and hwk_f32_batchnorm: checks, the split into
 * fixed chunks of planes, and the registered op (variants best first). */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "kernels/core/registry.h"
#include "kernels/f32-batchnorm/batchnorm.h"

#if defined(__x86_64__)
static const struct hwk_variant variants[] = {
	{ HWK_ISA_AVX512F, "x32-avx512f", &hwk_f32_batchnorm_ukernel__avx512f },
	{ HWK_ISA_AVX2, "x16-avx2", &hwk_f32_batchnorm_ukernel__avx2 },
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_batchnorm_ukernel__scalar },
};
#elif defined(__aarch64__)
static const struct hwk_variant variants[] = {
	{ HWK_ISA_SVE, "x2v-sve", &hwk_f32_batchnorm_ukernel__sve },
	{ HWK_ISA_NEON, "x8-neon", &hwk_f32_batchnorm_ukernel__neon },
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_batchnorm_ukernel__scalar },
};
#else
static const struct hwk_variant variants[] = {
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_batchnorm_ukernel__scalar },
};
#endif
struct hwk_op hwk_op_f32_batchnorm = { "f32-batchnorm", variants,
				       sizeof(variants) / sizeof(variants[0]), NULL };

int hwk_f32_batchnorm_fold(size_t channels, const float *gamma, const float *beta,
			   const float *mean, const float *var, float epsilon, float *scale,
			   float *bias)
{
	if (!(epsilon >= 0) || !isfinite(epsilon))
		return -EINVAL;
	if (channels && (!mean || !var || !scale || !bias))
		return -EINVAL;
	for (size_t c = 0; c < channels; c++)
		if (!(var[c] >= 0) || !((double)var[c] + epsilon > 0))
			return -EINVAL;
	for (size_t c = 0; c < channels; c++) {
		double s = (gamma ? gamma[c] : 1.0) / sqrt((double)var[c] + epsilon);
		double b = (beta ? beta[c] : 0.0) - (double)mean[c] * s;
		scale[c] = (float)s;
		bias[c] = (float)b;
	}
	return 0;
}

/* Planes are cut into chunks of 16K floats; a task is one chunk. */
#define BN_CHUNK 16384

struct bn_job {
	hwk_f32_batchnorm_fn fn;
	size_t channels, spatial, per_plane;
	const float *x, *scale, *bias;
	float *y;
};

static void bn_task(void *ctx, size_t t)
{
	const struct bn_job *j = ctx;
	size_t plane = t / j->per_plane, lo = (t % j->per_plane) * BN_CHUNK;
	size_t len = j->spatial - lo < BN_CHUNK ? j->spatial - lo : BN_CHUNK;
	size_t c = plane % j->channels, off = plane * j->spatial + lo;
	j->fn(len, j->x + off, j->scale[c], j->bias[c], j->y + off);
}

int hwk_f32_batchnorm(size_t batch, size_t channels, size_t spatial, const float *x,
		      const float *scale, const float *bias, float *y,
		      const struct hwk_parallel *par)
{
	if (batch == 0 || channels == 0 || spatial == 0)
		return 0;
	if (!x || !y || !scale || !bias)
		return -EINVAL;
	if (channels > SIZE_MAX / batch || spatial > SIZE_MAX / sizeof(float) / (batch * channels))
		return -EINVAL;
	size_t planes = batch * channels, bytes = planes * spatial * sizeof(float);
	uintptr_t xa = (uintptr_t)x, ya = (uintptr_t)y;
	if (x != y && xa < ya + bytes && ya < xa + bytes)
		return -EINVAL;
	const hwk_f32_batchnorm_fn *fn = hwk_op_variant(&hwk_op_f32_batchnorm)->impl;
	struct bn_job job = { *fn, channels, spatial, (spatial + BN_CHUNK - 1) / BN_CHUNK,
			      x, scale, bias, y };
	if (hwk_parallel_threads(par) <= 1 || planes * spatial <= BN_CHUNK) {
		for (size_t p = 0; p < planes; p++)
			(*fn)(spatial, x + p * spatial, scale[p % channels], bias[p % channels],
			      y + p * spatial);
		return 0;
	}
	hwk_parallel_for(par, planes * job.per_plane, bn_task, &job);
	return 0;
}
