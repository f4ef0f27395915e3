/* hwk_f32_vunary: checks, defaults, the chunked parallel split, and one
 * registered op per element-wise function (variants best first). */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "kernels/core/registry.h"
#include "kernels/f32-vunary/vunary.h"

#if defined(__x86_64__)
#define VU_VARIANTS(OP)                                                               \
	{ HWK_ISA_AVX512F, "x64-avx512f", &hwk_f32_vunary_ukernels__avx512f.fn[OP] },  \
	{ HWK_ISA_AVX2, "x32-avx2", &hwk_f32_vunary_ukernels__avx2.fn[OP] },          \
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_vunary_ukernels__scalar.fn[OP] }
#elif defined(__aarch64__)
#define VU_VARIANTS(OP)                                                               \
	{ HWK_ISA_SVE, "x4v-sve", &hwk_f32_vunary_ukernels__sve.fn[OP] },              \
	{ HWK_ISA_NEON, "x16-neon", &hwk_f32_vunary_ukernels__neon.fn[OP] },            \
	{ HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_vunary_ukernels__scalar.fn[OP] }
#else
#define VU_VARIANTS(OP) { HWK_ISA_SCALAR, "x1-scalar", &hwk_f32_vunary_ukernels__scalar.fn[OP] }
#endif

#define VU_OP(sym, name, OP)                                                          \
	static const struct hwk_variant sym##_variants[] = { VU_VARIANTS(OP) };       \
	struct hwk_op hwk_op_##sym = { name, sym##_variants,                          \
				       sizeof(sym##_variants) / sizeof(sym##_variants[0]), NULL };

VU_OP(f32_relu, "f32-relu", HWK_VUNARY_RELU)
VU_OP(f32_leakyrelu, "f32-leakyrelu", HWK_VUNARY_LEAKY_RELU)
VU_OP(f32_gelu, "f32-gelu", HWK_VUNARY_GELU)
VU_OP(f32_gelu_tanh, "f32-gelu-tanh", HWK_VUNARY_GELU_TANH)
VU_OP(f32_silu, "f32-silu", HWK_VUNARY_SILU)
VU_OP(f32_sigmoid, "f32-sigmoid", HWK_VUNARY_SIGMOID)
VU_OP(f32_tanh, "f32-tanh", HWK_VUNARY_TANH)
VU_OP(f32_hardswish, "f32-hardswish", HWK_VUNARY_HARDSWISH)
VU_OP(f32_hardsigmoid, "f32-hardsigmoid", HWK_VUNARY_HARDSIGMOID)
VU_OP(f32_clip, "f32-clip", HWK_VUNARY_CLIP)
VU_OP(f32_exp, "f32-exp", HWK_VUNARY_EXP)

static struct hwk_op *const ops[HWK_VUNARY_COUNT] = {
	[HWK_VUNARY_RELU] = &hwk_op_f32_relu,
	[HWK_VUNARY_LEAKY_RELU] = &hwk_op_f32_leakyrelu,
	[HWK_VUNARY_GELU] = &hwk_op_f32_gelu,
	[HWK_VUNARY_GELU_TANH] = &hwk_op_f32_gelu_tanh,
	[HWK_VUNARY_SILU] = &hwk_op_f32_silu,
	[HWK_VUNARY_SIGMOID] = &hwk_op_f32_sigmoid,
	[HWK_VUNARY_TANH] = &hwk_op_f32_tanh,
	[HWK_VUNARY_HARDSWISH] = &hwk_op_f32_hardswish,
	[HWK_VUNARY_HARDSIGMOID] = &hwk_op_f32_hardsigmoid,
	[HWK_VUNARY_CLIP] = &hwk_op_f32_clip,
	[HWK_VUNARY_EXP] = &hwk_op_f32_exp,
};

/* Chunks of 16K floats (64 KiB): a multiple of every vector length, big
 * enough that claiming a task costs nothing, small enough to balance. */
#define VU_CHUNK 16384

struct vu_job {
	hwk_f32_vunary_fn fn;
	const struct hwk_vunary_params *p;
	size_t n;
	const float *x;
	float *y;
};

static void vu_task(void *ctx, size_t t)
{
	const struct vu_job *j = ctx;
	size_t lo = t * VU_CHUNK, len = j->n - lo < VU_CHUNK ? j->n - lo : VU_CHUNK;
	j->fn(len, j->x + lo, j->y + lo, j->p);
}

int hwk_f32_vunary(enum hwk_vunary_op op, const struct hwk_vunary_params *params, size_t n,
		   const float *x, float *y, const struct hwk_parallel *par)
{
	if ((unsigned)op >= HWK_VUNARY_COUNT)
		return -EINVAL;
	struct hwk_vunary_params p = { 0.01f, 0.0f, -INFINITY, INFINITY };
	if (op == HWK_VUNARY_HARDSIGMOID)
		p.alpha = 0.2f, p.beta = 0.5f;
	if (params) {
		if (op == HWK_VUNARY_LEAKY_RELU && !isfinite(params->alpha))
			return -EINVAL;
		if (op == HWK_VUNARY_HARDSIGMOID && !(isfinite(params->alpha) && isfinite(params->beta)))
			return -EINVAL;
		if (op == HWK_VUNARY_CLIP && (isnan(params->min) || isnan(params->max)))
			return -EINVAL;
		p = *params;
	}
	if (n == 0)
		return 0;
	if (!x || !y || n > SIZE_MAX / sizeof(float))
		return -EINVAL;
	uintptr_t xa = (uintptr_t)x, ya = (uintptr_t)y, bytes = n * sizeof(float);
	if (x != y && xa < ya + bytes && ya < xa + bytes)
		return -EINVAL;
	const hwk_f32_vunary_fn *fn = hwk_op_variant(ops[op])->impl;
	if (n <= VU_CHUNK || hwk_parallel_threads(par) <= 1) {
		(*fn)(n, x, y, &p);
		return 0;
	}
	struct vu_job job = { *fn, &p, n, x, y };
	hwk_parallel_for(par, (n + VU_CHUNK - 1) / VU_CHUNK, vu_task, &job);
	return 0;
}
