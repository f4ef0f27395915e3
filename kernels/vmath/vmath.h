/* f32 vector math written once over the per-ISA primitives (include
 * avx2.h, avx512f.h, neon.h, sve.h or scalar.h first). The element-wise,
 * row and attention kernels and the GEMM epilogues (hv_gemm_act) all use
 * these same functions. Everything is branch-free and
 * lane-wise; special values are part of the formulas:
 *   exp:     clamps its argument to [-104, 89]: NaN stays NaN, exp(+inf) and
 *            overflow give +inf, exp(-inf) and deep underflow give +0,
 *            subnormal results are rounded once (scalef / two exact factors).
 *   sigmoid: 1/(1+e^-|x|) or e^-|x|/(1+e^-|x|): never overflows;
 *            sigmoid(-inf) = 0, sigmoid(+inf) = 1.
 *   tanh:    odd polynomial below 0.625, 1 - 2/(e^2|x|+1) above; tanh(+-inf) =
 *            +-1, tanh(-0) = -0.
 *   gelu:    x * Phi(x) with Phi(-|x|) = e^(-x^2/2) P4(|x|)/Q5(|x|), -x^2/2
 *            carried as an exact hi+lo pair, so the result keeps its
 *            relative accuracy for negative x too; gelu(-inf) = -0,
 *            gelu(+inf) = +inf.
 * The accuracy of each is measured in docs/kernels-eltwise.md. */
#ifndef HWK_VMATH_H
#define HWK_VMATH_H

#include "kernels/hwk.h"

/* exp(hi + lo), |lo| small (< 2): the range reduction takes n from hi+lo
 * and the remainder from hi (clamped to [-104, 89]) and lo separately. */
static inline hv hv_exp_hilo_(hv hi, hv lo, int has_lo)
{
	const hv magic = hv_set1(12582912.0f); /* 1.5 * 2^23: rounds to integer */
	hi = hv_min(hv_set1(89.0f), hv_max(hv_set1(-104.0f), hi));
	hv s = has_lo ? hv_add(hi, lo) : hi;
	hv t = hv_fma(s, hv_set1(0x1.715476p+0f), magic); /* log2(e) */
	hv n = hv_sub(t, magic);
	hv r = hv_fnma(n, hv_set1(0x1.62e430p-1f), hi); /* ln2 hi */
	r = hv_fnma(n, hv_set1(-0x1.05c610p-29f), r);   /* ln2 lo */
	if (has_lo)
		r = hv_add(r, lo);
	/* e^r on [-ln2/2, ln2/2], minimax relative error 3.8e-9 */
	hv p = hv_set1(0x1.6a244cp-10f);
	p = hv_fma(p, r, hv_set1(0x1.1239d4p-7f));
	p = hv_fma(p, r, hv_set1(0x1.5558f2p-5f));
	p = hv_fma(p, r, hv_set1(0x1.555492p-3f));
	p = hv_fma(p, r, hv_set1(0x1.fffffcp-2f));
	p = hv_fma(p, r, hv_set1(1.0f));
	p = hv_fma(p, r, hv_set1(1.0f));
	return hv_scale2(p, n);
}

static inline hv hv_exp(hv x) { return hv_exp_hilo_(x, x, 0); }

/* 1/(1+e^-x) */
static inline hv hv_sigmoid(hv x)
{
	const hv one = hv_set1(1.0f);
	hv z = hv_exp(hv_neg(hv_abs(x)));
	hv num = hv_sel(hv_ge(x, hv_set1(0.0f)), one, z);
	return hv_div(num, hv_add(one, z));
}

static inline hv hv_tanh(hv x)
{
	const hv one = hv_set1(1.0f);
	hv a = hv_abs(x);
	hv e = hv_exp(hv_add(a, a));
	hv big = hv_sub(one, hv_div(hv_set1(2.0f), hv_add(e, one)));
	/* tanh(a) = a + a^3 q(a^2) on [0, 0.625], relative error 2.7e-9 (f32 coefficients) */
	hv s = hv_mul(a, a);
	hv q = hv_set1(0x1.18e1d6p-9f);
	q = hv_fma(q, s, hv_set1(-0x1.0bf4fap-7f));
	q = hv_fma(q, s, hv_set1(0x1.638b58p-6f));
	q = hv_fma(q, s, hv_set1(-0x1.b9ee9p-5f));
	q = hv_fma(q, s, hv_set1(0x1.111066p-3f));
	q = hv_fma(q, s, hv_set1(-0x1.555554p-2f));
	hv small = hv_fma(hv_mul(a, s), q, a);
	return hv_copysign(hv_sel(hv_lt(a, hv_set1(0.625f)), small, big), x);
}

