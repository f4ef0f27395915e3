/* Pooling and depthwise convolution against a reference written here from
 * the ONNX operator definitions; every variant must also match the scalar
 * variant exactly (same operation order per output). */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "kernels/f32-window/window.h"
#include "tests/unit/kernels/harness.h"

/* Reference: one output of max/avg pooling or depthwise conv, in double. */
static double ref_one(int kind, const struct hwk_window2d *p, const float *x, size_t h, size_t w,
		      const float *wt, double bias, size_t oy, size_t ox)
{
	double acc = kind == 0 ? -INFINITY : kind == 2 ? bias : 0.0;
	size_t inside = 0, counted = 0;
	int nan = 0;
	for (size_t ky = 0; ky < p->kh; ky++)
		for (size_t kx = 0; kx < p->kw; kx++) {
			long iy = (long)(oy * p->sh + ky * p->dh) - (long)p->pad_t;
			long ix = (long)(ox * p->sw + kx * p->dw) - (long)p->pad_l;
			if (iy < (long)(h + p->pad_b) && ix < (long)(w + p->pad_r))
				counted++;
			if (iy < 0 || ix < 0 || iy >= (long)h || ix >= (long)w)
				continue;
			double v = x[iy * (long)w + ix];
			inside++;
			nan |= isnan(v);
			if (kind == 0)
				acc = v > acc ? v : acc;
			else if (kind == 1)
				acc += v;
			else
				acc += wt[ky * p->kw + kx] * v;
		}
	if (nan)
		return NAN;
	if (kind == 1) {
		size_t d = p->count_include_pad ? counted : inside;
		return d ? acc / (double)d : 0.0;
	}
	return acc;
}

static size_t ref_out(size_t in, size_t k, size_t s, size_t d, size_t pb, size_t pe, bool ceil_mode)
{
	double o = ((double)in + pb + pe - (double)d * (k - 1) - 1) / s + 1;
	size_t r = ceil_mode ? (size_t)ceil(o) : (size_t)floor(o);
	if (ceil_mode && (r - 1) * s >= in + pb)
		r--;
	return r;
}

struct shape {
	size_t h, w;
	struct hwk_window2d p;
};

static const struct shape shapes[] = {
	{ 7, 7, { 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, false } },
	{ 8, 9, { 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false } },
	{ 112, 112, { 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false } },   /* ResNet stem max pool */
	{ 56, 57, { 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, true } },
	{ 17, 33, { 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, false, false } },
	{ 17, 33, { 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, false, true } },
	{ 20, 40, { 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, false, false } },
	{ 21, 41, { 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, true, false } },      /* ceil_mode */
	{ 21, 41, { 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, true } },
	{ 30, 50, { 3, 3, 3, 3, 1, 1, 1, 0, 1, 0, true, false } },      /* stride 3 gathers */
	{ 30, 50, { 3, 3, 1, 1, 2, 3, 2, 3, 2, 3, false, true } },      /* dilation */
	{ 9, 70, { 1, 7, 1, 1, 1, 1, 0, 3, 0, 3, false, true } },
	{ 1, 1, { 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false, false } },
	{ 5, 5, { 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, false, false } },
	{ 4, 4, { 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, false, true } },        /* windows all padding */
};
#define N_SHAPES (sizeof(shapes) / sizeof(shapes[0]))

