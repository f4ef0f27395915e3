/* f32 element-wise ops (hwk_f32_vunary) against double-precision
 * references written here: every op and variant over sizes with tails, in
 * place, special values, thread counts, bad arguments, and an accuracy
 * sweep over float bit patterns. HWK_ELTWISE_SWEEP=<stride> makes the sweep
 * denser (every stride-th bit pattern) and prints the accuracy table of
 * docs/kernels.md. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "tests/unit/kernels/harness.h"

static const char *const op_names[HWK_VUNARY_COUNT] = {
	"relu", "leakyrelu", "gelu", "gelu-tanh", "silu", "sigmoid", "tanh",
	"hardswish", "hardsigmoid", "clip", "exp",
};

/* Parameters the tests use (not the defaults, which NULL gets). */
static const struct hwk_vunary_params test_params = { 0.1f, 0.6f, -1.5f, 2.25f };

/* --- references, in double ------------------------------------------------ */

static double ref_sigmoid(double v)
{
	return v >= 0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
}

static double clampd(double v, double lo, double hi)
{
	v = v < lo ? lo : v; /* NaN passes through both */
	return v > hi ? hi : v;
}

static double ref(enum hwk_vunary_op op, const struct hwk_vunary_params *p, float xf)
{
	double v = xf;
	switch (op) {
	case HWK_VUNARY_RELU: return v < 0 ? 0.0 : v;
	case HWK_VUNARY_LEAKY_RELU: return v < 0 ? v * p->alpha : v;
	/* x Phi(x) with erfc: no cancellation for negative x */
	case HWK_VUNARY_GELU: return v < -40 ? 0.0 : 0.5 * v * erfc(-v / sqrt(2.0));
	/* 0.5 x (1 + tanh u) = x sigmoid(2u) */
	case HWK_VUNARY_GELU_TANH:
		return v < -40 ? 0.0 : v * ref_sigmoid(2 * sqrt(2 / M_PI) * (v + 0.044715 * v * v * v));
	case HWK_VUNARY_SILU: return v < -800 ? 0.0 : v * ref_sigmoid(v);
	case HWK_VUNARY_SIGMOID: return ref_sigmoid(v);
	case HWK_VUNARY_TANH: return tanh(v);
	case HWK_VUNARY_HARDSWISH: return v <= -3 ? 0.0 : v * clampd(v / 6 + 0.5, 0, 1);
	case HWK_VUNARY_HARDSIGMOID: return clampd((double)p->alpha * v + p->beta, 0, 1);
	case HWK_VUNARY_CLIP: return clampd(v, p->min, p->max);
	case HWK_VUNARY_EXP: return exp(v);
	default: return NAN;
	}
}

/* --- error measure ----------------------------------------------------------
 * ULPs of the float nearest the reference; below FLT_MIN the ULP is the
 * subnormal spacing 2^-149, so subnormal results are judged in absolute
 * terms. A reference that rounds to +-inf needs exactly that inf; NaN needs
 * NaN. */
static double ulp_of(double r)
{
	double a = fabs(r);
	if (a < FLT_MIN)
		return ldexp(1, -149);
	int e;
	frexp(a, &e);
	return ldexp(1, e - 24);
}

/* The error of g in ULPs of r; INFINITY when a special is wrong. */
static double ulp_err(float g, double r)
{
	if (isnan(r))
		return isnan(g) ? 0 : INFINITY;
	float rf = (float)r;
	if (isinf(rf))
		return g == rf ? 0 : INFINITY;
	if (!isfinite(g))
		return INFINITY;
	return fabs((double)g - r) / ulp_of(r);
}

/* Bounds in ULPs per op, for results >= FLT_MIN (normal) and below
 * (subnormal, in units of 2^-149), for the vector variants; the scalar
 * reference must be within 1 (it rounds a double once). Where these come
 * from: the measured maxima (docs/kernels.md) with some headroom. */
