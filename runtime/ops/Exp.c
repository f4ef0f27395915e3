/* Exp: e^x (opset 6+); float through libhwk's vector exp. */
#include "runtime/ops/eltwise.h"

static void exp_f32(const void *x, void *y, int64_t n, const struct rt_node *node)
{
	const struct hwk_vunary_params pr = { 0 };
	hwk_f32_vunary(HWK_VUNARY_EXP, &pr, (size_t)n, x, y, NULL);
}
RT_UN_KERNEL(exp_f64, double, exp(x))

static const struct rt_unary kernels = { { [HWRT_FLOAT] = exp_f32, [HWRT_DOUBLE] = exp_f64 } };

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_unary_infer(&kernels, in, out, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_unary_run(&kernels, n, in[0], out[0], x->par, e);
}

RT_OP_DEFINE(Exp) = { .name = "Exp", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
