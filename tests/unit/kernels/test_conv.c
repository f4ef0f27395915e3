/* Convolution (implicit GEMM, and the direct path of variants that have
 * one) and the spike-train conv1d against a naive double reference written
 * here from the ONNX Conv definition.
 * Tolerance: |got - ref| <= 1e-5 + 1e-5 * sum_k |w_k x_k| (the f32 sum of
 * K products in any order stays well inside that for K <= 5000), doubled
 * for the smooth activations (slope <= 1.13, own error <= 1e-6 |x|). Thread
 * counts 1, 2, 3 must give identical bytes. The test sets small cache
 * sizes (HWK_L1D, HWK_L2) so that small shapes already take several k
 * blocks, pixel tiles and row bands. */
#include <errno.h>
#include <math.h>
#include <stdint.h>

#include "tests/unit/kernels/harness.h"

struct cshape {
	size_t n, cin, cout, groups, h, w;
	struct hwk_window2d win;
};

#define WIN(k, s, d, p) { k, k, s, s, d, d, p, p, p, p, false, false }

static const struct cshape cshapes[] = {
	{ 1, 16, 16, 1, 9, 7, WIN(1, 1, 1, 0) },          /* 1x1 direct */
	{ 2, 33, 3, 1, 5, 11, WIN(1, 1, 1, 0) },
	{ 1, 3, 33, 1, 13, 9, WIN(1, 2, 1, 0) },           /* 1x1 stride 2 */
	{ 1, 16, 33, 1, 11, 13, WIN(3, 1, 1, 1) },         /* 3x3 s1 */
	{ 2, 3, 16, 1, 15, 17, WIN(3, 2, 1, 1) },          /* 3x3 s2 */
	{ 1, 33, 16, 1, 17, 19, WIN(5, 1, 2, 4) },         /* 5x5 dilation 2 */
	{ 1, 3, 16, 1, 37, 41, WIN(7, 2, 1, 3) },          /* ResNet stem */
	{ 2, 16, 16, 2, 9, 9, WIN(3, 1, 1, 1) },           /* groups 2 */
	{ 1, 16, 32, 4, 7, 11, WIN(3, 2, 1, 0) },          /* groups 4 */
	{ 1, 1, 1, 1, 7, 5, WIN(3, 1, 1, 1) },
	{ 2, 16, 16, 16, 9, 8, WIN(3, 1, 1, 1) },          /* depthwise */
	{ 1, 24, 130, 1, 7, 7, WIN(3, 1, 1, 1) },          /* 130 couts */
	{ 1, 120, 8, 1, 5, 5, WIN(3, 1, 1, 1) },           /* K 1080: k blocks */
	{ 1, 4, 8, 1, 9, 10, { 2, 3, 1, 2, 1, 1, 0, 1, 2, 0, false, false } }, /* asym */
	{ 1, 32, 20, 1, 16, 17, WIN(3, 1, 1, 1) },        /* several pixel tiles */
	{ 1, 200, 13, 1, 15, 15, WIN(1, 1, 1, 0) },       /* direct, tiles + tail */
	/* Output rows of >= 12 pixels: the AVX-512 direct path. */
	{ 1, 3, 16, 1, 32, 32, WIN(3, 1, 1, 1) },          /* small CNN layer 1 */
	{ 1, 16, 32, 1, 16, 16, WIN(3, 1, 1, 1) },         /* small CNN layer 2 */
	{ 2, 5, 23, 1, 13, 29, WIN(3, 1, 1, 1) },          /* tail vector, 12 + 11 couts */
	{ 1, 7, 13, 1, 21, 55, WIN(3, 2, 1, 1) },          /* stride 2: phases; 12 + 1 */
	{ 1, 4, 9, 1, 17, 80, WIN(4, 3, 1, 2) },           /* stride 3, even kernel */
	{ 1, 6, 20, 1, 14, 30, WIN(5, 1, 2, 4) },          /* dilation 2; 12 + 8 */
	{ 2, 8, 12, 2, 12, 14, WIN(3, 1, 1, 1) },          /* groups 2, 6 couts each */
	{ 1, 4, 10, 1, 9, 40, { 2, 3, 2, 1, 1, 2, 0, 1, 2, 0, false, false } }, /* asym */
	{ 1, 20, 7, 1, 9, 7, WIN(1, 1, 1, 0) },            /* 1x1 in place, 63 pixels */
	{ 1, 10, 14, 1, 18, 30, WIN(3, 1, 1, 0) },         /* unpadded: in place; 12 + 2 */
	{ 1, 40, 12, 1, 10, 16, WIN(3, 1, 1, 1) },         /* K 360: k blocks */
	{ 1, 3, 5, 1, 6, 50, WIN(3, 1, 1, 1) },            /* 5 couts: 4 vectors */
	{ 1, 8, 16, 1, 10, 60, WIN(1, 2, 1, 0) },          /* 1x1 stride 2 */
	{ 1, 8, 40, 1, 2, 30, WIN(3, 1, 1, 1) },           /* 2 rows: channel blocks */
	{ 1, 2, 3, 1, 1, 40, WIN(3, 1, 1, 1) },            /* one input row */
};
#define N_CS (sizeof(cshapes) / sizeof(cshapes[0]))

