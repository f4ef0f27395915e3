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

RT_BINARY_OP_DEFINE(Mul, 7, RT_OP_INPLACE);
