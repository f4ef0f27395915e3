/* GlobalMaxPool: the maximum over all spatial positions of each channel,
 * keeping them as size-1 dims (opset 1+). */
#include "runtime/ops/compute.h"
#include "runtime/ops/pool.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_global_pool_infer(in[0], out[0], e);
}

static int run_f32(const struct rt_node *n, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_global_pool_f32(HWK_POOL_MAX, in[0], out[0], x->par, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (in[0]->dtype == HWRT_FLOAT)
		return run_f32(n, in, out, x, e);
	return rt_run_as_f32(n, in, out, x, e, run_f32);
}

RT_OP_DEFINE(GlobalMaxPool) = { .name = "GlobalMaxPool", .since = 1, .check = check,
				  .infer = infer, .run = run };
