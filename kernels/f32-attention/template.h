/* Flash-style attention for one block of query rows, written once over the
 * vector primitives of kernels/vmath/<isa>.h (the including file defines
 * AT_TILE and AT_ISA). Keys go in blocks of AT_KB; for each block:
 *   scores  S = Q K^T * scale (+ mask), causal positions -inf: with >= 8
 *           rows, K's block is transposed once into scratch and 4 query rows
 *           at a time are broadcast against it (GEMM-like); with fewer rows
 *           (decoding), plain dot products along head_dim;
 *   online softmax per row: m' = max(m, max S), alpha = e^(m - m'),
 *           P = e^(S - m'), l = l alpha + sum P;
 *   O = O alpha + P V, 4 rows of O in registers per head_dim vector.
 * At the end O / l (0 when l is 0: a row that sees nothing). Only one
 * 4 x AT_KB score tile and one f32 accumulator per output exist. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "kernels/core/registry.h"
#include "kernels/f32-attention/attention.h"
#include "kernels/vmath/vmath.h"

#define AT_CAT_(a, b, c) a##b##c
#define AT_CAT(a, b, c) AT_CAT_(a, b, c)
#define AT_NAME AT_CAT(hwk_f32_attention_ukernel_, AT_TILE, AT_CAT(__, AT_ISA, ))

#define AT_KB 64
#define AT_MR 4

/* S[r][0..nk) for rows q0..q3 against the transposed block kt[d][AT_KB]
 * (zero beyond nk). */
static inline void at_scores_t(size_t d, size_t nk, const float *kt, const float *q0,
			       const float *q1, const float *q2, const float *q3, float *s)
{
	const size_t L = hv_lanes();
	size_t j = 0;
	for (; j + L < nk; j += 2 * L) {
		hv a0 = hv_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
		hv b0 = a0, b1 = a0, b2 = a0, b3 = a0;
		for (size_t c = 0; c < d; c++) {
			hv k0 = hv_load(kt + c * AT_KB + j), k1 = hv_load(kt + c * AT_KB + j + L);
			hv x0 = hv_set1(q0[c]), x1 = hv_set1(q1[c]);
			hv x2 = hv_set1(q2[c]), x3 = hv_set1(q3[c]);
			a0 = hv_fma(x0, k0, a0);
			b0 = hv_fma(x0, k1, b0);
			a1 = hv_fma(x1, k0, a1);
			b1 = hv_fma(x1, k1, b1);
			a2 = hv_fma(x2, k0, a2);
			b2 = hv_fma(x2, k1, b2);
			a3 = hv_fma(x3, k0, a3);
			b3 = hv_fma(x3, k1, b3);
		}
		hv_store(s + j, a0);
		hv_store(s + j + L, b0);
		hv_store(s + AT_KB + j, a1);
		hv_store(s + AT_KB + j + L, b1);
		hv_store(s + 2 * AT_KB + j, a2);
		hv_store(s + 2 * AT_KB + j + L, b2);
		hv_store(s + 3 * AT_KB + j, a3);
		hv_store(s + 3 * AT_KB + j + L, b3);
	}
	for (; j < nk; j += L) {
		hv a0 = hv_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
		for (size_t c = 0; c < d; c++) {
			hv k0 = hv_load(kt + c * AT_KB + j);
			a0 = hv_fma(hv_set1(q0[c]), k0, a0);
			a1 = hv_fma(hv_set1(q1[c]), k0, a1);
			a2 = hv_fma(hv_set1(q2[c]), k0, a2);
			a3 = hv_fma(hv_set1(q3[c]), k0, a3);
		}
		hv_store(s + j, a0);
		hv_store(s + AT_KB + j, a1);
		hv_store(s + 2 * AT_KB + j, a2);
		hv_store(s + 3 * AT_KB + j, a3);
	}
}

