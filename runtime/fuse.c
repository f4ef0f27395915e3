/* Graph rewrites that fuse patterns into fewer, faster nodes. Each rule
 * starts at one node, follows values that have exactly one reader (and are
 * not graph outputs), checks constants, and rewires: the fused node takes
 * over the last output and the rest are marked dead. Rules run to a fixed
 * point; shapes and the order are recomputed by the passes after. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/model.h"
#include "runtime/op.h"
#include "runtime/tensor.h"

struct fuse {
	struct rt_graph *g;
	int *readers; /* per value: live nodes reading it */
	int *first;   /* per value: one of them */
	int *prod;    /* per value: live producing node, -1 */
	struct rt_err *e;
};

static void index_graph(struct fuse *f)
{
	struct rt_graph *g = f->g;
	for (int v = 0; v < g->n_values; v++)
		f->readers[v] = 0, f->first[v] = -1, f->prod[v] = -1;
	for (int i = 0; i < g->n_nodes; i++) {
		struct rt_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->n_in + 1; k++) {
			int v = k < n->n_in ? n->in[k] : n->bias;
			if (v < 0)
				continue;
			f->readers[v]++;
			f->first[v] = i;
		}
		for (int k = 0; k < n->n_out; k++)
			if (n->out[k] >= 0)
				f->prod[n->out[k]] = i;
	}
}

static struct rt_node *N(struct fuse *f, int i)
{
	return i >= 0 ? &f->g->nodes[i] : NULL;
}

static bool is(const struct rt_node *n, const char *op)
{
	return n && !n->dead && strcmp(n->op_type, op) == 0;
}

/* The one node reading v, when v is read once and is not a graph output. */
static int sole_reader(struct fuse *f, int v)
{
	if (v < 0 || f->readers[v] != 1 || f->g->values[v].output_index >= 0)
		return -1;
	return f->first[v];
}

static const struct hwrt_tensor *konst(struct fuse *f, int v)
{
	return v >= 0 ? f->g->values[v].konst : NULL;
}

static bool const_scalar(struct fuse *f, int v, float *out)
{
	const struct hwrt_tensor *t = konst(f, v);
	if (!t || t->dtype != HWRT_FLOAT || hwrt_tensor_count(t) != 1)
		return false;
	*out = *(const float *)t->data;
	return true;
}

static bool near(float a, float b)
{
	return fabsf(a - b) <= 1e-3f * fabsf(b);
}

/* The input of a two-input node other than v, or -1. */
static int other_input(const struct rt_node *n, int v)
{
	if (n->n_in != 2)
		return -1;
	if (n->in[0] == v)
		return n->in[1];
	if (n->in[1] == v)
		return n->in[0];
	return -1;
}

static int new_const(struct fuse *f, const char *base, const char *suffix,
		     struct hwrt_tensor *t)
{
	char name[512];
	for (int i = 0;; i++) {
		snprintf(name, sizeof(name), "%s/%s%s%.0d", base, suffix, i ? "_" : "", i);
		if (rt_graph_find(f->g, name) < 0)
			break;
	}
	int v = rt_graph_add_value(f->g, name);
	if (v < 0) {
		rt_tensor_free(t);
		return rt_fail(f->e, "out of memory");
	}
	rt_value_set_const(&f->g->values[v], t, t);
	return v;
}

/* A node of an op (internal ones too) with room for its inputs and outputs. */
static int new_node(struct fuse *f, const char *op_type, const char *name, int n_in, int n_out)
{
	struct rt_graph *g = f->g;
	const struct rt_op *op = rt_op_internal(op_type);
	if (!op)
		return -1;
	int i = rt_graph_add_node(g);
	if (i < 0)
		return rt_fail(f->e, "out of memory"), -2;
	struct rt_node *n = &g->nodes[i];
	n->op = op;
	n->name = strdup(name);
	n->op_type = strdup(op_type);
	n->domain = strdup("");
	n->in = calloc((size_t)n_in + 1, sizeof(int));
	n->out = calloc((size_t)n_out + 1, sizeof(int));
	n->attrs = calloc(4, sizeof(struct rt_attr));
	if (!n->name || !n->op_type || !n->domain || !n->in || !n->out || !n->attrs)
		return rt_fail(f->e, "out of memory"), -2;
	n->n_in = n_in;
	n->n_out = n_out;
	return i;
}

