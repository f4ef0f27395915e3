/* ConvInteger: int32 convolution of (x - x_zero_point) by (w - w_zero_point),
 * u8 or s8, N-D, pads, strides, dilations, group, auto_pad, w's zero point
 * per tensor or per output channel (opset 10). */
#include "runtime/ops/qutil.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (rt_check_io(n, 2, 4, 1, 1, e) < 0)
		return -1;
	return rt_qconv_check(n, e);
}

static int setup(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct rt_qconv *q, struct hwrt_tensor *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *w = in[1];
	const struct hwrt_tensor *xzp = n->n_in > 2 ? in[2] : NULL, *wzp = n->n_in > 3 ? in[3] : NULL;
	if (!rt_q_is8(x->dtype) || !rt_q_is8(w->dtype))
		return rt_fail(e, "x and w must be uint8 or int8, not %s and %s",
			       hwrt_dtype_name(x->dtype), hwrt_dtype_name(w->dtype));
	if ((xzp && xzp->dtype != x->dtype) || (wzp && wzp->dtype != w->dtype))
		return rt_fail(e, "each zero point must have its tensor's type");
	if (rt_qconv_shape(n, x, w, q, out, HWRT_INT32, e) < 0 ||
	    rt_q_scalar_input("x_zero_point", xzp, e) < 0 ||
	    rt_qconv_wparam("w_zero_point", wzp, q->m, e) < 0)
		return -1;
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	struct rt_qconv q;
	return setup(n, in, &q, out[0], e);
}

static int prepare(struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_qconv_prepare(n, g, 1, 3, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	struct rt_qconv q;
	if (setup(n, in, &q, NULL, e) < 0)
		return -1;
	if (!hwrt_tensor_count(out[0]))
		return 0;
	struct rt_qw tmp = { 0 }, *w = n->state;
	if (!w) {
		if (rt_qconv_pack(&q, in[1], n->n_in > 3 ? in[3] : NULL, &tmp, e) < 0)
			return -1;
		w = &tmp;
	}
	int rc = rt_qconv_s32(&q, in[0], n->n_in > 2 ? in[2] : NULL, w, out[0]->data, x->par, e);
	rt_qw_free(&tmp);
	return rc;
}

RT_OP_DEFINE(ConvInteger) = { .name = "ConvInteger", .since = 10, .check = check,
			      .infer = infer, .prepare = prepare, .run = run,
			      .release = rt_qw_release };
