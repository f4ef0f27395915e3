/* Range: start, start + delta, ... up to limit (exclusive), from three
 * scalars of one numeric type; the length is max(ceil((limit - start) /
 * delta), 0). */
#include <math.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 3, 3, 1, 1, e);
}

static bool is_int(enum hwrt_dtype t)
{
	return t == HWRT_INT16 || t == HWRT_INT32 || t == HWRT_INT64;
}

static int length(const struct hwrt_tensor *const *in, int64_t *len, struct rt_err *e)
{
	enum hwrt_dtype t = in[0]->dtype;
	if (is_int(t)) {
		int64_t s = rt_int_at(in[0], 0), l = rt_int_at(in[1], 0), d = rt_int_at(in[2], 0);
		if (d == 0)
			return rt_fail(e, "delta is 0");
		uint64_t diff, step;
		if (d > 0 && l > s)
			diff = (uint64_t)l - (uint64_t)s, step = (uint64_t)d;
		else if (d < 0 && l < s)
			diff = (uint64_t)s - (uint64_t)l, step = (uint64_t)0 - (uint64_t)d;
		else
			return *len = 0, 0;
		uint64_t c = diff / step + (diff % step != 0);
		if (c > ((uint64_t)1 << 40))
			return rt_fail(e, "range of %llu values is too large", (unsigned long long)c);
		*len = (int64_t)c;
		return 0;
	}
	double s = rt_num_at(in[0], 0), l = rt_num_at(in[1], 0), d = rt_num_at(in[2], 0);
	if (d == 0 || !isfinite(s) || !isfinite(l) || !isfinite(d))
		return rt_fail(e, "start, limit and delta must be finite and delta nonzero");
	double c = ceil((l - s) / d);
	if (c > (double)((int64_t)1 << 40))
		return rt_fail(e, "range of %g values is too large", c);
	*len = c > 0 ? (int64_t)c : 0;
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	enum hwrt_dtype t = in[0]->dtype;
	if (!is_int(t) && t != HWRT_FLOAT && t != HWRT_DOUBLE)
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(t));
	for (int k = 0; k < 3; k++) {
		if (in[k]->dtype != t)
			return rt_fail(e, "start, limit and delta differ in type");
		if (hwrt_tensor_count(in[k]) != 1 || in[k]->rank > 1)
			return rt_fail(e, "start, limit and delta must be scalars");
	}
	for (int k = 0; k < 3; k++)
		if (!in[k]->data)
			return RT_NEED_VALUE;
	int64_t len;
	if (length(in, &len, e))
		return -1;
	rt_set_shape(out[0], t, 1, &len);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	int64_t len = out[0]->dims[0];
	void *o = out[0]->data;
	switch (in[0]->dtype) {
	case HWRT_FLOAT: {
		float s = *(const float *)in[0]->data, d = *(const float *)in[2]->data;
		for (int64_t i = 0; i < len; i++)
			((float *)o)[i] = s + (float)i * d;
		break;
	}
	case HWRT_DOUBLE: {
		double s = *(const double *)in[0]->data, d = *(const double *)in[2]->data;
		for (int64_t i = 0; i < len; i++)
			((double *)o)[i] = s + (double)i * d;
		break;
	}
	default: {
		/* unsigned arithmetic wraps like the target type would */
		uint64_t s = (uint64_t)rt_int_at(in[0], 0), d = (uint64_t)rt_int_at(in[2], 0);
		for (int64_t i = 0; i < len; i++) {
			uint64_t v = s + (uint64_t)i * d;
			if (in[0]->dtype == HWRT_INT16)
				((int16_t *)o)[i] = (int16_t)v;
			else if (in[0]->dtype == HWRT_INT32)
				((int32_t *)o)[i] = (int32_t)v;
			else
				((int64_t *)o)[i] = (int64_t)v;
		}
	}
	}
	return 0;
}

RT_OP_DEFINE(Range) = { .name = "Range", .since = 11, .check = check, .infer = infer,
			.run = run };