static int add_attr(struct rt_node *n, const char *name, enum rt_attr_type type, float fv,
		    int64_t iv)
{
	struct rt_attr *a = &n->attrs[n->n_attrs];
	memset(a, 0, sizeof(*a));
	a->name = strdup(name);
	if (!a->name)
		return -1;
	a->type = type;
	a->f = fv;
	a->i = iv;
	n->n_attrs++;
	return 0;
}

/* Conv followed by BatchNormalization with constant statistics: scale the
 * filters and shift the bias. */
static int conv_bn(struct fuse *f, int ci)
{
	struct rt_node *c = N(f, ci);
	if (!is(c, "Conv") || c->n_out != 1 || c->act || c->bias >= 0)
		return 0;
	struct rt_node *bn = N(f, sole_reader(f, c->out[0]));
	if (!is(bn, "BatchNormalization") || bn->n_in != 5 || bn->in[0] != c->out[0])
		return 0;
	for (int k = 1; k < bn->n_out; k++)
		if (bn->out[k] >= 0 && (f->readers[bn->out[k]] || f->g->values[bn->out[k]].output_index >= 0))
			return 0;
	if (rt_attr_int(bn, "training_mode", 0))
		return 0;
	const struct hwrt_tensor *w = konst(f, c->in[1]), *b = c->n_in > 2 ? konst(f, c->in[2]) : NULL;
	if (!w || w->dtype != HWRT_FLOAT || w->rank < 3 || (c->n_in > 2 && c->in[2] >= 0 && !b))
		return 0;
	int64_t oc = w->dims[0], per = hwrt_tensor_count(w) / (oc ? oc : 1);
	const struct hwrt_tensor *p[4];
	for (int k = 0; k < 4; k++) {
		p[k] = konst(f, bn->in[k + 1]);
		if (!p[k] || p[k]->dtype != HWRT_FLOAT || hwrt_tensor_count(p[k]) != oc)
			return 0;
	}
	float eps = rt_attr_float(bn, "epsilon", 1e-5f);
	struct hwrt_tensor *nw = rt_tensor_new(HWRT_FLOAT, w->rank, w->dims);
	struct hwrt_tensor *nb = rt_tensor_new(HWRT_FLOAT, 1, &oc);
	if (!nw || !nb) {
		rt_tensor_free(nw);
		rt_tensor_free(nb);
		return rt_fail(f->e, "out of memory");
	}
	const float *gamma = p[0]->data, *beta = p[1]->data, *mean = p[2]->data, *var = p[3]->data;
	for (int64_t o = 0; o < oc; o++) {
		float s = gamma[o] / sqrtf(var[o] + eps);
		for (int64_t j = 0; j < per; j++)
			((float *)nw->data)[o * per + j] = ((const float *)w->data)[o * per + j] * s;
		float b0 = b ? ((const float *)b->data)[o] : 0.0f;
		((float *)nb->data)[o] = (b0 - mean[o]) * s + beta[o];
	}
	const char *base = c->name && *c->name ? c->name : "conv";
	int wv = new_const(f, base, "bn_weight", nw);
	if (wv < 0)
		return -1;
	int bv = new_const(f, base, "bn_bias", nb);
	if (bv < 0)
		return -1;
	c = N(f, ci); /* the value table may have moved, nodes have not */
	if (c->n_in < 3) {
		int *in = realloc(c->in, 4 * sizeof(int));
		if (!in)
			return rt_fail(f->e, "out of memory");
		c->in = in;
		c->n_in = 3;
	}
	c->in[1] = wv;
	c->in[2] = bv;
	c->out[0] = bn->out[0];
	bn->dead = true;
	return 1;
}

/* The length of the output's last dim (MatMul, Gemm) or channel dim (Conv),
 * when the graph tells it. */
static int64_t out_channels(struct fuse *f, const struct rt_node *n)
{
	const struct rt_value *o = &f->g->values[n->out[0]];
	if (strcmp(n->op_type, "Conv") == 0) {
		const struct hwrt_tensor *w = konst(f, n->in[1]);
		return w && w->rank >= 1 ? w->dims[0] : -1;
	}
	if (o->rank >= 1 && o->dims[o->rank - 1] >= 0)
		return o->dims[o->rank - 1];
	const struct hwrt_tensor *b = konst(f, n->in[1]);
	if (!b || b->rank < 1)
		return -1;
	if (strcmp(n->op_type, "Gemm") == 0 && rt_attr_int(n, "transB", 0))
		return b->dims[0];
	return b->dims[b->rank - 1];
}