struct bound {
	double normal, subnormal;
};
static const struct bound vec_bounds[HWK_VUNARY_COUNT] = {
	[HWK_VUNARY_RELU] = { 0, 0 },           /* exact */
	[HWK_VUNARY_LEAKY_RELU] = { 0.5, 0.5 }, /* one rounding */
	/* x < -13: e^(-x^2/2) is subnormal before the last products */
	[HWK_VUNARY_GELU] = { 10, 64 },
	/* the rounding of u = sqrt(2/pi)(x + 0.044715 x^3) is magnified by
	 * |2u| for x < 0: about 2 |2u| ulp, up to 175 at x = -9.9 (dense sweep) */
	[HWK_VUNARY_GELU_TANH] = { 256, 128 },
	/* x < -87.3: e^x is subnormal and keeps fewer bits */
	[HWK_VUNARY_SILU] = { 64, 128 },
	[HWK_VUNARY_SIGMOID] = { 4, 2 },
	[HWK_VUNARY_TANH] = { 4, 1 },
	[HWK_VUNARY_HARDSWISH] = { 3, 1 },
	[HWK_VUNARY_HARDSIGMOID] = { 0.5, 0.5 },
	[HWK_VUNARY_CLIP] = { 0, 0 },
	[HWK_VUNARY_EXP] = { 2, 1 },
};

static struct bound bound_for(enum hwk_vunary_op op)
{
	struct hwk_op *const *ops;
	size_t n = hwk_ops(&ops);
	char name[40];
	snprintf(name, sizeof(name), "f32-%s", op_names[op]);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ops[i]->name, name) == 0 && hwk_op_variant(ops[i])->isa == HWK_ISA_SCALAR)
			return (struct bound){ 0.5001, 0.5001 };
	return vec_bounds[op];
}

static bool within(float g, double r, struct bound b)
{
	double e = ulp_err(g, r);
	return e <= (fabs(r) < FLT_MIN ? b.subnormal : b.normal);
}

static const char *variant_of(enum hwk_vunary_op op)
{
	struct hwk_op *const *ops;
	size_t n = hwk_ops(&ops);
	char name[40];
	snprintf(name, sizeof(name), "f32-%s", op_names[op]);
	for (size_t i = 0; i < n; i++)
		if (strcmp(ops[i]->name, name) == 0)
			return hwk_op_variant(ops[i])->name;
	return "?";
}

/* Input range per op for random data: where the function does something. */
static void range_of(enum hwk_vunary_op op, float *lo, float *hi)
{
	*lo = -12, *hi = 12;
	if (op == HWK_VUNARY_EXP)
		*lo = -100, *hi = 90;
}

/* --- tests ---------------------------------------------------------------- */

static const size_t sizes[] = { 0, 1, 2, 3, 15, 16, 17, 31, 33, 1000, 4099 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))
#define GUARD 16
#define SENTINEL 12345.678f

/* Every op over every size: results within bounds, nothing past n written,
 * and in place gives the same bits as out of place. */
static void vunary_sizes_and_in_place(void)
{
	for (int op = 0; op < HWK_VUNARY_COUNT; op++) {
		struct bound b = bound_for(op);
		float lo, hi;
		range_of(op, &lo, &hi);
		for (size_t s = 0; s < NSIZES; s++) {
			size_t n = sizes[s];
			float *x = malloc((n + GUARD) * sizeof(float));
			float *y = malloc((n + GUARD) * sizeof(float));
			float *z = malloc((n + GUARD) * sizeof(float));
			ht_fill(x, n, 100 + n + 7 * (size_t)op, lo, hi);
			for (size_t i = 0; i < n + GUARD; i++)
				y[i] = SENTINEL;
			int rc = hwk_f32_vunary(op, &test_params, n, x, y, NULL);
			CHECK(rc == 0, "%s n=%zu rc %d", op_names[op], n, rc);
			int bad = 0;
			for (size_t i = 0; i < n; i++) {
				double r = ref(op, &test_params, x[i]);
				if (!within(y[i], r, b) && bad++ < 3)
					CHECK(0, "%s[%s] n=%zu x[%zu]=%a: got %a want %a (%.2f ulp)",
					      op_names[op], variant_of(op), n, i, x[i], y[i], r,
					      ulp_err(y[i], r));
			}
			for (size_t i = n; i < n + GUARD; i++)
				CHECK(y[i] == SENTINEL, "%s n=%zu wrote y[%zu]", op_names[op], n, i);
			memcpy(z, x, (n + GUARD) * sizeof(float));
			rc = hwk_f32_vunary(op, &test_params, n, z, z, NULL);
			CHECK(rc == 0 && memcmp(z, y, n * sizeof(float)) == 0,
			      "%s n=%zu in place differs", op_names[op], n);
			free(x);
			free(y);
			free(z);
		}
	}
}

