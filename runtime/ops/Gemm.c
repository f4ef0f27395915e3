/* Gemm: Y = alpha * op(A) * op(B) + beta * C, C broadcast to M x N and
 * optional from opset 11 (opset 7+); float32 on libhwk's GEMM. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/compute.h"
#include "runtime/ops/lowp.h"

struct gemm_state {
	struct hwk_f32_packed_b *pb;  /* fp32 weights, or */
	struct rt_lowp_gemm *lp;      /* reduced-precision ones (alpha folded in) */
	size_t k, n;
};

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (rt_check_io(n, g->opset >= 11 ? 2 : 3, 3, 1, 1, e) < 0)
		return -1;
	if (rt_attr_find(n, "broadcast"))
		return rt_fail(e, "the broadcast attribute was removed in opset 7");
	return 0;
}

static void dims_mkn(const struct rt_node *n, const struct hwrt_tensor *a,
		     const struct hwrt_tensor *b, int64_t *m, int64_t *k, int64_t *kb, int64_t *nn)
{
	bool ta = rt_attr_int(n, "transA", 0) != 0, tb = rt_attr_int(n, "transB", 0) != 0;
	*m = ta ? a->dims[1] : a->dims[0];
	*k = ta ? a->dims[0] : a->dims[1];
	*kb = tb ? b->dims[1] : b->dims[0];
	*nn = tb ? b->dims[0] : b->dims[1];
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *a = in[0], *b = in[1], *c = n->n_in > 2 ? in[2] : NULL;
	if (a->dtype != b->dtype || (c && c->dtype != a->dtype))
		return rt_fail(e, "A, B and C must have one type (A is %s, B %s)",
			       hwrt_dtype_name(a->dtype), hwrt_dtype_name(b->dtype));
	if (!rt_compute_float_type(a->dtype))
		return rt_fail(e, "type %s is not supported (float, float16, double)",
			       hwrt_dtype_name(a->dtype));
	if (a->rank != 2 || b->rank != 2)
		return rt_fail(e, "A and B must be 2-D (ranks %d and %d)", a->rank, b->rank);
	int64_t m, k, kb, nn;
	dims_mkn(n, a, b, &m, &k, &kb, &nn);
	if (k != kb)
		return rt_fail(e, "inner dimensions differ: op(A) is %lld x %lld, op(B) %lld x %lld",
			       (long long)m, (long long)k, (long long)kb, (long long)nn);
	if (c) {
		if (c->rank > 2)
			return rt_fail(e, "C must have rank <= 2, has %d", c->rank);
		int64_t cm = c->rank == 2 ? c->dims[0] : 1;
		int64_t cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
		if ((cm != 1 && cm != m) || (cn != 1 && cn != nn))
			return rt_fail(e, "C (%lld x %lld) does not broadcast to %lld x %lld",
				       (long long)cm, (long long)cn, (long long)m, (long long)nn);
	}
	int64_t dims[2] = { m, nn };
	rt_set_shape(out[0], a->dtype, 2, dims);
	return 0;
}

/* beta * C (one row, constant) plus the fused bias, as n floats; NULL when
 * there is none or C is not constant. */
static float *const_bias(const struct rt_node *n, const struct rt_graph *g, size_t nn, bool *oom)
{
	const struct hwrt_tensor *c = n->n_in > 2 && n->in[2] >= 0 ? g->values[n->in[2]].konst
								    : NULL;
	bool bad, has_c = n->n_in > 2 && n->in[2] >= 0;
	const float *fb = rt_fused_bias(n, g, (int64_t)nn, &bad);
	float beta = rt_attr_float(n, "beta", 1.0f);
	*oom = false;
	if (bad || (has_c && (!c || c->dtype != HWRT_FLOAT)) || (!c && !fb))
		return NULL;
	int64_t cn = c && c->rank >= 1 ? c->dims[c->rank - 1] : 1;
	if (c && cn != 1 && cn != (int64_t)nn)
		return NULL;
	float *b = malloc(nn * sizeof(float));
	if (!b) {
		*oom = true;
		return NULL;
	}
	for (size_t j = 0; j < nn; j++)
		b[j] = (c ? beta * ((const float *)c->data)[cn == 1 ? 0 : j] : 0.0f) +
		       (fb ? fb[j] : 0.0f);
	return b;
}