/* The epilogue in double: + bias (added by the caller), act, clip. */
static double ref_act(const struct hwk_f32_gemm_epilogue *ep, double v)
{
	if (!ep)
		return v;
	switch (ep->act) {
	case HWK_F32_GEMM_ACT_RELU: v = v < 0 ? 0 : v; break;
	case HWK_F32_GEMM_ACT_GELU: v = 0.5 * v * (1 + erf(v / sqrt(2.0))); break;
	case HWK_F32_GEMM_ACT_GELU_TANH:
		v = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
		break;
	case HWK_F32_GEMM_ACT_SILU: v = v / (1 + exp(-v)); break;
	default: break;
	}
	if (ep->clip)
		v = v < ep->clip_min ? ep->clip_min : v > ep->clip_max ? ep->clip_max : v;
	return v;
}

static void ref_conv(const struct cshape *s, size_t oh, size_t ow, const float *x, const float *wt,
		     const struct hwk_f32_gemm_epilogue *ep, double *y, double *mag)
{
	const float *bias = ep ? ep->bias : NULL;
	size_t cig = s->cin / s->groups, cog = s->cout / s->groups;
	const struct hwk_window2d *p = &s->win;
	for (size_t n = 0; n < s->n; n++)
		for (size_t co = 0; co < s->cout; co++) {
			size_t g = co / cog;
			for (size_t oy = 0; oy < oh; oy++)
				for (size_t ox = 0; ox < ow; ox++) {
					double acc = bias ? bias[co] : 0, m = fabs(acc);
					for (size_t ci = 0; ci < cig; ci++)
						for (size_t ky = 0; ky < p->kh; ky++)
							for (size_t kx = 0; kx < p->kw; kx++) {
								long iy = (long)(oy * p->sh + ky * p->dh) - (long)p->pad_t;
								long ix = (long)(ox * p->sw + kx * p->dw) - (long)p->pad_l;
								if (iy < 0 || ix < 0 || iy >= (long)s->h || ix >= (long)s->w)
									continue;
								double v = x[((n * s->cin + g * cig + ci) * s->h + iy) * s->w + ix];
								double wv = wt[((co * cig + ci) * p->kh + ky) * p->kw + kx];
								acc += v * wv;
								m += fabs(v * wv);
							}
					size_t o = ((n * s->cout + co) * oh + oy) * ow + ox;
					y[o] = ref_act(ep, acc);
					mag[o] = m;
				}
		}
}

static struct hwk_pool *pools[4];

