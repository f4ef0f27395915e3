/* The load-time check of a reduced-precision model: run calibration inputs
 * through the nodes' fp32 weights (recording the range each quantized
 * node's input takes), then at the model's precision, and compare every
 * output: max abs error, MSE, cosine similarity. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/model.h"
#include "runtime/op.h"
#include "runtime/tensor.h"

#define DEFAULT_MIN_COSINE 0.99
/* Random inputs are made only up to this size in all. */
#define RANDOM_MAX_BYTES ((size_t)64 << 20)

/* One set of inputs in model-input order, and the tensors to free. */
struct calib_sets {
	size_t n;
	struct hwrt_tensor *in; /* n x n_inputs */
	struct hwrt_tensor **owned;
	size_t n_owned;
};

static void sets_free(struct calib_sets *cs)
{
	for (size_t i = 0; i < cs->n_owned; i++)
		rt_tensor_free(cs->owned[i]);
	free(cs->owned);
	free(cs->in);
}

/* Tensors by input name: the k-th one of each input is set k. */
static int named_sets(const struct rt_graph *g, struct calib_sets *cs, struct rt_err *e)
{
	const struct hwrt_named_tensor *c = g->opt.calib;
	size_t ni = (size_t)g->n_inputs, nc = g->opt.n_calib;
	size_t *count = calloc(ni + 1, sizeof(size_t));
	if (!count)
		return rt_fail(e, "out of memory");
	int rc = 0;
	for (size_t j = 0; j < nc && !rc; j++) {
		size_t i;
		for (i = 0; i < ni; i++)
			if (c[j].name && strcmp(c[j].name, g->values[g->inputs[i]].name) == 0)
				break;
		if (i == ni)
			rc = rt_fail(e, "calibration input '%s' is not an input of the model",
				     c[j].name ? c[j].name : "(null)");
		else
			count[i]++;
	}
	for (size_t i = 0; i < ni && !rc; i++)
		if (count[i] != count[0])
			rc = rt_fail(e, "calibration gives %zu tensors for input '%s' but %zu for '%s'",
				     count[i], g->values[g->inputs[i]].name, count[0],
				     g->values[g->inputs[0]].name);
	cs->n = ni ? count[0] : 1;
	cs->in = rc ? NULL : calloc(cs->n * ni + 1, sizeof(*cs->in));
	if (!rc && !cs->in)
		rc = rt_fail(e, "out of memory");
	memset(count, 0, (ni + 1) * sizeof(size_t));
	for (size_t j = 0; j < nc && !rc; j++)
		for (size_t i = 0; i < ni; i++)
			if (strcmp(c[j].name, g->values[g->inputs[i]].name) == 0) {
				cs->in[count[i]++ * ni + i] = c[j].t;
				break;
			}
	free(count);
	return rc;
}

/* One set of random inputs (hwrt_tensor_fill_random). */
static int random_set(const struct rt_graph *g, struct calib_sets *cs, struct rt_err *e)
{
	size_t ni = (size_t)g->n_inputs;
	cs->n = 1;
	cs->in = calloc(ni + 1, sizeof(*cs->in));
	cs->owned = calloc(ni + 1, sizeof(*cs->owned));
	if (!cs->in || !cs->owned)
		return rt_fail(e, "out of memory");
	uint64_t seed = 0x2545f4914f6cdd1dull;
	size_t total = 0;
	for (size_t i = 0; i < ni; i++) {
		const struct rt_value *v = &g->values[g->inputs[i]];
		if (v->rank < 0 || !hwrt_dtype_size(v->dtype))
			return rt_fail(e, "input '%s' has no known type and rank: give calibration "
					  "inputs", v->name);
		int64_t dims[HWRT_MAX_RANK];
		for (int d = 0; d < v->rank; d++)
			dims[d] = v->dims[d] >= 0 ? v->dims[d] : 1;
		int64_t count = rt_count_dims(v->rank, dims);
		if (count < 0 || (size_t)count > RANDOM_MAX_BYTES / hwrt_dtype_size(v->dtype) ||
		    (total += (size_t)count * hwrt_dtype_size(v->dtype)) > RANDOM_MAX_BYTES)
			return rt_fail(e, "the inputs are too large for a random calibration set "
					  "(over %zu MB): give calibration inputs", RANDOM_MAX_BYTES >> 20);
		struct hwrt_tensor *t = rt_tensor_new(v->dtype, v->rank, dims);
		if (!t)
			return rt_fail(e, "cannot allocate a random input for '%s'", v->name);
		cs->owned[cs->n_owned++] = t;
		hwrt_tensor_fill_random(t, &seed);
		cs->in[i] = *t;
	}
	return 0;
}