/* Runs kind (0 max, 1 avg, 2 dwconv) on every shape and checks it. */
static void check_kind(int kind, int with_nan)
{
	const size_t c = 3;
	for (size_t s = 0; s < N_SHAPES; s++) {
		const struct shape *sh = &shapes[s];
		const struct hwk_window2d *p = &sh->p;
		size_t oh, ow;
		if (hwk_window2d_output(p, sh->h, sh->w, &oh, &ow) != 0) {
			CHECK(0, "shape %zu: output size refused", s);
			continue;
		}
		CHECK(oh == ref_out(sh->h, p->kh, p->sh, p->dh, p->pad_t, p->pad_b, p->ceil_mode) &&
			      ow == ref_out(sh->w, p->kw, p->sw, p->dw, p->pad_l, p->pad_r, p->ceil_mode),
		      "shape %zu: output %zux%zu", s, oh, ow);
		size_t in_n = c * sh->h * sh->w, out_n = c * oh * ow;
		float *x = malloc(in_n * 4), *wt = malloc(c * p->kh * p->kw * 4), bias[3] = { 0.5f, -1, 0 };
		float *y = malloc(out_n * 4), *ys = malloc(out_n * 4), *y3 = malloc(out_n * 4);
		ht_fill(x, in_n, 11 + s, -4, 4);
		ht_fill(wt, c * p->kh * p->kw, 7 + s, -1, 1);
		if (with_nan && in_n > 5)
			x[in_n / 2] = NAN;
		int rc;
		float lo = kind == 2 ? -3.0f : 0, hi = kind == 2 ? 3.0f : 0;
		if (kind == 2)
			rc = hwk_f32_dwconv2d(p, 1, c, sh->h, sh->w, x, wt, bias, lo, hi, y, NULL);
		else
			rc = hwk_f32_pool2d(kind ? HWK_POOL_AVG : HWK_POOL_MAX, p, c, sh->h, sh->w, x, y,
					    NULL);
		CHECK(rc == 0, "shape %zu: rc %d", s, rc);

		/* Against the double reference. Max is exact; sums of up to 25
		 * terms of magnitude <= 4 in float stay within 1e-5 relative. */
		for (size_t pl = 0; pl < c; pl++)
			for (size_t oy = 0; oy < oh; oy++)
				for (size_t ox = 0; ox < ow; ox++) {
					double r = ref_one(kind, p, x + pl * sh->h * sh->w, sh->h, sh->w,
							   wt + pl * p->kh * p->kw, bias[pl], oy, ox);
					if (kind == 2)
						r = isnan(r) ? r : r < lo ? lo : r > hi ? hi : r;
					float v = y[(pl * oh + oy) * ow + ox];
					bool ok = isnan(r) ? isnan(v)
							   : fabs(v - r) <= (kind ? 1e-5 * (1 + fabs(r)) : 0);
					CHECK(ok, "%s shape %zu plane %zu (%zu,%zu): %.9g want %.9g [%s]",
					      kind == 0 ? "max" : kind == 1 ? "avg" : "dw", s, pl, oy, ox,
					      v, r, ht_variant(&hwk_op_f32_window));
				}

		/* Identical to the scalar variant (operation order per lane) and
		 * to any thread count. */
		enum hwk_isa keep = hwk_isa_ceiling();
		hwk_set_isa_ceiling(HWK_ISA_SCALAR);
		if (kind == 2)
			hwk_f32_dwconv2d(p, 1, c, sh->h, sh->w, x, wt, bias, lo, hi, ys, NULL);
		else
			hwk_f32_pool2d(kind ? HWK_POOL_AVG : HWK_POOL_MAX, p, c, sh->h, sh->w, x, ys, NULL);
		hwk_set_isa_ceiling(keep);
		struct hwk_pool *pool = hwk_pool_create(3);
		if (kind == 2)
			hwk_f32_dwconv2d(p, 1, c, sh->h, sh->w, x, wt, bias, lo, hi, y3,
					 hwk_pool_parallel(pool));
		else
			hwk_f32_pool2d(kind ? HWK_POOL_AVG : HWK_POOL_MAX, p, c, sh->h, sh->w, x, y3,
				       hwk_pool_parallel(pool));
		hwk_pool_destroy(pool);
		for (size_t i = 0; i < out_n; i++) {
			bool same = isnan(y[i]) ? isnan(ys[i]) : memcmp(&y[i], &ys[i], 4) == 0;
			CHECK(same, "shape %zu index %zu: %.9g, scalar %.9g", s, i, y[i], ys[i]);
		}
		CHECK(memcmp(y, y3, out_n * 4) == 0 || with_nan, "shape %zu: 3 threads differ", s);
		free(x);
		free(wt);
		free(y);
		free(ys);
		free(y3);
	}
}

