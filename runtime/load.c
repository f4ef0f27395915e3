/* Model loading: protobuf-c decoding of the ONNX file into the runtime's
 * graph, with every check that can name what is wrong. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onnx.pb-c.h"
#include "runtime/load.h"
#include "runtime/op.h"
#include "runtime/tensor.h"
#include "runtime/tensorproto.h"

/* Older models load when each of their operators is implemented from the
 * version they import (op->since); see rt_load_graph. */
#define OPSET_MIN 1
#define OPSET_MAX 17

static int is_default_domain(const char *d)
{
	return !d || !*d || strcmp(d, "ai.onnx") == 0;
}

static int add_named(struct rt_graph *g, const char *name, struct rt_err *e)
{
	int v = rt_graph_find(g, name);
	if (v < 0)
		v = rt_graph_add_value(g, name);
	if (v < 0)
		rt_fail(e, "out of memory");
	return v;
}

static int load_attr(struct rt_attr *a, Onnx__AttributeProto *ap, const char *label,
		     struct rt_err *e)
{
	a->name = strdup(ap->name ? ap->name : "");
	if (!a->name)
		return rt_fail(e, "out of memory");
	int type = ap->has_type ? ap->type : 0;
	if (!type) { /* IR < 3 models omit the type: infer it from the field set */
		if (ap->has_f) type = RT_ATTR_FLOAT;
		else if (ap->has_i) type = RT_ATTR_INT;
		else if (ap->has_s) type = RT_ATTR_STRING;
		else if (ap->t) type = RT_ATTR_TENSOR;
		else if (ap->g) type = RT_ATTR_GRAPH;
		else if (ap->n_floats) type = RT_ATTR_FLOATS;
		else if (ap->n_ints) type = RT_ATTR_INTS;
		else if (ap->n_strings) type = RT_ATTR_STRINGS;
	}
	a->type = (enum rt_attr_type)type;
	switch (type) {
	case RT_ATTR_FLOAT: a->f = ap->f; break;
	case RT_ATTR_INT: a->i = ap->i; break;
	case RT_ATTR_STRING:
		a->s = malloc(ap->s.len + 1);
		if (!a->s)
			return rt_fail(e, "out of memory");
		if (ap->s.len)
			memcpy(a->s, ap->s.data, ap->s.len);
		a->s[ap->s.len] = 0;
		break;
	case RT_ATTR_FLOATS:
		a->n = ap->n_floats;
		a->floats = malloc((a->n + 1) * sizeof(float));
		if (!a->floats)
			return rt_fail(e, "out of memory");
		if (a->n)
			memcpy(a->floats, ap->floats, a->n * sizeof(float));
		break;
	case RT_ATTR_INTS:
		a->n = ap->n_ints;
		a->ints = malloc((a->n + 1) * sizeof(int64_t));
		if (!a->ints)
			return rt_fail(e, "out of memory");
		if (a->n)
			memcpy(a->ints, ap->ints, a->n * sizeof(int64_t));
		break;
	case RT_ATTR_STRINGS:
		a->strings = calloc(ap->n_strings + 1, sizeof(char *));
		if (!a->strings)
			return rt_fail(e, "out of memory");
		a->n = ap->n_strings;
		for (size_t i = 0; i < ap->n_strings; i++) {
			a->strings[i] = malloc(ap->strings[i].len + 1);
			if (!a->strings[i])
				return rt_fail(e, "out of memory");
			if (ap->strings[i].len)
				memcpy(a->strings[i], ap->strings[i].data, ap->strings[i].len);
			a->strings[i][ap->strings[i].len] = 0;
		}
		break;
	case RT_ATTR_TENSOR: {
		if (!ap->t)
			return rt_fail(e, "%s: attribute '%s' has no tensor", label, a->name);
		struct hwrt_tensor t;
		void *owned;
		struct rt_err te;
		if (rt_tensor_from_proto(ap->t, NULL, NULL, &t, &owned, &te) < 0)
			return rt_fail(e, "%s: attribute '%s': %s", label, a->name, te.msg);
		/* Attributes keep one allocation: copy into a heap tensor. */
		a->t = rt_tensor_new(t.dtype, t.rank, t.dims);
		if (!a->t) {
			rt_free(owned);
			return rt_fail(e, "out of memory");
		}
		memcpy(a->t->data, t.data, hwrt_tensor_bytes(&t));
		rt_free(owned);
		break;
	}
	case RT_ATTR_GRAPH:
		return rt_fail(e, "%s: attribute '%s' is a subgraph; control flow is not "
			       "supported", label, a->name);
	default:
		return rt_fail(e, "%s: attribute '%s' has unsupported type %d", label, a->name,
			       type);
	}
	return 0;
}

