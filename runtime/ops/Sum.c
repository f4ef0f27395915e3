/* Sum: element-wise sum of 1 or more inputs, broadcasting (opset 8+). */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_FLOAT(sum, a + b)

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_FLOAT(sum) } };

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1 << 20, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_variadic_infer(&kernels, n->n_in, in, out, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	int rc = rt_variadic_run(&kernels, n->n_in, in, out[0], x->par, e);
	return rc;
}

RT_OP_DEFINE(Sum) = { .name = "Sum", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
