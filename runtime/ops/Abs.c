/* Abs: |x| (opset 6+), every numeric type; the most negative integer stays itself (wraps, as numpy). */
#include "runtime/ops/eltwise.h"

RT_UN_KERNEL(abs_f32, float, fabsf(x))
RT_UN_KERNEL(abs_f64, double, fabs(x))
RT_UN_KERNEL(abs_i8, int8_t, x < 0 ? (int8_t)(0 - (uint64_t)x) : x)
RT_UN_KERNEL(abs_u8, uint8_t, x)
RT_UN_KERNEL(abs_i16, int16_t, x < 0 ? (int16_t)(0 - (uint64_t)x) : x)
RT_UN_KERNEL(abs_u16, uint16_t, x)
RT_UN_KERNEL(abs_i32, int32_t, x < 0 ? (int32_t)(0 - (uint64_t)x) : x)
RT_UN_KERNEL(abs_u32, uint32_t, x)
RT_UN_KERNEL(abs_i64, int64_t, x < 0 ? (int64_t)(0 - (uint64_t)x) : x)
RT_UN_KERNEL(abs_u64, uint64_t, x)

static const struct rt_unary kernels = { { [HWRT_FLOAT] = abs_f32, [HWRT_DOUBLE] = abs_f64, [HWRT_INT8] = abs_i8, [HWRT_UINT8] = abs_u8, [HWRT_INT16] = abs_i16, [HWRT_UINT16] = abs_u16, [HWRT_INT32] = abs_i32, [HWRT_UINT32] = abs_u32, [HWRT_INT64] = abs_i64, [HWRT_UINT64] = abs_u64 } };

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

RT_OP_DEFINE(Abs) = { .name = "Abs", .since = 6, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
