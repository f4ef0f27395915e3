/* Load-time inference and constant folding. A node whose inputs are all
 * constants runs once at load and its outputs become constants; Shape-like
 * nodes fold as soon as their input's shape is static. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/model.h"
#include "runtime/op.h"
#include "runtime/tensor.h"

/* Folding must not blow a small graph up into a huge constant. */
#define FOLD_MAX_BYTES ((size_t)64 << 20)

int rt_eval_node(const struct rt_graph *g, const struct rt_node *n,
		 const struct hwrt_tensor *const *in, struct hwrt_tensor **outs,
		 const struct hwk_parallel *par, struct rt_err *e)
{
	struct hwrt_tensor shapes[16], *outp[16];
	char label[256];
	if (n->n_out > 16)
		return rt_fail(e, "%s: too many outputs", rt_node_label(n, label, sizeof(label)));
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
		return rt_fail(e, "%s: %s", rt_node_label(n, label, sizeof(label)), ie.msg);
	for (int k = 0; k < n->n_out; k++) {
		if (!outp[k])
			continue;
		outs[k] = rt_tensor_new(shapes[k].dtype, shapes[k].rank, shapes[k].dims);
		if (!outs[k]) {
			for (int j = 0; j < k; j++)
				rt_tensor_free(outs[j]);
			return rt_fail(e, "%s: cannot allocate output %d (%s, rank %d)",
				       rt_node_label(n, label, sizeof(label)), k,
				       hwrt_dtype_name(shapes[k].dtype), shapes[k].rank);
		}
	}
	struct rt_ctx x = { par, g };
	if (n->op->run(n, in, outs, &x, &ie) < 0) {
		for (int k = 0; k < n->n_out; k++)
			rt_tensor_free(outs[k]);
		return rt_fail(e, "%s: %s", rt_node_label(n, label, sizeof(label)), ie.msg);
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

int rt_fold_and_infer(struct rt_graph *g, size_t *folded, struct rt_err *e)
{
	*folded = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		struct rt_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		struct hwrt_tensor tin[16];
		const struct hwrt_tensor *in[16];
		bool all_static = true, all_const = true;
		char label[256];
		if (n->n_in > 16)
			return rt_fail(e, "%s: too many inputs", rt_node_label(n, label, sizeof(label)));
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
			continue; /* shapes bound per run */
		struct hwrt_tensor shapes[16], *outp[16];
		for (int k = 0; k < n->n_out; k++) {
			memset(&shapes[k], 0, sizeof(shapes[k]));
			outp[k] = n->out[k] >= 0 ? &shapes[k] : NULL;
		}
		struct rt_err ie;
		int rc = n->op->infer(n, in, outp, &ie);
		if (rc < 0)
			return rt_fail(e, "%s: %s", rt_node_label(n, label, sizeof(label)), ie.msg);
		if (rc == RT_NEED_VALUE)
			continue;
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
		    (n->op->flags & RT_OP_NONDETERMINISTIC))
			continue;
		struct hwrt_tensor *outs[16];
		rc = rt_eval_node(g, n, in, outs, NULL, e);
		if (rc < 0)
			return -1;
		if (rc == RT_NEED_VALUE)
			continue;
		for (int k = 0; k < n->n_out; k++)
			if (outs[k])
				rt_value_set_const(&g->values[n->out[k]], outs[k], outs[k]);
		n->dead = true;
		(*folded)++;
	}
	return 0;
}
