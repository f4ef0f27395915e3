/* Greater: a > b as bool, broadcasting (opset 7+). */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_CMP(gt, a > b)

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_NUMERIC(gt) }, .bool_out = true };

RT_BINARY_OP_DEFINE(Greater, 7, 0);
