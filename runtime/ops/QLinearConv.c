/* QLinearConv: quantized convolution, y = saturate(rne((conv(x - x_zp, w - w_zp)
 * + B) * x_scale * w_scale / y_scale) + y_zp), w's scale and zero point per
 * tensor or per output channel, u8 or s8 (opset 10). */
#include "runtime/ops/qutil.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (rt_check_io(n, 8, 9, 1, 1, e) < 0)
		return -1;
	return rt_qconv_check(n, e);
}

static int setup(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct rt_qconv *q, struct hwrt_tensor *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *xs = in[1], *xzp = in[2], *w = in[3], *ws = in[4],
				 *wzp = in[5], *ys = in[6], *yzp = in[7];
	const struct hwrt_tensor *bias = n->n_in > 8 ? in[8] : NULL;
	if (!rt_q_is8(x->dtype) || !rt_q_is8(w->dtype) || !rt_q_is8(yzp->dtype))
		return rt_fail(e, "x, w and y_zero_point must be uint8 or int8");
	if (xzp->dtype != x->dtype || wzp->dtype != w->dtype)
		return rt_fail(e, "each zero point must have its tensor's type");
	if (xs->dtype != HWRT_FLOAT || ws->dtype != HWRT_FLOAT || ys->dtype != HWRT_FLOAT)
		return rt_fail(e, "scales must be float");
	if (rt_qconv_shape(n, x, w, q, out, yzp->dtype, e) < 0 ||
	    rt_q_scalar_input("x_scale", xs, e) < 0 || rt_q_scalar_input("x_zero_point", xzp, e) < 0 ||
	    rt_q_scalar_input("y_scale", ys, e) < 0 || rt_q_scalar_input("y_zero_point", yzp, e) < 0 ||
	    rt_qconv_wparam("w_scale", ws, q->m, e) < 0 ||
	    rt_qconv_wparam("w_zero_point", wzp, q->m, e) < 0)
		return -1;
	if (bias && (bias->dtype != HWRT_INT32 || bias->rank != 1 || bias->dims[0] != q->m))
		return rt_fail(e, "B must be a 1-D int32 tensor of %lld (one per output channel)",
			       (long long)q->m);
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
	return rt_qconv_prepare(n, g, 3, 5, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	struct rt_qconv q;
	if (setup(n, in, &q, NULL, e) < 0)
		return -1;
	int64_t count = hwrt_tensor_count(out[0]);
	if (!count)
		return 0;
	struct rt_qw tmp = { 0 }, *w = n->state;
	if (!w) {
		if (rt_qconv_pack(&q, in[3], in[5], &tmp, e) < 0)
			return -1;
		w = &tmp;
	}
	int32_t *acc = rt_alloc((size_t)count * sizeof(int32_t));
	if (!acc) {
		rt_qw_free(&tmp);
		return rt_fail(e, "out of memory");
	}
	int rc = rt_qconv_s32(&q, in[0], in[2], w, acc, x->par, e);
	rt_qw_free(&tmp);
	if (rc < 0) {
		rt_free(acc);
		return -1;
	}
	/* The bias is on the accumulator's scale: add it exactly, then
	 * requantize as libhwk does (one f32 scale product, times the sum,
	 * QuantizeLinear's rounding). */
	const struct hwrt_tensor *bias = n->n_in > 8 ? in[8] : NULL;
	float xs = *(const float *)in[1]->data, ys = *(const float *)in[6]->data;
	const float *ws = in[4]->data;
	bool per = hwrt_tensor_count(in[4]) > 1;
	int32_t yz = rt_q_int_at(in[7], 0);
	enum hwrt_dtype dt = out[0]->dtype;
	for (int64_t b = 0; b < q.nb; b++)
		for (int64_t c = 0; c < q.m; c++) {
			float s = xs * ws[per ? c : 0];
			int32_t bv = bias ? ((const int32_t *)bias->data)[c] : 0;
			int64_t base = (b * q.m + c) * q.p_out;
			for (int64_t p = 0; p < q.p_out; p++) {
				/* wraps like the int32 accumulator ONNX allows to */
				int32_t a = (int32_t)((uint32_t)acc[base + p] + (uint32_t)bv);
				int32_t v = rt_q_round_sat((float)a * s / ys, yz, dt);
				if (dt == HWRT_INT8)
					((int8_t *)out[0]->data)[base + p] = (int8_t)v;
				else
					((uint8_t *)out[0]->data)[base + p] = (uint8_t)v;
			}
		}
	rt_free(acc);
	return 0;
}

RT_OP_DEFINE(QLinearConv) = { .name = "QLinearConv", .since = 10, .check = check,
			      .infer = infer, .prepare = prepare, .run = run,
			      .release = rt_qw_release };
