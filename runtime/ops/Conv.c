/* Conv: N-D convolution with groups, strides, dilations, pads and auto_pad
 * (opset 1+); 1-D and 2-D on libhwk's implicit GEMM over weights packed at
 * load, other ranks by im2col and GEMM. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/compute.h"
#include "runtime/ops/lowp.h"

struct conv_state {
	struct hwk_f32_conv2d_packed *pw; /* NULL: packed per run */
	struct rt_lowp_conv *lq;          /* int8 weights (then no pw) */
	struct hwk_conv2d p;              /* the geometry pw was packed for */
	float *bias;                      /* B plus the fused bias, or NULL */
};

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (rt_check_io(n, 2, 3, 1, 1, e) < 0 || rt_check_auto_pad(n, e) < 0)
		return -1;
	if (rt_attr_int(n, "group", 1) < 1)
		return rt_fail(e, "group must be >= 1");
	return 0;
}

/* The window of this node for input x and weights w (shapes only). */
static int conv_window(const struct rt_node *n, const struct hwrt_tensor *x,
		       const struct hwrt_tensor *w, struct rt_window *win, struct rt_err *e)
{
	memset(win, 0, sizeof(*win));
	win->nd = x->rank - 2;
	if (win->nd < 1 || win->nd > RT_MAX_SPATIAL)
		return rt_fail(e, "X must have rank 3 to %d, has %d", RT_MAX_SPATIAL + 2, x->rank);
	if (w->rank != x->rank)
		return rt_fail(e, "W has rank %d, X rank %d", w->rank, x->rank);
	for (int i = 0; i < win->nd; i++) {
		win->k[i] = w->dims[i + 2];
		win->in[i] = x->dims[i + 2];
	}
	const int64_t *ks;
	int nk = rt_attr_ints(n, "kernel_shape", &ks);
	if (nk >= 0) {
		if (nk != win->nd)
			return rt_fail(e, "kernel_shape has %d values for %d spatial axes", nk,
				       win->nd);
		for (int i = 0; i < nk; i++)
			if (ks[i] != win->k[i])
				return rt_fail(e, "kernel_shape[%d] = %lld but W has %lld", i,
					       (long long)ks[i], (long long)win->k[i]);
	}
	return rt_window_infer(n, win, true, e);
}

static int infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		 struct hwrt_tensor *const *out, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *w = in[1], *b = n->n_in > 2 ? in[2] : NULL;
	if (!rt_compute_float_type(x->dtype))
		return rt_fail(e, "type %s is not supported (float, float16, double)",
			       hwrt_dtype_name(x->dtype));
	if (w->dtype != x->dtype || (b && b->dtype != x->dtype))
		return rt_fail(e, "X, W and B must have one type");
	struct rt_window win;
	if (conv_window(n, x, w, &win, e) < 0)
		return -1;
	int64_t group = rt_attr_int(n, "group", 1), c = x->dims[1], m = w->dims[0];
	if (group < 1 || c % group || w->dims[1] * group != c)
		return rt_fail(e, "X has %lld channels but W expects %lld per group x %lld groups",
			       (long long)c, (long long)w->dims[1], (long long)group);
	if (m % group)
		return rt_fail(e, "%lld output channels do not split into %lld groups",
			       (long long)m, (long long)group);
	if (b && (b->rank != 1 || b->dims[0] != m))
		return rt_fail(e, "B must be a vector of %lld values", (long long)m);
	int64_t dims[HWRT_MAX_RANK] = { x->dims[0], m };
	for (int i = 0; i < win.nd; i++)
		dims[i + 2] = win.out[i];
	rt_set_shape(out[0], x->dtype, x->rank, dims);
	return 0;
}

static void to_hwk(const struct rt_window *win, int64_t c_in, int64_t c_out, int64_t group,
		   struct hwk_conv2d *p)
{
	memset(p, 0, sizeof(*p));
	p->c_in = (size_t)c_in;
	p->c_out = (size_t)c_out;
	p->groups = (size_t)group;
	int o = win->nd == 2 ? 0 : -1; /* 1-D: a height-1 2-D window */
	struct hwk_window2d *w = &p->win;
	w->kh = o ? 1 : (size_t)win->k[0];
	w->sh = o ? 1 : (size_t)win->s[0];
	w->dh = o ? 1 : (size_t)win->d[0];
	w->pad_t = o ? 0 : (size_t)win->pb[0];
	w->pad_b = o ? 0 : (size_t)win->pe[0];
	w->kw = (size_t)win->k[o + 1];
	w->sw = (size_t)win->s[o + 1];
	w->dw = (size_t)win->d[o + 1];
	w->pad_l = (size_t)win->pb[o + 1];
	w->pad_r = (size_t)win->pe[o + 1];
}

