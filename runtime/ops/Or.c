/* Or: logical or of bool tensors, broadcasting (opset 7+). */
#include "runtime/ops/eltwise.h"

RT_BIN_KERNEL(or_b, uint8_t, uint8_t, a || b)

static const struct rt_binary kernels = { .k = { [HWRT_BOOL] = or_b }, .bool_out = true };

RT_BINARY_OP_DEFINE(Or, 7, RT_OP_INPLACE);
