/* Add: a + b with multidirectional broadcasting (opset 7+). */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_NUMERIC(add, , a + b)
static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_NUMERIC(add) } };

RT_BINARY_OP_DEFINE(Add, 7, RT_OP_INPLACE);
