/* Layer and RMS normalization of one row, for one ISA over the primitives
 * of kernels/vmath/<isa>.h (the including file defines LN_TILE, LN_ISA).
 * Layernorm makes three passes (sum; sum of squared deviations from the
 * mean, which stays accurate when the mean is large; output), rmsnorm two.
 * Sums use two vector accumulators; tails load zeros and mask them out. */
#include <math.h>

#include "kernels/f32-layernorm/layernorm.h"
#include "kernels/vmath/vmath.h"

#define LN_CAT_(a, b, c, d) a##b##c##d
#define LN_CAT(a, b, c, d) LN_CAT_(a, b, c, d)
#define LN_NAME(op) LN_CAT(hwk_f32_, op, _ukernel_, LN_CAT(LN_TILE, __, LN_ISA, ))
#define LN_TABLE LN_CAT(hwk_f32_layernorm_ukernels__, LN_ISA, , )

/* sum((x - c)^2) when sq, else sum(x) */
static inline float ln_sum(size_t n, const float *x, float c, int sq)
{
	const size_t L = hv_lanes();
	const hv vc = hv_set1(c);
	hv s0 = hv_set1(0.0f), s1 = s0;
	size_t i = 0;
	for (; i + 2 * L <= n; i += 2 * L) {
		hv a = hv_load(x + i), b = hv_load(x + i + L);
		if (sq) {
			a = hv_sub(a, vc);
			b = hv_sub(b, vc);
			s0 = hv_fma(a, a, s0);
			s1 = hv_fma(b, b, s1);
		} else {
			s0 = hv_add(s0, a);
			s1 = hv_add(s1, b);
		}
	}
	for (; i + L <= n; i += L) {
		hv a = hv_load(x + i);
		if (sq) {
			a = hv_sub(a, vc);
			s0 = hv_fma(a, a, s0);
		} else {
			s0 = hv_add(s0, a);
		}
	}
	if (i < n) {
		/* fill with c: contributes (c - c)^2 = 0; plain sums fill 0 */
		hv a = hv_loadn(x + i, n - i, sq ? c : 0.0f);
		if (sq) {
			a = hv_sub(a, vc);
			s1 = hv_fma(a, a, s1);
		} else {
			s1 = hv_add(s1, a);
		}
	}
	return hv_reduce_add(hv_add(s0, s1));
}

/* y = (x - c) * r * gamma + beta; gamma, beta used when hg, hb. */
static inline void ln_out(size_t n, const float *x, float c, float r, const float *gamma,
			  const float *beta, float *y, int hg, int hb)
{
	const size_t L = hv_lanes();
	const hv vc = hv_set1(c), vr = hv_set1(r);
	size_t i = 0;
#define LN_ONE(v, g, b) (hg ? hv_fma(hv_mul(hv_sub(v, vc), vr), g, hb ? b : hv_set1(0.0f)) \
			    : hv_add(hv_mul(hv_sub(v, vc), vr), hb ? b : hv_set1(0.0f)))
	for (; i + L <= n; i += L) {
		hv g = hg ? hv_load(gamma + i) : vr, b = hb ? hv_load(beta + i) : vr;
		hv_store(y + i, LN_ONE(hv_load(x + i), g, b));
	}
	if (i < n) {
		size_t k = n - i;
		hv g = hg ? hv_loadn(gamma + i, k, 0.0f) : vr, b = hb ? hv_loadn(beta + i, k, 0.0f) : vr;
		hv_storen(y + i, LN_ONE(hv_loadn(x + i, k, 0.0f), g, b), k);
	}
#undef LN_ONE
}

void LN_NAME(layernorm)(size_t n, const float *x, const float *gamma, const float *beta,
			float eps, float *y, float *mean, float *rstd);
void LN_NAME(layernorm)(size_t n, const float *x, const float *gamma, const float *beta,
			float eps, float *y, float *mean, float *rstd)
{
	float m = ln_sum(n, x, 0.0f, 0) / (float)n;
	float var = ln_sum(n, x, m, 1) / (float)n;
	float r = 1.0f / sqrtf(var + eps);
	if (mean)
		*mean = m;
	if (rstd)
		*rstd = r;
	if (gamma && beta)
		ln_out(n, x, m, r, gamma, beta, y, 1, 1);
	else if (gamma)
		ln_out(n, x, m, r, gamma, beta, y, 1, 0);
	else if (beta)
		ln_out(n, x, m, r, gamma, beta, y, 0, 1);
	else
		ln_out(n, x, m, r, gamma, beta, y, 0, 0);
}

void LN_NAME(rmsnorm)(size_t n, const float *x, const float *gamma, float eps, float *y);
void LN_NAME(rmsnorm)(size_t n, const float *x, const float *gamma, float eps, float *y)
{
	float r = 1.0f / sqrtf(ln_sum(n, x, 0.0f, 1) / (float)n + eps);
	if (gamma)
		ln_out(n, x, 0.0f, r, gamma, NULL, y, 1, 0);
	else
		ln_out(n, x, 0.0f, r, NULL, NULL, y, 0, 0);
}

const struct hwk_f32_layernorm_ukernels LN_TABLE = { LN_NAME(layernorm), LN_NAME(rmsnorm) };
