/* Shared code of the pooling ops: window inference and an N-D
 * pooling, with libhwk's 2-D pooling for the common float32 cases. */
#ifndef HWRT_OPS_POOL_H
#define HWRT_OPS_POOL_H

#include "runtime/ops/compute.h"

/* Attribute checks against the opset: ceil_mode and dilations from 10. */
int rt_pool_check(const struct rt_node *n, const struct rt_graph *g, bool is_max,
		  struct rt_err *e);
/* Shapes of Y (and of Indices when out[1] is set) from X. */
int rt_pool_infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		  struct hwrt_tensor *const *out, bool is_max, struct rt_err *e);
int rt_pool_run(const struct rt_node *n, const struct hwrt_tensor *const *in,
		struct hwrt_tensor *const *out, const struct rt_ctx *x, bool is_max,
		struct rt_err *e);

/* GlobalAveragePool and GlobalMaxPool: [N, C, 1, ...] from [N, C, ...]. */
int rt_global_pool_infer(const struct hwrt_tensor *x, struct hwrt_tensor *y, struct rt_err *e);
int rt_global_pool_f32(enum hwk_pool_kind kind, const struct hwrt_tensor *x,
		       struct hwrt_tensor *y, const struct hwk_parallel *par, struct rt_err *e);

#endif
