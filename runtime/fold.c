/* Load-time inference and constant folding. A node whose inputs are all
 * constants runs once at load and its outputs become constants; Shape-like
 * nodes fold as soon as their input's shape is static. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/model.h"
#include "runtime/op.h"
#include "runtime/tensor.h"

/* Folding must not blow a small graph up into huge constants: per node
 * and in all. */
#define FOLD_MAX_BYTES ((size_t)64 << 20)
#define FOLD_TOTAL_MAX_BYTES ((size_t)256 << 20)

static int eval(const struct rt_graph *g, const struct rt_node *n,
		const struct hwrt_tensor *const *in, struct hwrt_tensor **outs,
		struct hwrt_tensor *shapes, struct hwrt_tensor **outp,
		const struct rt_ctx *x, char *label, struct rt_err *e);

int rt_eval_node(const struct rt_graph *g, const struct rt_node *n,
		 const struct hwrt_tensor *const *in, struct hwrt_tensor **outs,
		 const struct rt_ctx *x, struct rt_err *e)
{
	char label[256];
	struct hwrt_tensor *shapes = calloc((size_t)n->n_out + 1, sizeof(*shapes));
	struct hwrt_tensor **outp = calloc((size_t)n->n_out + 1, sizeof(*outp));
	if (!shapes || !outp) {
		free(shapes), free(outp);
		return rt_fail(e, "out of memory");
	}
	int rc = eval(g, n, in, outs, shapes, outp, x, label, e);
	free(shapes), free(outp);
	return rc;
}

static int eval(const struct rt_graph *g, const struct rt_node *n,
		const struct hwrt_tensor *const *in, struct hwrt_tensor **outs,
		struct hwrt_tensor *shapes, struct hwrt_tensor **outp,
		const struct rt_ctx *x, char *label, struct rt_err *e)
{
	for (int k = 0; k < n->n_out; k++) {
		memset(&shapes[k], 0, sizeof(shapes[k]));
		outp[k] = n->out[k] >= 0 ? &shapes[k] : NULL;
		outs[k] = NULL;
	}
	struct rt_err ie;
	int rc = n->op->infer(n, in, outp, &ie);
	if (rc == RT_NEED_VALUE)
		return RT_NEED_VALUE;
	if (rc < 0)
		return rt_fail(e, "%s: %s", rt_node_label(n, label, 256), ie.msg);
	size_t limit = g->opt.max_arena_bytes, total = 0;
	for (int k = 0; k < n->n_out; k++)
		if (outp[k])
			total += hwrt_tensor_bytes(&shapes[k]);
	if (limit && total > limit)
		return rt_fail(e, "%s: its outputs need %zu bytes; the limit is %zu",
			       rt_node_label(n, label, 256), total, limit);
	for (int k = 0; k < n->n_out; k++) {
		if (!outp[k])
			continue;
		outs[k] = rt_tensor_new(shapes[k].dtype, shapes[k].rank, shapes[k].dims);
		if (!outs[k]) {
			for (int j = 0; j < k; j++)
				rt_tensor_free(outs[j]);
			return rt_fail(e, "%s: cannot allocate output %d (%s, rank %d)",
				       rt_node_label(n, label, 256), k,
				       hwrt_dtype_name(shapes[k].dtype), shapes[k].rank);
		}
	}
	struct rt_ctx none = { NULL, g, NULL };
	if (n->op->run(n, in, outs, x ? x : &none, &ie) < 0) {
		for (int k = 0; k < n->n_out; k++)
			rt_tensor_free(outs[k]);
		return rt_fail(e, "%s: %s", rt_node_label(n, label, 256), ie.msg);
	}
	return 0;
}

static bool value_static(const struct rt_value *v)
{
	if (v->dtype == HWRT_UNDEFINED || v->rank < 0)
		return false;
	for (int d = 0; d < v->rank; d++)
		if (v->dims[d] < 0)
			return false;
	return true;
}

static int fold_node(struct rt_graph *g, struct rt_node *n, size_t *folded, size_t *folded_bytes,
		     struct rt_err *e);
static int fold_with(struct rt_graph *g, struct rt_node *n, struct hwrt_tensor *tin,
		     const struct hwrt_tensor **in, struct hwrt_tensor *shapes,
		     struct hwrt_tensor **outp, struct hwrt_tensor **outs, size_t *folded,
		     size_t *folded_bytes, struct rt_err *e);

