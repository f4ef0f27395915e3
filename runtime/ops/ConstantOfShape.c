/* ConstantOfShape: a tensor of the shape given by the input, every element
 * the one-element value attribute (float 0 by default). */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	const struct rt_attr *v = rt_attr_find(n, "value");
	if (v && (v->type != RT_ATTR_TENSOR || !v->t || !hwrt_dtype_size(v->t->dtype) ||
		  hwrt_tensor_count(v->t) != 1))
		return rt_fail(e, "value must be a one-element tensor of a supported type");
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *s = in[0];
	const struct rt_attr *v = rt_attr_find(n, "value");
	if (s->dtype != HWRT_INT64 || s->rank != 1)
		return rt_fail(e, "the shape input must be a 1-D int64 tensor");
	if (!s->data)
		return RT_NEED_VALUE;
	int64_t d[HWRT_MAX_RANK];
	int r = su_read_ints(s, "shape", d, HWRT_MAX_RANK, e);
	if (r < 0 || su_check_dims(r, d, e))
		return -1;
	rt_set_shape(out[0], v && v->t ? v->t->dtype : HWRT_FLOAT, r, d);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct rt_attr *v = rt_attr_find(n, "value");
	size_t esz = hwrt_dtype_size(out[0]->dtype);
	int64_t cnt = hwrt_tensor_count(out[0]);
	char *o = out[0]->data;
	if (!v || !v->t)
		return memset(o, 0, (size_t)cnt * esz), 0;
	for (int64_t i = 0; i < cnt; i++)
		memcpy(o + i * (int64_t)esz, v->t->data, esz);
	return 0;
}

RT_OP_DEFINE(ConstantOfShape) = { .name = "ConstantOfShape", .since = 9, .check = check,
				  .infer = infer, .run = run };