/* Odd offsets: the unaligned path, and a tail at every position. */
static void vunary_unaligned(void)
{
	float buf[200], y[200], z[200];
	ht_fill(buf, 200, 3, -6, 6);
	for (int op = 0; op < HWK_VUNARY_COUNT; op++)
		for (size_t off = 1; off < 4; off++)
			for (size_t n = 60; n < 70; n++) {
				CHECK(hwk_f32_vunary(op, &test_params, n, buf + off, y, NULL) == 0, "rc");
				CHECK(hwk_f32_vunary(op, &test_params, n, buf + off, z + off, NULL) == 0, "rc");
				CHECK(memcmp(y, z + off, n * sizeof(float)) == 0,
				      "%s off %zu n %zu: results depend on alignment", op_names[op], off, n);
			}
}

static const float specials[] = {
	NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, FLT_MAX, -FLT_MAX, FLT_MIN, -FLT_MIN,
	0x1p-149f, -0x1p-149f, 1e30f, -1e30f, 1e10f, -1e10f, 88.72f, 88.73f, 89.0f, -87.3f,
	-103.0f, -104.0f, -110.0f, 14.4f, -14.4f, -14.6f, 30.0f, -30.0f, -3.0f, 3.0f,
	0.625f, -0.625f, 9.1f, -9.1f, 1e-20f, -1e-20f, 0.5f, -0.5f, 1.0f, -1.0f,
};
#define NSPECIALS (sizeof(specials) / sizeof(specials[0]))

/* Special values, against the reference, and the documented ones by name. */
static void vunary_special_values(void)
{
	float y[NSPECIALS];
	for (int op = 0; op < HWK_VUNARY_COUNT; op++) {
		struct bound b = bound_for(op);
		CHECK(hwk_f32_vunary(op, &test_params, NSPECIALS, specials, y, NULL) == 0, "rc");
		for (size_t i = 0; i < NSPECIALS; i++) {
			double r = ref(op, &test_params, specials[i]);
			CHECK(within(y[i], r, b), "%s[%s](%a) = %a, want %a", op_names[op],
			      variant_of(op), specials[i], y[i], r);
		}
	}
	/* By name: the limits, and NaN in gives NaN out for every op. */
	struct {
		enum hwk_vunary_op op;
		float x, want;
	} named[] = {
		{ HWK_VUNARY_EXP, INFINITY, INFINITY }, { HWK_VUNARY_EXP, -INFINITY, 0 },
		{ HWK_VUNARY_EXP, 100, INFINITY },      { HWK_VUNARY_EXP, -200, 0 },
		{ HWK_VUNARY_SIGMOID, -INFINITY, 0 },   { HWK_VUNARY_SIGMOID, INFINITY, 1 },
		{ HWK_VUNARY_TANH, -INFINITY, -1 },     { HWK_VUNARY_TANH, INFINITY, 1 },
		{ HWK_VUNARY_GELU, -INFINITY, 0 },      { HWK_VUNARY_GELU, INFINITY, INFINITY },
		{ HWK_VUNARY_GELU_TANH, -INFINITY, 0 }, { HWK_VUNARY_GELU_TANH, INFINITY, INFINITY },
		{ HWK_VUNARY_SILU, -INFINITY, 0 },      { HWK_VUNARY_SILU, INFINITY, INFINITY },
		{ HWK_VUNARY_HARDSWISH, -INFINITY, 0 }, { HWK_VUNARY_HARDSWISH, INFINITY, INFINITY },
		{ HWK_VUNARY_RELU, -INFINITY, 0 },      { HWK_VUNARY_CLIP, INFINITY, 2.25f },
	};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		float out;
		hwk_f32_vunary(named[i].op, &test_params, 1, &named[i].x, &out, NULL);
		CHECK(out == named[i].want, "%s(%g) = %g, want %g", op_names[named[i].op],
		      named[i].x, out, named[i].want);
	}
	for (int op = 0; op < HWK_VUNARY_COUNT; op++) {
		float nan = NAN, out = 0;
		hwk_f32_vunary(op, NULL, 1, &nan, &out, NULL);
		CHECK(isnan(out), "%s(NaN) = %g", op_names[op], out);
	}
	/* tanh keeps the sign of zero. */
	float mz = -0.0f, out = 1;
	hwk_f32_vunary(HWK_VUNARY_TANH, NULL, 1, &mz, &out, NULL);
	CHECK(out == 0 && signbit(out), "tanh(-0) = %g", out);
}

