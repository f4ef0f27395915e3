/* Relu: max(x, 0) (opset 6+; integer types from opset 14). */
#include "runtime/ops/eltwise.h"

RT_UN_KERNEL(relu_f32, float, x > 0.0f ? x : 0.0f)
RT_UN_KERNEL(relu_f64, double, x > 0.0 ? x : 0.0)
RT_UN_KERNEL(relu_i8, int8_t, x > 0 ? x : 0)
RT_UN_KERNEL(relu_i16, int16_t, x > 0 ? x : 0)
RT_UN_KERNEL(relu_i32, int32_t, x > 0 ? x : 0)
RT_UN_KERNEL(relu_i64, int64_t, x > 0 ? x : 0)
static const struct rt_unary kernels = { {
	[HWRT_FLOAT] = relu_f32, [HWRT_DOUBLE] = relu_f64, [HWRT_INT8] = relu_i8,
	[HWRT_INT16] = relu_i16, [HWRT_INT32] = relu_i32, [HWRT_INT64] = relu_i64,
} };

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

RT_OP_DEFINE(Relu) = { .name = "Relu", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		       .infer = infer, .run = run };
