/* Where: cond ? X : Y with multidirectional broadcasting of the three
 * inputs (opset 9+), any fixed-size type. */
#include "runtime/ops/eltwise.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 3, 3, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_where_infer(in, out, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_where_run(in[0], in[1], in[2], out[0], x->par, e);
}

RT_OP_DEFINE(Where) = { .name = "Where", .since = 9, .check = check, .infer = infer,
			.run = run };
