/* Min: element-wise minimum of 1 or more inputs, broadcasting (opset 8+;
 * every numeric type from opset 12). NaN propagates, as numpy's minimum. */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_FLOAT(min, isnan(a) ? a : isnan(b) ? b : a < b ? a : b)
RT_BIN_ALL_INT(min, a < b ? a : b)

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_FLOAT(min), RT_BIN_TABLE_INT(min) } };

RT_VARIADIC_OP_DEFINE(Min, 6, RT_OP_INPLACE, false);
