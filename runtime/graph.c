/* Graph bookkeeping: the name table, attributes, topological order and
 * dead-node removal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime/graph.h"
#include "runtime/op.h"
#include "runtime/tensor.h"

int rt_fail(struct rt_err *e, const char *fmt, ...)
{
	if (e) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static size_t hash_str(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static int rehash(struct rt_graph *g, size_t cap)
{
	int *h = malloc(cap * sizeof(int));
	if (!h)
		return -1;
	for (size_t i = 0; i < cap; i++)
		h[i] = -1;
	for (int v = 0; v < g->n_values; v++) {
		size_t i = hash_str(g->values[v].name) & (cap - 1);
		while (h[i] >= 0)
			i = (i + 1) & (cap - 1);
		h[i] = v;
	}
	free(g->hash);
	g->hash = h;
	g->hash_cap = cap;
	return 0;
}

int rt_graph_find(const struct rt_graph *g, const char *name)
{
	if (!g->hash_cap)
		return -1;
	size_t i = hash_str(name) & (g->hash_cap - 1);
	for (; g->hash[i] >= 0; i = (i + 1) & (g->hash_cap - 1))
		if (strcmp(g->values[g->hash[i]].name, name) == 0)
			return g->hash[i];
	return -1;
}

int rt_graph_add_value(struct rt_graph *g, const char *name)
{
	if (g->n_values == g->cap_values) {
		int cap = g->cap_values ? g->cap_values * 2 : 64;
		struct rt_value *v = realloc(g->values, (size_t)cap * sizeof(*v));
		if (!v)
			return -1;
		g->values = v;
		g->cap_values = cap;
		for (int i = 0; i < g->n_values; i++) /* konst points into the value */
			if (v[i].konst)
				v[i].konst = &v[i].konst_t;
	}
	char *copy = strdup(name);
	if (!copy)
		return -1;
	struct rt_value *v = &g->values[g->n_values];
	memset(v, 0, sizeof(*v));
	v->name = copy;
	v->rank = -1;
	v->producer = -1;
	v->input_index = -1;
	v->output_index = -1;
	g->n_values++;
	if ((size_t)g->n_values * 2 > g->hash_cap) {
		if (rehash(g, g->hash_cap ? g->hash_cap * 2 : 128) < 0) {
			g->n_values--;
			free(copy);
			return -1;
		}
	} else {
		size_t i = hash_str(name) & (g->hash_cap - 1);
		while (g->hash[i] >= 0)
			i = (i + 1) & (g->hash_cap - 1);
		g->hash[i] = g->n_values - 1;
	}
	return g->n_values - 1;
}

int rt_graph_add_node(struct rt_graph *g)
{
	if (g->n_nodes == g->cap_nodes) {
		int cap = g->cap_nodes ? g->cap_nodes * 2 : 64;
		struct rt_node *n = realloc(g->nodes, (size_t)cap * sizeof(*n));
		if (!n)
			return -1;
		g->nodes = n;
		g->cap_nodes = cap;
	}
	struct rt_node *n = &g->nodes[g->n_nodes];
	memset(n, 0, sizeof(*n));
	n->bias = -1;
	return g->n_nodes++;
}

void rt_value_set_const(struct rt_value *v, const struct hwrt_tensor *t, void *owned)
{
	void *old = v->konst_owned;
	v->konst_t = *t;
	v->konst = &v->konst_t;
	if (old && old != owned)
		rt_free(old);
	v->konst_owned = owned;
	v->dtype = t->dtype;
	v->rank = t->rank;
	for (int i = 0; i < t->rank; i++)
		v->dims[i] = t->dims[i];
}

void rt_attr_free(struct rt_attr *a)
{
	free(a->name);
	free(a->s);
	rt_tensor_free(a->t);
	free(a->floats);
	free(a->ints);
	for (size_t i = 0; a->strings && i < a->n; i++)
		free(a->strings[i]);
	free(a->strings);
}

static void node_free(struct rt_node *n)
{
	if (n->op && n->op->release && n->state)
		n->op->release(n);
	for (int i = 0; i < n->n_attrs; i++)
		rt_attr_free(&n->attrs[i]);
	free(n->attrs);
	free(n->in);
	free(n->out);
	free(n->name);
	free(n->op_type);
	free(n->domain);
}

