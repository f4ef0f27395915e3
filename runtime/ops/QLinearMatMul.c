/* QLinearMatMul: quantized numpy.matmul, y = saturate(rne((a - a_zp)(b - b_zp)
 * * a_scale * b_scale / y_scale) + y_zp), a per tensor or row, b per tensor
 * or column, u8 or s8 everywhere (opset 10). */
#include <stdlib.h>

#include "runtime/ops/qutil.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 8, 8, 1, 1, e);
}

/* Parameter layouts: a's scale and zero point per tensor or per row, b's
 * per tensor or per column. */
struct layout {
	struct rt_qmm q;
	int64_t as_count, as_stride, bs_count, bs_stride;
};

static int setup(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct layout *l, struct hwrt_tensor *out, struct rt_err *e)
{
	const struct hwrt_tensor *a = in[0], *as = in[1], *azp = in[2], *b = in[3], *bs = in[4],
				 *bzp = in[5], *ys = in[6], *yzp = in[7];
	if (!rt_q_is8(a->dtype) || !rt_q_is8(b->dtype) || !rt_q_is8(yzp->dtype))
		return rt_fail(e, "a, b and y_zero_point must be uint8 or int8");
	if (azp->dtype != a->dtype || bzp->dtype != b->dtype)
		return rt_fail(e, "each zero point must have its matrix's type");
	if (as->dtype != HWRT_FLOAT || bs->dtype != HWRT_FLOAT || ys->dtype != HWRT_FLOAT)
		return rt_fail(e, "scales must be float");
	struct rt_qmm *q = &l->q;
	if (rt_qmm_shape(a, b, q, out, yzp->dtype, e) < 0 ||
	    rt_qmm_param("a_zero_point", azp, a, q, true, &q->azp_count, &q->azp_stride, e) < 0 ||
	    rt_qmm_param("b_zero_point", bzp, b, q, false, &q->bzp_count, &q->bzp_stride, e) < 0 ||
	    rt_qmm_param("a_scale", as, a, q, true, &l->as_count, &l->as_stride, e) < 0 ||
	    rt_qmm_param("b_scale", bs, b, q, false, &l->bs_count, &l->bs_stride, e) < 0 ||
	    rt_q_scalar_input("y_scale", ys, e) < 0 || rt_q_scalar_input("y_zero_point", yzp, e) < 0)
		return -1;
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	struct layout l;
	return setup(n, in, &l, out[0], e);
}

static int prepare(struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_qmm_prepare(n, g, 3, 5, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	struct layout l;
	if (setup(n, in, &l, NULL, e) < 0)
		return -1;
	const struct rt_qmm *q = &l.q;
	int64_t count = hwrt_tensor_count(out[0]);
	if (!count)
		return 0;
	struct rt_qw tmp = { 0 }, *w = n->state;
	if (!w) {
		if (rt_qmm_pack(q, in[3], in[5], &tmp, e) < 0)
			return -1;
		w = &tmp;
	}
	int32_t *acc = rt_alloc((size_t)count * sizeof(int32_t));
	if (!acc) {
		rt_qw_free(&tmp);
		return rt_fail(e, "out of memory");
	}
	int rc = rt_qmm_s32(q, in[0], in[2], w, acc, x->par, e);
	rt_qw_free(&tmp);
	if (rc < 0) {
		rt_free(acc);
		return -1;
	}
	/* libhwk's requantization: one f32 product of the scales, the
	 * accumulator times it, then QuantizeLinear's rounding */
	const float *as = in[1]->data, *bs = in[4]->data;
	float ys = *(const float *)in[6]->data;
	int32_t yz = rt_q_int_at(in[7], 0);
	enum hwrt_dtype dt = out[0]->dtype;
	int64_t mn = q->m * q->n;
	for (int64_t ob = 0; ob < q->batch; ob++) {
		int64_t ai, bi;
		rt_qmm_batch(q, ob, &ai, &bi);
		const float *asp = as + ai * l.as_stride, *bsp = bs + bi * l.bs_stride;
		for (int64_t i = 0; i < q->m; i++)
			for (int64_t j = 0; j < q->n; j++) {
				int64_t o = ob * mn + i * q->n + j;
				float s = asp[l.as_count > 1 ? i : 0] * bsp[l.bs_count > 1 ? j : 0];
				int32_t v = rt_q_round_sat((float)acc[o] * s / ys, yz, dt);
				if (dt == HWRT_INT8)
					((int8_t *)out[0]->data)[o] = (int8_t)v;
				else
					((uint8_t *)out[0]->data)[o] = (uint8_t)v;
			}
	}
	rt_free(acc);
	return 0;
}

RT_OP_DEFINE(QLinearMatMul) = { .name = "QLinearMatMul", .since = 10, .check = check,
				.infer = infer, .prepare = prepare, .run = run,
				.release = rt_qw_release };
