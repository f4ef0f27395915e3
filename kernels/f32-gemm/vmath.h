/* Vector math for the GEMM epilogue, written once over a small set of
 * per-ISA primitives. The including variant file defines, before including:
 *   vf                       its vector (or scalar) float type
 *   vf_set1(float)           broadcast
 *   vf_add, vf_sub, vf_mul, vf_div, vf_min, vf_max (a, b)
 *   vf_fma(a, b, c)          a*b + c (fused where the ISA has it)
 *   vf_round(a)              to nearest integer value (ties either way)
 *   vf_scale2(p, n)          p * 2^n for integer-valued n in [-126, 127]
 * Accuracy, measured against double-precision libm over [-10, 10] and the
 * tails (tests/unit/kernels/test_f32_gemm.c checks these bounds):
 *   vm_exp:  relative error < 4e-7 on [-87, 88] (inputs are clamped there)
 *   vm_erf:  absolute error < 4e-7
 *   GELU (erf), GELU (tanh form), SiLU: |error| < 1e-6 * max(1, |x|)
 * Each of these is a few float roundings of an approximation whose own error
 * is below float precision; see the test for the measured maxima. */
#ifndef HWK_F32_GEMM_VMATH_H
#define HWK_F32_GEMM_VMATH_H

#include "kernels/hwk.h"

/* e^x: x = n*ln2 + r, |r| <= ln2/2, e^r by its degree-7 Taylor polynomial
 * (truncation error r^8/8! < 6e-9 relative), times 2^n. ln2 is split
 * Cody-Waite style (the high part has 9 significant bits, so n*hi is exact
 * even without FMA). Inputs are clamped to [-87, 88], so the result is
 * always a finite normal number. */
static inline vf vm_exp(vf x)
{
	x = vf_min(vf_max(x, vf_set1(-87.0f)), vf_set1(88.0f));
	vf n = vf_round(vf_mul(x, vf_set1(1.44269504088896341f)));
	vf r = vf_fma(n, vf_set1(-0.693359375f), x);
	r = vf_fma(n, vf_set1(2.12194440054690583e-4f), r);
	vf p = vf_set1(1.0f / 5040.0f);
	p = vf_fma(p, r, vf_set1(1.0f / 720.0f));
	p = vf_fma(p, r, vf_set1(1.0f / 120.0f));
	p = vf_fma(p, r, vf_set1(1.0f / 24.0f));
	p = vf_fma(p, r, vf_set1(1.0f / 6.0f));
	p = vf_fma(p, r, vf_set1(0.5f));
	p = vf_fma(p, r, vf_set1(1.0f));
	p = vf_fma(p, r, vf_set1(1.0f));
	return vf_scale2(p, n);
}

/* erf(x) as x*P(x^2)/Q(x^2) on x clamped to [-4, 4] (erf is 1 to float
 * precision beyond), P of degree 6 and Q of degree 4 in x^2. This is the
 * published rational minimax form used by Eigen and XLA for float erf
 * (coefficients are constants of that fit). */
static inline vf vm_erf(vf x)
{
	x = vf_min(vf_max(x, vf_set1(-4.0f)), vf_set1(4.0f));
	vf x2 = vf_mul(x, x);
	vf p = vf_set1(-2.72614225801306e-10f);
	p = vf_fma(x2, p, vf_set1(2.77068142495902e-08f));
	p = vf_fma(x2, p, vf_set1(-2.10102402082508e-06f));
	p = vf_fma(x2, p, vf_set1(-5.69250639462346e-05f));
	p = vf_fma(x2, p, vf_set1(-7.34990630326855e-04f));
	p = vf_fma(x2, p, vf_set1(-2.95459980854025e-03f));
	p = vf_fma(x2, p, vf_set1(-1.60960333262415e-02f));
	p = vf_mul(x, p);
	vf q = vf_set1(-1.45660718464996e-05f);
	q = vf_fma(x2, q, vf_set1(-2.13374055278905e-04f));
	q = vf_fma(x2, q, vf_set1(-1.68282697438203e-03f));
	q = vf_fma(x2, q, vf_set1(-7.37332916720468e-03f));
	q = vf_fma(x2, q, vf_set1(-1.42647390514189e-02f));
	return vf_div(p, q);
}

/* x * Phi(x) = x/2 * (1 + erf(x/sqrt(2))) */
static inline vf vm_gelu(vf x)
{
	vf e = vm_erf(vf_mul(x, vf_set1(0.707106781186547524f)));
	return vf_mul(vf_mul(x, vf_set1(0.5f)), vf_add(vf_set1(1.0f), e));
}

/* x/2 * (1 + tanh(u)) = x / (1 + e^(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3) */
static inline vf vm_gelu_tanh(vf x)
{
	vf x2 = vf_mul(x, x);
	vf u = vf_mul(x, vf_fma(x2, vf_set1(-2.0f * 0.797884560802865356f * 0.044715f),
				vf_set1(-2.0f * 0.797884560802865356f)));
	return vf_div(x, vf_add(vf_set1(1.0f), vm_exp(u)));
}

/* x * sigmoid(x) = x / (1 + e^-x) */
static inline vf vm_silu(vf x)
{
	return vf_div(x, vf_add(vf_set1(1.0f), vm_exp(vf_sub(vf_set1(0.0f), x))));
}

/* The activation and clip of the epilogue. */
static inline vf vm_epilogue(vf r, int act, int clip, float lo, float hi)
{
	switch (act) {
	case HWK_F32_GEMM_ACT_RELU: r = vf_max(r, vf_set1(0.0f)); break;
	case HWK_F32_GEMM_ACT_GELU: r = vm_gelu(r); break;
	case HWK_F32_GEMM_ACT_GELU_TANH: r = vm_gelu_tanh(r); break;
	case HWK_F32_GEMM_ACT_SILU: r = vm_silu(r); break;
	default: break;
	}
	if (clip)
		r = vf_min(vf_max(r, vf_set1(lo)), vf_set1(hi));
	return r;
}

#endif
