/* Div: a / b with multidirectional broadcasting (opset 7+). Integer division
 * truncates toward zero (C, and the ONNX reference's astype of the quotient);
 * division by zero gives 0 and MIN / -1 wraps, where numpy would warn. */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_FLOAT(div, a / b)
RT_BIN_KERNEL(div_i8, int8_t, int8_t, b == 0 ? 0 : b == -1 ? (int8_t)(0 - (uint64_t)a) : a / b)
RT_BIN_KERNEL(div_u8, uint8_t, uint8_t, b == 0 ? 0 : a / b)
RT_BIN_KERNEL(div_i16, int16_t, int16_t, b == 0 ? 0 : b == -1 ? (int16_t)(0 - (uint64_t)a) : a / b)
RT_BIN_KERNEL(div_u16, uint16_t, uint16_t, b == 0 ? 0 : a / b)
RT_BIN_KERNEL(div_i32, int32_t, int32_t, b == 0 ? 0 : b == -1 ? (int32_t)(0 - (uint64_t)a) : a / b)
RT_BIN_KERNEL(div_u32, uint32_t, uint32_t, b == 0 ? 0 : a / b)
RT_BIN_KERNEL(div_i64, int64_t, int64_t, b == 0 ? 0 : b == -1 ? (int64_t)(0 - (uint64_t)a) : a / b)
RT_BIN_KERNEL(div_u64, uint64_t, uint64_t, b == 0 ? 0 : a / b)

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_FLOAT(div), [HWRT_INT8] = div_i8, [HWRT_UINT8] = div_u8, [HWRT_INT16] = div_i16, [HWRT_UINT16] = div_u16, [HWRT_INT32] = div_i32, [HWRT_UINT32] = div_u32, [HWRT_INT64] = div_i64, [HWRT_UINT64] = div_u64 } };

RT_BINARY_OP_DEFINE(Div, 7, RT_OP_INPLACE);
