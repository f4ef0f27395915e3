/* PRelu: x < 0 ? slope x : x, the slope broadcast to X (opset 7+; integer
 * types from opset 16, wrapping). */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_FLOAT(prelu, a < 0 ? a * b : a)
RT_BIN_KERNEL(prelu_i8, int8_t, int8_t, a < 0 ? (int8_t)(a * b) : a)
RT_BIN_KERNEL(prelu_i16, int16_t, int16_t, a < 0 ? (int16_t)(a * b) : a)
RT_BIN_KERNEL(prelu_i32, int32_t, int32_t, a < 0 ? (int32_t)((uint64_t)a * (uint64_t)b) : a)
RT_BIN_KERNEL(prelu_i64, int64_t, int64_t, a < 0 ? (int64_t)((uint64_t)a * (uint64_t)b) : a)
RT_BIN_KERNEL(prelu_u8, uint8_t, uint8_t, b ? a : a)
RT_BIN_KERNEL(prelu_u16, uint16_t, uint16_t, b ? a : a)
RT_BIN_KERNEL(prelu_u32, uint32_t, uint32_t, b ? a : a)
RT_BIN_KERNEL(prelu_u64, uint64_t, uint64_t, b ? a : a)
static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_FLOAT(prelu), RT_BIN_TABLE_INT(prelu) } };

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 2, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	if (rt_binary_infer(&kernels, in, out, e))
		return -1;
	if (!rt_same_shape(out[0], in[0]))
		return rt_fail(e, "the slope does not broadcast to X's shape");
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_binary_run(&kernels, in[0], in[1], out[0], x->par, e);
}

RT_OP_DEFINE(PRelu) = { .name = "PRelu", .since = 7, .flags = RT_OP_INPLACE, .check = check,
			.infer = infer, .run = run };
