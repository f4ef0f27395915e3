/* Mean: element-wise mean of 1 or more inputs, broadcasting (opset 8+): the
 * sum, then one multiplication by 1/n. */
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
	if (rc == 0 && n->n_in > 1)
		rt_scale(out[0], 1.0 / n->n_in);
	return rc;
}

RT_OP_DEFINE(Mean) = { .name = "Mean", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
