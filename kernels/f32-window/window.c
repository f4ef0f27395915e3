/* Pooling and depthwise convolution over NCHW planes: output sizes, edges,
 * threading. Interior runs go to the chosen variant's row kernels. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "kernels/f32-window/window.h"

static const struct hwk_window_ukernels uk_scalar = {
	hwk_f32_window_max_ukernel_x1__scalar,
	hwk_f32_window_avg_ukernel_x1__scalar,
	hwk_f32_window_dw_ukernel_x1__scalar,
};
#if defined(__x86_64__)
static const struct hwk_window_ukernels uk_avx2 = {
	hwk_f32_window_max_ukernel_x8__avx2,
	hwk_f32_window_avg_ukernel_x8__avx2,
	hwk_f32_window_dw_ukernel_x8__avx2,
};
static const struct hwk_window_ukernels uk_avx512f = {
	hwk_f32_window_max_ukernel_x16__avx512f,
	hwk_f32_window_avg_ukernel_x16__avx512f,
	hwk_f32_window_dw_ukernel_x16__avx512f,
};
#endif
#if defined(__aarch64__)
static const struct hwk_window_ukernels uk_neon = {
	hwk_f32_window_max_ukernel_x4__neon,
	hwk_f32_window_avg_ukernel_x4__neon,
	hwk_f32_window_dw_ukernel_x4__neon,
};
#endif

static const struct hwk_variant variants[] = {
#if defined(__x86_64__)
	{ HWK_ISA_AVX512F, "x16-avx512f", &uk_avx512f },
	{ HWK_ISA_AVX2, "x8-avx2", &uk_avx2 },
#endif
#if defined(__aarch64__)
	{ HWK_ISA_NEON, "x4-neon", &uk_neon },
#endif
	{ HWK_ISA_SCALAR, "x1-scalar", &uk_scalar },
};

struct hwk_op hwk_op_f32_window = {
	"f32-window", variants, sizeof(variants) / sizeof(variants[0]), NULL,
};

static int axis_out(size_t in, size_t k, size_t s, size_t d, size_t pb, size_t pe, bool ceil_mode,
		    size_t *out)
{
	if (k == 0 || s == 0 || d == 0 || in == 0)
		return -EINVAL;
	if (k > (SIZE_MAX - 1) / d || in > SIZE_MAX / 4 || pb > SIZE_MAX / 4 || pe > SIZE_MAX / 4)
		return -EINVAL;
	size_t span = (k - 1) * d + 1, padded = in + pb + pe;
	if (padded < span)
		return -EINVAL;
	size_t o = (padded - span) / s + 1;
	if (ceil_mode && (padded - span) % s != 0) {
		o++;
		/* The last window must start inside the input or its begin pad. */
		if ((o - 1) * s >= in + pb)
			o--;
	}
	*out = o;
	return 0;
}

int hwk_window2d_output(const struct hwk_window2d *p, size_t h, size_t w, size_t *oh, size_t *ow)
{
	if (!p || !oh || !ow)
		return -EINVAL;
	int rc = axis_out(h, p->kh, p->sh, p->dh, p->pad_t, p->pad_b, p->ceil_mode, oh);
	return rc ? rc : axis_out(w, p->kw, p->sw, p->dw, p->pad_l, p->pad_r, p->ceil_mode, ow);
}

/* Output columns [lo, hi) whose windows lie inside the input. */
static void interior(size_t in, size_t out, size_t k, size_t s, size_t d, size_t pb,
		     size_t *lo, size_t *hi)
{
	size_t span = (k - 1) * d + 1;
	*lo = (pb + s - 1) / s;
	*hi = in + pb >= span ? (in + pb - span) / s + 1 : 0;
	if (*hi > out)
		*hi = out;
	if (*lo > *hi)
		*lo = *hi;
}

enum job_kind { JOB_MAX, JOB_AVG, JOB_DW };

struct job {
	enum job_kind kind;
	const struct hwk_window2d *p;
	const struct hwk_window_ukernels *uk;
	size_t c, h, w, oh, ow, col_lo, col_hi;
	const float *x, *weights, *bias;
	float lo, hi;
	float *y;
	size_t rows_per_task, tasks_per_plane;
};

