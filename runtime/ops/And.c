/* And: logical and of bool tensors, broadcasting (opset 7+). */
#include "runtime/ops/eltwise.h"

RT_BIN_KERNEL(and_b, uint8_t, uint8_t, a && b)

static const struct rt_binary kernels = { .k = { [HWRT_BOOL] = and_b }, .bool_out = true };

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 2, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_binary_infer(&kernels, in, out, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_binary_run(&kernels, in[0], in[1], out[0], x->par, e);
}

RT_OP_DEFINE(And) = { .name = "And", .since = 7, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