static int prepare(struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	const struct hwrt_tensor *b = g->values[n->in[1]].konst;
	if (!b || b->dtype != HWRT_FLOAT || b->rank != 2 || !b->dims[0] || !b->dims[1])
		return 0;
	bool tb = rt_attr_int(n, "transB", 0) != 0;
	struct gemm_state *st = calloc(1, sizeof(*st));
	if (!st)
		return rt_fail(e, "out of memory");
	st->k = (size_t)(tb ? b->dims[1] : b->dims[0]);
	st->n = (size_t)(tb ? b->dims[0] : b->dims[1]);
	n->state = st;
	/* reduced precision when op(A) is A and C is at most a row (a bias) */
	const struct rt_value *c = n->n_in > 2 && n->in[2] >= 0 ? &g->values[n->in[2]] : NULL;
	if (!rt_attr_int(n, "transA", 0) && (!c || (c->rank >= 0 && c->rank < 2) ||
					     (c->rank == 2 && c->dims[0] == 1))) {
		bool oom;
		float *bias = const_bias(n, g, st->n, &oom);
		if (oom)
			return rt_fail(e, "out of memory");
		int rc = rt_lowp_gemm_pack(rt_lowp_choose(n, g), st->k, st->n, b->data,
					   (size_t)b->dims[1], tb, rt_attr_float(n, "alpha", 1.0f),
					   bias, &st->lp, e);
		free(bias);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			n->prec = st->lp->prec;
			return 0;
		}
	}
	st->pb = hwk_f32_gemm_pack_b(st->k, st->n, b->data, (size_t)b->dims[1], tb);
	if (!st->pb)
		return rt_fail(e, "cannot pack B");
	return 0;
}

static void release(struct rt_node *n)
{
	struct gemm_state *st = n->state;
	hwk_f32_gemm_packed_b_free(st->pb);
	rt_lowp_gemm_free(st->lp);
	free(st);
	n->state = NULL;
}

static int run_f32(const struct rt_node *n, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *a = in[0], *b = in[1], *c = n->n_in > 2 ? in[2] : NULL;
	bool ta = rt_attr_int(n, "transA", 0) != 0, tb = rt_attr_int(n, "transB", 0) != 0;
	float alpha = rt_attr_float(n, "alpha", 1.0f), beta = rt_attr_float(n, "beta", 1.0f);
	int64_t m, k, kb, nn;
	dims_mkn(n, a, b, &m, &k, &kb, &nn);
	float *y = out[0]->data;
	bool bad;
	const float *fb = rt_fused_bias(n, x->g, nn, &bad);
	if (bad)
		return rt_fail(e, "the fused bias is not %lld floats", (long long)nn);
	const struct gemm_state *st = n->state;
	size_t lda = (size_t)a->dims[1];
	bool lowp = st && st->lp && st->k == (size_t)k && st->n == (size_t)nn &&
		    rt_lowp_use(n, x, a->data, (size_t)(m * k));
	if (lowp && st->lp->bias) /* C, a constant row, is packed with the weights */
		return rt_lowp_gemm_run(st->lp, n, (size_t)m, a->data, lda, NULL, y, x->par, e);
	if (c && beta == 0.0f)
		c = NULL;
	const float *cd = c ? c->data : NULL;
	int64_t cm = c && c->rank == 2 ? c->dims[0] : 1;
	int64_t cn = c && c->rank >= 1 ? c->dims[c->rank - 1] : 1;
	float *scratch = NULL;
	const float *bias = fb;
	float gbeta = 0.0f;
	if (c && cm == 1) {
		/* one row of C: a per-column bias in the epilogue */
		if (beta == 1.0f && cn == nn && !fb) {
			bias = cd;
		} else {
			scratch = rt_alloc((size_t)(nn ? nn : 1) * sizeof(float));
			if (!scratch)
				return rt_fail(e, "out of memory");
			for (int64_t j = 0; j < nn; j++)
				scratch[j] = beta * cd[cn == 1 ? 0 : j] + (fb ? fb[j] : 0.0f);
			bias = scratch;
		}
	} else if (c) {
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = 0; j < nn; j++)
				y[i * nn + j] = cd[i * cn + (cn == 1 ? 0 : j)];
		gbeta = beta;
	}
	struct hwk_f32_gemm_epilogue ep;
	bool post = rt_make_epilogue(n, bias, &ep);
	int rc;
	if (lowp && gbeta == 0.0f) {
		rc = rt_lowp_gemm_run(st->lp, n, (size_t)m, a->data, lda, bias, y, x->par, e);
		rt_free(scratch);
		return rc;
	}
	if (st && st->pb && st->k == (size_t)k && st->n == (size_t)nn)
		rc = hwk_f32_gemm_packed(ta, (size_t)m, (size_t)nn, (size_t)k, alpha, a->data, lda,
					 st->pb, gbeta, y, (size_t)nn, &ep, x->par);
	else
		rc = hwk_f32_gemm(ta, tb, (size_t)m, (size_t)nn, (size_t)k, alpha, a->data, lda,
				  b->data, (size_t)b->dims[1], gbeta, y, (size_t)nn, &ep, x->par);
	rt_free(scratch);
	if (rc < 0)
		return rt_hwk_fail(e, rc, "GEMM");
	if (post)
		return rt_post_act(n, y, (size_t)(m * nn), x->par, e);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (in[0]->dtype == HWRT_FLOAT)
		return run_f32(n, in, out, x, e);
	return rt_run_as_f32(n, in, out, x, e, run_f32);
}

RT_OP_DEFINE(Gemm) = { .name = "Gemm", .since = 7, .check = check, .infer = infer,
		       .prepare = prepare, .run = run, .release = release };
