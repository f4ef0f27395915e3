/* Shape: the input's dims as int64, optionally sliced by start/end
 * (opset 15). Reads no data, so it folds whenever the shape is static. */
#include "runtime/op.h"

static void range(const struct rt_node *n, int rank, int *s, int *t)
{
	int64_t start = rt_attr_int(n, "start", 0), end = rt_attr_int(n, "end", rank);
	if (start < 0)
		start += rank;
	if (end < 0)
		end += rank;
	start = start < 0 ? 0 : start > rank ? rank : start;
	end = end < 0 ? 0 : end > rank ? rank : end;
	*s = (int)start;
	*t = end > start ? (int)end : (int)start;
}

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	int s, t;
	range(n, in[0]->rank, &s, &t);
	int64_t len = t - s;
	rt_set_shape(out[0], HWRT_INT64, 1, &len);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	int s, t;
	range(n, in[0]->rank, &s, &t);
	for (int i = s; i < t; i++)
		((int64_t *)out[0]->data)[i - s] = in[0]->dims[i];
	return 0;
}

RT_OP_DEFINE(Shape) = { .name = "Shape", .since = 1, .flags = RT_OP_SHAPE_ONLY, .check = check,
			.infer = infer, .run = run };