/* One output element the slow way: any window, padding included. */
static float edge_value(const struct job *j, const float *xp, const float *wp, float bias, size_t oy,
			size_t ox, size_t ih0, size_t ih1)
{
	const struct hwk_window2d *p = j->p;
	float acc = j->kind == JOB_MAX ? -INFINITY : j->kind == JOB_DW ? bias : 0.0f;
	size_t inside = 0, counted = 0;
	for (size_t ky = 0; ky < p->kh; ky++) {
		size_t iy = oy * p->sh + ky * p->dh; /* in padded coordinates */
		bool yin = iy >= p->pad_t && iy - p->pad_t < j->h;
		bool ycount = iy < j->h + p->pad_t + p->pad_b;
		for (size_t kx = 0; kx < p->kw; kx++) {
			size_t ix = ox * p->sw + kx * p->dw;
			bool xin = ix >= p->pad_l && ix - p->pad_l < j->w;
			if (ycount && ix < j->w + p->pad_l + p->pad_r)
				counted++;
			if (!yin || !xin)
				continue;
			float v = xp[(iy - p->pad_t) * j->w + (ix - p->pad_l)];
			inside++;
			if (j->kind == JOB_MAX) {
				if (v > acc || isnan(v))
					acc = isnan(acc) ? acc : v;
			} else if (j->kind == JOB_AVG) {
				acc += v;
			} else {
				acc = fmaf(wp[ky * p->kw + kx], v, acc);
			}
		}
	}
	(void)ih0;
	(void)ih1;
	if (j->kind == JOB_AVG) {
		size_t div = p->count_include_pad ? counted : inside;
		return div ? acc / (float)div : 0.0f;
	}
	if (j->kind == JOB_DW)
		return acc < j->lo ? j->lo : acc > j->hi ? j->hi : acc;
	return acc;
}

static void run_rows(void *ctx, size_t task)
{
	const struct job *j = ctx;
	const struct hwk_window2d *p = j->p;
	size_t plane = task / j->tasks_per_plane;
	size_t oy0 = (task % j->tasks_per_plane) * j->rows_per_task;
	size_t oy1 = oy0 + j->rows_per_task < j->oh ? oy0 + j->rows_per_task : j->oh;
	const float *xp = j->x + plane * j->h * j->w;
	float *yp = j->y + plane * j->oh * j->ow;
	const float *wp = j->kind == JOB_DW ? j->weights + (plane % j->c) * p->kh * p->kw : NULL;
	float bias = j->kind == JOB_DW && j->bias ? j->bias[plane % j->c] : 0.0f;
	const float *rows[64], *wrows[64];

	for (size_t oy = oy0; oy < oy1; oy++) {
		float *out = yp + oy * j->ow;
		/* Rows of this window that are inside the input. */
		size_t nrows = 0, valid_y = 0, counted_y = 0;
		for (size_t ky = 0; ky < p->kh; ky++) {
			size_t iy = oy * p->sh + ky * p->dh;
			if (iy < j->h + p->pad_t + p->pad_b)
				counted_y++;
			if (iy < p->pad_t || iy - p->pad_t >= j->h)
				continue;
			valid_y++;
			if (nrows < 64) {
				size_t ix0 = j->col_lo * p->sw - p->pad_l;
				rows[nrows] = xp + (iy - p->pad_t) * j->w + ix0;
				wrows[nrows] = wp ? wp + ky * p->kw : NULL;
			}
			nrows++;
		}
		size_t lo = j->col_lo, hi = j->col_hi;
		/* Windows taller than 64 rows (never in practice) go the slow way. */
		if (nrows > 64 || nrows == 0)
			lo = hi = 0;
		for (size_t ox = 0; ox < j->ow; ox++) {
			if (ox == lo && hi > lo) {
				size_t n = hi - lo;
				if (j->kind == JOB_MAX) {
					j->uk->max(n, nrows, rows, p->kw, p->sw, p->dw, out + lo);
				} else if (j->kind == JOB_AVG) {
					size_t div = (p->count_include_pad ? counted_y : valid_y) * p->kw;
					j->uk->avg(n, nrows, rows, p->kw, p->sw, p->dw, 1.0f / (float)div,
						   out + lo);
				} else {
					j->uk->dw(n, nrows, rows, wrows, p->kw, p->sw, p->dw, bias, j->lo,
						  j->hi, out + lo);
				}
				ox = hi - 1;
				continue;
			}
			out[ox] = edge_value(j, xp, wp, bias, oy, ox, 0, 0);
		}
	}
}

