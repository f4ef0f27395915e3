/* ConvTranspose: the gradient of Conv, N-D, with groups, strides,
 * dilations, pads, output_padding, output_shape and auto_pad (opset 1+):
 * a GEMM of W^T and X per image and group, then col2im. */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops/compute.h"

static int check(const struct rt_node *n, const struct rt_graph *g, struct rt_err *e)
{
	if (rt_check_io(n, 2, 3, 1, 1, e) < 0 || rt_check_auto_pad(n, e) < 0)
		return -1;
	if (rt_attr_int(n, "group", 1) < 1)
		return rt_fail(e, "group must be >= 1");
	return 0;
}

static int64_t floordiv2(int64_t v)
{
	return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

/* Window with w->in the output grid and w->out the input grid, as the
 * scatter of rt_window_cols wants. */
static int ct_window(const struct rt_node *n, const struct hwrt_tensor *x,
		     const struct hwrt_tensor *w, struct rt_window *win, struct rt_err *e)
{
	memset(win, 0, sizeof(*win));
	int nd = win->nd = x->rank - 2;
	if (nd < 1 || nd > RT_MAX_SPATIAL)
		return rt_fail(e, "X must have rank 3 to %d, has %d", RT_MAX_SPATIAL + 2, x->rank);
	if (w->rank != x->rank)
		return rt_fail(e, "W has rank %d, X rank %d", w->rank, x->rank);
	int64_t op[RT_MAX_SPATIAL], os[RT_MAX_SPATIAL];
	if (rt_spatial_ints(n, "strides", nd, 1, win->s, e) < 0 ||
	    rt_spatial_ints(n, "dilations", nd, 1, win->d, e) < 0 ||
	    rt_spatial_ints(n, "output_padding", nd, 0, op, e) < 0)
		return -1;
	const int64_t *ks, *pads, *osh;
	int nk = rt_attr_ints(n, "kernel_shape", &ks);
	if (nk >= 0 && nk != nd)
		return rt_fail(e, "kernel_shape has %d values for %d spatial axes", nk, nd);
	int np = rt_attr_ints(n, "pads", &pads);
	if (np >= 0 && np != 2 * nd)
		return rt_fail(e, "pads has %d values, expected %d", np, 2 * nd);
	int no = rt_attr_ints(n, "output_shape", &osh);
	if (no >= 0 && no != nd && no != nd + 2)
		return rt_fail(e, "output_shape has %d values for %d spatial axes", no, nd);
	const char *ap = rt_attr_string(n, "auto_pad", "NOTSET");
	bool upper = !strcmp(ap, "SAME_UPPER"), same = upper || !strcmp(ap, "SAME_LOWER");
	for (int i = 0; i < nd; i++) {
		win->k[i] = w->dims[i + 2];
		if (nk >= 0 && ks[i] != win->k[i])
			return rt_fail(e, "kernel_shape[%d] = %lld but W has %lld", i,
				       (long long)ks[i], (long long)win->k[i]);
		if (win->s[i] < 1 || win->d[i] < 1 || op[i] < 0)
			return rt_fail(e, "strides and dilations must be >= 1, output_padding >= 0");
		int64_t in = x->dims[i + 2], ek = (win->k[i] - 1) * win->d[i] + 1;
		int64_t full = win->s[i] * (in - 1) + op[i] + ek;
		win->out[i] = in;
		if (no >= 0 || same) {
			os[i] = no >= 0 ? osh[i + (no - nd)] : in * win->s[i];
			int64_t total = full - os[i];
			int64_t half = floordiv2(total);
			win->pb[i] = upper ? half : total - half;
			win->pe[i] = total - win->pb[i];
			win->in[i] = os[i];
		} else {
			if (np >= 0 && strcmp(ap, "VALID")) {
				win->pb[i] = pads[i];
				win->pe[i] = pads[i + nd];
			}
			win->in[i] = full - win->pb[i] - win->pe[i];
		}
		if (win->in[i] < 0)
			return rt_fail(e, "negative output size on spatial axis %d", i);
	}
	return 0;
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
	if (ct_window(n, x, w, &win, e) < 0)
		return -1;
	int64_t group = rt_attr_int(n, "group", 1), m = w->dims[1] * group;
	if (w->dims[0] != x->dims[1] || x->dims[1] % group)
		return rt_fail(e, "X has %lld channels, W %lld (and group %lld)",
			       (long long)x->dims[1], (long long)w->dims[0], (long long)group);
	if (b && (b->rank != 1 || b->dims[0] != m))
		return rt_fail(e, "B must be a vector of %lld values", (long long)m);
	int64_t dims[HWRT_MAX_RANK] = { x->dims[0], m };
	for (int i = 0; i < win.nd; i++)
		dims[i + 2] = win.in[i];
	rt_set_shape(out[0], x->dtype, x->rank, dims);
	return 0;
}

struct col2im_job {
	const struct rt_window *win;
	float *y, *col;
	int64_t out_sz, col_sz;
};

static void col2im_task(void *ctx, size_t m)
{
	const struct col2im_job *j = ctx;
	const struct rt_window *w = j->win;
	float *y = j->y + m * j->out_sz;
	memset(y, 0, (size_t)j->out_sz * sizeof(float));
	rt_window_cols(w->nd, w->k, w->s, w->d, w->pb, w->out, w->in, true, y,
		       j->col + m * j->col_sz);
}

static int run_f32(const struct rt_node *n, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, const struct rt_ctx *xc, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0], *w = in[1], *b = n->n_in > 2 ? in[2] : NULL;
	struct rt_window win;
	if (ct_window(n, x, w, &win, e) < 0)
		return -1;
	int64_t group = rt_attr_int(n, "group", 1), c = x->dims[1], cg = c / group;
	int64_t mg = w->dims[1], m = mg * group, taps = 1, P = 1, O = 1;
	for (int i = 0; i < win.nd; i++) {
		taps *= win.k[i];
		P *= win.out[i];
		O *= win.in[i];
	}
	float *y = out[0]->data;
	int64_t rows = mg * taps;
	float *col = rt_alloc((size_t)(rows * P > 0 ? rows * P : 1) * sizeof(float));
	if (!col)
		return rt_fail(e, "out of memory");
	int rc = 0;
	for (int64_t i = 0; i < x->dims[0] && rc == 0; i++)
		for (int64_t g = 0; g < group && rc == 0; g++) {
			/* col (Mg*taps x P) = W_g^T (Cg x Mg*taps)^T X_g (Cg x P) */
			rc = hwk_f32_gemm(true, false, (size_t)rows, (size_t)P, (size_t)cg, 1.0f,
					  (const float *)w->data + g * cg * rows, (size_t)rows,
					  (const float *)x->data + (i * c + g * cg) * P, (size_t)P,
					  0.0f, col, (size_t)P, NULL, xc->par);
			struct col2im_job j = { &win, y + (i * m + g * mg) * O, col, O, taps * P };
			if (rc == 0)
				hwk_parallel_for(xc->par, (size_t)mg, col2im_task, &j);
		}
	rt_free(col);
	if (rc < 0)
		return rt_hwk_fail(e, rc, "GEMM");
	return rt_bias_act(n, y, (size_t)x->dims[0], (size_t)m, (size_t)O, b ? b->data : NULL,
			   xc->par, e);
}

static int run(const struct rt_node *n, const struct hwrt_tensor *const *in,
	       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	if (in[0]->dtype == HWRT_FLOAT)
		return run_f32(n, in, out, x, e);
	return rt_run_as_f32(n, in, out, x, e, run_f32);
}

RT_OP_DEFINE(ConvTranspose) = { .name = "ConvTranspose", .since = 1, .check = check,
				.infer = infer, .run = run };