/* NULL parameters are the ONNX defaults. */
static void vunary_defaults(void)
{
	float x[4] = { -2.0f, -0.5f, 1.0f, 4.0f }, y[4];
	hwk_f32_vunary(HWK_VUNARY_LEAKY_RELU, NULL, 4, x, y, NULL);
	CHECK(y[0] == -2.0f * 0.01f && y[3] == 4.0f, "leaky default alpha 0.01: %g", y[0]);
	hwk_f32_vunary(HWK_VUNARY_HARDSIGMOID, NULL, 4, x, y, NULL);
	/* 0.2 x + 0.5: 0.1, 0.4, 0.7, 1 (one rounding, as the fma) */
	CHECK(y[0] == fmaf(-2.0f, 0.2f, 0.5f) && y[2] == fmaf(1.0f, 0.2f, 0.5f) && y[3] == 1.0f,
	      "hardsigmoid defaults: %a %a %a", y[0], y[2], y[3]);
	hwk_f32_vunary(HWK_VUNARY_CLIP, NULL, 4, x, y, NULL);
	CHECK(memcmp(x, y, sizeof(x)) == 0, "clip default is the identity");
	struct hwk_vunary_params inverted = { 0, 0, 2.0f, 1.0f };
	hwk_f32_vunary(HWK_VUNARY_CLIP, &inverted, 4, x, y, NULL);
	CHECK(y[0] == 1.0f && y[1] == 1.0f && y[2] == 1.0f && y[3] == 1.0f, "clip min > max gives max");
}

/* Thread counts 1, 2, 3 and NULL: the same bits, over many chunks. */
static void vunary_threads_identical(void)
{
#if defined(__aarch64__)
	const size_t n = 40000;
#else
	const size_t n = 100003;
#endif
	float *x = malloc(n * sizeof(float)), *y0 = malloc(n * sizeof(float)),
	      *y1 = malloc(n * sizeof(float));
	ht_fill(x, n, 77, -10, 10);
	struct hwk_pool *pools[3];
	for (size_t t = 0; t < 3; t++)
		pools[t] = hwk_pool_create(t + 1);
	for (int op = 0; op < HWK_VUNARY_COUNT; op++) {
		hwk_f32_vunary(op, &test_params, n, x, y0, NULL);
		for (size_t t = 0; t < 3; t++) {
			memset(y1, 0, n * sizeof(float));
			CHECK(hwk_f32_vunary(op, &test_params, n, x, y1, hwk_pool_parallel(pools[t])) == 0, "rc");
			CHECK(memcmp(y0, y1, n * sizeof(float)) == 0, "%s: %zu threads differ",
			      op_names[op], t + 1);
		}
	}
	for (size_t t = 0; t < 3; t++)
		hwk_pool_destroy(pools[t]);
	free(x);
	free(y0);
	free(y1);
}

static void vunary_bad_arguments(void)
{
	float a[8] = { 0 };
	CHECK(hwk_f32_vunary(HWK_VUNARY_COUNT, NULL, 1, a, a, NULL) == -EINVAL, "bad op");
	CHECK(hwk_f32_vunary((enum hwk_vunary_op)-1, NULL, 1, a, a, NULL) == -EINVAL, "negative op");
	CHECK(hwk_f32_vunary(HWK_VUNARY_RELU, NULL, 1, NULL, a, NULL) == -EINVAL, "NULL x");
	CHECK(hwk_f32_vunary(HWK_VUNARY_RELU, NULL, 1, a, NULL, NULL) == -EINVAL, "NULL y");
	CHECK(hwk_f32_vunary(HWK_VUNARY_RELU, NULL, 0, NULL, NULL, NULL) == 0, "n 0 with NULL");
	CHECK(hwk_f32_vunary(HWK_VUNARY_RELU, NULL, 4, a, a + 1, NULL) == -EINVAL, "partial overlap");
	CHECK(hwk_f32_vunary(HWK_VUNARY_RELU, NULL, 4, a + 2, a, NULL) == -EINVAL, "partial overlap");
	CHECK(hwk_f32_vunary(HWK_VUNARY_RELU, NULL, 4, a, a + 4, NULL) == 0, "adjacent is fine");
	CHECK(hwk_f32_vunary(HWK_VUNARY_RELU, NULL, SIZE_MAX / 2, a, a, NULL) == -EINVAL, "huge n");
	struct hwk_vunary_params p = { NAN, 0, 0, 1 };
	CHECK(hwk_f32_vunary(HWK_VUNARY_LEAKY_RELU, &p, 1, a, a, NULL) == -EINVAL, "NaN alpha");
	p.alpha = INFINITY;
	CHECK(hwk_f32_vunary(HWK_VUNARY_HARDSIGMOID, &p, 1, a, a, NULL) == -EINVAL, "inf alpha");
	p = (struct hwk_vunary_params){ 0.2f, NAN, 0, 1 };
	CHECK(hwk_f32_vunary(HWK_VUNARY_HARDSIGMOID, &p, 1, a, a, NULL) == -EINVAL, "NaN beta");
	p = (struct hwk_vunary_params){ 0, 0, NAN, 1 };
	CHECK(hwk_f32_vunary(HWK_VUNARY_CLIP, &p, 1, a, a, NULL) == -EINVAL, "NaN min");
	p = (struct hwk_vunary_params){ 0, 0, -INFINITY, INFINITY };
	CHECK(hwk_f32_vunary(HWK_VUNARY_CLIP, &p, 1, a, a, NULL) == 0, "infinite bounds");
}