/* Epilogues under test (a non-NULL bias stands for the shape's bias). */
static const float bias_tag;
static const struct hwk_f32_gemm_epilogue eps[] = {
	{ &bias_tag, HWK_F32_GEMM_ACT_RELU, false, 0, 0 },
	{ &bias_tag, HWK_F32_GEMM_ACT_NONE, false, 0, 0 },
	{ NULL, HWK_F32_GEMM_ACT_RELU, false, 0, 0 },
	{ &bias_tag, HWK_F32_GEMM_ACT_GELU, false, 0, 0 },
	{ &bias_tag, HWK_F32_GEMM_ACT_GELU_TANH, false, 0, 0 },
	{ NULL, HWK_F32_GEMM_ACT_SILU, true, -0.5f, 1.5f },
	{ &bias_tag, HWK_F32_GEMM_ACT_RELU, true, 0.25f, 0.75f },
	{ &bias_tag, HWK_F32_GEMM_ACT_NONE, true, -1.0f, 0.5f },
};
#define N_EPS (sizeof(eps) / sizeof(eps[0]))

static void test_conv2d(void)
{
	for (size_t i = 0; i < N_CS; i++) {
		const struct cshape *s = &cshapes[i];
		struct hwk_conv2d cp = { s->cin, s->cout, s->groups, s->win };
		size_t oh, ow;
		CHECK(hwk_window2d_output(&s->win, s->h, s->w, &oh, &ow) == 0, "shape %zu", i);
		size_t nx = s->n * s->cin * s->h * s->w, nw = s->cout * s->cin / s->groups * s->win.kh * s->win.kw;
		size_t ny = s->n * s->cout * oh * ow;
		float *x = malloc(nx * 4), *wt = malloc(nw * 4), *bias = malloc(s->cout * 4);
		float *y[4];
		double *ry = malloc(ny * 8), *mag = malloc(ny * 8);
		ht_fill(x, nx, i + 1, -1, 1);
		ht_fill(wt, nw, i + 101, -1, 1);
		ht_fill(bias, s->cout, i + 201, -1, 1);
		struct hwk_f32_conv2d_packed *pw = hwk_f32_conv2d_pack(&cp, wt);
		CHECK(pw != NULL, "pack %zu", i);
		if (!pw)
			continue;
		/* Mode 0: no epilogue; then bias + ReLU, and the rest in turn. */
		for (size_t mode = 0; mode < N_EPS + 1; mode++) {
			struct hwk_f32_gemm_epilogue ep = mode ? eps[mode - 1] : eps[0];
			if (ep.bias)
				ep.bias = bias;
			const struct hwk_f32_gemm_epilogue *e = mode ? &ep : NULL;
			double tol = mode && ep.act > HWK_F32_GEMM_ACT_RELU ? 2e-5 : 1e-5;
			ref_conv(s, oh, ow, x, wt, e, ry, mag);
			for (int t = 1; t <= 3; t++) {
				y[t] = malloc(ny * 4);
				for (size_t k = 0; k < ny; k++)
					y[t][k] = NAN;
				int rc = hwk_f32_conv2d(pw, s->n, s->h, s->w, x, y[t], e,
							hwk_pool_parallel(pools[t]));
				CHECK(rc == 0, "shape %zu rc %d", i, rc);
			}
			size_t bad = 0;
			for (size_t k = 0; k < ny; k++) {
				double d = fabs(y[1][k] - ry[k]);
				if (!(d <= tol + tol * mag[k]) && bad++ < 3)
					CHECK(0, "shape %zu mode %zu [%zu] got %g want %g (%s)", i, mode, k,
					      y[1][k], ry[k], hwk_f32_conv2d_packed_variant(pw));
			}
			CHECK(memcmp(y[1], y[2], ny * 4) == 0, "shape %zu: 2 threads differ", i);
			CHECK(memcmp(y[1], y[3], ny * 4) == 0, "shape %zu: 3 threads differ", i);
			for (int t = 1; t <= 3; t++)
				free(y[t]);
		}
		hwk_f32_conv2d_packed_free(pw);
		free(x);
		free(wt);
		free(bias);
		free(ry);
		free(mag);
	}
}

/* One packing serves every input size: the direct path's offsets and
 * bands are per call, and narrow outputs take the implicit GEMM. */
