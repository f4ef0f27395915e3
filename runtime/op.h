/* The operator interface. Each ONNX operator lives in runtime/ops/<Name>.c
 * and defines one `const struct rt_op rt_op_<Name>` with RT_OP_DEFINE (or
 * RT_BINARY_OP_DEFINE or RT_VARIADIC_OP_DEFINE from ops/eltwise.h); the
 * build collects every definition into the operator table, so adding an
 * operator is adding a file. */
#ifndef HWRT_OP_H
#define HWRT_OP_H

#include "runtime/graph.h"
#include "runtime/tensor.h"

/* Calibration runs at load (reduced precisions): with reference set, the
 * nodes whose weights were quantized compute in float32 from the original
 * weights, and each records the range of its input in lo/hi (indexed by
 * node, seen[] set once recorded). */
struct rt_calib {
	bool reference;
	float *lo, *hi;
	bool *seen;
};

/* Everything a run callback may use besides its tensors. */
struct rt_ctx {
	const struct hwk_parallel *par;
	const struct rt_graph *g;
	struct rt_calib *calib; /* NULL outside calibration */
};

/* Answer of infer when it needs the data of an input that is not known
 * until run time (a shape tensor computed from a dynamic input). The
 * runtime then infers this node just before running it. */
#define RT_NEED_VALUE 1

enum {
	/* Output 0 may share input 0's buffer (same dtype and size), when
	 * input 0 dies at this node. Element-wise ops. */
	RT_OP_INPLACE = 1u << 0,
	/* Output 0 is input 0's data reinterpreted (Reshape, Squeeze...):
	 * run is skipped when the runtime can alias the buffers. */
	RT_OP_VIEW = 1u << 1,
	/* run reads only its inputs' shapes (Shape, Size): folds at load when
	 * those are static. */
	RT_OP_SHAPE_ONLY = 1u << 2,
	/* Results differ between runs (random generators): never folded. */
	RT_OP_NONDETERMINISTIC = 1u << 3,
	/* Made only by the optimizer's fusions; a model naming it is refused. */
	RT_OP_INTERNAL = 1u << 4,
};

struct rt_op {
	const char *name;
	int since; /* the first default-domain opset this implementation covers */
	unsigned flags;
	/* Load time: attributes and input/output counts are valid for
	 * n->... and g->opset. Optional. */
	int (*check)(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e);
	/* Output dtypes and shapes from the inputs'. in[i] is NULL for an
	 * absent optional input, out[i] NULL for an unused output. An input's
	 * data is NULL when its value is not known yet: return RT_NEED_VALUE if
	 * it is needed. */
	int (*infer)(const struct rt_node *n, const struct hwrt_tensor *const *in,
		     struct hwrt_tensor *const *out, struct rt_err *e);
	/* After optimization, once: prepack constant weights into n->state.
	 * Optional. */
	int (*prepare)(struct rt_node *n, const struct rt_graph *g, struct rt_err *e);
	/* Computes the outputs, whose shapes infer set and whose buffers the
	 * runtime allocated. */
	int (*run)(const struct rt_node *n, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e);
	void (*release)(struct rt_node *n); /* frees n->state; optional */
};

#define RT_OP_DEFINE(NAME) const struct rt_op rt_op_##NAME

/* The table, from the generated list. NULL when the op is unknown.
 * rt_op_lookup finds only what models may name; rt_op_internal also the
 * optimizer's own ops. */
const struct rt_op *rt_op_lookup(const char *domain, const char *name);
const struct rt_op *rt_op_internal(const char *name);

/* Helpers for op files. */
int rt_check_io(const struct rt_node *n, int min_in, int max_in, int min_out, int max_out,
		struct rt_err *e);
/* Copies shape (not data) of src to dst with a dtype. */
void rt_set_shape(struct hwrt_tensor *dst, enum hwrt_dtype dt, int rank, const int64_t *dims);
/* Normalizes a possibly negative axis against rank; -1 when out of range. */
int rt_axis(int64_t axis, int rank);
/* Reads element i of an integer tensor (int32 or int64) as int64. */
int64_t rt_int_at(const struct hwrt_tensor *t, int64_t i);
/* Reads element i of any numeric tensor as double. */
double rt_num_at(const struct hwrt_tensor *t, int64_t i);

#endif
