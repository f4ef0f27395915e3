/* FusedAttention (internal): softmax(Q K^T * scale + mask) V over
 * [batch, heads, seq, head_dim], made by the optimizer from the
 * MatMul-Softmax-MatMul pattern and run by libhwk's flash kernel, which
 * never forms the seq x seq matrix. Inputs: Q, K (not transposed), V and an
 * optional additive mask broadcastable to [batch, 1, q_len, kv_len]. */
#include "runtime/op.h"
#include "runtime/tensor.h"

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *q = in[0], *k = in[1], *v = in[2], *m = n->n_in > 3 ? in[3] : NULL;
	for (int i = 0; i < 3; i++)
		if (in[i]->dtype != HWRT_FLOAT || in[i]->rank != 4)
			return rt_fail(e, "Q, K and V must be rank-4 float tensors");
	if (k->dims[0] != q->dims[0] || v->dims[0] != q->dims[0] || k->dims[1] != q->dims[1] ||
	    v->dims[1] != q->dims[1] || k->dims[3] != q->dims[3] || v->dims[2] != k->dims[2] ||
	    v->dims[3] != q->dims[3])
		return rt_fail(e, "Q, K and V shapes do not agree");
	if (m) {
		if (m->dtype != HWRT_FLOAT || m->rank < 2 || m->rank > 4)
			return rt_fail(e, "the mask must be a float tensor of rank 2 to 4");
		int64_t want[4] = { q->dims[0], 1, q->dims[2], k->dims[2] };
		for (int d = 0; d < m->rank; d++) {
			int64_t md = m->dims[d], wd = want[4 - m->rank + d];
			if (md != wd && !(md == 1 && (4 - m->rank + d) == 0))
				return rt_fail(e, "the mask's shape does not fit [batch, 1, q, kv]");
		}
	}
	int64_t dims[4] = { q->dims[0], q->dims[1], q->dims[2], v->dims[3] };
	rt_set_shape(out[0], HWRT_FLOAT, 4, dims);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *q = in[0], *k = in[1], *v = in[2], *m = n->n_in > 3 ? in[3] : NULL;
	size_t heads = (size_t)q->dims[1], d = (size_t)q->dims[3];
	struct hwk_f32_attention a = {
		.batch = (size_t)q->dims[0], .num_heads = heads, .num_kv_heads = heads,
		.head_dim = d, .q_len = (size_t)q->dims[2], .kv_len = (size_t)k->dims[2],
		.q = q->data, .k = k->data, .v = v->data, .o = out[0]->data,
		.scale = rt_attr_float(n, "scale", 1.0f),
	};
	hwk_f32_attention_strides(heads, a.q_len, d, a.q_strides);
	hwk_f32_attention_strides(heads, a.kv_len, d, a.k_strides);
	hwk_f32_attention_strides(heads, a.kv_len, d, a.v_strides);
	hwk_f32_attention_strides(heads, a.q_len, d, a.o_strides);
	if (m) {
		a.mask = m->data;
		a.mask_ld = a.kv_len;
		/* one mask per batch unless its batch dim is broadcast */
		a.mask_batch_stride = m->rank == 4 && m->dims[0] > 1 ? a.q_len * a.kv_len : 0;
	}
	if (a.q_len == 0 || a.batch == 0 || heads == 0)
		return 0;
	if (hwk_f32_attention(&a, x->par) < 0)
		return rt_fail(e, "the attention kernel failed");
	return 0;
}

RT_OP_DEFINE(FusedAttention) = { .name = "FusedAttention", .since = 1, .flags = RT_OP_INTERNAL,
				 .infer = infer, .run = run };
