/* Mul: a * b with multidirectional broadcasting (opset 7+); integers wrap. */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_FLOAT(mul, a * b)
RT_BIN_KERNEL(mul_i8, int8_t, int8_t, (int8_t)((uint64_t)a * (uint64_t)b))
RT_BIN_KERNEL(mul_u8, uint8_t, uint8_t, (uint8_t)((uint64_t)a * (uint64_t)b))
RT_BIN_KERNEL(mul_i16, int16_t, int16_t, (int16_t)((uint64_t)a * (uint64_t)b))
RT_BIN_KERNEL(mul_u16, uint16_t, uint16_t, (uint16_t)((uint64_t)a * (uint64_t)b))
RT_BIN_KERNEL(mul_i32, int32_t, int32_t, (int32_t)((uint64_t)a * (uint64_t)b))
RT_BIN_KERNEL(mul_u32, uint32_t, uint32_t, (uint32_t)((uint64_t)a * (uint64_t)b))
RT_BIN_KERNEL(mul_i64, int64_t, int64_t, (int64_t)((uint64_t)a * (uint64_t)b))
RT_BIN_KERNEL(mul_u64, uint64_t, uint64_t, (uint64_t)((uint64_t)a * (uint64_t)b))

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_FLOAT(mul), [HWRT_INT8] = mul_i8, [HWRT_UINT8] = mul_u8, [HWRT_INT16] = mul_i16, [HWRT_UINT16] = mul_u16, [HWRT_INT32] = mul_i32, [HWRT_UINT32] = mul_u32, [HWRT_INT64] = mul_i64, [HWRT_UINT64] = mul_u64 } };

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 2, 1, 1, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	return rt_binary_infer(&kernels, in, out, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return rt_binary_run(&kernels, in[0], in[1], out[0], x->par, e);
}

RT_OP_DEFINE(Mul) = { .name = "Mul", .since = 7, .flags = RT_OP_INPLACE, .check = check,
		.infer = infer, .run = run };
