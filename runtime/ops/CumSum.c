/* CumSum: running sums along axis (a scalar input), optionally exclusive
 * (the sum of the elements before) and/or reversed. */
#include <string.h>

#include "runtime/ops/shape_util.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 2, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *a = in[1];
	switch (x->dtype) {
	case HWRT_FLOAT: case HWRT_DOUBLE: case HWRT_INT32: case HWRT_INT64: case HWRT_UINT32:
	case HWRT_UINT64: case HWRT_FLOAT16: break;
	default: return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	}
	if ((a->dtype != HWRT_INT32 && a->dtype != HWRT_INT64) || a->rank > 1 ||
	    hwrt_tensor_count(a) != 1)
		return rt_fail(e, "axis must be an int32 or int64 scalar");
	if (a->data && rt_axis(rt_int_at(a, 0), x->rank) < 0)
		return rt_fail(e, "axis %lld is out of range for rank %d",
			       (long long)rt_int_at(a, 0), x->rank);
	if (x->rank == 0)
		return rt_fail(e, "the input must have rank >= 1");
	rt_set_shape(out[0], x->dtype, x->rank, x->dims);
	return 0;
}

#define SCAN(NAME, T, ACC, LOAD, STORE)                                                  \
	static void NAME(const void *pi, void *po, int64_t outer, int64_t len, int64_t inner, \
			 bool excl, bool rev)                                                \
	{                                                                                 \
		const T *X = pi;                                                          \
		T *Y = po;                                                                \
		for (int64_t o = 0; o < outer; o++)                                       \
			for (int64_t i = 0; i < inner; i++) {                             \
				ACC acc = 0;                                              \
				for (int64_t k = 0; k < len; k++) {                       \
					int64_t kk = rev ? len - 1 - k : k;               \
					int64_t at = (o * len + kk) * inner + i;          \
					ACC v = LOAD(X[at]);                              \
					if (excl) {                                       \
						Y[at] = STORE(acc);                       \
						acc += v;                                 \
					} else {                                          \
						acc += v;                                 \
						Y[at] = STORE(acc);                       \
					}                                                 \
				}                                                         \
			}                                                                 \
	}
#define ID(x) (x)
SCAN(scan_f32, float, float, ID, ID)
SCAN(scan_f64, double, double, ID, ID)
SCAN(scan_i32, int32_t, uint32_t, ID, (int32_t))
SCAN(scan_i64, int64_t, uint64_t, ID, (int64_t))
SCAN(scan_u32, uint32_t, uint32_t, ID, ID)
SCAN(scan_u64, uint64_t, uint64_t, ID, ID)
SCAN(scan_f16, uint16_t, float, rt_f16_to_f32, rt_f32_to_f16)

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *t = in[0];
	int axis = rt_axis(rt_int_at(in[1], 0), t->rank);
	if (axis < 0)
		return rt_fail(e, "axis is out of range");
	bool excl = rt_attr_int(n, "exclusive", 0) != 0, rev = rt_attr_int(n, "reverse", 0) != 0;
	int64_t outer = 1, inner = 1, len = t->dims[axis];
	for (int i = 0; i < axis; i++)
		outer *= t->dims[i];
	for (int i = axis + 1; i < t->rank; i++)
		inner *= t->dims[i];
	void (*f)(const void *, void *, int64_t, int64_t, int64_t, bool, bool) = NULL;
	switch (t->dtype) {
	case HWRT_FLOAT: f = scan_f32; break;
	case HWRT_DOUBLE: f = scan_f64; break;
	case HWRT_INT32: f = scan_i32; break;
	case HWRT_INT64: f = scan_i64; break;
	case HWRT_UINT32: f = scan_u32; break;
	case HWRT_UINT64: f = scan_u64; break;
	case HWRT_FLOAT16: f = scan_f16; break;
	default: return rt_fail(e, "unsupported type");
	}
	f(t->data, out[0]->data, outer, len, inner, excl, rev);
	return 0;
}

RT_OP_DEFINE(CumSum) = { .name = "CumSum", .since = 11, .check = check, .infer = infer,
			 .run = run };
