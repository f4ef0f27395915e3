/* f32 folded batch normalization of a plane, reference: fmaf, one
 * rounding per output like the vector variants. */
#include <math.h>

#include "kernels/f32-batchnorm/batchnorm.h"

void hwk_f32_batchnorm_ukernel_x1__scalar(size_t n, const float *x, float scale, float bias,
					  float *y);
void hwk_f32_batchnorm_ukernel_x1__scalar(size_t n, const float *x, float scale, float bias,
					  float *y)
{
	for (size_t i = 0; i < n; i++)
		y[i] = fmaf(x[i], scale, bias);
}

const hwk_f32_batchnorm_fn hwk_f32_batchnorm_ukernel__scalar = hwk_f32_batchnorm_ukernel_x1__scalar;
