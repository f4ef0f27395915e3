/* MatMulInteger: int32 (A - a_zero_point) x (B - b_zero_point) as
 * numpy.matmul, u8 or s8 operands, zero points per tensor, per row of A,
 * per column of B (opset 10). */
#include "runtime/ops/qutil.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 4, 1, 1, e);
}

static int setup(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct rt_qmm *q, struct hwrt_tensor *out, struct rt_err *e)
{
	const struct hwrt_tensor *a = in[0], *b = in[1];
	const struct hwrt_tensor *azp = n->n_in > 2 ? in[2] : NULL, *bzp = n->n_in > 3 ? in[3] : NULL;
	if (!rt_q_is8(a->dtype) || !rt_q_is8(b->dtype))
		return rt_fail(e, "A and B must be uint8 or int8, not %s and %s",
			       hwrt_dtype_name(a->dtype), hwrt_dtype_name(b->dtype));
	if (azp && azp->dtype != a->dtype)
		return rt_fail(e, "a_zero_point is %s but A is %s", hwrt_dtype_name(azp->dtype),
			       hwrt_dtype_name(a->dtype));
	if (bzp && bzp->dtype != b->dtype)
		return rt_fail(e, "b_zero_point is %s but B is %s", hwrt_dtype_name(bzp->dtype),
			       hwrt_dtype_name(b->dtype));
	if (rt_qmm_shape(a, b, q, out, HWRT_INT32, e) < 0 ||
	    rt_qmm_param("a_zero_point", azp, a, q, true, &q->azp_count, &q->azp_stride, e) < 0 ||
	    rt_qmm_param("b_zero_point", bzp, b, q, false, &q->bzp_count, &q->bzp_stride, e) < 0)
		return -1;
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	struct rt_qmm q;
	return setup(n, in, &q, out[0], e);
}

static int prepare(struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_qmm_prepare(n, g, 1, 3, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	struct rt_qmm q;
	if (setup(n, in, &q, NULL, e) < 0)
		return -1;
	if (!hwrt_tensor_count(out[0]))
		return 0;
	struct rt_qw tmp = { 0 }, *w = n->state;
	if (!w) {
		if (rt_qmm_pack(&q, in[1], n->n_in > 3 ? in[3] : NULL, &tmp, e) < 0)
			return -1;
		w = &tmp;
	}
	int rc = rt_qmm_s32(&q, in[0], n->n_in > 2 ? in[2] : NULL, w, out[0]->data, x->par, e);
	rt_qw_free(&tmp);
	return rc;
}

RT_OP_DEFINE(MatMulInteger) = { .name = "MatMulInteger", .since = 10, .check = check,
				.infer = infer, .prepare = prepare, .run = run,
				.release = rt_qw_release };
