/* ReduceMin: the minimum over the given axes (all by default), keepdims;
 * NaN propagates and an empty set gives +inf. */
#include "runtime/ops/reduce.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_reduce_check(n, g, false, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_reduce_infer(n, RT_RED_MIN, in, out, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_reduce_run(n, RT_RED_MIN, in, out, x, e);
}

RT_OP_DEFINE(ReduceMin) = { .name = "ReduceMin", .since = 1, .check = check, .infer = infer, .run = run };
