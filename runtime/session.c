/* Sessions: bind input shapes, plan intermediates into one arena by
 * lifetime (in place where an element-wise op consumes the last use of its
 * input, aliasing for reshapes), then run the nodes in order. A plan is
 * kept until the input shapes change. When a shape depends on data only
 * known while running, the nodes from there on allocate as they go. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/model.h"
#include "runtime/op.h"
#include "runtime/tensor.h"

/* Nodes whose inputs are known while planning and whose outputs are this
 * small run at plan time: shape arithmetic on dynamic dims. */
#define PRECOMPUTE_MAX_ELEMS 4096

struct pval {
	struct hwrt_tensor t; /* shape and, while running, data */
	size_t bytes;
	int first, last;  /* producing node and last reading node */
	int root;         /* value whose buffer this one uses, or -1 */
	int64_t offset;   /* arena offset of a root, -1 when not in the arena */
	bool known;       /* data known at plan time (const or precomputed) */
	bool external;    /* data is a graph input's or a constant's */
	void *own;        /* heap data: precomputed or dynamic */
};

struct hwrt_session {
	const struct hwrt_model *m;
	struct pval *pv;
	unsigned char *node_mode; /* 0 run, 1 skip (precomputed), 2 alias */
	char *arena;
	size_t arena_cap;
	int64_t sig[64][HWRT_MAX_RANK]; /* input dims of the cached plan */
	bool have_plan;
	int dyn_from; /* first node that infers while running */
	int *refs;    /* remaining reads of dynamic values */
	struct hwrt_run_stats stats;
	bool profile;
	const volatile int *cancel;
	struct hwrt_node_time *times;
	/* per-node argument arrays, sized for the widest node */
	const struct hwrt_tensor **inb;
	struct hwrt_tensor *tmpb, **outb;
};

static const struct rt_graph *G(const struct hwrt_session *s)
{
	return &s->m->g;
}

struct hwrt_session *hwrt_session_create(const struct hwrt_model *m)
{
	struct hwrt_session *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	const struct rt_graph *g = &m->g;
	s->m = m;
	s->pv = calloc((size_t)g->n_values + 1, sizeof(*s->pv));
	s->node_mode = calloc((size_t)g->n_nodes + 1, 1);
	s->refs = calloc((size_t)g->n_values + 1, sizeof(int));
	s->times = calloc((size_t)g->n_nodes + 1, sizeof(*s->times));
	size_t io = 1;
	for (int i = 0; i < g->n_nodes; i++) {
		if ((size_t)g->nodes[i].n_in > io)
			io = (size_t)g->nodes[i].n_in;
		if ((size_t)g->nodes[i].n_out > io)
			io = (size_t)g->nodes[i].n_out;
	}
	s->inb = calloc(io, sizeof(*s->inb));
	s->tmpb = calloc(io, sizeof(*s->tmpb));
	s->outb = calloc(io, sizeof(*s->outb));
	if (!s->pv || !s->node_mode || !s->refs || !s->times || !s->inb || !s->tmpb || !s->outb) {
		hwrt_session_free(s);
		return NULL;
	}
	for (int i = 0; i < g->n_nodes; i++) {
		s->times[i].name = g->nodes[i].name;
		s->times[i].op_type = g->nodes[i].op_type;
	}
	return s;
}

static void drop_owned(struct hwrt_session *s)
{
	for (int v = 0; v < G(s)->n_values; v++) {
		rt_free(s->pv[v].own);
		s->pv[v].own = NULL;
	}
}

void hwrt_session_free(struct hwrt_session *s)
{
	if (!s)
		return;
	if (s->pv)
		drop_owned(s);
	free(s->pv);
	free(s->node_mode);
	free(s->refs);
	free(s->times);
	free(s->inb);
	free(s->tmpb);
	free(s->outb);
	rt_free(s->arena);
	free(s);
}

void hwrt_session_stats(const struct hwrt_session *s, struct hwrt_run_stats *st)
{
	*st = s->stats;
}

void hwrt_session_profile(struct hwrt_session *s, bool on)
{
	s->profile = on;
}

size_t hwrt_session_node_times(const struct hwrt_session *s, const struct hwrt_node_time **out)
{
	*out = s->times;
	return (size_t)G(s)->n_nodes;
}

