/* int4 weight-only GEMM: argument checks, per-block sums of x, the split
 * into tasks, bias; the microkernel does the blocks. Also the quantizer. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/f32-qb4-gemm/qb4.h"

static const struct qb4_ukr uk_scalar = { hwk_f32_qb4_gemm_ukernel_4x4__scalar, 4, 4, 1 };
#if defined(__x86_64__)
static const struct qb4_ukr uk_avx2 = { hwk_f32_qb4_gemm_ukernel_4x4__avx2, 4, 4, 1 };
static const struct qb4_ukr uk_avx512f = { hwk_f32_qb4_gemm_ukernel_4x4__avx512f, 4, 4,
					       0 };
#endif
#if defined(__aarch64__)
static const struct qb4_ukr uk_neon = { hwk_f32_qb4_gemm_ukernel_4x4__neon, 4, 4, 1 };
#endif

static const struct hwk_variant variants[] = {
#if defined(__x86_64__)
	{ HWK_ISA_AVX512F, "4x4-avx512f", &uk_avx512f },
	{ HWK_ISA_AVX2, "4x4-avx2", &uk_avx2 },
#endif
#if defined(__aarch64__)
	{ HWK_ISA_NEON, "4x4-neon", &uk_neon },
#endif
	{ HWK_ISA_SCALAR, "4x4-scalar", &uk_scalar },
};

struct hwk_op hwk_op_f32_qb4_gemm = {
	"f32-qb4-gemm", variants, sizeof(variants) / sizeof(variants[0]), NULL,
};

struct job {
	const struct qb4_ukr *uk;
	size_t m, kb, ldx, ldy, n_per_task, n_tasks_n;
	const float *x, *xsum, *bias;
	const struct hwk_qb4_weights *w;
	float *y;
};

static void task(void *ctx, size_t t)
{
	const struct job *j = ctx;
	size_t i0 = (t / j->n_tasks_n) * j->uk->mr;
	size_t n0 = (t % j->n_tasks_n) * j->n_per_task;
	size_t n1 = n0 + j->n_per_task < j->w->n ? n0 + j->n_per_task : j->w->n;
	size_t mr = j->m - i0 < j->uk->mr ? j->m - i0 : j->uk->mr;
	size_t ldq = j->kb * 16, lds = j->kb;
	for (size_t n = n0; n < n1; n += j->uk->nr) {
		size_t nr = n1 - n < j->uk->nr ? n1 - n : j->uk->nr;
		j->uk->ukernel(mr, nr, j->kb, j->x + i0 * j->ldx, j->ldx,
			       j->xsum ? j->xsum + i0 * j->kb : NULL,
			       j->w->q + n * ldq, ldq, j->w->scale + n * lds,
			       j->w->min ? j->w->min + n * lds : NULL, lds, j->y + i0 * j->ldy + n,
			       j->ldy);
		if (j->bias)
			for (size_t i = 0; i < mr; i++)
				for (size_t c = 0; c < nr; c++)
					j->y[(i0 + i) * j->ldy + n + c] += j->bias[n + c];
	}
}

int hwk_f32_qb4_gemm(size_t m, const float *x, size_t ldx, const struct hwk_qb4_weights *w,
		     const float *bias, float *y, size_t ldy, const struct hwk_parallel *par)
{
	if (!w || w->k == 0 || w->k % 32 || w->n == 0 || !w->q || !w->scale)
		return -EINVAL;
	if (m == 0)
		return 0;
	if (!x || !y || ldx < w->k || ldy < w->n || m > SIZE_MAX / w->k)
		return -EINVAL;
	size_t kb = w->k / 32;
	const struct qb4_ukr *uk = hwk_op_variant(&hwk_op_f32_qb4_gemm)->impl;
	float *xsum = NULL;
	if (uk->xsum && !(xsum = hwk_alloc(m * kb * sizeof(float))))
		return -ENOMEM;
	for (size_t i = 0; xsum && i < m; i++)
		for (size_t b = 0; b < kb; b++) {
			float s = 0;
			for (size_t t = 0; t < 32; t++)
				s += x[i * ldx + b * 32 + t];
			xsum[i * kb + b] = s;
		}

	struct job j = { .uk = uk, .m = m, .kb = kb, .ldx = ldx, .ldy = ldy,
			 .x = x, .xsum = xsum, .bias = bias, .w = w, .y = y };
	/* Split n into chunks (multiples of nr) so every thread has several. */
	size_t m_tiles = (m + j.uk->mr - 1) / j.uk->mr;
	size_t threads = hwk_parallel_threads(par);
	size_t want_n = threads > 1 ? (threads * 4 + m_tiles - 1) / m_tiles : 1;
	size_t per = (w->n + want_n - 1) / want_n;
	per = (per + j.uk->nr - 1) / j.uk->nr * j.uk->nr;
	j.n_per_task = per;
	j.n_tasks_n = (w->n + per - 1) / per;
	hwk_parallel_for(par, m_tiles * j.n_tasks_n, task, &j);
	hwk_free(xsum);
	return 0;
}

int hwk_qb4_quantize(size_t n, size_t k, const float *w, uint8_t *q, float *scale, float *min)
{
	if (!w || !q || !scale || k == 0 || k % 32 || n == 0)
		return -EINVAL;
	size_t kb = k / 32;
	for (size_t r = 0; r < n; r++)
		for (size_t b = 0; b < kb; b++) {
			const float *src = w + r * k + b * 32;
			float lo = src[0], hi = src[0], amax = 0;
			for (size_t t = 0; t < 32; t++) {
				if (!isfinite(src[t]))
					return -EINVAL;
				lo = fminf(lo, src[t]);
				hi = fmaxf(hi, src[t]);
				amax = fmaxf(amax, fabsf(src[t]));
			}
			float s, zero;
			if (min) {
				s = (hi - lo) / 15.0f;
				zero = lo;
				min[r * kb + b] = lo;
			} else {
				s = amax / 7.0f;
				zero = 0;
			}
			scale[r * kb + b] = s;
			uint8_t qv[32];
			for (size_t t = 0; t < 32; t++) {
				/* nearbyintf rounds half to even in the default mode. */
				float v = s > 0 ? nearbyintf((src[t] - zero) / s) : 0.0f;
				if (!min)
					v += 8.0f;
				qv[t] = (uint8_t)(v < 0 ? 0 : v > 15 ? 15 : v);
			}
			uint8_t *dst = q + r * (k / 2) + b * 16;
			for (size_t t = 0; t < 16; t++)
				dst[t] = (uint8_t)(qv[t] | qv[t + 16] << 4);
		}
	return 0;
}
