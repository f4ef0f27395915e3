/* Neg: -x (opset 6+), float and signed integer types (wrapping). */
#include "runtime/ops/eltwise.h"

RT_UN_KERNEL(neg_f32, float, -x)
RT_UN_KERNEL(neg_f64, double, -x)
RT_UN_KERNEL(neg_i8, int8_t, (int8_t)(0 - (uint64_t)x))
RT_UN_KERNEL(neg_i16, int16_t, (int16_t)(0 - (uint64_t)x))
RT_UN_KERNEL(neg_i32, int32_t, (int32_t)(0 - (uint64_t)x))
RT_UN_KERNEL(neg_i64, int64_t, (int64_t)(0 - (uint64_t)x))

static const struct rt_unary kernels = { { [HWRT_FLOAT] = neg_f32, [HWRT_DOUBLE] = neg_f64, [HWRT_INT8] = neg_i8, [HWRT_INT16] = neg_i16, [HWRT_INT32] = neg_i32, [HWRT_INT64] = neg_i64 } };

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 1, 1, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_unary_infer(&kernels, in, out, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_unary_run(&kernels, n, in[0], out[0], x->par, e);
}

RT_OP_DEFINE(Neg) = { .name = "Neg", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