/* Every stride-th float bit pattern (both signs), every op: the worst ULP
 * error over normal results and over subnormal ones, within the bounds. */
static void vunary_accuracy_sweep(void)
{
	const char *env = getenv("HWK_ELTWISE_SWEEP");
#if defined(__aarch64__)
	uint64_t stride = 1u << 17; /* qemu: 65K values */
#else
	uint64_t stride = 1u << 14; /* 524K values */
#endif
	if (env && atoll(env) > 0)
		stride = (uint64_t)atoll(env);
	enum { BLOCK = 4096 };
	static float x[BLOCK], y[BLOCK];
	for (int op = 0; op < HWK_VUNARY_COUNT; op++) {
		struct bound b = bound_for(op);
		double worst_n = 0, worst_s = 0, worst_m = 0;
		float at_n = 0, at_s = 0;
		uint64_t count = 0;
		size_t k = 0;
		for (uint64_t u = 0;; u += stride) {
			bool last = u >= 0x100000000ull;
			if (!last) {
				uint32_t bits = (uint32_t)u;
				float v;
				memcpy(&v, &bits, 4);
				if (isfinite(v))
					x[k++] = v;
			}
			if (k == BLOCK || (last && k)) {
				hwk_f32_vunary(op, &test_params, k, x, y, NULL);
				for (size_t i = 0; i < k; i++) {
					double r = ref(op, &test_params, x[i]), e = ulp_err(y[i], r);
					if (fabs(r) < FLT_MIN) {
						if (e > worst_s)
							worst_s = e, at_s = x[i];
					} else if (e > worst_n) {
						worst_n = e, at_n = x[i];
					}
					if (fabsf(x[i]) <= 8 && fabs(r) >= FLT_MIN && e > worst_m)
						worst_m = e;
				}
				count += k;
				k = 0;
			}
			if (last)
				break;
		}
		CHECK(worst_n <= b.normal, "%s[%s]: %.2f ulp at x=%a (bound %.2f)", op_names[op],
		      variant_of(op), worst_n, at_n, b.normal);
		CHECK(worst_s <= b.subnormal, "%s[%s]: subnormal results off by %.1f x 2^-149 at x=%a",
		      op_names[op], variant_of(op), worst_s, at_s);
		if (env)
			printf("ACCURACY op=%s variant=%s samples=%llu max_ulp=%.3f at=%a "
			       "max_ulp_within_8=%.3f subnormal_max=%.1f at=%a\n",
			       op_names[op], variant_of(op), (unsigned long long)count, worst_n,
			       at_n, worst_m, worst_s, at_s);
	}
}

int main(void)
{
	static const struct ht_test tests[] = {
		{ "vunary_sizes_and_in_place", vunary_sizes_and_in_place },
		{ "vunary_unaligned", vunary_unaligned },
		{ "vunary_special_values", vunary_special_values },
		{ "vunary_defaults", vunary_defaults },
		{ "vunary_threads_identical", vunary_threads_identical },
		{ "vunary_bad_arguments", vunary_bad_arguments },
		{ "vunary_accuracy_sweep", vunary_accuracy_sweep },
	};
	return ht_run("eltwise", tests, sizeof(tests) / sizeof(tests[0]));
}
