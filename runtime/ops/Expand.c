/* Expand: broadcasts the input numpy-style against a shape input; the
 * output takes the larger of each dim pair, so a 1 in shape keeps the
 * input's dim. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 2, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *s = in[1];
	if (su_check_dtype(x, "the input", e))
		return -1;
	if (s->dtype != HWRT_INT64 || s->rank != 1)
		return rt_fail(e, "the shape input must be a 1-D int64 tensor");
	if (!s->data)
		return RT_NEED_VALUE;
	int64_t v[HWRT_MAX_RANK];
	int ns = su_read_ints(s, "shape", v, HWRT_MAX_RANK, e);
	if (ns < 0)
		return -1;
	int r = ns > x->rank ? ns : x->rank;
	int64_t d[HWRT_MAX_RANK];
	for (int i = 0; i < r; i++) {
		int xi = i - (r - x->rank), si = i - (r - ns);
		int64_t a = xi >= 0 ? x->dims[xi] : 1, b = si >= 0 ? v[si] : 1;
		if (b < 0)
			return rt_fail(e, "shape has a negative dim %lld", (long long)b);
		if (a != b && a != 1 && b != 1)
			return rt_fail(e, "cannot broadcast dim %lld against %lld", (long long)a,
				       (long long)b);
		d[i] = a == 1 ? b : a;
	}
	if (su_check_dims(r, d, e))
		return -1;
	rt_set_shape(out[0], x->dtype, r, d);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0], *o = out[0];
	int64_t st[HWRT_MAX_RANK];
	su_strides(t, st);
	struct su_gather g = { .rank = o->rank };
	int lead = o->rank - t->rank;
	for (int i = 0; i < o->rank; i++) {
		g.dims[i] = o->dims[i];
		g.stride[i] = i < lead || t->dims[i - lead] == 1 ? 0 : st[i - lead];
	}
	return su_gather_run(&g, t->data, o->data, hwrt_dtype_size(t->dtype), NULL, x->par, e);
}

RT_OP_DEFINE(Expand) = { .name = "Expand", .since = 8, .check = check, .infer = infer,
			 .run = run };
