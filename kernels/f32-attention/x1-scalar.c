/* f32 attention, reference: per query row, all its scores (one row, never
 * the S x S matrix), exp and sums in double, one rounding per output. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "kernels/f32-attention/attention.h"

int hwk_f32_attention_ukernel_x1__scalar(const struct hwk_f32_attention_block *b)
{
	size_t n = b->kv_len, d = b->d;
	double *s = malloc((n + d + 1) * sizeof(double));
	if (!s)
		return -ENOMEM;
	double *acc = s + n;
	for (size_t i = 0; i < b->rows; i++) {
		const float *q = b->q + i * b->ldq;
		size_t lim = hwk_attn_lim(b, i);
		double m = -INFINITY;
		for (size_t j = 0; j < lim; j++) {
			const float *k = b->k + j * b->ldk;
			double dot = 0;
			for (size_t c = 0; c < d; c++)
				dot += (double)q[c] * (double)k[c];
			double x = dot * (double)b->scale;
			if (b->mask)
				x += (double)b->mask[i * b->ldm + j];
			s[j] = x;
			if (x > m || isnan(x))
				m = x;
		}
		for (size_t c = 0; c < d; c++)
			acc[c] = 0;
		double sum = 0;
		if (m != -INFINITY) {
			for (size_t j = 0; j < lim; j++) {
				double p = exp(s[j] - m);
				sum += p;
				const float *v = b->v + j * b->ldv;
				for (size_t c = 0; c < d; c++)
					acc[c] += p * (double)v[c];
			}
		}
		float *o = b->o + i * b->ldo;
		for (size_t c = 0; c < d; c++)
			o[c] = sum > 0 || isnan(sum) ? (float)(acc[c] / sum) : 0.0f;
	}
	free(s);
	return 0;
}