static bool producer_op(const struct rt_node *n)
{
	return n && !n->dead &&
	       (strcmp(n->op_type, "Conv") == 0 || strcmp(n->op_type, "MatMul") == 0 ||
		strcmp(n->op_type, "Gemm") == 0) &&
	       n->n_out == 1;
}

/* MatMul/Gemm/Conv + Add(constant bias along the output channels). */
static int bias_add(struct fuse *f, int pi)
{
	struct rt_node *p = N(f, pi);
	if (!producer_op(p) || p->bias >= 0 || p->act)
		return 0;
	if (strcmp(p->op_type, "Gemm") == 0 && p->n_in > 2 && p->in[2] >= 0)
		return 0; /* Gemm's own C is the bias */
	struct rt_node *a = N(f, sole_reader(f, p->out[0]));
	if (!is(a, "Add"))
		return 0;
	int bv = other_input(a, p->out[0]);
	const struct hwrt_tensor *b = konst(f, bv);
	int64_t ch = out_channels(f, p);
	if (!b || b->dtype != HWRT_FLOAT || ch < 0 || hwrt_tensor_count(b) != ch)
		return 0;
	/* The bias must lie along the channel axis: [C] or [1..1, C] for
	 * MatMul and Gemm, [C, 1, ...] or [1, C, 1, ...] for Conv. */
	bool conv = strcmp(p->op_type, "Conv") == 0;
	const struct rt_value *o = &f->g->values[p->out[0]];
	if (o->rank >= 0 && b->rank > o->rank)
		return 0;
	for (int d = 0; d < b->rank; d++) {
		int from_end = b->rank - d; /* 1 = last */
		bool channel_axis = conv ? (o->rank > 0 && from_end == o->rank - 1) : from_end == 1;
		if (conv && o->rank < 0)
			return 0;
		if (!channel_axis && b->dims[d] != 1)
			return 0;
	}
	p->bias = bv;
	p->out[0] = a->out[0];
	a->dead = true;
	return 1;
}

/* An activation after MatMul/Gemm/Conv (with or without a fused bias). */
static int activation(struct fuse *f, int pi)
{
	struct rt_node *p = N(f, pi);
	if (!producer_op(p) || p->act)
		return 0;
	int t = p->out[0];
	if (f->g->values[t].output_index >= 0)
		return 0;
	if (f->readers[t] == 2) { /* x * sigmoid(x) */
		for (int i = 0; i < f->g->n_nodes; i++) {
			struct rt_node *s = N(f, i);
			if (!is(s, "Sigmoid") || s->in[0] != t)
				continue;
			struct rt_node *m = N(f, sole_reader(f, s->out[0]));
			if (!is(m, "Mul") || other_input(m, s->out[0]) != t)
				return 0;
			p->act = RT_ACT_SIGMOID_MUL;
			p->out[0] = m->out[0];
			s->dead = m->dead = true;
			return 1;
		}
		return 0;
	}
	struct rt_node *a = N(f, sole_reader(f, t));
	if (!a || a->dead || a->n_out < 1)
		return 0;
	if (is(a, "Relu")) {
		p->act = RT_ACT_RELU;
	} else if (is(a, "Gelu")) {
		p->act = RT_ACT_GELU;
	} else if (is(a, "HardSwish")) {
		p->act = RT_ACT_HARDSWISH;
	} else if (is(a, "Clip")) {
		float lo = -INFINITY, hi = INFINITY;
		if (f->g->opset < 11) {
			lo = rt_attr_float(a, "min", -INFINITY);
			hi = rt_attr_float(a, "max", INFINITY);
		} else {
			if (a->n_in > 1 && a->in[1] >= 0 && !const_scalar(f, a->in[1], &lo))
				return 0;
			if (a->n_in > 2 && a->in[2] >= 0 && !const_scalar(f, a->in[2], &hi))
				return 0;
		}
		p->act = RT_ACT_CLIP;
		p->act_min = lo;
		p->act_max = hi;
	} else {
		return 0;
	}
	p->out[0] = a->out[0];
	a->dead = true;
	return 1;
}

