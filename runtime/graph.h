/* The runtime's graph: values (tensors by name) and nodes that read and
 * write them, as loaded from ONNX and then rewritten by the optimizer. */
#ifndef HWRT_GRAPH_H
#define HWRT_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/hwrt.h"

/* Load and run errors carry one message. */
struct rt_err {
	char msg[512];
};
int rt_fail(struct rt_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* AttributeProto.AttributeType numbering. */
enum rt_attr_type {
	RT_ATTR_FLOAT = 1,
	RT_ATTR_INT = 2,
	RT_ATTR_STRING = 3,
	RT_ATTR_TENSOR = 4,
	RT_ATTR_GRAPH = 5,
	RT_ATTR_FLOATS = 6,
	RT_ATTR_INTS = 7,
	RT_ATTR_STRINGS = 8,
};

struct rt_attr {
	char *name;
	enum rt_attr_type type;
	float f;
	int64_t i;
	char *s; /* NUL-terminated copy */
	struct hwrt_tensor *t;
	float *floats;
	int64_t *ints;
	char **strings;
	size_t n; /* element count of floats, ints or strings */
};

struct rt_value {
	char *name;
	enum hwrt_dtype dtype; /* HWRT_UNDEFINED: not yet known */
	int rank;              /* -1: not yet known */
	int64_t dims[HWRT_MAX_RANK]; /* -1: symbolic or unknown */
	char *dim_names[HWRT_MAX_RANK];
	struct hwrt_tensor *konst; /* &konst_t for an initializer or folded value */
	struct hwrt_tensor konst_t;
	void *konst_owned;         /* allocation to free (NULL when mapped) */
	int producer;              /* node index, -1 for inputs and constants */
	int input_index;           /* position among graph inputs, or -1 */
	int output_index;          /* position among graph outputs, or -1 */
	int consumers;             /* live nodes reading it */
};

/* Activation fused into the op that produced it (Conv, Gemm, MatMul). */
enum rt_act {
	RT_ACT_NONE = 0,
	RT_ACT_RELU,
	RT_ACT_CLIP,
	RT_ACT_SIGMOID_MUL, /* x * sigmoid(x): SiLU */
	RT_ACT_HARDSWISH,
	RT_ACT_GELU, /* erf form */
};

struct rt_node {
	char *name, *op_type, *domain;
	const struct rt_op *op;
	int opset; /* the model's default-domain opset, for version semantics */
	int n_in, n_out;
	int *in, *out; /* value indices; -1 for an absent optional */
	struct rt_attr *attrs;
	int n_attrs;
	void *state; /* the op's prepared data (packed weights) */
	bool dead;
	enum rt_act act; /* fused activation */
	float act_min, act_max;
	int bias; /* value index of a fused bias, or -1 */
	enum hwrt_precision prec; /* of the weights, as prepare packed them */
	/* int8: the input range calibration saw (else quantized per run) */
	bool has_range;
	float range_lo, range_hi;
};

struct rt_graph {
	struct rt_value *values;
	int n_values, cap_values;
	struct rt_node *nodes;
	int n_nodes, cap_nodes;
	int *inputs, n_inputs;   /* non-initializer graph inputs */
	int *outputs, n_outputs;
	int opset;               /* of the default domain */
	/* name -> value index, open addressing */
	int *hash;
	size_t hash_cap;
	/* mappings of external data files */
	struct rt_mapping *maps;
	int n_maps;
	struct hwrt_options opt;
	char **keep_fp32;
	size_t n_keep_fp32;
};

struct rt_mapping {
	void *addr;
	size_t len;
};

/* Values and nodes. Names are copied. add_value returns the index or -1
 * on allocation failure; find returns -1 when absent. */
int rt_graph_find(const struct rt_graph *g, const char *name);
int rt_graph_add_value(struct rt_graph *g, const char *name);
int rt_graph_add_node(struct rt_graph *g); /* zeroed node, index or -1 */
void rt_graph_free(struct rt_graph *g);
/* Makes v a constant holding t's shape and data; owned (freed with
 * rt_free, may be NULL) is the allocation behind the data. */
void rt_value_set_const(struct rt_value *v, const struct hwrt_tensor *t, void *owned);

/* Attributes of a node. */
const struct rt_attr *rt_attr_find(const struct rt_node *n, const char *name);
int64_t rt_attr_int(const struct rt_node *n, const char *name, int64_t dflt);
float rt_attr_float(const struct rt_node *n, const char *name, float dflt);
const char *rt_attr_string(const struct rt_node *n, const char *name, const char *dflt);
/* Returns the count and sets *out, or -1 when absent. */
int rt_attr_ints(const struct rt_node *n, const char *name, const int64_t **out);
int rt_attr_floats(const struct rt_node *n, const char *name, const float **out);
void rt_attr_free(struct rt_attr *a);

/* Orders nodes so every node follows its inputs' producers; validates that
 * each input exists and no cycle remains. Drops dead nodes. */
int rt_graph_sort(struct rt_graph *g, struct rt_err *e);
/* Recounts consumers and marks nodes whose outputs nobody reads as dead. */
size_t rt_graph_remove_dead(struct rt_graph *g);

/* keep_fp32 patterns (fnmatch) against the node's name or op type. */
bool rt_keep_fp32(const struct rt_graph *g, const struct rt_node *n);

/* The node's label for messages: "node 'name' (OpType)". */
const char *rt_node_label(const struct rt_node *n, char *buf, size_t len);

#endif