void rt_graph_free(struct rt_graph *g)
{
	for (int i = 0; i < g->n_nodes; i++)
		node_free(&g->nodes[i]);
	for (int i = 0; i < g->n_values; i++) {
		struct rt_value *v = &g->values[i];
		free(v->name);
		for (int d = 0; d < HWRT_MAX_RANK; d++)
			free(v->dim_names[d]);
		rt_free(v->konst_owned);
	}
	for (int i = 0; i < g->n_maps; i++)
		munmap(g->maps[i].addr, g->maps[i].len);
	for (size_t i = 0; i < g->n_keep_fp32; i++)
		free(g->keep_fp32[i]);
	free(g->keep_fp32);
	free(g->maps);
	free(g->nodes);
	free(g->values);
	free(g->inputs);
	free(g->outputs);
	free(g->hash);
	memset(g, 0, sizeof(*g));
}

const struct rt_attr *rt_attr_find(const struct rt_node *n, const char *name)
{
	for (int i = 0; i < n->n_attrs; i++)
		if (strcmp(n->attrs[i].name, name) == 0)
			return &n->attrs[i];
	return NULL;
}

int64_t rt_attr_int(const struct rt_node *n, const char *name, int64_t dflt)
{
	const struct rt_attr *a = rt_attr_find(n, name);
	return a && a->type == RT_ATTR_INT ? a->i : dflt;
}

float rt_attr_float(const struct rt_node *n, const char *name, float dflt)
{
	const struct rt_attr *a = rt_attr_find(n, name);
	if (a && a->type == RT_ATTR_FLOAT)
		return a->f;
	if (a && a->type == RT_ATTR_INT) /* some exporters write 0 for 0.0 */
		return (float)a->i;
	return dflt;
}

const char *rt_attr_string(const struct rt_node *n, const char *name, const char *dflt)
{
	const struct rt_attr *a = rt_attr_find(n, name);
	return a && a->type == RT_ATTR_STRING ? a->s : dflt;
}

int rt_attr_ints(const struct rt_node *n, const char *name, const int64_t **out)
{
	const struct rt_attr *a = rt_attr_find(n, name);
	if (!a || a->type != RT_ATTR_INTS)
		return -1;
	*out = a->ints;
	return (int)a->n;
}

int rt_attr_floats(const struct rt_node *n, const char *name, const float **out)
{
	const struct rt_attr *a = rt_attr_find(n, name);
	if (!a || a->type != RT_ATTR_FLOATS)
		return -1;
	*out = a->floats;
	return (int)a->n;
}

const char *rt_node_label(const struct rt_node *n, char *buf, size_t len)
{
	if (n->name && *n->name)
		snprintf(buf, len, "node '%s' (%s)", n->name, n->op_type);
	else
		snprintf(buf, len, "unnamed %s node", n->op_type);
	return buf;
}

size_t rt_graph_remove_dead(struct rt_graph *g)
{
	size_t removed = 0;
	for (;;) {
		for (int v = 0; v < g->n_values; v++)
			g->values[v].consumers = 0;
		for (int i = 0; i < g->n_nodes; i++) {
			struct rt_node *n = &g->nodes[i];
			if (n->dead)
				continue;
			for (int k = 0; k < n->n_in; k++)
				if (n->in[k] >= 0)
					g->values[n->in[k]].consumers++;
			if (n->bias >= 0)
				g->values[n->bias].consumers++;
		}
		size_t round = 0;
		for (int i = g->n_nodes - 1; i >= 0; i--) {
			struct rt_node *n = &g->nodes[i];
			if (n->dead)
				continue;
			bool used = false;
			for (int k = 0; k < n->n_out && !used; k++) {
				int o = n->out[k];
				if (o >= 0 && (g->values[o].consumers > 0 || g->values[o].output_index >= 0))
					used = true;
			}
			if (!used) {
				n->dead = true;
				round++;
			}
		}
		if (!round)
			break;
		removed += round;
	}
	return removed;
}