static int check_inputs(struct hwrt_session *s, const struct hwrt_tensor *inputs, size_t n,
			struct rt_err *e)
{
	const struct rt_graph *g = G(s);
	if (n != (size_t)g->n_inputs)
		return rt_fail(e, "the model takes %d inputs, %zu given", g->n_inputs, n);
	for (int i = 0; i < g->n_inputs; i++) {
		const struct rt_value *v = &g->values[g->inputs[i]];
		const struct hwrt_tensor *t = &inputs[i];
		if (t->dtype != v->dtype)
			return rt_fail(e, "input '%s' must be %s, not %s", v->name,
				       hwrt_dtype_name(v->dtype), hwrt_dtype_name(t->dtype));
		if (t->rank != v->rank)
			return rt_fail(e, "input '%s' must have rank %d, not %d", v->name, v->rank,
				       t->rank);
		for (int d = 0; d < v->rank; d++) {
			if (t->dims[d] < 0)
				return rt_fail(e, "input '%s': dimension %d is negative", v->name, d);
			if (v->dims[d] >= 0 && v->dims[d] != t->dims[d])
				return rt_fail(e, "input '%s': dimension %d must be %lld, not %lld",
					       v->name, d, (long long)v->dims[d],
					       (long long)t->dims[d]);
		}
		/* One symbolic name binds one size across all inputs. */
		for (int d = 0; d < v->rank; d++) {
			if (!v->dim_names[d] || !*v->dim_names[d])
				continue;
			for (int j = 0; j < i; j++) {
				const struct rt_value *w = &g->values[g->inputs[j]];
				for (int c = 0; c < w->rank; c++)
					if (w->dim_names[c] && strcmp(w->dim_names[c], v->dim_names[d]) == 0 &&
					    inputs[j].dims[c] != t->dims[d])
						return rt_fail(e, "dimension '%s' is %lld in input '%s' "
							       "but %lld in input '%s'", v->dim_names[d],
							       (long long)inputs[j].dims[c], w->name,
							       (long long)t->dims[d], v->name);
			}
		}
		if (hwrt_tensor_count(t) < 0)
			return rt_fail(e, "input '%s' is too large", v->name);
		if (!t->data && hwrt_tensor_bytes(t))
			return rt_fail(e, "input '%s' has no data", v->name);
	}
	return 0;
}

static bool same_signature(const struct hwrt_session *s, const struct hwrt_tensor *inputs)
{
	const struct rt_graph *g = G(s);
	if (!s->have_plan || g->n_inputs > 64)
		return false;
	for (int i = 0; i < g->n_inputs; i++)
		if (memcmp(s->sig[i], inputs[i].dims, sizeof(int64_t) * (size_t)inputs[i].rank))
			return false;
	return true;
}

static int gather_inputs(struct hwrt_session *s, const struct rt_node *n,
			 const struct hwrt_tensor **in, bool plan_time)
{
	for (int k = 0; k < n->n_in; k++) {
		in[k] = NULL;
		if (n->in[k] < 0)
			continue;
		struct pval *p = &s->pv[n->in[k]];
		if (plan_time && !p->known) {
			/* shape only: data stays unknown to infer */
			s->tmpb[k] = p->t;
			s->tmpb[k].data = NULL;
			in[k] = &s->tmpb[k];
		} else {
			in[k] = &p->t;
		}
	}
	return 0;
}

static int root_of(struct hwrt_session *s, int v)
{
	while (s->pv[v].root >= 0 && s->pv[v].root != v)
		v = s->pv[v].root;
	return v;
}

struct span {
	int v;
	size_t bytes;
	int first, last;
};

static int by_size_desc(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->first - y->first;
}

/* Greedy by size: each buffer takes the lowest offset free for its whole
 * lifetime among the buffers placed before it. */
static size_t place(struct span *sp, int n, int64_t *offsets)
{
	qsort(sp, (size_t)n, sizeof(*sp), by_size_desc);
	size_t top = 0;
	for (int i = 0; i < n; i++) {
		size_t off = 0;
		for (bool moved = true; moved;) {
			moved = false;
			for (int j = 0; j < i; j++) {
				if (sp[j].last < sp[i].first || sp[i].last < sp[j].first)
					continue;
				size_t o = (size_t)offsets[j];
				size_t end = o + ((sp[j].bytes + 63) & ~(size_t)63);
				if (off < end && o < off + sp[i].bytes) {
					off = end;
					moved = true;
				}
			}
		}
		offsets[i] = (int64_t)off;
		size_t end = off + ((sp[i].bytes + 63) & ~(size_t)63);
		if (end > top)
			top = end;
	}
	return top;
}