static void test_sizes(void)
{
	static const size_t hw[][2] = { { 20, 32 }, { 5, 7 }, { 9, 40 }, { 3, 14 }, { 1, 1 } };
	struct cshape s = { 1, 4, 14, 1, 0, 0, WIN(3, 1, 1, 1) };
	struct hwk_conv2d cp = { s.cin, s.cout, 1, s.win };
	float wt[14 * 4 * 9], bias[14];
	ht_fill(wt, 14 * 4 * 9, 7, -1, 1);
	ht_fill(bias, 14, 8, -1, 1);
	struct hwk_f32_conv2d_packed *pw = hwk_f32_conv2d_pack(&cp, wt);
	CHECK(pw != NULL, "pack");
	struct hwk_f32_gemm_epilogue ep = { bias, HWK_F32_GEMM_ACT_RELU, false, 0, 0 };
	for (size_t i = 0; pw && i < sizeof(hw) / sizeof(hw[0]); i++) {
		s.h = hw[i][0];
		s.w = hw[i][1];
		size_t nx = s.cin * s.h * s.w, ny = s.cout * s.h * s.w;
		float *x = malloc(nx * 4), *y1 = malloc(ny * 4), *y2 = malloc(ny * 4);
		double *ry = malloc(ny * 8), *mag = malloc(ny * 8);
		ht_fill(x, nx, i + 9, -1, 1);
		ref_conv(&s, s.h, s.w, x, wt, &ep, ry, mag);
		CHECK(hwk_f32_conv2d(pw, 1, s.h, s.w, x, y1, &ep, NULL) == 0, "size %zu", i);
		CHECK(hwk_f32_conv2d(pw, 1, s.h, s.w, x, y2, &ep, hwk_pool_parallel(pools[2])) == 0,
		      "size %zu", i);
		long bad = -1;
		for (size_t k = 0; k < ny && bad < 0; k++)
			if (!(fabs(y1[k] - ry[k]) <= 1e-5 + 1e-5 * mag[k]))
				bad = (long)k;
		CHECK(bad < 0, "size %zu [%ld] got %g want %g", i, bad, bad < 0 ? 0 : y1[bad],
		      bad < 0 ? 0 : ry[bad]);
		CHECK(memcmp(y1, y2, ny * 4) == 0, "size %zu: 2 threads differ", i);
		free(x);
		free(y1);
		free(y2);
		free(ry);
		free(mag);
	}
	hwk_f32_conv2d_packed_free(pw);
}