/* Element k of an output as double. */
static double at(const struct hwrt_tensor *t, int64_t k)
{
	if (t->dtype == HWRT_FLOAT)
		return ((const float *)t->data)[k];
	return rt_num_at(t, k);
}

struct acc_sum {
	double max_abs, sq, dot, nr, nq;
	int64_t count;
	bool shape_differs;
};

static void compare(const struct hwrt_tensor *ref, const struct hwrt_tensor *q, struct acc_sum *s)
{
	if (!rt_same_shape(ref, q) || ref->dtype != q->dtype) {
		s->shape_differs = true;
		return;
	}
	int64_t n = hwrt_tensor_count(ref);
	for (int64_t k = 0; k < n; k++) {
		double r = at(ref, k), v = at(q, k), d = fabs(v - r);
		if (!isnan(s->max_abs) && !(d <= s->max_abs))
			s->max_abs = d; /* a NaN stays */
		s->sq += d * d;
		s->dot += r * v;
		s->nr += r * r;
		s->nq += v * v;
	}
	s->count += n;
}

/* Copies of the outputs of one run (the session reuses its buffers). */
static struct hwrt_tensor **keep_outputs(const struct hwrt_tensor *out, size_t no)
{
	struct hwrt_tensor **k = calloc(no + 1, sizeof(*k));
	for (size_t o = 0; k && o < no; o++) {
		k[o] = rt_tensor_new(out[o].dtype, out[o].rank, out[o].dims);
		if (!k[o]) {
			for (size_t j = 0; j < o; j++)
				rt_tensor_free(k[j]);
			free(k);
			return NULL;
		}
		memcpy(k[o]->data, out[o].data, hwrt_tensor_bytes(&out[o]));
	}
	return k;
}

static int report(struct hwrt_model *m, struct acc_sum *sums, struct rt_err *e)
{
	const struct rt_graph *g = &m->g;
	size_t no = (size_t)g->n_outputs;
	m->accuracy = calloc(no + 1, sizeof(*m->accuracy));
	if (!m->accuracy)
		return rt_fail(e, "out of memory");
	double bound = g->opt.min_cosine == 0.0 ? DEFAULT_MIN_COSINE : g->opt.min_cosine;
	const char *prec = hwrt_precision_name(g->opt.precision);
	for (size_t o = 0; o < no; o++) {
		struct acc_sum *s = &sums[o];
		struct hwrt_accuracy *a = &m->accuracy[o];
		a->output = g->values[g->outputs[o]].name;
		if (s->shape_differs)
			return rt_fail(e, "output '%s' has another shape or type at %s than at fp32",
				       a->output, prec);
		a->max_abs_err = s->max_abs;
		a->mse = s->count ? s->sq / (double)s->count : 0.0;
		if (s->nr == 0.0 && s->nq == 0.0)
			a->cosine = 1.0;
		else if (s->nr == 0.0 || s->nq == 0.0)
			a->cosine = 0.0;
		else
			a->cosine = s->dot / (sqrt(s->nr) * sqrt(s->nq));
		if (bound > 0.0 && !(a->cosine >= bound))
			return rt_fail(e,
				       "the %s model is refused: output '%s' has cosine similarity "
				       "%.6f to fp32, below the bound %g (max abs error %.3g, MSE "
				       "%.3g, on %s); keep sensitive nodes in fp32 or use a higher "
				       "precision",
				       prec, a->output, a->cosine, bound, a->max_abs_err, a->mse,
				       m->stats.calib_sets ? "the calibration inputs"
							   : "random inputs");
	}
	return 0;
}

