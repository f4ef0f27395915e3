/* TopK: the k largest (or smallest) elements along axis and their indices,
 * sorted, ties broken by the lower index; k is an attribute before opset 10
 * and an input after. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (g->opset < 10) {
		if (!rt_attr_find(n, "k"))
			return rt_fail(e, "the k attribute is required");
		return rt_check_io(n, 1, 1, 2, 2, e);
	}
	return rt_check_io(n, 2, 2, 2, 2, e);
}

static int k_of(const struct rt_node *n, const struct hwrt_tensor *const *in, int64_t *k,
		struct rt_err *e)
{
	if (n->n_in == 1) {
		*k = rt_attr_int(n, "k", -1);
		return 0;
	}
	const struct hwrt_tensor *t = in[1];
	if (t->dtype != HWRT_INT64 || t->rank > 1 || hwrt_tensor_count(t) != 1)
		return rt_fail(e, "K must be a one-element int64 tensor");
	if (!t->data)
		return RT_NEED_VALUE;
	*k = rt_int_at(t, 0);
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	if (!su_has_order_key(x->dtype))
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	int64_t a = rt_attr_int(n, "axis", -1), k;
	int axis = rt_axis(a, x->rank);
	if (axis < 0 || axis >= x->rank)
		return rt_fail(e, "axis %lld is out of range for rank %d", (long long)a, x->rank);
	int rc = k_of(n, in, &k, e);
	if (rc)
		return rc;
	if (k < 0 || k > x->dims[axis])
		return rt_fail(e, "k = %lld is out of range for a dim of %lld", (long long)k,
			       (long long)x->dims[axis]);
	int64_t d[HWRT_MAX_RANK];
	memcpy(d, x->dims, sizeof(int64_t) * (size_t)x->rank);
	d[axis] = k;
	if (out[0])
		rt_set_shape(out[0], x->dtype, x->rank, d);
	if (out[1])
		rt_set_shape(out[1], HWRT_INT64, x->rank, d);
	return 0;
}

struct item {
	uint64_t key;
	int64_t idx;
};

static int desc(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	if (a->key != b->key)
		return a->key > b->key ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int asc(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0];
	int axis = rt_axis(rt_attr_int(n, "axis", -1), t->rank);
	int64_t k;
	if (k_of(n, in, &k, e))
		return -1;
	bool largest = rt_attr_int(n, "largest", 1) != 0;
	size_t esz = hwrt_dtype_size(t->dtype);
	int64_t outer = 1, inner = 1, len = t->dims[axis];
	for (int i = 0; i < axis; i++)
		outer *= t->dims[i];
	for (int i = axis + 1; i < t->rank; i++)
		inner *= t->dims[i];
	if (!k || !outer || !inner)
		return 0;
	struct item *it = malloc((size_t)len * sizeof(*it));
	if (!it)
		return rt_fail(e, "out of memory");
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < inner; i++) {
			int64_t base = o * len * inner + i;
			for (int64_t j = 0; j < len; j++)
				it[j] = (struct item){ su_order_key(t, base + j * inner), j };
			qsort(it, (size_t)len, sizeof(*it), largest ? desc : asc);
			int64_t obase = o * k * inner + i;
			for (int64_t j = 0; j < k; j++) {
				int64_t at = obase + j * inner;
				if (out[0])
					memcpy((char *)out[0]->data + at * (int64_t)esz,
					       (const char *)t->data +
						       (base + it[j].idx * inner) * (int64_t)esz,
					       esz);
				if (out[1])
					((int64_t *)out[1]->data)[at] = it[j].idx;
			}
		}
	free(it);
	return 0;
}

RT_OP_DEFINE(TopK) = { .name = "TopK", .since = 1, .check = check, .infer = infer, .run = run };
