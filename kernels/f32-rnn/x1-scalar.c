/* Scalar CSR row: the reference. Sixteen partial sums, as the vector
 * variant keeps, so every variant gives the same bits. */
#include "kernels/f32-rnn/spmv.h"

float hwk_f32_spmv_ukernel_x1__scalar(size_t nnz, const uint32_t *col, const float *val,
				      const float *x)
{
	float part[16] = { 0 };
	for (size_t k = 0; k < nnz; k++)
		part[k % 16] += val[k] * x[col[k]];
	/* The vector variant's reduction order: halves, then quarters, ... */
	for (size_t w = 8; w >= 1; w /= 2)
		for (size_t i = 0; i < w; i++)
			part[i] += part[i + w];
	return part[0];
}