/* HardSigmoid(x; 1/6, 1/2) * x is HardSwish. */
static int hardswish(struct fuse *f, int hi)
{
	struct rt_node *h = N(f, hi);
	if (!is(h, "HardSigmoid") || !near(rt_attr_float(h, "alpha", 0.2f), 1.0f / 6) ||
	    !near(rt_attr_float(h, "beta", 0.5f), 0.5f))
		return 0;
	int x = h->in[0];
	struct rt_node *m = N(f, sole_reader(f, h->out[0]));
	if (!is(m, "Mul") || other_input(m, h->out[0]) != x)
		return 0;
	char name[512];
	snprintf(name, sizeof(name), "%s/hardswish", h->name);
	int ni = new_node(f, "HardSwish", name, 1, 1);
	if (ni < 0)
		return ni == -1 ? 0 : -1;
	h = N(f, hi);
	m = N(f, f->first[h->out[0]]);
	struct rt_node *n = N(f, ni);
	n->in[0] = x;
	n->out[0] = m->out[0];
	h->dead = m->dead = true;
	return 1;
}

/* 0.5 * x * (1 + erf(x / sqrt 2)), in the two orders exporters write it. */
static int gelu(struct fuse *f, int ei)
{
	struct rt_node *er = N(f, ei);
	if (!is(er, "Erf"))
		return 0;
	struct rt_node *d = N(f, f->prod[er->in[0]]);
	float c;
	int x;
	if (is(d, "Div") && const_scalar(f, d->in[1], &c) && near(c, sqrtf(2.0f)))
		x = d->in[0];
	else if (is(d, "Mul") && ((const_scalar(f, d->in[1], &c) && (x = d->in[0]) >= 0) ||
				  (const_scalar(f, d->in[0], &c) && (x = d->in[1]) >= 0)) &&
		 near(c, 1.0f / sqrtf(2.0f)))
		;
	else
		return 0;
	if (sole_reader(f, d->out[0]) != ei)
		return 0;
	struct rt_node *a = N(f, sole_reader(f, er->out[0]));
	if (!is(a, "Add") || !const_scalar(f, other_input(a, er->out[0]), &c) || !near(c, 1.0f))
		return 0;
	struct rt_node *m = N(f, sole_reader(f, a->out[0]));
	if (!is(m, "Mul"))
		return 0;
	int other = other_input(m, a->out[0]), out;
	struct rt_node *m2 = NULL, *h = NULL;
	if (other == x) { /* (x * (1 + erf)) * 0.5 */
		m2 = N(f, sole_reader(f, m->out[0]));
		if (!is(m2, "Mul") || !const_scalar(f, other_input(m2, m->out[0]), &c) ||
		    !near(c, 0.5f))
			return 0;
		out = m2->out[0];
	} else { /* (x * 0.5) * (1 + erf) */
		h = N(f, f->prod[other]);
		if (!is(h, "Mul") || sole_reader(f, other) < 0 ||
		    !const_scalar(f, other_input(h, x), &c) || !near(c, 0.5f))
			return 0;
		out = m->out[0];
	}
	int di = f->prod[er->in[0]], ai = f->first[er->out[0]], mi = f->first[a->out[0]];
	int m2i = m2 ? f->first[m->out[0]] : -1, hi = h ? f->prod[other] : -1;
	char name[512];
	snprintf(name, sizeof(name), "%s/gelu", er->name);
	int ni = new_node(f, "Gelu", name, 1, 1);
	if (ni < 0)
		return ni == -1 ? 0 : -1;
	struct rt_node *n = N(f, ni);
	n->in[0] = x;
	n->out[0] = out;
	N(f, di)->dead = N(f, ei)->dead = N(f, ai)->dead = N(f, mi)->dead = true;
	if (m2i >= 0)
		N(f, m2i)->dead = true;
	if (hi >= 0)
		N(f, hi)->dead = true;
	return 1;
}

/* ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div, Mul gamma, Add
 * beta: LayerNormalization over the last axis. */
static bool last_axis_mean(struct fuse *f, const struct rt_node *r, int x)
{
	const int64_t *axes;
	if (!is(r, "ReduceMean") || rt_attr_int(r, "keepdims", 1) != 1 ||
	    rt_attr_ints(r, "axes", &axes) != 1)
		return false;
	int rank = f->g->values[x].rank;
	return axes[0] == -1 || (rank > 0 && axes[0] == rank - 1);
}