int rt_fold_and_infer(struct rt_graph *g, size_t *folded, struct rt_err *e)
{
	*folded = 0;
	size_t folded_bytes = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		struct rt_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		int rc = fold_node(g, n, folded, &folded_bytes, e);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int fold_node(struct rt_graph *g, struct rt_node *n, size_t *folded, size_t *folded_bytes,
		     struct rt_err *e)
{
	size_t io = (size_t)(n->n_in > n->n_out ? n->n_in : n->n_out) + 1;
	struct hwrt_tensor *tin = calloc(io, sizeof(*tin)), *shapes = calloc(io, sizeof(*shapes));
	const struct hwrt_tensor **in = calloc(io, sizeof(*in));
	struct hwrt_tensor **outp = calloc(io, sizeof(*outp)), **outs = calloc(io, sizeof(*outs));
	int rc = -1;
	if (tin && shapes && in && outp && outs)
		rc = fold_with(g, n, tin, in, shapes, outp, outs, folded, folded_bytes, e);
	else
		rt_fail(e, "out of memory");
	free(tin), free(shapes), free(in), free(outp), free(outs);
	return rc;
}

static int fold_with(struct rt_graph *g, struct rt_node *n, struct hwrt_tensor *tin,
		     const struct hwrt_tensor **in, struct hwrt_tensor *shapes,
		     struct hwrt_tensor **outp, struct hwrt_tensor **outs, size_t *folded,
		     size_t *folded_bytes, struct rt_err *e)
{
	{
		bool all_static = true, all_const = true;
		char label[256];
		for (int k = 0; k < n->n_in; k++) {
			in[k] = NULL;
			if (n->in[k] < 0)
				continue;
			const struct rt_value *v = &g->values[n->in[k]];
			if (!value_static(v)) {
				all_static = false;
				break;
			}
			memset(&tin[k], 0, sizeof(tin[k]));
			tin[k].dtype = v->dtype;
			tin[k].rank = v->rank;
			memcpy(tin[k].dims, v->dims, sizeof(v->dims));
			tin[k].data = v->konst ? v->konst->data : NULL;
			if (!v->konst)
				all_const = false;
			in[k] = &tin[k];
		}
		if (!all_static)
			return 0; /* shapes bound per run */
		for (int k = 0; k < n->n_out; k++) {
			memset(&shapes[k], 0, sizeof(shapes[k]));
			outp[k] = n->out[k] >= 0 ? &shapes[k] : NULL;
		}
		struct rt_err ie;
		int rc = n->op->infer(n, in, outp, &ie);
		if (rc < 0)
			return rt_fail(e, "%s: %s", rt_node_label(n, label, sizeof(label)), ie.msg);
		if (rc == RT_NEED_VALUE)
			return 0;
		size_t out_bytes = 0;
		for (int k = 0; k < n->n_out; k++) {
			if (!outp[k])
				continue;
			struct rt_value *v = &g->values[n->out[k]];
			if (v->dtype != HWRT_UNDEFINED && v->output_index >= 0 &&
			    v->dtype != shapes[k].dtype)
				return rt_fail(e, "%s: output '%s' is %s but the graph declares %s",
					       rt_node_label(n, label, sizeof(label)), v->name,
					       hwrt_dtype_name(shapes[k].dtype),
					       hwrt_dtype_name(v->dtype));
			v->dtype = shapes[k].dtype;
			v->rank = shapes[k].rank;
			memcpy(v->dims, shapes[k].dims, sizeof(v->dims));
			out_bytes += hwrt_tensor_bytes(&shapes[k]);
		}
		bool shape_only = (n->op->flags & RT_OP_SHAPE_ONLY) != 0;
		if (g->opt.no_optimize || !(all_const || shape_only) || out_bytes > FOLD_MAX_BYTES ||
		    *folded_bytes + out_bytes > FOLD_TOTAL_MAX_BYTES ||
		    (n->op->flags & RT_OP_NONDETERMINISTIC))
			return 0;
		rc = rt_eval_node(g, n, in, outs, NULL, e);
		if (rc < 0)
			return -1;
		if (rc == RT_NEED_VALUE)
			return 0;
		for (int k = 0; k < n->n_out; k++)
			if (outs[k])
				rt_value_set_const(&g->values[n->out[k]], outs[k], outs[k]);
		n->dead = true;
		(*folded)++;
		*folded_bytes += out_bytes;
	}
	return 0;
}
