/* QuantizeLinear: y = saturate(rne(x / y_scale) + y_zero_point) to u8 or s8,
 * per tensor (opset 10) or per axis (opset 13); x float or int32. */
#include "runtime/ops/qutil.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_qaxis_check(n, g, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *zp = n->n_in > 2 ? in[2] : NULL;
	if (x->dtype != HWRT_FLOAT && x->dtype != HWRT_INT32)
		return rt_fail(e, "x must be float or int32, not %s", hwrt_dtype_name(x->dtype));
	if (zp && !rt_q_is8(zp->dtype))
		return rt_fail(e, "y_zero_point must be uint8 or int8, not %s",
			       hwrt_dtype_name(zp->dtype));
	struct rt_qaxis a;
	if (rt_qaxis_layout(n, x, in[1], zp, "y", &a, e) < 0)
		return -1;
	rt_set_shape(out[0], zp ? zp->dtype : HWRT_UINT8, x->rank, x->dims);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0], *zp = n->n_in > 2 ? in[2] : NULL;
	struct rt_qaxis a;
	if (rt_qaxis_layout(n, t, in[1], zp, "y", &a, e) < 0)
		return -1;
	return rt_qaxis_quantize(&a, t, in[1], zp, out[0], x->par, e);
}

RT_OP_DEFINE(QuantizeLinear) = { .name = "QuantizeLinear", .since = 10, .check = check,
				 .infer = infer, .run = run };
