/* Softmax: y = exp(x - max) / sum(exp(x - max)) along axis; before opset 13 over
 * the input coerced to 2-D at axis (default 1), from 13 along one axis
 * (default -1). */
#include "runtime/ops/reduce.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_softmax_check(n, g, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_softmax_infer(n, in, out, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_softmax_run(n, false, in, out, x, e);
}

RT_OP_DEFINE(Softmax) = { .name = "Softmax", .since = 1, .check = check, .infer = infer, .run = run };