static void max_pool(void) { check_kind(0, 0); }
static void max_pool_nan(void) { check_kind(0, 1); }
static void avg_pool(void) { check_kind(1, 0); }
static void dwconv(void) { check_kind(2, 0); }

static void global_pool(void)
{
	static const size_t hws[] = { 1, 7, 16, 49, 100, 3136 };
	for (size_t i = 0; i < sizeof(hws) / sizeof(hws[0]); i++) {
		size_t hw = hws[i], planes = 5;
		float *x = malloc(planes * hw * 4), ymax[5], yavg[5];
		ht_fill(x, planes * hw, hw, -2, 2);
		CHECK(hwk_f32_global_pool(HWK_POOL_MAX, planes, hw, x, ymax, NULL) == 0, "max rc");
		CHECK(hwk_f32_global_pool(HWK_POOL_AVG, planes, hw, x, yavg, NULL) == 0, "avg rc");
		for (size_t p = 0; p < planes; p++) {
			double m = -INFINITY, s = 0;
			for (size_t k = 0; k < hw; k++) {
				m = fmax(m, x[p * hw + k]);
				s += x[p * hw + k];
			}
			CHECK(ymax[p] == (float)m, "hw %zu max %g want %g", hw, ymax[p], m);
			/* float sum of hw terms <= 2: error <= hw * eps * 2 */
			CHECK(fabs(yavg[p] - s / hw) <= 2.0 * hw * 6e-8 + 1e-7, "hw %zu avg %g want %g",
			      hw, yavg[p], s / hw);
		}
		free(x);
	}
}

static void bad_arguments(void)
{
	struct hwk_window2d p = { 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, false, false };
	size_t oh, ow;
	float x[4] = { 0 }, y[4];
	CHECK(hwk_window2d_output(&p, 2, 2, &oh, &ow) == -EINVAL, "window larger than input");
	p.sh = 0;
	CHECK(hwk_window2d_output(&p, 9, 9, &oh, &ow) == -EINVAL, "stride 0");
	p.sh = 1;
	p.dw = 0;
	CHECK(hwk_f32_pool2d(HWK_POOL_MAX, &p, 1, 9, 9, x, y, NULL) == -EINVAL, "dilation 0");
	p.dw = 1;
	CHECK(hwk_f32_pool2d((enum hwk_pool_kind)7, &p, 1, 9, 9, x, y, NULL) == -EINVAL, "kind");
	CHECK(hwk_f32_pool2d(HWK_POOL_MAX, &p, 1, 9, 9, NULL, y, NULL) == -EINVAL, "NULL x");
	CHECK(hwk_f32_dwconv2d(&p, 1, 1, 9, 9, x, NULL, NULL, 0, 1, y, NULL) == -EINVAL, "NULL w");
	CHECK(hwk_f32_dwconv2d(&p, 1, 1, 9, 9, x, x, NULL, 1, 0, y, NULL) == -EINVAL, "lo > hi");
	CHECK(hwk_f32_global_pool(HWK_POOL_AVG, 1, 0, x, y, NULL) == -EINVAL, "hw 0");
	CHECK(hwk_f32_pool2d(HWK_POOL_MAX, &p, 0, 9, 9, NULL, NULL, NULL) == 0, "no planes is fine");
}

int main(void)
{
	static const struct ht_test tests[] = {
		{ "max_pool", max_pool },
		{ "max_pool_nan", max_pool_nan },
		{ "avg_pool", avg_pool },
		{ "dwconv", dwconv },
		{ "global_pool", global_pool },
		{ "bad_arguments", bad_arguments },
	};
	return ht_run("window", tests, sizeof(tests) / sizeof(tests[0]));
}
