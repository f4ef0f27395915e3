/* Less: a < b as bool, broadcasting (opset 7+). */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_CMP(lt, a < b)

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_NUMERIC(lt) }, .bool_out = true };

RT_BINARY_OP_DEFINE(Less, 7, 0);
