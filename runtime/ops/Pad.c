/* Pad: grows (or, with negative pads, crops) each dim at both ends, filling
 * with a constant or by reflecting or repeating the edge; pads and value
 * are attributes before opset 11 and inputs after. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/shape_util.h"

enum { CONSTANT, REFLECT, EDGE };

static int mode_of(const struct rt_node *n, struct rt_err *e)
{
	const char *m = rt_attr_string(n, "mode", "constant");
	if (!strcmp(m, "constant"))
		return CONSTANT;
	if (!strcmp(m, "reflect"))
		return REFLECT;
	if (!strcmp(m, "edge"))
		return EDGE;
	return rt_fail(e, "mode '%s' is not supported (constant, reflect, edge)", m);
}

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	struct rt_err tmp;
	if (mode_of(n, &tmp) < 0)
		return rt_fail(e, "%s", tmp.msg);
	if (g->opset < 11) {
		if (!rt_attr_find(n, "pads"))
			return rt_fail(e, "the pads attribute is required");
		return rt_check_io(n, 1, 1, 1, 1, e);
	}
	return rt_check_io(n, 2, 3, 1, 1, e);
}

static int pads_of(const struct rt_node *n, const struct hwrt_tensor *const *in, int64_t *p,
		   struct rt_err *e)
{
	int rank = in[0]->rank, np;
	if (n->n_in == 1) {
		const int64_t *a;
		np = rt_attr_ints(n, "pads", &a);
		if (np != 2 * rank)
			return rt_fail(e, "pads has %d values for rank %d", np, rank);
		memcpy(p, a, sizeof(int64_t) * (size_t)np);
	} else {
		if (in[1]->dtype != HWRT_INT64)
			return rt_fail(e, "pads must be int64");
		if (!in[1]->data)
			return RT_NEED_VALUE;
		if ((np = su_read_ints(in[1], "pads", p, 2 * HWRT_MAX_RANK, e)) < 0)
			return -1;
		if (np != 2 * rank)
			return rt_fail(e, "pads has %d values for rank %d", np, rank);
	}
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	int mode = mode_of(n, e);
	if (mode < 0 || su_check_dtype(x, "the input", e))
		return -1;
	if (n->n_in > 2 && in[2]) {
		if (in[2]->dtype != x->dtype)
			return rt_fail(e, "constant_value is %s, the input %s",
				       hwrt_dtype_name(in[2]->dtype), hwrt_dtype_name(x->dtype));
		if (hwrt_tensor_count(in[2]) != 1)
			return rt_fail(e, "constant_value must hold one value");
	}
	int64_t p[2 * HWRT_MAX_RANK], d[HWRT_MAX_RANK];
	int rc = pads_of(n, in, p, e);
	if (rc)
		return rc;
	for (int i = 0; i < x->rank; i++) {
		int64_t b = p[i], a = p[i + x->rank];
		if (b > ((int64_t)1 << 40) || a > ((int64_t)1 << 40) || b < -x->dims[i] ||
		    a < -x->dims[i])
			return rt_fail(e, "pads %lld, %lld are out of range for dim %d",
				       (long long)b, (long long)a, i);
		d[i] = x->dims[i] + b + a;
		if (d[i] < 0)
			return rt_fail(e, "pads make dim %d negative", i);
		if (mode != CONSTANT && x->dims[i] == 0 && d[i] > 0)
			return rt_fail(e, "cannot %s-pad an empty dim",
				       mode == EDGE ? "edge" : "reflect");
	}
	if (su_check_dims(x->rank, d, e))
		return -1;
	rt_set_shape(out[0], x->dtype, x->rank, d);
	return 0;
}

/* value as one element of dtype dt */
static void to_dtype(double v, enum hwrt_dtype dt, void *o)
{
	switch (dt) {
	case HWRT_FLOAT: *(float *)o = (float)v; break;
	case HWRT_DOUBLE: *(double *)o = v; break;
	case HWRT_FLOAT16: *(uint16_t *)o = rt_f32_to_f16((float)v); break;
	case HWRT_BFLOAT16: *(uint16_t *)o = rt_f32_to_bf16((float)v); break;
	case HWRT_INT8: *(int8_t *)o = (int8_t)v; break;
	case HWRT_UINT8: *(uint8_t *)o = (uint8_t)v; break;
	case HWRT_BOOL: *(uint8_t *)o = v != 0; break;
	case HWRT_INT16: *(int16_t *)o = (int16_t)v; break;
	case HWRT_UINT16: *(uint16_t *)o = (uint16_t)v; break;
	case HWRT_INT32: *(int32_t *)o = (int32_t)v; break;
	case HWRT_UINT32: *(uint32_t *)o = (uint32_t)v; break;
	case HWRT_INT64: *(int64_t *)o = (int64_t)v; break;
	case HWRT_UINT64: *(uint64_t *)o = (uint64_t)v; break;
	default: break;
	}
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0], *o = out[0];
	int mode = mode_of(n, e);
	int64_t p[2 * HWRT_MAX_RANK], st[HWRT_MAX_RANK];
	if (mode < 0 || pads_of(n, in, p, e))
		return -1;
	char fill[16] = { 0 };
	if (n->n_in > 2 && in[2])
		memcpy(fill, in[2]->data, hwrt_dtype_size(t->dtype));
	else if (n->n_in == 1)
		to_dtype(rt_attr_float(n, "value", 0.0f), t->dtype, fill);
	su_strides(t, st);
	int64_t total = 0;
	for (int i = 0; i < t->rank; i++)
		total += o->dims[i];
	int64_t *maps = malloc(((size_t)total + 1) * sizeof(int64_t)), *m = maps;
	if (!maps)
		return rt_fail(e, "out of memory");
	struct su_gather g = { .rank = t->rank };
	for (int i = 0; i < t->rank; i++) {
		int64_t dim = t->dims[i];
		for (int64_t j = 0; j < o->dims[i]; j++) {
			int64_t s = j - p[i];
			if (s < 0 || s >= dim) {
				if (mode == CONSTANT) {
					s = -1;
				} else if (mode == EDGE || dim == 1) {
					s = s < 0 ? 0 : dim - 1;
				} else {
					int64_t per = 2 * (dim - 1);
					s = ((s % per) + per) % per;
					if (s >= dim)
						s = per - s;
				}
			}
			m[j] = s;
		}
		g.dims[i] = o->dims[i];
		g.stride[i] = st[i];
		/* untouched dims stay identity so rows merge into block copies */
		g.map[i] = p[i] == 0 && p[i + t->rank] == 0 ? NULL : m;
		m += o->dims[i];
	}
	int rc = su_gather_run(&g, t->data, o->data, hwrt_dtype_size(t->dtype), fill, x->par, e);
	free(maps);
	return rc;
}

RT_OP_DEFINE(Pad) = { .name = "Pad", .since = 2, .check = check, .infer = infer, .run = run };