static inline float at_dot(size_t d, const float *a, const float *b)
{
	const size_t L = hv_lanes();
	hv s0 = hv_set1(0.0f), s1 = s0;
	size_t c = 0;
	for (; c + 2 * L <= d; c += 2 * L) {
		s0 = hv_fma(hv_load(a + c), hv_load(b + c), s0);
		s1 = hv_fma(hv_load(a + c + L), hv_load(b + c + L), s1);
	}
	for (; c + L <= d; c += L)
		s0 = hv_fma(hv_load(a + c), hv_load(b + c), s0);
	if (c < d)
		s1 = hv_fma(hv_loadn(a + c, d - c, 0.0f), hv_loadn(b + c, d - c, 0.0f), s1);
	return hv_reduce_add(hv_add(s0, s1));
}

/* Scale, mask and the causal limit on s[0..nk) (lim keys of it visible),
 * then the online-softmax step: P in place, returns alpha; m and l
 * updated. A row with nothing above -inf yet keeps P = 0, alpha = 1. */
static inline float at_softmax_step(float *s, size_t nk, size_t nv, size_t lim, float scale,
				    const float *mask, float *m, float *l)
{
	const size_t L = hv_lanes();
	const hv vs = hv_set1(scale);
	hv mx = hv_set1(-INFINITY);
	for (size_t j = 0; j < nv * L; j += L) {
		hv x = hv_mul(hv_load(s + j), vs);
		if (j + L > lim) {
			/* lanes at or past lim: -inf */
			float t[HV_LANES_MAX];
			hv_store(t, x);
			for (size_t u = 0; u < L; u++)
				if (j + u >= lim)
					t[u] = -INFINITY;
				else if (mask)
					t[u] += mask[j + u];
			x = hv_load(t);
		} else if (mask) {
			x = hv_add(x, hv_load(mask + j));
		}
		hv_store(s + j, x);
		mx = hv_max(mx, x);
	}
	float bm = hv_reduce_max(mx);
	float mn = bm > *m ? bm : *m;
	if (mn == -INFINITY) {
		memset(s, 0, nv * L * sizeof(float));
		return 1.0f;
	}
	const hv vm = hv_set1(mn);
	hv sum = hv_set1(0.0f);
	for (size_t j = 0; j < nv * L; j += L) {
		hv p = hv_exp(hv_sub(hv_load(s + j), vm));
		hv_store(s + j, p);
		sum = hv_add(sum, p);
	}
	(void)nk;
	float alpha = expf(*m - mn);
	*l = *l * alpha + hv_reduce_add(sum);
	*m = mn;
	return alpha;
}

