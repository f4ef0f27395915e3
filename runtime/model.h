/* The loaded model and the passes that prepare it. */
#ifndef HWRT_MODEL_H
#define HWRT_MODEL_H

#include "runtime/graph.h"

struct hwrt_model {
	struct rt_graph g;
	struct hwrt_io_info *in_info, *out_info;
	struct hwrt_model_stats stats;
};

/* Shapes and types of every value whose inputs are static, folding nodes
 * whose inputs are all constant. Errors name the node. */
int rt_fold_and_infer(struct rt_graph *g, size_t *folded, struct rt_err *e);
/* Pattern rewrites (Conv+BN, bias and activation epilogues, LayerNorm,
 * GELU, attention). Returns the number of nodes removed by fusion. */
int rt_fuse(struct rt_graph *g, size_t *fused, struct rt_err *e);
/* Runs one node into freshly allocated outputs (load-time evaluation).
 * outs[k] receive heap tensors (rt_tensor_new) or NULL for absent outputs. */
int rt_eval_node(const struct rt_graph *g, const struct rt_node *n,
		 const struct hwrt_tensor *const *in, struct hwrt_tensor **outs,
		 const struct hwk_parallel *par, struct rt_err *e);

#endif