static int plan(struct hwrt_session *s, const struct hwrt_tensor *inputs, struct rt_err *e)
{
	const struct rt_graph *g = G(s);
	drop_owned(s);
	s->have_plan = false;
	for (int v = 0; v < g->n_values; v++) {
		struct pval *p = &s->pv[v];
		const struct rt_value *val = &g->values[v];
		memset(p, 0, sizeof(*p));
		p->root = -1;
		p->offset = -1;
		p->first = p->last = -1;
		if (val->konst) {
			p->t = *val->konst;
			p->known = p->external = true;
		} else if (val->input_index >= 0) {
			p->t = inputs[val->input_index];
			p->external = true;
		}
	}
	s->dyn_from = g->n_nodes;
	for (int i = 0; i < g->n_nodes; i++) {
		const struct rt_node *n = &g->nodes[i];
		s->node_mode[i] = 0;
		const struct hwrt_tensor **in = s->inb;
		gather_inputs(s, n, in, true);
		struct hwrt_tensor **outp = s->outb;
		bool all_known = true;
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] >= 0 && !s->pv[n->in[k]].known)
				all_known = false;
		for (int k = 0; k < n->n_out; k++)
			outp[k] = n->out[k] >= 0 ? &s->pv[n->out[k]].t : NULL;
		struct rt_err ie;
		int rc = n->op->infer(n, in, outp, &ie);
		char label[256];
		if (rc < 0)
			return rt_fail(e, "%s: %s", rt_node_label(n, label, sizeof(label)), ie.msg);
		if (rc == RT_NEED_VALUE) {
			s->dyn_from = i;
			break;
		}
		int64_t elems = 0;
		for (int k = 0; k < n->n_out; k++) {
			if (!outp[k])
				continue;
			int64_t c = hwrt_tensor_count(outp[k]);
			if (c < 0 || !hwrt_dtype_size(outp[k]->dtype))
				return rt_fail(e, "%s: output %d has an invalid shape",
					       rt_node_label(n, label, sizeof(label)), k);
			elems += c;
			s->pv[n->out[k]].bytes = hwrt_tensor_bytes(outp[k]);
			s->pv[n->out[k]].first = i;
		}
		if (all_known && elems <= PRECOMPUTE_MAX_ELEMS &&
		    !(n->op->flags & RT_OP_NONDETERMINISTIC)) {
			gather_inputs(s, n, in, false);
			struct hwrt_tensor **outs = s->outb;
			rc = rt_eval_node(g, n, in, outs, NULL, e);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				for (int k = 0; k < n->n_out; k++) {
					if (!outs[k])
						continue;
					struct pval *p = &s->pv[n->out[k]];
					p->t = *outs[k];
					p->own = outs[k];
					p->known = true;
				}
				s->node_mode[i] = 1;
			}
		}
	}
	/* Lifetimes of the values the nodes produce while running. */
	for (int i = 0; i < s->dyn_from; i++) {
		const struct rt_node *n = &g->nodes[i];
		if (s->node_mode[i] == 1)
			continue;
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] >= 0 && s->pv[n->in[k]].last < i)
				s->pv[n->in[k]].last = i;
	}
	for (int i = s->dyn_from; i < g->n_nodes; i++) {
		const struct rt_node *n = &g->nodes[i]; /* read by dynamic nodes: live to the end */
		for (int k = 0; k < n->n_in; k++)
			if (n->in[k] >= 0)
				s->pv[n->in[k]].last = g->n_nodes;
	}
	for (int o = 0; o < g->n_outputs; o++)
		s->pv[g->outputs[o]].last = g->n_nodes;
	/* Aliases and in-place outputs share their input's buffer. */
	size_t total = 0;
	for (int i = 0; i < s->dyn_from; i++) {
		const struct rt_node *n = &g->nodes[i];
		if (s->node_mode[i] == 1)
			continue;
		for (int k = 0; k < n->n_out; k++)
			if (n->out[k] >= 0) {
				s->pv[n->out[k]].root = n->out[k];
				total += s->pv[n->out[k]].bytes;
			}
		if (!(n->op->flags & (RT_OP_INPLACE | RT_OP_VIEW)) || n->n_in < 1 || n->in[0] < 0 ||
		    n->n_out < 1 || n->out[0] < 0)
			continue;
		int iv = n->in[0], ov = n->out[0];
		struct pval *pi = &s->pv[iv], *po = &s->pv[ov];
		if (pi->external || pi->known || pi->root < 0 || pi->bytes != po->bytes ||
		    g->values[ov].output_index >= 0)
			continue;
		int r = root_of(s, iv);
		if (n->op->flags & RT_OP_VIEW) {
			po->root = r;
			s->node_mode[i] = 2;
		} else {
			/* in place only when nothing reads the buffer after this node */
			bool last = true;
			for (int v = 0; v < g->n_values && last; v++)
				if (s->pv[v].root >= 0 && v != ov && root_of(s, v) == r &&
				    s->pv[v].last > i)
					last = false;
			if (last && g->values[iv].output_index < 0)
				po->root = r;
		}
		if (po->root == r && s->pv[r].last < po->last)
			s->pv[r].last = po->last;
	}
	/* propagate lifetimes of sharers to their root */
	for (int v = 0; v < g->n_values; v++)
		if (s->pv[v].root >= 0) {
			int r = root_of(s, v);
			if (s->pv[r].last < s->pv[v].last)
				s->pv[r].last = s->pv[v].last;
		}
	struct span *sp = malloc(((size_t)g->n_values + 1) * sizeof(*sp));
	int64_t *offs = malloc(((size_t)g->n_values + 1) * sizeof(int64_t));
	if (!sp || !offs) {
		free(sp), free(offs);
		return rt_fail(e, "out of memory planning the arena");
	}
	int ns = 0;
	for (int v = 0; v < g->n_values; v++)
		if (s->pv[v].root == v)
			sp[ns++] = (struct span){ v, s->pv[v].bytes, s->pv[v].first,
						  s->pv[v].last < s->pv[v].first ? s->pv[v].first
										 : s->pv[v].last };
	size_t top = place(sp, ns, offs);
	size_t limit = g->opt.max_arena_bytes;
	if (limit && top > limit) {
		free(sp);
		free(offs);
		return rt_fail(e, "the run needs %zu bytes of intermediates for these input shapes; "
			       "the limit is %zu", top, limit);
	}
	for (int j = 0; j < ns; j++)
		s->pv[sp[j].v].offset = offs[j];
	free(sp);
	free(offs);
	if (top > s->arena_cap || !s->arena) {
		rt_free(s->arena);
		s->arena = rt_alloc(top);
		if (!s->arena) {
			s->arena_cap = 0;
			return rt_fail(e, "cannot allocate an arena of %zu bytes", top);
		}
		s->arena_cap = top;
	}
	s->stats.arena_bytes = top;
	s->stats.intermediate_bytes = total;
	s->stats.planned = s->dyn_from == g->n_nodes;
	for (int i = 0; i < g->n_inputs && i < 64; i++)
		memcpy(s->sig[i], inputs[i].dims, sizeof(int64_t) * (size_t)inputs[i].rank);
	s->have_plan = true;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int run_dynamic(struct hwrt_session *s, int i, const struct rt_ctx *x,
		       struct rt_err *e)
{
	const struct rt_graph *g = G(s);
	const struct rt_node *n = &g->nodes[i];
	const struct hwrt_tensor **in = s->inb;
	gather_inputs(s, n, in, false);
	struct hwrt_tensor **outs = s->outb;
	int rc = rt_eval_node(g, n, in, outs, x, e);
	if (rc == RT_NEED_VALUE) {
		char label[256];
		return rt_fail(e, "%s: an input's value is unavailable",
			       rt_node_label(n, label, sizeof(label)));
	}
	if (rc < 0)
		return -1;
	for (int k = 0; k < n->n_out; k++) {
		if (!outs[k])
			continue;
		struct pval *p = &s->pv[n->out[k]];
		rt_free(p->own);
		p->t = *outs[k];
		p->own = outs[k];
	}
	/* free dynamic inputs after their last reader */
	for (int k = 0; k < n->n_in; k++) {
		int v = n->in[k];
		if (v < 0 || !s->pv[v].own || g->values[v].output_index >= 0 ||
		    g->values[v].producer < s->dyn_from)
			continue;
		if (--s->refs[v] == 0) {
			rt_free(s->pv[v].own);
			s->pv[v].own = NULL;
		}
	}
	return 0;
}