/* x * Phi(x). With a = |x|, Phi(-a) = e^(-a^2/2) R(a), where R(a) =
 * erfcx(a/sqrt2)/2 is smooth and ~1/(a sqrt(2 pi)) for large a, so a
 * rational P4(a)/Q5(a) fits it to 6e-8 relative (float coefficients, all
 * positive: Horner in a >= 0 cannot cancel). Phi(x) is that for x < 0 and
 * 1 - that for x >= 0 (no cancellation, it is <= 1/2), so negative x keep
 * their relative accuracy, unlike 1 + erf(x/sqrt2). -a^2/2 goes into exp as
 * an exact hi+lo pair. Cheaper than erfc = t exp(-z^2 + P10(t)): no t, a
 * shorter polynomial, and exp without its clamp. */
static inline hv hv_gelu(hv x)
{
	const hv one = hv_set1(1.0f);
	/* Beyond +-14.5 the result is x, or rounds to zero: clamping keeps
	 * inf out of the arithmetic (gelu(-inf) = -0, gelu(+inf) = +inf). */
	hv xm = hv_max(hv_set1(-14.5f), x);
	hv xc = hv_min(hv_set1(14.5f), xm);
	hv a = hv_abs(xc);
	hv p = hv_fma(hv_set1(0x1.0dc5f0p-8f), a, hv_set1(0x1.4cdffep-5f));
	p = hv_fma(p, a, hv_set1(0x1.77459ap-3f));
	p = hv_fma(p, a, hv_set1(0x1.c0d19ep-2f));
	p = hv_fma(p, a, hv_set1(0.5f));
	hv q = hv_fma(hv_set1(0x1.521b4ep-7f), a, hv_set1(0x1.a1392cp-4f));
	q = hv_fma(q, a, hv_set1(0x1.e0bf04p-2f));
	q = hv_fma(q, a, hv_set1(0x1.33d824p+0f));
	q = hv_fma(q, a, hv_set1(0x1.acab00p+0f));
	q = hv_fma(q, a, one);
	/* -a^2/2 = hi + lo exactly; hi >= -105.2, so no clamp is needed */
	hv x2 = hv_mul(xc, xc);
	hv hi = hv_mul(x2, hv_set1(-0.5f));
	hv lo = hv_mul(hv_fms(xc, xc, x2), hv_set1(-0.5f));
	const hv magic = hv_set1(12582912.0f);
	hv n = hv_sub(hv_fma(hi, hv_set1(0x1.715476p+0f), magic), magic);
	hv r = hv_fnma(n, hv_set1(0x1.62e430p-1f), hi);
	r = hv_add(hv_fnma(n, hv_set1(-0x1.05c610p-29f), r), lo);
	hv e = hv_set1(0x1.6a244cp-10f);
	e = hv_fma(e, r, hv_set1(0x1.1239d4p-7f));
	e = hv_fma(e, r, hv_set1(0x1.5558f2p-5f));
	e = hv_fma(e, r, hv_set1(0x1.555492p-3f));
	e = hv_fma(e, r, hv_set1(0x1.fffffcp-2f));
	e = hv_fma(e, r, one);
	e = hv_fma(e, r, one);
	/* g = a Phi(-a), scaled last so that it is rounded once even when
	 * Phi(-a) alone would be subnormal (x < -13) */
	hv g = hv_scale2(hv_div(hv_mul(e, hv_mul(p, a)), q), n);
	/* x Phi(x) = -g for x < 0, x - g for x >= 0 */
	return hv_sel(hv_lt(xc, hv_set1(0.0f)), hv_neg(g), hv_sub(xm, g));
}

/* x * sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3)) = 0.5 x (1 + tanh(...)) */
static inline hv hv_gelu_tanh(hv x)
{
	hv xm = hv_max(hv_set1(-30.0f), x);
	hv u = hv_mul(xm, hv_fma(hv_mul(xm, xm), hv_set1(0x1.2444f2p-4f), hv_set1(0x1.988454p+0f)));
	return hv_mul(xm, hv_sigmoid(u));
}

/* x * sigmoid(x); silu(-inf) = -0 */
static inline hv hv_silu(hv x)
{
	hv xm = hv_max(hv_set1(-128.0f), x);
	return hv_mul(xm, hv_sigmoid(xm));
}

/* The fused activation and clip of the GEMM epilogues (enum hwk_f32_gemm_act
 * values); NaN propagates through relu and clip as in the element-wise ops. */
static inline hv hv_gemm_act(hv r, int act, int clip, float lo, float hi)
{
	switch (act) {
	case HWK_F32_GEMM_ACT_RELU: r = hv_max(hv_set1(0.0f), r); break;
	case HWK_F32_GEMM_ACT_GELU: r = hv_gelu(r); break;
	case HWK_F32_GEMM_ACT_GELU_TANH: r = hv_gelu_tanh(r); break;
	case HWK_F32_GEMM_ACT_SILU: r = hv_silu(r); break;
	default: break;
	}
	if (clip)
		r = hv_min(hv_set1(hi), hv_max(hv_set1(lo), r));
	return r;
}

#endif
