/* Reshape (opset 5+): the shape input with 0 = copy the dim (unless
 * allowzero, opset 14) and one -1 = inferred. A view: no data moves when
 * the runtime can alias the buffers. */
#include <string.h>

#include "runtime/op.h"
#include "runtime/tensor.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 2, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *s = in[1];
	if (s->dtype != HWRT_INT64 || s->rank != 1)
		return rt_fail(e, "the shape input must be a 1-D int64 tensor");
	if (!s->data)
		return RT_NEED_VALUE;
	int64_t r = s->dims[0];
	if (r > HWRT_MAX_RANK)
		return rt_fail(e, "target rank %lld exceeds %d", (long long)r, HWRT_MAX_RANK);
	bool allowzero = rt_attr_int(n, "allowzero", 0) != 0;
	int64_t dims[HWRT_MAX_RANK], known = 1;
	int infer_at = -1;
	for (int i = 0; i < r; i++) {
		int64_t d = ((const int64_t *)s->data)[i];
		if (d == 0 && !allowzero) {
			if (i >= x->rank)
				return rt_fail(e, "shape[%d] = 0 copies a dim the input lacks", i);
			d = x->dims[i];
		}
		if (d == -1) {
			if (infer_at >= 0)
				return rt_fail(e, "more than one -1 in the shape");
			infer_at = i;
			d = 1;
		} else if (d < 0) {
			return rt_fail(e, "invalid dim %lld in the shape", (long long)d);
		}
		dims[i] = d;
		if (__builtin_mul_overflow(known, d, &known))
			return rt_fail(e, "the target shape is too large");
	}
	int64_t count = hwrt_tensor_count(x);
	if (infer_at >= 0) {
		if (known == 0 || count % known)
			return rt_fail(e, "cannot reshape %lld elements with the -1 dim",
				       (long long)count);
		dims[infer_at] = count / known;
	} else if (known != count) {
		return rt_fail(e, "cannot reshape %lld elements into %lld", (long long)count,
			       (long long)known);
	}
	rt_set_shape(out[0], x->dtype, (int)r, dims);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (out[0]->data != in[0]->data)
		memmove(out[0]->data, in[0]->data, hwrt_tensor_bytes(in[0]));
	return 0;
}

RT_OP_DEFINE(Reshape) = { .name = "Reshape", .since = 5, .flags = RT_OP_VIEW, .check = check,
			  .infer = infer, .run = run };
