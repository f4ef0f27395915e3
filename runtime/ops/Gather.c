/* Gather: slices of data along axis picked by an index tensor (negative
 * indices count from the end); output dims are data's before axis, the
 * indices', then data's after axis. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 2, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *ix = in[1];
	if (su_check_dtype(x, "data", e))
		return -1;
	if (ix->dtype != HWRT_INT64 && ix->dtype != HWRT_INT32)
		return rt_fail(e, "indices must be int32 or int64, not %s",
			       hwrt_dtype_name(ix->dtype));
	int64_t a = rt_attr_int(n, "axis", 0);
	int axis = rt_axis(a, x->rank);
	if (axis < 0 || axis >= x->rank)
		return rt_fail(e, "axis %lld is out of range for rank %d", (long long)a, x->rank);
	int r = x->rank - 1 + ix->rank;
	if (r > HWRT_MAX_RANK)
		return rt_fail(e, "output rank %d exceeds %d", r, HWRT_MAX_RANK);
	int64_t d[HWRT_MAX_RANK];
	int k = 0;
	for (int i = 0; i < axis; i++)
		d[k++] = x->dims[i];
	for (int i = 0; i < ix->rank; i++)
		d[k++] = ix->dims[i];
	for (int i = axis + 1; i < x->rank; i++)
		d[k++] = x->dims[i];
	if (su_check_dims(r, d, e))
		return -1;
	rt_set_shape(out[0], x->dtype, r, d);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0], *ix = in[1];
	int axis = rt_axis(rt_attr_int(n, "axis", 0), t->rank);
	size_t esz = hwrt_dtype_size(t->dtype);
	int64_t outer = 1, inner = esz, dim = t->dims[axis], ni = hwrt_tensor_count(ix);
	for (int i = 0; i < axis; i++)
		outer *= t->dims[i];
	for (int i = axis + 1; i < t->rank; i++)
		inner *= t->dims[i];
	for (int64_t j = 0; j < ni; j++) {
		int64_t v = rt_int_at(ix, j);
		if (v < -dim || v >= dim)
			return rt_fail(e, "index %lld is out of range for a dim of %lld",
				       (long long)v, (long long)dim);
	}
	const char *s = t->data;
	char *d = out[0]->data;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t j = 0; j < ni; j++) {
			int64_t v = rt_int_at(ix, j);
			if (v < 0)
				v += dim;
			memcpy(d, s + (o * dim + v) * inner, (size_t)inner);
			d += inner;
		}
	return 0;
}

RT_OP_DEFINE(Gather) = { .name = "Gather", .since = 1, .check = check, .infer = infer,
			 .run = run };