/* Declared type and shape of a graph input or output. */
static int load_value_info(struct rt_graph *g, int v, Onnx__ValueInfoProto *vi, const char *what,
			   struct rt_err *e)
{
	struct rt_value *val = &g->values[v];
	Onnx__TypeProto *tp = vi->type;
	if (!tp)
		return 0; /* untyped outputs are allowed: inference fills them */
	if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
		return rt_fail(e, "%s '%s' is not a tensor; sequences and maps are not supported",
			       what, val->name);
	Onnx__TypeProto__Tensor *tt = tp->tensor_type;
	if (tt->has_elem_type && tt->elem_type) {
		if (!hwrt_dtype_size((enum hwrt_dtype)tt->elem_type))
			return rt_fail(e, "%s '%s' has unsupported element type %d", what, val->name,
				       (int)tt->elem_type);
		val->dtype = (enum hwrt_dtype)tt->elem_type;
	}
	if (!tt->shape)
		return 0;
	if (tt->shape->n_dim > HWRT_MAX_RANK)
		return rt_fail(e, "%s '%s' has rank %zu; at most %d is supported", what, val->name,
			       tt->shape->n_dim, HWRT_MAX_RANK);
	val->rank = (int)tt->shape->n_dim;
	for (size_t i = 0; i < tt->shape->n_dim; i++) {
		Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
		val->dims[i] = -1;
		if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
			if (d->dim_value < 0)
				return rt_fail(e, "%s '%s' has negative dimension %lld", what,
					       val->name, (long long)d->dim_value);
			val->dims[i] = d->dim_value;
		} else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
			val->dim_names[i] = strdup(d->dim_param ? d->dim_param : "");
			if (!val->dim_names[i])
				return rt_fail(e, "out of memory");
		}
	}
	return 0;
}