int rt_graph_sort(struct rt_graph *g, struct rt_err *e)
{
	int n = g->n_nodes;
	for (int v = 0; v < g->n_values; v++)
		g->values[v].producer = -1;
	for (int i = 0; i < n; i++) {
		struct rt_node *nd = &g->nodes[i];
		if (nd->dead)
			continue;
		for (int k = 0; k < nd->n_out; k++) {
			int o = nd->out[k];
			if (o < 0)
				continue;
			char lb[160];
			if (g->values[o].producer >= 0)
				return rt_fail(e, "%s: output '%s' is also produced by another node",
					       rt_node_label(nd, lb, sizeof(lb)), g->values[o].name);
			if (g->values[o].konst || g->values[o].input_index >= 0)
				return rt_fail(e, "%s: output '%s' is also a graph input or initializer",
					       rt_node_label(nd, lb, sizeof(lb)), g->values[o].name);
			g->values[o].producer = i;
		}
	}
	/* Kahn's algorithm, stable: ready nodes run in their file order. */
	int *pending = calloc((size_t)n + 1, sizeof(int));
	int *order = malloc(((size_t)n + 1) * sizeof(int));
	int *queue = malloc(((size_t)n + 1) * sizeof(int));
	int *users_cnt = calloc((size_t)g->n_values + 1, sizeof(int));
	if (!pending || !order || !queue || !users_cnt) {
		free(pending), free(order), free(queue), free(users_cnt);
		return rt_fail(e, "out of memory sorting the graph");
	}
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		struct rt_node *nd = &g->nodes[i];
		if (nd->dead)
			continue;
		for (int k = 0; k < nd->n_in + 1; k++) {
			int v = k < nd->n_in ? nd->in[k] : nd->bias;
			if (v < 0)
				continue;
			struct rt_value *val = &g->values[v];
			if (val->producer < 0 && !val->konst && val->input_index < 0) {
				char lb[160];
				rc = rt_fail(e, "%s: input '%s' is not produced by any node, "
					     "initializer or graph input",
					     rt_node_label(nd, lb, sizeof(lb)), val->name);
				break;
			}
			if (val->producer >= 0)
				pending[i]++;
		}
	}
	/* CSR of value -> consumer nodes */
	int *start = NULL, *users = NULL;
	if (rc == 0) {
		start = calloc((size_t)g->n_values + 1, sizeof(int));
		int total = 0;
		for (int i = 0; i < n; i++)
			if (!g->nodes[i].dead)
				total += g->nodes[i].n_in + 1;
		users = malloc(((size_t)total + 1) * sizeof(int));
		if (!start || !users)
			rc = rt_fail(e, "out of memory sorting the graph");
	}
	if (rc == 0) {
		for (int i = 0; i < n; i++) {
			struct rt_node *nd = &g->nodes[i];
			if (nd->dead)
				continue;
			for (int k = 0; k < nd->n_in + 1; k++) {
				int v = k < nd->n_in ? nd->in[k] : nd->bias;
				if (v >= 0)
					start[v + 1]++;
			}
		}
		for (int v = 0; v < g->n_values; v++)
			start[v + 1] += start[v];
		for (int i = 0; i < n; i++) {
			struct rt_node *nd = &g->nodes[i];
			if (nd->dead)
				continue;
			for (int k = 0; k < nd->n_in + 1; k++) {
				int v = k < nd->n_in ? nd->in[k] : nd->bias;
				if (v >= 0)
					users[start[v] + users_cnt[v]++] = i;
			}
		}
		int qh = 0, qt = 0, done = 0, live = 0;
		for (int i = 0; i < n; i++)
			if (!g->nodes[i].dead) {
				live++;
				if (pending[i] == 0)
					queue[qt++] = i;
			}
		while (qh < qt) {
			int i = queue[qh++];
			order[done++] = i;
			struct rt_node *nd = &g->nodes[i];
			for (int k = 0; k < nd->n_out; k++) {
				int o = nd->out[k];
				if (o < 0)
					continue;
				for (int u = start[o]; u < start[o + 1]; u++)
					if (--pending[users[u]] == 0)
						queue[qt++] = users[u];
			}
		}
		if (done < live) {
			for (int i = 0; i < n; i++)
				if (!g->nodes[i].dead && pending[i] > 0) {
					char lb[160];
					rc = rt_fail(e, "%s: the graph has a cycle through this node",
						     rt_node_label(&g->nodes[i], lb, sizeof(lb)));
					break;
				}
		} else {
			struct rt_node *sorted = malloc(((size_t)done + 1) * sizeof(*sorted));
			if (!sorted) {
				rc = rt_fail(e, "out of memory sorting the graph");
			} else {
				for (int j = 0; j < done; j++)
					sorted[j] = g->nodes[order[j]];
				for (int i = 0; i < n; i++)
					if (g->nodes[i].dead)
						node_free(&g->nodes[i]);
				free(g->nodes);
				g->nodes = sorted;
				g->n_nodes = done;
				g->cap_nodes = done + 1;
				for (int v = 0; v < g->n_values; v++)
					g->values[v].producer = -1;
				for (int j = 0; j < done; j++)
					for (int k = 0; k < sorted[j].n_out; k++)
						if (sorted[j].out[k] >= 0)
							g->values[sorted[j].out[k]].producer = j;
			}
		}
	}
	free(pending), free(order), free(queue), free(users_cnt), free(start), free(users);
	return rc;
}
