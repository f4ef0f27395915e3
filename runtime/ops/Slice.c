/* Slice: a strided box of the input, starts/ends/axes as attributes before
 * opset 10 and as inputs (with steps) after; bounds clamp as numpy's. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (g->opset < 10) {
		if (!rt_attr_find(n, "starts") || !rt_attr_find(n, "ends"))
			return rt_fail(e, "the starts and ends attributes are required");
		return rt_check_io(n, 1, 1, 1, 1, e);
	}
	return rt_check_io(n, 3, 5, 1, 1, e);
}

/* Per dim of the input: first index, step and count. */
static int plan(const struct rt_node *n, const struct hwrt_tensor *const *in, int64_t *start,
		int64_t *step, int64_t *count, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	int64_t st[HWRT_MAX_RANK], en[HWRT_MAX_RANK], ax[HWRT_MAX_RANK], sp[HWRT_MAX_RANK];
	int ns, ne, na = -1, np = -1;
	if (n->n_in == 1) {
		const int64_t *a;
		ns = rt_attr_ints(n, "starts", &a);
		if (ns > HWRT_MAX_RANK)
			return rt_fail(e, "too many starts");
		memcpy(st, a, sizeof(int64_t) * (size_t)(ns > 0 ? ns : 0));
		ne = rt_attr_ints(n, "ends", &a);
		if (ne > HWRT_MAX_RANK)
			return rt_fail(e, "too many ends");
		memcpy(en, a, sizeof(int64_t) * (size_t)(ne > 0 ? ne : 0));
		na = rt_attr_ints(n, "axes", &a);
		if (na > HWRT_MAX_RANK)
			return rt_fail(e, "too many axes");
		memcpy(ax, a, sizeof(int64_t) * (size_t)(na > 0 ? na : 0));
	} else {
		for (int k = 1; k < n->n_in; k++)
			if (in[k] && !in[k]->data)
				return RT_NEED_VALUE;
		if ((ns = su_read_ints(in[1], "starts", st, HWRT_MAX_RANK, e)) < 0 ||
		    (ne = su_read_ints(in[2], "ends", en, HWRT_MAX_RANK, e)) < 0)
			return -1;
		if (n->n_in > 3 && in[3] &&
		    (na = su_read_ints(in[3], "axes", ax, HWRT_MAX_RANK, e)) < 0)
			return -1;
		if (n->n_in > 4 && in[4] &&
		    (np = su_read_ints(in[4], "steps", sp, HWRT_MAX_RANK, e)) < 0)
			return -1;
		if (in[1]->dtype != in[2]->dtype)
			return rt_fail(e, "starts and ends differ in type");
	}
	if (ns != ne)
		return rt_fail(e, "%d starts but %d ends", ns, ne);
	if (na < 0) {
		if (ns > x->rank)
			return rt_fail(e, "%d starts for rank %d", ns, x->rank);
		na = ns;
		for (int i = 0; i < na; i++)
			ax[i] = i;
	} else if (na != ns) {
		return rt_fail(e, "%d axes but %d starts", na, ns);
	}
	if (np < 0) {
		np = ns;
		for (int i = 0; i < np; i++)
			sp[i] = 1;
	} else if (np != ns) {
		return rt_fail(e, "%d steps but %d starts", np, ns);
	}
	unsigned mask;
	if (su_axes(ax, na, x->rank, &mask, e))
		return -1;
	for (int d = 0; d < x->rank; d++) {
		start[d] = 0;
		step[d] = 1;
		count[d] = x->dims[d];
	}
	for (int i = 0; i < na; i++) {
		int d = rt_axis(ax[i], x->rank);
		int64_t dim = x->dims[d], s = st[i], t = en[i], k = sp[i];
		if (k == 0)
			return rt_fail(e, "step of axis %d is 0", d);
		if (s < 0)
			s += dim;
		if (t < 0)
			t += dim;
		int64_t c;
		if (k > 0) {
			s = s < 0 ? 0 : s > dim ? dim : s;
			t = t < 0 ? 0 : t > dim ? dim : t;
			c = t > s ? (t - s - 1) / k + 1 : 0;
		} else {
			s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
			t = t < -1 ? -1 : t > dim - 1 ? dim - 1 : t;
			c = s > t ? (s - t - 1) / -k + 1 : 0;
		}
		start[d] = s;
		step[d] = k;
		count[d] = c;
	}
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	int64_t start[HWRT_MAX_RANK], step[HWRT_MAX_RANK], count[HWRT_MAX_RANK];
	if (su_check_dtype(in[0], "the input", e))
		return -1;
	int rc = plan(n, in, start, step, count, e);
	if (rc)
		return rc;
	rt_set_shape(out[0], in[0]->dtype, in[0]->rank, count);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0];
	int64_t start[HWRT_MAX_RANK], step[HWRT_MAX_RANK], count[HWRT_MAX_RANK], st[HWRT_MAX_RANK];
	if (plan(n, in, start, step, count, e))
		return -1;
	su_strides(t, st);
	struct su_gather g = { .rank = t->rank };
	for (int d = 0; d < t->rank; d++) {
		g.dims[d] = count[d];
		g.stride[d] = st[d] * step[d];
		g.base += start[d] * st[d];
	}
	return su_gather_run(&g, t->data, out[0]->data, hwrt_dtype_size(t->dtype), NULL, x->par,
			     e);
}

RT_OP_DEFINE(Slice) = { .name = "Slice", .since = 1, .check = check, .infer = infer,
			.run = run };
