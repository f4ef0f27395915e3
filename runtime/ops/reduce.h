/* Shared code of the reduction operators (ReduceSum, ReduceMean, ReduceMax,
 * ReduceMin, ReduceProd), of Softmax and LogSoftmax, and the float type
 * conversions the normalization operators use. */
#ifndef HWRT_OPS_REDUCE_H
#define HWRT_OPS_REDUCE_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/op.h"
#include "runtime/tensor.h"

enum rt_red { RT_RED_SUM, RT_RED_MEAN, RT_RED_PROD, RT_RED_MAX, RT_RED_MIN };

/* Axes come from the "axes" attribute, or from the optional second input
 * when axes_input (ReduceSum from opset 13, with noop_with_empty_axes). */
int rt_reduce_check(const struct rt_node *n, const struct rt_graph *g, bool axes_input,
		    struct rt_err *e);
int rt_reduce_infer(const struct rt_node *n, enum rt_red kind, const struct hwrt_tensor *const *in,
		    struct hwrt_tensor *const *out, struct rt_err *e);
int rt_reduce_run(const struct rt_node *n, enum rt_red kind, const struct hwrt_tensor *const *in,
		  struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e);

/* Softmax and LogSoftmax: before opset 13 the input is coerced to 2-D at
 * axis (default 1); from 13 they work along one axis (default -1). */
int rt_softmax_check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e);
int rt_softmax_infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		     struct hwrt_tensor *const *out, struct rt_err *e);
int rt_softmax_run(const struct rt_node *n, bool log, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e);

/* Float, double, float16 or bfloat16 (converted with rt_to_f32 and
 * friends of runtime/tensor.h). */
bool rt_is_float_type(enum hwrt_dtype dt);

/* Product of dims[a..b). */
int64_t rt_dims_prod(const int64_t *dims, int a, int b);

#endif
