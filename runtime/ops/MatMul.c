/* MatMul: numpy matmul, with 1-D promotion and broadcasting of the batch
 * dims (opset 1+); float32 on libhwk's GEMM, float16/double through float. */
#include <stdlib.h>

#include "runtime/ops/compute.h"
#include "runtime/ops/lowp.h"

struct mm_state {
	struct hwk_f32_packed_b *pb;  /* fp32 weights, or */
	struct rt_lowp_gemm *lp;      /* reduced-precision ones */
	size_t k, n;
};

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	return rt_check_io(n, 2, 2, 1, 1, e);
}

/* The shapes of a matmul: batch dims of A, B and the output, padded on the
 * left to the same rank. */
struct mm_shape {
	int br;                       /* batch rank */
	int64_t ab[HWRT_MAX_RANK], bb[HWRT_MAX_RANK], ob[HWRT_MAX_RANK];
	int64_t m, k, n, batches;
};

static int mm_shape(const struct hwrt_tensor *a, const struct hwrt_tensor *b, struct mm_shape *s,
		    struct rt_err *e)
{
	if (a->rank < 1 || b->rank < 1)
		return rt_fail(e, "inputs must have rank >= 1 (ranks %d and %d)", a->rank, b->rank);
	s->m = a->rank == 1 ? 1 : a->dims[a->rank - 2];
	s->k = a->dims[a->rank - 1];
	int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
	s->n = b->rank == 1 ? 1 : b->dims[b->rank - 1];
	if (kb != s->k)
		return rt_fail(e, "inner dimensions differ: A has %lld columns, B %lld rows",
			       (long long)s->k, (long long)kb);
	int ar = a->rank > 2 ? a->rank - 2 : 0, bro = b->rank > 2 ? b->rank - 2 : 0;
	s->br = ar > bro ? ar : bro;
	s->batches = 1;
	for (int i = 0; i < s->br; i++) {
		int ia = i - (s->br - ar), ib = i - (s->br - bro);
		s->ab[i] = ia >= 0 ? a->dims[ia] : 1;
		s->bb[i] = ib >= 0 ? b->dims[ib] : 1;
		if (s->ab[i] != s->bb[i] && s->ab[i] != 1 && s->bb[i] != 1)
			return rt_fail(e, "batch dims %lld and %lld do not broadcast",
				       (long long)s->ab[i], (long long)s->bb[i]);
		s->ob[i] = s->ab[i] == 1 ? s->bb[i] : s->ab[i];
		s->batches *= s->ob[i];
	}
	return 0;
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *a = in[0], *b = in[1];
	if (a->dtype != b->dtype)
		return rt_fail(e, "A is %s but B is %s", hwrt_dtype_name(a->dtype),
			       hwrt_dtype_name(b->dtype));
	if (!rt_compute_float_type(a->dtype))
		return rt_fail(e, "type %s is not supported (float, float16, double)",
			       hwrt_dtype_name(a->dtype));
	struct mm_shape s;
	if (mm_shape(a, b, &s, e) < 0)
		return -1;
	int64_t dims[HWRT_MAX_RANK];
	int r = 0;
	for (int i = 0; i < s.br; i++)
		dims[r++] = s.ob[i];
	if (a->rank > 1)
		dims[r++] = s.m;
	if (b->rank > 1)
		dims[r++] = s.n;
	rt_set_shape(out[0], a->dtype, r, dims);
	return 0;
}

static int prepare(struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	const struct hwrt_tensor *b = g->values[n->in[1]].konst;
	if (!b || b->dtype != HWRT_FLOAT || b->rank < 1)
		return 0;
	/* only an unbatched B packs once */
	for (int i = 0; i < b->rank - 2; i++)
		if (b->dims[i] != 1)
			return 0;
	size_t k = (size_t)(b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2]);
	size_t nn = (size_t)(b->rank == 1 ? 1 : b->dims[b->rank - 1]);
	if (!k || !nn)
		return 0;
	struct mm_state *st = calloc(1, sizeof(*st));
	if (!st)
		return rt_fail(e, "out of memory");
	st->k = k;
	st->n = nn;
	n->state = st;
	bool bad;
	const float *bias = rt_fused_bias(n, g, (int64_t)nn, &bad);
	int rc = rt_lowp_gemm_pack(rt_lowp_choose(n, g), k, nn, b->data, nn, false, 1.0f, bias,
				   &st->lp, e);
	if (rc < 0)
		return -1;
	if (rc == 0) {
		n->prec = st->lp->prec;
		return 0;
	}
	st->pb = hwk_f32_gemm_pack_b(k, nn, b->data, nn, false);
	if (!st->pb)
		return rt_fail(e, "cannot pack B (%zu x %zu)", k, nn);
	return 0;
}

