/* GlobalMaxPool: the maximum over all spatial positions of each channel,
 * keeping them as size-1 dims (opset 1+). */
#include "runtime/ops/compute.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	if (!rt_compute_float_type(x->dtype))
		return rt_fail(e, "type %s is not supported (float, float16, double)",
			       hwrt_dtype_name(x->dtype));
	if (x->rank < 3)
		return rt_fail(e, "X must have rank >= 3, has %d", x->rank);
	int64_t dims[HWRT_MAX_RANK];
	for (int i = 0; i < x->rank; i++)
		dims[i] = i < 2 ? x->dims[i] : 1;
	rt_set_shape(out[0], x->dtype, x->rank, dims);
	return 0;
}

static int run_f32(const struct rt_node *n, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0];
	size_t planes = (size_t)(t->dims[0] * t->dims[1]), hw = 1;
	for (int i = 2; i < t->rank; i++)
		hw *= (size_t)t->dims[i];
	int rc = hwk_f32_global_pool(HWK_POOL_MAX, planes, hw, t->data, out[0]->data, x->par);
	return rc < 0 ? rt_hwk_fail(e, rc, "pooling") : 0;
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
