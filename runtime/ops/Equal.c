/* Equal: a == b as bool, broadcasting (opset 7+; bool, integers, floats). */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_CMP(eq, a == b)

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_NUMERIC(eq), [HWRT_BOOL] = eq_u8 }, .bool_out = true };

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

RT_OP_DEFINE(Equal) = { .name = "Equal", .since = 7, .flags = 0, .check = check,
		.infer = infer, .run = run };
