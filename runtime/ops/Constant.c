/* Constant: a tensor given by one attribute (value; value_float(s) and
 * value_int(s) from opset 12). String and sparse values are unsupported. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (rt_check_io(n, 0, 0, 1, 1, e))
		return -1;
	int found = 0;
	for (int i = 0; i < n->n_attrs; i++) {
		const struct rt_attr *a = &n->attrs[i];
		if (!strcmp(a->name, "value") || !strcmp(a->name, "value_float") ||
		    !strcmp(a->name, "value_floats") || !strcmp(a->name, "value_int") ||
		    !strcmp(a->name, "value_ints"))
			found++;
		else if (!strcmp(a->name, "value_string") || !strcmp(a->name, "value_strings") ||
			 !strcmp(a->name, "sparse_value"))
			return rt_fail(e, "attribute %s is not supported", a->name);
	}
	if (found != 1)
		return rt_fail(e, "needs exactly one value attribute, has %d", found);
	const struct rt_attr *v = rt_attr_find(n, "value");
	if (v && (v->type != RT_ATTR_TENSOR || !v->t || !hwrt_dtype_size(v->t->dtype)))
		return rt_fail(e, "value is not a tensor of a supported type");
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct rt_attr *a;
	int64_t len;
	if ((a = rt_attr_find(n, "value")) && a->t) {
		rt_set_shape(out[0], a->t->dtype, a->t->rank, a->t->dims);
	} else if (rt_attr_find(n, "value_float")) {
		rt_set_shape(out[0], HWRT_FLOAT, 0, NULL);
	} else if (rt_attr_find(n, "value_int")) {
		rt_set_shape(out[0], HWRT_INT64, 0, NULL);
	} else if ((a = rt_attr_find(n, "value_floats"))) {
		len = (int64_t)a->n;
		rt_set_shape(out[0], HWRT_FLOAT, 1, &len);
	} else if ((a = rt_attr_find(n, "value_ints"))) {
		len = (int64_t)a->n;
		rt_set_shape(out[0], HWRT_INT64, 1, &len);
	} else {
		return rt_fail(e, "no value attribute");
	}
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct rt_attr *a;
	void *o = out[0]->data;
	if ((a = rt_attr_find(n, "value")) && a->t) {
		memcpy(o, a->t->data, hwrt_tensor_bytes(a->t));
	} else if ((a = rt_attr_find(n, "value_float"))) {
		*(float *)o = a->f;
	} else if ((a = rt_attr_find(n, "value_int"))) {
		*(int64_t *)o = a->i;
	} else if ((a = rt_attr_find(n, "value_floats"))) {
		memcpy(o, a->floats, a->n * sizeof(float));
	} else if ((a = rt_attr_find(n, "value_ints"))) {
		memcpy(o, a->ints, a->n * sizeof(int64_t));
	}
	return 0;
}

RT_OP_DEFINE(Constant) = { .name = "Constant", .since = 1, .check = check, .infer = infer,
			   .run = run };
