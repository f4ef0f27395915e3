/* Not: logical not of a bool tensor (opset 1+). */
#include "runtime/ops/eltwise.h"

RT_UN_KERNEL(not_b, uint8_t, !x)

static const struct rt_unary kernels = { { [HWRT_BOOL] = not_b } };

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

RT_OP_DEFINE(Not) = { .name = "Not", .since = 1, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
