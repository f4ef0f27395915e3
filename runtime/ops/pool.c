/* MaxPool and AveragePool: shapes and computation. */
#include "runtime/ops/pool.h"

#include <math.h>
#include <string.h>

int rt_pool_check(const struct rt_node *n, const struct rt_graph *g, bool is_max,
		  struct rt_err *e)
{
	if (rt_check_io(n, 1, 1, 1, is_max && g->opset >= 8 ? 2 : 1, e) < 0 ||
	    rt_check_auto_pad(n, e) < 0)
		return -1;
	if (!rt_attr_find(n, "kernel_shape"))
		return rt_fail(e, "the kernel_shape attribute is required");
	if (g->opset < 10 && rt_attr_find(n, "ceil_mode"))
		return rt_fail(e, "ceil_mode needs opset 10 (model has %d)", g->opset);
	if (rt_attr_find(n, "dilations") && (!is_max || g->opset < 10))
		return rt_fail(e, "dilations need MaxPool at opset 10");
	int64_t so = rt_attr_int(n, "storage_order", 0);
	if (so != 0 && so != 1)
		return rt_fail(e, "storage_order must be 0 or 1");
	return 0;
}

static int pool_window(const struct rt_node *n, const struct hwrt_tensor *x, bool is_max,
		       struct rt_window *w, struct rt_err *e)
{
	memset(w, 0, sizeof(*w));
	w->nd = x->rank - 2;
	if (w->nd < 1 || w->nd > RT_MAX_SPATIAL)
		return rt_fail(e, "X must have rank 3 to %d, has %d", RT_MAX_SPATIAL + 2, x->rank);
	if (rt_spatial_ints(n, "kernel_shape", w->nd, 0, w->k, e) < 0)
		return -1;
	for (int i = 0; i < w->nd; i++)
		w->in[i] = x->dims[i + 2];
	w->ceil_mode = rt_attr_int(n, "ceil_mode", 0) != 0;
	return rt_window_infer(n, w, is_max, e);
}

int rt_pool_infer(const struct rt_node *n, const struct hwrt_tensor *const *in,
		  struct hwrt_tensor *const *out, bool is_max, struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	bool ok = rt_compute_float_type(x->dtype) ||
		  (is_max && (x->dtype == HWRT_INT8 || x->dtype == HWRT_UINT8));
	if (!ok)
		return rt_fail(e, "type %s is not supported", hwrt_dtype_name(x->dtype));
	struct rt_window w;
	if (pool_window(n, x, is_max, &w, e) < 0)
		return -1;
	int64_t dims[HWRT_MAX_RANK] = { x->dims[0], x->dims[1] };
	for (int i = 0; i < w.nd; i++)
		dims[i + 2] = w.out[i];
	rt_set_shape(out[0], x->dtype, x->rank, dims);
	if (n->n_out > 1 && out[1])
		rt_set_shape(out[1], HWRT_INT64, x->rank, dims);
	return 0;
}

struct pool_job {
	const struct rt_window *w;
	const float *x;
	float *y;
	int64_t *idx;
	int64_t in_sz, out_sz;
	bool is_max, include_pad, col_major;
};

/* One plane, any rank: walk every output position and its window. */
static void pool_plane(void *ctx, size_t plane)
{
	const struct pool_job *j = ctx;
	const struct rt_window *w = j->w;
	int nd = w->nd;
	const float *x = j->x + plane * j->in_sz;
	float *y = j->y + plane * j->out_sz;
	int64_t *ix = j->idx ? j->idx + plane * j->out_sz : NULL;
	int64_t st[RT_MAX_SPATIAL], cst[RT_MAX_SPATIAL], taps = 1;
	st[nd - 1] = cst[0] = 1;
	for (int i = nd - 2; i >= 0; i--)
		st[i] = st[i + 1] * w->in[i + 1];
	for (int i = 1; i < nd; i++)
		cst[i] = cst[i - 1] * w->in[i - 1];
	for (int i = 0; i < nd; i++)
		taps *= w->k[i];
	int64_t o[RT_MAX_SPATIAL] = { 0 };
	for (int64_t p = 0; p < j->out_sz; p++) {
		float best = -INFINITY, sum = 0.0f;
		int64_t arg = -1, count = 0;
		for (int64_t t = 0; t < taps; t++) {
			int64_t r = t, off = 0, coff = 0;
			bool inside = true, padded = true;
			for (int i = nd - 1; i >= 0; i--) {
				int64_t kk = r % w->k[i];
				r /= w->k[i];
				int64_t pos = o[i] * w->s[i] + kk * w->d[i] - w->pb[i];
				if (pos < 0 || pos >= w->in[i])
					inside = false;
				if (pos < -w->pb[i] || pos >= w->in[i] + w->pe[i])
					padded = false;
				off += pos * st[i];
				coff += pos * cst[i];
			}
			if (!inside) {
				count += padded && j->include_pad;
				continue;
			}
			float v = x[off];
			if (j->is_max) {
				if (v > best || arg < 0 || isnan(v)) {
					if (!(isnan(best) && arg >= 0)) {
						best = v;
						arg = j->col_major ? coff : off;
					}
				}
			} else {
				sum += v;
				count++;
			}
		}
		if (j->is_max) {
			y[p] = best;
			if (ix)
				ix[p] = (arg < 0 ? 0 : arg) + (int64_t)plane * j->in_sz;
		} else {
			y[p] = count ? sum / (float)count : 0.0f;
		}
		for (int i = nd - 1; i >= 0; i--) {
			if (++o[i] < w->out[i])
				break;
			o[i] = 0;
		}
	}
}

