/* AveragePool: the mean over N-D windows, with count_include_pad (opset
 * 7+) and ceil_mode (opset 10+); float16/double go through float32. */
#include "runtime/ops/pool.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_pool_check(n, g, false, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_pool_infer(n, in, out, false, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_pool_run(n, in, out, x, false, e);
}

RT_OP_DEFINE(AveragePool) = { .name = "AveragePool", .since = 7, .check = check,
			      .infer = infer, .run = run };