/* B plus the fused bias; *owned gets an allocation to free, if any. */
static int total_bias(const struct rt_node *n, const struct rt_graph *g,
		      const struct hwrt_tensor *b, int64_t m, const float **out, float **owned,
		      struct rt_err *e)
{
	bool bad;
	const float *fb = rt_fused_bias(n, g, m, &bad);
	*owned = NULL;
	*out = b ? b->data : fb;
	if (bad)
		return rt_fail(e, "the fused bias is not %lld floats", (long long)m);
	if (b && fb) {
		*owned = malloc((size_t)m * sizeof(float));
		if (!*owned)
			return rt_fail(e, "out of memory");
		for (int64_t i = 0; i < m; i++)
			(*owned)[i] = ((const float *)b->data)[i] + fb[i];
		*out = *owned;
	}
	return 0;
}

static void release(struct rt_node *n)
{
	struct conv_state *st = n->state;
	hwk_f32_conv2d_packed_free(st->pw);
	rt_lowp_conv_free(st->lq);
	free(st->bias);
	free(st);
	n->state = NULL;
}

static int prepare(struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	const struct rt_value *xv = &g->values[n->in[0]];
	const struct hwrt_tensor *w = g->values[n->in[1]].konst;
	const struct hwrt_tensor *b = n->n_in > 2 && n->in[2] >= 0 ? g->values[n->in[2]].konst : NULL;
	if (!w || w->dtype != HWRT_FLOAT || xv->rank != w->rank || (w->rank != 3 && w->rank != 4))
		return 0;
	if (n->n_in > 2 && n->in[2] >= 0 && !b)
		return 0;
	/* pads from auto_pad SAME need the input size; others do not */
	bool same = strncmp(rt_attr_string(n, "auto_pad", "NOTSET"), "SAME", 4) == 0;
	struct hwrt_tensor xs = { .dtype = HWRT_FLOAT, .rank = xv->rank };
	for (int i = 0; i < xv->rank; i++) {
		xs.dims[i] = xv->dims[i];
		if (i >= 2 && xs.dims[i] < 0) {
			if (same)
				return 0;
			xs.dims[i] = (int64_t)1 << 30;
		}
	}
	struct rt_window win;
	struct rt_err ie;
	if (conv_window(n, &xs, w, &win, &ie) < 0)
		return 0; /* run reports it */
	struct conv_state *st = calloc(1, sizeof(*st));
	if (!st)
		return rt_fail(e, "out of memory");
	int64_t group = rt_attr_int(n, "group", 1);
	to_hwk(&win, w->dims[1] * group, w->dims[0], group, &st->p);
	const float *bias;
	if (total_bias(n, g, b, w->dims[0], &bias, &st->bias, e) < 0) {
		free(st);
		return -1;
	}
	if (bias && !st->bias) {
		st->bias = malloc((size_t)w->dims[0] * sizeof(float));
		if (st->bias)
			memcpy(st->bias, bias, (size_t)w->dims[0] * sizeof(float));
	}
	n->state = st;
	if (bias && !st->bias)
		return rt_fail(e, "out of memory");
	if (rt_lowp_choose(n, g) == HWRT_PREC_INT8) {
		int rc = rt_lowp_conv_pack(w, group, &st->lq, e);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			n->prec = HWRT_PREC_INT8;
			return 0;
		}
	}
	st->pw = hwk_f32_conv2d_pack(&st->p, w->data);
	if (!st->pw)
		return rt_fail(e, "cannot pack the weights");
	return 0;
}

struct cols_job {
	const struct rt_window *win;
	float *x, *col;
	int64_t taps, in_sz, col_sz;
};

static void cols_task(void *ctx, size_t c)
{
	const struct cols_job *j = ctx;
	const struct rt_window *w = j->win;
	rt_window_cols(w->nd, w->k, w->s, w->d, w->pb, w->out, w->in, false, j->x + c * j->in_sz,
		       j->col + c * j->col_sz);
}

