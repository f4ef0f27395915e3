/* ArgMax: the index of the largest element along axis, the first one on
 * ties unless select_last_index (opset 12); keepdims keeps the axis as 1. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	if (!su_has_order_key(x->dtype))
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	int64_t a = rt_attr_int(n, "axis", 0);
	int axis = rt_axis(a, x->rank);
	if (axis < 0 || axis >= x->rank)
		return rt_fail(e, "axis %lld is out of range for rank %d", (long long)a, x->rank);
	if (x->dims[axis] == 0)
		return rt_fail(e, "cannot take the argmax of an empty axis");
	int64_t d[HWRT_MAX_RANK];
	int r = 0;
	bool keep = rt_attr_int(n, "keepdims", 1) != 0;
	for (int i = 0; i < x->rank; i++)
		if (i != axis)
			d[r++] = x->dims[i];
		else if (keep)
			d[r++] = 1;
	rt_set_shape(out[0], HWRT_INT64, r, d);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0];
	int axis = rt_axis(rt_attr_int(n, "axis", 0), t->rank);
	bool last = rt_attr_int(n, "select_last_index", 0) != 0;
	int64_t outer = 1, inner = 1, len = t->dims[axis];
	for (int i = 0; i < axis; i++)
		outer *= t->dims[i];
	for (int i = axis + 1; i < t->rank; i++)
		inner *= t->dims[i];
	int64_t *o = out[0]->data;
	for (int64_t a = 0; a < outer; a++)
		for (int64_t i = 0; i < inner; i++) {
			int64_t base = a * len * inner + i, best = 0;
			uint64_t bk = su_order_key(t, base);
			for (int64_t j = 1; j < len; j++) {
				uint64_t k = su_order_key(t, base + j * inner);
				if (k > bk || (last && k == bk))
					bk = k, best = j;
			}
			o[a * inner + i] = best;
		}
	return 0;
}

RT_OP_DEFINE(ArgMax) = { .name = "ArgMax", .since = 1, .check = check, .infer = infer,
			 .run = run };
