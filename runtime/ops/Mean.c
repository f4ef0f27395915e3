/* Mean: element-wise mean of 1 or more inputs, broadcasting (opset 8+): the
 * sum, then one multiplication by 1/n. */
#include "runtime/ops/eltwise.h"

RT_BIN_ALL_FLOAT(sum, a + b)

static const struct rt_binary kernels = { .k = { RT_BIN_TABLE_FLOAT(sum) } };

RT_VARIADIC_OP_DEFINE(Mean, 6, RT_OP_INPLACE, true);