static int run(struct job *j, size_t planes, const struct hwk_parallel *par)
{
	int rc = hwk_window2d_output(j->p, j->h, j->w, &j->oh, &j->ow);
	if (rc)
		return rc;
	if (planes == 0)
		return 0;
	j->uk = hwk_op_variant(&hwk_op_f32_window)->impl;
	interior(j->w, j->ow, j->p->kw, j->p->sw, j->p->dw, j->p->pad_l, &j->col_lo, &j->col_hi);
	/* Enough tasks to balance the threads; whole planes when there are
	 * plenty, slices of rows otherwise. */
	size_t threads = hwk_parallel_threads(par);
	size_t want = threads > 1 ? threads * 4 : 1;
	j->tasks_per_plane = planes >= want ? 1 : (want + planes - 1) / planes;
	if (j->tasks_per_plane > j->oh)
		j->tasks_per_plane = j->oh;
	j->rows_per_task = (j->oh + j->tasks_per_plane - 1) / j->tasks_per_plane;
	j->tasks_per_plane = (j->oh + j->rows_per_task - 1) / j->rows_per_task;
	hwk_parallel_for(par, planes * j->tasks_per_plane, run_rows, j);
	return 0;
}

int hwk_f32_pool2d(enum hwk_pool_kind kind, const struct hwk_window2d *p, size_t planes,
		   size_t h, size_t w, const float *x, float *y, const struct hwk_parallel *par)
{
	if (!p || (kind != HWK_POOL_MAX && kind != HWK_POOL_AVG) || (planes && (!x || !y)))
		return -EINVAL;
	struct job j = { .kind = kind == HWK_POOL_MAX ? JOB_MAX : JOB_AVG, .p = p, .c = 1,
			 .h = h, .w = w, .x = x, .y = y };
	return run(&j, planes, par);
}

int hwk_f32_dwconv2d(const struct hwk_window2d *p, size_t n, size_t c, size_t h, size_t w,
		     const float *x, const float *weights, const float *bias, float out_min,
		     float out_max, float *y, const struct hwk_parallel *par)
{
	if (!p || c == 0 || (n && (!x || !y || !weights)) || !(out_min <= out_max))
		return -EINVAL;
	struct job j = { .kind = JOB_DW, .p = p, .c = c, .h = h, .w = w, .x = x,
			 .weights = weights, .bias = bias, .lo = out_min, .hi = out_max, .y = y };
	if (n > SIZE_MAX / c)
		return -EINVAL;
	return run(&j, n * c, par);
}

struct global_job {
	enum hwk_pool_kind kind;
	size_t hw, per;
	size_t planes;
	const float *x;
	float *y;
};

static void global_task(void *ctx, size_t t)
{
	const struct global_job *g = ctx;
	size_t lo = t * g->per, hi = lo + g->per < g->planes ? lo + g->per : g->planes;
	const struct hwk_window_ukernels *uk = hwk_op_variant(&hwk_op_f32_window)->impl;
	for (size_t i = lo; i < hi; i++) {
		/* A plane is one row of hw taps for the row kernels. */
		const float *row = g->x + i * g->hw;
		if (g->kind == HWK_POOL_MAX)
			uk->max(1, 1, &row, g->hw, 1, 1, &g->y[i]);
		else
			uk->avg(1, 1, &row, g->hw, 1, 1, 1.0f / (float)g->hw, &g->y[i]);
	}
}

int hwk_f32_global_pool(enum hwk_pool_kind kind, size_t planes, size_t hw, const float *x,
			float *y, const struct hwk_parallel *par)
{
	if ((kind != HWK_POOL_MAX && kind != HWK_POOL_AVG) || hw == 0 || (planes && (!x || !y)))
		return -EINVAL;
	size_t threads = hwk_parallel_threads(par);
	struct global_job g = { kind, hw, (planes + threads * 4 - 1) / (threads * 4), planes, x, y };
	if (planes == 0)
		return 0;
	hwk_parallel_for(par, (planes + g.per - 1) / g.per, global_task, &g);
	return 0;
}
