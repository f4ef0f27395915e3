/* f32 vector math written once over the per-ISA primitives (include
 * avx2.h, avx512f.h, neon.h or sve.h first). Everything is branch-free and
 * lane-wise; special values are part of the formulas:
 *   exp:     clamps its argument to [-104, 89]: NaN stays NaN, exp(+inf) and
 *            overflow give +inf, exp(-inf) and deep underflow give +0,
 *            subnormal results are rounded once (scalef / two exact factors).
 *   sigmoid: 1/(1+e^-|x|) or e^-|x|/(1+e^-|x|): never overflows;
 *            sigmoid(-inf) = 0, sigmoid(+inf) = 1.
 *   tanh:    odd polynomial below 0.625, 1 - 2/(e^2|x|+1) above; tanh(+-inf) =
 *            +-1, tanh(-0) = -0.
 *   gelu:    x * Phi(x) with Phi from erfc(z) = t*exp(-z^2 + P(t)),
 *            t = 1/(1+0.45z), z = |x|/sqrt2 and -z^2 carried as an exact
 *            hi+lo pair, so the result keeps its relative accuracy for
 *            negative x too; gelu(-inf) = -0, gelu(+inf) = +inf.
 * The accuracy of each is measured in docs/kernels-eltwise.md. */
#ifndef HWK_VMATH_H
#define HWK_VMATH_H

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

/* x * Phi(x), Phi(x) = erfc(-x/sqrt2)/2 */
static inline hv hv_gelu(hv x)
{
	const hv one = hv_set1(1.0f);
	/* Beyond +-14.5 the result is x, or rounds to zero: clamping keeps
	 * inf out of the arithmetic (gelu(-inf) = -0, gelu(+inf) = +inf). */
	hv xm = hv_max(hv_set1(-14.5f), x);
	hv xc = hv_min(hv_set1(14.5f), xm);
	hv z = hv_mul(hv_abs(xc), hv_set1(0x1.6a09e6p-1f)); /* 1/sqrt2 */
	hv t = hv_div(one, hv_fma(z, hv_set1(0.45f), one));
	/* P(t) = ln(erfc(z) e^(z^2) / t), |error| < 7.3e-8 for z in [0, 10.3] */
	/* Estrin's scheme: a shorter dependency chain than Horner's */
	hv t2 = hv_mul(t, t), t4 = hv_mul(t2, t2);
	hv p01 = hv_fma(hv_set1(0x1.0016f6p+0f), t, hv_set1(-0x1.5ef232p+0f));
	hv p23 = hv_fma(hv_set1(0x1.5545fap-3f), t, hv_set1(0x1.935f6cp-2f));
	hv p45 = hv_fma(hv_set1(0x1.396f86p-2f), t, hv_set1(-0x1.79ab5cp-3f));
	hv p67 = hv_fma(hv_set1(0x1.297ea6p-2f), t, hv_set1(-0x1.626facp-1f));
	hv p89 = hv_fma(hv_set1(-0x1.6c6c16p-2f), t, hv_set1(0x1.6b5e54p-2f));
	hv p03 = hv_fma(p23, t2, p01);
	hv p47 = hv_fma(p67, t2, p45);
	hv p8a = hv_fma(hv_set1(0x1.74fc94p-4f), t2, p89);
	hv p = hv_fma(hv_fma(p8a, t4, p47), t4, p03);
	/* -z^2 = -(x2 + x2lo)/2 exactly */
	hv x2 = hv_mul(xc, xc);
	hv x2lo = hv_fms(xc, xc, x2);
	hv hi = hv_mul(x2, hv_set1(-0.5f));
	hv lo = hv_fma(x2lo, hv_set1(-0.5f), p);
	hv half_erfc = hv_mul(hv_mul(t, hv_set1(0.5f)), hv_exp_hilo_(hi, lo, 1));
	hv phi = hv_sel(hv_lt(xc, hv_set1(0.0f)), half_erfc, hv_sub(one, half_erfc));
	return hv_mul(xm, phi);
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

#endif
