/* BatchNormalization (opset 7+): y = (x - mean) / sqrt(var + epsilon) * scale
 * + B per channel of an N x C x ... input. In training (training_mode=1 from
 * opset 14, or the extra outputs before 14) the batch statistics normalize
 * and the running ones are updated with momentum; spatial=0 (opset 7) keeps
 * one set of parameters per channel and position. */
#include <math.h>

#include "runtime/ops/reduce.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	bool v14 = g->opset >= 14;
	if (rt_check_io(n, 5, 5, 1, v14 ? 3 : 5, e))
		return -1;
	int64_t tm = rt_attr_int(n, "training_mode", 0);
	if (!v14 && rt_attr_find(n, "training_mode"))
		return rt_fail(e, "training_mode needs opset 14");
	if (tm != 0 && tm != 1)
		return rt_fail(e, "training_mode must be 0 or 1");
	if (v14 && !tm && n->n_out > 1)
		return rt_fail(e, "running_mean and running_var are outputs of training_mode=1 only");
	if (g->opset >= 9 && rt_attr_find(n, "spatial"))
		return rt_fail(e, "the spatial attribute was removed in opset 9");
	return 0;
}

static bool training(const struct rt_node *n)
{
	return rt_attr_int(n, "training_mode", 0) || n->n_out > 1;
}

/* [N, C, S]: per-position parameters when spatial=0 fold the positions into C. */
static void layout(const struct rt_node *n, const struct hwrt_tensor *x, int64_t *N, int64_t *C,
		   int64_t *S)
{
	*N = x->dims[0];
	*C = x->dims[1];
	*S = rt_dims_prod(x->dims, 2, x->rank);
	if (!rt_attr_int(n, "spatial", 1)) {
		*C *= *S;
		*S = 1;
	}
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	static const char *const names[] = { "X", "scale", "B", "input_mean", "input_var" };
	const struct hwrt_tensor *x = in[0];
	if (!rt_is_float_type(x->dtype))
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	if (x->rank < 2)
		return rt_fail(e, "X must have rank >= 2 (N x C x ...), has %d", x->rank);
	float eps = rt_attr_float(n, "epsilon", 1e-5f);
	if (!isfinite(eps) || eps < 0)
		return rt_fail(e, "epsilon must be finite and >= 0");
	int64_t N, C, S;
	layout(n, x, &N, &C, &S);
	for (int k = 1; k < 5; k++) {
		if (!rt_is_float_type(in[k]->dtype))
			return rt_fail(e, "%s has unsupported type %s", names[k],
				       hwrt_dtype_name(in[k]->dtype));
		if (hwrt_tensor_count(in[k]) != C)
			return rt_fail(e, "%s has %lld elements, expected %lld", names[k],
				       (long long)hwrt_tensor_count(in[k]), (long long)C);
	}
	if (n->n_out > 1 && N * S == 0)
		return rt_fail(e, "training needs a non-empty batch");
	rt_set_shape(out[0], x->dtype, x->rank, x->dims);
	/* running mean, var, then saved mean, var (before opset 14) */
	for (int k = 1; k < n->n_out; k++)
		if (out[k])
			rt_set_shape(out[k], in[k < 3 ? k + 2 : k]->dtype, in[3]->rank, in[3]->dims);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *X = in[0];
	int64_t N, C, S;
	layout(n, X, &N, &C, &S);
	int64_t cnt = N * C * S;
	double eps = rt_attr_float(n, "epsilon", 1e-5f);
	double *p = rt_alloc((size_t)C * 8 * sizeof(double));
	double *xd = NULL;
	if (!p)
		return rt_fail(e, "out of memory");
	double *gam = p, *bet = p + C, *mu = p + 2 * C, *var = p + 3 * C;
	double *bm = p + 4 * C, *bv = p + 5 * C;
	float *sc = (float *)(p + 6 * C), *bi = sc + C;
	rt_to_f64(in[1]->data, in[1]->dtype, gam, C);
	rt_to_f64(in[2]->data, in[2]->dtype, bet, C);
	rt_to_f64(in[3]->data, in[3]->dtype, mu, C);
	rt_to_f64(in[4]->data, in[4]->dtype, var, C);
	if (X->dtype != HWRT_FLOAT && cnt) {
		if (!(xd = rt_alloc((size_t)cnt * sizeof(double)))) {
			rt_free(p);
			return rt_fail(e, "out of memory");
		}
		rt_to_f64(X->data, X->dtype, xd, cnt);
	}
	bool train = training(n);
	if (train) {
		/* Batch statistics per channel, population variance. */
		const float *xf = X->data;
		for (int64_t c = 0; c < C; c++) {
			double s = 0, v = 0;
			for (int64_t b = 0; b < N; b++)
				for (int64_t i = 0; i < S; i++) {
					int64_t j = (b * C + c) * S + i;
					s += xd ? xd[j] : xf[j];
				}
			s /= (double)(N * S);
			for (int64_t b = 0; b < N; b++)
				for (int64_t i = 0; i < S; i++) {
					int64_t j = (b * C + c) * S + i;
					double d = (xd ? xd[j] : xf[j]) - s;
					v += d * d;
				}
			bm[c] = s;
			bv[c] = v / (double)(N * S);
		}
		double mom = rt_attr_float(n, "momentum", 0.9f);
		double *run_m = p + 6 * C, *run_v = p + 7 * C; /* sc, bi are filled later */
		for (int64_t c = 0; c < C; c++) {
			run_m[c] = mu[c] * mom + bm[c] * (1 - mom);
			run_v[c] = var[c] * mom + bv[c] * (1 - mom);
		}
		if (out[1])
			rt_from_f64(run_m, out[1]->dtype, out[1]->data, C);
		if (n->n_out > 2 && out[2])
			rt_from_f64(run_v, out[2]->dtype, out[2]->data, C);
		if (n->n_out > 3 && out[3])
			rt_from_f64(bm, out[3]->dtype, out[3]->data, C);
		if (n->n_out > 4 && out[4])
			rt_from_f64(bv, out[4]->dtype, out[4]->data, C);
		mu = bm;
		var = bv;
	}
	/* Folded in double: y = x sc + bi. A negative variance gives NaN as
	 * in the reference. */
	for (int64_t c = 0; c < C; c++) {
		double s = gam[c] / sqrt(var[c] + eps);
		sc[c] = (float)s;
		bi[c] = (float)(bet[c] - mu[c] * s);
		gam[c] = s;
		bet[c] = bet[c] - mu[c] * s;
	}
	int rc = 0;
	if (!xd) {
		if (cnt)
			rc = hwk_f32_batchnorm((size_t)N, (size_t)C, (size_t)S, X->data, sc, bi,
					       out[0]->data, x->par);
	} else {
		for (int64_t j = 0; j < cnt; j++) {
			int64_t c = j / S % C;
			xd[j] = xd[j] * gam[c] + bet[c];
		}
		rt_from_f64(xd, X->dtype, out[0]->data, cnt);
	}
	rt_free(xd);
	rt_free(p);
	if (rc)
		return rt_fail(e, "batchnorm kernel failed (%d)", rc);
	return 0;
}

RT_OP_DEFINE(BatchNormalization) = { .name = "BatchNormalization", .since = 7, .check = check,
				     .infer = infer, .run = run };
