/* Sub: a - b with multidirectional broadcasting (opset 7+); integers wrap. */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_FLOAT(sub, a - b)
RT_BIN_KERNEL(sub_i8, int8_t, int8_t, (int8_t)((uint64_t)a - (uint64_t)b))
RT_BIN_KERNEL(sub_u8, uint8_t, uint8_t, (uint8_t)((uint64_t)a - (uint64_t)b))
RT_BIN_KERNEL(sub_i16, int16_t, int16_t, (int16_t)((uint64_t)a - (uint64_t)b))
RT_BIN_KERNEL(sub_u16, uint16_t, uint16_t, (uint16_t)((uint64_t)a - (uint64_t)b))
RT_BIN_KERNEL(sub_i32, int32_t, int32_t, (int32_t)((uint64_t)a - (uint64_t)b))
RT_BIN_KERNEL(sub_u32, uint32_t, uint32_t, (uint32_t)((uint64_t)a - (uint64_t)b))
RT_BIN_KERNEL(sub_i64, int64_t, int64_t, (int64_t)((uint64_t)a - (uint64_t)b))
RT_BIN_KERNEL(sub_u64, uint64_t, uint64_t, (uint64_t)((uint64_t)a - (uint64_t)b))

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_FLOAT(sub), [HWRT_INT8] = sub_i8, [HWRT_UINT8] = sub_u8, [HWRT_INT16] = sub_i16, [HWRT_UINT16] = sub_u16, [HWRT_INT32] = sub_i32, [HWRT_UINT32] = sub_u32, [HWRT_INT64] = sub_i64, [HWRT_UINT64] = sub_u64 } };

RT_BINARY_OP_DEFINE(Sub, 7, RT_OP_INPLACE);