static int layernorm(struct fuse *f, int ri)
{
	struct rt_node *r1 = N(f, ri);
	if (!is(r1, "ReduceMean"))
		return 0;
	int x = r1->in[0];
	if (!last_axis_mean(f, r1, x))
		return 0;
	struct rt_node *sub = N(f, sole_reader(f, r1->out[0]));
	if (!is(sub, "Sub") || sub->in[0] != x || sub->in[1] != r1->out[0])
		return 0;
	int dv = sub->out[0];
	if (f->readers[dv] != 2 || f->g->values[dv].output_index >= 0)
		return 0;
	struct rt_node *pw = NULL, *div = NULL;
	for (int i = 0; i < f->g->n_nodes; i++) {
		struct rt_node *n = N(f, i);
		if (is(n, "Pow") && n->in[0] == dv)
			pw = n;
		else if (is(n, "Div") && n->in[0] == dv)
			div = n;
	}
	float c;
	if (!pw || !div || !const_scalar(f, pw->in[1], &c) || c != 2.0f)
		return 0;
	struct rt_node *r2 = N(f, sole_reader(f, pw->out[0]));
	if (!last_axis_mean(f, r2, dv))
		return 0;
	struct rt_node *ae = N(f, sole_reader(f, r2->out[0]));
	float eps;
	if (!is(ae, "Add") || !const_scalar(f, other_input(ae, r2->out[0]), &eps))
		return 0;
	struct rt_node *sq = N(f, sole_reader(f, ae->out[0]));
	if (!is(sq, "Sqrt") || sole_reader(f, sq->out[0]) < 0 ||
	    N(f, sole_reader(f, sq->out[0])) != div || div->in[1] != sq->out[0])
		return 0;
	struct rt_node *mg = N(f, sole_reader(f, div->out[0]));
	int gamma = mg && is(mg, "Mul") ? other_input(mg, div->out[0]) : -1;
	const struct hwrt_tensor *gt = konst(f, gamma);
	if (!gt || gt->dtype != HWRT_FLOAT || gt->rank != 1)
		return 0;
	struct rt_node *ab = N(f, sole_reader(f, mg->out[0]));
	int beta = ab && is(ab, "Add") ? other_input(ab, mg->out[0]) : -1;
	const struct hwrt_tensor *bt = konst(f, beta);
	if (!bt || bt->dtype != HWRT_FLOAT || bt->rank != 1 || bt->dims[0] != gt->dims[0])
		ab = NULL, beta = -1;
	int out = ab ? ab->out[0] : mg->out[0];
	struct rt_node *dead[9] = { r1, sub, pw, r2, ae, sq, div, mg, ab };
	int idx[9];
	for (int k = 0; k < 9; k++)
		idx[k] = dead[k] ? (int)(dead[k] - f->g->nodes) : -1;
	char name[512];
	snprintf(name, sizeof(name), "%s/layernorm", r1->name);
	int ni = new_node(f, "LayerNormalization", name, beta >= 0 ? 3 : 2, 1);
	if (ni < 0)
		return ni == -1 ? 0 : -1;
	struct rt_node *n = N(f, ni);
	n->in[0] = x;
	n->in[1] = gamma;
	if (beta >= 0)
		n->in[2] = beta;
	n->out[0] = out;
	if (add_attr(n, "axis", RT_ATTR_INT, 0, -1) < 0 ||
	    add_attr(n, "epsilon", RT_ATTR_FLOAT, eps, 0) < 0)
		return rt_fail(f->e, "out of memory");
	for (int k = 0; k < 9; k++)
		if (idx[k] >= 0)
			N(f, idx[k])->dead = true;
	return 1;
}

/* MatMul(Q, Transpose(K)) [* or / scale] [+ mask] -> Softmax -> MatMul(., V)
 * over rank-4 [batch, heads, seq, dim] tensors: the flash kernel. */