/* conv1d dense vs reference, and spikes vs dense on the same 0/1 signal. */
static void test_conv1d(void)
{
	static const struct hwk_conv1d cs[] = {
		{ 3, 5, 1, 3, 1, 1, 1, 1 },
		{ 16, 33, 1, 5, 2, 1, 2, 2 },
		{ 8, 12, 4, 3, 1, 3, 3, 0 },
		{ 33, 16, 1, 7, 3, 2, 0, 5 },
		{ 1, 1, 1, 1, 1, 1, 0, 0 },
		{ 4, 130, 2, 4, 2, 1, 1, 2 },
	};
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		const struct hwk_conv1d *p = &cs[i];
		size_t n = 2, l = 150 + i, ol;
		CHECK(hwk_conv1d_output(p, l, &ol) == 0, "1d %zu", i);
		size_t cig = p->c_in / p->groups, nw = p->c_out * cig * p->k;
		float *x = malloc(n * p->c_in * l * 4), *wt = malloc(nw * 4), *bias = malloc(p->c_out * 4);
		uint8_t *sp = malloc(n * p->c_in * l);
		float *yd = malloc(n * p->c_out * ol * 4), *ys[4];
		unsigned long long st = i + 7;
		for (size_t k = 0; k < n * p->c_in * l; k++) {
			sp[k] = ht_randf(&st, 0, 1) < 0.15f;
			x[k] = sp[k];
		}
		/* Small integers: every partial sum is exact, so the spike
		 * result must equal the dense one bit for bit. */
		for (size_t k = 0; k < nw; k++)
			wt[k] = (float)((int)(ht_randf(&st, 0, 9)) - 4);
		for (size_t k = 0; k < p->c_out; k++)
			bias[k] = (float)((int)(ht_randf(&st, 0, 9)) - 4);
		struct hwk_f32_conv2d_packed *pw = hwk_f32_conv1d_pack(p, wt);
		struct hwk_f32_conv1d_spike_weights *sw = hwk_f32_conv1d_spike_pack(p, wt);
		CHECK(pw && sw, "1d pack %zu", i);
		if (!pw || !sw)
			continue;
		struct hwk_f32_gemm_epilogue ep = { bias, HWK_F32_GEMM_ACT_NONE, false, 0, 0 };
		CHECK(hwk_f32_conv1d(pw, n, l, x, yd, &ep, NULL) == 0, "1d %zu", i);
		/* Reference in double. */
		size_t bad = 0;
		for (size_t b = 0; b < n; b++)
			for (size_t co = 0; co < p->c_out; co++)
				for (size_t o = 0; o < ol; o++) {
					size_t g = co / (p->c_out / p->groups);
					double acc = bias[co];
					for (size_t ci = 0; ci < cig; ci++)
						for (size_t kk = 0; kk < p->k; kk++) {
							long t = (long)(o * p->stride + kk * p->dilation) - (long)p->pad_begin;
							if (t < 0 || t >= (long)l)
								continue;
							acc += (double)wt[(co * cig + ci) * p->k + kk] *
							       x[(b * p->c_in + g * cig + ci) * l + t];
						}
					float got = yd[(b * p->c_out + co) * ol + o];
					if (got != acc && bad++ < 3)
						CHECK(0, "1d %zu dense [%zu][%zu][%zu] got %g want %g", i, b, co, o,
						      got, acc);
				}
		for (int t = 1; t <= 3; t++) {
			ys[t] = malloc(n * p->c_out * ol * 4);
			CHECK(hwk_f32_conv1d_spikes(sw, n, l, sp, bias, ys[t], hwk_pool_parallel(pools[t])) == 0,
			      "spikes %zu", i);
		}
		CHECK(memcmp(ys[1], yd, n * p->c_out * ol * 4) == 0, "1d %zu: spikes differ from dense", i);
		CHECK(memcmp(ys[1], ys[2], n * p->c_out * ol * 4) == 0, "1d %zu: spike threads", i);
		CHECK(memcmp(ys[1], ys[3], n * p->c_out * ol * 4) == 0, "1d %zu: spike threads", i);
		/* Random real weights: equal to dense within rounding. */
		ht_fill(wt, nw, i + 55, -1, 1);
		hwk_f32_conv2d_packed_free(pw);
		hwk_f32_conv1d_spike_free(sw);
		pw = hwk_f32_conv1d_pack(p, wt);
		sw = hwk_f32_conv1d_spike_pack(p, wt);
		CHECK(hwk_f32_conv1d(pw, n, l, x, yd, NULL, NULL) == 0, "1d %zu", i);
		CHECK(hwk_f32_conv1d_spikes(sw, n, l, sp, NULL, ys[1], NULL) == 0, "1d %zu", i);
		long wi = ht_close(ys[1], yd, n * p->c_out * ol, 1e-5f, 1e-5f);
		CHECK(wi < 0, "1d %zu: spikes [%ld] %g vs dense %g", i, wi, wi < 0 ? 0 : ys[1][wi],
		      wi < 0 ? 0 : yd[wi]);
		for (int t = 1; t <= 3; t++)
			free(ys[t]);
		hwk_f32_conv2d_packed_free(pw);
		hwk_f32_conv1d_spike_free(sw);
		free(x);
		free(wt);
		free(bias);
		free(sp);
		free(yd);
	}
}