static int run_f32_max(const struct rt_node *n, const struct hwrt_tensor *const *in,
		       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e);
static int run_f32_avg(const struct rt_node *n, const struct hwrt_tensor *const *in,
		       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e);

static int run_f32(const struct rt_node *n, const struct hwrt_tensor *const *in,
		   struct hwrt_tensor *const *out, const struct rt_ctx *xc, bool is_max,
		   struct rt_err *e)
{
	const struct hwrt_tensor *x = in[0];
	struct rt_window w;
	if (pool_window(n, x, is_max, &w, e) < 0)
		return -1;
	struct hwrt_tensor *ind = n->n_out > 1 ? out[1] : NULL;
	bool include_pad = !is_max && rt_attr_int(n, "count_include_pad", 0) != 0;
	size_t planes = (size_t)(x->dims[0] * x->dims[1]);
	int64_t in_sz = 1, out_sz = 1;
	for (int i = 0; i < w.nd; i++) {
		in_sz *= w.in[i];
		out_sz *= w.out[i];
	}
	if (w.nd <= 2 && !ind) {
		int o = w.nd == 2 ? 0 : -1;
		struct hwk_window2d p = {
			.kh = o ? 1 : (size_t)w.k[0], .kw = (size_t)w.k[o + 1],
			.sh = o ? 1 : (size_t)w.s[0], .sw = (size_t)w.s[o + 1],
			.dh = o ? 1 : (size_t)w.d[0], .dw = (size_t)w.d[o + 1],
			.pad_t = o ? 0 : (size_t)w.pb[0], .pad_b = o ? 0 : (size_t)w.pe[0],
			.pad_l = (size_t)w.pb[o + 1], .pad_r = (size_t)w.pe[o + 1],
			.ceil_mode = w.ceil_mode, .count_include_pad = include_pad,
		};
		size_t h = o ? 1 : (size_t)w.in[0], wd = (size_t)w.in[o + 1];
		int rc = hwk_f32_pool2d(is_max ? HWK_POOL_MAX : HWK_POOL_AVG, &p, planes, h, wd,
					x->data, out[0]->data, xc->par);
		return rc < 0 ? rt_hwk_fail(e, rc, "pooling") : 0;
	}
	struct pool_job j = { &w, x->data, out[0]->data, ind ? ind->data : NULL, in_sz, out_sz,
			      is_max, include_pad, rt_attr_int(n, "storage_order", 0) == 1 };
	hwk_parallel_for(xc->par, planes, pool_plane, &j);
	return 0;
}

static int run_f32_max(const struct rt_node *n, const struct hwrt_tensor *const *in,
		       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return run_f32(n, in, out, x, true, e);
}

static int run_f32_avg(const struct rt_node *n, const struct hwrt_tensor *const *in,
		       struct hwrt_tensor *const *out, const struct rt_ctx *x, struct rt_err *e)
{
	return run_f32(n, in, out, x, false, e);
}

int rt_pool_run(const struct rt_node *n, const struct hwrt_tensor *const *in,
		struct hwrt_tensor *const *out, const struct rt_ctx *x, bool is_max,
		struct rt_err *e)
{
	if (in[0]->dtype == HWRT_FLOAT)
		return run_f32(n, in, out, x, is_max, e);
	return rt_run_as_f32(n, in, out, x, e, is_max ? run_f32_max : run_f32_avg);
}

int rt_global_pool_infer(const struct hwrt_tensor *x, struct hwrt_tensor *y, struct rt_err *e)
{
	if (!rt_compute_float_type(x->dtype))
		return rt_fail(e, "type %s is not supported (float, float16, double)",
			       hwrt_dtype_name(x->dtype));
	if (x->rank < 3)
		return rt_fail(e, "X must have rank >= 3, has %d", x->rank);
	int64_t dims[HWRT_MAX_RANK];
	for (int i = 0; i < x->rank; i++)
		dims[i] = i < 2 ? x->dims[i] : 1;
	rt_set_shape(y, x->dtype, x->rank, dims);
	return 0;
}

int rt_global_pool_f32(enum hwk_pool_kind kind, const struct hwrt_tensor *x,
		       struct hwrt_tensor *y, const struct hwk_parallel *par, struct rt_err *e)
{
	size_t planes = (size_t)(x->dims[0] * x->dims[1]), hw = 1;
	for (int i = 2; i < x->rank; i++)
		hw *= (size_t)x->dims[i];
	int rc = hwk_f32_global_pool(kind, planes, hw, x->data, y->data, par);
	return rc < 0 ? rt_hwk_fail(e, rc, "pooling") : 0;
}
