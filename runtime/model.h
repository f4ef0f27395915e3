/* The loaded model and the passes that prepare it. */
#ifndef HWRT_MODEL_H
#define HWRT_MODEL_H

#include "runtime/graph.h"

struct rt_ctx;
struct rt_calib;

struct hwrt_model {
	struct rt_graph g;
	struct hwrt_io_info *in_info, *out_info;
	struct hwrt_model_stats stats;
	struct hwrt_accuracy *accuracy; /* n_outputs entries, or NULL */
};

/* Checks a reduced-precision model against fp32 on calibration inputs
 * (hwrt_options), sets static int8 ranges when calibration tensors were
 * given, and refuses the model when an output's cosine similarity is under
 * the bound. Nothing to do for fp32. */
int rt_calibrate(struct hwrt_model *m, struct rt_err *e);

/* Shapes and types of every value whose inputs are static, folding nodes
 * whose inputs are all constant. Errors name the node. */
int rt_fold_and_infer(struct rt_graph *g, size_t *folded, struct rt_err *e);
/* Pattern rewrites (Conv+BN, bias and activation epilogues, LayerNorm,
 * GELU, attention). Returns the number of nodes removed by fusion. */
int rt_fuse(struct rt_graph *g, size_t *fused, struct rt_err *e);
/* Runs one node into freshly allocated outputs (load-time evaluation).
 * outs[k] receive heap tensors (rt_tensor_new) or NULL for absent outputs.
 * x may be NULL (one thread, no calibration). */
int rt_eval_node(const struct rt_graph *g, const struct rt_node *n,
		 const struct hwrt_tensor *const *in, struct hwrt_tensor **outs,
		 const struct rt_ctx *x, struct rt_err *e);

/* hwrt_run with a calibration record (NULL: an ordinary run). */
int rt_session_run(struct hwrt_session *s, const struct hwrt_tensor *inputs, size_t n_inputs,
		   struct hwrt_tensor *outputs, size_t n_outputs, const struct hwk_parallel *par,
		   struct rt_calib *calib, struct rt_err *e);

#endif
