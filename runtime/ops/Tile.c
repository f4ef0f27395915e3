/* Tile: repeats the input repeats[d] times along each dim d. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 2, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *r = in[1];
	if (su_check_dtype(x, "the input", e))
		return -1;
	if (r->dtype != HWRT_INT64 || r->rank != 1)
		return rt_fail(e, "repeats must be a 1-D int64 tensor");
	if (!r->data)
		return RT_NEED_VALUE;
	int64_t v[HWRT_MAX_RANK], d[HWRT_MAX_RANK];
	int nr = su_read_ints(r, "repeats", v, HWRT_MAX_RANK, e);
	if (nr < 0)
		return -1;
	if (nr != x->rank)
		return rt_fail(e, "%d repeats for rank %d", nr, x->rank);
	for (int i = 0; i < nr; i++) {
		if (v[i] < 0)
			return rt_fail(e, "repeat %lld is negative", (long long)v[i]);
		if (v[i] && x->dims[i] > ((int64_t)1 << 40) / v[i])
			return rt_fail(e, "output is too large");
		d[i] = x->dims[i] * v[i];
	}
	if (su_check_dims(nr, d, e))
		return -1;
	rt_set_shape(out[0], x->dtype, nr, d);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0], *o = out[0];
	int64_t st[HWRT_MAX_RANK];
	su_strides(t, st);
	/* the output as [rep0, d0, rep1, d1, ...] with the repeats at stride 0 */
	struct su_gather g = { .rank = 2 * t->rank };
	for (int i = 0; i < t->rank; i++) {
		g.dims[2 * i] = t->dims[i] ? o->dims[i] / t->dims[i] : 0;
		g.stride[2 * i] = 0;
		g.dims[2 * i + 1] = t->dims[i];
		g.stride[2 * i + 1] = st[i];
	}
	return su_gather_run(&g, t->data, o->data, hwrt_dtype_size(t->dtype), NULL, x->par, e);
}

RT_OP_DEFINE(Tile) = { .name = "Tile", .since = 6, .check = check, .infer = infer, .run = run };