static int load_graph(struct rt_graph *g, Onnx__GraphProto *gp, const char *base_dir,
		      struct rt_err *e)
{
	/* Initializers first: inputs that name one are constants (IR < 4). */
	for (size_t i = 0; i < gp->n_initializer; i++) {
		Onnx__TensorProto *tp = gp->initializer[i];
		if (!tp->name || !*tp->name)
			return rt_fail(e, "initializer %zu has no name", i);
		if (rt_graph_find(g, tp->name) >= 0)
			return rt_fail(e, "initializer '%s' is defined twice", tp->name);
		int v = add_named(g, tp->name, e);
		if (v < 0)
			return -1;
		struct hwrt_tensor t;
		void *owned;
		if (rt_tensor_from_proto(tp, base_dir, g, &t, &owned, e) < 0)
			return -1;
		rt_value_set_const(&g->values[v], &t, owned);
	}
	if (gp->n_sparse_initializer)
		return rt_fail(e, "sparse initializers are not supported");
	g->inputs = calloc(gp->n_input + 1, sizeof(int));
	g->outputs = calloc(gp->n_output + 1, sizeof(int));
	if (!g->inputs || !g->outputs)
		return rt_fail(e, "out of memory");
	for (size_t i = 0; i < gp->n_input; i++) {
		const char *name = gp->input[i]->name;
		if (!name || !*name)
			return rt_fail(e, "graph input %zu has no name", i);
		int v = rt_graph_find(g, name);
		if (v >= 0 && g->values[v].konst)
			continue; /* an initializer listed as input: kept constant */
		if (v >= 0)
			return rt_fail(e, "graph input '%s' is listed twice", name);
		v = add_named(g, name, e);
		if (v < 0 || load_value_info(g, v, gp->input[i], "graph input", e) < 0)
			return -1;
		if (g->values[v].dtype == HWRT_UNDEFINED || g->values[v].rank < 0)
			return rt_fail(e, "graph input '%s' has no tensor type and shape", name);
		g->values[v].input_index = g->n_inputs;
		g->inputs[g->n_inputs++] = v;
	}
	for (size_t i = 0; i < gp->n_node; i++) {
		Onnx__NodeProto *np = gp->node[i];
		int ni = rt_graph_add_node(g);
		if (ni < 0)
			return rt_fail(e, "out of memory");
		struct rt_node *n = &g->nodes[ni];
		n->name = strdup(np->name ? np->name : "");
		n->op_type = strdup(np->op_type ? np->op_type : "");
		n->domain = strdup(np->domain ? np->domain : "");
		n->in = malloc((np->n_input + 1) * sizeof(int));
		n->out = malloc((np->n_output + 1) * sizeof(int));
		n->attrs = calloc(np->n_attribute + 1, sizeof(struct rt_attr));
		if (!n->name || !n->op_type || !n->domain || !n->in || !n->out || !n->attrs)
			return rt_fail(e, "out of memory");
		char label[256];
		rt_node_label(n, label, sizeof(label));
		if (!*n->op_type)
			return rt_fail(e, "node %zu has no op_type", i);
		n->op = rt_op_lookup(n->domain, n->op_type);
		if (!n->op) {
			if (is_default_domain(n->domain))
				return rt_fail(e, "%s: operator '%s' is not supported (opset %d)",
					       label, n->op_type, g->opset);
			return rt_fail(e, "%s: operator '%s' of domain '%s' is not supported", label,
				       n->op_type, n->domain);
		}
		if (n->op->since > g->opset)
			return rt_fail(e, "%s: operator '%s' is supported from opset %d; the model "
				       "imports opset %d", label, n->op_type, n->op->since, g->opset);
		n->opset = g->opset;
		for (size_t k = 0; k < np->n_attribute; k++) {
			n->n_attrs++;
			if (load_attr(&n->attrs[k], np->attribute[k], label, e) < 0)
				return -1;
		}
		for (size_t k = 0; k < np->n_input; k++) {
			n->in[k] = -1;
			n->n_in++;
			if (np->input[k] && *np->input[k] && (n->in[k] = add_named(g, np->input[k], e)) < 0)
				return -1;
		}
		for (size_t k = 0; k < np->n_output; k++) {
			n->out[k] = -1;
			n->n_out++;
			if (np->output[k] && *np->output[k] &&
			    (n->out[k] = add_named(g, np->output[k], e)) < 0)
				return -1;
		}
	}
	for (int i = 0; i < g->n_nodes; i++) {
		struct rt_node *n = &g->nodes[i];
		char label[256];
		if (n->n_out < 1 || n->out[0] < 0)
			return rt_fail(e, "%s: its first output has no name",
				       rt_node_label(n, label, sizeof(label)));
	}
	for (size_t i = 0; i < gp->n_output; i++) {
		const char *name = gp->output[i]->name;
		if (!name || !*name)
			return rt_fail(e, "graph output %zu has no name", i);
		int v = rt_graph_find(g, name);
		if (v < 0)
			return rt_fail(e, "graph output '%s' is produced by no node, input or "
				       "initializer", name);
		if (g->values[v].output_index >= 0)
			return rt_fail(e, "graph output '%s' is listed twice", name);
		/* Declared output types are checked against inference later. */
		struct rt_value saved = g->values[v];
		if (!saved.konst && load_value_info(g, v, gp->output[i], "graph output", e) < 0)
			return -1;
		g->values[v].output_index = g->n_outputs;
		g->outputs[g->n_outputs++] = v;
	}
	if (g->n_outputs == 0)
		return rt_fail(e, "the graph has no outputs");
	return 0;
}

int rt_load_graph(struct rt_graph *g, const void *buf, size_t len, const char *base_dir,
		  struct rt_err *e)
{
	Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
	if (!mp)
		return rt_fail(e, "not an ONNX model: protobuf decoding failed");
	int rc = -1;
	int opset = -1;
	for (size_t i = 0; i < mp->n_opset_import; i++) {
		Onnx__OperatorSetIdProto *o = mp->opset_import[i];
		if (is_default_domain(o->domain) && o->has_version)
			opset = (int)o->version;
	}
	if (!mp->graph) {
		rt_fail(e, "the model has no graph");
	} else if (opset < 0) {
		rt_fail(e, "the model imports no opset of the default ONNX domain");
	} else if (opset < OPSET_MIN || opset > OPSET_MAX) {
		rt_fail(e, "the model imports opset %d of the default domain; supported are %d "
			"to %d", opset, OPSET_MIN, OPSET_MAX);
	} else {
		g->opset = opset;
		rc = load_graph(g, mp->graph, base_dir, e);
	}
	onnx__model_proto__free_unpacked(mp, NULL);
	return rc;
}

int rt_read_file(const char *path, void **buf, size_t *len, size_t max, struct rt_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_fail(e, "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return rt_fail(e, "%s is not a regular file", path);
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return rt_fail(e, "%s is %lld bytes; the limit is %zu", path, (long long)st.st_size,
			       max);
	}
	char *p = malloc((size_t)st.st_size + 1);
	if (!p) {
		close(fd);
		return rt_fail(e, "out of memory reading %s", path);
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, p + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(p);
		return rt_fail(e, "short read from %s", path);
	}
	*buf = p;
	*len = got;
	return 0;
}
