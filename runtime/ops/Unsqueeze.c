/* Unsqueeze: inserts size-1 dims at the given axes of the output (negative
 * from opset 11); axes is an attribute before opset 13 and an input after.
 * A view. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (g->opset >= 13) {
		if (rt_attr_find(n, "axes"))
			return rt_fail(e, "axes is an input from opset 13, not an attribute");
		return rt_check_io(n, 2, 2, 1, 1, e);
	}
	if (!rt_attr_find(n, "axes"))
		return rt_fail(e, "the axes attribute is required");
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	if (su_check_dtype(x, "the input", e))
		return -1;
	int64_t axes[HWRT_MAX_RANK];
	int na;
	if (n->n_in > 1 && in[1]) {
		if (!in[1]->data)
			return RT_NEED_VALUE;
		if ((na = su_read_ints(in[1], "axes", axes, HWRT_MAX_RANK, e)) < 0)
			return -1;
	} else {
		const int64_t *a;
		na = rt_attr_ints(n, "axes", &a);
		if (na < 0)
			return rt_fail(e, "axes is missing");
		if (na > HWRT_MAX_RANK)
			return rt_fail(e, "too many axes");
		for (int i = 0; i < na; i++)
			axes[i] = a[i];
	}
	int r = x->rank + na;
	if (r > HWRT_MAX_RANK)
		return rt_fail(e, "output rank %d exceeds %d", r, HWRT_MAX_RANK);
	unsigned mask;
	if (su_axes(axes, na, r, &mask, e))
		return -1;
	int64_t d[HWRT_MAX_RANK];
	for (int i = 0, k = 0; i < r; i++)
		d[i] = (mask & (1u << i)) ? 1 : x->dims[k++];
	rt_set_shape(out[0], x->dtype, r, d);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (out[0]->data != in[0]->data)
		memmove(out[0]->data, in[0]->data, hwrt_tensor_bytes(in[0]));
	return 0;
}

RT_OP_DEFINE(Unsqueeze) = { .name = "Unsqueeze", .since = 1, .flags = RT_OP_VIEW,
			    .check = check, .infer = infer, .run = run };
