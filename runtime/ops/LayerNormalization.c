/* LayerNormalization (opset 17): y = (x - mean) / sqrt(var + epsilon) * Scale + B
 * over the dims from axis on, with the optional Mean and InvStdDev outputs
 * (float: stash_type 1). */
#include <math.h>

#include "runtime/ops/reduce.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (rt_check_io(n, 2, 3, 1, 3, e))
		return -1;
	int64_t st = rt_attr_int(n, "stash_type", 1);
	if (st != HWRT_FLOAT)
		return rt_fail(e, "stash_type %lld is not supported (only 1, float)", (long long)st);
	return 0;
}

/* Whether p broadcasts unidirectionally to the rank-nr shape nd. */
static bool fits(const struct hwrt_tensor *p, const int64_t *nd, int nr)
{
	if (p->rank > nr)
		return false;
	for (int i = 0; i < p->rank; i++) {
		int64_t pd = p->dims[p->rank - 1 - i], xd = nd[nr - 1 - i];
		if (pd != xd && pd != 1)
			return false;
	}
	return true;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	if (!rt_is_float_type(x->dtype))
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	int64_t a = rt_attr_int(n, "axis", -1);
	int axis = rt_axis(a, x->rank);
	if (axis < 0 || x->rank == 0)
		return rt_fail(e, "axis %lld is out of range for rank %d", (long long)a, x->rank);
	float eps = rt_attr_float(n, "epsilon", 1e-5f);
	if (!isfinite(eps) || eps < 0)
		return rt_fail(e, "epsilon must be finite and >= 0");
	for (int k = 1; k < 3; k++) {
		const struct hwrt_tensor *p = k < n->n_in ? in[k] : NULL;
		if (!p)
			continue;
		if (p->dtype != x->dtype)
			return rt_fail(e, "%s has type %s, X has %s", k == 1 ? "Scale" : "B",
				       hwrt_dtype_name(p->dtype), hwrt_dtype_name(x->dtype));
		if (!fits(p, x->dims + axis, x->rank - axis))
			return rt_fail(e, "%s does not broadcast to the normalized shape",
				       k == 1 ? "Scale" : "B");
	}
	rt_set_shape(out[0], x->dtype, x->rank, x->dims);
	int64_t sd[HWRT_MAX_RANK];
	for (int i = 0; i < x->rank; i++)
		sd[i] = i < axis ? x->dims[i] : 1;
	for (int k = 1; k < 3; k++)
		if (k < n->n_out && out[k])
			rt_set_shape(out[k], HWRT_FLOAT, x->rank, sd);
	return 0;
}

/* p broadcast to the normalized shape, flattened into n doubles. */
static void expand(const struct hwrt_tensor *p, const int64_t *nd, int nr, int64_t n, double *dst)
{
	int64_t st[HWRT_MAX_RANK], ps[HWRT_MAX_RANK];
	rt_strides(p->rank, p->dims, ps);
	for (int j = 0; j < nr; j++) {
		int pj = j - (nr - p->rank);
		st[j] = pj >= 0 && p->dims[pj] != 1 ? ps[pj] : 0;
	}
	for (int64_t i = 0; i < n; i++) {
		int64_t rem = i, off = 0;
		for (int j = nr - 1; j >= 0; j--) {
			off += rem % nd[j] * st[j];
			rem /= nd[j];
		}
		dst[i] = rt_num_at(p, off);
	}
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *X = in[0];
	int axis = rt_axis(rt_attr_int(n, "axis", -1), X->rank);
	float eps = rt_attr_float(n, "epsilon", 1e-5f);
	int64_t rows = rt_dims_prod(X->dims, 0, axis), cols = rt_dims_prod(X->dims, axis, X->rank);
	if (rows == 0 || cols == 0)
		return 0;
	const int64_t *nd = X->dims + axis;
	int nr = X->rank - axis;
	float *mean = n->n_out > 1 && out[1] ? out[1]->data : NULL;
	float *isd = n->n_out > 2 && out[2] ? out[2]->data : NULL;
	const struct hwrt_tensor *S = in[1], *B = n->n_in > 2 ? in[2] : NULL;
	double *w = rt_alloc((size_t)cols * 3 * sizeof(double));
	if (!w)
		return rt_fail(e, "out of memory");
	double *bw = w + cols;
	expand(S, nd, nr, cols, w);
	if (B)
		expand(B, nd, nr, cols, bw);
	int rc = 0;
	if (X->dtype == HWRT_FLOAT) {
		/* Float Scale and B as given when they need no broadcast. */
		float *fw = (float *)(w + 2 * cols), *fb = fw + cols;
		const float *b = NULL;
		const float *g = hwrt_tensor_count(S) == cols ? S->data : NULL;
		if (!g) {
			for (int64_t i = 0; i < cols; i++)
				fw[i] = (float)w[i];
			g = fw;
		}
		if (B) {
			b = hwrt_tensor_count(B) == cols ? B->data : NULL;
			if (!b) {
				for (int64_t i = 0; i < cols; i++)
					fb[i] = (float)bw[i];
				b = fb;
			}
		}
		rc = hwk_f32_layernorm((size_t)rows, (size_t)cols, X->data, (size_t)cols, g, b, eps,
				       out[0]->data, (size_t)cols, mean, isd, x->par);
	} else {
		/* Other float types in double, a row at a time. */
		double *row = rt_alloc((size_t)cols * sizeof(double));
		if (!row) {
			rt_free(w);
			return rt_fail(e, "out of memory");
		}
		size_t es = hwrt_dtype_size(X->dtype);
		for (int64_t r = 0; r < rows; r++) {
			rt_to_f64((const char *)X->data + r * cols * (int64_t)es, X->dtype, row, cols);
			double s = 0, v = 0;
			for (int64_t i = 0; i < cols; i++)
				s += row[i];
			s /= (double)cols;
			for (int64_t i = 0; i < cols; i++)
				v += (row[i] - s) * (row[i] - s);
			double rs = 1 / sqrt(v / (double)cols + eps);
			for (int64_t i = 0; i < cols; i++)
				row[i] = (row[i] - s) * rs * w[i] + (B ? bw[i] : 0);
			rt_from_f64(row, X->dtype, (char *)out[0]->data + r * cols * (int64_t)es, cols);
			if (mean)
				mean[r] = (float)s;
			if (isd)
				isd[r] = (float)rs;
		}
		rt_free(row);
	}
	rt_free(w);
	if (rc)
		return rt_fail(e, "layernorm kernel failed (%d)", rc);
	return 0;
}

RT_OP_DEFINE(LayerNormalization) = { .name = "LayerNormalization", .since = 17, .check = check,
				     .infer = infer, .run = run };