/* Runs every set at fp32 (recording input ranges) and at the precision,
 * summing the comparison per output. */
static int measure(struct hwrt_model *m, const struct calib_sets *cs, struct acc_sum *sums,
		   struct rt_calib *cal, struct rt_err *e)
{
	const struct rt_graph *g = &m->g;
	size_t ni = (size_t)g->n_inputs, no = (size_t)g->n_outputs;
	struct hwrt_session *s = hwrt_session_create(m);
	struct hwrt_tensor *out = calloc(no + 1, sizeof(*out));
	struct hwrt_tensor ***refs = calloc(cs->n + 1, sizeof(*refs));
	int rc = 0;
	if (!s || !out || !refs)
		rc = rt_fail(e, "out of memory");
	for (size_t k = 0; k < cs->n && !rc; k++) {
		rc = rt_session_run(s, cs->in + k * ni, ni, out, no, NULL, cal, e);
		if (!rc && !(refs[k] = keep_outputs(out, no)))
			rc = rt_fail(e, "out of memory for the fp32 outputs");
	}
	/* static ranges from what fp32 saw */
	for (int i = 0; i < g->n_nodes && !rc && g->opt.n_calib; i++) {
		struct rt_node *n = &m->g.nodes[i];
		if (n->prec == HWRT_PREC_INT8 && cal->seen[i]) {
			n->has_range = true;
			n->range_lo = cal->lo[i];
			n->range_hi = cal->hi[i];
			m->stats.static_ranges = true;
		}
	}
	for (size_t k = 0; k < cs->n && !rc; k++) {
		rc = rt_session_run(s, cs->in + k * ni, ni, out, no, NULL, NULL, e);
		for (size_t o = 0; o < no && !rc; o++)
			compare(refs[k][o], &out[o], &sums[o]);
	}
	for (size_t k = 0; refs && k < cs->n; k++)
		for (size_t o = 0; refs[k] && o < no; o++)
			rt_tensor_free(refs[k][o]);
	for (size_t k = 0; refs && k < cs->n; k++)
		free(refs[k]);
	free(refs);
	free(out);
	hwrt_session_free(s);
	if (rc < 0) {
		char msg[sizeof(e->msg)];
		snprintf(msg, sizeof(msg), "%s", e->msg);
		return rt_fail(e, "the accuracy check at %s failed: %s",
			       hwrt_precision_name(g->opt.precision), msg);
	}
	return 0;
}

int rt_calibrate(struct hwrt_model *m, struct rt_err *e)
{
	struct rt_graph *g = &m->g;
	for (int i = 0; i < g->n_nodes; i++)
		m->stats.reduced += g->nodes[i].prec != HWRT_PREC_FP32;
	if (!m->stats.reduced)
		return 0;
	struct calib_sets cs = { 0 };
	size_t nn = (size_t)g->n_nodes + 1, no = (size_t)g->n_outputs + 1;
	struct rt_calib cal = { .reference = true, .lo = calloc(nn, sizeof(float)),
				.hi = calloc(nn, sizeof(float)), .seen = calloc(nn, sizeof(bool)) };
	struct acc_sum *sums = calloc(no, sizeof(*sums));
	int rc;
	if (!cal.lo || !cal.hi || !cal.seen || !sums)
		rc = rt_fail(e, "out of memory");
	else
		rc = g->opt.n_calib ? named_sets(g, &cs, e) : random_set(g, &cs, e);
	m->stats.calib_sets = g->opt.n_calib ? cs.n : 0;
	if (!rc && cs.n == 0)
		rc = rt_fail(e, "no calibration set");
	if (!rc)
		rc = measure(m, &cs, sums, &cal, e);
	if (!rc)
		rc = report(m, sums, e);
	sets_free(&cs);
	free(cal.lo);
	free(cal.hi);
	free(cal.seen);
	free(sums);
	return rc;
}

size_t hwrt_model_accuracy(const struct hwrt_model *m, const struct hwrt_accuracy **out)
{
	*out = m->accuracy;
	return m->accuracy ? (size_t)m->g.n_outputs : 0;
}