/* Any rank: per image and group, im2col then W_g (Mg x Cg*taps) times the
 * columns (Cg*taps x pixels). */
static int conv_generic(const struct rt_node *n, const struct rt_window *win,
			const struct hwrt_tensor *x, const struct hwrt_tensor *w, const float *bias,
			float *y, const struct rt_ctx *xc, struct rt_err *e)
{
	int64_t group = rt_attr_int(n, "group", 1), c = x->dims[1], m = w->dims[0];
	int64_t cg = c / group, mg = m / group, taps = 1, P = 1, I = 1;
	for (int i = 0; i < win->nd; i++) {
		taps *= win->k[i];
		P *= win->out[i];
		I *= win->in[i];
	}
	int64_t kdim = cg * taps;
	float *col = rt_alloc((size_t)(kdim * P > 0 ? kdim * P : 1) * sizeof(float));
	if (!col)
		return rt_fail(e, "out of memory for %lld x %lld columns", (long long)kdim,
			       (long long)P);
	int rc = 0;
	for (int64_t b = 0; b < x->dims[0] && rc == 0; b++)
		for (int64_t g = 0; g < group && rc == 0; g++) {
			struct cols_job j = { win, (float *)x->data + (b * c + g * cg) * I, col, taps,
					      I, taps * P };
			hwk_parallel_for(xc->par, (size_t)cg, cols_task, &j);
			rc = hwk_f32_gemm(false, false, (size_t)mg, (size_t)P, (size_t)kdim, 1.0f,
					  (const float *)w->data + g * mg * kdim, (size_t)kdim, col,
					  (size_t)P, 0.0f, y + (b * m + g * mg) * P, (size_t)P, NULL,
					  xc->par);
		}
	rt_free(col);
	if (rc < 0)
		return rt_hwk_fail(e, rc, "GEMM");
	return rt_bias_act(n, y, (size_t)x->dims[0], (size_t)m, (size_t)P, bias, xc->par, e);
}

static int run_f32(const struct rt_node *n, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, const struct rt_ctx *xc, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *w = in[1], *b = n->n_in > 2 ? in[2] : NULL;
	float *y = out[0]->data;
	struct rt_window win;
	if (conv_window(n, x, w, &win, e) < 0)
		return -1;
	int64_t group = rt_attr_int(n, "group", 1), m = w->dims[0];
	const struct conv_state *st = n->state;
	const float *bias;
	float *owned = NULL;
	if (st) {
		bias = st->bias;
	} else if (total_bias(n, xc->g, b, m, &bias, &owned, e) < 0) {
		return -1;
	}
	int rc = 0;
	if (st && st->lq && rt_lowp_use(n, xc, x->data, (size_t)hwrt_tensor_count(x)))
		return rt_lowp_conv_run(st->lq, n, x, w, bias, out[0], xc->par, e);
	if (win.nd > 2) {
		rc = conv_generic(n, &win, x, w, bias, y, xc, e);
		free(owned);
		return rc;
	}
	struct hwk_conv2d p;
	to_hwk(&win, x->dims[1], m, group, &p);
	struct hwk_f32_conv2d_packed *pw = NULL;
	if (!st || !st->pw || memcmp(&p, &st->p, sizeof(p))) {
		pw = hwk_f32_conv2d_pack(&p, w->data);
		if (!pw) {
			free(owned);
			return rt_fail(e, "cannot pack the weights");
		}
	}
	struct hwk_f32_gemm_epilogue ep;
	bool post = rt_make_epilogue(n, bias, &ep);
	size_t h = win.nd == 2 ? (size_t)win.in[0] : 1, wd = (size_t)win.in[win.nd - 1];
	rc = hwk_f32_conv2d(pw ? pw : st->pw, (size_t)x->dims[0], h, wd, x->data, y, &ep,
			    xc->par);
	hwk_f32_conv2d_packed_free(pw);
	free(owned);
	if (rc < 0)
		return rt_hwk_fail(e, rc, "convolution");
	if (post)
		return rt_post_act(n, y, (size_t)hwrt_tensor_count(out[0]), xc->par, e);
	return 0;
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (in[0]->dtype == HWRT_FLOAT)
		return run_f32(n, in, out, x, e);
	return rt_run_as_f32(n, in, out, x, e, run_f32);
}

RT_OP_DEFINE(Conv) = { .name = "Conv", .since = 1, .check = check, .infer = infer,
		       .prepare = prepare, .run = run, .release = release };
