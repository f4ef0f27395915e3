/* Max: element-wise maximum of 1 or more inputs, broadcasting (opset 8+;
 * every numeric type from opset 12). NaN propagates, as numpy's maximum. */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_FLOAT(max, isnan(a) ? a : isnan(b) ? b : a > b ? a : b)
RT_BIN_ALL_INT(max, a > b ? a : b)

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_FLOAT(max), RT_BIN_TABLE_INT(max) } };

RT_VARIADIC_OP_DEFINE(Max, 6, RT_OP_INPLACE, false);
