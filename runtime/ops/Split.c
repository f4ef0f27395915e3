/* Split: cuts the input along axis into the outputs, by the split lengths
 * (an attribute before opset 13, an input after) or in equal parts. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (g->opset >= 13 && rt_attr_find(n, "split"))
		return rt_fail(e, "split is an input from opset 13, not an attribute");
	if (n->n_out > 16)
		return rt_fail(e, "at most 16 outputs are supported, has %d", n->n_out);
	return rt_check_io(n, 1, g->opset >= 13 ? 2 : 1, 1, 16, e);
}

/* The part lengths into len[n->n_out]. */
static int lengths(const struct rt_node *n, const struct hwrt_tensor *const *in, int axis,
		   int64_t *len, struct rt_err *e)
{
	int64_t dim = in[0]->dims[axis], v[16];
	int nv = -1;
	if (n->n_in > 1 && in[1]) {
		if (!in[1]->data)
			return RT_NEED_VALUE;
		if ((nv = su_read_ints(in[1], "split", v, 16, e)) < 0)
			return -1;
	} else {
		const int64_t *a;
		nv = rt_attr_ints(n, "split", &a);
		if (nv > 16)
			return rt_fail(e, "split has %d values for %d outputs", nv, n->n_out);
		for (int i = 0; i < nv; i++)
			v[i] = a[i];
	}
	if (nv >= 0) {
		if (nv != n->n_out)
			return rt_fail(e, "split has %d values for %d outputs", nv, n->n_out);
		int64_t sum = 0;
		for (int i = 0; i < nv; i++) {
			if (v[i] < 0)
				return rt_fail(e, "split length %lld is negative", (long long)v[i]);
			len[i] = v[i];
			sum += v[i];
		}
		if (sum != dim)
			return rt_fail(e, "split lengths sum to %lld, the axis has %lld",
				       (long long)sum, (long long)dim);
		return 0;
	}
	if (dim % n->n_out)
		return rt_fail(e, "axis of %lld does not split into %d equal parts",
			       (long long)dim, n->n_out);
	for (int i = 0; i < n->n_out; i++)
		len[i] = dim / n->n_out;
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	if (su_check_dtype(x, "the input", e))
		return -1;
	int64_t a = rt_attr_int(n, "axis", 0);
	int axis = rt_axis(a, x->rank);
	if (axis < 0 || axis >= x->rank)
		return rt_fail(e, "axis %lld is out of range for rank %d", (long long)a, x->rank);
	int64_t len[16];
	int rc = lengths(n, in, axis, len, e);
	if (rc)
		return rc;
	for (int k = 0; k < n->n_out; k++) {
		if (!out[k])
			continue;
		int64_t d[HWRT_MAX_RANK];
		memcpy(d, x->dims, sizeof(int64_t) * (size_t)x->rank);
		d[axis] = len[k];
		rt_set_shape(out[k], x->dtype, x->rank, d);
	}
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0];
	int axis = rt_axis(rt_attr_int(n, "axis", 0), t->rank);
	int64_t len[16];
	if (lengths(n, in, axis, len, e))
		return -1;
	size_t esz = hwrt_dtype_size(t->dtype);
	int64_t outer = 1, inner = esz;
	for (int i = 0; i < axis; i++)
		outer *= t->dims[i];
	for (int i = axis + 1; i < t->rank; i++)
		inner *= t->dims[i];
	int64_t irow = t->dims[axis] * inner, at = 0;
	for (int k = 0; k < n->n_out; k++) {
		int64_t row = len[k] * inner;
		if (out[k] && row)
			for (int64_t i = 0; i < outer; i++)
				memcpy((char *)out[k]->data + i * row,
				       (const char *)t->data + at + i * irow, (size_t)row);
		at += row;
	}
	return 0;
}

RT_OP_DEFINE(Split) = { .name = "Split", .since = 2, .check = check, .infer = infer,
			.run = run };