static void release(struct rt_node *n)
{
	struct mm_state *st = n->state;
	hwk_f32_gemm_packed_b_free(st->pb);
	rt_lowp_gemm_free(st->lp);
	free(st);
	n->state = NULL;
}

struct batch_job {
	const float *a, *b;
	float *c;
	const struct mm_shape *s;
	const struct hwk_f32_gemm_epilogue *ep;
	int rc;
};

static int one_batch(struct batch_job *j, size_t idx, const struct hwk_parallel *par)
{
	const struct mm_shape *s = j->s;
	/* unravel idx over the output batch dims, then re-ravel per input */
	size_t ia = 0, ib = 0, rem = idx, sa = 1, sb = 1;
	for (int i = s->br - 1; i >= 0; i--) {
		size_t d = rem % (size_t)s->ob[i];
		rem /= (size_t)s->ob[i];
		ia += (s->ab[i] == 1 ? 0 : d) * sa;
		ib += (s->bb[i] == 1 ? 0 : d) * sb;
		sa *= (size_t)s->ab[i];
		sb *= (size_t)s->bb[i];
	}
	size_t m = (size_t)s->m, k = (size_t)s->k, nn = (size_t)s->n;
	return hwk_f32_gemm(false, false, m, nn, k, 1.0f, j->a + ia * m * k, k, j->b + ib * k * nn,
			    nn, 0.0f, j->c + idx * m * nn, nn, j->ep, par);
}

static void batch_task(void *ctx, size_t idx)
{
	struct batch_job *j = ctx;
	int rc = one_batch(j, idx, NULL);
	if (rc < 0)
		j->rc = rc; /* any failure; which one does not matter */
}

static int run_f32(const struct rt_node *n, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	const struct hwrt_tensor *a = in[0], *b = in[1];
	struct mm_shape s;
	if (mm_shape(a, b, &s, e) < 0)
		return -1;
	bool bad;
	const float *bias = rt_fused_bias(n, x->g, s.n, &bad);
	if (bad)
		return rt_fail(e, "the fused bias is not %lld floats", (long long)s.n);
	struct hwk_f32_gemm_epilogue ep;
	bool post = rt_make_epilogue(n, bias, &ep);
	float *c = out[0]->data;
	int64_t bb = 1;
	for (int i = 0; i < s.br; i++)
		bb *= s.bb[i];
	int rc;
	if (bb == 1) {
		/* B shared by every batch: one GEMM over all rows of A */
		size_t m = (size_t)(s.batches * s.m), k = (size_t)s.k, nn = (size_t)s.n;
		const struct mm_state *st = n->state;
		bool fits = st && st->k == k && st->n == nn;
		if (fits && st->lp && rt_lowp_use(n, x, a->data, m * k))
			return rt_lowp_gemm_run(st->lp, n, m, a->data, k, st->lp->bias ? NULL : bias,
						c, x->par, e);
		if (fits && st->pb)
			rc = hwk_f32_gemm_packed(false, m, nn, k, 1.0f, a->data, k, st->pb, 0.0f, c,
						 nn, &ep, x->par);
		else
			rc = hwk_f32_gemm(false, false, m, nn, k, 1.0f, a->data, k, b->data, nn, 0.0f,
					  c, nn, &ep, x->par);
	} else {
		struct batch_job j = { a->data, b->data, c, &s, &ep, 0 };
		size_t threads = hwk_parallel_threads(x->par);
		rc = 0;
		if ((size_t)s.batches >= 2 * threads || s.m * s.n * s.k < 64 * 64 * 64) {
			/* many small products: one per task */
			hwk_parallel_for(x->par, (size_t)s.batches, batch_task, &j);
			rc = j.rc;
		} else {
			for (int64_t i = 0; i < s.batches && rc == 0; i++)
				rc = one_batch(&j, (size_t)i, x->par);
		}
	}
	if (rc < 0)
		return rt_hwk_fail(e, rc, "GEMM");
	if (post)
		return rt_post_act(n, c, (size_t)hwrt_tensor_count(out[0]), x->par, e);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (in[0]->dtype == HWRT_FLOAT)
		return run_f32(n, in, out, x, e);
	return rt_run_as_f32(n, in, out, x, e, run_f32);
}

RT_OP_DEFINE(MatMul) = { .name = "MatMul", .since = 1, .check = check, .infer = infer,
			 .prepare = prepare, .run = run, .release = release };
