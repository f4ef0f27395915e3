/* Concat: joins the inputs along axis (negative from opset 11); all other
 * dims must agree. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (!rt_attr_find(n, "axis"))
		return rt_fail(e, "the axis attribute is required");
	if (n->n_in > 16)
		return rt_fail(e, "at most 16 inputs are supported, has %d", n->n_in);
	return rt_check_io(n, 1, 16, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	for (int k = 0; k < n->n_in; k++)
		if (!in[k])
			return rt_fail(e, "input %d is missing", k);
	if (su_check_dtype(x, "input 0", e))
		return -1;
	int64_t a = rt_attr_int(n, "axis", 0);
	int axis = rt_axis(a, x->rank);
	if (axis < 0 || axis >= x->rank)
		return rt_fail(e, "axis %lld is out of range for rank %d", (long long)a, x->rank);
	int64_t d[HWRT_MAX_RANK];
	memcpy(d, x->dims, sizeof(int64_t) * (size_t)x->rank);
	for (int k = 1; k < n->n_in; k++) {
		const struct hwrt_tensor *y = in[k];
		if (y->dtype != x->dtype || y->rank != x->rank)
			return rt_fail(e, "input %d is %s rank %d, input 0 %s rank %d", k,
				       hwrt_dtype_name(y->dtype), y->rank,
				       hwrt_dtype_name(x->dtype), x->rank);
		for (int i = 0; i < x->rank; i++)
			if (i != axis && y->dims[i] != x->dims[i])
				return rt_fail(e, "input %d has dim %d = %lld, input 0 %lld", k, i,
					       (long long)y->dims[i], (long long)x->dims[i]);
		d[axis] += y->dims[axis];
	}
	if (su_check_dims(x->rank, d, e))
		return -1;
	rt_set_shape(out[0], x->dtype, x->rank, d);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *o = out[0];
	int axis = rt_axis(rt_attr_int(n, "axis", 0), o->rank);
	size_t esz = hwrt_dtype_size(o->dtype);
	int64_t outer = 1, inner = esz;
	for (int i = 0; i < axis; i++)
		outer *= o->dims[i];
	for (int i = axis + 1; i < o->rank; i++)
		inner *= o->dims[i];
	int64_t orow = o->dims[axis] * inner, at = 0;
	for (int k = 0; k < n->n_in; k++) {
		int64_t row = in[k]->dims[axis] * inner;
		const char *s = in[k]->data;
		char *d = (char *)o->data + at;
		if (row)
			for (int64_t i = 0; i < outer; i++)
				memcpy(d + i * orow, s + i * row, (size_t)row);
		at += row;
	}
	return 0;
}

RT_OP_DEFINE(Concat) = { .name = "Concat", .since = 4, .check = check, .infer = infer,
			 .run = run };
