/* Flatten: the input as a 2-D matrix, dims before axis times dims from it
 * (negative axis from opset 11). A view. */
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
	if (su_check_dtype(x, "the input", e))
		return -1;
	int64_t axis = rt_attr_int(n, "axis", 1);
	if (axis < -x->rank || axis > x->rank)
		return rt_fail(e, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
	if (axis < 0)
		axis += x->rank;
	int64_t d[2] = { 1, 1 };
	for (int i = 0; i < x->rank; i++)
		d[i >= axis] *= x->dims[i];
	rt_set_shape(out[0], x->dtype, 2, d);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (out[0]->data != in[0]->data)
		memmove(out[0]->data, in[0]->data, hwrt_tensor_bytes(in[0]));
	return 0;
}

RT_OP_DEFINE(Flatten) = { .name = "Flatten", .since = 1, .flags = RT_OP_VIEW, .check = check,
			  .infer = infer, .run = run };