int AT_NAME(const struct hwk_f32_attention_block *b);
int AT_NAME(const struct hwk_f32_attention_block *b)
{
	const size_t L = hv_lanes();
	const size_t rows = b->rows, d = b->d;
	if (rows == 0)
		return 0;
	const size_t dp = (d + L - 1) / L * L;
	const size_t rp = (rows + AT_MR - 1) / AT_MR * AT_MR;
	const bool direct = rows < 2 * AT_MR;
	/* scratch: kt[d][KB] (transposed mode), s[MR][KB], o[rp][dp], m[rp], l[rp] */
	size_t nkt = direct ? 0 : d * AT_KB;
	size_t total = nkt + AT_MR * AT_KB + rp * dp + 2 * rp;
	float *kt = hwk_alloc(total * sizeof(float));
	if (!kt)
		return -ENOMEM;
	float *s = kt + nkt, *oa = s + AT_MR * AT_KB, *mrow = oa + rp * dp, *lrow = mrow + rp;
	memset(oa, 0, rp * dp * sizeof(float));
	for (size_t i = 0; i < rp; i++) {
		mrow[i] = -INFINITY;
		lrow[i] = 0;
	}
	const size_t lim_max = hwk_attn_lim(b, rows - 1);
	for (size_t j0 = 0; j0 < lim_max; j0 += AT_KB) {
		const size_t nk = lim_max - j0 < AT_KB ? lim_max - j0 : AT_KB;
		const size_t nv = (nk + L - 1) / L;
		if (!direct) {
			for (size_t c = 0; c < d; c++) {
				float *row = kt + c * AT_KB;
				const float *kp = b->k + j0 * b->ldk + c;
				for (size_t j = 0; j < nk; j++)
					row[j] = kp[j * b->ldk];
				for (size_t j = nk; j < nv * L; j++)
					row[j] = 0;
			}
		}
		for (size_t i0 = 0; i0 < rows; i0 += AT_MR) {
			const size_t mr = rows - i0 < AT_MR ? rows - i0 : AT_MR;
			size_t lim_last = hwk_attn_lim(b, i0 + mr - 1);
			if (lim_last <= j0)
				continue; /* limits grow with the row: none of these sees the block */
			size_t nke = lim_last - j0 < nk ? lim_last - j0 : nk;
			const float *qr[AT_MR];
			for (size_t r = 0; r < AT_MR; r++)
				qr[r] = b->q + (i0 + (r < mr ? r : mr - 1)) * b->ldq;
			if (direct) {
				for (size_t r = 0; r < mr; r++) {
					for (size_t j = 0; j < nke; j++)
						s[r * AT_KB + j] = at_dot(d, qr[r], b->k + (j0 + j) * b->ldk);
					for (size_t j = nke; j < nv * L; j++)
						s[r * AT_KB + j] = 0;
				}
			} else {
				at_scores_t(d, nk, kt, qr[0], qr[1], qr[2], qr[3], s);
			}
			float alpha[AT_MR] = { 1, 1, 1, 1 };
			for (size_t r = 0; r < AT_MR; r++) {
				size_t i = i0 + r;
				if (r >= mr) {
					memset(s + r * AT_KB, 0, nv * L * sizeof(float));
					continue;
				}
				size_t li = hwk_attn_lim(b, i);
				li = li > j0 ? li - j0 : 0;
				if (li > nk)
					li = nk;
				alpha[r] = at_softmax_step(s + r * AT_KB, nk, nv, li, b->scale,
							   b->mask ? b->mask + i * b->ldm + j0 : NULL,
							   &mrow[i], &lrow[i]);
			}
			/* O = O alpha + P V over the keys any of the rows sees */
			const hv al0 = hv_set1(alpha[0]), al1 = hv_set1(alpha[1]);
			const hv al2 = hv_set1(alpha[2]), al3 = hv_set1(alpha[3]);
			const float *p0 = s, *p1 = s + AT_KB, *p2 = s + 2 * AT_KB, *p3 = s + 3 * AT_KB;
			for (size_t c = 0; c < dp; c += L) {
				float *o0 = oa + i0 * dp + c;
				hv a0 = hv_mul(hv_load(o0), al0);
				hv a1 = hv_mul(hv_load(o0 + dp), al1);
				hv a2 = hv_mul(hv_load(o0 + 2 * dp), al2);
				hv a3 = hv_mul(hv_load(o0 + 3 * dp), al3);
				const float *vp = b->v + j0 * b->ldv + c;
				if (c + L <= d) {
					for (size_t j = 0; j < nke; j++) {
						hv vv = hv_load(vp + j * b->ldv);
						a0 = hv_fma(hv_set1(p0[j]), vv, a0);
						a1 = hv_fma(hv_set1(p1[j]), vv, a1);
						a2 = hv_fma(hv_set1(p2[j]), vv, a2);
						a3 = hv_fma(hv_set1(p3[j]), vv, a3);
					}
				} else {
					for (size_t j = 0; j < nke; j++) {
						hv vv = hv_loadn(vp + j * b->ldv, d - c, 0.0f);
						a0 = hv_fma(hv_set1(p0[j]), vv, a0);
						a1 = hv_fma(hv_set1(p1[j]), vv, a1);
						a2 = hv_fma(hv_set1(p2[j]), vv, a2);
						a3 = hv_fma(hv_set1(p3[j]), vv, a3);
					}
				}
				hv_store(o0, a0);
				hv_store(o0 + dp, a1);
				hv_store(o0 + 2 * dp, a2);
				hv_store(o0 + 3 * dp, a3);
			}
		}
	}
	for (size_t i = 0; i < rows; i++) {
		float l = lrow[i];
		const hv inv = hv_set1(l > 0 || isnan(l) ? 1.0f / l : 0.0f);
		const float *src = oa + i * dp;
		float *dst = b->o + i * b->ldo;
		size_t c = 0;
		for (; c + L <= d; c += L)
			hv_store(dst + c, hv_mul(hv_load(src + c), inv));
		if (c < d)
			hv_storen(dst + c, hv_mul(hv_load(src + c), inv), d - c);
	}
	hwk_free(kt);
	return 0;
}
