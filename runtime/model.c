/* hwrt_model_load: decode, validate, infer, fold, fuse, prepare. */
#include <fnmatch.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/load.h"
#include "runtime/model.h"
#include "runtime/op.h"
#include "runtime/tensor.h"

/* Models above this size keep their weights as external data. */
#define MODEL_MAX_BYTES ((size_t)2 << 30)

const char *hwrt_precision_name(enum hwrt_precision p)
{
	static const char *const names[] = { "fp32", "bf16", "int8", "int4" };
	return (unsigned)p < 4 ? names[p] : "unknown";
}

int hwrt_precision_parse(const char *s, enum hwrt_precision *out)
{
	for (int p = HWRT_PREC_FP32; p <= HWRT_PREC_INT4; p++)
		if (strcmp(s, hwrt_precision_name((enum hwrt_precision)p)) == 0) {
			*out = (enum hwrt_precision)p;
			return 0;
		}
	return -1;
}

static void fill_info(const struct rt_graph *g, int v, struct hwrt_io_info *info)
{
	const struct rt_value *val = &g->values[v];
	info->name = val->name;
	info->dtype = val->dtype;
	info->rank = val->rank;
	for (int d = 0; d < val->rank && d < HWRT_MAX_RANK; d++) {
		info->dims[d] = val->dims[d];
		info->dim_names[d] = val->dim_names[d] ? val->dim_names[d] : "";
	}
}

static int copy_options(struct rt_graph *g, const struct hwrt_options *opt, struct rt_err *e)
{
	if (!opt)
		return 0;
	g->opt = *opt;
	g->opt.keep_fp32 = NULL;
	g->opt.n_keep_fp32 = 0;
	if (!opt->n_keep_fp32)
		return 0;
	g->keep_fp32 = calloc(opt->n_keep_fp32, sizeof(char *));
	if (!g->keep_fp32)
		return rt_fail(e, "out of memory");
	for (size_t i = 0; i < opt->n_keep_fp32; i++) {
		g->keep_fp32[i] = strdup(opt->keep_fp32[i]);
		if (!g->keep_fp32[i])
			return rt_fail(e, "out of memory");
		g->n_keep_fp32++;
	}
	return 0;
}

bool rt_keep_fp32(const struct rt_graph *g, const struct rt_node *n)
{
	for (size_t i = 0; i < g->n_keep_fp32; i++)
		if (fnmatch(g->keep_fp32[i], n->name, 0) == 0 ||
		    fnmatch(g->keep_fp32[i], n->op_type, 0) == 0)
			return true;
	return false;
}

static int prepare(struct hwrt_model *m, struct rt_err *e)
{
	struct rt_graph *g = &m->g;
	size_t loaded = 0;
	for (int i = 0; i < g->n_nodes; i++)
		loaded += !g->nodes[i].dead;
	m->stats.nodes_loaded = loaded;
	m->stats.opset = g->opset;
	if (rt_graph_sort(g, e) < 0)
		return -1;
	for (int i = 0; i < g->n_nodes; i++) {
		struct rt_node *n = &g->nodes[i];
		if (n->op->check && n->op->check(n, g, e) < 0) {
			char label[256], msg[sizeof(e->msg)];
			snprintf(msg, sizeof(msg), "%s", e->msg);
			return rt_fail(e, "%s: %s", rt_node_label(n, label, sizeof(label)), msg);
		}
	}
	if (rt_fold_and_infer(g, &m->stats.folded, e) < 0)
		return -1;
	if (!g->opt.no_optimize && rt_fuse(g, &m->stats.fused, e) < 0)
		return -1;
	m->stats.removed = rt_graph_remove_dead(g);
	if (rt_graph_sort(g, e) < 0)
		return -1;
	for (int i = 0; i < g->n_nodes; i++) {
		struct rt_node *n = &g->nodes[i];
		if (n->op->prepare && n->op->prepare(n, g, e) < 0) {
			char label[256], msg[sizeof(e->msg)];
			snprintf(msg, sizeof(msg), "%s", e->msg);
			return rt_fail(e, "%s: %s", rt_node_label(n, label, sizeof(label)), msg);
		}
	}
	m->stats.nodes = (size_t)g->n_nodes;
	for (int v = 0; v < g->n_values; v++)
		if (g->values[v].konst)
			m->stats.weight_bytes += hwrt_tensor_bytes(g->values[v].konst);
	m->in_info = calloc((size_t)g->n_inputs + 1, sizeof(*m->in_info));
	m->out_info = calloc((size_t)g->n_outputs + 1, sizeof(*m->out_info));
	if (!m->in_info || !m->out_info)
		return rt_fail(e, "out of memory");
	for (int i = 0; i < g->n_inputs; i++)
		fill_info(g, g->inputs[i], &m->in_info[i]);
	for (int i = 0; i < g->n_outputs; i++)
		fill_info(g, g->outputs[i], &m->out_info[i]);
	return 0;
}

struct hwrt_model *hwrt_model_load_buffer(const void *buf, size_t len, const char *base_dir,
					  const struct hwrt_options *opt, char *err, size_t errlen)
{
	struct rt_err e;
	e.msg[0] = 0;
	struct hwrt_model *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int rc = copy_options(&m->g, opt, &e);
	if (rc == 0)
		rc = rt_load_graph(&m->g, buf, len, base_dir, &e);
	if (rc == 0)
		rc = prepare(m, &e);
	if (rc == 0)
		rc = rt_calibrate(m, &e);
	/* the caller's calibration tensors are not kept */
	m->g.opt.calib = NULL;
	m->g.opt.n_calib = 0;
	if (rc < 0) {
		if (err)
			snprintf(err, errlen, "%s", e.msg);
		hwrt_model_free(m);
		return NULL;
	}
	return m;
}

struct hwrt_model *hwrt_model_load(const char *path, const struct hwrt_options *opt, char *err,
				   size_t errlen)
{
	struct rt_err e;
	void *buf;
	size_t len;
	if (rt_read_file(path, &buf, &len, MODEL_MAX_BYTES, &e) < 0) {
		if (err)
			snprintf(err, errlen, "%s", e.msg);
		return NULL;
	}
	char *copy = strdup(path);
	struct hwrt_model *m = NULL;
	if (copy)
		m = hwrt_model_load_buffer(buf, len, dirname(copy), opt, err, errlen);
	else if (err)
		snprintf(err, errlen, "out of memory");
	free(copy);
	free(buf);
	return m;
}

void hwrt_model_free(struct hwrt_model *m)
{
	if (!m)
		return;
	rt_graph_free(&m->g);
	free(m->accuracy);
	free(m->in_info);
	free(m->out_info);
	free(m);
}

size_t hwrt_model_n_inputs(const struct hwrt_model *m)
{
	return (size_t)m->g.n_inputs;
}

size_t hwrt_model_n_outputs(const struct hwrt_model *m)
{
	return (size_t)m->g.n_outputs;
}

const struct hwrt_io_info *hwrt_model_input(const struct hwrt_model *m, size_t i)
{
	return i < (size_t)m->g.n_inputs ? &m->in_info[i] : NULL;
}

const struct hwrt_io_info *hwrt_model_output(const struct hwrt_model *m, size_t i)
{
	return i < (size_t)m->g.n_outputs ? &m->out_info[i] : NULL;
}

void hwrt_model_stats(const struct hwrt_model *m, struct hwrt_model_stats *st)
{
	*st = m->stats;
}