int rt_session_run(struct hwrt_session *s, const struct hwrt_tensor *inputs, size_t n_inputs,
		   struct hwrt_tensor *outputs, size_t n_outputs, const struct hwk_parallel *par,
		   struct rt_calib *calib, struct rt_err *ep)
{
	const struct rt_graph *g = G(s);
	struct rt_err e;
	e.msg[0] = 0;
	bool cancelled = false;
	int rc = check_inputs(s, inputs, n_inputs, &e);
	if (rc == 0 && n_outputs != (size_t)g->n_outputs)
		rc = rt_fail(&e, "the model has %d outputs, %zu requested", g->n_outputs, n_outputs);
	if (rc == 0 && !same_signature(s, inputs))
		rc = plan(s, inputs, &e);
	if (rc < 0)
		goto out;
	for (int i = 0; i < g->n_inputs; i++)
		s->pv[g->inputs[i]].t = inputs[i];
	for (int v = 0; v < g->n_values; v++) {
		struct pval *p = &s->pv[v];
		if (p->root >= 0)
			p->t.data = s->arena + s->pv[root_of(s, v)].offset;
	}
	/* dynamic values: readers counted afresh each run */
	for (int v = 0; v < g->n_values; v++)
		s->refs[v] = 0;
	for (int i = s->dyn_from; i < g->n_nodes; i++)
		for (int k = 0; k < g->nodes[i].n_in; k++)
			if (g->nodes[i].in[k] >= 0)
				s->refs[g->nodes[i].in[k]]++;
	struct rt_ctx x = { par, g, calib };
	for (int i = 0; i < g->n_nodes && rc == 0; i++) {
		const struct rt_node *n = &g->nodes[i];
		if (s->node_mode[i] && i < s->dyn_from)
			continue;
		if (s->cancel && __atomic_load_n(s->cancel, __ATOMIC_RELAXED)) {
			rc = rt_fail(&e, "cancelled before node %d of %d", i, g->n_nodes);
			cancelled = true;
			break;
		}
		uint64_t t0 = s->profile ? now_ns() : 0;
		if (i >= s->dyn_from) {
			rc = run_dynamic(s, i, &x, &e);
		} else {
			const struct hwrt_tensor **in = s->inb;
			struct hwrt_tensor **out = s->outb;
			gather_inputs(s, n, in, false);
			for (int k = 0; k < n->n_out; k++)
				out[k] = n->out[k] >= 0 ? &s->pv[n->out[k]].t : NULL;
			struct rt_err ie;
			if (n->op->run(n, in, out, &x, &ie) < 0) {
				char label[256];
				rc = rt_fail(&e, "%s: %s", rt_node_label(n, label, sizeof(label)),
					     ie.msg);
			}
		}
		if (s->profile) {
			s->times[i].ns += now_ns() - t0;
			s->times[i].runs++;
		}
	}
	if (rc < 0)
		goto out;
	for (int o = 0; o < g->n_outputs; o++)
		outputs[o] = s->pv[g->outputs[o]].t;
out:
	if (rc < 0)
		*ep = e;
	return rc < 0 ? (cancelled ? HWRT_CANCELLED : -1) : 0;
}

void hwrt_session_set_cancel(struct hwrt_session *s, const volatile int *flag)
{
	s->cancel = flag;
}

int hwrt_run(struct hwrt_session *s, const struct hwrt_tensor *inputs, size_t n_inputs,
	     struct hwrt_tensor *outputs, size_t n_outputs, const struct hwk_parallel *par,
	     char *err, size_t errlen)
{
	struct rt_err e;
	int rc = rt_session_run(s, inputs, n_inputs, outputs, n_outputs, par, NULL, &e);
	if (rc < 0 && err)
		snprintf(err, errlen, "%s", e.msg);
	return rc;
}
