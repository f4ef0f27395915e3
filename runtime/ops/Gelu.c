/* Gelu (internal): x * Phi(x), the erf form, made by the optimizer from the
 * Div-Erf-Add-Mul-Mul pattern exporters emit; runs on libhwk's kernel. */
#include "runtime/op.h"
#include "runtime/tensor.h"

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	if (in[0]->dtype != HWRT_FLOAT)
		return rt_fail(e, "input must be float, not %s", hwrt_dtype_name(in[0]->dtype));
	rt_set_shape(out[0], HWRT_FLOAT, in[0]->rank, in[0]->dims);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	int64_t cnt = hwrt_tensor_count(in[0]);
	if (hwk_f32_vunary(HWK_VUNARY_GELU, NULL, (size_t)cnt, in[0]->data, out[0]->data, x->par))
		return rt_fail(e, "the GELU kernel refused its arguments");
	return 0;
}

RT_OP_DEFINE(Gelu) = { .name = "Gelu", .since = 1, .flags = RT_OP_INPLACE | RT_OP_INTERNAL,
		       .infer = infer, .run = run };
