/* DequantizeLinear: y = (x - x_zero_point) * x_scale in float, x u8, s8 or
 * int32, per tensor (opset 10) or per axis (opset 13). */
#include "runtime/ops/qutil.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_qaxis_check(n, g, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *zp = n->n_in > 2 ? in[2] : NULL;
	if (!rt_q_is8(x->dtype) && x->dtype != HWRT_INT32)
		return rt_fail(e, "x must be uint8, int8 or int32, not %s",
			       hwrt_dtype_name(x->dtype));
	if (zp && zp->dtype != x->dtype)
		return rt_fail(e, "x_zero_point is %s but x is %s", hwrt_dtype_name(zp->dtype),
			       hwrt_dtype_name(x->dtype));
	struct rt_qaxis a;
	if (rt_qaxis_layout(n, x, in[1], zp, "x", &a, e) < 0)
		return -1;
	rt_set_shape(out[0], HWRT_FLOAT, x->rank, x->dims);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0], *zp = n->n_in > 2 ? in[2] : NULL;
	struct rt_qaxis a;
	if (rt_qaxis_layout(n, t, in[1], zp, "x", &a, e) < 0)
		return -1;
	return rt_qaxis_dequantize(&a, t, in[1], zp, out[0], x->par, e);
}

RT_OP_DEFINE(DequantizeLinear) = { .name = "DequantizeLinear", .since = 10, .check = check,
				   .infer = infer, .run = run };