static int attention(struct fuse *f, int si)
{
	struct rt_node *sm = N(f, si);
	if (!is(sm, "Softmax"))
		return 0;
	int s = sm->in[0];
	const struct rt_value *sv = &f->g->values[s];
	int64_t axis = rt_attr_int(sm, "axis", f->g->opset >= 13 ? -1 : 1);
	if (sv->rank != 4 || (axis != -1 && axis != 3))
		return 0;
	struct rt_node *mm2 = N(f, sole_reader(f, sm->out[0]));
	if (!is(mm2, "MatMul") || mm2->in[0] != sm->out[0])
		return 0;
	int cur = s, mask = -1;
	float scale = 1.0f, c;
	int chain[4], nc = 0;
	struct rt_node *p = N(f, f->prod[cur]);
	if (is(p, "Add") && sole_reader(f, cur) == si) {
		int a = p->in[0], b = p->in[1];
		struct rt_node *pa = N(f, f->prod[a]);
		int m = (is(pa, "MatMul") || is(pa, "Div") || is(pa, "Mul")) ? b : a;
		const struct rt_value *mv = &f->g->values[m];
		if (mv->dtype != HWRT_FLOAT || mv->rank < 2 || mv->rank > 4 ||
		    (mv->rank == 4 && mv->dims[1] != 1) || (mv->rank == 3 && mv->dims[0] != 1))
			return 0;
		for (int d = 0; d < mv->rank; d++)
			if (mv->dims[d] < 0)
				return 0;
		mask = m;
		chain[nc++] = f->prod[cur];
		cur = other_input(p, m);
		p = N(f, f->prod[cur]);
	}
	if ((is(p, "Div") || is(p, "Mul")) && const_scalar(f, p->in[1], &c) && c != 0 &&
	    sole_reader(f, cur) >= 0) {
		scale = is(p, "Div") ? 1.0f / c : c;
		chain[nc++] = f->prod[cur];
		cur = p->in[0];
		p = N(f, f->prod[cur]);
	}
	if (!is(p, "MatMul") || sole_reader(f, cur) < 0)
		return 0;
	int mm1 = f->prod[cur];
	struct rt_node *tr = N(f, f->prod[p->in[1]]);
	const int64_t *perm;
	if (!is(tr, "Transpose") || rt_attr_ints(tr, "perm", &perm) != 4 || perm[0] != 0 ||
	    perm[1] != 1 || perm[2] != 3 || perm[3] != 2)
		return 0;
	int q = p->in[0], k = tr->in[0], v = mm2->in[1];
	for (int t = 0; t < 3; t++) {
		const struct rt_value *val = &f->g->values[t == 0 ? q : t == 1 ? k : v];
		if (val->dtype != HWRT_FLOAT || val->rank != 4)
			return 0;
	}
	int tri = sole_reader(f, p->in[1]) == mm1 ? f->prod[p->in[1]] : -1;
	int mm2i = f->first[sm->out[0]];
	char name[512];
	snprintf(name, sizeof(name), "%s/attention", sm->name);
	int ni = new_node(f, "FusedAttention", name, mask >= 0 ? 4 : 3, 1);
	if (ni < 0)
		return ni == -1 ? 0 : -1;
	struct rt_node *n = N(f, ni);
	n->in[0] = q;
	n->in[1] = k;
	n->in[2] = v;
	if (mask >= 0)
		n->in[3] = mask;
	n->out[0] = N(f, mm2i)->out[0];
	if (add_attr(n, "scale", RT_ATTR_FLOAT, scale, 0) < 0)
		return rt_fail(f->e, "out of memory");
	N(f, si)->dead = N(f, mm2i)->dead = N(f, mm1)->dead = true;
	for (int j = 0; j < nc; j++)
		N(f, chain[j])->dead = true;
	if (tri >= 0)
		N(f, tri)->dead = true;
	return 1;
}

typedef int (*rule_fn)(struct fuse *f, int node);

int rt_fuse(struct rt_graph *g, size_t *fused, struct rt_err *e)
{
	*fused = 0;
	static const rule_fn rules[] = { conv_bn, gelu, hardswish, layernorm, attention, bias_add,
					 activation };
	size_t cap = (size_t)g->n_values + 1;
	struct fuse f = { g, NULL, NULL, NULL, e };
	for (bool changed = true; changed;) {
		changed = false;
		if ((size_t)g->n_values + 1 > cap || !f.readers) {
			cap = (size_t)g->n_values * 2 + 16;
			free(f.readers), free(f.first), free(f.prod);
			f.readers = malloc(cap * sizeof(int));
			f.first = malloc(cap * sizeof(int));
			f.prod = malloc(cap * sizeof(int));
			if (!f.readers || !f.first || !f.prod) {
				free(f.readers), free(f.first), free(f.prod);
				return rt_fail(e, "out of memory");
			}
		}
		for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]) && !changed; r++) {
			index_graph(&f);
			for (int i = 0; i < g->n_nodes; i++) {
				if (g->nodes[i].dead)
					continue;
				int rc = rules[r](&f, i);
				if (rc < 0) {
					free(f.readers), free(f.first), free(f.prod);
					return -1;
				}
				if (rc > 0) {
					(*fused)++;
					changed = true;
					break;
				}
			}
		}
	}
	free(f.readers), free(f.first), free(f.prod);
	return 0;
}
