/* f32 layer and RMS normalization of a row, reference: sums in double
 * (two passes for the variance), one rounding per output. */
#include <math.h>

#include "kernels/f32-layernorm/layernorm.h"

void hwk_f32_layernorm_ukernel_x1__scalar(size_t n, const float *x, const float *gamma,
					  const float *beta, float eps, float *y, float *mean,
					  float *rstd);
void hwk_f32_layernorm_ukernel_x1__scalar(size_t n, const float *x, const float *gamma,
					  const float *beta, float eps, float *y, float *mean,
					  float *rstd)
{
	double s = 0, ss = 0;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	double m = s / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += ((double)x[i] - m) * ((double)x[i] - m);
	double r = 1.0 / sqrt(ss / (double)n + eps);
	if (mean)
		*mean = (float)m;
	if (rstd)
		*rstd = (float)r;
	for (size_t i = 0; i < n; i++)
		y[i] = (float)(((double)x[i] - m) * r * (gamma ? gamma[i] : 1.0) + (beta ? beta[i] : 0.0));
}

void hwk_f32_rmsnorm_ukernel_x1__scalar(size_t n, const float *x, const float *gamma, float eps,
					float *y);
void hwk_f32_rmsnorm_ukernel_x1__scalar(size_t n, const float *x, const float *gamma, float eps,
					float *y)
{
	double ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (double)x[i] * x[i];
	double r = 1.0 / sqrt(ss / (double)n + eps);
	for (size_t i = 0; i < n; i++)
		y[i] = (float)((double)x[i] * r * (gamma ? gamma[i] : 1.0));
}

const struct hwk_f32_layernorm_ukernels hwk_f32_layernorm_ukernels__scalar = {
	hwk_f32_layernorm_ukernel_x1__scalar, hwk_f32_rmsnorm_ukernel_x1__scalar
};
