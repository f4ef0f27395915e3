/* f32 element-wise reference ukernels: each element computed in double
 * with libm and rounded once, so these are within about half an ULP of the
 * exact result (the accuracy table in docs/kernels.md measures it). Special
 * values follow the vector variants: NaN propagates, relu, leaky relu, hard-* and clip
 * compare rather than call fmax (which would drop NaN). */
#include <math.h>

#include "kernels/f32-vunary/vunary.h"

#define SC_DEFINE(op, EXPR)                                                             \
	void hwk_f32_v##op##_ukernel_x1__scalar(size_t n, const float *x, float *y,        \
						 const struct hwk_vunary_params *p);       \
	void hwk_f32_v##op##_ukernel_x1__scalar(size_t n, const float *x, float *y,        \
						 const struct hwk_vunary_params *p)        \
	{                                                                               \
		(void)p;                                                                \
		for (size_t i = 0; i < n; i++) {                                        \
			double v = x[i];                                                \
			y[i] = (float)(EXPR);                                           \
		}                                                                       \
	}

/* Phi(v) = erfc(-v/sqrt2)/2 keeps relative accuracy for negative v. */
static double gelu_d(double v)
{
	if (v < -40)
		return -0.0;
	return v * 0.5 * erfc(-v * M_SQRT1_2);
}

/* 0.5 v (1 + tanh(u)) = v / (1 + e^(-2u)), without the cancellation. */
static double gelu_tanh_d(double v)
{
	if (v < -40)
		return -0.0;
	double u = sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
	return v / (1.0 + exp(-2.0 * u));
}

static double sigmoid_d(double v)
{
	return v >= 0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
}

static double silu_d(double v)
{
	return v < -800 ? -0.0 : v * sigmoid_d(v);
}

static double clampd(double v, double lo, double hi)
{
	v = v < lo ? lo : v; /* NaN passes both */
	return v > hi ? hi : v;
}

static double hardswish_d(double v)
{
	return v <= -3 ? -0.0 : v * clampd(v / 6.0 + 0.5, 0, 1);
}

SC_DEFINE(relu, v < 0 ? 0.0 : v)
SC_DEFINE(lrelu, v < 0 ? v * p->alpha : v)
SC_DEFINE(gelu, gelu_d(v))
SC_DEFINE(gelutanh, gelu_tanh_d(v))
SC_DEFINE(silu, silu_d(v))
SC_DEFINE(sigmoid, sigmoid_d(v))
SC_DEFINE(tanh, tanh(v))
SC_DEFINE(hswish, hardswish_d(v))
SC_DEFINE(hsigmoid, clampd((double)p->alpha * v + p->beta, 0, 1))
SC_DEFINE(clamp, clampd(v, p->min, p->max)) /* min > max gives max */
SC_DEFINE(exp, exp(v))

const struct hwk_f32_vunary_ukernels hwk_f32_vunary_ukernels__scalar = { {
	[HWK_VUNARY_RELU] = hwk_f32_vrelu_ukernel_x1__scalar,
	[HWK_VUNARY_LEAKY_RELU] = hwk_f32_vlrelu_ukernel_x1__scalar,
	[HWK_VUNARY_GELU] = hwk_f32_vgelu_ukernel_x1__scalar,
	[HWK_VUNARY_GELU_TANH] = hwk_f32_vgelutanh_ukernel_x1__scalar,
	[HWK_VUNARY_SILU] = hwk_f32_vsilu_ukernel_x1__scalar,
	[HWK_VUNARY_SIGMOID] = hwk_f32_vsigmoid_ukernel_x1__scalar,
	[HWK_VUNARY_TANH] = hwk_f32_vtanh_ukernel_x1__scalar,
	[HWK_VUNARY_HARDSWISH] = hwk_f32_vhswish_ukernel_x1__scalar,
	[HWK_VUNARY_HARDSIGMOID] = hwk_f32_vhsigmoid_ukernel_x1__scalar,
	[HWK_VUNARY_CLIP] = hwk_f32_vclamp_ukernel_x1__scalar,
	[HWK_VUNARY_EXP] = hwk_f32_vexp_ukernel_x1__scalar,
} };
