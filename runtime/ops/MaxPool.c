/* MaxPool: the maximum over N-D windows, with the optional Indices output
 * (opset 8+), storage_order, dilations and ceil_mode (opset 10+); int8 and
 * uint8 (opset 12) and float16/double go through float32. */
#include "runtime/ops/pool.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_pool_check(n, g, true, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_pool_infer(n, in, out, true, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_pool_run(n, in, out, x, true, e);
}

RT_OP_DEFINE(MaxPool) = { .name = "MaxPool", .since = 1, .check = check, .infer = infer,
			  .run = run };
