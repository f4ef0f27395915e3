/* Squeeze: drops the size-1 dims listed in axes (all of them without
 * axes); axes is an attribute before opset 13 and an input after. A view. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (g->opset >= 13 && rt_attr_find(n, "axes"))
		return rt_fail(e, "axes is an input from opset 13, not an attribute");
	return rt_check_io(n, 1, g->opset >= 13 ? 2 : 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	if (su_check_dtype(x, "the input", e))
		return -1;
	int64_t axes[HWRT_MAX_RANK];
	int na = -1;
	if (n->n_in > 1 && in[1]) {
		if (!in[1]->data)
			return RT_NEED_VALUE;
		if ((na = su_read_ints(in[1], "axes", axes, HWRT_MAX_RANK, e)) < 0)
			return -1;
	} else {
		const int64_t *a;
		na = rt_attr_ints(n, "axes", &a);
		if (na > HWRT_MAX_RANK)
			return rt_fail(e, "too many axes");
		for (int i = 0; i < na; i++)
			axes[i] = a[i];
	}
	unsigned mask = 0;
	if (na >= 0) {
		if (su_axes(axes, na, x->rank, &mask, e))
			return -1;
		for (int i = 0; i < x->rank; i++)
			if ((mask & (1u << i)) && x->dims[i] != 1)
				return rt_fail(e, "cannot squeeze axis %d of size %lld", i,
					       (long long)x->dims[i]);
	} else {
		for (int i = 0; i < x->rank; i++)
			if (x->dims[i] == 1)
				mask |= 1u << i;
	}
	int64_t d[HWRT_MAX_RANK];
	int r = 0;
	for (int i = 0; i < x->rank; i++)
		if (!(mask & (1u << i)))
			d[r++] = x->dims[i];
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

RT_OP_DEFINE(Squeeze) = { .name = "Squeeze", .since = 1, .flags = RT_OP_VIEW, .check = check,
			  .infer = infer, .run = run };
