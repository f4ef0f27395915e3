/* Equal: a == b as bool, broadcasting (opset 7+; bool, integers, floats). */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_CMP(eq, a == b)

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_NUMERIC(eq), [HWRT_BOOL] = eq_u8 }, .bool_out = true };

RT_BINARY_OP_DEFINE(Equal, 7, 0);