static void test_bad_args(void)
{
	float w[64] = { 0 }, x[64] = { 0 }, y[64];
	struct hwk_conv2d ok = { 2, 2, 1, WIN(3, 1, 1, 1) };
	struct hwk_conv2d b = ok;
	b.groups = 0;
	CHECK(hwk_f32_conv2d_pack(&b, w) == NULL && errno == EINVAL, "groups 0");
	b = ok;
	b.groups = 2;
	b.c_out = 3;
	CHECK(hwk_f32_conv2d_pack(&b, w) == NULL && errno == EINVAL, "groups divide");
	b = ok;
	b.win.sh = 0;
	CHECK(hwk_f32_conv2d_pack(&b, w) == NULL, "stride 0");
	b = ok;
	b.win.ceil_mode = true;
	CHECK(hwk_f32_conv2d_pack(&b, w) == NULL, "ceil_mode");
	CHECK(hwk_f32_conv2d_pack(&ok, NULL) == NULL && errno == EINVAL, "weights NULL");
	CHECK(hwk_f32_conv2d_pack(NULL, w) == NULL, "p NULL");
	struct hwk_f32_conv2d_packed *pw = hwk_f32_conv2d_pack(&ok, w);
	CHECK(pw != NULL, "pack");
	CHECK(hwk_f32_conv2d(pw, 1, 3, 3, NULL, y, NULL, NULL) == -EINVAL, "x NULL");
	CHECK(hwk_f32_conv2d(pw, 1, 3, 3, x, NULL, NULL, NULL) == -EINVAL, "y NULL");
	CHECK(hwk_f32_conv2d(pw, 0, 3, 3, NULL, NULL, NULL, NULL) == 0, "n 0");
	struct hwk_f32_gemm_epilogue ep = { NULL, (enum hwk_f32_gemm_act)99, false, 0, 0 };
	CHECK(hwk_f32_conv2d(pw, 1, 3, 3, x, y, &ep, NULL) == -EINVAL, "bad act");
	ep.act = HWK_F32_GEMM_ACT_NONE;
	ep.clip = true;
	ep.clip_min = 1;
	ep.clip_max = 0;
	CHECK(hwk_f32_conv2d(pw, 1, 3, 3, x, y, &ep, NULL) == -EINVAL, "bad clip");
	CHECK(hwk_f32_conv1d(pw, 1, 3, x, y, NULL, NULL) == -EINVAL, "2d weights as 1d");
	hwk_f32_conv2d_packed_free(pw);
	struct hwk_conv2d nofit = { 1, 1, 1, WIN(5, 1, 1, 0) };
	pw = hwk_f32_conv2d_pack(&nofit, w);
	CHECK(hwk_f32_conv2d(pw, 1, 3, 3, x, y, NULL, NULL) == -EINVAL, "window does not fit");
	hwk_f32_conv2d_packed_free(pw);
	CHECK(hwk_f32_conv2d(NULL, 1, 3, 3, x, y, NULL, NULL) == -EINVAL, "w NULL");
	struct hwk_conv1d c1 = { 2, 2, 1, 3, 0, 1, 0, 0 };
	CHECK(hwk_f32_conv1d_pack(&c1, w) == NULL, "1d stride 0");
	CHECK(hwk_f32_conv1d_spike_pack(&c1, w) == NULL, "spike stride 0");
	c1.stride = 1;
	struct hwk_f32_conv1d_spike_weights *sw = hwk_f32_conv1d_spike_pack(&c1, w);
	uint8_t s[8] = { 0 };
	CHECK(hwk_f32_conv1d_spikes(sw, 1, 2, s, NULL, y, NULL) == -EINVAL, "spike too short");
	CHECK(hwk_f32_conv1d_spikes(sw, 1, 4, NULL, NULL, y, NULL) == -EINVAL, "spikes NULL");
	CHECK(hwk_f32_conv1d_spikes(NULL, 1, 4, s, NULL, y, NULL) == -EINVAL, "sw NULL");
	hwk_f32_conv1d_spike_free(sw);
}

int main(void)
{
	setenv("HWK_L1D", "8192", 1);
	setenv("HWK_L2", "32768", 1);
	for (int t = 1; t <= 3; t++)
		pools[t] = hwk_pool_create((size_t)t);
	static const struct ht_test tests[] = {
		{ "conv2d", test_conv2d },
		{ "sizes", test_sizes },
		{ "conv1d_spikes", test_conv1d },
		{ "bad_args", test_bad_args },
	};
	int rc = ht_run("conv", tests, sizeof(tests) / sizeof(tests[0]));
	for (int t = 1; t <= 3; t++)
		hwk_pool_destroy(pools[t]);
	return rc;
}
